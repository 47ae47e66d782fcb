/*
 * feed_ctx.h - the import context that feed.c (the driver, the line formats
 * and the store side) and feed_csv.c (CSV records) share.
 */
#ifndef SCHAKEL_FEED_CTX_H
#define SCHAKEL_FEED_CTX_H

#include <pthread.h>
#include <sqlite3.h>

#include "feeds/feed_int.h"
#include "schakel/timestamp.h"

#define CSV_MAX_COLS 64

typedef struct csv_map {
	bool have_header;
	int value, kind, name;         /* 0-based column, -1 none */
	int label[SK_FEED_MAX_LABELS]; /* 0-based columns */
	size_t nlabel;
	/* columns named by the user, resolved against the header */
	char spec[512];
} csv_map;

/* the import context (one per input) */
typedef struct ctx {
	sk_store *st; /* NULL in check mode */
	const sk_feed_opts *o;
	sk_feed_stats *stats;
	const char *name; /* input name for messages */
	char producer_id[64];
	const char *marking_id;
	char ts[SK_TS_STR_MAX];
	sk_buf norm, pattern, json, key, fkey, re;
	sk_jdoc *doc;
	sqlite3_stmt *q_find, *q_incoll, *q_json;
	size_t in_batch;
	bool in_tx, bulk;
	csv_map csv;
	sk_error lerr; /* per-line reasons (the reader's) */
	sk_error merr; /* the store thread's */
	/* two threads (a store): the reader's ring, input, count and outcome */
	sk_feed_pipe *pipe;
	sk_reader *rd;
	uint64_t wcount;
	sk_err wrc;
	sk_error werr;
	pthread_mutex_t cb_mu; /* on_reject (store thread) and on_progress (reader) */
	/* the constant parts of every indicator, formatted once */
	char head[256], mid[192], tail[192];
	size_t head_len, mid_len, tail_len;
} ctx;

/* one valid entry of a feed, pointing into its line */
typedef struct entry {
	sk_feed_kind kind;
	const char *name; /* or NULL: the value */
	size_t name_n;
	const char *labels[SK_FEED_MAX_LABELS];
	size_t label_n[SK_FEED_MAX_LABELS];
	size_t nlabels;
	const char *desc; /* or NULL */
} entry;

/* Reader thread: a rejected line (reason msg). */
void sk_feed_reject(ctx *c, uint64_t line, const char *msg);

/* Reader thread: check value as kind (or detect it) into c->norm; false: rejected. */
bool sk_feed_value_ok(ctx *c, uint64_t line, const char *v, size_t n, sk_feed_kind *k, bool detect);

/* Reader thread: one valid entry (its value in c->norm) becomes an indicator. */
sk_err sk_feed_emit(ctx *c, uint64_t line, const entry *e, sk_error *err);

/* One CSV record (the first one: the header). */
sk_err sk_feed_line_csv(ctx *c, uint64_t line, char *s, size_t n, sk_error *err);

#endif
