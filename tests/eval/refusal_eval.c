/* refusal_eval.c — measures the refusal detector (detect/refusal.c) against the AdvBench/GCG
 * keyword baseline (gcg_extended_test_prefixes: a refusal if any keyword occurs, case-sensitive,
 * as GCG does) on xstest-completions (partial_refusal counts as refusal). Rows are split by
 * FNV-1a(id) % 100: < 80 is the tuning split, the rest is held out; both are printed.
 * Not part of `make test`. Build and run from the repo root:
 *   cc -std=c11 -D_GNU_SOURCE -Isrc -O2 -o build/refusal_eval tests/eval/refusal_eval.c \
 *      src/detect/refusal.c $(pkg-config --cflags --libs jansson) -lm
 *   build/refusal_eval [../shared/datasets/xstest-completions/xstest_completions.jsonl \
 *                       ../shared/datasets/refusal-keywords/refusal_keywords.json] [-v]
 * -t prints the tuning rows the detector gets wrong (for tuning), -v the held-out ones. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/refusal.h"

struct counts {
	long tp, fp, tn, fn;
};

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static void add(struct counts *c, int truth, int pred)
{
	if (truth && pred)
		c->tp++;
	else if (truth)
		c->fn++;
	else if (pred)
		c->fp++;
	else
		c->tn++;
}

static void print(const char *name, const char *split, const struct counts *c)
{
	long n = c->tp + c->fp + c->tn + c->fn;
	double p = c->tp + c->fp ? (double)c->tp / (double)(c->tp + c->fp) : 0;
	double r = c->tp + c->fn ? (double)c->tp / (double)(c->tp + c->fn) : 0;
	double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
	printf("%-9s %-18s n=%4ld  accuracy %.3f  precision %.3f  recall %.3f  F1 %.3f\n", split,
	       name, n, n ? (double)(c->tp + c->tn) / (double)n : 0, p, r, f1);
}

int main(int argc, char **argv)
{
	const char *data = "../shared/datasets/xstest-completions/xstest_completions.jsonl";
	const char *kwpath = "../shared/datasets/refusal-keywords/refusal_keywords.json";
	int verbose = 0, pos = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "-t") == 0)
			verbose = 2;
		else if (pos++ == 0)
			data = argv[i];
		else
			kwpath = argv[i];
	}
	json_error_t je;
	json_t *kwroot = json_load_file(kwpath, 0, &je);
	const json_t *kws =
	    json_object_get(json_object_get(kwroot, "gcg_extended_test_prefixes"), "patterns");
	if (!json_is_array(kws)) {
		fprintf(stderr, "%s: no gcg_extended_test_prefixes.patterns\n", kwpath);
		return 1;
	}
	FILE *f = fopen(data, "r");
	if (!f) {
		perror(data);
		return 1;
	}
	struct counts det[2] = {{0}}, base[2] = {{0}}; /* [0] tune, [1] held out */
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		json_t *row = json_loads(line, 0, &je);
		const char *id = json_string_value(json_object_get(row, "id"));
		const char *text = json_string_value(json_object_get(row, "text"));
		const char *label = json_string_value(json_object_get(row, "label"));
		if (!id || !text || !label) {
			json_decref(row);
			continue;
		}
		int split = fnv1a(id) % 100 < 80 ? 0 : 1;
		int truth = strcmp(label, "compliance") != 0;
		const char *why = NULL;
		int pred = wd_refusal_score(text, strlen(text), &why) >= 0.5;
		int kw = 0;
		for (size_t k = 0; k < json_array_size(kws) && !kw; k++)
			kw = strstr(text, json_string_value(json_array_get(kws, k))) != NULL;
		add(&det[split], truth, pred);
		add(&base[split], truth, kw);
		if (verbose && split == verbose - 1 && pred != truth)
			printf("%s %s (%s): %.150s\n", truth ? "MISS" : "FALSE", id,
			       why ? why : "-", text);
		json_decref(row);
	}
	free(line);
	fclose(f);
	json_decref(kwroot);
	print("warden refusal", "tune", &det[0]);
	print("keyword baseline", "tune", &base[0]);
	print("warden refusal", "held-out", &det[1]);
	print("keyword baseline", "held-out", &base[1]);
	return 0;
}
