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
#include "schakel/logread.h"
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
	int64_t *untils_own; /* a full build's: when each stops passing (0 = never), for the cache */
	/* with a cached base and a delta: vers[0..nbase) are the base's, dvers[i - nbase] the
	 * delta's (dvers NULL: vers holds them all) */
	const int64_t *dvers;
	uint32_t nbase;
	uint32_t *hitv;
	uint32_t nhitv, hitvcap;
	FILE *out;
	sk_hit_fmt *fmt; /* hit lines (main thread) */
	uint64_t hits;
	/* hashed indicators (scan_hashed.c), numbered after the matcher's; NULL = none */
	struct sk_hmatch *hm;
	struct sk_hmatch_ctx *hc; /* the main thread's */
	sk_logsrc_tally src;      /* the log sources read (written with the sightings) */
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
 * collections holding each indicator), and in the same transaction the
 * records read per log source since the last write (ss->src).  Returns an
 * exit-style 0/1.
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
#include "schakel/match_base.h"

/*
 * The cached base (schakel/match_base.h) and, when indicators were stored
 * since it was built, a delta of those: indicators 0..nbase-1 are the
 * base's, nbase.. the delta's, in storage order as a fresh build numbers
 * them.  A base hit on an id the delta covers is masked.
 */
typedef struct scan_cache {
	bool enabled, loaded, no_wl;
	sk_mbase_key k;
	int64_t watermark;   /* of the loaded base */
	char stale[200];     /* why the file there was not used ("" = none or used) */
	sk_mbase_msgs msgs;  /* of a full build, written with it */
	sk_mbase_msgs dmsgs; /* of the delta, printed once it is used */
	/* the delta */
	sk_matcher *dm;
	sk_match_state *dmst;
	uint32_t nbase, ndelta;
	char **ids; /* sorted: every id the delta covers */
	size_t nids, idcap;
	uint8_t *mask; /* per base indicator: 0 unknown, 1 live, 2 masked; NULL: none masked */
	/* the base's untils (in its mapping, NULL: none), the scan's time, how many are past it */
	const int64_t *untils;
	int64_t at;
	uint32_t nexpired;
	bool oom;
} scan_cache;

/* The key and file of this store and options (disabled for an in-memory store); -1 on OOM. */
int scan_cache_init(scan_cache *c, sk_store *st, const char *db, bool subdomains, bool no_wl);
/* Keep (and print, unless quiet hides it) the message of an indicator a build skipped. */
void scan_cache_skipped(scan_cache *c, sk_indload_skip why, const char *id, const char *msg,
                        bool quiet);
/*
 * The cached matcher when it is current or a delta brings it up to date
 * (filling ss->vers/ninds and *ls and printing the stored skip messages),
 * else NULL: no file, stale (reason in c->stale) or damaged (said on
 * stderr).
 */
sk_matcher *scan_cache_load(scan_cache *c, scan_state *ss, int64_t at, const sk_match_opts *mo,
                            bool quiet, sk_indload_stats *ls);
/* Write the freshly built m (a failure is only reported). */
void scan_cache_save(scan_cache *c, const scan_state *ss, const sk_matcher *m,
                     const sk_indload_stats *ls, bool quiet);
void scan_cache_clear(scan_cache *c);

/* Matching with the base and the delta: hits numbered as above. */
typedef struct scan_mctx scan_mctx;
/* -1 with err set */
int scan_mctx_new(const scan_cache *c, const sk_matcher *m, scan_mctx **out, sk_error *err);
size_t scan_mctx_record(scan_mctx *x, const sk_logrec *rec, const sk_match_hit **hits);
void scan_mctx_free(scan_mctx *x);

/*
 * For emitting hit ind: true when it is masked (a base hit on an indicator
 * the delta covers, or one that expired or decayed between the base's
 * build and the scan's time); else *local / *mst are the number and the observation
 * state within its own matcher (unchanged for a base hit).
 */
bool scan_cache_route(scan_cache *c, scan_state *ss, uint32_t ind, uint32_t *local,
                      sk_match_state **mst);

#endif
