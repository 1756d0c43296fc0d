//! Phase 3, check: types, units and release rules; from a [`Program`] to a typed [`Model`].
//!
//! Every independent problem is reported in one run: each field is checked on its own and a mistake
//! in one never stops the others. A declaration that produced an error is left out of the model (and
//! names that failed to resolve are not reported again where they are used), so one mistake gives one
//! diagnostic. Checks live in one file per family: `service.rs`, `release.rs`, `canary.rs`, `checks.rs`,
//! `check_defs.rs`, `steps.rs`, `pipeline.rs`,
//! `conditions.rs`, `metrics.rs`, `promql.rs`, `k8s_names.rs`, `policy.rs`; shared value readers in `values.rs`,
//! units in `units.rs`.

mod args;
mod canary;
mod check_defs;
mod checks;
mod conditions;
pub mod k8s_names;
mod metrics;
pub mod model;
mod pipeline;
mod platform;
mod policy;
mod promql;
mod release;
mod service;
mod steps;
pub mod units;
mod values;

pub use model::Model;

use std::collections::BTreeSet;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::names::{PlatformId, Program};

/// Checks the whole program. The returned model holds the services that checked clean.
pub fn check(program: &Program, diagnostics: &mut Diagnostics) -> Model {
    let mut checker = Checker {
        program,
        diagnostics,
        platforms: Vec::new(),
        metrics: Vec::new(),
        steps: Vec::new(),
        environments: Vec::new(),
        check_defs: Vec::new(),
        platforms_missing_prometheus_reported: BTreeSet::new(),
        deployed_per_environment: None,
    };
    for declared in &program.platforms {
        let checked = checker.platform(&declared.decl);
        checker.platforms.push(checked);
    }
    for declared in &program.metrics {
        let checked = checker.metric_signature(&declared.decl);
        checker.metrics.push(checked);
    }
    for declared in &program.steps {
        let checked = checker.step_definition(&declared.decl);
        checker.steps.push(checked);
    }
    for declared in &program.environments {
        let checked = checker.environment(&declared.decl);
        checker.environments.push(checked);
    }
    for declared in &program.checks {
        let checked = checker.check_definition(&declared.decl);
        checker.check_defs.push(checked);
    }
    let mut services: Vec<model::Service> = (0..program.services.len())
        .filter_map(|idx| checker.service(crate::names::ServiceId(idx)))
        .collect();
    services.sort_by(|a, b| a.name.cmp(&b.name));
    Model { services }
}

/// The state the checks share.
pub struct Checker<'a> {
    program: &'a Program,
    diagnostics: &'a mut Diagnostics,
    platforms: Vec<Option<platform::Platform>>,
    metrics: Vec<Option<metrics::Signature>>,
    steps: Vec<Option<steps::CheckedStep>>,
    environments: Vec<Option<pipeline::CheckedEnvironment>>,
    check_defs: Vec<Option<check_defs::CheckedDef>>,
    /// Platforms whose missing Prometheus address was reported already: once is enough.
    platforms_missing_prometheus_reported: BTreeSet<PlatformId>,
    /// The service being checked when its pipeline deploys it to environments: its own namespace is
    /// then only known where it runs, and queries read it from the Rollout.
    deployed_per_environment: Option<crate::names::ServiceId>,
}

impl Checker<'_> {
    /// Records a diagnostic.
    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn error_count(&self) -> usize {
        self.diagnostics.error_count()
    }

    /// True the first time a platform without a Prometheus address is met by a metric.
    fn first_use_without_prometheus(&mut self, platform: PlatformId) -> bool {
        self.platforms_missing_prometheus_reported.insert(platform)
    }

    fn checked_platform(&self, id: Option<PlatformId>) -> Option<&platform::Platform> {
        id.and_then(|id| self.platforms.get(id.0)).and_then(Option::as_ref)
    }
}
