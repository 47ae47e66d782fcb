/*
 * watch_cache.c - `serve --watch` and the matcher cache (match_base.h): the
 * live set starts as the cached base plus a delta of the indicators stored
 * since it was built, instead of a full build; a full build (at start when
 * there is no usable base, and every merge later) is written back as the new
 * base.
 *
 * A cached base part holds no ids: it is always the oldest part, so it
 * shadows nothing, and the delta and later parts shadow its hits on the ids
 * they cover (sk_watch_part_covers) as they do for a compiled base.  Its
 * indicators' id and arrival are read on their first hit.
 */
#include "watch_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/timestamp.h"

/* --- filling a cached base's entries --------------------------------------- */

typedef struct fill_ctx {
	int64_t ver;
	char *id;
	int64_t arrived;
	bool found;
} fill_ctx;

static int fill_row(void *ud, const sk_ind_row *r)
{
	fill_ctx *f = ud;
	if (r->ver == f->ver) {
		f->found = true;
		f->arrived = r->arrived;
		f->id = strdup(r->id);
	}
	return 1; /* the first row at or after ver is the one */
}

bool sk_watch_part_fill(sk_watch *w, part *p, uint32_t idx)
{
	ind_meta *mi = &p->inds[idx];
	fill_ctx f = {.ver = p->vers ? p->vers[idx] : 0};
	sk_error err;

	if (!p->vers || mi->h.ver)
		return mi->h.ver != 0;
	if (p->nfilled == p->filledcap) {
		uint32_t nc = p->filledcap ? p->filledcap * 2 : 64;
		uint32_t *n = realloc(p->filled, nc * sizeof(*n));
		if (!n)
			return false;
		p->filled = n;
		p->filledcap = nc;
	}
	pthread_mutex_lock(&w->emit_mu); /* emit_st is the emitter's connection */
	if (sk_store_indicator_rows(w->emit_st, f.ver - 1, SK_IND_REVOKED | SK_IND_ARRIVAL,
	                            fill_row, &f, &err) == SK_OK &&
	    !f.found) {
		/* replaced by a newer version since: the id, so that the newer part masks it */
		mi->h.ver = f.ver;
		if (sk_hit_ind_load(w->emit_st, &mi->h, &err) == SK_OK && mi->h.id)
			f.id = strdup(mi->h.id);
		sk_hit_ind_clear(&mi->h);
		f.arrived = sk_ts_now_us();
	}
	pthread_mutex_unlock(&w->emit_mu);
	if (!f.id)
		return false;
	memset(mi, 0, sizeof(*mi));
	mi->h.ver = f.ver;
	mi->h.id = f.id;
	mi->arrived_us = f.arrived;
	p->filled[p->nfilled++] = idx;
	return true;
}

/* --- the start ---------------------------------------------------------------- */

/* The cached base of k as a part (refs 0), or an error (ENOTFOUND, ECONFLICT, EINVAL). */
static sk_err load_base(sk_watch *w, const sk_mbase_key *k, part **out, int64_t *watermark,
                        sk_error *err)
{
	sk_mbase b;
	part *p;
	sk_err rc;

	*out = NULL;
	if ((rc = sk_mbase_load(k, sk_ts_now_us(), &w->mo, &b, err)))
		return rc;
	if (!(p = calloc(1, sizeof(*p))) ||
	    (b.ninds && !(p->inds = calloc(b.ninds, sizeof(*p->inds))))) { /* zero pages */
		free(p);
		sk_matcher_free(b.m);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	p->m = b.m;
	p->vers = b.vers;
	p->untils = b.untils;
	p->ninds = p->cap = p->nm = b.ninds;
	p->ls = b.ls;
	if ((rc = sk_watch_part_hashed(w, p, err))) {
		sk_watch_part_free(p);
		return rc;
	}
	*watermark = b.watermark;
	*out = p;
	return SK_OK;
}

sk_err sk_watch_initial_gen(sk_watch *w, gen **out, sk_error *err)
{
	sk_mbase_key k;
	part *base = NULL, *delta = NULL;
	int64_t wm = 0;
	gen *g;
	sk_error e;
	sk_err rc, krc;

	*out = NULL;
	krc =
	    sk_mbase_key_init(&k, w->st, w->db_path, w->cfg.subdomains, w->cfg.no_warninglists, &e);
	if (krc == SK_ENOMEM)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (krc && krc != SK_ENOTFOUND)
		fprintf(stderr, "schakel: watch: matcher cache: %s\n", e.msg);
	if (!krc) {
		w->max_ver = k.watermark;
		rc = load_base(w, &k, &base, &wm, &e);
		if (rc == SK_ECONFLICT)
			fprintf(stderr, "schakel: watch: %s: %s; rebuilding it\n", k.path, e.msg);
		else if (rc && rc != SK_ENOTFOUND)
			fprintf(stderr, "schakel: watch: %s: %s; rebuilding it\n", k.path, e.msg);
		if (base && wm < w->max_ver) {
			if ((rc = sk_watch_build_part(w, wm, &delta, err))) {
				sk_watch_part_free(base);
				goto out;
			}
			if (sk_mbase_delta_too_big(base->ninds, delta->nids)) {
				fprintf(stderr,
				        "schakel: watch: %s: %zu indicators changed since it was "
				        "built; rebuilding it\n",
				        k.path, delta->nids);
				sk_watch_part_free(base);
				sk_watch_part_free(delta);
				base = delta = NULL;
			}
		}
	} else if ((rc = sk_store_indicator_max_ver(w->st, &w->max_ver, err))) {
		return rc;
	}
	if (!base && (rc = sk_watch_build_part(w, 0, &base, err)))
		goto out;
	if (!(g = calloc(1, sizeof(*g)))) {
		sk_watch_part_free(base);
		sk_watch_part_free(delta);
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	g->p[g->np++] = base;
	if (delta)
		g->p[g->np++] = delta;
	for (size_t i = 0; i < g->np; i++)
		g->p[i]->refs = 1;
	g->refs = 1;
	if (!krc && !base->vers) { /* written by the rebuild thread, off the start path */
		w->start_key = k;
		w->start_unsaved = true;
		k.path = NULL;
	}
	if (!krc && base->vers)
		fprintf(
		    stderr,
		    "schakel: watch: matcher loaded from %s (%u indicators) with a delta of %zu "
		    "stored since\n",
		    k.path, base->ninds, delta ? delta->nids : (size_t)0);
	*out = g;
	rc = SK_OK;
out:
	sk_mbase_key_clear(&k);
	return rc;
}

void sk_watch_cache_save_start(sk_watch *w)
{
	/* the rebuild thread before its first swap: w->cur is still the start's set, which only
	 * this thread replaces, so its parts stay alive while they are written */
	if (w->start_unsaved && w->cur && w->cur->np && !w->cur->p[0]->vers)
		sk_watch_cache_save(w, &w->start_key, w->cur->p[0]);
	w->start_unsaved = false;
	sk_mbase_key_clear(&w->start_key);
}

void sk_watch_cache_save(sk_watch *w, const sk_mbase_key *k, part *p)
{
	int64_t *vers;
	sk_error err;

	/* built with other lists than the key names (they changed and were not reloaded yet) */
	if (!w->cfg.no_warninglists && k->wl_stamp != w->wl_stamp)
		return;
	if (!(vers = malloc(((size_t)p->nm + 1) * 2 * sizeof(*vers))))
		return;
	for (uint32_t i = 0; i < p->nm; i++) {
		vers[i] = p->inds[i].h.ver;
		vers[p->nm + i] = p->inds[i].until;
	}
	if (sk_mbase_save(k, p->m, vers, vers + p->nm, p->nm, &p->ls, k->watermark, &p->msgs, &err))
		fprintf(stderr, "schakel: watch: matcher cache not written: %s\n", err.msg);
	free(vers);
	sk_mbase_msgs_clear(&p->msgs);
}
