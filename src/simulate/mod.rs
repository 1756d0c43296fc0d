//! `shipc simulate` and `shipc preflight`: replay a service's release decisions on metric data.
//!
//! The release is taken from the lowered IR that `emit` serializes (so the simulation runs the
//! conditions, counts, intervals, limits and dry runs Argo will get, not a second reading of the
//! sources), and replayed analysis by analysis:
//!
//! - [`data`] reads recorded data (Prometheus API JSON or OpenMetrics text);
//! - [`expr`] evaluates the emitted expr-lang conditions;
//! - [`argo`] runs one AnalysisRun as Argo Rollouts does;
//! - this module schedules the runs of a release (blue/green: pre-promotion, promotion,
//!   post-promotion; canary: the steps with their analyses, beside the background analysis) and turns
//!   each run's phase into the release's action;
//! - [`render`] prints the timeline; [`live`] asks a live Prometheus (the only IO here, used by the
//!   CLI's `preflight`).
//!
//! `docs/simulate.md` describes the model and its limits.

pub mod argo;
pub mod data;
pub mod expr;
pub mod live;
pub mod render;

use std::collections::{BTreeMap, BTreeSet};

use crate::check::units::MetricUnit;
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::lower::ir::{self, Bundle, Provider, ServiceObjects, TemplateUse};
use crate::source::{SourceMap, Span};
use argo::{Metric, Phase, Reading, RunOutcome};
pub use data::DataFile;

/// What to simulate.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The service.
    pub service: String,
    /// The environment its pipeline deploys to, when it has several.
    pub environment: Option<String>,
    /// Recorded data files; `None` when the data comes from a live Prometheus.
    pub data: Option<Vec<DataFile>>,
}

/// A release ready to replay, with its recorded data.
#[derive(Debug)]
pub struct Prepared {
    /// The release.
    pub release: Release,
    /// The recorded data of each metric (empty for a live Prometheus).
    pub recorded: Recorded,
}

/// The release of one service, as the Rollout will run it.
#[derive(Clone, Debug)]
pub struct Release {
    /// The service.
    pub service: String,
    /// The namespace its Rollout runs in.
    pub namespace: String,
    /// The environment, for a service its pipeline deploys.
    pub environment: Option<String>,
    /// The strategy and its analyses.
    pub strategy: Strategy,
}

/// A release strategy with its analyses.
#[derive(Clone, Debug)]
pub enum Strategy {
    /// Blue/green.
    BlueGreen {
        /// How the new version is promoted.
        promotion: Promotion,
        /// Against the preview Service.
        pre: Option<Analysis>,
        /// Against the active Service, after promotion.
        post: Option<Analysis>,
    },
    /// Canary.
    Canary {
        /// The steps.
        steps: Vec<Step>,
        /// Runs from the start of the update until it completes.
        background: Option<Analysis>,
    },
}

/// Blue/green promotion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Promotion {
    /// A person promotes: assumed to do so as soon as the pre-promotion analysis passed.
    Manual,
    /// As soon as the pre-promotion analysis passed.
    Auto,
    /// This many milliseconds after the preview is ready.
    AutoAfter(i64),
}

/// A canary step.
#[derive(Clone, Debug)]
pub enum Step {
    /// `setWeight`.
    Weight(u32),
    /// `pause`, for milliseconds or until promoted.
    Pause(Option<i64>),
    /// An inline analysis.
    Analysis(Analysis),
}

/// One AnalysisTemplate as a run of it.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The template's name.
    pub template: String,
    /// The analysis block.
    pub origin: Span,
    /// Its metrics, in template order.
    pub metrics: Vec<AnalysisMetric>,
}

/// One metric of an analysis.
#[derive(Clone, Debug)]
pub struct AnalysisMetric {
    /// What decides its phase.
    pub spec: Metric,
    /// What its values measure; `None` for checks.
    pub unit: Option<MetricUnit>,
    /// Where its measurements come from.
    pub source: MetricSource,
}

/// Where a metric's measurements come from.
#[derive(Clone, Debug)]
pub enum MetricSource {
    /// A PromQL query with Argo's `{{args.*}}` placeholders.
    Prometheus {
        /// The Prometheus the template names.
        address: String,
        /// The query as emitted.
        query: String,
    },
    /// A check (web request or Job) against the new version, which metric data cannot replay.
    Check {
        /// `GET <url>` or `job <image>`.
        what: String,
    },
}

/// Recorded data, by the name of the file it came from without its extension.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    recordings: BTreeMap<String, data::Recording>,
}

impl Recorded {
    /// The recording for `metric` of `template`: `<template>/<metric>` first, then `<metric>`.
    pub fn find(&self, template: &str, metric: &str) -> Option<&data::Recording> {
        self.recordings
            .get(&format!("{template}/{metric}"))
            .or_else(|| self.recordings.get(metric))
    }

    /// The earliest sample of all recordings, which a replay starts at unless told otherwise.
    pub fn first_ms(&self) -> Option<i64> {
        self.recordings.values().filter_map(data::Recording::first_ms).min()
    }
}

/// The extensions a data file may have.
pub const DATA_EXTENSIONS: [&str; 2] = [".json", ".om"];

/// Finds the release of the requested service in the lowered bundle and reads the recorded data into
/// `sources`, reporting malformed or missing data. `Err` is a usage problem (no such service).
pub fn prepare(
    bundle: &Bundle,
    request: &Request,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Result<Prepared, String> {
    let objects = find_service(bundle, request)?;
    let release = release_of(objects, request.environment.clone());
    let mut recorded = Recorded::default();
    if let Some(files) = &request.data {
        // A malformed file is reported as such, not again as data that is missing.
        let mut malformed = BTreeSet::new();
        for file in files {
            let Some(key) = DATA_EXTENSIONS.iter().find_map(|ext| file.name.strip_suffix(ext)) else {
                continue;
            };
            let source = sources.add(file.path.clone(), file.text.clone());
            match data::parse(&file.name, &file.text) {
                Ok(recording) => {
                    recorded.recordings.entry(key.to_string()).or_insert(recording);
                }
                Err(error) => {
                    malformed.insert(key.to_string());
                    diagnostics.push(
                        Diagnostic::new(
                            Code::E0530,
                            Span::new(source, offset(error.start), offset(error.end.max(error.start + 1))),
                            error.message,
                        )
                        .help(error.help),
                    );
                }
            }
        }
        for analysis in release.analyses() {
            for metric in &analysis.metrics {
                let MetricSource::Prometheus { query, .. } = &metric.source else {
                    continue;
                };
                let name = &metric.spec.name;
                let malformed_file =
                    malformed.contains(name) || malformed.contains(&format!("{}/{name}", analysis.template));
                if recorded.find(&analysis.template, name).is_none() && !malformed_file {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::E0531,
                            analysis.origin,
                            format!(
                                "no recorded data for metric `{}` of `{}`",
                                metric.spec.name, analysis.template
                            ),
                        )
                        .label("this analysis measures it")
                        .help(format!(
                            "save what Prometheus returns for its query as `{name}.json` (or `{template}/{name}.json`) \
                             in the data directory: `curl -sG PROMETHEUS/api/v1/query_range --data-urlencode \
                             'query={}' -d start=... -d end=... -d step=15s > {name}.json`",
                            one_line(query),
                            name = metric.spec.name,
                            template = analysis.template,
                        )),
                    );
                }
            }
        }
    }
    Ok(Prepared { release, recorded })
}

fn offset(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// A query on one line, for a shell command.
pub fn one_line(query: &str) -> String {
    query.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn find_service<'a>(bundle: &'a Bundle, request: &Request) -> Result<&'a ServiceObjects, String> {
    let direct = bundle.services.iter().find(|objects| objects.name == request.service);
    let deployed: Vec<&ir::EnvironmentDeployment> = bundle
        .environments
        .iter()
        .filter(|deployment| deployment.objects.name == request.service)
        .collect();
    let environments: Vec<&str> = deployed.iter().map(|d| d.environment.as_str()).collect();
    match (&request.environment, direct) {
        (None, Some(objects)) => Ok(objects),
        (Some(environment), _) => deployed
            .iter()
            .find(|deployment| &deployment.environment == environment)
            .map(|deployment| &deployment.objects)
            .ok_or_else(|| match environments.as_slice() {
                [] => format!(
                    "service `{}` is not deployed to environments; leave out --environment",
                    request.service
                ),
                names => format!(
                    "service `{}` is not deployed to `{environment}`; its environments are {}",
                    request.service,
                    names.join(", ")
                ),
            }),
        (None, None) => match deployed.as_slice() {
            [only] => Ok(&only.objects),
            [] => {
                let mut names: Vec<&str> = bundle
                    .services
                    .iter()
                    .map(|objects| objects.name.as_str())
                    .chain(bundle.environments.iter().map(|d| d.objects.name.as_str()))
                    .collect();
                names.sort_unstable();
                names.dedup();
                Err(format!(
                    "there is no service `{}`; the services are {}",
                    request.service,
                    names.join(", ")
                ))
            }
            _ => Err(format!(
                "service `{}` is deployed to several environments; choose one with --environment ({})",
                request.service,
                environments.join(", ")
            )),
        },
    }
}

fn release_of(objects: &ServiceObjects, environment: Option<String>) -> Release {
    let analysis = |usage: &Option<TemplateUse>| {
        usage.as_ref().and_then(|usage| {
            objects
                .analyses
                .iter()
                .find(|template| template.name == usage.name)
                .map(analysis_of)
        })
    };
    let strategy = match &objects.rollout.strategy {
        ir::Strategy::BlueGreen(strategy) => Strategy::BlueGreen {
            promotion: match (strategy.auto_promotion_enabled, strategy.auto_promotion_seconds) {
                (false, _) => Promotion::Manual,
                (true, Some(seconds)) if seconds > 0 => Promotion::AutoAfter(millis(seconds)),
                (true, _) => Promotion::Auto,
            },
            pre: analysis(&strategy.pre_promotion_template),
            post: analysis(&strategy.post_promotion_template),
        },
        ir::Strategy::Canary(strategy) => Strategy::Canary {
            steps: strategy
                .steps
                .iter()
                .filter_map(|step| match step {
                    ir::CanaryStep::SetWeight(weight) => Some(Step::Weight(*weight)),
                    ir::CanaryStep::Pause(duration) => Some(Step::Pause(duration.as_deref().map(go_duration_ms))),
                    ir::CanaryStep::Analysis(usage) => analysis(&Some(usage.clone())).map(Step::Analysis),
                })
                .collect(),
            background: analysis(&strategy.background),
        },
    };
    Release {
        service: objects.name.clone(),
        namespace: objects.namespace.clone(),
        environment,
        strategy,
    }
}

fn millis(seconds: u64) -> i64 {
    i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX)
}

fn analysis_of(template: &ir::AnalysisTemplate) -> Analysis {
    Analysis {
        template: template.name.clone(),
        origin: template.origin,
        metrics: template
            .metrics
            .iter()
            .map(|metric| AnalysisMetric {
                spec: Metric {
                    name: metric.name.clone(),
                    interval_ms: metric.interval.as_deref().map(go_duration_ms),
                    initial_delay_ms: metric.initial_delay.as_deref().map_or(0, go_duration_ms),
                    count: metric.count,
                    failure_limit: metric.failure_limit.unwrap_or(0),
                    inconclusive_limit: metric.inconclusive_limit.unwrap_or(0),
                    consecutive_error_limit: metric
                        .consecutive_error_limit
                        .unwrap_or(argo::DEFAULT_CONSECUTIVE_ERROR_LIMIT),
                    success_condition: metric.success_condition.clone(),
                    failure_condition: metric.failure_condition.clone(),
                    dry_run: metric.dry_run,
                },
                unit: metric.unit,
                source: match &metric.provider {
                    Provider::Prometheus { address, query } => MetricSource::Prometheus {
                        address: address.clone(),
                        query: query.clone(),
                    },
                    Provider::Web { url, .. } => MetricSource::Check {
                        what: format!("GET {url}"),
                    },
                    Provider::Job { image, .. } => MetricSource::Check {
                        what: format!("job {image}"),
                    },
                },
            })
            .collect(),
    }
}

/// Milliseconds of a Go duration as lowering writes them (`1h30m`, `45s`, `500ms`).
pub fn go_duration_ms(text: &str) -> i64 {
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let unit = if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            1.0
        } else {
            match c {
                'h' => 3_600_000.0,
                'm' => 60_000.0,
                's' => 1_000.0,
                _ => 0.0,
            }
        };
        total = total.saturating_add((number.parse::<f64>().unwrap_or(0.0) * unit) as i64);
        number.clear();
    }
    total
}

impl Release {
    /// Every analysis, in the order the release reaches them.
    pub fn analyses(&self) -> Vec<&Analysis> {
        match &self.strategy {
            Strategy::BlueGreen { pre, post, .. } => pre.iter().chain(post.iter()).collect(),
            Strategy::Canary { steps, background } => background
                .iter()
                .chain(steps.iter().filter_map(|step| match step {
                    Step::Analysis(analysis) => Some(analysis),
                    _ => None,
                }))
                .collect(),
        }
    }

    /// How long the release takes when every analysis passes, every pause until promotion ends at
    /// once and no measurement errors: the window a preflight needs.
    pub fn nominal_ms(&self) -> i64 {
        match &self.strategy {
            Strategy::BlueGreen { promotion, pre, post } => {
                let pre = pre.as_ref().map_or(0, Analysis::nominal_ms);
                let promoted = match promotion {
                    Promotion::AutoAfter(after) => *after,
                    _ => pre,
                };
                promoted + post.as_ref().map_or(0, Analysis::nominal_ms)
            }
            Strategy::Canary { steps, .. } => steps
                .iter()
                .map(|step| match step {
                    Step::Weight(_) | Step::Pause(None) => 0,
                    Step::Pause(Some(duration)) => *duration,
                    Step::Analysis(analysis) => analysis.nominal_ms(),
                })
                .sum(),
        }
    }
}

impl Analysis {
    /// When its last measurement is due if none errors.
    pub fn nominal_ms(&self) -> i64 {
        self.metrics
            .iter()
            .map(|metric| {
                let spec = &metric.spec;
                spec.initial_delay_ms + spec.interval_ms.unwrap_or(0) * i64::from(spec.count.saturating_sub(1))
            })
            .max()
            .unwrap_or(0)
    }
}

/// Where measurements are read from: recorded data or a live Prometheus.
pub trait Source {
    /// The reading of `query` (placeholders substituted) at `at_ms` milliseconds since the epoch.
    /// `Err` stops the replay: the source itself is broken (unreachable, refused), which is no
    /// measurement Argo would take.
    fn query(&mut self, template: &str, metric: &str, query: &str, at_ms: i64) -> Result<Reading, String>;
}

impl Source for Recorded {
    fn query(&mut self, template: &str, metric: &str, _query: &str, at_ms: i64) -> Result<Reading, String> {
        self.find(template, metric)
            .map(|recording| Reading::Value(recording.at(at_ms)))
            .ok_or_else(|| format!("no recorded data for `{metric}` of `{template}`"))
    }
}

/// How to replay.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// When the release starts (the new version is ready), in milliseconds since the epoch.
    pub start_ms: i64,
    /// Values of the templates' arguments (`new-hash`, `stable-hash`, `namespace`); missing ones get
    /// [`default_args`].
    pub args: BTreeMap<String, String>,
    /// Checks to count as failed; every other check is assumed to pass.
    pub failing_checks: BTreeSet<String>,
}

/// The argument values used when none is given: the Rollout's namespace, and stand-ins for the pod
/// template hashes, which only a live cluster knows.
pub fn default_args(release: &Release) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("namespace".to_string(), release.namespace.clone()),
        ("new-hash".to_string(), "new".to_string()),
        ("stable-hash".to_string(), "stable".to_string()),
    ])
}

/// `text` with Argo's `{{args.NAME}}` placeholders replaced by `args`.
pub fn resolve(text: &str, args: &BTreeMap<String, String>) -> String {
    args.iter().fold(text.to_string(), |text, (name, value)| {
        text.replace(&format!("{{{{args.{name}}}}}"), value)
    })
}

/// What the release does in the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every analysis passed: the new version becomes stable.
    Promote,
    /// An analysis Failed or Errored: the release is aborted and traffic goes back to the stable version.
    Rollback,
    /// An analysis was Inconclusive: the release pauses for a person.
    Pause,
}

impl Verdict {
    /// As users name it (`--expect`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Promote => "promote",
            Verdict::Rollback => "rollback",
            Verdict::Pause => "pause",
        }
    }
}

/// The replay of one analysis.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// What the analysis is for (`pre-promotion`, `post-promotion`, `step 3`, `background`).
    pub stage: String,
    /// The analysis.
    pub analysis: Analysis,
    /// Milliseconds after the release start when it started.
    pub start_ms: i64,
    /// Each metric's query with the arguments substituted.
    pub queries: Vec<Option<String>>,
    /// The run.
    pub outcome: RunOutcome,
    /// What the release did with its result, one line.
    pub consequence: String,
}

/// A line of the release's own course (steps, promotion), at milliseconds after its start.
#[derive(Clone, Debug)]
pub struct Event {
    /// Milliseconds after the release start.
    pub at_ms: i64,
    /// What happened.
    pub what: String,
}

/// A replayed release.
#[derive(Clone, Debug)]
pub struct Report {
    /// The release.
    pub release: Release,
    /// When it started, in milliseconds since the epoch.
    pub start_ms: i64,
    /// The argument values the queries were resolved with.
    pub args: BTreeMap<String, String>,
    /// The release's course.
    pub events: Vec<Event>,
    /// Every analysis run, in the order started.
    pub runs: Vec<RunReport>,
    /// The outcome.
    pub verdict: Verdict,
    /// Why, in one line, with the time.
    pub reason: String,
}

struct Replayer<'a> {
    release: &'a Release,
    source: &'a mut dyn Source,
    options: &'a Options,
    args: BTreeMap<String, String>,
}

/// How a run ended the release, if it did.
struct Decision {
    verdict: Verdict,
    at_ms: i64,
    reason: String,
}

impl Replayer<'_> {
    /// Runs `analysis` from `start_ms` (after the release start), stopped from outside at `stop_ms`.
    fn run(
        &mut self,
        stage: &str,
        analysis: &Analysis,
        start_ms: i64,
        stop_ms: Option<i64>,
    ) -> Result<RunReport, String> {
        let queries: Vec<Option<String>> = analysis
            .metrics
            .iter()
            .map(|metric| match &metric.source {
                MetricSource::Prometheus { query, .. } => Some(resolve(query, &self.args)),
                MetricSource::Check { .. } => None,
            })
            .collect();
        let specs: Vec<Metric> = analysis.metrics.iter().map(|metric| metric.spec.clone()).collect();
        let mut broken = None;
        let absolute = self.options.start_ms + start_ms;
        let source = &mut *self.source;
        let failing = &self.options.failing_checks;
        let outcome = argo::run(&specs, stop_ms.map(|stop| stop - start_ms), &mut |index, at_ms| {
            let (Some(metric), Some(query)) = (analysis.metrics.get(index), queries.get(index)) else {
                return Reading::Error("no such metric".to_string());
            };
            match (&metric.source, query) {
                (MetricSource::Check { .. }, _) if failing.contains(&metric.spec.name) => {
                    Reading::Decided(Phase::Failed, "marked failed (--fail-check)".to_string())
                }
                (MetricSource::Check { .. }, _) | (_, None) => {
                    Reading::Decided(Phase::Successful, "assumed passing".to_string())
                }
                (MetricSource::Prometheus { .. }, Some(query)) => {
                    match source.query(&analysis.template, &metric.spec.name, query, absolute + at_ms) {
                        Ok(reading) => reading,
                        Err(message) => {
                            broken.get_or_insert(message.clone());
                            Reading::Error(message)
                        }
                    }
                }
            }
        });
        if let Some(message) = broken {
            return Err(message);
        }
        Ok(RunReport {
            stage: stage.to_string(),
            analysis: analysis.clone(),
            start_ms,
            queries,
            outcome,
            consequence: String::new(),
        })
    }
}

/// Why a run decided what it did, e.g. "error-rate failed 2 measurements > failureLimit 1".
pub fn decision_reason(run: &RunReport) -> String {
    let Some(index) = run.outcome.decided_by else {
        return "every metric passed".to_string();
    };
    let (Some(metric), Some((_, tally, _))) = (run.analysis.metrics.get(index), run.outcome.endings.get(index)) else {
        return String::new();
    };
    let spec = &metric.spec;
    match run.outcome.phase {
        Phase::Failed => format!(
            "{} failed {} > failureLimit {}",
            spec.name,
            plural(tally.failed, "measurement"),
            spec.failure_limit
        ),
        Phase::Inconclusive => format!(
            "{} was inconclusive {} > inconclusiveLimit {}",
            spec.name,
            plural(tally.inconclusive, "time"),
            spec.inconclusive_limit
        ),
        Phase::Error => format!(
            "{} errored {} times in a row > consecutiveErrorLimit {}",
            spec.name, tally.consecutive_errors, spec.consecutive_error_limit
        ),
        Phase::Successful => "every metric passed".to_string(),
    }
}

fn plural(n: u32, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// `+1m30s`: milliseconds after a start, as a Go duration.
pub fn offset_text(ms: i64) -> String {
    format!(
        "+{}",
        crate::check::units::Duration::from_millis(u64::try_from(ms).unwrap_or(0)).to_go()
    )
}

/// Replays the release from `options.start_ms`, reading measurements from `source`. `Err` when the
/// source broke (a live Prometheus became unreachable).
pub fn replay(release: &Release, source: &mut dyn Source, options: &Options) -> Result<Report, String> {
    let mut args = default_args(release);
    args.extend(options.args.clone());
    let mut replayer = Replayer {
        release,
        source,
        options,
        args,
    };
    let (events, runs, decision) = match &release.strategy {
        Strategy::BlueGreen { promotion, pre, post } => {
            blue_green(&mut replayer, *promotion, pre.as_ref(), post.as_ref())?
        }
        Strategy::Canary { steps, background } => canary(&mut replayer, steps, background.as_ref())?,
    };
    Ok(Report {
        release: replayer.release.clone(),
        start_ms: options.start_ms,
        args: replayer.args,
        events,
        runs,
        verdict: decision.verdict,
        reason: decision.reason,
    })
}

type Replayed = (Vec<Event>, Vec<RunReport>, Decision);

fn stopping(run: &RunReport, consequence_abort: &str) -> Option<Decision> {
    let at_ms = run.start_ms + run.outcome.ended_ms;
    let why = decision_reason(run);
    match run.outcome.phase {
        Phase::Successful => None,
        Phase::Inconclusive => Some(Decision {
            verdict: Verdict::Pause,
            at_ms,
            reason: format!(
                "pause: {why} at {}; the release waits for a person (`kubectl argo rollouts promote` goes on, `abort` rolls back)",
                offset_text(at_ms)
            ),
        }),
        Phase::Error | Phase::Failed => Some(Decision {
            verdict: Verdict::Rollback,
            at_ms,
            reason: format!("abort: {why} at {}; {consequence_abort}", offset_text(at_ms)),
        }),
    }
}

fn blue_green(
    replayer: &mut Replayer<'_>,
    promotion: Promotion,
    pre: Option<&Analysis>,
    post: Option<&Analysis>,
) -> Result<Replayed, String> {
    let mut events = vec![Event {
        at_ms: 0,
        what: "the new version is ready behind the preview Service".to_string(),
    }];
    let mut runs = Vec::new();
    let auto_after = match promotion {
        Promotion::AutoAfter(after) => Some(after),
        _ => None,
    };
    let mut promoted_at = auto_after.unwrap_or(0);
    if let Some(pre) = pre {
        let mut run = replayer.run("pre-promotion", pre, 0, auto_after)?;
        if let Some(decision) = stopping(
            &run,
            "the active Service stays on the stable version; the preview is scaled down",
        ) {
            run.consequence = decision.reason.clone();
            runs.push(run);
            return Ok((events, runs, decision));
        }
        let ended = run.outcome.ended_ms;
        run.consequence = if run.outcome.stopped {
            format!(
                "auto-promotion elapsed at {} while it ran: Argo marks it Successful",
                offset_text(ended)
            )
        } else {
            format!("Successful at {}", offset_text(ended))
        };
        promoted_at = auto_after.map_or(ended, |after| after.max(ended));
        runs.push(run);
    }
    events.push(Event {
        at_ms: promoted_at,
        what: match promotion {
            Promotion::Manual => {
                "promoted by a person (assumed at once): the active Service switches to the new version"
            }
            Promotion::Auto | Promotion::AutoAfter(_) => "promoted: the active Service switches to the new version",
        }
        .to_string(),
    });
    if let Some(post) = post {
        let mut run = replayer.run("post-promotion", post, promoted_at, None)?;
        if let Some(decision) = stopping(&run, "the active Service is switched back to the stable version") {
            run.consequence = decision.reason.clone();
            runs.push(run);
            return Ok((events, runs, decision));
        }
        run.consequence = format!("Successful at {}", offset_text(promoted_at + run.outcome.ended_ms));
        let end = promoted_at + run.outcome.ended_ms;
        runs.push(run);
        return Ok((
            events,
            runs,
            Decision {
                verdict: Verdict::Promote,
                at_ms: end,
                reason: format!(
                    "promote: every analysis passed; the new version is stable at {}",
                    offset_text(end)
                ),
            },
        ));
    }
    Ok((
        events,
        runs,
        Decision {
            verdict: Verdict::Promote,
            at_ms: promoted_at,
            reason: format!(
                "promote: every analysis passed; the new version is stable at {}",
                offset_text(promoted_at)
            ),
        },
    ))
}

const CANARY_ABORT: &str = "all traffic goes back to the stable version and the canary is scaled down";

/// The canary steps replayed: their course, their analysis runs, the decision of one of them if any,
/// and when the last step ended.
struct Steps {
    events: Vec<Event>,
    runs: Vec<RunReport>,
    decision: Option<Decision>,
    end_ms: i64,
}

/// Replays the steps; a `cutoff` (when the background analysis stopped the release) ends them there.
fn canary_steps(replayer: &mut Replayer<'_>, steps: &[Step], cutoff: Option<i64>) -> Result<Steps, String> {
    let mut events = Vec::new();
    let mut runs = Vec::new();
    let mut now = 0;
    for (index, step) in steps.iter().enumerate() {
        if cutoff.is_some_and(|cut| now >= cut) {
            return Ok(Steps {
                events,
                runs,
                decision: None,
                end_ms: now,
            });
        }
        let number = index + 1;
        match step {
            Step::Weight(weight) => events.push(Event {
                at_ms: now,
                what: format!("step {number}: setWeight {weight}%"),
            }),
            Step::Pause(Some(duration)) => {
                events.push(Event {
                    at_ms: now,
                    what: format!(
                        "step {number}: pause {}",
                        offset_text(*duration).trim_start_matches('+')
                    ),
                });
                now += duration;
            }
            Step::Pause(None) => events.push(Event {
                at_ms: now,
                what: format!("step {number}: pause until promoted (assumed promoted at once)"),
            }),
            Step::Analysis(analysis) => {
                events.push(Event {
                    at_ms: now,
                    what: format!("step {number}: analysis {}", analysis.template),
                });
                let mut run = replayer.run(&format!("step {number}"), analysis, now, cutoff)?;
                if let Some(decision) = stopping(&run, CANARY_ABORT) {
                    run.consequence = decision.reason.clone();
                    runs.push(run);
                    return Ok(Steps {
                        events,
                        runs,
                        decision: Some(decision),
                        end_ms: now,
                    });
                }
                now += run.outcome.ended_ms;
                run.consequence = if run.outcome.stopped {
                    format!("stopped at {}: the release was aborted", offset_text(now))
                } else {
                    format!("Successful at {}", offset_text(now))
                };
                runs.push(run);
            }
        }
    }
    Ok(Steps {
        events,
        runs,
        decision: None,
        end_ms: now,
    })
}

fn canary(replayer: &mut Replayer<'_>, steps: &[Step], background: Option<&Analysis>) -> Result<Replayed, String> {
    let Steps {
        mut events,
        mut runs,
        mut decision,
        end_ms: mut end,
    } = canary_steps(replayer, steps, None)?;
    let stop = decision.as_ref().map_or(end, |decision| decision.at_ms);
    if let Some(background) = background {
        let mut run = replayer.run("background", background, 0, Some(stop))?;
        match stopping(&run, CANARY_ABORT) {
            Some(stopped) if decision.as_ref().is_none_or(|decided| stopped.at_ms < decided.at_ms) => {
                let cut = canary_steps(replayer, steps, Some(stopped.at_ms))?;
                (events, runs, end) = (cut.events, cut.runs, cut.end_ms);
                run.consequence = stopped.reason.clone();
                decision = Some(stopped);
            }
            _ => {
                run.consequence = format!(
                    "terminated Successful at {} when the {}",
                    offset_text(stop),
                    if decision.is_some() {
                        "release stopped"
                    } else {
                        "rollout completed"
                    }
                );
            }
        }
        runs.insert(0, run);
    }
    if decision.is_none() {
        events.push(Event {
            at_ms: end,
            what: "the rollout completes: the new version takes all traffic".to_string(),
        });
    }
    let decision = decision.unwrap_or(Decision {
        verdict: Verdict::Promote,
        at_ms: end,
        reason: format!(
            "promote: every step and analysis passed; the new version is stable at {}",
            offset_text(end)
        ),
    });
    Ok((events, runs, decision))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_as_lowering_writes_them() {
        for (text, ms) in [
            ("1h30m", 5_400_000),
            ("45s", 45_000),
            ("500ms", 500),
            ("1m0s", 60_000),
            ("0s", 0),
        ] {
            assert_eq!(go_duration_ms(text), ms, "{text}");
        }
    }

    #[test]
    fn placeholders_are_substituted() {
        let args = BTreeMap::from([("new-hash".to_string(), "abc".to_string())]);
        assert_eq!(
            resolve("x{h=\"{{args.new-hash}}\",n=\"{{args.namespace}}\"}", &args),
            "x{h=\"abc\",n=\"{{args.namespace}}\"}"
        );
    }
}
