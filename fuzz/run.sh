#!/usr/bin/env bash
# Coverage-guided fuzzing of dccsim's parsers with AFL++ (via cargo-afl).
#
#   bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs `cargo install cargo-afl` (once; it builds AFL++ too). Seeds each
# target with its committed corpus (fuzz/corpus/<target>/), its regression
# inputs, and, where ../shared/testdata is present, the RTDS messages (gbcs),
# the RTDS keystore (x509) and the shipped scenarios (scenario). Prints
# executions and crashes per target; copies every crash to
# fuzz/regressions/<target>/ (replayed by `cargo test`, tests/fuzz.rs) and
# exits 1 if there was any.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(gbcs utrn x509 smki_cert scenario wycheproof)
fi
cargo afl build --release --quiet
bin=target/release/dccsim-fuzz
work="${FUZZ_WORK:-/tmp/dccsim-fuzz}"
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
    AFL_NO_AFFINITY=1
testdata=../../shared/testdata
failed=0
printf '%-11s %10s %9s %7s %7s\n' target execs execs/s paths crashes
for t in "${targets[@]}"; do
    in="$work/$t/in" out="$work/$t/out"
    rm -rf "$work/$t" && mkdir -p "$in"
    cp corpus/"$t"/* "$in"/
    [ -d regressions/"$t" ] && cp regressions/"$t"/* "$in"/ 2>/dev/null || true
    case "$t" in
    gbcs) [ -d "$testdata/rtds" ] && python3 -c '
import glob, os, sys
for f in glob.glob(sys.argv[1] + "/rtds/RTDS-4.5.0/*/*.HEX"):
    n = os.path.basename(f)[:-4]
    open(sys.argv[2] + "/rtds_" + n + ".bin", "wb").write(bytes.fromhex(open(f).read().strip()))
' "$testdata" "$in" ;;
    x509) [ -d "$testdata/rtds" ] && cp "$testdata"/rtds/keystore/* "$in"/ ;;
    scenario) cp ../scenarios/*.toml "$in"/ ;;
    esac
    # Seeds over AFL's 1 MB limit or duplicates are dropped by afl-fuzz itself.
    cargo afl fuzz -i "$in" -o "$out" -V "$secs" -m none -t 2000 -- "$bin" "$t" \
        > "$work/$t/afl.log" 2>&1 || { echo "afl-fuzz failed for $t:"; tail -20 "$work/$t/afl.log"; exit 1; }
    stats="$out/default/fuzzer_stats"
    get() { awk -F' *: *' -v k="$1" '$1==k {print $2}' "$stats"; }
    printf '%-11s %10s %9s %7s %7s\n' "$t" "$(get execs_done)" "$(get execs_per_sec)" \
        "$(get corpus_count)" "$(get saved_crashes)"
    crashes=$(find "$out/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
    if [ "$crashes" -gt 0 ]; then
        failed=1
        mkdir -p regressions/"$t"
        for c in "$out"/default/crashes/id:*; do
            cp "$c" "regressions/$t/crash-$(sha256sum "$c" | cut -c1-16)"
        done
        echo "  $crashes crash(es) of $t copied to fuzz/regressions/$t/; reproduce with:"
        echo "  dccsim fuzz-replay $t fuzz/regressions/$t/<file>"
    fi
done
exit $failed
