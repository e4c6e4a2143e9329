// upstream.mjs — a scripted fake OpenAI-compatible upstream for the integration tests.
//
// A test decides, per request, exactly what the "model endpoint" does: any status and headers,
// SSE events written with chosen byte splits and pauses, a hang, a socket reset mid-stream,
// broken or truncated events. Every request that reaches it is recorded (method, url, headers,
// body) so a test can assert what warden forwarded — and that a blocked request never arrived.
//
//   const up = await scriptedUpstream(async (req, body, res, rec) => { ... });
//   up.url                       // "http://127.0.0.1:PORT"
//   up.requests                  // [{method, url, headers, rawHeaders, body, json}]
//   up.setHandler(fn)            // swap the script between cases
//   await up.waitForRequests(n)  // resolves once n requests have arrived (bounded wait)
//   await up.close()             // also cuts hanging connections
import http from 'node:http';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function scriptedUpstream(handler) {
	const requests = [];
	const waiters = [];
	const sockets = new Set();
	let script = handler;

	const server = http.createServer((req, res) => {
		const parts = [];
		req.on('data', (c) => parts.push(c));
		req.on('end', async () => {
			const body = Buffer.concat(parts).toString('utf8');
			let json;
			try {
				json = body ? JSON.parse(body) : undefined;
			} catch {
				json = undefined;
			}
			const rec = {
				method: req.method,
				url: req.url,
				headers: req.headers,
				rawHeaders: req.rawHeaders,
				body,
				json,
			};
			requests.push(rec);
			for (const w of waiters.slice()) {
				if (requests.length >= w.n) {
					waiters.splice(waiters.indexOf(w), 1);
					w.resolve();
				}
			}
			try {
				await script(req, body, res, rec);
			} catch (e) {
				// A script that throws (or a socket the test destroyed) must not kill the runner.
				if (!res.headersSent && !res.destroyed) {
					res.writeHead(500, {'content-type': 'text/plain'});
					res.end(`upstream script failed: ${e && e.message}`);
				} else {
					res.destroy();
				}
			}
		});
	});
	server.keepAliveTimeout = 1000;
	server.on('connection', (s) => {
		sockets.add(s);
		s.on('close', () => sockets.delete(s));
	});
	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', resolve);
	});
	const port = server.address().port;
	return {
		port,
		url: `http://127.0.0.1:${port}`,
		requests,
		setHandler(fn) {
			script = fn;
		},
		reset() {
			requests.length = 0;
		},
		waitForRequests(n, ms = 5000) {
			if (requests.length >= n)
				return Promise.resolve();
			return new Promise((resolve, reject) => {
				const w = {n, resolve};
				waiters.push(w);
				setTimeout(() => {
					const i = waiters.indexOf(w);
					if (i >= 0) {
						waiters.splice(i, 1);
						reject(new Error(`upstream got ${requests.length} of ${n} requests in ${ms} ms`));
					}
				}, ms).unref();
			});
		},
		async close() {
			for (const s of sockets)
				s.destroy();
			await new Promise((r) => server.close(r));
		},
	};
}

// ---- response helpers for scripts ----

export function sendJSON(res, status, obj, headers = {}) {
	const text = typeof obj === 'string' ? obj : JSON.stringify(obj);
	res.writeHead(status, {'content-type': 'application/json', ...headers});
	res.end(text);
}

// Starts an SSE response. Chunked transfer: each write is one chunk on the wire, so the
// byte splits a test chooses are the splits warden's reads see (TCP_NODELAY; pauses between).
export function startSSE(res, headers = {}) {
	res.writeHead(200, {
		'content-type': 'text/event-stream',
		'cache-control': 'no-cache',
		...headers,
	});
	res.flushHeaders();
	if (res.socket)
		res.socket.setNoDelay(true);
}

// Writes pieces (strings or Buffers) one after another, `delayMs` apart, then ends unless
// {end: false}. Pieces are written exactly as given, so a split may fall anywhere, even inside
// "data:" or inside a multi-byte UTF-8 character (use Buffers for that).
export async function sendSSE(res, pieces, {delayMs = 5, end = true, headers = {}} = {}) {
	if (!res.headersSent)
		startSSE(res, headers);
	for (const p of pieces) {
		if (res.destroyed)
			return;
		res.write(p);
		if (delayMs)
			await sleep(delayMs);
	}
	if (end)
		res.end();
}

// Never answers (the socket stays open until the test closes the upstream).
export function hang() {
	return new Promise(() => {});
}

// Cuts the connection with a TCP RST (no chunked terminator): a broken upstream.
export function resetSocket(res) {
	const s = res.socket;
	if (!s)
		return;
	if (typeof s.resetAndDestroy === 'function')
		s.resetAndDestroy();
	else
		s.destroy();
}

// Splits a buffer (or string, as UTF-8) at the given byte offsets.
export function splitAt(data, offsets) {
	const buf = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
	const out = [];
	let prev = 0;
	for (const o of offsets) {
		out.push(buf.subarray(prev, o));
		prev = o;
	}
	out.push(buf.subarray(prev));
	return out.filter((b) => b.length);
}

// ---- OpenAI shapes ----

export const MODEL = 'test-model';

export function chatCompletion(content, {id = 'chatcmpl-up1', model = MODEL, finish = 'stop', toolCalls} = {}) {
	const message = {role: 'assistant', content};
	if (toolCalls)
		message.tool_calls = toolCalls;
	return {
		id,
		object: 'chat.completion',
		created: 1700000000,
		model,
		choices: [{index: 0, message, logprobs: null, finish_reason: toolCalls ? 'tool_calls' : finish}],
		usage: {prompt_tokens: 5, completion_tokens: 7, total_tokens: 12},
	};
}

// One chat.completion.chunk as an SSE block ("data: {...}\n\n").
export function chunk(delta, {id = 'chatcmpl-up1', model = MODEL, finish = null, index = 0} = {}) {
	const obj = {
		id,
		object: 'chat.completion.chunk',
		created: 1700000000,
		model,
		choices: [{index, delta, logprobs: null, finish_reason: finish}],
	};
	return `data: ${JSON.stringify(obj)}\n\n`;
}

// A whole chat stream for these content pieces: role chunk, one chunk per piece, finish, [DONE].
export function chatStream(pieces, opts = {}) {
	return [
		chunk({role: 'assistant', content: ''}, opts),
		...pieces.map((p) => chunk({content: p}, opts)),
		chunk({}, {...opts, finish: opts.finish || 'stop'}),
		'data: [DONE]\n\n',
	];
}

export const DONE = 'data: [DONE]\n\n';
