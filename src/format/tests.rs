use pest::Parser;

use super::{Node, format, gaps};
use crate::syntax::grammar::{Rule, ShipParser};

/// The formatted text, after checking that formatting it again changes nothing and that it holds the
/// same tokens and comments in the same order.
fn fmt(text: &str) -> String {
    let formatted = format(text).unwrap_or_else(|| panic!("refused:\n{text}"));
    assert_eq!(
        format(&formatted).as_deref(),
        Some(formatted.as_str()),
        "not idempotent"
    );
    assert_eq!(
        tokens_and_comments(&formatted),
        tokens_and_comments(text),
        "{formatted}"
    );
    formatted
}

/// Token texts without the commas right before a closing bracket (the formatter adds or drops those),
/// then the comments.
fn tokens_and_comments(text: &str) -> (Vec<String>, Vec<String>) {
    let text = text.trim_start_matches('\u{feff}');
    let file = ShipParser::parse(Rule::file, text).unwrap().next().unwrap();
    let mut tokens = Vec::new();
    let nodes: Vec<Node> = file
        .into_inner()
        .filter(|pair| pair.as_rule() != Rule::EOI)
        .map(|pair| Node::build(pair, &mut tokens))
        .collect();
    assert!(!nodes.is_empty() || tokens.is_empty());
    let texts: Vec<&str> = tokens.iter().map(|&(start, end)| &text[start..end]).collect();
    let kept = texts
        .iter()
        .enumerate()
        .filter(|(idx, token)| **token != "," || !matches!(texts.get(idx + 1).copied(), Some(")" | "]" | "}")))
        .map(|(_, token)| token.to_string())
        .collect();
    let comments = gaps(text, &tokens)
        .unwrap()
        .iter()
        .flat_map(|gap| gap.comments.iter().map(|comment| comment.text.to_string()))
        .collect();
    (kept, comments)
}

#[test]
fn blocks_are_indented_by_two_spaces_per_level_and_never_share_a_line() {
    assert_eq!(
        fmt("service web { port = 80 release blue_green { promote = manual before_promotion {} } }"),
        "service web {\n  port = 80\n  release blue_green {\n    promote = manual\n    before_promotion {}\n  }\n}\n"
    );
    assert_eq!(fmt("platform\t{\n}"), "platform {}\n");
}

#[test]
fn tokens_are_spaced_one_way() {
    assert_eq!(
        fmt("metric m( svc:service,q :float=0.5 , ):count=prometheus\"up\"\nplatform{a=f( 1,x:[ 1,2, ] ,)b=1 ..2}"),
        "metric m(svc: service, q: float = 0.5) : count = prometheus \"up\"\n\nplatform {\n  a = f(1, x: [1, 2])\n  b = 1..2\n}\n"
    );
}

#[test]
fn equals_signs_are_aligned_in_a_run_of_fields() {
    let text = "platform {\n  a = 1\n  // about bbb\n  bbb = 2\n\n  cc = 3\n  d = {\n    x: 1 }\n  eeee = 4\n}\n";
    assert_eq!(
        fmt(text),
        "platform {\n  a   = 1\n  // about bbb\n  bbb = 2\n\n  cc = 3\n  d = {\n    x: 1,\n  }\n  eeee = 4\n}\n"
    );
}

#[test]
fn objects_stay_on_one_line_only_when_written_so_and_short_enough() {
    assert_eq!(
        fmt("platform { r = {cpu:1,memory:2,} }"),
        "platform {\n  r = { cpu: 1, memory: 2 }\n}\n"
    );
    assert_eq!(
        fmt("platform { env = { A: \"1\",\n BBB: \"2\" } }"),
        "platform {\n  env = {\n    A:   \"1\",\n    BBB: \"2\",\n  }\n}\n"
    );
    let long = format!("platform {{ env = {{ A: \"{}\", B: {{ c: 1 }} }} }}", "x".repeat(80));
    assert_eq!(
        fmt(&long),
        format!(
            "platform {{\n  env = {{\n    A: \"{}\",\n    B: {{ c: 1 }},\n  }}\n}}\n",
            "x".repeat(80)
        )
    );
    assert_eq!(fmt("platform { e = {\n} }"), "platform {\n  e = {}\n}\n");
    assert_eq!(
        fmt("platform { e = { // none\n} }"),
        "platform {\n  e = { // none\n  }\n}\n"
    );
}

#[test]
fn blank_lines_are_at_most_one_and_never_next_to_braces() {
    let text = "\n\nimport \"./a\"\nimport \"./b\"\n\n\nimport \"./c\"\nplatform {\n\n  a = 1\n\n\n\n  b = 2\n\n}\n\n\n\nservice s {}";
    assert_eq!(
        fmt(text),
        "import \"./a\"\nimport \"./b\"\n\nimport \"./c\"\n\nplatform {\n  a = 1\n\n  b = 2\n}\n\nservice s {}\n"
    );
}

#[test]
fn trailing_whitespace_goes_and_a_final_newline_comes() {
    assert_eq!(
        fmt("platform {   \n  a = 1   // note   \n}   "),
        "platform {\n  a = 1 // note\n}\n"
    );
    assert_eq!(fmt("platform {\r\n  a = 1\r\n}\r\n"), "platform {\n  a = 1\n}\n");
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("\u{feff}platform {}\n"), "platform {}\n");
}

#[test]
fn trailing_comments_stay_on_their_line_and_align_in_a_run() {
    let text = "platform { // settings\n  a = 1 // one\n  bbbbbb = \"two\"   // two\n  c = 3\n  d = 4 // four\n}\n";
    assert_eq!(
        fmt(text),
        "platform {       // settings\n  a      = 1     // one\n  bbbbbb = \"two\" // two\n  c      = 3\n  d      = 4 // four\n}\n"
    );
}

#[test]
fn whole_line_comments_stay_above_their_code() {
    let text = "// file\n\n// platform\nplatform {\n// first\n  a = 1\n\n      // last\n}\n// end\n";
    assert_eq!(
        fmt(text),
        "// file\n\n// platform\nplatform {\n  // first\n  a = 1\n\n  // last\n}\n// end\n"
    );
}

#[test]
fn a_comment_inside_what_becomes_one_line_moves_above_it() {
    let text = "platform {\n  a = // why\n    1..\n    2 // range\n}\n";
    assert_eq!(fmt(text), "platform {\n  // why\n  a = 1..2 // range\n}\n");
}

#[test]
fn strings_are_kept_byte_for_byte() {
    let text = "metric m() : count = prometheus \"\"\"\n\t  sum(x)   \n   / 2\n    \"\"\"\nplatform { a = \"\\t \\\" ${x}  \" b = \"\"\"one\"\"\" }\n";
    let formatted = fmt(text);
    assert!(
        formatted.contains("\"\"\"\n\t  sum(x)   \n   / 2\n    \"\"\""),
        "{formatted}"
    );
    assert!(formatted.contains("a = \"\\t \\\" ${x}  \""), "{formatted}");
    assert!(formatted.contains("b = \"\"\"one\"\"\""), "{formatted}");
}

#[test]
fn a_rule_puts_its_measurement_on_the_next_line() {
    let text =
        "service s { release b { after_promotion { rollback when e(s) > 1% and e(s) < 2% every 1m , samples 5 } } }";
    assert_eq!(
        fmt(text),
        "service s {\n  release b {\n    after_promotion {\n      rollback when e(s) > 1% and e(s) < 2%\n      every 1m, samples 5\n    }\n  }\n}\n"
    );
}

#[test]
fn canary_steps_take_a_line_each_and_relative_thresholds_stay_whole() {
    let text = "service s { release canary { steps { weight 20%  pause 5m analyze slo pause weight 100% } \
                analysis slo { rollback when e(s, version: new) >  1.5*e(s, version: stable) inconclusive 1 \
                observe l(s) > 1s } background { } } }";
    assert_eq!(
        fmt(text),
        "service s {\n  release canary {\n    steps {\n      weight 20%\n      pause 5m\n      analyze slo\n      pause\n      \
         weight 100%\n    }\n    analysis slo {\n      rollback when e(s, version: new) > 1.5 * e(s, version: stable)\n      \
         inconclusive 1\n      observe l(s) > 1s\n    }\n    background {}\n  }\n}\n"
    );
}

#[test]
fn a_long_condition_breaks_before_each_or() {
    let long = "x".repeat(50);
    let text = format!(
        "service s {{ release b {{ after_promotion {{ rollback when (a(s) > 1 or b(s) > 2) or {long}(s) > 1 or c(s) > 2 }} }} }}"
    );
    assert_eq!(
        fmt(&text),
        format!(
            "service s {{\n  release b {{\n    after_promotion {{\n      rollback when (a(s) > 1 or b(s) > 2)\n          or {long}(s) > 1\n          or c(s) > 2\n    }}\n  }}\n}}\n"
        )
    );
}

#[test]
fn declarations_are_separated_by_one_blank_line() {
    assert_eq!(
        fmt("platform {} service a {} // a\n// b\nservice b {}\nimport \"./x\""),
        "platform {}\n\nservice a {} // a\n\n// b\nservice b {}\n\nimport \"./x\"\n"
    );
}

#[test]
fn files_with_syntax_errors_are_refused() {
    for text in [
        "platform { a = }",
        "platform { a = \"open\n}",
        "metric m() : count = prometheus \"\"\"\nsum(x)",
        "platform { a = \"\\q\" }",
        "platform { a = \"${not a name}\" }",
        "platform { a = 1234567890123456789012345678901 }",
        "hello\nplatform {}",
    ] {
        assert_eq!(format(text), None, "{text}");
    }
    let deep = format!("platform {{ a = {}1{} }}", "(".repeat(100), ")".repeat(100));
    assert_eq!(format(&deep), None);
}

/// Property: comments, line breaks and blank lines dropped between the tokens of the examples never
/// make the formatter refuse them, lose a token or a comment, or give a text that formats differently.
#[test]
fn trivia_anywhere_is_placed_for_good() {
    const TRIVIA: [&str; 6] = ["\n", "\n\n\n", " // c\n", "\n// own\n", "\t", "\r\n"];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let files = [
        "examples/shop/metrics.ship",
        "examples/shop/services/checkout.ship",
        "tests/build/auto_promotion_fixed_replicas/main.ship",
    ]
    .map(|path| std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap());
    for text in files.iter().map(String::as_str).chain([PIPELINE]) {
        let file = ShipParser::parse(Rule::file, text).unwrap().next().unwrap();
        let mut tokens = Vec::new();
        for pair in file.into_inner().filter(|pair| pair.as_rule() != Rule::EOI) {
            Node::build(pair, &mut tokens);
        }
        for _ in 0..40 {
            let mut mutated = text.to_string();
            let mut ends: Vec<usize> = (0..8).map(|_| tokens[next(tokens.len())].1).collect();
            ends.sort_unstable();
            for end in ends.into_iter().rev() {
                mutated.insert_str(end, TRIVIA[next(TRIVIA.len())]);
            }
            fmt(&mutated);
        }
    }
}

/// Every construct of CI pipelines, written untidily: step definitions, environments, a pipeline with
/// fields, triggers and each kind of task, and comments between and inside them.
const PIPELINE: &str = r#"// CI steps
step cargo_test( toolchain:string="1.95" ,features : string = "" , ) {
  image="rust:${toolchain}"   // pinned
  run = """
    cargo test --features "${features}"
      cargo clippy
    """
  timeout=10m
}
step empty() {
}
// where it goes
environment staging { namespace = "shop-staging" replicas=1 }
environment production {}
service web {
  port = 8080
  pipeline {
    source="git@example.com:shop/web.git"
    timeout = 1h
    // triggers
    on push( branch:"main" )
    on tag("v*") on pull_request


    step test=cargo_test( ) // fast
    step lint = cargo_test(toolchain: "nightly",) after test
    // a long one
    step build = kaniko(context: ".", dockerfile: "Dockerfile", build_args: { VERSION: "${event.tag}", CHANNEL: "stable" }) after test,lint when event.branch=="main" or (event.tag!= ""and ok == true)
    deploy build.digest to staging after build
    check smoke on staging = http_get("/healthz", expect: 200) after deploy_staging
    approve go_live after smoke when ( event.branch == "main" )
    deploy build.digest   to production after go_live // last
  }
  release blue_green { promote = auto(after: 10m) }
}
"#;

#[test]
fn steps_environments_and_pipelines_are_laid_out_like_blocks() {
    assert_eq!(
        fmt(PIPELINE),
        r#"// CI steps
step cargo_test(toolchain: string = "1.95", features: string = "") {
  image = "rust:${toolchain}" // pinned
  run = """
    cargo test --features "${features}"
      cargo clippy
    """
  timeout = 10m
}

step empty() {}

// where it goes
environment staging {
  namespace = "shop-staging"
  replicas  = 1
}

environment production {}

service web {
  port = 8080
  pipeline {
    source  = "git@example.com:shop/web.git"
    timeout = 1h
    // triggers
    on push(branch: "main")
    on tag("v*")
    on pull_request

    step test = cargo_test() // fast
    step lint = cargo_test(toolchain: "nightly") after test
    // a long one
    step build = kaniko(context: ".", dockerfile: "Dockerfile", build_args: {
      VERSION: "${event.tag}",
      CHANNEL: "stable",
    }) after test, lint when event.branch == "main" or (event.tag != "" and ok == true)
    deploy build.digest to staging after build
    check smoke on staging = http_get("/healthz", expect: 200) after deploy_staging
    approve go_live after smoke when (event.branch == "main")
    deploy build.digest to production after go_live // last
  }
  release blue_green {
    promote = auto(after: 10m)
  }
}
"#
    );
}

#[test]
fn a_task_stays_on_one_line_unless_an_object_in_it_must_break() {
    let pipeline = |task: &str| format!("service s {{\n  pipeline {{\n    {task}\n  }}\n}}\n");
    // Exactly 100 columns: stays as written.
    let fits = format!(
        "step b = k(args: {{ a: \"{}\" }}) after t when e.x == 1",
        "x".repeat(47)
    );
    assert_eq!(fmt(&pipeline(&fits)), pipeline(&fits));
    let wide = fits.replace("after t", "after tt");
    assert_eq!(
        fmt(&pipeline(&wide)),
        pipeline(&format!(
            "step b = k(args: {{\n      a: \"{}\",\n    }}) after tt when e.x == 1",
            "x".repeat(47)
        ))
    );
    let empty = "service s { pipeline { } }";
    assert_eq!(fmt(empty), "service s {\n  pipeline {}\n}\n");
}
