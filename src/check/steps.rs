//! `step` definitions: reusable CI steps, each one Argo template.
//!
//! A definition is checked once, whether or not a pipeline uses it ([`CheckedStep`]): parameter types
//! and defaults, the image, what it runs, its environment and outputs, and that every `${...}` in its
//! texts names a parameter. Where each parameter appears inside a shell script is remembered, so that a
//! use passing a value from the git event into it can be reported as script injection.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Checker;
use super::k8s_names;
use super::model::{
    EnvValue, StepEnvValue, StepEnvVar, StepParam, StepProgram, StepRetry, StepTemplate, Text, TextPiece,
};
use super::units::Duration;
use super::values::{FieldSet, FirstSeen, unknown_choice};
use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::source::Span;
use crate::syntax::ast::{self, Expr, ExprKind, StrPart};

const STEP_FIELDS: &[&str] = &[
    "image",
    "run",
    "command",
    "args",
    "env",
    "outputs",
    "resources",
    "retry",
    "timeout",
    "run_as_root",
    "writable_root",
];

/// Shells whose `-c` argument is a script.
const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh"];

/// The most retries a step may ask for; more only hides a broken step.
const MAX_RETRIES: u64 = 10;

/// A step parameter's type. Every value reaches the container as text. Check definitions take the
/// same types, for the same reason: what they are given ends up in a check's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepParamType {
    /// Text.
    String,
    /// A whole number.
    Int,
    /// `true` or `false`.
    Bool,
    /// A duration, passed as a Go duration (`5m`).
    Duration,
}

impl StepParamType {
    pub(super) const ALL: [(&'static str, StepParamType); 4] = [
        ("string", StepParamType::String),
        ("int", StepParamType::Int),
        ("bool", StepParamType::Bool),
        ("duration", StepParamType::Duration),
    ];

    pub(super) fn parse(name: &str) -> Option<StepParamType> {
        StepParamType::ALL.iter().find(|(n, _)| *n == name).map(|(_, ty)| *ty)
    }

    /// How messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            StepParamType::String => "a string",
            StepParamType::Int => "a whole number",
            StepParamType::Bool => "`true` or `false`",
            StepParamType::Duration => "a duration",
        }
    }
}

/// A checked step definition, with what the checks of its uses need to know.
#[derive(Debug)]
pub struct CheckedStep {
    /// The definition as pipelines use it.
    pub template: Arc<StepTemplate>,
    /// The type of each parameter, in order.
    pub types: Vec<StepParamType>,
    /// For each parameter that a shell script interpolates, where it first does.
    pub in_script: BTreeMap<String, Span>,
}

impl CheckedStep {
    /// The names of the declared outputs.
    pub fn output_names(&self) -> impl Iterator<Item = &str> {
        self.template.outputs.iter().map(|(name, _)| name.as_str())
    }
}

impl Checker<'_> {
    /// Checks a step definition once; `None` if it has errors.
    pub(super) fn step_definition(&mut self, decl: &ast::StepDef) -> Option<CheckedStep> {
        let errors_before = self.error_count();
        let (params, types) = self.step_params(decl);
        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        let fields = FieldSet::new(self, &decl.fields, STEP_FIELDS, "a step");
        let mut in_script = BTreeMap::new();

        let image = match fields.get("image") {
            Some(field) => self.step_text(&field.value, "`image`", &names, None),
            None => {
                self.report(
                    Diagnostic::new(
                        Code::E0210,
                        decl.name.span,
                        format!("step `{}` has no `image`", decl.name.name),
                    )
                    .label("`image` is required")
                    .help("add e.g. `image = \"rust:1.95\"`"),
                );
                None
            }
        };
        if let (Some(image), Some(field)) = (&image, fields.get("image"))
            && let [TextPiece::Literal(reference)] = image.as_slice()
        {
            k8s_names::check_image(self, reference, field.value.span);
        }
        let program = self.step_program(decl, &fields, &names, &mut in_script);
        let env = fields
            .get("env")
            .map_or(Some(Vec::new()), |field| self.step_env(&field.value, &names));
        let outputs = fields
            .get("outputs")
            .map_or(Some(Vec::new()), |field| self.step_outputs(&field.value));
        let resources = fields
            .get("resources")
            .map_or(Some(Default::default()), |field| self.resources(&field.value));
        let retry = fields.get("retry").map(|field| self.step_retry(&field.value));
        let timeout = fields
            .get("timeout")
            .map(|field| self.positive_seconds(&field.value, "the step would be stopped as soon as it starts"));
        let run_as_root = self.flag(fields.get("run_as_root"));
        let writable_root = self.flag(fields.get("writable_root"));

        if self.error_count() > errors_before {
            return None;
        }
        Some(CheckedStep {
            template: Arc::new(StepTemplate {
                name: decl.name.name.clone(),
                span: decl.span,
                params,
                image: image?,
                program: program?,
                env: env?,
                outputs: outputs?,
                resources: resources?,
                retry: retry.flatten(),
                timeout: timeout.flatten(),
                run_as_root: run_as_root?,
                writable_root: writable_root?,
            }),
            types,
            in_script,
        })
    }

    fn step_params(&mut self, decl: &ast::StepDef) -> (Vec<StepParam>, Vec<StepParamType>) {
        let mut params = Vec::new();
        let mut types = Vec::new();
        let mut seen = FirstSeen::default();
        for param in &decl.params {
            if self.is_repeat(&mut seen, &param.name) {
                continue;
            }
            let Some(ty) = StepParamType::parse(&param.type_name.name) else {
                let choices = StepParamType::ALL.map(|(name, _)| name);
                self.report(unknown_choice(
                    Code::E0201,
                    param.type_name.span,
                    &param.type_name.name,
                    "step parameter type",
                    &choices,
                ));
                continue;
            };
            let default = match &param.default {
                Some(expr) => match self.step_literal(expr, ty, &format!("`{}`", param.name.name)) {
                    Some(text) => Some(text),
                    None => continue,
                },
                None => None,
            };
            params.push(StepParam {
                name: param.name.name.clone(),
                default,
            });
            types.push(ty);
        }
        (params, types)
    }

    /// A literal of type `ty`, as the text the container receives.
    pub(super) fn step_literal(&mut self, expr: &Expr, ty: StepParamType, what: &str) -> Option<String> {
        match ty {
            StepParamType::String => self.plain_string(expr, what),
            StepParamType::Int => match &expr.kind {
                ExprKind::Number(number) if number.is_integer() => Some(number.to_string()),
                _ => {
                    self.mismatch(expr, what, ty.describe());
                    None
                }
            },
            StepParamType::Bool => match &expr.kind {
                ExprKind::Bool(flag) => Some(flag.to_string()),
                _ => {
                    self.mismatch(expr, what, ty.describe());
                    None
                }
            },
            StepParamType::Duration => self.duration(expr, what).map(|duration| duration.to_go()),
        }
    }

    /// `run = "..."`, or `command`/`args`.
    fn step_program(
        &mut self,
        decl: &ast::StepDef,
        fields: &FieldSet<'_>,
        params: &[&str],
        in_script: &mut BTreeMap<String, Span>,
    ) -> Option<StepProgram> {
        let run = fields.get("run");
        let command = fields.get("command");
        let args = fields.get("args");
        if let (Some(run), Some(other)) = (run, command.or(args)) {
            self.report(
                Diagnostic::new(
                    Code::E0408,
                    other.name.span,
                    format!("step `{}` sets both `run` and `{}`", decl.name.name, other.name.name),
                )
                .label("a step runs a script or a command, not both")
                .secondary(run.name.span, "the script")
                .help("keep `run` for a shell script, or `command`/`args` to run a program directly"),
            );
            return None;
        }
        if let Some(run) = run {
            let script = self.step_text(&run.value, "`run`", params, Some(in_script))?;
            return Some(StepProgram::Script(script));
        }
        if command.is_none() && args.is_none() {
            self.report(
                Diagnostic::new(
                    Code::E0210,
                    decl.name.span,
                    format!("step `{}` runs nothing", decl.name.name),
                )
                .label("no `run`, `command` or `args`")
                .help("add `run = \"make test\"`, or `args = [...]` for the image's own entrypoint"),
            );
            return None;
        }
        let command_items = command.map_or(Some(Vec::new()), |field| self.step_list(&field.value, "`command`"));
        let arg_items = args.map_or(Some(Vec::new()), |field| self.step_list(&field.value, "`args`"));
        let (command_items, arg_items) = (command_items?, arg_items?);
        // `sh -c "..."`: the argument after `-c` is a script like `run`, and as open to injection.
        let words: Vec<&Expr> = command_items.iter().chain(&arg_items).copied().collect();
        let script_from = words
            .first()
            .and_then(|first| plain_word(first))
            .filter(|program| SHELLS.contains(&program.rsplit('/').next().unwrap_or(program)))
            .and_then(|_| {
                words
                    .iter()
                    .position(|word| plain_word(word).is_some_and(|w| is_script_flag(&w)))
            })
            .map(|at| at + 1);
        let mut texts = Vec::new();
        for (idx, expr) in words.iter().enumerate() {
            let tracker = (script_from == Some(idx)).then_some(&mut *in_script);
            texts.push(self.step_text(expr, "this argument", params, tracker));
        }
        let texts: Vec<Text> = texts.into_iter().collect::<Option<_>>()?;
        let mut texts = texts.into_iter();
        let command = texts.by_ref().take(command_items.len()).collect();
        Some(StepProgram::Exec {
            command,
            args: texts.collect(),
        })
    }

    fn step_list<'e>(&mut self, expr: &'e Expr, what: &str) -> Option<Vec<&'e Expr>> {
        match &expr.kind {
            ExprKind::List(items) => Some(items.iter().collect()),
            _ => {
                self.mismatch(expr, what, "a list of strings such as `[\"cargo\", \"test\"]`");
                None
            }
        }
    }

    /// A string whose `${name}`s are parameters of the step. With `in_script`, the text is a shell
    /// script: where each parameter appears is recorded.
    fn step_text(
        &mut self,
        expr: &Expr,
        what: &str,
        params: &[&str],
        mut in_script: Option<&mut BTreeMap<String, Span>>,
    ) -> Option<Text> {
        let literal = self.string(expr, what)?;
        if !self.reject_argo_templates(literal, what) {
            return None;
        }
        let mut text = Vec::new();
        let mut ok = true;
        for part in &literal.parts {
            match part {
                StrPart::Text(piece) => text.push(TextPiece::Literal(piece.text.clone())),
                StrPart::Interpolation(interpolation) => {
                    let name = ast::join_path(&interpolation.path);
                    if interpolation.path.len() == 1 && params.contains(&name.as_str()) {
                        if let Some(spans) = in_script.as_deref_mut() {
                            spans.entry(name.clone()).or_insert(interpolation.span);
                        }
                        text.push(TextPiece::Param(name));
                        continue;
                    }
                    ok = false;
                    let help = suggest::help_for(&name, params.iter().copied()).unwrap_or_else(|| {
                        if in_script.is_some() {
                            format!("a shell variable is written `${name}` without braces in a script; `${{...}}` names a parameter of the step")
                        } else {
                            "`${...}` names a parameter of the step; declare it in the step's parentheses".to_string()
                        }
                    });
                    self.report(
                        Diagnostic::new(
                            Code::E0211,
                            interpolation.span,
                            format!("the step has no parameter `{name}`"),
                        )
                        .label("not a parameter of this step")
                        .help(help),
                    );
                }
            }
        }
        ok.then_some(text)
    }

    fn step_env(&mut self, expr: &Expr, params: &[&str]) -> Option<Vec<StepEnvVar>> {
        let ExprKind::Object(entries) = &expr.kind else {
            self.mismatch(expr, "`env`", "an object such as `{ BRANCH: branch }`");
            return None;
        };
        let mut vars = Vec::new();
        let mut ok = true;
        let mut seen = FirstSeen::default();
        for entry in entries {
            if self.is_repeat(&mut seen, &entry.key) {
                ok = false;
                continue;
            }
            let what = format!("`{}`", entry.key.name);
            let value = match &entry.value.kind {
                ExprKind::Str(_) => self
                    .step_text(&entry.value, &what, params, None)
                    .map(StepEnvValue::Text),
                ExprKind::Number(number) => Some(StepEnvValue::Text(vec![TextPiece::Literal(number.to_string())])),
                ExprKind::Bool(flag) => Some(StepEnvValue::Text(vec![TextPiece::Literal(flag.to_string())])),
                ExprKind::Path(path)
                    if let [param] = &**path
                        && params.contains(&param.name.as_str()) =>
                {
                    Some(StepEnvValue::Text(vec![TextPiece::Param(param.name.clone())]))
                }
                ExprKind::Call(call) if call.callee_name() == "secret" => match self.secret(call) {
                    Some(EnvValue::Secret { name, key }) => Some(StepEnvValue::Secret { name, key }),
                    _ => None,
                },
                ExprKind::Path(path) => {
                    let name = ast::join_path(path);
                    let help = suggest::help_for(&name, params.iter().copied())
                        .unwrap_or_else(|| "a bare name here is a parameter of the step".to_string());
                    self.report(
                        Diagnostic::new(
                            Code::E0201,
                            entry.value.span,
                            format!("the step has no parameter `{name}`"),
                        )
                        .label("not a parameter of this step")
                        .help(help),
                    );
                    None
                }
                _ => {
                    self.mismatch(&entry.value, &what, "a string, a parameter or `secret(name, key: ...)`");
                    None
                }
            };
            match value {
                Some(value) => vars.push(StepEnvVar {
                    name: entry.key.name.clone(),
                    value,
                }),
                None => ok = false,
            }
        }
        ok.then_some(vars)
    }

    /// `outputs = { digest: "/work/digest" }`: each output is read from a file the step writes.
    fn step_outputs(&mut self, expr: &Expr) -> Option<Vec<(String, String)>> {
        let ExprKind::Object(entries) = &expr.kind else {
            self.mismatch(expr, "`outputs`", "an object such as `{ digest: \"/work/digest\" }`");
            return None;
        };
        let mut outputs = Vec::new();
        let mut ok = true;
        let mut seen = FirstSeen::default();
        for entry in entries {
            if self.is_repeat(&mut seen, &entry.key) {
                ok = false;
                continue;
            }
            let Some(path) = self.plain_string(&entry.value, &format!("output `{}`", entry.key.name)) else {
                ok = false;
                continue;
            };
            // The root filesystem is read-only unless the step says otherwise: only the shared
            // working volume and `/tmp` can hold the file.
            if !is_output_path(&path) {
                ok = false;
                self.report(
                    Diagnostic::new(
                        Code::E0305,
                        entry.value.span,
                        format!(
                            "output `{}` is read from `{path}`, outside `/work/` and `/tmp/`",
                            entry.key.name
                        ),
                    )
                    .label("not a file under `/work/` or `/tmp/`")
                    .help("write outputs to a file under `/work/` (shared by the pipeline's steps) or `/tmp/`"),
                );
                continue;
            }
            outputs.push((entry.key.name.clone(), path));
        }
        ok.then_some(outputs)
    }

    /// `retry = 2` or `retry = { limit: 2, backoff: 10s, max_backoff: 2m }`.
    fn step_retry(&mut self, expr: &Expr) -> Option<StepRetry> {
        let range = 1..=MAX_RETRIES;
        match &expr.kind {
            ExprKind::Number(_) => Some(StepRetry {
                limit: self.integer(expr, "`retry`", range)? as u32,
                backoff: None,
                max_backoff: None,
            }),
            ExprKind::Object(entries) => {
                let mut limit = None;
                let mut backoff = None;
                let mut max_backoff = None;
                let mut ok = true;
                let mut seen = FirstSeen::default();
                for entry in entries {
                    if self.is_repeat(&mut seen, &entry.key) {
                        ok = false;
                        continue;
                    }
                    match entry.key.name.as_str() {
                        "limit" => limit = self.integer(&entry.value, "`limit`", range.clone()),
                        "backoff" => backoff = self.whole_seconds(&entry.value, "`backoff`"),
                        "max_backoff" => max_backoff = self.whole_seconds(&entry.value, "`max_backoff`"),
                        other => {
                            ok = false;
                            self.report(unknown_choice(
                                Code::E0208,
                                entry.key.span,
                                other,
                                "retry setting",
                                &["limit", "backoff", "max_backoff"],
                            ));
                        }
                    }
                }
                if limit.is_none() && ok {
                    self.report(
                        Diagnostic::new(Code::E0210, expr.span, "`retry` has no `limit`")
                            .label("how many times to retry?")
                            .help("add e.g. `limit: 2`"),
                    );
                }
                if !ok {
                    return None;
                }
                Some(StepRetry {
                    limit: limit? as u32,
                    backoff,
                    max_backoff,
                })
            }
            _ => {
                self.mismatch(expr, "`retry`", "a number of retries or `{ limit: 2, backoff: 10s }`");
                None
            }
        }
    }

    /// A `timeout` in whole seconds, more than zero: Argo reads a deadline of 0 as "stop now".
    pub(super) fn positive_seconds(&mut self, expr: &Expr, zero_means: &str) -> Option<Duration> {
        let timeout = self.whole_seconds(expr, "`timeout`")?;
        if timeout.millis() == 0 {
            self.report(
                Diagnostic::new(Code::E0305, expr.span, "`timeout` is zero")
                    .label(zero_means.to_string())
                    .help("write how long it may run, e.g. `timeout = 30m`, or leave `timeout` out"),
            );
            return None;
        }
        Some(timeout)
    }

    /// A `true`/`false` field, `false` when not set.
    fn flag(&mut self, field: Option<&ast::Field>) -> Option<bool> {
        let Some(field) = field else { return Some(false) };
        match field.value.kind {
            ExprKind::Bool(flag) => Some(flag),
            _ => {
                self.mismatch(&field.value, &format!("`{}`", field.name.name), "`true` or `false`");
                None
            }
        }
    }
}

/// A file under `/work/` or `/tmp/`, which no `..` leads out of.
fn is_output_path(path: &str) -> bool {
    let rest = path.strip_prefix("/work/").or_else(|| path.strip_prefix("/tmp/"));
    rest.is_some_and(|rest| !rest.is_empty() && !rest.split('/').any(|segment| segment == ".."))
}

/// `-c`, alone or among other one-letter options (`-ec`, `-lc`, `-euxc`): the next word is the script.
fn is_script_flag(word: &str) -> bool {
    word.strip_prefix('-')
        .is_some_and(|letters| letters.contains('c') && letters.chars().all(|c| c.is_ascii_alphabetic()))
}

/// The text of a string literal without interpolations.
fn plain_word(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Str(literal) => literal.as_plain(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_of_a_shell_follows_c_alone_or_among_other_options() {
        for (word, is_flag) in [
            ("-c", true),
            ("-ec", true),
            ("-lc", true),
            ("-euxc", true),
            ("-e", false),
            ("--context=dir:///work/src", false),
            ("-c1", false),
            ("c", false),
        ] {
            assert_eq!(is_script_flag(word), is_flag, "{word}");
        }
    }

    #[test]
    fn outputs_are_files_under_work_or_tmp_that_no_dotdot_leaves() {
        for (path, ok) in [
            ("/work/digest", true),
            ("/tmp/out/version", true),
            ("/work/src/../digest", false),
            ("/work/..", false),
            ("/work/", false),
            ("/version", false),
            ("/workspace/digest", false),
        ] {
            assert_eq!(is_output_path(path), ok, "{path}");
        }
    }
}
