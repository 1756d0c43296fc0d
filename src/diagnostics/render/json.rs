//! Diagnostics as JSON, for editors and CI annotations.
//!
//! The schema is ours and stable: `{"version": 1, "diagnostics": [...], "errors": N, "warnings": N}`,
//! one object per diagnostic with its code, severity, message, primary location, labels, help and notes.
//! Lines and columns count from 1; columns count characters.

use serde::Serialize;

use super::{Place, place};
use crate::diagnostics::{Diagnostic, Severity};
use crate::source::SourceMap;

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    name: &'static str,
    severity: &'static str,
    message: &'a str,
    #[serde(flatten)]
    location: Place<'a>,
    labels: Vec<JsonLabel<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    message: &'a str,
    primary: bool,
    #[serde(flatten)]
    location: Place<'a>,
}

/// The whole report as one JSON document followed by a newline.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let report = Report {
        version: 1,
        diagnostics: diagnostics
            .iter()
            .map(|diagnostic| JsonDiagnostic {
                code: diagnostic.code.as_str(),
                name: diagnostic.code.name(),
                severity: match diagnostic.severity() {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                message: &diagnostic.message,
                location: place(&diagnostic.primary, sources),
                labels: std::iter::once((&diagnostic.primary, true))
                    .chain(diagnostic.secondary.iter().map(|label| (label, false)))
                    .map(|(label, primary)| JsonLabel {
                        message: &label.message,
                        primary,
                        location: place(label, sources),
                    })
                    .collect(),
                help: diagnostic.help.as_deref(),
                notes: &diagnostic.notes,
            })
            .collect(),
        errors: diagnostics.iter().filter(|d| d.severity() == Severity::Error).count(),
        warnings: diagnostics.iter().filter(|d| d.severity() == Severity::Warning).count(),
    };
    let mut text = serde_json::to_string_pretty(&report)
        .unwrap_or_else(|error| format!("{{\"version\":1,\"error\":\"{error}\"}}"));
    text.push('\n');
    text
}
