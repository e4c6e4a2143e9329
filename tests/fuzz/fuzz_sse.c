/* fuzz_sse.c — libFuzzer driver for the SSE framer. The first three bytes choose two split
 * points and the block limit; the rest is the stream. Feeding it in pieces must give exactly
 * the events (and result) of feeding it whole, and the events' raw bytes must tile the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "http/sse.h"

struct log {
	char *bytes; /* every event serialised: lengths, flags and contents */
	size_t len, cap;
	size_t raw_total;
};

static void put(struct log *l, const void *p, size_t n)
{
	if (l->len + n > l->cap) {
		l->cap = (l->len + n) * 2 + 64;
		l->bytes = realloc(l->bytes, l->cap);
		if (!l->bytes)
			abort();
	}
	if (n)
		memcpy(l->bytes + l->len, p, n);
	l->len += n;
}

static void put_field(struct log *l, const char *p, size_t n)
{
	size_t tag = p ? n : (size_t)-1;
	put(l, &tag, sizeof tag);
	if (p)
		put(l, p, n);
}

static int on_event(void *ctx, const struct wd_sse_event *ev)
{
	struct log *l = ctx;
	if (!ev->event || !ev->raw || ev->raw_len == 0)
		abort();
	put_field(l, ev->event, ev->event_len);
	put_field(l, ev->data, ev->data_len);
	put_field(l, ev->id, ev->id_len);
	put_field(l, ev->raw, ev->raw_len);
	l->raw_total += ev->raw_len;
	return 0;
}

static int run(const char *p, size_t n, const size_t *cuts, size_t ncuts, size_t max, struct log *l)
{
	struct wd_sse s;
	size_t at = 0;
	int rc = 0;
	wd_sse_init(&s, max);
	for (size_t i = 0; i <= ncuts && rc == 0; i++) {
		size_t end = i < ncuts ? cuts[i] : n;
		rc = wd_sse_feed(&s, p + at, end - at, on_event, l);
		at = end;
	}
	if (rc == 0)
		rc = wd_sse_end(&s);
	wd_sse_free(&s);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	const char *p = (const char *)data + 3;
	size_t n = size - 3;
	size_t cuts[2] = {n ? data[0] % (n + 1) : 0, n ? data[1] % (n + 1) : 0};
	if (cuts[0] > cuts[1]) {
		size_t t = cuts[0];
		cuts[0] = cuts[1];
		cuts[1] = t;
	}
	size_t max = data[2] & 1 ? 8 + data[2] / 4 : 1 << 20;
	struct log whole = {0}, split = {0};
	int rc_whole = run(p, n, NULL, 0, max, &whole);
	int rc_split = run(p, n, cuts, 2, max, &split);
	if (rc_whole != rc_split || whole.len != split.len ||
	    (whole.len && memcmp(whole.bytes, split.bytes, whole.len) != 0))
		abort();
	/* Only a stream that is nothing but a BOM ends cleanly with bytes in no event. */
	if (rc_whole == WD_OK && whole.raw_total != n &&
	    !(n == 3 && whole.raw_total == 0 && memcmp(p, "\xef\xbb\xbf", 3) == 0))
		abort();
	if (whole.raw_total > n)
		abort();
	free(whole.bytes);
	free(split.bytes);
	return 0;
}
