//! Pest pairs to AST nodes: the one place where pest spans become [`Span`]s.
//!
//! The grammar guarantees the shape of every pair, but the builder still never unwraps: a pair of an
//! unexpected shape becomes an internal-error diagnostic ([`Malformed`]) instead of a panic.

use pest::iterators::{Pair, Pairs};

use super::ast::*;
use super::grammar::Rule;
use super::strings;
use crate::decimal::Decimal;
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::source::{SourceId, Span};

/// The tree did not have the shape the grammar promises; carries where.
#[derive(Debug)]
pub struct Malformed {
    /// Where the builder noticed.
    pub span: Span,
    /// Which rule it was looking at.
    pub rule: Rule,
}

impl Malformed {
    /// The internal-error diagnostic for it.
    pub fn into_diagnostic(self) -> Diagnostic {
        Diagnostic::new(
            Code::E0001,
            self.span,
            format!("internal error: unexpected syntax tree at {:?}", self.rule),
        )
        .help("this is a bug in shipc; please report it with the file that triggers it")
    }
}

type Built<T> = Result<T, Malformed>;

/// `items` without spare capacity: every tree stays alive until checking ends, so what `push` leaves
/// unused would be held once per file.
fn exact<T>(mut items: Vec<T>) -> Vec<T> {
    items.shrink_to_fit();
    items
}

/// The most comparisons one rollback condition, or one `when` guard of a pipeline task, may have.
pub const MAX_CONDITION_TERMS: usize = 64;

/// Builds AST nodes for one chunk that starts at byte `offset` of `source`.
pub struct Builder<'d> {
    source: SourceId,
    offset: u32,
    diagnostics: &'d mut Diagnostics,
}

impl<'d> Builder<'d> {
    /// A builder for the chunk at `offset`.
    pub fn new(source: SourceId, offset: usize, diagnostics: &'d mut Diagnostics) -> Builder<'d> {
        Builder {
            source,
            offset: offset as u32,
            diagnostics,
        }
    }

    /// The span of a pair, ending at its last token: pest counts the whitespace it skipped before a
    /// trailing `?` or `*` that matched nothing as part of the rule, which would underline it too.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let start = pair.as_span().start();
        let mut last = pair.clone();
        while let Some(child) = last.clone().into_inner().next_back() {
            last = child;
        }
        let end = last.as_span().end().max(start);
        Span::new(self.source, self.offset + start as u32, self.offset + end as u32)
    }

    fn malformed(&self, pair: &Pair<'_, Rule>) -> Malformed {
        Malformed {
            span: self.span(pair),
            rule: pair.as_rule(),
        }
    }

    /// The next inner pair, which must be `rule`.
    fn expect<'i>(&self, parent: &Pair<'i, Rule>, pairs: &mut Pairs<'i, Rule>, rule: Rule) -> Built<Pair<'i, Rule>> {
        match pairs.next() {
            Some(pair) if pair.as_rule() == rule => Ok(pair),
            Some(pair) => Err(self.malformed(&pair)),
            None => Err(self.malformed(parent)),
        }
    }

    /// The inner pairs with punctuation and keywords left out: only the pairs that carry content.
    fn content<'i>(pair: &Pair<'i, Rule>) -> Pairs<'i, Rule> {
        pair.clone().into_inner()
    }

    /// The declarations of a `file` pair.
    pub fn file(&mut self, file: Pair<'_, Rule>) -> Built<Vec<Item>> {
        let mut items = Vec::new();
        for pair in file.into_inner() {
            match pair.as_rule() {
                Rule::import_decl => items.push(Item::Import(self.import(pair)?)),
                Rule::platform_decl => items.push(Item::Platform(Box::new(self.platform(pair)?))),
                Rule::service_decl => items.push(Item::Service(Box::new(self.service(pair)?))),
                Rule::metric_decl => items.push(Item::Metric(Box::new(self.metric(pair)?))),
                Rule::step_decl => items.push(Item::Step(Box::new(self.step_def(pair)?))),
                Rule::environment_decl => items.push(Item::Environment(Box::new(self.environment(pair)?))),
                Rule::check_def => items.push(Item::Check(Box::new(self.check_def(pair)?))),
                Rule::EOI => {}
                _ => return Err(self.malformed(&pair)),
            }
        }
        Ok(items)
    }

    fn import(&mut self, pair: Pair<'_, Rule>) -> Built<Import> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        self.expect(&pair, &mut inner, Rule::kw_import)?;
        let mut names = None;
        let mut path = None;
        let mut alias = None;
        for child in inner {
            match child.as_rule() {
                Rule::import_names => {
                    names = Some(exact(
                        Self::content(&child)
                            .filter(|name| name.as_rule() == Rule::name)
                            .map(|name| self.ident(&name))
                            .collect(),
                    ));
                }
                Rule::string => path = Some(self.string(child)?),
                Rule::import_alias => alias = Some(self.ident(&child)),
                Rule::kw_from | Rule::kw_as => {}
                _ => return Err(self.malformed(&child)),
            }
        }
        let Some(path) = path else {
            return Err(self.malformed(&pair));
        };
        let kind = match (names, alias) {
            (Some(names), _) => ImportKind::Names(names),
            (None, Some(alias)) => ImportKind::Alias(alias),
            (None, None) => ImportKind::All,
        };
        Ok(Import { path, kind, span })
    }

    /// Consumes a leading `private`, telling whether there was one.
    fn private(inner: &mut Pairs<'_, Rule>) -> bool {
        let private = inner.peek().is_some_and(|pair| pair.as_rule() == Rule::private);
        if private {
            inner.next();
        }
        private
    }

    fn check_def(&mut self, pair: Pair<'_, Rule>) -> Built<CheckDef> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        let private = Self::private(&mut inner);
        self.expect(&pair, &mut inner, Rule::kw_check)?;
        let name = self.ident(&self.expect(&pair, &mut inner, Rule::check_name)?);
        let mut params = Vec::new();
        let mut probe = None;
        for child in inner {
            match child.as_rule() {
                Rule::param => params.push(self.param(child)?),
                Rule::call => probe = Some(self.call(child)?),
                Rule::lparen | Rule::rparen | Rule::comma | Rule::eq => {}
                _ => return Err(self.malformed(&child)),
            }
        }
        let Some(probe) = probe else {
            return Err(self.malformed(&pair));
        };
        Ok(CheckDef {
            name,
            params: exact(params),
            probe,
            private,
            span,
        })
    }

    fn platform(&mut self, pair: Pair<'_, Rule>) -> Built<Platform> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        let keyword = self.span(&self.expect(&pair, &mut inner, Rule::kw_platform)?);
        let mut fields = Vec::new();
        for child in inner {
            match child.as_rule() {
                Rule::field => fields.push(self.field(child)?),
                Rule::lbrace | Rule::rbrace => {}
                _ => return Err(self.malformed(&child)),
            }
        }
        Ok(Platform {
            keyword,
            fields: exact(fields),
            span,
        })
    }

    fn service(&mut self, pair: Pair<'_, Rule>) -> Built<Service> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        self.expect(&pair, &mut inner, Rule::kw_service)?;
        let name = self.ident(&self.expect(&pair, &mut inner, Rule::service_name)?);
        let mut fields = Vec::new();
        let mut releases = Vec::new();
        let mut pipelines = Vec::new();
        for child in inner {
            match child.as_rule() {
                Rule::field => fields.push(self.field(child)?),
                Rule::release_decl => releases.push(self.release(child)?),
                Rule::pipeline_decl => pipelines.push(self.pipeline(child)?),
                Rule::lbrace | Rule::rbrace => {}
                _ => return Err(self.malformed(&child)),
            }
        }
        Ok(Service {
            name,
            fields: exact(fields),
            releases: exact(releases),
            pipelines: exact(pipelines),
            span,
        })
    }

    fn step_def(&mut self, pair: Pair<'_, Rule>) -> Built<StepDef> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        let private = Self::private(&mut inner);
        self.expect(&pair, &mut inner, Rule::kw_step)?;
        let name = self.ident(&self.expect(&pair, &mut inner, Rule::step_name)?);
        let mut params = Vec::new();
        let mut fields = Vec::new();
        for child in inner {
            match child.as_rule() {
                Rule::param => params.push(self.param(child)?),
                Rule::field => fields.push(self.field(child)?),
                Rule::lparen | Rule::rparen | Rule::comma | Rule::lbrace | Rule::rbrace => {}
                _ => return Err(self.malformed(&child)),
            }
        }
        Ok(StepDef {
            name,
            params: exact(params),
            fields: exact(fields),
            private,
            span,
        })
    }

    fn environment(&mut self, pair: Pair<'_, Rule>) -> Built<Environment> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        let private = Self::private(&mut inner);
        self.expect(&pair, &mut inner, Rule::kw_environment)?;
        let name = self.ident(&self.expect(&pair, &mut inner, Rule::environment_name)?);
        let mut fields = Vec::new();
        for child in inner {
            match child.as_rule() {
                Rule::field => fields.push(self.field(child)?),
                Rule::lbrace | Rule::rbrace => {}
                _ => return Err(self.malformed(&child)),
            }
        }
        Ok(Environment {
            name,
            fields: exact(fields),
            private,
            span,
        })
    }

    fn pipeline(&mut self, pair: Pair<'_, Rule>) -> Built<Pipeline> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        let keyword = self.span(&self.expect(&pair, &mut inner, Rule::kw_pipeline)?);
        let mut triggers = Vec::new();
        let mut tasks = Vec::new();
        let mut fields = Vec::new();
        for child in inner {
            match child.as_rule() {
                Rule::field => fields.push(self.field(child)?),
                Rule::trigger => triggers.push(self.trigger(child)?),
                Rule::step_use | Rule::deploy_task | Rule::approve_task | Rule::pipeline_check => {
                    tasks.push(self.task(child)?);
                }
                Rule::lbrace | Rule::rbrace => {}
                _ => return Err(self.malformed(&child)),
            }
        }
        Ok(Pipeline {
            keyword,
            triggers: exact(triggers),
            tasks: exact(tasks),
            fields: exact(fields),
            span,
        })
    }

    fn trigger(&mut self, pair: Pair<'_, Rule>) -> Built<Trigger> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        self.expect(&pair, &mut inner, Rule::kw_on)?;
        let event = match inner.next() {
            Some(call) if call.as_rule() == Rule::call => self.call(call)?,
            Some(name) if name.as_rule() == Rule::name => {
                let ident = self.ident(&name);
                Call {
                    span: ident.span,
                    callee: Box::new([ident]),
                    args: Box::default(),
                }
            }
            _ => return Err(self.malformed(&pair)),
        };
        Ok(Trigger { event, span })
    }

    fn task(&mut self, pair: Pair<'_, Rule>) -> Built<Task> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = Self::content(&pair);
        let keyword = match inner.next() {
            Some(keyword) => self.span(&keyword),
            None => return Err(self.malformed(&pair)),
        };
        let (name, kind) = match rule {
            Rule::step_use => {
                let name = self.ident(&self.expect(&pair, &mut inner, Rule::name)?);
                self.expect(&pair, &mut inner, Rule::eq)?;
                let call = self.call(self.expect(&pair, &mut inner, Rule::call)?)?;
                (name, TaskKind::Step(call))
            }
            Rule::deploy_task => {
                let digest_pair = self.expect(&pair, &mut inner, Rule::path)?;
                let digest = Expr {
                    span: self.span(&digest_pair),
                    kind: ExprKind::Path(self.path(&digest_pair)),
                };
                self.expect(&pair, &mut inner, Rule::kw_to)?;
                let environment = self.ident(&self.expect(&pair, &mut inner, Rule::name)?);
                let name = Ident {
                    name: format!("deploy_{}", environment.name),
                    span: keyword,
                };
                (
                    name,
                    TaskKind::Deploy {
                        digest: Box::new(digest),
                        environment,
                    },
                )
            }
            Rule::approve_task => (
                self.ident(&self.expect(&pair, &mut inner, Rule::name)?),
                TaskKind::Approve,
            ),
            Rule::pipeline_check => {
                let name = self.ident(&self.expect(&pair, &mut inner, Rule::name)?);
                self.expect(&pair, &mut inner, Rule::kw_on)?;
                let environment = self.ident(&self.expect(&pair, &mut inner, Rule::name)?);
                self.expect(&pair, &mut inner, Rule::eq)?;
                let probe = self.call(self.expect(&pair, &mut inner, Rule::call)?)?;
                (name, TaskKind::Check { environment, probe })
            }
            _ => return Err(self.malformed(&pair)),
        };
        let mut after = Vec::new();
        let mut when = None;
        for clause in inner {
            match clause.as_rule() {
                Rule::after_clause => after.extend(
                    Self::content(&clause)
                        .filter(|p| p.as_rule() == Rule::name)
                        .map(|p| self.ident(&p)),
                ),
                Rule::when_clause => {
                    let mut parts = Self::content(&clause);
                    self.expect(&clause, &mut parts, Rule::kw_when)?;
                    let guard = self.expect(&clause, &mut parts, Rule::guard)?;
                    // The task is kept without its guard, so that the tasks after it are not reported
                    // as unknown.
                    if !self.too_many_terms(
                        &guard,
                        Rule::guard_test,
                        "`when` guard",
                        "compare fewer values; a guard tests the event that started the pipeline, which has a handful of fields",
                    ) {
                        when = Some(Box::new(self.guard(guard)?));
                    }
                }
                _ => return Err(self.malformed(&clause)),
            }
        }
        Ok(Task {
            name,
            kind,
            after: exact(after),
            when,
            span,
        })
    }

    /// Reports `pair`, a condition or guard, when it holds more than [`MAX_CONDITION_TERMS`] `term`s.
    /// Its tree is as deep as it has terms, so bounding the terms bounds the recursion of every later
    /// pass over it.
    fn too_many_terms(&mut self, pair: &Pair<'_, Rule>, term: Rule, what: &str, help: &str) -> bool {
        let n_terms = pair
            .clone()
            .into_inner()
            .flatten()
            .filter(|p| p.as_rule() == term)
            .count();
        if n_terms > MAX_CONDITION_TERMS {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0104,
                    self.span(pair),
                    format!("this {what} has {n_terms} comparisons"),
                )
                .label(format!("more than {MAX_CONDITION_TERMS}"))
                .help(help),
            );
        }
        n_terms > MAX_CONDITION_TERMS
    }

    /// `conj (or conj)*`, folded to the left.
    fn guard(&mut self, pair: Pair<'_, Rule>) -> Built<Guard> {
        let mut operands = Vec::new();
        for child in Self::content(&pair) {
            match child.as_rule() {
                Rule::guard_conj => operands.push(self.guard_conjunction(child)?),
                Rule::kw_or => {}
                _ => return Err(self.malformed(&child)),
            }
        }
        let mut operands = operands.into_iter();
        let mut left = operands.next().ok_or_else(|| self.malformed(&pair))?;
        for right in operands {
            left = Guard::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn guard_conjunction(&mut self, pair: Pair<'_, Rule>) -> Built<Guard> {
        let mut operands = Vec::new();
        for child in Self::content(&pair) {
            match child.as_rule() {
                Rule::guard => operands.push(self.guard(child)?),
                Rule::guard_test => {
                    let span = self.span(&child);
                    let mut parts = Self::content(&child);
                    let subject = self.path(&self.expect(&child, &mut parts, Rule::path)?);
                    let equal = self.expect(&child, &mut parts, Rule::equality_op)?.as_str() == "==";
                    let value = self.value(self.expect(&child, &mut parts, Rule::value)?)?;
                    operands.push(Guard::Test {
                        subject,
                        equal,
                        value,
                        span,
                    });
                }
                Rule::kw_and | Rule::lparen | Rule::rparen => {}
                _ => return Err(self.malformed(&child)),
            }
        }
        let mut operands = operands.into_iter();
        let mut left = operands.next().ok_or_else(|| self.malformed(&pair))?;
        for right in operands {
            left = Guard::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn release(&mut self, pair: Pair<'_, Rule>) -> Built<Release> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        let keyword = self.span(&self.expect(&pair, &mut inner, Rule::kw_release)?);
        let strategy = self.ident(&self.expect(&pair, &mut inner, Rule::strategy_name)?);
        let mut fields = Vec::new();
        let mut analyses = Vec::new();
        let mut steps = Vec::new();
        for child in inner {
            match child.as_rule() {
                Rule::field => fields.push(self.field(child)?),
                Rule::before_promotion => analyses.push(self.analysis(child, Phase::BeforePromotion)?),
                Rule::after_promotion => analyses.push(self.analysis(child, Phase::AfterPromotion)?),
                Rule::named_analysis => analyses.push(self.analysis(child, Phase::Step)?),
                Rule::background => analyses.push(self.analysis(child, Phase::Background)?),
                Rule::steps_block => steps.push(self.steps(child)?),
                Rule::lbrace | Rule::rbrace => {}
                _ => return Err(self.malformed(&child)),
            }
        }
        Ok(Release {
            keyword,
            strategy,
            fields: exact(fields),
            analyses: exact(analyses),
            steps: exact(steps),
            span,
        })
    }

    fn steps(&mut self, pair: Pair<'_, Rule>) -> Built<Steps> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        let keyword = self.span(&self.expect(&pair, &mut inner, Rule::kw_steps)?);
        let mut steps = Vec::new();
        for child in inner {
            let step_span = self.span(&child);
            let rule = child.as_rule();
            let mut parts = Self::content(&child).skip(1);
            let kind = match rule {
                Rule::weight_step => match parts.next() {
                    Some(value) => CanaryStepKind::Weight(self.value(value)?),
                    None => return Err(self.malformed(&child)),
                },
                Rule::pause_step => CanaryStepKind::Pause(parts.next().map(|value| self.value(value)).transpose()?),
                Rule::analyze_step => match parts.next() {
                    Some(name) => CanaryStepKind::Analyze(self.ident(&name)),
                    None => return Err(self.malformed(&child)),
                },
                Rule::lbrace | Rule::rbrace => continue,
                _ => return Err(self.malformed(&child)),
            };
            steps.push(CanaryStep { kind, span: step_span });
        }
        Ok(Steps {
            keyword,
            steps: exact(steps),
            span,
        })
    }

    fn analysis(&mut self, pair: Pair<'_, Rule>, phase: Phase) -> Built<AnalysisBlock> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        let keyword = match inner.next() {
            Some(child) => self.span(&child),
            None => return Err(self.malformed(&pair)),
        };
        let mut name = None;
        let mut checks = Vec::new();
        let mut rollbacks = Vec::new();
        for child in inner {
            match child.as_rule() {
                Rule::name => name = Some(self.ident(&child)),
                Rule::check_decl => checks.push(self.check(child)?),
                Rule::rollback_decl | Rule::observe_decl => rollbacks.extend(self.rollback(child)?),
                Rule::lbrace | Rule::rbrace => {}
                _ => return Err(self.malformed(&child)),
            }
        }
        Ok(AnalysisBlock {
            phase,
            keyword,
            name,
            checks: exact(checks),
            rollbacks: exact(rollbacks),
            span,
        })
    }

    fn check(&mut self, pair: Pair<'_, Rule>) -> Built<Check> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        self.expect(&pair, &mut inner, Rule::kw_check)?;
        let name = self.ident(&self.expect(&pair, &mut inner, Rule::name)?);
        self.expect(&pair, &mut inner, Rule::eq)?;
        let probe = self.call(self.expect(&pair, &mut inner, Rule::call)?)?;
        Ok(Check { name, probe, span })
    }

    /// A rollback or observe rule; `None` (after reporting) when its condition is too long to be meant.
    fn rollback(&mut self, pair: Pair<'_, Rule>) -> Built<Option<Rollback>> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        let observe = pair.as_rule() == Rule::observe_decl;
        let keyword = if observe {
            self.span(&self.expect(&pair, &mut inner, Rule::kw_observe)?)
        } else {
            let keyword = self.span(&self.expect(&pair, &mut inner, Rule::kw_rollback)?);
            self.expect(&pair, &mut inner, Rule::kw_when)?;
            keyword
        };
        let condition_pair = self.expect(&pair, &mut inner, Rule::condition)?;
        if self.too_many_terms(
            &condition_pair,
            Rule::comparison,
            "condition",
            "split it into several `rollback when` rules",
        ) {
            return Ok(None);
        }
        let condition = self.condition(condition_pair)?;
        let mut options = Vec::new();
        if let Some(measurement) = inner.next() {
            for option in measurement.into_inner().filter(|p| p.as_rule() == Rule::measure_option) {
                let mut parts = Self::content(&option);
                let key = self.expect(&option, &mut parts, Rule::measure_key)?;
                let value = self.value(self.expect(&option, &mut parts, Rule::value)?)?;
                options.push(MeasureOption {
                    key: self.ident(&key),
                    value,
                });
            }
        }
        Ok(Some(Rollback {
            keyword,
            observe,
            condition,
            options: exact(options),
            span,
        }))
    }

    /// `conjunction (or conjunction)*`, folded to the left.
    fn condition(&mut self, pair: Pair<'_, Rule>) -> Built<Condition> {
        let mut inner = Self::content(&pair);
        let mut left = self.conjunction(self.expect(&pair, &mut inner, Rule::conjunction)?)?;
        while let Some(op) = inner.next() {
            let op_span = self.span(&op);
            let right = self.conjunction(self.expect(&pair, &mut inner, Rule::conjunction)?)?;
            left = Condition::Or(Box::new(left), Box::new(right), op_span);
        }
        Ok(left)
    }

    fn conjunction(&mut self, pair: Pair<'_, Rule>) -> Built<Condition> {
        let mut operands = Vec::new();
        let mut operators = Vec::new();
        for child in Self::content(&pair) {
            match child.as_rule() {
                Rule::comparison => operands.push(Condition::Compare(Box::new(self.comparison(child)?))),
                Rule::condition => operands.push(self.condition(child)?),
                Rule::kw_and => operators.push(self.span(&child)),
                Rule::lparen | Rule::rparen => {}
                _ => return Err(self.malformed(&child)),
            }
        }
        let mut operands = operands.into_iter();
        let mut left = operands.next().ok_or_else(|| self.malformed(&pair))?;
        for (right, op_span) in operands.zip(operators) {
            left = Condition::And(Box::new(left), Box::new(right), op_span);
        }
        Ok(left)
    }

    fn comparison(&mut self, pair: Pair<'_, Rule>) -> Built<Comparison> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        let metric = self.call(self.expect(&pair, &mut inner, Rule::call)?)?;
        let op_pair = self.expect(&pair, &mut inner, Rule::comparison_op)?;
        let op = match op_pair.as_str() {
            ">" => CompareOp::Greater,
            ">=" => CompareOp::GreaterEqual,
            "<" => CompareOp::Less,
            "<=" => CompareOp::LessEqual,
            _ => return Err(self.malformed(&op_pair)),
        };
        let operand = inner.next().ok_or_else(|| self.malformed(&pair))?;
        let threshold = self.threshold(operand)?;
        Ok(Comparison {
            metric,
            op,
            op_span: self.span(&op_pair),
            threshold,
            span,
        })
    }

    /// The right of a comparison: a literal, a metric call, or `factor * metric(..)`.
    fn threshold(&mut self, pair: Pair<'_, Rule>) -> Built<Threshold> {
        let span = self.span(&pair);
        if pair.as_rule() == Rule::scaled_call {
            let mut inner = Self::content(&pair);
            let factor_pair = self.expect(&pair, &mut inner, Rule::number)?;
            let factor_span = self.span(&factor_pair);
            let factor = self.decimal(factor_pair.as_str(), factor_span);
            self.expect(&pair, &mut inner, Rule::star)?;
            let metric = self.call(self.expect(&pair, &mut inner, Rule::call)?)?;
            return Ok(Threshold::Metric(Baseline {
                factor: factor.map(|factor| (factor, factor_span)),
                metric,
                span,
            }));
        }
        let value = self.value(pair)?;
        Ok(match value.kind {
            ExprKind::Call(metric) => Threshold::Metric(Baseline {
                factor: None,
                metric: *metric,
                span: value.span,
            }),
            _ => Threshold::Literal(value),
        })
    }

    fn metric(&mut self, pair: Pair<'_, Rule>) -> Built<Metric> {
        let span = self.span(&pair);
        let mut name = None;
        let mut params = Vec::new();
        let mut unit = None;
        let mut provider = None;
        let mut query = None;
        let mut private = false;
        for child in Self::content(&pair) {
            match child.as_rule() {
                Rule::private => private = true,
                Rule::metric_name => name = Some(self.ident(&child)),
                Rule::param => params.push(self.param(child)?),
                Rule::unit_name => unit = Some(self.ident(&child)),
                Rule::provider_name => provider = Some(self.ident(&child)),
                Rule::string => query = Some(self.string(child)?),
                _ => {}
            }
        }
        match (name, unit, provider, query) {
            (Some(name), Some(unit), Some(provider), Some(query)) => Ok(Metric {
                name,
                params: exact(params),
                unit,
                provider,
                query,
                private,
                span,
            }),
            _ => Err(self.malformed(&pair)),
        }
    }

    fn param(&mut self, pair: Pair<'_, Rule>) -> Built<Param> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        let name = self.ident(&self.expect(&pair, &mut inner, Rule::param_name)?);
        self.expect(&pair, &mut inner, Rule::colon)?;
        let type_name = self.ident(&self.expect(&pair, &mut inner, Rule::type_name)?);
        let default = match inner.find(|p| p.as_rule() == Rule::value) {
            Some(value) => Some(self.value(value)?),
            None => None,
        };
        Ok(Param {
            name,
            type_name,
            default,
            span,
        })
    }

    fn field(&mut self, pair: Pair<'_, Rule>) -> Built<Field> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        let name = self.ident(&self.expect(&pair, &mut inner, Rule::field_name)?);
        self.expect(&pair, &mut inner, Rule::eq)?;
        let value = self.value(self.expect(&pair, &mut inner, Rule::value)?)?;
        Ok(Field { name, value, span })
    }

    /// `atom (.. atom)?`
    fn value(&mut self, pair: Pair<'_, Rule>) -> Built<Expr> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        let low = match inner.next() {
            Some(atom) => self.atom(atom)?,
            None => return Err(self.malformed(&pair)),
        };
        if inner.next().is_none() {
            return Ok(low);
        }
        let high = match inner.next().and_then(|end| end.into_inner().next()) {
            Some(atom) => self.atom(atom)?,
            None => return Err(self.malformed(&pair)),
        };
        Ok(Expr {
            kind: ExprKind::Range(Box::new(low), Box::new(high)),
            span,
        })
    }

    fn atom(&mut self, pair: Pair<'_, Rule>) -> Built<Expr> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::string => ExprKind::Str(self.string(pair)?),
            Rule::number => self
                .decimal(pair.as_str(), span)
                .map_or(ExprKind::Invalid, ExprKind::Number),
            Rule::quantity => self
                .quantity(pair.as_str(), span)
                .map_or(ExprKind::Invalid, ExprKind::Quantity),
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::call => ExprKind::Call(Box::new(self.call(pair)?)),
            Rule::object => ExprKind::Object(self.object(pair)?),
            Rule::list => ExprKind::List(exact(
                Self::content(&pair)
                    .filter(|p| p.as_rule() == Rule::value)
                    .map(|p| self.value(p))
                    .collect::<Built<_>>()?,
            )),
            Rule::path => ExprKind::Path(self.path(&pair)),
            _ => return Err(self.malformed(&pair)),
        };
        Ok(Expr { kind, span })
    }

    fn object(&mut self, pair: Pair<'_, Rule>) -> Built<Vec<Entry>> {
        let mut entries = Vec::new();
        for entry in Self::content(&pair).filter(|p| p.as_rule() == Rule::entry) {
            let mut inner = Self::content(&entry);
            let key = self.ident(&self.expect(&entry, &mut inner, Rule::entry_key)?);
            self.expect(&entry, &mut inner, Rule::colon)?;
            let value = self.value(self.expect(&entry, &mut inner, Rule::value)?)?;
            entries.push(Entry { key, value });
        }
        Ok(exact(entries))
    }

    fn call(&mut self, pair: Pair<'_, Rule>) -> Built<Call> {
        let span = self.span(&pair);
        let mut inner = Self::content(&pair);
        let callee = self.path(&self.expect(&pair, &mut inner, Rule::path)?);
        let n_args = inner.clone().filter(|p| p.as_rule() == Rule::argument).count();
        let mut args = Vec::with_capacity(n_args);
        for argument in inner.filter(|p| p.as_rule() == Rule::argument) {
            let arg_span = self.span(&argument);
            let mut name = None;
            let mut value = None;
            for part in Self::content(&argument) {
                match part.as_rule() {
                    Rule::argument_name => name = Some(self.ident(&part)),
                    Rule::value => value = Some(self.value(part)?),
                    Rule::colon => {}
                    _ => return Err(self.malformed(&part)),
                }
            }
            let value = value.ok_or_else(|| self.malformed(&argument))?;
            args.push(Arg {
                name,
                value,
                span: arg_span,
            });
        }
        Ok(Call {
            callee,
            args: args.into_boxed_slice(),
            span,
        })
    }

    fn path(&self, pair: &Pair<'_, Rule>) -> Box<[Ident]> {
        let inner = Self::content(pair);
        // The names alternate with the dots between them.
        let mut names = Vec::with_capacity(inner.len().div_ceil(2));
        names.extend(inner.filter(|p| p.as_rule() == Rule::name).map(|p| self.ident(&p)));
        names.into_boxed_slice()
    }

    fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }

    fn string(&mut self, pair: Pair<'_, Rule>) -> Built<StrLit> {
        let span = self.span(&pair);
        Ok(strings::decode(
            pair.as_str(),
            span.start,
            self.source,
            self.diagnostics,
        ))
    }

    fn decimal(&mut self, text: &str, span: Span) -> Option<Decimal> {
        let decimal = Decimal::parse(text);
        if decimal.is_none() {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0106,
                    span,
                    format!("the number `{text}` is too large or too precise"),
                )
                .label("does not fit")
                .help("numbers have at most 30 digits, 18 of them after the decimal point"),
            );
        }
        decimal
    }

    /// `1h30m` into `[(1, "h"), (30, "m")]`; `None` (reported) when a number in it does not fit.
    fn quantity(&mut self, text: &str, span: Span) -> Option<Quantity> {
        // Most quantities have a single unit (`30s`, `512Mi`); `1h30m` grows the vector once.
        let mut parts = Vec::with_capacity(1);
        let mut rest = text;
        while !rest.is_empty() {
            let number_len = rest
                .char_indices()
                .find(|(idx, c)| !(c.is_ascii_digit() || *c == '.' || (*idx == 0 && *c == '-')))
                .map_or(rest.len(), |(idx, _)| idx);
            let (number, tail) = rest.split_at(number_len);
            let unit_len = tail
                .char_indices()
                .find(|(_, c)| c.is_ascii_digit())
                .map_or(tail.len(), |(idx, _)| idx);
            let (unit, tail) = tail.split_at(unit_len);
            parts.push((self.decimal(number, span)?, unit.to_string()));
            rest = tail;
        }
        Some(Quantity {
            parts: parts.into_boxed_slice(),
        })
    }
}
