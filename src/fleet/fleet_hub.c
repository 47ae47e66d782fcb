/*
 * fleet_hub.c - the hub of a sensor fleet (`serve --fleet URL`).
 *
 * The publisher walks, per audience (a partner with sensors) and fleet
 * collection, the versions added after that pair's cursor (fleet_cursor,
 * the collection's date_added order), keeps those the sharing policy lets
 * the partner see (sk_policy_access / sk_policy_visible_rx, the decision
 * TAXII makes for it; never back to where a version came from), records
 * the exit (a fleet.publish audit entry listing the versions, committed
 * before anything is sent), publishes them asynchronously to the
 * audience's stream with message id "<id>|<modified>", and only when
 * JetStream has acknowledged every one advances the cursor, in a later
 * transaction.  A crash in between republishes the batch: JetStream drops
 * the duplicates inside its window, and sensors apply idempotently on (id,
 * modified) anyway.
 *
 * The sightings consumer is in fleet_sight.c.
 */
#include "fleet_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/account.h"
#include "schakel/audit.h"
#include "schakel/policy.h"
#include "store/store_priv.h"

#define MAX_STREAMS                                                                                \
	4096 /* audiences whose stream is known to exist (more are checked each round) */

typedef struct hub_pub {
	sk_fleet *f;
	sk_store *st;
	char **known;
	size_t nknown;
} hub_pub;

sk_err sk_fleet_ensure_stream(sk_fleet *f, const char *name, const char *subject, sk_error *err)
{
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	const char *subjects[1] = {subject};
	natsStatus ns = js_GetStreamInfo(&si, f->js, name, NULL, &jerr);

	if (ns == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return SK_OK;
	}
	if (ns != NATS_NOT_FOUND)
		return sk_fleet_natserr(err, ns, jerr, name);
	jsStreamConfig_Init(&sc);
	sc.Name = name;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Replicas = f->cfg.replicas ? (int64_t)f->cfg.replicas : 1;
	sc.Duplicates = (int64_t)10 * 60 * 1000000000LL; /* 10 min: longer than any hub restart */
	ns = js_AddStream(&si, f->js, &sc, NULL, &jerr);
	if (ns != NATS_OK && jerr != JSStreamNameExistErr)
		return sk_fleet_natserr(err, ns, jerr, name);
	jsStreamInfo_Destroy(si);
	fprintf(stderr, "schakel: fleet: stream %s (%s) ready\n", name, subject);
	return SK_OK;
}

static sk_err hub_stream(hub_pub *h, const char *aud, sk_error *err)
{
	char name[160], subj[160];
	sk_err rc;
	for (size_t i = 0; i < h->nknown; i++)
		if (!strcmp(h->known[i], aud))
			return SK_OK;
	sk_fleet_stream_name(aud, name, sizeof(name));
	sk_fleet_objects_subject(aud, subj, sizeof(subj));
	if ((rc = sk_fleet_ensure_stream(h->f, name, subj, err)))
		return rc;
	if (h->nknown < MAX_STREAMS && (h->known[h->nknown] = strdup(aud)))
		h->nknown++;
	return SK_OK;
}

static int64_t load_cursor(sk_store *st, const char *aud, int64_t cid)
{
	static const char q[] = "SELECT cursor FROM fleet_cursor WHERE audience=?1 AND coll=?2";
	sqlite3_stmt *s = NULL;
	int64_t c = 0;
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, NULL))
		return -1;
	sqlite3_bind_text(s, 1, aud, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, cid);
	if (sqlite3_step(s) == SQLITE_ROW)
		c = sqlite3_column_int64(s, 0);
	sk_store_stmt_put(st, s);
	return c;
}

/*
 * Record the exit before it happens: the fleet.publish entry listing the
 * versions about to be published, in its own committed transaction.
 */
static sk_err audit_batch(hub_pub *h, const char *aud, const sk_collection *c, const int64_t *vers,
                          size_t n, sk_error *err)
{
	char stream[160], detail[512];
	sk_err rc;

	sk_fleet_stream_name(aud, stream, sizeof(stream));
	snprintf(detail, sizeof(detail), "{\"stream\":\"%s\",\"collection\":\"%s\"}", stream,
	         c->uuid);
	sk_audit_entry e = {.action = "fleet.publish",
	                    .subject = aud,
	                    .detail = detail,
	                    .vers = vers,
	                    .nvers = n,
	                    .exit = true};
	if ((rc = sk_store_begin(h->st, err)))
		return rc;
	if ((rc = sk_audit_append(h->st, &e, err))) {
		sk_store_rollback(h->st);
		return rc;
	}
	return sk_store_commit(h->st, err);
}

/* Advance the cursor past an acknowledged batch (n versions published). */
static sk_err advance_cursor(hub_pub *h, const char *aud, const sk_collection *c, int64_t last,
                             size_t n, sk_error *err)
{
	static const char q[] =
	    "INSERT INTO fleet_cursor(audience, coll, cursor, published) VALUES(?1,?2,?3,?4)"
	    " ON CONFLICT(audience, coll) DO UPDATE SET cursor=?3, published=published+?4";
	sqlite3_stmt *s = NULL;
	sk_err rc;

	if ((rc = sk_store_stmt_get(h->st, q, sizeof(q) - 1, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, aud, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, c->cid);
	sqlite3_bind_int64(s, 3, last);
	sqlite3_bind_int64(s, 4, (int64_t)n);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(h->st, err, "fleet cursor");
	sk_store_stmt_put(h->st, s);
	return rc;
}

/* The versions of one batch that go out: their message ids and bodies. */
typedef struct pub_batch {
	int64_t *vers;
	char **msgid, **body;
	int *len;
	size_t n;
} pub_batch;

static void pub_batch_clear(pub_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->msgid[i]);
		free(b->body[i]);
	}
	free(b->vers);
	free(b->msgid);
	free(b->body);
	free(b->len);
	memset(b, 0, sizeof(*b));
}

static bool pub_batch_add(pub_batch *b, sqlite3_stmt *s)
{
	size_t i = b->n;
	const char *id = (const char *)sqlite3_column_text(s, 2);
	const char *mod = (const char *)sqlite3_column_text(s, 3);
	int len = sqlite3_column_bytes(s, 7);
	size_t ml = strlen(id) + strlen(mod) + 2;

	if (!(b->msgid[i] = malloc(ml)))
		return false;
	snprintf(b->msgid[i], ml, "%s|%s", id, mod);
	if (!(b->body[i] = malloc((size_t)len + 1))) {
		free(b->msgid[i]);
		return false;
	}
	memcpy(b->body[i], sqlite3_column_text(s, 7), (size_t)len + 1);
	b->len[i] = len;
	b->vers[i] = sqlite3_column_int64(s, 1);
	b->n++;
	return true;
}

/*
 * One batch of collection c for audience aud: the number of versions
 * walked, or -1.  Recorded before sent: the audit entry commits first, then
 * the batch is published (asynchronously, one wait for all the acks), then
 * the cursor moves in a later transaction.  A crash between the two
 * republishes the same message ids, which JetStream's duplicate window
 * drops (and sensors apply idempotently); the audit then lists the batch
 * twice, never not at all.
 */
static long publish_batch(hub_pub *h, const char *aud, const sk_principal *p,
                          const sk_collection *c, sk_error *err)
{
	static const char q[] =
	    "SELECT co.date_added, o.ver, o.id, COALESCE(o.modified, o.version, ''), o.tlp,"
	    " o.created_by, o.rx, o.json FROM collection_objects co JOIN objects o ON o.ver=co.ver"
	    " WHERE co.coll=?1 AND co.date_added>?2 ORDER BY co.date_added LIMIT ?3";
	sk_fleet *f = h->f;
	char subj[160];
	sqlite3_stmt *s = NULL;
	int64_t cur, last = 0;
	pub_batch b = {0};
	size_t cap = f->cfg.batch * 4; /* one wait for the acks of up to 4096 */
	long rows = 0;
	sk_access a;
	jsPubOptions po;
	natsStatus ns = NATS_OK;
	int step;

	if (sk_policy_access(h->st, p, c, &a, err))
		return -1;
	if (!sk_policy_can_read(&a))
		return 0;
	if ((cur = load_cursor(h->st, aud, c->cid)) < 0) {
		sk_error_set(err, SK_EDB, "fleet cursor");
		return -1;
	}
	b.vers = malloc(sizeof(*b.vers) * cap);
	b.msgid = calloc(cap, sizeof(char *));
	b.body = calloc(cap, sizeof(char *));
	b.len = calloc(cap, sizeof(int));
	if (!b.vers || !b.msgid || !b.body || !b.len) {
		pub_batch_clear(&b);
		sk_error_set(err, SK_ENOMEM, "out of memory");
		return -1;
	}
	sk_fleet_objects_subject(aud, subj, sizeof(subj));
	if (sk_store_stmt_get(h->st, q, sizeof(q) - 1, &s, err)) {
		pub_batch_clear(&b);
		return -1;
	}
	sqlite3_bind_int64(s, 1, c->cid);
	sqlite3_bind_int64(s, 2, cur);
	sqlite3_bind_int(s, 3, (int)cap);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *by = (const char *)sqlite3_column_text(s, 5);
		const char *rx = (const char *)sqlite3_column_text(s, 6);
		rows++;
		last = sqlite3_column_int64(s, 0);
		if (!sk_policy_visible_rx(&a, (sk_tlp)sqlite3_column_int(s, 4), by, rx) ||
		    (rx && !strcmp(rx, p->identity)))
			continue; /* not for this partner, or its own coming back */
		if (!pub_batch_add(&b, s)) {
			step = SQLITE_NOMEM;
			break;
		}
	}
	sk_store_stmt_put(h->st, s);
	if (step != SQLITE_DONE) {
		sk_error_set(err, SK_EDB, "fleet: reading collection %s (%d)", c->uuid, step);
		rows = -1;
		goto out;
	}
	if (b.n && audit_batch(h, aud, c, b.vers, b.n, err)) {
		rows = -1;
		goto out;
	}
	atomic_store(&f->pub_errors, 0);
	for (size_t i = 0; i < b.n && ns == NATS_OK; i++) {
		jsPubOptions_Init(&po);
		po.MsgId = b.msgid[i];
		po.MaxWait = SK_FLEET_ACK_WAIT;
		ns = js_PublishAsync(f->js, subj, b.body[i], b.len[i], &po);
	}
	if (ns == NATS_OK && b.n) {
		jsPubOptions_Init(&po);
		po.MaxWait = 30000;
		ns = js_PublishAsyncComplete(f->js, &po);
	}
	if (ns != NATS_OK || atomic_load(&f->pub_errors)) {
		sk_fleet_natserr(err, ns == NATS_OK ? NATS_ERR : ns, 0, "publishing to the fleet");
		sk_fleet_pub_forget(f);
		rows = -1;
	} else if (rows && advance_cursor(h, aud, c, last, b.n, err)) {
		rows = -1;
	}
out:
	pub_batch_clear(&b);
	return rows;
}

typedef struct strs {
	char **v;
	size_t n;
} strs;

static void strs_free(strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static sk_err column_list(sk_store *st, const char *q, strs *out, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "fleet");
	while (sqlite3_step(s) == SQLITE_ROW) {
		char **nv = realloc(out->v, (out->n + 1) * sizeof(*nv));
		if (!nv || !(nv[out->n] = strdup((const char *)sqlite3_column_text(s, 0)))) {
			if (nv)
				out->v = nv;
			sqlite3_finalize(s);
			strs_free(out);
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		}
		out->v = nv;
		out->n++;
	}
	sqlite3_finalize(s);
	return SK_OK;
}

/* One round over every audience and fleet collection: versions walked, or -1. */
static long publish_round(hub_pub *h, sk_error *err)
{
	strs auds, colls;
	long total = 0;

	if (column_list(h->st, "SELECT DISTINCT partner FROM fleet_sensors ORDER BY 1", &auds, err))
		return -1;
	if (column_list(h->st, "SELECT uuid FROM collections WHERE fleet=1 ORDER BY cid", &colls,
	                err)) {
		strs_free(&auds);
		return -1;
	}
	for (size_t i = 0; i < auds.n && total >= 0; i++) {
		sk_principal p;
		if (sk_partner_principal(h->st, auds.v[i], &p, err) ||
		    hub_stream(h, auds.v[i], err)) {
			total = -1;
			break;
		}
		for (size_t j = 0; j < colls.n && total >= 0; j++) {
			sk_collection c;
			long n;
			if (sk_store_collection_get(h->st, colls.v[j], &c, err)) {
				total = -1;
				break;
			}
			n = publish_batch(h, auds.v[i], &p, &c, err);
			sk_collection_clear(&c);
			total = n < 0 ? -1 : total + n;
		}
	}
	strs_free(&auds);
	strs_free(&colls);
	return total;
}

void *sk_fleet_hub_publisher(void *arg)
{
	hub_pub h = {.f = arg};
	unsigned backoff = 0;
	sk_error err;

	if (sk_store_open(h.f->db_path, 0, &h.st, &err)) {
		fprintf(stderr, "schakel: fleet: %s\n", err.msg);
		return NULL;
	}
	sk_audit_set_actor(h.st, "fleet");
	h.known = calloc(MAX_STREAMS, sizeof(char *));
	while (h.known && !atomic_load(&h.f->stop)) {
		long n = publish_round(&h, &err);
		if (n < 0) {
			fprintf(stderr, "schakel: fleet: %s (retrying)\n", err.msg);
			backoff = backoff ? (backoff < 5000 ? backoff * 2 : 5000) : 200;
			sk_fleet_nap(h.f, backoff);
		} else {
			backoff = 0;
			if (n == 0) /* another process may write: look again soon */
				sk_fleet_nap(h.f, 20);
		}
	}
	for (size_t i = 0; i < h.nknown; i++)
		free(h.known[i]);
	free(h.known);
	sk_store_close(h.st);
	return NULL;
}

sk_err sk_fleet_hub_start(const sk_fleet_config *cfg, sk_fleet **out, sk_error *err)
{
	char seed[SK_NKEY_SEED_LEN + 1];
	sk_store *st = NULL;
	sk_fleet *f;
	sk_err rc;

	*out = NULL;
	if (!(f = sk_fleet_new(cfg, err)))
		return SK_ENOMEM;
	if ((rc = sk_store_open(cfg->db_path, 0, &st, err)))
		goto fail;
	rc = sk_fleet_hub_seed(st, seed, err);
	sk_store_close(st);
	if (rc || (rc = sk_fleet_connect(f, seed, err)))
		goto fail;
	sodium_memzero(seed, sizeof(seed));
	if (pthread_create(&f->th[0], NULL, sk_fleet_hub_publisher, f)) {
		rc = sk_error_set(err, SK_EIO, "cannot start the fleet publisher");
		goto fail;
	}
	f->nth = 1;
	if (pthread_create(&f->th[1], NULL, sk_fleet_hub_sightings, f) == 0)
		f->nth = 2;
	*out = f;
	return SK_OK;
fail:
	sodium_memzero(seed, sizeof(seed));
	sk_fleet_stop(f);
	return rc;
}
