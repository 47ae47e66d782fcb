/*
 * sync_node.c - the node side of federation: settings, the identity
 * sightings are made under (the node's own, or an anonymous one that reveals
 * only sectors and country), and recording sightings made here.
 */
#include "schakel/sync.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/stix.h"
#include "schakel/timestamp.h"
#include "schakel/tlp.h"
#include "schakel/uuid.h"
#include "store_priv.h"

static const char *const known_settings[] = {"sightings.anonymous", NULL};

static sk_err meta_get(sk_store *st, const char *key, char **val, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_ENOTFOUND;
	*val = NULL;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), "SELECT value FROM meta WHERE key=?1", -1, &s,
			       NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "meta");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*val = strdup((const char *)sqlite3_column_text(s, 0));
		rc = *val ? SK_OK : sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	sqlite3_finalize(s);
	if (rc == SK_ENOTFOUND)
		sk_error_set(err, SK_ENOTFOUND, "%s is not set", key);
	return rc;
}

static sk_err meta_set(sk_store *st, const char *key, const char *val, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	if (sqlite3_prepare_v2(sk_store_sqlite(st),
			       "INSERT OR REPLACE INTO meta(key,value) VALUES(?1,?2)", -1, &s,
			       NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "meta");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, val, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "meta");
	sqlite3_finalize(s);
	return rc;
}

static bool known(const char *name)
{
	for (int i = 0; known_settings[i]; i++)
		if (!strcmp(known_settings[i], name))
			return true;
	return false;
}

sk_err sk_sync_config_set(sk_store *st, const char *name, const char *value, sk_error *err)
{
	char key[128];
	sk_err rc;
	if (!known(name))
		return sk_error_set(err, SK_EINVAL, "unknown setting '%s' (sightings.anonymous)",
				    name);
	if (!strcmp(name, "sightings.anonymous") && strcmp(value, "true") && strcmp(value, "false"))
		return sk_error_set(err, SK_EINVAL, "sightings.anonymous: true or false");
	snprintf(key, sizeof(key), "config.%s", name);
	if ((rc = sk_store_begin(st, err)))
		return rc;
	rc = meta_set(st, key, value, err);
	if (!rc)
		return sk_store_commit(st, err);
	sk_store_rollback(st);
	return rc;
}

sk_err sk_sync_config_get(sk_store *st, const char *name, char **value, sk_error *err)
{
	char key[128];
	if (!known(name))
		return sk_error_set(err, SK_EINVAL, "unknown setting '%s'", name);
	snprintf(key, sizeof(key), "config.%s", name);
	return meta_get(st, key, value, err);
}

/*
 * The anonymous identity: "anonymous" with the node's sectors, and a
 * location with its country (if any).  Kept in meta, ids of the identity and
 * its location objects.  Inside a transaction.
 */
static sk_err anon_identity(sk_store *st, char **id, sk_error *err)
{
	char *node = NULL;
	json_t *src = NULL, *ident = NULL;
	sqlite3_stmt *s = NULL;
	char uuid[SK_UUID_LEN + 1], ts[SK_TS_STR_MAX], iid[64];
	char *country = NULL;
	sk_err rc;

	if (meta_get(st, "anon_identity", id, NULL) == SK_OK)
		return SK_OK;
	if ((rc = sk_store_node_id(st, &node, err)))
		return rc;
	/* the node's identity (for its sectors) and its country, if located */
	if (sqlite3_prepare_v2(sk_store_sqlite(st),
			       "SELECT json FROM objects WHERE id=?1 ORDER BY version DESC LIMIT 1",
			       -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, node, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			src = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
		sqlite3_finalize(s);
	}
	if (sqlite3_prepare_v2(sk_store_sqlite(st),
			       "SELECT json_extract(l.json,'$.country') FROM objects r"
			       " JOIN objects l ON l.id=r.dst_ref WHERE r.src_ref=?1"
			       " AND r.rel_type='located-at' LIMIT 1",
			       -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, node, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			country = strdup((const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	sk_ts_format_ms(sk_ts_now_us(), ts);
	sk_uuid_v4(uuid);
	snprintf(iid, sizeof(iid), "identity--%s", uuid);
	ident = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "identity",
			  "spec_version", "2.1", "id", iid, "created", ts, "modified", ts, "name",
			  "anonymous", "identity_class", "organization");
	if (!ident) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (src && json_is_array(json_object_get(src, "sectors")))
		json_object_set(ident, "sectors", json_object_get(src, "sectors"));
	if ((rc = sk_store_put_json(st, 0, ident, err)))
		goto out;
	if (country && strlen(country) == 2 &&
	    (rc = sk_store_put_located_at(st, iid, country, ts, err)))
		goto out;
	if ((rc = meta_set(st, "anon_identity", iid, err)))
		goto out;
	if (!(*id = strdup(iid)))
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
out:
	free(node);
	free(country);
	json_decref(src);
	json_decref(ident);
	return rc;
}

static bool anonymous(sk_store *st)
{
	char *v = NULL;
	bool on = meta_get(st, "config.sightings.anonymous", &v, NULL) == SK_OK && v &&
		  !strcmp(v, "true");
	free(v);
	return on;
}

sk_err sk_sync_sighting_identity(sk_store *st, char **id, sk_error *err)
{
	sk_err rc;
	*id = NULL;
	if (!anonymous(st))
		return sk_store_node_id(st, id, err);
	if ((rc = sk_store_begin(st, err)))
		return rc;
	rc = anon_identity(st, id, err);
	if (!rc)
		return sk_store_commit(st, err);
	sk_store_rollback(st);
	return rc;
}

/* Add the anonymous identity objects (identity, location, relationship) to cid. */
static sk_err share_anon(sk_store *st, const char *iid, int64_t cid, sk_error *err)
{
	static const char q[] =
	    "SELECT json FROM objects WHERE id=?1 OR (created_by=?1 AND type IN"
	    " ('location','relationship'))";
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "identity");
	sqlite3_bind_text(s, 1, iid, -1, SQLITE_STATIC);
	while (!rc && sqlite3_step(s) == SQLITE_ROW) {
		json_t *o = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
		rc = o ? sk_store_put_json(st, cid, o, err) : sk_error_set(err, SK_EJSON, "identity");
		json_decref(o);
	}
	sqlite3_finalize(s);
	return rc;
}

sk_err sk_sync_sighting_add(sk_store *st, const char *indicator, int64_t count, char *sid_out,
			    sk_error *err)
{
	static const char qi[] = "SELECT ver, tlp FROM objects WHERE id=?1 AND type='indicator'"
				 " ORDER BY version DESC LIMIT 1";
	static const char qc[] = "SELECT coll FROM collection_objects WHERE ver=?1";
	sqlite3_stmt *s = NULL;
	char *who = NULL;
	bool anon = anonymous(st);
	int64_t ver = 0, cids[64];
	size_t ncids = 0;
	sk_tlp tlp = SK_TLP_NONE;
	json_t *obj = NULL;
	char uuid[SK_UUID_LEN + 1], ts[SK_TS_STR_MAX], sid[64];
	sk_err rc;

	if ((rc = sk_store_begin(st, err)))
		return rc;
	rc = anon ? anon_identity(st, &who, err) : sk_store_node_id(st, &who, err);
	if (rc)
		goto out;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), qi, -1, &s, NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "sighting");
		goto out;
	}
	sqlite3_bind_text(s, 1, indicator, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		ver = sqlite3_column_int64(s, 0);
		tlp = (sk_tlp)sqlite3_column_int(s, 1);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (!ver) {
		rc = sk_error_set(err, SK_ENOTFOUND, "no indicator %s", indicator);
		goto out;
	}
	if (sqlite3_prepare_v2(sk_store_sqlite(st), qc, -1, &s, NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "sighting");
		goto out;
	}
	sqlite3_bind_int64(s, 1, ver);
	while (ncids < 64 && sqlite3_step(s) == SQLITE_ROW)
		cids[ncids++] = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	sk_ts_format_ms(sk_ts_now_us(), ts);
	sk_uuid_v4(uuid);
	snprintf(sid, sizeof(sid), "sighting--%s", uuid);
	obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:s, s:s}", "type", "sighting",
			"spec_version", "2.1", "id", sid, "created", ts, "modified", ts,
			"created_by_ref", who, "sighting_of_ref", indicator, "where_sighted_refs",
			who, "first_seen", ts, "last_seen", ts);
	if (!obj) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (count > 0)
		json_object_set_new(obj, "count", json_integer(count));
	/* marked like what it sighted: it says something about that indicator */
	if (tlp != SK_TLP_NONE && sk_tlp_marking_id(tlp))
		json_object_set_new(obj, "object_marking_refs",
				    json_pack("[s]", sk_tlp_marking_id(tlp)));
	if (!ncids)
		rc = sk_store_put_json(st, 0, obj, err);
	for (size_t i = 0; i < ncids && !rc; i++) {
		if (anon)
			rc = share_anon(st, who, cids[i], err);
		if (!rc)
			rc = sk_store_put_json(st, cids[i], obj, err);
	}
	if (!rc)
		rc = sk_store_commit(st, err);
	if (!rc && sid_out)
		snprintf(sid_out, 64, "%s", sid);
out:
	if (rc)
		sk_store_rollback(st);
	free(who);
	json_decref(obj);
	return rc;
}
