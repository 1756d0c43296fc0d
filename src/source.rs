//! Source files and the byte spans that point into them.
//!
//! Every AST node and every diagnostic carries a [`Span`]: a `Copy` byte range in one file. Only the
//! diagnostic renderers and `emit` turn a span into a line and column, through [`SourceMap`].

/// Identifies one source file of a compilation; an index into the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId(u32);

/// A byte range `start..end` in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// The file the range belongs to.
    pub source: SourceId,
    /// Offset of the first byte.
    pub start: u32,
    /// Offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end` in `source`.
    pub fn new(source: SourceId, start: u32, end: u32) -> Span {
        Span { source, start, end }
    }

    /// The smallest span that covers both `self` and `other` (which must be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            source: self.source,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Width in bytes.
    pub fn width(self) -> u32 {
        self.end.saturating_sub(self.start)
    }
}

/// A line and column, both counted from 1; the column counts characters, not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    /// Line number, from 1.
    pub line: u32,
    /// Column number in characters, from 1.
    pub column: u32,
}

/// One source file: its project-relative path (with `/` separators), its text and where its lines start.
#[derive(Debug)]
pub struct SourceFile {
    path: String,
    text: String,
    line_starts: Vec<u32>,
}

impl SourceFile {
    /// The project-relative path, as diagnostics and annotations show it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The full text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The 0-based line an offset is on.
    fn line_index(&self, offset: u32) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(idx) => idx,
            Err(idx) => idx.saturating_sub(1),
        }
    }

    /// The lines from `before` lines above `start`'s line to `after` lines below `end`'s line, as the
    /// byte offset where they begin, their 0-based first line and their text.
    pub fn lines_around(&self, start: usize, end: usize, before: usize, after: usize) -> (usize, usize, &str) {
        let line_of = |offset: usize| self.line_index(offset.min(u32::MAX as usize) as u32);
        let first_line = line_of(start).saturating_sub(before);
        let begin = self.line_starts.get(first_line).map_or(0, |&offset| offset as usize);
        let finish = self
            .line_starts
            .get(line_of(end).saturating_add(after).saturating_add(1))
            .map_or(self.text.len(), |&offset| offset as usize);
        (begin, first_line, self.text.get(begin..finish).unwrap_or(""))
    }

    /// Line and column of a byte offset. Offsets past the end map to the end of the file.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let line_idx = self.line_index(offset);
        let line_start = self.line_starts.get(line_idx).copied().unwrap_or(0);
        let end = (offset as usize).min(self.text.len());
        let column = self
            .text
            .get(line_start as usize..end)
            .map_or(0, |prefix| prefix.chars().count());
        LineCol {
            line: line_idx as u32 + 1,
            column: column as u32 + 1,
        }
    }
}

/// Every source file of one compilation, in the order they were loaded.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

/// The largest source file shipc reads. A hand-written `.ship` file is a few kilobytes and a generated
/// one with 20,000 services fits; anything larger is refused with a diagnostic rather than parsed.
pub const MAX_SOURCE_LEN: usize = 16 * 1024 * 1024;

impl SourceMap {
    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file and returns its id. Text longer than [`MAX_SOURCE_LEN`] is truncated there; callers
    /// reject such files before they get here. A UTF-8 byte order mark, which some Windows editors
    /// write, is dropped: it is not part of the program, and columns count from after it.
    pub fn add(&mut self, path: impl Into<String>, mut text: String) -> SourceId {
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        if text.len() > MAX_SOURCE_LEN {
            let mut cut = MAX_SOURCE_LEN;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, byte)| byte == b'\n')
                .map(|(idx, _)| idx as u32 + 1),
        );
        let id = SourceId(self.files.len() as u32);
        self.files.push(SourceFile {
            path: path.into(),
            text,
            line_starts,
        });
        id
    }

    /// The file behind an id. Ids only come from [`SourceMap::add`] on this map.
    pub fn file(&self, id: SourceId) -> &SourceFile {
        match self.files.get(id.0 as usize) {
            Some(file) => file,
            None => &EMPTY_FILE,
        }
    }

    /// Every file, in load order, with its id.
    pub fn files(&self) -> impl Iterator<Item = (SourceId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(idx, file)| (SourceId(idx as u32), file))
    }

    /// Path, line and column of the start of a span.
    pub fn locate(&self, span: Span) -> (&str, LineCol) {
        let file = self.file(span.source);
        (file.path(), file.line_col(span.start))
    }
}

static EMPTY_FILE: SourceFile = SourceFile {
    path: String::new(),
    text: String::new(),
    line_starts: Vec::new(),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let mut map = SourceMap::new();
        let id = map.add("a.ship", "ab\nçd\n\nx".to_string());
        let file = map.file(id);
        let cases = [
            (0, (1, 1)),
            (2, (1, 3)),
            (3, (2, 1)),
            (5, (2, 2)),
            (7, (3, 1)),
            (8, (4, 1)),
            (9, (4, 2)),
            (99, (4, 2)),
        ];
        for (offset, (line, column)) in cases {
            assert_eq!(file.line_col(offset), LineCol { line, column }, "offset {offset}");
        }
    }
}
