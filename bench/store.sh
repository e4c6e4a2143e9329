#!/usr/bin/env bash
# Store throughput: every request is blocked (a pattern that matches any prompt), so every
# answer waits for its incident's group commit. Reports committed incidents per second, the mean
# batch per commit and the mean commit latency, from warden's own /metrics.
set -u
cd "$(dirname "$0")/.."
BIN=build/warden
DUR=${BENCH_SECONDS:-10}
CONNS=${BENCH_STORE_CONNS:-128}
SYNC=${BENCH_SYNC:-normal}
PROXY=127.0.0.1:19180 ADMIN=127.0.0.1:19181
tmp=$(mktemp -d)
trap 'kill -TERM $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
cat > "$tmp/w.yaml" <<YAML
log: {level: error}
store: {synchronous: $SYNC}
checkers:
  - {id: all, type: pattern, phases: [request], config: {patterns: ['Hamlet']}}
YAML
$BIN serve -c "$tmp/w.yaml" --listen $PROXY --admin-listen $ADMIN --db "$tmp/w.db" --upstream http://127.0.0.1:9 & pid=$!
for _ in $(seq 50); do curl -fs http://$ADMIN/healthz >/dev/null && break; sleep 0.1; done
metric() { curl -fs http://$ADMIN/metrics | awk -v m="$1" '$1 == m {print $2}'; }
w0=$(metric warden_store_incidents_written_total); c0=$(metric warden_store_commit_seconds_count)
s0=$(metric warden_store_commit_seconds_sum)
r=$(wrk -t2 -c"$CONNS" -d"${DUR}s" -s bench/post.lua "http://$PROXY/v1/chat/completions" | awk '/Requests\/sec/ {print $2}')
w1=$(metric warden_store_incidents_written_total); c1=$(metric warden_store_commit_seconds_count)
s1=$(metric warden_store_commit_seconds_sum)
awk -v r="$r" -v w0="$w0" -v w1="$w1" -v c0="$c0" -v c1="$c1" -v s0="$s0" -v s1="$s1" -v d="$DUR" \
    -v c="$CONNS" -v sync="$SYNC" 'BEGIN {
  n = w1 - w0; k = c1 - c0
  printf "store (synchronous=%s, %d connections, every request blocked):\n", sync, c
  printf "  %.0f blocked requests/s answered, %.0f incidents committed/s\n", r, n / d
  printf "  %d commits, %.1f incidents per commit, mean commit latency %.2f ms\n", k, n / k, (s1 - s0) / k * 1000
}'
