/*
 * utf8.c - whole-buffer UTF-8 validation (see utf8.h).
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

bool sk_utf8_valid(const char *text, size_t n, size_t *bad)
{
	const unsigned char *s = (const unsigned char *)text, *end = s + n;
	size_t i = 0;

	while (i < n) {
		if (i + 8 <= n) { /* eight ASCII bytes at a time */
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (!(w & 0x8080808080808080ULL)) {
				i += 8;
				continue;
			}
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = sk_utf8_seq(s + i, end);
		if (!k) {
			if (bad)
				*bad = i;
			return false;
		}
		i += k;
	}
	return true;
}
