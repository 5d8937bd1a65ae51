//! The `dccsim` binary: see `dccsim --help` and README.md.

// `unsafe` only where allowed by name: one allocator option call.
#![deny(unsafe_code)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    keep_freed_memory();
    std::process::exit(dccsim::workflow::cli::main_with_args(std::env::args_os()));
}

/// Tells mimalloc to keep the memory the run frees for its own reuse rather
/// than hand it back to the operating system a second after it falls idle
/// (its `purge_delay` option, default 1,000 ms in mimalloc 3). The engine
/// frees a window's event buffers and allocates the next ones all run long;
/// each purged page it reused came back zeroed by the kernel through a page
/// fault: measured, 6,000 faults and 5% of a 1M-LP PHOLD run (350 faults
/// without purging), and 4% of a 1M-meter business-as-usual day. Peak
/// memory is the same (the pages are reused, not added to), only the
/// process keeps its high-water mark until it exits.
///
/// The option's number is from mimalloc 3's `mimalloc.h` (`mi_option_e`):
/// `libmimalloc-sys` 0.1.49 names the options around it (14, 16) but not
/// it. Setting an option mimalloc does not have is ignored (it prints a
/// warning only in its debug builds).
#[allow(unsafe_code)]
fn keep_freed_memory() {
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: `mi_option_set` stores an integer in mimalloc's table of
    // options; it takes no pointers and may be called at any time, from
    // any thread. -1 means "never purge".
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

#[cfg(test)]
mod tests {
    /// The option number is mimalloc 3's: the linked mimalloc must be
    /// version 3 (its `mi_option_e` is where 15 is `purge_delay`), and the
    /// call must leave the option at "never purge".
    #[test]
    #[allow(unsafe_code)]
    fn freed_memory_is_kept() {
        super::keep_freed_memory();
        // SAFETY: both calls read integers from mimalloc; no pointers.
        let (version, delay) = unsafe {
            (
                libmimalloc_sys::mi_version(),
                libmimalloc_sys::mi_option_get(15),
            )
        };
        // mimalloc numbers its versions major·10,000 + minor·100 + patch.
        assert!(
            (30_000..40_000).contains(&version),
            "mimalloc {version}, not 3.x"
        );
        assert_eq!(delay, -1);
    }
}
