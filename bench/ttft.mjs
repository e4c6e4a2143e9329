// Time to first content token of a streamed chat completion, median of N runs.
// usage: node bench/ttft.mjs URL [N]
const [url, n = '50'] = process.argv.slice(2);
const body = JSON.stringify({
  model: 'mock-echo', stream: true,
  messages: [{ role: 'user', content: 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen' }],
});
const times = [];
for (let i = 0; i < Number(n); i++) {
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '', first = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    if (first === null && /"content":"[^"]/.test(buf)) first = performance.now() - t0;
  }
  times.push(first ?? NaN);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ median_ms: times[Math.floor(times.length / 2)], p90_ms: times[Math.floor(times.length * 0.9)] }));
