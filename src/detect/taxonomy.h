/* taxonomy.h — the category ids warden reports: the MLCommons hazard taxonomy that Llama Guard 3
 * uses (S1..S14), and warden's own families (jailbreak.*, injection.*, ...). */
#ifndef WD_DETECT_TAXONOMY_H
#define WD_DETECT_TAXONOMY_H

#include <stddef.h>

struct wd_category {
	const char *id;   /* "S1", "jailbreak.roleplay", ... */
	const char *name; /* "Violent crimes" */
};

extern const struct wd_category wd_taxonomy[];
extern const size_t wd_taxonomy_count;

/* The entry for id, or NULL. */
const struct wd_category *wd_category_find(const char *id);

#endif
