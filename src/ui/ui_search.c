/*
 * ui_search.c - the console's search (FTS5 over the search index, schema
 * 12, store_search.c), its facets, and the export of a result as a STIX
 * bundle (docs/console.md, Knowledge).  Every row passes the request's view
 * in SQL (sk_visible); an export for a partner also passes that partner's
 * view (sk_partner_principal), and is recorded in the audit log before it
 * leaves, like `schakel export --for`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/audit.h"
#include "schakel/uuid.h"
#include "store/store_priv.h"
#include "ui/ui_data_int.h"

#define UI_COUNT_CAP   1000   /* totals are exact up to here ("more": true beyond) */
#define UI_EXPORT_MAX  100000 /* most objects in one export */
#define UI_FACETS_ROWS 50000  /* newest objects the facets count */

/* FTS-only queries rank by bm25 (names weigh most); the others are newest first. */
static bool ranked(const ui_filter *f)
{
	char probe[64];
	ui_filter_sql(f, probe, sizeof(probe));
	return f->match && !strncmp(probe, " FROM search", 12);
}

static bool count_rows(ui_ctx *c, const ui_filter *f, const char *where, long long *total,
                       bool *more)
{
	char sql[4096];
	sqlite3_stmt *s;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM (SELECT 1%s LIMIT %d)", where,
	         UI_COUNT_CAP + 1);
	if (!(s = ui_stmt(c, sql)))
		return false;
	ui_filter_bind(f, s);
	*total = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	ui_stmt_done(c, s);
	*more = *total > UI_COUNT_CAP;
	if (*more)
		*total = UI_COUNT_CAP;
	return true;
}

void ui_h_search(ui_ctx *c, char **seg, size_t nseg)
{
	char where[2048], sql[4096];
	ui_filter f;
	sqlite3_stmt *s;
	json_t *results = json_array();
	long long total = 0;
	bool more = false, rank;
	int64_t vers_shown[UI_MAX_LIMIT];
	size_t nv = 0;
	int p;

	(void)seg;
	(void)nseg;
	if (!ui_filter_parse(c, &f, 50, UI_MAX_LIMIT))
		goto out;
	ui_filter_sql(&f, where, sizeof(where));
	rank = ranked(&f);
	if (!count_rows(c, &f, where, &total, &more))
		goto out;
	snprintf(sql, sizeof(sql), "SELECT " UI_SUM_COLS ", %s%s ORDER BY %s LIMIT ?%d OFFSET ?%d",
	         rank ? "snippet(search, -1, '', '', '\xe2\x80\xa6', 12)" : "NULL", where,
	         rank ? "bm25(search, 10.0, 1.0, 5.0, 5.0), o.ver DESC" : "o.ver DESC", 90, 91);
	if (!(s = ui_stmt(c, sql)))
		goto out;
	p = ui_filter_bind(&f, s);
	(void)p;
	sqlite3_bind_int64(s, 90, f.limit);
	sqlite3_bind_int64(s, 91, f.offset);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *sum = ui_summary(c, s, 0);
		const char *snip = ui_col(s, UI_SUM_N);
		if (nv < UI_MAX_LIMIT)
			vers_shown[nv++] = sqlite3_column_int64(s, 0);
		if (sum && snip && *snip)
			json_object_set_new(sum, "snippet", json_string(snip));
		json_array_append_new(results, sum);
	}
	ui_stmt_done(c, s);
	if (!ui_audit_exit(c, "console.search", vers_shown, nv))
		goto out;
	ui_send_json(c, 200,
	             json_pack("{s:I, s:b, s:O, s:I, s:I}", "total", (json_int_t)total, "more",
	                       more, "results", results, "limit", (json_int_t)f.limit, "offset",
	                       (json_int_t)f.offset));
out:
	json_decref(results);
	ui_filter_clear(&f);
}

/* --- facets ------------------------------------------------------------------------- */

typedef struct tally {
	char *key;
	long long n;
} tally;

typedef struct tallies {
	tally *t;
	size_t n, cap;
} tallies;

static void tally_add(tallies *ts, const char *key)
{
	if (!key)
		key = "";
	for (size_t i = 0; i < ts->n; i++)
		if (!strcmp(ts->t[i].key, key)) {
			ts->t[i].n++;
			return;
		}
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 16;
		tally *t;
		if (cap > 100000 || !(t = realloc(ts->t, cap * sizeof(*t))))
			return;
		ts->t = t;
		ts->cap = cap;
	}
	if ((ts->t[ts->n].key = strdup(key)))
		ts->t[ts->n++].n = 1;
}

static void tallies_free(tallies *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		free(ts->t[i].key);
	free(ts->t);
}

static int by_count(const void *a, const void *b)
{
	const tally *x = a, *y = b;
	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->key, y->key);
}

/*
 * Facets walk the newest versions through the search index (one row per
 * object, keyed by its newest version), newest first, at most
 * UI_FACETS_ROWS of them: on a large store the counts are those of the
 * most recent objects ("partial": true), so that the page answers at once.
 */
void ui_h_facets(ui_ctx *c, char **seg, size_t nseg)
{
	static const char *const levels[] = {"none",  "clear",        "green",
	                                     "amber", "amber+strict", "red"};
	static const char scan[] =
	    "SELECT o.ver, o.type, o.created_by, o.tlp, " UI_VISIBLE " FROM (SELECT rowid AS v FROM"
	    " search ORDER BY rowid DESC LIMIT ?1) h CROSS JOIN objects o ON o.ver=h.v";
	/* a partner: the newest rows of the collections it reads */
	static const char pscan[] =
	    "SELECT o.ver, o.type, o.created_by, o.tlp, " UI_VISIBLE " FROM (SELECT DISTINCT co.ver"
	    " AS v FROM collection_objects co WHERE co.coll IN (SELECT value FROM json_each(?2))"
	    " AND EXISTS(SELECT 1 FROM search WHERE rowid=co.ver) ORDER BY 1 DESC LIMIT ?1) h"
	    " CROSS JOIN objects o ON o.ver=h.v";
	char *readable = ui_readable_collections(c);
	static const char colls[] =
	    "SELECT count(*) FROM collection_objects co CROSS JOIN objects o"
	    " ON o.ver=co.ver WHERE co.coll=?1 AND co.ver>=?2 AND " UI_VISIBLE
	    " AND EXISTS(SELECT 1 FROM search WHERE rowid=co.ver)";
	tallies types = {0}, prods = {0};
	long long tlp[6] = {0}, rows = 0;
	int64_t low = 0;
	json_t *jt = json_array(), *jp = json_array(), *jc = json_array(), *jl = json_array();
	sqlite3_stmt *s, *k;

	(void)seg;
	(void)nseg;
	if (!(s = ui_stmt(c, readable ? pscan : scan)))
		goto out;
	sqlite3_bind_int(s, 1, UI_FACETS_ROWS);
	if (readable)
		sqlite3_bind_text(s, 2, readable, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		int l = sqlite3_column_int(s, 3);
		rows++;
		low = sqlite3_column_int64(s, 0);
		if (!sqlite3_column_int(s, 4))
			continue;
		tally_add(&types, ui_col(s, 1));
		tally_add(&prods, ui_col(s, 2));
		if (l >= 0 && l <= SK_TLP_RED)
			tlp[l]++;
	}
	ui_stmt_done(c, s);
	if (types.n) /* qsort of NULL is undefined, even for no elements */
		qsort(types.t, types.n, sizeof(tally), by_count);
	if (prods.n)
		qsort(prods.t, prods.n, sizeof(tally), by_count);
	for (size_t i = 0; i < types.n; i++)
		json_array_append_new(jt, json_pack("{s:s, s:I}", "type", types.t[i].key, "count",
		                                    (json_int_t)types.t[i].n));
	for (size_t i = 0; i < prods.n && i < 200; i++) {
		json_t *pj;
		if (!prods.t[i].key[0])
			continue; /* no producer named */
		pj = ui_producer(c, prods.t[i].key);
		json_object_set_new(pj, "count", json_integer(prods.t[i].n));
		json_array_append_new(jp, pj);
	}
	for (int l = 0; l <= SK_TLP_RED; l++)
		if (tlp[l])
			json_array_append_new(jl, json_pack("{s:s, s:I}", "level", levels[l],
			                                    "count", (json_int_t)tlp[l]));
	/* per collection: its rows in the same window (collection_objects(coll, ver)) */
	if (!(s = ui_stmt(c, "SELECT cid, name FROM collections ORDER BY name")))
		goto out;
	while (sqlite3_step(s) == SQLITE_ROW) {
		long long n = 0;
		if (!ui_collection_visible(c, sqlite3_column_int64(s, 0)) ||
		    !(k = ui_stmt(c, colls)))
			continue;
		sqlite3_bind_int64(k, 1, sqlite3_column_int64(s, 0));
		sqlite3_bind_int64(k, 2, low);
		if (sqlite3_step(k) == SQLITE_ROW)
			n = sqlite3_column_int64(k, 0);
		ui_stmt_done(c, k);
		if (n)
			json_array_append_new(jc, json_pack("{s:s, s:I}", "name", ui_col(s, 1),
			                                    "count", (json_int_t)n));
	}
	ui_stmt_done(c, s);
	ui_send_json(c, 200,
	             json_pack("{s:O, s:O, s:O, s:O, s:b}", "types", jt, "producers", jp,
	                       "collections", jc, "tlp", jl, "partial", rows >= UI_FACETS_ROWS));
out:
	free(readable);
	tallies_free(&types);
	tallies_free(&prods);
	json_decref(jt);
	json_decref(jp);
	json_decref(jc);
	json_decref(jl);
}

/* --- export ------------------------------------------------------------------------- */

typedef struct vers {
	int64_t *v;
	size_t n, cap;
} vers;

static bool vers_add(vers *l, int64_t v)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		int64_t *p = realloc(l->v, cap * sizeof(*p));
		if (!p)
			return false;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = v;
	return true;
}

/* Record the exit before anything leaves (docs/audit.md); false with a 500 sent. */
static bool audit_export(ui_ctx *c, const sk_principal *to, const vers *l)
{
	char subj[SK_ACCOUNT_NAME_MAX + 16], actor[SK_ACCOUNT_NAME_MAX + 16], *ds;
	json_t *d =
	    json_pack("{s:s?, s:s, s:s}", "partner", to && to->partner[0] ? to->partner : NULL,
	              "account", c->who.account, "path", "console export");
	sk_audit_entry e = {.action = "export.for",
	                    .subject = subj,
	                    .actor = actor,
	                    .vers = l->v,
	                    .nvers = l->n,
	                    .exit = true};
	sk_error err;
	bool ok;

	snprintf(actor, sizeof(actor), "account:%s", c->who.account);
	if (to)
		snprintf(subj, sizeof(subj), "partner:%s", to->partner);
	else if (c->who.partner[0])
		snprintf(subj, sizeof(subj), "partner:%s", c->who.partner);
	else
		snprintf(subj, sizeof(subj), "account:%s", c->who.account);
	ds = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	e.detail = ds;
	ok = ds && sk_audit_append(c->st, &e, &err) == SK_OK;
	if (!ok) {
		fprintf(stderr, "schakel: serve: console export: audit log: %s\n",
		        ds ? err.msg : "out of memory");
		ui_error(c, 500, "the export could not be recorded in the audit log; nothing sent");
	}
	json_decref(d);
	free(ds);
	return ok;
}

void ui_h_export(ui_ctx *c, char **seg, size_t nseg)
{
	const char *forp = ui_param(c, "for");
	char where[2048], sql[4096], uuid[SK_UUID_LEN + 1];
	sk_principal to;
	sk_view *pv = NULL;
	sk_error e;
	ui_filter f;
	vers l = {0};
	sqlite3_stmt *s = NULL;
	sk_buf *b = &c->resp->body;
	bool first = true;

	(void)seg;
	(void)nseg;
	if (!ui_filter_parse(c, &f, UI_EXPORT_MAX, UI_EXPORT_MAX))
		goto out;
	if (forp && *forp) {
		if (!ui_is_own(c)) {
			ui_error(c, 403, "only the node's own people export for a partner");
			goto out;
		}
		if (sk_partner_principal(c->st, forp, &to, &e)) {
			ui_error(c, 404, "query parameter 'for': no partner '%s'", forp);
			goto out;
		}
		if (sk_view_open(c->st, &to, &pv, &e)) {
			ui_error(c, 500, "cannot open the partner's view");
			goto out;
		}
	}
	ui_filter_sql(&f, where, sizeof(where));
	/* pass 1: the versions, for the audit log */
	snprintf(sql, sizeof(sql),
	         "SELECT o.ver, o.tlp, o.created_by, o.rx%s ORDER BY o.ver LIMIT ?90 OFFSET ?91",
	         where);
	if (!(s = ui_stmt(c, sql)))
		goto out;
	ui_filter_bind(&f, s);
	sqlite3_bind_int64(s, 90, f.limit);
	sqlite3_bind_int64(s, 91, f.offset);
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t ver = sqlite3_column_int64(s, 0);
		if (pv &&
		    !sk_view_visible(pv, ver, sqlite3_column_int(s, 1), ui_col(s, 2), ui_col(s, 3)))
			continue;
		if (!vers_add(&l, ver)) {
			ui_stmt_done(c, s);
			ui_error(c, 500, "out of memory");
			goto out;
		}
	}
	ui_stmt_done(c, s);
	if (!audit_export(c, pv ? &to : NULL, &l))
		goto out;
	/* pass 2: the bundle, version by version */
	if (!(s = ui_stmt(c, "SELECT json FROM objects WHERE ver=?1")))
		goto out;
	sk_uuid_v4(uuid);
	sk_buf_reset(b);
	sk_buf_printf(b, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", uuid);
	for (size_t i = 0; i < l.n; i++) {
		sqlite3_bind_int64(s, 1, l.v[i]);
		if (sqlite3_step(s) == SQLITE_ROW) {
			if (!first)
				sk_buf_putc(b, ',');
			first = false;
			sk_buf_append(b, sqlite3_column_text(s, 0),
			              (size_t)sqlite3_column_bytes(s, 0));
		}
		sqlite3_reset(s);
	}
	ui_stmt_done(c, s);
	if (sk_buf_puts(b, "]}")) {
		ui_error(c, 500, "the export is too large; narrow it down");
		goto out;
	}
	c->resp->status = 200;
	c->resp->content_type = "application/stix+json;version=2.1";
	ui_header_add(c->resp, "Content-Disposition", "attachment; filename=\"export.json\"");
out:
	sk_view_free(pv);
	free(l.v);
	ui_filter_clear(&f);
}
