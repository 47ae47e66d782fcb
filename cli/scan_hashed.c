/*
 * scan_hashed.c - the hashed indicators (personal data shared as keyed
 * hashes, docs/private-matching.md) for `schakel scan`: the keys this node
 * holds, and the indicators numbered after the matcher's, so that their
 * hits print and become sightings like any other.  Not part of the matcher
 * cache: the keys can change without the indicators changing.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scan.h"
#include "schakel/hashed.h"
#include "schakel/hashkey.h"

typedef struct hload {
	int64_t *vers;
	uint32_t n, cap;
	bool quiet;
	uint32_t skipped;
} hload;

static int on_added(void *ud, uint32_t idx, int64_t ver, const char *id)
{
	hload *h = ud;
	(void)idx;
	(void)id;
	if (h->n == h->cap) {
		uint32_t nc = h->cap ? h->cap * 2 : 64;
		int64_t *nv = realloc(h->vers, nc * sizeof(*nv));
		if (!nv)
			return 1;
		h->vers = nv;
		h->cap = nc;
	}
	h->vers[h->n++] = ver;
	return 0;
}

static void on_skipped(void *ud, const char *id, const char *msg)
{
	hload *h = ud;
	h->skipped++;
	fprintf(stderr, "schakel: %s: cannot match: %s\n", id, msg);
}

static int has_def(void *ud, const sk_row *r)
{
	(void)r;
	*(bool *)ud = true;
	return 1;
}

int scan_hashed_load(scan_state *ss, const char *db, int64_t at, bool quiet, uint32_t *seen)
{
	sk_hashkeys ks = {0};
	hload hl = {.quiet = quiet};
	sk_error err;
	char *path = sk_hashkey_path(db);
	bool def = false;
	uint32_t added = 0;
	int rc = EXIT_INPUT;

	*seen = 0;
	if (!path || sk_hashkeys_load(path, &ks, &err)) {
		cli_err("%s", path ? err.msg : "out of memory");
		goto out;
	}
	/* no key and no hashed indicator's extension-definition: nothing to do, at no cost */
	if (!ks.n && (sk_store_get(ss->st, SK_HASHED_EXT_ID, false, has_def, &def, &err) || !def)) {
		rc = EXIT_OK;
		goto out;
	}
	if (sk_hmatch_new(&ss->hm, &err) || sk_hmatch_ctx_new(&ss->hc, &err)) {
		cli_err("%s", err.msg);
		goto out;
	}
	for (size_t i = 0; i < ks.n; i++)
		if (sk_hmatch_add_key(ss->hm, ks.k[i].id, ks.k[i].key, &err)) {
			cli_err("%s", err.msg);
			goto out;
		}
	sk_hmatch_load_opts o = {.at = at,
	                         .first_ind = ss->ninds,
	                         .on_added = on_added,
	                         .on_skipped = on_skipped,
	                         .ud = &hl};
	if (sk_hmatch_load(ss->st, ss->hm, &o, &added, &err)) {
		cli_err("%s", err.msg);
		goto out;
	}
	if (added) {
		/* with a cached base and a delta, the rows after the base are in dvers */
		uint32_t from = ss->dvers ? ss->nbase : 0, n = ss->ninds - from;
		const int64_t *src = ss->dvers ? ss->dvers : ss->vers;
		int64_t *nv = malloc(((size_t)n + added) * sizeof(*nv));
		if (!nv) {
			cli_err("out of memory");
			goto out;
		}
		if (n)
			memcpy(nv, src, n * sizeof(*nv));
		memcpy(nv + n, hl.vers, added * sizeof(*nv));
		free(ss->vers_own);
		ss->vers_own = nv;
		if (ss->dvers)
			ss->dvers = nv;
		else
			ss->vers = nv;
		ss->ninds += added;
	}
	*seen = added + hl.skipped;
	if (!quiet)
		fprintf(stderr,
		        "schakel: %u hashed indicators under %zu held hash keys; %u cannot be "
		        "matched here\n",
		        added, ks.n, hl.skipped);
	rc = EXIT_OK;
out:
	free(hl.vers);
	free(path);
	sk_hashkeys_free(&ks);
	return rc;
}
