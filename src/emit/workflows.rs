//! Serde types for the Argo Workflows kinds shipc emits (`argoproj.io/v1alpha1`, Argo Workflows v4),
//! and the WorkflowTemplate built from a lowered [`Pipeline`].
//!
//! As in [`super::argo`], only the fields shipc sets are modelled, unset ones are left out rather than
//! written as `null`, and Argo's "one of" fields (a template's kind, an output's `valueFrom`) are
//! structs of options. The pieces Argo borrows from the core API (containers, volumes, claims,
//! security contexts) are k8s-openapi's types.

use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, EnvVar, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PodSecurityContext, SeccompProfile, SecurityContext, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::{argo, core};
use crate::lower::ir::{self, Pipeline, WORK_DIR, WORK_VOLUME};

/// `WorkflowTemplate`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowTemplate {
    /// Always [`argo::API_VERSION`].
    pub api_version: &'static str,
    /// Always `WorkflowTemplate`.
    pub kind: &'static str,
    /// Name, namespace, labels, annotations.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: WorkflowTemplateSpec,
}

/// `WorkflowTemplate.spec`, a `WorkflowSpec` with the fields a CI pipeline needs.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowTemplateSpec {
    /// The template a submitted workflow starts with.
    pub entrypoint: String,
    /// The ServiceAccount of every pod.
    pub service_account_name: String,
    /// Deadline of the whole workflow, in seconds (an integer at this level, never a string).
    pub active_deadline_seconds: i64,
    /// When step pods are deleted.
    #[serde(rename = "podGC")]
    pub pod_gc: GarbageCollection,
    /// How long finished workflows are kept.
    pub ttl_strategy: TtlStrategy,
    /// The pod security context of every step.
    pub security_context: PodSecurityContext,
    /// The workflow parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Parameters>,
    /// Claims created for each workflow and mounted by name.
    pub volume_claim_templates: Vec<PersistentVolumeClaim>,
    /// When those claims are deleted.
    #[serde(rename = "volumeClaimGC")]
    pub volume_claim_gc: GarbageCollection,
    /// Volumes every step may mount.
    pub volumes: Vec<Volume>,
    /// The templates, the entrypoint among them.
    pub templates: Vec<Template>,
}

/// `podGC` and `volumeClaimGC`: when Argo deletes what a workflow leaves behind.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GarbageCollection {
    /// `OnPodSuccess`, `OnWorkflowCompletion`, ...
    pub strategy: &'static str,
}

/// `ttlStrategy`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TtlStrategy {
    /// Seconds a succeeded workflow is kept.
    pub seconds_after_success: i32,
    /// Seconds a failed workflow is kept.
    pub seconds_after_failure: i32,
}

/// `arguments`, `inputs` or `outputs`: shipc passes parameters only, never artifacts.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Parameters {
    /// The parameters, in order.
    pub parameters: Vec<Parameter>,
}

/// `Parameter`: a workflow argument, a task argument, an input or an output.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Parameter {
    /// Its name.
    pub name: String,
    /// The value (always a string, even for a number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// An input's value when the caller passes none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Where an output's value is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from: Option<ValueFrom>,
}

/// `ValueFrom`: exactly one of its fields is set.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ValueFrom {
    /// A file the container wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Another parameter, for the outputs of a DAG template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

/// One template: exactly one of `dag`, `suspend`, `container` and `script` is set.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    /// Its name, unique in the WorkflowTemplate.
    pub name: String,
    /// Input parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Parameters>,
    /// Output parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Parameters>,
    /// Mutexes held while it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synchronization: Option<Synchronization>,
    /// Retries of a failed step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_strategy: Option<RetryStrategy>,
    /// Deadline of each attempt, in seconds (container and script templates only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<IntOrString>,
    /// A DAG of tasks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dag: Option<DagTemplate>,
    /// A pause until resumed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspend: Option<SuspendTemplate>,
    /// A container running a command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// A container running a script.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<ScriptTemplate>,
}

/// `DAGTemplate`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DagTemplate {
    /// The tasks; the order does not matter to Argo, only `depends`.
    pub tasks: Vec<DagTask>,
}

/// `DAGTask`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DagTask {
    /// Its name, unique in the DAG.
    pub name: String,
    /// The template it runs.
    pub template: String,
    /// The tasks it waits for, as a boolean expression over their results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depends: Option<String>,
    /// A condition; the task is Skipped when it is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// Values for the template's inputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Parameters>,
}

/// `SuspendTemplate` without a duration: it waits until `argo resume`.
#[derive(Serialize)]
pub struct SuspendTemplate {}

/// `ScriptTemplate`: a container whose command gets the path of a file holding `source`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptTemplate {
    /// The container.
    #[serde(flatten)]
    pub container: Container,
    /// The script.
    pub source: String,
}

/// `Synchronization`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Synchronization {
    /// Mutexes, each held by one workflow at a time in the namespace.
    pub mutexes: Vec<Mutex>,
}

/// `Mutex`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mutex {
    /// Its name.
    pub name: String,
}

/// `RetryStrategy`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryStrategy {
    /// Retries after the first attempt.
    pub limit: String,
    /// Which failures are retried.
    pub retry_policy: &'static str,
    /// Waits between attempts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
}

/// `Backoff`; every field is a string.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backoff {
    /// First wait, a Go duration.
    pub duration: String,
    /// Multiplier per attempt.
    pub factor: String,
    /// Longest total backoff, a Go duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<String>,
}

/// `Workflow`, as a Sensor submits it: a run of a WorkflowTemplate with its parameters.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workflow {
    /// Always [`argo::API_VERSION`].
    pub api_version: &'static str,
    /// Always `Workflow`.
    pub kind: &'static str,
    /// `generateName` and namespace.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: WorkflowSpec,
}

/// `Workflow.spec` of a workflow that runs a WorkflowTemplate.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowSpec {
    /// The template.
    pub workflow_template_ref: WorkflowTemplateRef,
    /// A value for each of the template's parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Parameters>,
}

/// `WorkflowTemplateRef`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowTemplateRef {
    /// A WorkflowTemplate of the workflow's namespace.
    pub name: String,
}

/// The user and group of every step that does not need root: the `nonroot` user of distroless images,
/// which owns nothing in most other images either.
const NON_ROOT_ID: i64 = 65532;

/// The emptyDir mounted at `/tmp` in every step: the one writable place when the root filesystem is
/// read-only.
const TMP_VOLUME: &str = "tmp";

/// The name Argo gives a template's container; the controller applies the template's resources to the
/// container of that name.
const MAIN_CONTAINER: &str = "main";

/// The WorkflowTemplate of a pipeline.
pub(super) fn workflow_template(pipeline: &Pipeline, metadata: ObjectMeta) -> WorkflowTemplate {
    WorkflowTemplate {
        api_version: argo::API_VERSION,
        kind: "WorkflowTemplate",
        metadata,
        spec: WorkflowTemplateSpec {
            entrypoint: pipeline.entrypoint.clone(),
            service_account_name: pipeline.service_account.clone(),
            active_deadline_seconds: i64::try_from(pipeline.active_deadline_seconds).unwrap_or(i64::MAX),
            // Failed pods stay for `kubectl logs`; the TTL below removes them with their workflow.
            pod_gc: GarbageCollection {
                strategy: "OnPodSuccess",
            },
            // Long enough to read a failure the next morning, short enough not to pile up.
            ttl_strategy: TtlStrategy {
                seconds_after_success: 3600,
                seconds_after_failure: 86400,
            },
            security_context: PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(NON_ROOT_ID),
                run_as_group: Some(NON_ROOT_ID),
                // Makes the work volume writable by the non-root user.
                fs_group: Some(NON_ROOT_ID),
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".to_string(),
                    localhost_profile: None,
                }),
                ..PodSecurityContext::default()
            },
            arguments: parameters(pipeline.parameters.iter().map(|parameter| Parameter {
                name: parameter.name.clone(),
                value: parameter.default.clone(),
                ..Parameter::default()
            })),
            volume_claim_templates: vec![work_volume_claim(&pipeline.work_volume)],
            // Argo's default keeps the claim of a failed workflow forever.
            volume_claim_gc: GarbageCollection {
                strategy: "OnWorkflowCompletion",
            },
            volumes: vec![Volume {
                name: TMP_VOLUME.to_string(),
                empty_dir: Some(EmptyDirVolumeSource::default()),
                ..Volume::default()
            }],
            templates: pipeline.templates.iter().map(template).collect(),
        },
    }
}

/// `Some` list of parameters, or `None` for none, so that no empty `parameters: []` is written.
pub(super) fn parameters(parameters: impl Iterator<Item = Parameter>) -> Option<Parameters> {
    let parameters: Vec<Parameter> = parameters.collect();
    (!parameters.is_empty()).then_some(Parameters { parameters })
}

/// The claim every step mounts at [`WORK_DIR`]; Argo creates one per workflow.
fn work_volume_claim(size: &str) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(WORK_VOLUME.to_string()),
            ..ObjectMeta::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".to_string()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some([("storage".to_string(), Quantity(size.to_string()))].into()),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    }
}

fn template(item: &ir::WorkflowTemplateItem) -> Template {
    let mut template = Template {
        name: item.name.clone(),
        inputs: parameters(item.inputs.iter().map(|input| Parameter {
            name: input.name.clone(),
            default: input.default.clone(),
            ..Parameter::default()
        })),
        outputs: parameters(item.outputs.iter().map(output_parameter)),
        ..Template::default()
    };
    match &item.kind {
        ir::TemplateKind::Dag(tasks) => {
            template.dag = Some(DagTemplate {
                tasks: tasks.iter().map(dag_task).collect(),
            });
        }
        ir::TemplateKind::Suspend => template.suspend = Some(SuspendTemplate {}),
        ir::TemplateKind::Container(step) => {
            template.synchronization = step.mutex.as_ref().map(|name| Synchronization {
                mutexes: vec![Mutex { name: name.clone() }],
            });
            template.retry_strategy = step.retry.as_ref().map(retry_strategy);
            template.active_deadline_seconds = step
                .active_deadline_seconds
                .map(|seconds| IntOrString::Int(i32::try_from(seconds).unwrap_or(i32::MAX)));
            let container = step_container(step);
            match &step.program {
                ir::Program::Script(source) => {
                    template.script = Some(ScriptTemplate {
                        container: Container {
                            // Argo appends the path of the script file; `-e` stops at the first failing
                            // command, as a CI step should.
                            command: Some(vec!["sh".to_string(), "-e".to_string()]),
                            ..container
                        },
                        source: source.clone(),
                    });
                }
                ir::Program::Exec { command, args } => {
                    template.container = Some(Container {
                        command: (!command.is_empty()).then(|| command.clone()),
                        args: (!args.is_empty()).then(|| args.clone()),
                        ..container
                    });
                }
            }
        }
    }
    template
}

fn output_parameter(output: &ir::OutputParameter) -> Parameter {
    let value_from = match &output.source {
        ir::OutputSource::Path(path) => ValueFrom {
            path: Some(path.clone()),
            ..ValueFrom::default()
        },
        ir::OutputSource::Parameter(parameter) => ValueFrom {
            parameter: Some(parameter.clone()),
            ..ValueFrom::default()
        },
    };
    Parameter {
        name: output.name.clone(),
        value_from: Some(value_from),
        ..Parameter::default()
    }
}

fn dag_task(task: &ir::DagTask) -> DagTask {
    DagTask {
        name: task.name.clone(),
        template: task.template.clone(),
        depends: task.depends.clone(),
        when: task.when.clone(),
        arguments: parameters(task.arguments.iter().map(|(name, value)| Parameter {
            name: name.clone(),
            value: Some(value.clone()),
            ..Parameter::default()
        })),
    }
}

/// The container of a step, without its command: in the sources, with the work and `/tmp` volumes.
fn step_container(step: &ir::StepContainer) -> Container {
    Container {
        name: MAIN_CONTAINER.to_string(),
        image: Some(step.image.clone()),
        working_dir: Some(format!("{WORK_DIR}/src")),
        volume_mounts: Some(vec![
            VolumeMount {
                name: WORK_VOLUME.to_string(),
                mount_path: WORK_DIR.to_string(),
                ..VolumeMount::default()
            },
            VolumeMount {
                name: TMP_VOLUME.to_string(),
                mount_path: "/tmp".to_string(),
                ..VolumeMount::default()
            },
        ]),
        env: Some(step_env(&step.env)),
        resources: core::resources(&step.resources),
        security_context: Some(step_security_context(step)),
        ..Container::default()
    }
}

/// `HOME` first: the non-root user has no home directory and the root filesystem is usually
/// read-only, so git, cargo or npm would fail writing their configuration and caches anywhere else.
fn step_env(env: &[ir::StepEnv]) -> Vec<EnvVar> {
    let mut vars = vec![core::literal_env_var("HOME", "/tmp")];
    vars.extend(env.iter().map(|var| match &var.value {
        ir::StepEnvValue::Value(value) => core::literal_env_var(&var.name, value),
        ir::StepEnvValue::Secret { name, key } => core::secret_env_var(&var.name, name, key),
    }));
    vars
}

fn step_security_context(step: &ir::StepContainer) -> SecurityContext {
    let mut context = SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(!step.writable_root),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_string()]),
            add: None,
        }),
        ..SecurityContext::default()
    };
    if step.run_as_root {
        // Overrides the pod's non-root user for this container only; every capability stays dropped.
        context.run_as_non_root = Some(false);
        context.run_as_user = Some(0);
    }
    context
}

fn retry_strategy(retry: &ir::Retry) -> RetryStrategy {
    RetryStrategy {
        limit: retry.limit.to_string(),
        // A failing command is retried; an error of Argo or Kubernetes fails the step at once.
        retry_policy: "OnFailure",
        backoff: retry.backoff.as_ref().map(|backoff| Backoff {
            duration: backoff.duration.clone(),
            factor: backoff.factor.to_string(),
            max_duration: backoff.max_duration.clone(),
        }),
    }
}
