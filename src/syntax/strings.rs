//! Decoding string literals: escapes, the indentation of `"""` strings, and `${...}` interpolations.
//!
//! The grammar only finds where a string starts and ends; this module gives its meaning and reports
//! precise errors (an unknown escape, a malformed interpolation) at the exact characters. Decoded text
//! keeps a map back to the source (see [`TextPiece`]) for later phases that point inside strings.

use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::source::{SourceId, Span};

use super::ast::{Ident, Interpolation, StrLit, StrPart, TextPiece};

/// Decodes the literal `raw` (quotes included) that starts at byte `start` of `source`.
pub fn decode(raw: &str, start: u32, source: SourceId, diagnostics: &mut Diagnostics) -> StrLit {
    let span = Span::new(source, start, start + raw.len() as u32);
    let mut builder = PartsBuilder::new(source);
    let errors_before = diagnostics.error_count();
    if let Some(content) = raw.strip_prefix("\"\"\"").and_then(|r| r.strip_suffix("\"\"\"")) {
        decode_triple(content, start + 3, &mut builder, diagnostics);
    } else {
        let content = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')).unwrap_or("");
        decode_plain(content, start + 1, &mut builder, diagnostics);
    }
    StrLit {
        parts: builder.finish(),
        span,
        malformed: diagnostics.error_count() > errors_before,
    }
}

/// `"..."`: backslash escapes, no line breaks.
fn decode_plain(content: &str, offset: u32, builder: &mut PartsBuilder, diagnostics: &mut Diagnostics) {
    let mut chars = content.char_indices().peekable();
    while let Some((idx, c)) = chars.next() {
        let at = offset + idx as u32;
        if c == '\\' {
            let Some((_, escaped)) = chars.next() else {
                break;
            };
            let width = 1 + escaped.len_utf8() as u32;
            match unescape(escaped) {
                Some(decoded) => builder.push_char(decoded, at, width),
                None => diagnostics.push(
                    Diagnostic::new(
                        Code::E0102,
                        Span::new(builder.source, at, at + width),
                        format!("unknown escape `\\{}`", escaped.escape_debug()),
                    )
                    .label("not an escape the language defines")
                    .help(
                        "the escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r` and `\\$`; write `\\\\` for a backslash",
                    ),
                ),
            }
        } else if c == '$' && chars.peek().map(|(_, next)| *next) == Some('{') {
            let rest = content.get(idx..).unwrap_or("");
            let consumed = builder.push_interpolation(rest, at, diagnostics);
            while chars.peek().is_some_and(|(next_idx, _)| *next_idx < idx + consumed) {
                chars.next();
            }
        } else {
            builder.push_char(c, at, c.len_utf8() as u32);
        }
    }
}

fn unescape(escaped: char) -> Option<char> {
    match escaped {
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        '\\' | '"' | '$' => Some(escaped),
        _ => None,
    }
}

/// `"""..."""`: raw text over several lines. A line break right after the opening quotes and the
/// whitespace-only line before the closing quotes are dropped, and the indentation common to every
/// non-blank line is removed, so a query can be indented with the code around it.
fn decode_triple(content: &str, offset: u32, builder: &mut PartsBuilder, diagnostics: &mut Diagnostics) {
    let (content, offset) = match content.strip_prefix("\r\n").or_else(|| content.strip_prefix('\n')) {
        Some(rest) => (rest, offset + (content.len() - rest.len()) as u32),
        None => (content, offset),
    };
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut line_start = 0;
    for line in content.split('\n') {
        lines.push((line_start, line));
        line_start += line.len() + 1;
    }
    if lines.len() > 1 && lines.last().is_some_and(|(_, line)| line.trim().is_empty()) {
        lines.pop();
    }
    let indent = lines
        .iter()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(_, line)| line.len() - line.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let n_lines = lines.len();
    for (line_idx, (start, line)) in lines.into_iter().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let skip = indent.min(line.len() - line.trim_start_matches([' ', '\t']).len());
        let body = line.get(skip..).unwrap_or("");
        push_raw(body, offset + (start + skip) as u32, builder, diagnostics);
        if line_idx + 1 < n_lines {
            builder.push_char('\n', offset + (start + line.len()) as u32, 1);
        }
    }
}

/// Raw text with interpolations but no escapes.
fn push_raw(text: &str, offset: u32, builder: &mut PartsBuilder, diagnostics: &mut Diagnostics) {
    let mut idx = 0;
    while let Some(c) = text.get(idx..).and_then(|rest| rest.chars().next()) {
        let at = offset + idx as u32;
        if text.get(idx..).is_some_and(|rest| rest.starts_with("${")) {
            idx += builder.push_interpolation(text.get(idx..).unwrap_or(""), at, diagnostics);
        } else {
            builder.push_char(c, at, c.len_utf8() as u32);
            idx += c.len_utf8();
        }
    }
}

/// Collects text pieces and interpolations.
struct PartsBuilder {
    source: SourceId,
    parts: Vec<StrPart>,
    text: String,
    anchors: Vec<(u32, u32)>,
    next_source: Option<u32>,
}

impl PartsBuilder {
    fn new(source: SourceId) -> PartsBuilder {
        PartsBuilder {
            source,
            parts: Vec::new(),
            text: String::new(),
            anchors: Vec::new(),
            next_source: None,
        }
    }

    /// Appends a decoded character that came from `width` source bytes at `at`.
    fn push_char(&mut self, c: char, at: u32, width: u32) {
        if self.next_source != Some(at) {
            self.anchors.push((self.text.len() as u32, at));
        }
        self.text.push(c);
        self.next_source = Some(at + width);
    }

    fn flush_text(&mut self) {
        if !self.text.is_empty() {
            // The piece lives as long as the tree: it keeps no spare capacity.
            let mut text = std::mem::take(&mut self.text);
            text.shrink_to_fit();
            self.parts.push(StrPart::Text(TextPiece {
                text,
                anchors: std::mem::take(&mut self.anchors).into_boxed_slice(),
                source: self.source,
            }));
        }
        self.next_source = None;
    }

    /// Parses `${...}` at the start of `rest` (which begins at `at`) and returns how many bytes it
    /// used. A malformed interpolation is reported and kept as literal text.
    fn push_interpolation(&mut self, rest: &str, at: u32, diagnostics: &mut Diagnostics) -> usize {
        let Some(close) = rest
            .find('}')
            .filter(|close| !rest.get(..*close).unwrap_or("").contains('\n'))
        else {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0105,
                    Span::new(self.source, at, at + 2),
                    "unclosed interpolation",
                )
                .label("this `${` has no closing `}` on its line")
                .help("write `${name}`, or `\\${` in a \"...\" string for a literal `${`"),
            );
            self.push_char('$', at, 1);
            return 1;
        };
        let inner = rest.get(2..close).unwrap_or("");
        let span = Span::new(self.source, at, at + close as u32 + 1);
        match parse_path(inner, at + 2, self.source) {
            Some(path) => {
                self.flush_text();
                self.parts.push(StrPart::Interpolation(Interpolation { path, span }));
            }
            None => {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0105,
                        span,
                        format!("`${{{inner}}}` is not an interpolation of a name"),
                    )
                    .label("expected a name or a dotted path such as `platform.registry`")
                    .help("write `\\${` in a \"...\" string for a literal `${`"),
                );
                let text = rest.get(..=close).unwrap_or("");
                for (idx, c) in text.char_indices() {
                    self.push_char(c, at + idx as u32, c.len_utf8() as u32);
                }
            }
        }
        close + 1
    }

    fn finish(mut self) -> Box<[StrPart]> {
        self.flush_text();
        self.parts.into_boxed_slice()
    }
}

/// `a.b.c` (surrounding spaces allowed) into identifiers with spans, or `None` if it is not one.
fn parse_path(inner: &str, offset: u32, source: SourceId) -> Option<Box<[Ident]>> {
    let leading = inner.len() - inner.trim_start().len();
    let trimmed = inner.trim();
    let mut path = Vec::with_capacity(trimmed.matches('.').count() + 1);
    let mut start = offset + leading as u32;
    for segment in trimmed.split('.') {
        let mut chars = segment.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return None;
        }
        path.push(Ident {
            name: segment.to_string(),
            span: Span::new(source, start, start + segment.len() as u32),
        });
        start += segment.len() as u32 + 1;
    }
    Some(path.into_boxed_slice())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    fn decode_text(raw: &str) -> (StrLit, Diagnostics, SourceId) {
        let mut map = SourceMap::new();
        let id = map.add("t.ship", raw.to_string());
        let mut diagnostics = Diagnostics::new();
        (decode(raw, 0, id, &mut diagnostics), diagnostics, id)
    }

    fn shape(lit: &StrLit) -> String {
        lit.parts
            .iter()
            .map(|part| match part {
                StrPart::Text(piece) => piece.text.clone(),
                StrPart::Interpolation(i) => format!("<{}>", crate::syntax::ast::join_path(&i.path)),
            })
            .collect()
    }

    #[test]
    fn plain_strings_decode_escapes_and_interpolations() {
        let cases = [
            (r#""a\"b\\c\n""#, "a\"b\\c\n"),
            (r#""${platform.registry}/checkout""#, "<platform.registry>/checkout"),
            (r#""x ${ svc.name } y""#, "x <svc.name> y"),
            (r#""\${literal}""#, "${literal}"),
            (r#""cost: $5""#, "cost: $5"),
        ];
        for (raw, expected) in cases {
            let (lit, diagnostics, _) = decode_text(raw);
            assert!(diagnostics.is_empty(), "{raw}");
            assert_eq!(shape(&lit), expected, "{raw}");
        }
    }

    #[test]
    fn triple_strings_are_dedented() {
        let raw = "\"\"\"\n    sum(x{a=\"${svc.name}\"})\n      / 2\n  \"\"\"";
        let (lit, diagnostics, _) = decode_text(raw);
        assert!(diagnostics.is_empty());
        assert_eq!(shape(&lit), "sum(x{a=\"<svc.name>\"})\n  / 2");
    }

    #[test]
    fn errors_point_at_the_characters() {
        for (raw, code, start, end) in [
            (r#""a\qb""#, Code::E0102, 2, 4),
            (r#""x${oops""#, Code::E0105, 2, 4),
            (r#""${a b}""#, Code::E0105, 1, 7),
        ] {
            let (_, diagnostics, id) = decode_text(raw);
            let sorted = diagnostics.into_sorted(&SourceMap::new());
            assert_eq!(sorted.len(), 1, "{raw}");
            assert_eq!(sorted[0].code, code);
            assert_eq!(sorted[0].primary.span, Span::new(id, start, end), "{raw}");
        }
    }

    #[test]
    fn text_offsets_map_back_to_the_source() {
        let raw = "\"\"\"\n    ab\n    cd\n\"\"\"";
        let (lit, _, _) = decode_text(raw);
        let StrPart::Text(piece) = &lit.parts[0] else {
            panic!("text expected")
        };
        assert_eq!(piece.text, "ab\ncd");
        let c = piece.text.find('c').unwrap();
        let span = piece.span_of(c, c + 1);
        assert_eq!(&raw[span.start as usize..span.end as usize], "c");
    }
}
