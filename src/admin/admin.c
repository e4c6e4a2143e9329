/* admin.c — the admin listener (libmicrohttpd, its own internal thread); see admin.h. */
#include "admin/admin.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "http/proxy.h"

struct wd_admin {
	struct MHD_Daemon *mhd;
	const struct wd_settings *s;
	atomic_int ready;
};

int wd_is_loopback(const char *hostport)
{
	char host[256];
	unsigned short port;
	if (wd_parse_hostport(hostport, host, sizeof host, &port))
		return 0;
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "::1") == 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *json)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(json), (void *)json, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_admin(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls)
{
	struct wd_admin *a = cls;
	if (!*con_cls) { /* first call: headers only */
		*con_cls = a;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/healthz") == 0) {
		if (atomic_load(&a->ready))
			return reply(c, 200, "{\"status\":\"ok\"}");
		return reply(c, 503, "{\"status\":\"draining\"}");
	}
	return reply(c, 404,
	             "{\"error\":{\"message\":\"unknown admin path\",\"type\":"
	             "\"invalid_request_error\",\"code\":\"not_found\",\"param\":null}}");
}

int wd_admin_start(const struct wd_settings *s, struct wd_store *st, const struct wd_chain *ch,
		   struct wd_admin **out, char *err, size_t errlen)
{
	if (!wd_is_loopback(s->admin_listen) && (!s->admin_token || !s->admin_token[0])) {
		snprintf(err, errlen,
		         "admin listener %s is not loopback: set admin.token (or "
		         "WARDEN_ADMIN_TOKEN) so the admin API is not open to the network",
		         s->admin_listen);
		return WD_EINVAL;
	}
	int fd = wd_listen_socket(s->admin_listen, 0, err, errlen);
	if (fd < 0)
		return WD_EIO;
	struct wd_admin *a = calloc(1, sizeof *a);
	if (!a) {
		close(fd);
		return WD_ENOMEM;
	}
	a->s = s;
	a->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
	                          on_admin, a, MHD_OPTION_LISTEN_SOCKET, fd,
	                          MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
	if (!a->mhd) {
		snprintf(err, errlen, "cannot start the admin server on %s", s->admin_listen);
		close(fd);
		free(a);
		return WD_EIO;
	}
	*out = a;
	return WD_OK;
}

void wd_admin_set_ready(struct wd_admin *a, int ready)
{
	atomic_store(&a->ready, ready);
}

void wd_admin_stop(struct wd_admin *a)
{
	if (!a)
		return;
	MHD_stop_daemon(a->mhd);
	free(a);
}
