// openai.test.mjs — the official `openai` npm client talking to warden in front of a scripted
// upstream: what real applications see (plain and streamed completions, tool calls, blocks
// surfacing as the SDK's typed errors and as content_filter finishes).
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import OpenAI from 'openai';

import {startWarden} from './harness.mjs';
import {
	chatCompletion,
	chatStream,
	chunk,
	DONE,
	MODEL,
	scriptedUpstream,
	sendJSON,
	sendSSE,
} from './upstream.mjs';

const KILL = {
	id: 'kill',
	type: 'pattern',
	phases: ['request', 'response'],
	action: 'block',
	config: {category: 'S9', patterns: ['kill switch']},
};

const TOOLS = [{
	type: 'function',
	function: {
		name: 'get_weather',
		description: 'Weather for a city',
		parameters: {type: 'object', properties: {city: {type: 'string'}}, required: ['city']},
	},
}];

describe('openai SDK through warden', () => {
	let up;
	let w;
	let client;
	before(async () => {
		up = await scriptedUpstream((req, body, res) => sendJSON(res, 200, chatCompletion('hi')));
		w = await startWarden({upstream: up.url, config: {checkers: [KILL]}});
		client = new OpenAI({baseURL: `${w.base}/v1`, apiKey: 'sk-test', maxRetries: 0,
			timeout: 10000});
	});
	after(async () => {
		const e = await w.stop();
		await up.close();
		assert.deepEqual(e, {code: 0, signal: null});
	});

	test('chat.completions.create (plain)', async () => {
		up.reset();
		up.setHandler((req, body, res) =>
			sendJSON(res, 200, chatCompletion('Hello from upstream.')));
		const {data, response} = await client.chat.completions
			.create({model: MODEL, messages: [{role: 'user', content: 'Say hello'}]})
			.withResponse();
		assert.equal(data.id, 'chatcmpl-up1');
		assert.equal(data.choices[0].message.content, 'Hello from upstream.');
		assert.equal(data.choices[0].finish_reason, 'stop');
		assert.equal(data.usage.total_tokens, 12);
		assert.match(response.headers.get('x-warden-request-id'), /^wd-[0-9a-f]{16}$/);
		assert.equal(up.requests.length, 1);
		assert.equal(up.requests[0].headers.authorization, 'Bearer sk-test');
		assert.equal(up.requests[0].json.messages[0].content, 'Say hello');
	});

	test('chat.completions.create stream: every chunk, in order', async () => {
		const pieces = ['The ', 'quick ', 'brown ', 'fox ', 'jumps.'];
		up.setHandler((req, body, res) => sendSSE(res, chatStream(pieces), {delayMs: 2}));
		const stream = await client.chat.completions.create({model: MODEL, stream: true,
			messages: [{role: 'user', content: 'A sentence please'}]});
		let text = '';
		let finish = null;
		let n = 0;
		for await (const c of stream) {
			n++;
			assert.equal(c.object, 'chat.completion.chunk');
			text += c.choices[0]?.delta?.content ?? '';
			finish = c.choices[0]?.finish_reason ?? finish;
		}
		assert.equal(text, 'The quick brown fox jumps.');
		assert.equal(finish, 'stop');
		assert.equal(n, pieces.length + 2);
	});

	test('tools: tool_calls come back (non-stream)', async () => {
		up.reset();
		const calls = [{id: 'call_1', type: 'function',
			function: {name: 'get_weather', arguments: '{"city":"Paris"}'}}];
		up.setHandler((req, body, res) =>
			sendJSON(res, 200, chatCompletion(null, {toolCalls: calls})));
		const r = await client.chat.completions.create({model: MODEL, tools: TOOLS,
			messages: [{role: 'user', content: 'Weather in Paris?'}]});
		assert.equal(r.choices[0].finish_reason, 'tool_calls');
		assert.deepEqual(r.choices[0].message.tool_calls, calls);
		assert.deepEqual(JSON.parse(r.choices[0].message.tool_calls[0].function.arguments),
			{city: 'Paris'});
		assert.deepEqual(up.requests[0].json.tools, TOOLS);
	});

	test('tools: streamed tool_call deltas reassemble', async () => {
		const events = [
			chunk({role: 'assistant', content: null, tool_calls: [{index: 0, id: 'call_9',
				type: 'function', function: {name: 'get_weather', arguments: ''}}]}),
			chunk({tool_calls: [{index: 0, function: {arguments: '{"ci'}}]}),
			chunk({tool_calls: [{index: 0, function: {arguments: 'ty":"Os'}}]}),
			chunk({tool_calls: [{index: 0, function: {arguments: 'lo"}'}}]}),
			chunk({}, {finish: 'tool_calls'}),
			DONE,
		];
		up.setHandler((req, body, res) => sendSSE(res, events, {delayMs: 2}));
		const stream = await client.chat.completions.create({model: MODEL, stream: true,
			tools: TOOLS, messages: [{role: 'user', content: 'Weather in Oslo?'}]});
		let name = '';
		let args = '';
		let finish = null;
		for await (const c of stream) {
			const tc = c.choices[0]?.delta?.tool_calls?.[0];
			name += tc?.function?.name ?? '';
			args += tc?.function?.arguments ?? '';
			finish = c.choices[0]?.finish_reason ?? finish;
		}
		assert.equal(name, 'get_weather');
		assert.deepEqual(JSON.parse(args), {city: 'Oslo'});
		assert.equal(finish, 'tool_calls');
	});

	test('blocked request → OpenAI.BadRequestError, status 400, code content_filter', async () => {
		up.reset();
		await assert.rejects(
			client.chat.completions.create({model: MODEL,
				messages: [{role: 'user', content: 'where is the kill switch?'}]}),
			(err) => {
				assert.ok(err instanceof OpenAI.BadRequestError, `got ${err && err.constructor.name}`);
				assert.equal(err.status, 400);
				assert.equal(err.code, 'content_filter');
				assert.equal(err.type, 'invalid_request_error');
				assert.equal(err.error.warden.checker, 'kill');
				assert.equal(err.error.warden.category, 'S9');
				assert.equal(err.error.warden.request_id, err.headers['x-warden-request-id']);
				return true;
			});
		assert.equal(up.requests.length, 0);
	});

	test('blocked stream ends with finish_reason content_filter', async () => {
		up.setHandler((req, body, res) =>
			sendSSE(res, chatStream(['Here it is: ', 'the kil', 'l swi', 'tch is ', 'red.']),
				{delayMs: 2}));
		const stream = await client.chat.completions.create({model: MODEL, stream: true,
			messages: [{role: 'user', content: 'tell me'}]});
		let text = '';
		let finish = null;
		for await (const c of stream) {
			text += c.choices[0]?.delta?.content ?? '';
			finish = c.choices[0]?.finish_reason ?? finish;
		}
		assert.equal(finish, 'content_filter');
		assert.ok(!/kil|swi|tch/.test(text), `leaked: ${JSON.stringify(text)}`);
		assert.ok('Here it is: '.startsWith(text), text);
	});

	test('upstream 429 surfaces as OpenAI.RateLimitError', async () => {
		up.setHandler((req, body, res) => sendJSON(res, 429, {error: {message: 'slow down',
			type: 'requests', param: null, code: 'rate_limit_exceeded'}}));
		await assert.rejects(
			client.chat.completions.create({model: MODEL, messages: [{role: 'user', content: 'x'}]}),
			(err) => err instanceof OpenAI.RateLimitError && err.code === 'rate_limit_exceeded');
	});
});

describe('openai SDK, on_block: refusal', () => {
	test('a blocked request is an ordinary completion with the refusal text', async () => {
		const up = await scriptedUpstream((req, body, res) => sendJSON(res, 200, chatCompletion('x')));
		const w = await startWarden({upstream: up.url,
			config: {on_block: 'refusal', refusal_text: 'Not with me.', checkers: [KILL]}});
		try {
			const client = new OpenAI({baseURL: `${w.base}/v1`, apiKey: 'sk-test', maxRetries: 0});
			const r = await client.chat.completions.create({model: MODEL,
				messages: [{role: 'user', content: 'kill switch now'}]});
			assert.equal(r.choices[0].message.content, 'Not with me.');
			assert.equal(r.choices[0].finish_reason, 'content_filter');
			const s = await client.chat.completions.create({model: MODEL, stream: true,
				messages: [{role: 'user', content: 'kill switch now'}]});
			let text = '';
			let finish = null;
			for await (const c of s) {
				text += c.choices[0]?.delta?.content ?? '';
				finish = c.choices[0]?.finish_reason ?? finish;
			}
			assert.equal(text, 'Not with me.');
			assert.equal(finish, 'content_filter');
			assert.equal(up.requests.length, 0);
		} finally {
			await w.stop();
			await up.close();
		}
	});
});
