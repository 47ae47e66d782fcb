/*
 * taxii_objects.c - the TAXII 2.1 object resources of a collection: objects,
 * manifest, one object and its versions (GET), and DELETE of an object's
 * versions.  Pages are filled from one store query that already applies the
 * sharing policy; "next" is a signed keyset token (taxii_query.c).
 */
#include "taxii_priv.h"

#include <string.h>

#include "schakel/audit.h"
#include "schakel/policy.h"
#include "schakel/stix.h"
#include "schakel/timestamp.h"
#include "store/store_priv.h"

/* --- objects, manifest, object, versions ------------------------------------------- */

typedef struct page {
	ctx *c;
	enum mode mode;
	const char *key; /* the list's key: written with the first row (3.7: absent when empty) */
	size_t limit, n;
	bool more;
	int64_t first_da, last_da;
	sk_err rc;
	sk_buf vers; /* the versions handed out (int64_t each), for the audit log */
} page;

static int page_row(void *ud, const sk_row *r)
{
	page *p = ud;
	sk_buf *b = &p->c->resp->body;
	char ts[40], ver[40];
	sk_err rc = SK_OK;

	if (p->n == p->limit) {
		p->more = true;
		return 1;
	}
	if (p->n++)
		rc = sk_buf_putc(b, ',');
	else
		rc = sk_buf_printf(b, "\"%s\":[", p->key);
	if (!rc)
		rc = sk_buf_append(&p->vers, &r->ver, sizeof(r->ver));
	if (!p->first_da)
		p->first_da = r->date_added;
	p->last_da = r->date_added;
	switch (p->mode) {
	case M_OBJECTS:
	case M_OBJECT:
		if (!rc)
			rc = sk_buf_append(b, r->json, r->len);
		break;
	case M_MANIFEST:
		sk_ts_format_us(r->date_added, ts);
		sk_taxii_version_str(r->version, r->date_added, ver);
		if (!rc)
			rc = sk_buf_puts(b, "{\"id\":");
		if (!rc)
			rc = sk_buf_put_json_string(b, r->id, strlen(r->id));
		if (!rc)
			rc = sk_buf_printf(b,
			                   ",\"date_added\":\"%s\",\"version\":\"%s\","
			                   "\"media_type\":\"application/stix+json;version=%s\"}",
			                   ts, ver, r->spec);
		break;
	case M_VERSIONS:
		sk_taxii_version_str(r->version, r->date_added, ver);
		if (!rc)
			rc = sk_buf_printf(b, "\"%s\"", ver);
		break;
	}
	if (rc) {
		p->rc = rc;
		return 1;
	}
	return 0;
}


/* Stop at the first row: the object has a version in scope. */
static int found_row(void *ud, const sk_row *r)
{
	(void)r;
	*(bool *)ud = true;
	return 1;
}

/* Has collection cid any version of oid that a may see, whatever the filters? */
static bool visible_in(ctx *c, const sk_access *a, int64_t cid, const char *oid)
{
	static const char *const both[] = {"2.0", "2.1"};
	const char *ids[1] = {oid};
	bool found = false;
	sk_query q;
	sk_error e;

	sk_query_init(&q);
	q.cid = cid;
	q.ids = ids;
	q.nids = 1;
	q.vermode = SK_VER_ALL;
	q.specs = both;
	q.nspecs = 2;
	q.limit = 1;
	sk_policy_apply(a, &q);
	if (sk_store_query(c->st, &q, found_row, &found, &e) && !found)
		return false;
	return found;
}

/*
 * The audit entry of a read that hands out versions (docs/audit.md),
 * written before the answer leaves; false after answering 500 if it cannot
 * be written (nothing leaves unrecorded).  The detail names the path, the
 * filters given (their names only: values may hold anything) and the
 * collection; never a credential.
 */
static bool audit_read(ctx *c, enum mode mode, const coll_info *ci, const page *pg)
{
	static const char *const action[] = {[M_OBJECTS] = "taxii.objects",
	                                     [M_MANIFEST] = "taxii.manifest",
	                                     [M_OBJECT] = "taxii.object",
	                                     [M_VERSIONS] = "taxii.versions"};
	char actor[SK_ACCOUNT_NAME_MAX + 16], subject[SK_ACCOUNT_NAME_MAX + 16];
	sk_audit_entry ae = {.action = action[mode], .actor = actor, .subject = subject,
	                     .exit = true};
	const sk_principal *w = &c->who;
	sk_buf d;
	sk_error e;
	sk_err rc;

	if (!sk_audit_enabled(c->st))
		return true;
	if (!w->aid) {
		snprintf(actor, sizeof(actor), "anonymous");
		snprintf(subject, sizeof(subject), "anonymous");
	} else {
		snprintf(actor, sizeof(actor), "account:%s", w->account);
		if (w->partner[0])
			snprintf(subject, sizeof(subject), "partner:%s", w->partner);
		else
			snprintf(subject, sizeof(subject), "account:%s", w->account);
	}
	sk_buf_init(&d, (size_t)1 << 16);
	sk_buf_puts(&d, "{\"path\":");
	sk_taxii_jstr(&d, c->req->path);
	sk_buf_puts(&d, ",\"method\":");
	sk_taxii_jstr(&d, c->req->method);
	sk_buf_printf(&d, ",\"collection\":\"%s\"", ci->c.uuid);
	if (w->aid) {
		sk_buf_puts(&d, ",\"account\":");
		sk_taxii_jstr(&d, w->account);
	}
	if (w->partner[0]) {
		sk_buf_puts(&d, ",\"partner\":");
		sk_taxii_jstr(&d, w->partner);
	}
	sk_buf_puts(&d, ",\"filters\":[");
	for (size_t i = 0; i < c->req->nparams; i++) {
		if (i)
			sk_buf_putc(&d, ',');
		sk_taxii_jstr(&d, c->req->params[i].key);
	}
	sk_buf_printf(&d, "],\"more\":%s}", pg->more ? "true" : "false");
	ae.detail = d.data;
	ae.vers = (const int64_t *)(const void *)pg->vers.data;
	ae.nvers = pg->vers.len / sizeof(int64_t);
	rc = d.data ? sk_audit_append(c->st, &ae, &e)
	            : sk_error_set(&e, SK_ELIMIT, "audit: the request is too large to record");
	sk_buf_free(&d);
	if (rc) {
		sk_taxii_fail_db(c, &e);
		return false;
	}
	return true;
}

void sk_taxii_get_objects(ctx *c, const char *ckey, enum mode mode, const char *oid)
{
	static const unsigned allowed[] = {
	    [M_OBJECTS] = SK_TF_ALL,
	    [M_MANIFEST] = SK_TF_ALL,
	    [M_OBJECT] = SK_TF_ADDED_AFTER | SK_TF_LIMIT | SK_TF_NEXT | SK_TF_VERSION | SK_TF_SPEC,
	    [M_VERSIONS] = SK_TF_ADDED_AFTER | SK_TF_LIMIT | SK_TF_NEXT | SK_TF_SPEC,
	};
	static const char *const key[] = {[M_OBJECTS] = "objects",
	                                  [M_MANIFEST] = "objects",
	                                  [M_OBJECT] = "objects",
	                                  [M_VERSIONS] = "versions"};
	sk_taxii_filters f;
	sk_taxii_resp *r = c->resp;
	sk_buf *b = &r->body;
	coll_info ci;
	sk_access a;
	sk_query q;
	sk_error e;
	page pg = {.c = c, .mode = mode, .key = key[mode]};
	const char *ids[1] = {oid};
	int64_t cursor = 0;

	if (!sk_taxii_open_coll(c, ckey, false, &ci, &a))
		return;
	sk_buf_init(&pg.vers, (size_t)1 << 24);
	if (sk_taxii_filters_parse(c->req->params, c->req->nparams, allowed[mode], &f, &e)) {
		sk_taxii_fail(c, 400, "Bad request", e.msg);
		goto out_coll;
	}
	if (f.next && sk_taxii_token_decode(c->t->key, f.next, ci.c.cid, f.hash, &cursor, &e)) {
		sk_taxii_fail(c, 400, "Bad request", e.msg);
		goto out;
	}
	if (oid && !sk_stix_id_valid(oid, NULL)) {
		sk_taxii_fail(c, 404, "Object not found", "no such object in this collection");
		goto out;
	}
	sk_query_init(&q);
	q.cid = ci.c.cid;
	q.added_after = f.added_after;
	q.cursor = cursor;
	q.types = f.types;
	q.ntypes = f.ntypes;
	q.ids = oid ? ids : f.ids;
	q.nids = oid ? 1 : f.nids;
	q.specs = f.specs;
	q.nspecs = f.nspecs;
	if (mode == M_VERSIONS) {
		q.vermode = SK_VER_ALL;
	} else {
		q.vermode = f.vermode;
		q.versions = (const char *const *)(void *)NULL;
		q.nversions = f.nversions;
	}
	{
		const char *vk[SK_TAXII_MAX_VALUES];
		for (size_t i = 0; i < f.nversions; i++)
			vk[i] = f.versions[i];
		if (mode != M_VERSIONS)
			q.versions = vk;
		pg.limit = f.limit && f.limit < c->t->cfg.page_size ? f.limit : c->t->cfg.page_size;
		q.limit = pg.limit + 1;
		sk_policy_apply(&a, &q);
		sk_buf_putc(b, '{');
		if (sk_store_query(c->st, &q, page_row, &pg, &e)) {
			sk_taxii_fail_db(c, &e);
			goto out;
		}
	}
	if (pg.rc) {
		sk_taxii_fail(c, 500, "Response too large", "lower the limit");
		goto out;
	}
	if (pg.n == 0 && (mode == M_OBJECT || mode == M_VERSIONS) && !f.next &&
	    !visible_in(c, &a, ci.c.cid, oid)) {
		/*
		 * 404 only for an object with no version this reader may see here;
		 * one whose versions the filters left out is an empty 200 (5.6, 5.8.1)
		 */
		sk_taxii_fail(c, 404, "Object not found", "no such object in this collection");
		goto out;
	}
	/* an empty page has no list at all, only "more" (3.7, 5.3.1, 5.8.1) */
	sk_buf_printf(b, "%s\"more\":%s", pg.n ? "]," : "", pg.more ? "true" : "false");
	if (pg.more) {
		char tok[SK_TAXII_TOKEN_MAX];
		sk_taxii_token_encode(c->t->key, ci.c.cid, f.hash, pg.last_da, tok);
		sk_buf_printf(b, ",\"next\":\"%s\"", tok);
	}
	if (sk_buf_putc(b, '}')) {
		sk_taxii_fail(c, 500, "Response too large", "lower the limit");
		goto out;
	}
	if (!audit_read(c, mode, &ci, &pg))
		goto out;
	if (pg.n) {
		sk_ts_format_us(pg.first_da, r->date_first);
		sk_ts_format_us(pg.last_da, r->date_last);
	}
	r->status = 200;
out:
	sk_taxii_filters_free(&f);
out_coll:
	sk_buf_free(&pg.vers);
	sk_collection_clear(&ci.c);
}

/* DELETE an object's (matching, visible) versions from the collection. */
static int collect_ver(void *ud, const sk_row *r)
{
	sk_buf *vers = ud;
	return sk_buf_append(vers, &r->ver, sizeof(r->ver)) != SK_OK;
}

void sk_taxii_delete_object(ctx *c, const char *ckey, const char *oid)
{
	static const char dq[] = "DELETE FROM collection_objects WHERE coll=?1 AND ver=?2";
	sk_taxii_filters f;
	coll_info ci;
	sk_access a;
	sk_query q;
	sk_error e;
	sk_buf vers;
	const char *ids[1] = {oid};
	const char *vk[SK_TAXII_MAX_VALUES];

	if (!sk_taxii_open_coll(c, ckey, false, &ci, &a))
		return;
	sk_buf_init(&vers, (size_t)1 << 24);
	if (!a.can_write) {
		sk_taxii_fail(c, 403, "Forbidden",
		              "this account may not delete from this collection");
		goto out_coll;
	}
	if (sk_taxii_filters_parse(c->req->params, c->req->nparams, SK_TF_VERSION | SK_TF_SPEC, &f,
	                           &e)) {
		sk_taxii_fail(c, 400, "Bad request", e.msg);
		goto out_coll;
	}
	sk_query_init(&q);
	q.cid = ci.c.cid;
	q.ids = ids;
	q.nids = 1;
	q.vermode = f.vermode ? f.vermode : (f.nversions ? 0 : SK_VER_ALL);
	for (size_t i = 0; i < f.nversions; i++)
		vk[i] = f.versions[i];
	q.versions = vk;
	q.nversions = f.nversions;
	q.specs = f.specs;
	q.nspecs = f.nspecs;
	if (!q.nspecs) {
		static const char *const both[] = {"2.0", "2.1"};
		q.specs = both;
		q.nspecs = 2;
	}
	sk_policy_apply(&a, &q);
	if (!sk_stix_id_valid(oid, NULL) || sk_store_query(c->st, &q, collect_ver, &vers, &e) ||
	    vers.len == 0) {
		sk_taxii_fail(c, 404, "Object not found", "no such object in this collection");
		goto out;
	}
	if (sk_store_begin(c->st, &e)) {
		sk_taxii_fail_db(c, &e);
		goto out;
	}
	for (size_t i = 0; i < vers.len / sizeof(int64_t); i++) {
		sqlite3_stmt *s = NULL;
		int64_t v;
		memcpy(&v, vers.data + i * sizeof(int64_t), sizeof(v));
		if (sk_store_stmt_get(c->st, dq, sizeof(dq) - 1, &s, &e)) {
			sk_store_rollback(c->st);
			sk_taxii_fail_db(c, &e);
			goto out;
		}
		sqlite3_bind_int64(s, 1, ci.c.cid);
		sqlite3_bind_int64(s, 2, v);
		int step = sqlite3_step(s);
		sk_store_stmt_put(c->st, s);
		if (step != SQLITE_DONE) {
			sk_store_rollback(c->st);
			sk_taxii_fail_db(c, NULL);
			goto out;
		}
	}
	if (sk_store_commit(c->st, &e)) {
		sk_taxii_fail_db(c, &e);
		goto out;
	}
	sk_buf_puts(&c->resp->body, "{}");
	c->resp->status = 200;
out:
	sk_taxii_filters_free(&f);
out_coll:
	sk_buf_free(&vers);
	sk_collection_clear(&ci.c);
}
