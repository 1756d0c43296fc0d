//! Arbitrary bytes as up to three files (split at `0xFF`, which UTF-8 never contains), named so
//! that they can import each other: `import "./b"` in the input reaches the second file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shipc_fuzz::{ByteLoader, exercise};

const NAMES: [&str; 3] = ["a.ship", "b.ship", "lib/c.ship"];

fuzz_target!(|data: &[u8]| {
    let files = data
        .split(|byte| *byte == 0xFF)
        .zip(NAMES)
        .map(|(bytes, name)| (name.to_string(), bytes.to_vec()))
        .collect();
    exercise(&ByteLoader { files });
});
