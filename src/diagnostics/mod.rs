//! Diagnostics: what every phase reports, collected in one place and rendered separately.
//!
//! A check builds its [`Diagnostic`] right where it finds the problem and pushes it into the
//! [`Diagnostics`] collector that is passed through the pipeline, so one run reports every independent
//! problem. Rendering (human through miette, or JSON) lives in [`render`] and never changes the content.

pub mod codes;
pub mod explain;
pub mod render;
pub mod suggest;

pub use codes::Code;

use crate::source::{SourceMap, Span};

/// How serious a diagnostic is. Errors stop `build` from writing anything; warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Output is not written.
    Error,
    /// Reported, but output is still written.
    Warning,
}

/// A span with the words shown under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What is wrong, or relevant, at that spot.
    pub message: String,
}

/// One problem found in the sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Which problem; also decides the severity.
    pub code: Code,
    /// One lowercase sentence without a final full stop, user text in backticks.
    pub message: String,
    /// The place of the problem; its message may be empty.
    pub primary: Label,
    /// Related places, such as the first definition of a duplicate.
    pub secondary: Vec<Label>,
    /// What to write instead, when that is known.
    pub help: Option<String>,
    /// Background that explains why.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with `code` at `span`; add a label, help and notes with the builder methods.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// The words under the primary span.
    pub fn label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = message.into();
        self
    }

    /// Another labelled span.
    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// What to write instead.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Sets the help only when there is one (a "did you mean" that found nothing adds nothing).
    pub fn maybe_help(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Background that explains the rule.
    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Error or warning, from the code.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
}

/// The collector every phase writes into.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    /// Kept as items arrive: checks ask for it after every declaration.
    errors: usize,
}

impl Diagnostics {
    /// An empty collector.
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    /// Records a diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        if diagnostic.severity() == Severity::Error {
            self.errors += 1;
        }
        self.items.push(diagnostic);
    }

    /// Records every diagnostic `other` collected, in its order: how work done apart (a file parsed on
    /// another thread) reports.
    pub fn append(&mut self, other: Diagnostics) {
        self.errors += other.errors;
        self.items.extend(other.items);
    }

    /// True once any error (not warning) was recorded.
    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }

    /// How many errors were recorded.
    pub fn error_count(&self) -> usize {
        self.errors
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many diagnostics were recorded: a mark for [`Diagnostics::since_mut`].
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The diagnostics recorded after `mark`, for a caller that knows more about where they arose
    /// than the check that reported them.
    pub fn since_mut(&mut self, mark: usize) -> &mut [Diagnostic] {
        self.items.get_mut(mark..).unwrap_or_default()
    }

    /// The diagnostics in reporting order: by file path, then offset, then code; exact duplicates
    /// (the same problem reached twice, e.g. through two imports) are dropped.
    pub fn into_sorted(self, sources: &SourceMap) -> Vec<Diagnostic> {
        let mut items = self.items;
        items.sort_by(|a, b| {
            let key = |d: &Diagnostic| {
                (
                    sources.file(d.primary.span.source).path().to_string(),
                    d.primary.span.start,
                    d.primary.span.end,
                    d.code,
                )
            };
            key(a).cmp(&key(b)).then_with(|| a.message.cmp(&b.message))
        });
        items.dedup();
        items
    }
}
