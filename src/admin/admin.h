/* admin.h — the admin listener: GET /healthz now; the incident API, metrics and dashboard are
 * served here too. When it listens beyond loopback a bearer token is required (start refused
 * without one). */
#ifndef WD_ADMIN_ADMIN_H
#define WD_ADMIN_ADMIN_H

#include <stddef.h>

#include "core/config.h"

struct wd_admin;

int wd_admin_start(const struct wd_settings *s, struct wd_admin **out, char *err, size_t errlen);
/* Marks warden ready (healthz answers 200) or draining (503). */
void wd_admin_set_ready(struct wd_admin *a, int ready);
void wd_admin_stop(struct wd_admin *a);

/* 1 when host (as in "host:port") is a loopback address or "localhost". */
int wd_is_loopback(const char *hostport);

#endif
