/* metrics.c — the process-wide counters; see metrics.h. */
#include "core/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

const uint64_t wd_latency_bounds_us[WD_LAT_BUCKETS] = {
    10, 50, 100, 250, 500, 1000, 2500, 10000, 50000, 250000, 1000000, UINT64_MAX};
const char *const wd_verdict_names[WD_V__COUNT] = {"allow", "flag", "redact", "block", "error"};
const char *const wd_upstream_error_names[3] = {"unreachable", "timeout", "broken_stream"};

struct wd_metrics wd_metrics;

void wd_histogram_observe(struct wd_histogram *h, uint64_t us)
{
	int k = 0;
	while (us > wd_latency_bounds_us[k])
		k++;
	h->buckets[k]++;
	h->count++;
	h->sum_us += us;
}

void wd_metrics_request(int route, enum wd_verdict_label v)
{
	if (route < 0 || route >= WD_METRIC_ROUTES)
		route = WD_METRIC_ROUTES - 1;
	wd_metrics.requests[route][v]++;
}

#define MAX_LABEL_SETS 1024

static struct wd_incident_count sets[MAX_LABEL_SETS];
static size_t nsets;
static pthread_mutex_t sets_lock = PTHREAD_MUTEX_INITIALIZER;

void wd_metrics_incident(const char *checker, const char *category, const char *action)
{
	pthread_mutex_lock(&sets_lock);
	size_t i;
	for (i = 0; i < nsets; i++) {
		if (strcmp(sets[i].checker, checker) == 0 &&
		    strcmp(sets[i].category, category) == 0 && strcmp(sets[i].action, action) == 0)
			break;
	}
	if (i == nsets) {
		if (nsets == MAX_LABEL_SETS) {
			i = MAX_LABEL_SETS - 1; /* the overflow bucket */
			snprintf(sets[i].checker, sizeof sets[i].checker, "other");
			sets[i].category[0] = sets[i].action[0] = '\0';
		} else {
			snprintf(sets[i].checker, sizeof sets[i].checker, "%s", checker);
			snprintf(sets[i].category, sizeof sets[i].category, "%s", category);
			snprintf(sets[i].action, sizeof sets[i].action, "%s", action);
			nsets++;
		}
	}
	sets[i].count++;
	pthread_mutex_unlock(&sets_lock);
}

size_t wd_metrics_incident_counts(struct wd_incident_count *out, size_t max)
{
	pthread_mutex_lock(&sets_lock);
	size_t n = nsets < max ? nsets : max;
	memcpy(out, sets, n * sizeof *out);
	size_t total = nsets;
	pthread_mutex_unlock(&sets_lock);
	return total;
}
