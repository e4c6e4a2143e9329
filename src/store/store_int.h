/* store_int.h — the store's insides, shared by store.c (open, migrations, the writer thread) and
 * query.c (the read side). Not a public header. */
#ifndef WD_STORE_STORE_INT_H
#define WD_STORE_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "store/store.h"

struct batch {
	struct batch *next;
	struct wd_incident *inc;
	size_t n;
	wd_store_done done;
	void *arg;
};

struct wd_store {
	struct wd_store_opts opts;
	char *path;

	/* the read side: one connection, one reader at a time */
	sqlite3 *rdb;
	pthread_mutex_t rlock;

	/* the writer */
	sqlite3 *wdb;
	pthread_t writer;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct batch *head, *tail; /* queued batches, oldest first */
	size_t queued;             /* incidents in the queue */
	int stopping;

	/* counters (read by wd_store_counters) */
	_Atomic uint64_t committed, commits, failed, last_batch, commit_us_total;
	_Atomic uint64_t commit_us_buckets[12];
};

/* Writes one incident row as the JSON object the API serves (id, time, ts_ms, request_id, route,
 * model, phase, checker, checker_type, category, action, score, evidence (object), excerpt,
 * key_hash, client_addr, upstream_status, status, latency_ms, review {status, note, reviewed_at}).
 * stmt is positioned on a row of `SELECT <WD_INCIDENT_COLUMNS> FROM incidents ...`. */
#define WD_INCIDENT_COLUMNS                                                                      \
	"id, ts_ms, request_id, route, model, phase, checker, checker_type, category, action, "  \
	"score, evidence, excerpt, key_hash, client_addr, upstream_status, status, latency_ms, " \
	"review_status, review_note, reviewed_ms"
json_t *wd_store_row_json(sqlite3_stmt *stmt);
/* The purge on a given connection: the writer runs it on its own (query.c). */
int wd_store_purge_db(sqlite3 *db, pthread_mutex_t *lock, int64_t before_ms, int64_t *deleted);

#endif
