/* store.h — the incident store: SQLite in WAL mode, schema from migrations/NNNN_name.sql
 * (compiled into the binary) applied in order and tracked by PRAGMA user_version.
 *
 * Writes go through one writer thread that commits everything queued in one transaction (group
 * commit) and then calls each batch's done callback: the proxy finishes a response that caused an
 * incident only from that callback, so a crash (kill -9 included) loses no incident whose client
 * got an answer. Reads (the admin API) use their own connection. The store knows nothing of
 * checkers or HTTP: an incident is a row. */
#ifndef WD_STORE_STORE_H
#define WD_STORE_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

/* One incident. Strings are owned (malloc'd) by the incident; NULL where unknown. */
struct wd_incident {
	int64_t id; /* set by the store */
	int64_t ts_ms;
	char *request_id, *route, *model, *phase, *checker, *checker_type, *category, *action;
	double score;
	char *evidence; /* JSON text; "{}" when NULL */
	char *excerpt;  /* text kept per store.capture */
	char *key_hash;
	char *client_addr;
	int upstream_status, status;
	double latency_ms;
};
void wd_incident_clear(struct wd_incident *inc);

struct wd_store;

struct wd_store_opts {
	const char *path;
	enum wd_sync sync;
	int retention_days; /* 0: keep forever */
	size_t max_queue; /* incidents waiting to be written before enqueue refuses (WD_ETOOBIG) */
};

/* Opens (creating) the database, applies pending migrations, starts the writer thread. */
int wd_store_open(const struct wd_store_opts *o, struct wd_store **out, char *err, size_t errlen);
/* Writes what is queued, stops the writer, closes. */
void wd_store_close(struct wd_store *s);
/* `warden migrate`: applies pending migrations to path and reports the versions. */
int wd_store_migrate(const char *path, int *from, int *to, char *err, size_t errlen);
/* The schema version this binary knows (the number of the last migration). */
int wd_store_schema_version(void);

/* Called on the writer thread once the incidents are durable (rc 0) or could not be written
 * (rc < 0, after retries; the incidents are then lost and counted). */
typedef void (*wd_store_done)(void *arg, int rc);

/* Queues n incidents (takes ownership of the array and everything in it; free()d by the store)
 * for the next group commit; done(arg, rc) follows. Thread-safe. Returns WD_ETOOBIG when the queue
 * is full (the caller still owns nothing: the store frees them) and then never calls done. */
int wd_store_enqueue(struct wd_store *s, struct wd_incident *inc, size_t n, wd_store_done done,
                     void *arg);

/* Writer counters, for metrics. */
struct wd_store_counters {
	uint64_t committed;   /* incidents written */
	uint64_t commits;     /* transactions */
	uint64_t failed;      /* incidents that could not be written */
	uint64_t queue_depth; /* incidents waiting now */
	uint64_t last_batch;  /* incidents in the last transaction */
	uint64_t commit_us_total;
	uint64_t commit_us_buckets[12]; /* commit latency histogram, upper bounds in
	                                   wd_store_commit_bounds_us (last: +Inf) */
};
extern const uint64_t wd_store_commit_bounds_us[12];
void wd_store_counters(struct wd_store *s, struct wd_store_counters *out);

/* ---- reads (their own connection, serialised by a mutex; any thread) ---- */

struct wd_incident_filter {
	int64_t since_ms, until_ms; /* 0: unbounded */
	const char *checker, *action, *model, *key_hash, *request_id;
	const char
	    *category; /* exact id, or a family prefix: "drift" matches "drift.refusal_rate" */
	const char *q; /* substring of the excerpt or evidence */
	const char *review_status;
	int limit;      /* 1..1000 */
	int64_t cursor; /* 0: from the newest; else ids below this */
};

/* Newest first. *incidents is a JSON array of incident objects (caller owns); *next_cursor is the
 * cursor for the next page, 0 when there is none. */
int wd_store_list(struct wd_store *s, const struct wd_incident_filter *f, json_t **incidents,
                  int64_t *next_cursor, char *err, size_t errlen);
/* One incident as a JSON object; WD_ENOTFOUND. */
int wd_store_get(struct wd_store *s, int64_t id, json_t **out);
/* Sets review status (open, confirmed, false_positive) and note (NULL keeps it); returns the
 * updated incident. WD_ENOTFOUND, or WD_EINVAL for a bad status. */
int wd_store_review(struct wd_store *s, int64_t id, const char *status, const char *note,
                    json_t **out);
/* {"total", "by_category", "by_checker", "by_action", "by_model", "series": [{"t", "count"}]}
 * over [since_ms, until_ms) with buckets of bucket_s seconds (60, 3600, 86400). */
int wd_store_stats(struct wd_store *s, int64_t since_ms, int64_t until_ms, int bucket_s,
                   json_t **out);
/* Deletes incidents older than before_ms; *deleted gets the count. */
int wd_store_purge(struct wd_store *s, int64_t before_ms, int64_t *deleted);

#endif
