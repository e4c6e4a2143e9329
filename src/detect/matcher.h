/* matcher.h — rule packs as data: conf/rules/NAME.yaml, each a list of rules
 *
 *   rules:                       # (a bare top-level list of rules is accepted too)
 *     - id: s9-make-explosive    # unique across all loaded files
 *       category: S9             # a taxonomy id (detect/taxonomy.c); "any" for context rules
 *       kind: intent             # intent | topic | context | jailbreak | injection
 *       weight: 3.0              # real; negative for benign framings (kind context)
 *       patterns: ["how (do|can) i make .{0,30}bomb", ...]
 *
 * compiled once into ONE vectorscan block-mode database. Patterns are written for text already
 * folded by wd_normalize (lowercase, ASCII, one space for any whitespace run), but are compiled
 * with HS_FLAG_CASELESS|HS_FLAG_DOTALL as well so raw text behaves nearly the same. Not
 * HS_FLAG_UTF8: the folded text is ASCII where it matters, and UTF8 mode would make invalid input
 * undefined behaviour. HS_FLAG_SINGLEMATCH: a rule counts once per text however often it
 * matches. No lookaround or backreferences (vectorscan refuses them at load time, with file:line).
 *
 * The matcher is immutable after loading and may be shared by threads; scratch space is per
 * thread and freed when the thread exits. No HTTP and no checker knowledge here: the harm and
 * jailbreak checkers decide what the weights mean. */
#ifndef WD_DETECT_MATCHER_H
#define WD_DETECT_MATCHER_H

#include <stddef.h>

enum wd_rule_kind {
	WD_RULE_INTENT,    /* a request to produce operational harm: "how do i make a pipe bomb" */
	WD_RULE_TOPIC,     /* a harmful subject, whatever is asked about it: "nerve agent" */
	WD_RULE_CONTEXT,   /* a benign framing (negative weight): history, fiction, prevention */
	WD_RULE_JAILBREAK, /* an attempt to switch the assistant's policy off: DAN, developer mode
	                    */
	WD_RULE_INJECTION, /* instructions to the assistant inside a document or tool output */
};

struct wd_rule {
	char *id;
	char *category; /* taxonomy id, or "any" (context rules only) */
	enum wd_rule_kind kind;
	double weight;
};

/* One rule that matched a text: borrowed from the matcher. end is the offset just past the
 * first place the rule matched (SINGLEMATCH reports no start). */
struct wd_rule_hit {
	const struct wd_rule *rule;
	size_t end;
};

struct wd_matcher;

/* Every kind (bit 1 << wd_rule_kind for each). */
#define WD_RULE_KINDS_ALL 0x1Fu
/* With the kinds: only the rules of weight WD_RULE_STRONG_WEIGHT and more, the phrases that
 * almost only occur in attacks ("ignore all previous instructions"), not those ordinary prompts
 * also use ("stay in character"): about half the rules, scanned in well under half the time. */
#define WD_RULE_STRONG_ONLY   (1u << 31)
#define WD_RULE_STRONG_WEIGHT 2.0

/* Loads the rule files paths[0..n) (YAML, read with wd_conf_load) and compiles the patterns of
 * the rules of the kinds in the mask kinds (bit 1 << wd_rule_kind; with WD_RULE_STRONG_ONLY, of
 * those only the strong ones): a scan costs by what it compiled (the harm kinds alone scan a
 * 160-byte text in half the time of all five). Every rule is checked, whatever its kind. On error
 * returns WD_EINVAL (bad file, bad rule, pattern vectorscan refuses, no rule of those kinds),
 * WD_EIO or WD_ENOMEM, with "file:line: rules[3].patterns[1]: what" in err. */
int wd_matcher_load(const char *const *paths, size_t n, unsigned kinds, struct wd_matcher **out,
                    char *err, size_t errlen);
/* Same for every file of dir named .yaml or .yml, in name order; a directory with none is an error.
 */
int wd_matcher_load_dir(const char *dir, unsigned kinds, struct wd_matcher **out, char *err,
                        size_t errlen);
void wd_matcher_free(struct wd_matcher *m);
/* 1 when m's database came from the compile cache (detect/dbcache.h), not a compile. */
int wd_matcher_cached(const struct wd_matcher *m);

size_t wd_matcher_rule_count(const struct wd_matcher *m);
const struct wd_rule *wd_matcher_rule(const struct wd_matcher *m, size_t i);
const char *wd_rule_kind_name(enum wd_rule_kind k);

/* Scans text[0..len) and writes each rule that matched, once, into hits[0..max) in order of
 * first match; *n is how many (hits beyond max are dropped: wd_matcher_rule_count() is always
 * enough). Returns 0, WD_ENOMEM (scratch) or WD_EIO (vectorscan failed). */
int wd_matcher_scan(const struct wd_matcher *m, const char *text, size_t len,
                    struct wd_rule_hit *hits, size_t max, size_t *n);

/* What the hits say about one category: sums of the weights by kind. Context rules of category
 * "any" add to every category that has other evidence (a benign framing of nothing is nothing).
 * score = intent + topic + context + jailbreak + injection. */
struct wd_category_evidence {
	const char *category; /* borrowed from a rule */
	double intent, topic, context, jailbreak, injection;
	double score;
	const struct wd_rule *strongest; /* the hit with the largest positive weight, or NULL */
	int nhits;
};

/* Groups hits[0..n) by category into ev[0..max), in order of first appearance; *nev is how many.
 * Categories beyond max are dropped. Cannot fail. */
void wd_matcher_evidence(const struct wd_rule_hit *hits, size_t n, struct wd_category_evidence *ev,
                         size_t max, size_t *nev);

#endif
