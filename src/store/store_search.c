/*
 * store_search.c - the console's search index (schema 12): the FTS5 table
 * `search` over the newest version of each object, and the table
 * `observables` of the observable values (IP, domain, URL, e-mail, hash)
 * every version carries, for exact lookups and correlation.
 *
 * search: rowid = objects.ver of the object's newest version (any spec; the
 * one with the highest version, then the highest spec), with the columns
 * name, description (at most SEARCH_DESC_MAX bytes), keys (aliases, external
 * ids such as T1566 or CVE-2021-44228, labels) and vals (the comparison
 * values of an indicator's pattern, the value and hashes of an observable).
 * Every object has a row (empty columns when it has no text): the table is
 * also the set of newest versions that the console's facets walk.
 *
 * observables(value, ver, kind): value lower-cased; kind is the observable
 * type (ipv4-addr, ipv6-addr, domain-name, url, email-addr, mac-addr) or
 * "hash".  Rows are kept for every version (versions never change, except
 * the producer's copy replacing a relayed one, which is re-indexed), so
 * "the newest" is the caller's join.
 *
 * Both are written by sk_store_put (the one write path: imports, TAXII,
 * sync, feeds, objects made here) in the writer's transaction.  A store
 * migrated to schema 12 is filled by sk_store_search_backfill at the next
 * read-write open, in batches, each its own transaction with its cursor in
 * meta ('search_backfill'), so a crash resumes where it stopped.
 */
#include "store_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/json.h"
#include "schakel/pattern.h"

#define SEARCH_DESC_MAX  16384 /* bytes of description indexed */
#define SEARCH_VALS_MAX  256   /* values taken from one object */
#define SEARCH_VALUE_MAX 2048  /* longest value indexed */
#define BACKFILL_BATCH   5000  /* versions per backfill transaction */

/* What one version contributes. */
typedef struct sdoc {
	sk_buf name, desc, keys, vals;
	struct {
		char *value;
		const char *kind;
	} obs[SEARCH_VALS_MAX];
	size_t nobs, nvals;
} sdoc;

static void sdoc_init(sdoc *d)
{
	memset(d, 0, sizeof(*d));
	sk_buf_init(&d->name, 1 << 16);
	sk_buf_init(&d->desc, SEARCH_DESC_MAX + 8);
	sk_buf_init(&d->keys, 1 << 20);
	sk_buf_init(&d->vals, 1 << 20);
}

static void sdoc_free(sdoc *d)
{
	sk_buf_free(&d->name);
	sk_buf_free(&d->desc);
	sk_buf_free(&d->keys);
	sk_buf_free(&d->vals);
	for (size_t i = 0; i < d->nobs; i++)
		free(d->obs[i].value);
}

/* Append s[0..n) and a space (the columns are word lists); silently stops at the cap. */
static void put_word(sk_buf *b, const char *s, size_t n)
{
	if (!s || !n)
		return;
	if (b->len && sk_buf_putc(b, ' '))
		return;
	sk_buf_append(b, s, n);
}

static void put_str(sk_buf *b, const sk_jval *v)
{
	if (v && v->type == SK_JSTRING)
		put_word(b, v->u.s, v->n);
}

static void put_strings(sk_buf *b, const sk_jval *arr)
{
	for (size_t i = 0; i < sk_json_len(arr); i++)
		put_str(b, sk_json_at(arr, i));
}

/* Record value as an observable of kind (and as searchable text). */
static void add_value(sdoc *d, const char *kind, const char *s, size_t n)
{
	char *v;

	if (!s || !n || n > SEARCH_VALUE_MAX || d->nvals >= SEARCH_VALS_MAX)
		return;
	d->nvals++;
	put_word(&d->vals, s, n);
	if (!kind || d->nobs >= SEARCH_VALS_MAX || memchr(s, 0, n) || !(v = malloc(n + 1)))
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = (char)tolower((unsigned char)s[i]);
	v[n] = 0;
	for (size_t i = 0; i < d->nobs; i++)
		if (!strcmp(d->obs[i].value, v) && d->obs[i].kind == kind) {
			free(v);
			return;
		}
	d->obs[d->nobs].value = v;
	d->obs[d->nobs].kind = kind;
	d->nobs++;
}

static const char *const value_types[] = {"ipv4-addr", "ipv6-addr",  "domain-name",
                                          "url",       "email-addr", "mac-addr"};

/* The observable kind for an object type with a "value", or NULL. */
static const char *value_kind(const char *type, size_t n)
{
	for (size_t i = 0; i < sizeof(value_types) / sizeof(value_types[0]); i++)
		if (strlen(value_types[i]) == n && !memcmp(value_types[i], type, n))
			return value_types[i];
	return NULL;
}

/* The kind of the values compared with path: type:value, file:hashes.X, or NULL. */
static const char *path_kind(const sk_ppath *p)
{
	const sk_pstep *s0 = &p->steps[0];
	if (s0->kind != SK_PSTEP_KEY)
		return NULL;
	if (p->nsteps == 1 && s0->keylen == 5 && !memcmp(s0->key, "value", 5))
		return value_kind(p->type, p->typelen);
	if (s0->keylen == 6 && !memcmp(s0->key, "hashes", 6))
		return "hash";
	return NULL;
}

static void add_lit(sdoc *d, const char *kind, const sk_plit *l)
{
	if (l->kind == SK_PLIT_STRING)
		add_value(d, kind, l->str, l->len);
}

static int visit(const sk_pnode *n, unsigned depth, void *ud)
{
	sdoc *d = ud;
	const sk_pcmp *c;
	const char *kind;

	(void)depth;
	if (n->kind != SK_PN_COMPARISON)
		return 0;
	c = &n->cmp;
	if (c->negated)
		return 0;
	kind = path_kind(&c->path);
	if (c->op == SK_PCMP_EQ) {
		add_lit(d, kind, &c->value);
	} else if (c->op == SK_PCMP_IN) {
		for (uint32_t i = 0; i < c->nset; i++)
			add_lit(d, kind, &c->set[i]);
	} else if (c->op == SK_PCMP_LIKE || c->op == SK_PCMP_MATCHES || c->op == SK_PCMP_ISSUBSET) {
		add_lit(d, NULL, &c->value); /* searchable, not an exact value */
	}
	return 0;
}

static void add_pattern(sdoc *d, const sk_jval *pattern)
{
	sk_pattern *p = NULL;

	if (!pattern || pattern->type != SK_JSTRING)
		return;
	if (sk_pattern_parse(pattern->u.s, pattern->n, &p, NULL) == SK_OK)
		sk_pattern_walk(p, visit, d);
	sk_pattern_free(p);
}

static void add_hashes(sdoc *d, const sk_jval *hashes)
{
	if (!hashes || hashes->type != SK_JOBJECT)
		return;
	for (uint32_t i = 0; i < hashes->n; i++)
		if (hashes->u.m[i].val.type == SK_JSTRING)
			add_value(d, "hash", hashes->u.m[i].val.u.s, hashes->u.m[i].val.n);
}

/* Fill d from a version of type with object o. */
static void extract(sdoc *d, const char *type, const sk_jval *o)
{
	const sk_jval *v, *refs;
	const char *kind;

	put_str(&d->name, sk_json_get(o, "name"));
	if ((v = sk_json_get(o, "description")) && v->type == SK_JSTRING)
		put_word(&d->desc, v->u.s, v->n > SEARCH_DESC_MAX ? SEARCH_DESC_MAX : v->n);
	put_strings(&d->keys, sk_json_get(o, "aliases"));
	put_strings(&d->keys, sk_json_get(o, "x_mitre_aliases"));
	put_strings(&d->keys, sk_json_get(o, "labels"));
	refs = sk_json_get(o, "external_references");
	for (size_t i = 0; i < sk_json_len(refs); i++)
		put_str(&d->keys, sk_json_get(sk_json_at(refs, i), "external_id"));
	if (!strcmp(type, "indicator")) {
		add_pattern(d, sk_json_get(o, "pattern"));
	} else if ((kind = value_kind(type, strlen(type)))) {
		v = sk_json_get(o, "value");
		if (v && v->type == SK_JSTRING)
			add_value(d, kind, v->u.s, v->n);
	} else if (!strcmp(type, "file") || !strcmp(type, "artifact")) {
		add_hashes(d, sk_json_get(o, "hashes"));
	}
}

/* Write d for version ver: its observables, and its search row if it is its object's newest. */
static sk_err index_doc(sk_store *st, int64_t ver, const char *id, const char *spec,
                        const char *version, sdoc *d, sk_error *err)
{
	int64_t others[16];
	size_t nothers = 0;
	bool newer = false, more = false;
	sqlite3_stmt *s;
	sk_err rc;
	int r;

	for (size_t i = 0; i < d->nobs; i++) {
		if ((rc = sk_store_hot_stmt(st, S_OBS_INS, &s, err)))
			return rc;
		sqlite3_bind_text(s, 1, d->obs[i].value, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, ver);
		sqlite3_bind_text(s, 3, d->obs[i].kind, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			return sk_store_dberr(st, err, "observables");
		sqlite3_reset(s);
	}
	/* the object's other versions: is one newer?  else their rows go */
	if ((rc = sk_store_hot_stmt(st, S_SRCH_OTHERS, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ver);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *ov = (const char *)sqlite3_column_text(s, 1);
		const char *os = (const char *)sqlite3_column_text(s, 2);
		int c = strcmp(ov ? ov : "", version ? version : "");
		if (c > 0 || (c == 0 && strcmp(os ? os : "", spec ? spec : "") > 0)) {
			newer = true;
			break;
		}
		if (nothers < sizeof(others) / sizeof(others[0]))
			others[nothers++] = sqlite3_column_int64(s, 0);
		else
			more = true;
	}
	sqlite3_reset(s);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return sk_store_dberr(st, err, "search");
	if (newer)
		return SK_OK;
	for (size_t i = 0; i < nothers; i++) {
		if ((rc = sk_store_hot_stmt(st, S_SRCH_DEL, &s, err)))
			return rc;
		sqlite3_bind_int64(s, 1, others[i]);
		if (sqlite3_step(s) != SQLITE_DONE)
			return sk_store_dberr(st, err, "search");
		sqlite3_reset(s);
	}
	if (more) { /* an object with very many versions: the slow way, rarely */
		sqlite3_stmt *q = NULL;
		if (sqlite3_prepare_v2(st->db,
		                       "DELETE FROM search WHERE rowid IN"
		                       " (SELECT ver FROM objects WHERE id=?1 AND ver<>?2)",
		                       -1, &q, NULL) != SQLITE_OK)
			return sk_store_dberr(st, err, "search");
		sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, ver);
		r = sqlite3_step(q);
		sqlite3_finalize(q);
		if (r != SQLITE_DONE)
			return sk_store_dberr(st, err, "search");
	}
	if ((rc = sk_store_hot_stmt(st, S_SRCH_INS, &s, err)))
		return rc;
	sqlite3_bind_int64(s, 1, ver);
	sqlite3_bind_text(s, 2, d->name.len ? d->name.data : "", (int)d->name.len, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, d->desc.len ? d->desc.data : "", (int)d->desc.len, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, d->keys.len ? d->keys.data : "", (int)d->keys.len, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, d->vals.len ? d->vals.data : "", (int)d->vals.len, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return sk_store_dberr(st, err, "search");
	sqlite3_reset(s);
	return SK_OK;
}

sk_err sk_store_search_put(sk_store *st, int64_t ver, const sk_stix_info *info, sk_error *err)
{
	sdoc d;
	sk_err rc;

	if (!info->obj)
		return SK_OK;
	sdoc_init(&d);
	extract(&d, info->type, info->obj);
	rc = index_doc(st, ver, info->id, info->spec, info->version, &d, err);
	sdoc_free(&d);
	return rc;
}

/*
 * Fill d (initialised by the caller) from the stored JSON of version ver.
 * SK_ENOTFOUND when there is no such version; JSON that does not parse
 * leaves d empty.  what names the caller in a database error.
 */
static sk_err extract_ver(sk_store *st, int64_t ver, sdoc *d, const char *what, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_jdoc *doc = NULL;
	const sk_jval *root;
	sk_err rc = SK_OK;

	if (sqlite3_prepare_v2(st->db, "SELECT type, json FROM objects WHERE ver=?1", -1, &s,
	                       NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, what);
	sqlite3_bind_int64(s, 1, ver);
	if (sqlite3_step(s) != SQLITE_ROW)
		rc = sk_error_set(err, SK_ENOTFOUND, "no version %lld", (long long)ver);
	else if (sk_json_doc_new(0, 0, &doc))
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	else if (sk_json_parse(doc, (const char *)sqlite3_column_text(s, 1),
	                       (size_t)sqlite3_column_bytes(s, 1), &root, NULL) == SK_OK)
		extract(d, (const char *)sqlite3_column_text(s, 0), root);
	sqlite3_finalize(s);
	sk_json_doc_free(doc);
	return rc;
}

sk_err sk_store_search_forget(sk_store *st, int64_t ver, sk_error *err)
{
	sdoc d;
	sk_err rc;

	sdoc_init(&d);
	rc = extract_ver(st, ver, &d, "search", err);
	if (rc == SK_ENOTFOUND) /* nothing indexed under it but its search row, if any */
		rc = SK_OK;
	for (size_t i = 0; i < d.nobs && !rc; i++) {
		sqlite3_stmt *del;
		if ((rc = sk_store_hot_stmt(st, S_OBS_DEL, &del, err)))
			break;
		sqlite3_bind_text(del, 1, d.obs[i].value, -1, SQLITE_STATIC);
		sqlite3_bind_int64(del, 2, ver);
		if (sqlite3_step(del) != SQLITE_DONE)
			rc = sk_store_dberr(st, err, "observables");
		sqlite3_reset(del);
	}
	if (!rc) {
		sqlite3_stmt *del;
		if (!(rc = sk_store_hot_stmt(st, S_SRCH_DEL, &del, err))) {
			sqlite3_bind_int64(del, 1, ver);
			if (sqlite3_step(del) != SQLITE_DONE)
				rc = sk_store_dberr(st, err, "search");
			sqlite3_reset(del);
		}
	}
	sdoc_free(&d);
	return rc;
}

static sk_err forget_row(sk_store *st, int64_t ver, sk_error *err)
{
	sqlite3_stmt *del;
	sk_err rc = sk_store_hot_stmt(st, S_SRCH_DEL, &del, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(del, 1, ver);
	if (sqlite3_step(del) != SQLITE_DONE)
		return sk_store_dberr(st, err, "search");
	sqlite3_reset(del);
	return SK_OK;
}

/* One backfill batch: the versions after *cursor; *done when there are no more. */
static sk_err backfill_batch(sk_store *st, int64_t *cursor, bool *done, uint64_t *count,
                             sk_error *err)
{
	sqlite3_stmt *s = NULL, *m = NULL;
	sk_jdoc *doc = NULL;
	char *cur = NULL;
	size_t n = 0;
	sk_err rc;
	int r;

	*done = false;
	if ((rc = sk_store_begin(st, err)))
		return rc;
	/* the cursor is read inside the transaction: another process may have gone on */
	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key='search_backfill'", -1, &m,
	                       NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "search backfill");
		goto out;
	}
	if (sqlite3_step(m) != SQLITE_ROW) {
		*done = true;
		goto out;
	}
	*cursor = sqlite3_column_int64(m, 0);
	sqlite3_finalize(m);
	m = NULL;
	if (sk_json_doc_new(0, 0, &doc)) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(st->db,
	                       "SELECT ver, id, spec, version, type, json FROM objects"
	                       " WHERE ver>?1 ORDER BY ver LIMIT ?2",
	                       -1, &s, NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "search backfill");
		goto out;
	}
	sqlite3_bind_int64(s, 1, *cursor);
	sqlite3_bind_int(s, 2, BACKFILL_BATCH);
	while (!rc && (r = sqlite3_step(s)) == SQLITE_ROW) {
		const sk_jval *root;
		sdoc d;
		int64_t ver = sqlite3_column_int64(s, 0);
		n++;
		(*count)++;
		*cursor = ver;
		if (sk_json_parse(doc, (const char *)sqlite3_column_text(s, 5),
		                  (size_t)sqlite3_column_bytes(s, 5), &root, NULL) != SK_OK)
			continue;
		sdoc_init(&d);
		extract(&d, (const char *)sqlite3_column_text(s, 4), root);
		/* written since the migration: the write path indexed it already */
		rc = forget_row(st, ver, err);
		if (!rc)
			rc = index_doc(st, ver, (const char *)sqlite3_column_text(s, 1),
			               (const char *)sqlite3_column_text(s, 2),
			               (const char *)sqlite3_column_text(s, 3), &d, err);
		sdoc_free(&d);
	}
	if (rc)
		goto out;
	if (sqlite3_prepare_v2(st->db,
	                       n ? "UPDATE meta SET value=?1 WHERE key='search_backfill'"
	                         : "DELETE FROM meta WHERE key='search_backfill'",
	                       -1, &m, NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "search backfill");
		goto out;
	}
	if (n && !(cur = sqlite3_mprintf("%lld", (long long)*cursor))) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (n)
		sqlite3_bind_text(m, 1, cur, -1, SQLITE_STATIC);
	if (sqlite3_step(m) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "search backfill");
	*done = n == 0;
out:
	sqlite3_finalize(s);
	sqlite3_finalize(m);
	sqlite3_free(cur);
	sk_json_doc_free(doc);
	if (rc) {
		sk_store_rollback(st);
		return rc;
	}
	return sk_store_commit(st, err);
}

sk_err sk_store_defer_search(sk_store *st, bool on, sk_error *err)
{
	/* the resume point: the newest version before the deferred puts (an older one stays) */
	static const char q[] = "INSERT INTO meta(key, value)"
	                        " SELECT 'search_backfill', CAST(coalesce(max(ver), 0) AS TEXT)"
	                        " FROM objects WHERE true ON CONFLICT(key) DO NOTHING";
	st->defer_search = on;
	if (on && sqlite3_exec(st->db, q, NULL, NULL, NULL) != SQLITE_OK) {
		st->defer_search = false;
		return sk_store_dberr(st, err, "search index");
	}
	return SK_OK;
}

static sk_err backfill(sk_store *st, uint64_t *count, sk_error *err);

sk_err sk_store_search_catch_up(sk_store *st, uint64_t *n, sk_error *err)
{
	uint64_t k = 0;
	sk_err rc;
	st->defer_search = false;
	rc = backfill(st, &k, err);
	if (n)
		*n = k;
	return rc;
}

sk_err sk_store_search_backfill(sk_store *st, sk_error *err)
{
	uint64_t k = 0;
	return backfill(st, &k, err);
}

static sk_err backfill(sk_store *st, uint64_t *count, sk_error *err)
{
	int64_t cursor = 0;
	bool done = false;
	sk_err rc = SK_OK;
	sqlite3_stmt *s = NULL;

	/* the common case, without the write lock: nothing to do */
	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM meta WHERE key='search_backfill'", -1, &s,
	                       NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "search backfill");
	done = sqlite3_step(s) != SQLITE_ROW;
	sqlite3_finalize(s);
	while (!done && !(rc = backfill_batch(st, &cursor, &done, count, err)))
		;
	return rc;
}

sk_err sk_store_search_values(sk_store *st, int64_t ver,
                              int (*fn)(void *ud, const char *value, const char *kind), void *ud,
                              sk_error *err)
{
	sdoc d;
	sk_err rc;

	sdoc_init(&d);
	if (!(rc = extract_ver(st, ver, &d, "observables", err)))
		for (size_t i = 0; i < d.nobs; i++)
			if (fn(ud, d.obs[i].value, d.obs[i].kind))
				break;
	sdoc_free(&d);
	return rc;
}
