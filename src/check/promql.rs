//! Metric queries parsed as PromQL when the declaration is checked, so that a typo is an error at
//! its characters in the `.ship` file instead of a release that never promotes or never rolls back.
//!
//! A query is a template: `${...}` stands for an argument known only at each call. The template is
//! parsed once, with each interpolation replaced by a stand-in of its parameter's type (a duration
//! for a duration, a number for a number, a name for a string or a service field), which is valid
//! PromQL wherever the real value would be. String values are escaped for PromQL strings when they
//! are filled in (see `metrics.rs`), so no argument can change the query's shape.

use std::ops::Range;

use super::Checker;
use super::metrics::{ParamSig, ParamType};
use crate::diagnostics::{Code, Diagnostic};
use crate::promql::{self, ValueType};
use crate::source::Span;
use crate::syntax::ast::{self, Interpolation, StrPart, TextPiece};

/// Where a stretch of the stand-in query came from.
enum Origin<'a> {
    Text(&'a TextPiece),
    Interpolation(&'a Interpolation),
}

impl Checker<'_> {
    /// Parses the query of a declaration whose parameters and interpolations checked clean.
    pub(super) fn check_promql(&mut self, decl: &ast::Metric, params: &[ParamSig]) {
        let mut query = String::new();
        let mut origins: Vec<(Range<usize>, Origin<'_>)> = Vec::new();
        for part in &decl.query.parts {
            let start = query.len();
            let origin = match part {
                StrPart::Text(piece) => {
                    query.push_str(&piece.text);
                    Origin::Text(piece)
                }
                StrPart::Interpolation(interpolation) => {
                    let Some(stand_in) = stand_in(interpolation, params) else {
                        return;
                    };
                    query.push_str(stand_in);
                    Origin::Interpolation(interpolation)
                }
            };
            origins.push((start..query.len(), origin));
        }
        match promql::parse(&query) {
            Ok(parsed) if parsed.value_type() == ValueType::Vector => {
                for caveat in parsed.caveats() {
                    let span = source_span(&origins, &caveat.span, decl.query.span);
                    self.report(
                        Diagnostic::new(Code::W0706, span, caveat.message)
                            .label("a default Prometheus refuses this")
                            .help("use a stable function, or keep this if your Prometheus enables the feature")
                            .note("a refused query errors at every measurement, and the release would stop with an analysis error"),
                    );
                }
            }
            Ok(parsed) => {
                let found = parsed.value_type();
                self.report(
                    Diagnostic::new(
                        Code::E0514,
                        decl.query.span,
                        format!("the query of `{}` returns {}, not an instant vector", decl.name.name, found.describe()),
                    )
                    .label(format!("{} query", found.describe()))
                    .help(match found {
                        ValueType::Scalar => "wrap it in `vector(...)`, e.g. `vector(scalar(...))`",
                        _ => "aggregate it to one value per series, e.g. with `rate(...)` or `sum(...)`",
                    })
                    .note("rollback conditions check every sample of the vector Prometheus returns; Argo cannot read the result of this query that way"),
                );
            }
            Err(error) => {
                let span = source_span(&origins, &error.span, decl.query.span);
                let mut diagnostic = Diagnostic::new(
                    Code::E0513,
                    span,
                    format!("the query of `{}` is not valid PromQL: {}", decl.name.name, error.message),
                )
                .label(error.message.clone())
                .note("Prometheus would refuse this query at every measurement, and the release would stop with an analysis error");
                if let Some(help) = error.help {
                    diagnostic = diagnostic.help(help);
                }
                self.report(diagnostic);
            }
        }
    }
}

/// Valid PromQL wherever a value of the parameter's type is.
fn stand_in(interpolation: &Interpolation, params: &[ParamSig]) -> Option<&'static str> {
    let name = interpolation.path.first()?;
    let param = params.iter().find(|param| param.name == name.name)?;
    Some(match param.ty {
        ParamType::Service | ParamType::String | ParamType::Version => "x",
        ParamType::Int | ParamType::Float => "1",
        ParamType::Duration => "5m",
    })
}

/// The `.ship` span of a byte range of the stand-in query.
fn source_span(origins: &[(Range<usize>, Origin<'_>)], range: &Range<usize>, whole: Span) -> Span {
    let found = origins
        .iter()
        .find(|(stretch, _)| stretch.contains(&range.start))
        .or_else(|| origins.iter().rev().find(|(stretch, _)| stretch.end == range.start));
    match found {
        Some((stretch, Origin::Text(piece))) => {
            let start = range.start - stretch.start;
            let end = range.end.clamp(range.start, stretch.end) - stretch.start;
            piece.span_of(start, end)
        }
        Some((_, Origin::Interpolation(interpolation))) => interpolation.span,
        None => whole,
    }
}
