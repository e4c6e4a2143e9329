/* remote_parse.h — the pure half of the `remote` checker (remote.c): what it sends to a guard
 * model and how it reads the guard's answers, with no I/O so that unit tests cover every shape of
 * answer. Two protocols: Llama Guard over Chat Completions ("safe" / "unsafe\nS1,S10") and
 * OpenAI-style /v1/moderations (category_scores). */
#ifndef WD_CHECKERS_REMOTE_PARSE_H
#define WD_CHECKERS_REMOTE_PARSE_H

#include <jansson.h>
#include <stddef.h>

#include "openai/exchange.h"

/* What a guard answered, in warden's terms. */
struct wd_remote_answer {
	double score;      /* 0..1: llama-guard 1 (unsafe) or 0 (safe); moderation the max score */
	char category[64]; /* warden taxonomy id ("S1"), "" when safe */
	char guard[64];    /* the guard's own words: "S1,S10", "violence", "" when safe */
};

/* The messages array for a Llama Guard chat request: the conversation's user and assistant
 * turns (system and tool messages left out, consecutive turns of one role joined by "\n"),
 * ending at its last user turn and holding at most `turns` user turns, then the answer (when
 * answer != NULL) as the final assistant turn. Llama Guard's template wants strictly
 * alternating roles starting with the user, which this guarantees. At most max_bytes of text in
 * all, the answer and the newest turns first; each text cut at a UTF-8 boundary. Returns a new
 * array (empty when there is no user text), or NULL when out of memory. */
json_t *wd_remote_messages(const struct wd_exchange *x, int turns, size_t max_bytes,
                           const char *answer, size_t answer_len);

/* Length <= n of s that does not end inside a UTF-8 character (s[0..n) may be a cut prefix). */
size_t wd_remote_utf8_prefix(const char *s, size_t n);

/* Parses a Chat Completions answer of a Llama Guard model: choices[0].message.content is
 * "safe" or "unsafe" followed by a line of comma-separated categories (whitespace around either
 * is ignored; the first category names the verdict). On failure returns WD_EINVAL and sets
 * *why to a static phrase for the log ("malformed JSON", "unexpected output", ...) that never
 * quotes the answer. */
int wd_remote_parse_llama_guard(const char *body, size_t len, struct wd_remote_answer *a,
                                const char **why);

/* Parses a /v1/moderations answer: results[].category_scores; the score is the highest value
 * over every result, the category that value's, mapped by wd_remote_map_category. Errors as
 * for wd_remote_parse_llama_guard. */
int wd_remote_parse_moderation(const char *body, size_t len, struct wd_remote_answer *a,
                               const char **why);

/* warden's taxonomy id for an OpenAI moderation category, or NULL when there is no obvious one:
 * violence* → S1, illicit* → S2, sexual/minors → S4, hate* and harassment* → S10,
 * self-harm* → S11, sexual → S12. */
const char *wd_remote_map_category(const char *moderation_category);

#endif
