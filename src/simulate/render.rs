//! The timeline of a replayed release as plain text: the release's course, then one table per
//! analysis (times from the analysis start, values in the metric's unit, each measurement's phase,
//! the metric's and the run's phase after it), then the verdict with its reason.

use std::fmt::Write as _;

use super::argo::{Ending, Phase, Reading};
use super::expr::Value;
use super::{MetricSource, Report, RunReport, Strategy, Verdict, offset_text};
use crate::check::units::MetricUnit;

/// The timeline. `title` names the command (`simulate`, `preflight`).
pub fn timeline(report: &Report, title: &str) -> String {
    let mut out = String::new();
    let release = &report.release;
    let strategy = match release.strategy {
        Strategy::BlueGreen { .. } => "blue/green",
        Strategy::Canary { .. } => "canary",
    };
    let place = match &release.environment {
        Some(environment) => format!("{environment} ({})", release.namespace),
        None => release.namespace.clone(),
    };
    let _ = writeln!(
        out,
        "shipc {title}: {} ({strategy}) in {place}, release starting {}",
        release.service,
        utc_text(report.start_ms)
    );
    let args: Vec<String> = report
        .args
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let _ = writeln!(out, "arguments: {}", args.join(", "));
    out.push('\n');
    for event in &report.events {
        let _ = writeln!(out, "{:>8}  {}", offset_text(event.at_ms), event.what);
    }
    for run in &report.runs {
        out.push('\n');
        run_table(&mut out, run);
    }
    out.push('\n');
    let _ = writeln!(out, "verdict: {}", report.verdict.as_str());
    let _ = writeln!(out, "{}", report.reason);
    out
}

fn run_table(out: &mut String, run: &RunReport) {
    let analysis = &run.analysis;
    let _ = writeln!(
        out,
        "{} analysis `{}`, from {} of the release",
        run.stage,
        analysis.template,
        offset_text(run.start_ms)
    );
    for (metric, query) in analysis.metrics.iter().zip(&run.queries) {
        let spec = &metric.spec;
        let mut rules = vec![format!("count {}", spec.count)];
        if let Some(interval) = spec.interval_ms {
            rules.push(format!("every {}", offset_text(interval).trim_start_matches('+')));
        }
        if spec.initial_delay_ms > 0 {
            rules.push(format!(
                "initialDelay {}",
                offset_text(spec.initial_delay_ms).trim_start_matches('+')
            ));
        }
        rules.push(format!("failureLimit {}", spec.failure_limit));
        if spec.success_condition.is_some() && spec.failure_condition.is_some() {
            rules.push(format!("inconclusiveLimit {}", spec.inconclusive_limit));
        }
        rules.push(format!("consecutiveErrorLimit {}", spec.consecutive_error_limit));
        if spec.dry_run {
            rules.push("dry run".to_string());
        }
        match (&metric.source, query) {
            (MetricSource::Prometheus { .. }, Some(query)) => {
                let unit = metric.unit.map_or(String::new(), |unit| format!(", {}", unit.name()));
                let _ = writeln!(out, "  {} ({}{unit}):", spec.name, rules.join(", "));
                for line in query.lines() {
                    let _ = writeln!(out, "      {line}");
                }
                if let Some(condition) = &spec.failure_condition {
                    let _ = writeln!(out, "    failureCondition: {condition}");
                }
                if let Some(condition) = &spec.success_condition {
                    let _ = writeln!(out, "    successCondition: {condition}");
                }
            }
            (MetricSource::Check { what }, _) => {
                let _ = writeln!(
                    out,
                    "  {} ({what}): a check, not replayable from metrics; assumed to pass unless --fail-check {}",
                    spec.name, spec.name
                );
            }
            (MetricSource::Prometheus { .. }, None) => {}
        }
    }
    let mut rows = vec![[
        "time".to_string(),
        "metric".to_string(),
        "value".to_string(),
        "measurement".to_string(),
        "metric phase".to_string(),
        "run".to_string(),
    ]];
    let final_at = run.outcome.measurements.last().map(|m| m.at_ms);
    for measurement in &run.outcome.measurements {
        let Some(metric) = analysis.metrics.get(measurement.metric) else {
            continue;
        };
        let spec = &metric.spec;
        let value = match (&measurement.reading, &measurement.error) {
            (_, Some(error)) => format!("{} (error: {error})", reading_text(&measurement.reading, metric.unit)),
            (reading, None) => reading_text(reading, metric.unit),
        };
        let tally = measurement.tally;
        let metric_phase = match measurement.metric_phase {
            None if tally.failed > 0 => format!("Running ({} of {}, {} failed)", tally.count, spec.count, tally.failed),
            None => format!("Running ({} of {})", tally.count, spec.count),
            Some(Phase::Failed) => format!("Failed ({} > {})", tally.failed, spec.failure_limit),
            Some(Phase::Inconclusive) => format!("Inconclusive ({} > {})", tally.inconclusive, spec.inconclusive_limit),
            Some(Phase::Error) => format!(
                "Error ({} in a row > {})",
                tally.consecutive_errors, spec.consecutive_error_limit
            ),
            Some(Phase::Successful) => "Successful".to_string(),
        };
        let metric_phase = if spec.dry_run {
            format!("{metric_phase}, dry run")
        } else {
            metric_phase
        };
        let run_phase = if Some(measurement.at_ms) == final_at && !run.outcome.stopped {
            run.outcome.phase.as_str()
        } else {
            "Running"
        };
        rows.push([
            offset_text(measurement.at_ms),
            spec.name.clone(),
            value,
            measurement.phase.as_str().to_string(),
            metric_phase,
            run_phase.to_string(),
        ]);
    }
    if rows.len() > 1 {
        out.push('\n');
        let widths: Vec<usize> = (0..6)
            .map(|column| {
                rows.iter()
                    .map(|row| row.get(column).map_or(0, |cell| cell.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &rows {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            let _ = writeln!(out, "  {}", cells.join("  ").trim_end());
        }
    }
    let terminated: Vec<&str> = analysis
        .metrics
        .iter()
        .zip(&run.outcome.endings)
        .filter(|(_, (ending, _, _))| *ending == Ending::Terminated)
        .map(|(metric, _)| metric.spec.name.as_str())
        .collect();
    if !terminated.is_empty() {
        let _ = writeln!(
            out,
            "  terminated before its count: {} (Argo counts {} Successful)",
            terminated.join(", "),
            if terminated.len() == 1 { "it" } else { "them" }
        );
    }
    let empty: Vec<String> = run
        .outcome
        .measurements
        .iter()
        .filter(|m| matches!(&m.reading, Reading::Value(Value::Array(items)) if items.is_empty()))
        .filter_map(|m| {
            analysis
                .metrics
                .get(m.metric)
                .map(|metric| format!("{} at {}", metric.spec.name, offset_text(m.at_ms)))
        })
        .collect();
    if !empty.is_empty() {
        let _ = writeln!(
            out,
            "  no data: {} returned no series (check the labels and the --arg values)",
            empty.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "  => {}",
        if run.consequence.is_empty() {
            "-"
        } else {
            &run.consequence
        }
    );
}

fn reading_text(reading: &Reading, unit: Option<MetricUnit>) -> String {
    match reading {
        Reading::Value(Value::Array(items)) if items.is_empty() => "no data".to_string(),
        Reading::Value(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::Number(number) => value_text(*number, unit),
                other => format!("{other:?}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Reading::Value(Value::Number(number)) => format!("scalar {}", value_text(*number, unit)),
        Reading::Value(other) => format!("{other:?}"),
        Reading::Decided(_, what) => what.clone(),
        Reading::Error(message) => format!("query failed: {message}"),
    }
}

/// A sample in the metric's unit: `1.23%` for a ratio, `340ms` for seconds, `512Mi` for bytes.
pub fn value_text(value: f64, unit: Option<MetricUnit>) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    match unit {
        Some(MetricUnit::Ratio) => format!("{}%", decimals(value * 100.0, 3)),
        Some(MetricUnit::Percent) => format!("{}%", decimals(value, 3)),
        Some(MetricUnit::Seconds) if value.abs() < 1.0 => format!("{}ms", decimals(value * 1000.0, 1)),
        Some(MetricUnit::Seconds) => format!("{}s", decimals(value, 3)),
        Some(MetricUnit::PerSecond) => format!("{}/s", decimals(value, 3)),
        Some(MetricUnit::Bytes) => {
            let (scaled, suffix) = [("Gi", 30), ("Mi", 20), ("Ki", 10)]
                .iter()
                .find(|(_, power)| value.abs() >= f64::from(1u32 << power))
                .map_or((value, ""), |(suffix, power)| {
                    (value / f64::from(1u32 << power), *suffix)
                });
            format!("{}{suffix}", decimals(scaled, 2))
        }
        Some(MetricUnit::Count) | None => decimals(value, 3),
    }
}

/// `value` with at most `places` decimals, without trailing zeros.
fn decimals(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" { "0".to_string() } else { text }
}

/// `2026-11-23T10:00:00Z` for milliseconds since the epoch (UTC, seconds precision).
pub fn utc_text(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Milliseconds since the epoch of `2026-11-23T10:00:00Z` (RFC 3339, optional fraction and offset)
/// or of a number of seconds since the epoch.
pub fn parse_time(text: &str) -> Option<i64> {
    if let Ok(seconds) = text.parse::<f64>() {
        return seconds.is_finite().then_some((seconds * 1000.0).round() as i64);
    }
    let (date, time) = text.split_once(['T', 't', ' '])?;
    let mut date_parts = date.splitn(3, '-').map(|part| part.parse::<i64>().ok());
    let (year, month, day) = (date_parts.next()??, date_parts.next()??, date_parts.next()??);
    let (clock, offset_minutes) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else {
        let cut = time.rfind(['+', '-'])?;
        let (clock, zone) = time.split_at(cut);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (hours, minutes) = zone.get(1..)?.split_once(':')?;
        (
            clock,
            sign * (hours.parse::<i64>().ok()? * 60 + minutes.parse::<i64>().ok()?),
        )
    };
    let mut clock_parts = clock.splitn(3, ':');
    let hours = clock_parts.next()?.parse::<i64>().ok()?;
    let minutes = clock_parts.next()?.parse::<i64>().ok()?;
    let seconds = clock_parts.next()?.parse::<f64>().ok()?;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hours > 23
        || minutes > 59
        || !(0.0..61.0).contains(&seconds)
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let whole = days * 86_400 + hours * 3600 + minutes * 60 - offset_minutes * 60;
    Some(whole * 1000 + (seconds * 1000.0).round() as i64)
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// What `--expect` compares with.
pub fn verdict_named(name: &str) -> Option<Verdict> {
    [Verdict::Promote, Verdict::Rollback, Verdict::Pause]
        .into_iter()
        .find(|verdict| verdict.as_str() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_in_their_unit() {
        assert_eq!(value_text(0.0123, Some(MetricUnit::Ratio)), "1.23%");
        assert_eq!(value_text(0.01, Some(MetricUnit::Ratio)), "1%");
        assert_eq!(value_text(0.34, Some(MetricUnit::Seconds)), "340ms");
        assert_eq!(value_text(1.25, Some(MetricUnit::Seconds)), "1.25s");
        assert_eq!(value_text(-0.012, Some(MetricUnit::Seconds)), "-12ms");
        assert_eq!(value_text(536_870_912.0, Some(MetricUnit::Bytes)), "512Mi");
        assert_eq!(value_text(3.0, Some(MetricUnit::Count)), "3");
        assert_eq!(value_text(f64::NAN, Some(MetricUnit::Ratio)), "NaN");
    }

    #[test]
    fn times_round_trip() {
        let ms = parse_time("2026-11-23T10:00:00Z").unwrap();
        assert_eq!(utc_text(ms), "2026-11-23T10:00:00Z");
        assert_eq!(parse_time("2026-11-23T12:00:00+02:00"), Some(ms));
        assert_eq!(parse_time("1700000000"), Some(1_700_000_000_000));
        assert_eq!(utc_text(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(parse_time("yesterday"), None);
    }
}
