/*
 * canon.c - RFC 8785 (JCS) canonical JSON of a parsed value (see canon.h).
 *
 * Section 3.2.2.2: strings keep every character literally except '"', '\'
 * and the controls below U+0020, which take the short escapes \b \t \n \f \r
 * or \u00xx (lowercase hex).  Section 3.2.2.3: numbers are printed as
 * ECMAScript's Number.prototype.toString prints the IEEE double: the
 * shortest digit string that reads back to the same double, in plain
 * notation for decimal exponents -6 < n <= 21, else with an exponent.
 * Section 3.2.3: object members are sorted by their names as arrays of
 * UTF-16 code units.
 */
#include "schakel/canon.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MEMBERS_ON_STACK 64

static sk_err put_string(sk_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	sk_err rc = sk_buf_putc(b, '"');

	for (size_t i = 0; i < n && !rc; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = {'\\', 0};
		size_t elen = 2;

		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\t': esc[1] = 't'; break;
		case '\n': esc[1] = 'n'; break;
		case '\f': esc[1] = 'f'; break;
		case '\r': esc[1] = 'r'; break;
		default:
			if (c >= 0x20)
				continue;
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		/* flush the literal run before this character, then its escape */
		rc = sk_buf_append(b, s + run, i - run);
		if (!rc)
			rc = sk_buf_append(b, esc, elen);
		run = i + 1;
	}
	if (!rc)
		rc = sk_buf_append(b, s + run, n - run);
	return rc ? rc : sk_buf_putc(b, '"');
}

/* ECMAScript's Number::toString(d) for a finite double. */
static sk_err put_number(sk_buf *b, double d)
{
	char sci[40], digits[24], out[48];
	int exp10, k = 0, n;

	if (d == 0)
		return sk_buf_putc(b, '0'); /* -0 too */
	/* the shortest %.*e that reads back to d */
	for (int p = 1; p <= 17; p++) {
		snprintf(sci, sizeof(sci), "%.*e", p - 1, d);
		if (strtod(sci, NULL) == d)
			break;
	}
	/* sci = [-]D[.DDD]e[+-]XX */
	{
		const char *c = sci;
		char *e = strchr(sci, 'e');
		if (*c == '-')
			c++;
		for (; c < e; c++)
			if (*c != '.')
				digits[k++] = *c;
		while (k > 1 && digits[k - 1] == '0')
			k--;
		digits[k] = '\0';
		exp10 = atoi(e + 1);
	}
	n = exp10 + 1; /* d = 0.DIGITS x 10^n */
	{
		char *o = out;
		if (d < 0)
			*o++ = '-';
		if (k <= n && n <= 21) {
			memcpy(o, digits, (size_t)k);
			o += k;
			for (int i = k; i < n; i++)
				*o++ = '0';
		} else if (0 < n && n <= 21) {
			memcpy(o, digits, (size_t)n);
			o += n;
			*o++ = '.';
			memcpy(o, digits + n, (size_t)(k - n));
			o += k - n;
		} else if (-6 < n && n <= 0) {
			*o++ = '0';
			*o++ = '.';
			for (int i = 0; i < -n; i++)
				*o++ = '0';
			memcpy(o, digits, (size_t)k);
			o += k;
		} else {
			*o++ = digits[0];
			if (k > 1) {
				*o++ = '.';
				memcpy(o, digits + 1, (size_t)(k - 1));
				o += k - 1;
			}
			o += snprintf(o, 8, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
		}
		return sk_buf_append(b, out, (size_t)(o - out));
	}
}

/* Next UTF-16 code unit of the UTF-8 string s[*i..n) (a pending low surrogate in *lo). */
static unsigned next_unit(const unsigned char *s, size_t n, size_t *i, unsigned *lo)
{
	unsigned cp, c;
	int more;

	if (*lo) {
		unsigned u = *lo;
		*lo = 0;
		return u;
	}
	c = s[(*i)++];
	if (c < 0x80)
		return c;
	more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
	cp = c & (0x3f >> more);
	while (more-- && *i < n)
		cp = (cp << 6) | (s[(*i)++] & 0x3f);
	if (cp < 0x10000)
		return cp;
	cp -= 0x10000;
	*lo = 0xdc00 | (cp & 0x3ff);
	return 0xd800 | (cp >> 10);
}

/* Compare two member names as UTF-16 code-unit arrays (RFC 8785 section 3.2.3). */
static int cmp_names(const void *pa, const void *pb)
{
	const sk_jmember *a = *(const sk_jmember *const *)pa, *b = *(const sk_jmember *const *)pb;
	const unsigned char *x = (const unsigned char *)a->key, *y = (const unsigned char *)b->key;
	size_t i = 0, j = 0;
	unsigned lx = 0, ly = 0;

	while ((i < a->klen || lx) && (j < b->klen || ly)) {
		unsigned ux = next_unit(x, a->klen, &i, &lx);
		unsigned uy = next_unit(y, b->klen, &j, &ly);
		if (ux != uy)
			return ux < uy ? -1 : 1;
	}
	return (i < a->klen || lx) ? 1 : (j < b->klen || ly) ? -1 : 0;
}

static sk_err put_value(const sk_jval *v, const char *skip_ext, int depth, sk_buf *b,
			sk_error *err);

static sk_err put_object(const sk_jval *v, const char *skip_ext, int depth, sk_buf *b,
			 sk_error *err)
{
	const sk_jmember *stack[MAX_MEMBERS_ON_STACK], **m = stack;
	size_t n = 0;
	bool first = true;
	sk_err rc = SK_OK;

	if (v->n > MAX_MEMBERS_ON_STACK && !(m = malloc(v->n * sizeof(*m))))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < v->n; i++) {
		const sk_jmember *mem = &v->u.m[i];
		/* inside extensions[skip_ext]: everything but the signature itself */
		if (depth == -2 && !strcmp(mem->key, "sig"))
			continue;
		m[n++] = mem;
	}
	qsort(m, n, sizeof(*m), cmp_names);
	rc = sk_buf_putc(b, '{');
	for (size_t i = 0; i < n && !rc; i++) {
		bool ext = depth == 0 && skip_ext && !strcmp(m[i]->key, "extensions");
		if (!first)
			rc = sk_buf_putc(b, ',');
		first = false;
		if (!rc)
			rc = put_string(b, m[i]->key, m[i]->klen);
		if (!rc)
			rc = sk_buf_putc(b, ':');
		if (!rc)
			rc = put_value(&m[i]->val, ext ? skip_ext : NULL,
				       ext ? -1 : depth < 0 ? 3 : depth + 1, b, err);
	}
	if (!rc)
		rc = sk_buf_putc(b, '}');
	if (m != stack)
		free((void *)m);
	return rc;
}

/* The "extensions" object itself (depth -1), with extensions[skip] at depth -2. */
static sk_err put_extensions(const sk_jval *v, const char *skip, sk_buf *b, sk_error *err)
{
	const sk_jmember *stack[MAX_MEMBERS_ON_STACK], **m = stack;
	sk_err rc;

	if (v->n > MAX_MEMBERS_ON_STACK && !(m = malloc(v->n * sizeof(*m))))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < v->n; i++)
		m[i] = &v->u.m[i];
	qsort(m, v->n, sizeof(*m), cmp_names);
	rc = sk_buf_putc(b, '{');
	for (uint32_t i = 0; i < v->n && !rc; i++) {
		bool sig = !strcmp(m[i]->key, skip) && m[i]->val.type == SK_JOBJECT;
		if (i)
			rc = sk_buf_putc(b, ',');
		if (!rc)
			rc = put_string(b, m[i]->key, m[i]->klen);
		if (!rc)
			rc = sk_buf_putc(b, ':');
		if (!rc)
			rc = sig ? put_object(&m[i]->val, NULL, -2, b, err)
				 : put_value(&m[i]->val, NULL, 2, b, err);
	}
	if (!rc)
		rc = sk_buf_putc(b, '}');
	if (m != stack)
		free((void *)m);
	return rc;
}

static sk_err put_value(const sk_jval *v, const char *skip_ext, int depth, sk_buf *b,
			sk_error *err)
{
	switch (v->type) {
	case SK_JNULL:
		return sk_buf_puts(b, "null");
	case SK_JFALSE:
		return sk_buf_puts(b, "false");
	case SK_JTRUE:
		return sk_buf_puts(b, "true");
	case SK_JINT:
		return put_number(b, (double)v->u.i);
	case SK_JREAL:
		if (!isfinite(v->u.d))
			return sk_error_set(err, SK_EINVAL, "a number JSON cannot hold");
		return put_number(b, v->u.d);
	case SK_JSTRING:
		return put_string(b, v->u.s, v->n);
	case SK_JARRAY: {
		sk_err rc = sk_buf_putc(b, '[');
		for (uint32_t i = 0; i < v->n && !rc; i++) {
			if (i)
				rc = sk_buf_putc(b, ',');
			if (!rc)
				rc = put_value(&v->u.m[i].val, NULL, depth < 0 ? 3 : depth + 1, b,
					       err);
		}
		return rc ? rc : sk_buf_putc(b, ']');
	}
	case SK_JOBJECT:
		if (depth == -1)
			return put_extensions(v, skip_ext, b, err);
		return put_object(v, skip_ext, depth, b, err);
	}
	return sk_error_set(err, SK_EINVAL, "unknown JSON value");
}

sk_err sk_canon(const sk_jval *v, const char *skip_ext, sk_buf *b, sk_error *err)
{
	sk_err rc = put_value(v, skip_ext, 0, b, err);
	if (rc == SK_ENOMEM)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	return rc;
}
