/* normalize.c — text folding before matching and featurisation (see normalize.h).
 *
 * Two stages, both linear. Stage 1 decodes UTF-8 by hand and maps each code point through small
 * tables (Latin-1 / Latin Extended-A diacritics, fullwidth forms, Greek and Cyrillic look-alikes,
 * mathematical and enclosed letters, invisible characters, typographic punctuation), lowercases,
 * collapses whitespace and appends the result to the output buffer in chunks. Stage 2 works in
 * place on the bytes just appended (it only keeps or shrinks them): first it joins runs of spaced
 * single letters ("b o m b"), then it folds leetspeak digits inside words ("h4ck"). Every rule is
 * chosen so that normalising an already normalised text changes nothing.
 *
 * Every request goes through here, and most text is plain ASCII with nothing to join or fold, so
 * that case is fast: printable ASCII bypasses the code point tables (16 bytes at a time with
 * SSE2 while the whitespace is single spaces, else a branch-free byte loop), and stage 2 first
 * looks for the bytes that can start a change (a one-letter word; a digit, "@" or "$"), skipping
 * the rest, 16 bytes at a time with SSE2. The output is that of the plain byte loops. */
#include "detect/normalize.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"

/* SSE2 (every x86-64) classifies 16 bytes at a time for the scans that most texts pass through
 * without a stop; elsewhere the same scans go byte by byte. WD_NO_SIMD forces the latter. */
#if defined(__SSE2__) && !defined(WD_NO_SIMD)
#include <emmintrin.h>
#define WD_SSE2 1

/* 0xFF in each byte of x within [lo, hi] (ASCII bounds; bytes >= 0x80 are never in range). */
static inline __m128i in_range(__m128i x, char lo, char hi)
{
	return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8((char)(lo - 1))),
	                     _mm_cmplt_epi8(x, _mm_set1_epi8((char)(hi + 1))));
}

/* Bit k set when p[k] (k < 16) is a word byte of stage 2 ([a-z0-9@$]); *quote (if not NULL):
 * the apostrophes. */
static inline unsigned word_bits(const unsigned char *p, unsigned *quote)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i w = _mm_or_si128(_mm_or_si128(in_range(x, 'a', 'z'), in_range(x, '0', '9')),
	                         _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('@')),
	                                      _mm_cmpeq_epi8(x, _mm_set1_epi8('$'))));
	if (quote)
		*quote = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\'')));
	return (unsigned)_mm_movemask_epi8(w);
}

/* Bit k set when p[k] is a digit, "@" or "$": what leetspeak folding looks at. */
static inline unsigned leet_bits(const unsigned char *p)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(
	    in_range(x, '0', '9'), _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('@')),
	                                        _mm_cmpeq_epi8(x, _mm_set1_epi8('$')))));
}
#else
#define WD_SSE2 0
#endif

/* ---- stage 1: code point folding ---- */

/* U+00A0..U+00FF: replacement; "" = dropped, NULL = kept as is (currency, signs). */
static const char *const latin1[96] = {
    " ",  "!",  "c", NULL, NULL, NULL, "|",  NULL, "",  NULL, "a", "\"", NULL,  "",    NULL,  "",
    NULL, NULL, "2", "3",  "'",  "u",  NULL, ".",  "",  "1",  "o", "\"", "1/4", "1/2", "3/4", "?",
    "a",  "a",  "a", "a",  "a",  "a",  "ae", "c",  "e", "e",  "e", "e",  "i",   "i",   "i",   "i",
    "d",  "n",  "o", "o",  "o",  "o",  "o",  "x",  "o", "u",  "u", "u",  "u",   "y",   "th",  "ss",
    "a",  "a",  "a", "a",  "a",  "a",  "ae", "c",  "e", "e",  "e", "e",  "i",   "i",   "i",   "i",
    "d",  "n",  "o", "o",  "o",  "o",  "o",  "/",  "o", "u",  "u", "u",  "u",   "y",   "th",  "y",
};

/* U+0100..U+017F base letters; '*' marks the two ligatures (U+0132/3 ij, U+0152/3 oe). */
static const char latin_ext_a[] =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii**jjkkklllllll"
    "lllnnnnnnnnnoooooo**rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
_Static_assert(sizeof(latin_ext_a) == 129, "one letter per code point U+0100..U+017F");

/* Everything else we fold, sorted by code point: ASCII replacement ("" = drop). */
struct fold {
	uint32_t cp;
	char s[4];
};

static const struct fold fold_tab[] = {
    {0x0180, "b"},
    {0x0192, "f"},
    {0x01B6, "z"},
    {0x01CD, "a"},
    {0x01CE, "a"},
    {0x01CF, "i"},
    {0x01D0, "i"},
    {0x01D1, "o"},
    {0x01D2, "o"},
    {0x01D3, "u"},
    {0x01D4, "u"},
    {0x01D5, "u"},
    {0x01D6, "u"},
    {0x01D7, "u"},
    {0x01D8, "u"},
    {0x01D9, "u"},
    {0x01DA, "u"},
    {0x01DB, "u"},
    {0x01DC, "u"},
    {0x0218, "s"},
    {0x0219, "s"},
    {0x021A, "t"},
    {0x021B, "t"},
    {0x0237, "j"},
    {0x0251, "a"},
    {0x0261, "g"},
    {0x0262, "g"},
    {0x0269, "i"},
    {0x026A, "i"},
    {0x0274, "n"},
    {0x0280, "r"},
    {0x028F, "y"},
    {0x0299, "b"},
    {0x029C, "h"},
    {0x029F, "l"},
    {0x02BB, "'"},
    {0x02BC, "'"},
    {0x02C8, "'"},
    {0x034F, ""},
    /* Greek */
    {0x0386, "a"},
    {0x0388, "e"},
    {0x0389, "h"},
    {0x038A, "i"},
    {0x038C, "o"},
    {0x038E, "y"},
    {0x0390, "i"},
    {0x0391, "a"},
    {0x0392, "b"},
    {0x0395, "e"},
    {0x0396, "z"},
    {0x0397, "h"},
    {0x0399, "i"},
    {0x039A, "k"},
    {0x039C, "m"},
    {0x039D, "n"},
    {0x039F, "o"},
    {0x03A1, "p"},
    {0x03A4, "t"},
    {0x03A5, "y"},
    {0x03A7, "x"},
    {0x03AA, "i"},
    {0x03AB, "y"},
    {0x03AC, "a"},
    {0x03AD, "e"},
    {0x03AE, "n"},
    {0x03AF, "i"},
    {0x03B0, "u"},
    {0x03B1, "a"},
    {0x03B2, "b"},
    {0x03B3, "y"},
    {0x03B5, "e"},
    {0x03B7, "n"},
    {0x03B9, "i"},
    {0x03BA, "k"},
    {0x03BC, "u"},
    {0x03BD, "v"},
    {0x03BF, "o"},
    {0x03C1, "p"},
    {0x03C4, "t"},
    {0x03C5, "u"},
    {0x03C7, "x"},
    {0x03C9, "w"},
    {0x03CA, "i"},
    {0x03CB, "u"},
    {0x03CC, "o"},
    {0x03CD, "u"},
    {0x03CE, "w"},
    {0x03F2, "c"},
    {0x03F3, "j"},
    {0x03F9, "c"},
    /* Cyrillic */
    {0x0400, "e"},
    {0x0401, "e"},
    {0x0405, "s"},
    {0x0406, "i"},
    {0x0407, "i"},
    {0x0408, "j"},
    {0x0410, "a"},
    {0x0412, "b"},
    {0x0415, "e"},
    {0x041A, "k"},
    {0x041C, "m"},
    {0x041D, "h"},
    {0x041E, "o"},
    {0x0420, "p"},
    {0x0421, "c"},
    {0x0422, "t"},
    {0x0423, "y"},
    {0x0425, "x"},
    {0x0430, "a"},
    {0x0435, "e"},
    {0x043E, "o"},
    {0x0440, "p"},
    {0x0441, "c"},
    {0x0443, "y"},
    {0x0445, "x"},
    {0x0450, "e"},
    {0x0451, "e"},
    {0x0455, "s"},
    {0x0456, "i"},
    {0x0457, "i"},
    {0x0458, "j"},
    {0x0461, "w"},
    {0x0474, "v"},
    {0x0475, "v"},
    {0x04AE, "y"},
    {0x04AF, "y"},
    {0x04BA, "h"},
    {0x04BB, "h"},
    {0x04C0, "l"},
    {0x04CF, "l"},
    {0x0501, "d"},
    {0x051B, "q"},
    {0x051D, "w"},
    /* Armenian look-alikes */
    {0x0570, "h"},
    {0x0578, "n"},
    {0x057D, "u"},
    {0x0585, "o"},
    /* invisible format characters */
    {0x061C, ""},
    {0x115F, ""},
    {0x1160, ""},
    {0x17B4, ""},
    {0x17B5, ""},
    {0x180B, ""},
    {0x180C, ""},
    {0x180D, ""},
    {0x180E, ""},
    {0x180F, ""},
    /* small capitals */
    {0x1D00, "a"},
    {0x1D04, "c"},
    {0x1D05, "d"},
    {0x1D07, "e"},
    {0x1D0A, "j"},
    {0x1D0B, "k"},
    {0x1D0D, "m"},
    {0x1D0F, "o"},
    {0x1D18, "p"},
    {0x1D1B, "t"},
    {0x1D1C, "u"},
    {0x1D20, "v"},
    {0x1D21, "w"},
    {0x1D22, "z"},
    /* general punctuation */
    {0x2010, "-"},
    {0x2011, "-"},
    {0x2012, "-"},
    {0x2013, "-"},
    {0x2014, "-"},
    {0x2015, "-"},
    {0x2018, "'"},
    {0x2019, "'"},
    {0x201A, "'"},
    {0x201B, "'"},
    {0x201C, "\""},
    {0x201D, "\""},
    {0x201E, "\""},
    {0x201F, "\""},
    {0x2024, "."},
    {0x2025, ".."},
    {0x2026, "..."},
    {0x2027, "."},
    {0x2032, "'"},
    {0x2033, "\""},
    {0x2035, "'"},
    {0x2036, "\""},
    {0x2044, "/"},
    /* super- and subscripts */
    {0x2070, "0"},
    {0x2071, "i"},
    {0x2074, "4"},
    {0x2075, "5"},
    {0x2076, "6"},
    {0x2077, "7"},
    {0x2078, "8"},
    {0x2079, "9"},
    {0x207F, "n"},
    {0x2080, "0"},
    {0x2081, "1"},
    {0x2082, "2"},
    {0x2083, "3"},
    {0x2084, "4"},
    {0x2085, "5"},
    {0x2086, "6"},
    {0x2087, "7"},
    {0x2088, "8"},
    {0x2089, "9"},
    /* letterlike symbols (they fill the holes of the mathematical alphabets) */
    {0x2102, "c"},
    {0x210A, "g"},
    {0x210B, "h"},
    {0x210C, "h"},
    {0x210D, "h"},
    {0x210E, "h"},
    {0x2110, "i"},
    {0x2111, "i"},
    {0x2112, "l"},
    {0x2113, "l"},
    {0x2115, "n"},
    {0x2119, "p"},
    {0x211A, "q"},
    {0x211B, "r"},
    {0x211C, "r"},
    {0x211D, "r"},
    {0x2124, "z"},
    {0x2128, "z"},
    {0x212A, "k"},
    {0x212B, "a"},
    {0x212C, "b"},
    {0x212D, "c"},
    {0x212F, "e"},
    {0x2130, "e"},
    {0x2131, "f"},
    {0x2133, "m"},
    {0x2134, "o"},
    {0x2139, "i"},
    /* operators */
    {0x2212, "-"},
    {0x2215, "/"},
    {0x2217, "*"},
    {0x2219, "."},
    {0x2223, "|"},
    {0x22C5, "."},
    {0x24EA, "0"},
    {0x3164, ""},
    {0xA730, "f"},
    {0xA731, "s"},
    {0xFF61, "."},
    {0xFFA0, ""},
    {0xFFF9, ""},
    {0xFFFA, ""},
    {0xFFFB, ""},
};

static const struct fold *fold_find(uint32_t cp)
{
	size_t lo = 0, hi = sizeof(fold_tab) / sizeof(fold_tab[0]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (fold_tab[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < sizeof(fold_tab) / sizeof(fold_tab[0]) && fold_tab[lo].cp == cp)
		return &fold_tab[lo];
	return NULL;
}

/* Lowercase for the scripts whose case we fold; other code points are returned unchanged. */
static uint32_t lower_cp(uint32_t cp)
{
	if (cp >= 0x0391 && cp <= 0x03A9 && cp != 0x03A2)
		return cp + 0x20;
	if (cp >= 0x0410 && cp <= 0x042F)
		return cp + 0x20;
	if (cp >= 0x0400 && cp <= 0x040F)
		return cp + 0x50;
	return cp;
}

enum { F_NONE, F_SPACE, F_DROP, F_ASCII, F_KEEP };

/* Classifies one code point: F_SPACE, F_DROP, F_ASCII (replacement in *s, NUL-terminated, at
 * most 3 bytes), or F_KEEP (emit *keep as UTF-8). */
static int fold_cp(uint32_t cp, char s[4], uint32_t *keep)
{
	s[1] = '\0';
	if (cp < 0x80) {
		if (cp == ' ' || (cp >= '\t' && cp <= '\r'))
			return F_SPACE;
		if (cp < 0x20 || cp == 0x7F)
			return F_DROP;
		s[0] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
		return F_ASCII;
	}
	if (cp < 0xA0)
		return cp == 0x85 ? F_SPACE : F_DROP; /* C1 controls; NEL is a line break */
	if (cp < 0x100) {
		const char *r = latin1[cp - 0xA0];
		if (!r) {
			*keep = cp;
			return F_KEEP;
		}
		if (r[0] == ' ')
			return F_SPACE;
		if (!r[0])
			return F_DROP;
		memcpy(s, r, strlen(r) + 1);
		return F_ASCII;
	}
	if (cp < 0x180) {
		char c = latin_ext_a[cp - 0x100];
		if (c == '*') {
			memcpy(s, cp < 0x140 ? "ij" : "oe", 3);
			return F_ASCII;
		}
		s[0] = c;
		return F_ASCII;
	}
	if (cp >= 0x0300 && cp <= 0x036F)
		return F_DROP; /* combining marks: "e" + U+0301 → "e" */
	if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0x202F || cp == 0x205F || cp == 0x3000)
		return F_SPACE;
	if ((cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
	    (cp >= 0x2060 && cp <= 0x206F) || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF ||
	    (cp >= 0xE0100 && cp <= 0xE01EF) || cp == 0xE0001 || cp == 0xE007F)
		return F_DROP;
	if (cp >= 0xFF01 && cp <= 0xFF5E)
		return fold_cp(cp - 0xFEE0, s, keep);
	if (cp >= 0xE0020 && cp <= 0xE007E)
		return fold_cp(cp - 0xE0000, s, keep); /* tag characters: invisible ASCII */
	if (cp >= 0x1D400 && cp <= 0x1D6A3) {
		/* mathematical alphabets: 13 runs of A-Z a-z (holes are unassigned) */
		uint32_t k = (cp - 0x1D400) % 52;
		s[0] = (char)('a' + (k < 26 ? k : k - 26));
		return F_ASCII;
	}
	if (cp >= 0x1D7CE && cp <= 0x1D7FF) {
		s[0] = (char)('0' + (cp - 0x1D7CE) % 10);
		return F_ASCII;
	}
	if (cp >= 0x2460 && cp <= 0x2468) {
		s[0] = (char)('1' + (cp - 0x2460));
		return F_ASCII;
	}
	if (cp >= 0x249C && cp <= 0x24E9) {
		/* parenthesised, circled capital and circled small letters */
		s[0] = (char)('a' + (cp - 0x249C) % 26);
		return F_ASCII;
	}
	if ((cp >= 0x1F130 && cp <= 0x1F149) || (cp >= 0x1F150 && cp <= 0x1F169) ||
	    (cp >= 0x1F170 && cp <= 0x1F189)) {
		s[0] = (char)('a' + (cp - 0x1F130) % 32 % 26);
		return F_ASCII;
	}
	if (cp >= 0x1F1E6 && cp <= 0x1F1FF) {
		s[0] = (char)('a' + (cp - 0x1F1E6)); /* regional indicators */
		return F_ASCII;
	}
	const struct fold *f = fold_find(cp);
	if (!f) {
		uint32_t l = lower_cp(cp);
		if (l != cp)
			f = fold_find(l);
		if (!f) {
			*keep = l;
			return F_KEEP;
		}
	}
	if (!f->s[0])
		return F_DROP;
	memcpy(s, f->s, 4);
	return F_ASCII;
}

/* Decodes one code point at p[0..n) (n >= 1). Returns its length, or 0 when p[0] starts no
 * valid sequence (overlong forms, surrogates and values past U+10FFFF are invalid). */
static size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xC2)
		return 0;
	if (c < 0xE0) {
		if (n < 2 || (p[1] & 0xC0) != 0x80)
			return 0;
		*cp = ((uint32_t)(c & 0x1F) << 6) | (p[1] & 0x3F);
		return 2;
	}
	if (c < 0xF0) {
		if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		uint32_t v =
		    ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
		if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))
			return 0;
		*cp = v;
		return 3;
	}
	if (c < 0xF5) {
		if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
		    (p[3] & 0xC0) != 0x80)
			return 0;
		uint32_t v = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
		             ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
		if (v < 0x10000 || v > 0x10FFFF)
			return 0;
		*cp = v;
		return 4;
	}
	return 0;
}

static size_t utf8_encode(uint32_t cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Output of stage 1 goes through a stack chunk so the buffer is appended to in big pieces. */
struct emitter {
	struct wd_buf *out;
	size_t room; /* bytes still allowed in out */
	size_t n;
	int pending_space; /* a space is owed before the next non-space output */
	int any;           /* something was emitted (no leading space) */
	char chunk[1024];
};

static int flush(struct emitter *e)
{
	int rc = wd_buf_append(e->out, e->chunk, e->n);
	e->n = 0;
	return rc;
}

/* Emits k bytes (one folded unit, never split). WD_ETOOBIG when out has no room for it. */
static int emit(struct emitter *e, const char *p, size_t k)
{
	size_t need = k + (e->pending_space && e->any ? 1 : 0);
	if (need > e->room)
		return WD_ETOOBIG;
	if (e->n + need > sizeof(e->chunk)) {
		int rc = flush(e);
		if (rc)
			return rc;
	}
	if (e->pending_space && e->any)
		e->chunk[e->n++] = ' ';
	memcpy(e->chunk + e->n, p, k);
	e->n += k;
	e->room -= need;
	e->pending_space = 0;
	e->any = 1;
	return WD_OK;
}

/* ---- stage 2: joining spaced letters, leetspeak ---- */

static int is_lower(unsigned char c)
{
	return c >= 'a' && c <= 'z';
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Characters that make up a word for both rules ("@" and "$" are leet letters). */
static int is_wordc(unsigned char c)
{
	return is_lower(c) || is_digit(c) || c == '@' || c == '$';
}

static char leet_of(unsigned char c)
{
	switch (c) {
	case '0': return 'o';
	case '1': return 'i';
	case '3': return 'e';
	case '4': return 'a';
	case '5': return 's';
	case '7': return 't';
	case '@': return 'a';
	case '$': return 's';
	default: return 0;
	}
}

static int is_sep(unsigned char c)
{
	return c == ' ' || c == '.' || c == '-' || c == '_' || c == '*';
}

/* Byte classes for the stage 2 scans (one table load instead of a chain of compares). */
enum { C_WORD = 1, C_QUOTE = 2, C_LEET = 4 }; /* C_LEET: a word byte that is not a letter */

static const unsigned char cls2[256] = {
    ['a'] = C_WORD,          ['b'] = C_WORD,          ['c'] = C_WORD,
    ['d'] = C_WORD,          ['e'] = C_WORD,          ['f'] = C_WORD,
    ['g'] = C_WORD,          ['h'] = C_WORD,          ['i'] = C_WORD,
    ['j'] = C_WORD,          ['k'] = C_WORD,          ['l'] = C_WORD,
    ['m'] = C_WORD,          ['n'] = C_WORD,          ['o'] = C_WORD,
    ['p'] = C_WORD,          ['q'] = C_WORD,          ['r'] = C_WORD,
    ['s'] = C_WORD,          ['t'] = C_WORD,          ['u'] = C_WORD,
    ['v'] = C_WORD,          ['w'] = C_WORD,          ['x'] = C_WORD,
    ['y'] = C_WORD,          ['z'] = C_WORD,          ['0'] = C_WORD | C_LEET,
    ['1'] = C_WORD | C_LEET, ['2'] = C_WORD | C_LEET, ['3'] = C_WORD | C_LEET,
    ['4'] = C_WORD | C_LEET, ['5'] = C_WORD | C_LEET, ['6'] = C_WORD | C_LEET,
    ['7'] = C_WORD | C_LEET, ['8'] = C_WORD | C_LEET, ['9'] = C_WORD | C_LEET,
    ['@'] = C_WORD | C_LEET, ['$'] = C_WORD | C_LEET, ['\''] = C_QUOTE,
};

/* A single-character word at i: a word byte with neither a word byte nor an apostrophe on
 * either side (prev: the byte before i as it was in the input). */
static int single_at(const char *r, size_t n, size_t i, unsigned char prev)
{
	return (cls2[(unsigned char)r[i]] & C_WORD) && !(cls2[prev] & (C_WORD | C_QUOTE)) &&
	       (i + 1 >= n || !(cls2[(unsigned char)r[i + 1]] & (C_WORD | C_QUOTE)));
}

/* From a single-character word at i, extends over "sep item" pairs: returns j, the last item's
 * position, with the number of items and how many are letters. */
static size_t spaced_run(const char *r, size_t n, size_t i, size_t *items, size_t *letters)
{
	size_t j = i;
	*items = 1;
	*letters = is_lower((unsigned char)r[i]);
	while (j + 2 < n && is_sep((unsigned char)r[j + 1])) {
		unsigned char d = (unsigned char)r[j + 2];
		int ok = is_wordc(d) &&
		         (j + 3 >= n || !(is_wordc((unsigned char)r[j + 3]) || r[j + 3] == '\''));
		if (!ok)
			break;
		j += 2;
		(*items)++;
		*letters += is_lower(d);
	}
	return j;
}

/* "make a b o m b": a leading article stays a word when the rest still joins. */
static int leading_article(const char *r, size_t i, size_t items)
{
	return items >= 4 && (r[i] == 'a' || r[i] == 'i') && r[i + 1] == ' ';
}

static int joins(size_t items, size_t letters)
{
	return items >= 3 && letters >= 2 && 2 * letters >= items;
}

/* The first position at which join_spaced changes anything, or n. Nothing before it moves, so
 * the scan reads the input as it is; most texts have no spaced letters and stop here. */
static size_t first_join(const char *r, size_t n)
{
	const unsigned char *u = (const unsigned char *)r;
	size_t i = 0;
	while (i < n) {
#if WD_SSE2
		if (i >= 1 && n - i >= 17) {
			/* single_at for 16 positions: a word byte, nothing wordish either side */
			unsigned qp, qn;
			unsigned wp = word_bits(u + i - 1, &qp), wc = word_bits(u + i, NULL),
			         wn = word_bits(u + i + 1, &qn);
			unsigned cand = wc & ~(wp | qp) & ~(wn | qn) & 0xFFFFu;
			if (!cand) {
				i += 16;
				continue;
			}
			i += (size_t)__builtin_ctz(cand);
		} else
#endif
		{
			unsigned cp = i ? cls2[u[i - 1]] : 0, cn = i + 1 < n ? cls2[u[i + 1]] : 0;
			if (!((cls2[u[i]] & C_WORD) & (((cp | cn) & (C_WORD | C_QUOTE)) == 0))) {
				i++;
				continue;
			}
		}
		/* a single-character word at i */
		size_t items, letters;
		size_t j = spaced_run(r, n, i, &items, &letters);
		if (leading_article(r, i, items)) {
			items--;
			letters -= is_lower(u[i]);
		}
		if (joins(items, letters))
			return i; /* join_spaced redoes this run, article and all */
		i = j + 1;
	}
	return n;
}

/* Joins runs of at least three single-character words separated by one separator each ("b o m
 * b", "k.i.l.l", "b-0-m-b") when at least half of them (and two) are letters, so "1 2 3" stays. In
 * place; returns the new length. prev tracks the original byte before i (earlier bytes get
 * overwritten).
 */
static size_t join_spaced(char *r, size_t n)
{
	size_t i = first_join(r, n);
	if (i == n)
		return n;
	/* r[0..i) stays; from i on, the same walk as first_join's, now writing at w <= i */
	size_t w = i;
	unsigned char prev = i ? (unsigned char)r[i - 1] : ' ';
	while (i < n) {
		unsigned char c = (unsigned char)r[i];
		if (!single_at(r, n, i, prev)) {
			r[w++] = (char)c;
			prev = c;
			i++;
			continue;
		}
		size_t items, letters;
		size_t j = spaced_run(r, n, i, &items, &letters);
		if (leading_article(r, i, items)) {
			r[w++] = r[i];
			r[w++] = r[i + 1];
			prev = ' ';
			i += 2;
			items--;
			letters -= is_lower(c);
		}
		if (joins(items, letters)) {
			for (size_t k = i; k <= j; k += 2)
				r[w++] = r[k];
		} else {
			for (size_t k = i; k <= j; k++)
				r[w++] = r[k];
		}
		prev = (unsigned char)r[j];
		i = j + 1;
	}
	return w;
}

/* Folds leet characters of the word r[s..e) in place. See the rules in the comments. */
static void leet_word(char *r, size_t n, size_t s, size_t e)
{
	size_t letters = 0, leet = 0;
	for (size_t k = s; k < e; k++) {
		unsigned char c = (unsigned char)r[k];
		if (is_lower(c))
			letters++;
		else if (leet_of(c))
			leet++;
		else
			return; /* 2, 6, 8, 9: a number or a code ("h264", "x86", "1990s") */
	}
	if (!letters || !leet)
		return;
	/* part of a decimal or version ("v1.2", "1.5kg") */
	if (is_digit((unsigned char)r[e - 1]) && e + 1 < n && (r[e] == '.' || r[e] == ',') &&
	    is_digit((unsigned char)r[e + 1]))
		return;
	if (is_digit((unsigned char)r[s]) && s >= 2 && (r[s - 1] == '.' || r[s - 1] == ',') &&
	    is_digit((unsigned char)r[s - 2]))
		return;
	/* ordinals ("1st", "3rd", "5th") and hex ("0x1f") */
	if (e - s >= 3 && is_digit((unsigned char)r[e - 3]) &&
	    (!memcmp(r + e - 2, "st", 2) || !memcmp(r + e - 2, "nd", 2) ||
	     !memcmp(r + e - 2, "rd", 2) || !memcmp(r + e - 2, "th", 2))) {
		size_t k = s;
		while (k < e - 2 && is_digit((unsigned char)r[k]))
			k++;
		if (k == e - 2)
			return;
	}
	if (e - s >= 2 && r[s] == '0' && r[s + 1] == 'x')
		return;
	/* interior runs (letters on both sides: "h4ck", "b00m", "ca$h") */
	int interior = 0;
	size_t k = s;
	while (k < e) {
		if (is_lower((unsigned char)r[k])) {
			k++;
			continue;
		}
		size_t a = k;
		while (k < e && !is_lower((unsigned char)r[k]))
			k++;
		if (a > s && k < e) {
			for (size_t m = a; m < k; m++)
				r[m] = leet_of((unsigned char)r[m]);
			interior = 1;
		}
	}
	/* a trailing digit run only in a word that was leet already ("h3ll0", not "mp3"), or a
	 * lone trailing 0 after letters ("t0", "g0") */
	k = e;
	while (k > s && is_digit((unsigned char)r[k - 1]))
		k--;
	if (k > s && k < e && is_lower((unsigned char)r[k - 1]) &&
	    (interior || (k + 1 == e && r[k] == '0')))
		for (size_t m = k; m < e; m++)
			r[m] = leet_of((unsigned char)r[m]);
	/* then (so a second pass decides the same) a leading digit run followed by two letters
	 * ("3xplosive", not "4k", "50s"); "@" and "$" at the start are mentions and prices */
	k = s;
	while (k < e && is_digit((unsigned char)r[k]))
		k++;
	if (k > s && k + 1 < e && is_lower((unsigned char)r[k]) &&
	    is_lower((unsigned char)r[k + 1]))
		for (size_t m = s; m < k; m++)
			r[m] = leet_of((unsigned char)r[m]);
}

/* Only words with a digit, "@" or "$" can change: the scan looks for those bytes and hands
 * their words, left to right, to leet_word. */
static void fold_leet(char *r, size_t n)
{
	size_t done = 0; /* r[0..done) is handled */
	size_t q = 0;
	while (q < n) {
#if WD_SSE2
		if (n - q >= 16) {
			unsigned m = leet_bits((const unsigned char *)r + q);
			if (!m) {
				q += 16;
				continue;
			}
			q += (size_t)__builtin_ctz(m);
		} else
#endif
		    if (!(cls2[(unsigned char)r[q]] & C_LEET)) {
			q++;
			continue;
		}
		size_t s = q, e = q + 1;
		while (s > done && is_wordc((unsigned char)r[s - 1]))
			s--;
		while (e < n && is_wordc((unsigned char)r[e]))
			e++;
		leet_word(r, n, s, e);
		done = e;
		q = e + 1; /* r[e] is no word byte */
	}
}

/* ASCII fast path: 1 = whitespace, > 1 = the byte to emit (lowercased), 0 = slow path. */
static const unsigned char ascii_out[256] = {
    0,   0,   0,   0,   0,   0,   0,   0,   0,   1,   1,   1,   1,   1,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   1,   33,  34,  35,  36,  37,
    38,  39,  40,  41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51,  52,  53,  54,  55,  56,
    57,  58,  59,  60,  61,  62,  63,  64,  97,  98,  99,  100, 101, 102, 103, 104, 105, 106, 107,
    108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 91,  92,  93,  94,
    95,  96,  97,  98,  99,  100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113,
    114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,
};

/* The fast path: printable ASCII (lowercased) and ASCII whitespace from p[i..), straight into
 * the chunk, until another byte, the end, or as far as the chunk and the room surely allow (one
 * byte out per byte in, plus a space owed from before). Needs e->room >= 2 and two free bytes
 * in the chunk. No branch per byte but the loop's: a space is written and kept only when owed
 * and followed by a word, as emit would. Returns the new i (> i). */
static size_t ascii_run(struct emitter *e, const unsigned char *p, size_t i, size_t len)
{
	size_t n = e->n;
	size_t lim = len - i;
	if (lim > sizeof(e->chunk) - 2 - n)
		lim = sizeof(e->chunk) - 2 - n;
	if (lim > e->room - 1)
		lim = e->room - 1;
	const size_t end = i + lim;
	unsigned owed = (unsigned)(e->pending_space && e->any);
	if (!e->any) {
		/* before the first word, whitespace is dropped */
		while (i < end && ascii_out[p[i]] == 1)
			i++;
		if (i == end || !ascii_out[p[i]])
			return i;
		e->any = 1; /* p[i] is emitted below */
	}
	char *ch = e->chunk;
	for (;;) {
#if WD_SSE2
		/* 16 bytes at a time while they are printable ASCII with single spaces: then the
		 * output is the block lowercased (after a space owed from before, unless the block
		 * starts with its own), less a space at its end, which becomes the owed one */
		while (end - i >= 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
			unsigned ok = (unsigned)_mm_movemask_epi8(in_range(x, ' ', '~'));
			unsigned sp =
			    (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')));
			if (ok != 0xFFFFu || (sp & (sp >> 1)) || (owed && (sp & 1)))
				break;
			x = _mm_add_epi8(x,
			                 _mm_and_si128(in_range(x, 'A', 'Z'), _mm_set1_epi8(0x20)));
			ch[n] = ' ';
			n += owed;
			_mm_storeu_si128((__m128i *)(void *)(ch + n), x);
			owed = sp >> 15;
			n += 16 - owed;
			i += 16;
		}
#endif
		/* byte by byte: up to 16 bytes, then the blocks again */
		size_t stop = end - i > 16 ? i + 16 : end;
		for (; i < stop; i++) {
			unsigned o = ascii_out[p[i]];
			if (!o)
				break;
			unsigned word = o != 1, sp = owed & word;
			/* one two-byte store: " o" when a space is owed, else "o" (and a spare) */
			unsigned char two[2] = {(unsigned char)(sp ? ' ' : o), (unsigned char)o};
			memcpy(ch + n, two, 2);
			n += word + sp;
			owed = word ^ 1;
		}
		if (i < stop || i == end)
			break; /* a byte for the slow path, or the end */
	}
	e->room -= n - e->n;
	e->n = n;
	e->pending_space = (int)owed;
	return i;
}

int wd_normalize(const char *in, size_t len, struct wd_buf *out)
{
	struct emitter e;
	e.out = out;
	e.room = out->max - out->len;
	e.n = 0;
	e.pending_space = 0;
	e.any = 0;
	size_t start = out->len;
	const unsigned char *p = (const unsigned char *)in;
	int rc = WD_OK;
	size_t i = 0;
	while (i < len) {
		unsigned char c = p[i];
		if (ascii_out[c]) {
			if (e.n + 2 >= sizeof(e.chunk)) {
				rc = flush(&e);
				if (rc)
					break;
			}
			if (e.room >= 2) {
				i = ascii_run(&e, p, i, len);
				continue;
			}
			/* at the bound: one byte at a time, as emit decides */
			if (ascii_out[c] == 1) {
				e.pending_space = 1;
			} else {
				char ch = (char)ascii_out[c];
				rc = emit(&e, &ch, 1);
				if (rc)
					break;
			}
			i++;
			continue;
		}
		uint32_t cp;
		size_t k = utf8_decode(p + i, len - i, &cp);
		if (!k) {
			i++; /* invalid byte: dropped */
			continue;
		}
		i += k;
		char s[4];
		uint32_t keep = 0;
		switch (fold_cp(cp, s, &keep)) {
		case F_SPACE: e.pending_space = 1; break;
		case F_DROP: break;
		case F_ASCII:
			if (s[0] == ' ' && !s[1]) {
				e.pending_space = 1;
				break;
			}
			rc = emit(&e, s, strlen(s));
			break;
		default: {
			char u[4];
			size_t m = utf8_encode(keep, u);
			rc = emit(&e, u, m);
			break;
		}
		}
		if (rc)
			break;
	}
	/* what fits is kept and folded, so a caller that hits the bound still gets a prefix */
	int frc = flush(&e);
	if (frc)
		return frc;
	if (out->len > start) {
		char *r = out->data + start;
		size_t n = join_spaced(r, out->len - start);
		fold_leet(r, n);
		out->len = start + n;
		out->data[out->len] = '\0';
	}
	return rc;
}

size_t wd_utf8_prefix(const char *t, size_t len, size_t max)
{
	size_t n = len < max ? len : max;
	while (n < len && n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80)
		n--;
	return n;
}

int wd_normalize_lines(const char *in, size_t len, struct wd_buf *out)
{
	int rc = WD_OK, blank = 0; /* blank: a blank line since the last line of text */
	for (size_t i = 0; i < len && rc == WD_OK;) {
		const char *nl = memchr(in + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - in) : len, before = out->len;
		if (before && (rc = wd_buf_append(out, blank ? "\f" : "\n", 1)) != WD_OK)
			break;
		rc = wd_normalize(in + i, end - i, out);
		if (before && out->len == before + 1) { /* a blank line */
			out->len = before;
			out->data[before] = '\0';
			blank = 1;
		} else if (out->len > before) {
			blank = 0;
		}
		i = end + 1;
	}
	return rc;
}
