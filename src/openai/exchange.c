/* exchange.c — parses OpenAI-compatible requests, responses and stream events into the one
 * normalised view that checkers read (see exchange.h), and builds the bodies warden sends in
 * place of a blocked answer (withheld content, a stream's stop block, a refusal completion).
 *
 * Requests are validated strictly: a guard that guesses at a malformed request may check
 * something other than what the upstream will read, so a wrong type is an error naming its path.
 * Responses and stream events come from the upstream and are read leniently: an unexpected
 * shape gives fewer parts, never an error. The same walkers serve both, switched by `strict`. */
#include "openai/exchange.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/err.h"

/* ---- routes and roles ---- */

static const char *const route_names[WD_ROUTE__COUNT] = {
    "chat",  "completions", "responses", "embeddings", "moderations",
    "files", "fine_tuning", "models",    "other",
};

static const char *const role_names[] = {
    "system", "developer", "user", "assistant", "tool", "function", "unknown",
};

const char *wd_route_name(enum wd_route r)
{
	if ((int)r < 0 || r >= WD_ROUTE__COUNT)
		return "none";
	return route_names[r];
}

const char *wd_role_name(enum wd_role r)
{
	if ((int)r < 0 || r > WD_ROLE_UNKNOWN)
		return "unknown";
	return role_names[r];
}

/* path is prefix itself or lies below it. */
static int under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

enum wd_route wd_route_of(const char *method, const char *path)
{
	static const struct {
		const char *path;
		enum wd_route route;
	} posts[] = {
	    {"/v1/chat/completions", WD_ROUTE_CHAT},   {"/v1/completions", WD_ROUTE_COMPLETIONS},
	    {"/v1/responses", WD_ROUTE_RESPONSES},     {"/v1/embeddings", WD_ROUTE_EMBEDDINGS},
	    {"/v1/moderations", WD_ROUTE_MODERATIONS},
	};
	int post = method && strcmp(method, "POST") == 0;

	if (!path || strncmp(path, "/v1/", 4) != 0)
		return WD_ROUTE__COUNT;
	for (size_t i = 0; i < sizeof posts / sizeof posts[0]; i++) {
		if (post && strcmp(path, posts[i].path) == 0)
			return posts[i].route;
	}
	if (under(path, "/v1/files"))
		return WD_ROUTE_FILES;
	if (under(path, "/v1/fine_tuning/jobs"))
		return WD_ROUTE_FINE_TUNING;
	if (under(path, "/v1/models"))
		return WD_ROUTE_MODELS;
	return WD_ROUTE_OTHER;
}

/* ---- parse context and helpers ---- */

struct pctx {
	int strict; /* request: a wrong type is an error; response: it is skipped */
	char *err;
	size_t errlen;
};

static const char *jtype(const json_t *v)
{
	if (!v)
		return "missing";
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER:
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}

static int errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return WD_EINVAL;
}

/* A wrong type: an error when strict, otherwise 0 and the value is ignored. */
#define BAD(c, ...) ((c)->strict ? errf((c)->err, (c)->errlen, __VA_ARGS__) : WD_OK)

/* Present and not null. */
static int present(const json_t *v)
{
	return v && !json_is_null(v);
}

static int load_json(json_t **out, const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	*out = json_loadb(body ? body : "", len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!*out)
		return errf(err, errlen, "invalid JSON at line %d column %d: %s", je.line,
		            je.column, je.text);
	return WD_OK;
}

static void free_msgs(struct wd_message *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].parts);
		free(m[i].calls);
	}
	free(m);
}

static struct wd_message *new_msgs(size_t n)
{
	struct wd_message *m = calloc(n ? n : 1, sizeof *m);
	for (size_t i = 0; m && i < n; i++) {
		m[i].role = WD_ROLE_UNKNOWN;
		m[i].choice = -1;
	}
	return m;
}

static int add_part(struct wd_message *m, enum wd_part_kind kind, const json_t *s)
{
	struct wd_part *p = realloc(m->parts, (m->nparts + 1) * sizeof *p);
	if (!p)
		return WD_ENOMEM;
	m->parts = p;
	p[m->nparts].kind = kind;
	p[m->nparts].text = s ? json_string_value(s) : NULL;
	p[m->nparts].len = s ? json_string_length(s) : 0;
	p[m->nparts].node = json_is_string(s) ? (json_t *)s : NULL;
	m->nparts++;
	return WD_OK;
}

static int add_call(struct wd_message *m, const json_t *id, const json_t *name, const json_t *args)
{
	struct wd_tool_call *c = realloc(m->calls, (m->ncalls + 1) * sizeof *c);
	if (!c)
		return WD_ENOMEM;
	m->calls = c;
	c[m->ncalls].id = json_is_string(id) ? json_string_value(id) : NULL;
	c[m->ncalls].name = json_is_string(name) ? json_string_value(name) : NULL;
	c[m->ncalls].arguments = json_is_string(args) ? json_string_value(args) : "";
	c[m->ncalls].arguments_len = json_is_string(args) ? json_string_length(args) : 0;
	c[m->ncalls].node = json_is_string(args) ? (json_t *)args : NULL;
	m->ncalls++;
	return WD_OK;
}

/* Optional string member; *out is NULL when absent, null or (lenient) of the wrong type. */
static int opt_string(struct pctx *c, const json_t *obj, const char *key, const char *path,
                      const json_t **out)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!present(v))
		return WD_OK;
	if (!json_is_string(v))
		return BAD(c, "%s%s must be a string (got %s)", path, key, jtype(v));
	*out = v;
	return WD_OK;
}

static const char *str_or_null(const json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- content parts ---- */

/* An image_url value: a URL string, or an object {url}. */
static int image_url(struct pctx *c, const json_t *v, const char *path, const json_t **url)
{
	*url = NULL;
	if (json_is_string(v)) {
		*url = v;
		return WD_OK;
	}
	if (json_is_object(v)) {
		const json_t *u = json_object_get(v, "url");
		if (json_is_string(u)) {
			*url = u;
			return WD_OK;
		}
		return BAD(c, "%s.image_url.url must be a string (got %s)", path, jtype(u));
	}
	return BAD(c, "%s.image_url must be a string or an object with a 'url' (got %s)", path,
	           jtype(v));
}

static int parse_part(struct pctx *c, struct wd_message *m, const json_t *part, const char *path)
{
	const json_t *type, *v, *url;
	int rc;

	if (!json_is_object(part))
		return BAD(c, "%s must be an object (got %s)", path, jtype(part));
	type = json_object_get(part, "type");
	if (!json_is_string(type))
		return BAD(c, "%s.type must be a string (got %s)", path, jtype(type));
	const char *t = json_string_value(type);
	if (strcmp(t, "text") == 0 || strcmp(t, "input_text") == 0 ||
	    strcmp(t, "output_text") == 0) {
		v = json_object_get(part, "text");
		if (!json_is_string(v))
			return BAD(c, "%s.text must be a string (got %s)", path, jtype(v));
		return add_part(m, WD_PART_TEXT, v);
	}
	if (!c->strict && strcmp(t, "refusal") == 0) {
		/* A model's refusal in a response is text it wrote. */
		v = json_object_get(part, "refusal");
		return json_is_string(v) ? add_part(m, WD_PART_TEXT, v) : WD_OK;
	}
	if (strcmp(t, "image_url") == 0 || strcmp(t, "input_image") == 0) {
		v = json_object_get(part, "image_url");
		if (!present(v) && strcmp(t, "input_image") == 0)
			return add_part(m, WD_PART_OTHER, NULL); /* by file_id */
		rc = image_url(c, v, path, &url);
		if (rc)
			return rc;
		return add_part(m, url ? WD_PART_IMAGE : WD_PART_OTHER, url);
	}
	return add_part(m, WD_PART_OTHER, NULL);
}

/* content: a string, null/absent, or an array of parts. path names the content itself. */
static int parse_content(struct pctx *c, struct wd_message *m, const json_t *content,
                         const char *path)
{
	char p[128];
	int rc;

	if (!present(content))
		return WD_OK;
	if (json_is_string(content))
		return add_part(m, WD_PART_TEXT, content);
	if (!json_is_array(content))
		return BAD(c, "%s must be a string or an array of content parts (got %s)", path,
		           jtype(content));
	for (size_t i = 0; i < json_array_size(content); i++) {
		snprintf(p, sizeof p, "%s[%zu]", path, i);
		rc = parse_part(c, m, json_array_get(content, i), p);
		if (rc)
			return rc;
	}
	return WD_OK;
}

/* ---- tool calls ---- */

/* {name, arguments} of a chat tool call's "function" or a legacy "function_call". */
static int parse_function(struct pctx *c, struct wd_message *m, const json_t *id, const json_t *fn,
                          const char *path)
{
	const json_t *name, *args;
	char p[128];
	int rc;

	if (!json_is_object(fn))
		return BAD(c, "%s must be an object (got %s)", path, jtype(fn));
	snprintf(p, sizeof p, "%s.", path);
	rc = opt_string(c, fn, "name", p, &name);
	if (rc == WD_OK)
		rc = opt_string(c, fn, "arguments", p, &args);
	if (rc)
		return rc;
	return add_call(m, id, name, args);
}

static int parse_tool_calls(struct pctx *c, struct wd_message *m, const json_t *calls,
                            const char *path)
{
	char p[128], fp[160];
	int rc;

	if (!present(calls))
		return WD_OK;
	if (!json_is_array(calls))
		return BAD(c, "%s.tool_calls must be an array (got %s)", path, jtype(calls));
	for (size_t i = 0; i < json_array_size(calls); i++) {
		const json_t *call = json_array_get(calls, i), *id, *fn;
		snprintf(p, sizeof p, "%s.tool_calls[%zu]", path, i);
		if (!json_is_object(call)) {
			rc = BAD(c, "%s must be an object (got %s)", p, jtype(call));
			if (rc)
				return rc;
			continue;
		}
		snprintf(fp, sizeof fp, "%s.", p);
		rc = opt_string(c, call, "id", fp, &id);
		if (rc)
			return rc;
		fn = json_object_get(call, "function");
		if (!present(fn) && json_is_object(json_object_get(call, "custom"))) {
			/* Custom tools carry free text as "input". */
			const json_t *cu = json_object_get(call, "custom");
			rc = add_call(m, id, json_object_get(cu, "name"),
			              json_object_get(cu, "input"));
		} else {
			snprintf(fp, sizeof fp, "%s.function", p);
			rc = parse_function(c, m, id, fn, fp);
		}
		if (rc)
			return rc;
	}
	return WD_OK;
}

/* ---- messages ---- */

static int role_of(const char *s, enum wd_role *r)
{
	for (int i = 0; i < WD_ROLE_UNKNOWN; i++) {
		if (strcmp(s, role_names[i]) == 0) {
			*r = (enum wd_role)i;
			return 1;
		}
	}
	return 0;
}

/* One chat message (request: messages[i]; response: choices[i].message). */
static int parse_chat_message(struct pctx *c, struct wd_message *m, const json_t *msg,
                              const char *path)
{
	char p[128];
	const json_t *v;
	int rc;

	if (!json_is_object(msg))
		return BAD(c, "%s must be an object (got %s)", path, jtype(msg));
	v = json_object_get(msg, "role");
	if (c->strict) {
		if (!json_is_string(v))
			return errf(c->err, c->errlen, "%s.role must be a string (got %s)", path,
			            jtype(v));
		if (!role_of(json_string_value(v), &m->role))
			return errf(c->err, c->errlen,
			            "%s.role must be one of system, developer, user, assistant, "
			            "tool, function (got \"%.40s\")",
			            path, json_string_value(v));
	} else {
		m->role = WD_ROLE_ASSISTANT;
	}
	snprintf(p, sizeof p, "%s.", path);
	rc = opt_string(c, msg, "name", p, &v);
	if (rc)
		return rc;
	m->name = str_or_null(v);
	if (m->role == WD_ROLE_TOOL) {
		rc = opt_string(c, msg, "tool_call_id", p, &v);
		if (rc)
			return rc;
		if (v)
			m->name = json_string_value(v);
	}
	snprintf(p, sizeof p, "%s.content", path);
	rc = parse_content(c, m, json_object_get(msg, "content"), p);
	if (rc)
		return rc;
	if (!c->strict) {
		v = json_object_get(msg, "refusal");
		if (json_is_string(v)) {
			rc = add_part(m, WD_PART_TEXT, v);
			if (rc)
				return rc;
		}
	}
	rc = parse_tool_calls(c, m, json_object_get(msg, "tool_calls"), path);
	if (rc)
		return rc;
	v = json_object_get(msg, "function_call");
	if (present(v)) {
		snprintf(p, sizeof p, "%s.function_call", path);
		rc = parse_function(c, m, NULL, v, p);
	}
	return rc;
}

/* A required top-level member: present and not null. */
static int required(struct pctx *c, const json_t *body, const char *key, const json_t **out)
{
	*out = json_object_get(body, key);
	if (!present(*out))
		return errf(c->err, c->errlen, "'%s' is required", key);
	return WD_OK;
}

static int parse_chat(struct pctx *c, struct wd_exchange *x)
{
	const json_t *msgs;
	char p[64];
	int rc = required(c, x->body, "messages", &msgs);

	if (rc)
		return rc;
	if (!json_is_array(msgs))
		return errf(c->err, c->errlen, "'messages' must be an array (got %s)", jtype(msgs));
	x->msgs = new_msgs(json_array_size(msgs));
	if (!x->msgs)
		return WD_ENOMEM;
	for (size_t i = 0; i < json_array_size(msgs); i++) {
		snprintf(p, sizeof p, "messages[%zu]", i);
		x->nmsgs = i + 1;
		rc = parse_chat_message(c, &x->msgs[i], json_array_get(msgs, i), p);
		if (rc)
			return rc;
	}
	return WD_OK;
}

/* Token ids: an integer, or an array of integers. */
static int is_tokens(const json_t *v)
{
	if (json_is_integer(v))
		return 1;
	if (!json_is_array(v))
		return 0;
	for (size_t i = 0; i < json_array_size(v); i++) {
		if (!json_is_integer(json_array_get(v, i)))
			return 0;
	}
	return 1;
}

static int push_user_text(struct wd_exchange *x, const json_t *s)
{
	struct wd_message *m = &x->msgs[x->nmsgs++];
	m->role = WD_ROLE_USER;
	return add_part(m, WD_PART_TEXT, s);
}

/* completions "prompt" and embeddings "input": a string, or an array of strings and token-id
 * arrays; token ids carry no text to check. */
static int parse_texts(struct pctx *c, struct wd_exchange *x, const char *key)
{
	const json_t *v;
	int rc = required(c, x->body, key, &v);

	if (rc)
		return rc;
	if (json_is_string(v)) {
		x->msgs = new_msgs(1);
		return x->msgs ? push_user_text(x, v) : WD_ENOMEM;
	}
	if (!json_is_array(v))
		return errf(c->err, c->errlen,
		            "'%s' must be a string or an array of strings or token ids (got %s)",
		            key, jtype(v));
	x->msgs = new_msgs(json_array_size(v));
	if (!x->msgs)
		return WD_ENOMEM;
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *e = json_array_get(v, i);
		if (json_is_string(e)) {
			rc = push_user_text(x, e);
			if (rc)
				return rc;
		} else if (!is_tokens(e)) {
			return errf(c->err, c->errlen,
			            "%s[%zu] must be a string or an array of token ids (got %s)",
			            key, i, jtype(e));
		}
	}
	return WD_OK;
}

/* moderations "input": a string, an array of strings, or an array of text/image parts. */
static int parse_moderation(struct pctx *c, struct wd_exchange *x)
{
	const json_t *v;
	char p[64];
	int rc = required(c, x->body, "input", &v);
	struct wd_message *parts = NULL;

	if (rc)
		return rc;
	if (json_is_string(v)) {
		x->msgs = new_msgs(1);
		return x->msgs ? push_user_text(x, v) : WD_ENOMEM;
	}
	if (!json_is_array(v))
		return errf(c->err, c->errlen,
		            "'input' must be a string or an array of strings or content parts "
		            "(got %s)",
		            jtype(v));
	x->msgs = new_msgs(json_array_size(v));
	if (!x->msgs)
		return WD_ENOMEM;
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *e = json_array_get(v, i);
		snprintf(p, sizeof p, "input[%zu]", i);
		if (json_is_string(e)) {
			rc = push_user_text(x, e);
		} else if (json_is_object(e)) {
			/* All parts go into one message, as they describe one input. */
			if (!parts) {
				parts = &x->msgs[x->nmsgs++];
				parts->role = WD_ROLE_USER;
			}
			rc = parse_part(c, parts, e, p);
		} else {
			rc = errf(c->err, c->errlen,
			          "%s must be a string or a content part (got %s)", p, jtype(e));
		}
		if (rc)
			return rc;
	}
	return WD_OK;
}

/* One Responses API input item. */
static int parse_item(struct pctx *c, struct wd_message *m, const json_t *it, const char *path)
{
	const json_t *type, *v, *name, *args, *id;
	char p[128];
	int rc;

	if (!json_is_object(it))
		return BAD(c, "%s must be an object (got %s)", path, jtype(it));
	type = json_object_get(it, "type");
	if (present(type) && !json_is_string(type))
		return BAD(c, "%s.type must be a string (got %s)", path, jtype(type));
	const char *t = json_is_string(type) ? json_string_value(type) : "message";
	snprintf(p, sizeof p, "%s.", path);
	if (strcmp(t, "message") == 0) {
		v = json_object_get(it, "role");
		if (!json_is_string(v))
			return BAD(c, "%s.role must be a string (got %s)", path, jtype(v));
		if (v && !role_of(json_string_value(v), &m->role))
			return BAD(c,
			           "%s.role must be one of system, developer, user, assistant "
			           "(got \"%.40s\")",
			           path, json_string_value(v));
		snprintf(p, sizeof p, "%s.content", path);
		return parse_content(c, m, json_object_get(it, "content"), p);
	}
	if (strcmp(t, "function_call_output") == 0) {
		m->role = WD_ROLE_TOOL;
		rc = opt_string(c, it, "call_id", p, &id);
		if (rc)
			return rc;
		m->name = str_or_null(id);
		snprintf(p, sizeof p, "%s.output", path);
		return parse_content(c, m, json_object_get(it, "output"), p);
	}
	if (strcmp(t, "function_call") == 0 || strcmp(t, "custom_tool_call") == 0) {
		m->role = WD_ROLE_ASSISTANT;
		rc = opt_string(c, it, "call_id", p, &id);
		if (rc == WD_OK)
			rc = opt_string(c, it, "name", p, &name);
		if (rc == WD_OK)
			rc = opt_string(c, it, t[0] == 'f' ? "arguments" : "input", p, &args);
		if (rc)
			return rc;
		return add_call(m, id, name, args);
	}
	/* reasoning, item_reference, built-in tool calls: no text for checkers */
	return WD_OK;
}

static int parse_responses(struct pctx *c, struct wd_exchange *x)
{
	const json_t *instr, *input;
	char p[64];
	int rc = required(c, x->body, "input", &input);

	if (rc)
		return rc;
	instr = json_object_get(x->body, "instructions");
	if (present(instr) && !json_is_string(instr))
		return errf(c->err, c->errlen, "'instructions' must be a string (got %s)",
		            jtype(instr));
	instr = str_or_null(instr) ? instr : NULL;
	if (!json_is_string(input) && !json_is_array(input))
		return errf(c->err, c->errlen,
		            "'input' must be a string or an array of input items (got %s)",
		            jtype(input));
	x->msgs = new_msgs(1 + (json_is_array(input) ? json_array_size(input) : 1));
	if (!x->msgs)
		return WD_ENOMEM;
	if (instr) {
		struct wd_message *m = &x->msgs[x->nmsgs++];
		m->role = WD_ROLE_SYSTEM;
		rc = add_part(m, WD_PART_TEXT, instr);
		if (rc)
			return rc;
	}
	if (json_is_string(input))
		return push_user_text(x, input);
	for (size_t i = 0; i < json_array_size(input); i++) {
		struct wd_message *m = &x->msgs[x->nmsgs];
		snprintf(p, sizeof p, "input[%zu]", i);
		rc = parse_item(c, m, json_array_get(input, i), p);
		if (rc) {
			x->nmsgs++; /* so its arrays are freed */
			return rc;
		}
		if (m->role != WD_ROLE_UNKNOWN)
			x->nmsgs++;
	}
	return WD_OK;
}

static int is_core(enum wd_route r)
{
	return r == WD_ROUTE_CHAT || r == WD_ROUTE_COMPLETIONS || r == WD_ROUTE_RESPONSES ||
	       r == WD_ROUTE_EMBEDDINGS || r == WD_ROUTE_MODERATIONS;
}

/* model, stream, tools: common to the JSON routes. */
static int parse_common(struct pctx *c, struct wd_exchange *x)
{
	const json_t *v = json_object_get(x->body, "model");

	if (present(v) && !json_is_string(v))
		return errf(c->err, c->errlen, "'model' must be a string (got %s)", jtype(v));
	x->model = str_or_null(v);
	v = json_object_get(x->body, "stream");
	if (present(v) && !json_is_boolean(v))
		return errf(c->err, c->errlen, "'stream' must be a boolean (got %s)", jtype(v));
	x->stream = json_is_true(v);
	v = json_object_get(x->body, "tools");
	if (present(v) && !json_is_array(v))
		return errf(c->err, c->errlen, "'tools' must be an array (got %s)", jtype(v));
	x->tools = json_is_array(v) ? v : NULL;
	return WD_OK;
}

int wd_exchange_parse_request(struct wd_exchange *x, enum wd_route route, const char *body,
                              size_t len, char *err, size_t errlen)
{
	struct pctx c = {1, err, errlen};
	int rc = WD_OK;

	memset(x, 0, sizeof *x);
	x->route = route;
	if (err && errlen)
		err[0] = '\0';
	if (!is_core(route) && len == 0)
		goto out;
	if (route == WD_ROUTE_FILES || route == WD_ROUTE_MODELS || route == WD_ROUTE_OTHER) {
		/* Any body at all: keep it when it is a JSON object, for the model name. */
		json_t *j = json_loadb(body, len, JSON_ALLOW_NUL, NULL);
		if (json_is_object(j)) {
			x->body = j;
			x->model = str_or_null(json_object_get(j, "model"));
		} else {
			json_decref(j);
		}
		goto out;
	}
	rc = load_json(&x->body, body, len, err, errlen);
	if (rc)
		goto out;
	if (!json_is_object(x->body)) {
		rc = errf(err, errlen, "request body must be a JSON object (got %s)",
		          jtype(x->body));
		goto out;
	}
	rc = parse_common(&c, x);
	if (rc)
		goto out;
	switch (route) {
	case WD_ROUTE_CHAT: rc = parse_chat(&c, x); break;
	case WD_ROUTE_COMPLETIONS: rc = parse_texts(&c, x, "prompt"); break;
	case WD_ROUTE_RESPONSES: rc = parse_responses(&c, x); break;
	case WD_ROUTE_EMBEDDINGS: rc = parse_texts(&c, x, "input"); break;
	case WD_ROUTE_MODERATIONS: rc = parse_moderation(&c, x); break;
	default: break;
	}
out:
	if (rc)
		wd_exchange_free(x);
	x->route = route;
	return rc;
}

/* ---- responses ---- */

static int choice_index(const json_t *choice, size_t pos)
{
	const json_t *v = json_object_get(choice, "index");
	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 1000000)
		return (int)json_integer_value(v);
	return (int)pos;
}

static int parse_choices(struct pctx *c, struct wd_exchange *x, const json_t *choices)
{
	int rc = WD_OK;

	x->out = new_msgs(json_array_size(choices));
	if (!x->out)
		return WD_ENOMEM;
	for (size_t i = 0; i < json_array_size(choices); i++) {
		const json_t *ch = json_array_get(choices, i), *msg, *text;
		if (!json_is_object(ch))
			continue;
		struct wd_message *m = &x->out[x->nout++];
		m->role = WD_ROLE_ASSISTANT;
		m->choice = choice_index(ch, i);
		m->finish_reason = str_or_null(json_object_get(ch, "finish_reason"));
		msg = json_object_get(ch, "message");
		text = json_object_get(ch, "text");
		if (json_is_object(msg))
			rc = parse_chat_message(c, m, msg, "message");
		else if (json_is_string(text))
			rc = add_part(m, WD_PART_TEXT, text);
		if (rc)
			return rc;
	}
	return WD_OK;
}

static int parse_output(struct pctx *c, struct wd_exchange *x, const json_t *output)
{
	int rc;

	x->out = new_msgs(json_array_size(output));
	if (!x->out)
		return WD_ENOMEM;
	for (size_t i = 0; i < json_array_size(output); i++) {
		const json_t *it = json_array_get(output, i);
		const char *t = str_or_null(json_object_get(it, "type"));
		if (!t || (strcmp(t, "message") != 0 && strcmp(t, "function_call") != 0 &&
		           strcmp(t, "custom_tool_call") != 0))
			continue;
		struct wd_message *m = &x->out[x->nout++];
		rc = parse_item(c, m, it, "output");
		if (rc)
			return rc;
		m->role = WD_ROLE_ASSISTANT;
		m->choice = (int)i;
	}
	return WD_OK;
}

int wd_exchange_parse_response(struct wd_exchange *x, const char *body, size_t len, char *err,
                               size_t errlen)
{
	struct pctx c = {0, err, errlen};
	const json_t *v;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (x->resp && x->model == str_or_null(json_object_get(x->resp, "model")))
		x->model = NULL; /* borrowed from the response being replaced */
	const char *model = x->model;
	free_msgs(x->out, x->nout);
	x->out = NULL;
	x->nout = 0;
	json_decref(x->resp);
	x->resp = NULL;
	rc = load_json(&x->resp, body, len, err, errlen);
	if (rc)
		goto out;
	if (!json_is_object(x->resp)) {
		rc = errf(err, errlen, "response body must be a JSON object (got %s)",
		          jtype(x->resp));
		goto out;
	}
	if (!x->model)
		x->model = str_or_null(json_object_get(x->resp, "model"));
	v = json_object_get(x->resp, "choices");
	if (json_is_array(v)) {
		rc = parse_choices(&c, x, v);
		goto out;
	}
	v = json_object_get(x->resp, "output");
	if (json_is_array(v))
		rc = parse_output(&c, x, v);
out:
	if (rc) {
		free_msgs(x->out, x->nout);
		x->out = NULL;
		x->nout = 0;
		x->model = model;
		json_decref(x->resp);
		x->resp = NULL;
	}
	return rc;
}

void wd_exchange_free(struct wd_exchange *x)
{
	free_msgs(x->msgs, x->nmsgs);
	free_msgs(x->out, x->nout);
	json_decref(x->body);
	json_decref(x->resp);
	memset(x, 0, sizeof *x);
}

/* ---- stream chunks ---- */

static int push_delta(struct wd_chunk *c, enum wd_delta_kind kind, int choice, int tool,
                      const json_t *s)
{
	if (!json_is_string(s) || json_string_length(s) == 0)
		return WD_OK;
	struct wd_delta *d = realloc(c->deltas, (c->ndeltas + 1) * sizeof *d);
	if (!d)
		return WD_ENOMEM;
	c->deltas = d;
	d[c->ndeltas].kind = kind;
	d[c->ndeltas].choice = choice;
	d[c->ndeltas].tool = tool;
	d[c->ndeltas].text = json_string_value(s);
	d[c->ndeltas].len = json_string_length(s);
	d[c->ndeltas].node = (json_t *)s;
	c->ndeltas++;
	return WD_OK;
}

static int chat_chunk(struct wd_chunk *c, const json_t *choices)
{
	int rc = WD_OK;

	for (size_t i = 0; i < json_array_size(choices) && rc == WD_OK; i++) {
		const json_t *ch = json_array_get(choices, i);
		const json_t *delta = json_object_get(ch, "delta"), *calls, *fc;
		int idx = choice_index(ch, i);
		if (!c->finish_reason)
			c->finish_reason = str_or_null(json_object_get(ch, "finish_reason"));
		rc = push_delta(c, WD_DELTA_CONTENT, idx, -1, json_object_get(ch, "text"));
		if (rc || !json_is_object(delta))
			continue;
		rc = push_delta(c, WD_DELTA_CONTENT, idx, -1, json_object_get(delta, "content"));
		if (rc == WD_OK)
			rc = push_delta(c, WD_DELTA_REFUSAL, idx, -1,
			                json_object_get(delta, "refusal"));
		calls = json_object_get(delta, "tool_calls");
		for (size_t k = 0; k < json_array_size(calls) && rc == WD_OK; k++) {
			const json_t *call = json_array_get(calls, k);
			const json_t *fn = json_object_get(call, "function");
			int tool = choice_index(call, k);
			rc = push_delta(c, WD_DELTA_TOOL_NAME, idx, tool,
			                json_object_get(fn, "name"));
			if (rc == WD_OK)
				rc = push_delta(c, WD_DELTA_TOOL_ARGS, idx, tool,
				                json_object_get(fn, "arguments"));
		}
		fc = json_object_get(delta, "function_call");
		if (rc == WD_OK && json_is_object(fc)) {
			rc = push_delta(c, WD_DELTA_TOOL_NAME, idx, 0, json_object_get(fc, "name"));
			if (rc == WD_OK)
				rc = push_delta(c, WD_DELTA_TOOL_ARGS, idx, 0,
				                json_object_get(fc, "arguments"));
		}
	}
	return rc;
}

static int responses_event(struct wd_chunk *c, const char *type)
{
	const json_t *j = c->json, *r = json_object_get(j, "response");
	const json_t *oi = json_object_get(j, "output_index");
	int idx =
	    json_is_integer(oi) && json_integer_value(oi) >= 0 && json_integer_value(oi) <= 1000000
	        ? (int)json_integer_value(oi)
	        : 0;
	if (json_is_object(r)) {
		c->id = str_or_null(json_object_get(r, "id"));
		c->model = str_or_null(json_object_get(r, "model"));
		if (json_is_integer(json_object_get(r, "created_at")))
			c->created = json_integer_value(json_object_get(r, "created_at"));
		if (strcmp(type, "response.completed") == 0 ||
		    strcmp(type, "response.incomplete") == 0 ||
		    strcmp(type, "response.failed") == 0) {
			const json_t *d = json_object_get(r, "incomplete_details");
			c->finish_reason = str_or_null(json_object_get(d, "reason"));
			if (!c->finish_reason)
				c->finish_reason = str_or_null(json_object_get(r, "status"));
		}
	}
	const json_t *delta = json_object_get(j, "delta");
	if (strcmp(type, "response.output_text.delta") == 0)
		return push_delta(c, WD_DELTA_CONTENT, idx, -1, delta);
	if (strcmp(type, "response.refusal.delta") == 0)
		return push_delta(c, WD_DELTA_REFUSAL, idx, -1, delta);
	if (strcmp(type, "response.function_call_arguments.delta") == 0 ||
	    strcmp(type, "response.custom_tool_call_input.delta") == 0)
		return push_delta(c, WD_DELTA_TOOL_ARGS, idx, 0, delta);
	if (strcmp(type, "response.output_item.added") == 0) {
		const json_t *it = json_object_get(j, "item");
		const char *t = str_or_null(json_object_get(it, "type"));
		if (t && (strcmp(t, "function_call") == 0 || strcmp(t, "custom_tool_call") == 0))
			return push_delta(c, WD_DELTA_TOOL_NAME, idx, 0,
			                  json_object_get(it, "name"));
	}
	return WD_OK;
}

int wd_chunk_parse(struct wd_chunk *c, enum wd_route route, const char *event, const char *data,
                   size_t len, char *err, size_t errlen)
{
	const json_t *v;
	int rc;

	memset(c, 0, sizeof *c);
	if (err && errlen)
		err[0] = '\0';
	if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		c->done = 1;
		return WD_OK;
	}
	rc = load_json(&c->json, data, len, err, errlen);
	if (rc)
		goto out;
	if (!json_is_object(c->json))
		goto out; /* JSON without text: nothing to check */
	c->id = str_or_null(json_object_get(c->json, "id"));
	c->model = str_or_null(json_object_get(c->json, "model"));
	v = json_object_get(c->json, "created");
	if (json_is_integer(v))
		c->created = json_integer_value(v);
	const char *type = str_or_null(json_object_get(c->json, "type"));
	if (!type && event && strncmp(event, "response.", 9) == 0)
		type = event;
	v = json_object_get(c->json, "choices");
	if (json_is_array(v))
		rc = chat_chunk(c, v);
	else if (type && strncmp(type, "response.", 9) == 0)
		rc = responses_event(c, type);
	(void)route; /* the shape tells the kind: servers differ in what they send where */
out:
	if (rc)
		wd_chunk_free(c);
	return rc;
}

void wd_chunk_free(struct wd_chunk *c)
{
	json_decref(c->json);
	free(c->deltas);
	memset(c, 0, sizeof *c);
}

/* ---- bodies warden writes ---- */

int wd_exchange_withhold(json_t *resp, enum wd_route route, int choice)
{
	json_t *choices;
	int found = 0;

	if (!json_is_object(resp))
		return WD_EINVAL;
	if (route == WD_ROUTE_RESPONSES) {
		json_t *details = json_pack("{s:s}", "reason", "content_filter");
		if (!details || json_object_set_new(resp, "output", json_array()) ||
		    json_object_set_new(resp, "status", json_string("incomplete")) ||
		    json_object_set_new(resp, "incomplete_details", details))
			return WD_ENOMEM;
		/* A convenience copy of the text some servers add. */
		json_object_del(resp, "output_text");
		return WD_OK;
	}
	choices = json_object_get(resp, "choices");
	if (!json_is_array(choices))
		return WD_EINVAL;
	for (size_t i = 0; i < json_array_size(choices); i++) {
		json_t *ch = json_array_get(choices, i), *msg;
		if (!json_is_object(ch) || (choice >= 0 && choice_index(ch, i) != choice))
			continue;
		found = 1;
		msg = json_object_get(ch, "message");
		if (json_is_object(msg)) {
			if (json_object_set_new(msg, "content", json_string("")))
				return WD_ENOMEM;
			json_object_del(msg, "tool_calls");
			json_object_del(msg, "function_call");
			json_object_del(msg, "audio");
		} else if (json_object_set_new(ch, "text", json_string(""))) {
			return WD_ENOMEM;
		}
		/* Log probabilities spell out the withheld tokens. */
		if (json_object_get(ch, "logprobs") &&
		    json_object_set_new(ch, "logprobs", json_null()))
			return WD_ENOMEM;
		if (json_object_set_new(ch, "finish_reason", json_string("content_filter")))
			return WD_ENOMEM;
	}
	return found ? WD_OK : WD_ENOTFOUND;
}

/* prefix + 24 random hex digits, as OpenAI ids look. */
static void gen_id(char *out, size_t cap, const char *prefix)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[12];
	char digits[2 * sizeof rnd + 1];

	if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
		/* No entropy yet: ids need only be unique enough to tell answers apart. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long long v = (unsigned long long)ts.tv_nsec ^
		                       ((unsigned long long)ts.tv_sec << 20) ^ (uintptr_t)out;
		for (size_t i = 0; i < sizeof rnd; i++) {
			v = v * 6364136223846793005ULL + 1442695040888963407ULL;
			rnd[i] = (unsigned char)(v >> 56);
		}
	}
	for (size_t i = 0; i < sizeof rnd; i++) {
		digits[2 * i] = hex[rnd[i] >> 4];
		digits[2 * i + 1] = hex[rnd[i] & 15];
	}
	digits[sizeof digits - 1] = '\0';
	snprintf(out, cap, "%s%s", prefix, digits);
}

/* "[event: <event>\n]data: <json>\n\n" appended to *acc (a malloc'd string or NULL); takes
 * the reference to j. */
static int append_block(char **acc, const char *event, json_t *j)
{
	char *data = j ? json_dumps(j, JSON_COMPACT) : NULL;
	size_t old = *acc ? strlen(*acc) : 0;
	size_t need;
	char *p;
	int rc = WD_ENOMEM;

	json_decref(j);
	if (!data)
		goto out;
	need = old + strlen(data) + (event ? strlen(event) + 8 : 0) + 9;
	p = realloc(*acc, need);
	if (!p)
		goto out;
	*acc = p;
	if (event)
		snprintf(p + old, need - old, "event: %s\ndata: %s\n\n", event, data);
	else
		snprintf(p + old, need - old, "data: %s\n\n", data);
	rc = WD_OK;
out:
	free(data);
	return rc;
}

static char *finish_blocks(char *acc, int rc)
{
	if (rc) {
		free(acc);
		return NULL;
	}
	return acc;
}

/* A chat.completion.chunk or text_completion chunk with one choice. */
static json_t *stream_chunk(enum wd_route route, const char *id, const char *model,
                            long long created, int choice, json_t *delta, const char *text,
                            const char *finish)
{
	json_t *ch, *j;
	if (route == WD_ROUTE_COMPLETIONS) {
		json_decref(delta);
		ch = json_pack("{s:s, s:i, s:n, s:s?}", "text", text ? text : "", "index", choice,
		               "logprobs", "finish_reason", finish);
	} else {
		ch = json_pack("{s:i, s:o, s:n, s:s?}", "index", choice, "delta",
		               delta ? delta : json_object(), "logprobs", "finish_reason", finish);
	}
	if (!ch)
		return NULL;
	if (finish == NULL && json_object_set_new(ch, "finish_reason", json_null())) {
		json_decref(ch);
		return NULL;
	}
	j = json_pack("{s:s, s:s, s:I, s:s, s:[o]}", "id", id, "object",
	              route == WD_ROUTE_COMPLETIONS ? "text_completion" : "chat.completion.chunk",
	              "created", (json_int_t)created, "model", model, "choices", ch);
	return j;
}

/* A Responses API "response" object holding at most one assistant message. */
static json_t *response_object(const char *id, const char *model, long long created,
                               const char *status, const char *msg_id, const char *text)
{
	json_t *output = json_array();
	json_t *r = json_pack("{s:s, s:s, s:I, s:s, s:n, s:n, s:s, s:o}", "id", id, "object",
	                      "response", "created_at", (json_int_t)created, "status", status,
	                      "error", "incomplete_details", "model", model, "output", output);
	if (r && text) {
		json_t *item =
		    json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:[]}]}", "type", "message", "id",
		              msg_id, "status", "completed", "role", "assistant", "content", "type",
		              "output_text", "text", text, "annotations");
		if (!item || json_array_append_new(output, item)) {
			json_decref(r);
			return NULL;
		}
	}
	return r;
}

char *wd_stream_stop_block(enum wd_route route, const char *id, const char *model,
                           long long created, int choice)
{
	char gid[64];
	char *acc = NULL;
	int rc;

	if (choice < 0)
		choice = 0;
	if (!created)
		created = (long long)time(NULL);
	if (!model)
		model = "";
	if (route == WD_ROUTE_RESPONSES) {
		if (!id) {
			gen_id(gid, sizeof gid, "resp_");
			id = gid;
		}
		json_t *r = response_object(id, model, created, "incomplete", NULL, NULL);
		json_t *details = json_pack("{s:s}", "reason", "content_filter");
		if (!r || !details || json_object_set_new(r, "incomplete_details", details)) {
			json_decref(r);
			return NULL;
		}
		rc = append_block(
		    &acc, "response.incomplete",
		    json_pack("{s:s, s:o}", "type", "response.incomplete", "response", r));
		return finish_blocks(acc, rc);
	}
	if (route != WD_ROUTE_CHAT && route != WD_ROUTE_COMPLETIONS)
		return NULL;
	if (!id) {
		gen_id(gid, sizeof gid, route == WD_ROUTE_CHAT ? "chatcmpl-" : "cmpl-");
		id = gid;
	}
	rc = append_block(
	    &acc, NULL,
	    stream_chunk(route, id, model, created, choice, NULL, NULL, "content_filter"));
	return finish_blocks(acc, rc);
}

static char *refusal_responses(const char *model, const char *text, int stream)
{
	char id[64], msg_id[64];
	long long now = (long long)time(NULL);
	char *acc = NULL;
	int rc;

	gen_id(id, sizeof id, "resp_");
	gen_id(msg_id, sizeof msg_id, "msg_");
	if (!stream) {
		json_t *r = response_object(id, model, now, "completed", msg_id, text);
		acc = r ? json_dumps(r, JSON_COMPACT) : NULL;
		json_decref(r);
		return acc;
	}
	/* The event sequence the SDKs' stream helpers rebuild a response from. */
	json_t *part =
	    json_pack("{s:s, s:s, s:[]}", "type", "output_text", "text", "", "annotations");
	json_t *item = json_pack("{s:s, s:s, s:s, s:s, s:[]}", "type", "message", "id", msg_id,
	                         "status", "in_progress", "role", "assistant", "content");
	json_t *done = response_object(id, model, now, "completed", msg_id, text);
	json_t *done_item =
	    done ? json_incref(json_array_get(json_object_get(done, "output"), 0)) : NULL;
	json_t *done_part =
	    done_item ? json_incref(json_array_get(json_object_get(done_item, "content"), 0))
	              : NULL;
	int seq = 0;
	rc = part && item && done && done_item && done_part ? WD_OK : WD_ENOMEM;
	if (rc == WD_OK)
		rc = append_block(
		    &acc, "response.created",
		    json_pack("{s:s, s:i, s:o}", "type", "response.created", "sequence_number",
		              seq++, "response",
		              response_object(id, model, now, "in_progress", NULL, NULL)));
	if (rc == WD_OK)
		rc = append_block(&acc, "response.output_item.added",
		                  json_pack("{s:s, s:i, s:i, s:O}", "type",
		                            "response.output_item.added", "sequence_number", seq++,
		                            "output_index", 0, "item", item));
	if (rc == WD_OK)
		rc = append_block(&acc, "response.content_part.added",
		                  json_pack("{s:s, s:i, s:s, s:i, s:i, s:O}", "type",
		                            "response.content_part.added", "sequence_number", seq++,
		                            "item_id", msg_id, "output_index", 0, "content_index",
		                            0, "part", part));
	if (rc == WD_OK)
		rc = append_block(&acc, "response.output_text.delta",
		                  json_pack("{s:s, s:i, s:s, s:i, s:i, s:s}", "type",
		                            "response.output_text.delta", "sequence_number", seq++,
		                            "item_id", msg_id, "output_index", 0, "content_index",
		                            0, "delta", text));
	if (rc == WD_OK)
		rc = append_block(&acc, "response.output_text.done",
		                  json_pack("{s:s, s:i, s:s, s:i, s:i, s:s}", "type",
		                            "response.output_text.done", "sequence_number", seq++,
		                            "item_id", msg_id, "output_index", 0, "content_index",
		                            0, "text", text));
	if (rc == WD_OK)
		rc = append_block(&acc, "response.content_part.done",
		                  json_pack("{s:s, s:i, s:s, s:i, s:i, s:O}", "type",
		                            "response.content_part.done", "sequence_number", seq++,
		                            "item_id", msg_id, "output_index", 0, "content_index",
		                            0, "part", done_part));
	if (rc == WD_OK)
		rc = append_block(&acc, "response.output_item.done",
		                  json_pack("{s:s, s:i, s:i, s:O}", "type",
		                            "response.output_item.done", "sequence_number", seq++,
		                            "output_index", 0, "item", done_item));
	if (rc == WD_OK)
		rc = append_block(&acc, "response.completed",
		                  json_pack("{s:s, s:i, s:O}", "type", "response.completed",
		                            "sequence_number", seq++, "response", done));
	json_decref(part);
	json_decref(item);
	json_decref(done);
	json_decref(done_item);
	json_decref(done_part);
	return finish_blocks(acc, rc);
}

char *wd_refusal_body(enum wd_route route, const char *model, const char *text, int stream)
{
	char id[64];
	long long now = (long long)time(NULL);
	char *acc = NULL;
	int rc;

	if (!model)
		model = "";
	if (!text)
		text = "";
	if (route == WD_ROUTE_RESPONSES)
		return refusal_responses(model, text, stream);
	if (route != WD_ROUTE_CHAT && route != WD_ROUTE_COMPLETIONS)
		return NULL;
	int chat = route == WD_ROUTE_CHAT;
	gen_id(id, sizeof id, chat ? "chatcmpl-" : "cmpl-");
	if (!stream) {
		json_t *ch =
		    chat ? json_pack("{s:i, s:{s:s, s:s, s:n}, s:n, s:s}", "index", 0, "message",
		                     "role", "assistant", "content", text, "refusal", "logprobs",
		                     "finish_reason", "content_filter")
		         : json_pack("{s:s, s:i, s:n, s:s}", "text", text, "index", 0, "logprobs",
		                     "finish_reason", "content_filter");
		json_t *j =
		    json_pack("{s:s, s:s, s:I, s:s, s:[o], s:{s:i, s:i, s:i}}", "id", id, "object",
		              chat ? "chat.completion" : "text_completion", "created",
		              (json_int_t)now, "model", model, "choices", ch, "usage",
		              "prompt_tokens", 0, "completion_tokens", 0, "total_tokens", 0);
		acc = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		return acc;
	}
	rc = WD_OK;
	if (chat)
		rc = append_block(
		    &acc, NULL,
		    stream_chunk(route, id, model, now, 0,
		                 json_pack("{s:s, s:s}", "role", "assistant", "content", ""), NULL,
		                 NULL));
	if (rc == WD_OK)
		rc = append_block(&acc, NULL,
		                  stream_chunk(route, id, model, now, 0,
		                               chat ? json_pack("{s:s}", "content", text) : NULL,
		                               text, NULL));
	if (rc == WD_OK)
		rc = append_block(
		    &acc, NULL,
		    stream_chunk(route, id, model, now, 0, NULL, NULL, "content_filter"));
	if (rc == WD_OK) {
		size_t old = strlen(acc);
		char *p = realloc(acc, old + sizeof "data: [DONE]\n\n");
		if (!p)
			rc = WD_ENOMEM;
		else
			acc = p;
		if (p)
			memcpy(p + old, "data: [DONE]\n\n", sizeof "data: [DONE]\n\n");
	}
	return finish_blocks(acc, rc);
}

int wd_text_mask(json_t *node, size_t from, size_t to)
{
	if (!json_is_string(node))
		return WD_EINVAL;
	size_t len = json_string_length(node);
	if (to > len)
		to = len;
	if (from >= to)
		return WD_OK;
	char *copy = malloc(len + 1);
	if (!copy)
		return WD_ENOMEM;
	memcpy(copy, json_string_value(node), len);
	/* widen to whole UTF-8 characters so the result stays valid UTF-8 */
	while (from > 0 && ((unsigned char)copy[from] & 0xC0) == 0x80)
		from--;
	while (to < len && ((unsigned char)copy[to] & 0xC0) == 0x80)
		to++;
	memset(copy + from, '*', to - from);
	int rc = json_string_setn_nocheck(node, copy, len) ? WD_ENOMEM : WD_OK;
	free(copy);
	return rc;
}

int wd_exchange_redact(struct wd_exchange *x, int response, const struct wd_span *spans, size_t n)
{
	struct wd_message *msgs = response ? x->out : x->msgs;
	size_t nmsgs = response ? x->nout : x->nmsgs;
	for (size_t i = 0; i < n; i++) {
		const struct wd_span *s = &spans[i];
		if (s->message < 0 || (size_t)s->message >= nmsgs)
			continue;
		struct wd_message *m = &msgs[s->message];
		if (s->part >= 0 && (size_t)s->part < m->nparts && m->parts[s->part].node) {
			struct wd_part *p = &m->parts[s->part];
			int rc = wd_text_mask(p->node, s->from, s->to);
			if (rc)
				return rc;
			p->text = json_string_value(p->node);
		} else if (s->part < 0 && (size_t)(-1 - s->part) < m->ncalls &&
		           m->calls[-1 - s->part].node) {
			struct wd_tool_call *c = &m->calls[-1 - s->part];
			int rc = wd_text_mask(c->node, s->from, s->to);
			if (rc)
				return rc;
			c->arguments = json_string_value(c->node);
		}
	}
	return WD_OK;
}
