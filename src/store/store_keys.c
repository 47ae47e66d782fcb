/*
 * store_keys.c - the node's own key and the keys pinned per identity
 * (docs/provenance.md).
 *
 * The node's Ed25519 secret key lives in "<db>.key" (0600), never in the
 * database; its public key is pinned for the node's identity like any other
 * and published in the node's identity object through the signature
 * extension (sign.h).  Pins are one table for partners and peers alike:
 * keys(identity, pk, how, pinned).
 */
#include "store_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/audit.h"
#include "schakel/sign.h"
#include "schakel/timestamp.h"

sk_err sk_store_key_verify(sk_store *st, const char *identity, const sk_jval *obj,
			   sk_sig_verdict *verdict, sk_error *err)
{
	sqlite3_stmt *s;
	sk_err rc;

	*verdict = sk_sig_verify(obj, NULL, &st->scratch);
	if (*verdict == SK_SIG_UNSIGNED || *verdict == SK_SIG_BAD || !identity)
		return SK_OK;
	if ((rc = sk_store_hot_stmt(st, S_KEY_GET, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, identity, -1, SQLITE_STATIC);
	/* the current key first, then the keys it rotated from */
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_bytes(s, 0) != SK_KEY_PK_LEN)
			continue;
		*verdict = sk_sig_verify(obj, sqlite3_column_blob(s, 0), &st->scratch);
		if (*verdict == SK_SIG_VERIFIED)
			break;
	}
	sqlite3_reset(s);
	return SK_OK;
}

sk_err sk_store_key_get(sk_store *st, const char *identity, unsigned char pk[SK_KEY_PK_LEN],
			bool *found, sk_error *err)
{
	sqlite3_stmt *s;
	sk_err rc;

	*found = false;
	if (!identity)
		return SK_OK;
	if ((rc = sk_store_hot_stmt(st, S_KEY_GET, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, identity, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == SK_KEY_PK_LEN) {
		memcpy(pk, sqlite3_column_blob(s, 0), SK_KEY_PK_LEN);
		*found = true;
	}
	sqlite3_reset(s);
	return SK_OK;
}

sk_err sk_store_key_pin(sk_store *st, const char *identity, const unsigned char pk[SK_KEY_PK_LEN],
			const char *how, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	if (!identity || strncmp(identity, "identity--", 10))
		return sk_error_set(err, SK_EINVAL, "a key is pinned for a STIX identity id");
	/* a rotation keeps the old keys (not current); a configured pin replaces them all */
	if (sqlite3_prepare_v2(st->db,
			       strcmp(how, "rotation") && strcmp(how, "own")
				   ? "DELETE FROM keys WHERE identity=?1"
				   : "UPDATE keys SET current=0 WHERE identity=?1",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "keys");
	sqlite3_bind_text(s, 1, identity, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "keys");
	sqlite3_finalize(s);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO keys(identity, pk, how, pinned, current)"
			       " VALUES(?1,?2,?3,?4,1) ON CONFLICT(identity, pk) DO UPDATE SET"
			       " how=excluded.how, pinned=excluded.pinned, current=1",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "keys");
	sqlite3_bind_text(s, 1, identity, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, pk, SK_KEY_PK_LEN, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, how, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, sk_ts_now_us());
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "keys");
	sqlite3_finalize(s);
	if (!rc) { /* every change of keys is in the audit log (docs/audit.md) */
		char detail[200], fp[SK_FINGERPRINT_MAX];
		sk_key_fingerprint(pk, fp);
		snprintf(detail, sizeof(detail), "{\"how\":\"%s\",\"fingerprint\":\"%s\"}", how, fp);
		sk_audit_entry e = {.action = "key.pin", .subject = identity, .detail = detail};
		rc = sk_audit_append(st, &e, err);
	}
	return rc;
}

sk_err sk_store_keys(sk_store *st, int (*fn)(void *ud, const sk_key_row *r), void *ud,
		     sk_error *err)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT identity, pk, how, pinned, current FROM keys"
			       " ORDER BY identity, current DESC, pinned DESC",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "keys");
	while (sqlite3_step(s) == SQLITE_ROW) {
		sk_key_row r = {.identity = (const char *)sqlite3_column_text(s, 0),
				.how = (const char *)sqlite3_column_text(s, 2),
				.pinned_us = sqlite3_column_int64(s, 3),
				.current = sqlite3_column_int(s, 4) != 0};
		if (sqlite3_column_bytes(s, 1) != SK_KEY_PK_LEN)
			continue;
		memcpy(r.pk, sqlite3_column_blob(s, 1), SK_KEY_PK_LEN);
		if (fn(ud, &r))
			break;
	}
	sqlite3_finalize(s);
	return SK_OK;
}

const char *sk_store_own_id(sk_store *st)
{
	sqlite3_stmt *s = NULL;

	if (st->node_id)
		return st->node_id;
	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key='node_identity'", -1, &s,
			       NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(s) == SQLITE_ROW)
		st->node_id = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return st->node_id;
}

const sk_keypair *sk_store_own_key(sk_store *st)
{
	char *path;
	sk_error e;

	if (st->key_state == 0) {
		st->key_state = -1;
		if (st->path && (path = sk_key_path(st->path))) {
			if (!(st->kp = malloc(sizeof(*st->kp))) || sk_key_load(path, st->kp, &e)) {
				free(st->kp);
				st->kp = NULL;
			} else {
				st->key_state = 1;
			}
			free(path);
		}
	}
	return st->key_state == 1 ? st->kp : NULL;
}

/* The node identity's newest version as JSON (jansson), or NULL. */
static json_t *own_identity(sk_store *st, const char *id)
{
	sqlite3_stmt *s = NULL;
	json_t *o = NULL;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT json FROM objects WHERE id=?1 ORDER BY version DESC LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		o = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
	sqlite3_finalize(s);
	return o;
}

/*
 * A new version of the node's identity that publishes pk (signed on the way
 * in by sk_store_put with the key in force: the old one for a rotation).
 */
static sk_err publish(sk_store *st, const char *id, const unsigned char pk[SK_KEY_PK_LEN],
		      sk_error *err)
{
	char b64[SK_KEY_B64_MAX], ts[SK_TS_STR_MAX], key[SK_TS_KEY_LEN + 1];
	json_t *o = own_identity(st, id), *exts, *ext;
	int64_t now = sk_ts_now_us(), prev = 0;
	const char *m;
	sk_err rc;

	if (!o)
		return sk_error_set(err, SK_ENOTINIT, "the node has no identity object");
	m = json_string_value(json_object_get(o, "modified"));
	if (m && sk_ts_parse(m, strlen(m), key, &prev) && now <= prev + 1000)
		now = prev + 1000; /* a later modified, at millisecond precision */
	sk_ts_format_ms(now, ts);
	sk_key_b64(pk, b64);
	exts = json_object_get(o, "extensions");
	if (!json_is_object(exts)) {
		exts = json_object();
		json_object_set_new(o, "extensions", exts);
	}
	ext = json_pack("{s:s, s:s}", "extension_type", "property-extension", "key", b64);
	json_object_set_new(exts, SK_SIG_EXT_ID, ext);
	json_object_set_new(o, "modified", json_string(ts));
	rc = sk_store_put_json(st, 0, o, err);
	json_decref(o);
	return rc;
}

sk_err sk_store_own_key_ensure(sk_store *st, bool *made, sk_error *err)
{
	const char *id = sk_store_own_id(st);
	unsigned char pinned[SK_KEY_PK_LEN];
	bool found = false;
	sk_keypair kp;
	char *path;
	sk_err rc;

	*made = false;
	if (!id || !st->path || !strcmp(st->path, ":memory:"))
		return SK_OK; /* not a node (yet), or a scratch store */
	if (sk_store_own_key(st))
		return SK_OK;
	if (!(path = sk_key_path(st->path)))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if ((rc = sk_key_generate(&kp, err)) || (rc = sk_key_save(path, &kp, err))) {
		free(path);
		return rc;
	}
	free(path);
	sk_key_wipe(&kp);
	st->key_state = 0; /* load what was written */
	if (!sk_store_own_key(st))
		return sk_error_set(err, SK_EIO, "%s.key: written but not readable", st->path);
	if ((rc = sk_store_begin(st, err)))
		return rc;
	if (!(rc = sk_store_key_get(st, id, pinned, &found, err)))
		rc = sk_store_key_pin(st, id, st->kp->pk, "own", err);
	if (!rc)
		rc = publish(st, id, st->kp->pk, err);
	if (!rc)
		rc = sk_store_commit(st, err);
	else
		sk_store_rollback(st);
	*made = rc == SK_OK;
	return rc;
}

sk_err sk_store_own_key_rotate(sk_store *st, sk_error *err)
{
	const char *id = sk_store_own_id(st);
	sk_keypair next;
	char *path, *old_path;
	sk_err rc;

	if (!id || !sk_store_own_key(st))
		return sk_error_set(err, SK_ENOTINIT, "this node has no key (run any command that "
						      "writes, or schakel key show)");
	if (!(path = sk_key_path(st->path)))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	old_path = malloc(strlen(path) + 5);
	if (!old_path) {
		free(path);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	snprintf(old_path, strlen(path) + 5, "%s.old", path);
	if ((rc = sk_key_generate(&next, err)))
		goto out;
	if ((rc = sk_store_begin(st, err)))
		goto out;
	/* the identity publishing the new key, signed with the old one */
	rc = publish(st, id, next.pk, err);
	if (!rc)
		rc = sk_store_key_pin(st, id, next.pk, "own", err);
	if (!rc)
		rc = sk_key_save(old_path, st->kp, err); /* kept for the record, 0600 */
	if (!rc && !(rc = sk_key_save(path, &next, err)) && (rc = sk_store_commit(st, err)))
		sk_key_save(path, st->kp, NULL); /* not published: the old key stays */
	if (rc)
		sk_store_rollback(st);
	if (!rc) {
		sk_key_wipe(st->kp);
		*st->kp = next;
	}
out:
	sk_key_wipe(&next);
	free(path);
	free(old_path);
	return rc;
}

sk_err sk_store_latest(sk_store *st, const char *id, char **json, char **by, char **rx,
		       sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	*json = *by = *rx = NULL;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT json, created_by, rx FROM objects WHERE id=?1"
			       " ORDER BY version DESC, spec DESC LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "objects");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *b = sqlite3_column_text(s, 1), *r = sqlite3_column_text(s, 2);
		*json = strdup((const char *)sqlite3_column_text(s, 0));
		*by = b ? strdup((const char *)b) : NULL;
		*rx = r ? strdup((const char *)r) : NULL;
		if (!*json || (b && !*by) || (r && !*rx))
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	} else {
		rc = sk_error_set(err, SK_ENOTFOUND, "%s: no such object", id);
	}
	sqlite3_finalize(s);
	if (rc) {
		free(*json);
		free(*by);
		free(*rx);
		*json = *by = *rx = NULL;
	}
	return rc;
}

/* Collections holding the newest version of id (at most max). */
static size_t holders(sk_store *st, const char *id, int64_t *cids, size_t max)
{
	sqlite3_stmt *s = NULL;
	size_t n = 0;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT c.cid FROM collections c CROSS JOIN collection_objects co"
			       " WHERE co.coll=c.cid AND co.ver=(SELECT ver"
			       " FROM objects WHERE id=?1 ORDER BY version DESC, spec DESC LIMIT 1)",
			       -1, &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	while (n < max && sqlite3_step(s) == SQLITE_ROW)
		cids[n++] = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

void sk_store_next_version(json_t *o, char version[SK_TS_STR_MAX])
{
	int64_t now = sk_ts_now_us(), prev = 0;
	const char *m = json_string_value(json_object_get(o, "modified"));
	json_t *exts;

	if (m && sk_ts_parse(m, strlen(m), NULL, &prev) && now <= prev + 1000)
		now = prev + 1000;
	sk_ts_format_ms(now, version);
	json_object_set_new(o, "modified", json_string(version));
	/* the new version is signed anew on its way in */
	exts = json_object_get(o, "extensions");
	json_object_del(exts, SK_SIG_EXT_ID);
	if (json_is_object(exts) && json_object_size(exts) == 0)
		json_object_del(o, "extensions");
}

sk_err sk_store_revoke(sk_store *st, const char *id, const char *reason,
		       char version[SK_TS_STR_MAX], sk_error *err)
{
	char *json = NULL, *by = NULL, *rx = NULL;
	int64_t cids[64];
	const char *own = sk_store_own_id(st);
	json_t *o = NULL;
	size_t ncids;
	sk_err rc;

	if ((rc = sk_store_latest(st, id, &json, &by, &rx, err)))
		return rc;
	if (rx || !by || !own || strcmp(by, own)) {
		rc = sk_error_set(err, SK_EPERM,
				  "%s: only objects produced here can be revoked here (its producer "
				  "is %s); deleting locally never deletes elsewhere",
				  id, by ? by : "not named");
		goto out;
	}
	if (!(o = json_loads(json, 0, NULL)) || json_is_true(json_object_get(o, "revoked"))) {
		rc = sk_error_set(err, o ? SK_EEXIST : SK_EJSON, "%s: %s", id,
				  o ? "already revoked" : "stored JSON does not parse");
		goto out;
	}
	sk_store_next_version(o, version);
	json_object_set_new(o, "revoked", json_true());
	if (reason)
		json_object_set_new(o, "x_schakel_revocation_reason", json_string(reason));
	ncids = holders(st, id, cids, 64);
	if ((rc = sk_store_begin(st, err)))
		goto out;
	for (size_t i = 0; !rc && i < (ncids ? ncids : 1); i++)
		rc = sk_store_put_json(st, ncids ? cids[i] : 0, o, err);
	if (!rc)
		rc = sk_store_commit(st, err);
	else
		sk_store_rollback(st);
out:
	json_decref(o);
	free(json);
	free(by);
	free(rx);
	return rc;
}

sk_err sk_store_signature(sk_store *st, const char *id, sk_sig_verdict *verdict, sk_error *err)
{
	char *json = NULL, *by = NULL, *rx = NULL;
	const sk_jval *v;
	sk_jdoc *doc = NULL;
	sk_err rc;

	*verdict = SK_SIG_UNSIGNED;
	if ((rc = sk_store_latest(st, id, &json, &by, &rx, err)))
		return rc;
	if ((rc = sk_json_doc_new(0, 0, &doc)) || (rc = sk_json_parse(doc, json, strlen(json), &v, err)))
		*verdict = SK_SIG_BAD;
	else
		rc = sk_store_key_verify(st, by ? by : !strncmp(id, "identity--", 10) ? id : NULL, v,
					 verdict, err);
	sk_json_doc_free(doc);
	free(json);
	free(by);
	free(rx);
	return rc == SK_ENOMEM ? rc : SK_OK;
}

/* --- bundle files: sequence numbers and cursors (cli bundle, bundle.h) --------- */

static int64_t one_int(sk_store *st, const char *sql, const char *key, int col)
{
	sqlite3_stmt *s = NULL;
	int64_t v = 0;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, col);
	sqlite3_finalize(s);
	return v;
}

void sk_store_bundle_out(sk_store *st, const char *recipient, int64_t *last_seq, int64_t *cursor)
{
	*last_seq = one_int(st, "SELECT seq FROM bundle_out WHERE recipient=?1", recipient, 0);
	*cursor = one_int(st, "SELECT cursor FROM bundle_out WHERE recipient=?1", recipient, 0);
}

sk_err sk_store_bundle_sent(sk_store *st, const char *recipient, int64_t seq, int64_t cursor,
			    sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO bundle_out(recipient, seq, cursor) VALUES(?1,?2,?3)"
			       " ON CONFLICT(recipient) DO UPDATE SET seq=excluded.seq,"
			       " cursor=max(cursor, excluded.cursor)",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "bundle_out");
	sqlite3_bind_text(s, 1, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, seq);
	sqlite3_bind_int64(s, 3, cursor);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "bundle_out");
	sqlite3_finalize(s);
	return rc;
}

int64_t sk_store_bundle_last_in(sk_store *st, const char *sender)
{
	return one_int(st, "SELECT seq FROM bundle_in WHERE sender=?1", sender, 0);
}

sk_err sk_store_bundle_seen(sk_store *st, const char *sender, int64_t seq, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO bundle_in(sender, seq) VALUES(?1,?2) ON CONFLICT(sender)"
			       " DO UPDATE SET seq=excluded.seq WHERE excluded.seq>bundle_in.seq",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "bundle_in");
	sqlite3_bind_text(s, 1, sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, seq);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "bundle_in");
	sqlite3_finalize(s);
	return rc;
}
