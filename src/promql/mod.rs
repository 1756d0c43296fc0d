//! A PromQL parser for the queries of `metric` declarations, with errors that point at the exact
//! characters of the query.
//!
//! It accepts what Prometheus (2.x and 3.x) accepts in an instant query, following the Go parser
//! (`promql/parser`: `lex.go`, `generated_parser.y`, `parse.go`, `functions.go`): the same tokens,
//! precedence and associativity, modifiers, function table and type checks, and regular expressions
//! in Go's syntax. Where the versions differ the 3.x behaviour is followed: durations usable as
//! numbers (`time() - 5m`, `foo[300]`, `offset 60`), `_` in numbers, quoted UTF-8 metric and label
//! names (`{"http.duration"}`, `by ("service.name")`), `limitk`/`limit_ratio`. Functions that a
//! default Prometheus refuses (experimental ones, and `holt_winters`, removed in 3.0) are accepted
//! and listed by [`Query::caveats`], for the caller to warn about.
//!
//! Deliberate differences from Prometheus:
//! - a query whose result is a string or a range vector is rejected (Argo Rollouts cannot use it);
//! - `label_replace`'s regular expression is checked here, where Prometheus only finds a bad one
//!   when the query runs;
//! - `0xee` is read as a hexadecimal number, as Prometheus 2 does (the newest lexer reads the `e`
//!   as an exponent and rejects it), and `#` comments are also accepted inside `[...]`;
//! - these features Prometheus keeps behind flags are rejected: duration arithmetic (`[5m * 2]`),
//!   `smoothed`/`anchored`, `fill(...)` modifiers, and the experimental functions not yet in a
//!   release's function list (`histogram_quantiles`, `integral`, `step()`, `range()`).
//!
//! Only the first error is reported, as Prometheus does: syntax errors before type errors.
//!
//! ```
//! use shipc::promql::{self, ValueType};
//!
//! let query = promql::parse(r#"sum(rate(http_requests_total{code=~"5.."}[5m]))"#).unwrap();
//! assert_eq!(query.value_type(), ValueType::Vector);
//!
//! let error = promql::parse("rat(http_requests_total[5m])").unwrap_err();
//! assert_eq!(error.span, 0..3);
//! assert_eq!(error.message, "unknown function `rat`");
//! assert_eq!(error.help.as_deref(), Some("did you mean `rate`?"));
//! ```
//!
//! Parsing takes time linear in the length of the query, never panics, and never recurses deeper
//! than [`MAX_DEPTH`] levels of nesting: a deeper query is an error.

mod ast;
mod check;
mod functions;
mod lexer;
mod parser;
mod regex;

#[cfg(test)]
mod tests;

use std::fmt;
use std::ops::Range;

pub use ast::{
    Aggregate, AggregateOp, At, AtTime, Binary, BinaryOp, Call, Duration, Expr, GroupModifier, GroupSide, Grouping,
    LabelMatcher, MatchOp, MatchingKind, MatrixSelector, Name, NumberLiteral, Paren, Span, StringLiteral, Subquery,
    Unary, UnaryOp, ValueType, VectorMatching, VectorSelector,
};
pub use functions::{Availability, FUNCTIONS, Function};
pub use parser::MAX_DEPTH;

/// Why a query was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromqlError {
    /// The byte range of the offending characters in the query (empty at the end of the query when
    /// something is missing there).
    pub span: Range<usize>,
    /// What is wrong, in plain words.
    pub message: String,
    /// How to fix it, when there is a likely fix.
    pub help: Option<String>,
}

impl fmt::Display for PromqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at bytes {}..{})", self.message, self.span.start, self.span.end)
    }
}

impl std::error::Error for PromqlError {}

/// An error at `span`, boxed: results stay small on the parser's hot path.
fn error(span: Span, message: impl Into<String>) -> Box<PromqlError> {
    Box::new(PromqlError {
        span,
        message: message.into(),
        help: None,
    })
}

fn with_help(mut error: Box<PromqlError>, help: impl Into<String>) -> Box<PromqlError> {
    error.help = Some(help.into());
    error
}

/// A parsed and type-checked query whose result is a scalar or an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    expr: Expr,
    value_type: ValueType,
}

/// Something a query uses that a Prometheus may refuse although the query is valid PromQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caveat {
    /// Where it is used.
    pub span: Range<usize>,
    /// What it is and when Prometheus refuses it.
    pub message: String,
}

impl Query {
    /// The type of the result: [`ValueType::Scalar`] or [`ValueType::Vector`].
    pub fn value_type(&self) -> ValueType {
        self.value_type
    }

    /// The syntax tree.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The syntax tree, by value.
    pub fn into_expr(self) -> Expr {
        self.expr
    }

    /// Every vector selector, range selectors' included, in source order.
    pub fn selectors(&self) -> Vec<&VectorSelector> {
        self.expr.selectors()
    }

    /// The experimental functions and aggregations the query uses (Prometheus accepts them only with
    /// `--enable-feature=promql-experimental-functions`) and the functions Prometheus 3 removed.
    pub fn caveats(&self) -> Vec<Caveat> {
        let experimental = |name: &str| {
            format!(
                "`{name}` is experimental: Prometheus accepts it only with `--enable-feature=promql-experimental-functions`"
            )
        };
        self.expr
            .descendants()
            .into_iter()
            .filter_map(|expr| match expr {
                Expr::Call(call) => match call.function.availability {
                    Availability::Stable => None,
                    Availability::Experimental => Some(Caveat {
                        span: call.name_span.clone(),
                        message: experimental(call.function.name),
                    }),
                    Availability::RemovedIn3 => Some(Caveat {
                        span: call.name_span.clone(),
                        message: format!(
                            "`{}` was removed in Prometheus 3 (where it is `double_exponential_smoothing`)",
                            call.function.name
                        ),
                    }),
                },
                Expr::Aggregate(aggregate) if aggregate.op.is_experimental() => Some(Caveat {
                    span: aggregate.op_span.clone(),
                    message: experimental(aggregate.op.as_str()),
                }),
                _ => None,
            })
            .collect()
    }
}

/// Parses and type-checks `query`, an instant query. A query whose result is a string or a range
/// vector is rejected (Argo Rollouts can only evaluate scalars and instant vectors); whether a
/// scalar is acceptable is for the caller to decide with [`Query::value_type`].
pub fn parse(query: &str) -> Result<Query, PromqlError> {
    let expr = parser::Parser::new(query).parse_query()?;
    let value_type = check::check(&expr, query)?;
    match value_type {
        ValueType::Scalar | ValueType::Vector => Ok(Query { expr, value_type }),
        ValueType::String => Err(PromqlError {
            span: expr.span(),
            message: "this query returns a string, not a number or an instant vector".into(),
            help: None,
        }),
        ValueType::Matrix => Err(PromqlError {
            span: expr.span(),
            message: "this query returns a range vector, which Argo Rollouts cannot evaluate".into(),
            help: Some(
                "apply a function such as `rate(...)`, `avg_over_time(...)` or `last_over_time(...)` to the range"
                    .into(),
            ),
        }),
    }
}
