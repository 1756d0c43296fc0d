//! Putting values from `.ship` sources into Markdown so that they read as written: plain text
//! backslash-escaped, code in spans and blocks whose backtick fences are longer than any run of
//! backticks inside. Nothing is HTML-escaped: Markdown shows `&lt;` inside code literally.

/// `text` as Markdown inline text that renders as itself.
///
/// CommonMark lets a backslash precede any ASCII punctuation, so escaping more than a given position
/// needs is harmless; these are the characters that can start emphasis, code, a link, raw HTML, an
/// entity, a heading, a table cell or strikethrough.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '#' | '|' | '~'
        ) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// `text` as an inline code span.
pub fn code_span(text: &str) -> String {
    // A code span cannot hold a blank line, and a renderer shows a line break in it as a space anyway.
    let text = if text.contains('\n') {
        text.lines().map(str::trim).collect::<Vec<_>>().join(" ")
    } else {
        text.to_string()
    };
    let fence = "`".repeat(longest_backtick_run(&text) + 1);
    // A renderer strips one space on each side when both are there, and a backtick next to the fence
    // would lengthen it: a space on each side keeps the text whole in both cases.
    let padded = text.starts_with('`')
        || text.ends_with('`')
        || (text.starts_with(' ') && text.ends_with(' ') && !text.trim().is_empty());
    if padded {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// `text` as a fenced code block in `language`, without a final line break.
pub fn code_block(language: &str, text: &str) -> String {
    let fence = "`".repeat((longest_backtick_run(text) + 1).max(3));
    format!("{fence}{language}\n{text}\n{fence}")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_escapes_what_markdown_would_interpret() {
        let cases = [
            ("std/ci", "std/ci"),
            ("shared_steps.ship", "shared\\_steps.ship"),
            ("a<b>&c", "a\\<b\\>\\&c"),
            ("[x](y) *z* `w`", "\\[x\\](y) \\*z\\* \\`w\\`"),
            ("a|b~c#d\\e", "a\\|b\\~c\\#d\\\\e"),
        ];
        for (text, expected) in cases {
            assert_eq!(escape(text), expected, "{text}");
        }
    }

    #[test]
    fn code_spans_fence_around_backticks_and_keep_html_characters() {
        let cases = [
            ("\"golang:1.25.4\"", "`\"golang:1.25.4\"`"),
            ("a<b && c>d", "`a<b && c>d`"),
            ("echo `date`", "`` echo `date` ``"),
            ("`x`", "`` `x` ``"),
            ("a``b", "```a``b```"),
            (" x ", "`  x  `"),
            ("\"\"\"\n  one\n  two\n\"\"\"", "`\"\"\" one two \"\"\"`"),
        ];
        for (text, expected) in cases {
            assert_eq!(code_span(text), expected, "{text}");
        }
    }

    #[test]
    fn code_blocks_fence_longer_than_any_backtick_run_inside() {
        assert_eq!(code_block("ship", "step a()"), "```ship\nstep a()\n```");
        assert_eq!(code_block("ship", "x = \"```\""), "````ship\nx = \"```\"\n````");
    }
}
