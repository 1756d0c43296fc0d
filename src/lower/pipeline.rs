//! Pipelines to Argo: a WorkflowTemplate whose DAG runs the tasks, and the EventSource and Sensor
//! that submit it on git events ([`trigger`]).
//!
//! Every workflow starts with a `git-clone` task that fetches exactly the event's revision into
//! `/work/src`; tasks without dependencies wait for it. A step definition becomes one template shared
//! by all its uses, so the template count grows with definitions, not uses. Event values reach
//! containers only as template parameters and environment variables, never inside shell text that
//! shipc writes.
//!
//! # GitOps layout
//!
//! A deploy never applies manifests itself: it commits the image digest to the GitOps repository
//! (the platform's `gitops`), which Argo CD syncs, and waits for the Rollout to run it. The repository
//! holds:
//!
//! ```text
//! manifests/                               shipc's output, committed by whoever runs `shipc build`
//! manifests/environments/<env>/<service>/  the release objects of a service in an environment
//! releases/<env>/<service>/                owned by the pipeline: a kustomization.yaml listing
//!                                          ../../../manifests/environments/<env>/<service> with an
//!                                          `images:` override to the deployed digest
//! ```
//!
//! Argo CD points one Application per environment and service at `releases/<env>/<service>`, so a
//! rebuild of `manifests/` never resets the deployed version, and a deploy never touches shipc's output.

mod nesting;
mod trigger;

use std::collections::{BTreeMap, BTreeSet};

use super::analysis::{self, TARGET_ENV};
use super::ir::{
    Backoff, DagTask, InputParameter, OutputParameter, OutputSource, Program, Retry, StepContainer, StepEnv,
    StepEnvValue, TemplateKind, WorkflowParameter, WorkflowTemplateItem,
};
use super::{canary_service_name, ir, preview_service_name};
use crate::check::model::{
    self, CheckKind, EnvironmentTarget, EventField, GitSource, Guard, JsonValue, Release, StepProgram, StepRetry,
    StepTemplate, TaskKind, Text, TextPiece, Value, ValuePiece,
};
use crate::check::units::Duration;

pub use nesting::MAX_DAG_TASKS;

/// The entry DAG template.
const ENTRY_TEMPLATE: &str = "pipeline";

/// The implicit first task and its template.
const CLONE_TASK: &str = "git-clone";

/// Small, and has git.
const CLONE_IMAGE: &str = "alpine/git:2.45.2";

/// Has git, kubectl, kustomize, curl and jq, everything deploys and HTTP checks run.
const KUBE_IMAGE: &str = "alpine/k8s:1.33.1";

/// The suspend template every approve task shares.
const APPROVAL_TEMPLATE: &str = "approval";

/// How long a deploy may take, push and rollout included.
const DEPLOY_DEADLINE_SECONDS: u64 = 1800;

/// The input of a deploy template that carries the digest.
const DIGEST_INPUT: &str = "digest";

/// The Secret (key `token`) that lets deploys push to the GitOps repository.
const GITOPS_SECRET: &str = "gitops-access";

/// Fetches only the revision built, so that a large history costs nothing. The repository, revision
/// and token come in through the environment: the script text is the same for every event, so
/// nothing the pusher chooses can become shell code. The credential helper answers git with the
/// token without writing it anywhere.
const CLONE_SCRIPT: &str = r#"set -eu
git init -q /work/src
cd /work/src
git config credential.helper '!f() { echo username=x-access-token; echo "password=$GIT_TOKEN"; }; f'
git fetch -q --depth 1 "$REPOSITORY" "$REVISION"
git checkout -q --detach FETCH_HEAD
"#;

/// Records the digest in `releases/$ENVIRONMENT/$SERVICE` of the GitOps repository (see the module
/// documentation for the layout), then waits until the Rollout runs it. Every value comes through
/// the environment so that the script text never changes. Pushes race with other services' deploys
/// (the mutex only serializes this service and environment), hence the rebase and retry. Waiting
/// needs the controller to have seen the new spec (`observedGeneration`) before the phase means
/// anything; `Paused` counts as done because a blue/green release waiting for promotion is paused
/// with the new version behind its preview Service, where checks probe it.
const DEPLOY_SCRIPT: &str = r#"set -eu
# git and kubectl keep settings and caches under $HOME, and the root filesystem is read-only.
export HOME=/tmp
git clone -q --depth 1 \
  --config credential.helper='!f() { echo username=x-access-token; echo "password=$GIT_TOKEN"; }; f' \
  "$GITOPS_REPOSITORY" /work/gitops
cd /work/gitops
git config user.name shipc
git config user.email shipc@noreply.invalid
branch=$(git symbolic-ref --short HEAD)
release="releases/$ENVIRONMENT/$SERVICE"
if [ ! -f "$release/kustomization.yaml" ]; then
  mkdir -p "$release"
  (cd "$release" && kustomize create --resources "../../../manifests/environments/$ENVIRONMENT/$SERVICE")
fi
(cd "$release" && kustomize edit set image "$IMAGE=$IMAGE@$DIGEST")
git add -A -- "$release"
if git diff --cached --quiet; then
  echo "$release already deploys $IMAGE@$DIGEST"
else
  git commit -q -m "Deploy $SERVICE $DIGEST to $ENVIRONMENT"
  attempt=1
  until git push -q origin "HEAD:$branch"; do
    if [ "$attempt" -ge 5 ]; then
      echo "could not push to $GITOPS_REPOSITORY after $attempt attempts" >&2
      exit 1
    fi
    attempt=$((attempt + 1))
    git pull -q --rebase origin "$branch"
  done
fi
rollout() {
  kubectl -n "$NAMESPACE" get rollout "$SERVICE" -o "jsonpath={$1}"
}
echo "waiting for $SERVICE in $NAMESPACE to run $IMAGE@$DIGEST"
while :; do
  image=$(rollout '.spec.template.spec.containers[0].image' || true)
  generation=$(rollout .metadata.generation || true)
  observed=$(rollout .status.observedGeneration || true)
  phase=$(rollout .status.phase || true)
  if [ "$image" = "$IMAGE@$DIGEST" ] && [ -n "$generation" ] && [ "$observed" = "$generation" ]; then
    case "$phase" in
      Healthy|Paused)
        echo "$SERVICE in $NAMESPACE runs $IMAGE@$DIGEST ($phase)"
        exit 0
        ;;
      Degraded)
        echo "$SERVICE in $NAMESPACE is Degraded: $(rollout .status.message || true)" >&2
        exit 1
        ;;
    esac
  fi
  sleep 10
done
"#;

/// An HTTP check against the new version: retried while the version starts, then a 2xx answer (a
/// redirect is not one) and, when `JQ_PATH` is set, the JSON value there equal to `EXPECTED` (a
/// JSON literal). Everything comes through the environment, so one script serves every check.
const HTTP_CHECK_SCRIPT: &str = r#"set -eu
url="$TARGET$CHECK_PATH"
if ! status=$(curl -sS -f -o /tmp/body -w '%{http_code}' --retry 5 --retry-all-errors --max-time 10 "$url"); then
  echo "GET $url failed" >&2
  exit 1
fi
case "$status" in
  2??) ;;
  *)
    echo "GET $url answered $status, expected 2xx" >&2
    exit 1
    ;;
esac
if [ -n "${JQ_PATH:-}" ]; then
  if ! jq -e --argjson expected "$EXPECTED" "$JQ_PATH == \$expected" /tmp/body >/dev/null; then
    echo "GET $url: $JQ_PATH is $(jq -c "$JQ_PATH" /tmp/body 2>/dev/null || echo 'not JSON'), expected $EXPECTED" >&2
    exit 1
  fi
fi
echo "GET $url answered $status"
"#;

/// Lowers the pipeline of `service`.
pub fn lower_pipeline(service: &model::Service, pipeline: &model::Pipeline) -> ir::Pipeline {
    let fields = parameter_fields(pipeline);
    let names: Vec<String> = pipeline.tasks.iter().map(|task| argo_name(&task.name)).collect();
    let mut lowering = Lowering {
        service,
        pipeline,
        names: &names,
        leaves: Vec::new(),
        leaf_names: BTreeSet::new(),
    };
    lowering.add_leaf(CLONE_TASK.to_string(), |name| clone_template(name, &pipeline.source));
    let dags = nesting::dag_templates(&mut lowering);
    ir::Pipeline {
        origin: pipeline.span,
        service: service.name.clone(),
        namespace: service.namespace.clone(),
        name: format!("{}-ci", service.name),
        service_account: format!("{}-ci", service.name),
        parameters: fields
            .iter()
            .map(|field| WorkflowParameter {
                name: field.name().to_string(),
                default: (*field != EventField::Revision).then(String::new),
            })
            .collect(),
        active_deadline_seconds: deadline_seconds(pipeline.timeout),
        work_volume: pipeline.volume.clone(),
        entrypoint: ENTRY_TEMPLATE.to_string(),
        templates: dags.into_iter().chain(lowering.leaves).collect(),
        trigger: trigger::trigger(&service.name, pipeline, &fields),
    }
}

/// The event values the workflow takes as parameters, in order: the revision and branch, which every
/// run has, then the others the tasks read.
fn parameter_fields(pipeline: &model::Pipeline) -> Vec<EventField> {
    let always = [EventField::Revision, EventField::Branch];
    let others = EventField::ALL
        .into_iter()
        .filter(|field| !always.contains(field) && pipeline.event_fields.contains(field));
    always.into_iter().chain(others).collect()
}

/// A task, step or environment name as Argo accepts it in template and task names.
fn argo_name(name: &str) -> String {
    name.replace('_', "-")
}

/// Argo deadlines are whole seconds; rounding up never cuts a run short.
fn deadline_seconds(duration: Duration) -> u64 {
    duration.millis().div_ceil(1000)
}

/// The state of one pipeline's lowering: the Argo task names, and the leaf templates (everything
/// but DAGs) in order of first use.
struct Lowering<'a> {
    service: &'a model::Service,
    pipeline: &'a model::Pipeline,
    /// Indexed like the pipeline's tasks.
    names: &'a [String],
    leaves: Vec<WorkflowTemplateItem>,
    leaf_names: BTreeSet<String>,
}

impl Lowering<'_> {
    /// Adds the template `name` unless a task already used it.
    fn add_leaf(&mut self, name: String, build: impl FnOnce(String) -> WorkflowTemplateItem) -> String {
        if self.leaf_names.insert(name.clone()) {
            self.leaves.push(build(name.clone()));
        }
        name
    }

    /// The DAG task that runs task `task_idx` of the pipeline, with `depends` left for the caller,
    /// which knows which DAG the task ends up in; adds the template it runs when it is the first use.
    fn dag_task(&mut self, task_idx: usize, scope: &mut Scope) -> Option<DagTask> {
        let pipeline = self.pipeline;
        let task = pipeline.tasks.get(task_idx)?;
        let name = self.names.get(task_idx)?.clone();
        let (template, arguments) = match &task.kind {
            TaskKind::Step { step, args } => {
                let definition = pipeline.steps.get(*step)?;
                let template = self.add_leaf(format!("step-{}", argo_name(&definition.name)), |name| {
                    step_template(name, definition)
                });
                let arguments = definition
                    .params
                    .iter()
                    .zip(args)
                    .filter_map(|(param, arg)| Some((param.name.clone(), scope.value(arg.as_ref()?))))
                    .collect();
                (template, arguments)
            }
            TaskKind::Deploy { environment, digest } => {
                let service = self.service;
                let template = self.add_leaf(format!("deploy-{}", argo_name(&environment.name)), |name| {
                    deploy_template(name, service, pipeline, environment)
                });
                (template, vec![(DIGEST_INPUT.to_string(), scope.value(digest))])
            }
            TaskKind::Check { environment, check } => {
                let service = self.service;
                let template = self.add_leaf(format!("check-{name}"), |name| {
                    check_template(name, service, environment, check)
                });
                (template, Vec::new())
            }
            TaskKind::Approve => (
                self.add_leaf(APPROVAL_TEMPLATE.to_string(), |name| {
                    leaf(name, Vec::new(), TemplateKind::Suspend)
                }),
                Vec::new(),
            ),
        };
        Some(DagTask {
            name,
            template,
            depends: None,
            arguments,
            when: task
                .when
                .as_ref()
                .map(|guard| format!("{{{{={}}}}}", scope.guard(guard))),
        })
    }
}

/// How the tasks of one DAG template refer to task outputs: those of tasks in the same DAG directly,
/// those of tasks in other DAGs (see [`MAX_DAG_TASKS`]) through the DAG's input parameters.
struct Scope<'a> {
    names: &'a [String],
    /// For each task, the DAG it is in.
    dag_of: &'a [usize],
    /// The DAG whose tasks are rendered.
    dag: usize,
    /// The outputs of other DAGs' tasks read here, by input parameter name.
    imports: BTreeMap<String, Import>,
}

/// An output of a task in another DAG, passed in as an input parameter.
struct Import {
    /// The DAG of the task.
    dag: usize,
    /// `{{tasks.<task>.outputs.parameters.<output>}}` inside that DAG.
    source: String,
}

/// A reference to a task's output from inside a DAG.
enum OutputRef {
    /// Of a task in the same DAG, by its name.
    Task(String),
    /// Of a task in another DAG, by the input parameter that carries it.
    Input(String),
}

impl Scope<'_> {
    fn output(&mut self, task_idx: usize, output: &str) -> OutputRef {
        // INVARIANT: the checker only lets a task read outputs of pipeline tasks.
        let task = self.names.get(task_idx).map_or("", String::as_str);
        if self.dag_of.get(task_idx) == Some(&self.dag) {
            return OutputRef::Task(task.to_string());
        }
        // Task names never hold `_`, so the first `_` separates the task from the output and no two
        // outputs share an input name.
        let input = format!("{task}_{output}");
        let dag = self.dag_of.get(task_idx).copied().unwrap_or(self.dag);
        self.imports.entry(input.clone()).or_insert_with(|| Import {
            dag,
            source: format!("{{{{tasks.{task}.outputs.parameters.{output}}}}}"),
        });
        OutputRef::Input(input)
    }

    /// A task argument: text with Argo's `{{...}}` references.
    fn value(&mut self, value: &Value) -> String {
        value
            .pieces
            .iter()
            .map(|piece| match piece {
                ValuePiece::Text(text) => text.clone(),
                ValuePiece::Event(field) => format!("{{{{workflow.parameters.{}}}}}", field.name()),
                ValuePiece::Output { task, output } => match self.output(*task, output) {
                    OutputRef::Task(task) => format!("{{{{tasks.{task}.outputs.parameters.{output}}}}}"),
                    OutputRef::Input(input) => format!("{{{{inputs.parameters.{input}}}}}"),
                },
            })
            .collect()
    }

    /// An expr-lang condition. It compares the values themselves, where Argo's plain `when` would
    /// compare text after substitution, which a quote in a branch name breaks or rewrites.
    fn guard(&mut self, guard: &Guard) -> String {
        match guard {
            Guard::Or(left, right) => format!("{} || {}", self.guard(left), self.guard(right)),
            Guard::And(left, right) => format!("{} && {}", self.conjunct(left), self.conjunct(right)),
            Guard::Test { subject, equal, value } => {
                let op = if *equal { "==" } else { "!=" };
                format!("{} {op} {}", self.subject(subject), expr_text(value))
            }
        }
    }

    fn conjunct(&mut self, guard: &Guard) -> String {
        match guard {
            Guard::Or(..) => format!("({})", self.guard(guard)),
            _ => self.guard(guard),
        }
    }

    fn subject(&mut self, subject: &ValuePiece) -> String {
        match subject {
            ValuePiece::Text(text) => expr_text(text),
            ValuePiece::Event(field) => format!("workflow.parameters{}", expr_member(field.name())),
            ValuePiece::Output { task, output } => match self.output(*task, output) {
                OutputRef::Task(task) => format!("tasks['{task}'].outputs.parameters{}", expr_member(output)),
                OutputRef::Input(input) => format!("inputs.parameters{}", expr_member(&input)),
            },
        }
    }
}

/// `.name` when expr reads `name` as one identifier, else `['name']` (a hyphen would be a minus).
fn expr_member(name: &str) -> String {
    let mut chars = name.chars();
    let identifier = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier {
        format!(".{name}")
    } else {
        format!("[{}]", expr_text(name))
    }
}

/// A single-quoted expr-lang string for use inside `{{=...}}`. Argo ends the tag at the first `}}`,
/// so braces are written as escapes; none of the other escapes contains a brace.
fn expr_text(text: &str) -> String {
    analysis::expr_string_quoted(text, '\'')
        .replace('{', "\\u007b")
        .replace('}', "\\u007d")
}

/// A template without outputs.
fn leaf(name: String, inputs: Vec<InputParameter>, kind: TemplateKind) -> WorkflowTemplateItem {
    WorkflowTemplateItem {
        name,
        inputs,
        outputs: Vec::new(),
        kind,
    }
}

/// A container of shipc's own: no resources of its own, no retries, non-root, read-only root.
fn builtin_container(image: &str, program: Program, env: Vec<StepEnv>) -> StepContainer {
    StepContainer {
        image: image.to_string(),
        program,
        env,
        resources: model::Resources::default(),
        retry: None,
        active_deadline_seconds: None,
        run_as_root: false,
        writable_root: false,
        mutex: None,
    }
}

fn env_value(name: &str, value: impl Into<String>) -> StepEnv {
    StepEnv {
        name: name.to_string(),
        value: StepEnvValue::Value(value.into()),
    }
}

fn env_secret(name: &str, secret: &str) -> StepEnv {
    StepEnv {
        name: name.to_string(),
        value: StepEnvValue::Secret {
            name: secret.to_string(),
            key: "token".to_string(),
        },
    }
}

fn clone_template(name: String, source: &GitSource) -> WorkflowTemplateItem {
    let secret = match source {
        GitSource::GitHub { .. } => "github-access",
        GitSource::GitLab { .. } => "gitlab-access",
    };
    let env = vec![
        env_value("REPOSITORY", source.clone_url()),
        env_value("REVISION", "{{workflow.parameters.revision}}"),
        env_secret("GIT_TOKEN", secret),
    ];
    let container = builtin_container(CLONE_IMAGE, Program::Script(CLONE_SCRIPT.to_string()), env);
    leaf(name, Vec::new(), TemplateKind::Container(Box::new(container)))
}

fn step_template(name: String, step: &StepTemplate) -> WorkflowTemplateItem {
    let program = match &step.program {
        StepProgram::Script(text) => Program::Script(render_text(text)),
        StepProgram::Exec { command, args } => Program::Exec {
            command: command.iter().map(render_text).collect(),
            args: args.iter().map(render_text).collect(),
        },
    };
    let env = step
        .env
        .iter()
        .map(|var| StepEnv {
            name: var.name.clone(),
            value: match &var.value {
                model::StepEnvValue::Text(text) => StepEnvValue::Value(render_text(text)),
                model::StepEnvValue::Secret { name, key } => StepEnvValue::Secret {
                    name: name.clone(),
                    key: key.clone(),
                },
            },
        })
        .collect();
    WorkflowTemplateItem {
        name,
        inputs: step
            .params
            .iter()
            .map(|param| InputParameter {
                name: param.name.clone(),
                default: param.default.clone(),
            })
            .collect(),
        outputs: step
            .outputs
            .iter()
            .map(|(name, path)| OutputParameter {
                name: name.clone(),
                source: OutputSource::Path(path.clone()),
            })
            .collect(),
        kind: TemplateKind::Container(Box::new(StepContainer {
            image: render_text(&step.image),
            program,
            env,
            resources: step.resources.clone(),
            retry: step.retry.as_ref().map(retry),
            active_deadline_seconds: step.timeout.map(deadline_seconds),
            run_as_root: step.run_as_root,
            writable_root: step.writable_root,
            mutex: None,
        })),
    }
}

/// Step text with each parameter as Argo's input reference.
fn render_text(text: &Text) -> String {
    text.iter()
        .map(|piece| match piece {
            TextPiece::Literal(literal) => literal.clone(),
            TextPiece::Param(param) => format!("{{{{inputs.parameters.{param}}}}}"),
        })
        .collect()
}

fn retry(retry: &StepRetry) -> Retry {
    Retry {
        limit: retry.limit,
        backoff: retry.backoff.map(|backoff| Backoff {
            duration: backoff.to_go(),
            factor: 2,
            max_duration: retry.max_backoff.map(Duration::to_go),
        }),
    }
}

fn deploy_template(
    name: String,
    service: &model::Service,
    pipeline: &model::Pipeline,
    environment: &EnvironmentTarget,
) -> WorkflowTemplateItem {
    // INVARIANT: the checker sets `gitops` whenever a task deploys.
    let gitops = pipeline.gitops.clone().unwrap_or_default();
    let env = vec![
        env_value("GITOPS_REPOSITORY", gitops),
        env_secret("GIT_TOKEN", GITOPS_SECRET),
        env_value("IMAGE", pipeline.image_name.clone()),
        env_value("DIGEST", format!("{{{{inputs.parameters.{DIGEST_INPUT}}}}}")),
        env_value("SERVICE", service.name.clone()),
        env_value("ENVIRONMENT", environment.name.clone()),
        env_value("NAMESPACE", environment.namespace.clone()),
    ];
    let container = StepContainer {
        active_deadline_seconds: Some(DEPLOY_DEADLINE_SECONDS),
        // Two workflows pushing the same overlay would wait for each other's digest.
        mutex: Some(format!("{}-{name}", service.name)),
        ..builtin_container(KUBE_IMAGE, Program::Script(DEPLOY_SCRIPT.to_string()), env)
    };
    let digest = InputParameter {
        name: DIGEST_INPUT.to_string(),
        default: None,
    };
    leaf(name, vec![digest], TemplateKind::Container(Box::new(container)))
}

fn check_template(
    name: String,
    service: &model::Service,
    environment: &EnvironmentTarget,
    check: &CheckKind,
) -> WorkflowTemplateItem {
    // The version just deployed: a blue/green release may still wait for promotion, and a canary
    // sends it only part of the traffic.
    let new_version = match &service.release {
        Release::BlueGreen(_) => preview_service_name(&service.name),
        Release::Canary(_) => canary_service_name(&service.name),
    };
    let target = env_value(TARGET_ENV, analysis::service_url(&new_version, &environment.namespace));
    let container = match check {
        CheckKind::Http { path, json } => {
            let mut env = vec![target, env_value("CHECK_PATH", path.clone())];
            if let Some(expected) = json {
                env.push(env_value("JQ_PATH", jq_path(&expected.path)));
                env.push(env_value("EXPECTED", json_literal(&expected.value)));
            }
            builtin_container(KUBE_IMAGE, Program::Script(HTTP_CHECK_SCRIPT.to_string()), env)
        }
        CheckKind::Job { image, run, timeout } => StepContainer {
            active_deadline_seconds: timeout.map(deadline_seconds),
            ..builtin_container(
                image,
                Program::Exec {
                    command: analysis::job_command(run),
                    args: Vec::new(),
                },
                vec![target],
            )
        },
    };
    leaf(name, Vec::new(), TemplateKind::Container(Box::new(container)))
}

/// The jq path for a JSON path of the subset the checker accepts (`$`, `.key`, `[index]`): `$.a[0].b`
/// becomes `.a[0].b`, and a key jq would not read as a name (`a-b`, `2xx`) is quoted.
fn jq_path(json_path: &str) -> String {
    let rest = json_path.strip_prefix('$').unwrap_or(json_path);
    let mut path = String::new();
    for (idx, segment) in rest.split('.').enumerate() {
        if idx == 0 {
            // Indexes right after `$`, as in `$[0]`.
            if !segment.is_empty() {
                path.push('.');
                path.push_str(segment);
            }
            continue;
        }
        let (key, indexes) = segment.split_at(segment.find('[').unwrap_or(segment.len()));
        let mut chars = key.chars();
        let plain = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            path.push_str(&format!(".{key}{indexes}"));
        } else {
            path.push_str(&format!(".\"{key}\"{indexes}"));
        }
    }
    if path.is_empty() { ".".to_string() } else { path }
}

/// `value` as JSON, for jq's `--argjson`.
fn json_literal(value: &JsonValue) -> String {
    match value {
        JsonValue::String(text) => serde_json::Value::String(text.clone()).to_string(),
        JsonValue::Number(number) => number.to_string(),
        JsonValue::Bool(flag) => flag.to_string(),
    }
}

#[cfg(test)]
mod tests;
