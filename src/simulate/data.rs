//! Recorded metric data: what a query returned over a window, read from the JSON of Prometheus's
//! `/api/v1/query_range` (or `/api/v1/query`) or from OpenMetrics text with timestamps.
//!
//! Argo takes an instant query at each measurement time `t`. From a recording, the value at `t` is,
//! per series, its latest sample at or before `t` and less than five minutes old (Prometheus's
//! default lookback); a series without such a sample is absent from the vector, so a gap of five
//! minutes or more reads as an empty result, as it would from Prometheus. Record with a `step` no
//! longer than the metric's interval so that every measurement sees the value Prometheus would give.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::expr::Value;

/// How far back an instant query looks for a sample (Prometheus's `--query.lookback-delta`).
pub const LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// One data file as the CLI read it.
#[derive(Clone, Debug)]
pub struct DataFile {
    /// Its path as diagnostics show it.
    pub path: String,
    /// Its path inside the data directory, `/`-separated (`http-error-rate.json`,
    /// `checkout-post-promotion/http-error-rate.om`): the name it is matched to a metric by.
    pub name: String,
    /// Its text.
    pub text: String,
}

/// What one query returned over time.
#[derive(Clone, Debug, PartialEq)]
pub enum Recording {
    /// An instant vector at each time: the series, each with its samples in time order.
    Vector(Vec<Series>),
    /// A scalar at each time.
    Scalar(Vec<(i64, f64)>),
}

/// One series of a recording.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Its labels as Prometheus prints them (`{code="500"}`).
    pub labels: String,
    /// `(milliseconds since the epoch, value)`, in time order.
    pub samples: Vec<(i64, f64)>,
}

impl Recording {
    /// What an instant query at `at_ms` would have returned.
    pub fn at(&self, at_ms: i64) -> Value {
        match self {
            Recording::Vector(series) => Value::Array(
                series
                    .iter()
                    .filter_map(|series| latest(&series.samples, at_ms))
                    .map(Value::Number)
                    .collect(),
            ),
            Recording::Scalar(samples) => Value::Number(latest(samples, at_ms).unwrap_or(f64::NAN)),
        }
    }

    /// The earliest sample's time.
    pub fn first_ms(&self) -> Option<i64> {
        let samples: Vec<&Vec<(i64, f64)>> = match self {
            Recording::Vector(series) => series.iter().map(|series| &series.samples).collect(),
            Recording::Scalar(samples) => vec![samples],
        };
        samples
            .iter()
            .filter_map(|samples| samples.first().map(|(at, _)| *at))
            .min()
    }
}

fn latest(samples: &[(i64, f64)], at_ms: i64) -> Option<f64> {
    let after = samples.partition_point(|(time, _)| *time <= at_ms);
    let (time, value) = samples.get(after.checked_sub(1)?)?;
    (at_ms - time < LOOKBACK_MS).then_some(*value)
}

/// Why a data file cannot be read: where (a byte range of its text), what, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataError {
    /// Byte offset the problem starts at.
    pub start: usize,
    /// Byte offset it ends at.
    pub end: usize,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub help: String,
}

/// Reads a data file by its extension: `.json` (a Prometheus API response) or `.om` (OpenMetrics).
pub fn parse(name: &str, text: &str) -> Result<Recording, DataError> {
    if name.ends_with(".json") {
        parse_json(text)
    } else {
        parse_openmetrics(text)
    }
}

#[derive(Deserialize)]
struct Response {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum Data {
    Matrix(Vec<RangeSeries>),
    Vector(Vec<InstantSeries>),
    Scalar(Sample),
}

#[derive(Deserialize)]
struct RangeSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    values: Vec<Sample>,
}

#[derive(Deserialize)]
struct InstantSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: Sample,
}

#[derive(Deserialize)]
struct Sample(f64, #[serde(deserialize_with = "sample_value")] f64);

fn sample_value<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_float(&text).ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a sample value")))
}

/// A sample value as Prometheus writes it: a decimal, `NaN`, `+Inf` or `-Inf`.
fn parse_float(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => text.parse::<f64>().ok().filter(|value| value.is_finite()),
    }
}

const JSON_HELP: &str = "save the unchanged answer of Prometheus's /api/v1/query_range, e.g. \
     `curl -sG URL/api/v1/query_range --data-urlencode query=... -d start=... -d end=... -d step=15s`";

fn parse_json(text: &str) -> Result<Recording, DataError> {
    let response: Response = serde_json::from_str(text).map_err(|error| {
        let start = offset_of(text, error.line(), error.column());
        DataError {
            start,
            end: start,
            message: format!(
                "not a Prometheus query response: {}",
                strip_position(&error.to_string())
            ),
            help: JSON_HELP.to_string(),
        }
    })?;
    if response.status != "success" {
        return Err(DataError {
            start: 0,
            end: 0,
            message: format!(
                "the recorded query failed: {}",
                response.error.as_deref().unwrap_or("status is not `success`")
            ),
            help: "record the query again once Prometheus answers it; the response must have `\"status\":\"success\"`"
                .to_string(),
        });
    }
    let to_ms = |seconds: f64| (seconds * 1000.0).round() as i64;
    let recording = match response.data {
        None => {
            return Err(DataError {
                start: 0,
                end: 0,
                message: "the response has no `data`".to_string(),
                help: JSON_HELP.to_string(),
            });
        }
        Some(Data::Scalar(Sample(at, value))) => Recording::Scalar(vec![(to_ms(at), value)]),
        Some(Data::Vector(series)) => Recording::Vector(
            series
                .into_iter()
                .map(|series| Series {
                    labels: label_text(&series.metric),
                    samples: vec![(to_ms(series.value.0), series.value.1)],
                })
                .collect(),
        ),
        Some(Data::Matrix(series)) => Recording::Vector(
            series
                .into_iter()
                .map(|series| {
                    let mut samples: Vec<(i64, f64)> = series
                        .values
                        .iter()
                        .map(|Sample(at, value)| (to_ms(*at), *value))
                        .collect();
                    samples.sort_by_key(|(at, _)| *at);
                    Series {
                        labels: label_text(&series.metric),
                        samples,
                    }
                })
                .collect(),
        ),
    };
    Ok(recording)
}

fn label_text(labels: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = labels.iter().map(|(key, value)| format!("{key}={value:?}")).collect();
    format!("{{{}}}", pairs.join(","))
}

/// serde_json appends " at line L column C"; the diagnostic shows the place itself.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message.get(..cut).unwrap_or(message).to_string(),
        None => message.to_string(),
    }
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    // An error at the end of the text (a truncated file) points at its last character, which a
    // diagnostic can show.
    let last = text.trim_end().len().saturating_sub(1);
    (line_start + column.saturating_sub(1)).min(last)
}

const OPENMETRICS_HELP: &str = "each sample is `name{label=\"value\",...} VALUE TIMESTAMP`, the timestamp in \
     seconds since the epoch; `#` lines are comments";

/// OpenMetrics (or Prometheus text) samples of the query's result series: every line
/// `name{labels} value timestamp`; `#` lines (`# TYPE`, `# EOF`) and blank lines are skipped.
fn parse_openmetrics(text: &str) -> Result<Recording, DataError> {
    let mut series: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let start = line_start;
        line_start += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = content.len() - trimmed.len();
        let (key, rest) = split_series(trimmed).map_err(|(at, message)| DataError {
            start: start + indent + at,
            end: start + indent + at,
            message,
            help: OPENMETRICS_HELP.to_string(),
        })?;
        let rest_offset = start + indent + key.len();
        let mut fields = rest.split_whitespace();
        let value_text = fields.next().unwrap_or("");
        let field_at = |field: &str| rest_offset + (field.as_ptr() as usize).saturating_sub(rest.as_ptr() as usize);
        let error = |field: &str, message: String| DataError {
            start: field_at(field),
            end: field_at(field) + field.len(),
            message,
            help: OPENMETRICS_HELP.to_string(),
        };
        let value = parse_float(value_text)
            .ok_or_else(|| error(value_text, format!("`{value_text}` is not a sample value")))?;
        let Some(time_text) = fields.next() else {
            return Err(error(
                value_text,
                "a recorded sample needs a timestamp after its value".to_string(),
            ));
        };
        let seconds = time_text
            .parse::<f64>()
            .ok()
            .filter(|seconds| seconds.is_finite())
            .ok_or_else(|| error(time_text, format!("`{time_text}` is not a timestamp in seconds")))?;
        if let Some(extra) = fields.next() {
            return Err(error(extra, format!("unexpected `{extra}` after the timestamp")));
        }
        series
            .entry(key.to_string())
            .or_default()
            .push(((seconds * 1000.0).round() as i64, value));
    }
    Ok(Recording::Vector(
        series
            .into_iter()
            .map(|(labels, mut samples)| {
                samples.sort_by_key(|(at, _)| *at);
                Series { labels, samples }
            })
            .collect(),
    ))
}

/// Splits a sample line after its series (`name{labels}`); labels may quote `}` and spaces.
fn split_series(line: &str) -> Result<(&str, &str), (usize, String)> {
    let mut in_quotes = false;
    let mut escaped = false;
    let mut in_braces = false;
    for (index, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' if in_braces => in_quotes = !in_quotes,
            '{' if !in_quotes => in_braces = true,
            '}' if !in_quotes => in_braces = false,
            c if c.is_whitespace() && !in_braces => {
                return Ok((line.get(..index).unwrap_or(line), line.get(index..).unwrap_or("")));
            }
            _ => {}
        }
    }
    Err((
        line.len(),
        "a sample line needs a value and a timestamp after its series".to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(value: Value) -> Vec<f64> {
        match value {
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::Number(n) => n,
                    _ => f64::NAN,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    const RANGE: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"code":"500"},"values":[[1700000000,"0.5"],[1700000060,"NaN"],[1700000600,"2"]]}]}}"#;

    #[test]
    fn the_value_at_t_is_the_latest_sample_within_five_minutes() {
        let recording = parse("q.json", RANGE).unwrap();
        assert_eq!(values(recording.at(1_699_999_999_000)), Vec::<f64>::new());
        assert_eq!(values(recording.at(1_700_000_000_000)), [0.5]);
        assert_eq!(values(recording.at(1_700_000_059_000)), [0.5]);
        assert!(values(recording.at(1_700_000_060_000))[0].is_nan());
        assert!(values(recording.at(1_700_000_359_000))[0].is_nan());
        assert_eq!(values(recording.at(1_700_000_360_000)), Vec::<f64>::new());
        assert_eq!(values(recording.at(1_700_000_600_000)), [2.0]);
        assert_eq!(recording.first_ms(), Some(1_700_000_000_000));
    }

    #[test]
    fn openmetrics_samples_group_by_series() {
        let text = "# TYPE x gauge\nx{a=\"1\"} 0.1 1700000000\nx{a=\"2\"} 0.3 1700000000\nx{a=\"1\"} 0.2 1700000060.5\n# EOF\n";
        let recording = parse("q.om", text).unwrap();
        assert_eq!(values(recording.at(1_700_000_061_000)), [0.2, 0.3]);
    }

    #[test]
    fn malformed_files_say_where() {
        let error = parse(
            "q.json",
            "{\"status\":\"success\",\n \"data\": {\"resultType\":\"matrix\",\"result\":[{\"values\":[[1,\"x\"]]}]}}",
        )
        .unwrap_err();
        assert!(error.message.contains("`x` is not a sample value"), "{}", error.message);
        assert!(error.start > 20);
        let error = parse("q.json", r#"{"status":"error","error":"bad_data: parse error"}"#).unwrap_err();
        assert!(error.message.contains("bad_data"));
        let text = "x{a=\"1 }\"} 0.1\n";
        let error = parse("q.om", text).unwrap_err();
        assert_eq!(error.message, "a recorded sample needs a timestamp after its value");
        assert_eq!(&text[error.start..error.end], "0.1");
        let error = parse("q.om", "x 1 2\ny 0.1 soon\n").unwrap_err();
        assert_eq!(error.start, 12);
    }
}
