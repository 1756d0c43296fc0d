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
use crate::check::model::{
    self, BlueGreen, Canary, EnvironmentTarget, Model, Promotion, Release, Replicas, TrafficRouter,
};
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

/// One release to lower: a service in its platform's namespace, or in an environment its pipeline
/// deploys to.
#[derive(Clone, Copy, Debug)]
pub struct PlannedRelease<'m> {
    service: &'m model::Service,
    environment: Option<&'m EnvironmentTarget>,
}

impl<'m> PlannedRelease<'m> {
    /// The service's name, which is also its output directory.
    pub fn service(&self) -> &'m str {
        &self.service.name
    }

    /// The environment, for a release into one.
    pub fn environment(&self) -> Option<&'m str> {
        self.environment.map(|environment| environment.name.as_str())
    }

    /// The namespace its objects go to.
    pub fn namespace(&self) -> &'m str {
        self.environment
            .map_or(&self.service.namespace, |environment| &environment.namespace)
    }

    /// Its objects.
    pub fn lower(&self) -> ServiceObjects {
        let replicas = self
            .environment
            .and_then(|environment| environment.replicas)
            .unwrap_or(self.service.replicas);
        lower_service(self.service, self.namespace(), replicas)
    }
}

/// One service's CI to lower.
#[derive(Clone, Copy, Debug)]
pub struct PlannedPipeline<'m> {
    service: &'m model::Service,
    pipeline: &'m model::Pipeline,
}

impl<'m> PlannedPipeline<'m> {
    /// The service's name, which is also its output directory.
    pub fn service(&self) -> &'m str {
        &self.service.name
    }

    /// The namespace its objects go to.
    pub fn namespace(&self) -> &'m str {
        &self.service.namespace
    }

    /// Its objects.
    pub fn lower(&self) -> ir::Pipeline {
        pipeline::lower_pipeline(self.service, self.pipeline)
    }
}

/// What lowering the model will produce, one unit at a time: emit lowers each output directory just
/// before rendering it, so that a large project's objects are never all in memory at once.
#[derive(Debug)]
pub struct Plan<'m> {
    /// Releases into their platform's namespace, in the model's order. A service whose pipeline
    /// deploys to environments has none.
    pub releases: Vec<PlannedRelease<'m>>,
    /// Releases into environments, sorted by environment then service.
    pub deployments: Vec<PlannedRelease<'m>>,
    /// The CI of each service with a pipeline, in the model's order.
    pub pipelines: Vec<PlannedPipeline<'m>>,
}

/// Plans the lowering of every service of the model. A service whose pipeline deploys to environments
/// gets its release objects once per environment instead of once in its platform's namespace.
pub fn plan(model: &Model) -> Plan<'_> {
    let releases = model
        .services
        .iter()
        .filter(|service| service.environments.is_empty())
        .map(|service| PlannedRelease {
            service,
            environment: None,
        })
        .collect();
    let mut deployments: Vec<PlannedRelease<'_>> = model
        .services
        .iter()
        .flat_map(|service| {
            service.environments.iter().map(move |environment| PlannedRelease {
                service,
                environment: Some(environment),
            })
        })
        .collect();
    deployments.sort_by(|a, b| (a.environment(), a.service()).cmp(&(b.environment(), b.service())));
    let pipelines = model
        .services
        .iter()
        .filter_map(|service| {
            Some(PlannedPipeline {
                service,
                pipeline: service.pipeline.as_ref()?,
            })
        })
        .collect();
    Plan {
        releases,
        deployments,
        pipelines,
    }
}

/// Lowers every service of the model at once.
pub fn lower(model: &Model) -> Bundle {
    let plan = plan(model);
    // Services lower independently of each other, so they are spread over the cores.
    Bundle {
        services: crate::parallel::map(&plan.releases, PlannedRelease::lower),
        environments: crate::parallel::map(&plan.deployments, |deployment| EnvironmentDeployment {
            environment: deployment.environment().unwrap_or_default().to_string(),
            objects: deployment.lower(),
        }),
        pipelines: crate::parallel::map(&plan.pipelines, PlannedPipeline::lower),
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
