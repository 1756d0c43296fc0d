//! The part of expr-lang (`github.com/antonmedv/expr`, which Argo Rollouts evaluates conditions with)
//! that shipc's conditions use, evaluated as Argo does.
//!
//! The simulation reads the very condition strings `emit` writes into the AnalysisTemplates, not the
//! predicates they came from, so a change to how conditions are written is simulated as Argo would
//! run it. Covered: numbers, strings, `true`/`false`, `result`, `#` inside a closure, `[index]`, unary
//! `!`/`not`/`-`, `* / %`, `+ -`, comparisons, `&&`/`and`, `||`/`or` (both short-circuit, as in expr),
//! parentheses, and the functions `len`, `isNaN`, `isInf`, `abs`, `any`, `all`, `none`. Anything else
//! is an evaluation error, which Argo too turns into an errored measurement.

/// A value an expression works on.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Every number is a float: Prometheus samples are, and expr compares ints with floats by value.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(String),
    /// A list (a Prometheus vector is a list of numbers).
    Array(Vec<Value>),
}

impl Value {
    fn type_name(&self) -> &'static str {
        match self {
            Value::Number(_) => "float64",
            Value::Bool(_) => "bool",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
        }
    }
}

/// Evaluates `source` with `result` bound to `result` and requires a boolean, as Argo's
/// `EvalCondition` does; `Err` carries the reason the measurement errors.
pub fn eval_condition(source: &str, result: &Value) -> Result<bool, String> {
    let expr = parse(source)?;
    match eval(&expr, result, None)? {
        Value::Bool(flag) => Ok(flag),
        other => Err(format!("expected bool, but got {}", other.type_name())),
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Literal(Value),
    Result,
    Item,
    Not(Box<Expr>),
    Negate(Box<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    Closure(Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Number(f64),
    Str(String),
    Ident(String),
    Hash,
    Punct(&'static str),
}

const PUNCTUATION: [&str; 20] = [
    "&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "+", "-", "*", "/", "%", "(", ")", "[", "]", "{", "}",
];

fn tokenize(source: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
        } else if c == ',' {
            tokens.push(Token::Punct(","));
            i += 1;
        } else if c == '#' {
            tokens.push(Token::Hash);
            i += 1;
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_ascii_digit() || *c == '.' || *c == 'e' || *c == '_')
                || (matches!(chars.get(i), Some('+' | '-')) && matches!(chars.get(i.wrapping_sub(1)), Some('e')))
            {
                i += 1;
            }
            let text: String = chars
                .get(start..i)
                .unwrap_or_default()
                .iter()
                .filter(|c| **c != '_')
                .collect();
            let number = text.parse::<f64>().map_err(|_| format!("invalid number `{text}`"))?;
            tokens.push(Token::Number(number));
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
            {
                i += 1;
            }
            tokens.push(Token::Ident(chars.get(start..i).unwrap_or_default().iter().collect()));
        } else if c == '"' || c == '\'' {
            let (text, end) = string_literal(&chars, i)?;
            tokens.push(Token::Str(text));
            i = end;
        } else {
            let rest: String = chars
                .get(i..(i + 2).min(chars.len()))
                .unwrap_or_default()
                .iter()
                .collect();
            let punct = PUNCTUATION
                .iter()
                .find(|p| rest.starts_with(**p))
                .ok_or_else(|| format!("unexpected character `{c}`"))?;
            tokens.push(Token::Punct(punct));
            i += punct.len();
        }
    }
    Ok(tokens)
}

/// A quoted string starting at `start`; returns its text and the index after the closing quote.
fn string_literal(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let quote = chars.get(start).copied().unwrap_or('"');
    let mut text = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err("unterminated string".to_string()),
            Some(c) if *c == quote => return Ok((text, i + 1)),
            Some('\\') => {
                let escaped = chars.get(i + 1).ok_or("unterminated string")?;
                match escaped {
                    'n' => text.push('\n'),
                    'r' => text.push('\r'),
                    't' => text.push('\t'),
                    'u' => {
                        let hex: String = chars.get(i + 2..i + 6).ok_or("short \\u escape")?.iter().collect();
                        let code = u32::from_str_radix(&hex, 16).map_err(|_| "invalid \\u escape")?;
                        text.push(char::from_u32(code).ok_or("invalid \\u escape")?);
                        i += 4;
                    }
                    other => text.push(*other),
                }
                i += 2;
            }
            Some(c) => {
                text.push(*c);
                i += 1;
            }
        }
    }
}

fn parse(source: &str) -> Result<Expr, String> {
    let tokens = tokenize(source)?;
    let mut parser = Parser { tokens, position: 0 };
    let expr = parser.expression(0)?;
    match parser.peek() {
        None => Ok(expr),
        Some(token) => Err(format!("unexpected token {token:?}")),
    }
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
}

/// Binding powers as in expr-lang: `||` < `&&` < comparisons < `+ -` < `* / %`.
fn binary_op(token: &Token) -> Option<(BinaryOp, u8)> {
    let op = match token {
        Token::Punct("||") => (BinaryOp::Or, 1),
        Token::Ident(word) if word == "or" => (BinaryOp::Or, 1),
        Token::Punct("&&") => (BinaryOp::And, 2),
        Token::Ident(word) if word == "and" => (BinaryOp::And, 2),
        Token::Punct("==") => (BinaryOp::Eq, 3),
        Token::Punct("!=") => (BinaryOp::Ne, 3),
        Token::Punct("<") => (BinaryOp::Lt, 3),
        Token::Punct("<=") => (BinaryOp::Le, 3),
        Token::Punct(">") => (BinaryOp::Gt, 3),
        Token::Punct(">=") => (BinaryOp::Ge, 3),
        Token::Punct("+") => (BinaryOp::Add, 4),
        Token::Punct("-") => (BinaryOp::Sub, 4),
        Token::Punct("*") => (BinaryOp::Mul, 5),
        Token::Punct("/") => (BinaryOp::Div, 5),
        Token::Punct("%") => (BinaryOp::Mod, 5),
        _ => return None,
    };
    Some(op)
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    fn expect(&mut self, punct: &str) -> Result<(), String> {
        match self.next() {
            Some(Token::Punct(found)) if found == punct => Ok(()),
            other => Err(format!("expected `{punct}`, found {other:?}")),
        }
    }

    fn expression(&mut self, min_power: u8) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while let Some((op, power)) = self.peek().and_then(binary_op) {
            if power <= min_power {
                break;
            }
            self.position += 1;
            let right = self.expression(power)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some(Token::Punct("!")) => {
                self.position += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some(Token::Ident(word)) if word == "not" => {
                self.position += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some(Token::Punct("-")) => {
                self.position += 1;
                Ok(Expr::Negate(Box::new(self.unary()?)))
            }
            _ => self.postfix(),
        }
    }

    fn postfix(&mut self) -> Result<Expr, String> {
        let mut expr = self.primary()?;
        while self.peek() == Some(&Token::Punct("[")) {
            self.position += 1;
            let index = self.expression(0)?;
            self.expect("]")?;
            expr = Expr::Index(Box::new(expr), Box::new(index));
        }
        Ok(expr)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Number(number)) => Ok(Expr::Literal(Value::Number(number))),
            Some(Token::Str(text)) => Ok(Expr::Literal(Value::Str(text))),
            Some(Token::Hash) => Ok(Expr::Item),
            Some(Token::Punct("(")) => {
                let inner = self.expression(0)?;
                self.expect(")")?;
                Ok(inner)
            }
            Some(Token::Punct("{")) => {
                let body = self.expression(0)?;
                self.expect("}")?;
                Ok(Expr::Closure(Box::new(body)))
            }
            Some(Token::Ident(word)) => match word.as_str() {
                "true" => Ok(Expr::Literal(Value::Bool(true))),
                "false" => Ok(Expr::Literal(Value::Bool(false))),
                "result" => Ok(Expr::Result),
                _ if self.peek() == Some(&Token::Punct("(")) => {
                    self.position += 1;
                    let mut args = Vec::new();
                    if self.peek() != Some(&Token::Punct(")")) {
                        loop {
                            args.push(self.expression(0)?);
                            if self.peek() == Some(&Token::Punct(",")) {
                                self.position += 1;
                            } else {
                                break;
                            }
                        }
                    }
                    self.expect(")")?;
                    Ok(Expr::Call(word, args))
                }
                _ => Err(format!("unknown name `{word}`")),
            },
            other => Err(format!("unexpected token {other:?}")),
        }
    }
}

fn eval(expr: &Expr, result: &Value, item: Option<&Value>) -> Result<Value, String> {
    match expr {
        Expr::Literal(value) => Ok(value.clone()),
        Expr::Result => Ok(result.clone()),
        Expr::Item => item.cloned().ok_or_else(|| "`#` outside a closure".to_string()),
        Expr::Not(inner) => match eval(inner, result, item)? {
            Value::Bool(flag) => Ok(Value::Bool(!flag)),
            other => Err(format!("invalid operation: ! ({})", other.type_name())),
        },
        Expr::Negate(inner) => Ok(Value::Number(-number(&eval(inner, result, item)?)?)),
        Expr::Index(base, index) => {
            let base = eval(base, result, item)?;
            let index = number(&eval(index, result, item)?)?;
            match base {
                Value::Array(items) => {
                    let position = if index < 0.0 { items.len() as f64 + index } else { index };
                    usize_index(position)
                        .and_then(|position| items.get(position).cloned())
                        .ok_or_else(|| format!("index out of range: {index} (array length is {})", items.len()))
                }
                other => Err(format!("cannot fetch {index} from {}", other.type_name())),
            }
        }
        Expr::Binary(op, left, right) => binary(*op, left, right, result, item),
        Expr::Call(name, args) => call(name, args, result, item),
        Expr::Closure(_) => Err("a closure is only an argument of a function".to_string()),
    }
}

fn usize_index(position: f64) -> Option<usize> {
    (position >= 0.0 && position.fract() == 0.0 && position < usize::MAX as f64).then_some(position as usize)
}

fn number(value: &Value) -> Result<f64, String> {
    match value {
        Value::Number(number) => Ok(*number),
        other => Err(format!("expected a number, got {}", other.type_name())),
    }
}

fn boolean(value: &Value, op: &str) -> Result<bool, String> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        other => Err(format!("invalid operation: {op} on {}", other.type_name())),
    }
}

fn binary(op: BinaryOp, left: &Expr, right: &Expr, result: &Value, item: Option<&Value>) -> Result<Value, String> {
    match op {
        BinaryOp::Or => {
            if boolean(&eval(left, result, item)?, "||")? {
                return Ok(Value::Bool(true));
            }
            return Ok(Value::Bool(boolean(&eval(right, result, item)?, "||")?));
        }
        BinaryOp::And => {
            if !boolean(&eval(left, result, item)?, "&&")? {
                return Ok(Value::Bool(false));
            }
            return Ok(Value::Bool(boolean(&eval(right, result, item)?, "&&")?));
        }
        _ => {}
    }
    let left = eval(left, result, item)?;
    let right = eval(right, result, item)?;
    match op {
        BinaryOp::Eq => Ok(Value::Bool(left == right)),
        BinaryOp::Ne => Ok(Value::Bool(left != right)),
        _ => {
            let (a, b) = match (&left, &right) {
                (Value::Number(a), Value::Number(b)) => (*a, *b),
                _ => {
                    return Err(format!(
                        "invalid operation between {} and {}",
                        left.type_name(),
                        right.type_name()
                    ));
                }
            };
            Ok(match op {
                BinaryOp::Lt => Value::Bool(a < b),
                BinaryOp::Le => Value::Bool(a <= b),
                BinaryOp::Gt => Value::Bool(a > b),
                BinaryOp::Ge => Value::Bool(a >= b),
                BinaryOp::Add => Value::Number(a + b),
                BinaryOp::Sub => Value::Number(a - b),
                BinaryOp::Mul => Value::Number(a * b),
                BinaryOp::Div => Value::Number(a / b),
                _ => Value::Number(a % b),
            })
        }
    }
}

fn call(name: &str, args: &[Expr], result: &Value, item: Option<&Value>) -> Result<Value, String> {
    match (name, args) {
        ("len", [arg]) => match eval(arg, result, item)? {
            Value::Array(items) => Ok(Value::Number(items.len() as f64)),
            Value::Str(text) => Ok(Value::Number(text.chars().count() as f64)),
            other => Err(format!("invalid argument for len (type {})", other.type_name())),
        },
        ("isNaN", [arg]) => Ok(Value::Bool(number(&eval(arg, result, item)?)?.is_nan())),
        ("isInf", [arg]) => Ok(Value::Bool(number(&eval(arg, result, item)?)?.is_infinite())),
        ("abs", [arg]) => Ok(Value::Number(number(&eval(arg, result, item)?)?.abs())),
        ("any" | "all" | "none", [list, Expr::Closure(body)]) => {
            let Value::Array(items) = eval(list, result, item)? else {
                return Err(format!("{name}: the first argument is not an array"));
            };
            for element in &items {
                let holds = boolean(&eval(body, result, Some(element))?, name)?;
                match (name, holds) {
                    ("any", true) => return Ok(Value::Bool(true)),
                    ("all", false) | ("none", true) => return Ok(Value::Bool(false)),
                    _ => {}
                }
            }
            Ok(Value::Bool(name != "any"))
        }
        _ => Err(format!("unknown function {name} with {} arguments", args.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(values: &[f64]) -> Value {
        Value::Array(values.iter().map(|v| Value::Number(*v)).collect())
    }

    const FAILURE: &str = "len(result) == 0 || any(result, {isNaN(#) || # > 0.01})";

    #[test]
    fn shipc_failure_conditions_fail_on_missing_data() {
        assert_eq!(eval_condition(FAILURE, &vector(&[0.002])), Ok(false));
        assert_eq!(eval_condition(FAILURE, &vector(&[0.002, 0.05])), Ok(true));
        assert_eq!(eval_condition(FAILURE, &vector(&[])), Ok(true));
        assert_eq!(eval_condition(FAILURE, &vector(&[f64::NAN])), Ok(true));
    }

    #[test]
    fn argo_pitfalls_are_reproduced() {
        // An empty vector indexed is an error, not a failure.
        assert!(eval_condition("result[0] > 0.01", &vector(&[])).is_err());
        // NaN compares false both ways.
        assert_eq!(eval_condition("result[0] > 0.01", &vector(&[f64::NAN])), Ok(false));
        assert_eq!(eval_condition("result[0] < 0.01", &vector(&[f64::NAN])), Ok(false));
        // A scalar is a number: indexing it errors, `len` of it errors.
        assert!(eval_condition("result[0] > 1", &Value::Number(2.0)).is_err());
        assert!(eval_condition(FAILURE, &Value::Number(2.0)).is_err());
        assert_eq!(
            eval_condition("isNaN(result) || result >= 0.95", &Value::Number(0.97)),
            Ok(true)
        );
        // A condition that is not boolean errors.
        assert!(eval_condition("result[0]", &vector(&[1.0])).is_err());
    }

    #[test]
    fn boolean_operators_short_circuit() {
        assert_eq!(
            eval_condition("len(result) > 0 && result[0] < 1", &vector(&[])),
            Ok(false)
        );
        assert_eq!(
            eval_condition("len(result) == 0 || result[0] < 1", &vector(&[])),
            Ok(true)
        );
    }

    #[test]
    fn inconclusive_pairs_leave_missing_data_undecided() {
        let success = "len(result) > 0 && all(result, {!isNaN(#) && !(# < 1 || # > 5)})";
        let failure = "any(result, {!isNaN(#) && (# < 1 || # > 5)})";
        for (values, expected) in [
            (vec![3.0], (true, false)),
            (vec![7.0], (false, true)),
            (vec![], (false, false)),
            (vec![f64::NAN], (false, false)),
        ] {
            let result = vector(&values);
            assert_eq!(
                (
                    eval_condition(success, &result).unwrap(),
                    eval_condition(failure, &result).unwrap()
                ),
                expected,
                "{values:?}"
            );
        }
    }

    #[test]
    fn precedence_arithmetic_and_literals() {
        assert_eq!(eval_condition("1 + 2 * 3 == 7", &vector(&[])), Ok(true));
        assert_eq!(
            eval_condition("-result[0] < 0 and not false", &vector(&[2.0])),
            Ok(true)
        );
        assert_eq!(
            eval_condition(r#"result == "UP""#, &Value::Str("UP".to_string())),
            Ok(true)
        );
        assert_eq!(eval_condition("result[-1] >= 1e-3", &vector(&[5.0, 0.001])), Ok(true));
        assert!(eval_condition("result > ", &vector(&[])).is_err());
        assert!(eval_condition("matches(result, 'x')", &vector(&[])).is_err());
    }
}
