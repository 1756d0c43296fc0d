#!/usr/bin/env bash
# Shows that checking and building a pipeline costs time linear in its number of tasks: generates one
# service whose pipeline is a chain of N step uses (each reading the previous task's output, so every
# task is also a data edge), for N = 1,000, 2,000, 4,000 and 8,000, and times `shipc check` and
# `shipc build` on each with the release binary. Doubling N should about double the time.
#
#   bash bench/pipeline_scaling.sh             # prints a table
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
shipc="$PWD/target/release/shipc"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

generate() {
  local n=$1 dir=$2
  mkdir -p "$dir"
  {
    cat <<'HEAD'
platform {
  namespace   = "shop"
  gitops      = "https://git.example.com/shop/deploy.git"
  webhook_url = "https://hooks.example.com"
}

step stage(input: string = "") {
  image   = "alpine:3.20"
  run     = """
    printf '%s' "$INPUT" | sha256sum | cut -c1-12 > /work/out
  """
  env     = { INPUT: input }
  outputs = { out: "/work/out" }
}

service big {
  image     = "registry.example.com/shop/big:1.0.0"
  port      = 8080
  replicas  = 2
  resources = { cpu: 100m..500m, memory: 128Mi..256Mi }
  readiness = http_get("/ready")
  pipeline {
    source = github("shop/big")
    on push(branch: "main")
    step t0 = stage()
HEAD
    for ((i = 1; i < n; i++)); do
      printf '    step t%d = stage(input: t%d.out)\n' "$i" "$((i - 1))"
    done
    cat <<'TAIL'
  }
  release blue_green {
    promote = manual
  }
}
TAIL
  } > "$dir/main.ship"
}

seconds() { # best of 3 wall-clock runs of the command, in seconds
  local best=""
  for _ in 1 2 3; do
    local start end
    start=$(date +%s%N)
    "$@" > /dev/null 2>&1
    end=$(date +%s%N)
    local t=$(( (end - start) / 1000000 ))
    if [[ -z "$best" || $t -lt $best ]]; then best=$t; fi
  done
  printf '%d.%03d' $((best / 1000)) $((best % 1000))
}

printf '| tasks | shipc check (s) | shipc build (s) | DAG parts |\n|---:|---:|---:|---:|\n'
for n in 1000 2000 4000 8000; do
  dir="$work/p$n"
  generate "$n" "$dir"
  check=$(seconds "$shipc" check --root "$dir" "$dir/main.ship")
  build=$(seconds "$shipc" build --root "$dir" "$dir/main.ship" --out "$dir/out")
  parts=$(grep -c '^  - name: part-' "$dir/out/big/ci.yaml" || true)
  printf '| %d | %s | %s | %s |\n' "$n" "$check" "$build" "$parts"
done
