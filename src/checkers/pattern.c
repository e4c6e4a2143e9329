/* pattern.c — the `pattern` checker: a list of regular expressions compiled once into a
 * vectorscan database. Whole texts (requests, non-streamed answers) are scanned in block mode;
 * streamed answers in streaming mode, one stream per choice/tool call, so a phrase split across
 * chunks is still found. The holdback it asks for is the longest possible match minus one byte
 * (`window` when a pattern is unbounded), so no byte of a match leaves before it is seen.
 *
 * config: patterns: [regex | {id, regex, category}], case_insensitive (true), category
 * ("custom"), window (256), excerpt (true: keep up to 80 bytes of the match as evidence; set
 * false for secrets), roles (the request messages scanned, by role; default all: a list such
 * as [user, tool], so that the operator's own system prompt is not matched). */
#include <hs/hs.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/checker.h"
#include "checkers/checkers.h"
#include "detect/scratch.h"
#include "core/err.h"

#define EXCERPT_MAX 80

struct rule {
	char *id;
	char *category;
};

struct pattern {
	hs_database_t *block, *stream;
	uint64_t block_serial, stream_serial; /* for the per-thread scratch */
	struct rule *rules;
	size_t nrules;
	size_t holdback;
	int excerpt;
	unsigned roles; /* bit (1 << wd_role) of each request message role scanned; 0: all */
};

struct text_stream {
	int choice, tool;
	hs_stream_t *hs;
	size_t offset;          /* bytes scanned so far */
	char tail[EXCERPT_MAX]; /* the last bytes before the current delta, for excerpts of */
	size_t tail_len;        /* matches that began in an earlier chunk */
};

struct pattern_state {
	struct text_stream *s;
	size_t n;
};

#define MAX_SPANS 256

/* The first match (evidence) and every match's place (for redaction), up to MAX_SPANS. */
struct hit {
	int found;
	unsigned id;
	unsigned long long from, to;
	int message, part; /* where the current text is, for spans */
	struct wd_span *spans;
	size_t nspans;
};

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx)
{
	struct hit *h = ctx;
	if (!h->found) {
		h->found = 1;
		h->id = id;
		h->from = from;
		h->to = to;
	}
	if (!h->spans)
		h->spans = calloc(MAX_SPANS, sizeof *h->spans);
	if (!h->spans)
		return 1;
	if (h->nspans) { /* overlapping matches of one place merge */
		struct wd_span *last = &h->spans[h->nspans - 1];
		if (last->message == h->message && last->part == h->part && from <= last->to) {
			if (from < last->from)
				last->from = (size_t)from;
			if (to > last->to)
				last->to = (size_t)to;
			return 0;
		}
	}
	h->spans[h->nspans++] = (struct wd_span){h->message, h->part, (size_t)from, (size_t)to};
	return h->nspans == MAX_SPANS; /* enough: stop */
}

static void pattern_destroy(void *self)
{
	struct pattern *p = self;
	if (!p)
		return;
	hs_free_database(p->block);
	hs_free_database(p->stream);
	for (size_t i = 0; i < p->nrules; i++) {
		free(p->rules[i].id);
		free(p->rules[i].category);
	}
	free(p->rules);
	free(p);
}

/* "patterns[i]: what" as a malloc'd string (the chain frees it). */
static char *pattern_err(long i, const char *what)
{
	char buf[512];
	snprintf(buf, sizeof buf, "patterns[%ld]: %s", i, what);
	return strdup(buf);
}

/* The "roles" list (NULL: all) as a mask of (1 << wd_role); nonzero when it is not a non-empty
 * list of known role names. */
static int parse_roles(const json_t *list, unsigned *mask)
{
	*mask = 0;
	if (!list)
		return 0;
	if (!json_is_array(list) || json_array_size(list) == 0)
		return 1;
	size_t i;
	const json_t *r;
	json_array_foreach(list, i, r)
	{
		int known = 0;
		for (int k = WD_ROLE_SYSTEM; k < WD_ROLE_UNKNOWN && !known; k++) {
			if (json_is_string(r) &&
			    strcmp(json_string_value(r), wd_role_name(k)) == 0) {
				*mask |= 1u << k;
				known = 1;
			}
		}
		if (!known)
			return 1;
	}
	return 0;
}

static int pattern_init(const json_t *conf, void **self, char **err)
{
	static const char *const keys[] = {"patterns", "case_insensitive", "category",
	                                   "window",   "excerpt",          "roles"};
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)conf, key, v)
	{
		size_t k = 0;
		while (k < sizeof keys / sizeof keys[0] && strcmp(keys[k], key) != 0)
			k++;
		if (k == sizeof keys / sizeof keys[0]) {
			char buf[256];
			snprintf(buf, sizeof buf,
			         "%s: unknown key (known: patterns, case_insensitive, category, "
			         "window, excerpt, roles)",
			         key);
			*err = strdup(buf);
			return WD_EINVAL;
		}
	}
	const json_t *pats = json_object_get(conf, "patterns");
	if (!json_is_array(pats) || json_array_size(pats) == 0) {
		*err = strdup("patterns: a non-empty list of regular expressions is required");
		return WD_EINVAL;
	}
	const json_t *ci = json_object_get(conf, "case_insensitive");
	const json_t *cat = json_object_get(conf, "category");
	const json_t *win = json_object_get(conf, "window");
	const json_t *exc = json_object_get(conf, "excerpt");
	if ((ci && !json_is_boolean(ci)) || (exc && !json_is_boolean(exc))) {
		*err = strdup(ci && !json_is_boolean(ci) ? "case_insensitive: must be true or false"
		                                         : "excerpt: must be true or false");
		return WD_EINVAL;
	}
	if (cat && (!json_is_string(cat) || !json_string_length(cat))) {
		*err = strdup("category: must be a non-empty string");
		return WD_EINVAL;
	}
	if (win && (!json_is_integer(win) || json_integer_value(win) < 1 ||
	            json_integer_value(win) > 1 << 20)) {
		*err = strdup("window: must be an integer from 1 to 1048576");
		return WD_EINVAL;
	}

	unsigned roles = 0;
	if (parse_roles(json_object_get(conf, "roles"), &roles)) {
		*err = strdup("roles: must be a non-empty list of system, developer, user, "
		              "assistant, tool, function");
		return WD_EINVAL;
	}

	size_t n = json_array_size(pats);
	struct pattern *p = calloc(1, sizeof *p);
	const char **exprs = calloc(n, sizeof *exprs);
	unsigned *flags = calloc(n, sizeof *flags), *ids = calloc(n, sizeof *ids);
	int rc = WD_ENOMEM;
	if (!p || !exprs || !flags || !ids || !(p->rules = calloc(n, sizeof *p->rules)))
		goto out;
	p->excerpt = exc ? json_is_true(exc) : 1;
	p->roles = roles;
	size_t window = win ? (size_t)json_integer_value(win) : 256;
	unsigned base = HS_FLAG_DOTALL | (ci && json_is_false(ci) ? 0 : HS_FLAG_CASELESS);
	rc = WD_EINVAL;
	for (size_t i = 0; i < n; i++) {
		const json_t *it = json_array_get(pats, i);
		const json_t *re = it, *rid = NULL, *rcat = NULL;
		if (json_is_object(it)) {
			re = json_object_get(it, "regex");
			rid = json_object_get(it, "id");
			rcat = json_object_get(it, "category");
		}
		if (!json_is_string(re) || !json_string_length(re) ||
		    (rid && !json_is_string(rid)) || (rcat && !json_is_string(rcat))) {
			*err = pattern_err((long)i, "must be a regular expression or {id, regex, "
			                            "category} with string values");
			goto out;
		}
		exprs[i] = json_string_value(re);
		flags[i] = base | HS_FLAG_SOM_LEFTMOST;
		ids[i] = (unsigned)i;
		char idbuf[32];
		snprintf(idbuf, sizeof idbuf, "pattern-%zu", i);
		p->rules[i].id = strdup(rid ? json_string_value(rid) : idbuf);
		p->rules[i].category = strdup(rcat  ? json_string_value(rcat)
		                              : cat ? json_string_value(cat)
		                                    : "custom");
		p->nrules = i + 1;

		hs_expr_info_t *info = NULL;
		hs_compile_error_t *ce = NULL;
		if (hs_expression_info(exprs[i], base, &info, &ce) != HS_SUCCESS) {
			*err = pattern_err((long)i, ce->message);
			hs_free_compile_error(ce);
			goto out;
		}
		size_t need = info->max_width == UINT_MAX ? window : info->max_width - 1;
		if (info->min_width == 0) {
			free(info);
			*err = pattern_err((long)i, "matches the empty string");
			goto out;
		}
		free(info);
		if (need > p->holdback)
			p->holdback = need;
	}
	hs_compile_error_t *ce = NULL;
	if (hs_compile_multi(exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &p->block, &ce) !=
	        HS_SUCCESS ||
	    hs_compile_multi(exprs, flags, ids, (unsigned)n,
	                     HS_MODE_STREAM | HS_MODE_SOM_HORIZON_LARGE, NULL, &p->stream,
	                     &ce) != HS_SUCCESS) {
		*err = pattern_err(ce->expression < 0 ? 0 : ce->expression, ce->message);
		hs_free_compile_error(ce);
		goto out;
	}
	p->block_serial = wd_hs_serial();
	p->stream_serial = wd_hs_serial();
	rc = WD_OK;
out:
	free(exprs);
	free(flags);
	free(ids);
	if (rc) {
		pattern_destroy(p);
		p = NULL;
		if (!*err)
			*err = strdup(wd_strerror(rc));
	}
	*self = p;
	return rc;
}

/* Fills v from a hit in text[0..len) (the match may start before text for streams: clipped). */
static void report(const struct pattern *p, const struct hit *h, const char *text, size_t len,
                   size_t text_offset, int choice, int msg, struct wd_verdict *v)
{
	const struct rule *r = &p->rules[h->id];
	v->score = 1.0;
	v->choice = choice;
	snprintf(v->category, sizeof v->category, "%s", r->category);
	json_t *ev = json_pack("{s:s,s:[I,I]}", "rule", r->id, "span", (json_int_t)h->from,
	                       (json_int_t)h->to);
	if (msg >= 0)
		json_object_set_new(ev, "message", json_integer(msg));
	if (p->excerpt && text) {
		size_t from = h->from > text_offset ? (size_t)(h->from - text_offset) : 0;
		size_t to = (size_t)(h->to - text_offset);
		if (to > len)
			to = len;
		if (to - from > EXCERPT_MAX)
			to = from + EXCERPT_MAX;
		json_object_set_new(ev, "excerpt", json_stringn_nocheck(text + from, to - from));
	}
	v->evidence = ev;
	v->spans = h->spans;
	v->nspans = h->nspans;
}

static int scan_text(const struct pattern *p, const char *text, size_t len, struct hit *h)
{
	hs_scratch_t *s = wd_hs_scratch(p->block, p->block_serial);
	if (!s)
		return WD_ENOMEM;
	hs_error_t e = hs_scan(p->block, text, (unsigned)len, 0, s, on_match, h);
	return e == HS_SUCCESS || e == HS_SCAN_TERMINATED ? WD_OK : WD_EIO;
}

/* Scans every text part and tool-call argument of msgs; the first hit is the evidence, and
 * every hit is a span. */
static int scan_messages(const struct pattern *p, const struct wd_message *msgs, size_t n,
                         unsigned roles, struct wd_verdict *v)
{
	struct hit h = {0};
	const char *first_text = NULL;
	size_t first_len = 0;
	int first_msg = -1, first_choice = -1;
	int rc = WD_OK;
	for (size_t i = 0; i < n && h.nspans < MAX_SPANS; i++) {
		const struct wd_message *m = &msgs[i];
		if (roles && !(roles & 1u << m->role))
			continue;
		for (size_t j = 0; j < m->nparts + m->ncalls; j++) {
			const char *t;
			size_t len;
			if (j < m->nparts) {
				if (m->parts[j].kind != WD_PART_TEXT)
					continue;
				t = m->parts[j].text;
				len = m->parts[j].len;
			} else {
				t = m->calls[j - m->nparts].arguments;
				len = m->calls[j - m->nparts].arguments_len;
			}
			if (!t || len > UINT_MAX)
				continue;
			h.message = (int)i;
			h.part = j < m->nparts ? (int)j : -1 - (int)(j - m->nparts);
			int found = h.found;
			rc = scan_text(p, t, len, &h);
			if (rc)
				goto out;
			if (h.found && !found) {
				first_text = t;
				first_len = len;
				first_msg = (int)i;
				first_choice = m->choice;
			}
		}
	}
out:
	if (h.found && rc == WD_OK)
		report(p, &h, first_text, first_len, 0, first_choice, first_msg, v);
	else
		free(h.spans);
	return rc;
}

static int pattern_check_request(void *self, struct wd_check_ctx *c, const struct wd_exchange *x,
                                 struct wd_verdict *v)
{
	const struct pattern *p = self;
	return scan_messages(p, x->msgs, x->nmsgs, p->roles, v);
}

/* Keeps the last EXCERPT_MAX bytes of a stream's text. */
static void remember_tail(struct text_stream *ts, const char *text, size_t len)
{
	if (len >= EXCERPT_MAX) {
		memcpy(ts->tail, text + len - EXCERPT_MAX, EXCERPT_MAX);
		ts->tail_len = EXCERPT_MAX;
		return;
	}
	size_t drop = ts->tail_len + len > EXCERPT_MAX ? ts->tail_len + len - EXCERPT_MAX : 0;
	memmove(ts->tail, ts->tail + drop, ts->tail_len - drop);
	memcpy(ts->tail + ts->tail_len - drop, text, len);
	ts->tail_len += len - drop;
}

static int pattern_check_chunk(void *self, struct wd_check_ctx *c, const struct wd_delta *d,
                               struct wd_verdict *v)
{
	struct pattern *p = self;
	struct pattern_state *st = c->state;
	if (!st) {
		st = c->state = calloc(1, sizeof *st);
		if (!st)
			return WD_ENOMEM;
	}
	int tool = d->kind == WD_DELTA_CONTENT || d->kind == WD_DELTA_REFUSAL ? -1 : d->tool;
	struct text_stream *ts = NULL;
	for (size_t i = 0; i < st->n; i++) {
		if (st->s[i].choice == d->choice && st->s[i].tool == tool)
			ts = &st->s[i];
	}
	if (!ts) {
		struct text_stream *grown = realloc(st->s, (st->n + 1) * sizeof *grown);
		if (!grown)
			return WD_ENOMEM;
		st->s = grown;
		ts = &st->s[st->n];
		*ts = (struct text_stream){.choice = d->choice, .tool = tool};
		if (hs_open_stream(p->stream, 0, &ts->hs) != HS_SUCCESS)
			return WD_ENOMEM;
		st->n++;
	}
	if (d->len > UINT_MAX)
		return WD_ETOOBIG;
	hs_scratch_t *s = wd_hs_scratch(p->stream, p->stream_serial);
	if (!s)
		return WD_ENOMEM;
	struct hit h = {.message = d->choice, .part = tool};
	hs_error_t e = hs_scan_stream(ts->hs, d->text, (unsigned)d->len, 0, s, on_match, &h);
	size_t at = ts->offset;
	ts->offset += d->len;
	if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED) {
		free(h.spans);
		return WD_EIO;
	}
	if (h.found) {
		/* the excerpt may start in earlier chunks: lay the tail before this delta */
		size_t keep = d->len < EXCERPT_MAX ? d->len : EXCERPT_MAX;
		char joined[2 * EXCERPT_MAX];
		memcpy(joined, ts->tail, ts->tail_len);
		memcpy(joined + ts->tail_len, d->text, keep);
		report(p, &h, joined, ts->tail_len + keep, at - ts->tail_len, d->choice, -1, v);
	} else {
		free(h.spans);
	}
	remember_tail(ts, d->text, d->len);
	return WD_OK;
}

static void close_streams(struct pattern_state *st, hs_scratch_t *s, struct hit *h)
{
	for (size_t i = 0; i < st->n; i++) {
		h->message = st->s[i].choice;
		h->part = st->s[i].tool;
		hs_close_stream(st->s[i].hs, s, s ? on_match : NULL, h);
	}
	free(st->s);
	st->s = NULL;
	st->n = 0;
}

static int pattern_finish(void *self, struct wd_check_ctx *c, const struct wd_exchange *x,
                          struct wd_verdict *v)
{
	struct pattern *p = self;
	struct pattern_state *st = c->state;
	if (st && st->n) { /* a stream: flush end-anchored matches */
		hs_scratch_t *s = wd_hs_scratch(p->stream, p->stream_serial);
		struct hit h = {0};
		close_streams(st, s, &h);
		if (h.found)
			report(p, &h, NULL, 0, 0, h.spans ? h.spans[0].message : -1, -1, v);
		else
			free(h.spans);
		return s ? WD_OK : WD_ENOMEM;
	}
	return scan_messages(p, x->out, x->nout, 0, v);
}

static void pattern_release(void *self, void *state)
{
	struct pattern_state *st = state;
	struct hit h = {0};
	close_streams(st, NULL, &h);
	free(h.spans);
	free(st);
}

static size_t pattern_holdback(const void *self)
{
	return ((const struct pattern *)self)->holdback;
}

const struct wd_checker_type wd_checker_pattern = {
    .name = "pattern",
    .abi = WD_CHECKER_ABI,
    .init = pattern_init,
    .destroy = pattern_destroy,
    .check_request = pattern_check_request,
    .check_chunk = pattern_check_chunk,
    .finish = pattern_finish,
    .release = pattern_release,
    .holdback = pattern_holdback,
};
