/*
 * sectors.c - the critical sectors for people (intel.h): who targets each
 * (targets relationships to identities whose STIX sectors map onto it, and
 * the actors behind indicators sighted there), which partners and other
 * organisations of the sector sighted what, and the trend per day.
 */
#include "intel_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIGHTINGS 100000 /* sightings read per call */
#define MAX_LISTED    500    /* sightings listed on a sector's page (all are counted) */

/* The visible identities: id -> {name, keys: {key: true}, country?} */
static sk_err identities(sk_store *st, json_t *out, sk_error *err)
{
	static const char sql[] = "SELECT o.id, json_extract(o.json,'$.name'),"
	                          " json_extract(o.json,'$.sectors') FROM objects o"
	                          " WHERE o.type='identity' AND o.revoked=0 AND " IN_LATEST("o");
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), sql, sizeof(sql) - 1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "intel: identities");
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *o = json_object(), *keys = json_object();
		const char *sec = (const char *)sqlite3_column_text(s, 2);
		if (sec) {
			json_t *tmp = json_pack("{s:o}", "sectors", json_loads(sec, 0, NULL));
			in_sectors_of(tmp, keys);
			json_decref(tmp);
		}
		json_object_set_new(o, "name",
		                    sqlite3_column_text(s, 1)
		                        ? json_string((const char *)sqlite3_column_text(s, 1))
		                        : json_null());
		json_object_set_new(o, "keys", keys);
		json_object_set_new(out, (const char *)sqlite3_column_text(s, 0), o);
	}
	sqlite3_finalize(s);
	return SK_OK;
}

/* Day "YYYY-MM-DD" of a timestamp text into day[11]; false if none. */
static bool day_of(const char *ts, char day[11])
{
	if (!ts || strlen(ts) < 10)
		return false;
	memcpy(day, ts, 10);
	day[10] = 0;
	return true;
}

static void trend_add(json_t *trend, const char *ts, const char *what, json_int_t n)
{
	char day[11];
	json_t *d;
	if (!day_of(ts, day))
		return;
	if (!(d = json_object_get(trend, day))) {
		d = json_pack("{s:s, s:i, s:i}", "day", day, "sightings", 0, "targets", 0);
		json_object_set_new(trend, day, d);
	}
	json_object_set_new(d, what,
	                    json_integer(json_integer_value(json_object_get(d, what)) + n));
}

typedef struct sec_ctx {
	sk_store *st;
	const sk_sector *only; /* NULL: every sector (the summary) */
	json_t *ids;           /* identities */
	/* per key: {targeted_by: {src: via}, sightings: n, trend: {day: {...}},
	   orgs: {identity: n}, list: [sighting]} */
	json_t *per;
	json_t *done; /* indicators whose attackers were looked up */
} sec_ctx;

static json_t *per_key(sec_ctx *c, const char *key)
{
	json_t *p = json_object_get(c->per, key);
	if (!p) {
		p = json_pack("{s:o, s:i, s:o, s:o, s:o}", "targeted_by", json_object(),
		              "sightings", 0, "trend", json_object(), "orgs", json_object(), "list",
		              json_array());
		json_object_set_new(c->per, key, p);
	}
	return p;
}

static bool wanted(sec_ctx *c, const char *key)
{
	return !c->only || !strcmp(c->only->key, key);
}

static sk_err targets(sec_ctx *c, sk_error *err)
{
	/* the attacker must be visible too: a count never includes what the view hides */
	static const char sql[] =
	    "SELECT o.src_ref, o.dst_ref, o.created FROM objects o"
	    " WHERE o.type='relationship' AND o.rel_type='targets'"
	    " AND o.revoked=0 AND " IN_LATEST(
	        "o") " AND EXISTS (SELECT 1 FROM objects a WHERE a.id=o.src_ref"
	             " AND " IN_VIS("a") ")";
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(sk_store_sqlite(c->st), sql, sizeof(sql) - 1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(c->st, err, "intel: targets");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *src = (const char *)sqlite3_column_text(s, 0);
		const char *dst = (const char *)sqlite3_column_text(s, 1);
		json_t *idn = json_object_get(c->ids, dst), *v;
		const char *key;
		if (!src || !idn)
			continue;
		json_object_foreach(json_object_get(idn, "keys"), key, v)
		{
			json_t *p;
			if (!wanted(c, key))
				continue;
			p = per_key(c, key);
			json_object_set_new(json_object_get(p, "targeted_by"), src,
			                    json_pack("{s:s, s:O}", "kind", "targets", "via",
			                              json_object_get(idn, "name")));
			trend_add(json_object_get(p, "trend"),
			          (const char *)sqlite3_column_text(s, 2), "targets", 1);
		}
	}
	sqlite3_finalize(s);
	return SK_OK;
}

/* Add id to targeted_by (as found through a sighting), once. */
static void by_sighting(json_t *targeted_by, const char *id, const char *via)
{
	if (id && !json_object_get(targeted_by, id))
		json_object_set_new(targeted_by, id,
		                    json_pack("{s:s, s:s}", "kind", "sighting", "via", via));
}

/*
 * What an indicator indicates (malware, intrusion sets, campaigns, actors),
 * and who uses the malware or tools it indicates.
 */
static void indicated(sec_ctx *c, const char *ind, json_t *targeted_by, const char *via)
{
	static const char sql[] = "SELECT o.dst_ref FROM objects o WHERE o.src_ref=?1"
	                          " AND o.type='relationship' AND o.rel_type='indicates'"
	                          " AND o.revoked=0 AND " IN_LATEST("o");
	static const char users[] = "SELECT o.src_ref FROM objects o WHERE o.dst_ref=?1"
	                            " AND o.type='relationship' AND o.rel_type='uses'"
	                            " AND o.revoked=0 AND " IN_LATEST("o");
	sqlite3 *db = sk_store_sqlite(c->st);
	sqlite3_stmt *s = NULL, *u = NULL;
	if (sqlite3_prepare_v2(db, sql, sizeof(sql) - 1, &s, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, users, sizeof(users) - 1, &u, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return;
	}
	sqlite3_bind_text(s, 1, ind, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(s, 0);
		by_sighting(targeted_by, d, via);
		if (!d || (strncmp(d, "malware--", 9) && strncmp(d, "tool--", 6)))
			continue;
		sqlite3_reset(u);
		sqlite3_bind_text(u, 1, d, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(u) == SQLITE_ROW) {
			const char *a = (const char *)sqlite3_column_text(u, 0);
			if (a &&
			    (!strncmp(a, "intrusion-set--", 15) ||
			     !strncmp(a, "threat-actor--", 14) || !strncmp(a, "campaign--", 10)))
				by_sighting(targeted_by, a, via);
		}
	}
	sqlite3_finalize(s);
	sqlite3_finalize(u);
}

static sk_err sightings(sec_ctx *c, sk_error *err)
{
	static const char sql[] =
	    "SELECT o.id, o.dst_ref, json_extract(o.json,'$.where_sighted_refs'),"
	    " coalesce(json_extract(o.json,'$.count'),1), json_extract(o.json,'$.first_seen'),"
	    " json_extract(o.json,'$.last_seen'), o.created FROM objects o"
	    " WHERE o.type='sighting' AND o.revoked=0 AND " IN_LATEST("o") " LIMIT ?1";
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(sk_store_sqlite(c->st), sql, sizeof(sql) - 1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(c->st, err, "intel: sightings");
	sqlite3_bind_int(s, 1, MAX_SIGHTINGS);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		const char *of = (const char *)sqlite3_column_text(s, 1);
		const char *w = (const char *)sqlite3_column_text(s, 2);
		const char *first = (const char *)sqlite3_column_text(s, 4);
		const char *when = first ? first : (const char *)sqlite3_column_text(s, 6);
		json_int_t n = sqlite3_column_int64(s, 3);
		json_t *where = w ? json_loads(w, 0, NULL) : NULL, *e, *seen = json_object();
		size_t i;
		json_array_foreach(where, i, e)
		{
			json_t *idn = json_object_get(c->ids, json_string_value(e)), *v;
			const char *key;
			if (!idn)
				continue;
			json_object_foreach(json_object_get(idn, "keys"), key, v)
			{
				json_t *p, *orgs;
				char via[300];
				if (!wanted(c, key) || json_object_get(seen, key))
					continue;
				json_object_set_new(seen, key, json_true());
				p = per_key(c, key);
				json_object_set_new(
				    p, "sightings",
				    json_integer(
				        json_integer_value(json_object_get(p, "sightings")) + 1));
				trend_add(json_object_get(p, "trend"), when, "sightings", 1);
				orgs = json_object_get(p, "orgs");
				json_object_set_new(orgs, json_string_value(e),
				                    json_integer(json_integer_value(json_object_get(
				                                     orgs, json_string_value(e))) +
				                                 1));
				if (!c->only ||
				    json_array_size(json_object_get(p, "list")) >= MAX_LISTED)
					goto attackers;
				json_array_append_new(
				    json_object_get(p, "list"),
				    json_pack("{s:s, s:s?, s:I, s:s?, s:s?, s:s?, s:O}", "id", id,
				              "of", of, "count", n, "first_seen", first,
				              "last_seen", (const char *)sqlite3_column_text(s, 5),
				              "created", (const char *)sqlite3_column_text(s, 6),
				              "where", json_object_get(idn, "name")));
			attackers:
				if (!c->only)
					continue;
				snprintf(via, sizeof(via), "sighting at %.200s",
				         json_string_value(json_object_get(idn, "name"))
				             ? json_string_value(json_object_get(idn, "name"))
				             : "?");
				if (of && !json_object_get(c->done, of)) { /* once per indicator */
					json_object_set_new(c->done, of, json_true());
					indicated(c, of, json_object_get(p, "targeted_by"), via);
				}
			}
		}
		json_decref(seen);
		json_decref(where);
	}
	sqlite3_finalize(s);
	return SK_OK;
}

static json_t *trend_list(json_t *trend)
{
	json_t *r = json_array(), *v;
	const char *k;
	/* days sort as text; jansson keeps insertion order, so sort here */
	size_t n = json_object_size(trend), i = 0;
	const char **days = n ? malloc(n * sizeof(*days)) : NULL;
	json_object_foreach(trend, k, v)
	{
		if (days)
			days[i++] = k;
	}
	for (size_t a = 1; a < i; a++) /* insertion sort: a few hundred days at most */
		for (size_t b = a; b > 0 && strcmp(days[b - 1], days[b]) > 0; b--) {
			const char *t = days[b];
			days[b] = days[b - 1];
			days[b - 1] = t;
		}
	for (size_t a = 0; a < i; a++)
		json_array_append(r, json_object_get(trend, days[a]));
	free(days);
	return r;
}

static sk_err collect(sec_ctx *c, sk_error *err)
{
	sk_err rc;
	c->ids = json_object();
	c->per = json_object();
	c->done = json_object();
	if ((rc = identities(c->st, c->ids, err)) || (rc = targets(c, err)))
		return rc;
	return sightings(c, err);
}

static json_t *stix_list(const sk_sector *k)
{
	json_t *a = json_array();
	for (size_t i = 0; k->stix_all[i]; i++)
		json_array_append_new(a, json_string(k->stix_all[i]));
	return a;
}

sk_err sk_intel_sectors(sk_store *st, json_t **out, sk_error *err)
{
	sec_ctx c = {st, NULL, NULL, NULL, NULL};
	json_t *list;
	sk_err rc;

	*out = NULL;
	if (!(rc = collect(&c, err))) {
		list = json_array();
		for (size_t i = 0; i < SK_SECTOR_COUNT; i++) {
			const sk_sector *k = &sk_sector_table()[i];
			json_t *p = json_object_get(c.per, k->key);
			json_array_append_new(
			    list,
			    json_pack(
			        "{s:s, s:s, s:o, s:I, s:I}", "key", k->key, "name", k->name, "stix",
			        stix_list(k), "targeted_by",
			        (json_int_t)json_object_size(json_object_get(p, "targeted_by")),
			        "sightings",
			        p ? json_integer_value(json_object_get(p, "sightings")) : 0));
		}
		*out = json_pack("{s:o}", "sectors", list);
	}
	json_decref(c.ids);
	json_decref(c.per);
	json_decref(c.done);
	return rc;
}

/* Partners of the sector (partners table, their identity's sectors) and who else sighted. */
static sk_err partners(sec_ctx *c, json_t *p, json_t *out, sk_error *err)
{
	static const char sql[] = "SELECT name, identity, country FROM partners WHERE pid>0"
	                          " ORDER BY name";
	json_t *orgs = json_object_get(p, "orgs"), *v;
	json_t *listed = json_object();
	sqlite3_stmt *s = NULL;
	const char *k;

	if (sqlite3_prepare_v2(sk_store_sqlite(c->st), sql, sizeof(sql) - 1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(c->st, err, "intel: partners");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *ident = (const char *)sqlite3_column_text(s, 1);
		json_t *idn = json_object_get(c->ids, ident);
		if (!idn || !json_object_get(json_object_get(idn, "keys"), c->only->key))
			continue;
		json_object_set_new(listed, ident, json_true());
		json_array_append_new(
		    out, json_pack("{s:s, s:s, s:s?, s:b, s:I}", "name",
		                   (const char *)sqlite3_column_text(s, 0), "identity", ident,
		                   "country", (const char *)sqlite3_column_text(s, 2), "partner", 1,
		                   "sightings", json_integer_value(json_object_get(orgs, ident))));
	}
	sqlite3_finalize(s);
	json_object_foreach(orgs, k, v)
	{
		if (json_object_get(listed, k))
			continue;
		json_array_append_new(
		    out, json_pack("{s:O, s:s, s:n, s:b, s:O}", "name",
		                   json_object_get(json_object_get(c->ids, k), "name"), "identity",
		                   k, "country", "partner", 0, "sightings", v));
	}
	json_decref(listed);
	return SK_OK;
}

sk_err sk_intel_sector(sk_store *st, const char *key, json_t **out, sk_error *err)
{
	sec_ctx c = {st, sk_sector_get(key), NULL, NULL, NULL};
	json_t *p, *attackers, *parts, *v, *list, *e;
	const char *k;
	size_t i;
	sk_err rc;

	*out = NULL;
	if (!c.only)
		return sk_error_set(err, SK_ENOTFOUND,
		                    "unknown sector '%.40s' (water, energy, finance, health, "
		                    "government, telecom, transport)",
		                    key);
	if ((rc = collect(&c, err)))
		goto out;
	p = per_key(&c, c.only->key);
	attackers = json_array();
	json_object_foreach(json_object_get(p, "targeted_by"), k, v)
	{
		json_t *s = sk_intel_summary(st, k);
		if (!s)
			continue;
		json_object_set(s, "via", json_object_get(v, "via"));
		json_object_set(s, "kind", json_object_get(v, "kind"));
		json_array_append_new(attackers, s);
	}
	parts = json_array();
	if ((rc = partners(&c, p, parts, err))) {
		json_decref(attackers);
		json_decref(parts);
		goto out;
	}
	list = json_array();
	json_array_foreach(json_object_get(p, "list"), i, e)
	{
		json_t *x = json_copy(e);
		const char *of = json_string_value(json_object_get(e, "of"));
		json_t *s = of ? sk_intel_summary(st, of) : NULL;
		json_object_set_new(x, "of", s ? s : json_null());
		json_array_append_new(list, x);
	}
	*out =
	    json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "key", c.only->key, "name",
	              c.only->name, "stix", stix_list(c.only), "attackers", attackers, "partners",
	              parts, "sightings", list, "trend", trend_list(json_object_get(p, "trend")));
out:
	json_decref(c.ids);
	json_decref(c.per);
	json_decref(c.done);
	return rc;
}
