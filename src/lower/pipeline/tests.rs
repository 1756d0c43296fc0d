use std::sync::Arc;

use super::*;
use crate::check::model::{
    Analysis, BlueGreen, Check, Dependency, JsonExpectation, Model, Promotion, Replicas, Resources, StepParam, Task,
    Trigger, TriggerEvent,
};
use crate::lower::ir::{EventDependency, EventValue, GitProvider, Pipeline, TemplateKind, WorkflowTemplateItem};
use crate::source::{SourceMap, Span};

fn span() -> Span {
    Span::new(SourceMap::new().add("test.ship", String::new()), 0, 0)
}

fn text(literal: &str) -> Value {
    Value {
        pieces: vec![ValuePiece::Text(literal.to_string())],
    }
}

fn output(task: usize, name: &str) -> ValuePiece {
    ValuePiece::Output {
        task,
        output: name.to_string(),
    }
}

fn after(task: usize) -> Dependency {
    Dependency {
        task,
        must_succeed: false,
    }
}

fn reads(task: usize) -> Dependency {
    Dependency {
        task,
        must_succeed: true,
    }
}

fn definition(name: &str, params: &[(&str, Option<&str>)], outputs: &[&str]) -> StepTemplate {
    StepTemplate {
        name: name.to_string(),
        span: span(),
        params: params
            .iter()
            .map(|(name, default)| StepParam {
                name: name.to_string(),
                default: default.map(str::to_string),
            })
            .collect(),
        image: vec![
            TextPiece::Literal("rust:".to_string()),
            TextPiece::Param("toolchain".to_string()),
        ],
        program: StepProgram::Script(vec![TextPiece::Literal("cargo test".to_string())]),
        env: Vec::new(),
        outputs: outputs
            .iter()
            .map(|name| (name.to_string(), format!("/work/{name}")))
            .collect(),
        resources: Resources::default(),
        retry: Some(StepRetry {
            limit: 2,
            backoff: Some(Duration::from_millis(10_000)),
            max_backoff: Some(Duration::from_millis(120_000)),
        }),
        timeout: Some(Duration::from_millis(1_500)),
        run_as_root: false,
        writable_root: false,
    }
}

fn step(name: &str, step: usize, args: Vec<Option<Value>>, needs: Vec<Dependency>) -> Task {
    Task {
        name: name.to_string(),
        span: span(),
        kind: TaskKind::Step { step, args },
        needs,
        when: None,
    }
}

fn environment(name: &str) -> Box<EnvironmentTarget> {
    Box::new(EnvironmentTarget {
        name: name.to_string(),
        namespace: format!("shop-{name}"),
        replicas: Some(Replicas::Fixed(1)),
    })
}

fn pipeline(tasks: Vec<Task>, steps: Vec<StepTemplate>) -> model::Pipeline {
    model::Pipeline {
        span: span(),
        source: GitSource::GitHub {
            owner: "shop".to_string(),
            repository: "checkout".to_string(),
        },
        triggers: Vec::new(),
        timeout: Duration::from_millis(3_600_000),
        volume: "1Gi".to_string(),
        event_fields: Vec::new(),
        tasks,
        steps: steps.into_iter().map(Arc::new).collect(),
        webhook_url: None,
        gitops: Some("https://github.com/shop/gitops.git".to_string()),
        image_name: "registry.example.com/shop/checkout".to_string(),
    }
}

fn service(pipeline: Option<model::Pipeline>, environments: Vec<EnvironmentTarget>) -> model::Service {
    model::Service {
        name: "checkout".to_string(),
        span: span(),
        namespace: "shop".to_string(),
        image: "registry.example.com/shop/checkout:1.0".to_string(),
        port: 8080,
        replicas: Replicas::Fixed(3),
        replicas_span: span(),
        resources: Resources::default(),
        readiness: None,
        liveness: None,
        env: Vec::new(),
        release: Release::BlueGreen(BlueGreen {
            span: span(),
            promotion: Promotion::Manual,
            scale_down_delay: None,
            preview_replicas: None,
            before_promotion: Analysis {
                span: Some(span()),
                checks: vec![Check {
                    name: "health".to_string(),
                    span: span(),
                    kind: CheckKind::Http {
                        path: "/health".to_string(),
                        json: None,
                    },
                }],
                rules: Vec::new(),
            },
            after_promotion: Analysis::default(),
        }),
        pipeline,
        environments,
    }
}

fn lowered(pipeline: model::Pipeline) -> Pipeline {
    let service = service(None, Vec::new());
    lower_pipeline(&service, &pipeline)
}

fn template<'a>(lowered: &'a Pipeline, name: &str) -> &'a WorkflowTemplateItem {
    lowered
        .templates
        .iter()
        .find(|template| template.name == name)
        .unwrap_or_else(|| panic!("no template {name}"))
}

fn dag<'a>(lowered: &'a Pipeline, name: &str) -> &'a [DagTask] {
    match &template(lowered, name).kind {
        TemplateKind::Dag(tasks) => tasks,
        other => panic!("{name} is not a DAG: {other:?}"),
    }
}

fn container<'a>(lowered: &'a Pipeline, name: &str) -> &'a StepContainer {
    match &template(lowered, name).kind {
        TemplateKind::Container(container) => container,
        other => panic!("{name} is not a container: {other:?}"),
    }
}

fn task<'a>(tasks: &'a [DagTask], name: &str) -> &'a DagTask {
    tasks
        .iter()
        .find(|task| task.name == name)
        .unwrap_or_else(|| panic!("no task {name}"))
}

fn env<'a>(container: &'a StepContainer, name: &str) -> &'a StepEnvValue {
    &container
        .env
        .iter()
        .find(|var| var.name == name)
        .unwrap_or_else(|| panic!("no env {name}"))
        .value
}

#[test]
fn depends_waits_for_success_only_where_needed() {
    let lint = definition("lint", &[], &["report"]);
    let tasks = vec![
        step("unit_test", 0, vec![], vec![]),
        step("lint", 0, vec![], vec![]),
        step("package", 0, vec![], vec![after(0), reads(1)]),
    ];
    let lowered = lowered(pipeline(tasks, vec![lint]));
    let entry = dag(&lowered, "pipeline");
    let depends: Vec<(&str, Option<&str>)> = entry
        .iter()
        .map(|task| (task.name.as_str(), task.depends.as_deref()))
        .collect();
    assert_eq!(
        depends,
        [
            ("git-clone", None),
            ("unit-test", Some("git-clone")),
            ("lint", Some("git-clone")),
            ("package", Some("unit-test && lint.Succeeded")),
        ]
    );
}

#[test]
fn arguments_render_event_values_and_outputs() {
    let build = definition("build", &[("toolchain", None), ("tag", Some("dev"))], &["digest"]);
    let deploy_args = Value {
        pieces: vec![
            ValuePiece::Text("v-".to_string()),
            ValuePiece::Event(EventField::Branch),
            ValuePiece::Text("@".to_string()),
            output(0, "digest"),
        ],
    };
    let tasks = vec![
        step("build_image", 0, vec![Some(text("1.95")), None], vec![]),
        step("push", 0, vec![Some(text("1.95")), Some(deploy_args)], vec![reads(0)]),
    ];
    let lowered = lowered(pipeline(tasks, vec![build]));
    let entry = dag(&lowered, "pipeline");
    assert_eq!(
        task(entry, "build-image").arguments,
        [("toolchain".to_string(), "1.95".to_string())]
    );
    assert_eq!(
        task(entry, "push").arguments,
        [
            ("toolchain".to_string(), "1.95".to_string()),
            (
                "tag".to_string(),
                "v-{{workflow.parameters.branch}}@{{tasks.build-image.outputs.parameters.digest}}".to_string()
            ),
        ]
    );
    let template = template(&lowered, "step-build");
    assert_eq!(template.inputs.len(), 2);
    assert_eq!(template.inputs[1].default.as_deref(), Some("dev"));
    assert!(matches!(&template.outputs[0].source, OutputSource::Path(path) if path == "/work/digest"));
    let container = container(&lowered, "step-build");
    assert_eq!(container.image, "rust:{{inputs.parameters.toolchain}}");
    assert_eq!(container.active_deadline_seconds, Some(2));
    let retry = container.retry.as_ref().unwrap();
    let backoff = retry.backoff.as_ref().unwrap();
    assert_eq!(
        (
            retry.limit,
            backoff.duration.as_str(),
            backoff.factor,
            backoff.max_duration.as_deref()
        ),
        (2, "10s", 2, Some("2m"))
    );
}

#[test]
fn when_is_an_expression_on_the_values_themselves() {
    let build = definition("build", &[], &["digest"]);
    let mut gated = step("publish", 0, vec![], vec![reads(0)]);
    gated.when = Some(Box::new(Guard::And(
        Box::new(Guard::Or(
            Box::new(Guard::Test {
                subject: ValuePiece::Event(EventField::Branch),
                equal: true,
                value: "it's {{main}}\\".to_string(),
            }),
            Box::new(Guard::Test {
                subject: ValuePiece::Event(EventField::Tag),
                equal: false,
                value: String::new(),
            }),
        )),
        Box::new(Guard::Test {
            subject: output(0, "digest"),
            equal: false,
            value: "none".to_string(),
        }),
    )));
    let tasks = vec![step("build_image", 0, vec![], vec![]), gated];
    let lowered = lowered(pipeline(tasks, vec![build]));
    assert_eq!(
        task(dag(&lowered, "pipeline"), "publish").when.as_deref(),
        Some(
            r"{{=(workflow.parameters.branch == 'it\'s \u007b\u007bmain\u007d\u007d\\' || workflow.parameters.tag != '') && tasks['build-image'].outputs.parameters.digest != 'none'}}"
        )
    );
}

#[test]
fn a_definition_is_one_template_shared_by_its_uses() {
    let test = definition("cargo_test", &[("toolchain", Some("1.95"))], &[]);
    let digest = Value {
        pieces: vec![output(1, "digest")],
    };
    let tasks = vec![
        step("test_stable", 0, vec![None], vec![]),
        step("test_nightly", 0, vec![Some(text("nightly"))], vec![]),
        Task {
            name: "approve_release".to_string(),
            span: span(),
            kind: TaskKind::Approve,
            needs: vec![after(0)],
            when: None,
        },
        Task {
            name: "deploy_staging".to_string(),
            span: span(),
            kind: TaskKind::Deploy {
                environment: environment("staging"),
                digest,
            },
            needs: vec![reads(1), reads(2)],
            when: None,
        },
    ];
    let lowered = lowered(pipeline(tasks, vec![test]));
    let names: Vec<&str> = lowered
        .templates
        .iter()
        .map(|template| template.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["pipeline", "git-clone", "step-cargo-test", "approval", "deploy-staging"]
    );
    let entry = dag(&lowered, "pipeline");
    assert_eq!(task(entry, "test-stable").template, "step-cargo-test");
    assert_eq!(task(entry, "test-nightly").template, "step-cargo-test");
    assert_eq!(
        task(entry, "deploy-staging").arguments,
        [(
            "digest".to_string(),
            "{{tasks.test-nightly.outputs.parameters.digest}}".to_string()
        )]
    );
    assert!(matches!(template(&lowered, "approval").kind, TemplateKind::Suspend));
}

#[test]
fn a_deploy_pushes_the_digest_through_the_environment_only() {
    let tasks = vec![Task {
        name: "deploy_staging".to_string(),
        span: span(),
        kind: TaskKind::Deploy {
            environment: environment("staging"),
            digest: text("sha256:abc"),
        },
        needs: Vec::new(),
        when: None,
    }];
    let lowered = lowered(pipeline(tasks, Vec::new()));
    let deploy = container(&lowered, "deploy-staging");
    assert_eq!(deploy.image, KUBE_IMAGE);
    assert_eq!(deploy.mutex.as_deref(), Some("checkout-deploy-staging"));
    assert_eq!(deploy.active_deadline_seconds, Some(1800));
    assert!(deploy.retry.is_none());
    let value = |name| match env(deploy, name) {
        StepEnvValue::Value(value) => value.as_str(),
        StepEnvValue::Secret { .. } => panic!("{name} is a secret"),
    };
    assert_eq!(value("DIGEST"), "{{inputs.parameters.digest}}");
    assert_eq!(value("NAMESPACE"), "shop-staging");
    assert_eq!(value("GITOPS_REPOSITORY"), "https://github.com/shop/gitops.git");
    assert!(
        matches!(env(deploy, "GIT_TOKEN"), StepEnvValue::Secret { name, key } if name == "gitops-access" && key == "token")
    );
    let Program::Script(script) = &deploy.program else {
        panic!("not a script")
    };
    assert!(!script.contains("{{"), "no Argo substitution inside the script");
    assert_eq!(template(&lowered, "deploy-staging").inputs[0].name, "digest");
    let clone = container(&lowered, "git-clone");
    assert!(
        matches!(env(clone, "REVISION"), StepEnvValue::Value(value) if value == "{{workflow.parameters.revision}}")
    );
    assert!(
        matches!(env(clone, "REPOSITORY"), StepEnvValue::Value(value) if value == "https://github.com/shop/checkout.git")
    );
}

#[test]
fn checks_probe_the_new_version_in_the_environment() {
    let check = |name: &str, kind| Task {
        name: name.to_string(),
        span: span(),
        kind: TaskKind::Check {
            environment: environment("staging"),
            check: Box::new(kind),
        },
        needs: Vec::new(),
        when: None,
    };
    let tasks = vec![
        check(
            "smoke",
            CheckKind::Http {
                path: "/healthz".to_string(),
                json: Some(JsonExpectation {
                    path: "$.checks[0].up-to-date".to_string(),
                    value: JsonValue::String("ye\"s".to_string()),
                }),
            },
        ),
        check(
            "load_test",
            CheckKind::Job {
                image: "grafana/k6:1.0".to_string(),
                run: "k6 run test.js".to_string(),
                timeout: Some(Duration::from_millis(300_000)),
            },
        ),
    ];
    let lowered = lowered(pipeline(tasks, Vec::new()));
    let smoke = container(&lowered, "check-smoke");
    let value = |container, name| match env(container, name) {
        StepEnvValue::Value(value) => value.clone(),
        StepEnvValue::Secret { .. } => panic!("{name} is a secret"),
    };
    assert_eq!(
        value(smoke, "TARGET"),
        "http://checkout-preview.shop-staging.svc.cluster.local"
    );
    assert_eq!(value(smoke, "JQ_PATH"), r#".checks[0]."up-to-date""#);
    assert_eq!(value(smoke, "EXPECTED"), r#""ye\"s""#);
    let load = container(&lowered, "check-load-test");
    assert_eq!(load.image, "grafana/k6:1.0");
    assert_eq!(load.active_deadline_seconds, Some(300));
    assert_eq!(
        value(load, "TARGET"),
        "http://checkout-preview.shop-staging.svc.cluster.local"
    );
}

#[test]
fn json_paths_become_jq_paths() {
    for (json_path, expected) in [
        ("$", "."),
        ("$.status", ".status"),
        ("$.a[0].b", ".a[0].b"),
        ("$[2]", ".[2]"),
        ("$[2].ok", ".[2].ok"),
        ("$.a_b-c.D9", r#"."a_b-c".D9"#),
        ("$.2xx[1][2]", r#"."2xx"[1][2]"#),
    ] {
        assert_eq!(jq_path(json_path), expected, "{json_path}");
    }
}

/// Task `t-<i>` reads task `t-<i-1>`'s output, and the last task also reads the first one's.
fn chain(n_tasks: usize) -> model::Pipeline {
    let build = definition("build", &[("toolchain", None)], &["digest"]);
    let tasks = (0..n_tasks)
        .map(|idx| {
            let mut needs = Vec::new();
            let mut input = text("1.95");
            if idx > 0 {
                needs.push(after(idx - 1));
            }
            if idx + 1 == n_tasks {
                needs.insert(0, reads(0));
                input = Value {
                    pieces: vec![output(0, "digest")],
                };
            }
            let mut task = step(&format!("t_{idx}"), 0, vec![Some(input)], needs);
            if idx + 1 == n_tasks {
                task.when = Some(Box::new(Guard::Test {
                    subject: output(0, "digest"),
                    equal: false,
                    value: String::new(),
                }));
            }
            task
        })
        .collect();
    pipeline(tasks, vec![build])
}

#[test]
fn the_largest_pipeline_that_fits_one_dag_is_not_split() {
    let lowered = lowered(chain(MAX_DAG_TASKS - 1));
    assert_eq!(dag(&lowered, "pipeline").len(), MAX_DAG_TASKS);
    assert!(
        lowered
            .templates
            .iter()
            .all(|template| !template.name.starts_with("part-"))
    );
}

#[test]
fn a_large_pipeline_is_split_into_parts_that_pass_outputs_along() {
    let lowered = lowered(chain(450));
    let entry = dag(&lowered, "pipeline");
    let entry_tasks: Vec<(&str, Option<&str>)> = entry
        .iter()
        .map(|task| (task.name.as_str(), task.depends.as_deref()))
        .collect();
    assert_eq!(
        entry_tasks,
        [
            ("git-clone", None),
            ("part-1", Some("git-clone")),
            ("part-2", Some("part-1")),
            ("part-3", Some("part-1 && part-2")),
        ]
    );
    let names: Vec<&str> = lowered.templates.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["pipeline", "part-1", "part-2", "part-3", "git-clone", "step-build"]
    );
    let mut n_tasks = 0;
    for part in ["part-1", "part-2", "part-3"] {
        let tasks = dag(&lowered, part);
        assert!(tasks.len() < MAX_DAG_TASKS, "{part} has {} tasks", tasks.len());
        n_tasks += tasks.len();
        let own: BTreeSet<&str> = tasks.iter().map(|task| task.name.as_str()).collect();
        for task in tasks {
            for dependency in task.depends.iter().flat_map(|depends| depends.split(" && ")) {
                let name = dependency.trim_end_matches(".Succeeded");
                assert!(own.contains(name), "{} in {part} depends on {name}", task.name);
            }
        }
    }
    assert_eq!(n_tasks, 450);
    assert_eq!(task(dag(&lowered, "part-2"), "t-199").depends, None);
    assert_eq!(task(dag(&lowered, "part-1"), "t-0").depends, None);

    let producer = template(&lowered, "part-1");
    assert_eq!(producer.outputs.len(), 1);
    assert_eq!(producer.outputs[0].name, "t-0_digest");
    assert!(matches!(
        &producer.outputs[0].source,
        OutputSource::Parameter(source) if source == "{{tasks.t-0.outputs.parameters.digest}}"
    ));
    let consumer = template(&lowered, "part-3");
    assert_eq!(consumer.inputs.len(), 1);
    assert_eq!(consumer.inputs[0].name, "t-0_digest");
    assert_eq!(
        task(entry, "part-3").arguments,
        [(
            "t-0_digest".to_string(),
            "{{tasks.part-1.outputs.parameters.t-0_digest}}".to_string()
        )]
    );
    let last = task(dag(&lowered, "part-3"), "t-449");
    assert_eq!(last.depends.as_deref(), Some("t-448"));
    assert_eq!(
        last.arguments,
        [("toolchain".to_string(), "{{inputs.parameters.t-0_digest}}".to_string())]
    );
    assert_eq!(last.when.as_deref(), Some("{{=inputs.parameters['t-0_digest'] != ''}}"));
}

#[test]
fn the_split_order_puts_dependencies_first_and_otherwise_keeps_the_source_order() {
    let tasks = vec![
        step("a", 0, vec![], vec![after(3)]),
        step("b", 0, vec![], vec![]),
        step("c", 0, vec![], vec![after(0)]),
        step("d", 0, vec![], vec![]),
    ];
    assert_eq!(super::nesting::topological_order(&tasks), [1, 3, 0, 2]);
}

#[test]
fn parameters_are_revision_and_branch_then_the_values_read() {
    let mut pipeline = pipeline(Vec::new(), Vec::new());
    pipeline.event_fields = vec![EventField::Message, EventField::Tag];
    let lowered = lowered(pipeline);
    let parameters: Vec<(&str, Option<&str>)> = lowered
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.default.as_deref()))
        .collect();
    assert_eq!(
        parameters,
        [
            ("revision", None),
            ("branch", Some("")),
            ("tag", Some("")),
            ("message", Some(""))
        ]
    );
    assert_eq!(lowered.active_deadline_seconds, 3600);
    assert!(lowered.trigger.is_none());
}

fn on(event: TriggerEvent) -> Trigger {
    Trigger { event, span: span() }
}

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

fn filters(dependency: &EventDependency) -> Vec<(&str, &str)> {
    dependency
        .filters
        .iter()
        .map(|filter| (filter.path.as_str(), filter.values[0].as_str()))
        .collect()
}

fn sources(dependency: &EventDependency) -> Vec<String> {
    dependency
        .parameters
        .iter()
        .map(|value| match value {
            EventValue::Key(key) => format!("key {key}"),
            EventValue::Template(template) => format!("template {template}"),
            EventValue::Constant(constant) => format!("constant {constant:?}"),
        })
        .collect()
}

#[test]
fn github_triggers_filter_anchored_escaped_values() {
    let mut pipeline = pipeline(Vec::new(), Vec::new());
    pipeline.event_fields = vec![EventField::Tag, EventField::Message];
    pipeline.webhook_url = Some("https://hooks.example.com".to_string());
    pipeline.triggers = vec![
        on(TriggerEvent::Push {
            branches: names(&["main", "release.1"]),
        }),
        on(TriggerEvent::Tag {
            patterns: names(&["v*", "rc?"]),
        }),
        on(TriggerEvent::PullRequest { branches: Vec::new() }),
        on(TriggerEvent::Push { branches: Vec::new() }),
    ];
    let trigger = lowered(pipeline).trigger.unwrap();
    assert_eq!(
        (
            trigger.event_source.as_str(),
            trigger.event_name.as_str(),
            trigger.sensor.as_str(),
            trigger.sensor_service_account.as_str(),
            trigger.endpoint.as_str()
        ),
        (
            "checkout-git",
            "checkout",
            "checkout-ci",
            "checkout-sensor",
            "/checkout"
        )
    );
    assert!(matches!(trigger.provider, GitProvider::GitHub { .. }));
    assert_eq!(trigger.events, ["push", "pull_request"]);
    let dependency_names: Vec<&str> = trigger.dependencies.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(dependency_names, ["push", "tag", "pull-request", "push-2"]);
    let [push, tag, pull_request, any_push] = &trigger.dependencies[..] else {
        panic!("four dependencies")
    };
    assert_eq!(
        filters(push),
        [
            ("headers.X-Github-Event.0", "^push$"),
            ("body.ref", r"^refs/heads/(main|release\.1)$"),
            ("body.deleted", "^false$"),
        ]
    );
    assert_eq!(filters(tag)[1], ("body.ref", r"^refs/tags/(v.*|rc.)$"));
    assert_eq!(filters(any_push)[1], ("body.ref", "^refs/heads/"));
    assert_eq!(
        filters(pull_request),
        [
            ("headers.X-Github-Event.0", "^pull_request$"),
            ("body.action", "^(opened|synchronize|reopened)$"),
        ]
    );
    assert_eq!(
        sources(push),
        [
            "key body.after",
            r#"template {{ .Input.body.ref | trimPrefix "refs/heads/" }}"#,
            r#"constant """#,
            "key body.head_commit.message",
        ]
    );
    assert_eq!(
        sources(tag),
        [
            "key body.after",
            r#"constant """#,
            r#"template {{ .Input.body.ref | trimPrefix "refs/tags/" }}"#,
            "key body.head_commit.message",
        ]
    );
    assert_eq!(
        sources(pull_request),
        [
            "key body.pull_request.head.sha",
            "key body.pull_request.head.ref",
            r#"constant """#,
            "key body.pull_request.title",
        ]
    );
}

#[test]
fn gitlab_triggers_use_gitlab_events_and_fields() {
    let mut pipeline = pipeline(Vec::new(), Vec::new());
    pipeline.source = GitSource::GitLab {
        project: "shop/checkout".to_string(),
        base_url: "https://gitlab.example.com".to_string(),
    };
    pipeline.webhook_url = Some("https://hooks.example.com".to_string());
    pipeline.triggers = vec![
        on(TriggerEvent::PullRequest {
            branches: names(&["main"]),
        }),
        on(TriggerEvent::Tag { patterns: Vec::new() }),
        on(TriggerEvent::Push {
            branches: names(&["main"]),
        }),
    ];
    let lowered = lowered(pipeline);
    assert!(
        matches!(env(container(&lowered, "git-clone"), "GIT_TOKEN"), StepEnvValue::Secret { name, .. } if name == "gitlab-access")
    );
    let trigger = lowered.trigger.unwrap();
    assert_eq!(trigger.events, ["PushEvents", "TagPushEvents", "MergeRequestsEvents"]);
    let [merge_request, tag, push] = &trigger.dependencies[..] else {
        panic!("three dependencies")
    };
    assert_eq!(
        filters(merge_request),
        [
            ("headers.X-Gitlab-Event.0", "^Merge Request Hook$"),
            ("body.object_attributes.action", "^(open|update|reopen)$"),
            ("body.object_attributes.target_branch", "^main$"),
        ]
    );
    assert_eq!(
        filters(tag)[..2],
        [
            ("headers.X-Gitlab-Event.0", "^Tag Push Hook$"),
            ("body.ref", "^refs/tags/")
        ]
    );
    assert_eq!(filters(push)[1], ("body.ref", "^refs/heads/main$"));
    assert_eq!(
        sources(merge_request),
        [
            "key body.object_attributes.last_commit.id",
            "key body.object_attributes.source_branch"
        ]
    );
    assert_eq!(sources(push)[0], "key body.checkout_sha");
}

#[test]
fn a_service_with_environments_is_released_once_per_environment() {
    let mut production = environment("production");
    production.replicas = None;
    let model = Model {
        services: vec![service(None, vec![*production, *environment("staging")])],
    };
    let bundle = crate::lower::lower(&model);
    assert!(bundle.services.is_empty());
    let deployments: Vec<(&str, &str, Option<u32>)> = bundle
        .environments
        .iter()
        .map(|deployment| {
            (
                deployment.environment.as_str(),
                deployment.objects.namespace.as_str(),
                deployment.objects.rollout.replicas,
            )
        })
        .collect();
    assert_eq!(
        deployments,
        [
            ("production", "shop-production", Some(3)),
            ("staging", "shop-staging", Some(1))
        ]
    );
    let staging = &bundle.environments[1].objects;
    assert!(staging.disruption_budget.is_none());
    assert!(matches!(
        &staging.analyses[0].metrics[0].provider,
        crate::lower::ir::Provider::Web { url, .. } if url == "http://checkout-preview.shop-staging.svc.cluster.local/health"
    ));
}
