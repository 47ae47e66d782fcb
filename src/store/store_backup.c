/*
 * store_backup.c - consistent copies of a running node's database with
 * SQLite's online backup API (docs/operations: backup and restore).  A plain
 * `cp` of a node in use misses what is still in the write-ahead log; the
 * backup API copies the database as one snapshot, page by page, while other
 * connections keep reading and writing.
 */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "schakel/file.h"

#define PAGES_PER_STEP 1024

/* Copy database src_db (schema "main") into the file at dest (created 0600). */
static sk_err copy_db(sqlite3 *src_db, const char *dest, sk_error *err)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	sk_err rc = SK_OK;
	int step;

	if (sk_file_private(dest, true, NULL))
		return sk_error_set(err, SK_EIO, "%s: %s", dest, strerror(errno));
	if (sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		rc = sk_error_set(err, SK_EIO, "%s: %s", dest, dst ? sqlite3_errmsg(dst) : "no memory");
		sqlite3_close(dst);
		return rc;
	}
	if (!(b = sqlite3_backup_init(dst, "main", src_db, "main"))) {
		rc = sk_error_set(err, SK_EDB, "%s: %s", dest, sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return rc;
	}
	/* in steps, so that writers of the source are not held up for the whole copy */
	do {
		step = sqlite3_backup_step(b, PAGES_PER_STEP);
		if (step == SQLITE_BUSY || step == SQLITE_LOCKED)
			sqlite3_sleep(10);
	} while (step == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED);
	if (sqlite3_backup_finish(b) != SQLITE_OK || step != SQLITE_DONE)
		rc = sk_error_set(err, SK_EDB, "%s: backup: %s", dest, sqlite3_errmsg(dst));
	if (!rc) {
		/* the copy must be whole before anyone relies on it */
		sqlite3_stmt *s = NULL;
		if (sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &s, NULL) != SQLITE_OK ||
		    sqlite3_step(s) != SQLITE_ROW ||
		    strcmp((const char *)sqlite3_column_text(s, 0), "ok"))
			rc = sk_error_set(err, SK_EDB, "%s: the copy does not check out", dest);
		sqlite3_finalize(s);
	}
	sqlite3_close(dst);
	return rc;
}

sk_err sk_store_backup(sk_store *st, const char *dest, sk_error *err)
{
	if (st->in_tx)
		return sk_error_set(err, SK_EINVAL, "backup inside a transaction");
	return copy_db(st->db, dest, err);
}

sk_err sk_store_restore(const char *src, const char *dest, sk_error *err)
{
	sqlite3 *from = NULL;
	sk_err rc;

	if (sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = sk_error_set(err, SK_EIO, "%s: %s", src, from ? sqlite3_errmsg(from) : "no memory");
		sqlite3_close(from);
		return rc;
	}
	rc = copy_db(from, dest, err);
	sqlite3_close(from);
	return rc;
}
