//! The long explanation of every diagnostic code, as `shipc explain CODE` prints it.
//!
//! Each explanation is a Markdown file in `docs/codes/`, compiled into the binary so that `explain`
//! works without the repository at hand. The match below has no catch-all arm and `include_str!`
//! needs its file, so a new code does not compile until its explanation is written. The test suite
//! (`tests/suite/explain.rs`) checks that every wrong example reports its code and every right one
//! checks clean.

use super::Code;

macro_rules! explanations {
    ($($code:ident)*) => {
        /// The Markdown explanation of `code`: a `# CODE: name` heading, what the problem is and why it
        /// matters, then a `## Wrong` and a `## Right` example.
        pub fn explanation(code: Code) -> &'static str {
            match code {
                $(Code::$code => include_str!(concat!("../../docs/codes/", stringify!($code), ".md")),)*
            }
        }
    };
}

explanations! {
    E0001
    E0101 E0102 E0103 E0104 E0105 E0106 E0107 E0108
    E0201 E0202 E0203 E0204 E0205 E0206 E0207 E0208 E0209 E0210 E0211 E0212 E0213 E0214
    E0301 E0302 E0303 E0304 E0305 E0306 E0307 E0308 E0309
    E0401 E0402 E0403 E0404 E0405 E0406 E0407 E0408
    E0501 E0502 E0503 E0504 E0505 E0506 E0507 E0508 E0509 E0510 E0511 E0512 E0513 E0514 E0515 E0520 E0521 E0522 E0530 E0531
    E0601 E0602
    W0701 W0702 W0703 W0704 W0705 W0706
}
