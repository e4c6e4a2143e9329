/* checker.h — the checker ABI: what a checker type implements and what the chain hands it.
 *
 * A checker *detects*: it reports a score in 0..1, a taxonomy category and evidence. The chain
 * *enforces*: it compares the score with the entry's threshold and applies the entry's mode and
 * action (HAProxy's split of detection and enforcement). A NULL callback means "nothing to do in
 * that phase". Built-in types live in a static registry (registry.c); a plugin .so exports a
 * `const struct wd_checker_type wd_checker_plugin` with the same ABI number. */
#ifndef WD_CHAIN_CHECKER_H
#define WD_CHAIN_CHECKER_H

#include <jansson.h>
#include <stddef.h>

#include "openai/exchange.h"

#define WD_CHECKER_ABI 1

enum wd_phase {
	WD_PHASE_REQUEST = 1,
	WD_PHASE_RESPONSE = 2, /* whole responses and streamed responses */
	WD_PHASE_UPLOAD = 4,   /* file uploads (fine-tuning data) */
	WD_PHASE_PROBE = 8,    /* canary probes sent by warden itself */
};

/* What a checker reports for one call. The chain zeroes it before each call (choice = -1). */
struct wd_verdict {
	double score;      /* 0..1: confidence that the text is what this checker looks for */
	char category[64]; /* taxonomy id, e.g. "S9", "jailbreak.dan", "privacy.secret" */
	int choice;        /* response choice concerned; -1 when not choice-specific */
	json_t *evidence;  /* the chain takes ownership: rule id, span, short excerpt (truncated,
	                      never a secret) */
	struct wd_span *spans; /* malloc'd; the chain takes ownership; NULL when not locatable */
	size_t nspans;
};

/* Per transaction, per checker. */
struct wd_check_ctx {
	void *state;            /* the checker's own per-transaction state; NULL at start. Freed
	                           by the type's release() when the transaction ends. */
	const char *request_id; /* borrowed */
	struct wd_run *run;     /* opaque to checkers; used by wd_check_wake */
};

/* For a checker that returned WD_AGAIN: signals that its result is ready. Thread-safe; call it
 * exactly once per WD_AGAIN, from any thread. The chain then calls the same callback again,
 * on the transaction's thread, and the checker answers from its state. After release() returns
 * the checker must never call it for that transaction again. */
void wd_check_wake(struct wd_check_ctx *c);

struct wd_checker_type {
	const char *name; /* the `type` in config */
	unsigned abi;     /* WD_CHECKER_ABI */
	/* conf is the entry's `config` map (an empty object when absent). On error returns < 0 and
	 * sets *err to a malloc'd message whose path is relative to `config`, e.g.
	 * "patterns[1]: missing ')' at offset 4". */
	int (*init)(const json_t *conf, void **self, char **err);
	void (*destroy)(void *self);
	/* Request phase (and upload/probe phases, which pass their exchange the same way).
	 * Returns WD_OK (v filled), WD_AGAIN (async), or < 0 (an error; on_error decides). */
	int (*check_request)(void *self, struct wd_check_ctx *c, const struct wd_exchange *x,
	                     struct wd_verdict *v);
	/* Streamed response text, one delta at a time, in order. Synchronous: WD_OK or < 0. */
	int (*check_chunk)(void *self, struct wd_check_ctx *c, const struct wd_delta *d,
	                   struct wd_verdict *v);
	/* End of the response: x->out holds the whole answer for a non-streamed response; for a
	 * stream it is empty and the checker finishes from what check_chunk saw. May be WD_AGAIN.
	 */
	int (*finish)(void *self, struct wd_check_ctx *c, const struct wd_exchange *x,
	              struct wd_verdict *v);
	/* Frees c->state (may be NULL). Must cancel or fence any pending async work. */
	void (*release)(void *self, void *state);
	/* Bytes of streamed text per choice that must stay held back after the checker has seen
	 * them, so that a match ending later is still caught before any of its bytes leave.
	 * NULL → 0. A response-phase checker without check_chunk needs the whole text. */
	size_t (*holdback)(const void *self);
};

#endif
