/* scratch.c — per-thread vectorscan scratch; see scratch.h. */
#include "detect/scratch.h"

#include <pthread.h>
#include <string.h>

#define FITS_MAX 16 /* databases remembered per thread; more just means re-checking */

static __thread hs_scratch_t *scratch;
static __thread uint64_t fits[FITS_MAX]; /* serials of databases scratch fits; 0 = none */
static __thread unsigned fits_next;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static uint64_t serial_next = 1;

static void free_scratch(void *s)
{
	hs_free_scratch(s);
}

static void make_scratch_key(void)
{
	pthread_key_create(&scratch_key, free_scratch);
}

uint64_t wd_hs_serial(void)
{
	return __atomic_fetch_add(&serial_next, 1, __ATOMIC_RELAXED);
}

hs_scratch_t *wd_hs_scratch(const hs_database_t *db, uint64_t serial)
{
	for (unsigned i = 0; i < FITS_MAX; i++)
		if (fits[i] == serial && serial)
			return scratch;
	/* Growing keeps the scratch valid for the databases it fitted before. */
	hs_scratch_t *before = scratch;
	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
		/* vectorscan has freed the old scratch and set it to NULL: forget what it fitted */
		scratch = NULL;
		memset(fits, 0, sizeof fits);
		fits_next = 0;
		if (before) {
			pthread_once(&scratch_once, make_scratch_key);
			pthread_setspecific(scratch_key, NULL);
		}
		return NULL;
	}
	if (scratch != before) { /* the key's destructor frees it when the thread exits */
		pthread_once(&scratch_once, make_scratch_key);
		pthread_setspecific(scratch_key, scratch);
	}
	fits[fits_next++ % FITS_MAX] = serial;
	return scratch;
}
