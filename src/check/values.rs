//! Reading values out of expressions: the typed expectations every block shares, each reporting a
//! precise diagnostic (and returning `None`) when the value is not what the field takes.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::ops::RangeInclusive;

use super::Checker;
use super::args::ParamSpec;
use super::units::{self, Cpu, Duration, Memory, UnitError};
use crate::decimal::Decimal;
use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::source::Span;
use crate::syntax::ast::{Call, Expr, ExprKind, Field, Ident, StrLit, StrPart};

/// Where each name was first given, so that repeats are found in one pass.
#[derive(Default)]
pub struct FirstSeen<'a> {
    spans: BTreeMap<&'a str, Span>,
}

impl<'a> FirstSeen<'a> {
    /// `None` the first time `name` is seen; afterwards, where it was first seen.
    pub fn repeat_of(&mut self, name: &'a str, span: Span) -> Option<Span> {
        match self.spans.entry(name) {
            Entry::Occupied(first) => Some(*first.get()),
            Entry::Vacant(slot) => {
                slot.insert(span);
                None
            }
        }
    }
}

/// The fields of one block, checked against the names the block takes.
pub struct FieldSet<'a> {
    fields: BTreeMap<&'a str, &'a Field>,
}

impl<'a> FieldSet<'a> {
    /// Reports unknown and repeated fields; later lookups see the first of each name.
    pub fn new(checker: &mut Checker<'_>, fields: &'a [Field], allowed: &[&str], block: &str) -> FieldSet<'a> {
        let mut by_name: BTreeMap<&'a str, &'a Field> = BTreeMap::new();
        let mut seen = FirstSeen::default();
        for field in fields {
            let name = field.name.name.as_str();
            if !allowed.contains(&name) {
                let help = suggest::help_for(name, allowed.iter().copied())
                    .unwrap_or_else(|| format!("the fields of {block} are {}", list_in_backticks(allowed)));
                checker.report(
                    Diagnostic::new(Code::E0208, field.name.span, format!("{block} has no field `{name}`"))
                        .label("unknown field")
                        .help(help),
                );
                continue;
            }
            if checker.is_repeat(&mut seen, &field.name) {
                continue;
            }
            by_name.insert(name, field);
        }
        FieldSet { fields: by_name }
    }

    /// The field called `name`, if set.
    pub fn get(&self, name: &str) -> Option<&'a Field> {
        self.fields.get(name).copied()
    }
}

/// A reference in the body of a declaration (`owner`) to a parameter it does not declare.
pub fn unknown_parameter(name: &Ident, owner: &str, help: String) -> Diagnostic {
    Diagnostic::new(
        Code::E0211,
        name.span,
        format!("`{}` is not a parameter of `{owner}`", name.name),
    )
    .label("unknown parameter")
    .help(help)
}

/// "unknown {what} `name`" for a word that must be one of `choices`: the label lists them and the help
/// suggests the closest. Callers may add a note before reporting it.
pub fn unknown_choice(code: Code, span: Span, name: &str, what: &str, choices: &[&str]) -> Diagnostic {
    Diagnostic::new(code, span, format!("unknown {what} `{name}`"))
        .label(format!("expected {}", one_of(choices)))
        .maybe_help(suggest::help_for(name, choices.iter().copied()))
}

/// `a`, `a or b`, `one of a, b or c`, in backticks.
fn one_of(choices: &[&str]) -> String {
    let quoted: Vec<String> = choices.iter().map(|choice| format!("`{choice}`")).collect();
    match quoted.as_slice() {
        [] => "nothing".to_string(),
        [only] => only.clone(),
        [first, second] => format!("{first} or {second}"),
        [init @ .., last] => format!("one of {} or {last}", init.join(", ")),
    }
}

/// `a`, `b` and `c` in backticks.
pub fn list_in_backticks(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("`{item}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

impl Checker<'_> {
    /// The arguments of a call to the built-in `callee` (an unknown callee is reported as an unknown
    /// `what`), one per parameter, or `None` after reporting.
    pub fn builtin_args<'e>(
        &mut self,
        call: &'e Call,
        callee: &str,
        what: &str,
        params: &[ParamSpec<'_>],
    ) -> Option<Vec<Option<&'e Expr>>> {
        let name = call.callee_name();
        if name != callee {
            self.report(unknown_choice(Code::E0201, call.callee_span(), &name, what, &[callee]));
            return None;
        }
        self.bind_args(call, params, callee)
    }

    /// Reports `key` when `seen` already has it (a field, key or argument given twice); true for a
    /// repeat, which the caller then skips.
    pub fn is_repeat<'a>(&mut self, seen: &mut FirstSeen<'a>, key: &'a Ident) -> bool {
        let Some(first) = seen.repeat_of(&key.name, key.span) else {
            return false;
        };
        self.report(
            Diagnostic::new(Code::E0209, key.span, format!("`{}` is set twice", key.name))
                .label("set again here")
                .secondary(first, "first set here")
                .help("remove one of the two"),
        );
        true
    }

    /// Reports that `expr` is not the `expected` kind of value for `what`.
    pub fn mismatch(&mut self, expr: &Expr, what: &str, expected: &str) {
        if expr.is_invalid() {
            return;
        }
        self.report(
            Diagnostic::new(
                Code::E0302,
                expr.span,
                format!("{what} expects {expected}, found {}", units::describe_kind(expr)),
            )
            .label(format!("expected {expected}")),
        );
    }

    /// Reports why `expr` is not the quantity `expected` for `what`.
    pub fn unit_error(&mut self, expr: &Expr, what: &str, expected: &str, error: UnitError) {
        if expr.is_invalid() {
            return;
        }
        let literal = units::literal_text(expr).unwrap_or_default();
        let diagnostic = match error {
            UnitError::MissingUnit(suggestion) => Diagnostic::new(
                Code::E0301,
                expr.span,
                format!("{what} expects {expected}, found the plain number `{literal}`"),
            )
            .label("this number has no unit")
            .help(format!("write `{suggestion}`")),
            UnitError::UnknownUnit { unit, hint } => {
                Diagnostic::new(Code::E0306, expr.span, format!("`{unit}` is not a unit of {expected}"))
                    .label(format!("{what} expects {expected}"))
                    .maybe_help(hint)
            }
            UnitError::Precision(reason) => Diagnostic::new(
                Code::E0305,
                expr.span,
                format!("`{literal}` is not a valid value for {what}"),
            )
            .label(reason),
            UnitError::NotAQuantity => {
                self.mismatch(expr, what, expected);
                return;
            }
        };
        self.report(diagnostic);
    }

    /// A duration.
    pub fn duration(&mut self, expr: &Expr, what: &str) -> Option<Duration> {
        Duration::parse(expr)
            .map_err(|error| self.unit_error(expr, what, "a duration", error))
            .ok()
    }

    /// A duration that Kubernetes can hold in a `...Seconds` field.
    pub fn whole_seconds(&mut self, expr: &Expr, what: &str) -> Option<Duration> {
        let duration = self.duration(expr, what)?;
        match duration.whole_seconds() {
            Some(seconds) if seconds <= i32::MAX as u64 => return Some(duration),
            Some(_) => {
                self.report(
                    Diagnostic::new(Code::E0305, expr.span, format!("{what} is too long"))
                        .label(format!(
                            "Argo stores it as an int32 of seconds, at most {}",
                            Duration::from_millis(i32::MAX as u64 * 1000).to_go()
                        ))
                        .help("write a shorter duration"),
                );
                return None;
            }
            None => {}
        }
        self.report(
            Diagnostic::new(
                Code::E0305,
                expr.span,
                format!("{what} must be a whole number of seconds"),
            )
            .label(format!("`{}` is not", duration.to_go()))
            .help("Argo stores it in whole seconds; round it to `s`, `m` or `h`"),
        );
        None
    }

    /// A whole number in `range`.
    pub fn integer(&mut self, expr: &Expr, what: &str, range: RangeInclusive<u64>) -> Option<u64> {
        let number = match &expr.kind {
            ExprKind::Number(number) => *number,
            _ => {
                self.mismatch(expr, what, "a whole number");
                return None;
            }
        };
        match number.to_u64().filter(|n| range.contains(n)) {
            Some(n) => Some(n),
            None => {
                let reason = if number.is_integer() {
                    format!("must be between {} and {}", range.start(), range.end())
                } else {
                    "must be a whole number".to_string()
                };
                self.report(
                    Diagnostic::new(Code::E0305, expr.span, format!("{what} is out of range"))
                        .label(format!("{reason}, found {number}")),
                );
                None
            }
        }
    }

    /// A string literal; `None` also for one whose decoding already reported an error.
    pub fn string<'e>(&mut self, expr: &'e Expr, what: &str) -> Option<&'e StrLit> {
        match &expr.kind {
            ExprKind::Str(literal) => (!literal.malformed).then_some(literal),
            _ => {
                self.mismatch(expr, what, "a string");
                None
            }
        }
    }

    /// A string literal without interpolations.
    pub fn plain_string(&mut self, expr: &Expr, what: &str) -> Option<String> {
        let literal = self.string(expr, what)?;
        if let Some(text) = literal.as_plain() {
            return Some(text);
        }
        for interpolation in literal.interpolations() {
            self.report(
                Diagnostic::new(
                    Code::E0201,
                    interpolation.span,
                    format!("{what} cannot interpolate names"),
                )
                .label("no names are available here")
                .help("write the value out, or `\\${` for a literal `${`"),
            );
        }
        None
    }

    /// CPU.
    pub fn cpu(&mut self, expr: &Expr, what: &str) -> Option<Cpu> {
        Cpu::parse(expr)
            .map_err(|error| self.unit_error(expr, what, "CPU", error))
            .ok()
    }

    /// Memory.
    pub fn memory(&mut self, expr: &Expr, what: &str) -> Option<Memory> {
        Memory::parse(expr)
            .map_err(|error| self.unit_error(expr, what, "memory", error))
            .ok()
    }

    /// A percentage.
    pub fn percent(&mut self, expr: &Expr, what: &str) -> Option<Decimal> {
        units::parse_percent(expr)
            .map_err(|error| self.unit_error(expr, what, "a percentage", error))
            .ok()
    }

    /// Reports `{{` in a string that Argo will template, where it would be read as an Argo variable.
    pub fn reject_argo_templates(&mut self, literal: &StrLit, what: &str) -> bool {
        let mut clean = true;
        // A check definition's text and a use's argument are pieces of their own, and a `{` ending one
        // with a `{` starting the next is a `{{` all the same; it is shown at the second `{`.
        let mut after_open_brace = false;
        for part in &literal.parts {
            let StrPart::Text(piece) = part else {
                after_open_brace = false;
                continue;
            };
            let across_pieces = (after_open_brace && piece.text.starts_with('{')).then(|| piece.span_of(0, 1));
            let within_piece = piece.text.find("{{").map(|at| piece.span_of(at, at + 2));
            if let Some(span) = across_pieces.or(within_piece) {
                clean = false;
                self.report(
                    Diagnostic::new(Code::E0508, span, format!("{what} contains `{{{{`"))
                        .label("Argo would read this as the start of one of its own variables")
                        .help("Argo substitutes `{{...}}` in analysis strings when a release runs; remove it, or use `${...}` for a parameter")
                        .note("a literal `{{` cannot be passed through an Argo AnalysisTemplate"),
                );
            }
            if !piece.text.is_empty() {
                after_open_brace = piece.text.ends_with('{');
            }
        }
        clean
    }
}
