// fake_api.mjs — a small stand-in for warden's admin listener, for working on the dashboard
// without the C side: it serves src/admin/dashboard/ at /dashboard/ (with the same
// Content-Security-Policy) and the JSON shapes of /api/v1/ from an in-memory list. The test
// itself runs against the real binary; this is for iterating on the page.
//   node tests/dashboard/fake_api.mjs [port] [token]   → seeds a few hundred incidents
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/admin/dashboard');
const TYPES = {'.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml'};

function parseTime(v) {
	if (!v)
		return 0;
	if (/^\d+$/.test(v))
		return Number(v) * 1000;
	const t = Date.parse(v);
	if (Number.isNaN(t))
		throw new Error(`since/until: not RFC 3339 or unix seconds: ${v}`);
	return t;
}

export function startFakeApi({token = '', incidents = [], checkers = [], port = 0} = {}) {
	let nextId = 1;
	const rows = [];
	const add = (inc) => {
		const ts = inc.ts_ms ?? Date.now();
		const row = {id: nextId++, time: new Date(ts).toISOString(), ts_ms: ts, request_id: `wd-${Math.random().toString(16).slice(2, 18).padEnd(16, '0')}`,
			route: 'chat', model: 'mock-echo', phase: 'request', checker: 'kill', checker_type: 'pattern',
			category: 'S9', action: 'block', score: 1, evidence: {}, excerpt: '', key_hash: 'k1a2b3',
			client_addr: '127.0.0.1', upstream_status: 0, status: 400, latency_ms: 0.4,
			review: {status: 'open', note: null, reviewed_at: null}, ...inc};
		rows.push(row);
		return row;
	};
	for (const i of incidents)
		add(i);
	const send = (res, status, body) => {
		res.writeHead(status, {'content-type': 'application/json'});
		res.end(JSON.stringify(body));
	};
	const server = http.createServer(async (req, res) => {
		const url = new URL(req.url, 'http://x');
		if (url.pathname === '/dashboard')
			return res.writeHead(301, {location: '/dashboard/'}).end();
		if (url.pathname.startsWith('/dashboard/')) {
			const name = url.pathname.slice('/dashboard/'.length) || 'index.html';
			const file = path.join(DIR, path.basename(name));
			if (!fs.existsSync(file))
				return send(res, 404, {error: 'not found'});
			res.writeHead(200, {'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
				'content-security-policy': "default-src 'self'", 'x-content-type-options': 'nosniff'});
			return res.end(fs.readFileSync(file));
		}
		if (!url.pathname.startsWith('/api/v1/'))
			return send(res, 404, {error: 'not found'});
		if (token && req.headers.authorization !== `Bearer ${token}`)
			return send(res, 401, {error: 'missing or wrong bearer token'});
		const p = url.searchParams;
		try {
			if (url.pathname === '/api/v1/incidents') {
				const since = parseTime(p.get('since')), until = parseTime(p.get('until'));
				const limit = Math.min(1000, Number(p.get('limit') || 50));
				const cursor = Number(p.get('cursor') || 0);
				const cat = p.get('category');
				let list = rows.filter((r) => (!since || r.ts_ms >= since) && (!until || r.ts_ms < until) &&
					(!cursor || r.id < cursor) &&
					(!cat || r.category === cat || r.category.startsWith(`${cat}.`)) &&
					['checker', 'action', 'model', 'key_hash', 'request_id'].every((k) => !p.get(k) || r[k] === p.get(k)) &&
					(!p.get('review_status') || r.review.status === p.get('review_status')) &&
					(!p.get('q') || `${r.excerpt} ${JSON.stringify(r.evidence)}`.includes(p.get('q'))));
				list = list.sort((a, b) => b.id - a.id);
				const page = list.slice(0, limit);
				return send(res, 200, {incidents: page, next_cursor: list.length > limit ? page[page.length - 1].id : null});
			}
			const m = url.pathname.match(/^\/api\/v1\/incidents\/(\d+)$/);
			if (m) {
				const row = rows.find((r) => r.id === Number(m[1]));
				if (!row)
					return send(res, 404, {error: `no incident ${m[1]}`});
				if (req.method === 'PATCH') {
					let body = '';
					for await (const c of req)
						body += c;
					const j = JSON.parse(body);
					if (!['open', 'confirmed', 'false_positive'].includes(j.status))
						return send(res, 400, {error: 'status must be open, confirmed or false_positive'});
					row.review = {status: j.status, note: j.note ?? row.review.note, reviewed_at: new Date().toISOString()};
				}
				return send(res, 200, row);
			}
			if (url.pathname === '/api/v1/stats') {
				const since = parseTime(p.get('since')), until = parseTime(p.get('until'));
				const bucket = {minute: 60e3, hour: 3600e3, day: 86400e3}[p.get('bucket') || 'hour'];
				const sel = rows.filter((r) => (!since || r.ts_ms >= since) && (!until || r.ts_ms < until));
				const by = (k) => sel.reduce((o, r) => ((o[r[k]] = (o[r[k]] || 0) + 1), o), {});
				const series = new Map();
				for (const r of sel) {
					const t = Math.floor(r.ts_ms / bucket) * bucket;
					series.set(t, (series.get(t) || 0) + 1);
				}
				return send(res, 200, {total: sel.length, by_category: by('category'), by_checker: by('checker'),
					by_action: by('action'), by_model: by('model'),
					series: [...series].sort((a, b) => a[0] - b[0]).map(([t, count]) => ({t: new Date(t).toISOString(), count}))});
			}
			if (url.pathname === '/api/v1/checkers')
				return send(res, 200, {checkers});
			return send(res, 404, {error: 'not found'});
		} catch (e) {
			return send(res, 400, {error: e.message});
		}
	});
	return new Promise((resolve) => {
		server.listen(port, '127.0.0.1', () => {
			const {port: p} = server.address();
			resolve({port: p, base: `http://127.0.0.1:${p}`, add, rows, close: () => server.close(),
				setToken: (t) => {
					token = t;
				}});
		});
	});
}

// Some varied incidents over the last day, for looking at the page by hand.
export function seed(api, n = 300) {
	const checkers = [['kill', 'S9', 'block'], ['secrets-out', 'privacy.secret', 'block'],
		['debug-flag', 'custom', 'flag'], ['harm-in', 'S1', 'block'], ['jb', 'jailbreak.dan', 'would_block'],
		['pii', 'privacy.email', 'redact'], ['remote', 'upstream.timeout', 'timeout']];
	const models = ['gpt-4o-mini', 'mock-echo', 'llama-3.1-8b', 'mock-sleeper'];
	const now = Date.now();
	for (let i = 0; i < n; i++) {
		const [checker, category, action] = checkers[(i * 7 + (i >> 3)) % checkers.length];
		api.add({ts_ms: now - Math.floor(Math.random() ** 2 * 86400e3), checker, category, action,
			model: models[i % models.length], phase: ['request', 'response', 'stream'][i % 3],
			excerpt: `please explain the kill switch of sample ${i}`,
			evidence: {rule: 'pattern-0', span: [15, 26], excerpt: 'kill switch'}});
	}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const api = await startFakeApi({port: Number(process.argv[2] || 8181), token: process.argv[3] || '',
		checkers: [{id: 'kill', type: 'pattern', phases: ['request', 'response'], mode: 'enforce', action: 'block',
			calls: 1200, incidents: 88, errors: 0, timeouts: 0, latency_us_total: 48000}]});
	seed(api);
	setInterval(() => seed(api, 1), 3000);
	console.log(`fake admin API on ${api.base}/dashboard/`);
}
