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

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostics::{Diagnostic, Diagnostics, Severity};
use crate::names::{Declared, PlatformId, Program, ServiceId};
use crate::syntax::ast;

/// Checks the whole program. The returned model holds the services that checked clean.
///
/// The definitions services use (platforms, metrics, steps, environments, checks) are checked first;
/// then the services, which are independent of each other, are checked in parallel, each into its own
/// diagnostics, merged in the order of services so the result does not depend on the threads.
pub fn check(program: &Program, diagnostics: &mut Diagnostics) -> Model {
    let declarations = program.services.iter().map(|declared| &declared.decl).collect();
    model(check_services(program, declarations, diagnostics, |service| service))
}

/// As [`check`], but takes the services' syntax trees out of `program` and frees each as soon as its
/// service is checked, so that the trees and the model are never all in memory at once.
pub fn check_consuming_services(program: &mut Program, diagnostics: &mut Diagnostics) -> Model {
    let declarations = program.take_service_declarations();
    model(check_services(program, declarations, diagnostics, |service| service))
}

/// Checks the whole program for its diagnostics alone, without keeping the model of every service.
pub fn check_only(program: &Program, diagnostics: &mut Diagnostics) {
    let declarations = program.services.iter().map(|declared| &declared.decl).collect();
    check_services(program, declarations, diagnostics, drop);
}

fn model(mut services: Vec<model::Service>) -> Model {
    services.sort_by(|a, b| a.name.cmp(&b.name));
    Model { services }
}

/// Checks the definitions, then every service, handing each service that checked clean to `keep`.
/// `declarations` are the services' declarations, in order of [`ServiceId`].
fn check_services<S: Borrow<ast::Service> + Send, R: Send>(
    program: &Program,
    declarations: Vec<S>,
    diagnostics: &mut Diagnostics,
    keep: impl Fn(model::Service) -> R + Sync,
) -> Vec<R> {
    let mut defs = Definitions::default();
    let mut stage = DefinitionChecks {
        program,
        diagnostics: &mut *diagnostics,
        reported_once: BTreeSet::new(),
    };
    defs.platforms = stage.each(&defs, &program.platforms, |checker, decl| checker.platform(decl));
    defs.metrics = stage.each(&defs, &program.metrics, |checker, decl| checker.metric_signature(decl));
    defs.steps = stage.each(&defs, &program.steps, |checker, decl| checker.step_definition(decl));
    defs.environments = stage.each(&defs, &program.environments, |checker, decl| checker.environment(decl));
    defs.check_defs = stage.each(&defs, &program.checks, |checker, decl| checker.check_definition(decl));
    let mut reported_once = stage.reported_once;

    let numbered: Vec<(ServiceId, S)> = declarations
        .into_iter()
        .enumerate()
        .map(|(idx, decl)| (ServiceId(idx), decl))
        .collect();
    let checked = crate::parallel::map_owned(numbered, |(id, decl)| {
        let mut own = Diagnostics::new();
        let mut checker = Checker::new(program, &mut own, &defs);
        let service = checker.service(id, decl.borrow()).map(&keep);
        let once_per_platform = checker.once_per_platform;
        (service, own, once_per_platform)
    });
    let mut services = Vec::with_capacity(checked.len());
    for (service, own, once_per_platform) in checked {
        diagnostics.append(own);
        merge_once_per_platform(diagnostics, &mut reported_once, once_per_platform);
        services.extend(service);
    }
    services
}

/// The definitions, checked one kind after another: each kind may use the kinds checked before it.
struct DefinitionChecks<'a> {
    program: &'a Program,
    diagnostics: &'a mut Diagnostics,
    /// Platforms whose once-per-platform diagnostic was reported.
    reported_once: BTreeSet<PlatformId>,
}

impl DefinitionChecks<'_> {
    /// Checks every declaration of one kind with `check_one`, in order.
    fn each<T, C>(
        &mut self,
        defs: &Definitions,
        declared: &[Declared<T>],
        check_one: impl Fn(&mut Checker<'_>, &T) -> C,
    ) -> Vec<C> {
        let mut checker = Checker::new(self.program, self.diagnostics, defs);
        let checked = declared
            .iter()
            .map(|each| check_one(&mut checker, &each.decl))
            .collect();
        let once_per_platform = checker.once_per_platform;
        merge_once_per_platform(self.diagnostics, &mut self.reported_once, once_per_platform);
        checked
    }
}

/// Adds the diagnostics one checker held back to say once per platform, unless an earlier checker
/// (in the order of declarations) said it already.
fn merge_once_per_platform(
    diagnostics: &mut Diagnostics,
    reported_once: &mut BTreeSet<PlatformId>,
    once_per_platform: BTreeMap<PlatformId, Diagnostic>,
) {
    for (platform, diagnostic) in once_per_platform {
        if reported_once.insert(platform) {
            diagnostics.push(diagnostic);
        }
    }
}

/// The checked definitions services use, by id; `None` where a definition had errors. Read-only
/// while services are checked.
#[derive(Default)]
struct Definitions {
    platforms: Vec<Option<platform::Platform>>,
    metrics: Vec<Option<metrics::Signature>>,
    steps: Vec<Option<steps::CheckedStep>>,
    environments: Vec<Option<pipeline::CheckedEnvironment>>,
    check_defs: Vec<Option<check_defs::CheckedDef>>,
}

/// The state the checks share.
pub struct Checker<'a> {
    program: &'a Program,
    diagnostics: &'a mut Diagnostics,
    defs: &'a Definitions,
    /// Diagnostics said once per platform, at the first use (E0510), held back until the checkers
    /// that ran apart are merged.
    once_per_platform: BTreeMap<PlatformId, Diagnostic>,
    /// The service being checked when its pipeline deploys it to environments: its own namespace is
    /// then only known where it runs, and queries read it from the Rollout.
    deployed_per_environment: Option<ServiceId>,
}

impl<'a> Checker<'a> {
    fn new(program: &'a Program, diagnostics: &'a mut Diagnostics, defs: &'a Definitions) -> Checker<'a> {
        Checker {
            program,
            diagnostics,
            defs,
            once_per_platform: BTreeMap::new(),
            deployed_per_environment: None,
        }
    }
}

impl Checker<'_> {
    /// Records a diagnostic.
    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Records `diagnostic` unless one was recorded for `platform` already.
    fn report_once_for_platform(&mut self, platform: PlatformId, diagnostic: Diagnostic) {
        self.once_per_platform.entry(platform).or_insert(diagnostic);
    }

    fn error_count(&self) -> usize {
        let held = self
            .once_per_platform
            .values()
            .filter(|d| d.severity() == Severity::Error);
        self.diagnostics.error_count() + held.count()
    }

    fn checked_platform(&self, id: Option<PlatformId>) -> Option<&platform::Platform> {
        id.and_then(|id| self.defs.platforms.get(id.0)).and_then(Option::as_ref)
    }
}
