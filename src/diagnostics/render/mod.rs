//! Renderers: the same [`Diagnostic`](super::Diagnostic)s as text for people or as JSON for tools.

pub mod human;
pub mod json;

/// How human output is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// ANSI colours; only for a terminal, and never when `NO_COLOR` is set.
    pub color: bool,
    /// Wrap width in columns.
    pub width: usize,
}
