//! Tokens of PromQL, after Prometheus' `promql/parser/lex.go`.
//!
//! The lexer is driven by the parser, which says in which context the next token is read: inside the
//! braces of a selector words are plain label names (no keywords, no `:`) and `=~`/`!~` exist; inside
//! the brackets of a range `:` separates the range from the step; everywhere else words may contain
//! `:` and some of them are keywords (case-insensitively).

use super::PromqlError;
use super::ast::AggregateOp;

/// A keyword. Most can also be a metric name where an expression is expected (see the parser).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    And,
    Or,
    Unless,
    Atan2,
    Aggregate(AggregateOp),
    Offset,
    By,
    Without,
    On,
    Ignoring,
    GroupLeft,
    GroupRight,
    Bool,
    Start,
    End,
}

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A word without `:` that is not a keyword.
    Ident,
    /// A word with a `:` (only a metric name).
    MetricIdent,
    Keyword(Keyword),
    Number,
    Duration,
    Str,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    At,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    EqlC,
    Neq,
    Gtr,
    Lss,
    Gte,
    Lte,
    Eql,
    EqlRegex,
    NeqRegex,
    Eof,
}

/// A token and where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn span(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// The context the next token is read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Braces,
    Brackets,
}

/// A cursor over the query text.
pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn is_alpha(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphabetic()
}

fn is_alnum(b: u8) -> bool {
    is_alpha(b) || b.is_ascii_digit()
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The keyword `word` (already lower-cased) stands for, or `Number` for `inf` and `nan`.
fn keyword(word: &str) -> Option<Kind> {
    let keyword = match word {
        "and" => Keyword::And,
        "or" => Keyword::Or,
        "unless" => Keyword::Unless,
        "atan2" => Keyword::Atan2,
        "offset" => Keyword::Offset,
        "by" => Keyword::By,
        "without" => Keyword::Without,
        "on" => Keyword::On,
        "ignoring" => Keyword::Ignoring,
        "group_left" => Keyword::GroupLeft,
        "group_right" => Keyword::GroupRight,
        "bool" => Keyword::Bool,
        "start" => Keyword::Start,
        "end" => Keyword::End,
        "inf" | "nan" => return Some(Kind::Number),
        _ => Keyword::Aggregate(AggregateOp::ALL.into_iter().find(|op| op.as_str() == word)?),
    };
    Some(Kind::Keyword(keyword))
}

/// How a character is shown in a message.
/// A character as it may be shown inside backticks: escaped only when it would not be visible.
fn plain(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        c.escape_debug().to_string()
    } else {
        c.to_string()
    }
}

pub fn show_char(c: char) -> String {
    format!("`{}`", plain(c))
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    /// Moves back to `pos` (the start of a token read in the wrong context).
    pub fn reset(&mut self, pos: usize) {
        self.pos = pos;
    }

    fn byte_at(&self, pos: usize) -> Option<u8> {
        self.src.as_bytes().get(pos).copied()
    }

    fn peek(&self) -> Option<u8> {
        self.byte_at(self.pos)
    }

    fn accept(&mut self, valid: &[u8]) -> bool {
        match self.peek() {
            Some(b) if valid.contains(&b) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn is(&self, valid: &[u8]) -> bool {
        self.peek().is_some_and(|b| valid.contains(&b))
    }

    fn char_at(&self, pos: usize) -> Option<char> {
        self.src.get(pos..).and_then(|rest| rest.chars().next())
    }

    fn token(&self, kind: Kind, start: usize) -> Token {
        Token {
            kind,
            start,
            end: self.pos,
        }
    }

    fn error(&self, start: usize, end: usize, message: String) -> PromqlError {
        PromqlError {
            span: start..end,
            message,
            help: None,
        }
    }

    /// Skips spaces and `#` comments (which run to the end of the line).
    fn skip_trivia(&mut self) {
        while let Some(b) = self.peek() {
            if is_space(b) {
                self.pos += 1;
            } else if b == b'#' {
                while let Some(b) = self.peek() {
                    if b == b'\n' || b == b'\r' {
                        break;
                    }
                    self.pos += self.char_at(self.pos).map_or(1, char::len_utf8);
                }
            } else {
                break;
            }
        }
    }

    /// Reads the next token in `mode`.
    pub fn next(&mut self, mode: Mode) -> Result<Token, PromqlError> {
        self.skip_trivia();
        let start = self.pos;
        let Some(c) = self.char_at(start) else {
            return Ok(self.token(Kind::Eof, start));
        };
        match mode {
            Mode::Braces => self.next_in_braces(c, start),
            Mode::Brackets if c == ':' => {
                self.pos += 1;
                Ok(self.token(Kind::Colon, start))
            }
            Mode::Normal | Mode::Brackets => self.next_normal(c, start),
        }
    }

    fn single(&mut self, kind: Kind, start: usize) -> Result<Token, PromqlError> {
        self.pos = start + 1;
        Ok(self.token(kind, start))
    }

    fn double_or(&mut self, second: u8, long: Kind, short: Kind, start: usize) -> Result<Token, PromqlError> {
        self.pos = start + 1;
        if self.accept(&[second]) {
            Ok(self.token(long, start))
        } else {
            Ok(self.token(short, start))
        }
    }

    fn next_normal(&mut self, c: char, start: usize) -> Result<Token, PromqlError> {
        match c {
            ',' => self.single(Kind::Comma, start),
            '(' => self.single(Kind::LParen, start),
            ')' => self.single(Kind::RParen, start),
            '{' => self.single(Kind::LBrace, start),
            '}' => self.single(Kind::RBrace, start),
            '[' => self.single(Kind::LBracket, start),
            ']' => self.single(Kind::RBracket, start),
            '@' => self.single(Kind::At, start),
            '*' => self.single(Kind::Mul, start),
            '/' => self.single(Kind::Div, start),
            '%' => self.single(Kind::Mod, start),
            '+' => self.single(Kind::Add, start),
            '-' => self.single(Kind::Sub, start),
            '^' => self.single(Kind::Pow, start),
            '<' => self.double_or(b'=', Kind::Lte, Kind::Lss, start),
            '>' => self.double_or(b'=', Kind::Gte, Kind::Gtr, start),
            '=' => {
                if self.byte_at(start + 1) == Some(b'~') {
                    return Err(self.error(
                        start,
                        start + 2,
                        "`=~` can only be used in a label matcher inside `{...}`".into(),
                    ));
                }
                self.double_or(b'=', Kind::EqlC, Kind::Eql, start)
            }
            '!' => {
                if self.byte_at(start + 1) == Some(b'=') {
                    self.pos = start + 2;
                    return Ok(self.token(Kind::Neq, start));
                }
                if self.byte_at(start + 1) == Some(b'~') {
                    return Err(self.error(
                        start,
                        start + 2,
                        "`!~` can only be used in a label matcher inside `{...}`".into(),
                    ));
                }
                Err(PromqlError {
                    help: Some(
                        "PromQL has no `!` operator; `!=` compares for inequality, and `unless` removes series".into(),
                    ),
                    ..self.error(start, start + 1, "unexpected character `!`".into())
                })
            }
            '"' | '\'' | '`' => self.string(c, start),
            '0'..='9' => self.number_or_duration(start),
            '.' if self.byte_at(start + 1).is_some_and(|b| b.is_ascii_digit()) => self.number_or_duration(start),
            c if c == ':' || (c.is_ascii() && is_alpha(c as u8)) => Ok(self.word(start)),
            other => Err(self.error(
                start,
                start + other.len_utf8(),
                format!("unexpected character {}", show_char(other)),
            )),
        }
    }

    fn next_in_braces(&mut self, c: char, start: usize) -> Result<Token, PromqlError> {
        match c {
            ',' => self.single(Kind::Comma, start),
            '}' => self.single(Kind::RBrace, start),
            '=' => self.double_or(b'~', Kind::EqlRegex, Kind::Eql, start),
            '!' => match self.byte_at(start + 1) {
                Some(b'=') => {
                    self.pos = start + 2;
                    Ok(self.token(Kind::Neq, start))
                }
                Some(b'~') => {
                    self.pos = start + 2;
                    Ok(self.token(Kind::NeqRegex, start))
                }
                _ => Err(PromqlError {
                    help: Some("the matcher operators are `=`, `!=`, `=~` and `!~`".into()),
                    ..self.error(start, start + 1, "unexpected character `!` in a label matcher".into())
                }),
            },
            '"' | '\'' | '`' => self.string(c, start),
            c if c.is_ascii() && is_alpha(c as u8) => {
                self.pos = start;
                while self.peek().is_some_and(is_alnum) {
                    self.pos += 1;
                }
                Ok(self.token(Kind::Ident, start))
            }
            '{' => Err(self.error(
                start,
                start + 1,
                "unexpected `{` inside the braces of a selector".into(),
            )),
            other => {
                let mut error = self.error(
                    start,
                    start + other.len_utf8(),
                    format!("unexpected character {} in a label matcher", show_char(other)),
                );
                if matches!(other, ':' | '.' | '-' | '/') {
                    error.help = Some(
                        "a label name has only letters, digits and `_`; quote any other name, as in `{\"a.b\"=\"x\"}`"
                            .into(),
                    );
                }
                Err(error)
            }
        }
    }

    /// A word: identifier, metric name (with `:`), keyword, or `inf`/`nan`.
    fn word(&mut self, start: usize) -> Token {
        self.pos = start;
        while self.peek().is_some_and(|b| is_alnum(b) || b == b':') {
            self.pos += 1;
        }
        let word = self.src.get(start..self.pos).unwrap_or("");
        let kind = match keyword(&word.to_ascii_lowercase()) {
            Some(kind) => kind,
            None if word.contains(':') => Kind::MetricIdent,
            None => Kind::Ident,
        };
        self.token(kind, start)
    }

    /// Prometheus' `scanNumber`: decimal, hexadecimal and floating-point numbers with `_` separators.
    /// Returns false when what follows cannot be a number (it may still be a duration).
    fn scan_number(&mut self) -> bool {
        const DEC: &[u8] = b"0123456789";
        const HEX: &[u8] = b"0123456789abcdefABCDEF";
        let initial = self.pos;
        let mut digits = DEC;
        let hex = self.accept(b"0") && self.accept(b"xX");
        if hex {
            self.accept(b"_");
            digits = HEX;
        }
        let continuing: Vec<u8> = digits.iter().chain(b"._eE").copied().collect();
        self.accept(b".");
        self.accept(digits);
        let mut dot_consumed = false;
        let mut exponent_consumed = false;
        while self.is(&continuing) {
            if self.is(b".") && dot_consumed {
                self.accept(b".");
                return false;
            }
            // In a hexadecimal number `e` is a digit. (Prometheus' newest lexer reads it as an
            // exponent there too and so rejects `0xee`, which older versions accept.)
            if !hex && self.is(b"eE") && exponent_consumed {
                self.accept(b"eE");
                return false;
            }
            if self.accept(b".") {
                dot_consumed = true;
                if self.accept(b"_.") || hex {
                    return false;
                }
                continue;
            }
            if !hex && self.accept(b"eE") {
                exponent_consumed = true;
                self.accept(b"+-");
                if self.accept(b"._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            if self.accept(b"_") {
                if self.accept(b"._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            while self.accept(digits) {}
        }
        self.pos != initial && !self.peek().is_some_and(is_alnum)
    }

    /// Prometheus' `acceptRemainingDuration`: units and further number-unit pairs.
    fn accept_remaining_duration(&mut self) -> bool {
        if !self.accept(b"smhdwy") {
            return false;
        }
        self.accept(b"s");
        while self.accept(b"0123456789") {
            while self.accept(b"0123456789") {}
            if !self.accept(b"smhdw") {
                return false;
            }
            self.accept(b"s");
        }
        !self.peek().is_some_and(is_alnum)
    }

    fn number_or_duration(&mut self, start: usize) -> Result<Token, PromqlError> {
        self.pos = start;
        if self.scan_number() {
            return Ok(self.token(Kind::Number, start));
        }
        if self.accept_remaining_duration() {
            return Ok(self.token(Kind::Duration, start));
        }
        // Report the whole run of word characters, not just the part scanned so far.
        let mut end = self.pos.max(start + 1);
        while self.byte_at(end).is_some_and(|b| is_alnum(b) || b == b'.') {
            end += 1;
        }
        let text = self.src.get(start..end).unwrap_or("");
        Err(PromqlError {
            span: start..end,
            message: format!("`{text}` is not a valid number or duration"),
            help: Some("a duration is a whole number followed by a unit (`ms`, `s`, `m`, `h`, `d`, `w`, `y`), such as `5m` or `1h30m`".into()),
        })
    }

    /// A quoted string; escapes are checked here and decoded by [`decode_string`].
    fn string(&mut self, quote: char, start: usize) -> Result<Token, PromqlError> {
        self.pos = start + 1;
        let unterminated = move || PromqlError {
            span: start..start + 1,
            message: format!(
                "this string is never closed: expected a closing {}",
                if quote == '`' {
                    "backtick".to_string()
                } else {
                    show_char(quote)
                }
            ),
            help: (quote != '`').then(|| "a string in `\"` or `'` cannot span lines; use backticks for that".into()),
        };
        loop {
            let Some(c) = self.char_at(self.pos) else {
                return Err(unterminated());
            };
            if c == quote {
                self.pos += 1;
                return Ok(self.token(Kind::Str, start));
            }
            if quote != '`' {
                if c == '\n' {
                    return Err(unterminated());
                }
                if c == '\\' {
                    self.escape(quote)?;
                    continue;
                }
            }
            self.pos += c.len_utf8();
        }
    }

    /// Checks one escape sequence (at the backslash) in a string quoted with `quote`.
    fn escape(&mut self, quote: char) -> Result<(), PromqlError> {
        let start = self.pos;
        self.pos += 1;
        let Some(c) = self.char_at(self.pos) else {
            return Err(self.error(
                start,
                self.pos,
                "incomplete escape sequence at the end of the query".into(),
            ));
        };
        self.pos += c.len_utf8();
        let (digits, base, max) = match c {
            'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\' => return Ok(()),
            c if c == quote => return Ok(()),
            '0'..='7' => {
                self.pos -= 1;
                (3, 8, 255)
            }
            'x' => (2, 16, 255),
            'u' => (4, 16, 0x10_FFFF),
            'U' => (8, 16, 0x10_FFFF),
            other => {
                return Err(PromqlError {
                    span: start..self.pos,
                    message: format!("unknown escape sequence `\\{}`", plain(other)),
                    help: Some(
                        "write `\\\\` for a backslash (a regular expression like `\\d` becomes `\"\\\\d\"`), or put the text in backticks, where backslashes are literal"
                            .into(),
                    ),
                });
            }
        };
        let mut value: u32 = 0;
        for _ in 0..digits {
            let Some(d) = self.char_at(self.pos) else {
                return Err(self.error(
                    start,
                    self.pos,
                    "incomplete escape sequence at the end of the query".into(),
                ));
            };
            let Some(v) = d.to_digit(base) else {
                if d == quote {
                    let text = self.src.get(start..self.pos).unwrap_or("");
                    return Err(self.error(start, self.pos, format!("incomplete escape sequence `{text}`")));
                }
                return Err(self.error(
                    start,
                    self.pos + d.len_utf8(),
                    format!("unexpected character {} in an escape sequence", show_char(d)),
                ));
            };
            value = value.saturating_mul(base).saturating_add(v);
            self.pos += 1;
        }
        if value > max || (0xD800..0xE000).contains(&value) {
            let text = self.src.get(start..self.pos).unwrap_or("");
            return Err(self.error(start, self.pos, format!("`{text}` is not a valid Unicode code point")));
        }
        Ok(())
    }
}

/// The decoded text of a string token (quotes included in `raw`, which starts at byte `start` of the
/// query), with, for each byte of the text and one past its end, the query offset it came from.
/// Escapes were checked by the lexer; anything unexpected is kept as written.
pub fn decode_string(raw: &str, start: usize) -> (String, Vec<usize>) {
    let mut chars = raw.char_indices().peekable();
    let quote = chars.next().map(|(_, c)| c).unwrap_or('"');
    let mut bytes: Vec<u8> = Vec::with_capacity(raw.len());
    let mut map: Vec<usize> = Vec::with_capacity(raw.len() + 1);
    let end_of_content = raw.len().saturating_sub(1);
    let push = |bytes: &mut Vec<u8>, map: &mut Vec<usize>, data: &[u8], at: usize| {
        bytes.extend_from_slice(data);
        map.extend(std::iter::repeat_n(start + at, data.len()));
    };
    while let Some((idx, c)) = chars.next() {
        if idx >= end_of_content {
            break;
        }
        if c != '\\' || quote == '`' {
            let mut buf = [0u8; 4];
            push(&mut bytes, &mut map, c.encode_utf8(&mut buf).as_bytes(), idx);
            continue;
        }
        let Some((_, e)) = chars.next() else { break };
        let simple = match e {
            'a' => Some(0x07u8),
            'b' => Some(0x08),
            'f' => Some(0x0C),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(0x0B),
            '\\' => Some(b'\\'),
            '"' => Some(b'"'),
            '\'' => Some(b'\''),
            _ => None,
        };
        if let Some(b) = simple {
            push(&mut bytes, &mut map, &[b], idx);
            continue;
        }
        let (count, base) = match e {
            '0'..='7' => (2, 8),
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            _ => (0, 10),
        };
        let mut value = if base == 8 { e.to_digit(8).unwrap_or(0) } else { 0 };
        for _ in 0..count {
            if let Some((_, d)) = chars.next_if(|(_, d)| d.is_digit(base)) {
                value = value.saturating_mul(base).saturating_add(d.to_digit(base).unwrap_or(0));
            }
        }
        if matches!(e, '0'..='7' | 'x') {
            push(&mut bytes, &mut map, &[u8::try_from(value).unwrap_or(u8::MAX)], idx);
        } else {
            let c = char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut buf = [0u8; 4];
            push(&mut bytes, &mut map, c.encode_utf8(&mut buf).as_bytes(), idx);
        }
    }
    map.push(start + end_of_content);
    match String::from_utf8(bytes) {
        Ok(text) => (text, map),
        Err(error) => {
            // Raw bytes that are not UTF-8: positions inside the text become approximate.
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            let map = vec![start; text.len()]
                .into_iter()
                .chain([start + end_of_content])
                .collect();
            (text, map)
        }
    }
}
