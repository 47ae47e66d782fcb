/*
 * hit.h - a matcher hit as the JSON line that `schakel scan` prints and
 * `schakel serve --watch` alerts with (the contract is docs/matcher.md, "Hit
 * lines"): where it matched, the indicator's metadata and what it
 * indicates, and the contributing records.
 *
 * The indicator's metadata (sk_hit_ind) is read from the store on its first
 * hit, so a compiled set of a million indicators costs one row id each; the
 * "indicator" / "indicates" part of the line is built once per indicator and
 * cached in it.
 */
#ifndef SCHAKEL_HIT_H
#define SCHAKEL_HIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/matcher.h"
#include "schakel/store.h"
#include "schakel/tlp.h"

/*
 * One compiled indicator as its hits print it.  Set ver (and id, if known)
 * when compiling; zero the rest.  The strings are owned by the struct and
 * freed by sk_hit_ind_clear.
 */
typedef struct sk_hit_ind {
	int64_t ver; /* objects.ver of the compiled version */
	char *id;    /* may be set when compiling; else filled by sk_hit_ind_load */
	bool loaded; /* sk_hit_ind_load has run */
	bool gone;   /* ... and found no version ver */
	char *name;  /* NULL when absent */
	char *pattern;
	char *producer; /* created_by_ref, NULL when absent */
	sk_tlp tlp;
	int confidence; /* -1 = absent */
	char *frag;     /* cached "indicator":{...},"indicates":[...] */
} sk_hit_ind;

/*
 * Fill ind's metadata from version ver (once: later calls return the first
 * outcome).  SK_ENOTFOUND when the version is gone, SK_ENOMEM.
 */
sk_err sk_hit_ind_load(sk_store *st, sk_hit_ind *ind, sk_error *err);

/* Free ind's strings and zero it (ind may be NULL). */
void sk_hit_ind_clear(sk_hit_ind *ind);

/* Where one hit matched.  Strings are borrowed for the call. */
typedef struct sk_hit {
	int64_t ts_us;    /* record time, 0 = none */
	const char *file; /* the log's name as given */
	uint64_t line, offset;
	/* the log value that matched; value NULL when no single value stands for it */
	const char *field, *kind, *value;
	size_t value_len;
	/* multi-observation: the contributing records (NULL/0: the hit's record alone) */
	const sk_match_ref *refs;
	size_t nrefs;
	const char *const *files; /* names for refs[].file */
} sk_hit;

/*
 * A hit-line formatter: a store connection for the lookups (borrowed) and a
 * small cache of producer names.  One thread at a time.
 */
typedef struct sk_hit_fmt sk_hit_fmt;

/* *out is freed with sk_hit_fmt_free.  st stays the caller's and must outlive it. */
sk_err sk_hit_fmt_new(sk_store *st, sk_hit_fmt **out, sk_error *err);

void sk_hit_fmt_free(sk_hit_fmt *f);

/*
 * The JSON line (ending in "\n") for hit h on indicator ind, loading ind's
 * metadata and building its cached fragment on the first call.  extra (may
 * be NULL) is inserted as further members before the closing brace, e.g.
 * "\"lookback\":false".  Returns the line, owned by f and valid until its
 * next call, with its length in *len; NULL when out of memory.
 */
const char *sk_hit_fmt_line(sk_hit_fmt *f, sk_hit_ind *ind, const sk_hit *h, const char *extra,
			    size_t *len);

#endif
