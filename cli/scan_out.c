/*
 * scan_out.c - what `schakel scan` writes: one JSON line per hit (hit.h)
 * and, at the end (and periodically under --follow), one sighting per
 * indicator with hits, versioned across scans, made by the node's sighting
 * policy (sk_sync_sighting_put: identity, marking, collections).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scan.h"
#include "schakel/hashed.h"
#include "schakel/node.h"
#include "schakel/timestamp.h"

int scan_alloc_inds(scan_state *ss)
{
	if (!ss->ninds)
		return 0;
	/* calloc: fresh zero pages, faulted in only where an indicator hits */
	if (!(ss->inds = calloc(ss->ninds, sizeof(*ss->inds))))
		return -1;
	ss->indcap = ss->ninds;
	return 0;
}

int scan_emit(scan_state *ss, uint32_t ind, const sk_hit *h)
{
	scan_ind *si = &ss->inds[ind];
	size_t len;
	const char *line;

	if (!si->meta.ver) { /* its first hit */
		if (ss->nhitv == ss->hitvcap) {
			uint32_t nc = ss->hitvcap ? ss->hitvcap * 2 : 64;
			uint32_t *n = realloc(ss->hitv, nc * sizeof(*n));
			if (!n)
				return -1;
			ss->hitv = n;
			ss->hitvcap = nc;
		}
		ss->hitv[ss->nhitv++] = ind;
		si->meta.ver =
		    ss->dvers && ind >= ss->nbase ? ss->dvers[ind - ss->nbase] : ss->vers[ind];
	}
	line = sk_hit_fmt_line(ss->fmt, &si->meta, h, NULL, &len);

	if (!line || fwrite(line, 1, len, ss->out) != len)
		return -1;
	si->hits++;
	ss->hits++;
	if (h->ts_us) {
		if (!si->first_us || h->ts_us < si->first_us)
			si->first_us = h->ts_us;
		if (h->ts_us > si->last_us)
			si->last_us = h->ts_us;
	}
	return 0;
}

int scan_write_sightings(scan_state *ss, const char *collection)
{
	sk_collection coll = {0};
	sk_error err;
	sk_err rc;
	int64_t cid = 0;

	if (collection) {
		if (sk_store_collection_get(ss->st, collection, &coll, &err)) {
			cli_err("collection %s: %s", collection, err.msg);
			return EXIT_INPUT;
		}
		cid = coll.cid;
		sk_collection_clear(&coll);
	}
	if ((rc = sk_store_begin(ss->st, &err)))
		goto out;
	for (uint32_t k = 0; k < ss->nhitv && !rc; k++) {
		scan_ind *si = &ss->inds[ss->hitv[k]];
		sk_sync_sighting sg = {.count = (int64_t)(si->hits - si->flushed),
		                       .first_us = si->first_us,
		                       .last_us = si->last_us,
		                       .cid = cid,
		                       .versioned = true};
		if (si->hits <= si->flushed || sk_hit_ind_load(ss->st, &si->meta, NULL))
			continue;
		sg.indicator = si->meta.id;
		rc = sk_sync_sighting_put(ss->st, &sg, NULL, &err);
	}
	int64_t now = sk_ts_now_us() / 1000000;
	for (unsigned k = 0; k < ss->src.n && !rc; k++) {
		const sk_logsrc *s = &ss->src.src[k];
		char types[256];
		if (s->records <= s->flushed)
			continue;
		sk_logsrc_types(s, types, sizeof(types));
		rc = sk_store_logsrc_add(ss->st, s->kind, now, (int64_t)(s->records - s->flushed),
		                         types, &err);
	}
	if (rc) {
		sk_store_rollback(ss->st);
	} else if (!(rc = sk_store_commit(ss->st, &err))) {
		for (uint32_t k = 0; k < ss->nhitv; k++)
			ss->inds[ss->hitv[k]].flushed = ss->inds[ss->hitv[k]].hits;
		for (unsigned k = 0; k < ss->src.n; k++)
			ss->src.src[k].flushed = ss->src.src[k].records;
	}
out:
	if (rc) {
		cli_err("writing sightings: %s", err.msg);
		return EXIT_INPUT;
	}
	return EXIT_OK;
}

void scan_state_clear(scan_state *ss)
{
	for (uint32_t k = 0; k < ss->nhitv; k++)
		if (ss->inds[ss->hitv[k]].meta.loaded) /* nothing to free before the first hit */
			sk_hit_ind_clear(&ss->inds[ss->hitv[k]].meta);
	free(ss->inds);
	free(ss->hitv);
	free(ss->vers_own);
	free(ss->untils_own);
	sk_hit_fmt_free(ss->fmt);
	free(ss->node_id);
	sk_hmatch_ctx_free(ss->hc);
	sk_hmatch_free(ss->hm);
}
