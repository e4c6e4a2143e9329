/* metrics.c (admin) — the Prometheus text exposition; see metrics.h. Label values are escaped
 * (backslash, quote, newline) as the format requires. */
#include "admin/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "openai/exchange.h"
#include "store/store.h"

/* Appends s as a label value. */
static void label(struct wd_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			wd_buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			wd_buf_appendz(b, "\\n");
		else
			wd_buf_append(b, s, 1);
	}
}

static void help(struct wd_buf *b, const char *name, const char *type, const char *text)
{
	wd_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* A histogram from per-bucket (not cumulative) counts in microseconds, written in seconds.
 * labels is "" or `key="value",` pairs without the braces. */
static void histogram(struct wd_buf *b, const char *name, const char *labels,
                      const uint64_t *buckets, const uint64_t *bounds, int nb, uint64_t sum_us)
{
	uint64_t cum = 0;
	for (int k = 0; k < nb; k++) {
		cum += buckets[k];
		if (bounds[k] == UINT64_MAX)
			wd_buf_printf(b, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels,
			              (unsigned long long)cum);
		else
			wd_buf_printf(b, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels,
			              (double)bounds[k] / 1e6, (unsigned long long)cum);
	}
	size_t n = strlen(labels);
	if (n == 0) {
		wd_buf_printf(b, "%s_sum %g\n%s_count %llu\n", name, (double)sum_us / 1e6, name,
		              (unsigned long long)cum);
		return;
	}
	/* the same labels without their trailing comma */
	wd_buf_printf(b, "%s_sum{%.*s} %g\n%s_count{%.*s} %llu\n", name, (int)(n - 1), labels,
	              (double)sum_us / 1e6, name, (int)(n - 1), labels, (unsigned long long)cum);
}

static void core_histogram(struct wd_buf *b, const char *name, struct wd_histogram *h)
{
	uint64_t buckets[WD_LAT_BUCKETS];
	for (int k = 0; k < WD_LAT_BUCKETS; k++)
		buckets[k] = h->buckets[k];
	histogram(b, name, "", buckets, wd_latency_bounds_us, WD_LAT_BUCKETS, h->sum_us);
}

int wd_metrics_render(struct wd_buf *out, const struct wd_chain *ch, struct wd_store *st)
{
	help(out, "warden_requests_total", "counter", "Requests by route and verdict.");
	for (int r = 0; r < WD_METRIC_ROUTES; r++) {
		const char *route =
		    r < WD_ROUTE__COUNT ? wd_route_name((enum wd_route)r) : "unrouted";
		for (int v = 0; v < WD_V__COUNT; v++) {
			uint64_t n = wd_metrics.requests[r][v];
			if (n)
				wd_buf_printf(out,
				              "warden_requests_total{route=\"%s\",verdict=\"%s\"} "
				              "%llu\n",
				              route, wd_verdict_names[v], (unsigned long long)n);
		}
	}

	help(out, "warden_incidents_total", "counter",
	     "Incidents by checker, category and action.");
	struct wd_incident_count *sets = calloc(1024, sizeof *sets);
	if (sets) {
		size_t n = wd_metrics_incident_counts(sets, 1024);
		for (size_t i = 0; i < n && i < 1024; i++) {
			wd_buf_appendz(out, "warden_incidents_total{checker=\"");
			label(out, sets[i].checker);
			wd_buf_appendz(out, "\",category=\"");
			label(out, sets[i].category);
			wd_buf_appendz(out, "\",action=\"");
			label(out, sets[i].action);
			wd_buf_printf(out, "\"} %llu\n", (unsigned long long)sets[i].count);
		}
		free(sets);
	}

	if (ch) {
		size_t n = wd_chain_size(ch);
		struct wd_entry_stats *es = calloc(n ? n : 1, sizeof *es);
		if (es) {
			wd_chain_stats(ch, es, n);
			static const char *const kinds[] = {"calls", "incidents", "errors",
			                                    "timeouts"};
			for (int k = 0; k < 4; k++) {
				char name[64];
				snprintf(name, sizeof name, "warden_checker_%s_total", kinds[k]);
				help(out, name, "counter", "Checker calls and how they ended.");
				for (size_t i = 0; i < n; i++) {
					uint64_t v = k == 0   ? es[i].calls
					             : k == 1 ? es[i].incidents
					             : k == 2 ? es[i].errors
					                      : es[i].timeouts;
					wd_buf_printf(out, "%s{checker=\"", name);
					label(out, es[i].id);
					wd_buf_printf(out, "\",type=\"%s\"} %llu\n", es[i].type,
					              (unsigned long long)v);
				}
			}
			help(out, "warden_checker_latency_seconds", "histogram",
			     "Time spent in one checker call.");
			for (size_t i = 0; i < n; i++) {
				struct wd_buf lb;
				wd_buf_init(&lb, 512);
				wd_buf_appendz(&lb, "checker=\"");
				label(&lb, es[i].id);
				wd_buf_appendz(&lb, "\",");
				histogram(out, "warden_checker_latency_seconds",
				          lb.data ? lb.data : "", es[i].latency_buckets,
				          wd_latency_bounds_us, WD_LAT_BUCKETS,
				          es[i].latency_us_total);
				wd_buf_free(&lb);
			}
			free(es);
		}
	}

	help(out, "warden_upstream_latency_seconds", "histogram",
	     "Upstream time from request sent to last byte.");
	core_histogram(out, "warden_upstream_latency_seconds", &wd_metrics.upstream_latency);
	help(out, "warden_upstream_errors_total", "counter", "Upstream failures by kind.");
	for (int k = 0; k < 3; k++)
		wd_buf_printf(out, "warden_upstream_errors_total{kind=\"%s\"} %llu\n",
		              wd_upstream_error_names[k],
		              (unsigned long long)wd_metrics.upstream_errors[k]);
	help(out, "warden_holdback_delay_seconds", "histogram",
	     "How long a streamed event waited in the holdback queue.");
	core_histogram(out, "warden_holdback_delay_seconds", &wd_metrics.holdback_delay);

	if (st) {
		struct wd_store_counters c;
		wd_store_counters(st, &c);
		help(out, "warden_store_queue_depth", "gauge", "Incidents waiting to be written.");
		wd_buf_printf(out, "warden_store_queue_depth %llu\n",
		              (unsigned long long)c.queue_depth);
		help(out, "warden_store_incidents_written_total", "counter",
		     "Incidents committed to SQLite.");
		wd_buf_printf(out, "warden_store_incidents_written_total %llu\n",
		              (unsigned long long)c.committed);
		help(out, "warden_store_incidents_lost_total", "counter",
		     "Incidents that could not be written.");
		wd_buf_printf(out, "warden_store_incidents_lost_total %llu\n",
		              (unsigned long long)(c.failed + wd_metrics.incidents_lost));
		help(out, "warden_store_commit_seconds", "histogram",
		     "Latency of one group commit.");
		histogram(out, "warden_store_commit_seconds", "", c.commit_us_buckets,
		          wd_store_commit_bounds_us, 12, c.commit_us_total);
	}
	return out->len < out->max ? WD_OK : WD_ETOOBIG;
}
