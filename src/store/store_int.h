/*
 * store_int.h - what the store's own files share and no other folder may
 * use: the connection (struct sk_store) with its table of hot statements
 * (store.c opens and closes it, store_write.c and store_collection.c use
 * it), and the provenance flush that sk_store_commit runs.
 */
#ifndef SCHAKEL_STORE_INT_H
#define SCHAKEL_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "schakel/buf.h"
#include "schakel/decay.h"
#include "schakel/sign.h"
#include "store_priv.h"

enum stmt_id {
	S_FIND_VER,
	S_INS_OBJ,
	S_INS_MARK,
	S_MAX_DA,
	S_INS_CO,
	S_INS_PROV,
	S_UPS_IND,
	S_RULE_FIRST,
	S_RULE_OWN,
	S_RULE_ANY_ANON,
	S_RULE_OWN_ANON,
	S_RULE_MARK,
	S_KEY_GET,
	S_SRCH_OTHERS, /* the search index (store_search.c) */
	S_SRCH_DEL,
	S_SRCH_INS,
	S_OBS_INS,
	S_OBS_DEL,
	S__COUNT,
};

#define QCACHE_SLOTS 48 /* cached statements of sk_store_stmt_get (query shapes) */

struct sk_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[S__COUNT];
	sqlite3_stmt *qcache[QCACHE_SLOTS];
	unsigned qnext; /* round-robin eviction */
	bool in_tx;
	bool defer_search; /* sk_store_defer_search: puts leave the search index to a catch-up */
	int64_t da_cid;  /* collection whose last date_added is cached, 0 = none */
	int64_t da_last; /* that collection's last date_added */
	sk_origin origin; /* where versions put now come from (borrowed strings) */
	bool has_origin;
	int64_t prov_first, prov_last; /* new versions from origin awaiting provenance rows */
	sk_err prov_rc;                /* a failed flush outside sk_store_put: fails the commit */
	sk_error prov_err;
	struct ckpt *ckpt; /* the checkpointing thread of sk_store_bulk, or NULL */
	char *path;        /* the database file */
	char *node_id;     /* the node's identity id, once read (sk_store_own_id) */
	sk_keypair *kp;    /* the node's key, once loaded (sk_store_own_key) */
	int key_state;     /* 0 not tried, 1 loaded, -1 none */
	char *anon_id;     /* the anonymous identity, read once per transaction */
	bool anon_read;
	bool anon_many;               /* per-sighting anonymous identities exist */
	sk_buf signed_text;           /* a version signed on its way in */
	sk_buf scratch;               /* canonical forms for verification */
	struct sk_audit_state *audit; /* audit.c: actor and signing key, or NULL */
	sk_decay_config decay;        /* store_decay.c: the scoring model in force */
	int64_t decay_cfg;            /* meta 'decay.cfg' when it was loaded */
};

/*
 * store_decay.c: load the model and register the score functions (every
 * open); on a read-write open fill the score columns of rows that predate
 * schema 17.  A new sighting or opinion version (ver) counts for the
 * indicators it refers to and refreshes them.
 */
sk_err sk_store_decay_open(sk_store *st, bool readonly, sk_error *err);
sk_err sk_store_decay_register(sk_store *st, sk_error *err);
sk_err sk_store_decay_load(sk_store *st, sk_error *err);
/* at the start of a write transaction: reload the model if meta 'decay.cfg' moved */
sk_err sk_store_decay_refresh(sk_store *st, sk_error *err);
sk_err sk_store_decay_evidence(sk_store *st, int64_t ver, const sk_stix_info *info,
			       sk_error *err);

/*
 * Versions recorded TLP:AMBER for a marking not held yet (marking_pending,
 * schema 15): note ver's unresolved markings (info's); after
 * marking-definition id is stored, decide again the versions that wait for it.
 */
sk_err sk_store_unres_note(sk_store *st, int64_t ver, const sk_stix_info *info, sk_error *err);
sk_err sk_store_unres_settle(sk_store *st, const char *id, sk_error *err);

/* Statement id of the connection's hot statements, prepared once and reset for reuse. */
sk_err sk_store_hot_stmt(sk_store *st, enum stmt_id id, sqlite3_stmt **out, sk_error *err);

/* What the write rule (store_rule.c) decided for one version. */
typedef struct sk_rule_verdict {
	bool exists;  /* this version is stored with the same content (ver) */
	bool replace; /* the producer's copy replaces a relayed one of this version (ver) */
	int64_t ver;
	bool may_link;      /* the writer may place the version in a collection */
	const char *rx;     /* the source recorded for a new version (NULL = made here) */
	sk_tlp tlp;         /* the marking recorded for a new version (objects.tlp) */
	bool unresolved;    /* tlp is AMBER for a marking not held (yet) */
	sk_sig_verdict sig; /* its signature's verdict (objects.sig) */
	bool sign;          /* produced here and unsigned: sk_store_put signs it */
} sk_rule_verdict;

/*
 * May the current writer (st->origin) store this version?  SK_OK with *v
 * filled, or SK_EPERM with the per-object reason in err (SK_ECONFLICT when the
 * same version is stored with other content: both contents' hashes in err).
 * Writes nothing.
 */
sk_err sk_store_rule(sk_store *st, const sk_stix_info *info, const char *json, size_t len,
                     sk_rule_verdict *v, sk_error *err);

/*
 * Write the provenance rows of the versions put since the last flush
 * (store_write.c); sk_store_commit runs it before every commit.
 */
sk_err sk_store_flush_provenance(sk_store *st, sk_error *err);

/*
 * The search index (store_search.c, schema 12): index version ver (just
 * stored, info validated) inside the writer's transaction; forget what ver
 * indexed before its content is replaced; fill the index of a store
 * migrated to schema 12 (sk_store_open, read-write, outside transactions).
 */
sk_err sk_store_search_put(sk_store *st, int64_t ver, const sk_stix_info *info, sk_error *err);
sk_err sk_store_search_forget(sk_store *st, int64_t ver, sk_error *err);
sk_err sk_store_search_backfill(sk_store *st, sk_error *err);

/* Free the connection's audit state (audit.c; sk_store_close runs it). */
void sk_store_audit_free(sk_store *st);

#endif
