//! The tokens in `fuzz/ship.dict` (libFuzzer's dictionary format: one `"..."` per line, with `\"`,
//! `\\` and `\xNN` escapes), shared by the fuzz targets and the mutation test of the main suite.

/// The dictionary file.
pub const TEXT: &str = include_str!("../ship.dict");

/// Each token of a dictionary, as bytes; comments and blank lines are skipped.
pub fn tokens(text: &str) -> Vec<Vec<u8>> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix('"')?.strip_suffix('"'))
        .map(unescape)
        .collect()
}

fn unescape(quoted: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut rest = quoted.as_bytes();
    while let Some((&first, after)) = rest.split_first() {
        match (first, after) {
            (b'\\', [b'x', high, low, tail @ ..]) => {
                let hex = [*high, *low];
                let value = std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                bytes.push(value.unwrap_or(b'?'));
                rest = tail;
            }
            (b'\\', [escaped, tail @ ..]) => {
                bytes.push(*escaped);
                rest = tail;
            }
            _ => {
                bytes.push(first);
                rest = after;
            }
        }
    }
    bytes
}
