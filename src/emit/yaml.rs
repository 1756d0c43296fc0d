//! YAML text from typed structs, safe for Kubernetes' YAML 1.1 reader.
//!
//! Objects are serialized with serde into a `serde_yaml::Value` tree, then printed here. serde_yaml's
//! own printer follows YAML 1.2 and leaves `yes`, `no`, `on`, `off`, `y`, `1_000` or `1:20` unquoted,
//! which Kubernetes (go-yaml v2, YAML 1.1) reads as booleans and numbers. This printer writes a string
//! as a plain scalar only when it cannot be read as anything else, double-quotes everything else, and
//! uses `|` blocks for multi-line text such as queries.

use serde::Serialize;
use serde_yaml::Value;

/// Serializes `object` as one YAML document (without the `---` separator).
pub fn to_yaml<T: Serialize>(object: &T) -> Result<String, String> {
    let value = serde_yaml::to_value(object).map_err(|error| error.to_string())?;
    let mut out = String::new();
    match &value {
        Value::Mapping(map) if !map.is_empty() => write_mapping(&mut out, map, 0, false)?,
        Value::Sequence(items) if !items.is_empty() => write_sequence(&mut out, items, 0)?,
        other => {
            out.push_str(&scalar(other)?);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Joins documents into one multi-document stream.
pub fn stream(documents: &[String]) -> String {
    documents.join("---\n")
}

fn write_mapping(out: &mut String, map: &serde_yaml::Mapping, indent: usize, inline_first: bool) -> Result<(), String> {
    for (idx, (key, value)) in map.iter().enumerate() {
        if !(idx == 0 && inline_first) {
            out.push_str(&" ".repeat(indent));
        }
        let key = match key {
            Value::String(key) => string_scalar(key),
            other => return Err(format!("a mapping key is not a string: {other:?}")),
        };
        out.push_str(&key);
        out.push(':');
        write_after_key(out, value, indent)?;
    }
    Ok(())
}

/// Writes what follows `key:` for an entry at `indent`.
fn write_after_key(out: &mut String, value: &Value, indent: usize) -> Result<(), String> {
    match value {
        Value::Mapping(map) if !map.is_empty() => {
            out.push('\n');
            write_mapping(out, map, indent + 2, false)
        }
        Value::Sequence(items) if !items.is_empty() => {
            out.push('\n');
            write_sequence(out, items, indent)
        }
        Value::String(text) if literal_block_allowed(text) => {
            write_literal_block(out, text, indent + 2);
            Ok(())
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other)?);
            out.push('\n');
            Ok(())
        }
    }
}

fn write_sequence(out: &mut String, items: &[Value], indent: usize) -> Result<(), String> {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            Value::Mapping(map) if !map.is_empty() => {
                out.push(' ');
                write_mapping(out, map, indent + 2, true)?;
            }
            Value::Sequence(inner) if !inner.is_empty() => {
                out.push('\n');
                write_sequence(out, inner, indent + 2)?;
            }
            Value::String(text) if literal_block_allowed(text) => write_literal_block(out, text, indent + 2),
            other => {
                out.push(' ');
                out.push_str(&scalar(other)?);
                out.push('\n');
            }
        }
    }
    Ok(())
}

fn scalar(value: &Value) -> Result<String, String> {
    Ok(match value {
        Value::Null => "null".to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => string_scalar(text),
        Value::Mapping(_) => "{}".to_string(),
        Value::Sequence(_) => "[]".to_string(),
        Value::Tagged(tagged) => return Err(format!("a tagged value cannot be emitted: {}", tagged.tag)),
    })
}

/// Words that YAML 1.1 or 1.2 read as booleans or null, whatever their case.
const RESERVED_WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"];

/// A string as a scalar: plain when nothing could read it as another type, double-quoted otherwise.
pub fn string_scalar(text: &str) -> String {
    if plain_is_safe(text) {
        text.to_string()
    } else {
        double_quoted(text)
    }
}

fn plain_is_safe(text: &str) -> bool {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    // Anything starting with a digit, sign or dot might be a number, a date or a sexagesimal time.
    if !(first.is_ascii_alphabetic() || first == '/' || first == '_') {
        return false;
    }
    if RESERVED_WORDS.iter().any(|word| word.eq_ignore_ascii_case(text)) {
        return false;
    }
    if text.ends_with(':') || text.contains(": ") {
        return false;
    }
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | ':' | '@' | '+'))
}

fn double_quoted(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            '\r' => quoted.push_str("\\r"),
            c if c.is_control() || c == '\u{feff}' || c == '\u{2028}' || c == '\u{2029}' => {
                quoted.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
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
            out.push_str(&" ".repeat(indent));
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
    fn quoting_escapes_what_would_break_the_string() {
        assert_eq!(string_scalar("a\"b\\c\n\u{7}"), r#""a\"b\\c\n\u0007""#);
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
