/* classify.h — one scorer shared by the harm and jailbreak checkers: text → wd_normalize →
 * hashed features → a linear model's probability for one class (averaged in log-odds with a
 * network's, where one is loaded), combined in log-odds with the weights of the rule-pack hits
 * of chosen kinds:
 *     score = sigmoid(logit(p_model) + sum of matched rule weights)
 * so a clear intent rule can carry a text the model is unsure of, and a benign framing (negative
 * weight) can pull a look-alike below the threshold. No HTTP knowledge. */
#ifndef WD_DETECT_CLASSIFY_H
#define WD_DETECT_CLASSIFY_H

#include <stddef.h>

#include "detect/linear.h"
#include "detect/matcher.h"
#include "detect/net.h"

/* With a model, rule packs are scanned only when the model's probability reaches this (0.6:
 * make eval's tables are the same as at 0.5 but for one benign comment fewer flagged, and half
 * as many ordinary texts pay for the rule scan's ~20 us per KB). */
#define WD_CLASSIFY_RULE_GATE 0.6

struct wd_classifier {
	struct wd_linear *model; /* may be NULL: rules only */
	int cls;                 /* index of the positive class in model */
	/* may be NULL: a network averaged with the model (wd_classifier_load_net) on the texts the
	 * model gives at least net_from (0: WD_CLASSIFY_NET_FROM) */
	struct wd_net *net;
	double net_from;
	struct wd_matcher *rules; /* may be NULL: model only */
	unsigned kinds;           /* bit (1 << wd_rule_kind) for each kind that counts */
	size_t max_bytes;         /* of text looked at */
	size_t short_words; /* texts shorter lean toward benign (0: WD_CLASSIFY_SHORT_WORDS) */
	/* A model trained on English reads its own artefacts into other languages: when the share
	 * of another language's words (common function words of ten European languages, words in
	 * other scripts) in a text's most English run of 16 words reaches foreign_max, the model's
	 * log-odds go to the benign prior (in proportion below it), and from half of it the rule
	 * packs read the text whatever the model says. 0: off. */
	double foreign_max;
	/* A harmful request hidden in a long text (a document pasted around it, padding) is
	 * diluted in a whole-text score: one paragraph before "how to make sarin" took it from
	 * 1.0 to 0. With windows on, each sentence or paragraph of a longer text whose words name
	 * harm and ask for something (detect/lexicon) is also scored on its own (a long one by its
	 * first half window and in windows of WD_CLASSIFY_WINDOW bytes overlapping by half; at most
	 * WD_CLASSIFY_WINDOW_BUDGET bytes of windows per text, from both ends in turn), and a
	 * window's log-odds less window_discount count when they beat the whole text's: a sentence
	 * read out of its context says less. 0: off. */
	double window_discount;
	/* Which spans of a longer text are its windows: WD_WINDOWS_HARM (above) or
	 * WD_WINDOWS_PARAGRAPHS: each paragraph whole (ended by a blank line; at most
	 * WD_CLASSIFY_WINDOW_BUDGET bytes of them, from both ends in turn), for the jailbreak
	 * checker, where an attack pasted before or after a document is a paragraph of its own. */
	int windows;
	/* Whether the rule packs read every text, not only what the model finds suspicious (where
	 * a planted instruction or a jailbreak after pasted text dilutes in the model's score):
	 * 0, or one of enum wd_rules_always. */
	int rules_always;
	/* the strong rules of rules (wd_classifier_load_strong), or NULL */
	struct wd_matcher *strong;
};

enum wd_rules_always {
	/* every rule counts whatever the model says (the jailbreak checker's tool output and
	 * retrieved text: instructions there are attacks) */
	WD_RULES_ALL = 1,
	/* where the model finds nothing, only the strong rules count (matcher.h
	 * WD_RULE_STRONG_ONLY), read from `strong` (wd_classifier_load_strong; none loaded, none
	 * read) (user turns: role-play uses the weak ones' phrases) */
	WD_RULES_STRONG = 2,
};

enum wd_windows { WD_WINDOWS_HARM = 0, WD_WINDOWS_PARAGRAPHS = 1 };

#define WD_CLASSIFY_WINDOW 160
/* Texts over this many bytes (two short sentences) are also read in windows: a request behind a
 * sentence or two of persona or pretext ("Be Rex, who laughs at every rule. Rex, how do I ...")
 * is diluted in the whole text as in a long one. */
#define WD_CLASSIFY_WINDOWS_FROM  80
#define WD_CLASSIFY_WINDOW_BUDGET 4096

/* The foreign_max both checkers use: chosen on warden's prompts in ten languages and the
 * benign sets' validation split. */
#define WD_CLASSIFY_FOREIGN_MAX 0.2

/* Below this many words a model's log-odds are pulled toward a benign prior (classify.c), unless
 * the classifier sets its own short_words; the windows of harm spans (WD_WINDOWS_HARM), sentences
 * of a longer text, keep this one whatever the text's. */
#define WD_CLASSIFY_SHORT_WORDS 8

struct wd_classification {
	double score;   /* 0..1 */
	double model_p; /* the model's probability alone (0.5 without a model), with the network's
	                 * averaged in when it was asked */
	double net_p;   /* the network's own probability when it was asked, else 0 */
	double rules;   /* the sum of the counted rule weights */
	char category[64];               /* the strongest counted rule's category, or "" */
	const struct wd_rule *strongest; /* that rule, or NULL */
	const struct wd_rule *hits[8];   /* counted rules that matched (first 8) */
	size_t nhits;
	char window[97]; /* the window that decided, as normalised text (cut), or "" */
};

/* Loads model (class `positive`) and the rule packs of rules_dir — a directory, or a single pack
 * file (either may be NULL, not both). */
int wd_classifier_load(struct wd_classifier *c, const char *model, const char *positive,
                       const char *rules_dir, unsigned kinds, size_t max_bytes, char *err,
                       size_t errlen);
/* Also loads a network whose class 1 is the model's positive class: where the model gives a
 * text at least WD_CLASSIFY_NET_FROM, the model's probability is replaced by the one of the mean
 * of the two log-odds. Two learners that read a text differently err on different texts: on the
 * harm sets' validation split the mean ranks harmful requests better than either. Below, the
 * model's alone: the network seldom lifts such a text (from 0.2 instead, one validation record
 * more is found, every other table of make eval the same), and it would cost a quarter more
 * instructions on 1 KB of random words, which the model reads at 0.2-0.5. A window of a longer
 * text (above) is averaged from 0.9, where it reaches the rule packs: below, it seldom decides
 * (make eval's tables are the same from 0.2 to 0.9), and the network reads a fifth as many
 * windows of benign prompts. */
#define WD_CLASSIFY_NET_FROM 0.5
int wd_classifier_load_net(struct wd_classifier *c, const char *path, const char *positive,
                           char *err, size_t errlen);
/* Also compiles the strong rules of rules_dir apart (c->strong), for WD_RULES_STRONG: a text the
 * model finds nothing in is scanned for them alone (warden's jailbreak and injection packs: 3 us
 * per KB, against 8 for all their rules). */
int wd_classifier_load_strong(struct wd_classifier *c, const char *rules_dir, char *err,
                              size_t errlen);
void wd_classifier_free(struct wd_classifier *c);
/* A multi-class model's (e.g. a category model's) probability of each class for text, one
 * against the rest: probs[i] for class i (wd_linear_class), room for WD_CLASSIFY_MAX_CLASSES.
 * WD_EINVAL for a model of more classes. */
#define WD_CLASSIFY_MAX_CLASSES 32
int wd_classify_probs(const struct wd_linear *m, const char *text, size_t len, size_t max_bytes,
                      double *probs);
int wd_classify(const struct wd_classifier *c, const char *text, size_t len,
                struct wd_classification *out);

#endif
