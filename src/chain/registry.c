/* registry.c — the static table of built-in checker types, and plugin loading (dlopen). Adding a
 * built-in type is one line here plus its file in src/checkers/. */
#include "chain/registry.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "checkers/checkers.h"

static const struct wd_checker_type *const builtins[] = {
    &wd_checker_pattern,   &wd_checker_debug,  &wd_checker_harm,
    &wd_checker_jailbreak, &wd_checker_remote,
};

const struct wd_checker_type *wd_registry_find(const char *name)
{
	for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
		if (strcmp(builtins[i]->name, name) == 0)
			return builtins[i];
	}
	return NULL;
}

const char *wd_registry_names(void)
{
	static char names[256];
	if (!names[0]) {
		size_t o = 0;
		for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
			int n = snprintf(names + o, sizeof names - o, "%s%s", i ? ", " : "",
			                 builtins[i]->name);
			if (n < 0 || (size_t)n >= sizeof names - o)
				break;
			o += (size_t)n;
		}
	}
	return names;
}

const struct wd_checker_type *wd_registry_load(const char *path, char *err, size_t errlen)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "cannot load plugin: %s", dlerror());
		return NULL;
	}
	const struct wd_checker_type *t = dlsym(h, "wd_checker_plugin");
	if (!t) {
		snprintf(err, errlen, "plugin %s does not export wd_checker_plugin", path);
		dlclose(h);
		return NULL;
	}
	if (t->abi != WD_CHECKER_ABI || !t->name || !t->init) {
		snprintf(err, errlen, "plugin %s has checker ABI %u, warden needs %u", path, t->abi,
		         (unsigned)WD_CHECKER_ABI);
		dlclose(h);
		return NULL;
	}
	return t;
}
