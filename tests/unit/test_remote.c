/* test_remote.c — the pure half of the remote checker (remote_parse.c): Llama Guard and
 * moderation answers of every shape, the category map, the messages sent to Llama Guard
 * (alternation, turns, the byte budget) and UTF-8-safe cuts. */
#include <math.h>
#include <stdlib.h>

#include "checkers/remote_parse.h"
#include "core/err.h"
#include "test.h"

static char *chat(const char *content_json)
{
	static char buf[1024];
	snprintf(buf, sizeof buf,
	         "{\"id\":\"x\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
	         "\"content\":%s},\"finish_reason\":\"stop\"}]}",
	         content_json);
	return buf;
}

static int lg(const char *content_json, struct wd_remote_answer *a, const char **why)
{
	const char *b = chat(content_json);
	return wd_remote_parse_llama_guard(b, strlen(b), a, why);
}

TEST(llama_guard_safe_and_unsafe)
{
	struct wd_remote_answer a;
	const char *why = NULL;
	CHECK_EQ_INT(lg("\"safe\"", &a, &why), WD_OK);
	CHECK(a.score == 0);
	CHECK_STR(a.category, "");
	CHECK_EQ_INT(lg("\"\\n\\nsafe\\n\"", &a, &why), WD_OK); /* vLLM keeps the blank lines */
	CHECK(a.score == 0);
	CHECK_EQ_INT(lg("\"unsafe\\nS1,S10\"", &a, &why), WD_OK);
	CHECK(a.score == 1);
	CHECK_STR(a.category, "S1");
	CHECK_STR(a.guard, "S1,S10");
	CHECK_EQ_INT(lg("\"\\n\\nunsafe\\n s9 , S2 \\n\"", &a, &why), WD_OK);
	CHECK_STR(a.category, "S9");
	CHECK_STR(a.guard, "s9,S2");
	CHECK_EQ_INT(lg("\"unsafe\"", &a, &why), WD_OK);
	CHECK(a.score == 1);
	CHECK_STR(a.category, "remote.unsafe");
}

TEST(llama_guard_errors)
{
	struct wd_remote_answer a;
	const char *why = NULL;
	CHECK_EQ_INT(wd_remote_parse_llama_guard("not json", 8, &a, &why), WD_EINVAL);
	CHECK_STR(why, "malformed JSON");
	CHECK_EQ_INT(wd_remote_parse_llama_guard("{\"choices\":[]}", 14, &a, &why), WD_EINVAL);
	CHECK(strstr(why, "content") != NULL);
	CHECK_EQ_INT(lg("null", &a, &why), WD_EINVAL);
	static const char *const bad[] = {
	    "\"I cannot help with that.\"",
	    "\"safe to say\"",
	    "\"unsafety\"",
	    "\"unsafe\\nS1,\"",
	    "\"unsafe\\nS1\\nextra\"",
	    "\"unsafe\\nS1;DROP\"",
	    "\"\"",
	    "\"unsafe\\n,S1\"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		a.score = 0.5;
		CHECK_EQ_INT(lg(bad[i], &a, &why), WD_EINVAL);
		CHECK(strstr(why, "unexpected output") != NULL);
		CHECK(a.score == 0); /* nothing half-filled */
	}
}

TEST(moderation_answers)
{
	struct wd_remote_answer a;
	const char *why = NULL;
	const char *b = "{\"id\":\"m\",\"results\":[{\"flagged\":true,\"categories\":{},"
	                "\"category_scores\":{\"harassment\":0.2,\"hate\":0.91,\"sexual\":0.01,"
	                "\"violence\":0.3,\"illicit/violent\":null}}]}";
	CHECK_EQ_INT(wd_remote_parse_moderation(b, strlen(b), &a, &why), WD_OK);
	CHECK(fabs(a.score - 0.91) < 1e-9);
	CHECK_STR(a.category, "S10");
	CHECK_STR(a.guard, "hate");
	/* the highest over several results; an unmapped category keeps its name */
	b = "{\"results\":[{\"category_scores\":{\"violence\":0.4}},"
	    "{\"category_scores\":{\"spam\":0.7,\"self-harm/intent\":0.6}}]}";
	CHECK_EQ_INT(wd_remote_parse_moderation(b, strlen(b), &a, &why), WD_OK);
	CHECK_STR(a.category, "moderation.spam");
	CHECK(fabs(a.score - 0.7) < 1e-9);
	static const char *const bad[] = {
	    "{",
	    "{}",
	    "{\"results\":[]}",
	    "{\"results\":[{\"flagged\":true}]}",
	    "{\"results\":[{\"category_scores\":{\"hate\":1.5}}]}",
	    "{\"results\":[{\"category_scores\":{\"hate\":null}}]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_EQ_INT(wd_remote_parse_moderation(bad[i], strlen(bad[i]), &a, &why),
		             WD_EINVAL);
}

TEST(category_map)
{
	CHECK_STR(wd_remote_map_category("violence"), "S1");
	CHECK_STR(wd_remote_map_category("violence/graphic"), "S1");
	CHECK_STR(wd_remote_map_category("illicit/violent"), "S2");
	CHECK_STR(wd_remote_map_category("sexual/minors"), "S4");
	CHECK_STR(wd_remote_map_category("sexual"), "S12");
	CHECK_STR(wd_remote_map_category("hate/threatening"), "S10");
	CHECK_STR(wd_remote_map_category("harassment/threatening"), "S10");
	CHECK_STR(wd_remote_map_category("self-harm/instructions"), "S11");
	CHECK(wd_remote_map_category("violent") == NULL);
	CHECK(wd_remote_map_category("sexualized") == NULL);
	CHECK(wd_remote_map_category("spam") == NULL);
}

TEST(utf8_prefix)
{
	const char *s = "a\xe2\x82\xac"; /* "a€" */
	CHECK_EQ_INT(wd_remote_utf8_prefix(s, 4), 4);
	CHECK_EQ_INT(wd_remote_utf8_prefix(s, 3), 1);
	CHECK_EQ_INT(wd_remote_utf8_prefix(s, 2), 1);
	CHECK_EQ_INT(wd_remote_utf8_prefix(s, 1), 1);
	CHECK_EQ_INT(wd_remote_utf8_prefix(s, 0), 0);
	CHECK_EQ_INT(wd_remote_utf8_prefix("\xf0\x9f\x98\x80", 3), 0);
}

/* A conversation built by hand: roles and one text part each. */
struct convo {
	struct wd_message m[8];
	struct wd_part p[8];
	struct wd_exchange x;
};

static void make(struct convo *c, const enum wd_role *roles, const char *const *texts, size_t n)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < n; i++) {
		c->p[i] = (struct wd_part){WD_PART_TEXT, texts[i], strlen(texts[i]), NULL};
		c->m[i] = (struct wd_message){
		    .role = roles[i], .choice = -1, .parts = &c->p[i], .nparts = 1};
	}
	c->x.msgs = c->m;
	c->x.nmsgs = n;
}

/* "role:content|role:content..." */
static const char *shape(json_t *msgs)
{
	static char buf[512];
	size_t o = 0;
	size_t i;
	json_t *m;
	buf[0] = '\0';
	json_array_foreach(msgs, i, m)
	{
		int w = snprintf(buf + o, sizeof buf - o, "%s%s:%s", i ? "|" : "",
		                 json_string_value(json_object_get(m, "role")),
		                 json_string_value(json_object_get(m, "content")));
		if (w > 0 && (size_t)w < sizeof buf - o)
			o += (size_t)w;
	}
	json_decref(msgs);
	return buf;
}

TEST(messages_alternate)
{
	struct convo c;
	const enum wd_role roles[] = {WD_ROLE_SYSTEM, WD_ROLE_USER,      WD_ROLE_ASSISTANT,
	                              WD_ROLE_TOOL,   WD_ROLE_ASSISTANT, WD_ROLE_USER,
	                              WD_ROLE_USER,   WD_ROLE_ASSISTANT};
	const char *const texts[] = {"sys", "u1", "a1", "tool", "a2", "u2", "u3", "prefill"};
	make(&c, roles, texts, 8);
	/* system, tool and the trailing assistant left out; runs of one role joined */
	CHECK_STR(shape(wd_remote_messages(&c.x, 4, 1000, NULL, 0)),
	          "user:u1|assistant:a1\na2|user:u2\nu3");
	CHECK_STR(shape(wd_remote_messages(&c.x, 1, 1000, NULL, 0)), "user:u2\nu3");
	CHECK_STR(shape(wd_remote_messages(&c.x, 1, 1000, "ans", 3)), "user:u2\nu3|assistant:ans");
	/* the budget: the answer first, then the newest turns; never an assistant first */
	CHECK_STR(shape(wd_remote_messages(&c.x, 4, 8, "ans", 3)), "user:u2\nu3|assistant:ans");
	CHECK_STR(shape(wd_remote_messages(&c.x, 4, 12, NULL, 0)),
	          "user:u1|assistant:a1\na2|user:u2\nu3");
	CHECK_STR(shape(wd_remote_messages(&c.x, 4, 7, NULL, 0)), "user:u2\nu3");
	CHECK_STR(shape(wd_remote_messages(&c.x, 4, 3, "answer", 6)), "user:|assistant:ans");
	CHECK_STR(shape(wd_remote_messages(&c.x, 4, 2, NULL, 0)), "user:u2");
}

TEST(messages_empty)
{
	struct convo c;
	const enum wd_role roles[] = {WD_ROLE_SYSTEM, WD_ROLE_USER};
	const char *const texts[] = {"sys", ""};
	make(&c, roles, texts, 2);
	json_t *m = wd_remote_messages(&c.x, 4, 100, NULL, 0);
	CHECK(m != NULL && json_array_size(m) == 0); /* no user text: nothing to ask */
	json_decref(m);
	CHECK_STR(shape(wd_remote_messages(&c.x, 4, 100, "hi", 2)), "user:|assistant:hi");
	/* a cut never splits a character */
	const char *const euro[] = {"sys", "a\xe2\x82\xac"};
	make(&c, roles, euro, 2);
	CHECK_STR(shape(wd_remote_messages(&c.x, 4, 3, NULL, 0)), "user:a");
}

int main(void)
{
	RUN(llama_guard_safe_and_unsafe);
	RUN(llama_guard_errors);
	RUN(moderation_answers);
	RUN(category_map);
	RUN(utf8_prefix);
	RUN(messages_alternate);
	RUN(messages_empty);
	return DONE();
}
