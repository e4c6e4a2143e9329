/* metrics.h — process-wide counters and latency histograms, bumped from any thread (atomics) and
 * rendered in the Prometheus text format by the admin listener (admin/metrics.c). */
#ifndef WD_CORE_METRICS_H
#define WD_CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Histogram upper bounds in microseconds shared by every latency histogram (last: +Inf). */
#define WD_LAT_BUCKETS 12
extern const uint64_t wd_latency_bounds_us[WD_LAT_BUCKETS];

struct wd_histogram {
	_Atomic uint64_t buckets[WD_LAT_BUCKETS]; /* not cumulative: one bucket per observation */
	_Atomic uint64_t count, sum_us;
};
void wd_histogram_observe(struct wd_histogram *h, uint64_t us);

/* What happened to a request, for warden_requests_total{route, verdict}. */
enum wd_verdict_label { WD_V_ALLOW, WD_V_FLAG, WD_V_REDACT, WD_V_BLOCK, WD_V_ERROR, WD_V__COUNT };
extern const char *const wd_verdict_names[WD_V__COUNT];

#define WD_METRIC_ROUTES 10 /* enum wd_route values, plus one for paths outside /v1 */

struct wd_metrics {
	_Atomic uint64_t requests[WD_METRIC_ROUTES][WD_V__COUNT];
	struct wd_histogram upstream_latency; /* request sent → last byte */
	_Atomic uint64_t upstream_errors[3];  /* unreachable, timeout, broken stream */
	struct wd_histogram holdback_delay;   /* a streamed event's wait in the holdback queue */
	_Atomic uint64_t incidents_lost;      /* could not be written */
};
extern struct wd_metrics wd_metrics;
extern const char *const wd_upstream_error_names[3];

void wd_metrics_request(int route, enum wd_verdict_label v);
/* warden_incidents_total{checker, category, action}: label sets are kept in a small table
 * (at most 1024 distinct; later ones are counted under checker="other"). */
void wd_metrics_incident(const char *checker, const char *category, const char *action);

struct wd_incident_count {
	char checker[64], category[64], action[24];
	uint64_t count;
};
/* Copies up to max label sets; returns how many there are. */
size_t wd_metrics_incident_counts(struct wd_incident_count *out, size_t max);

#endif
