/*
 * coop_fed.c - a node's cooperation summary for one partner (coop.h,
 * docs/cooperation.md, "The federation view"): the partner-scoped report
 * of the period, computed through that partner's view, turned into a STIX
 * object of the custom type x-schakel-coop-summary (defined by the
 * extension-definition SK_COOP_EXT_ID), and stored here as made here (so
 * signed with the node key) in no collection: it leaves only by the push
 * queued for its addressee (sk_sync_push_summary, sync.h).
 */
#include "coop_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/sign.h"
#include "schakel/timestamp.h"
#include "schakel/tlp.h"
#include "schakel/uuid.h"

const char *sk_coop_extension_definition(void)
{
	return "{\"type\":\"extension-definition\",\"spec_version\":\"2.1\",\"id\":"
	       "\"" SK_COOP_EXT_ID "\",\"created\":\"2026-12-07T00:00:00.000Z\",\"modified\":"
	       "\"2026-12-07T00:00:00.000Z\","
	       "\"created_by_ref\":\"" SK_SIG_EXT_PRODUCER "\","
	       "\"name\":\"schakel cooperation summary\",\"description\":\"A node's measured "
	       "cooperation with one partner over a period (x-schakel-coop-summary), published "
	       "to that partner only, with consent; every figure counts only what the partner "
	       "may know.\",\"schema\":\"https://schakel.example/docs/cooperation.md\","
	       "\"version\":\"1.0.0\",\"extension_types\":[\"new-sdo\"]}";
}

/* STIX has no null values and no empty lists: drop them (and empty objects), recursively. */
static void prune(json_t *v)
{
	const char *k;
	json_t *x;
	void *tmp;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach_safe(v, tmp, k, x)
		{
			prune(x);
			if (json_is_null(x) || (json_is_array(x) && !json_array_size(x)) ||
			    (json_is_object(x) && !json_object_size(x)))
				json_object_del(v, k);
		}
	} else if (json_is_array(v)) {
		for (i = json_array_size(v); i-- > 0;) {
			x = json_array_get(v, i);
			prune(x);
			if (json_is_null(x))
				json_array_remove(v, i);
		}
	}
}

/*
 * The recipient's own objects here (created_by = recipient, received, added
 * in the period, visible to the bound view): how fast they came, whole and
 * last hop, and whether directly or through another node.
 */
static sk_err from_recipient(sk_store *st, const char *who, int64_t since, int64_t until,
                             json_t **out, sk_error *err)
{
	static const char q[] =
	    "SELECT o.added, coalesce(o.modified, o.created), p.source_added, o.rx=?1"
	    " FROM objects o LEFT JOIN provenance p ON p.ver=o.ver"
	    " WHERE o.created_by=?1 AND o.rx IS NOT NULL AND o.added>=?2 AND o.added<?3"
	    " AND " IN_VIS("o");
	sqlite3_stmt *s = NULL;
	co_vec tts = {0}, hop = {0};
	json_int_t direct = 0, relayed = 0;
	bool ok = true;

	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "cooperation summary");
	sqlite3_bind_text(s, 1, who, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, since);
	sqlite3_bind_int64(s, 3, until);
	while (ok && sqlite3_step(s) == SQLITE_ROW) {
		int64_t added = sqlite3_column_int64(s, 0), made;
		const char *m = (const char *)sqlite3_column_text(s, 1);
		*(sqlite3_column_int(s, 3) ? &direct : &relayed) += 1;
		if (m && sk_ts_parse(m, strlen(m), NULL, &made))
			ok = co_vec_add(&tts, (double)(added - made) / 1e6);
		if (ok && sqlite3_column_type(s, 2) != SQLITE_NULL)
			ok = co_vec_add(&hop, (double)(added - sqlite3_column_int64(s, 2)) / 1e6);
	}
	sqlite3_finalize(s);
	*out = ok ? json_pack("{s:I, s:I, s:I, s:o, s:o}", "versions", direct + relayed, "direct",
	                      direct, "relayed", relayed, "time_to_share_s", co_vec_json(&tts),
	                      "last_hop_s", co_vec_json(&hop))
	          : NULL;
	co_vec_free(&tts);
	co_vec_free(&hop);
	return *out ? SK_OK : sk_error_set(err, SK_ENOMEM, "out of memory");
}

/* The sectors this node's identity states (a new array, maybe empty). */
static json_t *own_sectors(sk_store *st, const char *me)
{
	static const char q[] = "SELECT json_extract(json,'$.sectors') FROM objects WHERE id=?1 "
	                        "ORDER BY ver DESC LIMIT 1";
	sqlite3_stmt *s = NULL;
	json_t *r = NULL;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, me, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			r = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
	}
	sqlite3_finalize(s);
	if (!json_is_array(r)) {
		json_decref(r);
		r = json_array();
	}
	return r;
}

static json_t *ts_str(int64_t us)
{
	char b[SK_TS_STR_MAX];
	sk_ts_format_ms(us, b);
	return json_string(b);
}

sk_err sk_coop_summary(sk_store *st, const sk_coop_opts *o, json_t **out, sk_error *err)
{
	sk_coop_opts k = *o;
	json_t *rep = NULL, *row, *keyed, *own, *obj = NULL, *from = NULL, *sync;
	const char *recipient;
	json_int_t here = 0, recv;
	char *me = NULL, uuid[SK_UUID_LEN + 1], id[80];
	int64_t now = sk_ts_now_us(), since, until;
	sk_err rc;
	size_t i;

	*out = NULL;
	if (!o->partner)
		return sk_error_set(err, SK_EINVAL, "a summary is for one partner");
	k.keyed = true;
	if ((rc = sk_coop_report(st, &k, &rep, err)))
		return rc;
	row = json_array_get(json_object_get(rep, "partners"), 0);
	recipient = json_string_value(json_object_get(row, "identity"));
	if (!recipient) {
		rc = sk_error_set(err, SK_EINVAL,
		                  "%s has no STIX identity: a summary names its recipient",
		                  o->partner);
		goto out;
	}
	if (sk_store_node_id(st, &me, NULL) || !me) {
		rc = sk_error_set(err, SK_ENOTINIT, "the node has no identity (schakel init)");
		goto out;
	}
	since = o->since > 0 ? o->since : 0;
	until = o->until > 0 ? o->until : now;
	if ((rc = from_recipient(st, recipient, since, until, &from, err)))
		goto out;
	keyed = json_object_get(rep, "keyed_sightings");
	json_array_foreach(keyed, i, row)
	{
		if (json_is_true(json_object_get(row, "here")))
			here++;
	}
	row = json_array_get(json_object_get(rep, "partners"), 0);
	own = json_object_get(rep, "own");
	recv = (json_int_t)json_array_size(keyed) - here;
	sync = json_object_get(json_object_get(row, "sync"), "period");
	sk_uuid_v4(uuid);
	snprintf(id, sizeof(id), "%s--%s", SK_COOP_SUMMARY_TYPE, uuid);
	obj =
	    json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:[s], s:{s:{s:s}}, s:s, s:o, s:o,"
	              " s:{s:O, s:O, s:O, s:O, s:O, s:O, s:O}, s:o, s:O, s:{s:I, s:I}, s:O, s:O,"
	              " s:O?, s:O?}",
	              "type", SK_COOP_SUMMARY_TYPE, "spec_version", "2.1", "id", id, "created",
	              ts_str(now), "modified", ts_str(now), "created_by_ref", me,
	              "object_marking_refs", sk_tlp_marking_id(SK_TLP_AMBER_STRICT), "extensions",
	              SK_COOP_EXT_ID, "extension_type", "new-sdo", "recipient_ref", recipient,
	              "period_start", ts_str(since), "period_end", ts_str(until), "exchanged",
	              "objects_received", json_object_get(row, "objects_received"), "objects_sent",
	              json_object_get(row, "objects_sent"), "sightings_received",
	              json_object_get(row, "sightings_received"), "sightings_sent",
	              json_object_get(row, "sightings_sent"), "detections_enabled",
	              json_object_get(row, "detections_enabled"), "lead_time_s",
	              json_object_get(row, "lead_time_s"), "feedback_lead_s",
	              json_object_get(row, "feedback_lead_s"), "recipients_objects", from,
	              "keyed_sightings", keyed, "unkeyed_sightings", "here",
	              json_integer_value(json_object_get(own, "sightings_here")) - here, "received",
	              json_integer_value(json_object_get(own, "sightings_received")) - recv,
	              "sectors", json_object_get(rep, "sectors"), "anonymous_sightings",
	              json_object_get(rep, "anonymous_sightings"), "link", sync, "capacity",
	              json_object_get(rep, "capacity"));
	from = NULL;
	if (!obj) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	/* the sectors credit the recipient or this node only (scoped); a node's name is its id */
	json_array_foreach(json_object_get(obj, "sectors"), i, row)
	{
		json_object_del(row, "feedback_lead_s");
	}
	/* the node's sectors: the hub credits protection by sector with them */
	json_object_set_new(obj, "node_sectors", own_sectors(st, me));
	prune(obj);
	*out = obj;
out:
	json_decref(from);
	json_decref(rep);
	free(me);
	return rc;
}

sk_err sk_coop_summary_store(sk_store *st, json_t *obj, int64_t *ver, sk_error *err)
{
	static const char q[] = "SELECT ver FROM objects WHERE id=?1 ORDER BY ver DESC LIMIT 1";
	sqlite3_stmt *s = NULL;
	sk_err rc;

	*ver = 0;
	sk_store_set_origin(st, NULL); /* made here: the write rule signs it */
	if ((rc = sk_store_put_json(st, 0, obj, err)))
		return rc;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "cooperation summary");
	sqlite3_bind_text(s, 1, json_string_value(json_object_get(obj, "id")), -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		*ver = sqlite3_column_int64(s, 0);
	else
		rc = sk_error_set(err, SK_EDB, "cooperation summary: not stored");
	sqlite3_finalize(s);
	return rc;
}
