//! shipc compiles `.ship` files, a declarative language for how microservices are released and rolled
//! back on Kubernetes, into Argo Rollouts and Kubernetes manifests.
//!
//! The pipeline, one module per phase (see `docs/architecture.md`):
//!
//! ```text
//! text --syntax--> AST --names--> Program --check--> Model --lower--> ir objects --emit--> files
//! ```
//!
//! The library does no IO: files are read through a [`Loader`] and output comes back as
//! [`OutputFile`]s, which the CLI writes. Every phase reports into one collector, so a run reports every
//! independent problem; `lower` and `emit` only run when no error was reported.

pub mod check;
pub mod cli;
pub mod decimal;
pub mod diagnostics;
pub mod doc;
pub mod emit;
pub mod format;
pub mod graph;
pub mod lower;
pub mod names;
pub mod parallel;
pub mod promql;
pub mod scaffold;
pub mod simulate;
pub mod source;
pub mod stdlib;
pub mod syntax;

pub use diagnostics::{Code, Diagnostic, Severity};
pub use emit::OutputFile;
pub use names::modules::MemoryLoader;
pub use names::{LoadError, Loader};

use diagnostics::Diagnostics;
use source::SourceMap;

/// The outcome of a run: the sources read, what was found in them and, for a clean build, the files.
#[derive(Debug)]
pub struct Compilation {
    /// Every file read, for rendering diagnostics.
    pub sources: SourceMap,
    /// Errors and warnings, sorted by file, position and code.
    pub diagnostics: Vec<Diagnostic>,
    /// The files to write; empty unless this was a build without errors.
    pub outputs: Vec<OutputFile>,
    /// True when a file given to the compiler could not be read at all (an IO problem, not a mistake
    /// in the sources).
    pub unreadable_input: bool,
    /// How many services the sources declare.
    pub n_services: usize,
}

impl Compilation {
    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity() == Severity::Error)
    }
}

/// Parses and checks `roots` (project-relative paths) and everything they import.
pub fn check(roots: &[String], loader: &dyn Loader) -> Compilation {
    let (sources, diagnostics, program, ()) = resolve_and_check(roots, loader, |program, diagnostics| {
        check::check_only(program, diagnostics)
    });
    finish(sources, diagnostics, program.services.len(), program.unreadable_root)
}

/// Checks `roots` and, when no error was found, compiles them into output files.
pub fn build(roots: &[String], loader: &dyn Loader) -> Compilation {
    let mut outputs = Vec::new();
    let built: Result<Compilation, std::convert::Infallible> = build_each(roots, loader, &mut |file| {
        outputs.push(file);
        Ok(())
    });
    let Ok(mut compilation) = built;
    // An internal error may stop emitting half-way; a failed build has no output.
    if !compilation.has_errors() {
        compilation.outputs = outputs;
    }
    compilation
}

/// As [`build`], but hands each output file to `sink` as soon as it is rendered, in order of path,
/// instead of keeping them all: memory then stays flat however large the output. `sink` is only called
/// when no error was found. When `sink` fails, the build stops and its error is returned; the files
/// already handed over are the caller's to discard.
pub fn build_each<E>(
    roots: &[String],
    loader: &dyn Loader,
    sink: &mut dyn FnMut(OutputFile) -> Result<(), E>,
) -> Result<Compilation, E> {
    // The checked model holds all that is left to write: each syntax tree goes as soon as it is
    // checked, and emit lowers the model one batch of output directories at a time, which keeps the
    // peak memory of a large project down.
    let (mut sources, mut diagnostics, program, model) =
        resolve_and_check(roots, loader, check::check_consuming_services);
    let (n_services, unreadable_input) = (program.services.len(), program.unreadable_root);
    drop(program);
    if !diagnostics.has_errors() {
        match emit::emit_each(&lower::plan(&model), &sources, sink) {
            Ok(()) => {}
            Err(emit::EachError::Sink(message)) => return Err(message),
            Err(emit::EachError::Emit((message, origin))) => {
                internal_error(&mut sources, &mut diagnostics, origin, &format!("manifests: {message}"));
            }
        }
    }
    Ok(finish(sources, diagnostics, n_services, unreadable_input))
}

/// Checks `roots` and, when no error was found, draws every service's release flow.
pub fn graph(roots: &[String], loader: &dyn Loader, style: graph::Style) -> (Compilation, Option<String>) {
    let (sources, diagnostics, program, model) = front_end(roots, loader);
    let drawing = (!diagnostics.has_errors()).then(|| graph::render(&model, style));
    (
        finish(sources, diagnostics, program.services.len(), program.unreadable_root),
        drawing,
    )
}

/// Checks `roots` and, with `stdlib`, every standard library module; when no error was found, renders
/// the reference documentation of those modules (the standard library first), but not of the modules
/// they import, as Markdown.
pub fn doc(roots: &[String], loader: &dyn Loader, stdlib: bool) -> (Compilation, Option<String>) {
    let documented: Vec<String> = stdlib
        .then(stdlib::module_paths)
        .into_iter()
        .flatten()
        .map(str::to_string)
        .chain(roots.iter().cloned())
        .collect();
    let (mut sources, mut diagnostics, program, _) = front_end(&documented, loader);
    let mut markdown = None;
    if !diagnostics.has_errors() {
        let modules: Vec<names::ModuleId> = documented
            .iter()
            .filter_map(|path| program.modules.iter().position(|module| module.path == *path))
            .map(names::ModuleId)
            .collect();
        match doc::render(&program, &sources, &modules) {
            Ok(text) => markdown = Some(text),
            Err(message) => internal_error(
                &mut sources,
                &mut diagnostics,
                None,
                &format!("documentation: {message}"),
            ),
        }
    }
    (
        finish(sources, diagnostics, program.services.len(), program.unreadable_root),
        markdown,
    )
}

/// Checks `roots` and, when no error was found, finds the release of `request.service` as it will be
/// emitted and reads the recorded metric data of `request` (reporting malformed or missing data), for
/// `shipc simulate` and `shipc preflight` to replay with [`simulate::replay`]. The inner `Err` is a
/// usage problem: no such service or environment.
pub fn simulate(
    roots: &[String],
    loader: &dyn Loader,
    request: &simulate::Request,
) -> (Compilation, Option<Result<simulate::Prepared, String>>) {
    let (mut sources, mut diagnostics, program, model) = front_end(roots, loader);
    let mut prepared = None;
    if !diagnostics.has_errors() {
        let bundle = lower::lower(&model);
        prepared = Some(simulate::prepare(&bundle, request, &mut sources, &mut diagnostics));
    }
    let prepared = prepared.filter(|_| !diagnostics.has_errors());
    (
        finish(sources, diagnostics, program.services.len(), program.unreadable_root),
        prepared,
    )
}

/// Syntax, names and checks: everything before lowering.
fn front_end(roots: &[String], loader: &dyn Loader) -> (SourceMap, Diagnostics, names::Program, check::Model) {
    resolve_and_check(roots, loader, |program, diagnostics| check::check(program, diagnostics))
}

/// Syntax, names and `checks`, with only the parts of the standard library that the sources mention
/// ([`names::StdlibParse::Mentioned`]). A run without errors is then the same as with the whole standard
/// library; a run with errors is done again with all of it, so that an error which lists what a module
/// offers lists everything.
fn resolve_and_check<T>(
    roots: &[String],
    loader: &dyn Loader,
    checks: impl Fn(&mut names::Program, &mut Diagnostics) -> T,
) -> (SourceMap, Diagnostics, names::Program, T) {
    let attempt = |stdlib_parse| {
        let mut sources = SourceMap::new();
        let mut diagnostics = Diagnostics::new();
        let mut program = names::resolve(roots, loader, stdlib_parse, &mut sources, &mut diagnostics);
        let checked = checks(&mut program, &mut diagnostics);
        (sources, diagnostics, program, checked)
    };
    let (sources, diagnostics, program, checked) = attempt(names::StdlibParse::Mentioned);
    if program.stdlib_in_part && diagnostics.has_errors() {
        return attempt(names::StdlibParse::Whole);
    }
    (sources, diagnostics, program, checked)
}

fn finish(sources: SourceMap, diagnostics: Diagnostics, n_services: usize, unreadable_input: bool) -> Compilation {
    Compilation {
        n_services,
        unreadable_input,
        diagnostics: diagnostics.into_sorted(&sources),
        sources,
        outputs: Vec::new(),
    }
}

/// Reports a failure to produce output from a program without errors, which is a bug in shipc, at
/// `origin` or, when nothing in the sources caused it, at the output itself.
fn internal_error(sources: &mut SourceMap, diagnostics: &mut Diagnostics, origin: Option<source::Span>, what: &str) {
    let span = match origin {
        Some(span) => span,
        None => source::Span::new(sources.add("<output>", String::new()), 0, 0),
    };
    diagnostics.push(
        Diagnostic::new(Code::E0001, span, format!("internal error while writing {what}"))
            .help("this is a bug in shipc; please report it with the input that triggers it"),
    );
}
