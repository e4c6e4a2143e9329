/* fuzz_config.c — libFuzzer driver for the config loader: any bytes parsed as YAML, then
 * validated into settings and built into a checker chain, must give either a value or an error
 * message — never a crash, a leak or undefined behaviour. */
#include <stdint.h>
#include <string.h>

#include "chain/chain.h"
#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	struct wd_conf *c = NULL;
	if (wd_conf_parse((const char *)data, size, "fuzz.yaml", &c, err, sizeof err) != 0)
		return 0;
	struct wd_settings s;
	if (wd_settings_load(c, &s, err, sizeof err) == 0) {
		struct wd_chain *ch = NULL;
		if (wd_chain_build(c, s.checkers, &ch, err, sizeof err) == 0)
			wd_chain_free(ch);
		wd_settings_free(&s);
	}
	wd_conf_free(c);
	return 0;
}
