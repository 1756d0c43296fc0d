//! `shipc doc`: what a module's reference documentation shows (exported definitions with their
//! signatures as written and their doc comments; never private ones, nor the modules a file imports),
//! and that the command writes it, to standard output or atomically to a file, only from sources
//! without errors. `docs/stdlib.md` is the standard library's, and every definition there is
//! documented.

use shipc::MemoryLoader;
use shipc::diagnostics::Diagnostics;
use shipc::doc::comments::{doc_comment, module_description};
use shipc::source::SourceMap;
use shipc::syntax::ast::Item;

use crate::support::{self, shipc, stderr, write};

/// A module with every kind of definition, two of them private, defaults that need care in Markdown,
/// and doc comments written in Markdown.
const SHARED_CI: &str = r#"// Steps, metrics, checks and environments that the shop's services share.
//
// Every definition here but `cleanup` is exported.

import "std/checks" as std_checks

/// Builds and pushes an image with [kaniko](https://github.com/GoogleContainerTools/kaniko).
///
/// - `destination` is the image to push, tag included.
/// - The pushed image's digest is the `digest` output.
step kaniko(destination: string, context: string = "dir:///work/src", verbosity: string = "warn") {
  image         = "gcr.io/kaniko-project/executor:v1.23.2"
  args          = ["--context=${context}", "--destination=${destination}", "--verbosity=${verbosity}"]
  outputs       = { digest: "/work/digest", image_ref: "/work/ref" }
  run_as_root   = true
  writable_root = true
}

/// Not exported, so not documented.
private step cleanup() {
  image = "alpine:3.20"
  run   = "rm -rf /work/cache"
}

// An ordinary comment: no documentation.
step greet(greeting: string = "say `hi` & <bye>", attempts: int = 3, wait: duration = 1m30s) {
  image = "alpine:3.20"
  run   = "echo \"${greeting}\""
}

/// Share of requests answered with a 5xx status, over `window`.
metric error_rate(svc: service, window: duration = 5m) : ratio = prometheus """
  sum(rate(http_requests_total{service="${svc.name}",code=~"5.."}[${window}]))
    / sum(rate(http_requests_total{service="${svc.name}"}[${window}]))
"""

/// Answers 200 on `path` (which starts with `/`) & <nothing else>.
check healthy(path: string = "/healthz") = http_get(path, expect: 200)

/// Where every merge to `main` goes first.
environment staging {
  namespace = "shop-staging"
  replicas  = 1
}

/// Private environments stay out too.
private environment scratch {
  namespace = "shop-scratch"
}
"#;

const SHARED_CI_DOC: &str = r#"## lib/shared\_ci.ship

Steps, metrics, checks and environments that the shop's services share.

Every definition here but `cleanup` is exported.

```ship
import "./lib/shared_ci" // from a file at the project root
```

### `kaniko`

```ship
step kaniko(destination: string, context: string = "dir:///work/src", verbosity: string = "warn")
```

- image: `"gcr.io/kaniko-project/executor:v1.23.2"`
- output `digest`: `"/work/digest"`
- output `image_ref`: `"/work/ref"`

Builds and pushes an image with [kaniko](https://github.com/GoogleContainerTools/kaniko).

- `destination` is the image to push, tag included.
- The pushed image's digest is the `digest` output.

### `greet`

```ship
step greet(greeting: string = "say `hi` & <bye>", attempts: int = 3, wait: duration = 1m30s)
```

- image: `"alpine:3.20"`

### `error_rate`

```ship
metric error_rate(svc: service, window: duration = 5m) : ratio
```

- provider: `prometheus`

Share of requests answered with a 5xx status, over `window`.

### `healthy`

```ship
check healthy(path: string = "/healthz")
```

- probe: `http_get`

Answers 200 on `path` (which starts with `/`) & <nothing else>.

### `staging`

```ship
environment staging
```

- namespace: `"shop-staging"`
- replicas: `1`

Where every merge to `main` goes first.
"#;

/// A file that imports the shared module.
const APP: &str = r#"// The shop's CI.
import "./lib/shared_ci" as ci

/// Lints with the team's settings.
step lint() {
  image = "golangci/golangci-lint:v2.1"
  run   = "golangci-lint run"
}
"#;

fn project() -> MemoryLoader {
    let mut loader = MemoryLoader::new();
    loader.insert("lib/shared_ci.ship", SHARED_CI);
    loader.insert("app.ship", APP);
    loader
}

/// The documentation of `roots`, which must check without a diagnostic.
fn documentation(roots: &[&str], loader: &MemoryLoader) -> String {
    let roots: Vec<String> = roots.iter().map(|root| root.to_string()).collect();
    let (compilation, markdown) = shipc::doc(&roots, loader, false);
    assert!(
        compilation.diagnostics.is_empty(),
        "{}",
        support::render_diagnostics(&compilation)
    );
    markdown.unwrap()
}

#[test]
fn a_module_shows_its_exported_definitions_as_written() {
    assert_eq!(documentation(&["lib/shared_ci.ship"], &project()), SHARED_CI_DOC);
}

#[test]
fn only_the_given_files_are_documented_not_what_they_import() {
    let markdown = documentation(&["app.ship"], &project());
    assert!(markdown.starts_with("## app.ship\n\nThe shop's CI.\n"), "{markdown}");
    assert!(markdown.contains("### `lint`"), "{markdown}");
    assert!(!markdown.contains("shared"), "{markdown}");
}

#[test]
fn modules_follow_each_other_in_the_order_given() {
    let markdown = documentation(&["app.ship", "lib/shared_ci.ship"], &project());
    let expected_end = format!("Lints with the team's settings.\n\n{SHARED_CI_DOC}");
    assert!(markdown.ends_with(&expected_end), "{markdown}");
}

#[test]
fn a_module_with_an_error_is_reported_and_not_documented() {
    let mut loader = project();
    loader.insert(
        "lib/shared_ci.ship",
        SHARED_CI.replace("  image = \"alpine:3.20\"\n  run   = \"echo", "  run   = \"echo"),
    );
    let (compilation, markdown) = shipc::doc(&["app.ship".to_string()], &loader, false);
    assert!(markdown.is_none());
    assert!(
        support::render_diagnostics(&compilation).contains("step `greet` has no `image`"),
        "{}",
        support::render_diagnostics(&compilation)
    );
}

#[test]
fn the_text_ends_with_one_line_break_and_no_line_ends_in_a_space() {
    let files = support::ship_files_under(&support::repo_root().join("examples"));
    let roots: Vec<String> = files.iter().map(|file| support::rel(file)).collect();
    let (compilation, markdown) = shipc::doc(&roots, &support::loader_for(&files), true);
    assert!(
        !compilation.has_errors(),
        "{}",
        support::render_diagnostics(&compilation)
    );
    let markdown = markdown.unwrap();
    assert!(markdown.ends_with('\n') && !markdown.ends_with("\n\n"), "{markdown}");
    for line in markdown.lines() {
        assert_eq!(line, line.trim_end(), "a line ends in white space");
    }
}

/// A scratch project holding the two files above.
fn project_dir(name: &str) -> std::path::PathBuf {
    let dir = support::scratch_dir(name);
    write(&dir, "lib/shared_ci.ship", SHARED_CI);
    write(&dir, "app.ship", APP);
    dir
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn doc_prints_the_documentation_after_a_note_naming_its_command() {
    let dir = project_dir("doc-stdout");
    let output = shipc(&dir, &["doc", "lib"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let note = shipc::doc::generated_note("shipc doc lib");
    assert_eq!(stdout(&output), format!("{note}{SHARED_CI_DOC}"));
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
}

#[test]
fn doc_documents_the_current_directory_by_default() {
    let dir = project_dir("doc-default");
    let output = shipc(&dir, &["doc"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let markdown = stdout(&output);
    assert!(
        markdown.contains("\n## app.ship\n") && markdown.ends_with(SHARED_CI_DOC),
        "{markdown}"
    );
}

#[test]
fn doc_writes_the_out_file_only_when_there_is_no_error() {
    let dir = project_dir("doc-out");
    let first = shipc(&dir, &["doc", "lib", "--out", "reference/ci.md"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(stdout(&first).is_empty());
    let written = std::fs::read_to_string(dir.join("reference/ci.md")).unwrap();
    let note = shipc::doc::generated_note("shipc doc lib --out reference/ci.md");
    assert_eq!(written, format!("{note}{SHARED_CI_DOC}"));

    write(
        &dir,
        "lib/shared_ci.ship",
        &SHARED_CI.replace("  image = \"alpine:3.20\"\n  run   = \"echo", "  run   = \"echo"),
    );
    let second = shipc(&dir, &["doc", "lib", "--out", "reference/ci.md"]);
    assert_eq!(second.status.code(), Some(1));
    assert!(stderr(&second).contains("error[E0210]"), "{}", stderr(&second));
    let files: Vec<String> = support::tree_bytes(&dir.join("reference"))
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    assert_eq!(files, ["ci.md"], "a failed run leaves no temporary file");
    assert_eq!(std::fs::read_to_string(dir.join("reference/ci.md")).unwrap(), written);

    write(&dir, "lib/shared_ci.ship", SHARED_CI);
    let third = shipc(&dir, &["doc", "app.ship", "--out", "reference/ci.md"]);
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    let replaced = std::fs::read_to_string(dir.join("reference/ci.md")).unwrap();
    assert!(
        replaced.contains("## app.ship") && !replaced.contains("kaniko"),
        "{replaced}"
    );
}

#[test]
fn doc_usage_errors_exit_with_2() {
    let dir = project_dir("doc-usage");
    std::fs::create_dir_all(dir.join("reference")).unwrap();
    let cases: [&[&str]; 3] = [
        &["doc", "lib", "--out", "reference"],
        &["doc", "missing.ship"],
        &["doc", "--stdlib", "--bogus"],
    ];
    for args in cases {
        let output = shipc(&dir, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stdout(&output).is_empty(), "{args:?}");
    }
}

/// Writes the standard library reference with the command its first line names, in a scratch
/// directory, so that the command is tested too.
#[test]
fn docs_stdlib_md_is_the_current_standard_library_reference() {
    let dir = support::scratch_dir("doc-stdlib");
    let output = shipc(&dir, &["doc", "--stdlib", "--out", "docs/stdlib.md"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let fresh = std::fs::read_to_string(dir.join("docs/stdlib.md")).unwrap();
    let committed = std::fs::read_to_string(support::repo_root().join("docs/stdlib.md")).unwrap_or_default();
    assert!(
        fresh == committed,
        "docs/stdlib.md does not match stdlib/: run `cargo run -- doc --stdlib --out docs/stdlib.md`"
    );
}

#[test]
fn every_standard_library_module_is_described_and_every_export_documented() {
    let mut missing = Vec::new();
    for (path, text) in shipc::stdlib::MODULES {
        if module_description(text).is_empty() {
            missing.push(format!("{path}: no description (`//` lines opening the file)"));
        }
        let mut sources = SourceMap::new();
        let source = sources.add(*path, text.to_string());
        let mut diagnostics = Diagnostics::new();
        let file = shipc::syntax::parse(source, sources.file(source).text(), &mut diagnostics);
        assert!(!diagnostics.has_errors(), "{path} has syntax errors");
        for item in &file.items {
            let (kind, name, private, span) = match item {
                Item::Step(step) => ("step", &step.name, step.private, step.span),
                Item::Metric(metric) => ("metric", &metric.name, metric.private, metric.span),
                Item::Check(check) => ("check", &check.name, check.private, check.span),
                Item::Environment(environment) => {
                    ("environment", &environment.name, environment.private, environment.span)
                }
                _ => continue,
            };
            if !private && doc_comment(text, span.start as usize).is_empty() {
                missing.push(format!("{path}: {kind} `{}` has no `///` doc comment", name.name));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
