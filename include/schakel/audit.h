/*
 * audit.h - the tamper-evident audit log: who received which object
 * versions, when and by which path, and every change of who may receive
 * them (partners, accounts, tokens, grants, RED recipients, peers).
 *
 * The log is an append-only hash chain in the store (table audit, schema
 * 9): entry n holds hash(n) = BLAKE2b-256(hash(n-1) || its fields), so
 * changing, removing or reordering a row breaks the chain at that row.
 * Every checkpoint_every entries (and at `audit verify` and `audit
 * archive`), a checkpoint signs (Ed25519, the node key) the sequence number
 * and hash of the last entry, so that cutting the tail is detectable up to
 * the last checkpoint.  Old entries move to an archive file with the
 * checkpoints that anchor them.  See docs/audit.md.
 *
 * An entry never holds a secret: no token, password or query value.
 */
#ifndef SCHAKEL_AUDIT_H
#define SCHAKEL_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/sign.h"
#include "schakel/store.h"

#define SK_AUDIT_HASH_LEN 32
#define SK_AUDIT_LIST_MAX 1000 /* versions listed one by one; more are summarised */
#define SK_AUDIT_FIELD_MAX 4096 /* longest actor, action or subject */
#define SK_AUDIT_ACTOR_MAX 160
#define SK_AUDIT_DEFAULT_EVERY 1000
#define SK_AUDIT_DEFAULT_RETENTION_DAYS 365

/* One entry to append.  Strings are borrowed for the call. */
typedef struct sk_audit_entry {
	const char *actor;   /* NULL: the connection's actor (sk_audit_set_actor) */
	const char *action;  /* "taxii.objects", "export.for", "account.add", ... */
	const char *subject; /* who received, or what changed; may be NULL */
	const char *detail;  /* a JSON object as text; NULL = "{}" */
	/*
	 * The versions handed out (objects.ver), for an exit of data; NULL
	 * with nvers 0 and exit false for a change.  Up to SK_AUDIT_LIST_MAX
	 * they are recorded as a JSON array, more as {"count", "first",
	 * "last", "blake2b"} where blake2b is the hash of the array's text.
	 */
	const int64_t *vers;
	size_t nvers;
	bool exit;  /* an exit of data (versions recorded, even none) */
	bool force; /* append even with the log off (changes of the audit settings) */
} sk_audit_entry;

/*
 * The actor this connection's entries are recorded under when an entry
 * names none: "cli:USER" for the command line, "node" (the default) for
 * the server's own work.  Copied (truncated to SK_AUDIT_ACTOR_MAX).
 */
void sk_audit_set_actor(sk_store *st, const char *actor);
const char *sk_audit_actor(sk_store *st);

/*
 * Sign checkpoints with kp (copied) instead of the node key file
 * ("<db>.key", sign.h), which is otherwise loaded on first need; NULL
 * forgets a key set here.  For tests and tools.
 */
void sk_audit_set_key(sk_store *st, const sk_keypair *kp);

/*
 * Is the log on (node setting audit.enabled, default true)?  Read from the
 * store each call, so a change applies to a running server at once.
 */
bool sk_audit_enabled(sk_store *st);

/*
 * Append e to the log, and a checkpoint when its sequence number is a
 * multiple of audit.checkpoint_every.  Inside the caller's transaction if
 * one is open (the entry commits or rolls back with the change it
 * records), else in a transaction of its own (BEGIN IMMEDIATE: appends of
 * several threads and processes stay one line).  With the log off, SK_OK
 * and nothing is written.
 */
sk_err sk_audit_append(sk_store *st, const sk_audit_entry *e, sk_error *err);

/*
 * The transaction of a change and its entry: begin one, or join the
 * caller's if one is open (*own false).  sk_audit_tx_end appends e when rc
 * is SK_OK and then commits its own transaction; with rc set, or if the
 * append fails, it rolls its own back (a joined one is the caller's to
 * roll back).  Returns the outcome.
 */
sk_err sk_audit_tx_begin(sk_store *st, bool *own, sk_error *err);
sk_err sk_audit_tx_end(sk_store *st, bool own, sk_err rc, const sk_audit_entry *e,
		       sk_error *err);

/*
 * Write a checkpoint at the last entry now (none if there is no entry, or
 * the last one already has one).  *seq (may be NULL) receives its sequence
 * number (0: nothing to sign).
 */
sk_err sk_audit_checkpoint(sk_store *st, int64_t *seq, sk_error *err);

/* A row of the log, valid during the callback only. */
typedef struct sk_audit_row {
	int64_t seq;
	int64_t ts; /* µs since the epoch */
	const char *actor, *action, *subject; /* subject may be NULL */
	const char *detail;                   /* JSON object text */
	const char *versions;                 /* JSON text, or NULL for a change */
	int64_t nvers;                        /* versions handed out (-1: a change) */
} sk_audit_row;

typedef struct sk_audit_filter {
	const char *partner; /* subject "partner:P", or detail.partner P */
	const char *object;  /* entries whose listed versions include a version of this id */
	int64_t since;       /* ts >= since (µs); 0 = any */
	const char *action;  /* action, or actions starting with "ACTION." */
} sk_audit_filter;

/* Call fn for each entry matching f (NULL = all), oldest first; fn returns non-zero to stop. */
sk_err sk_audit_list(sk_store *st, const sk_audit_filter *f,
		     int (*fn)(void *ud, const sk_audit_row *r), void *ud, sk_error *err);

/* What sk_audit_verify found. */
typedef struct sk_audit_report {
	int64_t entries;       /* entries checked (archives included) */
	int64_t first, last;   /* sequence numbers of the first and last entry (0: none) */
	int64_t checkpoints;   /* checkpoints checked */
	int64_t signed_ok;     /* ... whose signature holds for the node key */
	int64_t unsigned_cps;  /* ... without a signature (no node key when written) */
	int64_t unchecked;     /* ... signed, but there is no node key to check against */
	bool node_key;         /* the node key was available */
	int64_t bad;           /* the first bad entry's sequence number, 0 if all is well */
	char problem[512];     /* why, when bad */
} sk_audit_report;

/*
 * Verify the chain from its first entry (in the archive files, oldest
 * first, then in the store) to the last, and every checkpoint on it.
 * Returns SK_OK having filled *rep: rep->bad is 0 when the chain and the
 * checkpoints hold, else the first entry that was changed, removed,
 * reordered or cut off, with rep->problem saying how.  Errors reading the
 * store or an archive are returned as such.
 */
sk_err sk_audit_verify(sk_store *st, const char *const *archives, size_t narchives,
		       sk_audit_report *rep, sk_error *err);

/*
 * Move the entries older than before_us (µs) to a new file at path
 * (created 0600; SK_EEXIST if it exists), with a checkpoint at the last
 * of them and the checkpoints before it, so that `sk_audit_verify` with
 * the file still spans them.  The store keeps that checkpoint as the
 * anchor of the entries after it.  *moved (may be NULL) receives the
 * number of entries moved (0: nothing was older; no file is written).
 */
sk_err sk_audit_archive(sk_store *st, int64_t before_us, const char *path, int64_t *moved,
			sk_error *err);

/* The node settings (meta "config.audit.*"), or their defaults. */
int64_t sk_audit_checkpoint_every(sk_store *st);
int64_t sk_audit_retention_days(sk_store *st);

#endif
