/* buf.c — bounded growable byte buffer; see buf.h. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

void wd_buf_init(struct wd_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

static int grow(struct wd_buf *b, size_t need)
{
	if (need + 1 <= b->cap)
		return WD_OK;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need + 1)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	char *p = realloc(b->data, cap);
	if (!p)
		return WD_ENOMEM;
	b->data = p;
	b->cap = cap;
	return WD_OK;
}

int wd_buf_append(struct wd_buf *b, const void *p, size_t n)
{
	if (n > b->max - b->len)
		return WD_ETOOBIG;
	int rc = grow(b, b->len + n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return WD_OK;
}

int wd_buf_appendz(struct wd_buf *b, const char *s)
{
	return wd_buf_append(b, s, strlen(s));
}

int wd_buf_printf(struct wd_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return WD_EINVAL;
	if ((size_t)n > b->max - b->len)
		return WD_ETOOBIG;
	int rc = grow(b, b->len + (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return WD_OK;
}

void wd_buf_consume(struct wd_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

void wd_buf_reset(struct wd_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *wd_buf_take(struct wd_buf *b, size_t *len)
{
	char *p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void wd_buf_free(struct wd_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
