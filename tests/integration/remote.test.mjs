// remote.test.mjs — the `remote` checker against a fake guard model (a scripted node server that
// speaks Llama Guard over /v1/chat/completions and OpenAI's /v1/moderations): unsafe verdicts
// block with the guard's category and leave an incident, safe ones pass, a guard that is down,
// failing, talking nonsense or slow is handled by on_error and never stalls warden, the bearer
// key reaches the guard and no log, and moderation categories map to S1..S14.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {chatBody, finishReason, parseSSE, post, runBadConfig, startWarden, within} from './harness.mjs';
import {chatCompletion, chatStream, hang, scriptedUpstream, sendJSON, sendSSE} from './upstream.mjs';
import {freePort} from './util.mjs';

const KEY = 'sk-guard-SECRET-7f3a9c';
let model, guard;

// The guard decides on marker words in the last message (the turn Llama Guard judges).
function llamaGuard(res, last) {
	const say = (text) => sendJSON(res, 200, chatCompletion(text, {model: 'llama-guard-3'}));
	if (last.includes('SLOW'))
		return hang();
	if (last.includes('E500'))
		return sendJSON(res, 500, {error: {message: 'guard overloaded'}});
	if (last.includes('GARBAGE'))
		return say('I am not sure what you mean.');
	return say(last.includes('UNSAFE') ? '\n\nunsafe\nS1,S10' : '\n\nsafe');
}

function moderation(res, input) {
	const scores = {harassment: 0.01, hate: 0.02, 'self-harm': 0.01, sexual: 0.01,
		'sexual/minors': 0.0, violence: 0.03, illicit: 0.02};
	if (input.includes('HATE'))
		scores.hate = 0.93;
	if (input.includes('MINORS'))
		scores['sexual/minors'] = 0.97;
	return sendJSON(res, 200, {id: 'modr-1', model: 'omni-moderation-latest',
		results: [{flagged: Object.values(scores).some((s) => s > 0.5), categories: {},
			category_scores: scores}]});
}

before(async () => {
	model = await scriptedUpstream(async (req, body, res, rec) => {
		const user = rec.json.messages.at(-1).content;
		const answer = user.includes('BADANSWER') ? 'Sure, here is the UNSAFE answer.' : 'Hello there!';
		if (rec.json.stream)
			return sendSSE(res, chatStream(answer.split(/(?= )/)), {delayMs: 1});
		return sendJSON(res, 200, chatCompletion(answer));
	});
	guard = await scriptedUpstream(async (req, body, res, rec) => {
		if (rec.url === '/v1/moderations')
			return moderation(res, rec.json.input);
		return llamaGuard(res, rec.json.messages.at(-1).content);
	});
});

after(async () => {
	await model?.close();
	await guard?.close();
});

// An entry of type remote; conf is merged into its config.
function entry(id, {phases = ['request'], onError = 'allow', timeoutMs = 500, ...conf} = {}) {
	return {id, type: 'remote', phases, on_error: onError, timeout_ms: timeoutMs,
		config: {url: guard.url, model: 'llama-guard-3', ...conf}};
}

async function withWarden(checkers, fn) {
	const w = await startWarden({config: {checkers, log: {level: 'debug'}}, upstream: model.url});
	try {
		return await fn(w);
	} finally {
		await w.stop();
	}
}

// warden's stderr reaches us a little after its answer: wait for a line.
async function logged(w, re) {
	for (let i = 0; i < 100 && !re.test(w.stderr()); i++)
		await new Promise((r) => setTimeout(r, 20));
	assert.match(w.stderr(), re);
}

async function incidents(w, res) {
	const rid = res.headers.get('x-warden-request-id');
	return (await (await fetch(`${w.admin}/api/v1/incidents?request_id=${rid}`)).json()).incidents;
}

describe('llama-guard protocol', () => {
	let w;
	before(async () => {
		w = await startWarden({upstream: model.url, env: {GUARD_KEY: KEY}, config: {log: {level: 'debug'},
			checkers: [entry('guard-in', {api_key_env: 'GUARD_KEY'}),
				entry('guard-out', {phases: ['response'], api_key_env: 'GUARD_KEY'})]}});
	});
	after(async () => {
		await w?.stop();
	});

	test('unsafe: blocked with the guard\'s category and recorded', async () => {
		guard.reset();
		const res = await post(w, '/v1/chat/completions', chatBody('UNSAFE please'));
		assert.equal(res.status, 400);
		const body = await res.json();
		assert.equal(body.error.code, 'content_filter');
		assert.equal(body.error.warden.checker, 'guard-in');
		assert.equal(body.error.warden.category, 'S1');
		const [inc] = await incidents(w, res);
		assert.equal(inc.checker_type, 'remote');
		assert.equal(inc.category, 'S1');
		assert.equal(inc.action, 'block');
		assert.equal(inc.evidence.guard, 'S1,S10');
		assert.equal(inc.evidence.protocol, 'llama-guard');
		// what the guard was asked, and with which key
		const [asked] = guard.requests;
		assert.equal(asked.url, '/v1/chat/completions');
		assert.equal(asked.headers.authorization, `Bearer ${KEY}`);
		assert.equal(asked.json.model, 'llama-guard-3');
		assert.deepEqual(asked.json.messages, [{role: 'user', content: 'UNSAFE please'}]);
	});

	test('safe: passes, request and answer both judged', async () => {
		guard.reset();
		const res = await post(w, '/v1/chat/completions', chatBody('Say hello'));
		assert.equal(res.status, 200);
		assert.equal((await res.json()).choices[0].message.content, 'Hello there!');
		assert.equal(guard.requests.length, 2);
		assert.deepEqual(guard.requests[1].json.messages, [{role: 'user', content: 'Say hello'},
			{role: 'assistant', content: 'Hello there!'}]);
	});

	test('an unsafe answer is withheld', async () => {
		const res = await post(w, '/v1/chat/completions', chatBody('BADANSWER'));
		assert.equal(res.status, 200);
		const j = await res.json();
		assert.equal(j.choices[0].finish_reason, 'content_filter');
		assert.equal(j.choices[0].message.content, '');
		assert.equal((await incidents(w, res))[0].category, 'S1');
	});

	test('an unsafe streamed answer: no byte leaves', async () => {
		const res = await post(w, '/v1/chat/completions', chatBody('BADANSWER', {stream: true}));
		const text = await res.text();
		assert.equal(finishReason(parseSSE(text)), 'content_filter');
		assert.equal((await incidents(w, res))[0].phase, 'stream');
		assert.doesNotMatch(text, /UNSAFE/);
	});

	test('guard errors (HTTP 500, nonsense) follow on_error allow and are recorded', async () => {
		for (const word of ['E500', 'GARBAGE']) {
			const res = await post(w, '/v1/chat/completions', chatBody(word));
			assert.equal(res.status, 200, word);
			const [inc] = await incidents(w, res);
			assert.equal(inc.category, 'checker.error', word);
			assert.equal(inc.action, 'error');
		}
		await logged(w, /remote llama-guard guard answered HTTP 500/);
		await logged(w, /remote llama-guard guard: unexpected output/);
	});

	test('a guard slower than timeout_ms: on_error decides, warden stays responsive', async () => {
		const t0 = Date.now();
		const slow = post(w, '/v1/chat/completions', chatBody('SLOW'));
		const fast = await within(post(w, '/v1/chat/completions', chatBody('hi')), 400, 'fast request');
		assert.equal(fast.status, 200);
		const res = await slow;
		assert.equal(res.status, 200);
		assert.ok(Date.now() - t0 >= 450, 'the slow one waited for its deadline');
		assert.equal((await incidents(w, res))[0].category, 'checker.timeout');
	});

	test('the key appears in no log line', async () => {
		await logged(w, /remote llama-guard guard: score/); // debug logging was on
		assert.ok(!w.stderr().includes(KEY));
		assert.ok(!w.stdout().includes(KEY));
	});
});

describe('guard down, overloaded', () => {
	for (const onError of ['allow', 'block']) {
		test(`connection refused with on_error ${onError}`, async () => {
			const dead = `http://127.0.0.1:${await freePort()}`;
			await withWarden([entry('down', {url: dead, onError})], async (w) => {
				const res = await post(w, '/v1/chat/completions', chatBody('hello'));
				assert.equal(res.status, onError === 'allow' ? 200 : 400);
				if (onError === 'block')
					assert.equal((await res.json()).error.warden.category, 'checker.error');
				await logged(w, /remote llama-guard guard: Couldn't connect to server/);
			});
		});
	}

	test('beyond concurrency a check fails at once instead of queueing', async () => {
		await withWarden([entry('one', {concurrency: 1, onError: 'block', timeoutMs: 800})], async (w) => {
			guard.reset();
			const slow = post(w, '/v1/chat/completions', chatBody('SLOW'));
			await guard.waitForRequests(1); // the one slot is taken
			const t0 = Date.now();
			const res = await post(w, '/v1/chat/completions', chatBody('hello'));
			assert.equal(res.status, 400);
			assert.equal((await res.json()).error.warden.category, 'checker.error');
			assert.ok(Date.now() - t0 < 500, 'answered before the slow one\'s deadline');
			assert.equal((await slow).status, 400);
			await logged(w, /1 requests in flight already/);
		});
	});

	test('a bad config is refused with a precise message', async () => {
		for (const [conf, msg] of [[{api_key_env: 'NO_SUCH_VAR_1234'}, /checkers\[0\]\.config: api_key_env: environment variable NO_SUCH_VAR_1234 is not set/],
			[{protocol: 'llamaguard'}, /protocol: must be one of llama-guard, moderation/],
			[{url: 'ftp://guard'}, /url: must be an http:\/\/ or https:\/\/ URL/]]) {
			const r = await runBadConfig(JSON.stringify({checkers: [entry('k', conf)]}));
			assert.notEqual(r.code, 0);
			assert.match(r.stderr, msg);
		}
	});
});

describe('moderation protocol', () => {
	test('categories map to the taxonomy; low scores pass', async () => {
		const mod = [entry('mod', {protocol: 'moderation', model: 'omni-moderation-latest'})];
		await withWarden(mod, async (w) => {
			guard.reset();
			for (const [text, cat] of [['HATE speech', 'S10'], ['MINORS', 'S4']]) {
				const res = await post(w, '/v1/chat/completions', chatBody(text));
				assert.equal(res.status, 400, text);
				assert.equal((await res.json()).error.warden.category, cat);
			}
			const ok = await post(w, '/v1/chat/completions', chatBody('hello'));
			assert.equal(ok.status, 200);
			assert.equal(guard.requests[0].url, '/v1/moderations');
			assert.deepEqual(guard.requests[0].json, {input: 'HATE speech', model: 'omni-moderation-latest'});
		});
	});
});
