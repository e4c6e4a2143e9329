/* sse.c — incremental text/event-stream framer (see sse.h).
 * Input is scanned once, byte by byte, for the blank line that ends a block; a block found whole
 * inside one feed is parsed in place, only the unterminated tail is copied into `pending`, so
 * the cost is linear in the bytes fed whatever the split. A blank line that ends in '\r' at the
 * very end of a feed is held until the next byte says whether a '\n' belongs to it: that keeps
 * each block's raw bytes the same for every split of the stream. */
#include "http/sse.h"

#include <string.h>

#include "core/err.h"

static const unsigned char bom_bytes[3] = {0xEF, 0xBB, 0xBF};

void wd_sse_init(struct wd_sse *s, size_t max_event)
{
	wd_buf_init(&s->pending, max_event);
	s->scanned = 0;
	s->last_cr = 0;
	s->started = 0;
	s->bom = 0;
	s->failed = 0;
	wd_buf_init(&s->data, max_event);
	wd_buf_init(&s->event, max_event);
	wd_buf_init(&s->id, max_event);
}

static int field_is(const char *f, size_t flen, const char *name)
{
	size_t n = strlen(name);
	return flen == n && memcmp(f, name, n) == 0;
}

/* Applies one "field: value" line to the scratch buffers. */
static int apply_field(struct wd_sse *s, const char *line, size_t llen, int *has_data, int *has_id)
{
	const char *colon = memchr(line, ':', llen);
	size_t flen = colon ? (size_t)(colon - line) : llen;
	const char *val = colon ? colon + 1 : line + llen;
	size_t vlen = colon ? llen - flen - 1 : 0;
	int rc = WD_OK;

	if (vlen > 0 && val[0] == ' ') {
		val++;
		vlen--;
	}
	if (field_is(line, flen, "data")) {
		*has_data = 1;
		rc = wd_buf_append(&s->data, val, vlen);
		if (rc == WD_OK)
			rc = wd_buf_append(&s->data, "\n", 1);
	} else if (field_is(line, flen, "event")) {
		wd_buf_reset(&s->event);
		rc = wd_buf_append(&s->event, val, vlen);
	} else if (field_is(line, flen, "id")) {
		/* The spec ignores an id containing NUL. */
		if (memchr(val, '\0', vlen) == NULL) {
			*has_id = 1;
			wd_buf_reset(&s->id);
			rc = wd_buf_append(&s->id, val, vlen);
		}
	}
	/* "retry" and unknown fields are ignored. */
	return rc;
}

/* Parses one complete block (ending in its blank line) and hands it to cb. */
static int dispatch(struct wd_sse *s, const char *raw, size_t len, wd_sse_cb cb, void *ctx)
{
	size_t i = 0;
	int has_data = 0, has_id = 0;
	int rc = WD_OK;

	if (s->bom) {
		/* Only the stream's first block can carry it, and it always sits in pending. */
		i = sizeof bom_bytes;
		s->bom = 0;
	}
	wd_buf_reset(&s->data);
	wd_buf_reset(&s->event);
	wd_buf_reset(&s->id);
	while (i < len) {
		size_t start = i;
		while (i < len && raw[i] != '\n' && raw[i] != '\r')
			i++;
		size_t llen = i - start;
		if (i < len && raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n')
			i += 2;
		else if (i < len)
			i++;
		if (llen == 0)
			break; /* the blank line that ends the block */
		if (raw[start] == ':')
			continue; /* comment */
		rc = apply_field(s, raw + start, llen, &has_data, &has_id);
		if (rc)
			goto out;
	}

	struct wd_sse_event ev = {0};
	ev.event = s->event.len ? s->event.data : "";
	ev.event_len = s->event.len;
	if (has_data) {
		/* Lines are joined with '\n': drop the one after the last line. */
		if (s->data.len > 0)
			s->data.data[--s->data.len] = '\0';
		ev.data = s->data.data ? s->data.data : "";
		ev.data_len = s->data.len;
	}
	if (has_id) {
		ev.id = s->id.data ? s->id.data : "";
		ev.id_len = s->id.len;
	}
	ev.raw = raw;
	ev.raw_len = len;
	rc = cb(ctx, &ev);
out:
	return rc;
}

static int fail(struct wd_sse *s)
{
	s->failed = 1;
	wd_buf_reset(&s->pending);
	s->scanned = 0;
	return WD_ETOOBIG;
}

/* Appends to pending; an overflow makes the framer unusable. */
static int keep(struct wd_sse *s, const char *p, size_t n)
{
	int rc = wd_buf_append(&s->pending, p, n);
	if (rc == WD_ETOOBIG)
		return fail(s);
	s->scanned = s->pending.len;
	return rc;
}

/* Dispatches the block held in pending and empties it. */
static int flush_pending(struct wd_sse *s, wd_sse_cb cb, void *ctx)
{
	int rc = dispatch(s, s->pending.data, s->pending.len, cb, ctx);
	wd_buf_reset(&s->pending);
	s->scanned = 0;
	return rc;
}

int wd_sse_feed(struct wd_sse *s, const char *p, size_t n, wd_sse_cb cb, void *ctx)
{
	int rc = WD_OK;

	if (s->failed)
		return WD_ETOOBIG;
	/* A BOM may arrive split too: its bytes wait in pending until it is known whether they
	 * are one. */
	while (!s->started && n > 0) {
		if ((unsigned char)p[0] != bom_bytes[s->pending.len]) {
			s->started = 1;
			break;
		}
		rc = keep(s, p, 1);
		if (rc)
			return rc;
		p++;
		n--;
		if (s->pending.len == sizeof bom_bytes) {
			s->started = 1;
			s->bom = 1;
		}
	}
	if (n == 0)
		return WD_OK;

	if (s->last_cr) {
		/* The held block's blank line ended in '\r'; a '\n' now is part of it. */
		size_t take = p[0] == '\n' ? 1 : 0;
		s->last_cr = 0;
		rc = keep(s, p, take);
		if (rc)
			return rc;
		p += take;
		n -= take;
		rc = flush_pending(s, cb, ctx);
		if (rc)
			return rc;
	}

	/* prev is the byte before p[i] within the block; '\n' stands for "start of a line". */
	size_t skip = s->bom ? sizeof bom_bytes : 0;
	char prev = s->pending.len > skip ? s->pending.data[s->pending.len - 1] : '\n';
	size_t start = 0; /* where the current block's bytes begin in p */
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c != '\n' && c != '\r') {
			prev = c;
			continue;
		}
		if (c == '\n' && prev == '\r') {
			prev = '\n'; /* second half of a CRLF */
			continue;
		}
		int blank = prev == '\n' || prev == '\r';
		prev = c;
		if (!blank)
			continue;

		size_t end = i + 1;
		if (c == '\r') {
			if (i + 1 == n) {
				rc = keep(s, p + start, n - start);
				if (rc == WD_OK)
					s->last_cr = 1;
				return rc;
			}
			if (p[i + 1] == '\n')
				end = i + 2;
		}
		if (s->pending.len == 0) {
			if (end - start > s->pending.max)
				return fail(s);
			rc = dispatch(s, p + start, end - start, cb, ctx);
		} else {
			rc = keep(s, p + start, end - start);
			if (rc)
				return rc;
			rc = flush_pending(s, cb, ctx);
		}
		if (rc)
			return rc;
		start = end;
		i = end - 1;
		prev = '\n';
	}
	return keep(s, p + start, n - start);
}

int wd_sse_end(struct wd_sse *s)
{
	size_t skip = s->bom ? sizeof bom_bytes : 0;
	int rc = s->failed || s->last_cr || s->pending.len > skip ? WD_EINVAL : WD_OK;

	wd_buf_reset(&s->pending);
	s->scanned = 0;
	s->last_cr = 0;
	s->bom = 0;
	return rc;
}

void wd_sse_free(struct wd_sse *s)
{
	wd_buf_free(&s->pending);
	wd_buf_free(&s->data);
	wd_buf_free(&s->event);
	wd_buf_free(&s->id);
	s->scanned = 0;
}
