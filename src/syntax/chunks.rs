//! The lexical pre-scan: splits a file into top-level declarations before pest sees it.
//!
//! A declaration starts on a line that begins, in column 1, with `import`, `platform`, `service`,
//! `metric`, `step`, `environment`, `check` or `private` (outside any string or comment). Each chunk is parsed on its own, so a syntax error in one
//! declaration is reported precisely and the declarations after it are still parsed and checked.
//!
//! The scan also finds what pest would report badly or not survive: strings left open (pest would only
//! say "expected a value" at the opening quote) and brackets nested deeper than [`MAX_DEPTH`] (which
//! would make the recursive-descent parser recurse without bound). A chunk with such a problem is
//! reported here and not parsed.

use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::source::{SourceId, Span};

/// The deepest nesting of `(`, `[` and `{` accepted. Real files stay far below it.
pub const MAX_DEPTH: usize = 64;

const TOP_LEVEL_KEYWORDS: [&str; 8] = [
    "import",
    "platform",
    "service",
    "metric",
    "step",
    "environment",
    "check",
    "private",
];

/// A byte range of the file holding one top-level declaration (or the text before the first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// A lexical error was reported inside: do not parse it.
    pub blocked: bool,
}

#[derive(Clone, Copy)]
enum State {
    Code,
    Comment,
    Plain { open: usize },
    Triple { open: usize },
}

/// Splits `text` into chunks, reporting unterminated strings and excessive nesting.
pub fn split(text: &str, source: SourceId, diagnostics: &mut Diagnostics) -> Vec<Chunk> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut current = Chunk {
        start: 0,
        end: text.len(),
        blocked: false,
    };
    let mut depth = 0usize;
    let mut state = State::Code;
    let mut idx = 0;
    while let Some(&byte) = bytes.get(idx) {
        match state {
            State::Code => {
                match byte {
                    b'\n' if starts_declaration(bytes, idx + 1) => {
                        current.end = idx + 1;
                        chunks.push(current);
                        current = Chunk {
                            start: idx + 1,
                            end: text.len(),
                            blocked: false,
                        };
                        depth = 0;
                    }
                    b'/' if bytes.get(idx + 1) == Some(&b'/') => state = State::Comment,
                    b'"' if bytes.get(idx..idx + 3) == Some(b"\"\"\"") => {
                        state = State::Triple { open: idx };
                        idx += 2;
                    }
                    b'"' => state = State::Plain { open: idx },
                    b'(' | b'[' | b'{' => {
                        depth += 1;
                        if depth == MAX_DEPTH + 1 && !current.blocked {
                            current.blocked = true;
                            diagnostics.push(too_deep(source, idx));
                        }
                    }
                    b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                    _ => {
                        // Most code is words and spaces: skip to the next byte that matters.
                        idx += bytes.get(idx + 1..).map_or(0, |rest| {
                            rest.iter()
                                .position(|next| {
                                    matches!(next, b'\n' | b'/' | b'"' | b'(' | b'[' | b'{' | b')' | b']' | b'}')
                                })
                                .unwrap_or(rest.len())
                        });
                    }
                }
            }
            State::Comment => {
                idx = line_end(text, idx);
                state = State::Code;
                continue;
            }
            State::Plain { open } => match byte {
                b'\\' if bytes.get(idx + 1) != Some(&b'\n') => idx += 1,
                b'"' => state = State::Code,
                b'\n' => {
                    report_unterminated(source, open, idx, "\"", &mut current, diagnostics);
                    state = State::Code;
                    continue;
                }
                _ => {}
            },
            State::Triple { .. } => {
                idx = triple_quote(text, idx);
                if idx < text.len() {
                    state = State::Code;
                    idx += 3;
                }
                continue;
            }
        }
        idx += 1;
    }
    match state {
        State::Plain { open } => report_unterminated(source, open, text.len(), "\"", &mut current, diagnostics),
        State::Triple { open } => report_unterminated(source, open, open + 3, "\"\"\"", &mut current, diagnostics),
        State::Code | State::Comment => {}
    }
    chunks.push(current);
    chunks
}

/// The identifiers of `text` outside comments, in order, with repeats: every name the text could refer
/// to, and more. Words inside strings count, since an interpolation (`"${build.digest}"`) names things
/// too; a comment names nothing, though a declaration's comment often mentions the declarations
/// around it.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut idx = 0;
    let mut state = State::Code;
    std::iter::from_fn(move || {
        while let Some(&byte) = bytes.get(idx) {
            if byte.is_ascii_alphabetic() || byte == b'_' {
                let start = idx;
                idx += bytes
                    .get(idx..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|next| next.is_ascii_alphanumeric() || **next == b'_' || **next == b'-')
                    .count();
                return text.get(start..idx);
            }
            match state {
                State::Code => match byte {
                    b'/' if bytes.get(idx + 1) == Some(&b'/') => state = State::Comment,
                    b'"' if bytes.get(idx..idx + 3) == Some(b"\"\"\"") => {
                        state = State::Triple { open: idx };
                        idx += 2;
                    }
                    b'"' => state = State::Plain { open: idx },
                    // A number's digits and unit (`1h30m`) are not a word.
                    b'0'..=b'9' => {
                        while bytes.get(idx + 1).is_some_and(u8::is_ascii_alphanumeric) {
                            idx += 1;
                        }
                    }
                    _ => {}
                },
                State::Comment => {
                    idx = line_end(text, idx);
                    state = State::Code;
                    continue;
                }
                State::Plain { .. } => match byte {
                    b'\\' if bytes.get(idx + 1) != Some(&b'\n') => idx += 1,
                    b'"' | b'\n' => state = State::Code,
                    _ => {}
                },
                State::Triple { .. } => {
                    if bytes.get(idx..idx + 3) == Some(b"\"\"\"") {
                        state = State::Code;
                        idx += 2;
                    }
                }
            }
            idx += 1;
        }
        None
    })
}

/// Where the line that holds `idx` ends: a vectorised search, for comments.
fn line_end(text: &str, idx: usize) -> usize {
    text.get(idx..)
        .and_then(|rest| rest.find('\n'))
        .map_or(text.len(), |offset| idx + offset)
}

/// Where the next `"""` from `idx` on starts, or the end of the text.
fn triple_quote(text: &str, idx: usize) -> usize {
    text.get(idx..)
        .and_then(|rest| rest.find("\"\"\""))
        .map_or(text.len(), |offset| idx + offset)
}

fn starts_declaration(bytes: &[u8], idx: usize) -> bool {
    TOP_LEVEL_KEYWORDS.iter().any(|keyword| {
        let end = idx + keyword.len();
        bytes.get(idx..end) == Some(keyword.as_bytes())
            && !bytes
                .get(end)
                .is_some_and(|next| next.is_ascii_alphanumeric() || *next == b'_' || *next == b'-')
    })
}

fn too_deep(source: SourceId, at: usize) -> Diagnostic {
    let at = at as u32;
    Diagnostic::new(
        Code::E0104,
        Span::new(source, at, at + 1),
        format!("brackets are nested more than {MAX_DEPTH} deep"),
    )
    .label("this bracket is too deep")
    .help("split the expression; no declaration needs this much nesting")
}

fn report_unterminated(
    source: SourceId,
    open: usize,
    end: usize,
    quotes: &str,
    chunk: &mut Chunk,
    diagnostics: &mut Diagnostics,
) {
    chunk.blocked = true;
    let what = if quotes.len() == 3 {
        "this `\"\"\"` string is never closed"
    } else {
        "this string is not closed on its line"
    };
    diagnostics.push(
        Diagnostic::new(
            Code::E0103,
            Span::new(source, open as u32, end as u32),
            "unterminated string",
        )
        .label(what)
        .help(if quotes.len() == 3 {
            "close it with `\"\"\"`"
        } else {
            "close it with `\"`; a string over several lines is written between `\"\"\"` quotes"
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    fn chunks_of(text: &str) -> (Vec<Chunk>, usize) {
        let mut map = SourceMap::new();
        let id = map.add("t.ship", text.to_string());
        let mut diagnostics = Diagnostics::new();
        let chunks = split(text, id, &mut diagnostics);
        (chunks, diagnostics.error_count())
    }

    #[test]
    fn declarations_start_chunks_only_in_column_one_outside_strings() {
        let text = "import \"a\"\nservice x {\n  metric = 1\n}\nmetric m() : count = prometheus \"\"\"\nservice\n\"\"\"\nservices = 2\n";
        let (chunks, errors) = chunks_of(text);
        assert_eq!(errors, 0);
        let starts: Vec<_> = chunks.iter().map(|c| &text[c.start..c.end]).collect();
        assert_eq!(starts.len(), 3, "{starts:?}");
        assert!(starts[1].starts_with("service x"));
        assert!(starts[2].starts_with("metric m"));
    }

    #[test]
    fn words_are_the_identifiers_outside_comments() {
        let text = "step a-b = x.y(\"http://h/${c.d}\", 1h30m, \"\"\"\n// e\n\"\"\") // f g\nh_1 = 2\n";
        let words: Vec<&str> = words(text).collect();
        assert_eq!(words, ["step", "a-b", "x", "y", "http", "h", "c", "d", "e", "h_1"]);
    }

    #[test]
    fn lexical_errors_block_only_their_chunk() {
        let text = "service a {\n  image = \"oops\n}\nservice b {}\n";
        let (chunks, errors) = chunks_of(text);
        assert_eq!(errors, 1);
        assert_eq!(chunks.iter().map(|c| c.blocked).collect::<Vec<_>>(), [true, false]);

        let deep = format!("service a {{ x = {}1{} }}\n", "(".repeat(100), ")".repeat(100));
        let (chunks, errors) = chunks_of(&deep);
        assert_eq!((chunks.len(), errors), (1, 1));

        let (_, errors) = chunks_of("metric m() : count = prometheus \"\"\"\nsum(x)\n");
        assert_eq!(errors, 1);
    }
}
