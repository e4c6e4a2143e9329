/* test_store.c — the incident store end to end: incidents go in through the writer thread
 * (wd_store_enqueue, waiting for the done callback) and come back through the read side
 * (list with every filter and cursor paging, get, review, stats, purge). Each test uses its own
 * database file under /tmp, removed at the end. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "store/store.h"
#include "test.h"

#define T0   1795857333107LL /* 2026-11-28T09:15:33.107Z */
#define DAY0 1795824000000LL /* 2026-11-28T00:00:00.000Z */
#define MIN  (60 * 1000LL)

/* ---- fixtures ---- */

struct db {
	char path[64];
	struct wd_store *s;
};

static int db_open(struct db *d)
{
	char err[256] = "";
	snprintf(d->path, sizeof(d->path), "/tmp/wd-test-store-XXXXXX");
	int fd = mkstemp(d->path);
	if (fd < 0)
		return -1;
	close(fd);
	struct wd_store_opts o = {.path = d->path, .sync = WD_SYNC_NORMAL, .max_queue = 100000};
	int rc = wd_store_open(&o, &d->s, err, sizeof(err));
	if (rc)
		fprintf(stderr, "  wd_store_open: %s\n", err);
	return rc;
}

static void db_close(struct db *d)
{
	char p[80];
	wd_store_close(d->s);
	d->s = NULL;
	unlink(d->path);
	snprintf(p, sizeof(p), "%s-wal", d->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", d->path);
	unlink(p);
}

struct waiter {
	pthread_mutex_t m;
	pthread_cond_t c;
	int done, rc;
};

static void on_done(void *arg, int rc)
{
	struct waiter *w = arg;
	pthread_mutex_lock(&w->m);
	w->done = 1;
	w->rc = rc;
	pthread_cond_signal(&w->c);
	pthread_mutex_unlock(&w->m);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The fields the filters look at; the rest get fixed values. */
struct row {
	int64_t ts_ms;
	const char *checker, *category, *action, *model, *key_hash, *request_id, *excerpt,
	    *evidence;
};

static void fill(struct wd_incident *inc, const struct row *r)
{
	memset(inc, 0, sizeof(*inc));
	inc->ts_ms = r->ts_ms;
	inc->request_id = strdup(r->request_id ? r->request_id : "req-x");
	inc->route = strdup("chat");
	inc->model = dup_or_null(r->model);
	inc->phase = strdup("request");
	inc->checker = strdup(r->checker ? r->checker : "pat");
	inc->checker_type = strdup("pattern");
	inc->category = strdup(r->category ? r->category : "S9");
	inc->action = strdup(r->action ? r->action : "block");
	inc->score = 0.75;
	inc->evidence = dup_or_null(r->evidence);
	inc->excerpt = dup_or_null(r->excerpt);
	inc->key_hash = dup_or_null(r->key_hash);
	inc->client_addr = strdup("127.0.0.1");
	inc->upstream_status = 200;
	inc->status = 400;
	inc->latency_ms = 12.5;
}

/* Writes n rows in one batch and waits until the writer says they are committed. */
static int add(struct db *d, const struct row *rows, size_t n)
{
	struct wd_incident *inc = calloc(n, sizeof(*inc));
	if (!inc)
		return WD_ENOMEM;
	for (size_t i = 0; i < n; i++)
		fill(&inc[i], &rows[i]);
	struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	int rc = wd_store_enqueue(d->s, inc, n, on_done, &w);
	if (rc)
		return rc;
	pthread_mutex_lock(&w.m);
	while (!w.done)
		pthread_cond_wait(&w.c, &w.m);
	pthread_mutex_unlock(&w.m);
	return w.rc;
}

/* n rows like r, at ts r->ts_ms + i*step. */
static int add_many(struct db *d, const struct row *r, size_t n, int64_t step)
{
	struct row *rows = calloc(n, sizeof(*rows));
	if (!rows)
		return WD_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		rows[i] = *r;
		rows[i].ts_ms = r->ts_ms + (int64_t)i * step;
	}
	int rc = add(d, rows, n);
	free(rows);
	return rc;
}

/* The ids a list returns, as "5,3,1" (static buffer). */
static const char *ids(json_t *arr)
{
	static char s[4096];
	size_t i, n = 0;
	json_t *v;
	s[0] = '\0';
	json_array_foreach(arr, i, v)
	{
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%lld", i ? "," : "",
		                      (long long)json_integer_value(json_object_get(v, "id")));
		if (n >= sizeof(s))
			break;
	}
	return s;
}

/* The ids that match f (limit 1000 unless set). */
static const char *list_ids(struct db *d, struct wd_incident_filter f)
{
	static char s[4096];
	json_t *arr = NULL;
	int64_t next = -1;
	char err[128] = "";
	if (!f.limit)
		f.limit = 1000;
	int rc = wd_store_list(d->s, &f, &arr, &next, err, sizeof(err));
	if (rc) {
		snprintf(s, sizeof(s), "error %d: %s", rc, err);
		return s;
	}
	snprintf(s, sizeof(s), "%s", ids(arr));
	json_decref(arr);
	return s;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* ---- tests ---- */

TEST(test_row_json)
{
	struct db d = {0};
	if (db_open(&d)) {
		CHECK(0);
		return;
	}
	struct row r[] = {
	    {T0, "harm-in", "S9", "block", "gpt-4o", "kh1", "req-1", "the excerpt",
	     "{\"rule\":\"r1\",\"span\":[3,9]}"},
	    {T0 + 1, NULL, NULL, NULL, NULL, NULL, "req-2", NULL, "not json"},
	    {-1, NULL, NULL, NULL, NULL, NULL, "req-3", "bad \xff\xfe utf8", "[1,2]"},
	};
	CHECK_EQ_INT(add(&d, r, 3), 0);

	json_t *o = NULL;
	CHECK_EQ_INT(wd_store_get(d.s, 1, &o), 0);
	if (o) {
		CHECK_EQ_INT(json_integer_value(json_object_get(o, "id")), 1);
		CHECK_STR(jstr(o, "time"), "2026-11-28T09:15:33.107Z");
		CHECK_EQ_INT(json_integer_value(json_object_get(o, "ts_ms")), T0);
		CHECK_STR(jstr(o, "request_id"), "req-1");
		CHECK_STR(jstr(o, "route"), "chat");
		CHECK_STR(jstr(o, "model"), "gpt-4o");
		CHECK_STR(jstr(o, "phase"), "request");
		CHECK_STR(jstr(o, "checker"), "harm-in");
		CHECK_STR(jstr(o, "checker_type"), "pattern");
		CHECK_STR(jstr(o, "category"), "S9");
		CHECK_STR(jstr(o, "action"), "block");
		CHECK(json_real_value(json_object_get(o, "score")) == 0.75);
		json_t *ev = json_object_get(o, "evidence");
		CHECK(json_is_object(ev));
		CHECK_STR(jstr(ev, "rule"), "r1");
		CHECK_EQ_INT(json_array_size(json_object_get(ev, "span")), 2);
		CHECK_STR(jstr(o, "excerpt"), "the excerpt");
		CHECK_STR(jstr(o, "key_hash"), "kh1");
		CHECK_STR(jstr(o, "client_addr"), "127.0.0.1");
		CHECK_EQ_INT(json_integer_value(json_object_get(o, "upstream_status")), 200);
		CHECK_EQ_INT(json_integer_value(json_object_get(o, "status")), 400);
		CHECK(json_real_value(json_object_get(o, "latency_ms")) == 12.5);
		json_t *rv = json_object_get(o, "review");
		CHECK_STR(jstr(rv, "status"), "open");
		CHECK(json_is_null(json_object_get(rv, "note")));
		CHECK(json_is_null(json_object_get(rv, "reviewed_at")));
		CHECK_EQ_INT(json_object_size(o), 20);
		/* the object serialises (every string is valid UTF-8) */
		char *txt = json_dumps(o, 0);
		CHECK(txt != NULL);
		free(txt);
		json_decref(o);
	}

	o = NULL;
	CHECK_EQ_INT(wd_store_get(d.s, 2, &o), 0);
	if (o) {
		CHECK(json_is_null(json_object_get(o, "model")));    /* NULL column */
		CHECK(json_is_null(json_object_get(o, "excerpt")));  /* NULL column */
		CHECK(json_is_null(json_object_get(o, "key_hash"))); /* NULL column */
		CHECK(json_is_object(json_object_get(o, "evidence")));
		CHECK_EQ_INT(json_object_size(json_object_get(o, "evidence")), 0); /* unparseable */
		CHECK_STR(jstr(o, "time"), "2026-11-28T09:15:33.108Z");
		json_decref(o);
	}

	o = NULL;
	CHECK_EQ_INT(wd_store_get(d.s, 3, &o), 0);
	if (o) {
		/* before 1970: the millisecond rounds down, not towards zero */
		CHECK_STR(jstr(o, "time"), "1969-12-31T23:59:59.999Z");
		CHECK_EQ_INT(json_object_size(json_object_get(o, "evidence")),
		             0); /* not an object */
		CHECK_STR(jstr(o, "excerpt"), "bad \xEF\xBF\xBD\xEF\xBF\xBD utf8");
		char *txt = json_dumps(o, 0);
		CHECK(txt != NULL);
		free(txt);
		json_decref(o);
	}

	o = (json_t *)&o;
	CHECK_EQ_INT(wd_store_get(d.s, 99, &o), WD_ENOTFOUND);
	CHECK(o == NULL);
	db_close(&d);
}

/* A small set that every filter picks different rows from. */
static const struct row filter_rows[] = {
    /* ts, checker, category, action, model, key, request, excerpt, evidence */
    {T0 + 0, "pat", "S9", "block", "m1", "k1", "r1", "alpha", NULL},   /* 1 */
    {T0 + 1000, "harm", "S1", "flag", "m2", "k2", "r2", "beta", NULL}, /* 2 */
    {T0 + 2000, "pat", "jailbreak.dan", "redact", "m1", "k2", "r3", NULL,
     "{\"rule\":\"Gamma-rule\"}"},                                                       /* 3 */
    {T0 + 3000, "drift", "drift.refusal_rate", "flag", NULL, "k1", "r4", "delta", NULL}, /* 4 */
    {T0 + 4000, "pat", "S9", "would_block", "m2", NULL, "r4", "ALPHA beta", NULL},       /* 5 */
};

TEST(test_filters)
{
	struct db d = {0};
	if (db_open(&d)) {
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(add(&d, filter_rows, 5), 0);
	struct wd_incident_filter f;

	f = (struct wd_incident_filter){0};
	CHECK_STR(list_ids(&d, f), "5,4,3,2,1"); /* no filter, newest first */
	f = (struct wd_incident_filter){.since_ms = T0 + 1000};
	CHECK_STR(list_ids(&d, f), "5,4,3,2"); /* since is inclusive */
	f = (struct wd_incident_filter){.until_ms = T0 + 3000};
	CHECK_STR(list_ids(&d, f), "3,2,1"); /* until is exclusive */
	f = (struct wd_incident_filter){.checker = "pat"};
	CHECK_STR(list_ids(&d, f), "5,3,1");
	f = (struct wd_incident_filter){.action = "flag"};
	CHECK_STR(list_ids(&d, f), "4,2");
	f = (struct wd_incident_filter){.model = "m2"};
	CHECK_STR(list_ids(&d, f), "5,2");
	f = (struct wd_incident_filter){.key_hash = "k2"};
	CHECK_STR(list_ids(&d, f), "3,2");
	f = (struct wd_incident_filter){.request_id = "r4"};
	CHECK_STR(list_ids(&d, f), "5,4");
	f = (struct wd_incident_filter){.category = "S9"};
	CHECK_STR(list_ids(&d, f), "5,1");
	f = (struct wd_incident_filter){.q = "alpha"}; /* case-insensitive */
	CHECK_STR(list_ids(&d, f), "5,1");
	f = (struct wd_incident_filter){.q = "gamma"}; /* found in the evidence */
	CHECK_STR(list_ids(&d, f), "3");
	f = (struct wd_incident_filter){.review_status = "open"};
	CHECK_STR(list_ids(&d, f), "5,4,3,2,1");
	f = (struct wd_incident_filter){.review_status = "confirmed"};
	CHECK_STR(list_ids(&d, f), "");
	f = (struct wd_incident_filter){.cursor = 3};
	CHECK_STR(list_ids(&d, f), "2,1");
	f = (struct wd_incident_filter){.checker = "nobody"};
	CHECK_STR(list_ids(&d, f), "");
	/* an empty value filters nothing (an empty field of a query string) */
	f = (struct wd_incident_filter){.checker = "", .q = "", .category = ""};
	CHECK_STR(list_ids(&d, f), "5,4,3,2,1");

	/* combined */
	f = (struct wd_incident_filter){.checker = "pat", .model = "m1"};
	CHECK_STR(list_ids(&d, f), "3,1");
	f = (struct wd_incident_filter){.checker = "pat", .q = "beta"};
	CHECK_STR(list_ids(&d, f), "5");
	f = (struct wd_incident_filter){.action = "flag", .key_hash = "k1", .since_ms = T0};
	CHECK_STR(list_ids(&d, f), "4");
	f = (struct wd_incident_filter){.since_ms = T0 + 1000,
	                                .until_ms = T0 + 4000,
	                                .checker = "pat",
	                                .category = "jailbreak"};
	CHECK_STR(list_ids(&d, f), "3");
	f = (struct wd_incident_filter){.category = "S9",
	                                .cursor = 5,
	                                .request_id = "r1",
	                                .model = "m1",
	                                .key_hash = "k1",
	                                .action = "block"};
	CHECK_STR(list_ids(&d, f), "1");
	f = (struct wd_incident_filter){.category = "S9", .model = "m1", .action = "flag"};
	CHECK_STR(list_ids(&d, f), "");
	db_close(&d);
}

TEST(test_category_family)
{
	struct db d = {0};
	if (db_open(&d)) {
		CHECK(0);
		return;
	}
	static const char *const cats[] = {"drift",       "drift.refusal_rate",
	                                   "drift.a.b",   "driftwood",
	                                   "DRIFT.upper", "drift-x.y",
	                                   "S9",          "S9.sub",
	                                   "Sx9.y",       "a%b.c",
	                                   "a_b.c",       "axb.c"};
	struct row r[12];
	for (int i = 0; i < 12; i++)
		r[i] = (struct row){.ts_ms = T0 + i, .category = cats[i]};
	CHECK_EQ_INT(add(&d, r, 12), 0);
	struct wd_incident_filter f;

	f = (struct wd_incident_filter){.category = "drift"}; /* exact + family, case-sensitive */
	CHECK_STR(list_ids(&d, f), "3,2,1");
	f = (struct wd_incident_filter){.category = "drift.refusal_rate"}; /* exact id only */
	CHECK_STR(list_ids(&d, f), "2");
	f = (struct wd_incident_filter){.category = "drift.a"}; /* a deeper family */
	CHECK_STR(list_ids(&d, f), "3");
	f = (struct wd_incident_filter){.category = "drif"}; /* not a whole segment */
	CHECK_STR(list_ids(&d, f), "");
	f = (struct wd_incident_filter){.category = "S9"};
	CHECK_STR(list_ids(&d, f), "8,7");
	/* wildcards in the value are literal */
	f = (struct wd_incident_filter){.category = "S_"};
	CHECK_STR(list_ids(&d, f), "");
	f = (struct wd_incident_filter){.category = "%"};
	CHECK_STR(list_ids(&d, f), "");
	f = (struct wd_incident_filter){.category = "a_b"};
	CHECK_STR(list_ids(&d, f), "11");
	f = (struct wd_incident_filter){.category = "a%b"};
	CHECK_STR(list_ids(&d, f), "10");
	db_close(&d);
}

TEST(test_q_wildcards)
{
	struct db d = {0};
	if (db_open(&d)) {
		CHECK(0);
		return;
	}
	struct row r[] = {
	    {.ts_ms = T0, .excerpt = "100% sure"},        /* 1 */
	    {.ts_ms = T0, .excerpt = "1000 sure"},        /* 2 */
	    {.ts_ms = T0, .excerpt = "a_b"},              /* 3 */
	    {.ts_ms = T0, .excerpt = "axb"},              /* 4 */
	    {.ts_ms = T0, .excerpt = "back\\slash"},      /* 5 */
	    {.ts_ms = T0, .excerpt = "Hello World"},      /* 6 */
	    {.ts_ms = T0, .excerpt = NULL},               /* 7 */
	    {.ts_ms = T0, .evidence = "{\"x\":\"50%\"}"}, /* 8: q also searches the evidence */
	};
	CHECK_EQ_INT(add(&d, r, 8), 0);
	struct wd_incident_filter f;

	f = (struct wd_incident_filter){.q = "%"};
	CHECK_STR(list_ids(&d, f), "8,1");
	f = (struct wd_incident_filter){.q = "_"};
	CHECK_STR(list_ids(&d, f), "3");
	f = (struct wd_incident_filter){.q = "0% s"};
	CHECK_STR(list_ids(&d, f), "1");
	f = (struct wd_incident_filter){.q = "a_b"};
	CHECK_STR(list_ids(&d, f), "3");
	f = (struct wd_incident_filter){.q = "\\"};
	CHECK_STR(list_ids(&d, f), "5");
	f = (struct wd_incident_filter){.q = "k\\s"};
	CHECK_STR(list_ids(&d, f), "5");
	f = (struct wd_incident_filter){.q = "o w"};
	CHECK_STR(list_ids(&d, f), "6");
	f = (struct wd_incident_filter){.q = "HELLO"};
	CHECK_STR(list_ids(&d, f), "6");
	f = (struct wd_incident_filter){.q = "'; DROP TABLE incidents; --"};
	CHECK_STR(list_ids(&d, f), "");
	f = (struct wd_incident_filter){0};
	CHECK_STR(list_ids(&d, f), "8,7,6,5,4,3,2,1");
	db_close(&d);
}

/* Pages through everything; returns the number of pages, or -1 on a gap, duplicate or error. */
static int page_all(struct db *d, int total, int limit, const int64_t *want_next, int npages)
{
	char *seen = calloc((size_t)total + 1, 1);
	int64_t cursor = 0, expect = total;
	int pages = 0, bad = 0;
	for (;;) {
		struct wd_incident_filter f = {.limit = limit, .cursor = cursor};
		json_t *arr = NULL, *v;
		int64_t next = -1;
		char err[128];
		size_t i;
		if (wd_store_list(d->s, &f, &arr, &next, err, sizeof(err)) != 0) {
			bad = 1;
			break;
		}
		json_array_foreach(arr, i, v)
		{
			int64_t id = json_integer_value(json_object_get(v, "id"));
			if (id != expect || id < 1 || id > total || seen[id])
				bad = 1; /* out of order, a gap, or a duplicate */
			else
				seen[id] = 1;
			expect--;
		}
		if (pages < npages && next != want_next[pages])
			bad = 1;
		pages++;
		json_decref(arr);
		if (!next || bad || pages > npages)
			break;
		cursor = next;
	}
	for (int id = 1; id <= total; id++)
		if (!seen[id])
			bad = 1;
	free(seen);
	return bad ? -1 : pages;
}

TEST(test_paging)
{
	struct db d = {0};
	if (db_open(&d)) {
		CHECK(0);
		return;
	}
	struct row r = {.ts_ms = T0};
	CHECK_EQ_INT(add_many(&d, &r, 2500, 1), 0);
	/* 2500 rows, 1000 a page: 2500..1501, 1500..501, 500..1 */
	int64_t next3[] = {1501, 501, 0};
	CHECK_EQ_INT(page_all(&d, 2500, 1000, next3, 3), 3);
	/* an exact multiple: the last page is full and still says there is no next one */
	int64_t next5[] = {2001, 1501, 1001, 501, 0};
	CHECK_EQ_INT(page_all(&d, 2500, 500, next5, 5), 5);

	/* paging keeps filters */
	struct wd_incident_filter f = {.limit = 2, .since_ms = T0 + 2495};
	json_t *arr = NULL;
	int64_t next = 0;
	char err[128];
	CHECK_EQ_INT(wd_store_list(d.s, &f, &arr, &next, err, sizeof(err)), 0);
	CHECK_STR(ids(arr), "2500,2499");
	CHECK_EQ_INT(next, 2499);
	json_decref(arr);
	f.cursor = next;
	CHECK_EQ_INT(wd_store_list(d.s, &f, &arr, &next, err, sizeof(err)), 0);
	CHECK_STR(ids(arr), "2498,2497");
	json_decref(arr);
	f.cursor = next;
	CHECK_EQ_INT(wd_store_list(d.s, &f, &arr, &next, err, sizeof(err)), 0);
	CHECK_STR(ids(arr), "2496");
	CHECK_EQ_INT(next, 0);
	json_decref(arr);
	db_close(&d);
}

TEST(test_bad_params)
{
	struct db d = {0};
	if (db_open(&d)) {
		CHECK(0);
		return;
	}
	static const int limits[] = {0, -1, 1001, 1 << 30};
	for (int i = 0; i < 4; i++) {
		struct wd_incident_filter f = {.limit = limits[i]};
		json_t *arr = (json_t *)&f;
		int64_t next = 7;
		char err[128] = "";
		CHECK_EQ_INT(wd_store_list(d.s, &f, &arr, &next, err, sizeof(err)), WD_EINVAL);
		CHECK(strstr(err, "limit") != NULL);
		CHECK(arr == NULL);
		CHECK_EQ_INT(next, 0);
	}
	struct wd_incident_filter f = {.limit = 1, .cursor = -5};
	json_t *arr = NULL;
	int64_t next;
	char err[128] = "";
	CHECK_EQ_INT(wd_store_list(d.s, &f, &arr, &next, err, sizeof(err)), WD_EINVAL);
	CHECK(strstr(err, "cursor") != NULL);
	f = (struct wd_incident_filter){.limit = 1, .review_status = "maybe"};
	CHECK_EQ_INT(wd_store_list(d.s, &f, &arr, &next, err, sizeof(err)), WD_EINVAL);
	CHECK(strstr(err, "review_status") != NULL);
	char longq[2000];
	memset(longq, 'x', sizeof(longq) - 1);
	longq[sizeof(longq) - 1] = '\0';
	f = (struct wd_incident_filter){.limit = 1, .q = longq};
	CHECK_EQ_INT(wd_store_list(d.s, &f, &arr, &next, err, sizeof(err)), WD_EINVAL);
	CHECK(strstr(err, "q ") != NULL);
	/* limits at the edges are fine; err may be NULL */
	f = (struct wd_incident_filter){.limit = 1000};
	CHECK_EQ_INT(wd_store_list(d.s, &f, &arr, &next, NULL, 0), 0);
	CHECK_EQ_INT(json_array_size(arr), 0);
	json_decref(arr);
	f.limit = 0;
	CHECK_EQ_INT(wd_store_list(d.s, &f, &arr, &next, NULL, 0), WD_EINVAL);
	db_close(&d);
}

TEST(test_review)
{
	struct db d = {0};
	if (db_open(&d)) {
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(add(&d, filter_rows, 5), 0);
	json_t *o = NULL;

	CHECK_EQ_INT(wd_store_review(d.s, 2, "confirmed", "real attack", &o), 0);
	if (o) {
		json_t *rv = json_object_get(o, "review");
		CHECK_EQ_INT(json_integer_value(json_object_get(o, "id")), 2);
		CHECK_STR(jstr(rv, "status"), "confirmed");
		CHECK_STR(jstr(rv, "note"), "real attack");
		const char *at = jstr(rv, "reviewed_at");
		CHECK(at && strlen(at) == 24 && at[10] == 'T' && at[23] == 'Z');
		json_decref(o);
	}
	/* NULL note keeps the old one */
	CHECK_EQ_INT(wd_store_review(d.s, 2, "false_positive", NULL, &o), 0);
	if (o) {
		CHECK_STR(jstr(json_object_get(o, "review"), "status"), "false_positive");
		CHECK_STR(jstr(json_object_get(o, "review"), "note"), "real attack");
		json_decref(o);
	}
	/* back to open, note cleared to "" */
	CHECK_EQ_INT(wd_store_review(d.s, 2, "open", "", &o), 0);
	if (o) {
		CHECK_STR(jstr(json_object_get(o, "review"), "status"), "open");
		CHECK_STR(jstr(json_object_get(o, "review"), "note"), "");
		json_decref(o);
	}
	CHECK_EQ_INT(wd_store_review(d.s, 4, "false_positive", "noisy rule", &o), 0);
	json_decref(o);

	/* bad status: refused, the row unchanged */
	o = (json_t *)&o;
	CHECK_EQ_INT(wd_store_review(d.s, 4, "bogus", "x", &o), WD_EINVAL);
	CHECK(o == NULL);
	CHECK_EQ_INT(wd_store_review(d.s, 4, NULL, "x", &o), WD_EINVAL);
	CHECK_EQ_INT(wd_store_review(d.s, 4, "Confirmed", "x", &o), WD_EINVAL);
	CHECK_EQ_INT(wd_store_get(d.s, 4, &o), 0);
	if (o) {
		CHECK_STR(jstr(json_object_get(o, "review"), "status"), "false_positive");
		CHECK_STR(jstr(json_object_get(o, "review"), "note"), "noisy rule");
		json_decref(o);
	}
	/* unknown id */
	o = (json_t *)&o;
	CHECK_EQ_INT(wd_store_review(d.s, 42, "confirmed", NULL, &o), WD_ENOTFOUND);
	CHECK(o == NULL);

	/* the review status filter sees it */
	struct wd_incident_filter f = {.review_status = "false_positive"};
	CHECK_STR(list_ids(&d, f), "4");
	f = (struct wd_incident_filter){.review_status = "open"};
	CHECK_STR(list_ids(&d, f), "5,3,2,1");
	db_close(&d);
}

static int64_t series_count(json_t *st, size_t i)
{
	return json_integer_value(
	    json_object_get(json_array_get(json_object_get(st, "series"), i), "count"));
}

static const char *series_t(json_t *st, size_t i)
{
	return jstr(json_array_get(json_object_get(st, "series"), i), "t");
}

#define R(ts, ck, cat, act, mdl)                                                                   \
	{                                                                                          \
		.ts_ms = (ts), .checker = (ck), .category = (cat), .action = (act), .model = (mdl) \
	}

TEST(test_stats)
{
	struct db d = {0};
	if (db_open(&d)) {
		CHECK(0);
		return;
	}
	int64_t b = DAY0 + 9 * 60 * MIN; /* 09:00 */
	struct row r[] = {
	    R(b - 1, "pat", "S9", "block", "m1"),           /* before since */
	    R(b, "pat", "S9", "block", "m1"),               /* minute 0 */
	    R(b + 59999, "harm", "drift.x", "flag", NULL),  /* minute 0 */
	    R(b + 3 * MIN + 5, "pat", "S1", "block", "m2"), /* minute 3 */
	    R(b + 5 * MIN, "pat", "S9", "block", "m1"),     /* at until: excluded */
	};
	CHECK_EQ_INT(add(&d, r, 5), 0);
	json_t *st = NULL;

	CHECK_EQ_INT(wd_store_stats(d.s, b, b + 5 * MIN, 60, &st), 0);
	if (st) {
		CHECK_EQ_INT(json_integer_value(json_object_get(st, "total")), 3);
		json_t *c = json_object_get(st, "by_category");
		CHECK_EQ_INT(json_object_size(c), 3);
		CHECK_EQ_INT(json_integer_value(json_object_get(c, "S9")), 1);
		CHECK_EQ_INT(json_integer_value(json_object_get(c, "drift.x")), 1);
		CHECK_EQ_INT(json_integer_value(json_object_get(c, "S1")), 1);
		c = json_object_get(st, "by_checker");
		CHECK_EQ_INT(json_integer_value(json_object_get(c, "pat")), 2);
		CHECK_EQ_INT(json_integer_value(json_object_get(c, "harm")), 1);
		c = json_object_get(st, "by_action");
		CHECK_EQ_INT(json_integer_value(json_object_get(c, "block")), 2);
		CHECK_EQ_INT(json_integer_value(json_object_get(c, "flag")), 1);
		c = json_object_get(st, "by_model");
		CHECK_EQ_INT(json_integer_value(json_object_get(c, "m1")), 1);
		CHECK_EQ_INT(json_integer_value(json_object_get(c, "m2")), 1);
		CHECK_EQ_INT(json_integer_value(json_object_get(c, "")), 1); /* no model */
		/* every bucket, the empty ones too */
		CHECK_EQ_INT(json_array_size(json_object_get(st, "series")), 5);
		static const int want[] = {2, 0, 0, 1, 0};
		for (size_t i = 0; i < 5; i++)
			CHECK_EQ_INT(series_count(st, i), want[i]);
		CHECK_STR(series_t(st, 0), "2026-11-28T09:00:00.000Z");
		CHECK_STR(series_t(st, 4), "2026-11-28T09:04:00.000Z");
		json_decref(st);
	}

	/* since and until off the bucket edges: buckets start on the edge before since */
	st = NULL;
	CHECK_EQ_INT(wd_store_stats(d.s, b + 30000, b + 3 * MIN + 6, 60, &st), 0);
	if (st) {
		CHECK_EQ_INT(json_integer_value(json_object_get(st, "total")), 2);
		CHECK_EQ_INT(json_array_size(json_object_get(st, "series")), 4);
		CHECK_STR(series_t(st, 0), "2026-11-28T09:00:00.000Z");
		CHECK_EQ_INT(series_count(st, 0), 1); /* b itself is before since */
		CHECK_EQ_INT(series_count(st, 3), 1);
		json_decref(st);
	}

	/* hour and day buckets */
	st = NULL;
	CHECK_EQ_INT(wd_store_stats(d.s, DAY0, DAY0 + 86400000LL, 3600, &st), 0);
	if (st) {
		CHECK_EQ_INT(json_array_size(json_object_get(st, "series")), 24);
		CHECK_EQ_INT(series_count(st, 8), 1); /* b - 1: 08:59:59.999 */
		CHECK_EQ_INT(series_count(st, 9), 4);
		CHECK_EQ_INT(json_integer_value(json_object_get(st, "total")), 5);
		CHECK_STR(series_t(st, 23), "2026-11-28T23:00:00.000Z");
		json_decref(st);
	}
	st = NULL;
	CHECK_EQ_INT(wd_store_stats(d.s, DAY0 - 86400000LL, DAY0 + 86400000LL, 86400, &st), 0);
	if (st) {
		CHECK_EQ_INT(json_array_size(json_object_get(st, "series")), 2);
		CHECK_EQ_INT(series_count(st, 0), 0);
		CHECK_EQ_INT(series_count(st, 1), 5);
		CHECK_STR(series_t(st, 0), "2026-11-27T00:00:00.000Z");
		json_decref(st);
	}
	/* an empty window still has its buckets */
	st = NULL;
	CHECK_EQ_INT(wd_store_stats(d.s, DAY0 + 86400000LL, DAY0 + 86400000LL + 3 * MIN, 60, &st),
	             0);
	if (st) {
		CHECK_EQ_INT(json_integer_value(json_object_get(st, "total")), 0);
		CHECK_EQ_INT(json_array_size(json_object_get(st, "series")), 3);
		CHECK_EQ_INT(json_object_size(json_object_get(st, "by_category")), 0);
		json_decref(st);
	}
	/* 10000 buckets are allowed, 10001 are not */
	st = NULL;
	CHECK_EQ_INT(wd_store_stats(d.s, DAY0, DAY0 + 10000 * MIN, 60, &st), 0);
	CHECK_EQ_INT(json_array_size(json_object_get(st, "series")), 10000);
	json_decref(st);
	st = (json_t *)&st;
	CHECK_EQ_INT(wd_store_stats(d.s, DAY0, DAY0 + 10000 * MIN + 1, 60, &st), WD_EINVAL);
	CHECK(st == NULL);
	CHECK_EQ_INT(wd_store_stats(d.s, 0, DAY0, 60, &st), WD_EINVAL);
	/* bad buckets and windows */
	CHECK_EQ_INT(wd_store_stats(d.s, b, b + MIN, 61, &st), WD_EINVAL);
	CHECK_EQ_INT(wd_store_stats(d.s, b, b + MIN, 0, &st), WD_EINVAL);
	CHECK_EQ_INT(wd_store_stats(d.s, b, b, 60, &st), WD_EINVAL);
	CHECK_EQ_INT(wd_store_stats(d.s, b + MIN, b, 60, &st), WD_EINVAL);
	db_close(&d);
}

TEST(test_purge)
{
	struct db d = {0};
	if (db_open(&d)) {
		CHECK(0);
		return;
	}
	/* more than one purge chunk of old rows, then three new ones */
	struct row old = {.ts_ms = T0 - 86400000LL * 40};
	CHECK_EQ_INT(add_many(&d, &old, 6001, 1), 0);
	struct row fresh = {.ts_ms = T0};
	CHECK_EQ_INT(add_many(&d, &fresh, 3, 1000), 0);
	int64_t deleted = -1;
	CHECK_EQ_INT(wd_store_purge(d.s, T0, &deleted), 0);
	CHECK_EQ_INT(deleted, 6001);
	struct wd_incident_filter f = {0};
	CHECK_STR(list_ids(&d, f), "6004,6003,6002");
	/* the bound is exclusive: purging before T0 + 1000 takes only the first new row */
	CHECK_EQ_INT(wd_store_purge(d.s, T0 + 1000, &deleted), 0);
	CHECK_EQ_INT(deleted, 1);
	CHECK_EQ_INT(wd_store_purge(d.s, T0 + 1000, &deleted), 0);
	CHECK_EQ_INT(deleted, 0);
	CHECK_STR(list_ids(&d, f), "6004,6003");
	json_t *o = NULL;
	CHECK_EQ_INT(wd_store_get(d.s, 1, &o), WD_ENOTFOUND);
	db_close(&d);
}

/* Reads while the writer commits: every read succeeds and sees whole batches only. */
struct reader {
	struct wd_store *s;
	_Atomic int stop;
	int errors;
	_Atomic int reads;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	while (!atomic_load(&r->stop)) {
		struct wd_incident_filter f = {.limit = 1000};
		json_t *arr = NULL, *st = NULL;
		int64_t next;
		if (wd_store_list(r->s, &f, &arr, &next, NULL, 0) != 0 ||
		    json_array_size(arr) % 10 != 0)
			r->errors++;
		json_decref(arr);
		if (wd_store_stats(r->s, T0, T0 + 3600000LL, 60, &st) != 0 ||
		    json_integer_value(json_object_get(st, "total")) % 10 != 0)
			r->errors++;
		json_decref(st);
		r->reads++;
	}
	return NULL;
}

TEST(test_concurrent_reads)
{
	struct db d = {0};
	if (db_open(&d)) {
		CHECK(0);
		return;
	}
	struct reader rd = {.s = d.s};
	pthread_t t;
	CHECK_EQ_INT(pthread_create(&t, NULL, reader_main, &rd), 0);
	struct row r = {.ts_ms = T0};
	for (int i = 0; i < 60; i++) {
		/* every tenth batch waits (at most 2 s) for a read after the last one, so reads
		 * fall between commits even when the scheduler favours this thread */
		int seen = atomic_load(&rd.reads);
		for (int w = 0; i % 10 == 5 && w < 2000 && atomic_load(&rd.reads) == seen; w++)
			usleep(1000);
		CHECK_EQ_INT(add_many(&d, &r, 10, 1), 0);
	}
	atomic_store(&rd.stop, 1);
	pthread_join(t, NULL);
	CHECK_EQ_INT(rd.errors, 0);
	CHECK(atomic_load(&rd.reads) >= 6);
	struct wd_incident_filter f = {.limit = 1000};
	json_t *arr = NULL;
	int64_t next;
	CHECK_EQ_INT(wd_store_list(d.s, &f, &arr, &next, NULL, 0), 0);
	CHECK_EQ_INT(json_array_size(arr), 600);
	json_decref(arr);
	db_close(&d);
}

int main(void)
{
	wd_log_threshold = WD_LOG_WARN; /* quiet "applied migration" lines */
	RUN(test_row_json);
	RUN(test_filters);
	RUN(test_category_family);
	RUN(test_q_wildcards);
	RUN(test_paging);
	RUN(test_bad_params);
	RUN(test_review);
	RUN(test_stats);
	RUN(test_purge);
	RUN(test_concurrent_reads);
	return DONE();
}
