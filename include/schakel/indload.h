/*
 * indload.h - load the store's current indicators into a matcher: the
 * rules `schakel scan` compiles by (docs/matcher.md), as a library function
 * so that the live watcher (watch.h) and the CLI share them.
 *
 * An indicator is compiled when its newest version is not revoked, its
 * pattern_type is "stix" (or absent: STIX 2.0), and at lies in
 * [valid_from, valid_until).  x_schakel_subdomains: true sets
 * SK_MATCH_SUBDOMAINS for it.  Warning-list suppression is not applied here.
 */
#ifndef SCHAKEL_INDLOAD_H
#define SCHAKEL_INDLOAD_H

#include <stdint.h>

#include "schakel/error.h"
#include "schakel/json.h"
#include "schakel/matcher.h"
#include "schakel/store.h"

typedef struct sk_indload_stats {
	uint32_t added, unsupported, expired, other_type, revoked;
} sk_indload_stats;

typedef struct sk_indload_opts {
	int64_t at;        /* validity time (µs); 0 = now */
	int64_t after_ver; /* only indicators whose newest version is after this row (0 = all) */
	/*
	 * Called for each indicator added to the matcher (idx = its number in
	 * m), with its row (row->date_added = arrival here) and parsed JSON;
	 * both valid only during the call.  Non-zero stops the load (SK_ENOMEM).
	 */
	int (*on_added)(void *ud, uint32_t idx, const sk_row *row, const sk_jval *root);
	/* Called for every indicator newer than after_ver that is not added
	 * (revoked, expired, not a STIX pattern, refused); may be NULL. */
	void (*on_skipped)(void *ud, const sk_row *row, const char *why);
	void *ud;
} sk_indload_opts;

/*
 * Add the indicators selected by o to m (not yet built).  Indicators the
 * matcher refuses are counted as unsupported and reported through
 * on_skipped with the reason.  stats may be NULL.
 */
sk_err sk_indload_run(sk_store *st, sk_matcher *m, const sk_indload_opts *o,
		      sk_indload_stats *stats, sk_error *err);

#endif
