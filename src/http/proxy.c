/* proxy.c — the guard proxy's I/O threads and transaction state machine; see proxy.h.
 *
 * A transaction (struct txn) is one client request. Its life:
 *   RECEIVE   body arrives through the MHD access handler (bounded by the route's limit);
 *   CHECK     request phase of the chain (may park on an async checker: connection suspended);
 *   UPSTREAM  a curl easy handle on this thread's multi; the MHD connection stays suspended;
 *   RESPOND   whole answers are checked then queued as one buffer; SSE answers are framed event
 *             by event, checked, held back and released through a content-reader callback; other
 *             routes' bodies are streamed through unchanged.
 * The MHD connection is suspended whenever warden is waiting (checker, upstream, held-back
 * text) and resumed when there is something to do, so nothing busy-waits. */
#include "http/proxy.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "chain/holdback.h"
#include "core/metrics.h"
#include "store/store.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "http/sse.h"
#include "openai/errors.h"
#include "openai/exchange.h"

#define OUT_HIGH_WATER (1u << 20) /* pause upstream while this much waits for a slow client */
#define READ_BLOCK     16384

struct worker;

enum txn_state { RECEIVE, CHECK, UPSTREAM, FINISH, DONE };
enum body_mode { BODY_NONE, BODY_BUFFERED, BODY_SSE, BODY_RAW };

struct header {
	char *name, *value;
};

struct txn {
	struct worker *w;
	struct MHD_Connection *conn;
	struct txn *next_waiting;        /* list of txns parked on an async checker */
	struct txn *up_prev, *up_next;   /* list of txns with a transfer in flight (idle timer) */
	struct txn *all_prev, *all_next; /* every live txn of the worker (shutdown) */
	int64_t last_upstream_us;        /* when the upstream last sent a byte */
	int client_fd;                   /* watched for hang-up while waiting; -1 when not */
	int client_gone;
	int parked;         /* waiting on an async checker (in w->waiting) */
	char key_hash[17];  /* of the client's API key; "" without one */
	size_t stored_upto; /* outcomes already handed to the store */
	int commit_pending; /* batches queued; the answer waits for their commit */
	int orphan;         /* the connection is gone while a commit was pending */
	void (*after_commit)(struct txn *t);
	struct MHD_Response *staged; /* a complete answer waiting for its incidents' commit */
	int64_t upstream_t0_us;
	char request_id[40];
	char method[16];
	char client_addr[64];
	enum wd_route route;
	enum txn_state state;
	int64_t t0_us;

	struct wd_buf body; /* request body */
	int too_big;
	struct wd_exchange x;
	int parsed;
	struct wd_run *run;
	int checked_route; /* chat/completions/responses: text the chain can read */

	CURL *easy;
	struct curl_slist *req_headers;
	char *url;
	long upstream_status;
	struct header *hdrs; /* upstream response headers to pass on */
	size_t nhdrs;
	int headers_done;
	char content_type[128];
	enum body_mode mode;

	CURLcode curl_result;
	int aborted;              /* we stopped the transfer ourselves (block, limit) */
	const char *stream_error; /* why we stopped a stream we could not pass on */
	int paused;

	struct wd_buf resp; /* BUFFERED: the whole upstream body */
	struct wd_buf out;  /* SSE/RAW: bytes ready for the client */
	struct wd_sse sse;
	struct wd_holdq *hq;
	char *stream_id, *stream_model;
	long long stream_created;
	int blocked;
	size_t masked_upto; /* outcomes already applied as masks */
	int waiting_data;   /* connection suspended inside the content reader */
	int suspended;
	int responded; /* a response has been queued */
	int status_sent;
};

enum wake_kind { WAKE_CHECKER, WAKE_COMMITTED };

struct wake {
	struct txn *t;
	enum wake_kind kind;
};

struct worker {
	struct wd_proxy *p;
	pthread_t thread;
	int epfd, evfd, listen_fd;
	struct MHD_Daemon *mhd;
	int mhd_fd;
	CURLM *multi;
	int64_t curl_deadline_us; /* -1: no curl timer */
	int active;               /* transactions in flight */
	struct txn *waiting;      /* parked on async checkers */
	pthread_mutex_t qlock;    /* guards wakeq: checkers and the store wake from other threads */
	struct wake *wakeq;
	size_t nwake, capwake;
	uint64_t rng;
	int mhd_due;          /* MHD has work: socket events, a resumed connection, a timeout */
	struct txn *upstream; /* transfers in flight, for the idle timer */
	struct txn *all;      /* every live transaction */
	int commits;          /* store batches queued whose wake has not been handled */
	int64_t next_idle_check_us;
	CURL *spare[32]; /* finished easy handles kept for reuse (curl_easy_reset) */
	int nspare;
};

struct wd_proxy {
	const struct wd_settings *s;
	const struct wd_chain *ch;
	struct wd_store *store; /* NULL: incidents are only logged */
	struct worker *w;
	int nw;
	atomic_int stopping;
	char *upstream_base; /* upstream URL without a trailing /v1 */
	char *auth_header;   /* "Authorization: Bearer <key>" when an upstream key is configured */
};

/* epoll data: a txn pointer (client hang-up watch; pointers are 8-aligned, tag 0), or a tag in
 * the low bits: curl sockets carry their fd above the tag. */
#define TAG_CURL      1
#define TAG_MHD       2
#define TAG_WAKE      3
#define CURL_DATA(fd) (((uint64_t)(fd) << 2) | TAG_CURL)

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- listening sockets ---- */

int wd_listen_socket(const char *hostport, int reuseport, char *err, size_t errlen)
{
	char host[256];
	unsigned short port;
	if (wd_parse_hostport(hostport, host, sizeof host, &port)) {
		snprintf(err, errlen, "bad listen address \"%s\" (want HOST:PORT)", hostport);
		return -1;
	}
	char portstr[8];
	snprintf(portstr, sizeof portstr, "%u", port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	int gai = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &ai);
	if (gai) {
		snprintf(err, errlen, "cannot resolve %s: %s", hostport, gai_strerror(gai));
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (reuseport)
			setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	}
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", hostport, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* ---- small helpers ---- */

/* Canonical form of a request path, so that "/v1//chat/completions/" or
 * "/v1/x/../chat/completions" cannot slip past the route check: repeated slashes collapse,
 * "." and ".." segments resolve, a trailing slash goes. The upstream is sent the same form.
 * Writes into out (size len); returns 0, or WD_ETOOBIG. */
static int normalise_path(const char *in, char *out, size_t len)
{
	size_t o = 0;
	while (*in) {
		while (*in == '/')
			in++;
		if (!*in)
			break;
		const char *seg = in;
		while (*in && *in != '/')
			in++;
		size_t n = (size_t)(in - seg);
		if (n == 1 && seg[0] == '.')
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		if (o + n + 2 > len)
			return WD_ETOOBIG;
		out[o++] = '/';
		memcpy(out + o, seg, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return WD_OK;
}

static void new_request_id(struct worker *w, char *buf, size_t len)
{
	/* xorshift64*: ids need to be unique, not secret */
	uint64_t x = w->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	snprintf(buf, len, "wd-%016llx", (unsigned long long)(x * 0x2545F4914F6CDD1DULL));
}

static int is_hop_header(const char *name)
{
	static const char *const hop[] = {"connection",
	                                  "keep-alive",
	                                  "proxy-connection",
	                                  "proxy-authenticate",
	                                  "proxy-authorization",
	                                  "te",
	                                  "trailer",
	                                  "transfer-encoding",
	                                  "upgrade",
	                                  "host",
	                                  "content-length",
	                                  "expect",
	                                  "accept-encoding"};
	for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++) {
		if (strcasecmp(name, hop[i]) == 0)
			return 1;
	}
	return 0;
}

static void resume(struct txn *t)
{
	if (t->suspended) {
		t->suspended = 0;
		t->waiting_data = 0;
		MHD_resume_connection(t->conn);
		t->w->mhd_due = 1;
	}
}

static void suspend(struct txn *t)
{
	if (!t->suspended) {
		t->suspended = 1;
		MHD_suspend_connection(t->conn);
	}
}

/* Queues a complete response (status, body, content type) and resumes the connection. */
static void commit_then(struct txn *t, void (*next)(struct txn *t));

/* Queues the staged answer (after its incidents are durable). */
static void send_staged(struct txn *t)
{
	MHD_queue_response(t->conn, (unsigned)t->status_sent, t->staged);
	MHD_destroy_response(t->staged);
	t->staged = NULL;
	t->responded = 1;
	t->state = DONE;
	resume(t);
}

/* Answers with a complete body (copied): the answer leaves once the transaction's incidents are
 * committed. */
static void respond(struct txn *t, unsigned status, const char *body, size_t len, const char *ctype,
                    int pass_headers)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r) { /* out of memory: close the connection rather than leave it hanging */
		t->client_gone = 1;
		t->state = DONE;
		resume(t);
		return;
	}
	if (pass_headers) {
		for (size_t i = 0; i < t->nhdrs; i++) {
			if (strcasecmp(t->hdrs[i].name, "content-type") != 0)
				MHD_add_response_header(r, t->hdrs[i].name, t->hdrs[i].value);
		}
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, "x-warden-request-id", t->request_id);
	t->staged = r;
	t->status_sent = (int)status;
	t->responded = 1; /* no other answer may be queued now */
	commit_then(t, send_staged);
}

static void respond_error(struct txn *t, unsigned status, const char *message, const char *type,
                          const char *code)
{
	char *body = wd_error_body(message, type, code, t->request_id, NULL, NULL);
	const char *b = body ? body : "{\"error\":{\"message\":\"out of memory\"}}";
	respond(t, status, b, strlen(b), "application/json", 0);
	free(body);
}

/* ---- incidents ---- */

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The text an incident keeps with store.capture: full — the whole message the checker judged
 * (request message, or answer choice); excerpt — the checker's own short excerpt; none — nothing.
 */
static char *capture_text(const struct txn *t, const struct wd_outcome *o)
{
	enum wd_capture cap = t->w->p->s->capture;
	const json_t *ex = json_object_get(o->evidence, "excerpt");
	if (cap == WD_CAPTURE_NONE)
		return NULL;
	if (cap == WD_CAPTURE_FULL) {
		const struct wd_message *m = NULL;
		json_t *mi = json_object_get(o->evidence, "message");
		if (o->phase == WD_PHASE_REQUEST && json_is_integer(mi) &&
		    (size_t)json_integer_value(mi) < t->x.nmsgs)
			m = &t->x.msgs[json_integer_value(mi)];
		else if (o->phase == WD_PHASE_RESPONSE && o->choice >= 0 &&
		         (size_t)o->choice < t->x.nout)
			m = &t->x.out[o->choice];
		if (m) {
			struct wd_buf b;
			wd_buf_init(&b, 1 << 20);
			for (size_t i = 0; i < m->nparts; i++) {
				if (m->parts[i].kind == WD_PART_TEXT)
					wd_buf_append(&b, m->parts[i].text, m->parts[i].len);
			}
			if (b.len)
				return wd_buf_take(&b, NULL);
			wd_buf_free(&b);
		}
	}
	return json_is_string(ex) ? strdup(json_string_value(ex)) : NULL;
}

static void fill_incident(const struct txn *t, const struct wd_outcome *o, int64_t ts_ms,
                          struct wd_incident *inc)
{
	json_t *ev = o->evidence ? json_deep_copy(o->evidence) : json_object();
	if (t->w->p->s->capture == WD_CAPTURE_NONE)
		json_object_del(ev, "excerpt");
	char phase[16];
	snprintf(phase, sizeof phase, "%s",
	         o->phase == WD_PHASE_RESPONSE && t->mode == BODY_SSE ? "stream"
	                                                              : wd_phase_name(o->phase));
	*inc = (struct wd_incident){
	    .ts_ms = ts_ms,
	    .request_id = strdup(t->request_id),
	    .route = strdup(t->route < WD_ROUTE__COUNT ? wd_route_name(t->route) : "other"),
	    .model = dup_or_null(t->x.model),
	    .phase = strdup(phase),
	    .checker = strdup(o->checker),
	    .checker_type = strdup(o->type),
	    .category = strdup(o->category),
	    .action = strdup(wd_outcome_name(o)),
	    .score = o->score,
	    .evidence = ev ? json_dumps(ev, JSON_COMPACT) : NULL,
	    .excerpt = capture_text(t, o),
	    .key_hash = t->key_hash[0] ? strdup(t->key_hash) : NULL,
	    .client_addr = t->client_addr[0] ? strdup(t->client_addr) : NULL,
	    .upstream_status = (int)t->upstream_status,
	    .status = t->status_sent ? t->status_sent : (int)t->upstream_status,
	    .latency_ms = (double)(now_us() - t->t0_us) / 1000.0,
	};
	json_decref(ev);
}

static void on_committed(void *arg, int rc);

/* Hands the outcomes not yet stored to the store, and runs next once they are durable — at once
 * when there are none (or no store). A response that caused an incident is finished only from
 * here. next may be NULL (a transaction whose client is gone). */
static void commit_then(struct txn *t, void (*next)(struct txn *t))
{
	size_t n = 0;
	const struct wd_outcome *o = t->run ? wd_run_outcomes(t->run, &n) : NULL;
	size_t k = n - t->stored_upto;
	struct wd_store *st = t->w->p->store;
	struct wd_incident *incs = k && st ? calloc(k, sizeof *incs) : NULL;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t ts = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	for (size_t i = t->stored_upto; i < n; i++) {
		wd_warn(t->request_id,
		        "incident checker=%s category=%s action=%s phase=%s score=%.2f",
		        o[i].checker, o[i].category, wd_outcome_name(&o[i]),
		        wd_phase_name(o[i].phase), o[i].score);
		wd_metrics_incident(o[i].checker, o[i].category, wd_outcome_name(&o[i]));
		if (incs)
			fill_incident(t, &o[i], ts, &incs[i - t->stored_upto]);
	}
	t->stored_upto = n;
	t->after_commit = next;
	if (k && st && incs) {
		if (wd_store_enqueue(st, incs, k, on_committed, t) == WD_OK) {
			t->commit_pending++;
			t->w->commits++;
			/* A complete answer waits suspended (we are in the access handler, or
			 * already suspended); a streamed one is held by its reader, which suspends
			 * itself. */
			if (t->conn && t->mode != BODY_SSE && t->mode != BODY_RAW)
				suspend(t);
			return;
		}
		wd_error(t->request_id, "incident queue full: %zu incidents not stored", k);
	} else if (k && st) {
		wd_metrics.incidents_lost += k;
	}
	if (!t->commit_pending && next)
		next(t);
}

/* ---- redaction ---- */

/* The enforced `redact` outcomes recorded since the last call, one at a time (NULL: none). */
static const struct wd_outcome *next_redaction(struct txn *t)
{
	size_t n;
	const struct wd_outcome *o = wd_run_outcomes(t->run, &n);
	while (t->masked_upto < n) {
		const struct wd_outcome *r = &o[t->masked_upto++];
		if (r->kind == WD_OUT_INCIDENT && r->action == WD_REDACT && !r->observed)
			return r;
	}
	return NULL;
}

/* Masks what redact outcomes point at in the request (response = 0) or the whole answer, and
 * writes the changed JSON into buf. Returns 1 when something was masked. */
static int redact_exchange(struct txn *t, int response, struct wd_buf *buf)
{
	int changed = 0;
	const struct wd_outcome *r;
	while ((r = next_redaction(t))) {
		if (wd_exchange_redact(&t->x, response, r->spans, r->nspans) == WD_OK && r->nspans)
			changed = 1;
	}
	if (!changed)
		return 0;
	char *json = json_dumps(response ? t->x.resp : t->x.body, JSON_COMPACT);
	if (!json)
		return 0;
	wd_buf_free(buf);
	wd_buf_init(buf, SIZE_MAX / 2);
	wd_buf_appendz(buf, json);
	free(json);
	return 1;
}

/* Streams: masks held text for new redact outcomes. */
static void redact_held(struct txn *t)
{
	const struct wd_outcome *r;
	while ((r = next_redaction(t))) {
		for (size_t i = 0; i < r->nspans; i++)
			wd_holdq_mask(t->hq, r->spans[i].message, r->spans[i].part,
			              r->spans[i].from, r->spans[i].to);
	}
}

/* ---- blocking ---- */

/* The request was blocked: a content_filter error, or a refusal completion (on_block). */
static void respond_blocked_request(struct txn *t)
{
	const struct wd_settings *s = t->w->p->s;
	const struct wd_outcome *why = NULL;
	wd_run_action(t->run, &why);
	if (s->on_block == WD_ON_BLOCK_REFUSAL &&
	    (t->route == WD_ROUTE_CHAT || t->route == WD_ROUTE_COMPLETIONS ||
	     t->route == WD_ROUTE_RESPONSES)) {
		char *body = wd_refusal_body(t->route, t->x.model, s->refusal_text, t->x.stream);
		if (body) {
			respond(t, 200, body, strlen(body),
			        t->x.stream ? "text/event-stream" : "application/json", 0);
			free(body);
			return;
		}
	}
	char msg[256];
	snprintf(msg, sizeof msg,
	         "The request was blocked by warden's content policy (checker %s, category %s).",
	         why ? why->checker : "?", why ? why->category : "?");
	char *body = wd_error_body(msg, "invalid_request_error", "content_filter", t->request_id,
	                           why ? why->checker : NULL, why ? why->category : NULL);
	respond(t, 400, body ? body : "{}", body ? strlen(body) : 2, "application/json", 0);
	free(body);
}

/* ---- upstream ---- */

static void start_upstream(struct txn *t);

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct txn *t = arg;
	size_t len = size * n;
	t->last_upstream_us = now_us();
	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) { /* a status line: a new header block */
		for (size_t i = 0; i < t->nhdrs; i++) {
			free(t->hdrs[i].name);
			free(t->hdrs[i].value);
		}
		t->nhdrs = 0;
		t->content_type[0] = '\0';
		return len;
	}
	if (len <= 2) { /* end of a header block */
		long code = 0;
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200)
			t->headers_done = 1;
		t->upstream_status = code;
		return len;
	}
	const char *colon = memchr(buf, ':', len);
	if (!colon)
		return len;
	size_t nl = (size_t)(colon - buf);
	const char *v = colon + 1;
	const char *end = buf + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	char name[128];
	if (nl == 0 || nl >= sizeof name)
		return len;
	memcpy(name, buf, nl);
	name[nl] = '\0';
	if (strcasecmp(name, "content-type") == 0)
		snprintf(t->content_type, sizeof t->content_type, "%.*s", (int)(end - v), v);
	if (is_hop_header(name) || strcasecmp(name, "content-encoding") == 0 || t->nhdrs >= 64)
		return len;
	struct header *h = realloc(t->hdrs, (t->nhdrs + 1) * sizeof *h);
	if (!h)
		return 0;
	t->hdrs = h;
	h[t->nhdrs].name = strdup(name);
	h[t->nhdrs].value = strndup(v, (size_t)(end - v));
	t->nhdrs++;
	return len;
}

static ssize_t read_out(void *cls, uint64_t pos, char *buf, size_t max);

static void observe_holdback(uint64_t waited_us)
{
	wd_histogram_observe(&wd_metrics.holdback_delay, waited_us);
}

/* The upstream's headers are in: choose how the body travels and, for streamed modes, start
 * the client response now (time to first byte follows the upstream's). */
static int begin_body(struct txn *t)
{
	const struct wd_proxy *p = t->w->p;
	int sse = strncasecmp(t->content_type, "text/event-stream", 17) == 0;
	if (sse && t->upstream_status < 300 && t->checked_route) {
		t->mode = BODY_SSE;
		wd_sse_init(&t->sse, p->s->max_event_bytes);
		t->hq = wd_holdq_new(wd_chain_holdback(p->ch), p->s->max_response_bytes);
		if (!t->hq)
			goto fail;
		wd_holdq_observe(t->hq, observe_holdback);
	} else if (t->checked_route && t->upstream_status < 300 &&
	           wd_chain_has_phase(p->ch, WD_PHASE_RESPONSE)) {
		t->mode = BODY_BUFFERED;
		return WD_OK;
	} else {
		t->mode = BODY_RAW;
	}
	wd_buf_init(&t->out, SIZE_MAX / 2);
	struct MHD_Response *r =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, READ_BLOCK, read_out, t, NULL);
	if (!r)
		goto fail;
	for (size_t i = 0; i < t->nhdrs; i++)
		MHD_add_response_header(r, t->hdrs[i].name, t->hdrs[i].value);
	MHD_add_response_header(r, "x-warden-request-id", t->request_id);
	MHD_queue_response(t->conn, (unsigned)t->upstream_status, r);
	MHD_destroy_response(r);
	t->responded = 1;
	t->status_sent = (int)t->upstream_status;
	resume(t);
	return WD_OK;
fail: /* out of memory: the transfer stops and the client gets a 502 (upstream_done) */
	if (t->mode == BODY_SSE)
		wd_sse_free(&t->sse);
	t->mode = BODY_NONE;
	return WD_ENOMEM;
}

/* The streamed answer is complete (its incidents are committed): let the reader end it. */
static void end_stream(struct txn *t)
{
	t->state = DONE;
	if (t->waiting_data)
		resume(t);
}

static void emit_stop_block(struct txn *t)
{
	const struct wd_outcome *why = NULL;
	wd_run_action(t->run, &why);
	char *blk = wd_stream_stop_block(t->route, t->stream_id, t->stream_model, t->stream_created,
	                                 why ? why->choice : -1);
	if (blk)
		wd_buf_appendz(&t->out, blk);
	free(blk);
	if (t->route != WD_ROUTE_RESPONSES)
		wd_buf_appendz(&t->out, "data: [DONE]\n\n");
	end_stream(t);
}

/* Ends a blocked stream: held text is dropped; once the incident is committed the client gets a
 * content_filter finish. */
static void stop_stream(struct txn *t)
{
	t->blocked = 1;
	wd_holdq_drop(t->hq);
	commit_then(t, emit_stop_block);
}

static int on_event(void *ctx, const struct wd_sse_event *ev)
{
	struct txn *t = ctx;
	if (t->blocked)
		return 1;
	struct wd_chunk c = {0};
	char err[160];
	int rc = WD_OK;
	if (ev->data)
		rc = wd_chunk_parse(&c, t->route, ev->event, ev->data, ev->data_len, err,
		                    sizeof err);
	if (rc == WD_OK && c.json) {
		if (!t->stream_id && c.id)
			t->stream_id = strdup(c.id);
		if (!t->stream_model && c.model)
			t->stream_model = strdup(c.model);
		if (c.created)
			t->stream_created = c.created;
	}
	for (size_t i = 0; i < c.ndeltas; i++)
		wd_run_chunk(t->run, &c.deltas[i]);
	if (wd_run_action(t->run, NULL) == WD_BLOCK) {
		wd_chunk_free(&c);
		stop_stream(t);
		return 1;
	}
	rc = wd_holdq_push(t->hq, ev->raw, ev->raw_len, ev->event, c.json, c.deltas, c.ndeltas);
	if (rc == WD_OK)
		redact_held(t);
	if (c.finish_reason) {
		for (size_t i = 0; i < c.ndeltas; i++)
			wd_holdq_finish_choice(t->hq, c.deltas[i].choice);
		if (!c.ndeltas)
			wd_holdq_finish_choice(t->hq, 0);
	}
	wd_chunk_free(&c);
	if (rc)
		return rc;
	return wd_holdq_release(t->hq, &t->out, 0) < 0 ? WD_ENOMEM : 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct txn *t = arg;
	size_t len = size * n;
	t->last_upstream_us = now_us();
	if (!t->mode && t->headers_done && begin_body(t)) {
		t->aborted = 1;
		return 0;
	}
	switch (t->mode) {
	case BODY_BUFFERED:
		if (wd_buf_append(&t->resp, data, len)) {
			t->too_big = 1;
			t->aborted = 1;
			return 0;
		}
		break;
	case BODY_SSE:
	case BODY_RAW:
		if (t->out.len > OUT_HIGH_WATER) {
			t->paused = 1;
			return CURL_WRITEFUNC_PAUSE;
		}
		if (t->mode == BODY_RAW) {
			if (wd_buf_append(&t->out, data, len))
				return 0;
		} else if (!t->blocked) {
			int rc = wd_sse_feed(&t->sse, data, len, on_event, t);
			if (t->blocked) {
				t->aborted = 1;
				if (t->waiting_data)
					resume(t);
				return 0; /* stop the upstream transfer */
			}
			if (rc) {
				t->aborted = 1;
				t->stream_error =
				    rc == WD_ETOOBIG
				        ? "an upstream event exceeds limits.max_event_bytes"
				        : "the upstream stream could not be checked";
				return 0;
			}
		}
		if (t->out.len && t->waiting_data)
			resume(t);
		break;
	case BODY_NONE: break;
	}
	return len;
}

static void finish_response(struct txn *t);

/* Runs the response phase's end and sends or completes the answer. */
static void settle_response(struct txn *t)
{
	if (t->mode == BODY_BUFFERED) {
		enum wd_action a = wd_run_action(t->run, NULL);
		const char *body = t->resp.data ? t->resp.data : "";
		size_t len = t->resp.len;
		char *rewritten = NULL;
		if (a == WD_BLOCK && t->x.resp) {
			const struct wd_outcome *why = NULL;
			wd_run_action(t->run, &why);
			wd_exchange_withhold(t->x.resp, t->route, why ? why->choice : -1);
			rewritten = json_dumps(t->x.resp, JSON_COMPACT);
			if (rewritten) {
				body = rewritten;
				len = strlen(rewritten);
			}
		} else if (a == WD_REDACT && t->x.resp && redact_exchange(t, 1, &t->resp)) {
			body = t->resp.data;
			len = t->resp.len;
		}
		respond(t, (unsigned)t->upstream_status, body, len,
		        t->content_type[0] ? t->content_type : "application/json", 1);
		free(rewritten);
		return;
	} /* SSE: release what is left, or end with content_filter */
	if (t->mode == BODY_SSE && !t->blocked) {
		if (wd_run_action(t->run, NULL) == WD_BLOCK) {
			stop_stream(t);
			return;
		}
		redact_held(t);
		wd_holdq_release(t->hq, &t->out, 1);
		if (t->stream_error || (t->curl_result != CURLE_OK && !t->aborted)) {
			/* the checked text went out; an error event ends the broken stream */
			char msg[300];
			snprintf(msg, sizeof msg,
			         "data: {\"error\":{\"message\":\"upstream stream broken: %s\","
			         "\"type\":\"upstream_error\",\"code\":null,\"param\":null}}\n\n",
			         t->stream_error ? t->stream_error
			                         : curl_easy_strerror(t->curl_result));
			wd_buf_appendz(&t->out, msg);
		}
	}
	commit_then(t, end_stream);
}

static void park(struct txn *t)
{
	t->parked = 1;
	t->next_waiting = t->w->waiting;
	t->w->waiting = t;
}

static void unpark(struct txn *t)
{
	t->parked = 0;
	for (struct txn **pp = &t->w->waiting; *pp; pp = &(*pp)->next_waiting) {
		if (*pp == t) {
			*pp = t->next_waiting;
			break;
		}
	}
	t->next_waiting = NULL;
}

static void finish_response(struct txn *t)
{
	t->state = FINISH;
	int rc = wd_run_finish(t->run, &t->x);
	if (rc == WD_AGAIN) {
		park(t);
		return;
	}
	settle_response(t);
}

/* Takes the transfer off the multi handle (keeping the easy handle for reuse) and off the idle
 * list. */
static void detach_upstream(struct txn *t)
{
	struct worker *w = t->w;
	if (!t->easy)
		return;
	curl_multi_remove_handle(w->multi, t->easy);
	if (w->nspare < (int)(sizeof w->spare / sizeof w->spare[0])) {
		curl_easy_reset(t->easy);
		w->spare[w->nspare++] = t->easy;
	} else {
		curl_easy_cleanup(t->easy);
	}
	t->easy = NULL;
	if (t->up_prev)
		t->up_prev->up_next = t->up_next;
	else if (w->upstream == t)
		w->upstream = t->up_next;
	if (t->up_next)
		t->up_next->up_prev = t->up_prev;
	t->up_prev = t->up_next = NULL;
}

/* A suspended MHD connection does not notice its client leaving, so while warden waits (on a
 * checker or the upstream) it watches the socket for a hang-up itself. */
static void watch_client(struct txn *t)
{
	if (t->client_fd >= 0)
		return;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(t->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	struct epoll_event ev = {.events = EPOLLRDHUP, .data.ptr = t};
	if (epoll_ctl(t->w->epfd, EPOLL_CTL_ADD, ci->connect_fd, &ev) == 0)
		t->client_fd = ci->connect_fd;
}

static void unwatch_client(struct txn *t)
{
	if (t->client_fd >= 0)
		epoll_ctl(t->w->epfd, EPOLL_CTL_DEL, t->client_fd, NULL);
	t->client_fd = -1;
}

static void unpark(struct txn *t);
static void upstream_done(struct txn *t, CURLcode res);

/* The client hung up: stop the upstream transfer and let MHD close the connection. */
static void client_gone(struct txn *t)
{
	if (t->client_gone)
		return;
	t->client_gone = 1;
	wd_info(t->request_id, "client hung up; upstream transfer stopped");
	unwatch_client(t);
	detach_upstream(t);
	unpark(t);
	t->aborted = 1;
	t->state = DONE;
	resume(t);
}

/* Ends transfers whose upstream has sent nothing for upstream.idle_timeout_ms. */
static void expire_idle(struct worker *w)
{
	int64_t now = now_us();
	int64_t idle = (int64_t)w->p->s->upstream_idle_timeout_ms * 1000;
	for (struct txn *t = w->upstream, *next; t; t = next) {
		next = t->up_next;
		if (!t->paused &&
		    now - t->last_upstream_us >= idle) { /* paused: our client is slow */
			wd_warn(t->request_id, "upstream sent nothing for %ld ms",
			        w->p->s->upstream_idle_timeout_ms);
			upstream_done(t, CURLE_OPERATION_TIMEDOUT);
		}
	}
	w->next_idle_check_us = now + (idle < 200000 ? idle / 4 : 50000);
}

/* curl finished the transfer (success, error, or our own abort). */
static void upstream_done(struct txn *t, CURLcode res)
{

	t->curl_result = res;
	detach_upstream(t);
	if (!t->mode && t->headers_done && res == CURLE_OK)
		begin_body(t); /* a response with an empty body */
	if (res == CURLE_OK || t->aborted)
		wd_histogram_observe(&wd_metrics.upstream_latency,
		                     (uint64_t)(now_us() - t->upstream_t0_us));
	if (t->mode == BODY_SSE) {
		if (t->blocked)
			return; /* stop_stream finishes it once the incident is committed */
		if (t->stream_error || (res != CURLE_OK && !t->aborted)) {
			wd_metrics.upstream_errors[2]++;
		} else if (wd_sse_end(&t->sse) != WD_OK) {
			wd_warn(t->request_id, "upstream stream ended inside an event");
		}
		finish_response(t);
		return;
	}
	if (t->mode == BODY_RAW) {
		commit_then(t, end_stream);
		return;
	}
	/* nothing sent yet */
	if (t->too_big) {
		respond_error(t, 502, "upstream response exceeds limits.max_response_bytes",
		              "upstream_error", "response_too_large");
		return;
	}
	if (res != CURLE_OK) {
		char msg[300];
		int timeout = res == CURLE_OPERATION_TIMEDOUT;
		snprintf(msg, sizeof msg, "upstream %s: %s", timeout ? "timed out" : "unreachable",
		         curl_easy_strerror(res));
		wd_warn(t->request_id, "%s", msg);
		wd_metrics.upstream_errors[timeout ? 1 : 0]++;
		respond_error(t, timeout ? 504 : 502, msg, "upstream_error",
		              timeout ? "upstream_timeout" : "upstream_unreachable");
		return;
	}
	if (t->mode != BODY_BUFFERED) { /* no headers came, or the answer could not start */
		respond_error(t, 502, "the upstream answer could not be relayed", "upstream_error",
		              "upstream_incomplete");
		return;
	}
	/* BUFFERED: parse and check the whole answer */
	char err[200];
	if (wd_exchange_parse_response(&t->x, t->resp.data ? t->resp.data : "", t->resp.len, err,
	                               sizeof err) != WD_OK) {
		wd_warn(t->request_id, "upstream answer is not JSON: %s", err);
		/* Unparseable text is still text: check it as one raw message. */
	}
	finish_response(t);
}

static void start_upstream(struct txn *t)
{
	struct worker *w = t->w;
	const struct wd_proxy *p = w->p;
	const struct wd_settings *s = p->s;
	t->state = UPSTREAM;
	wd_buf_init(&t->resp, s->max_response_bytes);
	CURL *e = w->nspare ? w->spare[--w->nspare] : curl_easy_init();
	if (!e) {
		respond_error(t, 500, "cannot create upstream transfer", "server_error", NULL);
		return;
	}
	t->easy = e;
	curl_easy_setopt(e, CURLOPT_URL, t->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->req_headers);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, s->upstream_connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, s->upstream_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (strcmp(t->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(t->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method);
		if (strcmp(t->method, "HEAD") == 0)
			curl_easy_setopt(e, CURLOPT_NOBODY, 1L); /* no body will follow */
		if (strcmp(t->method, "POST") == 0 || t->body.len) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.data ? t->body.data : "");
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->body.len);
		}
	}
	if (curl_multi_add_handle(w->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		t->easy = NULL;
		respond_error(t, 500, "cannot start upstream transfer", "server_error", NULL);
		return;
	}
	t->last_upstream_us = t->upstream_t0_us = now_us();
	t->up_next = w->upstream;
	if (w->upstream)
		w->upstream->up_prev = t;
	w->upstream = t;
	watch_client(t);
	suspend(t);
}

/* The request phase is decided: block, or go upstream. */
static void after_request_phase(struct txn *t)
{
	enum wd_action a = t->run ? wd_run_action(t->run, NULL) : WD_ALLOW;
	if (a == WD_BLOCK) {
		respond_blocked_request(t);
		return;
	}
	if (a == WD_REDACT && t->parsed)
		redact_exchange(t, 0, &t->body); /* the upstream gets the masked request */
	start_upstream(t);
}

/* ---- MHD content reader: streamed bodies ---- */

static ssize_t read_out(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct txn *t = cls;
	if (t->out.len) {
		size_t n = t->out.len < max ? t->out.len : max;
		memcpy(buf, t->out.data, n);
		wd_buf_consume(&t->out, n);
		if (t->paused && t->out.len < OUT_HIGH_WATER / 2 && t->easy) {
			t->paused = 0;
			t->last_upstream_us = now_us();
			curl_easy_pause(t->easy, CURLPAUSE_CONT);
		}
		return (ssize_t)n;
	}
	if (t->state == DONE)
		return t->mode == BODY_RAW && t->curl_result != CURLE_OK
		           ? MHD_CONTENT_READER_END_WITH_ERROR /* the client must see it was cut */
		           : MHD_CONTENT_READER_END_OF_STREAM;
	t->waiting_data = 1;
	suspend(t);
	t->waiting_data = 1;
	return 0;
}

/* ---- MHD access handler ---- */

struct hdr_ctx {
	struct txn *t;
	const struct wd_proxy *p;
	int failed;
};

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
	struct hdr_ctx *h = cls;
	if (is_hop_header(key))
		return MHD_YES;
	if (strcasecmp(key, "authorization") == 0 && h->p->auth_header)
		return MHD_YES; /* replaced by the configured upstream key */
	size_t n = strlen(key) + strlen(value) + 3;
	char *line = malloc(n);
	if (!line) {
		h->failed = 1;
		return MHD_NO;
	}
	snprintf(line, n, "%s: %s", key, value);
	struct curl_slist *l = curl_slist_append(h->t->req_headers, line);
	free(line);
	if (!l) {
		h->failed = 1;
		return MHD_NO;
	}
	h->t->req_headers = l;
	return MHD_YES;
}

static void wake_txn(void *arg);

static int prepare(struct txn *t, const char *url)
{
	const struct wd_proxy *p = t->w->p;
	size_t n = strlen(p->upstream_base) + strlen(url) + 1;
	t->url = malloc(n);
	if (!t->url)
		return WD_ENOMEM;
	snprintf(t->url, n, "%s%s", p->upstream_base, url);
	struct hdr_ctx h = {t, p, 0};
	MHD_get_connection_values(t->conn, MHD_HEADER_KIND, copy_header, &h);
	if (h.failed)
		return WD_ENOMEM;
	struct curl_slist *l = t->req_headers;
	if (p->auth_header)
		l = curl_slist_append(l, p->auth_header);
	if (l)
		l = curl_slist_append(l, "Expect:");
	if (!l)
		return WD_ENOMEM;
	t->req_headers = l;
	return WD_OK;
}

/* MHD strips the query string from url; rebuild it for the upstream. */
static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
	struct wd_buf *b = cls;
	char *k = curl_easy_escape(NULL, key, 0);
	char *v = value ? curl_easy_escape(NULL, value, 0) : NULL;
	wd_buf_printf(b, "%c%s%s%s", b->len ? '&' : '?', k ? k : "", v ? "=" : "", v ? v : "");
	curl_free(k);
	curl_free(v);
	return MHD_YES;
}

/* The first 16 hex digits of SHA-256 of the client's API key (the Authorization credential),
 * so incidents can be grouped per key without the key ever being kept. */
static void key_hash(struct MHD_Connection *conn, char out[17])
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	out[0] = '\0';
	if (!auth || !*auth)
		return;
	if (strncasecmp(auth, "Bearer ", 7) == 0)
		auth += 7;
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)auth, strlen(auth), md);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct worker *w = cls;
	const struct wd_proxy *p = w->p;
	struct txn *t = *con_cls;
	if (!t) {
		t = calloc(1, sizeof *t);
		if (!t)
			return MHD_NO;
		*con_cls = t;
		t->w = w;
		t->conn = conn;
		t->client_fd = -1;
		t->all_next = w->all;
		if (w->all)
			w->all->all_prev = t;
		w->all = t;
		t->t0_us = now_us();
		w->active++;
		new_request_id(w, t->request_id, sizeof t->request_id);
		snprintf(t->method, sizeof t->method, "%s", method);
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr) {
			const struct sockaddr *sa = ci->client_addr;
			if (sa->sa_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
				          t->client_addr, sizeof t->client_addr);
			else if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
				          t->client_addr, sizeof t->client_addr);
		}
		char norm[2048];
		if (normalise_path(url, norm, sizeof norm)) {
			respond_error(t, 414, "request path too long", "invalid_request_error",
			              "path_too_long");
			return MHD_YES;
		}
		t->route = wd_route_of(method, norm);
		key_hash(conn, t->key_hash);
		size_t limit =
		    t->route == WD_ROUTE_FILES ? p->s->max_upload_bytes : p->s->max_body_bytes;
		wd_buf_init(&t->body, limit);
		if (t->route == WD_ROUTE__COUNT) {
			char msg[300];
			snprintf(msg, sizeof msg,
			         "unknown path %.200s: warden proxies the OpenAI API under /v1/",
			         url);
			respond_error(t, 404, msg, "invalid_request_error", "not_found");
			return MHD_YES;
		}
		const char *cl =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > limit) {
			char msg[200];
			snprintf(msg, sizeof msg,
			         "request body of %s bytes exceeds the limit of %zu bytes", cl,
			         limit);
			respond_error(t, 413, msg, "invalid_request_error", "request_too_large");
			t->too_big = 1;
			return MHD_YES;
		}
		t->checked_route = t->route == WD_ROUTE_CHAT || t->route == WD_ROUTE_COMPLETIONS ||
		                   t->route == WD_ROUTE_RESPONSES;
		return MHD_YES;
	}
	if (t->client_gone)
		return MHD_NO; /* close the connection */
	if (t->state != RECEIVE) {
		*upload_data_size =
		    0; /* resumed after a response was queued, or a discarded body */
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!t->too_big && wd_buf_append(&t->body, upload_data, *upload_data_size))
			t->too_big = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (t->responded)
		return MHD_YES;
	/* the whole request is in */
	if (t->too_big) {
		char msg[200];
		snprintf(msg, sizeof msg, "request body exceeds the limit of %zu bytes",
		         t->body.max);
		respond_error(t, 413, msg, "invalid_request_error", "request_too_large");
		return MHD_YES;
	}
	struct wd_buf path;
	char norm[2048];
	wd_buf_init(&path, 8192);
	if (normalise_path(url, norm, sizeof norm) == WD_OK)
		wd_buf_appendz(&path, norm);
	struct wd_buf args;
	wd_buf_init(&args, 8192);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, &args);
	if (args.len)
		wd_buf_append(&path, args.data, args.len);
	wd_buf_free(&args);
	int rc = prepare(t, path.data ? path.data : url);
	wd_buf_free(&path);
	if (rc) {
		respond_error(t, 500, "out of memory", "server_error", NULL);
		return MHD_YES;
	}
	int parse = t->route <= WD_ROUTE_MODERATIONS && strcmp(method, "POST") == 0;
	if (parse) {
		char err[300];
		if (wd_exchange_parse_request(&t->x, t->route, t->body.data ? t->body.data : "",
		                              t->body.len, err, sizeof err) != WD_OK) {
			respond_error(t, 400, err, "invalid_request_error", "invalid_request");
			return MHD_YES;
		}
		t->parsed = 1;
	}
	t->run = wd_run_new(p->ch, t->request_id, wake_txn, t);
	if (!t->run) {
		respond_error(t, 500, "out of memory", "server_error", NULL);
		return MHD_YES;
	}
	t->state = CHECK;
	if (parse && wd_chain_has_phase(p->ch, WD_PHASE_REQUEST)) {
		rc = wd_run_request(t->run, WD_PHASE_REQUEST, &t->x);
		if (rc == WD_AGAIN) {
			park(t);
			watch_client(t);
			suspend(t);
			return MHD_YES;
		}
	}
	after_request_phase(t);
	return MHD_YES;
}

static void free_txn(struct txn *t)
{
	struct worker *w = t->w;
	if (t->all_prev)
		t->all_prev->all_next = t->all_next;
	else
		w->all = t->all_next;
	if (t->all_next)
		t->all_next->all_prev = t->all_prev;
	unpark(t);
	unwatch_client(t);
	detach_upstream(t);
	/* the run's release() fences async wakes; then no stale pointer can be queued */
	wd_run_free(t->run);
	pthread_mutex_lock(&w->qlock);
	for (size_t i = 0; i < w->nwake; i++) {
		if (w->wakeq[i].t == t)
			w->wakeq[i].t = NULL;
	}
	pthread_mutex_unlock(&w->qlock);
	if (t->staged)
		MHD_destroy_response(t->staged);
	curl_slist_free_all(t->req_headers);
	for (size_t i = 0; i < t->nhdrs; i++) {
		free(t->hdrs[i].name);
		free(t->hdrs[i].value);
	}
	free(t->hdrs);
	free(t->url);
	free(t->stream_id);
	free(t->stream_model);
	wd_exchange_free(&t->x);
	wd_buf_free(&t->body);
	wd_buf_free(&t->resp);
	wd_buf_free(&t->out);
	if (t->mode == BODY_SSE)
		wd_sse_free(&t->sse);
	wd_holdq_free(t->hq);
	w->active--;
	free(t);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct txn *t = *con_cls;
	if (!t)
		return;
	double ms = (double)(now_us() - t->t0_us) / 1000.0;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		wd_info(t->request_id, "%s %s client went away after %.1f ms", t->method,
		        wd_route_name(t->route < WD_ROUTE__COUNT ? t->route : WD_ROUTE_OTHER), ms);
	wd_info(t->request_id, "%s %s %d model=%s %.1f ms", t->method,
	        t->route < WD_ROUTE__COUNT ? wd_route_name(t->route) : "-", t->status_sent,
	        t->x.model ? t->x.model : "-", ms);
	enum wd_action a = t->run ? wd_run_action(t->run, NULL) : WD_ALLOW;
	wd_metrics_request((int)t->route,
	                   t->status_sent >= 500 ? WD_V_ERROR : (enum wd_verdict_label)a);
	*con_cls = NULL;
	/* the connection is gone: nothing more may touch it, its socket or its upstream */
	unwatch_client(t);
	unpark(t);
	detach_upstream(t);
	t->state = DONE;
	t->conn = NULL;
	t->suspended = 0;
	commit_then(t, NULL); /* what is left, e.g. a stream cut short by its client */
	if (t->commit_pending) {
		t->orphan = 1; /* freed when the commit lands */
		return;
	}
	free_txn(t);
}

/* ---- async checker wakes ---- */

/* Hands a transaction back to its I/O thread (from any thread). */
static void post_wake(struct txn *t, enum wake_kind kind)
{
	struct worker *w = t->w;
	pthread_mutex_lock(&w->qlock);
	if (w->nwake == w->capwake) {
		size_t cap = w->capwake ? w->capwake * 2 : 16;
		struct wake *q = realloc(w->wakeq, cap * sizeof *q);
		if (q) {
			w->wakeq = q;
			w->capwake = cap;
		}
	}
	if (w->nwake < w->capwake)
		w->wakeq[w->nwake++] = (struct wake){t, kind};
	pthread_mutex_unlock(&w->qlock);
	uint64_t one = 1;
	ssize_t r = write(w->evfd, &one, sizeof one);
	(void)r;
}

/* Called by wd_check_wake from any thread. */
static void wake_txn(void *arg)
{
	post_wake(arg, WAKE_CHECKER);
}

/* Called by the store's writer thread once the incidents are durable (or lost). */
static void on_committed(void *arg, int rc)
{
	struct txn *t = arg;
	if (rc)
		wd_error(t->request_id, "incidents could not be written: %s", wd_strerror(rc));
	post_wake(t, WAKE_COMMITTED);
}

/* A parked transaction's checker answered or timed out: continue its phase. */
static void continue_txn(struct txn *t, int expired)
{
	if (!t->parked)
		return; /* a stale or repeated wake: the phase already moved on */
	int rc = expired ? wd_run_expire(t->run) : wd_run_resume(t->run);
	if (rc == WD_AGAIN)
		return;
	unpark(t);
	if (t->state == CHECK)
		after_request_phase(t);
	else if (t->state == FINISH)
		settle_response(t);
}

static void drain_wakes(struct worker *w)
{
	uint64_t v;
	ssize_t r = read(w->evfd, &v, sizeof v);
	(void)r;
	for (;;) {
		pthread_mutex_lock(&w->qlock);
		if (!w->nwake) {
			pthread_mutex_unlock(&w->qlock);
			break;
		}
		struct wake wk = w->wakeq[--w->nwake];
		pthread_mutex_unlock(&w->qlock);
		if (!wk.t)
			continue; /* its transaction was freed */
		if (wk.kind == WAKE_CHECKER) {
			continue_txn(wk.t, 0);
			continue;
		}
		w->commits--;
		if (--wk.t->commit_pending == 0) {
			if (wk.t->orphan)
				free_txn(wk.t);
			else if (wk.t->after_commit)
				wk.t->after_commit(wk.t);
		}
	}
}

static long expire_checks(struct worker *w)
{
	long next = -1;
	for (struct txn *t = w->waiting, *nx; t; t = nx) {
		nx = t->next_waiting;
		long ms = wd_run_deadline_ms(t->run);
		if (ms == 0) {
			continue_txn(t, 1);
			ms = wd_run_deadline_ms(t->run);
		}
		if (ms >= 0 && (next < 0 || ms < next))
			next = ms;
	}
	return next;
}

/* ---- curl multi on our epoll ---- */

static int on_curl_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct worker *w = userp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(w->multi, s, NULL);
		return 0;
	}
	struct epoll_event ev = {.data.u64 = CURL_DATA(s)};
	if (what & CURL_POLL_IN)
		ev.events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev.events |= EPOLLOUT;
	if (socketp) {
		epoll_ctl(w->epfd, EPOLL_CTL_MOD, s, &ev);
	} else {
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, s, &ev) != 0 && errno == EEXIST)
			epoll_ctl(w->epfd, EPOLL_CTL_MOD, s, &ev);
		curl_multi_assign(w->multi, s, w); /* non-NULL: "registered" */
	}
	return 0;
}

static int on_curl_timer(CURLM *m, long ms, void *userp)
{
	struct worker *w = userp;
	w->curl_deadline_us = ms < 0 ? -1 : now_us() + (int64_t)ms * 1000;
	return 0;
}

static void check_curl_done(struct worker *w)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(w->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct txn *t = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		CURLcode res = m->data.result;
		if (t)
			upstream_done(t, res);
	}
}

/* ---- the I/O thread ---- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct wd_proxy *p = w->p;
	struct epoll_event evs[64];
	int quiesced = 0;
	int64_t drain_deadline = 0;
	for (;;) {
		if (atomic_load(&p->stopping)) {
			if (!quiesced) {
				MHD_socket ls = MHD_quiesce_daemon(w->mhd);
				if (ls != MHD_INVALID_SOCKET)
					close(ls);
				quiesced = 1;
				drain_deadline =
				    now_us() + (int64_t)atomic_load(&p->stopping) * 1000;
			}
			if (w->active == 0 || now_us() > drain_deadline)
				break;
		}
		long timeout = 100; /* also bounds how late a stop request is seen */
		MHD_UNSIGNED_LONG_LONG mt;
		int64_t mhd_deadline = -1;
		if (MHD_get_timeout(w->mhd, &mt) == MHD_YES) {
			if ((long long)mt < timeout)
				timeout = (long)mt;
			mhd_deadline = now_us() + (int64_t)mt * 1000;
		}
		if (w->curl_deadline_us >= 0) {
			int64_t ct = (w->curl_deadline_us - now_us() + 999) / 1000;
			if (ct < timeout)
				timeout = ct < 0 ? 0 : (long)ct;
		}
		if (w->waiting) {
			long ct = expire_checks(w);
			if (ct >= 0 && ct < timeout)
				timeout = ct;
		}
		int n = epoll_wait(w->epfd, evs, 64, (int)timeout);
		int running;
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;
			if (tag == TAG_MHD) {
				w->mhd_due = 1; /* MHD_run below */
				continue;
			}
			if (tag == TAG_WAKE) {
				drain_wakes(w);
				continue;
			}
			if ((tag & 3) == 0) {
				client_gone(evs[i].data.ptr);
				continue;
			}
			int fd = (int)(tag >> 2);
			int flags = 0;
			if (evs[i].events & EPOLLIN)
				flags |= CURL_CSELECT_IN;
			if (evs[i].events & EPOLLOUT)
				flags |= CURL_CSELECT_OUT;
			if (evs[i].events & (EPOLLERR | EPOLLHUP))
				flags |= CURL_CSELECT_ERR;
			curl_multi_socket_action(w->multi, fd, flags, &running);
		}
		if (w->curl_deadline_us >= 0 && now_us() >= w->curl_deadline_us) {
			w->curl_deadline_us = -1;
			curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		}
		check_curl_done(w);
		if (w->upstream && now_us() >= w->next_idle_check_us)
			expire_idle(w);
		/* MHD_run costs a system call: only when MHD has something to do */
		if (w->mhd_due || (mhd_deadline >= 0 && now_us() >= mhd_deadline) ||
		    atomic_load(&p->stopping)) {
			w->mhd_due = 0;
			MHD_run(w->mhd);
		}
	}
	return NULL;
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	wd_debug(NULL, "http: %s", msg);
}

static int start_worker(struct wd_proxy *p, struct worker *w, char *err, size_t errlen)
{
	w->p = p;
	w->curl_deadline_us = -1;
	pthread_mutex_init(&w->qlock, NULL);
	if (getrandom(&w->rng, sizeof w->rng, 0) != sizeof w->rng || !w->rng)
		w->rng = (uint64_t)now_us() | 1;
	w->listen_fd = wd_listen_socket(p->s->listen, 1, err, errlen);
	if (w->listen_fd < 0)
		return WD_EIO;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->mhd = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO | MHD_USE_ERROR_LOG, 0, NULL,
	    NULL, on_request, w, MHD_OPTION_LISTEN_SOCKET, w->listen_fd,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)120, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!w->mhd || w->epfd < 0 || w->evfd < 0) {
		snprintf(err, errlen, "cannot start the HTTP server on %s", p->s->listen);
		return WD_EIO;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	w->mhd_fd = di->epoll_fd;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_MHD};
	epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->mhd_fd, &ev);
	ev.data.u64 = TAG_WAKE;
	epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev);
	w->multi = curl_multi_init();
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, 256L);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		snprintf(err, errlen, "cannot start an I/O thread");
		return WD_EIO;
	}
	return WD_OK;
}

int wd_proxy_start(const struct wd_settings *s, const struct wd_chain *ch, struct wd_store *st,
                   struct wd_proxy **out, char *err, size_t errlen)
{
	struct wd_proxy *p = calloc(1, sizeof *p);
	if (!p)
		return WD_ENOMEM;
	p->s = s;
	p->ch = ch;
	p->store = st;
	p->upstream_base = strdup(s->upstream_url);
	size_t bl = strlen(p->upstream_base);
	if (bl >= 3 && strcmp(p->upstream_base + bl - 3, "/v1") == 0)
		p->upstream_base[bl - 3] = '\0';
	if (s->upstream_api_key) {
		size_t n = strlen(s->upstream_api_key) + 32;
		p->auth_header = malloc(n);
		snprintf(p->auth_header, n, "Authorization: Bearer %s", s->upstream_api_key);
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	p->nw = s->threads > 0 ? s->threads : (int)(ncpu > 0 ? ncpu : 1);
	p->w = calloc((size_t)p->nw, sizeof *p->w);
	for (int i = 0; i < p->nw; i++) {
		int rc = start_worker(p, &p->w[i], err, errlen);
		if (rc) {
			p->nw = i + 1;
			atomic_store(&p->stopping, 1);
			wd_proxy_stop(p, 0);
			return rc;
		}
	}
	*out = p;
	return WD_OK;
}

void wd_proxy_stop(struct wd_proxy *p, long drain_ms)
{
	if (!p)
		return;
	atomic_store(&p->stopping, drain_ms > 0 ? (int)drain_ms : 1);
	for (int i = 0; i < p->nw; i++) {
		struct worker *w = &p->w[i];
		if (w->thread)
			pthread_join(w->thread, NULL);
		if (w->mhd) {
			/* What is still in flight after the drain is cut off. MHD may not be
			 * stopped with suspended connections: resume them as gone, so it closes
			 * them. */
			for (struct txn *t = w->all; t; t = t->all_next) {
				t->client_gone = 1;
				resume(t);
			}
			MHD_stop_daemon(w->mhd); /* on_completed for each: freed, or orphaned */
			/* orphans wait for their commits: the store's callbacks still reach us */
			for (int tries = 0; w->commits > 0 && tries < 100; tries++) {
				struct pollfd pfd = {.fd = w->evfd, .events = POLLIN};
				if (poll(&pfd, 1, 100) > 0)
					drain_wakes(w);
			}
		} else if (w->listen_fd >= 0) {
			close(w->listen_fd);
		}
		while (w->nspare)
			curl_easy_cleanup(w->spare[--w->nspare]);
		if (w->multi)
			curl_multi_cleanup(w->multi);
		if (w->epfd > 0)
			close(w->epfd);
		if (w->evfd > 0)
			close(w->evfd);
		free(w->wakeq);
		pthread_mutex_destroy(&w->qlock);
	}
	free(p->w);
	free(p->upstream_base);
	free(p->auth_header);
	free(p);
}
