//! The documentation keeps up with the compiler: every diagnostic code is listed in
//! `docs/diagnostics.md` and shown by a UI case (or, where no `.ship` text can trigger it, by a test
//! named here).

use std::collections::BTreeSet;

use shipc::Code;

use crate::support;

/// Codes no UI case can produce, with the test that covers each instead.
const COVERED_ELSEWHERE: &[(Code, &str)] = &[
    (
        Code::E0001,
        "an internal error is never reachable from input; the mutation tests assert it never appears",
    ),
    (
        Code::E0107,
        "invalid UTF-8 cannot be kept in a UI fixture; see cli::a_file_that_is_not_utf8_is_reported_where_it_breaks",
    ),
    (
        Code::E0108,
        "a file over 16 MiB does not belong in the repository; see hostile::a_100_mb_file_is_refused_without_being_read",
    ),
    (
        Code::E0530,
        "a malformed data file is not .ship text; see simulate::malformed_data_files_are_reported_where_they_break",
    ),
    (
        Code::E0531,
        "a missing data file is not .ship text; see simulate::a_metric_without_data_is_reported_at_its_analysis",
    ),
];

#[test]
fn every_code_is_documented() {
    let reference = std::fs::read_to_string(support::repo_root().join("docs/diagnostics.md")).unwrap();
    for code in Code::ALL {
        let row = format!("| `{}` | `{}` | {} |", code.as_str(), code.name(), code.summary());
        assert!(reference.contains(&row), "docs/diagnostics.md lacks the row:\n{row}");
    }
}

#[test]
fn every_code_has_a_ui_case() {
    let mut exercised = BTreeSet::new();
    for file in support::ship_files_under(&support::repo_root().join("tests/ui")) {
        let text = std::fs::read_to_string(&file).unwrap();
        if let Some(codes) = text.lines().next().and_then(|line| line.strip_prefix("// expect:")) {
            exercised.extend(codes.split_whitespace().map(str::to_string));
        }
    }
    let elsewhere: BTreeSet<&str> = COVERED_ELSEWHERE.iter().map(|(code, _)| code.as_str()).collect();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .map(|code| code.as_str())
        .filter(|code| !exercised.contains(*code) && !elsewhere.contains(code))
        .collect();
    assert!(missing.is_empty(), "codes without a UI case: {missing:?}");
}
