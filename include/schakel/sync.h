/*
 * sync.h - federation: pulling from and pushing to peers over TAXII 2.1.
 *
 * Pull: GET the peer collection's objects with added_after = the durable
 * cursor (the last X-TAXII-Date-Added-Last seen), following `next` (or, when
 * a server gives none, added_after = the page's X-TAXII-Date-Added-Last)
 * until `more` is false.  Pages are stored with their provenance (peer,
 * arrival, source date_added), each with the cursor it reached, in write
 * transactions of up to tx_objects objects or 2 s: after a crash the next
 * run starts right after the last committed page.  The next page's GET
 * runs on a second thread while a page is stored.  With nothing new a sync
 * is one request.
 *
 * Every run is bounded (docs/sync.md, "Limits of a sync run"): at most
 * max_pages pages and max_seconds of wall time, transfers included; a
 * `next` token the peer already gave in this run ends it.  Each ends the run with SK_ELIMIT
 * (recorded as the peer's last error) after keeping what was stored and its
 * cursor, so the next run goes on from there.
 *
 * Push: versions in the peer's local collection that the onward-sharing rule
 * lets go to that peer (docs/sharing-policy.md) are queued in a durable
 * outbox in the same transaction that advances the push cursor, POSTed in
 * envelopes, their status polled until complete, and removed only then.
 * Failures back off exponentially per peer.  Delivery is at least once;
 * the receiver stores a version once.
 *
 * Threading: the functions take a store connection of their own thread.
 */
#ifndef SCHAKEL_SYNC_H
#define SCHAKEL_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "schakel/buf.h"
#include "schakel/error.h"
#include "schakel/peer.h"
#include "schakel/store.h"

typedef struct sk_sync_opts {
	size_t page_limit;        /* limit= per GET (0 = 1000) */
	size_t max_pages;         /* per pull (0 = node setting sync.max_pages, else 1000) */
	long max_seconds;         /* per sync run (0 = node setting sync.max_seconds, else 300) */
	int64_t deadline_us;      /* end of the run, sk_ts_now_us() time (0 = from max_seconds) */
	size_t tx_objects;        /* objects per pull transaction (0 = 50000; also <= 2 s) */
	size_t push_batch;        /* objects per POST (0 = 500) */
	size_t max_body;          /* largest response (0 = client default) */
	long timeout_s;           /* per transfer (0 = 300) */
	long low_speed_s;         /* (0 = 30) */
	const volatile int *stop; /* shutdown flag, may be NULL */
	const char *db_path;      /* for the secrets file */
} sk_sync_opts;

typedef struct sk_sync_result {
	uint64_t requests;
	uint64_t pages;
	uint64_t received, stored, rejected; /* pull */
	uint64_t queued, sent, refused;      /* push: queued now, accepted, rejected by peer */
	uint64_t outbox;                     /* still waiting */
} sk_sync_result;

#define SK_SYNC_DEFAULT_MAX_PAGES   1000
#define SK_SYNC_DEFAULT_MAX_SECONDS 300

/* Pull new objects from peer p (p->pull need not be set: explicit call). */
sk_err sk_sync_pull(sk_store *st, const sk_peer *p, const sk_sync_opts *o, sk_sync_result *res,
		    sk_error *err);

/* Queue what p may receive and deliver the due part of its outbox. */
sk_err sk_sync_push(sk_store *st, const sk_peer *p, const sk_sync_opts *o, sk_sync_result *res,
		    sk_error *err);

/*
 * One sync of peer name (pull if enabled, then push if enabled), recording
 * success or failure, and the next run time, in its state.  Limits o leaves
 * at 0 come from the node settings sync.max_pages and sync.max_seconds
 * (meta keys "config.sync.*", set with `schakel config set`), else the
 * defaults above.
 */
sk_err sk_sync_peer(sk_store *st, const char *name, const sk_sync_opts *o, sk_sync_result *res,
		    sk_error *err);

/*
 * Queue version ver, a cooperation summary (docs/cooperation.md), for peer
 * p alone: the one way a summary leaves (the push of any collection never
 * carries one).  Refused (SK_EPERM, nothing queued) unless ver is of type
 * x-schakel-coop-summary, was made here (no source, produced by this
 * node), is addressed (recipient_ref) to p's identity, and p pushes.  The
 * next push to p delivers it (audited as sync.push, as every push is).
 * Inside the caller's transaction.
 */
sk_err sk_sync_push_summary(sk_store *st, const sk_peer *p, int64_t ver, sk_error *err);

/* Seconds to wait after the n-th consecutive failure (n >= 1): 2^n capped at 1 h, +-25% jitter. */
int64_t sk_sync_backoff_s(unsigned n, double jitter01);

#endif
