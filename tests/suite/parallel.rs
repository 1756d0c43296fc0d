//! Services are checked in parallel, a share of them per core; what is reported must not depend on
//! that split. A project large enough to be split is checked and its diagnostics compared with what
//! checking one service at a time gives.

use shipc::{Code, MemoryLoader};

const PLATFORM: &str = r#"platform { namespace = "shop" }

metric error_rate(svc: service) : ratio = prometheus """
  sum(rate(http_requests_total{service="${svc.name}",code=~"5.."}[5m]))
"""
"#;

/// A service; with `measured`, its release watches a metric (which needs the platform's missing
/// Prometheus address); with `port` 0, its port is out of range.
fn service(name: &str, port: u32, measured: bool) -> String {
    let analysis = if measured {
        format!("after_promotion {{\n      rollback when error_rate({name}) > 1%\n    }}")
    } else {
        String::new()
    };
    format!(
        r#"import "../platform"

service {name} {{
  image     = "registry.example.com/{name}:1.0.0"
  port      = {port}
  replicas  = 2
  resources = {{ cpu: 100m, memory: 128Mi }}
  readiness = http_get("/ready")
  release blue_green {{
    promote = manual
    {analysis}
  }}
}}
"#
    )
}

/// Each diagnostic as `path:line code`.
fn reported(loader: &MemoryLoader, roots: &[String]) -> Vec<String> {
    let compilation = shipc::check(roots, loader);
    compilation
        .diagnostics
        .iter()
        .map(|diagnostic| {
            let file = compilation.sources.file(diagnostic.primary.span.source);
            let line = file.line_col(diagnostic.primary.span.start).line;
            format!("{}:{line} {}", file.path(), diagnostic.code.as_str())
        })
        .collect()
}

#[test]
fn a_diagnostic_said_once_per_platform_is_said_at_the_first_service_whatever_the_split() {
    let mut loader = MemoryLoader::new();
    loader.insert("platform.ship", PLATFORM);
    let names: Vec<String> = (1..=16).map(|i| format!("s{i:02}")).collect();
    for (idx, name) in names.iter().enumerate() {
        let measured = idx == 3 || idx == 12;
        let port = if idx == 5 || idx == 14 { 0 } else { 8080 };
        loader.insert(format!("services/{name}.ship"), service(name, port, measured));
    }
    let roots: Vec<String> = names.iter().map(|name| format!("services/{name}.ship")).collect();

    let together = reported(&loader, &roots);
    let one_at_a_time: Vec<String> = roots
        .iter()
        .flat_map(|root| reported(&loader, std::slice::from_ref(root)))
        .collect();

    let missing_prometheus = Code::E0510.as_str();
    let first_use = together
        .iter()
        .filter(|line| line.ends_with(missing_prometheus))
        .collect::<Vec<_>>();
    assert_eq!(first_use, ["services/s04.ship:12 E0510"], "{together:#?}");
    // Apart from the second use of the platform, the project reports what each service does alone.
    let expected: Vec<&String> = one_at_a_time
        .iter()
        .filter(|line| *line != "services/s13.ship:12 E0510")
        .collect();
    assert_eq!(together.iter().collect::<Vec<_>>(), expected);
    assert_eq!(expected.len(), 3, "{expected:#?}");
}
