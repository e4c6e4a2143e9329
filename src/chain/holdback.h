/* holdback.h — the release queue of a streamed response ("no unchecked byte leaves").
 * Each SSE event is queued with the text it adds to each stream of text (a choice's content, or
 * one of its tool calls' arguments). An event is released, in order, once every stream it
 * touched has grown by at least `holdback` bytes beyond it, or has finished — so a match that
 * ends later, but starts inside this event, is still caught before any of its bytes leave.
 * Pure logic: no I/O. */
#ifndef WD_CHAIN_HOLDBACK_H
#define WD_CHAIN_HOLDBACK_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "openai/exchange.h"

struct wd_holdq;

/* holdback: bytes per stream to keep (SIZE_MAX: release nothing until wd_holdq_release(all),
 * which the host calls once the checkers judged the whole answer — a finished choice does not
 * count). max_bytes bounds what may wait in the queue. */
struct wd_holdq *wd_holdq_new(size_t holdback, size_t max_bytes);
void wd_holdq_free(struct wd_holdq *q);
/* fn is told, for every released event, how long it waited in the queue (microseconds). */
void wd_holdq_observe(struct wd_holdq *q, void (*fn)(uint64_t waited_us));
/* Queues a copy of the event's raw bytes with its deltas. json (a reference is taken; may be
 * NULL) and event (the SSE event name, NULL when none) let a masked event be written anew.
 * WD_ETOOBIG past max_bytes. */
int wd_holdq_push(struct wd_holdq *q, const char *raw, size_t len, const char *event, json_t *json,
                  const struct wd_delta *d, size_t nd);
/* Masks bytes [from, to) of the stream (choice, tool: -1 for content) in the events still held;
 * those events are re-serialised when released. Returns how many events changed. */
int wd_holdq_mask(struct wd_holdq *q, int choice, int tool, size_t from, size_t to);
/* The choice's text is complete (finish_reason seen): its held events may go (not with a
 * holdback of SIZE_MAX). */
void wd_holdq_finish_choice(struct wd_holdq *q, int choice);
/* Appends the raw bytes of every leading safe event to out (all: every event) and drops them
 * from the queue. Returns the number of events released, or < 0 (out full). */
int wd_holdq_release(struct wd_holdq *q, struct wd_buf *out, int all);
/* Discards every queued event (the stream was blocked). */
void wd_holdq_drop(struct wd_holdq *q);
size_t wd_holdq_pending(const struct wd_holdq *q);

#endif
