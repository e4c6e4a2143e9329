#!/usr/bin/env bash
# `make run`: starts the mock model and warden in front of it with the default config, prints
# the URLs and an example, and stops both on Ctrl-C.
set -u
cd "$(dirname "$0")/.."
BIN=build/warden
MOCK_LISTEN=${MOCK_LISTEN:-127.0.0.1:8090}
$BIN mock --listen "$MOCK_LISTEN" &
mock=$!
trap 'kill -TERM $mock $warden 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
for _ in $(seq 50); do curl -fs "http://$MOCK_LISTEN/v1/models" >/dev/null 2>&1 && break; sleep 0.1; done
$BIN serve --upstream "http://$MOCK_LISTEN" "$@" &
warden=$!
for _ in $(seq 50); do curl -fs http://127.0.0.1:8081/healthz >/dev/null 2>&1 && break; sleep 0.1; done
cat <<TXT

warden is running:
  proxy      http://127.0.0.1:8080/v1   (OpenAI-compatible; point your client's base URL here)
  dashboard  http://127.0.0.1:8081/dashboard/
  admin API  http://127.0.0.1:8081/api/v1/incidents   (metrics: /metrics)
  mock model http://$MOCK_LISTEN/v1      (personas: mock-aligned, mock-echo, mock-sleeper,
                                          mock-drifted, mock-vision-tools)
try:
  curl -s localhost:8080/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"mock-aligned","messages":[{"role":"user","content":"Say hello"}]}'
Ctrl-C stops both.
TXT
wait $warden
