//! Which tokens share a line, with what spacing: the layout of code, without comments.

use super::{Gap, INDENT, MAX_WIDTH, Node};
use crate::syntax::grammar::Rule;

/// How a line relates to the lines around it, which decides the blank lines and comments around it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// The first line of a top-level declaration.
    Declaration {
        /// An `import`: consecutive imports may stay together.
        import: bool,
    },
    /// The first line of a block item or of an object entry.
    Item,
    /// A later line of an item: a rollback rule's measurement line, or a condition broken before `or`.
    Continuation,
    /// The `}` that closes a block or an object; comments before it are inside.
    Close,
}

/// One line of code.
pub(super) struct Line {
    pub indent: usize,
    /// The code; it holds line breaks only inside a `"""` string.
    pub text: String,
    /// The first and last token on the line (counting tokens that are dropped, like a trailing comma
    /// in a call), so that the comments between tokens can be given a line.
    pub tokens: (usize, usize),
    pub kind: Kind,
    /// Where padding goes to align this line's `=` (fields) or value (object entries) with its
    /// neighbours: the width of what comes before.
    pub align: Option<usize>,
}

/// The lines of `declarations`, or `None` if a node has a shape the printer does not know or a token
/// would be lost (neither can happen with the grammar as it is: refusing is the safe answer).
pub(super) fn lines(text: &str, gaps: &[Gap<'_>], declarations: &[Node]) -> Option<Vec<Line>> {
    let mut printer = Printer::new(text, gaps, false);
    for declaration in declarations {
        let import = declaration.rule == Rule::import_decl;
        printer.start_line(0, Kind::Declaration { import });
        printer.declaration(declaration);
    }
    printer.finish_line();
    let n_tokens = gaps.len().saturating_sub(1);
    (!printer.broken && printer.next_token == n_tokens).then_some(printer.lines)
}

/// The line being built.
struct Current {
    indent: usize,
    text: String,
    tokens: Option<(usize, usize)>,
    kind: Kind,
    align: Option<usize>,
}

struct Printer<'s> {
    text: &'s str,
    gaps: &'s [Gap<'s>],
    lines: Vec<Line>,
    current: Current,
    /// The token that must be printed next: tokens are printed once each, in source order.
    next_token: usize,
    /// Only measuring how wide a piece of code is on one line: every object stays flat, no line is
    /// started, and token order is not tracked.
    measuring: bool,
    broken: bool,
}

impl<'s> Printer<'s> {
    fn new(text: &'s str, gaps: &'s [Gap<'s>], measuring: bool) -> Printer<'s> {
        Printer {
            text,
            gaps,
            lines: Vec::new(),
            current: Current {
                indent: 0,
                text: String::new(),
                tokens: None,
                kind: Kind::Item,
                align: None,
            },
            next_token: 0,
            measuring,
            broken: false,
        }
    }

    fn start_line(&mut self, indent: usize, kind: Kind) {
        if self.measuring {
            self.broken = true;
            return;
        }
        self.finish_line();
        self.current.indent = indent;
        self.current.kind = kind;
    }

    fn finish_line(&mut self) {
        let text = std::mem::take(&mut self.current.text);
        let align = self.current.align.take();
        match self.current.tokens.take() {
            Some(tokens) => self.lines.push(Line {
                indent: self.current.indent,
                text,
                tokens,
                kind: self.current.kind,
                align,
            }),
            None if text.is_empty() => {}
            None => self.broken = true,
        }
    }

    /// Prints a token as written.
    fn token(&mut self, node: &Node) {
        match self.text.get(node.start..node.end) {
            Some(written) if node.token.is_some() => self.current.text.push_str(written),
            _ => self.broken = true,
        }
        self.count(node);
    }

    /// Leaves out a token (a trailing comma) but keeps its place for the comments around it.
    fn drop_token(&mut self, node: &Node) {
        self.count(node);
    }

    fn count(&mut self, node: &Node) {
        if self.measuring {
            return;
        }
        match node.token {
            Some(token) if token == self.next_token => {
                self.current.tokens = Some(match self.current.tokens {
                    Some((first, _)) => (first, token),
                    None => (token, token),
                });
                self.next_token = token + 1;
            }
            _ => self.broken = true,
        }
    }

    fn space(&mut self) {
        self.current.text.push(' ');
    }

    fn push(&mut self, text: &str) {
        self.current.text.push_str(text);
    }

    /// Whether `print` puts more than [`MAX_WIDTH`] columns on a line that starts at `indent`, when
    /// every object in it is written flat.
    fn too_wide(&self, indent: usize, print: impl FnOnce(&mut Printer<'s>)) -> bool {
        if self.measuring {
            return false;
        }
        let mut scratch = Printer::new(self.text, self.gaps, true);
        print(&mut scratch);
        width(indent, &scratch.current.text) > MAX_WIDTH
    }

    fn broken_if(&mut self, wrong: bool) {
        self.broken |= wrong;
    }

    fn declaration(&mut self, node: &Node) {
        match node.rule {
            Rule::import_decl => self.import(node),
            Rule::platform_decl | Rule::service_decl | Rule::environment_decl | Rule::step_decl => self.block(node),
            Rule::metric_decl | Rule::check_def => self.metric(node),
            _ => self.broken = true,
        }
    }

    /// Tokens separated by single spaces: `import "../platform"`, `private environment staging {`.
    fn words(&mut self, nodes: &[Node]) {
        for (idx, node) in nodes.iter().enumerate() {
            if idx > 0 {
                self.space();
            }
            if node.token.is_none() && !node.children.is_empty() {
                self.words(&node.children);
            } else {
                self.token(node);
            }
        }
    }

    /// `import "std/ci" as ci`, or `import { kaniko, trivy } from "std/ci"` on one line.
    fn import(&mut self, node: &Node) {
        for (idx, child) in node.children.iter().enumerate() {
            if idx > 0 {
                self.space();
            }
            if child.rule != Rule::import_names {
                self.token(child);
                continue;
            }
            let names = &child.children;
            for (idx, name) in names.iter().enumerate() {
                match name.rule {
                    Rule::comma => self.comma(names, idx),
                    Rule::lbrace => {
                        self.token(name);
                        self.space();
                    }
                    Rule::rbrace => {
                        self.space();
                        self.token(name);
                    }
                    _ => self.token(name),
                }
            }
        }
    }

    /// `keyword name {` (or a step's `step name(params) {`), one item per line, `}`; `keyword name {}`
    /// when there is nothing inside.
    fn block(&mut self, node: &Node) {
        let indent = self.current.indent;
        let children = &node.children;
        let (Some(open), Some(close)) = (
            children.iter().position(|child| child.rule == Rule::lbrace),
            children.last().filter(|child| child.rule == Rule::rbrace),
        ) else {
            self.broken = true;
            return;
        };
        let header = children.get(..=open).unwrap_or_default();
        if node.rule == Rule::step_decl {
            self.step_header(header);
        } else {
            self.words(header);
        }
        let items = children.get(open + 1..children.len() - 1).unwrap_or_default();
        if items.is_empty() && !self.comments_before(close) {
            self.token(close);
            return;
        }
        for item in items {
            self.start_line(indent + INDENT, Kind::Item);
            match item.rule {
                Rule::field => self.field(item),
                Rule::release_decl
                | Rule::before_promotion
                | Rule::after_promotion
                | Rule::named_analysis
                | Rule::background
                | Rule::steps_block
                | Rule::pipeline_decl => self.block(item),
                Rule::check_decl => self.check(item),
                Rule::trigger | Rule::step_use | Rule::deploy_task | Rule::approve_task | Rule::pipeline_check => {
                    self.task(item)
                }
                Rule::rollback_decl | Rule::observe_decl => self.rollback(item),
                Rule::weight_step | Rule::pause_step | Rule::analyze_step => self.step(item),
                _ => self.broken = true,
            }
        }
        self.start_line(indent, Kind::Close);
        self.token(close);
    }

    fn comments_before(&self, node: &Node) -> bool {
        node.token
            .and_then(|token| self.gaps.get(token))
            .is_some_and(|gap| !gap.comments.is_empty())
    }

    /// `name = value`.
    fn field(&mut self, node: &Node) {
        let [name, eq, value] = node.children.as_slice() else {
            self.broken = true;
            return;
        };
        let expand = self.too_wide(self.current.indent, |printer| printer.field(node));
        self.token(name);
        let before_eq = self.current.text.len();
        self.space();
        self.token(eq);
        self.space();
        let n_lines = self.lines.len();
        self.value(value, expand);
        if self.lines.len() == n_lines && !self.current.text.contains('\n') {
            self.current.align = Some(before_eq);
        }
    }

    /// `check name = call`.
    fn check(&mut self, node: &Node) {
        let [keyword, name, eq, call] = node.children.as_slice() else {
            self.broken = true;
            return;
        };
        let expand = self.too_wide(self.current.indent, |printer| printer.check(node));
        self.token(keyword);
        self.space();
        self.token(name);
        self.space();
        self.token(eq);
        self.space();
        self.bracketed(call, expand);
    }

    /// A pipeline's `on push(branch: "main")` or task, such as
    /// `step build = kaniko(context: ".") after test, lint when event.branch == "main"`: words separated
    /// by single spaces, on one line but for the entries of objects when the line is too wide.
    fn task(&mut self, node: &Node) {
        let expand = self.too_wide(self.current.indent, |printer| printer.task(node));
        for (idx, child) in node.children.iter().enumerate() {
            if idx > 0 {
                self.space();
            }
            match child.rule {
                Rule::call => self.bracketed(child, expand),
                Rule::path => self.path(child),
                Rule::after_clause => {
                    let names = &child.children;
                    for (idx, name) in names.iter().enumerate() {
                        match name.rule {
                            Rule::kw_after => {
                                self.token(name);
                                self.space();
                            }
                            Rule::comma => self.comma(names, idx),
                            _ => self.token(name),
                        }
                    }
                }
                Rule::when_clause => match child.children.as_slice() {
                    [keyword, guard] => {
                        self.token(keyword);
                        self.space();
                        self.condition(guard, expand);
                    }
                    _ => self.broken = true,
                },
                _ => self.token(child),
            }
        }
    }

    /// `weight 20%`, `pause 5m`, `pause`, `analyze slo`.
    fn step(&mut self, node: &Node) {
        for (idx, child) in node.children.iter().enumerate() {
            if idx > 0 {
                self.space();
            }
            match child.rule {
                Rule::value => self.value(child, false),
                _ => self.token(child),
            }
        }
    }

    /// `rollback when condition` (or `observe condition`), broken before each `or` of the condition
    /// when it does not fit, and the measurement on a line of its own.
    fn rollback(&mut self, node: &Node) {
        let indent = self.current.indent;
        let Some(at) = node.children.iter().position(|child| child.rule == Rule::condition) else {
            self.broken = true;
            return;
        };
        let (keywords, [condition, rest @ ..]) = node.children.split_at(at) else {
            self.broken = true;
            return;
        };
        let head = |printer: &mut Printer<'s>| {
            for keyword in keywords {
                printer.token(keyword);
                printer.space();
            }
        };
        let wide = self.too_wide(indent, |printer| {
            head(printer);
            printer.condition(condition, false);
        });
        head(self);
        let has_or = condition.children.iter().any(|child| child.rule == Rule::kw_or);
        if wide && has_or {
            for child in &condition.children {
                if child.rule == Rule::kw_or {
                    self.start_line(indent + 2 * INDENT, Kind::Continuation);
                    self.token(child);
                    self.space();
                    continue;
                }
                let line_indent = self.current.indent;
                let prefix = self.current.text.clone();
                let expand = self.too_wide(line_indent, |printer| {
                    printer.push(&prefix);
                    printer.condition(child, false);
                });
                self.condition(child, expand);
            }
        } else {
            self.condition(condition, wide);
        }
        for measurement in rest {
            self.start_line(indent, Kind::Continuation);
            self.measurement(measurement);
        }
    }

    /// A condition or a conjunction, or a task's guard, on one line.
    fn condition(&mut self, node: &Node, expand: bool) {
        for child in &node.children {
            match child.rule {
                Rule::kw_or | Rule::kw_and => {
                    self.space();
                    self.token(child);
                    self.space();
                }
                Rule::condition | Rule::conjunction | Rule::guard | Rule::guard_conj => self.condition(child, expand),
                Rule::guard_test => match child.children.as_slice() {
                    [subject, operator, value] => {
                        self.path(subject);
                        self.space();
                        self.token(operator);
                        self.space();
                        self.value(value, expand);
                    }
                    _ => self.broken = true,
                },
                Rule::comparison => match child.children.as_slice() {
                    [call, operator, threshold] => {
                        self.bracketed(call, expand);
                        self.space();
                        self.token(operator);
                        self.space();
                        match (threshold.rule, threshold.children.as_slice()) {
                            (Rule::scaled_call, [factor, star, baseline]) => {
                                self.token(factor);
                                self.space();
                                self.token(star);
                                self.space();
                                self.bracketed(baseline, expand);
                            }
                            _ => self.value(threshold, expand),
                        }
                    }
                    _ => self.broken = true,
                },
                _ => self.token(child),
            }
        }
    }

    /// `every 1m, samples 5, tolerate 1`.
    fn measurement(&mut self, node: &Node) {
        self.broken_if(node.rule != Rule::measurement);
        let expand = self.too_wide(self.current.indent, |printer| printer.measurement(node));
        for child in &node.children {
            match (child.rule, child.children.as_slice()) {
                (Rule::measure_option, [key, value]) => {
                    self.words(&key.children);
                    self.space();
                    self.value(value, expand);
                }
                (Rule::comma, _) => {
                    self.token(child);
                    self.space();
                }
                _ => self.broken = true,
            }
        }
    }

    /// `metric name(params) : unit = provider "query"`, on one line but for the query's own lines; also
    /// `check name(params) = probe(...)`.
    fn metric(&mut self, node: &Node) {
        let expand = self.too_wide(0, |printer| printer.metric(node));
        let children = &node.children;
        for (idx, child) in children.iter().enumerate() {
            match child.rule {
                Rule::private => {
                    self.words(&child.children);
                    self.space();
                }
                Rule::metric_name | Rule::check_name => {
                    self.space();
                    self.token(child);
                }
                Rule::call => {
                    self.bracketed(child, expand);
                }
                Rule::colon | Rule::eq => {
                    self.space();
                    self.token(child);
                    self.space();
                }
                Rule::provider_name => {
                    self.token(child);
                    self.space();
                }
                Rule::param => self.param(child, expand),
                Rule::comma => self.comma(children, idx),
                _ => self.token(child),
            }
        }
    }

    /// `step name(params) {`, on one line like a metric's header.
    fn step_header(&mut self, nodes: &[Node]) {
        let expand = self.too_wide(self.current.indent, |printer| printer.step_header(nodes));
        for (idx, child) in nodes.iter().enumerate() {
            match child.rule {
                Rule::private => {
                    self.words(&child.children);
                    self.space();
                }
                Rule::step_name | Rule::lbrace => {
                    self.space();
                    self.token(child);
                }
                Rule::param => self.param(child, expand),
                Rule::comma => self.comma(nodes, idx),
                _ => self.token(child),
            }
        }
    }

    /// `name: type` or `name: type = default`.
    fn param(&mut self, node: &Node, expand: bool) {
        match node.children.as_slice() {
            [name, colon, kind, default @ ..] => {
                self.token(name);
                self.token(colon);
                self.space();
                self.token(kind);
                if let [eq, value] = default {
                    self.space();
                    self.token(eq);
                    self.space();
                    self.value(value, expand);
                } else {
                    self.broken_if(!default.is_empty());
                }
            }
            _ => self.broken = true,
        }
    }

    /// `, ` between items; a comma before the closing bracket is dropped.
    fn comma(&mut self, siblings: &[Node], idx: usize) {
        let Some(comma) = siblings.get(idx) else {
            self.broken = true;
            return;
        };
        let closes = siblings
            .get(idx + 1)
            .is_some_and(|next| matches!(next.rule, Rule::rparen | Rule::rbracket | Rule::rbrace));
        if closes {
            self.drop_token(comma);
        } else {
            self.token(comma);
            self.space();
        }
    }

    /// A value; `expand` says that the line it is on is too wide, so its objects go over several lines.
    fn value(&mut self, node: &Node, expand: bool) {
        for child in &node.children {
            match child.rule {
                Rule::range_end => self.words(&child.children),
                Rule::call | Rule::list => self.bracketed(child, expand),
                Rule::object => self.object(child, expand),
                Rule::path => self.path(child),
                _ => self.token(child),
            }
        }
    }

    fn path(&mut self, node: &Node) {
        for child in &node.children {
            self.token(child);
        }
    }

    /// A call `f(a, name: b)` or a list `[a, b]`, on one line.
    fn bracketed(&mut self, node: &Node, expand: bool) {
        self.broken_if(!matches!(node.rule, Rule::call | Rule::list));
        let children = &node.children;
        for (idx, child) in children.iter().enumerate() {
            match child.rule {
                Rule::comma => self.comma(children, idx),
                Rule::path => self.path(child),
                Rule::value => self.value(child, expand),
                Rule::argument => match child.children.as_slice() {
                    [name, colon, value] => {
                        self.token(name);
                        self.token(colon);
                        self.space();
                        self.value(value, expand);
                    }
                    [value] => self.value(value, expand),
                    _ => self.broken = true,
                },
                _ => self.token(child),
            }
        }
    }

    /// `{ key: value, ... }` when it was written on one line and its line fits, otherwise one entry per
    /// line, each with a comma.
    fn object(&mut self, node: &Node, expand: bool) {
        let children = &node.children;
        let (Some(open), Some(close)) = (children.first(), children.last()) else {
            self.broken = true;
            return;
        };
        let inner = children.get(1..children.len() - 1).unwrap_or_default();
        let on_one_line = self
            .text
            .get(open.end..close.start)
            .is_some_and(|between| !between.contains('\n'));
        let empty = inner.is_empty() && !self.comments_before(close);
        if self.measuring || empty || (on_one_line && !expand) {
            self.token(open);
            for (idx, child) in inner.iter().enumerate() {
                if idx == 0 {
                    self.space();
                }
                match child.rule {
                    Rule::entry => {
                        self.entry(child, expand);
                    }
                    _ => self.comma(children, idx + 1),
                }
            }
            if !inner.is_empty() {
                self.space();
            }
            self.token(close);
            return;
        }
        let indent = self.current.indent;
        self.token(open);
        for (idx, child) in inner.iter().enumerate() {
            if child.rule == Rule::comma {
                self.token(child);
                continue;
            }
            self.start_line(indent + INDENT, Kind::Item);
            let expand = self.too_wide(indent + INDENT, |printer| {
                printer.entry(child, false);
                printer.push(",");
            });
            let n_lines = self.lines.len();
            let before_value = self.entry(child, expand);
            if inner.get(idx + 1).is_none_or(|next| next.rule != Rule::comma) {
                self.push(",");
            }
            if self.lines.len() == n_lines && !self.current.text.contains('\n') {
                self.current.align = before_value;
            }
        }
        self.start_line(indent, Kind::Close);
        self.token(close);
    }

    /// `key: value`; returns the width before the value, where alignment pads.
    fn entry(&mut self, node: &Node, expand: bool) -> Option<usize> {
        let [key, colon, value] = node.children.as_slice() else {
            self.broken = true;
            return None;
        };
        self.token(key);
        self.token(colon);
        let before_value = self.current.text.len();
        self.space();
        self.value(value, expand);
        Some(before_value)
    }
}

/// The width of code that starts at column `indent`. Code that holds a `"""` string over several
/// lines is measured on its first and last lines: the lines between are the string's own.
pub(super) fn width(indent: usize, text: &str) -> usize {
    let first = text.split('\n').next().unwrap_or("");
    let last = text.rsplit('\n').next().unwrap_or("");
    (indent + first.chars().count()).max(last.chars().count())
}
