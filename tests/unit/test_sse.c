/* test_sse.c — unit tests for the SSE framer (src/http/sse.c). The central property: for every
 * fixture in tests/data/sse/ and every way of splitting it (each single split point, byte by
 * byte, random multi-splits), the events and their raw bytes equal those of feeding it whole,
 * and the raw bytes put back together are the input minus an unterminated tail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "http/sse.h"
#include "test.h"

#define MAX_EVENTS      64
#define MAX_EVENT_BYTES (64 * 1024)

struct rec {
	char *event, *data, *id, *raw;
	size_t event_len, data_len, id_len, raw_len;
	int has_data, has_id;
};

struct recs {
	struct rec ev[MAX_EVENTS];
	size_t n;
	int stop_at; /* callback returns 7 on this event number (1-based), 0: never */
};

static char *dup_n(const char *p, size_t n)
{
	char *d = malloc(n + 1);
	if (n)
		memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

static int on_event(void *ctx, const struct wd_sse_event *ev)
{
	struct recs *r = ctx;
	if (r->n >= MAX_EVENTS)
		return 99;
	struct rec *e = &r->ev[r->n++];
	e->event = dup_n(ev->event, ev->event_len);
	e->event_len = ev->event_len;
	e->has_data = ev->data != NULL;
	e->data = ev->data ? dup_n(ev->data, ev->data_len) : NULL;
	e->data_len = ev->data_len;
	e->has_id = ev->id != NULL;
	e->id = ev->id ? dup_n(ev->id, ev->id_len) : NULL;
	e->id_len = ev->id_len;
	e->raw = dup_n(ev->raw, ev->raw_len);
	e->raw_len = ev->raw_len;
	if (r->stop_at && (int)r->n == r->stop_at)
		return 7;
	return 0;
}

static void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->ev[i].event);
		free(r->ev[i].data);
		free(r->ev[i].id);
		free(r->ev[i].raw);
	}
	r->n = 0;
}

static int same_bytes(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return 0;
	if (!a || !b)
		return a == b;
	return memcmp(a, b, an) == 0;
}

static int recs_equal(const struct recs *a, const struct recs *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct rec *x = &a->ev[i], *y = &b->ev[i];
		if (x->has_data != y->has_data || x->has_id != y->has_id ||
		    !same_bytes(x->event, x->event_len, y->event, y->event_len) ||
		    !same_bytes(x->data, x->data_len, y->data, y->data_len) ||
		    !same_bytes(x->id, x->id_len, y->id, y->id_len) ||
		    !same_bytes(x->raw, x->raw_len, y->raw, y->raw_len))
			return 0;
	}
	return 1;
}

static char *load(const char *name, size_t *len)
{
	char path[256];
	snprintf(path, sizeof path, "tests/data/sse/%s", name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "  cannot open %s (run tests from the repo root)\n", path);
		return NULL;
	}
	char *buf = malloc(1 << 20);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

/* Feeds p in pieces ending at cuts[0..ncuts) (increasing, each < n), then the rest. Returns
 * wd_sse_end's result, or the first error of a feed. */
static int feed_split(const char *p, size_t n, const size_t *cuts, size_t ncuts, size_t max,
                      struct recs *out)
{
	struct wd_sse s;
	size_t at = 0;
	int rc = 0;
	wd_sse_init(&s, max);
	for (size_t i = 0; i <= ncuts && rc == 0; i++) {
		size_t end = i < ncuts ? cuts[i] : n;
		rc = wd_sse_feed(&s, p + at, end - at, on_event, out);
		at = end;
	}
	if (rc == 0)
		rc = wd_sse_end(&s);
	wd_sse_free(&s);
	return rc;
}

static int feed_whole(const char *p, size_t n, size_t max, struct recs *out)
{
	return feed_split(p, n, NULL, 0, max, out);
}

static const char *const fixtures[] = {
    "chat_tools.txt", "completion_legacy.txt", "responses.txt", "crlf.txt", "comments.txt",
    "multiline.txt",  "no_trailing_blank.txt", "cr_only.txt",   "bom.txt",
};

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static void check_fixture(const char *name, size_t max)
{
	size_t n;
	char *p = load(name, &n);
	CHECK(p != NULL);
	if (!p)
		return;
	struct recs *whole = calloc(1, sizeof *whole), *split = calloc(1, sizeof *split);
	int whole_rc = feed_whole(p, n, max, whole);
	if (max == MAX_EVENT_BYTES)
		CHECK(whole->n > 0);
	else if (n > max * 4) /* these fixtures all hold a block longer than max */
		CHECK_EQ_INT(whole_rc, WD_ETOOBIG);

	/* Concatenated raw is the input, up to an unterminated tail. */
	size_t at = 0;
	int raw_ok = 1;
	for (size_t i = 0; i < whole->n; i++) {
		if (at + whole->ev[i].raw_len > n ||
		    memcmp(p + at, whole->ev[i].raw, whole->ev[i].raw_len) != 0)
			raw_ok = 0;
		at += whole->ev[i].raw_len;
	}
	CHECK(raw_ok);
	if (whole_rc == 0)
		CHECK_EQ_INT(at, n);
	else
		CHECK(at < n);

	int bad_split = -1;
	for (size_t cut = 0; cut <= n; cut++) {
		int rc = feed_split(p, n, &cut, 1, max, split);
		if (bad_split < 0 && (rc != whole_rc || !recs_equal(whole, split)))
			bad_split = (int)cut;
		recs_free(split);
	}
	if (bad_split >= 0)
		fprintf(stderr, "  %s: split at %d differs\n", name, bad_split);
	CHECK_EQ_INT(bad_split, -1);

	size_t *cuts = malloc((n + 1) * sizeof *cuts);
	for (size_t i = 0; i < n; i++)
		cuts[i] = i + 1;
	int rc = feed_split(p, n, cuts, n ? n - 1 : 0, max, split);
	CHECK_EQ_INT(rc, whole_rc);
	CHECK(recs_equal(whole, split));
	recs_free(split);

	for (int round = 0; round < 200; round++) {
		size_t k = 1 + rnd(8);
		for (size_t i = 0; i < k; i++)
			cuts[i] = rnd(n + 1);
		qsort(cuts, k, sizeof *cuts, cmp_size);
		rc = feed_split(p, n, cuts, k, max, split);
		if (rc != whole_rc || !recs_equal(whole, split)) {
			fprintf(stderr, "  %s: random split round %d differs\n", name, round);
			CHECK(0);
			recs_free(split);
			break;
		}
		recs_free(split);
	}
	free(cuts);
	recs_free(whole);
	free(whole);
	free(split);
	free(p);
}

TEST(every_split_gives_same_events)
{
	for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++)
		check_fixture(fixtures[i], MAX_EVENT_BYTES);
}

TEST(every_split_same_with_small_max)
{
	/* Blocks over 120 bytes fail with WD_ETOOBIG at the same block whatever the split. */
	for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++)
		check_fixture(fixtures[i], 120);
}

static int whole_file(const char *name, struct recs *r)
{
	size_t n;
	char *p = load(name, &n);
	if (!p)
		return -100;
	int rc = feed_whole(p, n, MAX_EVENT_BYTES, r);
	free(p);
	return rc;
}

TEST(chat_fixture_fields)
{
	struct recs r = {0};
	CHECK_EQ_INT(whole_file("chat_tools.txt", &r), 0);
	CHECK_EQ_INT(r.n, 5);
	CHECK_STR(r.ev[0].event, "");
	CHECK(!r.ev[0].has_id);
	CHECK(strncmp(r.ev[0].data, "{\"id\":\"chatcmpl-abc123\"", 23) == 0);
	CHECK_STR(r.ev[4].data, "[DONE]");
	CHECK_STR(r.ev[4].raw, "data: [DONE]\n\n");
	recs_free(&r);
}

TEST(responses_fixture_event_names)
{
	struct recs r = {0};
	CHECK_EQ_INT(whole_file("responses.txt", &r), 0);
	CHECK_EQ_INT(r.n, 5);
	CHECK_STR(r.ev[0].event, "response.created");
	CHECK_STR(r.ev[2].event, "response.output_text.delta");
	CHECK_STR(r.ev[4].event, "response.completed");
	CHECK(strstr(r.ev[2].data, "\"delta\":\"Hello\"") != NULL);
	recs_free(&r);
}

TEST(crlf_fixture)
{
	struct recs r = {0};
	CHECK_EQ_INT(whole_file("crlf.txt", &r), 0);
	CHECK_EQ_INT(r.n, 4);
	CHECK_STR(r.ev[0].id, "1");
	CHECK_STR(r.ev[0].event, "message");
	CHECK_STR(r.ev[1].data, "line one\nline two");
	CHECK_STR(r.ev[1].id, "2");
	CHECK(!r.ev[2].has_data);
	CHECK_STR(r.ev[2].raw, ": ping\r\n\r\n");
	CHECK_STR(r.ev[3].raw, "data: [DONE]\r\n\r\n");
	recs_free(&r);
}

TEST(comments_fixture)
{
	struct recs r = {0};
	CHECK_EQ_INT(whole_file("comments.txt", &r), 0);
	CHECK_EQ_INT(r.n, 7);
	CHECK(!r.ev[0].has_data); /* comment-only block */
	CHECK_STR(r.ev[0].raw, ": this is a comment\n: keep-alive\n\n");
	CHECK(strstr(r.ev[1].data, "\"a\"") != NULL);
	CHECK(!r.ev[2].has_data);
	CHECK(strstr(r.ev[3].data, "\"b\"") != NULL); /* retry ignored, comment skipped */
	CHECK(r.ev[4].has_data);                      /* "data" without colon: empty value */
	CHECK_EQ_INT(r.ev[4].data_len, 0);
	CHECK_STR(r.ev[5].data, "\n"); /* two empty data lines */
	CHECK_STR(r.ev[6].data, "[DONE]");
	recs_free(&r);
}

TEST(multiline_fixture)
{
	struct recs r = {0};
	CHECK_EQ_INT(whole_file("multiline.txt", &r), 0);
	CHECK_EQ_INT(r.n, 4);
	CHECK_STR(r.ev[0].data, "first line\nsecond line\n two leading spaces, one kept\n"
	                        "no space after colon");
	CHECK_STR(r.ev[1].event, "update");
	CHECK_STR(r.ev[1].id, "42");
	CHECK_STR(r.ev[1].data, "{\"a\":\n1}");
	CHECK(!r.ev[2].has_data); /* the extra blank line is an empty block */
	CHECK_STR(r.ev[2].raw, "\n");
	CHECK_STR(r.ev[3].data, "after an extra blank line");
	recs_free(&r);
}

TEST(truncated_stream)
{
	struct recs r = {0};
	CHECK_EQ_INT(whole_file("no_trailing_blank.txt", &r), WD_EINVAL);
	CHECK_EQ_INT(r.n, 1);
	CHECK(strstr(r.ev[0].data, "complete") != NULL);
	recs_free(&r);

	/* A last line ended but no blank line after it is still truncated. */
	struct wd_sse s;
	wd_sse_init(&s, 1024);
	CHECK_EQ_INT(wd_sse_feed(&s, "data: x\n", 8, on_event, &r), 0);
	CHECK_EQ_INT(r.n, 0);
	CHECK_EQ_INT(wd_sse_end(&s), WD_EINVAL);
	/* After end the framer starts clean. */
	CHECK_EQ_INT(wd_sse_feed(&s, "data: y\n\n", 9, on_event, &r), 0);
	CHECK_EQ_INT(r.n, 1);
	CHECK_STR(r.ev[0].data, "y");
	CHECK_EQ_INT(wd_sse_end(&s), 0);
	wd_sse_free(&s);
	recs_free(&r);
}

TEST(cr_only_fixture)
{
	struct recs r = {0};
	CHECK_EQ_INT(whole_file("cr_only.txt", &r), 0);
	CHECK_EQ_INT(r.n, 4);
	CHECK_STR(r.ev[0].data, "one");
	CHECK_STR(r.ev[0].raw, "data: one\r\r");
	CHECK_STR(r.ev[1].data, "two\ntwo b");
	CHECK(!r.ev[2].has_data);
	CHECK_STR(r.ev[2].raw, ": c\r\r\n"); /* the '\n' belongs to the blank line's CRLF */
	CHECK_STR(r.ev[3].data, "three");
	recs_free(&r);
}

TEST(bom_skipped)
{
	struct recs r = {0};
	CHECK_EQ_INT(whole_file("bom.txt", &r), 0);
	CHECK_EQ_INT(r.n, 2);
	CHECK_STR(r.ev[0].data, "after bom");
	CHECK_EQ_INT(r.ev[0].raw_len, 3 + 17);
	CHECK_STR(r.ev[1].data, "second");
	recs_free(&r);

	/* A BOM later in the stream is data, and an almost-BOM is ordinary bytes. */
	struct wd_sse s;
	wd_sse_init(&s, 1024);
	CHECK_EQ_INT(wd_sse_feed(&s, "\xef\xbb", 2, on_event, &r), 0);
	CHECK_EQ_INT(wd_sse_feed(&s,
	                         "Xdata: z\n\n\xef\xbb\xbf"
	                         "data: q\n\n",
	                         22, on_event, &r),
	             0);
	CHECK_EQ_INT(r.n, 2);
	CHECK(!r.ev[0].has_data); /* field "\xef\xbbXdata" is unknown */
	CHECK(!r.ev[1].has_data); /* field "\xef\xbb\xbf" "data" is unknown */
	CHECK_EQ_INT(wd_sse_end(&s), 0);
	wd_sse_free(&s);
	recs_free(&r);
}

TEST(too_big)
{
	struct recs r = {0};
	struct wd_sse s;
	char big[200];
	memset(big, 'a', sizeof big);
	memcpy(big, "data: ", 6);

	wd_sse_init(&s, 64);
	CHECK_EQ_INT(wd_sse_feed(&s, "data: ok\n\n", 10, on_event, &r), 0);
	CHECK_EQ_INT(wd_sse_feed(&s, big, 50, on_event, &r), 0);
	CHECK_EQ_INT(wd_sse_feed(&s, big + 50, 50, on_event, &r), WD_ETOOBIG);
	/* unusable afterwards */
	CHECK_EQ_INT(wd_sse_feed(&s, "\n\n", 2, on_event, &r), WD_ETOOBIG);
	CHECK_EQ_INT(wd_sse_end(&s), WD_EINVAL);
	CHECK_EQ_INT(r.n, 1);
	wd_sse_free(&s);
	recs_free(&r);

	/* A complete block over the limit inside one feed fails too; the one before passes. */
	char buf[256];
	memcpy(buf, "data: ok\n\n", 10);
	memcpy(buf + 10, big, 100);
	memcpy(buf + 110, "\n\n", 2);
	wd_sse_init(&s, 64);
	CHECK_EQ_INT(wd_sse_feed(&s, buf, 112, on_event, &r), WD_ETOOBIG);
	CHECK_EQ_INT(r.n, 1);
	wd_sse_free(&s);
	recs_free(&r);

	/* Exactly max bytes is accepted. */
	wd_sse_init(&s, 10);
	CHECK_EQ_INT(wd_sse_feed(&s, "data: ok\n\n", 10, on_event, &r), 0);
	CHECK_EQ_INT(r.n, 1);
	wd_sse_free(&s);
	recs_free(&r);
}

TEST(callback_stops_feed)
{
	struct recs r = {0};
	struct wd_sse s;
	r.stop_at = 2;
	wd_sse_init(&s, 1024);
	CHECK_EQ_INT(wd_sse_feed(&s, "data: 1\n\ndata: 2\n\ndata: 3\n\n", 27, on_event, &r), 7);
	CHECK_EQ_INT(r.n, 2);
	wd_sse_free(&s);
	recs_free(&r);
}

TEST(split_crlf_blank_line)
{
	/* "\r\n\r\n" split after the last '\r': the block waits for the '\n'. */
	struct recs r = {0};
	struct wd_sse s;
	wd_sse_init(&s, 1024);
	CHECK_EQ_INT(wd_sse_feed(&s, "data: a\r\n\r", 10, on_event, &r), 0);
	CHECK_EQ_INT(r.n, 0);
	CHECK_EQ_INT(wd_sse_feed(&s, "\ndata: b\r\n\r\n", 12, on_event, &r), 0);
	CHECK_EQ_INT(r.n, 2);
	CHECK_STR(r.ev[0].raw, "data: a\r\n\r\n");
	CHECK_STR(r.ev[1].raw, "data: b\r\n\r\n");
	CHECK_EQ_INT(wd_sse_end(&s), 0);
	wd_sse_free(&s);
	recs_free(&r);
}

struct counter {
	size_t n;
};

static int count_event(void *ctx, const struct wd_sse_event *ev)
{
	((struct counter *)ctx)->n++;
	return 0;
}

TEST(large_stream_linear)
{
	/* 200k events of 20 bytes fed in one piece and then in 7-byte pieces: quadratic work would
	 * take minutes here, linear takes milliseconds. */
	size_t n = 200000, len = n * 20;
	char *p = malloc(len);
	for (size_t i = 0; i < n; i++)
		memcpy(p + i * 20, "data: 0123456789ab\n\n", 20);
	struct counter c = {0};
	struct wd_sse s;
	wd_sse_init(&s, 1024);
	CHECK_EQ_INT(wd_sse_feed(&s, p, len, count_event, &c), 0);
	CHECK_EQ_INT(c.n, n);
	for (size_t at = 0; at < len; at += 7)
		wd_sse_feed(&s, p + at, len - at < 7 ? len - at : 7, count_event, &c);
	CHECK_EQ_INT(c.n, 2 * n);
	CHECK_EQ_INT(wd_sse_end(&s), 0);
	wd_sse_free(&s);

	/* One 1 MB block fed a byte at a time must not be rescanned on every feed. */
	size_t big = 1 << 20;
	char *q = malloc(big + 2);
	memcpy(q, "data: ", 6);
	memset(q + 6, 'x', big - 6);
	memcpy(q + big, "\n\n", 2);
	c.n = 0;
	wd_sse_init(&s, big + 2);
	for (size_t at = 0; at < big + 2; at++)
		wd_sse_feed(&s, q + at, 1, count_event, &c);
	CHECK_EQ_INT(c.n, 1);
	wd_sse_free(&s);
	free(q);
	free(p);
}

int main(void)
{
	RUN(every_split_gives_same_events);
	RUN(every_split_same_with_small_max);
	RUN(chat_fixture_fields);
	RUN(responses_fixture_event_names);
	RUN(crlf_fixture);
	RUN(comments_fixture);
	RUN(multiline_fixture);
	RUN(truncated_stream);
	RUN(cr_only_fixture);
	RUN(bom_skipped);
	RUN(too_big);
	RUN(callback_stops_feed);
	RUN(split_crlf_blank_line);
	RUN(large_stream_linear);
	return DONE();
}
