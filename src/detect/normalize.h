/* normalize.h — text folding before matching and featurisation, so spelling tricks do not hide
 * words: lowercase; Unicode compatibility folding of common forms (fullwidth ASCII, Latin letters
 * with diacritics → base letter, typographic quotes/dashes → ASCII); homoglyphs (Cyrillic and
 * Greek look-alikes → Latin); zero-width and other invisible characters removed; leetspeak digits
 * and symbols inside words (0→o 1→i 3→e 4→a 5→s 7→t @→a $→s) folded; runs of whitespace → one
 * space; letters separated by single spaces or dots ("b o m b", "b.o.m.b") joined. Invalid UTF-8
 * bytes are dropped. Linear in the input; no allocation beyond the output buffer. */
#ifndef WD_DETECT_NORMALIZE_H
#define WD_DETECT_NORMALIZE_H

#include <stddef.h>

#include "core/buf.h"

/* Appends the folded form of in[0..len) to out (ASCII for everything it knows, other UTF-8 kept
 * as is, lowercased where it can). Returns 0, or WD_ETOOBIG when out is full. */
int wd_normalize(const char *in, size_t len, struct wd_buf *out);

/* The same, but line breaks are kept: each line of in is folded on its own, and the lines are
 * joined by one '\n', or by one '\f' where blank lines stood between them (a paragraph break;
 * text already in out is followed by one or the other; leading and trailing blank lines leave
 * nothing). A paragraph break ends a sentence for the classifiers' windows (detect/features,
 * detect/classify); the rule packs read both as spaces, at the same offsets. */
int wd_normalize_lines(const char *in, size_t len, struct wd_buf *out);

/* The length of the longest prefix of t[0, len) of at most max bytes that does not cut a UTF-8
 * character (for excerpts). */
size_t wd_utf8_prefix(const char *t, size_t len, size_t max);

#endif
