/* fuzz_jailbreak.c — libFuzzer driver for the jailbreak checker's reading of a conversation: the
 * input after its first byte, split where that byte says (as a share of the rest), becomes a
 * system message (where the checker looks for the line that introduces retrieved text, and
 * whether it guards a secret) and a user message (scored, asked whether it wants a secret, and
 * its tail read by the suffix detector's symbol scan), both arbitrary bytes, NUL included; the
 * checker is run with the "context" and "all" system scans, rules only, and as the default
 * config loads it (models, rule packs, suffix detector; the restricted model when the system
 * message restricts the assistant). The same two parts are then two user turns for the checker
 * as the default config loads it: the turns together and the newest alone, each paragraph as a
 * window. Every verdict must be a score in [0, 1]. Run from the repository root (it reads
 * conf/rules and conf/models). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/checker.h"
#include "checkers/checkers.h"
#include "openai/exchange.h"

static void *checker(const char *conf)
{
	json_t *c = json_loads(conf, 0, NULL);
	void *self = NULL;
	char *err = NULL;
	if (!c || wd_checker_jailbreak.init(c, &self, &err) != 0)
		abort();
	json_decref(c);
	return self;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void *scans[3];
	if (!scans[0]) {
		scans[0] =
		    checker("{\"rules\": \"conf/rules/injection.yaml\", \"system\": \"context\"}");
		scans[1] =
		    checker("{\"rules\": \"conf/rules/injection.yaml\", \"system\": \"all\"}");
		scans[2] =
		    checker("{\"model\": \"conf/models/jailbreak.model\", "
		            "\"restricted_model\": \"conf/models/jailbreak_restricted.model\", "
		            "\"rules\": \"conf/rules\", \"charlm\": \"conf/models/charlm.model\"}");
	}
	if (size == 0)
		return 0;
	size_t rest = size - 1, cut = rest * data[0] / 255;
	const char *text = (const char *)data + 1;
	struct wd_part parts[2] = {
	    {.kind = WD_PART_TEXT, .text = text, .len = cut},
	    {.kind = WD_PART_TEXT, .text = text + cut, .len = rest - cut},
	};
	struct wd_message msgs[2] = {
	    {.role = WD_ROLE_SYSTEM, .choice = -1, .parts = &parts[0], .nparts = 1},
	    {.role = WD_ROLE_USER, .choice = -1, .parts = &parts[1], .nparts = 1},
	};
	struct wd_exchange x = {.route = WD_ROUTE_CHAT, .msgs = msgs, .nmsgs = 2};
	struct wd_message turns[3] = {
	    {.role = WD_ROLE_USER, .choice = -1, .parts = &parts[0], .nparts = 1},
	    {.role = WD_ROLE_ASSISTANT, .choice = -1},
	    {.role = WD_ROLE_USER, .choice = -1, .parts = &parts[1], .nparts = 1},
	};
	struct wd_exchange convo = {.route = WD_ROUTE_CHAT, .msgs = turns, .nmsgs = 3};
	const struct {
		void *checker;
		const struct wd_exchange *x;
	} runs[] = {{scans[0], &x}, {scans[1], &x}, {scans[2], &x}, {scans[2], &convo}};
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		struct wd_check_ctx ctx = {0};
		struct wd_verdict v;
		memset(&v, 0, sizeof v);
		if (wd_checker_jailbreak.check_request(runs[i].checker, &ctx, runs[i].x, &v) == 0 &&
		    !(v.score >= 0 && v.score <= 1))
			abort();
		json_decref(v.evidence);
	}
	return 0;
}
