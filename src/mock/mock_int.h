/* mock_int.h — the mock upstream's internal interfaces, shared by its files: persona.c
 * (prompt → deterministic answer), api.c and resources.c (OpenAI endpoints → reply bodies and
 * SSE events, no HTTP library) and mock.c (libmicrohttpd server, delays, signals). Not a
 * public contract: only mock.h is. */
#ifndef WD_MOCK_INT_H
#define WD_MOCK_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"

/* Largest request body the mock accepts (file uploads included). */
#define WD_MOCK_BODY_MAX ((size_t)32 << 20)

/* ---- persona.c ---- */

extern const char *const wd_mock_personas[];
extern const size_t wd_mock_npersonas;

/* A request normalised to what the personas look at. */
struct wd_mock_prompt {
	struct wd_buf last_user; /* text parts of the last user message, joined by "\n" */
	struct wd_buf all;       /* text parts of every message (and instructions), by "\n" */
	int has_image;           /* some message carries an image part */
	const json_t *tools;     /* borrowed: the request's tools array, or NULL */
	const char *forced_tool; /* borrowed: function named by tool_choice, or NULL */
	int tools_none;          /* tool_choice "none" */
};

struct wd_mock_answer {
	char *text;      /* malloc'd answer text; NULL when the answer is a tool call */
	char *tool_name; /* malloc'd tool name, or NULL */
	char *tool_args; /* malloc'd JSON arguments text when tool_name is set */
	char *tool_id;   /* malloc'd "call_<hex>" when tool_name is set */
};

void wd_mock_prompt_init(struct wd_mock_prompt *p);
void wd_mock_prompt_free(struct wd_mock_prompt *p);
/* Fill p from a chat.completions request (messages, tools, tool_choice). */
int wd_mock_prompt_from_chat(struct wd_mock_prompt *p, const json_t *req);
/* Fill p from a legacy completions request (prompt: string or array of strings). */
int wd_mock_prompt_from_completion(struct wd_mock_prompt *p, const json_t *req);
/* Fill p from a Responses API request (input: string or items; instructions; tools). */
int wd_mock_prompt_from_responses(struct wd_mock_prompt *p, const json_t *req);
/* Appends every text part of a content value (string or array of parts) to dst, and sets
 * *has_image when a part is an image. Shared with moderations. */
int wd_mock_content_text(struct wd_buf *dst, const json_t *content, int *has_image);

/* The persona for a model name: the name itself when known, else "mock-aligned". */
const char *wd_mock_persona(const char *model);
/* Computes the answer of persona(model) to p. 0 or WD_ENOMEM. */
int wd_mock_answer_make(const char *model, const struct wd_mock_prompt *p,
                        struct wd_mock_answer *a);
void wd_mock_answer_free(struct wd_mock_answer *a);

/* Streaming unit: returns the end of the piece that starts at pos — its leading whitespace
 * then one word — so the pieces of a text concatenate back to it exactly. */
size_t wd_mock_piece_end(const char *s, size_t len, size_t pos);
/* Number of pieces in s (the mock's token count). */
size_t wd_mock_count_pieces(const char *s, size_t len);
/* Length of the longest prefix of s holding at most max UTF-8 code points. */
size_t wd_mock_utf8_prefix(const char *s, size_t len, size_t max);
uint64_t wd_mock_hash(const void *p, size_t n, uint64_t seed);

/* ---- api.c ---- */

struct wd_mock_reply {
	unsigned status;
	const char *content_type; /* static string */
	char *body;               /* malloc'd whole body when !stream */
	size_t len;
	int stream;        /* 1: the body is the events below, sent one per HTTP chunk */
	struct wd_buf sse; /* all events, back to back */
	size_t *ends;      /* ends[i]: offset in sse just past event i */
	size_t nends, capends;
};

struct wd_mock_request {
	const char *method;
	const char *path;         /* the URL path, e.g. "/v1/chat/completions" */
	const char *content_type; /* may be NULL */
	const char *body;
	size_t len;
};

void wd_mock_reply_init(struct wd_mock_reply *r);
void wd_mock_reply_free(struct wd_mock_reply *r);
/* Answers one request into r (always fills r, errors become OpenAI-style error bodies).
 * Returns 0, or WD_ENOMEM when not even an error body could be made. */
int wd_mock_api_handle(const struct wd_mock_request *rq, struct wd_mock_reply *r);
/* Fills r with an OpenAI-style error. */
int wd_mock_api_error(struct wd_mock_reply *r, unsigned status, const char *type, const char *code,
                      const char *param, const char *message);
/* Helpers for the endpoint files. wd_mock_reply_json takes a reference to obj (NULL: no
 * memory) and sets r to status + its JSON text; flags are extra json_dumps flags. */
int wd_mock_reply_json(struct wd_mock_reply *r, unsigned status, json_t *obj, size_t flags);
int wd_mock_bad_request(struct wd_mock_reply *r, const char *param, const char *message);
int wd_mock_missing(struct wd_mock_reply *r, const char *param);
int wd_mock_not_found(struct wd_mock_reply *r, const char *what, const char *id);
/* 1, 2, 3, ...: numbers the ids (chatcmpl-<n>, modr-<n>, ...). Thread-safe. */
unsigned long wd_mock_next_seq(void);

/* ---- resources.c: endpoint handlers; id is the {id} path segment or NULL, req the JSON body
 * (NULL for GETs). Each fills r and returns 0, or WD_ENOMEM. ---- */

int wd_mock_embeddings(json_t *req, const char *id, struct wd_mock_reply *r);
int wd_mock_moderations(json_t *req, const char *id, struct wd_mock_reply *r);
int wd_mock_models_list(json_t *req, const char *id, struct wd_mock_reply *r);
int wd_mock_models_get(json_t *req, const char *id, struct wd_mock_reply *r);
/* POST /v1/files takes the raw multipart body. */
int wd_mock_files_create(const struct wd_mock_request *rq, struct wd_mock_reply *r);
int wd_mock_files_list(json_t *req, const char *id, struct wd_mock_reply *r);
int wd_mock_files_get(json_t *req, const char *id, struct wd_mock_reply *r);
int wd_mock_ft_create(json_t *req, const char *id, struct wd_mock_reply *r);
int wd_mock_ft_list(json_t *req, const char *id, struct wd_mock_reply *r);
int wd_mock_ft_get(json_t *req, const char *id, struct wd_mock_reply *r);
/* Frees the in-memory file and fine-tuning job stores. */
void wd_mock_api_cleanup(void);

#endif
