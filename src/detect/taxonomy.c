/* taxonomy.c — the category table; see taxonomy.h. S1..S14 follow MLCommons / Llama Guard 3 so a
 * remote Llama Guard maps one to one. */
#include "detect/taxonomy.h"

#include <string.h>

const struct wd_category wd_taxonomy[] = {
    {"S1", "Violent crimes"},
    {"S2", "Non-violent crimes"},
    {"S3", "Sex-related crimes"},
    {"S4", "Child sexual exploitation"},
    {"S5", "Defamation"},
    {"S6", "Specialized advice"},
    {"S7", "Privacy"},
    {"S8", "Intellectual property"},
    {"S9", "Indiscriminate weapons (CBRNE)"},
    {"S10", "Hate"},
    {"S11", "Suicide and self-harm"},
    {"S12", "Sexual content"},
    {"S13", "Elections"},
    {"S14", "Code interpreter abuse"},
    {"jailbreak.roleplay", "Role-play / DAN persona jailbreak"},
    {"jailbreak.devmode", "Developer-mode jailbreak"},
    {"jailbreak.refusal_suppression", "Refusal suppression"},
    {"jailbreak.obfuscation", "Obfuscation (base64, leetspeak, ciphers)"},
    {"jailbreak.gcg", "Adversarial gibberish suffix (GCG-style)"},
    {"jailbreak.other", "Other jailbreak"},
    {"injection.document", "Instructions hidden in a document"},
    {"injection.tool", "Instructions in tool output"},
    {"injection.retrieved", "Instructions in retrieved text"},
    {"injection.direct", "Direct prompt injection"},
};
const size_t wd_taxonomy_count = sizeof wd_taxonomy / sizeof wd_taxonomy[0];

const struct wd_category *wd_category_find(const char *id)
{
	for (size_t i = 0; i < wd_taxonomy_count; i++) {
		if (strcmp(wd_taxonomy[i].id, id) == 0)
			return &wd_taxonomy[i];
	}
	return NULL;
}
