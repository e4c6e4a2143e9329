/* log.c — stderr logger; see log.h. One write(2) per line so lines from threads never mix. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"

enum wd_log_level wd_log_threshold = WD_LOG_INFO;
int wd_log_json;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

int wd_log_parse_level(const char *name, enum wd_log_level *out)
{
	for (int i = 0; i <= WD_LOG_OFF; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum wd_log_level)i;
			return WD_OK;
		}
	}
	return WD_EINVAL;
}

/* Escapes s into dst for a JSON string (quotes, backslashes, control characters). */
static size_t json_escape(char *dst, size_t cap, const char *s)
{
	size_t o = 0;
	for (; *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(dst + o, cap - o, "\\u%04x", c);
		} else {
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
	return o;
}

void wd_log_write(enum wd_log_level lvl, const char *reqid, const char *fmt, ...)
{
	char msg[1024], line[2304], ts[32];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);

	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);

	int n;
	if (wd_log_json) {
		char esc[2100];
		json_escape(esc, sizeof esc, msg);
		n = snprintf(line, sizeof line,
		             "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\"%s%s%s,\"msg\":\"%s\"}\n", ts,
		             now.tv_nsec / 1000000, level_names[lvl],
		             reqid ? ",\"request_id\":\"" : "", reqid ? reqid : "",
		             reqid ? "\"" : "", esc);
	} else {
		n = snprintf(line, sizeof line, "%s.%03ldZ %-5s %s%s%s\n", ts,
		             now.tv_nsec / 1000000, level_names[lvl], reqid ? reqid : "",
		             reqid ? " " : "", msg);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}
