/* fuzz_remote.c — libFuzzer driver for what the `remote` checker reads from the network: a
 * guard's answer, parsed both as a Llama Guard chat completion and as a /v1/moderations result.
 * Whatever the bytes, a parse either fails with a static reason or gives a score in [0, 1] and
 * NUL-terminated category strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/remote_parse.h"
#include "core/err.h"

static void check(int rc, const struct wd_remote_answer *a, const char *why)
{
	if (rc != WD_OK) {
		if (!why || !*why)
			abort();
		return;
	}
	if (!(a->score >= 0 && a->score <= 1))
		abort();
	if (strnlen(a->category, sizeof a->category) == sizeof a->category ||
	    strnlen(a->guard, sizeof a->guard) == sizeof a->guard)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_remote_answer a;
	const char *why = NULL;
	memset(&a, 0, sizeof a);
	check(wd_remote_parse_llama_guard((const char *)data, size, &a, &why), &a, why);
	memset(&a, 0, sizeof a);
	why = NULL;
	check(wd_remote_parse_moderation((const char *)data, size, &a, &why), &a, why);
	return 0;
}
