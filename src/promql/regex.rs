//! Checks regular expressions the way Prometheus reads the patterns of `=~` and `!~` matchers: with
//! the syntax of Go's `regexp/syntax` (RE2, Perl flavour), the pattern alone, before Prometheus
//! anchors it as `^(?s:` + pattern + `)$`. Nothing is matched here; the check finds what Go would
//! reject (with the position) and whether the anchored pattern matches the empty string, which
//! decides whether a label matcher selects series that lack the label.
//!
//! Not modelled: Go's limit on the compiled size of huge patterns.

use std::ops::Range;

/// A syntax error in a regular expression, with the byte range in the pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexError {
    /// Where in the pattern.
    pub span: Range<usize>,
    /// What is wrong, in words.
    pub message: String,
    /// How to fix it, when there is a common fix.
    pub help: Option<String>,
}

/// The most groups open at once, as Go's parser allows.
const MAX_NESTING: usize = 1000;
/// The largest repeat count, and the largest product of nested counts.
const MAX_REPEAT: u32 = 1000;

/// What the check knows about a piece of pattern.
#[derive(Clone, Copy)]
struct Item {
    /// It can match the empty string.
    nullable: bool,
    /// The largest product of nested counted repetitions (`{n,m}`) inside it.
    rep: u32,
}

impl Item {
    const CHAR: Item = Item {
        nullable: false,
        rep: 1,
    };
    const EMPTY: Item = Item { nullable: true, rep: 1 };
}

/// A group being parsed (the bottom frame is the whole anchored pattern).
struct Frame {
    /// Where its `(` is in the pattern; `None` for the whole pattern.
    open: Option<usize>,
    any_alternative_nullable: bool,
    concat_nullable: bool,
    last: Option<Item>,
    rep: u32,
}

impl Frame {
    fn new(open: Option<usize>) -> Self {
        Frame {
            open,
            any_alternative_nullable: false,
            concat_nullable: true,
            last: None,
            rep: 1,
        }
    }

    fn fold_last(&mut self) {
        if let Some(item) = self.last.take() {
            self.concat_nullable &= item.nullable;
            self.rep = self.rep.max(item.rep);
        }
    }

    fn push(&mut self, item: Item) {
        self.fold_last();
        self.last = Some(item);
    }

    fn alternate(&mut self) {
        self.fold_last();
        self.any_alternative_nullable |= self.concat_nullable;
        self.concat_nullable = true;
    }

    fn close(mut self) -> Item {
        self.fold_last();
        Item {
            nullable: self.any_alternative_nullable || self.concat_nullable,
            rep: self.rep,
        }
    }
}

/// Checks `pattern`.
pub fn check(pattern: &str) -> Result<(), RegexError> {
    Parser::new(pattern).run().map(|_| ())
}

/// True when the anchored pattern matches the empty string (false when it is invalid).
pub fn matches_empty(pattern: &str) -> bool {
    Parser::new(pattern).run().unwrap_or(false)
}

const NAMED_CLASSES: [&str; 14] = [
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "word",
    "xdigit",
];

/// `Any` and Go's `unicode.Categories`.
const CATEGORIES: [&str; 37] = [
    "Any", "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N", "Nd", "Nl",
    "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs",
];

/// Go's `unicode.Scripts` (Unicode 15, Go 1.21 and later).
const SCRIPTS: [&str; 163] = [
    "Adlam",
    "Ahom",
    "Anatolian_Hieroglyphs",
    "Arabic",
    "Armenian",
    "Avestan",
    "Balinese",
    "Bamum",
    "Bassa_Vah",
    "Batak",
    "Bengali",
    "Bhaiksuki",
    "Bopomofo",
    "Brahmi",
    "Braille",
    "Buginese",
    "Buhid",
    "Canadian_Aboriginal",
    "Carian",
    "Caucasian_Albanian",
    "Chakma",
    "Cham",
    "Cherokee",
    "Chorasmian",
    "Common",
    "Coptic",
    "Cuneiform",
    "Cypriot",
    "Cypro_Minoan",
    "Cyrillic",
    "Deseret",
    "Devanagari",
    "Dives_Akuru",
    "Dogra",
    "Duployan",
    "Egyptian_Hieroglyphs",
    "Elbasan",
    "Elymaic",
    "Ethiopic",
    "Georgian",
    "Glagolitic",
    "Gothic",
    "Grantha",
    "Greek",
    "Gujarati",
    "Gunjala_Gondi",
    "Gurmukhi",
    "Han",
    "Hangul",
    "Hanifi_Rohingya",
    "Hanunoo",
    "Hatran",
    "Hebrew",
    "Hiragana",
    "Imperial_Aramaic",
    "Inherited",
    "Inscriptional_Pahlavi",
    "Inscriptional_Parthian",
    "Javanese",
    "Kaithi",
    "Kannada",
    "Katakana",
    "Kawi",
    "Kayah_Li",
    "Kharoshthi",
    "Khitan_Small_Script",
    "Khmer",
    "Khojki",
    "Khudawadi",
    "Lao",
    "Latin",
    "Lepcha",
    "Limbu",
    "Linear_A",
    "Linear_B",
    "Lisu",
    "Lycian",
    "Lydian",
    "Mahajani",
    "Makasar",
    "Malayalam",
    "Mandaic",
    "Manichaean",
    "Marchen",
    "Masaram_Gondi",
    "Medefaidrin",
    "Meetei_Mayek",
    "Mende_Kikakui",
    "Meroitic_Cursive",
    "Meroitic_Hieroglyphs",
    "Miao",
    "Modi",
    "Mongolian",
    "Mro",
    "Multani",
    "Myanmar",
    "Nabataean",
    "Nag_Mundari",
    "Nandinagari",
    "New_Tai_Lue",
    "Newa",
    "Nko",
    "Nushu",
    "Nyiakeng_Puachue_Hmong",
    "Ogham",
    "Ol_Chiki",
    "Old_Hungarian",
    "Old_Italic",
    "Old_North_Arabian",
    "Old_Permic",
    "Old_Persian",
    "Old_Sogdian",
    "Old_South_Arabian",
    "Old_Turkic",
    "Old_Uyghur",
    "Oriya",
    "Osage",
    "Osmanya",
    "Pahawh_Hmong",
    "Palmyrene",
    "Pau_Cin_Hau",
    "Phags_Pa",
    "Phoenician",
    "Psalter_Pahlavi",
    "Rejang",
    "Runic",
    "Samaritan",
    "Saurashtra",
    "Sharada",
    "Shavian",
    "Siddham",
    "SignWriting",
    "Sinhala",
    "Sogdian",
    "Sora_Sompeng",
    "Soyombo",
    "Sundanese",
    "Syloti_Nagri",
    "Syriac",
    "Tagalog",
    "Tagbanwa",
    "Tai_Le",
    "Tai_Tham",
    "Tai_Viet",
    "Takri",
    "Tamil",
    "Tangsa",
    "Tangut",
    "Telugu",
    "Thaana",
    "Thai",
    "Tibetan",
    "Tifinagh",
    "Tirhuta",
    "Toto",
    "Ugaritic",
    "Vai",
    "Vithkuqi",
    "Wancho",
    "Warang_Citi",
    "Yezidi",
    "Yi",
    "Zanabazar_Square",
];

fn is_known_unicode_class(name: &str) -> bool {
    CATEGORIES.contains(&name) || SCRIPTS.contains(&name)
}

struct Parser {
    chars: Vec<(usize, char)>,
    len: usize,
    i: usize,
    /// For each index, the next index of a `:]` (so that looking for the end of `[:name:]` does not
    /// scan the rest of the pattern again and again).
    next_colon_bracket: Vec<Option<usize>>,
}

impl Parser {
    fn new(pattern: &str) -> Self {
        let chars: Vec<(usize, char)> = pattern.char_indices().collect();
        let mut next_colon_bracket = vec![None; chars.len() + 1];
        for i in (0..chars.len()).rev() {
            let here = chars.get(i).map(|(_, c)| *c) == Some(':') && chars.get(i + 1).map(|(_, c)| *c) == Some(']');
            let next = if here {
                Some(i)
            } else {
                next_colon_bracket.get(i + 1).copied().flatten()
            };
            if let Some(slot) = next_colon_bracket.get_mut(i) {
                *slot = next;
            }
        }
        Parser {
            len: pattern.len(),
            chars,
            i: 0,
            next_colon_bracket,
        }
    }

    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).map(|(_, c)| *c)
    }

    /// Byte offset of char `i` (the end of the pattern past the last one).
    fn pos(&self, i: usize) -> usize {
        self.chars.get(i).map_or(self.len, |(p, _)| *p)
    }

    fn text(&self, from: usize, to: usize) -> String {
        (from..to).filter_map(|i| self.at(i)).collect()
    }

    fn error(&self, from: usize, to: usize, message: String) -> RegexError {
        RegexError {
            span: self.pos(from)..self.pos(to),
            message,
            help: None,
        }
    }

    /// Parses the whole pattern; returns whether it matches the empty string.
    fn run(&mut self) -> Result<bool, RegexError> {
        let mut frames = vec![Frame::new(None)];
        let mut last_repeat: Option<usize> = None;
        while let Some(c) = self.at(self.i) {
            let start = self.i;
            let mut repeat = None;
            match c {
                '(' => {
                    if frames.len() >= MAX_NESTING {
                        return Err(self.error(start, start + 1, "groups are nested too deeply".into()));
                    }
                    if let Some(open) = self.group_open()? {
                        frames.push(Frame::new(Some(open)));
                    }
                }
                ')' => {
                    if frames.len() <= 1 {
                        return Err(self.unmatched_paren(start));
                    }
                    let frame = frames.pop().map(Frame::close).unwrap_or(Item::EMPTY);
                    if let Some(top) = frames.last_mut() {
                        top.push(frame);
                    }
                    self.i += 1;
                }
                '|' => {
                    if let Some(top) = frames.last_mut() {
                        top.alternate();
                    }
                    self.i += 1;
                }
                '^' | '$' => {
                    push(&mut frames, Item::EMPTY);
                    self.i += 1;
                }
                '[' => {
                    self.class()?;
                    push(&mut frames, Item::CHAR);
                }
                '\\' => self.escape_outside_class(&mut frames)?,
                '*' | '+' | '?' | '{' => {
                    let bounds = if c == '{' {
                        match self.counted_repeat()? {
                            Some(bounds) => Some(bounds),
                            None => {
                                // Not a valid repetition: a literal `{`.
                                push(&mut frames, Item::CHAR);
                                self.i += 1;
                                last_repeat = None;
                                continue;
                            }
                        }
                    } else {
                        self.i += 1;
                        None
                    };
                    if self.at(self.i) == Some('?') {
                        self.i += 1;
                    }
                    if let Some(previous) = last_repeat {
                        let ops = self.text(previous, self.i);
                        return Err(RegexError {
                            help: Some("to repeat a repetition, group it first, as in `(a*)*`".into()),
                            ..self.error(previous, self.i, format!("`{ops}` repeats a repetition"))
                        });
                    }
                    let Some(item) = frames.last_mut().and_then(|top| top.last.as_mut()) else {
                        let op = self.text(start, self.i);
                        return Err(RegexError {
                            help: Some("to match the character itself, escape it, as in `\\*`".into()),
                            ..self.error(start, self.i, format!("`{op}` has nothing to repeat"))
                        });
                    };
                    match (c, bounds) {
                        ('*' | '?', _) => item.nullable = true,
                        (_, Some((min, max))) => {
                            if max == 0 {
                                *item = Item::EMPTY;
                            } else {
                                let count = if max < 0 { min } else { max };
                                let factor = u32::try_from(count).unwrap_or(MAX_REPEAT + 1).max(1);
                                let product = factor.saturating_mul(item.rep);
                                if (min >= 2 || max >= 2) && product > MAX_REPEAT {
                                    return Err(self.repeat_size_error(start));
                                }
                                item.rep = product;
                                item.nullable |= min == 0;
                            }
                        }
                        _ => {}
                    }
                    repeat = Some(start);
                }
                _ => {
                    push(&mut frames, Item::CHAR);
                    self.i += 1;
                }
            }
            last_repeat = repeat;
        }
        if let Some(open) = frames.last().and_then(|frame| frame.open) {
            // A group is still open.
            let open_index = self.chars.iter().position(|(p, _)| *p == open).unwrap_or(0);
            return Err(self.error(open_index, open_index + 1, "this `(` is never closed".into()));
        }
        // The anchors `^` and `$` that Prometheus adds match the empty string.
        Ok(frames.pop().is_some_and(|top| top.close().nullable))
    }

    fn unmatched_paren(&self, at: usize) -> RegexError {
        RegexError {
            help: Some("to match the character itself, escape it as `\\)`".into()),
            ..self.error(at, at + 1, "this `)` has no matching `(`".into())
        }
    }

    fn repeat_size_error(&self, start: usize) -> RegexError {
        let text = self.text(start, self.i);
        RegexError {
            help: Some("a count, and the product of nested counts, can be at most 1000".into()),
            ..self.error(start, self.i, format!("invalid repeat count `{text}`"))
        }
    }

    /// At `(`: returns the group's start offset when a group opens, `None` for a flag setting like
    /// `(?i)`.
    fn group_open(&mut self) -> Result<Option<usize>, RegexError> {
        let start = self.i;
        let open = self.pos(start);
        if self.at(start + 1) != Some('?') {
            self.i += 1;
            return Ok(Some(open));
        }
        // Named capture: (?P<name>...) or (?<name>...).
        let name_from = match (self.at(start + 2), self.at(start + 3)) {
            (Some('P'), Some('<')) => Some(start + 4),
            (Some('<'), _) => Some(start + 3),
            _ => None,
        };
        if let Some(from) = name_from {
            let Some(close) = (from..self.chars.len()).find(|&i| self.at(i) == Some('>')) else {
                return Err(self.error(
                    start,
                    self.chars.len(),
                    "this named group is never closed with `>`".into(),
                ));
            };
            let name = self.text(from, close);
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(self.error(start, close + 1, format!("invalid group name `{name}`")));
            }
            self.i = close + 1;
            return Ok(Some(open));
        }
        // Flags: (?flags) or (?flags:...).
        let mut i = start + 2;
        let mut negated = false;
        let mut saw_flag = false;
        loop {
            let c = self.at(i);
            i += 1;
            match c {
                Some('i' | 'm' | 's' | 'U') => saw_flag = true,
                Some('-') if !negated => {
                    negated = true;
                    saw_flag = false;
                }
                Some(end @ (':' | ')')) if !negated || saw_flag => {
                    self.i = i;
                    return Ok((end == ':').then_some(open));
                }
                _ => {
                    let text = self.text(start, i.min(self.chars.len()));
                    return Err(RegexError {
                        help: Some(
                            "Prometheus uses Go's RE2 syntax, which has no lookarounds or backreferences; the flags are `i`, `m`, `s` and `U`"
                                .into(),
                        ),
                        ..self.error(start, i.min(self.chars.len()), format!("unsupported group syntax `{text}`"))
                    });
                }
            }
        }
    }

    /// At `{`: the bounds of a valid counted repetition (max -1 when open-ended), leaving the cursor
    /// after `}`; `None` (cursor unmoved) when the text is not a repetition.
    fn counted_repeat(&mut self) -> Result<Option<(i64, i64)>, RegexError> {
        let start = self.i;
        let mut i = start + 1;
        let Some(min) = self.int(&mut i) else {
            return Ok(None);
        };
        let max = match self.at(i) {
            Some(',') => {
                i += 1;
                if self.at(i) == Some('}') {
                    -1
                } else {
                    match self.int(&mut i) {
                        Some(max) => max,
                        None => return Ok(None),
                    }
                }
            }
            Some(_) => min,
            None => return Ok(None),
        };
        if self.at(i) != Some('}') {
            return Ok(None);
        }
        self.i = i + 1;
        let limit = i64::from(MAX_REPEAT);
        if min > limit || max > limit || (max >= 0 && min > max) {
            return Err(self.repeat_size_error(start));
        }
        Ok(Some((min, max)))
    }

    /// Go's `parseInt` for repeat counts: digits without a leading zero; huge values saturate.
    fn int(&self, i: &mut usize) -> Option<i64> {
        let first = self.at(*i).filter(char::is_ascii_digit)?;
        if first == '0' && self.at(*i + 1).is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut value: i64 = 0;
        while let Some(d) = self.at(*i).and_then(|c| c.to_digit(10)) {
            value = value.saturating_mul(10).saturating_add(i64::from(d)).min(100_000_000);
            *i += 1;
        }
        Some(value)
    }

    /// At `\` outside a class.
    fn escape_outside_class(&mut self, frames: &mut [Frame]) -> Result<(), RegexError> {
        let start = self.i;
        match self.at(start + 1) {
            Some('A' | 'z' | 'B') => {
                push(frames, Item::EMPTY);
                self.i += 2;
            }
            Some('b') => {
                push(frames, Item::CHAR);
                self.i += 2;
            }
            Some('C') => {
                return Err(self.error(start, start + 2, "`\\C` (any byte) is not supported".into()));
            }
            Some('Q') => {
                // Literal text up to `\E` or the end.
                let mut i = start + 2;
                while let Some(c) = self.at(i) {
                    if c == '\\' && self.at(i + 1) == Some('E') {
                        i += 2;
                        break;
                    }
                    push(frames, Item::CHAR);
                    i += 1;
                }
                self.i = i;
            }
            Some('p' | 'P') => {
                self.unicode_class()?;
                push(frames, Item::CHAR);
            }
            Some('d' | 'D' | 's' | 'S' | 'w' | 'W') => {
                push(frames, Item::CHAR);
                self.i += 2;
            }
            _ => {
                self.single_escape()?;
                push(frames, Item::CHAR);
            }
        }
        Ok(())
    }

    /// Go's `parseEscape`: at `\`, one escaped character.
    fn single_escape(&mut self) -> Result<(), RegexError> {
        let start = self.i;
        let Some(c) = self.at(start + 1) else {
            return Err(RegexError {
                help: Some("write `\\\\` to match a backslash".into()),
                ..self.error(start, start + 1, "the pattern ends with a lone backslash".into())
            });
        };
        let mut i = start + 2;
        let invalid = |parser: &Self, end: usize| {
            let text = parser.text(start, end);
            RegexError {
                help: Some("to match the character itself, leave out the backslash".into()),
                ..parser.error(start, end, format!("invalid escape sequence `{text}`"))
            }
        };
        let is_octal = |c: Option<char>| c.is_some_and(|c| ('0'..='7').contains(&c));
        match c {
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => {}
            '1'..='7' if !is_octal(self.at(i)) => return Err(invalid(self, i)),
            '0'..='7' => {
                for _ in 0..2 {
                    if is_octal(self.at(i)) {
                        i += 1;
                    }
                }
            }
            'x' => match self.at(i) {
                Some('{') => {
                    i += 1;
                    let mut value: u32 = 0;
                    let mut digits = 0;
                    loop {
                        match self.at(i) {
                            Some('}') if digits > 0 => {
                                i += 1;
                                break;
                            }
                            Some(d) if d.is_ascii_hexdigit() => {
                                value = value.saturating_mul(16).saturating_add(d.to_digit(16).unwrap_or(0));
                                digits += 1;
                                i += 1;
                                if value > 0x10_FFFF {
                                    return Err(invalid(self, i));
                                }
                            }
                            _ => return Err(invalid(self, (i + 1).min(self.chars.len()))),
                        }
                    }
                }
                _ => {
                    let hex = |c: Option<char>| c.is_some_and(|c| c.is_ascii_hexdigit());
                    if !(hex(self.at(i)) && hex(self.at(i + 1))) {
                        return Err(invalid(self, (i + 2).min(self.chars.len())));
                    }
                    i += 2;
                }
            },
            'a' | 'f' | 'n' | 'r' | 't' | 'v' => {}
            _ => return Err(invalid(self, i)),
        }
        self.i = i;
        Ok(())
    }

    /// At `\p` or `\P`.
    fn unicode_class(&mut self) -> Result<(), RegexError> {
        let start = self.i;
        let (name, end) = match self.at(start + 2) {
            Some('{') => {
                let Some(close) = (start + 3..self.chars.len()).find(|&i| self.at(i) == Some('}')) else {
                    return Err(self.error(start, self.chars.len(), "this `\\p{` is never closed with `}`".into()));
                };
                let name = self.text(start + 3, close);
                (name.strip_prefix('^').map(str::to_string).unwrap_or(name), close + 1)
            }
            Some(c) => (c.to_string(), start + 3),
            None => return Err(self.error(start, start + 2, "`\\p` needs a class name, as in `\\p{Greek}`".into())),
        };
        let valid = if end == start + 3 {
            ["C", "L", "M", "N", "P", "S", "Z"].contains(&name.as_str())
        } else {
            is_known_unicode_class(&name)
        };
        if !valid {
            let text = self.text(start, end);
            return Err(self.error(start, end, format!("unknown Unicode class `{text}`")));
        }
        self.i = end;
        Ok(())
    }

    /// At `[`: a character class.
    fn class(&mut self) -> Result<(), RegexError> {
        let open = self.i;
        let mut i = open + 1;
        if self.at(i) == Some('^') {
            i += 1;
        }
        let missing = |parser: &Self| RegexError {
            help: Some("to match the character itself, escape it as `\\[`".into()),
            ..parser.error(open, open + 1, "this `[` is never closed with `]`".into())
        };
        let mut first = true;
        loop {
            let Some(c) = self.at(i) else {
                return Err(missing(self));
            };
            if c == ']' && !first {
                self.i = i + 1;
                return Ok(());
            }
            first = false;
            if c == '['
                && self.at(i + 1) == Some(':')
                && let Some(close) = self.next_colon_bracket.get(i + 2).copied().flatten()
            {
                let name = self.text(i + 2, close);
                let bare = name.strip_prefix('^').unwrap_or(&name);
                if !NAMED_CLASSES.contains(&bare) {
                    return Err(self.error(i, close + 2, format!("unknown character class `[:{name}:]`")));
                }
                i = close + 2;
                continue;
            }
            if c == '\\' {
                match self.at(i + 1) {
                    Some('p' | 'P') => {
                        self.i = i;
                        self.unicode_class()?;
                        i = self.i;
                        continue;
                    }
                    Some('d' | 'D' | 's' | 'S' | 'w' | 'W') => {
                        i += 2;
                        continue;
                    }
                    _ => {}
                }
            }
            let lo_start = i;
            let (lo, next) = self.class_char(i).ok_or_else(|| missing(self))??;
            i = next;
            if self.at(i) == Some('-') && self.at(i + 1).is_some_and(|c| c != ']') {
                let (hi, next) = self.class_char(i + 1).ok_or_else(|| missing(self))??;
                i = next;
                if hi < lo {
                    let text = self.text(lo_start, i);
                    return Err(self.error(lo_start, i, format!("invalid character range `{text}`")));
                }
            }
        }
    }

    /// One character of a class at `i` (possibly escaped): its value and the index after it.
    #[allow(clippy::type_complexity, reason = "a local helper: missing, invalid or a character")]
    fn class_char(&mut self, i: usize) -> Option<Result<(u32, usize), RegexError>> {
        let c = self.at(i)?;
        if c != '\\' {
            return Some(Ok((u32::from(c), i + 1)));
        }
        self.i = i;
        if let Err(error) = self.single_escape() {
            return Some(Err(error));
        }
        let value = self.escaped_value(i);
        Some(Ok((value, self.i)))
    }

    /// The character an escape (checked by [`Self::single_escape`], ending at `self.i`) stands for.
    fn escaped_value(&self, start: usize) -> u32 {
        let body = self.text(start + 1, self.i);
        let mut chars = body.chars();
        match chars.next() {
            Some('0'..='7') => u32::from_str_radix(&body, 8).unwrap_or(0),
            Some('x') => u32::from_str_radix(body.trim_start_matches('x').trim_matches(['{', '}']), 16).unwrap_or(0),
            Some('a') => 7,
            Some('f') => 12,
            Some('n') => 10,
            Some('r') => 13,
            Some('t') => 9,
            Some('v') => 11,
            Some(c) => u32::from(c),
            None => 0,
        }
    }
}

fn push(frames: &mut [Frame], item: Item) {
    if let Some(top) = frames.last_mut() {
        top.push(item);
    }
}
