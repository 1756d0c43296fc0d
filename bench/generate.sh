#!/usr/bin/env bash
# generate.sh N DIR: writes the reference workload as a .ship project of N services, svc-1 .. svc-N:
# DIR/platform.ship, DIR/steps.ship and DIR/services/svc-<i>.ship, each service the golden reference
# service of ../shared/bench/peers/ with its own name. DIR is replaced.
set -euo pipefail
if [ $# -ne 2 ] || ! [[ $1 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 N DIR" >&2
  exit 2
fi
n=$1 dir=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$dir"
mkdir -p "$dir/services"
cp "$here/workload/platform.ship" "$here/workload/steps.ship" "$dir/"
# One awk process writes every file: a process per service would dominate at N = 10,000.
awk -v n="$n" -v dir="$dir/services" '
  { template = template $0 "\n" }
  END {
    for (i = 1; i <= n; i++) {
      text = template
      gsub(/svc-1/, "svc-" i, text)
      file = dir "/svc-" i ".ship"
      printf "%s", text > file
      close(file)
    }
  }
' "$here/workload/service.ship.tmpl"
