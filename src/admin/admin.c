/* admin.c — the admin listener (libmicrohttpd, its own polling thread and a pool of two): health,
 * the incident REST API under /api/v1/, Prometheus metrics and the embedded dashboard; see
 * admin.h.
 *
 * Requests are routed through one table (path, handlers per method, whether the bearer token and
 * the store are needed); query parameters through another (name, kind, where the value goes,
 * which endpoints take it), so an unknown or malformed parameter is refused with its name. Every
 * error is an OpenAI-style {"error": {...}} body. Refusals (404, 401, 405, 413, 503) are answered
 * from the headers alone, before any body is read. The export streams: its response callback
 * pages through the store 1000 incidents at a time and hands MHD one JSON line at a time. */
#include "admin/admin.h"

#include <inttypes.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "admin/metrics.h"
#include "core/buf.h"
#include "core/embed.h"
#include "core/err.h"
#include "core/log.h"
#include "http/proxy.h"

#define MAX_PATCH_BODY   (64 * 1024)
#define MAX_NOTE         4096
#define MAX_PARAM_LEN    1024
#define MAX_BUCKETS      10000 /* points in one stats series */
#define EXPORT_PAGE      1000
#define EXPORT_BLOCK     (64 * 1024)
#define MAX_METRICS      (16 * 1024 * 1024)
#define DEFAULT_LIMIT    50
#define DEFAULT_STATS_MS (24 * 3600 * 1000LL)

/* The dashboard loads only its own files; it needs no inline script or style. */
#define CSP                                                                              \
	"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; " \
	"frame-ancestors 'none'; form-action 'self'"

struct wd_admin {
	struct MHD_Daemon *mhd;
	const struct wd_settings *s;
	struct wd_store *st;
	const struct wd_chain *ch;
	atomic_int ready;
};

/* A refusal on its way to the client. */
struct fail {
	unsigned status;
	const char *code;
	const char *param;
	char msg[512];
};

enum method { M_GET, M_PATCH, M__COUNT };

struct call;
typedef enum MHD_Result (*handler_fn)(struct call *k);

enum { F_AUTH = 1, F_STORE = 2 }; /* needs the bearer token (when set), needs the store */

struct route {
	const char *path;
	int prefix; /* path ends in '/' and matches anything below it */
	unsigned flags;
	handler_fn fn[M__COUNT]; /* NULL: method not allowed */
};

/* One request, kept across MHD's calls for it. */
struct req {
	const struct route *rt;
	enum method m;
	int answered; /* a response is queued: drop any body */
	int too_big;
	struct wd_buf body;
};

struct call {
	struct wd_admin *a;
	struct MHD_Connection *c;
	struct req *rq;
	const char *rest; /* the url below a prefix route */
};

/* ---- responses ---- */

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
	if (!r)
		return MHD_NO;
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Takes the JSON reference. */
static enum MHD_Result send_json_h(struct MHD_Connection *c, unsigned status, json_t *j,
                                   const char *hname, const char *hvalue)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		return MHD_NO;
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (hname)
		MHD_add_response_header(r, hname, hvalue);
	return queue(c, status, r);
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	return send_json_h(c, status, j, NULL, NULL);
}

static json_t *error_body(const struct fail *f, const char *msg)
{
	const char *type = f->status >= 500 ? "server_error" : "invalid_request_error";
	return json_pack("{s:{s:s,s:s,s:s,s:s?}}", "error", "message", msg, "type", type, "code",
	                 f->code, "param", f->param);
}

static enum MHD_Result send_fail_h(struct MHD_Connection *c, const struct fail *f,
                                   const char *hname, const char *hvalue)
{
	json_t *j = error_body(f, f->msg);
	if (!j) { /* a quoted value that is not UTF-8 (or was cut inside a character) */
		char ascii[sizeof f->msg];
		size_t i;
		for (i = 0; i < sizeof ascii - 1 && f->msg[i]; i++)
			ascii[i] = (unsigned char)f->msg[i] < 0x80 ? f->msg[i] : '?';
		ascii[i] = '\0';
		j = error_body(f, ascii);
	}
	return send_json_h(c, f->status, j, hname, hvalue);
}

static enum MHD_Result send_fail(struct MHD_Connection *c, const struct fail *f)
{
	return send_fail_h(c, f, NULL, NULL);
}

static void set_fail(struct fail *f, unsigned status, const char *code, const char *param,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void set_fail(struct fail *f, unsigned status, const char *code, const char *param,
                     const char *fmt, ...)
{
	va_list ap;
	f->status = status;
	f->code = code;
	f->param = param;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof f->msg, fmt, ap);
	va_end(ap);
}

static enum MHD_Result fail_now(struct MHD_Connection *c, unsigned status, const char *code,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result fail_now(struct MHD_Connection *c, unsigned status, const char *code,
                                const char *fmt, ...)
{
	struct fail f = {status, code, NULL, ""};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f.msg, sizeof f.msg, fmt, ap);
	va_end(ap);
	return send_fail(c, &f);
}

/* A store call failed: 404 for a missing row, 400 for what the store calls bad input. */
static enum MHD_Result store_fail(struct MHD_Connection *c, const char *what, int rc,
                                  const char *detail)
{
	if (rc == WD_ENOTFOUND)
		return fail_now(c, MHD_HTTP_NOT_FOUND, "not_found", "%s", detail);
	if (rc == WD_EINVAL)
		return fail_now(c, MHD_HTTP_BAD_REQUEST, "invalid_parameter", "%s", detail);
	wd_warn(NULL, "admin: %s failed: %s", what, wd_strerror(rc));
	return fail_now(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store_error", "%s",
	                "the incident store failed; see warden's log");
}

static enum MHD_Result redirect(struct MHD_Connection *c, unsigned status, const char *to)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, to);
	return queue(c, status, r);
}

/* ---- query parameters ---- */

enum { Q_LIST = 1, Q_EXPORT = 2, Q_STATS = 4 };
enum pkind { P_STR, P_TIME, P_LIMIT, P_TOTAL, P_CURSOR, P_ACTION, P_REVIEW, P_BUCKET, P_FORMAT };

/* What the query string of any endpoint can set. */
struct query {
	struct wd_incident_filter f;
	int64_t total; /* export: most lines to write (its limit); 0: all */
	int bucket_s;
	const char *format;
	unsigned seen; /* bit i: params[i] was given */
};

struct param {
	const char *name;
	enum pkind kind;
	size_t off; /* into struct query */
	unsigned endpoints;
};

#define QOFF(field) offsetof(struct query, field)
#define Q_FILTER    (Q_LIST | Q_EXPORT)
static const struct param params[] = {
    {"since", P_TIME, QOFF(f.since_ms), Q_FILTER | Q_STATS},
    {"until", P_TIME, QOFF(f.until_ms), Q_FILTER | Q_STATS},
    {"checker", P_STR, QOFF(f.checker), Q_FILTER},
    {"category", P_STR, QOFF(f.category), Q_FILTER},
    {"action", P_ACTION, QOFF(f.action), Q_FILTER},
    {"model", P_STR, QOFF(f.model), Q_FILTER},
    {"key_hash", P_STR, QOFF(f.key_hash), Q_FILTER},
    {"request_id", P_STR, QOFF(f.request_id), Q_FILTER},
    {"q", P_STR, QOFF(f.q), Q_FILTER},
    {"review_status", P_REVIEW, QOFF(f.review_status), Q_FILTER},
    {"limit", P_LIMIT, QOFF(f.limit), Q_LIST},
    {"limit", P_TOTAL, QOFF(total), Q_EXPORT}, /* the export pages by itself */
    {"cursor", P_CURSOR, QOFF(f.cursor), Q_FILTER},
    {"bucket", P_BUCKET, QOFF(bucket_s), Q_STATS},
    {"format", P_FORMAT, QOFF(format), Q_EXPORT},
};
#define NPARAMS (sizeof params / sizeof params[0])

static const char *const action_values[] = {"flag",       "redact",       "block",
                                            "would_flag", "would_redact", "would_block",
                                            "error",      "timeout",      NULL};
static const char *const review_values[] = {"open", "confirmed", "false_positive", NULL};

static const struct {
	const char *name;
	int seconds;
} bucket_sizes[] = {{"minute", 60}, {"hour", 3600}, {"day", 86400}};

static int one_of(const char *v, const char *const *set)
{
	for (size_t i = 0; set[i]; i++)
		if (strcmp(v, set[i]) == 0)
			return 1;
	return 0;
}

static void join(char *out, size_t len, const char *const *set)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; set[i] && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%s", i ? ", " : "", set[i]);
}

/* Reads exactly n digits. */
static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Up to three digits of a fraction of a second as milliseconds; skips the rest. */
static const char *fraction_ms(const char *p, int64_t *ms)
{
	int64_t v = 0, scale = 100;
	if (*p < '0' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v += (*p - '0') * scale;
		scale /= 10;
	}
	*ms = v;
	return p;
}

/* Unix seconds ("1764320400", "1764320400.250") or RFC 3339 ("2026-11-28T09:00:00Z",
 * "2026-11-28T09:00:00.5+01:00") to unix milliseconds. */
static int parse_time(const char *s, int64_t *out)
{
	int64_t frac = 0;
	size_t nd = strspn(s, "0123456789");
	if (nd > 0 && nd <= 12 && (s[nd] == '\0' || s[nd] == '.')) {
		char *end;
		long long secs = strtoll(s, &end, 10);
		const char *p = end;
		if (*p == '.' && !(p = fraction_ms(p + 1, &frac)))
			return -1;
		if (*p)
			return -1;
		*out = secs * 1000 + frac;
		return 0;
	}
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) || !strchr("Tt ", s[10]) || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	const char *p = s + 19;
	if (*p == '.' && !(p = fraction_ms(p + 1, &frac)))
		return -1;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return -1;
		p += 6;
	} else {
		return -1;
	}
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (*p || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 60)
		return -1;
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = d,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = sec};
	time_t t = timegm(&tm);
	*out = ((int64_t)t - sign * (oh * 3600 + om * 60)) * 1000 + frac;
	return 0;
}

static int parse_int(const char *v, long long min, long long max, long long *out)
{
	char *end;
	if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 18)
		return -1;
	long long n = strtoll(v, &end, 10);
	if (*end || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* Sets the parameter from its text; on a bad value fills f. */
static int set_param(const struct param *p, const char *v, struct query *q, struct fail *f)
{
	char *at = (char *)q + p->off;
	char known[160];
	long long n;
	const char *pn = p->name;
	switch (p->kind) {
	case P_STR: *(const char **)at = v; return 0;
	case P_ACTION:
	case P_REVIEW: {
		const char *const *set = p->kind == P_ACTION ? action_values : review_values;
		if (one_of(v, set)) {
			*(const char **)at = v;
			return 0;
		}
		join(known, sizeof known, set);
		set_fail(f, 400, "invalid_parameter", pn, "%s: unknown value \"%.64s\" (known: %s)",
		         pn, v, known);
		return -1;
	}
	case P_TIME:
		if (parse_time(v, (int64_t *)(void *)at) == 0)
			return 0;
		set_fail(f, 400, "invalid_parameter", pn,
		         "%s: not an RFC 3339 time or unix seconds: \"%.64s\"", pn, v);
		return -1;
	case P_LIMIT:
		if (parse_int(v, 1, 1000, &n) == 0) {
			*(int *)(void *)at = (int)n;
			return 0;
		}
		set_fail(f, 400, "invalid_parameter", pn,
		         "%s: must be an integer from 1 to 1000 (got \"%.64s\")", pn, v);
		return -1;
	case P_TOTAL:
		if (parse_int(v, 1, INT64_MAX, &n) == 0) {
			*(int64_t *)(void *)at = n;
			return 0;
		}
		set_fail(f, 400, "invalid_parameter", pn,
		         "%s: must be a positive integer (got \"%.64s\")", pn, v);
		return -1;
	case P_CURSOR:
		if (parse_int(v, 0, INT64_MAX, &n) == 0) {
			*(int64_t *)(void *)at = n;
			return 0;
		}
		set_fail(f, 400, "invalid_parameter", pn,
		         "%s: must be a non-negative integer, the next_cursor of an earlier page "
		         "(got \"%.64s\")",
		         pn, v);
		return -1;
	case P_BUCKET:
		for (size_t i = 0; i < sizeof bucket_sizes / sizeof bucket_sizes[0]; i++) {
			if (strcmp(v, bucket_sizes[i].name) == 0) {
				*(int *)(void *)at = bucket_sizes[i].seconds;
				return 0;
			}
		}
		set_fail(f, 400, "invalid_parameter", pn,
		         "%s: must be minute, hour or day (got \"%.64s\")", pn, v);
		return -1;
	case P_FORMAT:
		if (strcmp(v, "jsonl") == 0) {
			*(const char **)at = v;
			return 0;
		}
		set_fail(f, 400, "invalid_parameter", pn,
		         "%s: unsupported export format \"%.64s\" (known: jsonl)", pn, v);
		return -1;
	}
	return -1;
}

struct qctx {
	unsigned endpoint;
	struct query *q;
	struct fail *f;
	int bad;
};

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
	struct qctx *x = cls;
	size_t i;
	for (i = 0; i < NPARAMS; i++)
		if ((params[i].endpoints & x->endpoint) && strcmp(params[i].name, key) == 0)
			break;
	if (i == NPARAMS) {
		char known[256];
		size_t n = 0;
		known[0] = '\0';
		for (size_t j = 0; j < NPARAMS && n < sizeof known; j++)
			if (params[j].endpoints & x->endpoint)
				n += (size_t)snprintf(known + n, sizeof known - n, "%s%s",
				                      n ? ", " : "", params[j].name);
		set_fail(x->f, 400, "unknown_parameter", NULL,
		         x->endpoint ? "unknown parameter \"%.64s\" (known: %s)"
		                     : "unknown parameter \"%.64s\" (this endpoint takes none%s)",
		         key, known);
		x->bad = 1;
		return MHD_NO;
	}
	const struct param *p = &params[i];
	if (x->q->seen & (1u << i)) {
		set_fail(x->f, 400, "invalid_parameter", p->name, "%s: given more than once",
		         p->name);
		x->bad = 1;
		return MHD_NO;
	}
	x->q->seen |= 1u << i;
	if (!value || !*value) /* "?checker=" means no filter, as a form leaves it */
		return MHD_YES;
	if (strlen(value) > MAX_PARAM_LEN) {
		set_fail(x->f, 400, "invalid_parameter", p->name, "%s: longer than %d bytes",
		         p->name, MAX_PARAM_LEN);
		x->bad = 1;
		return MHD_NO;
	}
	if (set_param(p, value, x->q, x->f)) {
		x->bad = 1;
		return MHD_NO;
	}
	return MHD_YES;
}

/* Reads the query string of an endpoint (Q_*; 0: takes none) into q; zero for what is not given
 * (limit included), defaults for bucket and format. On a refusal fills f and returns -1. */
static int parse_query(struct call *k, unsigned endpoint, struct query *q, struct fail *f)
{
	memset(q, 0, sizeof *q);
	q->bucket_s = 3600;
	q->format = "jsonl";
	struct qctx x = {endpoint, q, f, 0};
	MHD_get_connection_values(k->c, MHD_GET_ARGUMENT_KIND, on_arg, &x);
	if (x.bad)
		return -1;
	if (q->f.since_ms && q->f.until_ms && q->f.since_ms >= q->f.until_ms) {
		set_fail(f, 400, "invalid_parameter", "until", "until: must be after since");
		return -1;
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Incident ids in paths: a positive decimal integer. */
static int parse_id(struct call *k, int64_t *id, struct fail *f)
{
	long long n;
	if (!*k->rest || strchr(k->rest, '/')) {
		set_fail(f, 404, "not_found", NULL, "unknown admin path");
		return -1;
	}
	if (parse_int(k->rest, 1, INT64_MAX, &n)) {
		set_fail(f, 400, "invalid_parameter", "id", "id: not a positive integer: \"%.64s\"",
		         k->rest);
		return -1;
	}
	*id = n;
	return 0;
}

/* ---- handlers ---- */

static enum MHD_Result h_healthz(struct call *k)
{
	if (atomic_load(&k->a->ready))
		return send_json(k->c, 200, json_pack("{s:s}", "status", "ok"));
	return send_json(k->c, 503, json_pack("{s:s}", "status", "draining"));
}

static enum MHD_Result h_incidents(struct call *k)
{
	struct query q;
	struct fail f = {0};
	char err[256] = "";
	json_t *list = NULL;
	int64_t next = 0;
	if (parse_query(k, Q_LIST, &q, &f))
		return send_fail(k->c, &f);
	if (!q.f.limit)
		q.f.limit = DEFAULT_LIMIT;
	int rc = wd_store_list(k->a->st, &q.f, &list, &next, err, sizeof err);
	if (rc)
		return store_fail(k->c, "listing incidents", rc, err);
	return send_json(k->c, 200,
	                 json_pack("{s:o,s:o}", "incidents", list, "next_cursor",
	                           next ? json_integer(next) : json_null()));
}

static enum MHD_Result h_incident(struct call *k)
{
	struct query q;
	struct fail f = {0};
	int64_t id;
	json_t *inc = NULL;
	if (parse_id(k, &id, &f) || parse_query(k, 0, &q, &f))
		return send_fail(k->c, &f);
	int rc = wd_store_get(k->a->st, id, &inc);
	if (rc) {
		snprintf(f.msg, sizeof f.msg, "no incident %" PRId64, id);
		return store_fail(k->c, "reading an incident", rc, f.msg);
	}
	return send_json(k->c, 200, inc);
}

/* PATCH {"status": "open|confirmed|false_positive", "note": "..."}: at least one of them. */
static enum MHD_Result h_review(struct call *k)
{
	struct query q;
	struct fail f = {0};
	int64_t id;
	json_error_t je;
	json_t *body = NULL, *cur = NULL, *out = NULL;
	const char *status = NULL, *note = NULL, *key;
	json_t *v;
	enum MHD_Result ret;
	int rc = WD_OK;
	char known[96];
	if (parse_id(k, &id, &f) || parse_query(k, 0, &q, &f))
		return send_fail(k->c, &f);
	if (!k->rq->body.len) {
		set_fail(&f, 400, "invalid_json", NULL,
		         "the body is empty: expected a JSON object with status and/or note");
		goto refuse;
	}
	body = json_loadb(k->rq->body.data, k->rq->body.len, JSON_REJECT_DUPLICATES, &je);
	if (!body) {
		set_fail(&f, 400, "invalid_json", NULL, "invalid JSON at line %d column %d: %s",
		         je.line, je.column, je.text);
		goto refuse;
	}
	if (!json_is_object(body)) {
		set_fail(&f, 400, "invalid_json", NULL, "the body must be a JSON object");
		goto refuse;
	}
	json_object_foreach(body, key, v)
	{
		if (strcmp(key, "status") == 0) {
			join(known, sizeof known, review_values);
			if (!json_is_string(v) || !one_of(json_string_value(v), review_values)) {
				set_fail(&f, 400, "invalid_parameter", "status",
				         "status: must be one of %s", known);
				goto refuse;
			}
			status = json_string_value(v);
		} else if (strcmp(key, "note") == 0) {
			if (!json_is_string(v) || json_string_length(v) > MAX_NOTE) {
				set_fail(&f, 400, "invalid_parameter", "note",
				         "note: must be a string of at most %d bytes", MAX_NOTE);
				goto refuse;
			}
			note = json_string_value(v);
		} else {
			set_fail(&f, 400, "invalid_parameter", NULL,
			         "unknown field \"%.64s\" (known: status, note)", key);
			goto refuse;
		}
	}
	if (!status && !note) {
		set_fail(&f, 400, "invalid_parameter", NULL, "give status, note or both");
		goto refuse;
	}
	snprintf(f.msg, sizeof f.msg, "no incident %" PRId64, id);
	if (!status) { /* a note alone keeps the current status */
		rc = wd_store_get(k->a->st, id, &cur);
		status =
		    json_string_value(json_object_get(json_object_get(cur, "review"), "status"));
		if (!rc && !status)
			status = "open";
	}
	if (!rc)
		rc = wd_store_review(k->a->st, id, status, note, &out);
	if (rc) {
		ret = store_fail(k->c, "reviewing an incident", rc, f.msg);
		goto done;
	}
	ret = send_json(k->c, 200, out);
	goto done;
refuse:
	ret = send_fail(k->c, &f);
done:
	json_decref(cur);
	json_decref(body);
	return ret;
}

static enum MHD_Result h_stats(struct call *k)
{
	struct query q;
	struct fail f = {0};
	json_t *out = NULL;
	if (parse_query(k, Q_STATS, &q, &f))
		return send_fail(k->c, &f);
	int64_t until = q.f.until_ms ? q.f.until_ms : now_ms() + 1;
	int64_t since = q.f.since_ms ? q.f.since_ms : until - DEFAULT_STATS_MS;
	if (since >= until)
		return fail_now(k->c, 400, "invalid_parameter", "since: must be before until");
	if ((until - since) / ((int64_t)q.bucket_s * 1000) > MAX_BUCKETS) {
		set_fail(&f, 400, "invalid_parameter", "bucket",
		         "bucket: more than %d buckets between since and until; use a larger "
		         "bucket or a shorter range",
		         MAX_BUCKETS);
		return send_fail(k->c, &f);
	}
	int rc = wd_store_stats(k->a->st, since, until, q.bucket_s, &out);
	if (rc)
		return store_fail(k->c, "computing stats", rc, "bad stats range");
	return send_json(k->c, 200, out);
}

/* The q-quantile of a latency histogram, as its bucket's upper bound in ms; null when the
 * histogram is empty or the quantile falls in the open last bucket. */
static json_t *quantile_ms(const uint64_t *buckets, double q)
{
	uint64_t total = 0, acc = 0;
	for (int b = 0; b < WD_LAT_BUCKETS; b++)
		total += buckets[b];
	if (!total)
		return json_null();
	for (int b = 0; b < WD_LAT_BUCKETS - 1; b++) {
		acc += buckets[b];
		if ((double)acc >= q * (double)total)
			return json_real((double)wd_latency_bounds_us[b] / 1000.0);
	}
	return json_null();
}

static enum MHD_Result h_checkers(struct call *k)
{
	struct query q;
	struct fail f = {0};
	if (parse_query(k, 0, &q, &f))
		return send_fail(k->c, &f);
	const struct wd_chain *ch = k->a->ch;
	size_t n = ch ? wd_chain_size(ch) : 0;
	struct wd_entry_stats *st = calloc(n ? n : 1, sizeof *st);
	json_t *list = json_array();
	if (!st || !list) {
		free(st);
		json_decref(list);
		return MHD_NO;
	}
	n = n ? wd_chain_stats(ch, st, n) : 0;
	for (size_t i = 0; i < n; i++) {
		struct wd_entry_info e;
		if (wd_chain_entry_info(ch, i, &e))
			break;
		json_t *phases = json_array();
		for (unsigned p = WD_PHASE_REQUEST; p <= WD_PHASE_PROBE; p <<= 1)
			if (e.phases & p)
				json_array_append_new(phases,
				                      json_string(wd_phase_name((enum wd_phase)p)));
		const struct wd_entry_stats *c = &st[i];
		json_t *o = json_pack(
		    "{s:s,s:s,s:o,s:s,s:s,s:f,s:s,s:I}", "id", e.id, "type", e.type, "phases",
		    phases, "mode", e.observe ? "observe" : "enforce", "action",
		    wd_action_name(e.action), "threshold", e.threshold, "on_error",
		    e.on_error_block ? "block" : "allow", "timeout_ms", (json_int_t)e.timeout_ms);
		json_object_set_new(o, "flag_threshold",
		                    e.flag_threshold >= 0 ? json_real(e.flag_threshold)
		                                          : json_null());
		json_object_set_new(o, "calls", json_integer((json_int_t)c->calls));
		json_object_set_new(o, "incidents", json_integer((json_int_t)c->incidents));
		json_object_set_new(o, "errors", json_integer((json_int_t)c->errors));
		json_object_set_new(o, "timeouts", json_integer((json_int_t)c->timeouts));
		json_object_set_new(
		    o, "latency_mean_ms",
		    json_real(c->calls ? (double)c->latency_us_total / (double)c->calls / 1000.0
		                       : 0.0));
		json_object_set_new(o, "latency_p50_ms", quantile_ms(c->latency_buckets, 0.5));
		json_object_set_new(o, "latency_p90_ms", quantile_ms(c->latency_buckets, 0.9));
		json_object_set_new(o, "latency_p99_ms", quantile_ms(c->latency_buckets, 0.99));
		json_array_append_new(list, o);
	}
	free(st);
	return send_json(k->c, 200, json_pack("{s:o}", "checkers", list));
}

/* The export's state, owned by its MHD response: its own copy of the filter's strings (the
 * connection's may go before the last read), one page of incidents, one pending line. */
struct export
{
	struct wd_store *st;
	struct wd_incident_filter f;
	int64_t remaining; /* lines still allowed (the limit parameter), -1: all */
	int last_page;
	json_t *page;
	size_t next; /* index in page */
	char *line;
	size_t len, off;
};

static void export_free(void *cls)
{
	struct export *e = cls;
	const char **strs[] = {&e->f.checker,    &e->f.action,   &e->f.model, &e->f.key_hash,
	                       &e->f.request_id, &e->f.category, &e->f.q,     &e->f.review_status};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		free((char *)*strs[i]);
	json_decref(e->page);
	free(e->line);
	free(e);
}

/* Loads the next page; 0 with e->page set (possibly empty) or < 0. */
static int export_page(struct export *e)
{
	char err[256] = "";
	int64_t next = 0;
	json_decref(e->page);
	e->page = NULL;
	e->next = 0;
	e->f.limit =
	    e->remaining >= 0 && e->remaining < EXPORT_PAGE ? (int)e->remaining : EXPORT_PAGE;
	int rc = wd_store_list(e->st, &e->f, &e->page, &next, err, sizeof err);
	if (rc) {
		wd_warn(NULL, "admin: export failed: %s", wd_strerror(rc));
		return rc;
	}
	if (e->remaining >= 0)
		e->remaining -= (int64_t)json_array_size(e->page);
	e->f.cursor = next;
	e->last_page = next == 0 || e->remaining == 0;
	return 0;
}

static ssize_t export_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct export *e = cls;
	while (e->off == e->len) {
		free(e->line);
		e->line = NULL;
		e->len = e->off = 0;
		if (!e->page || e->next == json_array_size(e->page)) {
			if (e->page && e->last_page)
				return MHD_CONTENT_READER_END_OF_STREAM;
			if (export_page(e))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			continue;
		}
		/* sized first, so the line and its newline are one allocation */
		const json_t *row = json_array_get(e->page, e->next++);
		size_t n = json_dumpb(row, NULL, 0, JSON_COMPACT);
		e->line = n ? malloc(n + 1) : NULL;
		if (!e->line || json_dumpb(row, e->line, n, JSON_COMPACT) != n)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		e->line[n] = '\n';
		e->len = n + 1;
	}
	size_t n = e->len - e->off < max ? e->len - e->off : max;
	memcpy(buf, e->line + e->off, n);
	e->off += n;
	return (ssize_t)n;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static enum MHD_Result h_export(struct call *k)
{
	struct query q;
	struct fail f = {0};
	if (parse_query(k, Q_EXPORT, &q, &f))
		return send_fail(k->c, &f);
	struct export *e = calloc(1, sizeof *e);
	if (!e)
		return MHD_NO;
	e->st = k->a->st;
	e->f = q.f;
	e->remaining = q.total ? q.total : -1;
	const char **strs[] = {&e->f.checker,    &e->f.action,   &e->f.model, &e->f.key_hash,
	                       &e->f.request_id, &e->f.category, &e->f.q,     &e->f.review_status};
	int oom = 0;
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		const char *src = *strs[i];
		*strs[i] = dup_or_null(src);
		oom |= src && !*strs[i];
	}
	/* The first page is read now, so a store failure is still a proper error answer. */
	int rc = oom ? WD_ENOMEM : export_page(e);
	if (rc) {
		export_free(e);
		return store_fail(k->c, "exporting incidents", rc, "bad export filter");
	}
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, EXPORT_BLOCK,
	                                                           export_read, e, export_free);
	if (!r) {
		export_free(e);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "Content-Disposition",
	                        "attachment; filename=\"warden-incidents.jsonl\"");
	return queue(k->c, 200, r);
}

static enum MHD_Result h_metrics(struct call *k)
{
	struct wd_buf b;
	wd_buf_init(&b, MAX_METRICS);
	int rc = wd_metrics_render(&b, k->a->ch, k->a->st);
	if (rc) {
		wd_buf_free(&b);
		wd_warn(NULL, "admin: rendering metrics failed: %s", wd_strerror(rc));
		return fail_now(k->c, 500, "metrics_error", "rendering the metrics failed");
	}
	size_t len = 0;
	char *text = wd_buf_take(&b, &len);
	struct MHD_Response *r =
	    text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE)
	         : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "text/plain; version=0.0.4; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return queue(k->c, 200, r);
}

static const struct {
	const char *ext;
	const char *type;
} mime[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".json", "application/json"},
    {".ico", "image/x-icon"},
};

static const char *mime_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof mime / sizeof mime[0]; i++)
		if (strcmp(dot, mime[i].ext) == 0)
			return mime[i].type;
	return "application/octet-stream";
}

static enum MHD_Result h_dashboard(struct call *k)
{
	const char *name = *k->rest ? k->rest : "index.html";
	const struct wd_embedded *f = NULL;
	for (size_t i = 0; i < wd_dashboard_count; i++)
		if (strcmp(wd_dashboard[i].name, name) == 0)
			f = &wd_dashboard[i];
	if (!f)
		return fail_now(k->c, 404, "not_found", "no dashboard file \"%.64s\"", name);
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, mime_type(f->name));
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	return queue(k->c, 200, r);
}

static enum MHD_Result h_dashboard_slash(struct call *k)
{
	return redirect(k->c, MHD_HTTP_MOVED_PERMANENTLY, "/dashboard/");
}

static enum MHD_Result h_root(struct call *k)
{
	return redirect(k->c, MHD_HTTP_FOUND, "/dashboard/");
}

/* ---- routing ---- */

static const struct route routes[] = {
    {"/healthz", 0, 0, {h_healthz, NULL}},
    {"/api/v1/incidents", 0, F_AUTH | F_STORE, {h_incidents, NULL}},
    {"/api/v1/incidents/", 1, F_AUTH | F_STORE, {h_incident, h_review}},
    {"/api/v1/stats", 0, F_AUTH | F_STORE, {h_stats, NULL}},
    {"/api/v1/checkers", 0, F_AUTH, {h_checkers, NULL}},
    {"/api/v1/export", 0, F_AUTH | F_STORE, {h_export, NULL}},
    {"/metrics", 0, F_AUTH, {h_metrics, NULL}},
    {"/dashboard", 0, 0, {h_dashboard_slash, NULL}},
    {"/dashboard/", 1, 0, {h_dashboard, NULL}},
    {"/", 0, 0, {h_root, NULL}},
};

static const struct {
	const char *name;
	enum method m;
} methods[] = {{"GET", M_GET}, {"HEAD", M_GET}, {"PATCH", M_PATCH}};
static const char *const method_names[M__COUNT] = {"GET, HEAD", "PATCH"};

static const struct route *find_route(const char *url)
{
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		size_t n = strlen(routes[i].path);
		if (routes[i].prefix ? strncmp(url, routes[i].path, n) == 0
		                     : strcmp(url, routes[i].path) == 0)
			return &routes[i];
	}
	return NULL;
}

/* Compares in time that depends only on the token's length, not on where they differ. */
static int token_equal(const char *given, const char *want)
{
	size_t gl = strlen(given), wl = strlen(want);
	unsigned char d = gl != wl;
	for (size_t i = 0; i < wl; i++)
		d |= (unsigned char)want[i] ^ (unsigned char)(i < gl ? given[i] : 0);
	return d == 0;
}

static int authorized(const struct wd_admin *a, struct MHD_Connection *c)
{
	const char *tok = a->s->admin_token;
	if (!tok || !*tok)
		return 1;
	const char *h =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	return token_equal(h, tok);
}

/* First call for a request (headers only): refuses what can be refused before the body. */
static enum MHD_Result on_headers(struct wd_admin *a, struct MHD_Connection *c, struct req *rq,
                                  const char *url, const char *method)
{
	struct fail f = {0};
	const struct route *rt = find_route(url);
	if (!rt)
		return fail_now(c, 404, "not_found", "unknown admin path \"%.128s\"", url);
	if ((rt->flags & F_AUTH) && !authorized(a, c)) {
		set_fail(&f, 401, "unauthorized", NULL,
		         "this endpoint needs the admin token: send Authorization: Bearer <token>");
		return send_fail_h(c, &f, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                   "Bearer realm=\"warden\"");
	}
	int m = -1;
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (strcmp(method, methods[i].name) == 0)
			m = (int)methods[i].m;
	if (m < 0 || !rt->fn[m]) {
		char allow[64];
		size_t n = 0;
		allow[0] = '\0';
		for (int i = 0; i < M__COUNT; i++)
			if (rt->fn[i])
				n += (size_t)snprintf(allow + n, sizeof allow - n, "%s%s",
				                      n ? ", " : "", method_names[i]);
		set_fail(&f, 405, "method_not_allowed", NULL,
		         "%.16s is not allowed here (allowed: %s)", method, allow);
		return send_fail_h(c, &f, MHD_HTTP_HEADER_ALLOW, allow);
	}
	if ((rt->flags & F_STORE) && !a->st)
		return fail_now(c, 503, "store_unavailable", "store unavailable");
	const char *cl =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	long long n;
	if (cl && (parse_int(cl, 0, INT64_MAX, &n) || n > MAX_PATCH_BODY))
		return fail_now(c, 413, "body_too_large", "the body is larger than 64 KiB");
	rq->rt = rt; /* set only for a request that goes on */
	rq->m = (enum method)m;
	/* The handler runs on the last call: a response queued now would close the connection. */
	return MHD_YES;
}

static enum MHD_Result on_admin(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls)
{
	struct wd_admin *a = cls;
	struct req *rq = *con_cls;
	if (!rq) {
		rq = calloc(1, sizeof *rq);
		if (!rq)
			return MHD_NO;
		wd_buf_init(&rq->body, MAX_PATCH_BODY);
		*con_cls = rq;
		enum MHD_Result ret = on_headers(a, c, rq, url, method);
		rq->answered = !rq->rt;
		return ret;
	}
	if (*upload_size) {
		if (!rq->answered && !rq->too_big &&
		    wd_buf_append(&rq->body, upload, *upload_size) != WD_OK)
			rq->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->answered)
		return MHD_YES;
	rq->answered = 1;
	if (rq->too_big)
		return fail_now(c, 413, "body_too_large", "the body is larger than 64 KiB");
	struct call k = {a, c, rq, url + strlen(rq->rt->path)};
	return rq->rt->fn[rq->m](&k);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;
	if (!rq)
		return;
	wd_buf_free(&rq->body);
	free(rq);
	*con_cls = NULL;
}

/* ---- life ---- */

int wd_is_loopback(const char *hostport)
{
	char host[256];
	unsigned short port;
	if (wd_parse_hostport(hostport, host, sizeof host, &port))
		return 0;
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "::1") == 0;
}

int wd_admin_start(const struct wd_settings *s, struct wd_store *st, const struct wd_chain *ch,
                   struct wd_admin **out, char *err, size_t errlen)
{
	if (!wd_is_loopback(s->admin_listen) && (!s->admin_token || !s->admin_token[0])) {
		snprintf(err, errlen,
		         "admin listener %s is not loopback: set admin.token (or "
		         "WARDEN_ADMIN_TOKEN) so the admin API is not open to the network",
		         s->admin_listen);
		return WD_EINVAL;
	}
	int fd = wd_listen_socket(s->admin_listen, 0, err, errlen);
	if (fd < 0)
		return WD_EIO;
	struct wd_admin *a = calloc(1, sizeof *a);
	if (!a) {
		close(fd);
		return WD_ENOMEM;
	}
	a->s = s;
	a->st = st;
	a->ch = ch;
	a->mhd = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, on_admin, a,
	    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)2,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
	if (!a->mhd) {
		snprintf(err, errlen, "cannot start the admin server on %s", s->admin_listen);
		close(fd);
		free(a);
		return WD_EIO;
	}
	*out = a;
	return WD_OK;
}

void wd_admin_set_ready(struct wd_admin *a, int ready)
{
	atomic_store(&a->ready, ready);
}

void wd_admin_stop(struct wd_admin *a)
{
	if (!a)
		return;
	MHD_stop_daemon(a->mhd);
	free(a);
}
