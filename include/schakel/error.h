/*
 * error.h - schakel's error codes and the error detail buffer.
 *
 * Every library function that can fail returns an sk_err (SK_OK == 0).  The
 * human-readable detail (what was wrong and where: file, line, offset, object
 * id) goes into an sk_error that the caller owns and passes in; it may be NULL
 * when the caller does not care.  The codes and their default texts come from
 * the single table SK_ERROR_TABLE, so sk_strerror() can never fall out of step.
 */
#ifndef SCHAKEL_ERROR_H
#define SCHAKEL_ERROR_H

#include <stddef.h>

#define SK_ERROR_TABLE(X)                                                                          \
	X(SK_OK, "success")                                                                        \
	X(SK_ENOMEM, "out of memory")                                                              \
	X(SK_EIO, "input/output error")                                                            \
	X(SK_EJSON, "malformed JSON")                                                              \
	X(SK_EINVAL, "invalid input")                                                              \
	X(SK_ESTIX, "invalid STIX object")                                                         \
	X(SK_ELIMIT, "input exceeds a limit")                                                      \
	X(SK_EDB, "database error")                                                                \
	X(SK_ESCHEMA, "database schema is newer than this program")                                \
	X(SK_ENOTFOUND, "not found")                                                               \
	X(SK_EEXIST, "already exists")                                                             \
	X(SK_ENOTINIT, "node not initialised")                                                     \
	X(SK_EBUSY, "resource busy")                                                               \
	X(SK_EAUTH, "authentication failed")                                                       \
	X(SK_EPERM, "permission denied")                                                           \
	X(SK_EUNSUPPORTED, "unsupported")                                                          \
	X(SK_EINTERRUPTED, "interrupted")                                                          \
	X(SK_ESUPPRESSED, "suppressed by a warning list")                                          \
	X(SK_ECONFLICT, "a stored version has other content")

typedef enum sk_err {
#define SK_ERR_ENUM(name, text) name,
	SK_ERROR_TABLE(SK_ERR_ENUM)
#undef SK_ERR_ENUM
	SK_ERR__COUNT
} sk_err;

#define SK_ERROR_MSG_MAX 768

/* Detail for the caller: code plus a message that names what and where. */
typedef struct sk_error {
	sk_err code;
	char msg[SK_ERROR_MSG_MAX];
} sk_error;

/* Static text for a code; never NULL. */
const char *sk_strerror(sk_err code);

/* Symbolic name of a code ("SK_EJSON"); never NULL. */
const char *sk_errname(sk_err code);

/*
 * Record code and a printf-style message in err (if err is non-NULL) and
 * return code, so callers can write `return sk_error_set(err, SK_EINVAL, ...)`.
 */
sk_err sk_error_set(sk_error *err, sk_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepend "prefix: " to the message already in err (no-op if err is NULL). */
void sk_error_prefix(sk_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reset err to SK_OK with an empty message. */
void sk_error_clear(sk_error *err);

#endif
