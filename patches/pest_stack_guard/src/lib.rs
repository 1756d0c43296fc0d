//! Stands in for pest's native stack probe (crate `pest_stack_guard`), which pest calls before every
//! combinator call: on the common targets it reads the stack pointer and a thread-local stack limit
//! each time, about a tenth of the time shipc spends parsing.
//!
//! shipc does not need it. Its lexical pre-scan (`src/syntax/chunks.rs`) rejects any declaration whose
//! brackets nest deeper than `MAX_DEPTH`, and every recursive rule of the grammar opens a bracket, so
//! pest's recursion is bounded before it starts; `tests/suite/hostile.rs` parses the deepest nesting
//! accepted on a thread with a small stack.

/// The remaining native stack space, which this stand-in never measures: `None` tells pest that it
/// is unknown, and pest then checks nothing.
#[inline]
pub fn remaining_stack() -> Option<usize> {
    None
}
