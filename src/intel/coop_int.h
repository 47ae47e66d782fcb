/*
 * coop_int.h - what the cooperation modules share (coop.h): the state of
 * one report while it is computed.  coop.c loads the partners and counts
 * what was received and sent; coop_sight.c follows sightings to the
 * indicators they rest on (detections enabled, lead times, sectors,
 * anonymous counts) and measures reach and sync health; coop_out.c writes
 * CSV and HTML.
 */
#ifndef SCHAKEL_COOP_INT_H
#define SCHAKEL_COOP_INT_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>

#include "intel_int.h"
#include "schakel/coop.h"

/* A growable list of durations (seconds), capped. */
typedef struct co_vec {
	double *v;
	size_t n, cap;
} co_vec;

#define CO_VEC_MAX ((size_t)1 << 26)

bool co_vec_add(co_vec *v, double x);
void co_vec_free(co_vec *v);
/* {"n", "median", "p90", "max"} of v (sorted in place). */
json_t *co_vec_json(co_vec *v);

/* One partner or peer (merged by identity). */
typedef struct co_partner {
	char *name, *identity, *country;
	bool is_partner, is_peer;
	json_t *recv_type, *recv_tlp, *sent_type, *sent_tlp; /* name -> count */
	int64_t recv, sent, sent_unlisted, sight_recv, sight_sent, op_recv, op_sent;
	int64_t direct, relayed; /* received versions it produced itself / relayed */
	int64_t det;             /* sightings resting on indicators it produced or relayed */
	co_vec tts, hop, up;     /* time to share: whole, last hop, producer to source */
	co_vec lead, fb;         /* lead time here; feedback to our indicators */
	json_t *sync;            /* peer health, or NULL */
} co_partner;

typedef struct co_ctx {
	sk_store *st;
	sk_error *err;
	int64_t since, until;
	char *own;    /* the node's identity, or NULL */
	int scope;    /* index of the partner the report is scoped to, -1 = none */
	json_t *keys; /* identity / "peer:NAME" / "partner:NAME" -> index */
	co_partner *p;
	size_t np, cap;
	/* sightings (coop_sight.c) */
	int64_t sight_here, sight_recv_total, own_det;
	co_vec own_lead;       /* indicators from anyone -> first sighting here */
	json_t *sectors;       /* sector -> {"sightings", "by": {partner: n}, fb: [..]} */
	json_t *anon;          /* "sector\tcountry" -> {"n", "who": {}, "via": {}} */
	json_t *ind_fb_sector; /* sector -> co_vec index in fbs */
	co_vec *fbs;           /* per-sector feedback lead times */
	size_t nfbs;
	json_t *reach, *capacity;
	int64_t reach_more;
} co_ctx;

/* The index of key, or -1. */
int co_find(co_ctx *c, const char *key);
/* The index of key, adding an unlisted source named by it if unknown; -1 on ENOMEM. */
int co_get(co_ctx *c, const char *key);
/* Prepare sql (caller finalizes); NULL with c->err set. */
sqlite3_stmt *co_prep(co_ctx *c, const char *sql);
/* Bind ?1 since, ?2 until, ?3 scoped (0/1). */
void co_bind_period(co_ctx *c, sqlite3_stmt *s);
/* Count n into obj[key]. */
void co_count(json_t *obj, const char *key, json_int_t n);

/* The versions the scoped partner was given, gave or produced (temp.coop_given). */
#define CO_GIVEN(o) " (?3=0 OR EXISTS(SELECT 1 FROM temp.coop_given g WHERE g.ver=" o ".ver)) "

sk_err co_sightings(co_ctx *c);
sk_err co_reach(co_ctx *c);
sk_err co_sync(co_ctx *c);
sk_err co_capacity(co_ctx *c);

#endif
