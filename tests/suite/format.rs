//! The formatter on every fixture: files with a syntax error are refused, formatting a second time
//! changes nothing, the formatted project compiles to the same diagnostics and manifests, and the
//! examples are already in the canonical layout.

use std::path::{Path, PathBuf};

use shipc::format::format;
use shipc::{Compilation, MemoryLoader};

use crate::support;

#[test]
fn examples_are_in_canonical_form() {
    for file in support::ship_files_under(&support::repo_root().join("examples")) {
        let text = std::fs::read_to_string(&file).unwrap();
        let formatted = format(&text).unwrap_or_else(|| panic!("{} was refused", support::rel(&file)));
        assert!(
            formatted == text,
            "{} is not in canonical form; it would be:\n{formatted}",
            support::rel(&file)
        );
    }
}

#[test]
fn formatting_is_idempotent_and_keeps_the_meaning_of_every_fixture() {
    let projects = projects();
    assert!(projects.len() > 50, "only {} projects", projects.len());
    for files in projects {
        check_project(&files);
    }
}

/// The examples, each build case, and each UI case: a file, or a directory holding a `main.ship`.
fn projects() -> Vec<Vec<PathBuf>> {
    let root = support::repo_root();
    let mut projects = vec![support::ship_files_under(&root.join("examples"))];
    let mut build_cases: Vec<PathBuf> = std::fs::read_dir(root.join("tests/build"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    build_cases.sort();
    projects.extend(build_cases.iter().map(|dir| support::ship_files_under(dir)));
    for file in support::ship_files_under(&root.join("tests/ui")) {
        let dir = file.parent().unwrap();
        let main = dir.join("main.ship");
        if !main.exists() {
            projects.push(vec![file]);
        } else if file == main {
            projects.push(support::ship_files_under(dir));
        }
    }
    projects
}

fn check_project(files: &[PathBuf]) {
    let roots: Vec<String> = files.iter().map(|file| support::rel(file)).collect();
    let original = shipc::build(&roots, &support::loader_for(files));
    let mut formatted_loader = MemoryLoader::new();
    for (file, rel) in files.iter().zip(&roots) {
        let text = std::fs::read_to_string(file).unwrap();
        let formatted = format(&text);
        assert_eq!(
            formatted.is_none(),
            has_syntax_error(&original, rel),
            "{rel}: refused by the formatter exactly when it has a syntax error"
        );
        let Some(formatted) = formatted else {
            formatted_loader.insert(rel.clone(), text);
            continue;
        };
        assert_eq!(
            format(&formatted).as_deref(),
            Some(formatted.as_str()),
            "{rel}: formatting the formatted text changed it"
        );
        formatted_loader.insert(rel.clone(), formatted);
    }
    let again = shipc::build(&roots, &formatted_loader);
    assert_eq!(
        diagnostics(&again),
        diagnostics(&original),
        "{}: the formatted files are reported differently",
        roots.join(" ")
    );
    assert!(
        outputs(&again) == outputs(&original),
        "{}: the formatted files build to other manifests",
        roots.join(" ")
    );
}

fn has_syntax_error(compilation: &Compilation, rel: &str) -> bool {
    compilation.diagnostics.iter().any(|diagnostic| {
        diagnostic.code.as_str().starts_with("E01") && compilation.sources.locate(diagnostic.primary.span).0 == rel
    })
}

/// File, code and message of each diagnostic: everything but the place, which may move.
fn diagnostics(compilation: &Compilation) -> Vec<(String, &'static str, String)> {
    compilation
        .diagnostics
        .iter()
        .map(|diagnostic| {
            let (path, _) = compilation.sources.locate(diagnostic.primary.span);
            (path.to_string(), diagnostic.code.as_str(), diagnostic.message.clone())
        })
        .collect()
}

/// The output files, without the `shipc.dev/source: file:line` annotations, whose lines may move.
fn outputs(compilation: &Compilation) -> Vec<(String, String)> {
    compilation
        .outputs
        .iter()
        .map(|file| {
            let contents: Vec<&str> = file
                .contents
                .lines()
                .filter(|line| !line.trim_start().starts_with("shipc.dev/source:"))
                .collect();
            (file.path.clone(), contents.join("\n"))
        })
        .collect()
}

#[test]
fn a_file_with_a_syntax_error_is_refused() {
    let dir = support::repo_root().join("tests/ui/syntax");
    for name in ["missing_equals.ship", "unclosed_block.ship", "unknown_escape.ship"] {
        let text = std::fs::read_to_string(Path::new(&dir).join(name)).unwrap();
        assert_eq!(format(&text), None, "{name}");
    }
}
