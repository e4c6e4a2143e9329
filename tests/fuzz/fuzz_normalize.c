/* fuzz_normalize.c — libFuzzer driver for text normalisation and hashed features. Arbitrary
 * bytes are normalised; the result must be valid UTF-8 with no ASCII capitals, no doubled,
 * leading or trailing space, and normalising it again must change nothing. Its features must
 * be sorted, unique, in range, unit-norm (or empty) and the same when extracted twice, and the
 * lexicon set made from keys hashed once must equal one extraction. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "detect/features.h"
#include "detect/normalize.h"
#include "detect/unhide.h"

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

	struct wd_features f, g;
	wd_features_init(&f);
	wd_features_init(&g);
	if (wd_features_extract(t, a.len, a.len, 0, &f) ||
	    wd_features_extract(t, a.len, a.len, 0, &g))
		abort();
	if (f.n != g.n || (f.n && (memcmp(f.idx, g.idx, f.n * sizeof(*f.idx)) ||
	                           memcmp(f.val, g.val, f.n * sizeof(*f.val)))))
		abort();
	double sq = 0;
	for (size_t i = 0; i < f.n; i++) {
		if (f.idx[i] >= WD_FEATURE_DIM || (i && f.idx[i] <= f.idx[i - 1]) ||
		    !(f.val[i] > 0))
			abort();
		sq += (double)f.val[i] * f.val[i];
	}
	if (f.n && fabs(sq - 1.0) > 1e-3)
		abort();
	/* the lexicon set: from keys hashed once it is what one extraction gives */
	struct wd_feature_keys k;
	wd_feature_keys_init(&k);
	if (wd_features_extract(t, a.len, a.len, WD_FEATURES_LEXICON, &f) ||
	    wd_feature_keys_make(t, a.len, a.len, &k) ||
	    wd_features_from_keys(&k, WD_FEATURES_LEXICON, &g))
		abort();
	if (f.n != g.n || (f.n && (memcmp(f.idx, g.idx, f.n * sizeof(*f.idx)) ||
	                           memcmp(f.val, g.val, f.n * sizeof(*f.val)))))
		abort();
	wd_feature_keys_free(&k);
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
