/*
 * coop.c - measured cooperation (coop.h, docs/cooperation.md): the
 * partners and peers of this node merged by identity, what each gave us
 * (objects.rx, objects.added, provenance.source_added) and what we gave it
 * (the audit log's exits), time to share as distributions, and the
 * assembly of the report.  Sightings, reach and health: coop_sight.c.
 */
#include "coop_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/timestamp.h"
#include "schakel/tlp.h"

/* --- distributions ----------------------------------------------------------------- */

/* The k-th smallest of v[0..n) (quickselect; v is reordered so that v[k] is in place). */
static double kth(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
		double a = v[lo], b = v[mid], c = v[hi], pivot, t;
		pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				t = v[i];
				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

void sk_coop_dist_of(double *v, size_t n, sk_coop_dist *out)
{
	memset(out, 0, sizeof(*out));
	if (!n)
		return;
	out->n = n;
	out->min = out->max = v[0];
	for (size_t i = 1; i < n; i++) {
		if (v[i] < out->min)
			out->min = v[i];
		if (v[i] > out->max)
			out->max = v[i];
	}
	/* nearest rank: the smallest value with at least 90 % of the values at or below it */
	out->p90 = kth(v, n, (n * 9 + 9) / 10 - 1); /* rank ceil(0.9 n) */
	if (n % 2) {
		out->median = kth(v, n, n / 2);
	} else {
		double lo = kth(v, n, n / 2 - 1), hi = v[n / 2];
		for (size_t i = n / 2; i < n; i++) /* everything from n/2 on is >= lo */
			if (v[i] < hi)
				hi = v[i];
		out->median = (lo + hi) / 2;
	}
}

static json_t *num(double x)
{
	return json_real(round(x * 1000) / 1000); /* milliseconds are all a clock gives */
}

json_t *sk_coop_dist_json(const sk_coop_dist *d)
{
	if (!d->n)
		return json_pack("{s:I, s:n, s:n, s:n}", "n", (json_int_t)0, "median", "p90",
		                 "max");
	return json_pack("{s:I, s:o, s:o, s:o}", "n", (json_int_t)d->n, "median", num(d->median),
	                 "p90", num(d->p90), "max", num(d->max));
}

bool co_vec_add(co_vec *v, double x)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		double *p;
		if (cap > CO_VEC_MAX || !(p = realloc(v->v, cap * sizeof(*p))))
			return false;
		v->v = p;
		v->cap = cap;
	}
	v->v[v->n++] = x;
	return true;
}

void co_vec_free(co_vec *v)
{
	free(v->v);
	memset(v, 0, sizeof(*v));
}

json_t *co_vec_json(co_vec *v)
{
	sk_coop_dist d;
	sk_coop_dist_of(v->v, v->n, &d);
	return sk_coop_dist_json(&d);
}

/* --- plumbing ------------------------------------------------------------------------- */

sqlite3_stmt *co_prep(co_ctx *c, const char *sql)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(sk_store_sqlite(c->st), sql, -1, &s, NULL) != SQLITE_OK) {
		sk_store_dberr(c->st, c->err, "cooperation");
		return NULL;
	}
	return s;
}

void co_bind_period(co_ctx *c, sqlite3_stmt *s)
{
	sqlite3_bind_int64(s, 1, c->since);
	sqlite3_bind_int64(s, 2, c->until);
	sqlite3_bind_int(s, 3, c->scope >= 0);
}

void co_count(json_t *obj, const char *key, json_int_t n)
{
	json_t *v = json_object_get(obj, key);
	if (v)
		json_integer_set(v, json_integer_value(v) + n);
	else
		json_object_set_new(obj, key, json_integer(n));
}

int co_find(co_ctx *c, const char *key)
{
	json_t *v = key ? json_object_get(c->keys, key) : NULL;
	return v ? (int)json_integer_value(v) : -1;
}

static int add_partner(co_ctx *c, const char *name, const char *identity)
{
	co_partner *p;
	if (c->np == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		uint8_t **maps[3] = {c->sent, c->sigrecv, c->sigsent}, **m;
		if (cap > 100000 || !(p = realloc(c->p, cap * sizeof(*p))))
			return -1;
		c->p = p;
		for (int k = 0; k < 3; k++) {
			if (!(m = realloc(maps[k], cap * sizeof(*m))))
				return -1;
			memset(m + c->cap, 0, (cap - c->cap) * sizeof(*m));
			*(k == 0 ? &c->sent : k == 1 ? &c->sigrecv : &c->sigsent) = m;
		}
		c->cap = cap;
	}
	p = &c->p[c->np];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	p->identity = identity ? strdup(identity) : NULL;
	p->nt = calloc(2 * CO_TYPES, sizeof(*p->nt));
	if (!p->name || (identity && !p->identity) || !p->nt)
		return -1;
	if (identity)
		json_object_set_new(c->keys, identity, json_integer((json_int_t)c->np));
	return (int)c->np++;
}

int co_get(co_ctx *c, const char *key)
{
	int i = co_find(c, key);
	if (i >= 0 || !key)
		return i;
	/*
	 * A source no partner or peer names now (removed since), or files
	 * imported without --from whose objects others produced (SK_RX_UNKNOWN).
	 */
	if (!strcmp(key, SK_RX_UNKNOWN))
		i = add_partner(c, "(imported files, source unknown)", NULL);
	else
		i = add_partner(c, key, strncmp(key, "peer:", 5) ? key : NULL);
	if (i >= 0)
		json_object_set_new(c->keys, key, json_integer(i));
	return i;
}

static void free_partner(co_partner *p)
{
	free(p->name);
	free(p->identity);
	free(p->country);
	free(p->nt);
	json_decref(p->sync);
	co_vec_free(&p->tts);
	co_vec_free(&p->hop);
	co_vec_free(&p->up);
	co_vec_free(&p->lead);
	co_vec_free(&p->fb);
}

/* Partners (partners table) and peers, merged by identity. */
static sk_err load_partners(co_ctx *c)
{
	static const char qp[] = "SELECT name, identity, country FROM partners WHERE pid>0"
	                         " ORDER BY name";
	static const char qr[] = "SELECT name, identity FROM peers ORDER BY name";
	sqlite3_stmt *s = co_prep(c, qp);
	char key[600];

	if (!s)
		return SK_EDB;
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);
		const char *ident = (const char *)sqlite3_column_text(s, 1);
		const char *country = (const char *)sqlite3_column_text(s, 2);
		int i = co_find(c, ident);
		if (i < 0 && (i = add_partner(c, name, ident)) < 0)
			break;
		c->p[i].is_partner = true;
		if (country && !c->p[i].country)
			c->p[i].country = strdup(country);
		snprintf(key, sizeof(key), "partner:%s", name);
		json_object_set_new(c->keys, key, json_integer(i));
	}
	sqlite3_finalize(s);
	if (!(s = co_prep(c, qr)))
		return SK_EDB;
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);
		const char *ident = (const char *)sqlite3_column_text(s, 1);
		int i = co_find(c, ident);
		if (i < 0 && (i = add_partner(c, name, ident)) < 0)
			break;
		c->p[i].is_peer = true;
		snprintf(key, sizeof(key), "peer:%s", name);
		json_object_set_new(c->keys, key, json_integer(i));
	}
	sqlite3_finalize(s);
	return SK_OK;
}

/* --- one scan of the store ------------------------------------------------------------- */

static int type_of(co_ctx *c, const char *t)
{
	for (int i = 0; i < c->ntypes; i++)
		if (!strcmp(c->types[i], t))
			return i;
	if (c->ntypes >= CO_TYPES - 1) {
		for (int i = 0; i < c->ntypes; i++)
			if (!strcmp(c->types[i], "other"))
				return i;
		t = "other";
	}
	if (!(c->types[c->ntypes] = strdup(t)))
		return -1;
	return c->ntypes++;
}

static void *alloc_vers(co_ctx *c, size_t size)
{
	return calloc((size_t)c->maxver + 1, size);
}

static bool set_bit(uint8_t **map, size_t nbits, int64_t i)
{
	if (!*map && !(*map = calloc(nbits / 8 + 1, 1)))
		return false;
	(*map)[i >> 3] |= (uint8_t)(1u << (i & 7));
	return true;
}

bool co_given(const co_ctx *c, int64_t ver)
{
	if (c->scope < 0)
		return true;
	if (ver < 1 || ver > c->maxver)
		return false;
	return co_bit(c->sent[c->scope], ver) || c->vrx[ver] == c->scope || c->vby[ver] == c->scope;
}

static sk_err sizes(co_ctx *c)
{
	sqlite3_stmt *s = co_prep(c, "SELECT coalesce(max(ver), 0) FROM objects");
	if (!s)
		return SK_EDB;
	if (sqlite3_step(s) == SQLITE_ROW)
		c->maxver = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (c->maxver > CO_MAX_VERSIONS)
		return sk_error_set(c->err, SK_ELIMIT,
		                    "cooperation: %lld versions, more than a report reads (%lld)",
		                    (long long)c->maxver, (long long)CO_MAX_VERSIONS);
	c->v = alloc_vers(c, sizeof(*c->v));
	c->vadded = alloc_vers(c, sizeof(int64_t));
	c->vrx = alloc_vers(c, sizeof(int32_t));
	c->vby = alloc_vers(c, sizeof(int32_t));
	if (!c->v || !c->vadded || !c->vrx || !c->vby)
		return sk_error_set(c->err, SK_ENOMEM, "cooperation: out of memory");
	for (int64_t i = 0; i <= c->maxver; i++)
		c->vrx[i] = c->vby[i] = c->v[i].sig = c->v[i].rep = -1;
	/* indicators are most of a store: room for 7/8 of the versions, grown if needed */
	if (!co_first_init(c, (size_t)(c->maxver - c->maxver / 8)))
		return sk_error_set(c->err, SK_ENOMEM, "cooperation: out of memory");
	c->t_sighting = type_of(c, "sighting");
	c->t_opinion = type_of(c, "opinion");
	c->t_indicator = type_of(c, "indicator");
	c->t_report = type_of(c, "report");
	c->t_grouping = type_of(c, "grouping");
	return c->t_grouping < 0 ? sk_error_set(c->err, SK_ENOMEM, "out of memory") : SK_OK;
}

/* date_added at the source, per version, where a pull recorded it. */
static sk_err source_added(co_ctx *c, int64_t **out)
{
	sqlite3_stmt *s = co_prep(c, "SELECT ver, source_added FROM provenance"
	                             " WHERE source_added IS NOT NULL");
	int64_t *sa = alloc_vers(c, sizeof(int64_t));
	if (!s || !sa) {
		sqlite3_finalize(s);
		free(sa);
		return s ? sk_error_set(c->err, SK_ENOMEM, "out of memory") : SK_EDB;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(s, 0);
		if (v >= 1 && v <= c->maxver)
			sa[v] = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	*out = sa;
	return SK_OK;
}

/* The partner index of an rx or created_by value, remembering the last one asked. */
typedef struct who_cache {
	char last[160];
	int idx;
} who_cache;

static int who(co_ctx *c, who_cache *w, const char *v, bool add)
{
	if (!v)
		return -1;
	if (w->last[0] && !strcmp(w->last, v))
		return w->idx;
	if (strlen(v) < sizeof(w->last))
		strcpy(w->last, v);
	else
		w->last[0] = '\0';
	if (c->own && !strcmp(v, c->own))
		w->idx = -2;
	else
		w->idx = add ? co_get(c, v) : co_find(c, v);
	return w->idx;
}

/* A received version of the period: counts and time to share. */
static bool received(co_ctx *c, int i, int t, int tlp, int64_t ver, int64_t added, const char *m,
                     int64_t sa)
{
	co_partner *p = &c->p[i];
	int64_t made = 0;
	p->recv++;
	p->nt[t]++;
	p->nl[0][tlp > 0 && tlp <= 5 ? tlp : 0]++;
	if (c->v[ver].sig >= 0 && !set_bit(&c->sigrecv[i], (size_t)c->maxver + 1, c->v[ver].sig))
		return false;
	if (c->vby[ver] == i)
		p->direct++;
	else
		p->relayed++;
	if (!m || !sk_ts_parse(m, strlen(m), NULL, &made))
		return true;
	return co_vec_add(&p->tts, (double)(added - made) / 1e6) &&
	       (!sa || (co_vec_add(&p->hop, (double)(added - sa) / 1e6) &&
	                co_vec_add(&p->up, (double)(sa - made) / 1e6)));
}

/* A version of a report or a grouping: which one it is (reach). */
static void remember(co_ctx *c, int t, int64_t ver, const char *id, const char *name, int64_t added)
{
	json_t *ix = id ? json_object_get(c->rep_ids, id) : NULL;
	if (!id)
		return;
	if (!ix) {
		co_rep *r;
		if (c->nrep == c->caprep) {
			size_t cap = c->caprep ? c->caprep * 2 : 64;
			if (cap > CO_VEC_MAX || !(r = realloc(c->rep, cap * sizeof(*r))))
				return;
			c->rep = r;
			c->caprep = cap;
		}
		r = &c->rep[c->nrep];
		memset(r, 0, sizeof(*r));
		r->id = strdup(id);
		r->name = name ? strdup(name) : NULL;
		r->type = c->types[t];
		r->start = added;
		r->to = json_object();
		ix = json_integer((json_int_t)c->nrep++);
		json_object_set_new(c->rep_ids, id, ix);
	}
	c->v[ver].rep = (int32_t)json_integer_value(ix);
}

/*
 * The one pass over every visible version: its type, level, source and
 * producer by version number (for the exits and the sightings), the
 * received versions of the period, and the first versions of sighted
 * indicators and of reports.  Sequential: the store is read once.
 */
static sk_err scan(co_ctx *c)
{
	static const char q[] =
	    "SELECT o.ver, o.type, o.tlp, o.rx, o.created_by, o.added,"
	    " coalesce(o.modified, o.created),"
	    " CASE WHEN o.type IN ('indicator','report','grouping','sighting','opinion')"
	    "  THEN o.id END,"
	    " CASE WHEN o.type IN ('report','grouping') THEN json_extract(o.json,'$.name') END,"
	    " CASE WHEN o.type='sighting' THEN o.dst_ref END," /* its sighting_of_ref (stix.c) */
	    " o.created FROM objects o WHERE " IN_VIS("o")
	    /* a summary's recipient knows of the sightings of the indicators it produced or
	       relayed here, at any level: the sync sends them to it (towards the origin,
	       docs/sharing-policy.md) */
	    " OR (?1 IS NOT NULL AND o.type='sighting' AND EXISTS (SELECT 1 FROM objects i"
	    " WHERE i.id=o.dst_ref AND +i.type='indicator' AND (i.created_by=?1 OR i.rx=?1)))";
	sqlite3_stmt *s = co_prep(c, q);
	who_cache wr = {.idx = -1}, wb = {.idx = -1};
	int64_t *sa = NULL;
	int t = -1;
	sk_err rc = SK_OK;

	if (!s)
		return SK_EDB;
	if (c->keyed_mode && c->scope >= 0 && c->p[c->scope].identity)
		sqlite3_bind_text(s, 1, c->p[c->scope].identity, -1, SQLITE_STATIC);
	if ((rc = source_added(c, &sa))) {
		sqlite3_finalize(s);
		return rc;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t ver = sqlite3_column_int64(s, 0), added = sqlite3_column_int64(s, 5);
		const char *type = (const char *)sqlite3_column_text(s, 1);
		const char *rx = (const char *)sqlite3_column_text(s, 3);
		int tlp = sqlite3_column_int(s, 2);
		if (ver < 1 || ver > c->maxver || !type)
			continue;
		if (t < 0 || strcmp(c->types[t], type))
			t = type_of(c, type);
		if (t < 0) {
			rc = sk_error_set(c->err, SK_ENOMEM, "out of memory");
			break;
		}
		c->v[ver].type = (uint8_t)(t + 1);
		c->vadded[ver] = added;
		c->v[ver].tlp = (uint8_t)(tlp >= 0 && tlp <= 5 ? tlp : 0);
		c->vrx[ver] = who(c, &wr, rx, true);
		c->vby[ver] = who(c, &wb, (const char *)sqlite3_column_text(s, 4), false);
		if (c->vrx[ver] == -2) /* a version from our own identity's other name */
			c->vrx[ver] = -1;
		if ((t == c->t_sighting || t == c->t_opinion) && sqlite3_column_text(s, 7) &&
		    !co_sig_add(c, ver, (const char *)sqlite3_column_text(s, 7), rx,
		                (const char *)sqlite3_column_text(s, 4), added,
		                (const char *)sqlite3_column_text(s, 10), t == c->t_opinion,
		                (const char *)sqlite3_column_text(s, 9))) {
			rc = sk_error_set(c->err, SK_ENOMEM, "out of memory");
			break;
		}
		if (t == c->t_indicator && sqlite3_column_text(s, 7) &&
		    !co_first_add(c, (const char *)sqlite3_column_text(s, 7), ver)) {
			rc = sk_error_set(c->err, SK_ENOMEM, "out of memory");
			break;
		}
		if (c->vrx[ver] >= 0 && added >= c->since && added < c->until &&
		    (c->scope < 0 || c->vrx[ver] == c->scope) &&
		    !received(c, c->vrx[ver], t, tlp, ver, added,
		              (const char *)sqlite3_column_text(s, 6), sa[ver])) {
			rc = sk_error_set(c->err, SK_ELIMIT, "cooperation: too many versions");
			break;
		}
		if (t == c->t_report || t == c->t_grouping)
			remember(c, t, ver, (const char *)sqlite3_column_text(s, 7),
			         (const char *)sqlite3_column_text(s, 8), added);
	}

	free(sa);
	sqlite3_finalize(s);
	return rc;
}

/* --- the exits: what was handed to whom --------------------------------------------------- */

/* One version handed to partner i at ts. */
static bool handed(co_ctx *c, int i, int64_t ver, int64_t ts)
{
	co_partner *p = &c->p[i];
	int t;
	if (ver < 1 || ver > c->maxver || !c->v[ver].type || co_bit(c->sent[i], ver))
		return true;
	if (!set_bit(&c->sent[i], (size_t)c->maxver + 1, ver))
		return false;
	t = c->v[ver].type - 1;
	p->sent++;
	p->nt[CO_TYPES + t]++;
	p->nl[1][c->v[ver].tlp]++;
	if (c->v[ver].sig >= 0 && !set_bit(&c->sigsent[i], (size_t)c->maxver + 1, c->v[ver].sig))
		return false;
	if (c->v[ver].rep >= 0) {
		char k[16];
		json_t *to = c->rep[c->v[ver].rep].to;
		snprintf(k, sizeof(k), "%d", i);
		if (!json_object_get(to, k))
			json_object_set_new(to, k, json_integer(ts));
	}
	return true;
}

/*
 * The audit log's exits of the period, oldest first: each listed version
 * once per partner (the first time); summarised entries (more than
 * SK_AUDIT_LIST_MAX versions) add to sent_unlisted.  The lists are JSON
 * arrays of integers written by the log itself, read here directly.
 */
static sk_err exits(co_ctx *c)
{
	static const char q[] =
	    "SELECT subject, ts, versions,"
	    " CASE WHEN substr(versions,1,1)='{' THEN json_extract(versions,'$.count') END"
	    " FROM audit WHERE versions IS NOT NULL AND ts>=?1 AND ts<?2"
	    " AND action NOT IN ('taxii.manifest','taxii.versions') ORDER BY seq";
	sqlite3_stmt *s = co_prep(c, q);
	sk_err rc = SK_OK;

	if (!s)
		return SK_EDB;
	co_bind_period(c, s);
	while (sqlite3_step(s) == SQLITE_ROW && !rc) {
		int i = co_find(c, (const char *)sqlite3_column_text(s, 0));
		const char *v = (const char *)sqlite3_column_text(s, 2);
		int64_t ts = sqlite3_column_int64(s, 1);
		if (i < 0 || !v)
			continue; /* own accounts, anonymous readers */
		if (*v == '{') {
			c->p[i].sent_unlisted += sqlite3_column_int64(s, 3);
			continue;
		}
		for (const char *p = v; *p;) {
			char *end;
			long long ver;
			while (*p && (*p < '0' || *p > '9'))
				p++;
			if (!*p)
				break;
			ver = strtoll(p, &end, 10);
			p = end;
			if (!handed(c, i, ver, ts))
				rc = sk_error_set(c->err, SK_ENOMEM, "out of memory");
		}
	}
	sqlite3_finalize(s);
	return rc;
}

/* --- the report ------------------------------------------------------------------------------ */

static json_t *ts_json(int64_t us)
{
	char b[SK_TS_STR_MAX];
	if (!us)
		return json_null();
	sk_ts_format_ms(us, b);
	return json_string(b);
}

/* {type: versions} or {level: versions} of one direction (0 received, 1 sent). */
static json_t *by_type(const co_ctx *c, const co_partner *p, int dir)
{
	json_t *o = json_object();
	for (int t = 0; t < c->ntypes; t++)
		if (p->nt[dir * CO_TYPES + t])
			json_object_set_new(o, c->types[t],
			                    json_integer(p->nt[dir * CO_TYPES + t]));
	return o;
}

static json_t *by_tlp(const co_partner *p, int dir)
{
	json_t *o = json_object();
	for (int l = 0; l < 6; l++)
		if (p->nl[dir][l])
			json_object_set_new(o, l ? sk_tlp_name((sk_tlp)l) : "unmarked",
			                    json_integer(p->nl[dir][l]));
	return o;
}

static json_t *partner_json(const co_ctx *c, co_partner *p)
{
	json_t *o = json_pack(
	    "{s:s, s:s?, s:s?, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o,"
	    " s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:o, s:o}",
	    "partner", p->name, "identity", p->identity, "country", p->country, "is_partner",
	    p->is_partner, "is_peer", p->is_peer, "objects_received", (json_int_t)p->recv,
	    "objects_sent", (json_int_t)p->sent, "objects_sent_unlisted",
	    (json_int_t)p->sent_unlisted, "sightings_received", (json_int_t)p->sight_recv,
	    "sightings_sent", (json_int_t)p->sight_sent, "opinions_received",
	    (json_int_t)p->op_recv, "opinions_sent", (json_int_t)p->op_sent, "detections_enabled",
	    (json_int_t)p->det, "received_by_type", by_type(c, p, 0), "received_by_tlp",
	    by_tlp(p, 0), "sent_by_type", by_type(c, p, 1), "sent_by_tlp", by_tlp(p, 1),
	    "time_to_share_s", co_vec_json(&p->tts), "last_hop_s", co_vec_json(&p->hop),
	    "producer_to_source_s", co_vec_json(&p->up), "received_from_producer",
	    (json_int_t)p->direct, "received_relayed", (json_int_t)p->relayed,
	    "paths_measured_whole", (json_int_t)p->direct, "lead_time_s", co_vec_json(&p->lead),
	    "feedback_lead_s", co_vec_json(&p->fb));
	if (o)
		json_object_set(o, "sync", p->sync ? p->sync : json_null());
	return o;
}

static const char *const unknowable[] = {
    "Hops further up a path: a node sees only the partner that handed it a version (its last "
    "hop). For versions the producer handed over directly (received_from_producer) the path "
    "is measured whole; for relayed ones only the last hop and the producer's own timestamp "
    "are known.",
    "Clocks: time to share compares the producer's clock (the version's modified time) with "
    "this node's; a skewed clock shifts or even inverts it.",
    "What partners did with what they received: whether they deployed, matched or passed on "
    "an indicator is known only through the sightings they report back.",
    "Detections that were never reported back: a partner that detects without sharing its "
    "sighting is invisible here; detections_enabled is a lower bound.",
    "Exits summarised in the audit log (more than 1000 versions at once) are counted "
    "(objects_sent_unlisted) but not broken down by type or TLP.",
    "Peer availability: it counts this node's own sync runs of each peer (sync_log, kept "
    "400 days); a peer that pulls from us is not seen when it fails, and a node that was "
    "itself down logged nothing for that time.",
    "Partners' capacity (how much of what they receive they can match): only this node's "
    "own is known, without the partners' summaries.",
    NULL};

static sk_err assemble(co_ctx *c, json_t **out)
{
	json_t *parts = json_array(), *sec = json_array(), *anon = json_array(),
	       *unk = json_array();
	json_t *rep;
	const char *k;
	json_t *v;

	for (size_t i = 0; i < c->np; i++) {
		if (c->scope >= 0 && (int)i != c->scope)
			continue;
		json_array_append_new(parts, partner_json(c, &c->p[i]));
	}
	json_object_foreach(c->sectors, k, v)
	{
		json_t *fbi = json_object_get(c->ind_fb_sector, k);
		json_t *fb = fbi ? co_vec_json(&c->fbs[json_integer_value(fbi)])
		                 : json_pack("{s:I, s:n, s:n, s:n}", "n", (json_int_t)0, "median",
		                             "p90", "max");
		json_array_append_new(sec,
		                      json_pack("{s:s, s:O, s:O, s:o}", "sector", k, "sightings",
		                                json_object_get(v, "sightings"), "protected_by",
		                                json_object_get(v, "by"), "feedback_lead_s", fb));
	}
	json_object_foreach(c->anon, k, v)
	{
		json_array_append(anon, v);
	}
	for (size_t i = 0; unknowable[i]; i++)
		json_array_append_new(unk, json_string(unknowable[i]));
	rep = json_pack(
	    "{s:s, s:{s:s?}, s:{s:o, s:o}, s:o, s:{s:s?}, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:o},"
	    " s:O, s:I, s:O, s:O?, s:o}",
	    "schema", SK_COOP_SCHEMA, "node", "identity", c->own, "period", "since",
	    ts_json(c->since), "until", ts_json(c->until), "generated", ts_json(sk_ts_now_us()),
	    "scope", "partner", c->scope >= 0 ? c->p[c->scope].name : NULL, "partners", parts,
	    "sectors", sec, "anonymous_sightings", anon, "own", "sightings_here",
	    (json_int_t)c->sight_here, "sightings_received", (json_int_t)c->sight_recv_total,
	    "detections_enabled", (json_int_t)c->own_det, "lead_time_s", co_vec_json(&c->own_lead),
	    "reach", c->reach, "reach_not_listed", (json_int_t)c->reach_more, "collections",
	    c->colls, "capacity", c->capacity, "cannot_know", unk);
	if (!rep)
		return sk_error_set(c->err, SK_ENOMEM, "out of memory");
	if (!c->capacity) /* scoped: this node's own capacity is not the partner's business */
		json_object_del(rep, "capacity");
	*out = rep;
	return SK_OK;
}

static sk_err resolve_scope(co_ctx *c, const char *who)
{
	char key[600];
	c->scope = co_find(c, who);
	if (c->scope < 0) {
		snprintf(key, sizeof(key), "partner:%s", who);
		c->scope = co_find(c, key);
	}
	if (c->scope < 0) {
		snprintf(key, sizeof(key), "peer:%s", who);
		c->scope = co_find(c, key);
	}
	if (c->scope < 0)
		return sk_error_set(c->err, SK_ENOTFOUND, "no partner or peer named '%s'", who);
	return SK_OK;
}

sk_err sk_coop_report(sk_store *st, const sk_coop_opts *o, json_t **out, sk_error *err)
{
	co_ctx c = {.st = st, .err = err, .scope = -1};
	sk_err rc;

	*out = NULL;
	c.since = o->since > 0 ? o->since : 0;
	c.until = o->until > 0 ? o->until : sk_ts_now_us() + 1;
	if (c.since >= c.until)
		return sk_error_set(err, SK_EINVAL, "cooperation: --since must be before --until");
	c.keys = json_object();
	c.sectors = json_object();
	c.anon = json_object();
	c.ind_fb_sector = json_object();
	c.reach = json_array();
	c.sig_ids = json_object();
	c.rep_ids = json_object();
	if (!c.keys || !c.sectors || !c.anon || !c.ind_fb_sector || !c.reach || !c.sig_ids ||
	    !c.rep_ids) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (sk_store_node_id(st, &c.own, NULL))
		c.own = NULL;
	if ((rc = load_partners(&c)))
		goto out;
	if (o->partner && (rc = resolve_scope(&c, o->partner)))
		goto out;
	if (o->keyed && c.scope >= 0) {
		c.keyed_mode = true;
		if (!(c.keyed = json_array())) {
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
			goto out;
		}
	}
	if ((rc = sizes(&c)) || (rc = scan(&c)) || (rc = co_resolve(&c)) || (rc = exits(&c)) ||
	    (rc = co_sightings(&c)) || (rc = co_reach(&c)) || (rc = co_collections(&c)) ||
	    (rc = co_sync(&c)) || ((c.scope < 0 || c.keyed_mode) && (rc = co_capacity(&c))))
		goto out;
	rc = assemble(&c, out);
	if (!rc && c.keyed)
		json_object_set(*out, "keyed_sightings", c.keyed);
out:
	co_sight_free(&c);
	for (size_t i = 0; i < c.np; i++) {
		free_partner(&c.p[i]);
		if (c.sent)
			free(c.sent[i]);
		if (c.sigrecv)
			free(c.sigrecv[i]);
		if (c.sigsent)
			free(c.sigsent[i]);
	}
	free(c.sent);
	free(c.sigrecv);
	free(c.sigsent);
	free(c.v);
	free(c.vadded);
	free(c.vrx);
	free(c.vby);
	for (int i = 0; i < c.ntypes; i++)
		free(c.types[i]);
	for (size_t i = 0; i < c.nfbs; i++)
		co_vec_free(&c.fbs[i]);
	free(c.fbs);
	free(c.p);
	free(c.own);
	co_vec_free(&c.own_lead);
	json_decref(c.keys);
	json_decref(c.sectors);
	json_decref(c.anon);
	json_decref(c.ind_fb_sector);
	json_decref(c.reach);
	json_decref(c.capacity);
	json_decref(c.colls);
	json_decref(c.keyed);
	return rc;
}
