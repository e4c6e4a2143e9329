/* fuzz_exchange.c — libFuzzer driver for the exchange parsers. The first byte picks a route;
 * the rest is parsed as a request body for it, as a response body, and as a stream event's
 * data, and a parsed response is then withheld. Every string the view points at is read in
 * full so that a bad length or a dangling pointer shows up under ASan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "openai/exchange.h"

static volatile unsigned sink;

static void touch(const char *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++)
		sink += (unsigned char)p[i];
}

static void touch_msgs(const struct wd_message *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (m[i].name)
			touch(m[i].name, strlen(m[i].name));
		if (m[i].finish_reason)
			touch(m[i].finish_reason, strlen(m[i].finish_reason));
		for (size_t k = 0; k < m[i].nparts; k++)
			touch(m[i].parts[k].text, m[i].parts[k].len);
		for (size_t k = 0; k < m[i].ncalls; k++) {
			const struct wd_tool_call *c = &m[i].calls[k];
			touch(c->arguments, c->arguments_len);
			if (c->name)
				touch(c->name, strlen(c->name));
			if (c->id)
				touch(c->id, strlen(c->id));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum wd_route route = (enum wd_route)(data[0] % WD_ROUTE__COUNT);
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	char err[256];
	struct wd_exchange x;

	if (wd_exchange_parse_request(&x, route, p, n, err, sizeof err) == 0) {
		touch_msgs(x.msgs, x.nmsgs);
		if (x.model)
			touch(x.model, strlen(x.model));
	} else if (strlen(err) == 0) {
		abort(); /* an error always says why */
	}
	if (wd_exchange_parse_response(&x, p, n, err, sizeof err) == 0) {
		touch_msgs(x.out, x.nout);
		wd_exchange_withhold(x.resp, route, data[0] & 1 ? -1 : 0);
	}
	wd_exchange_free(&x);

	struct wd_chunk c;
	const char *event = data[0] & 2 ? "response.output_text.delta" : "";
	if (wd_chunk_parse(&c, route, event, p, n, err, sizeof err) == 0) {
		for (size_t i = 0; i < c.ndeltas; i++)
			touch(c.deltas[i].text, c.deltas[i].len);
		if (c.finish_reason)
			touch(c.finish_reason, strlen(c.finish_reason));
	}
	wd_chunk_free(&c);
	return 0;
}
