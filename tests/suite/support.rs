//! Helpers shared by the suite: fixtures into memory, stable rendering, insta settings, scratch dirs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use shipc::diagnostics::render::{self, RenderOptions};
use shipc::{Compilation, MemoryLoader};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `path` relative to the repository root, with `/` separators.
pub fn rel(path: &Path) -> String {
    let relative = path.strip_prefix(repo_root()).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every `.ship` file under `dir`, sorted.
pub fn ship_files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|entry| entry.unwrap().into_path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ship"))
        .collect();
    files.sort();
    files
}

/// A loader holding `files` under their repository-relative paths.
pub fn loader_for(files: &[PathBuf]) -> MemoryLoader {
    let mut loader = MemoryLoader::new();
    for file in files {
        loader.insert(rel(file), std::fs::read_to_string(file).unwrap());
    }
    loader
}

/// Diagnostics as the CLI prints them, without colour and at a fixed width, so snapshots do not
/// depend on the terminal.
pub fn render_diagnostics(compilation: &Compilation) -> String {
    let options = RenderOptions {
        color: false,
        width: 100,
    };
    render::human::render(&compilation.diagnostics, &compilation.sources, options)
}

/// Output files as one text: each under a `# --- path` header, in output order.
pub fn render_outputs(compilation: &Compilation) -> String {
    compilation
        .outputs
        .iter()
        .map(|file| format!("# --- {}\n{}", file.path, file.contents))
        .collect()
}

/// Snapshots live in `tests/snapshots/`, named after the fixture.
pub fn insta_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo_root().join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

/// A fresh, empty scratch directory for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("suite").join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A service that checks clean, for tests that break something else.
pub const VALID_SERVICE: &str = r#"platform { namespace = "shop" prometheus = "http://prometheus:9090" }

service web {
  image     = "registry.example.com/web:1.0.0"
  port      = 8080
  replicas  = 2
  resources = { cpu: 100m, memory: 128Mi }
  readiness = http_get("/ready")
  release blue_green { promote = manual }
}
"#;

/// Runs the binary in `dir` with a fixed environment.
pub fn shipc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shipc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .output()
        .unwrap()
}

/// Standard error, as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes a file, creating its directory.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// Every file under `root` with its bytes, by relative path.
pub fn tree_bytes(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(root).unwrap().display().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}
