/* textconf.c — shared parts of the harm and jailbreak checkers; see textconf.h. */
#include "checkers/textconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "detect/normalize.h"

static int fail(char **err, const char *key, const char *what)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s: %s", key, what);
	*err = strdup(buf);
	return WD_EINVAL;
}

int wd_textconf_parse(const json_t *conf, const char *const *keys, struct wd_textconf *tc,
                      char **err)
{
	memset(tc, 0, sizeof *tc);
	tc->turns = 4;
	tc->max_bytes = 16384;
	tc->window_discount = -1;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)conf, key, v)
	{
		int known = 0;
		for (const char *const *k = keys; *k; k++)
			known |= strcmp(*k, key) == 0;
		if (!known)
			return fail(err, key, "unknown key");
		if (strcmp(key, "model") == 0 || strcmp(key, "rules") == 0) {
			if (!json_is_string(v) || !json_string_length(v))
				return fail(err, key, "must be a path");
			*(strcmp(key, "model") == 0 ? &tc->model : &tc->rules) =
			    json_string_value(v);
		} else if (strcmp(key, "categories") == 0) {
			size_t i;
			json_t *c;
			if (!json_is_array(v))
				return fail(err, key, "must be a list of category ids");
			json_array_foreach(v, i, c)
			{
				if (!json_is_string(c))
					return fail(err, key, "must be a list of category ids");
			}
			tc->categories = v;
		} else if (strcmp(key, "turns") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 100)
				return fail(err, key, "must be an integer from 1 to 100");
			tc->turns = (int)json_integer_value(v);
		} else if (strcmp(key, "max_bytes") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 64 ||
			    json_integer_value(v) > 1 << 20)
				return fail(err, key, "must be an integer from 64 to 1048576");
			tc->max_bytes = (size_t)json_integer_value(v);
		} else if (strcmp(key, "window_discount") == 0) {
			if (!json_is_number(v) || json_number_value(v) < 0)
				return fail(err, key, "must be a number >= 0 (0: no windows)");
			tc->window_discount = json_number_value(v);
		}
	}
	if (!tc->model && !tc->rules)
		return fail(err, "model", "give a model, rules, or both");
	return WD_OK;
}

int wd_textconf_several_user_turns(const struct wd_exchange *x)
{
	size_t users = 0;
	for (size_t i = 0; i < x->nmsgs && users < 2; i++)
		users += x->msgs[i].role == WD_ROLE_USER;
	return users > 1;
}

static int append_parts(const struct wd_message *m, struct wd_buf *out)
{
	for (size_t j = 0; j < m->nparts; j++) {
		if (m->parts[j].kind != WD_PART_TEXT)
			continue;
		if (out->len && wd_buf_append(out, "\n", 1))
			return WD_ETOOBIG;
		size_t room = out->max - out->len, len = m->parts[j].len;
		wd_buf_append(out, m->parts[j].text, len < room ? len : room);
		if (len > room)
			return WD_ETOOBIG; /* what fitted is kept */
	}
	return WD_OK;
}

int wd_textconf_turns(const struct wd_exchange *x, enum wd_role role, int skip, int k,
                      struct wd_buf *out)
{
	size_t end = x->nmsgs;
	for (int skipped = 0; end > 0 && skipped < skip;)
		skipped += x->msgs[--end].role == role;
	size_t first = end;
	int seen = 0;
	while (first > 0 && seen < k) {
		first--;
		seen += x->msgs[first].role == role;
	}
	for (size_t i = first; i < end; i++) {
		if (x->msgs[i].role != role)
			continue;
		int rc = append_parts(&x->msgs[i], out);
		if (rc)
			return rc;
	}
	return WD_OK;
}

void wd_textconf_message_text(const struct wd_message *m, struct wd_buf *out)
{
	if (append_parts(m, out))
		return;
	for (size_t j = 0; j < m->ncalls; j++) {
		if (wd_buf_append(out, "\n", 1) ||
		    wd_buf_append(out, m->calls[j].arguments, m->calls[j].arguments_len))
			return;
	}
}

size_t wd_textconf_excerpt_len(const char *t, size_t len)
{
	return wd_utf8_prefix(t, len, 80);
}

json_t *wd_textconf_evidence(const struct wd_classification *c, const char *text, size_t len,
                             const char *scope)
{
	json_t *rules = json_array();
	for (size_t i = 0; i < c->nhits; i++)
		json_array_append_new(rules, json_string(c->hits[i]->id));
	json_t *ev = json_pack("{s:f,s:f,s:o,s:s}", "model", c->model_p, "rules_weight", c->rules,
	                       "rules", rules, "scope", scope);
	if (c->net_p > 0) /* the network was asked: its own probability (model holds the mean) */
		json_object_set_new(ev, "network", json_real(c->net_p));
	if (c->strongest)
		json_object_set_new(ev, "rule", json_string(c->strongest->id));
	if (c->window[0]) /* a window of the text decided: it is the excerpt (normalised) */
		json_object_set_new(ev, "excerpt", json_string(c->window));
	else
		json_object_set_new(ev, "excerpt",
		                    json_stringn(text, wd_textconf_excerpt_len(text, len)));
	return ev;
}
