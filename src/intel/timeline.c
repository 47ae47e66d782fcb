/*
 * timeline.c - what happened to a campaign or actor over time (intel.h):
 * its versions and revocation, relationships to and from it, campaigns
 * attributed to it, reports that contain it, and sightings of it and of
 * the indicators that indicate it (or a campaign attributed to it).
 */
#include "intel_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 5000

typedef struct tl {
	sk_store *st;
	const char *id;
	json_t *events;
	json_t *indicators; /* indicator id -> what it indicates (name) */
	sk_error *err;
} tl;

static void event(tl *t, const char *time, const char *kind, const char *id, const char *name,
                  const char *detail)
{
	if (!time || json_array_size(t->events) >= MAX_EVENTS)
		return;
	json_array_append_new(t->events,
	                      json_pack("{s:s, s:s, s:s?, s:s?, s:s?}", "time", time, "kind", kind,
	                                "id", id, "name", name, "detail", detail));
}

static sqlite3_stmt *prep(tl *t, const char *sql, size_t len)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(sk_store_sqlite(t->st), sql, (int)len, &s, NULL) != SQLITE_OK) {
		sk_store_dberr(t->st, t->err, "intel: timeline");
		return NULL;
	}
	return s;
}

#define PREP(t, sql) prep(t, sql, sizeof(sql) - 1)

static sk_err versions(tl *t)
{
	static const char sql[] = "SELECT o.modified, o.created, o.revoked FROM objects o"
	                          " WHERE o.id=?1 AND " IN_VIS("o") " ORDER BY o.version, o.ver";
	sqlite3_stmt *s = PREP(t, sql);
	int n = 0;
	if (!s)
		return SK_EDB;
	sqlite3_bind_text(s, 1, t->id, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 0);
		const char *when = m ? m : (const char *)sqlite3_column_text(s, 1);
		char d[64];
		snprintf(d, sizeof(d), "version %d", ++n);
		event(t, when, sqlite3_column_int(s, 2) ? "revocation" : "version", t->id, NULL,
		      n == 1 ? "created" : d);
	}
	sqlite3_finalize(s);
	return SK_OK;
}

/* Relationships to and from the subject; campaigns attributed to it; indicators of it. */
static sk_err relationships(tl *t)
{
	static const char sql[] =
	    "SELECT o.id, o.rel_type, o.src_ref, o.dst_ref, o.created FROM objects o"
	    " WHERE (o.src_ref=?1 OR o.dst_ref=?1) AND +o.type='relationship' AND o.revoked=0 "
	    "AND " IN_LATEST("o");
	sqlite3_stmt *s = PREP(t, sql);
	if (!s)
		return SK_EDB;
	sqlite3_bind_text(s, 1, t->id, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *rel = (const char *)sqlite3_column_text(s, 1);
		const char *src = (const char *)sqlite3_column_text(s, 2);
		const char *dst = (const char *)sqlite3_column_text(s, 3);
		bool out = !strcmp(src, t->id);
		const char *other = out ? dst : src;
		json_t *sum = sk_intel_summary(t->st, other);
		char d[300];
		if (!sum)
			continue; /* the other end is not visible */
		snprintf(d, sizeof(d), "%s %s %.200s", out ? "->" : "<-", rel,
		         json_string_value(json_object_get(sum, "name")));
		event(t, (const char *)sqlite3_column_text(s, 4), "relationship",
		      (const char *)sqlite3_column_text(s, 0), rel, d);
		if (!out && !strncmp(src, "campaign--", 10) && !strcmp(rel, "attributed-to"))
			json_object_set_new(t->indicators, src, json_string("campaign"));
		if (out && !strcmp(rel, "uses") &&
		    (!strncmp(dst, "malware--", 9) || !strncmp(dst, "tool--", 6)))
			json_object_set_new(t->indicators, dst, json_string("software"));
		if (!out && !strncmp(src, "indicator--", 11) && !strcmp(rel, "indicates"))
			json_object_set(t->indicators, src, json_object_get(sum, "name"));
		json_decref(sum);
	}
	sqlite3_finalize(s);
	return SK_OK;
}

/*
 * Campaigns attributed to the subject (their first and last seen), and the
 * indicators of those campaigns and of the malware and tools it uses.
 */
static sk_err campaigns(tl *t)
{
	static const char sql[] =
	    "SELECT json_extract(o.json,'$.name'), json_extract(o.json,'$.first_seen'),"
	    " json_extract(o.json,'$.last_seen'), o.created FROM objects o"
	    " WHERE o.id=?1 AND " IN_LATEST("o");
	static const char ind[] =
	    "SELECT o.src_ref FROM objects o WHERE o.dst_ref=?1 AND o.type='relationship'"
	    " AND o.rel_type='indicates' AND o.revoked=0 AND " IN_LATEST("o");
	json_t *camps = json_object(), *v;
	const char *k;
	json_object_foreach(t->indicators, k, v)
	{
		if (strncmp(k, "indicator--", 11))
			json_object_set_new(camps, k, json_true());
	}
	json_object_foreach(camps, k, v)
	{
		sqlite3_stmt *s = strncmp(k, "campaign--", 10) ? NULL : PREP(t, sql);
		if (!s)
			goto indicators;
		sqlite3_bind_text(s, 1, k, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(s, 0);
			const char *first = (const char *)sqlite3_column_text(s, 1);
			const char *last = (const char *)sqlite3_column_text(s, 2);
			event(t, first ? first : (const char *)sqlite3_column_text(s, 3),
			      "campaign", k, name, "first seen");
			event(t, last, "campaign", k, name, "last seen");
		}
		sqlite3_finalize(s);
	indicators:
		if (!(s = PREP(t, ind)))
			break;
		sqlite3_bind_text(s, 1, k, -1, SQLITE_STATIC);
		while (sqlite3_step(s) == SQLITE_ROW)
			json_object_set_new(t->indicators, (const char *)sqlite3_column_text(s, 0),
			                    json_string("campaign indicator"));
		sqlite3_finalize(s);
	}
	json_object_del(t->indicators, t->id);
	json_decref(camps);
	return SK_OK;
}

static sk_err sightings_of(tl *t, const char *of)
{
	static const char sql[] =
	    "SELECT o.id, coalesce(json_extract(o.json,'$.first_seen'), o.created),"
	    " coalesce(json_extract(o.json,'$.count'),1), "
	    "json_extract(o.json,'$.where_sighted_refs')"
	    " FROM objects o WHERE o.dst_ref=?1 AND o.type='sighting' AND o.revoked=0 "
	    "AND " IN_LATEST("o");
	sqlite3_stmt *s = PREP(t, sql);
	if (!s)
		return SK_EDB;
	sqlite3_bind_text(s, 1, of, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		char d[400];
		const char *w = (const char *)sqlite3_column_text(s, 3);
		json_t *where = w ? json_loads(w, 0, NULL) : NULL;
		json_t *ws =
		    json_array_size(where)
		        ? sk_intel_summary(t->st, json_string_value(json_array_get(where, 0)))
		        : NULL;
		snprintf(d, sizeof(d), "seen %lld time(s)%s%.200s%s%.100s",
		         (long long)sqlite3_column_int64(s, 2), ws ? " at " : "",
		         ws ? json_string_value(json_object_get(ws, "name")) : "",
		         strcmp(of, t->id) ? ", indicator " : "", strcmp(of, t->id) ? of : "");
		event(t, (const char *)sqlite3_column_text(s, 1), "sighting",
		      (const char *)sqlite3_column_text(s, 0), NULL, d);
		json_decref(ws);
		json_decref(where);
	}
	sqlite3_finalize(s);
	return SK_OK;
}

static sk_err reports(tl *t)
{
	static const char sql[] =
	    "SELECT o.id, json_extract(o.json,'$.name'), "
	    "coalesce(json_extract(o.json,'$.published'),"
	    " o.created) FROM objects o WHERE o.type='report' AND o.revoked=0 AND " IN_LATEST(
	        "o") " AND EXISTS (SELECT 1 FROM json_each(o.json,'$.object_refs') r WHERE "
	             "r.value=?1)";
	sqlite3_stmt *s = PREP(t, sql);
	if (!s)
		return SK_EDB;
	sqlite3_bind_text(s, 1, t->id, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW)
		event(t, (const char *)sqlite3_column_text(s, 2), "report",
		      (const char *)sqlite3_column_text(s, 0),
		      (const char *)sqlite3_column_text(s, 1), "published");
	sqlite3_finalize(s);
	return SK_OK;
}

static int by_time(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "time"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "time"));
	return strcmp(x ? x : "", y ? y : "");
}

sk_err sk_intel_timeline(sk_store *st, const char *id, json_t **out, sk_error *err)
{
	tl t = {st, id, NULL, NULL, err};
	json_t *subj, *first = NULL, *last = NULL;
	static const char fl[] = "SELECT json_extract(o.json,'$.first_seen'),"
	                         " json_extract(o.json,'$.last_seen') FROM objects o"
	                         " WHERE o.id=?1 AND " IN_LATEST("o");
	sqlite3_stmt *s;
	const char *k;
	json_t *v;
	sk_err rc = SK_OK;

	*out = NULL;
	if (!(subj = sk_intel_summary(st, id)))
		return sk_error_set(err, SK_ENOTFOUND, "%.100s: no such object", id);
	t.events = json_array();
	t.indicators = json_object();
	if ((rc = versions(&t)) || (rc = relationships(&t)) || (rc = campaigns(&t)) ||
	    (rc = reports(&t)) || (rc = sightings_of(&t, id)))
		goto fail;
	json_object_foreach(t.indicators, k, v)
	{
		if (!strncmp(k, "indicator--", 11) && (rc = sightings_of(&t, k)))
			goto fail;
	}
	{ /* oldest first */
		size_t n = json_array_size(t.events);
		json_t **ev = n ? malloc(n * sizeof(*ev)) : NULL;
		if (ev) {
			for (size_t i = 0; i < n; i++)
				ev[i] = json_incref(json_array_get(t.events, i));
			qsort(ev, n, sizeof(*ev), by_time);
			json_array_clear(t.events);
			for (size_t i = 0; i < n; i++)
				json_array_append_new(t.events, ev[i]);
			free(ev);
		}
	}
	if ((s = PREP(&t, fl))) {
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW) {
			if (sqlite3_column_type(s, 0) == SQLITE_TEXT)
				first = json_string((const char *)sqlite3_column_text(s, 0));
			if (sqlite3_column_type(s, 1) == SQLITE_TEXT)
				last = json_string((const char *)sqlite3_column_text(s, 1));
		}
		sqlite3_finalize(s);
	}
	if (!first && json_array_size(t.events))
		first = json_incref(json_object_get(json_array_get(t.events, 0), "time"));
	if (!last && json_array_size(t.events))
		last = json_incref(json_object_get(
		    json_array_get(t.events, json_array_size(t.events) - 1), "time"));
	*out = json_pack("{s:o, s:o, s:o, s:o}", "subject", subj, "first_seen",
	                 first ? first : json_null(), "last_seen", last ? last : json_null(),
	                 "events", t.events);
	json_decref(t.indicators);
	return SK_OK;
fail:
	json_decref(subj);
	json_decref(t.events);
	json_decref(t.indicators);
	return rc;
}
