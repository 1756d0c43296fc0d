//! Reading documentation from the comments of a source text. The grammar skips every comment, so the
//! syntax tree has none: doc comments are found from a declaration's span instead.

/// The doc comment of the declaration that starts at byte `start` of `text`: the `///` lines directly
/// above it, without `///` and the one space after it. Empty when there is none: a blank line or an
/// ordinary `//` comment between ends the comment, and so does anything before the declaration on its
/// own line.
pub fn doc_comment(text: &str, start: usize) -> String {
    let Some(before) = text.get(..start) else {
        return String::new();
    };
    let (above, line_start) = before.rsplit_once('\n').unwrap_or(("", before));
    if !line_start.trim().is_empty() {
        return String::new();
    }
    let mut lines: Vec<&str> = above
        .split('\n')
        .rev()
        .map_while(|line| line.trim_start().strip_prefix("///"))
        .map(strip_marker_space)
        .collect();
    lines.reverse();
    join_trimmed(&lines)
}

/// A module's description: the `//` comment lines (not `///`) that open the file, without `//` and the
/// one space after it, up to the first line that is not one (a blank line ends it).
pub fn module_description(text: &str) -> String {
    let lines: Vec<&str> = text
        .split('\n')
        .map(str::trim_start)
        .take_while(|line| !line.starts_with("///"))
        .map_while(|line| line.strip_prefix("//"))
        .map(strip_marker_space)
        .collect();
    join_trimmed(&lines)
}

fn strip_marker_space(rest: &str) -> &str {
    rest.strip_prefix(' ').unwrap_or(rest)
}

/// The lines as one text, without trailing spaces (two of which would be a Markdown line break that
/// nobody sees in the source) or the blank lines that open and close the comment.
fn join_trimmed(lines: &[&str]) -> String {
    let trimmed: Vec<&str> = lines.iter().map(|line| line.trim_end()).collect();
    trimmed.join("\n").trim_matches('\n').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The doc comment of the declaration at the first `step` in `text`.
    fn doc_of_step(text: &str) -> String {
        doc_comment(text, text.find("step").unwrap())
    }

    #[test]
    fn doc_comments_are_the_triple_slash_lines_right_above() {
        let cases = [
            ("/// Builds.\nstep a() {}", "Builds."),
            (
                "/// One.\n///\n///     code\n///   two  \nstep a() {}",
                "One.\n\n    code\n  two",
            ),
            ("  /// Indented.\n  step a() {}", "Indented."),
            ("///No space.\nstep a() {}", "No space."),
            ("/// Private too.\r\nprivate step a() {}", "Private too."),
            ("///\n/// Blank lines around.\n///\nstep a() {}", "Blank lines around."),
        ];
        for (text, expected) in cases {
            let start = text.find("private").or_else(|| text.find("step")).unwrap();
            assert_eq!(doc_comment(text, start), expected, "{text:?}");
        }
    }

    #[test]
    fn anything_between_ends_the_doc_comment() {
        let cases = [
            "/// Detached.\n\nstep a() {}",
            "/// Doc.\n// ordinary\nstep a() {}",
            "// ordinary\nstep a() {}",
            "/// Doc.\nmetric m() : ratio = prometheus \"up\" step a() {}",
            "step a() {}",
        ];
        for text in cases {
            assert_eq!(doc_of_step(text), "", "{text:?}");
        }
    }

    #[test]
    fn the_description_is_the_opening_run_of_ordinary_comments() {
        let cases = [
            (
                "// Shared steps.\n// Second line.\n\n// Not this.\nstep a() {}",
                "Shared steps.\nSecond line.",
            ),
            (
                "//Tight.\n//\n// After a gap.\nimport \"./p\"",
                "Tight.\n\nAfter a gap.",
            ),
            ("/// A doc comment.\nstep a() {}", ""),
            (
                "// Up to the doc comment.\n/// Doc.\nstep a() {}",
                "Up to the doc comment.",
            ),
            ("\n// Not at the top.\n", ""),
            ("step a() {}\n// Not at the top.\n", ""),
            ("", ""),
        ];
        for (text, expected) in cases {
            assert_eq!(module_description(text), expected, "{text:?}");
        }
    }
}
