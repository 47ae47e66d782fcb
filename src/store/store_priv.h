/*
 * store_priv.h - what other library modules (not the public API) may use of
 * the store: its SQLite handle and the helpers for error reporting.
 */
#ifndef SCHAKEL_STORE_PRIV_H
#define SCHAKEL_STORE_PRIV_H

#include <jansson.h>
#include <sqlite3.h>

#include "schakel/store.h"

/* The connection behind st (borrowed). */
sqlite3 *sk_store_sqlite(sk_store *st);

/* Set err from the connection's last error, prefixed with what; returns SK_EDB. */
sk_err sk_store_dberr(sk_store *st, sk_error *err, const char *what);

/* Run one SQL statement without parameters (schema work only). */
sk_err sk_store_exec(sk_store *st, const char *sql, sk_error *err);

/*
 * A prepared statement for sql[0..len) from the connection's small cache (or
 * freshly prepared).  Hand it back with sk_store_stmt_put() (which resets it
 * and keeps it for the next caller); never finalize it yourself.
 */
sk_err sk_store_stmt_get(sk_store *st, const char *sql, size_t len, sqlite3_stmt **out,
			 sk_error *err);
void sk_store_stmt_put(sk_store *st, sqlite3_stmt *s);

/*
 * Validate an object built in memory (identity, location, sighting, ...) by
 * the same rules as imported ones and store it in collection cid (0 = none).
 * Inside the caller's transaction.  obj stays the caller's.
 */
sk_err sk_store_put_json(sk_store *st, int64_t cid, json_t *obj, sk_error *err);

/*
 * Turn o (the newest version of an object produced here) into its next
 * version: modified = now, at least 1 ms after the old modified, into
 * version; the old signature dropped (sk_store_put signs it anew).
 */
void sk_store_next_version(json_t *o, char version[SK_TS_STR_MAX]);

/*
 * Store a location for country (ISO 3166-1 alpha-2) and a located-at
 * relationship from identity to it, both created at ts by identity.
 */
sk_err sk_store_put_located_at(sk_store *st, const char *identity, const char *country,
				const char *ts, sk_error *err);

/*
 * The observable values (lower-cased) and their kinds (ipv4-addr, ipv6-addr,
 * domain-name, url, email-addr, mac-addr, hash) that version ver carries, as
 * the search index records them (store_search.c): fn is called for each;
 * it returns non-zero to stop.  Strings are valid during the call only.
 */
sk_err sk_store_search_values(sk_store *st, int64_t ver,
			      int (*fn)(void *ud, const char *value, const char *kind), void *ud,
			      sk_error *err);

#endif
