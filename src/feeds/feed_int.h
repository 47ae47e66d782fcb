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

#endif
