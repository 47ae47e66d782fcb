/*
 * coop_sight.c - the detection side of measured cooperation (coop.h,
 * docs/cooperation.md): each sighting of the period followed to the
 * indicator it rests on (who produced it, who relayed it here, when it
 * arrived), giving detections enabled per partner and per sector, lead
 * times, the anonymous counts by sector and country; the reach of reports
 * and groupings; peers' sync health; this node's own matching capacity.
 */
#include "coop_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/timestamp.h"

#define ANON_MIN 3 /* a sector/country group of fewer contributors is merged into "other" */

/* What the report needs of an indicator, cached per id for the call. */
typedef struct ind {
	int producer, relay; /* partner indexes, -1 = none */
	bool own;            /* produced here */
	int64_t arrived;     /* first version's added */
	int64_t first_here;  /* first sighting made here, 0 = none */
	json_t *fb;          /* partner index / "s:sector" -> earliest sighting reported back */
} ind;

typedef struct sctx {
	co_ctx *c;
	sqlite3_stmt *qi, *qw, *qloc;
	json_t *inds; /* id -> index into v */
	ind *v;
	size_t n, cap;
	json_t *who; /* identity -> {"anon", "sectors", "country"} */
	json_t *own_sectors;
	const char *own_country;
} sctx;

static int ind_of(sctx *x, const char *id)
{
	json_t *j = json_object_get(x->inds, id);
	ind *p;
	if (j)
		return (int)json_integer_value(j);
	sqlite3_bind_text(x->qi, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(x->qi) != SQLITE_ROW) {
		sqlite3_reset(x->qi);
		json_object_set_new(x->inds, id, json_integer(-1));
		return -1;
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 256;
		if (cap > CO_VEC_MAX || !(p = realloc(x->v, cap * sizeof(*p)))) {
			sqlite3_reset(x->qi);
			return -1;
		}
		x->v = p;
		x->cap = cap;
	}
	p = &x->v[x->n];
	memset(p, 0, sizeof(*p));
	p->arrived = sqlite3_column_int64(x->qi, 0);
	{
		const char *rx = (const char *)sqlite3_column_text(x->qi, 1);
		const char *by = (const char *)sqlite3_column_text(x->qi, 2);
		p->relay = rx ? co_get(x->c, rx) : -1;
		p->producer = by ? co_find(x->c, by) : -1;
		p->own = !rx && by && x->c->own && !strcmp(by, x->c->own);
	}
	sqlite3_reset(x->qi);
	p->fb = json_object();
	json_object_set_new(x->inds, id, json_integer((json_int_t)x->n));
	return (int)x->n++;
}

/* {"anon", "sectors", "country"} of the identity that made a sighting. */
static json_t *who_of(sctx *x, const char *id)
{
	json_t *w = json_object_get(x->who, id), *o = NULL;
	const char *country = NULL;
	int i, anon;
	if (w)
		return w;
	sqlite3_bind_text(x->qw, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(x->qw) == SQLITE_ROW)
		o = json_loads((const char *)sqlite3_column_text(x->qw, 0), 0, NULL);
	sqlite3_reset(x->qw);
	sqlite3_bind_text(x->qloc, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(x->qloc) == SQLITE_ROW)
		country = (const char *)sqlite3_column_text(x->qloc, 0);
	i = co_find(x->c, id);
	if (!country && i >= 0)
		country = x->c->p[i].country;
	{
		const char *nm = json_string_value(json_object_get(o, "name"));
		anon = nm && !strcmp(nm, "anonymous");
	}
	w = json_pack("{s:b, s:O?, s:s?}", "anon", anon, "sectors", json_object_get(o, "sectors"),
	              "country", country);
	sqlite3_reset(x->qloc);
	json_decref(o);
	json_object_set_new(x->who, id, w);
	return w;
}

static json_t *sector_of(co_ctx *c, const char *name)
{
	json_t *s = json_object_get(c->sectors, name);
	if (!s) {
		s = json_pack("{s:I, s:{}}", "sightings", (json_int_t)0, "by");
		json_object_set_new(c->sectors, name, s);
	}
	return s;
}

/* An earliest time per key of obj. */
static void earliest(json_t *obj, const char *key, int64_t t)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_integer_value(v) > t)
		json_object_set_new(obj, key, json_integer(t));
}

static void anon_count(sctx *x, const char *sector, const char *country, const char *creator,
                       const char *via)
{
	char key[300];
	json_t *g;
	snprintf(key, sizeof(key), "%s\t%s", sector, country ? country : "");
	if (!(g = json_object_get(x->c->anon, key))) {
		g = json_pack("{s:s, s:s?, s:I, s:{}, s:{}}", "sector", sector, "country", country,
		              "sightings", (json_int_t)0, "who", "via");
		json_object_set_new(x->c->anon, key, g);
	}
	co_count(g, "sightings", 1);
	json_object_set_new(json_object_get(g, "who"), creator, json_true());
	json_object_set_new(json_object_get(g, "via"), via ? via : "here", json_true());
}

/* One sighting (first version) of the period. */
static void sighting(sctx *x, const char *rx, const char *by, const char *of, int64_t added,
                     int64_t made)
{
	co_ctx *c = x->c;
	int i = of ? ind_of(x, of) : -1, from = rx ? co_get(c, rx) : -1;
	ind *d = i >= 0 ? &x->v[i] : NULL;
	json_t *w = by ? who_of(x, by) : NULL, *secs;
	bool anon = json_is_true(json_object_get(w, "anon"));
	const char *country = json_string_value(json_object_get(w, "country"));
	size_t k;
	int cred[2] = {-1, -1};

	if (rx)
		c->sight_recv_total++;
	else
		c->sight_here++;
	secs = rx ? json_object_get(w, "sectors") : x->own_sectors;
	if (!rx && !country)
		country = x->own_country;
	if (d) {
		cred[0] = d->producer;
		cred[1] = d->relay != d->producer ? d->relay : -1;
		for (int j = 0; j < 2; j++)
			if (cred[j] >= 0)
				c->p[cred[j]].det++;
		if (d->own)
			c->own_det++;
		if (!rx && (!d->first_here || added < d->first_here))
			d->first_here = added;
	}
	if (!json_array_size(secs))
		secs = NULL;
	for (k = 0; k < (secs ? json_array_size(secs) : 1); k++) {
		const char *sn = secs ? json_string_value(json_array_get(secs, k)) : "unknown";
		json_t *s;
		if (anon) { /* by sector and country only, in groups of ANON_MIN or more */
			anon_count(x, sn ? sn : "unknown", country, by, rx);
			continue;
		}
		s = sector_of(c, sn ? sn : "unknown");
		co_count(s, "sightings", 1);
		for (int j = 0; j < 2 && d; j++)
			if (cred[j] >= 0)
				co_count(json_object_get(s, "by"), c->p[cred[j]].name, 1);
		if (d && d->own) {
			co_count(json_object_get(s, "by"), "(this node)", 1);
			if (rx) {
				char key[300];
				snprintf(key, sizeof(key), "s:%s", sn ? sn : "unknown");
				earliest(d->fb, key, made);
			}
		}
	}
	if (d && d->own && from >= 0) {
		char key[32];
		snprintf(key, sizeof(key), "%d", from);
		earliest(d->fb, key, made);
	}
}

/* Feedback and lead times once every sighting is in. */
static sk_err lead_times(sctx *x)
{
	co_ctx *c = x->c;
	for (size_t i = 0; i < x->n; i++) {
		ind *d = &x->v[i];
		const char *k;
		json_t *v;
		if (d->first_here) {
			double l = (double)(d->first_here - d->arrived) / 1e6;
			if (!co_vec_add(&c->own_lead, l) ||
			    (d->relay >= 0 && !co_vec_add(&c->p[d->relay].lead, l)))
				return sk_error_set(c->err, SK_ELIMIT,
				                    "cooperation: too many sightings");
		}
		json_object_foreach(d->fb, k, v)
		{
			double l = (double)(json_integer_value(v) - d->arrived) / 1e6;
			co_vec *t;
			if (k[0] == 's' && k[1] == ':') {
				json_t *ix = json_object_get(c->ind_fb_sector, k + 2);
				if (!ix) {
					co_vec *nv = realloc(c->fbs, (c->nfbs + 1) * sizeof(*nv));
					if (!nv)
						return sk_error_set(c->err, SK_ENOMEM,
						                    "out of memory");
					c->fbs = nv;
					memset(&c->fbs[c->nfbs], 0, sizeof(co_vec));
					ix = json_integer((json_int_t)c->nfbs++);
					json_object_set_new(c->ind_fb_sector, k + 2, ix);
				}
				t = &c->fbs[json_integer_value(ix)];
			} else {
				t = &c->p[atoi(k)].fb;
			}
			if (!co_vec_add(t, l))
				return sk_error_set(c->err, SK_ELIMIT,
				                    "cooperation: too many sightings");
		}
	}
	return SK_OK;
}

/* Merge anonymous groups of fewer than ANON_MIN contributors into "other". */
static void anon_merge(co_ctx *c)
{
	json_t *keep = json_object(), *other = NULL;
	const char *k;
	json_t *g;
	json_object_foreach(c->anon, k, g)
	{
		size_t who = json_object_size(json_object_get(g, "who"));
		size_t via = json_object_size(json_object_get(g, "via"));
		json_int_t n = json_integer_value(json_object_get(g, "sightings"));
		if (who >= ANON_MIN && via >= ANON_MIN) {
			json_object_set_new(
			    keep, k,
			    json_pack("{s:O, s:O, s:I}", "sector", json_object_get(g, "sector"),
			              "country", json_object_get(g, "country"), "sightings", n));
			continue;
		}
		if (!other)
			other = json_pack("{s:s, s:s, s:I}", "sector", "other", "country", "other",
			                  "sightings", (json_int_t)0);
		co_count(other, "sightings", n);
	}
	if (other)
		json_object_set_new(keep, "\x7f", other); /* sorts last */
	json_decref(c->anon);
	c->anon = keep;
}

sk_err co_sightings(co_ctx *c)
{
	static const char qs[] =
	    "SELECT o.rx, o.created_by, json_extract(o.json,'$.sighting_of_ref'), o.added,"
	    " o.created FROM objects o WHERE o.type='sighting' AND o.added>=?1 AND o.added<?2"
	    " AND " IN_VIS("o") " AND" CO_GIVEN(
	        "o") " AND NOT EXISTS (SELECT 1 FROM objects y WHERE y.id=o.id AND y.ver<o.ver)";
	static const char qi[] = "SELECT o.added, o.rx, o.created_by FROM objects o WHERE o.id=?1"
	                         " AND " IN_VIS("o") " ORDER BY o.ver LIMIT 1";
	static const char qw[] = "SELECT o.json FROM objects o WHERE o.id=?1 AND " IN_VIS(
	    "o") " ORDER BY o.version DESC, o.ver DESC LIMIT 1";
	static const char ql[] =
	    "SELECT json_extract(l.json,'$.country') FROM objects r JOIN objects l"
	    " ON l.id=r.dst_ref WHERE r.src_ref=?1 AND r.rel_type='located-at' AND " IN_VIS(
	        "r") " AND " IN_VIS("l") " ORDER BY l.ver DESC LIMIT 1";
	sctx x = {.c = c};
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	json_t *own = NULL;

	x.inds = json_object();
	x.who = json_object();
	if (!(s = co_prep(c, qs)) || !(x.qi = co_prep(c, qi)) || !(x.qw = co_prep(c, qw)) ||
	    !(x.qloc = co_prep(c, ql))) {
		rc = SK_EDB;
		goto out;
	}
	if (c->own) {
		own = who_of(&x, c->own);
		x.own_sectors = json_object_get(own, "sectors");
		x.own_country = json_string_value(json_object_get(own, "country"));
	}
	co_bind_period(c, s);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 4);
		int64_t made = sqlite3_column_int64(s, 3);
		if (m)
			sk_ts_parse(m, strlen(m), NULL, &made);
		sighting(&x, (const char *)sqlite3_column_text(s, 0),
		         (const char *)sqlite3_column_text(s, 1),
		         (const char *)sqlite3_column_text(s, 2), sqlite3_column_int64(s, 3), made);
	}
	rc = lead_times(&x);
	anon_merge(c);
out:
	sqlite3_finalize(s);
	sqlite3_finalize(x.qi);
	sqlite3_finalize(x.qw);
	sqlite3_finalize(x.qloc);
	for (size_t i = 0; i < x.n; i++)
		json_decref(x.v[i].fb);
	free(x.v);
	json_decref(x.inds);
	json_decref(x.who);
	return rc;
}

/* --- reach ---------------------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void reach_flush(co_ctx *c, const char *id, const char *type, const char *name,
                        int64_t start, int64_t *t, size_t n)
{
	if (!n)
		return;
	if (json_array_size(c->reach) >= SK_COOP_REACH_MAX) {
		c->reach_more++;
		return;
	}
	qsort(t, n, sizeof(*t), cmp_i64);
	json_array_append_new(
	    c->reach, json_pack("{s:s, s:s, s:s?, s:I, s:f, s:f}", "id", id, "type", type, "name",
	                        name, "recipients", (json_int_t)n, "time_to_50pct_s",
	                        (double)(t[(n + 1) / 2 - 1] - start) / 1e6, "time_to_100pct_s",
	                        (double)(t[n - 1] - start) / 1e6));
}

sk_err co_reach(co_ctx *c)
{
	static const char q[] =
	    "SELECT o.id, o.type, json_extract(o.json,'$.name'), t.pk, min(t.ts),"
	    " (SELECT min(y.added) FROM objects y WHERE y.id=o.id) FROM temp.coop_sent t"
	    " JOIN objects o ON o.ver=t.ver WHERE o.type IN ('report','grouping')"
	    " AND ?1=?1 AND ?2=?2 AND " IN_VIS("o") " AND" CO_GIVEN(
	        "o") " GROUP BY o.id, t.pk ORDER BY o.id";
	sqlite3_stmt *s = co_prep(c, q);
	char id[300] = "", type[64] = "", name[300] = "";
	bool has_name = false;
	int64_t start = 0, *t = NULL;
	size_t n = 0, cap = 0;

	if (!s)
		return SK_EDB;
	co_bind_period(c, s);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *i = (const char *)sqlite3_column_text(s, 0);
		if (strcmp(i, id)) {
			reach_flush(c, id, type, has_name ? name : NULL, start, t, n);
			n = 0;
			snprintf(id, sizeof(id), "%s", i);
			snprintf(type, sizeof(type), "%s", (const char *)sqlite3_column_text(s, 1));
			has_name = sqlite3_column_type(s, 2) == SQLITE_TEXT;
			snprintf(name, sizeof(name), "%s",
			         has_name ? (const char *)sqlite3_column_text(s, 2) : "");
			start = sqlite3_column_int64(s, 5);
		}
		if (c->scope >= 0 && sqlite3_column_int(s, 3) != c->scope)
			continue; /* a scoped report does not count other recipients */
		if (n == cap) {
			int64_t *nt =
			    cap < 100000 ? realloc(t, (cap ? cap * 2 : 16) * sizeof(*t)) : NULL;
			if (!nt)
				continue;
			t = nt;
			cap = cap ? cap * 2 : 16;
		}
		t[n++] = sqlite3_column_int64(s, 4);
	}
	reach_flush(c, id, type, has_name ? name : NULL, start, t, n);
	free(t);
	sqlite3_finalize(s);
	return SK_OK;
}

/* --- sync health and capacity ------------------------------------------------------------- */

sk_err co_sync(co_ctx *c)
{
	static const char q[] =
	    "SELECT p.name, s.last_try, s.last_ok, s.failures, s.last_error, s.requests,"
	    " (SELECT count(*) FROM outbox o WHERE o.pid=p.pid), p.pull, p.push"
	    " FROM peers p LEFT JOIN peer_state s ON s.pid=p.pid ORDER BY p.name";
	sqlite3_stmt *s = co_prep(c, q);
	char key[600], a[SK_TS_STR_MAX], b[SK_TS_STR_MAX];
	if (!s)
		return SK_EDB;
	while (sqlite3_step(s) == SQLITE_ROW) {
		int i;
		snprintf(key, sizeof(key), "peer:%s", (const char *)sqlite3_column_text(s, 0));
		if ((i = co_find(c, key)) < 0)
			continue;
		if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			sk_ts_format_ms(sqlite3_column_int64(s, 1), a);
		if (sqlite3_column_type(s, 2) != SQLITE_NULL)
			sk_ts_format_ms(sqlite3_column_int64(s, 2), b);
		json_decref(c->p[i].sync);
		c->p[i].sync =
		    json_pack("{s:s?, s:s?, s:I, s:s?, s:I, s:I, s:b, s:b}", "last_try",
		              sqlite3_column_type(s, 1) != SQLITE_NULL ? a : NULL, "last_ok",
		              sqlite3_column_type(s, 2) != SQLITE_NULL ? b : NULL, "failures",
		              (json_int_t)sqlite3_column_int64(s, 3), "last_error",
		              (const char *)sqlite3_column_text(s, 4), "requests",
		              (json_int_t)sqlite3_column_int64(s, 5), "outbox",
		              (json_int_t)sqlite3_column_int64(s, 6), "pull",
		              sqlite3_column_int(s, 7), "push", sqlite3_column_int(s, 8));
	}
	sqlite3_finalize(s);
	return SK_OK;
}

sk_err co_capacity(co_ctx *c)
{
	static const char q[] =
	    "SELECT i.revoked, coalesce(i.pattern_type,''), count(*) FROM indicators i"
	    " JOIN objects o ON o.ver=i.ver WHERE " IN_VIS("o") " GROUP BY 1, 2";
	sqlite3_stmt *s = co_prep(c, q);
	json_int_t match = 0, cannot = 0, revoked = 0;
	json_t *types = json_object();
	if (!s) {
		json_decref(types);
		return SK_EDB;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *pt = (const char *)sqlite3_column_text(s, 1);
		json_int_t n = sqlite3_column_int64(s, 2);
		if (sqlite3_column_int(s, 0))
			revoked += n;
		else if (!strcmp(pt, "stix"))
			match += n;
		else
			cannot += n;
		co_count(types, pt[0] ? pt : "none", n);
	}
	sqlite3_finalize(s);
	c->capacity = json_pack("{s:I, s:I, s:I, s:o}", "indicators_matchable", match,
	                        "indicators_cannot_match", cannot, "indicators_revoked", revoked,
	                        "by_pattern_type", types);
	return c->capacity ? SK_OK : sk_error_set(c->err, SK_ENOMEM, "out of memory");
}
