/* exchange.h — one normalised view of an OpenAI-compatible request and its response, read by
 * every checker: model, stream flag, messages with roles, text and image parts, declared tools,
 * tool calls. Chat Completions, legacy Completions, the Responses API, Embeddings and
 * Moderations requests are understood; other routes pass with an empty view.
 *
 * Strings in the view are borrowed from the JSON tree that the exchange owns (x->body for the
 * request, x->resp for the response): valid until wd_exchange_free. Knows nothing of HTTP I/O. */
#ifndef WD_OPENAI_EXCHANGE_H
#define WD_OPENAI_EXCHANGE_H

#include <jansson.h>
#include <stddef.h>

enum wd_route {
	WD_ROUTE_CHAT,        /* POST /v1/chat/completions */
	WD_ROUTE_COMPLETIONS, /* POST /v1/completions */
	WD_ROUTE_RESPONSES,   /* POST /v1/responses */
	WD_ROUTE_EMBEDDINGS,  /* POST /v1/embeddings */
	WD_ROUTE_MODERATIONS, /* POST /v1/moderations */
	WD_ROUTE_FILES,       /* /v1/files (uploads are multipart) */
	WD_ROUTE_FINE_TUNING, /* /v1/fine_tuning/jobs... */
	WD_ROUTE_MODELS,      /* GET /v1/models... */
	WD_ROUTE_OTHER,       /* any other /v1/... : passed through unchanged */
	WD_ROUTE__COUNT
};

/* Route of a method and path (path without query string). Paths outside /v1/ give
 * WD_ROUTE__COUNT (not proxied). */
enum wd_route wd_route_of(const char *method, const char *path);
/* Short stable name: "chat", "completions", "responses", "embeddings", "moderations", "files",
 * "fine_tuning", "models", "other". */
const char *wd_route_name(enum wd_route r);

enum wd_role {
	WD_ROLE_SYSTEM,
	WD_ROLE_DEVELOPER,
	WD_ROLE_USER,
	WD_ROLE_ASSISTANT,
	WD_ROLE_TOOL,     /* role "tool", and Responses API function_call_output items */
	WD_ROLE_FUNCTION, /* legacy role "function" */
	WD_ROLE_UNKNOWN
};
const char *wd_role_name(enum wd_role r);

enum wd_part_kind { WD_PART_TEXT, WD_PART_IMAGE, WD_PART_OTHER };

struct wd_part {
	enum wd_part_kind kind;
	const char *text; /* TEXT: the text; IMAGE: the image URL (http(s) or data:) */
	size_t len;
	json_t *node; /* the JSON string holding text (borrowed), for redaction; may be NULL */
};

struct wd_tool_call {
	const char *id;        /* may be NULL */
	const char *name;      /* function name; may be NULL */
	const char *arguments; /* JSON text as the model wrote it; "" when absent */
	size_t arguments_len;
	json_t *node; /* the JSON string holding arguments (borrowed); NULL when absent */
};

struct wd_message {
	enum wd_role role;
	const char
	    *name;  /* optional "name" field (or tool_call_id for tool messages), NULL if absent */
	int choice; /* response messages: the choice index; request messages: -1 */
	const char *finish_reason; /* response messages: finish_reason, NULL if absent */
	struct wd_part *parts;
	size_t nparts;
	struct wd_tool_call *calls;
	size_t ncalls;
};

struct wd_exchange {
	enum wd_route route;
	const char *model; /* NULL when absent */
	int stream;        /* request asked for "stream": true */
	/* The conversation: chat "messages"; completions "prompt" (one user message per prompt
	 * string); responses "instructions" (system) + "input" (string or items); embeddings and
	 * moderations "input" (one user message per string). */
	struct wd_message *msgs;
	size_t nmsgs;
	const json_t *tools; /* declared "tools" array (borrowed from body), NULL if none */
	/* The answer, after wd_exchange_parse_response: one assistant message per choice
	 * (Responses API: one per output item of type message/function_call, choice = item index).
	 */
	struct wd_message *out;
	size_t nout;
	json_t *body; /* the request JSON (owned) */
	json_t *resp; /* the response JSON (owned), NULL until parsed */
};

/* Parses a request body. On success x owns the parsed tree. On WD_EINVAL, err holds a precise
 * message for the client, e.g. "invalid JSON at line 1 column 17: unexpected token" or
 * "'messages' must be an array (got string)" or "messages[2].content must be a string or an
 * array of content parts". Routes other than chat/completions/responses/embeddings/moderations
 * only require a JSON object (or, for FILES/MODELS/OTHER, any body at all: pass len 0 to skip). */
int wd_exchange_parse_request(struct wd_exchange *x, enum wd_route route, const char *body,
                              size_t len, char *err, size_t errlen);
/* Parses a non-streamed response body into x->out (x->resp owns it). WD_EINVAL with err when
 * it is not a JSON object; unknown shapes give nout == 0 rather than an error. */
int wd_exchange_parse_response(struct wd_exchange *x, const char *body, size_t len, char *err,
                               size_t errlen);
void wd_exchange_free(struct wd_exchange *x);

/* One piece of streamed text, from one SSE event. */
enum wd_delta_kind {
	WD_DELTA_CONTENT,   /* chat delta.content, legacy choices[].text, responses output_text */
	WD_DELTA_TOOL_ARGS, /* chat delta.tool_calls[].function.arguments, responses function args
	                     */
	WD_DELTA_TOOL_NAME, /* the name of a tool call as it starts */
	WD_DELTA_REFUSAL,   /* chat delta.refusal */
};

struct wd_delta {
	enum wd_delta_kind kind;
	int choice;       /* choice index (responses API: output_index) */
	int tool;         /* tool-call index within the choice, -1 for content */
	const char *text; /* borrowed from the chunk's JSON */
	size_t len;
	json_t *node; /* the JSON string holding text (borrowed from the chunk) */
};

/* One parsed stream event. */
struct wd_chunk {
	json_t *json;           /* owned; NULL for "[DONE]" and for non-JSON data */
	int done;               /* data was "[DONE]" */
	const char *id, *model; /* borrowed, NULL when absent */
	long long created;
	const char *finish_reason; /* first non-null finish_reason in the chunk, NULL if none */
	struct wd_delta *deltas;
	size_t ndeltas;
};

/* Parses the data of one SSE event of a stream on route. event is the SSE event name ("" when
 * none; the Responses API names its events). WD_EINVAL with err for data that is not JSON
 * (the caller decides; a proxy passes it on unchecked only if it has no text). */
int wd_chunk_parse(struct wd_chunk *c, enum wd_route route, const char *event, const char *data,
                   size_t len, char *err, size_t errlen);
void wd_chunk_free(struct wd_chunk *c);

/* Masks bytes [from, to) of the JSON string node with '*' (same length, so offsets of the rest
 * of the text stay valid; a multi-byte character becomes several '*'). Afterwards the text
 * pointers into that node (wd_part.text etc.) must be re-read from it. */
int wd_text_mask(json_t *node, size_t from, size_t to);

/* Where a hit lies, so that action `redact` can mask it. Request/whole response: message is the
 * index into x->msgs (request phase) or x->out (response), part the index into its parts, or
 * -1 - k for tool call k's arguments. Streams: message is the choice, part the tool-call index
 * (-1: content), and from/to count bytes from the start of that stream of text. */
struct wd_span {
	int message, part;
	size_t from, to;
};

/* Masks the spans in the request (response = 0: x->msgs, in
 * x->body) or the answer (response = 1: x->out, in x->resp), and refreshes the view's text
 * pointers. Spans that point nowhere are skipped. */
int wd_exchange_redact(struct wd_exchange *x, int response, const struct wd_span *spans, size_t n);

/* Withholds a blocked answer in a non-streamed response body (Azure content-filter
 * convention): for choice index `choice` (-1: every choice) the content is set to "" (legacy:
 * text ""), tool_calls/function_call removed, finish_reason set to "content_filter". Responses
 * API: output cleared, status "incomplete", incomplete_details {"reason":"content_filter"}. */
int wd_exchange_withhold(json_t *resp, enum wd_route route, int choice);

/* The SSE block (complete, "data: ...\n\n", or "event: ...\ndata: ...\n\n" for the Responses
 * API) that ends a blocked stream: a chunk with finish_reason "content_filter" for `choice`
 * (-1 → 0), reusing id/model/created seen in the stream (NULL/0 → generated). Malloc'd,
 * NUL-terminated; caller frees. The caller sends "data: [DONE]\n\n" after it (not for
 * responses). */
char *wd_stream_stop_block(enum wd_route route, const char *id, const char *model,
                           long long created, int choice);

/* A complete ordinary answer whose content is `text`, finish_reason "content_filter", used for
 * on_block: refusal. stream=0: the JSON body of a chat/completions/responses response; stream=1:
 * the whole SSE body (role chunk, content chunk, finish chunk, [DONE]). Malloc'd; caller frees. */
char *wd_refusal_body(enum wd_route route, const char *model, const char *text, int stream);

#endif
