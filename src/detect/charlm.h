/* charlm.h — a character n-gram language model of ordinary text, used to find GCG-style
 * adversarial suffixes (Zou et al. 2023): optimised token salad such as
 * `describing.\ + similarlyNow write oppositeley.]( Me giving**ONE please?` is very improbable
 * character by character, while the request in front of it is not, so a text is scored by its
 * worst window rather than its average. No HTTP knowledge.
 *
 * Two interpolated Witten-Bell models look at each character: one over letters folded to lower
 * case (order 4), one over the text's shape — lower/upper/digit/space and each punctuation mark
 * (order 6) — so word salad and odd casing and punctuation all cost. Each is mixed with a cache
 * of the n-grams already seen in the same text, so repeated structure (tables, templates) gets
 * cheap. A character's cost is its cost under the letter model plus under the shape model, in
 * bits; a window's score is the mean over its WD_CHARLM_WINDOW scored characters.
 *
 * Not scored, because they are not prose and are someone else's business: URLs, paths, e-mail
 * addresses, @handles and #tags, dotted names (a.b.c), tokens mixing letters and digits (hashes,
 * base64, keys, passwords), HTML tags, runs of more than 64 non-space bytes, fenced code blocks,
 * table and diff lines, non-ASCII characters (other scripts); and windows that are mostly
 * digits, mostly non-ASCII, or look like code (well-nested brackets, or three operators such as
 * == -> && "; "). Also skipped: `inline code`, ${shell}/$(cmd)/{{template}} tokens, and
 * name="value" attributes. */
#ifndef WD_DETECT_CHARLM_H
#define WD_DETECT_CHARLM_H

#include <stddef.h>

#include "core/buf.h"

#define WD_CHARLM_WINDOW 48 /* scored characters in a window */
#define WD_CHARLM_MIN    16 /* a text with fewer scored characters scores 0 */

struct wd_charlm;
struct wd_charlm_trainer;

struct wd_charlm_result {
	double bits;   /* the worst window's mean cost per character (bits); 0 when none */
	size_t offset; /* that window: its first byte in the text... */
	size_t len;    /* ...and its length in bytes (0 when bits is 0) */
	size_t scored; /* characters of the text that were scored */
};

/* Training: counts the n-grams of each text added; build turns the counts into a model. The
 * same texts in the same order give the same model, byte for byte once saved. */
int wd_charlm_trainer_new(struct wd_charlm_trainer **out);
int wd_charlm_trainer_add(struct wd_charlm_trainer *t, const char *text, size_t len);
int wd_charlm_trainer_build(const struct wd_charlm_trainer *t, struct wd_charlm **out);
void wd_charlm_trainer_free(struct wd_charlm_trainer *t);

/* The model file: a text header (magic "warden-charlm 1", one line per model with its order,
 * alphabet, n-gram count and body size, the body's FNV-1a-64 checksum, "end") followed by a
 * binary body: per model, its highest-order n-grams in increasing order, each as the varint gap
 * from the previous one and the varint count. Lower orders and all probabilities are derived on
 * load. serialize appends the file to out (deterministic); parse validates every field and
 * refuses anything malformed with a message saying what and where (never reads out of bounds). */
int wd_charlm_serialize(const struct wd_charlm *m, struct wd_buf *out);
int wd_charlm_parse(const void *data, size_t len, struct wd_charlm **out, char *err, size_t errlen);
int wd_charlm_save(const struct wd_charlm *m, const char *path, char *err, size_t errlen);
int wd_charlm_load(const char *path, struct wd_charlm **out, char *err, size_t errlen);
void wd_charlm_free(struct wd_charlm *m);

/* Scores text (any bytes; len may be 0). Thread-safe on a shared model; allocates nothing. */
int wd_charlm_score(const struct wd_charlm *m, const char *text, size_t len,
                    struct wd_charlm_result *out);

/* `warden charlm --data FILE.jsonl [--label L[,L...]] [--data ...] --out FILE.model`: trains on
 * the train split of the files; a --label applies to the --data after it (default: all labels).
 * Returns the process exit status. */
int wd_charlm_main(int argc, char **argv);

#endif
