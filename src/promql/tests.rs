use super::ValueType::{Scalar, Vector};
use super::*;

/// Queries from real use, with the type of their result: the examples of Prometheus' documentation
/// (querying basics, operators, functions, examples), Argo Rollouts' analysis documentation, common
/// alerting rules, and per-service metrics with their `${...}` filled in.
const VALID: &[(&str, ValueType)] = &[
    // per-service HTTP and restart queries, as the shop example first wrote them
    (
        r#"sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m]))
    / sum(rate(http_requests_total{service="checkout"}[5m]))"#,
        Vector,
    ),
    (
        r#"histogram_quantile(0.99,
    sum(rate(http_request_duration_seconds_bucket{service="checkout"}[5m])) by (le))"#,
        Vector,
    ),
    (
        r#"sum(increase(kube_pod_container_status_restarts_total{namespace="shop",container="cart"}[5m]))"#,
        Vector,
    ),
    // Argo Rollouts: analysis and Prometheus provider documentation
    (
        r#"sum(irate(istio_requests_total{reporter="source",destination_service=~"guestbook-svc.default.svc.cluster.local",response_code!~"5.*"}[5m])) /
sum(irate(istio_requests_total{reporter="source",destination_service=~"guestbook-svc.default.svc.cluster.local"}[5m]))"#,
        Vector,
    ),
    (
        r#"sum(irate(
  istio_requests_total{reporter="source",destination_service=~"guestbook",response_code=~"5.*"}[5m]
)) /
sum(irate(
  istio_requests_total{reporter="source",destination_service=~"guestbook"}[5m]
))"#,
        Vector,
    ),
    (
        r#"sum(rate(nginx_ingress_controller_requests{ingress="canary-ingress",status!~"[4-5].*"}[60s])) / sum(rate(nginx_ingress_controller_requests{ingress="canary-ingress"}[60s]))"#,
        Vector,
    ),
    (
        r#"sum(rate(http_server_requests_seconds_count{job="guestbook",status=~"5.."}[1m])) or vector(0)"#,
        Vector,
    ),
    (
        r#"scalar(sum(rate(http_requests_total{job="guestbook",code!~"5.."}[2m])) / sum(rate(http_requests_total{job="guestbook"}[2m])))"#,
        Scalar,
    ),
    (
        r#"histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{app="rollouts-demo"}[5m])) by (le))"#,
        Vector,
    ),
    // Prometheus documentation: querying basics
    ("http_requests_total", Vector),
    (r#"http_requests_total{job="prometheus",group="canary"}"#, Vector),
    (
        r#"http_requests_total{environment=~"staging|testing|development",method!="GET"}"#,
        Vector,
    ),
    (r#"http_requests_total{replica!="rep-a",replica=~"rep.*"}"#, Vector),
    (r#"{job=~".+"}"#, Vector),
    (r#"{job=~".*",method="get"}"#, Vector),
    (r#"{__name__=~"job:.*"}"#, Vector),
    (r#"{__name__="on"}"#, Vector),
    ("http_requests_total offset 5m", Vector),
    (r#"sum(http_requests_total{method="GET"} offset 5m)"#, Vector),
    ("rate(http_requests_total[5m] offset 1w)", Vector),
    ("rate(http_requests_total[5m] offset -1w)", Vector),
    ("http_requests_total @ 1609746000", Vector),
    (r#"sum(http_requests_total{method="GET"} @ 1609746000)"#, Vector),
    ("rate(http_requests_total[5m] @ 1609746000)", Vector),
    ("http_requests_total @ 1609746000 offset 5m", Vector),
    ("http_requests_total offset 5m @ 1609746000", Vector),
    ("rate(http_requests_total[1m] @ end())", Vector),
    ("http_requests_total @ start()", Vector),
    ("rate(http_requests_total[5m])", Vector),
    (
        "max_over_time(deriv(rate(distance_covered_total[5s])[30s:5s])[10m:])",
        Vector,
    ),
    // Prometheus documentation: query examples
    (
        r#"http_requests_total{job="apiserver", handler="/api/comments"}"#,
        Vector,
    ),
    (r#"http_requests_total{job=~".*server"}"#, Vector),
    (r#"http_requests_total{status!~"4.."}"#, Vector),
    ("sum by (job) (rate(http_requests_total[5m]))", Vector),
    (
        "(instance_memory_limit_bytes - instance_memory_usage_bytes) / 1024 / 1024",
        Vector,
    ),
    (
        "sum by (app, proc) (instance_memory_limit_bytes - instance_memory_usage_bytes) / 1024 / 1024",
        Vector,
    ),
    ("topk(3, sum by (app, proc) (rate(instance_cpu_time_ns[5m])))", Vector),
    ("count by (app) (instance_cpu_time_ns)", Vector),
    // Prometheus documentation: operators
    (
        r#"method_code:http_errors:rate5m{code="500"} / ignoring(code) method:http_requests:rate5m"#,
        Vector,
    ),
    (
        "method_code:http_errors:rate5m / ignoring(code) group_left method:http_requests:rate5m",
        Vector,
    ),
    ("sum without (instance) (http_requests_total)", Vector),
    ("sum by (application, group) (http_requests_total)", Vector),
    ("sum(http_requests_total) by (application, group)", Vector),
    (r#"count_values("version", build_version)"#, Vector),
    ("topk(5, http_requests_total)", Vector),
    ("quantile(0.9, rate(http_requests_total[5m]))", Vector),
    ("limitk(10, http_requests_total)", Vector),
    ("limit_ratio(0.5, http_requests_total)", Vector),
    ("stddev(rate(http_requests_total[5m])) / stdvar(up) + group(up)", Vector),
    ("node_cpu_seconds_total atan2 node_load1", Vector),
    (
        r#"kube_pod_info * on(namespace, pod) group_left(node) kube_pod_labels{label_app="cart"}"#,
        Vector,
    ),
    ("a * on(instance) group_right(job, env) b", Vector),
    ("up unless on(job) absent(up)", Vector),
    ("up > bool 0", Vector),
    ("2 * 3 ^ 2 - 1", Scalar),
    ("2 ^ 3 ^ 2", Scalar),
    ("1 > bool 2", Scalar),
    // Prometheus documentation: functions
    (r#"absent(nonexistent{job="myjob"})"#, Vector),
    (r#"absent_over_time(nonexistent{job="myjob"}[1h])"#, Vector),
    (
        "histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[10m]))",
        Vector,
    ),
    (
        "histogram_quantile(0.9, sum by (job, le) (rate(http_request_duration_seconds_bucket[10m])))",
        Vector,
    ),
    (
        "histogram_fraction(0, 0.2, rate(http_request_duration_seconds[1h]))",
        Vector,
    ),
    (
        "histogram_sum(rate(http_request_duration_seconds[10m])) / histogram_count(rate(http_request_duration_seconds[10m]))",
        Vector,
    ),
    ("histogram_avg(rate(http_request_duration_seconds[5m]))", Vector),
    ("histogram_stddev(rate(http_request_duration_seconds[5m]))", Vector),
    (r#"increase(http_requests_total{job="api-server"}[5m])"#, Vector),
    (r#"irate(http_requests_total{job="api-server"}[5m])"#, Vector),
    (
        r#"label_join(up{job="api-server",src1="a",src2="b",src3="c"}, "foo", ",", "src1", "src2", "src3")"#,
        Vector,
    ),
    (
        r#"label_replace(up{job="api-server",service="a:c"}, "foo", "$1", "service", "(.*):.*")"#,
        Vector,
    ),
    ("predict_linear(node_filesystem_free_bytes[1h], 4 * 3600) < 0", Vector),
    (r#"delta(cpu_temp_celsius{host="zeus"}[2h])"#, Vector),
    ("deriv(node_memory_MemAvailable_bytes[1h])", Vector),
    (
        "changes(kube_pod_status_ready[10m]) + resets(process_cpu_seconds_total[10m])",
        Vector,
    ),
    ("clamp(up, 0, 1) + clamp_min(up, 0) + clamp_max(up, 1)", Vector),
    ("round(rate(http_requests_total[5m]), 0.5)", Vector),
    ("vector(1)", Vector),
    ("scalar(sum(up))", Scalar),
    ("time() - process_start_time_seconds", Vector),
    ("time() - 5m", Scalar),
    ("day_of_week() == 6 or day_of_month(vector(time())) > bool 28", Vector),
    (
        "hour() + minute() + month() + year() + days_in_month() + day_of_year()",
        Vector,
    ),
    ("quantile_over_time(0.99, http_request_duration_seconds[5m])", Vector),
    (
        "last_over_time(up[10m]) + present_over_time(up[10m]) + count_over_time(up[10m])",
        Vector,
    ),
    (
        "avg_over_time(up[1h30m]) - min_over_time(up[1h]) + max_over_time(up[1h]) + sum_over_time(up[1h])",
        Vector,
    ),
    ("stddev_over_time(up[1h]) + stdvar_over_time(up[1h])", Vector),
    ("timestamp(up) - time()", Vector),
    ("sort_desc(sum by (job) (up))", Vector),
    (r#"sort_by_label(up, "job", "instance")"#, Vector),
    ("abs(ceil(floor(exp(ln(log2(log10(sqrt(sgn(up)))))))))", Vector),
    (
        "sin(vector(pi())) + deg(cos(up)) + rad(tan(up)) + asinh(up) + atanh(up) + acosh(up)",
        Vector,
    ),
    ("idelta(node_load1[5m])", Vector),
    ("min_over_time(rate(http_requests_total[5m])[1h:5m] offset 1d)", Vector),
    // Common alerting rules
    (
        r#"100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))"#,
        Vector,
    ),
    (
        r#"(node_filesystem_avail_bytes{fstype!="tmpfs"} / node_filesystem_size_bytes) * 100 < 10"#,
        Vector,
    ),
    ("up == 0", Vector),
    ("increase(kube_pod_container_status_restarts_total[1h]) > 3", Vector),
    (
        "kube_deployment_status_replicas_available / kube_deployment_spec_replicas < 1",
        Vector,
    ),
    // Lexical corners
    (
        "# the error ratio\nsum(rate(errors_total[5m])) # per second\n/ sum(rate(requests_total[5m]))",
        Vector,
    ),
    ("0x1F + 1e3 + 1_000 + .5 + 5. + 1.5e-3 + 0755", Scalar),
    ("Inf", Scalar),
    ("-Inf", Scalar),
    ("NaN", Scalar),
    ("SUM BY (job) (up) AND ON(job) up", Vector),
    (r#"label_replace(up, 'dst', "$1", `src`, `(\d+)\.(.*)`)"#, Vector),
    (r#"up{job="a\"b",path="\u00e9\x41\101\n"}"#, Vector),
    ("sum", Vector),
    (r#"by{a="b"} + offset"#, Vector),
    ("rate(http_requests_total[300] offset 60)", Vector),
    (r#"{"http.server.duration", "service.name"="cart"}"#, Vector),
    (
        r#"sum by ("service.name", le) (rate({"http.server.duration_bucket"}[5m]))"#,
        Vector,
    ),
    ("-up", Vector),
    ("- - 1", Scalar),
    ("up @ -5", Vector),
];

/// Queries Prometheus rejects (or that return a type Argo Rollouts cannot use), with the message and
/// the exact offending characters.
const INVALID: &[(&str, &str, std::ops::Range<usize>)] = &[
    // Names
    ("rat(foo[5m])", "unknown function `rat`", 0..3),
    ("Rate(foo[5m])", "unknown function `Rate`", 0..4),
    ("on{job=\"a\"}", "expected an expression, found the keyword `on`", 0..2),
    // Unclosed and unmatched delimiters
    ("sum(rate(foo[5m])", "expected `)` to close this `(`", 3..4),
    ("(1 + 2", "expected `)` to close this `(`", 0..1),
    ("foo{job=\"a\"", "expected `}` to close this `{`", 3..4),
    ("foo[5m", "expected `]` to close this `[`", 3..4),
    ("up )", "this `)` has no matching `(`", 3..4),
    (
        "foo{job=\"a",
        "this string is never closed: expected a closing `\"`",
        8..9,
    ),
    // Unexpected tokens
    ("", "the query is empty", 0..0),
    ("sum(up) +", "expected an expression, found the end of the query", 9..9),
    (
        "foo bar",
        "expected an operator or the end of the query, found `bar`",
        4..7,
    ),
    ("(foo bar)", "expected an operator or `)`, found `bar`", 5..8),
    ("foo{job=a}", "expected a quoted value after `=`, found `a`", 8..9),
    ("foo{job~\"a\"}", "unexpected character `~` in a label matcher", 7..8),
    ("foo{a=\"b\",,}", "expected a label name or `}`, found `,`", 10..11),
    ("rate(foo[5m],)", "trailing `,` after the last argument", 12..13),
    (
        "sum(up) by job",
        "expected `(` and a list of labels after `by`, found `job`",
        11..14,
    ),
    (
        "sum by (without) (foo)",
        "expected a label name or `)`, found the keyword `without`",
        8..15,
    ),
    (
        "sum by (le) (foo) by (x)",
        "this `sum` already has its grouping before the arguments",
        18..20,
    ),
    (
        "sum(foo) by (a) without (b)",
        "this `sum` already has its grouping",
        16..23,
    ),
    ("`abc", "this string is never closed: expected a closing backtick", 0..1),
    ("'a\\\"b'", "unknown escape sequence `\\\"`", 2..4),
    ("\"\\x4\"", "incomplete escape sequence `\\x4`", 1..4),
    ("foo{a==\"b\"}", "expected a quoted value after `=`, found `=`", 6..7),
    (
        "foo =~ \"a\"",
        "`=~` can only be used in a label matcher inside `{...}`",
        4..6,
    ),
    ("foo ! bar", "unexpected character `!`", 4..5),
    (
        "foo offset",
        "expected a duration after `offset`, found the end of the query",
        10..10,
    ),
    (
        "foo @ soon",
        "expected a Unix timestamp, `start()` or `end()` after `@`, found `soon`",
        6..10,
    ),
    // Numbers, durations and strings
    ("foo[5x]", "`5x` is not a valid number or duration", 4..6),
    ("foo[1.5h]", "`1.5h` is not a valid duration", 4..8),
    ("foo[5s1m]", "`5s1m` is not a valid duration", 4..8),
    ("foo[0s]", "a range must be a duration longer than zero", 4..6),
    ("foo{a=~\"\\d+\"}", "unknown escape sequence `\\d`", 8..10),
    (
        "foo{a=\"\\xZZ\"}",
        "unexpected character `Z` in an escape sequence",
        7..10,
    ),
    // Regular expressions
    (
        "foo{a=~\"(5\"}",
        "invalid regular expression: this `(` is never closed",
        8..9,
    ),
    (
        "foo{a=~\"a)\"}",
        "invalid regular expression: this `)` has no matching `(`",
        9..10,
    ),
    (
        "foo{a=~\"x{1001}\"}",
        "invalid regular expression: invalid repeat count `{1001}`",
        9..15,
    ),
    (
        "foo{a=~\"a**\"}",
        "invalid regular expression: `**` repeats a repetition",
        9..11,
    ),
    (
        "foo{a=~\"[z-a]\"}",
        "invalid regular expression: invalid character range `z-a`",
        9..12,
    ),
    (
        "foo{a=~\"(?=x)\"}",
        "invalid regular expression: unsupported group syntax `(?=`",
        8..11,
    ),
    (
        "foo{a=~\"*a\"}",
        "invalid regular expression: `*` has nothing to repeat",
        8..9,
    ),
    (
        "foo{a=~\"[a\"}",
        "invalid regular expression: this `[` is never closed with `]`",
        8..9,
    ),
    (
        "label_replace(up, \"foo\", \"$1\", \"bar\", \"(.*\")",
        "invalid regular expression: this `(` is never closed",
        39..40,
    ),
    // Modifiers and ranges
    (
        "foo offset 5m [5m]",
        "`offset` must come after the range, as in `foo[5m] offset 1h`",
        4..13,
    ),
    (
        "rate(foo[5m]) offset 5m",
        "`offset` can only follow a selector, a range selector or a subquery",
        14..23,
    ),
    ("foo offset 5m offset 1h", "`offset` is given twice", 14..23),
    ("foo @ start() @ 1", "`@` is given twice", 14..17),
    ("foo @ NaN", "the `@` timestamp is out of range", 6..9),
    ("sum(foo)[5m]", "a range can only follow a metric selector", 8..12),
    // Arguments
    (
        "histogram_quantile(0.9)",
        "`histogram_quantile` needs 2 arguments, found 1",
        22..23,
    ),
    ("rate()", "`rate` needs 1 argument, found none", 5..6),
    ("rate(foo[5m], 1)", "`rate` takes 1 argument, found 2", 14..15),
    ("time(1)", "`time` takes no arguments, found 1", 5..6),
    ("round(up, 1, 2)", "`round` takes at most 2 arguments, found 3", 13..14),
    (
        "label_join(up, \"a\")",
        "`label_join` needs at least 3 arguments, found 2",
        18..19,
    ),
    (
        "rate(foo)",
        "the argument of `rate` must be a range vector, found an instant vector",
        5..8,
    ),
    (
        "abs(foo[5m])",
        "the argument of `abs` must be an instant vector, found a range vector",
        4..11,
    ),
    (
        "histogram_quantile(up, foo)",
        "argument 1 of `histogram_quantile` must be a scalar, found an instant vector",
        19..21,
    ),
    (
        "label_replace(up, 1, \"$1\", \"a\", \".*\")",
        "argument 2 of `label_replace` must be a string, found a scalar",
        18..19,
    ),
    ("sum()", "`sum` needs an expression to aggregate", 3..5),
    (
        "topk(5)",
        "`topk` needs a parameter and an expression, found only one argument",
        4..7,
    ),
    ("topk(5, foo, bar)", "`topk` takes 2 arguments, found 3", 13..16),
    (
        "sum(foo[5m])",
        "`sum` aggregates an instant vector, found a range vector",
        4..11,
    ),
    (
        "topk(foo, bar)",
        "the parameter of `topk` must be a scalar, found an instant vector",
        5..8,
    ),
    (
        "count_values(1, foo)",
        "the parameter of `count_values` must be a string, found a scalar",
        13..14,
    ),
    // Operators
    (
        "1 > 2",
        "a comparison between two scalars needs the `bool` modifier",
        2..3,
    ),
    (
        "foo + bool bar",
        "`bool` can only follow a comparison operator, not `+`",
        6..10,
    ),
    ("foo and 1", "`and` works on instant vectors only, found a scalar", 8..9),
    (
        "1 + on(job) foo",
        "`on(...)` can only be used between two instant vectors",
        4..11,
    ),
    (
        "foo and on(a) group_left bar",
        "a set operator like `and` cannot have a group modifier",
        14..24,
    ),
    (
        "foo * on(a) group_left(a) bar",
        "label `a` cannot be both in `on(...)` and in the group modifier",
        23..24,
    ),
    (
        "foo[5m] + 1",
        "the operands of `+` must be scalars or instant vectors, found a range vector",
        0..7,
    ),
    (
        "-\"a\"",
        "unary `-` needs a scalar or an instant vector, found a string",
        1..4,
    ),
    (
        "max_over_time(foo[5m][10m:])",
        "a subquery needs an instant-vector expression, found a range vector",
        14..21,
    ),
    // Selectors
    (
        "{job=\"\"}",
        "this selector would select every series: it needs a metric name or a label matcher that does not match the empty string",
        0..8,
    ),
    (
        "{job=~\".*\", env!=\"prod\"}",
        "this selector would select every series: it needs a metric name or a label matcher that does not match the empty string",
        0..24,
    ),
    (
        "foo{\"bar\"}",
        "the metric name is set twice: `foo` before the braces and `__name__` inside them",
        4..9,
    ),
    // Result types
    (
        "\"str\"",
        "this query returns a string, not a number or an instant vector",
        0..5,
    ),
    (
        "foo[5m]",
        "this query returns a range vector, which Argo Rollouts cannot evaluate",
        0..7,
    ),
    (
        "rate(foo[5m])[30m:1m]",
        "this query returns a range vector, which Argo Rollouts cannot evaluate",
        0..21,
    ),
];

#[test]
fn valid_queries_parse_with_their_type() {
    assert!(VALID.len() >= 60, "{} valid queries", VALID.len());
    for (query, expected) in VALID {
        match parse(query) {
            Ok(parsed) => {
                assert_eq!(parsed.value_type(), *expected, "type of {query:?}");
                assert_eq!(parsed.expr().span().end, query.trim_end().len(), "{query:?}");
                for expr in parsed.expr().descendants() {
                    let span = expr.span();
                    assert!(span.start < span.end && span.end <= query.len(), "{query:?}: {span:?}");
                }
                for selector in parsed.selectors() {
                    for matcher in &selector.matchers {
                        assert!(selector.span.start <= matcher.span.start && matcher.span.end <= selector.span.end);
                    }
                }
            }
            Err(error) => panic!("{query:?} was rejected: {error:?}"),
        }
    }
}

#[test]
fn invalid_queries_report_the_message_at_the_offending_characters() {
    assert!(INVALID.len() >= 40, "{} invalid queries", INVALID.len());
    let mut failures = Vec::new();
    for (query, message, span) in INVALID {
        match parse(query) {
            Ok(_) => failures.push(format!("{query:?} was accepted")),
            Err(error) => {
                if error.message != *message || error.span != *span {
                    failures.push(format!(
                        "{query:?}\n   expected {message:?} at {span:?}\n   found    {:?} at {:?} ({:?})",
                        error.message,
                        error.span,
                        query.get(error.span.clone())
                    ));
                }
                assert!(
                    !error.message.ends_with('.'),
                    "{query:?}: message ends with a full stop"
                );
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn messages_are_lowercase_and_name_no_internal_tokens() {
    for (query, _, _) in INVALID {
        let error = parse(query).unwrap_err();
        let first = error.message.chars().next().unwrap();
        assert!(!first.is_uppercase(), "{query:?}: {}", error.message);
        for internal in [
            "IDENTIFIER",
            "LEFT_PAREN",
            "RIGHT_PAREN",
            "EOF",
            "<op:",
            "<aggr:",
            "Kind::",
            "Token",
        ] {
            assert!(!error.message.contains(internal), "{query:?}: {}", error.message);
        }
    }
}

#[test]
fn helps() {
    let cases: &[(&str, &str)] = &[
        ("rat(foo[5m])", "did you mean `rate`?"),
        ("Rate(foo[5m])", "did you mean `rate`?"),
        ("histogram_quantil(0.9, foo)", "did you mean `histogram_quantile`?"),
        ("summ(foo)", "did you mean `sum`?"),
        ("sum_over_tim(foo[5m])", "did you mean `sum_over_time`?"),
        ("rate(foo)", "add a range to the selector, as in `foo[5m]`"),
        ("1 > 2", "write `> bool`; the result is 1 when true and 0 when false"),
        ("rate(foo[5m],)", "remove the `,` before `)`"),
        ("foo{job=a}", "quote the value, as in `job=\"...\"`"),
        (
            "sum(foo[5m])",
            "apply a function such as `rate(...)` to the range first, or use `sum_over_time(...)` to aggregate over time",
        ),
        (
            "sum(rate(foo[5m]))[5m]",
            "to evaluate an expression over a range, use a subquery such as `[5m:1m]`",
        ),
        (
            "histogram_quantile(0.9)",
            "call it as `histogram_quantile(scalar, instant vector)`",
        ),
    ];
    for (query, help) in cases {
        let error = parse(query).unwrap_err();
        assert_eq!(error.help.as_deref(), Some(*help), "{query:?}: {error:?}");
    }
    assert_eq!(parse("frobnicate(foo)").unwrap_err().help, None);
}

/// Every prefix of every query (valid or not) is parsed without a panic, and an error's span lies
/// within the input.
#[test]
fn every_prefix_fails_cleanly() {
    let queries = VALID.iter().map(|(q, _)| *q).chain(INVALID.iter().map(|(q, _, _)| *q));
    let mut checked = 0;
    for query in queries {
        for end in (0..=query.len()).filter(|&end| query.is_char_boundary(end)) {
            let prefix = &query[..end];
            if let Err(error) = parse(prefix) {
                assert!(
                    error.span.start <= error.span.end && error.span.end <= prefix.len(),
                    "{prefix:?}: span {:?} outside the input",
                    error.span
                );
                assert!(prefix.is_char_boundary(error.span.start) && prefix.is_char_boundary(error.span.end));
                assert!(!error.message.is_empty());
            }
            checked += 1;
        }
    }
    assert!(checked > 5000, "{checked}");
}

/// The same for the suffixes, and for queries with one character removed: other broken shapes.
#[test]
fn every_suffix_and_deletion_fails_cleanly() {
    for (query, _) in VALID {
        let boundaries: Vec<usize> = (0..=query.len()).filter(|&i| query.is_char_boundary(i)).collect();
        for pair in boundaries.windows(2) {
            let (at, next) = (pair[0], pair[1]);
            for variant in [query[at..].to_string(), format!("{}{}", &query[..at], &query[next..])] {
                if let Err(error) = parse(&variant) {
                    assert!(
                        error.span.end <= variant.len() && error.span.start <= error.span.end,
                        "{variant:?}"
                    );
                }
            }
        }
    }
}

fn nested_parens(depth: usize) -> String {
    format!("{}1{}", "(".repeat(depth), ")".repeat(depth))
}

#[test]
fn nesting_is_bounded() {
    // 199 parentheses make 200 levels with the top one; 200 are too many.
    assert_eq!(parse(&nested_parens(MAX_DEPTH - 1)).unwrap().value_type(), Scalar);
    let error = parse(&nested_parens(MAX_DEPTH)).unwrap_err();
    assert_eq!(error.message, "the query nests more than 200 levels deep");
    assert_eq!(error.span, 199..200);

    let calls = format!("{}up{}", "abs(".repeat(MAX_DEPTH - 1), ")".repeat(MAX_DEPTH - 1));
    assert!(parse(&calls).is_ok());
    let calls = format!("{}up{}", "abs(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(parse(&calls).unwrap_err().span, 4 * 199 + 3..4 * 199 + 4);

    // A chain of operators builds a tree as deep as it is long, although nothing is nested.
    let chain = |n: usize| format!("1{}", " + 1".repeat(n));
    assert!(parse(&chain(MAX_DEPTH - 1)).is_ok());
    let error = parse(&chain(MAX_DEPTH)).unwrap_err();
    assert_eq!(error.span, 4 * 199 + 2..4 * 199 + 3);
    let minus = format!("{}up", "-".repeat(MAX_DEPTH));
    assert_eq!(parse(&minus).unwrap_err().span, 199..200);
    let power = format!("2{}", " ^ 2".repeat(MAX_DEPTH));
    assert!(parse(&power).is_err());
    let subqueries = format!("max_over_time(rate(up[5m]){})", "[1h:]".repeat(MAX_DEPTH));
    assert!(parse(&subqueries).is_err());
}

/// Deep, long and repetitive inputs fail (or pass) without overflowing the stack; each of these
/// is parsed in time linear in its length.
#[test]
fn hostile_inputs_fail_cleanly() {
    for query in [
        "(".repeat(100_000),
        format!("{}1", "(".repeat(100_000)),
        format!("1{}", " + 1".repeat(100_000)),
        format!("1{}", "^1".repeat(100_000)),
        "-".repeat(100_000),
        format!("sum({}up", "sum(".repeat(50_000)),
        format!("up{}", "[1m:]".repeat(100_000)),
        format!("{{a=~\"{}\"}}", "(".repeat(100_000)),
        format!("{{a=~\"{}a{}\"}}", "(".repeat(5_000), ")".repeat(5_000)),
        "{".repeat(10_000),
        "\"".repeat(10_001),
        format!("foo{{a=~\"[{}\"}}", "[:".repeat(50_000)),
        format!("foo{{a=~\"{}\"}}", "(?P<a".repeat(20_000)),
        format!("{}(up)", "a".repeat(100_000)),
        format!("foo{{{}}}", "a=\"b\",".repeat(20_000)),
        format!("1{}", " + (1)".repeat(20_000)),
    ] {
        if let Err(error) = parse(&query) {
            assert!(error.span.start <= error.span.end && error.span.end <= query.len());
        }
    }
}

#[test]
fn the_tree_keeps_spans_and_matchers() {
    let text = r#"sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="checkout"}[5m]))"#;
    let query = parse(text).unwrap();
    let selectors = query.selectors();
    assert_eq!(selectors.len(), 2);
    for selector in &selectors {
        assert_eq!(selector.metric_name(), Some("http_requests_total"));
        let services: Vec<_> = selector.matchers_on("service").collect();
        assert_eq!(services.len(), 1);
        assert_eq!(services[0].op, MatchOp::Equal);
        assert_eq!(services[0].value.value, "checkout");
        assert_eq!(&text[services[0].value.span.clone()], "\"checkout\"");
        assert_eq!(&text[services[0].span.clone()], "service=\"checkout\"");
    }
    let Expr::Binary(binary) = query.expr() else {
        panic!("{:?}", query.expr())
    };
    assert_eq!(binary.op, BinaryOp::Div);
    assert_eq!(&text[binary.op_span.clone()], "/");
    assert_eq!(binary.span, 0..text.len());
    let Expr::Aggregate(sum) = &binary.lhs else { panic!() };
    assert_eq!(sum.op, AggregateOp::Sum);
    let Expr::Call(rate) = &sum.expr else { panic!() };
    assert_eq!(rate.function.name, "rate");
    let Expr::Matrix(matrix) = &rate.args[0] else { panic!() };
    assert_eq!(matrix.range.seconds, 300.0);
    assert_eq!(
        &text[matrix.span.clone()],
        r#"http_requests_total{service="checkout",code=~"5.."}[5m]"#
    );
}

#[test]
fn precedence_and_associativity() {
    // Prints the tree with parentheses around every operation.
    fn show(expr: &Expr) -> String {
        match expr {
            Expr::Number(n) => n.value.to_string(),
            Expr::Selector(s) => s.metric_name().unwrap_or("{}").to_string(),
            Expr::Paren(p) => show(&p.expr),
            Expr::Unary(u) => format!("(-{})", show(&u.expr)),
            Expr::Binary(b) => format!("({} {} {})", show(&b.lhs), b.op.as_str(), show(&b.rhs)),
            other => format!("{other:?}"),
        }
    }
    for (query, tree) in [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("2 ^ 3 ^ 2", "(2 ^ (3 ^ 2))"),
        ("-a ^ 2", "(-(a ^ 2))"),
        ("-a * 2", "((-a) * 2)"),
        ("-2 ^ 2", "(-(2 ^ 2))"),
        ("-2 * 2", "(-2 * 2)"),
        ("a or b and c unless d", "(a or ((b and c) unless d))"),
        ("a == b + c", "(a == (b + c))"),
        ("a > bool 1 == bool 0", "((a > 1) == 0)"),
        ("a atan2 b * c", "((a atan2 b) * c)"),
        ("a % b / c", "((a % b) / c)"),
        ("2 ^ -1 * 3", "((2 ^ -1) * 3)"),
    ] {
        assert_eq!(show(parse(query).unwrap().expr()), tree, "{query}");
    }
}

#[test]
fn modifiers_and_literals() {
    let query = parse("rate(foo[5m] offset -1h30m @ end())").unwrap();
    let Expr::Call(call) = query.expr() else { panic!() };
    let Expr::Matrix(matrix) = &call.args[0] else { panic!() };
    let offset = matrix.selector.offset.as_ref().unwrap();
    assert_eq!(offset.seconds, -5400.0);
    assert_eq!(offset.span, 13..26);
    assert_eq!(matrix.selector.at.as_ref().unwrap().time, AtTime::End);
    assert_eq!(matrix.span, 5..34);

    let query = parse("max_over_time(up[1h:30s])").unwrap();
    let Expr::Call(call) = query.expr() else { panic!() };
    let Expr::Subquery(subquery) = &call.args[0] else {
        panic!()
    };
    assert_eq!(subquery.range.seconds, 3600.0);
    assert_eq!(subquery.step.as_ref().unwrap().seconds, 30.0);

    for (text, value) in [
        ("0x1F", 31.0),
        ("0xee", 238.0),
        ("0x1e5", 485.0),
        ("1e3", 1000.0),
        ("1_000", 1000.0),
        (".5", 0.5),
        ("0755", 493.0),
        ("09", 9.0),
        ("-1.5", -1.5),
        ("1m", 60.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("1y1w1d", 86400.0 * 373.0),
    ] {
        let Expr::Number(n) = parse(text).unwrap().into_expr() else {
            panic!("{text}")
        };
        assert_eq!(n.value, value, "{text}");
        assert_eq!(n.span, 0..text.len());
    }

    let query = parse(r#"up{a="\u00e9\x41\101\t", b='it\'s', c=`\d`}"#).unwrap();
    let values: Vec<_> = query.selectors()[0]
        .matchers
        .iter()
        .map(|m| m.value.value.clone())
        .collect();
    assert_eq!(values, ["éAA\t", "it's", "\\d"]);
}

#[test]
fn empty_matchers() {
    for (selector, matches_empty) in [
        (r#"{a=""}"#, true),
        (r#"{a="x"}"#, false),
        (r#"{a!=""}"#, false),
        (r#"{a!="x"}"#, true),
        (r#"{a=~".*"}"#, true),
        (r#"{a=~".+"}"#, false),
        (r#"{a=~"x|"}"#, true),
        (r#"{a=~"(x)?"}"#, true),
        (r#"{a=~"x{0,2}"}"#, true),
        (r#"{a=~"x{1,2}"}"#, false),
        (r#"{a=~"^$"}"#, true),
        (r#"{a=~"\\b"}"#, false),
        (r#"{a=~"[a-z]*"}"#, true),
        (r#"{a=~"\\Q\\E"}"#, true),
        (r#"{a!~".*"}"#, false),
        (r#"{a!~".+"}"#, true),
    ] {
        let result = parse(&format!("foo{selector}")).unwrap();
        let matcher = &result.selectors()[0].matchers[0];
        assert_eq!(matcher.matches_empty(), matches_empty, "{selector}");
        assert_eq!(parse(selector).is_ok(), !matches_empty, "{selector}");
    }
}

#[test]
fn regular_expressions() {
    for valid in [
        "5..",
        "a|b",
        "(?i)error",
        "(?i:a)b",
        "(?P<name>x)",
        "(?<name>x)",
        "[[:alpha:]_-]+",
        "\\pL\\p{Greek}\\P{^Lu}",
        "a{2}b{2,}c{2,5}",
        "x{",
        "x{,5}",
        "a*?b+?c??",
        "\\d\\D\\s\\S\\w\\W\\b\\B\\A\\z",
        "\\x41\\x{1F600}\\101\\0",
        "\\Q*+?\\E",
        "[]a]",
        "[^]a]",
        "[a-]",
        "\\.\\*\\_",
        "(a{10}){100}",
        "^*",
    ] {
        assert!(regex::check(valid).is_ok(), "{valid}: {:?}", regex::check(valid));
    }
    for (invalid, message) in [
        ("(", "this `(` is never closed"),
        ("a)", "this `)` has no matching `(`"),
        ("a)(b", "this `)` has no matching `(`"),
        ("\\p{Foo}", "unknown Unicode class `\\p{Foo}`"),
        ("[a", "this `[` is never closed with `]`"),
        ("a**", "`**` repeats a repetition"),
        ("a{2}{3}", "`{2}{3}` repeats a repetition"),
        ("+a", "`+` has nothing to repeat"),
        ("a|*", "`*` has nothing to repeat"),
        ("a{1001}", "invalid repeat count `{1001}`"),
        ("a{3,2}", "invalid repeat count `{3,2}`"),
        ("(a{100}){100}", "invalid repeat count `{100}`"),
        ("\\1", "invalid escape sequence `\\1`"),
        ("\\q", "invalid escape sequence `\\q`"),
        ("\\", "the pattern ends with a lone backslash"),
        ("[\\b]", "invalid escape sequence `\\b`"),
        ("\\C", "`\\C` (any byte) is not supported"),
        ("\\p{Foo_1}", "unknown Unicode class `\\p{Foo_1}`"),
        ("\\pX", "unknown Unicode class `\\pX`"),
        ("[[:alfa:]]", "unknown character class `[:alfa:]`"),
        ("(?<a-b>x)", "invalid group name `a-b`"),
        ("(?x)", "unsupported group syntax `(?x`"),
        ("(?i-)", "unsupported group syntax `(?i-)`"),
    ] {
        assert_eq!(
            regex::check(invalid).map_err(|e| e.message),
            Err(message.to_string()),
            "{invalid}"
        );
    }
}

#[test]
fn caveats_list_what_a_default_prometheus_refuses() {
    let query = parse(r#"sort_by_label(limitk(2, up), "job") + holt_winters(up[1h], 0.5, 0.5)"#).unwrap();
    let caveats = query.caveats();
    let spans: Vec<_> = caveats.iter().map(|c| c.span.clone()).collect();
    assert_eq!(spans, [0..13, 14..20, 38..50]);
    assert!(
        caveats[0]
            .message
            .contains("--enable-feature=promql-experimental-functions")
    );
    assert!(parse("rate(up[5m])").unwrap().caveats().is_empty());
}

#[test]
fn function_table_is_consistent() {
    for pair in FUNCTIONS.windows(2) {
        assert!(pair[0].name < pair[1].name, "{} {}", pair[0].name, pair[1].name);
    }
    for function in FUNCTIONS {
        assert!(
            function.min_args() <= function.max_args().unwrap_or(usize::MAX),
            "{}",
            function.name
        );
    }
}
