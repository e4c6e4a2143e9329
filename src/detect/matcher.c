/* matcher.c — loads rule packs (conf/rules/NAME.yaml) and scans texts with one vectorscan
 * database holding every pattern of every rule; see matcher.h for the file format and flags.
 * Pattern ids given to vectorscan are indexes into a pattern→rule table, so several patterns of
 * one rule report the same rule, and a per-scan dedup keeps each rule once. */
#include "detect/matcher.h"

#include <dirent.h>
#include <hs/hs.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/err.h"
#include "detect/dbcache.h"
#include "detect/scratch.h"
#include "detect/taxonomy.h"

struct wd_matcher {
	hs_database_t *db;
	uint64_t serial; /* for the per-thread scratch (detect/scratch.h) */
	struct wd_rule *rules;
	size_t nrules, caprules;
	unsigned *pat_rule; /* pattern index → rule index */
	char **exprs;       /* kept until compiled */
	size_t npats, cappats;
	unsigned kinds; /* of the rules whose patterns are compiled */
	int cached;     /* the database came from the compile cache (detect/dbcache.h) */
};

/* ---- loading */

#define HS_FLAGS (HS_FLAG_CASELESS | HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH)

static const char *const kind_names[] = {"intent", "topic", "context", "jailbreak", "injection"};

const char *wd_rule_kind_name(enum wd_rule_kind k)
{
	return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

void wd_matcher_free(struct wd_matcher *m)
{
	if (!m)
		return;
	hs_free_database(m->db);
	for (size_t i = 0; i < m->nrules; i++) {
		free(m->rules[i].id);
		free(m->rules[i].category);
	}
	for (size_t i = 0; i < m->npats; i++)
		free(m->exprs[i]);
	free(m->exprs);
	free(m->rules);
	free(m->pat_rule);
	free(m);
}

/* Writes "where: rules[i]<sub>: what" into err and returns WD_EINVAL. */
static int rule_err(char *err, size_t errlen, const char *where, long i, const char *sub,
                    const char *what)
{
	if (i < 0)
		snprintf(err, errlen, "%s: %s", where, what);
	else
		snprintf(err, errlen, "%s: rules[%ld]%s: %s", where, i, sub, what);
	return WD_EINVAL;
}

static int add_pattern(struct wd_matcher *m, const char *re, size_t rule)
{
	if (m->npats == m->cappats) {
		size_t cap = m->cappats ? 2 * m->cappats : 64;
		char **e = realloc(m->exprs, cap * sizeof *e);
		if (!e)
			return WD_ENOMEM;
		m->exprs = e;
		unsigned *r = realloc(m->pat_rule, cap * sizeof *r);
		if (!r)
			return WD_ENOMEM;
		m->pat_rule = r;
		m->cappats = cap;
	}
	m->exprs[m->npats] = strdup(re);
	if (!m->exprs[m->npats])
		return WD_ENOMEM;
	m->pat_rule[m->npats++] = (unsigned)rule;
	return WD_OK;
}

/* Validates one rule node and appends it with its patterns. */
static int load_rule(struct wd_matcher *m, const struct wd_conf *c, const json_t *r, long i,
                     char *err, size_t errlen)
{
	static const char *const keys[] = {"id", "category", "kind", "weight", "patterns"};
	char where[512];
	const char *key;
	json_t *v;

	wd_conf_where(c, r, where, sizeof where);
	if (!json_is_object(r))
		return rule_err(err, errlen, where, i, "",
		                "must be a mapping {id, category, kind, weight, patterns}");
	json_object_foreach((json_t *)r, key, v)
	{
		size_t k = 0;
		while (k < sizeof keys / sizeof keys[0] && strcmp(keys[k], key) != 0)
			k++;
		if (k == sizeof keys / sizeof keys[0]) {
			char sub[160], kw[512];
			snprintf(sub, sizeof sub, ".%s", key);
			wd_conf_where_key(c, r, key, kw, sizeof kw);
			return rule_err(
			    err, errlen, kw, i, sub,
			    "unknown key (known: id, category, kind, weight, patterns)");
		}
	}
	const json_t *id = json_object_get(r, "id"), *cat = json_object_get(r, "category");
	const json_t *kind = json_object_get(r, "kind"), *w = json_object_get(r, "weight");
	const json_t *pats = json_object_get(r, "patterns");
	if (!json_is_string(id) || !json_string_length(id))
		return rule_err(err, errlen, where, i, ".id", "a non-empty string is required");
	for (size_t k = 0; k < m->nrules; k++) {
		if (strcmp(m->rules[k].id, json_string_value(id)) == 0) {
			char what[256];
			snprintf(what, sizeof what, "duplicate rule id \"%s\"",
			         json_string_value(id));
			wd_conf_where(c, id, where, sizeof where);
			return rule_err(err, errlen, where, i, ".id", what);
		}
	}
	size_t nk = sizeof kind_names / sizeof kind_names[0], k = 0;
	while (json_is_string(kind) && k < nk &&
	       strcmp(kind_names[k], json_string_value(kind)) != 0)
		k++;
	if (!json_is_string(kind) || k == nk) {
		if (kind)
			wd_conf_where_key(c, r, "kind", where, sizeof where);
		return rule_err(err, errlen, where, i, ".kind",
		                "must be intent, topic, context, jailbreak or injection");
	}
	int any = json_is_string(cat) && strcmp(json_string_value(cat), "any") == 0;
	if (!json_is_string(cat) || (any && k != WD_RULE_CONTEXT) ||
	    (!any && !wd_category_find(json_string_value(cat)))) {
		char what[256];
		snprintf(what, sizeof what,
		         "unknown category \"%s\" (a taxonomy id such as S9 or jailbreak.roleplay; "
		         "\"any\" only for context rules)",
		         json_is_string(cat) ? json_string_value(cat) : "");
		if (cat)
			wd_conf_where_key(c, r, "category", where, sizeof where);
		return rule_err(err, errlen, where, i, ".category", what);
	}
	if (!json_is_number(w)) {
		if (w)
			wd_conf_where_key(c, r, "weight", where, sizeof where);
		return rule_err(err, errlen, where, i, ".weight", "must be a number");
	}
	if (!json_is_array(pats) || !json_array_size(pats)) {
		if (pats)
			wd_conf_where_key(c, r, "patterns", where, sizeof where);
		return rule_err(err, errlen, where, i, ".patterns",
		                "a non-empty list of regular expressions is required");
	}

	if (m->nrules == m->caprules) {
		size_t cap = m->caprules ? 2 * m->caprules : 32;
		struct wd_rule *g = realloc(m->rules, cap * sizeof *g);
		if (!g)
			return WD_ENOMEM;
		m->rules = g;
		m->caprules = cap;
	}
	struct wd_rule *rule = &m->rules[m->nrules];
	*rule = (struct wd_rule){.kind = (enum wd_rule_kind)k, .weight = json_number_value(w)};
	rule->id = strdup(json_string_value(id));
	rule->category = strdup(json_string_value(cat));
	m->nrules++; /* freed with m from here on */
	if (!rule->id || !rule->category)
		return WD_ENOMEM;

	for (size_t p = 0; p < json_array_size(pats); p++) {
		const json_t *re = json_array_get(pats, p);
		char sub[64];
		snprintf(sub, sizeof sub, ".patterns[%zu]", p);
		wd_conf_where(c, re, where, sizeof where);
		if (!json_is_string(re) || !json_string_length(re))
			return rule_err(err, errlen, where, i, sub, "must be a non-empty string");
		hs_expr_info_t *info = NULL;
		hs_compile_error_t *ce = NULL;
		if (hs_expression_info(json_string_value(re), HS_FLAGS, &info, &ce) != HS_SUCCESS) {
			int rc = rule_err(err, errlen, where, i, sub, ce->message);
			hs_free_compile_error(ce);
			return rc;
		}
		int empty = info->min_width == 0;
		free(info);
		if (empty)
			return rule_err(err, errlen, where, i, sub, "matches the empty string");
		if (!(m->kinds & (1u << rule->kind)) ||
		    ((m->kinds & WD_RULE_STRONG_ONLY) && rule->weight < WD_RULE_STRONG_WEIGHT))
			continue; /* checked, not compiled */
		int rc = add_pattern(m, json_string_value(re), m->nrules - 1);
		if (rc)
			return rc;
	}
	return WD_OK;
}

static int load_file(struct wd_matcher *m, const char *path, char *err, size_t errlen)
{
	struct wd_conf *c = NULL;
	int rc = wd_conf_load(path, &c, err, errlen);
	if (rc)
		return rc;
	const json_t *root = wd_conf_root(c), *rules = root;
	char where[512];
	wd_conf_where(c, root, where, sizeof where);
	if (json_is_object(root)) {
		const char *key;
		json_t *v;
		json_object_foreach((json_t *)root, key, v)
		{
			if (strcmp(key, "rules") != 0) {
				char what[256];
				wd_conf_where_key(c, root, key, where, sizeof where);
				snprintf(what, sizeof what, "%s: unknown key (known: rules)", key);
				rc = rule_err(err, errlen, where, -1, NULL, what);
				goto out;
			}
		}
		rules = json_object_get(root, "rules");
	}
	if (!json_is_array(rules)) {
		rc = rule_err(err, errlen, where, -1, NULL, "rules: a list of rules is required");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(rules); i++) {
		rc = load_rule(m, c, json_array_get(rules, i), (long)i, err, errlen);
		if (rc)
			goto out;
	}
out:
	if (rc == WD_ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	wd_conf_free(c);
	return rc;
}

static int compile(struct wd_matcher *m, char *err, size_t errlen)
{
	if (!m->npats) {
		char names[64] = "";
		for (unsigned k = 0; k < sizeof kind_names / sizeof kind_names[0]; k++)
			if (m->kinds & (1u << k))
				snprintf(names + strlen(names), sizeof names - strlen(names),
				         "%s%s", names[0] ? ", " : "", kind_names[k]);
		snprintf(err, errlen, "rules: no patterns loaded of the kinds wanted (%s%s)", names,
		         m->kinds & WD_RULE_STRONG_ONLY ? "; strong rules only" : "");
		return WD_EINVAL;
	}
	unsigned *flags = malloc(m->npats * sizeof *flags), *ids = malloc(m->npats * sizeof *ids);
	int rc = WD_ENOMEM;
	if (!flags || !ids)
		goto out;
	for (size_t i = 0; i < m->npats; i++) {
		flags[i] = HS_FLAGS;
		ids[i] = (unsigned)i;
	}
	hs_compile_error_t *ce = NULL;
	if (wd_dbcache_compile((const char *const *)m->exprs, flags, ids, (unsigned)m->npats,
	                       HS_MODE_BLOCK, &m->db, &ce, &m->cached) != HS_SUCCESS) {
		/* each pattern compiled alone already; this is a resource limit of the whole set */
		snprintf(err, errlen, "rules: compiling %zu patterns failed: %s", m->npats,
		         ce ? ce->message : "?");
		hs_free_compile_error(ce);
		rc = WD_EINVAL;
		goto out;
	}
	m->serial = wd_hs_serial();
	for (size_t i = 0; i < m->npats; i++) {
		free(m->exprs[i]);
		m->exprs[i] = NULL;
	}
	m->npats = 0; /* the table pat_rule stays; exprs are no longer needed */
	rc = WD_OK;
out:
	free(flags);
	free(ids);
	return rc;
}

int wd_matcher_load(const char *const *paths, size_t n, unsigned kinds, struct wd_matcher **out,
                    char *err, size_t errlen)
{
	struct wd_matcher *m = calloc(1, sizeof *m);
	int rc = WD_ENOMEM;
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!m)
		goto out;
	m->kinds = kinds;
	for (size_t i = 0; i < n; i++) {
		rc = load_file(m, paths[i], err, errlen);
		if (rc)
			goto out;
	}
	rc = compile(m, err, errlen);
out:
	if (rc) {
		if (rc == WD_ENOMEM && err && !err[0])
			snprintf(err, errlen, "rules: out of memory");
		wd_matcher_free(m);
		return rc;
	}
	*out = m;
	return WD_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_yaml(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && ((n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	                          (n > 4 && strcmp(name + n - 4, ".yml") == 0));
}

int wd_matcher_load_dir(const char *dir, unsigned kinds, struct wd_matcher **out, char *err,
                        size_t errlen)
{
	char **paths = NULL;
	size_t n = 0, cap = 0;
	int rc = WD_ENOMEM;
	*out = NULL;
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "%s: cannot open rule directory", dir);
		return WD_EIO;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!is_yaml(e->d_name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			char **g = realloc(paths, cap * sizeof *g);
			if (!g)
				goto out;
			paths = g;
		}
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		paths[n] = malloc(len);
		if (!paths[n])
			goto out;
		snprintf(paths[n], len, "%s/%s", dir, e->d_name);
		n++;
	}
	if (!n) {
		snprintf(err, errlen, "%s: no *.yaml rule files", dir);
		rc = WD_EINVAL;
		goto out;
	}
	qsort(paths, n, sizeof *paths, cmp_str);
	rc = wd_matcher_load((const char *const *)paths, n, kinds, out, err, errlen);
out:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	if (rc == WD_ENOMEM && !err[0])
		snprintf(err, errlen, "%s: out of memory", dir);
	return rc;
}

int wd_matcher_cached(const struct wd_matcher *m)
{
	return m->cached;
}

size_t wd_matcher_rule_count(const struct wd_matcher *m)
{
	return m ? m->nrules : 0;
}

const struct wd_rule *wd_matcher_rule(const struct wd_matcher *m, size_t i)
{
	return m && i < m->nrules ? &m->rules[i] : NULL;
}

/* ---- scanning */

struct scan {
	const struct wd_matcher *m;
	struct wd_rule_hit *hits;
	size_t max, n;
};

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx)
{
	struct scan *s = ctx;
	const struct wd_rule *r = &s->m->rules[s->m->pat_rule[id]];
	for (size_t i = 0; i < s->n; i++) {
		if (s->hits[i].rule == r) /* another pattern of a rule already seen */
			return 0;
	}
	if (s->n < s->max)
		s->hits[s->n++] = (struct wd_rule_hit){r, (size_t)to};
	return 0;
}

int wd_matcher_scan(const struct wd_matcher *m, const char *text, size_t len,
                    struct wd_rule_hit *hits, size_t max, size_t *n)
{
	struct scan s = {m, hits, max, 0};
	*n = 0;
	if (len > UINT_MAX)
		len = UINT_MAX; /* vectorscan's limit; 4 GiB of prompt never reaches here */
	hs_scratch_t *sc = wd_hs_scratch(m->db, m->serial);
	if (!sc)
		return WD_ENOMEM;
	hs_error_t e = hs_scan(m->db, text ? text : "", (unsigned)len, 0, sc, on_match, &s);
	*n = s.n;
	return e == HS_SUCCESS ? WD_OK : WD_EIO;
}

void wd_matcher_evidence(const struct wd_rule_hit *hits, size_t n, struct wd_category_evidence *ev,
                         size_t max, size_t *nev)
{
	size_t k = 0;
	double any_context = 0;
	for (size_t i = 0; i < n; i++) {
		const struct wd_rule *r = hits[i].rule;
		if (strcmp(r->category, "any") == 0) {
			any_context += r->weight;
			continue;
		}
		size_t j = 0;
		while (j < k && strcmp(ev[j].category, r->category) != 0)
			j++;
		if (j == k) {
			if (k == max)
				continue;
			ev[k++] = (struct wd_category_evidence){.category = r->category};
		}
		struct wd_category_evidence *e = &ev[j];
		switch (r->kind) {
		case WD_RULE_INTENT: e->intent += r->weight; break;
		case WD_RULE_TOPIC: e->topic += r->weight; break;
		case WD_RULE_CONTEXT: e->context += r->weight; break;
		case WD_RULE_JAILBREAK: e->jailbreak += r->weight; break;
		case WD_RULE_INJECTION: e->injection += r->weight; break;
		}
		if (r->weight > 0 && (!e->strongest || r->weight > e->strongest->weight))
			e->strongest = r;
		e->nhits++;
	}
	for (size_t j = 0; j < k; j++) {
		ev[j].context += any_context;
		ev[j].score =
		    ev[j].intent + ev[j].topic + ev[j].context + ev[j].jailbreak + ev[j].injection;
	}
	*nev = k;
}
