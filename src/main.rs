//! The `shipc` binary: a thin shell over the library's command line.

fn main() -> std::process::ExitCode {
    shipc::cli::run()
}
