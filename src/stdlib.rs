//! The standard library: modules written in `.ship`, embedded in the binary so that shipc works offline
//! and alone. A file imports them as `std/<name>`.

/// Every standard library module, by import path, sorted.
pub const MODULES: &[(&str, &str)] = &[
    ("std/checks", include_str!("../stdlib/checks.ship")),
    ("std/ci", include_str!("../stdlib/ci.ship")),
    ("std/slo", include_str!("../stdlib/slo.ship")),
];

/// The source of the standard library module imported as `path` (`std/ci`).
pub fn module(path: &str) -> Option<&'static str> {
    MODULES.iter().find_map(|(name, text)| (*name == path).then_some(*text))
}

/// The import paths of every module, for messages that list them.
pub fn module_paths() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_are_sorted_and_named_under_std() {
        let paths: Vec<&str> = module_paths().collect();
        let mut sorted = paths.clone();
        sorted.sort_unstable();
        assert_eq!(paths, sorted);
        assert!(
            paths
                .iter()
                .all(|path| path.starts_with("std/") && !path.ends_with(".ship"))
        );
    }

    #[test]
    fn every_module_checks_clean() {
        for path in module_paths() {
            let mut loader = crate::MemoryLoader::new();
            loader.insert("main.ship", format!("import \"{path}\" as module\n"));
            let compilation = crate::check(&["main.ship".to_string()], &loader);
            assert_eq!(compilation.diagnostics, Vec::new(), "{path}");
        }
    }
}
