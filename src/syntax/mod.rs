//! Phase 1, syntax: text to [`ast::File`].
//!
//! Parsing never fails: it returns the declarations that parsed plus diagnostics for those that did
//! not. The file is first split into top-level declarations ([`chunks`]), each parsed by the pest
//! grammar in `grammar/ship.pest`, so every broken declaration gets its own precise error and the rest
//! of the file is still checked.

pub mod ast;
mod build_ast;
pub mod chunks;
mod errors;
pub(crate) mod grammar;
mod strings;

use pest::Parser;

use crate::diagnostics::Diagnostics;
use crate::source::{SourceId, Span};
use grammar::{Rule, ShipParser};

/// At most this many syntax errors are reported per file; the rest are summarised in one line.
pub const MAX_SYNTAX_ERRORS_PER_FILE: usize = 20;

/// Parses one file. Declarations with syntax errors are reported and left out of the result.
pub fn parse(source: SourceId, text: &str, diagnostics: &mut Diagnostics) -> ast::File {
    let chunks = chunks::split(text, source, diagnostics);
    parse_chunks(source, text, chunks, diagnostics)
}

/// As [`parse`], but only the declarations whose names `mentioned` accepts, and the declarations that
/// those name in turn; the others are left out, unparsed. Imports, platforms and anything else without
/// a name are always parsed.
///
/// For the standard library: a small project uses a few of a module's declarations, and parsing and
/// checking all of them was most of the time a one-service `shipc check` spent.
pub fn parse_mentioned(
    source: SourceId,
    text: &str,
    mentioned: impl Fn(&str) -> bool,
    diagnostics: &mut Diagnostics,
) -> ast::File {
    let chunks = chunks::split(text, source, diagnostics);
    let chunk_text = |chunk: &chunks::Chunk| text.get(chunk.start..chunk.end).unwrap_or_default();
    let names: Vec<Option<&str>> = chunks.iter().map(|chunk| declared_name(chunk_text(chunk))).collect();
    let mut by_name: Vec<(&str, usize)> = names
        .iter()
        .enumerate()
        .filter_map(|(idx, name)| name.map(|name| (name, idx)))
        .collect();
    by_name.sort_unstable();
    let mut keep: Vec<bool> = names.iter().map(|name| name.is_none_or(&mentioned)).collect();
    let mut to_scan: Vec<usize> = (0..chunks.len()).filter(|&idx| keep.get(idx) == Some(&true)).collect();
    while let Some(idx) = to_scan.pop() {
        let Some(chunk) = chunks.get(idx) else { continue };
        for word in chunks::words(chunk_text(chunk)) {
            let first = by_name.partition_point(|(name, _)| *name < word);
            let named = by_name.get(first..).unwrap_or_default();
            for &(_, other) in named.iter().take_while(|(name, _)| *name == word) {
                if let Some(kept @ false) = keep.get_mut(other) {
                    *kept = true;
                    to_scan.push(other);
                }
            }
        }
    }
    let kept = chunks
        .into_iter()
        .zip(keep)
        .filter_map(|(chunk, keep)| keep.then_some(chunk))
        .collect();
    parse_chunks(source, text, kept, diagnostics)
}

fn parse_chunks(source: SourceId, text: &str, chunks: Vec<chunks::Chunk>, diagnostics: &mut Diagnostics) -> ast::File {
    let n_chunks = chunks.len();
    let mut items = Vec::new();
    let mut unparsed = Vec::new();
    let mut n_syntax_errors = 0;
    for (chunk_idx, chunk) in chunks.into_iter().enumerate() {
        let Some(chunk_text) = text.get(chunk.start..chunk.end) else {
            continue;
        };
        if chunk.blocked {
            unparsed.extend(unparsed_head(source, chunk.start, chunk_text));
            continue;
        }
        match ShipParser::parse(Rule::file, chunk_text) {
            Ok(mut pairs) => {
                let Some(file_pair) = pairs.next() else {
                    continue;
                };
                let mut builder = build_ast::Builder::new(source, chunk.start, diagnostics);
                match builder.file(file_pair) {
                    Ok(built) => items.extend(built),
                    Err(malformed) => {
                        diagnostics.push(malformed.into_diagnostic());
                        unparsed.extend(unparsed_head(source, chunk.start, chunk_text));
                    }
                }
            }
            Err(error) => {
                unparsed.extend(unparsed_head(source, chunk.start, chunk_text));
                n_syntax_errors += 1;
                if n_syntax_errors <= MAX_SYNTAX_ERRORS_PER_FILE {
                    let is_last = chunk_idx + 1 == n_chunks;
                    diagnostics.push(errors::syntax_error(&error, chunk_text, chunk.start, source, is_last));
                }
            }
        }
    }
    if n_syntax_errors > MAX_SYNTAX_ERRORS_PER_FILE {
        errors::report_more(source, text, n_syntax_errors - MAX_SYNTAX_ERRORS_PER_FILE, diagnostics);
    }
    items.shrink_to_fit();
    ast::File {
        source,
        items,
        unparsed,
    }
}

/// The keyword and name at the start of a declaration that did not parse (after comments), if they
/// can be read: `service cart {` is enough to know that `cart` exists.
fn unparsed_head(source: SourceId, offset: usize, chunk: &str) -> Option<ast::Unparsed> {
    let (keyword, after_keyword) = head(chunk);
    if keyword == "platform" {
        return Some(ast::Unparsed::Platform);
    }
    let (name, _) = split_word(after_keyword);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let start = offset + (chunk.len() - after_keyword.len());
    let ident = ast::Ident {
        name: name.to_string(),
        span: Span::new(source, start as u32, (start + name.len()) as u32),
    };
    match keyword {
        "service" => Some(ast::Unparsed::Service(ident)),
        "metric" => Some(ast::Unparsed::Metric(ident)),
        "step" => Some(ast::Unparsed::Step(ident)),
        "environment" => Some(ast::Unparsed::Environment(ident)),
        "check" => Some(ast::Unparsed::Check(ident)),
        _ => None,
    }
}

/// The name a declaration declares, read from its first words: `metric latency(...)` declares
/// `latency`. `None` for imports, platforms and text that declares nothing.
fn declared_name(chunk: &str) -> Option<&str> {
    let (keyword, after_keyword) = head(chunk);
    let (name, _) = split_word(after_keyword);
    let declares = matches!(keyword, "service" | "metric" | "step" | "environment" | "check");
    (declares && !name.is_empty()).then_some(name)
}

/// The keyword a declaration starts with (after comments and `private`) and the text after it, from
/// its next word on.
fn head(chunk: &str) -> (&str, &str) {
    let mut rest = chunk.trim_start();
    while let Some(comment) = rest.strip_prefix("//") {
        rest = comment.split_once('\n').map_or("", |(_, after)| after).trim_start();
    }
    let (mut keyword, mut after_keyword) = split_word(rest);
    if keyword == "private" {
        (keyword, after_keyword) = split_word(after_keyword.trim_start());
    }
    (keyword, after_keyword.trim_start())
}

/// The leading identifier of `text` and what follows it.
fn split_word(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(text.len());
    text.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    fn messages(text: &str) -> Vec<String> {
        let mut sources = SourceMap::new();
        let source = sources.add("a.ship", text.to_string());
        let mut diagnostics = Diagnostics::new();
        parse(source, sources.file(source).text(), &mut diagnostics);
        diagnostics
            .into_sorted(&sources)
            .into_iter()
            .map(|diagnostic| diagnostic.message)
            .collect()
    }

    #[test]
    fn a_stray_word_at_the_start_names_the_declarations() {
        assert_eq!(
            messages("hello\nplatform { namespace = \"shop\" }\n"),
            [
                "expected a declaration (`import`, `platform`, `service`, `metric`, `step`, `environment` or `check`), found `hello`"
            ]
        );
    }

    #[test]
    fn only_mentioned_declarations_and_what_they_mention_are_parsed() {
        let text = "import \"./x\"\n\
            check a() = http_get(\"/a\")\n\
            check b() = c()\n\
            // mentions d, but a comment names nothing\n\
            private check c() = http_get(\"/${e}\")\n\
            check d() = http_get(\"/d\")\n\
            check e() = http_get(\"/e\")\n";
        let mut sources = SourceMap::new();
        let source = sources.add("lib.ship", text.to_string());
        let mut diagnostics = Diagnostics::new();
        let file = parse_mentioned(source, text, |name| name == "b", &mut diagnostics);
        assert!(diagnostics.is_empty());
        let kept: Vec<&str> = file
            .items
            .iter()
            .map(|item| match item {
                ast::Item::Import(_) => "import",
                ast::Item::Check(check) => check.name.name.as_str(),
                _ => "other",
            })
            .collect();
        assert_eq!(kept, ["import", "b", "c", "e"]);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_program() {
        assert!(messages("\u{feff}platform { namespace = \"shop\" }\n").is_empty());
    }
}
