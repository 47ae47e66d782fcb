/*
 * indload.c - the store's current indicators into a matcher (indload.h).
 */
#include "schakel/indload.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/timestamp.h"

/* --- warning-list verdicts ------------------------------------------------ */

#define WLC_MAX ((size_t)1 << 21) /* verdicts kept at most (a table of 32 MiB) */

/* Open addressing on ver; a slot holds ver << 1 | listed, 0 = empty (ver > 0). */
struct sk_indload_wlcache {
	uint64_t *slot;
	size_t size, n; /* size: a power of two, or 0 */
};

enum { WL_UNKNOWN, WL_CLEAN, WL_LISTED };

sk_err sk_indload_wlcache_new(sk_indload_wlcache **out, sk_error *err)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	return SK_OK;
}

void sk_indload_wlcache_reset(sk_indload_wlcache *c)
{
	if (!c)
		return;
	free(c->slot);
	c->slot = NULL;
	c->size = c->n = 0;
}

void sk_indload_wlcache_free(sk_indload_wlcache *c)
{
	sk_indload_wlcache_reset(c);
	free(c);
}

static size_t wlc_home(const sk_indload_wlcache *c, int64_t ver)
{
	return (size_t)(((uint64_t)ver * 0x9E3779B97F4A7C15ULL) >> 20) & (c->size - 1);
}

static int wlc_get(const sk_indload_wlcache *c, int64_t ver)
{
	if (!c || !c->size || ver <= 0)
		return WL_UNKNOWN;
	for (size_t i = wlc_home(c, ver); c->slot[i]; i = (i + 1) & (c->size - 1))
		if ((int64_t)(c->slot[i] >> 1) == ver)
			return c->slot[i] & 1 ? WL_LISTED : WL_CLEAN;
	return WL_UNKNOWN;
}

static void wlc_put_slot(sk_indload_wlcache *c, uint64_t v)
{
	size_t i = wlc_home(c, (int64_t)(v >> 1));
	while (c->slot[i])
		i = (i + 1) & (c->size - 1);
	c->slot[i] = v;
	c->n++;
}

/* Remember a verdict; a full cache, or one that cannot grow, just forgets it. */
static void wlc_put(sk_indload_wlcache *c, int64_t ver, bool listed)
{
	if (!c || ver <= 0 || c->n >= WLC_MAX)
		return;
	if ((c->n + 1) * 2 > c->size) {
		size_t ns = c->size ? c->size * 2 : 1024, os = c->size;
		uint64_t *old = c->slot, *n = calloc(ns, sizeof(*n));
		if (!n)
			return;
		c->slot = n;
		c->size = ns;
		c->n = 0;
		for (size_t i = 0; i < os; i++)
			if (old[i])
				wlc_put_slot(c, old[i]);
		free(old);
	}
	wlc_put_slot(c, (uint64_t)ver << 1 | listed);
}

/* --- loading ---------------------------------------------------------------- */

typedef struct lctx {
	sk_matcher *m;
	const sk_indload_opts *o;
	int64_t at;
	sk_indload_stats *stats;
	sk_err fail; /* what stopped the load */
	sk_error fail_err;
} lctx;

static void skipped(lctx *lc, const sk_ind_row *r, sk_indload_skip why, const char *msg)
{
	if (lc->o->on_skipped)
		lc->o->on_skipped(lc->o->ud, r, why, msg);
}

/* The time s (RFC 3339, may be NULL) in µs; false when absent or unreadable. */
static bool ts_of(const char *s, int64_t *t)
{
	char key[SK_TS_KEY_LEN + 1];
	return s && sk_ts_parse(s, strlen(s), key, t);
}

/*
 * A validity bound t of some indicator narrows the window in which `at` may
 * move; a begin (valid_from) after `at` also ends the part of it in which a
 * later time only takes indicators away.
 */
static void window(lctx *lc, int64_t t, bool begin)
{
	if (t <= lc->at) {
		if (t > lc->stats->valid_lo)
			lc->stats->valid_lo = t;
		return;
	}
	if (t < lc->stats->valid_hi)
		lc->stats->valid_hi = t;
	if (begin && t < lc->stats->begin_hi)
		lc->stats->begin_hi = t;
}

static int on_row(void *ud, const sk_ind_row *r)
{
	lctx *lc = ud;
	sk_error e;
	sk_err rc;
	int64_t t, until = 0;
	uint32_t idx;
	unsigned flags;
	int verdict;

	if (r->revoked) {
		lc->stats->revoked++;
		skipped(lc, r, SK_INDLOAD_REVOKED, "revoked");
		return 0;
	}
	if ((r->pattern_type && strcmp(r->pattern_type, "stix")) || !r->pattern) {
		lc->stats->other_type++;
		skipped(lc, r, SK_INDLOAD_OTHER_TYPE, "not a STIX pattern");
		return 0;
	}
	/* valid while valid_from <= at < valid_until (an unreadable bound is no bound) */
	if ((ts_of(r->valid_from, &t) && (window(lc, t, true), t > lc->at)) ||
	    (ts_of(r->valid_until, &t) && (window(lc, t, false), until = t, t <= lc->at))) {
		lc->stats->expired++;
		skipped(lc, r, SK_INDLOAD_EXPIRED, "outside its validity window");
		return 0;
	}
	/* its score is below decay.threshold at `at` (decay.h): kept, but it no longer alerts */
	if (!lc->o->no_decay && r->alert_until != INT64_MAX && r->alert_until != 0) {
		window(lc, r->alert_until, false);
		if (!until || r->alert_until < until)
			until = r->alert_until;
		if (r->alert_until <= lc->at) {
			lc->stats->decayed++;
			skipped(lc, r, SK_INDLOAD_DECAYED, "decayed below the score threshold");
			return 0;
		}
	}
	verdict = wlc_get(lc->o->wlcache, r->ver);
	if (verdict == WL_LISTED) {
		lc->stats->suppressed++;
		skipped(lc, r, SK_INDLOAD_SUPPRESSED,
		        "on a warning list (found by an earlier build)");
		return 0;
	}
	flags = r->subdomains ? SK_MATCH_SUBDOMAINS : 0;
	if (verdict == WL_CLEAN)
		flags |= SK_MATCH_NO_WARNINGLISTS;
	rc = sk_matcher_add(lc->m, r->pattern, r->pattern_len, flags, &idx, &e);
	if (rc == SK_ESUPPRESSED) {
		wlc_put(lc->o->wlcache, r->ver, true);
		lc->stats->suppressed++;
		skipped(lc, r, SK_INDLOAD_SUPPRESSED, e.msg);
		return 0;
	}
	if (rc == SK_ENOMEM) {
		lc->fail = rc;
		lc->fail_err = e;
		return 1;
	}
	if (rc) {
		lc->stats->unsupported++;
		skipped(lc, r, SK_INDLOAD_UNSUPPORTED, e.msg);
		return 0;
	}
	if (verdict == WL_UNKNOWN)
		wlc_put(lc->o->wlcache, r->ver, false);
	lc->stats->added++;
	if (lc->o->on_added && lc->o->on_added(lc->o->ud, idx, r, until)) {
		lc->fail = sk_error_set(&lc->fail_err, SK_ENOMEM, "out of memory");
		return 1;
	}
	return 0;
}

sk_err sk_indload_run(sk_store *st, sk_matcher *m, const sk_indload_opts *o,
                      sk_indload_stats *stats, sk_error *err)
{
	sk_indload_stats dummy = {0};
	lctx lc = {
	    .m = m, .o = o, .at = o->at ? o->at : sk_ts_now_us(), .stats = stats ? stats : &dummy};
	unsigned flags =
	    (o->after_ver > 0 ? SK_IND_REVOKED : 0) | (o->arrival ? SK_IND_ARRIVAL : 0);
	sk_err rc;

	memset(lc.stats, 0, sizeof(*lc.stats));
	lc.stats->valid_lo = INT64_MIN;
	lc.stats->valid_hi = INT64_MAX;
	lc.stats->begin_hi = INT64_MAX;
	rc = sk_store_indicator_rows(st, o->after_ver, flags, on_row, &lc, err);
	if (!rc && lc.fail) {
		rc = lc.fail;
		if (err)
			*err = lc.fail_err;
	}
	return rc;
}

sk_err sk_indload_warninglists(sk_store *st, sk_wl_set **out, sk_error *err)
{
	sk_wl_set *wl = NULL;
	sk_err rc;

	*out = NULL;
	if ((rc = sk_warninglist_load(st, &wl, err)))
		return rc;
	if (sk_warninglist_count(wl, NULL))
		*out = wl;
	else
		sk_warninglist_free(wl); /* none imported: nothing to check */
	return SK_OK;
}
