//! `shipc doc`: the reference documentation of modules, in Markdown.
//!
//! Input: a [`Program`] that checked without errors, its sources, and the modules to document. Output:
//! per module its import path, its description, how to import it, then every definition it exports
//! (steps, metrics, checks, environments, each kind in source order) with its signature as written and
//! its doc comment. Private definitions and services are not part of what a module offers, so they are
//! left out. The text is rendered from `templates/reference.md.hbs`; it depends only on the sources,
//! ends with one line break and has no trailing spaces.

pub mod comments;
mod markdown;

use handlebars::{Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason};
use serde::Serialize;

use crate::names::{ModuleId, Program};
use crate::source::{SourceMap, Span};
use crate::syntax::ast::{CheckDef, Environment, ExprKind, Field, Ident, Metric, Param, StepDef};

const REFERENCE_TEMPLATE: &str = include_str!("templates/reference.md.hbs");

#[derive(Serialize)]
struct Reference {
    modules: Vec<ModulePage>,
}

#[derive(Serialize)]
struct ModulePage {
    path: String,
    description: String,
    /// A line of `.ship` that imports the module.
    import: String,
    items: Vec<ItemPage>,
}

#[derive(Serialize)]
struct ItemPage {
    name: String,
    /// The declaration's head: keyword, name, parameters and, for a metric, its unit.
    signature: String,
    facts: Vec<Fact>,
    doc: String,
}

/// What a user of a definition needs besides its signature, one list line each: a step's image and
/// outputs, a metric's provider, a check's probe, an environment's settings.
#[derive(Serialize)]
struct Fact {
    label: &'static str,
    /// What the fact is about, when the label does not say it alone: an output's name.
    name: Option<String>,
    /// Source text, as written.
    value: String,
}

/// The reference documentation of `modules`, in that order. Fails only when a template is broken,
/// which is a bug in shipc.
pub fn render(program: &Program, sources: &SourceMap, modules: &[ModuleId]) -> Result<String, String> {
    let reference = Reference {
        modules: modules
            .iter()
            .filter_map(|module| module_page(program, sources, *module))
            .collect(),
    };
    let mut templates = Handlebars::new();
    templates.set_strict_mode(true);
    templates.register_escape_fn(markdown::escape);
    templates.register_helper("code", Box::new(code_helper));
    templates.register_helper("code_block", Box::new(code_block_helper));
    templates
        .register_template_string("reference", REFERENCE_TEMPLATE)
        .map_err(|error| error.to_string())?;
    templates
        .render("reference", &reference)
        .map_err(|error| error.to_string())
}

fn module_page(program: &Program, sources: &SourceMap, module: ModuleId) -> Option<ModulePage> {
    let info = program.modules.get(module.0)?;
    let text = sources.file(info.source).text();
    let exported = |declared_in: ModuleId, private: bool| declared_in == module && !private;
    let steps = program.steps.iter().filter(|s| exported(s.module, s.decl.private));
    let metrics = program.metrics.iter().filter(|m| exported(m.module, m.decl.private));
    let checks = program.checks.iter().filter(|c| exported(c.module, c.decl.private));
    let environments = program
        .environments
        .iter()
        .filter(|e| exported(e.module, e.decl.private));
    let items = steps
        .map(|step| step_page(&step.decl, text))
        .chain(metrics.map(|metric| metric_page(&metric.decl, text)))
        .chain(checks.map(|check| check_page(&check.decl, text)))
        .chain(environments.map(|environment| environment_page(&environment.decl, text)))
        .collect();
    Some(ModulePage {
        path: info.path.clone(),
        description: comments::module_description(text),
        import: import_line(&info.path),
        items,
    })
}

fn step_page(step: &StepDef, text: &str) -> ItemPage {
    let mut facts = Vec::new();
    for field in &step.fields {
        match (field.name.name.as_str(), &field.value.kind) {
            ("image", _) => facts.push(field_fact("image", field, text)),
            ("outputs", ExprKind::Object(entries)) => facts.extend(entries.iter().map(|entry| Fact {
                label: "output",
                name: Some(entry.key.name.clone()),
                value: source_text(text, entry.value.span),
            })),
            _ => {}
        }
    }
    let signature = format!("step {}", head(&step.name, &step.params, text));
    item_page(&step.name, signature, facts, text, step.span)
}

fn metric_page(metric: &Metric, text: &str) -> ItemPage {
    let signature = format!(
        "metric {} : {}",
        head(&metric.name, &metric.params, text),
        metric.unit.name
    );
    let provider = Fact {
        label: "provider",
        name: None,
        value: metric.provider.name.clone(),
    };
    item_page(&metric.name, signature, vec![provider], text, metric.span)
}

fn check_page(check: &CheckDef, text: &str) -> ItemPage {
    let signature = format!("check {}", head(&check.name, &check.params, text));
    let probe = Fact {
        label: "probe",
        name: None,
        value: check.probe.callee_name(),
    };
    item_page(&check.name, signature, vec![probe], text, check.span)
}

fn environment_page(environment: &Environment, text: &str) -> ItemPage {
    let facts = environment
        .fields
        .iter()
        .filter_map(|field| match field.name.name.as_str() {
            "namespace" => Some(field_fact("namespace", field, text)),
            "replicas" => Some(field_fact("replicas", field, text)),
            _ => None,
        })
        .collect();
    let signature = format!("environment {}", environment.name.name);
    item_page(&environment.name, signature, facts, text, environment.span)
}

fn item_page(name: &Ident, signature: String, facts: Vec<Fact>, text: &str, span: Span) -> ItemPage {
    ItemPage {
        name: name.name.clone(),
        signature,
        facts,
        doc: comments::doc_comment(text, span.start as usize),
    }
}

fn field_fact(label: &'static str, field: &Field, text: &str) -> Fact {
    Fact {
        label,
        name: None,
        value: source_text(text, field.value.span),
    }
}

/// `name(a: string, b: duration = 5m)`, each default as written.
fn head(name: &Ident, params: &[Param], text: &str) -> String {
    let params: Vec<String> = params
        .iter()
        .map(|param| match &param.default {
            Some(default) => format!(
                "{}: {} = {}",
                param.name.name,
                param.type_name.name,
                source_text(text, default.span)
            ),
            None => format!("{}: {}", param.name.name, param.type_name.name),
        })
        .collect();
    format!("{}({})", name.name, params.join(", "))
}

/// A standard library module is imported by its path, under its last segment; a project file by a
/// path relative to the importing file, shown as seen from the project root.
fn import_line(path: &str) -> String {
    match path.strip_prefix("std/") {
        Some(name) => format!("import \"{path}\" as {name}"),
        None => format!(
            "import \"./{}\" // from a file at the project root",
            path.strip_suffix(".ship").unwrap_or(path)
        ),
    }
}

fn source_text(text: &str, span: Span) -> String {
    text.get(span.start as usize..span.end as usize)
        .unwrap_or_default()
        .to_string()
}

/// `{{code value}}`: an inline code span. Written straight to the output, past the escape function,
/// which is for plain text.
fn code_helper(
    helper: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    out.write(&markdown::code_span(string_param(helper, "code", 0)?))?;
    Ok(())
}

/// `{{code_block "ship" value}}`: a fenced code block.
fn code_block_helper(
    helper: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let language = string_param(helper, "code_block", 0)?;
    out.write(&markdown::code_block(language, string_param(helper, "code_block", 1)?))?;
    Ok(())
}

fn string_param<'a>(helper: &'a Helper<'_>, name: &'static str, idx: usize) -> Result<&'a str, RenderErrorReason> {
    helper
        .param(idx)
        .and_then(|param| param.value().as_str())
        .ok_or(RenderErrorReason::ParamNotFoundForIndex(name, idx))
}
