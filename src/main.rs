//! The `shipc` binary: a thin shell over the library's command line.

// A compiler allocates many small, short-lived values (syntax trees, strings, YAML text) from two
// threads; mimalloc serves those several times faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    shipc::cli::run()
}
