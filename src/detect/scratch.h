/* scratch.h — vectorscan scratch space, one per thread, shared by every database the thread
 * scans (the pattern checker's, the rule packs'): grown as needed, freed when the thread exits.
 *
 * hs_alloc_scratch costs far more than a scan of a short text (about 0.6 ms for the rule packs),
 * so each thread remembers the databases its scratch already fits. A database is known by a
 * serial number from wd_hs_serial(), not by its address, which a later database may reuse. */
#ifndef WD_DETECT_SCRATCH_H
#define WD_DETECT_SCRATCH_H

#include <hs/hs.h>
#include <stdint.h>

/* A number no other database of this process gets; give one to each compiled database. */
uint64_t wd_hs_serial(void);
/* The calling thread's scratch, large enough for db (whose serial is `serial`); NULL when it
 * cannot be allocated. */
hs_scratch_t *wd_hs_scratch(const hs_database_t *db, uint64_t serial);

#endif
