/* train_cmd.c — `warden train --data FILE.jsonl [--data FILE ...] --classes a,b[,c...]
 * [--map LABEL=CLASS ...] [--split train|train+valid] [--c C] [--l1] [--balance]
 * [--by-category LABEL] --out FILE`. With --by-category, only records labelled LABEL are used and
 * their category (after --map) is the class: a model that names the category of what another
 * model found.
 *
 * Reads the records, keeps those of the chosen split whose label (after --map) is a class,
 * turns each text into features (normalise, then hashed n-grams) and trains one-vs-rest logistic
 * regression, or with --hidden H [--epochs E] a network of H hidden units (detect/net). The
 * test split is never read for training, so `warden eval` on it is honest. */
#include "detect/train_cmd.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "detect/dataset.h"
#include "detect/features.h"
#include "detect/linear.h"
#include "detect/net.h"
#include "detect/normalize.h"

#define MAX_FILES     64
#define MAX_CLASSES   32
#define MAX_MAPS      64
#define FEATURE_BYTES 16384
#define NORM_MAX      (4u << 20)

static void usage(FILE *f)
{
	fputs("usage: warden train --data FILE.jsonl [--data FILE ...] --classes A,B[,C...]\n"
	      "                    [--map LABEL=CLASS ...] [--split train|train+valid]\n"
	      "                    [--by-category LABEL] [--map-file FILE]\n"
	      "                    [--c C] [--l1] [--balance] [--lexicon]\n"
	      "                    [--hidden H [--epochs E]]\n"
	      "                    --out conf/models/NAME.model\n"
	      "--lexicon adds the word-class features (intent x target) to the n-grams; the model\n"
	      "records it, and warden makes its inputs the same way.\n"
	      "--hidden trains a network of H hidden units (detect/net.h; two classes, not --c or\n"
	      "--l1) for E passes over the data (default 2).\n",
	      f);
}

struct map {
	const char *from, *to;
};

struct args {
	const char *data[MAX_FILES];
	size_t ndata;
	char *classbuf; /* owned: the --classes value, cut at the commas */
	const char *classes[MAX_CLASSES];
	size_t nclass;
	struct map map[MAX_MAPS];
	size_t nmap;
	int with_valid;
	const char *by_category; /* only records with this label; their category is the class */
	struct wd_train_opts opts;
	struct wd_net_opts net; /* used when net.hidden > 0 (--hidden) */
	const char *out;
};

/* Adds the LABEL=CLASS lines of path (blank lines and # comments skipped) to a's maps. The
 * lines are kept for the process's life (the maps point into them). */
static int read_map_file(const char *path, struct args *a)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "warden train: --map-file %s: %s\n", path, strerror(errno));
		return 2;
	}
	char line[512];
	int n = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
		n++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		char *eq = strchr(line, '=');
		if (!eq || eq == line || !eq[1] || a->nmap == MAX_MAPS) {
			fprintf(stderr, "warden train: %s:%d: want LABEL=CLASS (at most %d)\n",
			        path, n, MAX_MAPS);
			rc = 2;
			break;
		}
		char *keep = strdup(line);
		if (!keep) {
			rc = 2;
			break;
		}
		a->map[a->nmap].from = keep;
		a->map[a->nmap++].to = keep + (eq - line) + 1;
	}
	fclose(f);
	return rc;
}

/* Parses argv into a; 0, or 2 after printing what was wrong. */
static int parse_args(int argc, char **argv, struct args *a)
{
	a->opts.c = 1.0;
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--l1") == 0) {
			a->opts.l1 = 1;
			continue;
		}
		if (strcmp(o, "--balance") == 0) {
			a->opts.balance = 1;
			continue;
		}
		if (strcmp(o, "--lexicon") == 0) {
			a->opts.features |= WD_FEATURES_LEXICON;
			continue;
		}
		if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			usage(stdout);
			return 1;
		}
		int known = strcmp(o, "--data") == 0 || strcmp(o, "--classes") == 0 ||
		            strcmp(o, "--map") == 0 || strcmp(o, "--split") == 0 ||
		            strcmp(o, "--c") == 0 || strcmp(o, "--out") == 0 ||
		            strcmp(o, "--by-category") == 0 || strcmp(o, "--map-file") == 0 ||
		            strcmp(o, "--hidden") == 0 || strcmp(o, "--epochs") == 0;
		if (!known || i + 1 >= argc) {
			fprintf(stderr, "warden train: %s %s\n", o,
			        known ? "needs a value" : "is not an option");
			return 2;
		}
		const char *v = argv[++i];
		if (strcmp(o, "--data") == 0) {
			if (a->ndata == MAX_FILES) {
				fprintf(stderr, "warden train: at most %d --data files\n",
				        MAX_FILES);
				return 2;
			}
			a->data[a->ndata++] = v;
		} else if (strcmp(o, "--classes") == 0) {
			free(a->classbuf);
			a->classbuf = strdup(v);
			a->nclass = 0;
			if (!a->classbuf)
				return 2;
			char *save = NULL;
			for (char *t = strtok_r(a->classbuf, ",", &save); t;
			     t = strtok_r(NULL, ",", &save)) {
				if (a->nclass == MAX_CLASSES) {
					fprintf(stderr, "warden train: at most %d classes\n",
					        MAX_CLASSES);
					return 2;
				}
				a->classes[a->nclass++] = t;
			}
		} else if (strcmp(o, "--map") == 0) {
			const char *eq = strchr(v, '=');
			if (!eq || eq == v || !eq[1]) {
				fprintf(stderr, "warden train: --map %s: want LABEL=CLASS\n", v);
				return 2;
			}
			if (a->nmap == MAX_MAPS) {
				fprintf(stderr, "warden train: at most %d --map options\n",
				        MAX_MAPS);
				return 2;
			}
			/* The label is compared by length against the text before '='. */
			a->map[a->nmap].from = v;
			a->map[a->nmap++].to = eq + 1;
		} else if (strcmp(o, "--map-file") == 0) {
			if (read_map_file(v, a))
				return 2;
		} else if (strcmp(o, "--by-category") == 0) {
			a->by_category = v;
		} else if (strcmp(o, "--split") == 0) {
			if (strcmp(v, "train") == 0) {
				a->with_valid = 0;
			} else if (strcmp(v, "train+valid") == 0) {
				a->with_valid = 1;
			} else {
				fprintf(stderr,
				        "warden train: --split %s: want train or train+valid\n", v);
				return 2;
			}
		} else if (strcmp(o, "--c") == 0) {
			char *end;
			errno = 0;
			double c = strtod(v, &end);
			if (errno || *end || end == v || !isfinite(c) || c <= 0) {
				fprintf(stderr, "warden train: --c %s: want a positive number\n",
				        v);
				return 2;
			}
			a->opts.c = c;
		} else if (strcmp(o, "--hidden") == 0 || strcmp(o, "--epochs") == 0) {
			char *end;
			errno = 0;
			unsigned long n = strtoul(v, &end, 10);
			if (errno || *end || end == v || *v == '-' || n == 0 || n > 64) {
				fprintf(stderr,
				        "warden train: %s %s: want a whole number from 1 to 64\n",
				        o, v);
				return 2;
			}
			if (o[2] == 'h')
				a->net.hidden = n;
			else
				a->net.epochs = (unsigned)n;
		} else {
			a->out = v;
		}
	}
	if (a->net.epochs && !a->net.hidden) {
		fprintf(stderr, "warden train: --epochs goes with --hidden\n");
		return 2;
	}
	if (a->net.hidden && (a->opts.l1 || a->by_category)) {
		fprintf(
		    stderr,
		    "warden train: --hidden trains a network: not with --l1 or --by-category\n");
		return 2;
	}
	if (!a->ndata || !a->nclass || !a->out) {
		fprintf(stderr, "warden train: --data, --classes and --out are required\n");
		return 2;
	}
	if (a->nclass < 2) {
		fprintf(stderr, "warden train: --classes needs at least two names\n");
		return 2;
	}
	if (a->net.hidden && a->nclass != 2) {
		fprintf(stderr, "warden train: --hidden: a network has two classes, not %zu\n",
		        a->nclass);
		return 2;
	}
	for (size_t i = 0; i < a->nmap; i++) {
		const char *to = a->map[i].to;
		size_t c = 0;
		while (c < a->nclass && strcmp(a->classes[c], to) != 0)
			c++;
		if (c == a->nclass) {
			fprintf(stderr, "warden train: --map %s: \"%s\" is not one of --classes\n",
			        a->map[i].from, to);
			return 2;
		}
	}
	return 0;
}

/* The class index of a record's label after --map, or -1. */
static int class_of(const struct args *a, const char *label)
{
	if (!label)
		return -1;
	size_t n = strlen(label);
	for (size_t i = 0; i < a->nmap; i++) {
		const char *from = a->map[i].from;
		if ((size_t)(a->map[i].to - 1 - from) == n && memcmp(from, label, n) == 0) {
			label = a->map[i].to;
			break;
		}
	}
	for (size_t c = 0; c < a->nclass; c++)
		if (strcmp(a->classes[c], label) == 0)
			return (int)c;
	return -1;
}

/* Prints the non-zero weights per class, from the header of the model file just written (the
 * model keeps no counts of its own). */
static void print_nnz(const char *path)
{
	char line[256], name[64];
	size_t nnz;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return;
	for (int i = 0; fgets(line, sizeof line, fp) && strcmp(line, "data\n") != 0; i++)
		if (i >= 3 && sscanf(line, "%63s %*s %zu", name, &nnz) == 2)
			fprintf(stderr, "  %-20s %zu non-zero weights\n", name, nnz);
	fclose(fp);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int wd_train_main(int argc, char **argv)
{
	struct args a = {0};
	int status = parse_args(argc, argv, &a);
	struct wd_sample *v = NULL;
	size_t nv = 0, nex = 0, skipped = 0;
	struct wd_train_example *ex = NULL;
	struct wd_linear *m = NULL;
	struct wd_net *net = NULL;
	struct wd_buf norm;
	size_t count[MAX_CLASSES] = {0};
	char err[1024];
	wd_buf_init(&norm, NORM_MAX);
	if (status) {
		if (status == 2)
			usage(stderr);
		else
			status = 0; /* --help */
		goto out;
	}
	status = 1;
	for (size_t i = 0; i < a.ndata; i++) {
		if (wd_dataset_load(a.data[i], &v, &nv, err, sizeof err)) {
			fprintf(stderr, "warden train: %s\n", err);
			goto out;
		}
	}
	ex = calloc(nv ? nv : 1, sizeof *ex);
	if (!ex) {
		fprintf(stderr, "warden train: out of memory\n");
		goto out;
	}
	double t0 = now();
	for (size_t i = 0; i < nv; i++) {
		const struct wd_sample *s = &v[i];
		/* --by-category: a category model over the records of one label */
		const char *key = !a.by_category                                     ? s->label
		                  : s->label && strcmp(s->label, a.by_category) == 0 ? s->category
		                                                                     : NULL;
		int c = key ? class_of(&a, key) : -1;
		int in_split =
		    s->split == WD_SPLIT_TRAIN || (a.with_valid && s->split == WD_SPLIT_VALID);
		if (c < 0 || !in_split) {
			skipped++;
			continue;
		}
		wd_buf_reset(&norm);
		int rc = wd_normalize_lines(s->text, strlen(s->text), &norm);
		struct wd_train_example *e = &ex[nex];
		wd_features_init(&e->f);
		if (!rc)
			rc = wd_features_extract(norm.data ? norm.data : "", norm.len,
			                         FEATURE_BYTES, a.opts.features, &e->f);
		if (rc) {
			fprintf(stderr, "warden train: record %s: features: %s\n",
			        s->id ? s->id : "(no id)", wd_strerror(rc));
			wd_features_free(&e->f);
			goto out;
		}
		e->label = c;
		e->weight = 1.0;
		count[c]++;
		nex++;
	}
	double t1 = now();
	if (a.net.hidden) {
		a.net.balance = a.opts.balance;
		a.net.features = a.opts.features;
		if (wd_net_train(ex, nex, a.classes, &a.net, &net, err, sizeof err) ||
		    wd_net_save(net, a.out, err, sizeof err)) {
			fprintf(stderr, "warden train: %s\n", err);
			goto out;
		}
	} else if (wd_linear_train(ex, nex, a.classes, a.nclass, &a.opts, &m, err, sizeof err) ||
	           wd_linear_save(m, a.out, err, sizeof err)) {
		fprintf(stderr, "warden train: %s\n", err);
		goto out;
	}
	double t2 = now();
	fprintf(stderr, "warden train: %zu records read, %zu used (%s split), %zu skipped\n", nv,
	        nex, a.with_valid ? "train+valid" : "train", skipped);
	for (size_t c = 0; c < a.nclass; c++)
		fprintf(stderr, "  %-20s %zu examples\n", a.classes[c], count[c]);
	if (a.net.hidden) {
		fprintf(stderr,
		        "warden train: network, %zu hidden units, %u passes%s: features %.2fs, "
		        "training %.2fs\n",
		        a.net.hidden, a.net.epochs ? a.net.epochs : 2,
		        a.opts.balance ? ", balanced" : "", t1 - t0, t2 - t1);
	} else {
		fprintf(stderr, "warden train: %s LR, C=%g%s: features %.2fs, training %.2fs\n",
		        a.opts.l1 ? "L1" : "L2", a.opts.c, a.opts.balance ? ", balanced" : "",
		        t1 - t0, t2 - t1);
		print_nnz(a.out);
	}
	fprintf(stderr, "warden train: wrote %s\n", a.out);
	status = 0;
out:
	for (size_t i = 0; i < nex; i++)
		wd_features_free(&ex[i].f);
	free(ex);
	wd_linear_free(m);
	wd_net_free(net);
	wd_dataset_free(v, nv);
	wd_buf_free(&norm);
	free(a.classbuf);
	return status;
}
