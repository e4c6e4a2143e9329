/* fuzz_normalize.c — libFuzzer driver for text normalisation and hashed features. Arbitrary
 * bytes are normalised; the result must be valid UTF-8 with no ASCII capitals, no doubled,
 * leading or trailing space, and normalising it again must change nothing. Normalised line by
 * line, each line must be what wd_normalize makes of it, with no blank line (a line or
 * paragraph break between lines). Its features must
 * be sorted, unique, in range, unit-norm (or empty) and the same when extracted twice, the
 * lexicon set made from keys hashed once must equal one extraction, and the harm spans must be
 * in order, inside the text, from a word's start to a word's end. The harm classifier with
 * windows (conf/models/harm.model and the harm rule packs, when run from the repository root)
 * must give a score in [0, 1]. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "detect/classify.h"
#include "detect/features.h"
#include "detect/normalize.h"
#include "detect/unhide.h"
#include "../unit/sort_count.h"

static int valid_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		size_t k = c < 0x80                ? 1
		           : c >= 0xC2 && c < 0xE0 ? 2
		           : c >= 0xE0 && c < 0xF0 ? 3
		           : c >= 0xF0 && c < 0xF5 ? 4
		                                   : 0;
		if (!k || i + k > n)
			return 0;
		for (size_t j = 1; j < k; j++)
			if ((p[i + j] & 0xC0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_buf a, b;
	/* folding grows text by at most 3/2 ("½" -> "1/2"), so this bound is never hit */
	wd_buf_init(&a, 2 * size + 16);
	wd_buf_init(&b, 2 * size + 16);
	if (wd_normalize((const char *)data, size, &a) != 0)
		abort();
	const char *t = a.data ? a.data : "";
	if (!valid_utf8((const unsigned char *)t, a.len) || strlen(t) != a.len)
		abort();
	for (size_t i = 0; i < a.len; i++) {
		if (t[i] >= 'A' && t[i] <= 'Z')
			abort();
		if (t[i] == ' ' && (i == 0 || i + 1 == a.len || t[i + 1] == ' '))
			abort();
	}
	if (wd_normalize(t, a.len, &b) != 0 || b.len != a.len ||
	    (a.len && memcmp(a.data, b.data, a.len)))
		abort();

	/* line by line: the lines of wd_normalize, joined by one line break */
	struct wd_buf l, one;
	wd_buf_init(&l, 2 * size + 16);
	wd_buf_init(&one, 2 * size + 16);
	if (wd_normalize_lines((const char *)data, size, &l) != 0)
		abort();
	size_t at = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		wd_buf_reset(&one);
		if (wd_normalize((const char *)data + at, i - at, &one) != 0)
			abort();
		at = i + 1;
		if (!one.len)
			continue;
		if (l.len < one.len || memcmp(l.data, one.data, one.len) ||
		    (l.len > one.len && l.data[one.len] != '\n' && l.data[one.len] != '\f'))
			abort();
		wd_buf_consume(&l, one.len + (l.len > one.len));
	}
	if (l.len)
		abort();
	wd_buf_free(&l);
	wd_buf_free(&one);

	struct wd_features f, g;
	wd_features_init(&f);
	wd_features_init(&g);
	if (wd_features_extract(t, a.len, a.len, 0, &f) ||
	    wd_features_extract(t, a.len, a.len, 0, &g))
		abort();
	if (f.n != g.n || (f.n && (memcmp(f.idx, g.idx, f.n * sizeof(*f.idx)) ||
	                           memcmp(f.val, g.val, f.n * sizeof(*f.val)))))
		abort();
	for (size_t i = 0; i < f.n; i++)
		if (f.idx[i] >= WD_FEATURE_DIM || (i && f.idx[i] <= f.idx[i - 1]) ||
		    !(f.val[i] > 0))
			abort();
	/* the lexicon set: the keys made for models (what a prediction reads), expanded, sorted and
	 * counted, are what one extraction gives */
	struct wd_feature_keys k;
	wd_feature_keys_init(&k);
	if (wd_features_extract(t, a.len, a.len, WD_FEATURES_LEXICON, &f) ||
	    wd_feature_keys_make(t, a.len, a.len, &k))
		abort();
	size_t entries = k.ngrams + k.lexicon, raw = k.ngram_keys + k.lexicon, o = 0;
	uint32_t *keys = malloc((raw + 1) * sizeof *keys),
	         *count = malloc((raw + 1) * sizeof *count);
	if (!keys || !count)
		abort();
	for (size_t e = 0; e < entries; e++) /* each entry stands for 1 + more[e] raw keys */
		for (uint32_t r = 0; r <= k.more[e] && o < raw; r++)
			keys[o++] = k.key[e];
	if (o != raw)
		abort();
	size_t u = sort_and_count(keys, raw, count);
	if (u != f.n || (u && memcmp(keys, f.idx, u * sizeof *keys)))
		abort();
	for (size_t i = 0; i < u; i++)
		if (wd_features_tf(count[i]) * wd_features_scale(raw) != f.val[i])
			abort();
	free(keys);
	free(count);
	for (size_t i = 0; i < k.nharm; i++) {
		const struct wd_text_span *sp = &k.harm[i];
		if (sp->start >= sp->end || sp->end > a.len ||
		    (i && sp->start < k.harm[i - 1].end) || t[sp->start] == ' ' ||
		    t[sp->end - 1] == ' ')
			abort();
	}
	wd_feature_keys_free(&k);
	/* the harm classifier with windows */
	static struct wd_classifier c;
	static int loaded = -1;
	if (loaded < 0) {
		char err[256];
		loaded = wd_classifier_load(&c, "conf/models/harm.model", "harmful", "conf/rules",
		                            1u << WD_RULE_INTENT | 1u << WD_RULE_TOPIC |
		                                1u << WD_RULE_CONTEXT,
		                            16384, err, sizeof err) == 0;
		c.window_discount = 3.5;
	}
	struct wd_classification r;
	if (loaded && (wd_classify(&c, (const char *)data, size, &r) != 0 || !(r.score >= 0) ||
	               !(r.score <= 1) || strlen(r.window) >= sizeof r.window))
		abort();
	/* what base64 hides: only printable text, within the buffer's bound */
	struct wd_buf h;
	wd_buf_init(&h, 256);
	int found = wd_unhide((const char *)data, size, &h);
	if (found < 0 && found != WD_ETOOBIG)
		abort();
	for (size_t i = 0; i < h.len; i++)
		if ((unsigned char)h.data[i] >= 0x7f)
			abort();
	if (h.len > 256)
		abort();
	wd_buf_free(&h);
	/* raw bytes (not normalised) must be safe too */
	if (wd_features_extract((const char *)data, size, size, 0, &g) ||
	    wd_features_extract((const char *)data, size, size, WD_FEATURES_LEXICON, &g))
		abort();
	wd_features_free(&f);
	wd_features_free(&g);
	wd_buf_free(&a);
	wd_buf_free(&b);
	return 0;
}
