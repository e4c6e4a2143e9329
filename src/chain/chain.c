/* chain.c — builds the checker chain from config and runs it per transaction; see chain.h.
 * A phase runs the entries in config order and stops early once the merged action is an
 * enforced block: nothing after it could change the answer. An async checker (WD_AGAIN) parks
 * the run at its entry; the host resumes it on wake or expires it at its deadline. */
#include "chain/chain.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/registry.h"
#include "core/err.h"

struct wd_entry {
	char *id;
	const struct wd_checker_type *type;
	void *self;
	unsigned phases;
	int observe;
	enum wd_action action;
	double threshold;
	double flag_threshold; /* a score from here to threshold is flagged; < 0: none */
	int on_error_block;
	long timeout_ms;
	_Atomic uint64_t calls, incidents, errors, timeouts, latency_us;
	struct wd_histogram latency;
};

struct wd_chain {
	struct wd_entry *e;
	size_t n;
	size_t holdback;
	unsigned phases;
};

struct wd_run {
	const struct wd_chain *ch;
	char request_id[64];
	void (*wake)(void *);
	void *wake_arg;
	struct wd_check_ctx *ctx; /* one per entry */
	struct wd_outcome *out;
	size_t nout, capout;
	enum wd_action action;
	size_t why; /* index into out of the deciding outcome */
	/* the phase in progress */
	enum wd_phase phase;
	int finishing; /* response phase: call finish rather than check_request */
	const struct wd_exchange *x;
	size_t next; /* entry to call (or being waited for) */
	int waiting; /* entry `next` returned WD_AGAIN */
	int64_t started_us, deadline_us;
};

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- names ---- */

static const char *const action_names[] = {"allow", "flag", "redact", "block"};
static const char *const would_names[] = {"allow", "would_flag", "would_redact", "would_block"};

const char *wd_action_name(enum wd_action a)
{
	return action_names[a];
}

const char *wd_outcome_name(const struct wd_outcome *o)
{
	if (o->kind == WD_OUT_ERROR)
		return "error";
	if (o->kind == WD_OUT_TIMEOUT)
		return "timeout";
	return o->observed ? would_names[o->action] : action_names[o->action];
}

const char *wd_phase_name(enum wd_phase p)
{
	switch (p) {
	case WD_PHASE_REQUEST: return "request";
	case WD_PHASE_RESPONSE: return "response";
	case WD_PHASE_UPLOAD: return "upload";
	case WD_PHASE_PROBE: return "probe";
	}
	return "?";
}

/* ---- building ---- */

struct enum_name {
	const char *name;
	int value;
};

static const struct enum_name phase_values[] = {{"request", WD_PHASE_REQUEST},
                                                {"response", WD_PHASE_RESPONSE},
                                                {"upload", WD_PHASE_UPLOAD},
                                                {"probe", WD_PHASE_PROBE},
                                                {NULL, 0}};
static const struct enum_name mode_values[] = {{"enforce", 0}, {"observe", 1}, {NULL, 0}};
static const struct enum_name action_values[] = {
    {"flag", WD_FLAG}, {"redact", WD_REDACT}, {"block", WD_BLOCK}, {NULL, 0}};
static const struct enum_name on_error_values[] = {{"allow", 0}, {"block", 1}, {NULL, 0}};

struct build {
	const struct wd_conf *conf;
	char *err;
	size_t errlen;
	size_t index;
	const json_t *entry; /* the entry being parsed: keys are located through it */
};

/* Writes "file:line: checkers[i].key: message". Returns WD_EINVAL. */
__attribute__((format(printf, 4, 5))) static int fail(struct build *b, const json_t *node,
                                                      const char *key, const char *fmt, ...)
{
	char where[512], msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (b->entry && key[0] && json_object_get(b->entry, key) && !json_is_object(node) &&
	    !json_is_array(node))
		wd_conf_where_key(b->conf, b->entry, key, where, sizeof where);
	else
		wd_conf_where(b->conf, node, where, sizeof where);
	snprintf(b->err, b->errlen, "%s: checkers[%zu]%s%s: %s", where, b->index, key[0] ? "." : "",
	         key, msg);
	return WD_EINVAL;
}

static int parse_enum(struct build *b, const json_t *v, const char *key,
                      const struct enum_name *names, int *out)
{
	char known[128] = "";
	size_t o = 0;
	for (const struct enum_name *n = names; n->name; n++) {
		if (json_is_string(v) && strcmp(json_string_value(v), n->name) == 0) {
			*out = n->value;
			return WD_OK;
		}
		int w = snprintf(known + o, sizeof known - o, "%s%s", o ? ", " : "", n->name);
		if (w > 0 && (size_t)w < sizeof known - o)
			o += (size_t)w;
	}
	return fail(b, v, key, "must be one of %s", known);
}

static int parse_entry(struct build *b, const json_t *ent, struct wd_entry *e, json_t *ids)
{
	static const char *const keys[] = {"id",         "type",      "phases",         "mode",
	                                   "action",     "threshold", "flag_threshold", "on_error",
	                                   "timeout_ms", "config"};
	const char *key;
	json_t *v;
	if (!json_is_object(ent))
		return fail(b, ent, "", "must be a mapping");
	b->entry = ent;
	json_object_foreach((json_t *)ent, key, v)
	{
		size_t k = 0;
		while (k < sizeof keys / sizeof keys[0] && strcmp(keys[k], key) != 0)
			k++;
		if (k == sizeof keys / sizeof keys[0])
			return fail(
			    b, v, key,
			    "unknown key (known: id, type, phases, mode, action, threshold, "
			    "flag_threshold, on_error, timeout_ms, config)");
	}

	v = json_object_get(ent, "id");
	if (!json_is_string(v) || !json_string_length(v))
		return fail(b, v ? v : ent, "id", "a non-empty string is required");
	if (json_object_get(ids, json_string_value(v)))
		return fail(b, v, "id", "duplicate id \"%s\"", json_string_value(v));
	json_object_set_new(ids, json_string_value(v), json_true());
	e->id = strdup(json_string_value(v));

	v = json_object_get(ent, "type");
	if (!json_is_string(v))
		return fail(b, v ? v : ent, "type", "a string is required (known: %s)",
		            wd_registry_names());
	const char *tname = json_string_value(v);
	if (strchr(tname, '/')) {
		char lerr[400];
		e->type = wd_registry_load(tname, lerr, sizeof lerr);
		if (!e->type)
			return fail(b, v, "type", "%s", lerr);
	} else {
		e->type = wd_registry_find(tname);
		if (!e->type)
			return fail(b, v, "type", "unknown checker \"%s\" (known: %s)", tname,
			            wd_registry_names());
	}

	e->phases = WD_PHASE_REQUEST | WD_PHASE_RESPONSE;
	v = json_object_get(ent, "phases");
	if (v) {
		size_t i;
		json_t *p;
		if (json_is_string(v)) {
			int ph;
			if (parse_enum(b, v, "phases", phase_values, &ph))
				return WD_EINVAL;
			e->phases = (unsigned)ph;
		} else if (json_is_array(v) && json_array_size(v)) {
			e->phases = 0;
			json_array_foreach(v, i, p)
			{
				int ph;
				if (parse_enum(b, p, "phases", phase_values, &ph))
					return WD_EINVAL;
				e->phases |= (unsigned)ph;
			}
		} else {
			return fail(b, v, "phases",
			            "must be a non-empty list of request, response, upload, probe");
		}
	}
	int iv = 0;
	if ((v = json_object_get(ent, "mode")) && parse_enum(b, v, "mode", mode_values, &iv))
		return WD_EINVAL;
	e->observe = iv;
	iv = WD_BLOCK;
	if ((v = json_object_get(ent, "action")) && parse_enum(b, v, "action", action_values, &iv))
		return WD_EINVAL;
	e->action = (enum wd_action)iv;
	iv = 0;
	if ((v = json_object_get(ent, "on_error")) &&
	    parse_enum(b, v, "on_error", on_error_values, &iv))
		return WD_EINVAL;
	e->on_error_block = iv;

	e->threshold = WD_CHAIN_THRESHOLD;
	v = json_object_get(ent, "threshold");
	if (v) {
		if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
			return fail(b, v, "threshold", "must be a number from 0 to 1");
		e->threshold = json_number_value(v);
	}
	e->flag_threshold = -1;
	v = json_object_get(ent, "flag_threshold");
	if (v) {
		if (!json_is_number(v) || json_number_value(v) < 0 ||
		    json_number_value(v) >= e->threshold)
			return fail(b, v, "flag_threshold",
			            "must be a number from 0 to below threshold (%g)",
			            e->threshold);
		if (e->action == WD_FLAG)
			return fail(b, v, "flag_threshold",
			            "the action is flag already: lower threshold instead");
		e->flag_threshold = json_number_value(v);
	}
	e->timeout_ms = 1000;
	v = json_object_get(ent, "timeout_ms");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
		    json_integer_value(v) > 3600000)
			return fail(b, v, "timeout_ms", "must be an integer from 1 to 3600000");
		e->timeout_ms = (long)json_integer_value(v);
	}

	json_t *cfg = json_object_get(ent, "config");
	json_t *empty = NULL;
	if (!cfg) {
		cfg = empty = json_object();
	} else if (!json_is_object(cfg)) {
		return fail(b, cfg, "config", "must be a mapping");
	}
	char *cerr = NULL;
	int rc = e->type->init(cfg, &e->self, &cerr);
	if (rc < 0) {
		/* an absent config is located at the entry */
		fail(b, empty ? ent : cfg, "config", "%s", cerr ? cerr : wd_strerror(rc));
		rc = WD_EINVAL;
	}
	free(cerr);
	json_decref(empty);
	return rc < 0 ? rc : WD_OK;
}

int wd_chain_build(const struct wd_conf *conf, const json_t *checkers, struct wd_chain **out,
                   char *err, size_t errlen)
{
	struct wd_chain *ch = calloc(1, sizeof *ch);
	json_t *ids = json_object();
	int rc = WD_OK;
	if (!ch || !ids) {
		rc = WD_ENOMEM;
		goto out;
	}
	size_t n = checkers ? json_array_size(checkers) : 0;
	ch->e = calloc(n ? n : 1, sizeof *ch->e);
	if (!ch->e) {
		rc = WD_ENOMEM;
		goto out;
	}
	struct build b = {conf, err, errlen, 0, NULL};
	for (b.index = 0; b.index < n; b.index++) {
		struct wd_entry *e = &ch->e[b.index];
		ch->n = b.index + 1; /* so that wd_chain_free cleans up a half-built entry */
		rc = parse_entry(&b, json_array_get(checkers, b.index), e, ids);
		if (rc)
			goto out;
		ch->phases |= e->phases;
		/* text is held back only for entries that could change it: enforcing, and not a
		 * mere flag */
		if ((e->phases & WD_PHASE_RESPONSE) && !e->observe && e->action != WD_FLAG) {
			size_t h = SIZE_MAX;
			if (e->type->check_chunk)
				h = e->type->holdback ? e->type->holdback(e->self) : 0;
			else if (!e->type->finish)
				h = 0;
			if (h > ch->holdback)
				ch->holdback = h;
		}
	}
out:
	json_decref(ids);
	if (rc) {
		wd_chain_free(ch);
		ch = NULL;
	}
	*out = ch;
	return rc;
}

void wd_chain_free(struct wd_chain *ch)
{
	if (!ch)
		return;
	for (size_t i = 0; i < ch->n; i++) {
		if (ch->e[i].self && ch->e[i].type->destroy)
			ch->e[i].type->destroy(ch->e[i].self);
		free(ch->e[i].id);
	}
	free(ch->e);
	free(ch);
}

size_t wd_chain_size(const struct wd_chain *ch)
{
	return ch->n;
}

size_t wd_chain_holdback(const struct wd_chain *ch)
{
	return ch->holdback;
}

int wd_chain_has_phase(const struct wd_chain *ch, enum wd_phase p)
{
	return (ch->phases & p) != 0;
}

size_t wd_chain_stats(const struct wd_chain *ch, struct wd_entry_stats *out, size_t max)
{
	size_t i;
	for (i = 0; i < ch->n && i < max; i++) {
		const struct wd_entry *e = &ch->e[i];
		out[i] = (struct wd_entry_stats){e->id,
		                                 e->type->name,
		                                 atomic_load(&e->calls),
		                                 atomic_load(&e->incidents),
		                                 atomic_load(&e->errors),
		                                 atomic_load(&e->timeouts),
		                                 atomic_load(&e->latency_us),
		                                 {0}};
		for (int k = 0; k < WD_LAT_BUCKETS; k++)
			out[i].latency_buckets[k] = atomic_load(&e->latency.buckets[k]);
	}
	return i;
}

int wd_chain_entry_info(const struct wd_chain *ch, size_t i, struct wd_entry_info *out)
{
	if (i >= ch->n)
		return WD_ENOTFOUND;
	const struct wd_entry *e = &ch->e[i];
	*out = (struct wd_entry_info){.id = e->id,
	                              .type = e->type->name,
	                              .phases = e->phases,
	                              .observe = e->observe,
	                              .action = e->action,
	                              .threshold = e->threshold,
	                              .flag_threshold = e->flag_threshold,
	                              .on_error_block = e->on_error_block,
	                              .timeout_ms = e->timeout_ms};
	return WD_OK;
}

/* ---- running ---- */

struct wd_run *wd_run_new(const struct wd_chain *ch, const char *request_id,
                          void (*wake)(void *arg), void *wake_arg)
{
	struct wd_run *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->ctx = calloc(ch->n ? ch->n : 1, sizeof *r->ctx);
	if (!r->ctx) {
		free(r);
		return NULL;
	}
	r->ch = ch;
	snprintf(r->request_id, sizeof r->request_id, "%s", request_id ? request_id : "");
	r->wake = wake;
	r->wake_arg = wake_arg;
	for (size_t i = 0; i < ch->n; i++) {
		r->ctx[i].request_id = r->request_id;
		r->ctx[i].run = r;
	}
	return r;
}

static void release_state(struct wd_run *r, size_t i)
{
	const struct wd_entry *e = &r->ch->e[i];
	if (r->ctx[i].state && e->type->release)
		e->type->release(e->self, r->ctx[i].state);
	r->ctx[i].state = NULL;
}

void wd_run_free(struct wd_run *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ch->n; i++)
		release_state(r, i);
	for (size_t i = 0; i < r->nout; i++) {
		json_decref(r->out[i].evidence);
		free(r->out[i].spans);
	}
	free(r->out);
	free(r->ctx);
	free(r);
}

void wd_check_wake(struct wd_check_ctx *c)
{
	struct wd_run *r = c->run;
	if (r->wake)
		r->wake(r->wake_arg);
}

/* Appends an outcome and merges its action. Takes ownership of evidence. */
static void add_outcome(struct wd_run *r, struct wd_entry *e, enum wd_outcome_kind kind,
                        enum wd_action action, const struct wd_verdict *v, json_t *evidence,
                        int64_t latency)
{
	if (r->nout == r->capout) {
		size_t cap = r->capout ? r->capout * 2 : 4;
		struct wd_outcome *p = realloc(r->out, cap * sizeof *p);
		if (!p) {
			json_decref(evidence);
			if (v)
				free(v->spans);
			/* Cannot record: still enforce, so a block is never lost. */
			if (!e->observe && action > r->action)
				r->action = action;
			return;
		}
		r->out = p;
		r->capout = cap;
	}
	struct wd_outcome *o = &r->out[r->nout];
	*o = (struct wd_outcome){.checker = e->id,
	                         .type = e->type->name,
	                         .phase = r->phase,
	                         .kind = kind,
	                         .action = action,
	                         .observed = e->observe,
	                         .score = v ? v->score : 0,
	                         .choice = v ? v->choice : -1,
	                         .evidence = evidence,
	                         .spans = v ? v->spans : NULL,
	                         .nspans = v ? v->nspans : 0,
	                         .latency_us = latency};
	snprintf(o->category, sizeof o->category, "%s",
	         v && v->category[0] ? v->category
	                             : (kind == WD_OUT_INCIDENT ? "custom" : "checker"));
	if (kind == WD_OUT_ERROR)
		snprintf(o->category, sizeof o->category, "checker.error");
	else if (kind == WD_OUT_TIMEOUT)
		snprintf(o->category, sizeof o->category, "checker.timeout");
	if (!e->observe && action > r->action) {
		r->action = action;
		r->why = r->nout;
	}
	r->nout++;
}

/* Turns one callback result into an outcome (or a clean count). */
static void settle(struct wd_run *r, struct wd_entry *e, int rc, struct wd_verdict *v,
                   int64_t latency)
{
	atomic_fetch_add(&e->calls, 1);
	atomic_fetch_add(&e->latency_us, (uint64_t)latency);
	wd_histogram_observe(&e->latency, (uint64_t)latency);
	if (rc < 0) {
		atomic_fetch_add(&e->errors, 1);
		json_decref(v->evidence);
		free(v->spans);
		json_t *ev = json_pack("{s:s}", "error", wd_strerror(rc));
		add_outcome(r, e, WD_OUT_ERROR, e->on_error_block ? WD_BLOCK : WD_ALLOW, NULL, ev,
		            latency);
		return;
	}
	/* at threshold, the entry's action; from flag_threshold to it, a flag */
	int acts = v->score >= e->threshold;
	int flags = !acts && e->flag_threshold >= 0 && v->score >= e->flag_threshold;
	if (isnan(v->score) || v->score <= 0 || !(acts || flags)) {
		json_decref(v->evidence);
		free(v->spans);
		return;
	}
	atomic_fetch_add(&e->incidents, 1);
	add_outcome(r, e, WD_OUT_INCIDENT, acts ? e->action : WD_FLAG, v, v->evidence, latency);
}

static int run_phase(struct wd_run *r)
{
	const struct wd_chain *ch = r->ch;
	for (; r->next < ch->n; r->next++) {
		if (r->action == WD_BLOCK)
			break;
		struct wd_entry *e = &ch->e[r->next];
		if (!(e->phases & r->phase))
			continue;
		int (*cb)(void *, struct wd_check_ctx *, const struct wd_exchange *,
		          struct wd_verdict *) =
		    r->finishing ? e->type->finish : e->type->check_request;
		if (!cb)
			continue;
		if (!r->waiting)
			r->started_us = now_us();
		struct wd_verdict v = {.choice = -1};
		int rc = cb(e->self, &r->ctx[r->next], r->x, &v);
		if (rc == WD_AGAIN) {
			json_decref(v.evidence);
			free(v.spans);
			r->waiting = 1;
			r->deadline_us = r->started_us + (int64_t)e->timeout_ms * 1000;
			return WD_AGAIN;
		}
		r->waiting = 0;
		settle(r, e, rc, &v, now_us() - r->started_us);
	}
	r->x = NULL;
	return WD_OK;
}

static int start_phase(struct wd_run *r, enum wd_phase p, int finishing,
                       const struct wd_exchange *x)
{
	if (r->waiting)
		return WD_ESTATE;
	r->phase = p;
	r->finishing = finishing;
	r->x = x;
	r->next = 0;
	return run_phase(r);
}

int wd_run_request(struct wd_run *r, enum wd_phase p, const struct wd_exchange *x)
{
	return start_phase(r, p, 0, x);
}

int wd_run_finish(struct wd_run *r, const struct wd_exchange *x)
{
	return start_phase(r, WD_PHASE_RESPONSE, 1, x);
}

int wd_run_resume(struct wd_run *r)
{
	if (!r->waiting)
		return WD_OK;
	return run_phase(r);
}

long wd_run_deadline_ms(const struct wd_run *r)
{
	if (!r->waiting)
		return -1;
	int64_t left = r->deadline_us - now_us();
	return left <= 0 ? 0 : (long)((left + 999) / 1000);
}

int wd_run_expire(struct wd_run *r)
{
	if (!r->waiting)
		return WD_OK;
	struct wd_entry *e = &r->ch->e[r->next];
	/* Fence the late answer: after release the checker must not wake this run again. */
	release_state(r, r->next);
	atomic_fetch_add(&e->calls, 1);
	atomic_fetch_add(&e->timeouts, 1);
	json_t *ev = json_pack("{s:I}", "timeout_ms", (json_int_t)e->timeout_ms);
	add_outcome(r, e, WD_OUT_TIMEOUT, e->on_error_block ? WD_BLOCK : WD_ALLOW, NULL, ev,
	            now_us() - r->started_us);
	r->waiting = 0;
	r->next++;
	return run_phase(r);
}

int wd_run_chunk(struct wd_run *r, const struct wd_delta *d)
{
	const struct wd_chain *ch = r->ch;
	r->phase = WD_PHASE_RESPONSE;
	for (size_t i = 0; i < ch->n && r->action != WD_BLOCK; i++) {
		struct wd_entry *e = &ch->e[i];
		if (!(e->phases & WD_PHASE_RESPONSE) || !e->type->check_chunk)
			continue;
		struct wd_verdict v = {.choice = -1};
		int64_t t0 = now_us();
		int rc = e->type->check_chunk(e->self, &r->ctx[i], d, &v);
		if (rc == WD_AGAIN)
			rc = WD_ESTATE; /* streamed checks are synchronous by contract */
		settle(r, e, rc, &v, now_us() - t0);
	}
	return WD_OK;
}

enum wd_action wd_run_action(const struct wd_run *r, const struct wd_outcome **why)
{
	if (why)
		/* NULL too when the deciding outcome could not be recorded (out of memory) */
		*why =
		    r->action != WD_ALLOW && r->why < r->nout && r->out[r->why].action == r->action
		        ? &r->out[r->why]
		        : NULL;
	return r->action;
}

const struct wd_outcome *wd_run_outcomes(const struct wd_run *r, size_t *n)
{
	*n = r->nout;
	return r->out;
}
