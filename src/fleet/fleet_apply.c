/*
 * fleet_apply.c - storing one message from the bus, the fast way.
 *
 * What arrives on the bus is one STIX object per message (the hub
 * publishes versions, a sensor its sightings).  sk_fleet_import takes any
 * input the import takes, at the price of a reader, a framer, an import
 * state and a savepoint per message; here a message is parsed once into a
 * document reused for the whole batch, validated and stored with
 * sk_store_put, which applies the write rule (and with it the signature
 * check, the sender's identity and the dedup on id and version) and
 * writes nothing for a version it refuses, so no savepoint is needed.
 * Anything else (a bundle, an array) goes through sk_fleet_import.
 */
#include "fleet_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

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

sk_err sk_fleet_apply(sk_fleet_applier *a, sk_store *st, const sk_origin *origin, int64_t cid,
                      const char *body, size_t len, const char *where, uint64_t *stored,
                      sk_error *err)
{
	const sk_jval *o = NULL;
	sk_stix_info info;
	sk_put_outcome out;
	sk_error why;
	char claim[512];
	int64_t t0 = a->profile ? sk_fleet_clock_ns() : 0, t1, t2;
	sk_err rc;

	if (!a->doc && sk_json_doc_new(SK_IMPORT_DEFAULT_MAX_ELEMENT * 4, 0, &a->doc))
		return sk_error_set(err, SK_ENOMEM, "%s: out of memory", where);
	if (sk_json_parse(a->doc, body, len, &o, &why)) {
		refuse(where, why.msg);
		return SK_OK;
	}
	if (a->pinned_only_signed && unsigned_claim(st, o, claim, sizeof(claim))) {
		refuse(where, claim);
		return SK_OK;
	}
	if (a->slow || !sk_json_str(sk_json_get(o, "type")) ||
	    !strcmp(sk_json_str(sk_json_get(o, "type")), "bundle")) { /* not one object */
		rc = sk_fleet_import(st, origin, cid, body, len, where, stored);
		sk_store_set_origin(st, origin); /* the import leaves none */
		return rc == SK_ENOMEM ? sk_error_set(err, rc, "%s: out of memory", where) : SK_OK;
	}
	if (sk_stix_validate(o, &info, &why)) {
		refuse(where, why.msg);
		return SK_OK;
	}
	t1 = a->profile ? sk_fleet_clock_ns() : 0;
	presign(st, &info);
	t2 = a->profile ? sk_fleet_clock_ns() : 0;
	rc = sk_store_put(st, cid, &info, body, len, &out, NULL, &why);
	if (a->profile) {
		int64_t t3 = sk_fleet_clock_ns();
		a->ns_parse += t1 - t0;
		a->ns_verify += t2 - t1;
		a->ns_put += t3 - t2;
		a->msgs++;
	}
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

void sk_fleet_applier_free(sk_fleet_applier *a)
{
	sk_json_doc_free(a->doc);
	a->doc = NULL;
}
