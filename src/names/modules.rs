//! Loading modules: the files given to the compiler and every file or standard library module they
//! import, each read and parsed exactly once, through a [`Loader`] so that the library itself does no IO.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::diagnostics::{Code, Diagnostic, Diagnostics, suggest};
use crate::source::{MAX_SOURCE_LEN, SourceId, SourceMap, Span};
use crate::stdlib;
use crate::syntax::{self, ast};

/// Reads project files. The CLI reads the disk under the project root; tests and fuzzing read memory.
/// A project's files are read from several threads at once.
pub trait Loader: Sync {
    /// The text of the file at `path`, a normalized project-relative path with `/` separators.
    fn load(&self, path: &str) -> Result<String, LoadError>;
}

/// Why a file could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// No such file.
    NotFound,
    /// The path resolves (through a symbolic link) to somewhere outside the project root.
    OutsideProject,
    /// The bytes are not UTF-8; `text` is the lossy decoding and `valid_up_to` where the first bad byte is.
    NotUtf8 {
        /// The text with invalid sequences replaced.
        text: String,
        /// Byte offset of the first invalid sequence.
        valid_up_to: usize,
    },
    /// The file is larger than [`MAX_SOURCE_LEN`].
    TooLarge {
        /// Its size in bytes.
        bytes: u64,
    },
    /// Any other failure to read, with the system's words.
    Io(String),
}

impl LoadError {
    /// Why the file could not be loaded, in words.
    pub fn describe(&self) -> String {
        match self {
            LoadError::NotFound => "no such file".to_string(),
            LoadError::OutsideProject => "it resolves to a place outside the project root".to_string(),
            LoadError::NotUtf8 { .. } => "it is not UTF-8 text".to_string(),
            LoadError::TooLarge { bytes } => format!(
                "it is {} MiB; shipc reads files of up to {} MiB",
                bytes.div_ceil(1024 * 1024),
                MAX_SOURCE_LEN / (1024 * 1024)
            ),
            LoadError::Io(reason) => reason.clone(),
        }
    }
}

/// Identifies a module; an index into [`Modules::modules`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleId(pub usize);

/// One loaded file.
#[derive(Debug)]
pub struct Module {
    /// Project-relative path.
    pub path: String,
    /// Its source.
    pub source: SourceId,
    /// Its syntax tree.
    pub ast: ast::File,
    /// The modules it imports, with the span of each `import`, in source order.
    pub imports: Vec<(ModuleId, Span)>,
}

/// Every module of a compilation.
#[derive(Debug, Default)]
pub struct Modules {
    /// In load order.
    pub modules: Vec<Module>,
    /// True when a file given to the compiler could not be read at all (an IO failure, not a mistake
    /// in the sources).
    pub unreadable_root: bool,
    /// True when a standard library module was parsed in part (see [`StdlibParse::Mentioned`]).
    pub stdlib_in_part: bool,
}

/// How much of an imported standard library module is parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdlibParse {
    /// All of it.
    Whole,
    /// When the project is small (its files hold at most [`MENTION_SCAN_LIMIT`] bytes), only the
    /// declarations its files mention by name and those that these mention in turn
    /// ([`syntax::parse_mentioned`]); all of it otherwise.
    ///
    /// A program that checks without errors this way is the same program as with the whole standard
    /// library: what is left out is never referred to, and the standard library reports nothing on its
    /// own (a unit test in src/stdlib.rs checks each module). Errors can differ: one that lists what a
    /// module offers lists only what was parsed, which is why `shipc` checks again with the whole
    /// standard library before it reports errors.
    Mentioned,
}

/// The most source text scanned for names under [`StdlibParse::Mentioned`], about 30 services. Scanning
/// is some 50 times cheaper per byte than parsing, but beyond this the whole standard library is a
/// small part of the work and the scan would cost more than it saves.
pub const MENTION_SCAN_LIMIT: usize = 64 * 1024;

/// Loads the `roots` and, transitively, everything they import.
pub fn load(
    roots: &[String],
    loader: &dyn Loader,
    stdlib_parse: StdlibParse,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Modules {
    let mut state = LoadState {
        loader,
        sources,
        diagnostics,
        by_path: BTreeMap::new(),
        modules: Modules::default(),
        pending: VecDeque::new(),
        deferred_stdlib: Some(Vec::new()),
    };
    // The roots are read in parallel, added to the source map in order, parsed in parallel (each file on
    // its own, into its own collector), then registered in order: ids, diagnostics and hence output do
    // not depend on the threads.
    let mut to_read: Vec<&String> = Vec::with_capacity(roots.len());
    for root in roots {
        if !state.by_path.contains_key(root) {
            // Claimed now so that a root given twice is read once; set to its id once registered.
            state.by_path.insert(root.clone(), None);
            to_read.push(root);
        }
    }
    let read = crate::parallel::map(&to_read, |root| match stdlib::module(root) {
        // `shipc doc --stdlib` documents the standard library by giving its modules as roots; they are
        // embedded, as when they are imported, so the loader never sees their paths.
        Some(text) => Ok(text.to_string()),
        None => read(loader, root),
    });
    let mut to_parse: Vec<(&String, SourceId)> = Vec::with_capacity(to_read.len());
    for (root, text) in to_read.into_iter().zip(read) {
        match text {
            Ok(text) => to_parse.push((root, state.sources.add(root, text))),
            Err(LoadError::NotUtf8 { text, valid_up_to }) => state.add_not_utf8(root, text, valid_up_to),
            Err(error @ LoadError::TooLarge { .. }) => {
                let source = state.sources.add(root.clone(), String::new());
                state.diagnostics.push(
                    Diagnostic::new(
                        Code::E0108,
                        Span::new(source, 0, 0),
                        format!("`{root}` is too large to compile"),
                    )
                    .note(error.describe())
                    .help("split it into several files that import each other"),
                );
            }
            Err(error) => {
                state.by_path.remove(root);
                state.modules.unreadable_root = true;
                let source = state.sources.add(root.clone(), String::new());
                state.diagnostics.push(Diagnostic::new(
                    Code::E0203,
                    Span::new(source, 0, 0),
                    format!("cannot read `{root}`: {}", error.describe()),
                ));
            }
        }
    }
    let sources: &SourceMap = state.sources;
    let parsed = crate::parallel::map(&to_parse, |(_, source)| {
        let mut diagnostics = Diagnostics::new();
        let ast = syntax::parse(*source, sources.file(*source).text(), &mut diagnostics);
        (ast, diagnostics)
    });
    for ((root, source), (ast, diagnostics)) in to_parse.into_iter().zip(parsed) {
        state.diagnostics.append(diagnostics);
        state.register(root, source, ast);
    }
    state.follow_imports();
    // The standard library modules imported by the project's files are parsed once those files are
    // all loaded, when it is known what they mention.
    if let Some(deferred) = state.deferred_stdlib.take()
        && !deferred.is_empty()
    {
        state.parse_stdlib(&deferred, stdlib_parse);
        state.follow_imports();
    }
    state.modules
}

/// Loads a file, refusing one too large to compile whatever the loader.
fn read(loader: &dyn Loader, path: &str) -> Result<String, LoadError> {
    let text = loader.load(path)?;
    if text.len() > MAX_SOURCE_LEN {
        return Err(LoadError::TooLarge {
            bytes: text.len() as u64,
        });
    }
    Ok(text)
}

struct LoadState<'a> {
    loader: &'a dyn Loader,
    sources: &'a mut SourceMap,
    diagnostics: &'a mut Diagnostics,
    by_path: BTreeMap<String, Option<ModuleId>>,
    modules: Modules,
    pending: VecDeque<(ModuleId, Vec<(String, Span)>)>,
    /// Standard library modules imported so far, waiting to be parsed; `None` once they have been, when
    /// any imported later (by a standard library module) are parsed at once.
    deferred_stdlib: Option<Vec<(ModuleId, SourceId)>>,
}

impl LoadState<'_> {
    /// Loads what the queued modules import, breadth first: a long chain of imports cannot exhaust the
    /// stack as recursion would.
    fn follow_imports(&mut self) {
        while let Some((id, specs)) = self.pending.pop_front() {
            let importer = self
                .modules
                .modules
                .get(id.0)
                .map(|m| m.path.clone())
                .unwrap_or_default();
            let mut imports = Vec::new();
            for (spec, span) in specs {
                if let Some(imported) = self.import(&importer, &spec, span) {
                    imports.push((imported, span));
                }
            }
            if let Some(module) = self.modules.modules.get_mut(id.0) {
                module.imports = imports;
            }
        }
    }

    /// Parses the `deferred` standard library modules (registered with empty trees) and queues their
    /// imports.
    fn parse_stdlib(&mut self, deferred: &[(ModuleId, SourceId)], stdlib_parse: StdlibParse) {
        let sources: &SourceMap = self.sources;
        let scanned: Vec<&str> = self
            .modules
            .modules
            .iter()
            .enumerate()
            .filter(|(idx, _)| !deferred.iter().any(|(id, _)| id.0 == *idx))
            .map(|(_, module)| sources.file(module.source).text())
            .collect();
        let in_part = stdlib_parse == StdlibParse::Mentioned
            && scanned.iter().map(|text| text.len()).sum::<usize>() <= MENTION_SCAN_LIMIT;
        let mentioned: BTreeSet<&str> = if in_part {
            scanned.iter().flat_map(|text| syntax::chunks::words(text)).collect()
        } else {
            BTreeSet::new()
        };
        let parsed = crate::parallel::map(deferred, |(_, source)| {
            let mut diagnostics = Diagnostics::new();
            let text = sources.file(*source).text();
            let ast = if in_part {
                syntax::parse_mentioned(*source, text, |name| mentioned.contains(name), &mut diagnostics)
            } else {
                syntax::parse(*source, text, &mut diagnostics)
            };
            (ast, diagnostics)
        });
        self.modules.stdlib_in_part |= in_part;
        for ((id, _), (ast, diagnostics)) in deferred.iter().zip(parsed) {
            self.diagnostics.append(diagnostics);
            let specs = self.import_specs(&ast);
            if let Some(module) = self.modules.modules.get_mut(id.0) {
                module.ast = ast;
            }
            self.pending.push_back((*id, specs));
        }
    }

    /// Parses a loaded file and queues its imports. Returns its id.
    fn add(&mut self, path: &str, text: String) -> ModuleId {
        let source = self.sources.add(path, text);
        let ast = syntax::parse(source, self.sources.file(source).text(), self.diagnostics);
        self.register(path, source, ast)
    }

    /// Records a parsed file as a module and queues its imports. Returns its id.
    fn register(&mut self, path: &str, source: SourceId, ast: ast::File) -> ModuleId {
        let id = ModuleId(self.modules.modules.len());
        self.by_path.insert(path.to_string(), Some(id));
        let import_specs = self.import_specs(&ast);
        self.modules.modules.push(Module {
            path: path.to_string(),
            source,
            ast,
            imports: Vec::new(),
        });
        self.pending.push_back((id, import_specs));
        id
    }

    /// Registers a standard library module to be parsed with the others once the project's files are
    /// loaded. Returns its id.
    fn defer_stdlib(&mut self, path: &str, text: &str) -> ModuleId {
        let source = self.sources.add(path, text.to_string());
        let id = ModuleId(self.modules.modules.len());
        self.by_path.insert(path.to_string(), Some(id));
        self.modules.modules.push(Module {
            path: path.to_string(),
            source,
            ast: ast::File {
                source,
                items: Vec::new(),
                unparsed: Vec::new(),
            },
            imports: Vec::new(),
        });
        if let Some(deferred) = self.deferred_stdlib.as_mut() {
            deferred.push((id, source));
        }
        id
    }

    /// The paths a file imports, with the span of each; an import path with an interpolation is
    /// reported and left out.
    fn import_specs(&mut self, ast: &ast::File) -> Vec<(String, Span)> {
        ast.items
            .iter()
            .filter_map(|item| match item {
                ast::Item::Import(import) => Some((import, import.path.as_plain())),
                _ => None,
            })
            .filter_map(|(import, spec)| match spec {
                Some(spec) => Some((spec, import.path.span)),
                None => {
                    self.diagnostics.push(
                        Diagnostic::new(Code::E0203, import.path.span, "an import path cannot contain `${...}`")
                            .label("the path must be known before anything is evaluated")
                            .help("write the path literally, e.g. `import \"./platform\"`"),
                    );
                    None
                }
            })
            .collect()
    }

    fn add_not_utf8(&mut self, path: &str, text: String, valid_up_to: usize) {
        let source = self.sources.add(path, text);
        self.by_path.insert(path.to_string(), None);
        let start = valid_up_to as u32;
        let width = self
            .sources
            .file(source)
            .text()
            .get(valid_up_to..)
            .and_then(|r| r.chars().next())
            .map_or(0, char::len_utf8);
        self.diagnostics.push(
            Diagnostic::new(
                Code::E0107,
                Span::new(source, start, start + width as u32),
                "this file is not valid UTF-8",
            )
            .label("invalid byte sequence here")
            .help("save the file as UTF-8"),
        );
    }

    /// Resolves and loads one import; `None` when it fails (after reporting why).
    fn import(&mut self, importer: &str, spec: &str, span: Span) -> Option<ModuleId> {
        let path = match resolve_import_path(importer, spec) {
            Ok(path) => path,
            Err(diagnostic) => {
                self.diagnostics.push(diagnostic(span));
                return None;
            }
        };
        if let Some(known) = self.by_path.get(&path) {
            return *known;
        }
        if let Some(text) = stdlib::module(&path) {
            if self.deferred_stdlib.is_some() {
                return Some(self.defer_stdlib(&path, text));
            }
            return Some(self.add(&path, text.to_string()));
        }
        match read(self.loader, &path) {
            Ok(text) => Some(self.add(&path, text)),
            Err(LoadError::NotUtf8 { text, valid_up_to }) => {
                self.add_not_utf8(&path, text, valid_up_to);
                None
            }
            Err(LoadError::OutsideProject) => {
                self.by_path.insert(path.clone(), None);
                self.diagnostics.push(
                    outside_project(span, spec)
                        .note(format!("`{path}` is a symbolic link that leads out of the project")),
                );
                None
            }
            Err(error @ LoadError::TooLarge { .. }) => {
                self.by_path.insert(path.clone(), None);
                self.diagnostics.push(
                    Diagnostic::new(Code::E0108, span, format!("`{path}` is too large to compile"))
                        .label(error.describe())
                        .help("split it into several files that import each other"),
                );
                None
            }
            Err(error) => {
                self.by_path.insert(path.clone(), None);
                self.diagnostics.push(
                    Diagnostic::new(Code::E0203, span, format!("cannot import `{spec}`"))
                        .label(format!("`{path}`: {}", error.describe()))
                        .help("import paths are relative to the importing file, and `.ship` is added when left out"),
                );
                None
            }
        }
    }
}

type PendingDiagnostic = Box<dyn FnOnce(Span) -> Diagnostic>;

/// The path of the module an import names: a project-relative file path, or `std/<name>` for a
/// standard library module; or the diagnostic (waiting for its span) that says why it names none.
pub fn resolve_import_path(importer: &str, spec: &str) -> Result<String, PendingDiagnostic> {
    if spec.starts_with("std/") {
        if stdlib::module(spec).is_some() {
            return Ok(spec.to_string());
        }
        let spec = spec.to_string();
        return Err(Box::new(move |span| {
            let mut known: Vec<String> = stdlib::module_paths().map(|path| format!("`{path}`")).collect();
            let last = known.pop().unwrap_or_default();
            let listed = if known.is_empty() {
                last
            } else {
                format!("{} and {last}", known.join(", "))
            };
            Diagnostic::new(
                Code::E0203,
                span,
                format!("there is no standard library module `{spec}`"),
            )
            .label("unknown module")
            .maybe_help(suggest::help_for(&spec, stdlib::module_paths()))
            .note(format!("the standard library has {listed}"))
        }));
    }
    if stdlib::module(importer).is_some() {
        let spec = spec.to_string();
        return Err(Box::new(move |span| {
            Diagnostic::new(Code::E0203, span, format!("cannot import `{spec}`"))
                .label("a standard library module imports only other `std/...` modules")
        }));
    }
    if !(spec.starts_with("./") || spec.starts_with("../")) {
        let spec = spec.to_string();
        if spec.starts_with('/') {
            return Err(Box::new(move |span| outside_project(span, &spec)));
        }
        return Err(Box::new(move |span| {
            let standard = format!("std/{spec}");
            let diagnostic = Diagnostic::new(Code::E0203, span, format!("cannot import `{spec}`"))
                .label("not a path relative to this file, nor a `std/...` module");
            if stdlib::module(&standard).is_some() {
                diagnostic.help(format!(
                    "to import the standard library module, write `import \"{standard}\"`"
                ))
            } else {
                diagnostic.help(format!("start the path with `./` or `../`, e.g. `import \"./{spec}\"`"))
            }
        }));
    }
    let mut segments: Vec<&str> = importer.split('/').collect();
    segments.pop();
    for segment in spec.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    let spec = spec.to_string();
                    return Err(Box::new(move |span| outside_project(span, &spec)));
                }
            }
            other => segments.push(other),
        }
    }
    let mut path = segments.join("/");
    if !path.ends_with(".ship") {
        path.push_str(".ship");
    }
    Ok(path)
}

fn outside_project(span: Span, spec: &str) -> Diagnostic {
    Diagnostic::new(Code::E0205, span, format!("the import `{spec}` leaves the project"))
        .label("this path is outside the project root")
        .help("imports must stay inside the project root; pass `--root` to shipc if the project is larger")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_imported_by_many_files_is_loaded_once() {
        let mut loader = MemoryLoader::new();
        for root in ["a.ship", "b.ship", "c/d.ship"] {
            let up = if root.contains('/') { "../" } else { "./" };
            loader.insert(
                root,
                format!("import \"{up}lib\"\nimport \"std/checks\" as checks\nimport {{ x }} from \"{up}lib\"\n"),
            );
        }
        loader.insert("lib.ship", "import \"std/checks\"\n");
        let roots: Vec<String> = ["a.ship", "b.ship", "c/d.ship"].map(String::from).to_vec();
        let mut sources = SourceMap::new();
        let mut diagnostics = Diagnostics::new();
        let modules = load(&roots, &loader, StdlibParse::Mentioned, &mut sources, &mut diagnostics);
        let paths: Vec<&str> = modules.modules.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["a.ship", "b.ship", "c/d.ship", "lib.ship", "std/checks"]);
        assert_eq!(sources.files().count(), 5, "every module is read and parsed once");
        assert!(diagnostics.is_empty());
    }

    #[test]
    fn import_paths_resolve_relative_to_the_importer() {
        let cases = [
            ("services/a.ship", "../platform", Some("platform.ship")),
            ("services/a.ship", "./b", Some("services/b.ship")),
            ("a.ship", "./lib/m.ship", Some("lib/m.ship")),
            ("x/y/a.ship", "./../../z", Some("z.ship")),
            ("a.ship", "../outside", None),
            ("a.ship", "/etc/passwd", None),
            ("a.ship", "std/nothing", None),
            ("a.ship", "std/checks", Some("std/checks")),
            ("a.ship", "checks", None),
            ("std/checks", "./a", None),
        ];
        for (importer, spec, expected) in cases {
            assert_eq!(
                resolve_import_path(importer, spec).ok().as_deref(),
                expected,
                "{importer} {spec}"
            );
        }
    }

    #[test]
    fn a_standard_library_module_given_as_a_root_is_embedded_not_loaded() {
        let mut sources = SourceMap::new();
        let mut diagnostics = Diagnostics::new();
        let loaded = load(
            &["std/checks".to_string()],
            &MemoryLoader::new(),
            StdlibParse::Mentioned,
            &mut sources,
            &mut diagnostics,
        );
        assert!(diagnostics.is_empty() && !loaded.unreadable_root);
        let paths: Vec<&str> = loaded.modules.iter().map(|module| module.path.as_str()).collect();
        assert_eq!(paths, ["std/checks"]);
        assert!(!loaded.stdlib_in_part, "a module given as a root is parsed whole");
    }

    /// The names of the metrics declared in the loaded `std/slo`.
    fn slo_metrics(main: &str, stdlib_parse: StdlibParse) -> (Vec<String>, bool) {
        let mut loader = MemoryLoader::new();
        loader.insert("main.ship", main);
        let mut sources = SourceMap::new();
        let mut diagnostics = Diagnostics::new();
        let loaded = load(
            &["main.ship".to_string()],
            &loader,
            stdlib_parse,
            &mut sources,
            &mut diagnostics,
        );
        assert!(diagnostics.is_empty());
        let slo = loaded.modules.iter().find(|module| module.path == "std/slo");
        let names = slo
            .into_iter()
            .flat_map(|module| &module.ast.items)
            .filter_map(|item| match item {
                ast::Item::Metric(metric) => Some(metric.name.name.clone()),
                _ => None,
            })
            .collect();
        (names, loaded.stdlib_in_part)
    }

    #[test]
    fn a_small_project_parses_only_the_standard_library_declarations_it_mentions() {
        let main =
            "import \"std/slo\" as slo\n// slo.restarts is only in a comment\nplatform { x = slo.http_latency }\n";
        let (mentioned, in_part) = slo_metrics(main, StdlibParse::Mentioned);
        assert_eq!(mentioned, ["http_latency"]);
        assert!(in_part);
        let (whole, in_part) = slo_metrics(main, StdlibParse::Whole);
        assert!(whole.len() > 10 && whole.contains(&"restarts".to_string()), "{whole:?}");
        assert!(!in_part);
    }

    #[test]
    fn a_large_project_parses_the_whole_standard_library() {
        let filler = "// padding\n".repeat(MENTION_SCAN_LIMIT / 10);
        let main = format!("import \"std/slo\" as slo\nplatform {{ x = slo.http_latency }}\n{filler}");
        let (names, in_part) = slo_metrics(&main, StdlibParse::Mentioned);
        assert!(names.len() > 10, "{names:?}");
        assert!(!in_part);
    }
}

/// A [`Loader`] over files held in memory, for tests, fuzzing and editors.
#[derive(Clone, Debug, Default)]
pub struct MemoryLoader {
    files: BTreeMap<String, String>,
}

impl MemoryLoader {
    /// An empty set of files.
    pub fn new() -> MemoryLoader {
        MemoryLoader::default()
    }

    /// Adds (or replaces) the file at a project-relative path.
    pub fn insert(&mut self, path: impl Into<String>, text: impl Into<String>) {
        self.files.insert(path.into(), text.into());
    }

    /// The paths of every file, sorted.
    pub fn paths(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }
}

impl Loader for MemoryLoader {
    fn load(&self, path: &str) -> Result<String, LoadError> {
        self.files.get(path).cloned().ok_or(LoadError::NotFound)
    }
}
