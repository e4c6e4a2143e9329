/* eval_cmd.c — `warden eval -c CONFIG --checker ID[,ID...] --data FILE... [--split test|valid|
 * train|all] [--positive harmful,...] [--negative benign,...] [--format text|json]`.
 *
 * Each record (its text as one user message) goes through each named checker alone, built from
 * the config exactly as `warden serve` would build it, so what is measured is what runs. A record
 * counts as flagged when the checker's verdict would be an incident (any action, observe mode
 * included) at the entry's threshold, or at the one --threshold or --target-fpr sets; --scores
 * writes every record's score, under the threshold too (the chain is then built to make an
 * incident of any score).
 * Records of the held-out split only (default test), so training data is never reported.
 * --target-fpr R chooses each checker's threshold on the validation split (the highest rate at
 * most R on its negatives) and reports the asked-for split at that threshold. */
#include "detect/eval_cmd.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chain/chain.h"
#include "core/config.h"
#include "core/err.h"
#include "detect/dataset.h"

struct tally {
	char name[160]; /* file or category */
	long pos, neg, tp, fp;
};

struct column {
	char id[64];
	struct wd_chain *chain;
	struct tally *files, *cats;
	size_t nfiles, ncats;
	double seconds;
	size_t bytes, records;
	/* hit = an incident scoring cut or more: the entry's threshold, --threshold's, or the one
	 * --target-fpr chose (with --scores or --target-fpr the chain makes an incident of any
	 * score, so that every record's is known) */
	double cut;
	double *neg; /* the validation negatives' scores while choosing it */
	size_t nneg, negcap;
};

static int push_score(struct column *c, double score)
{
	if (c->nneg == c->negcap) {
		size_t cap = c->negcap ? 2 * c->negcap : 256;
		double *p = realloc(c->neg, cap * sizeof *p);
		if (!p)
			return WD_ENOMEM;
		c->neg = p;
		c->negcap = cap;
	}
	c->neg[c->nneg++] = score;
	return WD_OK;
}

static int in_list(const char *label, const char *list)
{
	size_t n = strlen(label);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && strncmp(p, label, n) == 0)
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

static struct tally *tally_for(struct tally **v, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*v)[i].name, name) == 0)
			return &(*v)[i];
	}
	struct tally *p = realloc(*v, (*n + 1) * sizeof *p);
	if (!p)
		return NULL;
	*v = p;
	memset(&p[*n], 0, sizeof p[*n]);
	snprintf(p[*n].name, sizeof p[*n].name, "%s", name);
	return &p[(*n)++];
}

static void count(struct tally *t, int positive, int flagged)
{
	if (!t)
		return;
	if (positive) {
		t->pos++;
		t->tp += flagged;
	} else {
		t->neg++;
		t->fp += flagged;
	}
}

/* Builds a chain holding only the entry called id; *cut is the threshold that counts: threshold
 * when >= 0, else the entry's own. every: the chain makes an incident of any score (for --scores
 * and --target-fpr, which need every record's); else of what reaches *cut, as the proxy would
 * (make bench times it). */
static int build_one(const struct wd_conf *conf, const json_t *checkers, const char *id,
                     double threshold, int every, struct wd_chain **out, double *cut, char *err,
                     size_t errlen)
{
	size_t i;
	json_t *e;
	json_array_foreach(checkers, i, e)
	{
		const char *eid = json_string_value(json_object_get(e, "id"));
		if (eid && strcmp(eid, id) == 0) {
			json_t *one = json_array();
			json_t *copy = json_copy(e);
			const json_t *own = json_object_get(e, "threshold");
			*cut = threshold >= 0 ? threshold
			       : own          ? json_number_value(own)
			                      : WD_CHAIN_THRESHOLD;
			if (!own || json_is_number(own)) /* else the chain says what is wrong */
				json_object_set_new(copy, "threshold",
				                    json_real(every ? 1e-9 : *cut));
			/* what is scored is the action's threshold, not a band of flags below it */
			json_object_del(copy, "flag_threshold");
			json_array_append_new(one, copy);
			int rc = wd_chain_build(conf, one, out, err, errlen);
			json_decref(one);
			return rc;
		}
	}
	snprintf(err, errlen, "no checker with id \"%s\" in the config", id);
	return WD_ENOTFOUND;
}

/* An async checker's wake, for a host that simply waits (eval runs one record at a time). */
struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int woken;
};

static void wake(void *arg)
{
	struct waiter *w = arg;
	pthread_mutex_lock(&w->lock);
	w->woken = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Waits for the wake or the pending checker's deadline, then resumes or expires the run. */
static int wait_async(struct wd_run *run, struct waiter *w)
{
	long ms = wd_run_deadline_ms(run);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (!w->woken && ms >= 0 && pthread_cond_timedwait(&w->cond, &w->lock, &until) == 0)
		;
	int woken = w->woken;
	w->woken = 0;
	pthread_mutex_unlock(&w->lock);
	return woken ? wd_run_resume(run) : wd_run_expire(run);
}

/* Whether the chain made an incident of text; *score is the highest incident score (0 if none)
 * and cat that incident's category.
 * Async checkers (remote) are waited for, up to their timeout_ms. */
static int flagged_by(struct wd_chain *ch, const struct wd_sample *r, double *score, char *cat,
                      size_t catlen)
{
	*score = 0;
	cat[0] = '\0';
	/* the record's text as the newest user message, after its system prompt and its earlier
	 * messages when it has them */
	struct wd_part parts[WD_DATASET_MAX_CONTEXT + 2];
	struct wd_message msgs[WD_DATASET_MAX_CONTEXT + 2];
	size_t n = 0;
	if (r->system) {
		parts[n] = (struct wd_part){WD_PART_TEXT, r->system, strlen(r->system), NULL};
		msgs[n++] = (struct wd_message){.role = WD_ROLE_SYSTEM};
	}
	for (size_t i = 0; i < r->ncontext; i++, n++) {
		const char *t = r->context[i].content;
		parts[n] = (struct wd_part){WD_PART_TEXT, t, strlen(t), NULL};
		msgs[n] = (struct wd_message){.role = r->context[i].assistant ? WD_ROLE_ASSISTANT
		                                                              : WD_ROLE_USER};
	}
	parts[n] = (struct wd_part){WD_PART_TEXT, r->text, strlen(r->text), NULL};
	msgs[n++] = (struct wd_message){.role = WD_ROLE_USER};
	for (size_t i = 0; i < n; i++) {
		msgs[i].choice = -1;
		msgs[i].parts = &parts[i];
		msgs[i].nparts = 1;
	}
	struct wd_exchange x = {.route = WD_ROUTE_CHAT, .msgs = msgs, .nmsgs = n};
	struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	struct wd_run *run = wd_run_new(ch, "eval", wake, &w);
	if (!run)
		return 0;
	int rc = wd_run_request(run, WD_PHASE_REQUEST, &x);
	while (rc == WD_AGAIN)
		rc = wait_async(run, &w);
	size_t nout;
	const struct wd_outcome *o = wd_run_outcomes(run, &nout);
	int hit = 0;
	for (size_t i = 0; i < nout; i++)
		if (o[i].kind == WD_OUT_INCIDENT) {
			hit = 1;
			if (o[i].score > *score) {
				*score = o[i].score;
				snprintf(cat, catlen, "%s", o[i].category);
			}
		}
	wd_run_free(run);
	return hit;
}

static void write_score(FILE *fp, const char *file, const struct wd_sample *r, const char *checker,
                        double score, const char *found)
{
	json_t *o = json_pack("{s:s,s:s?,s:s,s:s?,s:s,s:f,s:s?}", "file", file, "id", r->id,
	                      "label", r->label, "category", r->category, "checker", checker,
	                      "score", score, "found", found[0] ? found : NULL);
	if (o) {
		json_dumpf(o, fp, JSON_COMPACT);
		fputc('\n', fp);
		json_decref(o);
	}
}

static double ratio(long a, long b)
{
	return b ? (double)a / (double)b : 0.0;
}

static json_t *tally_json(const struct tally *t)
{
	json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:I}", "name", t->name, "positives",
	                      (json_int_t)t->pos, "negatives", (json_int_t)t->neg, "true_positives",
	                      (json_int_t)t->tp, "false_positives", (json_int_t)t->fp);
	if (t->pos)
		json_object_set_new(o, "recall", json_real(ratio(t->tp, t->pos)));
	if (t->neg)
		json_object_set_new(o, "false_positive_rate", json_real(ratio(t->fp, t->neg)));
	if (t->tp + t->fp)
		json_object_set_new(o, "precision", json_real(ratio(t->tp, t->tp + t->fp)));
	return o;
}

static void print_tally(const struct tally *t)
{
	char rec[16] = "-", fpr[16] = "-", prec[16] = "-";
	if (t->pos)
		snprintf(rec, sizeof rec, "%.3f", ratio(t->tp, t->pos));
	if (t->neg)
		snprintf(fpr, sizeof fpr, "%.3f", ratio(t->fp, t->neg));
	if (t->tp + t->fp)
		snprintf(prec, sizeof prec, "%.3f", ratio(t->tp, t->tp + t->fp));
	printf("  %-48s %6ld %6ld %9s %9s %9s\n", t->name, t->pos, t->neg, prec, rec, fpr);
}

static int by_score_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

/* A threshold whose false-positive rate on the collected negatives is at most target: with k =
 * floor(target * n), any cut above the (k + 1)-th highest negative's score and up to the k-th's
 * gives that rate; the cut is the middle of that gap. The gap's lowest point would also hold the
 * most positives of this split, but it sits on a negative's score, and unseen negatives as high
 * as that are as likely as not: the rate on other data would run over the target. */
static void choose_cut(struct column *c, double target)
{
	c->cut = 1e-9;
	if (!c->nneg)
		return;
	qsort(c->neg, c->nneg, sizeof *c->neg, by_score_desc);
	size_t k = (size_t)(target * (double)c->nneg);
	if (k < c->nneg && c->neg[k] > 0)
		c->cut = (c->neg[k] + (k ? c->neg[k - 1] : 1.0)) / 2;
}

/* Runs every record of the split `want` (-1: all) through each column. calibrate: only keep the
 * negatives' scores (for choose_cut); else count hits (score >= cut when a cut was chosen, the
 * chain's own threshold otherwise) and write scores when asked. */
static int pass(struct column *cols, size_t ncols, const char *const *files, size_t nfiles,
                int want, const char *positive, const char *negative, int calibrate, FILE *scores,
                char *err, size_t errlen)
{
	for (size_t f = 0; f < nfiles; f++) {
		struct wd_sample *v = NULL;
		size_t n = 0;
		int rc = wd_dataset_load(files[f], &v, &n, err, errlen);
		if (rc)
			return rc;
		const char *base = strrchr(files[f], '/') ? strrchr(files[f], '/') + 1 : files[f];
		for (size_t i = 0; i < n && rc == WD_OK; i++) {
			const struct wd_sample *r = &v[i];
			if (!r->label || (want >= 0 && (int)r->split != want))
				continue;
			int pos = in_list(r->label, positive);
			if (!pos && !in_list(r->label, negative))
				continue;
			if (calibrate && pos)
				continue;
			char cat[160];
			snprintf(cat, sizeof cat, "%s%s%s",
			         pos ? "" : "benign: ", r->category ? r->category : r->label,
			         r->tricky ? " (tricky)" : "");
			for (size_t c = 0; c < ncols && rc == WD_OK; c++) {
				struct column *col = &cols[c];
				struct timespec t0, t1;
				clock_gettime(CLOCK_MONOTONIC, &t0);
				double score;
				char found[64];
				int hit = flagged_by(col->chain, r, &score, found, sizeof found);
				clock_gettime(CLOCK_MONOTONIC, &t1);
				if (calibrate) {
					rc = push_score(col, score);
					continue;
				}
				hit = hit && score >= col->cut;
				col->seconds += (double)(t1.tv_sec - t0.tv_sec) +
				                (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
				col->bytes += strlen(r->text);
				col->records++;
				count(tally_for(&col->files, &col->nfiles, base), pos, hit);
				count(tally_for(&col->cats, &col->ncats, cat), pos, hit);
				count(tally_for(&col->files, &col->nfiles, "ALL"), pos, hit);
				if (scores)
					write_score(scores, base, r, col->id, score, found);
			}
		}
		wd_dataset_free(v, n);
		if (rc) {
			snprintf(err, errlen, "out of memory");
			return rc;
		}
	}
	return WD_OK;
}

static void usage(void)
{
	fputs("usage: warden eval [-c CONFIG] --checker ID[,ID...] --data FILE [--data FILE ...]\n"
	      "                   [--split test|valid|train|all] [--positive LABELS]\n"
	      "                   [--negative LABELS] [--threshold T] [--format "
	      "text|json|markdown]\n"
	      "                   [--scores FILE]   (JSONL: each record's id, label, checker, "
	      "score, found category)\n"
	      "                   [--target-fpr R]  (threshold chosen on the validation split's "
	      "negatives\n"
	      "                                      for a false-positive rate of at most R)\n",
	      stderr);
}

int wd_eval_main(int argc, char **argv)
{
	const char *conf_path = "conf/warden.yaml", *ids = NULL, *split = "test";
	const char *positive = "harmful,jailbreak,injection", *negative = "benign";
	const char *scores_path = NULL;
	int json_out = 0, markdown = 0;
	double threshold = -1, target_fpr = -1;
	const char **files = calloc((size_t)argc + 1, sizeof *files);
	size_t nfiles = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			usage();
			free(files);
			return 2;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0)
			conf_path = v;
		else if (strcmp(a, "--checker") == 0)
			ids = v;
		else if (strcmp(a, "--data") == 0)
			files[nfiles++] = v;
		else if (strcmp(a, "--split") == 0)
			split = v;
		else if (strcmp(a, "--positive") == 0)
			positive = v;
		else if (strcmp(a, "--negative") == 0)
			negative = v;
		else if (strcmp(a, "--threshold") == 0)
			threshold = strtod(v, NULL);
		else if (strcmp(a, "--scores") == 0)
			scores_path = v;
		else if (strcmp(a, "--target-fpr") == 0) {
			char *end;
			target_fpr = strtod(v, &end);
			if (*end || end == v || !(target_fpr >= 0 && target_fpr < 1)) {
				fprintf(
				    stderr,
				    "warden eval: --target-fpr wants a rate in [0, 1), not %s\n",
				    v);
				free(files);
				return 2;
			}
		} else if (strcmp(a, "--format") == 0) {
			json_out = strcmp(v, "json") == 0;
			markdown = strcmp(v, "markdown") == 0;
		} else {
			fprintf(stderr, "warden eval: %s is not an option\n", a);
			usage();
			free(files);
			return 2;
		}
		i++;
	}
	if (!ids || !nfiles) {
		usage();
		free(files);
		return 2;
	}
	if (target_fpr >= 0 && (threshold >= 0 || strcmp(split, "valid") == 0)) {
		fprintf(stderr, "warden eval: --target-fpr chooses the threshold on the validation "
		                "split: it takes neither --threshold nor --split valid\n");
		free(files);
		return 2;
	}
	int want = strcmp(split, "all") == 0     ? -1
	           : strcmp(split, "train") == 0 ? WD_SPLIT_TRAIN
	           : strcmp(split, "valid") == 0 ? WD_SPLIT_VALID
	                                         : WD_SPLIT_TEST;
	char err[1024];
	struct wd_conf *conf = NULL;
	struct wd_settings s;
	if (wd_conf_load(conf_path, &conf, err, sizeof err) ||
	    wd_settings_load(conf, &s, err, sizeof err)) {
		fprintf(stderr, "warden eval: %s\n", err);
		wd_conf_free(conf);
		free(files);
		return 1;
	}
	wd_log_threshold = WD_LOG_ERROR;

	struct column cols[16];
	size_t ncols = 0;
	int status = 0;
	FILE *scores = NULL;
	if (scores_path && !(scores = fopen(scores_path, "w"))) {
		fprintf(stderr, "warden eval: %s: %s\n", scores_path, strerror(errno));
		status = 1;
		goto out;
	}
	for (const char *p = ids; p && *p && ncols < 16;) {
		const char *e = strchr(p, ',');
		struct column *c = &cols[ncols];
		memset(c, 0, sizeof *c);
		snprintf(c->id, sizeof c->id, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
		if (build_one(conf, s.checkers, c->id, threshold, scores || target_fpr >= 0,
		              &c->chain, &c->cut, err, sizeof err)) {
			fprintf(stderr, "warden eval: %s\n", err);
			status = 1;
			goto out;
		}
		ncols++;
		p = e ? e + 1 : NULL;
	}

	if (target_fpr >= 0) {
		/* thresholds from the validation split's negatives, then the asked-for split */
		if (pass(cols, ncols, files, nfiles, WD_SPLIT_VALID, positive, negative, 1, NULL,
		         err, sizeof err)) {
			fprintf(stderr, "warden eval: %s\n", err);
			status = 1;
			goto out;
		}
		for (size_t c = 0; c < ncols; c++)
			choose_cut(&cols[c], target_fpr);
	}
	if (pass(cols, ncols, files, nfiles, want, positive, negative, 0, scores, err,
	         sizeof err)) {
		fprintf(stderr, "warden eval: %s\n", err);
		status = 1;
		goto out;
	}
	for (size_t c = 0; c < ncols && target_fpr >= 0 && !json_out; c++)
		printf("%s: threshold %.4f (false-positive rate at most %.3f on the validation "
		       "split)\n",
		       cols[c].id, cols[c].cut, target_fpr);

	if (markdown) {
		/* one table: a row per file, a column group per checker (the README's table) */
		printf("| data (%s split) | + | − |", split);
		for (size_t c = 0; c < ncols; c++)
			printf(" %s recall | %s FPR |", cols[c].id, cols[c].id);
		printf("\n|---|---|---|");
		for (size_t c = 0; c < ncols; c++)
			printf("---|---|");
		printf("\n");
		for (size_t i = 0; ncols && i < cols[0].nfiles; i++) {
			const struct tally *t = &cols[0].files[i];
			printf("| %s | %ld | %ld |", t->name, t->pos, t->neg);
			for (size_t c = 0; c < ncols; c++) {
				const struct tally *u = &cols[c].files[i];
				char rec[16] = "", fpr[16] = "";
				if (u->pos)
					snprintf(rec, sizeof rec, "%.3f", ratio(u->tp, u->pos));
				if (u->neg)
					snprintf(fpr, sizeof fpr, "%.3f", ratio(u->fp, u->neg));
				printf(" %s | %s |", rec, fpr);
			}
			printf("\n");
		}
		for (size_t c = 0; c < ncols; c++)
			printf("\n%s: %.1f MB/s, %.1f µs per record", cols[c].id,
			       cols[c].seconds > 0 ? (double)cols[c].bytes / 1e6 / cols[c].seconds
			                           : 0.0,
			       cols[c].records ? cols[c].seconds * 1e6 / (double)cols[c].records
			                       : 0.0);
		printf("\n");
	} else if (json_out) {
		json_t *root = json_object();
		for (size_t c = 0; c < ncols; c++) {
			json_t *col = json_object(), *fa = json_array(), *ca = json_array();
			for (size_t i = 0; i < cols[c].nfiles; i++)
				json_array_append_new(fa, tally_json(&cols[c].files[i]));
			for (size_t i = 0; i < cols[c].ncats; i++)
				json_array_append_new(ca, tally_json(&cols[c].cats[i]));
			json_object_set_new(col, "files", fa);
			json_object_set_new(col, "categories", ca);
			json_object_set_new(
			    col, "mb_per_second",
			    json_real(cols[c].seconds > 0
			                  ? (double)cols[c].bytes / 1e6 / cols[c].seconds
			                  : 0));
			json_object_set_new(col, "threshold", json_real(cols[c].cut));
			json_object_set_new(root, cols[c].id, col);
		}
		char *txt = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
		if (txt)
			puts(txt);
		free(txt);
		json_decref(root);
	} else {
		for (size_t c = 0; c < ncols; c++) {
			double secs = cols[c].seconds;
			printf(
			    "checker %s (split %s): %zu records, %.1f MB/s, %.1f us per record\n",
			    cols[c].id, split, cols[c].records,
			    secs > 0 ? (double)cols[c].bytes / 1e6 / secs : 0.0,
			    cols[c].records ? secs * 1e6 / (double)cols[c].records : 0.0);
			printf("  %-48s %6s %6s %9s %9s %9s\n", "file", "pos", "neg", "precision",
			       "recall", "fpr");
			for (size_t i = 0; i < cols[c].nfiles; i++)
				print_tally(&cols[c].files[i]);
			printf("  %-48s\n", "by category:");
			for (size_t i = 0; i < cols[c].ncats; i++)
				print_tally(&cols[c].cats[i]);
		}
	}
out:
	if (scores && fclose(scores) != 0) {
		fprintf(stderr, "warden eval: %s: %s\n", scores_path, strerror(errno));
		status = 1;
	}
	for (size_t c = 0; c < ncols; c++) {
		wd_chain_free(cols[c].chain);
		free(cols[c].files);
		free(cols[c].cats);
		free(cols[c].neg);
	}
	wd_settings_free(&s);
	wd_conf_free(conf);
	free(files);
	return status;
}
