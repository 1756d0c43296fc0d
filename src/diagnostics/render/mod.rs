//! Renderers: the same [`Diagnostic`](super::Diagnostic)s as text for people, one line each for
//! editors, JSON for tools, or SARIF for code scanning.

pub mod human;
pub mod json;
pub mod sarif;
pub mod short;

use serde::Serialize;

use super::Label;
use crate::source::SourceMap;

/// Where a label is, as tools count: lines and columns from 1, columns in characters.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    /// Project-relative path with `/` separators.
    pub file: &'a str,
    /// First line.
    pub line: u32,
    /// First column.
    pub column: u32,
    /// Last line.
    pub end_line: u32,
    /// The column just past the end.
    pub end_column: u32,
}

/// The place of a label.
pub fn place<'a>(label: &Label, sources: &'a SourceMap) -> Place<'a> {
    let file = sources.file(label.span.source);
    let start = file.line_col(label.span.start);
    let end = file.line_col(label.span.end);
    Place {
        file: file.path(),
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

/// How human output is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// ANSI colours; only for a terminal, and never when `NO_COLOR` is set.
    pub color: bool,
    /// Wrap width in columns.
    pub width: usize,
}
