/*
 * hashed.h - personal-data indicators matched without revealing them
 * (docs/private-matching.md).
 *
 * A producer shares values such as e-mail addresses as keyed hashes:
 * HMAC-SHA-256(collection key, normalised value), carried by a property
 * extension on the indicator (SK_HASHED_EXT_ID), either as a list of hex
 * digests or as a Bloom filter over them:
 *
 *   "pattern": "[x-schakel-hashed:key_id = '<key id>']",
 *   "extensions": {"extension-definition--0c5e...": {
 *       "extension_type": "property-extension", "alg": "hmac-sha256",
 *       "key_id": "<16 hex>", "path": "email-addr:value",
 *       "digests": ["<64 hex>", ...]                          (or)
 *       "bloom": {"m": bits, "k": hashes, "bits": "<base64>"}}}
 *
 * The pattern says nothing about the values; a matcher without the
 * extension cannot match it.  A receiver holding the key hashes the values
 * of each log record the same way and looks them up (sk_hmatch).
 */
#ifndef SCHAKEL_HASHED_H
#define SCHAKEL_HASHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/json.h"
#include "schakel/logrec.h"
#include "schakel/matcher.h"
#include "schakel/store.h"

#define SK_HASHED_EXT_ID         "extension-definition--0c5e7d2a-8b41-4f3e-a6d9-2e7b1c9f4a58"
#define SK_HASHED_PATTERN_PREFIX "[x-schakel-hashed:"
#define SK_HASHED_KEY_LEN        32
#define SK_HASHED_DIGEST_LEN     32
#define SK_HASHED_MAX_DIGESTS    100000u      /* on one indicator (6.7 MB of JSON); more: Bloom */
#define SK_HASHED_BLOOM_MAX_BITS (1ull << 31) /* 256 MiB of filter */
#define SK_HASHED_BLOOM_MAX_K    32
#define SK_HASHED_VALUE_MAX      512 /* longest normalised value */

/* The observable paths a hashed indicator may name. */
typedef enum sk_hashed_path {
	SK_HP_NONE = 0,
	SK_HP_EMAIL,  /* email-addr:value */
	SK_HP_DOMAIN, /* domain-name:value */
	SK_HP_USER,   /* user-account:user_id */
	SK_HP_PHONE,  /* x-schakel-phone:value (E.164: SIP/tel URIs, phone columns; logrec.h) */
	SK_HP__COUNT
} sk_hashed_path;

/* "email-addr:value" -> SK_HP_EMAIL ...; SK_HP_NONE if unknown.  Short names ("email",
 * "domain", "user", "phone") are accepted too. */
sk_hashed_path sk_hashed_path_parse(const char *s);
const char *sk_hashed_path_name(sk_hashed_path p);

/*
 * Normalise value v[0..n) of path p into out (size cap): surrounding white
 * space removed; e-mail: lower-cased, one '@' with text on both sides, a
 * trailing dot of the domain removed; domain: lower-cased, trailing dot
 * removed, a valid name; user: as is; phone: E.164, '+' and 8 to 15 digits
 * (the input starts with '+' or "00"; spaces, '-', '.', '/', '(' and ')'
 * are dropped).  Returns the length, 0 when the value is not one of p.
 */
size_t sk_hashed_norm(sk_hashed_path p, const char *v, size_t n, char *out, size_t cap);

/* HMAC-SHA-256(key, v[0..n)). */
void sk_hashed_digest(const unsigned char key[SK_HASHED_KEY_LEN], const char *v, size_t n,
                      unsigned char out[SK_HASHED_DIGEST_LEN]);

/* Does the pattern text look like a hashed indicator's? */
bool sk_hashed_pattern(const char *pattern, size_t len);

/* A parsed extension.  Pointers into the object's document, bits malloc'd. */
typedef struct sk_hashed_ext {
	char key_id[17];
	sk_hashed_path path;
	const sk_jval *digests; /* array of hex strings, or NULL with a Bloom filter */
	uint64_t bloom_m;       /* bits (0: no Bloom filter) */
	unsigned bloom_k;
	unsigned char *bloom_bits; /* (bloom_m + 7) / 8 bytes, malloc'd */
} sk_hashed_ext;

/*
 * Parse and check the extension of indicator obj.  SK_ENOTFOUND when it has
 * none; SK_EINVAL with what is wrong (digest number i, field) otherwise.
 * Clear with sk_hashed_ext_clear.
 */
sk_err sk_hashed_parse(const sk_jval *obj, sk_hashed_ext *out, sk_error *err);
void sk_hashed_ext_clear(sk_hashed_ext *e);

/* The Bloom-filter bit positions of a digest: (h1 + i * h2) mod m for i < k. */
uint64_t sk_hashed_bloom_pos(const unsigned char d[SK_HASHED_DIGEST_LEN], unsigned i, uint64_t m);

/* The extension-definition object of SK_HASHED_EXT_ID, compact JSON (static). */
const char *sk_hashed_extension_definition(void);

/* --- matching ------------------------------------------------------------- */

typedef struct sk_hmatch sk_hmatch;

sk_err sk_hmatch_new(sk_hmatch **out, sk_error *err);
void sk_hmatch_free(sk_hmatch *h);

/* Hold a key (id as in hashkey.h).  At most 64 keys. */
sk_err sk_hmatch_add_key(sk_hmatch *h, const char *key_id,
                         const unsigned char key[SK_HASHED_KEY_LEN], sk_error *err);

/*
 * Add parsed extension e as indicator number ind.  SK_EUNSUPPORTED with the
 * reason when it cannot match here: its key is not held, or no log gives
 * values of its path.
 */
sk_err sk_hmatch_add(sk_hmatch *h, const sk_hashed_ext *e, uint32_t ind, sk_error *err);

/* Finish adding (sizes the hash set).  Read-only afterwards, shareable by threads. */
sk_err sk_hmatch_build(sk_hmatch *h, sk_error *err);

/* Indicators added (0: sk_hmatch_merge never finds anything). */
uint32_t sk_hmatch_count(const sk_hmatch *h);

/* Per-thread scratch for sk_hmatch_merge. */
typedef struct sk_hmatch_ctx sk_hmatch_ctx;
sk_err sk_hmatch_ctx_new(sk_hmatch_ctx **out, sk_error *err);
void sk_hmatch_ctx_free(sk_hmatch_ctx *c);

/*
 * The hits of rec on the hashed indicators, appended to the matcher's hits
 * (*hits, nh, as sk_match_record gave them): returns the new count, with
 * *hits pointing into c when anything was added (valid until the next call
 * on c).  Hashed indicators' numbers must be above the matcher's, so the
 * order by indicator is kept.  h may be NULL.
 */
size_t sk_hmatch_merge(const sk_hmatch *h, sk_hmatch_ctx *c, const sk_logrec *rec,
                       const sk_match_hit **hits, size_t nh);

/*
 * The store's current hashed indicators into h, numbered from first_ind:
 * the newest version of each, not revoked, a STIX pattern of the hashed
 * form, valid at `at` (µs).  on_added(ud, idx, ver, id) for each one added;
 * on_skipped(ud, id, msg) for each one that cannot match (no key, bad
 * extension), which is not an error.
 */
typedef struct sk_hmatch_load_opts {
	int64_t at;
	int64_t after_ver; /* only indicators stored after this version row (0 = all) */
	uint32_t first_ind;
	int (*on_added)(void *ud, uint32_t idx, int64_t ver, const char *id);
	void (*on_skipped)(void *ud, const char *id, const char *msg);
	void *ud;
} sk_hmatch_load_opts;

sk_err sk_hmatch_load(sk_store *st, sk_hmatch *h, const sk_hmatch_load_opts *o, uint32_t *added,
                      sk_error *err);

#endif
