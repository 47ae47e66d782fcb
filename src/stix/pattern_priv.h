/*
 * pattern_priv.h - shared between the pattern lexer (pattern_lex.c), parser
 * (pattern.c, pattern_cmp.c) and JSON writer (pattern_json.c); not part of
 * the public API.
 */
#ifndef SCHAKEL_PATTERN_PRIV_H
#define SCHAKEL_PATTERN_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/pattern.h"

enum sk_ptok {
	PT_EOF,
	PT_LBRACK,
	PT_RBRACK,
	PT_LPAREN,
	PT_RPAREN,
	PT_COLON,
	PT_DOT,
	PT_COMMA,
	PT_STAR,
	PT_EQ,
	PT_NEQ,
	PT_LT,
	PT_LE,
	PT_GT,
	PT_GE,
	/* keywords (upper case) and the two boolean literals */
	PT_AND,
	PT_OR,
	PT_NOT,
	PT_FOLLOWEDBY,
	PT_LIKE,
	PT_MATCHES,
	PT_ISSUBSET,
	PT_ISSUPERSET,
	PT_EXISTS,
	PT_IN,
	PT_LAST, /* reserved by the grammar, used by nothing */
	PT_START,
	PT_STOP,
	PT_WITHIN,
	PT_SECONDS,
	PT_REPEATS,
	PT_TIMES,
	PT_TRUE,
	PT_FALSE,
	/* everything else */
	PT_IDENT, /* [A-Za-z_][A-Za-z0-9_-]*, not a keyword */
	PT_STRING,
	PT_INT,
	PT_FLOAT,
	PT_BINARY,
	PT_HEX,
	PT_TIMESTAMP,
};

struct sk_ptoken {
	enum sk_ptok t;
	uint32_t off, len; /* span in the text, quotes and prefixes included */
	bool hyphen;       /* PT_IDENT containing '-' */
	bool neg;          /* PT_INT / PT_FLOAT written with a leading '-' */
	bool esc;          /* PT_STRING containing a backslash escape */
};

/*
 * The lexer validates each literal completely (escapes, base64, hex digits,
 * timestamps), so that the parser only has to decode.  On a lexical error it
 * fills msg and erroff and returns false.
 */
struct sk_plexer {
	const char *s;
	size_t n;
	size_t pos;
	uint32_t erroff;
	char msg[256];
};

bool sk_pattern_lex(struct sk_plexer *lx, struct sk_ptoken *tok);

/* Describe tok for "found ..." in messages: "'FOO'" or "end of pattern". */
void sk_pattern_tok_describe(const char *s, const struct sk_ptoken *tok, char *buf, size_t n);

/* Decoders for literals the lexer has accepted; out has room for n bytes. */
size_t sk_pattern_unescape(const char *s, size_t n, char *out);
size_t sk_pattern_unbase64(const char *s, size_t n, unsigned char *out);
size_t sk_pattern_unhex(const char *s, size_t n, unsigned char *out);

/* True if s[0..n) is a STIX pattern timestamp (RFC 3339, upper-case T and Z). */
bool sk_pattern_ts_valid(const char *s, size_t n);

/* --- the parser (pattern.c, pattern_cmp.c) ------------------------------ */

struct sk_pattern {
	const sk_pnode *root;
	char *text; /* NUL-terminated copy */
	size_t len;
	sk_pattern_counts counts;
	struct chunk *chunks; /* extra arena chunks, newest first */
	unsigned char *cur;   /* free space in the current chunk */
	size_t left;
	size_t last_size;    /* size of the newest chunk, to grow geometrically */
	max_align_t first[]; /* the first chunk, allocated with the struct */
};

struct parser {
	sk_pattern *pat;
	const char *s; /* the pattern's copy of the text */
	struct sk_plexer lx;
	struct sk_ptoken tok; /* lookahead */
	unsigned depth;
	sk_error *err;
	sk_err rc;       /* first error, SK_OK while all is well */
	sk_plit *setbuf; /* scratch for IN sets, heap, reused */
	size_t setcap;
	int spec; /* 20 or 21: that version's grammar; 0: the lenient union */
};

/* Memory from the pattern's arena (lives as long as the pattern); NULL when out of memory. */
void *sk_pattern_arena_alloc(sk_pattern *p, size_t size);

/* Record the first error (at text offset off) in P; returns NULL. */
void *sk_pattern_fail_code(struct parser *P, sk_err code, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define fail(P, off, ...) sk_pattern_fail_code((P), SK_EINVAL, (off), __VA_ARGS__)

/* A new node of the tree, counted against SK_PATTERN_MAX_NODES; NULL (error in P) on failure. */
sk_pnode *sk_pattern_new_node(struct parser *P, sk_pnode_kind kind, size_t off);
/* s[0..n) copied into the arena, NUL-terminated; NULL (error in P) when out of memory. */
char *sk_pattern_arena_strndup(struct parser *P, const char *s, size_t n);

/* Integer and float literals at token t (pattern_cmp.c); false with an error in P. */
bool sk_pattern_parse_int(struct parser *P, const struct sk_ptoken *t, int64_t *out);
bool sk_pattern_parse_float(struct parser *P, const struct sk_ptoken *t, double *out);
/* A comparison expression: comparisons joined by AND / OR (pattern_cmp.c). */
sk_pnode *sk_pattern_parse_cmp_or(struct parser *P);

/*
 * Small helpers both halves of the parser call for every token or node, kept
 * inline in each.
 */
static inline void *oom(struct parser *P)
{
	if (P->rc == SK_OK)
		P->rc = sk_error_set(P->err, SK_ENOMEM, "out of memory parsing a pattern");
	return NULL;
}

/* "expected WHAT, found TOKEN" at the current token. */
static inline void *expected(struct parser *P, const char *what)
{
	char found[200];
	sk_pattern_tok_describe(P->s, &P->tok, found, sizeof(found));
	return fail(P, P->tok.off, "expected %s, found %s", what, found);
}

static inline bool advance(struct parser *P)
{
	if (sk_pattern_lex(&P->lx, &P->tok))
		return true;
	fail(P, P->lx.erroff, "%s", P->lx.msg);
	return false;
}

static inline bool enter(struct parser *P, size_t off)
{
	if (++P->depth > SK_PATTERN_MAX_DEPTH) {
		sk_pattern_fail_code(P, SK_ELIMIT, off, "nested more than %d levels deep",
		                     SK_PATTERN_MAX_DEPTH);
		return false;
	}
	return true;
}

static inline bool count_node(struct parser *P, size_t off)
{
	if (++P->pat->counts.nodes > SK_PATTERN_MAX_NODES) {
		sk_pattern_fail_code(P, SK_ELIMIT, off, "pattern has more than %d nodes",
		                     SK_PATTERN_MAX_NODES);
		return false;
	}
	return true;
}

static inline void add_kid(sk_pnode *parent, sk_pnode **tail, sk_pnode *kid)
{
	if (*tail)
		(*tail)->next = kid;
	else
		parent->kids = kid;
	*tail = kid;
	parent->nkids++;
}

#endif
