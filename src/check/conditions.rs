//! `rollback when <condition> every .., samples .., tolerate ..`
//!
//! Argo Rollouts judges each metric of an analysis on its own and fails the analysis as soon as any
//! one metric fails: metrics are OR-ed. So a condition compiles to one Argo metric per distinct metric
//! call, whose failure condition is everything the rule says about that call; `and` may only join
//! comparisons of the same call (`latency(x) > 1s and latency(x) < 10s`). Thresholds are converted to
//! the metric's unit here, so `1%` is `0.01` from now on.

use super::Checker;
use super::metrics::ArgValue;
use super::model::{MetricRule, NAMESPACE_PLACEHOLDER, Predicate, Version};
use super::platform::Platform;
use super::units::{self, Duration, MetricUnit, ThresholdError};
use super::values::FirstSeen;
use crate::decimal::Decimal;
use crate::diagnostics::{Code, Diagnostic};
use crate::names::{MetricId, ModuleId, PlatformId};
use crate::source::Span;
use crate::syntax::ast::{Baseline, Comparison, Condition, Expr, Rollback, Threshold};

/// Defaults of the measurement options, documented in docs/language.md.
const DEFAULT_EVERY_MILLIS: u64 = 60_000;
const DEFAULT_SAMPLES: u32 = 5;
const MAX_SAMPLES: u64 = 10_000;

/// A metric call with its arguments: two calls with equal ones measure the same series.
type MetricCall = (MetricId, Vec<ArgValue>);

/// What one Argo metric measures: two comparisons on the same key share its query.
#[derive(Clone, Debug, PartialEq, Eq)]
enum MetricKey {
    /// One metric call, compared with literal thresholds.
    Call(MetricCall),
    /// One call compared with a multiple of another (`error_rate(new) > 1.5 * error_rate(stable)`),
    /// measured as one query: the difference, compared with zero.
    Relative {
        measured: MetricCall,
        factor: Decimal,
        baseline: MetricCall,
    },
}

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
    /// The service's platform, when it checked clean (job checks take its registry).
    pub platform: Option<&'a Platform>,
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

impl<'a> Prometheus<'a> {
    /// What the platform `id` says, given the platform if it checked clean.
    pub fn of(id: Option<PlatformId>, platform: Option<&'a Platform>) -> Prometheus<'a> {
        match (id, platform) {
            (
                Some(_),
                Some(Platform {
                    prometheus: Some(address),
                    ..
                }),
            ) => Prometheus::Address(address),
            (Some(id), Some(Platform { keyword, .. })) => Prometheus::NotDeclared {
                platform: id,
                keyword: *keyword,
            },
            _ => Prometheus::Unknown,
        }
    }
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
        let options = options?;
        let tolerate = options.tolerate;
        if let ([first, second, ..], Some(tolerate_span)) =
            (groups.as_slice(), options.tolerate_span.filter(|_| tolerate > 0))
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
                if let Some((_, _, span)) = groups.first() {
                    self.report_once_for_platform(
                        platform,
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
        for (key, mut predicates, span) in groups {
            let (id, query) = match &key {
                MetricKey::Call((id, args)) => (*id, self.render_query(*id, args)?),
                MetricKey::Relative {
                    measured: (id, args),
                    factor,
                    baseline: (baseline_id, baseline_args),
                } => {
                    let measured = self.render_query(*id, args)?;
                    let baseline = self.render_query(*baseline_id, baseline_args)?;
                    (*id, relative_query(&measured, *factor, &baseline))
                }
            };
            if stray_template(&query) {
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
            let name = match &key {
                MetricKey::Call(_) => name.to_string(),
                MetricKey::Relative { baseline, .. } if baseline.0 == id => format!("{name}_regression"),
                MetricKey::Relative { baseline, .. } => {
                    format!("{name}_vs_{}", self.metric_unit(baseline.0)?.2)
                }
            };
            let failure = if predicates.len() == 1 {
                predicates.pop()?
            } else {
                Predicate::Any(predicates)
            };
            rules.push(MetricRule {
                metric: name,
                span,
                query,
                address: address.to_string(),
                unit,
                failure,
                every: options.every,
                samples: options.samples,
                tolerate,
                inconclusive: options.inconclusive,
                consecutive_errors: options.consecutive_errors,
                initial_delay: options.initial_delay,
                observe: rule.observe,
            });
        }
        Some(rules)
    }

    /// The measurement options with their defaults.
    fn measure_options(&mut self, rule: &Rollback) -> Option<Measurement> {
        let mut every = None;
        let mut samples = None;
        let mut tolerate = None;
        let mut inconclusive = None;
        let mut consecutive_errors = None;
        let mut initial_delay = None;
        let mut ok = true;
        let mut seen = FirstSeen::default();
        for option in &rule.options {
            let key = option.key.name.as_str();
            if self.is_repeat(&mut seen, &option.key) {
                ok = false;
                continue;
            }
            let value = &option.value;
            let what = format!("`{key}`");
            let parsed = match key {
                "every" => match self.duration(value, &what) {
                    Some(duration) if duration.millis() >= 1000 => {
                        every = Some(duration);
                        true
                    }
                    Some(_) => {
                        self.report(
                            Diagnostic::new(Code::E0305, value.span, "`every` must be at least `1s`")
                                .label("too short to measure a metric over"),
                        );
                        false
                    }
                    None => false,
                },
                "initial_delay" => self
                    .duration(value, &what)
                    .map(|delay| initial_delay = Some(delay))
                    .is_some(),
                "samples" => self
                    .integer(value, &what, 1..=MAX_SAMPLES)
                    .map(|n| samples = Some((n as u32, value.span)))
                    .is_some(),
                "tolerate" => self
                    .integer(value, &what, 0..=MAX_SAMPLES)
                    .map(|n| tolerate = Some((n as u32, value.span)))
                    .is_some(),
                "inconclusive" => self
                    .integer(value, &what, 0..=MAX_SAMPLES)
                    .map(|n| inconclusive = Some((n as u32, value.span)))
                    .is_some(),
                _ => self
                    .integer(value, &what, 0..=MAX_SAMPLES)
                    .map(|n| consecutive_errors = Some(n as u32))
                    .is_some(),
            };
            ok &= parsed;
        }
        let n_samples = samples.map_or(DEFAULT_SAMPLES, |(n, _)| n);
        let samples_span = samples.map(|(_, span)| span);
        if let Some((n, span)) = tolerate.filter(|(n, _)| *n >= n_samples) {
            self.report(never_triggers(
                span,
                format!("tolerating {n} failed samples out of {n_samples} means this rule can never roll back"),
                "Argo fails the metric only when more than `tolerate` samples fail",
                n_samples,
                samples_span,
            ));
            ok = false;
        }
        if let Some((n, span)) = inconclusive.filter(|(n, _)| *n >= n_samples) {
            self.report(never_triggers(
                span,
                format!(
                    "tolerating {n} samples without data out of {n_samples} lets a release with no data at all pass"
                ),
                "Argo pauses the release only when more than `inconclusive` samples have no data",
                n_samples,
                samples_span,
            ));
            ok = false;
        }
        ok.then_some(Measurement {
            every: every.unwrap_or(Duration::from_millis(DEFAULT_EVERY_MILLIS)),
            samples: n_samples,
            tolerate: tolerate.map_or(0, |(n, _)| n),
            tolerate_span: tolerate.map(|(_, span)| span),
            inconclusive: inconclusive.map(|(n, _)| n),
            consecutive_errors,
            initial_delay,
        })
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
        let measured = self.metric_call(&comparison.metric, module);
        let threshold = match &comparison.threshold {
            Threshold::Literal(expr) => Ok(expr),
            Threshold::Metric(baseline) => Err((baseline, self.metric_call(&baseline.metric, module))),
        };
        let (id, args) = measured?;
        let (unit, unit_span, name) = self.metric_unit(id)?;
        let name = name.to_string();
        let (baseline, baseline_call) = match threshold {
            Ok(expr) => {
                return match units::convert_threshold(expr, unit) {
                    Ok(value) => Some((MetricKey::Call((id, args)), Predicate::Compare(comparison.op, value))),
                    Err(error) => {
                        self.threshold_error(expr, error, unit, unit_span, &name);
                        None
                    }
                };
            }
            Err((baseline, call)) => (baseline, call?),
        };
        let (baseline_unit, baseline_unit_span, baseline_name) = self.metric_unit(baseline_call.0)?;
        if baseline_unit != unit {
            let diagnostic = Diagnostic::new(
                Code::E0502,
                baseline.metric.span,
                format!(
                    "`{name}` {} and cannot be compared with `{baseline_name}`, which {}",
                    unit_words(unit),
                    unit_words(baseline_unit)
                ),
            )
            .label(format!("a `{}` metric", baseline_unit.name()))
            .secondary(unit_span, format!("`{name}` is declared as `{}` here", unit.name()))
            .secondary(
                baseline_unit_span,
                format!("`{baseline_name}` is declared as `{}` here", baseline_unit.name()),
            )
            .help("compare a metric with another of the same unit, usually the same metric of the stable version");
            self.report(diagnostic);
            return None;
        }
        let factor = self.factor(baseline)?;
        if (id, &args) == (baseline_call.0, &baseline_call.1) {
            self.report(
                Diagnostic::new(
                    Code::E0305,
                    comparison.span,
                    format!("`{name}` is compared with itself"),
                )
                .label("both sides measure the same series")
                .help(format!(
                    "compare the new version with the stable one, e.g. `{name}(.., version: new) > 1.5 * {name}(.., version: stable)`"
                )),
            );
            return None;
        }
        Some((
            MetricKey::Relative {
                measured: (id, args),
                factor,
                baseline: baseline_call,
            },
            Predicate::Compare(comparison.op, Decimal::ZERO),
        ))
    }

    /// The factor of `factor * metric(..)`: a positive number (1 when left out).
    fn factor(&mut self, baseline: &Baseline) -> Option<Decimal> {
        let Some((factor, span)) = baseline.factor else {
            return Some(Decimal::from_int(1));
        };
        if factor.is_negative() || factor == Decimal::ZERO {
            self.report(
                Diagnostic::new(Code::E0305, span, format!("the factor `{factor}` is not positive"))
                    .label("must be greater than 0")
                    .help(
                        "a relative threshold scales the baseline, e.g. `1.5 * error_rate(checkout, version: stable)`",
                    ),
            );
            return None;
        }
        Some(factor)
    }

    fn threshold_error(
        &mut self,
        threshold: &Expr,
        error: ThresholdError,
        unit: MetricUnit,
        unit_span: Span,
        name: &str,
    ) {
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

/// How a rule samples its metrics.
struct Measurement {
    every: Duration,
    samples: u32,
    tolerate: u32,
    tolerate_span: Option<Span>,
    inconclusive: Option<u32>,
    consecutive_errors: Option<u32>,
    initial_delay: Option<Duration>,
}

/// A limit as large as the number of samples, which makes the rule pass whatever happens.
fn never_triggers(span: Span, message: String, note: &str, samples: u32, samples_span: Option<Span>) -> Diagnostic {
    let mut diagnostic = Diagnostic::new(Code::E0506, span, message)
        .label("as many as there are samples")
        .help(format!(
            "allow at most {} of them, or take more samples",
            samples.saturating_sub(1)
        ))
        .note(note);
    if let Some(samples_span) = samples_span {
        diagnostic = diagnostic.secondary(samples_span, format!("{samples} samples"));
    }
    diagnostic
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

/// `measured op factor × baseline` as one query, `measured - factor × baseline`, so that Argo compares
/// one number with zero. `on()` matches the two sides whatever labels each keeps; a side that returns
/// several series makes the query fail, which Argo counts as an error rather than a pass.
fn relative_query(measured: &str, factor: Decimal, baseline: &str) -> String {
    if factor == Decimal::from_int(1) {
        format!("({measured}) - on() ({baseline})")
    } else {
        format!("({measured}) - on() ({factor} * ({baseline}))")
    }
}

/// Whether the query holds a `{{` other than the arguments shipc itself puts in
/// (`{{args.new-hash}}`, `{{args.namespace}}`), or a `{` just before one, which would make Argo read
/// `{{{args..`.
fn stray_template(query: &str) -> bool {
    let mut rest = query.replace(NAMESPACE_PLACEHOLDER, "\u{1}");
    for version in Version::ALL {
        rest = rest.replace(version.placeholder(), "\u{1}");
    }
    rest.contains("{{") || rest.contains("{\u{1}")
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
