/*
 * feed_int.h - what feed.c and feed_formats.c share: the kind names feeds
 * write (maltrail's, and the families CSV exports use) mapped onto ours.
 */
#ifndef SCHAKEL_FEED_INT_H
#define SCHAKEL_FEED_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "schakel/buf.h"
#include "schakel/feed.h"
#include "schakel/json.h"
#include "schakel/stix.h"

/* Families of kinds, for the generic kind names CSV exports use. */
enum { FAM_IP = 1, FAM_DOMAIN = 2, FAM_URL = 4, FAM_HASH = 8, FAM_EMAIL = 16 };

/* A maltrail kind name (n bytes at s) as ours; *detect when it says "other" (or nothing). */
bool sk_feed_maltrail_kind(const char *s, size_t n, sk_feed_kind *k, bool *detect);

/* The family (FAM_*) of a kind, 0 for none. */
unsigned sk_feed_kind_family(sk_feed_kind k);

/* A kind name that says only the family ("ip", "ip-dst", "hash"...): *family set. */
bool sk_feed_generic_kind(const char *s, size_t n, unsigned *family);

/* Drop leading blanks and tabs and trailing blanks, tabs and CRs of *s (n bytes). */
size_t sk_feed_trim(const char **s, size_t n);

/*
 * CSV (feed_formats.c): split one record in place (RFC 4180 quoting; quotes
 * removed), returning the number of fields or -1 (bad quotes, more than
 * max); find a column by 1-based number or case-insensitive name (-1 none);
 * the first of a NULL-terminated list of names that is a column.
 */
int sk_feed_csv_split(char *s, size_t n, const char **f, size_t *fl, int max);
int sk_feed_col_find(const char **h, const size_t *hl, int nh, const char *name, size_t n);
int sk_feed_col_guess(const char **h, const size_t *hl, int nh, const char *const *names);

/*
 * Named feeds (feed_named.c): begin an import's membership, note each entry
 * (existed: it was stored before; an entry a feed expired is made valid
 * again), and end: the entries that dropped out expire.  No-ops without
 * o->feed.  Inside the import's transactions.
 */
sk_err sk_feed_named_begin(sk_store *st, const sk_feed_opts *o, sk_error *err);
sk_err sk_feed_named_note(sk_store *st, const sk_feed_opts *o, const char *id, bool existed,
			  sk_feed_stats *stats, sk_error *err);
sk_err sk_feed_named_end(sk_store *st, const sk_feed_opts *o, sk_feed_stats *stats,
			 sk_error *err);

/*
 * The import's two threads (feed_pipe.c): a bounded ring of n slots (n > 64).
 * The reader thread takes a free slot (sk_feed_pipe_slot, which blocks while
 * the ring is full and returns NULL once the consumer stopped), fills it and
 * pushes it; sk_feed_pipe_close says there are no more.  The store thread
 * takes the slots in order (sk_feed_pipe_take, NULL when closed and drained,
 * or stopped); an item stays valid until the next take.  sk_feed_pipe_stop
 * (store thread) makes the reader's next slot call return NULL.
 */
enum { FEED_ITEM_NONE, FEED_ITEM_ENTRY, FEED_ITEM_REJECT };

typedef struct feed_item {
	int what;          /* FEED_ITEM_* */
	uint64_t line;     /* input line */
	sk_feed_kind kind; /* an entry's kind */
	char id[64];       /* an entry's indicator id */
	bool built;        /* its JSON was built (false: too long) */
	sk_err vrc;        /* the JSON's validation: SK_OK and info, or the error in err */
	sk_error err;      /* vrc's message, or the reject reason */
	sk_buf json;       /* the indicator */
	sk_jdoc *doc;      /* the arena info points into */
	sk_stix_info info;
} feed_item;

typedef struct feed_pipe sk_feed_pipe;

sk_err sk_feed_pipe_new(size_t n, sk_feed_pipe **out);
void sk_feed_pipe_free(sk_feed_pipe *p);
feed_item *sk_feed_pipe_slot(sk_feed_pipe *p);
void sk_feed_pipe_push(sk_feed_pipe *p);
void sk_feed_pipe_close(sk_feed_pipe *p);
feed_item *sk_feed_pipe_take(sk_feed_pipe *p);
void sk_feed_pipe_stop(sk_feed_pipe *p);

#endif
