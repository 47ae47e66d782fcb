/*
 * feed_int.h - what feed.c and feed_formats.c share: the kind names feeds
 * write (maltrail's, and the families CSV exports use) mapped onto ours.
 */
#ifndef SCHAKEL_FEED_INT_H
#define SCHAKEL_FEED_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "schakel/feed.h"

/* Families of kinds, for the generic kind names CSV exports use. */
enum { FAM_IP = 1, FAM_DOMAIN = 2, FAM_URL = 4, FAM_HASH = 8, FAM_EMAIL = 16 };

/* A maltrail kind name (n bytes at s) as ours; *detect when it says "other" (or nothing). */
bool sk_feed_maltrail_kind(const char *s, size_t n, sk_feed_kind *k, bool *detect);

/* The family (FAM_*) of a kind, 0 for none. */
unsigned sk_feed_kind_family(sk_feed_kind k);

/* A kind name that says only the family ("ip", "ip-dst", "hash"...): *family set. */
bool sk_feed_generic_kind(const char *s, size_t n, unsigned *family);

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

#endif
