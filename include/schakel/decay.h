/*
 * decay.h - indicator scores and their decay (docs/decay.md), in the manner
 * of MISP's decaying models and OpenCTI's indicator lifecycle.
 *
 * Each current indicator version has a base score (0-100) from its
 * confidence, its producer's trust (partners.trust; 100 for this node), its
 * sightings (raise) and false-positive reports (lower), taken at the time it
 * was last refreshed (a new version or a sighting).  From there it decays by
 * its kind's model:
 *
 *     score(t) = base * (1 - (age / lifetime) ^ (1 / speed)),  0 past lifetime
 *
 * Below decay.threshold an indicator stops alerting (indload.h leaves it out
 * of the matcher) but is kept.  The store keeps, per indicator, the base and
 * the time its score falls below the threshold (alert_until), updated when a
 * version, sighting, opinion, trust or model change arrives, so that reading
 * never computes a score to filter (MISP issue 6981).
 */
#ifndef SCHAKEL_DECAY_H
#define SCHAKEL_DECAY_H

#include <stdbool.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/store.h"

typedef enum sk_decay_kind {
	SK_DECAY_IP,     /* ipv4-addr, ipv6-addr, network-traffic: weeks */
	SK_DECAY_DOMAIN, /* domain-name: months */
	SK_DECAY_URL,    /* url: months */
	SK_DECAY_FILE,   /* file (hashes, names): years */
	SK_DECAY_EMAIL,  /* email-addr, email-message */
	SK_DECAY_OTHER,  /* anything else */
	SK_DECAY__N,
} sk_decay_kind;

#define SK_DECAY_NEVER INT64_MAX /* alert_until of an indicator that never falls below */

typedef struct sk_decay_model {
	int64_t lifetime_us; /* age at which the score reaches 0 */
	double speed;        /* 1 = linear; > 1 falls fast early, < 1 late */
} sk_decay_model;

typedef struct sk_decay_config {
	sk_decay_model model[SK_DECAY__N];
	int threshold;          /* 0-100; 0 = nothing stops alerting (the default) */
	int default_trust;      /* producers that are neither this node nor a partner with trust */
	int default_confidence; /* indicators without confidence */
} sk_decay_config;

/* The built-in models (docs/decay.md). */
void sk_decay_defaults(sk_decay_config *c);

/* "ip", "domain", ...; NULL past SK_DECAY__N. */
const char *sk_decay_kind_name(int kind);

/* The kind of a STIX pattern: the object type of its first comparison. */
sk_decay_kind sk_decay_kind_of(const char *pattern);

/*
 * The base score: confidence (< 0: absent, the default is used) scaled by
 * trust / 100, + 10 per sighting (at most 3 count), - 25 per false-positive
 * report, clamped to 0-100.
 */
int sk_decay_base(const sk_decay_config *c, int confidence, int trust, int64_t sightings,
                  int64_t fp);

/* The score at time at (µs) of an indicator refreshed at `refreshed` with base. */
double sk_decay_score(const sk_decay_model *m, int base, int64_t refreshed, int64_t at);

/*
 * The first time (µs) its score is below threshold: refreshed itself if base
 * is already below, SK_DECAY_NEVER if threshold <= 0 or the model has no
 * lifetime.
 */
int64_t sk_decay_until(const sk_decay_model *m, int base, int threshold, int64_t refreshed);

/* "30d", "6w", "3mo", "2y", "12h" (a positive whole number and a unit) in µs. */
bool sk_decay_parse_duration(const char *s, int64_t *us);

/*
 * Settings decay.threshold, decay.default_trust, decay.default_confidence
 * (0-100) and decay.<kind>.lifetime DUR, decay.<kind>.speed X (0.1-10).
 * Setting one rescores every indicator in the same transaction.  get:
 * *value malloc'd (the default when unset).
 */
sk_err sk_decay_config_set(sk_store *st, const char *name, const char *value, sk_error *err);
sk_err sk_decay_config_get(sk_store *st, const char *name, char **value, sk_error *err);
const sk_decay_config *sk_decay_config_of(sk_store *st);

/*
 * A partner's trust (0-100, or -1 to fall back to decay.default_trust),
 * then rescore that partner's indicators.  SK_ENOTFOUND for no such partner.
 */
sk_err sk_decay_set_trust(sk_store *st, const char *partner, int trust, sk_error *err);

/* Rescore every indicator (n: how many; may be NULL).  Inside or outside a transaction. */
sk_err sk_decay_rescore(sk_store *st, uint64_t *n, sk_error *err);

typedef struct sk_decay_info {
	int kind;
	int confidence; /* -1: absent */
	int trust;
	int64_t sightings, fp;
	int64_t refreshed; /* µs, 0 = unknown */
	int base;
	double score;        /* at `at` */
	int64_t alert_until; /* SK_DECAY_NEVER: never falls below */
	bool alerting;       /* alert_until > at */
} sk_decay_info;

/* The score of indicator id's current version at `at` (µs, 0 = now); SK_ENOTFOUND. */
sk_err sk_decay_get(sk_store *st, const char *id, int64_t at, sk_decay_info *out, sk_error *err);

/*
 * Named feeds (feed_members): begin an import's membership list, note each
 * indicator id the import holds, then end: each id of feed's previous
 * membership that was not noted is passed to gone (which may write, e.g.
 * expire it; non-zero stops with SK_EINVAL), and the membership becomes the
 * noted ids.  All inside the import's transactions on one connection.
 */
sk_err sk_decay_feed_begin(sk_store *st, sk_error *err);
sk_err sk_decay_feed_note(sk_store *st, const char *id, sk_error *err);
sk_err sk_decay_feed_end(sk_store *st, const char *feed,
                         int (*gone)(void *ud, const char *id, sk_error *err), void *ud,
                         uint64_t *ngone, sk_error *err);

#endif
