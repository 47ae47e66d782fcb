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
	scan_ind *inds;
	uint32_t ninds, indcap;
	FILE *out;
	sk_hit_fmt *fmt; /* hit lines (main thread) */
	uint64_t hits;
} scan_state;

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

#endif
