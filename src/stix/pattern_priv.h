/*
 * pattern_priv.h - shared between the pattern lexer (pattern_lex.c), parser
 * (pattern.c) and JSON writer (pattern_json.c); not part of the public API.
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

#endif
