// harness.mjs — starts a warden under test with a temporary config in front of a scripted
// upstream, and reads its answers (JSON and SSE). Process handling that is not warden-specific
// (spawning, ports, waiting for a listener, kill on exit) comes from util.mjs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {freePort, startProcess, waitForPort} from './util.mjs';

export const WARDEN_BIN = process.env.WARDEN_BIN || path.resolve('build/warden');

export function tmpDir() {
	return fs.mkdtempSync(path.join(os.tmpdir(), 'warden-it-'));
}

// Starts `warden serve` with `config` (an object, written as JSON, which YAML reads as is) or
// `yaml` (text). Resolves once the proxy and admin ports accept connections.
export async function startWarden({config = {}, yaml, upstream, env = {}, args = []} = {}) {
	const dir = tmpDir();
	const file = path.join(dir, yaml === undefined ? 'warden.json' : 'warden.yaml');
	const conf = {threads: 2, log: {level: 'info'}, ...config};
	fs.writeFileSync(file, yaml === undefined ? JSON.stringify(conf, null, 1) : yaml);
	const port = await freePort();
	const adminPort = await freePort();
	const argv = [
		'serve', '-c', file,
		'--listen', `127.0.0.1:${port}`,
		'--admin-listen', `127.0.0.1:${adminPort}`,
		'--db', path.join(dir, 'warden.db'),
		...(upstream ? ['--upstream', upstream] : []),
		...args,
	];
	let h;
	try {
		h = await startProcess(argv, {bin: WARDEN_BIN, env, cwd: dir, port, timeoutMs: 5000});
		await waitForPort(adminPort, 5000);
	} catch (e) {
		if (h)
			await h.stop('SIGKILL');
		fs.rmSync(dir, {recursive: true, force: true});
		throw e;
	}
	return {
		port,
		adminPort,
		base: `http://127.0.0.1:${port}`,
		admin: `http://127.0.0.1:${adminPort}`,
		file,
		dir,
		proc: h.proc,
		exited: h.exited,
		stderr: () => h.stderr,
		stdout: () => h.stdout,
		// SIGTERM (or sig) and wait for the exit, SIGKILL after ms; resolves {code, signal}.
		async stop(sig = 'SIGTERM', ms = 5000) {
			const e = await h.stop(sig, ms);
			fs.rmSync(dir, {recursive: true, force: true});
			return e;
		},
	};
}

// Runs `warden serve -c <yaml>` for a config that must be refused; resolves
// {code, signal, stderr, file}.
export async function runBadConfig(yaml) {
	const dir = tmpDir();
	const file = path.join(dir, 'bad.yaml');
	fs.writeFileSync(file, yaml);
	const port = await freePort();
	const adminPort = await freePort();
	const h = await startProcess(['serve', '-c', file, '--listen', `127.0.0.1:${port}`,
		'--admin-listen', `127.0.0.1:${adminPort}`, '--db', path.join(dir, 'w.db')],
	{bin: WARDEN_BIN, cwd: dir});
	const t = setTimeout(() => h.proc.kill('SIGKILL'), 5000);
	const {code, signal} = await h.exited;
	clearTimeout(t);
	fs.rmSync(dir, {recursive: true, force: true});
	return {code, signal, stderr: h.stderr, file};
}

// A chat request body.
export function chatBody(content, extra = {}) {
	return {model: 'test-model', messages: [{role: 'user', content}], ...extra};
}

// POSTs JSON (an object, or a string sent verbatim) to warden.
export function post(w, p, body, headers = {}) {
	return fetch(w.base + p, {
		method: 'POST',
		headers: {'content-type': 'application/json', authorization: 'Bearer sk-client', ...headers},
		body: typeof body === 'string' ? body : JSON.stringify(body),
		signal: AbortSignal.timeout(10000),
	});
}

// Parses an SSE text into blocks: {raw, data, event, json}.
export function parseSSE(text) {
	const blocks = text.split(/\r?\n\r?\n/).filter((b) => b.trim() !== '');
	return blocks.map((raw) => {
		let data = null;
		let event = '';
		for (const line of raw.split(/\r?\n/)) {
			if (line.startsWith(':'))
				continue;
			const i = line.indexOf(':');
			const field = i < 0 ? line : line.slice(0, i);
			let v = i < 0 ? '' : line.slice(i + 1);
			if (v.startsWith(' '))
				v = v.slice(1);
			if (field === 'data')
				data = data === null ? v : `${data}\n${v}`;
			else if (field === 'event')
				event = v;
		}
		let json;
		try {
			json = data !== null && data !== '[DONE]' ? JSON.parse(data) : undefined;
		} catch {
			json = undefined;
		}
		return {raw, data, event, json};
	});
}

// The concatenated delta.content of a chat stream's blocks.
export function streamText(blocks) {
	return blocks.map((b) => b.json?.choices?.[0]?.delta?.content ?? '').join('');
}

// The last finish_reason of a chat stream's blocks.
export function finishReason(blocks) {
	let f = null;
	for (const b of blocks) {
		const r = b.json?.choices?.[0]?.finish_reason;
		if (r)
			f = r;
	}
	return f;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resolves p, or rejects after ms with `what` (so a test fails instead of hanging).
export function within(p, ms, what) {
	let t;
	return Promise.race([
		p.finally(() => clearTimeout(t)),
		new Promise((_, rej) => {
			t = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms);
		}),
	]);
}
