/*
 * ui_data.c - what the console's knowledge handlers share: object summaries
 * (docs/console.md: {id, type, name, tlp, producer, modified, revoked}),
 * names and producers through the request's view, and the search filters
 * that search, facets and export take.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/audit.h"
#include "schakel/timestamp.h"
#include "store/store_priv.h"
#include "ui/ui_data_int.h"

#define UI_Q_MAX    256 /* longest q */
#define UI_Q_TERMS  16  /* most words in q */
#define UI_NAME_MAX 200 /* a stand-in name is cut here */

sqlite3_stmt *ui_stmt(ui_ctx *c, const char *sql)
{
	sqlite3_stmt *s = NULL;
	sk_error e;
	if (sk_store_stmt_get(c->st, sql, strlen(sql), &s, &e)) {
		fprintf(stderr, "schakel: serve: console: %s\n", e.msg);
		ui_error(c, 500, "database error");
		return NULL;
	}
	return s;
}

void ui_stmt_done(ui_ctx *c, sqlite3_stmt *s)
{
	sk_store_stmt_put(c->st, s);
}

const char *ui_col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

json_t *ui_time_json(int64_t us)
{
	char ts[SK_TS_STR_MAX];
	if (us <= 0)
		return json_null();
	sk_ts_format_ms(us, ts);
	return json_string(ts);
}

bool ui_is_own(const ui_ctx *c)
{
	return c->who.aid > 0 && (c->who.role == SK_ROLE_ADMIN || c->who.role == SK_ROLE_ANALYST ||
	                          c->who.role == SK_ROLE_VIEWER);
}

/* name (cut at UI_NAME_MAX bytes, on a UTF-8 boundary) into buf. */
static void put_name(char *buf, size_t n, const char *name)
{
	size_t len = strlen(name);
	if (len > UI_NAME_MAX) {
		len = UI_NAME_MAX;
		while (len && ((unsigned char)name[len] & 0xC0) == 0x80)
			len--;
	}
	if (len >= n)
		len = n - 1;
	memcpy(buf, name, len);
	buf[len] = 0;
}

void ui_name_of(ui_ctx *c, const char *id, char *buf, size_t n)
{
	static const char q[] =
	    "SELECT o.type, coalesce(json_extract(o.json,'$.name'), json_extract(o.json,'$.value'),"
	    " json_extract(o.json,'$.abstract'), json_extract(o.json,'$.pattern'))"
	    " FROM objects o WHERE o.id=?1 AND " UI_VISIBLE
	    " ORDER BY o.version DESC, o.spec DESC LIMIT 1";
	sqlite3_stmt *s;

	put_name(buf, n, id ? id : "");
	if (!id || !(s = ui_stmt(c, q)))
		return;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && ui_col(s, 1))
		put_name(buf, n, ui_col(s, 1));
	ui_stmt_done(c, s);
}

json_t *ui_producer(ui_ctx *c, const char *identity)
{
	static const char q[] = "SELECT json_extract(o.json,'$.name') FROM objects o"
	                        " WHERE o.id=?1 AND o.type='identity' AND " UI_VISIBLE
	                        " ORDER BY o.version DESC LIMIT 1";
	sqlite3_stmt *s;
	json_t *name = NULL;

	if (!identity)
		return json_null();
	if ((s = ui_stmt(c, q))) {
		sqlite3_bind_text(s, 1, identity, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW && ui_col(s, 0))
			name = json_string(ui_col(s, 0));
		ui_stmt_done(c, s);
	}
	return json_pack("{s:s, s:o}", "id", identity, "name", name ? name : json_null());
}

json_t *ui_summary(ui_ctx *c, sqlite3_stmt *s, int col)
{
	const char *id = ui_col(s, col + 1), *type = ui_col(s, col + 2);
	const char *name = ui_col(s, col + 8), *pattern = ui_col(s, col + 9);
	const char *src = ui_col(s, col + 10), *dst = ui_col(s, col + 11);
	const char *rel = ui_col(s, col + 12), *by = ui_col(s, col + 4), *mod = ui_col(s, col + 5);
	char buf[3 * UI_NAME_MAX + 64], a[UI_NAME_MAX + 8], b[UI_NAME_MAX + 8];

	if (!type)
		type = "";
	if (name) {
		put_name(buf, sizeof(buf), name);
	} else if (pattern) {
		put_name(buf, sizeof(buf), pattern);
	} else if (!strcmp(type, "sighting") && dst) {
		ui_name_of(c, dst, a, sizeof(a));
		snprintf(buf, sizeof(buf), "sighting of %s", a);
	} else if (!strcmp(type, "relationship") && src && dst) {
		ui_name_of(c, src, a, sizeof(a));
		ui_name_of(c, dst, b, sizeof(b));
		snprintf(buf, sizeof(buf), "%s %s %s", a, rel ? rel : "related-to", b);
	} else {
		put_name(buf, sizeof(buf), id ? id : "");
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "id", id ? id : "", "type", type,
	                 "name", buf, "tlp", ui_tlp_json(sqlite3_column_int(s, col + 3)),
	                 "producer", ui_producer(c, by), "modified",
	                 mod ? json_string(mod) : json_null(), "revoked",
	                 sqlite3_column_int(s, col + 6) != 0);
}

json_t *ui_summary_of(ui_ctx *c, const char *id)
{
	return ui_summary_ver(c, id, NULL);
}

json_t *ui_summary_ver(ui_ctx *c, const char *id, int64_t *ver)
{
	static const char q[] =
	    "SELECT " UI_SUM_COLS " FROM objects o WHERE o.id=?1 AND " UI_VISIBLE
	    " ORDER BY o.version DESC, o.spec DESC LIMIT 1";
	sqlite3_stmt *s;
	json_t *j = NULL;

	if (!id || !(s = ui_stmt(c, q)))
		return NULL;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		j = ui_summary(c, s, 0);
		if (ver)
			*ver = sqlite3_column_int64(s, 0);
	}
	ui_stmt_done(c, s);
	return j;
}

bool ui_collection_visible(ui_ctx *c, int64_t cid)
{
	sk_collection col = {0};
	sk_access a;
	sqlite3_stmt *s;
	bool yes = false;

	if (ui_is_own(c))
		return true;
	if (c->who.role != SK_ROLE_PARTNER)
		return false;
	if (!(s = ui_stmt(c,
	                  "SELECT uuid, name, default_tlp, public FROM collections WHERE cid=?1")))
		return false;
	sqlite3_bind_int64(s, 1, cid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		col.cid = cid;
		col.default_tlp = (sk_tlp)sqlite3_column_int(s, 2);
		col.is_public = sqlite3_column_int(s, 3) != 0;
		yes = sk_policy_access(c->st, &c->who, &col, &a, NULL) == SK_OK &&
		      sk_policy_can_see_collection(&a);
	}
	ui_stmt_done(c, s);
	return yes;
}

char *ui_readable_collections(ui_ctx *c)
{
	sqlite3_stmt *s;
	json_t *a;
	char *out = NULL;

	if (c->who.role != SK_ROLE_PARTNER || !(a = json_array()))
		return NULL;
	if ((s = ui_stmt(c, "SELECT cid, default_tlp, public FROM collections"))) {
		while (sqlite3_step(s) == SQLITE_ROW) {
			sk_collection col = {.cid = sqlite3_column_int64(s, 0),
			                     .default_tlp = (sk_tlp)sqlite3_column_int(s, 1),
			                     .is_public = sqlite3_column_int(s, 2) != 0};
			sk_access acc;
			if (sk_policy_access(c->st, &c->who, &col, &acc, NULL) == SK_OK &&
			    sk_policy_can_read(&acc))
				json_array_append_new(a, json_integer(col.cid));
		}
		ui_stmt_done(c, s);
		out = json_dumps(a, JSON_COMPACT);
	}
	json_decref(a);
	return out;
}

bool ui_audit_exit(ui_ctx *c, const char *action, const int64_t *vers, size_t n)
{
	char actor[SK_ACCOUNT_NAME_MAX + 16], subject[SK_ACCOUNT_NAME_MAX + 16], *ds = NULL;
	sk_audit_entry e = {.action = action,
	                    .actor = actor,
	                    .subject = subject,
	                    .vers = vers,
	                    .nvers = n,
	                    .exit = true};
	json_t *d, *filters;
	sk_error err;
	bool ok;

	if (c->who.role != SK_ROLE_PARTNER || !c->who.partner[0])
		return true;
	snprintf(actor, sizeof(actor), "account:%s", c->who.account);
	snprintf(subject, sizeof(subject), "partner:%s", c->who.partner);
	filters = json_array();
	for (size_t i = 0; i < c->req->nparams; i++) /* names only: values may hold anything */
		if (c->req->params[i].key)
			json_array_append_new(filters, json_string(c->req->params[i].key));
	d = json_pack("{s:s, s:s, s:s, s:o}", "path", c->req->path ? c->req->path : "", "account",
	              c->who.account, "partner", c->who.partner, "filters", filters);
	ds = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	e.detail = ds;
	ok = ds && sk_audit_append(c->st, &e, &err) == SK_OK;
	if (!ok) {
		fprintf(stderr, "schakel: serve: console: audit log: %s\n",
		        ds ? err.msg : "out of memory");
		ui_error(c, 500, "the answer could not be recorded in the audit log; nothing sent");
	}
	json_decref(d);
	free(ds);
	return ok;
}

/* --- filters ------------------------------------------------------------------------ */

/* q as an FTS5 query: each word a quoted phrase (a prefix query for the last plain word). */
static char *fts_query(const char *q)
{
	size_t n = strlen(q), terms = 0;
	char *out = malloc(n * 2 + UI_Q_TERMS * 4 + 8), *o = out;
	const char *p = q;

	if (!out)
		return NULL;
	while (*p && terms < UI_Q_TERMS) {
		const char *w;
		bool plain = true;
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		w = p;
		if (o != out)
			*o++ = ' ';
		*o++ = '"';
		while (*p && !isspace((unsigned char)*p)) {
			if (*p == '"')
				*o++ = '"';
			if (!isalnum((unsigned char)*p) && !((unsigned char)*p & 0x80))
				plain = false;
			*o++ = *p++;
		}
		*o++ = '"';
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p && plain && p - w >= 3)
			*o++ = '*';
		terms++;
	}
	*o = 0;
	if (o == out) {
		free(out);
		return NULL;
	}
	return out;
}

static bool time_key(ui_ctx *c, const char *name, char *key)
{
	int64_t us = 0;
	char ts[SK_TS_STR_MAX];

	key[0] = 0;
	if (!ui_param_time(c, name, 0, &us))
		return false;
	if (!ui_param(c, name))
		return true;
	sk_ts_format_us(us, ts);
	if (!sk_ts_parse(ts, strlen(ts), key, NULL)) {
		ui_error(c, 400, "query parameter '%s': out of range", name);
		return false;
	}
	return true;
}

bool ui_filter_parse(ui_ctx *c, ui_filter *f, long long def_limit, long long max_limit)
{
	const char *v;

	memset(f, 0, sizeof(*f));
	f->tlp = -1;
	f->revoked = -1;
	f->q = ui_param(c, "q");
	if (f->q && !*f->q)
		f->q = NULL;
	if (f->q && strlen(f->q) > UI_Q_MAX) {
		ui_error(c, 400, "query parameter 'q': at most %d bytes", UI_Q_MAX);
		return false;
	}
	if (f->q && !sk_stix_id_valid(f->q, NULL) && !(f->match = fts_query(f->q)))
		f->q = NULL; /* only blanks */
	f->type = ui_param(c, "type");
	if (f->type && (!*f->type || strlen(f->type) > 250)) {
		ui_error(c, 400, "query parameter 'type': a STIX type such as indicator");
		return false;
	}
	f->producer = ui_param(c, "producer");
	if (f->producer && !*f->producer)
		f->producer = NULL;
	if ((v = ui_param(c, "tlp")) && *v) {
		sk_tlp t;
		if (!strcmp(v, "none"))
			f->tlp = SK_TLP_NONE;
		else if (sk_tlp_parse(v, &t))
			f->tlp = (int)t;
		else {
			ui_error(c, 400,
			         "query parameter 'tlp': clear, green, amber, amber+strict, red or "
			         "none");
			return false;
		}
	}
	if ((v = ui_param(c, "collection")) && *v) {
		sk_collection col;
		f->cid = -1; /* unknown, or not the principal's to see: matches nothing */
		if (sk_collection_resolve(c->st, v, &col, NULL) == SK_OK) {
			if (ui_collection_visible(c, col.cid))
				f->cid = col.cid;
			sk_collection_clear(&col);
		}
	}
	if ((v = ui_param(c, "revoked")) && *v) {
		if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "only"))
			f->revoked = 1;
		else if (!strcmp(v, "false") || !strcmp(v, "0"))
			f->revoked = 0;
		else if (!strcmp(v, "any") || !strcmp(v, "all"))
			f->revoked = -1;
		else {
			ui_error(c, 400, "query parameter 'revoked': true, false or any");
			return false;
		}
	}
	if (!time_key(c, "since", f->since) || !time_key(c, "until", f->until))
		return false;
	if (!ui_param_int(c, "limit", 1, max_limit, def_limit, &f->limit) ||
	    !ui_param_int(c, "offset", 0, 1000000, 0, &f->offset))
		return false;
	f->colls = ui_readable_collections(c);
	return true;
}

void ui_filter_clear(ui_filter *f)
{
	free(f->match);
	free(f->colls);
	f->match = NULL;
	f->colls = NULL;
}

/* Does q look like an observable value (an address, a domain, a URL, a hash)? */
static bool observable_like(const char *q)
{
	size_t n = strlen(q), hex = 0;
	if (strpbrk(q, " \t"))
		return false;
	for (size_t i = 0; i < n; i++)
		hex += isxdigit((unsigned char)q[i]) != 0;
	return strpbrk(q, ".:/@") || (n >= 32 && hex == n);
}

/*
 * The matches drive the join (CROSS JOIN keeps them the outer loop): with
 * a type filter the planner would otherwise walk objects_type and run the
 * full-text query once per object.
 */
void ui_filter_sql(const ui_filter *f, char *sql, size_t n)
{
	int p = 1;
	size_t len;

	if (f->match && observable_like(f->q))
		/* exact values first: a phrase of common tokens (192 0 2 1) is slow in FTS */
		snprintf(sql, n,
		         " FROM (SELECT rowid AS v FROM search WHERE search MATCH ?%d"
		         " UNION SELECT ver FROM observables WHERE value=lower(?%d)) h"
		         " CROSS JOIN objects o ON o.ver=h.v WHERE " UI_VISIBLE " AND " UI_LATEST,
		         p, p + 1),
		    p += 2;
	else if (f->match)
		snprintf(sql, n,
		         " FROM search CROSS JOIN objects o ON o.ver=search.rowid"
		         " WHERE search MATCH ?%d"
		         " AND " UI_VISIBLE,
		         p++);
	else if (f->q) /* a STIX id */
		snprintf(sql, n, " FROM objects o WHERE o.id=?%d AND " UI_VISIBLE " AND " UI_LATEST,
		         p++);
	else if (f->colls) /* a partner: only its collections can hold what it sees */
		snprintf(
		    sql, n,
		    " FROM (SELECT DISTINCT co.ver AS v FROM collection_objects co WHERE co.coll IN"
		    " (SELECT value FROM json_each(?%d))) h CROSS JOIN objects o ON o.ver=h.v"
		    " WHERE " UI_VISIBLE " AND " UI_LATEST,
		    p++);
	else
		snprintf(sql, n, " FROM objects o WHERE " UI_VISIBLE " AND " UI_LATEST);
	len = strlen(sql);
#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (len < n)                                                                       \
			len += (size_t)snprintf(sql + len, n - len, __VA_ARGS__);                  \
	} while (0)
	if (f->type)
		ADD(" AND o.type=?%d", p++);
	if (f->tlp >= 0)
		ADD(" AND o.tlp=?%d", p++);
	if (f->producer)
		ADD(" AND o.created_by=?%d", p++);
	if (f->cid)
		ADD(" AND EXISTS(SELECT 1 FROM collection_objects co WHERE co.coll=?%d"
		    " AND co.ver=o.ver)",
		    p++);
	if (f->since[0])
		ADD(" AND o.version>=?%d", p++);
	if (f->until[0])
		ADD(" AND o.version<=?%d", p++);
	if (f->revoked >= 0)
		ADD(" AND o.revoked=?%d", p++);
#undef ADD
}

int ui_filter_bind(const ui_filter *f, sqlite3_stmt *s)
{
	int p = 1;
	if (f->match && observable_like(f->q)) {
		sqlite3_bind_text(s, p++, f->match, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, p++, f->q, -1, SQLITE_STATIC);
	} else if (f->match) {
		sqlite3_bind_text(s, p++, f->match, -1, SQLITE_STATIC);
	} else if (f->q) {
		sqlite3_bind_text(s, p++, f->q, -1, SQLITE_STATIC);
	} else if (f->colls) {
		sqlite3_bind_text(s, p++, f->colls, -1, SQLITE_STATIC);
	}
	if (f->type)
		sqlite3_bind_text(s, p++, f->type, -1, SQLITE_STATIC);
	if (f->tlp >= 0)
		sqlite3_bind_int(s, p++, f->tlp);
	if (f->producer)
		sqlite3_bind_text(s, p++, f->producer, -1, SQLITE_STATIC);
	if (f->cid)
		sqlite3_bind_int64(s, p++, f->cid);
	if (f->since[0])
		sqlite3_bind_text(s, p++, f->since, -1, SQLITE_STATIC);
	if (f->until[0])
		sqlite3_bind_text(s, p++, f->until, -1, SQLITE_STATIC);
	if (f->revoked >= 0)
		sqlite3_bind_int(s, p++, f->revoked);
	return p;
}
