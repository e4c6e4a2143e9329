/* features.c — hashed sparse features of a normalised text (see features.h).
 *
 * Words are runs of [a-z0-9'] (apostrophes at a word's edges are quotes, not part of it; ASCII
 * capitals are lowered in case the text was not normalised). Each word gives a unigram, a bigram
 * with the word before it, and the character 3-, 4- and 5-grams of " word ". Every feature is a
 * 32-bit FNV-1a hash seeded by its kind, xor-folded to WD_FEATURE_BITS bits. The raw indices are
 * written to f->idx, radix-sorted (two 10-bit passes, the second half of f->idx as scratch, so a
 * warmed-up wd_features allocates nothing), then runs of equal indices become one feature with
 * value 1 + ln(count), and the vector is L2-normalised. */
#include "detect/features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define FNV_OFFSET 2166136261u
#define FNV_PRIME  16777619u

enum { K_UNIGRAM = 1, K_BIGRAM = 2, K_CHAR = 3 };

_Static_assert(WD_FEATURE_BITS == 20, "the radix sort below does two 10-bit passes");
#define RADIX_BITS 10
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_MASK (RADIX_SIZE - 1)
#define PAD_WORD   256 /* words up to this long are copied to the stack with their spaces */

/* 1 + ln(k) for small counts, so the common case needs no logf. */
static const float one_plus_ln[17] = {
    0.0f,       1.0f,       1.6931472f, 2.0986123f, 2.3862944f, 2.6094379f,
    2.7917595f, 2.9459102f, 3.0794415f, 3.1972246f, 3.3025851f, 3.3978953f,
    3.4849066f, 3.5649493f, 3.6390573f, 3.7080502f, 3.7725887f,
};

/* Byte class: 0 = separator, 1 = apostrophe, else the (lowercased) word byte. */
static const unsigned char word_byte[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6',
    ['7'] = '7', ['8'] = '8', ['9'] = '9', ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd',
    ['E'] = 'e', ['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k',
    ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r',
    ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y',
    ['Z'] = 'z', ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
    ['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm',
    ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't',
    ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z', ['\''] = 1,
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
	/* idx holds twice cap: its second half is the radix sort's scratch */
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

struct sink {
	uint32_t *keys;
	size_t n;
	uint32_t lo[RADIX_SIZE], hi[RADIX_SIZE]; /* digit histograms for the radix sort */
};

/* Histograms are filled after hashing (one pass over the keys), keeping this store-only. */
static inline void put(struct sink *s, uint32_t h)
{
	s->keys[s->n++] = fold_bits(h);
}

/* Character 3..5-grams of " w " (w = lowercased word bytes in buf[1..l], spaces around). */
static void char_grams(struct sink *s, const unsigned char *pad, size_t l2)
{
	uint32_t seed = fnv_step(FNV_OFFSET, K_CHAR);
	for (size_t p = 0; p + 3 <= l2; p++) {
		uint32_t h = fnv_step(seed, pad[p]);
		h = fnv_step(h, pad[p + 1]);
		h = fnv_step(h, pad[p + 2]);
		put(s, h);
		if (p + 4 <= l2) {
			h = fnv_step(h, pad[p + 3]);
			put(s, h);
			if (p + 5 <= l2)
				put(s, fnv_step(h, pad[p + 4]));
		}
	}
}

/* The same for a word too long for the stack copy, reading it in place. */
static void char_grams_long(struct sink *s, const unsigned char *w, size_t l)
{
	uint32_t seed = fnv_step(FNV_OFFSET, K_CHAR);
	size_t l2 = l + 2;
	for (size_t p = 0; p + 3 <= l2; p++) {
		uint32_t h = seed;
		for (size_t q = p; q < p + 5 && q < l2; q++) {
			unsigned char c = (q == 0 || q == l + 1) ? ' ' : word_byte[w[q - 1]];
			h = fnv_step(h, c == 1 ? '\'' : c);
			if (q >= p + 2)
				put(s, h);
		}
	}
}

static void scatter(const uint32_t *src, uint32_t *dst, size_t n, uint32_t *count, int shift)
{
	uint32_t sum = 0;
	for (size_t b = 0; b < RADIX_SIZE; b++) {
		uint32_t c = count[b];
		count[b] = sum;
		sum += c;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t k = src[i];
		dst[count[(k >> shift) & RADIX_MASK]++] = k;
	}
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

int wd_features_extract(const char *text, size_t len, size_t max_bytes, struct wd_features *f)
{
	f->n = 0;
	if (len > max_bytes)
		len = max_bytes;
	/* a word of l bytes gives at most 1 + 1 + l + (l-1) + (l-2) features: <= 5 per byte */
	int rc = reserve(f, 5 * len + 8);
	if (rc)
		return rc;
	struct sink s;
	s.keys = f->idx;
	s.n = 0;

	const unsigned char *t = (const unsigned char *)text;
	unsigned char pad[PAD_WORD + 2];
	uint32_t bigram_prev = 0;
	int have_prev = 0;
	size_t i = 0;
	while (i < len) {
		if (!word_byte[t[i]]) {
			i++;
			continue;
		}
		size_t st = i;
		while (i < len && word_byte[t[i]])
			i++;
		size_t en = i;
		while (st < en && t[st] == '\'')
			st++;
		while (en > st && t[en - 1] == '\'')
			en--;
		if (st == en)
			continue;
		size_t l = en - st;
		uint32_t hu = fnv_step(FNV_OFFSET, K_UNIGRAM);
		uint32_t hb = bigram_prev;
		uint32_t hn = fnv_step(FNV_OFFSET, K_BIGRAM);
		for (size_t k = 0; k < l; k++) {
			unsigned char c = word_byte[t[st + k]];
			if (c == 1)
				c = '\'';
			hu = fnv_step(hu, c);
			hb = fnv_step(hb, c);
			hn = fnv_step(hn, c);
			if (k < PAD_WORD)
				pad[k + 1] = c;
		}
		put(&s, hu);
		if (have_prev)
			put(&s, hb);
		bigram_prev = fnv_step(hn, ' ');
		have_prev = 1;
		if (l <= PAD_WORD) {
			pad[0] = ' ';
			pad[l + 1] = ' ';
			char_grams(&s, pad, l + 2);
		} else {
			char_grams_long(&s, t + st, l);
		}
	}

	/* sort the raw indices: idx -> scratch -> idx */
	size_t n = s.n;
	uint32_t *a = f->idx;
	if (n <= 64) {
		insertion_sort(a, n);
	} else {
		uint32_t *tmp = f->idx + f->cap;
		memset(s.lo, 0, sizeof(s.lo));
		memset(s.hi, 0, sizeof(s.hi));
		for (size_t k = 0; k < n; k++) {
			s.lo[a[k] & RADIX_MASK]++;
			s.hi[a[k] >> RADIX_BITS]++;
		}
		scatter(a, tmp, n, s.lo, 0);
		scatter(tmp, a, n, s.hi, RADIX_BITS);
	}
	/* runs of equal indices -> one feature; val is written only behind the read position */
	size_t u = 0;
	double sq = 0;
	for (size_t r = 0; r < n;) {
		uint32_t k = a[r];
		size_t e = r + 1;
		while (e < n && a[e] == k)
			e++;
		size_t tf = e - r;
		float v = tf < sizeof(one_plus_ln) / sizeof(one_plus_ln[0])
		              ? one_plus_ln[tf]
		              : 1.0f + logf((float)tf);
		a[u] = k;
		f->val[u] = v;
		sq += (double)v * v;
		u++;
		r = e;
	}
	f->n = u;
	if (u) {
		float inv = (float)(1.0 / sqrt(sq));
		for (size_t k = 0; k < u; k++)
			f->val[k] *= inv;
	}
	return WD_OK;
}
