/*
 * taxii.c - the TAXII 2.1 API: routing, negotiation, discovery, collections,
 * objects, manifests, versions, POST and status resources.  Query strings,
 * filters, next tokens and envelope checks are in taxii_query.c.
 *
 * Transport-independent: httpd.c feeds requests in.  Every object version
 * that leaves goes through the sharing policy, applied inside the store query
 * (policy.h), so limits and pagination only ever count permitted versions and
 * a hidden version is indistinguishable from one that does not exist.
 */
#include "schakel/taxii.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/import.h"
#include "schakel/jstream.h"
#include "schakel/json.h"
#include "schakel/policy.h"
#include "schakel/reader.h"
#include "schakel/stix.h"
#include "schakel/timestamp.h"
#include "schakel/uuid.h"
#include "store/store_priv.h"
#include "core/utf8.h"

#define DEFAULT_PAGE        1000
#define DEFAULT_MAX_CONTENT ((size_t)100 << 20)
#define STATUS_KEEP_US      ((int64_t)48 * 3600 * 1000000) /* statuses live >= 24 h; purge at 48 h */

/* Envelopes above either bound are imported by the background writer. */
#define SYNC_MAX_OBJECTS 2000
#define SYNC_MAX_BYTES   ((size_t)4 << 20)

/* One queued POST for the writer thread. */
typedef struct post_job {
	struct post_job *next;
	char sid[SK_UUID_LEN + 1];
	int64_t cid;
	char *body;
	size_t len;
	char rx[SK_IDENTITY_ID_MAX + 1]; /* the poster's partner identity (provenance) */
} post_job;

struct sk_taxii {
	sk_taxii_config cfg;
	unsigned char key[SK_TAXII_KEY_BYTES];
	sk_auth_cache *cache;
	char *db_path; /* owned copy of cfg.db_path */
	/* background writer: a FIFO of jobs, bounded in bytes */
	pthread_mutex_t qmu;
	pthread_cond_t qcv;
	post_job *head, *tail;
	size_t queued_bytes;
	bool writer_running, stopping;
	pthread_t writer;
};

/* --- server state ---------------------------------------------------------------- */

static sk_err load_key(sk_store *st, unsigned char key[SK_TAXII_KEY_BYTES], sk_error *err)
{
	sqlite3 *db = sk_store_sqlite(st);
	sqlite3_stmt *s = NULL;
	char hex[SK_TAXII_KEY_BYTES * 2 + 1];
	size_t bl = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='taxii_token_key'", -1,
		                       &s, NULL) != SQLITE_OK)
			return sk_store_dberr(st, err, "meta");
		if (sqlite3_step(s) == SQLITE_ROW &&
		    sqlite3_column_bytes(s, 0) == SK_TAXII_KEY_BYTES * 2 &&
		    sodium_hex2bin(key, SK_TAXII_KEY_BYTES, (const char *)sqlite3_column_text(s, 0),
		                   SK_TAXII_KEY_BYTES * 2, NULL, &bl, NULL) == 0 &&
		    bl == SK_TAXII_KEY_BYTES) {
			sqlite3_finalize(s);
			return SK_OK;
		}
		sqlite3_finalize(s);
		randombytes_buf(key, SK_TAXII_KEY_BYTES);
		sodium_bin2hex(hex, sizeof(hex), key, SK_TAXII_KEY_BYTES);
		if (sqlite3_prepare_v2(db,
		                       "INSERT OR IGNORE INTO meta(key, value)"
		                       " VALUES('taxii_token_key', ?1)",
		                       -1, &s, NULL) != SQLITE_OK)
			return sk_store_dberr(st, err, "meta");
		sqlite3_bind_text(s, 1, hex, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE) {
			sqlite3_finalize(s);
			return sk_store_dberr(st, err, "storing the token key");
		}
		sqlite3_finalize(s);
	}
	return sk_error_set(err, SK_EDB, "cannot read the token key");
}

sk_err sk_taxii_new(sk_store *st, const sk_taxii_config *cfg, sk_taxii **out, sk_error *err)
{
	sk_taxii *t;
	sk_err rc;

	*out = NULL;
	if (sodium_init() < 0)
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	t = calloc(1, sizeof(*t));
	if (!t)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (cfg)
		t->cfg = *cfg;
	if (!t->cfg.page_size)
		t->cfg.page_size = DEFAULT_PAGE;
	if (!t->cfg.max_content_length)
		t->cfg.max_content_length = DEFAULT_MAX_CONTENT;
	if (!t->cfg.title)
		t->cfg.title = "schakel";
	pthread_mutex_init(&t->qmu, NULL);
	pthread_cond_init(&t->qcv, NULL);
	if (t->cfg.db_path && !(t->db_path = strdup(t->cfg.db_path))) {
		sk_taxii_free(t);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	t->cfg.db_path = t->db_path;
	if ((rc = load_key(st, t->key, err)) || (rc = sk_auth_cache_new(60, &t->cache))) {
		if (rc && err && !err->msg[0])
			sk_error_set(err, rc, "authentication cache");
		sk_taxii_free(t);
		return rc;
	}
	*out = t;
	return SK_OK;
}

static void writer_stop(sk_taxii *t);

void sk_taxii_free(sk_taxii *t)
{
	if (!t)
		return;
	writer_stop(t); /* finishes the queued imports first */
	pthread_cond_destroy(&t->qcv);
	pthread_mutex_destroy(&t->qmu);
	free(t->db_path);
	sk_auth_cache_free(t->cache);
	sodium_memzero(t->key, sizeof(t->key));
	free(t);
}

size_t sk_taxii_max_content_length(const sk_taxii *t)
{
	return t->cfg.max_content_length;
}

void sk_taxii_resp_free(sk_taxii_resp *resp)
{
	if (resp)
		sk_buf_free(&resp->body);
}

/* --- request context -------------------------------------------------------------- */

typedef struct ctx {
	sk_taxii *t;
	sk_store *st;
	const sk_taxii_req *req;
	sk_taxii_resp *resp;
	sk_principal who; /* aid 0 = anonymous */
	int64_t root;     /* api root id */
	char root_name[80];
} ctx;

static void jstr(sk_buf *b, const char *s)
{
	if (s)
		sk_buf_put_json_string(b, s, strlen(s));
	else
		sk_buf_puts(b, "null");
}

static void fail(ctx *c, int status, const char *title, const char *desc)
{
	sk_buf *b = &c->resp->body;
	sk_buf_reset(b);
	c->resp->status = status;
	c->resp->date_first[0] = c->resp->date_last[0] = '\0';
	sk_buf_puts(b, "{\"title\":");
	jstr(b, title);
	if (desc && *desc) {
		sk_buf_puts(b, ",\"description\":");
		jstr(b, desc);
	}
	sk_buf_printf(b, ",\"http_status\":\"%d\"}", status);
	if (status == 401)
		c->resp->www_authenticate = true;
}

static void fail_db(ctx *c, const sk_error *e)
{
	/* details go to the server log only: they may name internals */
	if (e && e->msg[0])
		fprintf(stderr, "schakel: serve: %s\n", e->msg);
	fail(c, 500, "Internal server error", "the store could not answer this request");
}

/* The media range list accepts TAXII 2.1 JSON? */
static bool accept_ok(const char *h)
{
	if (!h || !*h)
		return true;
	while (*h) {
		char range[256];
		size_t n = strcspn(h, ",");
		size_t k = n < sizeof(range) - 1 ? n : sizeof(range) - 1;
		char *semi, *p;
		memcpy(range, h, k);
		range[k] = '\0';
		h += n;
		if (*h == ',')
			h++;
		/* strip spaces */
		for (p = range; *p; p++)
			if (*p == ' ' || *p == '\t')
				memmove(p, p + 1, strlen(p)), p--;
		semi = strchr(range, ';');
		if (semi)
			*semi = '\0';
		if (!strcasecmp(range, "*/*") || !strcasecmp(range, "application/*"))
			return true;
		if (!strcasecmp(range, "application/taxii+json")) {
			const char *v = semi ? strstr(semi + 1, "version=") : NULL;
			if (!v || !strncmp(v + 8, "2.1", 3))
				return true;
		}
	}
	return false;
}

static bool content_type_ok(const char *h)
{
	char t[256], *p, *semi;
	if (!h)
		return false;
	snprintf(t, sizeof(t), "%s", h);
	for (p = t; *p; p++)
		if (*p == ' ' || *p == '\t')
			memmove(p, p + 1, strlen(p)), p--;
	semi = strchr(t, ';');
	if (semi)
		*semi = '\0';
	if (strcasecmp(t, "application/taxii+json") != 0)
		return false;
	if (semi) {
		const char *v = strstr(semi + 1, "version=");
		if (v && strncmp(v + 8, "2.1", 3) != 0)
			return false;
	}
	return true;
}

/* Base URL ("https://host") or "" when the Host header is missing or odd. */
static void base_url(ctx *c, char *out, size_t n)
{
	const char *h = c->req->host;
	if (!h || !*h || strlen(h) > 255 || strpbrk(h, "\"\\/ <>"))
		out[0] = '\0';
	else
		snprintf(out, n, "%s://%s", c->req->tls ? "https" : "http", h);
}

static bool any_public(ctx *c, int64_t root)
{
	sqlite3_stmt *s = NULL;
	static const char q[] = "SELECT EXISTS(SELECT 1 FROM collections WHERE public=1"
	                        " AND (?1=0 OR root=?1))";
	bool yes = false;
	if (sk_store_stmt_get(c->st, q, sizeof(q) - 1, &s, NULL))
		return false;
	sqlite3_bind_int64(s, 1, root);
	if (sqlite3_step(s) == SQLITE_ROW)
		yes = sqlite3_column_int(s, 0) != 0;
	sk_store_stmt_put(c->st, s);
	return yes;
}

/* --- collections ------------------------------------------------------------------- */

typedef struct coll_info {
	sk_collection c;
	char alias[204];
} coll_info;

#define COLL_SQL                                                                                   \
	"SELECT cid, uuid, name, title, description, default_tlp, public,"                         \
	" (SELECT alias FROM collection_aliases WHERE coll=cid ORDER BY alias LIMIT 1)"            \
	" FROM collections"

static void fill_coll(sqlite3_stmt *s, coll_info *ci)
{
	const unsigned char *t;
	memset(ci, 0, sizeof(*ci));
	ci->c.cid = sqlite3_column_int64(s, 0);
	snprintf(ci->c.uuid, sizeof(ci->c.uuid), "%s", (const char *)sqlite3_column_text(s, 1));
	t = sqlite3_column_text(s, 2);
	ci->c.name = t ? strdup((const char *)t) : NULL;
	t = sqlite3_column_text(s, 3);
	ci->c.title = t ? strdup((const char *)t) : NULL;
	t = sqlite3_column_text(s, 4);
	ci->c.description = t ? strdup((const char *)t) : NULL;
	ci->c.default_tlp = (sk_tlp)sqlite3_column_int(s, 5);
	ci->c.is_public = sqlite3_column_int(s, 6) != 0;
	t = sqlite3_column_text(s, 7);
	snprintf(ci->alias, sizeof(ci->alias), "%s", t ? (const char *)t : "");
}

/* Collection key (uuid or alias) within the current root; SK_ENOTFOUND if none. */
static sk_err find_coll(ctx *c, const char *key, int64_t cid, coll_info *ci, sk_error *err)
{
	static const char q[] =
	    COLL_SQL " WHERE root=?2 AND (cid=?3 OR uuid=lower(?1) OR"
	             " cid=(SELECT coll FROM collection_aliases WHERE alias=?1))";
	sqlite3_stmt *s = NULL;
	sk_err rc = sk_store_stmt_get(c->st, q, sizeof(q) - 1, &s, err);
	int step;
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, key ? key : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, c->root);
	sqlite3_bind_int64(s, 3, cid);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		fill_coll(s, ci);
	else if (step == SQLITE_DONE)
		rc = SK_ENOTFOUND;
	else
		rc = sk_store_dberr(c->st, err, "collection");
	sk_store_stmt_put(c->st, s);
	return rc;
}

static void put_collection(sk_buf *b, const coll_info *ci, const sk_access *a)
{
	sk_buf_puts(b, "{\"id\":");
	jstr(b, ci->c.uuid);
	sk_buf_puts(b, ",\"title\":");
	jstr(b, ci->c.title ? ci->c.title : ci->c.name);
	if (ci->c.description) {
		sk_buf_puts(b, ",\"description\":");
		jstr(b, ci->c.description);
	}
	if (ci->alias[0]) {
		sk_buf_puts(b, ",\"alias\":");
		jstr(b, ci->alias);
	}
	sk_buf_printf(b,
	              ",\"can_read\":%s,\"can_write\":%s,\"media_types\":"
	              "[\"application/stix+json;version=2.1\"]}",
	              sk_policy_can_read(a) ? "true" : "false",
	              a->authenticated && a->can_write ? "true" : "false");
}

/* --- discovery, api root, collections ------------------------------------------------ */

static void get_discovery(ctx *c)
{
	sk_buf *b = &c->resp->body;
	sqlite3_stmt *s = NULL;
	static const char q[] = "SELECT name FROM api_roots ORDER BY rid";
	char base[300];
	bool first = true;

	if (!c->who.aid && !any_public(c, 0)) {
		fail(c, 401, "Authentication required", "this server needs credentials");
		return;
	}
	base_url(c, base, sizeof(base));
	if (sk_store_stmt_get(c->st, q, sizeof(q) - 1, &s, NULL)) {
		fail_db(c, NULL);
		return;
	}
	sk_buf_puts(b, "{\"title\":");
	jstr(b, c->t->cfg.title);
	sk_buf_puts(b, ",\"description\":\"schakel threat-intelligence node (TAXII 2.1)\"");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);
		if (first) {
			sk_buf_printf(b, ",\"default\":\"%s/%s/\",\"api_roots\":[", base, name);
		}
		sk_buf_printf(b, "%s\"%s/%s/\"", first ? "" : ",", base, name);
		first = false;
	}
	sk_store_stmt_put(c->st, s);
	sk_buf_puts(b, first ? ",\"api_roots\":[]}" : "]}");
	c->resp->status = 200;
}

static bool load_root(ctx *c, const char *name, char **title, char **desc)
{
	static const char q[] = "SELECT rid, title, description FROM api_roots WHERE name=?1";
	sqlite3_stmt *s = NULL;
	bool found = false;

	if (strlen(name) >= sizeof(c->root_name))
		return false;
	if (sk_store_stmt_get(c->st, q, sizeof(q) - 1, &s, NULL))
		return false;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *t;
		c->root = sqlite3_column_int64(s, 0);
		snprintf(c->root_name, sizeof(c->root_name), "%s", name);
		if (title) {
			t = sqlite3_column_text(s, 1);
			*title = t ? strdup((const char *)t) : NULL;
		}
		if (desc) {
			t = sqlite3_column_text(s, 2);
			*desc = t ? strdup((const char *)t) : NULL;
		}
		found = true;
	}
	sk_store_stmt_put(c->st, s);
	return found;
}

static void get_api_root(ctx *c, const char *title, const char *desc)
{
	sk_buf *b = &c->resp->body;
	if (!c->who.aid && !any_public(c, c->root)) {
		fail(c, 401, "Authentication required", "this API root needs credentials");
		return;
	}
	sk_buf_puts(b, "{\"title\":");
	jstr(b, title ? title : c->root_name);
	if (desc) {
		sk_buf_puts(b, ",\"description\":");
		jstr(b, desc);
	}
	sk_buf_printf(b, ",\"versions\":[\"" SK_TAXII_MEDIA_TYPE "\"],\"max_content_length\":%zu}",
	              c->t->cfg.max_content_length);
	c->resp->status = 200;
}

static void get_collections(ctx *c)
{
	static const char q[] = COLL_SQL " WHERE root=?1 ORDER BY cid";
	sk_buf *b = &c->resp->body;
	sqlite3_stmt *s = NULL;
	bool first = true;
	int step;

	if (!c->who.aid && !any_public(c, c->root)) {
		fail(c, 401, "Authentication required", "this API root needs credentials");
		return;
	}
	if (sk_store_stmt_get(c->st, q, sizeof(q) - 1, &s, NULL)) {
		fail_db(c, NULL);
		return;
	}
	sqlite3_bind_int64(s, 1, c->root);
	sk_buf_puts(b, "{\"collections\":[");
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		coll_info ci;
		sk_access a;
		fill_coll(s, &ci);
		if (!sk_policy_access(c->st, &c->who, &ci.c, &a, NULL) &&
		    sk_policy_can_see_collection(&a)) {
			if (!first)
				sk_buf_putc(b, ',');
			put_collection(b, &ci, &a);
			first = false;
		}
		sk_collection_clear(&ci.c);
	}
	sk_store_stmt_put(c->st, s);
	if (step != SQLITE_DONE) {
		fail_db(c, NULL);
		return;
	}
	sk_buf_puts(b, "]}");
	c->resp->status = 200;
}

/* --- objects, manifest, object, versions ------------------------------------------- */

enum mode { M_OBJECTS, M_MANIFEST, M_OBJECT, M_VERSIONS };

typedef struct page {
	ctx *c;
	enum mode mode;
	size_t limit, n;
	bool more;
	int64_t first_da, last_da;
	sk_err rc;
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

/* Resolve the collection of the URL for a read or write; false after answering. */
static bool open_coll(ctx *c, const char *key, bool write, coll_info *ci, sk_access *a)
{
	sk_error e;
	sk_err rc = find_coll(c, key, 0, ci, &e);

	if (rc == SK_OK && (rc = sk_policy_access(c->st, &c->who, &ci->c, a, &e)))
		sk_collection_clear(&ci->c);
	if (rc && rc != SK_ENOTFOUND) {
		fail_db(c, &e);
		return false;
	}
	if (rc == SK_ENOTFOUND || !sk_policy_can_see_collection(a) || (write && !c->who.aid)) {
		if (rc == SK_OK)
			sk_collection_clear(&ci->c);
		if (!c->who.aid)
			fail(c, 401, "Authentication required",
			     "this collection needs credentials");
		else
			fail(c, 404, "Collection not found", "no such collection in this API root");
		return false;
	}
	if (write ? !a->can_write : !sk_policy_can_read(a)) {
		sk_collection_clear(&ci->c);
		fail(c, 403, "Forbidden",
		     write ? "this account may not add objects to this collection"
		           : "this account may not read this collection");
		return false;
	}
	return true;
}

static void get_objects(ctx *c, const char *ckey, enum mode mode, const char *oid)
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
	page pg = {.c = c, .mode = mode};
	const char *ids[1] = {oid};
	int64_t cursor = 0;

	if (!open_coll(c, ckey, false, &ci, &a))
		return;
	if (sk_taxii_filters_parse(c->req->params, c->req->nparams, allowed[mode], &f, &e)) {
		fail(c, 400, "Bad request", e.msg);
		goto out_coll;
	}
	if (f.next && sk_taxii_token_decode(c->t->key, f.next, ci.c.cid, f.hash, &cursor, &e)) {
		fail(c, 400, "Bad request", e.msg);
		goto out;
	}
	if (oid && !sk_stix_id_valid(oid, NULL)) {
		fail(c, 404, "Object not found", "no such object in this collection");
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
		sk_buf_printf(b, "{\"%s\":[", key[mode]);
		if (sk_store_query(c->st, &q, page_row, &pg, &e)) {
			fail_db(c, &e);
			goto out;
		}
	}
	if (pg.rc) {
		fail(c, 500, "Response too large", "lower the limit");
		goto out;
	}
	if (pg.n == 0 && (mode == M_OBJECT || mode == M_VERSIONS) && !f.next) {
		fail(c, 404, "Object not found", "no such object in this collection");
		goto out;
	}
	sk_buf_printf(b, "],\"more\":%s", pg.more ? "true" : "false");
	if (pg.more) {
		char tok[SK_TAXII_TOKEN_MAX];
		sk_taxii_token_encode(c->t->key, ci.c.cid, f.hash, pg.last_da, tok);
		sk_buf_printf(b, ",\"next\":\"%s\"", tok);
	}
	if (sk_buf_putc(b, '}')) {
		fail(c, 500, "Response too large", "lower the limit");
		goto out;
	}
	if (pg.n) {
		sk_ts_format_us(pg.first_da, r->date_first);
		sk_ts_format_us(pg.last_da, r->date_last);
	}
	r->status = 200;
out:
	sk_taxii_filters_free(&f);
out_coll:
	sk_collection_clear(&ci.c);
}

/* DELETE an object's (matching, visible) versions from the collection. */
static int collect_ver(void *ud, const sk_row *r)
{
	sk_buf *vers = ud;
	return sk_buf_append(vers, &r->ver, sizeof(r->ver)) != SK_OK;
}

static void delete_object(ctx *c, const char *ckey, const char *oid)
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

	if (!open_coll(c, ckey, false, &ci, &a))
		return;
	sk_buf_init(&vers, (size_t)1 << 24);
	if (!a.can_write) {
		fail(c, 403, "Forbidden", "this account may not delete from this collection");
		goto out_coll;
	}
	if (sk_taxii_filters_parse(c->req->params, c->req->nparams, SK_TF_VERSION | SK_TF_SPEC, &f,
	                           &e)) {
		fail(c, 400, "Bad request", e.msg);
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
		fail(c, 404, "Object not found", "no such object in this collection");
		goto out;
	}
	if (sk_store_begin(c->st, &e)) {
		fail_db(c, &e);
		goto out;
	}
	for (size_t i = 0; i < vers.len / sizeof(int64_t); i++) {
		sqlite3_stmt *s = NULL;
		int64_t v;
		memcpy(&v, vers.data + i * sizeof(int64_t), sizeof(v));
		if (sk_store_stmt_get(c->st, dq, sizeof(dq) - 1, &s, &e)) {
			sk_store_rollback(c->st);
			fail_db(c, &e);
			goto out;
		}
		sqlite3_bind_int64(s, 1, ci.c.cid);
		sqlite3_bind_int64(s, 2, v);
		int step = sqlite3_step(s);
		sk_store_stmt_put(c->st, s);
		if (step != SQLITE_DONE) {
			sk_store_rollback(c->st);
			fail_db(c, NULL);
			goto out;
		}
	}
	if (sk_store_commit(c->st, &e)) {
		fail_db(c, &e);
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

/* --- POST and status ---------------------------------------------------------------- */

typedef struct detail {
	int outcome; /* sk_import_outcome */
	char *id;
	char spec[4];
	char version[SK_TS_KEY_LEN + 1];
	char *message;
} detail;

typedef struct post_state {
	detail *d;
	size_t n, cap;
	bool oom;
} post_state;

static void on_object(void *ud, const sk_import_event *ev)
{
	post_state *ps = ud;
	detail *d;
	if (ps->oom)
		return;
	if (ps->n == ps->cap) {
		size_t nc = ps->cap ? ps->cap * 2 : 64;
		detail *nd = realloc(ps->d, nc * sizeof(*nd));
		if (!nd) {
			ps->oom = true;
			return;
		}
		ps->d = nd;
		ps->cap = nc;
	}
	d = &ps->d[ps->n++];
	memset(d, 0, sizeof(*d));
	d->outcome = (int)ev->outcome;
	d->id = strdup(ev->id && strlen(ev->id) < 300 ? ev->id : "");
	if (ev->spec)
		snprintf(d->spec, sizeof(d->spec), "%s", ev->spec);
	if (ev->version)
		snprintf(d->version, sizeof(d->version), "%s", ev->version);
	if (ev->message) {
		char m[900];
		snprintf(m, sizeof(m), "object %llu: %s", (unsigned long long)ev->index,
		         ev->message);
		d->message = strdup(m);
	}
	if (!d->id || (ev->message && !d->message))
		ps->oom = true;
}

static void post_state_free(post_state *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->d[i].id);
		free(ps->d[i].message);
	}
	free(ps->d);
}

/*
 * Status rows.  A status is inserted complete (synchronous POST) or pending
 * with every object counted as pending (background POST), and then finished
 * by status_finish() with the per-object details.
 */
static sk_err status_insert(sk_store *st, const char *sid, int64_t root, int64_t cid, int64_t aid,
                            int64_t total, int64_t pending, sk_error *err)
{
	static const char qs[] = "INSERT INTO statuses(sid, root, coll, aid, created, total, "
	                         "success, failure, pending) VALUES(?1,?2,?3,?4,?5,?6,0,0,?7)";
	static const char qp[] = "DELETE FROM statuses WHERE created<?1";
	sqlite3_stmt *s = NULL;
	int64_t now = sk_ts_now_us();
	sk_err rc;

	if ((rc = sk_store_stmt_get(st, qp, sizeof(qp) - 1, &s, err)))
		return rc;
	sqlite3_bind_int64(s, 1, now - STATUS_KEEP_US);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "status");
	sk_store_stmt_put(st, s);
	if (rc || (rc = sk_store_stmt_get(st, qs, sizeof(qs) - 1, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, sid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, root);
	sqlite3_bind_int64(s, 3, cid);
	sqlite3_bind_int64(s, 4, aid);
	sqlite3_bind_int64(s, 5, now);
	sqlite3_bind_int64(s, 6, total);
	sqlite3_bind_int64(s, 7, pending);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "status");
	sk_store_stmt_put(st, s);
	return rc;
}

/*
 * Record the outcome of ps for status sid: counts and details.  extra_failed
 * objects (the envelope's objects the import never reached, after a store
 * error) count as failures.
 */
static sk_err status_finish(sk_store *st, const char *sid, const post_state *ps,
                            int64_t extra_failed, sk_error *err)
{
	static const char qu[] = "UPDATE statuses SET success=?2, failure=?3, pending=0"
	                         " WHERE sid=?1";
	static const char qd[] = "INSERT INTO status_details(sid, seq, outcome, id, spec, "
	                         "version, message) VALUES(?1,?2,?3,?4,?5,?6,?7)";
	sqlite3_stmt *s = NULL;
	int64_t fails = extra_failed;
	sk_err rc;

	for (size_t i = 0; i < ps->n; i++)
		fails += ps->d[i].outcome == SK_IMPORT_REJECTED;
	if ((rc = sk_store_stmt_get(st, qu, sizeof(qu) - 1, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, sid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)ps->n + extra_failed - fails);
	sqlite3_bind_int64(s, 3, fails);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "status");
	sk_store_stmt_put(st, s);
	for (size_t i = 0; !rc && i < ps->n; i++) {
		const detail *d = &ps->d[i];
		if ((rc = sk_store_stmt_get(st, qd, sizeof(qd) - 1, &s, err)))
			break;
		sqlite3_bind_text(s, 1, sid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (int64_t)i);
		sqlite3_bind_int(s, 3, d->outcome);
		sqlite3_bind_text(s, 4, d->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, d->spec[0] ? d->spec : NULL, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, d->outcome == SK_IMPORT_REJECTED ? NULL : d->version, -1,
		                  SQLITE_STATIC);
		sqlite3_bind_text(s, 7, d->message, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sk_store_dberr(st, err, "status");
		sk_store_stmt_put(st, s);
	}
	return rc;
}

/* Insert and finish a status in one transaction (synchronous POST). */
static sk_err save_status(ctx *c, const char *sid, int64_t cid, const post_state *ps, sk_error *err)
{
	sk_err rc;

	if ((rc = sk_store_begin(c->st, err)))
		return rc;
	rc = status_insert(c->st, sid, c->root, cid, c->who.aid, (int64_t)ps->n, 0, err);
	if (!rc)
		rc = status_finish(c->st, sid, ps, 0, err);
	if (!rc)
		rc = sk_store_commit(c->st, err);
	else
		sk_store_rollback(c->st);
	return rc;
}

/*
 * Import body into collection cid, collecting per-object outcomes in ps.
 * Versions new to the store are recorded as received from rx (the poster's
 * partner identity), which the onward-sharing rule reads.
 */
static sk_err import_body(sk_store *st, int64_t cid, const char *body, size_t len, const char *rx,
                          post_state *ps, sk_error *err)
{
	sk_origin origin = {.rx = rx && *rx ? rx : NULL};
	sk_reader *rd = NULL;
	sk_import_stats stats;
	sk_import_opts o = {
	    .cid = cid,
	    .on_object = on_object,
	    .ud = ps,
	};
	sk_err rc;

	memset(&stats, 0, sizeof(stats));
	if ((rc = sk_reader_open_mem(body, len, "body", &rd, err)))
		return rc;
	sk_store_set_origin(st, origin.rx ? &origin : NULL);
	rc = sk_import_reader(st, rd, &o, &stats, err);
	sk_store_set_origin(st, NULL);
	sk_reader_close(rd);
	if (!rc && ps->oom)
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	return rc;
}

/* --- background writer ------------------------------------------------- */

static void run_job(sk_store *st, post_job *job, size_t nobj)
{
	post_state ps = {0};
	sk_error e;
	sk_err rc = st ? import_body(st, job->cid, job->body, job->len, job->rx, &ps, &e) : SK_EDB;

	if (rc)
		fprintf(stderr, "schakel: serve: background POST %s: %s\n", job->sid,
		        st ? e.msg : "no store connection");
	if (st) {
		int64_t missing = (int64_t)nobj > (int64_t)ps.n ? (int64_t)nobj - (int64_t)ps.n : 0;
		if (sk_store_begin(st, &e) == SK_OK) {
			if (status_finish(st, job->sid, &ps, missing, &e) ||
			    sk_store_commit(st, &e)) {
				sk_store_rollback(st);
				fprintf(stderr, "schakel: serve: status %s: %s\n", job->sid, e.msg);
			}
		}
	}
	post_state_free(&ps);
}

static void *writer_main(void *arg)
{
	sk_taxii *t = arg;
	sk_store *st = NULL;
	sk_error e;

	if (sk_store_open(t->db_path, 0, &st, &e)) {
		fprintf(stderr, "schakel: serve: writer: %s\n", e.msg);
		st = NULL;
	}
	pthread_mutex_lock(&t->qmu);
	for (;;) {
		while (!t->head && !t->stopping)
			pthread_cond_wait(&t->qcv, &t->qmu);
		post_job *job = t->head;
		if (!job)
			break; /* stopping and drained */
		t->head = job->next;
		if (!t->head)
			t->tail = NULL;
		pthread_mutex_unlock(&t->qmu);

		size_t nobj = 0;
		sk_taxii_envelope_check(job->body, job->len, &nobj, NULL);
		run_job(st, job, nobj);

		pthread_mutex_lock(&t->qmu);
		t->queued_bytes -= job->len;
		free(job->body);
		free(job);
	}
	pthread_mutex_unlock(&t->qmu);
	sk_store_close(st);
	return NULL;
}

/* Queue a job; false when the queue is full (or the writer cannot start). */
static bool writer_enqueue(sk_taxii *t, post_job *job)
{
	bool ok = false;

	pthread_mutex_lock(&t->qmu);
	if (t->stopping || t->queued_bytes + job->len > 4 * t->cfg.max_content_length)
		goto out;
	if (!t->writer_running) {
		if (pthread_create(&t->writer, NULL, writer_main, t) != 0)
			goto out;
		t->writer_running = true;
	}
	job->next = NULL;
	if (t->tail)
		t->tail->next = job;
	else
		t->head = job;
	t->tail = job;
	t->queued_bytes += job->len;
	pthread_cond_signal(&t->qcv);
	ok = true;
out:
	pthread_mutex_unlock(&t->qmu);
	return ok;
}

static void writer_stop(sk_taxii *t)
{
	bool join;

	pthread_mutex_lock(&t->qmu);
	t->stopping = true;
	join = t->writer_running;
	pthread_cond_broadcast(&t->qcv);
	pthread_mutex_unlock(&t->qmu);
	if (join)
		pthread_join(t->writer, NULL);
}

/*
 * Render status sid for the current account (others: 404).  Success details
 * say "already present" only when the account may see that stored version;
 * otherwise a duplicate looks exactly like a newly stored object.
 */
static void render_status(ctx *c, const char *sid, int http_status)
{
	static const char qs[] = "SELECT coll, aid, created, total, success, failure, pending"
	                         " FROM statuses WHERE sid=?1 AND root=?2";
	static const char qd[] =
	    "SELECT d.outcome, d.id, d.version, d.message, o.tlp, o.created_by, d.spec, o.rx"
	    " FROM status_details d LEFT JOIN objects o"
	    " ON o.id=d.id AND o.spec=d.spec AND o.version=d.version"
	    " WHERE d.sid=?1 ORDER BY d.seq";
	sk_buf *b = &c->resp->body;
	sqlite3_stmt *s = NULL;
	coll_info ci = {0};
	sk_access a;
	int64_t cid = 0, aid = 0, created = 0, total = 0, succ = 0, failc = 0, pend = 0;
	char ts[40];
	bool found = false;

	if (!sk_uuid_valid(sid, strlen(sid)) ||
	    sk_store_stmt_get(c->st, qs, sizeof(qs) - 1, &s, NULL)) {
		fail(c, 404, "Status not found", "no such status");
		return;
	}
	sqlite3_bind_text(s, 1, sid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, c->root);
	if (sqlite3_step(s) == SQLITE_ROW) {
		cid = sqlite3_column_int64(s, 0);
		aid = sqlite3_column_int64(s, 1);
		created = sqlite3_column_int64(s, 2);
		total = sqlite3_column_int64(s, 3);
		succ = sqlite3_column_int64(s, 4);
		failc = sqlite3_column_int64(s, 5);
		pend = sqlite3_column_int64(s, 6);
		found = true;
	}
	sk_store_stmt_put(c->st, s);
	if (!found || aid != c->who.aid || find_coll(c, NULL, cid, &ci, NULL) ||
	    sk_policy_access(c->st, &c->who, &ci.c, &a, NULL)) {
		sk_collection_clear(&ci.c);
		fail(c, 404, "Status not found", "no such status");
		return;
	}
	sk_ts_format_us(created, ts);
	sk_buf_reset(b);
	sk_buf_printf(b,
	              "{\"id\":\"%s\",\"status\":\"%s\",\"request_timestamp\":\"%s\","
	              "\"total_count\":%lld,\"success_count\":%lld,\"failure_count\":%lld,"
	              "\"pending_count\":%lld",
	              sid, pend ? "pending" : "complete", ts, (long long)total, (long long)succ,
	              (long long)failc, (long long)pend);
	for (int pass = 0; pass < 2; pass++) {
		bool first = true;
		int step;
		sk_buf_puts(b, pass == 0 ? ",\"successes\":[" : ",\"failures\":[");
		if (sk_store_stmt_get(c->st, qd, sizeof(qd) - 1, &s, NULL)) {
			sk_collection_clear(&ci.c);
			fail_db(c, NULL);
			return;
		}
		sqlite3_bind_text(s, 1, sid, -1, SQLITE_STATIC);
		while ((step = sqlite3_step(s)) == SQLITE_ROW) {
			int outcome = sqlite3_column_int(s, 0);
			const char *id = (const char *)sqlite3_column_text(s, 1);
			const char *vkey = (const char *)sqlite3_column_text(s, 2);
			const char *msg = (const char *)sqlite3_column_text(s, 3);
			char ver[40];
			if ((outcome == SK_IMPORT_REJECTED) != (pass == 1))
				continue;
			sk_buf_puts(b, first ? "{\"id\":" : ",{\"id\":");
			first = false;
			jstr(b, id ? id : "");
			if (pass == 0) {
				bool visible =
				    sqlite3_column_type(s, 4) != SQLITE_NULL &&
				    sk_policy_visible_rx(&a, (sk_tlp)sqlite3_column_int(s, 4),
				                         (const char *)sqlite3_column_text(s, 5),
				                         (const char *)sqlite3_column_text(s, 7));
				sk_taxii_version_str(vkey, created, ver);
				sk_buf_printf(b, ",\"version\":\"%s\"", ver);
				if (outcome == SK_IMPORT_DUPLICATE && visible)
					sk_buf_puts(b, ",\"message\":\"already present\"");
			} else if (msg) {
				sk_buf_puts(b, ",\"message\":");
				jstr(b, msg);
			}
			sk_buf_putc(b, '}');
		}
		sk_store_stmt_put(c->st, s);
		sk_buf_putc(b, ']');
	}
	sk_buf_puts(b, ",\"pendings\":[]}");
	sk_collection_clear(&ci.c);
	c->resp->status = http_status;
}

static void post_objects(ctx *c, const char *ckey)
{
	const sk_taxii_req *rq = c->req;
	post_state ps = {0};
	coll_info ci;
	sk_access a;
	sk_error e;
	size_t nobj = 0;
	char sid[SK_UUID_LEN + 1];

	if (!c->who.aid) {
		fail(c, 401, "Authentication required", "adding objects needs credentials");
		return;
	}
	if (rq->body_too_large) {
		fail(c, 413, "Request too large", "the body exceeds max_content_length");
		return;
	}
	if (!content_type_ok(rq->content_type)) {
		fail(c, 415, "Unsupported media type", "send Content-Type: " SK_TAXII_MEDIA_TYPE);
		return;
	}
	if (!open_coll(c, ckey, true, &ci, &a))
		return;
	if (sk_taxii_envelope_check(rq->body, rq->body_len, &nobj, &e)) {
		fail(c, 400, "Malformed envelope", e.msg);
		goto out;
	}
	sk_uuid_v4(sid);
	if (c->t->db_path && (nobj > SYNC_MAX_OBJECTS || rq->body_len > SYNC_MAX_BYTES)) {
		/* large: answer "pending" now, import on the background writer */
		post_job *job = calloc(1, sizeof(*job));
		if (job)
			job->body = malloc(rq->body_len ? rq->body_len : 1);
		if (!job || !job->body) {
			free(job);
			fail(c, 503, "Server busy", "no memory for this envelope; retry later");
			goto out;
		}
		memcpy(job->body, rq->body, rq->body_len);
		job->len = rq->body_len;
		job->cid = ci.c.cid;
		memcpy(job->sid, sid, sizeof(sid));
		snprintf(job->rx, sizeof(job->rx), "%s", c->who.identity);
		if (sk_store_begin(c->st, &e) ||
		    status_insert(c->st, sid, c->root, ci.c.cid, c->who.aid, (int64_t)nobj,
		                  (int64_t)nobj, &e) ||
		    sk_store_commit(c->st, &e)) {
			sk_store_rollback(c->st);
			free(job->body);
			free(job);
			fail_db(c, &e);
			goto out;
		}
		if (!writer_enqueue(c->t, job)) {
			free(job->body);
			free(job);
			/* not queued: finish its status as failed so it never stays pending */
			post_state none = {0};
			if (sk_store_begin(c->st, &e) == SK_OK &&
			    (status_finish(c->st, sid, &none, (int64_t)nobj, &e) ||
			     sk_store_commit(c->st, &e)))
				sk_store_rollback(c->st);
			fail(c, 503, "Server busy", "too many envelopes queued; retry later");
			goto out;
		}
		render_status(c, sid, 202);
		goto out;
	}
	{
		sk_err rc =
		    import_body(c->st, ci.c.cid, rq->body, rq->body_len, c->who.identity, &ps, &e);
		if (rc) {
			fprintf(stderr, "schakel: serve: POST: %s\n", e.msg);
			fail(c, rc == SK_EBUSY ? 503 : 500, "Objects not stored",
			     rc == SK_EBUSY ? "the store is busy; retry later"
			                    : "the store could not take this envelope");
			goto out;
		}
	}
	if (save_status(c, sid, ci.c.cid, &ps, &e)) {
		fail_db(c, &e);
		goto out;
	}
	render_status(c, sid, 202);
out:
	post_state_free(&ps);
	sk_collection_clear(&ci.c);
}

/* --- routing ------------------------------------------------------------------------ */

#define MAX_SEGS 8

static void method_not_allowed(ctx *c, const char *allow)
{
	fail(c, 405, "Method not allowed", allow);
	c->resp->allow = allow;
}

void sk_taxii_handle(sk_taxii *t, sk_store *st, const sk_taxii_req *req, sk_taxii_resp *resp)
{
	char path[2048], *seg[MAX_SEGS], *p, *save = NULL, *title = NULL, *desc = NULL;
	size_t nseg = 0;
	ctx c = {.t = t, .st = st, .req = req, .resp = resp};
	const char *m = req->method ? req->method : "";
	bool get = !strcmp(m, "GET") || !strcmp(m, "HEAD");
	sk_error e;

	memset(resp, 0, sizeof(*resp));
	sk_buf_init(&resp->body, (size_t)256 << 20);
	if (!req->path || strlen(req->path) >= sizeof(path) ||
	    !sk_utf8_valid(req->path, strlen(req->path), NULL)) {
		fail(&c, 404, "Not found", "no such resource");
		return;
	}
	snprintf(path, sizeof(path), "%s", req->path);
	/* strtok_r: several worker threads route requests at once */
	for (p = strtok_r(path, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (nseg == MAX_SEGS) {
			fail(&c, 404, "Not found", "no such resource");
			return;
		}
		seg[nseg++] = p;
	}
	if (!accept_ok(req->accept)) {
		fail(&c, 406, "Not acceptable", "this server answers " SK_TAXII_MEDIA_TYPE);
		return;
	}
	if (req->authorization) {
		if (sk_auth_header(st, t->cache, req->authorization, &c.who, &e)) {
			memset(&c.who, 0, sizeof(c.who));
			fail(&c, 401, "Authentication failed", "bad credentials");
			return;
		}
		snprintf(resp->account, sizeof(resp->account), "%s", c.who.account);
	}
	if (nseg == 0) {
		fail(&c, 404, "Not found", "discovery is at /taxii2/");
		return;
	}
	if (nseg == 1 && !strcmp(seg[0], "taxii2")) {
		if (!get)
			return method_not_allowed(&c, "GET, HEAD");
		get_discovery(&c);
		return;
	}
	if (!load_root(&c, seg[0], nseg == 1 ? &title : NULL, nseg == 1 ? &desc : NULL)) {
		fail(&c, 404, "Not found", "no such API root");
		return;
	}
	if (nseg == 1) {
		if (get)
			get_api_root(&c, title, desc);
		else
			method_not_allowed(&c, "GET, HEAD");
		free(title);
		free(desc);
		return;
	}
	if (nseg == 3 && !strcmp(seg[1], "status")) {
		if (!get)
			return method_not_allowed(&c, "GET, HEAD");
		if (!c.who.aid)
			return fail(&c, 401, "Authentication required",
			            "statuses need credentials");
		render_status(&c, seg[2], 200);
		return;
	}
	if (strcmp(seg[1], "collections") != 0) {
		fail(&c, 404, "Not found", "no such resource");
		return;
	}
	if (nseg == 2) {
		if (!get)
			return method_not_allowed(&c, "GET, HEAD");
		get_collections(&c);
		return;
	}
	if (nseg == 3) {
		coll_info ci;
		sk_access a;
		if (!get)
			return method_not_allowed(&c, "GET, HEAD");
		if (find_coll(&c, seg[2], 0, &ci, &e) == SK_OK) {
			if (!sk_policy_access(st, &c.who, &ci.c, &a, &e) &&
			    sk_policy_can_see_collection(&a)) {
				sk_buf_reset(&resp->body);
				put_collection(&resp->body, &ci, &a);
				resp->status = 200;
				sk_collection_clear(&ci.c);
				return;
			}
			sk_collection_clear(&ci.c);
		}
		if (!c.who.aid)
			fail(&c, 401, "Authentication required",
			     "this collection needs credentials");
		else
			fail(&c, 404, "Collection not found",
			     "no such collection in this API root");
		return;
	}
	if (nseg == 4 && !strcmp(seg[3], "objects")) {
		if (get)
			get_objects(&c, seg[2], M_OBJECTS, NULL);
		else if (!strcmp(m, "POST"))
			post_objects(&c, seg[2]);
		else
			method_not_allowed(&c, "GET, HEAD, POST");
		return;
	}
	if (nseg == 4 && !strcmp(seg[3], "manifest")) {
		if (!get)
			return method_not_allowed(&c, "GET, HEAD");
		get_objects(&c, seg[2], M_MANIFEST, NULL);
		return;
	}
	if (nseg == 5 && !strcmp(seg[3], "objects")) {
		if (get)
			get_objects(&c, seg[2], M_OBJECT, seg[4]);
		else if (!strcmp(m, "DELETE"))
			delete_object(&c, seg[2], seg[4]);
		else
			method_not_allowed(&c, "GET, HEAD, DELETE");
		return;
	}
	if (nseg == 6 && !strcmp(seg[3], "objects") && !strcmp(seg[5], "versions")) {
		if (!get)
			return method_not_allowed(&c, "GET, HEAD");
		get_objects(&c, seg[2], M_VERSIONS, seg[4]);
		return;
	}
	fail(&c, 404, "Not found", "no such resource");
}
