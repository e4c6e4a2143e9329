// admin.test.mjs — black-box tests of the admin listener: a real warden with an incident store
// (--db in a temporary directory) in front of a scripted upstream. Incidents are made the way
// production makes them — requests blocked, whole answers blocked, streams blocked mid-way, a
// flag and an observe-mode hit — then the REST API is checked against them: every field, every
// filter, paging, review, stats, export, the checker list, metrics, auth, the dashboard's static
// files and every refusal. Last, the client's API key must not be anywhere in the database files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {after, before, describe, test} from 'node:test';

import {admin, adminJSON, chat, dbBytes, dbPath, listAll, pool} from './admin_harness.mjs';
import {startWarden} from './harness.mjs';
import {chatCompletion, chatStream, scriptedUpstream, sendJSON, sendSSE} from './upstream.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = 'admin-tok-7f3a9c';
const KEY1 = 'sk-test-SECRET-123';
const KEY2 = 'sk-other-KEY-456';
const REQ_ID = /^wd-[0-9a-f]{16}$/;

const CHECKERS = [
	{id: 'kill', type: 'pattern', phases: ['request', 'response'], action: 'block',
		flag_threshold: 0.25, config: {category: 'S9', patterns: ['kill switch']}},
	{id: 'secrets', type: 'pattern', phases: ['request'], action: 'flag', threshold: 0.9,
		timeout_ms: 250,
		config: {category: 'privacy.secret', case_insensitive: false,
			patterns: [{id: 'aws-key', regex: 'AKIA[0-9A-Z]{16}'}]}},
	{id: 'dbg', type: 'debug', phases: ['request'], mode: 'observe', on_error: 'block',
		config: {match: 'canary-word', category: 'jailbreak.test'}},
];

// The upstream: a message with ANSWER-BLOCK gets an answer that says the blocked phrase (whole
// or streamed across chunk boundaries); anything else gets a harmless answer.
async function upstreamScript(req, body, res, rec) {
	const msg = rec.json?.messages?.at(-1)?.content ?? '';
	if (msg.includes('SLOW'))
		await new Promise((r) => setTimeout(r, 1500));
	const bad = msg.includes('ANSWER-BLOCK');
	if (rec.json?.stream) {
		await sendSSE(res, chatStream(bad ? ['Sure: the ki', 'll swi', 'tch is under the desk.']
			: ['A harmless ', 'answer.']));
	} else {
		sendJSON(res, 200, chatCompletion(bad ? 'Sure: the kill switch is under the desk.'
			: 'A harmless answer.'));
	}
}

const iso = (ms) => new Date(ms).toISOString();
// RFC 3339 with a +02:00 offset and no fraction, for the same instant (to the second).
function isoOffset(ms) {
	const d = new Date(ms + 2 * 3600 * 1000);
	return d.toISOString().replace(/\.\d{3}Z$/, '+02:00');
}
const ids = (list) => list.map((i) => i.id);

function assertError(r, status, code, re) {
	assert.equal(r.status, status, r.text);
	assert.equal(r.headers.get('content-type'), 'application/json');
	assert.equal(typeof r.json?.error?.message, 'string', r.text);
	assert.equal(r.json.error.type, status >= 500 ? 'server_error' : 'invalid_request_error');
	if (code)
		assert.equal(r.json.error.code, code);
	if (re)
		assert.match(r.json.error.message, re);
}

describe('admin API over real incidents', () => {
	let up;
	let w;
	let t0;
	const rid = {};
	const answers = {};

	before(async () => {
		up = await scriptedUpstream(upstreamScript);
		w = await startWarden({upstream: up.url,
			config: {admin: {token: TOKEN}, checkers: CHECKERS}});
		w.adminToken = TOKEN;
		t0 = Date.now();
		answers.req = await chat(w, 'please flip the kill switch', {model: 'model-a'});
		answers.resp = await chat(w, 'ANSWER-BLOCK whole', {model: 'model-b'});
		answers.stream = await chat(w, 'ANSWER-BLOCK stream', {model: 'model-b', stream: true});
		answers.flag = await chat(w, 'my id is AKIAABCDEFGHIJKLMNOP', {model: 'model-a', key: KEY2});
		answers.obs = await chat(w, 'canary-word please', {model: 'model-a', key: KEY2});
		answers.clean = await chat(w, 'hello there', {model: 'model-a'});
		for (let i = 0; i < 7; i++)
			answers[`more${i}`] = await chat(w, `kill switch number ${i}`, {model: 'model-c'});
		for (const [k, a] of Object.entries(answers)) {
			assert.match(a.rid ?? '', REQ_ID, `${k}: x-warden-request-id`);
			rid[k] = a.rid;
		}
	});

	after(async () => {
		await w?.stop();
		await up?.close();
	});

	test('the client answers are the blocked ones', () => {
		assert.equal(answers.req.status, 400);
		assert.equal(answers.req.json.error.code, 'content_filter');
		assert.equal(answers.resp.status, 200);
		assert.equal(answers.resp.json.choices[0].finish_reason, 'content_filter');
		assert.equal(answers.stream.status, 200);
		assert.match(answers.stream.text, /"finish_reason":"content_filter"/);
		assert.doesNotMatch(answers.stream.text, /kill switch/);
		assert.equal(answers.flag.status, 200);
		assert.equal(answers.obs.status, 200);
		assert.equal(answers.clean.status, 200);
	});

	test('/healthz answers without a token', async () => {
		const r = await admin(w, '/healthz', {token: null});
		assert.equal(r.status, 200);
		assert.deepEqual(r.json, {status: 'ok'});
	});

	test('every incident is committed by the time its client has the answer', async () => {
		// No polling: the proxy finishes a response only after the store commits its incident.
		const all = await listAll(w);
		const got = new Set(all.map((i) => i.request_id));
		for (const k of ['req', 'resp', 'stream', 'flag', 'obs', 'more0', 'more6'])
			assert.ok(got.has(rid[k]), `incident of ${k} (${rid[k]})`);
		assert.ok(!got.has(rid.clean), 'a clean request makes no incident');
		assert.equal(all.length, 12);
	});

	test('incidents carry every field', async () => {
		const byRid = async (r) => {
			const page = await adminJSON(w, `/api/v1/incidents?request_id=${r}`);
			assert.equal(page.incidents.length, 1, `one incident for ${r}`);
			assert.equal(page.next_cursor, null);
			return page.incidents[0];
		};
		const now = Date.now();
		const a = await byRid(rid.req);
		assert.equal(typeof a.id, 'number');
		assert.ok(a.ts_ms >= t0 - 1000 && a.ts_ms <= now, `ts_ms ${a.ts_ms}`);
		assert.equal(new Date(a.time).getTime(), a.ts_ms);
		assert.equal(a.request_id, rid.req);
		assert.equal(a.route, 'chat');
		assert.equal(a.model, 'model-a');
		assert.equal(a.phase, 'request');
		assert.equal(a.checker, 'kill');
		assert.equal(a.checker_type, 'pattern');
		assert.equal(a.category, 'S9');
		assert.equal(a.action, 'block');
		assert.equal(a.score, 1);
		assert.equal(typeof a.evidence, 'object');
		assert.ok(a.evidence !== null && !Array.isArray(a.evidence));
		assert.match(JSON.stringify(a.evidence), /kill switch|pattern/i);
		assert.match(a.key_hash, /^[0-9a-f]{16,64}$/);
		assert.ok(!a.key_hash.includes('SECRET'));
		assert.equal(a.client_addr, '127.0.0.1');
		assert.equal(a.upstream_status, 0);
		assert.equal(a.status, 400);
		assert.equal(typeof a.latency_ms, 'number');
		assert.ok(a.latency_ms >= 0 && a.latency_ms < 10000);
		assert.equal(a.review.status, 'open');

		const b = await byRid(rid.resp);
		assert.equal(b.phase, 'response');
		assert.equal(b.model, 'model-b');
		assert.equal(b.action, 'block');
		assert.equal(b.upstream_status, 200);
		assert.equal(b.status, 200);
		assert.equal(b.key_hash, a.key_hash, 'same key, same hash');

		const c = await byRid(rid.stream);
		assert.equal(c.phase, 'stream');
		assert.equal(c.checker, 'kill');
		assert.equal(c.action, 'block');
		assert.equal(c.upstream_status, 200);

		const d = await byRid(rid.flag);
		assert.equal(d.checker, 'secrets');
		assert.equal(d.category, 'privacy.secret');
		assert.equal(d.action, 'flag');
		assert.notEqual(d.key_hash, a.key_hash, 'another key, another hash');
		assert.equal(d.status, 200);
		assert.equal(d.upstream_status, 200);

		const e = await byRid(rid.obs);
		assert.equal(e.checker, 'dbg');
		assert.equal(e.checker_type, 'debug');
		assert.equal(e.action, 'would_block');
		assert.equal(e.category, 'jailbreak.test');
	});

	test('GET /api/v1/incidents/{id} gives the same object as the list', async () => {
		const [first] = (await adminJSON(w, `/api/v1/incidents?request_id=${rid.stream}`)).incidents;
		const one = await adminJSON(w, `/api/v1/incidents/${first.id}`);
		assert.deepEqual(one, first);
	});

	test('filters', async () => {
		const count = async (qs) => (await listAll(w, qs)).length;
		assert.equal(await count('checker=kill'), 10);
		assert.equal(await count('checker=secrets'), 1);
		assert.equal(await count('checker=dbg'), 1);
		assert.equal(await count('checker=nobody'), 0);
		assert.equal(await count('category=S9'), 10);
		assert.equal(await count('category=privacy.secret'), 1);
		assert.equal(await count('category=privacy'), 1, 'family prefix');
		assert.equal(await count('category=jailbreak'), 1, 'family prefix');
		assert.equal(await count('category=priv'), 0, 'a prefix must end at a dot');
		assert.equal(await count('action=block'), 10);
		assert.equal(await count('action=flag'), 1);
		assert.equal(await count('action=would_block'), 1);
		assert.equal(await count('action=redact'), 0);
		assert.equal(await count('model=model-a'), 3);
		assert.equal(await count('model=model-b'), 2);
		assert.equal(await count('model=model-c'), 7);
		assert.equal(await count('checker=kill&model=model-c'), 7);
		assert.equal(await count('checker=kill&model=model-a'), 1);
		assert.equal(await count('review_status=open'), 12);
		assert.equal(await count('review_status=confirmed'), 0);

		const [k1] = (await adminJSON(w, `/api/v1/incidents?request_id=${rid.req}`)).incidents;
		const [k2] = (await adminJSON(w, `/api/v1/incidents?request_id=${rid.flag}`)).incidents;
		assert.equal(await count(`key_hash=${k1.key_hash}`), 10);
		assert.equal(await count(`key_hash=${k2.key_hash}`), 2);
		assert.equal(await count(`key_hash=${encodeURIComponent(KEY1)}`), 0);

		const q = await listAll(w, 'q=kill%20switch');
		assert.ok(q.length >= 1, 'q finds the excerpts');
		assert.ok(q.every((i) => i.checker === 'kill'), 'q matches only what holds the text');
		assert.equal(await count('q=no-such-text-anywhere'), 0);
	});

	test('time filters: RFC 3339 (Z, fraction, offset) and unix seconds', async () => {
		const count = async (qs) => (await listAll(w, qs)).length;
		const now = Date.now();
		assert.equal(await count(`since=${iso(t0 - 2000)}`), 12);
		assert.equal(await count(`since=${encodeURIComponent(isoOffset(t0 - 2000))}`), 12);
		assert.equal(await count(`since=${iso(now + 3600e3)}`), 0);
		assert.equal(await count(`since=${iso(now + 3600e3).replace('Z', 'z').replace('T', 't')}`),
			0);
		assert.equal(await count(`since=${Math.floor((t0 - 2000) / 1000)}`), 12);
		assert.equal(await count(`until=${Math.floor((t0 - 3600e3) / 1000)}`), 0);
		assert.equal(await count(`until=${Math.ceil(now / 1000) + 60}`), 12);
		assert.equal(await count(`since=${(t0 - 2000) / 1000}`), 12, 'fractional unix seconds');
		// The split between two incidents: since=ts of one incident includes it, until excludes.
		const all = await listAll(w);
		const mid = all[5].ts_ms;
		const after = await listAll(w, `since=${encodeURIComponent(iso(mid))}`);
		assert.ok(after.some((i) => i.id === all[5].id));
		assert.ok(after.every((i) => i.ts_ms >= mid));
		const before_ = await listAll(w, `until=${encodeURIComponent(iso(mid))}`);
		assert.ok(before_.every((i) => i.ts_ms < mid));
		assert.equal(after.length + before_.length, 12);
	});

	test('cursor paging: newest first, no duplicates, nothing missed', async () => {
		const all = ids(await listAll(w));
		const seen = [];
		let cursor = null;
		let pages = 0;
		do {
			const page = await adminJSON(w, `/api/v1/incidents?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
			assert.ok(page.incidents.length <= 5);
			seen.push(...ids(page.incidents));
			cursor = page.next_cursor;
			assert.ok(cursor === null || Number.isInteger(cursor));
			pages++;
		} while (cursor !== null && pages < 20);
		assert.equal(pages, 3);
		assert.equal(new Set(seen).size, seen.length, 'no duplicates');
		assert.deepEqual(seen, all);
		for (let i = 1; i < seen.length; i++)
			assert.ok(seen[i] < seen[i - 1], 'newest (highest id) first');
		// With a filter.
		const c = [];
		cursor = null;
		do {
			const page = await adminJSON(w, `/api/v1/incidents?model=model-c&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
			c.push(...page.incidents);
			cursor = page.next_cursor;
		} while (cursor !== null && c.length < 20);
		assert.equal(c.length, 7);
		assert.ok(c.every((i) => i.model === 'model-c'));
		assert.equal(new Set(ids(c)).size, 7);
		// The default page is 50.
		const dflt = await adminJSON(w, '/api/v1/incidents');
		assert.equal(dflt.incidents.length, 12);
		assert.equal(dflt.next_cursor, null);
	});

	test('stats: totals by dimension and a series that adds up', async () => {
		const s = await adminJSON(w, '/api/v1/stats');
		assert.equal(s.total, 12);
		assert.deepEqual(s.by_checker, {kill: 10, secrets: 1, dbg: 1});
		assert.deepEqual(s.by_action, {block: 10, flag: 1, would_block: 1});
		assert.deepEqual(s.by_category, {'S9': 10, 'privacy.secret': 1, 'jailbreak.test': 1});
		assert.ok(Array.isArray(s.series));
		assert.ok(s.series.length >= 24 && s.series.length <= 26, `hourly over 24 h: ${s.series.length}`);
		assert.equal(s.series.reduce((n, p) => n + p.count, 0), 12);
		const m = await adminJSON(w, `/api/v1/stats?bucket=minute&since=${iso(t0 - 5 * 60e3)}`);
		assert.equal(m.total, 12);
		assert.ok(m.series.length >= 5 && m.series.length <= 8, `minutes: ${m.series.length}`);
		assert.equal(m.series.reduce((n, p) => n + p.count, 0), 12);
		for (const p of m.series)
			assert.ok(p.t !== undefined && Number.isInteger(p.count));
		const d = await adminJSON(w, '/api/v1/stats?bucket=day');
		assert.equal(d.total, 12);
		const none = await adminJSON(w, `/api/v1/stats?since=${iso(Date.now() + 3600e3)}&until=${iso(Date.now() + 7200e3)}`);
		assert.equal(none.total, 0);
		assertError(await admin(w, '/api/v1/stats?bucket=week'), 400, 'invalid_parameter', /^bucket: /);
		assertError(await admin(w, '/api/v1/stats?bucket=minute&since=1'), 400, 'invalid_parameter',
			/buckets/);
		assertError(await admin(w, '/api/v1/stats?checker=kill'), 400, 'unknown_parameter',
			/"checker"/);
	});

	test('export: JSON lines equal to the incidents, with the same filters', async () => {
		const r = await admin(w, '/api/v1/export?format=jsonl');
		assert.equal(r.status, 200);
		assert.match(r.headers.get('content-type'), /^application\/x-ndjson/);
		const lines = r.text.split('\n');
		assert.equal(lines.pop(), '', 'ends with a newline');
		const rows = lines.map((l) => JSON.parse(l));
		assert.deepEqual(rows, await listAll(w));
		const d = await admin(w, '/api/v1/export');
		assert.equal(d.text, r.text, 'jsonl is the default format');
		const kill = (await admin(w, '/api/v1/export?format=jsonl&checker=kill&model=model-c')).text
			.trim().split('\n').map((l) => JSON.parse(l));
		assert.deepEqual(kill, await listAll(w, 'checker=kill&model=model-c'));
		const lim = (await admin(w, '/api/v1/export?limit=3')).text.trim().split('\n');
		assert.equal(lim.length, 3);
		const empty = await admin(w, `/api/v1/export?since=${iso(Date.now() + 3600e3)}`);
		assert.equal(empty.status, 200);
		assert.equal(empty.text, '');
		assertError(await admin(w, '/api/v1/export?limit=0'), 400, 'invalid_parameter', /^limit: /);
		assertError(await admin(w, '/api/v1/export?format=csv'), 400, 'invalid_parameter',
			/^format: .*"csv"/);
		assertError(await admin(w, '/api/v1/export?format=jsonl&bucket=hour'), 400,
			'unknown_parameter', /"bucket"/);
	});

	test('/api/v1/checkers: the chain as configured, with counters', async () => {
		const {checkers} = await adminJSON(w, '/api/v1/checkers');
		assert.deepEqual(checkers.map((c) => c.id), ['kill', 'secrets', 'dbg']);
		const [k, s, d] = checkers;
		assert.equal(k.type, 'pattern');
		assert.deepEqual(k.phases, ['request', 'response']);
		assert.equal(k.mode, 'enforce');
		assert.equal(k.action, 'block');
		assert.equal(k.threshold, 0.5);
		assert.equal(k.flag_threshold, 0.25);
		assert.equal(k.on_error, 'allow');
		assert.equal(k.timeout_ms, 1000);
		assert.deepEqual(s.phases, ['request']);
		assert.equal(s.action, 'flag');
		assert.equal(s.threshold, 0.9);
		assert.equal(s.flag_threshold, null);
		assert.equal(s.timeout_ms, 250);
		assert.equal(d.type, 'debug');
		assert.equal(d.mode, 'observe');
		assert.equal(d.on_error, 'block');
		// kill saw all 13 requests; the 6 that were not blocked there went on to the answer.
		assert.ok(k.calls >= 13, `kill calls ${k.calls}`);
		assert.ok(k.incidents >= 10, `kill incidents ${k.incidents}`);
		assert.equal(s.incidents, 1);
		assert.equal(d.incidents, 1);
		for (const c of checkers) {
			assert.equal(c.errors, 0);
			assert.equal(c.timeouts, 0);
			assert.equal(typeof c.latency_mean_ms, 'number');
			assert.ok(c.latency_mean_ms >= 0);
			assert.ok(c.calls >= c.incidents);
			assert.ok(c.latency_p50_ms === null || c.latency_p50_ms > 0);
		}
	});

	test('/metrics: Prometheus text with requests, incidents and checker series', async () => {
		const r = await admin(w, '/metrics');
		assert.equal(r.status, 200);
		assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
		assert.match(r.text, /^# TYPE warden_requests_total counter$/m);
		assert.match(r.text, /^warden_requests_total\{[^}]*\} \d+$/m);
		assert.match(r.text, /^warden_incidents_total\{[^}]*checker="kill"[^}]*\} 10$/m);
		assert.match(r.text, /^warden_checker_calls_total\{checker="kill"[^}]*\} \d+$/m);
		assert.match(r.text, /^warden_store_incidents_written_total \d+$/m);
		assert.doesNotMatch(r.text, /SECRET/);
	});

	test('PATCH review: status, note, both; filterable afterwards', async () => {
		const [inc] = (await adminJSON(w, `/api/v1/incidents?request_id=${rid.resp}`)).incidents;
		const p1 = await admin(w, `/api/v1/incidents/${inc.id}`, {method: 'PATCH',
			body: {status: 'false_positive', note: 'a novel, not a how-to'}});
		assert.equal(p1.status, 200, p1.text);
		assert.equal(p1.json.id, inc.id);
		assert.equal(p1.json.review.status, 'false_positive');
		assert.equal(p1.json.review.note, 'a novel, not a how-to');
		const got = await adminJSON(w, `/api/v1/incidents/${inc.id}`);
		assert.equal(got.review.status, 'false_positive');
		assert.ok(got.review.reviewed_at, 'a review has a time');
		// A note alone keeps the status.
		const p2 = await admin(w, `/api/v1/incidents/${inc.id}`, {method: 'PATCH',
			body: {note: 'checked twice'}});
		assert.equal(p2.status, 200, p2.text);
		assert.equal(p2.json.review.status, 'false_positive');
		assert.equal(p2.json.review.note, 'checked twice');
		// A status alone keeps the note.
		const p3 = await admin(w, `/api/v1/incidents/${inc.id}`, {method: 'PATCH',
			body: {status: 'confirmed'}});
		assert.equal(p3.status, 200, p3.text);
		assert.equal(p3.json.review.status, 'confirmed');
		assert.equal(p3.json.review.note, 'checked twice');
		const confirmed = await listAll(w, 'review_status=confirmed');
		assert.deepEqual(ids(confirmed), [inc.id]);
		assert.equal((await listAll(w, 'review_status=open')).length, 11);
		// Refusals.
		const url = `/api/v1/incidents/${inc.id}`;
		assertError(await admin(w, url, {method: 'PATCH', body: '{"status": '}), 400,
			'invalid_json', /^invalid JSON at line 1 column \d+/);
		assertError(await admin(w, url, {method: 'PATCH', body: '[1]'}), 400, 'invalid_json');
		assertError(await admin(w, url, {method: 'PATCH', body: ''}), 400, 'invalid_json');
		assertError(await admin(w, url, {method: 'PATCH', body: {}}), 400, 'invalid_parameter',
			/status, note or both/);
		assertError(await admin(w, url, {method: 'PATCH', body: {status: 'maybe'}}), 400,
			'invalid_parameter', /^status: must be one of open, confirmed, false_positive/);
		assertError(await admin(w, url, {method: 'PATCH', body: {status: 1}}), 400,
			'invalid_parameter');
		assertError(await admin(w, url, {method: 'PATCH', body: {note: 5}}), 400, 'invalid_parameter',
			/^note: /);
		assertError(await admin(w, url, {method: 'PATCH', body: {status: 'open', who: 'me'}}), 400,
			'invalid_parameter', /unknown field "who"/);
		assertError(await admin(w, '/api/v1/incidents/99999999', {method: 'PATCH',
			body: {status: 'open'}}), 404, 'not_found');
		assertError(await admin(w, '/api/v1/incidents/abc', {method: 'PATCH', body: {status: 'open'}}),
			400, 'invalid_parameter', /^id: /);
		// Nothing changed by the refusals.
		assert.equal((await adminJSON(w, url)).review.status, 'confirmed');
	});

	test('PATCH bodies over 64 KiB get 413 (with Content-Length, and chunked)', async () => {
		const [inc] = (await adminJSON(w, `/api/v1/incidents?request_id=${rid.more0}`)).incidents;
		const big = JSON.stringify({note: 'x'.repeat(70 * 1024)});
		assertError(await admin(w, `/api/v1/incidents/${inc.id}`, {method: 'PATCH', body: big}), 413,
			'body_too_large');
		const res = await new Promise((resolve, reject) => {
			const req = http.request({host: '127.0.0.1', port: w.adminPort, method: 'PATCH',
				path: `/api/v1/incidents/${inc.id}`, agent: false,
				headers: {'authorization': `Bearer ${TOKEN}`, 'content-type': 'application/json',
					'transfer-encoding': 'chunked'}}, (r) => {
				const parts = [];
				r.on('data', (c) => parts.push(c));
				r.on('end', () => resolve({status: r.statusCode,
					body: Buffer.concat(parts).toString()}));
			});
			req.on('error', reject);
			req.write('{"note": "');
			for (let i = 0; i < 5; i++)
				req.write('y'.repeat(16 * 1024));
			req.end('"}');
		});
		assert.equal(res.status, 413, res.body);
		assert.equal(JSON.parse(res.body).error.code, 'body_too_large');
		// A body just under the cap is read (and refused on its merits: the note is too long).
		const near = JSON.stringify({note: 'z'.repeat(60 * 1024)});
		assertError(await admin(w, `/api/v1/incidents/${inc.id}`, {method: 'PATCH', body: near}),
			400, 'invalid_parameter', /^note: /);
	});

	test('auth: the API and /metrics need the token; health and dashboard files do not', async () => {
		const guarded = ['/api/v1/incidents', '/api/v1/incidents/1', '/api/v1/stats',
			'/api/v1/checkers', '/api/v1/export?format=jsonl', '/metrics'];
		for (const p of guarded) {
			for (const token of [null, 'wrong', TOKEN.slice(0, -1), `${TOKEN}x`, '']) {
				const r = await admin(w, p, {token});
				assert.equal(r.status, 401, `${p} with ${JSON.stringify(token)}`);
				assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
				assert.equal(r.json.error.code, 'unauthorized');
				assert.ok(!r.text.includes(TOKEN), 'the token is never echoed');
			}
			const basic = await admin(w, p, {token: null,
				headers: {authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`}});
			assert.equal(basic.status, 401);
			const ok = await admin(w, p, {token: TOKEN});
			assert.ok(ok.status === 200 || ok.status === 404, `${p}: ${ok.status}`);
		}
		const lower = await admin(w, '/api/v1/checkers', {token: null,
			headers: {authorization: `bearer ${TOKEN}`}});
		assert.equal(lower.status, 200, 'the scheme is case-insensitive');
		const patch = await admin(w, '/api/v1/incidents/1', {method: 'PATCH', token: null,
			body: {status: 'open'}});
		assert.equal(patch.status, 401);
		assert.equal((await admin(w, '/healthz', {token: null})).status, 200);
		assert.equal((await admin(w, '/dashboard/', {token: null})).status, 200);
		assert.ok(!w.stderr().includes(TOKEN), 'the token is never logged');
	});

	test('refusals: unknown and bad parameters, unknown ids and paths, wrong methods', async () => {
		let r = await admin(w, '/api/v1/incidents?sinse=1');
		assertError(r, 400, 'unknown_parameter', /^unknown parameter "sinse" \(known: since, until, /);
		r = await admin(w, '/api/v1/incidents?since=yesterday');
		assertError(r, 400, 'invalid_parameter');
		assert.equal(r.json.error.message,
			'since: not an RFC 3339 time or unix seconds: "yesterday"');
		assert.equal(r.json.error.param, 'since');
		for (const bad of ['2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-11-28T25:00:00Z',
			'2026-11-28', '2026-11-28T09:00:00', '2026-11-28T09:00:00+2', '-5', '1.2.3', '0x10',
			'2026-11-28T09:00:00.Z']) {
			r = await admin(w, `/api/v1/incidents?until=${encodeURIComponent(bad)}`);
			assertError(r, 400, 'invalid_parameter', /^until: not an RFC 3339 time or unix seconds/);
		}
		r = await admin(w, `/api/v1/incidents?since=${iso(Date.now())}&until=${iso(Date.now() - 1000)}`);
		assertError(r, 400, 'invalid_parameter', /^until: must be after since/);
		for (const [qs, re] of [
			['limit=0', /^limit: must be an integer from 1 to 1000 \(got "0"\)/],
			['limit=1001', /^limit: /],
			['limit=ten', /^limit: /],
			['limit=-1', /^limit: /],
			['cursor=-1', /^cursor: /],
			['cursor=abc', /^cursor: /],
			['action=nuke', /^action: unknown value "nuke"/],
			['review_status=maybe', /^review_status: unknown value "maybe"/],
			['since=1&since=2', /^since: given more than once/],
			[`q=${'a'.repeat(2000)}`, /^q: longer than/],
		]) {
			r = await admin(w, `/api/v1/incidents?${qs}`);
			assertError(r, 400, null, re);
		}
		// Values that are not UTF-8, or that a message cuts inside a character, still get an answer.
		assertError(await admin(w, '/api/v1/incidents?since=%ff%fe'), 400, 'invalid_parameter',
			/^since: /);
		assertError(await admin(w, `/api/v1/incidents?since=a${'%C3%A9'.repeat(60)}`), 400,
			'invalid_parameter', /^since: /);
		assertError(await admin(w, '/api/v1/%ff'), 404, 'not_found');
		assertError(await admin(w, '/api/v1/incidents/99999999'), 404, 'not_found', /99999999/);
		assertError(await admin(w, '/api/v1/incidents/abc'), 400, 'invalid_parameter', /^id: /);
		assertError(await admin(w, '/api/v1/incidents/1/x'), 404, 'not_found');
		assertError(await admin(w, '/api/v1/incidents/1?x=1'), 400, 'unknown_parameter');
		assertError(await admin(w, '/api/v1/checkers?verbose=1'), 400, 'unknown_parameter');
		assertError(await admin(w, '/api/v1/nope'), 404, 'not_found');
		assertError(await admin(w, '/nope'), 404, 'not_found');

		r = await admin(w, '/api/v1/incidents', {method: 'POST', body: {}});
		assertError(r, 405, 'method_not_allowed');
		assert.equal(r.headers.get('allow'), 'GET, HEAD');
		r = await admin(w, '/api/v1/incidents/1', {method: 'DELETE'});
		assertError(r, 405, 'method_not_allowed');
		assert.equal(r.headers.get('allow'), 'GET, HEAD, PATCH');
		r = await admin(w, '/healthz', {method: 'POST', token: null});
		assert.equal(r.status, 405);
		r = await admin(w, '/metrics', {method: 'PUT', body: 'x'});
		assert.equal(r.status, 405);
		assert.equal(r.headers.get('allow'), 'GET, HEAD');
	});

	test('dashboard: redirects, every embedded file with its type, CSP, 404', async () => {
		let r = await admin(w, '/', {token: null});
		assert.equal(r.status, 302);
		assert.equal(r.headers.get('location'), '/dashboard/');
		r = await admin(w, '/dashboard', {token: null});
		assert.equal(r.status, 301);
		assert.equal(r.headers.get('location'), '/dashboard/');
		const dir = path.join(ROOT, 'src/admin/dashboard');
		const types = {'.html': /^text\/html/, '.js': /^text\/javascript/, '.css': /^text\/css/,
			'.svg': /^image\/svg\+xml$/, '.png': /^image\/png$/, '.json': /^application\/json$/,
			'.ico': /^image\/(x-icon|vnd\.microsoft\.icon)$/};
		const files = fs.readdirSync(dir);
		assert.ok(files.includes('index.html'));
		for (const f of files) {
			const res = await fetch(`${w.admin}/dashboard/${f}`, {signal: AbortSignal.timeout(5000)});
			assert.equal(res.status, 200, f);
			const body = Buffer.from(await res.arrayBuffer());
			assert.ok(body.equals(fs.readFileSync(path.join(dir, f))), `${f}: the embedded bytes`);
			const re = types[path.extname(f)];
			if (re)
				assert.match(res.headers.get('content-type'), re, f);
			assert.equal(res.headers.get('cache-control'), 'no-cache');
			assert.match(res.headers.get('content-security-policy'), /default-src 'self'/);
			assert.doesNotMatch(res.headers.get('content-security-policy'), /unsafe-inline/);
		}
		const index = await fetch(`${w.admin}/dashboard/`);
		assert.equal(index.status, 200);
		assert.match(index.headers.get('content-type'), /^text\/html/);
		assert.equal(await index.text(), fs.readFileSync(path.join(dir, 'index.html'), 'utf8'));
		assertError(await admin(w, '/dashboard/nope.js', {token: null}), 404, 'not_found');
		assertError(await admin(w, '/dashboard/../admin.c', {token: null}), 404);
	});

	test('the client API key is nowhere in the database files', async () => {
		const bytes = dbBytes(dbPath(w));
		assert.ok(bytes.length > 0);
		// Sanity: these are the right files (they hold the incidents).
		assert.ok(bytes.includes(Buffer.from(rid.req)), 'the database holds the request id');
		for (const secret of [KEY1, KEY2, 'SECRET-123', 'KEY-456', `Bearer ${KEY1}`])
			assert.ok(!bytes.includes(Buffer.from(secret)), `"${secret}" in the database`);
		// Nor in anything the API serves.
		const exp = await admin(w, '/api/v1/export');
		assert.ok(!exp.text.includes('SECRET'));
		assert.ok(!w.stderr().includes('SECRET'), 'nor in the log');
	});
});

describe('admin API without a token, export over many pages', () => {
	let up;
	let w;
	const N = 1060;

	before(async () => {
		up = await scriptedUpstream(upstreamScript);
		w = await startWarden({upstream: up.url, config: {checkers: CHECKERS, log: {level: 'error'}}});
		const res = await pool(Array.from({length: N}, (_, i) => i), 32,
			(i) => chat(w, `kill switch ${i}`, {model: `m-${i % 3}`}));
		assert.ok(res.every((r) => r.status === 400));
	});

	after(async () => {
		await w?.stop();
		await up?.close();
	});

	test('no token configured: the API answers without Authorization', async () => {
		const r = await admin(w, '/api/v1/incidents?limit=1');
		assert.equal(r.status, 200);
		assert.equal(r.json.incidents.length, 1);
		assert.equal((await admin(w, '/metrics')).status, 200);
	});

	test('export streams every incident once, across pages of 1000', async () => {
		const r = await admin(w, '/api/v1/export?format=jsonl');
		assert.equal(r.status, 200);
		const rows = r.text.trim().split('\n').map((l) => JSON.parse(l));
		assert.equal(rows.length, N);
		assert.equal(new Set(ids(rows)).size, N);
		for (let i = 1; i < rows.length; i++)
			assert.ok(rows[i].id < rows[i - 1].id);
		assert.deepEqual(ids(rows), ids(await listAll(w)));
		const lim = (await admin(w, '/api/v1/export?limit=1001')).text.trim().split('\n');
		assert.equal(lim.length, 1001);
		const m1 = (await admin(w, '/api/v1/export?model=m-1')).text.trim().split('\n');
		assert.equal(m1.length, Math.floor(N / 3) + (N % 3 > 1 ? 1 : 0));
		// Paging the list API at its maximum page gives the same.
		const page = await adminJSON(w, '/api/v1/incidents?limit=1000');
		assert.equal(page.incidents.length, 1000);
		assert.ok(Number.isInteger(page.next_cursor));
		const rest = await adminJSON(w, `/api/v1/incidents?limit=1000&cursor=${page.next_cursor}`);
		assert.equal(rest.incidents.length, N - 1000);
		assert.equal(rest.next_cursor, null);
	});

	// Last: it stops this warden.
	test('/healthz answers 503 while warden drains, then the in-flight request completes', async () => {
		assert.equal((await admin(w, '/healthz')).status, 200);
		const n = up.requests.length;
		const slow = chat(w, 'SLOW please');
		await up.waitForRequests(n + 1);
		w.proc.kill('SIGTERM');
		const deadline = Date.now() + 1000;
		let r;
		do {
			r = await admin(w, '/healthz');
		} while (r.status !== 503 && Date.now() < deadline);
		assert.equal(r.status, 503);
		assert.deepEqual(r.json, {status: 'draining'});
		assert.equal((await slow).status, 200);
		assert.equal((await w.exited).code, 0);
	});
});
