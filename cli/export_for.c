/*
 * export_for.c - `schakel export --for NAME`: an export that applies the
 * sharing policy exactly as the TAXII server does for that partner (or that
 * account, which adds its TLP:RED grants), collection by collection.
 *
 * It runs twice: the first pass lists the versions, which go into the audit
 * log (docs/audit.md) before anything is written; the second writes them,
 * and only them (what became visible in between waits for the next export).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "schakel/account.h"
#include "schakel/audit.h"
#include "schakel/policy.h"

/* A set of version row ids, so a version in several collections goes out once. */
typedef struct verset {
	int64_t *slot;
	size_t cap, n;
} verset;

static bool verset_has(const verset *vs, int64_t v)
{
	if (!vs->cap)
		return false;
	for (size_t i = (size_t)v * 0x9E3779B97F4A7C15ull % vs->cap;; i = (i + 1) % vs->cap) {
		if (vs->slot[i] == v)
			return true;
		if (!vs->slot[i])
			return false;
	}
}

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
	sk_row_fn fn; /* NULL: the first pass */
	void *ud;
	verset seen;
	verset logged; /* the second pass writes only these */
	int64_t *list; /* the first pass's versions, in order */
	size_t n, cap;
	bool oom;
};

static int for_row(void *ud, const sk_row *r)
{
	struct for_state *fs = ud;
	if (!fs->fn) {
		if (!verset_add(&fs->logged, r->ver))
			return 0;
		if (fs->n == fs->cap) {
			size_t nc = fs->cap ? fs->cap * 2 : 4096;
			int64_t *nl = realloc(fs->list, nc * sizeof(*nl));
			if (!nl) {
				fs->oom = true;
				return 1;
			}
			fs->list = nl;
			fs->cap = nc;
		}
		fs->list[fs->n++] = r->ver;
		return 0;
	}
	if (!verset_has(&fs->logged, r->ver) || !verset_add(&fs->seen, r->ver))
		return 0;
	return fs->fn(fs->ud, r);
}

/* The audit entry of the export, before anything is written. */
static int audit_export(sk_store *st, const sk_principal *p, const struct for_state *fs,
                        int64_t cid)
{
	char subj[SK_ACCOUNT_NAME_MAX + 16], *ds;
	json_t *d = json_pack("{s:s?, s:s?, s:s?}", "partner", p->partner[0] ? p->partner : NULL,
	                      "account", p->aid ? p->account : NULL, "path", "export --for");
	sk_audit_entry e = {.action = "export.for",
	                    .subject = subj,
	                    .vers = fs->list,
	                    .nvers = fs->n,
	                    .exit = true};
	sk_error err;
	int rc = EXIT_OK;

	if (p->aid && !p->partner[0])
		snprintf(subj, sizeof(subj), "account:%s", p->account);
	else
		snprintf(subj, sizeof(subj), "partner:%s", p->partner);
	if (d && cid)
		json_object_set_new(d, "collection_id", json_integer(cid));
	ds = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	e.detail = ds;
	if (!ds || sk_audit_append(st, &e, &err)) {
		cli_err("audit log: %s (nothing exported)", ds ? err.msg : "out of memory");
		rc = EXIT_INPUT;
	}
	json_decref(d);
	free(ds);
	return rc;
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

/* One pass over the collections p may read, rows to for_row. */
static int export_pass(sk_store *st, const sk_principal *p, const struct colls *cs,
                       const sk_query *q, struct for_state *fs)
{
	sk_error err;
	int rc = EXIT_OK;

	for (size_t i = 0; i < cs->n && rc == EXIT_OK; i++) {
		sk_collection c;
		sk_access a;
		sk_query cq = *q;
		if (q->cid && q->cid != cs->cid[i])
			continue;
		if (sk_store_collection_get(st, cs->uuid[i], &c, &err)) {
			cli_err("%s", err.msg);
			return EXIT_INPUT;
		}
		if (sk_policy_access(st, p, &c, &a, &err)) {
			cli_err("%s", err.msg);
			rc = EXIT_INPUT;
		} else if (sk_policy_can_read(&a)) {
			cq.cid = c.cid;
			sk_policy_apply(&a, &cq);
			if (sk_store_query(st, &cq, for_row, fs, &err)) {
				cli_err("%s", err.msg);
				rc = EXIT_INPUT;
			}
		}
		sk_collection_clear(&c);
	}
	return rc;
}

int cli_resolve_for(sk_store *st, const char *who, sk_principal *out)
{
	sk_principal a, b;
	sk_error err;
	bool acct, part;

	if (!strncmp(who, "account:", 8)) {
		if (!sk_account_get(st, who + 8, out, NULL))
			return 0;
		cli_err("--for: no account named '%s'", who + 8);
		return -1;
	}
	if (!strncmp(who, "partner:", 8)) {
		if (!sk_partner_principal(st, who + 8, out, &err))
			return 0;
		cli_err("--for: no partner named '%s'", who + 8);
		return -1;
	}
	acct = !sk_account_get(st, who, &a, NULL);
	part = !sk_partner_principal(st, who, &b, &err);
	if (acct && part) {
		/* the two views differ (an account adds its TLP:RED grants): never guess */
		cli_err("--for: '%s' names both an account and a partner; "
		        "say account:%s or partner:%s",
		        who, who, who);
		return -1;
	}
	if (!acct && !part) {
		cli_err("--for: no partner or account named '%s'", who);
		return -1;
	}
	*out = acct ? a : b;
	return 0;
}

int cli_export_for(sk_store *st, const char *who, sk_query *q, sk_row_fn fn, void *ud)
{
	struct for_state fs = {0};
	struct colls *cs = calloc(1, sizeof(*cs));
	sk_principal p;
	sk_error err;
	int rc = EXIT_OK;

	if (!cs) {
		cli_err("out of memory");
		return EXIT_INPUT;
	}
	if (cli_resolve_for(st, who, &p)) {
		free(cs);
		return EXIT_INPUT;
	}
	if (sk_store_collections(st, add_coll, cs, &err)) {
		cli_err("%s", err.msg);
		free(cs);
		return EXIT_INPUT;
	}
	rc = export_pass(st, &p, cs, q, &fs); /* fs.fn NULL: the first pass only lists */
	if (rc == EXIT_OK && fs.oom) {
		cli_err("out of memory");
		rc = EXIT_INPUT;
	}
	if (rc == EXIT_OK)
		rc = audit_export(st, &p, &fs, q->cid);
	if (rc == EXIT_OK) {
		fs.fn = fn;
		fs.ud = ud;
		rc = export_pass(st, &p, cs, q, &fs);
	}
	free(fs.seen.slot);
	free(fs.logged.slot);
	free(fs.list);
	free(cs);
	return rc;
}
