//! Core Kubernetes objects, built with k8s-openapi's types: Services, the pod template, the
//! HorizontalPodAutoscaler, the PodDisruptionBudget, the Job of a job check, a canary's Ingress, and
//! the ServiceAccounts and RBAC that CI workflows and their Sensors run with.

use std::collections::BTreeMap;

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::api::batch::v1::JobSpec;
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, EnvVarSource, HTTPGetAction, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SecretKeySelector, SecurityContext, Service, ServiceAccount, ServicePort, ServiceSpec,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::argo;
use crate::check::model::{EnvValue, Resources};
use crate::lower::ir::{self, PORT_NAME, SERVICE_PORT};

/// A Service on port 80 forwarding to the pods' named `http` port. Its selector has only the stable
/// app label: the Rollouts controller adds `rollouts-pod-template-hash` when it switches versions.
pub fn service(metadata: ObjectMeta, selector: &BTreeMap<String, String>) -> Service {
    Service {
        metadata,
        spec: Some(ServiceSpec {
            selector: Some(selector.clone()),
            ports: Some(vec![ServicePort {
                name: Some(PORT_NAME.to_string()),
                port: i32::from(SERVICE_PORT),
                target_port: Some(IntOrString::String(PORT_NAME.to_string())),
                protocol: Some("TCP".to_string()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// The pod template of the Rollout: one container named after the service.
pub fn pod_template(name: &str, labels: &BTreeMap<String, String>, container: &ir::Container) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: name.to_string(),
                image: Some(container.image.clone()),
                ports: Some(vec![ContainerPort {
                    name: Some(PORT_NAME.to_string()),
                    container_port: i32::from(container.port),
                    protocol: Some("TCP".to_string()),
                    ..ContainerPort::default()
                }]),
                env: (!container.env.is_empty()).then(|| container.env.iter().map(env_var).collect()),
                resources: resources(&container.resources),
                readiness_probe: container.readiness_path.as_deref().map(http_probe),
                liveness_probe: container.liveness_path.as_deref().map(http_probe),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
    }
}

/// The Job of a job check: one container named `check` that runs once. Its pod carries none of the
/// service's labels, so the Services and the PodDisruptionBudget never select it.
pub fn check_job(
    image: &str,
    command: &[String],
    env: &[crate::check::model::EnvVar],
    active_deadline_seconds: Option<u64>,
) -> JobSpec {
    JobSpec {
        // The check must pass on its first run: with retries, a flaky failure would pass on a later one.
        backoff_limit: Some(0),
        active_deadline_seconds: active_deadline_seconds.and_then(|seconds| i64::try_from(seconds).ok()),
        template: PodTemplateSpec {
            metadata: None,
            spec: Some(PodSpec {
                restart_policy: Some("Never".to_string()),
                containers: vec![Container {
                    name: "check".to_string(),
                    image: Some(image.to_string()),
                    command: Some(command.to_vec()),
                    env: (!env.is_empty()).then(|| env.iter().map(env_var).collect()),
                    security_context: Some(SecurityContext {
                        allow_privilege_escalation: Some(false),
                        run_as_non_root: Some(true),
                        ..SecurityContext::default()
                    }),
                    ..Container::default()
                }],
                ..PodSpec::default()
            }),
        },
        ..JobSpec::default()
    }
}

fn env_var(var: &crate::check::model::EnvVar) -> EnvVar {
    match &var.value {
        EnvValue::Literal(value) => literal_env_var(&var.name, value),
        EnvValue::Secret { name, key } => secret_env_var(&var.name, name, key),
    }
}

/// An environment variable with its value written out.
pub fn literal_env_var(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: Some(value.to_string()),
        value_from: None,
    }
}

/// An environment variable read from a key of a Secret, so the value never appears in a manifest.
pub fn secret_env_var(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.to_string(),
                key: key.to_string(),
                optional: None,
            }),
            ..EnvVarSource::default()
        }),
    }
}

/// Requests and limits for the CPU and memory that are set; `None` when neither is.
pub fn resources(resources: &Resources) -> Option<ResourceRequirements> {
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    if let Some(cpu) = &resources.cpu {
        requests.insert("cpu".to_string(), Quantity(cpu.request.to_quantity()));
        limits.insert("cpu".to_string(), Quantity(cpu.limit.to_quantity()));
    }
    if let Some(memory) = &resources.memory {
        requests.insert("memory".to_string(), Quantity(memory.request.to_quantity().to_string()));
        limits.insert("memory".to_string(), Quantity(memory.limit.to_quantity().to_string()));
    }
    (!requests.is_empty()).then(|| ResourceRequirements {
        requests: Some(requests),
        limits: Some(limits),
        ..ResourceRequirements::default()
    })
}

fn http_probe(path: &str) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_string()),
            port: IntOrString::String(PORT_NAME.to_string()),
            ..HTTPGetAction::default()
        }),
        ..Probe::default()
    }
}

/// An `autoscaling/v2` HPA on CPU utilization whose target is the Rollout (through its scale
/// subresource).
pub fn autoscaler(metadata: ObjectMeta, rollout: &str, autoscaler: &ir::Autoscaler) -> HorizontalPodAutoscaler {
    HorizontalPodAutoscaler {
        metadata,
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some(argo::API_VERSION.to_string()),
                kind: "Rollout".to_string(),
                name: rollout.to_string(),
            },
            min_replicas: i32::try_from(autoscaler.min).ok(),
            max_replicas: i32::try_from(autoscaler.max).unwrap_or(i32::MAX),
            metrics: Some(vec![MetricSpec {
                type_: "Resource".to_string(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".to_string(),
                    target: MetricTarget {
                        type_: "Utilization".to_string(),
                        average_utilization: i32::try_from(autoscaler.cpu_percent).ok(),
                        ..MetricTarget::default()
                    },
                }),
                ..MetricSpec::default()
            }]),
            ..HorizontalPodAutoscalerSpec::default()
        }),
        ..HorizontalPodAutoscaler::default()
    }
}

/// A `policy/v1` PDB that lets one pod go at a time. It selects by the stable app label, so it covers
/// the pods of both versions alike (active and preview, or stable and canary).
pub fn disruption_budget(metadata: ObjectMeta, selector: &BTreeMap<String, String>) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata,
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(label_selector(selector)),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    }
}

/// The IngressClass of the NGINX Ingress controller's default installation.
const NGINX_INGRESS_CLASS: &str = "nginx";

/// An Ingress of the NGINX class sending every path of the host to the stable Service. Argo Rollouts
/// reads it and creates a copy for the canary Service, weighted with NGINX's canary annotations.
pub fn nginx_ingress(metadata: ObjectMeta, ingress: &ir::Ingress) -> Ingress {
    Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: Some(NGINX_INGRESS_CLASS.to_string()),
            rules: Some(vec![IngressRule {
                host: Some(ingress.host.clone()),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some("/".to_string()),
                        path_type: "Prefix".to_string(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: ingress.service.clone(),
                                port: Some(ServiceBackendPort {
                                    number: Some(i32::from(SERVICE_PORT)),
                                    ..ServiceBackendPort::default()
                                }),
                            }),
                            ..IngressBackend::default()
                        },
                    }],
                }),
            }]),
            ..IngressSpec::default()
        }),
        ..Ingress::default()
    }
}

/// A ServiceAccount; the pods that run as it get their permissions from a [`role_binding`].
pub fn service_account(metadata: ObjectMeta) -> ServiceAccount {
    ServiceAccount {
        metadata,
        ..ServiceAccount::default()
    }
}

/// A Role granting `verbs` on one kind of resource of an API group, and nothing else.
pub fn role(metadata: ObjectMeta, api_group: &str, resource: &str, verbs: &[&str]) -> Role {
    Role {
        metadata,
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![api_group.to_string()]),
            resources: Some(vec![resource.to_string()]),
            verbs: verbs.iter().map(|verb| verb.to_string()).collect(),
            ..PolicyRule::default()
        }]),
    }
}

/// A RoleBinding giving the Role `role` to the ServiceAccount `service_account` of the binding's own
/// namespace.
pub fn role_binding(metadata: ObjectMeta, role: &str, service_account: &str) -> RoleBinding {
    let namespace = metadata.namespace.clone();
    RoleBinding {
        metadata,
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_string(),
            kind: "Role".to_string(),
            name: role.to_string(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".to_string(),
            name: service_account.to_string(),
            namespace,
            ..Subject::default()
        }]),
    }
}

/// A selector matching exactly these labels.
pub fn label_selector(labels: &BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels.clone()),
        ..LabelSelector::default()
    }
}
