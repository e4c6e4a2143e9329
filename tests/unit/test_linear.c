/* test_linear.c — prediction through the compact weight index (a bitmap of the weighed feature
 * indices with per-word row counts, looked up without branches) against the plain dense layout:
 * a model file is read here by its documented format into a dense WD_FEATURE_DIM x k table, and
 * wd_linear_predict must give the same probabilities, bit for bit, as the dot products with that
 * table in feature order. Runs on hand-made models (indices at word edges, the last index, a
 * class with no weights) and on the shipped conf/models when present. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "detect/features.h"
#include "detect/linear.h"
#include "sort_count.h"
#include "test.h"

struct dense {
	size_t k;
	double bias[16];
	float *w; /* WD_FEATURE_DIM * k */
};

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads a model file into a dense table (format: see linear.h). 0 on success. */
static int read_dense(const char *path, struct dense *d)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	char line[256];
	size_t nnz[16] = {0};
	int rc = -1;
	if (!fgets(line, sizeof line, fp) || !fgets(line, sizeof line, fp) ||
	    !fgets(line, sizeof line, fp) || sscanf(line, "classes %zu", &d->k) != 1 || d->k > 16)
		goto out;
	d->w = calloc((size_t)WD_FEATURE_DIM * d->k, sizeof *d->w);
	for (size_t c = 0; c < d->k; c++) {
		char name[80];
		if (!fgets(line, sizeof line, fp) ||
		    sscanf(line, "%79s %lf %zu", name, &d->bias[c], &nnz[c]) != 3)
			goto out;
	}
	if (!fgets(line, sizeof line, fp) || strcmp(line, "data\n") != 0)
		goto out;
	for (size_t c = 0; c < d->k; c++) {
		for (size_t j = 0; j < nnz[c]; j++) {
			unsigned char b[8];
			if (fread(b, 1, 8, fp) != 8)
				goto out;
			uint32_t bits = get_u32(b + 4);
			float w;
			memcpy(&w, &bits, sizeof w);
			d->w[(size_t)get_u32(b) * d->k + c] = w;
		}
	}
	rc = 0;
out:
	fclose(fp);
	return rc;
}

/* What prediction is by definition: sigmoid(bias + sum over the features, in order, of w * v). */
static void dense_predict(const struct dense *d, const struct wd_features *f, double *probs)
{
	for (size_t c = 0; c < d->k; c++)
		probs[c] = d->bias[c];
	for (size_t j = 0; j < f->n; j++) {
		if (f->idx[j] >= WD_FEATURE_DIM)
			continue;
		for (size_t c = 0; c < d->k; c++) {
			float w = d->w[(size_t)f->idx[j] * d->k + c];
			if (w != 0.0f)
				probs[c] += (double)w * (double)f->val[j];
		}
	}
	for (size_t c = 0; c < d->k; c++)
		probs[c] = 1.0 / (1.0 + exp(-probs[c]));
}

/* Random sorted unique features, half of them drawn from the model's own indices (so that
 * both hits and misses are many), values in (0, 1]. */
static void random_features(struct wd_features *f, const uint32_t *known, size_t nknown, size_t n)
{
	f->idx = realloc(f->idx, n * sizeof *f->idx);
	f->val = realloc(f->val, n * sizeof *f->val);
	for (size_t j = 0; j < n; j++)
		f->idx[j] = nknown && rnd(2) ? known[rnd((uint32_t)nknown)] : rnd(WD_FEATURE_DIM);
	qsort(f->idx, n, sizeof *f->idx, cmp_u32);
	size_t u = 0;
	for (size_t j = 0; j < n; j++)
		if (u == 0 || f->idx[j] != f->idx[u - 1])
			f->idx[u++] = f->idx[j];
	f->n = u;
	for (size_t j = 0; j < u; j++)
		f->val[j] = (float)(rnd(1000) + 1) / 1000.0f;
}

/* Loads path both ways and compares predictions on random features; 1 when all agree. */
static int agree(const char *path, const uint32_t *known, size_t nknown)
{
	struct dense d = {0};
	struct wd_linear *m = NULL;
	char err[256];
	if (read_dense(path, &d) || wd_linear_load(path, &m, err, sizeof err)) {
		fprintf(stderr, "  cannot load %s\n", path);
		free(d.w);
		return 0;
	}
	struct wd_features f = {0};
	int ok = wd_linear_nclass(m) == d.k;
	for (int it = 0; it < 300 && ok; it++) {
		random_features(&f, known, nknown, 1 + rnd(it < 100 ? 40 : 3000));
		double a[16], b[16];
		wd_linear_predict(m, &f, a);
		dense_predict(&d, &f, b);
		ok = memcmp(a, b, d.k * sizeof a[0]) == 0;
	}
	wd_features_free(&f);
	wd_linear_free(m);
	free(d.w);
	return ok;
}

static void put_u32(FILE *fp, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 24)};
	fwrite(b, 1, 4, fp);
}

TEST(compact_index_matches_dense_on_made_models)
{
	/* class a: indices at 64-bit word edges, runs of neighbours, the first and last index;
	 * class b: a sparse random set; class c: no weights at all */
	uint32_t a[] = {0,
	                1,
	                62,
	                63,
	                64,
	                65,
	                127,
	                128,
	                4095,
	                4096,
	                4097,
	                65535,
	                65536,
	                WD_FEATURE_DIM - 65,
	                WD_FEATURE_DIM - 64,
	                WD_FEATURE_DIM - 2,
	                WD_FEATURE_DIM - 1};
	size_t na = sizeof a / sizeof a[0];
	uint32_t b[500];
	for (size_t i = 0; i < 500; i++)
		b[i] = rnd(WD_FEATURE_DIM);
	qsort(b, 500, sizeof b[0], cmp_u32);
	size_t nb = 0;
	for (size_t i = 0; i < 500; i++)
		if (nb == 0 || b[i] != b[nb - 1])
			b[nb++] = b[i];
	char path[] = "/tmp/wd_test_linear_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	FILE *fp = fdopen(fd, "wb");
	fprintf(fp,
	        "warden-linear 3\nbits %d\nclasses 3\na 0.25 %zu\nb -1.5 %zu\nc 0.125 0\ndata\n",
	        WD_FEATURE_BITS, na, nb);
	for (size_t i = 0; i < na; i++) {
		float w = (float)(i + 1) * (i % 2 ? -0.37f : 0.21f);
		uint32_t bits;
		memcpy(&bits, &w, sizeof bits);
		put_u32(fp, a[i]);
		put_u32(fp, bits);
	}
	for (size_t i = 0; i < nb; i++) {
		float w = (float)rnd(2001) / 1000.0f - 1.0005f;
		uint32_t bits;
		memcpy(&bits, &w, sizeof bits);
		put_u32(fp, b[i]);
		put_u32(fp, bits);
	}
	fclose(fp);
	uint32_t known[600];
	memcpy(known, a, sizeof a);
	memcpy(known + na, b, nb * sizeof b[0]);
	CHECK(agree(path, known, na + nb));

	/* a feature index past WD_FEATURE_DIM (against the contract) weighs nothing */
	struct wd_linear *m = NULL;
	char err[256];
	CHECK_EQ_INT(wd_linear_load(path, &m, err, sizeof err), 0);
	uint32_t idx[2] = {1, WD_FEATURE_DIM + 1};
	float val[2] = {1.0f, 1.0f};
	struct wd_features f = {idx, val, 1, 2};
	double p1[3], p2[3];
	wd_linear_predict(m, &f, p1);
	f.n = 2;
	wd_linear_predict(m, &f, p2);
	CHECK(memcmp(p1, p2, sizeof p1) == 0);
	CHECK(fabs(p1[2] - 1.0 / (1.0 + exp(-0.125))) < 1e-15); /* class c: its bias alone */
	wd_linear_free(m);
	unlink(path);
}

TEST(compact_index_matches_dense_on_shipped_models)
{
	static const char *const models[] = {"conf/models/harm.model",
	                                     "conf/models/jailbreak.model",
	                                     "conf/models/harm_category.model"};
	int tried = 0;
	for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
		if (access(models[i], R_OK) != 0)
			continue; /* run from elsewhere than the repository root */
		tried++;
		struct dense d = {0};
		CHECK_EQ_INT(read_dense(models[i], &d), 0);
		/* the model's own indices, to draw hits from */
		uint32_t *known = malloc(WD_FEATURE_DIM / 8 * sizeof *known);
		size_t nk = 0;
		for (uint32_t j = 0; j < WD_FEATURE_DIM && nk < WD_FEATURE_DIM / 8; j++)
			for (size_t c = 0; c < d.k; c++)
				if (d.w[(size_t)j * d.k + c] != 0.0f) {
					known[nk++] = j;
					break;
				}
		CHECK(nk > 0);
		CHECK(agree(models[i], known, nk));
		free(known);
		free(d.w);
	}
	if (!tried)
		printf("  (conf/models not found: shipped models skipped)\n");
}

/* A prediction from a text's raw keys (wd_linear_predict_keys: the rows the model weighs counted
 * in a tally, no sort) is the prediction from its sorted features, to rounding; one set of keys
 * serves models of both feature sets in turn (the tally is zero again after each). */
TEST(raw_keys_predict_as_sorted_features)
{
	static const char *const models[] = {"conf/models/harm.model",
	                                     "conf/models/jailbreak.model",
	                                     "conf/models/harm_category.model"};
	static const char *const vocab[] = {
	    "how",     "to",   "make", "a",   "bomb", "ignore", "all",  "previous", "instructions",
	    "you",     "are",  "dan",  "the", "of",   "write",  "poem", "kill",     "python",
	    "process", "step", "by",   "i",   "it's", "now",    ".",    "?",        "!",
	    ",",       "\n",   "don't"};
	struct wd_linear *m[3] = {NULL, NULL, NULL};
	char err[256];
	size_t nm = 0;
	for (size_t i = 0; i < 3; i++)
		if (access(models[i], R_OK) == 0 &&
		    wd_linear_load(models[i], &m[nm], err, sizeof err) == 0)
			nm++;
	if (nm == 0) {
		printf("  (conf/models not found: skipped)\n");
		return;
	}
	struct wd_feature_keys k;
	wd_feature_keys_init(&k);
	struct wd_features f = {0};
	static char text[4096];
	int ok = 1;
	for (int it = 0; it < 400 && ok; it++) {
		size_t len = 0, want = rnd(it < 100 ? 60 : 3000);
		while (len < want) {
			const char *w = vocab[rnd(sizeof vocab / sizeof vocab[0])];
			len += (size_t)snprintf(text + len, sizeof text - len, "%s ", w);
		}
		CHECK_EQ_INT(wd_feature_keys_make(text, len, 16384, &k), WD_OK);
		for (size_t j = 0; j < nm && ok; j++) {
			double a[16], b[16];
			ok = wd_linear_predict_keys(m[j], &k, a) == WD_OK &&
			     wd_features_extract(text, len, 16384, wd_linear_features(m[j]), &f) ==
			         WD_OK;
			wd_linear_predict(m[j], &f, b);
			for (size_t c = 0; ok && c < wd_linear_nclass(m[j]); c++)
				ok = fabs(a[c] - b[c]) <= 1e-12;
		}
		for (size_t r = 0; r < k.tally_cap; r++)
			ok &= k.tally[r] == 0;
	}
	CHECK(ok);
	wd_features_free(&f);
	wd_feature_keys_free(&k);
	for (size_t i = 0; i < nm; i++)
		wd_linear_free(m[i]);
}

int main(void)
{
	RUN(compact_index_matches_dense_on_made_models);
	RUN(compact_index_matches_dense_on_shipped_models);
	RUN(raw_keys_predict_as_sorted_features);
	return DONE();
}
