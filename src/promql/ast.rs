//! The syntax tree of a PromQL expression. Every node keeps the byte range of the query text it was
//! parsed from, so later checks can point at it.

use std::ops::Range;

use super::functions::Function;

/// A byte range in the query text.
pub type Span = Range<usize>;

/// The type of a PromQL value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// One number (`1`, `scalar(...)`, `time()`).
    Scalar,
    /// One sample per series at the evaluation time (`foo`, `rate(foo[5m])`).
    Vector,
    /// A range of samples per series (`foo[5m]`, `rate(foo[5m])[1h:]`).
    Matrix,
    /// A string literal.
    String,
}

impl ValueType {
    /// The name Prometheus' documentation uses, with an article: "an instant vector".
    pub fn describe(self) -> &'static str {
        match self {
            ValueType::Scalar => "a scalar",
            ValueType::Vector => "an instant vector",
            ValueType::Matrix => "a range vector",
            ValueType::String => "a string",
        }
    }
}

/// A name as written in the query: a metric name, a label name in a matcher or in a grouping list.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    /// The name, unquoted.
    pub value: String,
    /// Where it is written (quotes included for a quoted name).
    pub span: Span,
}

/// A number literal (`1`, `0.5`, `1e3`, `0x1f`, `Inf`, `NaN`, or a duration such as `5m`, which is a
/// number of seconds). A unary minus directly before a number is folded into it, as Prometheus does.
#[derive(Clone, Debug, PartialEq)]
pub struct NumberLiteral {
    /// The value.
    pub value: f64,
    /// The literal, with its sign.
    pub span: Span,
}

/// A string literal, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct StringLiteral {
    /// The decoded text. A `\x` or octal escape that does not form valid UTF-8 is replaced by U+FFFD.
    pub value: String,
    /// The literal, quotes included.
    pub span: Span,
}

/// How a label matcher compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~` (the regular expression must match the whole value)
    Regex,
    /// `!~`
    NotRegex,
}

impl MatchOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

/// One matcher inside `{...}`: `service="checkout"`, `code=~"5.."`. A quoted metric name alone in the
/// braces (`{"http.requests"}`) is a matcher on `__name__` with [`MatchOp::Equal`].
#[derive(Clone, Debug, PartialEq)]
pub struct LabelMatcher {
    /// The label name.
    pub name: Name,
    /// The operator.
    pub op: MatchOp,
    /// The value (a regular expression for `=~` and `!~`).
    pub value: StringLiteral,
    /// The whole matcher.
    pub span: Span,
}

impl LabelMatcher {
    /// True when the matcher accepts a series that does not have the label (whose value is empty).
    pub fn matches_empty(&self) -> bool {
        match self.op {
            MatchOp::Equal => self.value.value.is_empty(),
            MatchOp::NotEqual => !self.value.value.is_empty(),
            MatchOp::Regex => super::regex::matches_empty(&self.value.value),
            MatchOp::NotRegex => !super::regex::matches_empty(&self.value.value),
        }
    }
}

/// A duration in a range, a subquery or an `offset`, in seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Duration {
    /// Seconds; negative only for `offset -5m`.
    pub seconds: f64,
    /// The duration as written (with the `-` of a negative offset).
    pub span: Span,
}

/// The time an `@` modifier pins an evaluation to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AtTime {
    /// `@ 1700000000`: a Unix timestamp in seconds.
    Timestamp(f64),
    /// `@ start()`: the start of the query range (the evaluation time for an instant query).
    Start,
    /// `@ end()`: the end of the query range (the evaluation time for an instant query).
    End,
}

/// An `@` modifier.
#[derive(Clone, Debug, PartialEq)]
pub struct At {
    /// The time.
    pub time: AtTime,
    /// From the `@` to the end of the modifier.
    pub span: Span,
}

/// A selector of instant vectors: `http_requests_total{code=~"5.."} offset 5m`.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorSelector {
    /// The metric name written before the braces, if any.
    pub name: Option<Name>,
    /// The matchers inside the braces, in order.
    pub matchers: Vec<LabelMatcher>,
    /// `offset`, if given (for a range selector, the one after the range).
    pub offset: Option<Duration>,
    /// `@`, if given (for a range selector, the one after the range).
    pub at: Option<At>,
    /// The selector, modifiers included.
    pub span: Span,
}

impl VectorSelector {
    /// The metric name: the one before the braces, or the value of an `__name__="..."` matcher.
    pub fn metric_name(&self) -> Option<&str> {
        if let Some(name) = &self.name {
            return Some(&name.value);
        }
        self.matchers
            .iter()
            .find(|m| m.name.value == "__name__" && m.op == MatchOp::Equal)
            .map(|m| m.value.value.as_str())
    }

    /// The matchers on the label `label`, in order.
    pub fn matchers_on<'a>(&'a self, label: &'a str) -> impl Iterator<Item = &'a LabelMatcher> + 'a {
        self.matchers.iter().filter(move |m| m.name.value == label)
    }
}

/// A range selector: `foo[5m]`. Its `offset` and `@` are kept on the inner selector, as in Prometheus.
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixSelector {
    /// The selector the range applies to.
    pub selector: VectorSelector,
    /// The range.
    pub range: Duration,
    /// The whole range selector, modifiers included.
    pub span: Span,
}

/// A subquery: `rate(foo[5m])[1h:1m]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Subquery {
    /// The instant-vector expression evaluated at each step.
    pub expr: Expr,
    /// The range.
    pub range: Duration,
    /// The resolution; `None` for `[1h:]` (the global evaluation interval).
    pub step: Option<Duration>,
    /// `offset`, if given.
    pub offset: Option<Duration>,
    /// `@`, if given.
    pub at: Option<At>,
    /// The whole subquery, modifiers included.
    pub span: Span,
}

/// An expression in parentheses.
#[derive(Clone, Debug, PartialEq)]
pub struct Paren {
    /// The inner expression.
    pub expr: Expr,
    /// From `(` to `)`.
    pub span: Span,
}

/// A unary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `+`
    Plus,
    /// `-`
    Minus,
}

/// `-expr` or `+expr` (on anything but a number literal, which absorbs its sign).
#[derive(Clone, Debug, PartialEq)]
pub struct Unary {
    /// The operator.
    pub op: UnaryOp,
    /// The operand.
    pub expr: Expr,
    /// From the operator to the end of the operand.
    pub span: Span,
}

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `atan2`
    Atan2,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `<=`
    Le,
    /// `and`
    And,
    /// `or`
    Or,
    /// `unless`
    Unless,
}

impl BinaryOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Gt => ">",
            BinaryOp::Lt => "<",
            BinaryOp::Ge => ">=",
            BinaryOp::Le => "<=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Unless => "unless",
        }
    }

    /// `==`, `!=`, `>`, `<`, `>=`, `<=`.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Gt | BinaryOp::Lt | BinaryOp::Ge | BinaryOp::Le
        )
    }

    /// `and`, `or`, `unless`.
    pub fn is_set(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }

    /// Binding strength, from 1 (`or`) to 6 (`^`).
    pub(crate) fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And | BinaryOp::Unless => 2,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Gt | BinaryOp::Lt | BinaryOp::Ge | BinaryOp::Le => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::Atan2 => 5,
            BinaryOp::Pow => 6,
        }
    }
}

/// Whether `on` or `ignoring` was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchingKind {
    /// `on(labels)`: match on these labels only.
    On,
    /// `ignoring(labels)`: match on all labels but these.
    Ignoring,
}

/// Which side of a many-to-one match may have many series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupSide {
    /// `group_left`: the left side.
    Left,
    /// `group_right`: the right side.
    Right,
}

/// `group_left(labels)` or `group_right(labels)`.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupModifier {
    /// Which side.
    pub side: GroupSide,
    /// The labels copied from the "one" side (empty when no list is given).
    pub labels: Vec<Name>,
    /// The keyword and its list.
    pub span: Span,
}

/// `on(...)` or `ignoring(...)`, with an optional `group_left`/`group_right`.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorMatching {
    /// `on` or `ignoring`.
    pub kind: MatchingKind,
    /// The labels in the list.
    pub labels: Vec<Name>,
    /// `group_left` or `group_right`, if given.
    pub group: Option<GroupModifier>,
    /// From `on`/`ignoring` to the end of its label list (without the group modifier).
    pub span: Span,
}

/// A binary operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Binary {
    /// The operator.
    pub op: BinaryOp,
    /// Where the operator is written.
    pub op_span: Span,
    /// The `bool` modifier, if given.
    pub bool_modifier: Option<Span>,
    /// `on`/`ignoring` and grouping, if given.
    pub matching: Option<VectorMatching>,
    /// The left operand.
    pub lhs: Expr,
    /// The right operand.
    pub rhs: Expr,
    /// From the start of the left operand to the end of the right one.
    pub span: Span,
}

/// An aggregation operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggregateOp {
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `count`
    Count,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `group`
    Group,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `topk` (takes a scalar parameter)
    Topk,
    /// `bottomk` (takes a scalar parameter)
    Bottomk,
    /// `quantile` (takes a scalar parameter)
    Quantile,
    /// `count_values` (takes a string parameter)
    CountValues,
    /// `limitk` (takes a scalar parameter; experimental in Prometheus)
    Limitk,
    /// `limit_ratio` (takes a scalar parameter; experimental in Prometheus)
    LimitRatio,
}

impl AggregateOp {
    /// Every aggregation operator.
    pub const ALL: [AggregateOp; 14] = [
        AggregateOp::Sum,
        AggregateOp::Avg,
        AggregateOp::Count,
        AggregateOp::Min,
        AggregateOp::Max,
        AggregateOp::Group,
        AggregateOp::Stddev,
        AggregateOp::Stdvar,
        AggregateOp::Topk,
        AggregateOp::Bottomk,
        AggregateOp::Quantile,
        AggregateOp::CountValues,
        AggregateOp::Limitk,
        AggregateOp::LimitRatio,
    ];

    /// The operator as written (in lower case).
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateOp::Sum => "sum",
            AggregateOp::Avg => "avg",
            AggregateOp::Count => "count",
            AggregateOp::Min => "min",
            AggregateOp::Max => "max",
            AggregateOp::Group => "group",
            AggregateOp::Stddev => "stddev",
            AggregateOp::Stdvar => "stdvar",
            AggregateOp::Topk => "topk",
            AggregateOp::Bottomk => "bottomk",
            AggregateOp::Quantile => "quantile",
            AggregateOp::CountValues => "count_values",
            AggregateOp::Limitk => "limitk",
            AggregateOp::LimitRatio => "limit_ratio",
        }
    }

    /// The type of the parameter before the aggregated expression, for the operators that take one.
    pub fn param_type(self) -> Option<ValueType> {
        match self {
            AggregateOp::Topk
            | AggregateOp::Bottomk
            | AggregateOp::Quantile
            | AggregateOp::Limitk
            | AggregateOp::LimitRatio => Some(ValueType::Scalar),
            AggregateOp::CountValues => Some(ValueType::String),
            _ => None,
        }
    }

    /// True for the operators Prometheus only accepts with `--enable-feature=promql-experimental-functions`.
    pub fn is_experimental(self) -> bool {
        matches!(self, AggregateOp::Limitk | AggregateOp::LimitRatio)
    }
}

/// `by (labels)` or `without (labels)` on an aggregation.
#[derive(Clone, Debug, PartialEq)]
pub struct Grouping {
    /// True for `without`.
    pub without: bool,
    /// The labels.
    pub labels: Vec<Name>,
    /// The keyword and its list.
    pub span: Span,
}

/// An aggregation: `sum by (le) (rate(foo[5m]))`, `topk(5, foo)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    /// The operator.
    pub op: AggregateOp,
    /// Where the operator is written.
    pub op_span: Span,
    /// The parameter (`5` in `topk(5, foo)`), for the operators that take one.
    pub param: Option<Expr>,
    /// The aggregated expression.
    pub expr: Expr,
    /// `by` or `without`, before or after the arguments.
    pub grouping: Option<Grouping>,
    /// The whole aggregation.
    pub span: Span,
}

/// A function call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The function.
    pub function: &'static Function,
    /// Where its name is written.
    pub name_span: Span,
    /// The arguments.
    pub args: Vec<Expr>,
    /// From the name to the closing `)`.
    pub span: Span,
}

/// A PromQL expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A number.
    Number(NumberLiteral),
    /// A string.
    String(StringLiteral),
    /// An instant-vector selector.
    Selector(Box<VectorSelector>),
    /// A range selector.
    Matrix(Box<MatrixSelector>),
    /// A subquery.
    Subquery(Box<Subquery>),
    /// Parentheses.
    Paren(Box<Paren>),
    /// A unary `+` or `-`.
    Unary(Box<Unary>),
    /// A binary operation.
    Binary(Box<Binary>),
    /// An aggregation.
    Aggregate(Box<Aggregate>),
    /// A function call.
    Call(Box<Call>),
}

impl Expr {
    /// The characters of the query the expression was parsed from.
    pub fn span(&self) -> Span {
        match self {
            Expr::Number(n) => n.span.clone(),
            Expr::String(s) => s.span.clone(),
            Expr::Selector(s) => s.span.clone(),
            Expr::Matrix(m) => m.span.clone(),
            Expr::Subquery(s) => s.span.clone(),
            Expr::Paren(p) => p.span.clone(),
            Expr::Unary(u) => u.span.clone(),
            Expr::Binary(b) => b.span.clone(),
            Expr::Aggregate(a) => a.span.clone(),
            Expr::Call(c) => c.span.clone(),
        }
    }

    /// The type of the value the expression produces.
    pub fn value_type(&self) -> ValueType {
        let mut expr = self;
        loop {
            return match expr {
                Expr::Number(_) => ValueType::Scalar,
                Expr::String(_) => ValueType::String,
                Expr::Selector(_) | Expr::Aggregate(_) => ValueType::Vector,
                Expr::Matrix(_) | Expr::Subquery(_) => ValueType::Matrix,
                Expr::Paren(p) => {
                    expr = &p.expr;
                    continue;
                }
                Expr::Unary(u) => {
                    expr = &u.expr;
                    continue;
                }
                Expr::Binary(b) => {
                    if b.lhs.value_type() == ValueType::Scalar && b.rhs.value_type() == ValueType::Scalar {
                        ValueType::Scalar
                    } else {
                        ValueType::Vector
                    }
                }
                Expr::Call(c) => c.function.return_type,
            };
        }
    }

    /// The direct subexpressions, left to right.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Number(_) | Expr::String(_) | Expr::Selector(_) | Expr::Matrix(_) => Vec::new(),
            Expr::Subquery(s) => vec![&s.expr],
            Expr::Paren(p) => vec![&p.expr],
            Expr::Unary(u) => vec![&u.expr],
            Expr::Binary(b) => vec![&b.lhs, &b.rhs],
            Expr::Aggregate(a) => a.param.iter().chain(std::iter::once(&a.expr)).collect(),
            Expr::Call(c) => c.args.iter().collect(),
        }
    }

    /// Every expression in the tree, this one first, in source order (pre-order, left to right).
    pub fn descendants(&self) -> Vec<&Expr> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(expr) = stack.pop() {
            out.push(expr);
            stack.extend(expr.children().into_iter().rev());
        }
        out
    }

    /// Every vector selector in the tree (those inside range selectors included), in source order.
    pub fn selectors(&self) -> Vec<&VectorSelector> {
        self.descendants()
            .into_iter()
            .filter_map(|expr| match expr {
                Expr::Selector(s) => Some(&**s),
                Expr::Matrix(m) => Some(&m.selector),
                _ => None,
            })
            .collect()
    }

    /// The expression without any parentheses around it.
    pub fn unparenthesized(&self) -> &Expr {
        let mut expr = self;
        while let Expr::Paren(p) = expr {
            expr = &p.expr;
        }
        expr
    }
}
