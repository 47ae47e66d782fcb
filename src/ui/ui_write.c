/*
 * ui_write.c - objects made in the console (docs/console.md): POST
 * /ui/api/objects creates a note, opinion, sighting, report, indicator or
 * relationship produced by this node; PUT /ui/api/objects/{id} stores a new
 * version of one it produced.
 *
 * Both go the way every write goes: validated as any import
 * (sk_stix_validate), stored by sk_store_put under the write rule
 * (store_rule.c), which signs what is produced here with the node's key,
 * in one transaction.  A refusal of the rule answers 403 with its reason;
 * a version that is not later than the newest one answers 409.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/json.h"
#include "schakel/sign.h"
#include "schakel/stix.h"
#include "schakel/timestamp.h"
#include "schakel/uuid.h"
#include "store/store_priv.h"
#include "ui/ui_data_int.h"

#define WRITE_MAX_COLLS 64

static const char *const creatable[] = {"note",   "opinion",   "sighting",
                                        "report", "indicator", "relationship"};

static bool is_creatable(const char *type)
{
	for (size_t i = 0; i < sizeof(creatable) / sizeof(creatable[0]); i++)
		if (!strcmp(type, creatable[i]))
			return true;
	return false;
}

/* The "object" member of the body (a new reference), NULL with a 400 sent. */
static json_t *body_object(ui_ctx *c, json_t **body)
{
	json_t *o;
	if (!(*body = ui_body_object(c)))
		return NULL;
	o = json_object_get(*body, "object");
	if (!json_is_object(o)) {
		ui_error(c, 400, "body: 'object' must be a STIX object (a JSON object)");
		return NULL;
	}
	return json_incref(o);
}

/* Validate and store o in the collections cids (at least one call; cid 0 = none). */
static bool store(ui_ctx *c, json_t *o, const int64_t *cids, size_t ncids, int fail_status)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	sk_jdoc *doc = NULL;
	sk_stix_info info;
	sk_error e;
	sk_err rc;
	bool ok = false;

	if (!text || sk_json_doc_new(0, 0, &doc)) {
		ui_error(c, 500, "out of memory");
		goto out;
	}
	if ((rc = sk_stix_validate_text(doc, text, strlen(text), &info, &e))) {
		ui_error(c, 400, "object: %s", e.msg);
		goto out;
	}
	if ((rc = sk_store_begin(c->st, &e))) {
		ui_error(c, rc == SK_EBUSY ? 503 : 500, "the store is busy; try again");
		goto out;
	}
	sk_store_set_origin(c->st, NULL); /* made here */
	for (size_t i = 0; i < (ncids ? ncids : 1) && !rc; i++)
		rc = sk_store_put(c->st, ncids ? cids[i] : 0, &info, text, strlen(text), NULL, NULL,
		                  &e);
	if (!rc)
		rc = sk_store_commit(c->st, &e);
	else
		sk_store_rollback(c->st);
	if (rc == SK_EPERM)
		ui_error(c, fail_status, "%s", e.msg);
	else if (rc)
		ui_error(c, 500, "storing the object: %s", e.msg);
	else
		ok = true;
out:
	sk_json_doc_free(doc);
	free(text);
	return ok;
}

static void now_ts(char ts[SK_TS_STR_MAX])
{
	sk_ts_format_ms(sk_ts_now_us(), ts);
}

#define WRITE_SKEW_US (300LL * 1000000) /* how far ahead of the clock a version may be dated */

/*
 * What the console stores is signed here: a signature the object carries
 * (copied from a version shown, whose content changes now) is dropped, and
 * sk_store_put signs the new content.
 */
static void drop_signature(json_t *o)
{
	json_t *ext = json_object_get(o, "extensions");
	if (!json_is_object(ext))
		return;
	json_object_del(ext, SK_SIG_EXT_ID);
	if (!json_object_size(ext))
		json_object_del(o, "extensions");
}

/* False with a 400 sent if o's modified (or created) is not a time, or too far ahead. */
static bool dated_ok(ui_ctx *c, json_t *o)
{
	static const char *const keys[] = {"created", "modified"};
	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_object_get(o, keys[i]);
		int64_t us;
		if (!v)
			continue;
		if (!json_is_string(v) ||
		    !sk_ts_parse(json_string_value(v), strlen(json_string_value(v)), NULL, &us)) {
			ui_error(c, 400, "object.%s: an RFC 3339 time", keys[i]);
			return false;
		}
		if (us > sk_ts_now_us() + WRITE_SKEW_US) {
			ui_error(c, 400, "object.%s: %s is in the future", keys[i],
			         json_string_value(v));
			return false;
		}
	}
	return true;
}

void ui_h_object_create(ui_ctx *c, char **seg, size_t nseg)
{
	json_t *body = NULL, *o = NULL, *v;
	const char *type, *own = c->own_identity, *coll;
	char ts[SK_TS_STR_MAX], uuid[SK_UUID_LEN + 1], id[300];
	sk_collection col = {0};
	int64_t cid = 0;

	(void)seg;
	(void)nseg;
	if (!(o = body_object(c, &body)))
		goto out;
	type = json_string_value(json_object_get(o, "type"));
	if (!type || !is_creatable(type)) {
		ui_error(
		    c, 400,
		    "object.type: one of note, opinion, sighting, report, indicator, relationship");
		goto out;
	}
	if (!own[0]) {
		ui_error(c, 409, "this node has no identity yet (schakel init)");
		goto out;
	}
	if ((v = json_object_get(o, "created_by_ref")) &&
	    (!json_is_string(v) || strcmp(json_string_value(v), own))) {
		ui_error(c, 403,
		         "object.created_by_ref: objects made here are produced by this node"
		         " (%s)",
		         own);
		goto out;
	}
	if ((v = json_object_get(o, "id"))) {
		const char *s = json_string_value(v);
		if (!s || !sk_stix_id_valid(s, type)) {
			ui_error(c, 400, "object.id: a %s--UUID id", type);
			goto out;
		}
		json_t *exists = ui_summary_of(c, s);
		if (exists) {
			json_decref(exists);
			ui_error(c, 409, "object.id: %s exists; PUT objects/{id} versions it", s);
			goto out;
		}
	} else {
		sk_uuid_v4(uuid);
		snprintf(id, sizeof(id), "%s--%s", type, uuid);
		json_object_set_new(o, "id", json_string(id));
	}
	now_ts(ts);
	if (!json_object_get(o, "spec_version"))
		json_object_set_new(o, "spec_version", json_string("2.1"));
	if (!json_object_get(o, "created"))
		json_object_set_new(o, "created", json_string(ts));
	if (!json_object_get(o, "modified"))
		json_object_set(o, "modified", json_object_get(o, "created"));
	json_object_set_new(o, "created_by_ref", json_string(own));
	drop_signature(o);
	if (!dated_ok(c, o))
		goto out;
	if (!strcmp(type, "indicator")) {
		if (!json_object_get(o, "pattern_type"))
			json_object_set_new(o, "pattern_type", json_string("stix"));
		if (!json_object_get(o, "valid_from"))
			json_object_set(o, "valid_from", json_object_get(o, "created"));
	}
	/* where it goes: the body's collection, else the node's default one */
	coll = json_string_value(json_object_get(body, "collection"));
	if (json_object_get(body, "collection") && !coll) {
		ui_error(c, 400, "body: 'collection' must be a collection's name");
		goto out;
	}
	if (sk_collection_resolve(c->st, coll ? coll : "default", &col, NULL) == SK_OK) {
		cid = col.cid;
		sk_collection_clear(&col);
	} else if (coll) {
		ui_error(c, 404, "body: no collection '%.200s'", coll);
		goto out;
	}
	if (!store(c, o, &cid, cid ? 1 : 0, 403))
		goto out;
	ui_send_json(c, 201,
	             json_pack("{s:O, s:O}", "id", json_object_get(o, "id"), "version",
	                       json_object_get(o, "modified")));
out:
	json_decref(o);
	json_decref(body);
}

void ui_h_object_update(ui_ctx *c, char **seg, size_t nseg)
{
	static const char ql[] =
	    "SELECT o.ver, o.created, o.modified, o.created_by, o.type, o.version"
	    " FROM objects o WHERE o.id=?1 AND " UI_VISIBLE
	    " ORDER BY o.version DESC, o.spec DESC LIMIT 1";
	static const char qc[] = "SELECT cl.cid FROM collections cl WHERE EXISTS(SELECT 1 FROM"
	                         " collection_objects co WHERE co.coll=cl.cid AND co.ver=?1)";
	const char *id = nseg > 1 ? seg[1] : "";
	json_t *body = NULL, *o = NULL, *v;
	char created[SK_TS_STR_MAX + 16] = "", by[300] = "", type[300] = "",
	                             last[SK_TS_KEY_LEN + 1];
	char ts[SK_TS_STR_MAX], key[SK_TS_KEY_LEN + 1];
	int64_t ver = 0, cids[WRITE_MAX_COLLS];
	size_t ncids = 0;
	const char *mod;
	sqlite3_stmt *s;

	if (!(o = body_object(c, &body)))
		goto out;
	if (!sk_stix_id_valid(id, NULL) || !(s = ui_stmt(c, ql))) {
		if (!c->resp->status)
			ui_error(c, 404, "no object '%.200s'", id);
		goto out;
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW) {
		ver = sqlite3_column_int64(s, 0);
		snprintf(created, sizeof(created), "%s", ui_col(s, 1) ? ui_col(s, 1) : "");
		snprintf(by, sizeof(by), "%s", ui_col(s, 3) ? ui_col(s, 3) : "");
		snprintf(type, sizeof(type), "%s", ui_col(s, 4) ? ui_col(s, 4) : "");
		snprintf(last, sizeof(last), "%s", ui_col(s, 5) ? ui_col(s, 5) : "");
	}
	ui_stmt_done(c, s);
	if (!ver) {
		ui_error(c, 404, "no object '%.200s'", id);
		goto out;
	}
	if (!c->own_identity[0] || strcmp(by, c->own_identity)) {
		ui_error(c, 403, "%s: refused: only objects this node produced are versioned here",
		         id);
		goto out;
	}
	if ((v = json_object_get(o, "id")) &&
	    (!json_is_string(v) || strcmp(json_string_value(v), id))) {
		ui_error(c, 400, "object.id: must be %s (the id in the path)", id);
		goto out;
	}
	if ((v = json_object_get(o, "type")) &&
	    (!json_is_string(v) || strcmp(json_string_value(v), type))) {
		ui_error(c, 400, "object.type: must stay %s", type);
		goto out;
	}
	if ((v = json_object_get(o, "created_by_ref")) &&
	    (!json_is_string(v) || strcmp(json_string_value(v), by))) {
		ui_error(c, 403, "object.created_by_ref: must stay %s", by);
		goto out;
	}
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "created_by_ref", json_string(by));
	if (!json_object_get(o, "spec_version"))
		json_object_set_new(o, "spec_version", json_string("2.1"));
	if (!json_object_get(o, "created") && created[0])
		json_object_set_new(o, "created", json_string(created));
	mod = json_string_value(json_object_get(o, "modified"));
	if (!mod) {
		now_ts(ts);
		json_object_set_new(o, "modified", json_string(ts));
		mod = json_string_value(json_object_get(o, "modified"));
	}
	drop_signature(o);
	if (!dated_ok(c, o))
		goto out;
	if (!sk_ts_parse(mod, strlen(mod), key, NULL)) {
		ui_error(c, 400, "object.modified: an RFC 3339 time");
		goto out;
	}
	if (strcmp(key, last) <= 0) {
		ui_error(c, 409, "object.modified: %s is not later than the newest version's", mod);
		goto out;
	}
	/* the new version goes where the newest one is */
	if (!(s = ui_stmt(c, qc)))
		goto out;
	sqlite3_bind_int64(s, 1, ver);
	while (ncids < WRITE_MAX_COLLS && sqlite3_step(s) == SQLITE_ROW)
		cids[ncids++] = sqlite3_column_int64(s, 0);
	ui_stmt_done(c, s);
	if (!store(c, o, cids, ncids, 403))
		goto out;
	ui_send_json(c, 200,
	             json_pack("{s:s, s:O}", "id", id, "version", json_object_get(o, "modified")));
out:
	json_decref(o);
	json_decref(body);
}
