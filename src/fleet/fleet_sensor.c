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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_priv.h"

typedef struct sensor {
	sk_fleet *f;
	sk_store *st;
	int64_t cid;
	uint64_t stored;
	sk_fleet_applier ap;
	/* SK_FLEET_PROFILE: totals (ns) since the first batch */
	int64_t ns_apply, ns_commit, since, last_print;
	uint64_t batches, msgs, printed;
} sensor;

/*
 * Apply a fetched batch (the caller's transaction is open).  Fast (slow
 * false): each message parsed once and put (sk_fleet_apply, refusing an
 * unsigned object of a producer whose key is pinned); an error of the
 * store is returned, and the caller rolls back and applies the batch
 * again slowly: each message through the import in its savepoint, so an
 * error refuses only itself (an unsigned claim is refused by the same
 * check first).
 */
static sk_err apply_batch(sensor *s, natsMsgList *l, bool slow, sk_error *err)
{
	sk_origin origin = {.rx = s->f->creds.hub};
	sk_err rc;

	sk_store_set_origin(s->st, &origin);
	s->ap.slow = slow;
	rc = sk_fleet_apply_batch(&s->ap, s->st, &origin, s->cid, l, &s->stored, err);
	sk_store_set_origin(s->st, NULL);
	return rc;
}

/*
 * With SK_FLEET_PROFILE=1: where a sensor's time goes, summed over the
 * batches and printed every 10 s (parse and validate, signature check,
 * store put, commit with acks and the matcher's wake-up; the wait for
 * messages is the rest), and when idle or stopping (n = 0) if there is news.
 */
static void profile_batch(sensor *s, int n, int64_t t0, int64_t t1)
{
	int64_t now = sk_fleet_clock_ns();
	sk_fleet_applier *a = &s->ap;

	if (n) {
		s->ns_apply += t1 - t0;
		s->ns_commit += now - t1;
		s->batches++;
		s->msgs += (uint64_t)n;
		if (!s->since)
			s->since = t0;
	}
	if (s->msgs == s->printed || (n && now - s->last_print < 10000000000LL))
		return;
	s->last_print = now;
	s->printed = s->msgs;
	fprintf(stderr,
	        "schakel: fleet: profile %s: %llu messages in %llu batches over %.1f s: "
	        "apply %.1f s (parse+validate %.2f, signature %.2f, put %.2f), "
	        "commit+acks+matcher %.2f s; %.0f messages/s while applying\n",
	        s->f->creds.name, (unsigned long long)s->msgs, (unsigned long long)s->batches,
	        (double)(now - s->since) / 1e9, (double)s->ns_apply / 1e9,
	        (double)a->ns_parse / 1e9, (double)a->ns_verify / 1e9, (double)a->ns_put / 1e9,
	        (double)s->ns_commit / 1e9,
	        (double)s->msgs * 1e9 / (double)(s->ns_apply + s->ns_commit + 1));
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
	const char *prof = getenv("SK_FLEET_PROFILE");
	/* signature checks on one thread per core, or SK_FLEET_VERIFIERS (1 = this one only) */
	const char *nv = getenv("SK_FLEET_VERIFIERS");
	long cpus = nv && atol(nv) > 0 ? atol(nv) : sysconf(_SC_NPROCESSORS_ONLN);
	sensor s = {.f = arg,
	            .ap = {.pinned_only_signed = true,
	                   .profile = prof && !strcmp(prof, "1"),
	                   .verifiers = cpus > 0 ? (size_t)cpus : 1}};
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
			int64_t t0 = s.ap.profile ? sk_fleet_clock_ns() : 0, t1 = 0;
			sk_err rc = SK_OK;
			for (int slow = 0; slow < 2; slow++) {
				s.stored = before;
				if ((rc = sk_store_begin(s.st, &err)))
					break;
				rc = apply_batch(&s, &list, slow, &err);
				t1 = s.ap.profile ? sk_fleet_clock_ns() : 0;
				if (!rc && !(rc = sk_store_commit(s.st, &err)))
					break;
				sk_store_rollback(s.st);
				fprintf(stderr, "schakel: fleet: %s (%s)\n", err.msg,
				        slow ? "not acknowledged"
				             : "applying the batch again, message by message");
			}
			if (rc) {
				s.stored = before;
				sk_fleet_nap(f, 200);
			} else {
				for (int i = 0; i < list.Count;
				     i++) /* after the commit, never before */
					sk_fleet_pull_ack(&pull, list.Msgs[i]);
				if (s.stored != before && f->cfg.on_applied)
					f->cfg.on_applied(f->cfg.ud);
				if (s.ap.profile)
					profile_batch(&s, list.Count, t0, t1);
			}
		} else if (ns != NATS_OK && ns != NATS_TIMEOUT) {
			sk_fleet_nap(f, 200);
		} else if (s.ap.profile) {
			profile_batch(&s, 0, 0, 0); /* idle: the totals so far */
		}
		natsMsgList_Destroy(&list);
		publish_sightings(&s);
	}
	publish_sightings(&s);
	if (s.ap.profile)
		profile_batch(&s, 0, 0, 0);
out:
	sk_fleet_pull_close(&pull);
	natsSubscription_Destroy(sub);
	sk_store_close(s.st);
	sk_fleet_applier_free(&s.ap);
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
