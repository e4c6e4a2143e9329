/* test.h — the tiny unit-test harness shared by tests/unit/test_*.c.
 * Each test binary defines tests with TEST(name) and lists them in main via RUN(name);
 * DONE() prints the closing line "N passed, N failed" and returns the exit status. */
#ifndef WD_TEST_H
#define WD_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int wd_t_passed, wd_t_failed, wd_t_cur_failed;
static const char *wd_t_cur;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                                             \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "  FAIL %s: %s:%d: %s\n", wd_t_cur, __FILE__, __LINE__, \
			        #cond);                                                         \
			wd_t_cur_failed = 1;                                                    \
		}                                                                               \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                       \
	do {                                                                                     \
		long long wd_a = (long long)(a), wd_b = (long long)(b);                          \
		if (wd_a != wd_b) {                                                              \
			fprintf(stderr, "  FAIL %s: %s:%d: %s == %s (%lld != %lld)\n", wd_t_cur, \
			        __FILE__, __LINE__, #a, #b, wd_a, wd_b);                         \
			wd_t_cur_failed = 1;                                                     \
		}                                                                                \
	} while (0)

#define CHECK_STR(a, b)                                                                       \
	do {                                                                                  \
		const char *wd_a = (a), *wd_b = (b);                                          \
		if (!wd_a || !wd_b || strcmp(wd_a, wd_b) != 0) {                              \
			fprintf(stderr, "  FAIL %s: %s:%d: %s == %s (\"%s\" != \"%s\")\n",    \
			        wd_t_cur, __FILE__, __LINE__, #a, #b, wd_a ? wd_a : "(null)", \
			        wd_b ? wd_b : "(null)");                                      \
			wd_t_cur_failed = 1;                                                  \
		}                                                                             \
	} while (0)

#define RUN(name)                                              \
	do {                                                   \
		wd_t_cur = #name;                              \
		wd_t_cur_failed = 0;                           \
		name();                                        \
		if (wd_t_cur_failed) {                         \
			wd_t_failed++;                         \
			fprintf(stderr, "not ok %s\n", #name); \
		} else {                                       \
			wd_t_passed++;                         \
		}                                              \
	} while (0)

/* A uniform draw from 0..n-1 (xorshift64, fixed seed: every run draws the same inputs), for
 * tests that compare a fast path with a reference on many generated cases. */
static uint64_t wd_t_rng = 0x9E3779B97F4A7C15ull;
static inline uint32_t rnd(uint32_t n)
{
	wd_t_rng ^= wd_t_rng << 13;
	wd_t_rng ^= wd_t_rng >> 7;
	wd_t_rng ^= wd_t_rng << 17;
	return (uint32_t)(wd_t_rng % n);
}

#define DONE()                                                                               \
	(printf("%s: %d passed, %d failed\n",                                                \
	        strrchr(__FILE__, '/') ? strrchr(__FILE__, '/') + 1 : __FILE__, wd_t_passed, \
	        wd_t_failed),                                                                \
	 wd_t_failed ? 1 : 0)

#endif
