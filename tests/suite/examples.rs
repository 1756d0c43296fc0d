//! Every example builds cleanly, the same way whatever the order its files are given in, and renders
//! with kustomize.

use std::process::Command;

use crate::support;

fn example_roots() -> (shipc::MemoryLoader, Vec<String>) {
    let files = support::ship_files_under(&support::repo_root().join("examples"));
    assert!(!files.is_empty());
    let roots = files.iter().map(|file| support::rel(file)).collect();
    (support::loader_for(&files), roots)
}

#[test]
fn examples_build_without_diagnostics() {
    let (loader, roots) = example_roots();
    let compilation = shipc::build(&roots, &loader);
    assert!(
        compilation.diagnostics.is_empty(),
        "{}",
        support::render_diagnostics(&compilation)
    );
    let n_documents: usize = compilation
        .outputs
        .iter()
        .map(|file| {
            file.contents.matches("\napiVersion: ").count() + usize::from(file.contents.starts_with("apiVersion: "))
        })
        .sum();
    assert!(n_documents >= 18, "only {n_documents} documents");
}

#[test]
fn output_is_deterministic_whatever_the_input_order() {
    let (loader, roots) = example_roots();
    let first = shipc::build(&roots, &loader).outputs;
    let again = shipc::build(&roots, &loader).outputs;
    let reversed: Vec<String> = roots.iter().rev().cloned().collect();
    let from_reversed = shipc::build(&reversed, &loader).outputs;
    assert_eq!(first, again);
    assert_eq!(first, from_reversed);
}

/// A build lowers each batch of output directories just before rendering it; lowering everything
/// first (as `simulate` does) must give the same files.
#[test]
fn lowering_while_emitting_writes_what_lowering_first_does() {
    let (loader, roots) = example_roots();
    let built = shipc::build(&roots, &loader).outputs;
    let mut sources = shipc::source::SourceMap::new();
    let mut diagnostics = shipc::diagnostics::Diagnostics::new();
    let program = shipc::names::resolve(
        &roots,
        &loader,
        shipc::names::StdlibParse::Whole,
        &mut sources,
        &mut diagnostics,
    );
    let model = shipc::check::check(&program, &mut diagnostics);
    assert!(!diagnostics.has_errors());
    let lowered_first = shipc::emit::emit(&shipc::lower::lower(&model), &sources).unwrap();
    assert!(built.iter().any(|file| file.path.starts_with("environments/")));
    assert_eq!(built, lowered_first);
}

/// `kubectl kustomize` (kustomize v5, as kubectl ships it) renders an environment's directory, and an
/// `images:` override in its kustomization reaches the Rollout's container.
#[test]
fn kustomize_renders_the_output_and_applies_image_overrides() {
    if Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        eprintln!("skipped: kubectl is not installed, so kustomize cannot be run");
        return;
    }
    let out = support::scratch_dir("kustomize");
    let (loader, roots) = example_roots();
    for file in shipc::build(&roots, &loader).outputs {
        let target = out.join(&file.path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, file.contents).unwrap();
    }
    // The shop's services are deployed per environment: production is one tree to apply.
    let kustomization = out.join("environments/production/checkout/kustomization.yaml");
    let mut text = std::fs::read_to_string(&kustomization).unwrap();
    text.push_str("images:\n- name: registry.example.com/shop/checkout\n  digest: sha256:4f2b6a8c1d3e5f7a9b0c2d4e6f8a0b1c3d5e7f9a1b2c3d4e5f6a7b8c9d0e1f2a\n");
    std::fs::write(&kustomization, text).unwrap();
    let rendered = Command::new("kubectl")
        .arg("kustomize")
        .arg(out.join("environments/production"))
        .output()
        .unwrap();
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let yaml = String::from_utf8(rendered.stdout).unwrap();
    assert!(yaml.contains(
        "image: registry.example.com/shop/checkout@sha256:4f2b6a8c1d3e5f7a9b0c2d4e6f8a0b1c3d5e7f9a1b2c3d4e5f6a7b8c9d0e1f2a"
    ));
    assert_eq!(yaml.matches("\nkind: Rollout\n").count(), 4);
}
