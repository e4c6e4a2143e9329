/* test_config.c — unit tests for src/core/config.c: YAML → tree typing and lines, every error
 * class with its exact message, the settings schema (defaults, sizes, enums, environment
 * overrides), host:port parsing, and the shipped conf/warden.yaml. All from memory except the
 * last, which reads the file (tests run from the repository root). */
#include <stdlib.h>

#include "core/config.h"
#include "core/err.h"
#include "test.h"

static char err[1024];

/* Parses text; returns the conf or NULL (err holds the message). */
static struct wd_conf *parse(const char *text)
{
	struct wd_conf *c = NULL;
	err[0] = '\0';
	int rc = wd_conf_parse(text, strlen(text), "t.yaml", &c, err, sizeof(err));
	if (rc)
		return NULL;
	return c;
}

/* Parses and loads settings; returns the wd_settings_load result, message in err. */
static int load(const char *text, struct wd_settings *s)
{
	struct wd_conf *c = parse(text);
	if (!c)
		return WD_EINVAL;
	int rc = wd_settings_load(c, s, err, sizeof(err));
	wd_conf_free(c);
	s->checkers = NULL; /* borrowed from c, gone now */
	return rc;
}

/* Expects the settings to be refused with exactly msg. */
static int refused(const char *text, const char *msg)
{
	struct wd_settings s = {0};
	int rc = load(text, &s);
	wd_settings_free(&s);
	if (rc != WD_EINVAL || strcmp(err, msg) != 0) {
		fprintf(stderr, "    rc %d, got:  %s\n    wanted: %s\n", rc, err, msg);
		return 0;
	}
	return 1;
}

TEST(scalar_typing)
{
	struct wd_conf *c = parse("a: true\n"
	                          "b: false\n"
	                          "c: null\n"
	                          "d: ~\n"
	                          "e:\n"
	                          "f: 42\n"
	                          "g: -7\n"
	                          "h: +3\n"
	                          "i: 1.5\n"
	                          "j: 1e3\n"
	                          "k: .5\n"
	                          "l: \"42\"\n"
	                          "m: 'true'\n"
	                          "n: hello world\n"
	                          "o: 0x1F\n"
	                          "p: True\n"
	                          "q: |\n  12\n"
	                          "r: !!str 7\n"
	                          "s: 1_000\n"
	                          "t: 007\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const json_t *r = wd_conf_root(c);
	CHECK(json_is_true(json_object_get(r, "a")));
	CHECK(json_is_false(json_object_get(r, "b")));
	CHECK(json_is_null(json_object_get(r, "c")));
	CHECK(json_is_null(json_object_get(r, "d")));
	CHECK(json_is_null(json_object_get(r, "e")));
	CHECK(json_is_integer(json_object_get(r, "f")));
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "f")), 42);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "g")), -7);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "h")), 3);
	CHECK(json_is_real(json_object_get(r, "i")));
	CHECK(json_real_value(json_object_get(r, "i")) == 1.5);
	CHECK(json_is_real(json_object_get(r, "j")));
	CHECK(json_real_value(json_object_get(r, "j")) == 1000.0);
	CHECK(json_real_value(json_object_get(r, "k")) == 0.5);
	CHECK_STR(json_string_value(json_object_get(r, "l")), "42");
	CHECK_STR(json_string_value(json_object_get(r, "m")), "true");
	CHECK_STR(json_string_value(json_object_get(r, "n")), "hello world");
	CHECK_STR(json_string_value(json_object_get(r, "o")), "0x1F");
	CHECK_STR(json_string_value(json_object_get(r, "p")), "True");
	CHECK_STR(json_string_value(json_object_get(r, "q")), "12\n");
	CHECK_STR(json_string_value(json_object_get(r, "r")), "7");
	CHECK_STR(json_string_value(json_object_get(r, "s")), "1_000");
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "t")), 7);
	wd_conf_free(c);
}

TEST(nesting_and_lines)
{
	struct wd_conf *c = parse("# comment\n"
	                          "upstream:\n"
	                          "  url: http://x\n"
	                          "list:\n"
	                          "  - one\n"
	                          "  - {k: v, n: 2}\n"
	                          "  - [a, b]\n"
	                          "flag: true\n");
	CHECK(c != NULL);
	if (!c)
		return;
	char buf[64];
	const json_t *r = wd_conf_root(c);
	const json_t *up = json_object_get(r, "upstream");
	const json_t *list = json_object_get(r, "list");
	CHECK(json_is_object(up));
	CHECK_EQ_INT(json_array_size(list), 3);
	CHECK_STR(wd_conf_where(c, r, buf, sizeof(buf)), "t.yaml:2");
	CHECK_STR(wd_conf_where(c, up, buf, sizeof(buf)), "t.yaml:3");
	CHECK_STR(wd_conf_where(c, json_object_get(up, "url"), buf, sizeof(buf)), "t.yaml:3");
	CHECK_STR(wd_conf_where(c, list, buf, sizeof(buf)), "t.yaml:5");
	CHECK_STR(wd_conf_where(c, json_array_get(list, 1), buf, sizeof(buf)), "t.yaml:6");
	const json_t *m = json_array_get(list, 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(m, "n")), 2);
	CHECK_STR(json_string_value(json_array_get(json_array_get(list, 2), 1)), "b");
	CHECK_STR(wd_conf_where_key(c, r, "upstream", buf, sizeof(buf)), "t.yaml:2");
	CHECK_STR(wd_conf_where_key(c, r, "flag", buf, sizeof(buf)), "t.yaml:8");
	CHECK_STR(wd_conf_where_key(c, r, "nope", buf, sizeof(buf)), "t.yaml");
	/* Shared singletons and foreign nodes have no line. */
	CHECK_STR(wd_conf_where(c, json_object_get(r, "flag"), buf, sizeof(buf)), "t.yaml");
	json_t *foreign = json_string("x");
	CHECK_STR(wd_conf_where(c, foreign, buf, sizeof(buf)), "t.yaml");
	json_decref(foreign);
	wd_conf_free(c);
}

TEST(json_input)
{
	struct wd_conf *c = parse("{\n  \"listen\": \"0.0.0.0:9000\",\n  \"threads\": 4,\n"
	                          "  \"checkers\": [{\"id\": \"a\", \"threshold\": 0.5}]\n}\n");
	CHECK(c != NULL);
	if (!c)
		return;
	struct wd_settings s = {0};
	CHECK_EQ_INT(wd_settings_load(c, &s, err, sizeof(err)), 0);
	CHECK_STR(s.listen, "0.0.0.0:9000");
	CHECK_EQ_INT(s.threads, 4);
	CHECK(json_is_array(s.checkers));
	CHECK(json_real_value(json_object_get(json_array_get(s.checkers, 0), "threshold")) == 0.5);
	char buf[64];
	CHECK_STR(wd_conf_where(c, json_array_get(s.checkers, 0), buf, sizeof(buf)), "t.yaml:4");
	wd_settings_free(&s);
	wd_conf_free(c);
}

TEST(empty_is_defaults)
{
	struct wd_settings s = {0};
	unsetenv("WARDEN_ADMIN_TOKEN");
	CHECK_EQ_INT(load("", &s), 0);
	CHECK_STR(s.listen, "127.0.0.1:8080");
	CHECK_EQ_INT(s.threads, 0);
	CHECK_STR(s.upstream_url, "http://127.0.0.1:8090");
	CHECK(s.upstream_api_key == NULL);
	CHECK_EQ_INT(s.upstream_connect_timeout_ms, 5000);
	CHECK_EQ_INT(s.upstream_timeout_ms, 600000);
	CHECK_EQ_INT(s.upstream_idle_timeout_ms, 60000);
	CHECK_STR(s.admin_listen, "127.0.0.1:8081");
	CHECK(s.admin_token == NULL);
	CHECK_STR(s.db_path, "./warden.db");
	CHECK_EQ_INT(s.max_body_bytes, 32u << 20);
	CHECK_EQ_INT(s.max_upload_bytes, 512u << 20);
	CHECK_EQ_INT(s.max_response_bytes, 64u << 20);
	CHECK_EQ_INT(s.max_event_bytes, 1u << 20);
	CHECK_EQ_INT(s.on_block, WD_ON_BLOCK_ERROR);
	CHECK_STR(s.refusal_text, "I can't help with that request.");
	CHECK_EQ_INT(s.log_level, WD_LOG_INFO);
	CHECK_EQ_INT(s.log_json, 0);
	CHECK(s.checkers == NULL);
	wd_settings_free(&s);

	/* Comments only, an empty document, and keys without values are defaults too. */
	CHECK_EQ_INT(load("# nothing\n", &s), 0);
	wd_settings_free(&s);
	CHECK_EQ_INT(load("---\n", &s), 0);
	wd_settings_free(&s);
	CHECK_EQ_INT(load("upstream:\nthreads:\nlimits:\n  max_body_bytes:\n", &s), 0);
	CHECK_EQ_INT(s.threads, 0);
	CHECK_EQ_INT(s.max_body_bytes, 32u << 20);
	wd_settings_free(&s);

	struct wd_conf *c = wd_conf_empty("none");
	CHECK(c && json_is_object(wd_conf_root(c)) && json_object_size(wd_conf_root(c)) == 0);
	CHECK_EQ_INT(wd_settings_load(c, &s, err, sizeof(err)), 0);
	CHECK_STR(s.listen, "127.0.0.1:8080");
	wd_settings_free(&s);
	wd_conf_free(c);
}

TEST(all_keys)
{
	struct wd_settings s = {0};
	unsetenv("WARDEN_ADMIN_TOKEN");
	int rc = load("listen: \"[::1]:9090\"\n"
	              "threads: 8\n"
	              "upstream:\n"
	              "  url: https://api.example.com/v1//\n"
	              "  api_key: sk-test\n"
	              "  connect_timeout_ms: 100\n"
	              "  timeout_ms: 2000\n"
	              "  idle_timeout_ms: 300\n"
	              "admin:\n"
	              "  listen: :9091\n"
	              "  token: from-file\n"
	              "store:\n"
	              "  path: /tmp/w.db\n"
	              "limits:\n"
	              "  max_body_bytes: 1024\n"
	              "  max_upload_bytes: 512KiB\n"
	              "  max_response_bytes: 1GiB\n"
	              "  max_event_bytes: 10MB\n"
	              "on_block: refusal\n"
	              "refusal_text: No.\n"
	              "log:\n"
	              "  level: debug\n"
	              "  format: json\n"
	              "checkers: []\n",
	              &s);
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(s.listen, "[::1]:9090");
	CHECK_EQ_INT(s.threads, 8);
	CHECK_STR(s.upstream_url, "https://api.example.com/v1");
	CHECK_STR(s.upstream_api_key, "sk-test");
	CHECK_EQ_INT(s.upstream_connect_timeout_ms, 100);
	CHECK_EQ_INT(s.upstream_timeout_ms, 2000);
	CHECK_EQ_INT(s.upstream_idle_timeout_ms, 300);
	CHECK_STR(s.admin_listen, ":9091");
	CHECK_STR(s.admin_token, "from-file");
	CHECK_STR(s.db_path, "/tmp/w.db");
	CHECK_EQ_INT(s.max_body_bytes, 1024);
	CHECK_EQ_INT(s.max_upload_bytes, 512 * 1024);
	CHECK_EQ_INT(s.max_response_bytes, 1 << 30);
	CHECK_EQ_INT(s.max_event_bytes, 10000000);
	CHECK_EQ_INT(s.on_block, WD_ON_BLOCK_REFUSAL);
	CHECK_STR(s.refusal_text, "No.");
	CHECK_EQ_INT(s.log_level, WD_LOG_DEBUG);
	CHECK_EQ_INT(s.log_json, 1);
	wd_settings_free(&s);
}

TEST(size_suffixes)
{
	static const struct {
		const char *text;
		size_t bytes;
	} ok[] = {
	    {"1", 1},
	    {"\"1024\"", 1024},
	    {"100B", 100},
	    {"2KB", 2000},
	    {"2KiB", 2048},
	    {"32MiB", 32u << 20},
	    {"\"32 MiB\"", 32u << 20},
	    {"3MB", 3000000},
	    {"1GB", 1000000000},
	    {"2GiB", 2ull << 30},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char text[128];
		struct wd_settings s = {0};
		snprintf(text, sizeof(text), "limits:\n  max_body_bytes: %s\n", ok[i].text);
		CHECK_EQ_INT(load(text, &s), 0);
		CHECK_EQ_INT(s.max_body_bytes, ok[i].bytes);
		wd_settings_free(&s);
	}
	static const char *const bad[] = {"0",      "-5",         "0MiB",
	                                  "32mib",  "32 parsecs", "MiB",
	                                  "1.5GiB", "32MiB!",     "99999999999999999999GiB",
	                                  "\"\"",   "true",       "[1]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];
		struct wd_settings s = {0};
		snprintf(text, sizeof(text), "limits:\n  max_body_bytes: %s\n", bad[i]);
		CHECK_EQ_INT(load(text, &s), WD_EINVAL);
		CHECK(strstr(err, "t.yaml:2: limits.max_body_bytes: must be a positive size") ==
		      err);
		wd_settings_free(&s);
	}
	CHECK(refused("limits:\n  max_event_bytes: 32 parsecs\n",
	              "t.yaml:2: limits.max_event_bytes: must be a positive size in bytes, or a "
	              "string with a unit B, KB, MB, GB, KiB, MiB or GiB such as \"32MiB\" (got "
	              "\"32 parsecs\")"));
}

TEST(unknown_keys)
{
	CHECK(refused("upstream:\n  url: http://x\n  timout_ms: 5\n",
	              "t.yaml:3: upstream.timout_ms: unknown key (known: url, api_key, "
	              "api_key_env, connect_timeout_ms, timeout_ms, idle_timeout_ms)"));
	CHECK(refused("listen: :1\nlisten_port: 8080\n",
	              "t.yaml:2: listen_port: unknown key (known: listen, threads, upstream, "
	              "admin, store, limits, on_block, refusal_text, log, checkers)"));
	CHECK(refused("log:\n  level: info\n  colour: true\n",
	              "t.yaml:3: log.colour: unknown key (known: level, format)"));
	CHECK(refused("store: {path: x, retention: 3}\n",
	              "t.yaml:1: store.retention: unknown key (known: path, capture, "
	              "retention_days, synchronous)"));
}

TEST(bad_types)
{
	CHECK(refused("threads: many\n",
	              "t.yaml:1: threads: must be an integer from 0 to 256 (got \"many\")"));
	CHECK(refused("threads: 257\n",
	              "t.yaml:1: threads: must be an integer from 0 to 256 (got 257)"));
	CHECK(refused("threads: -1\n",
	              "t.yaml:1: threads: must be an integer from 0 to 256 (got -1)"));
	CHECK(refused("threads: 2.5\n",
	              "t.yaml:1: threads: must be an integer from 0 to 256 (got 2.5)"));
	CHECK(refused("upstream:\n  timeout_ms: 0\n",
	              "t.yaml:2: upstream.timeout_ms: must be a positive integer (got 0)"));
	CHECK(
	    refused("upstream:\n  idle_timeout_ms: \"5\"\n",
	            "t.yaml:2: upstream.idle_timeout_ms: must be a positive integer (got \"5\")"));
	CHECK(refused("upstream: http://x\n",
	              "t.yaml:1: upstream: must be a mapping (got \"http://x\")"));
	CHECK(refused("log: [a]\n", "t.yaml:1: log: must be a mapping (got a list)"));
	CHECK(refused("store:\n  path: \"\"\n",
	              "t.yaml:2: store.path: must be a non-empty string (got \"\")"));
	CHECK(refused("refusal_text: {a: 1}\n",
	              "t.yaml:1: refusal_text: must be a non-empty string (got a mapping)"));
	CHECK(refused("checkers: {id: x}\n",
	              "t.yaml:1: checkers: must be a list of checker entries (got a mapping)"));
	CHECK(refused("checkers:\n  - id: a\n  - just-a-name\n",
	              "t.yaml:3: checkers[1]: must be a mapping with id, type, ... (got "
	              "\"just-a-name\")"));
	CHECK(refused("- a\n- b\n",
	              "t.yaml:1: the config must be a mapping of keys to values (got a list)"));
	CHECK(refused("hello\n",
	              "t.yaml:1: the config must be a mapping of keys to values (got a string)"));
	CHECK(refused("upstream:\n  url: ftp://x\n",
	              "t.yaml:2: upstream.url: must be an http:// or https:// URL (got "
	              "\"ftp://x\")"));
	CHECK(refused("upstream:\n  url: http://\n",
	              "t.yaml:2: upstream.url: must be an http:// or https:// URL (got "
	              "\"http://\")"));
	CHECK(refused("upstream:\n  url: \"http://a b\"\n",
	              "t.yaml:2: upstream.url: must be an http:// or https:// URL (got "
	              "\"http://a b\")"));
}

TEST(bad_enums)
{
	CHECK(refused("on_block: drop\n",
	              "t.yaml:1: on_block: must be one of error, refusal (got \"drop\")"));
	CHECK(refused("log:\n  level: verbose\n",
	              "t.yaml:2: log.level: must be one of debug, info, warn, error, off (got "
	              "\"verbose\")"));
	CHECK(refused("log:\n  format: true\n",
	              "t.yaml:2: log.format: must be one of text, json (got true)"));
}

TEST(bad_hostport)
{
	CHECK(refused("listen: localhost\n",
	              "t.yaml:1: listen: must be HOST:PORT with a port from 1 to 65535, e.g. "
	              "\"127.0.0.1:8080\" (got \"localhost\")"));
	CHECK(refused("admin:\n  listen: \"127.0.0.1:70000\"\n",
	              "t.yaml:2: admin.listen: must be HOST:PORT with a port from 1 to 65535, e.g. "
	              "\"127.0.0.1:8080\" (got \"127.0.0.1:70000\")"));
	CHECK(refused("listen: 8080\n",
	              "t.yaml:1: listen: must be HOST:PORT with a port from 1 to 65535, e.g. "
	              "\"127.0.0.1:8080\" (got 8080)"));
}

TEST(hostport)
{
	char host[64];
	unsigned short port = 0;
	CHECK_EQ_INT(wd_parse_hostport("127.0.0.1:8080", host, sizeof(host), &port), 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK_EQ_INT(port, 8080);
	CHECK_EQ_INT(wd_parse_hostport("localhost:80", host, sizeof(host), &port), 0);
	CHECK_STR(host, "localhost");
	CHECK_EQ_INT(port, 80);
	CHECK_EQ_INT(wd_parse_hostport("[::1]:8080", host, sizeof(host), &port), 0);
	CHECK_STR(host, "::1");
	CHECK_EQ_INT(wd_parse_hostport(":8080", host, sizeof(host), &port), 0);
	CHECK_STR(host, "0.0.0.0");
	CHECK_EQ_INT(port, 8080);
	CHECK_EQ_INT(wd_parse_hostport("h:65535", host, sizeof(host), &port), 0);
	CHECK_EQ_INT(port, 65535);
	static const char *const bad[] = {
	    "",        "8080",     "host",     "host:",     "host:0", "host:65536",
	    "host:-1", "host:80a", "::1:80",   "[::1]8080", "[]:80",  "[::1:80",
	    "a b:80",  "host:+80", "h:000080", NULL};
	for (int i = 0; bad[i]; i++) {
		int rc = wd_parse_hostport(bad[i], host, sizeof(host), &port);
		if (rc != WD_EINVAL)
			fprintf(stderr, "    accepted \"%s\"\n", bad[i]);
		CHECK_EQ_INT(rc, WD_EINVAL);
	}
	char tiny[4];
	CHECK_EQ_INT(wd_parse_hostport("localhost:80", tiny, sizeof(tiny), &port), WD_EINVAL);
}

TEST(yaml_refusals)
{
	struct wd_conf *c = parse("base: &b {a: 1}\nother: *b\n");
	CHECK(c == NULL);
	CHECK_STR(err, "t.yaml:1: anchor &b: anchors and aliases are not supported");
	c = parse("a: 1\nb: [x, *y]\n");
	CHECK(c == NULL);
	CHECK_STR(err, "t.yaml:2: alias *y: anchors and aliases are not supported");
	c = parse("a: 1\nb:\n  c: 2\n  c: 3\n");
	CHECK(c == NULL);
	CHECK_STR(err, "t.yaml:4: duplicate key \"c\" (first at line 3)");
	c = parse("? [a, b]\n: 1\n");
	CHECK(c == NULL);
	CHECK_STR(err, "t.yaml:1: mapping keys must be strings (got a list)");
	c = parse("a: 1\n---\nb: 2\n");
	CHECK(c == NULL);
	CHECK_STR(err, "t.yaml:2: more than one YAML document (a config is one)");
	c = parse("a: !!int 3\n");
	CHECK(c == NULL);
	CHECK_STR(err, "t.yaml:1: tag tag:yaml.org,2002:int is not supported (only !!str)");
	c = parse("a: 99999999999999999999\n");
	CHECK(c == NULL);
	CHECK_STR(err, "t.yaml:1: integer out of range (quote it for a string)");
}

TEST(yaml_syntax_errors)
{
	struct wd_conf *c = parse("a: 1\nb: [1, 2\nc: 3\n");
	CHECK(c == NULL);
	CHECK_STR(err,
	          "t.yaml:3: did not find expected ',' or ']' (while parsing a flow sequence)");
	c = parse("a:\n  b: 1\n c: 2\n");
	CHECK(c == NULL);
	CHECK(strncmp(err, "t.yaml:3: ", 10) == 0);
	c = parse("a: \"unterminated\n");
	CHECK(c == NULL);
	CHECK(strncmp(err, "t.yaml:", 7) == 0 && strstr(err, "quoted scalar") != NULL);
	c = parse("a: 1\nb: \xff\n");
	CHECK(c == NULL);
	CHECK(strncmp(err, "t.yaml:2: ", 10) == 0);
	/* Deep nesting is refused, not recursed into. */
	char deep[400];
	memset(deep, '[', 200);
	deep[200] = '\0';
	c = parse(deep);
	CHECK(c == NULL);
	CHECK_STR(err, "t.yaml:1: nested more than 64 levels deep");
}

TEST(secrets_not_echoed)
{
	CHECK(refused("upstream:\n  api_key: [sk-secret-1]\n",
	              "t.yaml:2: upstream.api_key: must be a non-empty string (got a list)"));
	CHECK(refused("admin:\n  token: 123456\n",
	              "t.yaml:2: admin.token: must be a non-empty string (got an integer)"));
	CHECK(refused("admin:\n  token: ''\n",
	              "t.yaml:2: admin.token: must be a non-empty string (got \"\")"));
	CHECK(refused("admin:\n  token: 99999999999999999999999\n",
	              "t.yaml:2: integer out of range (quote it for a string)"));
	CHECK(strstr(err, "9999") == NULL);
}

TEST(env_overrides)
{
	struct wd_settings s = {0};
	setenv("WARDEN_ADMIN_TOKEN", "from-env", 1);
	CHECK_EQ_INT(load("admin:\n  token: from-file\n", &s), 0);
	CHECK_STR(s.admin_token, "from-env");
	wd_settings_free(&s);
	CHECK_EQ_INT(load("", &s), 0);
	CHECK_STR(s.admin_token, "from-env");
	wd_settings_free(&s);
	unsetenv("WARDEN_ADMIN_TOKEN");
	CHECK_EQ_INT(load("admin:\n  token: from-file\n", &s), 0);
	CHECK_STR(s.admin_token, "from-file");
	wd_settings_free(&s);

	setenv("WD_TEST_UPSTREAM_KEY", "sk-from-env", 1);
	CHECK_EQ_INT(load("upstream:\n  api_key_env: WD_TEST_UPSTREAM_KEY\n", &s), 0);
	CHECK_STR(s.upstream_api_key, "sk-from-env");
	wd_settings_free(&s);
	CHECK(refused("upstream:\n  api_key: sk-x\n  api_key_env: WD_TEST_UPSTREAM_KEY\n",
	              "t.yaml:3: upstream.api_key_env: give upstream.api_key or "
	              "upstream.api_key_env, not both"));
	CHECK(strstr(err, "sk-") == NULL);
	setenv("WD_TEST_UPSTREAM_KEY", "", 1);
	CHECK(refused("upstream:\n  api_key_env: WD_TEST_UPSTREAM_KEY\n",
	              "t.yaml:2: upstream.api_key_env: environment variable WD_TEST_UPSTREAM_KEY "
	              "is empty"));
	unsetenv("WD_TEST_UPSTREAM_KEY");
	CHECK(refused("upstream:\n  api_key_env: WD_TEST_UPSTREAM_KEY\n",
	              "t.yaml:2: upstream.api_key_env: environment variable WD_TEST_UPSTREAM_KEY "
	              "is not set"));
}

TEST(load_file)
{
	struct wd_conf *c = NULL;
	struct wd_settings s = {0};
	unsetenv("WARDEN_ADMIN_TOKEN");
	int rc = wd_conf_load("conf/warden.yaml", &c, err, sizeof(err));
	if (rc)
		fprintf(stderr, "    %s\n", err);
	CHECK_EQ_INT(rc, 0);
	if (rc)
		return;
	rc = wd_settings_load(c, &s, err, sizeof(err));
	if (rc)
		fprintf(stderr, "    %s\n", err);
	CHECK_EQ_INT(rc, 0);
	if (!rc) {
		/* The shipped file states the defaults. */
		CHECK_STR(s.listen, "127.0.0.1:8080");
		CHECK_STR(s.upstream_url, "http://127.0.0.1:8090");
		CHECK_EQ_INT(s.max_body_bytes, 32u << 20);
		CHECK_EQ_INT(s.on_block, WD_ON_BLOCK_ERROR);
		CHECK(json_array_size(s.checkers) >= 1);
		const json_t *e = json_array_get(s.checkers, 0);
		CHECK_STR(json_string_value(json_object_get(e, "id")), "secrets-out");
		CHECK_STR(json_string_value(json_object_get(e, "type")), "pattern");
		char buf[128];
		CHECK(strncmp(wd_conf_where(c, e, buf, sizeof(buf)), "conf/warden.yaml:", 17) == 0);
	}
	wd_settings_free(&s);
	wd_conf_free(c);

	rc = wd_conf_load("tests/unit/no-such-file.yaml", &c, err, sizeof(err));
	CHECK_EQ_INT(rc, WD_EIO);
	CHECK_STR(err, "tests/unit/no-such-file.yaml: cannot open: No such file or directory");
}

int main(void)
{
	RUN(scalar_typing);
	RUN(nesting_and_lines);
	RUN(json_input);
	RUN(empty_is_defaults);
	RUN(all_keys);
	RUN(size_suffixes);
	RUN(unknown_keys);
	RUN(bad_types);
	RUN(bad_enums);
	RUN(bad_hostport);
	RUN(hostport);
	RUN(yaml_refusals);
	RUN(yaml_syntax_errors);
	RUN(secrets_not_echoed);
	RUN(env_overrides);
	RUN(load_file);
	return DONE();
}
