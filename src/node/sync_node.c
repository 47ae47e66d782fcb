/*
 * sync_node.c - the node side of federation: settings, the identity
 * sightings are made under (the node's own, or an anonymous one that reveals
 * only sectors and country: one per node, or a fresh one per sighting), and
 * recording sightings made here.
 */
#include "schakel/node.h"
#include "schakel/decay.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/audit.h"
#include "schakel/stix.h"
#include "schakel/timestamp.h"
#include "schakel/tlp.h"
#include "schakel/uuid.h"
#include "store/store_priv.h"

static const char *const known_settings[] = {
    "sightings.anonymous", "sync.max_pages",         "sync.max_seconds",
    "audit.enabled",       "audit.checkpoint_every", "audit.retention_days",
    "taxii.title",         "taxii.description",      "taxii.contact",
    "taxii.default_root",  "cooperation.share",      NULL};

/* What each setting is when the database does not say (`config show`). */
static const char *const setting_defaults[][2] = {
    {"sightings.anonymous", "false"},
    {"sync.max_pages", "1000"},
    {"sync.max_seconds", "300"},
    {"audit.enabled", "true"},
    {"audit.checkpoint_every", "1000"},
    {"audit.retention_days", "365"},
    {"taxii.title", "schakel"},
    {"taxii.description", "schakel threat-intelligence node (TAXII 2.1)"},
    {"taxii.contact", ""},
    {"taxii.default_root", "(the first API root)"},
    {"cooperation.share", "false"},
};

static sk_err meta_get(sk_store *st, const char *key, char **val, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_ENOTFOUND;
	*val = NULL;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), "SELECT value FROM meta WHERE key=?1", -1, &s,
			       NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "meta");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*val = strdup((const char *)sqlite3_column_text(s, 0));
		rc = *val ? SK_OK : sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	sqlite3_finalize(s);
	if (rc == SK_ENOTFOUND)
		sk_error_set(err, SK_ENOTFOUND, "%s is not set", key);
	return rc;
}

static sk_err meta_set(sk_store *st, const char *key, const char *val, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	if (sqlite3_prepare_v2(sk_store_sqlite(st),
			       "INSERT OR REPLACE INTO meta(key,value) VALUES(?1,?2)", -1, &s,
			       NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "meta");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, val, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "meta");
	sqlite3_finalize(s);
	return rc;
}

static bool known(const char *name)
{
	for (int i = 0; known_settings[i]; i++)
		if (!strcmp(known_settings[i], name))
			return true;
	return false;
}

/* --- TAXII API roots: taxii.root.NAME.{title,description,name,enabled} ----------------- */

static bool root_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || !strcmp(s, "taxii2") || !strcmp(s, "ui") || !strcmp(s, "metrics"))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return false;
	return true;
}

/* Split "taxii.root.NAME.FIELD"; false if name is not of that form. */
static bool root_setting(const char *name, char root[65], const char **field)
{
	const char *p, *dot;
	if (strncmp(name, "taxii.root.", 11))
		return false;
	p = name + 11;
	if (!(dot = strrchr(p, '.')) || dot == p || (size_t)(dot - p) > 64)
		return false;
	memcpy(root, p, (size_t)(dot - p));
	root[dot - p] = '\0';
	*field = dot + 1;
	return !strcmp(*field, "title") || !strcmp(*field, "description") ||
	       !strcmp(*field, "name") || !strcmp(*field, "enabled");
}

static sk_err root_rid(sk_store *st, const char *root, int64_t *rid, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), "SELECT rid FROM api_roots WHERE name=?1", -1,
			       &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "api root");
	sqlite3_bind_text(s, 1, root, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		*rid = sqlite3_column_int64(s, 0);
	else
		rc = sk_error_set(err, SK_ENOTFOUND, "no API root named '%s'", root);
	sqlite3_finalize(s);
	return rc;
}

static sk_err exec_bound(sk_store *st, const char *sql, const char *a, const char *b,
			 sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), sql, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "api root");
	sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "api root");
	sqlite3_finalize(s);
	return rc;
}

static sk_err root_set(sk_store *st, const char *root, const char *field, const char *value,
		       sk_error *err)
{
	char key[96];
	int64_t rid = 0;
	sk_err rc;

	if (!strcmp(field, "enabled") && strcmp(value, "true") && strcmp(value, "false"))
		return sk_error_set(err, SK_EINVAL, "taxii.root.%s.enabled: true or false", root);
	if (!strcmp(field, "name") && !root_name_ok(value))
		return sk_error_set(err, SK_EINVAL,
		                    "taxii.root.%s.name: 1 to 64 letters, digits, '-' or '_' "
		                    "(not taxii2, ui or metrics)",
		                    root);
	if ((rc = sk_store_begin(st, err)))
		return rc;
	if ((rc = root_rid(st, root, &rid, err)))
		goto out;
	snprintf(key, sizeof(key), "config.taxii.root_disabled.%lld", (long long)rid);
	if (!strcmp(field, "title"))
		rc = exec_bound(st, "UPDATE api_roots SET title=?2 WHERE name=?1", root, value, err);
	else if (!strcmp(field, "description"))
		rc = exec_bound(st, "UPDATE api_roots SET description=?2 WHERE name=?1", root, value,
		                err);
	else if (!strcmp(field, "enabled") && !strcmp(value, "false"))
		rc = meta_set(st, key, "true", err);
	else if (!strcmp(field, "enabled"))
		rc = exec_bound(st, "DELETE FROM meta WHERE key=?1", key, NULL, err);
	else {
		int64_t other;
		sk_error e2;
		if (strcmp(root, value) && !root_rid(st, value, &other, &e2)) {
			rc = sk_error_set(err, SK_EEXIST, "an API root named '%s' exists", value);
			goto out;
		}
		rc = exec_bound(st, "UPDATE api_roots SET name=?2 WHERE name=?1", root, value, err);
		if (!rc)
			rc = exec_bound(st,
			                "UPDATE meta SET value=?2 WHERE key='config.taxii.default_root'"
			                " AND value=?1",
			                root, value, err);
	}
out:
	if (!rc)
		return sk_store_commit(st, err);
	sk_store_rollback(st);
	return rc;
}

static sk_err root_get(sk_store *st, const char *root, const char *field, char **value,
		       sk_error *err)
{
	char sql[160];
	int64_t rid = 0;
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	*value = NULL;
	if (root_rid(st, root, &rid, err))
		return sk_error_set(err, SK_EINVAL, "no API root named '%s'", root);
	if (!strcmp(field, "enabled"))
		snprintf(sql, sizeof(sql),
		         "SELECT CASE WHEN EXISTS (SELECT 1 FROM meta WHERE"
		         " key='config.taxii.root_disabled.%lld') THEN 'false' ELSE 'true' END",
		         (long long)rid);
	else
		snprintf(sql, sizeof(sql), "SELECT %s FROM api_roots WHERE rid=%lld",
		         !strcmp(field, "title") ? "title"
		         : !strcmp(field, "description") ? "description"
		                                          : "name",
		         (long long)rid);
	if (sqlite3_prepare_v2(sk_store_sqlite(st), sql, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "api root");
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		*value = strdup((const char *)sqlite3_column_text(s, 0));
	else
		rc = sk_error_set(err, SK_ENOTFOUND, "taxii.root.%s.%s is not set", root, field);
	sqlite3_finalize(s);
	if (!rc && !*value)
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	return rc;
}

sk_err sk_sync_config_set(sk_store *st, const char *name, const char *value, sk_error *err)
{
	char key[128], root[65];
	const char *field;
	sk_err rc;
	if (root_setting(name, root, &field))
		return root_set(st, root, field, value, err);
	if (!strncmp(name, "decay.", 6)) /* scores and decay (decay.h): rescored at once */
		return sk_decay_config_set(st, name, value, err);
	if (!known(name))
		return sk_error_set(err, SK_EINVAL,
		                    "unknown setting '%s' (sightings.anonymous, sync.max_pages, "
		                    "sync.max_seconds, audit.enabled, audit.checkpoint_every, "
		                    "audit.retention_days, taxii.title, taxii.description, "
		                    "taxii.contact, taxii.default_root, cooperation.share, "
		                    "taxii.root.NAME.title|description|name|enabled)",
		                    name);
	if (strlen(value) > 1024)
		return sk_error_set(err, SK_EINVAL, "%s: at most 1024 bytes", name);
	if (!strcmp(name, "taxii.default_root")) {
		int64_t rid;
		if ((rc = root_rid(st, value, &rid, err)))
			return rc;
	}
	if (!strcmp(name, "sightings.anonymous") && strcmp(value, "true") &&
	    strcmp(value, "false") && strcmp(value, "per-sighting"))
		return sk_error_set(err, SK_EINVAL,
		                    "sightings.anonymous: true, per-sighting or false");
	if ((!strcmp(name, "audit.enabled") || !strcmp(name, "cooperation.share")) &&
	    strcmp(value, "true") && strcmp(value, "false"))
		return sk_error_set(err, SK_EINVAL, "%s: true or false", name);
	if (!strncmp(name, "sync.", 5) || !strcmp(name, "audit.checkpoint_every") ||
	    !strcmp(name, "audit.retention_days")) {
		char *end;
		long max = !strcmp(name, "sync.max_pages") || !strcmp(name, "audit.checkpoint_every")
		               ? 1000000
		           : !strcmp(name, "audit.retention_days") ? 36500
		                                                    : 86400;
		long n = strtol(value, &end, 10);
		if (*end || end == value || n < 1 || n > max)
			return sk_error_set(err, SK_EINVAL, "%s: a number from 1 to %ld", name,
			                    max);
	}
	snprintf(key, sizeof(key), "config.%s", name);
	if ((rc = sk_store_begin(st, err)))
		return rc;
	rc = meta_set(st, key, value, err);
	if (!rc && (!strncmp(name, "audit.", 6) || !strcmp(name, "cooperation.share"))) {
		/*
		 * changes of the log's own settings are logged, turning it off
		 * included; so is consent to publish cooperation summaries
		 */
		char detail[256];
		sk_audit_entry e = {.action = "config.set", .subject = name, .detail = detail,
		                    .force = true};
		snprintf(detail, sizeof(detail), "{\"value\":\"%s\"}", value);
		rc = sk_audit_append(st, &e, err);
	}
	if (!rc)
		return sk_store_commit(st, err);
	sk_store_rollback(st);
	return rc;
}

sk_err sk_sync_config_get(sk_store *st, const char *name, char **value, sk_error *err)
{
	char key[128], root[65];
	const char *field;
	if (root_setting(name, root, &field))
		return root_get(st, root, field, value, err);
	if (!strncmp(name, "decay.", 6))
		return sk_decay_config_get(st, name, value, err);
	if (!known(name))
		return sk_error_set(err, SK_EINVAL, "unknown setting '%s'", name);
	snprintf(key, sizeof(key), "config.%s", name);
	return meta_get(st, key, value, err);
}

/*
 * A new anonymous identity: "anonymous" with the node's sectors, and a
 * location with its country (if any), located-at.  Fresh ids every time
 * (nothing links two of them but the sectors and country they share).
 * iid receives the identity's id.  Inside a transaction.
 */
static sk_err new_anon_identity(sk_store *st, char iid[64], sk_error *err)
{
	char *node = NULL;
	json_t *src = NULL, *ident = NULL;
	sqlite3_stmt *s = NULL;
	char uuid[SK_UUID_LEN + 1], ts[SK_TS_STR_MAX];
	char *country = NULL;
	sk_err rc;

	if ((rc = sk_store_node_id(st, &node, err)))
		return rc;
	/* the node's identity (for its sectors) and its country, if located */
	if (sqlite3_prepare_v2(sk_store_sqlite(st),
			       "SELECT json FROM objects WHERE id=?1 ORDER BY version DESC LIMIT 1",
			       -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, node, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			src = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
		sqlite3_finalize(s);
	}
	if (sqlite3_prepare_v2(sk_store_sqlite(st),
			       "SELECT json_extract(l.json,'$.country') FROM objects r"
			       " JOIN objects l ON l.id=r.dst_ref WHERE r.src_ref=?1"
			       " AND r.rel_type='located-at' LIMIT 1",
			       -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, node, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			country = strdup((const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	sk_ts_format_ms(sk_ts_now_us(), ts);
	sk_uuid_v4(uuid);
	snprintf(iid, 64, "identity--%s", uuid);
	ident = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "identity",
			  "spec_version", "2.1", "id", iid, "created", ts, "modified", ts, "name",
			  "anonymous", "identity_class", "organization");
	if (!ident) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (src && json_is_array(json_object_get(src, "sectors")))
		json_object_set(ident, "sectors", json_object_get(src, "sectors"));
	if ((rc = sk_store_put_json(st, 0, ident, err)))
		goto out;
	if (country && strlen(country) == 2 &&
	    (rc = sk_store_put_located_at(st, iid, country, ts, err)))
		goto out;
out:
	free(node);
	free(country);
	json_decref(src);
	json_decref(ident);
	return rc;
}

/* The node's one anonymous identity, made on first use (meta "anon_identity"). */
static sk_err anon_identity(sk_store *st, char **id, sk_error *err)
{
	char iid[64];
	sk_err rc;

	if (meta_get(st, "anon_identity", id, NULL) == SK_OK)
		return SK_OK;
	if ((rc = new_anon_identity(st, iid, err)) || (rc = meta_set(st, "anon_identity", iid, err)))
		return rc;
	if (!(*id = strdup(iid)))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	return SK_OK;
}

/*
 * A fresh anonymous identity for one sighting, recorded in meta as
 * "anon_identity.<id>" so that this node knows it as its own (the
 * onward-sharing rule sends its objects only with its sighting; the write
 * rule refuses objects from elsewhere that claim it).  *id malloc'd.
 */
static sk_err one_off_identity(sk_store *st, char **id, sk_error *err)
{
	char iid[64], key[96];
	sk_err rc;

	if ((rc = new_anon_identity(st, iid, err)))
		return rc;
	snprintf(key, sizeof(key), "anon_identity.%s", iid);
	if ((rc = meta_set(st, key, iid, err)))
		return rc;
	if (!(*id = strdup(iid)))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	return SK_OK;
}

/*
 * The secret that keys the ids of versioned per-sighting anonymous
 * sightings (meta "anon_sighting_key", 32 random bytes in hex, made on first
 * use): the id of scan's one sighting of an indicator must be the same on
 * each run, without being derivable from anything another node holds.
 */
static sk_err one_off_key(sk_store *st, char **key, sk_error *err)
{
	unsigned char k[32];
	char hex[sizeof(k) * 2 + 1];
	sk_err rc;

	if (meta_get(st, "anon_sighting_key", key, NULL) == SK_OK)
		return SK_OK;
	randombytes_buf(k, sizeof(k));
	sodium_bin2hex(hex, sizeof(hex), k, sizeof(k));
	sodium_memzero(k, sizeof(k));
	if ((rc = meta_set(st, "anon_sighting_key", hex, err)))
		return rc;
	if (!(*key = strdup(hex)))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	return SK_OK;
}

enum anon_mode { ANON_OFF, ANON_NODE, ANON_PER_SIGHTING };

static enum anon_mode anonymous(sk_store *st)
{
	char *v = NULL;
	enum anon_mode m = ANON_OFF;
	if (meta_get(st, "config.sightings.anonymous", &v, NULL) == SK_OK && v)
		m = !strcmp(v, "true")           ? ANON_NODE
		    : !strcmp(v, "per-sighting") ? ANON_PER_SIGHTING
						 : ANON_OFF;
	free(v);
	return m;
}

sk_err sk_sync_sighting_identity(sk_store *st, char **id, sk_error *err)
{
	sk_err rc;
	enum anon_mode m = anonymous(st);
	*id = NULL;
	if (m == ANON_OFF)
		return sk_store_node_id(st, id, err);
	if (m == ANON_PER_SIGHTING)
		return sk_error_set(err, SK_EINVAL,
		                    "sightings.anonymous is per-sighting: each sighting has an "
		                    "identity of its own");
	if ((rc = sk_store_begin(st, err)))
		return rc;
	rc = anon_identity(st, id, err);
	if (!rc)
		return sk_store_commit(st, err);
	sk_store_rollback(st);
	return rc;
}

/* Add the anonymous identity objects (identity, location, relationship) to cid. */
static sk_err share_anon(sk_store *st, const char *iid, int64_t cid, sk_error *err)
{
	static const char q[] =
	    "SELECT json FROM objects WHERE id=?1 OR (created_by=?1 AND type IN"
	    " ('location','relationship'))";
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "identity");
	sqlite3_bind_text(s, 1, iid, -1, SQLITE_STATIC);
	while (!rc && sqlite3_step(s) == SQLITE_ROW) {
		json_t *o = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
		rc = o ? sk_store_put_json(st, cid, o, err) : sk_error_set(err, SK_EJSON, "identity");
		json_decref(o);
	}
	sqlite3_finalize(s);
	return rc;
}

/*
 * The deterministic id of the versioned sighting by identity who of
 * indicator: the first 16 bytes of BLAKE2b("schakel-sighting|" who "|"
 * indicator) shaped as a version-4 / variant-1 UUID.
 */
static void versioned_id(const char *who, const char *indicator, char out[64])
{
	static const char hx[] = "0123456789abcdef";
	unsigned char h[16];
	crypto_generichash_state gs;
	char *o;

	crypto_generichash_init(&gs, NULL, 0, sizeof(h));
	crypto_generichash_update(&gs, (const unsigned char *)"schakel-sighting|", 17);
	crypto_generichash_update(&gs, (const unsigned char *)who, strlen(who));
	crypto_generichash_update(&gs, (const unsigned char *)"|", 1);
	crypto_generichash_update(&gs, (const unsigned char *)indicator, strlen(indicator));
	crypto_generichash_final(&gs, h, sizeof(h));
	h[6] = (unsigned char)((h[6] & 0x0F) | 0x40);
	h[8] = (unsigned char)((h[8] & 0x3F) | 0x80);
	strcpy(out, "sighting--");
	o = out + 10;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hx[h[i] >> 4];
		*o++ = hx[h[i] & 15];
	}
	*o = '\0';
}

/* What the previous version of a versioned sighting said. */
typedef struct prev_sighting {
	bool found;
	int64_t count, first_us, last_us, modified_us;
	char created[SK_TS_STR_MAX];
	char by[64]; /* its created_by_ref */
} prev_sighting;

static int64_t json_ts(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	char k[SK_TS_KEY_LEN + 1];
	int64_t us;
	return s && sk_ts_parse(s, strlen(s), k, &us) ? us : 0;
}

static sk_err get_prev(sk_store *st, const char *sid, prev_sighting *p, sk_error *err)
{
	static const char q[] =
	    "SELECT json FROM objects WHERE id=?1 ORDER BY version DESC LIMIT 1";
	sqlite3_stmt *s = NULL;
	json_t *o = NULL;
	const char *c;

	memset(p, 0, sizeof(*p));
	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "sighting");
	sqlite3_bind_text(s, 1, sid, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		o = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
	sqlite3_finalize(s);
	if (!o)
		return SK_OK;
	p->found = true;
	p->count = json_integer_value(json_object_get(o, "count"));
	p->first_us = json_ts(o, "first_seen");
	p->last_us = json_ts(o, "last_seen");
	p->modified_us = json_ts(o, "modified");
	if ((c = json_string_value(json_object_get(o, "created"))))
		snprintf(p->created, sizeof(p->created), "%s", c);
	if ((c = json_string_value(json_object_get(o, "created_by_ref"))))
		snprintf(p->by, sizeof(p->by), "%s", c);
	json_decref(o);
	return SK_OK;
}

/*
 * The sighted indicator's newest version, and the marking its sighting
 * carries: the indicator's own TLP, else the strictest default of the
 * collections holding it (SK_TLP_NONE when it is in none), so that the
 * sighting is never visible where the indicator is not.
 */
static sk_err sighted(sk_store *st, const char *indicator, int64_t *ver, sk_tlp *tlp, sk_error *err)
{
	static const char q[] =
	    "SELECT o.ver, o.tlp, (SELECT max(c.default_tlp) FROM collections c"
	    " CROSS JOIN collection_objects co WHERE co.coll=c.cid AND co.ver=o.ver)"
	    " FROM objects o WHERE o.id=?1 AND +o.type='indicator' ORDER BY o.version DESC LIMIT 1";
	sqlite3_stmt *s = NULL;

	*ver = 0;
	*tlp = SK_TLP_NONE;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "sighting");
	sqlite3_bind_text(s, 1, indicator, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*ver = sqlite3_column_int64(s, 0);
		*tlp = (sk_tlp)sqlite3_column_int(s, 1);
		if (*tlp == SK_TLP_NONE)
			*tlp = (sk_tlp)sqlite3_column_int(s, 2); /* NULL (no collection): 0 */
	}
	sqlite3_finalize(s);
	if (!*ver)
		return sk_error_set(err, SK_ENOTFOUND, "no indicator %s", indicator);
	return SK_OK;
}

/*
 * Up to max collections holding version ver.  collection_objects is indexed
 * on (coll, ver), so the lookup goes collection by collection (CROSS JOIN
 * fixes the order); "WHERE ver=?" alone scanned the whole index.
 */
static sk_err holders(sk_store *st, int64_t ver, int64_t *cids, size_t max, size_t *n,
		      sk_error *err)
{
	static const char q[] = "SELECT c.cid FROM collections c CROSS JOIN collection_objects co"
				" WHERE co.coll=c.cid AND co.ver=?1";
	sqlite3_stmt *s = NULL;

	*n = 0;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "sighting");
	sqlite3_bind_int64(s, 1, ver);
	while (*n < max && sqlite3_step(s) == SQLITE_ROW)
		cids[(*n)++] = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return SK_OK;
}

static int json_set_ts(json_t *o, const char *key, int64_t us)
{
	char ts[SK_TS_STR_MAX];
	sk_ts_format_us(us, ts);
	return json_object_set_new(o, key, json_string(ts));
}

#define COUNT_MAX 999999999 /* STIX: count is at most 999,999,999 */

sk_err sk_sync_sighting_put(sk_store *st, const sk_sync_sighting *sg, char *sid_out, sk_error *err)
{
	char *who = NULL, *key = NULL;
	enum anon_mode anon = anonymous(st);
	int64_t ver, cids[64], now = sk_ts_now_us(), count = sg->count;
	int64_t first = sg->first_us, last = sg->last_us;
	size_t ncids = 0;
	sk_tlp tlp;
	prev_sighting p = {0};
	json_t *obj = NULL;
	char uuid[SK_UUID_LEN + 1], created[SK_TS_STR_MAX], modified[SK_TS_STR_MAX], sid[64];
	sk_err rc;

	if ((rc = sighted(st, sg->indicator, &ver, &tlp, err)))
		goto out;
	if (sg->cid)
		cids[ncids++] = sg->cid;
	else if ((rc = holders(st, ver, cids, 64, &ncids, err)))
		goto out;
	now -= now % 1000; /* STIX timestamps are written with millisecond precision here */
	/*
	 * Who: the node, its one anonymous identity, or (per-sighting) a fresh
	 * one for each sighting.  A versioned per-sighting sighting keeps the
	 * identity of its first version (the write rule wants one producer per
	 * object); its id is keyed by the node's secret, not by an identity.
	 */
	if (anon == ANON_PER_SIGHTING) {
		if (sg->versioned) {
			if ((rc = one_off_key(st, &key, err)))
				goto out;
			versioned_id(key, sg->indicator, sid);
			if ((rc = get_prev(st, sid, &p, err)))
				goto out;
		}
		if (p.found && p.by[0])
			rc = (who = strdup(p.by)) ? SK_OK
						  : sk_error_set(err, SK_ENOMEM, "out of memory");
		else
			rc = one_off_identity(st, &who, err);
		if (rc)
			goto out;
	} else if ((rc = anon == ANON_NODE ? anon_identity(st, &who, err)
					   : sk_store_node_id(st, &who, err))) {
		goto out;
	} else if (sg->versioned) {
		versioned_id(who, sg->indicator, sid);
		if ((rc = get_prev(st, sid, &p, err)))
			goto out;
	}
	if (!sg->versioned) {
		sk_uuid_v4(uuid);
		snprintf(sid, sizeof(sid), "sighting--%s", uuid);
	}
	if (p.found) {
		if (now <= p.modified_us)
			now = p.modified_us + 1000;
		count += p.count;
		if (p.first_us && (!first || p.first_us < first))
			first = p.first_us;
		if (p.last_us > last)
			last = p.last_us;
	}
	if (count > COUNT_MAX)
		count = COUNT_MAX;
	sk_ts_format_ms(now, modified);
	snprintf(created, sizeof(created), "%s", p.found && p.created[0] ? p.created : modified);
	obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type", "sighting",
			"spec_version", "2.1", "id", sid, "created", created, "modified", modified,
			"created_by_ref", who, "sighting_of_ref", sg->indicator,
			"where_sighted_refs", who);
	if (!obj || (count > 0 && json_object_set_new(obj, "count", json_integer(count))) ||
	    (first && (json_set_ts(obj, "first_seen", first) ||
		       json_set_ts(obj, "last_seen", last > first ? last : first))) ||
	    (tlp != SK_TLP_NONE && sk_tlp_marking_id(tlp) &&
	     json_object_set_new(obj, "object_marking_refs",
				 json_pack("[s]", sk_tlp_marking_id(tlp))))) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (sg->false_positive &&
	    json_object_set_new(obj, "x_schakel_false_positive", json_true())) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (!ncids)
		rc = sk_store_put_json(st, 0, obj, err);
	for (size_t i = 0; i < ncids && !rc; i++) {
		if (anon)
			rc = share_anon(st, who, cids[i], err);
		if (!rc)
			rc = sk_store_put_json(st, cids[i], obj, err);
	}
	if (!rc && sid_out)
		snprintf(sid_out, 64, "%s", sid);
out:
	free(who);
	free(key);
	json_decref(obj);
	return rc;
}

sk_err sk_sync_sighting_add(sk_store *st, const sk_sync_sighting *s, char *sid_out, sk_error *err)
{
	sk_err rc;

	if ((rc = sk_store_begin(st, err)))
		return rc;
	if ((rc = sk_sync_sighting_put(st, s, sid_out, err))) {
		sk_store_rollback(st);
		return rc;
	}
	return sk_store_commit(st, err);
}

/* the decay.* settings (decay.h), in force and where from */
static sk_err decay_each(sk_store *st, sk_config_fn fn, void *ud, bool *stop, sk_error *err)
{
	static const char *const top[] = {"threshold", "default_trust", "default_confidence"};
	char name[64], key[80];
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	if (sqlite3_prepare_v2(sk_store_sqlite(st), "SELECT 1 FROM meta WHERE key=?1", -1, &s,
			       NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "decay settings");
	for (int i = 0; !rc && !*stop && i < 3 + 2 * SK_DECAY__N; i++) {
		char *v = NULL;
		bool set;
		if (i < 3)
			snprintf(name, sizeof(name), "decay.%s", top[i]);
		else
			snprintf(name, sizeof(name), "decay.%s.%s", sk_decay_kind_name((i - 3) / 2),
				 (i - 3) % 2 ? "speed" : "lifetime");
		snprintf(key, sizeof(key), "config.%s", name);
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		set = sqlite3_step(s) == SQLITE_ROW;
		if ((rc = sk_decay_config_get(st, name, &v, err)))
			break;
		*stop = fn(ud, name, v, set ? "database" : "default") != 0;
		free(v);
	}
	sqlite3_finalize(s);
	return rc;
}

sk_err sk_sync_config_each(sk_store *st, sk_config_fn fn, void *ud, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	for (size_t i = 0; i < sizeof(setting_defaults) / sizeof(setting_defaults[0]); i++) {
		char *v = NULL;
		sk_err g = sk_sync_config_get(st, setting_defaults[i][0], &v, err);
		if (g && g != SK_ENOTFOUND)
			return g;
		int stop = fn(ud, setting_defaults[i][0], v ? v : setting_defaults[i][1],
			      v ? "database" : "default");
		free(v);
		if (stop)
			return SK_OK;
	}
	{
		bool stop = false;
		if ((rc = decay_each(st, fn, ud, &stop, err)) || stop)
			return rc;
	}
	if (sqlite3_prepare_v2(sk_store_sqlite(st),
			       "SELECT name, coalesce(title,''), coalesce(description,''),"
			       " EXISTS (SELECT 1 FROM meta WHERE"
			       " key='config.taxii.root_disabled.'||r.rid)"
			       " FROM api_roots r ORDER BY rid",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "api roots");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);
		char key[128];
		snprintf(key, sizeof(key), "taxii.root.%s.title", name);
		if (fn(ud, key, (const char *)sqlite3_column_text(s, 1), "database"))
			break;
		snprintf(key, sizeof(key), "taxii.root.%s.description", name);
		if (fn(ud, key, (const char *)sqlite3_column_text(s, 2), "database"))
			break;
		snprintf(key, sizeof(key), "taxii.root.%s.enabled", name);
		if (fn(ud, key, sqlite3_column_int(s, 3) ? "false" : "true",
		       sqlite3_column_int(s, 3) ? "database" : "default"))
			break;
	}
	sqlite3_finalize(s);
	return rc;
}
