/*
 * ui_data_int.h - what the console's knowledge handlers share (ui_data.c):
 * object summaries in the shape of docs/console.md, lookups through the
 * request's view, the search filters, and small SQL helpers.
 *
 * Every query here filters with the view's SQL function
 * sk_visible(ver, tlp, created_by, rx) (policy.h), bound by the dispatcher
 * for the request, or with sk_view_visible on rows already read.
 */
#ifndef SCHAKEL_UI_DATA_INT_H
#define SCHAKEL_UI_DATA_INT_H

#include <sqlite3.h>

#include "ui/ui_int.h"

/* The columns ui_summary() reads, from objects o, in this order. */
#define UI_SUM_COLS                                                                                \
	"o.ver, o.id, o.type, o.tlp, o.created_by, o.modified, o.revoked, o.rx,"                   \
	" coalesce(json_extract(o.json,'$.name'), json_extract(o.json,'$.value'),"                 \
	" json_extract(o.json,'$.abstract'), json_extract(o.json,'$.opinion'),"                    \
	" json_extract(o.json,'$.country')),"                                                      \
	" json_extract(o.json,'$.pattern'), o.src_ref, o.dst_ref, o.rel_type"
#define UI_SUM_N 13

/* o is the visible version of its object with the highest version (then spec). */
#define UI_VISIBLE "sk_visible(o.ver, o.tlp, o.created_by, o.rx)"
#define UI_LATEST                                                                                  \
	"NOT EXISTS(SELECT 1 FROM objects y WHERE y.id=o.id AND (y.version>o.version OR"           \
	" (y.version=o.version AND y.spec>o.spec)) AND sk_visible(y.ver, y.tlp, y.created_by, "    \
	"y.rx))"

/* A prepared statement from the store's cache (store_priv.h); NULL with a 500 sent. */
sqlite3_stmt *ui_stmt(ui_ctx *c, const char *sql);
void ui_stmt_done(ui_ctx *c, sqlite3_stmt *s);

/* The summary of the row of s whose UI_SUM_COLS start at column col (a new reference). */
json_t *ui_summary(ui_ctx *c, sqlite3_stmt *s, int col);

/* The summary of id's newest visible version; NULL if none is visible (or unknown). */
json_t *ui_summary_of(ui_ctx *c, const char *id);
/* The same, with the row id of the version summarised into *ver (may be NULL). */
json_t *ui_summary_ver(ui_ctx *c, const char *id, int64_t *ver);

/* A readable name for id's newest visible version into buf (its id if none is visible). */
void ui_name_of(ui_ctx *c, const char *id, char *buf, size_t n);

/* {"id", "name"} of a producer identity (name null when its identity is not visible). */
json_t *ui_producer(ui_ctx *c, const char *identity);

/* A string column, or NULL. */
const char *ui_col(sqlite3_stmt *s, int i);

/* An RFC 3339 string for microseconds since the epoch. */
json_t *ui_time_json(int64_t us);

/* Is the request's principal one of the node's own people (admin, analyst, viewer)? */
bool ui_is_own(const ui_ctx *c);

/*
 * The search filters of search, export and facets (docs/console.md): q,
 * type, tlp, producer, collection, since, until, revoked, limit, offset.
 * False with a 400 sent on a bad parameter.
 */
typedef struct ui_filter {
	const char *q;
	char *match; /* q as an FTS5 query (malloc'd), NULL without q */
	const char *type, *producer;
	int tlp;                   /* -1 = any */
	int64_t cid;               /* 0 = any */
	char since[40], until[40]; /* modified bounds as written in objects, "" = none */
	int revoked;               /* -1 any, 0 not revoked, 1 revoked only */
	long long limit, offset;
	char *colls; /* a partner's readable collections (JSON array of cids): the list is driven by
	                them */
} ui_filter;
bool ui_filter_parse(ui_ctx *c, ui_filter *f, long long def_limit, long long max_limit);
void ui_filter_clear(ui_filter *f);

/*
 * The SQL WHERE clause (from "objects o" and, with f->match, "search" joined
 * on search.rowid = o.ver) for f, with parameters numbered from ?1 in the
 * order ui_filter_bind binds them.  Written into sql (n bytes).
 */
void ui_filter_sql(const ui_filter *f, char *sql, size_t n);
/* Bind f's parameters; returns the next free parameter number. */
int ui_filter_bind(const ui_filter *f, sqlite3_stmt *s);

/* The collections a partner may see (for names shown to it); own people see all. */
bool ui_collection_visible(ui_ctx *c, int64_t cid);

/*
 * For a partner, the collections it may read as a JSON array of cids
 * (malloc'd): what it can see is in them, so lists are driven by
 * collection_objects instead of a walk over the whole store.  NULL for the
 * node's own people (or when out of memory: the walk is slower, not wider).
 */
char *ui_readable_collections(ui_ctx *c);

/*
 * Record an exit of object versions to a partner's account in the audit log
 * (docs/audit.md: action "console.object", "console.search", ..., subject
 * "partner:P", actor "account:A"), before the answer leaves; the node's own
 * people are not recorded (their reads stay in the organisation).  False
 * after answering 500 when it cannot be written: nothing leaves unrecorded.
 */
bool ui_audit_exit(ui_ctx *c, const char *action, const int64_t *vers, size_t n);

#endif
