/*
 * uuid.h - UUID generation and syntax checks for STIX identifiers.
 */
#ifndef SCHAKEL_UUID_H
#define SCHAKEL_UUID_H

#include <stdbool.h>
#include <stddef.h>

#define SK_UUID_LEN 36

/* Write a random (version 4) UUID, NUL-terminated, into out[37]. */
void sk_uuid_v4(char out[SK_UUID_LEN + 1]);

/*
 * Write the name-based (version 5, SHA-1) UUID of name[0..n) in namespace ns
 * (a UUID string in 8-4-4-4-12 form) into out[37].  Returns false if ns is
 * not a UUID.  Same namespace and name always give the same UUID.
 */
bool sk_uuid_v5(const char *ns, const void *name, size_t n, char out[SK_UUID_LEN + 1]);

/* True if s[0..n) is a UUID in 8-4-4-4-12 hex form (either case). */
bool sk_uuid_valid(const char *s, size_t n);

#endif
