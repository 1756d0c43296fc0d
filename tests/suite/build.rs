//! Build tests: every `tests/build/<case>/` (all its `.ship` files) is built, and the output files are
//! compared with a snapshot. `../shared/tools/validate-manifests` still runs on the examples in CI;
//! these snapshots pin the exact YAML.

use std::path::Path;

use crate::support;

#[test]
fn build() {
    support::insta_settings().bind(|| {
        insta::glob!("../build", "*/main.ship", build_case);
    });
}

fn build_case(main: &Path) {
    let files = support::ship_files_under(main.parent().unwrap());
    let loader = support::loader_for(&files);
    let roots: Vec<String> = files.iter().map(|file| support::rel(file)).collect();
    let compilation = shipc::build(&roots, &loader);
    assert!(
        !compilation.has_errors(),
        "{}",
        support::render_diagnostics(&compilation)
    );
    let mut snapshot = support::render_outputs(&compilation);
    if !compilation.diagnostics.is_empty() {
        snapshot.push_str("----- DIAGNOSTICS\n");
        snapshot.push_str(&support::render_diagnostics(&compilation));
    }
    insta::assert_snapshot!(snapshot);
}
