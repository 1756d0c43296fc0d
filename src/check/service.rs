//! The `service` block: image, port, replicas and autoscaling, resources, probes and environment.

use super::args::ParamSpec;
use super::model::{self, Bounds, EnvValue, EnvVar, HttpProbe, Replicas, Resources};
use super::platform::Platform;
use super::values::{FieldSet, FirstSeen, unknown_choice};
use super::{Checker, k8s_names, policy};
use crate::diagnostics::{Code, Diagnostic};
use crate::names::ServiceId;
use crate::syntax::ast::{self, Expr, ExprKind, StrLit, StrPart};

const SERVICE_FIELDS: &[&str] = &[
    "image",
    "port",
    "replicas",
    "autoscale",
    "resources",
    "readiness",
    "liveness",
    "env",
];

/// The most replicas a service may ask for; Kubernetes stores counts as 32-bit integers.
const MAX_REPLICAS: u64 = i32::MAX as u64;

impl Checker<'_> {
    /// Checks service `id`, declared as `decl`; `None` when it (or its platform) has errors.
    pub(super) fn service(&mut self, id: ServiceId, decl: &ast::Service) -> Option<model::Service> {
        let program = self.program;
        let declared = program.service(id)?;
        let platform = self.checked_platform(program.scope(declared.module).platform).cloned();
        let errors_before = self.error_count();

        let strategy = decl
            .releases
            .first()
            .map_or("", |release| release.strategy.name.as_str());
        k8s_names::check_service_name(self, &decl.name, k8s_names::service_suffixes(strategy));
        let fields = FieldSet::new(self, &decl.fields, SERVICE_FIELDS, "a service");
        let image = match fields.get("image") {
            Some(field) => self.image(&field.value, platform.as_ref()),
            None => self.missing(decl, "image", "image = \"registry.example.com/team/name:1.0.0\""),
        };
        let port = match fields.get("port") {
            Some(field) => self
                .integer(&field.value, "`port`", 1..=65535)
                .and_then(|p| u16::try_from(p).ok()),
            None => self.missing(decl, "port", "port = 8080"),
        };
        let resources = fields
            .get("resources")
            .map_or(Some(Resources::default()), |f| self.resources(&f.value));
        let replicas = self.replicas(decl, &fields, resources.as_ref());
        let readiness = fields.get("readiness").map(|f| self.probe(&f.value, "`readiness`"));
        let liveness = fields.get("liveness").map(|f| self.probe(&f.value, "`liveness`"));
        let env = fields
            .get("env")
            .map_or(Some(Vec::new()), |f| self.env(&f.value, platform.as_ref()));
        let max_replicas = match replicas {
            Some(Replicas::Autoscaled { max, .. } | Replicas::Fixed(max)) => max,
            None => u32::MAX,
        };
        let deploys = decl.pipelines.iter().flat_map(|pipeline| &pipeline.tasks);
        self.deployed_per_environment = deploys
            .into_iter()
            .any(|task| matches!(task.kind, ast::TaskKind::Deploy { .. }))
            .then_some(id);
        let release = self.release(decl, declared.module, max_replicas);
        self.deployed_per_environment = None;
        let pipeline = self.pipeline(decl, declared.module, platform.as_ref(), image.as_deref(), replicas);

        if self.error_count() > errors_before {
            return None;
        }
        let (ci, environments) = pipeline?;
        let service = model::Service {
            name: decl.name.name.clone(),
            span: decl.span,
            namespace: platform?.namespace,
            image: image?,
            port: port?,
            replicas: replicas?,
            replicas_span: fields.get("replicas").map_or(decl.name.span, |f| f.span),
            resources: resources?,
            readiness: readiness.flatten(),
            liveness: liveness.flatten(),
            env: env?,
            release: release?,
            pipeline: ci,
            environments,
        };
        policy::warn(self, decl, &fields, &service);
        Some(service)
    }

    /// Reports a required field that is not set.
    fn missing<T>(&mut self, decl: &ast::Service, field: &str, example: &str) -> Option<T> {
        self.report(
            Diagnostic::new(
                Code::E0210,
                decl.name.span,
                format!("service `{}` has no `{field}`", decl.name.name),
            )
            .label(format!("`{field}` is required"))
            .help(format!("add `{example}`")),
        );
        None
    }

    /// An image reference, which may interpolate the platform (`${platform.registry}/name:1.0`).
    pub(super) fn image(&mut self, expr: &Expr, platform: Option<&Platform>) -> Option<String> {
        let literal = self.string(expr, "`image`")?;
        let image = self.render_with_platform(literal, platform)?;
        k8s_names::check_image(self, &image, expr.span).then_some(image)
    }

    /// A string whose `${platform.<field>}` interpolations are filled in from the service's platform.
    fn render_with_platform(&mut self, literal: &StrLit, platform: Option<&Platform>) -> Option<String> {
        let mut text = String::new();
        let mut ok = true;
        for part in &literal.parts {
            match part {
                StrPart::Text(piece) => text.push_str(&piece.text),
                StrPart::Interpolation(interpolation) => {
                    let names: Vec<&str> = interpolation.path.iter().map(|i| i.name.as_str()).collect();
                    let value = match names.as_slice() {
                        ["platform", field] if Platform::FIELDS.contains(field) => match platform {
                            Some(platform) => platform.field(field).map(str::to_string).or_else(|| {
                                self.report(
                                    Diagnostic::new(
                                        Code::E0210,
                                        interpolation.span,
                                        format!("the platform sets no `{field}`"),
                                    )
                                    .label("used here")
                                    .secondary(platform.keyword, "this platform")
                                    .help(format!("add `{field} = \"...\"` to the platform")),
                                );
                                None
                            }),
                            // The missing platform is reported once, at the service.
                            None => None,
                        },
                        ["platform", field] => {
                            let span = interpolation.span;
                            self.report(unknown_choice(
                                Code::E0201,
                                span,
                                field,
                                "platform field",
                                Platform::FIELDS,
                            ));
                            None
                        }
                        _ => {
                            self.report(
                                Diagnostic::new(
                                    Code::E0201,
                                    interpolation.span,
                                    format!("`{}` cannot be interpolated here", ast::join_path(&interpolation.path)),
                                )
                                .label("unknown name")
                                .help("strings in a service can use `${platform.registry}`, `${platform.namespace}` and `${platform.prometheus}`"),
                            );
                            None
                        }
                    };
                    match value {
                        Some(value) => text.push_str(&value),
                        None => ok = false,
                    }
                }
            }
        }
        ok.then_some(text)
    }

    fn replicas(
        &mut self,
        decl: &ast::Service,
        fields: &FieldSet<'_>,
        resources: Option<&Resources>,
    ) -> Option<Replicas> {
        let autoscale = fields.get("autoscale");
        let cpu_percent = autoscale.and_then(|field| self.autoscale(&field.value));
        let Some(field) = fields.get("replicas") else {
            if let Some(autoscale) = autoscale {
                self.report(
                    Diagnostic::new(
                        Code::E0307,
                        autoscale.name.span,
                        "`autoscale` needs a range of replicas",
                    )
                    .label("autoscaling without `replicas = min..max`")
                    .help("add e.g. `replicas = 2..10`"),
                );
                return None;
            }
            return Some(Replicas::Fixed(1));
        };
        match &field.value.kind {
            ExprKind::Range(low, high) => {
                let min = self.integer(low, "the least number of replicas", 1..=MAX_REPLICAS);
                let max = self.integer(high, "the most replicas", 1..=MAX_REPLICAS);
                let (min, max) = (min?, max?);
                if min > max {
                    self.report(
                        Diagnostic::new(
                            Code::E0303,
                            field.value.span,
                            format!("the replica range `{min}..{max}` is inverted"),
                        )
                        .label("the lower bound is greater than the upper bound")
                        .help(format!("write `{max}..{min}`")),
                    );
                    return None;
                }
                let Some(autoscale_field) = autoscale else {
                    self.report(
                        Diagnostic::new(
                            Code::E0308,
                            field.value.span,
                            "a range of replicas needs an `autoscale` target",
                        )
                        .label("nothing says when to scale between these bounds")
                        .help(format!(
                            "add `autoscale = cpu(70%)`, or fix the count with `replicas = {min}`"
                        )),
                    );
                    return None;
                };
                let cpu_percent = cpu_percent?;
                if resources.is_some_and(|r| r.cpu.is_none()) {
                    self.report(
                        Diagnostic::new(
                            Code::E0309,
                            autoscale_field.value.span,
                            "CPU autoscaling needs a CPU request",
                        )
                        .label("utilization is measured against the CPU request")
                        .help("add `resources = { cpu: 250m..1 }` (request..limit)")
                        .note(format!(
                            "without a request the autoscaler cannot compute utilization for `{}`",
                            decl.name.name
                        )),
                    );
                    return None;
                }
                Some(Replicas::Autoscaled {
                    min: u32::try_from(min).ok()?,
                    max: u32::try_from(max).ok()?,
                    cpu_percent,
                })
            }
            _ => {
                let count = self.integer(&field.value, "`replicas`", 1..=MAX_REPLICAS)?;
                if let Some(autoscale) = autoscale {
                    self.report(
                        Diagnostic::new(
                            Code::E0307,
                            autoscale.name.span,
                            "`autoscale` needs a range of replicas",
                        )
                        .label("autoscaling a fixed number of replicas")
                        .secondary(field.value.span, "a single number fixes the count")
                        .help(format!(
                            "write `replicas = {count}..{}`",
                            count.saturating_mul(2).max(count + 1)
                        )),
                    );
                    return None;
                }
                u32::try_from(count).ok().map(Replicas::Fixed)
            }
        }
    }

    /// `cpu(70%)` into the target utilization percentage.
    fn autoscale(&mut self, expr: &Expr) -> Option<u32> {
        let ExprKind::Call(call) = &expr.kind else {
            self.mismatch(expr, "`autoscale`", "a target such as `cpu(70%)`");
            return None;
        };
        let args = self.builtin_args(call, "cpu", "autoscaling target", &[ParamSpec::required("utilization")])?;
        let value = args.first().copied().flatten()?;
        let percent = self.percent(value, "`cpu`")?;
        match percent.to_u32().filter(|p| (1..=1000).contains(p)) {
            Some(percent) => Some(percent),
            None => {
                self.report(
                    Diagnostic::new(Code::E0305, value.span, "the CPU target is out of range")
                        .label("expected a whole percentage from 1% to 1000% of the request"),
                );
                None
            }
        }
    }

    pub(super) fn resources(&mut self, expr: &Expr) -> Option<Resources> {
        let ExprKind::Object(entries) = &expr.kind else {
            self.mismatch(
                expr,
                "`resources`",
                "an object such as `{ cpu: 250m..1, memory: 256Mi..512Mi }`",
            );
            return None;
        };
        let mut resources = Resources::default();
        let mut ok = true;
        let mut seen = FirstSeen::default();
        for entry in entries {
            if self.is_repeat(&mut seen, &entry.key) {
                ok = false;
                continue;
            }
            match entry.key.name.as_str() {
                "cpu" => match self.bounds(&entry.value, "`cpu`", Checker::cpu, |c| c.to_quantity()) {
                    Some(bounds) => resources.cpu = Some(bounds),
                    None => ok = false,
                },
                "memory" => match self.bounds(&entry.value, "`memory`", Checker::memory, |m| {
                    m.to_quantity().to_string()
                }) {
                    Some(bounds) => resources.memory = Some(bounds),
                    None => ok = false,
                },
                other => {
                    self.report(unknown_choice(
                        Code::E0208,
                        entry.key.span,
                        other,
                        "resource",
                        &["cpu", "memory"],
                    ));
                    ok = false;
                }
            }
        }
        ok.then_some(resources)
    }

    /// `request..limit`, or one value for both.
    fn bounds<T: Clone + PartialOrd>(
        &mut self,
        expr: &Expr,
        what: &str,
        read: fn(&mut Self, &Expr, &str) -> Option<T>,
        show: fn(&T) -> String,
    ) -> Option<Bounds<T>> {
        let ExprKind::Range(low, high) = &expr.kind else {
            let value = read(self, expr, what)?;
            return Some(Bounds {
                request: value.clone(),
                limit: value,
            });
        };
        let request = read(self, low, what);
        let limit = read(self, high, what);
        let (request, limit) = (request?, limit?);
        if request > limit {
            self.report(
                Diagnostic::new(
                    Code::E0304,
                    expr.span,
                    format!(
                        "the {} request `{}` is above its limit `{}`",
                        what.trim_matches('`'),
                        show(&request),
                        show(&limit)
                    ),
                )
                .label("written as request..limit")
                .help(format!("write `{}..{}`", show(&limit), show(&request)))
                .note("a container can never get more than its limit, so the scheduler could not honour this request"),
            );
            return None;
        }
        Some(Bounds { request, limit })
    }

    fn probe(&mut self, expr: &Expr, what: &str) -> Option<HttpProbe> {
        let ExprKind::Call(call) = &expr.kind else {
            self.mismatch(expr, what, "a probe such as `http_get(\"/healthz\")`");
            return None;
        };
        let args = self.builtin_args(call, "http_get", "probe", &[ParamSpec::required("path")])?;
        let path = self.http_path(args.first().copied().flatten()?)?;
        Some(HttpProbe { path })
    }

    /// An HTTP path: a plain string starting with `/`.
    pub(super) fn http_path(&mut self, expr: &Expr) -> Option<String> {
        let path = self.plain_string(expr, "a path")?;
        if !path.starts_with('/') || path.contains(char::is_whitespace) {
            self.report(
                Diagnostic::new(Code::E0305, expr.span, format!("`{path}` is not an HTTP path"))
                    .label("a path starts with `/` and has no spaces")
                    .help(format!("write `\"/{}\"`", path.trim_start_matches('/').trim())),
            );
            return None;
        }
        Some(path)
    }

    fn env(&mut self, expr: &Expr, platform: Option<&Platform>) -> Option<Vec<EnvVar>> {
        let ExprKind::Object(entries) = &expr.kind else {
            self.mismatch(expr, "`env`", "an object such as `{ LOG_LEVEL: \"info\" }`");
            return None;
        };
        let mut vars = Vec::new();
        let mut ok = true;
        let mut seen = FirstSeen::default();
        for entry in entries {
            let name = entry.key.name.as_str();
            if self.is_repeat(&mut seen, &entry.key) {
                ok = false;
                continue;
            }
            let value = match &entry.value.kind {
                ExprKind::Str(literal) if literal.malformed => None,
                ExprKind::Str(literal) => self.render_with_platform(literal, platform).map(EnvValue::Literal),
                ExprKind::Number(number) => Some(EnvValue::Literal(number.to_string())),
                ExprKind::Bool(flag) => Some(EnvValue::Literal(flag.to_string())),
                ExprKind::Call(call) if call.callee_name() == "secret" => self.secret(call),
                _ => {
                    self.mismatch(
                        &entry.value,
                        &format!("`{name}`"),
                        "a string or `secret(name, key: ...)`",
                    );
                    None
                }
            };
            match value {
                Some(value) => vars.push(EnvVar {
                    name: name.to_string(),
                    value,
                }),
                None => ok = false,
            }
        }
        ok.then_some(vars)
    }

    /// `secret("name", key: "key")`.
    pub(super) fn secret(&mut self, call: &ast::Call) -> Option<EnvValue> {
        let params = [ParamSpec::required("name"), ParamSpec::required("key")];
        let args = self.bind_args(call, &params, "secret")?;
        let (Some(name_expr), Some(key_expr)) = (args.first().copied().flatten(), args.get(1).copied().flatten())
        else {
            return None;
        };
        let name = self.plain_string(name_expr, "the secret name");
        let key = self.plain_string(key_expr, "the secret key");
        let name = name.filter(|name| k8s_names::check_secret_name(self, name, name_expr.span));
        let key = key.filter(|key| k8s_names::check_secret_key(self, key, key_expr.span));
        Some(EnvValue::Secret { name: name?, key: key? })
    }
}
