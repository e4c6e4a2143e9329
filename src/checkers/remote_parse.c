/* remote_parse.c — requests to and answers from a guard model, without I/O; see remote_parse.h.
 * The answers come from a server warden does not control, so every shape is checked and a
 * failure names what was wrong without quoting the answer (it may echo the user's text). */
#include "checkers/remote_parse.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/err.h"

size_t wd_remote_utf8_prefix(const char *s, size_t n)
{
	/* the last character starts at the last byte that is not a continuation byte */
	size_t start = n;
	while (start > 0 && n - start < 4 && ((unsigned char)s[start - 1] & 0xC0) == 0x80)
		start--;
	if (start == 0)
		return n - start < 4 ? 0 : n;
	unsigned char lead = (unsigned char)s[start - 1];
	size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	return n - (start - 1) < need ? start - 1 : n;
}

/* Appends a message's text parts to b, after a "\n" when b has text, as much as fits. */
static void message_text(const struct wd_message *m, struct wd_buf *b)
{
	for (size_t i = 0; i < m->nparts; i++) {
		if (m->parts[i].kind != WD_PART_TEXT || !m->parts[i].len)
			continue;
		if (b->len && wd_buf_append(b, "\n", 1))
			return;
		size_t room = b->max - b->len, n = m->parts[i].len;
		if (wd_buf_append(b, m->parts[i].text, n < room ? n : room) || n > room)
			return;
	}
}

/* Appends {"role": role, "content": text} to arr. Returns 0, or -1 when out of memory. */
static int push_turn(json_t *arr, const char *role, const char *text, size_t len)
{
	json_t *content = json_stringn(text ? text : "", wd_remote_utf8_prefix(text, len));
	if (!content)
		return -1;
	return json_array_append_new(arr, json_pack("{s:s,s:o}", "role", role, "content", content));
}

json_t *wd_remote_messages(const struct wd_exchange *x, int turns, size_t max_bytes,
                           const char *answer, size_t answer_len)
{
	json_t *rev = json_array(), *out = NULL; /* turns newest first, reversed at the end */
	size_t budget = max_bytes, user_bytes = 0;
	if (!rev)
		return NULL;
	if (answer) {
		size_t n = wd_remote_utf8_prefix(answer, answer_len < budget ? answer_len : budget);
		if (push_turn(rev, "assistant", answer, n))
			goto out;
		budget -= n;
	}
	/* the conversation up to its last user turn, one turn (a run of one role) at a time */
	size_t end = x->nmsgs;
	while (end > 0 && x->msgs[end - 1].role != WD_ROLE_USER)
		end--;
	enum wd_role want = WD_ROLE_USER;
	int users = 0;
	while (end > 0 && budget > 0 && users < turns) {
		enum wd_role other = want == WD_ROLE_USER ? WD_ROLE_ASSISTANT : WD_ROLE_USER;
		size_t lo = end;
		while (lo > 0 && x->msgs[lo - 1].role != other)
			lo--;
		struct wd_buf b;
		wd_buf_init(&b, budget);
		for (size_t i = lo; i < end && b.len < b.max; i++) {
			if (x->msgs[i].role == want) /* system, developer, tool: not turns */
				message_text(&x->msgs[i], &b);
		}
		size_t n = wd_remote_utf8_prefix(b.data, b.len);
		int rc = push_turn(rev, want == WD_ROLE_USER ? "user" : "assistant", b.data, n);
		wd_buf_free(&b);
		if (rc)
			goto out;
		budget -= n;
		if (want == WD_ROLE_USER) {
			users++;
			user_bytes += n;
		}
		want = other;
		end = lo;
	}
	/* Llama Guard's template wants the user first */
	size_t n = json_array_size(rev);
	if (n && strcmp(json_string_value(json_object_get(json_array_get(rev, n - 1), "role")),
	                "assistant") == 0) {
		if (answer && n == 1) {
			if (push_turn(rev, "user", "", 0))
				goto out;
		} else {
			json_array_remove(rev, n - 1);
		}
	}
	out = json_array();
	if (!out)
		goto out;
	if (!user_bytes && !answer)
		goto out; /* nothing to judge */
	for (size_t i = json_array_size(rev); i > 0; i--)
		json_array_append(out, json_array_get(rev, i - 1));
out:
	json_decref(rev);
	return out;
}

/* s without leading and trailing white space, as [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* "S1, S10" → guard "S1,S10", category "S1". Tokens are 1..15 letters or digits. */
static int parse_categories(const char *s, size_t n, struct wd_remote_answer *a)
{
	size_t o = 0;
	while (n) {
		const char *comma = memchr(s, ',', n);
		size_t tl = comma ? (size_t)(comma - s) : n;
		const char *tok = s;
		size_t tn = tl;
		trim(&tok, &tn);
		if (!tn || tn > 15)
			return WD_EINVAL;
		for (size_t i = 0; i < tn; i++) {
			if (!isalnum((unsigned char)tok[i]))
				return WD_EINVAL;
		}
		if (!a->category[0])
			snprintf(a->category, sizeof a->category, "%c%.*s",
			         toupper((unsigned char)tok[0]), (int)tn - 1, tok + 1);
		if (o + tn + 1 < sizeof a->guard) { /* a long list is kept as far as it fits */
			int w = snprintf(a->guard + o, sizeof a->guard - o, "%s%.*s", o ? "," : "",
			                 (int)tn, tok);
			o += (size_t)w;
		}
		s += comma ? tl + 1 : tl;
		n -= comma ? tl + 1 : tl;
		if (comma && !n)
			return WD_EINVAL; /* a trailing comma */
	}
	return WD_OK;
}

/* Loads body as JSON and lets read fill a from it; on any failure a is zeroed and *why says
 * why. */
static int parse(const char *body, size_t len, struct wd_remote_answer *a, const char **why,
                 int (*read)(const json_t *root, struct wd_remote_answer *a, const char **why))
{
	memset(a, 0, sizeof *a);
	json_t *root = json_loadb(body, len, 0, NULL);
	if (!root) {
		*why = "malformed JSON";
		return WD_EINVAL;
	}
	int rc = read(root, a, why);
	if (rc)
		memset(a, 0, sizeof *a);
	json_decref(root);
	return rc;
}

static int read_llama_guard(const json_t *root, struct wd_remote_answer *a, const char **why)
{
	json_t *msg =
	    json_object_get(json_array_get(json_object_get(root, "choices"), 0), "message");
	json_t *content = json_object_get(msg, "content");
	if (!json_is_string(content)) {
		*why = "no choices[0].message.content string";
		return WD_EINVAL;
	}
	const char *s = json_string_value(content);
	size_t n = json_string_length(content);
	trim(&s, &n);
	*why = "unexpected output (neither \"safe\" nor \"unsafe\" with categories)";
	if (n == 4 && strncasecmp(s, "safe", 4) == 0)
		return WD_OK;
	if (n < 6 || strncasecmp(s, "unsafe", 6) != 0 || (n > 6 && !isspace((unsigned char)s[6])))
		return WD_EINVAL;
	a->score = 1;
	s += 6;
	n -= 6;
	trim(&s, &n);
	if (!n) { /* some guards name no category */
		snprintf(a->category, sizeof a->category, "remote.unsafe");
		snprintf(a->guard, sizeof a->guard, "unsafe");
		return WD_OK;
	}
	return memchr(s, '\n', n) ? WD_EINVAL : parse_categories(s, n, a);
}

int wd_remote_parse_llama_guard(const char *body, size_t len, struct wd_remote_answer *a,
                                const char **why)
{
	return parse(body, len, a, why, read_llama_guard);
}

static const struct {
	const char *name, *id;
} category_map[] = {
    /* the more specific name first: "sexual/minors" must not fall to "sexual" */
    {"sexual/minors", "S4"}, {"violence", "S1"},   {"illicit", "S2"}, {"hate", "S10"},
    {"harassment", "S10"},   {"self-harm", "S11"}, {"sexual", "S12"},
};

const char *wd_remote_map_category(const char *name)
{
	for (size_t i = 0; i < sizeof category_map / sizeof category_map[0]; i++) {
		size_t n = strlen(category_map[i].name);
		if (strncmp(name, category_map[i].name, n) == 0 && (!name[n] || name[n] == '/'))
			return category_map[i].id;
	}
	return NULL;
}

static int read_moderation(const json_t *root, struct wd_remote_answer *a, const char **why)
{
	json_t *results = json_object_get(root, "results");
	if (!json_is_array(results) || !json_array_size(results)) {
		*why = "no results array";
		return WD_EINVAL;
	}
	const char *best = NULL;
	double top = 0;
	size_t i;
	json_t *res;
	json_array_foreach(results, i, res)
	{
		json_t *scores = json_object_get(res, "category_scores");
		const char *key;
		json_t *v;
		if (!json_is_object(scores)) {
			*why = "a result without a category_scores object";
			return WD_EINVAL;
		}
		json_object_foreach(scores, key, v)
		{
			if (!json_is_number(v))
				continue; /* null for a category the model did not score */
			double d = json_number_value(v);
			if (!isfinite(d) || d < 0 || d > 1) {
				*why = "a category score outside 0..1";
				return WD_EINVAL;
			}
			if (!best || d > top) {
				best = key;
				top = d;
			}
		}
	}
	if (!best) {
		*why = "no category scores";
		return WD_EINVAL;
	}
	a->score = top;
	snprintf(a->guard, sizeof a->guard, "%s", best);
	const char *id = wd_remote_map_category(best);
	if (id)
		snprintf(a->category, sizeof a->category, "%s", id);
	else
		snprintf(a->category, sizeof a->category, "moderation.%s", best);
	return WD_OK;
}

int wd_remote_parse_moderation(const char *body, size_t len, struct wd_remote_answer *a,
                               const char **why)
{
	return parse(body, len, a, why, read_moderation);
}
