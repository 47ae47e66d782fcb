/*
 * match_base.h - the node's matcher cache as `scan` and `serve --watch`
 * share it (match_base.c; docs/matcher.md, "The matcher cache"): a base
 * matcher kept in STORE.matcher (schakel/match_cache.h) with each compiled
 * indicator's version row, the load counts and the skip messages of its
 * build, and the indicator state it was built at (the watermark: the
 * largest version row then).
 *
 * The key names everything that shapes the base except the watermark, so a
 * base built a few indicators ago still loads: the caller compiles the
 * indicators stored after the watermark (sk_indload_opts.after_ver) into a
 * delta and masks the base's hits on every id the delta covers (new,
 * changed, revoked, expired by a new version).  An in-place replacement of a
 * version, another set of warning lists or other options change the key and
 * so force a rebuild.
 */
#ifndef SCHAKEL_MATCH_BASE_H
#define SCHAKEL_MATCH_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/indload.h"
#include "schakel/match_cache.h"
#include "schakel/matcher.h"
#include "schakel/store.h"

/* Which cache file and key: one per store and option set. */
typedef struct sk_mbase_key {
	char key[SK_MCACHE_KEY_MAX];
	char *path;        /* STORE[-sub][-nowl].matcher (owned) */
	int64_t watermark; /* the largest indicator version row when the key was read */
	uint64_t wl_stamp; /* the warning lists' stamp in the key (0 with no_warninglists) */
} sk_mbase_key;

/*
 * The key of store st (opened from file db) with these options into *k
 * (freed with sk_mbase_key_clear).  SK_ENOTFOUND for an in-memory store (no
 * cache); store errors.
 */
sk_err sk_mbase_key_init(sk_mbase_key *k, sk_store *st, const char *db, bool subdomains,
                         bool no_warninglists, sk_error *err);
void sk_mbase_key_clear(sk_mbase_key *k);

/* The skip messages of a build, one line each after a tag byte (U: always shown, S: not quiet). */
typedef struct sk_mbase_msgs {
	char *buf;
	size_t len, cap;
	bool full; /* past the cap: the base is not written */
} sk_mbase_msgs;

/*
 * The message line `scan` prints for an indicator a build skipped (why, the
 * loader's msg) into line[0..n), kept in *ms when ms is not NULL.  Returns
 * the tag: 'U' (cannot match: always shown), 'S' (warning-listed: not with
 * --quiet) or 0 (nothing to say: expired, revoked, not a STIX pattern).
 */
char sk_mbase_note(sk_mbase_msgs *ms, sk_indload_skip why, const char *id, const char *msg,
                   char *line, size_t n);
void sk_mbase_msgs_clear(sk_mbase_msgs *ms);

/* A base loaded from the cache; everything points into the mapping of m. */
typedef struct sk_mbase {
	sk_matcher *m;
	const int64_t *vers; /* vers[i]: indicator i's version row */
	/* untils[i]: when indicator i stops passing (µs, 0 = never); NULL: none does.  A caller
	 * at a later time than the build drops the hits of those past it (sk_mbase_save). */
	const int64_t *untils;
	uint32_t ninds;
	sk_indload_stats ls;
	int64_t watermark;
	const char *msgs; /* the build's skip messages (sk_mbase_msgs format) */
	size_t msgs_len;
} sk_mbase;

/*
 * Load the base of key k valid at time at (µs).  SK_ENOTFOUND: no file.
 * SK_ECONFLICT: built for another key or time, or for a later state than
 * the store's (err says which).  SK_EINVAL: damaged (err says how; the
 * caller rebuilds and says so).  On success free out->m with
 * sk_matcher_free (the other pointers die with it).
 */
sk_err sk_mbase_load(const sk_mbase_key *k, int64_t at, const sk_match_opts *mo, sk_mbase *out,
                     sk_error *err);

/*
 * The base part of a loaded cache file: m (taken: freed on failure) and its
 * extra bytes x[0..xl) (sk_mcache_load's) checked and pointed to.
 * SK_EINVAL when they do not fit m, SK_ECONFLICT when the watermark is past
 * max_watermark.  For sk_mbase_load and the fuzz target.
 */
sk_err sk_mbase_take(sk_matcher *m, const void *x, size_t xl, int64_t max_watermark,
		     sk_mbase *out, sk_error *err);

/*
 * Write built matcher m as the base of key k: vers[0..ninds) its version
 * rows, untils[0..ninds) when each stops passing (sk_indload_opts.on_added;
 * NULL: not known, and the base is then valid only until the first of
 * them), ls the load counts and window, watermark the largest version row
 * read before the build started (rows stored during the build may be in
 * it; the next delta covers them again).  With untils the base stays valid
 * for later times up to the first valid_from after the build
 * (sk_indload_stats.begin_hi): an indicator that expires or decays by time
 * alone does not make it stale.  0600, temp file and rename.
 */
sk_err sk_mbase_save(const sk_mbase_key *k, const sk_matcher *m, const int64_t *vers,
                     const int64_t *untils, uint32_t ninds, const sk_indload_stats *ls,
                     int64_t watermark, const sk_mbase_msgs *ms, sk_error *err);

/* How many of untils[0..n) (NULL: none) are past at: the base's indicators expired since. */
uint32_t sk_mbase_expired(const int64_t *untils, uint32_t n, int64_t at);

/*
 * Write a new base when the delta is this large: more than an eighth of
 * the base, or more than SK_MBASE_DELTA_MAX indicators.
 */
#define SK_MBASE_DELTA_MAX 100000u
bool sk_mbase_delta_too_big(uint32_t base_inds, uint64_t delta_rows);

#endif
