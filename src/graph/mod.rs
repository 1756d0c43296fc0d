//! `shipc graph`: each service's release flow as a diagram a reviewer can read instead of YAML, in
//! Mermaid (GitHub renders it in Markdown) or Graphviz DOT.
//!
//! The flow is Argo Rollouts' blue/green sequence as shipc compiles it: the new version comes up
//! behind the preview Service, the pre-promotion analysis judges it, promotion (by hand or
//! automatic) switches the active Service, the post-promotion analysis watches it, and the old
//! version is scaled down. A failed analysis aborts: the active Service stays on, or goes back to,
//! the stable version.

use crate::check::model::{Analysis, BlueGreen, CheckKind, Model, Promotion, Service};
use crate::lower::analysis::{condition_text, expr_literal};
use crate::lower::{active_service_name, preview_service_name};

/// The diagram language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// A Mermaid `flowchart`.
    Mermaid,
    /// A Graphviz `digraph`.
    Dot,
}

/// A step of the flow.
struct Node {
    id: String,
    label: Vec<String>,
    /// Decisions (analyses) are drawn as diamonds in Mermaid and DOT alike.
    decision: bool,
}

struct Edge {
    from: String,
    to: String,
    label: &'static str,
}

/// Every service's flow, in name order, as one diagram.
pub fn render(model: &Model, style: Style) -> String {
    let mut flows = Vec::new();
    let mut edges = Vec::new();
    for (index, service) in model.services.iter().enumerate() {
        let mut nodes = Vec::new();
        flow(index, service, &mut nodes, &mut edges);
        flows.push((service.name.as_str(), nodes));
    }
    match style {
        Style::Mermaid => mermaid(&flows, &edges),
        Style::Dot => dot(&flows, &edges),
    }
}

fn flow(index: usize, service: &Service, nodes: &mut Vec<Node>, edges: &mut Vec<Edge>) {
    let release: &BlueGreen = &service.release;
    // Ids come from the service's position, not its name: names may contain `-`, which neither
    // language allows in a bare id, and a prefix keeps ids clear of keywords (`end`, `graph`, `node`).
    let id = |step: &str| format!("s{index}_{step}");
    let mut push = |step: &str, label: Vec<String>, decision: bool| {
        nodes.push(Node {
            id: id(step),
            label,
            decision,
        });
        id(step)
    };
    let preview = push(
        "preview",
        vec![
            format!("{}: new version", service.name),
            format!("behind {}", preview_service_name(&service.name)),
        ],
        false,
    );
    let abort = push(
        "abort",
        vec![
            "abort".to_string(),
            format!("{} stays on the stable version", active_service_name(&service.name)),
        ],
        false,
    );
    let mut last = preview;
    if !release.before_promotion.is_empty() {
        let before = push(
            "before",
            analysis_label("before promotion", &release.before_promotion),
            true,
        );
        edges.push(Edge {
            from: last,
            to: before.clone(),
            label: "",
        });
        edges.push(Edge {
            from: before.clone(),
            to: abort.clone(),
            label: "fails",
        });
        last = before;
    }
    let promotion = match release.promotion {
        Promotion::Manual => vec![
            "promote by hand".to_string(),
            "kubectl argo rollouts promote".to_string(),
        ],
        Promotion::Auto { after: None } => vec!["promote automatically".to_string()],
        Promotion::Auto { after: Some(after) } => {
            vec![format!(
                "promote automatically {} after the preview is ready",
                after.to_go()
            )]
        }
    };
    let promote = push("promote", promotion, false);
    edges.push(Edge {
        from: last,
        to: promote.clone(),
        label: if release.before_promotion.is_empty() {
            ""
        } else {
            "passes"
        },
    });
    let active = push(
        "active",
        vec![format!(
            "{} switched to the new version",
            active_service_name(&service.name)
        )],
        false,
    );
    edges.push(Edge {
        from: promote,
        to: active.clone(),
        label: "",
    });
    last = active;
    if !release.after_promotion.is_empty() {
        let after = push(
            "after",
            analysis_label("after promotion", &release.after_promotion),
            true,
        );
        let rollback = push(
            "rollback",
            vec![
                "roll back".to_string(),
                format!("{} back on the stable version", active_service_name(&service.name)),
            ],
            false,
        );
        edges.push(Edge {
            from: last,
            to: after.clone(),
            label: "",
        });
        edges.push(Edge {
            from: after.clone(),
            to: rollback,
            label: "fails",
        });
        last = after;
    }
    let scale_down = match release.scale_down_delay {
        Some(delay) => format!("old version scaled down after {}", delay.to_go()),
        None if release.after_promotion.is_empty() => "old version scaled down after 30s".to_string(),
        None => "old version scaled down".to_string(),
    };
    let done = push("stable", vec!["new version is stable".to_string(), scale_down], false);
    edges.push(Edge {
        from: last,
        to: done,
        label: if release.after_promotion.is_empty() {
            ""
        } else {
            "passes"
        },
    });
}

fn analysis_label(phase: &str, analysis: &Analysis) -> Vec<String> {
    let mut label = vec![phase.to_string()];
    for check in &analysis.checks {
        label.push(format!("check {}: {}", check.name, check_label(&check.kind)));
    }
    for rule in &analysis.rules {
        let tolerate = match rule.tolerate {
            0 => String::new(),
            n => format!(", tolerate {n}"),
        };
        // Observed rules are drawn too, marked, because they are part of what the release records.
        let observed = if rule.observe { "observe: " } else { "" };
        label.push(format!(
            "{observed}{} ({} samples every {}{tolerate})",
            condition_text(&rule.failure, &rule.metric),
            rule.samples,
            rule.every.to_go()
        ));
    }
    label
}

/// What a check does, in a few words.
fn check_label(kind: &CheckKind) -> String {
    match kind {
        CheckKind::Http { path, json: None } => format!("GET {path}"),
        CheckKind::Http { path, json: Some(json) } => {
            format!("GET {path}, {} == {}", json.path, expr_literal(&json.value))
        }
        CheckKind::Job { image, timeout, .. } => match timeout {
            Some(timeout) => format!("job {image}, timeout {}", timeout.to_go()),
            None => format!("job {image}"),
        },
    }
}

/// Each service's name with the steps of its flow.
type Flows<'a> = [(&'a str, Vec<Node>)];

fn mermaid(flows: &Flows<'_>, edges: &[Edge]) -> String {
    let mut text = String::from("flowchart TD\n");
    for (index, (service, nodes)) in flows.iter().enumerate() {
        text.push_str(&format!("  subgraph g{index}[\"{service}\"]\n"));
        for node in nodes {
            let label = node
                .label
                .iter()
                .map(|line| mermaid_text(line))
                .collect::<Vec<_>>()
                .join("<br/>");
            let (open, close) = if node.decision { ("{\"", "\"}") } else { ("[\"", "\"]") };
            text.push_str(&format!("    {}{open}{label}{close}\n", node.id));
        }
        text.push_str("  end\n");
    }
    for edge in edges {
        match edge.label {
            "" => text.push_str(&format!("  {} --> {}\n", edge.from, edge.to)),
            label => text.push_str(&format!("  {} -->|{label}| {}\n", edge.from, edge.to)),
        }
    }
    text
}

/// Mermaid labels are HTML inside quotes: quotes and angle brackets become entities.
fn mermaid_text(line: &str) -> String {
    line.replace('&', "&amp;")
        .replace('"', "#quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn dot(flows: &Flows<'_>, edges: &[Edge]) -> String {
    let mut text = String::from("digraph release {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n");
    for (index, (service, nodes)) in flows.iter().enumerate() {
        text.push_str(&format!("  subgraph cluster_{index} {{\n    label=\"{service}\";\n"));
        for node in nodes {
            let label = node
                .label
                .iter()
                .map(|line| dot_text(line))
                .collect::<Vec<_>>()
                .join("\\n");
            let shape = if node.decision { ", shape=diamond" } else { "" };
            text.push_str(&format!("    {} [label=\"{label}\"{shape}];\n", node.id));
        }
        text.push_str("  }\n");
    }
    for edge in edges {
        match edge.label {
            "" => text.push_str(&format!("  {} -> {};\n", edge.from, edge.to)),
            label => text.push_str(&format!("  {} -> {} [label=\"{label}\"];\n", edge.from, edge.to)),
        }
    }
    text.push_str("}\n");
    text
}

/// DOT strings escape quotes and backslashes.
fn dot_text(line: &str) -> String {
    line.replace('\\', "\\\\").replace('"', "\\\"")
}
