/*
 * store_write.c - writing objects into the store: sk_store_put stores a
 * version (with its markings and, for an indicator, the indicators row the
 * matcher compiles), places it in a collection and records where it came
 * from (provenance); objects built here (identity, location, relationship)
 * are validated like imported ones and stored the same way.  The hot
 * statements (used per imported object) are prepared once per connection
 * and reused.
 */
#include "store_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/timestamp.h"
#include "schakel/uuid.h"

static const char *const stmt_sql[S__COUNT] = {
    [S_FIND_VER] = ("SELECT ver, json, rx, sig FROM objects"
                    " WHERE id=?1 AND spec=?2 AND version=?3"),
    [S_INS_OBJ] = ("INSERT INTO objects(id,type,spec,version,created,modified,revoked,"
                   "created_by,tlp,src_ref,dst_ref,rel_type,added,json,rx,sig)"
                   " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)"
                   " ON CONFLICT(id,spec,version) DO NOTHING"),
    [S_INS_MARK] = "INSERT OR IGNORE INTO object_markings(ver,marking,granular) VALUES(?1,?2,?3)",
    [S_MAX_DA] = "SELECT MAX(date_added) FROM collection_objects WHERE coll=?1",
    [S_INS_CO] = "INSERT OR IGNORE INTO collection_objects(coll,date_added,ver) VALUES(?1,?2,?3)",
    /* the versions ?1..?2, all stored since the last flush with the current origin */
    [S_INS_PROV] = ("INSERT OR IGNORE INTO provenance(ver,peer,source,arrived,source_added)"
                    " SELECT ver,?3,?4,?5,?6 FROM objects WHERE ver BETWEEN ?1 AND ?2"),
    /* the newest version of an indicator id (any spec); on a tie the first stored stays */
    /*
     * The score columns (schema 17, store_decay.c): a new version keeps the
     * id's sightings and reports and its latest refresh, and is scored at once.
     */
    [S_UPS_IND] = ("INSERT INTO indicators(ver,id,version,revoked,pattern,pattern_type,"
                   "valid_from,valid_until,subdomains,kind,confidence,producer,refreshed,base,"
                   "alert_until) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,"
                   "sk_decay_base(?11,?12,(SELECT trust FROM partners WHERE identity=?12),0,0),"
                   "sk_decay_until(?10,sk_decay_base(?11,?12,"
                   "(SELECT trust FROM partners WHERE identity=?12),0,0),?13))"
                   " ON CONFLICT(id) DO UPDATE SET ver=excluded.ver, version=excluded.version,"
                   " revoked=excluded.revoked, pattern=excluded.pattern,"
                   " pattern_type=excluded.pattern_type, valid_from=excluded.valid_from,"
                   " valid_until=excluded.valid_until, subdomains=excluded.subdomains,"
                   " kind=excluded.kind, confidence=excluded.confidence,"
                   " producer=excluded.producer,"
                   " refreshed=max(coalesce(excluded.refreshed,0),coalesce(indicators.refreshed,0)),"
                   " base=sk_decay_base(?11,?12,(SELECT trust FROM partners WHERE identity=?12),"
                   "indicators.sightings,indicators.fp),"
                   " alert_until=sk_decay_until(?10,sk_decay_base(?11,?12,"
                   "(SELECT trust FROM partners WHERE identity=?12),indicators.sightings,"
                   "indicators.fp),max(coalesce(excluded.refreshed,0),"
                   "coalesce(indicators.refreshed,0)))"
                   " WHERE excluded.version>indicators.version"),
    /* the write rule (store_rule.c): an object's first version, its producer and source */
    /* every version (no ORDER BY: no sorter per call); the rule keeps the lowest ver */
    [S_RULE_FIRST] = "SELECT rx, created_by, ver FROM objects WHERE id=?1",
    [S_RULE_OWN] = "SELECT value FROM meta WHERE key='anon_identity'",
    /* the per-sighting anonymous identities (node/sync_node.c): any at all, this one */
    [S_RULE_ANY_ANON] = ("SELECT EXISTS(SELECT 1 FROM meta WHERE key>'anon_identity.'"
                         " AND key<'anon_identity/')"),
    [S_RULE_OWN_ANON] = "SELECT 1 FROM meta WHERE key='anon_identity.' || ?1",
    /* a marking-definition's TLP level by content ('?' = TLP of no known name), and maker */
    [S_KEY_GET] = "SELECT pk FROM keys WHERE identity=?1 ORDER BY current DESC, pinned DESC",
    [S_RULE_MARK] = ("SELECT coalesce(json_extract(json,'$.extensions.\"" SK_TLP_EXTENSION_ID
                     "\".tlp_2_0'), CASE WHEN lower(json_extract(json,'$.definition_type'))='tlp'"
                     " THEN coalesce(json_extract(json,'$.definition.tlp'),'?') END), created_by"
                     " FROM objects WHERE id=?1 ORDER BY version DESC LIMIT 1"),
    /* the search index (store_search.c): an object's other versions, its row, its values */
    [S_SRCH_OTHERS] = "SELECT ver, version, spec FROM objects WHERE id=?1 AND ver<>?2",
    [S_SRCH_DEL] = "DELETE FROM search WHERE rowid=?1",
    [S_SRCH_INS] = "INSERT INTO search(rowid,name,description,keys,vals) VALUES(?1,?2,?3,?4,?5)",
    [S_OBS_INS] = "INSERT OR IGNORE INTO observables(value,ver,kind) VALUES(?1,?2,?3)",
    [S_OBS_DEL] = "DELETE FROM observables WHERE value=?1 AND ver=?2",
};

sk_err sk_store_hot_stmt(sk_store *st, enum stmt_id id, sqlite3_stmt **out, sk_error *err)
{
	*out = NULL;
	if (!st->stmt[id] && sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
	                                        &st->stmt[id], NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "prepare");
	*out = st->stmt[id];
	sqlite3_reset(*out);
	sqlite3_clear_bindings(*out);
	return SK_OK;
}

static sk_err put_markings(sk_store *st, int64_t ver, const sk_stix_info *info, sk_error *err)
{
	const sk_jval *v, *e;
	sqlite3_stmt *s;
	size_t i;
	sk_err rc;

	v = info->marking_refs;
	for (i = 0; i < sk_json_len(v); i++) {
		e = sk_json_at(v, i);
		if ((rc = sk_store_hot_stmt(st, S_INS_MARK, &s, err)))
			return rc;
		sqlite3_bind_int64(s, 1, ver);
		sqlite3_bind_text(s, 2, sk_json_str(e), -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, 0);
		if (sqlite3_step(s) != SQLITE_DONE)
			return sk_store_dberr(st, err, "storing markings");
	}
	v = info->granular;
	for (i = 0; i < sk_json_len(v); i++) {
		const char *ref = sk_json_str(sk_json_get(sk_json_at(v, i), "marking_ref"));
		if (!ref)
			continue;
		if ((rc = sk_store_hot_stmt(st, S_INS_MARK, &s, err)))
			return rc;
		sqlite3_bind_int64(s, 1, ver);
		sqlite3_bind_text(s, 2, ref, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, 1);
		if (sqlite3_step(s) != SQLITE_DONE)
			return sk_store_dberr(st, err, "storing markings");
	}
	return SK_OK;
}

static void bind_str(sqlite3_stmt *s, int i, const sk_jval *v)
{
	if (v && v->type == SK_JSTRING)
		sqlite3_bind_text(s, i, v->u.s, (int)v->n, SQLITE_STATIC);
}

/*
 * A new version of an indicator: the indicators table's row for its id
 * (what the matcher compiles) moves to it unless a newer one is there.
 */
/* the later of *t (or nothing yet: 0) and the time v holds */
static bool ts_us(const sk_jval *v, int64_t *t)
{
	int64_t x;
	if (!v || v->type != SK_JSTRING || !sk_ts_parse(v->u.s, v->n, NULL, &x))
		return false;
	if (!*t || x > *t)
		*t = x;
	return true;
}

static sk_err put_indicator(sk_store *st, int64_t ver, const sk_stix_info *info, sk_error *err)
{
	const sk_jval *o = info->obj, *v;
	int64_t t = 0;
	sqlite3_stmt *s;
	sk_err rc;

	if (!o)
		return sk_error_set(err, SK_EINVAL, "%s: stored without validation", info->id);
	if ((rc = sk_store_hot_stmt(st, S_UPS_IND, &s, err)))
		return rc;
	sqlite3_bind_int64(s, 1, ver);
	sqlite3_bind_text(s, 2, info->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, info->version, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, info->revoked);
	bind_str(s, 5, sk_json_get(o, "pattern"));
	bind_str(s, 6, sk_json_get(o, "pattern_type"));
	bind_str(s, 7, sk_json_get(o, "valid_from"));
	bind_str(s, 8, sk_json_get(o, "valid_until"));
	sqlite3_bind_int(s, 9, sk_json_is(sk_json_get(o, "x_schakel_subdomains"), SK_JTRUE));
	sqlite3_bind_int(s, 10, (int)sk_decay_kind_of(sk_json_str(sk_json_get(o, "pattern"))));
	v = sk_json_get(o, "confidence");
	if (v && v->type == SK_JINT)
		sqlite3_bind_int64(s, 11, v->u.i);
	if (info->created_by_ref)
		sqlite3_bind_text(s, 12, info->created_by_ref, -1, SQLITE_STATIC);
	/* refreshed: the later of valid_from and modified (both are read) */
	bool from = ts_us(sk_json_get(o, "valid_from"), &t);
	bool mod = ts_us(sk_json_get(o, "modified"), &t);
	if (from || mod)
		sqlite3_bind_int64(s, 13, t);
	if (sqlite3_step(s) != SQLITE_DONE)
		return sk_store_dberr(st, err, "indicators");
	sqlite3_reset(s);
	return SK_OK;
}

/*
 * The provenance rows (first arrival from st->origin) of the new versions
 * put since the last flush, in one statement.  Those versions have
 * consecutive row ids: the write lock is held, and a put without an origin
 * or a change of origin flushes first.  Runs before every commit, so rows
 * and versions share their transaction.
 */
sk_err sk_store_flush_provenance(sk_store *st, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc;

	if (!st->prov_first)
		return SK_OK;
	if ((rc = sk_store_hot_stmt(st, S_INS_PROV, &s, err)))
		return rc;
	sqlite3_bind_int64(s, 1, st->prov_first);
	sqlite3_bind_int64(s, 2, st->prov_last);
	sqlite3_bind_text(s, 3, st->origin.peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, st->origin.rx, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, sk_ts_now_us());
	if (st->origin.source_added > 0)
		sqlite3_bind_int64(s, 6, st->origin.source_added);
	if (sqlite3_step(s) != SQLITE_DONE)
		return sk_store_dberr(st, err, "provenance");
	sqlite3_reset(s);
	st->prov_first = st->prov_last = 0;
	return SK_OK;
}

void sk_store_set_origin(sk_store *st, const sk_origin *o)
{
	if (st->prov_first && !st->prov_rc)
		st->prov_rc = sk_store_flush_provenance(st, &st->prov_err);
	st->prov_first = st->prov_last = 0;
	st->has_origin = o != NULL;
	if (o)
		st->origin = *o;
	else
		memset(&st->origin, 0, sizeof(st->origin));
}

static sk_err next_date_added(sk_store *st, int64_t cid, int64_t *da, sk_error *err)
{
	int64_t now = sk_ts_now_us();

	if (st->da_cid != cid) {
		sqlite3_stmt *s;
		sk_err rc = sk_store_hot_stmt(st, S_MAX_DA, &s, err);
		if (rc)
			return rc;
		sqlite3_bind_int64(s, 1, cid);
		if (sqlite3_step(s) != SQLITE_ROW)
			return sk_store_dberr(st, err, "date_added");
		st->da_last = sqlite3_column_int64(s, 0); /* 0 for NULL */
		st->da_cid = cid;
		/* finish the statement: an open read would pin an old snapshot */
		sqlite3_reset(s);
	}
	/* strictly increasing, even if the clock steps back or many land in one µs */
	*da = now > st->da_last ? now : st->da_last + 1;
	st->da_last = *da;
	return SK_OK;
}

/* Give version ver a new date_added in every collection holding it (its content changed). */
static sk_err redate(sk_store *st, int64_t ver, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	int64_t cids[64], da;
	int n = 0;
	sk_err rc = SK_OK;

	/* by collection: the index is (coll, ver), a bare "ver=?" scans all of it */
	if (sqlite3_prepare_v2(st->db,
			       "SELECT c.cid FROM collections c CROSS JOIN collection_objects co"
			       " WHERE co.coll=c.cid AND co.ver=?1",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "collections");
	sqlite3_bind_int64(s, 1, ver);
	while (n < 64 && sqlite3_step(s) == SQLITE_ROW)
		cids[n++] = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	for (int i = 0; i < n && !rc; i++) {
		if ((rc = next_date_added(st, cids[i], &da, err)))
			break;
		if (sqlite3_prepare_v2(st->db,
		                       "UPDATE collection_objects SET date_added=?3"
		                       " WHERE coll=?1 AND ver=?2",
		                       -1, &s, NULL) != SQLITE_OK)
			return sk_store_dberr(st, err, "collections");
		sqlite3_bind_int64(s, 1, cids[i]);
		sqlite3_bind_int64(s, 2, ver);
		sqlite3_bind_int64(s, 3, da);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sk_store_dberr(st, err, "collections");
		sqlite3_finalize(s);
	}
	return rc;
}

/*
 * The producer's copy of a version replaces the copy a relay delivered
 * before it (the write rule's one exception to "a version never changes"):
 * the row keeps its ver, so the collections holding it serve the producer's.
 */
static sk_err replace_version(sk_store *st, int64_t ver, const sk_stix_info *info,
                              const sk_rule_verdict *v, const char *json, size_t len, sk_error *err)
{
	static const char *const q[] = {
	    "UPDATE objects SET type=?2, created=?3, modified=?4, revoked=?5, created_by=?6,"
	    " tlp=?7, src_ref=?8, dst_ref=?9, rel_type=?10, json=?11, rx=?12, sig=?13 WHERE ver=?1",
	    "DELETE FROM object_markings WHERE ver=?1",
	    "UPDATE provenance SET peer=?2, source=?3, arrived=?4 WHERE ver=?1",
	    "UPDATE indicators SET revoked=?2, pattern=json_extract(?3,'$.pattern'),"
	    " pattern_type=json_extract(?3,'$.pattern_type'),"
	    " valid_from=json_extract(?3,'$.valid_from'), "
	    "valid_until=json_extract(?3,'$.valid_until'),"
	    " subdomains=json_type(?3,'$.x_schakel_subdomains') IS 'true' WHERE ver=?1",
	    /* what the matcher cache's key reads (sk_store_indicator_stamp) */
	    "INSERT INTO meta(key, value) SELECT 'indicators.replaced', '1'"
	    " WHERE EXISTS (SELECT 1 FROM indicators WHERE ver=?1)"
	    " ON CONFLICT(key) DO UPDATE SET value=CAST(value AS INTEGER)+1",
	};
	sk_err rc = sk_store_search_forget(st, ver, err);

	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]) && !rc; i++) {
		sqlite3_stmt *s = NULL;
		if (sqlite3_prepare_v2(st->db, q[i], -1, &s, NULL) != SQLITE_OK)
			return sk_store_dberr(st, err, info->id);
		sqlite3_bind_int64(s, 1, ver);
		if (i == 0) {
			sqlite3_bind_text(s, 2, info->type, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 3, info->created, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 4, info->modified, -1, SQLITE_STATIC);
			sqlite3_bind_int(s, 5, info->revoked);
			sqlite3_bind_text(s, 6, info->created_by_ref, -1, SQLITE_STATIC);
			sqlite3_bind_int(s, 7, (int)v->tlp);
			sqlite3_bind_text(s, 8, info->src_ref, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 9, info->dst_ref, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 10, info->rel_type, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 11, json, (int)len, SQLITE_STATIC);
			sqlite3_bind_text(s, 12, v->rx, -1, SQLITE_STATIC);
			sqlite3_bind_int(s, 13, (int)v->sig);
		} else if (i == 2) {
			sqlite3_bind_text(s, 2, st->origin.peer, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 3, v->rx, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 4, sk_ts_now_us());
		} else if (i == 3) {
			sqlite3_bind_int(s, 2, info->revoked);
			sqlite3_bind_text(s, 3, json, (int)len, SQLITE_STATIC);
		}
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sk_store_dberr(st, err, info->id);
		sqlite3_finalize(s);
	}
	if (!rc)
		rc = put_markings(st, ver, info, err);
	if (!rc)
		rc = sk_store_search_put(st, ver, info, err);
	if (!rc)
		rc = redate(st, ver, err);
	if (!rc)
		fprintf(stderr,
		        "schakel: %s version %s: the producer's copy replaced the one "
		        "relayed before it\n",
		        info->id, info->modified ? info->modified : "");
	return rc;
}

sk_err sk_store_put(sk_store *st, int64_t cid, const sk_stix_info *info, const char *json,
                    size_t len, sk_put_outcome *outcome, int64_t *date_added, sk_error *err)
{
	sqlite3_stmt *s;
	sk_rule_verdict v;
	int64_t ver = 0, da = 0;
	bool is_new = false, prov;
	sk_err rc;

	if (!st->in_tx)
		return sk_error_set(err, SK_EINVAL, "sk_store_put outside a transaction");
	if ((rc = sk_store_rule(st, info, json, len, &v, err)))
		return rc;
	if (v.sign) { /* produced here: stored signed (docs/provenance.md) */
		sk_buf_reset(&st->signed_text);
		if ((rc = sk_sig_sign(info->obj, sk_store_own_key(st), &st->signed_text, err)))
			return rc;
		json = st->signed_text.data;
		len = st->signed_text.len;
		v.sig = SK_SIG_VERIFIED;
	}
	/*
	 * provenance rows cover a run of consecutive versions from one named
	 * source (a file of unknown source has objects.rx only)
	 */
	prov = v.rx && strcmp(v.rx, SK_RX_UNKNOWN) != 0;
	if (!prov && st->prov_first && (rc = sk_store_flush_provenance(st, err)))
		return rc;
	if (v.exists) {
		ver = v.ver;
		if (!v.may_link) {
			if (outcome)
				*outcome = SK_PUT_DUPLICATE;
			return SK_OK;
		}
	} else if (v.replace) {
		ver = v.ver;
		if ((rc = replace_version(st, ver, info, &v, json, len, err)))
			return rc;
		is_new = true;
	} else {
		if ((rc = sk_store_hot_stmt(st, S_INS_OBJ, &s, err)))
			return rc;
		sqlite3_bind_text(s, 1, info->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, info->type, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, info->spec, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, info->version, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, info->created, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, info->modified, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 7, info->revoked);
		sqlite3_bind_text(s, 8, info->created_by_ref, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 9, (int)v.tlp);
		sqlite3_bind_text(s, 10, info->src_ref, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 11, info->dst_ref, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 12, info->rel_type, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 13, sk_ts_now_us());
		sqlite3_bind_text(s, 14, json, (int)len, SQLITE_STATIC);
		if (v.rx)
			sqlite3_bind_text(s, 15, v.rx, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 16, (int)v.sig);
		if (sqlite3_step(s) != SQLITE_DONE)
			return sk_store_dberr(st, err, info->id);
		sqlite3_reset(s);
		if (sqlite3_changes(st->db) != 1) /* the rule ran under the write lock */
			return sk_error_set(err, SK_EDB, "%s: stored by another writer meanwhile",
			                    info->id);
		ver = sqlite3_last_insert_rowid(st->db);
		is_new = true;
		if ((rc = put_markings(st, ver, info, err)))
			return rc;
		if (!strcmp(info->type, "indicator") && (rc = put_indicator(st, ver, info, err)))
			return rc;
		if ((info->type[0] == 's' || info->type[0] == 'o') &&
		    (rc = sk_store_decay_evidence(st, ver, info, err)))
			return rc;
		if (!st->defer_search && (rc = sk_store_search_put(st, ver, info, err)))
			return rc;
		if (v.unresolved && (rc = sk_store_unres_note(st, ver, info, err)))
			return rc;
		if (!strcmp(info->type, "marking-definition") &&
		    (rc = sk_store_unres_settle(st, info->id, err)))
			return rc;
		if (prov) {
			if (!st->prov_first)
				st->prov_first = ver;
			st->prov_last = ver;
		}
	}

	if (cid) {
		if ((rc = next_date_added(st, cid, &da, err)))
			return rc;
		if ((rc = sk_store_hot_stmt(st, S_INS_CO, &s, err)))
			return rc;
		sqlite3_bind_int64(s, 1, cid);
		sqlite3_bind_int64(s, 2, da);
		sqlite3_bind_int64(s, 3, ver);
		if (sqlite3_step(s) != SQLITE_DONE)
			return sk_store_dberr(st, err, info->id);
		sqlite3_reset(s);
		if (sqlite3_changes(st->db) == 0) {
			if (outcome)
				*outcome = SK_PUT_DUPLICATE;
			return SK_OK;
		}
	} else if (!is_new) {
		if (outcome)
			*outcome = SK_PUT_DUPLICATE;
		return SK_OK;
	}
	if (outcome)
		*outcome = is_new ? SK_PUT_NEW : SK_PUT_ADDED;
	if (date_added)
		*date_added = da;
	return SK_OK;
}

/* Validate and store one object built here (identity, location, ...). */
sk_err sk_store_put_json(sk_store *st, int64_t cid, json_t *obj, sk_error *err)
{
	sk_stix_info info;
	char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	sk_jdoc *doc = NULL;
	sk_err rc;

	if (!text || sk_json_doc_new(0, 0, &doc)) {
		free(text);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	rc = sk_stix_validate_text(doc, text, strlen(text), &info, err);
	if (!rc)
		rc = sk_store_put(st, cid, &info, text, strlen(text), NULL, NULL, err);
	sk_json_doc_free(doc);
	free(text);
	return rc;
}

sk_err sk_store_put_located_at(sk_store *st, const char *identity, const char *country,
                               const char *ts, sk_error *err)
{
	char uuid[SK_UUID_LEN + 1], loc_id[64], rel_id[64];
	char cc[3] = {(char)(country[0] & ~0x20), (char)(country[1] & ~0x20), 0};
	json_t *loc, *rel;
	sk_err rc;

	sk_uuid_v4(uuid);
	snprintf(loc_id, sizeof(loc_id), "location--%s", uuid);
	sk_uuid_v4(uuid);
	snprintf(rel_id, sizeof(rel_id), "relationship--%s", uuid);
	loc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "location", "spec_version",
	                "2.1", "id", loc_id, "created", ts, "modified", ts, "country", cc,
	                "created_by_ref", identity);
	rel = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "relationship",
	                "spec_version", "2.1", "id", rel_id, "created", ts, "modified", ts,
	                "relationship_type", "located-at", "source_ref", identity, "target_ref",
	                loc_id, "created_by_ref", identity);
	if (!loc || !rel)
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	else if (!(rc = sk_store_put_json(st, 0, loc, err)))
		rc = sk_store_put_json(st, 0, rel, err);
	json_decref(loc);
	json_decref(rel);
	return rc;
}
