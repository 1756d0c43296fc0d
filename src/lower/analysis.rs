//! Analyses to AnalysisTemplates: checks to web and job metrics, rollback conditions to expr-lang.
//!
//! # Missing data rolls back
//!
//! A Prometheus query returns a vector, which Argo gives to the condition as `result` (a list of
//! floats). It may be empty (no series yet, a typo in a label) or hold NaN (`0/0` when there is no
//! traffic). Argo would read `result[0] > 0.01` on an empty result as an error, and on NaN as false,
//! so the rollback would silently never happen. shipc therefore emits a failure condition that counts
//! an empty result and a NaN sample as a failed measurement:
//!
//! ```text
//! len(result) == 0 || any(result, {isNaN(#) || # > 0.01})
//! ```
//!
//! and it checks every series the query returns, not only the first. `tolerate` absorbs the odd
//! missing scrape like any other failed sample.

use std::collections::BTreeSet;

use super::ir::{AnalysisMetric, AnalysisTemplate, Provider};
use crate::check::model::{self, Analysis, CheckKind, EnvValue, EnvVar, JsonValue, Predicate, Version};

/// The environment variable that gives a job check the base URL of the Service it checks.
pub const TARGET_ENV: &str = "TARGET";

/// Which Service an analysis reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Before promotion: the new version through the preview Service.
    Preview,
    /// After promotion: the new version through the active Service.
    Active,
    /// During a canary: the new version through the canary Service, which only its pods are behind.
    Canary,
}

/// The template `name` for one analysis of `service` deployed in `namespace`, or `None` when the
/// analysis measures nothing.
pub fn template(
    service: &model::Service,
    namespace: &str,
    analysis: &Analysis,
    name: String,
    target: Target,
) -> Option<AnalysisTemplate> {
    let origin = analysis.span?;
    if analysis.is_empty() {
        return None;
    }
    let service_name = match target {
        Target::Preview => super::preview_service_name(&service.name),
        Target::Active => super::active_service_name(&service.name),
        Target::Canary => super::canary_service_name(&service.name),
    };
    let base_url = service_url(&service_name, namespace);
    let mut names = UniqueNames::default();
    let checks = analysis.checks.iter().map(|check| {
        let (success_condition, provider) = check_provider(&check.kind, &base_url);
        AnalysisMetric {
            name: names.claim(&check.name),
            interval: None,
            count: 1,
            failure_limit: None,
            inconclusive_limit: None,
            consecutive_error_limit: None,
            initial_delay: None,
            success_condition,
            failure_condition: None,
            dry_run: false,
            unit: None,
            provider,
        }
    });
    let checks: Vec<AnalysisMetric> = checks.collect();
    let rules = analysis.rules.iter().map(|rule| {
        let (success_condition, failure_condition) = match rule.inconclusive {
            Some(_) => {
                let (success, failure) = conditions_pausing_without_data(&rule.failure);
                (Some(success), failure)
            }
            None => (None, failure_condition(&rule.failure)),
        };
        AnalysisMetric {
            name: names.claim(&rule.metric),
            interval: Some(rule.every.to_go()),
            count: rule.samples,
            failure_limit: Some(rule.tolerate),
            inconclusive_limit: rule.inconclusive,
            consecutive_error_limit: rule.consecutive_errors,
            initial_delay: rule.initial_delay.map(|delay| delay.to_go()),
            success_condition,
            failure_condition: Some(failure_condition),
            dry_run: rule.observe,
            unit: Some(rule.unit),
            provider: Provider::Prometheus {
                address: rule.address.clone(),
                query: rule.query.clone(),
            },
        }
    });
    let metrics: Vec<AnalysisMetric> = checks.into_iter().chain(rules).collect();
    Some(AnalysisTemplate {
        name,
        origin,
        versions: versions_selected(&metrics),
        namespace: metrics.iter().any(|metric| {
            matches!(&metric.provider, Provider::Prometheus { query, .. } if query.contains(model::NAMESPACE_PLACEHOLDER))
        }),
        metrics,
    })
}

/// The versions whose pod template hash some query selects: exactly the arguments the template
/// declares and the Rollout passes.
fn versions_selected(metrics: &[AnalysisMetric]) -> Vec<Version> {
    Version::ALL
        .into_iter()
        .filter(|version| {
            metrics.iter().any(|metric| {
                matches!(&metric.provider, Provider::Prometheus { query, .. } if query.contains(version.placeholder()))
            })
        })
        .collect()
}

/// The in-cluster base URL of a Service, which checks reach the service through.
pub fn service_url(service_name: &str, namespace: &str) -> String {
    format!("http://{service_name}.{namespace}.svc.cluster.local")
}

/// The container command of a job check: through a shell, so that `run` can use `$TARGET`, pipes
/// and `&&` as written.
pub fn job_command(run: &str) -> Vec<String> {
    vec!["/bin/sh".to_string(), "-c".to_string(), run.to_string()]
}

/// A check's provider against the Service at `base_url`, with the condition its one measurement must
/// meet, if any.
fn check_provider(kind: &CheckKind, base_url: &str) -> (Option<String>, Provider) {
    match kind {
        CheckKind::Http { path, json } => (
            json.as_ref()
                .map(|expected| format!("result == {}", expr_literal(&expected.value))),
            Provider::Web {
                url: format!("{base_url}{path}"),
                json_path: json.as_ref().map(|expected| format!("{{{}}}", expected.path)),
            },
        ),
        CheckKind::Job { image, run, timeout } => (
            None,
            Provider::Job {
                image: image.clone(),
                command: job_command(run),
                env: vec![EnvVar {
                    name: TARGET_ENV.to_string(),
                    value: EnvValue::Literal(base_url.to_string()),
                }],
                active_deadline_seconds: timeout.and_then(|timeout| timeout.whole_seconds()),
            },
        ),
    }
}

/// `value` as an expr-lang literal, comparable with what Argo decodes from a JSON answer.
pub fn expr_literal(value: &JsonValue) -> String {
    match value {
        JsonValue::String(text) => expr_string_quoted(text, '"'),
        JsonValue::Number(number) => number.to_string(),
        JsonValue::Bool(flag) => flag.to_string(),
    }
}

/// An expr-lang string literal between `quote`s (`'` or `"`). expr rejects a line break inside a
/// literal, so every control character is escaped.
pub fn expr_string_quoted(text: &str, quote: char) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push(quote);
    for c in text.chars() {
        match c {
            c if c == quote => {
                quoted.push('\\');
                quoted.push(c);
            }
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push(quote);
    quoted
}

/// Metric names: kebab-case, unique within a template (`latency`, `latency-2`, ...).
#[derive(Default)]
struct UniqueNames {
    taken: BTreeSet<String>,
}

impl UniqueNames {
    fn claim(&mut self, name: &str) -> String {
        let base = name.replace('_', "-");
        let mut candidate = base.clone();
        let mut n = 1;
        while self.taken.contains(&candidate) {
            n += 1;
            candidate = format!("{base}-{n}");
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

/// The success and failure conditions of a rule with `inconclusive`: a sample whose series all have
/// a value is judged by the predicate, and one without data (no series, or a NaN) meets neither
/// condition, which Argo counts as inconclusive and, past the limit, pauses the release for a person.
pub fn conditions_pausing_without_data(predicate: &Predicate) -> (String, String) {
    let body = condition_text(predicate, "#");
    (
        format!("len(result) > 0 && all(result, {{!isNaN(#) && !({body})}})"),
        format!("any(result, {{!isNaN(#) && ({body})}})"),
    )
}

/// The expr-lang failure condition for a predicate over one sample (`#`), with missing data failing.
pub fn failure_condition(predicate: &Predicate) -> String {
    let body = match predicate {
        Predicate::All(parts) if parts.len() > 1 => format!("({})", condition_text(predicate, "#")),
        _ => condition_text(predicate, "#"),
    };
    format!("len(result) == 0 || any(result, {{isNaN(#) || {body}}})")
}

/// The predicate as expr-lang about `subject` (`# > 0.01 || # < 0.001`), which also reads well to
/// people when the subject is the metric's name.
pub fn condition_text(predicate: &Predicate, subject: &str) -> String {
    match predicate {
        Predicate::Compare(op, value) => format!("{subject} {} {value}", op.as_str()),
        Predicate::All(parts) => join(parts, " && ", subject, |p| matches!(p, Predicate::Any(_))),
        Predicate::Any(parts) => join(parts, " || ", subject, |p| matches!(p, Predicate::All(_))),
    }
}

/// Joins parts with `op`, parenthesising those that `needs_parens` says would read ambiguously.
fn join(parts: &[Predicate], op: &str, subject: &str, needs_parens: fn(&Predicate) -> bool) -> String {
    parts
        .iter()
        .map(|part| {
            if needs_parens(part) {
                format!("({})", condition_text(part, subject))
            } else {
                condition_text(part, subject)
            }
        })
        .collect::<Vec<_>>()
        .join(op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::Decimal;
    use crate::syntax::ast::CompareOp;

    fn cmp(op: CompareOp, value: &str) -> Predicate {
        Predicate::Compare(op, Decimal::parse(value).unwrap())
    }

    #[test]
    fn conditions_fail_on_missing_data_and_any_series() {
        let cases = [
            (
                cmp(CompareOp::Greater, "0.01"),
                "len(result) == 0 || any(result, {isNaN(#) || # > 0.01})",
            ),
            (
                Predicate::All(vec![cmp(CompareOp::Greater, "1"), cmp(CompareOp::LessEqual, "10")]),
                "len(result) == 0 || any(result, {isNaN(#) || (# > 1 && # <= 10)})",
            ),
            (
                Predicate::Any(vec![
                    cmp(CompareOp::Less, "1"),
                    Predicate::All(vec![cmp(CompareOp::Greater, "5"), cmp(CompareOp::Less, "9")]),
                ]),
                "len(result) == 0 || any(result, {isNaN(#) || # < 1 || (# > 5 && # < 9)})",
            ),
        ];
        for (predicate, expected) in cases {
            assert_eq!(failure_condition(&predicate), expected);
        }
    }

    #[test]
    fn conditions_with_inconclusive_leave_missing_data_undecided() {
        let predicate = Predicate::Any(vec![cmp(CompareOp::Less, "1"), cmp(CompareOp::Greater, "5")]);
        assert_eq!(
            conditions_pausing_without_data(&predicate),
            (
                "len(result) > 0 && all(result, {!isNaN(#) && !(# < 1 || # > 5)})".to_string(),
                "any(result, {!isNaN(#) && (# < 1 || # > 5)})".to_string(),
            )
        );
    }

    #[test]
    fn expected_json_values_are_expr_literals() {
        let cases = [
            (JsonValue::String("UP".to_string()), r#""UP""#),
            (
                JsonValue::String("say \"hi\"\\\n\u{1}é".to_string()),
                r#""say \"hi\"\\\n\u0001é""#,
            ),
            (JsonValue::Number(Decimal::parse("-2.5").unwrap()), "-2.5"),
            (JsonValue::Bool(false), "false"),
        ];
        for (value, expected) in cases {
            assert_eq!(expr_literal(&value), expected);
        }
    }

    #[test]
    fn metric_names_are_kebab_case_and_unique() {
        let mut names = UniqueNames::default();
        let claimed: Vec<String> = ["error_rate", "latency", "latency", "latency-2"]
            .iter()
            .map(|n| names.claim(n))
            .collect();
        assert_eq!(claimed, ["error-rate", "latency", "latency-2", "latency-2-2"]);
    }
}
