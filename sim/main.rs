//! The `dccsim` binary: see `dccsim --help` and README.md.
fn main() {
    std::process::exit(dccsim::workflow::cli::main_with_args(std::env::args_os()));
}
