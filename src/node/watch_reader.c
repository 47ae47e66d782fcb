/*
 * watch_reader.c - the reader thread of `serve --watch`: follows the log,
 * matches each record against the live set (skipping hits that a newer part
 * shadows) and keeps the records of the lookback window, which the rebuild
 * thread rescans when indicators arrive.
 */
#include "watch_priv.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/hashed.h"
#include "schakel/logread.h"
#include "schakel/matcher.h"
#include "schakel/timestamp.h"

#define DEFAULT_LOOKBACK_BYTES ((size_t)256 << 20)

/*
 * Whether indicator ind of p no longer alerts: it expired or decayed by time
 * alone since p was built (the next full rebuild drops it).
 */
static bool expired(const part *p, uint32_t ind)
{
	int64_t until = p->untils && ind < p->nm ? p->untils[ind] : p->inds[ind].until;
	return until && until <= sk_ts_now_us();
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
		nh = sk_hmatch_merge(p->hm, p->hc, rec, &hits, nh);
		for (size_t k = 0; k < nh; k++) {
			const sk_match_hit *h = &hits[k];
			alert a = {.rec = rec, .h = h, .lookback = lookback};
			bool shadowed = false;
			if (h->ind == last || h->ind >= p->ninds)
				continue;
			if (!p->inds[h->ind].h.ver && !sk_watch_part_fill(w, g->p[i], h->ind))
				continue; /* a cached base's version that is gone */
			if (expired(p, h->ind))
				continue; /* past its valid_until or decayed, since the part was
				             built */
			for (size_t j = i + 1; j < g->np && !shadowed; j++)
				shadowed = sk_watch_part_covers(g->p[j], p->inds[h->ind].h.id);
			if (shadowed)
				continue;
			if (h->obs) {
				sk_match_ref ref = {0, rec->line, rec->ts_us};
				if (!sk_match_state_feed(mst[i], h, &ref, &a.refs, &a.nrefs))
					continue;
			}
			last = h->ind;
			sk_watch_emit(w, &p->inds[h->ind], &a);
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
		strs +=
		    rec->obs[i].len + 1 + (rec->obs[i].field ? strlen(rec->obs[i].field) + 1 : 0);
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
void sk_watch_lookback(sk_watch *w, part *p)
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

void *sk_watch_reader_main(void *arg)
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
			drop = sk_watch_gen_unref(g);
			g = ng;
		}
		bool ok = true;
		for (size_t i = 0; i < g->np; i++)
			ok = ok && ctx[i] && mst[i];
		if (ok)
			match_one(w, g, 0, ctx, mst, rec, false);
		if (w->cfg.lookback_us)
			kept_add(w, rec);
		sk_logsrc_note(&w->src, sk_logread_format(w->lr), rec);
		sk_watch_gen_free(drop);
		pthread_mutex_unlock(&w->ring_mu);
	}
	if (rc)
		fprintf(stderr, "schakel: watch: %s: %s\n", w->log_path, e.msg);
	for (size_t j = 0; j < MAX_PARTS; j++) {
		sk_match_ctx_free(ctx[j]);
		sk_match_state_free(mst[j]);
	}
	sk_watch_gen_release(w, g);
	return NULL;
}
