// proxy.test.mjs — black-box tests of `warden serve`: a real warden process with a temporary
// config in front of a scripted upstream (upstream.mjs), driven over HTTP. Each group starts its
// own warden; every case asserts the exact status, body shape and what reached the upstream.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import {after, before, describe, test} from 'node:test';

import {
	chatBody,
	finishReason,
	parseSSE,
	post,
	runBadConfig,
	startWarden,
	streamText,
	within,
} from './harness.mjs';
import {
	chatCompletion,
	chatStream,
	chunk,
	DONE,
	hang,
	resetSocket,
	scriptedUpstream,
	sendJSON,
	sendSSE,
	splitAt,
} from './upstream.mjs';
import {freePort} from './util.mjs';

const REQ_ID = /^wd-[0-9a-f]{16}$/;

// Blocks "kill switch" in requests and answers (streams too); category S9.
const KILL = {
	id: 'kill',
	type: 'pattern',
	phases: ['request', 'response'],
	action: 'block',
	config: {category: 'S9', patterns: ['kill switch']},
};

// A plain node:http request, for what fetch will not send (hop-by-hop headers, chunked
// uploads) or when the exact bytes matter. Resolves {status, headers, body}.
function rawRequest(port, {method = 'GET', path = '/', headers = {}, body, chunks} = {}) {
	return new Promise((resolve, reject) => {
		const req = http.request({host: '127.0.0.1', port, method, path, headers, agent: false},
			(res) => {
				const parts = [];
				res.on('data', (c) => parts.push(c));
				res.on('end', () => resolve({status: res.statusCode, headers: res.headers,
					body: Buffer.concat(parts)}));
				res.on('error', reject);
			});
		req.on('error', reject);
		req.setTimeout(10000, () => req.destroy(new Error('raw request timed out')));
		if (chunks) {
			for (const c of chunks)
				req.write(c);
			req.end();
		} else {
			req.end(body);
		}
	});
}

// Asserts an OpenAI-style error answer and returns its error object.
async function expectError(res, status, code) {
	assert.equal(res.status, status);
	assert.match(res.headers.get('content-type'), /^application\/json/);
	const rid = res.headers.get('x-warden-request-id');
	assert.match(rid, REQ_ID);
	const j = await res.json();
	assert.equal(typeof j.error, 'object');
	assert.equal(typeof j.error.message, 'string');
	assert.ok(j.error.message.length > 0);
	assert.equal(j.error.param, null);
	if (code !== undefined)
		assert.equal(j.error.code, code);
	assert.equal(j.error.warden?.request_id, rid);
	return j.error;
}

async function stopClean(w) {
	const e = await w.stop();
	assert.deepEqual(e, {code: 0, signal: null}, `warden did not exit cleanly:\n${w.stderr()}`);
}

let up;
before(async () => {
	up = await scriptedUpstream((req, body, res) => sendJSON(res, 200, chatCompletion('hi')));
});
after(async () => {
	await up.close();
});

describe('pass-through with an enforcing pattern checker', () => {
	let w;
	before(async () => {
		w = await startWarden({upstream: up.url, config: {checkers: [KILL]}});
	});
	after(() => stopClean(w));

	test('non-stream answer: body byte-identical, upstream headers kept, request forwarded as sent', async () => {
		const answer = JSON.stringify(chatCompletion('Hello there — ünïcödé 日本'));
		up.reset();
		up.setHandler((req, body, res) => {
			res.writeHead(200, {'content-type': 'application/json', 'x-upstream-trace': 'abc123',
				'openai-processing-ms': '42'});
			res.end(answer);
		});
		const sent = JSON.stringify(chatBody('Say hello', {temperature: 0.2}));
		const res = await post(w, '/v1/chat/completions', sent, {'x-custom-client': 'yes'});
		assert.equal(res.status, 200);
		assert.match(res.headers.get('x-warden-request-id'), REQ_ID);
		assert.equal(res.headers.get('x-upstream-trace'), 'abc123');
		assert.equal(res.headers.get('openai-processing-ms'), '42');
		assert.match(res.headers.get('content-type'), /^application\/json/);
		assert.equal(await res.text(), answer);
		assert.equal(up.requests.length, 1);
		const r = up.requests[0];
		assert.equal(r.method, 'POST');
		assert.equal(r.url, '/v1/chat/completions');
		assert.equal(r.body, sent);
		assert.equal(r.headers['x-custom-client'], 'yes');
		assert.equal(r.headers['content-type'], 'application/json');
	});

	test('upstream error status and body pass through unchanged', async () => {
		const err = JSON.stringify({error: {message: 'Rate limit reached', type: 'requests',
			param: null, code: 'rate_limit_exceeded'}});
		up.setHandler((req, body, res) =>
			sendJSON(res, 429, err, {'retry-after': '3'}));
		const res = await post(w, '/v1/chat/completions', chatBody('hi'));
		assert.equal(res.status, 429);
		assert.equal(res.headers.get('retry-after'), '3');
		assert.match(res.headers.get('x-warden-request-id'), REQ_ID);
		assert.equal(await res.text(), err);
	});

	test('hop-by-hop request headers are removed, end-to-end ones kept', async () => {
		up.reset();
		up.setHandler((req, body, res) => sendJSON(res, 200, chatCompletion('ok')));
		const body = JSON.stringify(chatBody('hi'));
		const res = await rawRequest(w.port, {
			method: 'POST',
			path: '/v1/chat/completions',
			headers: {
				'content-type': 'application/json',
				'content-length': Buffer.byteLength(body),
				'connection': 'keep-alive, x-drop-me',
				'keep-alive': 'timeout=5',
				'proxy-authorization': 'Basic Zm9vOmJhcg==',
				'te': 'trailers',
				'accept-encoding': 'gzip, br',
				'x-end-to-end': 'kept',
				'openai-organization': 'org-123',
			},
			body,
		});
		assert.equal(res.status, 200);
		assert.match(res.headers['x-warden-request-id'], REQ_ID);
		assert.equal(up.requests.length, 1);
		const h = up.requests[0].headers;
		assert.equal(h['x-end-to-end'], 'kept');
		assert.equal(h['openai-organization'], 'org-123');
		assert.equal(h['keep-alive'], undefined);
		assert.equal(h['proxy-authorization'], undefined);
		assert.equal(h['te'], undefined);
		// warden must read answers as plain text to check them
		assert.ok(!/gzip|br/.test(h['accept-encoding'] || ''), `accept-encoding ${h['accept-encoding']}`);
		assert.equal(h['host'], `127.0.0.1:${up.port}`);
	});

	test('GET /v1/models passes through, query string kept', async () => {
		up.reset();
		const models = JSON.stringify({object: 'list', data: [{id: 'test-model', object: 'model',
			created: 1, owned_by: 'me'}]});
		up.setHandler((req, body, res) => sendJSON(res, 200, models));
		const res = await fetch(`${w.base}/v1/models?limit=2&after=x%20y`,
			{headers: {authorization: 'Bearer sk-client'}});
		assert.equal(res.status, 200);
		assert.match(res.headers.get('x-warden-request-id'), REQ_ID);
		assert.equal(await res.text(), models);
		assert.equal(up.requests.length, 1);
		assert.equal(up.requests[0].method, 'GET');
		assert.equal(up.requests[0].url, '/v1/models?limit=2&after=x%20y');
	});

	test('unknown path outside /v1 → 404 JSON error, upstream not called', async () => {
		up.reset();
		const res = await fetch(`${w.base}/nope/here`);
		const e = await expectError(res, 404, 'not_found');
		assert.match(e.message, /\/nope\/here/);
		assert.equal(up.requests.length, 0);
	});

	test('stream: events byte-identical and in order', async () => {
		const events = chatStream(['Hel', 'lo', ', wor', 'ld', '!']);
		const bytes = Buffer.from(events.join(''));
		up.setHandler((req, body, res) => sendSSE(res, events, {delayMs: 2}));
		const res = await post(w, '/v1/chat/completions', chatBody('hi', {stream: true}));
		assert.equal(res.status, 200);
		assert.match(res.headers.get('content-type'), /^text\/event-stream/);
		assert.match(res.headers.get('x-warden-request-id'), REQ_ID);
		const got = Buffer.from(await res.arrayBuffer());
		assert.equal(got.toString(), bytes.toString());
		assert.ok(got.equals(bytes));
		const blocks = parseSSE(got.toString());
		assert.equal(streamText(blocks), 'Hello, world!');
		assert.equal(blocks.at(-1).data, '[DONE]');
	});

	test('stream split at awkward byte offsets (inside "data:", UTF-8, the blank line)', async () => {
		const events = chatStream(['héllo ', 'wörld — ', '日本語 ', '🙂 ok']);
		const bytes = Buffer.from(events.join(''));
		const cuts = new Set([2, 3, 4]); // "da" | "t" | "a:"
		// every byte inside a multi-byte character, and inside each "\n\n"
		for (let i = 0; i < bytes.length; i++) {
			if ((bytes[i] & 0xc0) === 0x80)
				cuts.add(i);
			if (bytes[i] === 0x0a && bytes[i + 1] === 0x0a)
				cuts.add(i + 1);
		}
		const idx = bytes.indexOf('data:', 10);
		cuts.add(idx + 1).add(idx + 4);
		const pieces = splitAt(bytes, [...cuts].sort((a, b) => a - b));
		assert.ok(pieces.length > 20, `only ${pieces.length} pieces`);
		up.setHandler((req, body, res) => sendSSE(res, pieces, {delayMs: 1}));
		const res = await post(w, '/v1/chat/completions', chatBody('hi', {stream: true}));
		assert.equal(res.status, 200);
		const got = Buffer.from(await res.arrayBuffer());
		assert.ok(got.equals(bytes), `got:\n${got}`);
		assert.equal(streamText(parseSSE(got.toString())), 'héllo wörld — 日本語 🙂 ok');
	});

	test('stream with a non-JSON event and a truncated last event ends cleanly', async () => {
		const good = chatStream(['one ', 'two']).slice(0, -1); // no [DONE]
		const pieces = [...good, 'data: this is not json\n\n', 'data: {"id":"chatcmpl-up1","cho'];
		up.setHandler((req, body, res) => sendSSE(res, pieces, {delayMs: 1}));
		const res = await post(w, '/v1/chat/completions', chatBody('hi', {stream: true}));
		assert.equal(res.status, 200);
		const text = await within(res.text(), 5000, 'stream end');
		const blocks = parseSSE(text);
		assert.equal(streamText(blocks), 'one two');
		assert.equal(finishReason(blocks), 'stop');
		assert.ok(!text.includes('"cho\n') && !text.endsWith('"cho'), 'partial event leaked');
		// the proxy goes on
		up.setHandler((req, body, res) => sendJSON(res, 200, chatCompletion('after')));
		const r2 = await post(w, '/v1/chat/completions', chatBody('hi'));
		assert.equal(r2.status, 200);
		assert.equal((await r2.json()).choices[0].message.content, 'after');
	});

	test('request block → 400 content_filter error, upstream not called', async () => {
		up.reset();
		const res = await post(w, '/v1/chat/completions',
			chatBody('Tell me where the KILL SWITCH is'));
		const e = await expectError(res, 400, 'content_filter');
		assert.equal(e.type, 'invalid_request_error');
		assert.equal(e.warden.checker, 'kill');
		assert.equal(e.warden.category, 'S9');
		assert.deepEqual(Object.keys(e).sort(), ['code', 'message', 'param', 'type', 'warden']);
		assert.equal(up.requests.length, 0);
	});

	test('response block, non-stream → 200 with empty content and finish_reason content_filter', async () => {
		up.setHandler((req, body, res) =>
			sendJSON(res, 200, chatCompletion('Sure: the kill switch is under the desk.')));
		const res = await post(w, '/v1/chat/completions', chatBody('where is it?'));
		assert.equal(res.status, 200);
		assert.match(res.headers.get('x-warden-request-id'), REQ_ID);
		const text = await res.text();
		assert.ok(!/kill|desk/i.test(text), text);
		const j = JSON.parse(text);
		assert.equal(j.id, 'chatcmpl-up1');
		assert.equal(j.choices[0].message.content, '');
		assert.equal(j.choices[0].finish_reason, 'content_filter');
	});

	test('mid-stream block: phrase split "ki" | "ll sw" | "itch" never reaches the client', async () => {
		let open;
		const gate = new Promise((r) => (open = r));
		let clientSawIntro = false;
		const intro = ['Intro part one. ', 'Intro part two. ', 'more text here. '];
		up.setHandler(async (req, body, res) => {
			await sendSSE(res, [chunk({role: 'assistant', content: ''}),
				...intro.map((c) => chunk({content: c}))], {end: false, delayMs: 2});
			// the client must see the early text while the phrase has not even been written
			await within(gate, 4000, 'client to receive the intro').catch(() => {});
			await sendSSE(res, ['ki', 'll sw', 'itch', ' is here.'].map((c) => chunk({content: c}))
				.concat([chunk({}, {finish: 'stop'}), DONE]), {delayMs: 5});
		});
		const res = await post(w, '/v1/chat/completions', chatBody('go', {stream: true}));
		assert.equal(res.status, 200);
		const dec = new TextDecoder();
		let text = '';
		await within((async () => {
			for await (const c of res.body) {
				text += dec.decode(c, {stream: true});
				if (!clientSawIntro && streamText(parseSSE(text)).includes('Intro part one.')) {
					clientSawIntro = true;
					open();
				}
			}
		})(), 8000, 'blocked stream to end');
		assert.ok(clientSawIntro, 'text well before the phrase was held back');
		const blocks = parseSSE(text);
		const content = streamText(blocks);
		assert.ok(content.startsWith('Intro part one. Intro part two. '), content);
		for (const bit of ['ki', 'll sw', 'itch', 'is here'])
			assert.ok(!content.includes(bit), `"${bit}" leaked: ${JSON.stringify(content)}`);
		assert.ok(!text.includes('"ki"') && !text.includes('itch'));
		assert.equal(blocks.at(-1).data, '[DONE]');
		assert.equal(blocks.filter((b) => b.data === '[DONE]').length, 1);
		const last = blocks.at(-2).json;
		assert.equal(last.choices[0].finish_reason, 'content_filter');
		assert.equal(last.id, 'chatcmpl-up1');
		assert.equal(last.model, 'test-model');
	});

	test('upstream resets the socket mid-stream → stream ends with an error event; proxy goes on', async () => {
		up.setHandler(async (req, body, res) => {
			await sendSSE(res, [chunk({role: 'assistant', content: ''}), chunk({content: 'partial '}),
				chunk({content: 'answer'})], {end: false, delayMs: 5});
			await new Promise((r) => setTimeout(r, 20));
			resetSocket(res);
		});
		const res = await post(w, '/v1/chat/completions', chatBody('hi', {stream: true}));
		assert.equal(res.status, 200);
		const text = await within(res.text(), 5000, 'broken stream to end'); // no throw: clean end
		const blocks = parseSSE(text);
		assert.equal(streamText(blocks), 'partial answer');
		const last = blocks.at(-1).json;
		assert.equal(last?.error?.type, 'upstream_error', text);
		assert.match(last.error.message, /upstream/);
		up.setHandler((req, b, r) => sendJSON(r, 200, chatCompletion('next one')));
		const r2 = await post(w, '/v1/chat/completions', chatBody('hi'));
		assert.equal(r2.status, 200);
		assert.equal((await r2.json()).choices[0].message.content, 'next one');
	});

	test('malformed JSON → 400 "invalid JSON", upstream not called', async () => {
		up.reset();
		const res = await post(w, '/v1/chat/completions', '{"model": "m", "messages": [');
		const e = await expectError(res, 400);
		assert.equal(e.type, 'invalid_request_error');
		assert.match(e.message, /invalid JSON/);
		assert.equal(up.requests.length, 0);
	});

	test('wrong types → 400 naming the field', async () => {
		up.reset();
		const cases = [
			[{model: 'm', messages: 'hello'}, /'messages'/],
			[{model: 7, messages: [{role: 'user', content: 'x'}]}, /'model'/],
			[{model: 'm', messages: [{role: 'user', content: 'x'}], stream: 'yes'}, /'stream'/],
			[{model: 'm', messages: [{role: 'user', content: 'x'}, {role: 'user', content: 5}]},
				/messages\[1\]\.content/],
			[[1, 2], /JSON object/],
		];
		for (const [body, re] of cases) {
			const res = await post(w, '/v1/chat/completions', body);
			const e = await expectError(res, 400);
			assert.match(e.message, re, JSON.stringify(body));
		}
		assert.equal(up.requests.length, 0);
	});

	test('many concurrent requests, mixed stream/non-stream, some blocked', async () => {
		up.reset();
		up.setHandler(async (req, body, res, rec) => {
			const msg = rec.json.messages[0].content; // "n <i> <kind>"
			const [, i, kind] = msg.split(' ');
			if (kind === 'plain')
				return sendJSON(res, 200, chatCompletion(`reply ${i}`, {id: `c-${i}`}));
			const pieces = kind === 'badstream' ? ['reply ', i, ' kill switch', ' end'] : ['reply ', i];
			return sendSSE(res, chatStream(pieces, {id: `c-${i}`}), {delayMs: 1});
		});
		const kinds = ['plain', 'stream', 'blocked', 'badstream'];
		const N = 200;
		const results = await Promise.all(Array.from({length: N}, async (_, i) => {
			const kind = kinds[i % 4];
			const body = chatBody(kind === 'blocked' ? `n ${i} blocked kill switch` : `n ${i} ${kind}`,
				{stream: kind === 'stream' || kind === 'badstream'});
			const res = await post(w, '/v1/chat/completions', body);
			return {i, kind, status: res.status, rid: res.headers.get('x-warden-request-id'),
				text: await res.text()};
		}));
		const ids = new Set();
		for (const r of results) {
			ids.add(r.rid);
			if (r.kind === 'plain') {
				assert.equal(r.status, 200);
				assert.equal(JSON.parse(r.text).choices[0].message.content, `reply ${r.i}`);
			} else if (r.kind === 'stream') {
				assert.equal(r.status, 200);
				const b = parseSSE(r.text);
				assert.equal(streamText(b), `reply ${r.i}`);
				assert.equal(b.at(-1).data, '[DONE]');
			} else if (r.kind === 'blocked') {
				assert.equal(r.status, 400);
				assert.equal(JSON.parse(r.text).error.code, 'content_filter');
			} else {
				assert.equal(r.status, 200);
				const b = parseSSE(r.text);
				assert.ok(!streamText(b).includes('kill'), r.text);
				assert.equal(finishReason(b), 'content_filter');
				assert.equal(b.at(-1).data, '[DONE]');
			}
		}
		assert.equal(ids.size, N, 'request ids are unique');
		assert.equal(up.requests.length, N * 3 / 4);
	});
});

describe('Authorization', () => {
	test('client Authorization reaches upstream unchanged and is never logged', async () => {
		const w = await startWarden({upstream: up.url, config: {log: {level: 'debug'}}});
		try {
			up.reset();
			up.setHandler((req, body, res) => sendJSON(res, 200, chatCompletion('ok')));
			const res = await post(w, '/v1/chat/completions', chatBody('hi'),
				{authorization: 'Bearer sk-client-secret-1234567890'});
			assert.equal(res.status, 200);
			await res.text();
			assert.equal(up.requests[0].headers.authorization, 'Bearer sk-client-secret-1234567890');
		} finally {
			await stopClean(w);
		}
		assert.ok(!w.stderr().includes('sk-client-secret'), w.stderr());
	});

	test('upstream.api_key replaces the client key, neither is logged', async () => {
		const w = await startWarden({upstream: up.url, config: {log: {level: 'debug'},
			upstream: {api_key: 'sk-upstream-key-0987654321'}}});
		try {
			up.reset();
			up.setHandler((req, body, res) => sendJSON(res, 200, chatCompletion('ok')));
			const res = await post(w, '/v1/chat/completions', chatBody('hi'),
				{authorization: 'Bearer sk-client-secret-1234567890'});
			assert.equal(res.status, 200);
			await res.text();
			const h = up.requests[0];
			assert.equal(h.headers.authorization, 'Bearer sk-upstream-key-0987654321');
			const auths = h.rawHeaders.filter((_, i) => i % 2 === 0 && /^authorization$/i.test(h.rawHeaders[i]));
			assert.equal(auths.length, 1, 'exactly one Authorization header upstream');
			assert.ok(!JSON.stringify(h.rawHeaders).includes('sk-client-secret'));
		} finally {
			await stopClean(w);
		}
		assert.ok(!w.stderr().includes('sk-client-secret'), w.stderr());
		assert.ok(!w.stderr().includes('sk-upstream-key'), w.stderr());
	});
});

describe('on_block: refusal', () => {
	let w;
	before(async () => {
		w = await startWarden({upstream: up.url, config: {on_block: 'refusal',
			refusal_text: 'Nope, not that.', checkers: [KILL]}});
	});
	after(() => stopClean(w));

	test('non-stream → 200 completion with the refusal text, upstream not called', async () => {
		up.reset();
		const res = await post(w, '/v1/chat/completions', chatBody('kill switch please'));
		assert.equal(res.status, 200);
		assert.match(res.headers.get('x-warden-request-id'), REQ_ID);
		assert.match(res.headers.get('content-type'), /^application\/json/);
		const j = await res.json();
		assert.equal(j.object, 'chat.completion');
		assert.equal(j.model, 'test-model');
		assert.equal(j.choices.length, 1);
		assert.equal(j.choices[0].message.role, 'assistant');
		assert.equal(j.choices[0].message.content, 'Nope, not that.');
		assert.equal(j.choices[0].finish_reason, 'content_filter');
		assert.equal(up.requests.length, 0);
	});

	test('stream → SSE refusal ending in content_filter and [DONE]', async () => {
		up.reset();
		const res = await post(w, '/v1/chat/completions', chatBody('kill switch please', {stream: true}));
		assert.equal(res.status, 200);
		assert.match(res.headers.get('content-type'), /^text\/event-stream/);
		const blocks = parseSSE(await res.text());
		assert.equal(streamText(blocks), 'Nope, not that.');
		assert.equal(finishReason(blocks), 'content_filter');
		assert.equal(blocks.at(-1).data, '[DONE]');
		for (const b of blocks.slice(0, -1))
			assert.equal(b.json.object, 'chat.completion.chunk');
		assert.equal(up.requests.length, 0);
	});
});

describe('observe mode and flag action', () => {
	let w;
	before(async () => {
		w = await startWarden({upstream: up.url, config: {checkers: [
			{...KILL, id: 'watch', mode: 'observe'},
			{id: 'flagger', type: 'pattern', action: 'flag', config: {patterns: ['red flag']}},
		]}});
	});
	after(() => stopClean(w));

	test('observe: a would-block request and answer pass unchanged', async () => {
		up.reset();
		const answer = JSON.stringify(chatCompletion('the kill switch is here'));
		up.setHandler((req, body, res) => sendJSON(res, 200, answer));
		const res = await post(w, '/v1/chat/completions', chatBody('where is the kill switch'));
		assert.equal(res.status, 200);
		assert.equal(await res.text(), answer);
		assert.equal(up.requests.length, 1);
	});

	test('observe: a would-block stream passes unchanged', async () => {
		const events = chatStream(['the ki', 'll switch', ' is here']);
		up.setHandler((req, body, res) => sendSSE(res, events, {delayMs: 1}));
		const res = await post(w, '/v1/chat/completions', chatBody('go', {stream: true}));
		assert.equal(res.status, 200);
		assert.equal(await res.text(), events.join(''));
	});

	test('flag: request and answer pass', async () => {
		up.reset();
		const answer = JSON.stringify(chatCompletion('a red flag indeed'));
		up.setHandler((req, body, res) => sendJSON(res, 200, answer));
		const res = await post(w, '/v1/chat/completions', chatBody('is this a red flag?'));
		assert.equal(res.status, 200);
		assert.equal(await res.text(), answer);
		assert.equal(up.requests.length, 1);
	});
});

describe('limits', () => {
	let w;
	before(async () => {
		w = await startWarden({upstream: up.url, config: {limits: {max_body_bytes: '1KiB'}}});
	});
	after(() => stopClean(w));

	test('body over limits.max_body_bytes (Content-Length) → 413', async () => {
		up.reset();
		const res = await post(w, '/v1/chat/completions', chatBody('x'.repeat(2000)));
		const e = await expectError(res, 413, 'request_too_large');
		assert.match(e.message, /1024/);
		assert.equal(up.requests.length, 0);
	});

	test('chunked body over the limit → 413', async () => {
		up.reset();
		const piece = 'y'.repeat(300);
		const res = await rawRequest(w.port, {method: 'POST', path: '/v1/chat/completions',
			headers: {'content-type': 'application/json', 'transfer-encoding': 'chunked'},
			chunks: ['{"model":"m","messages":[{"role":"user","content":"', piece, piece, piece,
				piece, '"}]}']});
		assert.equal(res.status, 413);
		assert.match(res.headers['x-warden-request-id'], REQ_ID);
		assert.equal(JSON.parse(res.body).error.code, 'request_too_large');
		assert.equal(up.requests.length, 0);
	});

	test('a body just under the limit passes', async () => {
		up.setHandler((req, body, res) => sendJSON(res, 200, chatCompletion('ok')));
		const res = await post(w, '/v1/chat/completions', chatBody('z'.repeat(900)));
		assert.equal(res.status, 200);
		await res.text();
	});
});

describe('response limits', () => {
	let w;
	before(async () => {
		w = await startWarden({upstream: up.url, config: {checkers: [KILL],
			limits: {max_event_bytes: '1KiB', max_response_bytes: '2KiB'}}});
	});
	after(() => stopClean(w));

	test('non-stream answer over limits.max_response_bytes → 502 response_too_large', async () => {
		up.setHandler((req, body, res) => sendJSON(res, 200, chatCompletion('y'.repeat(5000))));
		const res = await post(w, '/v1/chat/completions', chatBody('hi'));
		const e = await expectError(res, 502, 'response_too_large');
		assert.equal(e.type, 'upstream_error');
	});

	test('stream event over limits.max_event_bytes → stream ends with an error event', async () => {
		up.setHandler((req, body, res) =>
			sendSSE(res, chatStream(['small ', 'x'.repeat(3000), ' end']), {delayMs: 1}));
		const res = await post(w, '/v1/chat/completions', chatBody('hi', {stream: true}));
		assert.equal(res.status, 200);
		const blocks = parseSSE(await within(res.text(), 5000, 'stream end'));
		assert.ok(!streamText(blocks).includes('xxx'));
		const last = blocks.at(-1).json;
		assert.equal(last?.error?.type, 'upstream_error', JSON.stringify(blocks.at(-1)));
		assert.match(last.error.message, /max_event_bytes/);
	});
});

describe('upstream failures', () => {
	test('upstream down → 502 OpenAI-style error', async () => {
		const dead = await freePort();
		const w = await startWarden({upstream: `http://127.0.0.1:${dead}`});
		try {
			const res = await post(w, '/v1/chat/completions', chatBody('hi'));
			const e = await expectError(res, 502, 'upstream_unreachable');
			assert.equal(e.type, 'upstream_error');
			const r2 = await post(w, '/v1/chat/completions', chatBody('hi', {stream: true}));
			await expectError(r2, 502, 'upstream_unreachable');
		} finally {
			await stopClean(w);
		}
	});

	test('upstream slower than upstream.timeout_ms → 504', async () => {
		const w = await startWarden({upstream: up.url, config: {upstream: {timeout_ms: 300}}});
		try {
			up.setHandler(() => hang());
			const res = await post(w, '/v1/chat/completions', chatBody('hi'));
			const e = await expectError(res, 504, 'upstream_timeout');
			assert.equal(e.type, 'upstream_error');
		} finally {
			await stopClean(w);
		}
	});

	test('upstream silent past upstream.idle_timeout_ms → 504 (within 3 s for 500 ms)', async () => {
		const w = await startWarden({upstream: up.url,
			config: {upstream: {idle_timeout_ms: 500, timeout_ms: 20000}}});
		try {
			up.setHandler(() => hang());
			const res = await fetch(`${w.base}/v1/chat/completions`, {method: 'POST',
				headers: {'content-type': 'application/json'}, body: JSON.stringify(chatBody('hi')),
				signal: AbortSignal.timeout(3000)});
			await expectError(res, 504, 'upstream_timeout');
		} finally {
			await w.stop('SIGKILL'); // a drain would wait for the stuck upstream transfer
		}
	});
});

describe('client goes away', () => {
	test('client disconnect while warden waits on upstream cancels the upstream request', async () => {
		const w = await startWarden({upstream: up.url});
		let upstreamClosed;
		const closed = new Promise((r) => (upstreamClosed = r));
		up.reset();
		up.setHandler((req, body, res) => {
			res.on('close', upstreamClosed);
			return hang();
		});
		const ac = new AbortController();
		const p = fetch(`${w.base}/v1/chat/completions`, {method: 'POST',
			headers: {'content-type': 'application/json'}, body: JSON.stringify(chatBody('hi')),
			signal: ac.signal}).catch((e) => e.name);
		try {
			await up.waitForRequests(1);
			ac.abort();
			assert.equal(await p, 'AbortError');
			await within(closed, 2000, 'warden to close its upstream request');
		} finally {
			await w.stop('SIGKILL');
		}
	});
});

describe('checker errors and timeouts', () => {
	const dbg = (id, extra, config) => ({id, type: 'debug', phases: ['request'], ...extra, config});

	async function withWarden(checkers, fn) {
		const w = await startWarden({upstream: up.url, config: {checkers}});
		try {
			up.reset();
			up.setHandler((req, body, res) => sendJSON(res, 200, chatCompletion('fine')));
			await fn(w);
		} finally {
			await stopClean(w);
		}
	}

	test('failing checker, on_error allow → passes', () =>
		withWarden([dbg('broken', {on_error: 'allow'}, {fail: true})], async (w) => {
			const res = await post(w, '/v1/chat/completions', chatBody('hi'));
			assert.equal(res.status, 200);
			assert.equal((await res.json()).choices[0].message.content, 'fine');
			assert.equal(up.requests.length, 1);
		}));

	test('failing checker, on_error block → 400 naming it, upstream not called', () =>
		withWarden([dbg('broken', {on_error: 'block'}, {fail: true})], async (w) => {
			const res = await post(w, '/v1/chat/completions', chatBody('hi'));
			const e = await expectError(res, 400, 'content_filter');
			assert.equal(e.warden.checker, 'broken');
			assert.equal(e.warden.category, 'checker.error');
			assert.equal(up.requests.length, 0);
		}));

	test('async checker past timeout_ms, on_error block → 400 checker.timeout', () =>
		withWarden([dbg('slow', {on_error: 'block', timeout_ms: 100}, {async_ms: 5000})], async (w) => {
			const t0 = Date.now();
			const res = await post(w, '/v1/chat/completions', chatBody('hi'));
			const e = await expectError(res, 400, 'content_filter');
			assert.equal(e.warden.checker, 'slow');
			assert.equal(e.warden.category, 'checker.timeout');
			assert.ok(Date.now() - t0 < 4000, 'the timeout did not cut the wait short');
			assert.equal(up.requests.length, 0);
		}));

	test('async checker past timeout_ms, on_error allow → passes', () =>
		withWarden([dbg('slow', {on_error: 'allow', timeout_ms: 100}, {async_ms: 5000})], async (w) => {
			const t0 = Date.now();
			const res = await post(w, '/v1/chat/completions', chatBody('hi'));
			assert.equal(res.status, 200);
			assert.equal((await res.json()).choices[0].message.content, 'fine');
			assert.ok(Date.now() - t0 < 4000, 'the timeout did not cut the wait short');
		}));

	test('async checker within timeout: blocks by its score, passes otherwise', () =>
		withWarden([dbg('async', {on_error: 'allow', timeout_ms: 3000, threshold: 0.5},
			{async_ms: 50, match: 'forbidden', score: 0.9, category: 'test.async'})], async (w) => {
			const bad = await post(w, '/v1/chat/completions', chatBody('a forbidden word'));
			const e = await expectError(bad, 400, 'content_filter');
			assert.equal(e.warden.checker, 'async');
			assert.equal(e.warden.category, 'test.async');
			assert.equal(up.requests.length, 0);
			const good = await post(w, '/v1/chat/completions', chatBody('a harmless word'));
			assert.equal(good.status, 200);
			await good.text();
			assert.equal(up.requests.length, 1);
		}));

	test('flag_threshold: a score in the band passes and is recorded as a flag, at threshold it blocks', () =>
		withWarden([dbg('band', {threshold: 0.8, flag_threshold: 0.5},
			{match: 'borderline', score: 0.6, category: 'test.band'}),
		dbg('high', {threshold: 0.8, flag_threshold: 0.5},
			{match: 'certain', score: 0.9, category: 'test.band'})], async (w) => {
			const mid = await post(w, '/v1/chat/completions', chatBody('a borderline word'));
			assert.equal(mid.status, 200);
			await mid.text();
			const rid = mid.headers.get('x-warden-request-id');
			const {incidents} = await (await fetch(`${w.admin}/api/v1/incidents?request_id=${rid}`)).json();
			assert.equal(incidents.length, 1);
			assert.equal(incidents[0].checker, 'band');
			assert.equal(incidents[0].action, 'flag');
			const plain = await post(w, '/v1/chat/completions', chatBody('an ordinary word'));
			assert.equal(plain.status, 200);
			await plain.text();
			const none = await (await fetch(`${w.admin}/api/v1/incidents?request_id=${plain.headers.get('x-warden-request-id')}`)).json();
			assert.equal(none.incidents.length, 0);
			const high = await post(w, '/v1/chat/completions', chatBody('a certain word'));
			const e = await expectError(high, 400, 'content_filter');
			assert.equal(e.warden.checker, 'high');
			assert.equal(up.requests.length, 2);
		}));

	test('async checker scoring below threshold passes', () =>
		withWarden([dbg('async', {on_error: 'block', timeout_ms: 3000, threshold: 0.5},
			{async_ms: 50, match: 'forbidden', score: 0.3})], async (w) => {
			const res = await post(w, '/v1/chat/completions', chatBody('a forbidden word'));
			assert.equal(res.status, 200);
			await res.text();
		}));
});

describe('process lifecycle', () => {
	test('GET /healthz on the admin port → 200', async () => {
		const w = await startWarden({upstream: up.url});
		try {
			const res = await fetch(`${w.admin}/healthz`);
			assert.equal(res.status, 200);
			assert.deepEqual(await res.json(), {status: 'ok'});
		} finally {
			await stopClean(w);
		}
	});

	test('SIGTERM while a request is in flight: it completes with 200, then exit 0', async () => {
		const w = await startWarden({upstream: up.url});
		let release;
		const gate = new Promise((r) => (release = r));
		up.reset();
		up.setHandler(async (req, body, res) => {
			await within(gate, 8000, 'test to release the upstream').catch(() => {});
			sendJSON(res, 200, chatCompletion('finished after SIGTERM'));
		});
		const pending = post(w, '/v1/chat/completions', chatBody('slow one'));
		await up.waitForRequests(1);
		w.proc.kill('SIGTERM');
		// wait until warden stops accepting new connections: it is draining
		await within((async () => {
			for (;;) {
				const refused = await new Promise((r) => {
					const s = net.connect(w.port, '127.0.0.1');
					s.on('connect', () => {
						s.destroy();
						r(false);
					});
					s.on('error', () => r(true));
				});
				if (refused)
					return;
				await new Promise((r) => setTimeout(r, 20));
			}
		})(), 5000, 'warden to stop listening after SIGTERM');
		release();
		const res = await pending;
		assert.equal(res.status, 200);
		assert.equal((await res.json()).choices[0].message.content, 'finished after SIGTERM');
		const e = await within(w.exited, 5000, 'warden to exit after draining');
		assert.deepEqual(e, {code: 0, signal: null});
		await w.stop();
	});

	test('bad config: unknown key → non-zero exit, "file:line: path" on stderr', async () => {
		const r = await runBadConfig('listen: "127.0.0.1:8080"\nupstream:\n  url: "http://127.0.0.1:1"\n  timeuot_ms: 5\n');
		assert.notEqual(r.code, 0);
		assert.ok(r.stderr.includes(`${r.file}:4:`), r.stderr);
		assert.match(r.stderr, /upstream\.timeuot_ms/);
	});

	test('bad config: unknown checker type → non-zero exit, "file:line: checkers[i].type"', async () => {
		const r = await runBadConfig([
			'on_block: error',
			'checkers:',
			'  - id: ok',
			'    type: debug',
			'  - id: typo',
			'    type: harmm',
			'',
		].join('\n'));
		assert.notEqual(r.code, 0);
		assert.ok(r.stderr.includes(`${r.file}:6:`), r.stderr);
		assert.match(r.stderr, /checkers\[1\]\.type/);
		assert.match(r.stderr, /harmm/);
	});

	test('bad config: bad value → non-zero exit naming the line and key', async () => {
		const r = await runBadConfig('limits:\n  max_body_bytes: big\n');
		assert.notEqual(r.code, 0);
		assert.ok(r.stderr.includes(`${r.file}:2:`), r.stderr);
		assert.match(r.stderr, /limits\.max_body_bytes/);
	});
});
