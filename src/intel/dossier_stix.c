/*
 * dossier_stix.c - the dossier as STIX and the opinions on it (dossier.h):
 * a report of this node (report_types from the subject's type, label
 * "attribution-dossier", object_refs to every object the dossier rests on)
 * signed with the node's key, bundled with the latest versions of those
 * objects that the bound view sees; and `opinion add`, an opinion made and
 * signed here on a report, stored through the write rule in the
 * collections that hold the report so that it travels back to its
 * producer (sync_push.c).
 */
#include "dossier_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/json.h"
#include "schakel/sign.h"
#include "schakel/timestamp.h"
#include "schakel/tlp.h"
#include "schakel/uuid.h"

#define EXPLANATION_MAX 20000 /* bytes of an opinion's explanation */
#define OPINION_COLLS   64

/* Sign obj with the node's key: the signed object (new), NULL with err set. */
static json_t *sign(sk_store *st, json_t *obj, sk_error *err)
{
	const sk_keypair *kp = sk_store_own_key(st);
	char *text = json_dumps(obj, JSON_COMPACT);
	sk_jdoc *doc = NULL;
	const sk_jval *root;
	json_t *r = NULL;
	sk_buf b;

	sk_buf_init(&b, 0);
	if (!kp) {
		sk_error_set(err, SK_ENOTINIT,
		             "the node has no signing key (run a writing command once, or `schakel "
		             "key`)");
		goto out;
	}
	if (!text || sk_json_doc_new(0, 0, &doc)) {
		sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (sk_json_parse(doc, text, strlen(text), &root, err) || sk_sig_sign(root, kp, &b, err))
		goto out;
	if (!(r = json_loadb(b.data, b.len, 0, NULL)))
		sk_error_set(err, SK_EJSON, "signed report: not JSON");
out:
	sk_buf_free(&b);
	sk_json_doc_free(doc);
	free(text);
	return r;
}

/* The latest visible version of id as stored, NULL if none. */
static json_t *stored(sk_store *st, const char *id)
{
	static const char sql[] = "SELECT o.json FROM objects o WHERE o.id=?1 AND " IN_LATEST("o");
	sqlite3_stmt *s = NULL;
	json_t *r = NULL;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), sql, sizeof(sql) - 1, &s, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		r = json_loadb((const char *)sqlite3_column_text(s, 0),
		               (size_t)sqlite3_column_bytes(s, 0), 0, NULL);
	sqlite3_finalize(s);
	return r;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
	              json_string_value(*(json_t *const *)b));
}

static const char *tlp_of_level(const char *level)
{
	static const struct {
		const char *level;
		sk_tlp t;
	} m[] = {{"clear", SK_TLP_CLEAR},
	         {"green", SK_TLP_GREEN},
	         {"amber", SK_TLP_AMBER},
	         {"amber+strict", SK_TLP_AMBER_STRICT},
	         {"red", SK_TLP_RED}};
	for (size_t i = 0; level && i < sizeof(m) / sizeof(m[0]); i++)
		if (!strcmp(level, m[i].level))
			return sk_tlp_marking_id(m[i].t);
	return NULL;
}

sk_err sk_dossier_stix(sk_store *st, const json_t *d, json_t **out, sk_error *err)
{
	const char *own = sk_store_own_id(st);
	json_t *subj = json_object_get(d, "subject"), *ids, *refs, *rep, *signed_rep, *objs, *e;
	json_t *sum = json_object_get(d, "executive_summary"), *conf;
	const char *sid = json_string_value(json_object_get(subj, "id"));
	const char *gen = json_string_value(json_object_get(d, "generated"));
	const char *mark;
	char uuid[SK_UUID_LEN + 1], key[600], rid[64], name[400], bid[64], desc[3000];
	size_t i, n;
	json_t **v;

	*out = NULL;
	if (!own)
		return sk_error_set(err, SK_ENOTINIT, "the node has no identity (schakel init)");
	/* one report id per node, subject and audience: a new build is a new version */
	snprintf(key, sizeof(key), "%s|attribution-dossier|%s|%s", own, sid,
	         json_string_value(json_object_get(d, "for"))
	             ? json_string_value(json_object_get(d, "for"))
	             : "");
	if (!sk_uuid_v5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", key, strlen(key), uuid))
		return sk_error_set(err, SK_EINVAL, "report id");
	snprintf(rid, sizeof(rid), "report--%s", uuid);
	ids = json_object_get(json_object_get(d, "evidence"), "ids");
	n = json_array_size(ids);
	refs = json_array();
	v = n ? malloc(n * sizeof(*v)) : NULL;
	for (i = 0; v && i < n; i++)
		v[i] = json_array_get(ids, i);
	if (v)
		qsort(v, n, sizeof(*v), by_string);
	for (i = 0; v && i < n; i++)
		json_array_append(refs, v[i]);
	free(v);
	snprintf(name, sizeof(name), "Attribution dossier: %s",
	         json_string_value(json_object_get(subj, "name")));
	snprintf(desc, sizeof(desc),
	         "Who: %s. Against whom: %s. Since: %s. How sure: %s. Who agrees: %s. %s",
	         json_string_value(json_object_get(sum, "who")),
	         json_string_value(json_object_get(sum, "against_whom")),
	         json_string_value(json_object_get(sum, "since_when")),
	         json_string_value(json_object_get(sum, "how_sure")),
	         json_string_value(json_object_get(sum, "who_agrees")),
	         json_string_value(json_object_get(d, "statement")));
	dz_utf8_trim(name);
	dz_utf8_trim(desc);
	rep = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s], s:O}", "type",
	                "report", "spec_version", "2.1", "id", rid, "created", gen, "modified", gen,
	                "created_by_ref", own, "name", name, "description", desc, "published", gen,
	                "report_types", json_string_value(json_object_get(subj, "type")), "labels",
	                "attribution-dossier", "object_refs", refs);
	if (!rep) {
		json_decref(refs);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	conf = json_object_get(json_object_get(d, "attribution"), "confidence");
	if (json_is_integer(conf))
		json_object_set(rep, "confidence", conf);
	mark = tlp_of_level(json_string_value(json_object_get(json_object_get(d, "tlp"), "level")));
	if (mark)
		json_object_set_new(rep, "object_marking_refs", json_pack("[s]", mark));
	if (!json_array_size(refs)) /* STIX: object_refs has at least one entry */
		json_array_append_new(refs, json_string(sid));
	signed_rep = sign(st, rep, err);
	json_decref(rep);
	if (!signed_rep) {
		json_decref(refs);
		return err->code;
	}
	objs = json_array();
	json_array_append_new(objs, signed_rep);
	json_array_foreach(refs, i, e)
	{
		json_t *o = stored(st, json_string_value(e));
		if (o)
			json_array_append_new(objs, o);
	}
	json_decref(refs);
	sk_uuid_v4(uuid);
	snprintf(bid, sizeof(bid), "bundle--%s", uuid);
	*out = json_pack("{s:s, s:s, s:o}", "type", "bundle", "id", bid, "objects", objs);
	return *out ? SK_OK : sk_error_set(err, SK_ENOMEM, "out of memory");
}

/* --- opinions ----------------------------------------------------------------------- */

static const char *const values[] = {"strongly-disagree", "disagree", "neutral", "agree",
                                     "strongly-agree",    NULL};

sk_err sk_dossier_opinion_add(sk_store *st, const char *report_id, const char *opinion,
                              const char *explanation, char *id_out, sk_error *err)
{
	static const char latest[] =
	    "SELECT tlp FROM objects WHERE id=?1 ORDER BY version DESC, ver DESC LIMIT 1";
	static const char holders[] =
	    "SELECT DISTINCT c.coll FROM collection_objects c JOIN objects o ON o.ver=c.ver"
	    " WHERE o.id=?1 ORDER BY c.coll LIMIT 64";
	const char *own = sk_store_own_id(st);
	int64_t cids[OPINION_COLLS];
	size_t ncids = 0;
	sqlite3_stmt *s = NULL;
	char uuid[SK_UUID_LEN + 1], now[SK_TS_STR_MAX];
	json_t *o = NULL;
	int tlp = -1;
	bool ok = false;
	sk_err rc;

	for (size_t i = 0; opinion && values[i]; i++)
		ok |= !strcmp(opinion, values[i]);
	if (!ok)
		return sk_error_set(
		    err, SK_EINVAL,
		    "--opinion '%.40s': strongly-disagree, disagree, neutral, agree or "
		    "strongly-agree",
		    opinion ? opinion : "");
	if (explanation && strlen(explanation) > EXPLANATION_MAX)
		return sk_error_set(err, SK_EINVAL, "--explanation: longer than %d bytes",
		                    EXPLANATION_MAX);
	if (!dz_is_type(report_id, "report"))
		return sk_error_set(err, SK_EINVAL, "%.100s: not a report id (report--UUID)",
		                    report_id);
	if (!own)
		return sk_error_set(err, SK_ENOTINIT, "the node has no identity (schakel init)");
	if (sqlite3_prepare_v2(sk_store_sqlite(st), latest, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "opinion");
	sqlite3_bind_text(s, 1, report_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		tlp = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (tlp < 0)
		return sk_error_set(err, SK_ENOTFOUND, "%.100s: no such report", report_id);
	if (sqlite3_prepare_v2(sk_store_sqlite(st), holders, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "opinion");
	sqlite3_bind_text(s, 1, report_id, -1, SQLITE_STATIC);
	while (ncids < OPINION_COLLS && sqlite3_step(s) == SQLITE_ROW)
		cids[ncids++] = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sk_uuid_v4(uuid);
	sk_ts_format_ms(sk_ts_now_us(), now);
	snprintf(id_out, 64, "opinion--%s", uuid);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type", "opinion",
	              "spec_version", "2.1", "id", id_out, "created", now, "modified", now,
	              "created_by_ref", own, "opinion", opinion, "object_refs", report_id);
	if (!o)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (explanation && *explanation) {
		json_t *x = json_string(explanation);
		if (!x) {
			json_decref(o);
			return sk_error_set(err, SK_EINVAL, "--explanation: not UTF-8");
		}
		json_object_set_new(o, "explanation", x);
	}
	if (tlp > 0 && sk_tlp_marking_id((sk_tlp)tlp))
		json_object_set_new(o, "object_marking_refs",
		                    json_pack("[s]", sk_tlp_marking_id((sk_tlp)tlp)));
	if ((rc = sk_store_begin(st, err))) {
		json_decref(o);
		return rc;
	}
	sk_store_set_origin(st, NULL); /* made here */
	for (size_t i = 0; i < (ncids ? ncids : 1) && !rc; i++)
		rc = sk_store_put_json(st, ncids ? cids[i] : 0, o, err);
	if (!rc)
		rc = sk_store_commit(st, err);
	else
		sk_store_rollback(st);
	json_decref(o);
	return rc;
}
