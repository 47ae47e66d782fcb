/*
 * fleet_int.h - what the fleet's modules share: the running hub or sensor
 * (its thread, store connection and NATS connection) and the NATS helpers.
 */
#ifndef SCHAKEL_FLEET_INT_H
#define SCHAKEL_FLEET_INT_H

#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>

#include "schakel/fleet.h"
#include "schakel/json.h"

struct sk_fleet {
	sk_fleet_config cfg;
	sk_fleet_creds creds; /* sensor */
	char *db_path, *url, *collection;
	unsigned char sk[64]; /* the NKey's Ed25519 secret key (seed + public key) */
	char pub[SK_NKEY_PUB_LEN + 1];
	natsConnection *nc;
	jsCtx *js;
	atomic_int pub_errors; /* asynchronous publishes refused since the last batch */
	atomic_bool stop;
	pthread_t th[2];
	int nth;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool woken;
};

/* Connect f (NKey from the seed; endless reconnects). */
sk_err sk_fleet_connect(sk_fleet *f, const char *seed, sk_error *err);
/*
 * After a batch failed: forget the asynchronous publishes still waiting for
 * an ack (one lost in a failover never comes, and would hold every later
 * wait and, past the window, every later publish).  The caller resends the
 * batch with the same message ids, so the ones the server did store are
 * dropped as duplicates.
 */
void sk_fleet_pub_forget(sk_fleet *f);
/* Each asynchronous publish's ack is awaited at most this long (ms). */
#define SK_FLEET_ACK_WAIT 10000
/*
 * Import one message in (len bytes, named where in messages) into st's
 * open transaction, in a savepoint, as received from origin, into
 * collection cid; a refusal is logged and undone (this message only).
 * Adds the versions stored to *stored.  SK_OK or the import's error.
 */
sk_err sk_fleet_import(sk_store *st, const sk_origin *origin, int64_t cid, const void *in,
                       size_t len, const char *where, uint64_t *stored);
/*
 * The fast way to store one message holding one STIX object
 * (fleet_apply.c): parsed once into a document reused across calls,
 * validated and stored with sk_store_put into st's open transaction, as
 * received from the origin the caller set (sk_store_set_origin; origin is
 * passed for inputs that are not one object, which go through
 * sk_fleet_import).  A message refused (malformed, invalid, the write
 * rule, with pinned_only_signed an unsigned object of a producer whose key
 * is pinned) is logged and skipped: SK_OK.  Any other error is the store's
 * and may leave part of the message written: the caller rolls back the
 * transaction (and may redo the batch with sk_fleet_import, a savepoint per
 * message).  Adds the versions stored to *stored.
 */
typedef struct sk_fleet_applier {
	sk_jdoc *doc;
	bool pinned_only_signed;
	bool slow; /* each message through sk_fleet_import in its savepoint (after the checks) */
	/* sk_fleet_apply_batch: threads verifying signatures (0, 1 = this one only) */
	size_t verifiers;
	struct sk_fleet_item *items; /* a batch's messages, each with its document */
	size_t itemcap;
	struct sk_fleet_key *keys; /* the batch's producers' pinned keys */
	size_t nkeys, keycap;
	/* with profile (SK_FLEET_PROFILE=1 in the environment): time spent, fast way only */
	bool profile;
	int64_t ns_parse, ns_verify, ns_put; /* parse and validate; signature; sk_store_put */
	uint64_t msgs;
} sk_fleet_applier;

/* CLOCK_MONOTONIC in ns. */
int64_t sk_fleet_clock_ns(void);

sk_err sk_fleet_apply(sk_fleet_applier *a, sk_store *st, const sk_origin *origin, int64_t cid,
                      const char *body, size_t len, const char *where, uint64_t *stored,
                      sk_error *err);
/*
 * The same for a fetched batch, in its order: every message parsed and
 * checked first, then the signatures of those whose producer has a pinned
 * key verified on a->verifiers threads (that key, looked up once per
 * batch; a signature that does not verify with it is left to the write
 * rule), then each put.  Same outcomes as sk_fleet_apply per message.
 */
sk_err sk_fleet_apply_batch(sk_fleet_applier *a, sk_store *st, const sk_origin *origin, int64_t cid,
                            natsMsgList *l, uint64_t *stored, sk_error *err);
#define SK_FLEET_VERIFIERS_MAX 8
void sk_fleet_applier_free(sk_fleet_applier *a);
/* "nats:<subject>#<stream sequence>": where a message is named in refusals. */
void sk_fleet_where(natsMsg *m, char *out, size_t n);

/*
 * Pulling from a JetStream pull consumer with our own requests and reply
 * inbox instead of natsSubscription_Fetch, which in libnats 3.4.1 can
 * return more messages than its batch, written past its array
 * (fleet_pull.c, docs/fleet.md).  One puller per thread.
 */
typedef struct sk_fleet_pull {
	natsConnection *nc;
	natsSubscription *in; /* the reply inbox */
	natsInbox *inbox;
	char *next;    /* $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer> */
	int left;      /* messages the open request may still bring */
	int64_t until; /* when it expires at the server (monotonic ms) */
} sk_fleet_pull;

sk_err sk_fleet_pull_open(sk_fleet_pull *p, natsConnection *nc, const char *stream,
                          const char *consumer, sk_error *err);
/*
 * Up to batch messages into *out (free it with natsMsgList_Destroy): waits
 * up to wait_ms for the first, then takes what has arrived.  NATS_TIMEOUT
 * when none came; NATS_ERR when the server refused the pull.
 */
natsStatus sk_fleet_pull_next(sk_fleet_pull *p, int batch, int64_t wait_ms, natsMsgList *out);
/* Acknowledge m (after the commit that stored it). */
void sk_fleet_pull_ack(sk_fleet_pull *p, natsMsg *m);
/* Close; what arrived and was not taken is handed back (-NAK) for redelivery. */
void sk_fleet_pull_close(sk_fleet_pull *p);

/* Wait up to ms for sk_fleet_wake or stop. */
void sk_fleet_nap(sk_fleet *f, unsigned ms);
/* Set err from a NATS status and what was being done. */
sk_err sk_fleet_natserr(sk_error *err, natsStatus s, jsErrCode jerr, const char *what);
/* Create the stream name on subject unless it exists (file storage, a 10 min dedup window). */
sk_err sk_fleet_ensure_stream(sk_fleet *f, const char *name, const char *subject, sk_error *err);
/* Free f's resources (threads already joined). */
void sk_fleet_free(sk_fleet *f);
sk_fleet *sk_fleet_new(const sk_fleet_config *cfg, sk_error *err);

void *sk_fleet_hub_publisher(void *arg);
void *sk_fleet_hub_sightings(void *arg);
void *sk_fleet_sensor_main(void *arg);

#endif
