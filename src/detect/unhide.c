/* unhide.c — decoding base64 runs that hide readable text (see unhide.h). */
#include "detect/unhide.h"

#include <stdint.h>

#include "core/err.h"

#define RUN_MIN    16   /* base64 characters: 12 decoded bytes */
#define DECODE_MAX 4096 /* bytes decoded per run (a longer run is cut) */

/* The 6-bit value of a base64 character, or -1. */
static int b64(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
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
	size_t i = 0;
	while (i < len) {
		if (b64(t[i]) < 0) {
			i++;
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
