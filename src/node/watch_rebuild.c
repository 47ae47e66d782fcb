/*
 * watch_rebuild.c - the live matcher set of `serve --watch`: compiled parts
 * (a base and deltas of changed indicators), the reference-counted
 * generations the reader matches against, and the rebuild thread that
 * probes the store for new indicators, patches or rebuilds the set, swaps it
 * in and writes the sightings.  The scheme and the locks are described in
 * watch.c.
 */
#include "watch_priv.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schakel/hashed.h"
#include "schakel/hashkey.h"
#include "schakel/indload.h"
#include "schakel/matcher.h"
#include "schakel/store.h"
#include "schakel/timestamp.h"

#define MERGE_IDLE_US (30 * 1000000LL)
#define REFRESH_US    (600 * 1000000LL)

/* --- compiled parts --------------------------------------------------------- */

void sk_watch_part_free(part *p)
{
	if (!p)
		return;
	if (p->vers) { /* a cached base: only the entries hit were filled, and the hashed */
		for (uint32_t i = 0; i < p->nfilled; i++)
			sk_hit_ind_clear(&p->inds[p->filled[i]].h);
		for (uint32_t i = p->nm; i < p->ninds; i++)
			sk_hit_ind_clear(&p->inds[i].h);
	} else {
		for (uint32_t i = 0; i < p->ninds; i++)
			sk_hit_ind_clear(&p->inds[i].h);
	}
	sk_hmatch_ctx_free(p->hc);
	sk_hmatch_free(p->hm);
	sk_matcher_free(p->m); /* after: p->vers points into its mapping */
	free(p->inds);
	free(p->filled);
	sk_mbase_msgs_clear(&p->msgs);
	for (size_t i = 0; i < p->nids; i++)
		free(p->ids[i]);
	free(p->ids);
	free(p);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool sk_watch_part_covers(const part *p, const char *id)
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

/* Indicator idx of p: its id (to shadow older parts), version row, arrival and until. */
static int part_put(part *p, uint32_t idx, int64_t ver, const char *id, int64_t arrived,
                    int64_t until)
{
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
	mi->h.ver = ver;
	mi->arrived_us = arrived;
	mi->until = until;
	if (!(mi->h.id = strdup(id)))
		return 1;
	return add_id(p, id);
}

static int on_added(void *ud, uint32_t idx, const sk_ind_row *r, int64_t until)
{
	return part_put(((skip_ctx *)ud)->p, idx, r->ver, r->id, r->arrived, until);
}

static int on_hashed(void *ud, uint32_t idx, int64_t ver, const char *id)
{
	/* the arrival is not known here: a hashed hit's detection delay is not timed */
	return part_put(((skip_ctx *)ud)->p, idx, ver, id, 0, 0);
}

static void on_hashed_skipped(void *ud, const char *id, const char *msg)
{
	skip_ctx *sc = ud;
	if (sc->reported++ < 20)
		fprintf(stderr, "schakel: watch: %s: not matched: %s\n", id, msg);
}

static int has_row(void *ud, const sk_row *r)
{
	(void)r;
	*(bool *)ud = true;
	return 1;
}

/*
 * The hashed indicators changed after after_ver into p, numbered after its
 * matcher's, with the hash keys the node holds now (read at every build, so
 * a key imported while the node runs applies at the next one).
 */
static sk_err build_hashed(sk_watch *w, part *p, skip_ctx *sc, int64_t after_ver, sk_error *err)
{
	sk_hashkeys ks = {0};
	char *path = sk_hashkey_path(w->db_path);
	sk_hmatch_load_opts o = {.after_ver = after_ver,
	                         .first_ind = p->ninds,
	                         .on_added = on_hashed,
	                         .on_skipped = on_hashed_skipped,
	                         .ud = sc};
	uint32_t added = 0;
	bool def = false;
	sk_err rc;

	if (!path)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if ((rc = sk_hashkeys_load(path, &ks, err)))
		goto out;
	/* no key and no hashed indicator's extension-definition: nothing to do, at no cost */
	if (!ks.n && (sk_store_get(w->st, SK_HASHED_EXT_ID, false, has_row, &def, err) || !def))
		goto out;
	if ((rc = sk_hmatch_new(&p->hm, err)) || (rc = sk_hmatch_ctx_new(&p->hc, err)))
		goto out;
	for (size_t i = 0; i < ks.n && !rc; i++)
		rc = sk_hmatch_add_key(p->hm, ks.k[i].id, ks.k[i].key, err);
	if (!rc)
		rc = sk_hmatch_load(w->st, p->hm, &o, &added, err);
	if (!rc && !added) { /* nothing to match: no cost per record */
		sk_hmatch_ctx_free(p->hc);
		sk_hmatch_free(p->hm);
		p->hc = NULL;
		p->hm = NULL;
	}
out:
	sk_hashkeys_free(&ks);
	free(path);
	return rc;
}

static void on_skipped(void *ud, const sk_ind_row *r, sk_indload_skip why, const char *msg)
{
	skip_ctx *sc = ud;
	char line[SK_ERROR_MSG_MAX + 200];
	/* a delta must still shadow older parts' entries for this id */
	if (sc->delta && add_id(sc->p, r->id))
		sc->oom = true;
	if (why == SK_INDLOAD_UNSUPPORTED && sk_hashed_pattern(r->pattern, r->pattern_len))
		return; /* build_hashed reports it (and `scan` itself, not from the cache) */
	if (!sc->delta) /* what `scan` replays when it loads this build from the cache */
		sk_mbase_note(&sc->p->msgs, why, r->id, msg, line, sizeof(line));
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
sk_err sk_watch_load_warninglists(sk_watch *w, sk_error *err)
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

sk_err sk_watch_part_hashed(sk_watch *w, part *p, sk_error *err)
{
	skip_ctx sc = {.p = p};
	return build_hashed(w, p, &sc, 0, err);
}

/* Compile the indicators changed after after_ver (0 = all) into a new part. */
sk_err sk_watch_build_part(sk_watch *w, int64_t after_ver, part **out, sk_error *err)
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
	if ((rc = sk_indload_run(w->st, p->m, &o, &p->ls, err)))
		goto out;
	if (sc.oom) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	p->nm = p->ninds;
	if ((rc = sk_matcher_build(p->m, err)) || (rc = build_hashed(w, p, &sc, after_ver, err)))
		goto out;
	if (p->nids) /* qsort(NULL, 0, ...) is undefined */
		qsort(p->ids, p->nids, sizeof(char *), cmp_str);
	p->refs = 0;
	*out = p;
out:
	if (rc)
		sk_watch_part_free(p);
	return rc;
}

/* Under ring_mu.  Returns the gen if it must be freed now (outside the lock). */
gen *sk_watch_gen_unref(gen *g)
{
	if (g && --g->refs == 0)
		return g;
	return NULL;
}

void sk_watch_gen_free(gen *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->np; i++)
		if (--g->p[i]->refs == 0)            /* parts are only shared by gens freed here, */
			sk_watch_part_free(g->p[i]); /* by one thread at a time (see below) */
	free(g);
}

/* Part refcounts change in sk_watch_gen_free and when gens are made; both happen under ring_mu or
 * on a gen no one else can see, so sk_watch_gen_free is called with ring_mu held. */
void sk_watch_gen_release(sk_watch *w, gen *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&w->ring_mu);
	gen *f = sk_watch_gen_unref(g);
	/* the parts' matchers are freed under the lock: it is rare and the reader only waits
	 * for the free, not for a build */
	sk_watch_gen_free(f);
	pthread_mutex_unlock(&w->ring_mu);
}

/* --- the rebuild thread ----------------------------------------------------- */

void sk_watch_publish_stats(sk_watch *w, const gen *g, int64_t t0)
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
	if (force_full && (rc = sk_watch_load_warninglists(w, err)))
		return rc;
	if (probe > w->max_ver && (rc = sk_watch_build_part(w, w->max_ver, &d, err)))
		return rc;
	old = w->cur;
	uint64_t live = atomic_load(&w->live_inds);
	sk_mbase_key k = {0};
	bool keyed = false;
	if (force_full || old->np >= MAX_PARTS ||
	    live < (w->cfg.full_rebuild_max ? w->cfg.full_rebuild_max : 50000)) {
		/* the cache's key as of before the build (a failure only means no new base) */
		sk_error ke;
		keyed = !sk_mbase_key_init(&k, w->st, w->db_path, w->cfg.subdomains,
		                           w->cfg.no_warninglists, &ke);
		if ((rc = sk_watch_build_part(w, 0, &full, err))) {
			sk_mbase_key_clear(&k);
			sk_watch_part_free(d);
			return rc;
		}
	}
	if (!(ng = calloc(1, sizeof(*ng)))) {
		sk_mbase_key_clear(&k);
		sk_watch_part_free(d);
		sk_watch_part_free(full);
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
	sk_watch_publish_stats(w, ng, t0);
	/* records read before the swap: rescan with the new indicators only */
	if (d && w->cfg.lookback_us)
		sk_watch_lookback(w, d);
	gen *f = sk_watch_gen_unref(old);
	sk_watch_gen_free(f);
	pthread_mutex_unlock(&w->ring_mu);
	if (d && d->refs == 0)
		sk_watch_part_free(d); /* used for the rescan only */
	if (probe > w->max_ver)
		w->max_ver = probe;
	fprintf(stderr, "schakel: watch: %llu indicators live (%s, %zu part%s) in %.1f ms\n",
	        (unsigned long long)atomic_load(&w->live_inds), full ? "full build" : "patched",
	        ng->np, ng->np == 1 ? "" : "s", (double)atomic_load(&w->rebuild_us) / 1000.0);
	if (full && keyed) /* the merged set is the cache's new base: the next start loads it */
		sk_watch_cache_save(w, &k, full);
	sk_mbase_key_clear(&k);
	return SK_OK;
}

void *sk_watch_rebuild_main(void *arg)
{
	sk_watch *w = arg;
	unsigned poll = w->cfg.poll_ms ? w->cfg.poll_ms : 100;
	int64_t sight_us = (int64_t)(w->cfg.sighting_s ? w->cfg.sighting_s : 10) * 1000000;
	int64_t last_sight = sk_ts_now_us(), last_full = last_sight, last_change = last_sight;
	int64_t last_src = last_sight;
	sk_error e;

	sk_watch_cache_save_start(w);
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
			sk_watch_flush_sightings(w);
			last_sight = now;
		}
		if (now - last_src >= SOURCES_US) {
			sk_watch_flush_sources(w);
			last_src = now;
		}
	}
	sk_watch_flush_sightings(w);
	sk_watch_flush_sources(w);
	return NULL;
}
