// head.test.mjs — a HEAD request passes through and is answered at once (curl must not wait for
// a body that HEAD never has), with the same status the upstream gives directly.
import assert from 'node:assert/strict';
import {after, before, test} from 'node:test';

import {startWarden} from './harness.mjs';
import {startMock} from './util.mjs';

let mock, w;
before(async () => {
	mock = await startMock();
	w = await startWarden({upstream: `http://127.0.0.1:${mock.port}`});
});
after(async () => {
	await w?.stop();
	await mock?.stop();
});

test('HEAD /v1/models answers promptly with the upstream status', async () => {
	const direct = await fetch(`http://127.0.0.1:${mock.port}/v1/models`, {method: 'HEAD'});
	const t0 = Date.now();
	const res = await fetch(`${w.base}/v1/models`, {method: 'HEAD',
		signal: AbortSignal.timeout(3000)});
	assert.equal(res.status, direct.status);
	assert.ok(res.headers.get('x-warden-request-id'));
	assert.ok(Date.now() - t0 < 2000, 'answered without waiting for a body');
});
