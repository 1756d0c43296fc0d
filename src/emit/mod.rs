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

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use crate::check::model::{NAMESPACE_ARG, PodCount};
use crate::lower::ir::{self, Bundle, Pipeline, ServiceObjects};
use crate::lower::{Plan, PlannedPipeline, PlannedRelease};
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
    /// How many YAML documents `contents` holds (0 for a file that is not YAML), so that a stream of
    /// files can count its objects without searching them.
    pub documents: usize,
}

impl OutputFile {
    /// True for a `kustomization.yaml`, which configures kustomize and holds no cluster object.
    pub fn is_kustomization(&self) -> bool {
        self.path == "kustomization.yaml" || self.path.ends_with("/kustomization.yaml")
    }
}

/// An internal error (a value serde cannot represent, or an impossible layout), with the span of the
/// object it happened in when there is one.
type EmitError = (String, Option<Span>);

/// Serializes objects lowered beforehand.
pub fn emit(bundle: &Bundle, sources: &SourceMap) -> Result<Vec<OutputFile>, EmitError> {
    let releases = bundle.services.iter().map(Release::Lowered);
    let deployments = bundle
        .environments
        .iter()
        .map(|deployment| (deployment.environment.as_str(), Release::Lowered(&deployment.objects)));
    let pipelines = bundle.pipelines.iter().map(Ci::Lowered);
    let units = layout(releases, deployments, pipelines)?;
    let mut files = Vec::new();
    let collected: Result<(), EachError<Infallible>> = write_units(&units, sources, &mut |file| {
        files.push(file);
        Ok(())
    });
    match collected {
        Ok(()) => Ok(files),
        Err(EachError::Emit(error)) => Err(error),
    }
}

/// Why [`emit_each`] stopped.
#[derive(Debug)]
pub enum EachError<E> {
    /// Serializing failed: a bug in shipc.
    Emit(EmitError),
    /// The sink refused a file.
    Sink(E),
}

/// How many output directories are rendered together before their files are handed on: enough to keep
/// every core busy, few enough that memory stays flat however many services there are.
const BATCH: usize = 64;

/// Lowers and serializes what `plan` holds and hands each file to `sink` as soon as it is rendered, in
/// order of path. Directories are lowered and rendered in parallel, a batch at a time, so memory does
/// not grow with the number of services and the order (hence the output) does not depend on the number
/// of threads. While `sink` takes one batch (writing is serial), the next batch is already being
/// rendered.
pub fn emit_each<E>(
    plan: &Plan<'_>,
    sources: &SourceMap,
    sink: &mut dyn FnMut(OutputFile) -> Result<(), E>,
) -> Result<(), EachError<E>> {
    let releases = plan.releases.iter().copied().map(Release::Planned);
    let deployments = plan.deployments.iter().map(|deployment| {
        (
            deployment.environment().unwrap_or_default(),
            Release::Planned(*deployment),
        )
    });
    let pipelines = plan.pipelines.iter().copied().map(Ci::Planned);
    let units = layout(releases, deployments, pipelines).map_err(EachError::Emit)?;
    write_units(&units, sources, sink)
}

/// Renders `units` and hands their files to `sink`, checking that no path is written twice.
fn write_units<E>(
    units: &[(String, Unit<'_>)],
    sources: &SourceMap,
    sink: &mut dyn FnMut(OutputFile) -> Result<(), E>,
) -> Result<(), EachError<E>> {
    let render = |batch: &[(String, Unit<'_>)]| crate::parallel::map(batch, |(_, unit)| unit.render(sources));
    let mut written = BTreeSet::new();
    std::thread::scope(|scope| {
        let mut batches = units.chunks(BATCH);
        let mut rendered = batches.next().map(render);
        while let Some(current) = rendered.take() {
            let next = batches.next().map(|batch| scope.spawn(move || render(batch)));
            for files in current {
                for file in files.map_err(EachError::Emit)? {
                    if !written.insert(file.path.clone()) {
                        return Err(EachError::Emit((
                            format!("`{}` would be written twice", file.path),
                            None,
                        )));
                    }
                    sink(file).map_err(EachError::Sink)?;
                }
            }
            rendered = next.map(|handle| match handle.join() {
                Ok(batch) => batch,
                // A panic while rendering is a bug; carry it to this thread, where the panic hook
                // reports it.
                Err(payload) => std::panic::resume_unwind(payload),
            });
        }
        Ok(())
    })
}

/// A release's objects: lowered already, or lowered when its directory is rendered.
#[derive(Clone, Copy)]
enum Release<'a> {
    Lowered(&'a ServiceObjects),
    Planned(PlannedRelease<'a>),
}

impl<'a> Release<'a> {
    fn service(&self) -> &'a str {
        match self {
            Release::Lowered(objects) => &objects.name,
            Release::Planned(planned) => planned.service(),
        }
    }

    fn namespace(&self) -> &'a str {
        match self {
            Release::Lowered(objects) => &objects.namespace,
            Release::Planned(planned) => planned.namespace(),
        }
    }

    fn with_objects<R>(&self, use_objects: impl FnOnce(&ServiceObjects) -> R) -> R {
        match self {
            Release::Lowered(objects) => use_objects(objects),
            Release::Planned(planned) => use_objects(&planned.lower()),
        }
    }
}

/// A service's CI: lowered already, or lowered when its directory is rendered.
#[derive(Clone, Copy)]
enum Ci<'a> {
    Lowered(&'a Pipeline),
    Planned(PlannedPipeline<'a>),
}

impl<'a> Ci<'a> {
    fn service(&self) -> &'a str {
        match self {
            Ci::Lowered(pipeline) => &pipeline.service,
            Ci::Planned(planned) => planned.service(),
        }
    }

    fn namespace(&self) -> &'a str {
        match self {
            Ci::Lowered(pipeline) => &pipeline.namespace,
            Ci::Planned(planned) => planned.namespace(),
        }
    }

    fn with_objects<R>(&self, use_objects: impl FnOnce(&Pipeline) -> R) -> R {
        match self {
            Ci::Lowered(pipeline) => use_objects(pipeline),
            Ci::Planned(planned) => use_objects(&planned.lower()),
        }
    }
}

/// One output directory, or one file of its own, rendered independently of the others.
enum Unit<'a> {
    /// `<service>/`: the service's release objects and its CI, either of which may be absent.
    Service {
        name: &'a str,
        namespace: &'a str,
        release: Option<Release<'a>>,
        ci: Option<Ci<'a>>,
    },
    /// `environments/<environment>/<service>/`.
    Deployment { environment: &'a str, release: Release<'a> },
    /// A kustomization listing directories.
    Kustomization { path: String, resources: Vec<String> },
}

/// Every unit with the key it sorts by: its directory with a trailing `/` (so that `a/x` sorts after
/// `a-b/x`, as the paths themselves do), or its file's path.
fn layout<'a>(
    releases: impl Iterator<Item = Release<'a>>,
    deployments: impl Iterator<Item = (&'a str, Release<'a>)>,
    pipelines: impl Iterator<Item = Ci<'a>>,
) -> Result<Vec<(String, Unit<'a>)>, EmitError> {
    let twice = |path: String| (format!("`{path}` would be written twice"), None);
    let mut services: BTreeMap<&str, (&str, Option<Release<'a>>, Option<Ci<'a>>)> = BTreeMap::new();
    for release in releases {
        let entry = services
            .entry(release.service())
            .or_insert((release.namespace(), None, None));
        if entry.1.replace(release).is_some() {
            return Err(twice(format!("{}/rollout.yaml", release.service())));
        }
    }
    for ci in pipelines {
        let entry = services.entry(ci.service()).or_insert((ci.namespace(), None, None));
        if entry.2.replace(ci).is_some() {
            return Err(twice(format!("{}/ci.yaml", ci.service())));
        }
    }
    let mut units: Vec<(String, Unit<'a>)> = Vec::with_capacity(services.len() + 1);
    units.push((
        "kustomization.yaml".to_string(),
        Unit::Kustomization {
            path: "kustomization.yaml".to_string(),
            resources: services.keys().map(|name| name.to_string()).collect(),
        },
    ));
    let mut environments: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (environment, release) in deployments {
        let key = format!("{ENVIRONMENTS_DIR}/{environment}/{}/", release.service());
        units.push((key, Unit::Deployment { environment, release }));
        environments
            .entry(environment)
            .or_default()
            .push(release.service().to_string());
    }
    for (environment, mut listed) in environments {
        listed.sort();
        let path = format!("{ENVIRONMENTS_DIR}/{environment}/kustomization.yaml");
        units.push((
            path.clone(),
            Unit::Kustomization {
                path,
                resources: listed,
            },
        ));
    }
    for (name, (namespace, release, ci)) in services {
        units.push((
            format!("{name}/"),
            Unit::Service {
                name,
                namespace,
                release,
                ci,
            },
        ));
    }
    units.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(units)
}

impl Unit<'_> {
    /// The unit's files, sorted by path.
    fn render(&self, sources: &SourceMap) -> Result<Vec<OutputFile>, EmitError> {
        let mut files = match self {
            Unit::Service {
                name,
                namespace,
                release,
                ci,
            } => {
                let mut directory = Directory {
                    namespace: namespace.to_string(),
                    files: Vec::new(),
                };
                if let Some(release) = release {
                    release.with_objects(|service| {
                        let at = |message| (message, Some(service.rollout.origin));
                        add_files(
                            &mut directory,
                            name,
                            &service.namespace,
                            release_files(service, sources).map_err(at)?,
                        )
                        .map_err(at)
                    })?;
                }
                if let Some(ci) = ci {
                    ci.with_objects(|pipeline| {
                        let at = |message| (message, Some(pipeline.origin));
                        add_files(
                            &mut directory,
                            name,
                            &pipeline.namespace,
                            ci_files(pipeline, sources).map_err(at)?,
                        )
                        .map_err(at)
                    })?;
                }
                directory.output(name).map_err(|message| (message, None))?
            }
            Unit::Deployment { environment, release } => release.with_objects(|service| {
                let at = |message| (message, Some(service.rollout.origin));
                let directory = Directory {
                    namespace: service.namespace.clone(),
                    files: release_files(service, sources).map_err(at)?,
                };
                let path = format!("{ENVIRONMENTS_DIR}/{environment}/{}", service.name);
                directory.output(&path).map_err(at)
            })?,
            Unit::Kustomization { path, resources } => {
                vec![kustomization_file(path.clone(), None, resources.clone())?]
            }
        };
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }
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
                documents: documents.len(),
            })
            .collect();
        files.push(OutputFile {
            path: format!("{path}/kustomization.yaml"),
            contents: yaml::to_yaml(&kustomization)?,
            documents: 1,
        });
        Ok(files)
    }
}

/// Adds a service's release or CI files to its directory. The lowering puts a service's release and
/// CI objects in one namespace; a mismatch would make the directory's kustomization move some of them.
fn add_files(directory: &mut Directory, name: &str, namespace: &str, files: Files) -> Result<(), String> {
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
        documents: 1,
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
