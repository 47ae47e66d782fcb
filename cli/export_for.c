/*
 * export_for.c - `schakel export --for NAME`: an export that applies the
 * sharing policy exactly as the TAXII server does for that partner (or that
 * account, which adds its TLP:RED grants), collection by collection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schakel/account.h"
#include "schakel/policy.h"

/* A set of version row ids, so a version in several collections goes out once. */
typedef struct verset {
	int64_t *slot;
	size_t cap, n;
} verset;

static bool verset_add(verset *vs, int64_t v)
{
	size_t i;
	if ((vs->n + 1) * 2 > vs->cap) {
		verset nv = {.cap = vs->cap ? vs->cap * 2 : 1024};
		nv.slot = calloc(nv.cap, sizeof(int64_t));
		if (!nv.slot)
			return true; /* out of memory: let it through rather than lose it */
		for (i = 0; i < vs->cap; i++)
			if (vs->slot[i])
				verset_add(&nv, vs->slot[i]);
		free(vs->slot);
		*vs = nv;
	}
	for (i = (size_t)v * 0x9E3779B97F4A7C15ull % vs->cap;; i = (i + 1) % vs->cap) {
		if (vs->slot[i] == v)
			return false;
		if (!vs->slot[i]) {
			vs->slot[i] = v;
			vs->n++;
			return true;
		}
	}
}

struct for_state {
	sk_row_fn fn;
	void *ud;
	verset seen;
};

static int for_row(void *ud, const sk_row *r)
{
	struct for_state *fs = ud;
	if (!verset_add(&fs->seen, r->ver))
		return 0;
	return fs->fn(fs->ud, r);
}

struct colls {
	int64_t cid[4096];
	char uuid[4096][37];
	size_t n;
};

static int add_coll(void *ud, const sk_collection *c)
{
	struct colls *cs = ud;
	if (cs->n < 4096) {
		cs->cid[cs->n] = c->cid;
		memcpy(cs->uuid[cs->n], c->uuid, 37);
		cs->n++;
	}
	return 0;
}

int cli_export_for(sk_store *st, const char *who, sk_query *q, sk_row_fn fn, void *ud)
{
	struct for_state fs = {.fn = fn, .ud = ud};
	struct colls *cs = calloc(1, sizeof(*cs));
	sk_principal p;
	sk_error err;
	int rc = EXIT_OK;

	if (!cs) {
		cli_err("out of memory");
		return EXIT_INPUT;
	}
	if (sk_account_get(st, who, &p, NULL) && sk_partner_principal(st, who, &p, &err)) {
		cli_err("--for: no partner or account named '%s'", who);
		free(cs);
		return EXIT_INPUT;
	}
	if (sk_store_collections(st, add_coll, cs, &err)) {
		cli_err("%s", err.msg);
		free(cs);
		return EXIT_INPUT;
	}
	for (size_t i = 0; i < cs->n && rc == EXIT_OK; i++) {
		sk_collection c;
		sk_access a;
		sk_query cq = *q;
		if (q->cid && q->cid != cs->cid[i])
			continue;
		if (sk_store_collection_get(st, cs->uuid[i], &c, &err)) {
			cli_err("%s", err.msg);
			rc = EXIT_INPUT;
			break;
		}
		if (sk_policy_access(st, &p, &c, &a, &err)) {
			cli_err("%s", err.msg);
			rc = EXIT_INPUT;
		} else if (sk_policy_can_read(&a)) {
			cq.cid = c.cid;
			sk_policy_apply(&a, &cq);
			if (sk_store_query(st, &cq, for_row, &fs, &err)) {
				cli_err("%s", err.msg);
				rc = EXIT_INPUT;
			}
		}
		sk_collection_clear(&c);
	}
	free(fs.seen.slot);
	free(cs);
	return rc;
}
