/*
 * warninglist.h - MISP warning lists: values known to be benign or too
 * common to be indicators (public DNS resolvers, top sites, cloud ranges).
 *
 * Lists are imported from a directory in the MISP warninglists layout
 * (DIR/<name>/list.json with name, version, description, type, list,
 * matching_attributes) into the store, and loaded from there into an
 * in-memory set that the matcher compiler consults: an indicator whose value
 * is on a list is reported and left out (unless the operator says otherwise).
 *
 * List types and how a value matches:
 *   string     the normalised value equals an entry
 *   hostname   the domain (or a URL's host) or one of its parent domains is an entry
 *   cidr       the IPv4/IPv6 address (or CIDR) lies within an entry
 *   substring  an entry occurs in the value (case-insensitive)
 *   regex      an entry (MISP "/re/flags", POSIX extended; entries POSIX cannot
 *              compile are skipped) matches the value
 * Normalised: lowercase, one trailing dot removed (hostname entries also lose
 * a leading "." or "*."); IPv6 addresses in canonical form.  A list applies to
 * the kinds its matching_attributes name (an empty list applies to all).
 */
#ifndef SCHAKEL_WARNINGLIST_H
#define SCHAKEL_WARNINGLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/store.h"

typedef enum sk_wl_kind {
	SK_WL_IP,     /* IPv4/IPv6 address or CIDR */
	SK_WL_DOMAIN, /* domain or host name */
	SK_WL_URL,
	SK_WL_EMAIL,
	SK_WL_HASH,
	SK_WL_OTHER,
	SK_WL__COUNT
} sk_wl_kind;

/* "ip", "domain", ... (static). */
const char *sk_wl_kind_name(sk_wl_kind k);

/* Guess the kind of a value (as `warninglist check` does). */
sk_wl_kind sk_wl_kind_of(const char *value);

typedef struct sk_wl_import_stats {
	uint64_t lists;    /* lists (re)loaded */
	uint64_t current;  /* lists skipped: the store has this or a newer version */
	uint64_t failed;   /* list.json files that could not be read or parsed */
	uint64_t entries;  /* entries stored */
	uint64_t skipped;  /* entries that are not strings or are empty */
} sk_wl_import_stats;

typedef struct sk_wl_import_opts {
	bool force; /* reload a list even if the stored version is the same or newer */
	/* Called per list: path of its list.json, and what happened ("loaded",
	 * "current", or the error). */
	void (*on_list)(void *ud, const char *path, const char *name, int64_t version,
			uint64_t entries, const char *what);
	void *ud;
} sk_wl_import_opts;

/*
 * Import every DIR/<name>/list.json (directories without one are ignored).
 * Each list is replaced in its own transaction.  A broken list.json is
 * reported through on_list and counted in stats->failed; it does not stop the
 * others.  Returns an error only if DIR cannot be read or the store fails.
 * stats is added into (zero it first).
 */
sk_err sk_warninglist_import_dir(sk_store *st, const char *dir, const sk_wl_import_opts *o,
				 sk_wl_import_stats *stats, sk_error *err);

/* Import one list.json (path) as sk_warninglist_import_dir does. */
sk_err sk_warninglist_import_file(sk_store *st, const char *path, const sk_wl_import_opts *o,
				  sk_wl_import_stats *stats, sk_error *err);

typedef struct sk_wl_info {
	const char *name;
	int64_t version;
	const char *description;
	const char *type;
	const char *matching_attributes; /* JSON array text */
	int64_t entries;
} sk_wl_info;

/* Call fn for each stored list, by name (fn returns non-zero to stop). */
sk_err sk_warninglist_each(sk_store *st, int (*fn)(void *ud, const sk_wl_info *l), void *ud,
			   sk_error *err);

typedef struct sk_wl_set sk_wl_set;

/*
 * Build the in-memory lookup from every list in the store.  *out is freed by
 * the caller with sk_warninglist_free().  An empty store gives an empty set.
 */
sk_err sk_warninglist_load(sk_store *st, sk_wl_set **out, sk_error *err);

void sk_warninglist_free(sk_wl_set *set);

/*
 * A cheap fingerprint of the stored lists (their number, import times and
 * versions): it changes when a list is imported or replaced, so a
 * long-running process knows when to load them again.
 */
sk_err sk_warninglist_stamp(sk_store *st, uint64_t *out, sk_error *err);

/* Number of lists and entries in the set. */
size_t sk_warninglist_count(const sk_wl_set *set, size_t *entries);

/*
 * True if value (of kind) is on a list that applies to kind; *list (may be
 * NULL) then points at the first such list's name (owned by set).
 * The lookups may run from several threads at once on one set (each takes
 * a Hyperscan scratch from the set's pool for the substring and regex lists).
 */
bool sk_warninglist_match(const sk_wl_set *set, sk_wl_kind kind, const char *value,
			  const char **list);

/*
 * Call fn for every list that contains value (of kind), whatever the lists'
 * matching_attributes say when any_kind is true.  Returns the number of lists.
 */
size_t sk_warninglist_match_all(const sk_wl_set *set, sk_wl_kind kind, const char *value,
				bool any_kind, void (*fn)(void *ud, const char *list,
							  const char *type),
				void *ud);

#endif
