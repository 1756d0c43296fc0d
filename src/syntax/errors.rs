//! Syntax errors in words: pest's failure report turned into a diagnostic that says what was expected
//! and what was found, never a grammar rule name.

use std::collections::BTreeSet;

use pest::error::{Error, ErrorVariant, InputLocation};

use super::grammar::Rule;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::{SourceId, Span};

/// How a rule is named in an error, or `None` for rules users never need to hear about (the
/// alternatives they stand for are named instead). There is deliberately no catch-all arm: a new rule
/// does not compile until it has words.
pub fn rule_description(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        // Silent and structural rules: pest reports the alternatives inside them instead.
        Rule::WHITESPACE
        | Rule::comment
        | Rule::declaration
        | Rule::service_item
        | Rule::release_item
        | Rule::analysis_item
        | Rule::canary_step
        | Rule::pipeline_item
        | Rule::task_tail
        | Rule::guard_atom
        | Rule::params
        | Rule::condition_atom
        | Rule::atom
        | Rule::numeric
        | Rule::decimal
        | Rule::unit_suffix
        | Rule::identifier
        | Rule::ident_char
        | Rule::ident_chars
        | Rule::keyword => return None,
        Rule::file => "a declaration (`import`, `platform`, `service`, `metric`, `step`, `environment` or `check`)",
        Rule::import_names => "`{` and the names to import",
        Rule::import_alias => "a module alias such as `ci`",
        Rule::private | Rule::kw_private => "`private`",
        Rule::check_def => "`check`",
        Rule::check_name => "a check name",
        Rule::kw_as => "`as`",
        Rule::kw_from => "`from`",
        Rule::import_decl => "`import`",
        Rule::platform_decl => "`platform`",
        Rule::service_decl => "`service`",
        Rule::release_decl => "`release`",
        Rule::before_promotion => "`before_promotion`",
        Rule::after_promotion => "`after_promotion`",
        Rule::check_decl => "`check`",
        Rule::rollback_decl => "`rollback`",
        Rule::measurement | Rule::measure_option | Rule::measure_key => {
            "a measurement option (`every`, `samples`, `tolerate`, `inconclusive`, `consecutive_errors` or `initial_delay`)"
        }
        Rule::observe_decl => "`observe`",
        Rule::named_analysis => "`analysis`",
        Rule::background => "`background`",
        Rule::steps_block => "`steps`",
        Rule::weight_step => "`weight`",
        Rule::pause_step => "`pause`",
        Rule::analyze_step => "`analyze`",
        Rule::scaled_call => "a factor such as `1.5 * error_rate(checkout, version: stable)`",
        Rule::metric_decl => "`metric`",
        Rule::step_decl => "`step`",
        Rule::environment_decl => "`environment`",
        Rule::pipeline_decl => "`pipeline`",
        Rule::trigger => "`on`",
        Rule::step_use => "`step`",
        Rule::deploy_task => "`deploy`",
        Rule::approve_task => "`approve`",
        Rule::pipeline_check => "`check`",
        Rule::after_clause => "`after`",
        Rule::when_clause => "`when`",
        Rule::guard | Rule::guard_conj => "a condition such as `event.branch == \"main\"`",
        Rule::guard_test => "a test such as `event.branch == \"main\"`",
        Rule::equality_op => "`==` or `!=`",
        Rule::param => "a parameter",
        Rule::field => "a field",
        Rule::condition | Rule::conjunction => "a condition",
        Rule::comparison => "a comparison such as `error_rate(checkout) > 1%`",
        Rule::comparison_op => "a comparison operator (`>`, `>=`, `<` or `<=`)",
        Rule::value => "a value",
        Rule::range_end => "a number after `..`",
        Rule::call => "a call such as `http_get(\"/healthz\")`",
        Rule::argument => "an argument",
        Rule::object => "`{`",
        Rule::entry => "an entry `key: value`",
        Rule::list => "`[`",
        Rule::path => "a name",
        Rule::quantity => "a number with a unit",
        Rule::number => "a number",
        Rule::boolean => "`true` or `false`",
        Rule::string | Rule::triple_string | Rule::plain_string => "a string",
        Rule::name => "a name",
        Rule::service_name => "a service name",
        Rule::strategy_name => "a release strategy such as `blue_green`",
        Rule::metric_name => "a metric name",
        Rule::step_name => "a step name",
        Rule::environment_name => "an environment name",
        Rule::unit_name => "a unit such as `ratio`, `seconds` or `count`",
        Rule::provider_name => "a provider such as `prometheus`",
        Rule::param_name => "a parameter name",
        Rule::type_name => "a type such as `service`, `string`, `float`, `int` or `duration`",
        Rule::field_name => "a field name",
        Rule::entry_key => "a key",
        Rule::argument_name => "an argument name",
        Rule::kw_import => "`import`",
        Rule::kw_step => "`step`",
        Rule::kw_environment => "`environment`",
        Rule::kw_pipeline => "`pipeline`",
        Rule::kw_on => "`on`",
        Rule::kw_deploy => "`deploy`",
        Rule::kw_to => "`to`",
        Rule::kw_approve => "`approve`",
        Rule::kw_after => "`after`",
        Rule::kw_platform => "`platform`",
        Rule::kw_service => "`service`",
        Rule::kw_metric => "`metric`",
        Rule::kw_release => "`release`",
        Rule::kw_before_promotion => "`before_promotion`",
        Rule::kw_after_promotion => "`after_promotion`",
        Rule::kw_check => "`check`",
        Rule::kw_rollback => "`rollback`",
        Rule::kw_when => "`when`",
        Rule::kw_every => "`every`",
        Rule::kw_samples => "`samples`",
        Rule::kw_tolerate => "`tolerate`",
        Rule::kw_inconclusive => "`inconclusive`",
        Rule::kw_consecutive_errors => "`consecutive_errors`",
        Rule::kw_initial_delay => "`initial_delay`",
        Rule::kw_observe => "`observe`",
        Rule::kw_steps => "`steps`",
        Rule::kw_weight => "`weight`",
        Rule::kw_pause => "`pause`",
        Rule::kw_analyze => "`analyze`",
        Rule::kw_analysis => "`analysis`",
        Rule::kw_background => "`background`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::eq => "`=`",
        Rule::colon => "`:`",
        Rule::comma => "`,`",
        Rule::dot => "`.`",
        Rule::dotdot => "`..`",
        Rule::star => "`*`",
    })
}

/// Turns a pest error from parsing `chunk` (which starts at byte `offset` of its file) into a
/// diagnostic that points at the offending token.
pub fn syntax_error(
    error: &Error<Rule>,
    chunk: &str,
    offset: usize,
    source: SourceId,
    is_last_chunk: bool,
) -> Diagnostic {
    let at = match error.location {
        InputLocation::Pos(pos) => pos,
        InputLocation::Span((start, _)) => start,
    };
    let expected = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives
            .iter()
            .filter_map(|rule| rule_description(*rule))
            .collect::<BTreeSet<_>>(),
        ErrorVariant::CustomError { message } => {
            let start = (offset + at) as u32;
            return Diagnostic::new(
                Code::E0104,
                Span::new(source, start, start),
                "the parser gave up on this declaration",
            )
            .label(message.clone())
            .help("simplify or split the declaration");
        }
    };
    if let Some(diagnostic) = non_ascii_name(chunk, at, offset, source) {
        return diagnostic;
    }
    let (found, found_len) = found_token(chunk, at);
    // An error at the end of a chunk is really at the end of its last token: the next declaration
    // (or the end of the file) is where the parser noticed, not where the mistake is.
    let at = if found_len == 0 {
        end_of_last_token(chunk, at)
    } else {
        at
    };
    let start = (offset + at) as u32;
    let span = Span::new(source, start, start + found_len as u32);
    let expected = join_alternatives(&expected);
    let message = match (found_len, is_last_chunk) {
        (0, true) => format!("expected {expected}, found end of file"),
        (0, false) => format!("expected {expected} before the next declaration"),
        _ => format!("expected {expected}, found {found}"),
    };
    let diagnostic = Diagnostic::new(Code::E0101, span, message).label(format!("expected {expected}"));
    if found_len == 0 && expected.contains("`}`") {
        diagnostic.help("every `{` needs a matching `}`")
    } else {
        diagnostic
    }
}

/// A letter outside ASCII where the parser stopped is nearly always inside a name (`service café`):
/// say that names are ASCII rather than list what the grammar expected next.
fn non_ascii_name(chunk: &str, at: usize, offset: usize, source: SourceId) -> Option<Diagnostic> {
    let letter = chunk.get(at..)?.chars().next()?;
    if letter.is_ascii() || !letter.is_alphanumeric() {
        return None;
    }
    let is_name_char = |c: char| c.is_alphanumeric() || c == '_';
    let before = chunk.get(..at)?;
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_name_char(*c))
        .last()
        .map_or(at, |(idx, _)| idx);
    let end = chunk
        .get(at..)?
        .char_indices()
        .find(|(_, c)| !is_name_char(*c))
        .map_or(chunk.len(), |(idx, _)| at + idx);
    let word = chunk.get(start..end)?;
    Some(
        Diagnostic::new(
            Code::E0101,
            Span::new(source, (offset + start) as u32, (offset + end) as u32),
            format!("`{word}` is not a name: names are ASCII letters, digits and `_`"),
        )
        .label(format!("`{letter}` is not an ASCII letter"))
        .help("write the name in ASCII; strings (\"...\") may hold any text")
        .note("services and metrics name Kubernetes objects and Argo metrics, which allow only ASCII"),
    )
}

/// `a`, `a or b`, `a, b or c`.
fn join_alternatives(alternatives: &BTreeSet<&str>) -> String {
    let items: Vec<&str> = alternatives.iter().copied().collect();
    match items.as_slice() {
        [] => "something else".to_string(),
        [only] => (*only).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token at `at`, described for a message, and its length in bytes (0 at the end).
fn found_token(chunk: &str, at: usize) -> (String, usize) {
    let rest = chunk.get(at..).unwrap_or("");
    let trimmed_end = rest.trim_end();
    if trimmed_end.is_empty() {
        return (String::new(), 0);
    }
    let word_len = rest
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || *c == '.' || *c == '%'))
        .map_or(rest.len(), |(idx, _)| idx);
    if word_len > 0 {
        let word = rest.get(..word_len.min(40)).unwrap_or("");
        return (format!("`{word}`"), word_len);
    }
    match rest.chars().next() {
        Some('"') => ("a string".to_string(), 1),
        Some(c) if c.is_control() || c.is_whitespace() => (format!("`{}`", c.escape_default()), c.len_utf8()),
        Some(c) => (format!("`{c}`"), c.len_utf8()),
        None => (String::new(), 0),
    }
}

fn end_of_last_token(chunk: &str, at: usize) -> usize {
    let before = chunk.get(..at).unwrap_or(chunk);
    before.trim_end().len()
}

/// The line that stands for the syntax errors past the per-file cap.
pub fn report_more(source: SourceId, text: &str, n_more: usize, diagnostics: &mut crate::diagnostics::Diagnostics) {
    let end = text.len() as u32;
    diagnostics.push(
        Diagnostic::new(
            Code::E0101,
            Span::new(source, end, end),
            format!("and {n_more} more syntax errors in this file"),
        )
        .help("fix the errors above first; their causes often repeat"),
    );
}
