/* api.c — the mock's OpenAI endpoints, without any HTTP library: a request (method, path,
 * content type, body) goes in, a reply (status + JSON body, or the list of SSE events of a
 * stream) comes out. This file routes, builds errors and does the generation endpoints
 * (chat.completions, legacy completions, Responses) with their streams; resources.c does the
 * rest (embeddings, moderations, models, files, fine-tuning jobs). Shapes follow OpenAI's public
 * API closely enough for the official clients; everything is deterministic except ids and
 * timestamps. */
#include "mock/mock_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"

/* Bound on one stream's events: a huge echo streamed word by word costs ~100 bytes a word. */
#define SSE_MAX     ((size_t)256 << 20)
#define MAX_CHOICES 128
#define ARGS_PIECE  12 /* bytes of tool-call arguments per stream chunk */

static atomic_ulong seq; /* numbers the ids: chatcmpl-<n>, cmpl-<n>, resp_<n>, ... */

unsigned long wd_mock_next_seq(void)
{
	return (unsigned long)atomic_fetch_add(&seq, 1) + 1;
}

void wd_mock_reply_init(struct wd_mock_reply *r)
{
	memset(r, 0, sizeof *r);
	r->status = 200;
	r->content_type = "application/json";
	wd_buf_init(&r->sse, SSE_MAX);
}

void wd_mock_reply_free(struct wd_mock_reply *r)
{
	free(r->body);
	wd_buf_free(&r->sse);
	free(r->ends);
	memset(r, 0, sizeof *r);
}

/* Takes a reference to obj. */
int wd_mock_reply_json(struct wd_mock_reply *r, unsigned status, json_t *obj, size_t flags)
{
	if (!obj)
		return WD_ENOMEM;
	char *s = json_dumps(obj, JSON_COMPACT | flags);
	json_decref(obj);
	if (!s)
		return WD_ENOMEM;
	free(r->body);
	r->body = s;
	r->len = strlen(s);
	r->status = status;
	r->content_type = "application/json";
	return WD_OK;
}

int wd_mock_api_error(struct wd_mock_reply *r, unsigned status, const char *type, const char *code,
                      const char *param, const char *message)
{
	/* an error replaces whatever stream was being built */
	r->stream = 0;
	wd_buf_free(&r->sse);
	r->nends = 0;
	json_t *e = json_pack("{s:{s:s, s:s, s:o, s:o}}", "error", "message", message, "type", type,
	                      "param", param ? json_string(param) : json_null(), "code",
	                      code ? json_string(code) : json_null());
	return wd_mock_reply_json(r, status, e, 0);
}

int wd_mock_bad_request(struct wd_mock_reply *r, const char *param, const char *message)
{
	return wd_mock_api_error(r, 400, "invalid_request_error", NULL, param, message);
}

int wd_mock_missing(struct wd_mock_reply *r, const char *param)
{
	char msg[128];
	snprintf(msg, sizeof msg, "Missing required parameter: '%s'.", param);
	return wd_mock_api_error(r, 400, "invalid_request_error", "missing_required_parameter",
	                         param, msg);
}

int wd_mock_not_found(struct wd_mock_reply *r, const char *what, const char *id)
{
	char msg[256];
	snprintf(msg, sizeof msg, "No such %s: '%.150s'", what, id);
	return wd_mock_api_error(r, 404, "invalid_request_error", "not_found", NULL, msg);
}

/* Records the end of the event just appended to r->sse. */
static int sse_end(struct wd_mock_reply *r)
{
	if (r->nends == r->capends) {
		size_t cap = r->capends ? 2 * r->capends : 64;
		size_t *p = realloc(r->ends, cap * sizeof *p);
		if (!p)
			return WD_ENOMEM;
		r->ends = p;
		r->capends = cap;
	}
	r->ends[r->nends++] = r->sse.len;
	return WD_OK;
}

static int sse_head(struct wd_mock_reply *r, const char *name)
{
	int rc = WD_OK;
	if (name) {
		rc = wd_buf_appendz(&r->sse, "event: ");
		if (!rc)
			rc = wd_buf_appendz(&r->sse, name);
		if (!rc)
			rc = wd_buf_append(&r->sse, "\n", 1);
	}
	if (!rc)
		rc = wd_buf_append(&r->sse, "data: ", 6);
	return rc;
}

/* Appends one SSE event ("event: <name>\n" when name is set, "data: <json>\n\n"). Takes a
 * reference to data. */
static int sse_event(struct wd_mock_reply *r, const char *name, json_t *data)
{
	if (!data)
		return WD_ENOMEM;
	char *s = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (!s)
		return WD_ENOMEM;
	int rc = sse_head(r, name);
	if (!rc)
		rc = wd_buf_appendz(&r->sse, s);
	if (!rc)
		rc = wd_buf_append(&r->sse, "\n\n", 2);
	free(s);
	return rc ? rc : sse_end(r);
}

static int sse_done(struct wd_mock_reply *r)
{
	int rc = wd_buf_appendz(&r->sse, "data: [DONE]\n\n");
	return rc ? rc : sse_end(r);
}

/* Appends s as a JSON string (quotes, backslash and control characters escaped; UTF-8 as is,
 * which jansson already validated). */
static int json_quote(struct wd_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	int rc = wd_buf_append(b, "\"", 1);
	for (size_t i = 0; i < n && !rc; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		char esc[6] = {'\\', (char)c};
		size_t elen = 2;
		switch (c) {
		case '"':
		case '\\': break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		rc = wd_buf_append(b, s + run, i - run);
		if (!rc)
			rc = wd_buf_append(b, esc, elen);
		run = i + 1;
	}
	if (!rc)
		rc = wd_buf_append(b, s + run, n - run);
	if (!rc)
		rc = wd_buf_append(b, "\"", 1);
	return rc;
}

/* A stream chunk serialised once with a placeholder where each piece of text goes: the word
 * by word events then cost a memcpy and an escape instead of building and dumping a jansson
 * tree each (that was 9 us an event, 90% of a streamed answer's cost). */
#define PIECE "@@wd-mock-piece@@"

struct tmpl {
	char *text;
	size_t pre;       /* bytes before the placeholder's opening quote */
	const char *post; /* after its closing quote */
};

/* Takes a reference to obj, which holds PIECE as its last string containing it. */
static int tmpl_make(struct tmpl *t, json_t *obj)
{
	t->text = NULL;
	if (!obj)
		return WD_ENOMEM;
	t->text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (!t->text)
		return WD_ENOMEM;
	/* the last occurrence: a model name could hold the placeholder too, but comes before */
	const char *hit = NULL;
	for (const char *p = t->text; (p = strstr(p, "\"" PIECE "\"")); p++)
		hit = p;
	if (!hit)
		return WD_EINVAL;
	t->pre = (size_t)(hit - t->text);
	t->post = hit + sizeof PIECE + 1;
	return WD_OK;
}

/* One event from template t with piece s[0..n). head, when set, replaces the template's
 * opening '{' (it carries fields that change per event, e.g. a sequence number). */
static int tmpl_event(struct wd_mock_reply *r, const char *name, const char *head,
                      const struct tmpl *t, const char *s, size_t n)
{
	int rc = sse_head(r, name);
	if (!rc && head)
		rc = wd_buf_appendz(&r->sse, head);
	if (!rc)
		rc = wd_buf_append(&r->sse, t->text + (head ? 1 : 0), t->pre - (head ? 1 : 0));
	if (!rc)
		rc = json_quote(&r->sse, s, n);
	if (!rc)
		rc = wd_buf_appendz(&r->sse, t->post);
	if (!rc)
		rc = wd_buf_append(&r->sse, "\n\n", 2);
	return rc ? rc : sse_end(r);
}

static int start_stream(struct wd_mock_reply *r)
{
	r->stream = 1;
	r->status = 200;
	r->content_type = "text/event-stream";
	return WD_OK;
}

/* ---- generation shared by chat, completions and responses ---- */

struct gen {
	const char *model; /* borrowed from the request: echoed back as OpenAI does */
	char id[48];
	json_int_t created;
	int n;
	int stream, include_usage;
	json_int_t max_tokens; /* 0: no limit */
	struct wd_mock_prompt prompt;
	struct wd_mock_answer ans;
	const char *finish;
	json_int_t prompt_tokens, completion_tokens;
};

static void gen_free(struct gen *g)
{
	wd_mock_prompt_free(&g->prompt);
	wd_mock_answer_free(&g->ans);
}

/* Reads the options every generation endpoint shares. Returns 0, or 1 after filling r with a
 * 400 error. */
static int gen_options(struct gen *g, const json_t *req, const char *prefix, const char *max_key,
                       const char *max_key2, struct wd_mock_reply *r)
{
	const json_t *model = json_object_get(req, "model");
	if (model && !json_is_string(model))
		return wd_mock_bad_request(r, "model", "'model' must be a string.") ? WD_ENOMEM : 1;
	g->model = model ? json_string_value(model) : "mock-aligned";
	const json_t *n = json_object_get(req, "n");
	g->n = 1;
	if (n && !json_is_null(n)) {
		if (!json_is_integer(n) || json_integer_value(n) < 1 ||
		    json_integer_value(n) > MAX_CHOICES)
			return wd_mock_bad_request(r, "n", "'n' must be an integer from 1 to 128.")
			           ? WD_ENOMEM
			           : 1;
		g->n = (int)json_integer_value(n);
	}
	g->stream = json_is_true(json_object_get(req, "stream"));
	g->include_usage =
	    json_is_true(json_object_get(json_object_get(req, "stream_options"), "include_usage"));
	const json_t *mt = json_object_get(req, max_key);
	if (!json_is_integer(mt) && max_key2)
		mt = json_object_get(req, max_key2);
	if (json_is_integer(mt) && json_integer_value(mt) > 0)
		g->max_tokens = json_integer_value(mt);
	snprintf(g->id, sizeof g->id, "%s%lu", prefix, wd_mock_next_seq());
	g->created = (json_int_t)time(NULL);
	g->finish = "stop";
	return 0;
}

/* Computes the answer, applies max_tokens, counts tokens. */
static int gen_answer(struct gen *g)
{
	int rc = wd_mock_answer_make(g->model, &g->prompt, &g->ans);
	if (rc)
		return rc;
	g->prompt_tokens = (json_int_t)wd_mock_count_pieces(
	    g->prompt.all.data ? g->prompt.all.data : "", g->prompt.all.len);
	if (g->ans.tool_name) {
		g->finish = "tool_calls";
		g->completion_tokens = (json_int_t)(strlen(g->ans.tool_args) / 4 + 1) * g->n;
		return WD_OK;
	}
	size_t len = strlen(g->ans.text), pos = 0, count = 0;
	while (pos < len) {
		if (g->max_tokens && count == (size_t)g->max_tokens) {
			g->ans.text[pos] = '\0';
			g->finish = "length";
			break;
		}
		pos = wd_mock_piece_end(g->ans.text, len, pos);
		count++;
	}
	g->completion_tokens = (json_int_t)count * g->n;
	return WD_OK;
}

static json_t *usage_obj(const struct gen *g)
{
	return json_pack("{s:I, s:I, s:I}", "prompt_tokens", g->prompt_tokens, "completion_tokens",
	                 g->completion_tokens, "total_tokens",
	                 g->prompt_tokens + g->completion_tokens);
}

static size_t args_piece_end(const char *s, size_t len, size_t pos)
{
	size_t end = pos + ARGS_PIECE;
	if (end >= len)
		return len;
	while (end < len && ((unsigned char)s[end] & 0xC0) == 0x80)
		end++;
	return end;
}

/* ---- POST /v1/chat/completions ---- */

/* The whole tool call (message), or the first stream delta of it: with "index", no arguments. */
static json_t *chat_tool_calls(const struct gen *g, int delta)
{
	json_t *call = json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", g->ans.tool_id, "type",
	                         "function", "function", "name", g->ans.tool_name, "arguments",
	                         delta ? "" : g->ans.tool_args);
	if (call && delta)
		json_object_set_new(call, "index", json_integer(0));
	return json_pack("[o]", call);
}

static json_t *chat_chunk(const struct gen *g, json_t *choices)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:o}", "id", g->id, "object",
	                      "chat.completion.chunk", "created", g->created, "model", g->model,
	                      "system_fingerprint", "fp_mock", "choices", choices);
	if (o && g->include_usage)
		json_object_set_new(o, "usage", json_null());
	return o;
}

static json_t *chat_choice_delta(int index, json_t *delta, const char *finish)
{
	return json_pack("[{s:i, s:o, s:n, s:o}]", "index", index, "delta", delta, "logprobs",
	                 "finish_reason", finish ? json_string(finish) : json_null());
}

static int chat_stream(struct gen *g, struct wd_mock_reply *r)
{
	int rc = start_stream(r);
	int tool = g->ans.tool_name != NULL;
	const char *text = tool ? g->ans.tool_args : g->ans.text;
	size_t len = strlen(text);
	struct tmpl *ts = calloc((size_t)g->n, sizeof *ts);
	if (!ts)
		return WD_ENOMEM;
	for (int i = 0; i < g->n && !rc; i++) {
		json_t *d;
		if (tool)
			d = json_pack("{s:s, s:n, s:o}", "role", "assistant", "content",
			              "tool_calls", chat_tool_calls(g, 1));
		else
			d = json_pack("{s:s, s:s}", "role", "assistant", "content", "");
		rc = sse_event(r, NULL, chat_chunk(g, chat_choice_delta(i, d, NULL)));
		/* the template of choice i's deltas */
		if (tool)
			d = json_pack("{s:[{s:i, s:{s:s}}]}", "tool_calls", "index", 0, "function",
			              "arguments", PIECE);
		else
			d = json_pack("{s:s}", "content", PIECE);
		if (!rc)
			rc = tmpl_make(&ts[i], chat_chunk(g, chat_choice_delta(i, d, NULL)));
	}
	/* tool arguments go in slices of a few bytes, text one word (and its leading space) */
	for (size_t pos = 0, end; pos < len && !rc; pos = end) {
		end = tool ? args_piece_end(text, len, pos) : wd_mock_piece_end(text, len, pos);
		for (int i = 0; i < g->n && !rc; i++)
			rc = tmpl_event(r, NULL, NULL, &ts[i], text + pos, end - pos);
	}
	for (int i = 0; i < g->n && !rc; i++)
		rc = sse_event(r, NULL,
		               chat_chunk(g, chat_choice_delta(i, json_object(), g->finish)));
	if (!rc && g->include_usage) {
		json_t *c = chat_chunk(g, json_array());
		if (c)
			json_object_set_new(c, "usage", usage_obj(g));
		rc = sse_event(r, NULL, c);
	}
	if (!rc)
		rc = sse_done(r);
	for (int i = 0; i < g->n; i++)
		free(ts[i].text);
	free(ts);
	return rc;
}

static int chat_whole(struct gen *g, struct wd_mock_reply *r)
{
	json_t *choices = json_array();
	for (int i = 0; i < g->n && choices; i++) {
		json_t *msg;
		if (g->ans.tool_name)
			msg = json_pack("{s:s, s:n, s:n, s:o}", "role", "assistant", "content",
			                "refusal", "tool_calls", chat_tool_calls(g, 0));
		else
			msg = json_pack("{s:s, s:s, s:n}", "role", "assistant", "content",
			                g->ans.text, "refusal");
		json_t *c = json_pack("{s:i, s:o, s:n, s:s}", "index", i, "message", msg,
		                      "logprobs", "finish_reason", g->finish);
		if (!c || json_array_append_new(choices, c)) {
			json_decref(choices);
			return WD_ENOMEM;
		}
	}
	json_t *o =
	    json_pack("{s:s, s:s, s:I, s:s, s:o, s:o, s:s}", "id", g->id, "object",
	              "chat.completion", "created", g->created, "model", g->model, "choices",
	              choices, "usage", usage_obj(g), "system_fingerprint", "fp_mock");
	return wd_mock_reply_json(r, 200, o, 0);
}

static int chat(json_t *req, const char *id, struct wd_mock_reply *r)
{
	struct gen g = {0};
	wd_mock_prompt_init(&g.prompt);
	const json_t *msgs = json_object_get(req, "messages");
	int rc;
	if (!json_is_array(msgs) || json_array_size(msgs) == 0) {
		rc = msgs ? wd_mock_bad_request(r, "messages",
		                                "'messages' must be a non-empty array.")
		          : wd_mock_missing(r, "messages");
		goto out;
	}
	rc = gen_options(&g, req, "chatcmpl-", "max_completion_tokens", "max_tokens", r);
	if (rc) {
		rc = rc < 0 ? rc : 0;
		goto out;
	}
	rc = wd_mock_prompt_from_chat(&g.prompt, req);
	if (!rc)
		rc = gen_answer(&g);
	if (!rc)
		rc = g.stream ? chat_stream(&g, r) : chat_whole(&g, r);
out:
	gen_free(&g);
	return rc;
}

/* ---- POST /v1/completions (legacy) ---- */

static json_t *cmpl_obj(const struct gen *g, json_t *choices)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:o}", "id", g->id, "object",
	                      "text_completion", "created", g->created, "model", g->model,
	                      "system_fingerprint", "fp_mock", "choices", choices);
	if (o && g->stream && g->include_usage)
		json_object_set_new(o, "usage", json_null());
	return o;
}

static json_t *cmpl_choice(int index, const char *text, size_t len, const char *finish)
{
	return json_pack("{s:s%, s:i, s:n, s:o}", "text", text, len, "index", index, "logprobs",
	                 "finish_reason", finish ? json_string(finish) : json_null());
}

static int completions(json_t *req, const char *id, struct wd_mock_reply *r)
{
	struct gen g = {0};
	struct tmpl *ts = NULL;
	wd_mock_prompt_init(&g.prompt);
	int rc;
	if (!json_object_get(req, "prompt")) {
		rc = wd_mock_missing(r, "prompt");
		goto out;
	}
	rc = gen_options(&g, req, "cmpl-", "max_tokens", NULL, r);
	if (rc) {
		rc = rc < 0 ? rc : 0;
		goto out;
	}
	rc = wd_mock_prompt_from_completion(&g.prompt, req);
	if (!rc)
		rc = gen_answer(&g); /* no tools in legacy completions: always text */
	if (rc)
		goto out;
	const char *text = g.ans.text;
	size_t len = strlen(text);
	if (!g.stream) {
		json_t *choices = json_array();
		for (int i = 0; i < g.n && choices; i++) {
			if (json_array_append_new(choices, cmpl_choice(i, text, len, g.finish))) {
				json_decref(choices);
				goto nomem;
			}
		}
		json_t *o = cmpl_obj(&g, choices);
		if (o)
			json_object_set_new(o, "usage", usage_obj(&g));
		rc = wd_mock_reply_json(r, 200, o, 0);
		goto out;
	}
	rc = start_stream(r);
	ts = calloc((size_t)g.n, sizeof *ts);
	if (!ts)
		goto nomem;
	for (int i = 0; i < g.n && !rc; i++)
		rc = tmpl_make(
		    &ts[i],
		    cmpl_obj(&g, json_pack("[o]", cmpl_choice(i, PIECE, strlen(PIECE), NULL))));
	for (size_t pos = 0, end; pos < len && !rc; pos = end) {
		end = wd_mock_piece_end(text, len, pos);
		for (int i = 0; i < g.n && !rc; i++)
			rc = tmpl_event(r, NULL, NULL, &ts[i], text + pos, end - pos);
	}
	for (int i = 0; i < g.n && !rc; i++)
		rc = sse_event(r, NULL,
		               cmpl_obj(&g, json_pack("[o]", cmpl_choice(i, "", 0, g.finish))));
	if (!rc && g.include_usage) {
		json_t *c = cmpl_obj(&g, json_array());
		if (c)
			json_object_set_new(c, "usage", usage_obj(&g));
		rc = sse_event(r, NULL, c);
	}
	if (!rc)
		rc = sse_done(r);
	goto out;
nomem:
	rc = WD_ENOMEM;
out:
	for (int i = 0; ts && i < g.n; i++)
		free(ts[i].text);
	free(ts);
	gen_free(&g);
	return rc;
}

/* ---- POST /v1/responses ---- */

struct resp_ids {
	char item[64]; /* msg_<n> or fc_<n> */
	int seqno;     /* sequence_number of the next event */
};

static json_t *resp_item(const struct gen *g, const struct resp_ids *ids, int done)
{
	const char *status = done ? "completed" : "in_progress";
	if (g->ans.tool_name)
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "function_call", "id",
		                 ids->item, "call_id", g->ans.tool_id, "name", g->ans.tool_name,
		                 "arguments", done ? g->ans.tool_args : "", "status", status);
	json_t *content = done ? json_pack("[{s:s, s:s, s:[]}]", "type", "output_text", "text",
	                                   g->ans.text, "annotations")
	                       : json_array();
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "type", "message", "id", ids->item, "status",
	                 status, "role", "assistant", "content", content);
}

static json_t *resp_obj(const struct gen *g, const struct resp_ids *ids, const json_t *req,
                        int done)
{
	json_t *output = done ? json_pack("[o]", resp_item(g, ids, 1)) : json_array();
	int incomplete = done && strcmp(g->finish, "length") == 0;
	const char *status = !done ? "in_progress" : incomplete ? "incomplete" : "completed";
	json_t *usage =
	    done ? json_pack("{s:I, s:{s:i}, s:I, s:{s:i}, s:I}", "input_tokens", g->prompt_tokens,
	                     "input_tokens_details", "cached_tokens", 0, "output_tokens",
	                     g->completion_tokens, "output_tokens_details", "reasoning_tokens", 0,
	                     "total_tokens", g->prompt_tokens + g->completion_tokens)
	         : json_null();
	const json_t *instr = json_object_get(req, "instructions");
	json_t *tools = json_object_get(req, "tools");
	json_t *choice = json_object_get(req, "tool_choice");
	tools = json_is_array(tools) ? json_incref(tools) : json_array();
	choice = choice ? json_incref(choice) : json_string("auto");
	return json_pack(
	    "{s:s, s:s, s:I, s:s, s:n, s:o, s:O, s:s, s:o, s:b, s:n, s:o, s:o, "
	    "s:o, s:{}}",
	    "id", g->id, "object", "response", "created_at", g->created, "status", status, "error",
	    "incomplete_details",
	    incomplete ? json_pack("{s:s}", "reason", "max_output_tokens") : json_null(),
	    "instructions", json_is_string(instr) ? instr : json_null(), "model", g->model,
	    "output", output, "parallel_tool_calls", 1, "previous_response_id", "tool_choice",
	    choice, "tools", tools, "usage", usage, "metadata");
}

/* Responses events carry "type" and "sequence_number" first, then their own fields. */
static int resp_event(struct wd_mock_reply *r, struct resp_ids *ids, const char *type,
                      json_t *fields)
{
	if (!fields)
		return WD_ENOMEM;
	json_t *e = json_pack("{s:s, s:i}", "type", type, "sequence_number", ids->seqno++);
	if (!e || json_object_update(e, fields)) {
		json_decref(e);
		json_decref(fields);
		return WD_ENOMEM;
	}
	json_decref(fields);
	return sse_event(r, type, e);
}

/* The delta events of one output item, from a template of their fields (takes fields). */
static int resp_deltas(struct wd_mock_reply *r, struct resp_ids *ids, const char *type,
                       json_t *fields, const char *s, size_t len,
                       size_t (*next)(const char *, size_t, size_t))
{
	struct tmpl t;
	int rc = tmpl_make(&t, fields);
	for (size_t pos = 0, end; pos < len && !rc; pos = end) {
		char head[128];
		end = next(s, len, pos);
		snprintf(head, sizeof head, "{\"type\":\"%s\",\"sequence_number\":%d,", type,
		         ids->seqno++);
		rc = tmpl_event(r, type, head, &t, s + pos, end - pos);
	}
	free(t.text);
	return rc;
}

static int resp_stream(struct gen *g, const json_t *req, struct resp_ids *ids,
                       struct wd_mock_reply *r)
{
	int rc = start_stream(r);
	if (!rc)
		rc = resp_event(r, ids, "response.created",
		                json_pack("{s:o}", "response", resp_obj(g, ids, req, 0)));
	if (!rc)
		rc = resp_event(r, ids, "response.in_progress",
		                json_pack("{s:o}", "response", resp_obj(g, ids, req, 0)));
	if (!rc)
		rc = resp_event(
		    r, ids, "response.output_item.added",
		    json_pack("{s:i, s:o}", "output_index", 0, "item", resp_item(g, ids, 0)));
	if (g->ans.tool_name) {
		const char *a = g->ans.tool_args;
		size_t len = strlen(a);
		rc = rc ? rc
		        : resp_deltas(r, ids, "response.function_call_arguments.delta",
		                      json_pack("{s:s, s:i, s:s}", "item_id", ids->item,
		                                "output_index", 0, "delta", PIECE),
		                      a, len, args_piece_end);
		if (!rc)
			rc = resp_event(r, ids, "response.function_call_arguments.done",
			                json_pack("{s:s, s:i, s:s}", "item_id", ids->item,
			                          "output_index", 0, "arguments", a));
	} else {
		const char *t = g->ans.text;
		size_t len = strlen(t);
		if (!rc)
			rc = resp_event(r, ids, "response.content_part.added",
			                json_pack("{s:s, s:i, s:i, s:{s:s, s:s, s:[]}}", "item_id",
			                          ids->item, "output_index", 0, "content_index", 0,
			                          "part", "type", "output_text", "text", "",
			                          "annotations"));
		rc = rc ? rc
		        : resp_deltas(r, ids, "response.output_text.delta",
		                      json_pack("{s:s, s:i, s:i, s:s}", "item_id", ids->item,
		                                "output_index", 0, "content_index", 0, "delta",
		                                PIECE),
		                      t, len, wd_mock_piece_end);
		if (!rc)
			rc =
			    resp_event(r, ids, "response.output_text.done",
			               json_pack("{s:s, s:i, s:i, s:s}", "item_id", ids->item,
			                         "output_index", 0, "content_index", 0, "text", t));
		if (!rc)
			rc = resp_event(r, ids, "response.content_part.done",
			                json_pack("{s:s, s:i, s:i, s:{s:s, s:s, s:[]}}", "item_id",
			                          ids->item, "output_index", 0, "content_index", 0,
			                          "part", "type", "output_text", "text", t,
			                          "annotations"));
	}
	if (!rc)
		rc = resp_event(
		    r, ids, "response.output_item.done",
		    json_pack("{s:i, s:o}", "output_index", 0, "item", resp_item(g, ids, 1)));
	if (!rc) {
		int incomplete = strcmp(g->finish, "length") == 0;
		rc = resp_event(r, ids, incomplete ? "response.incomplete" : "response.completed",
		                json_pack("{s:o}", "response", resp_obj(g, ids, req, 1)));
	}
	return rc;
}

static int responses(json_t *req, const char *id, struct wd_mock_reply *r)
{
	struct gen g = {0};
	struct resp_ids ids = {{0}, 0};
	wd_mock_prompt_init(&g.prompt);
	const json_t *input = json_object_get(req, "input");
	int rc;
	if (!json_is_string(input) && !json_is_array(input)) {
		rc = input
		         ? wd_mock_bad_request(r, "input", "'input' must be a string or an array.")
		         : wd_mock_missing(r, "input");
		goto out;
	}
	rc = gen_options(&g, req, "resp_", "max_output_tokens", NULL, r);
	if (rc) {
		rc = rc < 0 ? rc : 0;
		goto out;
	}
	g.n = 1;
	rc = wd_mock_prompt_from_responses(&g.prompt, req);
	if (!rc)
		rc = gen_answer(&g);
	if (rc)
		goto out;
	snprintf(ids.item, sizeof ids.item, "%s%.40s", g.ans.tool_name ? "fc_" : "msg_", g.id + 5);
	if (g.stream)
		rc = resp_stream(&g, req, &ids, r);
	else
		rc = wd_mock_reply_json(r, 200, resp_obj(&g, &ids, req, 1), 0);
out:
	gen_free(&g);
	return rc;
}

static int health(json_t *req, const char *id, struct wd_mock_reply *r)
{
	return wd_mock_reply_json(r, 200, json_pack("{s:s}", "status", "ok"), 0);
}

/* ---- routing ---- */

enum route_body { BODY_NONE, BODY_JSON, BODY_RAW };

struct route {
	const char *method;
	const char *path;
	int with_id; /* path is a prefix followed by one {id} segment */
	enum route_body body;
	int (*fn)(json_t *req, const char *id, struct wd_mock_reply *r);
};

static const struct route routes[] = {
    {"POST", "/v1/chat/completions", 0, BODY_JSON, chat},
    {"POST", "/v1/completions", 0, BODY_JSON, completions},
    {"POST", "/v1/responses", 0, BODY_JSON, responses},
    {"POST", "/v1/embeddings", 0, BODY_JSON, wd_mock_embeddings},
    {"POST", "/v1/moderations", 0, BODY_JSON, wd_mock_moderations},
    {"GET", "/v1/models", 0, BODY_NONE, wd_mock_models_list},
    {"GET", "/v1/models/", 1, BODY_NONE, wd_mock_models_get},
    {"POST", "/v1/files", 0, BODY_RAW, NULL}, /* files_create: needs the raw body */
    {"GET", "/v1/files", 0, BODY_NONE, wd_mock_files_list},
    {"GET", "/v1/files/", 1, BODY_NONE, wd_mock_files_get},
    {"POST", "/v1/fine_tuning/jobs", 0, BODY_JSON, wd_mock_ft_create},
    {"GET", "/v1/fine_tuning/jobs", 0, BODY_NONE, wd_mock_ft_list},
    {"GET", "/v1/fine_tuning/jobs/", 1, BODY_NONE, wd_mock_ft_get},
    {"GET", "/healthz", 0, BODY_NONE, health},
};

static const struct route *route_find(const char *method, const char *path, const char **id)
{
	*id = NULL;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const struct route *rt = &routes[i];
		if (strcmp(rt->method, method) != 0)
			continue;
		size_t n = strlen(rt->path);
		if (!rt->with_id && strcmp(path, rt->path) == 0)
			return rt;
		if (rt->with_id && strncmp(path, rt->path, n) == 0 && path[n] &&
		    !strchr(path + n, '/')) {
			*id = path + n;
			return rt;
		}
	}
	return NULL;
}

int wd_mock_api_handle(const struct wd_mock_request *rq, struct wd_mock_reply *r)
{
	const char *id;
	const struct route *rt = route_find(rq->method, rq->path, &id);
	char msg[512];
	if (!rt) {
		snprintf(msg, sizeof msg, "Invalid URL (%.16s %.400s)", rq->method, rq->path);
		return wd_mock_api_error(r, 404, "invalid_request_error", "unknown_url", NULL, msg);
	}
	if (rt->body == BODY_RAW)
		return wd_mock_files_create(rq, r);
	json_t *req = NULL;
	if (rt->body == BODY_JSON) {
		json_error_t err;
		req = json_loadb(rq->body ? rq->body : "", rq->len, 0, &err);
		if (!req) {
			snprintf(msg, sizeof msg,
			         "We could not parse the JSON body of your request: %s (line %d, "
			         "column %d).",
			         err.text, err.line, err.column);
			return wd_mock_api_error(r, 400, "invalid_request_error", "invalid_json",
			                         NULL, msg);
		}
		if (!json_is_object(req)) {
			json_decref(req);
			return wd_mock_bad_request(r, NULL,
			                           "The request body must be a JSON object.");
		}
	}
	int rc = rt->fn(req, id, r);
	json_decref(req);
	if (rc == WD_ETOOBIG)
		rc = wd_mock_api_error(r, 500, "server_error", NULL, NULL,
		                       "mock: the answer is too large to stream");
	return rc;
}
