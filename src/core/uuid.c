/*
 * uuid.c - random UUIDs from libsodium's CSPRNG and UUID syntax checks.
 */
#include "schakel/uuid.h"

#include <sodium.h>
#include <string.h>

#include "sha1.h"
#include "hex.h"

void sk_uuid_v4(char out[SK_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t o = 0;

	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

bool sk_uuid_v5(const char *ns, const void *name, size_t n, char out[SK_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char nsb[16], h[20];
	sk_sha1 c;
	size_t o = 0, j = 0;

	if (!ns || !sk_uuid_valid(ns, strlen(ns)))
		return false;
	for (size_t i = 0; i < SK_UUID_LEN; i++) {
		if (ns[i] == '-')
			continue;
		nsb[j / 2] = (unsigned char)(j % 2 ? nsb[j / 2] | sk_hexval((unsigned char)ns[i])
						   : sk_hexval((unsigned char)ns[i]) << 4);
		j++;
	}
	sk_sha1_init(&c);
	sk_sha1_update(&c, nsb, sizeof(nsb));
	sk_sha1_update(&c, name, n);
	sk_sha1_final(&c, h);
	h[6] = (unsigned char)((h[6] & 0x0f) | 0x50);
	h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[h[i] >> 4];
		out[o++] = hex[h[i] & 15];
	}
	out[o] = '\0';
	return true;
}

bool sk_uuid_valid(const char *s, size_t n)
{
	if (n != SK_UUID_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			     (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}
