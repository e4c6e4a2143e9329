/* debug.c — the `debug` checker, shipped for tests (like Varnish's debug filters): it scores
 * texts containing `match` (every text when absent) with `score`, and can be made slow
 * (`delay_ms`, blocking the thread), asynchronous (`async_ms`: answers WD_AGAIN and wakes the
 * chain from a timer thread), or failing (`fail: true`). It lets tests drive every path of the
 * chain: merge, holdback, on_error, timeouts and async resumption.
 *
 * config: match (string), score (0..1, default 1), category ("debug"), delay_ms, async_ms,
 * fail (false), holdback (bytes, default 0). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/checker.h"
#include "checkers/checkers.h"
#include "core/err.h"

struct debug {
	char *match;
	double score;
	char category[64];
	long delay_ms, async_ms;
	int fail;
	size_t holdback;
};

/* One pending async answer, shared by the timer thread and the transaction: whoever drops the
 * last reference frees it. `cancelled` fences a late wake after release(). */
struct job {
	pthread_mutex_t lock;
	int refs, cancelled, ready;
	long ms;
	struct wd_check_ctx *ctx;
	struct wd_verdict result;
};

static void job_unref(struct job *j)
{
	pthread_mutex_lock(&j->lock);
	int last = --j->refs == 0;
	pthread_mutex_unlock(&j->lock);
	if (last) {
		json_decref(j->result.evidence);
		pthread_mutex_destroy(&j->lock);
		free(j);
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void *job_thread(void *arg)
{
	struct job *j = arg;
	sleep_ms(j->ms);
	pthread_mutex_lock(&j->lock);
	j->ready = 1;
	if (!j->cancelled)
		wd_check_wake(j->ctx);
	pthread_mutex_unlock(&j->lock);
	job_unref(j);
	return NULL;
}

static void debug_destroy(void *self)
{
	struct debug *d = self;
	if (d)
		free(d->match);
	free(d);
}

static int num(const json_t *conf, const char *key, double lo, double hi, double *out, char **err)
{
	const json_t *v = json_object_get(conf, key);
	if (!v)
		return WD_OK;
	if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi) {
		char buf[128];
		snprintf(buf, sizeof buf, "%s: must be a number from %g to %g", key, lo, hi);
		*err = strdup(buf);
		return WD_EINVAL;
	}
	*out = json_number_value(v);
	return WD_OK;
}

static int debug_init(const json_t *conf, void **self, char **err)
{
	struct debug *d = calloc(1, sizeof *d);
	if (!d)
		return WD_ENOMEM;
	*self = d;
	double score = 1, delay = 0, async = 0, hold = 0;
	const json_t *m = json_object_get(conf, "match"), *cat = json_object_get(conf, "category");
	const json_t *fail = json_object_get(conf, "fail");
	if ((m && !json_is_string(m)) || (cat && !json_is_string(cat)) ||
	    (fail && !json_is_boolean(fail))) {
		*err = strdup("match and category must be strings, fail a boolean");
		return WD_EINVAL;
	}
	if (num(conf, "score", 0, 1, &score, err) || num(conf, "delay_ms", 0, 60000, &delay, err) ||
	    num(conf, "async_ms", 0, 60000, &async, err) ||
	    num(conf, "holdback", 0, 1 << 20, &hold, err))
		return WD_EINVAL;
	d->match = m ? strdup(json_string_value(m)) : NULL;
	d->score = score;
	d->delay_ms = (long)delay;
	d->async_ms = (long)async;
	d->fail = fail && json_is_true(fail);
	d->holdback = (size_t)hold;
	snprintf(d->category, sizeof d->category, "%s", cat ? json_string_value(cat) : "debug");
	return WD_OK;
}

static int hits(const struct debug *d, const char *text, size_t len)
{
	if (!d->match)
		return 1;
	return text && memmem(text, len, d->match, strlen(d->match)) != NULL;
}

static void fill(const struct debug *d, struct wd_verdict *v, int choice)
{
	v->score = d->score;
	v->choice = choice;
	snprintf(v->category, sizeof v->category, "%s", d->category);
	v->evidence = json_pack("{s:s}", "rule", d->match ? d->match : "*");
}

/* Synchronous decision over a list of messages. */
static int judge(const struct debug *d, const struct wd_message *msgs, size_t n,
                 struct wd_verdict *v)
{
	if (d->delay_ms)
		sleep_ms(d->delay_ms);
	if (d->fail)
		return WD_EIO;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < msgs[i].nparts; j++) {
			if (msgs[i].parts[j].kind == WD_PART_TEXT &&
			    hits(d, msgs[i].parts[j].text, msgs[i].parts[j].len)) {
				fill(d, v, msgs[i].choice);
				return WD_OK;
			}
		}
	}
	if (!d->match && n == 0)
		fill(d, v, -1);
	return WD_OK;
}

/* Async path: the first call starts a timer thread and answers WD_AGAIN; the call after the
 * wake answers from the job. */
static int judge_async(const struct debug *d, struct wd_check_ctx *c, const struct wd_message *msgs,
                       size_t n, struct wd_verdict *v)
{
	struct job *j = c->state;
	if (j) {
		pthread_mutex_lock(&j->lock);
		int ready = j->ready;
		pthread_mutex_unlock(&j->lock);
		if (!ready)
			return WD_AGAIN;
		*v = j->result;
		j->result.evidence = NULL;
		job_unref(j);
		c->state = NULL;
		return d->fail ? WD_EIO : WD_OK;
	}
	j = calloc(1, sizeof *j);
	if (!j)
		return WD_ENOMEM;
	pthread_mutex_init(&j->lock, NULL);
	j->refs = 2;
	j->ms = d->async_ms;
	j->ctx = c;
	j->result.choice = -1;
	struct debug sync = *d;
	sync.delay_ms = 0;
	sync.fail = 0;
	judge(&sync, msgs, n, &j->result);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, job_thread, j) != 0) {
		pthread_attr_destroy(&attr);
		json_decref(j->result.evidence);
		pthread_mutex_destroy(&j->lock);
		free(j);
		return WD_EIO;
	}
	pthread_attr_destroy(&attr);
	c->state = j;
	return WD_AGAIN;
}

static int debug_check_request(void *self, struct wd_check_ctx *c, const struct wd_exchange *x,
                               struct wd_verdict *v)
{
	const struct debug *d = self;
	if (d->async_ms)
		return judge_async(d, c, x->msgs, x->nmsgs, v);
	return judge(d, x->msgs, x->nmsgs, v);
}

static int debug_check_chunk(void *self, struct wd_check_ctx *c, const struct wd_delta *dl,
                             struct wd_verdict *v)
{
	const struct debug *d = self;
	if (d->fail)
		return WD_EIO;
	if (d->match && hits(d, dl->text, dl->len))
		fill(d, v, dl->choice);
	return WD_OK;
}

static int debug_finish(void *self, struct wd_check_ctx *c, const struct wd_exchange *x,
                        struct wd_verdict *v)
{
	const struct debug *d = self;
	if (d->async_ms)
		return judge_async(d, c, x->out, x->nout, v);
	if (!x->nout && !d->fail && !d->delay_ms)
		return WD_OK; /* a stream: check_chunk already judged every delta */
	return judge(d, x->out, x->nout, v);
}

static void debug_release(void *self, void *state)
{
	struct job *j = state;
	pthread_mutex_lock(&j->lock);
	j->cancelled = 1;
	pthread_mutex_unlock(&j->lock);
	job_unref(j);
}

static size_t debug_holdback(const void *self)
{
	return ((const struct debug *)self)->holdback;
}

const struct wd_checker_type wd_checker_debug = {
    .name = "debug",
    .abi = WD_CHECKER_ABI,
    .init = debug_init,
    .destroy = debug_destroy,
    .check_request = debug_check_request,
    .check_chunk = debug_check_chunk,
    .finish = debug_finish,
    .release = debug_release,
    .holdback = debug_holdback,
};
