/* features.c — hashed sparse features of a normalised text (see features.h).
 *
 * Words are runs of [a-z0-9'] (apostrophes at a word's edges are quotes, not part of it; ASCII
 * capitals are lowered in case the text was not normalised). Each word gives a unigram, a bigram
 * with the word before it, and the character 3- and 4-grams of " word " (5-grams, measured,
 * added a quarter of the cost and nothing to the models' quality). A unigram is the word's
 * 32-bit FNV-1a hash seeded by its kind, xor-folded to WD_FEATURE_BITS bits; a bigram and a
 * character n-gram are the top bits of a 64-bit product (below); the lexicon's keys are FNV-1a
 * again. The raw indices are written to f->idx, radix-sorted (two 10-bit passes, or three 7-bit
 * ones for fewer than 1536 keys; the rest of f->idx as scratch, so a warmed-up wd_features
 * allocates nothing), then runs of equal indices become one feature with value 1 + ln(count),
 * scaled by 1 / sqrt(n raw keys). wd_feature_keys_make stops before the sort (a model counts the
 * rows it finds: detect/linear) and keeps a word met again as a count on its first occurrence's
 * entries, so a model looks up a text's distinct words' n-grams once.
 *
 * With WD_FEATURES_LEXICON, each sentence (ended by . ? ! ; or :) also gives intent ×
 * target features from the word classes of detect/lexicon: each class met, each pair of classes met
 * together ("violent verb" with "person" vs with "process"), and each class with the sentence's
 * first word (its frame: "how", "why", "write").
 *
 * The hashing runs on every request (most of the cost of the harm and jailbreak checkers), so
 * the loops are written for the branch predictor: a word is read and hashed in one pass, its
 * n-grams coming out as it is read, and the run count writes every index and advances by a
 * comparison instead of branching on it. The result is the plain loops': the same hashes. */
#include "detect/features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "detect/lexicon.h"

#if defined(__SSE2__) && !defined(WD_NO_SIMD)
#include <xmmintrin.h>
#endif

#define FNV_OFFSET 2166136261u
#define FNV_PRIME  16777619u

enum { K_UNIGRAM = 1, K_LEX = 4, K_LEX_PAIR = 5, K_LEX_FRAME = 6 };

_Static_assert(WD_FEATURE_BITS == 20, "the radix sort below sorts 20-bit keys");
#define RADIX_BITS 10
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_MASK (RADIX_SIZE - 1)

/* 1 + ln(k) up to the counts of a text's most frequent n-grams (" th", "he ": 10 to 20 times in
 * 1 KB of English), so they need no logf. */
static const float one_plus_ln[64] = {
    0.0f,        1.0f,        1.69314718f, 2.09861231f, 2.38629436f, 2.60943794f, 2.79175949f,
    2.94591022f, 3.07944155f, 3.19722462f, 3.30258512f, 3.39789534f, 3.48490667f, 3.56494927f,
    3.6390574f,  3.70805025f, 3.77258873f, 3.83321333f, 3.8903718f,  3.94443893f, 3.99573231f,
    4.04452229f, 4.09104252f, 4.13549423f, 4.17805386f, 4.21887589f, 4.25809669f, 4.29583693f,
    4.33220434f, 4.36729574f, 4.40119743f, 4.43398714f, 4.46573591f, 4.49650764f, 4.52636051f,
    4.55534792f, 4.58351898f, 4.61091805f, 4.63758612f, 4.66356182f, 4.68887949f, 4.71357203f,
    4.73766947f, 4.76119995f, 4.7841897f,  4.80666256f, 4.82864141f, 4.85014772f, 4.87120104f,
    4.89182043f, 4.91202307f, 4.93182564f, 4.95124388f, 4.97029209f, 4.98898411f, 5.00733328f,
    5.02535152f, 5.04305124f, 5.06044292f, 5.07753754f, 5.09434462f, 5.1108737f,  5.12713432f,
    5.14313459f,
};

/* 0 = separator, else the byte as it is hashed (lowercased; the apostrophe is itself). */
static const unsigned char word_byte[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6',
    ['7'] = '7', ['8'] = '8', ['9'] = '9', ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd',
    ['E'] = 'e', ['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k',
    ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r',
    ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y',
    ['Z'] = 'z', ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
    ['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm',
    ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't',
    ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z', ['\''] = '\'',
};

static inline uint32_t fnv_step(uint32_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

static inline uint32_t fold_bits(uint32_t h)
{
	return ((h >> WD_FEATURE_BITS) ^ h) & (WD_FEATURE_DIM - 1);
}

void wd_features_init(struct wd_features *f)
{
	f->idx = NULL;
	f->val = NULL;
	f->n = 0;
	f->cap = 0;
}

void wd_features_free(struct wd_features *f)
{
	free(f->idx);
	free(f->val);
	wd_features_init(f);
}

static int reserve(struct wd_features *f, size_t need)
{
	if (need <= f->cap)
		return WD_OK;
	size_t cap = f->cap ? f->cap : 256;
	while (cap < need)
		cap *= 2;
	/* idx holds twice cap: the raw indices, then the sort's scratch right behind them */
	uint32_t *idx = realloc(f->idx, 2 * cap * sizeof(*idx));
	if (!idx)
		return WD_ENOMEM;
	f->idx = idx;
	float *val = realloc(f->val, cap * sizeof(*val));
	if (!val)
		return WD_ENOMEM;
	f->val = val;
	f->cap = cap;
	return WD_OK;
}

/* Character n-grams and bigrams are hashed by one 64-bit product each (Fibonacci hashing: the
 * top WD_FEATURE_BITS bits of x * odd constant depend on every bit of x), not by FNV over their
 * bytes: a byte of text costs one FNV step (its word's hash) and two products, not nine FNV
 * steps. A character n-gram's x is its bytes (a 3-gram's top byte is 0, a 4-gram's is not); a
 * bigram's is the two words' hashes. */
#define GRAM_MUL   0x9E3779B97F4A7C15ull
#define BIGRAM_MUL 0xD6E8FEB86659FD93ull

static inline uint32_t top_bits(uint64_t x, uint64_t mul)
{
	return (uint32_t)((x * mul) >> (64 - WD_FEATURE_BITS));
}

static inline uint32_t bigram_key(uint32_t prev, uint32_t cur)
{
	return top_bits((uint64_t)prev << 32 | cur, BIGRAM_MUL);
}

/* One word as it is read: its hash (the unigram's, and the lexicon's: detect/lexicon.h), and the
 * last four bytes of " word" read (the latest lowest), whose character n-grams come out as the
 * word is read: a word costs one loop, its bytes need no stack copy, and a word of any length is
 * handled the same way. */
struct word {
	uint32_t hu;
	uint32_t win;
	unsigned q; /* bytes of " word" read so far */
};

static inline void word_start(struct word *w)
{
	w->hu = fnv_step(FNV_OFFSET, K_UNIGRAM);
	w->win = ' ';
	w->q = 1;
}

/* Reads byte c of " word ": the 3- and 4-grams ending at it are written to out (both always; out
 * advances past those that exist: none before the third byte). */
static inline uint32_t *gram_step(struct word *w, unsigned char c, uint32_t *out)
{
	uint32_t win = w->win << 8 | c;
	w->win = win;
	out[0] = top_bits(win & 0xFFFFFFu, GRAM_MUL);
	out[1] = top_bits(win, GRAM_MUL);
	unsigned q = w->q++;
	return out + (q >= 2) + (q >= 3);
}

static inline uint32_t *word_byte_step(struct word *w, unsigned char c, uint32_t *out)
{
	w->hu = fnv_step(w->hu, c);
	return gram_step(w, c, out);
}

/* Bytes that end a sentence: 1 for the lexicon features and the harm spans, 2 (a paragraph
 * break, '\f' from wd_normalize_lines) for the harm spans only. A line break ends neither: the
 * models' lexicon features were learnt from text whose line breaks had been folded to spaces,
 * and read better so (harm recall 0.862, not 0.846, at 5% false positives), and hard-wrapped
 * text breaks sentences anywhere; a request in a paragraph of its own is a span of its own. */
static const unsigned char sentence_end[256] = {
    ['.'] = 1, ['?'] = 1, ['!'] = 1, [';'] = 1, [':'] = 1, ['\f'] = 2,
};

/* The lexicon features of one sentence (classes cls, first word's unigram hash first) into out,
 * which may not pass end: 2 per class and 1 per pair of classes, in class order. The caller
 * allows 5 per byte of the sentence, which a sentence's worth of lexicon words always leaves room
 * for; a surplus (many classes in a few words) is dropped. */
static uint32_t *lex_flush(uint32_t cls, uint32_t first, uint32_t *out, const uint32_t *end)
{
	if (first && !(cls & WD_LEX_HARMFUL))
		cls |= 1u << WD_LEX_NO_HARM;
	const uint32_t seed = fnv_step(FNV_OFFSET, K_LEX);
	const uint32_t pseed = fnv_step(FNV_OFFSET, K_LEX_PAIR);
	const uint32_t fseed = fnv_step(first, K_LEX_FRAME);
	for (uint32_t a = cls; a && out + 2 <= end; a &= a - 1) {
		unsigned char ca = (unsigned char)__builtin_ctz(a);
		*out++ = fold_bits(fnv_step(seed, ca));
		*out++ = fold_bits(fnv_step(fseed, ca));
		uint32_t ha = fnv_step(pseed, ca);
		for (uint32_t b = a & (a - 1); b && out < end; b &= b - 1)
			*out++ = fold_bits(fnv_step(ha, (unsigned char)__builtin_ctz(b)));
	}
	return out;
}

/* The words met while a text is hashed (wd_feature_keys_make): a word's hash and length -> the
 * entries of its first occurrence. Open addressing over WORD_SLOTS slots, each valid in the
 * generation it was written in, so a text starts with an empty table without clearing it; at
 * most half of it is filled (later new words, and words over WORD_CACHED_MAX bytes, are hashed
 * each time they occur). A word is the same word when its bytes are. */
#define WORD_SLOTS      2048
#define WORD_CACHED_MAX 64
struct wd_word_slot {
	uint32_t gen, hu, len, at; /* at: the first occurrence's first byte in the text */
	uint32_t first, n;         /* its entries: key[first, first + n) */
	uint32_t cls;              /* its lexicon classes */
	uint32_t unused;
};

struct word_cache {
	struct wd_word_slot *slot;
	uint32_t gen;
	size_t used;
	uint32_t *again; /* the words met again: {first entry, entries} each */
	size_t nagain;
	size_t repeats; /* raw keys they stand for */
};

/* The slot of the word t[st, st + l) with hash hu: where it was met, or the free slot to note it
 * in (its gen not the current one), or NULL (a new word, and the table half full). */
static struct wd_word_slot *word_slot(struct word_cache *wc, uint32_t hu, size_t l,
                                      const unsigned char *t, size_t st)
{
	for (size_t s = hu & (WORD_SLOTS - 1);; s = (s + 1) & (WORD_SLOTS - 1)) {
		struct wd_word_slot *ws = &wc->slot[s];
		if (ws->gen != wc->gen)
			return wc->used < WORD_SLOTS / 2 ? ws : NULL;
		if (ws->hu == hu && ws->len == l) {
			size_t k = 0; /* a few bytes: no call */
			while (k < l && t[ws->at + k] == t[st + k])
				k++;
			if (k == l)
				return ws;
		}
	}
}

/* The n-gram entries of text[0..len) into keys; returns how many (at most 5 per byte; keys has
 * room for 2 more: gram_step writes ahead). With wc, a word met before keeps no entries (it is
 * hashed as it is read, the only way to know it, and its keys dropped) but is noted in wc->again:
 * its first occurrence's entries count once more. Else every key is an entry. With
 * WD_FEATURES_LEXICON, the lexicon features go to lexkeys (fewer than 5 per byte), their count
 * to *nlex. */
static size_t hash_all(const unsigned char *t, size_t len, unsigned opts, uint32_t *keys,
                       uint32_t *lexkeys, size_t *nlex, struct wd_text_span *harm, size_t *nharm,
                       struct word_cache *wc)
{
	const int lex = opts & WD_FEATURES_LEXICON;
	uint32_t *out = keys, *lout = lexkeys;
	uint32_t prev_hu = 0, sent_cls = 0, sent_first = 0, span_cls = 0;
	int have_prev = 0;
	size_t i = 0, sent_start = 0, span_start = 0, word_end = 0, nh = 0;
	for (;;) {
		unsigned ended = 0;
		while (i < len && (!word_byte[t[i]] || t[i] == '\''))
			ended |= sentence_end[t[i++]]; /* separators, and the quotes a word starts
			                                  with */
		if (harm && (ended || i == len)) {
			if (span_cls & WD_LEX_HARMFUL)
				harm[nh++] = (struct wd_text_span){(uint32_t)span_start,
				                                   (uint32_t)word_end, span_cls};
			span_cls = 0;
			span_start = i;
		}
		if (lex && ((ended & 1) || i == len)) {
			lout = lex_flush(sent_cls, sent_first, lout, lout + 5 * (i - sent_start));
			sent_cls = 0;
			sent_first = 0;
			sent_start = i;
		}
		if (i == len)
			break;
		/* the word, its n-grams coming out as it is read */
		const size_t st = i;
		uint32_t *const wout = out;
		struct word w;
		word_start(&w);
		for (; i < len; i++) {
			unsigned char c = word_byte[t[i]];
			if (!c)
				break;
			out = word_byte_step(&w, c, out);
		}
		size_t l = i - st;
		if (t[i - 1] == '\'') {
			/* closing quotes are no part of the word: read it again without them */
			while (t[st + l - 1] == '\'')
				l--;
			out = wout;
			word_start(&w);
			for (size_t k = 0; k < l; k++)
				out = word_byte_step(&w, word_byte[t[st + k]], out);
		}
		const uint32_t hu = w.hu;
		struct wd_word_slot *ws =
		    wc && l <= WORD_CACHED_MAX ? word_slot(wc, hu, l, t, st) : NULL;
		uint32_t cls;
		if (ws && ws->gen == wc->gen) {
			/* met before: what was just written goes, its first entries count once more
			 */
			out = wout;
			wc->again[2 * wc->nagain] = ws->first;
			wc->again[2 * wc->nagain + 1] = ws->n;
			wc->nagain++;
			wc->repeats += ws->n;
			cls = ws->cls;
		} else {
			out = gram_step(&w, ' ', out);
			*out++ = fold_bits(hu);
			cls = lex ? wd_lexicon_classes_hash(hu, l) : 0;
			if (ws) {
				*ws = (struct wd_word_slot){wc->gen,
				                            hu,
				                            (uint32_t)l,
				                            (uint32_t)st,
				                            (uint32_t)(wout - keys),
				                            (uint32_t)(out - wout),
				                            cls,
				                            0};
				wc->used++;
			}
		}
		if (lex) {
			if (!sent_cls && !sent_first)
				sent_first = hu;
			sent_cls |= cls;
			span_cls |= cls;
		}
		if (have_prev)
			*out++ = bigram_key(prev_hu, hu);
		prev_hu = hu;
		have_prev = 1;
		word_end = i;
	}
	*nlex = (size_t)(lout - lexkeys);
	if (nharm)
		*nharm = nh;
	return (size_t)(out - keys);
}

/* One LSD radix pass: a[0..n) into out by the digit of `size` values (a power of two) at shift;
 * count holds the digit histogram and becomes the offsets. Defined for 16-bit counters (when n
 * allows: the tables stay small and warm) and 32-bit ones. */
#define DEFINE_RADIX_PASS(NAME, COUNT)                                                             \
	static void NAME(const uint32_t *a, uint32_t *out, size_t n, COUNT *count, unsigned shift, \
	                 size_t size)                                                              \
	{                                                                                          \
		COUNT sum = 0;                                                                     \
		for (size_t b = 0; b < size; b++) {                                                \
			COUNT c = count[b];                                                        \
			count[b] = sum;                                                            \
			sum = (COUNT)(sum + c);                                                    \
		}                                                                                  \
		for (size_t k = 0; k < n; k++)                                                     \
			out[count[(a[k] >> shift) & (size - 1)]++] = a[k];                         \
	}

DEFINE_RADIX_PASS(radix_pass16, uint16_t)
DEFINE_RADIX_PASS(radix_pass32, uint32_t)

/* Below this many keys, three 7-bit passes (tables of 128) beat two 10-bit ones (of 1024): each
 * pass clears and sums its table, and a window's few hundred keys are fewer than the table. */
#define RADIX_SMALL 1536
#define SMALL_BITS  7
#define SMALL_SIZE  (1u << SMALL_BITS)
_Static_assert(3 * SMALL_BITS >= WD_FEATURE_BITS, "three small passes cover a key");

/* LSD radix sort of a[0..n) on 20-bit keys, tmp (n) as scratch; the result is in a. */
static void radix_sort(uint32_t *a, uint32_t *tmp, size_t n)
{
	if (n < RADIX_SMALL) {
		uint16_t c0[SMALL_SIZE] = {0}, c1[SMALL_SIZE] = {0}, c2[SMALL_SIZE] = {0};
		for (size_t k = 0; k < n; k++) {
			c0[a[k] & (SMALL_SIZE - 1)]++;
			c1[(a[k] >> SMALL_BITS) & (SMALL_SIZE - 1)]++;
			c2[a[k] >> 2 * SMALL_BITS]++;
		}
		radix_pass16(a, tmp, n, c0, 0, SMALL_SIZE);
		radix_pass16(tmp, a, n, c1, SMALL_BITS, SMALL_SIZE);
		radix_pass16(a, tmp, n, c2, 2 * SMALL_BITS, SMALL_SIZE);
		memcpy(a, tmp, n * sizeof *a);
		return;
	}
	if (n < 65536) {
		uint16_t lo[RADIX_SIZE] = {0}, hi[RADIX_SIZE] = {0};
		for (size_t k = 0; k < n; k++) {
			lo[a[k] & RADIX_MASK]++;
			hi[a[k] >> RADIX_BITS]++;
		}
		radix_pass16(a, tmp, n, lo, 0, RADIX_SIZE);
		radix_pass16(tmp, a, n, hi, RADIX_BITS, RADIX_SIZE);
		return;
	}
	uint32_t lo[RADIX_SIZE] = {0}, hi[RADIX_SIZE] = {0};
	for (size_t k = 0; k < n; k++) {
		lo[a[k] & RADIX_MASK]++;
		hi[a[k] >> RADIX_BITS]++;
	}
	radix_pass32(a, tmp, n, lo, 0, RADIX_SIZE);
	radix_pass32(tmp, a, n, hi, RADIX_BITS, RADIX_SIZE);
}

static void insertion_sort(uint32_t *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t k = a[i];
		size_t j = i;
		while (j > 0 && a[j - 1] > k) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = k;
	}
}

/* The keys' regions in a buffer for a text of len bytes: n-grams first (at most 5 per byte, a
 * loose bound, + 2 written ahead), the lexicon's behind them (5 per byte). wd_features_extract
 * keeps the sort's scratch and the counts in the second half of f->idx. */
#define NGRAM_ROOM(len) (5 * (len) + 8)
#define KEYS_ROOM(len)  (10 * (len) + 24)

static size_t round16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

static void sort_keys(uint32_t *a, size_t n, uint32_t *tmp)
{
	if (n <= 64)
		insertion_sort(a, n);
	else
		radix_sort(a, tmp, n);
}

/* Sorted a[0..n) -> its distinct keys, in place, with how often each occurs in count (which may
 * be a + round16(n), right behind: warm lines); returns how many. No branch on where a run
 * ends: each key is written, the position advances by a comparison. */
static size_t count_runs(uint32_t *a, size_t n, uint32_t *count)
{
	if (n == 0)
		return 0;
	size_t u = 0;
	uint32_t prev = a[0];
	for (size_t r = 0; r < n; r++) { /* the end of each run first */
		uint32_t k = a[r];
		u += k != prev;
		a[u] = k;
		count[u] = (uint32_t)r + 1;
		prev = k;
	}
	u++;
	uint32_t start = 0;
	for (size_t k = 0; k < u; k++) {
		uint32_t end = count[k];
		count[k] = end - start;
		start = end;
	}
	return u;
}

float wd_features_tf(uint32_t count)
{
	return count < sizeof(one_plus_ln) / sizeof(one_plus_ln[0]) ? one_plus_ln[count]
	                                                            : 1.0f + logf((float)count);
}

float wd_features_scale(size_t nkeys)
{
	return nkeys ? (float)(1.0 / sqrt((double)nkeys)) : 0.0f;
}

/* f->idx[0..u) (distinct, sorted) with their counts tf, of n raw keys -> f's values. */
static void weigh(struct wd_features *f, size_t u, const uint32_t *tf, size_t n)
{
	float *val = f->val;
	for (size_t k = 0; k < u; k++)
		val[k] = wd_features_tf(tf[k]);
	f->n = u;
	float inv = wd_features_scale(n);
	size_t k = 0;
#if defined(__SSE2__) && !defined(WD_NO_SIMD)
	/* four at a time: the same float products */
	__m128 vinv = _mm_set1_ps(inv);
	for (; k + 4 <= u; k += 4)
		_mm_storeu_ps(val + k, _mm_mul_ps(_mm_loadu_ps(val + k), vinv));
#endif
	for (; k < u; k++)
		val[k] *= inv;
}

int wd_features_extract(const char *text, size_t len, size_t max_bytes, unsigned opts,
                        struct wd_features *f)
{
	f->n = 0;
	if (len > max_bytes)
		len = max_bytes;
	int rc = reserve(f, KEYS_ROOM(len));
	if (rc)
		return rc;
	uint32_t *a = f->idx;
	size_t nl = 0, n = hash_all((const unsigned char *)text, len, opts, a, a + NGRAM_ROOM(len),
	                            &nl, NULL, NULL, NULL);
	memmove(a + n, a + NGRAM_ROOM(len), nl * sizeof *a);
	n += nl;
	if (n == 0)
		return WD_OK;
	uint32_t *tf = a + round16(n);
	sort_keys(a, n, tf);
	weigh(f, count_runs(a, n, tf), tf, n);
	return WD_OK;
}

void wd_feature_keys_init(struct wd_feature_keys *k)
{
	k->key = k->more = k->scratch = k->tally = NULL;
	k->ngrams = k->lexicon = k->ngram_keys = k->cap = k->tally_cap = 0;
	k->words = NULL;
	k->words_gen = 0;
	k->harm = NULL;
	k->nharm = k->harm_cap = 0;
}

void wd_feature_keys_free(struct wd_feature_keys *k)
{
	free(k->key);
	free(k->more);
	free(k->scratch);
	free(k->tally);
	free(k->words);
	free(k->harm);
	wd_feature_keys_init(k);
}

/* p grown to n entries of size sz (kept when large enough); 0 or WD_ENOMEM. */
static int grow(void *pp, size_t n, size_t sz)
{
	void *q = realloc(*(void **)pp, n * sz);
	if (!q)
		return WD_ENOMEM;
	*(void **)pp = q;
	return WD_OK;
}

int wd_feature_keys_make(const char *text, size_t len, size_t max_bytes, struct wd_feature_keys *k)
{
	k->ngrams = k->lexicon = k->ngram_keys = k->nharm = 0;
	if (len > max_bytes)
		len = max_bytes;
	size_t sentences = len / 2 + 1; /* each has a word byte and an end */
	if (sentences > k->harm_cap) {
		if (grow(&k->harm, sentences, sizeof *k->harm))
			return WD_ENOMEM;
		k->harm_cap = sentences;
	}
	size_t need = KEYS_ROOM(len);
	if (need > k->cap) {
		if (grow(&k->key, need, sizeof *k->key) || grow(&k->more, need, sizeof *k->more) ||
		    grow(&k->scratch, 3 * need, sizeof *k->scratch))
			return WD_ENOMEM;
		k->cap = need;
	}
	if (!k->words && !(k->words = calloc(WORD_SLOTS, sizeof *k->words)))
		return WD_ENOMEM;
	if (++k->words_gen == 0) { /* every slot's gen is old again */
		memset(k->words, 0, WORD_SLOTS * sizeof *k->words);
		k->words_gen = 1;
	}
	/* the words met again go to the scratch (two numbers per word, fewer than one per byte) */
	struct word_cache wc = {k->words, k->words_gen, 0, k->scratch, 0, 0};
	size_t nl = 0;
	k->ngrams = hash_all((const unsigned char *)text, len, WD_FEATURES_LEXICON, k->key,
	                     k->key + NGRAM_ROOM(len), &nl, k->harm, &k->nharm, &wc);
	k->ngram_keys = k->ngrams + wc.repeats;
	memmove(k->key + k->ngrams, k->key + NGRAM_ROOM(len), nl * sizeof *k->key);
	k->lexicon = nl;
	memset(k->more, 0, (k->ngrams + nl) * sizeof *k->more);
	for (size_t a = 0; a < wc.nagain; a++) {
		const uint32_t first = wc.again[2 * a], end = first + wc.again[2 * a + 1];
		for (uint32_t e = first; e < end; e++)
			k->more[e]++;
	}
	return WD_OK;
}
