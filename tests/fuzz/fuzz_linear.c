/* fuzz_linear.c — libFuzzer driver for the linear model loader (conf/models/NAME.model: a text
 * header, then binary weights). The bytes are written to an in-memory file and loaded; a model
 * that loads is then applied to a small feature vector, so a bad index or count shows up under
 * ASan. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "memfile.h"
#include "detect/features.h"
#include "detect/linear.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[256];
	int fd = memfile(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct wd_linear *m = NULL;
	if (wd_linear_load(path, &m, err, sizeof err) == 0) {
		uint32_t idx[3] = {0, 12345, WD_FEATURE_DIM - 1};
		float val[3] = {0.5f, 0.5f, 0.7f};
		struct wd_features f = {idx, val, 3, 3};
		double probs[64];
		if (wd_linear_nclass(m) <= 64)
			wd_linear_predict(m, &f, probs);
		wd_linear_free(m);
	}
	close(fd);
	return 0;
}
