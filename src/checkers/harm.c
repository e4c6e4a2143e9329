/* harm.c — the `harm` checker: harmful requests and answers (MLCommons S1..S14). It scores the
 * conversation, not only its last message: the last user turn alone, the last `turns` user turns
 * together, and the `turns` before the last together, keeping the highest, so an escalation
 * spread over turns is still seen, and a harmful request is not diluted by the harmless-looking
 * follow-up after it ("OK. Which ingredients do I need, and how much of each?"). Answers
 * (finish) are scored as one text. The score comes from detect/classify (a linear model over
 * hashed n-grams + intent/topic/context rule packs); the category from the strongest rule, else
 * from the category model (category_model, which also puts its top CATEGORY_SCORES per-category
 * scores of a likely hit in the evidence), else "harm". A streamed answer is gathered per choice
 * and judged at its end, so as an enforcing block it holds the whole stream; as a flag (the
 * default) it holds nothing back. `categories` limits which categories may hit. A request's last
 * turn is also read in windows (detect/classify.h), so a request hidden in a pasted document is not
 * diluted; answers are read whole. Texts under HARM_SHORT_WORDS words lean benign.
 *
 * config: model (path of a linear model with classes benign, harmful), rules (directory of rule
 * packs), categories (list of ids; default all), turns (4), max_bytes (16384), category_model,
 * window_discount (WD_HARM_WINDOW_DISCOUNT; 0: no windows). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/checker.h"
#include "checkers/checkers.h"
#include "checkers/textconf.h"
#include "core/buf.h"
#include "core/err.h"
#include "detect/classify.h"

/* Texts shorter than this lean benign (detect/classify): an n-gram model reads artefacts into a
 * short message ("how many bones are in the human body": 0.88 at the classifier's default).
 * Chosen on the validation split: harmful-request recall at 5% false positives 0.845 at 8 (the
 * default), 0.863 at 12, 0.855 at 16, 0.846 at 20. At 12 none of xstest's safe prompts is
 * flagged (5.6% at 8), and 0.41 of its short unsafe contrasts are found (0.54 at 8, 0.31 at 16).
 * A sentence window keeps the default. */
#define HARM_SHORT_WORDS 12

struct harm {
	struct wd_classifier c;
	struct wd_linear *categories_model; /* names the category when no rule does; may be NULL */
	json_t *categories;                 /* array of strings, or NULL for all */
	int turns;
	double window_discount; /* for requests (detect/classify.h); answers are read whole */
};

/* How many of the category model's per-category scores an incident's evidence shows. */
#define CATEGORY_SCORES 3

/* A request's windows give up this much log-odds to the whole text: chosen on the validation
 * split (make eval). */
#define WD_HARM_WINDOW_DISCOUNT 3.5

static void harm_destroy(void *self)
{
	struct harm *h = self;
	if (!h)
		return;
	wd_classifier_free(&h->c);
	wd_linear_free(h->categories_model);
	json_decref(h->categories);
	free(h);
}

static int harm_init(const json_t *conf, void **self, char **err)
{
	static const char *const keys[] = {"model",           "rules",     "categories",
	                                   "turns",           "max_bytes", "category_model",
	                                   "window_discount", "network",   NULL};
	struct harm *h = calloc(1, sizeof *h);
	if (!h)
		return WD_ENOMEM;
	*self = h;
	struct wd_textconf tc;
	int rc = wd_textconf_parse(conf, keys, &tc, err);
	if (rc)
		return rc;
	h->turns = tc.turns;
	if (tc.categories)
		h->categories = json_incref((json_t *)tc.categories);
	char why[512];
	const json_t *cm = json_object_get(conf, "category_model");
	if (cm && (!json_is_string(cm) ||
	           wd_linear_load(json_string_value(cm), &h->categories_model, why, sizeof why))) {
		*err = strdup(json_is_string(cm) ? why : "category_model: must be a path");
		return WD_EINVAL;
	}
	rc = wd_classifier_load(&h->c, tc.model, "harmful", tc.rules,
	                        (1u << WD_RULE_INTENT) | (1u << WD_RULE_TOPIC) |
	                            (1u << WD_RULE_CONTEXT),
	                        tc.max_bytes, why, sizeof why);
	const json_t *nm = json_object_get(conf, "network");
	if (rc == WD_OK && nm) {
		if (!json_is_string(nm) || !tc.model) {
			snprintf(why, sizeof why, "network: %s",
			         json_is_string(nm) ? "goes with a model" : "must be a path");
			rc = WD_EINVAL;
		} else {
			rc = wd_classifier_load_net(&h->c, json_string_value(nm), "harmful", why,
			                            sizeof why);
		}
	}
	if (rc)
		*err = strdup(why);
	/* The models learnt English: text in another language leans benign, and the rule packs
	 * read it whatever the model says (detect/classify). */
	h->c.foreign_max = WD_CLASSIFY_FOREIGN_MAX;
	h->c.short_words = HARM_SHORT_WORDS;
	h->window_discount = tc.window_discount < 0 ? WD_HARM_WINDOW_DISCOUNT : tc.window_discount;
	return rc;
}

static int allowed(const struct harm *h, const char *category)
{
	if (!h->categories)
		return 1;
	size_t i;
	json_t *v;
	json_array_foreach(h->categories, i, v)
	{
		const char *c = json_string_value(v);
		size_t n = strlen(c);
		if (strcmp(c, category) == 0 ||
		    (strncmp(c, category, n) == 0 && category[n] == '.'))
			return 1;
	}
	return 0;
}

/* Fills v from the better of the texts' classifications. */
static int judge(const struct harm *h, const char *const *texts, const size_t *lens, size_t n,
                 int choice, struct wd_verdict *v)
{
	struct wd_classification best = {0}, cur;
	size_t which = 0;
	struct wd_classifier c = h->c;
	for (size_t i = 0; i < n; i++) {
		/* windows for a request's last turn (texts[0]): the turns before it had theirs
		 * when each was the last */
		c.window_discount = choice < 0 && i == 0 ? h->window_discount : 0;
		int rc = wd_classify(&c, texts[i], lens[i], &cur);
		if (rc)
			return rc;
		if (i == 0 || cur.score > best.score) {
			best = cur;
			which = i;
		}
	}
	/* for a likely hit, the category model's score of each category (on the window that
	 * decided, when one did); the strongest rule names the category, else the top one */
	double probs[WD_CLASSIFY_MAX_CLASSES];
	size_t k = 0;
	if (n && h->categories_model && best.score >= 0.5) {
		const char *t = best.window[0] ? best.window : texts[which];
		size_t tl = best.window[0] ? strlen(best.window) : lens[which];
		int rc = wd_classify_probs(h->categories_model, t, tl, h->c.max_bytes, probs);
		if (rc == WD_ENOMEM)
			return rc;
		k = rc == WD_OK ? wd_linear_nclass(h->categories_model) : 0;
	}
	size_t order[WD_CLASSIFY_MAX_CLASSES];
	for (size_t i = 0; i < k; i++) { /* classes by score, highest first */
		size_t j = i;
		for (; j > 0 && probs[order[j - 1]] < probs[i]; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	if (!best.category[0] && k)
		snprintf(best.category, sizeof best.category, "%s",
		         wd_linear_class(h->categories_model, order[0]));
	const char *cat = best.category[0] ? best.category : "harm";
	if (!n || !allowed(h, cat))
		return WD_OK;
	v->score = best.score;
	v->choice = choice;
	snprintf(v->category, sizeof v->category, "%s", cat);
	static const char *const scope[] = {"last", "conversation", "earlier"};
	v->evidence = wd_textconf_evidence(&best, texts[which], lens[which],
	                                   best.window[0] ? "window" : scope[which]);
	if (!v->evidence)
		return WD_ENOMEM;
	if (k) { /* the top CATEGORY_SCORES: [{"id": "S9", "p": 0.93}, ...] */
		json_t *scores = json_array();
		for (size_t i = 0; i < k && i < CATEGORY_SCORES; i++)
			json_array_append_new(
			    scores, json_pack("{s:s,s:f}", "id",
			                      wd_linear_class(h->categories_model, order[i]), "p",
			                      round(probs[order[i]] * 1000) / 1000));
		json_object_set_new(v->evidence, "categories", scores);
	}
	return WD_OK;
}

static int harm_check_request(void *self, struct wd_check_ctx *c, const struct wd_exchange *x,
                              struct wd_verdict *v)
{
	const struct harm *h = self;
	struct wd_buf last, convo, earlier;
	wd_buf_init(&last, h->c.max_bytes);
	wd_buf_init(&convo, h->c.max_bytes);
	wd_buf_init(&earlier, h->c.max_bytes);
	int rc = wd_textconf_user_turns(x, 1, &last);
	/* with one user turn (or turns: 1) the conversation is that turn: judged once */
	int several = wd_textconf_several_user_turns(x) && h->turns > 1;
	if ((rc == WD_OK || rc == WD_ETOOBIG) && several)
		rc = wd_textconf_user_turns(x, h->turns, &convo);
	if ((rc == WD_OK || rc == WD_ETOOBIG) && several)
		rc = wd_textconf_earlier_user_turns(x, h->turns, &earlier);
	if (rc == WD_ETOOBIG)
		rc = WD_OK; /* the bounded prefix is what is judged */
	if (rc == WD_OK && last.len) {
		const char *texts[3] = {last.data, convo.data, earlier.data};
		size_t lens[3] = {last.len, convo.len, earlier.len};
		rc = judge(h, texts, lens, convo.len > last.len ? (earlier.len ? 3 : 2) : 1, -1, v);
	}
	wd_buf_free(&last);
	wd_buf_free(&convo);
	wd_buf_free(&earlier);
	return rc;
}

/* A streamed answer's text, gathered per choice (bounded by max_bytes each) for finish. */
struct streamed {
	struct wd_buf text[8];
};

static int harm_check_chunk(void *self, struct wd_check_ctx *c, const struct wd_delta *d,
                            struct wd_verdict *v)
{
	const struct harm *h = self;
	if (d->kind != WD_DELTA_CONTENT || d->choice < 0 || d->choice >= 8)
		return WD_OK;
	struct streamed *st = c->state;
	if (!st) {
		st = c->state = calloc(1, sizeof *st);
		if (!st)
			return WD_ENOMEM;
		for (int i = 0; i < 8; i++)
			wd_buf_init(&st->text[i], h->c.max_bytes);
	}
	struct wd_buf *b = &st->text[d->choice];
	size_t room = b->max - b->len;
	wd_buf_append(b, d->text, d->len < room ? d->len : room); /* the bounded prefix is judged */
	return WD_OK;
}

/* The answer is judged whole: an enforcing block must hold the entire stream back. */
static size_t harm_holdback(const void *self)
{
	return SIZE_MAX;
}

static void harm_release(void *self, void *state)
{
	struct streamed *st = state;
	for (int i = 0; i < 8; i++)
		wd_buf_free(&st->text[i]);
	free(st);
}

static int harm_finish(void *self, struct wd_check_ctx *c, const struct wd_exchange *x,
                       struct wd_verdict *v)
{
	const struct harm *h = self;
	int rc = WD_OK;
	struct streamed *st = c->state;
	if (st && !x->nout) { /* a stream: judge what check_chunk gathered */
		for (int i = 0; i < 8 && rc == WD_OK; i++) {
			struct wd_verdict one = {.choice = -1};
			if (st->text[i].len) {
				const char *t = st->text[i].data;
				rc = judge(h, &t, &st->text[i].len, 1, i, &one);
			}
			if (one.score > v->score) {
				json_decref(v->evidence);
				*v = one;
			} else {
				json_decref(one.evidence);
			}
		}
		return rc;
	}
	for (size_t i = 0; i < x->nout && rc == WD_OK; i++) {
		struct wd_buf text;
		wd_buf_init(&text, h->c.max_bytes);
		wd_textconf_message_text(&x->out[i], &text);
		struct wd_verdict one = {.choice = -1};
		if (text.len) {
			const char *t = text.data;
			rc = judge(h, &t, &text.len, 1, x->out[i].choice, &one);
		}
		wd_buf_free(&text);
		if (one.score > v->score) { /* the worst choice speaks for the answer */
			json_decref(v->evidence);
			*v = one;
		} else {
			json_decref(one.evidence);
		}
	}
	return rc;
}

const struct wd_checker_type wd_checker_harm = {
    .name = "harm",
    .abi = WD_CHECKER_ABI,
    .init = harm_init,
    .destroy = harm_destroy,
    .check_request = harm_check_request,
    .check_chunk = harm_check_chunk,
    .finish = harm_finish,
    .release = harm_release,
    .holdback = harm_holdback,
};
