/*
 * match_priv.h - the matcher's internal structures, shared by matcher.c
 * (lifecycle), match_path.c (object paths, the direct path), match_compile.c
 * (pattern to trees), match_trigger.c (index entries), match_eval.c (per-record
 * evaluation), match_index.c (hash index, keys, normalisation), match_hs.c
 * (Hyperscan), match_ipport.c (ip:port patterns) and match_obs.c (stream
 * state).
 */
#ifndef SCHAKEL_MATCH_PRIV_H
#define SCHAKEL_MATCH_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "schakel/matcher.h"
#include "schakel/pattern.h"
#include "match_hs.h"

/*
 * One bit per (kind, role) pair: what a path accepts.  The network kinds
 * (IPV4 .. FILENAME) have three roles, so three bits each (0..53); the host
 * kinds after SK_OBS_SIGNATURE are never src / dst and get one bit each
 * (55..63), which keeps the set in 64 bits.  SK_OBS_NONE, SK_OBS_SIGNATURE
 * and SK_OBS_PHONE (matched by hashed indicators only), which no path
 * names, share bit 54.
 */
#define SK_KR_SHIFT(kind, role)                                                                    \
	((unsigned)(kind) - 1u < SK_OBS_SIGNATURE - 1u                                             \
	     ? ((unsigned)(kind) - 1u) * 3u + (unsigned)(role)                                     \
	 : (unsigned)(kind) > SK_OBS_SIGNATURE && (unsigned)(kind) <= SK_OBS_REGVALUE              \
	     ? (unsigned)(kind) + 35u                                                              \
	     : 54u)
#define SK_KR_BIT(kind, role) (1ull << SK_KR_SHIFT(kind, role))
#define SK_KR_ALL(kind)                                                                            \
	(((unsigned)(kind) - 1u < SK_OBS_SIGNATURE - 1u ? 7ull : 1ull) << SK_KR_SHIFT(kind, 0))
_Static_assert((SK_OBS_SIGNATURE - 1) * 3 == 54, "network (kind, role) bits end at 53");
_Static_assert(SK_OBS_REGVALUE + 35 <= 63, "(kind, role) bits exceed 64");

/* What a comparison compares: decides value parsing and the key class. */
typedef enum mval {
	MV_IP,   /* ipv4 / ipv6 address, CIDR allowed */
	MV_PORT, /* integer */
	MV_STR,  /* exact string after normalisation (domain, url, email, ja3, ua...) */
	MV_HASH, /* hex digest, compared as binary */
	MV_TYPE, /* the STIX type of a referenced object (network-traffic:dst_ref.type):
	            compiled into the set of observation kinds that carry it */
} mval;

/* Key classes: the first byte of every index key. */
enum {
	K_IP4 = 1,  /* + 4 bytes */
	K_IP6 = 2,  /* + 16 bytes */
	K_NET4 = 3, /* + prefix length + 4 bytes (masked) */
	K_NET6 = 4, /* + prefix length + 16 bytes (masked) */
	K_STR = 5,  /* + obs kind + normalised text */
	K_HASH = 6, /* + obs kind + binary digest */
	K_PORT = 7, /* + 2 bytes */
	K_UPATH = 8, /* + a URL path prefix ("/..."), from the direct path's URL regexes */
	K_ADDRPORT = 9, /* + role (src / dst) + 4 or 16 address bytes + 2 port bytes (ip:port) */
};

#define IP4_EXACT (1ull << 40)   /* ip4_by16: an exact address key in this /16 */
#define IP4_PORTKEY (1ull << 41) /* ip4_by16: an address-and-port key in this /16 */
#define MKEY_MAX  320          /* longest key: class, kind, 253-byte domain... URLs are cut */

/* One compiled literal. */
typedef struct mlit {
	uint8_t fam;    /* MV_IP: 4 or 6; 0 = not an address (never equal) */
	uint8_t prefix; /* MV_IP: prefix length (32 / 128 = single address) */
	uint8_t addr[16];
	int64_t i;       /* MV_PORT, or numeric comparisons */
	bool is_int;     /* literal was an integer */
	const char *s;   /* MV_STR / MV_HASH: normalised bytes (arena), NUL-terminated */
	uint32_t len;
} mlit;

/* Comparison-level tree node: leaves are comparisons. */
typedef enum { MN_AND, MN_OR, MN_LEAF } mnode_kind;

typedef struct mleaf {
	uint64_t accept; /* SK_KR_BIT set of values the path stands for */
	uint8_t op;      /* sk_pcmp_op */
	uint8_t vt;      /* mval */
	uint8_t kind;    /* MV_STR / MV_HASH: the obs kind of the key */
	bool negated;
	bool subdomains; /* domain equality also matches subdomains */
	uint32_t obs;    /* owning observation */
	uint32_t nlit;
	mlit *lits;      /* IN: every member; others: one (EXISTS: none) */
	int32_t rx;      /* LIKE / MATCHES: Hyperscan expression id, else -1 */
} mleaf;

typedef struct mnode {
	uint8_t kind; /* mnode_kind */
	uint32_t nkids;
	uint32_t kids; /* MN_AND / MN_OR: index of the first child in m->kidv */
	uint32_t leaf; /* MN_LEAF */
} mnode;

/* One '[...]' observation expression. */
typedef struct mobs {
	uint32_t ind;  /* indicator */
	uint32_t num;  /* 0 for a single-observation indicator, else 1-based */
	uint32_t root; /* mnode */
	bool exact;    /* one positive EQ / IN leaf: an index hit is a match */
	bool generic;  /* no index entry: evaluated on every record */
} mobs;

/* Observation-level tree of a multi-observation indicator. */
typedef enum { ON_OBS, ON_AND, ON_OR, ON_FB, ON_WITHIN, ON_REPEATS, ON_STARTSTOP } onode_kind;

typedef struct monode {
	uint8_t kind;
	uint32_t parent; /* UINT32_MAX at the root */
	uint32_t pos;    /* position among the parent's children */
	uint32_t slot;   /* first state slot (ON_AND, ON_FB, ON_REPEATS) */
	uint32_t nslots;
	uint32_t nkids;
	uint32_t kids;   /* index of the first child in ind_kidv */
	uint32_t obsnum; /* ON_OBS: observation number (1-based) */
	int64_t within_us;
	int64_t times;
	int64_t start_us, stop_us;
} monode;

typedef struct mind {
	uint32_t first_obs; /* index in m->obs */
	uint32_t nobs;
	uint32_t oroot; /* multi: monode index; UINT32_MAX for single */
	uint32_t nslots; /* multi: state slots over all its nodes */
	uint32_t nonodes; /* multi: its monodes, contiguous from oroot */
} mind;

/* --- URL path prefix filter -------------------------------------------- */

#define SK_UPATH_SEED 0xcbf29ce484222325ull

/* The path-prefix hash after one more byte (FNV-1a). */
static inline uint64_t sk_upath_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * 0x100000001b3ull;
}

/* Word and bits of prefix hash h (and length len) in a filter of words words. */
static inline uint64_t sk_upath_bits(uint64_t h, size_t len, uint32_t words, uint32_t *word)
{
	uint64_t x = (h ^ (len * 0x9E3779B97F4A7C15ull)) * 0xbf58476d1ce4e5b9ull;
	x ^= x >> 31;
	*word = (uint32_t)(((x >> 32) * words) >> 32);
	return (1ull << (x & 63)) | (1ull << ((x >> 6) & 63)) | (1ull << ((x >> 12) & 63));
}

/* --- address-and-port indicators (match_ipport.c) ------------------------ */

typedef struct sk_ipport {
	int role;   /* SK_ROLE_SRC or SK_ROLE_DST */
	mlit addr;  /* a single address (prefix 32 / 128) */
	const char *text; /* the address as written (into the pattern), text_len bytes */
	size_t text_len;
	uint16_t port;
} sk_ipport;

#define SK_IPPORT_KEY_MAX 20

/* The feeds' ip:port pattern (see match_ipport.c) into *out; false for any other pattern. */
bool sk_match_parse_ipport(const char *text, size_t len, sk_ipport *out);
/* The K_ADDRPORT key of (role, address, port); returns its length. */
size_t sk_match_ipport_key(int role, const uint8_t *addr, int fam, unsigned port,
			   uint8_t key[SK_IPPORT_KEY_MAX]);

/* --- the hash index (match_index.c) ------------------------------------- */

/*
 * A slot is 12 bytes: the key's 32-bit hash, its offset in the key arena
 * (where a 2-byte length precedes the key bytes; 0 = empty slot) and its
 * postings.  Postings ("targets") are either a leaf number or, with
 * MPOST_DIRECT set, an indicator compiled without a tree (one positive
 * '=' comparison, see sk_matcher.iref).  A key wanted by one target keeps it
 * in the slot itself; a second one turns it into a chain in postv (head + 1).
 */
#define MPOST_DIRECT 0x80000000u
#define MPOST_CHAIN 0x40000000u /* slot post: chain head + 1 in the low bits */
#define MPOST_LEAF 0x20000000u  /* slot post: an inline leaf number (never 0) */

typedef struct mentry {
	uint32_t hash;
	uint32_t key;  /* offset in the key arena; 0 = empty slot */
	uint32_t post; /* inline: MPOST_DIRECT | ind or MPOST_LEAF | leaf; or MPOST_CHAIN | (head + 1) */
} mentry;

typedef struct mpost {
	uint32_t leaf; /* a target: leaf number, or MPOST_DIRECT | indicator */
	uint32_t next; /* +1, 0 = end */
} mpost;

typedef struct mindex {
	mentry *slots;
	uint32_t nslots; /* any size: the slot is (hash * nslots) >> 32 */
	uint32_t used;
	char *keys; /* arena */
	size_t klen, kcap;
	mpost *postv;
	uint32_t npost, postcap;
	/*
	 * Blocked Bloom filter over the key hashes (sk_mindex_finish): 12 bits
	 * per key, 4 bits set in one 64-bit word per key, so it stays in L2
	 * (2.4 MB for 1.6 M keys) and most absent keys, which is nearly every
	 * value in a log, cost one cached load instead of a miss in the table.
	 * NULL until finished.
	 */
	uint64_t *bloom;
	uint32_t bloom_words;
	/* what the keys cover, so a record skips probes that cannot hit */
	uint32_t classes;   /* bit K_*: some key of that class */
	uint64_t str_kinds; /* bit obs kind: some K_STR / K_HASH key of that kind */
} mindex;

/* Add target (leaf, or MPOST_DIRECT | indicator) under key. */
sk_err sk_mindex_add(mindex *ix, const uint8_t *key, size_t klen, uint32_t target);
/* Size the table for about n keys (before adding them). */
sk_err sk_mindex_reserve(mindex *ix, uint32_t n);
/* After the last add: fit the table (load about 0.7) and the arenas to their contents. */
sk_err sk_mindex_finish(mindex *ix);
/* Postings of key (a slot post value as above), 0 if absent; walk with sk_mpost_next. */
uint32_t sk_mindex_find(const mindex *ix, const uint8_t *key, size_t klen);
void sk_mindex_free(mindex *ix);

/*
 * Next target of a postings walk: *p starts as sk_mindex_find's value and is
 * 0 at the end.  Returns a leaf number or MPOST_DIRECT | indicator.
 */
static inline uint32_t sk_mpost_next(const mindex *ix, uint32_t *p)
{
	uint32_t t;
	if (!(*p & MPOST_CHAIN)) {
		t = *p & ~MPOST_LEAF;
		*p = 0;
		return t;
	}
	t = ix->postv[(*p & ~MPOST_CHAIN) - 1].leaf;
	*p = ix->postv[(*p & ~MPOST_CHAIN) - 1].next;
	*p = *p ? MPOST_CHAIN | *p : 0;
	return t;
}
size_t sk_mindex_bytes(const mindex *ix);

/* Parse an IPv4 / IPv6 address, optional "/len" when allow_cidr.  fam 0 on failure. */
bool sk_match_parse_ip(const char *s, size_t n, bool allow_cidr, mlit *out);
/* Fast log-side IPv4 / IPv6 parse into a; false if not an address. */
bool sk_match_ip4(const char *s, size_t n, uint32_t *a);
bool sk_match_ip6(const char *s, size_t n, uint8_t a[16]);
/* Hex to binary; false on odd length / bad digit / longer than n. */
bool sk_match_unhex(const char *s, size_t len, uint8_t *out, size_t n);

/* --- the matcher -------------------------------------------------------- */

/*
 * iref[ind]: for an indicator compiled with a tree, its index in inds[];
 * for a direct one (IREF_DIRECT), the pathdef number in the low bits (its
 * accept mask is dacc[]) and IREF_SUB when it matches subdomains.
 */
#define IREF_DIRECT 0x80000000u
#define IREF_SUB 0x40000000u
#define IREF_PATH 0xFFu

struct sk_matcher {
	sk_match_opts opts;
	bool built;
	bool no_fast; /* testing: compile every pattern through the parser and trees */
	/* indicators */
	uint32_t *iref;
	uint32_t ninds, irefcap;
	uint32_t ndirect;
	uint64_t dacc[64];    /* accept mask per pathdef number */
	uint32_t suppressed;  /* indicators left out for a warning list */
	/* compiled expressions of the indicators with a tree */
	mind *inds;
	uint32_t nminds, indcap;
	mobs *obs;
	uint32_t nobs, obscap;
	mnode *nodes;
	uint32_t nnodes, nodecap;
	uint32_t *kidv; /* children of MN_AND / MN_OR */
	uint32_t nkidv, kidvcap;
	mleaf *leaves;
	uint32_t nleaves, leafcap;
	monode *onodes;
	uint32_t nonodes, onodecap;
	uint32_t *okidv;
	uint32_t nokidv, okidvcap;
	/* string arena for literal text (chunks; never moved) */
	struct marena *arena;
	size_t arena_bytes;
	/* indexes */
	mindex ix;
	/*
	 * IPv4 prefilter, 65,536 words (512 KiB, cache-resident) indexed by an
	 * address's top 16 bits: bit L (0..32) = some K_NET4 key of length L
	 * covers part of that /16, IP4_EXACT = some K_IP4 key lies in it.  An
	 * address probes only the prefix lengths its /16 can hold, so the cost
	 * no longer grows with the number of distinct CIDR lengths in the feeds;
	 * NULL until the first IPv4 key.
	 */
	uint64_t *ip4_by16;
	uint64_t net6_lens[3]; /* 0..128 */
	uint32_t nprefixes;
	bool any_subdomains;
	uint64_t port_kr;       /* kinds/roles that have port keys */
	uint64_t upath_lens[4]; /* bit L: some K_UPATH key has a path prefix of L bytes */
	/*
	 * Filter over the K_UPATH keys by an incremental hash of the path
	 * prefix (sk_upath_step): a logged URL's path is hashed once, byte by
	 * byte, and only the prefix lengths the filter admits are probed in the
	 * index.  Without it every URL cost one full-key hash and probe per
	 * prefix length in use (the maltrail paths use over 100 lengths).
	 */
	uint64_t *upath_filter;
	uint32_t upath_words;
	/* Hyperscan */
	char **rx_text;
	unsigned *rx_flags;
	uint32_t *rx_leaf;
	uint32_t nrx, rxcap;
	uint64_t rx_kr; /* (kind, role) bits any regex leaf accepts */
	uint32_t rx_dropped; /* regexes the database build refused (their leaves never match) */
	mhs *hs;
	/* observations evaluated on every record */
	uint32_t *generic;
	uint32_t ngeneric, genericcap;
	uint32_t nmulti;
	/*
	 * Loaded from a cache file (match_cache.c): the arrays point into this
	 * mapping (or malloc'd copy), which sk_matcher_free releases instead.
	 */
	void *map;
	size_t map_len;
	bool map_malloced;
	void *map_copy; /* the leaves and literals, copied out to fix up their pointers */
	size_t map_bytes, map_bytes_exact; /* the statistics of the build it was saved from */
};

/* The tree of indicator ind (which must not be direct). */
static inline const mind *sk_mind(const sk_matcher *m, uint32_t ind)
{
	return &m->inds[m->iref[ind]];
}

static inline bool sk_ind_direct(const sk_matcher *m, uint32_t ind)
{
	return (m->iref[ind] & IREF_DIRECT) != 0;
}

/* --- compiling (match_path.c, match_compile.c, match_trigger.c) ------------ */

/* A chunk of the string arena for literal text (aalloc, match_compile.c); never moved. */
struct marena {
	struct marena *next;
	size_t used, size;
	char data[];
};

/* Grow array *v (of *cap elements of size sz) to hold n + 1. */
static inline int sk_match_grow(void **v, uint32_t *cap, uint32_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	uint32_t nc = *cap ? *cap * 2 : 64;
	void *nv = realloc(*v, (size_t)nc * sz);
	if (!nv)
		return -1;
	*v = nv;
	*cap = nc;
	return 0;
}
#define GROW(arr, n, cap) sk_match_grow((void **)&(arr), &(cap), (n), sizeof(*(arr)))

/* One object path a log record provides, and what its comparisons compile to. */
typedef struct pathdef {
	const char *path;
	uint64_t accept;
	uint8_t vt, kind;
} pathdef;

/* The paths (match_path.c), sk_match_npaths of them; a pathdef number indexes dacc[]. */
extern const pathdef sk_match_paths[];
extern const size_t sk_match_npaths;

/* The pathdef of a parsed path; NULL when no log provides it. */
const pathdef *sk_match_find_path(const sk_ppath *p);

/* The state of compiling one indicator. */
typedef struct cstate {
	sk_matcher *m;
	uint32_t ind;
	unsigned flags;
	char reason[SK_ERROR_MSG_MAX - 64]; /* first reason a leaf can never be true */
} cstate;

/* Parse one literal for leaf l; false (with a reason in cs) if its form cannot match. */
bool sk_match_compile_lit(cstate *cs, mleaf *l, const sk_plit *v, mlit *out, const char *pathtxt,
			  char *scratch, size_t scap);
/* Can comparison node ni ever be true? */
bool sk_match_can_match(const sk_matcher *m, uint32_t ni);
/* Compile observation obsnode (number num, 0 if single) of indicator cs->ind. */
sk_err sk_match_compile_obs(cstate *cs, const sk_pnode *obsnode, uint32_t num, sk_error *err);
/* Only OBSERVATION and OBS_OR below n: every observation is a match on its own. */
bool sk_match_only_or(const sk_pnode *n);
/* Compile the observation-level tree n of ind (and its observations) below parent. */
sk_err sk_match_compile_onode(cstate *cs, mind *ind, const sk_pnode *n, uint32_t parent,
			      uint32_t pos, uint32_t *num, sk_error *err);
/* Can the observation-level tree at oi ever be satisfied? */
bool sk_match_onode_can(const sk_matcher *m, const mind *ind, uint32_t oi);

/* Does node ni have triggers (match_trigger.c)? */
bool sk_match_has_trigger(const sk_matcher *m, uint32_t ni);
/* A trigger set that is complete: every leaf it uses fits in a key. */
bool sk_match_triggers_ok(const sk_matcher *m, uint32_t ni);
/* Add the index entries of node ni. */
sk_err sk_match_add_triggers(sk_matcher *m, uint32_t ni);
/* Index literal v of leaf l for target (a leaf number, or MPOST_DIRECT | indicator). */
sk_err sk_match_index_lit(sk_matcher *m, const mleaf *l, const mlit *v, uint32_t target);
/* Record an IPv4 key in the /16 prefilter: bit 0 (from the prefix length) or IP4_PORTKEY. */
int sk_match_mark_ip4(sk_matcher *m, const mlit *v, uint64_t bit);

/*
 * The direct path (match_path.c) and its ip:port form: 1 = handled (*rc is
 * the result), 0 = not that form (use the general compiler).
 */
int sk_match_add_direct(sk_matcher *m, const char *text, size_t len, unsigned flags,
			uint32_t *idx, sk_err *rc, sk_error *err);
int sk_match_add_ipport(sk_matcher *m, const char *text, size_t len, unsigned flags,
			uint32_t *idx, sk_err *rc, sk_error *err);

/* Release the cache file mapping of a loaded matcher (match_cache.c). */
void sk_match_cache_unmap(sk_matcher *m);

/* Room for one more indicator in iref[] (matcher.c); SK_ELIMIT past the cap. */
sk_err sk_match_grow_iref(sk_matcher *m);
/* Is value v[0..n) of path pd on a warning list?  The first one is described in msg. */
bool sk_match_wl_listed(const sk_matcher *m, const pathdef *pd, const char *v, size_t n,
			char *msg, size_t msz);

#endif
