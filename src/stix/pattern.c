/*
 * pattern.c - recursive-descent parser for STIX patterns, building the tree
 * declared in schakel/pattern.h inside one arena.
 *
 * One function per grammar level (see the header for the grammar).  Every
 * function returns the node it built or NULL after recording the first error
 * in the parser; nothing is freed on the way out because everything lives in
 * the pattern's arena, which sk_pattern_parse() frees on failure.
 *
 * Rules beyond the context-free grammar, checked here because the matcher
 * relies on them:
 *  - comparisons joined by AND inside one observation expression must use
 *    the same object type (they are evaluated against one object);
 *  - a bracketed observation expression carries each qualifier kind at most
 *    once (as the OASIS validator has it; a parenthesised group may repeat);
 *  - WITHIN and REPEATS take positive values, STOP is later than START.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern_priv.h"
#include "core/utf8.h"

#define ARENA_ALIGN _Alignof(max_align_t)

struct chunk {
	struct chunk *next;
	max_align_t data[];
};

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
};

/* ---- arena ---------------------------------------------------------------- */

static void *arena_alloc(sk_pattern *p, size_t size)
{
	size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (size > p->left) {
		size_t want = p->last_size * 2;
		if (want < size)
			want = size;
		if (want < 4096)
			want = 4096;
		struct chunk *c = malloc(sizeof(*c) + want);
		if (!c)
			return NULL;
		c->next = p->chunks;
		p->chunks = c;
		p->cur = (unsigned char *)c->data;
		p->left = want;
		p->last_size = want;
	}
	void *r = p->cur;
	p->cur += size;
	p->left -= size;
	return r;
}

/* ---- errors ------------------------------------------------------------------- */

static void *fail_code(struct parser *P, sk_err code, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void *fail_code(struct parser *P, sk_err code, size_t off, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (P->rc != SK_OK)
		return NULL; /* keep the first error */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	P->rc = sk_error_set(P->err, code, "pattern offset %zu: %s", off, msg);
	return NULL;
}

#define fail(P, off, ...) fail_code((P), SK_EINVAL, (off), __VA_ARGS__)

static void *oom(struct parser *P)
{
	if (P->rc == SK_OK)
		P->rc = sk_error_set(P->err, SK_ENOMEM, "out of memory parsing a pattern");
	return NULL;
}

/* "expected WHAT, found TOKEN" at the current token. */
static void *expected(struct parser *P, const char *what)
{
	char found[200];
	sk_pattern_tok_describe(P->s, &P->tok, found, sizeof(found));
	return fail(P, P->tok.off, "expected %s, found %s", what, found);
}

static bool advance(struct parser *P)
{
	if (sk_pattern_lex(&P->lx, &P->tok))
		return true;
	fail(P, P->lx.erroff, "%s", P->lx.msg);
	return false;
}

static bool enter(struct parser *P, size_t off)
{
	if (++P->depth > SK_PATTERN_MAX_DEPTH) {
		fail_code(P, SK_ELIMIT, off, "nested more than %d levels deep",
		          SK_PATTERN_MAX_DEPTH);
		return false;
	}
	return true;
}

static bool count_node(struct parser *P, size_t off)
{
	if (++P->pat->counts.nodes > SK_PATTERN_MAX_NODES) {
		fail_code(P, SK_ELIMIT, off, "pattern has more than %d nodes",
		          SK_PATTERN_MAX_NODES);
		return false;
	}
	return true;
}

static sk_pnode *new_node(struct parser *P, sk_pnode_kind kind, size_t off)
{
	sk_pnode *n;
	if (!count_node(P, off))
		return NULL;
	n = arena_alloc(P->pat, sizeof(*n));
	if (!n)
		return oom(P);
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->offset = (uint32_t)off;
	return n;
}

static char *arena_strndup(struct parser *P, const char *s, size_t n)
{
	char *r = arena_alloc(P->pat, n + 1);
	if (!r)
		return oom(P);
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

/* ---- literals ------------------------------------------------------------------ */

enum lit_class { LIT_PRIMITIVE, LIT_ORDERABLE, LIT_STRING };

static bool parse_int(struct parser *P, const struct sk_ptoken *t, int64_t *out)
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

static bool parse_float(struct parser *P, const struct sk_ptoken *t, double *out)
{
	char small[64], *buf = small;
	if (t->len >= sizeof(small)) {
		buf = arena_alloc(P->pat, t->len + 1);
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
		char *out = arena_alloc(P->pat, t->len);
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
		if (!parse_int(P, t, &l->i))
			return false;
		l->f = (double)l->i;
		return true;
	case PT_FLOAT:
		l->kind = SK_PLIT_FLOAT;
		return parse_float(P, t, &l->f);
	case PT_TRUE:
	case PT_FALSE:
		l->kind = SK_PLIT_BOOL;
		l->b = t->t == PT_TRUE;
		l->i = l->b;
		return true;
	case PT_BINARY:
	case PT_HEX:
		blen = t->len - 3;
		bytes = arena_alloc(P->pat, blen + 1);
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
		l->str = arena_strndup(P, s + 2, l->len);
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
		sk_plit *set = arena_alloc(P->pat, n * sizeof(*set));
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
		st->key = arena_strndup(P, P->s + t->off, t->len);
		st->keylen = t->len;
	} else if (t->t == PT_STRING) {
		char *out = arena_alloc(P->pat, t->len);
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
	path->type = arena_strndup(P, P->s + P->tok.off, P->tok.len);
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
				if (!parse_int(P, &P->tok, &st->index))
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
			fail_code(P, SK_ELIMIT, off, "object path has more than %d steps",
			          SK_PATTERN_MAX_STEPS);
			return false;
		}
	}
	sk_pstep *copy = arena_alloc(P->pat, n * sizeof(*copy));
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

static sk_pnode *parse_cmp_or(struct parser *P);

static sk_pnode *parse_comparison(struct parser *P)
{
	sk_pnode *n = new_node(P, SK_PN_COMPARISON, P->tok.off);
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
		n = parse_cmp_or(P);
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

static void add_kid(sk_pnode *parent, sk_pnode **tail, sk_pnode *kid)
{
	if (*tail)
		(*tail)->next = kid;
	else
		parent->kids = kid;
	*tail = kid;
	parent->nkids++;
}

static sk_pnode *parse_cmp_and(struct parser *P)
{
	sk_pnode *first = parse_cmp_atom(P), *n, *tail = NULL;

	if (!first || P->tok.t != PT_AND)
		return first;
	if (!first->object_type)
		return mixed_and(P, first, NULL, NULL);
	n = new_node(P, SK_PN_CMP_AND, first->offset);
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

static sk_pnode *parse_cmp_or(struct parser *P)
{
	sk_pnode *first = parse_cmp_and(P), *n, *tail = NULL;

	if (!first || P->tok.t != PT_OR)
		return first;
	n = new_node(P, SK_PN_CMP_OR, first->offset);
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

/* ---- observation level ------------------------------------------------------------ */

static sk_pnode *parse_obs_fb(struct parser *P);

/* A timestamp after START or STOP: t'...' or, as STIX 2.0 wrote it, '...'. */
static bool parse_qual_ts(struct parser *P, const char *after, const char **text, char *key,
                          int64_t *us)
{
	const struct sk_ptoken *t = &P->tok;
	const char *body = P->s + t->off;
	size_t blen;

	if (t->t == PT_TIMESTAMP) {
		body += 2;
		blen = t->len - 3;
	} else if (t->t == PT_STRING) {
		body += 1;
		blen = t->len - 2;
		if (!sk_pattern_ts_valid(body, blen)) {
			fail(P, t->off,
			     "invalid timestamp after %s: expected "
			     "t'YYYY-MM-DDTHH:MM:SS[.fraction]Z'",
			     after);
			return false;
		}
	} else {
		char what[80];
		snprintf(what, sizeof(what), "a timestamp t'...' after %s", after);
		expected(P, what);
		return false;
	}
	*text = arena_strndup(P, body, blen);
	if (!*text)
		return false;
	sk_ts_parse(body, blen, key, us);
	return advance(P);
}

static bool parse_qualifier(struct parser *P, sk_pqual *q)
{
	const struct sk_ptoken *t = &P->tok;

	switch (t->t) {
	case PT_WITHIN:
		q->kind = SK_PQ_WITHIN;
		if (!advance(P))
			return false;
		if ((t->t != PT_INT && t->t != PT_FLOAT) || t->neg) {
			expected(P, "a positive number of seconds after WITHIN");
			return false;
		}
		if (t->t == PT_INT) {
			int64_t v;
			if (!parse_int(P, t, &v))
				return false;
			q->seconds = (double)v;
		} else if (!parse_float(P, t, &q->seconds)) {
			return false;
		}
		if (!(q->seconds > 0)) {
			expected(P, "a positive number of seconds after WITHIN");
			return false;
		}
		if (!advance(P))
			return false;
		if (t->t != PT_SECONDS) {
			expected(P, "SECONDS");
			return false;
		}
		return advance(P);
	case PT_REPEATS:
		q->kind = SK_PQ_REPEATS;
		if (!advance(P))
			return false;
		if (t->t != PT_INT || t->neg) {
			expected(P, "a positive integer after REPEATS");
			return false;
		}
		if (!parse_int(P, t, &q->times))
			return false;
		if (q->times <= 0) {
			expected(P, "a positive integer after REPEATS");
			return false;
		}
		if (!advance(P))
			return false;
		if (t->t != PT_TIMES) {
			expected(P, "TIMES");
			return false;
		}
		return advance(P);
	default: { /* START */
		size_t stop_off;
		q->kind = SK_PQ_STARTSTOP;
		if (!advance(P))
			return false;
		if (!parse_qual_ts(P, "START", &q->start, q->start_key, &q->start_us))
			return false;
		if (t->t != PT_STOP) {
			expected(P, "STOP");
			return false;
		}
		if (!advance(P))
			return false;
		stop_off = t->off;
		if (!parse_qual_ts(P, "STOP", &q->stop, q->stop_key, &q->stop_us))
			return false;
		if (strcmp(q->stop_key, q->start_key) <= 0) {
			fail(P, stop_off, "STOP (%s) must be later than START (%s)", q->stop,
			     q->start);
			return false;
		}
		return true;
	}
	}
}

static sk_pnode *parse_obs_atom(struct parser *P)
{
	size_t off = P->tok.off;
	sk_pnode *n, *c;

	if (P->tok.t == PT_LBRACK) {
		if (!enter(P, off) || !advance(P))
			return NULL;
		c = parse_cmp_or(P);
		if (!c)
			return NULL;
		if (P->tok.t != PT_RBRACK)
			return expected(P, "']' or AND/OR");
		if (!advance(P))
			return NULL;
		P->depth--;
		n = new_node(P, SK_PN_OBSERVATION, off);
		if (!n)
			return NULL;
		n->kids = c;
		n->nkids = 1;
		n->object_type = c->object_type;
		P->pat->counts.observations++;
		return n;
	}
	if (P->tok.t == PT_LPAREN) {
		if (!enter(P, off) || !advance(P))
			return NULL;
		n = parse_obs_fb(P);
		if (!n)
			return NULL;
		if (P->tok.t != PT_RPAREN)
			return expected(P, "')', AND, OR, FOLLOWEDBY or a qualifier");
		if (!advance(P))
			return NULL;
		P->depth--;
		return n;
	}
	return expected(P, "'[' or '('");
}

static sk_pnode *parse_obs_q(struct parser *P)
{
	size_t off = P->tok.off;
	bool bracketed = P->tok.t == PT_LBRACK;
	unsigned seen = 0, levels = 0;
	sk_pnode *n = parse_obs_atom(P);

	while (n && (P->tok.t == PT_WITHIN || P->tok.t == PT_REPEATS || P->tok.t == PT_START)) {
		size_t qoff = P->tok.off;
		sk_pnode *q;
		if (!enter(P, qoff))
			return NULL;
		levels++;
		q = new_node(P, SK_PN_QUALIFIED, off);
		if (!q || !parse_qualifier(P, &q->qual))
			return NULL;
		if (bracketed && (seen & (1u << q->qual.kind)))
			return fail(P, qoff,
			            "duplicate %s qualifier on one observation expression "
			            "(parenthesise to apply it again)",
			            sk_pqual_kind_name(q->qual.kind));
		seen |= 1u << q->qual.kind;
		q->kids = n;
		q->nkids = 1;
		P->pat->counts.qualifiers++;
		n = q;
	}
	P->depth -= levels;
	return n;
}

/* One n-ary level of the observation operators: sub (OP sub)*. */
static sk_pnode *parse_obs_level(struct parser *P, sk_pnode *(*sub)(struct parser *),
                                 enum sk_ptok op, sk_pnode_kind kind)
{
	sk_pnode *first = sub(P), *n, *tail = NULL;

	if (!first || P->tok.t != op)
		return first;
	n = new_node(P, kind, first->offset);
	if (!n)
		return NULL;
	add_kid(n, &tail, first);
	while (P->tok.t == op) {
		sk_pnode *k;
		if (!advance(P) || !(k = sub(P)))
			return NULL;
		add_kid(n, &tail, k);
	}
	return n;
}

static sk_pnode *parse_obs_and(struct parser *P)
{
	return parse_obs_level(P, parse_obs_q, PT_AND, SK_PN_OBS_AND);
}

static sk_pnode *parse_obs_or(struct parser *P)
{
	return parse_obs_level(P, parse_obs_and, PT_OR, SK_PN_OBS_OR);
}

static sk_pnode *parse_obs_fb(struct parser *P)
{
	return parse_obs_level(P, parse_obs_or, PT_FOLLOWEDBY, SK_PN_FOLLOWEDBY);
}

/* ---- public API -------------------------------------------------------------------- */

sk_err sk_pattern_parse(const char *text, size_t len, sk_pattern **out, sk_error *err)
{
	struct parser P;
	sk_pattern *p;
	size_t initial, bad;
	sk_pnode *root;

	*out = NULL;
	if (!text && len)
		return sk_error_set(err, SK_EINVAL, "no pattern text");
	if (len > SK_PATTERN_MAX_LEN)
		return sk_error_set(err, SK_ELIMIT,
		                    "pattern is %zu bytes, more than the limit of %zu", len,
		                    SK_PATTERN_MAX_LEN);
	if (!sk_utf8_valid(text, len, &bad))
		return sk_error_set(err, SK_EINVAL, "pattern offset %zu: invalid UTF-8", bad);

	/* one allocation holds the text and, usually, the whole tree */
	initial = 1024 + 4 * len;
	initial = (initial + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	p = malloc(sizeof(*p) + initial);
	if (!p)
		return sk_error_set(err, SK_ENOMEM, "out of memory parsing a pattern");
	memset(p, 0, sizeof(*p));
	p->cur = (unsigned char *)p->first;
	p->left = initial;
	p->last_size = initial;
	p->len = len;
	p->text = arena_alloc(p, len + 1); /* fits: initial > len */
	if (len)
		memcpy(p->text, text, len);
	p->text[len] = '\0';

	memset(&P, 0, sizeof(P));
	P.pat = p;
	P.s = p->text;
	P.lx.s = p->text;
	P.lx.n = len;
	P.err = err;

	if (advance(&P)) {
		root = parse_obs_fb(&P);
		if (root && P.tok.t != PT_EOF)
			expected(
			    &P, P.tok.t == PT_RPAREN
			            ? "end of pattern (this ')' has no matching '(')"
			            : "AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern");
		p->root = root;
	}
	free(P.setbuf);
	if (P.rc != SK_OK) {
		sk_pattern_free(p);
		return P.rc;
	}
	*out = p;
	return SK_OK;
}

void sk_pattern_free(sk_pattern *p)
{
	if (!p)
		return;
	for (struct chunk *c = p->chunks, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	free(p);
}

const sk_pnode *sk_pattern_root(const sk_pattern *p)
{
	return p->root;
}

const char *sk_pattern_text(const sk_pattern *p, size_t *len)
{
	if (len)
		*len = p->len;
	return p->text;
}

void sk_pattern_count(const sk_pattern *p, sk_pattern_counts *out)
{
	*out = p->counts;
}

const sk_pnode *sk_pnode_child(const sk_pnode *n, uint32_t i)
{
	const sk_pnode *k = n->kids;
	while (k && i--)
		k = k->next;
	return k;
}

static int walk(const sk_pnode *n, unsigned depth, sk_pattern_visit_fn fn, void *ud)
{
	int r = fn(n, depth, ud);
	if (r < 0)
		return r;
	if (r == 1)
		return 0;
	for (const sk_pnode *k = n->kids; k; k = k->next) {
		r = walk(k, depth + 1, fn, ud);
		if (r < 0)
			return r;
	}
	return 0;
}

int sk_pattern_walk(const sk_pattern *p, sk_pattern_visit_fn fn, void *ud)
{
	return p->root ? walk(p->root, 0, fn, ud) : 0;
}

const char *sk_pnode_kind_name(sk_pnode_kind k)
{
	static const char *const names[] = {
	    "followedby",  "obs_or", "obs_and", "qualified",
	    "observation", "or",     "and",     "comparison",
	};
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

const char *sk_pcmp_op_name(sk_pcmp_op op)
{
	static const char *const names[] = {
	    "=",  "!=",   "<",       "<=",       ">",          ">=",
	    "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS",
	};
	return (unsigned)op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

const char *sk_plit_kind_name(sk_plit_kind k)
{
	static const char *const names[] = {
	    "string", "int", "float", "bool", "binary", "hex", "timestamp",
	};
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

const char *sk_pqual_kind_name(sk_pqual_kind k)
{
	static const char *const names[] = {"WITHIN", "REPEATS", "START/STOP"};
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}
