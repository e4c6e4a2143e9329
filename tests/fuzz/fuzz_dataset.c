/* fuzz_dataset.c — libFuzzer driver for the JSONL record reader (warden train / eval data: one
 * object per line with text, label, system_prompt, group, context...). The bytes are written to
 * an in-memory file and loaded; every record that loads has its fields and earlier messages read
 * back, so a bad count or an unterminated string shows up under ASan. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "memfile.h"
#include "detect/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[256];
	int fd = memfile(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct wd_sample *v = NULL;
	size_t n = 0, sum = 0;
	if (wd_dataset_load(path, &v, &n, err, sizeof err) == 0)
		for (size_t i = 0; i < n; i++) {
			sum += strlen(v[i].text) + (v[i].system ? strlen(v[i].system) : 0);
			for (size_t k = 0; k < v[i].ncontext; k++)
				sum += strlen(v[i].context[k].content) +
				       (size_t)v[i].context[k].assistant;
		}
	wd_dataset_free(v, n);
	close(fd);
	return sum == (size_t)-1;
}
