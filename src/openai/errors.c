/* errors.c — OpenAI-style error bodies (see errors.h). Built with jansson so that any text in a
 * message (a client's model name, a JSON parser's excerpt) is escaped correctly. The "warden"
 * object sits inside "error", where the OpenAI SDKs hand the error object to the caller. */
#include "openai/errors.h"

#include <jansson.h>
#include <stddef.h>

/* Sets key to a string, or to null when s is NULL; 0 on success. */
static int set_str(json_t *obj, const char *key, const char *s)
{
	json_t *v = s ? json_string(s) : json_null();
	if (!v && s)
		v = json_stringn_nocheck(s, 0); /* not UTF-8: an empty text beats no body */
	return json_object_set_new(obj, key, v);
}

char *wd_error_body(const char *message, const char *type, const char *code, const char *request_id,
                    const char *checker, const char *category)
{
	json_t *root = json_object(), *err = json_object(), *w = NULL;
	char *out = NULL;
	int bad = !root || !err || json_object_set(root, "error", err);

	bad = bad || set_str(err, "message", message ? message : "");
	bad = bad || set_str(err, "type", type ? type : "server_error");
	bad = bad || json_object_set_new(err, "param", json_null());
	bad = bad || set_str(err, "code", code);
	if (!bad && request_id) {
		w = json_object();
		bad = !w || set_str(w, "request_id", request_id);
		if (!bad && checker)
			bad = set_str(w, "checker", checker);
		if (!bad && category)
			bad = set_str(w, "category", category);
		bad = bad || json_object_set(err, "warden", w);
	}
	if (!bad)
		out = json_dumps(root, JSON_COMPACT);
	json_decref(w);
	json_decref(err);
	json_decref(root);
	return out;
}
