/* embed.h — files compiled into the binary by tools/embed.sh (the SQL migrations, the dashboard
 * assets): a table of name, bytes (NUL-terminated), length, ending in a {NULL} entry. */
#ifndef WD_CORE_EMBED_H
#define WD_CORE_EMBED_H

#include <stddef.h>

struct wd_embedded {
	const char *name;
	const unsigned char *data;
	size_t len;
};

extern const struct wd_embedded wd_migrations[];
extern const size_t wd_migrations_count;
extern const struct wd_embedded
    wd_dashboard[]; /* src/admin/dashboard/ files, served at /dashboard/ */
extern const size_t wd_dashboard_count;

#endif
