/*
 * json.c - strict single-pass JSON parser into a reusable arena.
 *
 * Children of an array or object are gathered on a scratch stack while they
 * are parsed and copied into the arena in one block when the container
 * closes, so each container is one contiguous array of members.
 */
#include "schakel/json.h"
#include "scan.h"

#include <stdlib.h>
#include <string.h>
#include "hex.h"
#include "utf8.h"

#define CHUNK_MIN (64u << 10)

struct chunk {
	struct chunk *next;
	size_t size, used;
	char data[];
};

struct sk_jdoc {
	struct chunk *chunks; /* first chunk is kept across parses */
	struct chunk *cur;    /* chunk being filled */
	size_t arena_bytes, max_bytes;
	int max_depth;
	sk_jmember *stack; /* scratch for children being parsed */
	size_t sp, stack_cap;
	sk_jval root;
	/* parse state */
	const unsigned char *p, *end, *start;
	sk_error *err;
	sk_err rc;
};

sk_err sk_json_doc_new(size_t max_bytes, int max_depth, sk_jdoc **out)
{
	sk_jdoc *d = calloc(1, sizeof(*d));
	*out = NULL;
	if (!d)
		return SK_ENOMEM;
	d->max_bytes = max_bytes ? max_bytes : ((size_t)256 << 20);
	d->max_depth = max_depth ? max_depth : 64;
	*out = d;
	return SK_OK;
}

void sk_json_doc_free(sk_jdoc *d)
{
	if (!d)
		return;
	for (struct chunk *c = d->chunks, *n; c; c = n) {
		n = c->next;
		free(c);
	}
	free(d->stack);
	free(d);
}

static void arena_reset(sk_jdoc *d)
{
	struct chunk *c = d->chunks;
	if (!c)
		return;
	for (struct chunk *x = c->next, *n; x; x = n) {
		n = x->next;
		free(x);
	}
	c->next = NULL;
	c->used = 0;
	d->cur = c;
	d->arena_bytes = c->size;
}

static sk_err fail(sk_jdoc *d, sk_err code, const char *what)
{
	if (!d->rc) {
		d->rc = sk_error_set(d->err, code, "%s at offset %zu", what,
				     (size_t)(d->p - d->start));
	}
	return d->rc;
}

static void *arena_alloc(sk_jdoc *d, size_t n)
{
	struct chunk *c = d->cur;
	n = (n + 7) & ~(size_t)7;
	if (!c || c->size - c->used < n) {
		size_t size = n > CHUNK_MIN ? n : CHUNK_MIN;
		if (d->arena_bytes + size > d->max_bytes) {
			fail(d, SK_ELIMIT, "JSON value too large");
			return NULL;
		}
		c = malloc(sizeof(*c) + size);
		if (!c) {
			fail(d, SK_ENOMEM, "out of memory");
			return NULL;
		}
		c->size = size;
		c->used = 0;
		/* the first chunk stays first: reset keeps it and frees the rest */
		if (d->chunks) {
			c->next = d->chunks->next;
			d->chunks->next = c;
		} else {
			c->next = NULL;
			d->chunks = c;
		}
		d->cur = c;
		d->arena_bytes += size;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

static sk_jmember *push(sk_jdoc *d)
{
	if (d->sp == d->stack_cap) {
		size_t ncap = d->stack_cap ? d->stack_cap * 2 : 256;
		sk_jmember *s;
		if (ncap * sizeof(sk_jmember) > d->max_bytes) {
			fail(d, SK_ELIMIT, "JSON value too large");
			return NULL;
		}
		s = realloc(d->stack, ncap * sizeof(*s));
		if (!s) {
			fail(d, SK_ENOMEM, "out of memory");
			return NULL;
		}
		d->stack = s;
		d->stack_cap = ncap;
	}
	return &d->stack[d->sp++];
}

static inline void skip_ws(sk_jdoc *d)
{
	while (d->p < d->end && (*d->p == ' ' || *d->p == '\n' || *d->p == '\t' || *d->p == '\r'))
		d->p++;
}

static bool read_hex4(sk_jdoc *d, unsigned *out)
{
	unsigned v = 0;
	if (d->end - d->p < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		int h = sk_hexval((unsigned char)d->p[i]);
		if (h < 0)
			return false;
		v = v << 4 | (unsigned)h;
	}
	d->p += 4;
	*out = v;
	return true;
}

/* Parse a string at d->p (on the opening quote) into the arena. */
static bool parse_string(sk_jdoc *d, const char **out, uint32_t *outlen)
{
	const unsigned char *s = ++d->p;
	const unsigned char *q = s;
	char *buf, *o;

	/* fast scan: plain ASCII up to the closing quote */
	q = sk_scan_string(q, d->end, 1);
	/* decoded length never exceeds the encoded length */
	size_t maxlen = (size_t)(q - s);
	if (q < d->end && *q != '"') {
		const unsigned char *r = q;
		while (r < d->end && *r != '"') {
			if (*r == '\\' && r + 1 < d->end)
				r++;
			r++;
		}
		maxlen = (size_t)(r - s);
	}
	if (maxlen > UINT32_MAX - 1) {
		fail(d, SK_ELIMIT, "string too long");
		return false;
	}
	buf = arena_alloc(d, maxlen + 1);
	if (!buf)
		return false;
	memcpy(buf, s, (size_t)(q - s));
	o = buf + (q - s);
	d->p = q;
	for (;;) {
		if (d->p >= d->end) {
			fail(d, SK_EJSON, "unterminated string");
			return false;
		}
		unsigned char c = *d->p;
		if (c == '"') {
			d->p++;
			break;
		}
		if (c < 0x20) {
			fail(d, SK_EJSON, "control character in string");
			return false;
		}
		if (c < 0x80) {
			if (c != '\\') {
				*o++ = (char)c;
				d->p++;
				continue;
			}
			d->p++;
			if (d->p >= d->end) {
				fail(d, SK_EJSON, "unterminated string");
				return false;
			}
			c = *d->p++;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				*o++ = (char)c;
				break;
			case 'b':
				*o++ = '\b';
				break;
			case 'f':
				*o++ = '\f';
				break;
			case 'n':
				*o++ = '\n';
				break;
			case 'r':
				*o++ = '\r';
				break;
			case 't':
				*o++ = '\t';
				break;
			case 'u': {
				unsigned cp, lo;
				if (!read_hex4(d, &cp)) {
					fail(d, SK_EJSON, "bad \\u escape");
					return false;
				}
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (d->end - d->p < 2 || d->p[0] != '\\' || d->p[1] != 'u') {
						fail(d, SK_EJSON, "unpaired surrogate in \\u escape");
						return false;
					}
					d->p += 2;
					if (!read_hex4(d, &lo) || lo < 0xdc00 || lo > 0xdfff) {
						fail(d, SK_EJSON, "unpaired surrogate in \\u escape");
						return false;
					}
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				} else if (cp >= 0xdc00 && cp <= 0xdfff) {
					fail(d, SK_EJSON, "unpaired surrogate in \\u escape");
					return false;
				}
				if (cp == 0) {
					fail(d, SK_EJSON, "\\u0000 (NUL) in string is not accepted");
					return false;
				}
				o = sk_utf8_put(o, cp);
				break;
			}
			default:
				d->p--;
				fail(d, SK_EJSON, "invalid escape in string");
				return false;
			}
			continue;
		}
		size_t n = sk_utf8_seq(d->p, d->end);
		if (!n) {
			fail(d, SK_EJSON, "invalid UTF-8 in string");
			return false;
		}
		memcpy(o, d->p, n);
		o += n;
		d->p += n;
	}
	*o = '\0';
	*out = buf;
	*outlen = (uint32_t)(o - buf);
	return true;
}

static bool parse_number(sk_jdoc *d, sk_jval *v)
{
	const unsigned char *s = d->p, *p = d->p;
	bool is_int = true;
	char tmp[64];

	if (p < d->end && *p == '-')
		p++;
	if (p >= d->end || *p < '0' || *p > '9') {
		fail(d, SK_EJSON, "invalid number");
		return false;
	}
	if (*p == '0') {
		p++;
	} else {
		while (p < d->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < d->end && *p == '.') {
		is_int = false;
		p++;
		if (p >= d->end || *p < '0' || *p > '9') {
			d->p = p;
			fail(d, SK_EJSON, "invalid number: digit expected after '.'");
			return false;
		}
		while (p < d->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < d->end && (*p == 'e' || *p == 'E')) {
		is_int = false;
		p++;
		if (p < d->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= d->end || *p < '0' || *p > '9') {
			d->p = p;
			fail(d, SK_EJSON, "invalid number: digit expected in exponent");
			return false;
		}
		while (p < d->end && *p >= '0' && *p <= '9')
			p++;
	}
	d->p = p;
	if (is_int && p - s <= 18) {
		int64_t x = 0;
		bool neg = *s == '-';
		for (const unsigned char *q = s + neg; q < p; q++)
			x = x * 10 + (*q - '0');
		v->type = SK_JINT;
		v->u.i = neg ? -x : x;
		return true;
	}
	if ((size_t)(p - s) >= sizeof(tmp)) {
		/* absurdly long numbers: keep them as reals of the leading part */
		memcpy(tmp, s, sizeof(tmp) - 1);
		tmp[sizeof(tmp) - 1] = '\0';
	} else {
		memcpy(tmp, s, (size_t)(p - s));
		tmp[p - s] = '\0';
	}
	if (is_int) {
		char *end;
		long long x = strtoll(tmp, &end, 10);
		if (*end == '\0' && (size_t)(p - s) < sizeof(tmp)) {
			v->type = SK_JINT;
			v->u.i = x;
			/* strtoll saturates on overflow: treat those as reals */
			if (x != INT64_MAX && x != INT64_MIN)
				return true;
		}
	}
	v->type = SK_JREAL;
	v->u.d = strtod(tmp, NULL);
	return true;
}

static bool parse_value(sk_jdoc *d, sk_jval *v, int depth);

static bool dup_keys(const sk_jmember *m, size_t n)
{
	/* objects in STIX are small; quadratic is fine, but cap the work */
	if (n > 256)
		return false;
	for (size_t i = 1; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (m[i].klen == m[j].klen && memcmp(m[i].key, m[j].key, m[i].klen) == 0)
				return true;
	return false;
}

static bool parse_container(sk_jdoc *d, sk_jval *v, int depth, bool is_obj)
{
	size_t base = d->sp, n;
	unsigned char close = is_obj ? '}' : ']';

	if (depth >= d->max_depth) {
		fail(d, SK_ELIMIT, "JSON nested too deeply");
		return false;
	}
	d->p++;
	skip_ws(d);
	if (d->p < d->end && *d->p == close) {
		d->p++;
		goto done;
	}
	for (;;) {
		sk_jmember *m = push(d);
		if (!m)
			return false;
		m->key = NULL;
		m->klen = 0;
		if (is_obj) {
			const char *k;
			uint32_t kl;
			skip_ws(d);
			if (d->p >= d->end || *d->p != '"') {
				fail(d, SK_EJSON, "expected a member name");
				return false;
			}
			if (!parse_string(d, &k, &kl))
				return false;
			skip_ws(d);
			if (d->p >= d->end || *d->p != ':') {
				fail(d, SK_EJSON, "expected ':'");
				return false;
			}
			d->p++;
			/* the stack may move while parsing the value */
			m = &d->stack[d->sp - 1];
			m->key = k;
			m->klen = kl;
		}
		sk_jval tmp;
		if (!parse_value(d, &tmp, depth + 1))
			return false;
		d->stack[d->sp - 1].val = tmp;
		skip_ws(d);
		if (d->p < d->end && *d->p == ',') {
			d->p++;
			continue;
		}
		if (d->p < d->end && *d->p == close) {
			d->p++;
			break;
		}
		fail(d, SK_EJSON, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
		return false;
	}
done:
	n = d->sp - base;
	v->type = is_obj ? SK_JOBJECT : SK_JARRAY;
	v->n = (uint32_t)n;
	v->u.m = NULL;
	if (n) {
		sk_jmember *m = arena_alloc(d, n * sizeof(*m));
		if (!m)
			return false;
		memcpy(m, d->stack + base, n * sizeof(*m));
		v->u.m = m;
		if (is_obj && dup_keys(m, n)) {
			fail(d, SK_EJSON, "duplicate member name in object ending");
			return false;
		}
	}
	d->sp = base;
	return true;
}

static bool literal(sk_jdoc *d, const char *word, size_t n)
{
	if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0) {
		fail(d, SK_EJSON, "invalid literal");
		return false;
	}
	d->p += n;
	return true;
}

static bool parse_value(sk_jdoc *d, sk_jval *v, int depth)
{
	skip_ws(d);
	if (d->p >= d->end) {
		fail(d, SK_EJSON, "unexpected end of JSON");
		return false;
	}
	switch (*d->p) {
	case '{':
		return parse_container(d, v, depth, true);
	case '[':
		return parse_container(d, v, depth, false);
	case '"':
		v->type = SK_JSTRING;
		return parse_string(d, &v->u.s, &v->n);
	case 't':
		v->type = SK_JTRUE;
		return literal(d, "true", 4);
	case 'f':
		v->type = SK_JFALSE;
		return literal(d, "false", 5);
	case 'n':
		v->type = SK_JNULL;
		return literal(d, "null", 4);
	default:
		return parse_number(d, v);
	}
}

sk_err sk_json_parse(sk_jdoc *d, const char *text, size_t len, const sk_jval **root,
		     sk_error *err)
{
	arena_reset(d);
	d->sp = 0;
	d->start = d->p = (const unsigned char *)text;
	d->end = d->p + len;
	d->err = err;
	d->rc = SK_OK;
	*root = NULL;
	if (!parse_value(d, &d->root, 0))
		return d->rc;
	skip_ws(d);
	if (d->p != d->end)
		return fail(d, SK_EJSON, "unexpected data after the JSON value");
	*root = &d->root;
	return SK_OK;
}

const sk_jval *sk_json_get(const sk_jval *v, const char *key)
{
	if (!v || v->type != SK_JOBJECT)
		return NULL;
	size_t kl = strlen(key);
	for (uint32_t i = 0; i < v->n; i++)
		if (v->u.m[i].klen == kl && memcmp(v->u.m[i].key, key, kl) == 0)
			return &v->u.m[i].val;
	return NULL;
}
