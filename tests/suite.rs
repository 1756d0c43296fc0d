//! The integration suite, built as one test binary.
