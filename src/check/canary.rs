//! The `release canary` block: traffic moved to the new version step by step, with analyses that
//! judge it under real load and abort the release when it fails.
//!
//! Argo Rollouts runs the steps in order and, after the last one, makes the new version stable: it
//! takes all traffic at once. The rules here make that last jump deliberate (E0522) and keep traffic
//! moving one way only (E0521).

use super::Checker;
use super::args::ParamSpec;
use super::conditions::RuleContext;
use super::k8s_names;
use super::model::{Analysis, Canary, CanaryStep, NamedAnalysis, PodCount, TrafficRouter};
use super::release::written_twice;
use super::units::Duration;
use super::values::FieldSet;
use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::names::ModuleId;
use crate::source::Span;
use crate::syntax::ast::{self, CanaryStepKind, Expr, ExprKind, Ident, Phase};

const CANARY_FIELDS: &[&str] = &["max_surge", "max_unavailable", "traffic"];

/// Argo's `maxSurge` when none is set (`utils/defaults/defaults.go`). The documentation says 1, so
/// shipc writes the value out rather than leave readers to guess.
const DEFAULT_MAX_SURGE: PodCount = PodCount::Percent(25);

/// The most pods a count may name; Kubernetes stores it as a 32-bit integer.
const MAX_PODS: u64 = i32::MAX as u64;

impl Checker<'_> {
    /// Checks a `release canary` block of the service `service`.
    pub(super) fn canary(&mut self, release: &ast::Release, module: ModuleId, service: &Ident) -> Option<Canary> {
        let errors_before = self.error_count();
        let fields = FieldSet::new(self, &release.fields, CANARY_FIELDS, "a canary release");
        let max_surge = fields
            .get("max_surge")
            .map(|field| self.pod_count(&field.value, "`max_surge`", None));
        // Kubernetes refuses an unavailability above 100%; a surge above 100% only starts more pods.
        let max_unavailable = fields
            .get("max_unavailable")
            .map(|field| self.pod_count(&field.value, "`max_unavailable`", Some(100)));
        let traffic = fields.get("traffic").map(|field| self.traffic(field));
        let (analyses, background) = self.with_rule_context(module, |checker, context| {
            checker.canary_analyses(release, service, context)
        });
        let steps = self.steps(release);
        let max_surge = max_surge.unwrap_or(Some(DEFAULT_MAX_SURGE))?;
        let max_unavailable = max_unavailable.unwrap_or(Some(PodCount::Pods(0)))?;
        if max_surge.is_zero()
            && max_unavailable.is_zero()
            && let Some(field) = fields.get("max_surge")
        {
            let mut diagnostic = Diagnostic::new(
                Code::E0305,
                field.value.span,
                "`max_surge` and `max_unavailable` are both 0",
            )
            .label("no pod may be added")
            .help("allow at least one extra pod, e.g. `max_surge = 1`")
            .note("the update could neither start a new pod above the desired count nor stop an old one to make room, so Argo rejects the Rollout");
            diagnostic = match fields.get("max_unavailable") {
                Some(unavailable) => diagnostic.secondary(unavailable.value.span, "and none may be missing"),
                None => diagnostic.note("`max_unavailable` is 0 when it is not set"),
            };
            self.report(diagnostic);
        }
        if self.error_count() > errors_before {
            return None;
        }
        Some(Canary {
            span: release.span,
            max_surge,
            max_unavailable,
            traffic: traffic.flatten(),
            steps: steps?,
            analyses: analyses?,
            background: background?,
        })
    }

    /// A whole number of pods, or a whole percentage of the desired count up to `max_percent`.
    fn pod_count(&mut self, expr: &Expr, what: &str, max_percent: Option<u32>) -> Option<PodCount> {
        match &expr.kind {
            ExprKind::Number(_) => self
                .integer(expr, what, 0..=MAX_PODS)
                .and_then(|n| u32::try_from(n).ok())
                .map(PodCount::Pods),
            ExprKind::Quantity(_) => {
                let percent = self.percent(expr, what)?;
                let max = max_percent.unwrap_or(i32::MAX as u32);
                match percent.to_u32().filter(|percent| *percent <= max) {
                    Some(percent) => Some(PodCount::Percent(percent)),
                    None => {
                        let range = match max_percent {
                            Some(max) => format!("a whole percentage from 0% to {max}%"),
                            None => "a whole percentage".to_string(),
                        };
                        self.report(
                            Diagnostic::new(Code::E0305, expr.span, format!("{what} is out of range"))
                                .label(format!("expected {range}, found {percent}%")),
                        );
                        None
                    }
                }
            }
            _ => {
                self.mismatch(expr, what, "a number of pods or a percentage");
                None
            }
        }
    }

    /// `nginx(host: "shop.example.com")`.
    fn traffic(&mut self, field: &ast::Field) -> Option<TrafficRouter> {
        let expr = &field.value;
        let ExprKind::Call(call) = &expr.kind else {
            self.mismatch(
                expr,
                "`traffic`",
                "a traffic router such as `nginx(host: \"shop.example.com\")`",
            );
            return None;
        };
        let args = self.builtin_args(call, "nginx", "traffic router", &[ParamSpec::required("host")])?;
        let host_expr = args.first().copied().flatten()?;
        let host = self.plain_string(host_expr, "the host")?;
        k8s_names::check_host(self, &host, host_expr.span).then_some(TrafficRouter::Nginx { host, span: field.span })
    }

    /// The `analysis NAME` blocks and the `background` block; blue/green phases are reported.
    fn canary_analyses(
        &mut self,
        release: &ast::Release,
        service: &Ident,
        context: &RuleContext<'_>,
    ) -> (Option<Vec<NamedAnalysis>>, Option<Analysis>) {
        let mut named = Some(Vec::new());
        let mut background = Some(Analysis::default());
        let mut background_seen: Option<Span> = None;
        // Keyed by template name: `slo_a` and `slo-a` would both be `<service>-slo-a`.
        let mut templates: Vec<(String, &Ident)> = Vec::new();
        for block in &release.analyses {
            match (block.phase, &block.name) {
                (Phase::BeforePromotion | Phase::AfterPromotion, _) => {
                    self.report(not_in_canary(block.keyword, block.phase.keyword()));
                    named = None;
                }
                (Phase::Background, _) => {
                    if let Some(first) = background_seen {
                        self.report(written_twice(block.keyword, first, "background"));
                        background = None;
                        continue;
                    }
                    background_seen = Some(block.keyword);
                    let analysis = self.analysis(block, context);
                    background = background.and(analysis);
                }
                (Phase::Step, Some(name)) => {
                    let template = k8s_names::analysis_template_name(&service.name, &name.name);
                    if let Some((_, first)) = templates.iter().find(|(taken, _)| *taken == template) {
                        self.report(analysis_defined_twice(name, first, &template));
                        named = None;
                        continue;
                    }
                    templates.push((template, name));
                    let valid_name = k8s_names::check_analysis_name(self, &service.name, name);
                    let analysis = self.analysis(block, context).filter(|_| valid_name);
                    named = match (named, analysis) {
                        (Some(mut named), Some(analysis)) => {
                            named.push(NamedAnalysis {
                                name: name.name.clone(),
                                analysis,
                            });
                            Some(named)
                        }
                        _ => None,
                    };
                }
                // The grammar gives every `analysis` block a name.
                (Phase::Step, None) => {}
            }
        }
        (named, background)
    }

    /// The one `steps` block, each step checked, and what happens after the last.
    fn steps(&mut self, release: &ast::Release) -> Option<Vec<CanaryStep>> {
        let steps = match release.steps.as_slice() {
            [] => {
                self.report(
                    Diagnostic::new(Code::E0210, release.strategy.span, "the canary has no `steps`")
                        .label("how does traffic move to the new version?")
                        .help("add `steps { ... }` with one step per line, e.g. `weight 20%`, `pause`, `weight 100%`")
                        .note("the steps set the new version's share of traffic, wait, and run analyses, in order"),
                );
                return None;
            }
            [steps, rest @ ..] => {
                for extra in rest {
                    self.report(written_twice(extra.keyword, steps.keyword, "steps"));
                }
                steps
            }
        };
        let analyses: Vec<&ast::AnalysisBlock> = release
            .analyses
            .iter()
            .filter(|block| block.phase == Phase::Step)
            .collect();
        let mut checked: Vec<Option<CanaryStep>> = Vec::new();
        let mut highest: Option<(u32, Span)> = None;
        for step in &steps.steps {
            let step = match &step.kind {
                CanaryStepKind::Weight(expr) => match (self.weight(expr), highest) {
                    (Some(weight), Some((earlier, earlier_span))) if weight <= earlier => {
                        self.report(weight_decreases(weight, expr.span, earlier, earlier_span));
                        None
                    }
                    (Some(weight), _) => {
                        highest = Some((weight, expr.span));
                        Some(CanaryStep::Weight(weight))
                    }
                    (None, _) => None,
                },
                CanaryStepKind::Pause(None) => Some(CanaryStep::Pause(None)),
                CanaryStepKind::Pause(Some(expr)) => self.pause(expr).map(|pause| CanaryStep::Pause(Some(pause))),
                CanaryStepKind::Analyze(name) => self.analyze(name, &analyses),
            };
            checked.push(step);
        }
        match (steps.steps.last(), checked.last()) {
            (None, _) => self.report(
                Diagnostic::new(Code::E0522, steps.keyword, "the canary has no steps")
                    .label("the new version takes all traffic at once")
                    .help("add steps that end with `weight 100%`, an indefinite `pause`, or an `analyze` step"),
            ),
            (Some(last), Some(Some(step))) => {
                if let Some(what) = unguarded(step) {
                    self.report(
                        Diagnostic::new(
                            Code::E0522,
                            last.span,
                            format!("after {what}, the last step, Argo sends all traffic to the new version at once"),
                        )
                        .label("the last step")
                        .help("end with `weight 100%`, an indefinite `pause`, or an `analyze` step")
                        .note("when the steps run out, the new version becomes stable and takes all traffic; the last step should be that move itself, or wait for a person or an analysis before it"),
                    );
                }
            }
            _ => {}
        }
        checked.into_iter().collect()
    }

    /// `weight 20%`: a whole percentage from 1% to 100%.
    fn weight(&mut self, expr: &Expr) -> Option<u32> {
        let percent = self.percent(expr, "`weight`")?;
        if let Some(weight) = percent.to_u32().filter(|weight| (1..=100).contains(weight)) {
            return Some(weight);
        }
        self.report(
            Diagnostic::new(
                Code::E0305,
                expr.span,
                format!("the weight `{percent}%` is out of range"),
            )
            .label("a weight is a whole percentage from 1% to 100%"),
        );
        None
    }

    /// `pause 5m`: at least a second, in whole seconds.
    fn pause(&mut self, expr: &Expr) -> Option<Duration> {
        let duration = self.whole_seconds(expr, "`pause`")?;
        if duration.millis() > 0 {
            return Some(duration);
        }
        self.report(
            Diagnostic::new(Code::E0305, expr.span, "`pause` must be at least `1s`")
                .label("does not wait at all")
                .help("remove the step, or write `pause` alone to wait until someone promotes"),
        );
        None
    }

    /// `analyze slo`: an `analysis slo` block of the same release that measures something.
    fn analyze(&mut self, name: &Ident, analyses: &[&ast::AnalysisBlock]) -> Option<CanaryStep> {
        let Some(block) = analyses
            .iter()
            .find(|block| block.name.as_ref().is_some_and(|n| n.name == name.name))
        else {
            let names = analyses
                .iter()
                .filter_map(|block| block.name.as_ref())
                .map(|n| n.name.as_str());
            let help = suggest::help_for(&name.name, names).unwrap_or_else(|| {
                format!(
                    "declare it in the release: `analysis {} {{ rollback when ... }}`",
                    name.name
                )
            });
            self.report(
                Diagnostic::new(Code::E0201, name.span, format!("unknown analysis `{}`", name.name))
                    .label("no `analysis` block of this release has this name")
                    .help(help),
            );
            return None;
        };
        if block.checks.is_empty() && block.rollbacks.is_empty() {
            self.report(
                Diagnostic::new(
                    Code::E0210,
                    name.span,
                    format!("the analysis `{}` has no check or rule", name.name),
                )
                .label("this step would judge nothing")
                .secondary(block.keyword, "empty analysis")
                .help("add a `rollback when ...` rule or a `check` to the analysis, or remove this step"),
            );
            return None;
        }
        Some(CanaryStep::Analyze(name.name.clone()))
    }
}

impl PodCount {
    fn is_zero(self) -> bool {
        matches!(self, PodCount::Pods(0) | PodCount::Percent(0))
    }
}

/// The last step in words when it leaves the final move to all traffic unguarded.
fn unguarded(step: &CanaryStep) -> Option<String> {
    match step {
        CanaryStep::Weight(weight) if *weight < 100 => Some(format!("`weight {weight}%`")),
        CanaryStep::Pause(Some(duration)) => Some(format!("`pause {}`", duration.to_go())),
        CanaryStep::Weight(_) | CanaryStep::Pause(None) | CanaryStep::Analyze(_) => None,
    }
}

fn weight_decreases(weight: u32, span: Span, earlier: u32, earlier_span: Span) -> Diagnostic {
    let relation = if weight == earlier { "the same as" } else { "below" };
    Diagnostic::new(
        Code::E0521,
        span,
        format!("the weight {weight}% is {relation} the earlier weight {earlier}%"),
    )
    .label("the new version's share of traffic must grow at each `weight` step")
    .secondary(earlier_span, format!("{earlier}% already"))
    .help(format!("give this step a weight above {earlier}%, or remove it"))
    .note("sending traffic back to the stable version is what an abort does: a failed analysis aborts the release, and so does `kubectl argo rollouts abort`")
}

fn analysis_defined_twice(name: &Ident, first: &Ident, template: &str) -> Diagnostic {
    let diagnostic = if name.name == first.name {
        Diagnostic::new(
            Code::E0202,
            name.span,
            format!("the analysis `{}` is defined twice", name.name),
        )
        .label("defined again here")
        .secondary(first.span, "first defined here")
    } else {
        Diagnostic::new(
            Code::E0202,
            name.span,
            format!(
                "the analyses `{}` and `{}` would both be the AnalysisTemplate `{template}`",
                first.name, name.name
            ),
        )
        .label("the same name once `_` is written `-`")
        .secondary(first.span, "the first")
    };
    diagnostic.help("give each analysis its own name")
}

/// A blue/green block written in a canary release.
fn not_in_canary(keyword: Span, block: &str) -> Diagnostic {
    Diagnostic::new(Code::E0520, keyword, format!("a canary release has no `{block}`"))
        .label("belongs to a blue/green release")
        .help("write `analysis NAME { ... }` and run it with an `analyze NAME` step, or `background { ... }` to judge the whole update")
        .note("a canary has no preview Service and no single promotion: the new version takes a growing share of real traffic, and its analyses judge it there")
}
