/*
 * pattern_cmp.c - the comparison expressions of a STIX pattern, what goes
 * inside '[...]': literals, object paths, the comparison operators and
 * AND / OR between comparisons.  Part of the recursive-descent parser in
 * pattern.c (the state, arena and error helpers are in pattern_priv.h).
 *
 * Rule beyond the context-free grammar, checked here because the matcher
 * relies on it: comparisons joined by AND inside one observation expression
 * must use the same object type (they are evaluated against one object).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern_priv.h"

/* ---- literals ------------------------------------------------------------------ */

enum lit_class { LIT_PRIMITIVE, LIT_ORDERABLE, LIT_STRING };

bool sk_pattern_parse_int(struct parser *P, const struct sk_ptoken *t, int64_t *out)
{
	const char *s = P->s + t->off;
	size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
	uint64_t v = 0, limit = t->neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

	for (; i < t->len; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (limit - d) / 10) {
			fail(P, t->off, "integer '%.*s' is out of range",
			     (int)(t->len > 40 ? 40 : t->len), s);
			return false;
		}
		v = v * 10 + d;
	}
	if (t->neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return true;
}

bool sk_pattern_parse_float(struct parser *P, const struct sk_ptoken *t, double *out)
{
	char small[64], *buf = small;
	if (t->len >= sizeof(small)) {
		buf = sk_pattern_arena_alloc(P->pat, t->len + 1);
		if (!buf) {
			oom(P);
			return false;
		}
	}
	memcpy(buf, P->s + t->off, t->len);
	buf[t->len] = '\0';
	*out = strtod(buf, NULL);
	if (!isfinite(*out)) {
		fail(P, t->off, "number is out of range");
		return false;
	}
	return true;
}

/* Decode the literal at the current token into *l (the token is not consumed). */
static bool decode_literal(struct parser *P, sk_plit *l)
{
	const struct sk_ptoken *t = &P->tok;
	const char *s = P->s + t->off;
	size_t blen;
	unsigned char *bytes;

	memset(l, 0, sizeof(*l));
	l->offset = t->off;
	l->length = t->len;
	switch (t->t) {
	case PT_STRING: {
		char *out = sk_pattern_arena_alloc(P->pat, t->len);
		if (!out) {
			oom(P);
			return false;
		}
		l->kind = SK_PLIT_STRING;
		if (t->esc) {
			l->len = sk_pattern_unescape(s + 1, t->len - 2, out);
		} else {
			l->len = t->len - 2;
			memcpy(out, s + 1, l->len);
		}
		out[l->len] = '\0';
		l->str = out;
		return true;
	}
	case PT_INT:
		l->kind = SK_PLIT_INT;
		if (!sk_pattern_parse_int(P, t, &l->i))
			return false;
		l->f = (double)l->i;
		return true;
	case PT_FLOAT:
		l->kind = SK_PLIT_FLOAT;
		return sk_pattern_parse_float(P, t, &l->f);
	case PT_TRUE:
	case PT_FALSE:
		l->kind = SK_PLIT_BOOL;
		l->b = t->t == PT_TRUE;
		l->i = l->b;
		return true;
	case PT_BINARY:
	case PT_HEX:
		blen = t->len - 3;
		bytes = sk_pattern_arena_alloc(P->pat, blen + 1);
		if (!bytes) {
			oom(P);
			return false;
		}
		if (t->t == PT_BINARY) {
			l->kind = SK_PLIT_BINARY;
			l->len = sk_pattern_unbase64(s + 2, blen, bytes);
		} else {
			l->kind = SK_PLIT_HEX;
			l->len = sk_pattern_unhex(s + 2, blen, bytes);
		}
		bytes[l->len] = '\0';
		l->str = (const char *)bytes;
		return true;
	case PT_TIMESTAMP:
		l->kind = SK_PLIT_TIMESTAMP;
		l->len = t->len - 3;
		l->str = sk_pattern_arena_strndup(P, s + 2, l->len);
		if (!l->str)
			return false;
		sk_ts_parse(l->str, l->len, l->ts_key, &l->i);
		return true;
	default:
		return false;
	}
}

static bool is_literal(enum sk_ptok t)
{
	return t == PT_STRING || t == PT_INT || t == PT_FLOAT || t == PT_TRUE || t == PT_FALSE ||
	       t == PT_BINARY || t == PT_HEX || t == PT_TIMESTAMP;
}

static bool parse_literal(struct parser *P, sk_plit *l, enum lit_class cls)
{
	enum sk_ptok t = P->tok.t;

	if (cls == LIT_STRING && t != PT_STRING) {
		expected(P, "a string literal");
		return false;
	}
	if (cls == LIT_ORDERABLE && (t == PT_TRUE || t == PT_FALSE)) {
		expected(P, "a number, string, binary, hex or timestamp literal (true and false "
		            "cannot be ordered)");
		return false;
	}
	if (!is_literal(t)) {
		expected(P, cls == LIT_ORDERABLE
		                ? "a number, string, binary, hex or timestamp literal"
		                : "a literal value");
		return false;
	}
	if (!decode_literal(P, l))
		return false;
	return advance(P);
}

/* IN ( literal, ... ): the current token is '('. */
static bool parse_set(struct parser *P, sk_pcmp *cmp)
{
	size_t n = 0;

	if (P->tok.t != PT_LPAREN) {
		expected(P, "'(' after IN");
		return false;
	}
	if (!advance(P))
		return false;
	if (P->tok.t != PT_RPAREN) {
		for (;;) {
			if (n == P->setcap) {
				size_t cap = P->setcap ? P->setcap * 2 : 16;
				sk_plit *nb = realloc(P->setbuf, cap * sizeof(*nb));
				if (!nb) {
					oom(P);
					return false;
				}
				P->setbuf = nb;
				P->setcap = cap;
			}
			if (!count_node(P, P->tok.off))
				return false;
			if (!parse_literal(P, &P->setbuf[n], LIT_PRIMITIVE))
				return false;
			n++;
			if (P->tok.t == PT_RPAREN)
				break;
			if (P->tok.t != PT_COMMA) {
				expected(P, "',' or ')' in the IN set");
				return false;
			}
			if (!advance(P))
				return false;
		}
	}
	if (n) {
		sk_plit *set = sk_pattern_arena_alloc(P->pat, n * sizeof(*set));
		if (!set) {
			oom(P);
			return false;
		}
		memcpy(set, P->setbuf, n * sizeof(*set));
		cmp->set = set;
	}
	cmp->nset = (uint32_t)n;
	return advance(P); /* the ')' */
}

/* ---- object paths ------------------------------------------------------------- */

static bool ends_with_ref(const char *s, size_t n)
{
	return (n >= 4 && memcmp(s + n - 4, "_ref", 4) == 0) ||
	       (n >= 5 && memcmp(s + n - 5, "_refs", 5) == 0);
}

/* A property name: an identifier without '-', or a quoted string. */
static bool parse_key(struct parser *P, sk_pstep *st)
{
	const struct sk_ptoken *t = &P->tok;

	st->kind = SK_PSTEP_KEY;
	if (t->t == PT_IDENT) {
		if (t->hyphen) {
			fail(P, t->off,
			     "property name '%.*s' contains '-'; write it quoted, as '%.*s'",
			     (int)(t->len > 60 ? 60 : t->len), P->s + t->off,
			     (int)(t->len > 60 ? 60 : t->len), P->s + t->off);
			return false;
		}
		st->key = sk_pattern_arena_strndup(P, P->s + t->off, t->len);
		st->keylen = t->len;
	} else if (t->t == PT_STRING) {
		char *out = sk_pattern_arena_alloc(P->pat, t->len);
		if (!out) {
			oom(P);
			return false;
		}
		if (t->esc) {
			st->keylen = sk_pattern_unescape(P->s + t->off + 1, t->len - 2, out);
		} else {
			st->keylen = t->len - 2;
			memcpy(out, P->s + t->off + 1, st->keylen);
		}
		out[st->keylen] = '\0';
		st->key = out;
		st->quoted = true;
	} else {
		expected(P, "a property name");
		return false;
	}
	if (!st->key)
		return false;
	return advance(P);
}

static bool parse_path(struct parser *P, sk_ppath *path)
{
	sk_pstep steps[SK_PATTERN_MAX_STEPS];
	uint32_t n = 0;
	bool refs = false; /* the value reached so far holds references */

	if (P->tok.t != PT_IDENT) {
		expected(P, "an object type");
		return false;
	}
	path->offset = P->tok.off;
	path->typelen = P->tok.len;
	path->type = sk_pattern_arena_strndup(P, P->s + P->tok.off, P->tok.len);
	if (!path->type || !advance(P))
		return false;
	if (P->tok.t != PT_COLON) {
		char what[120];
		snprintf(what, sizeof(what), "':' after the object type '%.60s'", path->type);
		expected(P, what);
		return false;
	}
	if (!advance(P))
		return false;
	for (;;) {
		sk_pstep *st = &steps[n];
		size_t off = P->tok.off;
		memset(st, 0, sizeof(*st));
		if (n > 0 && P->tok.t == PT_LBRACK) {
			if (!advance(P))
				return false;
			if (P->tok.t == PT_STAR) {
				st->kind = SK_PSTEP_ANY;
			} else if (P->tok.t == PT_INT) {
				st->kind = SK_PSTEP_INDEX;
				if (!sk_pattern_parse_int(P, &P->tok, &st->index))
					return false;
			} else {
				expected(P, "a list index or '*'");
				return false;
			}
			if (!advance(P))
				return false;
			if (P->tok.t != PT_RBRACK) {
				expected(P, "']' after the list index");
				return false;
			}
			if (!advance(P))
				return false;
		} else {
			if (n > 0 && !advance(P)) /* the '.' */
				return false;
			if (!parse_key(P, st))
				return false;
			st->deref = refs;
			refs = ends_with_ref(st->key, st->keylen);
		}
		n++;
		if (P->tok.t != PT_DOT && P->tok.t != PT_LBRACK)
			break;
		if (n == SK_PATTERN_MAX_STEPS) {
			sk_pattern_fail_code(P, SK_ELIMIT, off,
			                     "object path has more than %d steps",
			                     SK_PATTERN_MAX_STEPS);
			return false;
		}
	}
	sk_pstep *copy = sk_pattern_arena_alloc(P->pat, n * sizeof(*copy));
	if (!copy) {
		oom(P);
		return false;
	}
	memcpy(copy, steps, n * sizeof(*copy));
	path->steps = copy;
	path->nsteps = n;
	return true;
}

/* ---- comparison level ------------------------------------------------------------ */

static sk_pnode *parse_comparison(struct parser *P)
{
	sk_pnode *n = sk_pattern_new_node(P, SK_PN_COMPARISON, P->tok.off);
	sk_pcmp *c;

	if (!n)
		return NULL;
	c = &n->cmp;
	if (P->tok.t == PT_EXISTS) {
		if (!advance(P))
			return NULL;
		if (!parse_path(P, &c->path))
			return NULL;
		c->op = SK_PCMP_EXISTS;
		goto done;
	}
	if (!parse_path(P, &c->path))
		return NULL;
	if (P->tok.t == PT_NOT) {
		c->negated = true;
		if (!advance(P))
			return NULL;
	}
	/* which operator, and what it compares with */
	static const struct {
		enum sk_ptok tok;
		sk_pcmp_op op;
		int operand; /* a lit_class, or -1 for a set */
	} ops[] = {
	    {PT_EQ, SK_PCMP_EQ, LIT_PRIMITIVE},
	    {PT_NEQ, SK_PCMP_NEQ, LIT_PRIMITIVE},
	    {PT_LT, SK_PCMP_LT, LIT_ORDERABLE},
	    {PT_LE, SK_PCMP_LE, LIT_ORDERABLE},
	    {PT_GT, SK_PCMP_GT, LIT_ORDERABLE},
	    {PT_GE, SK_PCMP_GE, LIT_ORDERABLE},
	    {PT_IN, SK_PCMP_IN, -1},
	    {PT_LIKE, SK_PCMP_LIKE, LIT_STRING},
	    {PT_MATCHES, SK_PCMP_MATCHES, LIT_STRING},
	    {PT_ISSUBSET, SK_PCMP_ISSUBSET, LIT_STRING},
	    {PT_ISSUPERSET, SK_PCMP_ISSUPERSET, LIT_STRING},
	};
	size_t i;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]) && ops[i].tok != P->tok.t; i++)
		;
	if (i == sizeof(ops) / sizeof(ops[0]))
		return expected(P, c->negated ? "a comparison operator after NOT"
		                              : "a comparison operator (=, !=, <, <=, >, >=, IN, "
		                                "LIKE, MATCHES, ISSUBSET, ISSUPERSET)");
	c->op = ops[i].op;
	if (!advance(P))
		return NULL;
	if (ops[i].operand < 0 ? !parse_set(P, c)
	                       : !parse_literal(P, &c->value, (enum lit_class)ops[i].operand))
		return NULL;
done:
	n->object_type = c->path.type;
	P->pat->counts.comparisons++;
	return n;
}

static sk_pnode *parse_cmp_atom(struct parser *P)
{
	if (P->tok.t == PT_LPAREN) {
		sk_pnode *n;
		if (!enter(P, P->tok.off) || !advance(P))
			return NULL;
		n = sk_pattern_parse_cmp_or(P);
		if (!n)
			return NULL;
		if (P->tok.t != PT_RPAREN)
			return expected(P, "')' or AND/OR");
		if (!advance(P))
			return NULL;
		P->depth--;
		return n;
	}
	if (P->tok.t == PT_IDENT || P->tok.t == PT_EXISTS)
		return parse_comparison(P);
	if (P->tok.t == PT_NOT)
		return fail(P, P->tok.off,
		            "expected an object path, '(' or EXISTS, found 'NOT' (NOT goes between "
		            "the object path and the operator: file:name NOT = 'x')");
	return expected(P, "an object path, '(' or EXISTS");
}

/* The first two different object types used below n (for the AND rule's message). */
static void two_types(const sk_pnode *n, const char **a, const char **b)
{
	if (n->kind == SK_PN_COMPARISON) {
		if (!*a)
			*a = n->object_type;
		else if (!*b && strcmp(*a, n->object_type) != 0)
			*b = n->object_type;
		return;
	}
	for (const sk_pnode *k = n->kids; k && !*b; k = k->next)
		two_types(k, a, b);
}

static void *mixed_and(struct parser *P, const sk_pnode *at, const char *a, const char *b)
{
	if (!b)
		two_types(at, &a, &b);
	return fail(P, at->offset,
	            "comparisons joined by AND must use the same object type, found '%.60s' and "
	            "'%.60s'",
	            a ? a : "?", b ? b : "?");
}

static sk_pnode *parse_cmp_and(struct parser *P)
{
	sk_pnode *first = parse_cmp_atom(P), *n, *tail = NULL;

	if (!first || P->tok.t != PT_AND)
		return first;
	if (!first->object_type)
		return mixed_and(P, first, NULL, NULL);
	n = sk_pattern_new_node(P, SK_PN_CMP_AND, first->offset);
	if (!n)
		return NULL;
	n->object_type = first->object_type;
	add_kid(n, &tail, first);
	while (P->tok.t == PT_AND) {
		sk_pnode *k;
		if (!advance(P) || !(k = parse_cmp_atom(P)))
			return NULL;
		if (!k->object_type)
			return mixed_and(P, k, NULL, NULL);
		if (strcmp(k->object_type, n->object_type) != 0)
			return mixed_and(P, k, n->object_type, k->object_type);
		add_kid(n, &tail, k);
	}
	return n;
}

sk_pnode *sk_pattern_parse_cmp_or(struct parser *P)
{
	sk_pnode *first = parse_cmp_and(P), *n, *tail = NULL;

	if (!first || P->tok.t != PT_OR)
		return first;
	n = sk_pattern_new_node(P, SK_PN_CMP_OR, first->offset);
	if (!n)
		return NULL;
	n->object_type = first->object_type;
	add_kid(n, &tail, first);
	while (P->tok.t == PT_OR) {
		sk_pnode *k;
		if (!advance(P) || !(k = parse_cmp_and(P)))
			return NULL;
		if (n->object_type && (!k->object_type || strcmp(k->object_type, n->object_type)))
			n->object_type = NULL;
		add_kid(n, &tail, k);
	}
	return n;
}
