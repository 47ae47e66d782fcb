/*
 * match_base.c - the matcher cache as a base plus the state it was built at
 * (match_base.h): its key, and the extra bytes kept beside the matcher.
 *
 * Extra bytes (sk_mcache_save's "extra"): a head (magic, indicator count,
 * load counts, watermark, message length, whether untils follow), the
 * version row of each compiled indicator (8 bytes each, read in place: the
 * section is 64-byte aligned and the head a multiple of 8), when any
 * indicator has one the time each stops passing (8 bytes each, 0 = never),
 * and the skip messages.
 */
#include "schakel/match_base.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/warninglist.h"

#define MSGS_MAX    ((size_t)64 << 20) /* skip messages kept at most; past that, no cache */
#define EXTRA_MAGIC (0x534b4233u ^ (uint32_t)sizeof(sk_indload_stats))

typedef struct extra_head {
	uint32_t magic, ninds;
	sk_indload_stats ls;
	int64_t watermark;
	uint64_t msgs_len;
	uint32_t has_untils, pad;
} extra_head;

_Static_assert(sizeof(extra_head) % 8 == 0, "the version rows after it stay aligned");

/* --- the key ---------------------------------------------------------------- */

/*
 * What shapes the base besides this program (sk_mcache_env) and the
 * watermark, as space-separated name=value words.  One word per concern, so
 * that adding one (a decay threshold, say) is one more line here.
 */
static sk_err key_words(sk_store *st, bool subdomains, bool no_wl, char *buf, size_t n,
                        int64_t *watermark, uint64_t *wl_stamp, sk_error *err)
{
	char stamp[128];
	long long ind = 0, rep = 0, dec = 0;
	uint64_t wl = 0;
	size_t k = 0;
	sk_err rc;

	/* the indicator state: the watermark is kept apart, in-place replacements stay in */
	if ((rc = sk_store_indicator_stamp(st, stamp, sizeof(stamp), err)))
		return rc;
	if (sscanf(stamp, "ind=%lld rep=%lld dec=%lld", &ind, &rep, &dec) != 3)
		return sk_error_set(err, SK_EINVAL, "matcher cache: unexpected stamp '%s'", stamp);
	*watermark = ind;
	k += (size_t)snprintf(buf + k, n - k, " rep=%lld", rep);
	/* the decay settings and any score change that may flip an indicator (decay.h) */
	k += (size_t)snprintf(buf + k, n - k, " dec=%lld", dec);
	/* the warning lists */
	if (!no_wl && (rc = sk_warninglist_stamp(st, &wl, err)))
		return rc;
	*wl_stamp = wl;
	k += (size_t)snprintf(buf + k, n - k, " wl=%llx", (unsigned long long)wl);
	/* the options */
	if (k < n)
		snprintf(buf + k, n - k, "%s%s", subdomains ? " sub" : "", no_wl ? " nowl" : "");
	return SK_OK;
}

sk_err sk_mbase_key_init(sk_mbase_key *k, sk_store *st, const char *db, bool subdomains,
                         bool no_warninglists, sk_error *err)
{
	size_t e;
	sk_err rc;

	memset(k, 0, sizeof(*k));
	if (!db || !strcmp(db, ":memory:"))
		return sk_error_set(err, SK_ENOTFOUND, "no matcher cache for an in-memory store");
	e = sk_mcache_env(k->key, sizeof(k->key));
	if ((rc = key_words(st, subdomains, no_warninglists, k->key + e, sizeof(k->key) - e,
	                    &k->watermark, &k->wl_stamp, err)))
		return rc;
	if (!(k->path = malloc(strlen(db) + 32)))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	sprintf(k->path, "%s%s%s.matcher", db, subdomains ? "-sub" : "",
	        no_warninglists ? "-nowl" : "");
	return SK_OK;
}

void sk_mbase_key_clear(sk_mbase_key *k)
{
	if (!k)
		return;
	free(k->path);
	k->path = NULL;
}

/* --- skip messages ---------------------------------------------------------- */

char sk_mbase_note(sk_mbase_msgs *ms, sk_indload_skip why, const char *id, const char *msg,
                   char *line, size_t n)
{
	char tag;
	size_t len;

	if (why == SK_INDLOAD_UNSUPPORTED) {
		tag = 'U';
		snprintf(line, n, "schakel: %s: cannot match: %s", id, msg);
	} else if (why == SK_INDLOAD_SUPPRESSED) {
		tag = 'S';
		snprintf(line, n, "schakel: %s: %s; suppressed (use --no-warninglists to keep it)",
		         id, msg);
	} else {
		return 0;
	}
	if (!ms || ms->full)
		return tag;
	len = strlen(line);
	if (ms->len + len + 2 > ms->cap) {
		size_t nc = ms->cap ? ms->cap * 2 : 4096;
		char *nb;
		while (nc < ms->len + len + 2)
			nc *= 2;
		if (nc > MSGS_MAX || !(nb = realloc(ms->buf, nc))) {
			ms->full = true;
			return tag;
		}
		ms->buf = nb;
		ms->cap = nc;
	}
	ms->buf[ms->len++] = tag;
	memcpy(ms->buf + ms->len, line, len);
	ms->len += len;
	ms->buf[ms->len++] = '\n';
	return tag;
}

void sk_mbase_msgs_clear(sk_mbase_msgs *ms)
{
	if (!ms)
		return;
	free(ms->buf);
	memset(ms, 0, sizeof(*ms));
}

/* --- load and save ---------------------------------------------------------- */

sk_err sk_mbase_take(sk_matcher *m, const void *x, size_t xl, int64_t max_watermark, sk_mbase *out,
                     sk_error *err)
{
	sk_matcher_stats ms;
	extra_head h;
	uint64_t nrows;

	memset(out, 0, sizeof(*out));
	sk_matcher_stats_get(m, &ms);
	if (!x || xl < sizeof(h))
		goto bad;
	memcpy(&h, x, sizeof(h));
	nrows = h.has_untils ? 2 * (uint64_t)h.ninds : h.ninds;
	if (h.magic != EXTRA_MAGIC || h.ninds != ms.indicators || h.has_untils > 1 ||
	    (xl - sizeof(h)) / 8 < nrows || h.msgs_len != xl - sizeof(h) - nrows * 8 ||
	    h.watermark < 0)
		goto bad;
	out->vers = (const int64_t *)(const void *)((const char *)x + sizeof(h));
	for (uint32_t i = 0; i < h.ninds; i++)
		if (out->vers[i] <= 0 || out->vers[i] > h.watermark ||
		    (i && out->vers[i] <= out->vers[i - 1]))
			goto bad;
	if (h.has_untils) {
		out->untils = out->vers + h.ninds;
		for (uint32_t i = 0; i < h.ninds; i++)
			if (out->untils[i] < 0)
				goto bad;
	}
	if (h.watermark > max_watermark) {
		sk_matcher_free(m);
		memset(out, 0, sizeof(*out));
		return sk_error_set(err, SK_ECONFLICT, "built for a later indicator state");
	}
	out->m = m;
	out->ninds = h.ninds;
	out->ls = h.ls;
	out->watermark = h.watermark;
	out->msgs = (const char *)x + sizeof(h) + (size_t)nrows * 8;
	out->msgs_len = (size_t)h.msgs_len;
	return SK_OK;
bad:
	sk_matcher_free(m);
	memset(out, 0, sizeof(*out));
	return sk_error_set(err, SK_EINVAL,
	                    "matcher cache damaged: the indicator table does not fit");
}

sk_err sk_mbase_load(const sk_mbase_key *k, int64_t at, const sk_match_opts *mo, sk_mbase *out,
                     sk_error *err)
{
	sk_matcher *m = NULL;
	const void *x = NULL;
	size_t xl = 0;
	sk_err rc;

	memset(out, 0, sizeof(*out));
	if ((rc = sk_mcache_load(k->path, k->key, at, mo, &m, &x, &xl, err)))
		return rc;
	return sk_mbase_take(m, x, xl, k->watermark, out, err);
}

uint32_t sk_mbase_expired(const int64_t *untils, uint32_t n, int64_t at)
{
	uint32_t c = 0;
	for (uint32_t i = 0; untils && i < n; i++)
		c += untils[i] && untils[i] <= at;
	return c;
}

sk_err sk_mbase_save(const sk_mbase_key *k, const sk_matcher *m, const int64_t *vers,
                     const int64_t *untils, uint32_t ninds, const sk_indload_stats *ls,
                     int64_t watermark, const sk_mbase_msgs *ms, sk_error *err)
{
	size_t mlen = ms ? ms->len : 0;
	extra_head h = {.magic = EXTRA_MAGIC,
	                .ninds = ninds,
	                .ls = *ls,
	                .watermark = watermark,
	                .msgs_len = mlen};
	size_t rows, len;
	char *x;
	sk_err rc;

	if (ms && ms->full)
		return sk_error_set(err, SK_ELIMIT, "too many skip messages to keep");
	/* a version row above the watermark was stored during the build: keep the base honest */
	for (uint32_t i = 0; i < ninds; i++)
		if (vers[i] > h.watermark)
			h.watermark = vers[i];
	for (uint32_t i = 0; untils && i < ninds && !h.has_untils; i++)
		h.has_untils = untils[i] != 0;
	rows = h.has_untils ? 2 * (size_t)ninds : ninds;
	len = sizeof(h) + rows * 8 + mlen;
	if (!(x = malloc(len)))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	memcpy(x, &h, sizeof(h));
	if (ninds)
		memcpy(x + sizeof(h), vers, (size_t)ninds * 8);
	if (h.has_untils)
		memcpy(x + sizeof(h) + (size_t)ninds * 8, untils, (size_t)ninds * 8);
	if (mlen)
		memcpy(x + sizeof(h) + rows * 8, ms->buf, mlen);
	/* with every indicator's until kept, a later time needs no rebuild until a begin */
	rc = sk_mcache_save(m, k->key, ls->valid_lo, untils ? ls->begin_hi : ls->valid_hi, x, len,
	                    k->path, err);
	free(x);
	return rc;
}

bool sk_mbase_delta_too_big(uint32_t base_inds, uint64_t delta_rows)
{
	return delta_rows > SK_MBASE_DELTA_MAX || delta_rows > (uint64_t)base_inds / 8 + 1000;
}
