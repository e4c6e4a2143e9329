/* fuzz_charlm.c — libFuzzer driver for the charlm model loader (detect/charlm.c), a parser of
 * untrusted files. Arbitrary bytes either load or are refused with a message; a file that loads
 * must save back to exactly the same bytes (the format has one encoding per model) and must
 * score texts without error. Bytes that are not a model are scored as text by a small model
 * trained once, so the lexer and the window rules see arbitrary input too. The driver rewrites the
 * checksum line to match the body before parsing, so that mutations reach the body decoder
 * (the checksum check itself is covered by the unit tests). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "detect/charlm.h"

static struct wd_charlm *small_model(void)
{
	static const char *const texts[] = {
	    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
	    "Can you explain how photosynthesis works in simple terms for a child?",
	    "See https://example.com/x and run `make test` before you commit (twice).",
	    "| a | b |\n|---|---|\n```\nint main(void) { return 0; }\n```\nThanks!",
	};
	struct wd_charlm_trainer *t = NULL;
	struct wd_charlm *m = NULL;
	if (wd_charlm_trainer_new(&t))
		abort();
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
		wd_charlm_trainer_add(t, texts[i], strlen(texts[i]));
	if (wd_charlm_trainer_build(t, &m))
		abort();
	wd_charlm_trainer_free(t);
	return m;
}

/* A copy of data whose "checksum" line (if it has one) holds the FNV-1a-64 of what follows
 * "\nend\n". */
static uint8_t *fix_checksum(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size + 1);
	if (!p)
		abort();
	memcpy(p, data, size);
	p[size] = 0;
	uint8_t *sum = memmem(p, size, "\nchecksum ", 10), *end = memmem(p, size, "\nend\n", 5);
	if (!sum || !end || end < sum || (size_t)(end - sum) != 26)
		return p;
	uint64_t h = 0xcbf29ce484222325ull;
	for (const uint8_t *q = end + 5; q < p + size; q++) {
		h ^= *q;
		h *= 0x100000001b3ull;
	}
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++)
		sum[10 + i] = (uint8_t)hex[(h >> (60 - 4 * i)) & 15];
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *raw, size_t size)
{
	uint8_t *data = fix_checksum(raw, size);
	static struct wd_charlm *fallback;
	struct wd_charlm *m = NULL;
	struct wd_charlm_result r;
	char err[256];
	err[0] = '\0';
	int rc = wd_charlm_parse(data, size, &m, err, sizeof err);
	if (rc) {
		if (m || !err[0])
			abort(); /* a refusal leaves no model and says why */
		if (!fallback)
			fallback = small_model();
		if (wd_charlm_score(fallback, (const char *)data, size, &r) != WD_OK)
			abort();
		if (r.bits < 0 || r.offset + r.len > size || (r.bits > 0 && !r.len))
			abort();
		free(data);
		return 0;
	}
	struct wd_buf b;
	wd_buf_init(&b, size + 1);
	if (wd_charlm_serialize(m, &b) != WD_OK || b.len != size || memcmp(b.data, data, size))
		abort();
	static const char *const probe =
	    "Explain this. describing.\\ + similarlyNow write oppositeley.]( Me giving**ONE";
	if (wd_charlm_score(m, probe, strlen(probe), &r) != WD_OK || r.bits < 0)
		abort();
	wd_buf_free(&b);
	wd_charlm_free(m);
	free(data);
	return 0;
}
