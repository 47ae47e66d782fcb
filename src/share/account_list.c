/*
 * account_list.c - listings for the console's administration (ui_admin.c):
 * tokens (by their public id, never a secret), grants and RED recipients,
 * and an account's current generation.  Read-only; account.c makes the
 * changes.
 */
#include <sqlite3.h>

#include "schakel/account.h"
#include "store/store_priv.h"

/* Run sql (no parameters, or aid as ?1 when aid >= 0), calling row for each result. */
static sk_err each(sk_store *st, const char *sql, int (*row)(sqlite3_stmt *s, void *ud), void *ud,
                   const char *what, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	int step;

	if (sqlite3_prepare_v2(sk_store_sqlite(st), sql, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, what);
	while ((step = sqlite3_step(s)) == SQLITE_ROW)
		if (row(s, ud))
			break;
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, what);
	sqlite3_finalize(s);
	return rc;
}

static const char *text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? (const char *)t : "";
}

struct cb {
	void *fn;
	void *ud;
};

static int token_row(sqlite3_stmt *s, void *ud)
{
	struct cb *c = ud;
	sk_token_row r = {
	    .id = text(s, 0),
	    .account = text(s, 1),
	    .label = sqlite3_column_type(s, 2) == SQLITE_NULL ? NULL : text(s, 2),
	    .created_us = sqlite3_column_int64(s, 3),
	    .revoked = sqlite3_column_int(s, 4) != 0,
	};
	return ((int (*)(void *, const sk_token_row *))c->fn)(c->ud, &r);
}

sk_err sk_token_list(sk_store *st, int (*fn)(void *ud, const sk_token_row *r), void *ud,
                     sk_error *err)
{
	struct cb c = {(void *)fn, ud};
	return each(st,
	            "SELECT t.prefix, a.name, t.label, t.created, t.revoked"
	            " FROM tokens t JOIN accounts a ON a.aid=t.aid ORDER BY a.name, t.created",
	            token_row, &c, "tokens", err);
}

static int grant_row(sqlite3_stmt *s, void *ud)
{
	struct cb *c = ud;
	sk_grant_row r = {
	    .collection = text(s, 0),
	    .partner = text(s, 1),
	    .flags = (sqlite3_column_int(s, 2) ? SK_GRANT_READ : 0) |
	             (sqlite3_column_int(s, 3) ? SK_GRANT_WRITE : 0) |
	             (sqlite3_column_int(s, 4) ? SK_GRANT_AMBER : 0) |
	             (sqlite3_column_int(s, 5) ? SK_GRANT_AMBER_STRICT : 0),
	};
	return ((int (*)(void *, const sk_grant_row *))c->fn)(c->ud, &r);
}

sk_err sk_grant_list(sk_store *st, int (*fn)(void *ud, const sk_grant_row *r), void *ud,
                     sk_error *err)
{
	struct cb c = {(void *)fn, ud};
	return each(st,
	            "SELECT c.name, p.name, g.can_read, g.can_write, g.amber, g.amber_strict"
	            " FROM grants g JOIN collections c ON c.cid=g.coll"
	            " JOIN partners p ON p.pid=g.pid WHERE p.pid > 0 ORDER BY c.name, p.name",
	            grant_row, &c, "grants", err);
}

static int red_row(sqlite3_stmt *s, void *ud)
{
	struct cb *c = ud;
	sk_red_row r = {.collection = text(s, 0), .account = text(s, 1)};
	return ((int (*)(void *, const sk_red_row *))c->fn)(c->ud, &r);
}

sk_err sk_red_list(sk_store *st, int (*fn)(void *ud, const sk_red_row *r), void *ud, sk_error *err)
{
	struct cb c = {(void *)fn, ud};
	return each(st,
	            "SELECT c.name, a.name FROM red_recipients r"
	            " JOIN collections c ON c.cid=r.coll JOIN accounts a ON a.aid=r.aid"
	            " ORDER BY c.name, a.name",
	            red_row, &c, "RED recipients", err);
}

sk_err sk_account_gen_get(sk_store *st, int64_t aid, int64_t *gen, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc;

	if (sqlite3_prepare_v2(sk_store_sqlite(st), "SELECT gen FROM accounts WHERE aid=?1", -1, &s,
	                       NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "account");
	sqlite3_bind_int64(s, 1, aid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*gen = sqlite3_column_int64(s, 0);
		rc = SK_OK;
	} else {
		rc = sk_error_set(err, SK_ENOTFOUND, "no such account");
	}
	sqlite3_finalize(s);
	return rc;
}
