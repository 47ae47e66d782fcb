/*
 * ui_overview.c - the console's overview and live alerts (docs/console.md):
 * what arrived from whom, what was shared (from the audit log of exits,
 * docs/audit.md), sightings made here and returned by others, the delay
 * from an indicator's arrival to its first sighting here, and the peers'
 * health.  Counts go through the request's view (sk_visible); the sharing
 * figures and the peers are the node's own business, shown to its own
 * people only.
 *
 * Periods are found by version row: objects.added grows with objects.ver,
 * so the first row of a period is found by bisection, and the period is a
 * range of the primary key instead of a scan of the whole store.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/audit.h"
#include "schakel/timestamp.h"
#include "store/store_priv.h"
#include "ui/ui_data_int.h"

#define DAY_US          (86400LL * 1000000)
#define OVERVIEW_DAYS   30    /* the default period */
#define OVERVIEW_ALERTS 10    /* alerts in the overview */
#define DELAY_MAX       20000 /* sightings timed */

/* The first version row stored at or after us (max ver + 1 if none). */
static int64_t ver_at(ui_ctx *c, int64_t us)
{
	sqlite3_stmt *s = ui_stmt(c, "SELECT ver, added FROM objects WHERE ver>=?1 ORDER BY ver"
	                             " LIMIT 1");
	sqlite3_stmt *m = ui_stmt(c, "SELECT coalesce(max(ver), 0) FROM objects");
	int64_t lo = 1, hi = 1;

	if (!s || !m) {
		if (s)
			ui_stmt_done(c, s);
		if (m)
			ui_stmt_done(c, m);
		return 1;
	}
	if (sqlite3_step(m) == SQLITE_ROW)
		hi = sqlite3_column_int64(m, 0) + 1;
	ui_stmt_done(c, m);
	while (lo < hi) { /* the first row at or after mid, then halve */
		int64_t mid = lo + (hi - lo) / 2, got = hi, added = INT64_MAX;
		sqlite3_bind_int64(s, 1, mid);
		if (sqlite3_step(s) == SQLITE_ROW) {
			got = sqlite3_column_int64(s, 0);
			added = sqlite3_column_int64(s, 1);
		}
		sqlite3_reset(s);
		if (added >= us)
			hi = mid;
		else
			lo = got + 1;
	}
	ui_stmt_done(c, s);
	return lo;
}

/* A source (objects.rx) as a name: the partner's or peer's, else rx itself. */
static json_t *source_name(ui_ctx *c, const char *rx)
{
	static const char q[] = "SELECT coalesce((SELECT name FROM partners WHERE identity=?1 AND"
	                        " pid>0), (SELECT name FROM peers WHERE identity=?1 OR"
	                        " 'peer:' || name=?1 LIMIT 1))";
	sqlite3_stmt *s;
	json_t *j = NULL;

	if (!rx)
		return json_string("here");
	if (!ui_is_own(c) && strcmp(rx, c->who.identity) != 0)
		return json_string("another source"); /* partners do not learn each other */
	if ((s = ui_stmt(c, q))) {
		sqlite3_bind_text(s, 1, rx, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) == SQLITE_ROW && ui_col(s, 0))
			j = json_string(ui_col(s, 0));
		ui_stmt_done(c, s);
	}
	return j ? j : json_string(rx);
}

/* --- alerts ------------------------------------------------------------------------- */

static int first_value(void *ud, const char *value, const char *kind)
{
	(void)kind;
	snprintf(ud, 256, "%s", value);
	return 1;
}

/* One alert from a sighting row (ver, id, time, count, sighting_of_ref). */
static json_t *alert(ui_ctx *c, sqlite3_stmt *s)
{
	static const char qi[] = "SELECT o.ver, o.rx FROM objects o WHERE o.id=?1 AND " UI_VISIBLE
	                         " ORDER BY o.version DESC LIMIT 1";
	const char *ind = ui_col(s, 4);
	json_t *sum = ind ? ui_summary_of(c, ind) : NULL, *src = json_null();
	char value[256] = "";
	sqlite3_stmt *q;

	if (sum && (q = ui_stmt(c, qi))) {
		sqlite3_bind_text(q, 1, ind, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) == SQLITE_ROW) {
			sk_store_search_values(c->st, sqlite3_column_int64(q, 0), first_value,
			                       value, NULL);
			json_decref(src);
			src = source_name(c, ui_col(q, 1));
		}
		ui_stmt_done(c, q);
	}
	return json_pack("{s:I, s:s?, s:s?, s:o, s:s?, s:o, s:I}", "seq",
	                 (json_int_t)sqlite3_column_int64(s, 0), "time", ui_col(s, 2), "sighting",
	                 ui_col(s, 1), "indicator", sum ? sum : json_null(), "value",
	                 value[0] ? value : NULL, "source", src, "count",
	                 (json_int_t)sqlite3_column_int64(s, 3));
}

/* Sightings made here (no source) after seq, newest first. */
static json_t *alerts(ui_ctx *c, int64_t after, long long limit, int64_t *cursor)
{
	static const char q[] =
	    "SELECT o.ver, o.id, coalesce(json_extract(o.json,'$.last_seen'), o.modified),"
	    " coalesce(json_extract(o.json,'$.count'), 1), o.dst_ref FROM objects o"
	    " WHERE o.type='sighting' AND o.rx IS NULL AND o.ver>?1 AND " UI_VISIBLE
	    " ORDER BY o.ver DESC LIMIT ?2";
	json_t *a = json_array();
	sqlite3_stmt *s = ui_stmt(c, q);

	*cursor = after;
	if (!s)
		return a;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, limit);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_int64(s, 0) > *cursor)
			*cursor = sqlite3_column_int64(s, 0);
		json_array_append_new(a, alert(c, s));
	}
	ui_stmt_done(c, s);
	return a;
}

void ui_h_alerts(ui_ctx *c, char **seg, size_t nseg)
{
	long long after, limit;
	int64_t cursor;
	json_t *a;

	(void)seg;
	(void)nseg;
	if (!ui_param_int(c, "after", 0, INT64_MAX, 0, &after) ||
	    !ui_param_int(c, "limit", 1, UI_MAX_LIMIT, 50, &limit))
		return;
	a = alerts(c, after, limit, &cursor);
	ui_send_json(c, 200, json_pack("{s:o, s:I}", "alerts", a, "cursor", (json_int_t)cursor));
}

/* --- overview ----------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static json_t *received(ui_ctx *c, int64_t v0, int64_t v1, json_t **by_day)
{
	/*
	 * every version from a named source has a provenance row: walk those,
	 * not the period's every version (files of unknown source are left out)
	 */
	static const char q[] =
	    "SELECT o.rx, o.type, date(o.added / 1000000, 'unixepoch'), count(*) FROM provenance p"
	    " CROSS JOIN objects o ON o.ver=p.ver WHERE p.ver>=?1 AND p.ver<?2 AND o.rx IS NOT NULL"
	    " AND " UI_VISIBLE " GROUP BY 1, 2, 3 ORDER BY 3, 1, 2";
	json_t *tot = json_object(), *days = json_object(), *out = json_array(), *v;
	sqlite3_stmt *s = ui_stmt(c, q);
	const char *k;

	*by_day = json_array();
	if (s) {
		sqlite3_bind_int64(s, 1, v0);
		sqlite3_bind_int64(s, 2, v1);
		while (sqlite3_step(s) == SQLITE_ROW) {
			json_t *name = source_name(c, ui_col(s, 0));
			char key[600];
			long long n = sqlite3_column_int64(s, 3);
			snprintf(key, sizeof(key), "%s\x1f%s", json_string_value(name),
			         ui_col(s, 1));
			v = json_object_get(tot, key);
			json_object_set_new(tot, key,
			                    json_integer((v ? json_integer_value(v) : 0) + n));
			snprintf(key, sizeof(key), "%s\x1f%s", ui_col(s, 2),
			         json_string_value(name));
			v = json_object_get(days, key);
			json_object_set_new(days, key,
			                    json_integer((v ? json_integer_value(v) : 0) + n));
			json_decref(name);
		}
		ui_stmt_done(c, s);
	}
	json_object_foreach(tot, k, v)
	{
		const char *sep = strchr(k, '\x1f');
		json_array_append_new(out,
		                      json_pack("{s:s%, s:s, s:O}", "partner", k, (size_t)(sep - k),
		                                "type", sep + 1, "count", v));
	}
	json_object_foreach(days, k, v)
	{
		const char *sep = strchr(k, '\x1f');
		json_array_append_new(*by_day,
		                      json_pack("{s:s%, s:s, s:O}", "day", k, (size_t)(sep - k),
		                                "partner", sep + 1, "count", v));
	}
	json_decref(tot);
	json_decref(days);
	return out;
}

/* Versions handed out per recipient, from the audit log's exit entries (own people only). */
static json_t *shared(ui_ctx *c, int64_t since, int64_t until, json_t *page)
{
	static const char q[] =
	    "SELECT subject, sum(CASE json_type(versions) WHEN 'array' THEN"
	    " json_array_length(versions) ELSE coalesce(json_extract(versions,'$.count'), 0) END)"
	    " FROM audit WHERE ts>=?1 AND ts<?2 AND versions IS NOT NULL AND subject IS NOT NULL"
	    " GROUP BY subject ORDER BY 2 DESC";
	json_t *a = json_array();
	sqlite3_stmt *s;

	if (!ui_is_own(c))
		return a;
	if (!sk_audit_enabled(c->st))
		json_object_set_new(
		    page, "shared_note",
		    json_string("the audit log is off: exits since it was turned off"
		                " are not counted"));
	if (!(s = ui_stmt(c, q)))
		return a;
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int64(s, 2, until);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *subj = ui_col(s, 0), *colon = subj ? strchr(subj, ':') : NULL;
		json_array_append_new(a,
		                      json_pack("{s:s, s:s, s:I}", "partner",
		                                colon ? colon + 1 : subj, "recipient", subj,
		                                "count", (json_int_t)sqlite3_column_int64(s, 1)));
	}
	ui_stmt_done(c, s);
	return a;
}

/* Sightings made here and returned by others, per day, and the detection delay. */
static json_t *sightings(ui_ctx *c, int64_t v0, int64_t v1, json_t **delay)
{
	static const char q[] =
	    "SELECT date(o.added / 1000000, 'unixepoch'), o.rx IS NULL, o.created,"
	    " (SELECT min(coalesce(p.arrived, i.added)) FROM objects i LEFT JOIN provenance p"
	    "  ON p.ver=i.ver WHERE i.id=o.dst_ref) FROM objects o"
	    " WHERE o.ver>=?1 AND o.ver<?2 AND o.type='sighting' AND " UI_VISIBLE " ORDER BY o.ver";
	json_t *days = json_array(), *day = NULL;
	long long here = 0, back = 0;
	double *d = malloc(DELAY_MAX * sizeof(double)), max = 0;
	size_t nd = 0;
	sqlite3_stmt *s = ui_stmt(c, q);

	if (s) {
		sqlite3_bind_int64(s, 1, v0);
		sqlite3_bind_int64(s, 2, v1);
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *dy = ui_col(s, 0);
			bool mine = sqlite3_column_int(s, 1) != 0;
			if (!day || strcmp(json_string_value(json_object_get(day, "day")), dy)) {
				day = json_pack("{s:s, s:i, s:i}", "day", dy, "here", 0, "returned",
				                0);
				json_array_append_new(days, day);
			}
			json_object_set_new(day, mine ? "here" : "returned",
			                    json_integer(json_integer_value(json_object_get(
			                                     day, mine ? "here" : "returned")) +
			                                 1));
			mine ? here++ : back++;
			if (mine && d && nd < DELAY_MAX && ui_col(s, 2) &&
			    sqlite3_column_type(s, 3) == SQLITE_INTEGER) {
				int64_t us;
				if (sk_ts_parse(ui_col(s, 2), strlen(ui_col(s, 2)), NULL, &us) &&
				    us >= sqlite3_column_int64(s, 3)) {
					d[nd] = (double)(us - sqlite3_column_int64(s, 3)) / 1e6;
					if (d[nd] > max)
						max = d[nd];
					nd++;
				}
			}
		}
		ui_stmt_done(c, s);
	}
	if (nd) {
		qsort(d, nd, sizeof(double), cmp_double);
		*delay = json_pack("{s:I, s:f, s:f, s:f}", "n", (json_int_t)nd, "median", d[nd / 2],
		                   "p90", d[(size_t)floor((double)(nd - 1) * 0.9)], "max", max);
	} else {
		*delay = json_pack("{s:i, s:n, s:n, s:n}", "n", 0, "median", "p90", "max");
	}
	free(d);
	return json_pack("{s:I, s:I, s:o}", "here", (json_int_t)here, "returned", (json_int_t)back,
	                 "by_day", days);
}

/* Peers and their sync state (own people only). */
static json_t *peers(ui_ctx *c)
{
	static const char q[] =
	    "SELECT p.name, p.url, s.last_ok, s.failures, s.last_error"
	    " FROM peers p LEFT JOIN peer_state s ON s.pid=p.pid ORDER BY p.name";
	json_t *a = json_array();
	sqlite3_stmt *s;
	int64_t now = sk_ts_now_us();

	if (!ui_is_own(c) || !(s = ui_stmt(c, q)))
		return a;
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *last = json_null(), *lag = json_null();
		if (sqlite3_column_type(s, 2) == SQLITE_INTEGER) {
			int64_t ok = sqlite3_column_int64(s, 2);
			if (ok < 100000000000LL) /* seconds, not microseconds */
				ok *= 1000000;
			last = ui_time_json(ok);
			lag = json_integer((now - ok) / 1000000);
		}
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o, s:I, s:s?}", "name",
		                                   ui_col(s, 0), "url", ui_col(s, 1),
		                                   "last_success", last, "lag_s", lag, "errors",
		                                   (json_int_t)sqlite3_column_int64(s, 3),
		                                   "last_error", ui_col(s, 4)));
	}
	ui_stmt_done(c, s);
	return a;
}

void ui_h_overview(ui_ctx *c, char **seg, size_t nseg)
{
	int64_t now = sk_ts_now_us(), since, until, v0, v1, cursor;
	json_t *page, *by_day = NULL, *delay = NULL, *recv, *sig;

	(void)seg;
	(void)nseg;
	if (!ui_param_time(c, "until", now, &until) ||
	    !ui_param_time(c, "since", until - OVERVIEW_DAYS * DAY_US, &since))
		return;
	if (since >= until) {
		ui_error(c, 400,
		         "query parameters 'since' and 'until': since must come before until");
		return;
	}
	v0 = ver_at(c, since);
	v1 = ver_at(c, until);
	page = json_pack("{s:o, s:o}", "since", ui_time_json(since), "until", ui_time_json(until));
	recv = received(c, v0, v1, &by_day);
	json_object_set_new(page, "received", recv);
	json_object_set_new(page, "received_by_day", by_day);
	json_object_set_new(page, "shared", shared(c, since, until, page));
	sig = sightings(c, v0, v1, &delay);
	json_object_set_new(page, "sightings", sig);
	json_object_set_new(page, "alerts", alerts(c, 0, OVERVIEW_ALERTS, &cursor));
	json_object_set_new(page, "alerts_cursor", json_integer(cursor));
	json_object_set_new(page, "detection_delay_s", delay);
	json_object_set_new(page, "peers", peers(c));
	ui_send_json(c, 200, page);
}
