/*
 * pattern.c - recursive-descent parser for STIX patterns, building the tree
 * declared in schakel/pattern.h inside one arena: the arena and error
 * reporting, the observation level (observation expressions, FOLLOWEDBY /
 * OR / AND, qualifiers), the entry point and the tree's accessors.  What
 * goes inside '[...]' (comparisons, object paths, literals) is
 * pattern_cmp.c.
 *
 * One function per grammar level (see the header for the grammar).  Every
 * function returns the node it built or NULL after recording the first error
 * in the parser; nothing is freed on the way out because everything lives in
 * the pattern's arena, which sk_pattern_parse() frees on failure.
 *
 * Rules beyond the context-free grammar, checked here because the matcher
 * relies on them:
 *  - a bracketed observation expression carries each qualifier kind at most
 *    once (as the OASIS validator has it; a parenthesised group may repeat);
 *  - WITHIN and REPEATS take positive values, STOP is later than START.
 */
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

/* ---- arena ---------------------------------------------------------------- */

void *sk_pattern_arena_alloc(sk_pattern *p, size_t size)
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

void *sk_pattern_fail_code(struct parser *P, sk_err code, size_t off, const char *fmt, ...)
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

sk_pnode *sk_pattern_new_node(struct parser *P, sk_pnode_kind kind, size_t off)
{
	sk_pnode *n;
	if (!count_node(P, off))
		return NULL;
	n = sk_pattern_arena_alloc(P->pat, sizeof(*n));
	if (!n)
		return oom(P);
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->offset = (uint32_t)off;
	return n;
}

char *sk_pattern_arena_strndup(struct parser *P, const char *s, size_t n)
{
	char *r = sk_pattern_arena_alloc(P->pat, n + 1);
	if (!r)
		return oom(P);
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

/* ---- observation level ------------------------------------------------------------ */

static sk_pnode *parse_obs_fb(struct parser *P);

/*
 * A timestamp after START or STOP: t'...' (STIX 2.1) or, as STIX 2.0 wrote
 * it, '...'; either when no version is asked for.
 */
static bool parse_qual_ts(struct parser *P, const char *after, const char **text, char *key,
                          int64_t *us)
{
	const struct sk_ptoken *t = &P->tok;
	const char *body = P->s + t->off;
	size_t blen;

	if (t->t == PT_TIMESTAMP && P->spec == 20) {
		fail(P, t->off, "STIX 2.0 writes the timestamp after %s as a string '...' (t'...' is "
		     "STIX 2.1)", after);
		return false;
	} else if (t->t == PT_STRING && P->spec == 21) {
		fail(P, t->off, "STIX 2.1 writes the timestamp after %s as t'...' (a plain string is "
		     "STIX 2.0)", after);
		return false;
	} else if (t->t == PT_TIMESTAMP) {
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
	*text = sk_pattern_arena_strndup(P, body, blen);
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
			if (!sk_pattern_parse_int(P, t, &v))
				return false;
			q->seconds = (double)v;
		} else if (!sk_pattern_parse_float(P, t, &q->seconds)) {
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
		if (!sk_pattern_parse_int(P, t, &q->times))
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
		c = sk_pattern_parse_cmp_or(P);
		if (!c)
			return NULL;
		if (P->tok.t != PT_RBRACK)
			return expected(P, "']' or AND/OR");
		if (!advance(P))
			return NULL;
		P->depth--;
		n = sk_pattern_new_node(P, SK_PN_OBSERVATION, off);
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
		q = sk_pattern_new_node(P, SK_PN_QUALIFIED, off);
		if (!q || !parse_qualifier(P, &q->qual))
			return NULL;
		/* STIX 2.0's grammar lets qualifiers repeat (they nest) */
		if (bracketed && P->spec != 20 && (seen & (1u << q->qual.kind)))
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
	n = sk_pattern_new_node(P, kind, first->offset);
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
	return sk_pattern_parse_spec(text, len, NULL, out, err);
}

sk_err sk_pattern_parse_spec(const char *text, size_t len, const char *spec, sk_pattern **out,
			     sk_error *err)
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
	p->text = sk_pattern_arena_alloc(p, len + 1); /* fits: initial > len */
	if (len)
		memcpy(p->text, text, len);
	p->text[len] = '\0';

	memset(&P, 0, sizeof(P));
	P.spec = !spec ? 0 : !strcmp(spec, "2.0") ? 20 : 21;
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
