//! The comments, blank lines and column alignment around the lines of code, and the final text.

use std::collections::BTreeMap;

use super::print::{Kind, Line, width};
use super::{Comment, Gap, INDENT};

/// One line of output: code, or a comment on a line of its own.
struct Row<'a> {
    blank_before: bool,
    indent: usize,
    text: &'a str,
    code: bool,
    /// For code: where alignment padding goes (see [`Line::align`]), and how much.
    align: Option<usize>,
    padding: usize,
    /// For code: the comment at its end.
    trailing: Option<&'a str>,
}

impl<'a> Row<'a> {
    fn comment(blank_before: bool, indent: usize, text: &'a str) -> Row<'a> {
        Row {
            blank_before,
            indent,
            text,
            code: false,
            align: None,
            padding: 0,
            trailing: None,
        }
    }

    /// The columns the code takes, padding included.
    fn width(&self) -> usize {
        width(self.indent, self.text) + self.padding
    }
}

/// The text of `lines` with the comments of `gaps`.
///
/// A comment on the same line as the token before it stays at the end of that token's line; a
/// comment on a line of its own goes above the next token's line. A comment between two tokens that
/// end up on one line cannot stay between them, so it goes above that line.
pub(super) fn render(lines: &[Line], gaps: &[Gap<'_>]) -> String {
    let mut rows = Vec::new();
    let mut previous: Option<&Line> = None;
    for line in lines {
        let (first, last) = line.tokens;
        let gap = gaps.get(first);
        let opened = previous.is_some_and(|previous| previous.text.ends_with('{'));
        // A blank line the source had before the first thing of this line (its first comment, or the
        // code): never right after a `{`, always between declarations, but consecutive imports may
        // stay together.
        let first_blank = |source: bool| match line.kind {
            Kind::Declaration { import } => previous
                .is_some_and(|previous| !(import && previous.kind == Kind::Declaration { import: true }) || source),
            Kind::Item | Kind::Close => !opened && source,
            Kind::Continuation => false,
        };
        let comment_indent = match line.kind {
            Kind::Close => line.indent + INDENT,
            _ => line.indent,
        };
        let leading = gap.map_or(&[][..], |gap| own_line_comments(gap, first > 0));
        for (idx, comment) in leading.iter().enumerate() {
            let blank = if idx == 0 {
                first_blank(comment.blank_before)
            } else {
                line.kind != Kind::Continuation && comment.blank_before
            };
            rows.push(Row::comment(blank, comment_indent, comment.text));
        }
        let source_blank = gap.is_some_and(|gap| gap.blank_before_token);
        let mut blank = match line.kind {
            Kind::Close | Kind::Continuation => false,
            _ if leading.is_empty() => first_blank(source_blank),
            _ => source_blank,
        };
        for comment in gaps
            .get(first + 1..=last)
            .unwrap_or_default()
            .iter()
            .flat_map(|gap| &gap.comments)
        {
            rows.push(Row::comment(blank, comment_indent, comment.text));
            blank = false;
        }
        let trailing = gaps
            .get(last + 1)
            .and_then(|gap| gap.comments.first())
            .filter(|comment| !comment.own_line);
        rows.push(Row {
            blank_before: blank,
            indent: line.indent,
            text: &line.text,
            code: true,
            align: line.align,
            padding: 0,
            trailing: trailing.map(|comment| comment.text),
        });
        previous = Some(line);
    }
    if let Some(gap) = gaps.last() {
        for comment in own_line_comments(gap, !lines.is_empty()) {
            let blank = comment.blank_before && !rows.is_empty();
            rows.push(Row::comment(blank, 0, comment.text));
        }
    }
    align_values(&mut rows);
    write(&rows)
}

/// The comments of `gap` that go on lines of their own: all but one at the end of the previous line.
fn own_line_comments<'g, 's>(gap: &'g Gap<'s>, after_token: bool) -> &'g [Comment<'s>] {
    match gap.comments.split_first() {
        Some((first, rest)) if after_token && !first.own_line => rest,
        _ => &gap.comments,
    }
}

/// Pads the `=` of consecutive fields, or the values of consecutive object entries, into one column.
/// A run is broken by a blank line and by any other line of code, but not by comments.
fn align_values(rows: &mut [Row<'_>]) {
    let mut runs = Vec::with_capacity(rows.len());
    let mut run = 0;
    let mut run_indent = None;
    for row in rows.iter() {
        if row.blank_before {
            run_indent = None;
        }
        if !row.code {
            runs.push(None);
            continue;
        }
        if row.align.is_none() || run_indent != Some(row.indent) {
            run += 1;
        }
        run_indent = row.align.map(|_| row.indent);
        runs.push(row.align.map(|_| run));
    }
    let mut widest: BTreeMap<usize, usize> = BTreeMap::new();
    for (row, run) in rows.iter().zip(&runs) {
        if let (Some(run), Some(align)) = (run, row.align) {
            let entry = widest.entry(*run).or_default();
            *entry = (*entry).max(align);
        }
    }
    for (row, run) in rows.iter_mut().zip(&runs) {
        if let (Some(run), Some(align)) = (run, row.align) {
            row.padding = widest.get(run).map_or(0, |widest| widest - align);
        }
    }
}

/// The output text. Trailing comments of consecutive lines of code are aligned one space after the
/// longest of those lines; a blank line, a comment line or a line without a trailing comment ends
/// the run.
fn write(rows: &[Row<'_>]) -> String {
    let mut runs = Vec::with_capacity(rows.len());
    let mut run = 0;
    let mut in_run = false;
    for row in rows {
        let aligned = row.code && row.trailing.is_some() && !row.text.contains('\n');
        if aligned && (!in_run || row.blank_before) {
            run += 1;
        }
        in_run = aligned;
        runs.push(aligned.then_some(run));
    }
    let mut columns: BTreeMap<usize, usize> = BTreeMap::new();
    for (row, run) in rows.iter().zip(&runs) {
        if let Some(run) = run {
            let column = columns.entry(*run).or_default();
            *column = (*column).max(row.width() + 1);
        }
    }

    let mut out = String::new();
    for (row, run) in rows.iter().zip(&runs) {
        if row.blank_before {
            out.push('\n');
        }
        push_spaces(&mut out, row.indent);
        match row
            .align
            .and_then(|align| Some((row.text.get(..align)?, row.text.get(align..)?)))
        {
            Some((before, after)) => {
                out.push_str(before);
                push_spaces(&mut out, row.padding);
                out.push_str(after);
            }
            None => out.push_str(row.text),
        }
        if let Some(comment) = row.trailing {
            let column = run.and_then(|run| columns.get(&run).copied());
            push_spaces(&mut out, column.map_or(1, |column| column - row.width()));
            out.push_str(comment);
        }
        out.push('\n');
    }
    out
}

fn push_spaces(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}
