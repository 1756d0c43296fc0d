//! Property: whatever is done to the examples (characters deleted, duplicated, swapped, replaced by
//! tokens of the language), shipc never panics (compiling or rendering its diagnostics), never reports
//! an internal error, and exits with 0 or 1.

use std::panic::AssertUnwindSafe;
use std::process::Command;

use shipc::diagnostics::render;

use crate::support;

/// A small deterministic generator (xorshift64*), so a failure is reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

/// Pieces of the language worth splicing in: they reach deeper than random bytes. The same list
/// drives the fuzz targets.
#[path = "../../fuzz/src/dictionary.rs"]
mod dictionary;

fn mutate(text: &str, rng: &mut Rng) -> String {
    static TOKENS: std::sync::LazyLock<Vec<Vec<u8>>> =
        std::sync::LazyLock::new(|| dictionary::tokens(dictionary::TEXT));
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(5) {
            0 => {
                let end = (at + rng.below(40)).min(bytes.len());
                bytes.drain(at..end);
            }
            1 => {
                let end = (at + rng.below(60)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            2 if bytes.len() > 1 => {
                let other = rng.below(bytes.len());
                let at = at.min(bytes.len() - 1);
                bytes.swap(at, other);
            }
            _ => {
                let token = &TOKENS[rng.below(TOKENS.len())];
                bytes.splice(at..at, token.iter().copied());
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn examples() -> Vec<(String, String)> {
    support::ship_files_under(&support::repo_root().join("examples"))
        .iter()
        .map(|file| (support::rel(file), std::fs::read_to_string(file).unwrap()))
        .collect()
}

#[test]
fn mutated_examples_never_crash_the_library() {
    let files = examples();
    let mut rng = Rng(0x5EED_0F58_17C0);
    for iteration in 0..600 {
        let victim = rng.below(files.len());
        let mut loader = shipc::MemoryLoader::new();
        for (idx, (path, text)) in files.iter().enumerate() {
            let text = if idx == victim {
                mutate(text, &mut rng)
            } else {
                text.clone()
            };
            loader.insert(path.clone(), text);
        }
        let roots = loader.paths();
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let compilation = shipc::build(&roots, &loader);
            let rendered = support::render_diagnostics(&compilation);
            let json = render::json::render(&compilation.diagnostics, &compilation.sources);
            (compilation, rendered, json)
        }));
        let (compilation, _, _) = result.unwrap_or_else(|_| {
            panic!(
                "panic in iteration {iteration} on {}:\n{}",
                files[victim].0,
                loader_text(&loader, &files[victim].0)
            )
        });
        let internal = compilation.diagnostics.iter().find(|d| d.code == shipc::Code::E0001);
        assert!(
            internal.is_none(),
            "internal error in iteration {iteration}: {internal:?}"
        );
        assert!(
            compilation.has_errors() || !compilation.outputs.is_empty(),
            "iteration {iteration}: no errors and no output"
        );
    }
}

fn loader_text(loader: &shipc::MemoryLoader, path: &str) -> String {
    use shipc::Loader;
    loader.load(path).unwrap_or_default()
}

#[test]
fn mutated_examples_exit_with_0_or_1() {
    let files = examples();
    let dir = support::scratch_dir("mutation-cli");
    let mut rng = Rng(0xC0FF_EE00_1234);
    for iteration in 0..25 {
        let case = dir.join(format!("case-{iteration}"));
        for (path, text) in &files {
            let target = case.join(path);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(&target, mutate(text, &mut rng)).unwrap();
        }
        let output = Command::new(env!("CARGO_BIN_EXE_shipc"))
            .args(["build", "examples", "--out", "out"])
            .current_dir(&case)
            .output()
            .unwrap();
        let code = output.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "iteration {iteration}: exit {code:?}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            code == Some(0),
            case.join("out").exists(),
            "iteration {iteration}: output written only on success"
        );
    }
}
