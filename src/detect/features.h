/* features.h — hashed sparse features of a (normalised) text for the linear models: word
 * unigrams and bigrams, and character 3- and 4-grams within words (with word-boundary markers),
 * optionally word-class co-occurrences per sentence (WD_FEATURES_LEXICON),
 * each hashed (a 32-bit FNV-1a with a per-kind seed) into WD_FEATURE_BITS bits; values are
 * sublinear term frequencies (1 + ln tf), L2-normalised. Indices are sorted and unique. */
#ifndef WD_DETECT_FEATURES_H
#define WD_DETECT_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#define WD_FEATURE_BITS 20
#define WD_FEATURE_DIM  (1u << WD_FEATURE_BITS)

struct wd_features {
	uint32_t *idx; /* sorted, unique, each < WD_FEATURE_DIM */
	float *val;
	size_t n, cap;
};

void wd_features_init(struct wd_features *f);
/* opts: also the intent x target features of each sentence's lexicon classes (detect/lexicon).
 * A model records which set it was trained on (detect/linear). */
#define WD_FEATURES_LEXICON 1u

/* Replaces f's contents with the features of text (already normalised). At most max_bytes of
 * text are used (the rest is ignored). opts: 0 or WD_FEATURES_LEXICON. Returns 0 or
 * WD_ENOMEM. */
int wd_features_extract(const char *text, size_t len, size_t max_bytes, unsigned opts,
                        struct wd_features *f);
void wd_features_free(struct wd_features *f);

/* One text's hashed keys before they become vectors — its n-gram keys and its lexicon keys,
 * each sorted and counted — for a caller that needs both feature sets of a text
 * (detect/classify): it hashes and counts once, and each set is a merge away.
 * wd_features_from_keys gives exactly what wd_features_extract gives for the same text and
 * options. */
struct wd_feature_keys {
	uint32_t *key;   /* [0, ngrams): n-gram keys; [ngrams, ngrams + lexicon): lexicon keys */
	uint32_t *count; /* how often each key occurs */
	size_t ngrams, lexicon, cap;
	/* The sentences whose words name harm (a class of WD_LEX_HARMFUL, detect/lexicon), as
	 * byte ranges of the text in order: where a request hidden in a long text is looked for
	 * (detect/classify). Here a sentence ends at . ? ! ; : or a paragraph break ('\f', from
	 * wd_normalize_lines). */
	struct wd_text_span *harm;
	size_t nharm, harm_cap;
};

struct wd_text_span {
	uint32_t start, end; /* text[start, end): from its first word's first byte to its last's */
	uint32_t cls;        /* its words' classes (bit 1 << wd_lex_class, detect/lexicon) */
};

void wd_feature_keys_init(struct wd_feature_keys *k);
int wd_feature_keys_make(const char *text, size_t len, size_t max_bytes, struct wd_feature_keys *k);
int wd_features_from_keys(const struct wd_feature_keys *k, unsigned opts, struct wd_features *f);
void wd_feature_keys_free(struct wd_feature_keys *k);

#endif
