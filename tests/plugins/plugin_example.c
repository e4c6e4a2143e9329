/* plugin_example.c — a checker plugin as a third party would write one: a shared object that
 * exports `wd_checker_plugin`. It flags texts that shout (a run of 12 or more capital letters).
 * Built by the Makefile as $(BUILD)/tests/plugin_example.so and loaded by test_chain. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "chain/checker.h"

static int shout_init(const json_t *conf, void **self, char **err)
{
	*self = NULL;
	if (json_object_size(conf) != 0) {
		*err = strdup("this plugin takes no config");
		return -2;
	}
	return 0;
}

static int shouts(const char *t, size_t len)
{
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		run = isupper((unsigned char)t[i]) ? run + 1 : 0;
		if (run >= 12)
			return 1;
	}
	return 0;
}

static int shout_check(void *self, struct wd_check_ctx *c, const struct wd_exchange *x,
                       struct wd_verdict *v)
{
	for (size_t i = 0; i < x->nmsgs; i++) {
		for (size_t j = 0; j < x->msgs[i].nparts; j++) {
			const struct wd_part *p = &x->msgs[i].parts[j];
			if (p->kind == WD_PART_TEXT && shouts(p->text, p->len)) {
				v->score = 0.9;
				memcpy(v->category, "style.shouting", sizeof "style.shouting");
				return 0;
			}
		}
	}
	return 0;
}

const struct wd_checker_type wd_checker_plugin = {
    .name = "shout",
    .abi = WD_CHECKER_ABI,
    .init = shout_init,
    .check_request = shout_check,
};
