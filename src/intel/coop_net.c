/*
 * coop_net.c - the network report at a hub (coop.h, docs/cooperation.md,
 * "The network report"): the cooperation summaries addressed to this node
 * (x-schakel-coop-summary, coop_fed.c) combined with its own records.
 * Only summaries whose signature verified count (the verdict stored when
 * they arrived, objects.sig); the others are listed as unverified.  Keyed
 * sightings (by sighting id) are counted once across the summaries and
 * this node's own sightings; unkeyed counts are added as they are and said
 * to be so.  CSV and HTML of the report are in coop_netout.c.
 */
#include "coop_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/sign.h"
#include "schakel/timestamp.h"

#define NET_MAX_SUMMARIES 100000
#define ANON_MIN          3
#define NET_COUNT_MAX     ((json_int_t)1 << 40) /* a count a summary may claim: above is nonsense */
#define NET_TEXT_MAX      200                   /* a text a summary's figures may hold */
#define NET_LIST_MAX      64                    /* the entries of a list of names */

typedef struct net {
	sk_store *st;
	sk_error *err;
	int64_t since, until;
	const char *own;
	json_t *names;   /* identity -> partner or peer name (own report) */
	json_t *latest;  /* "creator\tstart\tend" -> {"ver", "created", "obj", "sig"} */
	json_t *events;  /* sighting id -> {"indicator", "by", "counted_by": {node: true}} */
	json_t *byhere;  /* sighting ids among this node's own records */
	json_t *sectors; /* identity -> the sectors its verified summary states */
	sqlite3_stmt *qprod, *qwho, *qsec;
} net;

static const char *name_of(net *n, const char *identity)
{
	const char *s;
	if (!identity)
		return "(unknown)";
	if (n->own && !strcmp(identity, n->own))
		return "(this node)";
	s = json_string_value(json_object_get(n->names, identity));
	return s ? s : identity;
}

static const char *str_or(const json_t *v)
{
	const char *s = json_string_value(v);
	return s ? s : "";
}

static int64_t ts_of(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	int64_t us = 0;
	if (!s || !sk_ts_parse(s, strlen(s), NULL, &us))
		return -1;
	return us;
}

/*
 * A count from a partner's summary: a non-negative integer up to
 * NET_COUNT_MAX, else 0.  A summary is signed by its node, which says it
 * made it, not that its figures make sense: a hostile or broken partner
 * must not make the network's totals negative or absurd.
 */
static json_int_t count_of(const json_t *v)
{
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
	return n >= 0 && n <= NET_COUNT_MAX ? n : 0;
}

/* A short text from a summary, else NULL. */
static json_t *text_of(json_t *v)
{
	return json_is_string(v) && json_string_length(v) <= NET_TEXT_MAX ? v : NULL;
}

#define NET_FIGURES_MAX 4096 /* values taken from one group of a summary */

static json_t *figures_of(const json_t *v, int depth, int *budget);

/*
 * One value of a summary's figures as the report may show it: an integer
 * from 0 to NET_COUNT_MAX, a finite number not negative, a boolean, null, a text
 * of at most NET_TEXT_MAX bytes, or (depth > 0) a list of at most
 * NET_LIST_MAX such values or a group of them; else NULL (left out).
 */
static json_t *figure_of(const json_t *x, int depth, int *budget)
{
	if (--*budget < 0)
		return NULL;
	if (json_is_integer(x))
		return json_integer_value(x) >= 0 && json_integer_value(x) <= NET_COUNT_MAX
		           ? json_incref((json_t *)x)
		           : NULL;
	if (json_is_real(x))
		return json_real_value(x) >= 0 && json_real_value(x) <= (double)NET_COUNT_MAX
		           ? json_incref((json_t *)x)
		           : NULL;
	if (json_is_boolean(x) || json_is_null(x) ||
	    (json_is_string(x) && json_string_length(x) <= NET_TEXT_MAX))
		return json_incref((json_t *)x);
	if (json_is_array(x) && depth > 0 && json_array_size(x) <= NET_LIST_MAX) {
		json_t *c = json_array(), *e;
		size_t i;
		json_array_foreach(x, i, e)
		{
			json_t *f = figure_of(e, depth - 1, budget);
			if (f)
				json_array_append_new(c, f);
		}
		return c;
	}
	return depth > 0 ? figures_of(x, depth - 1, budget) : NULL;
}

/*
 * A copy of a group of figures from a summary (capacity, link, a
 * distribution) holding only what figure_of keeps, depth levels down, at
 * most NET_FIGURES_MAX values in all; NULL when v is not a group.
 */
static json_t *figures_of(const json_t *v, int depth, int *budget)
{
	json_t *out, *x;
	const char *k;

	if (!json_is_object(v))
		return NULL;
	out = json_object();
	json_object_foreach((json_t *)v, k, x)
	{
		json_t *c = strlen(k) <= NET_TEXT_MAX ? figure_of(x, depth, budget) : NULL;
		if (c)
			json_object_set_new(out, k, c);
	}
	return out;
}

/* figures_of with a fresh budget. */
static json_t *group_of(const json_t *v, int depth)
{
	int budget = NET_FIGURES_MAX;
	return figures_of(v, depth, &budget);
}

/* The summaries addressed to this node, the latest per node and period. */
static sk_err load(net *n, json_t *unverified)
{
	static const char q[] =
	    "SELECT o.ver, o.json, o.sig, o.created_by, o.created FROM objects o"
	    " WHERE o.type='" SK_COOP_SUMMARY_TYPE "' AND " IN_VIS("o") " ORDER BY o.ver";
	sqlite3_stmt *s = NULL;
	size_t count = 0;

	if (sqlite3_prepare_v2(sk_store_sqlite(n->st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(n->st, n->err, "network report");
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *o = json_loads((const char *)sqlite3_column_text(s, 1), 0, NULL), *prev;
		const char *by = (const char *)sqlite3_column_text(s, 3);
		const char *created = (const char *)sqlite3_column_text(s, 4);
		int sig = sqlite3_column_int(s, 2);
		int64_t ps = ts_of(o, "period_start"), pe = ts_of(o, "period_end");
		char key[400];
		const char *to = json_string_value(json_object_get(o, "recipient_ref"));
		if (!o || !by || ps < 0 || pe < 0 || !to || strcmp(to, n->own)) {
			json_decref(o);
			continue; /* malformed, or addressed to another node (forwarded by mistake)
			           */
		}
		if (ps < n->since || pe > n->until) {
			json_decref(o);
			continue; /* another period */
		}
		if (++count > NET_MAX_SUMMARIES) {
			json_decref(o);
			sqlite3_finalize(s);
			return sk_error_set(n->err, SK_ELIMIT,
			                    "network report: more than %d summaries",
			                    NET_MAX_SUMMARIES);
		}
		if (sig != SK_SIG_VERIFIED) {
			json_array_append_new(
			    unverified,
			    json_pack("{s:s, s:s, s:O, s:O, s:O, s:s}", "node", name_of(n, by),
			              "identity", by, "summary_ref", json_object_get(o, "id"),
			              "period_start", json_object_get(o, "period_start"),
			              "period_end", json_object_get(o, "period_end"), "verdict",
			              sk_sig_verdict_name((sk_sig_verdict)sig)));
			json_decref(o);
			continue;
		}
		snprintf(key, sizeof(key), "%s\t%lld\t%lld", by, (long long)ps, (long long)pe);
		prev = json_object_get(n->latest, key);
		if (!prev || strcmp(json_string_value(json_object_get(prev, "created")),
		                    created ? created : "") <= 0)
			json_object_set_new(n->latest, key,
			                    json_pack("{s:s, s:s, s:o, s:I, s:I}", "by", by,
			                              "created", created ? created : "", "obj", o,
			                              "ps", (json_int_t)ps, "pe", (json_int_t)pe));
		else
			json_decref(o);
	}
	sqlite3_finalize(s);
	return SK_OK;
}

static int newest_first(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "created"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "created"));
	return strcmp(y ? y : "", x ? x : "");
}

/*
 * A node that publishes again over a period overlapping an earlier one
 * (a cumulative summary, say) replaces it: per node, the newest summaries
 * whose periods do not overlap are kept, the others listed in superseded.
 * So no node's unkeyed counts are added twice.
 */
static sk_err supersede(net *n, json_t *superseded)
{
	size_t cnt = json_object_size(n->latest), m = 0;
	json_t **v = calloc(cnt ? cnt : 1, sizeof(*v)), *kept = json_object(),
	       *spans = json_object(), *x;
	const char *k;
	if (!v || !kept || !spans) {
		free(v);
		json_decref(kept);
		json_decref(spans);
		return sk_error_set(n->err, SK_ENOMEM, "out of memory");
	}
	json_object_foreach(n->latest, k, x)
	{
		v[m++] = x;
	}
	qsort(v, m, sizeof(*v), newest_first);
	for (size_t i = 0; i < m; i++) {
		const char *by = json_string_value(json_object_get(v[i], "by"));
		json_int_t ps = json_integer_value(json_object_get(v[i], "ps"));
		json_int_t pe = json_integer_value(json_object_get(v[i], "pe"));
		json_t *mine = json_object_get(spans, by), *sp, *obj = json_object_get(v[i], "obj");
		bool overlaps = false;
		size_t j;
		char key[80];
		json_array_foreach(mine, j, sp)
		{
			if (ps < json_integer_value(json_array_get(sp, 1)) &&
			    json_integer_value(json_array_get(sp, 0)) < pe)
				overlaps = true;
		}
		if (overlaps) {
			json_array_append_new(
			    superseded,
			    json_pack("{s:s, s:s, s:O, s:O, s:O}", "node", name_of(n, by),
			              "identity", by, "summary_ref", json_object_get(obj, "id"),
			              "period_start", json_object_get(obj, "period_start"),
			              "period_end", json_object_get(obj, "period_end")));
			continue;
		}
		if (!mine) {
			mine = json_array();
			json_object_set_new(spans, by, mine);
		}
		json_array_append_new(mine, json_pack("[I, I]", ps, pe));
		snprintf(key, sizeof(key), "%zu", i);
		json_object_set(kept, key, v[i]);
	}
	free(v);
	json_decref(spans);
	json_decref(n->latest);
	n->latest = kept;
	return SK_OK;
}

/* The producer of indicator id here (its first version's created_by), or NULL. */
static const char *producer(net *n, const char *id, char *buf, size_t len)
{
	const char *r = NULL;
	sqlite3_bind_text(n->qprod, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(n->qprod) == SQLITE_ROW && sqlite3_column_text(n->qprod, 0)) {
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(n->qprod, 0));
		r = buf;
	}
	sqlite3_reset(n->qprod);
	return r;
}

/* Is identity id one whose name is "anonymous" (a sighting's anonymous author)? */
static bool anonymous(net *n, const char *id)
{
	bool r = false;
	if (!id)
		return true;
	sqlite3_bind_text(n->qwho, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(n->qwho) == SQLITE_ROW)
		r = sqlite3_column_int(n->qwho, 0);
	sqlite3_reset(n->qwho);
	return r;
}

static void event(net *n, const char *sid, const char *ind, const char *by, const char *node)
{
	json_t *e = json_object_get(n->events, sid);
	if (!e) {
		e = json_pack("{s:s?, s:s?, s:{}}", "indicator", ind, "by", by, "counted_by");
		json_object_set_new(n->events, sid, e);
	}
	json_object_set_new(json_object_get(e, "counted_by"), node, json_true());
}

/* This node's own sightings of the period (first version stored in it). */
static sk_err own_events(net *n)
{
	static const char q[] =
	    "SELECT o.id, json_extract(o.json,'$.sighting_of_ref'), o.created_by FROM objects o"
	    " WHERE o.type='sighting' AND o.added>=?1 AND o.added<?2 AND " IN_VIS(
	        "o") " AND NOT"
	             " EXISTS (SELECT 1 FROM objects y WHERE y.id=o.id AND y.ver<o.ver)";
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(sk_store_sqlite(n->st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(n->st, n->err, "network report");
	sqlite3_bind_int64(s, 1, n->since);
	sqlite3_bind_int64(s, 2, n->until);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		event(n, id, (const char *)sqlite3_column_text(s, 1),
		      (const char *)sqlite3_column_text(s, 2), "(this node)");
		json_object_set_new(n->byhere, id, json_true());
	}
	sqlite3_finalize(s);
	return SK_OK;
}

static double median_of(const json_t *d)
{
	const json_t *m = json_object_get(d, "median");
	return json_is_number(m) ? json_number_value(m) : -1;
}

static int by_hop(const void *a, const void *b)
{
	double x = median_of(json_object_get(*(json_t *const *)a, "time_to_share_s"));
	double y = median_of(json_object_get(*(json_t *const *)b, "time_to_share_s"));
	return (y > x) - (y < x); /* slowest first */
}

/* One sighting resting on producer pn's knowledge, made in sector nm. */
static void protected_sector(json_t *sectors, const char *pn, const char *nm)
{
	char key[900];
	snprintf(key, sizeof(key), "%s\t%s", pn, nm);
	if (!json_object_get(sectors, key))
		json_object_set_new(sectors, key,
		                    json_pack("{s:s, s:s, s:I}", "producer", pn, "sector", nm,
		                              "sightings", (json_int_t)0));
	co_count(json_object_get(sectors, key), "sightings", 1);
}

/*
 * What the report needs of a sighting's author, looked up once per author:
 * whether it is anonymous, and its sectors (as its summary states them,
 * else as its identity here does; none for an anonymous one).
 */
static json_t *author(net *n, json_t *cache, const char *by)
{
	json_t *a = json_object_get(cache, by), *secs;
	bool anon;
	if (a)
		return a;
	anon = anonymous(n, by);
	secs = json_array();
	if (!anon && json_object_get(n->sectors, by)) {
		json_array_extend(secs, json_object_get(n->sectors, by));
	} else if (!anon) {
		sqlite3_bind_text(n->qsec, 1, by, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(n->qsec) == SQLITE_ROW)
			if (sqlite3_column_text(n->qsec, 0))
				json_array_append_new(
				    secs,
				    json_string((const char *)sqlite3_column_text(n->qsec, 0)));
		sqlite3_reset(n->qsec);
	}
	a = json_pack("{s:b, s:o}", "anon", anon, "sectors", secs);
	json_object_set_new(cache, by, a);
	return a;
}

/* Who protects whom: per (producer, detecting node) and per (producer, sector). */
static void protection(net *n, json_t *pairs, json_t *sectors)
{
	json_t *authors = json_object(), *prods = json_object(), *e;
	const char *sid;
	char buf[400];
	json_object_foreach(n->events, sid, e)
	{
		const char *ind = json_string_value(json_object_get(e, "indicator"));
		const char *by = json_string_value(json_object_get(e, "by"));
		json_t *a = by ? author(n, authors, by) : NULL, *pv, *sn;
		const char *pn, *dn;
		char key[900];
		size_t j;
		if (ind &&
		    !(pv = json_object_get(prods, ind))) { /* an indicator's producer, once */
			const char *prod = producer(n, ind, buf, sizeof(buf));
			pv = json_string(prod ? name_of(n, prod) : "(indicator not held here)");
			json_object_set_new(prods, ind, pv);
		}
		pn = ind ? json_string_value(pv) : "(indicator not held here)";
		dn =
		    !a || json_is_true(json_object_get(a, "anon")) ? "(anonymous)" : name_of(n, by);
		snprintf(key, sizeof(key), "%s\t%s", pn, dn);
		if (!json_object_get(pairs, key))
			json_object_set_new(pairs, key,
			                    json_pack("{s:s, s:s, s:I}", "producer", pn,
			                              "detected_by", dn, "sightings",
			                              (json_int_t)0));
		co_count(json_object_get(pairs, key), "sightings", 1);
		json_array_foreach(json_object_get(a, "sectors"), j, sn)
		{
			if (json_string_value(sn))
				protected_sector(sectors, pn, json_string_value(sn));
		}
	}
	json_decref(authors);
	json_decref(prods);
}

static json_t *values(json_t *obj)
{
	json_t *a = json_array(), *v;
	const char *k;
	json_object_foreach(obj, k, v)
	{
		json_array_append(a, v);
	}
	return a;
}

/* The summaries' anonymous groups added up by sector and country; small ones merged. */
static json_t *anon_sum(json_t *groups)
{
	json_t *keep = json_array(), *other = NULL, *g;
	const char *k;
	json_object_foreach(groups, k, g)
	{
		bool small = json_integer_value(json_object_get(g, "reporting_nodes")) < ANON_MIN &&
		             strcmp(str_or(json_object_get(g, "sector")), "other");
		json_int_t c = json_integer_value(json_object_get(g, "sightings"));
		if (!strcmp(str_or(json_object_get(g, "sector")), "other") || small) {
			if (!other)
				other = json_pack("{s:s, s:s, s:I}", "sector", "other", "country",
				                  "other", "sightings", (json_int_t)0);
			co_count(other, "sightings", c);
			continue;
		}
		json_array_append_new(
		    keep, json_pack("{s:O?, s:O?, s:I}", "sector", json_object_get(g, "sector"),
		                    "country", json_object_get(g, "country"), "sightings", c));
	}
	if (other)
		json_array_append_new(keep, other);
	return keep;
}

static const char *const net_unknowable[] = {
    "Summaries count only what each node chose to publish (consent) and what the hub may "
    "know; a node without consent is listed as missing, not as idle.",
    "Unkeyed sightings (of indicators the hub neither produced nor sent) cannot be "
    "de-duplicated: a relay and the detecting node may both count the same one.",
    "A summary's signature is checked against the key pinned for its node; unverified "
    "summaries are listed and left out of every figure.",
    "Time to share at a node is measured with that node's clock against the hub's "
    "timestamps.",
    NULL};

sk_err sk_coop_network(sk_store *st, const sk_coop_opts *o, json_t **out, sk_error *err)
{
	net n = {.st = st, .err = err};
	sk_coop_opts own_o = {.since = o->since, .until = o->until};
	json_t *own = NULL, *unverified = json_array(), *nodes = json_array(),
	       *missing = json_array(), *silent = json_array(), *summaries = json_array(),
	       *pairs = json_object(), *secs = json_object(), *anon = json_object(), *hops,
	       *unk = json_array(), *seen = json_object(), *superseded = json_array(), *x;
	json_int_t keyed_reported = 0, unkeyed = 0;
	char *me = NULL;
	const char *k;
	size_t i;
	sk_err rc;

	*out = NULL;
	n.since = o->since > 0 ? o->since : 0;
	n.until = o->until > 0 ? o->until : sk_ts_now_us() + 1;
	n.names = json_object();
	n.latest = json_object();
	n.events = json_object();
	n.byhere = json_object();
	n.sectors = json_object();
	if ((rc = sk_coop_report(st, &own_o, &own, err)))
		goto out;
	if (sk_store_node_id(st, &me, NULL) || !me) {
		rc = sk_error_set(err, SK_ENOTINIT, "the node has no identity (schakel init)");
		goto out;
	}
	n.own = me;
	json_array_foreach(json_object_get(own, "partners"), i, x)
	{
		const char *id = json_string_value(json_object_get(x, "identity"));
		if (id)
			json_object_set(n.names, id, json_object_get(x, "partner"));
	}
	if (sqlite3_prepare_v2(sk_store_sqlite(st),
	                       "SELECT created_by FROM objects WHERE id=?1 ORDER BY ver LIMIT 1",
	                       -1, &n.qprod, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(sk_store_sqlite(st),
	                       "SELECT json_extract(json,'$.name')='anonymous' FROM objects"
	                       " WHERE id=?1 ORDER BY ver DESC LIMIT 1",
	                       -1, &n.qwho, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
	        sk_store_sqlite(st),
	        "SELECT value FROM objects o, json_each(o.json, '$.sectors')"
	        " WHERE o.id=?1 AND " IN_VIS("o") " AND o.ver="
	                                          "(SELECT max(ver) FROM objects WHERE id=?1)",
	        -1, &n.qsec, NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "network report");
		goto out;
	}
	if ((rc = load(&n, unverified)) || (rc = supersede(&n, superseded)) ||
	    (rc = own_events(&n)))
		goto out;
	/* each node's latest summaries: figures per node, keyed events, anonymous groups */
	json_object_foreach(n.latest, k, x)
	{
		json_t *s = json_object_get(x, "obj"), *e, *g;
		const char *by = json_string_value(json_object_get(x, "by"));
		const char *node = name_of(&n, by);
		json_t *row = json_object_get(seen, by);
		json_t *ro = json_object_get(s, "recipients_objects");
		size_t j;
		json_array_append_new(
		    summaries,
		    json_pack("{s:s, s:s, s:O, s:O, s:O, s:s}", "node", node, "identity", by,
		              "summary_ref", json_object_get(s, "id"), "period_start",
		              json_object_get(s, "period_start"), "period_end",
		              json_object_get(s, "period_end"), "verdict", "verified"));
		if (json_is_array(json_object_get(s, "node_sectors")))
			json_object_set(n.sectors, by, json_object_get(s, "node_sectors"));
		json_array_foreach(json_object_get(s, "keyed_sightings"), j, e)
		{
			const char *sid = json_string_value(json_object_get(e, "sighting_ref"));
			if (!sid)
				continue;
			keyed_reported++;
			event(&n, sid, json_string_value(json_object_get(e, "indicator_ref")),
			      json_string_value(json_object_get(e, "by")), node);
		}
		unkeyed +=
		    count_of(json_object_get(json_object_get(s, "unkeyed_sightings"), "here")) +
		    count_of(json_object_get(json_object_get(s, "unkeyed_sightings"), "received"));
		json_array_foreach(json_object_get(s, "anonymous_sightings"), j, g)
		{
			char key[300];
			json_t *a;
			snprintf(key, sizeof(key), "%s\t%s", str_or(json_object_get(g, "sector")),
			         str_or(json_object_get(g, "country")));
			if (!(a = json_object_get(anon, key))) {
				a = json_pack("{s:O?, s:O?, s:I, s:I}", "sector",
				              text_of(json_object_get(g, "sector")), "country",
				              text_of(json_object_get(g, "country")), "sightings",
				              (json_int_t)0, "reporting_nodes", (json_int_t)0);
				json_object_set_new(anon, key, a);
			}
			co_count(a, "sightings", count_of(json_object_get(g, "sightings")));
			co_count(a, "reporting_nodes", 1);
		}
		if (!row) { /* the node's row: its figures (the newest summary's distributions) */
			row = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:o?, s:o?, s:I}",
			                "node", node, "identity", by, "summaries", (json_int_t)0,
			                "objects_received_from_hub", (json_int_t)0,
			                "received_relayed", (json_int_t)0, "time_to_share_s",
			                json_object(), "last_hop_s", json_object(), "link",
			                group_of(json_object_get(s, "link"), 2), "capacity",
			                group_of(json_object_get(s, "capacity"), 3),
			                "keyed_sightings", (json_int_t)0);
			json_object_set_new(seen, by, row);
		}
		co_count(row, "summaries", 1);
		co_count(row, "objects_received_from_hub",
		         count_of(json_object_get(ro, "versions")));
		co_count(row, "received_relayed", count_of(json_object_get(ro, "relayed")));
		co_count(row, "keyed_sightings",
		         (json_int_t)json_array_size(json_object_get(s, "keyed_sightings")));
		if (json_is_object(json_object_get(ro, "time_to_share_s")))
			json_object_set_new(row, "time_to_share_s",
			                    group_of(json_object_get(ro, "time_to_share_s"), 0));
		if (json_is_object(json_object_get(ro, "last_hop_s")))
			json_object_set_new(row, "last_hop_s",
			                    group_of(json_object_get(ro, "last_hop_s"), 0));
	}
	json_object_foreach(seen, k, x)
	{
		json_array_append(nodes, x);
	}
	/* missing: partners and peers with an identity and no verified summary */
	json_array_foreach(json_object_get(own, "partners"), i, x)
	{
		const char *id = json_string_value(json_object_get(x, "identity"));
		bool reports = json_integer_value(json_object_get(x, "sightings_received")) > 0;
		if (id && !json_object_get(seen, id))
			json_array_append_new(missing, json_pack("{s:O, s:s}", "node",
			                                         json_object_get(x, "partner"),
			                                         "identity", id));
		if (id && !reports && json_integer_value(json_object_get(x, "objects_sent")) > 0)
			json_array_append_new(
			    silent, json_pack("{s:O, s:O}", "node", json_object_get(x, "partner"),
			                      "objects_sent", json_object_get(x, "objects_sent")));
	}
	hops = json_deep_copy(nodes);
	{
		size_t nh = json_array_size(hops);
		json_t **v = calloc(nh ? nh : 1, sizeof(*v));
		json_t *sorted = json_array();
		for (i = 0; v && i < nh; i++)
			v[i] = json_array_get(hops, i);
		if (v)
			qsort(v, nh, sizeof(*v), by_hop);
		for (i = 0; v && i < nh; i++)
			json_array_append_new(
			    sorted,
			    json_pack("{s:O, s:O, s:O, s:O}", "node", json_object_get(v[i], "node"),
			              "time_to_share_s", json_object_get(v[i], "time_to_share_s"),
			              "last_hop_s", json_object_get(v[i], "last_hop_s"),
			              "received_relayed",
			              json_object_get(v[i], "received_relayed")));
		free(v);
		json_decref(hops);
		hops = sorted;
	}
	protection(&n, pairs, secs);
	for (i = 0; net_unknowable[i]; i++)
		json_array_append_new(unk, json_string(net_unknowable[i]));
	{
		json_int_t distinct = (json_int_t)json_object_size(n.events), known = 0,
		           here_n = (json_int_t)json_object_size(n.byhere);
		json_t *e;
		json_object_foreach(n.events, k, e)
		{
			if (json_object_get(n.byhere, k) &&
			    json_object_size(json_object_get(e, "counted_by")) > 1)
				known++;
		}
		*out = json_pack(
		    "{s:s, s:{s:s}, s:{s:O, s:O}, s:O, s:o, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I,"
		    " s:I, s:I, s:I}, s:o, s:o, s:o, s:{s:o, s:o}, s:o, s:O, s:o}",
		    "schema", SK_COOP_NET_SCHEMA, "node", "identity", me, "period", "since",
		    json_object_get(json_object_get(own, "period"), "since"), "until",
		    json_object_get(json_object_get(own, "period"), "until"), "generated",
		    json_object_get(own, "generated"), "summaries", summaries, "unverified",
		    unverified, "superseded", superseded, "missing", missing, "sightings", "here",
		    here_n, "keyed_reported", keyed_reported, "keyed_already_here", known,
		    "distinct", distinct, "duplicates_removed", keyed_reported + here_n - distinct,
		    "unkeyed_not_deduplicated", unkeyed, "network_total", distinct + unkeyed,
		    "protection", values(pairs), "protection_by_sector", values(secs),
		    "anonymous_sightings", anon_sum(anon), "chain", "slowest_hops", hops,
		    "never_report_back", silent, "nodes", nodes, "own", json_object_get(own, "own"),
		    "cannot_know", unk);
	}
	summaries = unverified = superseded = missing = silent = nodes = unk = NULL;
	if (!*out)
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
out:
	sqlite3_finalize(n.qprod);
	sqlite3_finalize(n.qwho);
	sqlite3_finalize(n.qsec);
	json_decref(own);
	json_decref(n.names);
	json_decref(n.latest);
	json_decref(n.events);
	json_decref(n.byhere);
	json_decref(n.sectors);
	json_decref(pairs);
	json_decref(secs);
	json_decref(anon);
	json_decref(seen);
	json_decref(summaries);
	json_decref(unverified);
	json_decref(superseded);
	json_decref(missing);
	json_decref(silent);
	json_decref(nodes);
	json_decref(unk);
	free(me);
	return rc;
}
