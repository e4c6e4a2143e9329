/* linear.c — one-vs-rest linear classifiers over hashed features: the model file (see linear.h),
 * prediction, and training through liblinear.
 *
 * In memory a model is the sorted union of the feature indices any class weighs and a row of k
 * float weights per index (built at load time; the file is as it always was). Prediction finds a
 * feature's row through a bitmap of the weighed indices (WD_FEATURE_DIM bits) and, per 64-bit
 * word of it, the number of rows before that word: row = rank[i / 64] + popcount(bits below i).
 * That is two loads and no branch per feature (many features of a text have no weight, and a
 * branch on "found", as a hash probe has, mispredicts on about every other one); the 192 KB of
 * bitmap and ranks stay in L2 (sorted features read them front to back), and before them an 8 KB
 * filter (the bitmap folded) turns away most of the weightless features from L1. The weights of
 * the features found are then summed in feature order, as a plain loop would: the same bits.
 * From a text's keys (wd_linear_predict_keys), unsorted, the rows found are counted in a tally of
 * the model's rows (a few KB), which is what sorting all of the text's keys was for, and summed
 * in the order they were first found. Weights are
 * float32 both in memory and on disk and the bias is rounded to its %.9g text at training time,
 * so a model that was saved and loaded again predicts bit for bit what the trained one did. */
#include "detect/linear.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linear.h>

#include "core/err.h"

/* Version 3: bigrams and character n-grams hashed by 64-bit products, values scaled by 1 /
 * sqrt(raw keys) (detect/features.h); version 2 had FNV-hashed ones, L2-normalised, version 1
 * also character 5-grams. An older model's weights would be read against the wrong features. */
#define MAGIC        "warden-linear 3"
#define MAGIC_V1     "warden-linear 1"
#define MAGIC_V2     "warden-linear 2"
#define NAME_MAX_LEN 63
#define MAX_CLASSES  256
#define W_EPS        1e-7

struct wd_linear;
/* A model's rows for a run of feature indices (lookup_body, below). */
typedef size_t lookup_fn(const struct wd_linear *, const uint32_t *, size_t, size_t, uint32_t *,
                         uint32_t *);

struct wd_linear {
	size_t k;
	unsigned features; /* WD_FEATURES_* the model was trained with */
	char **names;
	double *bias;     /* k */
	size_t nu;        /* feature indices with a weight in some class */
	uint32_t *key;    /* nu, sorted */
	float *w;         /* nu * k, row-major: w[row * k + class] */
	uint64_t *bits;   /* BITMAP_WORDS: bit i set when index i has a row */
	uint32_t *rank;   /* BITMAP_WORDS: rows of the indices below 64 * word */
	uint64_t *filter; /* FILTER_WORDS: bit j set when an index with a row has low bits j */
	lookup_fn *lookup;
};

#define BITMAP_WORDS (WD_FEATURE_DIM / 64)
_Static_assert(WD_FEATURE_DIM % 64 == 0, "the bitmap is whole 64-bit words");
#define BATCH 256 /* features looked up before their weights are added */
/* The bitmap folded to 64 Kbit (8 KB, which stays in L1): a model weighs a few thousand of the
 * 1 M indices, so for most features this bit alone says "no weight", and only the few that pass
 * it read the 192 KB of bitmap and ranks. */
#define FILTER_BITS  16
#define FILTER_WORDS ((1u << FILTER_BITS) / 64)
#define FILTER_MASK  ((1u << FILTER_BITS) - 1)

/* Bits set in x, without the popcnt instruction (the build does not assume it). */
static inline unsigned popcount_soft(uint64_t x)
{
	x -= (x >> 1) & 0x5555555555555555ull;
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

static inline unsigned popcount64(uint64_t x)
{
#if defined(__POPCNT__) || !defined(__x86_64__)
	return (unsigned)__builtin_popcountll(x);
#else
	return popcount_soft(x);
#endif
}

static int build_index(struct wd_linear *m)
{
	m->bits = calloc(BITMAP_WORDS, sizeof *m->bits);
	m->rank = malloc(BITMAP_WORDS * sizeof *m->rank);
	m->filter = calloc(FILTER_WORDS, sizeof *m->filter);
	if (!m->bits || !m->rank || !m->filter)
		return WD_ENOMEM;
	for (size_t r = 0; r < m->nu; r++) {
		m->bits[m->key[r] / 64] |= 1ull << (m->key[r] % 64);
		m->filter[(m->key[r] & FILTER_MASK) / 64] |= 1ull << (m->key[r] % 64);
	}
	uint32_t before = 0;
	for (size_t w = 0; w < BITMAP_WORDS; w++) {
		m->rank[w] = before;
		before += (uint32_t)popcount64(m->bits[w]);
	}
	return WD_OK;
}

static struct wd_linear *model_new(size_t k)
{
	struct wd_linear *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->k = k;
	m->names = calloc(k, sizeof *m->names);
	m->bias = calloc(k, sizeof *m->bias);
	if (!m->names || !m->bias) {
		wd_linear_free(m);
		return NULL;
	}
	return m;
}

void wd_linear_free(struct wd_linear *m)
{
	if (!m)
		return;
	for (size_t i = 0; m->names && i < m->k; i++)
		free(m->names[i]);
	free(m->names);
	free(m->bias);
	free(m->key);
	free(m->w);
	free(m->bits);
	free(m->rank);
	free(m->filter);
	free(m);
}

unsigned wd_linear_features(const struct wd_linear *m)
{
	return m ? m->features : 0;
}

size_t wd_linear_nclass(const struct wd_linear *m)
{
	return m->k;
}

const char *wd_linear_class(const struct wd_linear *m, size_t i)
{
	return i < m->k ? m->names[i] : NULL;
}

int wd_linear_find(const struct wd_linear *m, const char *name)
{
	for (size_t i = 0; i < m->k; i++)
		if (strcmp(m->names[i], name) == 0)
			return (int)i;
	return -1;
}

/* Looks up idx[from..to): the rows of the indices that have one, in order, into rows, and their
 * positions in idx into pos (each with room for to - from); returns how many. Branch-free: every
 * index is written, and the count advances only past those found. hw: use
 * __builtin_popcountll (only where the popcnt instruction is known to be there, else it is a
 * library call). */
static inline __attribute__((always_inline)) size_t lookup_body(const struct wd_linear *m,
                                                                const uint32_t *idx, size_t from,
                                                                size_t to, uint32_t *rows,
                                                                uint32_t *pos, int hw)
{
	/* the indices that pass the filter, then their rows; neither loop branches on a result */
	uint32_t cand[BATCH];
	size_t nc = 0;
	for (size_t j = from; j < to; j++) {
		uint32_t i = idx[j] & FILTER_MASK;
		cand[nc] = (uint32_t)j;
		nc += (m->filter[i / 64] >> (i % 64)) & 1;
	}
	size_t nh = 0;
	for (size_t c = 0; c < nc; c++) {
		size_t j = cand[c];
		uint32_t i = idx[j] & (WD_FEATURE_DIM - 1);
		uint64_t word = m->bits[i / 64];
		unsigned sh = i % 64;
		uint64_t below = word & ((1ull << sh) - 1);
		unsigned n = hw ? (unsigned)__builtin_popcountll(below) : popcount64(below);
		rows[nh] = m->rank[i / 64] + n;
		pos[nh] = (uint32_t)j;
		/* an index out of range (against features.h) has no row, as it has no weight */
		nh += ((word >> sh) & 1) & (idx[j] < WD_FEATURE_DIM);
	}
	return nh;
}

static size_t lookup_generic(const struct wd_linear *m, const uint32_t *idx, size_t from, size_t to,
                             uint32_t *rows, uint32_t *pos)
{
	return lookup_body(m, idx, from, to, rows, pos, 0);
}

#if defined(__x86_64__) && !defined(__POPCNT__) && defined(__GNUC__)
/* The same with popcnt, chosen at run time on CPUs that have it (all x86-64 since ~2008). */
__attribute__((target("popcnt"))) static size_t lookup_popcnt(const struct wd_linear *m,
                                                              const uint32_t *idx, size_t from,
                                                              size_t to, uint32_t *rows,
                                                              uint32_t *pos)
{
	return lookup_body(m, idx, from, to, rows, pos, 1);
}

static lookup_fn *choose_lookup(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("popcnt") ? lookup_popcnt : lookup_generic;
}
#else
static lookup_fn *choose_lookup(void)
{
	return lookup_generic;
}
#endif

/* probs[c] += row c of the weights at rows[h] times vals[h], for each h in order. */
static void add_rows(const struct wd_linear *m, const uint32_t *rows, const float *vals, size_t nh,
                     double *probs)
{
	size_t k = m->k;
	if (k == 2) { /* the usual model (benign/harmful, benign/attack): unrolled */
		double p0 = probs[0], p1 = probs[1];
		for (size_t h = 0; h < nh; h++) {
			const float *row = m->w + (size_t)rows[h] * 2;
			double v = vals[h];
			p0 += (double)row[0] * v;
			p1 += (double)row[1] * v;
		}
		probs[0] = p0;
		probs[1] = p1;
		return;
	}
	if (k % 4 == 0) { /* a network's hidden layer (detect/net): four classes at a time */
		for (size_t h = 0; h < nh; h++) {
			const float *row = m->w + (size_t)rows[h] * k;
			double v = vals[h];
			for (size_t c = 0; c < k; c += 4)
				for (size_t j = 0; j < 4; j++)
					probs[c + j] += (double)row[c + j] * v;
		}
		return;
	}
	for (size_t h = 0; h < nh; h++) {
		const float *row = m->w + (size_t)rows[h] * k;
		double v = vals[h];
		for (size_t c = 0; c < k; c++)
			probs[c] += (double)row[c] * v;
	}
}

static void sigmoid_all(const struct wd_linear *m, double *probs)
{
	for (size_t c = 0; c < m->k; c++)
		probs[c] = 1.0 / (1.0 + exp(-probs[c]));
}

void wd_linear_predict(const struct wd_linear *m, const struct wd_features *f, double *probs)
{
	uint32_t rows[BATCH], pos[BATCH];
	float vals[BATCH];
	for (size_t c = 0; c < m->k; c++)
		probs[c] = m->bias[c];
	/* the sums run over the features in order, as a plain loop would: the same bits */
	for (size_t j = 0; j < f->n; j += BATCH) {
		size_t nh = m->lookup(m, f->idx, j, f->n - j < BATCH ? f->n : j + BATCH, rows, pos);
		for (size_t h = 0; h < nh; h++)
			vals[h] = f->val[pos[h]];
		add_rows(m, rows, vals, nh, probs);
	}
	sigmoid_all(m, probs);
}

int wd_linear_predict_keys(const struct wd_linear *m, struct wd_feature_keys *k, double *probs)
{
	int rc = wd_linear_margins_keys(m, k, probs);
	if (rc == WD_OK)
		sigmoid_all(m, probs);
	return rc;
}

int wd_linear_margins_keys(const struct wd_linear *m, struct wd_feature_keys *k, double *margins)
{
	if (m->nu > k->tally_cap) {
		uint32_t *t = realloc(k->tally, m->nu * sizeof *t);
		if (!t)
			return WD_ENOMEM;
		memset(t + k->tally_cap, 0, (m->nu - k->tally_cap) * sizeof *t);
		k->tally = t;
		k->tally_cap = m->nu;
	}
	const int lex = (m->features & WD_FEATURES_LEXICON) != 0;
	size_t n = k->ngrams + (lex ? k->lexicon : 0);
	/* the rows of the entries the model weighs; each row's count in the tally (entry e stands
	 * for 1 + more[e] keys), and the rows in the order they first occur (no branch: each is
	 * written, the position advances when its count was 0) */
	uint32_t *rows = k->scratch, *pos = k->scratch + k->cap, *first = k->scratch + 2 * k->cap;
	uint32_t *tally = k->tally;
	size_t nr = 0, u = 0;
	for (size_t j = 0; j < n; j += BATCH)
		nr += m->lookup(m, k->key, j, n - j < BATCH ? n : j + BATCH, rows + nr, pos + nr);
	for (size_t h = 0; h < nr; h++) {
		uint32_t r = rows[h];
		first[u] = r;
		u += tally[r] == 0;
		tally[r] += 1 + k->more[pos[h]];
	}
	n = k->ngram_keys + (lex ? k->lexicon : 0); /* the raw keys */
	float inv = wd_features_scale(n), vals[BATCH];
	for (size_t c = 0; c < m->k; c++)
		margins[c] = m->bias[c];
	for (size_t j = 0; j < u; j += BATCH) {
		size_t nh = u - j < BATCH ? u - j : BATCH;
		for (size_t h = 0; h < nh; h++) {
			uint32_t r = first[j + h];
			vals[h] = wd_features_tf(tally[r]) * inv;
			tally[r] = 0; /* zero again for the next prediction */
		}
		add_rows(m, first + j, vals, nh, margins);
	}
	return WD_OK;
}

/* A class name goes on a header line: non-empty, printable, no spaces. */
static int name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]))
			return 0;
	return 1;
}

static size_t class_nnz(const struct wd_linear *m, size_t c)
{
	size_t n = 0;
	for (size_t r = 0; r < m->nu; r++)
		n += m->w[r * m->k + c] != 0.0f;
	return n;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int wd_linear_save(const struct wd_linear *m, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "wb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return WD_EIO;
	}
	int rc = wd_linear_write(m, fp);
	if (fclose(fp) != 0)
		rc = WD_EIO;
	if (rc)
		snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
	return rc;
}

int wd_linear_write(const struct wd_linear *m, FILE *fp)
{
	fprintf(fp, MAGIC "\nbits %d%s\nclasses %zu\n", WD_FEATURE_BITS,
	        m->features & WD_FEATURES_LEXICON ? " lexicon" : "", m->k);
	for (size_t c = 0; c < m->k; c++)
		fprintf(fp, "%s %.9g %zu\n", m->names[c], m->bias[c], class_nnz(m, c));
	fputs("data\n", fp);
	for (size_t c = 0; c < m->k; c++) {
		for (size_t r = 0; r < m->nu; r++) {
			float w = m->w[r * m->k + c];
			if (w == 0.0f)
				continue;
			unsigned char rec[8];
			uint32_t bits;
			memcpy(&bits, &w, sizeof bits);
			put_u32(rec, m->key[r]);
			put_u32(rec + 4, bits);
			if (fwrite(rec, 1, sizeof rec, fp) != sizeof rec)
				return WD_EIO;
		}
	}
	return ferror(fp) ? WD_EIO : WD_OK;
}

/* Reads one header line (without its newline) into line; 0 at a clean line, -1 otherwise. */
static int read_line(FILE *fp, char *line, size_t n)
{
	if (!fgets(line, (int)n, fp))
		return -1;
	size_t len = strlen(line);
	if (len == 0 || line[len - 1] != '\n')
		return -1;
	line[len - 1] = '\0';
	return 0;
}

/* Parses a size_t in [0, max]; 0 on success. */
static int parse_size(const char *s, size_t max, size_t *out)
{
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = (size_t)v;
	return 0;
}

struct rec {
	uint32_t idx;
	uint32_t cls;
	float w;
};

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return x->cls < y->cls ? -1 : x->cls > y->cls;
}

/* Fills m's union rows from records (sorted here); m->k is set. */
static int fill_rows(struct wd_linear *m, struct rec *recs, size_t n)
{
	qsort(recs, n, sizeof *recs, rec_cmp);
	size_t nu = 0;
	for (size_t i = 0; i < n; i++)
		nu += i == 0 || recs[i].idx != recs[i - 1].idx;
	m->nu = nu;
	m->key = malloc((nu ? nu : 1) * sizeof *m->key);
	m->w = calloc((nu ? nu : 1) * m->k, sizeof *m->w);
	if (!m->key || !m->w)
		return WD_ENOMEM;
	size_t r = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && recs[i].idx != recs[i - 1].idx)
			r++;
		m->key[r] = recs[i].idx;
		m->w[r * m->k + recs[i].cls] = recs[i].w;
	}
	m->lookup = choose_lookup();
	return build_index(m);
}

int wd_linear_make(size_t k, const char *const *names, const double *bias, const uint32_t *keys,
                   const float *w, size_t nu, unsigned features, struct wd_linear **out)
{
	*out = NULL;
	if (k == 0 || k > MAX_CLASSES)
		return WD_EINVAL;
	for (size_t r = 0; r < nu; r++)
		if (keys[r] >= WD_FEATURE_DIM || (r > 0 && keys[r] <= keys[r - 1]))
			return WD_EINVAL;
	struct wd_linear *m = model_new(k);
	struct rec *recs = malloc((nu > 0 ? nu * k : 1) * sizeof *recs);
	int rc = WD_ENOMEM;
	if (!m || !recs)
		goto out;
	m->features = features;
	for (size_t c = 0; c < k; c++) {
		m->bias[c] = bias[c];
		if (!name_ok(names[c])) {
			rc = WD_EINVAL;
			goto out;
		}
		if (!(m->names[c] = strdup(names[c])))
			goto out;
	}
	size_t n = 0;
	for (size_t r = 0; r < nu; r++)
		for (size_t c = 0; c < k; c++)
			if (w[r * k + c] != 0.0f)
				recs[n++] = (struct rec){keys[r], (uint32_t)c, w[r * k + c]};
	rc = fill_rows(m, recs, n);
	if (rc == WD_OK) {
		*out = m;
		m = NULL;
	}
out:
	free(recs);
	wd_linear_free(m);
	return rc;
}

int wd_linear_load(const char *path, struct wd_linear **out, char *err, size_t errlen)
{
	*out = NULL;
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return WD_EIO;
	}
	int rc = wd_linear_read(fp, path, 0, out, err, errlen);
	if (rc == WD_OK && fgetc(fp) != EOF) {
		snprintf(err, errlen, "%s: trailing bytes after the last weight", path);
		wd_linear_free(*out);
		*out = NULL;
		rc = WD_EINVAL;
	}
	fclose(fp);
	return rc;
}

int wd_linear_read(FILE *fp, const char *path, size_t line0, struct wd_linear **out, char *err,
                   size_t errlen)
{
	int rc = WD_EINVAL;
	struct wd_linear *m = NULL;
	struct rec *recs = NULL;
	size_t *nnz = NULL;
	char line[256] = "";
	*out = NULL;
	if (read_line(fp, line, sizeof line) || strcmp(line, MAGIC) != 0) {
		if (strcmp(line, MAGIC_V1) == 0 || strcmp(line, MAGIC_V2) == 0)
			snprintf(err, errlen,
			         "%s: a model for an older feature set (\"%s\"): train it again "
			         "with this warden's `warden train`",
			         path, line);
		else
			snprintf(err, errlen, "%s: not a warden linear model (want \"%s\")", path,
			         MAGIC);
		goto out;
	}
	size_t bits, k;
	unsigned features = 0;
	if (read_line(fp, line, sizeof line) || strncmp(line, "bits ", 5) != 0) {
		snprintf(err, errlen, "%s: line %zu: want \"bits N [lexicon]\"", path, line0 + 2);
		goto out;
	}
	char *opt = strchr(line + 5, ' ');
	if (opt) {
		*opt++ = '\0';
		if (strcmp(opt, "lexicon") != 0) {
			snprintf(err, errlen, "%s: line %zu: unknown feature set \"%.40s\"", path,
			         line0 + 2, opt);
			goto out;
		}
		features = WD_FEATURES_LEXICON;
	}
	if (parse_size(line + 5, 64, &bits)) {
		snprintf(err, errlen, "%s: line %zu: want \"bits N [lexicon]\"", path, line0 + 2);
		goto out;
	}
	if (bits != WD_FEATURE_BITS) {
		snprintf(err, errlen, "%s: model has %zu feature bits, this warden uses %d", path,
		         bits, WD_FEATURE_BITS);
		goto out;
	}
	if (read_line(fp, line, sizeof line) || strncmp(line, "classes ", 8) != 0 ||
	    parse_size(line + 8, MAX_CLASSES, &k) || k == 0) {
		snprintf(err, errlen, "%s: line %zu: want \"classes N\" with N from 1 to %d", path,
		         line0 + 3, MAX_CLASSES);
		goto out;
	}
	rc = WD_ENOMEM;
	m = model_new(k);
	nnz = calloc(k, sizeof *nnz);
	if (!m || !nnz)
		goto out;
	m->features = features;
	rc = WD_EINVAL;
	size_t total = 0;
	for (size_t c = 0; c < k; c++) {
		char name[NAME_MAX_LEN + 2], bias[64], cnt[32];
		char *end;
		if (read_line(fp, line, sizeof line) ||
		    sscanf(line, "%64s %63s %31s", name, bias, cnt) != 3 || !name_ok(name) ||
		    parse_size(cnt, WD_FEATURE_DIM, &nnz[c])) {
			snprintf(err, errlen, "%s: line %zu: want \"NAME BIAS NNZ\"", path,
			         line0 + c + 4);
			goto out;
		}
		errno = 0;
		m->bias[c] = strtod(bias, &end);
		if (errno || *end || !isfinite(m->bias[c])) {
			snprintf(err, errlen, "%s: line %zu: bad bias \"%s\"", path, line0 + c + 4,
			         bias);
			goto out;
		}
		for (size_t j = 0; j < c; j++) {
			if (strcmp(m->names[j], name) == 0) {
				snprintf(err, errlen, "%s: line %zu: class \"%s\" twice", path,
				         line0 + c + 4, name);
				goto out;
			}
		}
		m->names[c] = strdup(name);
		if (!m->names[c]) {
			rc = WD_ENOMEM;
			goto out;
		}
		total += nnz[c];
	}
	if (read_line(fp, line, sizeof line) || strcmp(line, "data") != 0) {
		snprintf(err, errlen, "%s: line %zu: want \"data\"", path, line0 + k + 4);
		goto out;
	}
	recs = malloc((total ? total : 1) * sizeof *recs);
	if (!recs) {
		rc = WD_ENOMEM;
		goto out;
	}
	size_t n = 0;
	for (size_t c = 0; c < k; c++) {
		for (size_t j = 0; j < nnz[c]; j++, n++) {
			unsigned char b[8];
			if (fread(b, 1, sizeof b, fp) != sizeof b) {
				snprintf(err, errlen,
				         "%s: truncated: class \"%s\" has %zu of %zu weights", path,
				         m->names[c], j, nnz[c]);
				goto out;
			}
			uint32_t bitsw = get_u32(b + 4);
			recs[n].idx = get_u32(b);
			recs[n].cls = (uint32_t)c;
			memcpy(&recs[n].w, &bitsw, sizeof recs[n].w);
			if (recs[n].idx >= WD_FEATURE_DIM || !isfinite(recs[n].w) ||
			    recs[n].w == 0.0f || (j > 0 && recs[n].idx <= recs[n - 1].idx)) {
				snprintf(err, errlen,
				         "%s: class \"%s\" weight %zu: bad or unsorted record",
				         path, m->names[c], j);
				goto out;
			}
		}
	}
	rc = fill_rows(m, recs, total);
	if (rc)
		goto out;
	*out = m;
	m = NULL;
out:
	if (rc == WD_ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	free(recs);
	free(nnz);
	wd_linear_free(m);
	return rc;
}

/* ---- training ---- */

static void quiet(const char *s)
{
	(void)s;
}

/* Trains one binary L1/L2 logistic regression: y[i] = +1 for positives. Writes the weights of
 * the positive side into w (WD_FEATURE_DIM doubles) and its bias into *b. */
static int train_binary(struct problem *prob, const struct wd_train_opts *o, double *w, double *b,
                        char *err, size_t errlen)
{
	int labels[2] = {+1, -1};
	double cw[2] = {1.0, 1.0};
	if (o->balance) {
		size_t pos = 0, n = (size_t)prob->l;
		for (size_t i = 0; i < n; i++)
			pos += prob->y[i] > 0;
		cw[0] = (double)n / (2.0 * (double)pos);
		cw[1] = (double)n / (2.0 * (double)(n - pos));
	}
	struct parameter param = {
	    .solver_type = o->l1 ? L1R_LR : L2R_LR,
	    .eps = 0.01,
	    .C = o->c > 0 ? o->c : 1.0,
	    .nr_weight = o->balance ? 2 : 0,
	    .weight_label = o->balance ? labels : NULL,
	    .weight = o->balance ? cw : NULL,
	};
	const char *why = check_parameter(prob, &param);
	if (why) {
		snprintf(err, errlen, "liblinear: %s", why);
		return WD_EINVAL;
	}
	/* The L1 solver shuffles with rand(): a fixed seed keeps training deterministic. */
	srand(1);
	struct model *lm = train(prob, &param);
	if (!lm) {
		snprintf(err, errlen, "liblinear: training failed");
		return WD_ENOMEM;
	}
	/* The weights favour label[0] (liblinear 2.x puts +1 first; checked anyway). */
	double sign = lm->label[0] == +1 ? 1.0 : -1.0;
	int nf = lm->nr_feature; /* the highest index; w[nf] is the bias column's weight */
	for (uint32_t j = 0; j < WD_FEATURE_DIM; j++)
		w[j] = j < (uint32_t)nf ? sign * lm->w[j] : 0.0;
	*b = sign * lm->w[nf] * prob->bias;
	free_and_destroy_model(&lm);
	return WD_OK;
}

double wd_round9(double v)
{
	char s[64];
	snprintf(s, sizeof s, "%.9g", v);
	return strtod(s, NULL);
}

int wd_linear_train(const struct wd_train_example *ex, size_t n, const char *const *classes,
                    size_t nclass, const struct wd_train_opts *o, struct wd_linear **out, char *err,
                    size_t errlen)
{
	int rc = WD_EINVAL;
	struct wd_linear *m = NULL;
	struct feature_node *space = NULL, **rows = NULL;
	double *y = NULL, *w = NULL;
	size_t *count = NULL;
	struct rec *recs = NULL;
	size_t nrec = 0, caprec = 0;
	*out = NULL;
	if (nclass < 2 || nclass > MAX_CLASSES) {
		snprintf(err, errlen, "need from 2 to %d classes, got %zu", MAX_CLASSES, nclass);
		return WD_EINVAL;
	}
	if (n > INT32_MAX) {
		snprintf(err, errlen, "too many examples (%zu)", n);
		return WD_EINVAL;
	}
	for (size_t c = 0; c < nclass; c++) {
		if (!name_ok(classes[c])) {
			snprintf(err, errlen,
			         "class name \"%s\": want 1 to %d printable characters, no spaces",
			         classes[c], NAME_MAX_LEN);
			return WD_EINVAL;
		}
		for (size_t j = 0; j < c; j++) {
			if (strcmp(classes[j], classes[c]) == 0) {
				snprintf(err, errlen, "class \"%s\" named twice", classes[c]);
				return WD_EINVAL;
			}
		}
	}
	count = calloc(nclass, sizeof *count);
	if (!count) {
		rc = WD_ENOMEM;
		goto out;
	}
	size_t nodes = 0;
	/* liblinear's vectors are as long as the highest index seen, not WD_FEATURE_DIM. */
	uint32_t dim = 1;
	for (size_t i = 0; i < n; i++) {
		if (ex[i].label < 0 || (size_t)ex[i].label >= nclass) {
			snprintf(err, errlen, "example %zu: label %d is not a class index", i,
			         ex[i].label);
			goto out;
		}
		/* Stock liblinear has no instance weights: refuse rather than ignore them. */
		if (ex[i].weight != 0.0 && ex[i].weight != 1.0) {
			snprintf(err, errlen,
			         "example %zu: instance weight %g (only 1 is supported)", i,
			         ex[i].weight);
			goto out;
		}
		count[ex[i].label]++;
		nodes += ex[i].f.n + 2;
		if (ex[i].f.n && ex[i].f.idx[ex[i].f.n - 1] + 1 > dim)
			dim = ex[i].f.idx[ex[i].f.n - 1] + 1;
	}
	for (size_t c = 0; c < nclass; c++) {
		if (count[c] == 0) {
			snprintf(err, errlen, "class \"%s\" has no examples", classes[c]);
			goto out;
		}
	}
	space = malloc(nodes * sizeof *space);
	rows = malloc((n ? n : 1) * sizeof *rows);
	y = malloc((n ? n : 1) * sizeof *y);
	w = malloc(WD_FEATURE_DIM * sizeof *w);
	m = model_new(nclass);
	if (!space || !rows || !y || !w || !m) {
		rc = WD_ENOMEM;
		goto out;
	}
	m->features = o->features;
	/* liblinear: 1-based indices, then the bias feature at dim + 1, then -1. */
	struct feature_node *p = space;
	for (size_t i = 0; i < n; i++) {
		rows[i] = p;
		const struct wd_features *f = &ex[i].f;
		for (size_t j = 0; j < f->n; j++) {
			if (f->idx[j] >= WD_FEATURE_DIM || (j > 0 && f->idx[j] <= f->idx[j - 1])) {
				snprintf(err, errlen,
				         "example %zu: feature indices unsorted or out of range",
				         i);
				goto out;
			}
			if (f->val[j] == 0.0f)
				continue;
			p->index = (int)f->idx[j] + 1;
			p->value = f->val[j];
			p++;
		}
		p->index = (int)dim + 1;
		p->value = 1.0;
		p++;
		p->index = -1;
		p->value = 0.0;
		p++;
	}
	struct problem prob = {.l = (int)n, .n = (int)dim + 1, .y = y, .x = rows, .bias = 1.0};
	set_print_string_function(quiet);

	/* Two classes: one model for class 1, class 0 its mirror; more: one per class. */
	size_t first = nclass == 2 ? 1 : 0;
	for (size_t c = first; c < nclass; c++) {
		for (size_t i = 0; i < n; i++)
			y[i] = (size_t)ex[i].label == c ? +1.0 : -1.0;
		double b;
		rc = train_binary(&prob, o, w, &b, err, errlen);
		if (rc)
			goto out;
		m->bias[c] = wd_round9(b);
		if (nclass == 2)
			m->bias[0] = -m->bias[1];
		for (uint32_t j = 0; j < WD_FEATURE_DIM; j++) {
			if (fabs(w[j]) <= W_EPS)
				continue;
			size_t want = nclass == 2 ? 2 : 1;
			if (nrec + want > caprec) {
				size_t nc = caprec ? caprec * 2 : 4096;
				struct rec *nr = realloc(recs, nc * sizeof *recs);
				if (!nr) {
					rc = WD_ENOMEM;
					goto out;
				}
				recs = nr;
				caprec = nc;
			}
			float fw = (float)w[j];
			recs[nrec++] = (struct rec){.idx = j, .cls = (uint32_t)c, .w = fw};
			if (nclass == 2)
				recs[nrec++] = (struct rec){.idx = j, .cls = 0, .w = -fw};
		}
	}
	for (size_t c = 0; c < nclass; c++) {
		m->names[c] = strdup(classes[c]);
		if (!m->names[c]) {
			rc = WD_ENOMEM;
			goto out;
		}
	}
	rc = fill_rows(m, recs, nrec);
	if (rc) {
		rc = WD_ENOMEM;
		goto out;
	}
	*out = m;
	m = NULL;
	rc = WD_OK;
out:
	if (rc == WD_ENOMEM)
		snprintf(err, errlen, "out of memory");
	free(count);
	free(space);
	free(rows);
	free(y);
	free(w);
	free(recs);
	wd_linear_free(m);
	return rc;
}
