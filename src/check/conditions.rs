//! `rollback when <condition> every .., samples .., tolerate ..`
//!
//! Argo Rollouts judges each metric of an analysis on its own and fails the analysis as soon as any
//! one metric fails: metrics are OR-ed. So a condition compiles to one Argo metric per distinct metric
//! call, whose failure condition is everything the rule says about that call; `and` may only join
//! comparisons of the same call (`latency(x) > 1s and latency(x) < 10s`). Thresholds are converted to
//! the metric's unit here, so `1%` is `0.01` from now on.

use super::Checker;
use super::metrics::ArgValue;
use super::model::{MetricRule, Predicate};
use super::units::{self, Duration, MetricUnit, ThresholdError};
use super::values::FirstSeen;
use crate::diagnostics::{Code, Diagnostic};
use crate::names::{MetricId, ModuleId, PlatformId};
use crate::source::Span;
use crate::syntax::ast::{Comparison, Condition, Rollback};

/// Defaults of the measurement options, documented in docs/language.md.
const DEFAULT_EVERY_MILLIS: u64 = 60_000;
const DEFAULT_SAMPLES: u32 = 5;
const MAX_SAMPLES: u64 = 10_000;

/// A metric call with its arguments: two comparisons on the same key measure the same series.
type MetricKey = (MetricId, Vec<ArgValue>);

/// The metrics a part of a condition is about.
enum Keys {
    /// Unknown: a comparison in it had an error (already reported).
    Unknown,
    /// One metric call.
    One(MetricKey, Span),
    /// An `or` of two different metric calls, allowed only at the top.
    Mixed(Span, Span),
    /// An `and` of different metric calls, already reported.
    Conflict,
}

struct Part {
    keys: Keys,
    predicate: Option<Predicate>,
}

/// Where the rule's metrics come from.
pub struct RuleContext<'a> {
    /// The module the rule is written in, to resolve names.
    pub module: ModuleId,
    /// The Prometheus the queries go to.
    pub prometheus: Prometheus<'a>,
}

/// What the service's platform says about Prometheus.
#[derive(Clone, Copy)]
pub enum Prometheus<'a> {
    /// The platform's address.
    Address(&'a str),
    /// The platform checked clean but has no `prometheus` field.
    NotDeclared { platform: PlatformId, keyword: Span },
    /// There is no usable platform, which was reported where it is missing or wrong.
    Unknown,
}

impl Checker<'_> {
    /// Checks one rule and returns one [`MetricRule`] per metric it watches.
    pub(super) fn rollback(&mut self, rule: &Rollback, context: &RuleContext<'_>) -> Option<Vec<MetricRule>> {
        let options = self.measure_options(rule);
        let mut disjuncts = Vec::new();
        flatten_or(&rule.condition, &mut disjuncts);
        let mut groups: Vec<(MetricKey, Vec<Predicate>, Span)> = Vec::new();
        let mut ok = true;
        for disjunct in disjuncts {
            let part = self.part(disjunct, context.module);
            match (part.keys, part.predicate) {
                (Keys::One(key, span), Some(predicate)) => match groups.iter_mut().find(|(k, _, _)| *k == key) {
                    Some((_, predicates, _)) => predicates.push(predicate),
                    None => groups.push((key, vec![predicate], span)),
                },
                _ => ok = false,
            }
        }
        let (every, samples, tolerate, tolerate_span) = options?;
        if let ([first, second, ..], Some(tolerate_span)) = (groups.as_slice(), tolerate_span.filter(|_| tolerate > 0))
        {
            self.report(
                Diagnostic::new(
                    Code::E0512,
                    tolerate_span,
                    format!("`tolerate {tolerate}` is ambiguous on a rule that watches {} metrics", groups.len()),
                )
                .label("would apply to each metric on its own")
                .secondary(first.2, "one metric")
                .secondary(second.2, "another metric")
                .help("write one `rollback when` rule per metric, each with its own `tolerate`")
                .note("Argo counts failed samples per metric, so together the metrics could fail more often than `tolerate` says"),
            );
            return None;
        }
        let address = match context.prometheus {
            Prometheus::Address(address) => address,
            Prometheus::NotDeclared { platform, keyword } => {
                if let Some((_, _, span)) = groups.first()
                    && self.first_use_without_prometheus(platform)
                {
                    self.report(
                        Diagnostic::new(Code::E0510, *span, "this metric needs a Prometheus address")
                            .label("measured with Prometheus")
                            .secondary(keyword, "this platform has no `prometheus`")
                            .help("add `prometheus = \"http://prometheus.monitoring.svc.cluster.local:9090\"` to the platform")
                            .note("reported once for the platform, at the first metric that needs it"),
                    );
                }
                return None;
            }
            Prometheus::Unknown => return None,
        };
        if !ok {
            return None;
        }
        let mut rules = Vec::new();
        for ((id, args), mut predicates, span) in groups {
            let query = self.render_query(id, &args)?;
            if query.contains("{{") {
                self.report(
                    Diagnostic::new(Code::E0508, span, "the query contains `{{` once the arguments are filled in")
                        .label("an argument makes `{{` here")
                        .help("change the argument so that no `{{` appears in the query")
                        .note("Argo substitutes `{{...}}` in analysis queries when a release runs, so a literal `{{` cannot be passed through"),
                );
                return None;
            }
            // The template was parsed with stand-ins; an argument written outside quotes in the query
            // (a name with `-`, a duration like `1.5m`) can still break it, so the real query is
            // parsed too.
            if let Err(error) = crate::promql::parse(&query) {
                let (_, _, name) = self.metric_unit(id)?;
                self.report(
                    Diagnostic::new(
                        Code::E0513,
                        span,
                        format!("with these arguments, the query of `{name}` is not valid PromQL: {}", error.message),
                    )
                    .label("the arguments make the query invalid")
                    .note(format!("the query would be: {query}"))
                    .help("pass arguments that fit where the query uses them, or quote the `${...}` in the query so it is a string"),
                );
                return None;
            }
            let (unit, _, name) = self.metric_unit(id)?;
            let failure = if predicates.len() == 1 {
                predicates.pop()?
            } else {
                Predicate::Any(predicates)
            };
            rules.push(MetricRule {
                metric: name.to_string(),
                span,
                query,
                address: address.to_string(),
                unit,
                failure,
                every,
                samples,
                tolerate,
            });
        }
        Some(rules)
    }

    /// `every`, `samples`, `tolerate`, with their defaults, and where `tolerate` is written.
    fn measure_options(&mut self, rule: &Rollback) -> Option<(Duration, u32, u32, Option<Span>)> {
        let mut every = None;
        let mut samples = None;
        let mut tolerate = None;
        let mut ok = true;
        let mut seen = FirstSeen::default();
        for option in &rule.options {
            let key = option.key.name.as_str();
            if self.is_repeat(&mut seen, &option.key) {
                ok = false;
                continue;
            }
            let value = &option.value;
            match key {
                "every" => match self.duration(value, "`every`") {
                    Some(duration) if duration.millis() >= 1000 => every = Some((duration, value.span)),
                    Some(_) => {
                        self.report(
                            Diagnostic::new(Code::E0305, value.span, "`every` must be at least `1s`")
                                .label("too short to measure a metric over"),
                        );
                        ok = false;
                    }
                    None => ok = false,
                },
                "samples" => match self.integer(value, "`samples`", 1..=MAX_SAMPLES) {
                    Some(n) => samples = Some((n as u32, value.span)),
                    None => ok = false,
                },
                _ => match self.integer(value, "`tolerate`", 0..=MAX_SAMPLES) {
                    Some(n) => tolerate = Some((n as u32, value.span)),
                    None => ok = false,
                },
            }
        }
        let every = every.map_or(Duration::from_millis(DEFAULT_EVERY_MILLIS), |(d, _)| d);
        let n_samples = samples.map_or(DEFAULT_SAMPLES, |(n, _)| n);
        let n_tolerated = tolerate.map_or(0, |(n, _)| n);
        if let Some((_, span)) = tolerate.filter(|(n, _)| *n >= n_samples) {
            let mut diagnostic = Diagnostic::new(
                Code::E0506,
                span,
                format!(
                    "tolerating {n_tolerated} failed samples out of {n_samples} means this rule can never roll back"
                ),
            )
            .label("as many as there are samples")
            .help(format!(
                "tolerate at most {} failed samples, or take more samples",
                n_samples.saturating_sub(1)
            ))
            .note("Argo fails the metric only when more than `tolerate` samples fail");
            if let Some((_, samples_span)) = samples {
                diagnostic = diagnostic.secondary(samples_span, format!("{n_samples} samples"));
            }
            self.report(diagnostic);
            ok = false;
        }
        ok.then_some((every, n_samples, n_tolerated, tolerate.map(|(_, span)| span)))
    }

    /// Checks a part of a condition below the top-level `or`s.
    fn part(&mut self, condition: &Condition, module: ModuleId) -> Part {
        match condition {
            Condition::Compare(comparison) => match self.comparison(comparison, module) {
                Some((key, predicate)) => Part {
                    keys: Keys::One(key, comparison.metric.span),
                    predicate: Some(predicate),
                },
                None => Part {
                    keys: Keys::Unknown,
                    predicate: None,
                },
            },
            Condition::And(left, right, op) => {
                let (left, right) = (self.part(left, module), self.part(right, module));
                let keys = match (left.keys, right.keys) {
                    (Keys::Conflict, _) | (_, Keys::Conflict) => Keys::Conflict,
                    (Keys::Mixed(a, b), _) | (_, Keys::Mixed(a, b)) => {
                        self.report(and_across_metrics(*op, a, b));
                        Keys::Conflict
                    }
                    (Keys::One(a, a_span), Keys::One(b, b_span)) if a != b => {
                        self.report(and_across_metrics(*op, a_span, b_span));
                        Keys::Conflict
                    }
                    (Keys::One(key, span), _) | (_, Keys::One(key, span)) => Keys::One(key, span),
                    (Keys::Unknown, Keys::Unknown) => Keys::Unknown,
                };
                Part {
                    keys,
                    predicate: combine(left.predicate, right.predicate, Predicate::All),
                }
            }
            Condition::Or(left, right, _) => {
                let (left, right) = (self.part(left, module), self.part(right, module));
                let keys = match (left.keys, right.keys) {
                    (Keys::Conflict, _) | (_, Keys::Conflict) => Keys::Conflict,
                    (Keys::Mixed(a, b), _) | (_, Keys::Mixed(a, b)) => Keys::Mixed(a, b),
                    (Keys::One(a, a_span), Keys::One(b, b_span)) if a != b => Keys::Mixed(a_span, b_span),
                    (Keys::One(key, span), _) | (_, Keys::One(key, span)) => Keys::One(key, span),
                    (Keys::Unknown, Keys::Unknown) => Keys::Unknown,
                };
                Part {
                    keys,
                    predicate: combine(left.predicate, right.predicate, Predicate::Any),
                }
            }
        }
    }

    /// One comparison: the metric it is about and its threshold in the metric's unit.
    fn comparison(&mut self, comparison: &Comparison, module: ModuleId) -> Option<(MetricKey, Predicate)> {
        let (id, args) = self.metric_call(&comparison.metric, module)?;
        let (unit, unit_span, name) = self.metric_unit(id)?;
        let name = name.to_string();
        match units::convert_threshold(&comparison.threshold, unit) {
            Ok(value) => Some(((id, args), Predicate::Compare(comparison.op, value))),
            Err(error) => {
                self.threshold_error(comparison, error, unit, unit_span, &name);
                None
            }
        }
    }

    fn threshold_error(
        &mut self,
        comparison: &Comparison,
        error: ThresholdError,
        unit: MetricUnit,
        unit_span: Span,
        name: &str,
    ) {
        let threshold = &comparison.threshold;
        let literal = units::literal_text(threshold).unwrap_or_default();
        let diagnostic = match error {
            ThresholdError::WrongUnit { found, help } => Diagnostic::new(
                Code::E0502,
                threshold.span,
                format!("`{name}` {} and cannot be compared with {found}", unit_words(unit)),
            )
            .label(found)
            .secondary(unit_span, format!("`{name}` is declared as `{}` here", unit.name()))
            .help(help),
            ThresholdError::MissingUnit(suggestion) => Diagnostic::new(
                Code::E0301,
                threshold.span,
                format!("`{name}` {}, but `{literal}` has no unit", unit_words(unit)),
            )
            .label("this number has no unit")
            .secondary(unit_span, format!("`{name}` is declared as `{}` here", unit.name()))
            .help(format!("write `{suggestion}`")),
            ThresholdError::OutOfRange(reason) => Diagnostic::new(
                Code::E0305,
                threshold.span,
                format!("the threshold `{literal}` is out of range for `{name}`"),
            )
            .label(reason)
            .secondary(unit_span, format!("`{name}` is declared as `{}` here", unit.name())),
            ThresholdError::Unit(error) => {
                self.unit_error(threshold, "the threshold", "a duration", error);
                return;
            }
        };
        self.report(diagnostic);
    }
}

/// What a metric is, as the predicate of a sentence about it.
fn unit_words(unit: MetricUnit) -> &'static str {
    match unit {
        MetricUnit::Ratio => "is a ratio",
        MetricUnit::Seconds => "is measured in seconds",
        MetricUnit::Count => "is a count",
        MetricUnit::Percent => "is a percentage",
        MetricUnit::Bytes => "is measured in bytes",
        MetricUnit::PerSecond => "is a rate per second",
    }
}

fn and_across_metrics(op: Span, left: Span, right: Span) -> Diagnostic {
    Diagnostic::new(Code::E0503, op, "`and` joins conditions on two different metrics")
        .label("Argo cannot require two metrics to fail together")
        .secondary(left, "one metric")
        .secondary(right, "another metric")
        .help("use `or` to roll back when either fails, or write one metric whose query combines both")
        .note(
            "Argo Rollouts judges each metric of an analysis on its own and fails the release as soon as any one fails",
        )
}

fn flatten_or<'c>(condition: &'c Condition, out: &mut Vec<&'c Condition>) {
    match condition {
        Condition::Or(left, right, _) => {
            flatten_or(left, out);
            flatten_or(right, out);
        }
        other => out.push(other),
    }
}

/// Joins two predicates under `make` (`All` or `Any`), flattening nested ones of the same kind.
fn combine(
    left: Option<Predicate>,
    right: Option<Predicate>,
    make: fn(Vec<Predicate>) -> Predicate,
) -> Option<Predicate> {
    let (left, right) = (left?, right?);
    let mut parts = Vec::new();
    for predicate in [left, right] {
        match (predicate, make(Vec::new())) {
            (Predicate::All(inner), Predicate::All(_)) | (Predicate::Any(inner), Predicate::Any(_)) => {
                parts.extend(inner)
            }
            (other, _) => parts.push(other),
        }
    }
    Some(make(parts))
}
