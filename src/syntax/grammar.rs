//! The pest parser generated from `grammar/ship.pest`.

#![allow(
    missing_docs,
    reason = "the Rule enum is generated from the grammar, whose rules carry the docs"
)]

/// The parser; [`Rule`] names every rule of the grammar.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/ship.pest"]
pub struct ShipParser;
