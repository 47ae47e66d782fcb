/*
 * matcher.h - the detection engine: STIX patterns compiled into one matcher
 * that is run over log records (schakel/logrec.h).
 *
 * Three stages, so that the expensive part runs on many threads:
 *
 *   compile   sk_matcher_new / sk_matcher_add (one per indicator pattern) /
 *             sk_matcher_build.  Exact comparisons go into hash indexes keyed
 *             by compact binary keys, CIDR ranges into per-prefix-length
 *             tables, LIKE / MATCHES into one Hyperscan database; whatever is
 *             left is evaluated generically on each record.  A pattern that
 *             can never match a log record is refused by sk_matcher_add with
 *             SK_EUNSUPPORTED and the reason.
 *   record    sk_match_record (a per-thread sk_match_ctx, no shared writes):
 *             which indicators, and which observations of multi-observation
 *             patterns, one record satisfies.  No allocation per record.
 *   stream    sk_match_state_feed (one sk_match_state, in record order):
 *             observation-level AND / OR / FOLLOWEDBY / WITHIN / REPEATS /
 *             START STOP across records, with bounded memory.
 *
 * A built matcher is read-only and may be shared by any number of threads,
 * each with its own sk_match_ctx.  See docs/matcher.md.
 */
#ifndef SCHAKEL_MATCHER_H
#define SCHAKEL_MATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/logrec.h"
#include "schakel/psl.h"

typedef struct sk_matcher sk_matcher;
typedef struct sk_match_ctx sk_match_ctx;
typedef struct sk_match_state sk_match_state;

struct sk_wl_set; /* schakel/warninglist.h */

typedef struct sk_match_opts {
	bool subdomains;   /* domain-name:value = 'x' also matches subdomains of x */
	const sk_psl *psl; /* borrowed; NULL = syntax fallback (last label is the suffix) */
	/*
	 * Borrowed warning lists (sk_warninglist_load), NULL = none: an indicator
	 * whose pattern is one positive '=' / IN / ISSUBSET comparison with every
	 * value on a list is refused by sk_matcher_add with SK_ESUPPRESSED.
	 */
	const struct sk_wl_set *warninglists;
} sk_match_opts;

/* Per-indicator flags for sk_matcher_add. */
enum {
	SK_MATCH_SUBDOMAINS = 1 << 0, /* this indicator matches subdomains (as --subdomains) */
	/* skip the warning-list check: the caller knows the pattern is not listed */
	SK_MATCH_NO_WARNINGLISTS = 1 << 1,
};

/* Create an empty matcher; opts may be NULL.  Free with sk_matcher_free(). */
sk_err sk_matcher_new(const sk_match_opts *opts, sk_matcher **out, sk_error *err);
void sk_matcher_free(sk_matcher *m);

/*
 * Compile one pattern (text[0..len)).  On success *idx (may be NULL) is the
 * indicator's number: 0, 1, 2 ... in the order of successful adds.  A pattern
 * that does not parse is SK_EINVAL; one that the matcher cannot evaluate on
 * log records (no path a log provides, a regex Hyperscan refuses, a value of
 * the wrong form) is SK_EUNSUPPORTED; one whose values are all on a warning
 * list (opts.warninglists) is SK_ESUPPRESSED ("'v' is on warning list 'L'
 * (type)"); err says why, and nothing is added.  The common form
 * "[type:path = 'value']" is compiled without a tree (about 40 bytes).
 * Must be called before sk_matcher_build().
 */
sk_err sk_matcher_add(sk_matcher *m, const char *text, size_t len, unsigned flags, uint32_t *idx,
		      sk_error *err);

/*
 * Finish compiling: sizes the hash tables, builds the Hyperscan database.
 * After this the matcher is read-only.  Calling it on an empty matcher is fine.
 */
sk_err sk_matcher_build(sk_matcher *m, sk_error *err);

/* Optional: size the index for about n more indicators before adding them. */
sk_err sk_matcher_reserve(sk_matcher *m, uint32_t n, sk_error *err);

typedef struct sk_matcher_stats {
	uint32_t indicators;   /* added */
	uint32_t observations; /* '[...]' expressions compiled */
	uint32_t exact_keys;   /* distinct keys in the hash index */
	uint32_t prefixes;     /* CIDR entries */
	uint32_t regexes;      /* LIKE / MATCHES expressions in the Hyperscan database */
	uint32_t generic;      /* observations without an index entry (tried on every record) */
	uint32_t multi;        /* indicators with several observations or qualifiers */
	uint32_t direct;       /* single '=' indicators compiled without a tree */
	uint32_t suppressed;   /* refused with SK_ESUPPRESSED (warning lists) */
	size_t bytes;          /* memory of the indexes and compiled expressions */
	size_t bytes_exact;    /* of which: the hash index and the per-indicator table */
} sk_matcher_stats;

void sk_matcher_stats_get(const sk_matcher *m, sk_matcher_stats *out);

/* --- per record ----------------------------------------------------------- */

/*
 * A result of sk_match_record.  obs == 0 for a single-observation indicator:
 * the indicator matched.  obs >= 1 for a multi-observation indicator: its
 * obs-th observation expression (1-based, in pattern text order) matched;
 * feed it to sk_match_state_feed.  value is the index in rec->obs[] of the
 * value that matched (UINT32_MAX when no single value stands for the match,
 * e.g. a NOT comparison).
 */
typedef struct sk_match_hit {
	uint32_t ind;
	uint32_t obs;
	uint32_t value;
} sk_match_hit;

/* A per-thread context (scratch space) for m.  Free with sk_match_ctx_free(). */
sk_err sk_match_ctx_new(const sk_matcher *m, sk_match_ctx **out, sk_error *err);
void sk_match_ctx_free(sk_match_ctx *c);

/*
 * Match one record.  Returns the number of results in *hits (owned by c,
 * valid until the next call), ordered by indicator then observation; an
 * indicator appears at most once per observation number.
 */
size_t sk_match_record(sk_match_ctx *c, const sk_logrec *rec, const sk_match_hit **hits);

/* --- observation-level state over the record stream ------------------------ */

/* Where a record was: caller's file number, line, time (0 if none). */
typedef struct sk_match_ref {
	uint32_t file;
	uint64_t line;
	int64_t ts_us;
} sk_match_ref;

#define SK_MATCH_REFS_MAX 16 /* records kept per partial match (the first ones) */

/*
 * State for the multi-observation indicators of m, with at most cap_bytes of
 * partial matches (0 = 64 MiB).  Free with sk_match_state_free().
 */
sk_err sk_match_state_new(const sk_matcher *m, size_t cap_bytes, sk_match_state **out,
			  sk_error *err);
void sk_match_state_free(sk_match_state *s);

/*
 * Feed one result with obs >= 1 (records in stream order).  Returns true when
 * the indicator's whole pattern is now satisfied: *refs / *nrefs (owned by s,
 * valid until the next call) list the contributing records, oldest first,
 * and the indicator's partial state is cleared.
 */
bool sk_match_state_feed(sk_match_state *s, const sk_match_hit *h, const sk_match_ref *ref,
			 const sk_match_ref **refs, size_t *nrefs);

typedef struct sk_match_state_stats {
	size_t bytes;      /* partial-match memory in use */
	uint64_t evicted;  /* indicator states dropped for the cap */
	uint64_t partials; /* partial matches created */
} sk_match_state_stats;

void sk_match_state_stats_get(const sk_match_state *s, sk_match_state_stats *out);

/* --- helpers shared with the tests --------------------------------------- */

/*
 * Normalise a URL for comparison into out (size n): scheme and host
 * lowercased, default port removed, empty path made "/", fragment removed,
 * %xx escapes upper-cased.  Returns the length, or 0 if it does not fit.
 */
size_t sk_match_url_norm(const char *s, size_t len, char *out, size_t n);

#endif
