/*
 * store_priv.h - what other library modules (not the public API) may use of
 * the store: its SQLite handle and the helpers for error reporting.
 */
#ifndef SCHAKEL_STORE_PRIV_H
#define SCHAKEL_STORE_PRIV_H

#include <sqlite3.h>

#include "schakel/store.h"

/* The connection behind st (borrowed). */
sqlite3 *sk_store_sqlite(sk_store *st);

/* Set err from the connection's last error, prefixed with what; returns SK_EDB. */
sk_err sk_store_dberr(sk_store *st, sk_error *err, const char *what);

/* Run one SQL statement without parameters (schema work only). */
sk_err sk_store_exec(sk_store *st, const char *sql, sk_error *err);

#endif
