/*
 * fleet_apply.c - storing messages from the bus, the fast way.
 *
 * What arrives on the bus is one STIX object per message (the hub
 * publishes versions, a sensor its sightings).  sk_fleet_import takes any
 * input the import takes, at the price of a reader, a framer, an import
 * state and a savepoint per message; here a message is parsed once into a
 * document reused for the whole batch, validated and stored with
 * sk_store_put, which applies the write rule (and with it the signature
 * check, the sender's identity and the dedup on id and version) and
 * writes nothing for a version it refuses, so no savepoint is needed.
 * Anything else (a bundle, an array) goes through sk_fleet_import.  A
 * sensor applies a whole fetched batch at once (sk_fleet_apply_batch), so
 * that its signatures, most of its time, are verified on several threads.
 */
#include "fleet_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schakel/buf.h"
#include "schakel/import.h"
#include "schakel/sign.h"
#include "schakel/stix.h"

static void refuse(const char *where, const char *msg)
{
	fprintf(stderr, "schakel: fleet: refused %s: %s\n", where, msg);
}

/*
 * An unsigned object whose producer has a pinned key is a forgery: that
 * producer signs what it makes (docs/provenance.md).
 */
static bool unsigned_claim(sk_store *st, const sk_jval *o, char *why, size_t n)
{
	const char *type = sk_json_str(sk_json_get(o, "type"));
	const char *by = sk_json_str(sk_json_get(o, "created_by_ref"));
	unsigned char pk[SK_KEY_PK_LEN];
	bool found = false;

	if (!by && type && !strcmp(type, "identity"))
		by = sk_json_str(sk_json_get(o, "id"));
	if (!by || sk_sig_present(o) || sk_store_key_get(st, by, pk, &found, NULL) || !found)
		return false;
	snprintf(why, n, "%s: unsigned, but its producer %s signs (its key is pinned)",
	         sk_json_str(sk_json_get(o, "id")), by);
	return true;
}

/*
 * Check a signed object's signature here (against the keys pinned for its
 * producer), so that it is timed apart from the store; a verified one is
 * not checked again by the write rule (info->presig, as the import's
 * verifier threads do), anything else is decided by the rule as before.
 */
static void presign(sk_store *st, sk_stix_info *info)
{
	sk_sig_verdict v = SK_SIG_UNSIGNED;
	if (!info->created_by_ref || !strcmp(info->type, "identity") || !sk_sig_present(info->obj))
		return;
	if (!sk_store_key_verify(st, info->created_by_ref, info->obj, &v, NULL) &&
	    v == SK_SIG_VERIFIED)
		info->presig = 1 + SK_SIG_VERIFIED;
}

int64_t sk_fleet_clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

enum { IT_REFUSED, IT_IMPORT, IT_PUT };

/*
 * Parse body into doc and decide: refused (logged), through the import
 * (not one object, or the slow way), or put (*o and *info filled).
 */
static int prepare(sk_fleet_applier *a, sk_store *st, sk_jdoc *doc, const char *body, size_t len,
                   const char *where, const sk_jval **o, sk_stix_info *info)
{
	const char *type;
	sk_error why;
	char claim[512];

	if (sk_json_parse(doc, body, len, o, &why)) {
		refuse(where, why.msg);
		return IT_REFUSED;
	}
	if (a->pinned_only_signed && unsigned_claim(st, *o, claim, sizeof(claim))) {
		refuse(where, claim);
		return IT_REFUSED;
	}
	type = sk_json_str(sk_json_get(*o, "type"));
	if (a->slow || !type || !strcmp(type, "bundle")) /* not one object */
		return IT_IMPORT;
	if (sk_stix_validate(*o, info, &why)) {
		refuse(where, why.msg);
		return IT_REFUSED;
	}
	return IT_PUT;
}

/* Store what prepare decided. */
static sk_err store(sk_store *st, const sk_origin *origin, int64_t cid, int state,
                    const sk_stix_info *info, const char *body, size_t len, const char *where,
                    uint64_t *stored, sk_error *err)
{
	sk_put_outcome out;
	sk_error why;
	sk_err rc;

	if (state == IT_REFUSED)
		return SK_OK;
	if (state == IT_IMPORT) {
		rc = sk_fleet_import(st, origin, cid, body, len, where, stored);
		sk_store_set_origin(st, origin); /* the import leaves none */
		return rc == SK_ENOMEM ? sk_error_set(err, rc, "%s: out of memory", where) : SK_OK;
	}
	rc = sk_store_put(st, cid, info, body, len, &out, NULL, &why);
	if (rc == SK_EPERM || rc == SK_ECONFLICT) { /* the write rule: nothing written */
		refuse(where, why.msg);
		return SK_OK;
	}
	if (rc) {
		*err = why;
		sk_error_prefix(err, "%s", where);
		return rc;
	}
	if (out == SK_PUT_NEW)
		++*stored;
	return SK_OK;
}

sk_err sk_fleet_apply(sk_fleet_applier *a, sk_store *st, const sk_origin *origin, int64_t cid,
                      const char *body, size_t len, const char *where, uint64_t *stored,
                      sk_error *err)
{
	const sk_jval *o = NULL;
	sk_stix_info info;
	int64_t t0 = a->profile ? sk_fleet_clock_ns() : 0, t1, t2;
	int state;
	sk_err rc;

	if (!a->doc && sk_json_doc_new(SK_IMPORT_DEFAULT_MAX_ELEMENT * 4, 0, &a->doc))
		return sk_error_set(err, SK_ENOMEM, "%s: out of memory", where);
	state = prepare(a, st, a->doc, body, len, where, &o, &info);
	t1 = a->profile ? sk_fleet_clock_ns() : 0;
	if (state == IT_PUT)
		presign(st, &info);
	t2 = a->profile ? sk_fleet_clock_ns() : 0;
	rc = store(st, origin, cid, state, &info, body, len, where, stored, err);
	if (a->profile) {
		a->ns_parse += t1 - t0;
		a->ns_verify += t2 - t1;
		a->ns_put += sk_fleet_clock_ns() - t2;
		a->msgs++;
	}
	return rc;
}

/* --- a batch: parsed and checked first, signatures verified on several threads -- */

struct sk_fleet_item {
	sk_jdoc *doc;
	const sk_jval *obj;
	sk_stix_info info;
	int state;
	long key; /* index into the batch's keys of the producer's pinned key, or -1 */
};

struct sk_fleet_key {
	char *identity;
	unsigned char pk[SK_KEY_PK_LEN];
	bool found;
};

/* The index of identity's pinned key in a->keys (looked up once per batch), or -1. */
static long key_for(sk_fleet_applier *a, sk_store *st, const char *identity)
{
	struct sk_fleet_key *k;
	for (size_t i = 0; i < a->nkeys; i++)
		if (!strcmp(a->keys[i].identity, identity))
			return a->keys[i].found ? (long)i : -1;
	if (a->nkeys == a->keycap) {
		size_t cap = a->keycap ? a->keycap * 2 : 8;
		struct sk_fleet_key *v = realloc(a->keys, cap * sizeof(*v));
		if (!v)
			return -1;
		a->keys = v;
		a->keycap = cap;
	}
	k = &a->keys[a->nkeys];
	if (!(k->identity = strdup(identity)))
		return -1;
	k->found = false;
	if (sk_store_key_get(st, identity, k->pk, &k->found, NULL))
		k->found = false;
	a->nkeys++;
	return k->found ? (long)(a->nkeys - 1) : -1;
}

typedef struct verify_job {
	sk_fleet_applier *a;
	size_t n, first, step;
} verify_job;

/*
 * Items first, first+step, ... of a batch: a signature that verifies with
 * the producer's key pinned at the start of the batch is trusted by the
 * write rule (presig, as the import's verifier threads do); anything else
 * is checked again by the rule with every key (rotations included).
 */
static void *verify_some(void *ud)
{
	verify_job *j = ud;
	sk_buf scratch;

	sk_buf_init(&scratch, 0);
	for (size_t i = j->first; i < j->n; i += j->step) {
		struct sk_fleet_item *it = &j->a->items[i];
		if (it->key >= 0 &&
		    sk_sig_verify(it->obj, j->a->keys[it->key].pk, &scratch) == SK_SIG_VERIFIED)
			it->info.presig = 1 + SK_SIG_VERIFIED;
	}
	sk_buf_free(&scratch);
	return NULL;
}

static void verify_batch(sk_fleet_applier *a, size_t n, size_t need)
{
	pthread_t th[SK_FLEET_VERIFIERS_MAX];
	verify_job job[SK_FLEET_VERIFIERS_MAX];
	size_t t = a->verifiers < 1                        ? 1
	           : a->verifiers > SK_FLEET_VERIFIERS_MAX ? SK_FLEET_VERIFIERS_MAX
	                                                   : a->verifiers;
	size_t started = 0;

	if (need < 32)
		t = 1; /* not worth a thread */
	for (size_t k = 0; k < t; k++)
		job[k] = (verify_job){.a = a, .n = n, .first = k, .step = t};
	for (size_t k = 1; k < t; k++) {
		if (pthread_create(&th[k], NULL, verify_some, &job[k]))
			break;
		started = k;
	}
	/* this thread takes its share, and the shares of threads that did not start */
	for (size_t k = 0; k < t; k++)
		if (k == 0 || k > started)
			verify_some(&job[k]);
	for (size_t k = 1; k <= started; k++)
		pthread_join(th[k], NULL);
}

sk_err sk_fleet_apply_batch(sk_fleet_applier *a, sk_store *st, const sk_origin *origin, int64_t cid,
                            natsMsgList *l, uint64_t *stored, sk_error *err)
{
	size_t n = (size_t)l->Count, need = 0;
	int64_t t0 = a->profile ? sk_fleet_clock_ns() : 0, t1, t2;
	char where[256];
	sk_err rc = SK_OK;

	if (n > a->itemcap) {
		struct sk_fleet_item *v = realloc(a->items, n * sizeof(*v));
		if (!v)
			return sk_error_set(err, SK_ENOMEM, "fleet batch: out of memory");
		memset(v + a->itemcap, 0, (n - a->itemcap) * sizeof(*v));
		a->items = v;
		a->itemcap = n;
	}
	for (size_t i = 0; i < n; i++) {
		struct sk_fleet_item *it = &a->items[i];
		const char *by;
		sk_fleet_where(l->Msgs[i], where, sizeof(where));
		it->key = -1;
		if (!it->doc && sk_json_doc_new(SK_IMPORT_DEFAULT_MAX_ELEMENT * 4, 0, &it->doc)) {
			rc = sk_error_set(err, SK_ENOMEM, "%s: out of memory", where);
			goto out;
		}
		it->state =
		    prepare(a, st, it->doc, natsMsg_GetData(l->Msgs[i]),
		            (size_t)natsMsg_GetDataLength(l->Msgs[i]), where, &it->obj, &it->info);
		by = it->state == IT_PUT ? it->info.created_by_ref : NULL;
		if (by && strcmp(it->info.type, "identity") && sk_sig_present(it->obj) &&
		    (it->key = key_for(a, st, by)) >= 0)
			need++;
	}
	t1 = a->profile ? sk_fleet_clock_ns() : 0;
	verify_batch(a, n, need);
	t2 = a->profile ? sk_fleet_clock_ns() : 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct sk_fleet_item *it = &a->items[i];
		sk_fleet_where(l->Msgs[i], where, sizeof(where));
		rc = store(st, origin, cid, it->state, &it->info, natsMsg_GetData(l->Msgs[i]),
		           (size_t)natsMsg_GetDataLength(l->Msgs[i]), where, stored, err);
	}
	if (a->profile) {
		a->ns_parse += t1 - t0;
		a->ns_verify += t2 - t1;
		a->ns_put += sk_fleet_clock_ns() - t2;
		a->msgs += n;
	}
out:
	for (size_t i = 0; i < a->nkeys; i++)
		free(a->keys[i].identity);
	a->nkeys = 0;
	return rc;
}

void sk_fleet_where(natsMsg *m, char *out, size_t n)
{
	snprintf(out, n, "nats:%s#%llu", natsMsg_GetSubject(m),
	         (unsigned long long)natsMsg_GetSequence(m));
}

void sk_fleet_applier_free(sk_fleet_applier *a)
{
	sk_json_doc_free(a->doc);
	for (size_t i = 0; i < a->itemcap; i++)
		sk_json_doc_free(a->items[i].doc);
	free(a->items);
	free(a->keys);
	a->doc = NULL;
	a->items = NULL;
	a->keys = NULL;
	a->itemcap = a->keycap = a->nkeys = 0;
}
