//! The checked program: every service with typed, validated values, ready to lower.
//!
//! Nothing here can be wrong any more: units are converted, names are valid, references resolved and
//! queries rendered. Spans are kept so that emitted objects can say which line produced them.

use crate::decimal::Decimal;
use crate::source::Span;
use crate::syntax::ast::CompareOp;

use super::units::{Cpu, Duration, Memory, MetricUnit};

/// Every service that checked without errors, sorted by name.
#[derive(Debug, Default)]
pub struct Model {
    /// The services.
    pub services: Vec<Service>,
}

/// One deployable service.
#[derive(Debug)]
pub struct Service {
    /// Its name; the Rollout and every derived object are named after it.
    pub name: String,
    /// The `service` declaration.
    pub span: Span,
    /// The namespace, from its platform.
    pub namespace: String,
    /// The container image reference.
    pub image: String,
    /// The container port.
    pub port: u16,
    /// Fixed or autoscaled replicas.
    pub replicas: Replicas,
    /// Where `replicas` was set (or the declaration, when it was not).
    pub replicas_span: Span,
    /// CPU and memory.
    pub resources: Resources,
    /// Readiness probe.
    pub readiness: Option<HttpProbe>,
    /// Liveness probe.
    pub liveness: Option<HttpProbe>,
    /// Environment variables, in source order.
    pub env: Vec<EnvVar>,
    /// How new versions are released.
    pub release: Release,
}

/// How many pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replicas {
    /// Always this many.
    Fixed(u32),
    /// Between `min` and `max`, scaled on CPU utilization.
    Autoscaled {
        /// Lower bound.
        min: u32,
        /// Upper bound.
        max: u32,
        /// Target average CPU utilization, in percent of the request.
        cpu_percent: u32,
    },
}

impl Replicas {
    /// The least number of pods that will run.
    pub fn minimum(self) -> u32 {
        match self {
            Replicas::Fixed(n) => n,
            Replicas::Autoscaled { min, .. } => min,
        }
    }
}

/// A request and a limit; a single value in the source sets both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounds<T> {
    /// What the scheduler reserves.
    pub request: T,
    /// The most the container may use.
    pub limit: T,
}

/// CPU and memory requests and limits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// CPU, if set.
    pub cpu: Option<Bounds<Cpu>>,
    /// Memory, if set.
    pub memory: Option<Bounds<Memory>>,
}

/// An HTTP GET probe on the service port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpProbe {
    /// The path, starting with `/`.
    pub path: String,
}

/// One environment variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvVar {
    /// The variable name.
    pub name: String,
    /// Its value.
    pub value: EnvValue,
}

/// Where an environment variable's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvValue {
    /// Written in the source.
    Literal(String),
    /// A key of a Kubernetes Secret.
    Secret {
        /// The Secret's name.
        name: String,
        /// The key in it.
        key: String,
    },
}

/// How new versions of a service go out.
#[derive(Debug)]
pub enum Release {
    /// A preview next to the current version, then one switch of all traffic.
    BlueGreen(BlueGreen),
    /// Traffic moved to the new version step by step.
    Canary(Canary),
}

impl Release {
    /// The `release` block.
    pub fn span(&self) -> Span {
        match self {
            Release::BlueGreen(blue_green) => blue_green.span,
            Release::Canary(canary) => canary.span,
        }
    }
}

/// A blue/green release.
#[derive(Debug)]
pub struct BlueGreen {
    /// The `release` block.
    pub span: Span,
    /// Manual or automatic promotion.
    pub promotion: Promotion,
    /// How long the old version keeps running after promotion; `None` leaves Argo's behaviour (with a
    /// post-promotion analysis, the old version waits for it).
    pub scale_down_delay: Option<Duration>,
    /// Preview size before promotion; `None` means full size.
    pub preview_replicas: Option<u32>,
    /// Analysis against the preview Service before promotion.
    pub before_promotion: Analysis,
    /// Analysis against the active Service after promotion.
    pub after_promotion: Analysis,
}

/// How a verified preview becomes active.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Promotion {
    /// Someone runs `kubectl argo rollouts promote`.
    Manual,
    /// Automatically, optionally after a pause.
    Auto {
        /// Wait this long after the preview is ready.
        after: Option<Duration>,
    },
}

/// A canary release.
#[derive(Debug)]
pub struct Canary {
    /// The `release` block.
    pub span: Span,
    /// Pods the update may add above the desired count.
    pub max_surge: PodCount,
    /// Pods the update may take away below the desired count.
    pub max_unavailable: PodCount,
    /// How traffic is split; `None` approximates weights with replica counts.
    pub traffic: Option<TrafficRouter>,
    /// The steps, in order; never empty.
    pub steps: Vec<CanaryStep>,
    /// The `analysis NAME` blocks, in source order.
    pub analyses: Vec<NamedAnalysis>,
    /// The analysis that runs during the whole update (empty when not written).
    pub background: Analysis,
}

/// A number of pods, absolute or as a share of the desired count (Kubernetes' int-or-string).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodCount {
    /// This many pods.
    Pods(u32),
    /// This percentage of the desired count, 0 to 100.
    Percent(u32),
}

/// What splits traffic between the stable and the canary version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrafficRouter {
    /// The NGINX Ingress controller, through an Ingress for this host.
    Nginx {
        /// The host name the Ingress serves.
        host: String,
        /// The `traffic` field.
        span: Span,
    },
}

/// One step of a canary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CanaryStep {
    /// Send this percentage of traffic (1 to 100) to the new version.
    Weight(u32),
    /// Wait this long, or until someone promotes when `None`.
    Pause(Option<Duration>),
    /// Run the `analysis` of this name and wait for its verdict.
    Analyze(String),
}

/// `analysis NAME { ... }`: an analysis that `analyze NAME` steps run.
#[derive(Debug)]
pub struct NamedAnalysis {
    /// The name, as written.
    pub name: String,
    /// Its checks and rules.
    pub analysis: Analysis,
}

/// The checks and rollback rules of one phase.
#[derive(Debug, Default)]
pub struct Analysis {
    /// The analysis block, if written.
    pub span: Option<Span>,
    /// One-shot checks.
    pub checks: Vec<Check>,
    /// Metric conditions measured over time.
    pub rules: Vec<MetricRule>,
}

impl Analysis {
    /// True when the phase measures nothing.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty() && self.rules.is_empty()
    }

    /// True when nothing in the phase can stop a release: no check, and only observed rules.
    pub fn cannot_fail(&self) -> bool {
        self.checks.is_empty() && self.rules.iter().all(|rule| rule.observe)
    }
}

/// `check name = http_get(...)` or `check name = job(...)`: one measurement against the Service of
/// its phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The check's name.
    pub name: String,
    /// The declaration.
    pub span: Span,
    /// What it does.
    pub kind: CheckKind,
}

/// The kinds of check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// `http_get(path)`: a GET that must answer 2xx, optionally with a value in its JSON body.
    Http {
        /// The path requested.
        path: String,
        /// The value the JSON answer must hold, when one is required.
        json: Option<JsonExpectation>,
    },
    /// `job(image, run: ...)`: a container that must exit 0.
    Job {
        /// The image reference.
        image: String,
        /// The shell script it runs.
        run: String,
        /// How long it may run; `None` lets it run until it ends.
        timeout: Option<Duration>,
    },
}

/// `json_path: "$.status", expect: "UP"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonExpectation {
    /// The path, in the subset shipc accepts (`$.a.b`, `$.a[0].b`).
    pub path: String,
    /// The value it must hold.
    pub value: JsonValue,
}

/// A JSON scalar a check can compare with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonValue {
    /// A string.
    String(String),
    /// A number, small enough to compare exactly as a 64-bit float.
    Number(Decimal),
    /// `true` or `false`.
    Bool(bool),
}

/// One metric watched by a `rollback when` rule, with the condition that fails it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricRule {
    /// The metric's declared name (e.g. `error_rate`).
    pub metric: String,
    /// The comparison(s) on it, for the source annotation.
    pub span: Span,
    /// The PromQL query, parameters substituted.
    pub query: String,
    /// The Prometheus address.
    pub address: String,
    /// What the metric measures.
    pub unit: MetricUnit,
    /// When one sample counts as failed.
    pub failure: Predicate,
    /// Time between samples.
    pub every: Duration,
    /// Number of samples.
    pub samples: u32,
    /// Failed samples tolerated before rolling back.
    pub tolerate: u32,
    /// Samples without data tolerated before the release pauses; `None`: a sample without data fails.
    pub inconclusive: Option<u32>,
    /// Failed queries in a row tolerated; `None` leaves Argo's default (4).
    pub consecutive_errors: Option<u32>,
    /// Wait before the first sample.
    pub initial_delay: Option<Duration>,
    /// Measured and recorded, never fails the release (`observe`).
    pub observe: bool,
}

/// A condition on one sample value, thresholds already in the metric's unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Predicate {
    /// `value op threshold`.
    Compare(CompareOp, Decimal),
    /// Every part holds.
    All(Vec<Predicate>),
    /// Some part holds.
    Any(Vec<Predicate>),
}

/// The two versions a release runs side by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// The version being released (Argo's `Latest` pod template hash).
    New,
    /// The version it replaces (Argo's `Stable` pod template hash).
    Stable,
}

impl Version {
    /// The AnalysisTemplate argument that carries this version's pod template hash.
    pub fn arg_name(self) -> &'static str {
        match self {
            Version::New => "new-hash",
            Version::Stable => "stable-hash",
        }
    }

    /// What a `version` argument becomes in a query: the template argument Argo fills in.
    pub fn placeholder(self) -> &'static str {
        match self {
            Version::New => "{{args.new-hash}}",
            Version::Stable => "{{args.stable-hash}}",
        }
    }

    /// What Argo's `podTemplateHashValue` calls it.
    pub fn argo_hash_value(self) -> &'static str {
        match self {
            Version::New => "Latest",
            Version::Stable => "Stable",
        }
    }

    /// Both, in the order their arguments are emitted.
    pub const ALL: [Version; 2] = [Version::New, Version::Stable];
}
