/*
 * fleet_sight.c - the hub's sightings consumer: the sensors' sightings
 * into the hub's store.
 *
 * It reads the sightings stream with the durable consumer "hub" in large
 * batches and stores each fetched batch in one transaction, then
 * acknowledges every message (after the commit, never before).  Each
 * sighting is stored through the write rule as received from its sensor's
 * partner, into the collection holding what it sighted (a fleet one
 * first): parsed once, validated and put (sk_fleet_apply), a refused one
 * skipped; should the store fail inside a batch, the batch is rolled back
 * and taken again through the import, a savepoint per message, so a bad
 * message refuses only itself.  The work that repeats is done once per
 * batch: the lookups of a sensor's partner and unmarked level, and of the
 * collection of each sighted object (found by a scan of the message, not
 * a parse); the sensors' counters are updated once per batch.
 */
#include "fleet_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/policy.h"
#include "schakel/timestamp.h"
#include "store/store_priv.h"

#define SIGHT_PREFIX "schakel.fleet.sightings."
#define REF_SLOTS    8192 /* sighted objects whose collection is remembered: a hash table */
#define REF_MAX      256  /* an identifier's length, with its NUL */
/* the consumer's page cache (sk_store_bulk), as a TAXII pull's: see sk_store_cache_kib */
#define SIGHT_CACHE_KIB (128 * 1024)

typedef struct source {
	const char *sensor; /* into a message's subject */
	size_t len;
	char ident[SK_IDENTITY_ID_MAX + 1];
	sk_tlp unmarked;
	bool known;
	uint64_t stored;
} source;

typedef struct ref_coll {
	char *ref;
	int64_t cid;
} ref_coll;

/* What one fetched batch needs to know, remembered for the batch. */
typedef struct sight_batch {
	sk_store *st;
	source *src; /* the batch's sensors, grown as needed */
	size_t nsrc, srccap;
	ref_coll refs[REF_SLOTS]; /* open addressing, at most half full */
	size_t nrefs;
	int64_t fallback; /* the first fleet collection, -1 = not looked up */
	sk_fleet_applier ap;
} sight_batch;

static void lookup_source(sk_store *st, source *s)
{
	static const char q[] = "SELECT p.identity FROM fleet_sensors s JOIN partners p"
	                        " ON p.name=s.partner WHERE s.name=?1";
	sqlite3_stmt *stmt = NULL;
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &stmt, NULL))
		return;
	sqlite3_bind_text(stmt, 1, s->sensor, (int)s->len, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		snprintf(s->ident, sizeof(s->ident), "%s",
		         (const char *)sqlite3_column_text(stmt, 0));
		s->known = true;
	}
	sk_store_stmt_put(st, stmt);
	if (s->known)
		s->unmarked = sk_policy_unmarked(st, s->ident);
}

/* The index of the message's sensor in b->src, or -1 (no sensor, out of memory). */
static long source_of(sight_batch *b, natsMsg *m)
{
	const char *subj = natsMsg_GetSubject(m), *name;
	source *s;
	size_t len;

	if (strncmp(subj, SIGHT_PREFIX, sizeof(SIGHT_PREFIX) - 1))
		return -1;
	name = subj + sizeof(SIGHT_PREFIX) - 1;
	len = strlen(name);
	for (size_t i = 0; i < b->nsrc; i++)
		if (b->src[i].len == len && !memcmp(b->src[i].sensor, name, len))
			return b->src[i].known ? (long)i : -1;
	if (b->nsrc == b->srccap) {
		size_t cap = b->srccap ? b->srccap * 2 : 16;
		source *v = realloc(b->src, cap * sizeof(*v));
		if (!v)
			return -1;
		b->src = v;
		b->srccap = cap;
	}
	s = &b->src[b->nsrc++];
	memset(s, 0, sizeof(*s));
	s->sensor = name;
	s->len = len;
	lookup_source(b->st, s);
	if (!s->known)
		fprintf(stderr, "schakel: fleet: sighting from unknown sensor '%s' dropped\n",
		        name);
	return s->known ? (long)(s - b->src) : -1;
}

static int64_t query_cid(sk_store *st, const char *q, size_t qlen, const char *ref)
{
	sqlite3_stmt *s = NULL;
	int64_t cid = 0;
	if (sk_store_stmt_get(st, q, qlen, &s, NULL))
		return 0;
	if (ref)
		sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		cid = sqlite3_column_int64(s, 0);
	sk_store_stmt_put(st, s);
	return cid;
}

/*
 * The value of the key "sighting_of_ref" in body, found without parsing
 * the whole object (most of a batch's cost otherwise): the first
 * occurrence of the key that is not inside a string, followed by ':' and a
 * plain string (no escapes; an identifier has none).  Copied into out;
 * false when not found that way (then the object is parsed).  Which
 * collection a sighting joins is the sender's choice anyway (it names
 * what it sighted), so this decides nothing the sender could not.
 */
static bool scan_ref(const char *body, size_t len, char *out, size_t n)
{
	static const char key[] = "\"sighting_of_ref\"";
	const char *p = body, *end = body + len, *q;
	size_t bs;

	for (; (q = memchr(p, '"', (size_t)(end - p))); p = q + 1) {
		if ((size_t)(end - q) < sizeof(key) - 1 || memcmp(q, key, sizeof(key) - 1))
			continue;
		for (bs = 0; q - bs > body && q[-(ptrdiff_t)bs - 1] == '\\'; bs++)
			;
		p = q + sizeof(key) - 1;
		if (bs % 2) /* an escaped quote: inside a string */
			continue;
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (p >= end || *p != ':')
			continue; /* a string value, not the key */
		for (p++; p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'); p++)
			;
		if (p >= end || *p != '"')
			return false;
		p++;
		q = p;
		while (q < end && *q != '"' && *q != '\\')
			q++;
		if (q >= end || *q != '"' || (size_t)(q - p) >= n)
			return false;
		memcpy(out, p, (size_t)(q - p));
		out[q - p] = '\0';
		return true;
	}
	return false;
}

/* ref's slot in b->refs: the one holding it, or the empty one where it goes. */
static ref_coll *ref_slot(sight_batch *b, const char *ref)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)ref; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	for (size_t i = (size_t)h & (REF_SLOTS - 1);; i = (i + 1) & (REF_SLOTS - 1))
		if (!b->refs[i].ref || !strcmp(b->refs[i].ref, ref))
			return &b->refs[i];
}

/* The collection a sighting goes to: one holding what it sighted (a fleet one first). */
static int64_t sighting_coll(sight_batch *b, natsMsg *m)
{
	static const char q[] =
	    "SELECT c.cid FROM collections c WHERE EXISTS (SELECT 1 FROM collection_objects co"
	    " WHERE co.coll=c.cid AND co.ver IN (SELECT ver FROM objects WHERE id=?1))"
	    " ORDER BY c.fleet DESC, c.cid LIMIT 1";
	static const char qf[] = "SELECT cid FROM collections WHERE fleet=1 ORDER BY cid LIMIT 1";
	const char *body = natsMsg_GetData(m);
	size_t len = (size_t)natsMsg_GetDataLength(m);
	char buf[REF_MAX];
	const char *ref = NULL;
	json_t *o = NULL;
	int64_t cid = 0;

	if (scan_ref(body, len, buf, sizeof(buf))) {
		ref = buf;
	} else if ((o = json_loadb(body, len, 0, NULL))) {
		ref = json_string_value(json_object_get(o, "sighting_of_ref"));
	}
	ref_coll *slot = ref ? ref_slot(b, ref) : NULL;
	if (slot && slot->ref) {
		json_decref(o);
		return slot->cid;
	}
	if (ref)
		cid = query_cid(b->st, q, sizeof(q) - 1, ref);
	if (!cid) {
		if (b->fallback < 0)
			b->fallback = query_cid(b->st, qf, sizeof(qf) - 1, NULL);
		cid = b->fallback;
	}
	if (slot && b->nrefs < REF_SLOTS / 2 && (slot->ref = strdup(ref))) {
		slot->cid = cid;
		b->nrefs++;
	}
	json_decref(o);
	return cid;
}

/*
 * msgs[0..n) are from sensor s for collection cid.  Fast (slow false):
 * each parsed once and stored with sk_store_put, a refused one skipped
 * (the rule writes nothing for it); an error of the store is returned and
 * the caller rolls back the batch and takes it again slowly: each message
 * through the import in its savepoint, so an error refuses only itself.
 */
static sk_err take_run(sight_batch *b, source *s, int64_t cid, natsMsg **msgs, int n, bool slow,
                       sk_error *err)
{
	sk_origin origin = {.rx = s->ident, .unmarked = s->unmarked};
	char where[256];
	sk_err rc = SK_OK;

	sk_store_set_origin(b->st, &origin);
	b->ap.slow = slow;
	for (int i = 0; i < n && !rc; i++) {
		sk_fleet_where(msgs[i], where, sizeof(where));
		rc = sk_fleet_apply(&b->ap, b->st, &origin, cid, natsMsg_GetData(msgs[i]),
		                    (size_t)natsMsg_GetDataLength(msgs[i]), where, &s->stored, err);
	}
	sk_store_set_origin(b->st, NULL);
	return rc;
}

typedef struct sight_ref {
	long src;    /* index into the batch's sensors, -1 = dropped */
	int64_t cid; /* the collection it goes to */
	int i;       /* position in the batch */
	natsMsg *m;
} sight_ref;

/* By sensor, then collection, then arrival: each sensor's messages keep their order. */
static int sight_cmp(const void *a, const void *b)
{
	const sight_ref *x = a, *y = b;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	if (x->cid != y->cid)
		return x->cid < y->cid ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/*
 * Store one fetched batch (the caller's transaction is open): grouped by
 * sensor and collection, one run each.  Messages of different sensors are
 * different objects, so only each sensor's own order matters.
 */
static sk_err take_batch(sight_batch *b, natsMsgList *l, bool slow, sk_error *err)
{
	static const char qs[] = "UPDATE fleet_sensors SET sightings=sightings+?2, last_seen=?3"
	                         " WHERE name=?1";
	sight_ref *r = calloc((size_t)l->Count, sizeof(*r));
	natsMsg **msgs = calloc((size_t)l->Count, sizeof(*msgs));
	int64_t now = sk_ts_now_us();
	sk_err rc = SK_OK;

	if (!r || !msgs) {
		rc = sk_error_set(err, SK_ENOMEM, "sightings: out of memory");
		goto out;
	}
	b->nsrc = 0;
	b->fallback = -1;
	for (int i = 0; i < l->Count; i++) {
		r[i].i = i;
		r[i].m = l->Msgs[i];
		r[i].src = source_of(b, l->Msgs[i]);
		if (r[i].src >= 0)
			r[i].cid = sighting_coll(b, l->Msgs[i]);
	}
	qsort(r, (size_t)l->Count, sizeof(*r), sight_cmp);
	for (int i = 0; i < l->Count; i++)
		msgs[i] = r[i].m;
	for (int i = 0, j; i < l->Count && !rc; i = j) {
		for (j = i + 1; j < l->Count && r[j].src == r[i].src && r[j].cid == r[i].cid; j++)
			;
		if (r[i].src >= 0)
			rc = take_run(b, &b->src[r[i].src], r[i].cid, msgs + i, j - i, slow, err);
	}
	for (size_t i = 0; !rc && i < b->nsrc; i++) {
		sqlite3_stmt *s = NULL;
		if (!b->src[i].known || sk_store_stmt_get(b->st, qs, sizeof(qs) - 1, &s, NULL))
			continue;
		sqlite3_bind_text(s, 1, b->src[i].sensor, (int)b->src[i].len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (int64_t)b->src[i].stored);
		sqlite3_bind_int64(s, 3, now);
		sqlite3_step(s);
		sk_store_stmt_put(b->st, s);
	}
out:
	for (size_t i = 0; b->nrefs && i < REF_SLOTS; i++) {
		free(b->refs[i].ref);
		b->refs[i].ref = NULL;
	}
	b->nrefs = 0;
	free(r);
	free(msgs);
	return rc;
}

/*
 * One fetched batch in one transaction, the fast way; if the store fails
 * in it, rolled back and taken again the slow way.  SK_OK once committed.
 */
static sk_err store_batch(sight_batch *b, natsMsgList *l, sk_error *err)
{
	sk_err rc = SK_OK;
	for (int slow = 0; slow < 2; slow++) {
		if ((rc = sk_store_begin(b->st, err)))
			return rc;
		if (!(rc = take_batch(b, l, slow, err)) && !(rc = sk_store_commit(b->st, err)))
			return SK_OK;
		sk_store_rollback(b->st);
		if (!slow)
			fprintf(stderr,
			        "schakel: fleet: sightings: %s (taking the batch again, "
			        "message by message)\n",
			        err->msg);
	}
	return rc;
}

static natsSubscription *subscribe_hub(sk_fleet *f)
{
	natsSubscription *sub = NULL;
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus ns;
	sk_error err;

	while (!atomic_load(&f->stop)) {
		jsSubOptions_Init(&so);
		so.Stream = SK_FLEET_SIGHTINGS_STREAM;
		so.Config.AckPolicy = js_AckExplicit;
		so.Config.MaxAckPending = 20000;
		if (sk_fleet_ensure_stream(f, SK_FLEET_SIGHTINGS_STREAM, SIGHT_PREFIX ">", &err))
			ns = NATS_ERR;
		else if ((ns = js_PullSubscribe(&sub, f->js, SIGHT_PREFIX ">",
		                                SK_FLEET_HUB_CONSUMER, NULL, &so, &jerr)) !=
		         NATS_OK)
			sk_fleet_natserr(&err, ns, jerr, "sightings consumer");
		if (ns == NATS_OK)
			return sub;
		fprintf(stderr, "schakel: fleet: %s (retrying)\n", err.msg);
		sub = NULL;
		sk_fleet_nap(f, 1000);
	}
	return NULL;
}

void *sk_fleet_hub_sightings(void *arg)
{
	sk_fleet *f = arg;
	natsSubscription *sub = NULL;
	sight_batch *b = calloc(1, sizeof(*b));
	sk_fleet_pull pull = {0};
	sk_error err;

	if (!b)
		return NULL;
	if (sk_store_open(f->db_path, 0, &b->st, &err)) {
		fprintf(stderr, "schakel: fleet: %s\n", err.msg);
		goto out;
	}
	/* a bulk writer: a larger page cache, the WAL checkpointed beside this thread */
	if (sk_store_bulk(b->st, true, SIGHT_CACHE_KIB, &err))
		fprintf(stderr, "schakel: fleet: sightings: %s\n", err.msg);
	sub = subscribe_hub(f); /* makes or binds the durable consumer */
	if (sub && sk_fleet_pull_open(&pull, f->nc, SK_FLEET_SIGHTINGS_STREAM,
	                              SK_FLEET_HUB_CONSUMER, &err)) {
		fprintf(stderr, "schakel: fleet: %s\n", err.msg);
		goto out;
	}
	while (sub && !atomic_load(&f->stop)) {
		natsMsgList list = {0};
		natsStatus ns = sk_fleet_pull_next(&pull, (int)f->cfg.batch * 8, 500, &list);
		if (ns == NATS_TIMEOUT)
			continue;
		if (ns != NATS_OK) {
			fprintf(stderr, "schakel: fleet: sightings: %s\n", natsStatus_GetText(ns));
			sk_fleet_nap(f, 500);
			continue;
		}
		if (store_batch(b, &list, &err)) {
			fprintf(stderr, "schakel: fleet: sightings: %s\n", err.msg);
			sk_fleet_nap(f, 500); /* not acknowledged: redelivered after the ack wait */
		} else {
			for (int i = 0; i < list.Count; i++) /* after the commit, never before */
				sk_fleet_pull_ack(&pull, list.Msgs[i]);
		}
		natsMsgList_Destroy(&list);
	}
out:
	sk_fleet_pull_close(&pull);
	natsSubscription_Destroy(sub);
	if (b->st)
		sk_store_bulk(b->st, false, 0, NULL);
	sk_store_close(b->st);
	sk_fleet_applier_free(&b->ap);
	free(b->src);
	free(b);
	return NULL;
}
