/*
 * taxii_collections.c - the TAXII 2.1 resources above the objects: the
 * discovery document, API roots and collections, and the lookup of the
 * collection an object URL names (by id or alias, with the account's access)
 * that every object endpoint starts from.
 */
#include "taxii_priv.h"

#include <stdio.h>
#include <string.h>

#include "schakel/policy.h"
#include "store/store_priv.h"

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

#define COLL_SQL                                                                                   \
	"SELECT cid, uuid, name, title, description, default_tlp, public,"                         \
	" (SELECT alias FROM collection_aliases WHERE coll=cid ORDER BY alias LIMIT 1),"           \
	" EXISTS (SELECT 1 FROM objects o INDEXED BY objects_spec20 JOIN collection_objects x"     \
	"  ON x.ver=o.ver AND x.coll=cid WHERE o.spec='2.0')"                                       \
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
	ci->has20 = sqlite3_column_int(s, 8) != 0;
}

/* Collection key (uuid or alias) within the current root; SK_ENOTFOUND if none. */
sk_err sk_taxii_find_coll(ctx *c, const char *key, int64_t cid, coll_info *ci, sk_error *err)
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

void sk_taxii_put_collection(sk_buf *b, const coll_info *ci, const sk_access *a)
{
	sk_buf_puts(b, "{\"id\":");
	sk_taxii_jstr(b, ci->c.uuid);
	sk_buf_puts(b, ",\"title\":");
	sk_taxii_jstr(b, ci->c.title ? ci->c.title : ci->c.name);
	if (ci->c.description) {
		sk_buf_puts(b, ",\"description\":");
		sk_taxii_jstr(b, ci->c.description);
	}
	if (ci->alias[0]) {
		sk_buf_puts(b, ",\"alias\":");
		sk_taxii_jstr(b, ci->alias);
	}
	sk_buf_printf(b,
	              ",\"can_read\":%s,\"can_write\":%s,\"media_types\":"
	              "[\"application/stix+json;version=2.1\"%s]}",
	              sk_policy_can_read(a) ? "true" : "false",
	              a->authenticated && a->can_write ? "true" : "false",
	              ci->has20 ? ",\"application/stix+json;version=2.0\"" : "");
}

/* Resolve the collection of the URL for a read or write; false after answering. */
bool sk_taxii_open_coll(ctx *c, const char *key, bool write, coll_info *ci, sk_access *a)
{
	sk_error e;
	sk_err rc = sk_taxii_find_coll(c, key, 0, ci, &e);

	if (rc == SK_OK && (rc = sk_policy_access(c->st, &c->who, &ci->c, a, &e)))
		sk_collection_clear(&ci->c);
	if (rc && rc != SK_ENOTFOUND) {
		sk_taxii_fail_db(c, &e);
		return false;
	}
	if (rc == SK_ENOTFOUND || !sk_policy_can_see_collection(a) || (write && !c->who.aid)) {
		if (rc == SK_OK)
			sk_collection_clear(&ci->c);
		if (!c->who.aid)
			sk_taxii_fail(c, 401, "Authentication required",
			              "this collection needs credentials");
		else
			sk_taxii_fail(c, 404, "Collection not found",
			              "no such collection in this API root");
		return false;
	}
	if (write ? !a->can_write : !sk_policy_can_read(a)) {
		sk_collection_clear(&ci->c);
		sk_taxii_fail(c, 403, "Forbidden",
		              write ? "this account may not add objects to this collection"
		                    : "this account may not read this collection");
		return false;
	}
	return true;
}

/* --- discovery, api root, collections ------------------------------------------------ */

/* A discovery setting (`schakel config set taxii.NAME`), malloc'd, or NULL. */
static char *setting(ctx *c, const char *name)
{
	static const char q[] = "SELECT value FROM meta WHERE key='config.taxii.'||?1";
	sqlite3_stmt *s = NULL;
	char *v = NULL;
	if (sk_store_stmt_get(c->st, q, sizeof(q) - 1, &s, NULL))
		return NULL;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		v = strdup((const char *)sqlite3_column_text(s, 0));
	sk_store_stmt_put(c->st, s);
	return v;
}

void sk_taxii_get_discovery(ctx *c)
{
	sk_buf *b = &c->resp->body;
	sqlite3_stmt *s = NULL;
	/* enabled roots, the configured default first */
	static const char q[] =
	    "SELECT name FROM api_roots r WHERE NOT EXISTS (SELECT 1 FROM meta"
	    " WHERE key='config.taxii.root_disabled.'||r.rid)"
	    " ORDER BY name IS NOT (SELECT value FROM meta WHERE key='config.taxii.default_root'),"
	    " rid";
	char base[300];
	bool first = true;
	char *title, *desc, *contact;

	if (!c->who.aid && !any_public(c, 0)) {
		sk_taxii_fail(c, 401, "Authentication required", "this server needs credentials");
		return;
	}
	base_url(c, base, sizeof(base));
	if (sk_store_stmt_get(c->st, q, sizeof(q) - 1, &s, NULL)) {
		sk_taxii_fail_db(c, NULL);
		return;
	}
	/* the configured title (cfg.title) over the node's setting over "schakel" */
	title = c->t->cfg.title ? NULL : setting(c, "title");
	desc = setting(c, "description");
	contact = setting(c, "contact");
	sk_buf_puts(b, "{\"title\":");
	sk_taxii_jstr(b, c->t->cfg.title ? c->t->cfg.title : title ? title : "schakel");
	sk_buf_puts(b, ",\"description\":");
	sk_taxii_jstr(b, desc ? desc : "schakel threat-intelligence node (TAXII 2.1)");
	if (contact) {
		sk_buf_puts(b, ",\"contact\":");
		sk_taxii_jstr(b, contact);
	}
	free(title);
	free(desc);
	free(contact);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);
		if (first) {
			sk_buf_puts(b, ",\"default\":");
			sk_buf_printf(b, "\"%s/%s/\",\"api_roots\":[", base, name);
		}
		sk_buf_printf(b, "%s\"%s/%s/\"", first ? "" : ",", base, name);
		first = false;
	}
	sk_store_stmt_put(c->st, s);
	/* no root: the list is omitted (3.7) */
	sk_buf_puts(b, first ? "}" : "]}");
	c->resp->status = 200;
}

void sk_taxii_get_api_root(ctx *c, const char *title, const char *desc)
{
	sk_buf *b = &c->resp->body;
	if (!c->who.aid && !any_public(c, c->root)) {
		sk_taxii_fail(c, 401, "Authentication required", "this API root needs credentials");
		return;
	}
	sk_buf_puts(b, "{\"title\":");
	sk_taxii_jstr(b, title ? title : c->root_name);
	if (desc) {
		sk_buf_puts(b, ",\"description\":");
		sk_taxii_jstr(b, desc);
	}
	sk_buf_printf(b, ",\"versions\":[\"" SK_TAXII_MEDIA_TYPE "\"],\"max_content_length\":%zu}",
	              c->t->cfg.max_content_length);
	c->resp->status = 200;
}

void sk_taxii_get_collections(ctx *c)
{
	static const char q[] = COLL_SQL " WHERE root=?1 ORDER BY cid";
	sk_buf *b = &c->resp->body;
	sqlite3_stmt *s = NULL;
	bool first = true;
	int step;

	if (!c->who.aid && !any_public(c, c->root)) {
		sk_taxii_fail(c, 401, "Authentication required", "this API root needs credentials");
		return;
	}
	if (sk_store_stmt_get(c->st, q, sizeof(q) - 1, &s, NULL)) {
		sk_taxii_fail_db(c, NULL);
		return;
	}
	sqlite3_bind_int64(s, 1, c->root);
	sk_buf_putc(b, '{');
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		coll_info ci;
		sk_access a;
		fill_coll(s, &ci);
		if (!sk_policy_access(c->st, &c->who, &ci.c, &a, NULL) &&
		    sk_policy_can_see_collection(&a)) {
			sk_buf_puts(b, first ? "\"collections\":[" : ",");
			sk_taxii_put_collection(b, &ci, &a);
			first = false;
		}
		sk_collection_clear(&ci.c);
	}
	sk_store_stmt_put(c->st, s);
	if (step != SQLITE_DONE) {
		sk_taxii_fail_db(c, NULL);
		return;
	}
	/* none visible: the key is omitted and the response is {} (5.1.1) */
	sk_buf_puts(b, first ? "}" : "]}");
	c->resp->status = 200;
}
