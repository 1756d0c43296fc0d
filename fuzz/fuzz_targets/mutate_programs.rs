//! Structure-aware: the input is a list of edits applied token by token to a valid program (the
//! example shop and the build test cases), so that most runs get past the parser and exercise name
//! resolution, the checks and the emitter with programs that are almost right.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use shipc_fuzz::{ByteLoader, dictionary, exercise};

static DICTIONARY: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| dictionary::tokens(dictionary::TEXT));

/// Each seed is a whole project: its files, by project-relative path.
const SEEDS: &[&[(&str, &str)]] = &[
    &[
        ("platform.ship", include_str!("../../examples/shop/platform.ship")),
        ("metrics.ship", include_str!("../../examples/shop/metrics.ship")),
        (
            "services/cart.ship",
            include_str!("../../examples/shop/services/cart.ship"),
        ),
        (
            "services/checkout.ship",
            include_str!("../../examples/shop/services/checkout.ship"),
        ),
        (
            "services/payments.ship",
            include_str!("../../examples/shop/services/payments.ship"),
        ),
    ],
    &[(
        "main.ship",
        include_str!("../../tests/build/auto_promotion_fixed_replicas/main.ship"),
    )],
    &[(
        "main.ship",
        include_str!("../../tests/build/blue_green_manual/main.ship"),
    )],
    &[("main.ship", include_str!("../../tests/build/minimal/main.ship"))],
    &[("main.ship", include_str!("../../tests/build/yaml_quoting/main.ship"))],
];

/// The program cut into words, numbers with units, strings, runs of whitespace and single marks.
fn tokens(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(first) = rest.chars().next() {
        let len = if first.is_alphanumeric() || first == '_' {
            rest.find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '%')))
                .unwrap_or(rest.len())
        } else if first == '"' {
            rest[1..].find('"').map_or(rest.len(), |end| end + 2)
        } else if first.is_whitespace() {
            rest.find(|c: char| !c.is_whitespace()).unwrap_or(rest.len())
        } else {
            first.len_utf8()
        };
        let (token, after) = rest.split_at(len);
        tokens.push(token);
        rest = after;
    }
    tokens
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, edits)) = data.split_first() else {
        return;
    };
    let seed = SEEDS[usize::from(choice) % SEEDS.len()];
    let victim = usize::from(choice / 8) % seed.len();
    let mut files: Vec<(String, Vec<u8>)> = seed
        .iter()
        .map(|(path, text)| (path.to_string(), text.as_bytes().to_vec()))
        .collect();
    let pool: Vec<&[u8]> = tokens(seed[victim].1).into_iter().map(str::as_bytes).collect();
    let dictionary = &*DICTIONARY;
    let mut program = pool.clone();
    for edit in edits.chunks_exact(3).take(16) {
        let (op, a, b) = (edit[0], usize::from(edit[1]), usize::from(edit[2]));
        let len = program.len().max(1);
        let at = (a * 251 + b) % len;
        match op % 6 {
            0 if !program.is_empty() => {
                program.remove(at);
            }
            1 => {
                let end = (at + 1 + b % 8).min(program.len());
                let copy = program[at.min(end)..end].to_vec();
                program.splice(at..at, copy);
            }
            2 if !program.is_empty() => {
                let (last, other) = (program.len() - 1, (b * 17 + a) % program.len());
                program.swap(at.min(last), other);
            }
            3 => program.insert(at.min(program.len()), &dictionary[b % dictionary.len()]),
            4 if !program.is_empty() => {
                let last = program.len() - 1;
                program[at.min(last)] = pool[(a * 7 + b) % pool.len()];
            }
            _ if !program.is_empty() => {
                let last = program.len() - 1;
                program[at.min(last)] = &dictionary[a % dictionary.len()];
            }
            _ => {}
        }
    }
    files[victim].1 = program.concat();
    exercise(&ByteLoader { files });
});
