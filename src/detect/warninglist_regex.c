/*
 * warninglist_regex.c - the POSIX extended regexes of MISP regex lists as
 * Hyperscan expressions of the same meaning, so that one database scan
 * replaces a regexec per entry.  Only a subset is translated, one whose
 * meaning both engines share; the rest stays with regexec (warninglist.c).
 */
#include "warninglist_priv.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rxout {
	char *p;
	size_t len, cap;
	bool ok;
} rxout;

static void emit(rxout *o, const char *s, size_t n)
{
	if (!o->ok || o->len + n >= o->cap) {
		o->ok = false;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void emit_hex(rxout *o, unsigned char c)
{
	static const char hx[] = "0123456789abcdef";
	char b[4] = {'\\', 'x', hx[c >> 4], hx[c & 15]};
	emit(o, b, 4);
}

/* One byte as a literal: ASCII letters and digits as they are, anything else \xHH. */
static void emit_lit(rxout *o, unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		emit(o, (const char *)&c, 1);
	else
		emit_hex(o, c);
}

/*
 * The POSIX character classes of the C locale as explicit byte ranges, so
 * that Hyperscan's own reading of a class (is \v a space?) does not matter.
 * upper and lower are refused under REG_ICASE, where glibc folds them its
 * own way.
 */
static const char *posix_class(const char *name, size_t n, bool icase)
{
	static const struct {
		const char *name, *ranges;
	} cls[] = {
	    {"alpha", "A-Za-z"},
	    {"digit", "0-9"},
	    {"alnum", "0-9A-Za-z"},
	    {"upper", "A-Z"},
	    {"lower", "a-z"},
	    {"xdigit", "0-9A-Fa-f"},
	    {"space", "\\x09-\\x0d\\x20"},
	    {"blank", "\\x09\\x20"},
	    {"punct", "\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e"},
	    {"print", "\\x20-\\x7e"},
	    {"graph", "\\x21-\\x7e"},
	    {"cntrl", "\\x00-\\x1f\\x7f"},
	};
	for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++)
		if (strlen(cls[i].name) == n && !memcmp(cls[i].name, name, n))
			return icase && (i == 3 || i == 4) ? NULL : cls[i].ranges;
	return NULL;
}

/*
 * The bracket expression at *pp ('['), every member spelled out as \xHH or
 * an explicit range; advances *pp past its ']'.  False for what the subset
 * leaves to regexec: collating elements, equivalence classes, ranges under
 * REG_ICASE, a '-' that is neither first, last nor a range's.
 */
static bool bracket(const char **pp, bool icase, rxout *o)
{
	const char *p = *pp + 1, *start;

	emit(o, "[", 1);
	if (*p == '^') {
		emit(o, "^", 1);
		p++;
	}
	start = p;
	for (;;) {
		unsigned char lo = (unsigned char)*p, hi;
		if (!lo)
			return false;
		if (lo == ']' && p != start)
			break;
		if (lo == '[' && p[1] == ':') {
			const char *end = strstr(p + 2, ":]"), *r;
			if (!end || !(r = posix_class(p + 2, (size_t)(end - p - 2), icase)))
				return false;
			emit(o, r, strlen(r));
			p = end + 2;
			if (*p == '-' && p[1] != ']')
				return false; /* a class as a range's end */
			continue;
		}
		if (lo == '[' && (p[1] == '.' || p[1] == '='))
			return false;
		if (lo == '-' && p != start && p[1] != ']')
			return false;
		p++;
		emit_hex(o, lo);
		if (*p == '-' && p[1] && p[1] != ']') {
			hi = (unsigned char)p[1];
			if (icase || hi == '[' || hi < lo)
				return false;
			emit(o, "-", 1);
			emit_hex(o, hi);
			p += 2;
		}
	}
	emit(o, "]", 1);
	*pp = p + 1;
	return o->ok;
}

bool sk_warninglist_regex_to_hs(const char *re, bool icase, char *out, size_t outsz)
{
	/* what came just before: decides whether a quantifier may follow */
	enum { START, ATOM, ANCHOR, QUANT } prev = START;
	rxout o = {out, 0, outsz, outsz > 0};
	unsigned depth = 0;
	const char *p = re;

	if (outsz)
		out[0] = '\0';
	while (*p && o.ok) {
		unsigned char c = (unsigned char)*p;
		switch (c) {
		case '(':
			if (++depth > 64)
				return false;
			emit(&o, "(", 1);
			prev = START;
			p++;
			break;
		case ')':
			if (!depth || prev == START)
				return false; /* unmatched (glibc: a literal), or empty */
			depth--;
			emit(&o, ")", 1);
			prev = ATOM;
			p++;
			break;
		case '|':
			if (prev == START)
				return false; /* empty alternative */
			emit(&o, "|", 1);
			prev = START;
			p++;
			break;
		case '*':
		case '+':
		case '?':
			if (prev != ATOM)
				return false; /* nothing to repeat, or a repeated repeat */
			emit(&o, (const char *)&c, 1);
			prev = QUANT;
			p++;
			break;
		case '{': {
			char *end;
			unsigned long lo, hi;
			char b[48]; /* "{lo,hi}": 2 x 20 digits at most, whatever the compiler proves */
			if (prev != ATOM || p[1] < '0' || p[1] > '9')
				return false;
			lo = strtoul(p + 1, &end, 10);
			hi = lo;
			if (*end == ',') {
				if (end[1] == '}') {
					hi = ULONG_MAX;
					end++;
				} else if (end[1] >= '0' && end[1] <= '9') {
					hi = strtoul(end + 1, &end, 10);
				} else {
					return false;
				}
			}
			if (*end != '}' || lo > 255 || (hi != ULONG_MAX && (hi > 255 || hi < lo)))
				return false;
			if (hi == ULONG_MAX)
				snprintf(b, sizeof(b), "{%lu,}", lo);
			else if (hi == lo)
				snprintf(b, sizeof(b), "{%lu}", lo);
			else
				snprintf(b, sizeof(b), "{%lu,%lu}", lo, hi);
			emit(&o, b, strlen(b));
			prev = QUANT;
			p = end + 1;
			break;
		}
		case '^':
			emit(&o, "^", 1);
			prev = ANCHOR;
			p++;
			break;
		case '$':
			/* POSIX '$' is the very end; Hyperscan's also matches before a final \n */
			emit(&o, "\\z", 2);
			prev = ANCHOR;
			p++;
			break;
		case '.':
			emit(&o, ".", 1); /* with SK_MHS_DOTALL: any byte, as in POSIX */
			prev = ATOM;
			p++;
			break;
		case '[':
			if (!bracket(&p, icase, &o))
				return false;
			prev = ATOM;
			break;
		case '\\':
			c = (unsigned char)p[1];
			/* \w, \b, \<, \`, \1... are GNU extensions: left to regexec */
			if (!c || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') || strchr("<>`'", c))
				return false;
			emit_hex(&o, c);
			prev = ATOM;
			p += 2;
			break;
		default:
			emit_lit(&o, c);
			prev = ATOM;
			p++;
			break;
		}
	}
	return o.ok && !depth && prev != START;
}
