/*
 * fleet.h - sensor fleets on NATS JetStream (docs/fleet.md).
 *
 * A hub (`serve --fleet URL`) publishes every object version entering a
 * fleet collection to one JetStream stream per audience (a partner: what
 * that partner may see under the sharing policy), and consumes the
 * sightings its sensors publish.  A sensor (`serve --fleet-sensor URL
 * --fleet-seed FILE`) keeps a durable consumer on its audience's stream,
 * applies what arrives through the write rule (signatures checked) and
 * publishes its own sightings.  Both authenticate with NKeys; `fleet
 * sensor add` makes a sensor's key and writes the nats-server
 * authorization include that confines it to its own stream.
 */
#ifndef SCHAKEL_FLEET_H
#define SCHAKEL_FLEET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/sign.h"
#include "schakel/store.h"

/* --- NKeys (the NATS key encoding: base32 of prefix bytes, key, CRC-16) ---- */

#define SK_NKEY_SEED_LEN 58 /* "SU" + 56 characters */
#define SK_NKEY_PUB_LEN  56 /* "U" + 55 characters */

/* Encode a user seed (32 bytes of Ed25519 seed) and a user public key; out gets a NUL. */
void sk_nkey_encode_seed(const unsigned char seed[32], char out[SK_NKEY_SEED_LEN + 1]);
void sk_nkey_encode_pub(const unsigned char pk[32], char out[SK_NKEY_PUB_LEN + 1]);
/* Decode them; SK_EINVAL (saying what is wrong) for anything but a valid user key. */
sk_err sk_nkey_decode_seed(const char *s, unsigned char seed[32], sk_error *err);
sk_err sk_nkey_decode_pub(const char *s, unsigned char pk[32], sk_error *err);
/* A new user key pair: its seed and public key, encoded. */
void sk_nkey_new(char seed[SK_NKEY_SEED_LEN + 1], char pub[SK_NKEY_PUB_LEN + 1]);
/* The public key of an encoded seed. */
sk_err sk_nkey_pub_of_seed(const char *seed, char pub[SK_NKEY_PUB_LEN + 1], sk_error *err);

/* --- subjects and streams ------------------------------------------------------ */

#define SK_FLEET_NAME_MAX         64
#define SK_FLEET_SIGHTINGS_STREAM "SKFLEET_SIGHTINGS"
#define SK_FLEET_HUB_CONSUMER     "hub"

/* Is name usable as a sensor or audience name (1-64 of [A-Za-z0-9_-])? */
bool sk_fleet_name_ok(const char *name);
/* The stream, subject and consumer names (snprintf into caller buffers of >= 160 bytes). */
void sk_fleet_stream_name(const char *audience, char *out, size_t n);
void sk_fleet_objects_subject(const char *audience, char *out, size_t n);
void sk_fleet_sightings_subject(const char *sensor, char *out, size_t n);

/* --- the hub's records: fleet collections, sensors, the authorization file ---- */

/* Mark collection name_or_uuid a fleet collection, or not.  SK_ENOTFOUND if there is none. */
sk_err sk_fleet_collection_set(sk_store *st, const char *name_or_uuid, bool on, sk_error *err);
/* Is collection cid a fleet collection? */
bool sk_fleet_collection_is(sk_store *st, int64_t cid);

typedef struct sk_fleet_sensor {
	const char *name, *partner, *pk; /* pk: the NKey public key */
	int64_t created, last_seen;      /* µs; last_seen 0 = never */
	int64_t sightings;               /* sightings received from it */
} sk_fleet_sensor;

/*
 * Add sensor name reading partner's audience: a new NKey pair, of which
 * the public key is stored and the seed written to seed (show it once; it
 * is not kept).  SK_EEXIST if the name is taken, SK_ENOTFOUND if there is
 * no such partner, SK_EINVAL if a name cannot be a NATS subject token.
 */
sk_err sk_fleet_sensor_add(sk_store *st, const char *name, const char *partner,
                           char seed[SK_NKEY_SEED_LEN + 1], sk_error *err);
sk_err sk_fleet_sensor_remove(sk_store *st, const char *name, sk_error *err);
/* Call fn for each sensor, by name (strings valid during the call). */
sk_err sk_fleet_sensors(sk_store *st, int (*fn)(void *ud, const sk_fleet_sensor *s), void *ud,
                        sk_error *err);

/* The hub's own NKey seed (made on first use, kept in the store). */
sk_err sk_fleet_hub_seed(sk_store *st, char seed[SK_NKEY_SEED_LEN + 1], sk_error *err);

/*
 * Write the nats-server authorization include to path (0600, replaced
 * atomically): the hub's user with every permission, each sensor's with
 * the JetStream API of its own audience stream and consumer only, and
 * publishing to its own sightings subject.
 */
sk_err sk_fleet_authz_write(sk_store *st, const char *path, sk_error *err);

/*
 * The sensor's credential file (0600): name, audience, NKey seed, and the
 * hub's identity and public signing key (which the sensor pins).  Written
 * by `fleet sensor add --seed-out`, read by `serve --fleet-seed`.
 */
typedef struct sk_fleet_creds {
	char name[SK_FLEET_NAME_MAX + 1];
	char audience[SK_FLEET_NAME_MAX + 1];
	char seed[SK_NKEY_SEED_LEN + 1];
	char hub[128];                /* the hub's identity id */
	char hub_key[SK_KEY_B64_MAX]; /* its Ed25519 public key (sk_key_b64) */
} sk_fleet_creds;

/* Fill c for sensor name from st (the hub) and seed. */
sk_err sk_fleet_creds_make(sk_store *st, const char *name, const char *seed, sk_fleet_creds *c,
                           sk_error *err);
/* The file's text (malloc'd; caller frees, after wiping it). */
char *sk_fleet_creds_text(const sk_fleet_creds *c);
sk_err sk_fleet_creds_read(const char *path, sk_fleet_creds *c, sk_error *err);

/* --- running ------------------------------------------------------------------ */

typedef struct sk_fleet sk_fleet;

typedef struct sk_fleet_config {
	const char *db_path;
	const char *url;        /* nats://HOST:PORT (tls:// for TLS; TLS is used when offered) */
	const char *seed_path;  /* sensor: the credential file; hub: NULL */
	const char *collection; /* sensor: where received objects go (NULL = "fleet") */
	/* sensor: called after each committed batch that stored something new */
	void (*on_applied)(void *ud);
	void *ud;
	unsigned batch;    /* messages per fetch/publish batch (0 = 1024) */
	unsigned replicas; /* hub: replicas of the streams it creates (0 = 1; 3 on a cluster) */
	/*
	 * A short look (status): one connection attempt and every request
	 * bounded by SK_FLEET_ONCE_MS, no endless reconnects, so that a NATS
	 * server that is down cannot hold the caller (a console request).
	 */
	bool once;
} sk_fleet_config;

#define SK_FLEET_ONCE_MS 2000

/* Start the hub's publisher and sightings consumer threads. */
sk_err sk_fleet_hub_start(const sk_fleet_config *cfg, sk_fleet **out, sk_error *err);
/* Start a sensor's consumer and sightings publisher. */
sk_err sk_fleet_sensor_start(const sk_fleet_config *cfg, sk_fleet **out, sk_error *err);
/* Wake the publisher now (something was committed).  f may be NULL. */
void sk_fleet_wake(sk_fleet *f);
/* Stop and free (NULL is fine). */
void sk_fleet_stop(sk_fleet *f);

/* --- status -------------------------------------------------------------------- */

typedef struct sk_fleet_status_row {
	const sk_fleet_sensor *s;
	int64_t published; /* versions published to its audience */
	int64_t acked;     /* its consumer's acknowledged stream position (-1 unknown) */
	int64_t lag;       /* messages it has not acknowledged yet (-1 unknown) */
	int64_t active;    /* µs of its consumer's last activity (0 unknown) */
} sk_fleet_status_row;

/*
 * Every sensor with what the hub knows; with url, also its consumer's
 * position read from JetStream (as the hub's user).
 */
sk_err sk_fleet_status(sk_store *st, const char *url,
                       int (*fn)(void *ud, const sk_fleet_status_row *r), void *ud, sk_error *err);

/*
 * The same as JSON (what `fleet status --format json` prints and the
 * console's GET /ui/api/fleet answers), in *out (caller decrefs):
 * {"nats": url or null, "sensors": [{"name", "audience", "public_key",
 * "created", "last_seen", "sightings", "published", "applied", "lag",
 * "consumer_active"}]}: times RFC 3339 or null (never), applied and lag
 * null when unknown (no url, or no consumer yet).
 */
sk_err sk_fleet_status_json(sk_store *st, const char *url, json_t **out, sk_error *err);

#endif
