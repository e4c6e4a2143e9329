/* checkers.h — the built-in checker types (one file each in this folder). */
#ifndef WD_CHECKERS_CHECKERS_H
#define WD_CHECKERS_CHECKERS_H

#include "chain/checker.h"

/* pattern: regular expressions (vectorscan), block mode for whole texts, streaming mode for
 * streamed answers, holdback = the longest possible match. */
extern const struct wd_checker_type wd_checker_pattern;
/* debug: a checker for tests (Varnish's debug filters): fixed score, delays (sync or async),
 * failures. Harmless in production: it only does what its config says. */
extern const struct wd_checker_type wd_checker_debug;
/* harm: harmful requests and answers (S1..S14), model + rule packs, whole conversation. */
extern const struct wd_checker_type wd_checker_harm;
/* jailbreak: jailbreaks in the user's turns and prompt injection in tool output. */
extern const struct wd_checker_type wd_checker_jailbreak;
/* remote: asks an external guard model (Llama Guard, /v1/moderations) off the I/O thread. */
extern const struct wd_checker_type wd_checker_remote;

#endif
