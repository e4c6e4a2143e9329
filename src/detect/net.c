/* net.c — a one-hidden-layer network over hashed features; see net.h. */
#include "detect/net.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define MAGIC      "warden-net 1"
#define MAX_HIDDEN 64
#define BATCH      128
#define LEARN_RATE 1e-3
#define BETA1      0.9
#define BETA2      0.999
#define ADAM_EPS   1e-8

struct wd_net {
	char *names[2];
	struct wd_linear *hidden; /* H classes: the hidden units' weights and biases */
	size_t h;
	double b;             /* the output's bias */
	double v[MAX_HIDDEN]; /* and its weight on each hidden unit */
};

void wd_net_free(struct wd_net *n)
{
	if (!n)
		return;
	free(n->names[0]);
	free(n->names[1]);
	wd_linear_free(n->hidden);
	free(n);
}

const char *wd_net_class(const struct wd_net *n, size_t i)
{
	return i < 2 ? n->names[i] : NULL;
}

unsigned wd_net_features(const struct wd_net *n)
{
	return wd_linear_features(n->hidden);
}

static double output(const struct wd_net *n, const double *margin)
{
	double z = n->b;
	for (size_t j = 0; j < n->h; j++)
		z += n->v[j] * (margin[j] > 0 ? margin[j] : 0);
	return 1.0 / (1.0 + exp(-z));
}

int wd_net_predict_keys(const struct wd_net *n, struct wd_feature_keys *k, double *p)
{
	double margin[MAX_HIDDEN];
	int rc = wd_linear_margins_keys(n->hidden, k, margin);
	if (rc == WD_OK)
		*p = output(n, margin);
	return rc;
}

/* ---- file ---- */

int wd_net_save(const struct wd_net *n, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "wb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return WD_EIO;
	}
	fprintf(fp, MAGIC "\nclasses %s %s\noutput %.9g", n->names[0], n->names[1], n->b);
	for (size_t j = 0; j < n->h; j++)
		fprintf(fp, " %.9g", n->v[j]);
	fputc('\n', fp);
	int rc = wd_linear_write(n->hidden, fp);
	if (fclose(fp) != 0)
		rc = WD_EIO;
	if (rc)
		snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
	return rc;
}

/* One header line into line (without its newline); 0, or -1 for none or one too long. */
static int read_line(FILE *fp, char *line, size_t size)
{
	if (!fgets(line, (int)size, fp))
		return -1;
	size_t len = strlen(line);
	if (len == 0 || line[len - 1] != '\n')
		return -1;
	line[len - 1] = '\0';
	return 0;
}

/* The output line's numbers: "output B V0 V1 ..."; returns how many, or -1. */
static int parse_output(char *s, double *out, size_t max)
{
	if (strncmp(s, "output ", 7) != 0)
		return -1;
	s += 7;
	size_t n = 0;
	while (*s) {
		char *end;
		errno = 0;
		double x = strtod(s, &end);
		if (end == s || errno || !isfinite(x) || n == max || (*end && *end != ' '))
			return -1;
		out[n++] = x;
		s = *end ? end + 1 : end;
	}
	return (int)n;
}

int wd_net_load(const char *path, struct wd_net **out, char *err, size_t errlen)
{
	*out = NULL;
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return WD_EIO;
	}
	int rc = WD_EINVAL;
	char line[(MAX_HIDDEN + 1) * 32 + 16], a[64], b[64];
	double nums[MAX_HIDDEN + 1];
	int nn = 0;
	struct wd_net *n = calloc(1, sizeof *n);
	if (!n) {
		rc = WD_ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if (read_line(fp, line, sizeof line) || strcmp(line, MAGIC) != 0) {
		snprintf(err, errlen, "%s: not a warden network (want \"%s\")", path, MAGIC);
		goto out;
	}
	if (read_line(fp, line, sizeof line) || sscanf(line, "classes %63s %63s", a, b) != 2) {
		snprintf(err, errlen, "%s: line 2: want \"classes A B\"", path);
		goto out;
	}
	if (read_line(fp, line, sizeof line) ||
	    (nn = parse_output(line, nums, MAX_HIDDEN + 1)) < 2) {
		snprintf(err, errlen, "%s: line 3: want \"output B V0 ... \" (1 to %d weights)",
		         path, MAX_HIDDEN);
		goto out;
	}
	rc = wd_linear_read(fp, path, 3, &n->hidden, err, errlen);
	if (rc)
		goto out;
	rc = WD_EINVAL;
	n->h = (size_t)nn - 1;
	if (wd_linear_nclass(n->hidden) != n->h) {
		snprintf(err, errlen, "%s: %zu output weights for %zu hidden units", path, n->h,
		         wd_linear_nclass(n->hidden));
		goto out;
	}
	if (fgetc(fp) != EOF) {
		snprintf(err, errlen, "%s: trailing bytes after the last weight", path);
		goto out;
	}
	n->b = nums[0];
	memcpy(n->v, nums + 1, n->h * sizeof *n->v);
	n->names[0] = strdup(a);
	n->names[1] = strdup(b);
	if (!n->names[0] || !n->names[1]) {
		rc = WD_ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	*out = n;
	n = NULL;
	rc = WD_OK;
out:
	fclose(fp);
	wd_net_free(n);
	return rc;
}

/* ---- training ---- */

/* splitmix64: the initial weights and the order of the examples, from a fixed seed */
static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static double uniform(uint64_t *s, double a) /* in [-a, a) */
{
	return a * (2.0 * (double)(next_u64(s) >> 11) / 9007199254740992.0 - 1.0);
}

/* An example's features as (row, value) pairs of the vocabulary. */
struct sample {
	const uint32_t *row;
	const float *val;
	size_t n;
	int y;
	double weight;
};

/* The parameters, as one vector (W row-major V x H, b1 H, v H, b2 1), with Adam's moments. */
struct params {
	size_t nv, h, count;
	double *x, *grad, *m, *s;
};

static double *w_at(struct params *p, size_t row)
{
	return p->x + row * p->h;
}

/* Adds one example's gradient (its weight times d log loss / d params) to p->grad. */
static void backprop(struct params *p, const struct sample *e)
{
	size_t h = p->h;
	double pre[MAX_HIDDEN], *b1 = p->x + p->nv * h, *v = b1 + h, b2 = v[h];
	for (size_t j = 0; j < h; j++)
		pre[j] = b1[j];
	for (size_t i = 0; i < e->n; i++) {
		const double *w = w_at(p, e->row[i]);
		for (size_t j = 0; j < h; j++)
			pre[j] += e->val[i] * w[j];
	}
	double z = b2;
	for (size_t j = 0; j < h; j++)
		z += v[j] * (pre[j] > 0 ? pre[j] : 0);
	double prob = 1.0 / (1.0 + exp(-z));
	double dz = e->weight * (prob - e->y);
	double *gb1 = p->grad + p->nv * h, *gv = gb1 + h;
	gv[h] += dz;
	for (size_t j = 0; j < h; j++) {
		double a = pre[j] > 0 ? pre[j] : 0;
		gv[j] += dz * a;
		double dh = pre[j] > 0 ? dz * v[j] : 0;
		gb1[j] += dh;
		if (dh != 0)
			for (size_t i = 0; i < e->n; i++)
				p->grad[e->row[i] * h + j] += e->val[i] * dh;
	}
}

/* One Adam step from the gradient of a batch of size m (the L2 penalty on W alone), step t. */
static void adam(struct params *p, size_t m, double alpha, unsigned long t)
{
	size_t nw = p->nv * p->h;
	double rate = LEARN_RATE * sqrt(1 - pow(BETA2, (double)t)) / (1 - pow(BETA1, (double)t));
	for (size_t i = 0; i < p->count; i++) {
		double g = (p->grad[i] + (i < nw ? alpha * p->x[i] : 0)) / (double)m;
		p->m[i] = BETA1 * p->m[i] + (1 - BETA1) * g;
		p->s[i] = BETA2 * p->s[i] + (1 - BETA2) * g * g;
		p->x[i] -= rate * p->m[i] / (sqrt(p->s[i]) + ADAM_EPS);
		p->grad[i] = 0;
	}
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The vocabulary: keys in at least two examples, the vocab most common (ties: lower key), in
 * key order, into *keys, and the examples each is in into *dfs; row_of[key] = its row or -1.
 * Returns how many, or -1 (no memory). */
static long choose_vocab(const struct wd_train_example *ex, size_t n, size_t vocab, int32_t *row_of,
                         uint32_t **keys, uint32_t **dfs)
{
	uint32_t *df = calloc(WD_FEATURE_DIM, sizeof *df);
	uint64_t *cand = NULL;
	uint32_t *chosen = NULL, *chosen_df = NULL;
	long nk = -1;
	if (!df)
		return -1;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < ex[i].f.n; j++)
			df[ex[i].f.idx[j]]++;
	size_t nc = 0;
	for (uint32_t k = 0; k < WD_FEATURE_DIM; k++)
		nc += df[k] >= 2;
	cand = malloc((nc ? nc : 1) * sizeof *cand);
	chosen = malloc((nc ? nc : 1) * sizeof *chosen);
	chosen_df = malloc((nc ? nc : 1) * sizeof *chosen_df);
	if (!cand || !chosen || !chosen_df)
		goto out;
	/* most examples first, then lower key: (UINT32_MAX - df, key) in ascending order */
	nc = 0;
	for (uint32_t k = 0; k < WD_FEATURE_DIM; k++)
		if (df[k] >= 2)
			cand[nc++] = (uint64_t)(UINT32_MAX - df[k]) << 32 | k;
	qsort(cand, nc, sizeof *cand, u64_cmp);
	if (nc > vocab)
		nc = vocab;
	for (uint32_t k = 0; k < WD_FEATURE_DIM; k++)
		row_of[k] = -1;
	for (size_t i = 0; i < nc; i++)
		row_of[(uint32_t)cand[i]] = 0;
	nk = 0; /* rows in key order */
	for (uint32_t k = 0; k < WD_FEATURE_DIM; k++)
		if (row_of[k] == 0) {
			row_of[k] = (int32_t)nk;
			chosen_df[nk] = df[k];
			chosen[nk++] = k;
		}
	*keys = chosen;
	*dfs = chosen_df;
	chosen = chosen_df = NULL;
out:
	free(df);
	free(cand);
	free(chosen);
	free(chosen_df);
	return nk;
}

int wd_net_train(const struct wd_train_example *ex, size_t n, const char *const classes[2],
                 const struct wd_net_opts *o, struct wd_net **out, char *err, size_t errlen)
{
	size_t h = o->hidden ? o->hidden : 8, vocab = o->vocab ? o->vocab : 30000;
	unsigned epochs = o->epochs ? o->epochs : 2;
	double alpha = o->alpha > 0 ? o->alpha : 1e-3;
	*out = NULL;
	if (h > MAX_HIDDEN) {
		snprintf(err, errlen, "at most %d hidden units, not %zu", MAX_HIDDEN, h);
		return WD_EINVAL;
	}
	size_t count[2] = {0, 0};
	for (size_t i = 0; i < n; i++) {
		if (ex[i].label != 0 && ex[i].label != 1) {
			snprintf(err, errlen, "example %zu: label %d (a network has two classes)",
			         i, ex[i].label);
			return WD_EINVAL;
		}
		if (ex[i].weight != 0.0 && ex[i].weight != 1.0) {
			snprintf(err, errlen,
			         "example %zu: instance weight %g (only 1 is supported)", i,
			         ex[i].weight);
			return WD_EINVAL;
		}
		count[ex[i].label]++;
	}
	if (!count[0] || !count[1]) {
		snprintf(err, errlen, "class \"%s\" has no examples", classes[count[0] ? 1 : 0]);
		return WD_EINVAL;
	}
	int rc = WD_ENOMEM;
	int32_t *row_of = malloc(WD_FEATURE_DIM * sizeof *row_of);
	uint32_t *keys = NULL, *dfs = NULL, *rows = NULL;
	float *vals = NULL, *wf = NULL;
	double *idf = NULL;
	struct sample *s = NULL;
	size_t *order = NULL;
	struct params p = {0};
	struct wd_net *net = NULL;
	long nv = row_of ? choose_vocab(ex, n, vocab, row_of, &keys, &dfs) : -1;
	if (nv < 0)
		goto out;
	/* each example's features in the vocabulary, as (row, value) */
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += ex[i].f.n;
	rows = malloc((total ? total : 1) * sizeof *rows);
	vals = malloc((total ? total : 1) * sizeof *vals);
	s = calloc(n ? n : 1, sizeof *s);
	order = malloc((n ? n : 1) * sizeof *order);
	p = (struct params){.nv = (size_t)nv, .h = h, .count = (size_t)nv * h + 2 * h + 1};
	p.x = calloc(p.count, sizeof *p.x);
	p.grad = calloc(p.count, sizeof *p.grad);
	p.m = calloc(p.count, sizeof *p.m);
	p.s = calloc(p.count, sizeof *p.s);
	if (!rows || !vals || !s || !order || !p.x || !p.grad || !p.m || !p.s)
		goto out;
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		s[i] = (struct sample){rows + at, vals + at, 0, ex[i].label, 1.0};
		if (o->balance)
			s[i].weight = (double)n / (2.0 * (double)count[ex[i].label]);
		for (size_t j = 0; j < ex[i].f.n; j++) {
			int32_t r = row_of[ex[i].f.idx[j]];
			if (r >= 0) {
				rows[at] = (uint32_t)r;
				vals[at++] = ex[i].f.val[j];
				s[i].n++;
			}
		}
		order[i] = i;
	}
	/* inverse document frequency: a key in fewer examples weighs more while the network
	 * learns (each row's weights are multiplied by it when saved, so a text's inputs stay the
	 * linear model's) */
	idf = calloc(p.nv ? p.nv : 1, sizeof *idf);
	if (!idf)
		goto out;
	for (size_t r = 0; r < p.nv; r++)
		idf[r] = log((1.0 + (double)n) / (1.0 + dfs[r])) + 1;
	for (size_t i = 0; i < at; i++)
		vals[i] = (float)(vals[i] * idf[rows[i]]);
	/* Glorot's uniform initialisation, as for a ReLU layer */
	uint64_t seed = 1;
	double a1 = sqrt(6.0 / (double)(p.nv + h)), a2 = sqrt(6.0 / (double)(h + 1));
	for (size_t i = 0; i < p.nv * h + h; i++)
		p.x[i] = uniform(&seed, a1);
	for (size_t i = p.nv * h + h; i < p.count; i++)
		p.x[i] = uniform(&seed, a2);
	unsigned long step = 0;
	for (unsigned e = 0; e < epochs; e++) {
		for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
			size_t j = (size_t)(next_u64(&seed) % i), t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		for (size_t b = 0; b < n; b += BATCH) {
			size_t m = n - b < BATCH ? n - b : BATCH;
			for (size_t i = 0; i < m; i++)
				backprop(&p, &s[order[b + i]]);
			adam(&p, m, alpha, ++step);
		}
	}
	/* the hidden layer as a linear model of h classes h0, h1, ... */
	char names[MAX_HIDDEN][8];
	const char *np[MAX_HIDDEN];
	double b1[MAX_HIDDEN];
	wf = malloc((p.nv ? p.nv * h : 1) * sizeof *wf);
	net = calloc(1, sizeof *net);
	if (!wf || !net)
		goto out;
	for (size_t j = 0; j < h; j++) {
		snprintf(names[j], sizeof names[j], "h%zu", j);
		np[j] = names[j];
		b1[j] = wd_round9(p.x[p.nv * h + j]);
		net->v[j] = wd_round9(p.x[p.nv * h + h + j]);
	}
	for (size_t i = 0; i < p.nv * h; i++)
		wf[i] = (float)(p.x[i] * idf[i / h]);
	net->h = h;
	net->b = wd_round9(p.x[p.count - 1]);
	rc = wd_linear_make(h, np, b1, keys, wf, p.nv, o->features, &net->hidden);
	if (rc)
		goto out;
	net->names[0] = strdup(classes[0]);
	net->names[1] = strdup(classes[1]);
	if (!net->names[0] || !net->names[1]) {
		rc = WD_ENOMEM;
		goto out;
	}
	*out = net;
	net = NULL;
	rc = WD_OK;
out:
	if (rc == WD_ENOMEM)
		snprintf(err, errlen, "out of memory");
	free(row_of);
	free(keys);
	free(dfs);
	free(rows);
	free(vals);
	free(wf);
	free(idf);
	free(s);
	free(order);
	free(p.x);
	free(p.grad);
	free(p.m);
	free(p.s);
	wd_net_free(net);
	return rc;
}
