/*
 * dossier_hit.c - who was hit, when, and what the allies think
 * (dossier.h): the sightings of the subject's indicators (and of the
 * subject and its campaigns) by partner, sector and country with first and
 * last seen and counts; the timeline of timeline.c cut to --since and the
 * list bound; and the opinions and notes on the reports about the subject,
 * tallied per report version.
 */
#include "dossier_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/timestamp.h"

static const char *const opinion_values[] = {"strongly-disagree", "disagree", "neutral", "agree",
                                             "strongly-agree"};

/* Who an identity is: {id, name, partner, country, sectors: [keys]} (cached in ids). */
static json_t *who(dz *z, json_t *ids, const char *id)
{
	static const char obj[] = "SELECT json_extract(o.json,'$.name'), o.json FROM objects o"
	                          " WHERE o.id=?1 AND " IN_LATEST("o");
	static const char part[] = "SELECT name, country FROM partners WHERE identity=?1 AND pid>0";
	static const char loc[] =
	    "SELECT json_extract(l.json,'$.country') FROM objects r JOIN objects l ON "
	    "l.id=r.dst_ref"
	    " WHERE r.src_ref=?1 AND r.type='relationship' AND r.rel_type='located-at'"
	    " AND r.revoked=0 AND " IN_LATEST("r") " AND " IN_LATEST("l") " LIMIT 1";
	json_t *w = json_object_get(ids, id), *keys, *o = NULL;
	sqlite3_stmt *s;
	const char *country = NULL;
	if (w)
		return w;
	/* an identity the view does not see stays unnamed: nothing of it is shown */
	if (!dz_prov(z, id) || !(s = DZ_PREP(z, obj))) {
		w = json_pack("{s:n, s:s, s:b, s:n, s:[]}", "id", "name", "(not shown)", "partner",
		              0, "country", "sectors");
		json_object_set_new(ids, id, w);
		return w;
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		o = json_loads((const char *)sqlite3_column_text(s, 1), 0, NULL);
	sqlite3_finalize(s);
	keys = json_object();
	in_sectors_of(o, keys);
	w = json_pack("{s:s, s:s?, s:b}", "id", id, "name", o ? in_name(o) : id, "partner", 0);
	/* a releasable version tells nothing of this node's partner list or its records */
	if (!z->o->for_name && (s = DZ_PREP(z, part))) {
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW) {
			json_object_set_new(w, "partner", json_true());
			if (!z->o->for_name) /* our label for it stays ours */
				json_object_set_new(
				    w, "partner_name",
				    json_string((const char *)sqlite3_column_text(s, 0)));
			if (sqlite3_column_type(s, 1) == SQLITE_TEXT)
				json_object_set_new(
				    w, "country",
				    json_string((const char *)sqlite3_column_text(s, 1)));
		}
		sqlite3_finalize(s);
	}
	if (!json_object_get(w, "country") && (s = DZ_PREP(z, loc))) {
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_TEXT)
			country = (const char *)sqlite3_column_text(s, 0);
		json_object_set_new(w, "country", country ? json_string(country) : json_null());
		sqlite3_finalize(s);
	}
	{
		json_t *arr = json_array();
		for (size_t i = 0; i < SK_SECTOR_COUNT; i++)
			if (json_object_get(keys, sk_sector_table()[i].key))
				json_array_append_new(arr, json_string(sk_sector_table()[i].key));
		json_object_set_new(w, "sectors", arr);
	}
	json_object_set_new(w, "stix_sectors",
	                    json_incref(json_is_array(json_object_get(o, "sectors"))
	                                    ? json_object_get(o, "sectors")
	                                    : json_array()));
	json_decref(keys);
	json_decref(o);
	json_object_set_new(ids, id, w);
	return w;
}

/* Add one sighting to a group {sightings, count, first_seen, last_seen}. */
static void tally(json_t *groups, const char *key, json_t *proto, json_int_t count,
                  const char *first, const char *last)
{
	json_t *g = json_object_get(groups, key);
	const char *f, *l;
	if (!g) {
		g = json_deep_copy(proto);
		json_object_set_new(g, "sightings", json_integer(0));
		json_object_set_new(g, "count", json_integer(0));
		json_object_set_new(g, "first_seen", json_null());
		json_object_set_new(g, "last_seen", json_null());
		json_object_set_new(groups, key, g);
	}
	json_object_set_new(g, "sightings",
	                    json_integer(json_integer_value(json_object_get(g, "sightings")) + 1));
	json_object_set_new(g, "count",
	                    json_integer(json_integer_value(json_object_get(g, "count")) + count));
	f = json_string_value(json_object_get(g, "first_seen"));
	l = json_string_value(json_object_get(g, "last_seen"));
	if (first && (!f || strcmp(first, f) < 0))
		json_object_set_new(g, "first_seen", json_string(first));
	if (last && (!l || strcmp(last, l) > 0))
		json_object_set_new(g, "last_seen", json_string(last));
}

static json_t *values(json_t *groups)
{
	json_t *r = json_array(), *v;
	const char *k;
	json_object_foreach(groups, k, v)
	{
		json_array_append(r, v);
	}
	return r;
}

typedef struct hits {
	json_t *ids, *by_partner, *by_sector, *by_country, *items, *total;
	json_int_t n, count;
	size_t shown;
} hits;

/* The sightings of `of` (an indicator, the subject or a campaign); *any: some were. */
static sk_err sightings(dz *z, hits *h, const char *of, bool *any)
{
	static const char sql[] =
	    "SELECT o.id, coalesce(json_extract(o.json,'$.first_seen'), o.created),"
	    " coalesce(json_extract(o.json,'$.last_seen'), json_extract(o.json,'$.first_seen'),"
	    " o.created), coalesce(json_extract(o.json,'$.count'),1),"
	    " json_extract(o.json,'$.where_sighted_refs')"
	    " FROM objects o WHERE o.dst_ref=?1 AND o.type='sighting' AND o.revoked=0 "
	    "AND " IN_LATEST("o") " ORDER BY o.id";
	sqlite3_stmt *s = DZ_PREP(z, sql);
	*any = false;
	if (!s)
		return SK_EDB;
	sqlite3_bind_text(s, 1, of, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *sid = (const char *)sqlite3_column_text(s, 0);
		const char *first = (const char *)sqlite3_column_text(s, 1);
		const char *last = (const char *)sqlite3_column_text(s, 2);
		json_int_t count = sqlite3_column_int64(s, 3);
		const char *ws = (const char *)sqlite3_column_text(s, 4);
		json_t *where = ws ? json_loads(ws, 0, NULL) : NULL, *wid, *wl = json_array();
		size_t i;
		if (dz_before_since(z, last)) {
			json_decref(where);
			json_decref(wl);
			continue;
		}
		*any = true;
		h->n++;
		h->count += count;
		json_array_foreach(where, i, wid)
		{
			json_t *w = who(z, h->ids, json_string_value(wid)), *sec;
			const char *cc = json_string_value(json_object_get(w, "country"));
			size_t k;
			if (!json_is_string(json_object_get(w, "id")))
				continue; /* not shown: not counted by partner, sector or country */
			json_array_append_new(wl, json_pack("{s:O, s:O}", "id",
			                                    json_object_get(w, "id"), "name",
			                                    json_object_get(w, "name")));
			tally(h->by_partner, json_string_value(wid), w, count, first, last);
			json_array_foreach(json_object_get(w, "sectors"), k, sec)
			{
				const sk_sector *sk = sk_sector_get(json_string_value(sec));
				json_t *p =
				    json_pack("{s:s, s:s}", "key", sk->key, "name", sk->name);
				tally(h->by_sector, sk->key, p, count, first, last);
				json_object_set_new(z->hit, sk->key, json_true());
				json_decref(p);
			}
			if (cc) {
				json_t *p = json_pack("{s:s}", "country", cc);
				tally(h->by_country, cc, p, count, first, last);
				json_decref(p);
			}
		}
		tally(h->total, "all", json_object_get(h->total, "proto"), count, first, last);
		if (h->shown < z->max) {
			json_t *it = dz_item(z, sid);
			if (it) {
				json_object_set_new(it, "of", json_string(of));
				json_object_set_new(it, "count", json_integer(count));
				json_object_set_new(it, "first_seen", json_string(first));
				json_object_set_new(it, "last_seen", json_string(last));
				json_object_set_new(it, "where", json_incref(wl));
				json_array_append_new(h->items, it);
				h->shown++;
			}
		} else {
			dz_prov(z, sid);
		}
		json_decref(wl);
		json_decref(where);
	}
	sqlite3_finalize(s);
	return SK_OK;
}

static bool ind_visible(dz *z, const char *id)
{
	static const char sql[] =
	    "SELECT o.revoked FROM objects o WHERE o.id=?1 AND " IN_LATEST("o");
	sqlite3_stmt *s = DZ_PREP(z, sql);
	bool r = false;
	if (!s)
		return false;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	r = sqlite3_step(s) == SQLITE_ROW && !sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return r;
}

sk_err dz_impact(dz *z)
{
	hits h = {0};
	json_t *never = json_array(), *sighted_inds = json_array(), *ev, *imp, *crit;
	const char *k;
	size_t nind = 0, nnever = 0, nsighted = 0;
	bool any;
	sk_err rc = SK_OK;

	h.ids = json_object();
	h.by_partner = json_object();
	h.by_sector = json_object();
	h.by_country = json_object();
	h.items = json_array();
	h.total = json_pack("{s:{}}", "proto");
	json_object_foreach(z->indicators, k, ev)
	{
		if (!ind_visible(z, k))
			continue;
		nind++;
		if ((rc = sightings(z, &h, k, &any)))
			goto out;
		if (any) {
			if (nsighted++ < z->max)
				json_array_append_new(sighted_inds, json_string(k));
			dz_prov(z, k);
			continue;
		}
		if (nnever++ < z->max) {
			json_t *it = dz_item(z, k);
			if (it) {
				json_array_extend(json_object_get(it, "evidence"), ev);
				json_array_append_new(never, it);
			}
		}
	}
	{ /* sightings of the subject and its campaigns themselves */
		json_t *v;
		json_object_foreach(z->activity, k, v)
		{
			if ((rc = sightings(z, &h, k, &any)))
				goto out;
		}
	}
	/* sectors targeted (targets relationships to identities) */
	crit = json_object();
	json_object_foreach(z->targets, k, ev)
	{
		if (dz_is_type(k, "identity")) {
			json_t *w = who(z, h.ids, k), *sec;
			size_t i;
			json_array_foreach(json_object_get(w, "sectors"), i, sec)
			{
				json_object_set_new(crit, json_string_value(sec), json_true());
			}
		}
	}
	imp = json_object();
	{
		json_t *tot = json_object_get(h.total, "all");
		json_t *cs = json_array();
		for (size_t i = 0; i < SK_SECTOR_COUNT; i++) {
			const sk_sector *sk = &sk_sector_table()[i];
			bool sighted = json_object_get(z->hit, sk->key) != NULL;
			bool targeted = json_object_get(crit, sk->key) != NULL;
			if (sighted || targeted)
				json_array_append_new(cs, json_pack("{s:s, s:s, s:b, s:b}", "key",
				                                    sk->key, "name", sk->name,
				                                    "sighted", sighted, "targeted",
				                                    targeted));
		}
		json_object_set_new(imp, "sightings", json_integer(h.n));
		json_object_set_new(imp, "count", json_integer(h.count));
		json_object_set_new(
		    imp, "first_seen",
		    json_incref(tot ? json_object_get(tot, "first_seen") : json_null()));
		json_object_set_new(
		    imp, "last_seen",
		    json_incref(tot ? json_object_get(tot, "last_seen") : json_null()));
		json_object_set_new(imp, "indicators", json_integer((json_int_t)nind));
		json_object_set_new(imp, "indicators_sighted", json_integer((json_int_t)nsighted));
		json_object_set_new(imp, "by_partner", values(h.by_partner));
		json_object_set_new(imp, "by_sector", values(h.by_sector));
		json_object_set_new(imp, "by_country", values(h.by_country));
		json_object_set_new(imp, "critical_sectors", cs);
		{
			json_t *p;
			size_t i;
			json_array_foreach(json_object_get(imp, "by_partner"), i, p)
			{
				json_object_del(p, "stix_sectors");
			}
		}
		dz_cut(z, "sightings", h.items, (size_t)h.n);
		json_object_set_new(imp, "items", h.items);
		h.items = NULL;
		dz_cut(z, "indicators_never_sighted", never, nnever);
		json_object_set_new(
		    imp, "never_sighted",
		    json_pack("{s:I, s:o}", "count", (json_int_t)nnever, "list", never));
		never = NULL;
	}
	json_decref(crit);
	json_object_set_new(z->d, "impact", imp);
out:
	json_decref(never);
	json_decref(sighted_inds);
	json_decref(h.ids);
	json_decref(h.by_partner);
	json_decref(h.by_sector);
	json_decref(h.by_country);
	json_decref(h.items);
	json_decref(h.total);
	return rc;
}

/* --- the timeline --------------------------------------------------------------- */

sk_err dz_timeline(dz *z)
{
	json_t *t = NULL, *ev, *keep = json_array(), *p;
	size_t i, total = 0;
	sk_err rc = sk_intel_timeline(z->st, z->id, &t, z->err);
	if (rc) {
		json_decref(keep);
		return rc;
	}
	json_array_foreach(json_object_get(t, "events"), i, ev)
	{
		const char *id = json_string_value(json_object_get(ev, "id"));
		if (dz_before_since(z, json_string_value(json_object_get(ev, "time"))))
			continue;
		total++;
		if (json_array_size(keep) >= z->max)
			continue;
		if (id && (p = dz_prov(z, id))) {
			json_object_set_new(ev, "evidence", json_pack("[s]", id));
			json_object_set(ev, "tlp", json_object_get(p, "tlp"));
		}
		json_array_append(keep, ev);
	}
	dz_cut(z, "timeline", keep, total);
	json_object_set_new(t, "events", keep);
	json_object_del(t, "subject");
	json_object_set_new(t, "count", json_integer((json_int_t)total));
	json_object_set_new(z->d, "timeline", t);
	return SK_OK;
}

/* --- opinions -------------------------------------------------------------------- */

static int opinion_index(const char *v)
{
	for (int i = 0; v && i < 5; i++)
		if (!strcmp(v, opinion_values[i]))
			return i;
	return -1;
}

/* {"name"} of the partner whose identity is id, from the partners table; NULL if none. */
static json_t *partner_name(dz *z, const char *id)
{
	static const char sql[] = "SELECT name FROM partners WHERE identity=?1 AND pid>0";
	sqlite3_stmt *s = DZ_PREP(z, sql);
	json_t *r = NULL;
	if (!s)
		return NULL;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		r = json_pack("{s:s}", "name", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return r;
}

/* The versions of report id that the view sees: [{modified, us}], oldest first. */
static json_t *report_versions(dz *z, const char *id)
{
	static const char sql[] = "SELECT o.modified, o.ver FROM objects o WHERE o.id=?1 AND "
	                          "" IN_VIS("o") " ORDER BY o.version, o.ver";
	sqlite3_stmt *s = DZ_PREP(z, sql);
	json_t *r = json_array();
	if (!s)
		return r;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 0);
		int64_t us = 0;
		if (m)
			sk_ts_parse(m, strlen(m), NULL, &us);
		json_array_append_new(r,
		                      json_pack("{s:s?, s:I, s:o, s:o, s:o}", "modified", m, "_us",
		                                (json_int_t)us, "tally", json_object(), "opinions",
		                                json_array(), "not_yet_answered", json_array()));
	}
	sqlite3_finalize(s);
	return r;
}

static sk_err report_opinions(dz *z, const char *rid, json_t *out)
{
	static const char sql[] =
	    "SELECT o.id, o.type, o.created_by, json_extract(o.json,'$.opinion'),"
	    " coalesce(json_extract(o.json,'$.explanation'), json_extract(o.json,'$.content')),"
	    " o.created FROM objects o WHERE o.type IN ('opinion','note') AND o.revoked=0 AND "
	    "" IN_LATEST("o") " AND EXISTS (SELECT 1 FROM json_each(o.json,'$.object_refs') r"
	                      " WHERE r.value=?1) ORDER BY o.created, o.id";
	json_t *vers = report_versions(z, rid), *notes = json_array(), *answered = json_object();
	json_t *rep = dz_item(z, rid), *v;
	sqlite3_stmt *s = DZ_PREP(z, sql);
	size_t i, nv = json_array_size(vers);
	if (!s || !rep || !nv) {
		if (s)
			sqlite3_finalize(s);
		json_decref(vers);
		json_decref(notes);
		json_decref(answered);
		json_decref(rep);
		return s ? SK_OK : SK_EDB;
	}
	sqlite3_bind_text(s, 1, rid, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *oid = (const char *)sqlite3_column_text(s, 0);
		const char *type = (const char *)sqlite3_column_text(s, 1);
		const char *by = (const char *)sqlite3_column_text(s, 2);
		const char *op = (const char *)sqlite3_column_text(s, 3);
		const char *text = (const char *)sqlite3_column_text(s, 4);
		const char *created = (const char *)sqlite3_column_text(s, 5);
		json_t *it = dz_item(z, oid), *bysum = by ? sk_intel_summary(z->st, by) : NULL;
		/* the author's version may name a partner by the node's own partner table */
		if (!bysum && by && !z->o->for_name)
			bysum = partner_name(z, by);
		int64_t us = 0;
		size_t at = 0;
		if (!it) {
			json_decref(bysum);
			continue;
		}
		json_object_set_new(
		    it, "by",
		    json_pack("{s:s?, s:s?}", "id", by, "name", /* the id is in the opinion */
		              bysum ? json_string_value(json_object_get(bysum, "name"))
		                    : "(identity not held here)"));
		json_object_set_new(it, "created", json_string(created));
		json_object_set_new(it, "text", text ? json_string(text) : json_null());
		if (!strcmp(type, "note")) {
			dz_push(z, notes, it);
			json_decref(bysum);
			continue;
		}
		/* the version it answered: the newest one made before it */
		if (created)
			sk_ts_parse(created, strlen(created), NULL, &us);
		for (i = 0; i < nv; i++)
			if (json_integer_value(json_object_get(json_array_get(vers, i), "_us")) <=
			    us)
				at = i;
		json_object_set_new(it, "opinion", json_string(op ? op : ""));
		v = json_array_get(vers, at);
		if (opinion_index(op) >= 0) {
			json_t *t = json_object_get(v, "tally");
			json_object_set_new(
			    t, op, json_integer(json_integer_value(json_object_get(t, op)) + 1));
		}
		if (by)
			json_object_set_new(answered, by, json_integer((json_int_t)at));
		dz_push(z, json_object_get(v, "opinions"), it);
		json_decref(bysum);
	}
	sqlite3_finalize(s);
	/* a redraft: who answered an earlier version but not this one */
	{
		const char *by;
		json_t *at;
		json_object_foreach(answered, by, at)
		{
			size_t last = nv - 1;
			json_t *bysum;
			if ((size_t)json_integer_value(at) == last)
				continue;
			bysum = sk_intel_summary(z->st, by);
			json_array_append_new(
			    json_object_get(json_array_get(vers, last), "not_yet_answered"),
			    json_pack("{s:s, s:s}", "id", by, "name",
			              bysum ? json_string_value(json_object_get(bysum, "name"))
			                    : "(not shown)"));
			json_decref(bysum);
		}
	}
	json_array_foreach(vers, i, v)
	{
		json_object_del(v, "_us");
		json_object_set_new(v, "version", json_integer((json_int_t)i + 1));
	}
	json_object_set_new(rep, "versions", vers);
	json_object_set_new(rep, "notes", notes);
	json_decref(answered);
	dz_push(z, out, rep);
	return SK_OK;
}

sk_err dz_opinions(dz *z)
{
	json_t *reps = json_object_get(json_object_get(z->d, "activity"), "reports"), *r;
	json_t *out = json_array(), *tot = json_object();
	size_t i, k;
	sk_err rc = SK_OK;
	json_array_foreach(reps, i, r)
	{
		if ((rc = report_opinions(z, json_string_value(json_object_get(r, "id")), out)))
			break;
	}
	/* the tally over the newest version of every report */
	json_array_foreach(out, i, r)
	{
		json_t *vs = json_object_get(r, "versions");
		json_t *t = json_object_get(json_array_get(vs, json_array_size(vs) - 1), "tally");
		for (k = 0; k < 5; k++)
			json_object_set_new(
			    tot, opinion_values[k],
			    json_integer(
			        json_integer_value(json_object_get(tot, opinion_values[k])) +
			        json_integer_value(json_object_get(t, opinion_values[k]))));
	}
	json_object_set_new(z->d, "opinions",
	                    json_pack("{s:o, s:o}", "reports", out, "latest_tally", tot));
	return rc;
}
