/* sort_count.h — sorting and counting a text's raw feature keys the plain way, for the tests and
 * fuzz targets that check detect/features against it (detect/features keeps its own fast sort
 * private). */
#ifndef WD_TESTS_SORT_COUNT_H
#define WD_TESTS_SORT_COUNT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static inline int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* a[0..n) sorted, then its distinct values in place, how often each occurs in count; returns
 * how many. */
static inline size_t sort_and_count(uint32_t *a, size_t n, uint32_t *count)
{
	qsort(a, n, sizeof *a, cmp_u32);
	size_t u = 0;
	for (size_t i = 0; i < n; i++) {
		if (u && a[u - 1] == a[i]) {
			count[u - 1]++;
			continue;
		}
		a[u] = a[i];
		count[u++] = 1;
	}
	return u;
}

#endif
