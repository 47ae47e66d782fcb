/*
 * jstream.h - stream the STIX objects out of a JSON input of any size.
 *
 * Accepts, in one pass and in bounded memory: a STIX bundle or TAXII 2.1
 * envelope (any top-level object whose "objects" member is an array), a JSON
 * array of objects, a single object, and any sequence of these (NDJSON).
 * Each element is handed out as its own minified JSON text, together with
 * where it started (byte offset, line), so that errors can point at it.
 *
 * The framer checks structure (brackets, strings, nesting depth, element
 * size); the element text itself is then parsed by the caller (json.h), which
 * checks the rest of the JSON grammar.
 */
#ifndef SCHAKEL_JSTREAM_H
#define SCHAKEL_JSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/reader.h"

typedef struct sk_jstream sk_jstream;

typedef struct sk_jstream_opts {
	size_t max_element; /* largest element, minified (0 = 64 MiB) */
	int max_depth;      /* deepest nesting inside an element (0 = 64) */
} sk_jstream_opts;

typedef enum sk_jcontainer {
	SK_JC_SINGLE = 0, /* a lone top-level object */
	SK_JC_BUNDLE,     /* element of a bundle's or envelope's "objects" array */
	SK_JC_ARRAY,      /* element of a top-level array */
} sk_jcontainer;

typedef struct sk_jitem {
	const char *json;  /* minified element text, NUL-terminated; valid until next call */
	size_t len;        /* bytes in json */
	uint64_t offset;   /* byte offset of the element's first byte (uncompressed) */
	uint64_t line;     /* 1-based line of the element's first byte */
	uint64_t index;    /* 0-based position of the element in its container */
	sk_jcontainer kind;
} sk_jitem;

/*
 * Start streaming from rd (borrowed; must outlive the stream).  opts may be
 * NULL.  Free with sk_jstream_free().
 */
sk_err sk_jstream_new(sk_reader *rd, const sk_jstream_opts *opts, sk_jstream **out);
void sk_jstream_free(sk_jstream *js);

/*
 * Produce the next element.  *have is false at a clean end of input.  A
 * structural error (truncated input, unbalanced brackets, an element too large
 * or too deep, something that is not JSON) returns SK_EJSON or SK_ELIMIT with
 * the line and byte offset in err; the stream cannot continue after that.
 */
sk_err sk_jstream_next(sk_jstream *js, sk_jitem *item, bool *have, sk_error *err);

/* Number of top-level values seen so far (for "empty input" detection). */
uint64_t sk_jstream_values(const sk_jstream *js);

/* Uncompressed bytes consumed so far. */
uint64_t sk_jstream_offset(const sk_jstream *js);

#endif
