/*
 * metrics_coop.c - the cooperation figures (coop.h, docs/cooperation.md)
 * as Prometheus families with a partner label, appended to /metrics and
 * `schakel metrics` by metrics.c.
 */
#include "metrics_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/coop.h"
#include "schakel/policy.h"
#include "schakel/timestamp.h"
#include "store/store_priv.h"

static void label_value(sk_buf *b, const char *name)
{
	for (; *name; name++) {
		if (*name == '"' || *name == '\\')
			sk_buf_putc(b, '\\');
		if (*name != '\n')
			sk_buf_putc(b, *name);
	}
}

/*
 * The cooperation figures (coop.h) over the node's whole history, one
 * sample per partner (label partner), computed as `report cooperation`
 * computes them, by the local operator's view.  A report reads every
 * version: the text is kept COOP_CACHE_US per database, so frequent
 * scrapes of a large store cost one report per interval.
 */
#define COOP_CACHE_US (30 * 1000000LL)

static pthread_mutex_t coop_mu = PTHREAD_MUTEX_INITIALIZER;
static char *coop_text, *coop_db;
static int64_t coop_at;

static const struct {
	const char *name, *type, *help, *field;
} coop_counts[] = {
    {"schakel_coop_objects_received_total", "counter", "object versions received from a partner",
     "objects_received"},
    {"schakel_coop_objects_sent_total", "counter",
     "object versions handed out to a partner (audit log)", "objects_sent"},
    {"schakel_coop_sightings_received_total", "counter", "sightings received from a partner",
     "sightings_received"},
    {"schakel_coop_sightings_sent_total", "counter", "sightings handed out to a partner",
     "sightings_sent"},
    {"schakel_coop_opinions_received_total", "counter", "opinions received from a partner",
     "opinions_received"},
    {"schakel_coop_opinions_sent_total", "counter", "opinions handed out to a partner",
     "opinions_sent"},
    {"schakel_coop_detections_enabled_total", "counter",
     "sightings resting on indicators a partner produced or relayed", "detections_enabled"},
};
static const struct {
	const char *name, *help, *field;
} coop_dists[] = {
    {"schakel_coop_time_to_share_seconds", "producer's timestamp of a version to its arrival here",
     "time_to_share_s"},
    {"schakel_coop_last_hop_seconds", "date_added at the partner to arrival here", "last_hop_s"},
    {"schakel_coop_lead_time_seconds",
     "arrival of an indicator a partner relayed to the first sighting here", "lead_time_s"},
    {"schakel_coop_feedback_lead_seconds",
     "our indicator's publication to the first sighting a partner reported back",
     "feedback_lead_s"},
};

static void coop_render(const json_t *rep, sk_buf *b)
{
	const json_t *parts = json_object_get(rep, "partners"), *cap;
	size_t i, k;
	json_t *p;
	static const char *const q[] = {"median", "0.5", "p90", "0.9", "max", "1"};

	for (k = 0; k < sizeof(coop_counts) / sizeof(coop_counts[0]); k++) {
		sk_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", coop_counts[k].name,
		              coop_counts[k].help, coop_counts[k].name, coop_counts[k].type);
		json_array_foreach(parts, i, p)
		{
			sk_buf_printf(b, "%s{partner=\"", coop_counts[k].name);
			label_value(b, json_string_value(json_object_get(p, "partner")));
			sk_buf_printf(b, "\"} %lld\n",
			              (long long)json_integer_value(
			                  json_object_get(p, coop_counts[k].field)));
		}
	}
	for (k = 0; k < sizeof(coop_dists) / sizeof(coop_dists[0]); k++) {
		sk_buf_printf(b, "# HELP %s %s (quantile 1 = max)\n# TYPE %s gauge\n",
		              coop_dists[k].name, coop_dists[k].help, coop_dists[k].name);
		sk_buf_printf(b,
		              "# HELP %s_samples versions or indicators measured\n"
		              "# TYPE %s_samples gauge\n",
		              coop_dists[k].name, coop_dists[k].name);
		json_array_foreach(parts, i, p)
		{
			const json_t *d = json_object_get(p, coop_dists[k].field);
			const char *who = json_string_value(json_object_get(p, "partner"));
			for (size_t j = 0; j < 6; j += 2) {
				const json_t *v = json_object_get(d, q[j]);
				sk_buf_printf(b, "%s{partner=\"", coop_dists[k].name);
				label_value(b, who);
				if (json_is_number(v))
					sk_buf_printf(b, "\",quantile=\"%s\"} %.3f\n", q[j + 1],
					              json_number_value(v));
				else
					sk_buf_printf(b, "\",quantile=\"%s\"} NaN\n", q[j + 1]);
			}
			sk_buf_printf(b, "%s_samples{partner=\"", coop_dists[k].name);
			label_value(b, who);
			sk_buf_printf(b, "\"} %lld\n",
			              (long long)json_integer_value(json_object_get(d, "n")));
		}
	}
	/* peers' availability over the whole log (sync_log keeps 400 days) */
	sk_buf_puts(b, "# HELP schakel_coop_sync_attempts_total sync runs of a peer, by outcome\n"
	               "# TYPE schakel_coop_sync_attempts_total counter\n");
	json_array_foreach(parts, i, p)
	{
		const json_t *a = json_object_get(json_object_get(p, "sync"), "period");
		const char *who = json_string_value(json_object_get(p, "partner"));
		if (!a)
			continue;
		for (int ok = 1; ok >= 0; ok--) {
			sk_buf_puts(b, "schakel_coop_sync_attempts_total{partner=\"");
			label_value(b, who);
			sk_buf_printf(b, "\",outcome=\"%s\"} %lld\n", ok ? "ok" : "error",
			              (long long)json_integer_value(json_object_get(
			                  a, ok ? "attempts_ok" : "attempts_failed")));
		}
	}
	sk_buf_puts(b, "# HELP schakel_coop_availability_ratio share of a peer's sync runs that "
	               "succeeded\n# TYPE schakel_coop_availability_ratio gauge\n");
	json_array_foreach(parts, i, p)
	{
		const json_t *a = json_object_get(json_object_get(p, "sync"), "period");
		const json_t *v = json_object_get(a, "availability_pct");
		if (!a)
			continue;
		sk_buf_puts(b, "schakel_coop_availability_ratio{partner=\"");
		label_value(b, json_string_value(json_object_get(p, "partner")));
		if (json_is_number(v))
			sk_buf_printf(b, "\"} %.3f\n", json_number_value(v) / 100);
		else
			sk_buf_puts(b, "\"} NaN\n");
	}
	sk_buf_printf(b,
	              "# HELP schakel_coop_own_detections_enabled_total sightings resting on "
	              "indicators this node produced\n"
	              "# TYPE schakel_coop_own_detections_enabled_total counter\n"
	              "schakel_coop_own_detections_enabled_total %lld\n",
	              (long long)json_integer_value(
	                  json_object_get(json_object_get(rep, "own"), "detections_enabled")));
	/* capacity: the log sources read (scan, watch) and what no source covers */
	cap = json_object_get(rep, "capacity");
	sk_buf_puts(b, "# HELP schakel_coop_log_source_records_total records read from a log "
	               "source kind by scan and the live watch\n"
	               "# TYPE schakel_coop_log_source_records_total counter\n");
	json_array_foreach(json_object_get(cap, "log_sources"), i, p)
	{
		sk_buf_puts(b, "schakel_coop_log_source_records_total{kind=\"");
		label_value(b, json_string_value(json_object_get(p, "kind")));
		sk_buf_printf(b, "\"} %lld\n",
		              (long long)json_integer_value(json_object_get(p, "records")));
	}
	sk_buf_printf(
	    b,
	    "# HELP schakel_coop_indicators_without_source current indicators none of "
	    "whose object types a log source read delivers\n"
	    "# TYPE schakel_coop_indicators_without_source gauge\n"
	    "schakel_coop_indicators_without_source %lld\n",
	    (long long)json_integer_value(json_object_get(cap, "indicators_without_source")));
}

/* The cooperation families into b, from the cache when it is fresh. */
sk_err sk_metrics_coop(sk_store *st, sk_buf *b, sk_error *err)
{
	const char *db = sqlite3_db_filename(sk_store_sqlite(st), "main");
	int64_t now = sk_ts_now_us();
	sk_coop_opts o = {0};
	sk_view *view = NULL;
	json_t *rep = NULL;
	sk_buf t;
	sk_err rc;

	db = db ? db : "";
	pthread_mutex_lock(&coop_mu);
	if (coop_text && coop_db && !strcmp(coop_db, db) && now - coop_at < COOP_CACHE_US) {
		rc = sk_buf_puts(b, coop_text);
		pthread_mutex_unlock(&coop_mu);
		return rc ? sk_error_set(err, rc, "metrics: out of memory") : SK_OK;
	}
	pthread_mutex_unlock(&coop_mu);
	rc = sk_view_open(st, NULL, &view, err);
	if (!rc)
		rc = sk_view_bind(view, err);
	if (!rc)
		rc = sk_coop_report(st, &o, &rep, err);
	sk_view_free(view);
	if (rc)
		return rc;
	sk_buf_init(&t, (size_t)1 << 28);
	coop_render(rep, &t);
	json_decref(rep);
	if (!t.data) {
		sk_buf_free(&t);
		return sk_error_set(err, SK_ENOMEM, "metrics: out of memory");
	}
	rc = sk_buf_puts(b, t.data);
	pthread_mutex_lock(&coop_mu);
	free(coop_text);
	free(coop_db);
	coop_text = strdup(t.data);
	coop_db = strdup(db);
	coop_at = now;
	pthread_mutex_unlock(&coop_mu);
	sk_buf_free(&t);
	return rc ? sk_error_set(err, rc, "metrics: out of memory") : SK_OK;
}
