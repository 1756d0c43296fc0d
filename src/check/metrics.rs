//! `metric` declarations and the calls that use them.
//!
//! A declaration is checked once ([`Signature`]): its unit, provider, parameter types and defaults, and
//! that every `${...}` in its query names a parameter. A call binds typed arguments ([`ArgValue`]) and
//! renders the query with them; string values are escaped for a PromQL string, so that no argument can
//! change the shape of the query.

use std::collections::{BTreeMap, BTreeSet};

use super::Checker;
use super::args::ParamSpec;
use super::model::{NAMESPACE_PLACEHOLDER, Version};
use super::units::{Duration, MetricUnit};
use super::values::{FirstSeen, unknown_choice, unknown_parameter};
use crate::decimal::Decimal;
use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::names::{MetricId, ModuleId, Symbol, SymbolKind};
use crate::source::Span;
use crate::syntax::ast::{self, Call, Expr, ExprKind, StrPart};

/// The providers a metric can be measured with.
const PROVIDERS: &[&str] = &["prometheus"];

/// A parameter's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// A service declared in the project; interpolated as `${p.name}` or `${p.namespace}`.
    Service,
    /// Text, escaped for a PromQL string.
    String,
    /// A whole number.
    Int,
    /// A number.
    Float,
    /// A duration, interpolated as a PromQL duration (`5m`).
    Duration,
    /// `new` or `stable`: which version's pods to measure, interpolated as the pod template hash
    /// Argo passes in when the analysis runs.
    Version,
}

impl ParamType {
    const ALL: [(&'static str, ParamType); 6] = [
        ("service", ParamType::Service),
        ("string", ParamType::String),
        ("int", ParamType::Int),
        ("float", ParamType::Float),
        ("duration", ParamType::Duration),
        ("version", ParamType::Version),
    ];

    fn parse(name: &str) -> Option<ParamType> {
        ParamType::ALL.iter().find(|(n, _)| *n == name).map(|(_, ty)| *ty)
    }

    fn describe(self) -> &'static str {
        match self {
            ParamType::Service => "a service",
            ParamType::String => "a string",
            ParamType::Int => "a whole number",
            ParamType::Float => "a number",
            ParamType::Duration => "a duration",
            ParamType::Version => "a version (`new` or `stable`)",
        }
    }
}

/// The fields of a `service` parameter that a query may interpolate.
const SERVICE_PARAM_FIELDS: &[&str] = &["name", "namespace"];

/// A typed argument value. Two calls with equal arguments measure the same thing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgValue {
    /// A service, by name and namespace.
    Service {
        /// Its name.
        name: String,
        /// Its namespace.
        namespace: String,
    },
    /// A string.
    Str(String),
    /// A number (whole for `int` parameters).
    Number(Decimal),
    /// A duration.
    Duration(Duration),
    /// A version of the service.
    Version(Version),
}

/// A checked metric declaration.
#[derive(Debug)]
pub struct Signature {
    /// Its unit.
    pub unit: MetricUnit,
    /// Its parameters, in order.
    pub params: Vec<ParamSig>,
}

/// A checked parameter.
#[derive(Debug)]
pub struct ParamSig {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: ParamType,
    /// Its default value, if any.
    pub default: Option<ArgValue>,
}

impl Checker<'_> {
    /// Checks a metric declaration once; `None` if it has errors.
    pub(super) fn metric_signature(&mut self, decl: &ast::Metric) -> Option<Signature> {
        let errors_before = self.error_count();
        let unit = MetricUnit::parse(&decl.unit.name);
        if unit.is_none() {
            let units = MetricUnit::ALL.map(|(name, _)| name);
            self.report(unknown_choice(
                Code::E0306,
                decl.unit.span,
                &decl.unit.name,
                "metric unit",
                &units,
            ));
        }
        if !PROVIDERS.contains(&decl.provider.name.as_str()) {
            let provider = &decl.provider;
            self.report(unknown_choice(
                Code::E0201,
                provider.span,
                &provider.name,
                "metric provider",
                PROVIDERS,
            ));
        }
        let params = self.params(&decl.params);
        self.check_query(decl, &params);
        if self.error_count() == errors_before {
            self.check_promql(decl, &params);
        }
        if self.error_count() > errors_before {
            return None;
        }
        Some(Signature { unit: unit?, params })
    }

    fn params(&mut self, params: &[ast::Param]) -> Vec<ParamSig> {
        let mut checked: Vec<ParamSig> = Vec::new();
        let mut seen = FirstSeen::default();
        for param in params {
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
                continue;
            }
            let Some(ty) = ParamType::parse(&param.type_name.name) else {
                let types = ParamType::ALL.map(|(name, _)| name);
                let type_name = &param.type_name;
                self.report(unknown_choice(
                    Code::E0201,
                    type_name.span,
                    &type_name.name,
                    "parameter type",
                    &types,
                ));
                continue;
            };
            let default = match (&param.default, ty) {
                (None, _) => None,
                (Some(expr), ParamType::Service) => {
                    self.report(
                        Diagnostic::new(Code::E0302, expr.span, "a `service` parameter cannot have a default")
                            .label("remove this default")
                            .help("pass the service at each use, e.g. `error_rate(checkout)`"),
                    );
                    continue;
                }
                (Some(expr), ty) => match self.scalar_arg(expr, ty, &param.name.name) {
                    Some(value) => Some(value),
                    None => continue,
                },
            };
            checked.push(ParamSig {
                name: param.name.name.clone(),
                ty,
                default,
            });
        }
        checked
    }

    /// Every interpolation in the query names a parameter, with a field exactly for services.
    fn check_query(&mut self, decl: &ast::Metric, params: &[ParamSig]) {
        self.reject_argo_templates(&decl.query, "the query");
        if decl
            .query
            .parts
            .iter()
            .all(|part| matches!(part, StrPart::Text(piece) if piece.text.trim().is_empty()))
        {
            self.report(
                Diagnostic::new(
                    Code::E0305,
                    decl.query.span,
                    format!("the query of `{}` is empty", decl.name.name),
                )
                .label("nothing to measure"),
            );
        }
        let checked: BTreeMap<&str, &ParamSig> = params.iter().map(|p| (p.name.as_str(), p)).collect();
        let declared: BTreeSet<&str> = decl.params.iter().map(|p| p.name.name.as_str()).collect();
        for interpolation in decl.query.interpolations() {
            let Some(first) = interpolation.path.first() else {
                continue;
            };
            let Some(param) = checked.get(first.name.as_str()) else {
                // A parameter that failed its own check is not reported again here.
                if declared.contains(first.name.as_str()) {
                    continue;
                }
                let help =
                    suggest::help_for(&first.name, params.iter().map(|p| p.name.as_str())).unwrap_or_else(|| {
                        format!(
                            "declare it among the parameters of `{}`, e.g. `{}: string`",
                            decl.name.name, first.name
                        )
                    });
                self.report(unknown_parameter(first, &decl.name.name, help));
                continue;
            };
            let fields: Vec<&ast::Ident> = interpolation.path.iter().skip(1).collect();
            match (param.ty, fields.as_slice()) {
                (ParamType::Service, [field]) if SERVICE_PARAM_FIELDS.contains(&field.name.as_str()) => {}
                (ParamType::Service, [field, ..]) => {
                    self.report(unknown_choice(
                        Code::E0211,
                        field.span,
                        &field.name,
                        "service field",
                        SERVICE_PARAM_FIELDS,
                    ));
                }
                (ParamType::Service, []) => self.report(
                    Diagnostic::new(
                        Code::E0302,
                        interpolation.span,
                        format!("`{}` is a service, not text", param.name),
                    )
                    .label("which of its names?")
                    .help(format!("write `${{{0}.name}}` or `${{{0}.namespace}}`", param.name)),
                ),
                (_, []) => {}
                (ty, [field, ..]) => self.report(
                    Diagnostic::new(
                        Code::E0302,
                        field.span,
                        format!("`{}` is {} and has no fields", param.name, ty.describe()),
                    )
                    .label("no such field")
                    .help(format!("write `${{{}}}`", param.name)),
                ),
            }
        }
    }

    /// Reads a non-service argument of type `ty`.
    fn scalar_arg(&mut self, expr: &Expr, ty: ParamType, param: &str) -> Option<ArgValue> {
        let what = format!("`{param}`");
        match ty {
            ParamType::String => self.plain_string(expr, &what).map(ArgValue::Str),
            ParamType::Int => match &expr.kind {
                ExprKind::Number(number) if number.is_integer() => Some(ArgValue::Number(*number)),
                _ => {
                    self.mismatch(expr, &what, "a whole number");
                    None
                }
            },
            ParamType::Float => match &expr.kind {
                ExprKind::Number(number) => Some(ArgValue::Number(*number)),
                _ => {
                    self.mismatch(expr, &what, "a number");
                    None
                }
            },
            ParamType::Duration => self.duration(expr, &what).map(ArgValue::Duration),
            ParamType::Version => match &expr.kind {
                ExprKind::Path(path) if path.len() == 1 => match ast::join_path(path).as_str() {
                    "new" => Some(ArgValue::Version(Version::New)),
                    "stable" => Some(ArgValue::Version(Version::Stable)),
                    other => {
                        self.report(unknown_choice(
                            Code::E0201,
                            expr.span,
                            other,
                            "version",
                            &["new", "stable"],
                        ));
                        None
                    }
                },
                _ => {
                    self.mismatch(expr, &what, "`new` or `stable`");
                    None
                }
            },
            ParamType::Service => None,
        }
    }

    /// Resolves a metric call in `module`: the metric, its signature and its bound argument values.
    /// `None` after reporting, or silently when the metric itself had errors.
    pub(super) fn metric_call(&mut self, call: &Call, module: ModuleId) -> Option<(MetricId, Vec<ArgValue>)> {
        let program = self.program;
        let name = call.callee_name();
        let span = call.callee_span();
        let id = match program.resolve(module, &call.callee, span, SymbolKind::Metric) {
            Ok(Symbol::Metric(id)) => id,
            Ok(Symbol::Unparsed) => return None,
            Ok(Symbol::Service(_)) => {
                self.report(
                    Diagnostic::new(
                        Code::E0302,
                        call.callee_span(),
                        format!("`{name}` is a service, not a metric"),
                    )
                    .label("a rollback condition compares a metric")
                    .help(format!("write e.g. `error_rate({name}) > 1%`")),
                );
                return None;
            }
            Ok(_) => {
                self.report(program.unknown(module, &call.callee, span, SymbolKind::Metric));
                return None;
            }
            Err(diagnostic) => {
                self.report(*diagnostic);
                return None;
            }
        };
        let signature = self.defs.metrics.get(id.0).and_then(Option::as_ref)?;
        let params: Vec<(String, ParamType, Option<ArgValue>)> = signature
            .params
            .iter()
            .map(|p| (p.name.clone(), p.ty, p.default.clone()))
            .collect();
        let specs: Vec<ParamSpec<'_>> = params
            .iter()
            .map(|(name, _, default)| ParamSpec {
                name,
                required: default.is_none(),
            })
            .collect();
        let bound = self.bind_args(call, &specs, &name)?;
        let mut values = Vec::new();
        let mut ok = true;
        for ((param, ty, default), arg) in params.into_iter().zip(bound) {
            let value = match (arg, ty) {
                (None, _) => default,
                (Some(expr), ParamType::Service) => self.service_arg(expr, module),
                (Some(expr), ty) => self.scalar_arg(expr, ty, &param),
            };
            match value {
                Some(value) => values.push(value),
                None => ok = false,
            }
        }
        ok.then_some((id, values))
    }

    fn service_arg(&mut self, expr: &Expr, module: ModuleId) -> Option<ArgValue> {
        let program = self.program;
        let ExprKind::Path(path) = &expr.kind else {
            self.mismatch(expr, "this argument", "a service name");
            return None;
        };
        let name = ast::join_path(path);
        let id = match program.resolve(module, path, expr.span, SymbolKind::Service) {
            Ok(Symbol::Service(id)) => id,
            Ok(Symbol::Unparsed) => return None,
            Ok(_) => {
                self.report(program.unknown(module, path, expr.span, SymbolKind::Service));
                return None;
            }
            Err(diagnostic) => {
                self.report(*diagnostic);
                return None;
            }
        };
        let declared = program.service(id)?;
        let namespace = if self.deployed_per_environment == Some(id) {
            NAMESPACE_PLACEHOLDER.to_string()
        } else {
            self.checked_platform(program.scope(declared.module).platform)?
                .namespace
                .clone()
        };
        Some(ArgValue::Service { name, namespace })
    }

    /// The query of metric `id` with `args` substituted.
    pub(super) fn render_query(&self, id: MetricId, args: &[ArgValue]) -> Option<String> {
        let decl = &self.program.metric(id)?.decl;
        let signature = self.defs.metrics.get(id.0)?.as_ref()?;
        let positions: BTreeMap<&str, usize> = signature
            .params
            .iter()
            .enumerate()
            .map(|(idx, p)| (p.name.as_str(), idx))
            .collect();
        let mut query = String::new();
        for part in &decl.query.parts {
            match part {
                StrPart::Text(piece) => query.push_str(&piece.text),
                StrPart::Interpolation(interpolation) => {
                    let first = interpolation.path.first()?;
                    let idx = *positions.get(first.name.as_str())?;
                    let field = interpolation.path.get(1).map(|f| f.name.as_str());
                    query.push_str(&interpolate(args.get(idx)?, field)?);
                }
            }
        }
        Some(query.trim().to_string())
    }

    /// The unit of metric `id`, and where it is declared.
    pub(super) fn metric_unit(&self, id: MetricId) -> Option<(MetricUnit, Span, &str)> {
        let decl = &self.program.metric(id)?.decl;
        let signature = self.defs.metrics.get(id.0)?.as_ref()?;
        Some((signature.unit, decl.unit.span, decl.name.name.as_str()))
    }
}

/// The text an argument contributes to a query.
fn interpolate(value: &ArgValue, field: Option<&str>) -> Option<String> {
    Some(match (value, field) {
        (ArgValue::Service { name, .. }, Some("name")) => escape_promql_string(name),
        (ArgValue::Service { namespace, .. }, Some("namespace")) => escape_promql_string(namespace),
        (ArgValue::Str(text), None) => escape_promql_string(text),
        (ArgValue::Number(number), None) => number.to_string(),
        (ArgValue::Duration(duration), None) => duration.to_go(),
        (ArgValue::Version(version), None) => version.placeholder().to_string(),
        _ => return None,
    })
}

/// Escapes text for the inside of a PromQL double-quoted string.
pub fn escape_promql_string(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_cannot_break_out_of_a_promql_string() {
        assert_eq!(
            escape_promql_string(r#"a"} or vector(1) #\"#),
            r#"a\"} or vector(1) #\\"#
        );
        assert_eq!(escape_promql_string("line\nbreak"), "line\\nbreak");
    }
}
