//! The AFL++ harness: `dccsim-fuzz TARGET` feeds each input AFL hands it to
//! `dccsim::workflow::fuzz::run(TARGET, ..)` in persistent mode. A panic
//! aborts the process (`panic = "abort"`), which AFL records as a crash.

fn main() {
    let target = std::env::args().nth(1).unwrap_or_default();
    if !dccsim::workflow::fuzz::TARGETS.contains(&target.as_str()) {
        eprintln!(
            "usage: dccsim-fuzz TARGET (one of: {})",
            dccsim::workflow::fuzz::TARGETS.join(", ")
        );
        std::process::exit(2);
    }
    afl::fuzz!(|data: &[u8]| {
        dccsim::workflow::fuzz::run(&target, data);
    });
}
