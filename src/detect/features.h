/* features.h — hashed sparse features of a (normalised) text for the linear models: word
 * unigrams and bigrams, and character 3- and 4-grams within words (with word-boundary markers),
 * optionally word-class co-occurrences per sentence (WD_FEATURES_LEXICON),
 * each hashed into WD_FEATURE_BITS bits (features.c: FNV-1a, or a 64-bit product); values are
 * sublinear term frequencies (1 + ln tf) scaled by 1 / sqrt(n), n the number of keys the text
 * gave with repeats (every n-gram occurrence, and with the lexicon every lexicon key). Not the L2
 * norm: that needs the count of every distinct key, so all of a text's keys sorted, where this
 * needs only the counts of the keys a model weighs, which detect/linear tallies as it looks the
 * text's keys up. For the small counts of real text, (1 + ln tf)^2 is close to tf, so the two
 * scales differ little. Indices are sorted and unique. */
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

/* 1 + ln(count): a key's value before scaling; the scale of a text of nkeys keys, as a float
 * (0 for none). A value is their float product: wd_features_extract and a prediction from raw
 * keys (detect/linear) compute the same bits. */
float wd_features_tf(uint32_t count);
float wd_features_scale(size_t nkeys);

/* One text's hashed keys, unsorted, for a caller that scores the text with models
 * (detect/classify, through wd_linear_predict_keys): it hashes once, and no model needs more.
 * The n-gram keys come first, then the lexicon's; the feature set without the lexicon is the
 * first ngrams entries, with it the first ngrams + lexicon. A word met again in the text is not
 * kept again: the entries of its first occurrence (its character n-grams and unigram) count it
 * once more, so entry e stands for 1 + more[e] keys, and the text's raw keys number
 * ngram_keys + lexicon. */
struct wd_feature_keys {
	uint32_t *key;     /* [0, ngrams): n-gram keys; [ngrams, ngrams + lexicon): lexicon keys */
	uint32_t *more;    /* the raw keys each entry stands for beyond one (0 for most) */
	size_t ngram_keys; /* the raw n-gram keys: ngrams + the n-gram entries' more */
	uint32_t *scratch; /* 3 * cap, and tally_cap zeros between predictions: a prediction's */
	uint32_t *tally;   /* rows and how often each occurs (detect/linear) */
	size_t ngrams, lexicon, cap, tally_cap;
	struct wd_word_slot *words; /* the words met, while the text is hashed (features.c) */
	uint32_t words_gen;
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
/* Replaces k's contents with the keys of text (already normalised; at most max_bytes of it).
 * Returns 0 or WD_ENOMEM. */
int wd_feature_keys_make(const char *text, size_t len, size_t max_bytes, struct wd_feature_keys *k);
void wd_feature_keys_free(struct wd_feature_keys *k);

#endif
