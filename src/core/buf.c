/*
 * buf.c - growable byte buffer with a hard cap.
 */
#include "schakel/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void sk_buf_init(sk_buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->size = 0;
	b->cap = cap ? cap : SK_BUF_DEFAULT_CAP;
}

void sk_buf_free(sk_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}

sk_err sk_buf_reserve(sk_buf *b, size_t n)
{
	size_t need, nsize;
	char *p;

	if (n > b->cap || b->len > b->cap - n)
		return SK_ELIMIT;
	need = b->len + n + 1;
	if (need <= b->size)
		return SK_OK;
	nsize = b->size ? b->size : 256;
	while (nsize < need)
		nsize = nsize > SIZE_MAX / 2 ? need : nsize * 2;
	p = realloc(b->data, nsize);
	if (!p)
		return SK_ENOMEM;
	b->data = p;
	b->size = nsize;
	return SK_OK;
}

sk_err sk_buf_append(sk_buf *b, const void *p, size_t n)
{
	sk_err rc = sk_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return SK_OK;
}

sk_err sk_buf_puts(sk_buf *b, const char *s)
{
	return sk_buf_append(b, s, strlen(s));
}

sk_err sk_buf_putc(sk_buf *b, char c)
{
	return sk_buf_append(b, &c, 1);
}

sk_err sk_buf_printf(sk_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	sk_err rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return SK_EINVAL;
	rc = sk_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return SK_OK;
}

sk_err sk_buf_put_json_string(sk_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	sk_err rc = sk_buf_putc(b, '"');
	size_t i, start = 0;

	for (i = 0; i < n && !rc; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t elen = 0;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			elen = 2;
		} else if (c < 0x20) {
			esc[0] = '\\';
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		} else {
			continue;
		}
		rc = sk_buf_append(b, s + start, i - start);
		if (!rc)
			rc = sk_buf_append(b, esc, elen);
		start = i + 1;
	}
	if (!rc)
		rc = sk_buf_append(b, s + start, n - start);
	if (!rc)
		rc = sk_buf_putc(b, '"');
	return rc;
}
