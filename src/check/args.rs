//! Binding the arguments of a call to parameters, for built-in calls (`http_get`, `secret`, `cpu`,
//! `auto`) and metric calls alike.

use std::collections::BTreeMap;

use super::Checker;
use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::syntax::ast::{Call, Expr};

/// One parameter of a callable.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec<'n> {
    /// Its name, for named arguments and messages.
    pub name: &'n str,
    /// Whether a call must pass it (it has no default).
    pub required: bool,
}

impl<'n> ParamSpec<'n> {
    /// A parameter every call must pass.
    pub const fn required(name: &'n str) -> ParamSpec<'n> {
        ParamSpec { name, required: true }
    }

    /// A parameter with a default.
    pub const fn optional(name: &'n str) -> ParamSpec<'n> {
        ParamSpec { name, required: false }
    }
}

impl Checker<'_> {
    /// Matches `call`'s arguments to `params`: positional arguments fill parameters in order, named ones
    /// by name. Returns one entry per parameter (`None` where it was not passed), or `None` when the
    /// arguments do not fit (after reporting every way in which they do not).
    pub fn bind_args<'e>(
        &mut self,
        call: &'e Call,
        params: &[ParamSpec<'_>],
        callee: &str,
    ) -> Option<Vec<Option<&'e Expr>>> {
        let mut bound: Vec<Option<&'e Expr>> = vec![None; params.len()];
        let positions: BTreeMap<&str, usize> = params.iter().enumerate().map(|(idx, p)| (p.name, idx)).collect();
        let mut ok = true;
        let mut n_positional = 0;
        // A misspelled name is the missing argument: saying it is missing too would repeat the error.
        let mut unknown_names = 0;
        for arg in &call.args {
            let slot = match &arg.name {
                None => {
                    n_positional += 1;
                    if n_positional > params.len() {
                        self.report(
                            Diagnostic::new(
                                Code::E0213,
                                arg.span,
                                format!("`{callee}` takes {} argument{}", params.len(), plural(params.len())),
                            )
                            .label("one too many")
                            .help(signature_help(callee, params)),
                        );
                        ok = false;
                        continue;
                    }
                    n_positional - 1
                }
                Some(name) => match positions.get(name.name.as_str()) {
                    Some(idx) => *idx,
                    None => {
                        let help = suggest::help_for(&name.name, params.iter().map(|p| p.name))
                            .unwrap_or_else(|| signature_help(callee, params));
                        self.report(
                            Diagnostic::new(
                                Code::E0211,
                                name.span,
                                format!("`{callee}` has no parameter `{}`", name.name),
                            )
                            .label("unknown parameter")
                            .help(help),
                        );
                        ok = false;
                        unknown_names += 1;
                        continue;
                    }
                },
            };
            match bound.get_mut(slot) {
                Some(entry @ None) => *entry = Some(&arg.value),
                Some(Some(first)) => {
                    let first_span = first.span;
                    let name = params.get(slot).map_or("", |p| p.name);
                    self.report(
                        Diagnostic::new(Code::E0209, arg.span, format!("`{name}` is passed twice"))
                            .label("passed again here")
                            .secondary(first_span, "first passed here"),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        for (param, value) in params.iter().zip(&bound) {
            if param.required && value.is_none() && unknown_names == 0 {
                self.report(
                    Diagnostic::new(
                        Code::E0212,
                        call.span,
                        format!("`{callee}` needs the argument `{}`", param.name),
                    )
                    .label(format!("`{}` is missing", param.name))
                    .help(signature_help(callee, params)),
                );
                ok = false;
            }
        }
        ok.then_some(bound)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `the parameters of `f` are `a` and `b` (optional)`
fn signature_help(callee: &str, params: &[ParamSpec<'_>]) -> String {
    if params.is_empty() {
        return format!("`{callee}` takes no arguments");
    }
    let listed: Vec<String> = params
        .iter()
        .map(|p| {
            if p.required {
                format!("`{}`", p.name)
            } else {
                format!("`{}` (optional)", p.name)
            }
        })
        .collect();
    format!("the parameters of `{callee}` are {}", listed.join(", "))
}
