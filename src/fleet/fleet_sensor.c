/*
 * fleet_sensor.c - a sensor of a fleet (`serve --fleet-sensor URL
 * --fleet-seed FILE`).
 *
 * It keeps the durable consumer named after itself on its audience's
 * stream, fetches in batches, and stores each batch in one transaction
 * through the import and the write rule, as received from the hub (whose
 * signing key the credential file names and the sensor pins): a bad
 * signature is refused by the rule, and an unsigned object that claims a
 * producer whose key is pinned is refused here, so the bus is not trusted
 * with integrity.  Versions already held are no-ops (idempotent on id and
 * modified), so a redelivery after a crash changes nothing.  Messages are
 * acknowledged only after the commit; a refused message is acknowledged
 * too (it would be refused again).  Then the live matcher is woken.
 *
 * Its own sightings (made here: no rx) are published to its sightings
 * subject with message id "<id>|<modified>", and a cursor (meta
 * fleet.sight_cursor) advances only after JetStream acknowledged them.
 */
#include "fleet_int.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/import.h"
#include "schakel/reader.h"
#include "store/store_priv.h"

typedef struct sensor {
	sk_fleet *f;
	sk_store *st;
	int64_t cid;
	uint64_t stored;
} sensor;

static void on_reject(void *ud, const char *where, const char *msg)
{
	(void)ud;
	fprintf(stderr, "schakel: fleet: refused %s: %s\n", where, msg);
}

/*
 * An unsigned object whose producer has a pinned key is a forgery: that
 * producer signs what it makes (docs/provenance.md).
 */
static bool unsigned_claim(sk_store *st, const char *body, size_t len, char *why, size_t n)
{
	json_t *o = json_loadb(body, len, 0, NULL);
	const char *type = o ? json_string_value(json_object_get(o, "type")) : NULL;
	const char *by = o ? json_string_value(json_object_get(o, "created_by_ref")) : NULL;
	json_t *ext = o ? json_object_get(o, "extensions") : NULL;
	unsigned char pk[SK_KEY_PK_LEN];
	bool found = false, forged = false;

	if (!by && type && !strcmp(type, "identity"))
		by = json_string_value(json_object_get(o, "id"));
	if (by && !json_object_get(ext, SK_SIG_EXT_ID) &&
	    !sk_store_key_get(st, by, pk, &found, NULL) && found) {
		snprintf(why, n, "%s: unsigned, but its producer %s signs (its key is pinned)",
		         json_string_value(json_object_get(o, "id")), by);
		forged = true;
	}
	json_decref(o);
	return forged;
}

static void where_of(natsMsg *m, char *out, size_t n)
{
	snprintf(out, n, "nats:%s#%llu", natsMsg_GetSubject(m),
	         (unsigned long long)natsMsg_GetSequence(m));
}

/*
 * Apply a fetched batch (the caller's transaction is open), message by
 * message, each in its savepoint, so a bad one refuses only itself.  (One
 * NDJSON input per batch was faster; it was withdrawn while the sensors'
 * crashes under load were unexplained.  They came from libnats' Fetch,
 * see fleet_pull.c, so it could come back.)
 */
static void apply_batch(sensor *s, natsMsgList *l)
{
	sk_origin origin = {.rx = s->f->creds.hub};
	char where[256], why[512];

	for (int i = 0; i < l->Count; i++) {
		const char *d = natsMsg_GetData(l->Msgs[i]);
		size_t len = (size_t)natsMsg_GetDataLength(l->Msgs[i]);
		where_of(l->Msgs[i], where, sizeof(where));
		if (unsigned_claim(s->st, d, len, why, sizeof(why)))
			on_reject(NULL, where, why);
		else
			sk_fleet_import(s->st, &origin, s->cid, d, len, where, &s->stored);
	}
}

static int64_t meta_int(sk_store *st, const char *key)
{
	static const char q[] = "SELECT value FROM meta WHERE key=?1";
	sqlite3_stmt *s = NULL;
	int64_t v = 0;
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, NULL))
		return 0;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sk_store_stmt_put(st, s);
	return v;
}

/* Publish this sensor's new sightings; the number published, or -1. */
static long publish_sightings(sensor *s)
{
	static const char q[] =
	    "SELECT ver, id, COALESCE(modified, version, ''), json FROM objects"
	    " WHERE type='sighting' AND rx IS NULL AND ver>?1 ORDER BY ver LIMIT ?2";
	static const char qu[] = "INSERT INTO meta(key, value) VALUES('fleet.sight_cursor', ?1)"
	                         " ON CONFLICT(key) DO UPDATE SET value=?1";
	sk_fleet *f = s->f;
	char subj[160], msgid[512];
	sqlite3_stmt *st = NULL;
	int64_t cur = meta_int(s->st, "fleet.sight_cursor"), last = cur;
	natsStatus ns = NATS_OK;
	jsPubOptions po;
	long n = 0;

	sk_fleet_sightings_subject(f->creds.name, subj, sizeof(subj));
	if (sqlite3_prepare_v2(sk_store_sqlite(s->st), q, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, cur);
	sqlite3_bind_int(st, 2, (int)f->cfg.batch * 4);
	atomic_store(&f->pub_errors, 0);
	while (ns == NATS_OK && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(msgid, sizeof(msgid), "%s|%s", (const char *)sqlite3_column_text(st, 1),
		         (const char *)sqlite3_column_text(st, 2));
		jsPubOptions_Init(&po);
		po.MsgId = msgid;
		po.MaxWait = SK_FLEET_ACK_WAIT;
		ns = js_PublishAsync(f->js, subj, sqlite3_column_text(st, 3),
		                     sqlite3_column_bytes(st, 3), &po);
		last = sqlite3_column_int64(st, 0);
		n++;
	}
	sqlite3_finalize(st);
	if (!n)
		return 0;
	if (ns == NATS_OK) {
		jsPubOptions_Init(&po);
		po.MaxWait = 30000;
		ns = js_PublishAsyncComplete(f->js, &po);
	}
	if (ns != NATS_OK || atomic_load(&f->pub_errors)) {
		fprintf(stderr, "schakel: fleet: publishing sightings: %s (retrying)\n",
		        natsStatus_GetText(ns == NATS_OK ? NATS_ERR : ns));
		sk_fleet_pub_forget(f);
		return -1;
	}
	if (sk_store_stmt_get(s->st, qu, sizeof(qu) - 1, &st, NULL))
		return -1;
	sqlite3_bind_int64(st, 1, last);
	sqlite3_step(st);
	sk_store_stmt_put(s->st, st);
	return n;
}

static natsSubscription *subscribe(sensor *s)
{
	sk_fleet *f = s->f;
	natsSubscription *sub = NULL;
	char stream[160], subj[160];
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus ns;

	sk_fleet_stream_name(f->creds.audience, stream, sizeof(stream));
	sk_fleet_objects_subject(f->creds.audience, subj, sizeof(subj));
	while (!atomic_load(&f->stop)) {
		jsSubOptions_Init(&so);
		so.Stream = stream;
		so.Config.AckPolicy = js_AckExplicit;
		so.Config.MaxAckPending = 20000;
		ns = js_PullSubscribe(&sub, f->js, subj, f->creds.name, NULL, &so, &jerr);
		if (ns == NATS_OK)
			return sub;
		sk_error e;
		sk_fleet_natserr(&e, ns, jerr, stream);
		fprintf(stderr, "schakel: fleet: consumer %s on %s (retrying)\n", f->creds.name,
		        e.msg);
		sk_fleet_nap(f, 1000);
	}
	return NULL;
}

void *sk_fleet_sensor_main(void *arg)
{
	sensor s = {.f = arg};
	sk_fleet *f = s.f;
	natsSubscription *sub = NULL;
	sk_fleet_pull pull = {0};
	sk_collection c;
	sk_error err;

	if (sk_store_open(f->db_path, 0, &s.st, &err)) {
		fprintf(stderr, "schakel: fleet: %s\n", err.msg);
		return NULL;
	}
	if (!sk_store_collection_get(s.st, f->collection, &c, &err)) {
		s.cid = c.cid;
		sk_collection_clear(&c);
	}
	if (!(sub = subscribe(&s))) /* makes or binds the durable consumer */
		goto out;
	{
		char stream[160];
		sk_fleet_stream_name(f->creds.audience, stream, sizeof(stream));
		if (sk_fleet_pull_open(&pull, f->nc, stream, f->creds.name, &err)) {
			fprintf(stderr, "schakel: fleet: %s\n", err.msg);
			goto out;
		}
	}
	fprintf(stderr, "schakel: fleet: sensor %s following %s\n", f->creds.name,
	        f->creds.audience);
	while (!atomic_load(&f->stop)) {
		natsMsgList list = {0};
		natsStatus ns = sk_fleet_pull_next(&pull, (int)f->cfg.batch, 100, &list);
		if (ns == NATS_OK && list.Count > 0) {
			uint64_t before = s.stored;
			if (sk_store_begin(s.st, &err)) {
				fprintf(stderr, "schakel: fleet: %s\n", err.msg);
				natsMsgList_Destroy(&list);
				sk_fleet_nap(f, 200);
				continue;
			}
			apply_batch(&s, &list);
			if (sk_store_commit(s.st, &err)) {
				fprintf(stderr, "schakel: fleet: %s (not acknowledged)\n", err.msg);
				sk_store_rollback(s.st);
				s.stored = before;
			} else {
				for (int i = 0; i < list.Count;
				     i++) /* after the commit, never before */
					sk_fleet_pull_ack(&pull, list.Msgs[i]);
				if (s.stored != before && f->cfg.on_applied)
					f->cfg.on_applied(f->cfg.ud);
			}
		} else if (ns != NATS_OK && ns != NATS_TIMEOUT) {
			sk_fleet_nap(f, 200);
		}
		natsMsgList_Destroy(&list);
		publish_sightings(&s);
	}
	publish_sightings(&s);
out:
	sk_fleet_pull_close(&pull);
	natsSubscription_Destroy(sub);
	sk_store_close(s.st);
	return NULL;
}

/* Pin the hub's key for its identity, or refuse a credential naming another. */
static sk_err pin_hub(sk_store *st, const sk_fleet_creds *c, sk_error *err)
{
	unsigned char want[SK_KEY_PK_LEN], have[SK_KEY_PK_LEN];
	bool found = false;
	sk_err rc;

	if (!sk_key_parse(c->hub_key, want))
		return sk_error_set(err, SK_EINVAL, "hub-key is not a public key");
	if ((rc = sk_store_key_get(st, c->hub, have, &found, err)))
		return rc;
	if (found && memcmp(have, want, sizeof(have)))
		return sk_error_set(err, SK_EPERM,
		                    "the credential file names another key for the hub %s than "
		                    "the one pinned here (schakel key list)",
		                    c->hub);
	return found ? SK_OK : sk_store_key_pin(st, c->hub, want, "configured", err);
}

sk_err sk_fleet_sensor_start(const sk_fleet_config *cfg, sk_fleet **out, sk_error *err)
{
	sk_store *st = NULL;
	sk_collection c;
	sk_fleet *f;
	sk_err rc;

	*out = NULL;
	if (!(f = sk_fleet_new(cfg, err)))
		return SK_ENOMEM;
	if ((rc = sk_fleet_creds_read(cfg->seed_path, &f->creds, err)))
		goto fail;
	if ((rc = sk_store_open(cfg->db_path, 0, &st, err)))
		goto fail;
	rc = pin_hub(st, &f->creds, err);
	if (!rc && sk_store_collection_get(st, f->collection, &c, err) == SK_OK)
		sk_collection_clear(&c);
	else if (!rc)
		rc = sk_store_collection_add(st, f->collection, NULL, "fleet",
		                             "received from the fleet hub", NULL, err);
	sk_store_close(st);
	if (rc || (rc = sk_fleet_connect(f, f->creds.seed, err)))
		goto fail;
	if (pthread_create(&f->th[0], NULL, sk_fleet_sensor_main, f)) {
		rc = sk_error_set(err, SK_EIO, "cannot start the fleet sensor");
		goto fail;
	}
	f->nth = 1;
	*out = f;
	return SK_OK;
fail:
	sk_fleet_stop(f);
	return rc;
}
