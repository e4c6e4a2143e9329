/* mock.c — `warden mock`: the HTTP side of the fake OpenAI upstream. libmicrohttpd runs a pool of
 * epoll threads (one per core by default) with keep-alive; each request's body is collected
 * into a bounded buffer, answered by api.c, and sent whole or, for streams, one SSE event per
 * HTTP chunk. Request headers give tests control over timing and failures:
 *   x-mock-delay-ms: N        wait N ms before the status line
 *   x-mock-chunk-delay-ms: N  one stream event per HTTP chunk, N ms apart (0: no wait)
 *   x-mock-status: N          answer status N (>= 400) with an OpenAI-style error
 *   x-mock-abort-after: N     close the connection after N stream events (a broken upstream)
 * It runs until SIGINT or SIGTERM and then stops cleanly (exit status 0). */
#include "mock/mock.h"

#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "mock/mock_int.h"

#define STREAM_BLOCK   16384
#define MAX_CONNS      16384
#define MAX_DELAY_MS   600000L
#define IDLE_TIMEOUT_S 120

/* ---- delays that do not block a pool thread ----
 * Each MHD pool thread serves many connections, so sleeping in the handler or in the content
 * reader would stall all of them (and a benchmark with delays would measure the mock). Instead
 * the connection is suspended (MHD allows MHD_suspend_connection from the access handler and
 * the content reader) and one timer thread resumes it at its deadline; MHD then calls the
 * handler or the reader again and it goes on. A delayed connection costs one heap entry. */

struct timer_ent {
	uint64_t due; /* CLOCK_MONOTONIC ms */
	struct MHD_Connection *conn;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct timer_ent *heap; /* min-heap on due */
	size_t n, cap;
	int stopping; /* no new suspensions: MHD_stop_daemon forbids suspended connections */
	pthread_t thread;
} timers = {.mu = PTHREAD_MUTEX_INITIALIZER};

static atomic_ulong req_seq;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void heap_push(struct timer_ent e)
{
	size_t i = timers.n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (timers.heap[parent].due <= e.due)
			break;
		timers.heap[i] = timers.heap[parent];
		i = parent;
	}
	timers.heap[i] = e;
}

static struct MHD_Connection *heap_pop(void)
{
	struct MHD_Connection *top = timers.heap[0].conn;
	struct timer_ent last = timers.heap[--timers.n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= timers.n)
			break;
		if (c + 1 < timers.n && timers.heap[c + 1].due < timers.heap[c].due)
			c++;
		if (last.due <= timers.heap[c].due)
			break;
		timers.heap[i] = timers.heap[c];
		i = c;
	}
	if (timers.n)
		timers.heap[i] = last;
	return top;
}

/* Suspends conn and schedules its resumption in ms. Returns 0, or -1 when it could not (the
 * mock is stopping, or no memory): the caller then goes on without the delay. Must be called
 * from the access handler or the content reader of conn. */
static int timer_suspend(struct MHD_Connection *conn, long ms)
{
	int rc = -1;
	pthread_mutex_lock(&timers.mu);
	if (timers.stopping)
		goto out;
	if (timers.n == timers.cap) {
		size_t cap = timers.cap ? 2 * timers.cap : 256;
		struct timer_ent *h = realloc(timers.heap, cap * sizeof *h);
		if (!h)
			goto out;
		timers.heap = h;
		timers.cap = cap;
	}
	/* suspend before the entry is visible, so the timer never resumes a running connection */
	MHD_suspend_connection(conn);
	heap_push((struct timer_ent){now_ms() + (uint64_t)ms, conn});
	if (timers.heap[0].conn == conn)
		pthread_cond_signal(&timers.cv);
	rc = 0;
out:
	pthread_mutex_unlock(&timers.mu);
	return rc;
}

static void *timer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&timers.mu);
	while (!timers.stopping) {
		if (timers.n == 0) {
			pthread_cond_wait(&timers.cv, &timers.mu);
			continue;
		}
		uint64_t due = timers.heap[0].due;
		if (due <= now_ms()) {
			struct MHD_Connection *c = heap_pop();
			pthread_mutex_unlock(&timers.mu);
			MHD_resume_connection(c);
			pthread_mutex_lock(&timers.mu);
			continue;
		}
		struct timespec ts = {.tv_sec = (time_t)(due / 1000),
		                      .tv_nsec = (long)(due % 1000) * 1000000};
		pthread_cond_timedwait(&timers.cv, &timers.mu, &ts);
	}
	/* stopping: resume everything so that MHD_stop_daemon finds no suspended connection */
	while (timers.n)
		MHD_resume_connection(heap_pop());
	pthread_mutex_unlock(&timers.mu);
	return NULL;
}

static int timers_start(void)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(&timers.cv, &ca);
	pthread_condattr_destroy(&ca);
	if (rc)
		return WD_EIO;
	timers.stopping = 0;
	if (pthread_create(&timers.thread, NULL, timer_main, NULL)) {
		pthread_cond_destroy(&timers.cv);
		return WD_EIO;
	}
	return WD_OK;
}

static void timers_stop(void)
{
	pthread_mutex_lock(&timers.mu);
	timers.stopping = 1;
	pthread_cond_signal(&timers.cv);
	pthread_mutex_unlock(&timers.mu);
	pthread_join(timers.thread, NULL);
	pthread_cond_destroy(&timers.cv);
	free(timers.heap);
	timers.heap = NULL;
	timers.n = timers.cap = 0;
}

/* ---- requests ---- */

struct conn_state {
	struct wd_buf body;
	long delay_ms, chunk_delay_ms, abort_after, status;
	int delayed;
	int too_big;
};

struct stream {
	struct wd_mock_reply r; /* owns the events */
	struct MHD_Connection *conn;
	size_t idx, off; /* next event, and how much of it was sent */
	long chunk_delay_ms, abort_after;
	int slept; /* the delay before event idx is over */
};

static long header_num(struct MHD_Connection *c, const char *name, long min, long max, long dflt)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
	if (!v)
		return dflt;
	char *end;
	long n = strtol(v, &end, 10);
	if (end == v || n < min)
		return dflt;
	return n > max ? max : n;
}

/* Content reader of a stream. With x-mock-chunk-delay-ms (0 included) each call gives one SSE
 * event, so each reaches the client as its own HTTP chunk, as a model server flushing every
 * token does. Without it, as many whole events as fit go out per chunk: a chunk costs MHD a
 * trip through epoll and a send(2), and one per event made streams 15x slower than whole
 * answers, which matters when the mock is the upstream of a benchmark. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	size_t out = 0;
	(void)pos;
	while (s->idx < s->r.nends && out < max) {
		if (s->off == 0 && s->abort_after >= 0 && s->idx >= (size_t)s->abort_after) {
			if (out)
				break; /* send what is ready, fail on the next call */
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		if (s->off == 0 && s->idx > 0 && s->chunk_delay_ms > 0 && !s->slept) {
			s->slept = 1;
			if (timer_suspend(s->conn, s->chunk_delay_ms) == 0)
				return 0; /* called again once resumed */
		}
		size_t start = s->idx ? s->r.ends[s->idx - 1] : 0;
		size_t left = s->r.ends[s->idx] - start - s->off;
		if (out && s->off == 0 && left > max - out)
			break; /* an event is never split when it can go whole next time */
		size_t n = left < max - out ? left : max - out;
		memcpy(buf + out, s->r.sse.data + start + s->off, n);
		s->off += n;
		out += n;
		if (n < left)
			break;
		s->idx++;
		s->off = 0;
		s->slept = 0;
		if (s->chunk_delay_ms >= 0)
			break; /* one event per chunk */
	}
	if (out == 0 && s->idx >= s->r.nends)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return (ssize_t)out;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	wd_mock_reply_free(&s->r);
	free(s);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct conn_state *cs,
                                  struct wd_mock_reply *r)
{
	struct MHD_Response *resp;
	if (r->stream) {
		struct stream *s = calloc(1, sizeof *s);
		if (!s)
			return MHD_NO;
		s->r = *r; /* moves the events */
		memset(r, 0, sizeof *r);
		s->conn = conn;
		s->chunk_delay_ms = cs->chunk_delay_ms;
		s->abort_after = cs->abort_after;
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
		                                         stream_read, s, stream_free);
		if (!resp) {
			stream_free(s);
			return MHD_NO;
		}
		MHD_add_response_header(resp, "Cache-Control", "no-cache");
		MHD_add_response_header(resp, "Content-Type", "text/event-stream");
		r->status = 200;
	} else {
		resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
		if (!resp)
			return MHD_NO;
		r->body = NULL;
		MHD_add_response_header(resp, "Content-Type", r->content_type);
	}
	char rid[40];
	snprintf(rid, sizeof rid, "req_mock%lu", (unsigned long)atomic_fetch_add(&req_seq, 1) + 1);
	MHD_add_response_header(resp, "x-request-id", rid);
	enum MHD_Result ret = MHD_queue_response(conn, r->status ? r->status : 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	struct conn_state *cs = *con_cls;
	(void)cls;
	(void)version;
	if (!cs) {
		cs = calloc(1, sizeof *cs);
		if (!cs)
			return MHD_NO;
		wd_buf_init(&cs->body, WD_MOCK_BODY_MAX);
		cs->delay_ms = header_num(conn, "x-mock-delay-ms", 0, MAX_DELAY_MS, 0);
		/* -1 (absent): events packed per chunk; 0: one event per chunk, no sleep */
		cs->chunk_delay_ms = header_num(conn, "x-mock-chunk-delay-ms", 0, MAX_DELAY_MS, -1);
		cs->status = header_num(conn, "x-mock-status", 0, 599, 0);
		cs->abort_after = header_num(conn, "x-mock-abort-after", 0, LONG_MAX, -1);
		*con_cls = cs;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!cs->too_big && wd_buf_append(&cs->body, upload, *upload_size)) {
			cs->too_big = 1; /* read and drop the rest, then answer 413 */
			wd_buf_free(&cs->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (cs->delay_ms > 0 && !cs->delayed) {
		cs->delayed = 1;
		if (timer_suspend(conn, cs->delay_ms) == 0)
			return MHD_YES; /* called again once resumed */
	}

	struct wd_mock_reply r;
	wd_mock_reply_init(&r);
	int rc;
	if (cs->too_big) {
		rc = wd_mock_api_error(&r, 413, "invalid_request_error", "request_too_large", NULL,
		                       "The request body is larger than the mock's 32 MiB limit.");
	} else if (cs->status >= 400) {
		char msg[96];
		snprintf(msg, sizeof msg, "mock: status %ld requested by x-mock-status",
		         cs->status);
		int limit = cs->status == 429;
		rc = wd_mock_api_error(&r, (unsigned)cs->status,
		                       limit               ? "requests"
		                       : cs->status >= 500 ? "server_error"
		                                           : "invalid_request_error",
		                       limit ? "rate_limit_exceeded" : NULL, NULL, msg);
	} else {
		struct wd_mock_request rq = {
		    .method = method,
		    .path = url,
		    .content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		                                                MHD_HTTP_HEADER_CONTENT_TYPE),
		    .body = cs->body.data,
		    .len = cs->body.len,
		};
		rc = wd_mock_api_handle(&rq, &r);
	}
	enum MHD_Result ret = MHD_NO;
	if (rc)
		wd_error(NULL, "mock: %s %s: %s", method, url, wd_strerror(rc));
	else
		ret = send_reply(conn, cs, &r);
	wd_mock_reply_free(&r);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct conn_state *cs = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (!cs)
		return;
	wd_buf_free(&cs->body);
	free(cs);
	*con_cls = NULL;
}

/* Set once the daemon runs: MHD's messages from then on are mostly clients that went away
 * mid-answer (every benchmark's end), so they drop to debug; start-up ones (bind) stay warnings. */
static atomic_int mhd_started;

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	if (atomic_load(&mhd_started))
		wd_debug(NULL, "mock: libmicrohttpd: %s", msg);
	else
		wd_warn(NULL, "mock: libmicrohttpd: %s", msg);
}

/* ---- command line ---- */

static void usage(FILE *f)
{
	fprintf(f, "usage: warden mock [--listen HOST:PORT] [--threads N]\n"
	           "  --listen   address to serve on (default 127.0.0.1:8090; port 0 picks one)\n"
	           "  --threads  I/O threads (default: number of cores)\n"
	           "Personas (the request's model): mock-aligned (default), mock-echo,\n"
	           "mock-sleeper, mock-drifted, mock-vision-tools.\n");
}

/* Splits HOST:PORT or [V6HOST]:PORT. */
static int split_listen(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon;
	size_t hlen;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return WD_EINVAL;
		hlen = (size_t)(close - s - 1);
		colon = close + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return WD_EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= hcap || strlen(colon + 1) == 0 || strlen(colon + 1) >= pcap)
		return WD_EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	return WD_OK;
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static unsigned conn_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return MAX_CONNS;
	if (rl.rlim_cur < 128)
		return 64;
	return rl.rlim_cur - 64 < MAX_CONNS ? (unsigned)(rl.rlim_cur - 64) : MAX_CONNS;
}

int wd_mock_main(int argc, char **argv)
{
	const char *listen = "127.0.0.1:8090";
	long threads = sysconf(_SC_NPROCESSORS_ONLN);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		size_t klen = strcspn(a, "=");
		if (a[klen] == '=')
			val = a + klen + 1;
		else if (i + 1 < argc &&
		         (strcmp(a, "--listen") == 0 || strcmp(a, "--threads") == 0))
			val = argv[++i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (val && strncmp(a, "--listen", klen) == 0 && klen == 8) {
			listen = val;
		} else if (val && strncmp(a, "--threads", klen) == 0 && klen == 9) {
			char *end;
			threads = strtol(val, &end, 10);
			if (end == val || *end || threads < 1 || threads > 1024) {
				fprintf(stderr,
				        "warden mock: --threads: expected 1..1024, got \"%s\"\n",
				        val);
				return 2;
			}
		} else {
			fprintf(stderr, "warden mock: unknown or incomplete argument \"%s\"\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (threads < 1)
		threads = 1;

	char host[256], port[16];
	if (split_listen(listen, host, sizeof host, port, sizeof port)) {
		fprintf(stderr, "warden mock: --listen: expected HOST:PORT, got \"%s\"\n", listen);
		return 2;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *ai = NULL, *pick;
	int gai = getaddrinfo(host, port, &hints, &ai);
	if (gai) {
		fprintf(stderr, "warden mock: --listen %s: %s\n", listen, gai_strerror(gai));
		return 2;
	}
	pick = ai;
	for (struct addrinfo *p = ai; p; p = p->ai_next) /* prefer IPv4 for "localhost" */
		if (p->ai_family == AF_INET) {
			pick = p;
			break;
		}
	int v6 = pick->ai_family == AF_INET6;

	/* SIGINT/SIGTERM are taken by sigwait below; every thread started from here inherits the
	 * mask, so none of them is interrupted. */
	sigset_t sigs, old;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	/* a shell starts background jobs with SIGINT ignored, and an ignored signal never reaches
	 * sigwait: take the default disposition back (blocked, so it cannot kill us) */
	struct sigaction dfl = {.sa_handler = SIG_DFL}, old_int, old_term;
	sigaction(SIGINT, &dfl, &old_int);
	sigaction(SIGTERM, &dfl, &old_term);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();

	int status = 1;
	struct MHD_Daemon *d = NULL;
	if (timers_start()) {
		fprintf(stderr, "warden mock: cannot start the timer thread\n");
		goto out;
	}
	struct MHD_OptionItem opts[] = {
	    {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL}, /* first, as MHD asks */
	    {MHD_OPTION_SOCK_ADDR, 0, pick->ai_addr},
	    {MHD_OPTION_CONNECTION_LIMIT, conn_limit(), NULL},
	    {MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S, NULL},
	    {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
	    {MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL},
	    {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
	    /* a pool of 1 is no pool: the option is left out then */
	    {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, NULL},
	    {MHD_OPTION_END, 0, NULL},
	};
	/* No MHD_USE_TURBO: it skips the shutdown(2) when MHD closes a connection on an error, so
	 * a client of an x-mock-abort-after stream never saw the break; it gained nothing here. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
	d = MHD_start_daemon(flags, (uint16_t)strtol(port, NULL, 10), NULL, NULL, on_request, NULL,
	                     MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "warden mock: cannot listen on %s\n", listen);
		timers_stop();
		goto out;
	}
	atomic_store(&mhd_started, 1);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	unsigned bound = info ? info->port : (unsigned)strtol(port, NULL, 10);
	wd_log_write(WD_LOG_INFO, NULL, "mock listening on http://%s%s%s:%u", v6 ? "[" : "", host,
	             v6 ? "]" : "", bound);

	int sig = 0;
	while (sigwait(&sigs, &sig) != 0)
		;
	wd_info(NULL, "mock: %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	timers_stop(); /* resumes every delayed connection first */
	MHD_stop_daemon(d);
	wd_mock_api_cleanup();
	status = 0;
out:
	freeaddrinfo(ai);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return status;
}
