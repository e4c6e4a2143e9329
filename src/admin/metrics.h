/* metrics.h — process-wide counters and histograms, rendered in the Prometheus text format at
 * GET /metrics on the admin listener. Counters are atomics: any thread may bump them. */
#ifndef WD_ADMIN_METRICS_H
#define WD_ADMIN_METRICS_H

#include <stdint.h>

#include "chain/chain.h"
#include "core/buf.h"
#include "openai/exchange.h"

struct wd_store;

/* What happened to a request, for warden_requests_total{route, verdict}. */
enum wd_verdict_label { WD_V_ALLOW, WD_V_FLAG, WD_V_REDACT, WD_V_BLOCK, WD_V_ERROR, WD_V__COUNT };

void wd_metrics_request(enum wd_route route, enum wd_verdict_label v);
/* An incident recorded (labels: checker, category, action). */
void wd_metrics_incident(const char *checker, const char *category, const char *action);
/* Upstream latency to the last byte, and errors by kind ("unreachable", "timeout", "status_5xx"). */
void wd_metrics_upstream(uint64_t latency_us);
void wd_metrics_upstream_error(const char *kind);
/* How long a streamed event waited in the holdback queue before release. */
void wd_metrics_holdback(uint64_t delay_us);

/* Appends the whole exposition: the above, per-checker calls/incidents/errors/timeouts and
 * latency histograms from the chain, and the store's queue depth and commit latency. */
int wd_metrics_render(struct wd_buf *out, const struct wd_chain *ch, struct wd_store *st);

#endif
