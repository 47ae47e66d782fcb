/*
 * taxii.c - the TAXII 2.1 API: server state, routing, content negotiation,
 * authentication and error responses.  The resources answer in
 * taxii_collections.c (discovery, API roots, collections), taxii_objects.c
 * (objects, manifests, versions, DELETE) and taxii_post.c (POST, statuses
 * and the background writer); what they share is in taxii_priv.h.  Query
 * strings, filters, next tokens and envelope checks are in taxii_query.c.
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

#include "schakel/invite.h"
#include "schakel/policy.h"
#include "store/store_priv.h"
#include "core/utf8.h"
#include "taxii_priv.h"

#define DEFAULT_PAGE        1000
#define DEFAULT_MAX_CONTENT ((size_t)100 << 20)

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
	sk_auth_cache_set_limits(t->cache, &t->cfg.auth);
	/* a server (with a background writer) finishes what a crash left pending */
	if (t->db_path && (rc = sk_taxii_recover_statuses(st, err))) {
		sk_taxii_free(t);
		return rc;
	}
	*out = t;
	return SK_OK;
}

void sk_taxii_free(sk_taxii *t)
{
	if (!t)
		return;
	sk_taxii_writer_stop(t); /* finishes the queued imports first */
	pthread_cond_destroy(&t->qcv);
	pthread_mutex_destroy(&t->qmu);
	free(t->db_path);
	sk_auth_cache_free(t->cache);
	sodium_memzero(t->key, sizeof(t->key));
	free(t);
}

sk_auth_cache *sk_taxii_auth_cache(const sk_taxii *t)
{
	return t->cache;
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

/* --- error responses, negotiation ---------------------------------------------------- */

void sk_taxii_jstr(sk_buf *b, const char *s)
{
	if (s)
		sk_buf_put_json_string(b, s, strlen(s));
	else
		sk_buf_puts(b, "null");
}

void sk_taxii_fail(ctx *c, int status, const char *title, const char *desc)
{
	sk_buf *b = &c->resp->body;
	sk_buf_reset(b);
	c->resp->status = status;
	c->resp->date_first[0] = c->resp->date_last[0] = '\0';
	sk_buf_puts(b, "{\"title\":");
	sk_taxii_jstr(b, title);
	if (desc && *desc) {
		sk_buf_puts(b, ",\"description\":");
		sk_taxii_jstr(b, desc);
	}
	sk_buf_printf(b, ",\"http_status\":\"%d\"}", status);
	if (status == 401)
		c->resp->www_authenticate = true;
}

void sk_taxii_fail_db(ctx *c, const sk_error *e)
{
	/* details go to the server log only: they may name internals */
	if (e && e->msg[0])
		fprintf(stderr, "schakel: serve: %s\n", e->msg);
	sk_taxii_fail(c, 500, "Internal server error", "the store could not answer this request");
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

bool sk_taxii_content_type_ok(const char *h)
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

/* --- routing ------------------------------------------------------------------------ */

#define MAX_SEGS 8

static bool load_root(ctx *c, const char *name, char **title, char **desc)
{
	/* a root disabled by `config set taxii.root.NAME.enabled false` does not exist */
	static const char q[] = "SELECT rid, title, description FROM api_roots WHERE name=?1"
	                        " AND NOT EXISTS (SELECT 1 FROM meta WHERE"
	                        " key='config.taxii.root_disabled.'||api_roots.rid)";
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

static void method_not_allowed(ctx *c, const char *allow)
{
	sk_taxii_fail(c, 405, "Method not allowed", allow);
	c->resp->allow = allow;
}

/*
 * Authenticate c->req's Authorization header into c->who, under the login
 * limits; false with the error response in place if that fails.
 */
static bool authenticate(ctx *c)
{
	unsigned retry = 0;
	sk_error e;
	sk_err rc = sk_auth_request(c->st, c->t->cache, c->req->authorization, c->req->remote,
				    &c->who, &retry, &e);

	if (rc == SK_OK) {
		snprintf(c->resp->account, sizeof(c->resp->account), "%s", c->who.account);
		return true;
	}
	memset(&c->who, 0, sizeof(c->who));
	if (rc == SK_ELIMIT) {
		sk_taxii_fail(c, 429, "Too many requests", "too many wrong passwords; try later");
		c->resp->retry_after = retry ? retry : 1;
	} else if (rc == SK_EBUSY) {
		sk_taxii_fail(c, 503, "Service unavailable", "too many logins at once; try later");
		c->resp->retry_after = retry ? retry : 1;
	} else if (rc == SK_EAUTH || rc == SK_EINVAL) {
		sk_taxii_fail(c, 401, "Authentication failed", "bad credentials");
	} else {
		sk_taxii_fail_db(c, &e);
	}
	return false;
}

bool sk_taxii_metrics_allowed(sk_taxii *t, sk_store *st, const sk_taxii_req *req,
			      sk_taxii_resp *resp)
{
	ctx c = {.t = t, .st = st, .req = req, .resp = resp};

	memset(resp, 0, sizeof(*resp));
	sk_buf_init(&resp->body, 4096);
	if (!req->authorization) {
		sk_taxii_fail(&c, 401, "Authentication required", "/metrics needs credentials");
		return false;
	}
	if (!authenticate(&c))
		return false;
	if (c.who.role == SK_ROLE_METRICS || c.who.role == SK_ROLE_ADMIN)
		return true;
	sk_taxii_fail(&c, 403, "Forbidden", "/metrics needs an account with role metrics or admin");
	return false;
}

/*
 * What every request goes through first: the path split into segments (in
 * path, MAX_SEGS), content negotiation and authentication (or the principal
 * the transport already has from sk_taxii_preauth).  resp is initialised
 * here; false after answering with an error.
 */
static bool begin(ctx *c, char *path, size_t n, char **seg, size_t *nseg)
{
	const sk_taxii_req *req = c->req;
	sk_taxii_resp *resp = c->resp;
	char *p, *save = NULL;

	memset(resp, 0, sizeof(*resp));
	sk_buf_init(&resp->body, (size_t)256 << 20);
	*nseg = 0;
	if (!req->path || strlen(req->path) >= n ||
	    !sk_utf8_valid(req->path, strlen(req->path), NULL)) {
		sk_taxii_fail(c, 404, "Not found", "no such resource");
		return false;
	}
	snprintf(path, n, "%s", req->path);
	/* strtok_r: several worker threads route requests at once */
	for (p = strtok_r(path, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (*nseg == MAX_SEGS) {
			sk_taxii_fail(c, 404, "Not found", "no such resource");
			return false;
		}
		seg[(*nseg)++] = p;
	}
	if (!accept_ok(req->accept)) {
		sk_taxii_fail(c, 406, "Not acceptable", "this server answers " SK_TAXII_MEDIA_TYPE);
		return false;
	}
	if (req->who) {
		c->who = *req->who;
		if (c->who.aid)
			snprintf(resp->account, sizeof(resp->account), "%s", c->who.account);
	} else if (req->authorization && !authenticate(c)) {
		return false;
	}
	if (c->who.aid && c->who.role == SK_ROLE_METRICS) { /* reads /metrics and nothing else */
		sk_taxii_fail(c, 403, "Forbidden", "this account may read /metrics only");
		return false;
	}
	return true;
}

/*
 * POST /taxii2/enrol: a new node redeems its invitation (invite.c); the
 * Authorization header carries the invitation, not an account.
 */
static void enrol(ctx *c)
{
	sk_taxii_resp *resp = c->resp;
	json_t *o = NULL;
	char *text;
	int status;
	sk_error e;

	memset(resp, 0, sizeof(*resp));
	sk_buf_init(&resp->body, SK_INVITE_MAX_BODY);
	if (!c->req->method || strcmp(c->req->method, "POST") != 0) {
		method_not_allowed(c, "POST");
		return;
	}
	if (c->req->body_too_large || c->req->body_len > SK_INVITE_MAX_BODY) {
		sk_taxii_fail(c, 413, "Request entity too large",
			      "an enrolment is at most 16384 bytes");
		return;
	}
	if (sk_invite_redeem(c->st, c->req->authorization, c->req->body, c->req->body_len, &o,
			     &status, &e)) {
		sk_taxii_fail(c, status,
			      status == 401   ? "Invitation refused"
			      : status == 409 ? "Conflict"
			      : status >= 500 ? "Server error"
					      : "Bad enrolment",
			      e.msg);
		return;
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text) {
		sk_taxii_fail(c, 500, "Server error", "out of memory");
		return;
	}
	sk_buf_puts(&resp->body, text);
	sodium_memzero(text, strlen(text)); /* the new token */
	free(text);
	resp->status = 200;
}

bool sk_taxii_preauth(sk_taxii *t, sk_store *st, const sk_taxii_req *req, sk_principal *who,
                      sk_taxii_resp *resp)
{
	char path[2048], *seg[MAX_SEGS];
	size_t nseg = 0;
	ctx c = {.t = t, .st = st, .req = req, .resp = resp};
	coll_info ci;
	sk_access a;

	memset(who, 0, sizeof(*who));
	if (req->path && !strcmp(req->path, SK_INVITE_PATH) && req->method &&
	    !strcmp(req->method, "POST")) {
		/* the body is read only for the holder of an invitation's secret */
		if (sk_invite_usable(st, req->authorization)) {
			memset(resp, 0, sizeof(*resp));
			return true;
		}
		memset(resp, 0, sizeof(*resp));
		sk_buf_init(&resp->body, 4096);
		sk_taxii_fail(&c, 401, "Invitation refused", "no such invitation");
		return false;
	}
	if (!req->method || strcmp(req->method, "POST") != 0) {
		/* no resource reads the body of another method: answer as if empty */
		sk_taxii_req r = *req;
		r.body = "";
		r.body_len = 0;
		r.body_too_large = false;
		sk_taxii_handle(t, st, &r, resp);
		return false;
	}
	if (!begin(&c, path, sizeof(path), seg, &nseg))
		return false;
	if (nseg != 4 || strcmp(seg[1], "collections") != 0 || strcmp(seg[3], "objects") != 0) {
		/* not a POST of objects: 404 or 405, decided without the body */
		sk_taxii_req r = *req;
		r.who = &c.who;
		r.body = "";
		r.body_len = 0;
		r.body_too_large = false;
		sk_taxii_resp_free(resp);
		sk_taxii_handle(t, st, &r, resp);
		return false;
	}
	if (!load_root(&c, seg[0], NULL, NULL)) {
		sk_taxii_fail(&c, 404, "Not found", "no such API root");
		return false;
	}
	if (!sk_taxii_post_allowed(&c, seg[2], &ci, &a))
		return false;
	sk_collection_clear(&ci.c);
	*who = c.who;
	sk_taxii_resp_free(resp);
	memset(resp, 0, sizeof(*resp));
	return true;
}

void sk_taxii_handle(sk_taxii *t, sk_store *st, const sk_taxii_req *req, sk_taxii_resp *resp)
{
	char path[2048], *seg[MAX_SEGS], *title = NULL, *desc = NULL;
	size_t nseg = 0;
	ctx c = {.t = t, .st = st, .req = req, .resp = resp};
	const char *m = req->method ? req->method : "";
	bool get = !strcmp(m, "GET") || !strcmp(m, "HEAD");
	sk_error e;

	if (req->path && !strcmp(req->path, SK_INVITE_PATH)) {
		enrol(&c);
		return;
	}
	if (!begin(&c, path, sizeof(path), seg, &nseg))
		return;
	if (nseg == 0) {
		sk_taxii_fail(&c, 404, "Not found", "discovery is at /taxii2/");
		return;
	}
	if (nseg == 1 && !strcmp(seg[0], "taxii2")) {
		if (!get)
			return method_not_allowed(&c, "GET, HEAD");
		sk_taxii_get_discovery(&c);
		return;
	}
	if (!load_root(&c, seg[0], nseg == 1 ? &title : NULL, nseg == 1 ? &desc : NULL)) {
		sk_taxii_fail(&c, 404, "Not found", "no such API root");
		return;
	}
	if (nseg == 1) {
		if (get)
			sk_taxii_get_api_root(&c, title, desc);
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
			return sk_taxii_fail(&c, 401, "Authentication required",
			                     "statuses need credentials");
		sk_taxii_render_status(&c, seg[2], 200);
		return;
	}
	if (strcmp(seg[1], "collections") != 0) {
		sk_taxii_fail(&c, 404, "Not found", "no such resource");
		return;
	}
	if (nseg == 2) {
		if (!get)
			return method_not_allowed(&c, "GET, HEAD");
		sk_taxii_get_collections(&c);
		return;
	}
	if (nseg == 3) {
		coll_info ci;
		sk_access a;
		if (!get)
			return method_not_allowed(&c, "GET, HEAD");
		if (sk_taxii_find_coll(&c, seg[2], 0, &ci, &e) == SK_OK) {
			if (!sk_policy_access(st, &c.who, &ci.c, &a, &e) &&
			    sk_policy_can_see_collection(&a)) {
				sk_buf_reset(&resp->body);
				sk_taxii_put_collection(&resp->body, &ci, &a);
				resp->status = 200;
				sk_collection_clear(&ci.c);
				return;
			}
			sk_collection_clear(&ci.c);
		}
		if (!c.who.aid)
			sk_taxii_fail(&c, 401, "Authentication required",
			              "this collection needs credentials");
		else
			sk_taxii_fail(&c, 404, "Collection not found",
			              "no such collection in this API root");
		return;
	}
	if (nseg == 4 && !strcmp(seg[3], "objects")) {
		if (get)
			sk_taxii_get_objects(&c, seg[2], M_OBJECTS, NULL);
		else if (!strcmp(m, "POST"))
			sk_taxii_post_objects(&c, seg[2]);
		else
			method_not_allowed(&c, "GET, HEAD, POST");
		return;
	}
	if (nseg == 4 && !strcmp(seg[3], "manifest")) {
		if (!get)
			return method_not_allowed(&c, "GET, HEAD");
		sk_taxii_get_objects(&c, seg[2], M_MANIFEST, NULL);
		return;
	}
	if (nseg == 5 && !strcmp(seg[3], "objects")) {
		if (get)
			sk_taxii_get_objects(&c, seg[2], M_OBJECT, seg[4]);
		else if (!strcmp(m, "DELETE"))
			sk_taxii_delete_object(&c, seg[2], seg[4]);
		else
			method_not_allowed(&c, "GET, HEAD, DELETE");
		return;
	}
	if (nseg == 6 && !strcmp(seg[3], "objects") && !strcmp(seg[5], "versions")) {
		if (!get)
			return method_not_allowed(&c, "GET, HEAD");
		sk_taxii_get_objects(&c, seg[2], M_VERSIONS, seg[4]);
		return;
	}
	sk_taxii_fail(&c, 404, "Not found", "no such resource");
}
