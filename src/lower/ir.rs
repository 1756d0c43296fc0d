//! The lowered form: the Kubernetes and Argo objects each service needs, decided but not yet laid out.
//!
//! Names are derived, durations are Go duration strings or whole seconds, conditions are expr-lang
//! text and queries are final PromQL. `emit` only chooses field names and serializes. Every object keeps
//! the span it came from, for its traceability annotation.

use crate::check::model::{EnvVar, PodCount, Resources, Version};
use crate::source::Span;

/// Everything to emit, services sorted by name.
#[derive(Debug, Default)]
pub struct Bundle {
    /// One entry per service.
    pub services: Vec<ServiceObjects>,
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
    /// Its metrics.
    pub metrics: Vec<AnalysisMetric>,
}

impl AnalysisTemplate {
    /// How the Rollout refers to it.
    pub fn usage(&self) -> TemplateUse {
        TemplateUse {
            name: self.name.clone(),
            versions: self.versions.clone(),
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
