/* errors.h — OpenAI-style error bodies:
 * {"error":{"message":..., "type":..., "param":null, "code":...}} plus, for warden's own
 * decisions, a "warden" object (request id, checker, category). */
#ifndef WD_OPENAI_ERRORS_H
#define WD_OPENAI_ERRORS_H

/* Returns a malloc'd JSON text. type e.g. "invalid_request_error", "server_error"; code may be
 * NULL (→ null). request_id, checker, category may be NULL; when request_id is set a "warden"
 * object with the non-NULL ones is added. */
char *wd_error_body(const char *message, const char *type, const char *code, const char *request_id,
                    const char *checker, const char *category);

#endif
