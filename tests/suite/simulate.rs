//! `shipc simulate`: the recorded cases in `examples/shop/simulate/` give their verdicts and exit
//! codes, a canary replays its steps beside its background analysis, and bad data is reported where
//! it breaks.

use shipc::simulate::{self, DataFile, Options, Request, Verdict};
use shipc::{Code, Compilation};

use crate::support;

/// Runs the binary on a recorded case of the examples; the snapshot holds the exit code and stdout.
fn simulate_example(case: &str, extra: &[&str]) -> (i32, String) {
    let data = format!("examples/shop/simulate/{case}");
    let mut args = vec![
        "simulate",
        "examples",
        "--service",
        "checkout",
        "--environment",
        "production",
        "--metrics",
        &data,
    ];
    args.extend_from_slice(extra);
    let output = support::shipc(&support::repo_root(), &args);
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn recorded_cases_of_the_examples_give_their_verdicts() {
    for (case, expected_code) in [("checkout-healthy", 0), ("checkout-incident", 3)] {
        let (code, timeline) = simulate_example(case, &[]);
        assert_eq!(code, expected_code, "{case}:\n{timeline}");
        support::insta_settings().bind(|| {
            insta::assert_snapshot!(format!("simulate__{case}"), format!("exit code {code}\n\n{timeline}"));
        });
    }
}

#[test]
fn expect_makes_a_ci_case_one_line() {
    assert_eq!(simulate_example("checkout-incident", &["--expect", "rollback"]).0, 0);
    assert_eq!(simulate_example("checkout-healthy", &["--expect", "promote"]).0, 0);
    assert_eq!(simulate_example("checkout-healthy", &["--expect", "rollback"]).0, 5);
    assert_eq!(simulate_example("checkout-healthy", &["--fail-check", "smoke"]).0, 3);
}

#[test]
fn usage_mistakes_exit_2() {
    let output = support::shipc(
        &support::repo_root(),
        &[
            "simulate",
            "examples",
            "--service",
            "checkout",
            "--metrics",
            "examples/shop/simulate/checkout-healthy",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        support::stderr(&output).contains("choose one with --environment (production, staging)"),
        "{}",
        support::stderr(&output)
    );
}

/// The examples compiled in memory with `data` as the recorded files of `service`.
fn prepare(service: &str, data: &[(&str, String)]) -> (Compilation, Option<Result<simulate::Prepared, String>>) {
    let files = support::ship_files_under(&support::repo_root().join("examples"));
    let roots: Vec<String> = files.iter().map(|file| support::rel(file)).collect();
    let loader = support::loader_for(&files);
    let request = Request {
        service: service.to_string(),
        environment: Some("production".to_string()),
        data: Some(
            data.iter()
                .map(|(name, text)| DataFile {
                    path: format!("data/{name}"),
                    name: (*name).to_string(),
                    text: text.clone(),
                })
                .collect(),
        ),
    };
    shipc::simulate(&roots, &loader, &request)
}

const START: i64 = 1_795_168_800; // 2026-11-20T10:00:00Z

/// OpenMetrics text of one series sampled every 15 s for `minutes`, valued `value(seconds)`.
fn series(name: &str, labels: &str, minutes: i64, value: impl Fn(i64) -> f64) -> String {
    let mut text = format!("# TYPE {name} gauge\n");
    for offset in (0..=minutes * 60).step_by(15) {
        text.push_str(&format!("{name}{{{labels}}} {} {}\n", value(offset), START + offset));
    }
    text.push_str("# EOF\n");
    text
}

fn replay_search(restarts_after: Option<i64>, error_regression: f64) -> (Verdict, String) {
    let data = [
        (
            "http-error-rate-regression.om",
            series("ratio", "", 20, |_| error_regression),
        ),
        ("http-latency-regression.om", series("seconds", "", 20, |_| -0.01)),
        (
            "restarts.om",
            series("restarts", "", 20, |at| match restarts_after {
                Some(after) if at >= after => 3.0,
                _ => 0.0,
            }),
        ),
    ];
    let (compilation, prepared) = prepare("search", &data);
    assert!(
        !compilation.has_errors(),
        "{}",
        support::render_diagnostics(&compilation)
    );
    let prepared = prepared.unwrap().unwrap();
    let options = Options {
        start_ms: START * 1000,
        args: [("new-hash", "7c9f8d6b5"), ("stable-hash", "5d8b7f4c2")]
            .into_iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        ..Options::default()
    };
    let mut recorded = prepared.recorded;
    let report = simulate::replay(&prepared.release, &mut recorded, &options).unwrap();
    (report.verdict, simulate::render::timeline(&report, "simulate"))
}

#[test]
fn a_canary_replays_its_steps_beside_its_background_analysis() {
    let (verdict, healthy) = replay_search(None, -0.001);
    assert_eq!(verdict, Verdict::Promote, "{healthy}");
    let (verdict, regression) = replay_search(None, 0.004);
    assert_eq!(verdict, Verdict::Rollback, "{regression}");
    // Restarts at +3m abort the release in the background before the step analysis starts at +5m.
    let (verdict, restarts) = replay_search(Some(180), -0.001);
    assert_eq!(verdict, Verdict::Rollback, "{restarts}");
    assert!(!restarts.contains("step 3 analysis"), "{restarts}");
    support::insta_settings().bind(|| {
        insta::assert_snapshot!("simulate__search-healthy", healthy);
        insta::assert_snapshot!("simulate__search-regression", regression);
        insta::assert_snapshot!("simulate__search-restarts", restarts);
    });
}

#[test]
fn malformed_data_files_are_reported_where_they_break() {
    let data = [
        (
            "http-error-rate.json",
            "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[\n  {\"metric\":{},\"values\":[[1795168800,\"0.01\"],[1795168815,0.02]]}]}}\n"
                .to_string(),
        ),
        ("http-latency.om", "latency 0.2 1795168800\nlatency 0.25\n".to_string()),
    ];
    let (compilation, prepared) = prepare("checkout", &data);
    assert!(prepared.is_none());
    let codes: Vec<Code> = compilation.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::E0530, Code::E0530]);
    support::insta_settings().bind(|| {
        insta::assert_snapshot!("simulate__malformed-data", support::render_diagnostics(&compilation));
    });
}

#[test]
fn a_metric_without_data_is_reported_at_its_analysis() {
    let data = [(
        "http-error-rate.json",
        std::fs::read_to_string(
            support::repo_root().join("examples/shop/simulate/checkout-healthy/http-error-rate.json"),
        )
        .unwrap(),
    )];
    let (compilation, prepared) = prepare("checkout", &data);
    assert!(prepared.is_none());
    let codes: Vec<Code> = compilation.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::E0531]);
    support::insta_settings().bind(|| {
        insta::assert_snapshot!("simulate__missing-data", support::render_diagnostics(&compilation));
    });
}
