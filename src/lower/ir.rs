//! The lowered form: the Kubernetes and Argo objects each service needs, decided but not yet laid out.
//!
//! Names are derived, durations are Go duration strings or whole seconds, conditions are expr-lang
//! text and queries are final PromQL. `emit` only chooses field names and serializes. Every object keeps
//! the span it came from, for its traceability annotation.

use crate::check::model::{EnvVar, PodCount, Resources, Version};
use crate::check::units::MetricUnit;
use crate::source::Span;

/// Everything to emit, each list sorted by service name.
#[derive(Debug, Default)]
pub struct Bundle {
    /// The release objects of each service deployed straight into its platform's namespace, in
    /// `<service>/`. A service whose pipeline deploys to environments is not here but in
    /// [`Bundle::environments`].
    pub services: Vec<ServiceObjects>,
    /// Each service's release objects per environment its pipeline deploys to, sorted by environment
    /// then service.
    pub environments: Vec<EnvironmentDeployment>,
    /// The CI of each service with a pipeline, in `<service>/`.
    pub pipelines: Vec<Pipeline>,
}

/// The objects of one service.
#[derive(Debug)]
pub struct ServiceObjects {
    /// The service name; also the output directory.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// The Rollout.
    pub rollout: Rollout,
    /// The Services: active and preview, or for a canary the one for both versions (without a traffic
    /// router), stable and canary, in that order.
    pub services: Vec<KubeService>,
    /// The AnalysisTemplates, each only when it measures something: pre- then post-promotion, or a
    /// canary's named analyses in source order then its background analysis.
    pub analyses: Vec<AnalysisTemplate>,
    /// The Ingress a canary's traffic router splits.
    pub ingress: Option<Ingress>,
    /// The HorizontalPodAutoscaler, for a range of replicas.
    pub autoscaler: Option<Autoscaler>,
    /// The PodDisruptionBudget, when at least two replicas run.
    pub disruption_budget: Option<DisruptionBudget>,
}

/// An Argo Rollout.
#[derive(Debug)]
pub struct Rollout {
    /// The service declaration.
    pub origin: Span,
    /// Fixed replica count; `None` when an HPA owns it.
    pub replicas: Option<u32>,
    /// The one container.
    pub container: Container,
    /// The strategy.
    pub strategy: Strategy,
}

/// `spec.strategy`: exactly one of Argo's strategies.
#[derive(Debug)]
pub enum Strategy {
    /// `blueGreen`.
    BlueGreen(BlueGreenStrategy),
    /// `canary`.
    Canary(CanaryStrategy),
}

/// The service's container.
#[derive(Debug)]
pub struct Container {
    /// Image reference.
    pub image: String,
    /// Container port; exposed under the name [`PORT_NAME`].
    pub port: u16,
    /// Environment.
    pub env: Vec<EnvVar>,
    /// Requests and limits.
    pub resources: Resources,
    /// Readiness probe path.
    pub readiness_path: Option<String>,
    /// Liveness probe path.
    pub liveness_path: Option<String>,
}

/// The name of the container port, which the Services and probes target.
pub const PORT_NAME: &str = "http";

/// The port the Services listen on.
pub const SERVICE_PORT: u16 = 80;

/// `spec.strategy.blueGreen`.
#[derive(Debug)]
pub struct BlueGreenStrategy {
    /// Service that carries production traffic.
    pub active_service: String,
    /// Service that reaches the new version before promotion.
    pub preview_service: String,
    /// False for manual promotion.
    pub auto_promotion_enabled: bool,
    /// Pause before automatic promotion.
    pub auto_promotion_seconds: Option<u64>,
    /// Delay before the old version is scaled down.
    pub scale_down_delay_seconds: Option<u64>,
    /// Preview size before promotion.
    pub preview_replica_count: Option<u32>,
    /// Template run before promotion.
    pub pre_promotion_template: Option<TemplateUse>,
    /// Template run after promotion.
    pub post_promotion_template: Option<TemplateUse>,
}

/// `spec.strategy.canary`.
#[derive(Debug)]
pub struct CanaryStrategy {
    /// Service that selects the new version's pods.
    pub canary_service: String,
    /// Service that selects the stable version's pods.
    pub stable_service: String,
    /// Pods the update may add above the desired count.
    pub max_surge: PodCount,
    /// Pods the update may take away.
    pub max_unavailable: PodCount,
    /// The Ingress NGINX splits traffic on; `None` approximates weights with replica counts.
    pub nginx_stable_ingress: Option<String>,
    /// The steps, in order.
    pub steps: Vec<CanaryStep>,
    /// The analysis run during the whole update.
    pub background: Option<TemplateUse>,
}

/// One step of `spec.strategy.canary.steps`.
#[derive(Debug)]
pub enum CanaryStep {
    /// `setWeight`, percent.
    SetWeight(u32),
    /// `pause`, for a Go duration or, with `None`, until promoted.
    Pause(Option<String>),
    /// `analysis`, run inline: the step waits for its verdict.
    Analysis(TemplateUse),
}

/// A reference from the Rollout to an AnalysisTemplate, with the arguments it needs.
#[derive(Clone, Debug)]
pub struct TemplateUse {
    /// The template's name.
    pub name: String,
    /// The versions whose pod template hashes the template takes as arguments.
    pub versions: Vec<Version>,
    /// The template takes the Rollout's namespace as an argument.
    pub namespace: bool,
}

/// A core Service selecting the service's pods.
#[derive(Debug)]
pub struct KubeService {
    /// Its name.
    pub name: String,
    /// What produced it.
    pub origin: Span,
}

/// An AnalysisTemplate.
#[derive(Debug)]
pub struct AnalysisTemplate {
    /// Its name.
    pub name: String,
    /// The analysis block.
    pub origin: Span,
    /// The versions whose pod template hashes its queries select (its arguments).
    pub versions: Vec<Version>,
    /// Its queries read the namespace the Rollout runs in (an argument named `namespace`).
    pub namespace: bool,
    /// Its metrics.
    pub metrics: Vec<AnalysisMetric>,
}

impl AnalysisTemplate {
    /// How the Rollout refers to it.
    pub fn usage(&self) -> TemplateUse {
        TemplateUse {
            name: self.name.clone(),
            versions: self.versions.clone(),
            namespace: self.namespace,
        }
    }
}

/// One metric of an AnalysisTemplate.
#[derive(Debug)]
pub struct AnalysisMetric {
    /// Unique within the template.
    pub name: String,
    /// Go duration between measurements.
    pub interval: Option<String>,
    /// Number of measurements.
    pub count: u32,
    /// Failed measurements tolerated.
    pub failure_limit: Option<u32>,
    /// Inconclusive measurements tolerated.
    pub inconclusive_limit: Option<u32>,
    /// Errored measurements in a row tolerated.
    pub consecutive_error_limit: Option<u32>,
    /// Go duration before the first measurement.
    pub initial_delay: Option<String>,
    /// expr-lang condition that passes a measurement; with a failure condition, a measurement that
    /// meets neither is inconclusive.
    pub success_condition: Option<String>,
    /// expr-lang condition that fails a measurement.
    pub failure_condition: Option<String>,
    /// Recorded, never fails the analysis.
    pub dry_run: bool,
    /// What a Prometheus metric's values measure, for showing them (`shipc simulate`); `None` for
    /// checks. Not emitted: Argo compares plain numbers.
    pub unit: Option<MetricUnit>,
    /// Where the value comes from.
    pub provider: Provider,
}

/// A metric provider.
#[derive(Debug)]
pub enum Provider {
    /// A PromQL query.
    Prometheus {
        /// Base URL.
        address: String,
        /// The query.
        query: String,
    },
    /// An HTTP GET that must answer 2xx.
    Web {
        /// Full URL.
        url: String,
        /// Argo's JSONPath template (`{$.status}`) for the value the conditions read; `None` reads the
        /// whole body.
        json_path: Option<String>,
    },
    /// A Kubernetes Job that must complete.
    Job {
        /// The container image.
        image: String,
        /// The container's command.
        command: Vec<String>,
        /// The container's environment.
        env: Vec<EnvVar>,
        /// How long the Job may run, in seconds.
        active_deadline_seconds: Option<u64>,
    },
}

/// A `networking.k8s.io/v1` Ingress sending one host's traffic to a Service; the traffic router
/// copies it to send the canary's share to the canary Service.
#[derive(Debug)]
pub struct Ingress {
    /// Its name.
    pub name: String,
    /// The host it serves.
    pub host: String,
    /// The Service every path goes to.
    pub service: String,
    /// The `traffic` field.
    pub origin: Span,
}

/// `autoscaling/v2` HorizontalPodAutoscaler on CPU.
#[derive(Debug)]
pub struct Autoscaler {
    /// The `replicas` field.
    pub origin: Span,
    /// Lower bound.
    pub min: u32,
    /// Upper bound.
    pub max: u32,
    /// Target average utilization, percent.
    pub cpu_percent: u32,
}

/// `policy/v1` PodDisruptionBudget allowing one pod down at a time.
#[derive(Debug)]
pub struct DisruptionBudget {
    /// The `replicas` field.
    pub origin: Span,
}

/// A service's CI: one WorkflowTemplate and, when the pipeline has triggers, the EventSource and
/// Sensor that submit it on git events. Emitted into `<service>/ci.yaml` and `<service>/trigger.yaml`.
#[derive(Debug)]
pub struct Pipeline {
    /// The `pipeline` block.
    pub origin: Span,
    /// The service it builds; also its output directory and the value of its name label.
    pub service: String,
    /// The namespace the workflows run in (the platform's).
    pub namespace: String,
    /// The WorkflowTemplate's name, `<service>-ci`.
    pub name: String,
    /// The ServiceAccount the workflow pods run as, `<service>-ci`; emitted with a Role that lets Argo's
    /// executor report outputs (`workflowtaskresults`: create, patch).
    pub service_account: String,
    /// Workflow parameters in order (`revision`, `branch`, then the other event values the pipeline
    /// reads); the Sensor fills them by index.
    pub parameters: Vec<WorkflowParameter>,
    /// `spec.activeDeadlineSeconds` of the whole workflow.
    pub active_deadline_seconds: u64,
    /// Size of the working volume mounted at [`WORK_DIR`] in every step, a Kubernetes quantity (`1Gi`).
    pub work_volume: String,
    /// The name of the entrypoint template (the first of `templates`).
    pub entrypoint: String,
    /// Every template: the DAG templates (entrypoint first, then nested DAGs of a pipeline too large
    /// for one DAG), then the container and suspend templates in order of first use.
    pub templates: Vec<WorkflowTemplateItem>,
    /// The webhook trigger, when the pipeline has `on` clauses.
    pub trigger: Option<Trigger>,
}

/// The volume every step mounts: the sources are cloned into `<WORK_DIR>/src`.
pub const WORK_DIR: &str = "/work";

/// The name of the working volume claim.
pub const WORK_VOLUME: &str = "work";

/// A workflow parameter.
#[derive(Debug)]
pub struct WorkflowParameter {
    /// Its name.
    pub name: String,
    /// The default a manual submission gets; `None` leaves it for the submitter (the Sensor).
    pub default: Option<String>,
}

/// One template of a WorkflowTemplate.
#[derive(Debug)]
pub struct WorkflowTemplateItem {
    /// Its name, unique in the WorkflowTemplate.
    pub name: String,
    /// Input parameters, in order.
    pub inputs: Vec<InputParameter>,
    /// Output parameters, in order.
    pub outputs: Vec<OutputParameter>,
    /// What it does.
    pub kind: TemplateKind,
}

/// An input parameter of a template.
#[derive(Debug)]
pub struct InputParameter {
    /// Its name.
    pub name: String,
    /// The value used when the task passes none.
    pub default: Option<String>,
}

/// An output parameter of a template.
#[derive(Debug)]
pub struct OutputParameter {
    /// Its name.
    pub name: String,
    /// Where its value comes from.
    pub source: OutputSource,
}

/// Where an output parameter's value is read.
#[derive(Debug)]
pub enum OutputSource {
    /// A file the container wrote (`valueFrom.path`).
    Path(String),
    /// Another parameter, e.g. `{{tasks.build.outputs.parameters.digest}}` for a nested DAG
    /// (`valueFrom.parameter`).
    Parameter(String),
}

/// The kinds of template shipc emits.
#[derive(Debug)]
pub enum TemplateKind {
    /// `dag`.
    Dag(Vec<DagTask>),
    /// `container` or `script`.
    Container(Box<StepContainer>),
    /// `suspend: {}`: an approval gate, resumed with `argo resume`.
    Suspend,
}

/// One task of a DAG.
#[derive(Debug)]
pub struct DagTask {
    /// Its name, unique in the DAG.
    pub name: String,
    /// The template it runs.
    pub template: String,
    /// The `depends` expression (`a && b.Succeeded`); `None` for a task that starts at once.
    pub depends: Option<String>,
    /// `arguments.parameters`, `(name, value)` in order; values may hold `{{...}}` references.
    pub arguments: Vec<(String, String)>,
    /// The `when` expression.
    pub when: Option<String>,
}

/// A container template: a step's image and command, run in the working volume.
#[derive(Debug)]
pub struct StepContainer {
    /// The image reference.
    pub image: String,
    /// What it runs.
    pub program: Program,
    /// Environment, in order.
    pub env: Vec<StepEnv>,
    /// CPU and memory.
    pub resources: Resources,
    /// `retryStrategy`.
    pub retry: Option<Retry>,
    /// Template-level `activeDeadlineSeconds`.
    pub active_deadline_seconds: Option<u64>,
    /// The step needs root (an image builder); otherwise the pod runs as a non-root user.
    pub run_as_root: bool,
    /// The step writes outside its volumes; otherwise the root filesystem is read-only (`/tmp` is an
    /// emptyDir either way).
    pub writable_root: bool,
    /// A mutex name: at most one workflow runs this template at a time (GitOps pushes).
    pub mutex: Option<String>,
}

/// What a container runs.
#[derive(Debug)]
pub enum Program {
    /// A shell script (`script` template, run by `sh -e`).
    Script(String),
    /// `command` and `args` (either may be empty: the image's entrypoint or default arguments).
    Exec {
        /// `command`.
        command: Vec<String>,
        /// `args`.
        args: Vec<String>,
    },
}

/// One environment variable of a step.
#[derive(Debug)]
pub struct StepEnv {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: StepEnvValue,
}

/// Where a step's environment variable comes from.
#[derive(Debug)]
pub enum StepEnvValue {
    /// Text, possibly with `{{inputs.parameters.x}}` or `{{workflow.parameters.x}}` references.
    Value(String),
    /// A key of a Secret.
    Secret {
        /// The Secret.
        name: String,
        /// The key.
        key: String,
    },
}

/// `retryStrategy`.
#[derive(Debug)]
pub struct Retry {
    /// Retries after the first attempt.
    pub limit: u32,
    /// Backoff between attempts.
    pub backoff: Option<Backoff>,
}

/// `retryStrategy.backoff`; durations are Go durations.
#[derive(Debug)]
pub struct Backoff {
    /// First wait.
    pub duration: String,
    /// Multiplier per attempt.
    pub factor: u32,
    /// Longest total backoff.
    pub max_duration: Option<String>,
}

/// The webhook side: an EventSource `<service>-git` that receives the git host's webhooks and a Sensor
/// `<service>-ci` that submits a Workflow from the template for each matching event.
#[derive(Debug)]
pub struct Trigger {
    /// The `on` clauses.
    pub origin: Span,
    /// The EventSource's name.
    pub event_source: String,
    /// The event name inside the EventSource (the service name).
    pub event_name: String,
    /// The Sensor's name.
    pub sensor: String,
    /// The ServiceAccount the Sensor runs as, `<service>-sensor`; emitted with a Role that lets it
    /// create Workflows.
    pub sensor_service_account: String,
    /// Where the webhooks come from.
    pub provider: GitProvider,
    /// The public base URL the git host posts to (the platform's `webhook_url`).
    pub webhook_url: String,
    /// The webhook path, `/<service>`.
    pub endpoint: String,
    /// The events the git host must send (`push`, `pull_request`; GitLab: `PushEvents`, ...).
    pub events: Vec<String>,
    /// One Sensor dependency and one trigger per `on` clause.
    pub dependencies: Vec<EventDependency>,
}

/// The port the EventSource listens on.
pub const WEBHOOK_PORT: u16 = 12000;

/// A git host.
#[derive(Debug)]
pub enum GitProvider {
    /// github.com or GitHub Enterprise; secret `github-access` (keys `token`, `secret`).
    GitHub {
        /// The owner (user or organization).
        owner: String,
        /// The repository.
        repository: String,
    },
    /// GitLab; secret `gitlab-access` (keys `token`, `secret`).
    GitLab {
        /// `group/project`.
        project: String,
        /// The GitLab server, e.g. `https://gitlab.com`.
        base_url: String,
    },
}

/// One Sensor dependency and the trigger it fires.
#[derive(Debug)]
pub struct EventDependency {
    /// Its name (`push`, `tag`, `pull-request`), also the trigger's condition.
    pub name: String,
    /// Data filters: `(path, type, regular expressions any of which the value must match)`, e.g.
    /// `("body.ref", "string", ["refs/heads/main"])`.
    pub filters: Vec<DataFilter>,
    /// For each workflow parameter, in the order of [`Pipeline::parameters`], where the event holds it.
    pub parameters: Vec<EventValue>,
}

/// `filters.data[]` of a Sensor dependency.
#[derive(Debug)]
pub struct DataFilter {
    /// gjson path into the event (`body.ref`, `headers.X-Github-Event`).
    pub path: String,
    /// Values, regular expressions for strings; any may match.
    pub values: Vec<String>,
}

/// How a trigger parameter is read from the event.
#[derive(Debug)]
pub enum EventValue {
    /// A gjson path (`dataKey`), e.g. `body.after`.
    Key(String),
    /// A Go template over `.Input` (`dataTemplate`), e.g. `{{ .Input.body.ref | trimPrefix "refs/heads/" }}`.
    Template(String),
    /// A constant (the event has no such value, e.g. the branch of a tag push).
    Constant(String),
}

/// A service's release objects for one environment: the same objects as its default deployment, with
/// the environment's namespace and overrides, in `environments/<environment>/<service>/`.
#[derive(Debug)]
pub struct EnvironmentDeployment {
    /// The environment's name.
    pub environment: String,
    /// The objects.
    pub objects: ServiceObjects,
}
