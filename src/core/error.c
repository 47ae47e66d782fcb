/*
 * error.c - the error table and the helpers that fill an sk_error.
 */
#include "schakel/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const sk_err_text[] = {
#define SK_ERR_TEXT(name, text) text,
    SK_ERROR_TABLE(SK_ERR_TEXT)
#undef SK_ERR_TEXT
};

static const char *const sk_err_names[] = {
#define SK_ERR_NAME(name, text) #name,
    SK_ERROR_TABLE(SK_ERR_NAME)
#undef SK_ERR_NAME
};

const char *sk_strerror(sk_err code)
{
	if ((unsigned)code >= SK_ERR__COUNT)
		return "unknown error";
	return sk_err_text[code];
}

const char *sk_errname(sk_err code)
{
	if ((unsigned)code >= SK_ERR__COUNT)
		return "SK_E?";
	return sk_err_names[code];
}

sk_err sk_error_set(sk_error *err, sk_err code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

void sk_error_prefix(sk_error *err, const char *fmt, ...)
{
	char pre[256], old[SK_ERROR_MSG_MAX];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* truncation is acceptable: the message is for people */
	size_t n = strlen(pre);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, pre, n);
	err->msg[n] = ':';
	err->msg[n + 1] = ' ';
	size_t rest = sizeof(err->msg) - n - 3;
	size_t olen = strnlen(old, rest);
	memcpy(err->msg + n + 2, old, olen);
	err->msg[n + 2 + olen] = '\0';
}

void sk_error_clear(sk_error *err)
{
	if (err) {
		err->code = SK_OK;
		err->msg[0] = '\0';
	}
}
