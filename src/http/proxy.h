/* proxy.h — the guard proxy: N I/O threads, each owning a libmicrohttpd daemon in external
 * epoll mode and a libcurl multi handle on one epoll loop, so a transaction lives on one thread
 * and needs no locks; SO_REUSEPORT spreads connections over the threads. Every request runs
 * the request phase of the chain, goes upstream, and its answer (whole, or streamed event by
 * event behind the holdback window) runs the response phase before any byte reaches the client. */
#ifndef WD_HTTP_PROXY_H
#define WD_HTTP_PROXY_H

#include <signal.h>

#include "chain/chain.h"
#include "core/config.h"
#include "store/store.h"

struct wd_proxy;

/* Binds the listener (errors like "cannot listen on 127.0.0.1:8080: Address already in use" go
 * to err) and starts the I/O threads. The settings, chain and store are borrowed for the proxy's
 * life; every incident goes to the store (NULL: only logged), and an answer that caused one is
 * finished only after its commit. */
int wd_proxy_start(const struct wd_settings *s, const struct wd_chain *ch, struct wd_store *st,
                   struct wd_proxy **out, char *err, size_t errlen);
/* Stops accepting, lets in-flight transactions finish (at most drain_ms), then stops the
 * threads and frees the proxy. */
void wd_proxy_stop(struct wd_proxy *p, long drain_ms);

/* Opens a listening TCP socket on "host:port" (SO_REUSEADDR, and SO_REUSEPORT when reuseport).
 * Returns the fd, or -1 with a message in err. Shared with the admin listener and the mock. */
int wd_listen_socket(const char *hostport, int reuseport, char *err, size_t errlen);

#endif
