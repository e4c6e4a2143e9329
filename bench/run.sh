#!/usr/bin/env bash
# `make bench`: requests/second of mock-echo direct, through warden (a `pattern` checker on
# request and response), and through nginx as a plain reverse proxy (a peer baseline, when
# nginx is installed), all in the same run; plus the time to first token of a stream. Prints
# ratios, which survive a noisy shared machine better than absolute numbers.
set -u
cd "$(dirname "$0")/.."
BIN=build/warden
DUR=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-64}
THREADS=${BENCH_THREADS:-2}
MOCK=127.0.0.1:19090 PROXY=127.0.0.1:19080 ADMIN=127.0.0.1:19081 NGINX=127.0.0.1:19082
tmp=$(mktemp -d)
pids=()
cleanup() { kill -TERM "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
cat > "$tmp/warden.yaml" <<YAML
log: {level: warn}
checkers:
  - id: secrets
    type: pattern
    phases: [request, response]
    config:
      patterns: ['-----BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY-----', 'AKIA[0-9A-Z]{16}', 'kill switch']
YAML
$BIN mock --listen $MOCK 2>/dev/null & pids+=($!)
$BIN serve -c "$tmp/warden.yaml" --listen $PROXY --admin-listen $ADMIN --upstream http://$MOCK & pids+=($!)
if command -v nginx >/dev/null; then
  mkdir -p "$tmp/ng"
  cat > "$tmp/nginx.conf" <<NG
worker_processes 2; pid $tmp/nginx.pid; error_log $tmp/ng/error.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $tmp/ng; proxy_temp_path $tmp/ng;
  fastcgi_temp_path $tmp/ng; uwsgi_temp_path $tmp/ng; scgi_temp_path $tmp/ng;
  upstream mock { server $MOCK; keepalive 64; }
  server { listen $NGINX; location / { proxy_pass http://mock; proxy_http_version 1.1;
    proxy_set_header Connection ""; proxy_buffering off; } } }
NG
  nginx -c "$tmp/nginx.conf" -g 'daemon off;' & pids+=($!)
fi
for _ in $(seq 50); do curl -fs http://$ADMIN/healthz >/dev/null && curl -fs http://$MOCK/v1/models >/dev/null && break; sleep 0.1; done

# cpu_ticks PID...: user+system clock ticks used so far by these processes
cpu_ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat))); done; echo $t; }
# run NAME ADDR PID...: requests/second, and CPU microseconds per request of the given processes
run() {
  local name=$1 addr=$2; shift 2
  local t0 t1 r
  t0=$(cpu_ticks "$@")
  r=$(wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" -s bench/post.lua "http://$addr/v1/chat/completions" | awk '/Requests\/sec/ {print $2}')
  t1=$(cpu_ticks "$@")
  awk -v n="$name" -v r="$r" -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" -v d="$DUR" \
    'BEGIN { printf "%-28s %9.0f req/s  %6.1f us CPU/request\n", n, r, (b - a) / hz * 1e6 / (r * d) }'
  echo "$r" > "$tmp/rps-$name"
}
echo "wrk -t$THREADS -c$CONNS -d${DUR}s, POST /v1/chat/completions to mock-echo (CPU: the process measured)"
mock_pid=${pids[0]}; warden_pid=${pids[1]}
run direct $MOCK "$mock_pid"
run warden $PROXY "$warden_pid"
awk -v d="$(cat "$tmp/rps-direct")" -v w="$(cat "$tmp/rps-warden")" 'BEGIN { printf "warden / direct throughput:  %.2f\n", w / d }'
if command -v nginx >/dev/null; then
  run nginx $NGINX $(pgrep -f "nginx: worker" | tr '\n' ' ')
  awk -v n="$(cat "$tmp/rps-nginx")" -v w="$(cat "$tmp/rps-warden")" 'BEGIN { printf "warden / nginx throughput:   %.2f\n", w / n }'
fi
echo "time to first content token, streamed (median of 50):"
echo "  direct:  $(node bench/ttft.mjs http://$MOCK/v1/chat/completions 50)"
echo "  warden:  $(node bench/ttft.mjs http://$PROXY/v1/chat/completions 50)"
bash bench/store.sh
bash bench/chain.sh
