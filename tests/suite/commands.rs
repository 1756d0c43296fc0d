//! The subcommands around check and build: `graph`, `fmt`, `explain`, `init`, `completions`,
//! `--version`, and the `short` and `sarif` diagnostic formats.

use std::process::Command;

use crate::support::{self, VALID_SERVICE, shipc, stderr, write};

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn graph_draws_the_release_flow_of_the_examples() {
    let repo = support::repo_root();
    let mermaid = shipc(&repo, &["graph", "examples"]);
    assert_eq!(mermaid.status.code(), Some(0), "{}", stderr(&mermaid));
    let dot = shipc(&repo, &["graph", "examples", "--style", "dot"]);
    assert_eq!(dot.status.code(), Some(0), "{}", stderr(&dot));
    support::insta_settings().bind(|| {
        insta::assert_snapshot!("graph_examples_mermaid", stdout(&mermaid));
        insta::assert_snapshot!("graph_examples_dot", stdout(&dot));
    });
}

#[test]
fn graph_output_is_valid_graphviz() {
    if Command::new("dot").arg("-V").output().is_err() {
        println!("skipped: Graphviz `dot` is not installed (.ci/run installs it)");
        return;
    }
    let repo = support::repo_root();
    let drawing = shipc(&repo, &["graph", "examples", "--style", "dot"]);
    let dir = support::scratch_dir("graph-dot");
    write(&dir, "release.dot", &stdout(&drawing));
    let rendered = Command::new("dot")
        .args(["-Tsvg", "release.dot", "-o", "release.svg"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    assert!(
        std::fs::read_to_string(dir.join("release.svg"))
            .unwrap()
            .contains("checkout")
    );
}

#[test]
fn graph_reports_errors_and_draws_nothing() {
    let dir = support::scratch_dir("graph-errors");
    write(&dir, "web.ship", &VALID_SERVICE.replace("8080", "80800"));
    let output = shipc(&dir, &["graph", "web.ship"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    assert!(stderr(&output).contains("error[E0305]"), "{}", stderr(&output));
}

#[test]
fn init_scaffolds_a_project_that_builds() {
    let dir = support::scratch_dir("init-new").join("orders");
    std::fs::create_dir_all(&dir).unwrap();
    let output = shipc(&dir, &["init", "--namespace", "shop"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("created orders.ship and platform.ship"));
    let built = shipc(&dir, &["build", ".", "--out", "out"]);
    assert_eq!(built.status.code(), Some(0), "{}", stderr(&built));
    assert!(
        stderr(&built).is_empty() || !stderr(&built).contains("warning"),
        "{}",
        stderr(&built)
    );
    let rollout = std::fs::read_to_string(dir.join("out/orders/rollout.yaml")).unwrap();
    assert!(rollout.contains("namespace: shop"), "{rollout}");
}

#[test]
fn init_imports_the_platform_a_project_has() {
    let dir = support::scratch_dir("init-existing");
    write(
        &dir,
        "shared/base.ship",
        "platform {\n  registry = \"r.example.com\"\n  namespace = \"shop\"\n  prometheus = \"http://prometheus:9090\"\n}\n",
    );
    let output = shipc(&dir, &["init", "cart"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!dir.join("platform.ship").exists());
    let service = std::fs::read_to_string(dir.join("cart.ship")).unwrap();
    assert!(service.contains("import \"./shared/base\""), "{service}");
    let checked = shipc(&dir, &["check", "."]);
    assert_eq!(checked.status.code(), Some(0), "{}", stderr(&checked));
}

#[test]
fn init_writes_nothing_when_the_result_would_not_check() {
    let dir = support::scratch_dir("init-no-prometheus");
    write(
        &dir,
        "platform.ship",
        "platform { namespace = \"shop\" registry = \"r.example.com\" }\n",
    );
    let output = shipc(&dir, &["init", "cart"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("error[E0510]"), "{}", stderr(&output));
    assert!(stderr(&output).contains("nothing was written"));
    assert!(!dir.join("cart.ship").exists());
}

#[test]
fn init_refuses_bad_names_and_existing_files() {
    let dir = support::scratch_dir("init-refusals");
    let bad = shipc(&dir, &["init", "Cart_Service"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("cannot name a service"), "{}", stderr(&bad));
    write(&dir, "cart.ship", "// mine\n");
    let taken = shipc(&dir, &["init", "cart"]);
    assert_eq!(taken.status.code(), Some(2));
    assert!(
        stderr(&taken).contains("`cart.ship` exists already"),
        "{}",
        stderr(&taken)
    );
    assert_eq!(std::fs::read_to_string(dir.join("cart.ship")).unwrap(), "// mine\n");
    assert!(!dir.join("platform.ship").exists());
}

#[test]
fn completions_are_generated_for_each_shell() {
    let repo = support::repo_root();
    for (shell, marker) in [
        ("bash", "_shipc()"),
        ("zsh", "#compdef shipc"),
        ("fish", "complete -c shipc"),
    ] {
        let output = shipc(&repo, &["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}: {}", stderr(&output));
        assert!(stdout(&output).contains(marker), "{shell}");
        assert!(stdout(&output).contains("build"), "{shell}");
    }
    let unknown = shipc(&repo, &["completions", "cmd.exe"]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn version_is_printed() {
    let output = shipc(&support::repo_root(), &["--version"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), format!("shipc {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn short_format_is_one_line_per_diagnostic_on_stdout() {
    let dir = support::scratch_dir("format-short");
    write(
        &dir,
        "web.ship",
        &VALID_SERVICE.replace("8080", "80800").replace("cpu: 100m", "cpu: 1Gi"),
    );
    let output = shipc(&dir, &["check", "--format", "short", "web.ship"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "web.ship:5:15: E0305 `port` is out of range\nweb.ship:7:22: E0306 `Gi` is not a unit of CPU\n"
    );
}

#[test]
fn sarif_format_is_a_log_github_code_scanning_reads() {
    let dir = support::scratch_dir("format-sarif");
    write(&dir, "services/web.ship", &VALID_SERVICE.replace("8080", "80800"));
    let output = shipc(&dir, &["check", "--format", "sarif", "services"]);
    assert_eq!(output.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "shipc");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), shipc::Code::ALL.len());
    let result = &run["results"][0];
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], result["ruleId"]);
    assert_eq!(result["ruleId"], "E0305");
    assert_eq!(result["level"], "error");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "services/web.ship");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(location["region"]["startLine"], 5);
    assert_eq!(location["region"]["startColumn"], 15);
    assert_eq!(run["columnKind"], "unicodeCodePoints");
}

#[test]
fn fmt_check_lists_files_and_fmt_rewrites_them() {
    let dir = support::scratch_dir("fmt-cli");
    let messy = VALID_SERVICE.replace("  port      = 8080", "      port=8080   ");
    write(&dir, "web.ship", &messy);
    let listed = shipc(&dir, &["fmt", "--check", "."]);
    assert_eq!(listed.status.code(), Some(1), "{}", stderr(&listed));
    assert_eq!(stdout(&listed), "web.ship\n");
    assert_eq!(std::fs::read_to_string(dir.join("web.ship")).unwrap(), messy);

    let rewritten = shipc(&dir, &["fmt", "."]);
    assert_eq!(rewritten.status.code(), Some(0), "{}", stderr(&rewritten));
    assert_eq!(stdout(&rewritten), "web.ship\n");
    let formatted = std::fs::read_to_string(dir.join("web.ship")).unwrap();
    assert!(formatted.contains("  port      = 8080\n"), "{formatted}");

    let clean = shipc(&dir, &["fmt", "--check", "."]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    assert!(stdout(&clean).is_empty());
}

#[test]
fn fmt_leaves_a_file_with_syntax_errors_alone_and_reports_them() {
    let dir = support::scratch_dir("fmt-broken");
    let broken = VALID_SERVICE.replace("port      = 8080", "port      =");
    write(&dir, "web.ship", &broken);
    let output = shipc(&dir, &["fmt", "web.ship"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("error[E0101]"), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(dir.join("web.ship")).unwrap(), broken);
}

#[test]
fn explain_prints_the_explanation_of_a_code_or_its_name() {
    let repo = support::repo_root();
    let by_code = shipc(&repo, &["explain", "E0505"]);
    assert_eq!(by_code.status.code(), Some(0), "{}", stderr(&by_code));
    assert!(stdout(&by_code).starts_with("# E0505: analysis-outlasts-scale-down\n"));
    assert!(stdout(&by_code).contains("## Wrong") && stdout(&by_code).contains("## Right"));
    let by_name = shipc(&repo, &["explain", "analysis-outlasts-scale-down"]);
    assert_eq!(stdout(&by_name), stdout(&by_code));
    let unknown = shipc(&repo, &["explain", "E9999"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("`E9999` is not a diagnostic code"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn init_checks_the_new_service_against_the_whole_project() {
    let dir = support::scratch_dir("init-clash");
    write(
        &dir,
        "platform.ship",
        "platform {\n  registry = \"r.example.com\"\n  namespace = \"shop\"\n  prometheus = \"http://prometheus:9090\"\n}\n",
    );
    write(&dir, "services/cart.ship", &VALID_SERVICE.replace("web", "cart"));
    let output = shipc(&dir, &["init", "cart"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("error[E0202]"), "{}", stderr(&output));
    assert!(!dir.join("cart.ship").exists());
}

#[cfg(unix)]
#[test]
fn fmt_rewrites_the_target_of_a_symlink_and_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = support::scratch_dir("fmt-symlink");
    let messy = VALID_SERVICE.replace("  port      = 8080", "  port=8080");
    write(&dir, "shared/web.ship", &messy);
    std::fs::set_permissions(dir.join("shared/web.ship"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::create_dir_all(dir.join("project")).unwrap();
    std::os::unix::fs::symlink("../shared/web.ship", dir.join("project/web.ship")).unwrap();
    let output = shipc(&dir, &["fmt", "project"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        std::fs::symlink_metadata(dir.join("project/web.ship"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let target = dir.join("shared/web.ship");
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("  port      = 8080\n")
    );
    assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
}
