/*
 * watch.c - the live detection engine of `schakel serve --watch` (watch.h).
 *
 * Concurrency, in one place:
 *   ring_mu  the record stream's lock.  The reader holds it from "which
 *            matcher set is live" through matching one record and retaining
 *            it for lookback; the rebuild thread holds it to swap the live
 *            set and rescan the retained window.  So every record is matched
 *            either by the old set and then rescanned with the new
 *            indicators, or by the new set: none is missed, none twice.
 *            Generation and part reference counts are changed under it too.
 *   emit_mu  alert output (files, emit store connection, cached indicator
 *            JSON, sighting tallies, time-to-detection samples).  Taken
 *            inside ring_mu, never the other way round.
 *   q_mu     the webhook queue.
 *
 * A live set (gen) is up to MAX_PARTS compiled matchers (parts): a base and
 * deltas holding the indicators that changed after it.  A part lists every
 * indicator id it covers (also those it dropped: revoked, expired, refused),
 * and a hit from an older part on an id that a newer part covers is
 * ignored, so an updated or revoked indicator stops matching at once.
 *
 * This file starts and stops the watcher and renders its metrics.  The
 * reader thread (matching, lookback) is in watch_reader.c, the parts and the
 * rebuild thread in watch_rebuild.c, alerts, sightings and the webhook in
 * watch_alert.c; what they share is in watch_priv.h.
 */
#include "schakel/watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/file.h"
#include "schakel/hit.h"
#include "schakel/indload.h"
#include "schakel/psl.h"
#include "schakel/store.h"
#include "schakel/node.h"
#include "schakel/timestamp.h"
#include "watch_priv.h"

/* --- metrics ------------------------------------------------------------------ */

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void sk_watch_metrics(sk_watch *w, sk_buf *b)
{
	double s[TTD_SAMPLES], sum;
	size_t n;
	uint64_t count;

	pthread_mutex_lock(&w->emit_mu);
	n = w->ttd.n;
	memcpy(s, w->ttd.samples, n * sizeof(double));
	sum = w->ttd.sum;
	count = w->ttd.count;
	pthread_mutex_unlock(&w->emit_mu);
	qsort(s, n, sizeof(double), cmp_dbl);
	sk_buf_puts(b, "# HELP schakel_time_to_detection_seconds indicator arrival here -> its "
	               "first alert (last 1024 indicators)\n"
	               "# TYPE schakel_time_to_detection_seconds summary\n");
	if (n) {
		sk_buf_printf(b, "schakel_time_to_detection_seconds{quantile=\"0.5\"} %.6f\n",
		              s[(n - 1) / 2]);
		sk_buf_printf(b, "schakel_time_to_detection_seconds{quantile=\"0.99\"} %.6f\n",
		              s[(size_t)((double)(n - 1) * 0.99)]);
	}
	sk_buf_printf(b, "schakel_time_to_detection_seconds_sum %.6f\n", sum);
	sk_buf_printf(b, "schakel_time_to_detection_seconds_count %llu\n",
	              (unsigned long long)count);
	sk_buf_printf(
	    b,
	    "# HELP schakel_alerts_total alerts raised by the live watch\n"
	    "# TYPE schakel_alerts_total counter\n"
	    "schakel_alerts_total{source=\"live\"} %llu\n"
	    "schakel_alerts_total{source=\"lookback\"} %llu\n"
	    "# HELP schakel_matcher_entries indicators in the live matcher\n"
	    "# TYPE schakel_matcher_entries gauge\nschakel_matcher_entries %llu\n"
	    "# HELP schakel_matcher_bytes memory of the live matcher's indexes\n"
	    "# TYPE schakel_matcher_bytes gauge\nschakel_matcher_bytes %llu\n"
	    "# HELP schakel_matcher_rebuild_seconds duration of the last rebuild or patch\n"
	    "# TYPE schakel_matcher_rebuild_seconds gauge\nschakel_matcher_rebuild_seconds %.6f\n"
	    "# HELP schakel_matcher_rebuilds_total rebuilds and patches of the live matcher\n"
	    "# TYPE schakel_matcher_rebuilds_total counter\nschakel_matcher_rebuilds_total %llu\n"
	    "# HELP schakel_watch_records_total log records matched\n"
	    "# TYPE schakel_watch_records_total counter\nschakel_watch_records_total %llu\n"
	    "# HELP schakel_watch_lookback_bytes memory of the retained lookback window\n"
	    "# TYPE schakel_watch_lookback_bytes gauge\nschakel_watch_lookback_bytes %llu\n"
	    "# HELP schakel_watch_sightings_total sightings written by the live watch\n"
	    "# TYPE schakel_watch_sightings_total counter\nschakel_watch_sightings_total %llu\n"
	    "# HELP schakel_webhook_total alert deliveries to the webhook by outcome\n"
	    "# TYPE schakel_webhook_total counter\n"
	    "schakel_webhook_total{outcome=\"sent\"} %llu\n"
	    "schakel_webhook_total{outcome=\"failed\"} %llu\n"
	    "schakel_webhook_total{outcome=\"dropped\"} %llu\n",
	    (unsigned long long)atomic_load(&w->alerts_live),
	    (unsigned long long)atomic_load(&w->alerts_lookback),
	    (unsigned long long)atomic_load(&w->live_inds),
	    (unsigned long long)atomic_load(&w->live_bytes),
	    (double)atomic_load(&w->rebuild_us) / 1e6,
	    (unsigned long long)atomic_load(&w->rebuilds),
	    (unsigned long long)atomic_load(&w->records),
	    (unsigned long long)atomic_load(&w->kept_bytes_m),
	    (unsigned long long)atomic_load(&w->sightings),
	    (unsigned long long)atomic_load(&w->hook_sent),
	    (unsigned long long)atomic_load(&w->hook_failed),
	    (unsigned long long)atomic_load(&w->hook_dropped));
}

static void metrics_hook(void *ud, sk_buf *b)
{
	sk_watch_metrics(ud, b);
}

/* --- start / stop ----------------------------------------------------------- */

static char *dup_cfg(const char *s, bool *oom)
{
	char *d;
	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*oom = true;
	return d;
}

sk_err sk_watch_start(const sk_watch_config *cfg, sk_watch **out, sk_error *err)
{
	sk_watch *w = calloc(1, sizeof(*w));
	bool oom = false;
	sk_err rc = SK_OK;
	sk_logread_opts lo = {0};
	int64_t t0 = sk_ts_now_us();

	*out = NULL;
	if (!w)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	w->cfg = *cfg;
	w->db_path = dup_cfg(cfg->db_path, &oom);
	w->log_path = dup_cfg(cfg->log_path, &oom);
	w->csv_map = dup_cfg(cfg->csv_map, &oom);
	w->alerts_path = dup_cfg(cfg->alerts_path, &oom);
	w->webhook = dup_cfg(cfg->webhook, &oom);
	w->first = calloc(FIRST_SET, sizeof(uint64_t));
	pthread_mutex_init(&w->ring_mu, NULL);
	sk_logsrc_init(&w->src);
	pthread_mutex_init(&w->emit_mu, NULL);
	pthread_mutex_init(&w->cv_mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	pthread_mutex_init(&w->q_mu, NULL);
	pthread_cond_init(&w->q_cv, NULL);
	if (oom || !w->first || !w->db_path || !w->log_path) {
		rc = sk_error_set(err, oom || !w->first ? SK_ENOMEM : SK_EINVAL,
		                  oom || !w->first ? "out of memory" : "watch: no database or log");
		goto fail;
	}
	if (sk_psl_load(NULL, &w->psl, err))
		w->psl = NULL; /* fallback: the last label is the public suffix */
	w->mo.subdomains = cfg->subdomains;
	w->mo.psl = w->psl;
	if ((rc = sk_store_open(w->db_path, 0, &w->st, err)) ||
	    (rc = sk_store_open(w->db_path, SK_STORE_READONLY, &w->emit_st, err)) ||
	    (rc = sk_hit_fmt_new(w->emit_st, &w->fmt, err)) ||
	    (rc = sk_indload_wlcache_new(&w->wlcache, err)) ||
	    (rc = sk_watch_load_warninglists(w, err)))
		goto fail;
	/* the cache's base and a delta, or a full build (sets w->max_ver) */
	if ((rc = sk_watch_initial_gen(w, &w->cur, err)))
		goto fail;
	w->cur->seq = ++w->seq;
	sk_watch_publish_stats(w, w->cur, t0);
	if (w->alerts_path && !(w->alerts = sk_fopen_private(w->alerts_path, true))) {
		rc = sk_error_set(err, SK_EIO, "%s: cannot open for appending: %s", w->alerts_path,
		                  strerror(errno));
		goto fail;
	}
	lo.format = cfg->format;
	lo.csv_map = w->csv_map;
	lo.psl = w->psl;
	lo.follow = true;
	lo.follow_poll_ms = cfg->follow_poll_ms ? cfg->follow_poll_ms : 50;
	lo.stop = &w->stop;
	if ((rc = sk_logread_open(w->log_path, &lo, &w->lr, err)))
		goto fail;
	fprintf(stderr, "schakel: watch: %s: %llu indicators live in %.1f ms\n", w->log_path,
	        (unsigned long long)atomic_load(&w->live_inds),
	        (double)atomic_load(&w->rebuild_us) / 1000.0);
	if (w->webhook) {
		if (pthread_create(&w->hook_th, NULL, sk_watch_hook_main, w)) {
			rc = sk_error_set(err, SK_ENOMEM, "cannot start a thread");
			goto fail;
		}
		w->hook_run = true;
	}
	if (pthread_create(&w->rebuild_th, NULL, sk_watch_rebuild_main, w)) {
		rc = sk_error_set(err, SK_ENOMEM, "cannot start a thread");
		goto fail;
	}
	w->rebuild_run = true;
	if (pthread_create(&w->reader_th, NULL, sk_watch_reader_main, w)) {
		rc = sk_error_set(err, SK_ENOMEM, "cannot start a thread");
		goto fail;
	}
	w->reader_run = true;
	sk_metrics_set_hook(metrics_hook, w);
	*out = w;
	return SK_OK;
fail:
	sk_watch_stop(w);
	return rc;
}

void sk_watch_stop(sk_watch *w)
{
	if (!w)
		return;
	sk_metrics_set_hook(NULL, NULL);
	atomic_store(&w->stop, 1);
	atomic_store(&w->stop_all, 1);
	if (w->reader_run)
		pthread_join(w->reader_th, NULL);
	pthread_mutex_lock(&w->cv_mu);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->cv_mu);
	if (w->rebuild_run)
		pthread_join(w->rebuild_th, NULL);
	pthread_mutex_lock(&w->q_mu);
	pthread_cond_broadcast(&w->q_cv);
	pthread_mutex_unlock(&w->q_mu);
	if (w->hook_run)
		pthread_join(w->hook_th, NULL);
	for (size_t i = 0; i < w->qn; i++)
		free(w->q[(w->qh + i) % WEBHOOK_QUEUE]);
	sk_logread_close(w->lr);
	if (w->cur && w->cur->refs == 1)
		sk_watch_gen_free(w->cur);
	while (w->head) {
		kept *k = w->head;
		w->head = k->next;
		free(k);
	}
	if (w->alerts)
		fclose(w->alerts);
	for (size_t i = 0; i < w->npend; i++)
		free(w->pend[i].id);
	free(w->pend);
	free(w->first);
	sk_hit_fmt_free(w->fmt);
	sk_warninglist_free(w->wl);
	sk_indload_wlcache_free(w->wlcache);
	sk_mbase_key_clear(&w->start_key);
	sk_store_close(w->st);
	sk_store_close(w->emit_st);
	sk_psl_free(w->psl);
	pthread_mutex_destroy(&w->ring_mu);
	pthread_mutex_destroy(&w->emit_mu);
	pthread_mutex_destroy(&w->cv_mu);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->q_mu);
	pthread_cond_destroy(&w->q_cv);
	free(w->db_path);
	free(w->log_path);
	free(w->csv_map);
	free(w->alerts_path);
	free(w->webhook);
	free(w);
}

void sk_watch_poke(void *wp)
{
	sk_watch *w = wp;
	if (!w)
		return;
	pthread_mutex_lock(&w->cv_mu);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->cv_mu);
}

sk_err sk_watch_reopen(sk_watch *w, sk_error *err)
{
	FILE *f;
	if (!w || !w->alerts_path)
		return SK_OK;
	if (!(f = sk_fopen_private(w->alerts_path, true)))
		return sk_error_set(err, SK_EIO, "%s: cannot open for appending: %s",
		                    w->alerts_path, strerror(errno));
	pthread_mutex_lock(&w->emit_mu);
	if (w->alerts)
		fclose(w->alerts);
	w->alerts = f;
	pthread_mutex_unlock(&w->emit_mu);
	return SK_OK;
}
