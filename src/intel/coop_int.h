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
#include <stdint.h>

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

#define CO_TYPES 64 /* object types told apart; more are counted as "other" */

/* One partner or peer (merged by identity). */
typedef struct co_partner {
	char *name, *identity, *country;
	bool is_partner, is_peer;
	int64_t *nt;      /* [2][CO_TYPES]: received, sent versions per interned type */
	int64_t nl[2][6]; /* received, sent versions per TLP level (0 = unmarked) */
	int64_t recv, sent, sent_unlisted, sight_recv, sight_sent, op_recv, op_sent;
	int64_t direct, relayed; /* received versions it produced itself / relayed */
	int64_t det;             /* sightings resting on indicators it produced or relayed */
	co_vec tts, hop, up;     /* time to share: whole, last hop, producer to source */
	co_vec lead, fb;         /* lead time here; feedback to our indicators */
	json_t *sync;            /* peer health, or NULL */
} co_partner;

/* A sighting or opinion: its first version (coop_sight.c). */
typedef struct co_sig {
	char *by, *rx;    /* created_by, rx of the first version (may be NULL) */
	char *id, *of_id; /* its id and sighted id: kept only for a summary (c->keyed) */
	int of;           /* the sighted indicator (index into ind), -1 */
	uint64_t of_h;    /* co_hash of its id, 0 = none */
	int from;         /* partner it came from, -1 = made here */
	int64_t ver, added, made;
	bool opinion;
} co_sig;

/* A sighted indicator: its first version here. */
typedef struct co_ind {
	bool found, own;
	int producer, relay; /* partner indexes, -1 = none */
	int64_t arrived;     /* first version's added */
	int64_t first_here;  /* first sighting made here, 0 = none */
	json_t *fb;          /* partner index / "s:sector" -> earliest sighting reported back */
} co_ind;

/*
 * A sighted indicator's id (co_hash: 64 bits, a collision among a store's
 * indicators is vanishingly unlikely) and its first version, found by one
 * pass over the indicator versions the scan listed.
 */
typedef struct co_first {
	uint64_t h;  /* 0 = empty */
	int32_t ver; /* its first version, -1 = not held here */
	int32_t ind; /* index into ind, -1 */
} co_first;

/* What the report keeps of every version, by objects.ver. */
typedef struct co_ver {
	uint8_t type; /* interned type + 1; 0 = none, or not visible */
	uint8_t tlp;
	int32_t sig; /* index into sig, -1 = none */
	int32_t rep; /* index into rep, -1 = none */
} co_ver;

/* A report or grouping handed out (reach). */
typedef struct co_rep {
	char *id, *name, *type;
	int64_t start; /* its first version's added */
	json_t *to;    /* partner index -> first time handed out */
} co_rep;

#define CO_TYPES        64 /* object types told apart; more are counted as "other" */
#define CO_MAX_VERSIONS ((int64_t)200 * 1000 * 1000)

typedef struct co_ctx {
	sk_store *st;
	sk_error *err;
	int64_t since, until;
	char *own; /* the node's identity, or NULL */
	int scope; /* index of the partner the report is scoped to, -1 = none */
	/*
	 * A summary for the scoped partner (sk_coop_opts.keyed): sightings of
	 * indicators it produced or relayed here count when the view shows
	 * them, given or not, and are listed by id in keyed.
	 */
	bool keyed_mode;
	json_t *keyed;
	json_t *keys; /* identity / "peer:NAME" / "partner:NAME" -> index */
	co_partner *p;
	size_t np, cap;
	/* per version, indexed by objects.ver (coop.c: one scan of the store) */
	int64_t maxver;
	co_ver *v;          /* what the exits and sightings look up, together: one cache line */
	int64_t *vadded;    /* when the version was stored here */
	int32_t *vrx, *vby; /* partner index, -1 = none (vby -2: this node) */
	uint8_t **sent;     /* per partner: bitmap of the versions handed out in the period */
	uint8_t **sigrecv, **sigsent; /* per partner: bitmaps of sig indexes */
	char *types[CO_TYPES];
	int ntypes, t_sighting, t_opinion, t_indicator, t_report, t_grouping;
	/* sightings and opinions, sighted indicators, reports (coop_sight.c) */
	co_sig *sig;
	size_t nsig, capsig;
	json_t *sig_ids; /* id -> index */
	co_ind *ind;
	size_t nind, capind;
	uint64_t *ih;  /* co_hash of the id of every indicator version, in ver order */
	int32_t *iver; /* its version */
	size_t ni, capi;
	co_rep *rep;
	size_t nrep, caprep;
	json_t *rep_ids; /* id -> index */
	/* figures of the sightings */
	int64_t sight_here, sight_recv_total, own_det;
	co_vec own_lead;       /* indicators from anyone -> first sighting here */
	json_t *sectors;       /* sector -> {"sightings", "by": {partner: n}} */
	json_t *anon;          /* "sector\tcountry" -> {"n", "who": {}, "via": {}} */
	json_t *ind_fb_sector; /* sector -> co_vec index in fbs */
	co_vec *fbs;           /* per-sector feedback lead times */
	size_t nfbs;
	json_t *reach, *capacity, *colls;
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

/* FNV-1a (64 bits, never 0) of an indicator id: the key of the first-version table. */
static inline uint64_t co_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h ? h : 1;
}

/* Is bit i of map set? */
static inline bool co_bit(const uint8_t *map, int64_t i)
{
	return map && (map[i >> 3] >> (i & 7)) & 1;
}

/* Was version ver given to, given by, or produced by the scoped partner (true unscoped)? */
bool co_given(const co_ctx *c, int64_t ver);

/* A version of a sighting or opinion met by the scan (sets v[ver].sig); false on ENOMEM. */
bool co_sig_add(co_ctx *c, int64_t ver, const char *id, const char *rx, const char *by,
                int64_t added, const char *created, bool opinion, const char *of);
/* Room for n indicator versions in the scan's list; false on ENOMEM. */
bool co_first_init(co_ctx *c, size_t n);
/* An indicator version met by the scan (in ver order); false on ENOMEM. */
bool co_first_add(co_ctx *c, const char *id, int64_t ver);
/* After the scan: each sighting's indicator, its first version and who gave it. */
sk_err co_resolve(co_ctx *c);
/* The figures of the sightings of the period (after the scan and the exits). */
sk_err co_sightings(co_ctx *c);
sk_err co_reach(co_ctx *c);
sk_err co_collections(co_ctx *c);
sk_err co_sync(co_ctx *c);
sk_err co_capacity(co_ctx *c);
void co_sight_free(co_ctx *c);

/* CSV and HTML pieces (coop_out.c) the network report's output shares (coop_netout.c). */
void co_csv_field(sk_buf *b, const char *s); /* quoted when it must be */
void co_csv_num(sk_buf *b, const json_t *v); /* ",N", or "," when not a number */
void co_esc(sk_buf *b, const char *s);       /* HTML-escaped text */
/* A capacity's log source kinds ("zeek:dns eve:http") or, gaps, its gaps ("url 2; file 1"). */
void co_cap_list(sk_buf *b, const json_t *cap, bool gaps);

#endif
