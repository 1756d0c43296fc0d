//! Quantities with units: durations, CPU, memory, percentages and the units of metrics.
//!
//! Each type parses from the literal the user wrote and formats to exactly what its target reads: a Go
//! duration for Argo (`1m30s`, never `1d`), a Kubernetes quantity for resources (`250m`, `"1"`,
//! `512Mi`). Conversions are exact ([`Decimal`]), so `1%` against a ratio is `0.01`.

use crate::decimal::Decimal;
use crate::syntax::ast::{Expr, ExprKind, Quantity};

/// Why a literal is not a quantity of the wanted kind; the caller turns it into a diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnitError {
    /// A plain number where a unit is required; carries the suggested literal (e.g. `30s`).
    MissingUnit(String),
    /// A suffix this kind of quantity does not take; carries a hint when a likely one exists.
    UnknownUnit {
        /// The suffix as written.
        unit: String,
        /// What it probably meant.
        hint: Option<String>,
    },
    /// The value cannot be represented (too precise or too large).
    Precision(String),
    /// Not a number at all.
    NotAQuantity,
}

/// A non-negative duration in whole milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration {
    millis: u64,
}

impl Duration {
    /// From milliseconds.
    pub fn from_millis(millis: u64) -> Duration {
        Duration { millis }
    }

    /// Milliseconds.
    pub fn millis(self) -> u64 {
        self.millis
    }

    /// Whole seconds, when the duration is a whole number of seconds.
    pub fn whole_seconds(self) -> Option<u64> {
        self.millis.is_multiple_of(1000).then_some(self.millis / 1000)
    }

    /// The duration in seconds, exactly (`500ms` is `0.5`).
    pub fn as_seconds(self) -> Decimal {
        Decimal::from_int(i128::from(self.millis)).shift_down(3)
    }

    /// `self × n`, saturating.
    pub fn times(self, n: u64) -> Duration {
        Duration {
            millis: self.millis.saturating_mul(n),
        }
    }

    /// Parses `500ms`, `30s`, `5m`, `1h30m`, `1.5m`.
    pub fn parse(expr: &Expr) -> Result<Duration, UnitError> {
        let quantity = match &expr.kind {
            ExprKind::Quantity(quantity) => quantity,
            ExprKind::Number(number) => return Err(UnitError::MissingUnit(format!("{number}s"))),
            _ => return Err(UnitError::NotAQuantity),
        };
        let mut millis = Decimal::ZERO;
        for (number, unit) in &quantity.parts {
            let factor: i128 = match unit.as_str() {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => return Err(unknown(unit, "Argo durations have no days: write `24h`")),
                "w" => return Err(unknown(unit, "Argo durations have no weeks: write `168h`")),
                "us" | "µs" | "ns" => {
                    return Err(unknown(
                        unit,
                        "durations are whole milliseconds: use `ms`, `s`, `m` or `h`",
                    ));
                }
                "sec" | "secs" | "second" | "seconds" => return Err(unknown(unit, "write `s`")),
                "min" | "mins" | "minute" | "minutes" => return Err(unknown(unit, "write `m`")),
                "hr" | "hrs" | "hour" | "hours" => return Err(unknown(unit, "write `h`")),
                _ => return Err(unknown(unit, "duration units are `ms`, `s`, `m` and `h`")),
            };
            millis = number
                .checked_mul_int(factor)
                .and_then(|part| millis.checked_add(part))
                .ok_or_else(too_long)?;
        }
        let millis = whole_amount(millis, "a duration", "a duration is a whole number of milliseconds")?;
        let millis = u64::try_from(millis)
            .ok()
            .filter(|m| *m <= MAX_GO_MILLIS)
            .ok_or_else(too_long)?;
        Ok(Duration { millis })
    }

    /// Go `time.ParseDuration` syntax as Argo reads it: `1h30m`, `45s`, `500ms`, `0s`.
    pub fn to_go(self) -> String {
        if self.millis == 0 {
            return "0s".to_string();
        }
        let mut rest = self.millis;
        let mut text = String::new();
        for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
            if rest >= size {
                text.push_str(&format!("{}{unit}", rest / size));
                rest %= size;
            }
        }
        text
    }
}

/// Go's `time.Duration` is an int64 of nanoseconds: nothing longer than about 2562047h can reach Argo.
const MAX_GO_MILLIS: u64 = i64::MAX as u64 / 1_000_000;

fn too_long() -> UnitError {
    UnitError::Precision(format!(
        "longer than the longest duration Argo can read ({})",
        Duration::from_millis(MAX_GO_MILLIS).to_go()
    ))
}

/// A non-negative whole amount, with an error that says which of the three it is not.
fn whole_amount(value: Decimal, noun: &str, fraction_reason: &str) -> Result<i128, UnitError> {
    if value.is_negative() {
        return Err(UnitError::Precision(format!("{noun} cannot be negative")));
    }
    value
        .to_integer()
        .ok_or_else(|| UnitError::Precision(fraction_reason.to_string()))
}

/// Kubernetes quantities are int64 underneath.
fn at_most_int64(value: i128, noun: &str) -> Result<u64, UnitError> {
    u64::try_from(value)
        .ok()
        .filter(|v| *v <= i64::MAX as u64)
        .ok_or_else(|| UnitError::Precision(format!("{noun} is larger than Kubernetes can hold")))
}

fn unknown(unit: &str, hint: &str) -> UnitError {
    UnitError::UnknownUnit {
        unit: unit.to_string(),
        hint: Some(hint.to_string()),
    }
}

/// The one `(number, unit)` of a simple quantity, or `None` for `1h30m`-style compound literals.
fn single(quantity: &Quantity) -> Option<(Decimal, &str)> {
    match &*quantity.parts {
        [(number, unit)] => Some((*number, unit.as_str())),
        _ => None,
    }
}

/// CPU in millicores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cpu {
    millicores: u64,
}

impl Cpu {
    /// Parses `250m`, `1`, `1.5` (cores).
    pub fn parse(expr: &Expr) -> Result<Cpu, UnitError> {
        let millicores = match &expr.kind {
            ExprKind::Number(cores) => cores.checked_mul_int(1000),
            ExprKind::Quantity(quantity) => match single(quantity) {
                Some((number, "m")) => Some(number),
                Some((_, unit)) => {
                    let hint = if is_memory_unit(unit) {
                        "that is a memory unit; CPU is written in cores (`1`, `0.5`) or millicores (`250m`)"
                    } else {
                        "CPU is written in cores (`1`, `0.5`) or millicores (`250m`)"
                    };
                    return Err(unknown(unit, hint));
                }
                None => return Err(UnitError::NotAQuantity),
            },
            _ => return Err(UnitError::NotAQuantity),
        };
        let too_large = || UnitError::Precision("CPU is larger than Kubernetes can hold".into());
        let millicores = whole_amount(
            millicores.ok_or_else(too_large)?,
            "CPU",
            "CPU is counted in whole millicores",
        )?;
        let millicores = at_most_int64(millicores, "CPU")?;
        Ok(Cpu { millicores })
    }

    /// Millicores.
    pub fn millicores(self) -> u64 {
        self.millicores
    }

    /// The Kubernetes quantity: whole cores as `1`, anything else in millicores (`250m`, `1500m`).
    pub fn to_quantity(self) -> String {
        if self.millicores.is_multiple_of(1000) {
            (self.millicores / 1000).to_string()
        } else {
            format!("{}m", self.millicores)
        }
    }
}

/// The Kubernetes memory suffixes and the bytes each stands for, powers of 1024 first.
const MEMORY_UNITS: [(&str, i128); 12] = [
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("Pi", 1 << 50),
    ("Ei", 1 << 60),
    ("k", 1_000),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
    ("P", 1_000_000_000_000_000),
    ("E", 1_000_000_000_000_000_000),
];

fn memory_factor(unit: &str) -> Option<i128> {
    MEMORY_UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, factor)| *factor)
}

fn is_memory_unit(unit: &str) -> bool {
    memory_factor(unit).is_some()
}

/// Memory in bytes, with the literal it was written as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Memory {
    bytes: u128,
    literal: String,
}

impl Memory {
    /// Parses `512Mi`, `1.5Gi`, `1G`. A bare number is rejected: `512` bytes is never what is meant.
    pub fn parse(expr: &Expr) -> Result<Memory, UnitError> {
        let (number, unit) = match &expr.kind {
            ExprKind::Number(number) => return Err(UnitError::MissingUnit(format!("{number}Mi"))),
            ExprKind::Quantity(quantity) => single(quantity).ok_or(UnitError::NotAQuantity)?,
            _ => return Err(UnitError::NotAQuantity),
        };
        let Some(factor) = memory_factor(unit) else {
            let hint = match unit {
                "m" => "`m` means thousandths of a byte; did you mean `Mi`?",
                "K" | "KB" | "kB" | "KiB" | "Kb" => "did you mean `Ki`?",
                "MB" | "MiB" | "Mb" => "did you mean `Mi`?",
                "GB" | "GiB" | "Gb" => "did you mean `Gi`?",
                "TB" | "TiB" | "Tb" => "did you mean `Ti`?",
                _ => "memory units are `Ki`, `Mi`, `Gi`, `Ti` (powers of 1024) or `k`, `M`, `G`, `T`",
            };
            return Err(unknown(unit, hint));
        };
        let too_large = || UnitError::Precision("memory is larger than Kubernetes can hold".into());
        let bytes = number.checked_mul_int(factor).ok_or_else(too_large)?;
        let bytes = u128::from(at_most_int64(
            whole_amount(bytes, "memory", "memory is a whole number of bytes")?,
            "memory",
        )?);
        Ok(Memory {
            bytes,
            literal: format!("{number}{unit}"),
        })
    }

    /// Bytes.
    pub fn bytes(&self) -> u128 {
        self.bytes
    }

    /// The Kubernetes quantity, as written (`512Mi`).
    pub fn to_quantity(&self) -> &str {
        &self.literal
    }
}

impl PartialOrd for Memory {
    fn partial_cmp(&self, other: &Memory) -> Option<std::cmp::Ordering> {
        Some(self.bytes.cmp(&other.bytes))
    }
}

/// A percentage as written (`70%` is 70).
pub fn parse_percent(expr: &Expr) -> Result<Decimal, UnitError> {
    match &expr.kind {
        ExprKind::Quantity(quantity) => match single(quantity) {
            Some((number, "%")) => Ok(number),
            Some((_, unit)) => Err(unknown(unit, "a percentage is written like `70%`")),
            None => Err(UnitError::NotAQuantity),
        },
        ExprKind::Number(number) => Err(UnitError::MissingUnit(format!("{number}%"))),
        _ => Err(UnitError::NotAQuantity),
    }
}

/// What a metric measures, which decides what its thresholds may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricUnit {
    /// A fraction between 0 and 1; thresholds are percentages (`1%`) or fractions (`0.01`).
    Ratio,
    /// A time in seconds; thresholds are durations (`500ms`).
    Seconds,
    /// A number of things; thresholds are plain numbers.
    Count,
    /// A percentage as Prometheus reports it (`100 * ...`), so `70%` is `70`. There is no upper bound:
    /// CPU utilisation over several cores, or against a request, passes 100%.
    Percent,
    /// An amount of memory in bytes; thresholds are memory quantities (`512Mi`, `1G`).
    Bytes,
    /// A rate, in events per second; thresholds are plain numbers.
    PerSecond,
}

impl MetricUnit {
    /// Every unit, with its name.
    pub const ALL: [(&'static str, MetricUnit); 6] = [
        ("ratio", MetricUnit::Ratio),
        ("seconds", MetricUnit::Seconds),
        ("count", MetricUnit::Count),
        ("percent", MetricUnit::Percent),
        ("bytes", MetricUnit::Bytes),
        ("per_second", MetricUnit::PerSecond),
    ];

    /// The unit called `name`.
    pub fn parse(name: &str) -> Option<MetricUnit> {
        MetricUnit::ALL.iter().find(|(n, _)| *n == name).map(|(_, unit)| *unit)
    }

    /// Its name in the language.
    pub fn name(self) -> &'static str {
        match self {
            MetricUnit::Ratio => "ratio",
            MetricUnit::Seconds => "seconds",
            MetricUnit::Count => "count",
            MetricUnit::Percent => "percent",
            MetricUnit::Bytes => "bytes",
            MetricUnit::PerSecond => "per_second",
        }
    }
}

/// Why a threshold does not fit a metric's unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ThresholdError {
    /// The threshold is of another kind; carries its kind in words and what to write.
    WrongUnit {
        /// What the threshold is, e.g. "a percentage".
        found: &'static str,
        /// How to write a threshold for this metric.
        help: String,
    },
    /// A bare number where a unit is needed; carries the suggestion.
    MissingUnit(String),
    /// A ratio above 1, a value a float64 cannot hold exactly, or a negative value.
    OutOfRange(String),
    /// The duration itself is malformed, or an amount of memory is not whole bytes.
    Unit(UnitError),
}

/// 2^53: the largest whole number from which every smaller one is exact in a float64.
const MAX_EXACT_FLOAT: i128 = 1 << 53;

/// Converts a threshold into the metric's own unit: `1%` against a ratio is `0.01`, `500ms` against
/// seconds is `0.5`, `2Gi` against bytes is `2147483648`.
pub fn convert_threshold(threshold: &Expr, unit: MetricUnit) -> Result<Decimal, ThresholdError> {
    let value = match (unit, &threshold.kind) {
        (MetricUnit::Ratio, ExprKind::Number(fraction)) => {
            if *fraction > Decimal::from_int(1) {
                return Err(ThresholdError::OutOfRange(format!(
                    "a ratio is between 0 and 1; for {fraction} percent write `{fraction}%`"
                )));
            }
            *fraction
        }
        (MetricUnit::Ratio, ExprKind::Quantity(_)) => match parse_percent(threshold) {
            Ok(percent) if percent > Decimal::from_int(100) => {
                return Err(ThresholdError::OutOfRange("a ratio cannot exceed 100%".into()));
            }
            Ok(percent) => percent.shift_down(2),
            Err(_) => {
                return Err(ThresholdError::WrongUnit {
                    found: quantity_kind(threshold),
                    help: "compare a ratio with a percentage such as `1%`, or a fraction such as `0.01`".into(),
                });
            }
        },
        (MetricUnit::Seconds, ExprKind::Number(number)) => {
            let suggestion = match number.checked_mul_int(1000) {
                Some(millis) if !number.is_integer() => format!("{millis}ms"),
                _ => format!("{number}s"),
            };
            return Err(ThresholdError::MissingUnit(suggestion));
        }
        (MetricUnit::Seconds, ExprKind::Quantity(_)) => {
            if quantity_kind(threshold) != "a duration" {
                return Err(ThresholdError::WrongUnit {
                    found: quantity_kind(threshold),
                    help: "compare seconds with a duration such as `500ms` or `2s`".into(),
                });
            }
            Duration::parse(threshold).map_err(ThresholdError::Unit)?.as_seconds()
        }
        (MetricUnit::Count, ExprKind::Number(number)) => exact_in_float(*number, "")?,
        (MetricUnit::Count, ExprKind::Quantity(_)) => {
            return Err(ThresholdError::WrongUnit {
                found: quantity_kind(threshold),
                help: "compare a count with a plain number such as `5`".into(),
            });
        }
        (MetricUnit::Percent, ExprKind::Number(number)) => {
            return Err(ThresholdError::MissingUnit(format!("{number}%")));
        }
        (MetricUnit::Percent, ExprKind::Quantity(_)) => {
            parse_percent(threshold).map_err(|_| ThresholdError::WrongUnit {
                found: quantity_kind(threshold),
                help: "compare a percentage with another percentage such as `70%`".into(),
            })?
        }
        (MetricUnit::Bytes, ExprKind::Number(number)) => {
            return Err(ThresholdError::MissingUnit(memory_literal(*number)));
        }
        (MetricUnit::Bytes, ExprKind::Quantity(quantity)) => {
            let Some((number, factor)) =
                single(quantity).and_then(|(number, unit)| Some((number, memory_factor(unit)?)))
            else {
                return Err(ThresholdError::WrongUnit {
                    found: quantity_kind(threshold),
                    help: "compare bytes with an amount of memory such as `512Mi` or `1G`".into(),
                });
            };
            // Not `Memory::parse`: its limit is what Kubernetes holds, a threshold's is what a float64 does.
            let bytes = number
                .checked_mul_int(factor)
                .ok_or_else(|| beyond_float(BYTES_LIMIT))?;
            if !bytes.is_integer() {
                return Err(ThresholdError::Unit(UnitError::Precision(
                    "memory is a whole number of bytes".into(),
                )));
            }
            exact_in_float(bytes, BYTES_LIMIT)?
        }
        (MetricUnit::PerSecond, ExprKind::Number(number)) => *number,
        (MetricUnit::PerSecond, ExprKind::Quantity(_)) => {
            return Err(ThresholdError::WrongUnit {
                found: quantity_kind(threshold),
                help: "compare a rate per second with a plain number such as `100`".into(),
            });
        }
        (_, _) => {
            return Err(ThresholdError::WrongUnit {
                found: describe_kind(threshold),
                help: format!("a threshold for a `{}` metric is {}", unit.name(), unit_example(unit)),
            });
        }
    };
    if value.is_negative() {
        return Err(ThresholdError::OutOfRange("a threshold cannot be negative".into()));
    }
    Ok(value)
}

/// How the float64 limit reads for bytes, where 2^53 is `8Pi`.
const BYTES_LIMIT: &str = " bytes (8Pi)";

/// `value`, unless a float64 would round it: Prometheus values are float64. `limit_unit` follows the
/// limit in the error.
fn exact_in_float(value: Decimal, limit_unit: &str) -> Result<Decimal, ThresholdError> {
    if value > Decimal::from_int(MAX_EXACT_FLOAT) || value < Decimal::from_int(-MAX_EXACT_FLOAT) {
        return Err(beyond_float(limit_unit));
    }
    Ok(value)
}

fn beyond_float(limit_unit: &str) -> ThresholdError {
    ThresholdError::OutOfRange(format!(
        "Prometheus values are float64, which hold whole numbers exactly only up to {MAX_EXACT_FLOAT}{limit_unit}"
    ))
}

/// The shortest memory literal worth `bytes` (`2147483648` is `2Gi`, `512` is `0.5Ki`): a bare
/// number against a `bytes` metric is read as bytes, as `0.5` against seconds is read as `500ms`.
/// A fraction of a byte has no such literal, so it gets the `Mi` that resources suggest.
fn memory_literal(bytes: Decimal) -> String {
    let exact = bytes.is_integer().then(|| {
        MEMORY_UNITS
            .iter()
            .filter_map(|(unit, factor)| Some(format!("{}{unit}", short_quotient(bytes, *factor)?)))
            .min_by_key(String::len)
    });
    exact.flatten().unwrap_or_else(|| format!("{bytes}Mi"))
}

/// `number / factor` when it has at most three decimals, which keeps a suggested literal readable;
/// `k` always has one for whole bytes.
fn short_quotient(number: Decimal, factor: i128) -> Option<Decimal> {
    (0..=3).find_map(|places| {
        let scaled = number.checked_mul_int(10i128.pow(places))?.to_integer()?;
        (scaled % factor == 0).then(|| Decimal::from_int(scaled / factor).shift_down(places))
    })
}

fn unit_example(unit: MetricUnit) -> &'static str {
    match unit {
        MetricUnit::Ratio => "a percentage such as `1%`",
        MetricUnit::Seconds => "a duration such as `500ms`",
        MetricUnit::Count => "a plain number such as `5`",
        MetricUnit::Percent => "a percentage such as `70%`",
        MetricUnit::Bytes => "an amount of memory such as `512Mi`",
        MetricUnit::PerSecond => "a plain number such as `100`",
    }
}

/// What kind of quantity a literal is, by its suffix, in words.
pub fn quantity_kind(expr: &Expr) -> &'static str {
    let ExprKind::Quantity(quantity) = &expr.kind else {
        return describe_kind(expr);
    };
    let units: Vec<&str> = quantity.parts.iter().map(|(_, unit)| unit.as_str()).collect();
    match units.as_slice() {
        ["%"] => "a percentage",
        [unit] if is_memory_unit(unit) => "an amount of memory",
        units
            if units
                .iter()
                .all(|u| matches!(*u, "ms" | "s" | "m" | "h" | "d" | "w" | "us" | "ns")) =>
        {
            "a duration"
        }
        _ => "a number with an unknown unit",
    }
}

/// The kind of any expression, in words.
pub fn describe_kind(expr: &Expr) -> &'static str {
    match &expr.kind {
        ExprKind::Str(_) => "a string",
        ExprKind::Number(_) => "a number",
        ExprKind::Quantity(_) => quantity_kind(expr),
        ExprKind::Bool(_) => "a boolean",
        ExprKind::Path(_) => "a name",
        ExprKind::Call(_) => "a call",
        ExprKind::Object(_) => "an object",
        ExprKind::List(_) => "a list",
        ExprKind::Range(..) => "a range",
        ExprKind::Invalid => "an invalid literal",
    }
}

/// The literal text of a number or quantity, as written.
pub fn literal_text(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Number(number) => Some(number.to_string()),
        ExprKind::Quantity(quantity) => Some(quantity.parts.iter().map(|(n, u)| format!("{n}{u}")).collect()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{SourceMap, Span};

    fn expr(text: &str) -> Expr {
        let span = Span::new(SourceMap::new().add("t", String::new()), 0, 0);
        let numeric_end = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(text.len());
        if numeric_end == text.len() {
            return Expr {
                kind: ExprKind::Number(Decimal::parse(text).unwrap()),
                span,
            };
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let n = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                .unwrap_or(rest.len());
            let (number, tail) = rest.split_at(n);
            let u = tail.find(|c: char| c.is_ascii_digit()).unwrap_or(tail.len());
            let (unit, tail) = tail.split_at(u);
            parts.push((Decimal::parse(number).unwrap(), unit.to_string()));
            rest = tail;
        }
        Expr {
            kind: ExprKind::Quantity(Quantity { parts: parts.into() }),
            span,
        }
    }

    #[test]
    fn durations_parse_and_print_as_go_durations() {
        let cases = [
            ("500ms", 500, "500ms"),
            ("30s", 30_000, "30s"),
            ("1h30m", 5_400_000, "1h30m"),
            ("1.5m", 90_000, "1m30s"),
            ("90s", 90_000, "1m30s"),
            ("0s", 0, "0s"),
        ];
        for (text, millis, go) in cases {
            let duration = Duration::parse(&expr(text)).unwrap();
            assert_eq!((duration.millis(), duration.to_go().as_str()), (millis, go), "{text}");
        }
        assert_eq!(Duration::parse(&expr("30")), Err(UnitError::MissingUnit("30s".into())));
        assert!(matches!(
            Duration::parse(&expr("1d")),
            Err(UnitError::UnknownUnit { .. })
        ));
        assert!(matches!(Duration::parse(&expr("0.5ms")), Err(UnitError::Precision(_))));
    }

    #[test]
    fn cpu_and_memory_become_kubernetes_quantities() {
        for (text, millicores, quantity) in [
            ("250m", 250, "250m"),
            ("1", 1000, "1"),
            ("1.5", 1500, "1500m"),
            ("2000m", 2000, "2"),
        ] {
            let cpu = Cpu::parse(&expr(text)).unwrap();
            assert_eq!(
                (cpu.millicores(), cpu.to_quantity().as_str()),
                (millicores, quantity),
                "{text}"
            );
        }
        assert!(matches!(Cpu::parse(&expr("256Mi")), Err(UnitError::UnknownUnit { .. })));
        for (text, bytes) in [("512Mi", 512u128 << 20), ("1.5Gi", 3u128 << 29), ("1G", 1_000_000_000)] {
            let memory = Memory::parse(&expr(text)).unwrap();
            assert_eq!((memory.bytes(), memory.to_quantity()), (bytes, text), "{text}");
        }
        assert_eq!(Memory::parse(&expr("512")), Err(UnitError::MissingUnit("512Mi".into())));
        assert!(matches!(
            Memory::parse(&expr("512m")),
            Err(UnitError::UnknownUnit { .. })
        ));
        assert!(Memory::parse(&expr("0.5Ki")).is_ok());
        assert!(matches!(Memory::parse(&expr("0.0001Ki")), Err(UnitError::Precision(_))));
    }

    #[test]
    fn thresholds_convert_into_the_metric_unit() {
        let ok = [
            ("1%", MetricUnit::Ratio, "0.01"),
            ("99.9%", MetricUnit::Ratio, "0.999"),
            ("0.05", MetricUnit::Ratio, "0.05"),
            ("500ms", MetricUnit::Seconds, "0.5"),
            ("2s", MetricUnit::Seconds, "2"),
            ("1m30s", MetricUnit::Seconds, "90"),
            ("5", MetricUnit::Count, "5"),
            ("2.5", MetricUnit::Count, "2.5"),
            ("70%", MetricUnit::Percent, "70"),
            ("0.5%", MetricUnit::Percent, "0.5"),
            ("150%", MetricUnit::Percent, "150"),
            ("2Gi", MetricUnit::Bytes, "2147483648"),
            ("1G", MetricUnit::Bytes, "1000000000"),
            ("512Mi", MetricUnit::Bytes, "536870912"),
            ("1.5Ki", MetricUnit::Bytes, "1536"),
            ("8Pi", MetricUnit::Bytes, "9007199254740992"),
            ("100", MetricUnit::PerSecond, "100"),
            ("0.5", MetricUnit::PerSecond, "0.5"),
        ];
        for (text, unit, expected) in ok {
            assert_eq!(
                convert_threshold(&expr(text), unit).unwrap().to_string(),
                expected,
                "{text}"
            );
        }
        let wrong_unit = [
            ("1%", MetricUnit::Seconds),
            ("500ms", MetricUnit::Ratio),
            ("5%", MetricUnit::Count),
            ("1Gi", MetricUnit::Seconds),
            ("512Mi", MetricUnit::Percent),
            ("5m", MetricUnit::Percent),
            ("70x", MetricUnit::Percent),
            ("30s", MetricUnit::Bytes),
            ("10%", MetricUnit::Bytes),
            ("512MB", MetricUnit::Bytes),
            ("1h30m", MetricUnit::Bytes),
            ("5%", MetricUnit::PerSecond),
            ("1s", MetricUnit::PerSecond),
            ("1Gi", MetricUnit::PerSecond),
        ];
        for (text, unit) in wrong_unit {
            assert!(
                matches!(
                    convert_threshold(&expr(text), unit),
                    Err(ThresholdError::WrongUnit { .. })
                ),
                "{text}"
            );
        }
        assert_eq!(
            convert_threshold(&expr("0.5"), MetricUnit::Seconds),
            Err(ThresholdError::MissingUnit("500ms".into()))
        );
        assert!(matches!(
            convert_threshold(&expr("5"), MetricUnit::Ratio),
            Err(ThresholdError::OutOfRange(_))
        ));
        assert!(matches!(
            convert_threshold(&expr("150%"), MetricUnit::Ratio),
            Err(ThresholdError::OutOfRange(_))
        ));
        let missing_unit = [
            ("70", MetricUnit::Percent, "70%"),
            ("2147483648", MetricUnit::Bytes, "2Gi"),
            ("1000000000", MetricUnit::Bytes, "1G"),
            ("1536", MetricUnit::Bytes, "1.5Ki"),
            ("512", MetricUnit::Bytes, "0.5Ki"),
            ("100", MetricUnit::Bytes, "0.1k"),
            ("0.5", MetricUnit::Bytes, "0.5Mi"),
        ];
        for (text, unit, suggestion) in missing_unit {
            assert_eq!(
                convert_threshold(&expr(text), unit),
                Err(ThresholdError::MissingUnit(suggestion.into())),
                "{text}"
            );
        }
        for (text, unit) in [
            ("-5%", MetricUnit::Percent),
            ("-1", MetricUnit::PerSecond),
            ("-1Gi", MetricUnit::Bytes),
            ("9Pi", MetricUnit::Bytes),
            ("10E", MetricUnit::Bytes),
        ] {
            assert!(
                matches!(convert_threshold(&expr(text), unit), Err(ThresholdError::OutOfRange(_))),
                "{text}"
            );
        }
        assert!(matches!(
            convert_threshold(&expr("0.0001Ki"), MetricUnit::Bytes),
            Err(ThresholdError::Unit(UnitError::Precision(_)))
        ));
    }
}
