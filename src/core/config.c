/* config.c — reads warden's YAML (or JSON) configuration into a jansson tree with a side table
 * of source lines, and validates it against a table of known settings (config.h is the
 * contract). The parser is libyaml's event API, so we decide the scalar typing ourselves (a
 * small, predictable subset of YAML 1.2's core schema) and refuse the YAML features a config
 * never needs (anchors, aliases, custom tags, several documents), which keeps the tree a plain
 * JSON value the checkers can read. Settings are data: one row per key in `settings[]` below,
 * so adding a key is adding a row (and a field in struct wd_settings). */
#include "core/config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "core/buf.h"
#include "core/err.h"

#define CONF_MAX_FILE  (16u << 20) /* a config bigger than this is a mistake */
#define CONF_MAX_DEPTH 64          /* nesting bound: keeps hostile input from exhausting memory */

/* jansson shares one true, one false and one null value between all trees, so those nodes
 * cannot be told apart by pointer: they get no entry in the node table (their member or
 * element line is still known through the key table or the parent). */
struct conf_line {
	const json_t *node;
	int line;
};

struct conf_keyline {
	const json_t *obj;
	char *key;
	int line;
};

struct wd_conf {
	char *name;
	json_t *root;
	struct conf_line *lines; /* sorted by node after parsing */
	size_t nlines, caplines;
	struct conf_keyline *keys; /* sorted by obj after parsing */
	size_t nkeys, capkeys;
};

/* ---- the tree and its line tables ---- */

static struct wd_conf *conf_new(const char *name)
{
	struct wd_conf *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->name = strdup(name ? name : "config");
	if (!c->name) {
		free(c);
		return NULL;
	}
	return c;
}

void wd_conf_free(struct wd_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nkeys; i++)
		free(c->keys[i].key);
	free(c->keys);
	free(c->lines);
	json_decref(c->root);
	free(c->name);
	free(c);
}

struct wd_conf *wd_conf_empty(const char *name)
{
	struct wd_conf *c = conf_new(name);
	if (!c)
		return NULL;
	c->root = json_object();
	if (!c->root) {
		wd_conf_free(c);
		return NULL;
	}
	return c;
}

const json_t *wd_conf_root(const struct wd_conf *c)
{
	return c ? c->root : NULL;
}

static int is_singleton(const json_t *v)
{
	return json_is_boolean(v) || json_is_null(v);
}

static int add_line(struct wd_conf *c, const json_t *node, int line)
{
	if (is_singleton(node))
		return WD_OK;
	if (c->nlines == c->caplines) {
		size_t cap = c->caplines ? c->caplines * 2 : 64;
		struct conf_line *p = realloc(c->lines, cap * sizeof(*p));
		if (!p)
			return WD_ENOMEM;
		c->lines = p;
		c->caplines = cap;
	}
	c->lines[c->nlines].node = node;
	c->lines[c->nlines].line = line;
	c->nlines++;
	return WD_OK;
}

static int add_keyline(struct wd_conf *c, const json_t *obj, const char *key, int line)
{
	if (c->nkeys == c->capkeys) {
		size_t cap = c->capkeys ? c->capkeys * 2 : 64;
		struct conf_keyline *p = realloc(c->keys, cap * sizeof(*p));
		if (!p)
			return WD_ENOMEM;
		c->keys = p;
		c->capkeys = cap;
	}
	char *k = strdup(key);
	if (!k)
		return WD_ENOMEM;
	c->keys[c->nkeys].obj = obj;
	c->keys[c->nkeys].key = k;
	c->keys[c->nkeys].line = line;
	c->nkeys++;
	return WD_OK;
}

/* Pointers are compared as integers: relational operators on unrelated pointers are undefined. */
static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
	return x < y ? -1 : x > y;
}

static int cmp_line(const void *a, const void *b)
{
	return cmp_ptr(((const struct conf_line *)a)->node, ((const struct conf_line *)b)->node);
}

static int cmp_keyline(const void *a, const void *b)
{
	const struct conf_keyline *x = a, *y = b;
	int r = cmp_ptr(x->obj, y->obj);
	return r ? r : strcmp(x->key, y->key);
}

static int node_line(const struct wd_conf *c, const json_t *node)
{
	if (!c || !node || is_singleton(node) || !c->nlines)
		return 0;
	struct conf_line k = {node, 0};
	const struct conf_line *hit = bsearch(&k, c->lines, c->nlines, sizeof(k), cmp_line);
	return hit ? hit->line : 0;
}

static int key_line(const struct wd_conf *c, const json_t *obj, const char *key)
{
	if (!c || !obj || !key || !c->nkeys)
		return 0;
	struct conf_keyline k = {obj, (char *)key, 0};
	const struct conf_keyline *hit = bsearch(&k, c->keys, c->nkeys, sizeof(k), cmp_keyline);
	return hit ? hit->line : 0;
}

static const char *where(const struct wd_conf *c, int line, char *buf, size_t len)
{
	if (!buf || !len)
		return "";
	if (line > 0)
		snprintf(buf, len, "%s:%d", c ? c->name : "config", line);
	else
		snprintf(buf, len, "%s", c ? c->name : "config");
	return buf;
}

const char *wd_conf_where(const struct wd_conf *c, const json_t *node, char *buf, size_t len)
{
	return where(c, node_line(c, node), buf, len);
}

const char *wd_conf_where_key(const struct wd_conf *c, const json_t *obj, const char *key,
                              char *buf, size_t len)
{
	return where(c, key_line(c, obj, key), buf, len);
}

/* ---- YAML events → tree ---- */

struct frame {
	json_t *node; /* borrowed: owned by its parent (or by the parser's root) */
	char *key;    /* a mapping's key waiting for its value */
	int key_line;
};

struct yparse {
	struct wd_conf *c;
	json_t *root;
	struct frame stack[CONF_MAX_DEPTH];
	int depth;
	int docs;
	char *err;
	size_t errlen;
};

static int fail(struct yparse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct yparse *p, int line, const char *fmt, ...)
{
	if (p->err && p->errlen) {
		int n = line > 0 ? snprintf(p->err, p->errlen, "%s:%d: ", p->c->name, line)
		                 : snprintf(p->err, p->errlen, "%s: ", p->c->name);
		if (n >= 0 && (size_t)n < p->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return WD_EINVAL;
}

static int mark_line(yaml_mark_t m)
{
	return (int)(m.line > INT_MAX - 1 ? INT_MAX : m.line + 1);
}

static int eq(const char *s, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static int all_digits(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* [-+]? digits: an integer. */
static int looks_integer(const char *s, size_t n)
{
	if (n && (s[0] == '-' || s[0] == '+'))
		return all_digits(s + 1, n - 1);
	return all_digits(s, n);
}

/* [-+]? ( digits [. digits*] | . digits ) ( [eE] [-+]? digits )?, not an integer. */
static int looks_real(const char *s, size_t n)
{
	size_t i = 0, d = 0, f = 0;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, d++;
	int dot = 0;
	if (i < n && s[i] == '.') {
		dot = 1;
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, f++;
	}
	if (d + f == 0)
		return 0;
	int exp = 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		exp = 1;
	}
	return i == n && (dot || exp);
}

/* Types a plain scalar (see config.h); quoted and block scalars are always strings. */
static int make_scalar(struct yparse *p, const yaml_event_t *ev, int line, json_t **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;

	if (tag) {
		/* "!" is YAML's non-specific tag: it too means "a string". */
		if (strcmp(tag, YAML_STR_TAG) != 0 && strcmp(tag, "!") != 0)
			return fail(p, line, "tag %s is not supported (only !!str)", tag);
		plain = 0;
	}
	if (plain) {
		if (eq(s, n, "true") || eq(s, n, "false")) {
			*out = json_boolean(s[0] == 't');
			return WD_OK;
		}
		if (n == 0 || eq(s, n, "null") || eq(s, n, "~")) {
			*out = json_null();
			return WD_OK;
		}
		if (looks_integer(s, n)) {
			/* The text is short and NUL-terminated by libyaml. */
			errno = 0;
			long long v = strtoll(s, NULL, 10);
			/* The value is not echoed: it might be a secret written without quotes. */
			if (errno == ERANGE)
				return fail(p, line,
				            "integer out of range (quote it for a string)");
			*out = json_integer((json_int_t)v);
			return *out ? WD_OK : WD_ENOMEM;
		}
		if (looks_real(s, n)) {
			errno = 0;
			double v = strtod(s, NULL);
			*out = errno == ERANGE ? NULL : json_real(v);
			if (!*out)
				return fail(p, line, "number out of range (quote it for a string)");
			return WD_OK;
		}
	}
	*out = json_stringn(s, n);
	if (!*out)
		return fail(p, line, "string is not valid UTF-8");
	return WD_OK;
}

static const char *kind_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "a mapping";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

/* Attaches a new node (takes ownership) to the open container or makes it the root. */
static int attach(struct yparse *p, json_t *v, int line)
{
	int rc = add_line(p->c, v, line);
	if (rc) {
		json_decref(v);
		return rc;
	}
	if (p->depth == 0) {
		p->root = v;
		return WD_OK;
	}
	struct frame *f = &p->stack[p->depth - 1];
	if (json_is_array(f->node))
		return json_array_append_new(f->node, v) ? WD_ENOMEM : WD_OK;
	rc = json_object_set_new(f->node, f->key, v) ? WD_ENOMEM : WD_OK;
	if (!rc)
		rc = add_keyline(p->c, f->node, f->key, f->key_line);
	free(f->key);
	f->key = NULL;
	return rc;
}

/* True when the open container is a mapping that waits for a key. */
static int wants_key(const struct yparse *p)
{
	if (p->depth == 0)
		return 0;
	const struct frame *f = &p->stack[p->depth - 1];
	return json_is_object(f->node) && !f->key;
}

static int on_scalar(struct yparse *p, const yaml_event_t *ev)
{
	int line = mark_line(ev->start_mark);
	if (wants_key(p)) {
		struct frame *f = &p->stack[p->depth - 1];
		const char *k = (const char *)ev->data.scalar.value;
		size_t n = ev->data.scalar.length;
		if (memchr(k, '\0', n))
			return fail(p, line, "a mapping key contains a NUL character");
		if (ev->data.scalar.tag &&
		    strcmp((const char *)ev->data.scalar.tag, YAML_STR_TAG) &&
		    strcmp((const char *)ev->data.scalar.tag, "!"))
			return fail(p, line, "tag %s is not supported (only !!str)",
			            (const char *)ev->data.scalar.tag);
		if (json_object_get(f->node, k)) {
			int first = 0; /* keys are sorted only after parsing: scan */
			for (size_t i = 0; i < p->c->nkeys; i++)
				if (p->c->keys[i].obj == f->node &&
				    strcmp(p->c->keys[i].key, k) == 0)
					first = p->c->keys[i].line;
			if (first > 0)
				return fail(p, line, "duplicate key \"%s\" (first at line %d)", k,
				            first);
			return fail(p, line, "duplicate key \"%s\"", k);
		}
		f->key = strdup(k);
		f->key_line = line;
		return f->key ? WD_OK : WD_ENOMEM;
	}
	json_t *v = NULL;
	int rc = make_scalar(p, ev, line, &v);
	if (rc)
		return rc;
	return attach(p, v, line);
}

static int on_start(struct yparse *p, const yaml_event_t *ev, int is_map)
{
	int line = mark_line(ev->start_mark);
	const char *tag =
	    (const char *)(is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
	if (wants_key(p))
		return fail(p, line, "mapping keys must be strings (got %s)",
		            is_map ? "a mapping" : "a list");
	if (tag && strcmp(tag, is_map ? YAML_MAP_TAG : YAML_SEQ_TAG) != 0)
		return fail(p, line, "tag %s is not supported", tag);
	if (p->depth >= CONF_MAX_DEPTH)
		return fail(p, line, "nested more than %d levels deep", CONF_MAX_DEPTH);
	json_t *v = is_map ? json_object() : json_array();
	if (!v)
		return WD_ENOMEM;
	int rc = attach(p, v, line);
	if (rc)
		return rc;
	p->stack[p->depth].node = v;
	p->stack[p->depth].key = NULL;
	p->stack[p->depth].key_line = 0;
	p->depth++;
	return WD_OK;
}

/* Counts lines up to a byte offset: libyaml's reader errors carry an offset, not a mark. */
static int offset_line(const char *text, size_t len, size_t off)
{
	int line = 1;
	for (size_t i = 0; i < off && i < len; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

static int syntax_error(struct yparse *p, const yaml_parser_t *y, const char *text, size_t len)
{
	if (y->error == YAML_MEMORY_ERROR)
		return WD_ENOMEM;
	int line = y->error == YAML_READER_ERROR ? offset_line(text, len, y->problem_offset)
	                                         : mark_line(y->problem_mark);
	const char *problem = y->problem ? y->problem : "syntax error";
	if (y->context)
		return fail(p, line, "%s (%s)", problem, y->context);
	return fail(p, line, "%s", problem);
}

static int on_event(struct yparse *p, const yaml_event_t *ev)
{
	int line = mark_line(ev->start_mark);
	const char *anchor = NULL;
	switch (ev->type) {
	case YAML_SCALAR_EVENT: anchor = (const char *)ev->data.scalar.anchor; break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = (const char *)ev->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT: anchor = (const char *)ev->data.mapping_start.anchor; break;
	default: break;
	}
	if (anchor)
		return fail(p, line, "anchor &%s: anchors and aliases are not supported", anchor);

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (p->docs++ > 0)
			return fail(p, line, "more than one YAML document (a config is one)");
		return WD_OK;
	case YAML_ALIAS_EVENT:
		return fail(p, line, "alias *%s: anchors and aliases are not supported",
		            (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT: return on_scalar(p, ev);
	case YAML_SEQUENCE_START_EVENT: return on_start(p, ev, 0);
	case YAML_MAPPING_START_EVENT: return on_start(p, ev, 1);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (p->depth > 0) {
			p->depth--;
			free(p->stack[p->depth].key);
			p->stack[p->depth].key = NULL;
		}
		return WD_OK;
	default: return WD_OK;
	}
}

int wd_conf_parse(const char *text, size_t len, const char *name, struct wd_conf **out, char *err,
                  size_t errlen)
{
	struct yparse p = {.err = err, .errlen = errlen};
	yaml_parser_t y;
	int have_parser = 0, rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	p.c = conf_new(name);
	if (!p.c)
		return WD_ENOMEM;
	if (!yaml_parser_initialize(&y)) {
		rc = WD_ENOMEM;
		goto out;
	}
	have_parser = 1;
	yaml_parser_set_input_string(&y, (const unsigned char *)(text ? text : ""), text ? len : 0);
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&y, &ev)) {
			rc = syntax_error(&p, &y, text, len);
			goto out;
		}
		int done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(&p, &ev);
		yaml_event_delete(&ev);
		if (rc)
			goto out;
		if (done)
			break;
	}
	/* An empty file (or an empty document) is an empty mapping: all defaults. */
	if (!p.root || json_is_null(p.root)) {
		json_decref(p.root);
		p.root = json_object();
		if (!p.root) {
			rc = WD_ENOMEM;
			goto out;
		}
	}
	p.c->root = p.root;
	p.root = NULL;
	if (p.c->nlines)
		qsort(p.c->lines, p.c->nlines, sizeof(*p.c->lines), cmp_line);
	if (p.c->nkeys)
		qsort(p.c->keys, p.c->nkeys, sizeof(*p.c->keys), cmp_keyline);
	*out = p.c;
	p.c = NULL;
	rc = WD_OK;
out:
	if (rc == WD_ENOMEM && err && errlen)
		snprintf(err, errlen, "%s: out of memory", name ? name : "config");
	for (int i = 0; i < p.depth; i++)
		free(p.stack[i].key);
	json_decref(p.root);
	wd_conf_free(p.c);
	if (have_parser)
		yaml_parser_delete(&y);
	return rc;
}

int wd_conf_load(const char *path, struct wd_conf **out, char *err, size_t errlen)
{
	struct wd_buf b;
	char chunk[8192];
	int rc = WD_OK;

	*out = NULL;
	wd_buf_init(&b, CONF_MAX_FILE);
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return WD_EIO;
	}
	for (;;) {
		size_t n = fread(chunk, 1, sizeof(chunk), f);
		if (n) {
			rc = wd_buf_append(&b, chunk, n);
			if (rc == WD_ETOOBIG) {
				snprintf(err, errlen, "%s: larger than %u MiB", path,
				         CONF_MAX_FILE >> 20);
				rc = WD_EINVAL;
				goto out;
			}
			if (rc)
				goto out;
		}
		if (n < sizeof(chunk))
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		rc = WD_EIO;
		goto out;
	}
	rc = wd_conf_parse(b.data ? b.data : "", b.len, path, out, err, errlen);
out:
	fclose(f);
	wd_buf_free(&b);
	return rc;
}

/* ---- settings: the schema ---- */

struct setting;

/* A value parser: stores v into the field of s and returns 0, or returns WD_EINVAL after writing
 * "must be ..." (without the location and key, which the caller adds) into why. */
typedef int (*setting_parse_fn)(const struct setting *k, const json_t *v, struct wd_settings *s,
                                char *why, size_t whylen);

struct setting {
	const char *path; /* dotted: "upstream.timeout_ms" */
	setting_parse_fn parse;
	size_t off;               /* the field in struct wd_settings */
	const char *def_s;        /* default of a string field (NULL: none) */
	long long def_i;          /* default of a number or enum field */
	long long min, max;       /* integer range */
	const char *const *names; /* enum names; the value is the index */
	int secret;               /* never echo the value in messages */
};

#define FIELD(s, k, type) ((type *)((char *)(s) + (k)->off))

/* Describes a bad value for "(got ...)": strings quoted and cut short; secrets by kind only. */
static void describe(const json_t *v, int secret, char *buf, size_t len)
{
	if (secret && json_is_string(v) && json_string_length(v) == 0) {
		snprintf(buf, len, "\"\"");
		return;
	}
	if (secret || json_is_object(v) || json_is_array(v)) {
		snprintf(buf, len, "%s", kind_name(v));
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING: {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v), o = 0;
		if (len < 8) {
			snprintf(buf, len, "%s", "");
			return;
		}
		buf[o++] = '"';
		for (size_t i = 0; i < n && o + 6 < len; i++) {
			unsigned char ch = (unsigned char)s[i];
			if (i >= 40) {
				memcpy(buf + o, "...", 3);
				o += 3;
				break;
			}
			if (ch == '"' || ch == '\\') {
				buf[o++] = '\\';
				buf[o++] = (char)ch;
			} else if (ch < 0x20 || ch == 0x7f) {
				buf[o++] = '?';
			} else {
				buf[o++] = (char)ch;
			}
		}
		buf[o++] = '"';
		buf[o] = '\0';
		return;
	}
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	case JSON_REAL: snprintf(buf, len, "%g", json_real_value(v)); return;
	case JSON_TRUE: snprintf(buf, len, "true"); return;
	case JSON_FALSE: snprintf(buf, len, "false"); return;
	default: snprintf(buf, len, "null"); return;
	}
}

static int bad(const struct setting *k, const json_t *v, char *why, size_t whylen, const char *must)
{
	char got[96];
	describe(v, k->secret, got, sizeof(got));
	snprintf(why, whylen, "must be %s (got %s)", must, got);
	return WD_EINVAL;
}

static int set_str(char **field, const char *val)
{
	char *dup = val ? strdup(val) : NULL;
	if (val && !dup)
		return WD_ENOMEM;
	free(*field);
	*field = dup;
	return WD_OK;
}

/* A non-empty string without NUL bytes. */
static const char *text_of(const json_t *v)
{
	if (!json_is_string(v) || json_string_length(v) == 0)
		return NULL;
	const char *s = json_string_value(v);
	return strlen(s) == json_string_length(v) ? s : NULL;
}

static int parse_string(const struct setting *k, const json_t *v, struct wd_settings *s, char *why,
                        size_t whylen)
{
	const char *t = text_of(v);
	if (!t)
		return bad(k, v, why, whylen, "a non-empty string");
	return set_str(FIELD(s, k, char *), t);
}

static int parse_hostport(const struct setting *k, const json_t *v, struct wd_settings *s,
                          char *why, size_t whylen)
{
	char host[256];
	unsigned short port;
	const char *t = text_of(v);
	if (!t || wd_parse_hostport(t, host, sizeof(host), &port))
		return bad(k, v, why, whylen,
		           "HOST:PORT with a port from 1 to 65535, e.g. \"127.0.0.1:8080\"");
	return set_str(FIELD(s, k, char *), t);
}

/* http:// or https://, a non-empty authority, no spaces, query or fragment; the trailing
 * slashes are dropped so that paths can be appended. */
static int parse_url(const struct setting *k, const json_t *v, struct wd_settings *s, char *why,
                     size_t whylen)
{
	const char *must = "an http:// or https:// URL";
	const char *t = text_of(v);
	if (!t)
		return bad(k, v, why, whylen, must);
	size_t skip = strncasecmp(t, "http://", 7) == 0    ? 7
	              : strncasecmp(t, "https://", 8) == 0 ? 8
	                                                   : 0;
	if (!skip || t[skip] == '\0' || t[skip] == '/' || t[skip] == ':')
		return bad(k, v, why, whylen, must);
	for (const char *q = t; *q; q++)
		if ((unsigned char)*q <= 0x20 || *q == 0x7f || *q == '?' || *q == '#')
			return bad(k, v, why, whylen, must);
	size_t n = strlen(t);
	while (n > skip && t[n - 1] == '/')
		n--;
	char *dup = strndup(t, n);
	if (!dup)
		return WD_ENOMEM;
	char **field = FIELD(s, k, char *);
	free(*field);
	*field = dup;
	return WD_OK;
}

static int int_in_range(const struct setting *k, const json_t *v, char *why, size_t whylen,
                        long long *out)
{
	char must[80];
	if (k->min == 1 && k->max == LONG_MAX)
		snprintf(must, sizeof(must), "a positive integer");
	else
		snprintf(must, sizeof(must), "an integer from %lld to %lld", k->min, k->max);
	if (!json_is_integer(v))
		return bad(k, v, why, whylen, must);
	long long x = json_integer_value(v);
	if (x < k->min || x > k->max)
		return bad(k, v, why, whylen, must);
	*out = x;
	return WD_OK;
}

static int parse_int(const struct setting *k, const json_t *v, struct wd_settings *s, char *why,
                     size_t whylen)
{
	long long x;
	int rc = int_in_range(k, v, why, whylen, &x);
	if (!rc)
		*FIELD(s, k, int) = (int)x;
	return rc;
}

static int parse_long(const struct setting *k, const json_t *v, struct wd_settings *s, char *why,
                      size_t whylen)
{
	long long x;
	int rc = int_in_range(k, v, why, whylen, &x);
	if (!rc)
		*FIELD(s, k, long) = (long)x;
	return rc;
}

static const struct {
	const char *unit;
	unsigned long long mult;
} size_units[] = {
    {"B", 1},
    {"KB", 1000ULL},
    {"MB", 1000ULL * 1000},
    {"GB", 1000ULL * 1000 * 1000},
    {"KiB", 1ULL << 10},
    {"MiB", 1ULL << 20},
    {"GiB", 1ULL << 30},
};

/* "1048576", "512KiB", "32 MiB", "10MB" → bytes; 0 when not a positive size that fits. */
static unsigned long long parse_size_text(const char *t)
{
	const char *p = t;
	unsigned long long n = 0;
	if (*p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (ULLONG_MAX - 9) / 10)
			return 0;
		n = n * 10 + (unsigned long long)(*p - '0');
	}
	if (*p == ' ')
		p++;
	unsigned long long mult = *p ? 0 : 1;
	for (size_t i = 0; *p && i < sizeof(size_units) / sizeof(size_units[0]); i++)
		if (strcmp(p, size_units[i].unit) == 0)
			mult = size_units[i].mult;
	if (!mult || n > SIZE_MAX / mult)
		return 0;
	return n * mult;
}

static int parse_size(const struct setting *k, const json_t *v, struct wd_settings *s, char *why,
                      size_t whylen)
{
	unsigned long long n = 0;
	if (json_is_integer(v) && json_integer_value(v) > 0)
		n = (unsigned long long)json_integer_value(v);
	else if (text_of(v))
		n = parse_size_text(text_of(v));
	if (!n || n > SIZE_MAX)
		return bad(k, v, why, whylen,
		           "a positive size in bytes, or a string with a unit B, KB, MB, GB, KiB, "
		           "MiB or GiB such as \"32MiB\"");
	*FIELD(s, k, size_t) = (size_t)n;
	return WD_OK;
}

static int parse_enum(const struct setting *k, const json_t *v, struct wd_settings *s, char *why,
                      size_t whylen)
{
	const char *t = text_of(v);
	for (int i = 0; t && k->names[i]; i++) {
		if (strcmp(t, k->names[i]) == 0) {
			*FIELD(s, k, int) = i;
			return WD_OK;
		}
	}
	char must[160] = "one of ";
	size_t o = strlen(must);
	for (int i = 0; k->names[i] && o < sizeof(must); i++)
		o += (size_t)snprintf(must + o, sizeof(must) - o, "%s%s", i ? ", " : "",
		                      k->names[i]);
	return bad(k, v, why, whylen, must);
}

/* The value names an environment variable whose value goes into the field. The variable's
 * name is echoed in messages; its value, a secret, never is. */
static int parse_env(const struct setting *k, const json_t *v, struct wd_settings *s, char *why,
                     size_t whylen)
{
	const char *name = text_of(v);
	if (!name)
		return bad(k, v, why, whylen, "the name of an environment variable");
	const char *val = getenv(name);
	if (!val) {
		snprintf(why, whylen, "environment variable %s is not set", name);
		return WD_EINVAL;
	}
	if (!*val) {
		snprintf(why, whylen, "environment variable %s is empty", name);
		return WD_EINVAL;
	}
	return set_str(FIELD(s, k, char *), val);
}

/* Only the shape is checked here: the chain validates each entry and names its location. */
static int parse_checkers(const struct setting *k, const json_t *v, struct wd_settings *s,
                          char *why, size_t whylen)
{
	if (!json_is_array(v))
		return bad(k, v, why, whylen, "a list of checker entries");
	*FIELD(s, k, const json_t *) = v;
	return WD_OK;
}

static const char *const on_block_names[] = {"error", "refusal", NULL};
static const char *const log_level_names[] = {"debug", "info", "warn", "error", "off", NULL};
static const char *const log_format_names[] = {"text", "json", NULL};
static const char *const capture_names[] = {"none", "excerpt", "full", NULL};
static const char *const sync_names[] = {"normal", "full", NULL};

/* Enum fields are written through an int pointer: the enums must be int-sized. */
_Static_assert(sizeof(enum wd_on_block) == sizeof(int), "enum wd_on_block is int-sized");
_Static_assert(sizeof(enum wd_log_level) == sizeof(int), "enum wd_log_level is int-sized");
_Static_assert(sizeof(enum wd_capture) == sizeof(int) && sizeof(enum wd_sync) == sizeof(int),
               "enum wd_capture and wd_sync are int-sized");
_Static_assert(WD_CAPTURE_FULL == 2 && WD_SYNC_FULL == 1, "enum names follow the enum order");
_Static_assert(WD_ON_BLOCK_REFUSAL == 1 && WD_LOG_OFF == 4, "enum names follow the enum order");

#define AT(field) offsetof(struct wd_settings, field)
#define POSITIVE  .min = 1, .max = LONG_MAX

/* The schema: one row per key, in the order the docs and "known:" lists give them. A section
 * (upstream, limits, ...) exists because some path starts with "section.". */
static const struct setting settings[] = {
    {"listen", parse_hostport, AT(listen), .def_s = "127.0.0.1:8080"},
    {"threads", parse_int, AT(threads), .def_i = 0, .min = 0, .max = 256},
    {"upstream.url", parse_url, AT(upstream_url), .def_s = "http://127.0.0.1:8090"},
    {"upstream.api_key", parse_string, AT(upstream_api_key), .secret = 1},
    {"upstream.api_key_env", parse_env, AT(upstream_api_key), .def_s = NULL},
    {"upstream.connect_timeout_ms", parse_long, AT(upstream_connect_timeout_ms), .def_i = 5000,
     POSITIVE},
    {"upstream.timeout_ms", parse_long, AT(upstream_timeout_ms), .def_i = 600000, POSITIVE},
    {"upstream.idle_timeout_ms", parse_long, AT(upstream_idle_timeout_ms), .def_i = 60000,
     POSITIVE},
    {"admin.listen", parse_hostport, AT(admin_listen), .def_s = "127.0.0.1:8081"},
    {"admin.token", parse_string, AT(admin_token), .secret = 1},
    {"store.path", parse_string, AT(db_path), .def_s = "./warden.db"},
    {"store.capture", parse_enum, AT(capture), .def_i = WD_CAPTURE_EXCERPT, .names = capture_names},
    {"store.retention_days", parse_int, AT(retention_days), .def_i = 90, .min = 0, .max = 36500},
    {"store.synchronous", parse_enum, AT(sync), .def_i = WD_SYNC_NORMAL, .names = sync_names},
    {"limits.max_body_bytes", parse_size, AT(max_body_bytes), .def_i = 32LL << 20},
    {"limits.max_upload_bytes", parse_size, AT(max_upload_bytes), .def_i = 512LL << 20},
    {"limits.max_response_bytes", parse_size, AT(max_response_bytes), .def_i = 64LL << 20},
    {"limits.max_event_bytes", parse_size, AT(max_event_bytes), .def_i = 1LL << 20},
    {"on_block", parse_enum, AT(on_block), .def_i = WD_ON_BLOCK_ERROR, .names = on_block_names},
    {"refusal_text", parse_string, AT(refusal_text), .def_s = "I can't help with that request."},
    {"log.level", parse_enum, AT(log_level), .def_i = WD_LOG_INFO, .names = log_level_names},
    {"log.format", parse_enum, AT(log_json), .def_i = 0, .names = log_format_names},
    {"checkers", parse_checkers, AT(checkers), .def_s = NULL},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static int apply_default(const struct setting *k, struct wd_settings *s)
{
	if (k->parse == parse_string || k->parse == parse_hostport || k->parse == parse_url)
		return set_str(FIELD(s, k, char *), k->def_s);
	if (k->parse == parse_int || k->parse == parse_enum)
		*FIELD(s, k, int) = (int)k->def_i;
	else if (k->parse == parse_long)
		*FIELD(s, k, long) = (long)k->def_i;
	else if (k->parse == parse_size)
		*FIELD(s, k, size_t) = (size_t)k->def_i;
	else if (k->parse == parse_checkers)
		*FIELD(s, k, const json_t *) = NULL;
	/* parse_env shares its field with the key it stands in for, which set the default. */
	return WD_OK;
}

void wd_settings_free(struct wd_settings *s)
{
	if (!s)
		return;
	free(s->listen);
	free(s->upstream_url);
	free(s->upstream_api_key);
	free(s->admin_listen);
	free(s->admin_token);
	free(s->db_path);
	free(s->refusal_text);
	memset(s, 0, sizeof(*s));
}

struct sctx {
	const struct wd_conf *c;
	struct wd_settings *s;
	char *err;
	size_t errlen;
};

static int serr(const struct sctx *x, int line, const char *path, const char *msg)
{
	char at[300];
	snprintf(x->err, x->errlen, "%s: %s: %s", where(x->c, line, at, sizeof(at)), path, msg);
	return WD_EINVAL;
}

/* Is `path` the prefix (a section) of some setting, or `prefix` the section of k's path? */
static int under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return n == 0 || (strncmp(path, prefix, n) == 0 && path[n] == '.');
}

/* Writes the keys known directly under prefix ("" for the root), in table order. */
static void known_keys(const char *prefix, char *buf, size_t len)
{
	size_t pn = strlen(prefix), o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (!under(settings[i].path, prefix))
			continue;
		const char *name = settings[i].path + (pn ? pn + 1 : 0);
		size_t nn = strcspn(name, ".");
		int dup = 0;
		for (size_t j = 0; j < i && !dup; j++) {
			const char *other = settings[j].path + (pn ? pn + 1 : 0);
			dup = under(settings[j].path, prefix) && strncmp(other, name, nn) == 0 &&
			      (other[nn] == '.' || other[nn] == '\0');
		}
		if (dup || o >= len)
			continue;
		o += (size_t)snprintf(buf + o, len - o, "%s%.*s", o ? ", " : "", (int)nn, name);
	}
}

static int walk(const struct sctx *x, const json_t *obj, const char *prefix)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		char path[256];
		int line = key_line(x->c, obj, key);
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
		const struct setting *leaf = NULL;
		int section = 0;
		for (size_t i = 0; i < NSETTINGS && !leaf; i++) {
			if (strcmp(settings[i].path, path) == 0)
				leaf = &settings[i];
			else if (under(settings[i].path, path))
				section = 1;
		}
		if (!leaf && !section) {
			char known[512], msg[600];
			known_keys(prefix, known, sizeof(known));
			snprintf(msg, sizeof(msg), "unknown key (known: %s)", known);
			return serr(x, line, path, msg);
		}
		if (json_is_null(v)) /* a key with no value keeps its default */
			continue;
		if (section) {
			if (!json_is_object(v)) {
				char got[96], msg[160];
				describe(v, 0, got, sizeof(got));
				snprintf(msg, sizeof(msg), "must be a mapping (got %s)", got);
				return serr(x, line, path, msg);
			}
			int rc = walk(x, v, path);
			if (rc)
				return rc;
			continue;
		}
		char why[400];
		int rc = leaf->parse(leaf, v, x->s, why, sizeof(why));
		if (rc == WD_ENOMEM) {
			snprintf(x->err, x->errlen, "%s: out of memory", x->c->name);
			return rc;
		}
		if (rc)
			return serr(x, line, path, why);
	}
	return WD_OK;
}

/* Rules across keys, which one row of the table cannot state. */
static int check_cross(const struct sctx *x, const json_t *root)
{
	const json_t *up = json_object_get(root, "upstream");
	if (json_is_object(up) && !json_is_null(json_object_get(up, "api_key")) &&
	    json_object_get(up, "api_key") && json_object_get(up, "api_key_env") &&
	    !json_is_null(json_object_get(up, "api_key_env")))
		return serr(x, key_line(x->c, up, "api_key_env"), "upstream.api_key_env",
		            "give upstream.api_key or upstream.api_key_env, not both");

	const json_t *ck = json_object_get(root, "checkers");
	size_t i;
	const json_t *e;
	json_array_foreach(ck, i, e)
	{
		if (json_is_object(e))
			continue;
		char path[32], got[96], msg[160];
		int line = node_line(x->c, e);
		snprintf(path, sizeof(path), "checkers[%zu]", i);
		describe(e, 0, got, sizeof(got));
		snprintf(msg, sizeof(msg), "must be a mapping with id, type, ... (got %s)", got);
		return serr(x, line ? line : node_line(x->c, ck), path, msg);
	}
	return WD_OK;
}

int wd_settings_load(const struct wd_conf *c, struct wd_settings *s, char *err, size_t errlen)
{
	const json_t *root = wd_conf_root(c);
	int rc = WD_OK;

	memset(s, 0, sizeof(*s)); /* s may be uninitialised: clear it before anything reads it */
	struct sctx x = {c, s, err, errlen};
	if (err && errlen)
		err[0] = '\0';
	for (size_t i = 0; i < NSETTINGS && !rc; i++)
		rc = apply_default(&settings[i], s);
	if (rc) {
		snprintf(err, errlen, "%s: out of memory", c ? c->name : "config");
		goto out;
	}
	if (!json_is_object(root)) {
		char at[300];
		snprintf(err, errlen, "%s: the config must be a mapping of keys to values (got %s)",
		         where(c, node_line(c, root), at, sizeof(at)),
		         root ? kind_name(root) : "nothing");
		rc = WD_EINVAL;
		goto out;
	}
	rc = walk(&x, root, "");
	if (!rc)
		rc = check_cross(&x, root);
	if (rc)
		goto out;

	const char *tok = getenv("WARDEN_ADMIN_TOKEN");
	if (tok && *tok) {
		rc = set_str(&s->admin_token, tok);
		if (rc) {
			snprintf(err, errlen, "%s: out of memory", c->name);
			goto out;
		}
	}
out:
	if (rc)
		wd_settings_free(s);
	return rc;
}

/* ---- host:port ---- */

int wd_parse_hostport(const char *s, char *host, size_t hostlen, unsigned short *port)
{
	const char *h, *colon;
	size_t hn;

	if (!s || !host || !hostlen || !port)
		return WD_EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return WD_EINVAL;
		h = s + 1;
		hn = (size_t)(close - h);
		colon = close + 1;
		if (!hn)
			return WD_EINVAL;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return WD_EINVAL;
		h = s;
		hn = (size_t)(colon - s);
		if (memchr(h, ':', hn)) /* bare IPv6 must be bracketed */
			return WD_EINVAL;
	}
	for (size_t i = 0; i < hn; i++) {
		unsigned char ch = (unsigned char)h[i];
		if (ch <= 0x20 || ch == 0x7f || ch == '/' || ch == '[' || ch == ']' || ch == '@')
			return WD_EINVAL;
		if (s[0] != '[' && ch == ':')
			return WD_EINVAL;
	}
	const char *p = colon + 1;
	size_t pn = strlen(p);
	if (pn == 0 || pn > 5 || !all_digits(p, pn))
		return WD_EINVAL;
	long v = strtol(p, NULL, 10);
	if (v < 1 || v > 65535)
		return WD_EINVAL;
	if (hn == 0) {
		h = "0.0.0.0";
		hn = 7;
	}
	if (hn + 1 > hostlen)
		return WD_EINVAL;
	memcpy(host, h, hn);
	host[hn] = '\0';
	*port = (unsigned short)v;
	return WD_OK;
}
