/*
 * sync_int.h - what sync.c (pull, the run of one peer) and sync_push.c (the
 * outbox and push) share: small SQL helpers, the peer's URLs, its TAXII
 * client and the run's deadline.
 */
#ifndef SCHAKEL_SYNC_INT_H
#define SCHAKEL_SYNC_INT_H

#include <stdint.h>

#include "schakel/buf.h"
#include "schakel/error.h"
#include "schakel/peer.h"
#include "schakel/store.h"
#include "schakel/sync.h"
#include "schakel/taxii_client.h"

/* A uniform number in [0, 1) (jitter). */
double sk_sync_rand01(void);

/*
 * Run one statement with parameters described by fmt: 'i' int64, 't' text
 * (NULL allowed), 'n' NULL.
 */
sk_err sk_sync_exec_bind(sk_store *st, const char *sql, sk_error *err, const char *fmt, ...);

/* A meta value (malloc'd into *val); SK_ENOTFOUND if unset. */
sk_err sk_sync_meta_get(sk_store *st, const char *key, char **val, sk_error *err);

/* The peer's API root URL and its collection's objects URL. */
sk_err sk_sync_root_url(const sk_peer *p, char **out, sk_error *err);
sk_err sk_sync_objects_url(const sk_peer *p, sk_buf *b, sk_error *err);

/* When a run started now must end (microseconds). */
int64_t sk_sync_run_deadline(const sk_sync_opts *o);

/* A TAXII client for the peer, bounded by deadline. */
sk_err sk_sync_client_for(const sk_peer *p, const sk_sync_opts *o, int64_t deadline, sk_tc **c,
                          sk_error *err);

/* A short reason for an HTTP status, for the peer's last error. */
const char *sk_sync_http_reason(long status);

#endif
