/* test_exchange.c — unit tests for src/openai/exchange.c and src/openai/errors.c: request
 * parsing for every route and shape, the exact client-facing error messages, response and
 * stream-chunk parsing, and the bodies warden writes (parsed back with jansson). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "openai/errors.h"
#include "openai/exchange.h"
#include "test.h"

static char err[256];

static int req(struct wd_exchange *x, enum wd_route r, const char *body)
{
	return wd_exchange_parse_request(x, r, body, strlen(body), err, sizeof err);
}

/* The error text of a request that must fail. */
static const char *req_err(enum wd_route r, const char *body)
{
	struct wd_exchange x;
	int rc = req(&x, r, body);
	if (rc != WD_EINVAL)
		snprintf(err, sizeof err, "(no error: rc %d)", rc);
	wd_exchange_free(&x);
	return err;
}

static int part_is(const struct wd_part *p, enum wd_part_kind k, const char *text)
{
	if (p->kind != k)
		return 0;
	if (!text)
		return p->text == NULL;
	return p->text && p->len == strlen(text) && memcmp(p->text, text, p->len) == 0;
}

TEST(routes)
{
	CHECK_EQ_INT(wd_route_of("POST", "/v1/chat/completions"), WD_ROUTE_CHAT);
	CHECK_EQ_INT(wd_route_of("POST", "/v1/completions"), WD_ROUTE_COMPLETIONS);
	CHECK_EQ_INT(wd_route_of("POST", "/v1/responses"), WD_ROUTE_RESPONSES);
	CHECK_EQ_INT(wd_route_of("POST", "/v1/embeddings"), WD_ROUTE_EMBEDDINGS);
	CHECK_EQ_INT(wd_route_of("POST", "/v1/moderations"), WD_ROUTE_MODERATIONS);
	CHECK_EQ_INT(wd_route_of("GET", "/v1/chat/completions"), WD_ROUTE_OTHER);
	CHECK_EQ_INT(wd_route_of("GET", "/v1/responses/resp_1"), WD_ROUTE_OTHER);
	CHECK_EQ_INT(wd_route_of("POST", "/v1/files"), WD_ROUTE_FILES);
	CHECK_EQ_INT(wd_route_of("GET", "/v1/files/file-1/content"), WD_ROUTE_FILES);
	CHECK_EQ_INT(wd_route_of("POST", "/v1/filesystem"), WD_ROUTE_OTHER);
	CHECK_EQ_INT(wd_route_of("POST", "/v1/fine_tuning/jobs"), WD_ROUTE_FINE_TUNING);
	CHECK_EQ_INT(wd_route_of("POST", "/v1/fine_tuning/jobs/ft-1/cancel"), WD_ROUTE_FINE_TUNING);
	CHECK_EQ_INT(wd_route_of("GET", "/v1/models"), WD_ROUTE_MODELS);
	CHECK_EQ_INT(wd_route_of("GET", "/v1/models/gpt-4o"), WD_ROUTE_MODELS);
	CHECK_EQ_INT(wd_route_of("POST", "/v1/audio/speech"), WD_ROUTE_OTHER);
	CHECK_EQ_INT(wd_route_of("GET", "/health"), WD_ROUTE__COUNT);
	CHECK_EQ_INT(wd_route_of("GET", "/v1"), WD_ROUTE__COUNT);
	CHECK_STR(wd_route_name(WD_ROUTE_FINE_TUNING), "fine_tuning");
	CHECK_STR(wd_route_name(WD_ROUTE_CHAT), "chat");
	CHECK_STR(wd_route_name(WD_ROUTE_OTHER), "other");
	CHECK_STR(wd_role_name(WD_ROLE_DEVELOPER), "developer");
	CHECK_STR(wd_role_name(WD_ROLE_TOOL), "tool");
	CHECK_STR(wd_role_name(WD_ROLE_UNKNOWN), "unknown");
}

TEST(chat_request)
{
	struct wd_exchange x;
	int rc = req(&x, WD_ROUTE_CHAT,
	             "{\"model\":\"gpt-4o\",\"stream\":true,\"tools\":[{\"type\":\"function\","
	             "\"function\":{\"name\":\"f\"}}],\"messages\":["
	             "{\"role\":\"system\",\"content\":\"be nice\"},"
	             "{\"role\":\"developer\",\"content\":null},"
	             "{\"role\":\"user\",\"name\":\"bob\",\"content\":[{\"type\":\"text\","
	             "\"text\":\"look\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
	             "\"https://x/a.png\"}},{\"type\":\"image_url\",\"image_url\":\"data:image/png;"
	             "base64,AA==\"},{\"type\":\"input_audio\",\"input_audio\":{}}]},"
	             "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\","
	             "\"type\":\"function\",\"function\":{\"name\":\"get\",\"arguments\":"
	             "\"{\\\"a\\\":1}\"}}]},"
	             "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"42\"},"
	             "{\"role\":\"assistant\",\"function_call\":{\"name\":\"old\"}},"
	             "{\"role\":\"function\",\"name\":\"old\",\"content\":\"r\"}]}");
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(x.model, "gpt-4o");
	CHECK_EQ_INT(x.stream, 1);
	CHECK(json_is_array(x.tools));
	CHECK_EQ_INT(x.nmsgs, 7);
	if (x.nmsgs == 7) {
		CHECK_EQ_INT(x.msgs[0].role, WD_ROLE_SYSTEM);
		CHECK_EQ_INT(x.msgs[0].choice, -1);
		CHECK(part_is(&x.msgs[0].parts[0], WD_PART_TEXT, "be nice"));
		CHECK_EQ_INT(x.msgs[1].role, WD_ROLE_DEVELOPER);
		CHECK_EQ_INT(x.msgs[1].nparts, 0);
		CHECK_EQ_INT(x.msgs[2].role, WD_ROLE_USER);
		CHECK_STR(x.msgs[2].name, "bob");
		CHECK_EQ_INT(x.msgs[2].nparts, 4);
		CHECK(part_is(&x.msgs[2].parts[0], WD_PART_TEXT, "look"));
		CHECK(part_is(&x.msgs[2].parts[1], WD_PART_IMAGE, "https://x/a.png"));
		CHECK(part_is(&x.msgs[2].parts[2], WD_PART_IMAGE, "data:image/png;base64,AA=="));
		CHECK(part_is(&x.msgs[2].parts[3], WD_PART_OTHER, NULL));
		CHECK_EQ_INT(x.msgs[3].role, WD_ROLE_ASSISTANT);
		CHECK_EQ_INT(x.msgs[3].ncalls, 1);
		CHECK_STR(x.msgs[3].calls[0].id, "call_1");
		CHECK_STR(x.msgs[3].calls[0].name, "get");
		CHECK_STR(x.msgs[3].calls[0].arguments, "{\"a\":1}");
		CHECK_EQ_INT(x.msgs[3].calls[0].arguments_len, 7);
		CHECK_EQ_INT(x.msgs[4].role, WD_ROLE_TOOL);
		CHECK_STR(x.msgs[4].name, "call_1");
		CHECK_EQ_INT(x.msgs[5].ncalls, 1);
		CHECK_STR(x.msgs[5].calls[0].name, "old");
		CHECK(x.msgs[5].calls[0].id == NULL);
		CHECK_STR(x.msgs[5].calls[0].arguments, "");
		CHECK_EQ_INT(x.msgs[6].role, WD_ROLE_FUNCTION);
		CHECK_STR(x.msgs[6].name, "old");
	}
	wd_exchange_free(&x);

	/* optional members may be null; a missing stream is 0 */
	rc = req(&x, WD_ROUTE_CHAT,
	         "{\"model\":null,\"stream\":null,\"tools\":null,"
	         "\"messages\":[]}");
	CHECK_EQ_INT(rc, 0);
	CHECK(x.model == NULL);
	CHECK_EQ_INT(x.stream, 0);
	CHECK(x.tools == NULL);
	CHECK_EQ_INT(x.nmsgs, 0);
	wd_exchange_free(&x);
}

TEST(request_errors)
{
	CHECK_STR(req_err(WD_ROUTE_CHAT, "{\"messages\":\"hi\"}"),
	          "'messages' must be an array (got string)");
	CHECK_STR(req_err(WD_ROUTE_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
	                                 "{\"role\":\"user\",\"content\":\"b\"},"
	                                 "{\"role\":\"robot\",\"content\":\"c\"}]}"),
	          "messages[2].role must be one of system, developer, user, assistant, tool, "
	          "function (got \"robot\")");
	CHECK_STR(req_err(WD_ROUTE_CHAT, "{\"model\":5,\"messages\":[]}"),
	          "'model' must be a string (got number)");
	CHECK_STR(req_err(WD_ROUTE_CHAT, "{\"stream\":\"yes\",\"messages\":[]}"),
	          "'stream' must be a boolean (got string)");
	CHECK_STR(req_err(WD_ROUTE_CHAT, "{\"model\":\"m\"}"), "'messages' is required");
	CHECK_STR(req_err(WD_ROUTE_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":7}]}"),
	          "messages[0].content must be a string or an array of content parts (got "
	          "number)");
	CHECK_STR(req_err(WD_ROUTE_CHAT, "{\"messages\":[3]}"),
	          "messages[0] must be an object (got number)");
	CHECK_STR(req_err(WD_ROUTE_CHAT, "{\"messages\":[{\"content\":\"x\"}]}"),
	          "messages[0].role must be a string (got missing)");
	CHECK_STR(req_err(WD_ROUTE_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":"
	                                 "[{\"type\":\"text\",\"text\":1}]}]}"),
	          "messages[0].content[0].text must be a string (got number)");
	CHECK_STR(req_err(WD_ROUTE_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":"
	                                 "[{\"text\":\"a\"}]}]}"),
	          "messages[0].content[0].type must be a string (got missing)");
	CHECK_STR(req_err(WD_ROUTE_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":"
	                                 "[{\"type\":\"image_url\",\"image_url\":{\"url\":1}}]}]}"),
	          "messages[0].content[0].image_url.url must be a string (got number)");
	CHECK_STR(req_err(WD_ROUTE_CHAT, "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":"
	                                 "[{\"function\":{\"name\":\"f\",\"arguments\":{}}}]}]}"),
	          "messages[0].tool_calls[0].function.arguments must be a string (got object)");
	CHECK_STR(req_err(WD_ROUTE_CHAT, "{\"messages\":[],\"tools\":{}}"),
	          "'tools' must be an array (got object)");
	CHECK_STR(req_err(WD_ROUTE_CHAT, "[1,2]"),
	          "request body must be a JSON object (got array)");
	CHECK_STR(req_err(WD_ROUTE_CHAT, "{\"messages\": [}"),
	          "invalid JSON at line 1 column 15: unexpected token near '}'");
	CHECK_STR(req_err(WD_ROUTE_CHAT, ""),
	          "invalid JSON at line 1 column 0: unexpected token near end of file");
	CHECK_STR(req_err(WD_ROUTE_COMPLETIONS, "{\"model\":\"m\"}"), "'prompt' is required");
	CHECK_STR(req_err(WD_ROUTE_COMPLETIONS, "{\"prompt\":{}}"),
	          "'prompt' must be a string or an array of strings or token ids (got object)");
	CHECK_STR(req_err(WD_ROUTE_COMPLETIONS, "{\"prompt\":[\"a\",null]}"),
	          "prompt[1] must be a string or an array of token ids (got null)");
	CHECK_STR(req_err(WD_ROUTE_RESPONSES, "{\"model\":\"m\"}"), "'input' is required");
	CHECK_STR(req_err(WD_ROUTE_RESPONSES, "{\"input\":\"x\",\"instructions\":1}"),
	          "'instructions' must be a string (got number)");
	CHECK_STR(req_err(WD_ROUTE_RESPONSES, "{\"input\":[{\"role\":\"user\",\"content\":5}]}"),
	          "input[0].content must be a string or an array of content parts (got number)");
	CHECK_STR(req_err(WD_ROUTE_EMBEDDINGS, "{\"input\":5}"),
	          "'input' must be a string or an array of strings or token ids (got number)");
	CHECK_STR(req_err(WD_ROUTE_MODERATIONS, "{}"), "'input' is required");
	CHECK_STR(req_err(WD_ROUTE_MODERATIONS, "{\"input\":[true]}"),
	          "input[0] must be a string or a content part (got boolean)");
	CHECK_STR(req_err(WD_ROUTE_FINE_TUNING, "\"x\""),
	          "request body must be a JSON object (got string)");
}

TEST(completions_request)
{
	struct wd_exchange x;
	CHECK_EQ_INT(req(&x, WD_ROUTE_COMPLETIONS, "{\"model\":\"i\",\"prompt\":\"Say hi\"}"), 0);
	CHECK_EQ_INT(x.nmsgs, 1);
	CHECK_EQ_INT(x.msgs[0].role, WD_ROLE_USER);
	CHECK(part_is(&x.msgs[0].parts[0], WD_PART_TEXT, "Say hi"));
	wd_exchange_free(&x);

	CHECK_EQ_INT(req(&x, WD_ROUTE_COMPLETIONS, "{\"prompt\":[\"a\",[1,2],\"b\"]}"), 0);
	CHECK_EQ_INT(x.nmsgs, 2);
	CHECK(part_is(&x.msgs[1].parts[0], WD_PART_TEXT, "b"));
	wd_exchange_free(&x);

	CHECK_EQ_INT(req(&x, WD_ROUTE_COMPLETIONS, "{\"prompt\":[1,2,3]}"), 0);
	CHECK_EQ_INT(x.nmsgs, 0); /* token ids: no text */
	wd_exchange_free(&x);
}

TEST(responses_request)
{
	struct wd_exchange x;
	CHECK_EQ_INT(req(&x, WD_ROUTE_RESPONSES,
	                 "{\"model\":\"m\",\"instructions\":\"sys\",\"input\":\"hello\"}"),
	             0);
	CHECK_EQ_INT(x.nmsgs, 2);
	CHECK_EQ_INT(x.msgs[0].role, WD_ROLE_SYSTEM);
	CHECK(part_is(&x.msgs[0].parts[0], WD_PART_TEXT, "sys"));
	CHECK_EQ_INT(x.msgs[1].role, WD_ROLE_USER);
	CHECK(part_is(&x.msgs[1].parts[0], WD_PART_TEXT, "hello"));
	wd_exchange_free(&x);

	CHECK_EQ_INT(
	    req(&x, WD_ROUTE_RESPONSES,
	        "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
	        "\"text\":\"see\"},{\"type\":\"input_image\",\"image_url\":"
	        "\"https://i/x.jpg\"}]},"
	        "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":"
	        "\"output_text\",\"text\":\"ok\"}]},"
	        "{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":\"fn\","
	        "\"arguments\":\"{}\"},"
	        "{\"type\":\"function_call_output\",\"call_id\":\"c1\",\"output\":\"res\"},"
	        "{\"type\":\"reasoning\",\"summary\":[]}]}"),
	    0);
	CHECK_EQ_INT(x.nmsgs, 4);
	if (x.nmsgs == 4) {
		CHECK_EQ_INT(x.msgs[0].role, WD_ROLE_USER);
		CHECK(part_is(&x.msgs[0].parts[0], WD_PART_TEXT, "see"));
		CHECK(part_is(&x.msgs[0].parts[1], WD_PART_IMAGE, "https://i/x.jpg"));
		CHECK_EQ_INT(x.msgs[1].role, WD_ROLE_ASSISTANT);
		CHECK(part_is(&x.msgs[1].parts[0], WD_PART_TEXT, "ok"));
		CHECK_EQ_INT(x.msgs[2].role, WD_ROLE_ASSISTANT);
		CHECK_STR(x.msgs[2].calls[0].name, "fn");
		CHECK_STR(x.msgs[2].calls[0].id, "c1");
		CHECK_STR(x.msgs[2].calls[0].arguments, "{}");
		CHECK_EQ_INT(x.msgs[3].role, WD_ROLE_TOOL);
		CHECK_STR(x.msgs[3].name, "c1");
		CHECK(part_is(&x.msgs[3].parts[0], WD_PART_TEXT, "res"));
	}
	wd_exchange_free(&x);
}

TEST(embeddings_moderations_request)
{
	struct wd_exchange x;
	CHECK_EQ_INT(req(&x, WD_ROUTE_EMBEDDINGS, "{\"model\":\"e\",\"input\":[\"a\",\"b\"]}"), 0);
	CHECK_EQ_INT(x.nmsgs, 2);
	CHECK(part_is(&x.msgs[1].parts[0], WD_PART_TEXT, "b"));
	wd_exchange_free(&x);

	CHECK_EQ_INT(req(&x, WD_ROUTE_MODERATIONS, "{\"input\":\"bad words\"}"), 0);
	CHECK_EQ_INT(x.nmsgs, 1);
	CHECK(part_is(&x.msgs[0].parts[0], WD_PART_TEXT, "bad words"));
	wd_exchange_free(&x);

	CHECK_EQ_INT(req(&x, WD_ROUTE_MODERATIONS,
	                 "{\"model\":\"omni-moderation-latest\",\"input\":[{\"type\":\"text\","
	                 "\"text\":\"t\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
	                 "\"https://i/y.png\"}}]}"),
	             0);
	CHECK_EQ_INT(x.nmsgs, 1);
	CHECK_EQ_INT(x.msgs[0].nparts, 2);
	CHECK(part_is(&x.msgs[0].parts[0], WD_PART_TEXT, "t"));
	CHECK(part_is(&x.msgs[0].parts[1], WD_PART_IMAGE, "https://i/y.png"));
	wd_exchange_free(&x);
}

TEST(other_routes)
{
	struct wd_exchange x;
	CHECK_EQ_INT(
	    wd_exchange_parse_request(&x, WD_ROUTE_FILES, "--multipart", 0, err, sizeof err), 0);
	CHECK(x.body == NULL);
	CHECK_EQ_INT(x.route, WD_ROUTE_FILES);
	wd_exchange_free(&x);
	CHECK_EQ_INT(req(&x, WD_ROUTE_OTHER, "not json at all"), 0);
	CHECK(x.body == NULL);
	wd_exchange_free(&x);
	CHECK_EQ_INT(req(&x, WD_ROUTE_FINE_TUNING,
	                 "{\"model\":\"gpt-4o-mini\","
	                 "\"training_file\":\"file-1\"}"),
	             0);
	CHECK_STR(x.model, "gpt-4o-mini");
	CHECK_EQ_INT(x.nmsgs, 0);
	wd_exchange_free(&x);
}

static int resp(struct wd_exchange *x, const char *body)
{
	return wd_exchange_parse_response(x, body, strlen(body), err, sizeof err);
}

TEST(chat_response)
{
	struct wd_exchange x;
	CHECK_EQ_INT(req(&x, WD_ROUTE_CHAT, "{\"messages\":[]}"), 0);
	CHECK_EQ_INT(resp(&x,
	                  "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":"
	                  "\"gpt-4o\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
	                  "\"assistant\",\"content\":\"Hello\",\"refusal\":null},"
	                  "\"finish_reason\":\"stop\"},{\"index\":1,\"message\":{\"role\":"
	                  "\"assistant\",\"content\":null,\"refusal\":\"I can't\",\"tool_calls\":"
	                  "[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\","
	                  "\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}"),
	             0);
	CHECK_STR(x.model, "gpt-4o"); /* request had none */
	CHECK_EQ_INT(x.nout, 2);
	CHECK_EQ_INT(x.out[0].role, WD_ROLE_ASSISTANT);
	CHECK_EQ_INT(x.out[0].choice, 0);
	CHECK_STR(x.out[0].finish_reason, "stop");
	CHECK(part_is(&x.out[0].parts[0], WD_PART_TEXT, "Hello"));
	CHECK_EQ_INT(x.out[1].choice, 1);
	CHECK_EQ_INT(x.out[1].nparts, 1);
	CHECK(part_is(&x.out[1].parts[0], WD_PART_TEXT, "I can't"));
	CHECK_EQ_INT(x.out[1].ncalls, 1);
	CHECK_STR(x.out[1].calls[0].name, "f");
	CHECK_STR(x.out[1].finish_reason, "tool_calls");

	/* parsing again replaces the previous answer */
	CHECK_EQ_INT(resp(&x, "{\"choices\":[{\"text\":\"legacy\",\"index\":3,\"finish_reason\":"
	                      "\"length\"}]}"),
	             0);
	CHECK(x.model == NULL);
	CHECK_EQ_INT(x.nout, 1);
	CHECK_EQ_INT(x.out[0].choice, 3);
	CHECK(part_is(&x.out[0].parts[0], WD_PART_TEXT, "legacy"));

	CHECK_EQ_INT(resp(&x, "[]"), WD_EINVAL);
	CHECK_STR(err, "response body must be a JSON object (got array)");
	CHECK_EQ_INT(x.nout, 0);
	CHECK_EQ_INT(resp(&x, "{\"data\":[{\"embedding\":[0.1]}]}"), 0);
	CHECK_EQ_INT(x.nout, 0); /* unknown shape: nothing, not an error */
	CHECK_EQ_INT(resp(&x, "{\"choices\":[{\"message\":{\"content\":5}}, 7]}"), 0);
	CHECK_EQ_INT(x.nout, 1);
	CHECK_EQ_INT(x.out[0].nparts, 0);
	wd_exchange_free(&x);
}

TEST(responses_response)
{
	struct wd_exchange x;
	CHECK_EQ_INT(req(&x, WD_ROUTE_RESPONSES, "{\"model\":\"m\",\"input\":\"q\"}"), 0);
	CHECK_EQ_INT(resp(&x, "{\"id\":\"resp_1\",\"object\":\"response\",\"output\":["
	                      "{\"type\":\"reasoning\",\"summary\":[]},"
	                      "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":"
	                      "\"output_text\",\"text\":\"Hi\",\"annotations\":[]},{\"type\":"
	                      "\"refusal\",\"refusal\":\"no\"}]},"
	                      "{\"type\":\"function_call\",\"call_id\":\"c9\",\"name\":\"g\","
	                      "\"arguments\":\"{\\\"x\\\":2}\"}]}"),
	             0);
	CHECK_STR(x.model, "m");
	CHECK_EQ_INT(x.nout, 2);
	CHECK_EQ_INT(x.out[0].choice, 1);
	CHECK_EQ_INT(x.out[0].role, WD_ROLE_ASSISTANT);
	CHECK_EQ_INT(x.out[0].nparts, 2);
	CHECK(part_is(&x.out[0].parts[0], WD_PART_TEXT, "Hi"));
	CHECK(part_is(&x.out[0].parts[1], WD_PART_TEXT, "no"));
	CHECK_EQ_INT(x.out[1].choice, 2);
	CHECK_STR(x.out[1].calls[0].id, "c9");
	CHECK_STR(x.out[1].calls[0].arguments, "{\"x\":2}");
	wd_exchange_free(&x);
}

static int chunk(struct wd_chunk *c, enum wd_route r, const char *event, const char *data)
{
	return wd_chunk_parse(c, r, event, data, strlen(data), err, sizeof err);
}

TEST(chat_chunks)
{
	struct wd_chunk c;
	CHECK_EQ_INT(chunk(&c, WD_ROUTE_CHAT, "",
	                   "{\"id\":\"chatcmpl-7\",\"object\":\"chat.completion.chunk\","
	                   "\"created\":1700000000,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
	                   "\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},"
	                   "\"finish_reason\":null},{\"index\":1,\"delta\":{\"refusal\":\"No\"},"
	                   "\"finish_reason\":\"stop\"}]}"),
	             0);
	CHECK(c.json != NULL);
	CHECK_EQ_INT(c.done, 0);
	CHECK_STR(c.id, "chatcmpl-7");
	CHECK_STR(c.model, "gpt-4o");
	CHECK_EQ_INT(c.created, 1700000000);
	CHECK_STR(c.finish_reason, "stop");
	CHECK_EQ_INT(c.ndeltas, 2);
	CHECK_EQ_INT(c.deltas[0].kind, WD_DELTA_CONTENT);
	CHECK_EQ_INT(c.deltas[0].choice, 0);
	CHECK_EQ_INT(c.deltas[0].tool, -1);
	CHECK_EQ_INT(c.deltas[0].len, 3);
	CHECK(memcmp(c.deltas[0].text, "Hel", 3) == 0);
	CHECK_EQ_INT(c.deltas[1].kind, WD_DELTA_REFUSAL);
	CHECK_EQ_INT(c.deltas[1].choice, 1);
	wd_chunk_free(&c);

	CHECK_EQ_INT(chunk(&c, WD_ROUTE_CHAT, "",
	                   "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,"
	                   "\"id\":\"call_2\",\"function\":{\"name\":\"lookup\",\"arguments\":"
	                   "\"{\\\"q\"}}]}}]}"),
	             0);
	CHECK_EQ_INT(c.ndeltas, 2);
	CHECK_EQ_INT(c.deltas[0].kind, WD_DELTA_TOOL_NAME);
	CHECK_EQ_INT(c.deltas[0].tool, 1);
	CHECK(memcmp(c.deltas[0].text, "lookup", 6) == 0);
	CHECK_EQ_INT(c.deltas[1].kind, WD_DELTA_TOOL_ARGS);
	CHECK_EQ_INT(c.deltas[1].len, 3);
	CHECK(c.finish_reason == NULL);
	wd_chunk_free(&c);

	CHECK_EQ_INT(chunk(&c, WD_ROUTE_CHAT, "", "[DONE]"), 0);
	CHECK_EQ_INT(c.done, 1);
	CHECK(c.json == NULL);
	CHECK_EQ_INT(c.ndeltas, 0);
	wd_chunk_free(&c);

	CHECK_EQ_INT(chunk(&c, WD_ROUTE_CHAT, "", "not json"), WD_EINVAL);
	CHECK_STR(err, "invalid JSON at line 1 column 3: invalid token near 'not'");
	CHECK(c.json == NULL);
	CHECK_EQ_INT(c.ndeltas, 0);
}

TEST(legacy_chunks)
{
	struct wd_chunk c;
	CHECK_EQ_INT(chunk(&c, WD_ROUTE_COMPLETIONS, "",
	                   "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[{"
	                   "\"text\":\" upon\",\"index\":2,\"finish_reason\":\"length\"}]}"),
	             0);
	CHECK_EQ_INT(c.ndeltas, 1);
	CHECK_EQ_INT(c.deltas[0].kind, WD_DELTA_CONTENT);
	CHECK_EQ_INT(c.deltas[0].choice, 2);
	CHECK_EQ_INT(c.deltas[0].len, 5);
	CHECK_STR(c.finish_reason, "length");
	wd_chunk_free(&c);
}

TEST(responses_chunks)
{
	struct wd_chunk c;
	CHECK_EQ_INT(chunk(&c, WD_ROUTE_RESPONSES, "response.created",
	                   "{\"type\":\"response.created\",\"response\":{\"id\":\"resp_9\","
	                   "\"model\":\"gpt-4.1\",\"created_at\":1700000005,\"status\":"
	                   "\"in_progress\"}}"),
	             0);
	CHECK_STR(c.id, "resp_9");
	CHECK_STR(c.model, "gpt-4.1");
	CHECK_EQ_INT(c.created, 1700000005);
	CHECK_EQ_INT(c.ndeltas, 0);
	wd_chunk_free(&c);

	CHECK_EQ_INT(chunk(&c, WD_ROUTE_RESPONSES, "response.output_text.delta",
	                   "{\"type\":\"response.output_text.delta\",\"item_id\":\"m\","
	                   "\"output_index\":1,\"content_index\":0,\"delta\":\"Hi there\"}"),
	             0);
	CHECK_EQ_INT(c.ndeltas, 1);
	CHECK_EQ_INT(c.deltas[0].kind, WD_DELTA_CONTENT);
	CHECK_EQ_INT(c.deltas[0].choice, 1);
	CHECK_EQ_INT(c.deltas[0].len, 8);
	wd_chunk_free(&c);

	CHECK_EQ_INT(chunk(&c, WD_ROUTE_RESPONSES, "",
	                   "{\"type\":\"response.function_call_arguments.delta\","
	                   "\"output_index\":2,\"delta\":\"{\\\"a\"}"),
	             0);
	CHECK_EQ_INT(c.ndeltas, 1);
	CHECK_EQ_INT(c.deltas[0].kind, WD_DELTA_TOOL_ARGS);
	CHECK_EQ_INT(c.deltas[0].choice, 2);
	wd_chunk_free(&c);

	CHECK_EQ_INT(chunk(&c, WD_ROUTE_RESPONSES, "",
	                   "{\"type\":\"response.refusal.delta\",\"output_index\":0,"
	                   "\"delta\":\"nope\"}"),
	             0);
	CHECK_EQ_INT(c.ndeltas, 1);
	CHECK_EQ_INT(c.deltas[0].kind, WD_DELTA_REFUSAL);
	wd_chunk_free(&c);

	CHECK_EQ_INT(chunk(&c, WD_ROUTE_RESPONSES, "",
	                   "{\"type\":\"response.output_item.added\",\"output_index\":3,"
	                   "\"item\":{\"type\":\"function_call\",\"name\":\"rm_rf\"}}"),
	             0);
	CHECK_EQ_INT(c.ndeltas, 1);
	CHECK_EQ_INT(c.deltas[0].kind, WD_DELTA_TOOL_NAME);
	CHECK_EQ_INT(c.deltas[0].choice, 3);
	wd_chunk_free(&c);

	CHECK_EQ_INT(chunk(&c, WD_ROUTE_RESPONSES, "response.completed",
	                   "{\"type\":\"response.completed\",\"response\":{\"id\":\"resp_9\","
	                   "\"status\":\"completed\"}}"),
	             0);
	CHECK_STR(c.finish_reason, "completed");
	wd_chunk_free(&c);
}

TEST(withhold)
{
	json_t *r =
	    json_loads("{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
	               "\"content\":\"secret\",\"tool_calls\":[{}]},\"logprobs\":{\"content\""
	               ":[]},\"finish_reason\":\"stop\"},{\"index\":1,\"message\":{\"role\":"
	               "\"assistant\",\"content\":\"fine\"},\"finish_reason\":\"stop\"}]}",
	               0, NULL);
	CHECK_EQ_INT(wd_exchange_withhold(r, WD_ROUTE_CHAT, 0), 0);
	json_t *c0 = json_array_get(json_object_get(r, "choices"), 0);
	json_t *c1 = json_array_get(json_object_get(r, "choices"), 1);
	CHECK_STR(json_string_value(json_object_get(json_object_get(c0, "message"), "content")),
	          "");
	CHECK(json_object_get(json_object_get(c0, "message"), "tool_calls") == NULL);
	CHECK(json_is_null(json_object_get(c0, "logprobs")));
	CHECK_STR(json_string_value(json_object_get(c0, "finish_reason")), "content_filter");
	CHECK_STR(json_string_value(json_object_get(json_object_get(c1, "message"), "content")),
	          "fine");
	CHECK_STR(json_string_value(json_object_get(c1, "finish_reason")), "stop");
	CHECK_EQ_INT(wd_exchange_withhold(r, WD_ROUTE_CHAT, -1), 0);
	CHECK_STR(json_string_value(json_object_get(c1, "finish_reason")), "content_filter");
	CHECK_EQ_INT(wd_exchange_withhold(r, WD_ROUTE_CHAT, 5), WD_ENOTFOUND);
	json_decref(r);

	r = json_loads("{\"choices\":[{\"text\":\"bad\",\"index\":0,\"finish_reason\":\"stop\"}]}",
	               0, NULL);
	CHECK_EQ_INT(wd_exchange_withhold(r, WD_ROUTE_COMPLETIONS, -1), 0);
	c0 = json_array_get(json_object_get(r, "choices"), 0);
	CHECK_STR(json_string_value(json_object_get(c0, "text")), "");
	CHECK_STR(json_string_value(json_object_get(c0, "finish_reason")), "content_filter");
	json_decref(r);

	r = json_loads("{\"object\":\"response\",\"status\":\"completed\",\"output\":[{\"type\":"
	               "\"message\"}]}",
	               0, NULL);
	CHECK_EQ_INT(wd_exchange_withhold(r, WD_ROUTE_RESPONSES, -1), 0);
	CHECK_EQ_INT(json_array_size(json_object_get(r, "output")), 0);
	CHECK_STR(json_string_value(json_object_get(r, "status")), "incomplete");
	CHECK_STR(
	    json_string_value(json_object_get(json_object_get(r, "incomplete_details"), "reason")),
	    "content_filter");
	json_decref(r);
	CHECK_EQ_INT(wd_exchange_withhold(NULL, WD_ROUTE_CHAT, -1), WD_EINVAL);
}

/* Parses the data line of a single "data: ...\n\n" block. */
static json_t *block_json(const char *block, const char *event)
{
	const char *d = block;
	if (event) {
		char want[128];
		snprintf(want, sizeof want, "event: %s\n", event);
		if (strncmp(block, want, strlen(want)) != 0)
			return NULL;
		d += strlen(want);
	}
	if (strncmp(d, "data: ", 6) != 0)
		return NULL;
	d += 6;
	const char *end = strstr(d, "\n\n");
	if (!end || end[2] != '\0')
		return NULL;
	return json_loadb(d, (size_t)(end - d), 0, NULL);
}

TEST(stop_block)
{
	char *b = wd_stream_stop_block(WD_ROUTE_CHAT, "chatcmpl-x", "gpt-4o", 123, 2);
	json_t *j = block_json(b, NULL);
	CHECK(j != NULL);
	CHECK_STR(json_string_value(json_object_get(j, "id")), "chatcmpl-x");
	CHECK_STR(json_string_value(json_object_get(j, "object")), "chat.completion.chunk");
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "created")), 123);
	CHECK_STR(json_string_value(json_object_get(j, "model")), "gpt-4o");
	json_t *ch = json_array_get(json_object_get(j, "choices"), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(ch, "index")), 2);
	CHECK(json_is_object(json_object_get(ch, "delta")));
	CHECK_STR(json_string_value(json_object_get(ch, "finish_reason")), "content_filter");
	json_decref(j);
	free(b);

	b = wd_stream_stop_block(WD_ROUTE_CHAT, NULL, NULL, 0, -1);
	j = block_json(b, NULL);
	CHECK(j != NULL);
	CHECK(strncmp(json_string_value(json_object_get(j, "id")), "chatcmpl-", 9) == 0);
	CHECK(json_integer_value(json_object_get(j, "created")) > 1600000000);
	ch = json_array_get(json_object_get(j, "choices"), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(ch, "index")), 0);
	json_decref(j);
	free(b);

	b = wd_stream_stop_block(WD_ROUTE_COMPLETIONS, "cmpl-1", "i", 5, 0);
	j = block_json(b, NULL);
	CHECK_STR(json_string_value(json_object_get(j, "object")), "text_completion");
	ch = json_array_get(json_object_get(j, "choices"), 0);
	CHECK_STR(json_string_value(json_object_get(ch, "text")), "");
	CHECK_STR(json_string_value(json_object_get(ch, "finish_reason")), "content_filter");
	json_decref(j);
	free(b);

	b = wd_stream_stop_block(WD_ROUTE_RESPONSES, "resp_1", "m", 9, 0);
	j = block_json(b, "response.incomplete");
	CHECK(j != NULL);
	CHECK_STR(json_string_value(json_object_get(j, "type")), "response.incomplete");
	json_t *r = json_object_get(j, "response");
	CHECK_STR(json_string_value(json_object_get(r, "id")), "resp_1");
	CHECK_STR(json_string_value(json_object_get(r, "status")), "incomplete");
	CHECK_STR(
	    json_string_value(json_object_get(json_object_get(r, "incomplete_details"), "reason")),
	    "content_filter");
	json_decref(j);
	free(b);
	CHECK(wd_stream_stop_block(WD_ROUTE_EMBEDDINGS, NULL, NULL, 0, 0) == NULL);
}

TEST(refusal_body_plain)
{
	char *b = wd_refusal_body(WD_ROUTE_CHAT, "gpt-4o", "I can't help with \"that\".", 0);
	json_t *j = json_loads(b, 0, NULL);
	CHECK(j != NULL);
	CHECK(strncmp(json_string_value(json_object_get(j, "id")), "chatcmpl-", 9) == 0);
	CHECK_STR(json_string_value(json_object_get(j, "object")), "chat.completion");
	CHECK(json_is_integer(json_object_get(j, "created")));
	CHECK_STR(json_string_value(json_object_get(j, "model")), "gpt-4o");
	json_t *ch = json_array_get(json_object_get(j, "choices"), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(ch, "index")), 0);
	json_t *m = json_object_get(ch, "message");
	CHECK_STR(json_string_value(json_object_get(m, "role")), "assistant");
	CHECK_STR(json_string_value(json_object_get(m, "content")), "I can't help with \"that\".");
	CHECK_STR(json_string_value(json_object_get(ch, "finish_reason")), "content_filter");
	json_decref(j);
	free(b);

	b = wd_refusal_body(WD_ROUTE_COMPLETIONS, "i", "no", 0);
	j = json_loads(b, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(j, "object")), "text_completion");
	ch = json_array_get(json_object_get(j, "choices"), 0);
	CHECK_STR(json_string_value(json_object_get(ch, "text")), "no");
	json_decref(j);
	free(b);

	b = wd_refusal_body(WD_ROUTE_RESPONSES, "m", "no", 0);
	j = json_loads(b, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(j, "object")), "response");
	CHECK_STR(json_string_value(json_object_get(j, "status")), "completed");
	json_t *it = json_array_get(json_object_get(j, "output"), 0);
	CHECK_STR(json_string_value(json_object_get(it, "type")), "message");
	CHECK_STR(json_string_value(json_object_get(it, "role")), "assistant");
	json_t *part = json_array_get(json_object_get(it, "content"), 0);
	CHECK_STR(json_string_value(json_object_get(part, "type")), "output_text");
	CHECK_STR(json_string_value(json_object_get(part, "text")), "no");
	CHECK(json_is_array(json_object_get(part, "annotations")));
	json_decref(j);
	free(b);
}

/* Splits an SSE body into its blocks' event names and data, checking each block's shape. */
static size_t sse_blocks(const char *body, char names[][64], json_t **datas, size_t max)
{
	size_t n = 0;
	const char *p = body;
	while (*p && n < max) {
		const char *end = strstr(p, "\n\n");
		if (!end)
			return 0;
		names[n][0] = '\0';
		if (strncmp(p, "event: ", 7) == 0) {
			const char *nl = strchr(p, '\n');
			snprintf(names[n], 64, "%.*s", (int)(nl - p - 7), p + 7);
			p = nl + 1;
		}
		if (strncmp(p, "data: ", 6) != 0)
			return 0;
		datas[n] = json_loadb(p + 6, (size_t)(end - p - 6), 0, NULL);
		n++;
		p = end + 2;
	}
	return n;
}

TEST(refusal_body_stream)
{
	char names[16][64];
	json_t *d[16] = {0};
	char *b = wd_refusal_body(WD_ROUTE_CHAT, "gpt-4o", "Sorry.", 1);
	size_t n = sse_blocks(b, names, d, 16);
	CHECK_EQ_INT(n, 4);
	if (n == 4) {
		json_t *ch = json_array_get(json_object_get(d[0], "choices"), 0);
		CHECK_STR(json_string_value(json_object_get(d[0], "object")),
		          "chat.completion.chunk");
		CHECK_STR(json_string_value(json_object_get(json_object_get(ch, "delta"), "role")),
		          "assistant");
		ch = json_array_get(json_object_get(d[1], "choices"), 0);
		CHECK_STR(
		    json_string_value(json_object_get(json_object_get(ch, "delta"), "content")),
		    "Sorry.");
		CHECK(json_is_null(json_object_get(ch, "finish_reason")));
		ch = json_array_get(json_object_get(d[2], "choices"), 0);
		CHECK_STR(json_string_value(json_object_get(ch, "finish_reason")),
		          "content_filter");
		CHECK(d[3] == NULL); /* [DONE] is not JSON */
		CHECK(strstr(b, "data: [DONE]\n\n") != NULL);
		/* every chunk shares the id */
		CHECK_STR(json_string_value(json_object_get(d[0], "id")),
		          json_string_value(json_object_get(d[2], "id")));
	}
	for (size_t i = 0; i < n; i++)
		json_decref(d[i]);
	free(b);

	b = wd_refusal_body(WD_ROUTE_RESPONSES, "m", "Sorry.", 1);
	n = sse_blocks(b, names, d, 16);
	CHECK(n >= 3);
	CHECK_STR(names[0], "response.created");
	CHECK_STR(names[n - 1], "response.completed");
	int saw_delta = 0;
	for (size_t i = 0; i < n; i++) {
		CHECK(d[i] != NULL);
		CHECK_STR(json_string_value(json_object_get(d[i], "type")), names[i]);
		if (strcmp(names[i], "response.output_text.delta") == 0) {
			saw_delta = 1;
			CHECK_STR(json_string_value(json_object_get(d[i], "delta")), "Sorry.");
		}
	}
	CHECK(saw_delta);
	json_t *r = json_object_get(d[n - 1], "response");
	CHECK_STR(json_string_value(json_object_get(r, "status")), "completed");
	json_t *part = json_array_get(
	    json_object_get(json_array_get(json_object_get(r, "output"), 0), "content"), 0);
	CHECK_STR(json_string_value(json_object_get(part, "text")), "Sorry.");
	for (size_t i = 0; i < n; i++)
		json_decref(d[i]);
	free(b);
	CHECK(wd_refusal_body(WD_ROUTE_EMBEDDINGS, "m", "x", 0) == NULL);
}

TEST(error_body)
{
	char *b = wd_error_body("bad \"model\"\n", "invalid_request_error", NULL, NULL, NULL, NULL);
	json_t *j = json_loads(b, 0, NULL);
	json_t *e = json_object_get(j, "error");
	CHECK_STR(json_string_value(json_object_get(e, "message")), "bad \"model\"\n");
	CHECK_STR(json_string_value(json_object_get(e, "type")), "invalid_request_error");
	CHECK(json_is_null(json_object_get(e, "param")));
	CHECK(json_is_null(json_object_get(e, "code")));
	CHECK(json_object_get(e, "warden") == NULL);
	json_decref(j);
	free(b);

	b = wd_error_body("blocked", "invalid_request_error", "content_policy_violation", "req-1",
	                  "pattern", NULL);
	j = json_loads(b, 0, NULL);
	e = json_object_get(j, "error");
	CHECK_STR(json_string_value(json_object_get(e, "code")), "content_policy_violation");
	json_t *w = json_object_get(e, "warden");
	CHECK_STR(json_string_value(json_object_get(w, "request_id")), "req-1");
	CHECK_STR(json_string_value(json_object_get(w, "checker")), "pattern");
	CHECK(json_object_get(w, "category") == NULL);
	json_decref(j);
	free(b);
}

int main(void)
{
	RUN(routes);
	RUN(chat_request);
	RUN(request_errors);
	RUN(completions_request);
	RUN(responses_request);
	RUN(embeddings_moderations_request);
	RUN(other_routes);
	RUN(chat_response);
	RUN(responses_response);
	RUN(chat_chunks);
	RUN(legacy_chunks);
	RUN(responses_chunks);
	RUN(withhold);
	RUN(stop_block);
	RUN(refusal_body_plain);
	RUN(refusal_body_stream);
	RUN(error_body);
	return DONE();
}
