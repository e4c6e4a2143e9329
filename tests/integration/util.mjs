// util.mjs — helpers shared by the integration tests: start a warden process (or any binary),
// find a free port, wait for a port to accept connections, read SSE streams, and make sure
// every started process dies when the test process exits.
import { spawn } from 'node:child_process';
import net from 'node:net';

const live = new Set();
process.on('exit', () => {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A TCP port that was free a moment ago (bind 127.0.0.1:0, read it, close).
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function tryConnect(port, host) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

// Resolves once host:port accepts a connection; rejects after timeoutMs.
export async function waitForPort(port, timeoutMs = 10000, host = '127.0.0.1') {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await tryConnect(port, host)) return;
    await sleep(25);
  }
  throw new Error(`port ${host}:${port} did not accept connections within ${timeoutMs} ms`);
}

// Spawns bin (default: $WARDEN_BIN) with args. Options:
//   env       extra environment variables
//   bin       the executable (default process.env.WARDEN_BIN)
//   port      wait until this port accepts connections
//   waitFor   a RegExp to wait for on stderr (e.g. /listening on/)
//   timeoutMs how long to wait for port/waitFor (default 10 s)
// Returns { proc, stderr, stdout, exited, stop(signal, timeoutMs) }: stderr/stdout are getters
// over everything printed so far; exited is a promise of {code, signal}; stop() sends signal
// (default SIGTERM), escalates to SIGKILL after timeoutMs, and resolves to {code, signal}.
export async function startProcess(args, opts = {}) {
  const bin = opts.bin ?? process.env.WARDEN_BIN;
  if (!bin) throw new Error('set WARDEN_BIN to the warden binary');
  const timeoutMs = opts.timeoutMs ?? 10000;
  const proc = spawn(bin, args, {
    env: { ...process.env, ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: opts.cwd,
  });
  live.add(proc);
  let stderr = '';
  let stdout = '';
  proc.stderr.setEncoding('utf8');
  proc.stdout.setEncoding('utf8');
  proc.stderr.on('data', (d) => (stderr += d));
  proc.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
    });
  });
  const handle = {
    proc,
    exited,
    get stderr() {
      return stderr;
    },
    get stdout() {
      return stdout;
    },
    async stop(signal = 'SIGTERM', stopTimeoutMs = 5000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), stopTimeoutMs);
      const res = await exited;
      clearTimeout(timer);
      return res;
    },
  };
  const early = exited.then(({ code, signal }) => {
    throw new Error(`${bin} ${args.join(' ')} exited early (code ${code}, signal ${signal}):\n${stderr}`);
  });
  const ready = (async () => {
    if (opts.port) await waitForPort(opts.port, timeoutMs);
    if (opts.waitFor) {
      const deadline = Date.now() + timeoutMs;
      while (!opts.waitFor.test(stderr)) {
        if (Date.now() > deadline) throw new Error(`no ${opts.waitFor} on stderr:\n${stderr}`);
        await sleep(20);
      }
    }
  })();
  try {
    await Promise.race([ready, early]);
  } catch (e) {
    await handle.stop('SIGKILL');
    throw e;
  }
  early.catch(() => {}); // a later exit is the test's business
  return handle;
}

// Starts `warden mock` on a free port; resolves to { ...handle, port, base } where base is
// "http://127.0.0.1:<port>/v1".
export async function startMock(extraArgs = [], opts = {}) {
  const port = await freePort();
  const h = await startProcess(['mock', '--listen', `127.0.0.1:${port}`, ...extraArgs], {
    waitFor: /mock listening on /,
    ...opts,
    port,
  });
  return Object.assign(h, { port, base: `http://127.0.0.1:${port}/v1` });
}

// Splits SSE text into events [{event, data}] (data lines joined by "\n"). Comments skipped.
export function parseSSE(text) {
  const events = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue;
    let event = null;
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    events.push({ event, data: data.join('\n') });
  }
  return events;
}

// Reads a fetch Response body to the end, recording each read with its arrival time (ms since
// the call). Resolves to { text, chunks: [{t, text}], error } — error is set when the body
// broke off (e.g. the upstream closed mid-stream) instead of throwing.
export async function readBody(res) {
  const t0 = Date.now();
  const chunks = [];
  const dec = new TextDecoder();
  let text = '';
  let error = null;
  try {
    for await (const part of res.body) {
      const s = dec.decode(part, { stream: true });
      chunks.push({ t: Date.now() - t0, text: s });
      text += s;
    }
  } catch (e) {
    error = e;
  }
  return { text, chunks, error };
}
