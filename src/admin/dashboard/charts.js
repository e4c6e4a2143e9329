// charts.js — the two charts, drawn as SVG by hand (no library): incidents over time as stacked
// bars, and totals as horizontal bars. Each chart is an <svg role="img"> whose aria-label says
// what it shows in words; every bar carries a <title> (hover tooltip). Colours are attributes,
// not inline styles, so the page's Content-Security-Policy allows them.

const NS = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs = {}, text) {
	const el = document.createElementNS(NS, tag);
	for (const [k, v] of Object.entries(attrs))
		el.setAttribute(k, String(v));
	if (text !== undefined)
		el.textContent = text;
	return el;
}

// A "nice" upper bound for an axis: 1, 2, 5 × 10^n at or above v.
function niceMax(v) {
	if (v <= 1)
		return 1;
	const p = 10 ** Math.floor(Math.log10(v));
	for (const m of [1, 2, 5, 10]) {
		if (m * p >= v)
			return m * p;
	}
	return 10 * p;
}

function timeLabel(t, bucketMs) {
	const d = new Date(t);
	if (bucketMs >= 86400000)
		return d.toLocaleDateString([], {month: 'short', day: 'numeric'});
	if (bucketMs >= 3600000 * 6)
		return `${d.toLocaleDateString([], {month: 'short', day: 'numeric'})} ${String(d.getHours()).padStart(2, '0')}:00`;
	return d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit', hour12: false});
}

// Stacked bars over time. buckets: [{t (ms), counts: {key: n}}], keys: stacking order (bottom
// first), color(key) → fill. Replaces the container's content.
export function stackedBars(container, {buckets, keys, color, bucketMs, label}) {
	const W = 640, H = 170, L = 34, R = 8, T = 10, B = 24;
	const totals = buckets.map((b) => keys.reduce((s, k) => s + (b.counts[k] || 0), 0));
	const max = niceMax(Math.max(0, ...totals));
	const sum = totals.reduce((a, b) => a + b, 0);
	const svg = svgEl('svg', {
		viewBox: `0 0 ${W} ${H}`,
		class: 'chart',
		role: 'img',
		'aria-label': `${label}: ${sum} incidents in ${buckets.length} intervals, at most ${Math.max(0, ...totals)} in one`,
	});
	const plotW = W - L - R, plotH = H - T - B;
	const y = (v) => T + plotH - (v / max) * plotH;
	for (const v of [0, max / 2, max]) {
		svg.append(svgEl('line', {x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid'}));
		svg.append(svgEl('text', {x: L - 4, y: y(v) + 3, class: 'axis', 'text-anchor': 'end'},
			Number.isInteger(v) ? String(v) : v.toFixed(1)));
	}
	const n = Math.max(1, buckets.length);
	const slot = plotW / n;
	const bw = Math.max(1, slot * 0.78);
	buckets.forEach((b, i) => {
		const x = L + i * slot + (slot - bw) / 2;
		let acc = 0;
		const when = timeLabel(b.t, bucketMs);
		for (const k of keys) {
			const c = b.counts[k] || 0;
			if (!c)
				continue;
			const r = svgEl('rect', {
				x: x.toFixed(2), y: y(acc + c).toFixed(2), width: bw.toFixed(2),
				height: Math.max(0.5, y(acc) - y(acc + c)).toFixed(2), fill: color(k), class: 'bar',
			});
			r.append(svgEl('title', {}, `${when} · ${k}: ${c}`));
			svg.append(r);
			acc += c;
		}
	});
	// about six time labels, evenly spread
	const every = Math.max(1, Math.ceil(n / 6));
	buckets.forEach((b, i) => {
		if (i % every)
			return;
		svg.append(svgEl('text', {x: L + i * slot + slot / 2, y: H - 8, class: 'axis',
			'text-anchor': 'middle'}, timeLabel(b.t, bucketMs)));
	});
	svg.append(svgEl('line', {x1: L, x2: W - R, y1: y(0), y2: y(0), class: 'baseline'}));
	container.replaceChildren(svg);
	return svg;
}

// Horizontal bars: rows [{key, value}], color(key) → fill.
export function horizontalBars(container, {rows, color, label}) {
	const rowH = 22, W = 320, L = 92, R = 40;
	const H = Math.max(1, rows.length) * rowH + 4;
	const max = Math.max(1, ...rows.map((r) => r.value));
	const svg = svgEl('svg', {
		viewBox: `0 0 ${W} ${H}`,
		class: 'chart hbars',
		role: 'img',
		'aria-label': `${label}: ` + (rows.length ? rows.map((r) => `${r.key} ${r.value}`).join(', ') : 'none'),
	});
	if (!rows.length)
		svg.append(svgEl('text', {x: W / 2, y: H / 2 + 4, class: 'axis', 'text-anchor': 'middle'}, 'no incidents'));
	rows.forEach((r, i) => {
		const yy = 2 + i * rowH;
		svg.append(svgEl('text', {x: L - 6, y: yy + 15, class: 'axis label', 'text-anchor': 'end'}, r.key));
		const w = Math.max(r.value ? 2 : 0, ((W - L - R) * r.value) / max);
		const rect = svgEl('rect', {x: L, y: yy + 3, width: w.toFixed(2), height: rowH - 8, rx: 2,
			fill: color(r.key), class: 'bar'});
		rect.append(svgEl('title', {}, `${r.key}: ${r.value}`));
		svg.append(rect);
		svg.append(svgEl('text', {x: L + w + 5, y: yy + 15, class: 'axis value'}, String(r.value)));
	});
	container.replaceChildren(svg);
	return svg;
}
