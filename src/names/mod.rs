//! Phase 2, names: loads every module, then builds what each file can see.
//!
//! Input: the root paths and a [`Loader`]. Output: a [`Program`] that owns every declaration (moved out
//! of the syntax trees into typed lists) and, per module, a [`Scope`]: the module's own services and
//! metrics plus those of the modules it imports directly (imports are not transitive), and the one
//! `platform` it sees. Duplicates, clashes, cycles and a missing or ambiguous platform are reported here;
//! unknown names are reported where they are used, by the checker, through [`Scope::lookup`].

pub mod modules;

use std::collections::BTreeMap;

pub use modules::{LoadError, Loader, ModuleId};

use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::source::{SourceMap, Span};
use crate::syntax::ast;

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
    /// A declaration whose declaration has a syntax error, already reported: uses of it are
    /// not reported again.
    Unparsed,
}

/// The names one module can use.
#[derive(Debug, Default)]
pub struct Scope {
    symbols: BTreeMap<String, (Symbol, Span)>,
    /// The platform this module sees, when it sees exactly one.
    pub platform: Option<PlatformId>,
}

impl Scope {
    /// What `name` refers to here.
    pub fn lookup(&self, name: &str) -> Option<Symbol> {
        self.symbols.get(name).map(|(symbol, _)| *symbol)
    }

    /// The names of every service visible here, for suggestions.
    pub fn service_names(&self) -> impl Iterator<Item = &str> {
        self.names_where(|symbol| matches!(symbol, Symbol::Service(_)))
    }

    /// The names of every metric visible here, for suggestions.
    pub fn metric_names(&self) -> impl Iterator<Item = &str> {
        self.names_where(|symbol| matches!(symbol, Symbol::Metric(_)))
    }

    /// The names of every step definition visible here, for suggestions.
    pub fn step_names(&self) -> impl Iterator<Item = &str> {
        self.names_where(|symbol| matches!(symbol, Symbol::Step(_)))
    }

    /// The names of every environment visible here, for suggestions.
    pub fn environment_names(&self) -> impl Iterator<Item = &str> {
        self.names_where(|symbol| matches!(symbol, Symbol::Environment(_)))
    }

    fn names_where(&self, keep: impl Fn(&Symbol) -> bool) -> impl Iterator<Item = &str> {
        self.symbols
            .iter()
            .filter(move |(_, (symbol, _))| keep(symbol))
            .map(|(name, _)| name.as_str())
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
    /// True when a file given to the compiler could not be read.
    pub unreadable_root: bool,
}

/// What remains of a module once its declarations are moved into the [`Program`].
#[derive(Debug)]
pub struct ModuleInfo {
    /// Project-relative path.
    pub path: String,
    /// Imported modules and the span of each `import`.
    pub imports: Vec<(ModuleId, Span)>,
}

impl Program {
    /// The scope of a module.
    pub fn scope(&self, module: ModuleId) -> &Scope {
        static EMPTY: Scope = Scope {
            symbols: BTreeMap::new(),
            platform: None,
        };
        self.scopes.get(module.0).unwrap_or(&EMPTY)
    }

    /// A service by id (ids come from this program).
    pub fn service(&self, id: ServiceId) -> Option<&Declared<ast::Service>> {
        self.services.get(id.0)
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
}

/// Loads the roots and their imports, and builds every module's scope.
pub fn resolve(
    roots: &[String],
    loader: &dyn Loader,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Program {
    let loaded = modules::load(roots, loader, sources, diagnostics);
    report_import_cycles(&loaded.modules, diagnostics);
    let mut program = Program {
        unreadable_root: loaded.unreadable_root,
        ..Program::default()
    };
    let mut declared_here: Vec<Vec<(String, Symbol, Span)>> = Vec::new();
    let mut platforms_here: Vec<Vec<PlatformId>> = Vec::new();
    let mut unparsed_platform_here: Vec<bool> = Vec::new();
    for (module_idx, module) in loaded.modules.into_iter().enumerate() {
        let id = ModuleId(module_idx);
        let mut symbols = Vec::new();
        let mut platforms = Vec::new();
        let mut unparsed_platform = false;
        for unparsed in module.ast.unparsed {
            match unparsed {
                ast::Unparsed::Service(name)
                | ast::Unparsed::Metric(name)
                | ast::Unparsed::Step(name)
                | ast::Unparsed::Environment(name) => {
                    symbols.push((name.name, Symbol::Unparsed, name.span));
                }
                ast::Unparsed::Platform => unparsed_platform = true,
            }
        }
        for item in module.ast.items {
            match item {
                ast::Item::Import(_) => {}
                ast::Item::Service(decl) => {
                    symbols.push((
                        decl.name.name.clone(),
                        Symbol::Service(ServiceId(program.services.len())),
                        decl.name.span,
                    ));
                    program.services.push(Declared { module: id, decl });
                }
                ast::Item::Metric(decl) => {
                    symbols.push((
                        decl.name.name.clone(),
                        Symbol::Metric(MetricId(program.metrics.len())),
                        decl.name.span,
                    ));
                    program.metrics.push(Declared { module: id, decl });
                }
                ast::Item::Step(decl) => {
                    symbols.push((
                        decl.name.name.clone(),
                        Symbol::Step(StepId(program.steps.len())),
                        decl.name.span,
                    ));
                    program.steps.push(Declared { module: id, decl });
                }
                ast::Item::Environment(decl) => {
                    symbols.push((
                        decl.name.name.clone(),
                        Symbol::Environment(EnvironmentId(program.environments.len())),
                        decl.name.span,
                    ));
                    program.environments.push(Declared { module: id, decl });
                }
                ast::Item::Platform(decl) => {
                    platforms.push(PlatformId(program.platforms.len()));
                    program.platforms.push(Declared { module: id, decl });
                }
            }
        }
        declared_here.push(symbols);
        platforms_here.push(platforms);
        unparsed_platform_here.push(unparsed_platform);
        program.modules.push(ModuleInfo {
            path: module.path,
            imports: module.imports,
        });
    }
    for module_idx in 0..program.modules.len() {
        let scope = build_scope(
            &program,
            ModuleId(module_idx),
            &declared_here,
            &platforms_here,
            &unparsed_platform_here,
            diagnostics,
        );
        program.scopes.push(scope);
    }
    report_duplicate_services(&program, diagnostics);
    program
}

fn build_scope(
    program: &Program,
    module: ModuleId,
    declared_here: &[Vec<(String, Symbol, Span)>],
    platforms_here: &[Vec<PlatformId>],
    unparsed_platform_here: &[bool],
    diagnostics: &mut Diagnostics,
) -> Scope {
    let mut scope = Scope::default();
    for (name, symbol, span) in declared_here.get(module.0).into_iter().flatten() {
        if let Some((_, first)) = scope.symbols.get(name) {
            diagnostics.push(
                Diagnostic::new(Code::E0202, *span, format!("`{name}` is defined twice in this file"))
                    .label("defined again here")
                    .secondary(*first, "first defined here")
                    .help("rename one of them"),
            );
            continue;
        }
        scope.symbols.insert(name.clone(), (*symbol, *span));
    }
    let own_platforms = platforms_here.get(module.0).map_or(&[][..], Vec::as_slice);
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
    let mut visible: Vec<(PlatformId, Option<Span>)> = own_platforms.first().map(|p| (*p, None)).into_iter().collect();
    let imports = program.modules.get(module.0).map_or(&[][..], |m| m.imports.as_slice());
    let mut seen_imports = Vec::new();
    for (imported, import_span) in imports {
        if *imported == module || seen_imports.contains(imported) {
            continue;
        }
        seen_imports.push(*imported);
        for (name, symbol, span) in declared_here.get(imported.0).into_iter().flatten() {
            match scope.symbols.get(name) {
                Some((existing, _)) if existing == symbol => {}
                Some((_, first)) => diagnostics.push(
                    Diagnostic::new(
                        Code::E0202,
                        *import_span,
                        format!("this import brings a second `{name}` into scope"),
                    )
                    .label(format!("imports `{name}`"))
                    .secondary(*first, "already defined here")
                    .secondary(*span, "the imported definition")
                    .help("rename one of the two definitions"),
                ),
                None => {
                    scope.symbols.insert(name.clone(), (*symbol, *span));
                }
            }
        }
        if let Some(platform) = platforms_here.get(imported.0).and_then(|p| p.first()) {
            visible.push((*platform, Some(*import_span)));
        }
    }
    match visible.as_slice() {
        [] => {}
        [(only, _)] => scope.platform = Some(*only),
        [(first, first_import), (_, Some(second_import)), ..] => {
            let mut diagnostic = Diagnostic::new(Code::E0207, *second_import, "this file sees two platforms")
                .label("brings a second `platform` into scope")
                .help("a file may see only one platform: keep one import of a platform file");
            if let Some(first_place) = first_import.or_else(|| platform_span(program, *first)) {
                diagnostic = diagnostic.secondary(first_place, "the first platform comes from here");
            }
            diagnostics.push(diagnostic);
        }
        [(first, _), ..] => scope.platform = Some(*first),
    }
    let sees_unparsed_platform = std::iter::once(module)
        .chain(imports.iter().map(|(imported, _)| *imported))
        .any(|seen| unparsed_platform_here.get(seen.0).copied().unwrap_or(false));
    if scope.platform.is_none() && visible.is_empty() && !sees_unparsed_platform {
        for service in program.services.iter().filter(|s| s.module == module) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0206,
                    service.decl.name.span,
                    format!("service `{}` has no platform", service.decl.name.name),
                )
                .label("declared in a file that sees no `platform`")
                .help("import the platform file, e.g. `import \"./platform\"`, or declare a `platform { ... }` block"),
            );
        }
    }
    scope
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
