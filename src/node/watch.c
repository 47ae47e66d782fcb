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
 */
#include "schakel/watch.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schakel/hit.h"
#include "schakel/indload.h"
#include "schakel/matcher.h"
#include "schakel/psl.h"
#include "schakel/store.h"
#include "schakel/node.h"
#include "schakel/sync.h"
#include "schakel/timestamp.h"

#define MAX_PARTS 8
#define DEFAULT_LOOKBACK_BYTES ((size_t)256 << 20)
#define WEBHOOK_QUEUE 1024
#define WEBHOOK_TRIES 3
#define TTD_SAMPLES 1024
#define FIRST_SET (1u << 16) /* indicators whose first hit was timed */
#define PENDING_MAX 65536    /* indicators with sightings waiting to be written */
#define MERGE_IDLE_US (30 * 1000000LL)
#define REFRESH_US (600 * 1000000LL)

/* --- compiled parts --------------------------------------------------------- */

typedef struct ind_meta {
	sk_hit_ind h; /* id and ver set at compile time; the rest on the first hit (emit_mu) */
	int64_t arrived_us; /* when the compiled version arrived here */
} ind_meta;

typedef struct part {
	sk_matcher *m;
	ind_meta *inds;
	uint32_t ninds, cap;
	char **ids; /* sorted: every indicator this part covers */
	size_t nids, idcap;
	int refs;
} part;

typedef struct gen {
	part *p[MAX_PARTS];
	size_t np;
	uint64_t seq;
	int refs;
} gen;

/* --- retained records for lookback ---------------------------------------- */

typedef struct kept {
	struct kept *next;
	int64_t read_us, ts_us;
	uint64_t line, offset;
	size_t bytes;
	uint32_t n, event_len;
	const char *event;
	sk_obs obs[]; /* n entries, then the strings */
} kept;

typedef struct ttd_stats {
	double samples[TTD_SAMPLES];
	size_t n, next;
	double sum;
	uint64_t count;
} ttd_stats;

typedef struct pending {
	char *id;
	uint64_t count;
	int64_t first_us, last_us; /* times of the first and last hit */
} pending;

struct sk_watch {
	sk_watch_config cfg;
	char *db_path, *log_path, *csv_map, *alerts_path, *webhook;
	sk_psl *psl;
	/* warning lists the matchers are built with, their stamp and the verdicts of earlier
	 * builds (rebuild thread) */
	sk_wl_set *wl;
	uint64_t wl_stamp;
	bool wl_loaded;
	sk_indload_wlcache *wlcache;
	sk_match_opts mo;
	volatile sig_atomic_t stop;
	atomic_int stop_all;
	atomic_int sight_now; /* an indicator had its first hit: write sightings now */

	pthread_mutex_t ring_mu;
	gen *cur;
	uint64_t seq;
	kept *head, *tail;
	size_t kept_bytes;
	uint64_t kept_n;

	pthread_mutex_t emit_mu;
	FILE *alerts;
	sk_store *emit_st;
	sk_hit_fmt *fmt;
	pending *pend;
	size_t npend;
	uint64_t *first; /* hashes of indicator ids whose first hit was timed */
	size_t nfirst;
	ttd_stats ttd;

	/* the rebuild thread */
	pthread_mutex_t cv_mu;
	pthread_cond_t cv;
	pthread_t rebuild_th, reader_th, hook_th;
	bool rebuild_run, reader_run, hook_run;
	sk_store *st;
	int64_t max_ver;

	/* webhook */
	pthread_mutex_t q_mu;
	pthread_cond_t q_cv;
	char *q[WEBHOOK_QUEUE];
	size_t qh, qn;

	sk_logread *lr;

	/* metrics */
	atomic_uint_fast64_t records, alerts_live, alerts_lookback, rebuilds, hook_sent,
	    hook_failed, hook_dropped, sightings;
	atomic_uint_fast64_t live_inds, live_bytes, rebuild_us, kept_bytes_m;
};

static void part_free(part *p)
{
	if (!p)
		return;
	sk_matcher_free(p->m);
	for (uint32_t i = 0; i < p->ninds; i++)
		sk_hit_ind_clear(&p->inds[i].h);
	free(p->inds);
	for (size_t i = 0; i < p->nids; i++)
		free(p->ids[i]);
	free(p->ids);
	free(p);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool part_covers(const part *p, const char *id)
{
	return p->nids && bsearch(&id, p->ids, p->nids, sizeof(char *), cmp_str) != NULL;
}

static int add_id(part *p, const char *id)
{
	if (p->nids == p->idcap) {
		size_t nc = p->idcap ? p->idcap * 2 : 64;
		char **n = realloc(p->ids, nc * sizeof(*n));
		if (!n)
			return -1;
		p->ids = n;
		p->idcap = nc;
	}
	if (!(p->ids[p->nids] = strdup(id)))
		return -1;
	p->nids++;
	return 0;
}

typedef struct skip_ctx {
	part *p;
	bool delta, oom;
	uint32_t reported;
} skip_ctx;

/* A compiled indicator: its id (to shadow older parts), version row and arrival. */
static int on_added(void *ud, uint32_t idx, const sk_ind_row *r)
{
	part *p = ((skip_ctx *)ud)->p;
	if (idx >= p->cap) {
		uint32_t nc = p->cap ? p->cap * 2 : 256;
		while (nc <= idx)
			nc *= 2;
		ind_meta *n = realloc(p->inds, nc * sizeof(*n));
		if (!n)
			return 1;
		p->inds = n;
		p->cap = nc;
	}
	ind_meta *mi = &p->inds[idx];
	memset(mi, 0, sizeof(*mi));
	p->ninds = idx + 1;
	mi->h.ver = r->ver;
	mi->arrived_us = r->arrived;
	if (!(mi->h.id = strdup(r->id)))
		return 1;
	return add_id(p, r->id);
}

static void on_skipped(void *ud, const sk_ind_row *r, sk_indload_skip why, const char *msg)
{
	skip_ctx *sc = ud;
	/* a delta must still shadow older parts' entries for this id */
	if (sc->delta && add_id(sc->p, r->id))
		sc->oom = true;
	if (why != SK_INDLOAD_REVOKED && sc->reported++ < 20)
		fprintf(stderr, "schakel: watch: %s: not matched: %s\n", r->id, msg);
}

/*
 * Load the node's warning lists for the next builds when they changed (at
 * start, and before each periodic full rebuild, so lists imported while the
 * node runs apply within REFRESH_US); the verdicts of earlier builds are
 * kept while they stay the same.  Older parts keep what they were built
 * with (the lists are only read while adding).  Rebuild thread, or before
 * it starts.
 */
static sk_err load_warninglists(sk_watch *w, sk_error *err)
{
	sk_wl_set *wl = NULL;
	uint64_t stamp;
	sk_err rc;

	if (w->cfg.no_warninglists)
		return SK_OK;
	if ((rc = sk_warninglist_stamp(w->st, &stamp, err)))
		return rc;
	if (w->wl_loaded && stamp == w->wl_stamp)
		return SK_OK;
	if ((rc = sk_indload_warninglists(w->st, &wl, err)))
		return rc;
	sk_warninglist_free(w->wl);
	w->wl = wl;
	w->mo.warninglists = wl;
	w->wl_stamp = stamp;
	w->wl_loaded = true;
	sk_indload_wlcache_reset(w->wlcache);
	return SK_OK;
}

/* Compile the indicators changed after after_ver (0 = all) into a new part. */
static sk_err build_part(sk_watch *w, int64_t after_ver, part **out, sk_error *err)
{
	part *p = calloc(1, sizeof(*p));
	skip_ctx sc = {.p = p, .delta = after_ver > 0};
	sk_indload_opts o = {.after_ver = after_ver,
			     .arrival = true,
			     .wlcache = w->wl ? w->wlcache : NULL,
			     .on_added = on_added,
			     .on_skipped = on_skipped,
			     .ud = &sc};
	sk_err rc;

	*out = NULL;
	if (!p)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if ((rc = sk_matcher_new(&w->mo, &p->m, err)))
		goto out;
	if ((rc = sk_indload_run(w->st, p->m, &o, NULL, err)))
		goto out;
	if (sc.oom) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = sk_matcher_build(p->m, err)))
		goto out;
	if (p->nids) /* qsort(NULL, 0, ...) is undefined */
		qsort(p->ids, p->nids, sizeof(char *), cmp_str);
	p->refs = 0;
	*out = p;
out:
	if (rc)
		part_free(p);
	return rc;
}

/* Under ring_mu.  Returns the gen if it must be freed now (outside the lock). */
static gen *gen_unref(gen *g)
{
	if (g && --g->refs == 0)
		return g;
	return NULL;
}

static void gen_free(gen *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->np; i++)
		if (--g->p[i]->refs == 0) /* parts are only shared by gens freed here, */
			part_free(g->p[i]); /* by one thread at a time (see gen_release) */
	free(g);
}

/* Part refcounts change in gen_free and when gens are made; both happen under ring_mu or
 * on a gen no one else can see, so gen_free is called with ring_mu held. */
static void gen_release(sk_watch *w, gen *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&w->ring_mu);
	gen *f = gen_unref(g);
	/* the parts' matchers are freed under the lock: it is rare and the reader only waits
	 * for the free, not for a build */
	gen_free(f);
	pthread_mutex_unlock(&w->ring_mu);
}

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

typedef struct alert {
	const sk_logrec *rec;
	const sk_match_hit *h;
	const sk_match_ref *refs;
	size_t nrefs;
	bool lookback;
} alert;

static void emit(sk_watch *w, ind_meta *mi, const alert *a)
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

/* Match rec against parts [from, g->np) of g with contexts ctx/states (ring_mu held). */
static void match_one(sk_watch *w, const gen *g, size_t from, sk_match_ctx **ctx,
		      sk_match_state **mst, const sk_logrec *rec, bool lookback)
{
	for (size_t i = from; i < g->np; i++) {
		const part *p = g->p[i];
		const sk_match_hit *hits;
		size_t nh = sk_match_record(ctx[i], rec, &hits);
		uint32_t last = UINT32_MAX;
		for (size_t k = 0; k < nh; k++) {
			const sk_match_hit *h = &hits[k];
			alert a = {.rec = rec, .h = h, .lookback = lookback};
			bool shadowed = false;
			if (h->ind == last || h->ind >= p->ninds)
				continue;
			for (size_t j = i + 1; j < g->np && !shadowed; j++)
				shadowed = part_covers(g->p[j], p->inds[h->ind].h.id);
			if (shadowed)
				continue;
			if (h->obs) {
				sk_match_ref ref = {0, rec->line, rec->ts_us};
				if (!sk_match_state_feed(mst[i], h, &ref, &a.refs, &a.nrefs))
					continue;
			}
			last = h->ind;
			emit(w, &p->inds[h->ind], &a);
		}
	}
}

/* --- lookback window --------------------------------------------------------- */

static void kept_evict(sk_watch *w, int64_t now)
{
	size_t cap = w->cfg.lookback_bytes ? w->cfg.lookback_bytes : DEFAULT_LOOKBACK_BYTES;
	while (w->head && (w->head->read_us < now - w->cfg.lookback_us || w->kept_bytes > cap)) {
		kept *k = w->head;
		w->head = k->next;
		if (!w->head)
			w->tail = NULL;
		w->kept_bytes -= k->bytes;
		w->kept_n--;
		free(k);
	}
}

static void kept_add(sk_watch *w, const sk_logrec *rec)
{
	size_t strs = rec->event_len + 1, n = rec->n;
	for (size_t i = 0; i < n; i++)
		strs += rec->obs[i].len + 1 + (rec->obs[i].field ? strlen(rec->obs[i].field) + 1 : 0);
	size_t bytes = sizeof(kept) + n * sizeof(sk_obs) + strs;
	kept *k = malloc(bytes);
	int64_t now = sk_ts_now_us();
	char *s;
	if (!k)
		return;
	k->next = NULL;
	k->read_us = now;
	k->ts_us = rec->ts_us;
	k->line = rec->line;
	k->offset = rec->offset;
	k->bytes = bytes;
	k->n = (uint32_t)n;
	s = (char *)&k->obs[n];
	k->event = NULL;
	k->event_len = 0;
	if (rec->event) {
		memcpy(s, rec->event, rec->event_len);
		s[rec->event_len] = '\0';
		k->event = s;
		k->event_len = rec->event_len;
		s += rec->event_len + 1;
	}
	for (size_t i = 0; i < n; i++) {
		k->obs[i] = rec->obs[i];
		memcpy(s, rec->obs[i].v, rec->obs[i].len);
		s[rec->obs[i].len] = '\0';
		k->obs[i].v = s;
		s += rec->obs[i].len + 1;
		if (rec->obs[i].field) {
			size_t fl = strlen(rec->obs[i].field);
			memcpy(s, rec->obs[i].field, fl + 1);
			k->obs[i].field = s;
			s += fl + 1;
		}
	}
	if (w->tail)
		w->tail->next = k;
	else
		w->head = k;
	w->tail = k;
	w->kept_bytes += bytes;
	w->kept_n++;
	kept_evict(w, now);
	atomic_store(&w->kept_bytes_m, w->kept_bytes);
}

/* Rescan the retained window with part p only (ring_mu held). */
static void lookback(sk_watch *w, part *p)
{
	gen one = {.p = {p}, .np = 1};
	sk_match_ctx *ctx = NULL;
	sk_match_state *mst = NULL;
	sk_logrec *rec = NULL;
	sk_error e;

	if (!p->ninds || !w->head)
		return;
	if (sk_match_ctx_new(p->m, &ctx, &e) || sk_match_state_new(p->m, 0, &mst, &e) ||
	    !(rec = calloc(1, sizeof(*rec))))
		goto out;
	kept_evict(w, sk_ts_now_us());
	for (kept *k = w->head; k; k = k->next) {
		rec->ts_us = k->ts_us;
		rec->line = k->line;
		rec->offset = k->offset;
		rec->raw = NULL;
		rec->raw_len = 0;
		rec->event = k->event;
		rec->event_len = k->event_len;
		rec->n = k->n;
		rec->dropped = 0;
		memcpy(rec->obs, k->obs, k->n * sizeof(sk_obs));
		match_one(w, &one, 0, &ctx, &mst, rec, true);
	}
out:
	free(rec);
	sk_match_state_free(mst);
	sk_match_ctx_free(ctx);
}

/* --- the reader thread ------------------------------------------------------ */

static void *reader_main(void *arg)
{
	sk_watch *w = arg;
	gen *g = NULL;
	sk_match_ctx *ctx[MAX_PARTS] = {0};
	sk_match_state *mst[MAX_PARTS] = {0};
	const sk_logrec *rec;
	sk_error e;
	sk_err rc;

	while ((rc = sk_logread_next(w->lr, &rec, &e)) == SK_OK && rec) {
		gen *drop = NULL;
		atomic_fetch_add(&w->records, 1);
		pthread_mutex_lock(&w->ring_mu);
		if (g != w->cur) {
			/* keep the contexts (and partial multi-observation state) of parts that
			 * stay live */
			sk_match_ctx *nctx[MAX_PARTS] = {0};
			sk_match_state *nmst[MAX_PARTS] = {0};
			gen *ng = w->cur;
			for (size_t i = 0; i < ng->np; i++)
				for (size_t j = 0; g && j < g->np; j++)
					if (g->p[j] == ng->p[i] && ctx[j]) {
						nctx[i] = ctx[j];
						nmst[i] = mst[j];
						ctx[j] = NULL;
						mst[j] = NULL;
					}
			for (size_t j = 0; j < MAX_PARTS; j++) {
				sk_match_ctx_free(ctx[j]);
				sk_match_state_free(mst[j]);
			}
			for (size_t i = 0; i < ng->np; i++) {
				if (!nctx[i] && sk_match_ctx_new(ng->p[i]->m, &nctx[i], &e))
					nctx[i] = NULL;
				if (!nmst[i] && sk_match_state_new(ng->p[i]->m, 0, &nmst[i], &e))
					nmst[i] = NULL;
			}
			memcpy(ctx, nctx, sizeof(ctx));
			memcpy(mst, nmst, sizeof(mst));
			ng->refs++;
			drop = gen_unref(g);
			g = ng;
		}
		bool ok = true;
		for (size_t i = 0; i < g->np; i++)
			ok = ok && ctx[i] && mst[i];
		if (ok)
			match_one(w, g, 0, ctx, mst, rec, false);
		if (w->cfg.lookback_us)
			kept_add(w, rec);
		gen_free(drop);
		pthread_mutex_unlock(&w->ring_mu);
	}
	if (rc)
		fprintf(stderr, "schakel: watch: %s: %s\n", w->log_path, e.msg);
	for (size_t j = 0; j < MAX_PARTS; j++) {
		sk_match_ctx_free(ctx[j]);
		sk_match_state_free(mst[j]);
	}
	gen_release(w, g);
	return NULL;
}

/* --- the rebuild thread ----------------------------------------------------- */

static void flush_sightings(sk_watch *w)
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

static void publish_stats(sk_watch *w, const gen *g, int64_t t0)
{
	uint64_t inds = 0, bytes = 0;
	for (size_t i = 0; i < g->np; i++) {
		sk_matcher_stats ms;
		sk_matcher_stats_get(g->p[i]->m, &ms);
		inds += ms.indicators;
		bytes += ms.bytes;
	}
	atomic_store(&w->live_inds, inds);
	atomic_store(&w->live_bytes, bytes);
	atomic_store(&w->rebuild_us, (uint64_t)(sk_ts_now_us() - t0));
	atomic_fetch_add(&w->rebuilds, 1);
}

/*
 * Make the next live set: the new delta d (NULL: none) on top of the current
 * parts, or a full rebuild when full (or the set is small, or forced).
 */
static sk_err refresh(sk_watch *w, bool force_full, sk_error *err)
{
	int64_t t0 = sk_ts_now_us(), probe;
	part *d = NULL, *full = NULL;
	gen *ng = NULL, *old;
	sk_err rc;

	if ((rc = sk_store_indicator_max_ver(w->st, &probe, err)))
		return rc;
	if (probe <= w->max_ver && !force_full)
		return SK_OK;
	if (force_full && (rc = load_warninglists(w, err)))
		return rc;
	if (probe > w->max_ver && (rc = build_part(w, w->max_ver, &d, err)))
		return rc;
	old = w->cur;
	uint64_t live = atomic_load(&w->live_inds);
	if (force_full || old->np >= MAX_PARTS ||
	    live < (w->cfg.full_rebuild_max ? w->cfg.full_rebuild_max : 50000)) {
		if ((rc = build_part(w, 0, &full, err))) {
			part_free(d);
			return rc;
		}
	}
	if (!(ng = calloc(1, sizeof(*ng)))) {
		part_free(d);
		part_free(full);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	if (full) {
		ng->p[ng->np++] = full;
	} else {
		for (size_t i = 0; i < old->np; i++)
			ng->p[ng->np++] = old->p[i];
		ng->p[ng->np++] = d;
	}
	ng->refs = 1;
	pthread_mutex_lock(&w->ring_mu);
	for (size_t i = 0; i < ng->np; i++)
		ng->p[i]->refs++;
	ng->seq = ++w->seq;
	w->cur = ng;
	publish_stats(w, ng, t0);
	/* records read before the swap: rescan with the new indicators only */
	if (d && w->cfg.lookback_us)
		lookback(w, d);
	gen *f = gen_unref(old);
	gen_free(f);
	pthread_mutex_unlock(&w->ring_mu);
	if (d && d->refs == 0)
		part_free(d); /* used for the rescan only */
	if (probe > w->max_ver)
		w->max_ver = probe;
	fprintf(stderr, "schakel: watch: %llu indicators live (%s, %zu part%s) in %.1f ms\n",
		(unsigned long long)atomic_load(&w->live_inds), full ? "full build" : "patched",
		ng->np, ng->np == 1 ? "" : "s", (double)atomic_load(&w->rebuild_us) / 1000.0);
	return SK_OK;
}

static void *rebuild_main(void *arg)
{
	sk_watch *w = arg;
	unsigned poll = w->cfg.poll_ms ? w->cfg.poll_ms : 100;
	int64_t sight_us = (int64_t)(w->cfg.sighting_s ? w->cfg.sighting_s : 10) * 1000000;
	int64_t last_sight = sk_ts_now_us(), last_full = last_sight, last_change = last_sight;
	sk_error e;

	while (!atomic_load(&w->stop_all)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)poll * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&w->cv_mu);
		if (!atomic_load(&w->stop_all))
			pthread_cond_timedwait(&w->cv, &w->cv_mu, &ts);
		pthread_mutex_unlock(&w->cv_mu);
		if (atomic_load(&w->stop_all))
			break;
		int64_t now = sk_ts_now_us(), before = w->max_ver;
		bool merge = (w->cur->np > 1 && now - last_change > MERGE_IDLE_US) ||
			     now - last_full > REFRESH_US;
		if (refresh(w, merge, &e))
			fprintf(stderr, "schakel: watch: rebuilding the matcher: %s\n", e.msg);
		if (w->max_ver != before)
			last_change = now;
		if (merge || w->cur->np == 1)
			last_full = merge ? now : last_full;
		if (atomic_exchange(&w->sight_now, 0) || now - last_sight >= sight_us) {
			flush_sightings(w);
			last_sight = now;
		}
	}
	flush_sightings(w);
	return NULL;
}

/* --- webhook ------------------------------------------------------------------- */

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

static void *hook_main(void *arg)
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
	    (rc = sk_indload_wlcache_new(&w->wlcache, err)) || (rc = load_warninglists(w, err)))
		goto fail;
	if ((rc = sk_store_indicator_max_ver(w->st, &w->max_ver, err)))
		goto fail;
	{
		part *base = NULL;
		if ((rc = build_part(w, 0, &base, err)))
			goto fail;
		if (!(w->cur = calloc(1, sizeof(gen)))) {
			part_free(base);
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
			goto fail;
		}
		w->cur->p[0] = base;
		w->cur->np = 1;
		w->cur->refs = 1;
		w->cur->seq = ++w->seq;
		base->refs = 1;
		publish_stats(w, w->cur, t0);
	}
	if (w->alerts_path && !(w->alerts = fopen(w->alerts_path, "a"))) {
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
		if (pthread_create(&w->hook_th, NULL, hook_main, w)) {
			rc = sk_error_set(err, SK_ENOMEM, "cannot start a thread");
			goto fail;
		}
		w->hook_run = true;
	}
	if (pthread_create(&w->rebuild_th, NULL, rebuild_main, w)) {
		rc = sk_error_set(err, SK_ENOMEM, "cannot start a thread");
		goto fail;
	}
	w->rebuild_run = true;
	if (pthread_create(&w->reader_th, NULL, reader_main, w)) {
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
	w->stop = 1;
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
		gen_free(w->cur);
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
