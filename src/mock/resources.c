/* resources.c — the mock's non-generation endpoints: embeddings (deterministic unit vectors
 * from a hash of each input), moderations (nothing flagged unless "MOCK-FLAG"), models (the
 * personas), files (multipart upload parsed just enough for name, size and purpose) and
 * fine-tuning jobs. Files and jobs live in small in-memory stores, so list and get calls see
 * what was created; the stores are bounded and freed at exit. */
#include "mock/mock_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/err.h"

#define MAX_DIMENSIONS 4096
#define STORE_MAX      10000 /* files and jobs kept in memory; the oldest go first */

static pthread_mutex_t store_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *files_store; /* array of file objects, oldest first */
static json_t *jobs_store;  /* array of fine_tuning.job objects, oldest first */

static const char *const mod_categories[] = {
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
};
#define N_MOD_CATEGORIES (sizeof mod_categories / sizeof mod_categories[0])

/* ---- POST /v1/embeddings ---- */

static uint64_t splitmix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

/* A unit vector of dims floats from the input's hash: same input, same vector. */
static void embed(uint64_t h, float *v, size_t dims)
{
	double norm = 0;
	for (size_t k = 0; k < dims; k++) {
		double d = (double)(splitmix(h + k) >> 11) * 0x1.0p-53 * 2.0 - 1.0;
		v[k] = (float)d;
		norm += d * d;
	}
	norm = sqrt(norm);
	for (size_t k = 0; k < dims && norm > 0; k++)
		v[k] = (float)(v[k] / norm);
}

static json_t *base64_floats(const float *v, size_t dims)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = dims * 4, olen = (n + 2) / 3 * 4;
	unsigned char *in = malloc(n);
	char *out = malloc(olen + 1);
	json_t *s = NULL;
	if (!in || !out)
		goto out;
	for (size_t k = 0; k < dims; k++) {
		uint32_t u;
		memcpy(&u, &v[k], 4);
		for (int b = 0; b < 4; b++) /* little-endian, as OpenAI sends */
			in[4 * k + (size_t)b] = (unsigned char)(u >> (8 * b));
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t w = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			w |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			w |= in[i + 2];
		out[o++] = tbl[(w >> 18) & 63];
		out[o++] = tbl[(w >> 12) & 63];
		out[o++] = i + 1 < n ? tbl[(w >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tbl[w & 63] : '=';
	}
	s = json_stringn(out, o);
out:
	free(in);
	free(out);
	return s;
}

/* Hash and token count of one embeddings input: a string or an array of token ids. */
static int embed_input(const json_t *in, uint64_t *h, json_int_t *tokens)
{
	if (json_is_string(in)) {
		*h = wd_mock_hash(json_string_value(in), json_string_length(in), 1);
		*tokens +=
		    (json_int_t)wd_mock_count_pieces(json_string_value(in), json_string_length(in));
		return 0;
	}
	if (!json_is_array(in) || json_array_size(in) == 0)
		return -1;
	*h = 2;
	size_t i;
	const json_t *t;
	json_array_foreach(in, i, t)
	{
		if (!json_is_integer(t))
			return -1;
		json_int_t v = json_integer_value(t);
		*h = wd_mock_hash(&v, sizeof v, *h);
	}
	*tokens += (json_int_t)json_array_size(in);
	return 0;
}

int wd_mock_embeddings(json_t *req, const char *id, struct wd_mock_reply *r)
{
	const json_t *input = json_object_get(req, "input");
	const json_t *dj = json_object_get(req, "dimensions");
	const char *fmt = json_string_value(json_object_get(req, "encoding_format"));
	const char *model = json_string_value(json_object_get(req, "model"));
	size_t dims = 8;
	if (!input)
		return wd_mock_missing(r, "input");
	if (dj && !json_is_null(dj)) {
		if (!json_is_integer(dj) || json_integer_value(dj) < 1 ||
		    json_integer_value(dj) > MAX_DIMENSIONS)
			return wd_mock_bad_request(
			    r, "dimensions", "'dimensions' must be an integer from 1 to 4096.");
		dims = (size_t)json_integer_value(dj);
	}
	int b64 = fmt && strcmp(fmt, "base64") == 0;
	/* input: a string, an array of strings, an array of token ids, or an array of those */
	json_t *inputs = json_array();
	if (!inputs)
		return WD_ENOMEM;
	if (json_is_string(input) ||
	    (json_is_array(input) && json_is_integer(json_array_get(input, 0))))
		json_array_append(inputs, (json_t *)input);
	else if (json_is_array(input))
		json_array_extend(inputs, (json_t *)input);
	int rc = WD_OK;
	float *v = malloc(dims * sizeof *v);
	json_t *data = json_array();
	json_int_t tokens = 0;
	if (!v || !data) {
		rc = WD_ENOMEM;
		goto out;
	}
	if (json_array_size(inputs) == 0) {
		rc =
		    wd_mock_bad_request(r, "input", "'input' must be a non-empty string or array.");
		goto out;
	}
	size_t i;
	json_t *in;
	json_array_foreach(inputs, i, in)
	{
		uint64_t h;
		if (embed_input(in, &h, &tokens)) {
			rc = wd_mock_bad_request(
			    r, "input", "'input' items must be strings or arrays of token ids.");
			goto out;
		}
		embed(h, v, dims);
		json_t *vec = b64 ? base64_floats(v, dims) : json_array();
		for (size_t k = 0; !b64 && vec && k < dims; k++)
			json_array_append_new(vec, json_real(v[k]));
		json_t *e = json_pack("{s:s, s:i, s:o}", "object", "embedding", "index", (int)i,
		                      "embedding", vec);
		if (!e || json_array_append_new(data, e)) {
			rc = WD_ENOMEM;
			goto out;
		}
	}
	json_t *o = json_pack("{s:s, s:O, s:s, s:{s:I, s:I}}", "object", "list", "data", data,
	                      "model", model ? model : "mock-embedding", "usage", "prompt_tokens",
	                      tokens, "total_tokens", tokens);
	rc = wd_mock_reply_json(r, 200, o, JSON_REAL_PRECISION(9));
out:
	free(v);
	json_decref(data);
	json_decref(inputs);
	return rc;
}

/* ---- POST /v1/moderations ---- */

/* "MOCK-FLAG" flags "violence"; "MOCK-FLAG:<category>" flags that category instead. */
static json_t *moderate(const char *text)
{
	const char *hit = strstr(text, "MOCK-FLAG");
	const char *cat = NULL;
	if (hit) {
		cat = "violence";
		if (hit[9] == ':') {
			for (size_t i = 0; i < N_MOD_CATEGORIES; i++) {
				size_t n = strlen(mod_categories[i]);
				if (strncmp(hit + 10, mod_categories[i], n) != 0)
					continue;
				char c =
				    hit[10 + n]; /* whole name only: "hate" is not "hate/..." */
				if (!(c == '/' || c == '-' || (c >= 'a' && c <= 'z')))
					cat = mod_categories[i];
			}
		}
	}
	json_t *cats = json_object(), *scores = json_object();
	for (size_t i = 0; cats && scores && i < N_MOD_CATEGORIES; i++) {
		int on = cat && strcmp(cat, mod_categories[i]) == 0;
		json_object_set_new(cats, mod_categories[i], json_boolean(on));
		json_object_set_new(scores, mod_categories[i], json_real(on ? 0.99 : 0.0001));
	}
	return json_pack("{s:b, s:o, s:o}", "flagged", hit != NULL, "categories", cats,
	                 "category_scores", scores);
}

int wd_mock_moderations(json_t *req, const char *id, struct wd_mock_reply *r)
{
	const json_t *input = json_object_get(req, "input");
	const char *model = json_string_value(json_object_get(req, "model"));
	if (!input)
		return wd_mock_missing(r, "input");
	json_t *results = json_array();
	struct wd_buf text;
	int rc = WD_OK, img = 0;
	wd_buf_init(&text, WD_MOCK_BODY_MAX);
	if (!results)
		return WD_ENOMEM;
	if (json_is_array(input) && json_is_object(json_array_get(input, 0))) {
		/* multimodal: one input made of parts */
		rc = wd_mock_content_text(&text, input, &img);
		if (!rc)
			rc = json_array_append_new(results, moderate(text.data ? text.data : ""))
			         ? WD_ENOMEM
			         : 0;
	} else if (json_is_string(input) || json_is_array(input)) {
		const json_t *one = input;
		size_t n = json_is_array(input) ? json_array_size(input) : 1;
		for (size_t i = 0; i < n && !rc; i++) {
			if (json_is_array(input))
				one = json_array_get(input, i);
			if (!json_is_string(one)) {
				rc = wd_mock_bad_request(r, "input",
				                         "'input' items must be strings.");
				goto out;
			}
			rc = json_array_append_new(results, moderate(json_string_value(one)))
			         ? WD_ENOMEM
			         : 0;
		}
	} else {
		rc = wd_mock_bad_request(r, "input", "'input' must be a string or an array.");
		goto out;
	}
	if (!rc) {
		char mid[48];
		snprintf(mid, sizeof mid, "modr-%lu", wd_mock_next_seq());
		rc = wd_mock_reply_json(r, 200,
		                        json_pack("{s:s, s:s, s:O}", "id", mid, "model",
		                                  model ? model : "omni-moderation-latest",
		                                  "results", results),
		                        JSON_REAL_PRECISION(9));
	}
out:
	json_decref(results);
	wd_buf_free(&text);
	return rc;
}

/* ---- GET /v1/models, /v1/models/{id} ---- */

static json_t *model_obj(const char *name)
{
	return json_pack("{s:s, s:s, s:i, s:s}", "id", name, "object", "model", "created",
	                 1700000000, "owned_by", "warden-mock");
}

int wd_mock_models_list(json_t *req, const char *id, struct wd_mock_reply *r)
{
	json_t *data = json_array();
	for (size_t i = 0; data && i < wd_mock_npersonas; i++)
		json_array_append_new(data, model_obj(wd_mock_personas[i]));
	return wd_mock_reply_json(r, 200, json_pack("{s:s, s:o}", "object", "list", "data", data),
	                          0);
}

int wd_mock_models_get(json_t *req, const char *id, struct wd_mock_reply *r)
{
	for (size_t i = 0; i < wd_mock_npersonas; i++)
		if (strcmp(id, wd_mock_personas[i]) == 0)
			return wd_mock_reply_json(r, 200, model_obj(id), 0);
	char msg[256];
	snprintf(msg, sizeof msg, "The model '%.150s' does not exist", id);
	return wd_mock_api_error(r, 404, "invalid_request_error", "model_not_found", "model", msg);
}

/* ---- in-memory stores for files and fine-tuning jobs ---- */

/* Adds obj (taking it) to *store, replacing an entry with the same id. */
static void store_put(json_t **store, json_t *obj)
{
	const char *id = json_string_value(json_object_get(obj, "id"));
	pthread_mutex_lock(&store_mu);
	if (!*store)
		*store = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(*store, i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "id")), id) == 0) {
			json_array_remove(*store, i);
			break;
		}
	}
	if (json_array_size(*store) >= STORE_MAX)
		json_array_remove(*store, 0);
	json_array_append_new(*store, obj);
	pthread_mutex_unlock(&store_mu);
}

/* The list (newest first) or one entry, serialised under the lock. */
static int store_reply(json_t **store, const char *id, const char *what, struct wd_mock_reply *r)
{
	int rc;
	pthread_mutex_lock(&store_mu);
	if (id) {
		json_t *found = NULL, *e;
		size_t i;
		json_array_foreach(*store, i, e)
		{
			if (strcmp(json_string_value(json_object_get(e, "id")), id) == 0)
				found = e;
		}
		if (found)
			rc = wd_mock_reply_json(r, 200, json_incref(found), 0);
		else
			rc = wd_mock_not_found(r, what, id);
	} else {
		json_t *data = json_array();
		for (size_t i = *store ? json_array_size(*store) : 0; data && i > 0; i--)
			json_array_append(data, json_array_get(*store, i - 1));
		rc = wd_mock_reply_json(
		    r, 200,
		    json_pack("{s:s, s:o, s:b}", "object", "list", "data", data, "has_more", 0), 0);
	}
	pthread_mutex_unlock(&store_mu);
	return rc;
}

void wd_mock_api_cleanup(void)
{
	pthread_mutex_lock(&store_mu);
	json_decref(files_store);
	json_decref(jobs_store);
	files_store = jobs_store = NULL;
	pthread_mutex_unlock(&store_mu);
}

/* ---- POST /v1/files (multipart/form-data), GET /v1/files, GET /v1/files/{id} ---- */

/* Copies the value of parameter key (e.g. boundary=..., name="...") from a header value, or
 * returns 0 when absent. The parameter must start the value or follow ';' or whitespace, so
 * "name" does not match inside "filename". */
static int header_param(const char *h, size_t hlen, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	for (size_t i = 0; i + klen + 1 <= hlen; i++) {
		if (i > 0 && h[i - 1] != ';' && h[i - 1] != ' ' && h[i - 1] != '\t')
			continue;
		if (strncasecmp(h + i, key, klen) != 0 || h[i + klen] != '=')
			continue;
		size_t p = i + klen + 1, n = 0;
		int quoted = p < hlen && h[p] == '"';
		p += (size_t)quoted;
		while (p < hlen && n + 1 < cap) {
			char c = h[p];
			if (quoted ? c == '"' : (c == ';' || c == ' ' || c == '\r' || c == '\n'))
				break;
			out[n++] = c;
			p++;
		}
		out[n] = '\0';
		return 1;
	}
	return 0;
}

struct upload {
	char filename[256];
	char purpose[64];
	const char *data; /* borrowed from the body */
	size_t size;
	int have_file, have_purpose;
};

/* Parses enough of a multipart/form-data body for the fields "file" and "purpose". */
static int parse_multipart(const char *ct, const char *body, size_t len, struct upload *u)
{
	char boundary[128], delim[136];
	if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0 ||
	    !header_param(ct, strlen(ct), "boundary", boundary, sizeof boundary) || !boundary[0])
		return -1;
	int dlen = snprintf(delim, sizeof delim, "\r\n--%s", boundary);
	/* the first delimiter may start the body without the CRLF */
	const char *p = memmem(body, len, delim + 2, (size_t)dlen - 2);
	const char *end = body + len;
	while (p) {
		p += dlen - 2;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break; /* closing delimiter */
		const char *hstart = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!hstart)
			return -1;
		hstart += 2;
		const char *hend = memmem(hstart, (size_t)(end - hstart), "\r\n\r\n", 4);
		if (!hend)
			return -1;
		const char *cstart = hend + 4;
		const char *cend = memmem(cstart, (size_t)(end - cstart), delim, (size_t)dlen);
		if (!cend)
			return -1;
		char name[64] = "", fname[256] = "";
		size_t hlen = (size_t)(hend - hstart);
		const char *cd = NULL;
		for (const char *l = hstart; l < hend;) {
			const char *nl = memmem(l, (size_t)(hend - l), "\r\n", 2);
			if (!nl)
				nl = hend;
			if ((size_t)(nl - l) > 20 &&
			    strncasecmp(l, "content-disposition:", 20) == 0)
				cd = l;
			if (cd == l) {
				hlen = (size_t)(nl - l);
				break;
			}
			l = nl + 2;
		}
		if (cd) {
			header_param(cd, hlen, "name", name, sizeof name);
			int hasf = header_param(cd, hlen, "filename", fname, sizeof fname);
			if (strcmp(name, "file") == 0) {
				u->have_file = 1;
				u->data = cstart;
				u->size = (size_t)(cend - cstart);
				memcpy(u->filename, hasf ? fname : "upload",
				       hasf ? strlen(fname) + 1 : 7);
			} else if (strcmp(name, "purpose") == 0) {
				size_t n = (size_t)(cend - cstart);
				if (n >= sizeof u->purpose)
					n = sizeof u->purpose - 1;
				memcpy(u->purpose, cstart, n);
				u->purpose[n] = '\0';
				u->have_purpose = 1;
			}
		}
		p = cend + 2; /* at "--boundary" */
	}
	return 0;
}

int wd_mock_files_create(const struct wd_mock_request *rq, struct wd_mock_reply *r)
{
	struct upload u;
	memset(&u, 0, sizeof u);
	if (parse_multipart(rq->content_type, rq->body, rq->len, &u))
		return wd_mock_bad_request(
		    r, NULL,
		    "Expected a multipart/form-data body with the fields 'file' "
		    "and 'purpose'.");
	if (!u.have_file)
		return wd_mock_missing(r, "file");
	if (!u.have_purpose)
		return wd_mock_missing(r, "purpose");
	uint64_t h = wd_mock_hash(u.data, u.size, 3);
	h = wd_mock_hash(u.filename, strlen(u.filename), h);
	h = wd_mock_hash(u.purpose, strlen(u.purpose), h);
	char fid[40];
	snprintf(fid, sizeof fid, "file-%016llx", (unsigned long long)h);
	json_t *f =
	    json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:n}", "id", fid, "object", "file",
	              "bytes", (json_int_t)u.size, "created_at", (json_int_t)time(NULL), "filename",
	              u.filename, "purpose", u.purpose, "status", "processed", "status_details");
	if (!f)
		return WD_ENOMEM;
	int rc = wd_mock_reply_json(r, 200, json_incref(f), 0);
	store_put(&files_store, f);
	return rc;
}

int wd_mock_files_list(json_t *req, const char *id, struct wd_mock_reply *r)
{
	return store_reply(&files_store, NULL, "file", r);
}

int wd_mock_files_get(json_t *req, const char *id, struct wd_mock_reply *r)
{
	return store_reply(&files_store, id, "file", r);
}

/* ---- /v1/fine_tuning/jobs ---- */

int wd_mock_ft_create(json_t *req, const char *id, struct wd_mock_reply *r)
{
	const json_t *tf = json_object_get(req, "training_file");
	const char *model = json_string_value(json_object_get(req, "model"));
	const json_t *vf = json_object_get(req, "validation_file");
	const json_t *hp = json_object_get(req, "hyperparameters");
	const json_t *suffix = json_object_get(req, "suffix");
	if (!json_is_string(tf))
		return tf ? wd_mock_bad_request(r, "training_file",
		                                "'training_file' must be a string.")
		          : wd_mock_missing(r, "training_file");
	if (!model)
		return wd_mock_missing(r, "model");
	unsigned long n = wd_mock_next_seq();
	uint64_t h = wd_mock_hash(json_string_value(tf), json_string_length(tf), n);
	h = wd_mock_hash(model, strlen(model), h);
	char jid[40];
	snprintf(jid, sizeof jid, "ftjob-%016llx", (unsigned long long)h);
	json_t *job = json_pack(
	    "{s:s, s:s, s:s, s:I, s:n, s:n, s:s, s:[], s:s, s:O, s:O, s:o, s:n, s:n, s:i, s:O}",
	    "object", "fine_tuning.job", "id", jid, "model", model, "created_at",
	    (json_int_t)time(NULL), "finished_at", "fine_tuned_model", "organization_id",
	    "org-mock", "result_files", "status", "queued", "validation_file",
	    json_is_string(vf) ? vf : json_null(), "training_file", tf, "hyperparameters",
	    json_is_object(hp) ? json_deep_copy(hp)
	                       : json_pack("{s:s, s:s, s:s}", "n_epochs", "auto", "batch_size",
	                                   "auto", "learning_rate_multiplier", "auto"),
	    "trained_tokens", "error", "seed", 42, "user_provided_suffix",
	    json_is_string(suffix) ? suffix : json_null());
	if (!job)
		return WD_ENOMEM;
	int rc = wd_mock_reply_json(r, 200, json_incref(job), 0);
	store_put(&jobs_store, job);
	return rc;
}

int wd_mock_ft_list(json_t *req, const char *id, struct wd_mock_reply *r)
{
	return store_reply(&jobs_store, NULL, "fine-tuning job", r);
}

int wd_mock_ft_get(json_t *req, const char *id, struct wd_mock_reply *r)
{
	return store_reply(&jobs_store, id, "fine-tuning job", r);
}
