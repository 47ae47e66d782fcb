/*
 * audit_int.h - what the audit log's two files share (src/store/ only):
 * the entry hash, checkpoint signatures and the per-connection state.
 * audit.c appends, checkpoints and lists; audit_verify.c verifies and
 * archives.
 */
#ifndef SCHAKEL_AUDIT_INT_H
#define SCHAKEL_AUDIT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/audit.h"
#include "store_int.h"

/* A text field as stored: bytes and length; s NULL = SQL NULL. */
typedef struct audit_str {
	const char *s;
	size_t n;
} audit_str;

/* The fields an entry's hash covers, besides the previous hash. */
typedef struct audit_fields {
	int64_t seq, ts;
	audit_str actor, action, subject, detail, versions;
} audit_fields;

/* hash = BLAKE2b-256("schakel-audit-1\0" || prev || seq || ts || each field). */
void sk_audit_hash(const unsigned char prev[SK_AUDIT_HASH_LEN], const audit_fields *f,
		   unsigned char out[SK_AUDIT_HASH_LEN]);

/* The message a checkpoint signs. */
#define AUDIT_CP_MSG_LEN (27 + 8 + SK_AUDIT_HASH_LEN + 8 + 8)
void sk_audit_cp_msg(int64_t seq, const unsigned char hash[SK_AUDIT_HASH_LEN], int64_t ts,
		     int64_t every, unsigned char out[AUDIT_CP_MSG_LEN]);

/*
 * The node key for st (set with sk_audit_set_key, else "<db>.key" loaded
 * on first need); NULL if there is none.  Borrowed from st's state.
 */
const sk_keypair *sk_audit_key(sk_store *st);

/*
 * Write a signed checkpoint at entry (seq, hash) inside the open
 * transaction, unless one is there already.
 */
sk_err sk_audit_put_checkpoint(sk_store *st, int64_t seq, const unsigned char *hash,
			       sk_error *err);

/* The last entry (or, with none, the anchor checkpoint): *seq 0 and zeros if empty. */
sk_err sk_audit_last(sk_store *st, int64_t *seq, unsigned char hash[SK_AUDIT_HASH_LEN],
		     sk_error *err);

/*
 * Serialise appends of this process (several server threads): SQLite's
 * busy handler sleeps in steps of milliseconds, a mutex hands over at once.
 */
void sk_audit_lock(void);
void sk_audit_unlock(void);

#endif
