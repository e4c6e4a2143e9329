/* log.h — level-gated logging to stderr, one line per event, with the request id when there is
 * one. Bodies and secrets (Authorization, API keys) are never passed to these macros. */
#ifndef WD_CORE_LOG_H
#define WD_CORE_LOG_H

enum wd_log_level { WD_LOG_DEBUG, WD_LOG_INFO, WD_LOG_WARN, WD_LOG_ERROR, WD_LOG_OFF };

extern enum wd_log_level wd_log_threshold;
extern int wd_log_json; /* 1: one JSON object per line */

/* Returns 0 and sets *out for "debug", "info", "warn", "error", "off"; WD_EINVAL otherwise. */
int wd_log_parse_level(const char *name, enum wd_log_level *out);
void wd_log_write(enum wd_log_level lvl, const char *reqid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define WD_LOG(lvl, reqid, ...)                                    \
	do {                                                       \
		if ((lvl) >= wd_log_threshold)                     \
			wd_log_write((lvl), (reqid), __VA_ARGS__); \
	} while (0)
#define wd_debug(reqid, ...) WD_LOG(WD_LOG_DEBUG, reqid, __VA_ARGS__)
#define wd_info(reqid, ...)  WD_LOG(WD_LOG_INFO, reqid, __VA_ARGS__)
#define wd_warn(reqid, ...)  WD_LOG(WD_LOG_WARN, reqid, __VA_ARGS__)
#define wd_error(reqid, ...) WD_LOG(WD_LOG_ERROR, reqid, __VA_ARGS__)

#endif
