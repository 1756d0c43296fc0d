//! The registry of diagnostic codes: one entry per problem shipc can report.
//!
//! Families: E00xx internal, E01xx syntax, E02xx names and imports, E03xx types and units, E04xx
//! pipelines, E05xx release and analysis, E06xx Kubernetes limits, W07xx policy warnings. A code is never
//! reused for another problem; `docs/diagnostics.md` lists them all.

use super::Severity;

macro_rules! codes {
    ($($code:ident $name:literal $summary:literal;)*) => {
        /// A diagnostic code. Each names one pattern of problem, as its kebab-case [`Code::name`] says.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(
                #[doc = $summary]
                $code,
            )*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$code),*];

            /// The code as users write it, e.g. `E0301`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code),)*
                }
            }

            /// The kebab-case name of the problem, e.g. `expected-unit`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$code => $name,)*
                }
            }

            /// One line saying what the problem is.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Code::$code => $summary,)*
                }
            }
        }
    };
}

codes! {
    E0001 "internal-error" "shipc reached a state it should never reach; this is a bug in shipc";

    E0101 "syntax-error" "the text does not follow the grammar of the language";
    E0102 "invalid-escape" "a string contains a backslash escape the language does not define";
    E0103 "unterminated-string" "a string is not closed before the end of its line or of the file";
    E0104 "too-complex" "brackets are nested too deep, or a condition or guard has too many terms";
    E0105 "invalid-interpolation" "a `${...}` inside a string is not a dotted name";
    E0106 "number-too-large" "a number literal does not fit the compiler's numbers";
    E0107 "invalid-utf8" "a source file is not UTF-8 text";
    E0108 "file-too-large" "a source file is larger than shipc reads";

    E0201 "unknown-name" "a name refers to nothing that is declared or imported";
    E0202 "duplicate-definition" "two declarations, fields or entries have the same name";
    E0203 "unresolved-import" "an imported file or standard library module does not exist or cannot be read";
    E0204 "import-cycle" "files import each other in a cycle";
    E0205 "import-outside-project" "an import leaves the project root";
    E0206 "missing-platform" "a service is declared in a file that sees no `platform`";
    E0207 "ambiguous-platform" "a file sees more than one `platform`";
    E0208 "unknown-field" "a block sets a field it does not have";
    E0209 "duplicate-field" "a field, key, option or argument is given twice";
    E0210 "missing-field" "a block leaves out a field it needs";
    E0211 "unknown-parameter" "a call or interpolation names a parameter that does not exist";
    E0212 "missing-argument" "a call leaves out a parameter that has no default";
    E0213 "too-many-arguments" "a call passes more positional arguments than there are parameters";
    E0214 "private-item" "a name is used outside the file that declares it `private`";

    E0301 "expected-unit" "a bare number stands where a quantity with a unit is required";
    E0302 "type-mismatch" "a value has a different type than the field or parameter takes";
    E0303 "inverted-range" "the lower bound of a range is greater than its upper bound";
    E0304 "request-above-limit" "a resource request is greater than its limit";
    E0305 "value-out-of-range" "a value is outside what the field accepts";
    E0306 "unknown-unit" "a unit the language does not know, or one that does not fit the value";
    E0307 "autoscale-without-range" "`autoscale` is set but `replicas` is a single number";
    E0308 "range-without-autoscale" "`replicas` is a range but no `autoscale` target is set";
    E0309 "autoscale-without-request" "CPU autoscaling is set but the service requests no CPU";

    E0401 "dependency-cycle" "pipeline tasks wait for each other in a cycle";
    E0402 "unknown-task" "`after` or a reference names a task the pipeline does not have";
    E0403 "undeclared-output" "a task reads an output that the task it names does not declare";
    E0404 "script-injection" "a value from the git event is pasted into the text of a shell script";
    E0405 "pipeline-too-large" "a pipeline needs more templates than one WorkflowTemplate may hold";
    E0406 "unknown-trigger" "an `on` clause names an event a pipeline cannot be started by";
    E0407 "check-without-deploy" "a pipeline checks an environment it never deploys to";
    E0408 "run-and-command" "a step sets both a `run` script and a `command` or `args`";

    E0501 "unknown-release-strategy" "a `release` names a strategy the compiler does not know";
    E0502 "threshold-unit-mismatch" "a rollback threshold is in a unit the metric cannot be compared with";
    E0503 "and-across-metrics" "`and` joins conditions on two different metrics";
    E0504 "auto-promotion-without-analysis" "`promote = auto` with nothing that could stop a bad version";
    E0505 "analysis-outlasts-scale-down" "the post-promotion analysis runs longer than `scale_down_delay`";
    E0506 "rollback-never-triggers" "`tolerate` allows as many failures as there are samples";
    E0507 "unsupported-check" "a check asks for something its provider cannot verify";
    E0508 "argo-template-in-string" "a string contains `{{`, which Argo would treat as a template";
    E0509 "invalid-address" "an address is not an absolute `http` or `https` URL";
    E0510 "missing-prometheus" "a Prometheus metric is used but the platform has no `prometheus` address";
    E0511 "promotion-outruns-analysis" "`promote = auto(after: ..)` would promote before the pre-promotion analysis ends";
    E0512 "tolerate-across-metrics" "`tolerate` on a rule that watches more than one metric";
    E0513 "invalid-promql" "a metric's query is not valid PromQL";
    E0514 "query-not-a-vector" "a metric's query returns a scalar, which rollback conditions cannot read";
    E0515 "invalid-json-path" "a check's `json_path` is not a path of keys and indexes such as `$.checks[0].status`";
    E0520 "block-of-other-strategy" "a release has a block that belongs to the other release strategy";
    E0521 "canary-weight-decreases" "a canary `weight` step is not above an earlier one";
    E0522 "canary-ends-unguarded" "a canary's last step neither reaches 100% nor waits for a person or an analysis";
    E0530 "malformed-metrics-data" "a recorded metrics file for `shipc simulate` is not a Prometheus answer or OpenMetrics text";
    E0531 "missing-metrics-data" "`shipc simulate` has no recorded data for a metric the release measures";

    E0601 "invalid-kubernetes-name" "a name shipc derives for a Kubernetes object is not valid there";
    E0602 "invalid-image" "an image reference is not one a container runtime accepts";

    W0701 "credential-literal" "an environment variable that looks like a credential has a literal value";
    W0702 "missing-readiness-probe" "a service has no readiness probe";
    W0703 "single-replica" "a service runs fewer than 2 replicas";
    W0704 "missing-resource-limits" "a service sets no CPU or memory limit";
    W0705 "latest-image-tag" "an image uses the moving `latest` tag";
    W0706 "promql-needs-feature" "a query uses a PromQL function a default Prometheus refuses";
}

impl Code {
    /// Errors start with `E`, warnings with `W`.
    pub fn severity(self) -> Severity {
        if self.as_str().starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// The code a user typed: `E0505`, `e0505` or its name `analysis-outlasts-scale-down`, in any case.
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|code| code.as_str().eq_ignore_ascii_case(text) || code.name().eq_ignore_ascii_case(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let names: BTreeSet<_> = Code::ALL.iter().map(|code| code.name()).collect();
        assert_eq!(names.len(), Code::ALL.len());
        for code in Code::ALL {
            assert!(
                code.name()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            );
            assert!(!code.summary().ends_with('.'), "{}", code.as_str());
        }
    }

    #[test]
    fn parse_reads_a_code_in_either_case_or_its_name() {
        let cases = [
            ("E0505", Some(Code::E0505)),
            ("e0505", Some(Code::E0505)),
            ("analysis-outlasts-scale-down", Some(Code::E0505)),
            ("Analysis-Outlasts-Scale-Down", Some(Code::E0505)),
            ("W0705", Some(Code::W0705)),
            ("w0705", Some(Code::W0705)),
            ("latest-image-tag", Some(Code::W0705)),
            ("E0001", Some(Code::E0001)),
            ("E9999", None),
            ("E050", None),
            ("0505", None),
            (" E0505", None),
            ("analysis_outlasts_scale_down", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(Code::parse(text), expected, "{text:?}");
        }
    }

    #[test]
    fn parse_reads_back_every_code_and_name() {
        for code in Code::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(*code));
            assert_eq!(Code::parse(&code.as_str().to_ascii_lowercase()), Some(*code));
            assert_eq!(Code::parse(code.name()), Some(*code));
        }
    }
}
