/*
 * ui_objects.c - the console's object page, GET /ui/api/objects/{id}
 * (docs/console.md): every visible version with its JSON, markings,
 * collections, where it came from, its signature verdict, relationships
 * both ways, reports containing it, sightings of it with where they were
 * made, and the other objects carrying the same observable values.
 *
 * Only what the request's view shows is used: versions through sk_visible,
 * relationships, reports and sightings through it too, and a relationship
 * whose other end is hidden is left out.  An object none of whose versions
 * is visible answers the same 404 as an unknown id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/sign.h"
#include "store/store_priv.h"
#include "ui/ui_data_int.h"

#define OBJ_MAX_VERSIONS 200 /* newest versions shown */
#define OBJ_MAX_RELS     500 /* relationships each way */
#define OBJ_MAX_ITEMS    100 /* reports, sightings listed */
#define OBJ_MAX_VALUES   32  /* observable values correlated */
#define OBJ_MAX_CORR     20  /* objects per value */

static json_t *load_json(const char *text, int len)
{
	json_error_t je;
	json_t *j = text ? json_loadb(text, (size_t)len, 0, &je) : NULL;
	return j ? j : json_null();
}

/* The marking ids of version ver (object-level as strings, granular as objects). */
static json_t *markings(ui_ctx *c, int64_t ver)
{
	json_t *a = json_array();
	sqlite3_stmt *s = ui_stmt(c, "SELECT marking, granular FROM object_markings WHERE ver=?1");
	if (!s)
		return a;
	sqlite3_bind_int64(s, 1, ver);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_int(s, 1))
			json_array_append_new(
			    a, json_pack("{s:s, s:b}", "marking_ref", ui_col(s, 0), "granular", 1));
		else
			json_array_append_new(a, json_string(ui_col(s, 0)));
	}
	ui_stmt_done(c, s);
	return a;
}

/* The names of the collections holding ver that the principal may see. */
static json_t *collections(ui_ctx *c, int64_t ver)
{
	json_t *a = json_array();
	sqlite3_stmt *s = ui_stmt(c, "SELECT cl.cid, cl.name FROM collections cl WHERE EXISTS"
	                             "(SELECT 1 FROM collection_objects co WHERE co.coll=cl.cid"
	                             " AND co.ver=?1) ORDER BY cl.name");
	if (!s)
		return a;
	sqlite3_bind_int64(s, 1, ver);
	while (sqlite3_step(s) == SQLITE_ROW)
		if (ui_collection_visible(c, sqlite3_column_int64(s, 0)))
			json_array_append_new(a, json_string(ui_col(s, 1)));
	ui_stmt_done(c, s);
	return a;
}

/* {rx, name, received}: where ver first came from (rx null: made or imported here). */
static json_t *source(ui_ctx *c, int64_t ver, const char *rx, int64_t added)
{
	static const char q[] =
	    "SELECT (SELECT name FROM partners WHERE identity=?2 AND pid>0),"
	    " (SELECT name FROM peers WHERE identity=?2 OR 'peer:' || name=?2 LIMIT 1),"
	    " (SELECT arrived FROM provenance WHERE ver=?1),"
	    " (SELECT peer FROM provenance WHERE ver=?1)";
	sqlite3_stmt *s = ui_stmt(c, q);
	json_t *name = json_null(), *peer = json_null();
	int64_t received = added;

	if (s) {
		sqlite3_bind_int64(s, 1, ver);
		sqlite3_bind_text(s, 2, rx ? rx : "", -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) == SQLITE_ROW) {
			/* a partner's name only for own people: partners do not list each other */
			if (ui_col(s, 0) && (ui_is_own(c) || (rx && !strcmp(rx, c->who.identity))))
				name = json_string(ui_col(s, 0));
			else if (ui_col(s, 1) && ui_is_own(c))
				name = json_string(ui_col(s, 1));
			if (sqlite3_column_type(s, 2) == SQLITE_INTEGER)
				received = sqlite3_column_int64(s, 2);
			if (ui_col(s, 3) && ui_is_own(c))
				peer = json_string(ui_col(s, 3));
		}
		ui_stmt_done(c, s);
	}
	return json_pack("{s:s?, s:o, s:o, s:o}", "rx", rx, "name", name, "peer", peer, "received",
	                 ui_time_json(received));
}

static json_t *signature(ui_ctx *c, int sig, const char *by)
{
	unsigned char pk[SK_KEY_PK_LEN];
	char b64[SK_KEY_B64_MAX];
	bool found = false;
	json_t *key = json_null();

	if (sig != SK_SIG_UNSIGNED && by &&
	    sk_store_key_get(c->st, by, pk, &found, NULL) == SK_OK && found) {
		sk_key_b64(pk, b64);
		key = json_string(b64);
	}
	return json_pack("{s:s, s:s?, s:o}", "verdict", sk_sig_verdict_name((sk_sig_verdict)sig),
	                 "signer", sig != SK_SIG_UNSIGNED ? by : NULL, "key", key);
}

/* Relationships of id whose src_ref (out) or dst_ref (in) is id; hidden ends are left out. */
static json_t *relationships(ui_ctx *c, const char *id, bool out)
{
	static const char qo[] =
	    "SELECT o.id, o.rel_type, o.dst_ref FROM objects o WHERE o.src_ref=?1"
	    " AND o.type='relationship' AND " UI_VISIBLE " AND " UI_LATEST
	    " ORDER BY o.rel_type, o.ver LIMIT ?2";
	static const char qi[] =
	    "SELECT o.id, o.rel_type, o.src_ref FROM objects o WHERE o.dst_ref=?1"
	    " AND o.type='relationship' AND " UI_VISIBLE " AND " UI_LATEST
	    " ORDER BY o.rel_type, o.ver LIMIT ?2";
	json_t *a = json_array();
	sqlite3_stmt *s = ui_stmt(c, out ? qo : qi);

	if (!s)
		return a;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, OBJ_MAX_RELS);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *other = ui_summary_of(c, ui_col(s, 2));
		if (!other)
			continue;
		json_array_append_new(a, json_pack("{s:s, s:s?, s:o}", "id", ui_col(s, 0),
		                                   "relationship_type", ui_col(s, 1),
		                                   out ? "target" : "source", other));
	}
	ui_stmt_done(c, s);
	return a;
}

static json_t *reports(ui_ctx *c, const char *id)
{
	static const char q[] =
	    "SELECT " UI_SUM_COLS " FROM objects o WHERE o.type='report' AND " UI_VISIBLE
	    " AND " UI_LATEST " AND EXISTS(SELECT 1 FROM"
	    " json_each(o.json,'$.object_refs') j WHERE j.value=?1)"
	    " ORDER BY o.ver DESC LIMIT ?2";
	json_t *a = json_array();
	sqlite3_stmt *s = ui_stmt(c, q);
	if (!s)
		return a;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, OBJ_MAX_ITEMS);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(a, ui_summary(c, s, 0));
	ui_stmt_done(c, s);
	return a;
}

/* --- sightings ---------------------------------------------------------------------- */

typedef struct agg {
	json_t *by; /* key -> count */
} agg;

static void agg_add(json_t *by, const char *key, long long n)
{
	json_t *v;
	if (!key || !*key)
		return;
	v = json_object_get(by, key);
	json_object_set_new(by, key, json_integer((v ? json_integer_value(v) : 0) + n));
}

static json_t *agg_list(json_t *by, const char *name)
{
	json_t *a = json_array(), *v;
	const char *k;
	json_object_foreach(by, k, v)
	{
		json_array_append_new(a, json_pack("{s:s, s:O}", name, k, "count", v));
	}
	return a;
}

/* {id, name, sectors, country} of a where_sighted identity (visible only; else just the id). */
static json_t *place(ui_ctx *c, const char *identity)
{
	static const char qi[] =
	    "SELECT json_extract(o.json,'$.name'),"
	    " json_extract(o.json,'$.sectors') FROM objects o WHERE o.id=?1 AND " UI_VISIBLE
	    " ORDER BY o.version DESC LIMIT 1";
	static const char ql[] = "SELECT json_extract(l.json,'$.country') FROM objects o"
	                         " JOIN objects l ON l.id=o.dst_ref WHERE o.src_ref=?1"
	                         " AND o.rel_type='located-at' AND " UI_VISIBLE
	                         " AND sk_visible(l.ver, l.tlp, l.created_by, l.rx)"
	                         " AND json_extract(l.json,'$.country') IS NOT NULL LIMIT 1";
	json_t *name = json_null(), *sectors = json_array(), *country = json_null();
	sqlite3_stmt *s;

	if ((s = ui_stmt(c, qi))) {
		sqlite3_bind_text(s, 1, identity, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) == SQLITE_ROW) {
			if (ui_col(s, 0))
				name = json_string(ui_col(s, 0));
			if (ui_col(s, 1)) {
				json_t *sec = load_json(ui_col(s, 1), sqlite3_column_bytes(s, 1));
				if (json_is_array(sec)) {
					json_decref(sectors);
					sectors = sec;
				} else {
					json_decref(sec);
				}
			}
		}
		ui_stmt_done(c, s);
	}
	if ((s = ui_stmt(c, ql))) {
		sqlite3_bind_text(s, 1, identity, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) == SQLITE_ROW && ui_col(s, 0))
			country = json_string(ui_col(s, 0));
		ui_stmt_done(c, s);
	}
	return json_pack("{s:s, s:o, s:o, s:o}", "id", identity, "name", name, "sectors", sectors,
	                 "country", country);
}

static json_t *sightings(ui_ctx *c, const char *id)
{
	static const char q[] =
	    "SELECT o.id, json_extract(o.json,'$.first_seen'), json_extract(o.json,'$.last_seen'),"
	    " coalesce(json_extract(o.json,'$.count'), 1), "
	    "json_extract(o.json,'$.where_sighted_refs')"
	    " FROM objects o WHERE o.dst_ref=?1 AND o.type='sighting' AND " UI_VISIBLE
	    " AND " UI_LATEST " ORDER BY o.ver DESC LIMIT 10000";
	json_t *items = json_array(), *sec = json_object(), *cty = json_object(),
	       *places = json_object();
	sqlite3_stmt *s = ui_stmt(c, q);
	long long total = 0;

	if (s) {
		sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(s) == SQLITE_ROW) {
			long long n = sqlite3_column_int64(s, 3);
			json_t *refs = load_json(ui_col(s, 4), sqlite3_column_bytes(s, 4));
			json_t *where = json_array(), *r;
			size_t i;
			total++;
			json_array_foreach(refs, i, r)
			{
				const char *ref = json_string_value(r);
				json_t *p, *x;
				size_t k;
				if (!ref || i >= 16)
					continue;
				if (!(p = json_object_get(places, ref))) {
					p = place(c, ref);
					json_object_set_new(places, ref, p);
				}
				json_array_append(where, p);
				json_array_foreach(json_object_get(p, "sectors"), k, x)
				{
					agg_add(sec, json_string_value(x), n);
				}
				agg_add(cty, json_string_value(json_object_get(p, "country")), n);
			}
			json_decref(refs);
			if (json_array_size(items) < OBJ_MAX_ITEMS)
				json_array_append_new(
				    items,
				    json_pack("{s:s, s:s?, s:s?, s:I, s:o}", "id", ui_col(s, 0),
				              "first_seen", ui_col(s, 1), "last_seen", ui_col(s, 2),
				              "count", (json_int_t)n, "where", where));
			else
				json_decref(where);
		}
		ui_stmt_done(c, s);
	}
	json_t *out =
	    json_pack("{s:I, s:o, s:o, s:o}", "total", (json_int_t)total, "items", items,
	              "by_sector", agg_list(sec, "sector"), "by_country", agg_list(cty, "country"));
	json_decref(sec);
	json_decref(cty);
	json_decref(places);
	return out;
}

/* --- correlation -------------------------------------------------------------------- */

typedef struct corr {
	ui_ctx *c;
	const char *id;
	json_t *out;
	int n;
} corr;

static int corr_value(void *ud, const char *value, const char *kind)
{
	static const char q[] = "SELECT " UI_SUM_COLS " FROM observables ob JOIN objects o"
	                        " ON o.ver=ob.ver WHERE ob.value=?1 AND o.id<>?2 AND " UI_VISIBLE
	                        " AND " UI_LATEST " ORDER BY o.ver DESC LIMIT ?3";
	corr *k = ud;
	json_t *objs = json_array();
	sqlite3_stmt *s;

	if (++k->n > OBJ_MAX_VALUES || !(s = ui_stmt(k->c, q))) {
		json_decref(objs);
		return 1;
	}
	sqlite3_bind_text(s, 1, value, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, k->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 3, OBJ_MAX_CORR);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(objs, ui_summary(k->c, s, 0));
	ui_stmt_done(k->c, s);
	if (json_array_size(objs))
		json_array_append_new(k->out, json_pack("{s:s, s:s, s:o}", "value", value, "kind",
		                                        kind, "objects", objs));
	else
		json_decref(objs);
	return 0;
}

/* --- the page ----------------------------------------------------------------------- */

void ui_h_object(ui_ctx *c, char **seg, size_t nseg)
{
	static const char qv[] =
	    "SELECT o.ver, o.version, o.modified, o.added, o.revoked, o.json, o.tlp, o.created_by,"
	    " o.rx, o.sig FROM objects o WHERE o.id=?1 AND " UI_VISIBLE
	    " ORDER BY o.version DESC, o.spec DESC LIMIT ?2";
	const char *id = nseg > 1 ? seg[1] : "";
	json_t *page = NULL, *versions = json_array(), *latest = NULL, *rel;
	int64_t ver = 0, added = 0;
	int sig = 0;
	char *rx = NULL, *by = NULL;
	corr k = {.c = c, .id = id};
	int64_t vers_shown[OBJ_MAX_VERSIONS];
	size_t nv = 0;
	sqlite3_stmt *s;

	if (!sk_stix_id_valid(id, NULL)) {
		ui_error(c, 404, "no object '%.200s'", id);
		goto out;
	}
	if (!(s = ui_stmt(c, qv)))
		goto out;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, OBJ_MAX_VERSIONS);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *obj = load_json(ui_col(s, 5), sqlite3_column_bytes(s, 5));
		if (nv < OBJ_MAX_VERSIONS)
			vers_shown[nv++] = sqlite3_column_int64(s, 0);
		if (!ver) {
			ver = sqlite3_column_int64(s, 0);
			added = sqlite3_column_int64(s, 3);
			sig = sqlite3_column_int(s, 9);
			rx = ui_col(s, 8) ? strdup(ui_col(s, 8)) : NULL;
			by = ui_col(s, 7) ? strdup(ui_col(s, 7)) : NULL;
			latest = json_incref(obj);
		}
		/* oldest first, as the front end diffs each against the one before */
		json_array_insert_new(versions, 0,
		                      json_pack("{s:s?, s:s?, s:o, s:b, s:o}", "version",
		                                ui_col(s, 2), "modified", ui_col(s, 2), "added",
		                                ui_time_json(sqlite3_column_int64(s, 3)), "revoked",
		                                sqlite3_column_int(s, 4) != 0, "object", obj));
	}
	ui_stmt_done(c, s);
	if (!ver || !(page = ui_summary_of(c, id))) {
		ui_error(c, 404, "no object '%.200s'", id);
		goto out;
	}
	json_object_set_new(page, "object", latest);
	latest = NULL;
	json_object_set_new(page, "markings", markings(c, ver));
	json_object_set_new(page, "collections", collections(c, ver));
	json_object_set_new(page, "source", source(c, ver, rx, added));
	json_object_set_new(page, "signature", signature(c, sig, by));
	json_object_set(page, "versions", versions);
	rel = json_pack("{s:o, s:o}", "out", relationships(c, id, true), "in",
	                relationships(c, id, false));
	json_object_set_new(page, "relationships", rel);
	json_object_set_new(page, "reports", reports(c, id));
	json_object_set_new(page, "sightings", sightings(c, id));
	k.out = json_array();
	sk_store_search_values(c->st, ver, corr_value, &k, NULL);
	json_object_set_new(page, "correlation", k.out);
	if (!ui_audit_exit(c, "console.object", vers_shown, nv))
		goto out;
	ui_send_json(c, 200, page);
	page = NULL;
out:
	json_decref(page);
	json_decref(latest);
	json_decref(versions);
	free(rx);
	free(by);
}
