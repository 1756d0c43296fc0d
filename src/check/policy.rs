//! Policy warnings: choices that compile but that a team usually regrets. They never stop a build.

use super::Checker;
use super::model::{EnvValue, Release, Replicas, Service};
use super::values::FieldSet;
use crate::diagnostics::{Code, Diagnostic};
use crate::syntax::ast::{self, ExprKind};

/// Words in an environment variable name that say its value is a credential.
const CREDENTIAL_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
];

/// Warns about a service that checked clean.
pub fn warn(checker: &mut Checker<'_>, decl: &ast::Service, fields: &FieldSet<'_>, service: &Service) {
    warn_credential_literals(checker, fields, service);
    if service.readiness.is_none() {
        let note = match service.release {
            Release::BlueGreen(_) => {
                "the preview counts as ready as soon as its containers start, so checks and promotion may reach a version that cannot serve yet"
            }
            Release::Canary(_) => {
                "canary pods count as ready as soon as their containers start, so they get their share of real traffic before they can serve it"
            }
        };
        checker.report(
            Diagnostic::new(
                Code::W0702,
                decl.name.span,
                format!("service `{}` has no readiness probe", service.name),
            )
            .label("no `readiness`")
            .help("add `readiness = http_get(\"/healthz\")`")
            .note(note),
        );
    }
    if service.replicas.minimum() < 2 {
        let span = fields.get("replicas").map_or(decl.name.span, |field| field.value.span);
        checker.report(
            Diagnostic::new(
                Code::W0703,
                span,
                format!("service `{}` can run with a single replica", service.name),
            )
            .label("fewer than 2 replicas")
            .help(match service.replicas {
                Replicas::Fixed(_) => "write `replicas = 2` or more".to_string(),
                Replicas::Autoscaled { max, .. } => format!("write `replicas = 2..{}`", max.max(2)),
            })
            .note("one pod means downtime on every node drain, and no PodDisruptionBudget can be emitted"),
        );
    }
    if fields.get("resources").is_none() {
        checker.report(
            Diagnostic::new(Code::W0704, decl.name.span, format!("service `{}` sets no resources", service.name))
                .label("no CPU or memory request or limit")
                .help("add `resources = { cpu: 250m..1, memory: 256Mi..512Mi }` (request..limit)")
                .note("without requests the scheduler may overcommit the node, and without limits one pod can starve the others"),
        );
    }
    if let Some(field) = fields.get("image")
        && service
            .image
            .rsplit('/')
            .next()
            .is_some_and(|last| last.ends_with(":latest"))
    {
        checker.report(
            Diagnostic::new(Code::W0705, field.value.span, "the image uses the `latest` tag")
                .label("`latest` moves without the Rollout changing")
                .help("pin a version tag, or leave the tag out and let CI set the digest in `kustomization.yaml`")
                .note("a release only starts when the pod template changes, so a new `latest` is never released"),
        );
    }
}

fn warn_credential_literals(checker: &mut Checker<'_>, fields: &FieldSet<'_>, service: &Service) {
    let Some(ExprKind::Object(entries)) = fields.get("env").map(|field| &field.value.kind) else {
        return;
    };
    for var in &service.env {
        let EnvValue::Literal(value) = &var.value else { continue };
        let upper = var.name.to_ascii_uppercase();
        if value.is_empty() || !CREDENTIAL_WORDS.iter().any(|word| upper.contains(word)) {
            continue;
        }
        let Some(entry) = entries.iter().find(|entry| entry.key.name == var.name) else {
            continue;
        };
        checker.report(
            Diagnostic::new(Code::W0701, entry.value.span, format!("`{}` looks like a credential written in the source", var.name))
                .label("a literal value")
                .help(format!("read it from a Secret: `{}: secret(\"{}-credentials\", key: \"{}\")`", var.name, service.name, var.name.to_ascii_lowercase().replace('_', "-")))
                .note("literal values end up in the Rollout, readable by anyone who can read the manifests or the git history"),
        );
    }
}
