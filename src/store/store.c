/* store.c — opening the incident database, applying migrations, and the writer thread with group
 * commit; see store.h. The read side is in query.c.
 *
 * The writer takes everything queued at once and writes it in one transaction, so under load a
 * commit carries many incidents and the per-incident cost of the fsync (synchronous=full) or the
 * WAL append (normal) is shared. Only after COMMIT returns are the batches' done callbacks run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/embed.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store_int.h"

#define RETRIES 5

const uint64_t wd_store_commit_bounds_us[12] = {100,   250,   500,   1000,   2500,   5000,
                                                10000, 25000, 50000, 100000, 250000, UINT64_MAX};

void wd_incident_clear(struct wd_incident *inc)
{
	free(inc->request_id);
	free(inc->route);
	free(inc->model);
	free(inc->phase);
	free(inc->checker);
	free(inc->checker_type);
	free(inc->category);
	free(inc->action);
	free(inc->evidence);
	free(inc->excerpt);
	free(inc->key_hash);
	free(inc->client_addr);
	memset(inc, 0, sizeof *inc);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "0007_name.sql" → 7; -1 when the name does not start with digits and '_'. */
static int migration_number(const char *name)
{
	char *end;
	long n = strtol(name, &end, 10);
	return end != name && *end == '_' && n > 0 ? (int)n : -1;
}

int wd_store_schema_version(void)
{
	int v = 0;
	for (size_t i = 0; i < wd_migrations_count; i++) {
		int n = migration_number(wd_migrations[i].name);
		if (n > v)
			v = n;
	}
	return v;
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return WD_EIO;
	}
	return WD_OK;
}

static void rollback(sqlite3 *db)
{
	char ignored[64];
	exec(db, "ROLLBACK", ignored, sizeof ignored);
}

static int user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Applies every embedded migration newer than the database, each in its own transaction. */
static int migrate(sqlite3 *db, const char *path, int *from, int *to, char *err, size_t errlen)
{
	int v = user_version(db);
	int want = wd_store_schema_version();
	if (from)
		*from = v;
	if (v < 0) {
		snprintf(err, errlen, "%s: cannot read the schema version: %s", path,
		         sqlite3_errmsg(db));
		return WD_EIO;
	}
	if (v > want) {
		snprintf(err, errlen,
		         "%s: schema version %d is newer than this warden knows (%d); use a newer "
		         "warden",
		         path, v, want);
		return WD_EINVAL;
	}
	/* migrations are applied in number order, whatever order the table holds them in */
	for (int n = v + 1; n <= want; n++) {
		const struct wd_embedded *m = NULL;
		for (size_t i = 0; i < wd_migrations_count; i++) {
			if (migration_number(wd_migrations[i].name) == n)
				m = &wd_migrations[i];
		}
		if (!m)
			continue;
		char why[512], sql[64];
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", n);
		if (exec(db, "BEGIN IMMEDIATE", why, sizeof why) ||
		    exec(db, (const char *)m->data, why, sizeof why) ||
		    exec(db, sql, why, sizeof why) || exec(db, "COMMIT", why, sizeof why)) {
			rollback(db);
			snprintf(err, errlen, "%s: migration %s failed: %s", path, m->name, why);
			return WD_EIO;
		}
		wd_info(NULL, "store: applied migration %s", m->name);
	}
	if (to)
		*to = want;
	return WD_OK;
}

static int open_db(const char *path, int flags, sqlite3 **out, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		         db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return WD_EIO;
	}
	sqlite3_busy_timeout(db, 5000);
	*out = db;
	return WD_OK;
}

int wd_store_migrate(const char *path, int *from, int *to, char *err, size_t errlen)
{
	sqlite3 *db;
	int rc = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db, err, errlen);
	if (rc)
		return rc;
	char why[256];
	rc = exec(db, "PRAGMA journal_mode = WAL", why, sizeof why);
	if (rc)
		snprintf(err, errlen, "%s: %s", path, why);
	else
		rc = migrate(db, path, from, to, err, errlen);
	sqlite3_close(db);
	return rc;
}

/* ---- the writer ---- */

static const char insert_sql[] =
    "INSERT INTO incidents (ts_ms, request_id, route, model, phase, checker, checker_type, "
    "category, action, score, evidence, excerpt, key_hash, client_addr, upstream_status, status, "
    "latency_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int insert(sqlite3_stmt *st, struct wd_incident *inc)
{
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, inc->ts_ms);
	bind_text(st, 2, inc->request_id ? inc->request_id : "");
	bind_text(st, 3, inc->route ? inc->route : "other");
	bind_text(st, 4, inc->model);
	bind_text(st, 5, inc->phase ? inc->phase : "request");
	bind_text(st, 6, inc->checker ? inc->checker : "");
	bind_text(st, 7, inc->checker_type ? inc->checker_type : "");
	bind_text(st, 8, inc->category ? inc->category : "custom");
	bind_text(st, 9, inc->action ? inc->action : "flag");
	sqlite3_bind_double(st, 10, inc->score);
	bind_text(st, 11, inc->evidence ? inc->evidence : "{}");
	bind_text(st, 12, inc->excerpt);
	bind_text(st, 13, inc->key_hash);
	bind_text(st, 14, inc->client_addr);
	sqlite3_bind_int(st, 15, inc->upstream_status);
	sqlite3_bind_int(st, 16, inc->status);
	sqlite3_bind_double(st, 17, inc->latency_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		return WD_EIO;
	inc->id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	return WD_OK;
}

/* Writes every incident of the batches in one transaction. */
static int write_batches(struct wd_store *s, sqlite3_stmt *st, struct batch *b, size_t *count)
{
	char why[256];
	*count = 0;
	if (exec(s->wdb, "BEGIN IMMEDIATE", why, sizeof why))
		goto fail;
	for (; b; b = b->next) {
		for (size_t i = 0; i < b->n; i++) {
			if (insert(st, &b->inc[i])) {
				snprintf(why, sizeof why, "%s", sqlite3_errmsg(s->wdb));
				rollback(s->wdb);
				goto fail;
			}
			(*count)++;
		}
	}
	if (exec(s->wdb, "COMMIT", why, sizeof why)) {
		rollback(s->wdb);
		goto fail;
	}
	return WD_OK;
fail:
	wd_error(NULL, "store: cannot write incidents: %s", why);
	return WD_EIO;
}

static void free_batches(struct batch *b)
{
	while (b) {
		struct batch *next = b->next;
		for (size_t i = 0; i < b->n; i++)
			wd_incident_clear(&b->inc[i]);
		free(b->inc);
		free(b);
		b = next;
	}
}

static void purge_old(struct wd_store *s)
{
	if (s->opts.retention_days <= 0)
		return;
	int64_t deleted = 0;
	int64_t before = now_ms() - (int64_t)s->opts.retention_days * 86400 * 1000;
	if (wd_store_purge_db(s->wdb, NULL, before, &deleted) == WD_OK && deleted > 0)
		wd_info(NULL, "store: purged %lld incidents older than %d days", (long long)deleted,
		        s->opts.retention_days);
}

static void *writer_main(void *arg)
{
	struct wd_store *s = arg;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->wdb, insert_sql, -1, &st, NULL) != SQLITE_OK)
		wd_error(NULL, "store: %s", sqlite3_errmsg(s->wdb));
	int64_t next_purge = 0;
	pthread_mutex_lock(&s->qlock);
	for (;;) {
		while (!s->head && !s->stopping) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 60; /* wakes now and then for the retention purge */
			pthread_cond_timedwait(&s->qcond, &s->qlock, &until);
			if (!s->head && mono_us() >= next_purge)
				break;
		}
		if (!s->head && s->stopping)
			break;
		struct batch *b = s->head;
		size_t n = s->queued;
		s->head = s->tail = NULL;
		s->queued = 0;
		pthread_mutex_unlock(&s->qlock);

		if (mono_us() >= next_purge) {
			purge_old(s);
			next_purge = mono_us() + (int64_t)3600 * 1000000;
		}
		if (b) {
			int64_t t0 = mono_us();
			size_t written = 0;
			int rc = WD_EIO;
			for (int attempt = 0; st && attempt < RETRIES; attempt++) {
				rc = write_batches(s, st, b, &written);
				if (rc == WD_OK)
					break;
				usleep(10000u << attempt); /* a locked or busy database: back off */
			}
			uint64_t us = (uint64_t)(mono_us() - t0);
			if (rc == WD_OK) {
				atomic_fetch_add(&s->committed, n);
				atomic_fetch_add(&s->commits, 1);
				atomic_store(&s->last_batch, n);
				atomic_fetch_add(&s->commit_us_total, us);
				int k = 0;
				while (us > wd_store_commit_bounds_us[k])
					k++;
				atomic_fetch_add(&s->commit_us_buckets[k], 1);
			} else {
				atomic_fetch_add(&s->failed, n);
			}
			for (struct batch *x = b; x; x = x->next) {
				if (x->done)
					x->done(x->arg, rc);
			}
			free_batches(b);
		}
		pthread_mutex_lock(&s->qlock);
	}
	pthread_mutex_unlock(&s->qlock);
	sqlite3_finalize(st);
	return NULL;
}

int wd_store_enqueue(struct wd_store *s, struct wd_incident *inc, size_t n, wd_store_done done,
                     void *arg)
{
	struct batch *b = calloc(1, sizeof *b);
	if (!b) {
		for (size_t i = 0; i < n; i++)
			wd_incident_clear(&inc[i]);
		free(inc);
		return WD_ENOMEM;
	}
	*b = (struct batch){NULL, inc, n, done, arg};
	pthread_mutex_lock(&s->qlock);
	if (s->stopping || s->queued + n > s->opts.max_queue) {
		pthread_mutex_unlock(&s->qlock);
		b->done = NULL;
		free_batches(b);
		atomic_fetch_add(&s->failed, n);
		return WD_ETOOBIG;
	}
	if (s->tail)
		s->tail->next = b;
	else
		s->head = b;
	s->tail = b;
	s->queued += n;
	pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	return WD_OK;
}

void wd_store_counters(struct wd_store *s, struct wd_store_counters *out)
{
	memset(out, 0, sizeof *out);
	out->committed = atomic_load(&s->committed);
	out->commits = atomic_load(&s->commits);
	out->failed = atomic_load(&s->failed);
	out->last_batch = atomic_load(&s->last_batch);
	out->commit_us_total = atomic_load(&s->commit_us_total);
	for (int i = 0; i < 12; i++)
		out->commit_us_buckets[i] = atomic_load(&s->commit_us_buckets[i]);
	pthread_mutex_lock(&s->qlock);
	out->queue_depth = s->queued;
	pthread_mutex_unlock(&s->qlock);
}

int wd_store_open(const struct wd_store_opts *o, struct wd_store **out, char *err, size_t errlen)
{
	struct wd_store *s = calloc(1, sizeof *s);
	if (!s)
		return WD_ENOMEM;
	s->opts = *o;
	if (!s->opts.max_queue)
		s->opts.max_queue = 100000;
	s->path = strdup(o->path);
	pthread_mutex_init(&s->rlock, NULL);
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qcond, NULL);
	char why[256], pragma[64];
	int rc = open_db(o->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->wdb, err, errlen);
	if (rc)
		goto fail;
	snprintf(pragma, sizeof pragma, "PRAGMA synchronous = %s",
	         o->sync == WD_SYNC_FULL ? "FULL" : "NORMAL");
	if (exec(s->wdb, "PRAGMA journal_mode = WAL", why, sizeof why) ||
	    exec(s->wdb, pragma, why, sizeof why)) {
		snprintf(err, errlen, "%s: %s", o->path, why);
		rc = WD_EIO;
		goto fail;
	}
	rc = migrate(s->wdb, o->path, NULL, NULL, err, errlen);
	if (rc)
		goto fail;
	rc = open_db(o->path, SQLITE_OPEN_READWRITE, &s->rdb, err, errlen);
	if (rc)
		goto fail;
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
		snprintf(err, errlen, "cannot start the store's writer thread");
		rc = WD_EIO;
		goto fail;
	}
	*out = s;
	return WD_OK;
fail:
	sqlite3_close(s->rdb);
	sqlite3_close(s->wdb);
	free(s->path);
	free(s);
	return rc;
}

void wd_store_close(struct wd_store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->qlock);
	s->stopping = 1;
	pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	pthread_join(s->writer, NULL);
	sqlite3_close(s->rdb);
	sqlite3_close(s->wdb);
	pthread_mutex_destroy(&s->rlock);
	pthread_mutex_destroy(&s->qlock);
	pthread_cond_destroy(&s->qcond);
	free(s->path);
	free(s);
}
