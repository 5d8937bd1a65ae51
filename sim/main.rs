//! The `dccsim` binary: see `dccsim --help` and README.md.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(dccsim::workflow::cli::main_with_args(std::env::args_os()));
}
