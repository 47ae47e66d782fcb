/*
 * intel.h - what the store knows about actors and critical sectors, for
 * people: the critical sector table (sector.c), threat actors and intrusion
 * sets with their state attribution and ATT&CK matrix (actors.c), who
 * targets a sector and which partners of it sighted what (sectors.c), and
 * the timeline of a campaign or actor (timeline.c).  The CLI (`schakel
 * actors`) and the console (/ui/api/actors, sectors, timeline) share these
 * functions, so both give the same answer.
 *
 * Visibility: every query reads objects through the SQL function
 * sk_visible(ver, tlp, created_by, rx), which the caller registers on st's
 * connection beforehand with sk_view_bind (policy.h): the console binds the
 * request's principal, the CLI a view with no principal (the local operator
 * sees everything).  A hidden version is never read, so it never reaches a
 * list, count or chart.  The answers are jansson values in the shapes of
 * docs/console.md; the caller owns (json_decref) them.
 */
#ifndef SCHAKEL_INTEL_H
#define SCHAKEL_INTEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "schakel/error.h"
#include "schakel/store.h"

/* --- the critical sectors (sector.c, docs/sectors.md) ----------------------- */

typedef struct sk_sector {
	const char *key;  /* "water", "energy", "finance", "health", "government", "telecom",
	                     "transport" */
	const char *name; /* "Water", "Finance and payments", ... */
	const char *stix; /* the STIX industry-sector-ov value a sector identity made here gets */
	const char *const *stix_all; /* every STIX industry sector mapped onto it (NULL-ended) */
	const char *const *misp;     /* MISP galaxy target categories mapped onto it (NULL-ended) */
} sk_sector;

#define SK_SECTOR_COUNT 7

/* The table (SK_SECTOR_COUNT rows, in display order). */
const sk_sector *sk_sector_table(void);

/* The row of key (case-insensitive), or NULL. */
const sk_sector *sk_sector_get(const char *key);

/*
 * Does the STIX industry sector s (industry-sector-ov, any case) belong to
 * critical sector k?  "utilities" belongs to water and energy, "government"
 * and every "government-*" value to government.
 */
bool sk_sector_has_stix(const sk_sector *k, const char *s);

/* Does the MISP target category c (any case, trimmed) belong to k? */
bool sk_sector_has_misp(const sk_sector *k, const char *c);

/*
 * The STIX industry sector a MISP target category stands for (the critical
 * sectors' own, and a few others such as "Military" -> "defense"), or NULL.
 */
const char *sk_sector_misp_to_stix(const char *c);

/* --- actors (actors.c) ---------------------------------------------------------- */

typedef struct sk_actor_filter {
	const char *country; /* ISO 3166-1 alpha-2 (any case), or NULL */
	const char *sector;  /* a critical sector key, or NULL */
	const char *q;       /* text in name, aliases or external ids (any case), or NULL */
	size_t limit;        /* most actors listed, by name (0 = all); total counts every match */
} sk_actor_filter;

/*
 * {"total": N, "actors": [{summary, aliases, countries: [{code, name, confidence, via}],
 * sectors: [key], campaigns, malware, techniques}]}: threat actors and
 * intrusion sets (latest visible versions, not revoked), by name.  A
 * country comes from a located-at / originates-from location of the actor,
 * or of what it is attributed to, up to three attributed-to steps (so an
 * ATT&CK intrusion set joined to a MISP galaxy actor has the galaxy's
 * country); sectors from targets relationships to identities with sectors,
 * of the actor and of what is attributed to it or what it is attributed
 * to.  SK_EINVAL for an unknown sector key or a country that is not two
 * letters.
 */
sk_err sk_intel_actors(sk_store *st, const sk_actor_filter *f, json_t **out, sk_error *err);

/*
 * One actor (GET actors/{id}, docs/console.md): attribution chain with
 * confidences, countries, sponsor, campaigns, malware, tools, sectors,
 * targets and the ATT&CK matrix.  SK_ENOTFOUND if id is no visible threat
 * actor or intrusion set.
 */
sk_err sk_intel_actor(sk_store *st, const char *id, json_t **out, sk_error *err);

/* --- sectors (sectors.c) ----------------------------------------------------------- */

/* {"sectors": [{key, name, stix, targeted_by, sightings}]} */
sk_err sk_intel_sectors(sk_store *st, json_t **out, sk_error *err);

/*
 * {key, name, stix, attackers: [summary + via, kind], partners: [{name,
 * identity, country, partner, sightings}], sightings: [{id, of, count,
 * first_seen, last_seen, created, where}], trend: [{day, sightings,
 * targets}]}: attackers are the sources of targets relationships to the
 * sector's identities (kind "targets") and what the indicators sighted there
 * indicate, with who uses that malware or tool (kind "sighting"); partners
 * are the node's partners of the sector (partner true) and the other
 * identities of the sector that sighted something.  SK_ENOTFOUND for an
 * unknown key.
 */
sk_err sk_intel_sector(sk_store *st, const char *key, json_t **out, sk_error *err);

/* --- timelines (timeline.c) --------------------------------------------------------- */

/*
 * {subject, first_seen, last_seen, events: [{time, kind, id, name, detail}]}
 * for any visible object (a campaign or actor above all): its versions and
 * revocation, relationships made to or from it, campaigns attributed to
 * it, reports that contain it, and sightings of it and of the indicators
 * that indicate it; oldest first.  SK_ENOTFOUND if id is not visible.
 */
sk_err sk_intel_timeline(sk_store *st, const char *id, json_t **out, sk_error *err);

/* --- shared helpers --------------------------------------------------------------- */

/*
 * An object summary {"id","type","name","tlp","producer","modified","revoked"}
 * for the latest visible version of id, or NULL if none is visible.
 */
json_t *sk_intel_summary(sk_store *st, const char *id);

#endif
