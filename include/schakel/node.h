/*
 * node.h - the running node over federation and detection: the identity
 * sightings made here are created under, node settings, recording
 * sightings, the sync scheduler, and the status and metrics renderers that
 * `peer status`, `metrics` and GET /metrics show.
 *
 * Threading: the functions take a store connection of their own thread.
 */
#ifndef SCHAKEL_NODE_H
#define SCHAKEL_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "schakel/buf.h"
#include "schakel/error.h"
#include "schakel/store.h"
#include "schakel/sync.h"

/*
 * The identity sightings made here are created by: the node's identity, or,
 * with the node setting sightings.anonymous = true, an anonymous identity
 * carrying only the node's sectors and country (created on first use).
 * *id is malloc'd (caller frees).  With sightings.anonymous = per-sighting
 * there is no one identity (each sighting gets a fresh one): SK_EINVAL.
 */
sk_err sk_sync_sighting_identity(sk_store *st, char **id, sk_error *err);

/* Node settings (meta keys "config.NAME"): only known names are accepted. */
sk_err sk_sync_config_set(sk_store *st, const char *name, const char *value, sk_error *err);
sk_err sk_sync_config_get(sk_store *st, const char *name, char **value, sk_error *err);

/*
 * Every node setting with its value and where that comes from ("database"
 * or "default"), the API roots' included.  fn returns non-zero to stop.
 */
typedef int (*sk_config_fn)(void *ud, const char *name, const char *value, const char *origin);
sk_err sk_sync_config_each(sk_store *st, sk_config_fn fn, void *ud, sk_error *err);

/* One sighting made here (sk_sync_sighting_put). */
typedef struct sk_sync_sighting {
	const char *indicator;     /* sighting_of_ref; its newest version is the one sighted */
	int64_t count;             /* hits (0 = no count); capped at 999,999,999 */
	int64_t first_us, last_us; /* times of the first and last hit (0 = unknown: first_seen
				      and last_seen are left out) */
	int64_t cid;               /* store in this collection; 0 = in every collection
				      holding the indicator (none: in no collection) */
	/*
	 * false: a new sighting (random id).  true: the one sighting of this
	 * indicator by this identity, versioned: its id is the UUID shaped from
	 * BLAKE2b("schakel-sighting|" identity "|" indicator), and a later call
	 * stores a new version that keeps created, sets modified to now (at
	 * least 1 ms after the previous version), adds count to the previous
	 * count and widens first_seen / last_seen.
	 */
	bool versioned;
	/* the hit was benign: "x_schakel_false_positive": true (docs/decay.md) */
	bool false_positive;
} sk_sync_sighting;

/*
 * Record a sighting made here, inside the caller's transaction, by the
 * policy of docs/sharing-policy.md ("Sightings"): created_by_ref and
 * where_sighted_refs name the sighting identity (sk_sync_sighting_identity:
 * the node's, or the anonymous one; per-sighting: a fresh anonymous one, or
 * for a versioned sighting the one of its first version, whose id is then
 * keyed by a node secret instead of the identity); it is marked with the indicator's
 * effective TLP (its own marking, else the strictest default of the
 * collections holding it), so that it is never visible where the indicator
 * is not; with the anonymous identity, that identity's objects are added to
 * the same collections.  sid_out (may be NULL, 64 bytes) receives the id.
 * SK_ENOTFOUND when the indicator is not stored here.
 */
sk_err sk_sync_sighting_put(sk_store *st, const sk_sync_sighting *s, char *sid_out, sk_error *err);

/* sk_sync_sighting_put in a transaction of its own. */
sk_err sk_sync_sighting_add(sk_store *st, const sk_sync_sighting *s, char *sid_out, sk_error *err);

/* The scheduler: one thread syncing each peer every interval. */
typedef struct sk_scheduler sk_scheduler;
sk_err sk_scheduler_start(const char *db_path, const sk_sync_opts *o, sk_scheduler **out,
			  sk_error *err);
/* Stop (aborting transfers in progress), join, free; s may be NULL. */
void sk_scheduler_stop(sk_scheduler *s);

/* One line per peer: last success, failures, cursor, counts, outbox, last error. */
sk_err sk_sync_status_render(sk_store *st, sk_buf *b, sk_error *err);

/* Prometheus text exposition of the sync metrics (appended to b). */
sk_err sk_metrics_render(sk_store *st, sk_buf *b, sk_error *err);

/*
 * Where the detection engine's metrics come from (watch.h): fn appends them
 * to b at the end of every sk_metrics_render.  fn = NULL unregisters; it
 * returns only once no render is calling the old hook.  Without a hook the
 * detection metric names are announced without samples.
 */
void sk_metrics_set_hook(void (*fn)(void *ud, sk_buf *b), void *ud);

#endif
