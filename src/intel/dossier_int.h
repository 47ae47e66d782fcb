/*
 * dossier_int.h - what the dossier's modules share (dossier.c: subject,
 * provenance and the attribution chain; dossier_what.c: activity, who was
 * hit, opinions; dossier_legal.c: gaps, the legal test and the listing
 * part).  One builder context per call.
 */
#ifndef SCHAKEL_DOSSIER_INT_H
#define SCHAKEL_DOSSIER_INT_H

#include "intel_int.h"
#include "schakel/dossier.h"

typedef struct dz {
	sk_store *st;
	const sk_dossier_opts *o;
	size_t max;         /* items per list */
	const char *id;     /* the subject */
	json_t *d;          /* the dossier being built */
	json_t *prov;       /* id -> provenance object (cache) */
	json_t *refs;       /* id -> true: every object the dossier rests on */
	json_t *vers;       /* "ver" -> true: their versions */
	json_t *cut;        /* [{list, shown, total}] */
	json_t *activity;   /* subject, campaigns and intrusion sets attributed to it: id -> true */
	json_t *chain;      /* attribution chain nodes: id -> true */
	json_t *indicators; /* indicator id -> [relationship ids] (dz_activity) */
	json_t *targets;    /* targeted id -> [relationship ids] (dz_activity) */
	json_t *hit;        /* critical sector key -> true, from sightings (dz_impact) */
	int tlp;            /* most restrictive level of what the dossier shows */
	int64_t since_us;   /* 0 = no --since */
	sk_error *err;
} dz;

/*
 * The provenance of id's latest visible version {producer, signature, from,
 * tlp, not_releasable_to?} (borrowed from the cache), NULL if not visible.
 * Records id among the dossier's references.
 */
json_t *dz_prov(dz *z, const char *id);

/* A summary of id with its provenance and evidence ids (new), NULL if not visible. */
json_t *dz_item(dz *z, const char *id);

/* Append v (stolen) to list unless it holds z->max items; counts what was cut under name. */
void dz_push(dz *z, json_t *list, json_t *v);
/* After a list is complete: record {list: name, shown, total} if total > shown. */
void dz_cut(dz *z, const char *name, json_t *list, size_t total);

/* Is the time text t (RFC 3339) before --since? */
bool dz_before_since(const dz *z, const char *t);

/* A statement prepared on the store, NULL with z->err set. */
sqlite3_stmt *dz_prep(dz *z, const char *sql, size_t len);
#define DZ_PREP(z, sql) dz_prep(z, sql, sizeof(sql) - 1)

bool dz_is_type(const char *id, const char *type);

/* Cut s back to its longest valid UTF-8 prefix (after a truncating snprintf). */
void dz_utf8_trim(char *s);

/* dossier_what.c */
sk_err dz_activity(dz *z);
sk_err dz_impact(dz *z);
sk_err dz_opinions(dz *z);
sk_err dz_timeline(dz *z);

/* dossier_legal.c */
void dz_gaps(dz *z);
void dz_legal(dz *z);
void dz_listing(dz *z);
void dz_summary(dz *z);

#endif
