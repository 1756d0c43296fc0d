//! One line per diagnostic, `file:line:col: CODE message`, the shape editors' quickfix lists and
//! `grep -n` read. The code's first letter says whether it is an error (`E`) or a warning (`W`).

use super::place;
use crate::diagnostics::Diagnostic;
use crate::source::SourceMap;

/// Every diagnostic, one per line.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut text = String::new();
    for diagnostic in diagnostics {
        let at = place(&diagnostic.primary, sources);
        let message = diagnostic.message.replace('\n', " ");
        text.push_str(&format!(
            "{}:{}:{}: {} {message}\n",
            at.file,
            at.line,
            at.column,
            diagnostic.code.as_str()
        ));
    }
    text
}
