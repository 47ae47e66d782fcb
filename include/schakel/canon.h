/*
 * canon.h - the JSON Canonicalization Scheme (RFC 8785) of a parsed value:
 * members sorted by the UTF-16 code units of their names, no whitespace,
 * strings with the minimal escapes, numbers as ECMAScript prints an IEEE
 * double.  Two texts of the same JSON value canonicalise to the same bytes,
 * whatever their key order, spacing or number spelling, so a signature over
 * the canonical form survives any server that keeps the object's content.
 */
#ifndef SCHAKEL_CANON_H
#define SCHAKEL_CANON_H

#include "schakel/buf.h"
#include "schakel/json.h"

/*
 * Append the canonical form of v to b.  With skip_ext set and v an object,
 * the member skip_ext of v's "extensions" is left out (and "extensions" too
 * when that was its only member): the form a signature carried in that
 * extension is made over.  SK_ENOMEM, or SK_EINVAL for a value JSON cannot
 * hold (a non-finite number).
 */
sk_err sk_canon(const sk_jval *v, const char *skip_ext, sk_buf *b, sk_error *err);

#endif
