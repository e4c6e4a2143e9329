/* sse.h — incremental Server-Sent Events framer (WHATWG "text/event-stream" parsing rules).
 * Bytes arrive in arbitrary splits; every split of the same bytes yields the same events.
 * Each event is handed to a callback together with its exact raw bytes, so a proxy can forward
 * an event unchanged once it has been checked. Knows nothing of OpenAI or HTTP. */
#ifndef WD_HTTP_SSE_H
#define WD_HTTP_SSE_H

#include <stddef.h>

#include "core/buf.h"

struct wd_sse_event {
	const char *event; /* value of the last "event:" field, "" when none */
	size_t event_len;
	const char *data; /* "data:" lines joined with '\n'; NULL when the block had no data field
	                     (a comment-only block such as ": keep-alive") */
	size_t data_len;
	const char *id; /* value of the last "id:" field, NULL when none */
	size_t id_len;
	const char *raw; /* the exact bytes of this block, including its terminating blank line */
	size_t raw_len;
};

/* Called once per complete block (a block ends at a blank line). Pointers are valid only during
 * the call. A non-zero return stops wd_sse_feed, which returns that value. */
typedef int (*wd_sse_cb)(void *ctx, const struct wd_sse_event *ev);

struct wd_sse {
	struct wd_buf pending; /* bytes of the block not yet terminated */
	size_t scanned;        /* how much of pending has been searched for a block end */
	int last_cr;           /* previous chunk ended in '\r' (a "\r\n" may be split) */
	int started;           /* the stream's first bytes have been checked for a BOM */
	int bom;               /* pending begins with a UTF-8 BOM (skipped when parsing fields) */
	int failed;            /* a block exceeded max_event: the framer is unusable */
	struct wd_buf data;    /* scratch for joined data lines */
	struct wd_buf event;   /* scratch for the event name */
	struct wd_buf id;      /* scratch for the id */
};

/* max_event is the largest block accepted, in bytes. */
void wd_sse_init(struct wd_sse *s, size_t max_event);
/* Feeds n bytes. Returns 0, the callback's non-zero value, or WD_ETOOBIG when a block grows past
 * max_event (the framer is then unusable). */
int wd_sse_feed(struct wd_sse *s, const char *p, size_t n, wd_sse_cb cb, void *ctx);
/* End of input. Returns 0 when nothing is left over, WD_EINVAL when the stream stopped in the
 * middle of a block (a truncated upstream); the partial block is discarded, as the spec says. */
int wd_sse_end(struct wd_sse *s);
void wd_sse_free(struct wd_sse *s);

#endif
