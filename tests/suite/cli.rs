//! The `shipc` binary: exit codes, output written only on success and atomically, formats.

use crate::support::{self, VALID_SERVICE, shipc, stderr, tree_bytes, write};

#[test]
fn check_of_the_examples_succeeds_quietly() {
    let output = shipc(&support::repo_root(), &["check", "examples"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
}

#[test]
fn build_writes_every_service_and_a_marker() {
    let dir = support::scratch_dir("cli-build");
    write(&dir, "web.ship", VALID_SERVICE);
    let output = shipc(&dir, &["build", ".", "--out", "out"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for file in [
        "kustomization.yaml",
        "web/rollout.yaml",
        "web/services.yaml",
        "web/pdb.yaml",
        ".shipc-output",
    ] {
        assert!(dir.join("out").join(file).is_file(), "{file} missing");
    }
    assert!(!dir.join("out/web/analysis.yaml").exists());
}

#[test]
fn a_bad_file_in_a_directory_means_nothing_is_written() {
    let dir = support::scratch_dir("cli-bad-dir");
    write(&dir, "src/good.ship", VALID_SERVICE);
    write(
        &dir,
        "src/bad.ship",
        &VALID_SERVICE
            .replace("web", "api")
            .replace("port      = 8080", "port = 80800"),
    );
    let output = shipc(&dir, &["build", "src", "--out", "out"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("error[E0305]"), "{}", stderr(&output));
    assert!(!dir.join("out").exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no staging directory may be left behind"
    );
}

#[test]
fn a_failed_build_leaves_the_previous_output_untouched() {
    let dir = support::scratch_dir("cli-keep-previous");
    let source = write(&dir, "web.ship", VALID_SERVICE);
    assert_eq!(
        shipc(&dir, &["build", "web.ship", "--out", "out"]).status.code(),
        Some(0)
    );
    let before = std::fs::read_to_string(dir.join("out/web/rollout.yaml")).unwrap();
    std::fs::write(&source, VALID_SERVICE.replace("replicas  = 2", "replicas  = 0..2")).unwrap();
    assert_eq!(
        shipc(&dir, &["build", "web.ship", "--out", "out"]).status.code(),
        Some(1)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("out/web/rollout.yaml")).unwrap(),
        before
    );
}

#[test]
fn a_successful_build_removes_services_that_no_longer_exist() {
    let dir = support::scratch_dir("cli-stale");
    let source = write(&dir, "web.ship", VALID_SERVICE);
    assert_eq!(
        shipc(&dir, &["build", "web.ship", "--out", "out"]).status.code(),
        Some(0)
    );
    std::fs::write(&source, VALID_SERVICE.replace("service web", "service api")).unwrap();
    assert_eq!(
        shipc(&dir, &["build", "web.ship", "--out", "out"]).status.code(),
        Some(0)
    );
    assert!(dir.join("out/api/rollout.yaml").exists());
    assert!(!dir.join("out/web").exists());
}

#[cfg(unix)]
#[test]
fn an_output_reached_through_a_symlink_is_replaced_without_emptying_the_link_target() {
    let dir = support::scratch_dir("cli-symlinked-out");
    write(&dir, "web.ship", VALID_SERVICE);
    assert_eq!(
        shipc(&dir, &["build", "web.ship", "--out", "kept"]).status.code(),
        Some(0)
    );
    std::os::unix::fs::symlink("kept", dir.join("out")).unwrap();
    assert_eq!(
        shipc(&dir, &["build", "web.ship", "--out", "out"]).status.code(),
        Some(0)
    );
    assert!(dir.join("out/web/rollout.yaml").exists());
    assert!(!std::fs::symlink_metadata(dir.join("out")).unwrap().is_symlink());
    assert!(dir.join("kept/web/rollout.yaml").exists());
}

#[test]
fn build_refuses_to_replace_a_directory_it_did_not_write() {
    let dir = support::scratch_dir("cli-foreign-out");
    write(&dir, "web.ship", VALID_SERVICE);
    write(&dir, "precious/notes.txt", "keep me");
    let output = shipc(&dir, &["build", "web.ship", "--out", "precious"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("was not written by shipc"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("precious/notes.txt")).unwrap(),
        "keep me"
    );
}

/// The documents of every file of a build directory but its kustomizations, in order of path: what a
/// single-stream build must hold.
fn objects_of(out: &std::path::Path) -> String {
    tree_bytes(out)
        .into_iter()
        .filter(|(path, _)| path.ends_with(".yaml") && !path.ends_with("kustomization.yaml"))
        .map(|(_, bytes)| String::from_utf8(bytes).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

#[test]
fn a_stream_holds_every_object_of_the_directory_layout() {
    let root = support::repo_root();
    let dir = support::scratch_dir("cli-stream");
    let out = dir.join("out");
    let stream = dir.join("all.yaml");
    for target in [out.to_str().unwrap(), stream.to_str().unwrap()] {
        let output = shipc(&root, &["build", "examples", "--out", target]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let expected = objects_of(&out);
    assert_eq!(std::fs::read_to_string(&stream).unwrap(), expected);
    assert!(!expected.contains("kind: Kustomization"));

    let output = shipc(&root, &["build", "examples", "--out", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
    assert!(stderr(&output).contains("to standard output"), "{}", stderr(&output));
}

#[test]
fn a_stream_file_is_written_only_on_success() {
    let dir = support::scratch_dir("cli-stream-fail");
    let source = write(&dir, "web.ship", VALID_SERVICE);
    let output = shipc(&dir, &["build", "web.ship", "--out", "all.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let before = std::fs::read_to_string(dir.join("all.yaml")).unwrap();
    std::fs::write(&source, VALID_SERVICE.replace("replicas  = 2", "replicas  = 0..2")).unwrap();
    let output = shipc(&dir, &["build", "web.ship", "--out", "all.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(dir.join("all.yaml")).unwrap(), before);
    let output = shipc(&dir, &["build", "web.ship", "--out", "-"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "nothing on standard output after an error");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file may be left behind: {names:?}");
}

#[test]
fn a_stream_on_standard_output_leaves_no_room_for_machine_readable_diagnostics() {
    let dir = support::scratch_dir("cli-stream-format");
    write(&dir, "web.ship", VALID_SERVICE);
    write(&dir, "taken.yaml/keep", "a directory named like a file");
    for args in [
        &["build", "web.ship", "--out", "-", "--format", "json"][..],
        &["build", "web.ship", "--out", "taken.yaml"],
    ] {
        let output = shipc(&dir, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn usage_errors_exit_with_2() {
    let dir = support::scratch_dir("cli-usage");
    write(&dir, "web.ship", VALID_SERVICE);
    for args in [
        &["build", "web.ship"][..],
        &["check", "missing.ship"],
        &["frobnicate"],
        &["check", "--format", "xml"],
        &[],
    ] {
        let output = shipc(&dir, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
    }
    let empty = support::scratch_dir("cli-usage-empty");
    assert_eq!(
        shipc(&empty, &["check"]).status.code(),
        Some(2),
        "a directory without .ship files"
    );
}

#[test]
fn paths_outside_the_root_are_usage_errors() {
    let dir = support::scratch_dir("cli-outside-root");
    write(&dir, "project/web.ship", VALID_SERVICE);
    write(&dir, "elsewhere/x.ship", VALID_SERVICE);
    let output = shipc(&dir.join("project"), &["check", "../elsewhere/x.ship"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("outside the project root"),
        "{}",
        stderr(&output)
    );
    let output = shipc(&dir.join("project"), &["check", "--root", "..", "../elsewhere/x.ship"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn three_independent_errors_are_reported_in_one_run() {
    let dir = support::scratch_dir("cli-three-errors");
    let text = VALID_SERVICE
        .replace("port      = 8080", "port      = \"8080\"")
        .replace("promote = manual", "promote = manul")
        + "\nmetric error_rate(svc: service) : ratios = prometheus \"up\"\n";
    write(&dir, "web.ship", &text);
    let output = shipc(&dir, &["check", "web.ship"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert_eq!(text.matches("error[E").count(), 3, "{text}");
    for location in ["[web.ship:5:15]", "[web.ship:9:34]", "[web.ship:12:35]"] {
        assert!(text.contains(location), "{location} in {text}");
    }
    assert!(text.contains("help: did you mean `manual`?"), "{text}");
    assert!(text.ends_with("shipc: 3 errors, 0 warnings\n"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour when not on a terminal");
}

#[test]
fn json_format_is_one_document_on_stdout() {
    let dir = support::scratch_dir("cli-json");
    write(
        &dir,
        "web.ship",
        &VALID_SERVICE.replace("replicas  = 2", "replicas  = 1"),
    );
    let output = shipc(&dir, &["check", "--format", "json", "web.ship"]);
    assert_eq!(output.status.code(), Some(0), "warnings alone do not fail a check");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["errors"], 0);
    assert_eq!(report["warnings"], 1);
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["code"], "W0703");
    assert_eq!(diagnostic["file"], "web.ship");
    assert_eq!(diagnostic["line"], 6);
    assert_eq!(diagnostic["column"], 15);
    assert!(diagnostic["help"].as_str().unwrap().contains("replicas = 2"));
}

#[test]
fn a_file_that_is_not_utf8_is_reported_where_it_breaks() {
    let dir = support::scratch_dir("cli-utf8");
    let mut bytes = VALID_SERVICE.as_bytes().to_vec();
    bytes.splice(0..0, b"// caf\xe9\n".iter().copied());
    std::fs::write(dir.join("web.ship"), bytes).unwrap();
    let output = shipc(&dir, &["check", "web.ship"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("error[E0107]"), "{}", stderr(&output));
    assert!(stderr(&output).contains("[web.ship:1:7]"), "{}", stderr(&output));
}

#[test]
fn the_same_input_gives_byte_identical_output() {
    let dir = support::scratch_dir("cli-deterministic");
    let first = support::repo_root();
    for out in ["a", "b"] {
        let target = dir.join(out);
        let output = shipc(&first, &["build", "examples", "--out", target.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    assert_eq!(tree_bytes(&dir.join("a")), tree_bytes(&dir.join("b")));
}

#[test]
fn a_problem_far_along_a_very_long_line_is_reported_without_an_excerpt() {
    let dir = support::scratch_dir("cli-wide-line");
    let text = format!("platform {{ namespace = \"shop\" }}{}oops\n", " ".repeat(70_000));
    write(&dir, "wide.ship", &text);
    let output = shipc(&dir, &["check", "wide.ship"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("error[E0101]: expected"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("--> wide.ship:1:70032"), "{}", stderr(&output));
}
