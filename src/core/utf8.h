/*
 * utf8.h - UTF-8 validation and encoding, shared by every parser (JSON,
 * STIX patterns, TAXII query strings, feeds, log readers).  Strict: no
 * overlong forms, no surrogates, nothing past U+10FFFF.
 */
#ifndef SCHAKEL_UTF8_H
#define SCHAKEL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid sequence starting at p (lead byte >= 0x80), 0 if invalid. */
static inline size_t sk_utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], cp, min;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	cp = c & (0xffu >> (n + 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Write code point cp (<= 0x10FFFF) as UTF-8 at o; returns the end. */
static inline char *sk_utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/*
 * True if s[0..n) is valid UTF-8 (ASCII eight bytes at a time).  On false,
 * *bad (if non-NULL) is the offset of the first invalid byte.
 */
bool sk_utf8_valid(const char *s, size_t n, size_t *bad);

#endif
