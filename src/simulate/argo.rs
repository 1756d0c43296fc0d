//! One AnalysisRun as Argo Rollouts v1.9 runs it (`analysis/analysis.go`, `utils/evaluate`): when each
//! metric is measured, how a measurement is judged, when a metric and the run complete, and with what
//! phase.
//!
//! - A measurement: with both conditions, failure true → Failed, success true → Successful, neither →
//!   Inconclusive; with only a failure condition, Failed if true else Successful; with only a success
//!   condition, Successful if true else Failed; an expression that errors (an index into an empty
//!   vector, a scalar where a list is expected) or a query that fails → Error.
//! - Timing: the first measurement at the start plus `initialDelay`, the next `interval` after the
//!   previous one, but 10 s after an errored one. Errors do not count towards `count`.
//! - A metric is Failed when failed measurements > `failureLimit`, then Inconclusive when inconclusive
//!   ones > `inconclusiveLimit`, then Error when consecutive errors > `consecutiveErrorLimit`
//!   (default 4, so the fifth error in a row), then Successful once `count` measurements were taken.
//! - The run: as soon as a metric that is not a dry run is Failed, Error or Inconclusive, the others
//!   are terminated (Successful, measurements stop). The run's phase is the worst of its non-dry-run
//!   metrics, Successful < Inconclusive < Error < Failed.

use super::expr::{self, Value};

/// What Argo retries an errored measurement after, in milliseconds.
pub const ERROR_RETRY_MS: i64 = 10_000;

/// Argo's `consecutiveErrorLimit` when the metric sets none.
pub const DEFAULT_CONSECUTIVE_ERROR_LIMIT: u32 = 4;

/// The phase of a completed measurement, metric or run, worst last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Passed.
    Successful,
    /// Neither condition held: a person decides.
    Inconclusive,
    /// The measurement could not be taken or judged.
    Error,
    /// The failure condition held.
    Failed,
}

impl Phase {
    /// As Argo writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Successful => "Successful",
            Phase::Inconclusive => "Inconclusive",
            Phase::Error => "Error",
            Phase::Failed => "Failed",
        }
    }
}

/// A metric of the run, with the fields of the AnalysisTemplate that decide its phase.
#[derive(Clone, Debug)]
pub struct Metric {
    /// Its name in the template.
    pub name: String,
    /// Milliseconds between measurements.
    pub interval_ms: Option<i64>,
    /// Milliseconds before the first measurement.
    pub initial_delay_ms: i64,
    /// Measurements to take (errors not counted).
    pub count: u32,
    /// `failureLimit` (Argo's default 0).
    pub failure_limit: u32,
    /// `inconclusiveLimit` (Argo's default 0).
    pub inconclusive_limit: u32,
    /// `consecutiveErrorLimit` (Argo's default 4).
    pub consecutive_error_limit: u32,
    /// `successCondition`.
    pub success_condition: Option<String>,
    /// `failureCondition`.
    pub failure_condition: Option<String>,
    /// A dry-run metric is measured but never decides the run.
    pub dry_run: bool,
}

/// What a provider returned for one measurement.
#[derive(Clone, Debug, PartialEq)]
pub enum Reading {
    /// The value the conditions see as `result`.
    Value(Value),
    /// The provider decided the phase itself (a Job completes or not; a check shipc cannot replay),
    /// with what to show for it.
    Decided(Phase, String),
    /// The query failed.
    Error(String),
}

/// One measurement taken.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// Index of the metric in the run.
    pub metric: usize,
    /// Milliseconds after the run started.
    pub at_ms: i64,
    /// What the provider returned.
    pub reading: Reading,
    /// Its phase.
    pub phase: Phase,
    /// Why it errored, when the condition could not be evaluated.
    pub error: Option<String>,
    /// The metric's phase after it, `None` while the metric is still running.
    pub metric_phase: Option<Phase>,
    /// The metric's counters after it.
    pub tally: Tally,
}

/// A metric's counters, as in Argo's `MetricResult`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Measurements that count towards `count` (all but errors).
    pub count: u32,
    /// Successful measurements.
    pub successful: u32,
    /// Failed measurements.
    pub failed: u32,
    /// Inconclusive measurements.
    pub inconclusive: u32,
    /// Errored measurements in a row.
    pub consecutive_errors: u32,
}

/// How a metric ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Its own measurements decided it.
    Decided(Phase),
    /// The run stopped it before it was done (another metric decided, or the release moved on):
    /// Argo counts it Successful.
    Terminated,
    /// Still running when nothing more was due: a metric with `count` above 1 but no `interval`,
    /// which Argo would leave running for ever.
    Running,
}

/// A run simulated to its end.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// Every measurement, in the order taken.
    pub measurements: Vec<Measurement>,
    /// How each metric ended, by index.
    pub endings: Vec<(Ending, Tally, Option<i64>)>,
    /// The run's phase.
    pub phase: Phase,
    /// Milliseconds after the start when the run completed.
    pub ended_ms: i64,
    /// The metric that decided a Failed, Error or Inconclusive run.
    pub decided_by: Option<usize>,
    /// The run was stopped from outside at `ended_ms` while metrics were still measuring.
    pub stopped: bool,
}

/// Judges one reading with the metric's conditions, as Argo's `EvaluateResult` does.
pub fn judge(metric: &Metric, reading: &Reading) -> (Phase, Option<String>) {
    let value = match reading {
        Reading::Value(value) => value,
        Reading::Decided(phase, _) => return (*phase, None),
        Reading::Error(message) => return (Phase::Error, Some(message.clone())),
    };
    let evaluate = |condition: &Option<String>| -> Result<Option<bool>, String> {
        condition
            .as_deref()
            .map(|source| expr::eval_condition(source, value))
            .transpose()
    };
    let outcome = evaluate(&metric.success_condition)
        .and_then(|success| evaluate(&metric.failure_condition).map(|failure| (success, failure)));
    match outcome {
        Err(message) => (Phase::Error, Some(message)),
        Ok((success, failure)) => {
            let phase = match (success, failure) {
                (_, Some(true)) => Phase::Failed,
                (Some(true), _) => Phase::Successful,
                (Some(false), Some(false)) => Phase::Inconclusive,
                (Some(false), None) => Phase::Failed,
                (None, _) => Phase::Successful,
            };
            (phase, None)
        }
    }
}

/// The metric's phase from its counters, or `None` while it is still running.
pub fn assess(metric: &Metric, tally: &Tally) -> Option<Phase> {
    if tally.failed > metric.failure_limit {
        Some(Phase::Failed)
    } else if tally.inconclusive > metric.inconclusive_limit {
        Some(Phase::Inconclusive)
    } else if tally.consecutive_errors > metric.consecutive_error_limit {
        Some(Phase::Error)
    } else if tally.count >= metric.count {
        Some(Phase::Successful)
    } else {
        None
    }
}

/// Runs the metrics from time 0, reading each measurement from `read(metric, at_ms)`. `stop_ms` is
/// when the release ends the run from outside (a background analysis when the rollout completes,
/// auto-promotion elapsing during a pre-promotion analysis); measurements due then or later are not
/// taken and the run ends Successful unless it was decided before.
pub fn run(metrics: &[Metric], stop_ms: Option<i64>, read: &mut dyn FnMut(usize, i64) -> Reading) -> RunOutcome {
    let mut tallies = vec![Tally::default(); metrics.len()];
    let mut phases: Vec<Option<Phase>> = metrics
        .iter()
        .map(|metric| (metric.count == 0).then_some(Phase::Successful))
        .collect();
    let mut next: Vec<Option<i64>> = metrics
        .iter()
        .map(|metric| (metric.count > 0).then_some(metric.initial_delay_ms))
        .collect();
    let mut last_at: Vec<Option<i64>> = vec![None; metrics.len()];
    let mut measurements = Vec::new();
    let mut now = 0;
    let mut stopped = false;
    loop {
        let deciding = metrics
            .iter()
            .zip(&phases)
            .any(|(metric, phase)| !metric.dry_run && matches!(phase, Some(p) if *p != Phase::Successful));
        if deciding {
            break;
        }
        let due = next.iter().flatten().copied().min();
        let Some(at) = due else { break };
        if stop_ms.is_some_and(|stop| at >= stop) {
            now = stop_ms.unwrap_or(at);
            stopped = true;
            break;
        }
        now = at;
        for (index, metric) in metrics.iter().enumerate() {
            if next.get(index).copied().flatten() != Some(at) {
                continue;
            }
            let reading = read(index, at);
            let (phase, error) = judge(metric, &reading);
            let Some(tally) = tallies.get_mut(index) else { continue };
            match phase {
                Phase::Error => tally.consecutive_errors += 1,
                _ => {
                    tally.consecutive_errors = 0;
                    tally.count += 1;
                    match phase {
                        Phase::Successful => tally.successful += 1,
                        Phase::Failed => tally.failed += 1,
                        _ => tally.inconclusive += 1,
                    }
                }
            }
            let metric_phase = assess(metric, tally);
            let following = match (metric_phase, phase) {
                (Some(_), _) => None,
                (None, Phase::Error) => Some(at + ERROR_RETRY_MS),
                (None, _) => metric.interval_ms.map(|interval| at + interval),
            };
            measurements.push(Measurement {
                metric: index,
                at_ms: at,
                reading,
                phase,
                error,
                metric_phase,
                tally: *tally,
            });
            if let (Some(slot), Some(last), Some(next_at)) =
                (phases.get_mut(index), last_at.get_mut(index), next.get_mut(index))
            {
                *slot = metric_phase;
                *last = Some(at);
                *next_at = following;
            }
        }
    }
    let decided_by = metrics
        .iter()
        .zip(&phases)
        .enumerate()
        .filter(|(_, (metric, phase))| !metric.dry_run && matches!(phase, Some(p) if *p != Phase::Successful))
        .max_by_key(|(index, (_, phase))| (*phase, std::cmp::Reverse(*index)))
        .map(|(index, _)| index);
    let phase = metrics
        .iter()
        .zip(&phases)
        .filter(|(metric, _)| !metric.dry_run)
        .filter_map(|(_, phase)| *phase)
        .max()
        .unwrap_or(Phase::Successful);
    let endings = phases
        .iter()
        .zip(&tallies)
        .zip(&last_at)
        .map(|((phase, tally), last)| {
            let ending = match phase {
                Some(phase) => Ending::Decided(*phase),
                None if decided_by.is_some() || stopped => Ending::Terminated,
                None => Ending::Running,
            };
            (ending, *tally, *last)
        })
        .collect();
    RunOutcome {
        measurements,
        endings,
        phase,
        ended_ms: now,
        decided_by,
        stopped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAILURE: &str = "len(result) == 0 || any(result, {isNaN(#) || # > 0.01})";

    fn metric(name: &str, count: u32, failure_limit: u32) -> Metric {
        Metric {
            name: name.to_string(),
            interval_ms: Some(60_000),
            initial_delay_ms: 0,
            count,
            failure_limit,
            inconclusive_limit: 0,
            consecutive_error_limit: DEFAULT_CONSECUTIVE_ERROR_LIMIT,
            success_condition: None,
            failure_condition: Some(FAILURE.to_string()),
            dry_run: false,
        }
    }

    fn vector(values: &[f64]) -> Reading {
        Reading::Value(Value::Array(values.iter().map(|v| Value::Number(*v)).collect()))
    }

    fn times(outcome: &RunOutcome, metric: usize) -> Vec<i64> {
        outcome
            .measurements
            .iter()
            .filter(|m| m.metric == metric)
            .map(|m| m.at_ms / 1000)
            .collect()
    }

    #[test]
    fn failure_limit_is_exceeded_not_reached() {
        let metrics = [metric("error-rate", 5, 1)];
        let mut values = [0.02, 0.001, 0.02, 0.001, 0.001].into_iter();
        let outcome = run(&metrics, None, &mut |_, _| vector(&[values.next().unwrap()]));
        assert_eq!(outcome.phase, Phase::Failed);
        assert_eq!(times(&outcome, 0), [0, 60, 120]);
        assert_eq!(outcome.ended_ms, 120_000);
        assert_eq!(outcome.decided_by, Some(0));

        let mut one_failure = [0.02, 0.001, 0.001, 0.001, 0.001].into_iter();
        let outcome = run(&metrics, None, &mut |_, _| vector(&[one_failure.next().unwrap()]));
        assert_eq!(outcome.phase, Phase::Successful);
        assert_eq!(times(&outcome, 0), [0, 60, 120, 180, 240]);
    }

    #[test]
    fn errors_retry_every_ten_seconds_and_error_the_metric_after_five() {
        let mut metrics = [metric("latency", 5, 1)];
        metrics[0].failure_condition = Some("result[0] > 0.5".to_string());
        let outcome = run(&metrics, None, &mut |_, _| vector(&[]));
        assert_eq!(outcome.phase, Phase::Error);
        assert_eq!(times(&outcome, 0), [0, 10, 20, 30, 40]);
        assert_eq!(outcome.endings[0].1.consecutive_errors, 5);
        assert_eq!(outcome.endings[0].1.count, 0);
    }

    #[test]
    fn errors_do_not_count_and_a_success_resets_the_streak() {
        let mut metrics = [metric("latency", 2, 0)];
        metrics[0].failure_condition = Some("result[0] > 0.5".to_string());
        let mut readings = [vector(&[]), vector(&[]), vector(&[0.1]), vector(&[]), vector(&[0.2])].into_iter();
        let outcome = run(&metrics, None, &mut |_, _| readings.next().unwrap());
        assert_eq!(outcome.phase, Phase::Successful);
        assert_eq!(times(&outcome, 0), [0, 10, 20, 80, 90]);
    }

    #[test]
    fn nan_fails_shipc_conditions_but_passes_a_bare_failure_condition() {
        let shipc = [metric("error-rate", 1, 0)];
        let outcome = run(&shipc, None, &mut |_, _| vector(&[f64::NAN]));
        assert_eq!(outcome.phase, Phase::Failed);
        let mut bare = [metric("error-rate", 1, 0)];
        bare[0].failure_condition = Some("result[0] > 0.01".to_string());
        let outcome = run(&bare, None, &mut |_, _| vector(&[f64::NAN]));
        assert_eq!(outcome.phase, Phase::Successful);
    }

    #[test]
    fn neither_condition_is_inconclusive_and_pauses_past_the_limit() {
        let mut metrics = [metric("error-rate", 3, 0)];
        metrics[0].success_condition = Some("len(result) > 0 && all(result, {!isNaN(#) && !(# > 0.01)})".to_string());
        metrics[0].failure_condition = Some("any(result, {!isNaN(#) && (# > 0.01)})".to_string());
        metrics[0].inconclusive_limit = 1;
        let mut readings = [vector(&[]), vector(&[0.001]), vector(&[f64::NAN])].into_iter();
        let outcome = run(&metrics, None, &mut |_, _| readings.next().unwrap());
        assert_eq!(
            outcome.measurements.iter().map(|m| m.phase).collect::<Vec<_>>(),
            [Phase::Inconclusive, Phase::Successful, Phase::Inconclusive]
        );
        assert_eq!(outcome.phase, Phase::Inconclusive);
    }

    #[test]
    fn a_dry_run_metric_never_fails_the_run_nor_stops_it() {
        let mut metrics = [metric("observed", 3, 0), metric("error-rate", 3, 0)];
        metrics[0].dry_run = true;
        let outcome = run(&metrics, None, &mut |index, _| {
            vector(&[if index == 0 { 0.5 } else { 0.0 }])
        });
        assert_eq!(outcome.endings[0].0, Ending::Decided(Phase::Failed));
        assert_eq!(outcome.phase, Phase::Successful);
        assert_eq!(times(&outcome, 1), [0, 60, 120]);
        assert_eq!(outcome.decided_by, None);
    }

    #[test]
    fn the_first_decided_metric_terminates_the_others() {
        let metrics = [metric("error-rate", 5, 0), metric("latency", 5, 0)];
        let outcome = run(&metrics, None, &mut |index, at| {
            vector(&[if index == 1 && at >= 60_000 { 0.5 } else { 0.0 }])
        });
        assert_eq!(outcome.phase, Phase::Failed);
        assert_eq!(outcome.decided_by, Some(1));
        assert_eq!(outcome.endings[0].0, Ending::Terminated);
        assert_eq!(times(&outcome, 0), [0, 60]);
    }

    #[test]
    fn the_worst_phase_wins() {
        assert!(Phase::Successful < Phase::Inconclusive);
        assert!(Phase::Inconclusive < Phase::Error);
        assert!(Phase::Error < Phase::Failed);
        let mut metrics = [metric("a", 1, 0), metric("b", 1, 0), metric("c", 1, 0)];
        metrics[1].failure_condition = Some("result[0] > 1".to_string());
        metrics[1].consecutive_error_limit = 0;
        metrics[2].success_condition = Some("false".to_string());
        metrics[2].failure_condition = Some("false".to_string());
        let outcome = run(&metrics, None, &mut |index, _| {
            if index == 1 { vector(&[]) } else { vector(&[0.5]) }
        });
        assert_eq!(outcome.phase, Phase::Failed);
        assert_eq!(outcome.decided_by, Some(0));
        assert_eq!(outcome.endings[1].0, Ending::Decided(Phase::Error));
        assert_eq!(outcome.endings[2].0, Ending::Decided(Phase::Inconclusive));
    }

    #[test]
    fn initial_delay_and_stop() {
        let mut metrics = [metric("restarts", 15, 0)];
        metrics[0].initial_delay_ms = 30_000;
        let outcome = run(&metrics, Some(200_000), &mut |_, _| vector(&[0.0]));
        assert_eq!(times(&outcome, 0), [30, 90, 150]);
        assert!(outcome.stopped);
        assert_eq!(outcome.phase, Phase::Successful);
        assert_eq!(outcome.endings[0].0, Ending::Terminated);
        assert_eq!(outcome.ended_ms, 200_000);
    }
}
