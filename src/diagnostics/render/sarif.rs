//! Diagnostics as SARIF 2.1.0, the format GitHub code scanning uploads
//! (`github/codeql-action/upload-sarif`) and most CI dashboards read.
//!
//! One run, with every code shipc knows as a rule (so a rule's index never depends on what was found),
//! one result per diagnostic, secondary labels as related locations, and the help and notes appended
//! to the message, since SARIF viewers show little else. Paths are relative to the project root
//! (`%SRCROOT%`); columns count Unicode code points, as shipc's do.

use serde_json::{Value, json};

use super::place;
use crate::diagnostics::{Code, Diagnostic, Label, Severity};
use crate::source::SourceMap;

/// The whole log as one JSON document followed by a newline.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "name": code.name(),
                "shortDescription": { "text": code.summary() },
                "help": { "text": format!("Run `shipc explain {}` for an explanation with examples.", code.as_str()) },
                "defaultConfiguration": { "level": level(code.severity()) },
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|diagnostic| result(diagnostic, sources))
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "shipc",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "the project root" } } },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_else(|_| String::from("{}"));
    text.push('\n');
    text
}

fn result(diagnostic: &Diagnostic, sources: &SourceMap) -> Value {
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    for note in &diagnostic.notes {
        message.push_str(&format!("\nnote: {note}"));
    }
    let related: Vec<Value> = diagnostic
        .secondary
        .iter()
        .enumerate()
        .map(|(idx, label)| {
            let mut related = location(label, sources);
            if let Some(object) = related.as_object_mut() {
                object.insert("id".to_string(), json!(idx));
                object.insert("message".to_string(), json!({ "text": label.message }));
            }
            related
        })
        .collect();
    let rule_index = Code::ALL.iter().position(|code| *code == diagnostic.code);
    json!({
        "ruleId": diagnostic.code.as_str(),
        "ruleIndex": rule_index,
        "level": level(diagnostic.severity()),
        "message": { "text": message },
        "locations": [location(&diagnostic.primary, sources)],
        "relatedLocations": related,
    })
}

fn location(label: &Label, sources: &SourceMap) -> Value {
    let at = place(label, sources);
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri_path(at.file), "uriBaseId": "%SRCROOT%" },
            "region": {
                "startLine": at.line,
                "startColumn": at.column,
                "endLine": at.end_line,
                "endColumn": at.end_column,
            }
        }
    })
}

/// A relative path as a URI reference: everything but unreserved characters and `/` percent-encoded.
fn uri_path(path: &str) -> String {
    let mut uri = String::new();
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}
