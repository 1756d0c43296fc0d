//! Phase 5, emit: the lowered objects as YAML files, one directory per service.
//!
//! Every object is a typed struct (k8s-openapi for core kinds, [`argo`], [`workflows`] and [`events`]
//! for Argo's) serialized through [`yaml`]; no text template produces YAML. Each object is labelled
//! `app.kubernetes.io/managed-by: shipc` and annotated with the file and line it came from.
//!
//! Layout, for a service `checkout` with a pipeline, and a service `cart` whose pipeline deploys it to
//! an environment `staging` instead of its platform's namespace:
//!
//! ```text
//! kustomization.yaml            lists every service directory, not `environments/`
//! checkout/kustomization.yaml   lists the files below, sets the namespace
//! checkout/rollout.yaml         Rollout
//! checkout/services.yaml        Services checkout-active, checkout-preview (a canary: -stable, -canary)
//! checkout/analysis.yaml        AnalysisTemplates (when the release has analyses)
//! checkout/ingress.yaml         Ingress (for a canary with NGINX traffic routing)
//! checkout/hpa.yaml             HorizontalPodAutoscaler (for a range of replicas)
//! checkout/pdb.yaml             PodDisruptionBudget (for 2 replicas or more)
//! checkout/ci.yaml              ServiceAccount, Role, RoleBinding, WorkflowTemplate (with a pipeline)
//! checkout/trigger.yaml         EventSource, ServiceAccount, Role, RoleBinding, Sensor (with git triggers)
//! cart/kustomization.yaml       lists ci.yaml and trigger.yaml only: cart has no release here
//! environments/staging/kustomization.yaml       lists the environment's service directories
//! environments/staging/cart/kustomization.yaml  as for a service, with the environment's namespace
//! environments/staging/cart/rollout.yaml        and cart's other release files
//! ```
//!
//! Each environment is applied on its own, so the root kustomization leaves `environments/` out.

pub mod argo;
mod core;
pub mod events;
#[cfg(test)]
mod tests;
pub mod workflows;
pub mod yaml;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use crate::check::model::{NAMESPACE_ARG, PodCount};
use crate::lower::ir::{self, Bundle, Pipeline, ServiceObjects};
use crate::source::{SourceMap, Span};

/// The label every object carries with the service's name; selectors use it alone.
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
/// The label that marks objects as generated.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The annotation naming the source file and line of an object.
pub const SOURCE_ANNOTATION: &str = "shipc.dev/source";

/// The directory under which each environment gets its own tree.
const ENVIRONMENTS_DIR: &str = "environments";

/// One file to write, relative to the output directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputFile {
    /// Relative path with `/` separators.
    pub path: String,
    /// The whole content.
    pub contents: String,
}

/// An internal error (a value serde cannot represent, or an impossible bundle), with the span of the
/// object it happened in when there is one.
type EmitError = (String, Option<Span>);

/// Serializes the bundle.
pub fn emit(bundle: &Bundle, sources: &SourceMap) -> Result<Vec<OutputFile>, EmitError> {
    let mut directories: BTreeMap<&str, Directory> = BTreeMap::new();
    for service in &bundle.services {
        let at = |message| (message, Some(service.rollout.origin));
        let files = release_files(service, sources).map_err(at)?;
        add_files(&mut directories, &service.name, &service.namespace, files).map_err(at)?;
    }
    for pipeline in &bundle.pipelines {
        let at = |message| (message, Some(pipeline.origin));
        let files = ci_files(pipeline, sources).map_err(at)?;
        add_files(&mut directories, &pipeline.service, &pipeline.namespace, files).map_err(at)?;
    }
    let mut files = Vec::new();
    for (name, directory) in &directories {
        files.extend(directory.output(name).map_err(|message| (message, None))?);
    }
    let listed = directories.keys().map(|name| name.to_string()).collect();
    files.push(kustomization_file("kustomization.yaml".to_string(), None, listed)?);
    files.extend(environment_files(&bundle.environments, sources)?);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let repeated = files.windows(2).find_map(|pair| match pair {
        [first, second] if first.path == second.path => Some(&first.path),
        _ => None,
    });
    if let Some(path) = repeated {
        return Err((format!("`{path}` would be written twice"), None));
    }
    Ok(files)
}

/// `environments/<environment>/<service>/` for each deployment, and a kustomization per environment.
fn environment_files(
    deployments: &[ir::EnvironmentDeployment],
    sources: &SourceMap,
) -> Result<Vec<OutputFile>, EmitError> {
    let mut environments: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut files = Vec::new();
    for deployment in deployments {
        let service = &deployment.objects;
        let at = |message| (message, Some(service.rollout.origin));
        let directory = Directory {
            namespace: service.namespace.clone(),
            files: release_files(service, sources).map_err(at)?,
        };
        let path = format!("{ENVIRONMENTS_DIR}/{}/{}", deployment.environment, service.name);
        files.extend(directory.output(&path).map_err(at)?);
        environments
            .entry(&deployment.environment)
            .or_default()
            .push(service.name.clone());
    }
    for (environment, mut listed) in environments {
        listed.sort();
        let path = format!("{ENVIRONMENTS_DIR}/{environment}/kustomization.yaml");
        files.push(kustomization_file(path, None, listed)?);
    }
    Ok(files)
}

/// Files by name, each as its YAML documents.
type Files = Vec<(&'static str, Vec<String>)>;

/// The files of one output directory, before its kustomization.
struct Directory {
    /// The namespace of every object in it, which its kustomization sets.
    namespace: String,
    files: Files,
}

impl Directory {
    /// The files under `path`, followed by the kustomization listing them.
    fn output(&self, path: &str) -> Result<Vec<OutputFile>, String> {
        let listed = self.files.iter().map(|(name, _)| name.to_string()).collect();
        let kustomization = Kustomization::new(Some(self.namespace.clone()), listed);
        let mut files: Vec<OutputFile> = self
            .files
            .iter()
            .map(|(name, documents)| OutputFile {
                path: format!("{path}/{name}"),
                contents: yaml::stream(documents),
            })
            .collect();
        files.push(OutputFile {
            path: format!("{path}/kustomization.yaml"),
            contents: yaml::to_yaml(&kustomization)?,
        });
        Ok(files)
    }
}

/// Adds a service's release or CI files to its directory. The lowering puts a service's release and
/// CI objects in one namespace; a mismatch would make the directory's kustomization move some of them.
fn add_files<'a>(
    directories: &mut BTreeMap<&'a str, Directory>,
    name: &'a str,
    namespace: &str,
    files: Files,
) -> Result<(), String> {
    let directory = directories.entry(name).or_insert_with(|| Directory {
        namespace: namespace.to_string(),
        files: Vec::new(),
    });
    if directory.namespace != namespace {
        return Err(format!(
            "the objects of `{name}` are in two namespaces, `{}` and `{namespace}`",
            directory.namespace
        ));
    }
    directory.files.extend(files);
    Ok(())
}

fn kustomization_file(
    path: String,
    namespace: Option<String>,
    resources: Vec<String>,
) -> Result<OutputFile, EmitError> {
    Ok(OutputFile {
        path,
        contents: yaml::to_yaml(&Kustomization::new(namespace, resources)).map_err(|message| (message, None))?,
    })
}

/// `kustomization.yaml`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    resources: Vec<String>,
}

impl Kustomization {
    fn new(namespace: Option<String>, resources: Vec<String>) -> Kustomization {
        Kustomization {
            api_version: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            namespace,
            resources,
        }
    }
}

/// Stamps a service's objects with its labels and their source location.
struct Stamper<'a> {
    /// The service's name.
    service: &'a str,
    namespace: &'a str,
    sources: &'a SourceMap,
    selector: BTreeMap<String, String>,
}

impl<'a> Stamper<'a> {
    fn new(service: &'a str, namespace: &'a str, sources: &'a SourceMap) -> Stamper<'a> {
        Stamper {
            service,
            namespace,
            sources,
            selector: BTreeMap::from([(NAME_LABEL.to_string(), service.to_string())]),
        }
    }

    fn metadata(&self, name: &str, origin: Span) -> ObjectMeta {
        let mut labels = self.selector.clone();
        labels.insert(MANAGED_BY_LABEL.to_string(), "shipc".to_string());
        let (path, at) = self.sources.locate(origin);
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(self.namespace.to_string()),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([(
                SOURCE_ANNOTATION.to_string(),
                format!("{path}:{}", at.line),
            )])),
            ..ObjectMeta::default()
        }
    }
}

/// The release objects of a service: its Rollout and what goes with it.
fn release_files(service: &ServiceObjects, sources: &SourceMap) -> Result<Files, String> {
    let stamper = Stamper::new(&service.name, &service.namespace, sources);
    let mut files: Files = vec![
        (
            "rollout.yaml",
            vec![yaml::to_yaml(&rollout(&stamper, &service.rollout))?],
        ),
        (
            "services.yaml",
            service
                .services
                .iter()
                .map(|kube_service| {
                    yaml::to_yaml(&core::service(
                        stamper.metadata(&kube_service.name, kube_service.origin),
                        &stamper.selector,
                    ))
                })
                .collect::<Result<_, _>>()?,
        ),
    ];
    if !service.analyses.is_empty() {
        let documents = service
            .analyses
            .iter()
            .map(|template| yaml::to_yaml(&analysis_template(&stamper, template)))
            .collect::<Result<_, _>>()?;
        files.push(("analysis.yaml", documents));
    }
    if let Some(ingress) = &service.ingress {
        let object = core::nginx_ingress(stamper.metadata(&ingress.name, ingress.origin), ingress);
        files.push(("ingress.yaml", vec![yaml::to_yaml(&object)?]));
    }
    if let Some(autoscaler) = &service.autoscaler {
        let hpa = core::autoscaler(
            stamper.metadata(&service.name, autoscaler.origin),
            &service.name,
            autoscaler,
        );
        files.push(("hpa.yaml", vec![yaml::to_yaml(&hpa)?]));
    }
    if let Some(budget) = &service.disruption_budget {
        let pdb = core::disruption_budget(stamper.metadata(&service.name, budget.origin), &stamper.selector);
        files.push(("pdb.yaml", vec![yaml::to_yaml(&pdb)?]));
    }
    Ok(files)
}

/// The CI objects of a service: `ci.yaml` with the WorkflowTemplate and the identity its pods run as,
/// and `trigger.yaml` with the EventSource and the Sensor that submits it, when it has triggers.
fn ci_files(pipeline: &Pipeline, sources: &SourceMap) -> Result<Files, String> {
    let stamper = Stamper::new(&pipeline.service, &pipeline.namespace, sources);
    let account = &pipeline.service_account;
    let metadata = |name: &str| stamper.metadata(name, pipeline.origin);
    // Argo's executor reports each step's outputs as a WorkflowTaskResult; without this Role, outputs
    // and the steps that read them fail.
    let ci = vec![
        yaml::to_yaml(&core::service_account(metadata(account)))?,
        yaml::to_yaml(&core::role(
            metadata(account),
            "argoproj.io",
            "workflowtaskresults",
            &["create", "patch"],
        ))?,
        yaml::to_yaml(&core::role_binding(metadata(account), account, account))?,
        yaml::to_yaml(&workflows::workflow_template(pipeline, metadata(&pipeline.name)))?,
    ];
    let mut files = vec![("ci.yaml", ci)];
    if let Some(trigger) = &pipeline.trigger {
        let metadata = |name: &str| stamper.metadata(name, trigger.origin);
        let account = &trigger.sensor_service_account;
        let documents = vec![
            yaml::to_yaml(&events::event_source(trigger, metadata(&trigger.event_source)))?,
            yaml::to_yaml(&core::service_account(metadata(account)))?,
            yaml::to_yaml(&core::role(metadata(account), "argoproj.io", "workflows", &["create"]))?,
            yaml::to_yaml(&core::role_binding(metadata(account), account, account))?,
            yaml::to_yaml(&events::sensor(pipeline, trigger, metadata(&trigger.sensor))?)?,
        ];
        files.push(("trigger.yaml", documents));
    }
    Ok(files)
}

fn rollout(stamper: &Stamper<'_>, rollout: &ir::Rollout) -> argo::Rollout {
    argo::Rollout {
        api_version: argo::API_VERSION,
        kind: "Rollout",
        metadata: stamper.metadata(stamper.service, rollout.origin),
        spec: argo::RolloutSpec {
            replicas: rollout.replicas.and_then(|n| i32::try_from(n).ok()),
            selector: core::label_selector(&stamper.selector),
            template: core::pod_template(stamper.service, &stamper.selector, &rollout.container),
            strategy: match &rollout.strategy {
                ir::Strategy::BlueGreen(strategy) => argo::RolloutStrategy {
                    blue_green: Some(blue_green(strategy)),
                    ..argo::RolloutStrategy::default()
                },
                ir::Strategy::Canary(strategy) => argo::RolloutStrategy {
                    canary: Some(canary(strategy)),
                    ..argo::RolloutStrategy::default()
                },
            },
        },
    }
}

fn blue_green(strategy: &ir::BlueGreenStrategy) -> argo::BlueGreenStrategy {
    let as_i32 = |value: Option<u64>| value.and_then(|v| i32::try_from(v).ok());
    argo::BlueGreenStrategy {
        active_service: strategy.active_service.clone(),
        preview_service: strategy.preview_service.clone(),
        auto_promotion_enabled: strategy.auto_promotion_enabled,
        // Argo ignores it without automatic promotion, where it would only mislead a reader.
        auto_promotion_seconds: as_i32(strategy.auto_promotion_seconds).filter(|_| strategy.auto_promotion_enabled),
        scale_down_delay_seconds: as_i32(strategy.scale_down_delay_seconds),
        preview_replica_count: strategy.preview_replica_count.and_then(|n| i32::try_from(n).ok()),
        pre_promotion_analysis: strategy.pre_promotion_template.as_ref().map(rollout_analysis),
        post_promotion_analysis: strategy.post_promotion_template.as_ref().map(rollout_analysis),
    }
}

fn canary(strategy: &ir::CanaryStrategy) -> argo::CanaryStrategy {
    argo::CanaryStrategy {
        canary_service: strategy.canary_service.clone(),
        stable_service: strategy.stable_service.clone(),
        max_surge: pod_count(strategy.max_surge),
        max_unavailable: pod_count(strategy.max_unavailable),
        traffic_routing: strategy
            .nginx_stable_ingress
            .as_ref()
            .map(|ingress| argo::TrafficRouting {
                nginx: argo::NginxTrafficRouting {
                    stable_ingress: ingress.clone(),
                },
            }),
        steps: strategy
            .steps
            .iter()
            .map(|step| match step {
                ir::CanaryStep::SetWeight(weight) => argo::CanaryStep {
                    set_weight: i32::try_from(*weight).ok(),
                    ..argo::CanaryStep::default()
                },
                ir::CanaryStep::Pause(duration) => argo::CanaryStep {
                    pause: Some(argo::RolloutPause {
                        duration: duration.clone(),
                    }),
                    ..argo::CanaryStep::default()
                },
                ir::CanaryStep::Analysis(template) => argo::CanaryStep {
                    analysis: Some(rollout_analysis(template)),
                    ..argo::CanaryStep::default()
                },
            })
            .collect(),
        analysis: strategy.background.as_ref().map(rollout_analysis),
    }
}

/// Argo's int-or-string: a number of pods, or a percentage as the string `"25%"`.
fn pod_count(count: PodCount) -> IntOrString {
    match count {
        PodCount::Pods(pods) => IntOrString::Int(i32::try_from(pods).unwrap_or(i32::MAX)),
        PodCount::Percent(percent) => IntOrString::String(format!("{percent}%")),
    }
}

/// A template reference, with the pod template hashes of the versions its queries select.
fn rollout_analysis(template: &ir::TemplateUse) -> argo::RolloutAnalysis {
    argo::RolloutAnalysis {
        templates: vec![argo::AnalysisTemplateRef {
            template_name: template.name.clone(),
        }],
        args: template
            .versions
            .iter()
            .map(|version| argo::AnalysisRunArgument {
                name: version.arg_name().to_string(),
                value_from: argo::ArgumentValueFrom {
                    pod_template_hash_value: Some(version.argo_hash_value()),
                    field_ref: None,
                },
            })
            .chain(template.namespace.then(|| argo::AnalysisRunArgument {
                name: NAMESPACE_ARG.to_string(),
                value_from: argo::ArgumentValueFrom {
                    pod_template_hash_value: None,
                    field_ref: Some(argo::FieldRef {
                        field_path: "metadata.namespace",
                    }),
                },
            }))
            .collect(),
    }
}

fn analysis_template(stamper: &Stamper<'_>, template: &ir::AnalysisTemplate) -> argo::AnalysisTemplate {
    argo::AnalysisTemplate {
        api_version: argo::API_VERSION,
        kind: "AnalysisTemplate",
        metadata: stamper.metadata(&template.name, template.origin),
        spec: argo::AnalysisTemplateSpec {
            args: template
                .versions
                .iter()
                .map(|version| version.arg_name())
                .chain(template.namespace.then_some(NAMESPACE_ARG))
                .map(|name| argo::TemplateArgument { name: name.to_string() })
                .collect(),
            metrics: template.metrics.iter().map(metric).collect(),
            dry_run: template
                .metrics
                .iter()
                .filter(|metric| metric.dry_run)
                .map(|metric| argo::DryRun {
                    metric_name: metric.name.clone(),
                })
                .collect(),
        },
    }
}

fn metric(metric: &ir::AnalysisMetric) -> argo::Metric {
    let to_i32 = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    argo::Metric {
        name: metric.name.clone(),
        interval: metric.interval.clone(),
        initial_delay: metric.initial_delay.clone(),
        count: to_i32(metric.count),
        failure_limit: metric.failure_limit.map(to_i32),
        inconclusive_limit: metric.inconclusive_limit.map(to_i32),
        consecutive_error_limit: metric.consecutive_error_limit.map(to_i32),
        success_condition: metric.success_condition.clone(),
        failure_condition: metric.failure_condition.clone(),
        provider: match &metric.provider {
            ir::Provider::Prometheus { address, query } => argo::MetricProvider {
                prometheus: Some(argo::PrometheusMetric {
                    address: address.clone(),
                    query: query.clone(),
                }),
                ..argo::MetricProvider::default()
            },
            ir::Provider::Web { url, json_path } => argo::MetricProvider {
                web: Some(argo::WebMetric {
                    url: url.clone(),
                    json_path: json_path.clone(),
                }),
                ..argo::MetricProvider::default()
            },
            ir::Provider::Job {
                image,
                command,
                env,
                active_deadline_seconds,
            } => argo::MetricProvider {
                job: Some(argo::JobMetric {
                    spec: core::check_job(image, command, env, *active_deadline_seconds),
                }),
                ..argo::MetricProvider::default()
            },
        },
    }
}
