//! The integration suite, built as one test binary: UI (diagnostics) and build (YAML) snapshots, the
//! examples, the command line, hostile inputs, and a property test over mutated examples.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test should fail loudly at the first surprise"
)]

mod build;
mod cli;
mod commands;
mod doc;
mod docs;
mod examples;
mod explain;
mod format;
mod hostile;
mod mutation;
mod parallel;
mod precommit;
mod simulate;
mod stdlib;
mod support;
mod ui;
