/* test_normalize.c — the fast paths of wd_normalize: printable ASCII goes through a branch-free
 * byte loop and, with SSE2, 16-byte blocks; the spaced-letter and leetspeak passes skip ahead to
 * the few bytes that can matter. Checked against a plain reference of the ASCII rules (lowercase,
 * whitespace runs to one space, controls dropped) on random texts of every length around the
 * block, chunk and bound edges, with the output bound anywhere; and the stage 2 rules at every
 * offset from a block edge. (test_detect_text.c holds the folding rules themselves.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "detect/normalize.h"
#include "test.h"

/* The ASCII rules without stage 2 (the texts below have no digits, "@", "$" or one-letter
 * words, so stage 2 leaves them alone): into out, returns the length. */
static size_t reference(const char *in, size_t len, char *out)
{
	size_t n = 0;
	int owed = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == ' ' || (c >= '\t' && c <= '\r')) {
			owed = n > 0;
			continue;
		}
		if (c < 0x20 || c == 0x7F)
			continue;
		if (owed)
			out[n++] = ' ';
		owed = 0;
		out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	return n;
}

/* A random text of words (two or more letters, some capitals and punctuation, but none of the
 * separators that join spaced letters) separated by runs of whitespace, with now and then a
 * control byte. */
static size_t random_text(char *t, size_t max)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCXYZ,;!?'\"()~";
	static const char spaces[] = "     \t\n\r\f\v";
	size_t n = 0;
	size_t target = rnd((unsigned)max);
	while (n + 40 < max && n < target) {
		size_t l = 2 + rnd(9);
		for (size_t k = 0; k < l; k++)
			t[n++] = letters[rnd(sizeof letters - 1)];
		size_t s = rnd(5) ? 1 : 1 + rnd(4);
		for (size_t k = 0; k < s; k++)
			t[n++] = rnd(6) ? spaces[rnd(sizeof spaces - 1)] : ' ';
		if (!rnd(25))
			t[n++] = (char)(rnd(2) ? 0x7F : 1 + rnd(8));
	}
	if (rnd(3) == 0 && n) /* end without a trailing space */
		n--;
	return n;
}

TEST(ascii_matches_reference)
{
	static char text[6000], want[6000];
	struct wd_buf out;
	int ok = 1;
	for (int it = 0; it < 4000 && ok; it++) {
		size_t n = random_text(text, it < 2000 ? 80 : sizeof text);
		size_t w = reference(text, n, want);
		wd_buf_init(&out, 1 << 16);
		ok = wd_normalize(text, n, &out) == WD_OK && out.len == w &&
		     (w == 0 || memcmp(out.data, want, w) == 0);
		if (!ok)
			fprintf(stderr, "  \"%.*s\"\n  want \"%.*s\"\n", (int)n, text, (int)w,
			        want);
		wd_buf_free(&out);
	}
	CHECK(ok);
}

TEST(ascii_bound_keeps_a_prefix)
{
	/* with room for m bytes: the longest prefix of the full output that fits and does not end
	 * in a space; WD_ETOOBIG when that is not all of it; appended after what out held */
	static char text[3000], want[3000];
	int ok = 1;
	for (int it = 0; it < 3000 && ok; it++) {
		size_t n = random_text(text, sizeof text);
		size_t w = reference(text, n, want);
		size_t m = rnd((unsigned)w + 3), pre = rnd(3);
		size_t k = m < w ? m : w;
		while (k > 0 && want[k - 1] == ' ')
			k--;
		struct wd_buf out;
		wd_buf_init(&out, m + pre);
		for (size_t i = 0; i < pre; i++)
			wd_buf_append(&out, "#", 1);
		int rc = wd_normalize(text, n, &out);
		ok = rc == (m < w ? WD_ETOOBIG : WD_OK) && out.len == pre + k &&
		     (k == 0 || memcmp(out.data + pre, want, k) == 0);
		if (!ok)
			fprintf(stderr, "  bound %zu: rc %d, %zu bytes, want %zu\n", m, rc,
			        out.len - pre, k);
		wd_buf_free(&out);
	}
	CHECK(ok);
}

static const char *norm(const char *s, char *buf, size_t n)
{
	struct wd_buf b;
	wd_buf_init(&b, 1 << 16);
	int rc = wd_normalize(s, strlen(s), &b);
	snprintf(buf, n, "%s", rc ? "(error)" : (b.data ? b.data : ""));
	wd_buf_free(&b);
	return buf;
}

TEST(stage2_at_every_offset)
{
	/* spaced letters, leetspeak and what must stay, moved across the 16-byte blocks */
	static const char *const cases[][2] = {
	    {"make a b o m b now", "make a bomb now"},
	    {"k.i.l.l them", "kill them"},
	    {"a a b c d", "a abcd"},
	    {"1 2 3 go", "1 2 3 go"},
	    {"h4ck th3m b0x", "hack them box"},
	    {"h4ck 3xpl0de 1t", "hack explode 1t"},
	    {"h4ck 3xplode", "hack explode"},
	    {"v1.2 and 1.5kg", "v1.2 and 1.5kg"},
	    {"3xplosive h3ll0 mp3", "explosive hello mp3"},
	    {"it's ca$h @home", "it's cash @home"},
	};
	char got[512], want[512], in[512];
	int ok = 1;
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		for (size_t off = 0; off < 40 && ok; off++) {
			/* a word of off + 2 letters before (none at 0), one after */
			char word[64];
			memset(word, 'w', off + 2);
			word[off + 2] = '\0';
			snprintf(in, sizeof in, "%s%s%s zz", off ? word : "", off ? "  " : "",
			         cases[c][0]);
			snprintf(want, sizeof want, "%s%s%s zz", off ? word : "", off ? " " : "",
			         cases[c][1]);
			norm(in, got, sizeof got);
			ok = strcmp(got, want) == 0;
			if (!ok)
				fprintf(stderr, "  in \"%s\"\n  got  \"%s\"\n  want \"%s\"\n", in,
				        got, want);
		}
	}
	CHECK(ok);
}

/* Line breaks kept: each line folded on its own, one '\n' between lines and one '\f' where blank
 * lines stood, none at the start or the end; text already in the buffer is followed by one. */
TEST(lines_keep_their_breaks)
{
	struct wd_buf b;
	wd_buf_init(&b, 1024);
	const char *t = "\n  Line ONE.\n\n \t \n\nline  two\r\nTHREE\n\n";
	CHECK_EQ_INT(wd_normalize_lines(t, strlen(t), &b), WD_OK);
	CHECK(b.data && strcmp(b.data, "line one.\fline two\nthree") == 0);
	CHECK_EQ_INT(wd_normalize_lines("Four", 4, &b), WD_OK);
	CHECK(strcmp(b.data, "line one.\fline two\nthree\nfour") == 0);
	wd_buf_reset(&b);
	CHECK_EQ_INT(wd_normalize_lines("\n\n", 2, &b), WD_OK);
	CHECK_EQ_INT((int)b.len, 0);
	wd_buf_free(&b);
	/* at the bound: a prefix, and WD_ETOOBIG */
	wd_buf_init(&b, 10);
	CHECK_EQ_INT(wd_normalize_lines("abcd\nefgh\nijkl", 14, &b), WD_ETOOBIG);
	CHECK(b.len <= 10 && strncmp(b.data, "abcd\nefgh", b.len) == 0);
	wd_buf_free(&b);
}

TEST(utf8_prefix_keeps_whole_characters)
{
	const char *t = "caf\xc3\xa9 \xe2\x82\xac"
	                "5"; /* "café €5" */
	size_t len = strlen(t);
	CHECK_EQ_INT((int)wd_utf8_prefix(t, len, 80), (int)len); /* shorter than max: whole */
	CHECK_EQ_INT((int)wd_utf8_prefix(t, len, 4), 3);         /* not half of the é */
	CHECK_EQ_INT((int)wd_utf8_prefix(t, len, 5), 5);
	CHECK_EQ_INT((int)wd_utf8_prefix(t, len, 8), 6); /* not two thirds of the € */
	CHECK_EQ_INT((int)wd_utf8_prefix(t, len, 9), 9);
	CHECK_EQ_INT((int)wd_utf8_prefix(t, len, 0), 0);
}

int main(void)
{
	RUN(utf8_prefix_keeps_whole_characters);
	RUN(lines_keep_their_breaks);
	RUN(ascii_matches_reference);
	RUN(ascii_bound_keeps_a_prefix);
	RUN(stage2_at_every_offset);
	return DONE();
}
