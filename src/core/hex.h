/*
 * hex.h - hexadecimal digits, shared by every parser that decodes them
 * (JSON \u escapes, STIX h'' literals, URL %XX, hashes, UUIDs).
 */
#ifndef SCHAKEL_HEX_H
#define SCHAKEL_HEX_H

/* Value of hex digit c (either case), or -1 if c is not one. */
static inline int sk_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
