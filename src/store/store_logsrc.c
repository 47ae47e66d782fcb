/*
 * store_logsrc.c - the log sources a node reads (log_sources, schema 19;
 * docs/cooperation.md, capacity).  One row per source kind, written by
 * `scan` with its sightings and by the live watch at most once a minute:
 * never per record, never a file path.
 */
#include <string.h>

#include "schakel/store.h"
#include "store_priv.h"

#define TYPES_MAX 512 /* the merged type list; the readers' lists are far shorter */

/* Is the comma-separated list l (length n) holding t (length tn)? */
static bool has_type(const char *l, size_t n, const char *t, size_t tn)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && l[j] != ',')
			j++;
		if (j - i == tn && !memcmp(l + i, t, tn))
			return true;
		i = j + 1;
	}
	return false;
}

/* held, then the types of add not in it (comma-separated, bounded by TYPES_MAX). */
static void merge_types(char *out, const char *held, const char *add)
{
	size_t n = strlen(held);
	if (n >= TYPES_MAX)
		n = 0; /* not what this module writes: start again */
	memcpy(out, held, n);
	for (const char *p = add; *p;) {
		size_t tn = strcspn(p, ",");
		if (tn && !has_type(out, n, p, tn) && n + tn + 2 < TYPES_MAX) {
			if (n)
				out[n++] = ',';
			memcpy(out + n, p, tn);
			n += tn;
		}
		p += tn + (p[tn] == ',');
	}
	out[n] = 0;
}

sk_err sk_store_logsrc_add(sk_store *st, const char *kind, int64_t now, int64_t records,
                           const char *types, sk_error *err)
{
	static const char qget[] = "SELECT types FROM log_sources WHERE kind=?1";
	static const char qput[] =
	    "INSERT INTO log_sources(kind, first_seen, last_seen, records, types)"
	    " VALUES(?1, ?2, ?2, ?3, ?4) ON CONFLICT(kind) DO UPDATE SET"
	    " last_seen=max(last_seen, excluded.last_seen), records=records+excluded.records,"
	    " types=excluded.types";
	char merged[TYPES_MAX];
	sqlite3_stmt *s;
	sk_err rc;

	if (!kind || !*kind || strlen(kind) > 64 || records < 0)
		return sk_error_set(err, SK_EINVAL, "log source: bad kind or count");
	if ((rc = sk_store_stmt_get(st, qget, sizeof(qget) - 1, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	const char *held =
	    sqlite3_step(s) == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
	merge_types(merged, held ? held : "", types ? types : "");
	sk_store_stmt_put(st, s);
	if ((rc = sk_store_stmt_get(st, qput, sizeof(qput) - 1, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, records);
	sqlite3_bind_text(s, 4, merged, -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? SK_OK : sk_store_dberr(st, err, "log sources");
	sk_store_stmt_put(st, s);
	return rc;
}
