//! Phase 4, lower: from the checked [`Model`] to the objects to emit ([`ir::Bundle`]).
//!
//! This is where the release semantics become Argo's: names are derived, promotion becomes
//! `autoPromotionEnabled`/`autoPromotionSeconds`, analyses become AnalysisTemplates whose conditions
//! cannot pass on missing data (see [`analysis`]). Lowering cannot fail: the model is already valid.

pub mod analysis;
pub mod ir;

use crate::check::model::{self, Model, Promotion, Replicas};
use ir::{Autoscaler, BlueGreenStrategy, Bundle, Container, DisruptionBudget, KubeService, Rollout, ServiceObjects};

/// The Service that carries production traffic.
pub fn active_service_name(service: &str) -> String {
    format!("{service}-active")
}

/// The Service that reaches the new version before promotion.
pub fn preview_service_name(service: &str) -> String {
    format!("{service}-preview")
}

/// Lowers every service of the model.
pub fn lower(model: &Model) -> Bundle {
    Bundle {
        services: model.services.iter().map(lower_service).collect(),
    }
}

fn lower_service(service: &model::Service) -> ServiceObjects {
    let release = &service.release;
    let active = active_service_name(&service.name);
    let preview = preview_service_name(&service.name);
    let pre = analysis::template(service, &release.before_promotion, analysis::Target::Preview);
    let post = analysis::template(service, &release.after_promotion, analysis::Target::Active);
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
    let (replicas, autoscaler) = match service.replicas {
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
        namespace: service.namespace.clone(),
        rollout: Rollout {
            origin: service.span,
            replicas,
            container: Container {
                image: service.image.clone(),
                port: service.port,
                env: service.env.clone(),
                resources: service.resources.clone(),
                readiness_path: service.readiness.as_ref().map(|probe| probe.path.clone()),
                liveness_path: service.liveness.as_ref().map(|probe| probe.path.clone()),
            },
            strategy,
        },
        services: vec![
            KubeService {
                name: active,
                origin: service.span,
            },
            KubeService {
                name: preview,
                origin: release.span,
            },
        ],
        analyses: pre.into_iter().chain(post).collect(),
        disruption_budget: (service.replicas.minimum() >= 2).then_some(DisruptionBudget {
            origin: service.replicas_span,
        }),
        autoscaler,
    }
}
