//! Serde types for the Argo Events kinds shipc emits (`argoproj.io/v1alpha1`, Argo Events v1.9), and
//! the EventSource and Sensor built from a lowered [`Trigger`](ir::Trigger).
//!
//! The CRDs of these kinds have no schema, so the API server would keep a misspelt field and Argo
//! Events would ignore it: every field here is checked against Argo Events' JSON schema. As elsewhere,
//! only the fields shipc sets are modelled and "one of" fields are structs of options.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{SecretKeySelector, ServicePort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::argo;
use super::workflows::{self, Parameter, Workflow, WorkflowSpec, WorkflowTemplateRef};
use crate::lower::ir::{self, Pipeline, WEBHOOK_PORT};

/// `EventSource`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSource {
    /// Always [`argo::API_VERSION`].
    pub api_version: &'static str,
    /// Always `EventSource`.
    pub kind: &'static str,
    /// Name, namespace, labels, annotations.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: EventSourceSpec,
}

/// `EventSource.spec`: the Service in front of the webhook server and exactly one git host.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSourceSpec {
    /// The Service Argo Events creates, `<name>-eventsource-svc`.
    pub service: EventSourceService,
    /// GitHub webhooks, by event name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub github: Option<BTreeMap<String, GithubEventSource>>,
    /// GitLab webhooks, by event name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gitlab: Option<BTreeMap<String, GitlabEventSource>>,
}

/// `Service` of an EventSource.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSourceService {
    /// Its ports.
    pub ports: Vec<ServicePort>,
}

/// `GithubEventSource`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GithubEventSource {
    /// The repositories whose webhooks are registered.
    pub repositories: Vec<OwnedRepositories>,
    /// Where the webhooks are received.
    pub webhook: WebhookContext,
    /// GitHub's event names (`push`, `pull_request`).
    pub events: Vec<String>,
    /// The token that lets Argo Events register the webhook.
    pub api_token: SecretKeySelector,
    /// The secret GitHub signs deliveries with.
    pub webhook_secret: SecretKeySelector,
    /// `json`: the body arrives as a JSON document, which data filters need.
    pub content_type: &'static str,
    /// Registers the webhook as active.
    pub active: bool,
}

/// `OwnedRepositories`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnedRepositories {
    /// The user or organization.
    pub owner: String,
    /// Repositories of that owner.
    pub names: Vec<String>,
}

/// `GitlabEventSource`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GitlabEventSource {
    /// `group/project` paths.
    pub projects: Vec<String>,
    /// Where the webhooks are received.
    pub webhook: WebhookContext,
    /// GitLab's event names (`PushEvents`, `TagPushEvents`).
    pub events: Vec<String>,
    /// The token that lets Argo Events register the webhook.
    pub access_token: SecretKeySelector,
    /// The token GitLab sends with each delivery.
    pub secret_token: SecretKeySelector,
    /// The GitLab server.
    #[serde(rename = "gitlabBaseURL")]
    pub gitlab_base_url: String,
}

/// `WebhookContext`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookContext {
    /// The path the server listens on.
    pub endpoint: String,
    /// The port the server listens on; a string in Argo Events.
    pub port: String,
    /// `POST`.
    pub method: &'static str,
    /// The public base URL the git host posts to.
    pub url: String,
}

/// `Sensor`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sensor {
    /// Always [`argo::API_VERSION`].
    pub api_version: &'static str,
    /// Always `Sensor`.
    pub kind: &'static str,
    /// Name, namespace, labels, annotations.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: SensorSpec,
}

/// `Sensor.spec`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SensorSpec {
    /// The Sensor's pod.
    pub template: SensorPodTemplate,
    /// The events it waits for.
    pub dependencies: Vec<EventDependency>,
    /// What it does when they arrive.
    pub triggers: Vec<Trigger>,
}

/// `Template` of a Sensor: its pod.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SensorPodTemplate {
    /// The ServiceAccount it submits workflows as.
    pub service_account_name: String,
}

/// `EventDependency`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDependency {
    /// Its name, which trigger conditions and parameters refer to.
    pub name: String,
    /// The EventSource.
    pub event_source_name: String,
    /// The event inside the EventSource.
    pub event_name: String,
    /// Which events count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<EventDependencyFilter>,
}

/// `EventDependencyFilter`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDependencyFilter {
    /// Filters on the event's data; all must pass.
    pub data: Vec<DataFilter>,
}

/// `DataFilter`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataFilter {
    /// gjson path into the event.
    pub path: String,
    /// `string`: the values are regular expressions.
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// Any may match.
    pub value: Vec<String>,
}

/// `Trigger`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    /// What it does.
    pub template: TriggerTemplate,
    /// Retries when the submission fails.
    pub retry_strategy: TriggerBackoff,
}

/// `TriggerTemplate` with the one kind of trigger shipc emits.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerTemplate {
    /// Its name, unique in the Sensor.
    pub name: String,
    /// The dependencies that fire it, as a boolean expression of their names.
    pub conditions: String,
    /// Submits a Workflow.
    pub argo_workflow: ArgoWorkflowTrigger,
}

/// `ArgoWorkflowTrigger`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArgoWorkflowTrigger {
    /// `submit`.
    pub operation: &'static str,
    /// The Workflow.
    pub source: ArtifactLocation,
    /// Values copied from the event into the Workflow before it is submitted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<TriggerParameter>,
}

/// `ArtifactLocation`, with the object written inline.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactLocation {
    /// The object.
    pub resource: Workflow,
}

/// `TriggerParameter`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerParameter {
    /// Where the value is read.
    pub src: TriggerParameterSource,
    /// Dotted path of the field it replaces in the resource, with list indices as numbers.
    pub dest: String,
}

/// `TriggerParameterSource`: `dataKey` or `dataTemplate` is set.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerParameterSource {
    /// The dependency whose event is read.
    pub dependency_name: String,
    /// A gjson path into the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_key: Option<String>,
    /// A Go template over `.Input`, the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_template: Option<String>,
}

/// `Backoff` of a trigger.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerBackoff {
    /// Attempts.
    pub steps: i32,
}

/// The Secret holding a GitHub API token under `token` and the webhook secret under `secret`.
const GITHUB_SECRET: &str = "github-access";
/// The Secret holding a GitLab access token under `token` and the webhook secret under `secret`.
const GITLAB_SECRET: &str = "gitlab-access";

/// The EventSource receiving the git host's webhooks.
pub(super) fn event_source(trigger: &ir::Trigger, metadata: ObjectMeta) -> EventSource {
    let webhook = WebhookContext {
        endpoint: trigger.endpoint.clone(),
        port: WEBHOOK_PORT.to_string(),
        method: "POST",
        url: trigger.webhook_url.clone(),
    };
    let mut spec = EventSourceSpec {
        service: EventSourceService {
            ports: vec![ServicePort {
                port: i32::from(WEBHOOK_PORT),
                target_port: Some(IntOrString::Int(i32::from(WEBHOOK_PORT))),
                ..ServicePort::default()
            }],
        },
        github: None,
        gitlab: None,
    };
    match &trigger.provider {
        ir::GitProvider::GitHub { owner, repository } => {
            let source = GithubEventSource {
                repositories: vec![OwnedRepositories {
                    owner: owner.clone(),
                    names: vec![repository.clone()],
                }],
                webhook,
                events: trigger.events.clone(),
                api_token: secret_key(GITHUB_SECRET, "token"),
                webhook_secret: secret_key(GITHUB_SECRET, "secret"),
                content_type: "json",
                active: true,
            };
            spec.github = Some(BTreeMap::from([(trigger.event_name.clone(), source)]));
        }
        ir::GitProvider::GitLab { project, base_url } => {
            let source = GitlabEventSource {
                projects: vec![project.clone()],
                webhook,
                events: trigger.events.clone(),
                access_token: secret_key(GITLAB_SECRET, "token"),
                secret_token: secret_key(GITLAB_SECRET, "secret"),
                gitlab_base_url: base_url.clone(),
            };
            spec.gitlab = Some(BTreeMap::from([(trigger.event_name.clone(), source)]));
        }
    }
    EventSource {
        api_version: argo::API_VERSION,
        kind: "EventSource",
        metadata,
        spec,
    }
}

fn secret_key(secret: &str, key: &str) -> SecretKeySelector {
    SecretKeySelector {
        name: secret.to_string(),
        key: key.to_string(),
        optional: None,
    }
}

/// The Sensor submitting a Workflow from the pipeline's template for each matching event. Fails when a
/// dependency does not give one value per workflow parameter.
pub(super) fn sensor(pipeline: &Pipeline, trigger: &ir::Trigger, metadata: ObjectMeta) -> Result<Sensor, String> {
    Ok(Sensor {
        api_version: argo::API_VERSION,
        kind: "Sensor",
        metadata,
        spec: SensorSpec {
            template: SensorPodTemplate {
                service_account_name: trigger.sensor_service_account.clone(),
            },
            dependencies: trigger
                .dependencies
                .iter()
                .map(|dependency| EventDependency {
                    name: dependency.name.clone(),
                    event_source_name: trigger.event_source.clone(),
                    event_name: trigger.event_name.clone(),
                    filters: (!dependency.filters.is_empty()).then(|| EventDependencyFilter {
                        data: dependency
                            .filters
                            .iter()
                            .map(|filter| DataFilter {
                                path: filter.path.clone(),
                                type_: "string",
                                value: filter.values.clone(),
                            })
                            .collect(),
                    }),
                })
                .collect(),
            triggers: trigger
                .dependencies
                .iter()
                .map(|dependency| submit_trigger(pipeline, dependency))
                .collect::<Result<_, _>>()?,
        },
    })
}

/// The trigger of one dependency. The Workflow lists every parameter in the template's order, since
/// `dest` addresses them by index: a value read from the event is a placeholder `""` that the
/// trigger parameter overwrites, a constant is written in place.
fn submit_trigger(pipeline: &Pipeline, dependency: &ir::EventDependency) -> Result<Trigger, String> {
    if dependency.parameters.len() != pipeline.parameters.len() {
        return Err(format!(
            "the trigger `{}` gives {} values for the {} parameters of `{}`",
            dependency.name,
            dependency.parameters.len(),
            pipeline.parameters.len(),
            pipeline.name
        ));
    }
    let mut arguments = Vec::new();
    let mut parameters = Vec::new();
    for (idx, (parameter, value)) in pipeline.parameters.iter().zip(&dependency.parameters).enumerate() {
        let mut read_from_event = |data_key, data_template| {
            parameters.push(TriggerParameter {
                src: TriggerParameterSource {
                    dependency_name: dependency.name.clone(),
                    data_key,
                    data_template,
                },
                dest: format!("spec.arguments.parameters.{idx}.value"),
            });
            String::new()
        };
        let written = match value {
            ir::EventValue::Key(key) => read_from_event(Some(key.clone()), None),
            ir::EventValue::Template(template) => read_from_event(None, Some(template.clone())),
            ir::EventValue::Constant(constant) => constant.clone(),
        };
        arguments.push(Parameter {
            name: parameter.name.clone(),
            value: Some(written),
            ..Parameter::default()
        });
    }
    Ok(Trigger {
        template: TriggerTemplate {
            name: format!("submit-{}", dependency.name),
            conditions: dependency.name.clone(),
            argo_workflow: ArgoWorkflowTrigger {
                operation: "submit",
                source: ArtifactLocation {
                    resource: Workflow {
                        api_version: argo::API_VERSION,
                        kind: "Workflow",
                        metadata: ObjectMeta {
                            generate_name: Some(format!("{}-", pipeline.name)),
                            namespace: Some(pipeline.namespace.clone()),
                            ..ObjectMeta::default()
                        },
                        spec: WorkflowSpec {
                            workflow_template_ref: WorkflowTemplateRef {
                                name: pipeline.name.clone(),
                            },
                            arguments: workflows::parameters(arguments.into_iter()),
                        },
                    },
                },
                parameters,
            },
        },
        // Rides out a transient API error (a restarting API server) instead of dropping the event.
        retry_strategy: TriggerBackoff { steps: 3 },
    })
}
