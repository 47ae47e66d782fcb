/*
 * sha1.h - SHA-1 (FIPS 180-4), only for name-based UUIDs (RFC 9562 version 5).
 *
 * SHA-1 is not used for anything security-relevant here: UUIDv5 is defined
 * over it, and STIX recommends v5 ids for deterministic objects.  libsodium
 * has no SHA-1, hence this small implementation.
 */
#ifndef SCHAKEL_SHA1_H
#define SCHAKEL_SHA1_H

#include <stddef.h>
#include <stdint.h>

typedef struct sk_sha1 {
	uint32_t h[5];
	uint64_t total;  /* bytes hashed */
	unsigned char block[64];
	size_t used;     /* bytes in block */
} sk_sha1;

void sk_sha1_init(sk_sha1 *c);
void sk_sha1_update(sk_sha1 *c, const void *data, size_t n);
void sk_sha1_final(sk_sha1 *c, unsigned char out[20]);

#endif
