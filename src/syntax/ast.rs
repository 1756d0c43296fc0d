//! The syntax tree of one `.ship` file. Every node carries the [`Span`] it was parsed from.
//!
//! The tree is untyped: a `field` holds any [`Expr`], and the checker decides what each field accepts.
//! That keeps the grammar small and lets errors speak about meaning ("expected a duration") instead
//! of syntax.

use crate::decimal::Decimal;
use crate::source::{SourceId, Span};

/// A parsed file: its declarations in source order.
#[derive(Debug)]
pub struct File {
    /// The file these declarations come from.
    pub source: SourceId,
    /// Declarations that parsed; a declaration with a syntax error is left out.
    pub items: Vec<Item>,
    /// The declarations that did not parse, as far as their keyword and name could be read, so that
    /// later phases do not report their uses as unknown: that error was already given.
    pub unparsed: Vec<Unparsed>,
}

/// What is known of a declaration with a syntax error.
#[derive(Debug)]
pub enum Unparsed {
    /// `service <name> ...`
    Service(Ident),
    /// `metric <name> ...`
    Metric(Ident),
    /// `step <name> ...`
    Step(Ident),
    /// `environment <name> ...`
    Environment(Ident),
    /// `check <name>(...) = ...`
    Check(Ident),
    /// `platform ...`
    Platform,
}

/// A top-level declaration. All but imports are boxed: a file holds a few imports and one or two
/// declarations, each several times larger than an import.
#[derive(Debug)]
pub enum Item {
    /// `import "./platform"`
    Import(Import),
    /// `platform { ... }`
    Platform(Box<Platform>),
    /// `service name { ... }`
    Service(Box<Service>),
    /// `metric name(...) : unit = provider "..."`
    Metric(Box<Metric>),
    /// `step name(...) { ... }`
    Step(Box<StepDef>),
    /// `environment name { ... }`
    Environment(Box<Environment>),
    /// `check name(...) = probe(...)`
    Check(Box<CheckDef>),
}

/// An identifier with its span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The text.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// `import "path"`, `import "path" as alias` or `import { a, b } from "path"`.
#[derive(Debug)]
pub struct Import {
    /// The module path as written.
    pub path: StrLit,
    /// What the import brings into scope.
    pub kind: ImportKind,
    /// The whole declaration.
    pub span: Span,
}

/// The three forms of `import`.
#[derive(Debug)]
pub enum ImportKind {
    /// `import "path"`: every exported name of the module.
    All,
    /// `import "path" as alias`: the module's exported names, written `alias.name`.
    Alias(Ident),
    /// `import { a, b } from "path"`: only these names.
    Names(Vec<Ident>),
}

/// `check name(params) = probe(...)`: a check that releases and pipelines use by name.
#[derive(Debug)]
pub struct CheckDef {
    /// Its name.
    pub name: Ident,
    /// Its parameters.
    pub params: Vec<Param>,
    /// What it runs: `http_get(...)` or `job(...)`, with the parameters as values.
    pub probe: Call,
    /// Declared `private`: only its own file can use it.
    pub private: bool,
    /// The whole declaration.
    pub span: Span,
}

/// `platform { field* }`
#[derive(Debug)]
pub struct Platform {
    /// The `platform` keyword, used to point at the declaration.
    pub keyword: Span,
    /// Its settings.
    pub fields: Vec<Field>,
    /// The whole declaration.
    pub span: Span,
}

/// `service name { field* release* }`
#[derive(Debug)]
pub struct Service {
    /// The service name; Kubernetes object names derive from it.
    pub name: Ident,
    /// Its settings.
    pub fields: Vec<Field>,
    /// Its `release` blocks (more than one is an error the checker reports).
    pub releases: Vec<Release>,
    /// Its `pipeline` blocks (more than one is an error the checker reports).
    pub pipelines: Vec<Pipeline>,
    /// The whole declaration.
    pub span: Span,
}

/// `step name(params) { field* }`: a reusable CI step.
#[derive(Debug)]
pub struct StepDef {
    /// Its name.
    pub name: Ident,
    /// Its parameters.
    pub params: Vec<Param>,
    /// Its settings: `image`, `run` or `command`/`args`, `env`, `outputs`, ...
    pub fields: Vec<Field>,
    /// Declared `private`: only its own file can use it.
    pub private: bool,
    /// The whole declaration.
    pub span: Span,
}

/// `environment name { field* }`: a place a pipeline deploys to.
#[derive(Debug)]
pub struct Environment {
    /// Its name.
    pub name: Ident,
    /// Its settings: `namespace`, `replicas`.
    pub fields: Vec<Field>,
    /// Declared `private`: only its own file can use it.
    pub private: bool,
    /// The whole declaration.
    pub span: Span,
}

/// `pipeline { ... }`: a service's CI.
#[derive(Debug)]
pub struct Pipeline {
    /// The `pipeline` keyword.
    pub keyword: Span,
    /// `on ...` clauses, in source order.
    pub triggers: Vec<Trigger>,
    /// The tasks, in source order.
    pub tasks: Vec<Task>,
    /// Its settings: `source`, `timeout`, `volume`.
    pub fields: Vec<Field>,
    /// The whole block.
    pub span: Span,
}

/// `on push(branch: "main")`; a bare `on pull_request` is a call without arguments.
#[derive(Debug)]
pub struct Trigger {
    /// The event and its filters.
    pub event: Call,
    /// The whole clause.
    pub span: Span,
}

/// One node of a pipeline's DAG.
#[derive(Debug)]
pub struct Task {
    /// Its name; a deploy is named `deploy_<environment>`, with the span of its `deploy` keyword.
    pub name: Ident,
    /// What it does.
    pub kind: TaskKind,
    /// `after a, b`.
    pub after: Vec<Ident>,
    /// `when ...`.
    pub when: Option<Box<Guard>>,
    /// The whole task.
    pub span: Span,
}

/// The kinds of pipeline task.
#[derive(Debug)]
pub enum TaskKind {
    /// `step name = definition(args)`
    Step(Call),
    /// `deploy build.digest to staging`
    Deploy {
        /// The image digest, a step output; boxed, as most tasks are not deploys.
        digest: Box<Expr>,
        /// The environment.
        environment: Ident,
    },
    /// `approve name`
    Approve,
    /// `check name on staging = http_get(...)`
    Check {
        /// The environment checked.
        environment: Ident,
        /// The probe.
        probe: Call,
    },
}

/// A `when` condition of a task.
#[derive(Debug)]
pub enum Guard {
    /// `a or b`
    Or(Box<Guard>, Box<Guard>),
    /// `a and b`
    And(Box<Guard>, Box<Guard>),
    /// `path == value` or `path != value`
    Test {
        /// What is tested: `event.branch`, `build.result`.
        subject: Box<[Ident]>,
        /// True for `==`.
        equal: bool,
        /// The value compared with.
        value: Expr,
        /// The whole test.
        span: Span,
    },
}

/// `release strategy { ... }`: settings, analysis blocks and, for a canary, its steps.
#[derive(Debug)]
pub struct Release {
    /// The `release` keyword.
    pub keyword: Span,
    /// `blue_green` or `canary`.
    pub strategy: Ident,
    /// Its settings.
    pub fields: Vec<Field>,
    /// `before_promotion`, `after_promotion`, `analysis NAME` and `background` blocks, in source order.
    pub analyses: Vec<AnalysisBlock>,
    /// `steps { ... }` blocks (a canary has one; more are reported by the checker).
    pub steps: Vec<Steps>,
    /// The whole block.
    pub span: Span,
}

/// `steps { weight 20% pause 5m analyze slo }`
#[derive(Debug)]
pub struct Steps {
    /// The `steps` keyword.
    pub keyword: Span,
    /// The steps in order.
    pub steps: Vec<CanaryStep>,
    /// The whole block.
    pub span: Span,
}

/// One step of a canary.
#[derive(Debug)]
pub struct CanaryStep {
    /// What the step does.
    pub kind: CanaryStepKind,
    /// The whole step.
    pub span: Span,
}

/// The kinds of canary step.
#[derive(Debug)]
pub enum CanaryStepKind {
    /// `weight 20%`
    Weight(Expr),
    /// `pause 5m`, or `pause` until promoted.
    Pause(Option<Expr>),
    /// `analyze slo`
    Analyze(Ident),
}

/// When an analysis block runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Against the preview, before promotion.
    BeforePromotion,
    /// Against the active Service, after promotion.
    AfterPromotion,
    /// A canary's `analysis NAME`, run by its `analyze NAME` steps.
    Step,
    /// For the whole of a canary update.
    Background,
}

impl Phase {
    /// The keyword that opens the block.
    pub fn keyword(self) -> &'static str {
        match self {
            Phase::BeforePromotion => "before_promotion",
            Phase::AfterPromotion => "after_promotion",
            Phase::Step => "analysis",
            Phase::Background => "background",
        }
    }
}

/// `before_promotion { ... }`, `after_promotion { ... }`, `analysis NAME { ... }` or `background { ... }`
#[derive(Debug)]
pub struct AnalysisBlock {
    /// Which one.
    pub phase: Phase,
    /// The keyword.
    pub keyword: Span,
    /// The name of an `analysis NAME` block.
    pub name: Option<Ident>,
    /// Checks, in source order.
    pub checks: Vec<Check>,
    /// Rollback rules, in source order.
    pub rollbacks: Vec<Rollback>,
    /// The whole block.
    pub span: Span,
}

/// `check name = call`
#[derive(Debug)]
pub struct Check {
    /// The check's name; it names the analysis metric.
    pub name: Ident,
    /// What to probe, e.g. `http_get("/healthz")`.
    pub probe: Call,
    /// The whole declaration.
    pub span: Span,
}

/// `rollback when condition (every .., samples .., tolerate ..)?`, or `observe condition ...`
#[derive(Debug)]
pub struct Rollback {
    /// The `rollback` or `observe` keyword.
    pub keyword: Span,
    /// `observe`: measured and recorded, but never rolls back.
    pub observe: bool,
    /// When to roll back.
    pub condition: Condition,
    /// `every`, `samples`, `tolerate`, in source order.
    pub options: Vec<MeasureOption>,
    /// The whole declaration.
    pub span: Span,
}

/// One of `every 1m`, `samples 5`, `tolerate 1`, `inconclusive 1`, `consecutive_errors 2`, `initial_delay 1m`.
#[derive(Debug)]
pub struct MeasureOption {
    /// The option keyword.
    pub key: Ident,
    /// Its value.
    pub value: Expr,
}

/// A rollback condition.
#[derive(Debug)]
pub enum Condition {
    /// `a or b`
    Or(Box<Condition>, Box<Condition>, Span),
    /// `a and b`; the span is the `and` keyword.
    And(Box<Condition>, Box<Condition>, Span),
    /// `metric(args) > threshold`
    Compare(Box<Comparison>),
}

/// `metric(args) op threshold`
#[derive(Debug)]
pub struct Comparison {
    /// The metric call.
    pub metric: Call,
    /// The operator.
    pub op: CompareOp,
    /// Where the operator is.
    pub op_span: Span,
    /// The threshold.
    pub threshold: Threshold,
    /// The whole comparison.
    pub span: Span,
}

/// What a metric is compared with.
#[derive(Debug)]
pub enum Threshold {
    /// A literal: `1%`, `500ms`, `5`.
    Literal(Expr),
    /// Another measurement, optionally scaled: `1.5 * error_rate(checkout, version: stable)`.
    Metric(Baseline),
}

impl Threshold {
    /// Where it is written.
    pub fn span(&self) -> Span {
        match self {
            Threshold::Literal(expr) => expr.span,
            Threshold::Metric(baseline) => baseline.span,
        }
    }
}

/// `factor * metric(args)`, or a bare metric call.
#[derive(Debug)]
pub struct Baseline {
    /// The factor and where it is written.
    pub factor: Option<(Decimal, Span)>,
    /// The metric call.
    pub metric: Call,
    /// The whole operand.
    pub span: Span,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CompareOp {
    /// `>`
    Greater,
    /// `>=`
    GreaterEqual,
    /// `<`
    Less,
    /// `<=`
    LessEqual,
}

impl CompareOp {
    /// The operator as written (also valid expr-lang).
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Greater => ">",
            CompareOp::GreaterEqual => ">=",
            CompareOp::Less => "<",
            CompareOp::LessEqual => "<=",
        }
    }
}

impl Condition {
    /// The span of the whole condition.
    pub fn span(&self) -> Span {
        match self {
            Condition::Or(left, right, _) | Condition::And(left, right, _) => left.span().to(right.span()),
            Condition::Compare(comparison) => comparison.span,
        }
    }
}

/// `metric name(params) : unit = provider "query"`
#[derive(Debug)]
pub struct Metric {
    /// Its name.
    pub name: Ident,
    /// Its parameters.
    pub params: Vec<Param>,
    /// `ratio`, `seconds`, `count`, `percent`, `bytes` or `per_second`.
    pub unit: Ident,
    /// `prometheus`.
    pub provider: Ident,
    /// The query, with `${param}` interpolations.
    pub query: StrLit,
    /// Declared `private`: only its own file can use it.
    pub private: bool,
    /// The whole declaration.
    pub span: Span,
}

/// `name: type (= default)?`
#[derive(Debug)]
pub struct Param {
    /// Its name.
    pub name: Ident,
    /// Its type name.
    pub type_name: Ident,
    /// The default value.
    pub default: Option<Expr>,
    /// The whole parameter.
    pub span: Span,
}

/// `name = value`
#[derive(Debug)]
pub struct Field {
    /// The setting's name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
    /// The whole field.
    pub span: Span,
}

/// A value.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What kind of value.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// The kinds of value.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// `"text"` or `"""text"""`.
    Str(StrLit),
    /// `42`, `0.99`.
    Number(Decimal),
    /// A number with units: `30s`, `1h30m`, `250m`, `512Mi`, `70%`.
    Quantity(Quantity),
    /// `true` / `false`.
    Bool(bool),
    /// A name or dotted path: `manual`, `checkout`, `platform.registry`.
    Path(Box<[Ident]>),
    /// `f(args)`; boxed, as it is twice the size of any other expression.
    Call(Box<Call>),
    /// `{ key: value, ... }`.
    Object(Vec<Entry>),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `low..high`.
    Range(Box<Expr>, Box<Expr>),
    /// A literal that could not be read (its error is already reported); checks pass over it.
    Invalid,
}

impl Expr {
    /// True for a literal whose error was already reported, which no check should report again.
    pub fn is_invalid(&self) -> bool {
        matches!(self.kind, ExprKind::Invalid)
    }
}

/// A number with one or more unit suffixes.
#[derive(Clone, Debug)]
pub struct Quantity {
    /// `(number, unit)` in order: `1h30m` is `[(1, "h"), (30, "m")]`.
    pub parts: Box<[(Decimal, String)]>,
}

/// `name(args)`
#[derive(Clone, Debug)]
pub struct Call {
    /// The function or metric, possibly qualified.
    pub callee: Box<[Ident]>,
    /// Arguments in order.
    pub args: Box<[Arg]>,
    /// The whole call.
    pub span: Span,
}

impl Call {
    /// The callee as written, e.g. `http_get`.
    pub fn callee_name(&self) -> String {
        join_path(&self.callee)
    }

    /// The span of the callee name.
    pub fn callee_span(&self) -> Span {
        match (self.callee.first(), self.callee.last()) {
            (Some(first), Some(last)) => first.span.to(last.span),
            _ => self.span,
        }
    }
}

/// Joins a dotted path back into text.
pub fn join_path(path: &[Ident]) -> String {
    path.iter()
        .map(|ident| ident.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// One argument: positional, or `name: value`.
#[derive(Clone, Debug)]
pub struct Arg {
    /// The name, for a named argument.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
    /// The whole argument.
    pub span: Span,
}

/// `key: value` in an object.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The key.
    pub key: Ident,
    /// The value.
    pub value: Expr,
}

/// A string literal, decoded, split into text and `${...}` interpolations.
#[derive(Clone, Debug)]
pub struct StrLit {
    /// The pieces, in order.
    pub parts: Box<[StrPart]>,
    /// The whole literal, quotes included.
    pub span: Span,
    /// A bad escape or interpolation was reported while decoding: later phases leave it alone.
    pub malformed: bool,
}

impl StrLit {
    /// The text when the literal has no interpolation.
    pub fn as_plain(&self) -> Option<String> {
        let mut text = String::new();
        for part in &self.parts {
            match part {
                StrPart::Text(piece) => text.push_str(&piece.text),
                StrPart::Interpolation(_) => return None,
            }
        }
        Some(text)
    }

    /// The interpolations, in order.
    pub fn interpolations(&self) -> impl Iterator<Item = &Interpolation> {
        self.parts.iter().filter_map(|part| match part {
            StrPart::Interpolation(interpolation) => Some(interpolation),
            StrPart::Text(_) => None,
        })
    }
}

/// A piece of a string literal.
#[derive(Clone, Debug)]
pub enum StrPart {
    /// Literal text.
    Text(TextPiece),
    /// `${a.b}`.
    Interpolation(Interpolation),
}

/// Decoded literal text with a map back to the source, so a problem inside a string (a bad query
/// character, say) can be pointed at exactly.
#[derive(Clone, Debug)]
pub struct TextPiece {
    /// The decoded text.
    pub text: String,
    /// `(text offset, source offset)` at each point where the two stop advancing together (after an
    /// escape or a removed indentation); sorted by text offset, the first at text offset 0.
    pub anchors: Box<[(u32, u32)]>,
    /// The file.
    pub source: SourceId,
}

impl TextPiece {
    /// The source span of a byte range of [`TextPiece::text`].
    pub fn span_of(&self, start: usize, end: usize) -> Span {
        let at = |offset: usize| {
            let offset = offset as u32;
            let idx = self.anchors.partition_point(|(text_offset, _)| *text_offset <= offset);
            let (text_offset, source_offset) = self.anchors.get(idx.saturating_sub(1)).copied().unwrap_or((0, 0));
            source_offset + (offset - text_offset)
        };
        Span::new(self.source, at(start), at(end))
    }
}

/// `${a.b}` inside a string.
#[derive(Clone, Debug)]
pub struct Interpolation {
    /// The dotted name.
    pub path: Box<[Ident]>,
    /// `${` to `}`.
    pub span: Span,
}
