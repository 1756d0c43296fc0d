//! Serde types for the Argo Rollouts kinds shipc emits (`argoproj.io/v1alpha1`, Argo Rollouts v1.9).
//!
//! Field names and types follow the CRDs exactly: only fields shipc sets are modelled, unset ones are
//! left out rather than written as `null`, and Argo's "one of" fields (a metric's `provider`) are structs
//! of options, because serde_yaml would write an enum variant as a YAML tag Kubernetes cannot read.

use k8s_openapi::api::batch::v1::JobSpec;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

/// The API version of every Argo Rollouts kind, shared by Argo Workflows and Argo Events.
pub const API_VERSION: &str = "argoproj.io/v1alpha1";

/// `Rollout`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    /// Always [`API_VERSION`].
    pub api_version: &'static str,
    /// Always `Rollout`.
    pub kind: &'static str,
    /// Name, namespace, labels, annotations.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: RolloutSpec,
}

/// `Rollout.spec`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutSpec {
    /// Left out when an HPA owns the count, so that applying the manifest never resets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Must match the pod template's labels.
    pub selector: LabelSelector,
    /// The pods.
    pub template: PodTemplateSpec,
    /// How updates are released.
    pub strategy: RolloutStrategy,
}

/// `Rollout.spec.strategy`, with exactly one strategy set.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStrategy {
    /// Blue/green.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blue_green: Option<BlueGreenStrategy>,
    /// Canary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryStrategy>,
}

/// `Rollout.spec.strategy.blueGreen`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlueGreenStrategy {
    /// Service switched to the new version at promotion.
    pub active_service: String,
    /// Service switched to the new version as soon as it exists.
    pub preview_service: String,
    /// `false` pauses for a manual promotion.
    pub auto_promotion_enabled: bool,
    /// Only with `autoPromotionEnabled: true` (Argo ignores it otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_promotion_seconds: Option<i32>,
    /// Delay before the old version is scaled down after promotion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_down_delay_seconds: Option<i32>,
    /// Preview size before promotion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview_replica_count: Option<i32>,
    /// Analysis before promotion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_promotion_analysis: Option<RolloutAnalysis>,
    /// Analysis after promotion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_promotion_analysis: Option<RolloutAnalysis>,
}

/// `Rollout.spec.strategy.canary`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStrategy {
    /// Service the controller points at the new version's pods.
    pub canary_service: String,
    /// Service the controller points at the stable version's pods.
    pub stable_service: String,
    /// Pods the update may add above the desired count.
    pub max_surge: IntOrString,
    /// Pods the update may take away.
    pub max_unavailable: IntOrString,
    /// How traffic is split; without it, weights are approximated with replica counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_routing: Option<TrafficRouting>,
    /// The steps, in order.
    pub steps: Vec<CanaryStep>,
    /// The analysis that runs during the whole update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<RolloutAnalysis>,
}

/// `RolloutTrafficRouting`, with the one router shipc supports.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficRouting {
    /// The NGINX Ingress controller.
    pub nginx: NginxTrafficRouting,
}

/// `NginxTrafficRouting`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NginxTrafficRouting {
    /// The Ingress that routes to the stable Service; the controller creates the canary's copy.
    pub stable_ingress: String,
}

/// `CanaryStep`: exactly one of its fields is set.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStep {
    /// Percentage of traffic for the new version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_weight: Option<i32>,
    /// Wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause: Option<RolloutPause>,
    /// Run an analysis and wait for its verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<RolloutAnalysis>,
}

/// `RolloutPause`; without a duration (`pause: {}`) it waits until promoted.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutPause {
    /// A Go duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

/// `RolloutAnalysis`: the templates to run.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutAnalysis {
    /// Template references.
    pub templates: Vec<AnalysisTemplateRef>,
    /// Values for the templates' arguments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<AnalysisRunArgument>,
}

/// `AnalysisRunArgument` as a Rollout passes it: taken from the Rollout when the analysis starts.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRunArgument {
    /// The template's argument.
    pub name: String,
    /// Where the value comes from.
    pub value_from: ArgumentValueFrom,
}

/// `ArgumentValueFrom`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArgumentValueFrom {
    /// `Latest` or `Stable`: the pod template hash of that ReplicaSet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_template_hash_value: Option<&'static str>,
    /// A field of the Rollout itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_ref: Option<FieldRef>,
}

/// `ArgumentValueFrom.fieldRef`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldRef {
    /// A path into the Rollout, e.g. `metadata.namespace`.
    pub field_path: &'static str,
}

/// `Argument` as a template declares it; without a value, the Rollout must pass one.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateArgument {
    /// Its name.
    pub name: String,
}

/// `DryRun`: a metric measured without failing the analysis.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRun {
    /// The metric's name.
    pub metric_name: String,
}

/// `RolloutAnalysisTemplate`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisTemplateRef {
    /// A namespaced AnalysisTemplate.
    pub template_name: String,
}

/// `AnalysisTemplate`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisTemplate {
    /// Always [`API_VERSION`].
    pub api_version: &'static str,
    /// Always `AnalysisTemplate`.
    pub kind: &'static str,
    /// Name, namespace, labels, annotations.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: AnalysisTemplateSpec,
}

/// `AnalysisTemplate.spec`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisTemplateSpec {
    /// Arguments the Rollout passes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<TemplateArgument>,
    /// The metrics; any one failing fails the analysis.
    pub metrics: Vec<Metric>,
    /// Metrics that are recorded but never fail the analysis.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dry_run: Vec<DryRun>,
}

/// One metric of an analysis.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    /// Unique in the analysis.
    pub name: String,
    /// Go duration between measurements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Go duration before the first measurement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_delay: Option<String>,
    /// Number of measurements.
    pub count: i32,
    /// Failed measurements tolerated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_limit: Option<i32>,
    /// Inconclusive measurements tolerated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inconclusive_limit: Option<i32>,
    /// Errored measurements in a row tolerated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consecutive_error_limit: Option<i32>,
    /// expr-lang condition that passes a measurement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_condition: Option<String>,
    /// expr-lang condition that fails a measurement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_condition: Option<String>,
    /// Where measurements come from.
    pub provider: MetricProvider,
}

/// `MetricProvider`: exactly one of its fields is set.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MetricProvider {
    /// A PromQL query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusMetric>,
    /// An HTTP request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web: Option<WebMetric>,
    /// A Kubernetes Job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<JobMetric>,
}

/// `PrometheusMetric`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusMetric {
    /// Absolute base URL of Prometheus.
    pub address: String,
    /// The query.
    pub query: String,
}

/// `WebMetric`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebMetric {
    /// The URL requested with GET.
    pub url: String,
    /// JSONPath template selecting the value the conditions read (Argo's default, `{$}`, is the body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
}

/// `JobMetric`: Argo creates the Job and counts the measurement as passed when it completes.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobMetric {
    /// A batch/v1 JobSpec.
    pub spec: JobSpec,
}
