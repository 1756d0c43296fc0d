//! The `on` clauses to an EventSource that receives the git host's webhooks and a Sensor that
//! submits the workflow for the events that match.
//!
//! Argo Events matches a string data filter as an *unanchored* Go regular expression against gjson's
//! text of the path, so every filter here is anchored and every name escaped: `main` must not match
//! `maintenance`, and `release.1` must not match `release-1`. Headers are lists, hence the `.0`.

use std::collections::BTreeMap;

use crate::check::model::{self, EventField, GitSource, TriggerEvent};
use crate::lower::ir::{DataFilter, EventDependency, EventValue, GitProvider, Trigger};

/// The Go template that takes the branch out of a push's `ref`.
const BRANCH_FROM_REF: &str = r#"{{ .Input.body.ref | trimPrefix "refs/heads/" }}"#;

/// The Go template that takes the tag out of a push's `ref`.
const TAG_FROM_REF: &str = r#"{{ .Input.body.ref | trimPrefix "refs/tags/" }}"#;

/// A trigger's kind, without its patterns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Push,
    Tag,
    PullRequest,
}

impl Kind {
    fn of(event: &TriggerEvent) -> Kind {
        match event {
            TriggerEvent::Push { .. } => Kind::Push,
            TriggerEvent::Tag { .. } => Kind::Tag,
            TriggerEvent::PullRequest { .. } => Kind::PullRequest,
        }
    }

    fn dependency_name(self) -> &'static str {
        match self {
            Kind::Push => "push",
            Kind::Tag => "tag",
            Kind::PullRequest => "pull-request",
        }
    }
}

/// The trigger of `service`'s pipeline, which submits a workflow with the parameters `fields`;
/// `None` without `on` clauses.
pub(super) fn trigger(service: &str, pipeline: &model::Pipeline, fields: &[EventField]) -> Option<Trigger> {
    let first = pipeline.triggers.first()?;
    let last = pipeline.triggers.last()?;
    // INVARIANT: the checker sets `webhook_url` whenever there are triggers.
    let webhook_url = pipeline.webhook_url.clone()?;
    let github = matches!(pipeline.source, GitSource::GitHub { .. });
    let mut n_of_kind: BTreeMap<&str, usize> = BTreeMap::new();
    let dependencies = pipeline
        .triggers
        .iter()
        .map(|trigger| {
            let kind = Kind::of(&trigger.event);
            let count = n_of_kind.entry(kind.dependency_name()).or_insert(0);
            *count += 1;
            let name = match *count {
                1 => kind.dependency_name().to_string(),
                n => format!("{}-{n}", kind.dependency_name()),
            };
            EventDependency {
                name,
                filters: if github {
                    github_filters(&trigger.event)
                } else {
                    gitlab_filters(&trigger.event)
                },
                parameters: fields.iter().map(|field| event_value(github, kind, *field)).collect(),
            }
        })
        .collect();
    Some(Trigger {
        origin: first.span.to(last.span),
        event_source: format!("{service}-git"),
        event_name: service.to_string(),
        sensor: format!("{service}-ci"),
        sensor_service_account: format!("{service}-sensor"),
        provider: match &pipeline.source {
            GitSource::GitHub { owner, repository } => GitProvider::GitHub {
                owner: owner.clone(),
                repository: repository.clone(),
            },
            GitSource::GitLab { project, base_url } => GitProvider::GitLab {
                project: project.clone(),
                base_url: base_url.clone(),
            },
        },
        webhook_url,
        endpoint: format!("/{service}"),
        events: host_events(github, &pipeline.triggers),
        dependencies,
    })
}

/// The events the git host must send, each once, in a fixed order.
fn host_events(github: bool, triggers: &[model::Trigger]) -> Vec<String> {
    let has = |wanted: &[Kind]| {
        triggers
            .iter()
            .any(|trigger| wanted.contains(&Kind::of(&trigger.event)))
    };
    let events: &[(&[Kind], &str)] = if github {
        // GitHub sends tags as pushes.
        &[
            (&[Kind::Push, Kind::Tag], "push"),
            (&[Kind::PullRequest], "pull_request"),
        ]
    } else {
        &[
            (&[Kind::Push], "PushEvents"),
            (&[Kind::Tag], "TagPushEvents"),
            (&[Kind::PullRequest], "MergeRequestsEvents"),
        ]
    };
    events
        .iter()
        .filter(|(kinds, _)| has(kinds))
        .map(|(_, event)| event.to_string())
        .collect()
}

fn filter(path: &str, regex: String) -> DataFilter {
    DataFilter {
        path: path.to_string(),
        values: vec![regex],
    }
}

fn github_filters(event: &TriggerEvent) -> Vec<DataFilter> {
    let header = |name: &str| filter("headers.X-Github-Event.0", format!("^{name}$"));
    match event {
        TriggerEvent::Push { branches } => vec![
            header("push"),
            filter("body.ref", ref_regex("refs/heads/", branches, escape)),
            // A deleted branch has nothing to build.
            filter("body.deleted", "^false$".to_string()),
        ],
        TriggerEvent::Tag { patterns } => vec![
            header("push"),
            filter("body.ref", ref_regex("refs/tags/", patterns, glob)),
            filter("body.deleted", "^false$".to_string()),
        ],
        TriggerEvent::PullRequest { branches } => {
            let mut filters = vec![
                header("pull_request"),
                filter("body.action", "^(opened|synchronize|reopened)$".to_string()),
            ];
            if !branches.is_empty() {
                filters.push(filter("body.pull_request.base.ref", names_regex(branches)));
            }
            filters
        }
    }
}

fn gitlab_filters(event: &TriggerEvent) -> Vec<DataFilter> {
    let header = |name: &str| filter("headers.X-Gitlab-Event.0", format!("^{name}$"));
    // A deleted branch or tag comes with a null `checkout_sha`.
    let not_deleted = || filter("body.checkout_sha", "^[0-9a-f]+$".to_string());
    match event {
        TriggerEvent::Push { branches } => vec![
            header("Push Hook"),
            filter("body.ref", ref_regex("refs/heads/", branches, escape)),
            not_deleted(),
        ],
        TriggerEvent::Tag { patterns } => vec![
            header("Tag Push Hook"),
            filter("body.ref", ref_regex("refs/tags/", patterns, glob)),
            not_deleted(),
        ],
        TriggerEvent::PullRequest { branches } => {
            let mut filters = vec![
                header("Merge Request Hook"),
                filter("body.object_attributes.action", "^(open|update|reopen)$".to_string()),
            ];
            if !branches.is_empty() {
                filters.push(filter("body.object_attributes.target_branch", names_regex(branches)));
            }
            filters
        }
    }
}

/// `^<prefix>(a|b)$` for the names, each made a regex by `to_regex`; `^<prefix>` for any name.
fn ref_regex(prefix: &str, names: &[String], to_regex: fn(&str) -> String) -> String {
    if names.is_empty() {
        return format!("^{}", escape(prefix));
    }
    let names = names.iter().map(|name| to_regex(name)).collect();
    format!("^{}{}$", escape(prefix), alternatives(names))
}

/// `^(a|b)$`, matching exactly one of the names.
fn names_regex(names: &[String]) -> String {
    format!("^{}$", alternatives(names.iter().map(|name| escape(name)).collect()))
}

fn alternatives(regexes: Vec<String>) -> String {
    match regexes.as_slice() {
        [only] => only.clone(),
        _ => format!("({})", regexes.join("|")),
    }
}

/// Go's `regexp.QuoteMeta`: the text matched literally.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// A tag glob as a regex: `*` any run of characters, `?` one character, the rest literal.
fn glob(pattern: &str) -> String {
    pattern
        .chars()
        .map(|c| match c {
            '*' => ".*".to_string(),
            '?' => ".".to_string(),
            c => escape(c.encode_utf8(&mut [0; 4])),
        })
        .collect()
}

/// Where the event holds `field`, for a trigger of `kind`.
fn event_value(github: bool, kind: Kind, field: EventField) -> EventValue {
    let key = |path: &str| EventValue::Key(path.to_string());
    let template = |text: &str| EventValue::Template(text.to_string());
    let none = || EventValue::Constant(String::new());
    match (github, kind, field) {
        (_, Kind::Push, EventField::Branch) => template(BRANCH_FROM_REF),
        (_, Kind::Tag, EventField::Tag) => template(TAG_FROM_REF),
        (_, Kind::Push | Kind::PullRequest, EventField::Tag) | (_, Kind::Tag, EventField::Branch) => none(),
        (true, Kind::Push | Kind::Tag, EventField::Revision) => key("body.after"),
        (true, Kind::Push | Kind::Tag, EventField::Message) => key("body.head_commit.message"),
        (true, Kind::PullRequest, EventField::Revision) => key("body.pull_request.head.sha"),
        (true, Kind::PullRequest, EventField::Branch) => key("body.pull_request.head.ref"),
        (true, Kind::PullRequest, EventField::Message) => key("body.pull_request.title"),
        (false, Kind::Push | Kind::Tag, EventField::Revision) => key("body.checkout_sha"),
        (false, Kind::Push, EventField::Message) => key("body.commits.0.message"),
        (false, Kind::Tag, EventField::Message) => key("body.message"),
        (false, Kind::PullRequest, EventField::Revision) => key("body.object_attributes.last_commit.id"),
        (false, Kind::PullRequest, EventField::Branch) => key("body.object_attributes.source_branch"),
        (false, Kind::PullRequest, EventField::Message) => key("body.object_attributes.title"),
    }
}
