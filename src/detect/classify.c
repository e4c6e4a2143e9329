/* classify.c — model + rules scoring; see classify.h. */
#include "detect/classify.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/err.h"
#include "detect/features.h"
#include "detect/lexicon.h"
#include "detect/normalize.h"
#include "detect/unhide.h"

#if defined(__SSE2__) && !defined(WD_NO_SIMD)
#include <emmintrin.h>
#endif

/* Compiled rule packs, shared by every classifier of the process that names the same path and
 * counts the same kinds (the harm checkers of a config share one, the jailbreak checkers
 * another; compiling takes seconds). A matcher is read-only once compiled; the last classifier
 * to let go frees it. */
struct shared_rules {
	char *path;
	unsigned kinds;
	struct wd_matcher *m;
	unsigned refs;
	struct shared_rules *next;
};
static struct shared_rules *shared;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

static int rules_get(const char *path, unsigned kinds, struct wd_matcher **out, char *err,
                     size_t errlen)
{
	/* the same packs by another spelling ("conf/rules/", "./conf/rules") are the same */
	char *key = realpath(path, NULL);
	if (!key)
		key = strdup(path);
	if (!key) {
		snprintf(err, errlen, "out of memory");
		return WD_ENOMEM;
	}
	int rc = WD_OK;
	pthread_mutex_lock(&shared_lock);
	struct shared_rules *s = shared;
	while (s && (s->kinds != kinds || strcmp(s->path, key) != 0))
		s = s->next;
	if (!s) {
		s = calloc(1, sizeof *s);
		if (!s) {
			rc = WD_ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		s->path = key;
		s->kinds = kinds;
		key = NULL;
		/* a directory of packs, or one pack file */
		struct stat st;
		rc = stat(path, &st) == 0 && S_ISREG(st.st_mode)
		         ? wd_matcher_load(&path, 1, kinds, &s->m, err, errlen)
		         : wd_matcher_load_dir(path, kinds, &s->m, err, errlen);
		if (rc) {
			free(s->path);
			free(s);
			goto out;
		}
		s->next = shared;
		shared = s;
	}
	s->refs++;
	*out = s->m;
out:
	pthread_mutex_unlock(&shared_lock);
	free(key);
	return rc;
}

static void rules_put(struct wd_matcher *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&shared_lock);
	for (struct shared_rules **p = &shared; *p; p = &(*p)->next) {
		struct shared_rules *s = *p;
		if (s->m != m)
			continue;
		if (--s->refs == 0) {
			*p = s->next;
			wd_matcher_free(s->m);
			free(s->path);
			free(s);
		}
		break;
	}
	pthread_mutex_unlock(&shared_lock);
}

static void tables_build(void);

int wd_classifier_load(struct wd_classifier *c, const char *model, const char *positive,
                       const char *rules_dir, unsigned kinds, size_t max_bytes, char *err,
                       size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->kinds = kinds;
	c->max_bytes = max_bytes ? max_bytes : 16384;
	if (!model && !rules_dir) {
		snprintf(err, errlen, "needs a model, rules, or both");
		return WD_EINVAL;
	}
	if (model) {
		int rc = wd_linear_load(model, &c->model, err, errlen);
		if (rc)
			return rc;
		c->cls = wd_linear_find(c->model, positive);
		if (c->cls < 0) {
			snprintf(err, errlen, "model %s has no class \"%s\"", model, positive);
			wd_classifier_free(c);
			return WD_EINVAL;
		}
	}
	if (rules_dir) {
		int rc = rules_get(rules_dir, kinds, &c->rules, err, errlen);
		if (rc) {
			wd_classifier_free(c);
			return rc;
		}
	}
	tables_build(); /* here, not in the first request */
	return WD_OK;
}

int wd_classifier_load_strong(struct wd_classifier *c, const char *rules_dir, char *err,
                              size_t errlen)
{
	/* packs without a strong rule of these kinds leave it NULL (nothing to scan for) */
	rules_put(c->strong);
	c->strong = NULL;
	for (size_t i = 0; c->rules && i < wd_matcher_rule_count(c->rules); i++) {
		const struct wd_rule *r = wd_matcher_rule(c->rules, i);
		if ((c->kinds & (1u << r->kind)) && r->weight >= WD_RULE_STRONG_WEIGHT)
			return rules_get(rules_dir, c->kinds | WD_RULE_STRONG_ONLY, &c->strong, err,
			                 errlen);
	}
	return WD_OK;
}

int wd_classifier_load_net(struct wd_classifier *c, const char *path, const char *positive,
                           char *err, size_t errlen)
{
	wd_net_free(c->net);
	c->net = NULL;
	int rc = wd_net_load(path, &c->net, err, errlen);
	if (rc == WD_OK && strcmp(wd_net_class(c->net, 1), positive) != 0) {
		snprintf(err, errlen, "network %s: its class 1 is \"%s\", not \"%s\"", path,
		         wd_net_class(c->net, 1), positive);
		wd_net_free(c->net);
		c->net = NULL;
		rc = WD_EINVAL;
	}
	return rc;
}

void wd_classifier_free(struct wd_classifier *c)
{
	wd_linear_free(c->model);
	wd_net_free(c->net);
	rules_put(c->rules);
	rules_put(c->strong);
	memset(c, 0, sizeof *c);
}

#define SHORT_PRIOR 0.05

/* Words of a normalised text: bytes other than a space or a line or paragraph break
 * (wd_normalize_lines) that follow one or start it. With SSE2, 16 bytes at a time (a word starts
 * where a non-space bit follows a space bit). */
static size_t count_words(const char *t, size_t len)
{
	size_t n = 0, i = 0;
	unsigned prev = 0; /* 1 when the byte before i is not a space (0 at the start) */
#if defined(__SSE2__) && !defined(WD_NO_SIMD)
	for (; len - i >= 16; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
		__m128i gap = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')),
		                           _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')),
		                                        _mm_cmpeq_epi8(x, _mm_set1_epi8('\f'))));
		unsigned word = ~(unsigned)_mm_movemask_epi8(gap) & 0xFFFFu;
		uint32_t starts = word & ~((word << 1) | prev);
		/* popcount without the popcnt instruction (the build does not assume it) */
		starts -= (starts >> 1) & 0x5555u;
		starts = (starts & 0x3333u) + ((starts >> 2) & 0x3333u);
		starts = (starts + (starts >> 4)) & 0x0F0Fu;
		n += (starts + (starts >> 8)) & 0x1Fu;
		prev = word >> 15;
	}
#endif
	for (; i < len; i++) {
		unsigned word = t[i] != ' ' && t[i] != '\n' && t[i] != '\f';
		n += word & (prev ^ 1u);
		prev = word;
	}
	return n;
}

/* Common function words of other European languages (as the normaliser leaves them: accents
 * dropped), one string of words per language; none of them an English word, abbreviation or
 * name ("die", "son", "per", "till", "od" and the like are left out). With the words in other
 * scripts (any byte left above ASCII after normalisation: Cyrillic, Greek, Arabic, Devanagari,
 * CJK...), their share of a text's words tells another language from English; English prose and
 * code have next to none. Looked up by a 32-bit FNV-1a hash in a table that stays in L1. */
static const char *const foreign_words[] = {
    /* French */
    "de le les des du un une en pour que qui dans sur aux ce cette "
    "sont avec mais ou je tu il elle nous vous ils leur mon sa mes tes ses se comme",
    /* Spanish */
    "el los las del una unos unas es por para pero muy yo usted nosotros su sus "
    "como cuando donde porque esta este estos",
    /* Portuguese */
    "os uma dos das pelo pela ele ela seu sua muito isso nao voce pode qual mais ao aos nas "
    "tambem",
    /* Italian */
    "gli di della delle dei che sono mio tuo tua suo nel nella questo questa "
    "anche",
    /* German */
    "der und ist nicht ein eine einen auf ich sie wir ihr sich auch wie kann bitte "
    "oder aber wenn dass zu vom zum",
    /* Dutch */
    "het een niet te voor zijn ik jij hij wij jullie ze maar ook wat hoe",
    /* Polish */
    "nie na czy mnie dla przez jestem bardzo tylko juz oraz ktory ktora ktore prosze moze",
    /* Swedish */
    "att det som inte med jag ni ett hur vad",
    /* Danish and Norwegian */
    "ikke jeg af hvordan hvad ogsa hvis eller kan skal vil meget",
};
#define FOREIGN_SLOTS 1024
static uint32_t foreign_table[FOREIGN_SLOTS]; /* hash | 1 (0 = empty) */
static pthread_once_t foreign_once = PTHREAD_ONCE_INIT;

static uint32_t fnv(const char *w, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)w[i]) * 16777619u;
	return h | 1;
}

static void foreign_build(void)
{
	for (size_t k = 0; k < sizeof foreign_words / sizeof foreign_words[0]; k++)
		for (const char *w = foreign_words[k]; *w;) {
			size_t n = strcspn(w, " ");
			uint32_t h = fnv(w, n), i = h % FOREIGN_SLOTS;
			while (foreign_table[i] && foreign_table[i] != h)
				i = (i + 1) % FOREIGN_SLOTS;
			foreign_table[i] = h;
			w += n + (w[n] == ' ');
		}
}

/* The word tables a text's scoring reads, built once per process. */
static void tables_build(void)
{
	pthread_once(&foreign_once, foreign_build);
	wd_lexicon_init();
}

static int is_foreign_hash(uint32_t h)
{
	for (uint32_t i = h % FOREIGN_SLOTS; foreign_table[i]; i = (i + 1) % FOREIGN_SLOTS)
		if (foreign_table[i] == h)
			return 1;
	return 0;
}

/* The share of another language's words among a normalised text's words (runs of letters,
 * digits, apostrophes and non-ASCII bytes): the lowest over any FOREIGN_RUN consecutive words,
 * so English anywhere in the text counts and padding it with another language does not hide
 * it; over the whole text when it is shorter, 0 for a text without words. One pass: each word
 * is hashed as it is read. */
#define FOREIGN_RUN 16
static double foreign_share(const char *t, size_t len)
{
	pthread_once(&foreign_once, foreign_build);
	unsigned char last[FOREIGN_RUN] = {0}; /* the flags of the last FOREIGN_RUN words */
	size_t words = 0, in_run = 0, least = 0, n = 0;
	unsigned high = 0; /* a byte above ASCII in the word: another script */
	uint32_t h = 2166136261u;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)t[i] : ' ';
		if ((unsigned)(c - 'a') < 26 || (unsigned)(c - '0') < 10 || c == '\'' ||
		    c >= 0x80) {
			h = (h ^ c) * 16777619u;
			high |= c >> 7;
			n++;
			continue;
		}
		if (n) {
			unsigned char f = high || (n <= 8 && is_foreign_hash(h | 1));
			in_run += f;
			in_run -=
			    last[words % FOREIGN_RUN]; /* the word leaving the run (0 at first) */
			last[words % FOREIGN_RUN] = f;
			words++;
			if (words == FOREIGN_RUN || (words > FOREIGN_RUN && in_run < least))
				least = in_run;
		}
		n = 0;
		high = 0;
		h = 2166136261u;
	}
	if (!words)
		return 0;
	return words < FOREIGN_RUN ? (double)in_run / (double)words
	                           : (double)least / (double)FOREIGN_RUN;
}

static double logit(double p)
{
	if (p < 1e-6)
		p = 1e-6;
	if (p > 1 - 1e-6)
		p = 1 - 1e-6;
	return log(p / (1 - p));
}

/* The last text this thread prepared (normalised, its words counted, hashed when a model
 * asks). The harm and jailbreak checkers usually score the same turn one after the
 * other, so the second finds it here. Exact: the raw bytes are compared. A second slot holds
 * what wd_classify_probs reads when it is not that text (the harm checker's category model on
 * the window that decided), so the turn stays cached for the jailbreak checker. Freed when the
 * thread exits. */
struct prepared {
	struct wd_buf raw, norm;
	struct wd_buf hidden; /* text hidden in the raw one (detect/unhide), decoded */
	struct wd_buf flat;   /* norm with its line and paragraph breaks as spaces, for the rule
	                         packs (made when norm has one and a rule scan asks) */
	struct wd_feature_keys keys;   /* hashed once; every model reads them */
	struct wd_feature_keys window; /* one window's keys (wd_classifier.window_discount) */
	int hashed;                    /* keys are made */
	size_t words;                  /* in norm */
	double foreign;                /* foreign_share of norm; < 0 until a classifier asks */
	size_t max_bytes;
	int valid;
};

enum { SLOT_MAIN, SLOT_ASIDE, SLOTS };
static __thread struct prepared *cache; /* SLOTS of them */
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void free_prepared(void *arg)
{
	struct prepared *slots = arg;
	for (int s = 0; s < SLOTS; s++) {
		struct prepared *p = &slots[s];
		wd_buf_free(&p->raw);
		wd_buf_free(&p->norm);
		wd_buf_free(&p->hidden);
		wd_buf_free(&p->flat);
		wd_feature_keys_free(&p->window);
		wd_feature_keys_free(&p->keys);
	}
	free(slots);
}

static void make_cache_key(void)
{
	pthread_key_create(&cache_key, free_prepared);
}

/* Whether slot p holds text[0..len) prepared for max_bytes. */
static int holds(const struct prepared *p, const char *text, size_t len, size_t max_bytes)
{
	return p->valid && p->max_bytes == max_bytes && p->raw.len == len &&
	       (len == 0 || memcmp(p->raw.data, text, len) == 0);
}

/* text[0..len) normalised and its words counted in cache slot `slot`, as it is or made now
 * (keys come later, when a model asks: keys_for). NULL on error (*rc). */
static struct prepared *prepare(const char *text, size_t len, size_t max_bytes, int slot, int *rc)
{
	if (!cache) {
		cache = calloc(SLOTS, sizeof *cache);
		if (!cache) {
			*rc = WD_ENOMEM;
			return NULL;
		}
		for (int s = 0; s < SLOTS; s++) {
			wd_feature_keys_init(&cache[s].window);
			wd_feature_keys_init(&cache[s].keys);
		}
		pthread_once(&cache_once, make_cache_key);
		pthread_setspecific(cache_key, cache);
	}
	struct prepared *p = &cache[slot];
	if (holds(p, text, len, max_bytes))
		return p;
	p->valid = 0;
	if (p->max_bytes == max_bytes) { /* keep the storage: this is the per-request path */
		wd_buf_reset(&p->raw);
		wd_buf_reset(&p->norm);
		wd_buf_reset(&p->hidden);
		wd_buf_reset(&p->flat);
	} else {
		wd_buf_free(&p->raw);
		wd_buf_free(&p->norm);
		wd_buf_free(&p->hidden);
		wd_buf_free(&p->flat);
		wd_buf_init(&p->raw, max_bytes);
		wd_buf_init(&p->norm, 8 * max_bytes + 32);
		wd_buf_init(&p->hidden, max_bytes);
		wd_buf_init(&p->flat, 8 * max_bytes + 32);
		p->max_bytes = max_bytes;
	}
	*rc = wd_buf_append(&p->raw, text, len);
	if (*rc == WD_OK)
		*rc = wd_normalize_lines(text, len, &p->norm);
	if (*rc)
		return NULL;
	/* the words the sender wrote; what base64 hid is read too, after the text (what does not
	 * fit is left out), but does not lengthen a short message */
	p->words = count_words(p->norm.data ? p->norm.data : "", p->norm.len);
	if (wd_unhide(text, len, &p->hidden) != 0 && p->hidden.len)
		(void)wd_normalize_lines(p->hidden.data, p->hidden.len, &p->norm);
	p->hashed = 0;
	p->foreign = -1;
	p->valid = 1;
	return p;
}

/* The prepared text's keys (made on first use). NULL on error (*rc). */
static struct wd_feature_keys *keys_for(struct prepared *p, int *rc)
{
	if (!p->hashed) {
		*rc = wd_feature_keys_make(p->norm.data ? p->norm.data : "", p->norm.len,
		                           p->max_bytes, &p->keys);
		if (*rc)
			return NULL;
		p->hashed = 1;
	}
	return &p->keys;
}

/* The prepared text as the rule packs read it: its line and paragraph breaks as spaces (patterns
 * are written for one space between words; "ignore all\nprevious instructions" must still match),
 * at the same offsets. NULL when out of memory. */
static const char *flat_text(struct prepared *p)
{
	const char *t = p->norm.data ? p->norm.data : "";
	if (!memchr(t, '\n', p->norm.len) && !memchr(t, '\f', p->norm.len))
		return t;
	if (p->flat.len != p->norm.len) {
		wd_buf_reset(&p->flat);
		if (wd_buf_append(&p->flat, t, p->norm.len))
			return NULL;
		for (size_t i = 0; i < p->flat.len; i++)
			if (p->flat.data[i] == '\n' || p->flat.data[i] == '\f')
				p->flat.data[i] = ' ';
	}
	return p->flat.data;
}

/* One text's log-odds into out (score, model_p, rules, hits, category) and *z: the prepared
 * text, or a window of it (its bytes [at, at + len)); k is its keys (NULL: the model is not
 * read), words its word count; the rule packs are read from a model probability of gate. */
static int score(const struct wd_classifier *c, struct prepared *p, struct wd_feature_keys *k,
                 size_t at, size_t len, size_t words, double gate, struct wd_classification *out,
                 double *zout)
{
	double z = 0, raw = 0.5;
	int foreign = 0; /* another language: the rules read it whatever the model says */
	if (c->model) {
		double probs[16];
		if (k) {
			int rc = wd_linear_predict_keys(c->model, k, probs);
			if (rc)
				return rc;
			out->model_p = probs[c->cls];
			double from = c->net_from > 0 ? c->net_from : WD_CLASSIFY_NET_FROM;
			if (c->net && out->model_p >= from) {
				double pn;
				rc = wd_net_predict_keys(c->net, k, &pn);
				if (rc)
					return rc;
				out->net_p = pn;
				double zm = (logit(out->model_p) + logit(pn)) / 2;
				out->model_p = 1.0 / (1.0 + exp(-zm));
			}
		}
		/* A short text carries little evidence, and n-gram models trained on long prompts
		 * read artefacts into it ("hello" opens many jailbreak templates). Below
		 * short_words words the model's log-odds are pulled toward a benign prior in
		 * proportion to what is missing. */
		size_t sw = c->short_words ? c->short_words : WD_CLASSIFY_SHORT_WORDS;
		double frac = (double)words / (double)sw;
		if (frac > 1)
			frac = 1;
		if (c->foreign_max > 0) {
			if (p->foreign < 0) /* once per text, whichever checker asks first */
				p->foreign =
				    foreign_share(p->norm.data ? p->norm.data : "", p->norm.len);
			double share = p->foreign / c->foreign_max;
			/* half way: the rules read it whatever the model says */
			foreign = share > 0.5;
			frac *= share < 1 ? 1 - share : 0;
		}
		raw = out->model_p;
		z = frac * logit(out->model_p) + (1 - frac) * logit(SHORT_PRIOR);
		out->model_p = 1.0 / (1.0 + exp(-z));
	}
	/* Rules refine what the model finds suspicious (category, benign framings); a text the
	 * model clears is not scanned, which keeps the common case fast. The model's own
	 * probability decides, before the priors for short or foreign text, and text in another
	 * language is always scanned: the model cannot clear what it cannot read. */
	const int asked = !c->model || raw >= gate || foreign;
	const int strong = !asked && c->rules_always == WD_RULES_STRONG;
	/* no strong rule loaded: nothing to find where the model finds nothing */
	const struct wd_matcher *rules = strong ? c->strong : c->rules;
	if (rules && (asked || c->rules_always)) {
		size_t max = wd_matcher_rule_count(rules), n = 0;
		struct wd_rule_hit hits[256];
		const char *t = flat_text(p);
		if (!t)
			return WD_ENOMEM;
		int rc = wd_matcher_scan(rules, t + at, len, hits, max < 256 ? max : 256, &n);
		if (rc)
			return rc;
		double best = 0;
		for (size_t i = 0; i < n; i++) {
			const struct wd_rule *r = hits[i].rule;
			if (!(c->kinds & (1u << r->kind)))
				continue;
			out->rules += r->weight;
			if (out->nhits < sizeof out->hits / sizeof out->hits[0])
				out->hits[out->nhits++] = r;
			if (r->weight > best && strcmp(r->category, "any") != 0) {
				best = r->weight;
				out->strongest = r;
			}
		}
		if (out->strongest)
			snprintf(out->category, sizeof out->category, "%s",
			         out->strongest->category);
		z += out->rules;
	}
	out->score = 1.0 / (1.0 + exp(-z));
	*zout = z;
	return WD_OK;
}

/* The word classes of a sentence that asks for something: a how-to frame, a verb of making or
 * of getting. Only such harm spans are windows: on the hidden requests of make eval as many are
 * found as with every harm span, with fewer false positives (1.5% against 1.8%), and a benign
 * 1 KB prompt has half as many (1.2 sentences, 160 bytes, on average). */
#define WINDOW_ASKS (1u << WD_LEX_HOWTO | 1u << WD_LEX_MAKE | 1u << WD_LEX_OBTAIN)

/* A window reaches the rule packs, and the network (classify.h), from this model probability (a
 * whole text from WD_CLASSIFY_RULE_GATE and WD_CLASSIFY_NET_FROM): a sentence out of its context
 * often reads above 0.6, and make eval's tables are the same from 0.6 to 0.9, with a fifth less
 * time for windows on benign prompts. */
#define WINDOW_RULE_GATE 0.9

/* One window t[s, e) of the prepared text p, pulled toward the benign prior below short_words
 * words: when its log-odds less the discount beat *z, it takes out over (and *z). */
static int score_window(const struct wd_classifier *c, struct prepared *p, size_t s, size_t e,
                        size_t short_words, struct wd_classification *out, double *z)
{
	const char *t = p->norm.data;
	int rc = wd_feature_keys_make(t + s, e - s, e - s, &p->window);
	struct wd_classification w = {.model_p = 0.5};
	double zw;
	/* the rules that read every text read the whole of it: a window's are the model's */
	struct wd_classifier wc = *c;
	wc.rules_always = 0;
	wc.short_words = short_words;
	wc.net_from = WINDOW_RULE_GATE;
	if (rc == WD_OK)
		rc = score(&wc, p, &p->window, s, e - s, count_words(t + s, e - s),
		           WINDOW_RULE_GATE, &w, &zw);
	if (rc)
		return rc;
	zw -= c->window_discount;
	if (zw <= *z)
		return WD_OK;
	*z = zw;
	w.score = 1.0 / (1.0 + exp(-zw));
	const char *shown = flat_text(p); /* line breaks as spaces */
	if (!shown)
		shown = t;
	size_t n = wd_utf8_prefix(shown + s, e - s, sizeof w.window - 1);
	memcpy(w.window, shown + s, n);
	w.window[n] = 0;
	*out = w;
	return WD_OK;
}

/* Whether a byte of a normalised text (wd_normalize_lines) is between words. */
static int gap(char ch)
{
	return ch == ' ' || ch == '\n' || ch == '\f';
}

/* The windows of c->window_discount (classify.h) for the prepared text p, whose whole-text
 * log-odds are z: each span of detect/features that names harm and asks for something, from
 * both ends of the text in turn (decoys after a request, or before it, do not use up the
 * budget alone); a longer one (a sentence run on, a request without its full stop) by its first
 * half window and in windows of WD_CLASSIFY_WINDOW bytes that overlap by half, at word edges.
 * At most WD_CLASSIFY_WINDOW_BUDGET bytes in all. */

static int score_windows(const struct wd_classifier *c, struct prepared *p,
                         struct wd_classification *out, double z)
{
	const struct wd_feature_keys *k = &p->keys;
	const char *t = p->norm.data;
	size_t budget = WD_CLASSIFY_WINDOW_BUDGET;
	for (size_t r = 0; r < k->nharm; r++) {
		/* from both ends in turn: the last span, the first, the one before the last... */
		const struct wd_text_span *h = &k->harm[r % 2 ? r / 2 : k->nharm - 1 - r / 2];
		size_t s = h->start, e = h->end;
		if (!(h->cls & WINDOW_ASKS))
			continue;
		if (e - s > WD_CLASSIFY_WINDOW) {
			/* its head alone too: a request run on into the next sentence without a
			 * full stop starts the span, and half a window holds most requests */
			size_t b = s + WD_CLASSIFY_WINDOW / 2;
			while (b > s && !gap(t[b]))
				b--;
			if (b > s && b - s <= budget) {
				budget -= b - s;
				int rc = score_window(c, p, s, b, WD_CLASSIFY_SHORT_WORDS, out, &z);
				if (rc)
					return rc;
			}
		}
		for (size_t a = s;;) {
			size_t b = e - a > WD_CLASSIFY_WINDOW ? a + WD_CLASSIFY_WINDOW : e;
			while (b < e && b > a && !gap(t[b])) /* end at a word's end */
				b--;
			if (b == a) /* one word longer than a window */
				b = a + WD_CLASSIFY_WINDOW;
			if (b - a > budget) /* a shorter span may still fit */
				break;
			budget -= b - a;
			int rc = score_window(c, p, a, b, WD_CLASSIFY_SHORT_WORDS, out, &z);
			if (rc)
				return rc;
			if (b == e)
				break;
			/* the next starts at a word, half a window on (or where this one ended) */
			a = a + WD_CLASSIFY_WINDOW / 2 < b ? a + WD_CLASSIFY_WINDOW / 2 : b;
			while (a < b && !gap(t[a - 1]))
				a++;
		}
	}
	return WD_OK;
}

/* The paragraphs of the prepared text p as windows (WD_WINDOWS_PARAGRAPHS), whose whole-text
 * log-odds are z: each run between paragraph breaks ('\f', wd_normalize_lines) taken from both
 * ends in turn, a long one by its first bytes within what is left of
 * WD_CLASSIFY_WINDOW_BUDGET. A text of one paragraph has none. */
static int score_paragraphs(const struct wd_classifier *c, struct prepared *p,
                            struct wd_classification *out, double z)
{
	const char *t = p->norm.data;
	size_t front = 0, back = p->norm.len, budget = WD_CLASSIFY_WINDOW_BUDGET;
	if (!memchr(t, '\f', back))
		return WD_OK;
	for (int from_back = 0; front < back && budget > 0; from_back = !from_back) {
		size_t s, e;
		if (from_back) {
			const char *f = memrchr(t + front, '\f', back - front);
			s = f ? (size_t)(f - t) + 1 : front;
			e = back;
			back = f ? (size_t)(f - t) : front;
		} else {
			const char *f = memchr(t + front, '\f', back - front);
			s = front;
			e = f ? (size_t)(f - t) : back;
			front = f ? e + 1 : back;
		}
		while (s < e && gap(t[s]))
			s++;
		while (e > s && gap(t[e - 1]))
			e--;
		if (e - s > budget) /* at a word's end within the budget */
			for (e = s + budget; e > s && !gap(t[e]); e--)
				;
		if (e == s)
			continue;
		budget -= e - s;
		int rc = score_window(c, p, s, e, c->short_words, out, &z);
		if (rc)
			return rc;
	}
	return WD_OK;
}

int wd_classify(const struct wd_classifier *c, const char *text, size_t len,
                struct wd_classification *out)
{
	memset(out, 0, sizeof *out);
	out->model_p = 0.5;
	if (len > c->max_bytes)
		len = c->max_bytes;
	int rc = WD_OK;
	struct prepared *p = prepare(text, len, c->max_bytes, SLOT_MAIN, &rc);
	if (!p)
		return rc;
	struct wd_feature_keys *k = NULL;
	if (c->model && wd_linear_nclass(c->model) <= 16) {
		k = keys_for(p, &rc);
		if (!k)
			return rc;
	}
	double z;
	rc = score(c, p, k, 0, p->norm.len, p->words, WD_CLASSIFY_RULE_GATE, out, &z);
	if (rc == WD_OK && k && c->window_discount > 0 && p->norm.len > WD_CLASSIFY_WINDOWS_FROM)
		rc = c->windows == WD_WINDOWS_PARAGRAPHS ? score_paragraphs(c, p, out, z)
		                                         : score_windows(c, p, out, z);
	return rc;
}

int wd_classify_probs(const struct wd_linear *m, const char *text, size_t len, size_t max_bytes,
                      double *probs)
{
	size_t nclass = wd_linear_nclass(m);
	if (nclass == 0 || nclass > WD_CLASSIFY_MAX_CLASSES)
		return WD_EINVAL;
	if (len > max_bytes)
		len = max_bytes;
	/* usually the text wd_classify just scored: its keys are in the cache; else (a window)
	 * it is prepared aside, and the scored text stays cached */
	int rc = WD_OK;
	int slot = cache && holds(&cache[SLOT_MAIN], text, len, max_bytes) ? SLOT_MAIN : SLOT_ASIDE;
	struct prepared *p = prepare(text, len, max_bytes, slot, &rc);
	if (!p)
		return rc;
	struct wd_feature_keys *k = keys_for(p, &rc);
	if (!k)
		return rc;
	return wd_linear_predict_keys(m, k, probs);
}
