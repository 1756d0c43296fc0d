#!/usr/bin/env bash
# Fuzzes both targets side by side for SECONDS each (default 1800), one core each, starting from a
# corpus made of the examples and the test inputs. Needs a nightly toolchain and `cargo install
# cargo-fuzz`. A crash is saved under fuzz/artifacts/<target>/; turn it into a test under tests/ui/ or
# tests/fuzz_regressions/ before fixing it.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-1800}"

mkdir -p corpus/compile_bytes corpus/mutate_programs
for file in $(find ../examples ../tests/ui ../tests/build ../tests/fuzz_regressions -name '*.ship' 2>/dev/null); do
    cp "$file" "corpus/compile_bytes/$(echo "$file" | tr '/' '_')"
done
# Every seed project and victim file with no edits yet: the mutator starts from valid programs.
for choice in $(seq 0 63); do
    printf "\\x$(printf %02x "$choice")" > "corpus/mutate_programs/seed-$choice"
done

cargo +nightly fuzz build
# A mutate_programs input is a seed choice and at most 16 three-byte edits: let it be that long from
# the start instead of growing its length slowly.
declare -A limits=([compile_bytes]="-max_len=65536 -dict=ship.dict" [mutate_programs]="-max_len=49 -len_control=0")
for target in compile_bytes mutate_programs; do
    # shellcheck disable=SC2086
    cargo +nightly fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$seconds" ${limits[$target]} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        > "$target.log" 2>&1 &
done
wait
for target in compile_bytes mutate_programs; do
    echo "== $target"
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^Done|ERROR|SUMMARY' "$target.log" || true
done
