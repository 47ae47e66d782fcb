/*
 * watch_alert.c - what `serve --watch` does with a hit: the alert line (to
 * the alerts file, stdout and the webhook queue), time-to-detection samples,
 * the sighting tallies the rebuild thread writes, and the webhook sender
 * thread.
 */
#include "watch_priv.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schakel/hit.h"
#include "schakel/node.h"
#include "schakel/timestamp.h"

#define WEBHOOK_TRIES 3
#define PENDING_MAX   65536 /* indicators with sightings waiting to be written */

/* --- output ----------------------------------------------------------------- */

static uint64_t hash_id(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

/* True the first time an indicator id is seen here (bounded; emit_mu held). */
static bool first_hit(sk_watch *w, const char *id)
{
	uint64_t h = hash_id(id);
	size_t i = (size_t)h & (FIRST_SET - 1);
	if (!w->first)
		return false;
	while (w->first[i]) {
		if (w->first[i] == h)
			return false;
		i = (i + 1) & (FIRST_SET - 1);
	}
	if (w->nfirst >= FIRST_SET / 2)
		return false; /* full: stop timing new indicators */
	w->first[i] = h;
	w->nfirst++;
	return true;
}

/* Count a hit at time t_us for the next sighting of indicator id (emit_mu held). */
static void tally(sk_watch *w, const char *id, int64_t t_us)
{
	for (size_t i = 0; i < w->npend; i++)
		if (!strcmp(w->pend[i].id, id)) {
			pending *pe = &w->pend[i];
			pe->count++;
			if (t_us < pe->first_us)
				pe->first_us = t_us;
			if (t_us > pe->last_us)
				pe->last_us = t_us;
			return;
		}
	if (w->npend >= PENDING_MAX)
		return;
	pending *n = realloc(w->pend, (w->npend + 1) * sizeof(*n));
	if (!n)
		return;
	w->pend = n;
	if (!(n[w->npend].id = strdup(id)))
		return;
	n[w->npend].count = 1;
	n[w->npend].first_us = n[w->npend].last_us = t_us;
	w->npend++;
}

static void webhook_queue(sk_watch *w, const char *json, size_t len)
{
	char *c;
	if (!w->webhook)
		return;
	pthread_mutex_lock(&w->q_mu);
	if (w->qn == WEBHOOK_QUEUE || !(c = malloc(len + 1))) {
		pthread_mutex_unlock(&w->q_mu);
		atomic_fetch_add(&w->hook_dropped, 1);
		return;
	}
	memcpy(c, json, len);
	c[len] = '\0';
	w->q[(w->qh + w->qn) % WEBHOOK_QUEUE] = c;
	w->qn++;
	pthread_cond_signal(&w->q_cv);
	pthread_mutex_unlock(&w->q_mu);
}

void sk_watch_emit(sk_watch *w, ind_meta *mi, const alert *a)
{
	char ts[SK_TS_STR_MAX], extra[128];
	const char *files[1] = {w->log_path}, *line;
	const sk_logrec *rec = a->rec;
	int64_t now = sk_ts_now_us(), delay = now - mi->arrived_us;
	sk_hit h = {.ts_us = rec->ts_us,
	            .file = w->log_path,
	            .line = rec->line,
	            .offset = rec->offset,
	            .refs = a->refs, /* the watcher reads one log: refs[].file is 0 */
	            .nrefs = a->nrefs,
	            .files = files};
	size_t len;

	if (a->h->value != UINT32_MAX && a->h->value < rec->n) {
		const sk_obs *o = &rec->obs[a->h->value];
		h.field = o->field;
		h.kind = sk_obs_kind_name((sk_obs_kind)o->kind);
		h.value = o->v;
		h.value_len = o->len;
	}
	sk_ts_format_us(now, ts);
	snprintf(extra, sizeof(extra),
	         "\"alert_time\":\"%s\",\"detection_delay_ms\":%lld,\"lookback\":%s", ts,
	         (long long)(delay / 1000), a->lookback ? "true" : "false");
	pthread_mutex_lock(&w->emit_mu);
	if ((line = sk_hit_fmt_line(w->fmt, &mi->h, &h, extra, &len))) {
		if (w->alerts) {
			fwrite(line, 1, len, w->alerts);
			fflush(w->alerts);
		}
		if (w->cfg.alerts_stdout) {
			fwrite(line, 1, len, stdout);
			fflush(stdout);
		}
		webhook_queue(w, line, len - 1);
	}
	bool first = first_hit(w, mi->h.id);
	if (first) {
		double d = (double)delay / 1e6;
		w->ttd.samples[w->ttd.next] = d;
		w->ttd.next = (w->ttd.next + 1) % TTD_SAMPLES;
		if (w->ttd.n < TTD_SAMPLES)
			w->ttd.n++;
		w->ttd.sum += d;
		w->ttd.count++;
	}
	if (!w->cfg.no_sightings)
		tally(w, mi->h.id, rec->ts_us ? rec->ts_us : now);
	pthread_mutex_unlock(&w->emit_mu);
	/*
	 * The first hit on an indicator is news for its producer: have the
	 * rebuild thread write (and so queue for push) the sighting at once
	 * instead of at the next periodic flush.  Later hits ride on the period,
	 * so a busy log does not make a sighting version per poll.
	 */
	if (first && !w->cfg.no_sightings) {
		atomic_store(&w->sight_now, 1);
		pthread_mutex_lock(&w->cv_mu);
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->cv_mu);
	}
	atomic_fetch_add(a->lookback ? &w->alerts_lookback : &w->alerts_live, 1);
}

/* --- sightings -------------------------------------------------------------- */

void sk_watch_flush_sightings(sk_watch *w)
{
	pending *p;
	size_t n;
	sk_error e;

	pthread_mutex_lock(&w->emit_mu);
	p = w->pend;
	n = w->npend;
	w->pend = NULL;
	w->npend = 0;
	pthread_mutex_unlock(&w->emit_mu);
	for (size_t i = 0; i < n; i++) {
		sk_sync_sighting sg = {.indicator = p[i].id,
		                       .count = (int64_t)p[i].count,
		                       .first_us = p[i].first_us,
		                       .last_us = p[i].last_us};
		if (sk_sync_sighting_add(w->st, &sg, NULL, &e))
			fprintf(stderr, "schakel: watch: sighting of %s: %s\n", p[i].id, e.msg);
		else
			atomic_fetch_add(&w->sightings, 1);
		free(p[i].id);
	}
	free(p);
}

/*
 * The log sources read (docs/cooperation.md, capacity): a copy of the
 * reader's tally taken under ring_mu, written in one transaction, and
 * marked written in the tally (its entries never move).
 */
void sk_watch_flush_sources(sk_watch *w)
{
	sk_logsrc_tally t;
	int64_t now = sk_ts_now_us() / 1000000;
	sk_err rc = SK_OK;
	sk_error e;
	bool any = false;

	if (w->cfg.no_sightings)
		return; /* the store is not written */
	pthread_mutex_lock(&w->ring_mu);
	t = w->src;
	pthread_mutex_unlock(&w->ring_mu);
	for (unsigned k = 0; k < t.n; k++)
		any = any || t.src[k].records > t.src[k].flushed;
	if (!any || (rc = sk_store_begin(w->st, &e)))
		goto out;
	for (unsigned k = 0; k < t.n && !rc; k++) {
		char types[256];
		if (t.src[k].records <= t.src[k].flushed)
			continue;
		sk_logsrc_types(&t.src[k], types, sizeof(types));
		rc = sk_store_logsrc_add(w->st, t.src[k].kind, now,
		                         (int64_t)(t.src[k].records - t.src[k].flushed), types, &e);
	}
	if (rc) {
		sk_store_rollback(w->st);
		goto out;
	}
	if ((rc = sk_store_commit(w->st, &e)))
		goto out;
	pthread_mutex_lock(&w->ring_mu);
	for (unsigned k = 0; k < t.n; k++)
		w->src.src[k].flushed = t.src[k].records;
	pthread_mutex_unlock(&w->ring_mu);
out:
	if (rc)
		fprintf(stderr, "schakel: watch: log sources: %s\n", e.msg);
}

/* --- webhook ------------------------------------------------------------------- */

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

void *sk_watch_hook_main(void *arg)
{
	sk_watch *w = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");

	for (;;) {
		char *body;
		pthread_mutex_lock(&w->q_mu);
		while (!w->qn && !atomic_load(&w->stop_all))
			pthread_cond_wait(&w->q_cv, &w->q_mu);
		if (!w->qn) {
			pthread_mutex_unlock(&w->q_mu);
			break;
		}
		body = w->q[w->qh];
		w->qh = (w->qh + 1) % WEBHOOK_QUEUE;
		w->qn--;
		pthread_mutex_unlock(&w->q_mu);
		bool ok = false;
		for (int t = 0; c && t < WEBHOOK_TRIES && !ok; t++) {
			long status = 0;
			if (t) {
				if (atomic_load(&w->stop_all))
					break;
				struct timespec d = {0, 200000000L * t};
				nanosleep(&d, NULL);
			}
			curl_easy_reset(c);
			curl_easy_setopt(c, CURLOPT_URL, w->webhook);
			curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
			curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
			curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
			curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
			curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
			if (curl_easy_perform(c) == CURLE_OK &&
			    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
			    status >= 200 && status < 300)
				ok = true;
		}
		atomic_fetch_add(ok ? &w->hook_sent : &w->hook_failed, 1);
		free(body);
	}
	curl_slist_free_all(hdr);
	if (c)
		curl_easy_cleanup(c);
	return NULL;
}
