/*
 * scan.h - state shared by `schakel scan` (cmd_scan.c: options, the record
 * loop, threads) and scan_out.c (hit JSON, indicator metadata, sightings).
 */
#ifndef SCHAKEL_CLI_SCAN_H
#define SCHAKEL_CLI_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "schakel/buf.h"
#include "schakel/matcher.h"
#include "schakel/store.h"

/*
 * One compiled indicator: what its hits print, and its sighting tally.  Only
 * ver is set at compile time; the metadata (id ... confidence) is read from
 * the store on the first hit (scan_ind_load), so a million indicators cost
 * no strings.
 */
typedef struct scan_ind {
	int64_t ver;  /* objects.ver of the compiled version */
	bool loaded;  /* id ... confidence filled */
	char *id;
	char *name;     /* may be NULL */
	char *pattern;
	char *producer; /* created_by_ref, may be NULL */
	sk_tlp tlp;
	int confidence; /* -1 = absent */
	char *frag;     /* cached JSON: "indicator":{...},"indicates":[...] (built on first hit) */
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
	sk_buf line; /* one output line */
	uint64_t hits;
	/* producer id -> name cache (few producers) */
	char **prod_id, **prod_name;
	size_t nprod;
} scan_state;

/* A hit ready to print.  Strings are borrowed for the call. */
typedef struct scan_hit {
	uint32_t ind;
	int64_t ts_us;
	const char *file;
	uint64_t line, offset;
	const char *field, *kind, *value; /* NULL when no single value stands for it */
	size_t value_len;
	const sk_match_ref *refs; /* multi-observation: contributing records; else NULL */
	size_t nrefs;
	const char *const *files; /* names for refs[].file */
} scan_hit;

/* Fill si's metadata from the store (once; main thread).  0, or -1 if it is gone. */
int scan_ind_load(scan_state *ss, scan_ind *si);

/* Print one hit as a JSON line and count it for the sighting.  0 or -1 on a write error. */
int scan_emit(scan_state *ss, const scan_hit *h);

/*
 * Write (or version) one sighting per indicator with hits not yet counted in
 * a stored sighting (so it can run periodically under --follow).  Returns an
 * exit-style 0/1.
 */
int scan_write_sightings(scan_state *ss, const char *collection);

void scan_state_clear(scan_state *ss);

#endif
