/* scratch.h — vectorscan scratch space, one per thread, shared by every database the thread
 * scans (the pattern checker's, the rule packs'): grown as needed, freed when the thread exits. */
#ifndef WD_DETECT_SCRATCH_H
#define WD_DETECT_SCRATCH_H

#include <hs/hs.h>

/* The calling thread's scratch, large enough for db; NULL when it cannot be allocated. */
hs_scratch_t *wd_hs_scratch(const hs_database_t *db);

#endif
