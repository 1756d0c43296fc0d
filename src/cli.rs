//! The `shipc` command: arguments, finding `.ship` files, reading the disk, writing output atomically,
//! and exit codes (0 clean, 1 problems in the sources, 2 usage or IO). Everything else is the library.

use std::io::{IsTerminal, Write};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diagnostics::render::{self, RenderOptions};
use crate::names::{LoadError, Loader};
use crate::parallel;
use crate::source::MAX_SOURCE_LEN;
use crate::{Compilation, OutputFile};

/// Compile .ship release descriptions into Argo Rollouts and Kubernetes manifests.
#[derive(Parser, Debug)]
#[command(name = "shipc", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse and check .ship files; report every problem.
    Check(CommonArgs),
    /// Check .ship files and, when there is no error, write the manifests.
    Build {
        #[command(flatten)]
        common: CommonArgs,
        /// Where to write the manifests: a directory, replaced as a whole only when the build succeeds; a
        /// file ending in `.yaml` or `.yml`, which gets every object as one multi-document YAML stream,
        /// replaced atomically; or `-`, the same stream on standard output (`| kubectl apply -f -`).
        #[arg(long, value_name = "DIR|FILE.yaml|-")]
        out: PathBuf,
    },
    /// Draw each service's release flow (Mermaid or Graphviz DOT) on standard output.
    Graph {
        #[command(flatten)]
        common: CommonArgs,
        /// The diagram language.
        #[arg(long, value_enum, default_value_t = GraphStyle::Mermaid)]
        style: GraphStyle,
    },
    /// Write the reference documentation of modules, in Markdown, from their `///` doc comments.
    Doc(DocArgs),
    /// Rewrite .ship files in the canonical layout.
    Fmt {
        /// Files or directories to format (directories are searched for *.ship files).
        #[arg(value_name = "PATH", default_value = ".")]
        paths: Vec<PathBuf>,
        /// Change nothing: list the files that are not in the canonical layout, and exit 1 if any.
        #[arg(long)]
        check: bool,
    },
    /// Explain a diagnostic code, with a wrong and a right example.
    Explain {
        /// A code (`E0505`) or its name (`analysis-outlasts-scale-down`).
        code: String,
    },
    /// Create a new service file, and a platform file if the project has none.
    Init(InitArgs),
    /// Replay a service's rollback decisions on recorded Prometheus data and print the timeline
    /// (exit 0 promote, 3 roll back, 4 pause; see docs/simulate.md).
    Simulate(SimulateArgs),
    /// Replay a service's rollback decisions against a live Prometheus, showing every query resolved.
    Preflight(PreflightArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(clap::Args, Debug)]
struct InitArgs {
    /// The service's name [default: the directory's name].
    name: Option<String>,
    /// The project directory to create the files in [default: the current directory].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The namespace, when a platform file is created.
    #[arg(long, default_value = "default")]
    namespace: String,
    /// The image registry, when a platform file is created.
    #[arg(long, default_value = "registry.example.com")]
    registry: String,
    /// The Prometheus address, when a platform file is created.
    #[arg(long, default_value = "http://prometheus.monitoring.svc.cluster.local:9090")]
    prometheus: String,
}

#[derive(clap::Args, Debug)]
struct DocArgs {
    /// Files or directories to document (directories are searched for *.ship files); the files they
    /// import are checked but not documented [default: . unless --stdlib is given].
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Document every standard library module (`std/...`), before the PATHs.
    #[arg(long)]
    stdlib: bool,
    /// File to write the Markdown to, replaced only when there is no error [default: standard output].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// How diagnostics are printed.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// The project root: imports may not leave it and paths are shown relative to it
    /// [default: the current directory].
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct ReplayArgs {
    /// Files or directories to compile (directories are searched for *.ship files).
    #[arg(value_name = "PATH", default_value = ".")]
    paths: Vec<PathBuf>,
    /// The service whose release to replay.
    #[arg(long, value_name = "NAME")]
    service: String,
    /// The environment, for a service its pipeline deploys to several.
    #[arg(long, value_name = "NAME")]
    environment: Option<String>,
    /// A value for an AnalysisTemplate argument: `new-hash=6d4f9c7b8`, `stable-hash=...`,
    /// `namespace=...` [default: new-hash=new, stable-hash=stable, the Rollout's namespace].
    #[arg(long = "arg", value_name = "NAME=VALUE")]
    args: Vec<String>,
    /// Count this check (a web or job metric, which metric data cannot replay) as failed; every other
    /// check is assumed to pass.
    #[arg(long = "fail-check", value_name = "METRIC")]
    fail_checks: Vec<String>,
    /// Exit 0 only when the release ends this way, and 5 otherwise (for CI cases).
    #[arg(long, value_enum)]
    expect: Option<ExpectedVerdict>,
    /// How diagnostics are printed.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// The project root: imports may not leave it and paths are shown relative to it
    /// [default: the current directory].
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct SimulateArgs {
    #[command(flatten)]
    replay: ReplayArgs,
    /// Directory of recorded data: per metric, `<metric>.json` (a /api/v1/query_range answer) or
    /// `<metric>.om` (OpenMetrics with timestamps), or `<template>/<metric>.json`.
    #[arg(long, value_name = "DIR")]
    metrics: PathBuf,
    /// When the release starts (RFC 3339 or seconds since the epoch) [default: the earliest sample].
    #[arg(long, value_name = "TIME")]
    start: Option<String>,
}

#[derive(clap::Args, Debug)]
struct PreflightArgs {
    #[command(flatten)]
    replay: ReplayArgs,
    /// Prometheus base URL; `https://user:password@host` for basic authentication.
    #[arg(long, value_name = "URL")]
    prometheus: String,
    /// When the release starts (RFC 3339 or seconds since the epoch).
    #[arg(long, value_name = "TIME", conflicts_with = "window")]
    at: Option<String>,
    /// Start the release this long ago (`1h`, `30m`) [default: as long ago as the release takes].
    #[arg(long, value_name = "DURATION")]
    window: Option<String>,
    /// File holding a bearer token for Prometheus.
    #[arg(long, value_name = "FILE")]
    bearer_token_file: Option<PathBuf>,
    /// Seconds each request to Prometheus may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    timeout: u64,
    /// Also save each metric's query_range answer over the release window into DIR, as
    /// `<template>/<metric>.json`: a recorded case for `shipc simulate --metrics DIR`.
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ExpectedVerdict {
    /// Every analysis passes and the new version becomes stable.
    Promote,
    /// An analysis fails or errors and the release is aborted.
    Rollback,
    /// An analysis is inconclusive and the release pauses for a person.
    Pause,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum GraphStyle {
    /// A Mermaid flowchart, which GitHub renders in Markdown.
    Mermaid,
    /// A Graphviz digraph, for `dot -Tsvg`.
    Dot,
}

#[derive(clap::Args, Debug)]
struct CommonArgs {
    /// Files or directories to compile (directories are searched for *.ship files).
    #[arg(value_name = "PATH", default_value = ".")]
    paths: Vec<PathBuf>,
    /// How diagnostics are printed.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// The project root: imports may not leave it and paths are shown relative to it
    /// [default: the current directory].
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// Explained diagnostics with source excerpts.
    Human,
    /// One JSON document (schema in docs/diagnostics.md).
    Json,
    /// One line per diagnostic: `file:line:col: CODE message`.
    Short,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

/// The exit code for usage and IO failures.
const EXIT_USAGE: u8 = 2;

/// Runs the command line; the binary's `main` calls this and nothing else.
pub fn run() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    match execute(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("shipc: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn execute(cli: Cli) -> Result<ExitCode, String> {
    let (common, out) = match cli.command {
        Command::Check(common) => (common, None),
        Command::Build { common, out } => (common, Some(out)),
        Command::Graph { common, style } => return graph(&common, style),
        Command::Doc(args) => return doc(&args),
        Command::Init(args) => return init(&args),
        Command::Fmt { paths, check } => return fmt(&paths, check),
        Command::Simulate(args) => return simulate(&args),
        Command::Preflight(args) => return preflight(&args),
        Command::Explain { code } => {
            let code = crate::Code::parse(&code).ok_or_else(|| {
                format!("`{code}` is not a diagnostic code; the codes are listed in docs/diagnostics.md")
            })?;
            print!("{}", crate::diagnostics::explain::explanation(code));
            return Ok(ExitCode::SUCCESS);
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "shipc", &mut std::io::stdout());
            return Ok(ExitCode::SUCCESS);
        }
    };
    let root = project_root(&common)?;
    let mut output = match &out {
        Some(out) => Some(Output::for_path(out, common.format)?),
        None => None,
    };
    let roots = discover(&root, &common.paths)?;
    let loader = DiskLoader { root: root.clone() };
    let compilation = match &mut output {
        Some(output) => crate::build_each(&roots, &loader, &mut |file| output.write(file)),
        None => Ok(crate::check(&roots, &loader)),
    };
    let compilation = match compilation {
        Ok(compilation) => compilation,
        Err(message) => {
            if let Some(output) = output {
                output.abort();
            }
            return Err(message);
        }
    };
    report(&compilation, common.format);
    if let Some(code) = exit_code(&compilation) {
        if let Some(output) = output {
            output.abort();
        }
        return Ok(code);
    }
    if let Some(output) = output {
        let written = output.commit()?;
        if common.format == Format::Human {
            let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
            eprintln!(
                "shipc: wrote {} for {} to {}",
                plural(written.count, written.unit),
                plural(compilation.n_services, "service"),
                written.to
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where `shipc build` writes, filled file by file as the compiler renders them.
enum Output {
    Directory(DirectoryOutput),
    Stream(StreamOutput),
}

/// What a finished output holds, for the closing message.
struct Written {
    count: usize,
    unit: &'static str,
    to: String,
}

impl Output {
    /// The output `--out PATH` asks for: `-` is standard output, a `.yaml` or `.yml` file one stream,
    /// anything else a directory.
    fn for_path(out: &Path, format: Format) -> Result<Output, String> {
        if out.as_os_str() == "-" {
            if format != Format::Human {
                return Err(
                    "`--out -` writes the manifests to standard output, where `--format json`, `sarif` and `short` write diagnostics; use `--out FILE.yaml`".to_string(),
                );
            }
            return Ok(Output::Stream(StreamOutput::new(None)));
        }
        if out.file_name().is_none() {
            return Err(format!("`{}` does not name a directory or a file", out.display()));
        }
        let is_stream_file = out
            .extension()
            .is_some_and(|extension| extension == "yaml" || extension == "yml");
        if is_stream_file {
            if out.is_dir() {
                return Err(format!(
                    "cannot write `{}`: it is a directory; a path ending in `.yaml` names the file for one stream",
                    out.display()
                ));
            }
            return Ok(Output::Stream(StreamOutput::new(Some(out.to_path_buf()))));
        }
        recover_interrupted_output(out)?;
        Ok(Output::Directory(DirectoryOutput::new(out)))
    }

    fn write(&mut self, file: OutputFile) -> Result<(), String> {
        match self {
            Output::Directory(directory) => directory.write(file),
            Output::Stream(stream) => stream.write(file),
        }
    }

    /// Makes what was written the output.
    fn commit(self) -> Result<Written, String> {
        match self {
            Output::Directory(directory) => directory.commit(),
            Output::Stream(stream) => stream.commit(),
        }
    }

    /// Throws away what was written, leaving any previous output as it was.
    fn abort(self) {
        match self {
            Output::Directory(directory) => directory.abort(),
            Output::Stream(stream) => stream.abort(),
        }
    }
}

/// A directory of files, staged beside `out` and swapped into place by [`DirectoryOutput::commit`]: an
/// error, a crash or Ctrl-C leaves the previous output as it was, and files of services that no longer
/// exist disappear only on success. An existing `out` is replaced only if it is empty or was written by
/// shipc. Nothing is touched before the first file arrives, so a build with errors changes nothing.
struct DirectoryOutput {
    out: PathBuf,
    staging: PathBuf,
    previous: PathBuf,
    started: bool,
    /// Directories already created in the staging directory.
    created: std::collections::BTreeSet<PathBuf>,
    /// Files received but not yet written: they are written [`FILES_PER_FLUSH`] at a time, on all cores.
    pending: Vec<OutputFile>,
    files: usize,
}

/// How many files a directory output writes at once. Creating a file costs the system far more than
/// writing its few kilobytes, and files in different directories are created in parallel; a thousand
/// files of a few kilobytes each hold little memory.
const FILES_PER_FLUSH: usize = 1024;

impl DirectoryOutput {
    fn new(out: &Path) -> DirectoryOutput {
        let (staging, previous) = temporary_names(out);
        DirectoryOutput {
            out: out.to_path_buf(),
            staging,
            previous,
            started: false,
            created: std::collections::BTreeSet::new(),
            pending: Vec::new(),
            files: 0,
        }
    }

    fn failed(&self, error: impl std::fmt::Display) -> String {
        format!("cannot write `{}`: {error}", self.out.display())
    }

    fn start(&mut self) -> Result<(), String> {
        if self.started {
            return Ok(());
        }
        let out = &self.out;
        if out.exists() {
            if !out.is_dir() {
                return Err(self.failed("it exists and is not a directory"));
            }
            let is_ours = out.join(OUTPUT_MARKER).is_file();
            let is_empty = std::fs::read_dir(out).map_err(|e| self.failed(e))?.next().is_none();
            if !is_ours && !is_empty {
                return Err(self.failed(format!(
                    "it is not empty and was not written by shipc (no `{OUTPUT_MARKER}` in it); choose another directory"
                )));
            }
        }
        std::fs::create_dir_all(parent_of(out)).map_err(|e| self.failed(e))?;
        for leftover in [&self.staging, &self.previous] {
            if leftover.exists() {
                remove_tree(leftover).map_err(|e| self.failed(e))?;
            }
        }
        std::fs::create_dir_all(&self.staging).map_err(|e| self.failed(e))?;
        self.started = true;
        Ok(())
    }

    fn write(&mut self, file: OutputFile) -> Result<(), String> {
        self.pending.push(file);
        if self.pending.len() >= FILES_PER_FLUSH {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the pending files: their directories first, in order, then the files in parallel.
    fn flush(&mut self) -> Result<(), String> {
        self.start()?;
        let files: Vec<(PathBuf, String)> = std::mem::take(&mut self.pending)
            .into_iter()
            .map(|file| (self.staging.join(&file.path), file.contents))
            .collect();
        for (target, _) in &files {
            if let Some(dir) = target.parent()
                && !self.created.contains(dir)
            {
                std::fs::create_dir_all(dir).map_err(|e| self.failed(e))?;
                self.created.insert(dir.to_path_buf());
            }
        }
        let n_files = files.len();
        let written = parallel::map_owned(files, |(target, contents)| std::fs::write(target, contents));
        // The first failure in the order of the files, so that the message does not depend on the threads.
        if let Some(error) = written.into_iter().find_map(Result::err) {
            return Err(self.failed(error));
        }
        self.files += n_files;
        Ok(())
    }

    fn commit(mut self) -> Result<Written, String> {
        self.flush()?;
        let out = &self.out;
        std::fs::write(
            self.staging.join(OUTPUT_MARKER),
            "Written by shipc. This directory is replaced as a whole by every `shipc build`.\n",
        )
        .map_err(|e| self.failed(e))?;
        if out.exists() {
            std::fs::rename(out, &self.previous).map_err(|e| self.failed(e))?;
        }
        std::fs::rename(&self.staging, out).map_err(|e| self.failed(e))?;
        if self.previous.exists() {
            remove_tree(&self.previous).map_err(|e| self.failed(e))?;
        }
        Ok(Written {
            count: self.files,
            unit: "file",
            to: out.display().to_string(),
        })
    }

    fn abort(self) {
        if self.started {
            // Best effort: the staging directory is only ever a leftover, removed by the next build.
            let _ = remove_tree(&self.staging);
        }
    }
}

/// `std::fs::remove_dir_all`, with the directories in `dir` removed in parallel: an output directory
/// holds one directory per service, and removing a file costs the system as much as creating it.
fn remove_tree(dir: &Path) -> std::io::Result<()> {
    // As `remove_dir_all`, a symbolic link is removed, never followed.
    if !std::fs::symlink_metadata(dir)?.is_dir() {
        return std::fs::remove_dir_all(dir);
    }
    let entries = std::fs::read_dir(dir)?.collect::<std::io::Result<Vec<_>>>()?;
    let removed = parallel::map_owned(entries, |entry| match entry.file_type() {
        Ok(kind) if kind.is_dir() => std::fs::remove_dir_all(entry.path()),
        Ok(_) => std::fs::remove_file(entry.path()),
        Err(error) => Err(error),
    });
    removed.into_iter().collect::<std::io::Result<()>>()?;
    std::fs::remove_dir(dir)
}

/// Every object as one multi-document YAML stream, on standard output or in a file. A file is written
/// under a temporary name beside it and renamed over it by [`StreamOutput::commit`]. Kustomization
/// files configure kustomize and hold no object, so the stream leaves them out; each object keeps its
/// namespace in its metadata.
struct StreamOutput {
    /// The file, or `None` for standard output.
    target: Option<PathBuf>,
    writer: Option<std::io::BufWriter<Box<dyn Write + Send>>>,
    objects: usize,
}

impl StreamOutput {
    fn new(target: Option<PathBuf>) -> StreamOutput {
        StreamOutput {
            target,
            writer: None,
            objects: 0,
        }
    }

    fn name(&self) -> String {
        self.target.as_ref().map_or_else(
            || "standard output".to_string(),
            |target| format!("`{}`", target.display()),
        )
    }

    fn failed(&self, error: impl std::fmt::Display) -> String {
        format!("cannot write {}: {error}", self.name())
    }

    /// The temporary file a stream to `target` is written to.
    fn staging(target: &Path) -> PathBuf {
        let (staging, _) = temporary_names(target);
        staging
    }

    fn writer(&mut self) -> Result<&mut std::io::BufWriter<Box<dyn Write + Send>>, String> {
        if self.writer.is_none() {
            let sink: Box<dyn Write + Send> = match &self.target {
                None => Box::new(std::io::stdout()),
                Some(target) => {
                    std::fs::create_dir_all(parent_of(target)).map_err(|e| self.failed(e))?;
                    Box::new(std::fs::File::create(Self::staging(target)).map_err(|e| self.failed(e))?)
                }
            };
            self.writer = Some(std::io::BufWriter::with_capacity(1 << 16, sink));
        }
        self.writer.as_mut().ok_or_else(|| "the output is not open".to_string())
    }

    fn write(&mut self, file: OutputFile) -> Result<(), String> {
        if file.is_kustomization() {
            return Ok(());
        }
        let first = self.objects == 0;
        let result = self.writer().and_then(|writer| {
            let separator: &[u8] = if first { b"" } else { b"---\n" };
            writer
                .write_all(separator)
                .and_then(|()| writer.write_all(file.contents.as_bytes()))
                .map_err(|e| e.to_string())
        });
        result.map_err(|e| self.failed(e))?;
        self.objects += file.documents;
        Ok(())
    }

    fn commit(mut self) -> Result<Written, String> {
        let flushed = self
            .writer()
            .and_then(|writer| writer.flush().map_err(|e| e.to_string()));
        flushed.map_err(|e| self.failed(e))?;
        self.writer = None;
        if let Some(target) = &self.target {
            std::fs::rename(Self::staging(target), target).map_err(|e| self.failed(e))?;
        }
        Ok(Written {
            count: self.objects,
            unit: "object",
            to: self.name().trim_matches('`').to_string(),
        })
    }

    fn abort(mut self) {
        self.writer = None;
        if let Some(target) = &self.target {
            // Best effort: a leftover temporary file is overwritten by the next build.
            let _ = std::fs::remove_file(Self::staging(target));
        }
    }
}

fn project_root(common: &CommonArgs) -> Result<PathBuf, String> {
    project_directory(common.root.as_deref())
}

/// The directory given, or the current one, as an absolute path without links.
fn project_directory(given: Option<&Path>) -> Result<PathBuf, String> {
    let root = match given {
        Some(root) => root.to_path_buf(),
        None => std::env::current_dir().map_err(|error| format!("cannot read the current directory: {error}"))?,
    };
    root.canonicalize()
        .map_err(|error| format!("cannot use `{}` as the project root: {error}", root.display()))
}

fn exit_code(compilation: &Compilation) -> Option<ExitCode> {
    if compilation.unreadable_input {
        return Some(ExitCode::from(EXIT_USAGE));
    }
    compilation.has_errors().then(|| ExitCode::from(1))
}

fn graph(common: &CommonArgs, style: GraphStyle) -> Result<ExitCode, String> {
    let root = project_root(common)?;
    let roots = discover(&root, &common.paths)?;
    let loader = DiskLoader { root };
    let style = match style {
        GraphStyle::Mermaid => crate::graph::Style::Mermaid,
        GraphStyle::Dot => crate::graph::Style::Dot,
    };
    let (compilation, drawing) = crate::graph(&roots, &loader, style);
    report(&compilation, common.format);
    if let Some(code) = exit_code(&compilation) {
        return Ok(code);
    }
    print!("{}", drawing.unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}

/// Checks the modules to document and, when there is no error, writes their documentation (to a file
/// atomically, so that a failed run leaves the previous documentation whole).
fn doc(args: &DocArgs) -> Result<ExitCode, String> {
    let root = project_directory(args.root.as_deref())?;
    if let Some(out) = &args.out
        && out.is_dir()
    {
        return Err(format!("cannot write `{}`: it is a directory", out.display()));
    }
    let paths = match args.paths.as_slice() {
        [] if !args.stdlib => vec![PathBuf::from(".")],
        given => given.to_vec(),
    };
    let roots = discover(&root, &paths)?;
    let loader = DiskLoader { root };
    let (compilation, markdown) = crate::doc(&roots, &loader, args.stdlib);
    report(&compilation, args.format);
    if let Some(code) = exit_code(&compilation) {
        return Ok(code);
    }
    let text = format!(
        "{}{}",
        crate::doc::generated_note(&doc_command(args)),
        markdown.unwrap_or_default()
    );
    match &args.out {
        Some(out) => write_file(out, &text).map_err(|error| format!("cannot write `{}`: {error}", out.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The command line that writes this documentation again, for its first line. Diagnostics options
/// are left out: they do not change the text.
fn doc_command(args: &DocArgs) -> String {
    let mut words = vec!["shipc".to_string(), "doc".to_string()];
    words.extend(args.paths.iter().map(|path| path.display().to_string()));
    if args.stdlib {
        words.push("--stdlib".to_string());
    }
    if let Some(root) = &args.root {
        words.extend(["--root".to_string(), root.display().to_string()]);
    }
    if let Some(out) = &args.out {
        words.extend(["--out".to_string(), out.display().to_string()]);
    }
    words.join(" ")
}

/// Writes a file atomically: an existing one is replaced as `fmt` replaces sources, and a new one is
/// written beside its place under a temporary name, then renamed into it.
fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    if path.exists() {
        return replace_file(path, text);
    }
    let parent = parent_of(path);
    std::fs::create_dir_all(&parent)?;
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = parent.join(format!(".{name}.shipc-new"));
    write_synced(&temporary, text.as_bytes())?;
    std::fs::rename(&temporary, path)
}

/// Formats files in place (each replaced atomically), or with `check` lists those that would change.
/// A file with syntax errors is left alone and its errors are reported.
fn fmt(paths: &[PathBuf], check: bool) -> Result<ExitCode, String> {
    let root = project_directory(None)?;
    let files = discover(&root, paths)?;
    let loader = DiskLoader { root: root.clone() };
    let mut unformatted = Vec::new();
    let mut broken = Vec::new();
    for path in &files {
        let text = loader
            .load(path)
            .map_err(|error| format!("cannot read `{path}`: {}", error.describe()))?;
        match crate::format::format(&text) {
            Some(formatted) if formatted == text => {}
            Some(formatted) => {
                if !check {
                    replace_file(&root.join(path), &formatted)
                        .map_err(|error| format!("cannot write `{path}`: {error}"))?;
                }
                unformatted.push(path.clone());
            }
            None => broken.push(path.clone()),
        }
    }
    if !broken.is_empty() {
        let compilation = crate::check(&broken, &loader);
        report(&compilation, Format::Human);
        eprintln!(
            "shipc: {} not formatted: fix the syntax errors first",
            count(broken.len(), "file")
        );
        return Ok(ExitCode::from(1));
    }
    for path in &unformatted {
        println!("{path}");
    }
    if check && !unformatted.is_empty() {
        eprintln!(
            "shipc: {} not in the canonical layout; `shipc fmt` rewrites them",
            count(unformatted.len(), "file")
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes beside the file and renames over it, so an interrupted run leaves the old text whole. A
/// symbolic link is followed (the file it points to is rewritten, the link stays), and the file keeps
/// its permissions.
fn replace_file(path: &Path, text: &str) -> std::io::Result<()> {
    let path = path.canonicalize()?;
    let permissions = std::fs::metadata(&path)?.permissions();
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.shipc-fmt"));
    write_synced(&temporary, text.as_bytes())?;
    std::fs::set_permissions(&temporary, permissions)?;
    std::fs::rename(&temporary, &path)
}

/// Writes a file and waits until its bytes are on disk, so that a rename after it never exposes an
/// empty or partial file after a power loss.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Scaffolds a service (and a platform when the project has none), checks the result as it will be
/// on disk, and writes it only when it checks clean.
fn init(args: &InitArgs) -> Result<ExitCode, String> {
    let dir = project_directory(args.dir.as_deref())?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .ok_or("give the service a name: `shipc init NAME`")?,
    };
    let platform = match find_platform(&dir) {
        Some(path) => crate::scaffold::Platform::Existing(format!("./{}", path.trim_end_matches(".ship"))),
        None => crate::scaffold::Platform::New(crate::scaffold::PlatformSettings {
            registry: args.registry.clone(),
            namespace: args.namespace.clone(),
            prometheus: args.prometheus.clone(),
        }),
    };
    let files = crate::scaffold::service(&name, &platform)?;
    for file in &files {
        if dir.join(&file.path).exists() {
            return Err(format!("`{}` exists already; nothing was written", file.path));
        }
    }
    let loader = OverlayLoader {
        files: &files,
        disk: DiskLoader { root: dir.clone() },
    };
    // The whole project with the new files, so that a clash with what exists (a service of the same
    // name elsewhere) is caught before anything is written.
    let mut roots = discover(&dir, std::slice::from_ref(&dir)).unwrap_or_default();
    roots.extend(files.iter().map(|file| file.path.clone()));
    roots.sort();
    roots.dedup();
    let compilation = crate::check(&roots, &loader);
    report(&compilation, Format::Human);
    if let Some(code) = exit_code(&compilation) {
        eprintln!("shipc: the new files would not check clean with this project; nothing was written");
        return Ok(code);
    }
    for file in &files {
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join(&file.path))
            .and_then(|mut handle| handle.write_all(file.contents.as_bytes()));
        written.map_err(|error| format!("cannot write `{}`: {error}", file.path))?;
    }
    let written: Vec<&str> = files.iter().map(|file| file.path.as_str()).collect();
    eprintln!(
        "shipc: created {}; `shipc build . --out manifests` compiles the project",
        written.join(" and ")
    );
    Ok(ExitCode::SUCCESS)
}

/// The project-relative path of a file that declares a `platform`, if any does (the first by path).
fn find_platform(dir: &Path) -> Option<String> {
    let roots = discover(dir, &[dir.to_path_buf()]).ok()?;
    let loader = DiskLoader {
        root: dir.to_path_buf(),
    };
    roots.into_iter().find(|path| {
        let Ok(text) = loader.load(path) else {
            return false;
        };
        let mut sources = crate::source::SourceMap::new();
        let source = sources.add(path.clone(), text);
        let mut ignored = crate::diagnostics::Diagnostics::new();
        let file = crate::syntax::parse(source, sources.file(source).text(), &mut ignored);
        file.items
            .iter()
            .any(|item| matches!(item, crate::syntax::ast::Item::Platform(_)))
    })
}

/// The files about to be written, seen as if they were on disk already.
struct OverlayLoader<'a> {
    files: &'a [OutputFile],
    disk: DiskLoader,
}

impl Loader for OverlayLoader<'_> {
    fn load(&self, path: &str) -> Result<String, LoadError> {
        match self.files.iter().find(|file| file.path == path) {
            Some(file) => Ok(file.contents.clone()),
            None => self.disk.load(path),
        }
    }
}

fn report(compilation: &Compilation, format: Format) {
    match format {
        Format::Json => print!(
            "{}",
            render::json::render(&compilation.diagnostics, &compilation.sources)
        ),
        Format::Sarif => print!(
            "{}",
            render::sarif::render(&compilation.diagnostics, &compilation.sources)
        ),
        Format::Short => print!(
            "{}",
            render::short::render(&compilation.diagnostics, &compilation.sources)
        ),
        Format::Human => {
            let stderr = std::io::stderr();
            let options = RenderOptions {
                color: stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()),
                width: terminal_width(),
            };
            let text = render::human::render(&compilation.diagnostics, &compilation.sources, options);
            let mut handle = stderr.lock();
            let _ = handle.write_all(text.as_bytes());
            let n_errors = compilation
                .diagnostics
                .iter()
                .filter(|d| d.severity() == crate::Severity::Error)
                .count();
            let n_warnings = compilation.diagnostics.len() - n_errors;
            if n_errors + n_warnings > 0 {
                let _ = writeln!(
                    handle,
                    "shipc: {}, {}",
                    count(n_errors, "error"),
                    count(n_warnings, "warning")
                );
            }
        }
    }
}

fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|columns| columns.parse::<usize>().ok())
        .filter(|columns| (40..=400).contains(columns))
        .unwrap_or(100)
}

/// The project-relative paths of the `.ship` files named by `paths`, sorted and without repeats.
fn discover(root: &Path, paths: &[PathBuf]) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    for path in paths {
        let absolute = path
            .canonicalize()
            .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
        if !absolute.starts_with(root) {
            return Err(format!(
                "`{}` is outside the project root `{}`; run shipc from the project root or pass `--root`",
                path.display(),
                root.display()
            ));
        }
        if absolute.is_file() {
            found.push(relative(root, &absolute)?);
            continue;
        }
        let n_before = found.len();
        let walker = walkdir::WalkDir::new(&absolute)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| entry.depth() == 0 || !entry.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            let entry = entry.map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
            let is_ship = entry.path().extension().is_some_and(|ext| ext == "ship");
            if is_ship && !entry.file_type().is_dir() {
                found.push(relative(root, entry.path())?);
            }
        }
        if found.len() == n_before {
            return Err(format!("no .ship files in `{}`", path.display()));
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// `path` relative to `root`, with `/` separators.
fn relative(root: &Path, path: &Path) -> Result<String, String> {
    let relative = path
        .strip_prefix(root)
        .map_err(|_| format!("`{}` is outside the project root", path.display()))?;
    let mut parts = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(
                part.to_str()
                    .ok_or_else(|| format!("`{}` is not a UTF-8 path", path.display()))?
                    .to_string(),
            ),
            _ => return Err(format!("unexpected path `{}`", path.display())),
        }
    }
    Ok(parts.join("/"))
}

/// Reads project files from disk, refusing any that resolve outside the root.
struct DiskLoader {
    root: PathBuf,
}

impl Loader for DiskLoader {
    fn load(&self, path: &str) -> Result<String, LoadError> {
        let full = self.root.join(path);
        let canonical = full.canonicalize().map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => LoadError::NotFound,
            _ => LoadError::Io(error.to_string()),
        })?;
        if !canonical.starts_with(&self.root) {
            return Err(LoadError::OutsideProject);
        }
        let metadata = std::fs::metadata(&canonical).map_err(|error| LoadError::Io(error.to_string()))?;
        if !metadata.is_file() {
            return Err(LoadError::Io("it is not a regular file".to_string()));
        }
        if metadata.len() > MAX_SOURCE_LEN as u64 {
            return Err(LoadError::TooLarge { bytes: metadata.len() });
        }
        let bytes = std::fs::read(&canonical).map_err(|error| LoadError::Io(error.to_string()))?;
        String::from_utf8(bytes).map_err(|error| {
            let valid_up_to = error.utf8_error().valid_up_to();
            LoadError::NotUtf8 {
                text: String::from_utf8_lossy(error.as_bytes()).into_owned(),
                valid_up_to,
            }
        })
    }
}

/// Marks a directory as shipc's output, which `build` may replace.
const OUTPUT_MARKER: &str = ".shipc-output";

/// The directory `out` is in.
fn parent_of(out: &Path) -> PathBuf {
    match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Where the next output is staged, and where the previous one waits while the two are swapped.
fn temporary_names(out: &Path) -> (PathBuf, PathBuf) {
    let name = out
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = parent_of(out);
    (
        parent.join(format!(".{name}.shipc-new")),
        parent.join(format!(".{name}.shipc-old")),
    )
}

/// A build killed between its two renames (`kill -9`, an out-of-memory kill) left the previous output under
/// its temporary name: put it back before anything else, so that it is never lost.
fn recover_interrupted_output(out: &Path) -> Result<(), String> {
    let (_, previous) = temporary_names(out);
    if !out.exists() && previous.join(OUTPUT_MARKER).is_file() {
        std::fs::rename(&previous, out).map_err(|error| format!("cannot restore `{}`: {error}", out.display()))?;
    }
    Ok(())
}

/// Exit codes of `simulate` and `preflight` beyond 0, 1 and 2: the release would roll back, would
/// pause, or did not end as `--expect` said.
const EXIT_ROLLBACK: u8 = 3;
const EXIT_PAUSE: u8 = 4;
const EXIT_UNEXPECTED: u8 = 5;

fn simulate(args: &SimulateArgs) -> Result<ExitCode, String> {
    let root = project_directory(args.replay.root.as_deref())?;
    let data = read_data_dir(&root, &args.metrics)?;
    let (prepared, mut options) = match prepare_replay(&args.replay, &root, Some(data))? {
        Ok(prepared) => prepared,
        Err(code) => return Ok(code),
    };
    options.start_ms = match &args.start {
        Some(text) => parse_time_arg(text)?,
        None => prepared
            .recorded
            .first_ms()
            .ok_or_else(|| format!("`{}` holds no samples; give --start", args.metrics.display()))?,
    };
    let mut recorded = prepared.recorded;
    let report = crate::simulate::replay(&prepared.release, &mut recorded, &options)?;
    finish_replay(&args.replay, &report, "simulate")
}

fn preflight(args: &PreflightArgs) -> Result<ExitCode, String> {
    let root = project_directory(args.replay.root.as_deref())?;
    let (prepared, mut options) = match prepare_replay(&args.replay, &root, None)? {
        Ok(prepared) => prepared,
        Err(code) => return Ok(code),
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|error| format!("the clock is before 1970: {error}"))?
        .as_millis();
    let now_ms = i64::try_from(now_ms).map_err(|_| "the clock is beyond any date Prometheus stores".to_string())?;
    options.start_ms = match (&args.at, &args.window) {
        (Some(at), _) => parse_time_arg(at)?,
        (None, Some(window)) => {
            let ms = crate::simulate::go_duration_ms(window);
            if ms <= 0 {
                return Err(format!("`{window}` is not a duration such as `1h` or `30m`"));
            }
            now_ms - ms
        }
        (None, None) => now_ms - prepared.release.nominal_ms(),
    };
    let (url, user_info) = crate::simulate::live::split_user_info(&args.prometheus);
    let authorization = match (&args.bearer_token_file, user_info) {
        (Some(file), _) => {
            let token =
                std::fs::read_to_string(file).map_err(|error| format!("cannot read `{}`: {error}", file.display()))?;
            Some(format!("Bearer {}", token.trim()))
        }
        (None, Some(user_info)) => Some(crate::simulate::live::basic_authorization(&user_info)),
        (None, None) => None,
    };
    let connection = crate::simulate::live::Connection {
        url,
        authorization,
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
    };
    let mut prometheus = crate::simulate::live::Prometheus::new(connection, now_ms);
    prometheus.probe()?;
    let report = crate::simulate::replay(&prepared.release, &mut prometheus, &options)?;
    if let Some(dir) = &args.record {
        record_window(&mut prometheus, &report, dir, now_ms)?;
    }
    finish_replay(&args.replay, &report, "preflight")
}

/// Compiles the project and finds the release; the inner `Err` is the exit code when the sources or
/// data had errors (reported).
fn prepare_replay(
    args: &ReplayArgs,
    root: &Path,
    data: Option<Vec<crate::simulate::DataFile>>,
) -> Result<Result<(crate::simulate::Prepared, crate::simulate::Options), ExitCode>, String> {
    let mut options = crate::simulate::Options {
        failing_checks: args.fail_checks.iter().cloned().collect(),
        ..Default::default()
    };
    for arg in &args.args {
        let (name, value) = arg
            .split_once('=')
            .ok_or_else(|| format!("--arg `{arg}` is not NAME=VALUE"))?;
        options.args.insert(name.to_string(), value.to_string());
    }
    let roots = discover(root, &args.paths)?;
    let loader = DiskLoader {
        root: root.to_path_buf(),
    };
    let request = crate::simulate::Request {
        service: args.service.clone(),
        environment: args.environment.clone(),
        data,
    };
    let (compilation, prepared) = crate::simulate(&roots, &loader, &request);
    report(&compilation, args.format);
    if let Some(code) = exit_code(&compilation) {
        return Ok(Err(code));
    }
    match prepared {
        Some(prepared) => Ok(Ok((prepared?, options))),
        None => Ok(Err(ExitCode::from(1))),
    }
}

fn finish_replay(args: &ReplayArgs, report: &crate::simulate::Report, title: &str) -> Result<ExitCode, String> {
    use crate::simulate::Verdict;
    print!("{}", crate::simulate::render::timeline(report, title));
    let expected = args.expect.map(|expected| match expected {
        ExpectedVerdict::Promote => Verdict::Promote,
        ExpectedVerdict::Rollback => Verdict::Rollback,
        ExpectedVerdict::Pause => Verdict::Pause,
    });
    Ok(ExitCode::from(match (expected, report.verdict) {
        (Some(expected), verdict) if expected == verdict => 0,
        (Some(expected), verdict) => {
            eprintln!(
                "shipc: expected the release to {}, but it would {}",
                expected.as_str(),
                verdict.as_str()
            );
            EXIT_UNEXPECTED
        }
        (None, Verdict::Promote) => 0,
        (None, Verdict::Rollback) => EXIT_ROLLBACK,
        (None, Verdict::Pause) => EXIT_PAUSE,
    }))
}

/// Saves the range answer of every query of the release (those the preflight did not reach too), from the release start to the end of the
/// window it needs (plus room for retried errors), never past now.
fn record_window(
    prometheus: &mut crate::simulate::live::Prometheus,
    report: &crate::simulate::Report,
    dir: &Path,
    now_ms: i64,
) -> Result<(), String> {
    const ERROR_ROOM_MS: i64 = 5 * 60 * 1000;
    let end_ms = (report.start_ms + report.release.nominal_ms() + ERROR_ROOM_MS).min(now_ms);
    for analysis in report.release.analyses() {
        for metric in &analysis.metrics {
            let crate::simulate::MetricSource::Prometheus { query, .. } = &metric.source else {
                continue;
            };
            let query = crate::simulate::resolve(query, &report.args);
            let body = prometheus.range(&query, report.start_ms, end_ms, 15)?;
            let path = dir.join(&analysis.template).join(format!("{}.json", metric.spec.name));
            write_file(&path, &body).map_err(|error| format!("cannot write `{}`: {error}", path.display()))?;
        }
    }
    Ok(())
}

fn parse_time_arg(text: &str) -> Result<i64, String> {
    crate::simulate::render::parse_time(text)
        .ok_or_else(|| format!("`{text}` is not a time: write 2026-11-23T10:00:00Z or seconds since the epoch"))
}

/// The data files in `dir` and its subdirectories one level down, named by their path inside it.
fn read_data_dir(root: &Path, dir: &Path) -> Result<Vec<crate::simulate::DataFile>, String> {
    if !dir.is_dir() {
        return Err(format!("`{}` is not a directory of recorded data", dir.display()));
    }
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(dir).max_depth(2).sort_by_file_name();
    for entry in walker {
        let entry = entry.map_err(|error| format!("cannot read `{}`: {error}", dir.display()))?;
        let name = relative(dir, entry.path()).unwrap_or_default();
        let is_data = crate::simulate::DATA_EXTENSIONS.iter().any(|ext| name.ends_with(ext));
        if !is_data || !entry.file_type().is_file() {
            continue;
        }
        let size = entry.metadata().map(|metadata| metadata.len()).unwrap_or(0);
        if size > MAX_SOURCE_LEN as u64 {
            return Err(format!(
                "`{}` is larger than shipc reads (16 MiB)",
                entry.path().display()
            ));
        }
        let text = std::fs::read_to_string(entry.path())
            .map_err(|error| format!("cannot read `{}`: {error}", entry.path().display()))?;
        let shown = entry
            .path()
            .canonicalize()
            .ok()
            .and_then(|absolute| relative(root, &absolute).ok())
            .unwrap_or_else(|| entry.path().display().to_string());
        files.push(crate::simulate::DataFile {
            path: shown,
            name,
            text,
        });
    }
    Ok(files)
}

/// A panic is a bug in shipc: say so, with what a report needs, and exit with the usage code.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "shipc: internal error: {info}\n\nThis is a bug in shipc {} ({} {}), not in your files.\nPlease report it with the input that triggers it and this message.\nat {location}",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH,
        );
        std::process::exit(i32::from(EXIT_USAGE));
    }));
}
