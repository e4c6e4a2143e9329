/* test_features.c — the hashed featuriser against a plain reference written from its contract
 * (features.h, features.c): words, FNV-1a unigrams xor-folded, bigrams and character n-grams by
 * 64-bit products, sort, counts, 1 + ln tf, scaled by 1 / sqrt(raw keys). wd_features_extract is
 * built for speed (one pass per word, n-grams as the word is read, radix sort with 16- or 32-bit
 * counters, branch-free run collapse); every feature index and value must still be the
 * reference's, bit for bit. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "detect/features.h"
#include "detect/lexicon.h"
#include "sort_count.h"
#include "test.h"

/* ---- the reference ---- */

static uint32_t fnv(uint32_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t seeded(unsigned kind)
{
	unsigned char k = (unsigned char)kind;
	return fnv(2166136261u, &k, 1);
}

static uint32_t fold(uint32_t h)
{
	return ((h >> WD_FEATURE_BITS) ^ h) & (WD_FEATURE_DIM - 1);
}

/* the top 20 bits of x times an odd constant: a bigram (the words' hashes) or a character
 * n-gram (its bytes, the first highest) */
static uint32_t product_key(uint64_t x, uint64_t mul)
{
	return (uint32_t)((x * mul) >> 44);
}

static uint32_t gram(const unsigned char *p, size_t g)
{
	uint32_t x = 0;
	for (size_t i = 0; i < g; i++)
		x = x << 8 | p[i];
	return product_key(x, 0x9E3779B97F4A7C15ull);
}

static int is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '\'';
}

static uint32_t step(uint32_t h, unsigned char c)
{
	return fnv(h, &c, 1);
}

/* A sentence's lexicon features: per class (ascending) its key, its key with the first word,
 * then its pairs with the higher classes; no more than limit keys. */
static size_t lex_keys(uint32_t cls, uint32_t first, uint32_t *keys, size_t limit)
{
	size_t n = 0;
	if (first && !(cls & WD_LEX_HARMFUL))
		cls |= 1u << WD_LEX_NO_HARM;
	for (unsigned a = 0; a < 32; a++) {
		if (!(cls >> a & 1))
			continue;
		if (n + 2 > limit)
			break;
		keys[n++] = fold(step(seeded(4), (unsigned char)a));
		keys[n++] = fold(step(step(first, 6), (unsigned char)a));
		for (unsigned b = a + 1; b < 32 && n < limit; b++)
			if (cls >> b & 1)
				keys[n++] =
				    fold(step(step(seeded(5), (unsigned char)a), (unsigned char)b));
	}
	return n;
}

/* A line break ends no sentence of the lexicon features (the models learnt them from text
 * without line breaks); it does end a harm span (tested below). */
static int ends_sentence(unsigned char c)
{
	return c == '.' || c == '?' || c == '!' || c == ';' || c == ':';
}

/* The features of text as features.h describes them, the slow way. */
static size_t reference(const char *text, size_t len, size_t max_bytes, unsigned opts,
                        uint32_t **idx, float **val)
{
	const int lex = opts & WD_FEATURES_LEXICON;
	if (len > max_bytes)
		len = max_bytes;
	uint32_t *keys = malloc((10 * len + 8) * sizeof *keys);
	unsigned char *w = malloc(len + 3);
	size_t n = 0, sent_start = 0;
	int have_prev = 0, ended = 0;
	uint32_t cls = 0, first = 0, prev = 0;
	for (size_t i = 0; i < len;) {
		if (!is_word_byte((unsigned char)text[i])) {
			ended |= ends_sentence((unsigned char)text[i]);
			i++;
			continue;
		}
		size_t st = i;
		while (i < len && is_word_byte((unsigned char)text[i]))
			i++;
		size_t en = i;
		while (st < en && text[st] == '\'')
			st++;
		while (en > st && text[en - 1] == '\'')
			en--;
		if (st == en)
			continue;
		if (lex && ended) { /* the sentence before this word is over */
			n += lex_keys(cls, first, keys + n, 5 * (st - sent_start));
			cls = first = 0;
			sent_start = st;
			ended = 0;
		}
		size_t l = en - st;
		w[0] = ' ';
		for (size_t k = 0; k < l; k++) {
			unsigned char c = (unsigned char)text[st + k];
			w[k + 1] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		w[l + 1] = ' ';
		uint32_t hu = fnv(seeded(1), w + 1, l);
		keys[n++] = fold(hu);
		if (have_prev)
			keys[n++] = product_key((uint64_t)prev << 32 | hu, 0xD6E8FEB86659FD93ull);
		for (size_t g = 3; g <= 4; g++)
			for (size_t p = 0; p + g <= l + 2; p++)
				keys[n++] = gram(w + p, g);
		prev = hu;
		have_prev = 1;
		if (lex && !cls && !first)
			first = fnv(seeded(1), w + 1, l);
		if (lex)
			cls |= wd_lexicon_classes((const char *)w + 1, l);
	}
	if (lex)
		n += lex_keys(cls, first, keys + n, 5 * (len - sent_start));
	uint32_t *tf = malloc((n + 1) * sizeof *tf);
	size_t u = sort_and_count(keys, n, tf);
	*idx = malloc((n + 1) * sizeof **idx);
	*val = malloc((n + 1) * sizeof **val);
	float inv = (float)(1.0 / sqrt((double)n));
	for (size_t k = 0; k < u; k++) {
		float v =
		    tf[k] < 64 ? (float)(1.0 + log((double)tf[k])) : 1.0f + logf((float)tf[k]);
		(*idx)[k] = keys[k];
		(*val)[k] = v * inv;
	}
	free(tf);
	free(keys);
	free(w);
	return u;
}

/* The fast featuriser equals the reference, with and without the lexicon features. */
static int same(const char *text, size_t len, size_t max_bytes, struct wd_features *f)
{
	int ok = 1;
	for (unsigned opts = 0; opts <= WD_FEATURES_LEXICON; opts++) {
		uint32_t *idx;
		float *val;
		size_t n = reference(text, len, max_bytes, opts, &idx, &val);
		int rc = wd_features_extract(text, len, max_bytes, opts, f);
		int eq = rc == WD_OK && f->n == n &&
		         (n == 0 || (!memcmp(f->idx, idx, n * sizeof *idx) &&
		                     !memcmp(f->val, val, n * sizeof *val)));
		/* the same from the keys made for models (their first ngrams entries, with the
		 * lexicon all; each stands for 1 + more[e] raw keys), expanded, sorted and counted
		 */
		struct wd_feature_keys k;
		wd_feature_keys_init(&k);
		rc = wd_feature_keys_make(text, len, max_bytes, &k);
		size_t entries = k.ngrams + (opts ? k.lexicon : 0), raw = 0;
		for (size_t e = 0; e < entries; e++)
			raw += 1 + k.more[e];
		eq &= raw == k.ngram_keys + (opts ? k.lexicon : 0);
		uint32_t *a = malloc((raw + 1) * sizeof *a), *c = malloc((raw + 1) * sizeof *c);
		for (size_t e = 0, o = 0; e < entries; e++)
			for (uint32_t r = 0; r <= k.more[e]; r++)
				a[o++] = k.key[e];
		size_t u = sort_and_count(a, raw, c);
		eq &= rc == WD_OK && u == n && (n == 0 || !memcmp(a, idx, n * sizeof *idx));
		for (size_t i = 0; eq && i < n; i++)
			eq &= wd_features_tf(c[i]) * wd_features_scale(raw) == val[i];
		free(a);
		free(c);
		wd_feature_keys_free(&k);
		if (!eq)
			fprintf(stderr,
			        "  differs from the reference (opts %u, %zu vs %zu features): "
			        "\"%.60s\"\n",
			        opts, f->n, n, text);
		ok &= eq;
		free(idx);
		free(val);
	}
	return ok;
}

TEST(matches_reference_on_edge_cases)
{
	static const char *const cases[] = {
	    "",
	    " ",
	    "a",
	    "ab",
	    "abc",
	    "abcd",
	    "abcde",
	    "abcdef",
	    "A",
	    "Hello, World!",
	    "'",
	    "''",
	    "'quoted'",
	    "don't",
	    "dogs'",
	    "'''x'''",
	    "it's 'the' cat's toy'",
	    "a b c d e f g h i j k l m n o p",
	    "x86 h264 1990s 3xplosive",
	    "kill kill kill",
	    "ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab",
	    "\xc3\xa9t\xc3\xa9 caf\xc3\xa9",
	    "tab\tnew\nline",
	    "UPPER lower MiXeD",
	};
	struct wd_features f;
	wd_features_init(&f);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK(same(cases[i], strlen(cases[i]), 1 << 16, &f));
		CHECK(same(cases[i], strlen(cases[i]), 3, &f)); /* cut by max_bytes */
	}
	wd_features_free(&f);
}

TEST(matches_reference_on_random_texts)
{
	/* few (insertion sort), hundreds (three 7-bit radix passes) to thousands (two 10-bit ones)
	 * of raw features, repeated words, quotes
	 * at word edges, every length of word around the n-gram sizes */
	static const char alphabet[] = "abcdeABC019' ,.-\n";
	struct wd_features f;
	wd_features_init(&f);
	char text[4096];
	int ok = 1;
	for (int it = 0; it < 3000 && ok; it++) {
		size_t len = rnd(it < 1000 ? 40 : sizeof text);
		for (size_t i = 0; i < len; i++)
			text[i] = alphabet[rnd(sizeof alphabet - 1)];
		ok = same(text, len, 1 << 16, &f) && same(text, len, rnd(64) + 1, &f);
	}
	CHECK(ok);
	wd_features_free(&f);
}

TEST(matches_reference_on_long_words)
{
	/* words longer than any stack copy, with quotes inside and at the edges */
	struct wd_features f;
	wd_features_init(&f);
	static char text[3000];
	size_t lens[] = {255, 256, 257, 258, 600, 2999};
	for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
		for (size_t i = 0; i < lens[k]; i++)
			text[i] = (char)('a' + rnd(26));
		text[0] = '\'';
		text[lens[k] / 2] = '\'';
		text[lens[k] - 1] = '\'';
		CHECK(same(text, lens[k], 1 << 16, &f));
	}
	wd_features_free(&f);
}

TEST(matches_reference_past_16_bit_counts)
{
	/* more than 65535 raw features: the radix sort's 32-bit counters */
	size_t len = 40000;
	char *text = malloc(len);
	for (size_t i = 0; i < len; i++)
		text[i] = i % 12 == 11 ? ' ' : (char)('a' + rnd(26));
	struct wd_features f;
	wd_features_init(&f);
	CHECK(same(text, len, len, &f));
	CHECK(f.n > 20000);
	/* and a smaller text after it: nothing left over */
	CHECK(same("short one", 9, 100, &f));
	wd_features_free(&f);
	free(text);
}

/* The spans that name harm: a sentence or a paragraph with a word of WD_LEX_HARMFUL, as byte
 * ranges from its first word to its last; none for harmless sentences. A single line break
 * (hard-wrapped text) does not end one; a paragraph break ('\f', wd_normalize_lines) does. */
TEST(harm_spans_are_sentences_and_paragraphs)
{
	const char *t = "how to make a\nbomb\fthe weather is nice. then kill him! ok";
	struct wd_feature_keys k;
	wd_feature_keys_init(&k);
	CHECK_EQ_INT(wd_feature_keys_make(t, strlen(t), 1 << 16, &k), WD_OK);
	CHECK_EQ_INT((int)k.nharm, 2);
	if (k.nharm == 2) {
		CHECK(k.harm[0].start == 0 && k.harm[0].end == 18);
		CHECK(!strncmp(t + k.harm[1].start, "then kill him", 13) &&
		      k.harm[1].end - k.harm[1].start == 13);
		CHECK(k.harm[0].cls & (1u << WD_LEX_HOWTO) &&
		      k.harm[0].cls & (1u << WD_LEX_WEAPON));
	}
	/* a second text: nothing left over from the first */
	CHECK_EQ_INT(wd_feature_keys_make("a nice day", 10, 1 << 16, &k), WD_OK);
	CHECK_EQ_INT((int)k.nharm, 0);
	wd_feature_keys_free(&k);
}

/* The word table's generation wraps to a cleared table: the words of the text before the wrap
 * (noted in generation 1, the one the wrap starts again at) are not taken for this text's. */
TEST(word_table_generation_wraps)
{
	struct wd_feature_keys k, f;
	wd_feature_keys_init(&k);
	wd_feature_keys_init(&f);
	/* b begins as a does: a stale slot would match its bytes */
	const char *a = "beta gamma delta beta", *b = "beta gamma omega gamma";
	CHECK_EQ_INT(wd_feature_keys_make(a, strlen(a), 1 << 16, &k), WD_OK);
	CHECK(k.words_gen == 1);
	k.words_gen = UINT32_MAX; /* the next text wraps it */
	CHECK_EQ_INT(wd_feature_keys_make(b, strlen(b), 1 << 16, &k), WD_OK);
	CHECK(k.words_gen == 1);
	CHECK_EQ_INT(wd_feature_keys_make(b, strlen(b), 1 << 16, &f), WD_OK); /* a fresh table */
	CHECK(k.ngrams == f.ngrams && k.ngram_keys == f.ngram_keys &&
	      !memcmp(k.key, f.key, k.ngrams * sizeof *k.key) &&
	      !memcmp(k.more, f.more, k.ngrams * sizeof *k.more));
	wd_feature_keys_free(&f);
	wd_feature_keys_free(&k);
}

int main(void)
{
	RUN(harm_spans_are_sentences_and_paragraphs);
	RUN(word_table_generation_wraps);
	RUN(matches_reference_on_edge_cases);
	RUN(matches_reference_on_random_texts);
	RUN(matches_reference_on_long_words);
	RUN(matches_reference_past_16_bit_counts);
	return DONE();
}
