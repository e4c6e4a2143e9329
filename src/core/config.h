/* config.h — warden's configuration: a YAML (or JSON) file read with libyaml into a jansson
 * tree that remembers the source line of every node, then validated against a table of known
 * keys. Unknown keys and bad values are refused with "FILE:LINE: path: what is wrong", e.g.
 * "conf/warden.yaml:14: limits.max_body_bytes: must be a positive integer (got "big")".
 *
 * YAML scalars map to JSON: quoted → string; plain true/false → boolean; null, ~ and empty →
 * null; plain integers → integer; plain decimals → real; anything else → string. Anchors and
 * aliases are refused (a config needs neither), as are non-string mapping keys and duplicate keys.
 * The checker entries' envelope and their own `config` are validated by the chain, which uses
 * wd_conf_where() to name their location. */
#ifndef WD_CORE_CONFIG_H
#define WD_CORE_CONFIG_H

#include <jansson.h>
#include <stddef.h>

#include "core/log.h"

struct wd_conf; /* the parsed tree and its line map */

/* Reads and parses path. On error returns WD_EINVAL/WD_EIO and writes "path:line: what" into
 * err. */
int wd_conf_load(const char *path, struct wd_conf **out, char *err, size_t errlen);
/* Same for text in memory; name stands for the file name in messages. */
int wd_conf_parse(const char *text, size_t len, const char *name, struct wd_conf **out, char *err,
                  size_t errlen);
/* An empty config ({}) with the given name, for running with defaults only. */
struct wd_conf *wd_conf_empty(const char *name);
const json_t *wd_conf_root(const struct wd_conf *c);
/* "name:line" of a node of this tree (just "name" when the line is unknown), into buf. true,
 * false and null are shared jansson singletons, so their line is unknown: use the key's. */
const char *wd_conf_where(const struct wd_conf *c, const json_t *node, char *buf, size_t len);
/* "name:line" of the key `key` of the mapping obj (just "name" when unknown), into buf. */
const char *wd_conf_where_key(const struct wd_conf *c, const json_t *obj, const char *key,
                              char *buf, size_t len);
void wd_conf_free(struct wd_conf *c);

enum wd_on_block { WD_ON_BLOCK_ERROR, WD_ON_BLOCK_REFUSAL };
/* How much text an incident keeps: none, the checker's short excerpt, or the full message. */
enum wd_capture { WD_CAPTURE_NONE, WD_CAPTURE_EXCERPT, WD_CAPTURE_FULL };
/* SQLite durability: normal survives a crash of warden (kill -9); full also a power loss. */
enum wd_sync { WD_SYNC_NORMAL, WD_SYNC_FULL };

/* The validated settings. Defaults apply to every absent key; strings are owned by the settings
 * and freed by wd_settings_free. */
struct wd_settings {
	char *listen;                     /* "127.0.0.1:8080" */
	int threads;                      /* I/O threads; 0 = one per core */
	char *upstream_url;               /* "http://127.0.0.1:8090" (no trailing slash) */
	char *upstream_api_key;           /* NULL: pass the client's Authorization through */
	long upstream_connect_timeout_ms; /* 5000 */
	long upstream_timeout_ms;         /* 600000: whole response */
	long upstream_idle_timeout_ms;    /* 60000: no byte from upstream for this long → 504 */
	char *admin_listen;               /* "127.0.0.1:8081" */
	char *admin_token;                /* NULL; WARDEN_ADMIN_TOKEN overrides */
	char *db_path;                    /* "./warden.db" */
	enum wd_capture capture;          /* store.capture: excerpt */
	int retention_days;               /* store.retention_days: 90; 0 keeps incidents forever */
	enum wd_sync sync;                /* store.synchronous: normal */
	size_t max_body_bytes;            /* 32 MiB */
	size_t max_upload_bytes;          /* 512 MiB (POST /v1/files) */
	size_t max_response_bytes;   /* 64 MiB of non-streamed upstream body kept for checking */
	size_t max_event_bytes;      /* 1 MiB: one SSE event */
	enum wd_on_block on_block;   /* error */
	char *refusal_text;          /* "I can't help with that request." */
	enum wd_log_level log_level; /* info */
	int log_json;                /* log.format: text (0) | json (1) */
	const json_t *checkers;      /* borrowed from the conf: the `checkers` array, or NULL */
};

/* Validates the tree against the schema and fills s (defaults first). On error returns WD_EINVAL
 * with "file:line: path: message" in err. The settings borrow `checkers` from c: free c after s. */
int wd_settings_load(const struct wd_conf *c, struct wd_settings *s, char *err, size_t errlen);
void wd_settings_free(struct wd_settings *s);

/* Splits "host:port" ("[::1]:8080" for IPv6). Returns WD_EINVAL for a missing or bad port. */
int wd_parse_hostport(const char *s, char *host, size_t hostlen, unsigned short *port);

#endif
