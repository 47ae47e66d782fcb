/*
 * sync.c - pull, push (outbox), backoff and the per-peer sync state.
 *
 * See sync.h for the protocol and docs/sharing-policy.md ("Onward sharing")
 * for what may be pushed to whom.  All SQL on the sync tables lives here.
 */
#include "schakel/sync.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schakel/audit.h"
#include "schakel/import.h"
#include "schakel/reader.h"
#include "schakel/taxii_client.h"
#include "schakel/timestamp.h"
#include "schakel/tlp.h"
#include "store/store_priv.h"
#include "sync/sync_int.h"

#define DEFAULT_PAGE 1000
#define MAX_PAGES_LIMIT   1000000 /* the largest sync.max_pages taken */
#define MAX_SECONDS_LIMIT 86400
/*
 * A pull commits after this many objects or this long, whichever comes
 * first (and at its end): bigger transactions write each page of the
 * random-key indexes fewer times; the bound keeps other writers of the
 * store (TAXII POSTs, other peers) from waiting long for the write lock.
 */
#define PULL_TX_OBJECTS 50000
#define PULL_TX_US 2000000
#define PULL_CACHE_KIB (128 * 1024) /* page cache while pulling (sk_store_bulk) */
#define PULL_BULK_OBJECTS 5000     /* a pull this large (or of several pages) is bulk */

int64_t sk_sync_backoff_s(unsigned n, double jitter01)
{
	double base = n >= 12 ? 3600.0 : (double)(1u << (n ? n : 1));
	if (base > 3600.0)
		base = 3600.0;
	if (jitter01 < 0 || jitter01 > 1)
		jitter01 = 0.5;
	double v = base * (0.75 + 0.5 * jitter01);
	return v < 1 ? 1 : (int64_t)v;
}

double sk_sync_rand01(void)
{
	static _Thread_local unsigned seed;
	if (!seed)
		seed = (unsigned)sk_ts_now_us() ^ (unsigned)(uintptr_t)&seed;
	return (double)rand_r(&seed) / (double)RAND_MAX;
}

/* --- small SQL helpers ------------------------------------------------------ */

#include <stdarg.h>
/*
 * Run one statement with parameters described by fmt: 'i' int64, 't' text
 * (NULL allowed), 'n' NULL.
 */
sk_err sk_sync_exec_bind(sk_store *st, const char *sql, sk_error *err, const char *fmt, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap;
	sk_err rc = SK_OK;

	if (sk_store_stmt_get(st, sql, strlen(sql), &s, err))
		return SK_EDB;
	va_start(ap, fmt);
	for (int i = 0; fmt[i]; i++) {
		if (fmt[i] == 'i')
			sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
		else if (fmt[i] == 't')
			sqlite3_bind_text(s, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(s, i + 1);
	}
	va_end(ap);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "sync state");
	sk_store_stmt_put(st, s);
	return rc;
}

/* One statement in its own write transaction. */
static sk_err exec_tx(sk_store *st, const char *sql, sk_error *err, const char *fmt, int64_t a,
		      int64_t b)
{
	sk_err rc = sk_store_begin(st, err);
	if (rc)
		return rc;
	rc = sk_sync_exec_bind(st, sql, err, fmt, a, b);
	if (!rc)
		rc = sk_store_commit(st, err);
	else
		sk_store_rollback(st);
	return rc;
}

sk_err sk_sync_meta_get(sk_store *st, const char *key, char **val, sk_error *err)
{
	static const char q[] = "SELECT value FROM meta WHERE key=?1";
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_ENOTFOUND;
	*val = NULL;
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err))
		return SK_EDB;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*val = strdup((const char *)sqlite3_column_text(s, 0));
		rc = *val ? SK_OK : SK_ENOMEM;
	}
	sk_store_stmt_put(st, s);
	return rc;
}

/* --- URLs ------------------------------------------------------------------- */

/* "<api root URL>/" for p (malloc'd). */
sk_err sk_sync_root_url(const sk_peer *p, char **out, sk_error *err)
{
	char *u = NULL;
	sk_err rc = sk_tc_url_join(p->url, p->api_root, &u, err);
	size_t n;
	if (rc)
		return rc;
	n = strlen(u);
	if (n && u[n - 1] != '/') {
		char *v = realloc(u, n + 2);
		if (!v) {
			free(u);
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		}
		u = v;
		u[n] = '/';
		u[n + 1] = '\0';
	}
	*out = u;
	return SK_OK;
}

sk_err sk_sync_objects_url(const sk_peer *p, sk_buf *b, sk_error *err)
{
	char *root = NULL;
	sk_err rc = sk_sync_root_url(p, &root, err);
	if (rc)
		return rc;
	sk_buf_init(b, 1 << 16);
	rc = sk_buf_printf(b, "%scollections/", root);
	if (!rc)
		rc = sk_tc_url_escape(b, p->collection);
	if (!rc)
		rc = sk_buf_puts(b, "/objects/");
	free(root);
	if (rc) {
		sk_buf_free(b);
		return sk_error_set(err, rc, "URL too long");
	}
	return SK_OK;
}

/* When the run of o ends (sk_ts_now_us time). */
int64_t sk_sync_run_deadline(const sk_sync_opts *o)
{
	long s = o->max_seconds > 0 ? o->max_seconds : SK_SYNC_DEFAULT_MAX_SECONDS;
	return o->deadline_us ? o->deadline_us : sk_ts_now_us() + (int64_t)s * 1000000;
}

sk_err sk_sync_client_for(const sk_peer *p, const sk_sync_opts *o, int64_t deadline, sk_tc **c,
                         sk_error *err)
{
	sk_tc_config cfg = {
	    .auth = p->auth,
	    .username = p->username,
	    .secret = p->secret,
	    .ca_file = p->ca,
	    .tls_pin = p->tls_pin,
	    .timeout_s = o->timeout_s,
	    .low_speed_s = o->low_speed_s,
	    .max_body = o->max_body,
	    .stop = o->stop,
	    .deadline_us = deadline,
	};
	return sk_tc_new(&cfg, c, err);
}

const char *sk_sync_http_reason(long status)
{
	switch (status) {
	case 401: return "authentication failed";
	case 403: return "forbidden";
	case 404: return "collection not found";
	case 406: return "not acceptable";
	case 413: return "request too large";
	case 415: return "unsupported media type";
	case 429: return "too many requests";
	default: return status >= 500 ? "server error" : "unexpected status";
	}
}

/* --- pull ------------------------------------------------------------------- */

/* A page's outcome and the cursor it reached, inside the page's transaction. */
static sk_err save_pull(sk_store *st, int64_t pid, const char *cursor, uint64_t stored,
			uint64_t sightings, int64_t source_added, int64_t now, sk_error *err)
{
	static const char q[] =
	    "UPDATE peer_state SET pull_cursor=coalesce(?2, pull_cursor),"
	    " objects_in=objects_in+?3, sightings_in=sightings_in+?4,"
	    " share_us_sum=share_us_sum+?5, share_n=share_n+?6,"
	    " last_source_added=coalesce(?7, last_source_added)"
	    " WHERE pid=?1";
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err))
		return SK_EDB;
	sqlite3_bind_int64(s, 1, pid);
	if (cursor && *cursor)
		sqlite3_bind_text(s, 2, cursor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (int64_t)stored);
	sqlite3_bind_int64(s, 4, (int64_t)sightings);
	sqlite3_bind_int64(s, 5, source_added > 0 && stored ? (now - source_added) * (int64_t)stored
							     : 0);
	sqlite3_bind_int64(s, 6, source_added > 0 ? (int64_t)stored : 0);
	if (source_added > 0)
		sqlite3_bind_int64(s, 7, source_added);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "peer state");
	sk_store_stmt_put(st, s);
	return rc;
}

static sk_err load_cursor(sk_store *st, int64_t pid, char **cur, sk_error *err)
{
	static const char q[] = "SELECT pull_cursor FROM peer_state WHERE pid=?1";
	sqlite3_stmt *s = NULL;
	*cur = NULL;
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err))
		return SK_EDB;
	sqlite3_bind_int64(s, 1, pid);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*cur = strdup((const char *)sqlite3_column_text(s, 0));
	sk_store_stmt_put(st, s);
	return SK_OK;
}

/* The URL of a page: limit, all versions, the chain's added_after, the `next` token. */
static sk_err page_url(const sk_peer *p, sk_buf *url, const sk_buf *base, size_t limit,
		       const char *after, const char *next, sk_error *err)
{
	sk_buf_reset(url);
	/* every version, not only the latest: the peer's history is kept here too */
	if (sk_buf_printf(url, "%s?limit=%zu&match%%5Bversion%%5D=all", base->data, limit) ||
	    (after && (sk_buf_puts(url, "&added_after=") || sk_tc_url_escape(url, after))) ||
	    (next && (sk_buf_puts(url, "&next=") || sk_tc_url_escape(url, next))))
		return sk_error_set(err, SK_ELIMIT, "%s: URL too long", p->name);
	return SK_OK;
}

/* A response that should be a page of objects: its status, type and envelope. */
static sk_err check_page(const sk_tc_resp *r, sk_tc_envelope *env, sk_error *err)
{
	memset(env, 0, sizeof(*env));
	if (r->status != 200)
		return sk_error_set(err, SK_EIO, "HTTP %ld (%s)", r->status,
				    sk_sync_http_reason(r->status));
	if (r->content_type[0] && !strstr(r->content_type, "json"))
		return sk_error_set(err, SK_EINVAL, "not JSON (%s)", r->content_type);
	return sk_tc_envelope_scan(r->body.data ? r->body.data : "", r->body.len, env, err);
}

/* The next page's envelope, scanned on its GET's thread. */
static sk_err scan_ahead(void *ud, const sk_tc_resp *r, sk_error *err)
{
	return check_page(r, ud, err);
}

/*
 * The open write transaction of a pull: pages are stored into it, each with
 * the cursor it reached, until it is committed (so after a crash the store
 * holds some pages and the cursor of the last of them, or neither).  Counts
 * reach the caller's result only with the commit.
 */
typedef struct pull_tx {
	bool open;
	int64_t began;               /* µs */
	uint64_t objects;            /* elements stored in it */
	uint64_t received, stored, rejected;
} pull_tx;

static sk_err tx_commit(sk_store *st, pull_tx *tx, sk_sync_result *res, sk_error *err)
{
	sk_err rc;
	if (!tx->open)
		return SK_OK;
	tx->open = false;
	if ((rc = sk_store_commit(st, err)))
		return rc;
	res->received += tx->received;
	res->stored += tx->stored;
	res->rejected += tx->rejected;
	return SK_OK;
}

static void tx_rollback(sk_store *st, pull_tx *tx)
{
	if (tx->open)
		sk_store_rollback(st);
	tx->open = false;
}

/* Rejections of a page: the first few are logged (a hostile peer cannot flood the log). */
typedef struct reject_log {
	const char *peer;
	unsigned n;
} reject_log;

#define REJECTS_LOGGED 10

static void log_reject(void *ud, const char *where, const char *msg)
{
	reject_log *rl = ud;
	(void)where;
	if (rl->n++ < REJECTS_LOGGED)
		fprintf(stderr, "schakel: sync %s: rejected: %s\n", rl->peer, msg);
	else if (rl->n == REJECTS_LOGGED + 1)
		fprintf(stderr, "schakel: sync %s: more rejections in this page not logged\n",
			rl->peer);
}

/* Store one page and the cursor it reached into the pull's transaction. */
static sk_err store_page(sk_store *st, const sk_peer *p, const char *rx, const sk_tc_resp *r,
			 const sk_tc_envelope *env, int64_t src_added, pull_tx *tx, sk_error *err)
{
	sk_import_stats stats;
	uint64_t sightings = 0;
	sk_err rc;

	memset(&stats, 0, sizeof(stats));
	if (!env->nobjects && !r->date_last[0])
		return SK_OK; /* nothing to store (the request is counted by sk_sync_peer) */
	if (!tx->open) {
		if ((rc = sk_store_begin(st, err)))
			return rc;
		memset(tx, 0, sizeof(*tx));
		tx->open = true;
		tx->began = sk_ts_now_us();
	}
	if (env->nobjects) {
		sk_reader *rd = NULL;
		sk_origin origin = {.rx = rx,
				    .peer = p->name,
				    .source_added = src_added,
				    .unmarked = p->unmarked,
				    .tofu = p->tofu};
		reject_log rl = {.peer = p->name};
		sk_import_opts io = {.cid = p->local_cid, .in_tx = true, .pipeline = true,
				     .on_reject = log_reject, .ud = &rl};
		if ((rc = sk_reader_open_mem(r->body.data, r->body.len, p->name, &rd, err)))
			return rc;
		sk_store_set_origin(st, &origin);
		rc = sk_import_reader(st, rd, &io, &stats, err);
		sk_store_set_origin(st, NULL);
		sk_reader_close(rd);
		if (rc) {
			sk_error_prefix(err, "peer %s", p->name);
			return rc;
		}
	}
	for (size_t i = 0; i < stats.ntypes; i++)
		if (!strcmp(stats.types[i].type, "sighting"))
			sightings = stats.types[i].stored;
	if ((rc = save_pull(st, p->pid, r->date_last, stats.stored, sightings, src_added,
			    sk_ts_now_us(), err)))
		return rc;
	tx->objects += stats.objects;
	tx->received += stats.objects;
	tx->stored += stats.stored + stats.added;
	tx->rejected += stats.rejected;
	return SK_OK;
}

/* FNV-1a: telling `next` tokens apart within one run (the peer only fools itself). */
static uint64_t token_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/*
 * Why a pull must not fetch another page although the peer says there is
 * more: the page or time cap, or a `next` token given before in this run
 * (a peer that answers the same page forever).  NULL: go on.  seen holds the
 * hashes of the tokens so far (at most max_pages).
 */
static const char *pull_stop(const char *next, size_t page, size_t max_pages, int64_t deadline,
                             uint64_t *seen, size_t *nseen)
{
	if (next) {
		uint64_t hv = token_hash(next);
		for (size_t i = 0; i < *nseen; i++)
			if (seen[i] == hv)
				return "the peer repeated a `next` token (no progress)";
		if (*nseen < max_pages)
			seen[(*nseen)++] = hv;
	}
	if (page + 1 >= max_pages)
		return "page limit (sync.max_pages) reached";
	if (sk_ts_now_us() >= deadline)
		return "time limit (sync.max_seconds) reached";
	return NULL;
}

sk_err sk_sync_pull(sk_store *st, const sk_peer *p, const sk_sync_opts *o, sk_sync_result *res,
		    sk_error *err)
{
	size_t limit = o->page_limit ? o->page_limit : DEFAULT_PAGE;
	size_t max_pages = o->max_pages ? o->max_pages : SK_SYNC_DEFAULT_MAX_PAGES;
	int64_t deadline = sk_sync_run_deadline(o);
	uint64_t *seen = NULL; /* hashes of the `next` tokens of this run */
	size_t nseen = 0;
	const char *why = NULL; /* the run stops early: pull_stop() */
	sk_buf base = {0}, url;
	sk_tc *c = NULL;
	sk_tc_async *pending = NULL; /* the next page's GET, running while this one is stored */
	sk_tc_envelope next_env = {0}; /* pending's envelope, scanned on its thread */
	pull_tx tx = {0};
	bool bulk = false;
	uint64_t tx_objects = o->tx_objects ? o->tx_objects : PULL_TX_OBJECTS;
	sk_tc_resp r;
	bool have_r = false;
	char *cursor = NULL, *next = NULL, *after = NULL;
	char rx[SK_PEER_NAME_MAX + 160];
	sk_err rc;

	sk_buf_init(&url, 1 << 16);
	sk_peer_rx(p, rx, sizeof(rx));
	if (max_pages > MAX_PAGES_LIMIT)
		max_pages = MAX_PAGES_LIMIT;
	if (!(seen = calloc(max_pages, sizeof(*seen)))) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = sk_sync_objects_url(p, &base, err)) || (rc = sk_sync_client_for(p, o, deadline, &c, err)) ||
	    (rc = load_cursor(st, p->pid, &cursor, err)))
		goto out;
	/*
	 * added_after stays the same along a chain of `next` tokens (a server
	 * may bind its token to the filters); the durable cursor moves per page.
	 */
	if (cursor && !(after = strdup(cursor))) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = page_url(p, &url, &base, limit, after, NULL, err)))
		goto out;
	for (size_t page = 0;; page++) {
		sk_tc_envelope env;
		int64_t src_added = 0;
		char key[SK_TS_KEY_LEN + 1];
		bool more;

		if (o->stop && *o->stop) {
			if (!(rc = tx_commit(st, &tx, res, err))) /* keep what is stored */
				rc = sk_error_set(err, SK_EINTERRUPTED, "%s: stopped", p->name);
			goto out;
		}
		if (pending) {
			rc = sk_tc_get_finish(pending, &r, err);
			pending = NULL;
			env = next_env;
			memset(&next_env, 0, sizeof(next_env));
		} else {
			memset(&env, 0, sizeof(env));
			rc = sk_tc_get(c, url.data, &r, err);
			if (!rc)
				rc = check_page(&r, &env, err);
		}
		have_r = true;
		res->requests++;
		if (rc) {
			/* the pages stored so far are good: keep them and their cursor */
			sk_error e2;
			sk_tc_envelope_clear(&env);
			sk_error_prefix(err, "peer %s", p->name);
			if (tx_commit(st, &tx, res, &e2) && err)
				*err = e2;
			goto out;
		}
		res->pages++;
		if (r.date_last[0] && !sk_ts_parse(r.date_last, strlen(r.date_last), key, &src_added))
			r.date_last[0] = '\0'; /* unusable as a cursor */
		/*
		 * Where to go next (`next`, else the page's last date_added, else
		 * stop) depends only on this response: decide it now and start that
		 * GET, so that the peer serves it while this page is stored.
		 */
		more = env.more && env.nobjects > 0;
		free(next);
		next = NULL;
		if (more && env.next && *env.next) {
			next = env.next;
			env.next = NULL;
		}
		if (r.date_last[0]) {
			if (!next && cursor && !strcmp(cursor, r.date_last))
				more = false; /* no progress possible */
		} else if (!next) {
			more = false;
		}
		if (more && !next) { /* no token: continue after this page */
			free(after);
			if (!(after = strdup(r.date_last)))
				rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		}
		if (!rc && more)
			why = pull_stop(next, page, max_pages, deadline, seen, &nseen);
		if (!rc && more && !why &&
		    !(rc = page_url(p, &url, &base, limit, after, next, err)))
			rc = sk_tc_get_start(c, url.data, scan_ahead, &next_env, &pending, err);
		/* more than a page or so: a bigger cache, checkpoints off this thread */
		if (!rc && !bulk && (pending || env.nobjects >= PULL_BULK_OBJECTS) &&
		    !(rc = sk_store_bulk(st, true, PULL_CACHE_KIB, err)))
			bulk = true;
		if (!rc)
			rc = store_page(st, p, rx, &r, &env, src_added, &tx, err);
		sk_tc_envelope_clear(&env);
		if (!rc && (!pending || tx.objects >= tx_objects ||
			    sk_ts_now_us() - tx.began >= PULL_TX_US || (o->stop && *o->stop)))
			rc = tx_commit(st, &tx, res, err);
		if (rc)
			goto out;
		if (r.date_last[0]) {
			free(cursor);
			if (!(cursor = strdup(r.date_last))) {
				rc = sk_error_set(err, SK_ENOMEM, "out of memory");
				goto out;
			}
		}
		sk_tc_resp_free(&r);
		have_r = false;
		if (why) { /* what is stored stays, with its cursor: the next run goes on */
			rc = sk_error_set(err, SK_ELIMIT,
			                  "peer %s: pull stopped after %zu pages: %s; the next run "
			                  "continues from the cursor",
			                  p->name, page + 1, why);
			goto out;
		}
		if (!pending)
			break;
	}
out:
	tx_rollback(st, &tx);
	if (bulk)
		sk_store_bulk(st, false, 0, NULL);
	sk_tc_get_cancel(pending);
	sk_tc_envelope_clear(&next_env);
	if (have_r)
		sk_tc_resp_free(&r);
	free(seen);
	free(cursor);
	free(next);
	free(after);
	sk_buf_free(&base);
	sk_buf_free(&url);
	sk_tc_free(c);
	return rc;
}

/* Node setting name ("config." name in meta) as a number in 1..max, else def. */
static long setting(sk_store *st, const char *name, long def, long max)
{
	char key[64], *v = NULL, *end;
	long n;
	snprintf(key, sizeof(key), "config.%s", name);
	if (sk_sync_meta_get(st, key, &v, NULL) != SK_OK || !v)
		return def;
	n = strtol(v, &end, 10);
	if (*end || end == v || n < 1 || n > max)
		n = def;
	free(v);
	return n;
}

sk_err sk_sync_peer(sk_store *st, const char *name, const sk_sync_opts *o, sk_sync_result *res,
		    sk_error *err)
{
	/* pull requests are counted here: a pull with nothing new then writes once */
	static const char qok[] = "UPDATE peer_state SET requests=requests+?4,"
				  " last_try=?2, last_ok=?2, failures=0,"
				  " last_error=NULL, next_run=?2 + ?3 WHERE pid=?1";
	static const char qbad[] = "UPDATE peer_state SET requests=requests+?5,"
				   " last_try=?2, failures=failures+1,"
				   " last_error=?4, next_run=?2 + ?3 WHERE pid=?1";
	static const char qf[] = "SELECT failures FROM peer_state WHERE pid=?1";
	/* the history behind availability (docs/cooperation.md), pruned after 400 days */
	static const char qlog[] = "INSERT OR REPLACE INTO sync_log(pid, ts, ok, error)"
				   " VALUES(?1, ?2, ?3, ?4)";
	static const char qprune[] = "DELETE FROM sync_log WHERE pid=?1 AND ts<?2";
	const int64_t keep = INT64_C(400) * 86400 * 1000000;
	sk_peer p;
	uint64_t pulls;
	sk_err rc;
	sk_sync_opts lo = *o;

	memset(res, 0, sizeof(*res));
	if (!lo.max_pages)
		lo.max_pages = (size_t)setting(st, "sync.max_pages", SK_SYNC_DEFAULT_MAX_PAGES,
		                               MAX_PAGES_LIMIT);
	if (!lo.max_seconds)
		lo.max_seconds =
		    setting(st, "sync.max_seconds", SK_SYNC_DEFAULT_MAX_SECONDS, MAX_SECONDS_LIMIT);
	if (!lo.deadline_us)
		lo.deadline_us = sk_ts_now_us() + (int64_t)lo.max_seconds * 1000000;
	o = &lo;
	if ((rc = sk_peer_get(st, o->db_path, name, &p, err)))
		return rc;
	/* pull and push are independent: a failed pull still queues and pushes */
	if (p.pull)
		rc = sk_sync_pull(st, &p, o, res, err);
	pulls = res->requests;
	if (p.push && rc != SK_EINTERRUPTED) {
		sk_error e2;
		sk_err rc2 = sk_sync_push(st, &p, o, res, rc ? &e2 : err);
		if (!rc)
			rc = rc2;
	}
	if (rc != SK_EINTERRUPTED) {
		int64_t now = sk_ts_now_us();
		sk_error e2;
		if (!rc) {
			sk_store_begin(st, &e2);
			sk_sync_exec_bind(st, qok, &e2, "iiii", p.pid, now, (int64_t)p.interval * 1000000,
				  (int64_t)pulls);
			sk_sync_exec_bind(st, qlog, &e2, "iiin", p.pid, now, (int64_t)1);
			sk_sync_exec_bind(st, qprune, &e2, "ii", p.pid, now - keep);
			sk_store_commit(st, &e2);
		} else {
			sqlite3_stmt *s = NULL;
			unsigned fails = 0;
			if (sk_store_stmt_get(st, qf, sizeof(qf) - 1, &s, NULL) == SK_OK) {
				sqlite3_bind_int64(s, 1, p.pid);
				if (sqlite3_step(s) == SQLITE_ROW)
					fails = (unsigned)sqlite3_column_int(s, 0);
				sk_store_stmt_put(st, s);
			}
			int64_t wait = sk_sync_backoff_s(fails + 1, sk_sync_rand01());
			if (wait > p.interval * 20 && p.interval > 0)
				wait = (int64_t)p.interval * 20 > 60 ? (int64_t)p.interval * 20 : 60;
			if (sk_store_begin(st, &e2) == SK_OK) {
				sk_sync_exec_bind(st, qbad, &e2, "iiiti", p.pid, now, wait * 1000000,
					  err->msg, (int64_t)pulls);
				sk_sync_exec_bind(st, qlog, &e2, "iiit", p.pid, now, (int64_t)0,
						  err->msg);
				sk_sync_exec_bind(st, qprune, &e2, "ii", p.pid, now - keep);
				sk_store_commit(st, &e2);
			}
		}
	}
	(void)exec_tx;
	sk_peer_clear(&p);
	return rc;
}
