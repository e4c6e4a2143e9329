/* remote.c — the `remote` checker: asks an external guard model about a request or an answer,
 * for the hard cases warden's own checkers miss. Two protocols (remote_parse.h):
 *   llama-guard  POST {url}/v1/chat/completions, the conversation as messages; the answer is
 *                "safe" (score 0) or "unsafe\nS1,S10" (score 1, category S1)
 *   moderation   POST {url}/v1/moderations {"input": text}; score = the highest category score,
 *                category = that category mapped to S1..S14 (else "moderation.<name>")
 * Phases: request (the last `turns` user turns) and response (the answer; for llama-guard the
 * conversation plus the answer as the assistant turn). A streamed answer is gathered per choice
 * and judged at its end, so an enforcing entry holds the whole stream back (like harm).
 *
 * Nothing blocks an I/O thread: each instance owns one worker thread with a curl multi handle.
 * A check queues a job (one HTTP request per choice) and answers WD_AGAIN; the worker sends it,
 * parses the answer, stores the result and calls wd_check_wake once; the chain's second call
 * answers from the job. The chain's timeout_ms is the deadline: at it the chain calls release(),
 * which marks the job cancelled under the instance lock (so no wake can follow) and the worker
 * drops the transfer. At most `concurrency` requests are in flight; beyond that a check fails at
 * once (on_error decides), so nothing queues without bound when the guard is slow.
 *
 * config: url (http/https base URL), protocol (llama-guard | moderation, default llama-guard),
 * model (required for llama-guard), api_key_env (an env var holding a bearer key), max_bytes
 * (text sent, 16384), turns (user turns sent, 4), concurrency (requests in flight, 64).
 * The key goes only into the Authorization header: never to logs, evidence or error messages. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/checker.h"
#include "checkers/checkers.h"
#include "checkers/remote_parse.h"
#include "checkers/textconf.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"

#define MAX_CHOICES         8         /* answers judged per response, as harm does */
#define MAX_ANSWER          (1 << 20) /* bytes of a guard's answer read before giving up */
#define CONNECT_TIMEOUT_MS  10000     /* backstops: the chain's deadline normally comes first */
#define TRANSFER_TIMEOUT_MS 60000

enum protocol { PROTO_LLAMA_GUARD, PROTO_MODERATION };
static const char *const protocol_names[] = {"llama-guard", "moderation"};

struct job;

struct remote {
	enum protocol proto;
	char *endpoint;             /* the full URL posted to */
	char *model;                /* NULL when absent (moderation only) */
	struct curl_slist *headers; /* content type, and the bearer key when configured */
	size_t max_bytes;
	int turns, concurrency;
	CURLM *multi; /* the worker's; curl_multi_wakeup is its only use elsewhere */
	pthread_t worker;
	int started;          /* the worker runs */
	pthread_mutex_t lock; /* guards the fields below and every job's refs, done, cancelled */
	struct job *queue, **queue_tail; /* jobs not yet seen by the worker */
	int inflight;                    /* requests accepted and not yet finished or dropped */
	int stop;
};

/* One HTTP request to the guard. Owned by the worker while its job is pending. */
struct ask {
	struct job *job;
	CURL *easy;
	char *body; /* the request JSON */
	struct wd_buf answer;
	int choice, overflow;
	int rc;
	struct wd_remote_answer res;
};

/* One check: its requests, shared by the transaction (until it reads the result or releases)
 * and the worker (until it finishes): whoever drops the last reference frees it. */
struct job {
	struct remote *r;
	struct job *next; /* in r->queue, then in the worker's active list */
	struct wd_check_ctx *ctx;
	char request_id[64];
	const char *scope; /* "request" or "response" */
	int refs, done, cancelled;
	size_t pending; /* the worker's: requests still in transfer */
	struct timespec t0;
	size_t nask;
	struct ask ask[];
};

/* A transaction's state: the job under way, and a streamed answer gathered per choice. */
struct txstate {
	struct job *job;
	struct wd_buf text[MAX_CHOICES];
};

static double ms_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

static void free_asks(struct job *j)
{
	for (size_t i = 0; i < j->nask; i++) {
		free(j->ask[i].body);
		j->ask[i].body = NULL;
		wd_buf_free(&j->ask[i].answer);
	}
}

static void job_unref(struct job *j)
{
	struct remote *r = j->r;
	pthread_mutex_lock(&r->lock);
	int last = --j->refs == 0;
	pthread_mutex_unlock(&r->lock);
	if (last) {
		free_asks(j);
		free(j);
	}
}

/* ---- the worker ---- */

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
	struct ask *a = arg;
	if (wd_buf_append(&a->answer, p, size * n)) {
		a->overflow = 1;
		return 0; /* curl stops the transfer with CURLE_WRITE_ERROR */
	}
	return size * n;
}

/* Hands one request to curl. Returns 0, or < 0 with a->rc set. */
static int start_ask(struct remote *r, struct ask *a)
{
	CURL *e = curl_easy_init();
	if (!e) {
		a->rc = WD_ENOMEM;
		return a->rc;
	}
	curl_easy_setopt(e, CURLOPT_URL, r->endpoint);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, a->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(a->body));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(e, CURLOPT_PRIVATE, a);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)TRANSFER_TIMEOUT_MS);
	if (curl_multi_add_handle(r->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		a->rc = WD_EIO;
		return a->rc;
	}
	a->easy = e;
	return WD_OK;
}

static void stop_ask(struct remote *r, struct ask *a)
{
	if (!a->easy)
		return;
	curl_multi_remove_handle(r->multi, a->easy);
	curl_easy_cleanup(a->easy);
	a->easy = NULL;
}

/* Turns a finished transfer into a result. Logs failures at warn: what failed, never the text,
 * the answer or the key. */
static void settle_ask(struct remote *r, struct ask *a, CURLcode res)
{
	const char *rid = a->job->request_id, *proto = protocol_names[r->proto];
	long status = 0, oserr = 0;
	curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(a->easy, CURLINFO_OS_ERRNO, &oserr);
	stop_ask(r, a);
	if (res == CURLE_WRITE_ERROR && a->overflow) {
		wd_warn(rid, "remote %s guard: answer larger than %d bytes", proto, MAX_ANSWER);
		a->rc = WD_ETOOBIG;
	} else if (res == CURLE_OPERATION_TIMEDOUT) {
		wd_warn(rid, "remote %s guard: no answer within %d ms", proto, TRANSFER_TIMEOUT_MS);
		a->rc = WD_ETIMEOUT;
	} else if (res != CURLE_OK) {
		wd_warn(rid, "remote %s guard: %s%s%s", proto, curl_easy_strerror(res),
		        oserr ? ": " : "", oserr ? strerror((int)oserr) : "");
		a->rc = WD_EIO;
	} else if (status != 200) {
		wd_warn(rid, "remote %s guard answered HTTP %ld", proto, status);
		a->rc = WD_EIO;
	} else {
		const char *why = "";
		const char *body = a->answer.data ? a->answer.data : "";
		a->rc = r->proto == PROTO_LLAMA_GUARD
		            ? wd_remote_parse_llama_guard(body, a->answer.len, &a->res, &why)
		            : wd_remote_parse_moderation(body, a->answer.len, &a->res, &why);
		if (a->rc)
			wd_warn(rid, "remote %s guard: %s", proto, why);
	}
	free(a->body);
	a->body = NULL;
	wd_buf_free(&a->answer);
}

/* The job's requests are all finished or dropped: publish it and wake its transaction, unless
 * release() cancelled it. Drops the worker's reference. */
static void complete_job(struct remote *r, struct job **active, struct job *j)
{
	for (struct job **pp = active; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	pthread_mutex_lock(&r->lock);
	r->inflight -= (int)j->nask;
	j->done = 1;
	if (!j->cancelled)
		wd_check_wake(j->ctx); /* under the lock: release() cannot return in between */
	pthread_mutex_unlock(&r->lock);
	job_unref(j);
}

/* Drops every request of a job (cancelled, or the instance is stopping). */
static void abort_job(struct remote *r, struct job **active, struct job *j, int rc)
{
	for (size_t i = 0; i < j->nask; i++) {
		if (j->ask[i].easy || j->ask[i].body) { /* not settled yet */
			stop_ask(r, &j->ask[i]);
			j->ask[i].rc = rc;
		}
	}
	j->pending = 0;
	complete_job(r, active, j);
}

static void start_job(struct remote *r, struct job **active, struct job *j)
{
	j->next = *active;
	*active = j;
	for (size_t i = 0; i < j->nask; i++) {
		if (start_ask(r, &j->ask[i]) == WD_OK)
			j->pending++;
	}
	if (!j->pending)
		complete_job(r, active, j);
}

static void *worker_main(void *arg)
{
	struct remote *r = arg;
	struct job *active = NULL;
	for (;;) {
		/* under the lock: take the new jobs, and set aside the cancelled ones */
		struct job *fresh = NULL, **fresh_tail = &fresh, *drop = NULL;
		pthread_mutex_lock(&r->lock);
		int stop = r->stop;
		for (struct job *j = r->queue, *nx; j; j = nx) {
			nx = j->next;
			j->next = NULL;
			if (j->cancelled) {
				j->next = drop;
				drop = j;
			} else {
				*fresh_tail = j;
				fresh_tail = &j->next;
			}
		}
		r->queue = NULL;
		r->queue_tail = &r->queue;
		for (struct job **pp = &active; *pp;) {
			struct job *j = *pp;
			if (j->cancelled) {
				*pp = j->next;
				j->next = drop;
				drop = j;
			} else {
				pp = &j->next;
			}
		}
		pthread_mutex_unlock(&r->lock);
		while (drop) {
			struct job *j = drop;
			drop = j->next;
			abort_job(r, &active, j, WD_ESTATE);
		}
		while (fresh) {
			struct job *j = fresh;
			fresh = j->next;
			start_job(r, &active, j);
		}
		if (stop)
			break;
		int running;
		curl_multi_perform(r->multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(r->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			char *priv = NULL;
			CURLcode res = m->data.result;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
			struct ask *a = (struct ask *)priv;
			settle_ask(r, a, res); /* m is invalid after this */
			if (--a->job->pending == 0)
				complete_job(r, &active, a->job);
		}
		curl_multi_poll(r->multi, NULL, 0, 1000, NULL);
	}
	while (active)
		abort_job(r, &active, active, WD_ESTATE);
	return NULL;
}

/* ---- config ---- */

static void remote_destroy(void *self)
{
	struct remote *r = self;
	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->lock);
		r->stop = 1;
		pthread_mutex_unlock(&r->lock);
		curl_multi_wakeup(r->multi);
		pthread_join(r->worker, NULL);
	}
	if (r->multi)
		curl_multi_cleanup(r->multi);
	for (struct curl_slist *h = r->headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data)); /* the key leaves no copy behind */
	curl_slist_free_all(r->headers);
	free(r->endpoint);
	free(r->model);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

__attribute__((format(printf, 2, 3))) static int fail(char **err, const char *fmt, ...)
{
	char buf[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	*err = strdup(buf);
	return WD_EINVAL;
}

static int int_key(const json_t *conf, const char *key, long lo, long hi, long *out, char **err)
{
	const json_t *v = json_object_get(conf, key);
	if (!v)
		return WD_OK;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return fail(err, "%s: must be an integer from %ld to %ld", key, lo, hi);
	*out = (long)json_integer_value(v);
	return WD_OK;
}

static int str_key(const json_t *conf, const char *key, const char **out, char **err)
{
	const json_t *v = json_object_get(conf, key);
	if (!v)
		return WD_OK;
	if (!json_is_string(v) || !json_string_length(v))
		return fail(err, "%s: must be a non-empty string", key);
	*out = json_string_value(v);
	return WD_OK;
}

/* {url}/v1/<path>, accepting a url that already ends in /v1. */
static int make_endpoint(struct remote *r, const char *url, char **err)
{
	size_t n = strlen(url);
	if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
	    strpbrk(url, " \t\r\n"))
		return fail(err, "url: must be an http:// or https:// URL");
	while (n && url[n - 1] == '/')
		n--;
	int v1 = n >= 3 && strncmp(url + n - 3, "/v1", 3) == 0;
	const char *path = r->proto == PROTO_LLAMA_GUARD ? "chat/completions" : "moderations";
	struct wd_buf b;
	wd_buf_init(&b, 4096);
	if (wd_buf_printf(&b, "%.*s%s/%s", (int)n, url, v1 ? "" : "/v1", path)) {
		wd_buf_free(&b);
		return fail(err, "url: too long");
	}
	r->endpoint = wd_buf_take(&b, NULL);
	return WD_OK;
}

static int remote_init(const json_t *conf, void **self, char **err)
{
	static const char *const keys[] = {"url",   "protocol",  "model",       "api_key_env",
	                                   "turns", "max_bytes", "concurrency", NULL};
	struct remote *r = calloc(1, sizeof *r);
	if (!r)
		return WD_ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->queue_tail = &r->queue;
	*self = r;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)conf, key, v)
	{
		const char *const *k = keys;
		while (*k && strcmp(*k, key) != 0)
			k++;
		if (!*k)
			return fail(err,
			            "%s: unknown key (known: url, protocol, model, api_key_env, "
			            "turns, max_bytes, concurrency%s)",
			            key,
			            strcmp(key, "timeout_ms") == 0
			                ? "; timeout_ms belongs to the entry"
			                : "");
	}
	const char *url = NULL, *proto = "llama-guard", *model = NULL, *env = NULL;
	long turns = 4, max_bytes = 16384, concurrency = 64;
	if (str_key(conf, "url", &url, err) || str_key(conf, "protocol", &proto, err) ||
	    str_key(conf, "model", &model, err) || str_key(conf, "api_key_env", &env, err) ||
	    int_key(conf, "turns", 1, 100, &turns, err) ||
	    int_key(conf, "max_bytes", 64, 1 << 20, &max_bytes, err) ||
	    int_key(conf, "concurrency", 1, 4096, &concurrency, err))
		return WD_EINVAL;
	if (strcmp(proto, "llama-guard") == 0)
		r->proto = PROTO_LLAMA_GUARD;
	else if (strcmp(proto, "moderation") == 0)
		r->proto = PROTO_MODERATION;
	else
		return fail(err, "protocol: must be one of llama-guard, moderation");
	if (!url)
		return fail(err,
		            "url: required (the guard's base URL, e.g. http://127.0.0.1:8000)");
	if (!model && r->proto == PROTO_LLAMA_GUARD)
		return fail(err, "model: required for protocol llama-guard");
	if (make_endpoint(r, url, err))
		return WD_EINVAL;
	r->model = model ? strdup(model) : NULL;
	if (model && !r->model)
		return WD_ENOMEM;
	r->turns = (int)turns;
	r->max_bytes = (size_t)max_bytes;
	r->concurrency = (int)concurrency;

	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	if (h)
		r->headers = h;
	/* no "Expect: 100-continue" round trip for larger bodies */
	if (h && (h = curl_slist_append(r->headers, "Expect:")))
		r->headers = h;
	if (h && env) {
		const char *key_value = getenv(env);
		if (!key_value || !key_value[0])
			return fail(err, "api_key_env: environment variable %s is not set", env);
		struct wd_buf b;
		wd_buf_init(&b, 8192);
		if (wd_buf_printf(&b, "Authorization: Bearer %s", key_value)) {
			wd_buf_free(&b);
			return fail(err, "api_key_env: the key in %s is too long", env);
		}
		h = curl_slist_append(r->headers, b.data);
		explicit_bzero(b.data, b.len);
		wd_buf_free(&b);
		if (h)
			r->headers = h;
	}
	if (!h || !(r->multi = curl_multi_init()))
		return WD_ENOMEM;
	int perr = pthread_create(&r->worker, NULL, worker_main, r);
	if (perr)
		return fail(err, "cannot start the worker thread: %s", strerror(perr));
	r->started = 1;
	return WD_OK;
}

/* ---- checking ---- */

/* The JSON body asking about the request (answer == NULL) or about one answer. *out is NULL
 * when there is nothing to ask about. */
static int make_body(const struct remote *r, const struct wd_exchange *x, const char *answer,
                     size_t answer_len, char **out)
{
	json_t *req = NULL;
	*out = NULL;
	if (r->proto == PROTO_LLAMA_GUARD) {
		json_t *msgs = wd_remote_messages(x, r->turns, r->max_bytes, answer, answer_len);
		if (!msgs)
			return WD_ENOMEM;
		if (!json_array_size(msgs)) {
			json_decref(msgs);
			return WD_OK;
		}
		req = json_pack("{s:s,s:o,s:i,s:i,s:b}", "model", r->model, "messages", msgs,
		                "temperature", 0, "max_tokens", 64, "stream", 0);
	} else {
		struct wd_buf text;
		wd_buf_init(&text, r->max_bytes);
		if (answer) /* already bounded by the caller */
			wd_buf_append(&text, answer, answer_len);
		else
			wd_textconf_user_turns(x, r->turns, &text); /* a cut prefix is judged */
		size_t n = wd_remote_utf8_prefix(text.data, text.len);
		if (n) {
			req = json_pack("{s:s%}", "input", text.data, n);
			if (req && r->model)
				json_object_set_new(req, "model", json_string(r->model));
		}
		wd_buf_free(&text);
		if (!n)
			return WD_OK;
	}
	if (req)
		*out = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	return *out ? WD_OK : WD_ENOMEM;
}

static struct txstate *state_of(struct wd_check_ctx *c, size_t max_bytes)
{
	if (!c->state) {
		struct txstate *s = calloc(1, sizeof *s);
		if (!s)
			return NULL;
		for (int i = 0; i < MAX_CHOICES; i++)
			wd_buf_init(&s->text[i], max_bytes);
		c->state = s;
	}
	return c->state;
}

static void remote_release(void *self, void *state)
{
	struct remote *r = self;
	struct txstate *s = state;
	if (s->job) {
		pthread_mutex_lock(&r->lock);
		s->job->cancelled = 1;
		int pending = !s->job->done;
		pthread_mutex_unlock(&r->lock);
		if (pending)
			curl_multi_wakeup(r->multi); /* the worker drops the transfer now */
		job_unref(s->job);
	}
	for (int i = 0; i < MAX_CHOICES; i++)
		wd_buf_free(&s->text[i]);
	free(s);
}

/* Queues a job of n bodies (taking them) for choices[i]; WD_AGAIN, or < 0 with nothing queued
 * (the bodies freed). */
static int submit(struct remote *r, struct wd_check_ctx *c, char **bodies, const int *choices,
                  size_t n, const char *scope)
{
	struct txstate *s = state_of(c, r->max_bytes);
	struct job *j = s ? calloc(1, sizeof *j + n * sizeof j->ask[0]) : NULL;
	if (!j) {
		for (size_t i = 0; i < n; i++)
			free(bodies[i]);
		return WD_ENOMEM;
	}
	j->r = r;
	j->ctx = c;
	j->refs = 2; /* the transaction and the worker */
	j->scope = scope;
	j->nask = n;
	snprintf(j->request_id, sizeof j->request_id, "%s", c->request_id ? c->request_id : "");
	clock_gettime(CLOCK_MONOTONIC, &j->t0);
	for (size_t i = 0; i < n; i++) {
		j->ask[i].job = j;
		j->ask[i].body = bodies[i];
		j->ask[i].choice = choices[i];
		wd_buf_init(&j->ask[i].answer, MAX_ANSWER);
	}
	pthread_mutex_lock(&r->lock);
	int full = r->inflight + (int)n > r->concurrency;
	if (!full) {
		r->inflight += (int)n;
		*r->queue_tail = j;
		r->queue_tail = &j->next;
	}
	pthread_mutex_unlock(&r->lock);
	if (full) {
		wd_warn(c->request_id,
		        "remote %s guard: %d requests in flight already (concurrency)",
		        protocol_names[r->proto], r->concurrency);
		free_asks(j);
		free(j);
		return WD_ETOOBIG;
	}
	curl_multi_wakeup(r->multi);
	s->job = j;
	return WD_AGAIN;
}

/* The second call after WD_AGAIN: the job's verdict once the worker is done with it. The worst
 * choice speaks for the answer; an error wins unless another choice scored at least 0.5. */
static int collect(struct remote *r, struct wd_check_ctx *c, struct wd_verdict *v)
{
	struct txstate *s = c->state;
	struct job *j = s->job;
	pthread_mutex_lock(&r->lock);
	int done = j->done;
	pthread_mutex_unlock(&r->lock);
	if (!done)
		return WD_AGAIN;
	const struct ask *best = NULL;
	int rc = WD_OK;
	for (size_t i = 0; i < j->nask; i++) {
		const struct ask *a = &j->ask[i];
		if (a->rc < 0 && rc == WD_OK)
			rc = a->rc;
		else if (a->rc == WD_OK && (!best || a->res.score > best->res.score))
			best = a;
	}
	if (best && (rc == WD_OK || best->res.score >= 0.5)) {
		rc = WD_OK;
		v->score = best->res.score;
		v->choice = best->choice;
		snprintf(v->category, sizeof v->category, "%s", best->res.category);
		v->evidence =
		    json_pack("{s:s,s:s,s:s,s:f}", "protocol", protocol_names[r->proto], "guard",
		              best->res.guard, "scope", j->scope, "latency_ms", ms_since(&j->t0));
		wd_debug(c->request_id, "remote %s guard: score %.2f %s in %.1f ms",
		         protocol_names[r->proto], best->res.score, best->res.guard,
		         ms_since(&j->t0));
	}
	remote_release(r, s);
	c->state = NULL;
	return rc;
}

static int remote_check_request(void *self, struct wd_check_ctx *c, const struct wd_exchange *x,
                                struct wd_verdict *v)
{
	struct remote *r = self;
	struct txstate *s = c->state;
	if (s && s->job)
		return collect(r, c, v);
	char *body;
	int choice = -1;
	int rc = make_body(r, x, NULL, 0, &body);
	if (rc || !body)
		return rc; /* nothing to ask about is clean */
	return submit(r, c, &body, &choice, 1, "request");
}

static int remote_check_chunk(void *self, struct wd_check_ctx *c, const struct wd_delta *d,
                              struct wd_verdict *v)
{
	struct remote *r = self;
	if (d->kind != WD_DELTA_CONTENT || d->choice < 0 || d->choice >= MAX_CHOICES)
		return WD_OK;
	struct txstate *s = state_of(c, r->max_bytes);
	if (!s)
		return WD_ENOMEM;
	struct wd_buf *b = &s->text[d->choice];
	size_t room = b->max - b->len;
	wd_buf_append(b, d->text, d->len < room ? d->len : room); /* the bounded prefix is judged */
	return WD_OK;
}

static int remote_finish(void *self, struct wd_check_ctx *c, const struct wd_exchange *x,
                         struct wd_verdict *v)
{
	struct remote *r = self;
	struct txstate *s = c->state;
	if (s && s->job)
		return collect(r, c, v);
	char *bodies[MAX_CHOICES];
	int choices[MAX_CHOICES];
	size_t n = 0;
	int rc = WD_OK;
	if (!x->nout && s) { /* a stream: what check_chunk gathered */
		for (int i = 0; i < MAX_CHOICES && rc == WD_OK; i++) {
			if (!s->text[i].len)
				continue;
			rc = make_body(r, x, s->text[i].data, s->text[i].len, &bodies[n]);
			if (rc == WD_OK && bodies[n])
				choices[n++] = i;
		}
	}
	for (size_t i = 0; i < x->nout && i < MAX_CHOICES && rc == WD_OK; i++) {
		struct wd_buf text;
		wd_buf_init(&text, r->max_bytes);
		wd_textconf_message_text(&x->out[i], &text);
		if (text.len) {
			rc = make_body(r, x, text.data, text.len, &bodies[n]);
			if (rc == WD_OK && bodies[n])
				choices[n++] = x->out[i].choice;
		}
		wd_buf_free(&text);
	}
	if (rc) {
		for (size_t i = 0; i < n; i++)
			free(bodies[i]);
		return rc;
	}
	if (!n)
		return WD_OK;
	return submit(r, c, bodies, choices, n, "response");
}

/* The answer is judged whole: an enforcing block must hold the entire stream back. */
static size_t remote_holdback(const void *self)
{
	return SIZE_MAX;
}

const struct wd_checker_type wd_checker_remote = {
    .name = "remote",
    .abi = WD_CHECKER_ABI,
    .init = remote_init,
    .destroy = remote_destroy,
    .check_request = remote_check_request,
    .check_chunk = remote_check_chunk,
    .finish = remote_finish,
    .release = remote_release,
    .holdback = remote_holdback,
};
