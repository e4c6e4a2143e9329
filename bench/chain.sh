#!/usr/bin/env bash
# Default chain cost: the harm-in and jailbreak checkers of conf/warden.yaml on 300 prompts of
# 1 KB each, one core, through `warden eval` (which runs each checker as the proxy does). Two
# corpora: ordinary English words drawn at random (benign), and real benign prompts (the
# wildguard set) joined to 1 KB, so a gain is not an artefact of a small vocabulary. Each runs
# RUNS times (default 5: the machine may be shared); prints every run's microseconds per prompt
# per checker, each checker's median, and the chain's (both checkers of a run) best and median.
set -u
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
words=(the of and to in is that for it with as was on be by this are from at or an have not
  which but they you all were can we there their one has more when will would what so if about
  who out up some into them than do then could time other only its may first these like over)
for i in $(seq 300); do
  t=""
  while [ ${#t} -lt 1024 ]; do t="$t ${words[RANDOM % ${#words[@]}]}"; done
  printf '{"id":"p%d","text":"%s","label":"benign"}\n' "$i" "${t:1:1024}"
done > "$tmp/words.jsonl"
wild=../shared/datasets/wildguard-benign-injecguard/wildguard_benign.jsonl
[ -f "$wild" ] || wild=shared/datasets/wildguard-benign-injecguard/wildguard_benign.jsonl
if [ -f "$wild" ] && command -v jq >/dev/null; then
  # prompts in file order (cycling), joined with spaces into texts cut at 1024 characters
  jq -r '.text | gsub("[\\n\\t]"; " ")' "$wild" | awk -v n=300 '
    { p[NR] = $0 }
    END { if (NR == 0) exit
      for (i = 0; k < n; i++) { t = (t == "" ? p[i % NR + 1] : t " " p[i % NR + 1])
        if (length(t) >= 1024) { print substr(t, 1, 1024); t = ""; k++ } } }' |
    jq -R -c '{id: "w\(input_line_number)", text: ., label: "benign"}' > "$tmp/wild.jsonl"
fi

for corpus in words wild; do
  [ -s "$tmp/$corpus.jsonl" ] || { echo "($corpus corpus: $wild or jq missing, skipped)"; continue; }
  echo "default chain on 300 1 KB prompts ($corpus), conf/warden.yaml:"
  for r in $(seq "$runs"); do
    build/warden eval -c conf/warden.yaml --checker harm-in,jailbreak --split all \
      --data "$tmp/$corpus.jsonl" --negative benign | awk -v r="$r" '/records/ {print "  run " r ": " $0}'
  done | tee "$tmp/runs"
  # per checker: the median; the chain (both checkers of one run summed): best and median. The
  # machine is shared and noise only ever slows a run, so the best is the truer cost.
  awk 'function sorted(s, a,   n, i, j, t) { n = split(substr(s, 2), a, " ")
         for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
         return n }
    function median(a, n) { return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    { for (i = 1; i <= NF; i++) if ($i == "us") { v[$4] = v[$4] " " $(i - 1); run[$2] += $(i - 1) } }
    END { for (c in v) { n = sorted(v[c], a); printf "  median %s %.1f us per prompt\n", c, median(a, n) }
      for (r in run) s = s " " run[r]
      n = sorted(s, a)
      printf "  chain: best %.1f, median %.1f us per prompt\n", a[1], median(a, n) }' "$tmp/runs"
done
