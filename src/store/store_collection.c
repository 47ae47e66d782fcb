/*
 * store_collection.c - the store's collections (TAXII collections; objects
 * are placed in them by sk_store_put): creating one, finding one by name or
 * id, listing them with their object counts.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/timestamp.h"
#include "schakel/uuid.h"

void sk_collection_clear(sk_collection *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->title);
	free(c->description);
	c->name = c->title = c->description = NULL;
}

static char *dup_col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? strdup((const char *)t) : NULL;
}

static void fill_collection(sqlite3_stmt *s, sk_collection *c)
{
	c->cid = sqlite3_column_int64(s, 0);
	snprintf(c->uuid, sizeof(c->uuid), "%s", (const char *)sqlite3_column_text(s, 1));
	c->name = dup_col(s, 2);
	c->title = dup_col(s, 3);
	c->description = dup_col(s, 4);
	c->default_tlp = (sk_tlp)sqlite3_column_int(s, 5);
	c->is_public = sqlite3_column_int(s, 6) != 0;
	c->objects = sqlite3_column_int64(s, 7);
}

#define COLL_COLS                                                                                  \
	"SELECT cid, uuid, name, title, description, default_tlp, public,"                         \
	" (SELECT COUNT(*) FROM collection_objects WHERE coll=cid) FROM collections"

sk_err sk_store_collection_get(sk_store *st, const char *key, sk_collection *out, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(st->db, COLL_COLS " WHERE name=?1 OR uuid=lower(?1)", -1, &s,
			       NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "collection");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		fill_collection(s, out);
		if (!out->name)
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		break;
	case SQLITE_DONE:
		rc = sk_error_set(err, SK_ENOTFOUND, "no collection named '%s'", key);
		break;
	default:
		rc = sk_store_dberr(st, err, "collection");
	}
	sqlite3_finalize(s);
	return rc;
}

sk_err sk_store_collection_add(sk_store *st, const char *name, const char *uuid, const char *title,
			       const char *description, sk_collection *out, sk_error *err)
{
	char u[SK_UUID_LEN + 1];
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	int step;

	if (!name || !*name || strlen(name) > 200)
		return sk_error_set(err, SK_EINVAL, "a collection needs a name of 1-200 bytes");
	if (uuid) {
		if (!sk_uuid_valid(uuid, strlen(uuid)))
			return sk_error_set(err, SK_EINVAL, "'%s' is not a UUID", uuid);
		for (size_t i = 0; i <= SK_UUID_LEN; i++)
			u[i] = (char)(uuid[i] >= 'A' && uuid[i] <= 'F' ? uuid[i] + 32 : uuid[i]);
	} else {
		sk_uuid_v4(u);
	}
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO collections(uuid,name,title,description,created)"
			       " VALUES(?1,?2,?3,?4,?5)",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "collection");
	sqlite3_bind_text(s, 1, u, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, title, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, description, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, sk_ts_now_us());
	step = sqlite3_step(s);
	if (step == SQLITE_CONSTRAINT_UNIQUE || (step & 0xff) == SQLITE_CONSTRAINT)
		rc = sk_error_set(err, SK_EEXIST, "a collection named '%s' or with id %s exists",
				  name, u);
	else if (step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "collection");
	sqlite3_finalize(s);
	if (!rc && out)
		rc = sk_store_collection_get(st, u, out, err);
	return rc;
}

sk_err sk_store_collections(sk_store *st, int (*fn)(void *ud, const sk_collection *c), void *ud,
			    sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	int step;

	if (sqlite3_prepare_v2(st->db, COLL_COLS " ORDER BY cid", -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "collections");
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sk_collection c;
		int stop;
		fill_collection(s, &c);
		stop = fn(ud, &c);
		sk_collection_clear(&c);
		if (stop)
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "collections");
	sqlite3_finalize(s);
	return rc;
}
