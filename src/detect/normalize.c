/* normalize.c — text folding before matching and featurisation (see normalize.h).
 *
 * Two stages, both linear. Stage 1 decodes UTF-8 by hand and maps each code point through small
 * tables (Latin-1 / Latin Extended-A diacritics, fullwidth forms, Greek and Cyrillic look-alikes,
 * mathematical and enclosed letters, invisible characters, typographic punctuation), lowercases,
 * collapses whitespace and appends the result to the output buffer in chunks. Stage 2 works in
 * place on the bytes just appended (it only keeps or shrinks them): first it joins runs of spaced
 * single letters ("b o m b"), then it folds leetspeak digits inside words ("h4ck"). Every rule is
 * chosen so that normalising an already normalised text changes nothing. */
#include "detect/normalize.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"

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
	char chunk[512];
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

/* Joins runs of at least three single-character words separated by one separator each ("b o m
 * b", "k.i.l.l", "b-0-m-b") when at least half of them (and two) are letters, so "1 2 3" stays. In
 * place; returns the new length. prev tracks the original byte before i (earlier bytes get
 * overwritten).
 */
static size_t join_spaced(char *r, size_t n)
{
	size_t w = 0, i = 0;
	unsigned char prev = ' ';
	while (i < n) {
		unsigned char c = (unsigned char)r[i];
		int single =
		    is_wordc(c) && !(is_wordc(prev) || prev == '\'') &&
		    (i + 1 >= n || !(is_wordc((unsigned char)r[i + 1]) || r[i + 1] == '\''));
		if (!single) {
			r[w++] = (char)c;
			prev = c;
			i++;
			continue;
		}
		/* extend: item sep item sep item ... */
		size_t j = i, items = 1, letters = is_lower(c);
		while (j + 2 < n && is_sep((unsigned char)r[j + 1])) {
			unsigned char d = (unsigned char)r[j + 2];
			int ok = is_wordc(d) &&
			         (j + 3 >= n ||
			          !(is_wordc((unsigned char)r[j + 3]) || r[j + 3] == '\''));
			if (!ok)
				break;
			j += 2;
			items++;
			letters += is_lower(d);
		}
		/* "make a b o m b": a leading article stays a word when the rest still joins */
		if (items >= 4 && (c == 'a' || c == 'i') && r[i + 1] == ' ') {
			r[w++] = r[i];
			r[w++] = r[i + 1];
			prev = ' ';
			i += 2;
			items--;
			letters--;
		}
		if (items >= 3 && letters >= 2 && 2 * letters >= items) {
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

static void fold_leet(char *r, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (!is_wordc((unsigned char)r[i])) {
			i++;
			continue;
		}
		size_t s = i;
		while (i < n && is_wordc((unsigned char)r[i]))
			i++;
		leet_word(r, n, s, i);
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
		if (ascii_out[c] > 1) {
			/* fast path: printable ASCII, lowercased, straight into the chunk */
			if (e.pending_space || e.n == sizeof(e.chunk) || !e.room) {
				char ch = (char)ascii_out[c];
				rc = emit(&e, &ch, 1);
				if (rc)
					break;
			} else {
				e.chunk[e.n++] = (char)ascii_out[c];
				e.room--;
				e.any = 1;
			}
			i++;
			continue;
		}
		if (ascii_out[c] == 1) {
			e.pending_space = 1;
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
