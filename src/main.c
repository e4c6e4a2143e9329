/* main.c — the warden command line: serve (the guard proxy), mock (the fake model), version.
 * Later subcommands (eval, train, redteam, drift, migrate) hang off the same table. */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/admin.h"
#include "chain/chain.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "detect/charlm.h"
#include "detect/eval_cmd.h"
#include "detect/train_cmd.h"
#include "http/proxy.h"
#include "mock/mock.h"
#include "store/store.h"

#define WD_VERSION     "0.1.0"
#define DEFAULT_CONFIG "conf/warden.yaml"
#define DRAIN_MS       30000

static void usage(FILE *f)
{
	fputs("usage: warden serve [-c FILE] [--listen HOST:PORT] [--upstream URL]\n"
	      "                    [--admin-listen HOST:PORT] [--db PATH] [--threads N]\n"
	      "       warden mock [--listen HOST:PORT] [--threads N]\n"
	      "       warden migrate [--db PATH] [-c FILE]\n"
	      "       warden train --data FILE.jsonl ... --classes A,B --out FILE.model [...]\n"
	      "       warden eval [-c CONFIG] --checker ID[,ID] --data FILE.jsonl ... [...]\n"
	      "       warden charlm [--label L,...] --data FILE.jsonl ... --out FILE.model\n"
	      "       warden version\n"
	      "\n"
	      "serve  the guard proxy (defaults: listen 127.0.0.1:8080, admin 127.0.0.1:8081,\n"
	      "       upstream http://127.0.0.1:8090, config ./conf/warden.yaml when present)\n"
	      "mock   an OpenAI-compatible fake model (default 127.0.0.1:8090)\n",
	      f);
}

/* Replaces *dst (owned) with a copy of v. */
static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
}

static int serve(int argc, char **argv)
{
	const char *conf_path = NULL;
	const char *listen = NULL, *upstream = NULL, *admin = NULL, *db = NULL, *threads = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ? &conf_path
		                    : strcmp(a, "--listen") == 0                       ? &listen
		                    : strcmp(a, "--upstream") == 0                     ? &upstream
		                    : strcmp(a, "--admin-listen") == 0                 ? &admin
		                    : strcmp(a, "--db") == 0                           ? &db
		                    : strcmp(a, "--threads") == 0                      ? &threads
		                                                                       : NULL;
		if (!slot || i + 1 >= argc) {
			fprintf(stderr, "warden serve: %s %s\n", a,
			        slot ? "needs a value" : "is not an option");
			usage(stderr);
			return 2;
		}
		*slot = argv[++i];
	}
	char err[1024];
	struct wd_conf *conf = NULL;
	if (!conf_path && access(DEFAULT_CONFIG, R_OK) == 0)
		conf_path = DEFAULT_CONFIG;
	if (conf_path) {
		if (wd_conf_load(conf_path, &conf, err, sizeof err)) {
			fprintf(stderr, "warden: %s\n", err);
			return 1;
		}
	} else {
		conf = wd_conf_empty("(defaults)");
	}
	struct wd_settings s;
	if (wd_settings_load(conf, &s, err, sizeof err)) {
		fprintf(stderr, "warden: %s\n", err);
		wd_conf_free(conf);
		return 1;
	}
	char host[256];
	unsigned short port;
	if ((listen && wd_parse_hostport(listen, host, sizeof host, &port)) ||
	    (admin && wd_parse_hostport(admin, host, sizeof host, &port))) {
		fprintf(stderr, "warden serve: %s: want HOST:PORT\n",
		        listen && wd_parse_hostport(listen, host, sizeof host, &port)
		            ? "--listen"
		            : "--admin-listen");
		goto out_conf;
	}
	if (upstream && strncmp(upstream, "http://", 7) != 0 &&
	    strncmp(upstream, "https://", 8) != 0) {
		fprintf(stderr, "warden serve: --upstream: want an http:// or https:// URL\n");
		goto out_conf;
	}
	if (listen)
		set_str(&s.listen, listen);
	if (upstream) {
		set_str(&s.upstream_url, upstream);
		size_t n = strlen(s.upstream_url);
		while (n > 8 && s.upstream_url[n - 1] == '/')
			s.upstream_url[--n] = '\0';
	}
	if (admin)
		set_str(&s.admin_listen, admin);
	if (db)
		set_str(&s.db_path, db);
	if (threads) {
		char *end;
		long n = strtol(threads, &end, 10);
		if (*end || n < 0 || n > 256) {
			fprintf(stderr,
			        "warden serve: --threads must be an integer from 0 to 256\n");
			goto out_conf;
		}
		s.threads = (int)n;
	}
	wd_log_threshold = s.log_level;
	wd_log_json = s.log_json;

	int status = 1;
	struct wd_chain *chain = NULL;
	struct wd_proxy *proxy = NULL;
	struct wd_admin *adm = NULL;
	struct wd_store *store = NULL;
	if (wd_chain_build(conf, s.checkers, &chain, err, sizeof err)) {
		fprintf(stderr, "warden: %s\n", err);
		goto out;
	}
	/* Signals are taken by this thread alone (sigwait); the I/O threads inherit the mask. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct wd_store_opts so = {
	    .path = s.db_path, .sync = s.sync, .retention_days = s.retention_days};
	if (wd_store_open(&so, &store, err, sizeof err) ||
	    wd_admin_start(&s, store, chain, &adm, err, sizeof err) ||
	    wd_proxy_start(&s, chain, store, &proxy, err, sizeof err)) {
		fprintf(stderr, "warden: %s\n", err);
		goto out;
	}
	wd_admin_set_ready(adm, 1);
	wd_info(NULL,
	        "warden %s listening on http://%s (upstream %s), admin on http://%s, %zu checkers",
	        WD_VERSION, s.listen, s.upstream_url, s.admin_listen, wd_chain_size(chain));
	int sig = 0;
	sigwait(&set, &sig);
	wd_info(NULL, "%s: draining in-flight requests", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	wd_admin_set_ready(adm, 0);
	wd_proxy_stop(proxy, DRAIN_MS);
	proxy = NULL;
	wd_info(NULL, "stopped");
	status = 0;
out:
	wd_proxy_stop(proxy, 0);
	wd_admin_stop(adm);
	wd_store_close(store); /* writes what is still queued */
	wd_chain_free(chain);
	wd_settings_free(&s);
	wd_conf_free(conf);
	return status;
out_conf:
	wd_settings_free(&s);
	wd_conf_free(conf);
	return 2;
}

/* `warden migrate [--db PATH | -c FILE]`: applies pending schema migrations and exits. */
static int migrate(int argc, char **argv)
{
	const char *db = NULL, *conf_path = NULL;
	for (int i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--db") == 0)
			db = argv[i + 1];
		else if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
			conf_path = argv[i + 1];
		else
			break;
	}
	if (argc % 2) {
		fprintf(stderr, "usage: warden migrate [--db PATH] [-c FILE]\n");
		return 2;
	}
	char err[1024];
	struct wd_conf *conf = NULL;
	struct wd_settings s = {0};
	if (!conf_path && access(DEFAULT_CONFIG, R_OK) == 0)
		conf_path = DEFAULT_CONFIG;
	if (conf_path ? wd_conf_load(conf_path, &conf, err, sizeof err)
	              : !(conf = wd_conf_empty("(defaults)"))) {
		fprintf(stderr, "warden: %s\n", err);
		return 1;
	}
	int rc = wd_settings_load(conf, &s, err, sizeof err);
	int from = 0, to = 0;
	if (rc == 0)
		rc = wd_store_migrate(db ? db : s.db_path, &from, &to, err, sizeof err);
	if (rc)
		fprintf(stderr, "warden: %s\n", err);
	else
		printf("%s: schema version %d -> %d\n", db ? db : s.db_path, from, to);
	wd_settings_free(&s);
	wd_conf_free(conf);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const char *cmd = argv[1];
	int rc;
	if (strcmp(cmd, "serve") == 0) {
		rc = serve(argc - 2, argv + 2);
	} else if (strcmp(cmd, "migrate") == 0) {
		rc = migrate(argc - 2, argv + 2);
	} else if (strcmp(cmd, "mock") == 0) {
		rc = wd_mock_main(argc - 2, argv + 2);
	} else if (strcmp(cmd, "eval") == 0) {
		rc = wd_eval_main(argc - 2, argv + 2);
	} else if (strcmp(cmd, "train") == 0) {
		rc = wd_train_main(argc - 2, argv + 2);
	} else if (strcmp(cmd, "charlm") == 0) {
		rc = wd_charlm_main(argc - 2, argv + 2);
	} else if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("warden %s (libcurl %s)\n", WD_VERSION,
		       curl_version_info(CURLVERSION_NOW)->version);
		rc = 0;
	} else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	           strcmp(cmd, "-h") == 0) {
		usage(stdout);
		rc = 0;
	} else {
		fprintf(stderr, "warden: unknown command \"%s\"\n", cmd);
		usage(stderr);
		rc = 2;
	}
	curl_global_cleanup();
	return rc;
}
