/*
 * hashkey.h - collection hash keys: the secrets under which personal-data
 * indicators are shared as keyed hashes (docs/private-matching.md).
 *
 * A producer holds one current key per collection (and the keys it
 * rotated away from, so that indicators hashed under them still match
 * until they are replaced); a receiver holds the keys granted to it.  Keys
 * live in one file beside the database, "<db>.hashkeys", created 0600 and
 * replaced atomically, never in the database, never printed or logged.  A
 * key's id (16 hex digits of a hash of the key) is public: indicators name
 * the key they were hashed under by it.
 *
 * A key goes to a named recipient as a grant: a small JSON text (producer,
 * collection, key id, key) sealed to the recipient's pinned Ed25519 key and
 * signed by the producer's, in the signed-bundle envelope of bundle.h.
 */
#ifndef SCHAKEL_HASHKEY_H
#define SCHAKEL_HASHKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/buf.h"
#include "schakel/error.h"

#define SK_HASHKEY_LEN      32
#define SK_HASHKEY_ID_LEN   16   /* hex digits */
#define SK_HASHKEY_NAME_MAX 128  /* collection name, producer identity */
#define SK_HASHKEYS_MAX     4096 /* keys in one file */

typedef struct sk_hashkey {
	char id[SK_HASHKEY_ID_LEN + 1];
	char producer[SK_HASHKEY_NAME_MAX];   /* identity id of the producer */
	char collection[SK_HASHKEY_NAME_MAX]; /* the producer's collection name */
	int64_t created;                      /* µs since the epoch */
	bool current;                         /* the key new indicators are hashed under */
	unsigned char key[SK_HASHKEY_LEN];
} sk_hashkey;

typedef struct sk_hashkeys {
	sk_hashkey *k;
	size_t n;
} sk_hashkeys;

/* "<db_path>.hashkeys" (malloc'd, caller frees). */
char *sk_hashkey_path(const char *db_path);

/* The public id of a key: 16 hex digits of BLAKE2b("schakel-hashkey" || key). */
void sk_hashkey_id(const unsigned char key[SK_HASHKEY_LEN], char out[SK_HASHKEY_ID_LEN + 1]);

/*
 * Read the key file at path into *out (empty when there is no file).  A
 * damaged file is SK_EINVAL with the line.  Free with sk_hashkeys_free.
 */
sk_err sk_hashkeys_load(const char *path, sk_hashkeys *out, sk_error *err);

/* Write ks to path (created 0600, replaced atomically). */
sk_err sk_hashkeys_save(const char *path, const sk_hashkeys *ks, sk_error *err);

/* Wipe and free (ks may be zeroed). */
void sk_hashkeys_free(sk_hashkeys *ks);

/*
 * Add k to ks; with k->current set, the other keys of the same producer and
 * collection stop being current.  A key already held (same id) is replaced.
 */
sk_err sk_hashkeys_add(sk_hashkeys *ks, const sk_hashkey *k, sk_error *err);

/* The current key of producer's collection, or NULL. */
const sk_hashkey *sk_hashkeys_current(const sk_hashkeys *ks, const char *producer,
                                      const char *collection);

/* The key with this id, or NULL. */
const sk_hashkey *sk_hashkeys_find(const sk_hashkeys *ks, const char *id);

/* A new random key for producer's collection (current), created now. */
sk_err sk_hashkey_generate(const char *producer, const char *collection, int64_t now_us,
                           sk_hashkey *out, sk_error *err);

/*
 * The grant text of k (to be sealed with sk_bundle_seal): a JSON object
 * {"schakel_hashkey":1,"producer":...,"collection":...,"key_id":...,
 * "created":µs,"key":"<base64>"}.  Appends to out; the caller wipes it.
 */
sk_err sk_hashkey_grant(const sk_hashkey *k, sk_buf *out, sk_error *err);

/*
 * Parse an opened grant text into *out (current = true).  SK_EINVAL with
 * the reason when a field is missing or the key id does not belong to the
 * key.
 */
sk_err sk_hashkey_grant_parse(const char *text, size_t len, sk_hashkey *out, sk_error *err);

#endif
