#!/usr/bin/env bash
# shipc preflight and shipc simulate against a real Prometheus (docs/simulate.md#testing).
#
# Backfills synthetic series for the example services checkout (blue/green) and search (canary) with
# `promtool tsdb create-blocks-from openmetrics`: two hours of healthy traffic, then a 5xx spike of
# the new version from SPIKE onwards. Starts Prometheus on 127.0.0.1 with that data, then for each
# service runs `shipc preflight` at a healthy and at a spiking start time (it must promote, then roll
# back), records the same windows with `--record`, and checks that `shipc simulate` on the recorded
# query_range answers reaches the same verdict. The server is stopped on exit, whatever happened.
#
# Needs a built ./target/debug/shipc and the `prometheus` and `promtool` commands (Debian's
# `prometheus` package); .ci/run installs them.
set -euo pipefail
cd "$(dirname "$0")/../.."

shipc=./target/debug/shipc
for tool in prometheus promtool curl "$shipc"; do
  command -v "$tool" >/dev/null || { echo "tests/prometheus: $tool is missing" >&2; exit 2; }
done

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

NEW=7c9f8d6b5    # the pod template hash of the new version, passed with --arg new-hash
STABLE=5d8b7f4c2 # and of the stable one
STEP=15
# Whole hours, so that the times below are the same in every run of an hour; the data ends an hour
# before now, well inside what preflight may ask for.
END=$(( $(date +%s) / 3600 * 3600 - 3600 ))
BEGIN=$(( END - 3 * 3600 ))
SPIKE=$(( END - 3600 ))     # the new version's 5xx spike starts here
HEALTHY=$(( SPIKE - 1800 )) # a release starting here is over long before the spike

# One OpenMetrics family per metric name, each series in time order, as the format requires.
awk -v begin="$BEGIN" -v end="$END" -v step="$STEP" -v spike="$SPIKE" -v new="$NEW" -v stable="$STABLE" '
function series(name, labels, rate, t) {
  # a counter growing by rate per second
  printf "%s{%s} %.3f %d\n", name, labels, rate * (t - begin), t
}
BEGIN {
  n = 0
  for (t = begin; t <= end; t += step) times[n++] = t

  print "# TYPE http_requests counter"
  split("checkout search", services, " ")
  for (s = 1; s <= 2; s++) {
    svc = services[s]
    for (v = 0; v < 2; v++) {
      hash = v == 0 ? new : stable
      base = "namespace=\"shop\",app_kubernetes_io_name=\"" svc "\",rollouts_pod_template_hash=\"" hash "\""
      for (i = 0; i < n; i++) series("http_requests_total", base ",code=\"200\"", 100, times[i])
      for (i = 0; i < n; i++) {
        t = times[i]
        # 0.2% errors; the new version jumps to 5% at the spike (the counter keeps what it had).
        errors = 0.2 * (t - begin)
        if (hash == new && t > spike) errors = 0.2 * (spike - begin) + 5 * (t - spike)
        printf "http_requests_total{%s,code=\"500\"} %.3f %d\n", base, errors, t
      }
    }
  }

  print "# TYPE http_request_duration_seconds histogram"
  split("0.1 0.25 0.5 1 +Inf", bounds, " ")
  split("0.6 0.9 0.995 1 1", shares, " ")
  for (s = 1; s <= 2; s++) {
    svc = services[s]
    for (v = 0; v < 2; v++) {
      hash = v == 0 ? new : stable
      base = "namespace=\"shop\",app_kubernetes_io_name=\"" svc "\",rollouts_pod_template_hash=\"" hash "\""
      for (b = 1; b <= 5; b++)
        for (i = 0; i < n; i++)
          series("http_request_duration_seconds_bucket", base ",le=\"" bounds[b] "\"", 100 * shares[b], times[i])
      for (i = 0; i < n; i++) series("http_request_duration_seconds_count", base, 100, times[i])
      for (i = 0; i < n; i++) series("http_request_duration_seconds_sum", base, 15, times[i])
    }
  }

  print "# TYPE kube_pod_container_status_restarts_total gauge"
  for (i = 0; i < n; i++)
    printf "kube_pod_container_status_restarts_total{namespace=\"shop\",container=\"search\",pod=\"search-%s-x7k2p\"} 0 %d\n", new, times[i]
  print "# EOF"
}' > "$work/series.om"

mkdir -p "$work/data"
promtool tsdb create-blocks-from openmetrics --quiet "$work/series.om" "$work/data" >/dev/null

port=$(( 20000 + RANDOM % 20000 ))
printf 'global:\n  scrape_interval: 1h\n' > "$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$port" \
  >"$work/prometheus.log" 2>&1 &
server=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -sf "$url/-/ready" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/prometheus.log" >&2; exit 1; }
  sleep 0.2
done
curl -sf "$url/-/ready" >/dev/null || { echo "Prometheus did not become ready" >&2; cat "$work/prometheus.log" >&2; exit 1; }

failures=0
# check SERVICE CASE START EXPECTED: preflight and simulate must both end the release as EXPECTED.
check() {
  local service=$1 case=$2 start=$3 expected=$4
  local common=(examples --service "$service" --environment production --arg "new-hash=$NEW" --arg "stable-hash=$STABLE")
  local recorded="$work/recorded/$service-$case"
  "$shipc" preflight "${common[@]}" --prometheus "$url" --at "$start" --record "$recorded" --expect "$expected" \
    >"$work/$service-$case.preflight" 2>&1 \
    || { echo "FAIL preflight $service $case: expected $expected"; cat "$work/$service-$case.preflight"; failures=$((failures + 1)); return; }
  "$shipc" simulate "${common[@]}" --metrics "$recorded" --start "$start" --expect "$expected" \
    >"$work/$service-$case.simulate" 2>&1 \
    || { echo "FAIL simulate $service $case: expected $expected"; cat "$work/$service-$case.simulate"; failures=$((failures + 1)); return; }
  # The same measurements, live and replayed: the tables must match line for line.
  if ! diff <(sed '1d' "$work/$service-$case.preflight") <(sed '1d' "$work/$service-$case.simulate") >"$work/diff"; then
    echo "FAIL $service $case: preflight and simulate saw different measurements"; cat "$work/diff"
    failures=$((failures + 1)); return
  fi
  echo "ok   $service $case: preflight and simulate both $expected ($(tail -n1 "$work/$service-$case.simulate"))"
}

check checkout healthy "$HEALTHY" promote
check checkout spike "$(( SPIKE - 60 ))" rollback
check search healthy "$HEALTHY" promote
check search spike "$(( SPIKE - 360 ))" rollback

# Errors name their cause: nothing listens on port 9 (discard) of 127.0.0.1.
if out=$("$shipc" preflight examples --service checkout --environment production --prometheus http://127.0.0.1:9 --at "$HEALTHY" 2>&1); then
  echo "FAIL preflight against a closed port succeeded"; failures=$((failures + 1))
elif ! grep -q "connection refused" <<<"$out"; then
  echo "FAIL preflight against a closed port: $out"; failures=$((failures + 1))
else
  echo "ok   an unreachable Prometheus is named: $out"
fi

[ "$failures" -eq 0 ] || { echo "tests/prometheus: $failures failed"; exit 1; }
echo "tests/prometheus: all passed"
