#!/usr/bin/env bash
# Default chain cost: the harm-in and jailbreak checkers of conf/warden.yaml on 300 prompts of
# 1 KB (ordinary English words, benign), one core, through `warden eval` (which runs each
# checker as the proxy does). Prints microseconds per prompt per checker.
set -u
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
words=(the of and to in is that for it with as was on be by this are from at or an have not
  which but they you all were can we there their one has more when will would what so if about
  who out up some into them than do then could time other only its may first these like over)
for i in $(seq 300); do
  t=""
  while [ ${#t} -lt 1024 ]; do t="$t ${words[RANDOM % ${#words[@]}]}"; done
  printf '{"id":"p%d","text":"%s","label":"benign"}\n' "$i" "${t:1:1024}"
done > "$tmp/1k.jsonl"
echo "default chain on 1 KB prompts (conf/warden.yaml):"
build/warden eval -c conf/warden.yaml --checker harm-in,jailbreak --split all \
  --data "$tmp/1k.jsonl" --negative benign | awk '/records/ {print "  " $0}'
