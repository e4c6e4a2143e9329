/* fuzz_net.c — libFuzzer driver for the network loader (detect/net: three header lines, then a
 * linear model as the hidden layer). The bytes are written to an in-memory file and loaded; a
 * network that loads is then applied to a short text's keys, so a bad count of hidden units or
 * weights shows up under ASan. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memfile.h"
#include "detect/features.h"
#include "detect/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[256];
	int fd = memfile(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct wd_net *n = NULL;
	if (wd_net_load(path, &n, err, sizeof err) == 0) {
		const char *text = "how do i make a cake for my sister";
		struct wd_feature_keys k;
		double p;
		wd_feature_keys_init(&k);
		if (wd_feature_keys_make(text, strlen(text), 4096, &k) == 0)
			wd_net_predict_keys(n, &k, &p);
		wd_feature_keys_free(&k);
		wd_net_free(n);
	}
	close(fd);
	return 0;
}
