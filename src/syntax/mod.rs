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
mod grammar;
mod strings;

use pest::Parser;

use crate::diagnostics::Diagnostics;
use crate::source::SourceId;
use grammar::{Rule, ShipParser};

/// At most this many syntax errors are reported per file; the rest are summarised in one line.
pub const MAX_SYNTAX_ERRORS_PER_FILE: usize = 20;

/// Parses one file. Declarations with syntax errors are reported and left out of the result.
pub fn parse(source: SourceId, text: &str, diagnostics: &mut Diagnostics) -> ast::File {
    let chunks = chunks::split(text, source, diagnostics);
    let n_chunks = chunks.len();
    let mut items = Vec::new();
    let mut n_syntax_errors = 0;
    for (chunk_idx, chunk) in chunks.into_iter().enumerate() {
        let Some(chunk_text) = text.get(chunk.start..chunk.end) else {
            continue;
        };
        if chunk.blocked {
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
                    Err(malformed) => diagnostics.push(malformed.into_diagnostic()),
                }
            }
            Err(error) => {
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
    ast::File { source, items }
}
