/*
 * galaxy.h - MISP galaxy threat-actor clusters turned into STIX 2.1
 * (docs/galaxy.md).
 *
 * Each cluster becomes a threat-actor produced by a named source identity
 * (default "MISP galaxy (imported)"), marked TLP:CLEAR (the galaxies are
 * public), with its aliases, references and ATT&CK group ids; its country
 * as a location with a located-at relationship; a suspected state sponsor
 * as an attributed-to relationship to a nation-state threat actor of that
 * country; its target categories as targets relationships to sector
 * identities (identity_class "class", with STIX industry sectors, see
 * intel.h's sector table); and joins to the intrusion sets already in the
 * store (ATT&CK's) by ATT&CK group id, then name, then alias: new
 * attributed-to relationships from the intrusion set to the galaxy actor,
 * made by the same source, never new versions of the intrusion set.
 *
 * Ids are derived from the cluster uuids (UUIDv5), so importing a file
 * again stores nothing; a cluster that changed gets a new version.  The
 * whole import is one transaction through the store's writer (sk_store_put:
 * write rule, markings, signatures): malformed input stops it with the
 * file and the offset or cluster named, and nothing is stored.
 */
#ifndef SCHAKEL_GALAXY_H
#define SCHAKEL_GALAXY_H

#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/store.h"

#define SK_GALAXY_DEFAULT_SOURCE "MISP galaxy (imported)"
#define SK_GALAXY_MAX_FILE       ((size_t)64 << 20) /* largest cluster file read */

typedef struct sk_galaxy_opts {
	const char *source; /* producing identity's name; NULL = SK_GALAXY_DEFAULT_SOURCE */
	int64_t cid;        /* collection to add every object to (0 = none) */
	/* Called for each file skipped in a directory (not a threat-actor cluster file). */
	void (*on_skip)(void *ud, const char *path, const char *why);
	void *ud;
} sk_galaxy_opts;

typedef struct sk_galaxy_stats {
	uint64_t files, clusters;
	uint64_t actors;    /* threat actors written (new or changed) */
	uint64_t objects;   /* STIX objects written, all types */
	uint64_t unchanged; /* objects already stored with the same content */
	uint64_t joined;    /* galaxy actors joined to an intrusion set */
	uint64_t joins_id, joins_name, joins_alias; /* joins by ATT&CK id, name, alias */
} sk_galaxy_stats;

/*
 * Import paths[0..n): cluster files, or directories whose *.json files are
 * read (files of other galaxy types, such as country or sector, are
 * skipped).  One transaction for everything; on error nothing is stored and
 * err names the file and the offset (malformed JSON) or the cluster (by
 * index, value or uuid).  Adds into *stats (zero it first).
 */
sk_err sk_galaxy_import(sk_store *st, const char *const *paths, size_t n, const sk_galaxy_opts *o,
                        sk_galaxy_stats *stats, sk_error *err);

#endif
