//! Human-readable diagnostics, drawn by miette's graphical handler.
//!
//! A [`Diagnostic`] is shown through a borrowed view that implements `miette::Diagnostic`: labels in the
//! primary file are drawn under its source; labels in other files (a first definition in an imported
//! file, say) become nested related reports, and notes are printed last, so nothing is lost.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};

use super::RenderOptions;
use crate::diagnostics::{Diagnostic, Label, Severity};
use crate::source::{SourceFile, SourceMap};

/// How many lines above the primary label a secondary label may be and still share its snippet.
const NEARBY_LINES: u32 = 3;

/// Renders every diagnostic, each followed by a blank line.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap, options: RenderOptions) -> String {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false)
        .with_show_related_as_nested(true)
        .with_wrap_lines(false)
        .without_syntax_highlighting();
    let mut out = String::new();
    for diagnostic in diagnostics {
        let view = View::of(diagnostic, sources);
        // Notes go in the footer, under the help, rather than as reports of their own.
        let notes: Vec<String> = diagnostic.notes.iter().map(|note| format!("note: {note}")).collect();
        let handler = if notes.is_empty() {
            handler.clone()
        } else {
            handler.clone().with_footer(notes.join("\n"))
        };
        if has_wide_label(diagnostic, sources) || handler.render_report(&mut out, &view).is_err() {
            out.push_str(&fallback(diagnostic, sources));
        }
        out.push('\n');
    }
    out
}

/// Labels further right than this many characters are not drawn under their line: miette pads with
/// formatting widths, which Rust limits to 65535, and such a line could not be read on a screen anyway.
const MAX_DRAWN_COLUMN: u32 = 4096;

fn has_wide_label(diagnostic: &Diagnostic, sources: &SourceMap) -> bool {
    std::iter::once(&diagnostic.primary)
        .chain(&diagnostic.secondary)
        .any(|label| {
            let file = sources.file(label.span.source);
            [label.span.start, label.span.end]
                .into_iter()
                .any(|offset| file.line_col(offset).column > MAX_DRAWN_COLUMN)
        })
}

/// The report without source excerpts, for labels miette cannot draw: every location, help and note
/// is still there.
fn fallback(diagnostic: &Diagnostic, sources: &SourceMap) -> String {
    let place = |label: &Label| {
        let (path, at) = sources.locate(label.span);
        format!("{path}:{}:{}", at.line, at.column)
    };
    let mut text = format!(
        "{}[{}]: {}\n  --> {}",
        severity_word(diagnostic.severity()),
        diagnostic.code.as_str(),
        diagnostic.message,
        place(&diagnostic.primary)
    );
    if !diagnostic.primary.message.is_empty() {
        text.push_str(&format!(": {}", diagnostic.primary.message));
    }
    text.push('\n');
    for label in &diagnostic.secondary {
        text.push_str(&format!("  --> {}: {}\n", place(label), label.message));
    }
    if let Some(help) = &diagnostic.help {
        text.push_str(&format!("  help: {help}\n"));
    }
    for note in &diagnostic.notes {
        text.push_str(&format!("  note: {note}\n"));
    }
    text
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A source file as miette reads it, named by its project-relative path.
#[derive(Debug)]
struct FileView<'a> {
    file: &'a SourceFile,
}

impl SourceCode for FileView<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // miette scans a `str` from its start to find lines; reading only the lines the excerpt shows
        // keeps each report independent of the file's size. One spare line each side keeps miette's
        // own context counting unchanged.
        let (begin, first_line, window) = self.file.lines_around(
            span.offset(),
            span.offset() + span.len(),
            context_lines_before + 1,
            context_lines_after + 1,
        );
        let local = SourceSpan::new(span.offset().saturating_sub(begin).into(), span.len());
        let contents = window.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.file.path().to_string(),
            contents.data(),
            SourceSpan::new((contents.span().offset() + begin).into(), contents.span().len()),
            contents.line() + first_line,
            contents.column(),
            contents.line_count(),
        )))
    }
}

/// One report: either a whole diagnostic, or a related piece of one (a label elsewhere, or a note).
struct View<'a> {
    header: Option<String>,
    message: String,
    severity: miette::Severity,
    file: Option<FileView<'a>>,
    labels: Vec<LabeledSpan>,
    help: Option<&'a str>,
    related: Vec<View<'a>>,
}

impl<'a> View<'a> {
    fn of(diagnostic: &'a Diagnostic, sources: &'a SourceMap) -> View<'a> {
        let home = diagnostic.primary.span.source;
        let mut labels = vec![labeled(&diagnostic.primary, true)];
        let mut related = Vec::new();
        let home_file = sources.file(home);
        let primary_line = home_file.line_col(diagnostic.primary.span.start).line;
        for label in &diagnostic.secondary {
            // miette names a report after its first snippet, so a label well above the primary one
            // is shown as a report of its own: the first location printed is always the problem's.
            let far_above = home_file.line_col(label.span.start).line + NEARBY_LINES < primary_line;
            if label.span.source == home && !far_above {
                labels.push(labeled(label, false));
            } else {
                related.push(View {
                    header: None,
                    message: label.message.clone(),
                    severity: miette::Severity::Advice,
                    file: Some(FileView {
                        file: sources.file(label.span.source),
                    }),
                    labels: vec![labeled(
                        &Label {
                            span: label.span,
                            message: String::new(),
                        },
                        true,
                    )],
                    help: None,
                    related: Vec::new(),
                });
            }
        }
        View {
            header: Some(format!(
                "{}[{}]",
                severity_word(diagnostic.severity()),
                diagnostic.code.as_str()
            )),
            message: diagnostic.message.clone(),
            severity: match diagnostic.severity() {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            file: Some(FileView {
                file: sources.file(home),
            }),
            labels,
            help: diagnostic.help.as_deref(),
            related,
        }
    }
}

fn labeled(label: &Label, primary: bool) -> LabeledSpan {
    let text = (!label.message.is_empty()).then(|| label.message.clone());
    let span = SourceSpan::new((label.span.start as usize).into(), label.span.width() as usize);
    if primary {
        LabeledSpan::new_primary_with_span(text, span)
    } else {
        LabeledSpan::new_with_span(text, span)
    }
}

impl fmt::Debug for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for View<'_> {}

impl miette::Diagnostic for View<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.header
            .as_ref()
            .map(|header| Box::new(header) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help.map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.file.as_ref().map(|file| file as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() || self.file.is_none() {
            return None;
        }
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|view| view as &dyn miette::Diagnostic),
        ))
    }
}
