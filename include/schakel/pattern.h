/*
 * pattern.h - the STIX patterning language (STIX 2.0 and 2.1): parser and AST.
 *
 * sk_pattern_parse() turns the text of an indicator's `pattern` into a tree
 * that the detection matcher compiles later.  The grammar is the OASIS one
 * (STIXPattern.g4) for STIX 2.1, which also accepts what STIX 2.0 allows:
 *
 *   pattern      := obs_fb EOF
 *   obs_fb       := obs_or  (FOLLOWEDBY obs_or)*       loosest
 *   obs_or       := obs_and (OR obs_and)*
 *   obs_and      := obs_q   (AND obs_q)*                tightest
 *   obs_q        := obs_atom qualifier*                 qualifiers bind to the atom
 *   obs_atom     := '[' cmp_or ']' | '(' obs_fb ')'
 *   qualifier    := WITHIN number SECONDS | REPEATS int TIMES | START ts STOP ts
 *   cmp_or       := cmp_and (OR cmp_and)*
 *   cmp_and      := cmp_atom (AND cmp_atom)*
 *   cmp_atom     := '(' cmp_or ')' | EXISTS path | path [NOT] op value
 *
 * Operators at one level are flattened into one n-ary node ("a AND b AND c"
 * is one AND node with three children) but parentheses are kept as written.
 * Keywords are upper case, true/false lower case.  See docs/patterns.md.
 *
 * Everything the tree points to (strings, paths, literal values, a copy of
 * the pattern text) lives in one arena owned by the sk_pattern and is freed
 * by sk_pattern_free(); nodes are never freed individually.
 */
#ifndef SCHAKEL_PATTERN_H
#define SCHAKEL_PATTERN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/timestamp.h"

/* Hard limits: longer / deeper / bigger patterns fail with SK_ELIMIT. */
#define SK_PATTERN_MAX_LEN   ((size_t)64 << 10) /* bytes of pattern text */
#define SK_PATTERN_MAX_DEPTH 64                 /* nested '[', '(' and qualifiers */
#define SK_PATTERN_MAX_NODES 16384              /* nodes plus IN-set members */
#define SK_PATTERN_MAX_STEPS 64                 /* steps in one object path */

typedef enum sk_pnode_kind {
	/* observation level */
	SK_PN_FOLLOWEDBY,  /* children in the order they must be observed */
	SK_PN_OBS_OR,      /* any child */
	SK_PN_OBS_AND,     /* every child, each on its own observation */
	SK_PN_QUALIFIED,   /* one child, restricted by ->qual */
	SK_PN_OBSERVATION, /* '[' ... ']': one child, a comparison-level node */
	/* comparison level (inside the brackets) */
	SK_PN_CMP_OR,     /* any child */
	SK_PN_CMP_AND,    /* every child, on the same object */
	SK_PN_COMPARISON, /* leaf: ->cmp */
} sk_pnode_kind;

typedef enum sk_pcmp_op {
	SK_PCMP_EQ,  /* =  (also written ==) */
	SK_PCMP_NEQ, /* != (also written <>) */
	SK_PCMP_LT,
	SK_PCMP_LE,
	SK_PCMP_GT,
	SK_PCMP_GE,
	SK_PCMP_IN,         /* value is ->set / ->nset */
	SK_PCMP_LIKE,       /* string value, SQL LIKE (% and _) */
	SK_PCMP_MATCHES,    /* string value, PCRE */
	SK_PCMP_ISSUBSET,   /* string value, IP network containment */
	SK_PCMP_ISSUPERSET, /* string value */
	SK_PCMP_EXISTS,     /* no value (STIX 2.1) */
} sk_pcmp_op;

typedef enum sk_plit_kind {
	SK_PLIT_STRING,    /* '...'; str/len decoded (\\ and \' resolved) */
	SK_PLIT_INT,       /* i (also in f) */
	SK_PLIT_FLOAT,     /* f */
	SK_PLIT_BOOL,      /* b */
	SK_PLIT_BINARY,    /* b'base64'; str/len are the decoded bytes */
	SK_PLIT_HEX,       /* h'hex'; str/len are the decoded bytes */
	SK_PLIT_TIMESTAMP, /* t'...'; str = text, i = microseconds, ts_key = sortable key */
} sk_plit_kind;

/* A literal value.  str is NUL-terminated (and may contain NULs before len). */
typedef struct sk_plit {
	sk_plit_kind kind;
	uint32_t offset, length; /* where it is written in sk_pattern_text() */
	const char *str;         /* STRING, BINARY, HEX, TIMESTAMP; else NULL */
	size_t len;
	int64_t i; /* INT; TIMESTAMP: microseconds since the epoch; BOOL: 0 or 1 */
	double f;  /* FLOAT; INT as a double */
	bool b;    /* BOOL */
	char ts_key[SK_TS_KEY_LEN + 1]; /* TIMESTAMP: nanosecond sort key, else "" */
} sk_plit;

typedef enum sk_pstep_kind {
	SK_PSTEP_KEY,   /* .name or .'quoted name' (the first component is a KEY too) */
	SK_PSTEP_INDEX, /* [n]; n may be negative */
	SK_PSTEP_ANY,   /* [*] */
} sk_pstep_kind;

typedef struct sk_pstep {
	sk_pstep_kind kind;
	/*
	 * KEY only: the value reached so far holds object references (the last
	 * key named *_ref or *_refs, possibly indexed since), so it has to be
	 * dereferenced before this key is looked up, as in
	 * network-traffic:dst_ref.value or domain-name:resolves_to_refs[*].value.
	 */
	bool deref;
	bool quoted;     /* KEY written as a quoted string */
	const char *key; /* KEY: NUL-terminated */
	size_t keylen;
	int64_t index; /* INDEX */
} sk_pstep;

/* object-type ':' first-component steps... */
typedef struct sk_ppath {
	const char *type; /* NUL-terminated */
	size_t typelen;
	const sk_pstep *steps; /* at least one (the first component) */
	uint32_t nsteps;
	uint32_t offset;
} sk_ppath;

typedef struct sk_pcmp {
	sk_pcmp_op op;
	bool negated; /* NOT before the operator */
	sk_ppath path;
	sk_plit value;      /* all ops except IN and EXISTS */
	const sk_plit *set; /* IN: the members (possibly none) */
	uint32_t nset;
} sk_pcmp;

typedef enum sk_pqual_kind {
	SK_PQ_WITHIN,    /* seconds > 0 (an int or a float) */
	SK_PQ_REPEATS,   /* times > 0 */
	SK_PQ_STARTSTOP, /* start < stop */
} sk_pqual_kind;

typedef struct sk_pqual {
	sk_pqual_kind kind;
	double seconds;
	int64_t times;
	int64_t start_us, stop_us; /* microseconds since the epoch */
	char start_key[SK_TS_KEY_LEN + 1], stop_key[SK_TS_KEY_LEN + 1];
	const char *start, *stop; /* timestamps as written (NUL-terminated) */
} sk_pqual;

typedef struct sk_pnode sk_pnode;
struct sk_pnode {
	sk_pnode_kind kind;
	uint32_t offset; /* where the node starts in sk_pattern_text() */
	uint32_t nkids;
	const sk_pnode *kids; /* first child; the rest via ->next */
	const sk_pnode *next; /* next sibling, NULL after the last */
	/*
	 * Comparison level and SK_PN_OBSERVATION: the object type every
	 * comparison below refers to, or NULL when an OR mixes types.  Other
	 * observation-level nodes: NULL.
	 */
	const char *object_type;
	union {
		sk_pcmp cmp;   /* SK_PN_COMPARISON */
		sk_pqual qual; /* SK_PN_QUALIFIED */
	};
};

typedef struct sk_pattern sk_pattern;

/*
 * Parse len bytes of text (need not be NUL-terminated).  On success *out is
 * a pattern the caller frees with sk_pattern_free(); it keeps its own copy of
 * the text.  On failure *out is NULL, and err->msg says where and what, as
 * "pattern offset N: expected ']' or AND/OR, found 'FOO'" (N is a 0-based
 * byte offset).  Returns SK_EINVAL for a pattern that does not parse,
 * SK_ELIMIT past the limits above, SK_ENOMEM when out of memory.
 */
sk_err sk_pattern_parse(const char *text, size_t len, sk_pattern **out, sk_error *err);

/*
 * The same, under the grammar of one STIX version ("2.0" or "2.1"; NULL:
 * the lenient union sk_pattern_parse() takes, for patterns already stored).
 * STIX 2.1 writes START/STOP timestamps as t'...' and allows each
 * qualifier kind once on an observation expression; STIX 2.0 writes them as
 * plain strings '...' and lets qualifiers repeat.
 */
sk_err sk_pattern_parse_spec(const char *text, size_t len, const char *spec, sk_pattern **out,
			     sk_error *err);

/* Free a pattern and everything its tree points to; p may be NULL. */
void sk_pattern_free(sk_pattern *p);

/* The root: an observation-level node.  Valid until sk_pattern_free(). */
const sk_pnode *sk_pattern_root(const sk_pattern *p);

/* The pattern's own copy of the text (NUL-terminated); *len if non-NULL. */
const char *sk_pattern_text(const sk_pattern *p, size_t *len);

typedef struct sk_pattern_counts {
	uint32_t nodes;        /* tree nodes plus IN-set members */
	uint32_t observations; /* SK_PN_OBSERVATION nodes */
	uint32_t comparisons;  /* SK_PN_COMPARISON nodes */
	uint32_t qualifiers;   /* SK_PN_QUALIFIED nodes */
} sk_pattern_counts;

void sk_pattern_count(const sk_pattern *p, sk_pattern_counts *out);

/* The i-th child of n (0-based), or NULL.  O(i). */
const sk_pnode *sk_pnode_child(const sk_pnode *n, uint32_t i);

/*
 * Depth-first, pre-order walk from the root.  fn returns 0 to go on, 1 to
 * skip the children of the node it was given, or a negative number to stop;
 * sk_pattern_walk returns that negative number, or 0.  depth is 0 at the root.
 */
typedef int (*sk_pattern_visit_fn)(const sk_pnode *n, unsigned depth, void *ud);
int sk_pattern_walk(const sk_pattern *p, sk_pattern_visit_fn fn, void *ud);

/* Static names: "FOLLOWEDBY", "=", "WITHIN", "string", ...; never NULL. */
const char *sk_pnode_kind_name(sk_pnode_kind k);
const char *sk_pcmp_op_name(sk_pcmp_op op);
const char *sk_plit_kind_name(sk_plit_kind k);
const char *sk_pqual_kind_name(sk_pqual_kind k);

/*
 * Write the object path as pattern text ("file:hashes.'SHA-256'") into buf
 * (always NUL-terminated when n > 0).  Returns the length it needed, like
 * snprintf, so a result >= n means truncated.
 */
size_t sk_ppath_format(const sk_ppath *path, char *buf, size_t n);

/*
 * The tree as JSON, for `schakel pattern check --json` and for tests.  On
 * success *out is a new reference the caller releases with json_decref().
 * Shape: {"kind":"observation","object_type":"file","comparison":{...}},
 * {"kind":"comparison","path":"file:name","object_type":"file","steps":[...],
 * "op":"=","negated":false,"value":{"type":"string","value":"x"}}, ...; see
 * docs/patterns.md.
 */
sk_err sk_pattern_to_json(const sk_pattern *p, json_t **out);

#endif
