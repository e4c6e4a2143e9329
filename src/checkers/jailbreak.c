/* jailbreak.c — the `jailbreak` checker: attempts to switch the assistant's policy off (DAN and
 * other personas, developer mode, refusal suppression, obfuscation) in the user's turns, and
 * prompt injection — instructions addressed to the assistant — in what the user did not write:
 * tool and function results, and any document or retrieved text they carry. Each is scored by
 * detect/classify (a linear model with classes benign, attack + jailbreak/injection rule packs);
 * the highest score wins. The category is the strongest rule's, else jailbreak.other for the
 * user's turns and injection.tool for tool output.
 *
 * config: model, rules, turns (user turns looked at, 4), max_bytes (16384). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/checker.h"
#include "checkers/checkers.h"
#include "checkers/textconf.h"
#include "core/buf.h"
#include "core/err.h"
#include "detect/classify.h"

struct jailbreak {
	struct wd_classifier c;
	int turns;
};

static void jailbreak_destroy(void *self)
{
	struct jailbreak *j = self;
	if (!j)
		return;
	wd_classifier_free(&j->c);
	free(j);
}

static int jailbreak_init(const json_t *conf, void **self, char **err)
{
	static const char *const keys[] = {"model", "rules", "turns", "max_bytes", NULL};
	struct jailbreak *j = calloc(1, sizeof *j);
	if (!j)
		return WD_ENOMEM;
	*self = j;
	struct wd_textconf tc;
	int rc = wd_textconf_parse(conf, keys, &tc, err);
	if (rc)
		return rc;
	j->turns = tc.turns;
	char why[512];
	rc = wd_classifier_load(&j->c, tc.model, "attack", tc.rules,
	                        (1u << WD_RULE_JAILBREAK) | (1u << WD_RULE_INJECTION), tc.max_bytes,
	                        why, sizeof why);
	if (rc)
		*err = strdup(why);
	return rc;
}

/* Scores text; keeps it in v when it beats what v holds. */
static int consider(const struct jailbreak *j, const char *text, size_t len, const char *fallback,
                    const char *scope, struct wd_verdict *v)
{
	struct wd_classification c;
	int rc = wd_classify(&j->c, text, len, &c);
	if (rc || c.score <= v->score)
		return rc;
	json_decref(v->evidence);
	v->score = c.score;
	snprintf(v->category, sizeof v->category, "%s", c.category[0] ? c.category : fallback);
	v->evidence = wd_textconf_evidence(&c, text, len, scope);
	return WD_OK;
}

static int jailbreak_check_request(void *self, struct wd_check_ctx *ctx,
                                   const struct wd_exchange *x, struct wd_verdict *v)
{
	const struct jailbreak *j = self;
	struct wd_buf text;
	wd_buf_init(&text, j->c.max_bytes);
	int rc = wd_textconf_user_turns(x, j->turns, &text);
	if ((rc == WD_OK || rc == WD_ETOOBIG) && text.len)
		rc = consider(j, text.data, text.len, "jailbreak.other", "user", v);
	else if (rc == WD_ETOOBIG)
		rc = WD_OK;
	/* what tools and functions returned: injection, not the user's words */
	for (size_t i = 0; i < x->nmsgs && (rc == WD_OK || rc == WD_ETOOBIG); i++) {
		const struct wd_message *m = &x->msgs[i];
		if (m->role != WD_ROLE_TOOL && m->role != WD_ROLE_FUNCTION)
			continue;
		wd_buf_reset(&text);
		wd_textconf_message_text(m, &text);
		rc = text.len ? consider(j, text.data, text.len, "injection.tool", "tool", v)
		              : WD_OK;
	}
	wd_buf_free(&text);
	return rc == WD_ETOOBIG ? WD_OK : rc;
}

const struct wd_checker_type wd_checker_jailbreak = {
    .name = "jailbreak",
    .abi = WD_CHECKER_ABI,
    .init = jailbreak_init,
    .destroy = jailbreak_destroy,
    .check_request = jailbreak_check_request,
};
