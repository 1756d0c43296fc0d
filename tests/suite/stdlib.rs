//! The standard library: every item it exports is used by a build case under tests/build, whose
//! snapshot pins the output and whose manifests CI validates against the real Argo and Kubernetes
//! schemas. That each module checks clean on its own is a unit test in src/stdlib.rs.

use std::collections::BTreeSet;

use shipc::MemoryLoader;
use shipc::diagnostics::Diagnostics;
use shipc::names::{self, Program};
use shipc::source::SourceMap;

use crate::support;

/// Loads `std_path` through an import, as a project would.
fn load(std_path: &str) -> (Program, Diagnostics) {
    let mut loader = MemoryLoader::new();
    loader.insert("main.ship", format!("import \"{std_path}\"\n"));
    let mut sources = SourceMap::new();
    let mut diagnostics = Diagnostics::new();
    let program = names::resolve(
        &["main.ship".to_string()],
        &loader,
        names::StdlibParse::Whole,
        &mut sources,
        &mut diagnostics,
    );
    (program, diagnostics)
}

#[test]
fn every_exported_item_is_used_by_a_build_case() {
    let cases: Vec<String> = support::ship_files_under(&support::repo_root().join("tests/build"))
        .iter()
        .map(|file| std::fs::read_to_string(file).unwrap())
        .collect();
    let mut unused = Vec::new();
    for std_path in shipc::stdlib::module_paths() {
        let (program, diagnostics) = load(std_path);
        assert!(diagnostics.is_empty(), "{std_path} does not load cleanly");
        let in_module = |module: names::ModuleId| program.module_path(module) == std_path;
        let exported: BTreeSet<&str> = (program.steps.iter())
            .filter(|s| in_module(s.module) && !s.decl.private)
            .map(|s| s.decl.name.name.as_str())
            .chain(
                (program.metrics.iter())
                    .filter(|m| in_module(m.module) && !m.decl.private)
                    .map(|m| m.decl.name.name.as_str()),
            )
            .chain(
                (program.checks.iter())
                    .filter(|c| in_module(c.module) && !c.decl.private)
                    .map(|c| c.decl.name.name.as_str()),
            )
            .collect();
        assert!(!exported.is_empty(), "{std_path} exports nothing");
        for item in exported {
            let used = cases.iter().any(|case| {
                aliases_of(case, std_path)
                    .iter()
                    .any(|alias| case.contains(&format!("{alias}.{item}(")))
            });
            if !used {
                unused.push(format!("{std_path}: {item}"));
            }
        }
    }
    assert!(unused.is_empty(), "stdlib items no build case uses: {unused:#?}");
}

/// The aliases under which `case` imports `std_path` (`import "std/ci" as ci`).
fn aliases_of(case: &str, std_path: &str) -> Vec<String> {
    let prefix = format!("import \"{std_path}\" as ");
    case.lines()
        .filter_map(|line| line.trim().strip_prefix(&prefix))
        .map(|alias| alias.trim().to_string())
        .collect()
}
