//! The layout of a bundle with CI pipelines, triggers and an environment, and the fields of the CI
//! objects that the oracles cannot judge (they accept a pod that runs as root, for one). The release
//! objects come from compiling a small source; the CI part is built by hand until lowering fills it.

use super::*;
use crate::MemoryLoader;
use crate::check::model::Resources;
use crate::diagnostics::Diagnostics;
use crate::lower::ir::{
    Backoff, DagTask, DataFilter, EnvironmentDeployment, EventDependency, EventValue, GitProvider, InputParameter,
    OutputParameter, OutputSource, Program, Retry, StepContainer, StepEnv, StepEnvValue, TemplateKind, Trigger,
    WorkflowParameter, WorkflowTemplateItem,
};
use serde::Deserialize;

const RELEASES: &str = r#"platform {
  registry  = "registry.example.com/shop"
  namespace = "shop"
}

service checkout {
  image     = "${platform.registry}/checkout:1.4.2"
  port      = 8080
  replicas  = 3
  resources = { cpu: 250m..1, memory: 256Mi..512Mi }
  readiness = http_get("/healthz")
  release blue_green { promote = manual }
}

service cart {
  image     = "${platform.registry}/cart:2.0.1"
  port      = 8080
  replicas  = 2
  readiness = http_get("/healthz")
  release blue_green { promote = manual }
}
"#;

/// Stands in for the source of the pipelines: each origin points at the line of its marker.
const PIPELINES: &str = "pipeline checkout\n  on push\n\npipeline cart\n  on push\n";

/// Compiles [`RELEASES`] and adds the CI of `checkout` (GitHub) and `cart` (GitLab); `cart` is deployed
/// to `staging` instead of the platform's namespace.
fn sample_bundle() -> (Bundle, SourceMap) {
    let mut loader = MemoryLoader::new();
    loader.insert("shop.ship", RELEASES);
    let mut sources = SourceMap::new();
    let mut diagnostics = Diagnostics::new();
    let program = crate::names::resolve(
        &["shop.ship".to_string()],
        &loader,
        crate::names::StdlibParse::Whole,
        &mut sources,
        &mut diagnostics,
    );
    let model = crate::check::check(&program, &mut diagnostics);
    assert!(!diagnostics.has_errors(), "{:?}", diagnostics.into_sorted(&sources));
    let mut bundle = crate::lower::lower(&model);
    let ci_source = sources.add("ci.ship", PIPELINES.to_string());
    let line = |marker: &str, nth: usize| {
        let offset = PIPELINES.match_indices(marker).nth(nth).unwrap().0 as u32;
        Span::new(ci_source, offset, offset)
    };
    let checkout = bundle
        .services
        .iter()
        .find(|service| service.name == "checkout")
        .unwrap();
    let resources = checkout.rollout.container.resources.clone();
    let cart_idx = bundle
        .services
        .iter()
        .position(|service| service.name == "cart")
        .unwrap();
    let mut cart = bundle.services.remove(cart_idx);
    cart.namespace = "shop-staging".to_string();
    bundle.environments.push(EnvironmentDeployment {
        environment: "staging".to_string(),
        objects: cart,
    });
    bundle.pipelines = vec![
        Pipeline {
            trigger: Some(github_trigger(line("on push", 0))),
            ..pipeline("checkout", checkout_templates(resources), line("pipeline", 0))
        },
        Pipeline {
            trigger: Some(gitlab_trigger(line("on push", 1))),
            ..pipeline("cart", cart_templates(), line("pipeline", 1))
        },
    ];
    (bundle, sources)
}

fn pipeline(service: &str, templates: Vec<WorkflowTemplateItem>, origin: Span) -> Pipeline {
    Pipeline {
        origin,
        service: service.to_string(),
        namespace: "shop".to_string(),
        name: format!("{service}-ci"),
        service_account: format!("{service}-ci"),
        parameters: vec![
            WorkflowParameter {
                name: "revision".to_string(),
                default: None,
            },
            WorkflowParameter {
                name: "branch".to_string(),
                default: Some("main".to_string()),
            },
        ],
        active_deadline_seconds: 3600,
        work_volume: "2Gi".to_string(),
        entrypoint: "pipeline".to_string(),
        templates,
        trigger: None,
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

fn task(name: &str, template: &str, depends: Option<&str>, arguments: &[(&str, &str)]) -> DagTask {
    DagTask {
        name: name.to_string(),
        template: template.to_string(),
        depends: depends.map(str::to_string),
        arguments: arguments
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        when: None,
    }
}

fn item(name: &str, inputs: &[&str], outputs: Vec<OutputParameter>, kind: TemplateKind) -> WorkflowTemplateItem {
    WorkflowTemplateItem {
        name: name.to_string(),
        inputs: inputs
            .iter()
            .map(|input| InputParameter {
                name: input.to_string(),
                default: None,
            })
            .collect(),
        outputs,
        kind,
    }
}

fn output(name: &str, source: OutputSource) -> Vec<OutputParameter> {
    vec![OutputParameter {
        name: name.to_string(),
        source,
    }]
}

fn step(image: &str, program: Program) -> TemplateKind {
    TemplateKind::Container(Box::new(StepContainer {
        image: image.to_string(),
        program,
        env: Vec::new(),
        resources: Resources::default(),
        retry: None,
        active_deadline_seconds: None,
        run_as_root: false,
        writable_root: false,
        mutex: None,
    }))
}

fn exec(command: &[&str], args: &[&str]) -> Program {
    Program::Exec {
        command: strings(command),
        args: strings(args),
    }
}

fn container(kind: &mut TemplateKind) -> &mut StepContainer {
    match kind {
        TemplateKind::Container(step) => step,
        _ => unreachable!("a container template"),
    }
}

fn checkout_templates(resources: Resources) -> Vec<WorkflowTemplateItem> {
    const DIGEST: &str = "{{tasks.build.outputs.parameters.digest}}";
    let mut approve = task("approve", "approval", Some("scan.Succeeded"), &[]);
    approve.when = Some("{{=workflow.parameters.branch == 'main'}}".to_string());
    let entry = TemplateKind::Dag(vec![
        task(
            "checkout",
            "git-clone",
            None,
            &[("revision", "{{workflow.parameters.revision}}")],
        ),
        task("test", "cargo-test", Some("checkout"), &[]),
        task("lint", "cargo-clippy", Some("checkout"), &[]),
        task("build", "kaniko", Some("test.Succeeded && lint.Succeeded"), &[]),
        task(
            "scan",
            "trivy",
            Some("build.Succeeded"),
            &[("image", &format!("registry.example.com/shop/checkout@{DIGEST}"))],
        ),
        approve,
        task(
            "deploy-staging",
            "gitops-update",
            Some("approve.Succeeded"),
            &[("digest", DIGEST)],
        ),
        task(
            "release-notes",
            "notes",
            Some("deploy-staging.Succeeded"),
            &[("digest", DIGEST)],
        ),
        task(
            "announce",
            "chat-post",
            Some("release-notes.Succeeded"),
            &[("url", "{{tasks.release-notes.outputs.parameters.url}}")],
        ),
    ]);
    let notes = TemplateKind::Dag(vec![task(
        "render",
        "render-notes",
        None,
        &[("digest", "{{inputs.parameters.digest}}")],
    )]);

    let mut clone = step(
        "alpine/git:2.45.2",
        exec(
            &["git"],
            &["clone", "https://git.example.com/shop/checkout.git", "/work/src"],
        ),
    );
    container(&mut clone).env.push(StepEnv {
        name: "REVISION".to_string(),
        value: StepEnvValue::Value("{{inputs.parameters.revision}}".to_string()),
    });
    let mut test = step("rust:1.95", exec(&["cargo", "test"], &[]));
    container(&mut test).resources = resources;
    let lint = step(
        "rust:1.95",
        Program::Script("cargo clippy --all-targets -- -D warnings\n".to_string()),
    );
    let mut build = step(
        "gcr.io/kaniko-project/executor:v1.23.2",
        exec(
            &[],
            &[
                "--context=/work/src",
                "--destination=registry.example.com/shop/checkout",
                "--digest-file=/work/out/digest",
            ],
        ),
    );
    let kaniko = container(&mut build);
    kaniko.run_as_root = true;
    kaniko.writable_root = true;
    kaniko.active_deadline_seconds = Some(1800);
    kaniko.retry = Some(Retry {
        limit: 2,
        backoff: Some(Backoff {
            duration: "10s".to_string(),
            factor: 2,
            max_duration: Some("2m".to_string()),
        }),
    });
    let scan = step(
        "aquasec/trivy:0.58.1",
        exec(&[], &["image", "--exit-code", "1", "{{inputs.parameters.image}}"]),
    );
    let mut gitops = step(
        "registry.example.com/tools/gitops:1.0.0",
        Program::Script("gitops-update --env staging --digest \"$DIGEST\"\n".to_string()),
    );
    let update = container(&mut gitops);
    update.mutex = Some("checkout-gitops".to_string());
    update.env = vec![
        StepEnv {
            name: "DIGEST".to_string(),
            value: StepEnvValue::Value("{{inputs.parameters.digest}}".to_string()),
        },
        StepEnv {
            name: "GIT_TOKEN".to_string(),
            value: StepEnvValue::Secret {
                name: "gitops-credentials".to_string(),
                key: "token".to_string(),
            },
        },
    ];
    let render = step(
        "registry.example.com/tools/notes:0.3.0",
        Program::Script("render-notes \"$1\" > /work/out/notes-url\n".to_string()),
    );
    let chat = step(
        "curlimages/curl:8.11.0",
        exec(
            &["curl"],
            &[
                "-fsS",
                "-d",
                "{{inputs.parameters.url}}",
                "https://chat.example.com/hook",
            ],
        ),
    );
    vec![
        item("pipeline", &[], Vec::new(), entry),
        item(
            "notes",
            &["digest"],
            output(
                "url",
                OutputSource::Parameter("{{tasks.render.outputs.parameters.url}}".to_string()),
            ),
            notes,
        ),
        item("git-clone", &["revision"], Vec::new(), clone),
        item("cargo-test", &[], Vec::new(), test),
        item("cargo-clippy", &[], Vec::new(), lint),
        item(
            "kaniko",
            &[],
            output("digest", OutputSource::Path("/work/out/digest".to_string())),
            build,
        ),
        item("trivy", &["image"], Vec::new(), scan),
        item("approval", &[], Vec::new(), TemplateKind::Suspend),
        item("gitops-update", &["digest"], Vec::new(), gitops),
        item(
            "render-notes",
            &["digest"],
            output("url", OutputSource::Path("/work/out/notes-url".to_string())),
            render,
        ),
        item("chat-post", &["url"], Vec::new(), chat),
    ]
}

fn cart_templates() -> Vec<WorkflowTemplateItem> {
    let entry = TemplateKind::Dag(vec![
        task(
            "checkout",
            "git-clone",
            None,
            &[("revision", "{{workflow.parameters.revision}}")],
        ),
        task("test", "make-test", Some("checkout"), &[]),
    ]);
    vec![
        item("pipeline", &[], Vec::new(), entry),
        item(
            "git-clone",
            &["revision"],
            Vec::new(),
            step(
                "alpine/git:2.45.2",
                exec(
                    &["git"],
                    &["clone", "https://gitlab.example.com/shop/cart.git", "/work/src"],
                ),
            ),
        ),
        item(
            "make-test",
            &[],
            Vec::new(),
            step("golang:1.24", exec(&["make", "test"], &[])),
        ),
    ]
}

fn trigger(
    service: &str,
    provider: GitProvider,
    events: &[&str],
    dependencies: Vec<EventDependency>,
    origin: Span,
) -> Trigger {
    Trigger {
        origin,
        event_source: format!("{service}-git"),
        event_name: service.to_string(),
        sensor: format!("{service}-ci"),
        sensor_service_account: format!("{service}-sensor"),
        provider,
        webhook_url: "https://hooks.example.com".to_string(),
        endpoint: format!("/{service}"),
        events: strings(events),
        dependencies,
    }
}

fn dependency(name: &str, reference: &str, parameters: Vec<EventValue>) -> EventDependency {
    EventDependency {
        name: name.to_string(),
        filters: vec![DataFilter {
            path: "body.ref".to_string(),
            values: vec![reference.to_string()],
        }],
        parameters,
    }
}

const BRANCH_OF_REF: &str = r#"{{ .Input.body.ref | trimPrefix "refs/heads/" }}"#;

fn github_trigger(origin: Span) -> Trigger {
    let provider = GitProvider::GitHub {
        owner: "shop".to_string(),
        repository: "checkout".to_string(),
    };
    let push = dependency(
        "push",
        "refs/heads/main",
        vec![
            EventValue::Key("body.after".to_string()),
            EventValue::Template(BRANCH_OF_REF.to_string()),
        ],
    );
    let tag = dependency(
        "tag",
        "refs/tags/v.*",
        vec![
            EventValue::Key("body.after".to_string()),
            EventValue::Constant("main".to_string()),
        ],
    );
    trigger("checkout", provider, &["push"], vec![push, tag], origin)
}

fn gitlab_trigger(origin: Span) -> Trigger {
    let provider = GitProvider::GitLab {
        project: "shop/cart".to_string(),
        base_url: "https://gitlab.example.com".to_string(),
    };
    let push = dependency(
        "push",
        "refs/heads/main",
        vec![
            EventValue::Key("body.checkout_sha".to_string()),
            EventValue::Template(BRANCH_OF_REF.to_string()),
        ],
    );
    trigger("cart", provider, &["PushEvents"], vec![push], origin)
}

fn emitted() -> Vec<OutputFile> {
    let (bundle, sources) = sample_bundle();
    emit(&bundle, &sources).unwrap()
}

/// The YAML documents of one emitted file.
fn documents(files: &[OutputFile], path: &str) -> Vec<serde_yaml::Value> {
    let file = files.iter().find(|file| file.path == path).unwrap();
    serde_yaml::Deserializer::from_str(&file.contents)
        .map(|document| serde_yaml::Value::deserialize(document).unwrap())
        .collect()
}

fn document<'a>(documents: &'a [serde_yaml::Value], kind: &str) -> &'a serde_yaml::Value {
    documents.iter().find(|document| document["kind"] == kind).unwrap()
}

fn resources(files: &[OutputFile], path: &str) -> Vec<String> {
    let kustomization = &documents(files, path)[0];
    serde_yaml::from_value(kustomization["resources"].clone()).unwrap()
}

#[test]
fn ci_joins_the_service_directory_and_environments_stay_out_of_the_root() {
    let files = emitted();
    let paths: Vec<&str> = files.iter().map(|file| file.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "cart/ci.yaml",
            "cart/kustomization.yaml",
            "cart/trigger.yaml",
            "checkout/ci.yaml",
            "checkout/kustomization.yaml",
            "checkout/pdb.yaml",
            "checkout/rollout.yaml",
            "checkout/services.yaml",
            "checkout/trigger.yaml",
            "environments/staging/cart/kustomization.yaml",
            "environments/staging/cart/pdb.yaml",
            "environments/staging/cart/rollout.yaml",
            "environments/staging/cart/services.yaml",
            "environments/staging/kustomization.yaml",
            "kustomization.yaml",
        ]
    );
    assert_eq!(resources(&files, "kustomization.yaml"), ["cart", "checkout"]);
    assert_eq!(
        resources(&files, "checkout/kustomization.yaml"),
        ["rollout.yaml", "services.yaml", "pdb.yaml", "ci.yaml", "trigger.yaml"]
    );
    assert_eq!(
        resources(&files, "cart/kustomization.yaml"),
        ["ci.yaml", "trigger.yaml"]
    );
    assert_eq!(resources(&files, "environments/staging/kustomization.yaml"), ["cart"]);
    let environment = &documents(&files, "environments/staging/kustomization.yaml")[0];
    assert!(environment.get("namespace").is_none());
    let cart = &documents(&files, "environments/staging/cart/kustomization.yaml")[0];
    assert_eq!(cart["namespace"], "shop-staging");
    assert_eq!(
        document(&documents(&files, "environments/staging/cart/rollout.yaml"), "Rollout")["metadata"]["namespace"],
        "shop-staging"
    );
}

#[test]
fn ci_objects_are_stamped_with_the_line_they_come_from() {
    let files = emitted();
    for (path, line) in [
        ("checkout/ci.yaml", 1),
        ("checkout/trigger.yaml", 2),
        ("cart/trigger.yaml", 5),
    ] {
        for object in documents(&files, path) {
            let metadata = &object["metadata"];
            assert_eq!(
                metadata["annotations"][SOURCE_ANNOTATION],
                format!("ci.ship:{line}"),
                "{path}"
            );
            assert_eq!(metadata["labels"][MANAGED_BY_LABEL], "shipc");
            assert_eq!(metadata["namespace"], "shop");
        }
    }
    let kinds: Vec<_> = documents(&files, "checkout/trigger.yaml")
        .iter()
        .map(|object| object["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        ["EventSource", "ServiceAccount", "Role", "RoleBinding", "Sensor"]
    );
}

#[test]
fn steps_run_unprivileged_and_only_a_root_step_gets_root() {
    let files = emitted();
    let ci = documents(&files, "checkout/ci.yaml");
    let spec = &document(&ci, "WorkflowTemplate")["spec"];
    assert_eq!(spec["securityContext"]["runAsNonRoot"], true);
    let mut n_steps = 0;
    for template in spec["templates"].as_sequence().unwrap() {
        let container = match (template.get("container"), template.get("script")) {
            (Some(container), None) | (None, Some(container)) => container,
            _ => continue,
        };
        n_steps += 1;
        assert_eq!(container["env"][0]["name"], "HOME");
        assert_eq!(container["workingDir"], "/work/src");
        let security = &container["securityContext"];
        assert_eq!(security["allowPrivilegeEscalation"], false);
        assert_eq!(security["capabilities"]["drop"][0], "ALL");
        let is_root_step = template["name"] == "kaniko";
        assert_eq!(security["readOnlyRootFilesystem"], !is_root_step);
        assert_eq!(security.get("runAsUser").is_some(), is_root_step);
        if is_root_step {
            assert_eq!(security["runAsUser"], 0);
            assert_eq!(security["runAsNonRoot"], false);
        }
    }
    assert_eq!(n_steps, 8);
}

#[test]
fn event_values_go_to_the_parameter_of_the_same_index() {
    let files = emitted();
    let trigger = documents(&files, "checkout/trigger.yaml");
    let triggers = &document(&trigger, "Sensor")["spec"]["triggers"];
    let push = &triggers[0]["template"]["argoWorkflow"];
    assert_eq!(push["parameters"][1]["dest"], "spec.arguments.parameters.1.value");
    assert_eq!(push["parameters"][1]["src"]["dataTemplate"], BRANCH_OF_REF);
    let tag = &triggers[1]["template"];
    assert_eq!(tag["conditions"], "tag");
    let arguments = &tag["argoWorkflow"]["source"]["resource"]["spec"]["arguments"]["parameters"];
    assert_eq!(arguments[0]["value"], "");
    assert_eq!(arguments[1]["value"], "main");
    assert_eq!(tag["argoWorkflow"]["parameters"].as_sequence().unwrap().len(), 1);
}

#[test]
fn a_gitlab_trigger_names_the_project_and_server() {
    let files = emitted();
    let trigger = documents(&files, "cart/trigger.yaml");
    let source = &document(&trigger, "EventSource")["spec"]["gitlab"]["cart"];
    assert_eq!(source["projects"][0], "shop/cart");
    assert_eq!(source["gitlabBaseURL"], "https://gitlab.example.com");
    assert_eq!(source["accessToken"]["name"], "gitlab-access");
    assert_eq!(source["webhook"]["port"], "12000");
}

#[test]
fn an_impossible_bundle_is_an_internal_error_at_its_pipeline() {
    let (mut bundle, sources) = sample_bundle();
    bundle.pipelines[0].trigger.as_mut().unwrap().dependencies[0]
        .parameters
        .pop();
    let (message, origin) = emit(&bundle, &sources).unwrap_err();
    assert!(message.contains("gives 1 values for the 2 parameters"), "{message}");
    assert_eq!(origin, Some(bundle.pipelines[0].origin));

    let (mut bundle, sources) = sample_bundle();
    bundle.pipelines[0].namespace = "ci".to_string();
    let (message, _) = emit(&bundle, &sources).unwrap_err();
    assert!(message.contains("two namespaces"), "{message}");

    let (mut bundle, sources) = sample_bundle();
    bundle.pipelines[1].service = "checkout".to_string();
    let (message, _) = emit(&bundle, &sources).unwrap_err();
    assert_eq!(message, "`checkout/ci.yaml` would be written twice");
}
