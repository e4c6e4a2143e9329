/* dataset.h — labelled JSONL data for training and evaluation: one object per line with "text",
 * "label", and optionally "id", "category", "source", "tricky_benign", "system_prompt" (the
 * system message the text was sent under, as in CyberSecEval's prompt injections; the shape of
 * ../shared/datasets) and "context" (the earlier messages of a conversation). Records split
 * deterministically into train / validation / test by a hash of their "group" (records sharing one,
 * such as one task asked in several phrasings, stay in one split), else of their id, else of their
 * text, so `warden train` and `warden eval` agree on the held-out part without copying any data. */
#ifndef WD_DETECT_DATASET_H
#define WD_DETECT_DATASET_H

#include <stddef.h>

enum wd_split { WD_SPLIT_TRAIN, WD_SPLIT_VALID, WD_SPLIT_TEST };

/* One earlier message of a conversation ("context"). */
struct wd_turn {
	int assistant; /* 0: the user's */
	char *content; /* owned */
};

/* At most this many earlier messages in a record's "context". */
#define WD_DATASET_MAX_CONTEXT 64

struct wd_sample {
	char *id, *text, *label, *category, *source; /* owned; NULL when absent (text never) */
	char *system;                                /* "system_prompt": owned, or NULL */
	/* "context": the conversation before text, [{"role": "user"|"assistant", "content": s}],
	 * in order (evaluation sends them before text, the newest user message; training reads
	 * text alone). Owned; NULL and 0 when absent. */
	struct wd_turn *context;
	size_t ncontext;
	int tricky;          /* "tricky_benign": true */
	enum wd_split split; /* 60% train, 20% validation, 20% test */
};

/* Appends the records of spec to *v (a growable array of *n items). spec is a path, or
 * PATH@FIELD to take each record's text from another string field (e.g.
 * insecure_code.jsonl@instruction_prompt). Lines that are not JSON objects with that string field
 * are refused with "path:line: ..." in err. */
int wd_dataset_load(const char *spec, struct wd_sample **v, size_t *n, char *err, size_t errlen);
void wd_dataset_free(struct wd_sample *v, size_t n);
/* The split of a record with this group (or id, or text). */
enum wd_split wd_split_of(const char *key);

#endif
