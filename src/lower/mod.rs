//! Phase 4, lower: from the checked [`Model`] to the objects to emit ([`ir::Bundle`]).
//!
//! This is where the release semantics become Argo's: names are derived, promotion becomes
//! `autoPromotionEnabled`/`autoPromotionSeconds`, canary steps become `setWeight`/`pause`/`analysis`,
//! analyses become AnalysisTemplates whose conditions cannot pass on missing data (see [`analysis`]).
//! Lowering cannot fail: the model is already valid.

pub mod analysis;
pub mod ir;
pub mod pipeline;

use crate::check::k8s_names::analysis_template_name;
use crate::check::model::{self, BlueGreen, Canary, Model, Promotion, Release, Replicas, TrafficRouter};
use ir::{
    Autoscaler, BlueGreenStrategy, Bundle, CanaryStrategy, Container, DisruptionBudget, EnvironmentDeployment, Ingress,
    KubeService, Rollout, ServiceObjects, Strategy,
};

/// The Service that carries production traffic.
pub fn active_service_name(service: &str) -> String {
    format!("{service}-active")
}

/// The Service that reaches the new version before promotion.
pub fn preview_service_name(service: &str) -> String {
    format!("{service}-preview")
}

/// The Service that reaches a canary's stable version.
pub fn stable_service_name(service: &str) -> String {
    format!("{service}-stable")
}

/// The Service that reaches a canary's new version.
pub fn canary_service_name(service: &str) -> String {
    format!("{service}-canary")
}

/// Lowers every service of the model. A service whose pipeline deploys to environments gets its
/// release objects once per environment instead of once in its platform's namespace.
pub fn lower(model: &Model) -> Bundle {
    // Services lower independently of each other, so they are spread over the cores.
    let released: Vec<&model::Service> = model
        .services
        .iter()
        .filter(|service| service.environments.is_empty())
        .collect();
    let services = crate::parallel::map(&released, |service| {
        lower_service(service, &service.namespace, service.replicas)
    });
    let mut environments: Vec<EnvironmentDeployment> = model
        .services
        .iter()
        .flat_map(|service| {
            service
                .environments
                .iter()
                .map(move |environment| EnvironmentDeployment {
                    environment: environment.name.clone(),
                    objects: lower_service(
                        service,
                        &environment.namespace,
                        environment.replicas.unwrap_or(service.replicas),
                    ),
                })
        })
        .collect();
    environments.sort_by(|a, b| (&a.environment, &a.objects.name).cmp(&(&b.environment, &b.objects.name)));
    let with_pipeline: Vec<(&model::Service, &model::Pipeline)> = model
        .services
        .iter()
        .filter_map(|service| Some((service, service.pipeline.as_ref()?)))
        .collect();
    let pipelines = crate::parallel::map(&with_pipeline, |(service, pipeline)| {
        pipeline::lower_pipeline(service, pipeline)
    });
    Bundle {
        services,
        environments,
        pipelines,
    }
}

/// What a release strategy adds to the Rollout.
struct Lowered {
    strategy: Strategy,
    services: Vec<KubeService>,
    analyses: Vec<ir::AnalysisTemplate>,
    ingress: Option<Ingress>,
}

/// The release objects of `service` in `namespace`, running `replicas`: its own for a default
/// deployment, an environment's for a deployment there.
fn lower_service(service: &model::Service, namespace: &str, replicas: Replicas) -> ServiceObjects {
    let lowered = match &service.release {
        Release::BlueGreen(release) => blue_green(service, namespace, release),
        Release::Canary(release) => canary(service, namespace, release),
    };
    let (fixed_replicas, autoscaler) = match replicas {
        Replicas::Fixed(count) => (Some(count), None),
        Replicas::Autoscaled { min, max, cpu_percent } => (
            None,
            Some(Autoscaler {
                origin: service.replicas_span,
                min,
                max,
                cpu_percent,
            }),
        ),
    };
    ServiceObjects {
        name: service.name.clone(),
        namespace: namespace.to_string(),
        rollout: Rollout {
            origin: service.span,
            replicas: fixed_replicas,
            container: Container {
                image: service.image.clone(),
                port: service.port,
                env: service.env.clone(),
                resources: service.resources.clone(),
                readiness_path: service.readiness.as_ref().map(|probe| probe.path.clone()),
                liveness_path: service.liveness.as_ref().map(|probe| probe.path.clone()),
            },
            strategy: lowered.strategy,
        },
        services: lowered.services,
        analyses: lowered.analyses,
        ingress: lowered.ingress,
        disruption_budget: (replicas.minimum() >= 2).then_some(DisruptionBudget {
            origin: service.replicas_span,
        }),
        autoscaler,
    }
}

/// The production Service comes from the service declaration, the one that only the new version is
/// behind from the release block.
fn kube_services(service: &model::Service, production: String, new_version: String) -> Vec<KubeService> {
    vec![
        KubeService {
            name: production,
            origin: service.span,
        },
        KubeService {
            name: new_version,
            origin: service.release.span(),
        },
    ]
}

fn blue_green(service: &model::Service, namespace: &str, release: &BlueGreen) -> Lowered {
    let active = active_service_name(&service.name);
    let preview = preview_service_name(&service.name);
    let pre = analysis::template(
        service,
        namespace,
        &release.before_promotion,
        format!("{}-pre-promotion", service.name),
        analysis::Target::Preview,
    );
    let post = analysis::template(
        service,
        namespace,
        &release.after_promotion,
        format!("{}-post-promotion", service.name),
        analysis::Target::Active,
    );
    let (auto_promotion_enabled, auto_promotion_seconds) = match release.promotion {
        Promotion::Manual => (false, None),
        Promotion::Auto { after } => (
            true,
            after
                .and_then(|after| after.whole_seconds())
                .filter(|seconds| *seconds > 0),
        ),
    };
    let strategy = BlueGreenStrategy {
        active_service: active.clone(),
        preview_service: preview.clone(),
        auto_promotion_enabled,
        auto_promotion_seconds,
        scale_down_delay_seconds: release.scale_down_delay.and_then(|delay| delay.whole_seconds()),
        preview_replica_count: release.preview_replicas,
        pre_promotion_template: pre.as_ref().map(|t| t.usage()),
        post_promotion_template: post.as_ref().map(|t| t.usage()),
    };
    Lowered {
        strategy: Strategy::BlueGreen(strategy),
        services: kube_services(service, active, preview),
        analyses: pre.into_iter().chain(post).collect(),
        ingress: None,
    }
}

fn canary(service: &model::Service, namespace: &str, release: &Canary) -> Lowered {
    let stable = stable_service_name(&service.name);
    let canary = canary_service_name(&service.name);
    let named: Vec<ir::AnalysisTemplate> = release
        .analyses
        .iter()
        .filter_map(|named| {
            analysis::template(
                service,
                namespace,
                &named.analysis,
                analysis_template_name(&service.name, &named.name),
                analysis::Target::Canary,
            )
        })
        .collect();
    let background = analysis::template(
        service,
        namespace,
        &release.background,
        format!("{}-background", service.name),
        analysis::Target::Canary,
    );
    let steps = release
        .steps
        .iter()
        .filter_map(|step| match step {
            model::CanaryStep::Weight(weight) => Some(ir::CanaryStep::SetWeight(*weight)),
            model::CanaryStep::Pause(duration) => Some(ir::CanaryStep::Pause(duration.map(|d| d.to_go()))),
            // The checker lets a step analyze only an analysis that measures something, which has a
            // template.
            model::CanaryStep::Analyze(name) => {
                let template_name = analysis_template_name(&service.name, name);
                named
                    .iter()
                    .find(|template| template.name == template_name)
                    .map(|template| ir::CanaryStep::Analysis(template.usage()))
            }
        })
        .collect();
    let ingress = release.traffic.as_ref().map(|router| match router {
        TrafficRouter::Nginx { host, span } => Ingress {
            name: service.name.clone(),
            host: host.clone(),
            service: stable.clone(),
            origin: *span,
        },
    });
    let strategy = CanaryStrategy {
        canary_service: canary.clone(),
        stable_service: stable.clone(),
        max_surge: release.max_surge,
        max_unavailable: release.max_unavailable,
        nginx_stable_ingress: ingress.as_ref().map(|ingress| ingress.name.clone()),
        steps,
        background: background.as_ref().map(|t| t.usage()),
    };
    // Argo points the stable and canary Services at one version each. Without a router, the weights
    // are shares of pods, which only a Service selecting both versions turns into shares of requests.
    let both_versions = release.traffic.is_none().then(|| KubeService {
        name: service.name.clone(),
        origin: service.span,
    });
    Lowered {
        strategy: Strategy::Canary(strategy),
        services: both_versions
            .into_iter()
            .chain(kube_services(service, stable, canary))
            .collect(),
        analyses: named.into_iter().chain(background).collect(),
        ingress,
    }
}
