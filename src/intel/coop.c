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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void sk_coop_dist_of(double *v, size_t n, sk_coop_dist *out)
{
	memset(out, 0, sizeof(*out));
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_double);
	out->n = n;
	out->min = v[0];
	out->max = v[n - 1];
	out->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	/* nearest rank: the smallest value with at least 90 % of the values at or below it */
	size_t rank = (n * 9 + 9) / 10; /* ceil(0.9 n) */
	out->p90 = v[(rank ? rank : 1) - 1];
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
		if (cap > 100000 || !(p = realloc(c->p, cap * sizeof(*p))))
			return -1;
		c->p = p;
		c->cap = cap;
	}
	p = &c->p[c->np];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	p->identity = identity ? strdup(identity) : NULL;
	p->recv_type = json_object();
	p->recv_tlp = json_object();
	p->sent_type = json_object();
	p->sent_tlp = json_object();
	if (!p->name || (identity && !p->identity) || !p->recv_type || !p->recv_tlp ||
	    !p->sent_type || !p->sent_tlp)
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
	/* a source no partner or peer names now (removed since, or imported --from) */
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
	json_decref(p->recv_type);
	json_decref(p->recv_tlp);
	json_decref(p->sent_type);
	json_decref(p->sent_tlp);
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

/* --- what was given to the scoped partner ------------------------------------------------- */

static sk_err exec(co_ctx *c, const char *sql)
{
	return sk_store_exec(c->st, sql, c->err);
}

/*
 * temp.coop_sent: each version handed out to a partner in the period (the
 * audit log's exits, listed versions only), with the first time.  Summarised
 * entries (more than SK_AUDIT_LIST_MAX versions) add to sent_unlisted.
 */
static sk_err load_sent(co_ctx *c)
{
	static const char q[] =
	    "SELECT subject, ts, versions, json_type(versions),"
	    " CASE WHEN json_type(versions)='object' THEN json_extract(versions,'$.count') END"
	    " FROM audit WHERE versions IS NOT NULL AND ts>=?1 AND ts<?2"
	    " AND action NOT IN ('taxii.manifest','taxii.versions') ORDER BY seq";
	static const char ins[] = "INSERT OR IGNORE INTO temp.coop_sent(pk, ver, ts)"
	                          " SELECT ?1, j.value, ?2 FROM json_each(?3) j"
	                          " WHERE j.type='integer'";
	sqlite3_stmt *s = NULL, *w = NULL;
	sk_err rc = SK_OK;

	if ((rc = exec(c, "CREATE TEMP TABLE IF NOT EXISTS coop_sent(pk INTEGER NOT NULL,"
	                  " ver INTEGER NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY(pk, ver))"
	                  " WITHOUT ROWID;"
	                  "CREATE TEMP TABLE IF NOT EXISTS coop_given(ver INTEGER PRIMARY KEY);"
	                  "DELETE FROM temp.coop_sent; DELETE FROM temp.coop_given;")))
		return rc;
	if (!(s = co_prep(c, q)) || !(w = co_prep(c, ins))) {
		rc = SK_EDB;
		goto out;
	}
	co_bind_period(c, s);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *subj = (const char *)sqlite3_column_text(s, 0);
		const char *kind = (const char *)sqlite3_column_text(s, 3);
		int i = co_find(c, subj);
		if (i < 0)
			continue; /* own accounts, anonymous readers */
		if (kind && !strcmp(kind, "object")) {
			c->p[i].sent_unlisted += sqlite3_column_int64(s, 4);
			continue;
		}
		sqlite3_bind_int(w, 1, i);
		sqlite3_bind_int64(w, 2, sqlite3_column_int64(s, 1));
		sqlite3_bind_value(w, 3, sqlite3_column_value(s, 2));
		if (sqlite3_step(w) != SQLITE_DONE) {
			rc = sk_store_dberr(c->st, c->err, "cooperation: exits");
			goto out;
		}
		sqlite3_reset(w);
	}
	if (c->scope >= 0) {
		sqlite3_finalize(w);
		w = co_prep(c,
		            "INSERT OR IGNORE INTO temp.coop_given(ver)"
		            " SELECT ver FROM temp.coop_sent WHERE pk=?1"
		            " UNION SELECT ver FROM objects WHERE rx=?2 OR rx=?3 OR created_by=?2");
		if (!w) {
			rc = SK_EDB;
			goto out;
		}
		char pk[600] = "";
		const co_partner *p = &c->p[c->scope];
		json_t *v;
		const char *k;
		json_object_foreach(c->keys, k, v)
		{
			if (json_integer_value(v) == c->scope && !strncmp(k, "peer:", 5))
				snprintf(pk, sizeof(pk), "%s", k);
		}
		sqlite3_bind_int(w, 1, c->scope);
		sqlite3_bind_text(w, 2, p->identity ? p->identity : p->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(w, 3, pk, -1, SQLITE_STATIC);
		if (sqlite3_step(w) != SQLITE_DONE)
			rc = sk_store_dberr(c->st, c->err, "cooperation: scope");
	}
out:
	sqlite3_finalize(s);
	sqlite3_finalize(w);
	return rc;
}

/* --- received and sent -------------------------------------------------------------------- */

static const char *tlp_label(int tlp)
{
	return tlp > 0 && tlp <= 5 ? sk_tlp_name((sk_tlp)tlp) : "unmarked";
}

static sk_err counts(co_ctx *c)
{
	static const char recv[] =
	    "SELECT o.rx, o.type, o.tlp, count(*), count(DISTINCT CASE WHEN o.type IN"
	    " ('sighting','opinion') THEN o.id END) FROM objects o WHERE o.rx IS NOT NULL"
	    " AND o.added>=?1 AND o.added<?2 AND " IN_VIS("o") " AND" CO_GIVEN(
	        "o") " GROUP BY o.rx, o.type, o.tlp";
	static const char sent[] =
	    "SELECT t.pk, o.type, o.tlp, count(*), count(DISTINCT CASE WHEN o.type IN"
	    " ('sighting','opinion') THEN o.id END) FROM temp.coop_sent t JOIN objects o"
	    " ON o.ver=t.ver WHERE ?1=?1 AND ?2=?2 AND " IN_VIS("o") " AND" CO_GIVEN(
	        "o") " GROUP BY t.pk, o.type, o.tlp";
	for (int pass = 0; pass < 2; pass++) {
		sqlite3_stmt *s = co_prep(c, pass ? sent : recv);
		if (!s)
			return SK_EDB;
		co_bind_period(c, s);
		while (sqlite3_step(s) == SQLITE_ROW) {
			int i = pass ? sqlite3_column_int(s, 0)
			             : co_get(c, (const char *)sqlite3_column_text(s, 0));
			const char *type = (const char *)sqlite3_column_text(s, 1);
			json_int_t n = sqlite3_column_int64(s, 3), d = sqlite3_column_int64(s, 4);
			co_partner *p;
			if (i < 0 || (size_t)i >= c->np)
				continue;
			p = &c->p[i];
			co_count(pass ? p->sent_type : p->recv_type, type, n);
			co_count(pass ? p->sent_tlp : p->recv_tlp,
			         tlp_label(sqlite3_column_int(s, 2)), n);
			*(pass ? &p->sent : &p->recv) += n;
			if (!strcmp(type, "sighting"))
				*(pass ? &p->sight_sent : &p->sight_recv) += d;
			else if (!strcmp(type, "opinion"))
				*(pass ? &p->op_sent : &p->op_recv) += d;
		}
		sqlite3_finalize(s);
	}
	return SK_OK;
}

/*
 * Time to share of every version received in the period: the producer's
 * timestamp of the version (modified, else created) -> arrival here
 * (objects.added), split where the source told its date_added.
 */
static sk_err time_to_share(co_ctx *c)
{
	static const char q[] =
	    "SELECT o.rx, o.added, coalesce(o.modified, o.created),"
	    " p.source_added, o.created_by FROM objects o"
	    " LEFT JOIN provenance p ON p.ver=o.ver WHERE o.rx IS NOT NULL"
	    " AND o.added>=?1 AND o.added<?2 AND " IN_VIS("o") " AND" CO_GIVEN("o");
	sqlite3_stmt *s = co_prep(c, q);
	const char *last_rx = NULL;
	int i = -1;
	char *rx = NULL;

	if (!s)
		return SK_EDB;
	co_bind_period(c, s);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(s, 0);
		const char *m = (const char *)sqlite3_column_text(s, 2);
		const char *by = (const char *)sqlite3_column_text(s, 4);
		int64_t added = sqlite3_column_int64(s, 1), made = 0;
		co_partner *p;
		bool src = sqlite3_column_type(s, 3) != SQLITE_NULL;
		int64_t sa = sqlite3_column_int64(s, 3);
		if (!last_rx || strcmp(r, last_rx)) {
			free(rx);
			rx = strdup(r);
			last_rx = rx;
			i = co_get(c, r);
		}
		if (i < 0)
			continue;
		p = &c->p[i];
		if (by && p->identity && !strcmp(by, p->identity))
			p->direct++;
		else
			p->relayed++;
		if (!m || !sk_ts_parse(m, strlen(m), NULL, &made))
			continue;
		if (!co_vec_add(&p->tts, (double)(added - made) / 1e6) ||
		    (src && (!co_vec_add(&p->hop, (double)(added - sa) / 1e6) ||
		             !co_vec_add(&p->up, (double)(sa - made) / 1e6)))) {
			free(rx);
			sqlite3_finalize(s);
			return sk_error_set(c->err, SK_ELIMIT, "cooperation: too many versions");
		}
	}
	free(rx);
	sqlite3_finalize(s);
	return SK_OK;
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

static json_t *partner_json(co_partner *p)
{
	json_t *o = json_pack(
	    "{s:s, s:s?, s:s?, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:O, s:O, s:O, "
	    "s:O,"
	    " s:o, s:o, s:o, s:I, s:I, s:I, s:o, s:o}",
	    "partner", p->name, "identity", p->identity, "country", p->country, "is_partner",
	    p->is_partner, "is_peer", p->is_peer, "objects_received", (json_int_t)p->recv,
	    "objects_sent", (json_int_t)p->sent, "objects_sent_unlisted",
	    (json_int_t)p->sent_unlisted, "sightings_received", (json_int_t)p->sight_recv,
	    "sightings_sent", (json_int_t)p->sight_sent, "opinions_received",
	    (json_int_t)p->op_recv, "opinions_sent", (json_int_t)p->op_sent, "detections_enabled",
	    (json_int_t)p->det, "received_by_type", p->recv_type, "received_by_tlp", p->recv_tlp,
	    "sent_by_type", p->sent_type, "sent_by_tlp", p->sent_tlp, "time_to_share_s",
	    co_vec_json(&p->tts), "last_hop_s", co_vec_json(&p->hop), "producer_to_source_s",
	    co_vec_json(&p->up), "received_from_producer", (json_int_t)p->direct,
	    "received_relayed", (json_int_t)p->relayed, "paths_measured_whole",
	    (json_int_t)p->direct, "lead_time_s", co_vec_json(&p->lead), "feedback_lead_s",
	    co_vec_json(&p->fb));
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
    "Peer availability over time: the node keeps the current sync state of each peer "
    "(last success, consecutive failures, last error), not a history.",
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
		json_array_append_new(parts, partner_json(&c->p[i]));
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
	    " s:O, s:I, s:O?, s:o}",
	    "schema", SK_COOP_SCHEMA, "node", "identity", c->own, "period", "since",
	    ts_json(c->since), "until", ts_json(c->until), "generated", ts_json(sk_ts_now_us()),
	    "scope", "partner", c->scope >= 0 ? c->p[c->scope].name : NULL, "partners", parts,
	    "sectors", sec, "anonymous_sightings", anon, "own", "sightings_here",
	    (json_int_t)c->sight_here, "sightings_received", (json_int_t)c->sight_recv_total,
	    "detections_enabled", (json_int_t)c->own_det, "lead_time_s", co_vec_json(&c->own_lead),
	    "reach", c->reach, "reach_not_listed", (json_int_t)c->reach_more, "capacity",
	    c->capacity, "cannot_know", unk);
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
	if (!c.keys || !c.sectors || !c.anon || !c.ind_fb_sector || !c.reach) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (sk_store_node_id(st, &c.own, NULL))
		c.own = NULL;
	if ((rc = load_partners(&c)))
		goto out;
	if (o->partner && (rc = resolve_scope(&c, o->partner)))
		goto out;
	if ((rc = load_sent(&c)) || (rc = counts(&c)) || (rc = time_to_share(&c)) ||
	    (rc = co_sightings(&c)) || (rc = co_reach(&c)) || (rc = co_sync(&c)) ||
	    (c.scope < 0 && (rc = co_capacity(&c))))
		goto out;
	rc = assemble(&c, out);
out:
	sk_store_exec(st, "DELETE FROM temp.coop_sent; DELETE FROM temp.coop_given;", NULL);
	for (size_t i = 0; i < c.np; i++)
		free_partner(&c.p[i]);
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
	return rc;
}
