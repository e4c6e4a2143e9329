// crash.test.mjs — "no incident lost": a few hundred concurrent blocked requests, warden killed
// with SIGKILL in the middle of the load, then restarted on the same database. Every request
// whose client got its 400 must have its incident, because warden answers only after the commit.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';

import {freePort, startProcess, waitForPort} from './util.mjs';

const BIN = process.env.WARDEN_BIN || path.resolve('build/warden');

async function serve(dir, port, adminPort) {
	const h = await startProcess(['serve', '-c', path.join(dir, 'warden.json'),
		'--listen', `127.0.0.1:${port}`, '--admin-listen', `127.0.0.1:${adminPort}`,
		'--db', path.join(dir, 'warden.db'), '--upstream', 'http://127.0.0.1:9'],
	{bin: BIN, cwd: dir, port, timeoutMs: 5000});
	await waitForPort(adminPort, 5000);
	return h;
}

test('kill -9 under load loses no incident whose client got its 400', async () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-crash-'));
	fs.writeFileSync(path.join(dir, 'warden.json'), JSON.stringify({
		threads: 2, log: {level: 'error'},
		checkers: [{id: 'kw', type: 'pattern', phases: ['request'],
			config: {patterns: ['kill switch']}}],
	}));
	const port = await freePort();
	const adminPort = await freePort();
	let h = await serve(dir, port, adminPort);
	const answered = new Set(); // request ids of clients that got the 400
	let failed = 0;
	const TOTAL = 600, CONCURRENCY = 200, KILL_AFTER = 250;
	let next = 0, killed = false;
	const worker = async () => {
		while (next < TOTAL) {
			next++;
			try {
				const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
					method: 'POST', headers: {'content-type': 'application/json'},
					body: JSON.stringify({model: 'm', messages: [{role: 'user',
						content: `press the kill switch #${next}`}]}),
				});
				const body = await res.text(); // a complete answer, not just headers
				if (res.status === 400 && JSON.parse(body).error.code === 'content_filter')
					answered.add(res.headers.get('x-warden-request-id'));
			} catch {
				failed++; // cut off by the kill
			}
			if (!killed && answered.size >= KILL_AFTER) {
				killed = true;
				h.proc.kill('SIGKILL');
			}
		}
	};
	await Promise.all(Array.from({length: CONCURRENCY}, worker));
	await h.exited;
	assert.ok(killed, 'warden was killed during the load');
	assert.ok(answered.size >= KILL_AFTER && failed > 0,
		`answered ${answered.size}, cut off ${failed}: the kill must land mid-load`);

	h = await serve(dir, port, adminPort);
	try {
		const stored = new Set();
		let cursor = null;
		do {
			const r = await fetch(`http://127.0.0.1:${adminPort}/api/v1/incidents?limit=1000` +
				(cursor ? `&cursor=${cursor}` : ''));
			const page = await r.json();
			for (const inc of page.incidents)
				stored.add(inc.request_id);
			cursor = page.next_cursor;
		} while (cursor);
		const lost = [...answered].filter((id) => !stored.has(id));
		assert.deepEqual(lost, [], `${lost.length} of ${answered.size} answered requests lost`);
	} finally {
		await h.stop('SIGKILL');
		fs.rmSync(dir, {recursive: true, force: true});
	}
});
