/*
 * warninglist_priv.h - what the warninglist*.c files share beyond the public
 * header: the in-memory set's layout, its key table and scratch pool
 * (warninglist.c) for the lookups (warninglist_match.c), and the value
 * helpers (warninglist_value.c); and what the unit tests see: the
 * POSIX-to-Hyperscan regex translation and how many regex entries of a set
 * run where.
 */
#ifndef SCHAKEL_WARNINGLIST_PRIV_H
#define SCHAKEL_WARNINGLIST_PRIV_H

#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/warninglist.h"
#include "match_hs.h"

#define MAX_VALUE 4096

/* --- the in-memory set (warninglist.c) ----------------------------------- */

enum { T_STRING, T_SUBSTRING, T_HOSTNAME, T_CIDR, T_REGEX };

typedef struct wl_list {
	char *name;
	int type;
	unsigned kinds; /* bit per sk_wl_kind */
	size_t entries;
	regex_t *res; /* regex entries outside the Hyperscan subset */
	size_t nres;
} wl_list;

typedef struct slot {
	uint64_t hash;
	uint32_t off, len; /* key in the arena */
	uint32_t list;
	uint32_t used;
} slot;

/*
 * Expressions collected while loading, for one Hyperscan database.  A regex
 * expression's text is followed (after its NUL) by its POSIX original.
 */
typedef struct hs_pending {
	char **text;
	size_t *len;
	unsigned *flags;
	uint32_t *list;
	uint32_t n, cap;
} hs_pending;

/* One lookup's scratch: Hyperscan's, and a bitmap of the lists an entry matched. */
typedef struct wl_scratch {
	struct wl_scratch *next;
	mhs_scratch *hs;
	bool sub_fit; /* hs also serves the substring database */
	uint64_t hits[];
} wl_scratch;

/* The substring database's life (see SUB_LAZY). */
enum { SUB_PENDING, SUB_BUILDING, SUB_READY, SUB_FAILED };

/* Scratches not in use; lookups take one and give it back (see sk_wl_scratch_get). */
typedef struct wl_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	wl_scratch *free;
} wl_pool;

struct sk_wl_set {
	wl_list *lists;
	size_t nlists;
	slot *tab;
	size_t tabsize, nkeys;
	char *arena;
	size_t alen, acap;
	unsigned char plen4[33], plen6[129]; /* prefix lengths in use */
	size_t entries;
	uint64_t *bloom; /* over the keys' hashes; NULL = probe the table */
	size_t bloom_mask;
	/* substring and regex entries; psub stays for the lookups before sub_db */
	mhs *sub_db, *re_db;
	uint32_t *re_list; /* expression id -> list */
	size_t nre_fallback;
	atomic_int sub_state; /* SUB_*; sub_db is set before SUB_READY is stored */
	atomic_uint_fast64_t sub_lookups;
	uint64_t sub_lazy; /* SUB_LAZY, or what a test sets */
	uint32_t nre;
	/* kinds some list with substring / Hyperscan regex / regexec entries applies to */
	unsigned sub_kinds, re_kinds, fb_kinds;
	size_t words; /* of a wl_scratch's hits */
	wl_pool *pool;
	hs_pending psub, pre; /* pre: while loading */
	bool c_locale;
};

/* Calls fn for each list of s holding key[0..n); stops when fn returns true. */
bool sk_wl_find_key(const sk_wl_set *s, const void *key, size_t n,
		    bool (*fn)(void *ud, uint32_t list), void *ud);

/* A scratch for one lookup, from the set's pool; give it back with sk_wl_scratch_put. */
wl_scratch *sk_wl_scratch_get(const sk_wl_set *s);
void sk_wl_scratch_put(const sk_wl_set *s, wl_scratch *sc);

/* --- values (warninglist_value.c) ---------------------------------------- */

/*
 * Lowercase s[0..n) into out, dropping one trailing dot (and for hostnames a
 * leading "*." or "."); the length, 0 when it does not fit outsz.
 */
size_t sk_wl_norm_value(const char *s, size_t n, bool hostname, char *out, size_t outsz);

/* Canonical text of an IPv6 address value v[0..n) (in place, cap bytes); its new length. */
size_t sk_wl_canon_ip(char *v, size_t n, size_t cap);

/* Parse "addr" or "addr/plen" (v4 or v6) into addr; *fam 4 or 6. */
bool sk_wl_parse_cidr(const char *s, int *fam, unsigned char addr[16], unsigned *plen);

/* Clear the bits of address a[0..len) past prefix length plen. */
void sk_wl_mask(unsigned char *a, size_t len, unsigned plen);

/* --- regexes (warninglist_regex.c); and for the unit tests --------------- */

/*
 * Translate re, a POSIX extended regex as glibc's regcomp reads it in the C
 * locale (REG_ICASE when icase), into a Hyperscan expression that matches
 * the same strings when compiled with SK_MHS_DOTALL (and SK_MHS_CASELESS
 * when icase).  False, with out unspecified, when re leaves the subset this
 * translation knows to be equivalent (GNU escapes such as \w or \1,
 * collating elements, ranges under icase, repeated quantifiers, empty
 * groups or alternatives, intervals above 255...): such entries stay with
 * regexec.  re must already be accepted by regcomp.
 */
bool sk_warninglist_regex_to_hs(const char *re, bool icase, char *out, size_t outsz);

/* Regex entries of set compiled into Hyperscan, and left to regexec. */
void sk_warninglist_regex_counts(const sk_wl_set *set, size_t *hs, size_t *fallback);

/*
 * Substring lookups that go entry by entry before the Hyperscan database is
 * built (default 256; 0 = build at the first lookup).  Call before any
 * lookup.
 */
void sk_warninglist_sub_lazy(sk_wl_set *set, uint64_t lookups);

#endif
