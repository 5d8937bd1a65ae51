//! `cargo bench --bench crypto`: the crypto layer's figures (`dccsim bench crypto`)
//! at 1 and 2 threads, every figure measured in this run.

fn main() {
    for threads in [1usize, 2] {
        println!("{}", dccsim::crypto::bench::bench_crypto(threads, 1.0));
    }
}
