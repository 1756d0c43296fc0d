//! The syntax of PromQL expressions, after Prometheus' `promql/parser/generated_parser.y`, as a
//! recursive-descent parser with precedence climbing for binary operators.
//!
//! Besides the grammar, this phase makes the checks Prometheus makes while parsing: known function
//! names, the number of aggregation arguments, ranges only on selectors, where `offset` and `@` may
//! go, positive ranges, valid numbers, durations and regular expressions. Types are checked
//! afterwards (`check.rs`), as in Prometheus, so a syntax error is always reported first.
//!
//! Recursion is bounded: every level of nesting (parentheses, arguments, unary operators, the
//! right-hand side of an operator) counts, and so does the height of the tree built by a chain of
//! operators or modifiers, so the checker and the destructor never recurse deeper than
//! [`MAX_DEPTH`] either.

use super::ast::{
    Aggregate, AggregateOp, At, AtTime, Binary, BinaryOp, Call, Duration, Expr, GroupModifier, GroupSide, Grouping,
    LabelMatcher, MatchOp, MatchingKind, MatrixSelector, Name, NumberLiteral, Paren, Span, StringLiteral, Subquery,
    Unary, UnaryOp, VectorMatching, VectorSelector,
};
use super::functions;
use super::lexer::{Keyword, Kind, Lexer, Mode, Token, decode_string};
use super::regex;
use super::{PromqlError, error, with_help};
use crate::diagnostics::suggest;

/// The deepest nesting accepted, counted in levels of the syntax tree.
pub const MAX_DEPTH: usize = 200;

/// An expression and the height of its tree.
type Parsed = (Expr, usize);

/// Errors are boxed while parsing: the recursion keeps many results alive at once, and a small
/// `Result` keeps its stack frames small.
type Fallible<T> = Result<T, Box<PromqlError>>;

/// Binding strength of `^`, which is also what a unary operator's operand may contain.
const POW_PRECEDENCE: u8 = 6;

pub struct Parser<'a> {
    src: &'a str,
    lexer: Lexer<'a>,
    peeked: Option<(Token, Mode)>,
    depth: usize,
}

fn binary_op(kind: Kind) -> Option<BinaryOp> {
    Some(match kind {
        Kind::Add => BinaryOp::Add,
        Kind::Sub => BinaryOp::Sub,
        Kind::Mul => BinaryOp::Mul,
        Kind::Div => BinaryOp::Div,
        Kind::Mod => BinaryOp::Mod,
        Kind::Pow => BinaryOp::Pow,
        Kind::EqlC => BinaryOp::Eq,
        Kind::Neq => BinaryOp::Ne,
        Kind::Gtr => BinaryOp::Gt,
        Kind::Lss => BinaryOp::Lt,
        Kind::Gte => BinaryOp::Ge,
        Kind::Lte => BinaryOp::Le,
        Kind::Keyword(Keyword::And) => BinaryOp::And,
        Kind::Keyword(Keyword::Or) => BinaryOp::Or,
        Kind::Keyword(Keyword::Unless) => BinaryOp::Unless,
        Kind::Keyword(Keyword::Atan2) => BinaryOp::Atan2,
        _ => return None,
    })
}

/// Go's `strconv.ParseInt(text, 0, 64)`, then `strconv.ParseFloat(text, 64)`, as Prometheus reads a
/// number; `None` when neither accepts it (or the value is out of range).
pub fn parse_number(text: &str) -> Option<f64> {
    match text.to_ascii_lowercase().as_str() {
        "inf" => return Some(f64::INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    if let Some(hex) = clean.strip_prefix("0x").or_else(|| clean.strip_prefix("0X")) {
        return i64::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    let all_digits = !clean.is_empty() && clean.bytes().all(|b| b.is_ascii_digit());
    if all_digits {
        let octal = clean.len() > 1 && clean.starts_with('0');
        let int = if octal {
            i64::from_str_radix(clean.get(1..).unwrap_or("0"), 8)
        } else {
            clean.parse::<i64>()
        };
        if let Ok(v) = int {
            return Some(v as f64);
        }
    }
    clean.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Prometheus' `model.ParseDuration` on a duration token: whole numbers with units in the order
/// y, w, d, h, m, s, ms, each at most once; the result in seconds.
pub fn parse_duration(text: &str) -> Result<f64, &'static str> {
    const UNITS: [(&str, i128); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    const INVALID: &str = "not a valid duration";
    if text == "0" {
        return Ok(0.0);
    }
    let mut rest = text;
    let mut next_unit = 0;
    let mut total_ms: i128 = 0;
    if rest.is_empty() {
        return Err(INVALID);
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(INVALID);
        }
        let number: i128 = rest.get(..digits).and_then(|d| d.parse().ok()).ok_or("too long")?;
        rest = rest.get(digits..).unwrap_or("");
        // Longest unit first, so that `ms` is not read as `m`.
        let unit = UNITS
            .iter()
            .enumerate()
            .skip(next_unit)
            .filter(|(_, (name, _))| rest.starts_with(name))
            .max_by_key(|(_, (name, _))| name.len());
        let Some((index, (name, ms))) = unit else {
            return Err(INVALID);
        };
        rest = rest.get(name.len()..).unwrap_or("");
        next_unit = index + 1;
        total_ms = total_ms.saturating_add(number.saturating_mul(*ms));
        if total_ms.saturating_mul(1_000_000) > i128::from(i64::MAX) {
            return Err("too long");
        }
    }
    Ok(total_ms as f64 / 1000.0)
}

impl<'a> Parser<'a> {
    pub fn new(src: &'a str) -> Self {
        Parser {
            src,
            lexer: Lexer::new(src),
            peeked: None,
            depth: 0,
        }
    }

    // ----- tokens -----

    fn peek(&mut self, mode: Mode) -> Fallible<Token> {
        if let Some((token, peeked_mode)) = self.peeked {
            if peeked_mode == mode {
                return Ok(token);
            }
            self.lexer.reset(token.start);
        }
        let token = self.lexer.next(mode).map_err(Box::new)?;
        self.peeked = Some((token, mode));
        Ok(token)
    }

    fn bump(&mut self) {
        self.peeked = None;
    }

    fn next(&mut self, mode: Mode) -> Fallible<Token> {
        let token = self.peek(mode)?;
        self.bump();
        Ok(token)
    }

    fn text(&self, token: Token) -> &'a str {
        self.src.get(token.start..token.end).unwrap_or("")
    }

    /// How a found token is named in a message.
    fn describe(&self, token: Token) -> String {
        let text = self.text(token);
        match token.kind {
            Kind::Eof => "the end of the query".into(),
            Kind::Str => "a string".into(),
            Kind::Number => format!("the number `{text}`"),
            Kind::Duration => format!("the duration `{text}`"),
            Kind::Keyword(_) => format!("the keyword `{text}`"),
            _ if text.chars().count() > 40 => format!("`{}…`", text.chars().take(40).collect::<String>()),
            _ => format!("`{text}`"),
        }
    }

    /// "expected X, found Y" at the found token.
    #[cold]
    fn expected(&self, what: &str, found: Token) -> Box<PromqlError> {
        error(found.span(), format!("expected {what}, found {}", self.describe(found)))
    }

    /// The error for a missing closing delimiter: at the opening one when the query ended, else at
    /// what was found instead.
    #[cold]
    fn unclosed(&self, open: Token, close: char, what: &str, found: Token) -> Box<PromqlError> {
        if found.kind == Kind::Eof {
            let open_char = self.text(open);
            error(open.span(), format!("expected `{close}` to close this `{open_char}`"))
        } else {
            self.expected(what, found)
        }
    }

    /// An expression one level deeper, entered at `at` (an opening delimiter or an operator).
    fn nested(&mut self, at: Token, min_precedence: u8) -> Fallible<Parsed> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(too_deep(at.span()));
        }
        let parsed = self.expr(min_precedence)?;
        self.depth -= 1;
        Ok(parsed)
    }

    // ----- expressions -----

    /// The whole query.
    pub fn parse_query(&mut self) -> Result<Expr, PromqlError> {
        self.query().map_err(|error| *error)
    }

    fn query(&mut self) -> Fallible<Expr> {
        let first = self.peek(Mode::Normal)?;
        if first.kind == Kind::Eof {
            return Err(error(first.span(), "the query is empty"));
        }
        let (expr, _) = self.nested(first, 0)?;
        let end = self.next(Mode::Normal)?;
        match end.kind {
            Kind::Eof => Ok(expr),
            Kind::RParen | Kind::RBracket | Kind::RBrace => {
                let close = self.text(end);
                let open = match end.kind {
                    Kind::RParen => "(",
                    Kind::RBracket => "[",
                    _ => "{",
                };
                Err(error(end.span(), format!("this `{close}` has no matching `{open}`")))
            }
            Kind::Eql => Err(with_help(
                self.expected("an operator or the end of the query", end),
                "`==` compares two values; `=` is only for label matchers inside `{...}`",
            )),
            _ => Err(self.expected("an operator or the end of the query", end)),
        }
    }

    /// Binary operators binding at least as strongly as `min_precedence`.
    fn expr(&mut self, min_precedence: u8) -> Fallible<Parsed> {
        let lhs = self.unary()?;
        match self.binary_operator(min_precedence)? {
            Some((op, token)) => self.operations(lhs, op, token, min_precedence),
            None => Ok(lhs),
        }
    }

    /// `lhs op ...` and the operators after it (left-associative ones in a loop).
    #[inline(never)]
    fn operations(&mut self, mut lhs: Parsed, op: BinaryOp, token: Token, min_precedence: u8) -> Fallible<Parsed> {
        let mut next = Some((op, token));
        while let Some((op, token)) = next {
            let modifiers = self.binary_modifiers()?;
            // `^` is right-associative, everything else left-associative.
            let precedence = op.precedence();
            let next_min = if op == BinaryOp::Pow {
                precedence
            } else {
                precedence + 1
            };
            let rhs = self.nested(token, next_min)?;
            lhs = combine(lhs, op, token, modifiers, rhs)?;
            next = self.binary_operator(min_precedence)?;
        }
        Ok(lhs)
    }

    /// The next token, read, if it is a binary operator binding at least as strongly as
    /// `min_precedence`.
    fn binary_operator(&mut self, min_precedence: u8) -> Fallible<Option<(BinaryOp, Token)>> {
        let token = self.peek(Mode::Normal)?;
        match binary_op(token.kind) {
            Some(op) if op.precedence() >= min_precedence => {
                self.bump();
                Ok(Some((op, token)))
            }
            _ => Ok(None),
        }
    }

    /// `bool`, `on(...)`/`ignoring(...)` and `group_left(...)`/`group_right(...)` after an operator.
    #[inline(never)]
    fn binary_modifiers(&mut self) -> Fallible<Box<Modifiers>> {
        let mut modifiers = Box::new(Modifiers {
            bool_modifier: None,
            matching: None,
        });
        let token = self.peek(Mode::Normal)?;
        if token.kind == Kind::Keyword(Keyword::Bool) {
            self.bump();
            modifiers.bool_modifier = Some(token.span());
        }
        let token = self.peek(Mode::Normal)?;
        let kind = match token.kind {
            Kind::Keyword(Keyword::On) => MatchingKind::On,
            Kind::Keyword(Keyword::Ignoring) => MatchingKind::Ignoring,
            _ => return Ok(modifiers),
        };
        self.bump();
        let (labels, end) = self.label_list(token)?;
        let span = token.start..end;
        let group_token = self.peek(Mode::Normal)?;
        let side = match group_token.kind {
            Kind::Keyword(Keyword::GroupLeft) => Some(GroupSide::Left),
            Kind::Keyword(Keyword::GroupRight) => Some(GroupSide::Right),
            _ => None,
        };
        let group = match side {
            Some(side) => {
                self.bump();
                // A `(` right after the keyword always starts its label list, as in Prometheus.
                let (labels, end) = if self.peek(Mode::Normal)?.kind == Kind::LParen {
                    self.label_list(group_token)?
                } else {
                    (Vec::new(), group_token.end)
                };
                Some(GroupModifier {
                    side,
                    labels,
                    span: group_token.start..end,
                })
            }
            None => None,
        };
        modifiers.matching = Some(VectorMatching {
            kind,
            labels,
            group,
            span,
        });
        Ok(modifiers)
    }

    /// A unary `+`/`-` (which binds more loosely than `^` and more tightly than `*`), or a postfix
    /// expression.
    fn unary(&mut self) -> Fallible<Parsed> {
        let token = self.peek(Mode::Normal)?;
        if !matches!(token.kind, Kind::Add | Kind::Sub) {
            return self.postfix();
        }
        self.bump();
        let operand = self.nested(token, POW_PRECEDENCE)?;
        apply_unary(token, operand)
    }

    /// A primary expression followed by ranges, subqueries, `offset` and `@`.
    fn postfix(&mut self) -> Fallible<Parsed> {
        let primary = self.primary()?;
        self.modifiers(primary)
    }

    /// Ranges, subqueries, `offset` and `@` after `parsed`.
    #[inline(never)]
    fn modifiers(&mut self, parsed: Parsed) -> Fallible<Parsed> {
        let (mut expr, mut height) = parsed;
        loop {
            let token = self.peek(Mode::Normal)?;
            match token.kind {
                Kind::LBracket => {
                    self.bump();
                    expr = self.range_or_subquery(expr, token)?;
                    height += 1;
                    if height > MAX_DEPTH {
                        return Err(too_deep(token.span()));
                    }
                }
                Kind::Keyword(Keyword::Offset) => {
                    self.bump();
                    self.offset(&mut expr, token)?;
                }
                Kind::At => {
                    self.bump();
                    self.at(&mut expr, token)?;
                }
                _ => break,
            }
        }
        Ok((expr, height))
    }

    /// A primary expression. The functions on the path of the recursion (this one, [`Self::paren`],
    /// [`Self::call`], [`Self::aggregate`]) keep little on the stack; the rest is done in helpers
    /// that have returned before the recursion goes deeper.
    fn primary(&mut self) -> Fallible<Parsed> {
        let token = self.peek(Mode::Normal)?;
        self.bump();
        match token.kind {
            Kind::LParen => self.paren(token),
            Kind::Ident if self.peek(Mode::Normal)?.kind == Kind::LParen => self.call(token),
            Kind::Keyword(Keyword::Aggregate(op)) if self.starts_aggregation()? => self.aggregate(op, token),
            _ => self.leaf(token),
        }
    }

    /// After an aggregation keyword: whether an aggregation follows (else the keyword is a metric
    /// name, as in `sum + 1`).
    fn starts_aggregation(&mut self) -> Fallible<bool> {
        let next = self.peek(Mode::Normal)?;
        Ok(matches!(
            next.kind,
            Kind::LParen | Kind::Keyword(Keyword::By) | Kind::Keyword(Keyword::Without)
        ))
    }

    /// `(expr)`; the `(` was read.
    fn paren(&mut self, open: Token) -> Fallible<Parsed> {
        let inner = self.nested(open, 0)?;
        self.close_paren(open, inner)
    }

    #[inline(never)]
    fn close_paren(&mut self, open: Token, (inner, height): Parsed) -> Fallible<Parsed> {
        let close = self.next(Mode::Normal)?;
        if close.kind != Kind::RParen {
            return Err(self.unclosed(open, ')', "an operator or `)`", close));
        }
        let span = open.start..close.end;
        Ok((Expr::Paren(Box::new(Paren { expr: inner, span })), height + 1))
    }

    /// A primary expression that does not nest: a literal or a selector (`token` was read).
    #[inline(never)]
    fn leaf(&mut self, token: Token) -> Fallible<Parsed> {
        let span = token.span();
        match token.kind {
            Kind::Number => {
                let value = self.number_value(token)?;
                Ok((Expr::Number(NumberLiteral { value, span }), 1))
            }
            Kind::Duration => {
                let value = self.duration_value(token)?;
                Ok((Expr::Number(NumberLiteral { value, span }), 1))
            }
            Kind::Str => Ok((Expr::String(self.string_literal(token)), 1)),
            Kind::LBrace => {
                // Give the `{` back: the selector reads it.
                self.peeked = Some((token, Mode::Normal));
                self.selector(None, token.start)
            }
            // Keywords that Prometheus also accepts as metric names.
            Kind::Ident
            | Kind::MetricIdent
            | Kind::Keyword(
                Keyword::Aggregate(_)
                | Keyword::By
                | Keyword::Without
                | Keyword::And
                | Keyword::Or
                | Keyword::Unless
                | Keyword::Offset
                | Keyword::Start
                | Keyword::End,
            ) => self.selector(Some(self.name(token)), token.start),
            Kind::Keyword(Keyword::Bool) => Err(with_help(
                self.expected("an expression", token),
                "`bool` goes right after a comparison operator, before `on` or `ignoring`, as in `a > bool on(job) b`",
            )),
            Kind::Eql => Err(with_help(
                self.expected("an expression", token),
                "`=` is only for label matchers inside `{...}`; `==` compares",
            )),
            _ => Err(self.expected("an expression", token)),
        }
    }

    fn name(&self, token: Token) -> Name {
        Name {
            value: self.text(token).to_string(),
            span: token.span(),
        }
    }

    fn number_value(&self, token: Token) -> Fallible<f64> {
        let text = self.text(token);
        parse_number(text).ok_or_else(|| error(token.span(), format!("`{text}` is not a valid number")))
    }

    fn duration_value(&self, token: Token) -> Fallible<f64> {
        let text = self.text(token);
        parse_duration(text).map_err(|problem| {
            if problem == "too long" {
                error(token.span(), format!("the duration `{text}` is too long"))
            } else {
                with_help(
                    error(token.span(), format!("`{text}` is not a valid duration")),
                    "a duration is whole numbers with units in the order y, w, d, h, m, s, ms, such as `1h30m` or `500ms`",
                )
            }
        })
    }

    fn string_literal(&self, token: Token) -> StringLiteral {
        let (value, _) = decode_string(self.text(token), token.start);
        StringLiteral {
            value,
            span: token.span(),
        }
    }

    /// A number or duration token (in seconds) where a duration is expected.
    fn seconds(&self, token: Token) -> Fallible<f64> {
        match token.kind {
            Kind::Duration => self.duration_value(token),
            _ => self.number_value(token),
        }
    }

    // ----- selectors -----

    /// A vector selector: an optional name (already read) and optional `{matchers}`.
    fn selector(&mut self, name: Option<Name>, start: usize) -> Fallible<Parsed> {
        let mut end = name.as_ref().map_or(start, |n| n.span.end);
        let mut matchers = Vec::new();
        let token = self.peek(Mode::Normal)?;
        if token.kind == Kind::LBrace {
            self.bump();
            end = self.matchers(token, &mut matchers)?;
        }
        let selector = VectorSelector {
            name,
            matchers,
            offset: None,
            at: None,
            span: start..end,
        };
        Ok((Expr::Selector(Box::new(selector)), 1))
    }

    /// The matchers after `{`, up to `}`; returns the end of the `}`.
    fn matchers(&mut self, open: Token, matchers: &mut Vec<LabelMatcher>) -> Fallible<usize> {
        loop {
            let token = self.next(Mode::Braces)?;
            match token.kind {
                Kind::RBrace => return Ok(token.end),
                Kind::Ident => {
                    let name = self.name(token);
                    matchers.push(self.matcher(open, name)?);
                }
                Kind::Str => {
                    let literal = self.string_literal(token);
                    let next = self.peek(Mode::Braces)?;
                    if matches!(next.kind, Kind::Eql | Kind::Neq | Kind::EqlRegex | Kind::NeqRegex) {
                        let name = Name {
                            value: literal.value,
                            span: literal.span,
                        };
                        matchers.push(self.matcher(open, name)?);
                    } else {
                        // `{"metric.name"}`: the metric name, quoted.
                        let span = literal.span.clone();
                        matchers.push(LabelMatcher {
                            name: Name {
                                value: "__name__".into(),
                                span: span.clone(),
                            },
                            op: MatchOp::Equal,
                            value: literal,
                            span,
                        });
                    }
                }
                _ => return Err(self.unclosed(open, '}', "a label name or `}`", token)),
            }
            let separator = self.next(Mode::Braces)?;
            match separator.kind {
                Kind::Comma => {}
                Kind::RBrace => return Ok(separator.end),
                _ => return Err(self.unclosed(open, '}', "`,` or `}` after a label matcher", separator)),
            }
        }
    }

    /// The operator and value of a matcher whose label name was read.
    fn matcher(&mut self, open: Token, name: Name) -> Fallible<LabelMatcher> {
        let token = self.next(Mode::Braces)?;
        let op = match token.kind {
            Kind::Eql => MatchOp::Equal,
            Kind::Neq => MatchOp::NotEqual,
            Kind::EqlRegex => MatchOp::Regex,
            Kind::NeqRegex => MatchOp::NotRegex,
            _ => {
                return Err(self.unclosed(
                    open,
                    '}',
                    "a matcher operator (`=`, `!=`, `=~` or `!~`) after the label name",
                    token,
                ));
            }
        };
        let value_token = self.next(Mode::Braces)?;
        if value_token.kind != Kind::Str {
            let err = self.unclosed(
                open,
                '}',
                &format!("a quoted value after `{}`", op.as_str()),
                value_token,
            );
            return Err(match value_token.kind {
                Kind::Eof => err,
                Kind::Eql | Kind::EqlRegex => with_help(err, "a label matcher compares with a single `=`"),
                _ => with_help(
                    err,
                    format!("quote the value, as in `{}{}\"...\"`", name.value, op.as_str()),
                ),
            });
        }
        let raw = self.text(value_token);
        let (value, map) = decode_string(raw, value_token.start);
        if matches!(op, MatchOp::Regex | MatchOp::NotRegex) {
            check_regex(&value, &map, value_token.span()).map_err(Box::new)?;
        }
        let span = name.span.start..value_token.end;
        Ok(LabelMatcher {
            name,
            op,
            value: StringLiteral {
                value,
                span: value_token.span(),
            },
            span,
        })
    }

    /// After `[`: `range]` or `range:step]` / `range:]`.
    fn range_or_subquery(&mut self, expr: Expr, open: Token) -> Fallible<Expr> {
        let range = self.bracket_duration(open, "a duration such as `5m`", "a range")?;
        let token = self.next(Mode::Brackets)?;
        match token.kind {
            Kind::RBracket => {
                let bracket_span = open.start..token.end;
                let selector = match expr {
                    Expr::Selector(selector) => *selector,
                    other => {
                        let mut err = error(bracket_span, "a range can only follow a metric selector");
                        if other.value_type() == super::ast::ValueType::Vector {
                            err.help = Some(format!(
                                "to evaluate an expression over a range, use a subquery such as `[{}:1m]`",
                                self.src.get(range.span.clone()).unwrap_or("5m")
                            ));
                        }
                        return Err(err);
                    }
                };
                if let Some(offset) = &selector.offset {
                    return Err(error(
                        offset.span.clone(),
                        "`offset` must come after the range, as in `foo[5m] offset 1h`",
                    ));
                }
                if let Some(at) = &selector.at {
                    return Err(error(
                        at.span.clone(),
                        "`@` must come after the range, as in `foo[5m] @ end()`",
                    ));
                }
                let span = selector.span.start..token.end;
                Ok(Expr::Matrix(Box::new(MatrixSelector { selector, range, span })))
            }
            Kind::Colon => {
                let next = self.peek(Mode::Brackets)?;
                let step = if next.kind == Kind::RBracket {
                    None
                } else {
                    Some(self.bracket_duration(open, "a duration or `]`", "a subquery step")?)
                };
                let close = self.next(Mode::Brackets)?;
                if close.kind != Kind::RBracket {
                    return Err(self.unclosed(open, ']', "`]`", close));
                }
                let span = expr.span().start..close.end;
                Ok(Expr::Subquery(Box::new(Subquery {
                    expr,
                    range,
                    step,
                    offset: None,
                    at: None,
                    span,
                })))
            }
            _ => Err(self.unclosed(open, ']', "`]` or `:`", token)),
        }
    }

    /// A positive duration inside brackets.
    fn bracket_duration(&mut self, open: Token, expected: &str, what: &str) -> Fallible<Duration> {
        let token = self.next(Mode::Brackets)?;
        if !matches!(token.kind, Kind::Number | Kind::Duration) {
            let err = self.unclosed(open, ']', expected, token);
            return Err(if token.kind == Kind::Sub {
                with_help(err, format!("{what} cannot be negative"))
            } else {
                err
            });
        }
        let seconds = self.seconds(token)?;
        if !seconds.is_finite() || seconds <= 0.0 {
            return Err(error(
                token.span(),
                format!("{what} must be a duration longer than zero"),
            ));
        }
        Ok(Duration {
            seconds,
            span: token.span(),
        })
    }

    /// After `offset`: `[-]duration`, applied to `expr`.
    fn offset(&mut self, expr: &mut Expr, keyword: Token) -> Fallible<()> {
        let mut token = self.next(Mode::Normal)?;
        let negative = token.kind == Kind::Sub;
        if negative {
            token = self.next(Mode::Normal)?;
        }
        if !matches!(token.kind, Kind::Number | Kind::Duration) {
            return Err(with_help(
                self.expected("a duration after `offset`", token),
                "write it as in `offset 5m` or `offset -1h`",
            ));
        }
        let seconds = self.seconds(token)?;
        let offset = Duration {
            seconds: if negative { -seconds } else { seconds },
            span: keyword.start..token.end,
        };
        let (slot, span) = match expr {
            Expr::Selector(s) => (&mut s.offset, &mut s.span),
            Expr::Matrix(m) => (&mut m.selector.offset, &mut m.span),
            Expr::Subquery(s) => (&mut s.offset, &mut s.span),
            _ => {
                return Err(error(
                    offset.span,
                    "`offset` can only follow a selector, a range selector or a subquery",
                ));
            }
        };
        if slot.is_some() {
            return Err(error(offset.span, "`offset` is given twice"));
        }
        span.end = token.end;
        *slot = Some(offset);
        Ok(())
    }

    /// After `@`: a timestamp, `start()` or `end()`, applied to `expr`.
    fn at(&mut self, expr: &mut Expr, at: Token) -> Fallible<()> {
        let token = self.next(Mode::Normal)?;
        let (time, end) = match token.kind {
            Kind::Keyword(keyword @ (Keyword::Start | Keyword::End)) => {
                let open = self.next(Mode::Normal)?;
                if open.kind != Kind::LParen {
                    let name = self.text(token);
                    return Err(self.expected(&format!("`(` after `{name}`, as in `@ {name}()`"), open));
                }
                let close = self.next(Mode::Normal)?;
                if close.kind != Kind::RParen {
                    return Err(self.unclosed(open, ')', "`)`", close));
                }
                let time = if keyword == Keyword::Start {
                    AtTime::Start
                } else {
                    AtTime::End
                };
                (time, close.end)
            }
            Kind::Add | Kind::Sub | Kind::Number | Kind::Duration => {
                let negative = token.kind == Kind::Sub;
                let number = if matches!(token.kind, Kind::Add | Kind::Sub) {
                    self.next(Mode::Normal)?
                } else {
                    token
                };
                if !matches!(number.kind, Kind::Number | Kind::Duration) {
                    return Err(self.expected("a number after the sign", number));
                }
                let value = self.seconds(number)?;
                let value = if negative { -value } else { value };
                // Prometheus' bounds: a finite number of seconds that fits in an int64.
                if !value.is_finite() || value >= i64::MAX as f64 || value <= i64::MIN as f64 {
                    return Err(with_help(
                        error(token.start..number.end, "the `@` timestamp is out of range"),
                        "give a Unix timestamp in seconds, such as `@ 1700000000`",
                    ));
                }
                (AtTime::Timestamp(value), number.end)
            }
            _ => {
                return Err(self.expected("a Unix timestamp, `start()` or `end()` after `@`", token));
            }
        };
        let modifier = At {
            time,
            span: at.start..end,
        };
        let (slot, span) = match expr {
            Expr::Selector(s) => (&mut s.at, &mut s.span),
            Expr::Matrix(m) => (&mut m.selector.at, &mut m.span),
            Expr::Subquery(s) => (&mut s.at, &mut s.span),
            _ => {
                return Err(error(
                    modifier.span,
                    "`@` can only follow a selector, a range selector or a subquery",
                ));
            }
        };
        if slot.is_some() {
            return Err(error(modifier.span, "`@` is given twice"));
        }
        span.end = end;
        *slot = Some(modifier);
        Ok(())
    }

    // ----- calls and aggregations -----

    /// After `(`: arguments up to `)`; returns them and the `)`.
    fn arguments(&mut self, open: Token) -> Fallible<(Vec<Parsed>, Token)> {
        let mut args = Vec::new();
        let first = self.peek(Mode::Normal)?;
        if first.kind == Kind::RParen {
            self.bump();
            return Ok((args, first));
        }
        loop {
            args.push(self.nested(open, 0)?);
            if let Some(close) = self.after_argument(open)? {
                return Ok((args, close));
            }
        }
    }

    /// After an argument: `Some(close)` at the closing `)`, `None` after a `,`.
    #[inline(never)]
    fn after_argument(&mut self, open: Token) -> Fallible<Option<Token>> {
        let token = self.next(Mode::Normal)?;
        match token.kind {
            Kind::RParen => Ok(Some(token)),
            Kind::Comma if self.peek(Mode::Normal)?.kind == Kind::RParen => Err(with_help(
                error(token.span(), "trailing `,` after the last argument"),
                "remove the `,` before `)`",
            )),
            Kind::Comma => Ok(None),
            _ => Err(self.unclosed(open, ')', "`,` or `)` after an argument", token)),
        }
    }

    /// A function call; the name was read and `(` is next.
    fn call(&mut self, name: Token) -> Fallible<Parsed> {
        let open = self.next(Mode::Normal)?;
        let (args, close) = self.arguments(open)?;
        self.finish_call(name, args, close)
    }

    #[inline(never)]
    fn finish_call(&self, name: Token, args: Vec<Parsed>, close: Token) -> Fallible<Parsed> {
        let text = self.text(name);
        let Some(function) = functions::lookup(text) else {
            let mut err = error(name.span(), format!("unknown function `{text}`"));
            err.help = function_suggestion(text);
            return Err(err);
        };
        let height = args.iter().map(|(_, h)| *h).max().unwrap_or(0) + 1;
        if height > MAX_DEPTH {
            return Err(too_deep(name.span()));
        }
        let call = Call {
            function,
            name_span: name.span(),
            args: args.into_iter().map(|(e, _)| e).collect(),
            span: name.start..close.end,
        };
        Ok((Expr::Call(Box::new(call)), height))
    }

    /// An aggregation; its keyword was read and `(`, `by` or `without` is next.
    fn aggregate(&mut self, op: AggregateOp, keyword: Token) -> Fallible<Parsed> {
        let (grouping, open) = self.aggregate_start(op)?;
        let (args, close) = self.arguments(open)?;
        self.finish_aggregate(op, keyword, grouping, args, open, close)
    }

    /// The grouping before the arguments, if any, and the `(` of the arguments.
    #[inline(never)]
    fn aggregate_start(&mut self, op: AggregateOp) -> Fallible<(Option<Grouping>, Token)> {
        let grouping = self.grouping()?;
        let open = self.next(Mode::Normal)?;
        if open.kind != Kind::LParen {
            return Err(self.expected(
                &format!("`(` and the expression to aggregate with `{}`", op.as_str()),
                open,
            ));
        }
        Ok((grouping, open))
    }

    #[inline(never)]
    fn finish_aggregate(
        &mut self,
        op: AggregateOp,
        keyword: Token,
        mut grouping: Option<Grouping>,
        args: Vec<Parsed>,
        open: Token,
        close: Token,
    ) -> Fallible<Parsed> {
        let mut end = close.end;
        let after = self.peek(Mode::Normal)?;
        if matches!(after.kind, Kind::Keyword(Keyword::By | Keyword::Without)) {
            if grouping.is_some() {
                return Err(error(
                    after.span(),
                    format!("this `{}` already has its grouping before the arguments", op.as_str()),
                ));
            }
            grouping = self.grouping()?;
            end = grouping.as_ref().map_or(end, |g| g.span.end);
            let again = self.peek(Mode::Normal)?;
            if matches!(again.kind, Kind::Keyword(Keyword::By | Keyword::Without)) {
                return Err(error(
                    again.span(),
                    format!("this `{}` already has its grouping", op.as_str()),
                ));
            }
        }
        let parens = open.start..close.end;
        let name = op.as_str();
        if args.is_empty() {
            let example = if op.param_type().is_some() {
                "a parameter and "
            } else {
                ""
            };
            return Err(error(
                parens,
                format!("`{name}` needs {example}an expression to aggregate"),
            ));
        }
        let wanted = if op.param_type().is_some() { 2 } else { 1 };
        if args.len() != wanted {
            if args.len() < wanted {
                return Err(with_help(
                    error(
                        parens,
                        format!("`{name}` needs a parameter and an expression, found only one argument"),
                    ),
                    format!("as in `{name}({}, rate(http_requests_total[5m]))`", example_param(op)),
                ));
            }
            let extra = args.get(wanted).map_or(close.start, |(e, _)| e.span().start);
            let last = args.last().map_or(close.start, |(e, _)| e.span().end);
            let plural = if wanted == 1 { "argument" } else { "arguments" };
            return Err(error(
                extra..last,
                format!("`{name}` takes {wanted} {plural}, found {}", args.len()),
            ));
        }
        let height = args.iter().map(|(_, h)| *h).max().unwrap_or(0) + 1;
        if height > MAX_DEPTH {
            return Err(too_deep(keyword.span()));
        }
        let mut args = args.into_iter().map(|(e, _)| e);
        let (param, expr) = match (wanted, args.next(), args.next()) {
            (2, Some(param), Some(expr)) => (Some(param), expr),
            (_, Some(expr), _) => (None, expr),
            _ => return Err(error(parens, format!("`{name}` needs an expression to aggregate"))),
        };
        let aggregate = Aggregate {
            op,
            op_span: keyword.span(),
            param,
            expr,
            grouping,
            span: keyword.start..end,
        };
        Ok((Expr::Aggregate(Box::new(aggregate)), height))
    }

    /// `by (...)` or `without (...)`, if next.
    fn grouping(&mut self) -> Fallible<Option<Grouping>> {
        let token = self.peek(Mode::Normal)?;
        let without = match token.kind {
            Kind::Keyword(Keyword::By) => false,
            Kind::Keyword(Keyword::Without) => true,
            _ => return Ok(None),
        };
        self.bump();
        let (labels, end) = self.label_list(token)?;
        Ok(Some(Grouping {
            without,
            labels,
            span: token.start..end,
        }))
    }

    /// `(label, ...)` after `keyword`; returns the labels and the end of the `)`.
    fn label_list(&mut self, keyword: Token) -> Fallible<(Vec<Name>, usize)> {
        let open = self.next(Mode::Normal)?;
        let keyword_text = self.text(keyword);
        if open.kind != Kind::LParen {
            return Err(with_help(
                self.expected(&format!("`(` and a list of labels after `{keyword_text}`"), open),
                format!("as in `{keyword_text} (job, instance)`"),
            ));
        }
        let mut labels = Vec::new();
        loop {
            let token = self.next(Mode::Normal)?;
            match token.kind {
                Kind::RParen => return Ok((labels, token.end)),
                // Every keyword but `without` may be a label name here, as in Prometheus.
                Kind::Ident | Kind::MetricIdent => labels.push(self.name(token)),
                Kind::Keyword(keyword) if keyword != Keyword::Without => labels.push(self.name(token)),
                Kind::Str => {
                    let literal = self.string_literal(token);
                    if literal.value.is_empty() {
                        return Err(error(token.span(), "a label name cannot be empty"));
                    }
                    labels.push(Name {
                        value: literal.value,
                        span: literal.span,
                    });
                }
                _ => return Err(self.unclosed(open, ')', "a label name or `)`", token)),
            }
            let separator = self.next(Mode::Normal)?;
            match separator.kind {
                Kind::Comma => {}
                Kind::RParen => return Ok((labels, separator.end)),
                _ => return Err(self.unclosed(open, ')', "`,` or `)` after a label name", separator)),
            }
        }
    }
}

/// The functions most queries use: a close match among them is the likelier intent (`rat` is more
/// likely `rate` than `rad`).
const COMMON_FUNCTIONS: [&str; 12] = [
    "rate",
    "irate",
    "increase",
    "histogram_quantile",
    "sum",
    "avg",
    "max",
    "min",
    "count",
    "delta",
    "abs",
    "round",
];

/// "did you mean" for an unknown function name: common functions first, then all functions and
/// aggregation operators.
fn function_suggestion(name: &str) -> Option<String> {
    if name.len() > 64 {
        return None;
    }
    suggest::help_for(name, COMMON_FUNCTIONS).or_else(|| {
        let all = functions::FUNCTIONS
            .iter()
            .map(|f| f.name)
            .chain(AggregateOp::ALL.iter().map(|op| op.as_str()));
        suggest::help_for(name, all)
    })
}

fn example_param(op: AggregateOp) -> &'static str {
    match op {
        AggregateOp::Quantile => "0.99",
        AggregateOp::LimitRatio => "0.5",
        AggregateOp::CountValues => "\"value\"",
        _ => "5",
    }
}

/// What may follow a binary operator.
struct Modifiers {
    bool_modifier: Option<Span>,
    matching: Option<VectorMatching>,
}

/// `lhs op rhs`.
#[inline(never)]
#[allow(
    clippy::boxed_local,
    reason = "the modifiers stay boxed while the right operand is parsed, which keeps that recursion's frames small"
)]
fn combine(lhs: Parsed, op: BinaryOp, token: Token, modifiers: Box<Modifiers>, rhs: Parsed) -> Fallible<Parsed> {
    let ((lhs, lhs_height), (rhs, rhs_height)) = (lhs, rhs);
    let height = lhs_height.max(rhs_height) + 1;
    if height > MAX_DEPTH {
        return Err(too_deep(token.span()));
    }
    let Modifiers {
        bool_modifier,
        matching,
    } = *modifiers;
    let span = lhs.span().start..rhs.span().end;
    let binary = Binary {
        op,
        op_span: token.span(),
        bool_modifier,
        matching,
        lhs,
        rhs,
        span,
    };
    Ok((Expr::Binary(Box::new(binary)), height))
}

/// `+operand` or `-operand`; Prometheus folds the sign into a number literal.
#[inline(never)]
fn apply_unary(token: Token, (operand, height): Parsed) -> Fallible<Parsed> {
    let op = if token.kind == Kind::Sub {
        UnaryOp::Minus
    } else {
        UnaryOp::Plus
    };
    let span = token.start..operand.span().end;
    if let Expr::Number(number) = operand {
        let value = if op == UnaryOp::Minus {
            -number.value
        } else {
            number.value
        };
        return Ok((Expr::Number(NumberLiteral { value, span }), height));
    }
    let height = height + 1;
    if height > MAX_DEPTH {
        return Err(too_deep(token.span()));
    }
    Ok((
        Expr::Unary(Box::new(Unary {
            op,
            expr: operand,
            span,
        })),
        height,
    ))
}

#[cold]
fn too_deep(span: Span) -> Box<PromqlError> {
    with_help(
        error(span, format!("the query nests more than {MAX_DEPTH} levels deep")),
        "split it into simpler expressions",
    )
}

/// Checks a regular expression, mapping a problem back into the query through the string's `map`.
pub fn check_regex(pattern: &str, map: &[usize], literal: Span) -> Result<(), PromqlError> {
    regex::check(pattern).map_err(|problem| {
        let start = map.get(problem.span.start).copied().unwrap_or(literal.start);
        let end = map.get(problem.span.end).copied().unwrap_or(literal.end);
        // An escape maps several query bytes to one text byte: extend to cover whole characters.
        let span = if end > start { start..end } else { literal.clone() };
        PromqlError {
            span,
            message: format!("invalid regular expression: {}", problem.message),
            help: problem.help,
        }
    })
}
