/* lexicon.h — word classes for the intent × target features of detect/features: whether a
 * request asks to *do* harm (a violent or criminal verb, a how-to frame) to a *target* (a
 * person, a group, oneself, a child) or talks about harmless things in the same words (a Python
 * process, weeds, history, fiction). A linear model over n-grams cannot see that "kill" next to
 * "people" differs from "kill" next to "process"; class co-occurrences within a sentence give it
 * that conjunction. Built-in lists (lexicon.c), regular inflections included. */
#ifndef WD_DETECT_LEXICON_H
#define WD_DETECT_LEXICON_H

#include <stddef.h>
#include <stdint.h>

enum wd_lex_class {
	WD_LEX_VIOLENT, /* kill, stab, poison, hang, attack */
	WD_LEX_CRIME,   /* steal, launder, hack, blackmail */
	WD_LEX_MAKE,    /* make, synthesize, build, write */
	WD_LEX_OBTAIN,  /* buy, obtain, find, access */
	WD_LEX_HIDE,    /* hide, untraceable, caught, police */
	WD_LEX_PERSON,  /* people, neighbour, wife, cop, president */
	WD_LEX_SELF,    /* myself, wrist, overdose */
	WD_LEX_GROUP,   /* religions, ethnicities, orientations, disabled */
	WD_LEX_TECH,    /* process, thread, server, script */
	WD_LEX_THING,   /* weeds, time, photo, engine: the objects of figurative violence */
	WD_LEX_WEAPON,  /* bomb, gun, sarin, anthrax */
	WD_LEX_DRUG,    /* meth, heroin, fentanyl */
	WD_LEX_PRIVATE, /* records, password, address, beliefs */
	WD_LEX_HOWTO,   /* how, steps, guide, best way */
	WD_LEX_ABOUT,   /* history, why, fiction, prevention, safety */
	WD_LEX_DISCR,   /* barred, inferior, not allowed */
	WD_LEX_MINOR,   /* child, teen, underage */
	WD_LEX_SEXUAL,  /* sex, nude, explicit */
	WD_LEX_DECEIVE, /* misinformation, hoax, persuade */
	WD_LEX_TARGET,  /* casino, vault, car, identity: what crimes are done to */
	WD_LEX_CYBER,   /* malware, ransomware, keylogger */
	WD_LEX_NCLASS
};

/* The classes that name harm (an act, a means or a kind of content); a sentence with none of them
 * gets the pseudo-class WD_LEX_NO_HARM in the featuriser, so "write a guide for how to catch a
 * bass" can weigh against "write a guide for how to" alone. */
#define WD_LEX_HARMFUL                                                                         \
	(1u << WD_LEX_VIOLENT | 1u << WD_LEX_CRIME | 1u << WD_LEX_HIDE | 1u << WD_LEX_SELF |   \
	 1u << WD_LEX_WEAPON | 1u << WD_LEX_DRUG | 1u << WD_LEX_PRIVATE | 1u << WD_LEX_DISCR | \
	 1u << WD_LEX_SEXUAL | 1u << WD_LEX_DECEIVE | 1u << WD_LEX_CYBER)
#define WD_LEX_NO_HARM 31

/* Builds the table now rather than on first use (which is thread-safe too): a loader calls it
 * so that no request pays for it. */
void wd_lexicon_init(void);
/* The classes (bit 1 << wd_lex_class) of one word (ASCII case ignored), 0 when it is in none.
 * Thread-safe; the table is built on first use. */
uint32_t wd_lexicon_classes(const char *word, size_t len);

/* The same by the word's hash, for a caller that hashes words as it reads them: 32-bit FNV-1a
 * from WD_LEXICON_HASH_SEED over the word's bytes, ASCII capitals lowered; len is its length.
 * The seed is the FNV offset basis stepped by 1, as detect/features seeds a unigram, so the
 * featuriser's word hash is this one. */
#define WD_LEXICON_HASH_SEED ((2166136261u ^ 1u) * 16777619u)
uint32_t wd_lexicon_classes_hash(uint32_t hash, size_t len);

#endif
