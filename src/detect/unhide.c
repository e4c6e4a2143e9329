/* unhide.c — decoding base64 runs that hide readable text (see unhide.h). */
#include "detect/unhide.h"

#include <stdint.h>

#include "core/err.h"

#define RUN_MIN    16   /* base64 characters: 12 decoded bytes */
#define DECODE_MAX 4096 /* bytes decoded per run (a longer run is cut) */

/* The 6-bit value of a base64 character (standard and URL-safe alphabets) + 1; 0 for any other
 * byte. A table: this scans every request. */
/* clang-format off */
static const unsigned char b64_table[256] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  /* 0x00 */
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  /* 0x10 */
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 63,  0, 63,  0, 64,  /* 0x20 */
	53, 54, 55, 56, 57, 58, 59, 60, 61, 62,  0,  0,  0,  0,  0,  0,  /* 0x30 */
	 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15,  /* 0x40 */
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,  0,  0,  0,  0, 64,  /* 0x50 */
	 0, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,  /* 0x60 */
	42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,  0,  0,  0,  0,  0,  /* 0x70 */
	/* 0x80..0xff: 0 */
};
/* clang-format on */

static inline int b64(unsigned char c)
{
	return (int)b64_table[c] - 1;
}

/* Readable text: printable ASCII, tabs and newlines only, and at least one space per 16 bytes
 * (words, not a token). */
static int readable(const unsigned char *p, size_t n)
{
	size_t spaces = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c >= 0x7f)
			return 0;
		spaces += c == ' ';
	}
	return spaces * 16 >= n;
}

int wd_unhide(const char *in, size_t len, struct wd_buf *out)
{
	const unsigned char *t = (const unsigned char *)in;
	unsigned char dec[DECODE_MAX];
	int found = 0;
	/* i is 0 or follows a byte outside the alphabet: a run can start there. Whether one of
	 * RUN_MIN does is read from its last byte back (prose has a space every few bytes), so
	 * most of the text is never looked at. */
	size_t i = 0;
	while (i + RUN_MIN <= len) {
		size_t j = i + RUN_MIN;
		while (j > i && b64(t[j - 1]) >= 0)
			j--;
		if (j > i) { /* t[j - 1] breaks any run that starts before it */
			i = j;
			continue;
		}
		size_t st = i;
		while (i < len && b64(t[i]) >= 0)
			i++;
		size_t n = i - st;
		while (i < len && t[i] == '=')
			i++;
		if (n < RUN_MIN)
			continue;
		/* whole groups of 4 characters -> 3 bytes; a last partial group gives what it holds
		 */
		size_t d = 0;
		uint32_t acc = 0;
		unsigned bits = 0;
		for (size_t k = st; k < st + n && d < sizeof dec; k++) {
			acc = (acc << 6) | (uint32_t)b64(t[k]);
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				dec[d++] = (unsigned char)(acc >> bits);
				acc &= (1u << bits) - 1;
			}
		}
		if (d < 12 || !readable(dec, d))
			continue;
		if (wd_buf_append(out, "\n", 1) || wd_buf_append(out, (const char *)dec, d))
			return WD_ETOOBIG;
		found++;
	}
	return found;
}
