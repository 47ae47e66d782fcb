/*
 * indload.h - load the store's current indicators into a matcher: the one
 * set of rules by which `schakel scan` and the live watcher (watch.h)
 * compile (docs/matcher.md, "Compiling").
 *
 * Rows come from the indicators side table (sk_store_indicator_rows): the
 * newest version of each indicator, no object JSON read.  An indicator is
 * compiled when that version is not revoked, its pattern_type is "stix" (or
 * absent: STIX 2.0), and `at` lies in [valid_from, valid_until).
 * An indicator whose score is below decay.threshold at `at` (decay.h) is
 * left out too.  x_schakel_subdomains: true sets SK_MATCH_SUBDOMAINS for it.  Warning
 * lists apply through the matcher: a matcher made with
 * sk_match_opts.warninglists (sk_indload_warninglists) refuses warning-listed
 * indicators, and they are reported as SK_INDLOAD_SUPPRESSED.
 */
#ifndef SCHAKEL_INDLOAD_H
#define SCHAKEL_INDLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/matcher.h"
#include "schakel/store.h"
#include "schakel/warninglist.h"

typedef struct sk_indload_stats {
	uint32_t added, unsupported, expired, other_type, revoked, suppressed;
	uint32_t decayed; /* score below decay.threshold at `at` (decay.h) */
	/*
	 * The times t with valid_lo <= t < valid_hi for which the same
	 * indicators pass the validity check as at `at` (INT64_MIN /
	 * INT64_MAX: no bound): how long a matcher built now stays current.
	 * begin_hi (<= INT64_MAX) is the earliest valid_from after `at`: until
	 * then a later time only takes indicators away, at the `until` each
	 * was added with (on_added), so a matcher that drops the hits of those
	 * past their `until` stays current in [valid_lo, begin_hi).
	 */
	int64_t valid_lo, valid_hi, begin_hi;
} sk_indload_stats;

/* Why an indicator was not added. */
typedef enum sk_indload_skip {
	SK_INDLOAD_REVOKED,     /* its newest version is revoked (deltas only) */
	SK_INDLOAD_OTHER_TYPE,  /* not a STIX pattern */
	SK_INDLOAD_EXPIRED,     /* outside its validity window at `at` */
	SK_INDLOAD_UNSUPPORTED, /* the matcher cannot match it (reason in msg) */
	SK_INDLOAD_SUPPRESSED,  /* on a warning list (which, in msg) */
	SK_INDLOAD_DECAYED,     /* its score is below decay.threshold at `at` (decay.h) */
} sk_indload_skip;

/*
 * Warning-list verdicts of earlier loads, by version row (objects.ver: one
 * pattern for good), so that a process that rebuilds its matcher again and
 * again (the watcher) checks each indicator against the lists once:
 * checking a pattern against a large set of lists costs far more than
 * compiling it.  Valid for one set of lists: reset it when they change.
 * Holds at most about two million verdicts; past that, indicators are
 * checked every time.  One thread at a time.
 */
typedef struct sk_indload_wlcache sk_indload_wlcache;

/* *out is freed with sk_indload_wlcache_free (which accepts NULL). */
sk_err sk_indload_wlcache_new(sk_indload_wlcache **out, sk_error *err);
void sk_indload_wlcache_reset(sk_indload_wlcache *c);
void sk_indload_wlcache_free(sk_indload_wlcache *c);

typedef struct sk_indload_opts {
	int64_t at; /* validity time (µs); 0 = now */
	bool no_decay; /* compile decayed indicators too (scan --no-decay) */
	/*
	 * Only indicators whose newest version was stored after this version
	 * row (0 = all).  A delta (after_ver > 0) also reports the revoked ones
	 * through on_skipped, so that it can shadow older builds.
	 */
	int64_t after_ver;
	bool arrival; /* fill row->arrived (the watcher's detection delay) */
	sk_indload_wlcache *wlcache; /* may be NULL: check every indicator */
	/*
	 * Called for each indicator added to the matcher (idx = its number in
	 * m) with its row, valid only during the call, and the time (µs) from
	 * which it no longer passes (the earlier of its valid_until and, unless
	 * no_decay, its alert_until; 0 = never).  Non-zero stops the load with
	 * SK_ENOMEM.
	 */
	int (*on_added)(void *ud, uint32_t idx, const sk_ind_row *row, int64_t until);
	/*
	 * Called for every indicator the load looked at and did not add; msg
	 * says why in words (the matcher's message for UNSUPPORTED and
	 * SUPPRESSED).  May be NULL.
	 */
	void (*on_skipped)(void *ud, const sk_ind_row *row, sk_indload_skip why, const char *msg);
	void *ud;
} sk_indload_opts;

/*
 * Add the indicators selected by o to m (not yet built).  stats may be NULL.
 */
sk_err sk_indload_run(sk_store *st, sk_matcher *m, const sk_indload_opts *o,
		      sk_indload_stats *stats, sk_error *err);

/*
 * The node's warning lists for sk_match_opts.warninglists: *out is NULL
 * when none are imported (nothing to check), else a set the caller frees
 * with sk_warninglist_free once the matchers made with it are built.
 */
sk_err sk_indload_warninglists(sk_store *st, sk_wl_set **out, sk_error *err);

#endif
