/*
 * coop_sight.c - the detection side of measured cooperation (coop.h,
 * docs/cooperation.md): each sighting of the period followed to the
 * indicator it rests on (who produced it, who relayed it here, when it
 * arrived), giving detections enabled per partner and per sector, lead
 * times, the anonymous counts by sector and country; the reach of reports
 * and groupings; peers' sync health.  This node's capacity: coop_cap.c.
 */
#include "coop_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/timestamp.h"

#define ANON_MIN 3 /* a sector/country group of fewer contributors is merged into "other" */

typedef struct sctx {
	co_ctx *c;
	sqlite3_stmt *qw, *qloc;
	json_t *who; /* identity -> {"anon", "sectors", "country"} */
	json_t *own_sectors;
	const char *own_country;
} sctx;

/* --- loading ------------------------------------------------------------------------------ */

static co_first *first_slot(co_first *t, size_t cap, uint64_t h)
{
	uint64_t m = h ^ (h >> 31); /* FNV's low bits are weak: mix before masking */
	m *= 0xbf58476d1ce4e5b9ull;
	m ^= m >> 27;
	size_t i = (size_t)m & (cap - 1);
	while (t[i].h && t[i].h != h)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

static bool list_grow(co_ctx *c, size_t cap)
{
	uint64_t *h;
	int32_t *v;
	if (cap > CO_VEC_MAX || !(h = realloc(c->ih, cap * sizeof(*h))))
		return false;
	c->ih = h;
	if (!(v = realloc(c->iver, cap * sizeof(*v))))
		return false;
	c->iver = v;
	c->capi = cap;
	return true;
}

bool co_first_init(co_ctx *c, size_t n)
{
	return list_grow(c, n > 1024 ? n : 1024);
}

bool co_first_add(co_ctx *c, const char *id, int64_t ver)
{
	if (c->ni == c->capi && !list_grow(c, c->capi * 2))
		return false;
	c->ih[c->ni] = co_hash(id);
	c->iver[c->ni++] = (int32_t)ver;
	return true;
}

bool co_sig_add(co_ctx *c, int64_t ver, const char *id, const char *rx, const char *by,
                int64_t added, const char *created, bool opinion, const char *of)
{
	json_t *ix = json_object_get(c->sig_ids, id);
	co_sig *g;
	if (ix) {
		c->v[ver].sig = (int32_t)json_integer_value(ix);
		return true;
	}
	if (c->nsig == c->capsig) {
		size_t cap = c->capsig ? c->capsig * 2 : 256;
		if (cap > CO_VEC_MAX || !(g = realloc(c->sig, cap * sizeof(*g))))
			return false;
		c->sig = g;
		c->capsig = cap;
	}
	g = &c->sig[c->nsig];
	memset(g, 0, sizeof(*g));
	g->ver = ver;
	g->added = g->made = added;
	if (created)
		sk_ts_parse(created, strlen(created), NULL, &g->made);
	g->opinion = opinion;
	g->by = by ? strdup(by) : NULL;
	g->rx = rx ? strdup(rx) : NULL;
	if (c->keyed_mode) {
		g->id = strdup(id);
		g->of_id = of ? strdup(of) : NULL;
		if (!g->id || (of && !g->of_id))
			return false;
	}
	g->from = rx ? co_get(c, rx) : -1;
	g->of = -1;
	g->of_h = of ? co_hash(of) : 0;
	c->v[ver].sig = (int32_t)c->nsig;
	json_object_set_new(c->sig_ids, id, json_integer((json_int_t)c->nsig++));
	return (!by || g->by) && (!rx || g->rx);
}

/*
 * The sighted ids in a small table (a few per sighting), then one pass in
 * version order over the indicator versions the scan listed: the first
 * one met of each sighted id is its first version.  Sequential reads and
 * a table that fits the cache, rather than a table of every indicator.
 */
sk_err co_resolve(co_ctx *c)
{
	size_t cap = 1024;
	co_first *t;
	while (cap < 2 * c->nsig + 2)
		cap *= 2;
	if (!(t = calloc(cap, sizeof(*t))))
		return sk_error_set(c->err, SK_ENOMEM, "out of memory");
	for (size_t k = 0; k < c->nsig; k++) {
		co_first *e;
		if (!c->sig[k].of_h)
			continue;
		e = first_slot(t, cap, c->sig[k].of_h);
		if (!e->h)
			*e = (co_first){.h = c->sig[k].of_h, .ver = -1, .ind = -1};
	}
	for (size_t i = 0; i < c->ni; i++) {
		co_first *e = first_slot(t, cap, c->ih[i]);
		if (e->h && e->ver < 0)
			e->ver = c->iver[i];
	}
	for (size_t k = 0; k < c->nsig; k++) {
		co_sig *g = &c->sig[k];
		co_first *e = g->of_h ? first_slot(t, cap, g->of_h) : NULL;
		co_ind *d;
		if (!e || e->ver < 0)
			continue; /* an indicator this node does not hold (or may not see) */
		if (e->ind < 0) {
			if (c->nind == c->capind) {
				size_t n = c->capind ? c->capind * 2 : 256;
				if (n > CO_VEC_MAX || !(d = realloc(c->ind, n * sizeof(*d)))) {
					free(t);
					return sk_error_set(c->err, SK_ENOMEM, "out of memory");
				}
				c->ind = d;
				c->capind = n;
			}
			d = &c->ind[c->nind];
			memset(d, 0, sizeof(*d));
			d->found = true;
			d->arrived = c->vadded[e->ver];
			d->relay = c->vrx[e->ver] >= 0 ? c->vrx[e->ver] : -1;
			d->producer = c->vby[e->ver] >= 0 ? c->vby[e->ver] : -1;
			d->own = c->vrx[e->ver] < 0 && c->vby[e->ver] == -2;
			if (!(d->fb = json_object())) {
				free(t);
				return sk_error_set(c->err, SK_ENOMEM, "out of memory");
			}
			e->ind = (int32_t)c->nind++;
		}
		g->of = e->ind;
	}
	free(t);
	return SK_OK;
}

void co_sight_free(co_ctx *c)
{
	for (size_t i = 0; i < c->nsig; i++) {
		free(c->sig[i].by);
		free(c->sig[i].rx);
		free(c->sig[i].id);
		free(c->sig[i].of_id);
	}
	for (size_t i = 0; i < c->nind; i++)
		json_decref(c->ind[i].fb);
	for (size_t i = 0; i < c->nrep; i++) {
		free(c->rep[i].id);
		free(c->rep[i].name);
		json_decref(c->rep[i].to);
	}
	free(c->sig);
	free(c->ind);
	free(c->ih);
	free(c->iver);
	free(c->rep);
	json_decref(c->sig_ids);
	json_decref(c->rep_ids);
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
static void sighting(sctx *x, const co_sig *g)
{
	co_ctx *c = x->c;
	co_ind *d = g->of >= 0 && c->ind[g->of].found ? &c->ind[g->of] : NULL;
	json_t *w = g->by ? who_of(x, g->by) : NULL, *secs;
	bool anon = json_is_true(json_object_get(w, "anon"));
	const char *country = json_string_value(json_object_get(w, "country"));
	size_t k;
	int cred[2] = {-1, -1};

	if (g->rx)
		c->sight_recv_total++;
	else
		c->sight_here++;
	secs = g->rx ? json_object_get(w, "sectors") : x->own_sectors;
	if (!g->rx && !country)
		country = x->own_country;
	if (d) {
		cred[0] = d->producer;
		cred[1] = d->relay != d->producer ? d->relay : -1;
		for (int j = 0; j < 2; j++)
			if (cred[j] >= 0)
				c->p[cred[j]].det++;
		if (d->own)
			c->own_det++;
		if (!g->rx && (!d->first_here || g->added < d->first_here))
			d->first_here = g->added;
		if (c->keyed && g->id && g->of_id && (cred[0] == c->scope || cred[1] == c->scope)) {
			char t[SK_TS_STR_MAX];
			sk_ts_format_ms(g->made, t);
			json_array_append_new(
			    c->keyed, json_pack("{s:s, s:s, s:s, s:b, s:s?}", "sighting_ref", g->id,
			                        "indicator_ref", g->of_id, "first_seen", t, "here",
			                        !g->rx, "by", g->by));
		}
	}
	if (!json_array_size(secs))
		secs = NULL;
	for (k = 0; k < (secs ? json_array_size(secs) : 1); k++) {
		const char *sn = secs ? json_string_value(json_array_get(secs, k)) : "unknown";
		json_t *s;
		if (anon) { /* by sector and country only, in groups of ANON_MIN or more */
			anon_count(x, sn ? sn : "unknown", country, g->by, g->rx);
			continue;
		}
		s = sector_of(c, sn ? sn : "unknown");
		co_count(s, "sightings", 1);
		/* a report scoped to one partner names no other partner (docs/cooperation.md) */
		for (int j = 0; j < 2 && d; j++)
			if (cred[j] >= 0 && (c->scope < 0 || cred[j] == c->scope))
				co_count(json_object_get(s, "by"), c->p[cred[j]].name, 1);
		if (d && d->own) {
			co_count(json_object_get(s, "by"), "(this node)", 1);
			if (g->rx) {
				char key[300];
				snprintf(key, sizeof(key), "s:%s", sn ? sn : "unknown");
				earliest(d->fb, key, g->made);
			}
		}
	}
	if (d && d->own && g->from >= 0) {
		char key[32];
		snprintf(key, sizeof(key), "%d", g->from);
		earliest(d->fb, key, g->made);
	}
}

/* Feedback and lead times once every sighting is in. */
static sk_err lead_times(co_ctx *c)
{
	for (size_t i = 0; i < c->nind; i++) {
		co_ind *d = &c->ind[i];
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

/*
 * A summary's keyed event: a sighting (that the bound view shows) of an
 * indicator the scoped partner produced or relayed here.  The partner
 * knows the indicator and may see the sighting, given or not yet.
 */
static bool keyed_to_scope(const co_ctx *c, const co_sig *g)
{
	const co_ind *d = g->of >= 0 ? &c->ind[g->of] : NULL;
	return c->keyed_mode && c->scope >= 0 && d && d->found &&
	       (d->producer == c->scope || d->relay == c->scope);
}

/*
 * The sightings of the period (first version stored in it), in the scope,
 * followed to their indicators; then counts per partner of what was
 * received and sent, lead times and the anonymous groups.
 */
sk_err co_sightings(co_ctx *c)
{
	static const char qw[] = "SELECT o.json FROM objects o WHERE o.id=?1 AND " IN_VIS(
	    "o") " ORDER BY o.version DESC, o.ver DESC LIMIT 1";
	static const char ql[] =
	    "SELECT json_extract(l.json,'$.country') FROM objects r JOIN objects l"
	    " ON l.id=r.dst_ref WHERE r.src_ref=?1 AND r.rel_type='located-at' AND " IN_VIS(
	        "r") " AND " IN_VIS("l") " ORDER BY l.ver DESC LIMIT 1";
	sctx x = {.c = c};
	sk_err rc = SK_OK;

	for (size_t i = 0; i < c->np; i++) {
		for (size_t k = 0; k < c->nsig; k++) {
			if (co_bit(c->sigrecv[i], (int64_t)k))
				*(c->sig[k].opinion ? &c->p[i].op_recv : &c->p[i].sight_recv) += 1;
			if (co_bit(c->sigsent[i], (int64_t)k))
				*(c->sig[k].opinion ? &c->p[i].op_sent : &c->p[i].sight_sent) += 1;
		}
	}
	x.who = json_object();
	if (!(x.qw = co_prep(c, qw)) || !(x.qloc = co_prep(c, ql))) {
		rc = SK_EDB;
		goto out;
	}
	if (c->own) {
		json_t *own = who_of(&x, c->own);
		x.own_sectors = json_object_get(own, "sectors");
		x.own_country = json_string_value(json_object_get(own, "country"));
	}
	for (size_t k = 0; k < c->nsig; k++) {
		const co_sig *g = &c->sig[k];
		if (g->opinion || g->added < c->since || g->added >= c->until)
			continue;
		if (!co_given(c, g->ver) && !keyed_to_scope(c, g))
			continue;
		sighting(&x, g);
	}
	rc = lead_times(c);
	anon_merge(c);
out:
	sqlite3_finalize(x.qw);
	sqlite3_finalize(x.qloc);
	json_decref(x.who);
	return rc;
}

/* --- reach ---------------------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

sk_err co_reach(co_ctx *c)
{
	int64_t *t = NULL;
	size_t cap = 0;
	for (size_t i = 0; i < c->nrep; i++) {
		const co_rep *r = &c->rep[i];
		const char *k;
		json_t *v;
		size_t n = 0;
		if (!json_object_size(r->to))
			continue;
		if (json_array_size(c->reach) >= SK_COOP_REACH_MAX) {
			c->reach_more++;
			continue;
		}
		if (cap < json_object_size(r->to)) {
			int64_t *nt = realloc(t, json_object_size(r->to) * sizeof(*t));
			if (!nt) {
				free(t);
				return sk_error_set(c->err, SK_ENOMEM, "out of memory");
			}
			t = nt;
			cap = json_object_size(r->to);
		}
		json_object_foreach(r->to, k, v)
		{
			if (c->scope < 0 ||
			    atoi(k) == c->scope) /* a scoped report counts no other */
				t[n++] = json_integer_value(v);
		}
		if (!n)
			continue;
		qsort(t, n, sizeof(*t), cmp_i64);
		json_array_append_new(
		    c->reach,
		    json_pack("{s:s, s:s, s:s?, s:I, s:f, s:f}", "id", r->id, "type", r->type,
		              "name", r->name, "recipients", (json_int_t)n, "time_to_50pct_s",
		              (double)(t[(n + 1) / 2 - 1] - r->start) / 1e6, "time_to_100pct_s",
		              (double)(t[n - 1] - r->start) / 1e6));
	}
	free(t);
	return SK_OK;
}

/*
 * Reach of collections: for each collection, the versions added to it in
 * the period, and how many of those each partner was handed in the period
 * (the exits' bitmaps).  Scoped, only the scoped partner counts, and only
 * collections it received something from are listed (their names are
 * otherwise not its to know).
 */
sk_err co_collections(co_ctx *c)
{
	static const char q[] = "SELECT o.coll, o.ver, c.name FROM collection_objects o"
	                        " JOIN collections c ON c.cid=o.coll"
	                        " WHERE o.date_added>=?1 AND o.date_added<?2 ORDER BY o.coll";
	sqlite3_stmt *s = co_prep(c, q);
	int64_t coll = -1, added = 0, *got = NULL;
	char name[256] = "";
	sk_err rc = SK_OK;

	if (!s)
		return SK_EDB;
	if (!(c->colls = json_array()) || !(got = calloc(c->np + 1, sizeof(*got)))) {
		sqlite3_finalize(s);
		return sk_error_set(c->err, SK_ENOMEM, "out of memory");
	}
	co_bind_period(c, s);
	for (int more = 1; more;) {
		int64_t cid = -1, ver = 0;
		more = sqlite3_step(s) == SQLITE_ROW;
		if (more) {
			cid = sqlite3_column_int64(s, 0);
			ver = sqlite3_column_int64(s, 1);
		}
		if (cid != coll && coll >= 0) {
			json_t *by = json_object();
			size_t n = 0;
			for (size_t i = 0; i < c->np; i++) {
				if (!got[i] || (c->scope >= 0 && (int)i != c->scope))
					continue;
				json_object_set_new(by, c->p[i].name, json_integer(got[i]));
				n++;
			}
			if (n || c->scope < 0)
				json_array_append_new(
				    c->colls,
				    json_pack("{s:s, s:I, s:I, s:o}", "collection", name,
				              "versions_added", (json_int_t)added, "recipients",
				              (json_int_t)n, "received_by", by));
			else
				json_decref(by);
			memset(got, 0, (c->np + 1) * sizeof(*got));
			added = 0;
		}
		if (!more)
			break;
		if (cid != coll) {
			coll = cid;
			snprintf(name, sizeof(name), "%s", (const char *)sqlite3_column_text(s, 2));
		}
		if (ver < 1 || ver > c->maxver || !c->v[ver].type || !co_given(c, ver))
			continue;
		added++;
		for (size_t i = 0; i < c->np; i++)
			if (co_bit(c->sent[i], ver))
				got[i]++;
	}
	free(got);
	sqlite3_finalize(s);
	return rc;
}

/* --- sync health ------------------------------------------------------------- */

/*
 * A peer's availability over the period, from sync_log: attempts, how
 * many succeeded (percent, null without attempts) and the errors met,
 * most frequent first.
 */
static json_t *availability(co_ctx *c, sqlite3_stmt *qa, sqlite3_stmt *qe, int64_t pid)
{
	json_int_t n = 0, ok = 0;
	json_t *errs = json_array(), *o;
	sqlite3_bind_int64(qa, 1, pid);
	sqlite3_bind_int64(qa, 2, c->since);
	sqlite3_bind_int64(qa, 3, c->until);
	if (sqlite3_step(qa) == SQLITE_ROW) {
		n = sqlite3_column_int64(qa, 0);
		ok = sqlite3_column_int64(qa, 1);
	}
	sqlite3_reset(qa);
	sqlite3_bind_int64(qe, 1, pid);
	sqlite3_bind_int64(qe, 2, c->since);
	sqlite3_bind_int64(qe, 3, c->until);
	while (sqlite3_step(qe) == SQLITE_ROW)
		json_array_append_new(errs,
		                      json_pack("{s:s, s:I}", "error",
		                                sqlite3_column_text(qe, 0)
		                                    ? (const char *)sqlite3_column_text(qe, 0)
		                                    : "",
		                                "n", (json_int_t)sqlite3_column_int64(qe, 1)));
	sqlite3_reset(qe);
	o = json_pack("{s:I, s:I, s:I, s:o, s:o}", "attempts", n, "attempts_ok", ok,
	              "attempts_failed", n - ok, "availability_pct",
	              n ? json_real(round(1000.0 * (double)ok / (double)n) / 10) : json_null(),
	              "errors", errs);
	return o;
}

sk_err co_sync(co_ctx *c)
{
	static const char q[] =
	    "SELECT p.name, s.last_try, s.last_ok, s.failures, s.last_error, s.requests,"
	    " (SELECT count(*) FROM outbox o WHERE o.pid=p.pid), p.pull, p.push, p.pid"
	    " FROM peers p LEFT JOIN peer_state s ON s.pid=p.pid ORDER BY p.name";
	static const char qa[] = "SELECT count(*), coalesce(sum(ok), 0) FROM sync_log"
	                         " WHERE pid=?1 AND ts>=?2 AND ts<?3";
	static const char qe[] = "SELECT error, count(*) FROM sync_log WHERE pid=?1 AND ts>=?2"
	                         " AND ts<?3 AND NOT ok GROUP BY error ORDER BY 2 DESC, 1 LIMIT 10";
	sqlite3_stmt *s = co_prep(c, q), *sa = s ? co_prep(c, qa) : NULL,
	             *se = sa ? co_prep(c, qe) : NULL;
	char key[600], a[SK_TS_STR_MAX], b[SK_TS_STR_MAX];
	if (!se) {
		sqlite3_finalize(s);
		sqlite3_finalize(sa);
		return SK_EDB;
	}
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
		    json_pack("{s:s?, s:s?, s:I, s:s?, s:I, s:I, s:b, s:b, s:o}", "last_try",
		              sqlite3_column_type(s, 1) != SQLITE_NULL ? a : NULL, "last_ok",
		              sqlite3_column_type(s, 2) != SQLITE_NULL ? b : NULL, "failures",
		              (json_int_t)sqlite3_column_int64(s, 3), "last_error",
		              (const char *)sqlite3_column_text(s, 4), "requests",
		              (json_int_t)sqlite3_column_int64(s, 5), "outbox",
		              (json_int_t)sqlite3_column_int64(s, 6), "pull",
		              sqlite3_column_int(s, 7), "push", sqlite3_column_int(s, 8), "period",
		              availability(c, sa, se, sqlite3_column_int64(s, 9)));
	}
	sqlite3_finalize(s);
	sqlite3_finalize(sa);
	sqlite3_finalize(se);
	return SK_OK;
}
