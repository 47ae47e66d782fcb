/*
 * buf.h - a growable byte buffer with a hard cap.
 *
 * Every buffer that grows with input has a cap, so that hostile input turns
 * into SK_ELIMIT instead of unbounded memory.  The data is kept NUL-terminated
 * (the terminator is not counted in len) so it can be handed to C string APIs.
 */
#ifndef SCHAKEL_BUF_H
#define SCHAKEL_BUF_H

#include <stddef.h>

#include "schakel/error.h"

typedef struct sk_buf {
	char *data;  /* owned; NULL until the first append */
	size_t len;  /* bytes used, excluding the NUL */
	size_t size; /* bytes allocated */
	size_t cap;  /* hard limit on len; 0 means SK_BUF_DEFAULT_CAP */
} sk_buf;

#define SK_BUF_DEFAULT_CAP ((size_t)64 << 20)

/* Initialise an empty buffer limited to cap bytes (0 = default cap). */
void sk_buf_init(sk_buf *b, size_t cap);

/* Free the storage; b may be NULL.  The buffer can be reused after init. */
void sk_buf_free(sk_buf *b);

/* Forget the content but keep the allocation. */
static inline void sk_buf_reset(sk_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Make room for n more bytes; SK_ELIMIT past the cap, SK_ENOMEM on OOM. */
sk_err sk_buf_reserve(sk_buf *b, size_t n);

sk_err sk_buf_append(sk_buf *b, const void *p, size_t n);
sk_err sk_buf_puts(sk_buf *b, const char *s);
sk_err sk_buf_putc(sk_buf *b, char c);
sk_err sk_buf_printf(sk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append s as a JSON string literal (quotes and escapes included). */
sk_err sk_buf_put_json_string(sk_buf *b, const char *s, size_t n);

#endif
