/* metrics.h (admin) — renders GET /metrics in the Prometheus text format (version 0.0.4) from the
 * process-wide counters (core/metrics.h), the chain's per-checker counters and latency
 * histograms, and the store's queue and commit latency. */
#ifndef WD_ADMIN_METRICS_H
#define WD_ADMIN_METRICS_H

#include "chain/chain.h"
#include "core/buf.h"
#include "core/metrics.h"

struct wd_store;

/* Appends the whole exposition to out. st may be NULL. */
int wd_metrics_render(struct wd_buf *out, const struct wd_chain *ch, struct wd_store *st);

#endif
