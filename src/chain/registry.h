/* registry.h — checker types by name: the built-in ones (a static table) and plugins, shared
 * objects loaded by path that export `const struct wd_checker_type wd_checker_plugin`. */
#ifndef WD_CHAIN_REGISTRY_H
#define WD_CHAIN_REGISTRY_H

#include <stddef.h>

#include "chain/checker.h"

/* The built-in type called name, or NULL. */
const struct wd_checker_type *wd_registry_find(const char *name);
/* Loads a plugin from path (the `type` of an entry whose value contains a '/'). NULL with a
 * message in err when it cannot be opened, lacks the symbol, or has another ABI number. The
 * library stays loaded for the life of the process. */
const struct wd_checker_type *wd_registry_load(const char *path, char *err, size_t errlen);
/* "pattern, debug, ...": the built-in names, for error messages. */
const char *wd_registry_names(void);

#endif
