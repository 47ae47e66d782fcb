/*
 * scan.h - state shared by `schakel scan` (cmd_scan.c: options, the record
 * loop, threads) and scan_out.c (hit JSON, indicator metadata, sightings).
 */
#ifndef SCHAKEL_CLI_SCAN_H
#define SCHAKEL_CLI_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "schakel/hit.h"
#include "schakel/store.h"

/*
 * One compiled indicator: what its hits print (only meta.ver is set at
 * compile time; the rest is read on its first hit, hit.h) and its sighting
 * tally.
 */
typedef struct scan_ind {
	sk_hit_ind meta;
	uint64_t hits;
	uint64_t flushed;          /* hits already counted in a stored sighting (--follow) */
	int64_t first_us, last_us; /* record times of the hits (0 = none seen) */
} scan_ind;

typedef struct scan_state {
	sk_store *st;
	char *node_id;
	/*
	 * inds[] is allocated for every compiled indicator but only the entries
	 * of indicators with hits are touched (hitv lists them, in first-hit
	 * order): a million untouched entries cost no page faults.  vers[i] is
	 * indicator i's version row (vers_own, or the matcher cache's copy).
	 */
	scan_ind *inds;
	uint32_t ninds, indcap;
	const int64_t *vers;
	int64_t *vers_own;
	uint32_t *hitv;
	uint32_t nhitv, hitvcap;
	FILE *out;
	sk_hit_fmt *fmt; /* hit lines (main thread) */
	uint64_t hits;
	/* hashed indicators (scan_hashed.c), numbered after the matcher's; NULL = none */
	struct sk_hmatch *hm;
	struct sk_hmatch_ctx *hc; /* the main thread's */
} scan_state;

/* Room in ss->inds for the ss->ninds compiled indicators (after the compile); -1 on OOM. */
int scan_alloc_inds(scan_state *ss);

/* Print hit h on indicator ind as a JSON line and count it for the sighting.  0 or -1 on a
 * write error. */
int scan_emit(scan_state *ss, uint32_t ind, const sk_hit *h);

/*
 * Write (or version) one sighting per indicator with hits not yet counted in
 * a stored sighting (so it can run periodically under --follow), by the
 * node's sighting policy (sk_sync_sighting_put), into collection (NULL: the
 * collections holding each indicator).  Returns an exit-style 0/1.
 */
int scan_write_sightings(scan_state *ss, const char *collection);

void scan_state_clear(scan_state *ss);

/*
 * The hashed indicators and the keys held (scan_hashed.c), numbered from
 * ss->ninds (which grows); prints those that cannot match here.  *seen: the
 * hashed indicators looked at (the matcher counted them as unsupported).
 * Exit-style.
 */
int scan_hashed_load(scan_state *ss, const char *db, int64_t at, bool quiet, uint32_t *seen);

/* --- the matcher cache (scan_cache.c) ------------------------------------- */

#include "schakel/indload.h"
#include "schakel/match_cache.h"

typedef struct scan_cache {
	bool enabled, loaded;
	char *path;
	char key[SK_MCACHE_KEY_MAX];
	char stale[200]; /* why the file there was not used ("" = none or used) */
	char *msgs;      /* skip messages of a build, one per line after a tag byte */
	size_t mlen, mcap;
	bool msgs_full;
} scan_cache;

/* The key and file of this store and options (disabled for an in-memory store); -1 on OOM. */
int scan_cache_init(scan_cache *c, sk_store *st, const char *db, bool subdomains, bool no_wl);
/* Keep a skip message of a build: tag 'U' (always printed) or 'S' (not with --quiet). */
void scan_cache_note(scan_cache *c, char tag, const char *line);
/*
 * The cached matcher when it is current (filling ss->inds and *ls and
 * printing the stored skip messages), else NULL: no file, stale (reason in
 * c->stale) or damaged (said on stderr).
 */
sk_matcher *scan_cache_load(scan_cache *c, scan_state *ss, int64_t at, const sk_match_opts *mo,
			    bool quiet, sk_indload_stats *ls);
/* Write the freshly built m (a failure is only reported). */
void scan_cache_save(scan_cache *c, const scan_state *ss, const sk_matcher *m,
		     const sk_indload_stats *ls, bool quiet);
void scan_cache_clear(scan_cache *c);

#endif
