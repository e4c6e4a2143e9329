/* chain.h — the checker chain: built once from the `checkers` config, then run per transaction
 * (a wd_run) through the request phase, each streamed delta, and the end of the response.
 *
 * Every checker call ends in one honest outcome: clean, incident, skipped, errored or timed out.
 * An incident applies the entry's action (flag < redact < block; merged by severity), or a flag
 * for a score between the entry's flag_threshold and threshold; in observe mode it is recorded
 * as would_block/would_flag and changes nothing. Errors and timeouts follow
 * the entry's on_error (allow or block) and are recorded as such, never as clean. */
#ifndef WD_CHAIN_CHAIN_H
#define WD_CHAIN_CHAIN_H

#include <jansson.h>
#include <stdint.h>

#include "chain/checker.h"
#include "core/config.h"
#include "core/metrics.h"

/* An entry's threshold when its config names none: a verdict scoring this or more is an incident.
 */
#define WD_CHAIN_THRESHOLD 0.5

enum wd_action { WD_ALLOW, WD_FLAG, WD_REDACT, WD_BLOCK }; /* merge = max */

/* How one checker call ended, when it is worth recording (clean calls are only counted). */
enum wd_outcome_kind { WD_OUT_INCIDENT, WD_OUT_ERROR, WD_OUT_TIMEOUT };

struct wd_outcome {
	const char *checker; /* entry id (borrowed from the chain) */
	const char *type;    /* checker type name */
	enum wd_phase phase;
	enum wd_outcome_kind kind;
	enum wd_action
	    action;   /* what it did to the transaction (ALLOW for observe, allow-on-error) */
	int observed; /* observe mode: action is what it *would* have done */
	double score;
	char category[64];
	int choice;
	json_t *evidence;      /* owned by the run */
	struct wd_span *spans; /* owned by the run: where to mask for action redact */
	size_t nspans;
	int64_t latency_us;
};

struct wd_chain;
struct wd_run;

/* Builds the chain from the `checkers` array (NULL → empty chain). conf names locations in
 * errors: "conf/warden.yaml:14: checkers[2].type: unknown checker \"harmm\" (known: pattern,
 * debug)". */
int wd_chain_build(const struct wd_conf *conf, const json_t *checkers, struct wd_chain **out,
                   char *err, size_t errlen);
void wd_chain_free(struct wd_chain *ch);
size_t wd_chain_size(const struct wd_chain *ch);
/* Largest holdback of the enforcing response-phase checkers (SIZE_MAX: buffer whole answer). */
size_t wd_chain_holdback(const struct wd_chain *ch);
/* Whether any entry runs in the phase (lets the proxy skip work). */
int wd_chain_has_phase(const struct wd_chain *ch, enum wd_phase p);

/* Per-entry counters, for metrics. */
struct wd_entry_stats {
	const char *id, *type;
	uint64_t calls, incidents, errors, timeouts;
	uint64_t latency_us_total;
	uint64_t latency_buckets[WD_LAT_BUCKETS]; /* per bucket of wd_latency_bounds_us */
};
size_t wd_chain_stats(const struct wd_chain *ch, struct wd_entry_stats *out, size_t max);

/* An entry's envelope as configured, for the admin API (strings borrowed from the chain). */
struct wd_entry_info {
	const char *id, *type;
	unsigned phases; /* enum wd_phase bits */
	int observe;
	enum wd_action action;
	double threshold;
	double flag_threshold; /* < 0: none */
	int on_error_block;
	long timeout_ms;
};
/* Fills *out for entry i in config order; WD_ENOTFOUND when i >= wd_chain_size(ch). */
int wd_chain_entry_info(const struct wd_chain *ch, size_t i, struct wd_entry_info *out);

/* wake is called (from any thread) when an async checker of this run completes; the host must
 * then call wd_run_resume() on the run's own thread. */
struct wd_run *wd_run_new(const struct wd_chain *ch, const char *request_id,
                          void (*wake)(void *arg), void *wake_arg);
/* Releases every checker state (fencing async work), then frees the run and its outcomes. */
void wd_run_free(struct wd_run *r);

/* Runs phase p (REQUEST, UPLOAD or PROBE) over x. WD_OK: decided (see wd_run_action);
 * WD_AGAIN: an async checker is pending: wait for wake, then wd_run_resume. */
int wd_run_request(struct wd_run *r, enum wd_phase p, const struct wd_exchange *x);
/* One streamed delta through every response-phase checker. Returns WD_OK; wd_run_action tells
 * whether the stream must stop. */
int wd_run_chunk(struct wd_run *r, const struct wd_delta *d);
/* End of the response (whole body in x->out, or end of stream). WD_OK or WD_AGAIN. */
int wd_run_finish(struct wd_run *r, const struct wd_exchange *x);
/* Continues the phase that returned WD_AGAIN. WD_OK or WD_AGAIN again. */
int wd_run_resume(struct wd_run *r);
/* Milliseconds until the pending async checker's deadline (-1: nothing pending). */
long wd_run_deadline_ms(const struct wd_run *r);
/* The pending checker's deadline has passed: records a timeout, applies on_error, and continues
 * the phase. WD_OK or WD_AGAIN (a later checker is async too). */
int wd_run_expire(struct wd_run *r);

/* The merged action so far and the outcome that decided it (NULL when ALLOW). */
enum wd_action wd_run_action(const struct wd_run *r, const struct wd_outcome **why);
/* All recorded outcomes so far, in order. */
const struct wd_outcome *wd_run_outcomes(const struct wd_run *r, size_t *n);

const char *wd_action_name(enum wd_action a);
const char *wd_outcome_name(const struct wd_outcome *o); /* "block", "would_block", "error", ... */
const char *wd_phase_name(enum wd_phase p);

#endif
