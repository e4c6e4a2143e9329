// app.js — the dashboard's logic: filters kept in the URL hash (a view can be shared), a live
// feed that polls for new incidents, charts and per-model counts from a sample of the matching
// incidents, the checker chain, and the review of one incident. Everything shown is built with
// DOM calls and textContent (never innerHTML), since excerpts are attacker-controlled text.

import {api, ApiError, getToken, setToken, withQuery} from './api.js';
import {horizontalBars, stackedBars} from './charts.js';

const POLL_MS = 2500;
const OVERVIEW_EVERY = 4; // polls between overview refreshes when nothing new arrived
const FEED_PAGE = 100;
const SAMPLE_PAGE = 1000;
const SAMPLE_PAGES = 3; // the charts count at most the newest 3000 matching incidents
const RANGES = {'15m': 15 * 60e3, '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, all: 0};
const ACTIONS = ['block', 'redact', 'flag', 'would_block', 'would_redact', 'would_flag', 'error',
	'timeout'];
const FILTER_KEYS = ['checker', 'category', 'action', 'model', 'review_status', 'q', 'request_id'];
// short names in the URL hash
const HASH_NAMES = {review_status: 'review', request_id: 'rid'};
// categorical palette, readable on white; the last one is "other"
const PALETTE = ['#2f6db5', '#d9822b', '#3a9a5b', '#b8436b', '#7a5cc2', '#1c9aa0', '#a0782c',
	'#5d6f86', '#c85a3c'];
const OTHER_COLOR = '#a3abb5';
const ACTION_COLORS = {block: '#c0392b', redact: '#d9822b', flag: '#2f6db5', would_block: '#8e6bbf',
	would_redact: '#a88bd0', would_flag: '#9fb3d1', error: '#5d6f86', timeout: '#7f8c8d'};
const REVIEW_LABELS = {open: 'open', confirmed: 'confirmed', false_positive: 'false positive'};

const $ = (id) => document.getElementById(id);

const state = {
	range: '24h',
	filters: Object.fromEntries(FILTER_KEYS.map((k) => [k, ''])),
	by: 'category',
	selected: null, // incident id open in the detail panel
	feed: [], // newest first
	known: new Set(),
	nextCursor: null,
	paused: false,
	locked: false, // waiting for a token
	gen: 0, // bumped when the filters change: older answers are dropped
	ticks: 0,
	timer: null,
	lastOk: null,
	checkers: [],
	stats: null,
};

// ---- small DOM helpers ----

function h(tag, attrs = {}, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs)) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k === 'class')
			el.className = v;
		else if (k === 'text')
			el.textContent = v;
		else if (k.startsWith('on'))
			el.addEventListener(k.slice(2), v);
		else if (k === 'dataset')
			Object.assign(el.dataset, v);
		else
			el.setAttribute(k, v === true ? '' : String(v));
	}
	for (const c of children.flat()) {
		if (c === undefined || c === null || c === false)
			continue;
		el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return el;
}

function badge(text, kind) {
	return h('span', {class: `badge ${kind}`}, text);
}

function actionBadge(action) {
	const a = action || 'unknown';
	return badge(a.replace('_', ' '), `act act-${a.replace(/[^a-z_]/g, '')}`);
}

function reviewBadge(status) {
	const s = status || 'open';
	return badge(REVIEW_LABELS[s] || s, `rev rev-${s.replace(/[^a-z_]/g, '')}`);
}

function fmtTime(ms, withDate) {
	const d = new Date(ms);
	const t = d.toLocaleTimeString([], {hour12: false});
	const today = new Date().toDateString() === d.toDateString();
	if (today && !withDate)
		return t;
	const y = d.getFullYear() === new Date().getFullYear() && !withDate ? undefined : 'numeric';
	return `${d.toLocaleDateString([], {year: y, month: 'short', day: 'numeric'})} ${t}`;
}

function incTime(inc) {
	if (Number.isFinite(inc.ts_ms))
		return inc.ts_ms;
	const p = Date.parse(inc.time);
	return Number.isNaN(p) ? 0 : p;
}

function truncate(s, n) {
	if (!s)
		return '';
	const one = String(s).replace(/\s+/g, ' ');
	return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

function excerptOf(inc) {
	if (inc.excerpt)
		return inc.excerpt;
	const ev = inc.evidence;
	if (ev && typeof ev === 'object')
		return ev.excerpt || ev.message || ev.rule || '';
	return '';
}

// ---- the URL hash: the view's state, shareable ----

function readHash() {
	const p = new URLSearchParams(location.hash.replace(/^#/, ''));
	state.range = p.get('range') in RANGES ? p.get('range') : '24h';
	for (const k of FILTER_KEYS)
		state.filters[k] = p.get(HASH_NAMES[k] || k) || '';
	state.by = p.get('by') === 'checker' ? 'checker' : 'category';
	const id = Number.parseInt(p.get('id') || '', 10);
	state.selected = Number.isFinite(id) && id > 0 ? id : null;
}

function writeHash() {
	const p = new URLSearchParams();
	p.set('range', state.range);
	for (const k of FILTER_KEYS) {
		if (state.filters[k])
			p.set(HASH_NAMES[k] || k, state.filters[k]);
	}
	if (state.by !== 'category')
		p.set('by', state.by);
	if (state.selected)
		p.set('id', String(state.selected));
	const hash = `#${p.toString()}`;
	if (location.hash !== hash)
		history.replaceState(null, '', hash);
}

function syncForm() {
	const form = $('filters');
	for (const r of form.elements.range)
		r.checked = r.value === state.range;
	for (const k of FILTER_KEYS) {
		const el = form.elements[k];
		if (el.tagName === 'SELECT' && state.filters[k] && ![...el.options].some((o) => o.value === state.filters[k]))
			el.append(h('option', {value: state.filters[k]}, state.filters[k]));
		el.value = state.filters[k];
	}
	$('by-category').setAttribute('aria-pressed', String(state.by === 'category'));
	$('by-checker').setAttribute('aria-pressed', String(state.by === 'checker'));
}

function queryParams({withModel = true} = {}) {
	const q = {};
	const span = RANGES[state.range];
	if (span)
		q.since = Math.floor((Date.now() - span) / 1000);
	for (const k of FILTER_KEYS) {
		if (state.filters[k] && (withModel || k !== 'model'))
			q[k] = state.filters[k];
	}
	return q;
}

// ---- errors, login, live status ----

function showError(msg) {
	const el = $('error');
	el.replaceChildren(h('strong', {}, 'Error: '), msg);
	el.hidden = false;
}

function clearError() {
	$('error').hidden = true;
}

function setLive(text, kind) {
	$('live-text').textContent = text;
	$('live').dataset.state = kind;
}

// Routes a failed call: 401 asks for a token, anything else is shown in the banner.
function failed(e) {
	if (e instanceof ApiError && e.unauthorized) {
		askToken(getToken() ? 'warden refused the saved token (401). Enter a valid one.' : '');
		return;
	}
	showError(e.message || String(e));
	setLive(e.status === 0 ? 'Disconnected — retrying' : 'Live (last call failed)', 'error');
}

function askToken(msg) {
	state.locked = true;
	clearTimeout(state.timer);
	setToken('');
	clearError();
	$('app').hidden = true;
	$('login').hidden = false;
	$('signout').hidden = true;
	$('token-error').textContent = msg || '';
	setLive('Signed out', 'paused');
	$('token').focus();
}

async function submitToken(ev) {
	ev.preventDefault();
	const value = $('token').value.trim();
	if (!value) {
		$('token-error').textContent = 'Enter the token.';
		return;
	}
	setToken(value);
	$('token-error').textContent = '';
	const btn = ev.submitter || $('token-form').querySelector('button');
	btn.disabled = true;
	try {
		await api('/checkers');
	} catch (e) {
		btn.disabled = false;
		setToken('');
		$('token-error').textContent = e.unauthorized ? 'warden refused this token (401).' : e.message;
		return;
	}
	btn.disabled = false;
	$('token').value = '';
	state.locked = false;
	$('login').hidden = true;
	$('app').hidden = false;
	$('signout').hidden = false;
	refreshAll();
}

// ---- the feed ----

function feedRow(inc, isNew) {
	const rid = inc.request_id || '';
	const tr = h('tr', {
		dataset: {id: String(inc.id), requestId: rid},
		class: [isNew ? 'new' : '', inc.id === state.selected ? 'selected' : ''].join(' ').trim(),
		'aria-current': inc.id === state.selected ? 'true' : undefined,
		onclick: (e) => {
			if (!e.target.closest('button'))
				openDetail(inc.id);
		},
	},
	h('td', {class: 'time'}, h('button', {type: 'button', class: 'link', title: inc.time || '',
		'aria-label': `Open incident ${inc.id} (${fmtTime(incTime(inc), true)})`,
		onclick: () => openDetail(inc.id)}, fmtTime(incTime(inc)))),
	h('td', {}, actionBadge(inc.action)),
	h('td', {class: 'mono'}, inc.checker || ''),
	h('td', {class: 'mono'}, inc.category || ''),
	h('td', {class: 'mono c-opt'}, inc.model || '—'),
	h('td', {class: 'c-opt'}, inc.phase || ''),
	h('td', {class: 'mono rid', title: rid}, rid),
	h('td', {class: 'excerpt', title: truncate(excerptOf(inc), 300)}, truncate(excerptOf(inc), 90)),
	h('td', {}, reviewBadge(inc.review && inc.review.status)));
	if (isNew)
		tr.addEventListener('animationend', () => tr.classList.remove('new'), {once: true});
	return tr;
}

function renderFeed(newIds = new Set()) {
	const body = $('feed-body');
	body.replaceChildren(...state.feed.map((inc) => feedRow(inc, newIds.has(inc.id))));
	$('feed-empty').hidden = state.feed.length > 0;
	$('more').hidden = !state.nextCursor;
	$('feed-count').textContent = state.feed.length ? `(${state.feed.length}${state.nextCursor ? '+' : ''} shown)` : '';
}

// Fetches the newest page. reset: replace the list (filters changed); otherwise merge what is
// new on top and highlight it.
async function loadFeed(reset) {
	const gen = state.gen;
	const res = await api(withQuery('/incidents', {...queryParams(), limit: FEED_PAGE}));
	if (gen !== state.gen)
		return 0;
	const list = Array.isArray(res.incidents) ? res.incidents : [];
	if (reset || !state.feed.length) {
		state.feed = list;
		state.known = new Set(list.map((i) => i.id));
		state.nextCursor = res.next_cursor || null;
		renderFeed();
		return 0;
	}
	const fresh = list.filter((i) => !state.known.has(i.id));
	// take the review status of rows already shown (someone else may have reviewed them)
	const byId = new Map(list.map((i) => [i.id, i]));
	const rev = (i) => (i.review ? `${i.review.status}|${i.review.note}` : '');
	let changed = false;
	state.feed = state.feed.map((i) => {
		const n = byId.get(i.id);
		if (n && rev(n) !== rev(i))
			changed = true;
		return n || i;
	});
	const gap = fresh.length === list.length && list.length === FEED_PAGE;
	if (gap) {
		// more arrived than one page: start over rather than leave a gap
		state.feed = list;
		state.known = new Set(list.map((i) => i.id));
		state.nextCursor = res.next_cursor || null;
	} else {
		state.feed = [...fresh, ...state.feed];
		for (const i of fresh)
			state.known.add(i.id);
	}
	if (changed || gap) {
		renderFeed(new Set(fresh.map((i) => i.id)));
	} else if (fresh.length) {
		// only prepend: rows already shown keep their focus
		$('feed-body').prepend(...fresh.map((i) => feedRow(i, true)));
		$('feed-empty').hidden = true;
		$('feed-count').textContent = `(${state.feed.length}${state.nextCursor ? '+' : ''} shown)`;
	}
	if (fresh.length) {
		const first = fresh[0];
		$('feed-announce').textContent = `${fresh.length} new incident${fresh.length > 1 ? 's' : ''}; newest: ${first.action} by ${first.checker}, ${first.category}.`;
	}
	return fresh.length;
}

async function loadOlder() {
	if (!state.nextCursor)
		return;
	const gen = state.gen;
	const btn = $('more');
	btn.disabled = true;
	try {
		const res = await api(withQuery('/incidents', {...queryParams(), limit: FEED_PAGE, cursor: state.nextCursor}));
		if (gen !== state.gen)
			return;
		const list = (res.incidents || []).filter((i) => !state.known.has(i.id));
		for (const i of list)
			state.known.add(i.id);
		state.feed = [...state.feed, ...list];
		state.nextCursor = res.next_cursor || null;
		renderFeed();
	} catch (e) {
		failed(e);
	} finally {
		btn.disabled = false;
	}
}

// ---- overview: summary, charts, models ----

function bucketFor(spanMs) {
	for (const b of [60e3, 5 * 60e3, 15 * 60e3, 3600e3, 6 * 3600e3, 86400e3]) {
		if (spanMs / b <= 60)
			return b;
	}
	return 7 * 86400e3;
}

function colorScale(keys) {
	const m = new Map(keys.map((k, i) => [k, PALETTE[i % PALETTE.length]]));
	return (k) => m.get(k) || OTHER_COLOR;
}

function renderTimeChart(sample) {
	const now = Date.now();
	const span = RANGES[state.range];
	let start = span ? now - span : Math.min(now - 3600e3, ...sample.map(incTime));
	const bucketMs = bucketFor(now - start);
	start = Math.floor(start / bucketMs) * bucketMs;
	const nb = Math.max(1, Math.ceil((now - start) / bucketMs));
	const field = state.by;
	const totals = new Map();
	for (const inc of sample) {
		const k = inc[field] || '(none)';
		totals.set(k, (totals.get(k) || 0) + 1);
	}
	// the seven largest keep their own colour, the rest stack as "other"
	let keys = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a) || a.localeCompare(b));
	const shown = keys.slice(0, 7);
	const hasOther = keys.length > 7;
	const keyOf = (inc) => {
		const k = inc[field] || '(none)';
		return shown.includes(k) ? k : 'other';
	};
	keys = hasOther ? [...shown, 'other'] : shown;
	const buckets = Array.from({length: nb}, (_, i) => ({t: start + i * bucketMs, counts: {}}));
	for (const inc of sample) {
		const i = Math.floor((incTime(inc) - start) / bucketMs);
		if (i < 0 || i >= nb)
			continue;
		const k = keyOf(inc);
		buckets[i].counts[k] = (buckets[i].counts[k] || 0) + 1;
	}
	const color = colorScale(shown);
	stackedBars($('chart-time'), {buckets, keys, color, bucketMs,
		label: `Incidents over time by ${field}`});
	$('legend-time').replaceChildren(...keys.map((k) => {
		const sw = h('span', {class: 'swatch', 'aria-hidden': 'true'});
		sw.style.background = color(k);
		const n = k === 'other' ? sample.length - shown.reduce((s, x) => s + totals.get(x), 0) : totals.get(k);
		return h('li', {}, sw, `${k} `, h('span', {class: 'count'}, String(n)));
	}));
	if (!keys.length)
		$('legend-time').replaceChildren(h('li', {class: 'note'}, 'No incidents in this range.'));
}

function countBy(list, field) {
	const m = new Map();
	for (const i of list) {
		const k = i[field] || '(none)';
		m.set(k, (m.get(k) || 0) + 1);
	}
	return m;
}

function renderSummary(sample, complete, rangeTotal) {
	const acts = countBy(sample, 'action');
	const n = (k) => acts.get(k) || 0;
	const observed = n('would_block') + n('would_redact') + n('would_flag');
	const open = sample.filter((i) => !i.review || !i.review.status || i.review.status === 'open').length;
	const plus = complete ? '' : '+';
	const items = [
		['Matching', `${sample.length}${plus}`, ''],
		['Blocked', n('block'), 'act-block'],
		['Redacted', n('redact'), 'act-redact'],
		['Flagged', n('flag'), 'act-flag'],
		['Observed', observed, 'act-would_block'],
		['Errors / timeouts', n('error') + n('timeout'), 'act-error'],
		['Open for review', open, ''],
	];
	if (rangeTotal !== undefined)
		items.push(['All in range', rangeTotal, '']);
	$('summary').replaceChildren(...items.map(([k, v, cls]) =>
		h('div', {class: `stat ${cls}`}, h('dt', {}, k), h('dd', {}, String(v)))));
	$('sample-note').textContent = complete ? ''
		: `Charts and counts cover the newest ${sample.length} matching incidents.`;
}

function renderActions(sample) {
	const acts = countBy(sample, 'action');
	const rows = [...acts.entries()].sort((a, b) => b[1] - a[1]).map(([key, value]) => ({key, value}));
	horizontalBars($('chart-action'), {rows, color: (k) => ACTION_COLORS[k] || OTHER_COLOR,
		label: 'Incidents by action'});
}

function renderModels(sampleAll) {
	const models = new Map();
	for (const inc of sampleAll) {
		const m = inc.model || '';
		if (!models.has(m))
			models.set(m, {total: 0, block: 0, redact: 0, flag: 0, other: 0});
		const r = models.get(m);
		r.total++;
		if (inc.action in r && inc.action !== 'total')
			r[inc.action]++;
		else
			r.other++;
	}
	const rows = [...models.entries()].sort((a, b) => b[1].total - a[1].total);
	$('models-body').replaceChildren(...rows.map(([m, r]) => {
		const active = m && state.filters.model === m;
		return h('tr', {class: active ? 'selected' : ''},
			h('th', {scope: 'row'}, m ? h('button', {type: 'button', class: 'link mono',
				'aria-pressed': String(Boolean(active)),
				onclick: () => setFilters({model: active ? '' : m})}, m)
				: h('span', {class: 'note'}, '(no model)')),
			h('td', {class: 'num'}, String(r.total)),
			h('td', {class: 'num'}, String(r.block)),
			h('td', {class: 'num'}, String(r.redact)),
			h('td', {class: 'num'}, String(r.flag)),
			h('td', {class: 'num'}, String(r.other)));
	}));
	if (!rows.length)
		$('models-body').replaceChildren(h('tr', {}, h('td', {colspan: 6, class: 'note'}, 'No incidents in this range.')));
}

// Up to SAMPLE_PAGES pages of the incidents matching every filter but the model (the models
// table needs the others); the model filter is applied here.
async function loadOverview() {
	const gen = state.gen;
	const params = queryParams({withModel: false});
	let all = [];
	let cursor = null;
	let complete = true;
	for (let p = 0; p < SAMPLE_PAGES; p++) {
		const res = await api(withQuery('/incidents', {...params, limit: SAMPLE_PAGE, cursor}));
		all = all.concat(res.incidents || []);
		cursor = res.next_cursor || null;
		if (!cursor)
			break;
		if (p === SAMPLE_PAGES - 1)
			complete = false;
	}
	const span = RANGES[state.range];
	const bucket = span && span <= 3600e3 ? 'minute' : span && span <= 7 * 86400e3 ? 'hour' : 'day';
	const stats = await api(withQuery('/stats', {since: params.since, bucket}));
	if (gen !== state.gen)
		return;
	state.stats = stats;
	const m = state.filters.model;
	const sample = m ? all.filter((i) => i.model === m) : all;
	renderSummary(sample, complete, typeof stats.total === 'number' ? stats.total : undefined);
	renderTimeChart(sample);
	renderActions(sample);
	renderModels(all);
	fillOptions();
}

// ---- the checker chain ----

function num(v) {
	return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function latencyText(c) {
	const l = c.latency || c.latency_ms || {};
	const p50 = num(l.p50) ?? num(l.p50_ms) ?? num(c.p50_ms) ?? num(c.latency_p50_ms);
	const p99 = num(l.p99) ?? num(l.p99_ms) ?? num(c.p99_ms) ?? num(c.latency_p99_ms);
	if (p50 !== undefined)
		return `p50 ${p50.toFixed(2)} ms${p99 !== undefined ? ` · p99 ${p99.toFixed(2)} ms` : ''}`;
	if ((num(c.calls) ?? 1) === 0)
		return '—';
	const avg = num(c.latency_mean_ms) ?? num(c.latency_ms_avg) ?? num(l.avg) ?? num(l.mean);
	if (avg !== undefined)
		return `avg ${avg.toFixed(2)} ms`;
	const calls = num(c.calls) ?? num(c.counters && c.counters.calls);
	const tot = num(c.latency_us_total) ?? num(c.counters && c.counters.latency_us_total);
	if (tot !== undefined && calls)
		return `avg ${(tot / calls / 1000).toFixed(2)} ms`;
	return '—';
}

function renderCheckers() {
	const body = $('checkers-body');
	const rows = state.checkers.map((c, i) => {
		const k = c.counters || c.stats || c;
		const cnt = (name) => String(num(k[name]) ?? num(c[name]) ?? 0);
		const phases = Array.isArray(c.phases) ? c.phases.join(', ') : c.phases || '';
		const errs = (num(k.errors) ?? 0) > 0;
		return h('tr', {},
			h('td', {class: 'num'}, String(i + 1)),
			h('th', {scope: 'row'}, c.id ? h('button', {type: 'button', class: 'link mono',
				title: `Show incidents of ${c.id}`, onclick: () => setFilters({checker: c.id})}, c.id) : ''),
			h('td', {class: 'mono'}, c.type || ''),
			h('td', {}, phases),
			h('td', {}, c.mode === 'observe' ? badge('observe', 'mode-observe') : c.mode || ''),
			h('td', {}, c.action ? actionBadge(c.action) : ''),
			h('td', {class: 'num'}, cnt('calls')),
			h('td', {class: 'num'}, cnt('incidents')),
			h('td', {class: `num ${errs ? 'warn' : ''}`}, cnt('errors')),
			h('td', {class: 'num'}, cnt('timeouts')),
			h('td', {class: 'num'}, latencyText(c)));
	});
	body.replaceChildren(...rows);
	if (!rows.length)
		body.replaceChildren(h('tr', {}, h('td', {colspan: 11, class: 'note'}, 'No checkers configured: nothing is checked.')));
}

async function loadCheckers() {
	const res = await api('/checkers');
	state.checkers = Array.isArray(res) ? res : Array.isArray(res.checkers) ? res.checkers : [];
	renderCheckers();
	fillOptions();
}

// Options of the filter menus: what the chain and the stats know, plus the current value.
function fillOptions() {
	const stats = state.stats || {};
	const keys = (o) => (o && typeof o === 'object' ? Object.keys(o) : []);
	const setOptions = (sel, values) => {
		const cur = sel.value;
		const uniq = [...new Set(values.filter(Boolean))].sort();
		if (cur && !uniq.includes(cur))
			uniq.push(cur);
		const want = ['', ...uniq].join('\n');
		const have = [...sel.options].map((o) => o.value).join('\n');
		if (want === have)
			return;
		sel.replaceChildren(h('option', {value: ''}, 'All'), ...uniq.map((v) => h('option', {value: v},
			sel.id === 'f-action' ? v.replace('_', ' ') : v)));
		sel.value = cur;
	};
	setOptions($('f-checker'), [...state.checkers.map((c) => c.id), ...keys(stats.by_checker)]);
	setOptions($('f-model'), keys(stats.by_model));
	setOptions($('f-action'), [...ACTIONS, ...keys(stats.by_action)]);
	const cats = new Set(keys(stats.by_category));
	for (const c of [...cats]) {
		if (c.includes('.'))
			cats.add(c.split('.')[0]);
	}
	const dl = $('category-list');
	const want = [...cats].sort();
	if (dl.options.length !== want.length)
		dl.replaceChildren(...want.map((c) => h('option', {value: c})));
}

// ---- the detail panel and review ----

// Pretty JSON with spans for keys, strings, numbers and literals (text nodes only).
function jsonNodes(value) {
	const text = JSON.stringify(value, null, 2) ?? 'null';
	const out = [];
	const re = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
	let last = 0;
	for (let m = re.exec(text); m; m = re.exec(text)) {
		if (m.index > last)
			out.push(document.createTextNode(text.slice(last, m.index)));
		const cls = m[1] ? (m[2] ? 'j-key' : 'j-str') : m[3] ? 'j-lit' : 'j-num';
		out.push(h('span', {class: cls}, m[1] || m[0]));
		if (m[2])
			out.push(document.createTextNode(m[2]));
		last = re.lastIndex;
	}
	out.push(document.createTextNode(text.slice(last)));
	return out;
}

// The excerpt with every occurrence of the matched text marked.
function excerptNodes(text, needle) {
	if (!needle || !text)
		return [text || ''];
	const out = [];
	const lower = text.toLowerCase();
	const n = needle.toLowerCase();
	let i = 0;
	for (let j = lower.indexOf(n); j >= 0 && n; j = lower.indexOf(n, i)) {
		out.push(text.slice(i, j), h('mark', {}, text.slice(j, j + n.length)));
		i = j + n.length;
	}
	out.push(text.slice(i));
	return out;
}

function field(name, value, cls) {
	const empty = value === undefined || value === null || value === '';
	return [h('dt', {}, name), h('dd', {class: cls || ''}, empty ? '—' : value)];
}

function renderDetail(inc) {
	const ev = inc.evidence && typeof inc.evidence === 'object' ? inc.evidence : {};
	const review = inc.review || {};
	$('detail-title').replaceChildren(`Incident #${inc.id} `, actionBadge(inc.action));
	const reqBtn = inc.request_id ? h('button', {type: 'button', class: 'link small',
		onclick: () => setFilters({request_id: inc.request_id})}, 'all of this request') : null;
	const dl = h('dl', {class: 'fields'},
		field('Time', `${fmtTime(incTime(inc), true)}${inc.time ? ` (${inc.time})` : ''}`),
		field('Request id', inc.request_id ? h('span', {}, h('code', {id: 'detail-request-id'}, inc.request_id), ' ', reqBtn) : ''),
		field('Route', inc.route), field('Model', inc.model, 'mono'), field('Phase', inc.phase),
		field('Checker', inc.checker ? `${inc.checker}${inc.checker_type ? ` (${inc.checker_type})` : ''}` : '', 'mono'),
		field('Category', inc.category, 'mono'),
		field('Action', inc.action),
		field('Score', typeof inc.score === 'number' ? inc.score.toFixed(3) : inc.score),
		field('Client status', inc.status ? String(inc.status) : ''),
		field('Upstream status', inc.upstream_status ? String(inc.upstream_status) : 'not sent upstream'),
		field('Latency', typeof inc.latency_ms === 'number' ? `${inc.latency_ms.toFixed(1)} ms` : ''),
		field('Key hash', inc.key_hash, 'mono'), field('Client', inc.client_addr, 'mono'),
		field('Rule', ev.rule, 'mono'),
		field('Span', Array.isArray(ev.span) ? ev.span.join('–') : ev.span && JSON.stringify(ev.span)));
	const excerpt = inc.excerpt || ev.excerpt || '';
	$('detail-body').replaceChildren(dl,
		h('h3', {}, 'Excerpt'),
		excerpt ? h('pre', {class: 'excerpt', id: 'detail-excerpt'}, ...excerptNodes(excerpt, ev.excerpt !== excerpt ? ev.excerpt : ''))
			: h('p', {class: 'note'}, 'No text kept (store.capture, or the checker keeps no excerpt).'),
		h('h3', {}, 'Evidence'),
		h('pre', {class: 'json', id: 'detail-evidence'}, ...jsonNodes(inc.evidence ?? {})));
	$('review-status').replaceChildren(reviewBadge(review.status));
	$('review-status').className = '';
	const note = $('review-note');
	if (document.activeElement !== note)
		note.value = review.note || '';
	const at = typeof review.reviewed_at === 'number' ? review.reviewed_at : Date.parse(review.reviewed_at);
	$('review-msg').textContent = Number.isFinite(at) && at > 0 ? `Last reviewed ${fmtTime(at, true)}.` : '';
}

function markSelected() {
	for (const tr of $('feed-body').rows) {
		const on = Number(tr.dataset.id) === state.selected;
		tr.classList.toggle('selected', on);
		if (on)
			tr.setAttribute('aria-current', 'true');
		else
			tr.removeAttribute('aria-current');
	}
}

async function openDetail(id, {focus = true} = {}) {
	state.selected = id;
	writeHash();
	markSelected();
	const panel = $('detail');
	panel.hidden = false;
	panel.dataset.id = String(id);
	$('detail-body').replaceChildren(h('p', {class: 'note'}, 'Loading…'));
	if (focus)
		$('detail-title').focus();
	try {
		const inc = await api(`/incidents/${encodeURIComponent(id)}`);
		if (state.selected !== id)
			return;
		renderDetail(inc);
	} catch (e) {
		if (e.status === 404) {
			$('detail-body').replaceChildren(h('p', {class: 'field-error'}, `Incident ${id} does not exist (404).`));
			return;
		}
		$('detail-body').replaceChildren(h('p', {class: 'field-error'}, e.message));
		failed(e);
	}
}

function closeDetail() {
	const id = state.selected;
	state.selected = null;
	$('detail').hidden = true;
	writeHash();
	markSelected();
	const btn = $('feed-body').querySelector(`tr[data-id="${id}"] button`);
	if (btn)
		btn.focus();
}

async function review(status) {
	const id = state.selected;
	if (!id)
		return;
	const buttons = $('review-form').querySelectorAll('button');
	for (const b of buttons)
		b.disabled = true;
	$('review-msg').textContent = 'Saving…';
	try {
		const inc = await api(`/incidents/${encodeURIComponent(id)}`, {method: 'PATCH',
			body: {status, note: $('review-note').value}});
		if (state.selected === id) {
			$('review-note').blur();
			renderDetail(inc);
			$('review-msg').textContent = `Saved: ${REVIEW_LABELS[status] || status}.`;
		}
		state.feed = state.feed.map((i) => (i.id === inc.id ? inc : i));
		renderFeed();
		markSelected();
	} catch (e) {
		$('review-msg').textContent = `Not saved — ${e.message}`;
		if (e.unauthorized)
			failed(e);
	} finally {
		for (const b of buttons)
			b.disabled = false;
	}
}

// ---- refresh loop ----

async function refreshAll() {
	if (state.locked)
		return;
	state.gen++;
	state.feed = [];
	state.known = new Set();
	state.ticks = 0;
	clearTimeout(state.timer);
	try {
		await Promise.all([loadFeed(true), loadOverview(), loadCheckers()]);
		clearError();
		state.lastOk = Date.now();
		liveText();
	} catch (e) {
		failed(e);
	}
	if (state.selected && $('detail').hidden)
		openDetail(state.selected, {focus: false});
	schedule();
}

function liveText() {
	if (state.paused)
		setLive(`Paused${state.lastOk ? ` · updated ${fmtTime(state.lastOk)}` : ''}`, 'paused');
	else
		setLive(`Live · updated ${fmtTime(state.lastOk || Date.now())}`, 'live');
}

function schedule() {
	clearTimeout(state.timer);
	if (!state.paused && !state.locked)
		state.timer = setTimeout(tick, POLL_MS);
}

async function tick() {
	if (state.paused || state.locked)
		return;
	state.ticks++;
	try {
		const fresh = await loadFeed(false);
		if (fresh || state.ticks % OVERVIEW_EVERY === 0)
			await loadOverview();
		if (state.ticks % OVERVIEW_EVERY === 0)
			await loadCheckers();
		clearError();
		state.lastOk = Date.now();
		liveText();
	} catch (e) {
		failed(e);
	}
	schedule();
}

function setFilters(changes) {
	Object.assign(state.filters, changes);
	syncForm();
	writeHash();
	refreshAll();
}

// ---- wiring ----

function readForm() {
	const form = $('filters');
	const r = form.elements.range.value;
	state.range = r in RANGES ? r : '24h';
	for (const k of FILTER_KEYS)
		state.filters[k] = form.elements[k].value.trim();
}

function debounce(fn, ms) {
	let t;
	return (...a) => {
		clearTimeout(t);
		t = setTimeout(() => fn(...a), ms);
	};
}

function init() {
	readHash();
	syncForm();
	const form = $('filters');
	const apply = () => {
		readForm();
		writeHash();
		refreshAll();
	};
	const applySoon = debounce(apply, 350);
	form.addEventListener('change', (e) => {
		if (e.target.type !== 'search' && e.target.name !== 'category')
			apply();
	});
	form.addEventListener('input', (e) => {
		if (e.target.type === 'search' || e.target.name === 'category')
			applySoon();
	});
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		apply();
	});
	form.addEventListener('reset', (e) => {
		e.preventDefault();
		for (const k of FILTER_KEYS)
			state.filters[k] = '';
		syncForm();
		writeHash();
		refreshAll();
	});
	window.addEventListener('hashchange', () => {
		readHash();
		syncForm();
		refreshAll();
	});
	$('pause').addEventListener('click', () => {
		state.paused = !state.paused;
		$('pause').setAttribute('aria-pressed', String(state.paused));
		$('pause').textContent = state.paused ? 'Resume' : 'Pause';
		liveText();
		if (state.paused)
			clearTimeout(state.timer);
		else
			tick();
	});
	for (const [id, by] of [['by-category', 'category'], ['by-checker', 'checker']]) {
		$(id).addEventListener('click', () => {
			state.by = by;
			syncForm();
			writeHash();
			loadOverview().catch(failed);
		});
	}
	$('more').addEventListener('click', loadOlder);
	$('detail-close').addEventListener('click', closeDetail);
	$('detail').addEventListener('keydown', (e) => {
		if (e.key === 'Escape')
			closeDetail();
	});
	for (const b of $('review-form').querySelectorAll('button[data-status]'))
		b.addEventListener('click', () => review(b.dataset.status));
	$('review-form').addEventListener('submit', (e) => e.preventDefault());
	$('token-form').addEventListener('submit', submitToken);
	$('signout').addEventListener('click', () => askToken(''));
	$('signout').hidden = !getToken();
	$('app').hidden = false;
	refreshAll();
}

init();
