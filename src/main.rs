//! The `shipc` binary: a thin shell over the library's command line.

// A compiler allocates many small, short-lived values (syntax trees, strings, YAML text) from two
// threads; mimalloc serves those several times faster than the system allocator. It is built
// without transparent huge pages (feature `no_thp`): zeroing a fresh 2 MiB page costs more than a
// short run uses of it (0.7 ms of a 3.5 ms `shipc check` of one service) and inflates peak memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    shipc::cli::run()
}
