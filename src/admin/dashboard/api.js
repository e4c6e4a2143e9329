// api.js — the dashboard's only door to warden: JSON calls to the admin API under /api/v1/ with
// the bearer token kept in sessionStorage (gone when the tab closes). Every failure becomes an
// ApiError whose message says which call failed and why, so the page can show it as is.

const TOKEN_KEY = 'warden.admin.token';
const BASE = '/api/v1';

export class ApiError extends Error {
	constructor(message, status, path) {
		super(message);
		this.name = 'ApiError';
		this.status = status; // 0: no answer (network, timeout)
		this.path = path;
	}
	get unauthorized() {
		return this.status === 401;
	}
}

export function getToken() {
	try {
		return sessionStorage.getItem(TOKEN_KEY) || '';
	} catch {
		return '';
	}
}

export function setToken(token) {
	try {
		if (token)
			sessionStorage.setItem(TOKEN_KEY, token);
		else
			sessionStorage.removeItem(TOKEN_KEY);
	} catch {
		/* storage disabled: the token lives only as long as this call chain */
	}
}

// Builds "path?k=v&..." from an object, leaving out empty values.
export function withQuery(path, params = {}) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) {
		if (v !== undefined && v !== null && v !== '')
			q.set(k, String(v));
	}
	const s = q.toString();
	return s ? `${path}?${s}` : path;
}

// The message inside an error answer: {"error":"..."} or {"error":{"message":"..."}} or text.
function errorText(body, fallback) {
	if (body && typeof body === 'object') {
		const e = body.error ?? body.message;
		if (typeof e === 'string')
			return e;
		if (e && typeof e.message === 'string')
			return e.message;
	}
	if (typeof body === 'string' && body.trim())
		return body.trim().slice(0, 300);
	return fallback;
}

// Calls the API; resolves to the parsed JSON body, rejects with ApiError.
export async function api(path, {method = 'GET', body, timeoutMs = 15000} = {}) {
	const headers = {accept: 'application/json'};
	const token = getToken();
	if (token)
		headers.authorization = `Bearer ${token}`;
	if (body !== undefined)
		headers['content-type'] = 'application/json';
	const what = `${method} ${path.split('?')[0]}`;
	let res;
	try {
		res = await fetch(BASE + path, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			cache: 'no-store',
			signal: AbortSignal.timeout(timeoutMs),
		});
	} catch (e) {
		const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s`
						      : 'the admin API cannot be reached';
		throw new ApiError(`${what}: ${why}`, 0, path);
	}
	const text = await res.text();
	let parsed = text;
	try {
		parsed = text ? JSON.parse(text) : null;
	} catch {
		/* keep the text for the message */
	}
	if (!res.ok) {
		const msg = errorText(parsed, res.statusText || 'request failed');
		throw new ApiError(`${what}: ${res.status} ${msg}`, res.status, path);
	}
	if (typeof parsed === 'string')
		throw new ApiError(`${what}: the answer is not JSON`, res.status, path);
	return parsed;
}
