/* query.c — the read side of the incident store: listing with filters and cursor paging, one
 * incident, review updates, statistics for the dashboard, and the retention purge. Every function
 * here uses the store's reader connection (rdb) and holds rlock for as long as it does, so any
 * thread may call them; the writer thread has its own connection (store.c).
 *
 * Filter values always travel as bound parameters, never inside the SQL text. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store_int.h"

#define LIST_MAX_LIMIT 1000
#define Q_MAX_BYTES    1024  /* q longer than this is refused: SQLite caps LIKE patterns */
#define MAX_BUCKETS    10000 /* stats series length */
#define PURGE_CHUNK    5000  /* rows per DELETE, so the writer never waits long for the lock */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Floor division: bucket and second boundaries must hold before 1970 too. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* "2026-11-28T09:15:33.107Z"; JSON null when the instant has no four-digit year. */
static json_t *time_json(int64_t ms)
{
	int64_t sec = floor_div(ms, 1000);
	int msec = (int)(ms - sec * 1000);
	time_t t = (time_t)sec;
	struct tm tm;
	if ((int64_t)t != sec || !gmtime_r(&t, &tm) || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return json_null();
	char s[80]; /* sized for any int fields, to keep -Wformat-truncation quiet */
	snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, msec);
	return json_string(s);
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, surrogates or code points
 * above U+10FFFF), or 0 when the bytes there are not one. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len;
	unsigned lo = 0x80, hi = 0xBF;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

/* A JSON string from n bytes of column text. SQLite does not check that text is UTF-8 and jansson
 * refuses what is not, so invalid bytes become U+FFFD rather than losing the whole value. Returns
 * NULL only on OOM. */
static json_t *text_json(const unsigned char *p, size_t n)
{
	json_t *v = json_stringn((const char *)p, n);
	if (v)
		return v;
	char *o = malloc(n * 3 + 1);
	if (!o)
		return NULL;
	size_t j = 0;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq(p + i, n - i);
		if (l) {
			memcpy(o + j, p + i, l);
			j += l;
			i += l;
		} else {
			memcpy(o + j, "\xEF\xBF\xBD", 3);
			j += 3;
			i++;
		}
	}
	v = json_stringn(o, j);
	free(o);
	return v;
}

static json_t *col_text(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	const unsigned char *p = sqlite3_column_text(st, i);
	if (!p)
		return NULL; /* OOM converting the value to text */
	return text_json(p, (size_t)sqlite3_column_bytes(st, i));
}

static json_t *col_int(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return json_integer(sqlite3_column_int64(st, i));
}

static json_t *col_real(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	double d = sqlite3_column_double(st, i);
	return isfinite(d) ? json_real(d) : json_null();
}

static json_t *col_time(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return time_json(sqlite3_column_int64(st, i));
}

/* The evidence column holds a JSON object; anything else (it should not happen) reads as {}. */
static json_t *col_evidence(sqlite3_stmt *st, int i)
{
	const char *p = (const char *)sqlite3_column_text(st, i);
	json_t *v = NULL;
	if (p)
		v = json_loadb(p, (size_t)sqlite3_column_bytes(st, i), 0, NULL);
	if (v && json_is_object(v))
		return v;
	json_decref(v);
	return json_object();
}

/* Sets key to v (taking v); -1 when v is NULL (an allocation failed) or the set fails. */
static int put(json_t *o, const char *key, json_t *v)
{
	if (!v)
		return -1;
	return json_object_set_new(o, key, v);
}

json_t *wd_store_row_json(sqlite3_stmt *st)
{
	/* in WD_INCIDENT_COLUMNS order; 't' is ts_ms, served as "time" and "ts_ms" */
	static const struct {
		const char *key;
		char kind; /* i: integer, r: real, s: text, e: evidence, t: time, v: review */
	} cols[] = {
	    {"id", 'i'},       {"ts_ms", 't'},      {"request_id", 's'},  {"route", 's'},
	    {"model", 's'},    {"phase", 's'},      {"checker", 's'},     {"checker_type", 's'},
	    {"category", 's'}, {"action", 's'},     {"score", 'r'},       {"evidence", 'e'},
	    {"excerpt", 's'},  {"key_hash", 's'},   {"client_addr", 's'}, {"upstream_status", 'i'},
	    {"status", 'i'},   {"latency_ms", 'r'}, {"review", 'v'},
	};
	json_t *o = json_object();
	if (!o)
		return NULL;
	for (int i = 0; i < (int)(sizeof(cols) / sizeof(cols[0])); i++) {
		json_t *v = NULL;
		switch (cols[i].kind) {
		case 'i': v = col_int(st, i); break;
		case 'r': v = col_real(st, i); break;
		case 's': v = col_text(st, i); break;
		case 'e': v = col_evidence(st, i); break;
		case 't':
			if (put(o, "time", col_time(st, i)))
				goto fail;
			v = col_int(st, i);
			break;
		case 'v': /* review_status, review_note, reviewed_ms: the last three columns */
			v = json_object();
			if (v && (put(v, "status", col_text(st, i)) ||
			          put(v, "note", col_text(st, i + 1)) ||
			          put(v, "reviewed_at", col_time(st, i + 2)))) {
				json_decref(v);
				v = NULL;
			}
			break;
		}
		if (put(o, cols[i].key, v))
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* ---- building a filtered query ---- */

#define MAX_BINDS 16

struct query {
	struct wd_buf sql;
	int nbind;
	struct {
		int is_text;
		int64_t i;
		char *text; /* owned */
	} bind[MAX_BINDS];
	int rc; /* first error while building */
};

static void q_sql(struct query *q, const char *s)
{
	if (!q->rc)
		q->rc = wd_buf_appendz(&q->sql, s);
}

/* Adds a parameter and returns its number N; the SQL names it ?N, so one value can be used
 * twice. 0 once building has failed (q->rc says why; the SQL is then never run). */
static int q_int(struct query *q, int64_t v)
{
	if (q->rc)
		return 0;
	if (q->nbind == MAX_BINDS) {
		q->rc = WD_ETOOBIG;
		return 0;
	}
	q->bind[q->nbind].is_text = 0;
	q->bind[q->nbind].i = v;
	q->bind[q->nbind].text = NULL;
	return ++q->nbind;
}

/* Takes ownership of text (a malloc'd string). */
static int q_text(struct query *q, char *text)
{
	if (!text && !q->rc)
		q->rc = WD_ENOMEM;
	if (q->rc || q->nbind == MAX_BINDS) {
		free(text);
		if (!q->rc)
			q->rc = WD_ETOOBIG;
		return 0;
	}
	q->bind[q->nbind].is_text = 1;
	q->bind[q->nbind].text = text;
	return ++q->nbind;
}

static void q_fmt(struct query *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void q_fmt(struct query *q, const char *fmt, ...)
{
	if (q->rc)
		return;
	char s[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(s)) {
		q->rc = WD_ETOOBIG;
		return;
	}
	q->rc = wd_buf_append(&q->sql, s, (size_t)n);
}

static void q_free(struct query *q)
{
	wd_buf_free(&q->sql);
	for (int i = 0; i < q->nbind; i++)
		free(q->bind[i].text);
}

static int q_bind(struct query *q, sqlite3_stmt *st)
{
	for (int i = 0; i < q->nbind; i++) {
		int rc = q->bind[i].is_text
		             ? sqlite3_bind_text(st, i + 1, q->bind[i].text, -1, SQLITE_STATIC)
		             : sqlite3_bind_int64(st, i + 1, q->bind[i].i);
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

/* s with LIKE's wildcards and the escape character itself escaped by '\', between prefix and
 * suffix. malloc'd; NULL on OOM. */
static char *like_escape(const char *pre, const char *s, const char *suf)
{
	size_t n = strlen(s), pn = strlen(pre), sn = strlen(suf);
	char *o = malloc(pn + 2 * n + sn + 1);
	if (!o)
		return NULL;
	size_t j = pn;
	memcpy(o, pre, pn);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' || s[i] == '_' || s[i] == '\\')
			o[j++] = '\\';
		o[j++] = s[i];
	}
	memcpy(o + j, suf, sn + 1);
	return o;
}

static int is_review_status(const char *s)
{
	return s && (!strcmp(s, "open") || !strcmp(s, "confirmed") || !strcmp(s, "false_positive"));
}

/* An absent filter is NULL or "" (an empty field in a query string filters nothing). */
static int given(const char *s)
{
	return s && *s;
}

static void q_eq(struct query *q, const char *col, const char *v)
{
	if (!given(v))
		return;
	int n = q_text(q, strdup(v));
	q_fmt(q, " AND %s = ?%d", col, n);
}

/* The WHERE clause for f (after "WHERE 1"). */
static void q_filter(struct query *q, const struct wd_incident_filter *f)
{
	if (f->since_ms)
		q_fmt(q, " AND ts_ms >= ?%d", q_int(q, f->since_ms));
	if (f->until_ms)
		q_fmt(q, " AND ts_ms < ?%d", q_int(q, f->until_ms));
	q_eq(q, "checker", f->checker);
	q_eq(q, "action", f->action);
	q_eq(q, "model", f->model);
	q_eq(q, "key_hash", f->key_hash);
	q_eq(q, "request_id", f->request_id);
	q_eq(q, "review_status", f->review_status);
	if (given(f->category)) {
		/* Exact id, or the family: every id that starts with "<prefix>." — i.e. the ids in
		 * ["<prefix>.", "<prefix>/") under the column's binary collation ('/' follows '.').
		 * Unlike LIKE this needs no escaping, is case-sensitive like the exact match, and
		 * can use the (category, id) index. */
		int n = q_text(q, strdup(f->category));
		q_fmt(q,
		      " AND (category = ?%d OR (category >= ?%d || '.' AND category < ?%d || '/'))",
		      n, n, n);
	}
	if (given(f->q)) {
		/* LIKE is case-insensitive for ASCII letters only (SQLite without ICU). */
		int n = q_text(q, like_escape("%", f->q, "%"));
		q_fmt(q, " AND (excerpt LIKE ?%d ESCAPE '\\' OR evidence LIKE ?%d ESCAPE '\\')", n,
		      n);
	}
	if (f->cursor)
		q_fmt(q, " AND id < ?%d", q_int(q, f->cursor));
}

/* Prepares q's SQL on s->rdb and binds its parameters; the caller holds rlock. */
static int q_prepare(struct wd_store *s, struct query *q, sqlite3_stmt **st, char *err,
                     size_t errlen)
{
	*st = NULL;
	if (q->rc) {
		set_err(err, errlen, "building the query: %s", wd_strerror(q->rc));
		return q->rc;
	}
	if (sqlite3_prepare_v2(s->rdb, q->sql.data, (int)q->sql.len, st, NULL) != SQLITE_OK ||
	    q_bind(q, *st) != SQLITE_OK) {
		set_err(err, errlen, "store: %s", sqlite3_errmsg(s->rdb));
		sqlite3_finalize(*st);
		*st = NULL;
		return WD_EIO;
	}
	return WD_OK;
}

int wd_store_list(struct wd_store *s, const struct wd_incident_filter *f, json_t **incidents,
                  int64_t *next_cursor, char *err, size_t errlen)
{
	struct query q = {0};
	sqlite3_stmt *st = NULL;
	json_t *arr = NULL;
	int64_t last = 0;
	int rc, n = 0, locked = 0;

	*incidents = NULL;
	*next_cursor = 0;
	wd_buf_init(&q.sql, 4096);
	if (f->limit < 1 || f->limit > LIST_MAX_LIMIT) {
		set_err(err, errlen, "limit must be between 1 and %d (got %d)", LIST_MAX_LIMIT,
		        f->limit);
		rc = WD_EINVAL;
		goto out;
	}
	if (f->cursor < 0) {
		set_err(err, errlen, "cursor must be a positive incident id (got %" PRId64 ")",
		        f->cursor);
		rc = WD_EINVAL;
		goto out;
	}
	if (given(f->q) && strlen(f->q) > Q_MAX_BYTES) {
		set_err(err, errlen, "q is longer than %d bytes", Q_MAX_BYTES);
		rc = WD_EINVAL;
		goto out;
	}
	if (given(f->review_status) && !is_review_status(f->review_status)) {
		set_err(err, errlen, "review_status must be open, confirmed or false_positive");
		rc = WD_EINVAL;
		goto out;
	}
	arr = json_array();
	if (!arr) {
		rc = WD_ENOMEM;
		goto out;
	}

	q_sql(&q, "SELECT " WD_INCIDENT_COLUMNS " FROM incidents WHERE 1");
	q_filter(&q, f);
	/* one row more than the page: it says whether a next page exists */
	q_fmt(&q, " ORDER BY id DESC LIMIT ?%d", q_int(&q, (int64_t)f->limit + 1));

	pthread_mutex_lock(&s->rlock);
	locked = 1;
	rc = q_prepare(s, &q, &st, err, errlen);
	if (rc)
		goto out;
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == f->limit) {
			*next_cursor = last;
			break;
		}
		json_t *row = wd_store_row_json(st);
		if (!row || json_array_append_new(arr, row)) {
			rc = WD_ENOMEM;
			goto out;
		}
		last = sqlite3_column_int64(st, 0);
		n++;
	}
	if (src != SQLITE_ROW && src != SQLITE_DONE) {
		set_err(err, errlen, "store: %s", sqlite3_errmsg(s->rdb));
		rc = WD_EIO;
		goto out;
	}
	*incidents = arr;
	arr = NULL;
	rc = WD_OK;
out:
	sqlite3_finalize(st);
	if (locked)
		pthread_mutex_unlock(&s->rlock);
	if (rc)
		*next_cursor = 0;
	json_decref(arr);
	q_free(&q);
	return rc;
}

/* Steps st (bound, rlock held) expecting at most one row; *out gets it as JSON. */
static int one_row(sqlite3_stmt *st, json_t **out)
{
	int src = sqlite3_step(st);
	if (src == SQLITE_DONE)
		return WD_ENOTFOUND;
	if (src != SQLITE_ROW)
		return WD_EIO;
	*out = wd_store_row_json(st);
	if (!*out)
		return WD_ENOMEM;
	/* finish the statement (an UPDATE ... RETURNING writes only when it is run to its end) */
	while ((src = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (src != SQLITE_DONE) {
		json_decref(*out);
		*out = NULL;
		return WD_EIO;
	}
	return WD_OK;
}

int wd_store_get(struct wd_store *s, int64_t id, json_t **out)
{
	static const char sql[] = "SELECT " WD_INCIDENT_COLUMNS " FROM incidents WHERE id = ?1";
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	pthread_mutex_lock(&s->rlock);
	if (sqlite3_prepare_v2(s->rdb, sql, sizeof(sql), &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
		rc = WD_EIO;
		goto out;
	}
	rc = one_row(st, out);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->rlock);
	return rc;
}

int wd_store_review(struct wd_store *s, int64_t id, const char *status, const char *note,
                    json_t **out)
{
	/* one statement, so the row served is exactly the row written */
	static const char sql[] = "UPDATE incidents SET review_status = ?1, "
	                          "review_note = COALESCE(?2, review_note), reviewed_ms = ?3 "
	                          "WHERE id = ?4 RETURNING " WD_INCIDENT_COLUMNS;
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if (!is_review_status(status))
		return WD_EINVAL;
	pthread_mutex_lock(&s->rlock);
	if (sqlite3_prepare_v2(s->rdb, sql, sizeof(sql), &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC) != SQLITE_OK ||
	    (note ? sqlite3_bind_text(st, 2, note, -1, SQLITE_STATIC) : sqlite3_bind_null(st, 2)) !=
	        SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, now_ms()) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, id) != SQLITE_OK) {
		rc = WD_EIO;
		goto out;
	}
	rc = one_row(st, out);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->rlock);
	return rc;
}

/* ---- stats ---- */

/* Runs `SELECT <col>, count(*) ... GROUP BY <col>` over [since, until) into obj; a NULL value
 * counts under the key "". rlock held. */
static int count_by(struct wd_store *s, const char *col, int64_t since, int64_t until, json_t *obj)
{
	char sql[200];
	sqlite3_stmt *st = NULL;
	int rc = WD_OK, src;

	snprintf(sql, sizeof(sql),
	         "SELECT %s, count(*) FROM incidents WHERE ts_ms >= ?1 AND ts_ms < ?2 GROUP BY %s",
	         col, col);
	if (sqlite3_prepare_v2(s->rdb, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = WD_EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *k = col_text(st, 0);
		const char *key = json_is_string(k) ? json_string_value(k) : "";
		size_t klen = json_is_string(k) ? json_string_length(k) : 0;
		int64_t prev = json_integer_value(json_object_getn(obj, key, klen));
		int bad =
		    !k || json_object_setn_new(obj, key, klen,
		                               json_integer(prev + sqlite3_column_int64(st, 1)));
		json_decref(k);
		if (bad) {
			rc = WD_ENOMEM;
			goto out;
		}
	}
	if (src != SQLITE_DONE)
		rc = WD_EIO;
out:
	sqlite3_finalize(st);
	return rc;
}

/* The series: one {"t", "count"} per bucket, empty buckets included. rlock held. */
static int series(struct wd_store *s, int64_t since, int64_t until, int64_t bms, int64_t first,
                  size_t nb, json_t *arr, int64_t *total)
{
	static const char sql[] = "SELECT (ts_ms - ?1) / ?2, count(*) FROM incidents "
	                          "WHERE ts_ms >= ?3 AND ts_ms < ?4 GROUP BY 1";
	sqlite3_stmt *st = NULL;
	int64_t *cnt = calloc(nb, sizeof(*cnt));
	int rc = WD_OK, src;

	*total = 0;
	if (!cnt)
		return WD_ENOMEM;
	if (sqlite3_prepare_v2(s->rdb, sql, sizeof(sql), &st, NULL) != SQLITE_OK) {
		rc = WD_EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, first);
	sqlite3_bind_int64(st, 2, bms);
	sqlite3_bind_int64(st, 3, since);
	sqlite3_bind_int64(st, 4, until);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		/* ts_ms >= since >= first, so the quotient is the bucket's index */
		int64_t k = sqlite3_column_int64(st, 0);
		if (k >= 0 && (uint64_t)k < nb)
			cnt[k] += sqlite3_column_int64(st, 1);
		*total += sqlite3_column_int64(st, 1);
	}
	if (src != SQLITE_DONE) {
		rc = WD_EIO;
		goto out;
	}
	for (size_t i = 0; i < nb; i++) {
		json_t *b = json_object();
		if (b && (put(b, "t", time_json(first + (int64_t)i * bms)) ||
		          put(b, "count", json_integer(cnt[i])))) {
			json_decref(b);
			b = NULL;
		}
		if (!b || json_array_append_new(arr, b)) { /* append_new frees b when it fails */
			rc = WD_ENOMEM;
			goto out;
		}
	}
out:
	sqlite3_finalize(st);
	free(cnt);
	return rc;
}

int wd_store_stats(struct wd_store *s, int64_t since_ms, int64_t until_ms, int bucket_s,
                   json_t **out)
{
	static const char *const dims[][2] = {{"by_category", "category"},
	                                      {"by_checker", "checker"},
	                                      {"by_action", "action"},
	                                      {"by_model", "model"}};
	json_t *o = NULL, *arr = NULL;
	int64_t total = 0;
	int rc, in_tx = 0;

	*out = NULL;
	if (bucket_s != 60 && bucket_s != 3600 && bucket_s != 86400)
		return WD_EINVAL;
	if (!until_ms)
		until_ms = now_ms();
	if (until_ms <= since_ms)
		return WD_EINVAL;
	int64_t bms = (int64_t)bucket_s * 1000;
	int64_t first = floor_div(since_ms, bms) * bms;
	/* compare in bucket indexes so a huge span cannot overflow */
	int64_t nb = floor_div(until_ms - 1, bms) - floor_div(since_ms, bms) + 1;
	if (nb < 1 || nb > MAX_BUCKETS)
		return WD_EINVAL;

	o = json_object();
	arr = json_array();
	/* "total" first in the document; its value is set once known */
	if (!o || !arr || put(o, "total", json_integer(0))) {
		rc = WD_ENOMEM;
		goto out;
	}
	pthread_mutex_lock(&s->rlock);
	/* one read transaction: every count comes from the same snapshot, so they add up */
	in_tx = sqlite3_exec(s->rdb, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	rc = in_tx ? WD_OK : WD_EIO;
	for (size_t i = 0; !rc && i < sizeof(dims) / sizeof(dims[0]); i++) {
		json_t *d = json_object();
		if (put(o, dims[i][0], d)) {
			rc = WD_ENOMEM;
			break;
		}
		rc = count_by(s, dims[i][1], since_ms, until_ms, d);
	}
	if (!rc)
		rc = series(s, since_ms, until_ms, bms, first, (size_t)nb, arr, &total);
	if (in_tx)
		sqlite3_exec(s->rdb, "COMMIT", NULL, NULL, NULL);
	pthread_mutex_unlock(&s->rlock);
	if (rc)
		goto out;
	if (put(o, "total", json_integer(total))) {
		rc = WD_ENOMEM;
		goto out;
	}
	rc = json_object_set(o, "series", arr) ? WD_ENOMEM : WD_OK;
	if (rc)
		goto out;
	*out = o;
	o = NULL;
out:
	json_decref(arr);
	json_decref(o);
	return rc;
}

/* Deletes in chunks on db (taking lock, when given, around each chunk): one huge DELETE would
 * hold the write lock and stall the writer's commits. */
int wd_store_purge_db(sqlite3 *db, pthread_mutex_t *lock, int64_t before_ms, int64_t *deleted)
{
	static const char sql[] = "DELETE FROM incidents WHERE id IN "
	                          "(SELECT id FROM incidents WHERE ts_ms < ?1 LIMIT ?2)";
	sqlite3_stmt *st = NULL;
	int rc = WD_OK;

	*deleted = 0;
	for (;;) {
		int n = 0;
		if (lock)
			pthread_mutex_lock(lock);
		if (!st && (sqlite3_prepare_v2(db, sql, sizeof(sql), &st, NULL) != SQLITE_OK)) {
			rc = WD_EIO;
		} else {
			sqlite3_reset(st);
			sqlite3_bind_int64(st, 1, before_ms);
			sqlite3_bind_int64(st, 2, PURGE_CHUNK);
			rc = sqlite3_step(st) == SQLITE_DONE ? WD_OK : WD_EIO;
			n = rc ? 0 : sqlite3_changes(db);
		}
		int last = rc || n < PURGE_CHUNK;
		if (last) {
			sqlite3_finalize(st);
			st = NULL;
		}
		if (lock)
			pthread_mutex_unlock(lock);
		if (!rc)
			*deleted += n;
		if (last)
			break;
	}
	return rc;
}

int wd_store_purge(struct wd_store *s, int64_t before_ms, int64_t *deleted)
{
	return wd_store_purge_db(s->rdb, &s->rlock, before_ms, deleted);
}
