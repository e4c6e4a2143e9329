/* holdback.c — the release queue of a streamed response; see holdback.h. Streams are few (one
 * per choice, plus one per tool call), so they live in a small array searched linearly. */
#include "chain/holdback.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"

struct stream {
	int choice, tool;
	size_t seen; /* bytes of text seen so far */
	int finished;
};

struct mark {
	size_t stream;     /* index into streams */
	size_t start, end; /* this event's text in stream offsets */
	json_t *node;      /* the JSON string holding that text (owned through json) */
};

struct event {
	char *raw;
	size_t len;
	struct mark *marks;
	size_t nmarks;
	json_t *json; /* the parsed event (a reference), for masking */
	char *name;   /* SSE event name, NULL when none */
	int dirty;    /* masked: write anew from json when released */
	int64_t pushed_us;
};

struct wd_holdq {
	size_t holdback, max_bytes, bytes;
	struct stream *streams;
	size_t nstreams;
	void (*observe)(uint64_t waited_us);
	struct event *ev; /* ring-less FIFO: [head, n) are pending */
	size_t head, n, cap;
};

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void wd_holdq_observe(struct wd_holdq *q, void (*fn)(uint64_t waited_us))
{
	q->observe = fn;
}

struct wd_holdq *wd_holdq_new(size_t holdback, size_t max_bytes)
{
	struct wd_holdq *q = calloc(1, sizeof *q);
	if (q) {
		q->holdback = holdback;
		q->max_bytes = max_bytes;
	}
	return q;
}

static void free_event(struct event *e)
{
	free(e->raw);
	free(e->marks);
	free(e->name);
	json_decref(e->json);
}

void wd_holdq_drop(struct wd_holdq *q)
{
	for (size_t i = q->head; i < q->n; i++)
		free_event(&q->ev[i]);
	q->head = q->n = 0;
	q->bytes = 0;
}

void wd_holdq_free(struct wd_holdq *q)
{
	if (!q)
		return;
	wd_holdq_drop(q);
	free(q->ev);
	free(q->streams);
	free(q);
}

size_t wd_holdq_pending(const struct wd_holdq *q)
{
	return q->n - q->head;
}

static long find_stream(struct wd_holdq *q, int choice, int tool)
{
	for (size_t i = 0; i < q->nstreams; i++) {
		if (q->streams[i].choice == choice && q->streams[i].tool == tool)
			return (long)i;
	}
	struct stream *s = realloc(q->streams, (q->nstreams + 1) * sizeof *s);
	if (!s)
		return -1;
	q->streams = s;
	s[q->nstreams] = (struct stream){choice, tool, 0, 0};
	return (long)q->nstreams++;
}

int wd_holdq_push(struct wd_holdq *q, const char *raw, size_t len, const char *event, json_t *json,
                  const struct wd_delta *d, size_t nd)
{
	if (len > q->max_bytes - q->bytes)
		return WD_ETOOBIG;
	if (q->n == q->cap) {
		if (q->head > 0) { /* compact before growing */
			memmove(q->ev, q->ev + q->head, (q->n - q->head) * sizeof *q->ev);
			q->n -= q->head;
			q->head = 0;
		}
		if (q->n == q->cap) {
			size_t cap = q->cap ? q->cap * 2 : 16;
			struct event *p = realloc(q->ev, cap * sizeof *p);
			if (!p)
				return WD_ENOMEM;
			q->ev = p;
			q->cap = cap;
		}
	}
	struct event e = {0};
	e.raw = malloc(len ? len : 1);
	e.marks = nd ? calloc(nd, sizeof *e.marks) : NULL;
	if (!e.raw || (nd && !e.marks)) {
		free_event(&e);
		return WD_ENOMEM;
	}
	memcpy(e.raw, raw, len);
	e.len = len;
	e.pushed_us = q->observe ? mono_us() : 0;
	e.json = json_incref(json);
	if (event && event[0] && !(e.name = strdup(event))) {
		free_event(&e);
		return WD_ENOMEM;
	}
	for (size_t i = 0; i < nd; i++) {
		long s = find_stream(q, d[i].choice,
		                     d[i].kind == WD_DELTA_CONTENT || d[i].kind == WD_DELTA_REFUSAL
		                         ? -1
		                         : d[i].tool);
		if (s < 0) {
			free_event(&e);
			return WD_ENOMEM;
		}
		size_t start = q->streams[s].seen;
		q->streams[s].seen += d[i].len;
		e.marks[e.nmarks++] =
		    (struct mark){(size_t)s, start, q->streams[s].seen, json ? d[i].node : NULL};
	}
	q->ev[q->n++] = e;
	q->bytes += len;
	return WD_OK;
}

void wd_holdq_finish_choice(struct wd_holdq *q, int choice)
{
	if (q->holdback == SIZE_MAX)
		return; /* a whole-answer checker judges at the end: only release(all) frees it */
	for (size_t i = 0; i < q->nstreams; i++) {
		if (q->streams[i].choice == choice)
			q->streams[i].finished = 1;
	}
}

static int is_safe(const struct wd_holdq *q, const struct event *e)
{
	for (size_t i = 0; i < e->nmarks; i++) {
		const struct stream *s = &q->streams[e->marks[i].stream];
		if (!s->finished && s->seen - e->marks[i].end < q->holdback)
			return 0;
	}
	return 1;
}

int wd_holdq_mask(struct wd_holdq *q, int choice, int tool, size_t from, size_t to)
{
	int changed = 0;
	for (size_t i = q->head; i < q->n; i++) {
		struct event *e = &q->ev[i];
		for (size_t k = 0; k < e->nmarks; k++) {
			const struct mark *m = &e->marks[k];
			const struct stream *s = &q->streams[m->stream];
			if (s->choice != choice || s->tool != tool || !m->node || to <= m->start ||
			    from >= m->end)
				continue;
			size_t a = from > m->start ? from - m->start : 0;
			size_t b = (to < m->end ? to : m->end) - m->start;
			if (wd_text_mask(m->node, a, b) == 0 && !e->dirty) {
				e->dirty = 1;
				changed++;
			}
		}
	}
	return changed;
}

/* Appends the event to out: its raw bytes, or, once masked, the event written anew. */
static int emit(const struct event *e, struct wd_buf *out)
{
	if (!e->dirty)
		return wd_buf_append(out, e->raw, e->len);
	char *data = json_dumps(e->json, JSON_COMPACT);
	if (!data)
		return WD_ENOMEM;
	int rc = e->name ? wd_buf_printf(out, "event: %s\ndata: %s\n\n", e->name, data)
	                 : wd_buf_printf(out, "data: %s\n\n", data);
	free(data);
	return rc;
}

int wd_holdq_release(struct wd_holdq *q, struct wd_buf *out, int all)
{
	int released = 0;
	while (q->head < q->n) {
		struct event *e = &q->ev[q->head];
		if (!all && !is_safe(q, e))
			break;
		int rc = emit(e, out);
		if (rc)
			return rc;
		if (q->observe)
			q->observe((uint64_t)(mono_us() - e->pushed_us));
		q->bytes -= e->len;
		free_event(e);
		q->head++;
		released++;
	}
	if (q->head == q->n)
		q->head = q->n = 0;
	return released;
}
