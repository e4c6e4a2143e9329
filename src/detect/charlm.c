/* charlm.c — the character n-gram language model behind jailbreak.gcg; see charlm.h.
 *
 * Text becomes a stream of symbols (the lexer below): whitespace runs are one space, letters
 * and punctuation are themselves, digits are one symbol, a non-ASCII character is one symbol,
 * and whatever is not prose (URLs, hashes, code blocks...) is one "opaque" symbol that the
 * models see as context but that is never scored. Training and scoring share the lexer, so the
 * models learn exactly what they are asked about.
 *
 * Each model is stored as its highest-order n-gram counts; on load every lower order is derived
 * by marginalising and interpolated Witten-Bell costs are precomputed into an automaton over
 * the contexts seen (see struct lm), so scoring a symbol is usually one cache line per model. A
 * per-text cache of recent n-grams is mixed in with integer log tables; no floating point and
 * no allocation while scoring. */
#include "detect/charlm.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "detect/dataset.h"

/* ---- symbols ---------------------------------------------------------------------------- */

enum {
	SYM_BOS = 0, /* the context before a text starts; never predicted */
	SYM_SPACE = 1,
	/* letters model: 2..27 a-z (case folded), then: */
	L_DIGIT = 28,
	L_PUNCT = 29, /* 32 ASCII punctuation marks, 29..60 */
	L_NONASCII = 61,
	L_OTHER = 62, /* control characters */
	L_OPAQUE = 63,
	L_ALPHABET = 64,
	/* shape model: */
	S_LOWER = 2,
	S_UPPER = 3,
	S_DIGIT = 4,
	S_PUNCT = 5, /* 5..36 */
	S_NONASCII = 37,
	S_OTHER = 38,
	S_OPAQUE = 39,
	S_ALPHABET = 40,
};

#define NMODELS   2
#define MAX_ORDER 7
#define SYM_BITS  6
#define TOKEN_MAX 64 /* a longer run of non-space bytes is data, not words */

struct model_spec {
	const char *name;
	unsigned order, alphabet;
	unsigned cache_ctx; /* symbols of context in the per-text cache */
};

_Static_assert(NMODELS == 2, "the scoring loop steps the two models by hand");

static const struct model_spec specs[NMODELS] = {
    {"letters", 4, L_ALPHABET, 3},
    {"shape", 6, S_ALPHABET, 5},
};

struct sym {
	uint8_t l, s;     /* the symbol in the letters and the shape alphabet */
	uint8_t scored;   /* counts in a window */
	uint8_t digit;    /* a digit */
	uint8_t nonascii; /* a non-ASCII character */
	size_t off, end;  /* the bytes it stands for */
};

/* clang-format off */
/* Byte classes (ASCII only; bytes from 0x80 count as special): */
enum { C_ALPHA = 1, C_DIGIT = 2, C_SPACE = 4, C_SPECIAL = 8, C_LEAD = 16, C_TRAIL = 32 };
/* C_SPECIAL: #@/\<&:~ and non-ASCII, the bytes some opaque-token rule needs; C_LEAD and C_TRAIL:
 * quotes, brackets and punctuation stripped from a token's ends before the rules look at it. */
static const uint8_t cls[256] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  4,  4,  4,  4,  4,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 4, 32, 48,  8,  0,  0,  8, 48, 16, 32, 48,  0, 32,  0, 32,  8,
	 2,  2,  2,  2,  2,  2,  2,  2,  2,  2, 40, 32, 24,  0, 32, 32,
	 8,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
	 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1, 16,  8, 32,  0,  0,
	48,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
	 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1, 16,  0, 32,  8,  0,
	 8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,
	 8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,
	 8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,
	 8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,
	 8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,
	 8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,
	 8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,
	 8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,
};

/* clang-format on */

static int is_space(unsigned c)
{
	return cls[c] & C_SPACE;
}

static int is_alnum(unsigned c)
{
	return cls[c] & (C_ALPHA | C_DIGIT);
}

static int is_alpha(unsigned c)
{
	return cls[c] & C_ALPHA;
}

static void set_sym(struct sym *s, unsigned l, unsigned sh, int scored, size_t off, size_t end)
{
	s->l = (uint8_t)l;
	s->s = (uint8_t)sh;
	s->scored = (uint8_t)scored;
	s->digit = l == L_DIGIT;
	s->nonascii = l == L_NONASCII;
	s->off = off;
	s->end = end;
}

/* True for a token that is data rather than words: URL, path, e-mail, @handle, #tag, dotted
 * name, letters mixed with digits (hashes, base64, keys), HTML tag or entity, or a long run. */
static int opaque_token(const unsigned char *t, size_t n)
{
	if (n > TOKEN_MAX)
		return 1;
	if (n >= 2 && (t[0] == '#' || t[0] == '@')) {
		size_t k = 1;
		while (k < n && (is_alnum(t[k]) || t[k] == '_' || t[k] == '.' || t[k] == '-'))
			k++;
		if (k == n)
			return 1;
	}
	/* a word, with or without punctuation around it, cannot match a rule below unless it has
	 * a special byte, a digit, a dot inside (www., a.b.c) or one of `$={ */
	unsigned any = 0;
	for (size_t k = 0; k < n; k++)
		any |= cls[t[k]] | (t[k] == '.' && k && k + 1 < n ? C_SPECIAL : 0) |
		       (t[k] == '`' || t[k] == '$' || t[k] == '=' || t[k] == '{' ? C_SPECIAL : 0);
	if (!(any & (C_SPECIAL | C_DIGIT)))
		return 0;
	size_t a = 0, b = n;
	while (a < b && (cls[t[a]] & C_LEAD))
		a++;
	while (b > a && (cls[t[b - 1]] & C_TRAIL))
		b--;
	const unsigned char *c = t + a;
	size_t m = b - a;
	if (m >= 4 && (c[0] | 0x20) == 'w' && (c[1] | 0x20) == 'w' && (c[2] | 0x20) == 'w' &&
	    c[3] == '.')
		return 1;
	int slashes = 0, digits = 0, letters = 0, dots = 0, at = 0, tag = 0, close = 0, entity = 0;
	for (size_t k = 0; k < n; k++) {
		unsigned ch = t[k], prev = k ? t[k - 1] : 0, next = k + 1 < n ? t[k + 1] : 0;
		slashes += ch == '/';
		digits += ch >= '0' && ch <= '9';
		letters += is_alpha(ch);
		if (ch == ':' && next == '/' && k + 2 < n && t[k + 2] == '/')
			return 1; /* scheme:// */
		if (ch == '.' && is_alnum(prev) && is_alnum(next))
			dots++;
		if (ch == '@' && is_alnum(prev) && is_alnum(next))
			at = 1;
		if (ch == '<' &&
		    (is_alpha(next) || (next == '/' && k + 2 < n && is_alpha(t[k + 2]))))
			tag = 1;
		if (ch == '>' && tag)
			close = 1;
		if (ch == '&' && is_alpha(next)) {
			size_t e = k + 1;
			while (e < n && is_alpha(t[e]))
				e++;
			entity |= e < n && t[e] == ';' && e - k > 2;
		}
	}
	if (m >= 2 && slashes >= 2 &&
	    (c[0] == '/' || (c[0] == '~' && c[1] == '/') || (c[0] == '.' && c[1] == '/') ||
	     (m >= 3 && c[0] == '.' && c[1] == '.' && c[2] == '/')))
		return 1; /* a path */
	if (m >= 3 && is_alpha(c[0]) && c[1] == ':' && c[2] == '\\')
		return 1; /* C:\ */
	if (dots >= 2 || (at && dots) || (tag && close) || entity)
		return 1;
	if (m >= 3 && c[0] == '`' && c[m - 1] == '`')
		return 1; /* `inline code` */
	for (size_t k = 0; k + 1 < n; k++) {
		if ((t[k] == '$' && (t[k + 1] == '{' || t[k + 1] == '(')) ||
		    (t[k] == '{' && t[k + 1] == '{'))
			return 1; /* ${shell}, $(command), {{template}} */
		if (t[k] == '=' && t[k + 1] == '"' && k && is_alpha(t[k - 1]) && t[n - 1] != '=')
			return 1; /* an HTML/XML attribute: name="value" */
	}
	return m >= 8 && digits && letters;
}

/* The end of the line holding byte i (its '\n', or n). */
static size_t line_end(const unsigned char *p, size_t n, size_t i)
{
	const unsigned char *nl = memchr(p + i, '\n', n - i);
	return nl ? (size_t)(nl - p) : n;
}

/* At the first non-blank byte i of a line: a fenced code block (with its closing fence), a
 * table row or a diff header line is skipped whole; *end gets where it stops. */
static int skip_block(const unsigned char *p, size_t n, size_t i, size_t *end)
{
	size_t eol = line_end(p, n, i);
	if (n - i >= 3 && (memcmp(p + i, "```", 3) == 0 || memcmp(p + i, "~~~", 3) == 0)) {
		for (size_t k = eol; k < n;) { /* k is at a '\n' */
			size_t j = k + 1;
			while (j < n && (p[j] == ' ' || p[j] == '\t'))
				j++;
			size_t e = line_end(p, n, j);
			if (e - j >= 3 && memcmp(p + j, p + i, 3) == 0) {
				*end = e;
				return 1;
			}
			k = e;
		}
		return 0;
	}
	if (p[i] == '|') {
		int bars = 0;
		for (size_t k = i; k < eol; k++)
			bars += p[k] == '|';
		if (bars >= 3) {
			*end = eol;
			return 1;
		}
	}
	static const char *const diff[] = {"@@ ", "+++ ", "--- ", "diff --git "};
	for (size_t d = 0; d < sizeof diff / sizeof *diff; d++) {
		size_t dl = strlen(diff[d]);
		if (eol - i >= dl && memcmp(p + i, diff[d], dl) == 0) {
			*end = eol;
			return 1;
		}
	}
	return 0;
}

/* At a backquote: an inline code span `...` closed on the same line within 256 bytes; *end gets
 * the byte after it. (Single tokens like `x` are caught by opaque_token; this takes spans with
 * spaces: `grep -rn "malloc" src/ | wc -l`.) */
static int inline_code(const unsigned char *p, size_t n, size_t i, size_t *end)
{
	size_t lim = n - i > 256 ? i + 256 : n;
	for (size_t k = i + 1; k < lim && p[k] != '\n'; k++) {
		if (p[k] == '`') {
			*end = k + 1;
			return k > i + 1;
		}
	}
	return 0;
}

struct lexer {
	const unsigned char *p;
	size_t n, i;
	size_t tok_end;  /* bytes before this belong to the current word-like token */
	int after_space; /* the last symbol was a space, or there is none yet */
	int line_fresh;  /* only blanks since the line started */
};

static void lex_init(struct lexer *x, const char *text, size_t len)
{
	memset(x, 0, sizeof *x);
	x->p = (const unsigned char *)text;
	x->n = text ? len : 0;
	x->after_space = 1;
	x->line_fresh = 1;
}

/* clang-format off */
/* Each ASCII byte's symbol in the letters and in the shape alphabet (the enum above, generated
 * from it: letters folded, digits one symbol, punctuation marks their own, the rest "other"). */
static const uint8_t asc_l[128] = {
	62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62,
	62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62,
	62, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
	28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 44, 45, 46, 47, 48, 49,
	50,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 51, 52, 53, 54, 55,
	56,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 57, 58, 59, 60, 62,
};
static const uint8_t asc_s[128] = {
	38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38,
	38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38,
	38,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
	 4,  4,  4,  4,  4,  4,  4,  4,  4,  4, 20, 21, 22, 23, 24, 25,
	26,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,
	 3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3, 27, 28, 29, 30, 31,
	32,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
	 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2, 33, 34, 35, 36, 38,
};

/* clang-format on */

/* The next symbol into *s; 0 at the end of the text (lex_next below is the fast path). */
static int lex_slow(struct lexer *x, struct sym *s)
{
	const unsigned char *p = x->p;
	size_t n = x->n;
	while (x->i < n) {
		size_t i = x->i, e = i;
		unsigned c = p[i];
		if (i >= x->tok_end) {
			if (is_space(c)) {
				int nl = 0;
				while (e < n && is_space(p[e]))
					nl |= p[e++] == '\n';
				x->i = e;
				x->line_fresh |= nl;
				if (x->after_space)
					continue;
				x->after_space = 1;
				set_sym(s, SYM_SPACE, SYM_SPACE, 1, i, e);
				return 1;
			}
			int fresh = x->line_fresh;
			x->line_fresh = 0;
			if (!(fresh && skip_block(p, n, i, &e)) &&
			    !(c == '`' && inline_code(p, n, i, &e))) {
				e = i;
				while (e < n && !is_space(p[e]))
					e++;
				if (!opaque_token(p + i, e - i)) {
					x->tok_end = e;
					continue;
				}
			}
			x->i = e;
			x->after_space = 0;
			set_sym(s, L_OPAQUE, S_OPAQUE, 0, i, e);
			return 1;
		}
		x->after_space = 0;
		if (c >= 0x80) { /* one symbol per UTF-8 sequence (or stray byte) */
			e = i + 1;
			while (e < x->tok_end && (p[e] & 0xC0) == 0x80)
				e++;
			x->i = e;
			set_sym(s, L_NONASCII, S_NONASCII, 0, i, e);
			return 1;
		}
		x->i = i + 1;
		set_sym(s, asc_l[c], asc_s[c], 1, i, i + 1);
		return 1;
	}
	return 0;
}

/* The common case inline: the next byte of a word-like token, ASCII. */
static inline int lex_next(struct lexer *x, struct sym *s)
{
	size_t i = x->i;
	unsigned c = i < x->tok_end ? x->p[i] : 0x80;
	if (c >= 0x80)
		return lex_slow(x, s);
	x->i = i + 1;
	x->after_space = 0;
	s->l = asc_l[c];
	s->s = asc_s[c];
	s->scored = 1;
	s->digit = asc_l[c] == L_DIGIT;
	s->nonascii = 0;
	s->off = i;
	s->end = i + 1;
	return 1;
}

/* ---- the automaton --------------------------------------------------------------------- */

/* Costs are in 1/32 bit and capped near 32 bits, so a row entry packs a symbol's cost (10 bits)
 * with the state that follows it (22 bits). */
#define COST_ONE   32
#define COST_MAX   1023
#define STATE_BITS 22
#define LG_MAX     (CACHE_COUNT_MAX + 4)
#define LOGADD_MAX 1024

/* A model is an automaton over its contexts: a state is a context seen in training (0..order-1
 * symbols; every suffix of one is one too). A state lists the symbols seen after it, each with
 * its interpolated Witten-Bell cost and the state reached (the longest seen context that ends
 * the text so far); a symbol it does not list costs the state's backoff plus whatever its
 * parent (the context without its oldest symbol) says. The empty context lists every symbol.
 * Walking up to a parent shortens the context by one and each symbol lengthens it by at most
 * one, so a text of n symbols takes at most 2n steps.
 *
 * A state is one record in rec[], so that one symbol is usually one cache line:
 *     has (2 words: bit w set when w is listed), parent, backoff cost, then one entry
 *     (next state << 10 | cost) per listed symbol in increasing order,
 * and a state's id is its record's index in rec[]. */
#define REC_HEAD 4

struct lm {
	unsigned order, alphabet;
	uint64_t cache_mask; /* the symbols of context the per-text cache keys on */
	uint64_t *gram;      /* highest-order n-grams, increasing (what the file holds) */
	uint32_t *count;
	size_t ngrams;
	uint32_t *rec;
	size_t nrec, nstates;
	uint32_t start; /* the state before any text: the context of start symbols */
};

#define CACHE_COUNT_MAX 4095

struct wd_charlm {
	struct lm m[NMODELS];
	uint16_t lg[LG_MAX];        /* 32 log2(n) */
	uint8_t logadd[LOGADD_MAX]; /* 32 log2(1 + 2^(-d/32)) */
};

static unsigned quantize(double bits)
{
	double q = bits * COST_ONE + 0.5;
	return q <= 0 ? 0 : q >= COST_MAX ? COST_MAX : (unsigned)q;
}

static uint64_t low_bits(unsigned nsyms)
{
	return nsyms >= 10 ? ~0ull : (1ull << (nsyms * SYM_BITS)) - 1;
}

static uint64_t mix64(uint64_t k)
{
	k ^= k >> 31;
	k *= 0x9E3779B97F4A7C15ull;
	return k ^ (k >> 29);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Position of x in the sorted v[0..n), or n when absent. */
static size_t find_sorted(const uint64_t *v, size_t n, uint64_t x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo] == x ? lo : n;
}

/* Sorts (gram, count) pairs by gram and sums equal grams; returns the new length. */
static size_t sort_merge(uint64_t *g, uint64_t *c, size_t n)
{
	uint64_t *tmp = malloc((n ? n : 1) * 2 * sizeof *tmp);
	if (!tmp)
		return (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		tmp[2 * i] = g[i];
		tmp[2 * i + 1] = c[i];
	}
	qsort(tmp, n, 2 * sizeof *tmp, cmp_u64);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (o && g[o - 1] == tmp[2 * i]) {
			c[o - 1] += tmp[2 * i + 1];
		} else {
			g[o] = tmp[2 * i];
			c[o++] = tmp[2 * i + 1];
		}
	}
	free(tmp);
	return o;
}

static unsigned popcount64(uint64_t x)
{
	x -= (x >> 1) & 0x5555555555555555ull;
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

/* The cost (1/32 bits) of w from state s, and the state after it. */
static inline uint32_t lm_walk(const struct lm *m, uint32_t s, unsigned w, unsigned *cost)
{
	unsigned acc = 0;
	uint64_t bit = 1ull << w;
	for (;;) {
		const uint32_t *r = m->rec + s;
		uint64_t has = (uint64_t)r[0] | (uint64_t)r[1] << 32;
		if (has & bit) {
			uint32_t e = r[REC_HEAD + popcount64(has & (bit - 1))];
			acc += e & COST_MAX;
			*cost = acc < COST_MAX ? acc : COST_MAX;
			return e >> 10;
		}
		acc += r[3];
		s = r[2];
	}
}

/* Builds the automaton from m->gram/m->count. Every order's counts come from marginalising the
 * highest order; interpolated Witten-Bell gives
 *     P(w|h) = (c(h,w) + N1(h) P(w|h')) / (c(h) + N1(h)),   h' = h without its oldest symbol,
 * and, for a w never seen after h, N1(h) / (c(h) + N1(h)) P(w|h'): the backoff. States are
 * built shortest context first, so P(w|h') is already there. */
static int lm_build(struct lm *m)
{
	int rc = WD_ENOMEM;
	unsigned N = m->order, V = m->alphabet;
	uint64_t *g[MAX_ORDER + 1] = {0}, *c[MAX_ORDER + 1] = {0}, *ctx[MAX_ORDER] = {0};
	size_t len[MAX_ORDER + 1] = {0}, nctx[MAX_ORDER] = {0}, base[MAX_ORDER] = {0};
	uint32_t *at = NULL;
	for (unsigned k = N; k >= 1; k--) {
		size_t src = k == N ? m->ngrams : len[k + 1];
		g[k] = malloc((src ? src : 1) * sizeof **g);
		c[k] = malloc((src ? src : 1) * sizeof **c);
		if (!g[k] || !c[k])
			goto out;
		for (size_t i = 0; i < src; i++) {
			g[k][i] = k == N ? m->gram[i] : g[k + 1][i] & low_bits(k);
			c[k][i] = k == N ? m->count[i] : c[k + 1][i];
		}
		len[k] = k == N ? src : sort_merge(g[k], c[k], src);
		if (len[k] == (size_t)-1)
			goto out;
	}
	/* contexts of length L are what the (L+1)-grams follow; state 0 is the empty one */
	size_t states = 0;
	for (unsigned L = 0; L < N; L++) {
		ctx[L] = malloc((len[L + 1] ? len[L + 1] : 1) * sizeof **ctx);
		if (!ctx[L])
			goto out;
		size_t n = 0;
		for (size_t j = 0; j < len[L + 1]; j++) {
			uint64_t h = g[L + 1][j] >> SYM_BITS;
			if (!n || ctx[L][n - 1] != h)
				ctx[L][n++] = h;
		}
		if (L == 0)
			n = 1, ctx[0][0] = 0;
		nctx[L] = n;
		base[L] = states;
		states += n;
	}
	/* where each state's record starts: its head and one word per listed symbol */
	at = malloc(states * sizeof *at);
	if (!at)
		goto out;
	size_t words = REC_HEAD + V;
	at[0] = 0;
	for (unsigned L = 1; L < N; L++) {
		size_t j = 0;
		for (size_t i = 0; i < nctx[L]; i++) {
			size_t n = 0;
			while (j < len[L + 1] && g[L + 1][j] >> SYM_BITS == ctx[L][i])
				j++, n++;
			at[base[L] + i] = words;
			words += REC_HEAD + n;
			if (words >= (1u << STATE_BITS)) {
				rc = WD_ETOOBIG;
				goto out;
			}
		}
	}
	m->rec = calloc(words, sizeof *m->rec);
	if (!m->rec)
		goto out;
	m->nrec = words;
	m->nstates = states;
	{ /* the empty context: order 1, over the whole alphabet */
		double ch = 0, n1 = (double)len[1];
		uint64_t has = V == 64 ? ~0ull : (1ull << V) - 1;
		for (size_t j = 0; j < len[1]; j++)
			ch += (double)c[1][j];
		m->rec[0] = (uint32_t)has;
		m->rec[1] = (uint32_t)(has >> 32);
		size_t j = 0;
		for (unsigned w = 0; w < V; w++) {
			double cw = 0;
			while (j < len[1] && g[1][j] < w)
				j++;
			if (j < len[1] && g[1][j] == w)
				cw = (double)c[1][j];
			double p = ch > 0 ? (cw + n1 / V) / (ch + n1) : 1.0 / V;
			size_t nx = N > 1 ? find_sorted(ctx[1], nctx[1], w) : 0;
			uint32_t next = N > 1 && nx < nctx[1] ? at[base[1] + nx] : 0;
			m->rec[REC_HEAD + w] = next << 10 | quantize(-log2(p));
		}
	}
	for (unsigned L = 1; L < N; L++) {
		size_t a = 0, b = 0;
		for (size_t i = 0; i < nctx[L]; i++) {
			uint64_t h = ctx[L][i], has = 0;
			size_t pi = find_sorted(ctx[L - 1], nctx[L - 1], h & low_bits(L - 1));
			if (pi == nctx[L - 1]) { /* cannot happen: a context's suffix is one */
				rc = WD_ESTATE;
				goto out;
			}
			uint32_t *r = m->rec + at[base[L] + i];
			uint32_t parent = at[base[L - 1] + pi];
			size_t e = a;
			double ch = 0;
			while (e < len[L + 1] && g[L + 1][e] >> SYM_BITS == h)
				ch += (double)c[L + 1][e++];
			double n1 = (double)(e - a);
			r[2] = parent;
			r[3] = quantize(-log2(n1 / (ch + n1)));
			for (size_t j = a; j < e; j++) {
				unsigned w = (unsigned)(g[L + 1][j] & 63), lc;
				uint32_t next = lm_walk(m, parent, w, &lc);
				double p =
				    ((double)c[L + 1][j] + n1 * exp2(-(double)lc / COST_ONE)) /
				    (ch + n1);
				/* the longest context after w: h.w itself when it is one */
				uint64_t hw = h << SYM_BITS | w;
				while (L + 1 < N && b < nctx[L + 1] && ctx[L + 1][b] < hw)
					b++;
				if (L + 1 < N && b < nctx[L + 1] && ctx[L + 1][b] == hw)
					next = at[base[L + 1] + b];
				has |= 1ull << w;
				r[REC_HEAD + (j - a)] = next << 10 | quantize(-log2(p));
			}
			r[0] = (uint32_t)has;
			r[1] = (uint32_t)(has >> 32);
			a = e;
		}
	}
	m->start = 0; /* the longest seen run of start symbols */
	for (unsigned L = N; L-- > 0;) {
		size_t k = find_sorted(ctx[L], nctx[L], 0);
		if (k < nctx[L]) {
			m->start = at[base[L] + k];
			break;
		}
	}
	rc = WD_OK;
out:
	for (unsigned k = 0; k <= MAX_ORDER; k++) {
		free(g[k]);
		free(c[k]);
		if (k < MAX_ORDER)
			free(ctx[k]);
	}
	free(at);
	return rc;
}

static void model_tables(struct wd_charlm *cm)
{
	cm->lg[0] = 0;
	for (int n = 1; n < LG_MAX; n++)
		cm->lg[n] = (uint16_t)(COST_ONE * log2(n) + 0.5);
	for (int d = 0; d < LOGADD_MAX; d++)
		cm->logadd[d] = (uint8_t)(COST_ONE * log2(1 + exp2(-d / (double)COST_ONE)) + 0.5);
}

void wd_charlm_free(struct wd_charlm *cm)
{
	if (!cm)
		return;
	for (int i = 0; i < NMODELS; i++) {
		free(cm->m[i].gram);
		free(cm->m[i].count);
		free(cm->m[i].rec);
	}
	free(cm);
}

/* ---- training --------------------------------------------------------------------------- */

struct counter { /* open addressing: gram (never 0: a gram ends in a predicted symbol) → count */
	uint64_t *key;
	uint32_t *val;
	size_t cap, used;
};

struct wd_charlm_trainer {
	struct counter c[NMODELS];
};

static int counter_add(struct counter *c, uint64_t key)
{
	if (2 * (c->used + 1) > c->cap) {
		size_t ncap = c->cap ? 2 * c->cap : 1 << 16;
		uint64_t *nk = calloc(ncap, sizeof *nk);
		uint32_t *nv = calloc(ncap, sizeof *nv);
		if (!nk || !nv) {
			free(nk);
			free(nv);
			return WD_ENOMEM;
		}
		for (size_t i = 0; i < c->cap; i++) {
			if (!c->key[i])
				continue;
			size_t h = mix64(c->key[i]) & (ncap - 1);
			while (nk[h])
				h = (h + 1) & (ncap - 1);
			nk[h] = c->key[i];
			nv[h] = c->val[i];
		}
		free(c->key);
		free(c->val);
		c->key = nk;
		c->val = nv;
		c->cap = ncap;
	}
	size_t h = mix64(key) & (c->cap - 1);
	while (c->key[h] && c->key[h] != key)
		h = (h + 1) & (c->cap - 1);
	if (!c->key[h]) {
		c->key[h] = key;
		c->used++;
	}
	if (c->val[h] < UINT32_MAX)
		c->val[h]++;
	return WD_OK;
}

int wd_charlm_trainer_new(struct wd_charlm_trainer **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? WD_OK : WD_ENOMEM;
}

void wd_charlm_trainer_free(struct wd_charlm_trainer *t)
{
	if (!t)
		return;
	for (int i = 0; i < NMODELS; i++) {
		free(t->c[i].key);
		free(t->c[i].val);
	}
	free(t);
}

int wd_charlm_trainer_add(struct wd_charlm_trainer *t, const char *text, size_t len)
{
	if (!t || (!text && len))
		return WD_EINVAL;
	struct lexer x;
	struct sym s;
	uint64_t hist[NMODELS] = {0};
	lex_init(&x, text, len);
	while (lex_next(&x, &s)) {
		unsigned sym[NMODELS] = {s.l, s.s};
		for (int i = 0; i < NMODELS; i++) {
			hist[i] = (hist[i] << SYM_BITS | sym[i]) & low_bits(MAX_ORDER);
			int rc = counter_add(&t->c[i], hist[i] & low_bits(specs[i].order));
			if (rc)
				return rc;
		}
	}
	return WD_OK;
}

static struct wd_charlm *model_new(void)
{
	struct wd_charlm *cm = calloc(1, sizeof *cm);
	if (!cm)
		return NULL;
	for (int i = 0; i < NMODELS; i++) {
		cm->m[i].order = specs[i].order;
		cm->m[i].alphabet = specs[i].alphabet;
		cm->m[i].cache_mask = low_bits(specs[i].cache_ctx);
	}
	model_tables(cm);
	return cm;
}

int wd_charlm_trainer_build(const struct wd_charlm_trainer *t, struct wd_charlm **out)
{
	*out = NULL;
	if (!t || !t->c[0].used)
		return WD_EINVAL; /* nothing was added */
	struct wd_charlm *cm = model_new();
	if (!cm)
		return WD_ENOMEM;
	int rc = WD_OK;
	for (int i = 0; i < NMODELS && !rc; i++) {
		const struct counter *c = &t->c[i];
		struct lm *m = &cm->m[i];
		uint64_t *pairs = malloc(2 * c->used * sizeof *pairs);
		m->gram = malloc(c->used * sizeof *m->gram);
		m->count = malloc(c->used * sizeof *m->count);
		if (!pairs || !m->gram || !m->count) {
			free(pairs);
			rc = WD_ENOMEM;
			break;
		}
		size_t n = 0;
		for (size_t k = 0; k < c->cap; k++) {
			if (c->key[k]) {
				pairs[2 * n] = c->key[k];
				pairs[2 * n++ + 1] = c->val[k];
			}
		}
		qsort(pairs, n, 2 * sizeof *pairs, cmp_u64);
		for (size_t k = 0; k < n; k++) {
			m->gram[k] = pairs[2 * k];
			m->count[k] = (uint32_t)pairs[2 * k + 1];
		}
		free(pairs);
		m->ngrams = n;
		rc = lm_build(m);
	}
	if (rc) {
		wd_charlm_free(cm);
		return rc;
	}
	*out = cm;
	return WD_OK;
}

/* ---- scoring ---------------------------------------------------------------------------- */

#define CACHE_BITS 11 /* slots per model's cache: 2048 (16 KiB on the stack) */

/* The n-grams of this text seen so far, direct-mapped: slot = (key + 1) << 12 | count. A
 * colliding key replaces the old one, so a long text keeps mostly its recent n-grams. */
struct cache {
	uint64_t slot[1u << CACHE_BITS];
	unsigned shift;
};

static void cache_init(struct cache *c, size_t len)
{
	unsigned bits = 6;
	while (bits < CACHE_BITS && (1ull << bits) < 4 * (uint64_t)len)
		bits++;
	c->shift = 64 - bits;
	memset(c->slot, 0, (sizeof *c->slot) << bits);
}

/* How often key was counted before (0 when its slot holds another key); counts it once more. */
static inline unsigned cache_take(struct cache *c, uint64_t key)
{
	uint64_t *slot = &c->slot[(key * 0x9E3779B97F4A7C15ull) >> c->shift];
	uint64_t tag = (key + 1) << 12;
	if ((*slot & ~(uint64_t)CACHE_COUNT_MAX) != tag) {
		*slot = tag | 1;
		return 0;
	}
	unsigned n = (unsigned)(*slot & CACHE_COUNT_MAX);
	if (n < CACHE_COUNT_MAX)
		(*slot)++;
	return n;
}

/* The cost (1/32 bits) of a symbol the model gives cost s, mixed with the cache that saw its
 * context nctx times and the symbol after it npair times:
 *     -log2((1 - l) 2^-s + l npair/nctx),  l = nctx / (nctx + 3),
 * computed as a log-add of the two terms' costs with integer tables. */
static inline unsigned mix(const struct wd_charlm *cm, unsigned s, unsigned nctx, unsigned npair)
{
	unsigned a = s + cm->lg[nctx + 3] - cm->lg[3];
	if (!npair)
		return a;
	if (npair > nctx) /* the context's slot was taken over by another key */
		npair = nctx;
	unsigned b = cm->lg[nctx + 3] - cm->lg[npair];
	unsigned lo = a < b ? a : b, d = a < b ? b - a : a - b;
	unsigned t = d < LOGADD_MAX ? cm->logadd[d] : 0;
	return lo > t ? lo - t : 0;
}

/* One symbol through model m: its cost (1/32 bits), the state moved and the cache updated.
 * hist holds the symbols before w, newest lowest. */
static inline unsigned step(const struct wd_charlm *cm, const struct lm *m, struct cache *c,
                            uint32_t *state, uint64_t hist, unsigned w)
{
	unsigned q;
	*state = lm_walk(m, *state, w, &q);
	uint64_t ctx = hist & m->cache_mask;
	unsigned nctx = cache_take(c, ctx << 1 | 1);
	unsigned npair = cache_take(c, (ctx << SYM_BITS | w) << 1);
	return nctx ? mix(cm, q, nctx, npair) : q;
}

/* Code, data or math rather than token salad: well-nested brackets (at least two pairs, no
 * crossing such as "(]", few loose ends since a window cuts through code), or at least three
 * operators and statement ends (== != <= >= => -> && || ++ :: := += -= "; " ": ':, and the
 * shell's " | ", "$(" and one-letter flags such as " -f "). Random
 * token salad rarely nests and rarely strings operators together; code, JSON, math and most
 * markup do. */
static int structured(const unsigned char *p, size_t n)
{
	char stack[32];
	size_t depth = 0;
	int pairs = 0, loose = 0, ops = 0, crossed = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned c = p[i], d = i + 1 < n ? p[i + 1] : ' ';
		if (c == '(' || c == '[' || c == '{') {
			if (depth < sizeof stack)
				stack[depth++] = (char)(c == '(' ? ')' : c == '[' ? ']' : '}');
		} else if (c == ')' || c == ']' || c == '}') {
			if (!depth)
				loose++;
			else if (stack[depth - 1] == (char)c)
				depth--, pairs++;
			else
				crossed = 1;
		}
		if ((d == '=' && strchr("=!<>:+-", (int)c)) || (c == '=' && d == '>') ||
		    (c == '-' && d == '>') || (c == '&' && d == '&') || (c == '|' && d == '|') ||
		    (c == '+' && d == '+') || (c == ':' && d == ':') || (c == ';' && is_space(d)) ||
		    ((c == '"' || c == '\'') && d == ':') || (c == '$' && d == '(') ||
		    (c == '|' && i > 0 && p[i - 1] == ' ' && d == ' ') ||
		    (c == '-' && i > 0 && p[i - 1] == ' ' && d >= 'a' && d <= 'z' &&
		     (i + 2 >= n || p[i + 2] == ' ' || p[i + 2] == '-')))
			ops++;
	}
	return (!crossed && pairs >= 2 && loose + (int)depth <= pairs) || ops >= 3;
}

#define WIN WD_CHARLM_WINDOW

/* May this span, holding `digits` digits and `nonascii` non-ASCII characters among its
 * `count` scored ones, be scored at all? *why_nested tells the caller the costly test failed. */
static int prose_like(const unsigned char *p, size_t a, size_t b, size_t count, size_t digits,
                      size_t nonascii, int *why_nested)
{
	*why_nested = 0;
	if (5 * digits >= count || 4 * nonascii >= count)
		return 0;
	/* 48 characters spread over more than 1 KiB are islands in skipped material (and the
	 * scan below stays short) */
	if (b - a > 1024)
		return 0;
	if (structured(p + a, b - a)) {
		*why_nested = 1;
		return 0;
	}
	return 1;
}

int wd_charlm_score(const struct wd_charlm *cm, const char *text, size_t len,
                    struct wd_charlm_result *out)
{
	memset(out, 0, sizeof *out);
	if (!cm || (!text && len))
		return WD_EINVAL;
	const unsigned char *p = (const unsigned char *)text;
	struct cache cache[NMODELS];
	for (int i = 0; i < NMODELS; i++)
		cache_init(&cache[i], len);
	/* the last WIN scored symbols: cost (1/32 bits), bytes, digit, non-ASCII before it */
	uint32_t cost[WIN];
	size_t off[WIN], end[WIN];
	uint8_t dig[WIN];
	uint32_t na[WIN];
	uint64_t sum = 0, best = 0, hist[NMODELS] = {0};
	uint32_t state[NMODELS];
	size_t k = 0, slot = 0, digits = 0, nonascii = 0, pending_na = 0, recheck = 0;
	int found = 0;
	struct lexer x;
	struct sym s;
	for (int i = 0; i < NMODELS; i++)
		state[i] = cm->m[i].start;
	lex_init(&x, text, len);
	while (lex_next(&x, &s)) {
		unsigned c = step(cm, &cm->m[0], &cache[0], &state[0], hist[0], s.l) +
		             step(cm, &cm->m[1], &cache[1], &state[1], hist[1], s.s);
		hist[0] = hist[0] << SYM_BITS | s.l; /* only the low bits are ever read */
		hist[1] = hist[1] << SYM_BITS | s.s;
		if (!s.scored) {
			pending_na += s.nonascii;
			continue;
		}
		if (k >= WIN) { /* slot holds the oldest of the window */
			sum -= cost[slot];
			digits -= dig[slot];
			nonascii -= na[slot];
		}
		cost[slot] = c;
		off[slot] = s.off;
		end[slot] = s.end;
		dig[slot] = s.digit;
		na[slot] = (uint32_t)pending_na;
		pending_na = 0;
		sum += c;
		digits += s.digit;
		nonascii += na[slot];
		size_t b = end[slot];
		slot = slot + 1 == WIN ? 0 : slot + 1;
		k++;
		if (k < WIN || sum <= best || k < recheck)
			continue;
		int why;
		size_t a = off[slot];
		if (prose_like(p, a, b, WIN, digits, nonascii, &why)) {
			best = sum;
			found = 1;
			out->offset = a;
			out->len = b - a;
		} else if (why) {
			/* the next windows overlap this one: bound the rescans */
			recheck = k + WIN / 4;
		}
	}
	out->scored = k;
	if (k >= WD_CHARLM_MIN && k < WIN) { /* a short text is one window */
		int why;
		size_t a = off[0], b = end[k - 1];
		if (prose_like(p, a, b, k, digits, nonascii + pending_na, &why)) {
			out->bits = (double)sum / COST_ONE / (double)k;
			out->offset = a;
			out->len = b - a;
		}
		return WD_OK;
	}
	if (found)
		out->bits = (double)best / COST_ONE / WIN;
	return WD_OK;
}

/* ---- the model file --------------------------------------------------------------------- */

#define MAGIC      "warden-charlm 1"
#define MAX_GRAMS  (8u << 20)
#define HEADER_MAX 1024

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int put_varint(struct wd_buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;
	do {
		tmp[n++] = (unsigned char)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return wd_buf_append(b, tmp, n);
}

int wd_charlm_serialize(const struct wd_charlm *cm, struct wd_buf *out)
{
	struct wd_buf body[NMODELS];
	int rc = WD_OK;
	for (int i = 0; i < NMODELS; i++)
		wd_buf_init(&body[i], out->max);
	for (int i = 0; i < NMODELS && !rc; i++) {
		const struct lm *m = &cm->m[i];
		uint64_t prev = 0;
		for (size_t k = 0; k < m->ngrams && !rc; k++) {
			rc = put_varint(&body[i], m->gram[k] - prev);
			if (!rc)
				rc = put_varint(&body[i], m->count[k]);
			prev = m->gram[k];
		}
	}
	if (rc)
		goto out;
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < NMODELS; i++) { /* FNV-1a over both bodies in order */
		for (size_t k = 0; k < body[i].len; k++) {
			h ^= (unsigned char)body[i].data[k];
			h *= 0x100000001b3ull;
		}
	}
	rc = wd_buf_printf(out, "%s\n", MAGIC);
	for (int i = 0; i < NMODELS && !rc; i++)
		rc = wd_buf_printf(out, "model %s order %u alphabet %u grams %zu bytes %zu\n",
		                   specs[i].name, cm->m[i].order, cm->m[i].alphabet,
		                   cm->m[i].ngrams, body[i].len);
	if (!rc)
		rc = wd_buf_printf(out, "checksum %016llx\nend\n", (unsigned long long)h);
	for (int i = 0; i < NMODELS && !rc; i++)
		rc = body[i].len ? wd_buf_append(out, body[i].data, body[i].len) : WD_OK;
out:
	for (int i = 0; i < NMODELS; i++)
		wd_buf_free(&body[i]);
	return rc;
}

/* A header line: up to '\n' from *pos, copied NUL-terminated into line (refused when longer or
 * when it holds a NUL byte). */
static int header_line(const unsigned char *p, size_t n, size_t *pos, char *line, size_t cap)
{
	size_t i = *pos;
	size_t lim = n - i < cap ? n - i : cap;
	const unsigned char *nl = memchr(p + i, '\n', lim);
	if (!nl)
		return -1;
	size_t len = (size_t)(nl - (p + i));
	if (memchr(p + i, '\0', len))
		return -1; /* a NUL would end the line early for the checks below */
	memcpy(line, p + i, len);
	line[len] = '\0';
	*pos = i + len + 1;
	return 0;
}

/* A decimal number from *s: digits only, no sign, at most max; moves *s past it. */
static int take_num(const char **s, unsigned long long max, unsigned long long *v)
{
	const char *q = *s;
	unsigned long long x = 0;
	if (*q < '0' || *q > '9')
		return -1;
	for (; *q >= '0' && *q <= '9'; q++) {
		unsigned long long d = (unsigned long long)(*q - '0');
		if (d > max || x > (max - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*s = q;
	*v = x;
	return 0;
}

static int take_word(const char **s, const char *w)
{
	size_t n = strlen(w);
	if (strncmp(*s, w, n) != 0)
		return -1;
	*s += n;
	return 0;
}

static int get_varint(const unsigned char *p, size_t n, size_t *pos, uint64_t *v)
{
	uint64_t x = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*pos >= n)
			return -1;
		unsigned char b = p[(*pos)++];
		if (shift == 63 && b > 1)
			return -1;
		x |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80)) {
			if (!b && shift) /* overlong: trailing zero byte */
				return -1;
			*v = x;
			return 0;
		}
	}
	return -1;
}

#define PFAIL(...)                                                   \
	do {                                                         \
		snprintf(err, errlen, "charlm model: " __VA_ARGS__); \
		rc = WD_EINVAL;                                      \
		goto out;                                            \
	} while (0)

int wd_charlm_parse(const void *data, size_t len, struct wd_charlm **out, char *err, size_t errlen)
{
	const unsigned char *p = data;
	char line[HEADER_MAX];
	size_t pos = 0;
	int rc = WD_OK;
	unsigned long long grams[NMODELS], bytes[NMODELS], order[NMODELS];
	*out = NULL;
	struct wd_charlm *cm = model_new();
	if (!cm) {
		snprintf(err, errlen, "charlm model: out of memory");
		return WD_ENOMEM;
	}
	if (!p || !len)
		PFAIL("empty file");
	if (header_line(p, len, &pos, line, sizeof line) || strcmp(line, MAGIC) != 0)
		PFAIL("line 1: want \"%s\" (not a charlm model, or another version)", MAGIC);
	for (int i = 0; i < NMODELS; i++) {
		const char *s = line;
		unsigned long long alpha;
		if (header_line(p, len, &pos, line, sizeof line))
			PFAIL("line %d: missing or longer than %d bytes", i + 2, HEADER_MAX - 1);
		if (take_word(&s, "model ") || take_word(&s, specs[i].name) ||
		    take_word(&s, " order ") || take_num(&s, MAX_ORDER, &order[i]) ||
		    take_word(&s, " alphabet ") || take_num(&s, 1000, &alpha) ||
		    take_word(&s, " grams ") || take_num(&s, MAX_GRAMS, &grams[i]) ||
		    take_word(&s, " bytes ") || take_num(&s, 20ull * MAX_GRAMS, &bytes[i]) || *s)
			PFAIL("line %d: want \"model %s order N alphabet N grams N bytes N\" "
			      "(N within bounds)",
			      i + 2, specs[i].name);
		if (order[i] < 1)
			PFAIL("line %d: order must be 1 to %d", i + 2, MAX_ORDER);
		if (alpha != specs[i].alphabet)
			PFAIL("line %d: alphabet %llu, this build's %s alphabet has %u symbols",
			      i + 2, alpha, specs[i].name, specs[i].alphabet);
		if (!grams[i])
			PFAIL("line %d: model %s has no n-grams", i + 2, specs[i].name);
		if (bytes[i] < 2 * grams[i] || bytes[i] > 20 * grams[i])
			PFAIL("line %d: %llu bytes cannot hold %llu n-grams", i + 2, bytes[i],
			      grams[i]);
		cm->m[i].order = (unsigned)order[i];
	}
	unsigned long long sum;
	{
		const char *s = line;
		if (header_line(p, len, &pos, line, sizeof line) || take_word(&s, "checksum ") ||
		    strlen(s) != 16 || strspn(s, "0123456789abcdef") != 16)
			PFAIL("line %d: want \"checksum\" and 16 lower-case hex digits",
			      NMODELS + 2);
		sum = strtoull(s, NULL, 16);
		if (header_line(p, len, &pos, line, sizeof line) || strcmp(line, "end") != 0)
			PFAIL("line %d: want \"end\"", NMODELS + 3);
	}
	size_t body = len - pos;
	if (body != bytes[0] + bytes[1])
		PFAIL("body is %zu bytes, the header says %llu (truncated or extended file)", body,
		      bytes[0] + bytes[1]);
	if (fnv1a(p + pos, body) != sum)
		PFAIL("checksum mismatch: the body is corrupt");
	for (int i = 0; i < NMODELS; i++) {
		struct lm *m = &cm->m[i];
		size_t end = pos + bytes[i];
		uint64_t prev = 0, limit = low_bits(m->order);
		m->gram = malloc(grams[i] * sizeof *m->gram);
		m->count = malloc(grams[i] * sizeof *m->count);
		if (!m->gram || !m->count) {
			snprintf(err, errlen, "charlm model: out of memory");
			rc = WD_ENOMEM;
			goto out;
		}
		for (size_t k = 0; k < grams[i]; k++) {
			uint64_t gap, cnt;
			size_t at = pos;
			if (get_varint(p, end, &pos, &gap) || get_varint(p, end, &pos, &cnt))
				PFAIL("%s n-gram %zu (body byte %zu): bad or truncated varint",
				      specs[i].name, k, at - (len - body));
			if (!gap || gap > limit - prev)
				PFAIL("%s n-gram %zu: not in increasing order or out of range",
				      specs[i].name, k);
			uint64_t g = prev + gap;
			for (unsigned j = 0; j < m->order; j++) {
				if (((g >> (j * SYM_BITS)) & 63) >= m->alphabet)
					PFAIL("%s n-gram %zu: symbol %llu outside the alphabet",
					      specs[i].name, k,
					      (unsigned long long)((g >> (j * SYM_BITS)) & 63));
			}
			if ((g & 63) == SYM_BOS)
				PFAIL("%s n-gram %zu: predicts the start symbol", specs[i].name, k);
			if (!cnt || cnt > UINT32_MAX)
				PFAIL("%s n-gram %zu: count %llu out of range", specs[i].name, k,
				      (unsigned long long)cnt);
			m->gram[k] = prev = g;
			m->count[k] = (uint32_t)cnt;
		}
		if (pos != end)
			PFAIL("model %s: %zu bytes left over after its n-grams", specs[i].name,
			      end - pos);
		m->ngrams = grams[i];
		rc = lm_build(m);
		if (rc) {
			snprintf(err, errlen, "charlm model %s: %s", specs[i].name,
			         rc == WD_ETOOBIG ? "too many contexts for its state ids"
			                          : "out of memory");
			goto out;
		}
	}
out:
	if (rc) {
		wd_charlm_free(cm);
		return rc;
	}
	*out = cm;
	return WD_OK;
}

int wd_charlm_save(const struct wd_charlm *cm, const char *path, char *err, size_t errlen)
{
	struct wd_buf b;
	wd_buf_init(&b, (size_t)1 << 30);
	int rc = wd_charlm_serialize(cm, &b);
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, wd_strerror(rc));
		wd_buf_free(&b);
		return rc;
	}
	FILE *fp = fopen(path, "wb");
	int bad = !fp;
	if (fp) {
		bad = fwrite(b.data, 1, b.len, fp) != b.len;
		bad |= fclose(fp) != 0;
	}
	if (bad) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = WD_EIO;
	}
	wd_buf_free(&b);
	return rc;
}

int wd_charlm_load(const char *path, struct wd_charlm **out, char *err, size_t errlen)
{
	*out = NULL;
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return WD_EIO;
	}
	struct wd_buf b;
	wd_buf_init(&b, (size_t)256 << 20);
	char chunk[65536];
	size_t n;
	int rc = WD_OK;
	while (!rc && (n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		rc = wd_buf_append(&b, chunk, n);
	if (!rc && ferror(fp))
		rc = WD_EIO;
	fclose(fp);
	if (rc) {
		snprintf(err, errlen, "%s: %s", path,
		         rc == WD_EIO ? strerror(errno) : wd_strerror(rc));
	} else {
		char why[256];
		rc = wd_charlm_parse(b.data, b.len, out, why, sizeof why);
		if (rc)
			snprintf(err, errlen, "%s: %s", path, why);
	}
	wd_buf_free(&b);
	return rc;
}

/* ---- `warden charlm` -------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: warden charlm [--label L[,L...]] --data FILE.jsonl [[--label ...] --data "
	      "FILE ...]\n"
	      "                     [--split train|train+valid] --out conf/models/charlm.model\n"
	      "A --label applies to the --data files after it (default: every label).\n",
	      f);
}

/* Does label appear in the comma-separated list (NULL: any)? */
static int label_in(const char *list, const char *label)
{
	if (!list)
		return 1;
	if (!label)
		return 0;
	size_t n = strlen(label);
	for (const char *s = list; *s;) {
		size_t k = strcspn(s, ",");
		if (k == n && strncmp(s, label, n) == 0)
			return 1;
		s += k + (s[k] == ',');
	}
	return 0;
}

int wd_charlm_main(int argc, char **argv)
{
	const char *labels = NULL, *outp = NULL;
	int with_valid = 0, ndata = 0, status = 1;
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i];
		if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		int known = strcmp(o, "--data") == 0 || strcmp(o, "--label") == 0 ||
		            strcmp(o, "--out") == 0 || strcmp(o, "--split") == 0;
		if (!known || i + 1 >= argc) {
			fprintf(stderr, "warden charlm: %s %s\n", o,
			        known ? "needs a value" : "is not an option");
			usage(stderr);
			return 2;
		}
		i++;
		if (strcmp(o, "--out") == 0)
			outp = argv[i];
		ndata += strcmp(o, "--data") == 0;
		if (strcmp(o, "--split") == 0) {
			if (strcmp(argv[i], "train") != 0 && strcmp(argv[i], "train+valid") != 0) {
				fprintf(stderr,
				        "warden charlm: --split: want train or train+valid\n");
				return 2;
			}
			with_valid = strcmp(argv[i], "train+valid") == 0;
		}
	}
	if (!ndata || !outp) {
		fprintf(stderr, "warden charlm: --data and --out are required\n");
		usage(stderr);
		return 2;
	}
	struct wd_charlm_trainer *tr = NULL;
	struct wd_charlm *cm = NULL;
	size_t used = 0, bytes = 0;
	char err[1024];
	if (wd_charlm_trainer_new(&tr)) {
		fprintf(stderr, "warden charlm: out of memory\n");
		return 1;
	}
	for (int i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--label") == 0) {
			labels = argv[i + 1];
			continue;
		}
		if (strcmp(argv[i], "--data") != 0)
			continue;
		struct wd_sample *v = NULL;
		size_t n = 0, file_used = 0;
		if (wd_dataset_load(argv[i + 1], &v, &n, err, sizeof err)) {
			fprintf(stderr, "warden charlm: %s\n", err);
			goto out;
		}
		for (size_t k = 0; k < n; k++) {
			const struct wd_sample *s = &v[k];
			if (s->split == WD_SPLIT_TEST ||
			    (s->split == WD_SPLIT_VALID && !with_valid) ||
			    !label_in(labels, s->label))
				continue;
			size_t tl = strlen(s->text);
			if (wd_charlm_trainer_add(tr, s->text, tl)) {
				wd_dataset_free(v, n);
				fprintf(stderr, "warden charlm: out of memory\n");
				goto out;
			}
			file_used++;
			bytes += tl;
		}
		fprintf(stderr, "%s: %zu of %zu records\n", argv[i + 1], file_used, n);
		used += file_used;
		wd_dataset_free(v, n);
	}
	int rc = wd_charlm_trainer_build(tr, &cm);
	if (rc) {
		fprintf(stderr, "warden charlm: %s\n",
		        rc == WD_EINVAL ? "no training text (check --label and the split)"
		                        : wd_strerror(rc));
		goto out;
	}
	if (wd_charlm_save(cm, outp, err, sizeof err)) {
		fprintf(stderr, "warden charlm: %s\n", err);
		goto out;
	}
	fprintf(stderr,
	        "%s: trained on %zu records (%zu bytes); %zu letter and %zu shape n-grams\n", outp,
	        used, bytes, cm->m[0].ngrams, cm->m[1].ngrams);
	status = 0;
out:
	wd_charlm_free(cm);
	wd_charlm_trainer_free(tr);
	return status;
}
