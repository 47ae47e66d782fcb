/*
 * store_rule.c - the write rule: who may create or version what, and what is
 * recorded beside a version when it arrives (its source and the marking it
 * arrived under).  sk_store_put asks it before every write, so one rule
 * holds on every path into the store: TAXII POST, pull, import, feeds and
 * objects built here.  The contract is docs/sharing-policy.md, "The write
 * rule"; docs/threat-model.md says what it defends against.
 *
 * The writer is where the versions being put come from (sk_origin.rx: a
 * partner's or peer's identity, "peer:NAME", SK_RX_UNKNOWN for a file of
 * unnamed origin); NULL is this node.  An object's producer is the
 * created_by_ref of its first stored version, and its first source the rx
 * of that version.  Only they may store further versions of it.
 */
#include "store_int.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/canon.h"
#include "schakel/json.h"
#include "schakel/sign.h"
#include "schakel/timestamp.h"

/* How far ahead of this node's clock a version may be dated (docs/threat-model.md). */
#define CLOCK_SKEW_US ((int64_t)300 * 1000000)

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static char *dup_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? strdup((const char *)t) : NULL;
}

/*
 * Is id one of this node's identities (its own, its anonymous ones)?  The
 * anonymous one, and whether per-sighting anonymous identities exist at all,
 * are read once per transaction (another connection may make them), so the
 * check costs no query per object unless the node has per-sighting ones.
 */
static sk_err is_own(sk_store *st, const char *id, bool *own, sk_error *err)
{
	const char *node = sk_store_own_id(st);

	*own = false;
	if (!id)
		return SK_OK;
	if (!st->anon_read) {
		sqlite3_stmt *s;
		sk_err rc = sk_store_hot_stmt(st, S_RULE_OWN, &s, err);
		if (rc)
			return rc;
		free(st->anon_id);
		st->anon_id = NULL;
		if (sqlite3_step(s) == SQLITE_ROW &&
		    !(st->anon_id = strdup((const char *)sqlite3_column_text(s, 0)))) {
			sqlite3_reset(s);
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		}
		sqlite3_reset(s);
		if ((rc = sk_store_hot_stmt(st, S_RULE_ANY_ANON, &s, err)))
			return rc;
		st->anon_many = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0);
		sqlite3_reset(s);
		st->anon_read = true;
	}
	*own = (node && !strcmp(id, node)) || (st->anon_id && !strcmp(id, st->anon_id));
	if (!*own && st->anon_many) { /* one of the per-sighting ones (node/sync_node.c) */
		sqlite3_stmt *s;
		sk_err rc = sk_store_hot_stmt(st, S_RULE_OWN_ANON, &s, err);
		if (rc)
			return rc;
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		*own = sqlite3_step(s) == SQLITE_ROW;
		sqlite3_reset(s);
	}
	return SK_OK;
}

/* Do a's and b's timestamp `key` name the same instant ("...:00Z" = "...:00.000Z")? */
static bool same_instant(json_t *a, json_t *b, const char *key)
{
	const char *sa = json_string_value(json_object_get(a, key));
	const char *sb = json_string_value(json_object_get(b, key));
	char ka[SK_TS_KEY_LEN + 1], kb[SK_TS_KEY_LEN + 1];
	int64_t us;

	if (!sa || !sb)
		return sa == sb && !json_object_get(a, key) == !json_object_get(b, key);
	return sk_ts_parse(sa, strlen(sa), ka, &us) && sk_ts_parse(sb, strlen(sb), kb, &us) &&
	       !strcmp(ka, kb);
}

/*
 * The same content: the same bytes, or the same JSON value written
 * differently (key order, spacing, a timestamp's precision).
 */
/*
 * A short hash of json's content, "blake2b:" and 16 hex digits of BLAKE2b-256
 * over its RFC 8785 canonical form without the signature extension (so key
 * order, white space and a signature do not change it), for naming the two
 * contents of a conflict; the raw bytes' hash if it does not parse.
 */
static void content_hash(const char *json, size_t len, char out[32])
{
	unsigned char h[32];
	sk_jdoc *doc = NULL;
	const sk_jval *root;
	sk_buf b;
	sk_error e;

	sk_buf_init(&b, (size_t)64 << 20);
	if (!sk_json_doc_new(0, 0, &doc) && !sk_json_parse(doc, json, len, &root, &e) &&
	    !sk_canon(root, SK_SIG_EXT_ID, &b, &e) && b.data)
		crypto_generichash(h, sizeof(h), (const unsigned char *)b.data, b.len, NULL, 0);
	else
		crypto_generichash(h, sizeof(h), (const unsigned char *)json, len, NULL, 0);
	sk_json_doc_free(doc);
	sk_buf_free(&b);
	snprintf(out, 32, "blake2b:");
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 + 2 * i, 3, "%02x", h[i]);
}

static bool same_content(const char *a, size_t alen, const char *b, size_t blen)
{
	static const char *const ts_keys[] = {"created", "modified"};
	json_t *ja, *jb;
	bool eq;

	if (alen == blen && !memcmp(a, b, alen))
		return true;
	ja = json_loadb(a, alen, 0, NULL);
	jb = json_loadb(b, blen, 0, NULL);
	eq = ja && jb && json_is_object(ja) && json_is_object(jb);
	if (eq) { /* a copy with or without its producer's signature is the same content */
		json_t *o[2] = {ja, jb};
		for (int k = 0; k < 2; k++) {
			json_t *exts = json_object_get(o[k], "extensions");
			json_object_del(exts, SK_SIG_EXT_ID);
			if (json_is_object(exts) && json_object_size(exts) == 0)
				json_object_del(o[k], "extensions");
		}
	}
	for (size_t i = 0; eq && i < sizeof(ts_keys) / sizeof(ts_keys[0]); i++) {
		eq = same_instant(ja, jb, ts_keys[i]);
		if (eq && json_object_get(ja, ts_keys[i]))
			json_object_set(jb, ts_keys[i], json_object_get(ja, ts_keys[i]));
	}
	eq = eq && json_equal(ja, jb);
	json_decref(ja);
	json_decref(jb);
	return eq;
}

/*
 * The level one marking reference adds for an object produced by `by`: a
 * well-known TLP id its level; a stored TLP marking-definition its level if
 * the object's producer made it, else TLP:AMBER (fail closed); another
 * stored marking nothing.  *unresolved is set for a reference to nothing
 * stored.
 */
static sk_err ref_level(sk_store *st, const char *ref, const char *by, sk_tlp *level,
                        bool *unresolved, sk_error *err)
{
	sqlite3_stmt *s;
	sk_tlp t = sk_tlp_from_marking(ref);
	sk_err rc;

	if (t != SK_TLP_NONE || !ref) {
		if (t > *level)
			*level = t;
		return SK_OK;
	}
	if ((rc = sk_store_hot_stmt(st, S_RULE_MARK, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);
		const char *maker = (const char *)sqlite3_column_text(s, 1);
		if (name) {
			if (!by || !same(maker, by) || !sk_tlp_parse(name, &t))
				t = SK_TLP_AMBER;
			if (t > *level)
				*level = t;
		}
	} else {
		*unresolved = true;
	}
	sqlite3_reset(s);
	return SK_OK;
}

/* The marking a new version is recorded under (objects.tlp). */
static sk_err effective_tlp(sk_store *st, const sk_stix_info *info, const char *writer, sk_tlp *out,
                            bool *pending, sk_error *err)
{
	const char *by = info->created_by_ref;
	sk_tlp level = SK_TLP_NONE;
	bool unresolved = false;
	size_t i;
	sk_err rc;

	for (i = 0; i < sk_json_len(info->marking_refs); i++)
		if ((rc = ref_level(st, sk_json_str(sk_json_at(info->marking_refs, i)), by, &level,
		                    &unresolved, err)))
			return rc;
	/* a granular marking stricter than the object's makes the whole object that strict */
	for (i = 0; i < sk_json_len(info->granular); i++) {
		const char *ref =
		    sk_json_str(sk_json_get(sk_json_at(info->granular, i), "marking_ref"));
		if (ref && (rc = ref_level(st, ref, by, &level, &unresolved, err)))
			return rc;
	}
	if (writer) {
		*pending = unresolved && level < SK_TLP_AMBER;
		if (unresolved && level < SK_TLP_AMBER)
			level = SK_TLP_AMBER; /* it may have been a TLP marking */
		if (level == SK_TLP_NONE && !st->origin.collection_default)
			level =
			    st->origin.unmarked != SK_TLP_NONE ? st->origin.unmarked : SK_TLP_AMBER;
	}
	/* the well-known TLP definitions themselves (content checked) are public */
	if (level == SK_TLP_NONE && sk_tlp_from_marking(info->id) != SK_TLP_NONE)
		level = SK_TLP_CLEAR;
	*out = level;
	return SK_OK;
}

static bool dated_ahead(const sk_stix_info *info)
{
	const char *ts = info->modified ? info->modified : info->created;
	char key[SK_TS_KEY_LEN + 1];
	int64_t us;

	return ts && sk_ts_parse(ts, strlen(ts), key, &us) && us > sk_ts_now_us() + CLOCK_SKEW_US;
}

/*
 * The one answer to a writer that may not version an object: the same
 * whether the version it sent exists or not, so that a refusal tells no
 * more than that the id is taken (docs/sharing-policy.md).
 */
static sk_err refuse_taken(const sk_stix_info *info, sk_error *err)
{
	return sk_error_set(err, SK_EPERM,
	                    "%s: refused: the id is taken (only its producer or the source that "
	                    "first delivered it may store versions of it)",
	                    info->id);
}

/* Is info newer than every stored version of its object (a later state, not history)? */
static bool newest_version(sk_store *st, const sk_stix_info *info)
{
	sqlite3_stmt *s = NULL;
	bool newer = true;

	if (sqlite3_prepare_v2(st->db, "SELECT max(version) FROM objects WHERE id=?1", -1, &s,
	                       NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(s, 1, info->id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		newer = strcmp(info->version, (const char *)sqlite3_column_text(s, 0)) > 0;
	sqlite3_finalize(s);
	return newer;
}

/*
 * The signature of a version, checked against the key pinned for its
 * producer (an identity object is its own producer).  A source trusted on
 * first use gets its identity's published key pinned here.  An identity
 * that publishes another key than the pinned one is a rotation only when
 * the pinned key signed it; then the new key is pinned.
 */
static sk_err check_signature(sk_store *st, const sk_stix_info *info, const char *writer,
                              sk_rule_verdict *v, sk_error *err)
{
	bool identity = !strcmp(info->type, "identity");
	const char *producer = info->created_by_ref ? info->created_by_ref
	                       : identity           ? info->id
	                                            : NULL;
	unsigned char pk[SK_KEY_PK_LEN], published[SK_KEY_PK_LEN];
	bool found = false, has_pub = identity && sk_sig_published_key(info->obj, published);
	sk_err rc;

	if (!producer || (!sk_sig_present(info->obj) && !has_pub))
		return SK_OK;
	if (!identity && info->presig == 1 + SK_SIG_VERIFIED) {
		v->sig = SK_SIG_VERIFIED; /* checked beside this thread, with a pinned key */
		return SK_OK;
	}
	if ((rc = sk_store_key_get(st, producer, pk, &found, err)))
		return rc;
	if (!found && has_pub && writer && st->origin.tofu && !strcmp(producer, writer) &&
	    !strcmp(info->id, producer)) {
		if ((rc = sk_store_key_pin(st, producer, published, "first use", err)))
			return rc;
		memcpy(pk, published, sizeof(pk));
		found = true;
		fprintf(stderr, "schakel: pinned the key of %s on first use\n", producer);
	}
	if (!found)
		v->sig = sk_sig_verify(info->obj, NULL, &st->scratch);
	else if ((rc = sk_store_key_verify(st, producer, info->obj, &v->sig, err)))
		return rc;
	if (v->sig == SK_SIG_BAD)
		return sk_error_set(err, SK_EPERM,
		                    "%s: refused: bad signature (it does not verify with the key "
		                    "pinned for %s)",
		                    info->id, producer);
	if (found && has_pub && memcmp(pk, published, sizeof(pk)) && !v->sign &&
	    newest_version(st, info)) {
		/* a rotation: the key in force, not an older one, signed the new key */
		if (sk_sig_verify(info->obj, pk, &st->scratch) != SK_SIG_VERIFIED)
			return sk_error_set(
			    err, SK_EPERM,
			    "%s: refused: KEY CHANGED: it publishes another key than "
			    "the one pinned, without a signature by the pinned key "
			    "(a rotation is signed with the old key)",
			    info->id);
		if ((rc = sk_store_key_pin(st, producer, published, "rotation", err)))
			return rc;
		fprintf(stderr, "schakel: %s rotated its key (signed by the pinned one)\n",
		        producer);
	}
	return SK_OK;
}

sk_err sk_store_rule(sk_store *st, const sk_stix_info *info, const char *json, size_t len,
                     sk_rule_verdict *v, sk_error *err)
{
	const char *writer = st->has_origin ? st->origin.rx : NULL;
	char *rx0 = NULL, *by0 = NULL, *rxv = NULL;
	bool found = false, own = false;
	sk_tlp known;
	sqlite3_stmt *s;
	sk_err rc;

	memset(v, 0, sizeof(*v));
	v->may_link = true;
	if (writer && st->origin.unless_own) {
		if ((rc = is_own(st, info->created_by_ref, &own, err)))
			return rc;
		if (!info->created_by_ref || own)
			writer = NULL; /* a file's own objects are made here */
	}
	v->rx = writer;
	/* produced here, unsigned: sk_store_put signs it with the node's key */
	if (!writer && !sk_sig_present(info->obj) && sk_store_own_id(st) && sk_store_own_key(st)) {
		const char *producer = info->created_by_ref              ? info->created_by_ref
		                       : !strcmp(info->type, "identity") ? info->id
		                                                         : NULL;
		v->sign = producer && !strcmp(producer, sk_store_own_id(st));
	}
	if ((rc = check_signature(st, info, writer, v, err)))
		return rc;

	known =
	    !strcmp(info->type, "marking-definition") ? sk_tlp_from_marking(info->id) : SK_TLP_NONE;
	if (known != SK_TLP_NONE && sk_tlp_of_definition(info->obj) != known)
		return sk_error_set(err, SK_EPERM,
		                    "%s: refused: the id of %s with content that does not say so",
		                    info->id, sk_tlp_name(known));

	/* the object's first stored version: its producer and first source */
	if ((rc = sk_store_hot_stmt(st, S_RULE_FIRST, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, info->id, -1, SQLITE_STATIC);
	{
		int64_t first = INT64_MAX;
		while (sqlite3_step(s) == SQLITE_ROW) {
			if (sqlite3_column_int64(s, 2) >= first)
				continue;
			first = sqlite3_column_int64(s, 2);
			found = true;
			free(rx0);
			free(by0);
			rx0 = dup_text(s, 0);
			by0 = dup_text(s, 1);
		}
	}
	sqlite3_reset(s);

	if (found) {
		/* a version its producer signed is the producer's, whoever relays it */
		bool allowed =
		    same(rx0, writer) || (writer && same(by0, writer)) || v->sig == SK_SIG_VERIFIED;
		bool have = false, have_verified = false;
		int64_t ver = 0;
		char stored_hash[32] = "";

		if ((rc = sk_store_hot_stmt(st, S_FIND_VER, &s, err)))
			goto out;
		sqlite3_bind_text(s, 1, info->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, info->spec, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, info->version, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW) {
			have = true;
			ver = sqlite3_column_int64(s, 0);
			if (same_content((const char *)sqlite3_column_text(s, 1),
			                 (size_t)sqlite3_column_bytes(s, 1), json, len)) {
				sqlite3_reset(s);
				/* known content: stored once; linked only by who may version it */
				v->exists = true;
				v->ver = ver;
				v->may_link = allowed;
				goto out;
			}
			rxv = dup_text(s, 2);
			have_verified = sqlite3_column_int(s, 3) == SK_SIG_VERIFIED;
			content_hash((const char *)sqlite3_column_text(s, 1),
			             (size_t)sqlite3_column_bytes(s, 1), stored_hash);
		}
		sqlite3_reset(s);
		if (!allowed) {
			rc = refuse_taken(info, err);
			goto out;
		}
		if (!same(info->created_by_ref, by0)) {
			rc =
			    sk_error_set(err, SK_EPERM,
			                 "%s: refused: created_by_ref differs from the producer of "
			                 "its earlier versions",
			                 info->id);
			goto out;
		}
		if (have) {
			/*
			 * the producer's own copy replaces a copy relayed before it, and
			 * a copy its producer signed replaces an unsigned one
			 */
			if ((writer && same(by0, writer) && !same(rxv, writer) && !have_verified) ||
			    (v->sig == SK_SIG_VERIFIED && !have_verified)) {
				v->replace = true;
				v->ver = ver;
			} else {
				char got_hash[32];
				content_hash(json, len, got_hash);
				rc =
				    sk_error_set(err, SK_ECONFLICT,
				                 "%s: refused: conflict: version %s is stored with "
				                 "other content (stored %s, received %s; a version "
				                 "never changes, a change needs a later modified)",
				                 info->id, info->modified ? info->modified : "",
				                 stored_hash, got_hash);
				goto out;
			}
		}
	}
	if (writer && info->created_by_ref) {
		if (!st->origin.unless_own && (rc = is_own(st, info->created_by_ref, &own, err)))
			goto out;
		if (own && v->sig != SK_SIG_VERIFIED) {
			rc = sk_error_set(err, SK_EPERM,
			                  "%s: refused: it claims this node as its producer but "
			                  "comes from %s",
			                  info->id, writer);
			goto out;
		}
	}
	if (writer && dated_ahead(info)) {
		rc =
		    sk_error_set(err, SK_EPERM,
		                 "%s: refused: dated %s, more than %d s ahead of this node's clock",
		                 info->id, info->modified ? info->modified : info->created,
		                 (int)(CLOCK_SKEW_US / 1000000));
		goto out;
	}
	rc = effective_tlp(st, info, writer, &v->tlp, &v->unresolved, err);
out:
	free(rx0);
	free(by0);
	free(rxv);
	return rc;
}

static sk_err note_ref(sk_store *st, sqlite3_stmt *s, int64_t ver, const char *ref, sk_error *err)
{
	sk_tlp level = SK_TLP_NONE;
	bool unresolved = false;
	sk_err rc = ref_level(st, ref, NULL, &level, &unresolved, err);

	if (rc || !unresolved)
		return rc;
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ver);
	sqlite3_bind_int(s, 3, (int)st->origin.unmarked);
	sqlite3_bind_int(s, 4, st->origin.collection_default);
	rc = sqlite3_step(s) == SQLITE_DONE ? SK_OK : sk_store_dberr(st, err, "marking_pending");
	sqlite3_reset(s);
	return rc;
}

sk_err sk_store_unres_note(sk_store *st, int64_t ver, const sk_stix_info *info, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	size_t i;

	if (sqlite3_prepare_v2(st->db,
	                       "INSERT OR IGNORE INTO marking_pending(marking, ver, unmarked,"
	                       " coll_default) VALUES(?1,?2,?3,?4)",
	                       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "marking_pending");
	for (i = 0; !rc && i < sk_json_len(info->marking_refs); i++)
		rc = note_ref(st, s, ver, sk_json_str(sk_json_at(info->marking_refs, i)), err);
	for (i = 0; !rc && i < sk_json_len(info->granular); i++) {
		const char *ref =
		    sk_json_str(sk_json_get(sk_json_at(info->granular, i), "marking_ref"));
		if (ref)
			rc = note_ref(st, s, ver, ref, err);
	}
	sqlite3_finalize(s);
	return rc;
}

/*
 * The level of stored version ver from its markings as they resolve now
 * (as effective_tlp, with its source's treatment of unmarked versions);
 * false while one is still not held.
 */
static bool settle_one(sk_store *st, int64_t ver, sk_tlp unmarked, bool coll_default, sk_tlp *out,
                       sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_tlp level = SK_TLP_NONE;
	bool unresolved = false;
	char *by = NULL;

	if (sqlite3_prepare_v2(st->db, "SELECT created_by FROM objects WHERE ver=?1", -1, &s,
	                       NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int64(s, 1, ver);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		by = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(st->db, "SELECT marking FROM object_markings WHERE ver=?1", -1, &s,
	                       NULL) != SQLITE_OK) {
		free(by);
		return false;
	}
	sqlite3_bind_int64(s, 1, ver);
	while (sqlite3_step(s) == SQLITE_ROW)
		if (ref_level(st, (const char *)sqlite3_column_text(s, 0), by, &level, &unresolved,
		              err))
			unresolved = true;
	sqlite3_finalize(s);
	free(by);
	if (unresolved)
		return false;
	if (level == SK_TLP_NONE && !coll_default)
		level = unmarked != SK_TLP_NONE ? unmarked : SK_TLP_AMBER;
	*out = level;
	return true;
}

sk_err sk_store_unres_settle(sk_store *st, const char *id, sk_error *err)
{
	sqlite3_stmt *q = NULL, *upd = NULL, *del = NULL;
	sk_err rc = SK_OK;
	int step;

	if (sqlite3_prepare_v2(st->db,
	                       "SELECT ver, unmarked, coll_default FROM marking_pending"
	                       " WHERE marking=?1",
	                       -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "UPDATE objects SET tlp=?2 WHERE ver=?1", -1, &upd, NULL) !=
	        SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "DELETE FROM marking_pending WHERE ver=?1", -1, &del,
	                       NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "marking_pending");
		goto out;
	}
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t ver = sqlite3_column_int64(q, 0);
		sk_tlp level;
		if (!settle_one(st, ver, (sk_tlp)sqlite3_column_int(q, 1),
		                sqlite3_column_int(q, 2) != 0, &level, err))
			continue; /* another of its markings is still missing */
		sqlite3_bind_int64(upd, 1, ver);
		sqlite3_bind_int(upd, 2, (int)level);
		sqlite3_bind_int64(del, 1, ver);
		if (sqlite3_step(upd) != SQLITE_DONE || sqlite3_step(del) != SQLITE_DONE) {
			rc = sk_store_dberr(st, err, "marking_pending");
			goto out;
		}
		sqlite3_reset(upd);
		sqlite3_reset(del);
	}
	if (step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "marking_pending");
out:
	sqlite3_finalize(q);
	sqlite3_finalize(upd);
	sqlite3_finalize(del);
	return rc;
}
