/* scratch.c — per-thread vectorscan scratch; see scratch.h. */
#include "detect/scratch.h"

#include <pthread.h>

static __thread hs_scratch_t *scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void free_scratch(void *s)
{
	hs_free_scratch(s);
}

static void make_scratch_key(void)
{
	pthread_key_create(&scratch_key, free_scratch);
}

hs_scratch_t *wd_hs_scratch(const hs_database_t *db)
{
	hs_scratch_t *before = scratch;
	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS)
		return NULL;
	if (scratch != before) { /* the key's destructor frees it when the thread exits */
		pthread_once(&scratch_once, make_scratch_key);
		pthread_setspecific(scratch_key, scratch);
	}
	return scratch;
}
