/*
 * scan_cache.c - `schakel scan` and the matcher cache (schakel/match_base.h):
 * loading the cached base with what scan keeps beside it (each compiled
 * indicator's version row, the load counts and the skip messages, replayed
 * as a fresh build prints them), bringing it up to date with a delta of the
 * indicators stored since it was built, matching with both, and writing a
 * new base after a full build.  The file sits beside the store:
 * STORE.matcher, STORE-sub.matcher (--subdomains), STORE-nowl.matcher
 * (--no-warninglists), STORE-sub-nowl.matcher.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scan.h"
#include "schakel/warninglist.h"

int scan_cache_init(scan_cache *c, sk_store *st, const char *db, bool subdomains, bool no_wl)
{
	sk_error err;
	sk_err rc;

	memset(c, 0, sizeof(*c));
	rc = sk_mbase_key_init(&c->k, st, db, subdomains, no_wl, &err);
	if (rc == SK_ENOMEM)
		return -1;
	if (rc) {
		if (rc != SK_ENOTFOUND)
			cli_err("matcher cache: %s", err.msg);
		sk_mbase_key_clear(&c->k);
		return 0;
	}
	c->enabled = true;
	c->no_wl = no_wl;
	return 0;
}

void scan_cache_skipped(scan_cache *c, sk_indload_skip why, const char *id, const char *msg,
                        bool quiet)
{
	char line[SK_ERROR_MSG_MAX + 200];
	char tag = sk_mbase_note(c->enabled ? &c->msgs : NULL, why, id, msg, line, sizeof(line));
	if (tag == 'U' || (tag == 'S' && !quiet))
		fprintf(stderr, "%s\n", line);
}

/* Print the stored skip messages as the build printed them. */
static void replay(const char *msgs, size_t len, bool quiet)
{
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(msgs + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - msgs) : len;
		if (e > i && (msgs[i] == 'U' || !quiet))
			fprintf(stderr, "%.*s\n", (int)(e - i - 1), msgs + i + 1);
		i = e + 1;
	}
}

/* --- the delta ---------------------------------------------------------------- */

typedef struct delta_ctx {
	scan_cache *c;
	scan_state *ss;
	uint32_t vercap;
	bool quiet;
} delta_ctx;

static int cover(scan_cache *c, const char *id)
{
	if (c->nids == c->idcap) {
		size_t nc = c->idcap ? c->idcap * 2 : 64;
		char **n = realloc(c->ids, nc * sizeof(*n));
		if (!n)
			return -1;
		c->ids = n;
		c->idcap = nc;
	}
	if (!(c->ids[c->nids] = strdup(id)))
		return -1;
	c->nids++;
	return 0;
}

static int d_added(void *ud, uint32_t idx, const sk_ind_row *r, int64_t until)
{
	(void)until; /* the delta is built at the scan's time and never saved */
	delta_ctx *d = ud;
	scan_state *ss = d->ss;
	uint64_t at = idx;
	if (at >= d->vercap) {
		uint32_t nc = d->vercap ? d->vercap * 2 : 1024;
		while (nc <= at)
			nc *= 2;
		int64_t *nv = realloc(ss->vers_own, nc * sizeof(*nv));
		if (!nv)
			return 1;
		ss->dvers = ss->vers_own = nv;
		d->vercap = nc;
	}
	ss->vers_own[at] = r->ver;
	d->c->ndelta = idx + 1;
	return cover(d->c, r->id);
}

static void d_skipped(void *ud, const sk_ind_row *r, sk_indload_skip why, const char *msg)
{
	delta_ctx *d = ud;
	char line[SK_ERROR_MSG_MAX + 200];
	if (cover(d->c, r->id)) /* revoked, expired, refused: still masks the base */
		d->c->oom = true;
	/* printed once the delta is used (a too large one is dropped for a full build) */
	sk_mbase_note(&d->c->dmsgs, why, r->id, msg, line, sizeof(line));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Compile the indicators stored after the base's watermark into c->dm;
 * ss->vers stays the base's rows (in the mapping), ss->dvers gets the
 * delta's.  SK_ELIMIT when the delta is too large to be worth it (a full
 * build writes a new base).
 */
static sk_err build_delta(scan_cache *c, scan_state *ss, const sk_mbase *b, int64_t at,
                          const sk_match_opts *mo0, bool quiet, sk_indload_stats *dls,
                          sk_error *err)
{
	sk_match_opts mo = *mo0;
	sk_wl_set *wl = NULL;
	delta_ctx d = {.c = c, .ss = ss, .quiet = quiet};
	sk_indload_opts lo = {.at = at,
	                      .after_ver = b->watermark,
	                      .on_added = d_added,
	                      .on_skipped = d_skipped,
	                      .ud = &d};
	sk_err rc;

	c->nbase = ss->nbase = b->ninds;
	ss->vers = b->vers; /* the base's rows in place, the delta's in dvers */
	d.vercap = 1024;
	if (!(ss->vers_own = malloc((size_t)d.vercap * sizeof(int64_t))))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	ss->dvers = ss->vers_own;
	if (!c->no_wl)
		if ((rc = sk_indload_warninglists(ss->st, &wl, err)))
			return rc;
	mo.warninglists = wl;
	if ((rc = sk_matcher_new(&mo, &c->dm, err)) ||
	    (rc = sk_indload_run(ss->st, c->dm, &lo, dls, err)))
		goto out;
	if (c->oom) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (sk_mbase_delta_too_big(b->ninds, c->nids)) {
		rc = sk_error_set(err, SK_ELIMIT, "%zu indicators changed since it was built",
		                  c->nids);
		goto out;
	}
	if ((rc = sk_matcher_build(c->dm, err)) ||
	    (rc = sk_match_state_new(c->dm, 0, &c->dmst, err)))
		goto out;
	if (c->nids)
		qsort(c->ids, c->nids, sizeof(char *), cmp_str);
	if (b->ninds && !(c->mask = calloc(b->ninds, 1))) /* zero pages until a base hit */
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	ss->ninds = c->nbase + c->ndelta;
out:
	sk_warninglist_free(wl);
	return rc;
}

/* Free the delta and its masks (c stays usable: a full build follows, or the end). */
static void free_delta(scan_cache *c)
{
	sk_match_state_free(c->dmst);
	sk_matcher_free(c->dm);
	for (size_t i = 0; i < c->nids; i++)
		free(c->ids[i]);
	free(c->ids);
	free(c->mask);
	sk_mbase_msgs_clear(&c->dmsgs);
	c->dmst = NULL;
	c->dm = NULL;
	c->ids = NULL;
	c->mask = NULL;
	c->nids = c->idcap = 0;
	c->nbase = c->ndelta = 0;
	c->oom = false;
}

/* A delta that is not used: back to no indicators, for the full build. */
static void drop_delta(scan_cache *c, scan_state *ss)
{
	free_delta(c);
	free(ss->vers_own);
	ss->vers = ss->vers_own = NULL;
	ss->dvers = NULL;
	ss->ninds = ss->nbase = 0;
}

sk_matcher *scan_cache_load(scan_cache *c, scan_state *ss, int64_t at, const sk_match_opts *mo,
                            bool quiet, sk_indload_stats *ls)
{
	sk_mbase b;
	sk_indload_stats dls = {0};
	sk_error err;
	sk_err rc;

	if (!c->enabled)
		return NULL;
	rc = sk_mbase_load(&c->k, at, mo, &b, &err);
	if (rc == SK_ENOTFOUND)
		return NULL;
	if (rc == SK_ECONFLICT) {
		snprintf(c->stale, sizeof(c->stale), "%.160s", err.msg);
		return NULL;
	}
	if (rc) {
		cli_err("%s: %s; rebuilding it", c->k.path, err.msg);
		return NULL;
	}
	c->untils = b.untils;
	c->at = at;
	c->nbase = b.ninds;
	c->nexpired = sk_mbase_expired(b.untils, b.ninds, at);
	if (b.watermark < c->k.watermark) {
		rc = build_delta(c, ss, &b, at, mo, quiet, &dls, &err);
		if (rc) {
			drop_delta(c, ss);
			sk_matcher_free(b.m);
			if (rc != SK_ELIMIT) {
				cli_err("matcher cache: %s", err.msg);
				return NULL;
			}
			snprintf(c->stale, sizeof(c->stale), "%.160s", err.msg);
			c->untils = NULL;
			c->nexpired = 0;
			return NULL;
		}
		/* the counts of the base and the delta (an indicator changed since counts in both)
		 */
		ls->added = b.ls.added + dls.added;
		ls->unsupported = b.ls.unsupported + dls.unsupported;
		ls->expired = b.ls.expired + dls.expired;
		ls->other_type = b.ls.other_type + dls.other_type;
		ls->revoked = b.ls.revoked + dls.revoked;
		ls->suppressed = b.ls.suppressed + dls.suppressed;
	} else {
		ss->ninds = b.ninds;
		ss->vers = b.vers;
		*ls = b.ls;
	}
	/* expired or decayed by time alone since the build: counted, and their hits masked */
	if (c->nexpired) {
		ls->added -= c->nexpired < ls->added ? c->nexpired : ls->added;
		ls->expired += c->nexpired;
		if (!c->mask && !(c->mask = calloc(b.ninds, 1))) {
			cli_err("out of memory");
			drop_delta(c, ss);
			sk_matcher_free(b.m);
			c->untils = NULL;
			c->nexpired = 0;
			return NULL;
		}
	}
	replay(b.msgs, b.msgs_len, quiet);
	replay(c->dmsgs.buf, c->dmsgs.len, quiet);
	c->watermark = b.watermark;
	c->loaded = true;
	return b.m;
}

void scan_cache_save(scan_cache *c, const scan_state *ss, const sk_matcher *m,
                     const sk_indload_stats *ls, bool quiet)
{
	sk_error err;

	if (!c->enabled || c->loaded)
		return;
	if (sk_mbase_save(&c->k, m, ss->vers, ss->untils_own, ss->ninds, ls, c->k.watermark,
	                  &c->msgs, &err) &&
	    !quiet)
		cli_err("matcher cache not written: %s", err.msg);
}

void scan_cache_clear(scan_cache *c)
{
	free_delta(c);
	sk_mbase_key_clear(&c->k);
	sk_mbase_msgs_clear(&c->msgs);
	memset(c, 0, sizeof(*c));
}

/* --- matching with the base and the delta ------------------------------------ */

struct scan_mctx {
	sk_match_ctx *b, *d;
	uint32_t nbase;
	sk_match_hit *v;
	size_t cap;
};

int scan_mctx_new(const scan_cache *c, const sk_matcher *m, scan_mctx **out, sk_error *err)
{
	scan_mctx *x = calloc(1, sizeof(*x));
	*out = NULL;
	if (!x)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	x->nbase = c->nbase;
	if (sk_match_ctx_new(m, &x->b, err) || (c->dm && sk_match_ctx_new(c->dm, &x->d, err))) {
		scan_mctx_free(x);
		return -1;
	}
	*out = x;
	return 0;
}

size_t scan_mctx_record(scan_mctx *x, const sk_logrec *rec, const sk_match_hit **hits)
{
	const sk_match_hit *bh, *dh;
	size_t nb = sk_match_record(x->b, rec, &bh), nd;

	if (!x->d) {
		*hits = bh;
		return nb;
	}
	nd = sk_match_record(x->d, rec, &dh);
	if (!nd) {
		*hits = bh;
		return nb;
	}
	if (nb + nd > x->cap) { /* the base's hits, then the delta's: still in indicator order */
		size_t nc = (nb + nd) * 2;
		sk_match_hit *v = realloc(x->v, nc * sizeof(*v));
		if (!v) {
			*hits = bh;
			return nb;
		}
		x->v = v;
		x->cap = nc;
	}
	if (nb)
		memcpy(x->v, bh, nb * sizeof(*bh));
	for (size_t i = 0; i < nd; i++) {
		x->v[nb + i] = dh[i];
		x->v[nb + i].ind += x->nbase;
	}
	*hits = x->v;
	return nb + nd;
}

void scan_mctx_free(scan_mctx *x)
{
	if (!x)
		return;
	sk_match_ctx_free(x->b);
	sk_match_ctx_free(x->d);
	free(x->v);
	free(x);
}

bool scan_cache_route(scan_cache *c, scan_state *ss, uint32_t ind, uint32_t *local,
                      sk_match_state **mst)
{
	*local = ind;
	if (!c->mask) /* nothing changed since the base, or no base */
		return false;
	if (ind >= c->nbase) {
		if (c->dm) {
			*local = ind - c->nbase;
			*mst = c->dmst;
		}
		return false;
	}
	if (!c->mask[ind]) { /* the first hit on this base indicator: is it still current? */
		c->mask[ind] = 1;
		if (c->untils && c->untils[ind] && c->untils[ind] <= c->at) {
			c->mask[ind] = 2;
		} else if (c->dm) {
			sk_hit_ind h = {.ver = ss->vers[ind]};
			sk_error err;
			if (!sk_hit_ind_load(ss->st, &h, &err) && h.id &&
			    bsearch(&h.id, c->ids, c->nids, sizeof(char *), cmp_str))
				c->mask[ind] = 2;
			sk_hit_ind_clear(&h);
		}
	}
	return c->mask[ind] == 2;
}
