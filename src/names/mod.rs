//! Phase 2, names: loads every module, then builds what each file can see.
//!
//! Input: the root paths and a [`Loader`]. Output: a [`Program`] that owns every declaration (moved out
//! of the syntax trees into typed lists) and, per module, a [`Scope`]: the module's own declarations,
//! what its imports bring (every exported name, the names listed, or a module alias for qualified
//! names; imports are not transitive), and the one `platform` it sees. Duplicates, clashes, cycles,
//! imports of private or missing names and a missing or ambiguous platform are reported here; unknown
//! names are reported where they are used, by the checker, through [`Program::resolve`].

pub mod modules;

use std::collections::BTreeMap;

pub use modules::{LoadError, Loader, ModuleId, StdlibParse};

use crate::diagnostics::{Code, Diagnostic, Diagnostics, suggest};
use crate::source::{SourceId, SourceMap, Span};
use crate::stdlib;
use crate::syntax::ast::{self, Ident};

/// A declaration with the module it was declared in.
#[derive(Debug)]
pub struct Declared<T> {
    /// The declaring module.
    pub module: ModuleId,
    /// The declaration.
    pub decl: T,
}

/// Identifies a service declaration; an index into [`Program::services`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceId(pub usize);
/// Identifies a metric declaration; an index into [`Program::metrics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetricId(pub usize);
/// Identifies a step definition; an index into [`Program::steps`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StepId(pub usize);
/// Identifies an environment declaration; an index into [`Program::environments`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvironmentId(pub usize);
/// Identifies a check definition; an index into [`Program::checks`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CheckDefId(pub usize);
/// Identifies a platform declaration; an index into [`Program::platforms`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlatformId(pub usize);

/// What a name in a scope refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symbol {
    /// A service.
    Service(ServiceId),
    /// A metric.
    Metric(MetricId),
    /// A CI step definition.
    Step(StepId),
    /// An environment.
    Environment(EnvironmentId),
    /// A check definition.
    Check(CheckDefId),
    /// A declaration whose declaration has a syntax error, already reported: uses of it are
    /// not reported again.
    Unparsed,
}

/// What kind of declaration a use expects, for messages and suggestions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    /// A service.
    Service,
    /// A metric.
    Metric,
    /// A CI step definition.
    Step,
    /// An environment.
    Environment,
    /// A check definition.
    Check,
}

impl SymbolKind {
    /// The word for it, which is also the keyword that declares it.
    pub fn word(self) -> &'static str {
        match self {
            SymbolKind::Service => "service",
            SymbolKind::Metric => "metric",
            SymbolKind::Step => "step",
            SymbolKind::Environment => "environment",
            SymbolKind::Check => "check",
        }
    }

    /// The word for several of them.
    pub fn plural(self) -> &'static str {
        match self {
            SymbolKind::Service => "services",
            SymbolKind::Metric => "metrics",
            SymbolKind::Step => "steps",
            SymbolKind::Environment => "environments",
            SymbolKind::Check => "checks",
        }
    }

    /// True when `symbol` is a declaration of this kind.
    pub fn holds(self, symbol: Symbol) -> bool {
        matches!(
            (self, symbol),
            (SymbolKind::Service, Symbol::Service(_))
                | (SymbolKind::Metric, Symbol::Metric(_))
                | (SymbolKind::Step, Symbol::Step(_))
                | (SymbolKind::Environment, Symbol::Environment(_))
                | (SymbolKind::Check, Symbol::Check(_))
        )
    }
}

/// One declaration of a module, as other modules see it.
#[derive(Clone, Debug)]
struct Declaration {
    name: String,
    symbol: Symbol,
    span: Span,
    private: bool,
}

/// Names and what they stand for, sorted once built. A project has a few per module and most hold a
/// handful of names, for which a B-tree's node (room for eleven entries) would be mostly empty space.
#[derive(Debug)]
struct NameTable<V>(Vec<(String, V)>);

impl<V> NameTable<V> {
    const EMPTY: NameTable<V> = NameTable(Vec::new());

    fn get(&self, name: &str) -> Option<&V> {
        let index = self.0.binary_search_by(|(key, _)| key.as_str().cmp(name)).ok()?;
        self.0.get(index).map(|(_, value)| value)
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value))
    }
}

impl<V> From<BTreeMap<String, V>> for NameTable<V> {
    fn from(map: BTreeMap<String, V>) -> NameTable<V> {
        NameTable(map.into_iter().collect())
    }
}

/// The names one module can use.
#[derive(Debug)]
pub struct Scope {
    symbols: NameTable<(Symbol, Span)>,
    /// `import "..." as alias`: the module each alias names.
    aliases: NameTable<ModuleId>,
    /// The platform this module sees, when it sees exactly one.
    pub platform: Option<PlatformId>,
}

impl Scope {
    /// What `name` refers to here.
    pub fn lookup(&self, name: &str) -> Option<Symbol> {
        self.symbols.get(name).map(|(symbol, _)| *symbol)
    }

    /// The names of every declaration of `kind` visible here, for suggestions.
    pub fn names_of(&self, kind: SymbolKind) -> impl Iterator<Item = &str> {
        self.symbols
            .iter()
            .filter(move |(_, (symbol, _))| kind.holds(*symbol))
            .map(|(name, _)| name)
    }
}

/// Every declaration of the compilation, with the scopes to resolve names in.
#[derive(Debug, Default)]
pub struct Program {
    /// Module paths and imports, by [`ModuleId`].
    pub modules: Vec<ModuleInfo>,
    /// One scope per module, by [`ModuleId`].
    pub scopes: Vec<Scope>,
    /// Every service.
    pub services: Vec<Declared<ast::Service>>,
    /// Every metric.
    pub metrics: Vec<Declared<ast::Metric>>,
    /// Every platform.
    pub platforms: Vec<Declared<ast::Platform>>,
    /// Every step definition.
    pub steps: Vec<Declared<ast::StepDef>>,
    /// Every environment.
    pub environments: Vec<Declared<ast::Environment>>,
    /// Every check definition.
    pub checks: Vec<Declared<ast::CheckDef>>,
    /// Per module, by [`ModuleId`]: its declarations by name, for imports and qualified names.
    declarations: Vec<NameTable<Declaration>>,
    /// True when a file given to the compiler could not be read.
    pub unreadable_root: bool,
    /// True when a standard library module was parsed in part ([`StdlibParse::Mentioned`]).
    pub stdlib_in_part: bool,
}

/// What remains of a module once its declarations are moved into the [`Program`].
#[derive(Debug)]
pub struct ModuleInfo {
    /// Project-relative path.
    pub path: String,
    /// Its text, where `shipc doc` reads the comments that the syntax tree leaves out.
    pub source: SourceId,
    /// Imported modules and the span of each `import`.
    pub imports: Vec<(ModuleId, Span)>,
}

impl Program {
    /// The scope of a module.
    pub fn scope(&self, module: ModuleId) -> &Scope {
        static EMPTY: Scope = Scope {
            symbols: NameTable::EMPTY,
            aliases: NameTable::EMPTY,
            platform: None,
        };
        self.scopes.get(module.0).unwrap_or(&EMPTY)
    }

    /// A service by id (ids come from this program).
    pub fn service(&self, id: ServiceId) -> Option<&Declared<ast::Service>> {
        self.services.get(id.0)
    }

    /// Moves every service's declaration out, in order of [`ServiceId`], leaving its name, span and
    /// module: enough to resolve references to it, so that a caller can check each service and free
    /// its syntax tree before the next.
    pub fn take_service_declarations(&mut self) -> Vec<ast::Service> {
        self.services
            .iter_mut()
            .map(|declared| {
                let head = ast::Service {
                    name: declared.decl.name.clone(),
                    fields: Default::default(),
                    releases: Default::default(),
                    pipelines: Default::default(),
                    span: declared.decl.span,
                };
                std::mem::replace(&mut declared.decl, head)
            })
            .collect()
    }

    /// A metric by id (ids come from this program).
    pub fn metric(&self, id: MetricId) -> Option<&Declared<ast::Metric>> {
        self.metrics.get(id.0)
    }

    /// A step definition by id (ids come from this program).
    pub fn step(&self, id: StepId) -> Option<&Declared<ast::StepDef>> {
        self.steps.get(id.0)
    }

    /// An environment by id (ids come from this program).
    pub fn environment(&self, id: EnvironmentId) -> Option<&Declared<ast::Environment>> {
        self.environments.get(id.0)
    }

    /// A check definition by id (ids come from this program).
    pub fn check_def(&self, id: CheckDefId) -> Option<&Declared<ast::CheckDef>> {
        self.checks.get(id.0)
    }

    /// The project-relative path of a module (`std/ci` for a standard library module).
    pub fn module_path(&self, module: ModuleId) -> &str {
        self.modules.get(module.0).map_or("", |m| m.path.as_str())
    }

    /// What a name used in `module` refers to: `kaniko`, or `ci.kaniko` through an import alias.
    /// When nothing of that name is visible the error is an unknown-`kind` diagnostic; a symbol of
    /// another kind is returned as it is, for the caller to say what it expected.
    pub fn resolve(
        &self,
        module: ModuleId,
        path: &[Ident],
        span: Span,
        kind: SymbolKind,
    ) -> Result<Symbol, Box<Diagnostic>> {
        let scope = self.scope(module);
        match path {
            [name] => scope
                .lookup(&name.name)
                .ok_or_else(|| Box::new(self.unknown(module, path, span, kind))),
            [alias, name] => match scope.aliases.get(&alias.name) {
                Some(imported) => self.exported(*imported, name, Some(kind)),
                None => Err(Box::new(self.unknown_alias(scope, alias))),
            },
            _ => Err(Box::new(self.unknown(module, path, span, kind))),
        }
    }

    /// The unknown-`kind` diagnostic for `path`, written at `span` in `module`, with the closest
    /// visible name.
    pub fn unknown(&self, module: ModuleId, path: &[Ident], span: Span, kind: SymbolKind) -> Diagnostic {
        let name = ast::join_path(path);
        let word = kind.word();
        let imported = self.modules.get(module.0).map_or(&[][..], |m| m.imports.as_slice());
        let private_in = imported.iter().find_map(|(imported, _)| {
            let declaration = self.declarations.get(imported.0)?.get(&name)?;
            declaration.private.then_some((*imported, declaration.span))
        });
        if let Some((owner, declared)) = private_in {
            return private_name(span, &name, self.module_path(owner), declared);
        }
        let help = suggest::help_for(&name, self.scope(module).names_of(kind))
            .unwrap_or_else(|| format!("declare it with `{word}`, or import the file that declares it"));
        Diagnostic::new(Code::E0201, span, format!("unknown {word} `{name}`"))
            .label(format!("no {word} of this name is declared or imported"))
            .help(help)
    }

    /// `name` as exported by `module`: an error when it is missing or private. `kind` is what the use
    /// expects, when it expects one kind of declaration.
    fn exported(&self, module: ModuleId, name: &Ident, kind: Option<SymbolKind>) -> Result<Symbol, Box<Diagnostic>> {
        let path = self.module_path(module);
        let declarations = self.declarations.get(module.0);
        match declarations.and_then(|d| d.get(&name.name)) {
            Some(declaration) if declaration.private => {
                Err(Box::new(private_name(name.span, &name.name, path, declaration.span)))
            }
            Some(declaration) => Ok(declaration.symbol),
            None => {
                let exported: Vec<&str> = declarations
                    .into_iter()
                    .flat_map(NameTable::iter)
                    .map(|(_, declaration)| declaration)
                    .filter(|d| !d.private && kind.is_none_or(|kind| kind.holds(d.symbol)))
                    .map(|d| d.name.as_str())
                    .collect();
                let what = kind.map_or("", SymbolKind::word);
                let help = suggest::help_for(&name.name, exported.iter().copied()).unwrap_or_else(|| {
                    if exported.is_empty() {
                        format!("`{path}` exports no {}", kind.map_or("names", SymbolKind::plural))
                    } else {
                        format!("`{path}` exports {}", quoted_list(&exported))
                    }
                });
                let message = match kind {
                    Some(_) => format!("`{path}` has no {what} `{}`", name.name),
                    None => format!("`{path}` has no `{}`", name.name),
                };
                Err(Box::new(
                    Diagnostic::new(Code::E0201, name.span, message)
                        .label("not exported there")
                        .help(help),
                ))
            }
        }
    }

    fn unknown_alias(&self, scope: &Scope, alias: &Ident) -> Diagnostic {
        let standard = format!("std/{}", alias.name);
        let help = suggest::help_for(&alias.name, scope.aliases.iter().map(|(alias, _)| alias)).unwrap_or_else(|| {
            if stdlib::module(&standard).is_some() {
                format!("import it first: `import \"{standard}\" as {}`", alias.name)
            } else {
                format!(
                    "import a module under this name: `import \"./{}\" as {}`",
                    alias.name, alias.name
                )
            }
        });
        Diagnostic::new(Code::E0201, alias.span, format!("unknown module `{}`", alias.name))
            .label("no import of this file is named so")
            .help(help)
    }
}

/// `a`, `b` and `c`, each in backquotes.
fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn private_name(at: Span, name: &str, module_path: &str, declared: Span) -> Diagnostic {
    Diagnostic::new(Code::E0214, at, format!("`{name}` is private to `{module_path}`"))
        .label("used outside the file that declares it")
        .secondary(declared, "declared `private` here")
        .help(format!(
            "use something `{module_path}` exports, or remove `private` from the declaration to export it"
        ))
}

/// Loads the roots and their imports, and builds every module's scope.
pub fn resolve(
    roots: &[String],
    loader: &dyn Loader,
    stdlib_parse: StdlibParse,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Program {
    let loaded = modules::load(roots, loader, stdlib_parse, sources, diagnostics);
    report_import_cycles(&loaded.modules, diagnostics);
    let mut program = Program {
        unreadable_root: loaded.unreadable_root,
        stdlib_in_part: loaded.stdlib_in_part,
        ..Program::default()
    };
    let mut declared_here: Vec<Vec<Declaration>> = Vec::new();
    let mut platforms_here: Vec<Vec<PlatformId>> = Vec::new();
    let mut unparsed_platform_here: Vec<bool> = Vec::new();
    let mut imports_here: Vec<Vec<ast::Import>> = Vec::new();
    for (module_idx, module) in loaded.modules.into_iter().enumerate() {
        let id = ModuleId(module_idx);
        let mut declared = Vec::new();
        let mut declare = |name: &Ident, symbol: Symbol, private: bool| {
            declared.push(Declaration {
                name: name.name.clone(),
                symbol,
                span: name.span,
                private,
            });
        };
        let mut platforms = Vec::new();
        let mut imports = Vec::new();
        let mut unparsed_platform = false;
        for unparsed in module.ast.unparsed {
            match unparsed {
                ast::Unparsed::Service(name)
                | ast::Unparsed::Metric(name)
                | ast::Unparsed::Step(name)
                | ast::Unparsed::Environment(name)
                | ast::Unparsed::Check(name) => declare(&name, Symbol::Unparsed, false),
                ast::Unparsed::Platform => unparsed_platform = true,
            }
        }
        for item in module.ast.items {
            match item {
                ast::Item::Import(import) => imports.push(import),
                ast::Item::Service(decl) => {
                    declare(&decl.name, Symbol::Service(ServiceId(program.services.len())), false);
                    program.services.push(Declared {
                        module: id,
                        decl: *decl,
                    });
                }
                ast::Item::Metric(decl) => {
                    declare(
                        &decl.name,
                        Symbol::Metric(MetricId(program.metrics.len())),
                        decl.private,
                    );
                    program.metrics.push(Declared {
                        module: id,
                        decl: *decl,
                    });
                }
                ast::Item::Step(decl) => {
                    declare(&decl.name, Symbol::Step(StepId(program.steps.len())), decl.private);
                    program.steps.push(Declared {
                        module: id,
                        decl: *decl,
                    });
                }
                ast::Item::Environment(decl) => {
                    let symbol = Symbol::Environment(EnvironmentId(program.environments.len()));
                    declare(&decl.name, symbol, decl.private);
                    program.environments.push(Declared {
                        module: id,
                        decl: *decl,
                    });
                }
                ast::Item::Check(decl) => {
                    declare(
                        &decl.name,
                        Symbol::Check(CheckDefId(program.checks.len())),
                        decl.private,
                    );
                    program.checks.push(Declared {
                        module: id,
                        decl: *decl,
                    });
                }
                ast::Item::Platform(decl) => {
                    platforms.push(PlatformId(program.platforms.len()));
                    program.platforms.push(Declared {
                        module: id,
                        decl: *decl,
                    });
                }
            }
        }
        declared_here.push(declared);
        platforms_here.push(platforms);
        unparsed_platform_here.push(unparsed_platform);
        imports_here.push(imports);
        program.modules.push(ModuleInfo {
            path: module.path,
            source: module.source,
            imports: module.imports,
        });
    }
    program.declarations = declared_here
        .iter()
        .map(|declared| {
            let mut by_name = BTreeMap::new();
            for declaration in declared {
                by_name
                    .entry(declaration.name.clone())
                    .or_insert_with(|| declaration.clone());
            }
            NameTable::from(by_name)
        })
        .collect();
    for module_idx in 0..program.modules.len() {
        let module = ModuleId(module_idx);
        let context = ScopeContext {
            program: &program,
            declared_here: &declared_here,
            platforms_here: &platforms_here,
            unparsed_platform_here: &unparsed_platform_here,
            import_decls: imports_here.get(module_idx).map_or(&[][..], Vec::as_slice),
        };
        let scope = context.build(module, diagnostics);
        program.scopes.push(scope);
    }
    report_duplicate_services(&program, diagnostics);
    program
}

/// What building one module's scope reads.
struct ScopeContext<'a> {
    program: &'a Program,
    declared_here: &'a [Vec<Declaration>],
    platforms_here: &'a [Vec<PlatformId>],
    unparsed_platform_here: &'a [bool],
    /// The module's `import` declarations, in source order.
    import_decls: &'a [ast::Import],
}

impl ScopeContext<'_> {
    fn build(&self, module: ModuleId, diagnostics: &mut Diagnostics) -> Scope {
        let program = self.program;
        let mut symbols = BTreeMap::new();
        let mut aliases = BTreeMap::new();
        let mut platform = None;
        for declaration in self.declared_here.get(module.0).into_iter().flatten() {
            if let Some((_, first)) = symbols.get(&declaration.name) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0202,
                        declaration.span,
                        format!("`{}` is defined twice in this file", declaration.name),
                    )
                    .label("defined again here")
                    .secondary(*first, "first defined here")
                    .help("rename one of them"),
                );
                continue;
            }
            symbols.insert(declaration.name.clone(), (declaration.symbol, declaration.span));
        }
        let own_platforms = self.platforms_here.get(module.0).map_or(&[][..], Vec::as_slice);
        if let [first, second, ..] = own_platforms
            && let (Some(first), Some(second)) = (platform_span(program, *first), platform_span(program, *second))
        {
            diagnostics.push(
                Diagnostic::new(Code::E0202, second, "a file can declare only one `platform`")
                    .label("second platform")
                    .secondary(first, "first platform")
                    .help("merge the two blocks into one"),
            );
        }
        let mut visible: Vec<(PlatformId, Option<Span>)> =
            own_platforms.first().map(|p| (*p, None)).into_iter().collect();
        let imports = program.modules.get(module.0).map_or(&[][..], |m| m.imports.as_slice());
        let mut platform_seen_from = Vec::new();
        for (imported, import_span) in imports {
            if *imported == module {
                continue;
            }
            let Some(import) = self.import_decl(*import_span) else {
                continue;
            };
            match &import.kind {
                ast::ImportKind::All => {
                    for declaration in self.declared_here.get(imported.0).into_iter().flatten() {
                        if !declaration.private {
                            bring(&mut symbols, declaration, *import_span, diagnostics);
                        }
                    }
                }
                ast::ImportKind::Names(names) => {
                    for name in names {
                        match program.exported(*imported, name, None) {
                            Ok(_) => {
                                if let Some(declaration) =
                                    program.declarations.get(imported.0).and_then(|d| d.get(&name.name))
                                {
                                    bring(&mut symbols, declaration, name.span, diagnostics);
                                }
                            }
                            Err(diagnostic) => {
                                diagnostics.push(*diagnostic);
                                // Already reported: uses of the name are not reported again.
                                symbols
                                    .entry(name.name.clone())
                                    .or_insert((Symbol::Unparsed, name.span));
                            }
                        }
                    }
                }
                ast::ImportKind::Alias(alias) => match aliases.get(&alias.name) {
                    Some(first) if first != imported => diagnostics.push(
                        Diagnostic::new(
                            Code::E0202,
                            alias.span,
                            format!("two imports are named `{}`", alias.name),
                        )
                        .label(format!(
                            "`{}` already names `{}`",
                            alias.name,
                            program.module_path(*first)
                        ))
                        .help("give each imported module a name of its own"),
                    ),
                    _ => {
                        aliases.insert(alias.name.clone(), *imported);
                    }
                },
            }
            if !platform_seen_from.contains(imported) {
                platform_seen_from.push(*imported);
                if let Some(platform) = self.platforms_here.get(imported.0).and_then(|p| p.first()) {
                    visible.push((*platform, Some(*import_span)));
                }
            }
        }
        match visible.as_slice() {
            [] => {}
            [(only, _)] => platform = Some(*only),
            [(first, first_import), (_, Some(second_import)), ..] => {
                let mut diagnostic = Diagnostic::new(Code::E0207, *second_import, "this file sees two platforms")
                    .label("brings a second `platform` into scope")
                    .help("a file may see only one platform: keep one import of a platform file");
                if let Some(first_place) = first_import.or_else(|| platform_span(program, *first)) {
                    diagnostic = diagnostic.secondary(first_place, "the first platform comes from here");
                }
                diagnostics.push(diagnostic);
            }
            [(first, _), ..] => platform = Some(*first),
        }
        let sees_unparsed_platform = std::iter::once(module)
            .chain(imports.iter().map(|(imported, _)| *imported))
            .any(|seen| self.unparsed_platform_here.get(seen.0).copied().unwrap_or(false));
        if platform.is_none() && visible.is_empty() && !sees_unparsed_platform {
            for service in program.services.iter().filter(|s| s.module == module) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0206,
                        service.decl.name.span,
                        format!("service `{}` has no platform", service.decl.name.name),
                    )
                    .label("declared in a file that sees no `platform`")
                    .help(
                        "import the platform file, e.g. `import \"./platform\"`, or declare a `platform { ... }` block",
                    ),
                );
            }
        }
        Scope {
            symbols: symbols.into(),
            aliases: aliases.into(),
            platform,
        }
    }

    /// The `import` declaration whose path is at `path_span`.
    fn import_decl(&self, path_span: Span) -> Option<&ast::Import> {
        self.import_decls.iter().find(|import| import.path.span == path_span)
    }
}

/// Brings an imported declaration into a scope's `symbols`, reporting a clash with another of the
/// same name.
fn bring(
    symbols: &mut BTreeMap<String, (Symbol, Span)>,
    declaration: &Declaration,
    at: Span,
    diagnostics: &mut Diagnostics,
) {
    let name = &declaration.name;
    match symbols.get(name) {
        Some((existing, _)) if *existing == declaration.symbol => {}
        Some((_, first)) => diagnostics.push(
            Diagnostic::new(
                Code::E0202,
                at,
                format!("this import brings a second `{name}` into scope"),
            )
            .label(format!("imports `{name}`"))
            .secondary(*first, "already defined here")
            .secondary(declaration.span, "the imported definition")
            .help("rename one of the two definitions, or import the module under a name: `import \"...\" as m`"),
        ),
        None => {
            symbols.insert(name.clone(), (declaration.symbol, declaration.span));
        }
    }
}

fn platform_span(program: &Program, id: PlatformId) -> Option<Span> {
    program.platforms.get(id.0).map(|p| p.decl.keyword)
}

/// Services become cluster objects named after them, so their names are unique across the project.
fn report_duplicate_services(program: &Program, diagnostics: &mut Diagnostics) {
    let mut first_by_name: BTreeMap<&str, Span> = BTreeMap::new();
    for service in &program.services {
        let name = &service.decl.name;
        match first_by_name.get(name.name.as_str()) {
            Some(first) if first.source != name.span.source => diagnostics.push(
                Diagnostic::new(
                    Code::E0202,
                    name.span,
                    format!("service `{}` is declared in two files", name.name),
                )
                .label("declared again here")
                .secondary(*first, "first declared here")
                .note("each service becomes Kubernetes objects named after it, so names must be unique in the project"),
            ),
            Some(_) => {}
            None => {
                first_by_name.insert(&name.name, name.span);
            }
        }
    }
}

/// Reports each import that closes a cycle, with the chain of files.
fn report_import_cycles(modules: &[modules::Module], diagnostics: &mut Diagnostics) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks = vec![Mark::New; modules.len()];
    for start in 0..modules.len() {
        if marks.get(start) != Some(&Mark::New) {
            continue;
        }
        // Iterative depth-first search: (module, index of the next import to follow).
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        if let Some(mark) = marks.get_mut(start) {
            *mark = Mark::Active;
        }
        while let Some(&mut (module, ref mut next)) = stack.last_mut() {
            let imports = modules.get(module).map_or(&[][..], |m| m.imports.as_slice());
            let Some(&(target, span)) = imports.get(*next) else {
                if let Some(mark) = marks.get_mut(module) {
                    *mark = Mark::Done;
                }
                stack.pop();
                continue;
            };
            *next += 1;
            match marks.get(target.0) {
                Some(Mark::New) => {
                    if let Some(mark) = marks.get_mut(target.0) {
                        *mark = Mark::Active;
                    }
                    stack.push((target.0, 0));
                }
                Some(Mark::Active) => {
                    let cycle_start = stack.iter().position(|(m, _)| *m == target.0).unwrap_or(0);
                    let chain: Vec<&str> = stack
                        .get(cycle_start..)
                        .unwrap_or(&[])
                        .iter()
                        .chain(std::iter::once(&(target.0, 0)))
                        .filter_map(|(m, _)| modules.get(*m).map(|m| m.path.as_str()))
                        .collect();
                    diagnostics.push(
                        Diagnostic::new(Code::E0204, span, "import cycle")
                            .label("this import closes the cycle")
                            .note(format!("the cycle: {}", chain.join(" -> ")))
                            .help("move what both files need into a third file that both import"),
                    );
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_table_finds_every_name_it_was_built_with_and_nothing_else() {
        let names = ["b-x", "a", "zeta", "b", "a_b", "m"];
        let map: BTreeMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(idx, name)| (name.to_string(), idx))
            .collect();
        let table = NameTable::from(map);
        for (idx, name) in names.iter().enumerate() {
            assert_eq!(table.get(name), Some(&idx), "{name}");
        }
        for missing in ["", "c", "b-", "zz", "A"] {
            assert_eq!(table.get(missing), None, "{missing}");
        }
        let listed: Vec<&str> = table.iter().map(|(name, _)| name).collect();
        assert_eq!(listed, ["a", "a_b", "b", "b-x", "m", "zeta"]);
        assert_eq!(NameTable::<usize>::EMPTY.get("a"), None);
    }
}
