/*
 * json.h - a fast, strict JSON parser into an arena, for the import path.
 *
 * jansson builds a hash table and a malloc'd node per value, which made it
 * the largest cost of importing STIX.  This parser reads one element (an
 * object of a few KB) into a reusable arena: one pass, no hashing, no
 * per-value allocation.  It is strict (RFC 8259: UTF-8 checked, no trailing
 * commas, no NaN, duplicate member names rejected) and bounded (depth, size).
 * Lookups are linear, which is what STIX objects of ~20 members want.
 *
 * All strings are decoded and NUL-terminated in the arena.  Values live until
 * the next sk_json_parse() on the same document, or sk_json_doc_free().
 */
#ifndef SCHAKEL_JSON_H
#define SCHAKEL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"

typedef enum sk_jtype {
	SK_JNULL,
	SK_JFALSE,
	SK_JTRUE,
	SK_JINT,
	SK_JREAL,
	SK_JSTRING,
	SK_JARRAY,
	SK_JOBJECT,
} sk_jtype;

typedef struct sk_jval sk_jval;
typedef struct sk_jmember sk_jmember;

struct sk_jval {
	sk_jtype type;
	uint32_t n; /* string length, or number of items / members */
	union {
		const char *s;        /* SK_JSTRING: NUL-terminated, may contain no NUL */
		int64_t i;            /* SK_JINT */
		double d;             /* SK_JREAL */
		const sk_jmember *m;  /* SK_JARRAY / SK_JOBJECT: n entries */
	} u;
};

/* An object member, or an array item (key NULL). */
struct sk_jmember {
	const char *key;
	uint32_t klen;
	sk_jval val;
};

typedef struct sk_jdoc sk_jdoc;

/* A reusable document with limits: max_bytes of arena (0 = 256 MiB), max_depth (0 = 64). */
sk_err sk_json_doc_new(size_t max_bytes, int max_depth, sk_jdoc **out);
void sk_json_doc_free(sk_jdoc *doc);

/*
 * Parse text[0..len) (exactly one JSON value, optional surrounding
 * whitespace).  *root points into doc.  On error, err says what and at which
 * byte offset of text.
 */
sk_err sk_json_parse(sk_jdoc *doc, const char *text, size_t len, const sk_jval **root,
		     sk_error *err);

/* Member of an object by name, or NULL (also NULL when v is not an object). */
const sk_jval *sk_json_get(const sk_jval *v, const char *key);

/* The string of v, or NULL if v is NULL or not a string. */
static inline const char *sk_json_str(const sk_jval *v)
{
	return v && v->type == SK_JSTRING ? v->u.s : NULL;
}

/* Item i of an array (NULL if out of range or not an array). */
static inline const sk_jval *sk_json_at(const sk_jval *v, size_t i)
{
	return v && v->type == SK_JARRAY && i < v->n ? &v->u.m[i].val : NULL;
}

static inline bool sk_json_is(const sk_jval *v, sk_jtype t)
{
	return v && v->type == t;
}

static inline bool sk_json_is_bool(const sk_jval *v)
{
	return v && (v->type == SK_JTRUE || v->type == SK_JFALSE);
}

static inline bool sk_json_is_number(const sk_jval *v)
{
	return v && (v->type == SK_JINT || v->type == SK_JREAL);
}

static inline double sk_json_number(const sk_jval *v)
{
	return v->type == SK_JINT ? (double)v->u.i : v->u.d;
}

static inline size_t sk_json_len(const sk_jval *v)
{
	return v && (v->type == SK_JARRAY || v->type == SK_JOBJECT) ? v->n : 0;
}

#endif
