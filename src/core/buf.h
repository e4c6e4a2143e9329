/* buf.h — bounded growable byte buffer (curl's dynbuf idea): every buffer has a maximum, and
 * anything whose size a client or upstream controls goes through one. data is always
 * NUL-terminated (one spare byte beyond len) so text can be handed to C string APIs. */
#ifndef WD_CORE_BUF_H
#define WD_CORE_BUF_H

#include <stddef.h>

struct wd_buf {
	char *data; /* NULL until the first append; NUL-terminated after it */
	size_t len;
	size_t cap;
	size_t max; /* len never exceeds this */
};

void wd_buf_init(struct wd_buf *b, size_t max);
/* Appends n bytes. WD_ETOOBIG (buffer unchanged) when len + n > max, WD_ENOMEM on OOM. */
int wd_buf_append(struct wd_buf *b, const void *p, size_t n);
int wd_buf_appendz(struct wd_buf *b, const char *s);
/* printf-style append, bounded like wd_buf_append. */
int wd_buf_printf(struct wd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes (n <= len). */
void wd_buf_consume(struct wd_buf *b, size_t n);
void wd_buf_reset(struct wd_buf *b);
/* Hands the storage to the caller (who frees it) and leaves b empty. */
char *wd_buf_take(struct wd_buf *b, size_t *len);
void wd_buf_free(struct wd_buf *b);

#endif
