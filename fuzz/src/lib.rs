//! What both fuzz targets do with a set of files: compile them, render every diagnostic both ways, and
//! hold shipc to its promises (no panic, no internal error, output only without errors, the same
//! output twice).

pub mod dictionary;

use shipc::diagnostics::render::{self, RenderOptions};
use shipc::{Code, LoadError, Loader};

/// Files in memory as raw bytes, decoded the way the command line decodes files on disk, so that
/// invalid UTF-8 reaches the same diagnostics.
pub struct ByteLoader {
    pub files: Vec<(String, Vec<u8>)>,
}

impl Loader for ByteLoader {
    fn load(&self, path: &str) -> Result<String, LoadError> {
        let (_, bytes) = self
            .files
            .iter()
            .find(|(name, _)| name == path)
            .ok_or(LoadError::NotFound)?;
        String::from_utf8(bytes.clone()).map_err(|error| LoadError::NotUtf8 {
            valid_up_to: error.utf8_error().valid_up_to(),
            text: String::from_utf8_lossy(error.as_bytes()).into_owned(),
        })
    }
}

/// Compiles every file as a root and checks the promises; panics (which libFuzzer reports) when one
/// is broken.
pub fn exercise(loader: &ByteLoader) {
    let roots: Vec<String> = loader.files.iter().map(|(path, _)| path.clone()).collect();
    let compilation = shipc::build(&roots, loader);
    for diagnostic in &compilation.diagnostics {
        assert_ne!(diagnostic.code, Code::E0001, "internal error: {diagnostic:?}");
    }
    let options = RenderOptions {
        color: false,
        width: 100,
    };
    render::human::render(&compilation.diagnostics, &compilation.sources, options);
    render::json::render(&compilation.diagnostics, &compilation.sources);
    if compilation.has_errors() {
        assert!(compilation.outputs.is_empty(), "output written despite errors");
    } else {
        let again = shipc::build(&roots, loader);
        assert_eq!(
            compilation.outputs, again.outputs,
            "two builds of the same input differ"
        );
    }
}
