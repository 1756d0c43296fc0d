//! Each compiler phase on the reference workload of 1,000 services (`bench/workload/`, as
//! `bench/generate.sh 1000` writes it, but held in memory), and the whole `shipc::build`.
//!
//! Every phase gets the output of the phases before it, computed once outside the timed closure, so a
//! number is that phase alone.
//!
//!   cargo bench --bench phases

use std::error::Error;
use std::time::Duration;

use criterion::{BatchSize, Criterion};
use shipc::MemoryLoader;
use shipc::diagnostics::Diagnostics;
use shipc::source::SourceMap;

const SERVICES: usize = 1_000;

const PLATFORM: &str = include_str!("workload/platform.ship");
const STEPS: &str = include_str!("workload/steps.ship");
const SERVICE: &str = include_str!("workload/service.ship.tmpl");

/// The project's files, as `bench/generate.sh` lays them out: paths relative to the project root.
fn workload() -> Vec<(String, String)> {
    let mut files = vec![
        ("platform.ship".to_string(), PLATFORM.to_string()),
        ("steps.ship".to_string(), STEPS.to_string()),
    ];
    files.extend((1..=SERVICES).map(|i| {
        let name = format!("svc-{i}");
        (format!("services/{name}.ship"), SERVICE.replace("svc-1", &name))
    }));
    files
}

fn phases(criterion: &mut Criterion) -> Result<(), Box<dyn Error>> {
    let files = workload();
    let mut loader = MemoryLoader::new();
    for (path, text) in &files {
        loader.insert(path.clone(), text.clone());
    }
    // The CLI hands the compiler the discovered files sorted; so does `MemoryLoader::paths`.
    let roots = loader.paths();

    let mut parsed = SourceMap::new();
    let ids: Vec<_> = files
        .iter()
        .map(|(path, text)| (parsed.add(path.clone(), text.clone()), text.as_str()))
        .collect();

    // The inputs of the later phases, each computed once; a workload with errors would time the
    // error paths, so it is refused.
    let mut sources = SourceMap::new();
    let mut diagnostics = Diagnostics::new();
    let program = shipc::names::resolve(
        &roots,
        &loader,
        shipc::names::StdlibParse::Mentioned,
        &mut sources,
        &mut diagnostics,
    );
    let model = shipc::check::check(&program, &mut diagnostics);
    if diagnostics.has_errors() {
        return Err(format!("the workload has {} errors", diagnostics.error_count()).into());
    }
    let bundle = shipc::lower::lower(&model);
    let outputs = shipc::emit::emit(&bundle, &sources).map_err(|(message, _)| message)?;
    let bytes: usize = outputs.iter().map(|file| file.contents.len()).sum();
    println!("{SERVICES} services: {} files, {bytes} bytes of output", outputs.len());

    let mut group = criterion.benchmark_group(format!("{SERVICES}-services"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("parse", |b| {
        b.iter_batched(
            Diagnostics::new,
            |mut diagnostics| {
                let trees: Vec<_> = ids
                    .iter()
                    .map(|&(id, text)| shipc::syntax::parse(id, text, &mut diagnostics))
                    .collect();
                (trees, diagnostics)
            },
            BatchSize::SmallInput,
        );
    });
    group.bench_function("resolve", |b| {
        b.iter_batched(
            || (SourceMap::new(), Diagnostics::new()),
            |(mut sources, mut diagnostics)| {
                let program = shipc::names::resolve(
                    &roots,
                    &loader,
                    shipc::names::StdlibParse::Mentioned,
                    &mut sources,
                    &mut diagnostics,
                );
                (program, sources, diagnostics)
            },
            BatchSize::SmallInput,
        );
    });
    group.bench_function("check", |b| {
        b.iter_batched(
            Diagnostics::new,
            |mut diagnostics| (shipc::check::check(&program, &mut diagnostics), diagnostics),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("lower", |b| b.iter_with_large_drop(|| shipc::lower::lower(&model)));
    group.bench_function("emit", |b| {
        b.iter_with_large_drop(|| shipc::emit::emit(&bundle, &sources));
    });
    group.bench_function("build", |b| b.iter_with_large_drop(|| shipc::build(&roots, &loader)));
    group.finish();
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut criterion = Criterion::default().configure_from_args();
    phases(&mut criterion)?;
    criterion.final_summary();
    Ok(())
}
