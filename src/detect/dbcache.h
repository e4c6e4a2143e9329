/* dbcache.h — compiled vectorscan databases kept on disk, so that starting warden again with the
 * same rule packs does not compile them again (seconds for the default packs; loading one from
 * the cache takes milliseconds).
 *
 * A cache file holds what was compiled (vectorscan's version, the mode, and each pattern's
 * flags, id and expression) and the serialised database. It is used only when all of that is
 * the same, byte for byte, and vectorscan accepts the database for this CPU; anything else —
 * no file, another version, a damaged or foreign file — is compiled as if there were no cache,
 * and the file written again. Files name a 64-bit hash of what was compiled. A load from the
 * cache renews the file's time; each write removes the cache files not used for 30 days and
 * temporary files an interrupted write left behind.
 *
 * The directory: $WARDEN_CACHE_DIR when set (empty or relative: no cache), else
 * $XDG_CACHE_HOME/warden, else $HOME/.cache/warden (when the user owns $HOME), made with mode
 * 0700. A directory that is a link, or a directory or file not owned by the user or writable by
 * others, is neither read nor written: a database is code for vectorscan's engine. Files are
 * opened relative to the directory once it is checked. */
#ifndef WD_DETECT_DBCACHE_H
#define WD_DETECT_DBCACHE_H

#include <hs/hs.h>

/* hs_compile_multi, through the cache: the same arguments and results (*ce on a compile
 * error). *hit (may be NULL) is set to 1 when the database came from the cache. */
hs_error_t wd_dbcache_compile(const char *const *exprs, const unsigned *flags, const unsigned *ids,
                              unsigned n, unsigned mode, hs_database_t **db,
                              hs_compile_error_t **ce, int *hit);

#endif
