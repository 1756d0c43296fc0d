//! The `release` block: which strategy, then for `release blue_green` promotion, scale-down delay, and
//! the analyses before and after promotion, with the rules that make a rollback possible at all. The
//! canary strategy is checked in `canary.rs`.

use super::Checker;
use super::args::ParamSpec;
use super::conditions::{Prometheus, RuleContext};
use super::model::{Analysis, BlueGreen, CheckKind, Promotion, Release};
use super::units::Duration;
use super::values::{FieldSet, FirstSeen, unknown_choice};
use crate::diagnostics::{Code, Diagnostic};
use crate::names::ModuleId;
use crate::source::Span;
use crate::syntax::ast::{self, ExprKind, Phase};

const BLUE_GREEN_FIELDS: &[&str] = &["promote", "scale_down_delay", "preview_replicas"];
const STRATEGIES: &[&str] = &["blue_green", "canary"];

impl Checker<'_> {
    /// Checks the service's one `release` block.
    pub(super) fn release(&mut self, service: &ast::Service, module: ModuleId, max_replicas: u32) -> Option<Release> {
        let release = match service.releases.as_slice() {
            [] => {
                self.report(
                    Diagnostic::new(
                        Code::E0210,
                        service.name.span,
                        format!("service `{}` has no `release`", service.name.name),
                    )
                    .label("nothing says how new versions go out")
                    .help("add `release blue_green { promote = manual }`"),
                );
                return None;
            }
            [release, rest @ ..] => {
                for extra in rest {
                    self.report(
                        Diagnostic::new(Code::E0202, extra.keyword, "a service has only one `release`")
                            .label("second release block")
                            .secondary(release.keyword, "first release block")
                            .help("merge the two blocks"),
                    );
                }
                release
            }
        };
        match release.strategy.name.as_str() {
            "blue_green" => self.blue_green(release, module, max_replicas).map(Release::BlueGreen),
            "canary" => self.canary(release, module, &service.name).map(Release::Canary),
            other => {
                self.report(unknown_choice(
                    Code::E0501,
                    release.strategy.span,
                    other,
                    "release strategy",
                    STRATEGIES,
                ));
                None
            }
        }
    }

    fn blue_green(&mut self, release: &ast::Release, module: ModuleId, max_replicas: u32) -> Option<BlueGreen> {
        let errors_before = self.error_count();
        let fields = FieldSet::new(self, &release.fields, BLUE_GREEN_FIELDS, "a blue/green release");
        let promotion = match fields.get("promote") {
            Some(field) => self.promotion(&field.value),
            None => {
                self.report(
                    Diagnostic::new(Code::E0210, release.strategy.span, "the release has no `promote`")
                        .label("how does a verified preview become active?")
                        .help("add `promote = manual` (a person promotes) or `promote = auto` (after the checks pass)"),
                );
                None
            }
        };
        let scale_down_delay = fields
            .get("scale_down_delay")
            .map(|field| (self.whole_seconds(&field.value, "`scale_down_delay`"), field.value.span));
        let preview_replicas = fields
            .get("preview_replicas")
            .map(|field| self.integer(&field.value, "`preview_replicas`", 1..=u64::from(max_replicas.max(1))));
        let (before, after) = self.with_rule_context(module, |checker, context| checker.phases(release, context));
        let (before, after) = (before?, after?);
        let promotion = promotion?;
        if let (Promotion::Auto { .. }, true) = (promotion, before.cannot_fail() && after.cannot_fail())
            && let Some(field) = fields.get("promote")
        {
            self.report(
                Diagnostic::new(Code::E0504, field.value.span, "automatic promotion with nothing to stop a bad version")
                    .label("promotes whatever comes up")
                    .help("add a `before_promotion { check ... }` or an `after_promotion { rollback when ... }`, or `promote = manual`")
                    .note("with no analysis, a version that starts but serves errors is promoted and never rolled back"),
            );
        }
        if let Some((Some(delay), delay_span)) = scale_down_delay {
            self.check_analysis_fits(&after, delay, delay_span);
        }
        if let (Promotion::Auto { after: Some(wait) }, Some(field)) = (promotion, fields.get("promote")) {
            self.check_promotion_waits(&before, wait, field.value.span);
        }
        if self.error_count() > errors_before {
            return None;
        }
        Some(BlueGreen {
            span: release.span,
            promotion,
            scale_down_delay: match scale_down_delay {
                Some((delay, _)) => Some(delay?),
                None => None,
            },
            preview_replicas: match preview_replicas {
                Some(count) => Some(u32::try_from(count?).ok()?),
                None => None,
            },
            before_promotion: before,
            after_promotion: after,
        })
    }

    /// `manual`, `auto` or `auto(after: 10m)`.
    fn promotion(&mut self, expr: &ast::Expr) -> Option<Promotion> {
        let expected = "`manual`, `auto` or `auto(after: 10m)`";
        match &expr.kind {
            ExprKind::Path(path) if path.len() == 1 => match ast::join_path(path).as_str() {
                "manual" => Some(Promotion::Manual),
                "auto" => Some(Promotion::Auto { after: None }),
                other => {
                    self.report(unknown_choice(
                        Code::E0201,
                        expr.span,
                        other,
                        "promotion",
                        &["manual", "auto"],
                    ));
                    None
                }
            },
            ExprKind::Call(call) if call.callee_name() == "auto" => {
                let args = self.bind_args(call, &[ParamSpec::required("after")], "auto")?;
                let after = args.first().copied().flatten()?;
                let delay = self.whole_seconds(after, "`after`")?;
                Some(Promotion::Auto { after: Some(delay) })
            }
            _ => {
                self.mismatch(expr, "`promote`", expected);
                None
            }
        }
    }

    /// Runs `check` with the context rules need: the module's names and its platform's Prometheus.
    pub(super) fn with_rule_context<T>(
        &mut self,
        module: ModuleId,
        check: impl FnOnce(&mut Self, &RuleContext<'_>) -> T,
    ) -> T {
        let platform_id = self.program.scope(module).platform;
        let platform = self.checked_platform(platform_id).cloned();
        let context = RuleContext {
            module,
            prometheus: Prometheus::of(platform_id, platform.as_ref()),
            platform: platform.as_ref(),
        };
        check(self, &context)
    }

    /// The `before_promotion` and `after_promotion` blocks (each may be absent, but not repeated).
    fn phases(&mut self, release: &ast::Release, context: &RuleContext<'_>) -> (Option<Analysis>, Option<Analysis>) {
        let mut before = Some(Analysis::default());
        let mut after = Some(Analysis::default());
        let mut seen: Vec<(Phase, Span)> = Vec::new();
        for steps in &release.steps {
            self.report(not_in_blue_green(steps.keyword, "steps"));
            before = None;
        }
        for block in &release.analyses {
            if matches!(block.phase, Phase::Step | Phase::Background) {
                self.report(not_in_blue_green(block.keyword, block.phase.keyword()));
                before = None;
                continue;
            }
            if let Some((_, first)) = seen.iter().find(|(phase, _)| *phase == block.phase) {
                self.report(written_twice(block.keyword, *first, block.phase.keyword()));
                match block.phase {
                    Phase::BeforePromotion => before = None,
                    _ => after = None,
                }
                continue;
            }
            seen.push((block.phase, block.keyword));
            let analysis = self.analysis(block, context);
            match block.phase {
                Phase::BeforePromotion => before = before.and(analysis),
                _ => after = after.and(analysis),
            }
        }
        (before, after)
    }

    /// The checks and rules of one analysis block.
    pub(super) fn analysis(&mut self, block: &ast::AnalysisBlock, context: &RuleContext<'_>) -> Option<Analysis> {
        let mut analysis = Analysis {
            span: Some(block.span),
            ..Analysis::default()
        };
        let mut ok = true;
        let mut seen = FirstSeen::default();
        for check in &block.checks {
            if let Some(first) = seen.repeat_of(&check.name.name, check.name.span) {
                self.report(
                    Diagnostic::new(
                        Code::E0202,
                        check.name.span,
                        format!("the check `{}` is defined twice", check.name.name),
                    )
                    .label("defined again here")
                    .secondary(first, "first defined here")
                    .help("give each check its own name"),
                );
                ok = false;
                continue;
            }
            match self.check(check, context.module, context.platform) {
                Some(checked) => analysis.checks.push(checked),
                None => ok = false,
            }
        }
        for rule in &block.rollbacks {
            match self.rollback(rule, context) {
                Some(rules) => analysis.rules.extend(rules),
                None => ok = false,
            }
        }
        // The model of every service is kept until it is emitted; a vector grown by pushing has room
        // for four.
        analysis.checks.shrink_to_fit();
        analysis.rules.shrink_to_fit();
        ok.then_some(analysis)
    }

    /// A post-promotion analysis must end before the old version is scaled down, or Argo cancels it and
    /// the rollback it promises could never switch traffic back.
    fn check_analysis_fits(&mut self, after: &Analysis, delay: Duration, delay_span: Span) {
        let Some(longest) = longest_measurement(after).filter(|longest| longest.outlasts(delay)) else {
            return;
        };
        let (message, help) = match longest.length {
            Some(length) => (
                format!(
                    "the post-promotion analysis can take {} but the old version is scaled down after {}",
                    length.to_go(),
                    delay.to_go()
                ),
                format!(
                    "set `scale_down_delay = {}` or more, or leave it out so that the old version waits for the analysis",
                    length.to_go()
                ),
            ),
            None => (
                format!(
                    "the post-promotion analysis has no time limit but the old version is scaled down after {}",
                    delay.to_go()
                ),
                format!(
                    "give the job a `timeout` of {} or less, or leave `scale_down_delay` out so that the old version waits for the analysis",
                    delay.to_go()
                ),
            ),
        };
        self.report(
            Diagnostic::new(Code::E0505, delay_span, message)
                .label("too short for the analysis")
                .secondary(longest.span, longest.reason)
                .help(help)
                .note("Argo cancels a post-promotion analysis when the old version scales down, so a late failure could no longer switch traffic back"),
        );
    }

    /// `auto(after: D)` promotes when D has passed even if the pre-promotion analysis is still running
    /// (Argo then marks the run successful), so D must outlast the analysis.
    fn check_promotion_waits(&mut self, before: &Analysis, after: Duration, after_span: Span) {
        let Some(longest) = longest_measurement(before).filter(|longest| longest.outlasts(after)) else {
            return;
        };
        let (message, help) = match longest.length {
            Some(length) => (
                format!(
                    "promotion after {} would not wait for the pre-promotion analysis, which can take {}",
                    after.to_go(),
                    length.to_go()
                ),
                format!(
                    "write `auto(after: {})` or more, or `auto` to promote as soon as the analysis passes",
                    length.to_go()
                ),
            ),
            None => (
                format!(
                    "promotion after {} would not wait for the pre-promotion analysis, which has no time limit",
                    after.to_go()
                ),
                format!(
                    "give the job a `timeout` of {} or less, or write `auto` to promote as soon as the analysis passes",
                    after.to_go()
                ),
            ),
        };
        self.report(
            Diagnostic::new(Code::E0511, after_span, message)
                .label("promotes before the analysis has decided")
                .secondary(longest.span, longest.reason)
                .help(help)
                .note("when `after` runs out while the pre-promotion analysis is still measuring, Argo marks the analysis successful and promotes"),
        );
    }
}

/// How long an HTTP check can take at worst with Argo's defaults: a request that times out (10 s) is
/// an error, retried every 10 s, and the fifth error in a row ends the measurement: 5 x 10 s + 4 x 10 s.
const CHECK_WORST_CASE_MILLIS: u64 = 90_000;

/// A canary's block written in a blue/green release.
fn not_in_blue_green(keyword: Span, block: &str) -> Diagnostic {
    Diagnostic::new(Code::E0520, keyword, format!("a blue/green release has no `{block}`"))
        .label("belongs to a canary release")
        .help("write `release canary { ... }` for a gradual release, or use `before_promotion` and `after_promotion` here")
        .note("a blue/green release switches all traffic at once; steps, step analyses and background analysis are canary features")
}

/// A block of which a release has only one, written again.
pub(super) fn written_twice(keyword: Span, first: Span, block: &str) -> Diagnostic {
    Diagnostic::new(Code::E0202, keyword, format!("`{block}` is written twice"))
        .label("second block")
        .secondary(first, "first block")
        .help("merge the two blocks")
}

/// The part of an analysis that runs longest, and why it takes that long.
struct Longest {
    /// `None` for a job check without a timeout, which runs until its container ends.
    length: Option<Duration>,
    span: Span,
    reason: String,
}

impl Longest {
    fn outlasts(&self, limit: Duration) -> bool {
        self.length.is_none_or(|length| length > limit)
    }
}

fn longest_measurement(analysis: &Analysis) -> Option<Longest> {
    // Observed rules never fail the analysis, so Argo does not wait for them to decide.
    let rules = analysis.rules.iter().filter(|rule| !rule.observe).map(|rule| {
        let delay = rule.initial_delay.unwrap_or(Duration::from_millis(0));
        let delay_words = match rule.initial_delay {
            Some(delay) => format!(" after an initial delay of {}", delay.to_go()),
            None => String::new(),
        };
        Longest {
            length: Some(Duration::from_millis(
                delay
                    .millis()
                    .saturating_add(rule.every.times(u64::from(rule.samples)).millis()),
            )),
            span: rule.span,
            reason: format!("{} samples every {}{delay_words}", rule.samples, rule.every.to_go()),
        }
    });
    let checks = analysis.checks.iter().map(|check| {
        let (length, reason) = match &check.kind {
            CheckKind::Http { .. } => (
                Some(Duration::from_millis(CHECK_WORST_CASE_MILLIS)),
                "a check that gets no answer is retried for up to 90s".to_string(),
            ),
            CheckKind::Job {
                timeout: Some(timeout), ..
            } => (
                Some(*timeout),
                format!("a job check is stopped after its timeout, {}", timeout.to_go()),
            ),
            CheckKind::Job { timeout: None, .. } => (
                None,
                "a job check without `timeout` runs until its container ends".to_string(),
            ),
        };
        Longest {
            length,
            span: check.span,
            reason,
        }
    });
    rules
        .chain(checks)
        .max_by_key(|longest| longest.length.map_or(u64::MAX, Duration::millis))
}
