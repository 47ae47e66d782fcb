/*
 * metrics.c - sync metrics in the Prometheus text exposition format, for
 * `schakel metrics` and the server's /metrics endpoint.  Counters come from
 * the durable per-peer sync state, so they survive restarts.
 *
 * The cooperation figures follow (metrics_coop.c: schakel_coop_*, label
 * partner).
 *
 * The detection side's metrics (schakel_time_to_detection_seconds,
 * schakel_alerts_total, schakel_matcher_* ...) come from the live watcher
 * through sk_metrics_set_hook; without one the reserved names are announced
 * (HELP/TYPE, no samples).
 */
#include "schakel/node.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "metrics_int.h"
#include "schakel/timestamp.h"
#include "store/store_priv.h"

static void label(sk_buf *b, const char *name)
{
	sk_buf_puts(b, "{peer=\"");
	for (; *name; name++) {
		if (*name == '"' || *name == '\\')
			sk_buf_putc(b, '\\');
		if (*name != '\n')
			sk_buf_putc(b, *name);
	}
	sk_buf_puts(b, "\"}");
}

static pthread_mutex_t hook_mu = PTHREAD_MUTEX_INITIALIZER;
static void (*hook_fn)(void *ud, sk_buf *b);
static void *hook_ud;

void sk_metrics_set_hook(void (*fn)(void *ud, sk_buf *b), void *ud)
{
	pthread_mutex_lock(&hook_mu);
	hook_fn = fn;
	hook_ud = ud;
	pthread_mutex_unlock(&hook_mu);
}

typedef struct metric {
	const char *name, *type, *help;
	int col; /* column of the query below; -1 = computed */
} metric;

sk_err sk_metrics_render(sk_store *st, sk_buf *b, sk_error *err)
{
	static const char q[] =
	    "SELECT p.name, s.objects_in, s.objects_out, s.sightings_in, s.sightings_out,"
	    " s.failures, s.requests, s.share_us_sum, s.share_n, s.last_ok, s.last_source_added,"
	    " (SELECT count(*) FROM outbox o WHERE o.pid=p.pid)"
	    " FROM peers p JOIN peer_state s ON s.pid=p.pid ORDER BY p.name";
	static const metric m[] = {
	    {"schakel_sync_objects_in_total", "counter", "object versions received from a peer and stored", 1},
	    {"schakel_sync_objects_out_total", "counter", "object versions a peer accepted from us", 2},
	    {"schakel_sync_sightings_received_total", "counter", "sightings received from a peer", 3},
	    {"schakel_sync_sightings_sent_total", "counter", "sightings a peer accepted from us", 4},
	    {"schakel_sync_failures", "gauge", "consecutive failed syncs", 5},
	    {"schakel_sync_requests_total", "counter", "pull requests made to a peer", 6},
	    {"schakel_sync_outbox", "gauge", "object versions waiting to be pushed", 11},
	    {"schakel_sync_lag_seconds", "gauge", "seconds since the last successful sync", -1},
	    {"schakel_sync_time_to_share_seconds", "gauge",
	     "mean time from date_added at the source to stored here", -2},
	};
	sqlite3_stmt *s = NULL;
	int64_t now = sk_ts_now_us();

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		sk_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", m[i].name, m[i].help, m[i].name,
			      m[i].type);
		if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK)
			return sk_store_dberr(st, err, "metrics");
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(s, 0);
			sk_buf_puts(b, m[i].name);
			label(b, name ? name : "");
			if (m[i].col >= 0) {
				sk_buf_printf(b, " %lld\n", (long long)sqlite3_column_int64(s, m[i].col));
			} else if (m[i].col == -1) {
				if (sqlite3_column_type(s, 9) == SQLITE_NULL)
					sk_buf_puts(b, " NaN\n");
				else
					sk_buf_printf(b, " %.3f\n",
						      (double)(now - sqlite3_column_int64(s, 9)) / 1e6);
			} else {
				int64_t n = sqlite3_column_int64(s, 8);
				if (n <= 0)
					sk_buf_puts(b, " NaN\n");
				else
					sk_buf_printf(b, " %.6f\n",
						      (double)sqlite3_column_int64(s, 7) / (double)n /
							  1e6);
			}
		}
		sqlite3_finalize(s);
	}
	/* cooperation: per partner, the figures of `report cooperation` (metrics_coop.c) */
	if (sk_metrics_coop(st, b, err))
		return err->code;
	/* detection metrics: from the live watcher when one runs (watch.c) */
	pthread_mutex_lock(&hook_mu);
	if (hook_fn) {
		hook_fn(hook_ud, b);
		pthread_mutex_unlock(&hook_mu);
		return SK_OK;
	}
	pthread_mutex_unlock(&hook_mu);
	sk_buf_puts(b, "# HELP schakel_time_to_detection_seconds (only while serve --watch runs)\n"
		       "# TYPE schakel_time_to_detection_seconds gauge\n"
		       "# HELP schakel_alerts_total (only while serve --watch runs)\n"
		       "# TYPE schakel_alerts_total counter\n"
		       "# HELP schakel_matcher_entries (only while serve --watch runs)\n"
		       "# TYPE schakel_matcher_entries gauge\n");
	return SK_OK;
}

sk_err sk_sync_status_render(sk_store *st, sk_buf *b, sk_error *err)
{
	static const char q[] =
	    "SELECT p.name, s.pull_cursor, s.last_ok, s.failures, s.last_error,"
	    " s.objects_in, s.objects_out, s.sightings_in, s.sightings_out,"
	    " (SELECT count(*) FROM outbox o WHERE o.pid=p.pid)"
	    " FROM peers p JOIN peer_state s ON s.pid=p.pid ORDER BY p.name";
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "peer status");
	while (sqlite3_step(s) == SQLITE_ROW) {
		char ok[SK_TS_STR_MAX] = "never";
		const char *cur = (const char *)sqlite3_column_text(s, 1);
		const char *e = (const char *)sqlite3_column_text(s, 4);
		if (sqlite3_column_type(s, 2) != SQLITE_NULL)
			sk_ts_format_ms(sqlite3_column_int64(s, 2), ok);
		sk_buf_printf(b,
			      "%s: last ok %s, failures %d, cursor %s, in %lld, out %lld, "
			      "sightings in %lld out %lld, outbox %lld%s%s\n",
			      (const char *)sqlite3_column_text(s, 0), ok, sqlite3_column_int(s, 3),
			      cur ? cur : "-", (long long)sqlite3_column_int64(s, 5),
			      (long long)sqlite3_column_int64(s, 6),
			      (long long)sqlite3_column_int64(s, 7),
			      (long long)sqlite3_column_int64(s, 8),
			      (long long)sqlite3_column_int64(s, 9), e ? ", last error: " : "",
			      e ? e : "");
	}
	sqlite3_finalize(s);
	return SK_OK;
}
