//! `check` declarations in releases and pipelines: an HTTP GET (`http_get`), with an optional value its
//! JSON answer must hold, or a container run to completion (`job`). A check that calls anything else
//! uses a check definition (`check_defs.rs`).

use std::ops::Range;

use super::Checker;
use super::args::ParamSpec;
use super::model::{Check, CheckKind, JsonExpectation, JsonValue};
use super::platform::Platform;
use super::units::Duration;
use crate::decimal::Decimal;
use crate::diagnostics::{Code, Diagnostic};
use crate::names::ModuleId;
use crate::source::Span;
use crate::syntax::ast::{self, Call, Expr, ExprKind, StrLit, StrPart};

/// The built-in checks; a check definition runs one of them.
pub const CHECK_KINDS: &[&str] = &["http_get", "job"];

/// Argo decodes a JSON answer into 64-bit floats, which hold every integer exactly only up to 2^53;
/// past that, two different numbers could compare equal.
const LARGEST_EXACT_NUMBER: i128 = 1 << 53;

/// True when `probe` calls a built-in check rather than a check definition.
pub fn is_builtin(probe: &Call) -> bool {
    matches!(&*probe.callee, [name] if CHECK_KINDS.contains(&name.name.as_str()))
}

impl Checker<'_> {
    /// One `check name = ...` written in `module`.
    pub(super) fn check(&mut self, check: &ast::Check, module: ModuleId, platform: Option<&Platform>) -> Option<Check> {
        Some(Check {
            name: check.name.name.clone(),
            span: check.span,
            kind: self.check_kind(&check.probe, module, platform)?,
        })
    }

    /// What a check written in `module` does: `http_get(...)`, `job(...)`, or what the check definition
    /// it names does with its arguments.
    pub(super) fn check_kind(
        &mut self,
        probe: &Call,
        module: ModuleId,
        platform: Option<&Platform>,
    ) -> Option<CheckKind> {
        if is_builtin(probe) {
            self.builtin_check(probe, platform)
        } else {
            self.check_def_use(probe, module, platform)
        }
    }

    /// A call of `http_get` or `job`.
    pub(super) fn builtin_check(&mut self, probe: &Call, platform: Option<&Platform>) -> Option<CheckKind> {
        match probe.callee_name().as_str() {
            "http_get" => self.http_check(probe),
            "job" => self.job_check(probe, platform),
            // Callers pass built-in calls only: anything else was reported where it was written.
            _ => None,
        }
    }

    /// `http_get(path, expect: 200)` or `http_get(path, json_path: "$.status", expect: "UP")`.
    fn http_check(&mut self, probe: &Call) -> Option<CheckKind> {
        let params = [
            ParamSpec::required("path"),
            ParamSpec::optional("expect"),
            ParamSpec::optional("json_path"),
        ];
        let args = self.bind_args(probe, &params, "http_get")?;
        let [path_expr, expect, json_path] = args.as_slice() else {
            return None;
        };
        let path_expr = (*path_expr)?;
        let path = self.http_path(path_expr);
        if let ExprKind::Str(literal) = &path_expr.kind {
            self.reject_argo_templates(literal, "the path");
        }
        let json = match (json_path, expect) {
            (Some(json_path), Some(expect)) => {
                let json_path = self.json_path(json_path);
                let value = self.json_value(expect);
                Some(JsonExpectation {
                    path: json_path?,
                    value: value?,
                })
            }
            (Some(json_path), None) => {
                self.report(
                    Diagnostic::new(Code::E0212, json_path.span, "`json_path` needs `expect`")
                        .label("nothing says what the value here must be")
                        .help("add the value it must hold, e.g. `expect: \"UP\"`"),
                );
                return None;
            }
            (None, Some(expect)) => {
                self.expected_status(expect)?;
                None
            }
            (None, None) => None,
        };
        Some(CheckKind::Http { path: path?, json })
    }

    /// `expect` without `json_path`: a status, which only `200` can be.
    fn expected_status(&mut self, expect: &Expr) -> Option<()> {
        if matches!(expect.kind, ExprKind::Str(_) | ExprKind::Bool(_)) {
            self.report(
                Diagnostic::new(
                    Code::E0302,
                    expect.span,
                    format!(
                        "`expect` without `json_path` is an HTTP status, found {}",
                        super::units::describe_kind(expect)
                    ),
                )
                .label("expected a status such as `200`")
                .help("to compare a value of the JSON answer, add where it is: `json_path: \"$.status\"`"),
            );
            return None;
        }
        let status = self.integer(expect, "`expect`", 100..=599)?;
        if status != 200 {
            self.report(
                Diagnostic::new(Code::E0507, expect.span, format!("an HTTP check cannot require status {status}"))
                    .label("only `200` can be expected")
                    .help("write `expect: 200`, or leave `expect` out")
                    .note("Argo's web metric counts any 2xx response as a pass and any other status as an error, so no other status can be told apart"),
            );
            return None;
        }
        Some(())
    }

    /// A JSON path in the subset Argo's reader and shipc agree on: `$`, then `.key` and `[index]`.
    fn json_path(&mut self, expr: &Expr) -> Option<String> {
        let path = self.plain_string(expr, "`json_path`")?;
        let ExprKind::Str(literal) = &expr.kind else {
            return None;
        };
        let Some((at, problem)) = json_path_problem(&path) else {
            return Some(path);
        };
        self.report(
            Diagnostic::new(
                Code::E0515,
                span_in(literal, at),
                format!("`{path}` is not a JSON path shipc accepts"),
            )
            .label(problem)
            .help("write `$` followed by keys and indexes, such as `$.status` or `$.checks[0].status`"),
        );
        None
    }

    /// The value `expect` compares with when `json_path` is given.
    fn json_value(&mut self, expr: &Expr) -> Option<JsonValue> {
        match &expr.kind {
            ExprKind::Str(literal) => {
                let text = self.plain_string(expr, "`expect`")?;
                // The value is written into Argo's condition, which Argo templates like every string.
                self.reject_argo_templates(literal, "`expect`")
                    .then_some(JsonValue::String(text))
            }
            ExprKind::Number(number) => {
                let limit = Decimal::from_int(LARGEST_EXACT_NUMBER);
                if *number > limit || *number < Decimal::from_int(-LARGEST_EXACT_NUMBER) {
                    self.report(
                        Diagnostic::new(Code::E0305, expr.span, "`expect` is too large to compare exactly")
                            .label(format!(
                                "JSON numbers are compared as 64-bit floats, exact up to {limit}"
                            ))
                            .help("compare a string instead, if the answer can hold the number as one"),
                    );
                    return None;
                }
                Some(JsonValue::Number(*number))
            }
            ExprKind::Bool(flag) => Some(JsonValue::Bool(*flag)),
            _ => {
                self.mismatch(expr, "`expect` with `json_path`", "a string, a number or a boolean");
                None
            }
        }
    }

    /// `job(image, run: "...", timeout: 5m)`.
    fn job_check(&mut self, probe: &Call, platform: Option<&Platform>) -> Option<CheckKind> {
        let params = [
            ParamSpec::required("image"),
            ParamSpec::required("run"),
            ParamSpec::optional("timeout"),
        ];
        let args = self.bind_args(probe, &params, "job")?;
        let [Some(image), Some(run), timeout] = args.as_slice() else {
            return None;
        };
        let image = self.image(image, platform);
        let run = self.job_script(run);
        let timeout = match timeout {
            Some(timeout) => Some(self.job_timeout(timeout)?),
            None => None,
        };
        Some(CheckKind::Job {
            image: image?,
            run: run?,
            timeout,
        })
    }

    /// The shell script of a job: not empty, and nothing Argo would template.
    fn job_script(&mut self, expr: &Expr) -> Option<String> {
        let run = self.plain_string(expr, "`run`")?;
        let ExprKind::Str(literal) = &expr.kind else {
            return None;
        };
        if !self.reject_argo_templates(literal, "`run`") {
            return None;
        }
        if run.trim().is_empty() {
            self.report(
                Diagnostic::new(Code::E0305, expr.span, "`run` is empty")
                    .label("a job check needs a command")
                    .help("write the shell command that must succeed, e.g. `run: \"curl -fsS $TARGET/healthz\"`"),
            );
            return None;
        }
        Some(run)
    }

    /// A job's `timeout`, which Kubernetes holds in whole seconds and must be positive.
    fn job_timeout(&mut self, expr: &Expr) -> Option<Duration> {
        let timeout = self.whole_seconds(expr, "`timeout`")?;
        if timeout.millis() == 0 {
            self.report(
                Diagnostic::new(Code::E0305, expr.span, "`timeout` is zero")
                    .label("the job would be stopped before it starts")
                    .help("write how long the job may run, e.g. `timeout: 5m`, or leave `timeout` out"),
            );
            return None;
        }
        Some(timeout)
    }
}

/// Where `path` leaves the accepted subset (`$` followed by `.key` and `[index]` steps, keys of
/// letters, digits, `_` and `-`), as a byte range of it, and what is wrong there.
fn json_path_problem(path: &str) -> Option<(Range<usize>, &'static str)> {
    let char_at = |at: usize| path.get(at..).and_then(|rest| rest.chars().next());
    let one_char = |at: usize| at..at + char_at(at).map_or(0, char::len_utf8);
    if char_at(0) != Some('$') {
        return Some((one_char(0), "a JSON path starts with `$`"));
    }
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut at = 1;
    while let Some(c) = char_at(at) {
        match c {
            '.' => {
                let key_len = path
                    .get(at + 1..)
                    .map_or(0, |rest| rest.len() - rest.trim_start_matches(is_key_char).len());
                if key_len == 0 {
                    let problem = match char_at(at + 1) {
                        Some('.') => "recursive descent (`..`) is not supported",
                        Some('*') => "wildcards are not supported",
                        None => "expected a key after `.`",
                        Some(_) => "a key has only letters, digits, `_` and `-`",
                    };
                    return Some((at..one_char(at + 1).end.max(at + 1), problem));
                }
                at += 1 + key_len;
            }
            '[' => {
                let rest = path.get(at + 1..).unwrap_or("");
                let close = rest.find(']');
                let end = close.map_or(path.len(), |close| at + close + 2);
                let inside = close.and_then(|close| rest.get(..close)).unwrap_or(rest);
                let problem = if close.is_none() {
                    "this `[` is not closed"
                } else if inside.is_empty() || !inside.bytes().all(|b| b.is_ascii_digit()) {
                    match inside.chars().next() {
                        Some('*') => "wildcards are not supported",
                        Some('?') => "filters are not supported",
                        Some('-') => "negative indexes are not supported",
                        Some('\'' | '"') => "write a key as `.key`",
                        _ => "expected an index such as `[0]`",
                    }
                } else if inside.parse::<u32>().is_err() {
                    "this index is too large"
                } else {
                    at = end;
                    continue;
                };
                return Some((at..end, problem));
            }
            _ => return Some((one_char(at), "expected `.key` or `[index]`")),
        }
    }
    None
}

/// The source span of a byte range of a literal without interpolations. A literal a check definition
/// put together from its text and a use's argument has several pieces, each with its own place.
fn span_in(literal: &StrLit, range: Range<usize>) -> Span {
    let mut piece_start = 0;
    for part in &literal.parts {
        let StrPart::Text(piece) = part else { break };
        let piece_end = piece_start + piece.text.len();
        if range.start < piece_end {
            return piece.span_of(range.start - piece_start, range.end.min(piece_end) - piece_start);
        }
        piece_start = piece_end;
    }
    match literal.parts.last() {
        Some(StrPart::Text(piece)) => piece.span_of(piece.text.len(), piece.text.len()),
        _ => literal.span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_of_keys_and_indexes_are_accepted() {
        for path in [
            "$",
            "$.status",
            "$.a.b",
            "$.checks[0].status",
            "$[2]",
            "$.a_b-c.D9",
            "$.2xx",
        ] {
            assert_eq!(json_path_problem(path), None, "{path}");
        }
    }

    #[test]
    fn json_path_problems_point_at_their_characters() {
        let cases = [
            ("", 0..0, "a JSON path starts with `$`"),
            ("status", 0..1, "a JSON path starts with `$`"),
            (".status", 0..1, "a JSON path starts with `$`"),
            ("$.", 1..2, "expected a key after `.`"),
            ("$..status", 1..3, "recursive descent (`..`) is not supported"),
            ("$.items.*", 7..9, "wildcards are not supported"),
            ("$.a b", 3..4, "expected `.key` or `[index]`"),
            ("$.é", 1..4, "a key has only letters, digits, `_` and `-`"),
            ("$.items[*].ok", 7..10, "wildcards are not supported"),
            ("$.items[?(@.ok)]", 7..16, "filters are not supported"),
            ("$.items[-1]", 7..11, "negative indexes are not supported"),
            ("$['status']", 1..11, "write a key as `.key`"),
            ("$.items[]", 7..9, "expected an index such as `[0]`"),
            ("$.items[0", 7..9, "this `[` is not closed"),
            ("$.items[99999999999]", 7..20, "this index is too large"),
            ("$status", 1..2, "expected `.key` or `[index]`"),
        ];
        for (path, range, problem) in cases {
            assert_eq!(json_path_problem(path), Some((range, problem)), "{path}");
        }
    }
}
