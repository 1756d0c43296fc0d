//! The checked program: every service with typed, validated values, ready to lower.
//!
//! Nothing here can be wrong any more: units are converted, names are valid, references resolved and
//! queries rendered. Spans are kept so that emitted objects can say which line produced them.

use std::sync::Arc;

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
    /// Its CI, when it has a `pipeline`.
    pub pipeline: Option<Pipeline>,
    /// The environments its pipeline deploys to, sorted by name. When there are any, the release
    /// objects are emitted once per environment instead of once in the platform's namespace.
    pub environments: Vec<EnvironmentTarget>,
}

/// An environment a pipeline deploys to, with the overrides it applies to the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvironmentTarget {
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// The replicas the service runs there; `None` keeps the service's own.
    pub replicas: Option<Replicas>,
}

/// A service's CI pipeline: a DAG of tasks and the git events that start it.
#[derive(Debug)]
pub struct Pipeline {
    /// The `pipeline` block.
    pub span: Span,
    /// The repository the pipeline builds.
    pub source: GitSource,
    /// The `on` clauses, in source order.
    pub triggers: Vec<Trigger>,
    /// The longest a run may take.
    pub timeout: Duration,
    /// Size of the working volume, a Kubernetes quantity such as `1Gi`.
    pub volume: String,
    /// The event values the tasks read besides the revision and branch, which every run has, in the
    /// order of [`EventField::ALL`].
    pub event_fields: Vec<EventField>,
    /// The tasks in source order; dependencies refer to them by index and never form a cycle.
    pub tasks: Vec<Task>,
    /// The step definitions the tasks use, in order of first use; shared with every other pipeline
    /// that uses them.
    pub steps: Vec<Arc<StepTemplate>>,
    /// Where the git host posts webhooks (the platform's `webhook_url`); set when there are triggers.
    pub webhook_url: Option<String>,
    /// The GitOps repository deploys push to (the platform's `gitops`); set when a task deploys.
    pub gitops: Option<String>,
    /// The image the deploys update, without tag or digest.
    pub image_name: String,
}

/// A git repository on a git host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GitSource {
    /// `github("owner/repository")`.
    GitHub {
        /// The user or organization.
        owner: String,
        /// The repository.
        repository: String,
    },
    /// `gitlab("group/project", url: "https://gitlab.example.com")`.
    GitLab {
        /// The project path, `group/project` (subgroups allowed).
        project: String,
        /// The server, without a trailing slash.
        base_url: String,
    },
}

impl GitSource {
    /// The HTTPS clone URL.
    pub fn clone_url(&self) -> String {
        match self {
            GitSource::GitHub { owner, repository } => format!("https://github.com/{owner}/{repository}.git"),
            GitSource::GitLab { project, base_url } => format!("{base_url}/{project}.git"),
        }
    }
}

/// A git event that starts the pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    /// Which event.
    pub event: TriggerEvent,
    /// The clause.
    pub span: Span,
}

/// The kinds of git event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TriggerEvent {
    /// A push to one of these branches (any branch when empty).
    Push {
        /// Branch names.
        branches: Vec<String>,
    },
    /// A pushed tag matching one of these glob patterns (`v*`; any tag when empty).
    Tag {
        /// Glob patterns: `*` matches any run of characters, `?` one character.
        patterns: Vec<String>,
    },
    /// A pull (merge) request opened or updated against one of these branches (any when empty).
    PullRequest {
        /// Target branch names.
        branches: Vec<String>,
    },
}

/// A value of the git event, passed to the workflow as a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventField {
    /// The commit to build.
    Revision,
    /// The branch pushed (the source branch of a pull request); empty for a tag.
    Branch,
    /// The tag pushed; empty otherwise.
    Tag,
    /// The head commit's message (a push) or the pull request's title.
    Message,
}

impl EventField {
    /// Every field, in the order of the workflow's parameters.
    pub const ALL: [EventField; 4] = [
        EventField::Revision,
        EventField::Branch,
        EventField::Tag,
        EventField::Message,
    ];

    /// The name after `event.` in the source and of the workflow parameter.
    pub fn name(self) -> &'static str {
        match self {
            EventField::Revision => "revision",
            EventField::Branch => "branch",
            EventField::Tag => "tag",
            EventField::Message => "message",
        }
    }

    /// True for values whoever pushes chooses freely, which must never reach a shell unquoted. A
    /// revision is a commit hash the git host computes.
    pub fn is_untrusted(self) -> bool {
        self != EventField::Revision
    }
}

/// One node of a pipeline.
#[derive(Debug)]
pub struct Task {
    /// Its name as written (a deploy's is `deploy_<environment>`).
    pub name: String,
    /// The task's declaration.
    pub span: Span,
    /// What it does.
    pub kind: TaskKind,
    /// The tasks it waits for, by index, sorted and without repeats.
    pub needs: Vec<Dependency>,
    /// Runs only when this holds.
    pub when: Option<Box<Guard>>,
}

/// An edge of the DAG.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dependency {
    /// The task waited for, an index into [`Pipeline::tasks`].
    pub task: usize,
    /// True when the task must have succeeded: it produces a value this one reads, or it is an
    /// approval. Otherwise (`after`), a skipped task also lets this one run.
    pub must_succeed: bool,
}

/// The kinds of task.
#[derive(Debug)]
pub enum TaskKind {
    /// A use of a step definition.
    Step {
        /// Index into [`Pipeline::steps`].
        step: usize,
        /// A value for each parameter of the step, in the order of its parameters; `None` keeps the
        /// parameter's default.
        args: Vec<Option<Value>>,
    },
    /// Pushes the image digest to an environment's GitOps overlay and waits for the release there.
    Deploy {
        /// The environment; this and the check's fields are boxed, as most tasks are steps and
        /// every service's tasks are kept until it is emitted.
        environment: Box<EnvironmentTarget>,
        /// The digest deployed.
        digest: Value,
    },
    /// Waits for someone to resume the workflow.
    Approve,
    /// Probes the new version in an environment after its deploy.
    Check {
        /// The environment.
        environment: Box<EnvironmentTarget>,
        /// The probe.
        check: Box<CheckKind>,
    },
}

/// A text value that may hold references resolved when the workflow runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Value {
    /// The pieces, in order.
    pub pieces: Vec<ValuePiece>,
}

/// A piece of a [`Value`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValuePiece {
    /// Literal text.
    Text(String),
    /// A value of the git event.
    Event(EventField),
    /// An output of another task.
    Output {
        /// Index into [`Pipeline::tasks`].
        task: usize,
        /// The output's name.
        output: String,
    },
}

/// A `when` condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Guard {
    /// Either holds.
    Or(Box<Guard>, Box<Guard>),
    /// Both hold.
    And(Box<Guard>, Box<Guard>),
    /// The subject equals (or, with `equal: false`, differs from) the text.
    Test {
        /// What is tested.
        subject: ValuePiece,
        /// `==` or `!=`.
        equal: bool,
        /// The text compared with.
        value: String,
    },
}

/// A checked step definition.
#[derive(Clone, Debug)]
pub struct StepTemplate {
    /// Its name as written.
    pub name: String,
    /// The declaration.
    pub span: Span,
    /// Its parameters, in order.
    pub params: Vec<StepParam>,
    /// The image; may interpolate parameters.
    pub image: Text,
    /// What it runs.
    pub program: StepProgram,
    /// Environment variables, in source order.
    pub env: Vec<StepEnvVar>,
    /// Declared outputs: name and the file the step writes it to, in source order.
    pub outputs: Vec<(String, String)>,
    /// CPU and memory.
    pub resources: Resources,
    /// Retries of a failed attempt.
    pub retry: Option<StepRetry>,
    /// The longest one attempt may take.
    pub timeout: Option<Duration>,
    /// The step must run as root (`run_as_root = true`).
    pub run_as_root: bool,
    /// The step writes outside `/work` and `/tmp` (`writable_root = true`).
    pub writable_root: bool,
}

/// A parameter of a step definition; every value is text by the time it reaches the container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepParam {
    /// Its name.
    pub name: String,
    /// The default, rendered as text.
    pub default: Option<String>,
}

/// Text that may interpolate a step's parameters.
pub type Text = Vec<TextPiece>;

/// A piece of [`Text`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextPiece {
    /// Literal text.
    Literal(String),
    /// The value of the parameter of this name.
    Param(String),
}

/// What a step's container runs.
#[derive(Clone, Debug)]
pub enum StepProgram {
    /// `run = "..."`: a shell script.
    Script(Text),
    /// `command = [...]` and/or `args = [...]`.
    Exec {
        /// The command; empty keeps the image's entrypoint.
        command: Vec<Text>,
        /// Its arguments.
        args: Vec<Text>,
    },
}

/// An environment variable of a step.
#[derive(Clone, Debug)]
pub struct StepEnvVar {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: StepEnvValue,
}

/// Where a step's environment variable comes from.
#[derive(Clone, Debug)]
pub enum StepEnvValue {
    /// Text, possibly interpolating parameters.
    Text(Text),
    /// A key of a Secret.
    Secret {
        /// The Secret.
        name: String,
        /// The key.
        key: String,
    },
}

/// `retry = 2` or `retry = { limit: 2, backoff: 10s, max_backoff: 2m }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRetry {
    /// Retries after the first attempt.
    pub limit: u32,
    /// The first wait between attempts, doubled each time.
    pub backoff: Option<Duration>,
    /// The longest total wait.
    pub max_backoff: Option<Duration>,
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

/// The AnalysisTemplate argument that carries the namespace the Rollout runs in, for a service deployed
/// to several environments: the Rollout passes it from its own `metadata.namespace`.
pub const NAMESPACE_ARG: &str = "namespace";

/// What `${svc.namespace}` of such a service becomes in a query.
pub const NAMESPACE_PLACEHOLDER: &str = "{{args.namespace}}";

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
