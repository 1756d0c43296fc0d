//! "Did you mean" suggestions: the one place that picks a close name among candidates.

/// The candidate closest to `name`, if any is close enough to be worth suggesting.
///
/// An exact case-insensitive match wins; then the shortest candidate that the name is a prefix of, or
/// that is a prefix of the name (`scale_down` for `scale_down_delay`, at least 4 characters); otherwise
/// the smallest edit distance within a third of the name's length (at least 1), ties broken by sorted
/// order. Nothing is suggested when nothing is close.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut sorted: Vec<&str> = candidates.into_iter().filter(|c| *c != name).collect();
    sorted.sort_unstable();
    sorted.dedup();
    if let Some(exact) = sorted.iter().find(|c| c.eq_ignore_ascii_case(name)) {
        return Some(exact);
    }
    let is_prefix = |a: &str, b: &str| a.chars().count() >= 4 && b.starts_with(a);
    if let Some(extended) = sorted
        .iter()
        .filter(|c| is_prefix(name, c) || is_prefix(c, name))
        .min_by_key(|c| c.len())
    {
        return Some(extended);
    }
    let limit = (name.chars().count() / 3).max(1);
    sorted
        .into_iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// The help line for a suggestion, or `None` when there is nothing close.
pub fn help_for<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    did_you_mean(name, candidates).map(|candidate| format!("did you mean `{candidate}`?"))
}

/// Levenshtein distance in characters, with a transposition of two neighbours counted as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut rows = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for i in 0..=a.len() {
        if let Some(cell) = rows.get_mut(at(i, 0)) {
            *cell = i;
        }
    }
    for j in 0..=b.len() {
        if let Some(cell) = rows.get_mut(at(0, j)) {
            *cell = j;
        }
    }
    for (i, ca) in a.iter().enumerate() {
        for (j, cb) in b.iter().enumerate() {
            let get = |i, j| rows.get(at(i, j)).copied().unwrap_or(usize::MAX / 2);
            let cost = usize::from(ca != cb);
            let mut best = (get(i, j + 1) + 1).min(get(i + 1, j) + 1).min(get(i, j) + cost);
            let swapped = i > 0 && j > 0 && a.get(i - 1) == Some(cb) && b.get(j - 1) == Some(ca) && ca != cb;
            if swapped {
                best = best.min(get(i - 1, j - 1) + 1);
            }
            if let Some(cell) = rows.get_mut(at(i + 1, j + 1)) {
                *cell = best;
            }
        }
    }
    rows.get(at(a.len(), b.len())).copied().unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let cases: &[(&str, &[&str], Option<&str>)] = &[
            ("replica", &["replicas", "resources", "readiness"], Some("replicas")),
            ("eror_rate", &["error_rate", "latency"], Some("error_rate")),
            ("Image", &["image", "port"], Some("image")),
            ("x", &["image", "port"], None),
            ("prot", &["port", "image"], Some("port")),
            ("latency", &["latency"], None),
            ("abcdef", &["abcxyz", "abcdxy"], Some("abcdxy")),
            ("cat", &["bat", "hat"], Some("bat")),
            ("completely", &[], None),
            (
                "scale_down",
                &["promote", "scale_down_delay", "preview_replicas"],
                Some("scale_down_delay"),
            ),
            ("readiness_probe", &["readiness", "liveness"], Some("readiness")),
            ("re", &["readiness", "replicas"], None),
        ];
        for (name, candidates, expected) in cases {
            assert_eq!(did_you_mean(name, candidates.iter().copied()), *expected, "{name}");
        }
    }

    #[test]
    fn distances() {
        for (a, b, expected) in [
            ("", "abc", 3),
            ("abc", "abc", 0),
            ("abc", "acb", 1),
            ("kitten", "sitting", 3),
        ] {
            assert_eq!(edit_distance(a, b), expected, "{a} {b}");
        }
    }
}
