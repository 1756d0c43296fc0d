//! Kubernetes naming rules for the names shipc derives and the names users give.
//!
//! A service called `checkout` becomes a Rollout `checkout`, Services `checkout-active` and
//! `checkout-preview` (blue/green) or `checkout-stable` and `checkout-canary` (canary) (DNS-1035
//! labels: 63 characters at most, lowercase, starting with a letter), AnalysisTemplates, an HPA, a PDB
//! and, for a canary behind NGINX, an Ingress. The longest derived Service name decides how long a
//! service name may be.

use super::Checker;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::Ident;

/// The suffixes of the Services of a blue/green release, which must be DNS-1035 labels.
pub const BLUE_GREEN_SERVICE_SUFFIXES: &[&str] = &["-active", "-preview"];

/// The suffixes of the Services of a canary release.
pub const CANARY_SERVICE_SUFFIXES: &[&str] = &["-stable", "-canary"];

/// The longest a DNS label may be.
pub const MAX_LABEL_LEN: usize = 63;

/// Why `name` is not a DNS-1035 label (lowercase letters, digits and `-`, starting with a letter and
/// ending with a letter or digit, at most 63 characters), or `None` if it is one.
pub fn dns1035_label_problem(name: &str) -> Option<String> {
    if let Some(problem) = dns1123_label_problem(name) {
        return Some(problem);
    }
    (!name.starts_with(|c: char| c.is_ascii_lowercase())).then(|| "it must start with a lowercase letter".to_string())
}

/// Why `name` is not a DNS-1123 label (as DNS-1035, but it may start with a digit), or `None`.
pub fn dns1123_label_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.len() > MAX_LABEL_LEN {
        return Some(format!("it has {} characters, more than {MAX_LABEL_LEN}", name.len()));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(if bad.is_ascii_uppercase() {
            "it has uppercase letters; only lowercase letters, digits and `-` are allowed".into()
        } else {
            format!("it contains `{bad}`; only lowercase letters, digits and `-` are allowed")
        });
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("it must start and end with a letter or digit".into());
    }
    None
}

/// Why `name` is not a DNS-1123 subdomain (labels joined by `.`, at most 253 characters), or `None`.
pub fn dns1123_subdomain_problem(name: &str) -> Option<String> {
    if name.len() > 253 {
        return Some(format!("it has {} characters, more than 253", name.len()));
    }
    name.split('.').find_map(dns1123_label_problem)
}

/// The closest valid spelling of a name: lowercase, `_` as `-`.
fn normalized(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// The Service suffixes of a release strategy (blue/green's for a strategy that is not known: that
/// mistake is reported at the strategy).
pub fn service_suffixes(strategy: &str) -> &'static [&'static str] {
    match strategy {
        "canary" => CANARY_SERVICE_SUFFIXES,
        _ => BLUE_GREEN_SERVICE_SUFFIXES,
    }
}

/// The AnalysisTemplate of a service's analysis called `analysis` (`slo_check` is `<service>-slo-check`).
pub fn analysis_template_name(service: &str, analysis: &str) -> String {
    format!("{service}-{}", analysis.replace('_', "-"))
}

/// Checks that a service name can name every object derived from it, given the suffixes of its
/// release strategy's Services.
pub fn check_service_name(checker: &mut Checker<'_>, name: &Ident, suffixes: &[&str]) -> bool {
    let longest_suffix = suffixes.iter().copied().max_by_key(|suffix| suffix.len()).unwrap_or("");
    let longest = format!("{}{longest_suffix}", name.name);
    let problem = dns1035_label_problem(&name.name)
        .map(|problem| (problem, None))
        .or_else(|| {
            (longest.len() > MAX_LABEL_LEN).then(|| {
                (
                    format!(
                        "the derived Service name `{longest}` has {} characters, more than {MAX_LABEL_LEN}",
                        longest.len()
                    ),
                    Some(format!(
                        "shorten the service name to at most {} characters",
                        MAX_LABEL_LEN - longest_suffix.len()
                    )),
                )
            })
        });
    let Some((problem, help)) = problem else {
        return true;
    };
    let help = help.unwrap_or_else(|| {
        let fixed = normalized(&name.name);
        if fixed != name.name
            && dns1035_label_problem(&fixed).is_none()
            && fixed.len() + longest_suffix.len() <= MAX_LABEL_LEN
        {
            format!("write `{fixed}`")
        } else {
            "use lowercase letters, digits and `-`, starting with a letter".into()
        }
    });
    let services: Vec<String> = suffixes
        .iter()
        .map(|suffix| format!("`{}{suffix}`", name.name))
        .collect();
    checker.report(
        Diagnostic::new(
            Code::E0601,
            name.span,
            format!("`{}` cannot name Kubernetes objects", name.name),
        )
        .label(problem)
        .help(help)
        .note(format!(
            "the service's Rollout, Services ({}), analyses, HPA and PDB are named after it",
            services.join(", ")
        )),
    );
    false
}

/// Checks that the AnalysisTemplate named after a service's analysis `analysis` is a valid name (the
/// service name itself is checked on its own).
pub fn check_analysis_name(checker: &mut Checker<'_>, service: &str, analysis: &Ident) -> bool {
    if dns1035_label_problem(service).is_some() {
        return true;
    }
    let template = analysis_template_name(service, &analysis.name);
    let Some(problem) = dns1123_subdomain_problem(&template) else {
        return true;
    };
    let mut diagnostic = Diagnostic::new(
        Code::E0601,
        analysis.span,
        format!("the analysis `{}` cannot name an AnalysisTemplate", analysis.name),
    )
    .label(format!("`{template}` is not a valid name: {problem}"));
    let fixed = normalized(&analysis.name).trim_end_matches('-').to_string();
    if !fixed.is_empty() && dns1123_subdomain_problem(&analysis_template_name(service, &fixed)).is_none() {
        diagnostic = diagnostic.help(format!("write `{fixed}`"));
    }
    checker.report(diagnostic);
    false
}

/// Checks the host name an Ingress serves: a DNS-1123 subdomain, not an IP address.
pub fn check_host(checker: &mut Checker<'_>, host: &str, span: Span) -> bool {
    let problem = if host.parse::<std::net::IpAddr>().is_ok() {
        Some("an Ingress host is a name, not an IP address".to_string())
    } else {
        dns1123_subdomain_problem(host)
    };
    report_if(
        checker,
        problem,
        span,
        format!("`{host}` is not a valid host name"),
        host,
    )
}

/// Checks a namespace name (a DNS-1123 label).
pub fn check_namespace(checker: &mut Checker<'_>, namespace: &str, span: Span) -> bool {
    report_if(
        checker,
        dns1123_label_problem(namespace),
        span,
        format!("`{namespace}` is not a valid namespace"),
        namespace,
    )
}

/// Checks a Secret name (a DNS-1123 subdomain).
pub fn check_secret_name(checker: &mut Checker<'_>, name: &str, span: Span) -> bool {
    report_if(
        checker,
        dns1123_subdomain_problem(name),
        span,
        format!("`{name}` is not a valid Secret name"),
        name,
    )
}

/// Checks a key of a Secret (letters, digits, `-`, `_` and `.`).
pub fn check_secret_key(checker: &mut Checker<'_>, key: &str, span: Span) -> bool {
    let problem = if key.is_empty() || key.len() > 253 {
        Some("it must have 1 to 253 characters".to_string())
    } else {
        key.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .map(|bad| format!("it contains `{bad}`; keys use letters, digits, `-`, `_` and `.`"))
    };
    if let Some(problem) = problem {
        checker.report(Diagnostic::new(Code::E0601, span, format!("`{key}` is not a valid Secret key")).label(problem));
        return false;
    }
    true
}

fn report_if(checker: &mut Checker<'_>, problem: Option<String>, span: Span, message: String, name: &str) -> bool {
    let Some(problem) = problem else {
        return true;
    };
    let fixed = normalized(name);
    let mut diagnostic = Diagnostic::new(Code::E0601, span, message).label(problem);
    if fixed != name && dns1123_subdomain_problem(&fixed).is_none() {
        diagnostic = diagnostic.help(format!("write `{fixed}`"));
    }
    checker.report(diagnostic);
    false
}

/// Why `image` is not a valid image reference (`[host[:port]/]path[:tag][@digest]`), or `None`.
pub fn image_problem(image: &str) -> Option<String> {
    if image.is_empty() {
        return Some("it is empty".into());
    }
    if image.contains(char::is_whitespace) {
        return Some("it contains whitespace".into());
    }
    if image.contains(char::is_control) {
        return Some("it contains a control character".into());
    }
    let (name_and_tag, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    if let Some(digest) = digest {
        let valid = digest.split_once(':').is_some_and(|(algorithm, hex)| {
            !algorithm.is_empty() && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        if !valid {
            return Some(format!("`@{digest}` is not a digest such as `@sha256:<64 hex digits>`"));
        }
    }
    let last_slash = name_and_tag.rfind('/').map_or(0, |idx| idx + 1);
    let (name, tag) = match name_and_tag.get(last_slash..).and_then(|last| last.rfind(':')) {
        Some(colon) => (
            name_and_tag.get(..last_slash + colon).unwrap_or(""),
            name_and_tag.get(last_slash + colon + 1..),
        ),
        None => (name_and_tag, None),
    };
    if let Some(tag) = tag {
        let valid = !tag.is_empty()
            && tag.len() <= 128
            && !tag.starts_with(['.', '-'])
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !valid {
            return Some(format!("`{tag}` is not a valid tag"));
        }
    }
    let mut components = name.split('/').peekable();
    let first = components.peek().copied().unwrap_or("");
    let has_host = name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_host {
        components.next();
    }
    for component in components {
        let valid = !component.is_empty()
            && component.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && component.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && component
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        if !valid {
            return Some(if component.chars().any(|c| c.is_ascii_uppercase()) {
                format!("the repository part `{component}` has uppercase letters")
            } else {
                format!("`{component}` is not a valid repository name")
            });
        }
    }
    None
}

/// Checks an image reference after interpolation.
pub fn check_image(checker: &mut Checker<'_>, image: &str, span: Span) -> bool {
    let Some(problem) = image_problem(image) else {
        return true;
    };
    checker.report(
        Diagnostic::new(Code::E0602, span, format!("`{image}` is not a valid image reference"))
            .label(problem)
            .help("write `registry.example.com/team/name:1.2.3`, or with a digest `...@sha256:...`"),
    );
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        for ok in ["checkout", "a", "payments-v2", &"a".repeat(63)] {
            assert_eq!(dns1035_label_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "Checkout",
            "order_history",
            "-x",
            "x-",
            "9lives",
            &"a".repeat(64),
            "ümlaut",
        ] {
            assert!(dns1035_label_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(dns1123_label_problem("9lives"), None);
        assert_eq!(dns1123_subdomain_problem("db.credentials-1"), None);
        assert!(dns1123_subdomain_problem("db..x").is_some());
    }

    #[test]
    fn derived_names_fit_when_the_service_name_does() {
        for suffix in BLUE_GREEN_SERVICE_SUFFIXES.iter().chain(CANARY_SERVICE_SUFFIXES) {
            let longest_ok = "a".repeat(MAX_LABEL_LEN - suffix.len());
            assert_eq!(dns1035_label_problem(&format!("{longest_ok}{suffix}")), None);
            assert!(dns1035_label_problem(&format!("{longest_ok}a{suffix}")).is_some());
        }
    }

    #[test]
    fn analysis_templates_are_named_in_kebab_case() {
        assert_eq!(analysis_template_name("cart", "slo_check"), "cart-slo-check");
    }

    #[test]
    fn image_references() {
        let ok = [
            "registry.example.com/shop/checkout",
            "registry.example.com:5000/shop/cart:2.4.1",
            "nginx",
            "library/nginx:1.27-alpine",
            "ghcr.io/org/app@sha256:4f2b6a8c1d3e5f7a9b0c2d4e6f8a0b1c3d5e7f9a1b2c3d4e5f6a7b8c9d0e1f2a",
            "localhost/app:dev",
        ];
        for image in ok {
            assert_eq!(image_problem(image), None, "{image}");
        }
        for bad in [
            "",
            "Registry.example.com/Shop/App",
            "app:",
            "app:-x",
            "a b",
            "app@sha256:xyz",
            "shop//app",
        ] {
            assert!(image_problem(bad).is_some(), "{bad}");
        }
    }
}
