/* admin.h — the admin listener: GET /healthz, the incident REST API under /api/v1/, GET /metrics
 * (Prometheus) and the dashboard at /dashboard/. When it listens beyond loopback a bearer token is
 * required (start refused without one); with a token set, /api/ and /metrics need it. */
#ifndef WD_ADMIN_ADMIN_H
#define WD_ADMIN_ADMIN_H

#include <stddef.h>

#include "chain/chain.h"
#include "core/config.h"
#include "store/store.h"

struct wd_admin;

/* Starts the admin listener. The settings, store and chain are borrowed for its life. */
int wd_admin_start(const struct wd_settings *s, struct wd_store *st, const struct wd_chain *ch,
                   struct wd_admin **out, char *err, size_t errlen);
/* Marks warden ready (healthz answers 200) or draining (503). */
void wd_admin_set_ready(struct wd_admin *a, int ready);
void wd_admin_stop(struct wd_admin *a);

/* 1 when host (as in "host:port") is a loopback address or "localhost". */
int wd_is_loopback(const char *hostport);

#endif
