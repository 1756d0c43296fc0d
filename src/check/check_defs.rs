//! `check` definitions: named probes with parameters, used like the built-in `http_get` and `job`.
//!
//! A definition is checked once, whether or not anything uses it ([`CheckedDef`]): its name, its
//! parameters and their defaults, that every name its probe uses is a parameter, and then the probe
//! itself, twice: first with every parameter standing for any value of its type, which finds what is
//! wrong whatever a use passes (a `duration` parameter given as the path, a misspelled argument of
//! `http_get`), then with the defaults. A definition with errors makes its uses silent.
//!
//! A use binds its arguments to the parameters and checks their types, then substitutes them into the
//! probe: a bare parameter name becomes the argument itself, `${p}` in a string the argument's text.
//! The result is checked like a probe written inline, and every piece of it keeps the place it was
//! written, so a diagnostic points at the use's argument or at the definition, whichever it is about.

use super::Checker;
use super::args::ParamSpec;
use super::checks::{CHECK_KINDS, is_builtin};
use super::model::CheckKind;
use super::platform::Platform;
use super::steps::StepParamType;
use super::units;
use super::values::{FirstSeen, unknown_choice, unknown_parameter};
use crate::decimal::Decimal;
use crate::diagnostics::{Code, Diagnostic, Label, suggest};
use crate::names::{CheckDefId, ModuleId, Symbol, SymbolKind};
use crate::source::Span;
use crate::syntax::ast::{self, Arg, Call, Expr, ExprKind, Ident, Quantity, StrLit, StrPart, TextPiece};

/// A definition that checked clean.
#[derive(Debug)]
pub struct CheckedDef {
    /// The type of each parameter, in order.
    types: Vec<StepParamType>,
}

/// What a parameter stands for while a probe is substituted.
#[derive(Clone, Copy)]
enum Value<'e> {
    /// The argument of a use, or the parameter's default.
    Given(&'e Expr),
    /// Any value of the type, while the definition is checked on its own.
    Any(StepParamType),
}

impl Checker<'_> {
    /// Checks a definition once; `None` if it has errors.
    pub(super) fn check_definition(&mut self, decl: &ast::CheckDef) -> Option<CheckedDef> {
        let errors_before = self.error_count();
        if CHECK_KINDS.contains(&decl.name.name.as_str()) {
            self.report(
                Diagnostic::new(
                    Code::E0202,
                    decl.name.span,
                    format!("`{}` is the name of a built-in check", decl.name.name),
                )
                .label("a check definition cannot take it")
                .help("give the definition a name of its own"),
            );
        }
        let types = self.check_def_params(decl);
        self.check_def_references(decl);
        if !is_builtin(&decl.probe) {
            let probe = &decl.probe;
            self.report(
                unknown_choice(
                    Code::E0201,
                    probe.callee_span(),
                    &probe.callee_name(),
                    "check",
                    CHECK_KINDS,
                )
                .note("a check definition runs a built-in check, not another definition"),
            );
        }
        if self.error_count() > errors_before {
            return None;
        }
        let types: Vec<StepParamType> = types.into_iter().collect::<Option<_>>()?;
        let any: Vec<Value<'_>> = types.iter().map(|ty| Value::Any(*ty)).collect();
        self.builtin_check(&substitute(decl, &any), None);
        if self.error_count() == errors_before {
            let defaults: Vec<Value<'_>> = decl
                .params
                .iter()
                .zip(&types)
                .map(|(param, ty)| param.default.as_ref().map_or(Value::Any(*ty), Value::Given))
                .collect();
            self.builtin_check(&substitute(decl, &defaults), None);
        }
        (self.error_count() == errors_before).then_some(CheckedDef { types })
    }

    /// The type of each parameter, `None` where the parameter has an error.
    fn check_def_params(&mut self, decl: &ast::CheckDef) -> Vec<Option<StepParamType>> {
        let mut types = Vec::new();
        let mut seen = FirstSeen::default();
        for param in &decl.params {
            types.push(self.check_def_param(param, &mut seen));
        }
        types
    }

    fn check_def_param<'d>(&mut self, param: &'d ast::Param, seen: &mut FirstSeen<'d>) -> Option<StepParamType> {
        if let Some(first) = seen.repeat_of(&param.name.name, param.name.span) {
            self.report(
                Diagnostic::new(
                    Code::E0202,
                    param.name.span,
                    format!("the parameter `{}` is declared twice", param.name.name),
                )
                .label("declared again here")
                .secondary(first, "first declared here"),
            );
            return None;
        }
        let type_name = &param.type_name;
        let Some(ty) = StepParamType::parse(&type_name.name) else {
            let choices = StepParamType::ALL.map(|(name, _)| name);
            self.report(unknown_choice(
                Code::E0201,
                type_name.span,
                &type_name.name,
                "check parameter type",
                &choices,
            ));
            return None;
        };
        match &param.default {
            Some(default) if !self.is_of_type(default, ty, &param.name.name) => None,
            _ => Some(ty),
        }
    }

    /// Reports a value that is not of type `ty`, as parameter `param` takes it.
    fn is_of_type(&mut self, value: &Expr, ty: StepParamType, param: &str) -> bool {
        let what = format!("`{param}`");
        match ty {
            // Its text is checked where the probe uses it, which also decides whether it may
            // interpolate (a job's `image` may name `${platform.registry}`).
            StepParamType::String => self.string(value, &what).is_some(),
            _ => self.step_literal(value, ty, &what).is_some(),
        }
    }

    /// Every name the probe's arguments use, bare or in `${...}`, is a parameter.
    fn check_def_references(&mut self, decl: &ast::CheckDef) {
        for arg in &decl.probe.args {
            match &arg.value.kind {
                ExprKind::Path(path) => self.param_reference(decl, path, false),
                ExprKind::Str(literal) => {
                    for interpolation in literal.interpolations() {
                        self.param_reference(decl, &interpolation.path, true);
                    }
                }
                _ => {}
            }
        }
    }

    fn param_reference(&mut self, decl: &ast::CheckDef, path: &[Ident], interpolated: bool) {
        let Some(first) = path.first() else {
            return;
        };
        if !decl.params.iter().any(|param| param.name.name == first.name) {
            let names = decl.params.iter().map(|param| param.name.name.as_str());
            let help = suggest::help_for(&first.name, names).unwrap_or_else(|| {
                "a check definition sees only its parameters: add one for this value, and pass the value where the check is used".to_string()
            });
            self.report(unknown_parameter(first, &decl.name.name, help));
            return;
        }
        if let Some(field) = path.get(1) {
            let alone = if interpolated {
                format!("${{{}}}", first.name)
            } else {
                first.name.clone()
            };
            self.report(
                Diagnostic::new(
                    Code::E0302,
                    field.span,
                    format!("the parameter `{}` has no fields", first.name),
                )
                .label("no such field")
                .help(format!("write `{alone}`")),
            );
        }
    }

    /// A check that uses a definition: `checks.http_health(path: "/ready")`, written in `module`.
    /// `None` after reporting, or silently when the definition has errors of its own.
    pub(super) fn check_def_use(
        &mut self,
        probe: &Call,
        module: ModuleId,
        platform: Option<&Platform>,
    ) -> Option<CheckKind> {
        let program = self.program;
        let id = self.check_def_id(probe, module)?;
        let types = self.defs.check_defs.get(id.0)?.as_ref()?.types.clone();
        let decl = &program.check_def(id)?.decl;
        let name = probe.callee_name();
        let specs: Vec<ParamSpec<'_>> = decl
            .params
            .iter()
            .map(|param| ParamSpec {
                name: &param.name.name,
                required: param.default.is_none(),
            })
            .collect();
        let bound = self.bind_args(probe, &specs, &name)?;
        let mut values = Vec::new();
        let mut ok = true;
        for ((param, ty), arg) in decl.params.iter().zip(types).zip(bound) {
            match arg {
                Some(arg) => {
                    ok &= self.is_of_type(arg, ty, &param.name.name);
                    values.push(Value::Given(arg));
                }
                None => values.push(Value::Given(param.default.as_ref()?)),
            }
        }
        if !ok {
            return None;
        }
        let mark = self.diagnostics.len();
        let kind = self.builtin_check(&substitute(decl, &values), platform);
        // The definition checked clean on its own, so a problem in its text is one this use's
        // arguments bring out (`"/api/${p}"` given `p: "a b"`): say which use.
        for diagnostic in self.diagnostics.since_mut(mark) {
            if within(diagnostic.primary.span, decl.span) {
                diagnostic.secondary.push(Label {
                    span: probe.span,
                    message: format!("in this use of `{name}`"),
                });
            }
        }
        kind
    }

    /// The definition a check's probe names, after reporting when there is none.
    fn check_def_id(&mut self, probe: &Call, module: ModuleId) -> Option<CheckDefId> {
        let program = self.program;
        let span = probe.callee_span();
        match program.resolve(module, &probe.callee, span, SymbolKind::Check) {
            Ok(Symbol::Check(id)) => return Some(id),
            Ok(Symbol::Unparsed) => return None,
            // A private definition of an imported file, or a module alias that does not name one.
            Err(diagnostic) if diagnostic.code != Code::E0201 || probe.callee.len() > 1 => {
                self.report(*diagnostic);
                return None;
            }
            Ok(_) | Err(_) => {}
        }
        // An unknown single name: most often a built-in check misspelled, so they are suggested too.
        let name = probe.callee_name();
        let candidates = CHECK_KINDS
            .iter()
            .copied()
            .chain(program.scope(module).names_of(SymbolKind::Check));
        let help = suggest::help_for(&name, candidates).unwrap_or_else(|| {
            "declare it with `check name(parameters) = http_get(...)`, or import the file that declares it".to_string()
        });
        self.report(
            Diagnostic::new(Code::E0201, span, format!("unknown check `{name}`"))
                .label("expected `http_get`, `job` or a check definition")
                .help(help),
        );
        None
    }
}

/// The definition's probe with each parameter replaced by its value in `values`.
fn substitute(decl: &ast::CheckDef, values: &[Value<'_>]) -> Call {
    let substitution = Substitution {
        params: &decl.params,
        values,
    };
    Call {
        callee: decl.probe.callee.clone(),
        args: decl
            .probe
            .args
            .iter()
            .map(|arg| Arg {
                name: arg.name.clone(),
                value: substitution.expr(&arg.value),
                span: arg.span,
            })
            .collect(),
        span: decl.probe.span,
    }
}

/// Parameters and what they stand for.
struct Substitution<'s, 'e> {
    params: &'s [ast::Param],
    values: &'s [Value<'e>],
}

impl Substitution<'_, '_> {
    fn value_of(&self, name: &Ident) -> Option<Value<'_>> {
        let idx = self.params.iter().position(|param| param.name.name == name.name)?;
        self.values.get(idx).copied()
    }

    /// Built-in checks take scalars only, so a parameter can only be an argument's whole value or
    /// be interpolated in it; any other kind of value fails the definition's own check.
    fn expr(&self, expr: &Expr) -> Expr {
        match &expr.kind {
            ExprKind::Path(path) => match &**path {
                [name] => match self.value_of(name) {
                    Some(Value::Given(value)) => value.clone(),
                    Some(Value::Any(ty)) => any_value(ty, expr.span),
                    None => expr.clone(),
                },
                _ => expr.clone(),
            },
            ExprKind::Str(literal) => Expr {
                kind: ExprKind::Str(self.string(literal)),
                span: expr.span,
            },
            _ => expr.clone(),
        }
    }

    /// `literal` with each `${param}` replaced by the text of its value: a string's own pieces (so
    /// that its interpolations, such as `${platform.registry}`, and its places are kept), or a
    /// number, duration or boolean as written.
    fn string(&self, literal: &StrLit) -> StrLit {
        let mut parts = Vec::new();
        let mut malformed = literal.malformed;
        for part in &literal.parts {
            let value = match part {
                StrPart::Interpolation(interpolation) => {
                    interpolation.path.first().and_then(|name| self.value_of(name))
                }
                StrPart::Text(_) => None,
            };
            match value {
                Some(Value::Given(value)) => match &value.kind {
                    ExprKind::Str(text) => {
                        parts.extend(text.parts.iter().cloned());
                        malformed |= text.malformed;
                    }
                    _ => match written_text(value) {
                        Some(text) => parts.push(StrPart::Text(TextPiece {
                            text,
                            anchors: Box::new([(0, value.span.start)]),
                            source: value.span.source,
                        })),
                        None => malformed = true,
                    },
                },
                // The text is not known yet: checks leave a malformed string alone, except for what
                // its own pieces say.
                Some(Value::Any(_)) => {
                    parts.push(part.clone());
                    malformed = true;
                }
                None => parts.push(part.clone()),
            }
        }
        StrLit {
            parts: parts.into_boxed_slice(),
            span: literal.span,
            malformed,
        }
    }
}

/// A value of type `ty` standing for the arguments of uses not seen yet, at `span`. The text of a
/// string is unknown, so it is malformed, which the checks pass over; each other type has a value
/// that whatever accepts the type accepts, so that only a value of the wrong type is reported.
fn any_value(ty: StepParamType, span: Span) -> Expr {
    let kind = match ty {
        StepParamType::String => ExprKind::Str(StrLit {
            parts: Box::default(),
            span,
            malformed: true,
        }),
        // `expect` without `json_path` is a status, which only 200 can be.
        StepParamType::Int => ExprKind::Number(Decimal::from_int(200)),
        // A job's `timeout` is whole seconds and not zero.
        StepParamType::Duration => ExprKind::Quantity(Quantity {
            parts: Box::new([(Decimal::from_int(1), "s".to_string())]),
        }),
        StepParamType::Bool => ExprKind::Bool(true),
    };
    Expr { kind, span }
}

/// A number, duration or boolean as it was written.
fn written_text(value: &Expr) -> Option<String> {
    match &value.kind {
        ExprKind::Bool(flag) => Some(flag.to_string()),
        _ => units::literal_text(value),
    }
}

/// True when `inner` lies inside `outer`.
fn within(inner: Span, outer: Span) -> bool {
    inner.source == outer.source && outer.start <= inner.start && inner.end <= outer.end
}

#[cfg(test)]
mod tests {
    use crate::MemoryLoader;
    use crate::check::model::{CheckKind, Release};
    use crate::diagnostics::Diagnostics;
    use crate::source::SourceMap;

    /// The script of the one check of `web` once `main.ship` declares `job_def` and the check is
    /// `use_`.
    fn job_script(job_def: &str, use_: &str) -> String {
        let text = format!(
            "platform {{ namespace = \"shop\" }}\n{job_def}\n\
             service web {{\n  image = \"registry.example.com/web:1.0.0\"\n  port = 8080\n  replicas = 2\n  \
             resources = {{ cpu: 100m, memory: 128Mi }}\n  readiness = http_get(\"/ready\")\n  \
             release blue_green {{\n    promote = manual\n    before_promotion {{\n      check smoke = {use_}\n    }}\n  }}\n}}\n"
        );
        let mut loader = MemoryLoader::new();
        loader.insert("main.ship", text);
        let mut sources = SourceMap::new();
        let mut diagnostics = Diagnostics::new();
        let program = crate::names::resolve(
            &["main.ship".to_string()],
            &loader,
            crate::names::StdlibParse::Whole,
            &mut sources,
            &mut diagnostics,
        );
        let model = crate::check::check(&program, &mut diagnostics);
        assert!(diagnostics.is_empty(), "{:?}", diagnostics.into_sorted(&sources));
        let Release::BlueGreen(release) = &model.services[0].release else {
            panic!("not blue/green");
        };
        match &release.before_promotion.checks[0].kind {
            CheckKind::Job { run, .. } => run.clone(),
            CheckKind::Http { .. } => panic!("not a job"),
        }
    }

    #[test]
    fn interpolated_arguments_are_pasted_as_written() {
        for (ty, argument, script) in [
            ("string", "\"a b\"", "echo a b!"),
            ("string", "\"\"", "echo !"),
            ("int", "42", "echo 42!"),
            ("duration", "1h30m", "echo 1h30m!"),
            ("bool", "false", "echo false!"),
        ] {
            let job_def = format!("check say(x: {ty}) = job(\"registry.example.com/say:1.0\", run: \"echo ${{x}}!\")");
            assert_eq!(
                job_script(&job_def, &format!("say({argument})")),
                script,
                "{ty} {argument}"
            );
        }
    }

    #[test]
    fn defaults_fill_what_a_use_leaves_out() {
        let job_def = "check say(a: string = \"one\", b: int = 2) = job(\"registry.example.com/say:1.0\", run: \"echo ${a} ${b}\")";
        for (use_, script) in [
            ("say()", "echo one 2"),
            ("say(\"three\")", "echo three 2"),
            ("say(b: 4)", "echo one 4"),
        ] {
            assert_eq!(job_script(job_def, use_), script, "{use_}");
        }
    }
}
