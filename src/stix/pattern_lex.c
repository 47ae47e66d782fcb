/*
 * pattern_lex.c - the tokenizer of the STIX patterning language, and the
 * decoders for its literals.
 *
 * Tokens follow STIXPattern.g4: keywords are case-sensitive and win over
 * identifiers of the same text; whitespace includes the Unicode spaces the
 * grammar lists; block and line comments are skipped.  Unlike the ANTLR
 * lexer, a malformed literal (b'===', h'abc', t'2016-13-01T00:00:00Z', an
 * unknown escape) is an error of its own, so that the message can say what
 * is wrong with it instead of complaining about a stray 'b'.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pattern_priv.h"
#include "core/hex.h"
#include "core/utf8.h"

/*
 * Character classes of the ASCII range (bytes >= 0x80 are 0): C_DIGIT 0-9,
 * C_ISTART [A-Za-z_], C_ICHAR [A-Za-z0-9_-], C_SPACE the ASCII whitespace.
 */
enum { C_DIGIT = 1, C_ISTART = 2, C_ICHAR = 4, C_SPACE = 8 };
/* clang-format off */
static const unsigned char cclass[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8, 8, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0,
	5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0, 0, 0, 0,
	0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
	6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 6,
	0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
	6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0,
};
/* clang-format on */

static bool is_digit(unsigned char c)
{
	return cclass[c] & C_DIGIT;
}

static bool is_ident_start(unsigned char c)
{
	return cclass[c] & C_ISTART;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool lex_error(struct sk_plexer *lx, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool lex_error(struct sk_plexer *lx, size_t off, const char *fmt, ...)
{
	va_list ap;
	lx->erroff = (uint32_t)off;
	va_start(ap, fmt);
	vsnprintf(lx->msg, sizeof(lx->msg), fmt, ap);
	va_end(ap);
	return false;
}

/* Length of the whitespace character at s[i] (0 if none): ASCII and Unicode spaces. */
static size_t space_len(const unsigned char *s, size_t n, size_t i)
{
	unsigned char c = s[i];
	if (cclass[c] & C_SPACE)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c == 0xC2 && i + 1 < n && (s[i + 1] == 0x85 || s[i + 1] == 0xA0))
		return 2; /* U+0085, U+00A0 */
	if (i + 2 >= n)
		return 0;
	if (c == 0xE1 && s[i + 1] == 0x9A && s[i + 2] == 0x80)
		return 3; /* U+1680 */
	if (c == 0xE2 && s[i + 1] == 0x80 &&
	    ((s[i + 2] >= 0x80 && s[i + 2] <= 0x8A) || s[i + 2] == 0xA8 || s[i + 2] == 0xA9 ||
	     s[i + 2] == 0xAF))
		return 3; /* U+2000..U+200A, U+2028, U+2029, U+202F */
	if (c == 0xE2 && s[i + 1] == 0x81 && s[i + 2] == 0x9F)
		return 3; /* U+205F */
	if (c == 0xE3 && s[i + 1] == 0x80 && s[i + 2] == 0x80)
		return 3; /* U+3000 */
	return 0;
}

/* Skip whitespace and comments; false on an unterminated block comment. */
static bool skip_space(struct sk_plexer *lx)
{
	const unsigned char *s = (const unsigned char *)lx->s;
	size_t n = lx->n, i = lx->pos, k;

	for (;;) {
		if (i >= n)
			break;
		if ((k = space_len(s, n, i)) != 0) {
			i += k;
			continue;
		}
		if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
			size_t start = i;
			for (i += 2; i + 1 < n && !(s[i] == '*' && s[i + 1] == '/'); i++)
				;
			if (i + 1 >= n) {
				lx->pos = n;
				return lex_error(lx, start, "unterminated comment");
			}
			i += 2;
			continue;
		}
		if (s[i] == '/' && i + 1 < n && s[i + 1] == '/') {
			while (i < n && s[i] != '\n' && s[i] != '\r')
				i++;
			continue;
		}
		break;
	}
	lx->pos = i;
	return true;
}

/* Keywords are case-sensitive: upper case, except the literals true and false. */
static enum sk_ptok keyword(const char *s, size_t n)
{
#define KW(word, tok)                                                                              \
	do {                                                                                       \
		if (n == sizeof(word) - 1 && memcmp(s, word, n) == 0)                              \
			return tok;                                                                \
	} while (0)
	switch (s[0]) {
	case 'A':
		KW("AND", PT_AND);
		break;
	case 'E':
		KW("EXISTS", PT_EXISTS);
		break;
	case 'F':
		KW("FOLLOWEDBY", PT_FOLLOWEDBY);
		break;
	case 'I':
		KW("IN", PT_IN);
		KW("ISSUBSET", PT_ISSUBSET);
		KW("ISSUPERSET", PT_ISSUPERSET);
		break;
	case 'L':
		KW("LIKE", PT_LIKE);
		KW("LAST", PT_LAST);
		break;
	case 'M':
		KW("MATCHES", PT_MATCHES);
		break;
	case 'N':
		KW("NOT", PT_NOT);
		break;
	case 'O':
		KW("OR", PT_OR);
		break;
	case 'R':
		KW("REPEATS", PT_REPEATS);
		break;
	case 'S':
		KW("START", PT_START);
		KW("STOP", PT_STOP);
		KW("SECONDS", PT_SECONDS);
		break;
	case 'T':
		KW("TIMES", PT_TIMES);
		break;
	case 'W':
		KW("WITHIN", PT_WITHIN);
		break;
	case 'f':
		KW("false", PT_FALSE);
		break;
	case 't':
		KW("true", PT_TRUE);
		break;
	}
#undef KW
	return PT_IDENT;
}

bool sk_pattern_ts_valid(const char *s, size_t n)
{
	/* the grammar wants an upper-case T and Z; sk_ts_parse also takes t and z */
	return n >= 20 && s[10] == 'T' && s[n - 1] == 'Z' && sk_ts_parse(s, n, NULL, NULL);
}

/* Base64 as the grammar has it: whole groups of four, '=' padding only at the end, not empty. */
static bool base64_valid(const char *s, size_t n)
{
	size_t pad = 0;
	if (n == 0 || n % 4 != 0)
		return false;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < n - pad; i++)
		if (b64val((unsigned char)s[i]) < 0)
			return false;
	return true;
}

/* A quoted literal body after prefix (b, h, t) at lx->pos; sets tok fields. */
static bool lex_prefixed(struct sk_plexer *lx, struct sk_ptoken *tok)
{
	const char *s = lx->s;
	size_t start = lx->pos, body = start + 2, end;
	char prefix = s[start];
	const char *what = prefix == 'b' ? "binary" : prefix == 'h' ? "hex" : "timestamp";

	for (end = body; end < lx->n && s[end] != '\''; end++)
		;
	if (end >= lx->n)
		return lex_error(lx, start, "unterminated %s literal", what);
	size_t blen = end - body;
	if (prefix == 'b') {
		if (!base64_valid(s + body, blen))
			return lex_error(lx, start,
			                 "invalid binary literal b'%.*s%s': expected base64 "
			                 "(groups of 4 of A-Z a-z 0-9 + /, '=' padding at the end)",
			                 (int)(blen > 40 ? 40 : blen), s + body,
			                 blen > 40 ? "..." : "");
		tok->t = PT_BINARY;
	} else if (prefix == 'h') {
		for (size_t i = body; i < end; i++)
			if (sk_hexval((unsigned char)s[i]) < 0)
				return lex_error(lx, i, "invalid character in hex literal");
		if (blen % 2 != 0)
			return lex_error(
			    lx, start, "invalid hex literal: odd number of hex digits (%zu)", blen);
		tok->t = PT_HEX;
	} else {
		if (!sk_pattern_ts_valid(s + body, blen))
			return lex_error(
			    lx, start,
			    "invalid timestamp t'%.*s%s': expected "
			    "t'YYYY-MM-DDTHH:MM:SS[.fraction]Z' with a valid date and time",
			    (int)(blen > 40 ? 40 : blen), s + body, blen > 40 ? "..." : "");
		tok->t = PT_TIMESTAMP;
	}
	lx->pos = end + 1;
	return true;
}

static bool lex_string(struct sk_plexer *lx, struct sk_ptoken *tok)
{
	const char *s = lx->s;
	size_t start = lx->pos, i;

	for (i = start + 1; i < lx->n; i++) {
		if (s[i] == '\'')
			break;
		if (s[i] == '\\') {
			if (i + 1 >= lx->n)
				break;
			tok->esc = true;
			if (s[i + 1] != '\\' && s[i + 1] != '\'') {
				unsigned char c = (unsigned char)s[i + 1];
				if (c >= 0x20 && c < 0x7f)
					return lex_error(lx, i,
					                 "invalid escape '\\%c' in string literal "
					                 "(only \\\\ and \\' are allowed)",
					                 c);
				return lex_error(
				    lx, i,
				    "invalid escape in string literal (only \\\\ and \\' "
				    "are allowed)");
			}
			i++;
		}
	}
	if (i >= lx->n)
		return lex_error(lx, start, "unterminated string literal");
	tok->t = PT_STRING;
	lx->pos = i + 1;
	return true;
}

static bool lex_number(struct sk_plexer *lx, struct sk_ptoken *tok)
{
	const char *s = lx->s;
	size_t start = lx->pos, i = start, digits;

	tok->neg = s[i] == '-';
	if (s[i] == '+' || s[i] == '-')
		i++;
	size_t istart = i;
	while (i < lx->n && is_digit((unsigned char)s[i]))
		i++;
	digits = i - istart;
	if (i + 1 < lx->n && s[i] == '.' && is_digit((unsigned char)s[i + 1])) {
		for (i++; i < lx->n && is_digit((unsigned char)s[i]); i++)
			;
		tok->t = PT_FLOAT;
		lx->pos = i;
		return true;
	}
	if (digits == 0)
		return lex_error(lx, start, "unexpected character '%c'", s[start]);
	if (digits > 1 && s[istart] == '0')
		return lex_error(lx, start, "invalid integer '%.*s' (no leading zeros)",
		                 (int)(i - start > 40 ? 40 : i - start), s + start);
	tok->t = PT_INT;
	lx->pos = i;
	return true;
}

bool sk_pattern_lex(struct sk_plexer *lx, struct sk_ptoken *tok)
{
	const char *s = lx->s;
	size_t n = lx->n;
	unsigned char c, d;

	tok->hyphen = false;
	tok->neg = false;
	tok->esc = false;
	if (!skip_space(lx))
		return false;
	tok->off = (uint32_t)lx->pos;
	if (lx->pos >= n) {
		tok->t = PT_EOF;
		tok->len = 0;
		return true;
	}
	c = (unsigned char)s[lx->pos];
	d = lx->pos + 1 < n ? (unsigned char)s[lx->pos + 1] : 0;

	switch (c) {
	case '[':
		tok->t = PT_LBRACK;
		break;
	case ']':
		tok->t = PT_RBRACK;
		break;
	case '(':
		tok->t = PT_LPAREN;
		break;
	case ')':
		tok->t = PT_RPAREN;
		break;
	case ':':
		tok->t = PT_COLON;
		break;
	case ',':
		tok->t = PT_COMMA;
		break;
	case '*':
		tok->t = PT_STAR;
		break;
	case '=':
		tok->t = PT_EQ;
		if (d == '=')
			lx->pos++;
		break;
	case '!':
		if (d != '=')
			return lex_error(lx, lx->pos,
			                 "unexpected character '!' (did you mean '!='?)");
		tok->t = PT_NEQ;
		lx->pos++;
		break;
	case '<':
		tok->t = PT_LT;
		if (d == '=' || d == '>') {
			tok->t = d == '=' ? PT_LE : PT_NEQ;
			lx->pos++;
		}
		break;
	case '>':
		tok->t = PT_GT;
		if (d == '=') {
			tok->t = PT_GE;
			lx->pos++;
		}
		break;
	case '.':
		if (is_digit(d)) {
			if (!lex_number(lx, tok))
				return false;
			goto done;
		}
		tok->t = PT_DOT;
		break;
	case '\'':
		if (!lex_string(lx, tok))
			return false;
		goto done;
	case '"':
		return lex_error(lx, lx->pos,
		                 "unexpected character '\"' (string literals use single quotes)");
	default:
		if (is_digit(c) || c == '+' || c == '-') {
			if (!lex_number(lx, tok))
				return false;
			goto done;
		}
		if ((c == 'b' || c == 'h' || c == 't') && d == '\'') {
			if (!lex_prefixed(lx, tok))
				return false;
			goto done;
		}
		if (is_ident_start(c)) {
			size_t i = lx->pos + 1;
			while (i < n && (cclass[(unsigned char)s[i]] & C_ICHAR)) {
				if (s[i] == '-')
					tok->hyphen = true;
				i++;
			}
			tok->t = keyword(s + lx->pos, i - lx->pos);
			lx->pos = i;
			goto done;
		}
		if (c >= 0x20 && c < 0x7f)
			return lex_error(lx, lx->pos, "unexpected character '%c'", c);
		return lex_error(lx, lx->pos, "unexpected character (byte 0x%02x)", c);
	}
	lx->pos++;
done:
	tok->len = (uint32_t)(lx->pos - tok->off);
	return true;
}

void sk_pattern_tok_describe(const char *s, const struct sk_ptoken *tok, char *buf, size_t n)
{
	enum { MAXSHOW = 40 };
	char text[MAXSHOW * 4 + 8];
	size_t len = tok->len, k = 0, i;
	bool quoted_literal = tok->t == PT_STRING || tok->t == PT_BINARY || tok->t == PT_HEX ||
	                      tok->t == PT_TIMESTAMP;

	if (tok->t == PT_EOF) {
		snprintf(buf, n, "end of pattern");
		return;
	}
	for (i = 0; i < len && i < MAXSHOW; i++) {
		unsigned char c = (unsigned char)s[tok->off + i];
		text[k++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	/* do not cut a UTF-8 sequence in half */
	if (i < len)
		while (k > 0 && ((unsigned char)text[k - 1] & 0xC0) == 0x80)
			k--;
	if (i < len && k > 0 && ((unsigned char)text[k - 1] & 0xC0) == 0xC0)
		k--;
	text[k] = '\0';
	if (quoted_literal)
		snprintf(buf, n, "%s%s", text, i < len ? "..." : "");
	else
		snprintf(buf, n, "'%s%s'", text, i < len ? "..." : "");
}

size_t sk_pattern_unescape(const char *s, size_t n, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		out[k++] = s[i];
	}
	return k;
}

size_t sk_pattern_unbase64(const char *s, size_t n, unsigned char *out)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)s[i]);
		if (v < 0)
			break; /* '=' padding */
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (unsigned char)(acc >> bits);
		}
	}
	return k;
}

size_t sk_pattern_unhex(const char *s, size_t n, unsigned char *out)
{
	size_t k = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		out[k++] = (unsigned char)(sk_hexval((unsigned char)s[i]) << 4 |
		                           sk_hexval((unsigned char)s[i + 1]));
	return k;
}
