//! YAML text from typed structs, safe for Kubernetes' YAML 1.1 reader.
//!
//! Objects are serialized with serde straight into text by the [`Serializer`] here, with no tree in
//! between. serde_yaml's own printer follows YAML 1.2 and leaves `yes`, `no`, `on`, `off`, `y`, `1_000`
//! or `1:20` unquoted, which Kubernetes (go-yaml v2, YAML 1.1) reads as booleans and numbers. This one
//! writes a string as a plain scalar only when it cannot be read as anything else, double-quotes
//! everything else, and uses `|` blocks for multi-line text such as queries. Block style throughout:
//! a mapping in a sequence starts on the `- ` line, a sequence under a key is not indented further,
//! and an empty mapping or sequence is written `{}` or `[]`.

use std::fmt::Write as _;

use serde::Serialize;
use serde::ser::{self, Impossible};

/// Serializes `object` as one YAML document (without the `---` separator).
pub fn to_yaml<T: Serialize>(object: &T) -> Result<String, String> {
    let mut out = String::with_capacity(1024);
    object
        .serialize(Serializer {
            out: &mut out,
            slot: Slot::Document,
        })
        .map_err(|error| error.0)?;
    Ok(out)
}

/// Joins documents into one multi-document stream.
pub fn stream(documents: &[String]) -> String {
    documents.join("---\n")
}

/// Where a value goes, which decides how it starts and how a mapping or sequence in it is laid out.
#[derive(Clone, Copy)]
enum Slot {
    /// A whole document.
    Document,
    /// After `key:`, the key at this indentation.
    Value(usize),
    /// After `-`, the dash at this indentation.
    Item(usize),
}

/// A serialization error: a value YAML output cannot hold (a map key that is not a string, bytes, an
/// enum variant with data).
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(message: T) -> Error {
        Error(message.to_string())
    }
}

fn unsupported(what: &str) -> Error {
    Error(format!("{what} cannot be emitted as YAML"))
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Writes one value into `out`.
pub struct Serializer<'a> {
    out: &'a mut String,
    slot: Slot,
}

impl<'a> Serializer<'a> {
    /// Writes a scalar that is already text, with what its slot puts before and after it.
    fn scalar(self, write: impl FnOnce(&mut String)) -> Result<(), Error> {
        if !matches!(self.slot, Slot::Document) {
            self.out.push(' ');
        }
        write(self.out);
        self.out.push('\n');
        Ok(())
    }

    fn display(self, value: impl std::fmt::Display) -> Result<(), Error> {
        self.scalar(|out| {
            let _ = write!(out, "{value}");
        })
    }

    fn text(self, text: &str) -> Result<(), Error> {
        match self.slot {
            Slot::Value(indent) | Slot::Item(indent) if literal_block_allowed(text) => {
                write_literal_block(self.out, text, indent + 2);
                Ok(())
            }
            _ => self.scalar(|out| push_string_scalar(out, text)),
        }
    }

    fn mapping(self) -> Compound<'a> {
        Compound {
            out: self.out,
            slot: self.slot,
            started: false,
            sequence: false,
        }
    }

    fn sequence(self) -> Compound<'a> {
        Compound {
            out: self.out,
            slot: self.slot,
            started: false,
            sequence: true,
        }
    }
}

impl<'a> ser::Serializer for Serializer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_bool(self, value: bool) -> Result<(), Error> {
        self.display(value)
    }
    fn serialize_i8(self, value: i8) -> Result<(), Error> {
        self.display(value)
    }
    fn serialize_i16(self, value: i16) -> Result<(), Error> {
        self.display(value)
    }
    fn serialize_i32(self, value: i32) -> Result<(), Error> {
        self.display(value)
    }
    fn serialize_i64(self, value: i64) -> Result<(), Error> {
        self.display(value)
    }
    fn serialize_u8(self, value: u8) -> Result<(), Error> {
        self.display(value)
    }
    fn serialize_u16(self, value: u16) -> Result<(), Error> {
        self.display(value)
    }
    fn serialize_u32(self, value: u32) -> Result<(), Error> {
        self.display(value)
    }
    fn serialize_u64(self, value: u64) -> Result<(), Error> {
        self.display(value)
    }
    fn serialize_f32(self, value: f32) -> Result<(), Error> {
        self.serialize_f64(f64::from(value))
    }
    fn serialize_f64(self, value: f64) -> Result<(), Error> {
        // serde_yaml's spelling of floats (`.inf`, `.nan`, always a `.` or an exponent).
        self.display(serde_yaml::Number::from(value))
    }
    fn serialize_char(self, value: char) -> Result<(), Error> {
        self.text(value.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, value: &str) -> Result<(), Error> {
        self.text(value)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(unsupported("a byte string"))
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.display("null")
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.display("null")
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.display("null")
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Error> {
        self.text(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        // serde_yaml would write a YAML tag (`!variant`), which no Kubernetes schema accepts.
        Err(unsupported(&format!("the enum variant `{variant}` with a value")))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(self.sequence())
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Error> {
        Ok(self.sequence())
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        Ok(self.sequence())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(unsupported(&format!("the enum variant `{variant}` with values")))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(self.mapping())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        Ok(self.mapping())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(unsupported(&format!("the enum variant `{variant}` with fields")))
    }
}

/// A mapping or sequence being written. Nothing is written until the first entry, because an empty
/// one is written `{}` or `[]` on the line of its key.
pub struct Compound<'a> {
    out: &'a mut String,
    slot: Slot,
    started: bool,
    sequence: bool,
}

impl Compound<'_> {
    /// The indentation of this compound's keys or dashes.
    fn indent(&self) -> usize {
        match (self.slot, self.sequence) {
            (Slot::Document, _) => 0,
            // A sequence under a key starts at the key's column; a mapping is indented under it.
            (Slot::Value(indent), true) => indent,
            (Slot::Value(indent) | Slot::Item(indent), _) => indent + 2,
        }
    }

    /// Starts an entry: the line break or indentation before a key or a dash.
    fn begin_entry(&mut self) {
        let indent = self.indent();
        if self.started {
            push_indent(self.out, indent);
            return;
        }
        self.started = true;
        match (self.slot, self.sequence) {
            (Slot::Document, _) => {}
            // The first key of a mapping in a sequence goes on the dash's line.
            (Slot::Item(_), false) => self.out.push(' '),
            (Slot::Value(_) | Slot::Item(_), _) => {
                self.out.push('\n');
                push_indent(self.out, indent);
            }
        }
    }

    fn item<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.begin_entry();
        self.out.push('-');
        let slot = Slot::Item(self.indent());
        value.serialize(Serializer { out: self.out, slot })
    }

    fn key(&mut self, key: &str) {
        self.begin_entry();
        push_string_scalar(self.out, key);
        self.out.push(':');
    }

    fn value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        let slot = Slot::Value(self.indent());
        value.serialize(Serializer { out: self.out, slot })
    }

    fn finish(self) -> Result<(), Error> {
        if !self.started {
            let empty = if self.sequence { "[]" } else { "{}" };
            Serializer {
                out: self.out,
                slot: self.slot,
            }
            .display(empty)?;
        }
        Ok(())
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        let key = key.serialize(KeySerializer)?;
        self.key(&key);
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.value(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.key(key);
        self.value(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// Map keys: strings only, as every Kubernetes object's are.
struct KeySerializer;

fn not_a_string_key() -> Error {
    Error("a mapping key is not a string".to_string())
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = Impossible<String, Error>;
    type SerializeTuple = Impossible<String, Error>;
    type SerializeTupleStruct = Impossible<String, Error>;
    type SerializeTupleVariant = Impossible<String, Error>;
    type SerializeMap = Impossible<String, Error>;
    type SerializeStruct = Impossible<String, Error>;
    type SerializeStructVariant = Impossible<String, Error>;

    fn serialize_str(self, value: &str) -> Result<String, Error> {
        Ok(value.to_string())
    }
    fn serialize_char(self, value: char) -> Result<String, Error> {
        Ok(value.to_string())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<String, Error> {
        Ok(variant.to_string())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, value: &T) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_bool(self, _: bool) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_i8(self, _: i8) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_i16(self, _: i16) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_i32(self, _: i32) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_i64(self, _: i64) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_u8(self, _: u8) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_u16(self, _: u16) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_u32(self, _: u32) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_u64(self, _: u64) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_f32(self, _: f32) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_f64(self, _: f64) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Error> {
        Err(not_a_string_key())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_a_string_key())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_a_string_key())
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_a_string_key())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_a_string_key())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_a_string_key())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(not_a_string_key())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_a_string_key())
    }
}

/// Words that YAML 1.1 or 1.2 read as booleans or null, whatever their case.
const RESERVED_WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"];

/// A string as a scalar: plain when nothing could read it as another type, double-quoted otherwise.
pub fn string_scalar(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    push_string_scalar(&mut out, text);
    out
}

fn push_string_scalar(out: &mut String, text: &str) {
    if plain_is_safe(text) {
        out.push_str(text);
    } else {
        push_double_quoted(out, text);
    }
}

/// The bytes a plain scalar may hold after its first, one bit per ASCII code: every string of the
/// output is checked byte by byte.
const PLAIN_BYTES: u128 = {
    let mut mask = 0u128;
    let mut byte = 0u8;
    while byte < 128 {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'/' | b'-' | b':' | b'@' | b'+') {
            mask |= 1 << byte;
        }
        byte += 1;
    }
    mask
};

/// The longest of [`RESERVED_WORDS`].
const LONGEST_RESERVED_WORD: usize = 5;

fn plain_is_safe(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    // Anything starting with a digit, sign or dot might be a number, a date or a sexagesimal time.
    // A space is never allowed, so neither is `: `, which would start a mapping.
    (first.is_ascii_alphabetic() || first == b'/' || first == b'_')
        && bytes.iter().all(|&b| b < 128 && PLAIN_BYTES >> b & 1 == 1)
        && !text.ends_with(':')
        && (text.len() > LONGEST_RESERVED_WORD || !RESERVED_WORDS.iter().any(|word| word.eq_ignore_ascii_case(text)))
}

fn push_double_quoted(quoted: &mut String, text: &str) {
    quoted.push('"');
    // Most quoted strings are ASCII without quotes, backslashes or control characters.
    if !text
        .bytes()
        .any(|b| !(0x20..0x7f).contains(&b) || b == b'"' || b == b'\\')
    {
        quoted.push_str(text);
        quoted.push('"');
        return;
    }
    // Runs of characters that need no escape are copied whole.
    let mut copied = 0;
    for (at, c) in text.char_indices() {
        let escape = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\t' => Some("\\t"),
            '\r' => Some("\\r"),
            c if c.is_control() || c == '\u{feff}' || c == '\u{2028}' || c == '\u{2029}' => None,
            _ => continue,
        };
        quoted.push_str(text.get(copied..at).unwrap_or_default());
        match escape {
            Some(escape) => quoted.push_str(escape),
            None => {
                let _ = write!(quoted, "\\u{:04x}", u32::from(c));
            }
        }
        copied = at + c.len_utf8();
    }
    quoted.push_str(text.get(copied..).unwrap_or_default());
    quoted.push('"');
}

/// Multi-line text that a `|` block keeps exactly: no control characters, no leading space on the
/// first line (it would need an indentation indicator), at most one trailing line break.
fn literal_block_allowed(text: &str) -> bool {
    text.contains('\n')
        && !text.starts_with([' ', '\t', '\n'])
        && !text.ends_with("\n\n")
        && !text.chars().any(|c| (c.is_control() && c != '\n') || c == '\u{feff}')
        && !text.lines().any(|line| line.ends_with([' ', '\t']))
}

fn write_literal_block(out: &mut String, text: &str, indent: usize) {
    out.push_str(if text.ends_with('\n') { " |\n" } else { " |-\n" });
    for line in text.trim_end_matches('\n').split('\n') {
        if !line.is_empty() {
            push_indent(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn strings_that_yaml_1_1_would_misread_are_quoted() {
        let quoted = [
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "N",
            "true",
            "FALSE",
            "null",
            "~",
            "",
            "8080",
            "1_000",
            "1:20",
            "012",
            "0x1F",
            "1e3",
            ".inf",
            "-x",
            "2024-01-01",
            "a: b",
            "# x",
            "{{args.x}}",
            "*a",
            "&a",
            "!tag",
            "x #y",
            "a,b",
            "with space",
            "end:",
        ];
        for text in quoted {
            assert!(string_scalar(text).starts_with('"'), "{text:?} must be quoted");
        }
        let plain = [
            "checkout",
            "app.kubernetes.io/name",
            "http://prometheus.monitoring.svc.cluster.local:9090",
            "/healthz",
            "registry.example.com/shop/cart:2.4.1",
            "OnPodSuccess",
            "yesterday",
        ];
        for text in plain {
            assert_eq!(string_scalar(text), text);
        }
    }

    #[test]
    fn the_longest_reserved_word_is_known() {
        assert_eq!(
            RESERVED_WORDS.iter().map(|word| word.len()).max(),
            Some(LONGEST_RESERVED_WORD)
        );
    }

    #[test]
    fn quoting_escapes_what_would_break_the_string() {
        assert_eq!(string_scalar("with space: 1"), r#""with space: 1""#);
        assert_eq!(string_scalar("a\"b\\c\n\u{7}"), r#""a\"b\\c\n\u0007""#);
        assert_eq!(string_scalar("delete\u{7f}"), r#""delete\u007f""#);
        assert_eq!(
            string_scalar("grüße \"à\" tous\u{2028}: fin\t"),
            r#""grüße \"à\" tous\u2028: fin\t""#
        );
    }

    #[test]
    fn documents_are_block_style_with_literal_queries() {
        #[derive(Serialize)]
        struct Doc {
            name: &'static str,
            labels: BTreeMap<&'static str, &'static str>,
            items: Vec<BTreeMap<&'static str, &'static str>>,
            empty: Vec<u8>,
            query: &'static str,
            count: u32,
        }
        let doc = Doc {
            name: "x",
            labels: BTreeMap::from([("app", "on")]),
            items: vec![BTreeMap::from([("a", "1"), ("b", "two")])],
            empty: Vec::new(),
            query: "sum(x)\n  / sum(y)",
            count: 5,
        };
        let expected = "name: x\nlabels:\n  app: \"on\"\nitems:\n- a: \"1\"\n  b: two\nempty: []\nquery: |-\n  sum(x)\n    / sum(y)\ncount: 5\n";
        assert_eq!(to_yaml(&doc).unwrap(), expected);
    }
}
