/*
 * scan_cache.c - `schakel scan` and the matcher cache (schakel/match_cache.h):
 * the key of this store and these options, loading the cached matcher with
 * what scan keeps beside it (each compiled indicator's version row, the load
 * counts and the skip messages, replayed as a fresh build prints them), and
 * writing it after a build.  The file sits beside the store:
 * STORE.matcher, STORE-sub.matcher (--subdomains), STORE-nowl.matcher
 * (--no-warninglists), STORE-sub-nowl.matcher.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scan.h"
#include "schakel/match_cache.h"
#include "schakel/warninglist.h"

#define MSGS_MAX    ((size_t)64 << 20) /* skip messages kept at most; past that, no cache */
#define EXTRA_MAGIC (0x534b5343u ^ (uint32_t)sizeof(sk_indload_stats))

typedef struct extra_head {
	uint32_t magic, ninds;
	sk_indload_stats ls;
	uint64_t msgs_len;
} extra_head;

_Static_assert(sizeof(extra_head) % 8 == 0, "the version rows after it stay aligned");

int scan_cache_init(scan_cache *c, sk_store *st, const char *db, bool subdomains, bool no_wl)
{
	char ind[128];
	uint64_t wl = 0;
	size_t k;
	sk_error err;

	memset(c, 0, sizeof(*c));
	if (!db || !strcmp(db, ":memory:"))
		return 0;
	if (sk_store_indicator_stamp(st, ind, sizeof(ind), &err) ||
	    (!no_wl && sk_warninglist_stamp(st, &wl, &err))) {
		cli_err("matcher cache: %s", err.msg);
		return 0;
	}
	k = sk_mcache_env(c->key, sizeof(c->key));
	snprintf(c->key + k, sizeof(c->key) - k, " %s wl=%llx%s%s", ind, (unsigned long long)wl,
	         subdomains ? " sub" : "", no_wl ? " nowl" : "");
	if (!(c->path = malloc(strlen(db) + 32)))
		return -1;
	sprintf(c->path, "%s%s%s.matcher", db, subdomains ? "-sub" : "", no_wl ? "-nowl" : "");
	c->enabled = true;
	return 0;
}

void scan_cache_note(scan_cache *c, char tag, const char *line)
{
	size_t n = strlen(line);
	if (!c->enabled || c->msgs_full)
		return;
	if (c->mlen + n + 2 > c->mcap) {
		size_t nc = c->mcap ? c->mcap * 2 : 4096;
		char *nm;
		while (nc < c->mlen + n + 2)
			nc *= 2;
		if (nc > MSGS_MAX || !(nm = realloc(c->msgs, nc))) {
			c->msgs_full = true;
			return;
		}
		c->msgs = nm;
		c->mcap = nc;
	}
	c->msgs[c->mlen++] = tag;
	memcpy(c->msgs + c->mlen, line, n);
	c->mlen += n;
	c->msgs[c->mlen++] = '\n';
}

/* The stored extra bytes into ss and *ls (printing the skip messages); false if they do not fit m.
 */
static bool take_extra(scan_state *ss, const sk_matcher *m, const void *x, size_t len, bool quiet,
                       sk_indload_stats *ls)
{
	extra_head h;
	sk_matcher_stats ms;
	const char *msgs;

	sk_matcher_stats_get(m, &ms);
	if (len < sizeof(h))
		return false;
	memcpy(&h, x, sizeof(h));
	if (h.magic != EXTRA_MAGIC || h.ninds != ms.indicators || (len - sizeof(h)) / 8 < h.ninds ||
	    h.msgs_len != len - sizeof(h) - (uint64_t)h.ninds * 8)
		return false;
	/* the version rows, in place: the section is 64-byte aligned and the head 8-byte sized */
	ss->ninds = h.ninds;
	ss->vers = (const int64_t *)(const void *)((const char *)x + sizeof(h));
	for (uint32_t i = 0; i < h.ninds; i++)
		if (ss->vers[i] <= 0)
			return false;
	*ls = h.ls;
	msgs = (const char *)x + sizeof(h) + (size_t)h.ninds * 8;
	for (size_t i = 0; i < h.msgs_len;) {
		const char *nl = memchr(msgs + i, '\n', h.msgs_len - i);
		size_t e = nl ? (size_t)(nl - msgs) : h.msgs_len;
		if (e > i && (msgs[i] == 'U' || !quiet))
			fprintf(stderr, "%.*s\n", (int)(e - i - 1), msgs + i + 1);
		i = e + 1;
	}
	return true;
}

sk_matcher *scan_cache_load(scan_cache *c, scan_state *ss, int64_t at, const sk_match_opts *mo,
                            bool quiet, sk_indload_stats *ls)
{
	sk_matcher *m = NULL;
	const void *x;
	size_t xl;
	sk_error err;
	sk_err rc;

	if (!c->enabled)
		return NULL;
	rc = sk_mcache_load(c->path, c->key, at, mo, &m, &x, &xl, &err);
	if (rc == SK_ENOTFOUND)
		return NULL;
	if (rc == SK_ECONFLICT) {
		snprintf(c->stale, sizeof(c->stale), "%.160s", err.msg);
		return NULL;
	}
	if (!rc && !take_extra(ss, m, x, xl, quiet, ls)) {
		rc = sk_error_set(&err, SK_EINVAL,
		                  "matcher cache damaged: scan's part does not fit");
		ss->vers = NULL;
		ss->ninds = 0;
	}
	if (rc) {
		cli_err("%s: %s; rebuilding it", c->path, err.msg);
		sk_matcher_free(m);
		return NULL;
	}
	c->loaded = true;
	return m;
}

void scan_cache_save(scan_cache *c, const scan_state *ss, const sk_matcher *m,
                     const sk_indload_stats *ls, bool quiet)
{
	extra_head h = {.magic = EXTRA_MAGIC, .ninds = ss->ninds, .ls = *ls, .msgs_len = c->mlen};
	size_t len = sizeof(h) + (size_t)ss->ninds * 8 + c->mlen;
	char *x;
	sk_error err;

	if (!c->enabled || c->loaded)
		return;
	if (c->msgs_full || !(x = malloc(len))) {
		if (!quiet)
			cli_err("matcher cache not written: too many skip messages to keep");
		return;
	}
	memcpy(x, &h, sizeof(h));
	if (ss->ninds)
		memcpy(x + sizeof(h), ss->vers, (size_t)ss->ninds * 8);
	if (c->mlen)
		memcpy(x + sizeof(h) + (size_t)ss->ninds * 8, c->msgs, c->mlen);
	if (sk_mcache_save(m, c->key, ls->valid_lo, ls->valid_hi, x, len, c->path, &err) && !quiet)
		cli_err("matcher cache not written: %s", err.msg);
	free(x);
}

void scan_cache_clear(scan_cache *c)
{
	free(c->path);
	free(c->msgs);
	memset(c, 0, sizeof(*c));
}
