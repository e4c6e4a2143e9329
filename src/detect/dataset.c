/* dataset.c — labelled JSONL records (see dataset.h): read line by line with a bounded line
 * length, each line one JSON object, and the deterministic train/validation/test split by a
 * 64-bit FNV-1a hash of the record's id (or text). */
#include "detect/dataset.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/err.h"

#define LINE_MAX_BYTES (1u << 20)

enum wd_split wd_split_of(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	unsigned v = (unsigned)(h % 100);
	return v < 60 ? WD_SPLIT_TRAIN : v < 80 ? WD_SPLIT_VALID : WD_SPLIT_TEST;
}

static void sample_free(struct wd_sample *s)
{
	free(s->id);
	free(s->text);
	free(s->label);
	free(s->category);
	free(s->source);
	free(s->system);
	for (size_t i = 0; i < s->ncontext; i++)
		free(s->context[i].content);
	free(s->context);
}

void wd_dataset_free(struct wd_sample *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		sample_free(&v[i]);
	free(v);
}

/* Copies the optional string member key of o into *dst (NULL when absent or null). */
static int opt_str(json_t *o, const char *key, char **dst, const char *path, size_t line, char *err,
                   size_t errlen)
{
	json_t *j = json_object_get(o, key);
	*dst = NULL;
	if (!j || json_is_null(j))
		return WD_OK;
	if (!json_is_string(j)) {
		snprintf(err, errlen, "%s:%zu: \"%s\" must be a string", path, line, key);
		return WD_EINVAL;
	}
	*dst = strdup(json_string_value(j));
	if (!*dst) {
		snprintf(err, errlen, "%s:%zu: out of memory", path, line);
		return WD_ENOMEM;
	}
	return WD_OK;
}

/* The optional "context" member of o into s: an array of at most WD_DATASET_MAX_CONTEXT objects
 * {"role": "user" or "assistant", "content": string}. */
static int context_of(json_t *o, struct wd_sample *s, const char *path, size_t line, char *err,
                      size_t errlen)
{
	json_t *c = json_object_get(o, "context");
	if (!c || json_is_null(c))
		return WD_OK;
	if (!json_is_array(c) || json_array_size(c) > WD_DATASET_MAX_CONTEXT) {
		snprintf(err, errlen, "%s:%zu: \"context\" must be an array of at most %d messages",
		         path, line, WD_DATASET_MAX_CONTEXT);
		return WD_EINVAL;
	}
	s->context = calloc(json_array_size(c) + 1, sizeof *s->context);
	if (!s->context) {
		snprintf(err, errlen, "%s:%zu: out of memory", path, line);
		return WD_ENOMEM;
	}
	size_t i;
	json_t *m;
	json_array_foreach(c, i, m)
	{
		const char *role = json_string_value(json_object_get(m, "role"));
		json_t *content = json_object_get(m, "content");
		if (!json_is_object(m) || !role ||
		    (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0) ||
		    !json_is_string(content)) {
			snprintf(err, errlen,
			         "%s:%zu: \"context\"[%zu] must be {\"role\": \"user\" or "
			         "\"assistant\", \"content\": a string}",
			         path, line, i);
			return WD_EINVAL;
		}
		s->context[i].assistant = strcmp(role, "assistant") == 0;
		s->context[i].content = strdup(json_string_value(content));
		if (!s->context[i].content) {
			snprintf(err, errlen, "%s:%zu: out of memory", path, line);
			return WD_ENOMEM;
		}
		s->ncontext = i + 1;
	}
	return WD_OK;
}

/* Parses one line into s (zeroed by the caller); the text is the string field `field`. */
static int parse_line(const char *buf, size_t len, const char *field, struct wd_sample *s,
                      const char *path, size_t line, char *err, size_t errlen)
{
	json_error_t je;
	int rc = WD_EINVAL;
	json_t *o = json_loadb(buf, len, 0, &je);
	if (!o) {
		snprintf(err, errlen, "%s:%zu: column %d: %s", path, line, je.column, je.text);
		return WD_EINVAL;
	}
	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s:%zu: want a JSON object", path, line);
		goto out;
	}
	json_t *t = json_object_get(o, field);
	if (!json_is_string(t)) {
		snprintf(err, errlen, "%s:%zu: \"%s\" %s", path, line, field,
		         t ? "must be a string" : "is missing");
		goto out;
	}
	rc = opt_str(o, field, &s->text, path, line, err, errlen);
	if (!rc)
		rc = opt_str(o, "id", &s->id, path, line, err, errlen);
	if (!rc)
		rc = opt_str(o, "label", &s->label, path, line, err, errlen);
	if (!rc)
		rc = opt_str(o, "category", &s->category, path, line, err, errlen);
	if (!rc)
		rc = opt_str(o, "source", &s->source, path, line, err, errlen);
	if (!rc)
		rc = opt_str(o, "system_prompt", &s->system, path, line, err, errlen);
	if (!rc)
		rc = context_of(o, s, path, line, err, errlen);
	if (rc)
		goto out;
	s->tricky = json_is_true(json_object_get(o, "tricky_benign"));
	json_t *g = json_object_get(o, "group");
	if (json_is_null(g))
		g = NULL; /* as absent, like the other optional fields */
	if (g && !json_is_string(g)) {
		snprintf(err, errlen, "%s:%zu: \"group\" must be a string", path, line);
		rc = WD_EINVAL;
		goto out;
	}
	s->split = wd_split_of(g ? json_string_value(g) : s->id ? s->id : s->text);
out:
	json_decref(o);
	return rc;
}

static int blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return 0;
	return 1;
}

int wd_dataset_load(const char *spec, struct wd_sample **v, size_t *n, char *err, size_t errlen)
{
	int rc = WD_OK;
	size_t n0 = *n, line = 0;
	char *buf = NULL, path[4096];
	const char *field = "text", *slash = strrchr(spec, '/');
	const char *at = strrchr(slash ? slash : spec, '@');
	if (at && access(spec, F_OK) == 0)
		at = NULL; /* a file whose name holds an @ */
	if (strlen(spec) >= sizeof path) {
		snprintf(err, errlen, "%.64s...: path too long", spec);
		return WD_EINVAL;
	}
	snprintf(path, sizeof path, "%.*s", (int)(at ? (size_t)(at - spec) : strlen(spec)), spec);
	if (at)
		field = at + 1;
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return WD_EIO;
	}
	/* One spare byte tells a line of exactly the maximum from a longer one. */
	size_t cap = LINE_MAX_BYTES + 2;
	buf = malloc(cap);
	if (!buf) {
		rc = WD_ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (fgets(buf, (int)cap, fp)) {
		line++;
		size_t len = strlen(buf);
		if (len == cap - 1 && buf[len - 1] != '\n') {
			snprintf(err, errlen, "%s:%zu: line longer than %u bytes", path, line,
			         LINE_MAX_BYTES);
			rc = WD_ETOOBIG;
			goto out;
		}
		if (blank(buf, len))
			continue;
		/* Grow to 16, 32, 64...: a power-of-two count means the array is full. */
		if (*n == 0 || (*n >= 16 && (*n & (*n - 1)) == 0)) {
			size_t nc = *n ? *n * 2 : 16;
			struct wd_sample *nv = realloc(*v, nc * sizeof **v);
			if (!nv) {
				rc = WD_ENOMEM;
				snprintf(err, errlen, "%s:%zu: out of memory", path, line);
				goto out;
			}
			*v = nv;
		}
		struct wd_sample *s = &(*v)[*n];
		memset(s, 0, sizeof *s);
		rc = parse_line(buf, len, field, s, path, line, err, errlen);
		if (rc) {
			sample_free(s);
			goto out;
		}
		(*n)++;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s:%zu: read error", path, line + 1);
		rc = WD_EIO;
	}
out:
	if (rc) {
		/* All or nothing: drop what this file added. */
		for (size_t i = n0; i < *n; i++)
			sample_free(&(*v)[i]);
		*n = n0;
	}
	free(buf);
	fclose(fp);
	return rc;
}
