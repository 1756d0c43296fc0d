//! The `shipc-check` hook of `.pre-commit-hooks.yaml`, run by the real `pre-commit` (from PyPI) the
//! way a team uses it: a repository whose `.pre-commit-config.yaml` names this one, a commit with a bad
//! `.ship` file refused with its diagnostic, a good one accepted.
//!
//! pre-commit builds shipc from a snapshot of this working tree with `cargo install`; its cache and
//! cargo's target directory live under `target/`, so only the first run pays for the build.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{self, VALID_SERVICE, write};

/// pre-commit's version, pinned so the test does not change under us.
const PRE_COMMIT: &str = "pre-commit==4.7.0";

fn run(dir: &Path, program: &Path, args: &[&str]) -> Output {
    let target = support::repo_root().join("target");
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PRE_COMMIT_HOME", target.join("pre-commit/home"))
        .env("CARGO_TARGET_DIR", target.join("pre-commit/cargo"))
        .env("GIT_AUTHOR_NAME", "shipc tests")
        .env("GIT_AUTHOR_EMAIL", "tests@shipc.invalid")
        .env("GIT_COMMITTER_NAME", "shipc tests")
        .env("GIT_COMMITTER_EMAIL", "tests@shipc.invalid")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn git(dir: &Path, args: &[&str]) -> Output {
    let output = run(dir, Path::new("git"), args);
    assert!(output.status.success(), "git {args:?}: {}", text(&output));
    output
}

/// A virtualenv with pre-commit, made once under `target/`; `None` when there is no Python.
fn pre_commit() -> Option<PathBuf> {
    let python = ["python3", "python"].into_iter().find(|python| {
        Command::new(python)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })?;
    let venv = support::repo_root().join("target/pre-commit/venv");
    let executable = venv.join("bin/pre-commit");
    if !executable.is_file() {
        let made = Command::new(python).args(["-m", "venv"]).arg(&venv).output().unwrap();
        assert!(made.status.success(), "python -m venv: {}", text(&made));
        let pip = venv.join("bin/pip");
        let installed = Command::new(pip)
            .args(["install", "--quiet", PRE_COMMIT])
            .output()
            .unwrap();
        assert!(
            installed.status.success(),
            "pip install {PRE_COMMIT}: {}",
            text(&installed)
        );
    }
    Some(executable)
}

/// This working tree as a one-commit repository, so pre-commit can clone it at a known revision.
fn snapshot_of_this_repository(dir: &Path) -> String {
    let repo = support::repo_root();
    let listed = git(&repo, &["ls-files", "--cached", "--others", "--exclude-standard"]);
    for path in String::from_utf8(listed.stdout).unwrap().lines() {
        let source = repo.join(path);
        if source.is_file() {
            let target = dir.join(path);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&source, &target).unwrap();
        }
    }
    git(dir, &["init", "--quiet"]);
    git(dir, &["add", "--all"]);
    git(dir, &["commit", "--quiet", "--no-verify", "-m", "snapshot"]);
    let head = git(dir, &["rev-parse", "HEAD"]);
    String::from_utf8(head.stdout).unwrap().trim().to_string()
}

#[test]
fn the_hook_refuses_a_commit_with_a_bad_ship_file_and_accepts_a_good_one() {
    let Some(pre_commit) = pre_commit() else {
        println!("skipped: no Python interpreter, so pre-commit cannot run here");
        return;
    };
    let dir = support::scratch_dir("pre-commit");
    let hook_repo = dir.join("shipc");
    let rev = snapshot_of_this_repository(&hook_repo);

    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    git(&project, &["init", "--quiet"]);
    write(
        &project,
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: shipc-check\n",
            hook_repo.display()
        ),
    );
    let installed = run(&project, &pre_commit, &["install"]);
    assert!(installed.status.success(), "{}", text(&installed));

    write(
        &project,
        "web.ship",
        &VALID_SERVICE.replace("port      = 8080", "port      = 80800"),
    );
    git(&project, &["add", "--all"]);
    let refused = run(&project, Path::new("git"), &["commit", "-m", "a bad port"]);
    assert!(
        !refused.status.success(),
        "the commit went through:\n{}",
        text(&refused)
    );
    assert!(text(&refused).contains("shipc check"), "{}", text(&refused));
    assert!(text(&refused).contains("error[E0305]"), "{}", text(&refused));
    assert!(text(&refused).contains("[web.ship:5:15]"), "{}", text(&refused));

    write(&project, "web.ship", VALID_SERVICE);
    git(&project, &["add", "--all"]);
    let accepted = run(&project, Path::new("git"), &["commit", "-m", "a good port"]);
    assert!(accepted.status.success(), "{}", text(&accepted));
    assert!(text(&accepted).contains("shipc check"), "{}", text(&accepted));
}
