//! The explanations `shipc explain` prints are true: every `docs/codes/<CODE>.md` is titled with its
//! code and name, its `## Wrong` example reports that code (and no other code the explanation does not
//! name), and its `## Right` example checks without a single diagnostic, warnings included.
//!
//! An example is a `ship` code block. A `// file: path` line in it starts another file (the first is
//! `example.ship`), and every file of the example is a root, as `shipc check .` would take them.

use shipc::diagnostics::explain::explanation;
use shipc::{Code, Compilation, MemoryLoader, Severity};

use crate::support;

/// Codes whose wrong example cannot be written as text in a Markdown file, with the reason for each.
/// Their `## Wrong` section describes the input in words instead.
const NO_WRONG_EXAMPLE: &[(Code, &str)] = &[
    (
        Code::E0001,
        "an internal error is a bug in shipc: no input is known to reach it, and one that did would be fixed",
    ),
    (
        Code::E0107,
        "invalid UTF-8 cannot be written in a Markdown file, which is UTF-8 text itself",
    ),
    (Code::E0108, "a file over 16 MiB does not fit in an explanation"),
    (
        Code::E0530,
        "the mistake is in a recorded data file, not in .ship text; tests/suite/simulate.rs has malformed ones",
    ),
    (
        Code::E0531,
        "the mistake is a file missing from a data directory, which no .ship text shows; see tests/suite/simulate.rs",
    ),
    (
        Code::E0405,
        "a pipeline of more than 200 templates takes some 400 lines; tests/ui/pipeline/too_many_templates.ship is one",
    ),
];

/// The path of the first file of an example, before any `// file:` line.
const FIRST_FILE: &str = "example.ship";

#[test]
fn every_explanation_is_titled_with_its_code_and_name() {
    for code in Code::ALL {
        let markdown = explanation(*code);
        let title = format!("# {}: {}", code.as_str(), code.name());
        assert_eq!(
            markdown.lines().next(),
            Some(title.as_str()),
            "docs/codes/{}.md must start with `{title}`",
            code.as_str()
        );
        assert!(
            prose(markdown).lines().skip(1).any(|line| !line.trim().is_empty()),
            "docs/codes/{}.md says nothing before `## Wrong`",
            code.as_str()
        );
        assert!(
            section_titles(markdown).contains(&"Wrong"),
            "docs/codes/{}.md has no `## Wrong` section",
            code.as_str()
        );
    }
}

/// A wrong example may also report codes that follow from its mistake (a failed import leaves a
/// service without its platform), as long as the explanation names them, so the reader who runs it
/// is told what to expect.
#[test]
fn every_wrong_example_reports_its_code_and_only_what_the_explanation_names() {
    let mut failures = Vec::new();
    for code in Code::ALL {
        let blocks = ship_blocks(explanation(*code), "Wrong");
        if let Some((_, reason)) = NO_WRONG_EXAMPLE.iter().find(|(exception, _)| exception == code) {
            assert!(
                blocks.is_empty(),
                "docs/codes/{}.md has a wrong example although it is listed as impossible ({reason}); \
                 remove it from NO_WRONG_EXAMPLE",
                code.as_str()
            );
            continue;
        }
        let [block] = blocks.as_slice() else {
            failures.push(format!(
                "docs/codes/{}.md: expected one ship block under `## Wrong`, found {}",
                code.as_str(),
                blocks.len()
            ));
            continue;
        };
        let compilation = check_example(block);
        let reported: Vec<Code> = compilation.diagnostics.iter().map(|d| d.code).collect();
        let is_error = code.severity() == Severity::Error;
        let explained = prose(explanation(*code));
        let unexplained = reported
            .iter()
            .any(|other| other != code && !explained.contains(other.as_str()));
        if !reported.contains(code) || unexplained || compilation.has_errors() != is_error {
            failures.push(format!(
                "docs/codes/{}.md: the wrong example reports {reported:?}\n{}",
                code.as_str(),
                support::render_diagnostics(&compilation)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_right_example_checks_clean() {
    let mut failures = Vec::new();
    for code in Code::ALL {
        let blocks = ship_blocks(explanation(*code), "Right");
        let has_no_wrong_example = NO_WRONG_EXAMPLE.iter().any(|(exception, _)| exception == code);
        if blocks.len() != 1 && !(has_no_wrong_example && blocks.is_empty()) {
            failures.push(format!(
                "docs/codes/{}.md: expected one ship block under `## Right`, found {}",
                code.as_str(),
                blocks.len()
            ));
            continue;
        }
        for block in &blocks {
            let compilation = check_example(block);
            if !compilation.diagnostics.is_empty() {
                failures.push(format!(
                    "docs/codes/{}.md: the right example is not clean\n{}",
                    code.as_str(),
                    support::render_diagnostics(&compilation)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn examples_split_into_files_at_file_lines() {
    let files = example_files("import \"./platform\"\nservice a {}\n// file: platform.ship\nplatform {}\n");
    assert_eq!(
        files,
        [
            (
                FIRST_FILE.to_string(),
                "import \"./platform\"\nservice a {}\n".to_string()
            ),
            ("platform.ship".to_string(), "platform {}\n".to_string()),
        ]
    );
}

/// Checks an example the way `shipc check` would check its files.
fn check_example(block: &str) -> Compilation {
    let files = example_files(block);
    let mut loader = MemoryLoader::new();
    for (path, text) in &files {
        loader.insert(path.clone(), text.clone());
    }
    let roots: Vec<String> = files.into_iter().map(|(path, _)| path).collect();
    shipc::check(&roots, &loader)
}

/// The files of an example: `(path, text)`, split at `// file: path` lines, which belong to no file.
fn example_files(block: &str) -> Vec<(String, String)> {
    let mut files = vec![(FIRST_FILE.to_string(), String::new())];
    for line in block.lines() {
        if let Some(path) = line.strip_prefix("// file:") {
            files.push((path.trim().to_string(), String::new()));
            continue;
        }
        let text = &mut files.last_mut().unwrap().1;
        text.push_str(line);
        text.push('\n');
    }
    files
}

/// The title and the explanation, before the first `## ` section.
fn prose(markdown: &str) -> &str {
    markdown.split("\n## ").next().unwrap_or("")
}

/// The titles of the `## ` sections, outside code blocks.
fn section_titles(markdown: &str) -> Vec<&str> {
    sections(markdown).into_iter().map(|(title, _)| title).collect()
}

/// The contents of the ```` ```ship ```` blocks in the `## title` section.
fn ship_blocks(markdown: &str, title: &str) -> Vec<String> {
    sections(markdown)
        .into_iter()
        .filter(|(section, _)| *section == title)
        .flat_map(|(_, blocks)| blocks)
        .collect()
}

/// Each `## ` section's title with the `ship` blocks in it. A `## ` line inside a code block is code,
/// not a heading.
fn sections(markdown: &str) -> Vec<(&str, Vec<String>)> {
    let mut sections: Vec<(&str, Vec<String>)> = Vec::new();
    // The language of the open code block and, for a `ship` block, its text so far.
    let mut open: Option<(&str, String)> = None;
    for line in markdown.lines() {
        if let Some((language, text)) = open.as_mut() {
            if line.trim_end() == "```" {
                if *language == "ship"
                    && let Some((_, blocks)) = sections.last_mut()
                {
                    blocks.push(std::mem::take(text));
                }
                open = None;
            } else {
                text.push_str(line);
                text.push('\n');
            }
        } else if let Some(language) = line.strip_prefix("```") {
            open = Some((language.trim(), String::new()));
        } else if let Some(title) = line.strip_prefix("## ") {
            sections.push((title.trim(), Vec::new()));
        }
    }
    assert!(open.is_none(), "a code block is never closed:\n{markdown}");
    sections
}
