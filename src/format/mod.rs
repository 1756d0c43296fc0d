//! The canonical layout of `.ship` files, for `shipc fmt` (the rules are in docs/language.md,
//! "Formatting").
//!
//! The formatter works from pest's tokens, not from the AST: every token is printed with its exact
//! source text, so no value can change on the way (a string's bytes, a number's digits), and the
//! comments, which the grammar skips, are recovered from the gaps between tokens. [`print`] decides
//! which tokens share a line; [`render`] places the comments and blank lines and aligns columns.

mod print;
mod render;
#[cfg(test)]
mod tests;

use pest::Parser;
use pest::iterators::Pair;

use crate::diagnostics::Diagnostics;
use crate::source::{MAX_SOURCE_LEN, SourceMap};
use crate::syntax::grammar::{Rule, ShipParser};

/// Lines are kept within this many columns where the layout allows it.
const MAX_WIDTH: usize = 100;

/// Columns of indentation per block level.
const INDENT: usize = 2;

/// `text` in the canonical layout, or `None` when it has a syntax error (which `shipc check` reports).
///
/// The result compiles to the same manifests as `text`, and formatting it again changes nothing.
pub fn format(text: &str) -> Option<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.len() > MAX_SOURCE_LEN || has_syntax_errors(text) {
        return None;
    }
    let file = ShipParser::parse(Rule::file, text).ok()?.next()?;
    let mut tokens = Vec::new();
    let declarations: Vec<Node> = file
        .into_inner()
        .filter(|pair| pair.as_rule() != Rule::EOI)
        .map(|pair| Node::build(pair, &mut tokens))
        .collect();
    let gaps = gaps(text, &tokens)?;
    let lines = print::lines(text, &gaps, &declarations)?;
    Some(render::render(&lines, &gaps))
}

/// Whether the syntax phase reports an error. The formatter parses the whole file at once, which
/// only matches what the compiler does (declaration by declaration) when every declaration parses,
/// and string escapes and interpolations are only checked by the syntax phase.
fn has_syntax_errors(text: &str) -> bool {
    let mut sources = SourceMap::new();
    let source = sources.add("<fmt>", text.to_string());
    let mut diagnostics = Diagnostics::new();
    crate::syntax::parse(source, sources.file(source).text(), &mut diagnostics);
    diagnostics.has_errors()
}

/// A grammar rule's match. Tokens, the leaves, are numbered in source order.
struct Node {
    rule: Rule,
    start: usize,
    end: usize,
    /// The number of this token, for a leaf.
    token: Option<usize>,
    children: Vec<Node>,
}

impl Node {
    fn build(pair: Pair<'_, Rule>, tokens: &mut Vec<(usize, usize)>) -> Node {
        let rule = pair.as_rule();
        let (start, end) = (pair.as_span().start(), pair.as_span().end());
        // A string is one token: its inner pair only says which kind of quotes it has.
        let children: Vec<Node> = if rule == Rule::string {
            Vec::new()
        } else {
            pair.into_inner().map(|inner| Node::build(inner, tokens)).collect()
        };
        let token = children.is_empty().then(|| {
            tokens.push((start, end));
            tokens.len() - 1
        });
        Node {
            rule,
            start,
            end,
            token,
            children,
        }
    }
}

/// A `//` comment, without the spaces and carriage return at its end.
struct Comment<'s> {
    text: &'s str,
    /// A line break separates it from what precedes it in the file.
    own_line: bool,
    /// A blank line separates it from what precedes it.
    blank_before: bool,
}

/// What lies between two tokens (or before the first, or after the last): comments and line breaks.
struct Gap<'s> {
    comments: Vec<Comment<'s>>,
    /// A blank line separates the last comment (or the previous token) from the next token.
    blank_before_token: bool,
}

/// The gap before each token, then the gap after the last one; `None` if a gap holds anything but
/// whitespace and comments, which would mean that a token was not seen.
fn gaps<'s>(text: &'s str, tokens: &[(usize, usize)]) -> Option<Vec<Gap<'s>>> {
    let mut gaps = Vec::with_capacity(tokens.len() + 1);
    let mut previous_end = 0;
    for &(start, end) in tokens {
        gaps.push(scan_gap(text.get(previous_end..start)?)?);
        previous_end = end;
    }
    gaps.push(scan_gap(text.get(previous_end..)?)?);
    Some(gaps)
}

fn scan_gap(gap: &str) -> Option<Gap<'_>> {
    let mut comments = Vec::new();
    let mut newlines = 0;
    let mut rest = gap;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            comments.push(Comment {
                text: rest.get(..end)?.trim_end(),
                own_line: newlines > 0,
                blank_before: newlines > 1,
            });
            newlines = 0;
            rest = rest.get(end..)?;
            continue;
        }
        match c {
            '\n' => newlines += 1,
            ' ' | '\t' | '\r' => {}
            _ => return None,
        }
        rest = rest.get(1..)?;
    }
    Some(Gap {
        comments,
        blank_before_token: newlines > 1,
    })
}
