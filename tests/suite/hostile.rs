//! Hostile inputs: each test is a row of docs/reliability.md and asserts the behaviour written there.
//! The promise behind all of them: no panic, no hang, every problem a diagnostic with a place, exit
//! code 1 for mistakes in the sources and 2 for usage or IO, and nothing written after an error.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{self, VALID_SERVICE, shipc, stderr, tree_bytes, write};

/// A service file for `name`, importing `./platform`.
fn service(name: &str) -> String {
    format!(
        "import \"./platform\"\nservice {name} {{\n  image = \"registry.example.com/{name}:1.0.0\"\n  port = 8080\n  replicas = 2\n  resources = {{ cpu: 100m, memory: 128Mi }}\n  readiness = http_get(\"/ready\")\n  release blue_green {{ promote = manual }}\n}}\n"
    )
}

const PLATFORM: &str = "platform { namespace = \"shop\" prometheus = \"http://prometheus:9090\" }\n";

#[test]
fn nul_bytes_are_syntax_errors_at_their_place() {
    let dir = support::scratch_dir("hostile-nul");
    write(
        &dir,
        "web.ship",
        &VALID_SERVICE.replace("port      = 8080", "port      = \u{0}8080"),
    );
    let output = shipc(&dir, &["check", "web.ship"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("error[E0101]"), "{}", stderr(&output));
    assert!(stderr(&output).contains("found `\\u{0}`"), "{}", stderr(&output));
    assert!(stderr(&output).contains("[web.ship:5:15]"), "{}", stderr(&output));
}

#[test]
fn a_100_mb_file_is_refused_without_being_read() {
    let dir = support::scratch_dir("hostile-huge");
    write(&dir, "platform.ship", PLATFORM);
    let huge = std::fs::File::create(dir.join("huge.ship")).unwrap();
    huge.set_len(100 * 1024 * 1024).unwrap();
    let started = Instant::now();
    let output = shipc(&dir, &["build", ".", "--out", "out"]);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("error[E0108]"), "{}", stderr(&output));
    assert!(stderr(&output).contains("it is 100 MiB; shipc reads files of up to 16 MiB"));
    assert!(!dir.join("out").exists());
}

#[test]
fn an_imported_file_that_is_too_large_is_reported_at_the_import() {
    let mut loader = shipc::MemoryLoader::new();
    loader.insert("web.ship", "import \"./big\"\n");
    loader.insert("big.ship", " ".repeat(shipc::source::MAX_SOURCE_LEN + 1));
    let compilation = shipc::check(&["web.ship".to_string()], &loader);
    let codes: Vec<_> = compilation.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [shipc::Code::E0108]);
    let (path, place) = compilation.sources.locate(compilation.diagnostics[0].primary.span);
    assert_eq!((path, place.line, place.column), ("web.ship", 1, 8));
}

#[test]
fn a_1_mb_line_is_compiled() {
    let dir = support::scratch_dir("hostile-long-line");
    let long_value = "x".repeat(1024 * 1024);
    let text = VALID_SERVICE.replace(
        "readiness = http_get(\"/ready\")",
        &format!("readiness = http_get(\"/ready\")\n  env = {{ LONG: \"{long_value}\" }}"),
    );
    write(&dir, "web.ship", &text);
    let output = shipc(&dir, &["build", "web.ship", "--out", "out"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let rollout = std::fs::read_to_string(dir.join("out/web/rollout.yaml")).unwrap();
    assert!(rollout.contains(&long_value));
}

#[test]
fn brackets_nested_100_000_deep_hit_the_depth_limit() {
    let dir = support::scratch_dir("hostile-deep");
    let depth = 100_000;
    let text = format!(
        "{PLATFORM}service web {{\n  port = {}8080{}\n}}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    write(&dir, "web.ship", &text);
    let output = shipc(&dir, &["check", "web.ship"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("error[E0104]") && stderr(&output).contains("nested more than 64 deep"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_condition_with_100_000_terms_hits_the_term_limit() {
    let mut loader = shipc::MemoryLoader::new();
    let terms = vec!["error_rate(web) > 1%"; 100_000].join(" or ");
    let text = format!(
        "{PLATFORM}metric error_rate(svc: service) : ratio = prometheus \"sum(x)\"\n{}",
        VALID_SERVICE.lines().skip(1).collect::<Vec<_>>().join("\n").replace(
            "release blue_green { promote = manual }",
            &format!("release blue_green {{ promote = manual after_promotion {{ rollback when {terms} }} }}"),
        )
    );
    loader.insert("web.ship", text);
    let compilation = shipc::check(&["web.ship".to_string()], &loader);
    let codes: Vec<_> = compilation.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        [shipc::Code::E0104],
        "{}",
        support::render_diagnostics(&compilation)
    );
}

#[test]
fn ten_thousand_declarations_check_clean() {
    let mut loader = shipc::MemoryLoader::new();
    let mut text = String::from(PLATFORM);
    for idx in 0..10_000 {
        text.push_str(&service(&format!("svc-{idx}")).replace("import \"./platform\"\n", ""));
    }
    loader.insert("all.ship", text);
    let compilation = shipc::check(&["all.ship".to_string()], &loader);
    assert!(
        compilation.diagnostics.is_empty(),
        "{}",
        support::render_diagnostics(&compilation)
    );
    assert_eq!(compilation.n_services, 10_000);
}

#[cfg(unix)]
#[test]
fn symlink_loops_dangling_links_and_special_files_in_a_directory_are_reported_not_followed() {
    use std::os::unix::fs::symlink;
    let dir = support::scratch_dir("hostile-links");
    write(&dir, "project/platform.ship", PLATFORM);
    write(&dir, "project/web.ship", &service("web"));
    let project = dir.join("project");
    symlink("loop.ship", project.join("loop.ship")).unwrap();
    symlink("nowhere.ship", project.join("dangling.ship")).unwrap();
    symlink(".", project.join("subdir-loop")).unwrap();
    std::fs::create_dir(project.join("folder.ship")).unwrap();
    let fifo = Command::new("mkfifo").arg(project.join("pipe.ship")).status().unwrap();
    assert!(fifo.success());

    let mut child = Command::new(env!("CARGO_BIN_EXE_shipc"))
        .args(["build", ".", "--out", "../out"])
        .current_dir(&project)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("shipc hung on a special file");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    for expected in [
        "cannot read `dangling.ship`: no such file",
        "cannot read `loop.ship`:",
        "cannot read `pipe.ship`: it is not a regular file",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert!(
        !text.contains("folder.ship"),
        "a directory is not a source file:\n{text}"
    );
    assert!(!dir.join("out").exists());
}

#[test]
fn strings_that_mean_something_to_yaml_stay_strings() {
    let case = support::repo_root().join("tests/build/yaml_quoting/main.ship");
    let loader = support::loader_for(std::slice::from_ref(&case));
    let compilation = shipc::build(&loader.paths(), &loader);
    assert!(
        !compilation.has_errors(),
        "{}",
        support::render_diagnostics(&compilation)
    );
    let rollout = compilation
        .outputs
        .iter()
        .find(|file| file.path == "yes/rollout.yaml")
        .unwrap();
    let parsed: serde_yaml::Value = serde_yaml::from_str(&rollout.contents).unwrap();
    let env = &parsed["spec"]["template"]["spec"]["containers"][0]["env"];
    let values: Vec<(&str, &serde_yaml::Value)> = env
        .as_sequence()
        .unwrap()
        .iter()
        .map(|entry| (entry["name"].as_str().unwrap(), &entry["value"]))
        .collect();
    for (name, value) in values {
        assert!(value.is_string(), "{name} became {value:?}");
    }
    assert_eq!(parsed["metadata"]["namespace"].as_str(), Some("on"));
}

#[test]
fn non_ascii_names_are_refused_and_non_ascii_strings_pass_through() {
    let mut loader = shipc::MemoryLoader::new();
    loader.insert("web.ship", VALID_SERVICE.replace("service web", "service wéb"));
    let compilation = shipc::check(&["web.ship".to_string()], &loader);
    let rendered = support::render_diagnostics(&compilation);
    assert!(
        rendered.contains("`wéb` is not a name: names are ASCII letters"),
        "{rendered}"
    );

    let mut loader = shipc::MemoryLoader::new();
    loader.insert(
        "web.ship",
        VALID_SERVICE.replace("readiness", "env = { GREETING: \"grüß dich ☕\" }\n  readiness"),
    );
    let compilation = shipc::build(&["web.ship".to_string()], &loader);
    let rollout = compilation
        .outputs
        .iter()
        .find(|f| f.path == "web/rollout.yaml")
        .unwrap();
    assert!(rollout.contents.contains("grüß dich ☕"), "{}", rollout.contents);
}

#[test]
fn one_bad_file_does_not_hide_the_problems_of_the_others() {
    let dir = support::scratch_dir("hostile-several-files");
    write(&dir, "platform.ship", PLATFORM);
    write(&dir, "a.ship", &service("a").replace("port = 8080", "port = 8080 }"));
    write(&dir, "b.ship", &service("b").replace("port = 8080", "port = 70000"));
    write(&dir, "c.ship", &service("c").replace("cpu: 100m", "cpu: 1Gi"));
    let output = shipc(&dir, &["check", "."]);
    assert_eq!(output.status.code(), Some(1));
    for place in ["[a.ship:", "[b.ship:", "[c.ship:"] {
        assert!(
            stderr(&output).contains(place),
            "no diagnostic in {place}\n{}",
            stderr(&output)
        );
    }
}

#[test]
fn syntax_errors_past_the_cap_are_counted_in_one_line() {
    let mut loader = shipc::MemoryLoader::new();
    let broken: String = (0..30).map(|idx| format!("service s{idx} {{ port = }}\n")).collect();
    loader.insert("many.ship", format!("{PLATFORM}{broken}"));
    let compilation = shipc::check(&["many.ship".to_string()], &loader);
    assert_eq!(
        compilation.diagnostics.len(),
        21,
        "{}",
        support::render_diagnostics(&compilation)
    );
    assert!(
        compilation
            .diagnostics
            .iter()
            .any(|d| d.message == "and 10 more syntax errors in this file"),
        "{}",
        support::render_diagnostics(&compilation)
    );
}

/// Interrupting a build at any moment leaves either the previous output or the new one, whole.
#[cfg(unix)]
#[test]
fn an_interrupted_build_leaves_the_previous_output_or_the_new_one_never_a_mix() {
    let dir = support::scratch_dir("hostile-interrupt");
    write(&dir, "project/platform.ship", PLATFORM);
    for idx in 0..300 {
        write(&dir, &format!("project/s{idx}.ship"), &service(&format!("s{idx}")));
    }
    let project = dir.join("project");
    let first = shipc(&project, &["build", ".", "--out", "out"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let previous = tree_bytes(&project.join("out"));
    std::fs::write(
        project.join("s0.ship"),
        service("s0").replace("registry.example.com/s0:1.0.0", "registry.example.com/s0:2.0.0"),
    )
    .unwrap();
    let mut complete = None;
    for delay_ms in [5, 20, 50, 100, 200, 400, 800] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_shipc"))
            .args(["build", ".", "--out", "out"])
            .current_dir(&project)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
        child.wait().unwrap();
        let now = tree_bytes(&project.join("out"));
        if now != previous {
            let fresh = complete.get_or_insert_with(|| {
                let check = shipc(&project, &["build", ".", "--out", "../fresh"]);
                assert_eq!(check.status.code(), Some(0));
                tree_bytes(&dir.join("fresh"))
            });
            assert_eq!(
                &now, fresh,
                "interrupted after {delay_ms} ms: a mix of old and new output"
            );
        }
    }
}

#[test]
fn a_build_stopped_between_its_two_renames_gets_its_previous_output_back() {
    let dir = support::scratch_dir("hostile-half-swapped");
    write(&dir, "web.ship", VALID_SERVICE);
    let first = shipc(&dir, &["build", "web.ship", "--out", "out"]);
    assert_eq!(first.status.code(), Some(0));
    let previous = tree_bytes(&dir.join("out"));
    std::fs::rename(dir.join("out"), dir.join(".out.shipc-old")).unwrap();
    write(&dir, "web.ship", &VALID_SERVICE.replace("8080", "port"));
    let failed = shipc(&dir, &["build", "web.ship", "--out", "out"]);
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(tree_bytes(&dir.join("out")), previous);
}

#[test]
fn output_is_the_same_from_another_directory_and_in_another_discovery_order() {
    let dir = support::scratch_dir("hostile-determinism");
    let repo = support::repo_root();
    let reference = shipc(&repo, &["build", "examples", "--out", dir.join("a").to_str().unwrap()]);
    assert_eq!(reference.status.code(), Some(0), "{}", stderr(&reference));
    let services = repo.join("examples/shop/services");
    let reordered = shipc(
        &services,
        &[
            "build",
            "--root",
            repo.to_str().unwrap(),
            "payments.ship",
            "../platform.ship",
            "cart.ship",
            "../metrics.ship",
            "checkout.ship",
            "search.ship",
            "--out",
            dir.join("b").to_str().unwrap(),
        ],
    );
    assert_eq!(reordered.status.code(), Some(0), "{}", stderr(&reordered));
    assert_eq!(tree_bytes(&dir.join("a")), tree_bytes(&dir.join("b")));
    assert!(Path::new(&dir.join("b/environments/production/checkout/rollout.yaml")).is_file());
}

#[cfg(unix)]
#[test]
fn a_symlink_that_leads_out_of_the_project_is_refused_at_the_import() {
    let dir = support::scratch_dir("hostile-symlink-out");
    write(&dir, "outside/secret.ship", PLATFORM);
    write(
        &dir,
        "project/web.ship",
        &service("web").replace("./platform", "./linked"),
    );
    std::os::unix::fs::symlink("../outside/secret.ship", dir.join("project/linked.ship")).unwrap();
    let output = shipc(&dir.join("project"), &["check", "web.ship"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("error[E0205]"), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is a symbolic link that leads out of the project"),
        "{}",
        stderr(&output)
    );
}

/// The deepest nesting the pre-scan lets through (64 brackets, counting those of the enclosing blocks)
/// parses on a thread with a quarter of the stack a worker thread gets: pest itself does not probe the
/// stack (see patches/pest_stack_guard).
#[test]
fn the_deepest_nesting_accepted_parses_on_a_small_stack() {
    let nested = |depth: usize, open: &str, inner: &str, close: &str| {
        format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
    };
    // A field sits in the service's braces; a rollback condition in three blocks, its call in a fourth.
    let text = format!(
        "{PLATFORM}metric error_rate(svc: service) : ratio = prometheus \"sum(x)\"\nservice web {{\n  a = {}\n  b = {}\n  c = {}\n  release blue_green {{ after_promotion {{ rollback when {} }} }}\n}}\n",
        nested(63, "[", "1", "]"),
        nested(63, "{ a: ", "1", " }"),
        nested(63, "f(", "1", ")"),
        nested(60, "(", "error_rate(web) > 1%", ")"),
    );
    let mut loader = shipc::MemoryLoader::new();
    loader.insert("web.ship", text);
    let compilation = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || shipc::check(&["web.ship".to_string()], &loader))
        .unwrap()
        .join()
        .unwrap();
    // Syntax errors are E01xx; the checker's findings about these odd values do not matter here.
    let syntax: Vec<_> = compilation
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .filter(|code| code.starts_with("E01"))
        .collect();
    assert!(syntax.is_empty(), "{syntax:?}");
}

#[test]
fn a_guard_with_100_000_terms_hits_the_term_limit() {
    let mut loader = shipc::MemoryLoader::new();
    let terms = vec!["event.branch == \"main\""; 100_000].join(" or ");
    let text = VALID_SERVICE.replace(
        "release blue_green",
        &format!(
            "pipeline {{\n    source = github(\"shop/web\")\n    step a = t()\n    step b = t() after a when {terms}\n  }}\n  release blue_green"
        ),
    );
    loader.insert(
        "web.ship",
        format!("{text}step t() {{\n  image = \"rust:1.80\"\n  command = [\"cargo\", \"test\"]\n}}\n"),
    );
    let compilation = shipc::check(&["web.ship".to_string()], &loader);
    let codes: Vec<_> = compilation.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        [shipc::Code::E0104],
        "{}",
        support::render_diagnostics(&compilation)
    );
}

/// The compiler runs on the main thread (8 MiB of stack on Linux and macOS) and on helper threads with
/// the 2 MiB Rust gives a thread it starts. So the most deeply nested input accepted, in every construct
/// that nests (values; rollback conditions and `when` guards of 64 terms in brackets; PromQL at the
/// parser's depth limit), must build with room to spare: here, on half a helper's stack, in a debug
/// build, whose frames are larger than a release build's.
#[test]
fn the_deepest_input_accepted_builds_on_a_small_stack() {
    let nested = |depth: usize, open: &str, inner: &str, close: &str| {
        format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
    };
    let terms = |term: &str| vec![term; 64].join(" or ");
    let query = nested(shipc::promql::MAX_DEPTH - 2, "(", "sum(x)", ")");
    let text = format!(
        "{PLATFORM}metric error_rate(svc: service) : ratio = prometheus \"{query}\"\n\
         step t() {{\n  image = \"rust:1.80\"\n  command = [\"cargo\", \"test\"]\n}}\n\
         service web {{\n  image = \"registry.example.com/web:1.0.0\"\n  port = 8080\n  replicas = 2\n\
         resources = {{ cpu: 100m, memory: 128Mi }}\n  readiness = http_get(\"/ready\")\n\
         env = {{ A: \"{}\" }}\n\
         pipeline {{\n    source = github(\"shop/web\")\n    step a = t()\n    step b = t() after a when {}\n  }}\n\
         release blue_green {{\n    promote = manual\n    after_promotion {{\n      rollback when {}\n    }}\n  }}\n}}\n",
        "x".repeat(100_000),
        nested(58, "(", &terms("event.branch == \"main\""), ")"),
        nested(58, "(", &terms("error_rate(web) > 1%"), ")"),
    );
    let mut loader = shipc::MemoryLoader::new();
    loader.insert("web.ship", text);
    let compilation = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || shipc::build(&["web.ship".to_string()], &loader))
        .unwrap()
        .join()
        .unwrap();
    assert!(
        compilation.diagnostics.is_empty(),
        "{}",
        support::render_diagnostics(&compilation)
    );
    assert!(!compilation.outputs.is_empty());
}
