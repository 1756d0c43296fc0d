//! The `platform` block: registry, namespace and Prometheus address shared by services.

use super::values::FieldSet;
use super::{Checker, k8s_names};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast;

const PLATFORM_FIELDS: &[&str] = &["registry", "namespace", "prometheus", "gitops", "webhook_url"];

/// A checked platform.
#[derive(Clone, Debug)]
pub struct Platform {
    /// Where services are deployed.
    pub namespace: String,
    /// Image registry prefix, for `${platform.registry}`.
    pub registry: Option<String>,
    /// Prometheus base URL for analysis queries.
    pub prometheus: Option<String>,
    /// The GitOps repository pipelines deploy to, an HTTPS clone URL.
    pub gitops: Option<String>,
    /// The public base URL git hosts send webhooks to.
    pub webhook_url: Option<String>,
    /// The `platform` keyword, to point at.
    pub keyword: Span,
}

impl Platform {
    /// The value of `platform.<field>` for interpolation.
    pub fn field(&self, field: &str) -> Option<&str> {
        match field {
            "registry" => self.registry.as_deref(),
            "namespace" => Some(&self.namespace),
            "prometheus" => self.prometheus.as_deref(),
            _ => None,
        }
    }

    /// The names `${platform.<field>}` may use.
    pub const FIELDS: &'static [&'static str] = PLATFORM_FIELDS;
}

impl Checker<'_> {
    /// Checks a platform declaration; `None` if it has errors.
    pub(super) fn platform(&mut self, decl: &ast::Platform) -> Option<Platform> {
        let errors_before = self.error_count();
        let fields = FieldSet::new(self, &decl.fields, PLATFORM_FIELDS, "a platform");
        let registry = fields
            .get("registry")
            .and_then(|field| self.plain_string(&field.value, "`registry`"))
            .map(|registry| registry.trim_end_matches('/').to_string());
        let namespace = match fields.get("namespace") {
            Some(field) => self
                .plain_string(&field.value, "`namespace`")
                .filter(|namespace| k8s_names::check_namespace(self, namespace, field.value.span)),
            None => {
                self.report(
                    Diagnostic::new(Code::E0210, decl.keyword, "the platform has no `namespace`")
                        .label("every service of this platform needs a namespace")
                        .help("add `namespace = \"shop\"`"),
                );
                None
            }
        };
        let prometheus = fields.get("prometheus").and_then(|field| {
            self.address(
                &field.value,
                "`prometheus`",
                "http://prometheus.monitoring.svc.cluster.local:9090",
            )
        });
        let gitops = fields
            .get("gitops")
            .and_then(|field| self.address(&field.value, "`gitops`", "https://git.example.com/shop/deploy.git"));
        let webhook_url = fields
            .get("webhook_url")
            .and_then(|field| self.address(&field.value, "`webhook_url`", "https://hooks.example.com"));
        if self.error_count() > errors_before {
            return None;
        }
        Some(Platform {
            namespace: namespace?,
            registry,
            prometheus,
            gitops,
            webhook_url,
            keyword: decl.keyword,
        })
    }

    /// An absolute `http` or `https` URL, without a trailing slash.
    fn address(&mut self, expr: &ast::Expr, what: &str, example: &str) -> Option<String> {
        let url = self.plain_string(expr, what)?;
        if let ast::ExprKind::Str(literal) = &expr.kind
            && !self.reject_argo_templates(literal, what)
        {
            return None;
        }
        let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
        let host_ok = rest.is_some_and(|rest| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !host.contains(char::is_whitespace)
        });
        if !host_ok || url.contains(char::is_whitespace) {
            let mut diagnostic = Diagnostic::new(Code::E0509, expr.span, format!("{what} is not an absolute URL"))
                .label("expected `http://host:port` or `https://host`")
                .help(format!("write e.g. `\"{example}\"`"));
            if what == "`prometheus`" {
                diagnostic = diagnostic
                    .note("without an absolute address Argo falls back to its controller's default Prometheus");
            }
            self.report(diagnostic);
            return None;
        }
        Some(url.trim_end_matches('/').to_string())
    }
}
