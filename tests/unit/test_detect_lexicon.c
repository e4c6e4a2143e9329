/* test_detect_lexicon.c — word classes of detect/lexicon: base words and their regular
 * inflections are found, words outside the lists are not, and the classes that tell a request
 * to hurt someone from its harmless look-alike differ. */
#include <pthread.h>
#include <string.h>

#include "detect/lexicon.h"
#include "test.h"

static uint32_t cls(const char *w)
{
	return wd_lexicon_classes(w, strlen(w));
}

#define HAS(w, c)   CHECK((cls(w) & (1u << (c))) != 0)
#define LACKS(w, c) CHECK((cls(w) & (1u << (c))) == 0)

TEST(bases_and_inflections)
{
	HAS("kill", WD_LEX_VIOLENT);
	HAS("killing", WD_LEX_VIOLENT);
	HAS("kills", WD_LEX_VIOLENT);
	HAS("stabbed", WD_LEX_VIOLENT); /* doubled consonant */
	HAS("stabbing", WD_LEX_VIOLENT);
	HAS("making", WD_LEX_MAKE); /* e dropped */
	HAS("buried", WD_LEX_HIDE); /* y → ied */
	HAS("launders", WD_LEX_CRIME);
	HAS("neighbour", WD_LEX_PERSON);
	HAS("neighbours", WD_LEX_PERSON);
	HAS("process", WD_LEX_TECH);
	HAS("processes", WD_LEX_TECH);
	HAS("how", WD_LEX_HOWTO);
	HAS("KILLING", WD_LEX_VIOLENT); /* ASCII case is ignored */
	HAS("history", WD_LEX_ABOUT);
}

TEST(outside_the_lists)
{
	CHECK_EQ_INT(cls("zebra"), 0);
	CHECK_EQ_INT(cls("the"), 0);
	CHECK_EQ_INT(cls(""), 0);
	CHECK_EQ_INT(cls("k"), 0);
	char long_word[64];
	memset(long_word, 'a', sizeof long_word - 1);
	long_word[sizeof long_word - 1] = '\0';
	CHECK_EQ_INT(cls(long_word), 0);
	/* a prefix of a listed word is not that word */
	CHECK_EQ_INT(cls("kil"), 0);
	LACKS("process", WD_LEX_PERSON);
	LACKS("people", WD_LEX_TECH);
}

/* "kill people" and "kill a process" share the verb and differ in the target's class. */
TEST(target_classes_differ)
{
	CHECK(cls("people") != cls("process"));
	HAS("people", WD_LEX_PERSON);
	HAS("weeds", WD_LEX_THING);
	HAS("myself", WD_LEX_SELF);
	HAS("children", WD_LEX_MINOR);
}

static void *lookup_many(void *arg)
{
	long hits = 0;
	for (int i = 0; i < 10000; i++)
		hits += (cls("murder") & (1u << WD_LEX_VIOLENT)) != 0;
	*(long *)arg = hits;
	return NULL;
}

/* The first lookups race to build the table: every thread sees it whole. */
TEST(first_use_from_threads)
{
	pthread_t t[4];
	long hits[4] = {0};
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, lookup_many, &hits[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ_INT(hits[i], 10000);
	}
}

int main(void)
{
	RUN(first_use_from_threads); /* first: it is the one that builds the table */
	RUN(bases_and_inflections);
	RUN(outside_the_lists);
	RUN(target_classes_differ);
	return DONE();
}
