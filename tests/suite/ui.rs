//! UI tests: every `tests/ui/<area>/<case>.ship` (or every file of a `<case>/` directory that holds a
//! `main.ship`, as the CLI checks a directory) is checked, and its diagnostics are compared with a
//! snapshot holding the sources and the rendered diagnostics. The first line of each case, `// expect: E0301 W0703`, lists the codes it must produce
//! (with repeats), so a snapshot that captured a wrong result cannot pass review unnoticed.

use std::path::Path;

use crate::support;

#[test]
fn ui() {
    support::insta_settings().bind(|| {
        insta::glob!("../ui", "**/*.ship", check_case);
    });
}

fn check_case(path: &Path) {
    let dir = path.parent().unwrap();
    let dir_main = dir.join("main.ship");
    let is_dir_case = dir_main.exists();
    if is_dir_case && path != dir_main {
        return;
    }
    let files = if is_dir_case {
        support::ship_files_under(dir)
    } else {
        vec![path.to_path_buf()]
    };
    let loader = support::loader_for(&files);
    let roots: Vec<String> = files.iter().map(|file| support::rel(file)).collect();
    let compilation = shipc::check(&roots, &loader);

    let source = std::fs::read_to_string(path).unwrap();
    let expected = expected_codes(&source, path);
    let mut actual: Vec<String> = compilation
        .diagnostics
        .iter()
        .map(|d| d.code.as_str().to_string())
        .collect();
    actual.sort();
    assert_eq!(actual, expected, "codes reported for {}", support::rel(path));
    assert!(
        !compilation.diagnostics.iter().any(|d| d.code == shipc::Code::E0001),
        "internal error for {}",
        support::rel(path)
    );

    let mut snapshot = String::new();
    for file in &files {
        snapshot.push_str(&format!(
            "----- SOURCE {}\n{}",
            support::rel(file),
            std::fs::read_to_string(file).unwrap()
        ));
    }
    snapshot.push_str("----- DIAGNOSTICS\n");
    snapshot.push_str(&support::render_diagnostics(&compilation));
    insta::assert_snapshot!(snapshot);
}

/// The codes listed in the `// expect:` first line, sorted.
fn expected_codes(source: &str, path: &Path) -> Vec<String> {
    let header = source.trim_start_matches('\u{feff}').lines().next().unwrap_or("");
    let codes = header
        .strip_prefix("// expect:")
        .unwrap_or_else(|| panic!("{} must start with `// expect: CODE...`", path.display()));
    let mut codes: Vec<String> = codes.split_whitespace().map(str::to_string).collect();
    codes.sort();
    codes
}
