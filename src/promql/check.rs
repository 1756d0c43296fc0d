//! Type checking, after Prometheus' `checkAST` (`promql/parser/parse.go`): the types of function
//! arguments, aggregation parameters and operands, the `bool` modifier, vector matching, subqueries,
//! and selectors that would select every series. Children are checked before their parent and left
//! before right, so the first error is the one Prometheus reports first.
//!
//! The recursion follows the tree, whose height the parser bounds. The recursive functions only
//! walk; the rules are in helpers that return before the walk goes deeper, which keeps the frames
//! on the stack small.

use super::ast::{Aggregate, Binary, Call, Expr, MatchingKind, Subquery, Unary, UnaryOp, ValueType, VectorSelector};
use super::functions::Function;
use super::lexer::decode_string;
use super::parser::check_regex;
use super::{PromqlError, error, with_help};

type Fallible<T> = Result<T, Box<PromqlError>>;

/// Checks `expr` (parsed from `src`) and returns its type.
pub fn check(expr: &Expr, src: &str) -> Result<ValueType, PromqlError> {
    Checker { src }.expr(expr).map_err(|error| *error)
}

struct Checker<'a> {
    src: &'a str,
}

impl Checker<'_> {
    fn expr(&self, expr: &Expr) -> Fallible<ValueType> {
        match expr {
            Expr::Number(_) => Ok(ValueType::Scalar),
            Expr::String(_) => Ok(ValueType::String),
            Expr::Selector(selector) => selector_rule(selector, false).map(|()| ValueType::Vector),
            Expr::Matrix(matrix) => selector_rule(&matrix.selector, false).map(|()| ValueType::Matrix),
            Expr::Subquery(subquery) => {
                let inner = self.expr(&subquery.expr)?;
                subquery_rule(subquery, inner)
            }
            Expr::Paren(paren) => self.expr(&paren.expr),
            Expr::Unary(unary) => {
                let inner = self.expr(&unary.expr)?;
                unary_rule(unary, inner)
            }
            Expr::Binary(binary) => self.binary(binary),
            Expr::Aggregate(aggregate) => self.aggregate(aggregate),
            Expr::Call(call) => self.call(call),
        }
    }

    fn binary(&self, binary: &Binary) -> Fallible<ValueType> {
        let lhs = self.expr(&binary.lhs)?;
        let rhs = self.expr(&binary.rhs)?;
        binary_rules(binary, lhs, rhs)
    }

    fn aggregate(&self, aggregate: &Aggregate) -> Fallible<ValueType> {
        let inner = self.expr(&aggregate.expr)?;
        aggregate_expr_rule(aggregate, inner)?;
        if let Some(param) = &aggregate.param {
            let found = self.expr(param)?;
            aggregate_param_rule(aggregate, param, found)?;
        }
        Ok(ValueType::Vector)
    }

    fn call(&self, call: &Call) -> Fallible<ValueType> {
        argument_count_rule(call)?;
        for (index, arg) in call.args.iter().enumerate() {
            let found = match info_selector(call, index, arg) {
                // `info`'s second argument selects by labels only and may match the empty string.
                Some(selector) => info_selector_rule(selector).map(|()| ValueType::Vector)?,
                None => self.expr(arg)?,
            };
            argument_rule(self.src, call, index, arg, found)?;
        }
        label_replace_rule(self.src, call)?;
        Ok(call.function.return_type)
    }
}

#[inline(never)]
fn selector_rule(selector: &VectorSelector, allow_empty: bool) -> Fallible<()> {
    if let Some(name) = &selector.name {
        if let Some(second) = selector.matchers.iter().find(|m| m.name.value == "__name__") {
            return Err(error(
                second.span.clone(),
                format!(
                    "the metric name is set twice: `{}` before the braces and `__name__` inside them",
                    name.value
                ),
            ));
        }
        return Ok(());
    }
    if !allow_empty && selector.matchers.iter().all(|m| m.matches_empty()) {
        return Err(with_help(
            error(
                selector.span.clone(),
                "this selector would select every series: it needs a metric name or a label matcher that does not match the empty string",
            ),
            "a matcher such as `job=\"\"` or `job=~\".*\"` also matches series without the label; add a metric name or a matcher like `job=\"api\"`",
        ));
    }
    Ok(())
}

#[inline(never)]
fn subquery_rule(subquery: &Subquery, inner: ValueType) -> Fallible<ValueType> {
    if inner != ValueType::Vector {
        return Err(error(
            subquery.expr.span(),
            format!(
                "a subquery needs an instant-vector expression, found {}",
                inner.describe()
            ),
        ));
    }
    Ok(ValueType::Matrix)
}

#[inline(never)]
fn unary_rule(unary: &Unary, inner: ValueType) -> Fallible<ValueType> {
    if !matches!(inner, ValueType::Scalar | ValueType::Vector) {
        let op = if unary.op == UnaryOp::Minus { "-" } else { "+" };
        return Err(error(
            unary.expr.span(),
            format!(
                "unary `{op}` needs a scalar or an instant vector, found {}",
                inner.describe()
            ),
        ));
    }
    Ok(inner)
}

#[inline(never)]
fn binary_rules(binary: &Binary, lhs: ValueType, rhs: ValueType) -> Fallible<ValueType> {
    let op = binary.op.as_str();
    if let Some(bool_span) = &binary.bool_modifier
        && !binary.op.is_comparison()
    {
        return Err(with_help(
            error(
                bool_span.clone(),
                format!("`bool` can only follow a comparison operator, not `{op}`"),
            ),
            "the comparison operators are `==`, `!=`, `>`, `<`, `>=` and `<=`",
        ));
    }
    if binary.op.is_comparison()
        && binary.bool_modifier.is_none()
        && lhs == ValueType::Scalar
        && rhs == ValueType::Scalar
    {
        return Err(with_help(
            error(
                binary.op_span.clone(),
                "a comparison between two scalars needs the `bool` modifier",
            ),
            format!("write `{op} bool`; the result is 1 when true and 0 when false"),
        ));
    }
    if let Some(matching) = &binary.matching
        && let (MatchingKind::On, Some(group)) = (matching.kind, &matching.group)
        && let Some(label) = group
            .labels
            .iter()
            .find(|label| matching.labels.iter().any(|l| l.value == label.value))
    {
        return Err(error(
            label.span.clone(),
            format!(
                "label `{}` cannot be both in `on(...)` and in the group modifier",
                label.value
            ),
        ));
    }
    for (side, operand) in [(lhs, &binary.lhs), (rhs, &binary.rhs)] {
        if !matches!(side, ValueType::Scalar | ValueType::Vector) {
            let err = error(
                operand.span(),
                format!(
                    "the operands of `{op}` must be scalars or instant vectors, found {}",
                    side.describe()
                ),
            );
            return Err(if side == ValueType::Matrix {
                with_help(
                    err,
                    "apply a function such as `rate(...)` or `avg_over_time(...)` to the range",
                )
            } else {
                err
            });
        }
    }
    let both_vectors = lhs == ValueType::Vector && rhs == ValueType::Vector;
    if let Some(matching) = &binary.matching {
        if !both_vectors && !matching.labels.is_empty() {
            let keyword = if matching.kind == MatchingKind::On {
                "on"
            } else {
                "ignoring"
            };
            return Err(error(
                matching.span.clone(),
                format!("`{keyword}(...)` can only be used between two instant vectors"),
            ));
        }
        if both_vectors
            && binary.op.is_set()
            && let Some(group) = &matching.group
        {
            return Err(error(
                group.span.clone(),
                format!("a set operator like `{op}` cannot have a group modifier"),
            ));
        }
    }
    if binary.op.is_set() && (lhs == ValueType::Scalar || rhs == ValueType::Scalar) {
        let scalar = if lhs == ValueType::Scalar {
            &binary.lhs
        } else {
            &binary.rhs
        };
        return Err(error(
            scalar.span(),
            format!("`{op}` works on instant vectors only, found a scalar"),
        ));
    }
    Ok(if lhs == ValueType::Scalar && rhs == ValueType::Scalar {
        ValueType::Scalar
    } else {
        ValueType::Vector
    })
}

#[inline(never)]
fn aggregate_expr_rule(aggregate: &Aggregate, inner: ValueType) -> Fallible<()> {
    if inner == ValueType::Vector {
        return Ok(());
    }
    let name = aggregate.op.as_str();
    let err = error(
        aggregate.expr.span(),
        format!("`{name}` aggregates an instant vector, found {}", inner.describe()),
    );
    Err(if inner == ValueType::Matrix {
        with_help(
            err,
            format!(
                "apply a function such as `rate(...)` to the range first, or use `{name}_over_time(...)` to aggregate over time"
            ),
        )
    } else {
        err
    })
}

#[inline(never)]
fn aggregate_param_rule(aggregate: &Aggregate, param: &Expr, found: ValueType) -> Fallible<()> {
    match aggregate.op.param_type() {
        Some(expected) if found != expected => Err(error(
            param.span(),
            format!(
                "the parameter of `{}` must be {}, found {}",
                aggregate.op.as_str(),
                expected.describe(),
                found.describe()
            ),
        )),
        _ => Ok(()),
    }
}

#[inline(never)]
fn argument_count_rule(call: &Call) -> Fallible<()> {
    let function = call.function;
    let name = function.name;
    let count = call.args.len();
    let min = function.min_args();
    let help = || format!("call it as {}", signature(function));
    if count < min {
        let found = if count == 0 {
            "none".to_string()
        } else {
            count.to_string()
        };
        let plural = if min == 1 { "argument" } else { "arguments" };
        let at_least = if function.max_args() == Some(min) {
            ""
        } else {
            "at least "
        };
        return Err(with_help(
            error(
                call.span.end.saturating_sub(1)..call.span.end,
                format!("`{name}` needs {at_least}{min} {plural}, found {found}"),
            ),
            help(),
        ));
    }
    if let Some(max) = function.max_args()
        && count > max
    {
        let from = call.args.get(max).map_or(call.span.start, |a| a.span().start);
        let to = call.args.last().map_or(call.span.end, |a| a.span().end);
        let plural = if max == 1 { "argument" } else { "arguments" };
        let at_most = if max == min { "" } else { "at most " };
        let takes = if max == 0 {
            "takes no arguments".to_string()
        } else {
            format!("takes {at_most}{max} {plural}")
        };
        return Err(with_help(
            error(from..to, format!("`{name}` {takes}, found {count}")),
            help(),
        ));
    }
    Ok(())
}

/// `info`'s second argument, when it is a selector.
fn info_selector<'e>(call: &Call, index: usize, arg: &'e Expr) -> Option<&'e VectorSelector> {
    match arg {
        Expr::Selector(selector) if call.function.name == "info" && index == 1 => Some(selector),
        _ => None,
    }
}

#[inline(never)]
fn info_selector_rule(selector: &VectorSelector) -> Fallible<()> {
    if let Some(metric) = &selector.name {
        return Err(error(
            metric.span.clone(),
            "the second argument of `info` selects by labels only, without a metric name",
        ));
    }
    selector_rule(selector, true)
}

#[inline(never)]
fn argument_rule(src: &str, call: &Call, index: usize, arg: &Expr, found: ValueType) -> Fallible<()> {
    let function = call.function;
    let name = function.name;
    if name == "info" && index == 1 && !matches!(arg, Expr::Selector(_)) {
        return Err(error(
            arg.span(),
            "the second argument of `info` must be a label selector such as `{k8s_cluster_name=~\".+\"}`",
        ));
    }
    let Some(expected) = function.arg_type(index) else {
        return Ok(());
    };
    if found == expected {
        return Ok(());
    }
    let position = if function.args.len() == 1 && function.variadic == 0 {
        "the argument".to_string()
    } else {
        format!("argument {}", index + 1)
    };
    let mut err = error(
        arg.span(),
        format!(
            "{position} of `{name}` must be {}, found {}",
            expected.describe(),
            found.describe()
        ),
    );
    err.help = argument_help(src, arg, expected, found);
    Err(err)
}

/// `label_replace`'s regular expression is compiled when the query runs: check it now.
#[inline(never)]
fn label_replace_rule(src: &str, call: &Call) -> Fallible<()> {
    if call.function.name == "label_replace"
        && let Some(Expr::String(regex)) = call.args.get(4).map(Expr::unparenthesized)
    {
        let raw = src.get(regex.span.clone()).unwrap_or("\"\"");
        let (pattern, map) = decode_string(raw, regex.span.start);
        check_regex(&pattern, &map, regex.span.clone()).map_err(Box::new)?;
    }
    Ok(())
}

/// `rate(range vector)`, for help lines.
fn signature(function: &Function) -> String {
    let mut args: Vec<String> = function.args.iter().map(|t| type_name(*t).to_string()).collect();
    if function.variadic != 0
        && let Some(last) = args.pop()
    {
        let more = if function.variadic < 0 { ", ..." } else { "" };
        args.push(format!("[{last}{more}]"));
    }
    format!("`{}({})`", function.name, args.join(", "))
}

fn type_name(value_type: ValueType) -> &'static str {
    match value_type {
        ValueType::Scalar => "scalar",
        ValueType::Vector => "instant vector",
        ValueType::Matrix => "range vector",
        ValueType::String => "string",
    }
}

fn argument_help(src: &str, arg: &Expr, expected: ValueType, found: ValueType) -> Option<String> {
    match (expected, found) {
        (ValueType::Matrix, ValueType::Vector) => Some(match arg {
            Expr::Selector(selector) if selector.offset.is_none() && selector.at.is_none() => {
                let text = src.get(selector.span.clone()).unwrap_or("foo");
                format!("add a range to the selector, as in `{text}[5m]`")
            }
            _ => "turn the expression into a range with a subquery, as in `(...)[5m:1m]`".into(),
        }),
        (ValueType::Vector, ValueType::Matrix) => {
            Some("remove the range, or apply a function such as `rate(...)` to it first".into())
        }
        (ValueType::Scalar, ValueType::Vector) => Some("convert it with `scalar(...)`".into()),
        (ValueType::Vector, ValueType::Scalar) => Some("convert it with `vector(...)`".into()),
        _ => None,
    }
}
