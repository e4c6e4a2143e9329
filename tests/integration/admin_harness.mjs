// admin_harness.mjs — helpers for the admin API tests: calls to the admin listener (with or
// without the bearer token), chat requests through the proxy with a chosen client API key, and
// the raw bytes of the incident database (the main file, its WAL and its shared-memory index).
import fs from 'node:fs';
import path from 'node:path';

// A request to the admin listener. opts: method, token (null: no Authorization), body (object
// as JSON, string verbatim), headers. Resolves {status, headers, text, json} (json undefined
// when the body is not JSON).
export async function admin(w, p, {method = 'GET', token = w.adminToken, body, headers = {}} = {}) {
	const h = {...headers};
	if (token)
		h.authorization = `Bearer ${token}`;
	if (body !== undefined && !h['content-type'])
		h['content-type'] = 'application/json';
	const res = await fetch(w.admin + p, {
		method,
		headers: h,
		body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
		redirect: 'manual',
		signal: AbortSignal.timeout(10000),
	});
	const text = await res.text();
	let json;
	try {
		json = text ? JSON.parse(text) : undefined;
	} catch {
		json = undefined;
	}
	return {status: res.status, headers: res.headers, text, json};
}

// GET that must answer 200 with JSON; returns the JSON.
export async function adminJSON(w, p, opts) {
	const r = await admin(w, p, opts);
	if (r.status !== 200)
		throw new Error(`GET ${p}: ${r.status} ${r.text}`);
	return r.json;
}

// Every incident matching the query string qs (without limit/cursor), following next_cursor.
export async function listAll(w, qs = '', pageSize = 1000) {
	const out = [];
	let cursor = null;
	for (let i = 0; i < 10000; i++) {
		const sep = qs ? `${qs}&` : '';
		const page = await adminJSON(w, `/api/v1/incidents?${sep}limit=${pageSize}` +
			(cursor ? `&cursor=${cursor}` : ''));
		out.push(...page.incidents);
		if (page.next_cursor === null)
			return out;
		cursor = page.next_cursor;
	}
	throw new Error('paging did not end');
}

// A chat completion through the proxy with the client's API key. Resolves {status, rid, text,
// json}.
export async function chat(w, content, {key = 'sk-test-SECRET-123', model = 'test-model',
	stream = false} = {}) {
	const res = await fetch(`${w.base}/v1/chat/completions`, {
		method: 'POST',
		headers: {'content-type': 'application/json', authorization: `Bearer ${key}`},
		body: JSON.stringify({model, stream, messages: [{role: 'user', content}]}),
		signal: AbortSignal.timeout(10000),
	});
	const text = await res.text();
	let json;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return {status: res.status, rid: res.headers.get('x-warden-request-id'), text, json};
}

// Polls fn until it returns a truthy value; rejects after ms with `what`.
export async function eventually(fn, what, ms = 5000) {
	const deadline = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > deadline)
			throw new Error(`timed out after ${ms} ms waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

// The bytes of the SQLite database and its -wal and -shm files (those that exist), together.
export function dbBytes(dbPath) {
	const parts = [];
	for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) {
		if (fs.existsSync(f))
			parts.push(fs.readFileSync(f));
	}
	return Buffer.concat(parts);
}

export function dbPath(w) {
	return path.join(w.dir, 'warden.db');
}

// Runs fn over items with at most n in flight; resolves to the results in order.
export async function pool(items, n, fn) {
	const out = new Array(items.length);
	let next = 0;
	const workers = Array.from({length: Math.min(n, items.length)}, async () => {
		while (next < items.length) {
			const i = next++;
			out[i] = await fn(items[i], i);
		}
	});
	await Promise.all(workers);
	return out;
}
