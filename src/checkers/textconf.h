/* textconf.h — what the text-classifying checkers (harm, jailbreak) share: their config keys, the
 * text of conversation turns, and the evidence they record. */
#ifndef WD_CHECKERS_TEXTCONF_H
#define WD_CHECKERS_TEXTCONF_H

#include <jansson.h>

#include "core/buf.h"
#include "detect/classify.h"
#include "openai/exchange.h"

struct wd_textconf {
	const char *model, *rules; /* borrowed from the config; NULL when absent */
	const json_t *categories;  /* array of strings, or NULL */
	int turns;                 /* default 4 */
	size_t max_bytes;          /* default 16384 */
	double window_discount;    /* >= 0; -1 when absent (the checker's default) */
};

/* Reads the keys named in keys (NULL-terminated; any of model, rules, categories, turns,
 * max_bytes, window_discount), refusing others, with a malloc'd message in *err. */
int wd_textconf_parse(const json_t *conf, const char *const *keys, struct wd_textconf *tc,
                      char **err);
/* The text of the k messages of role before its newest skip ones (joined by "\n"), appended to
 * out. WD_ETOOBIG when out filled up (what fitted is kept). */
int wd_textconf_turns(const struct wd_exchange *x, enum wd_role role, int skip, int k,
                      struct wd_buf *out);
/* the last k user turns; the k user turns before the newest */
#define wd_textconf_user_turns(x, k, out) wd_textconf_turns((x), WD_ROLE_USER, 0, (k), (out))
#define wd_textconf_earlier_user_turns(x, k, out) \
	wd_textconf_turns((x), WD_ROLE_USER, 1, (k), (out))
/* Whether the conversation has more than one user message: then the newest alone and the last
 * turns together are different texts, and both are scored. */
int wd_textconf_several_user_turns(const struct wd_exchange *x);
/* A message's text parts and tool-call arguments, appended to out (bounded). */
void wd_textconf_message_text(const struct wd_message *m, struct wd_buf *out);
/* How much of t[0, len) an evidence excerpt keeps: up to 80 bytes, not cutting a UTF-8
 * character. */
size_t wd_textconf_excerpt_len(const char *t, size_t len);
/* {"model": p, "rules": [ids], "scope": scope, "excerpt": first 80 bytes, or the window that
 * decided} */
json_t *wd_textconf_evidence(const struct wd_classification *c, const char *text, size_t len,
                             const char *scope);

#endif
