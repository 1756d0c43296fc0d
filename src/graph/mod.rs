//! `shipc graph`: each service's release flow as a diagram a reviewer can read instead of YAML, in
//! Mermaid (GitHub renders it in Markdown) or Graphviz DOT.
//!
//! The flow is Argo Rollouts' sequence as shipc compiles it. Blue/green: the new version comes up
//! behind the preview Service, the pre-promotion analysis judges it, promotion (by hand or
//! automatic) switches the active Service, the post-promotion analysis watches it, and the old
//! version is scaled down. A failed analysis aborts: the active Service stays on, or goes back to,
//! the stable version. Canary: the steps in order (weights, pauses, analyses), with the background
//! analysis beside them; a failed analysis aborts and the stable version takes all traffic again.

use crate::check::model::{
    Analysis, BlueGreen, Canary, CanaryStep, CheckKind, Model, Promotion, Release, Service, TrafficRouter,
};
use crate::lower::analysis::{condition_text, expr_literal};
use crate::lower::{active_service_name, canary_service_name, preview_service_name, stable_service_name};

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
    let mut flow = Flow { index, nodes, edges };
    match &service.release {
        Release::BlueGreen(release) => blue_green(&mut flow, service, release),
        Release::Canary(release) => canary(&mut flow, service, release),
    }
}

/// The nodes and edges of one service's flow.
struct Flow<'a> {
    index: usize,
    nodes: &'a mut Vec<Node>,
    edges: &'a mut Vec<Edge>,
}

impl Flow<'_> {
    /// Adds a node and returns its id. Ids come from the service's position, not its name: names may
    /// contain `-`, which neither language allows in a bare id, and a prefix keeps ids clear of
    /// keywords (`end`, `graph`, `node`).
    fn node(&mut self, step: &str, label: Vec<String>, decision: bool) -> String {
        let id = format!("s{}_{step}", self.index);
        self.nodes.push(Node {
            id: id.clone(),
            label,
            decision,
        });
        id
    }

    fn edge(&mut self, from: &str, to: &str, label: &'static str) {
        self.edges.push(Edge {
            from: from.to_string(),
            to: to.to_string(),
            label,
        });
    }
}

fn blue_green(flow: &mut Flow<'_>, service: &Service, release: &BlueGreen) {
    let preview = flow.node(
        "preview",
        vec![
            format!("{}: new version", service.name),
            format!("behind {}", preview_service_name(&service.name)),
        ],
        false,
    );
    let abort = flow.node(
        "abort",
        vec![
            "abort".to_string(),
            format!("{} stays on the stable version", active_service_name(&service.name)),
        ],
        false,
    );
    let mut last = preview;
    if !release.before_promotion.is_empty() {
        let before = flow.node(
            "before",
            analysis_label("before promotion", &release.before_promotion),
            true,
        );
        flow.edge(&last, &before, "");
        flow.edge(&before, &abort, "fails");
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
    let promote = flow.node("promote", promotion, false);
    flow.edge(&last, &promote, passes_if(!release.before_promotion.is_empty()));
    let active = flow.node(
        "active",
        vec![format!(
            "{} switched to the new version",
            active_service_name(&service.name)
        )],
        false,
    );
    flow.edge(&promote, &active, "");
    last = active;
    if !release.after_promotion.is_empty() {
        let after = flow.node(
            "after",
            analysis_label("after promotion", &release.after_promotion),
            true,
        );
        let rollback = flow.node(
            "rollback",
            vec![
                "roll back".to_string(),
                format!("{} back on the stable version", active_service_name(&service.name)),
            ],
            false,
        );
        flow.edge(&last, &after, "");
        flow.edge(&after, &rollback, "fails");
        last = after;
    }
    let scale_down = match release.scale_down_delay {
        Some(delay) => format!("old version scaled down after {}", delay.to_go()),
        None if release.after_promotion.is_empty() => "old version scaled down after 30s".to_string(),
        None => "old version scaled down".to_string(),
    };
    let done = flow.node("stable", vec!["new version is stable".to_string(), scale_down], false);
    flow.edge(&last, &done, passes_if(!release.after_promotion.is_empty()));
}

/// The canary's steps as a chain; each analysis, and the background analysis that watches the whole
/// chain, can abort it.
fn canary(flow: &mut Flow<'_>, service: &Service, release: &Canary) {
    let start = flow.node(
        "canary",
        vec![
            format!("{}: new version", service.name),
            format!("behind {}", canary_service_name(&service.name)),
        ],
        false,
    );
    let (split, back, through) = match release.traffic {
        Some(TrafficRouter::Nginx { .. }) => (
            "of traffic to the new version",
            format!("all traffic back to {}", stable_service_name(&service.name)),
            format!("all traffic to it through {}", stable_service_name(&service.name)),
        ),
        None => (
            "of the pods run the new version",
            "new version scaled down".to_string(),
            format!("all pods behind {} run it", service.name),
        ),
    };
    let abort = flow.node("abort", vec!["abort".to_string(), back], false);
    if !release.background.is_empty() {
        let background = flow.node(
            "background",
            analysis_label("background, during the whole update", &release.background),
            true,
        );
        flow.edge(&start, &background, "meanwhile");
        flow.edge(&background, &abort, "fails");
    }
    let mut last = start;
    let mut judged = false;
    for (position, step) in release.steps.iter().enumerate() {
        let id = format!("step{position}");
        let node = match step {
            CanaryStep::Weight(weight) => flow.node(&id, vec![format!("{weight}% {split}")], false),
            CanaryStep::Pause(Some(duration)) => flow.node(&id, vec![format!("pause {}", duration.to_go())], false),
            CanaryStep::Pause(None) => flow.node(
                &id,
                vec![
                    "pause until promoted".to_string(),
                    "kubectl argo rollouts promote".to_string(),
                ],
                false,
            ),
            CanaryStep::Analyze(name) => {
                let analysis = release
                    .analyses
                    .iter()
                    .find(|named| named.name == *name)
                    .map(|named| analysis_label(&format!("analysis {name}"), &named.analysis))
                    .unwrap_or_default();
                flow.node(&id, analysis, true)
            }
        };
        flow.edge(&last, &node, passes_if(judged));
        judged = matches!(step, CanaryStep::Analyze(_));
        if judged {
            flow.edge(&node, &abort, "fails");
        }
        last = node;
    }
    let done = flow.node("stable", vec!["new version is stable".to_string(), through], false);
    flow.edge(&last, &done, passes_if(judged));
}

/// The label of an edge that leaves a decision only when it passed.
fn passes_if(after_decision: bool) -> &'static str {
    if after_decision { "passes" } else { "" }
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
