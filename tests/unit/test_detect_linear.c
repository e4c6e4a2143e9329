/* test_detect_linear.c — linear models (training through liblinear, prediction, the model file)
 * and labelled JSONL datasets (loading, errors with line numbers, the stable split). Features
 * are built by hand so the tests do not depend on the featuriser. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "detect/dataset.h"
#include "detect/linear.h"
#include "test.h"
#include "tmpfiles.h"

/* A features vector from (index, value) pairs given in increasing index order. */
static void feat(struct wd_features *f, size_t n, const uint32_t *idx, const float *val)
{
	f->idx = malloc(n * sizeof *f->idx);
	f->val = malloc(n * sizeof *f->val);
	f->n = f->cap = n;
	memcpy(f->idx, idx, n * sizeof *idx);
	memcpy(f->val, val, n * sizeof *val);
}

static void feat_free(struct wd_features *f)
{
	free(f->idx);
	free(f->val);
}

/* Three classes, each marked by its own feature range (100+c*10 .. +9) plus shared noise
 * features; deterministic pseudo-random choice. */
#define NEX 120
static struct wd_train_example ex[NEX];

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static void make_set(void)
{
	uint32_t seed = 7;
	for (int i = 0; i < NEX; i++) {
		int c = i % 3;
		uint32_t idx[4] = {(uint32_t)(100 + c * 10) + lcg(&seed) % 10,
		                   (uint32_t)(100 + c * 10) + 5, 5000 + lcg(&seed) % 50,
		                   6000 + (uint32_t)i};
		if (idx[0] == idx[1])
			idx[0]--;
		if (idx[0] > idx[1]) {
			uint32_t t = idx[0];
			idx[0] = idx[1];
			idx[1] = t;
		}
		float val[4] = {0.6f, 0.5f, 0.4f, 0.3f};
		feat(&ex[i].f, 4, idx, val);
		ex[i].label = c;
		ex[i].weight = 1;
	}
}

static const char *const names3[] = {"benign", "harmful", "jailbreak"};

static void probe(uint32_t cls_feature, struct wd_features *f)
{
	uint32_t idx[2] = {cls_feature, 5003};
	float val[2] = {0.8f, 0.6f};
	feat(f, 2, idx, val);
}

TEST(train_predicts_separable)
{
	char err[256] = "";
	struct wd_linear *m = NULL;
	struct wd_train_opts o = {.c = 1.0};
	CHECK_EQ_INT(wd_linear_train(ex, NEX, names3, 3, &o, &m, err, sizeof err), 0);
	if (!m) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	CHECK_EQ_INT(wd_linear_nclass(m), 3);
	CHECK_STR(wd_linear_class(m, 2), "jailbreak");
	CHECK(wd_linear_class(m, 3) == NULL);
	CHECK_EQ_INT(wd_linear_find(m, "harmful"), 1);
	CHECK_EQ_INT(wd_linear_find(m, "nope"), -1);
	int right = 0;
	for (int i = 0; i < NEX; i++) {
		double p[3];
		wd_linear_predict(m, &ex[i].f, p);
		int best = 0;
		for (int c = 1; c < 3; c++)
			if (p[c] > p[best])
				best = c;
		right += best == ex[i].label;
	}
	CHECK_EQ_INT(right, NEX);
	for (int c = 0; c < 3; c++) {
		struct wd_features f;
		double p[3];
		probe((uint32_t)(100 + c * 10) + 5, &f);
		wd_linear_predict(m, &f, p);
		CHECK(p[c] > 0.5);
		CHECK(p[(c + 1) % 3] < 0.5);
		feat_free(&f);
	}
	wd_linear_free(m);
}

TEST(two_classes_mirror_and_label_order)
{
	/* The first example is class 1: liblinear sees label +1 first; then class 0 first. */
	for (int order = 0; order < 2; order++) {
		struct wd_train_example two[40];
		for (int i = 0; i < 40; i++) {
			int c = (i + order) % 2;
			uint32_t idx[2] = {(uint32_t)(10 + c), 700 + (uint32_t)i};
			float val[2] = {0.9f, 0.4f};
			feat(&two[i].f, 2, idx, val);
			two[i].label = c;
			two[i].weight = 1;
		}
		const char *nm[] = {"benign", "harmful"};
		char err[256] = "";
		struct wd_linear *m = NULL;
		struct wd_train_opts o = {.c = 4.0, .balance = 1};
		CHECK_EQ_INT(wd_linear_train(two, 40, nm, 2, &o, &m, err, sizeof err), 0);
		for (int i = 0; m && i < 40; i++) {
			double p[2];
			wd_linear_predict(m, &two[i].f, p);
			CHECK(p[two[i].label] > 0.5);
			CHECK(fabs(p[0] + p[1] - 1.0) < 1e-9); /* mirror */
		}
		wd_linear_free(m);
		for (int i = 0; i < 40; i++)
			feat_free(&two[i].f);
	}
}

TEST(save_load_bit_identical_and_deterministic)
{
	char err[256] = "";
	struct wd_linear *a = NULL, *b = NULL, *l = NULL;
	struct wd_train_opts o = {.c = 2.0, .l1 = 1, .balance = 1};
	CHECK_EQ_INT(wd_linear_train(ex, NEX, names3, 3, &o, &a, err, sizeof err), 0);
	CHECK_EQ_INT(wd_linear_train(ex, NEX, names3, 3, &o, &b, err, sizeof err), 0);
	if (!a || !b)
		goto out;
	CHECK_EQ_INT(wd_linear_save(a, tmp("a.model"), err, sizeof err), 0);
	CHECK_EQ_INT(wd_linear_save(b, tmp("b.model"), err, sizeof err), 0);
	size_t na = 0, nb = 0;
	unsigned char *fa = read_all(tmp("a.model"), &na), *fb = read_all(tmp("b.model"), &nb);
	CHECK(fa && fb && na == nb && na > 40 && memcmp(fa, fb, na) == 0);
	CHECK(fa && memcmp(fa, "warden-linear 3\nbits 20\nclasses 3\nbenign ", 41) == 0);
	free(fa);
	free(fb);
	CHECK_EQ_INT(wd_linear_load(tmp("a.model"), &l, err, sizeof err), 0);
	if (!l)
		goto out;
	CHECK_EQ_INT(wd_linear_nclass(l), 3);
	CHECK_STR(wd_linear_class(l, 1), "harmful");
	for (int i = 0; i < NEX; i++) {
		double p[3], q[3];
		wd_linear_predict(a, &ex[i].f, p);
		wd_linear_predict(l, &ex[i].f, q);
		CHECK(memcmp(p, q, sizeof p) == 0);
	}
	/* Saving the loaded model gives the same bytes again. */
	CHECK_EQ_INT(wd_linear_save(l, tmp("c.model"), err, sizeof err), 0);
	size_t nc = 0;
	fa = read_all(tmp("a.model"), &na);
	unsigned char *fc = read_all(tmp("c.model"), &nc);
	CHECK(fc && na == nc && memcmp(fa, fc, na) == 0);
	free(fa);
	free(fc);
out:
	wd_linear_free(a);
	wd_linear_free(b);
	wd_linear_free(l);
}

TEST(l1_is_sparser_than_l2)
{
	char err[256] = "";
	struct wd_linear *m1 = NULL, *m2 = NULL;
	struct wd_train_opts o1 = {.c = 1.0, .l1 = 1}, o2 = {.c = 1.0};
	CHECK_EQ_INT(wd_linear_train(ex, NEX, names3, 3, &o1, &m1, err, sizeof err), 0);
	CHECK_EQ_INT(wd_linear_train(ex, NEX, names3, 3, &o2, &m2, err, sizeof err), 0);
	if (!m1 || !m2)
		goto out;
	CHECK_EQ_INT(wd_linear_save(m1, tmp("l1.model"), err, sizeof err), 0);
	CHECK_EQ_INT(wd_linear_save(m2, tmp("l2.model"), err, sizeof err), 0);
	size_t n1 = 0, n2 = 0;
	unsigned char *a = read_all(tmp("l1.model"), &n1), *b = read_all(tmp("l2.model"), &n2);
	CHECK(n1 < n2);
	free(a);
	free(b);
out:
	wd_linear_free(m1);
	wd_linear_free(m2);
}

TEST(train_errors)
{
	char err[256] = "";
	struct wd_linear *m = NULL;
	struct wd_train_opts o = {0};
	const char *bad[] = {"benign", "has space"};
	CHECK_EQ_INT(wd_linear_train(ex, NEX, bad, 2, &o, &m, err, sizeof err), WD_EINVAL);
	CHECK(strstr(err, "has space") != NULL);
	const char *dup[] = {"a", "a"};
	CHECK_EQ_INT(wd_linear_train(ex, NEX, dup, 2, &o, &m, err, sizeof err), WD_EINVAL);
	/* Labels 0..2 with 2 classes: label 2 is out of range. */
	CHECK_EQ_INT(wd_linear_train(ex, NEX, names3, 2, &o, &m, err, sizeof err), WD_EINVAL);
	CHECK(strstr(err, "label 2") != NULL);
	/* A class without examples. */
	const char *four[] = {"a", "b", "c", "d"};
	CHECK_EQ_INT(wd_linear_train(ex, NEX, four, 4, &o, &m, err, sizeof err), WD_EINVAL);
	CHECK(strstr(err, "\"d\" has no examples") != NULL);
	CHECK(m == NULL);
}

TEST(load_errors)
{
	char err[256] = "";
	struct wd_linear *m = NULL, *l = NULL;
	CHECK_EQ_INT(wd_linear_load(tmp("missing.model"), &l, err, sizeof err), WD_EIO);
	const char *h1 = "warden-linear 4\nbits 20\n";
	write_file(tmp("h1"), h1, strlen(h1));
	CHECK_EQ_INT(wd_linear_load(tmp("h1"), &l, err, sizeof err), WD_EINVAL);
	CHECK(strstr(err, "not a warden linear model") != NULL);
	const char *h2 = "warden-linear 3\nbits 18\nclasses 1\n";
	write_file(tmp("h2"), h2, strlen(h2));
	CHECK_EQ_INT(wd_linear_load(tmp("h2"), &l, err, sizeof err), WD_EINVAL);
	CHECK(strstr(err, "18 feature bits") != NULL);
	const char *h3 = "warden-linear 3\nbits 20\nclasses 1\nx nan 0\ndata\n";
	write_file(tmp("h3"), h3, strlen(h3));
	CHECK_EQ_INT(wd_linear_load(tmp("h3"), &l, err, sizeof err), WD_EINVAL);
	CHECK(strstr(err, "bad bias") != NULL);
	/* a model of an older feature set is refused, with what to do about it */
	const char *h0 = "warden-linear 1\nbits 20\nclasses 1\n";
	write_file(tmp("h0"), h0, strlen(h0));
	CHECK_EQ_INT(wd_linear_load(tmp("h0"), &l, err, sizeof err), WD_EINVAL);
	CHECK(strstr(err, "older feature set") != NULL && strstr(err, "warden train") != NULL);
	const char *hv2 = "warden-linear 2\nbits 20 lexicon\nclasses 1\n";
	write_file(tmp("hv2"), hv2, strlen(hv2));
	CHECK_EQ_INT(wd_linear_load(tmp("hv2"), &l, err, sizeof err), WD_EINVAL);
	CHECK(strstr(err, "older feature set (\"warden-linear 2\")") != NULL);
	write_file(tmp("empty"), "", 0);
	CHECK_EQ_INT(wd_linear_load(tmp("empty"), &l, err, sizeof err), WD_EINVAL);
	CHECK(strstr(err, "not a warden linear model") != NULL);
	const char *h4 = "warden-linear 3\nbits 20 trigrams\nclasses 1\n";
	write_file(tmp("h4"), h4, strlen(h4));
	CHECK_EQ_INT(wd_linear_load(tmp("h4"), &l, err, sizeof err), WD_EINVAL);
	CHECK(strstr(err, "unknown feature set \"trigrams\"") != NULL);

	/* The feature set a model was trained with is recorded and read back. */
	struct wd_train_opts lo = {.c = 1.0, .features = WD_FEATURES_LEXICON};
	CHECK_EQ_INT(wd_linear_train(ex, NEX, names3, 3, &lo, &m, err, sizeof err), 0);
	CHECK_EQ_INT(wd_linear_features(m), WD_FEATURES_LEXICON);
	CHECK_EQ_INT(wd_linear_save(m, tmp("lex.model"), err, sizeof err), 0);
	CHECK_EQ_INT(wd_linear_load(tmp("lex.model"), &l, err, sizeof err), 0);
	CHECK_EQ_INT(wd_linear_features(l), WD_FEATURES_LEXICON);
	wd_linear_free(l);
	wd_linear_free(m);
	l = m = NULL;

	struct wd_train_opts o = {.c = 1.0};
	CHECK_EQ_INT(wd_linear_train(ex, NEX, names3, 3, &o, &m, err, sizeof err), 0);
	CHECK_EQ_INT(wd_linear_save(m, tmp("t.model"), err, sizeof err), 0);
	size_t n = 0;
	unsigned char *p = read_all(tmp("t.model"), &n);
	write_file(tmp("trunc.model"), p, n - 3);
	CHECK_EQ_INT(wd_linear_load(tmp("trunc.model"), &l, err, sizeof err), WD_EINVAL);
	CHECK(strstr(err, "truncated") != NULL);
	CHECK(strstr(err, "jailbreak") != NULL);
	/* Cut inside the header. */
	const char *d = strstr((char *)p, "data\n");
	write_file(tmp("trunc2.model"), p, (size_t)(d - (char *)p) - 3);
	CHECK_EQ_INT(wd_linear_load(tmp("trunc2.model"), &l, err, sizeof err), WD_EINVAL);
	/* One extra byte. */
	unsigned char *q = malloc(n + 1);
	memcpy(q, p, n);
	q[n] = 0;
	write_file(tmp("long.model"), q, n + 1);
	CHECK_EQ_INT(wd_linear_load(tmp("long.model"), &l, err, sizeof err), WD_EINVAL);
	CHECK(strstr(err, "trailing") != NULL);
	/* An index beyond the feature space. */
	memcpy(q, p, n);
	size_t off = (size_t)(d - (char *)p) + 5;
	q[off + 3] = 0xff;
	write_file(tmp("idx.model"), q, n);
	CHECK_EQ_INT(wd_linear_load(tmp("idx.model"), &l, err, sizeof err), WD_EINVAL);
	CHECK(strstr(err, "bad or unsorted") != NULL);
	CHECK(l == NULL);
	free(p);
	free(q);
	wd_linear_free(m);
}

TEST(split_stable_and_proportional)
{
	CHECK_EQ_INT(wd_split_of("advbench-behavior-000"), wd_split_of("advbench-behavior-000"));
	/* 64-bit FNV-1a of "" is the offset basis 0xcbf29ce484222325, whose value % 100 is 37. */
	CHECK_EQ_INT(wd_split_of(""), WD_SPLIT_TRAIN);
	int cnt[3] = {0, 0, 0};
	char id[32];
	for (int i = 0; i < 10000; i++) {
		snprintf(id, sizeof id, "synthetic-%05d", i);
		enum wd_split s = wd_split_of(id);
		CHECK(s == wd_split_of(id));
		cnt[s]++;
	}
	CHECK(cnt[WD_SPLIT_TRAIN] > 5700 && cnt[WD_SPLIT_TRAIN] < 6300);
	CHECK(cnt[WD_SPLIT_VALID] > 1800 && cnt[WD_SPLIT_VALID] < 2200);
	CHECK(cnt[WD_SPLIT_TEST] > 1800 && cnt[WD_SPLIT_TEST] < 2200);
}

TEST(dataset_load)
{
	const char *a = "{\"id\": \"x-1\", \"text\": \"hello\", \"label\": \"benign\", "
	                "\"category\": \"c1\", \"source\": \"s\", \"tricky_benign\": true}\n"
	                "\n"
	                "{\"text\": \"no id here\", \"label\": null, \"extra\": [1, 2]}\r\n"
	                "{\"id\": \"x-3\", \"text\": \"caf\\u00e9\", \"label\": \"harmful\"}\n"
	                "{\"id\": \"x-4\", \"text\": \"one task\", \"group\": \"task-7\"}\n"
	                "{\"id\": \"x-5\", \"text\": \"no group\", \"group\": null}";
	write_file(tmp("a.jsonl"), a, strlen(a));
	struct wd_sample *v = NULL;
	size_t n = 0;
	char err[256] = "";
	CHECK_EQ_INT(wd_dataset_load(tmp("a.jsonl"), &v, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 5);
	if (n == 5) {
		CHECK_STR(v[0].id, "x-1");
		CHECK_STR(v[0].text, "hello");
		CHECK_STR(v[0].label, "benign");
		CHECK_STR(v[0].category, "c1");
		CHECK_STR(v[0].source, "s");
		CHECK_EQ_INT(v[0].tricky, 1);
		CHECK_EQ_INT(v[0].split, wd_split_of("x-1"));
		CHECK(v[1].id == NULL && v[1].label == NULL && v[1].category == NULL);
		CHECK_EQ_INT(v[1].tricky, 0);
		CHECK_EQ_INT(v[1].split, wd_split_of("no id here"));
		CHECK_STR(v[2].text, "caf\xc3\xa9");
		/* A group is the split key: its records stay in one split whatever their ids. */
		CHECK_EQ_INT(v[3].split, wd_split_of("task-7"));
		CHECK_EQ_INT(v[4].split, wd_split_of("x-5")); /* null: as absent */
	}
	/* Appends, and grows past the first allocation. */
	FILE *fp = fopen(tmp("big.jsonl"), "w");
	for (int i = 0; i < 100; i++)
		fprintf(fp, "{\"id\": \"b%d\", \"text\": \"t%d\", \"label\": \"benign\"}\n", i, i);
	fclose(fp);
	CHECK_EQ_INT(wd_dataset_load(tmp("big.jsonl"), &v, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 105);
	if (n == 105) {
		CHECK_STR(v[0].id, "x-1");
		CHECK_STR(v[104].text, "t99");
	}
	wd_dataset_free(v, n);
	/* "context": the conversation before text, in order */
	const char *m = "{\"text\": \"and how much?\", \"context\": [{\"role\": \"user\", "
	                "\"content\": \"I need X.\"}, {\"role\": \"assistant\", \"content\": "
	                "\"Why?\"}]}\n{\"text\": \"alone\", \"context\": null}\n";
	write_file(tmp("turns.jsonl"), m, strlen(m));
	v = NULL;
	n = 0;
	CHECK_EQ_INT(wd_dataset_load(tmp("turns.jsonl"), &v, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 2);
	if (n == 2) {
		CHECK_EQ_INT(v[0].ncontext, 2);
		if (v[0].ncontext == 2) {
			CHECK_STR(v[0].context[0].content, "I need X.");
			CHECK_EQ_INT(v[0].context[0].assistant, 0);
			CHECK_STR(v[0].context[1].content, "Why?");
			CHECK_EQ_INT(v[0].context[1].assistant, 1);
		}
		CHECK(v[1].context == NULL && v[1].ncontext == 0);
	}
	wd_dataset_free(v, n);
	/* PATH@FIELD takes the text from another field; a record without it is refused. */
	const char *c = "{\"id\": \"c-1\", \"text\": \"int x;\", \"prompt\": \"Write C\"}\n";
	write_file(tmp("code.jsonl"), c, strlen(c));
	v = NULL;
	n = 0;
	char spec[512];
	snprintf(spec, sizeof spec, "%s@prompt", tmp("code.jsonl"));
	CHECK_EQ_INT(wd_dataset_load(spec, &v, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 1);
	if (n == 1)
		CHECK_STR(v[0].text, "Write C");
	snprintf(spec, sizeof spec, "%s@nope", tmp("code.jsonl"));
	CHECK_EQ_INT(wd_dataset_load(spec, &v, &n, err, sizeof err), WD_EINVAL);
	CHECK(strstr(err, "code.jsonl:1: \"nope\" is missing") != NULL);
	CHECK_EQ_INT(n, 1);
	wd_dataset_free(v, n);
}

/* Loads content into a fresh set that already holds one record; expects failure with an error
 * containing want, and the set left as it was. */
static void load_fails(const char *content, size_t len, int code, const char *want)
{
	const char *ok = "{\"text\": \"keep\"}\n";
	write_file(tmp("ok.jsonl"), ok, strlen(ok));
	write_file(tmp("bad.jsonl"), content, len);
	struct wd_sample *v = NULL;
	size_t n = 0;
	char err[256] = "";
	CHECK_EQ_INT(wd_dataset_load(tmp("ok.jsonl"), &v, &n, err, sizeof err), 0);
	CHECK_EQ_INT(wd_dataset_load(tmp("bad.jsonl"), &v, &n, err, sizeof err), code);
	if (!strstr(err, want))
		fprintf(stderr, "  error was: %s (wanted %s)\n", err, want);
	CHECK(strstr(err, want) != NULL);
	CHECK_EQ_INT(n, 1);
	wd_dataset_free(v, n);
}

TEST(dataset_errors)
{
	char want[256];
	snprintf(want, sizeof want, "%s:3: column", tmp("bad.jsonl"));
	const char *s1 = "{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"text\": \"c\"\n";
	load_fails(s1, strlen(s1), WD_EINVAL, want);
	snprintf(want, sizeof want, "%s:2: \"text\" is missing", tmp("bad.jsonl"));
	const char *s2 = "{\"text\": \"a\"}\n{\"label\": \"b\"}\n";
	load_fails(s2, strlen(s2), WD_EINVAL, want);
	snprintf(want, sizeof want, "%s:1: \"text\" must be a string", tmp("bad.jsonl"));
	load_fails("{\"text\": 3}", 11, WD_EINVAL, want);
	snprintf(want, sizeof want, "%s:2: \"label\" must be a string", tmp("bad.jsonl"));
	const char *s4 = "\n{\"text\": \"a\", \"label\": 1}\n";
	load_fails(s4, strlen(s4), WD_EINVAL, want);
	snprintf(want, sizeof want, "%s:1: want a JSON object", tmp("bad.jsonl"));
	load_fails("[1, 2]\n", 7, WD_EINVAL, want);
	snprintf(want, sizeof want, "%s:1: \"group\" must be a string", tmp("bad.jsonl"));
	const char *s5 = "{\"text\": \"a\", \"group\": 7}\n";
	load_fails(s5, strlen(s5), WD_EINVAL, want);
	/* "context" of the wrong shape, a role other than user or assistant, or too many */
	snprintf(want, sizeof want, "%s:1: \"context\" must be an array", tmp("bad.jsonl"));
	const char *s6 = "{\"text\": \"a\", \"context\": \"earlier\"}\n";
	load_fails(s6, strlen(s6), WD_EINVAL, want);
	snprintf(want, sizeof want, "%s:1: \"context\"[1] must be", tmp("bad.jsonl"));
	const char *s7 = "{\"text\": \"a\", \"context\": [{\"role\": \"user\", \"content\": "
	                 "\"x\"}, {\"role\": \"system\", \"content\": \"y\"}]}\n";
	load_fails(s7, strlen(s7), WD_EINVAL, want);
	snprintf(want, sizeof want, "%s:1: \"context\"[0] must be", tmp("bad.jsonl"));
	const char *s8 = "{\"text\": \"a\", \"context\": [{\"role\": \"user\"}]}\n";
	load_fails(s8, strlen(s8), WD_EINVAL, want);
	char many[8192];
	size_t k = (size_t)snprintf(many, sizeof many, "{\"text\": \"a\", \"context\": [");
	for (int i = 0; i <= WD_DATASET_MAX_CONTEXT; i++)
		k += (size_t)snprintf(many + k, sizeof many - k,
		                      "%s{\"role\": \"user\", \"content\": \"x\"}", i ? ", " : "");
	k += (size_t)snprintf(many + k, sizeof many - k, "]}\n");
	snprintf(want, sizeof want, "%s:1: \"context\" must be an array of at most",
	         tmp("bad.jsonl"));
	load_fails(many, k, WD_EINVAL, want);
	/* A line over 1 MiB. */
	size_t big = (1u << 20) + 100;
	char *p = malloc(big);
	memset(p, 'x', big);
	memcpy(p, "{\"text\": \"", 10);
	memcpy(p + big - 3, "\"}\n", 3);
	snprintf(want, sizeof want, "%s:1: line longer than", tmp("bad.jsonl"));
	load_fails(p, big, WD_ETOOBIG, want);
	free(p);
	struct wd_sample *v = NULL;
	size_t n = 0;
	char err[256];
	CHECK_EQ_INT(wd_dataset_load(tmp("nope.jsonl"), &v, &n, err, sizeof err), WD_EIO);
	CHECK(strstr(err, "nope.jsonl") != NULL);
}

int main(void)
{
	if (tmpdir_make("linear"))
		return 1;
	make_set();
	RUN(train_predicts_separable);
	RUN(two_classes_mirror_and_label_order);
	RUN(save_load_bit_identical_and_deterministic);
	RUN(l1_is_sparser_than_l2);
	RUN(train_errors);
	RUN(load_errors);
	RUN(split_stable_and_proportional);
	RUN(dataset_load);
	RUN(dataset_errors);
	for (int i = 0; i < NEX; i++)
		feat_free(&ex[i].f);
	if (tmpdir_remove())
		return 1;
	return DONE();
}
