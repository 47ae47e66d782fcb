/*
 * view.c - the console's view of the sharing policy (policy.h, sk_view;
 * docs/console.md "How the policy is applied"): what one principal may see
 * of the whole store, across collections, decided by sk_policy_visible_rx.
 *
 * Opening a view loads the principal's accesses once (one sk_policy_access
 * per collection).  A partner then sees a version iff some collection it
 * may read holds the version and the policy allows it there: the policy is
 * asked first (no I/O), and only where it says yes is membership probed,
 * with one prepared lookup on collection_objects(coll, ver).  The node's own
 * people see every version but TLP:RED from others (received, or produced
 * by another identity; what nobody named was imported here is the node's,
 * as for sk_origin); the common case (marked, not RED) touches no table.
 *
 * The SQL function sk_visible(ver, tlp, created_by, rx) is registered once
 * per connection with a slot that points at the view currently bound to it:
 * re-registering a function expires every prepared statement of the
 * connection (the store's statement caches), so binding a new view only
 * moves the slot's pointer.  A slot without a view answers 0 (fail closed).
 */
#include "schakel/policy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_priv.h"

enum view_kind {
	VIEW_ALL,     /* the local operator */
	VIEW_NONE,    /* role metrics */
	VIEW_OWN,     /* admin, analyst, viewer */
	VIEW_PARTNER, /* a partner's account, a partner as a whole, anonymous */
};

/* One collection as the view sees it. */
typedef struct view_coll {
	sk_access a;   /* the principal's access (partner views) */
	bool red_dflt; /* unmarked versions in it are TLP:RED (own views) */
	bool red;      /* the principal is a RED recipient of it (own views) */
} view_coll;

typedef struct view_slot {
	sqlite3 *db;
	sk_view *v; /* the view bound now, NULL = none */
	struct view_slot *next;
} view_slot;

struct sk_view {
	sk_store *st;
	enum view_kind kind;
	view_coll *coll; /* partner: the collections it may read; own: every collection */
	size_t ncoll;
	bool any_red_dflt;                   /* own: some collection defaults to TLP:RED */
	bool any_red;                        /* own: the account is a RED recipient somewhere */
	char own_id[SK_IDENTITY_ID_MAX + 1]; /* the node's identity, "" if none */
	sqlite3_stmt *in_coll;               /* SELECT 1 ... WHERE coll=?1 AND ver=?2 */
};

static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static view_slot *slots;

#define VIEW_MAX_COLLECTIONS 100000 /* far beyond any node; bounds the load */

typedef struct coll_load {
	sk_collection *c;
	size_t n, cap;
} coll_load;

/*
 * Every collection's id, default marking and public flag (not
 * sk_store_collections: it counts each collection's objects, a scan of
 * collection_objects on every request).
 */
static sk_err load_collections(sk_store *st, coll_load *l, sk_error *err)
{
	static const char q[] = "SELECT cid, default_tlp, public FROM collections ORDER BY cid";
	sqlite3_stmt *s = NULL;
	int r;

	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err))
		return sk_store_dberr(st, err, "collections");
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 8;
			sk_collection *p;
			if (cap > VIEW_MAX_COLLECTIONS || !(p = realloc(l->c, cap * sizeof(*p)))) {
				sk_store_stmt_put(st, s);
				return sk_error_set(err, SK_ENOMEM, "view: too many collections");
			}
			l->c = p;
			l->cap = cap;
		}
		memset(&l->c[l->n], 0, sizeof(l->c[0]));
		l->c[l->n].cid = sqlite3_column_int64(s, 0);
		l->c[l->n].default_tlp = (sk_tlp)sqlite3_column_int(s, 1);
		l->c[l->n].is_public = sqlite3_column_int(s, 2) != 0;
		l->n++;
	}
	sk_store_stmt_put(st, s);
	return r == SQLITE_DONE ? SK_OK : sk_store_dberr(st, err, "collections");
}

/* The collections where account aid is a named RED recipient, marked in v->coll. */
static sk_err load_red(sk_view *v, int64_t aid, sk_error *err)
{
	static const char q[] = "SELECT coll FROM red_recipients WHERE aid=?1";
	sqlite3_stmt *s = NULL;
	int r;

	if (sk_store_stmt_get(v->st, q, sizeof(q) - 1, &s, err))
		return sk_store_dberr(v->st, err, "red recipients");
	sqlite3_bind_int64(s, 1, aid);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t cid = sqlite3_column_int64(s, 0);
		for (size_t i = 0; i < v->ncoll; i++)
			if (v->coll[i].a.cid == cid) {
				v->coll[i].red = true;
				v->any_red = true;
			}
	}
	sk_store_stmt_put(v->st, s);
	return r == SQLITE_DONE ? SK_OK : sk_store_dberr(v->st, err, "red recipients");
}

sk_err sk_view_open(sk_store *st, const sk_principal *p, sk_view **out, sk_error *err)
{
	static const char probe[] = "SELECT 1 FROM collection_objects WHERE coll=?1 AND ver=?2";
	coll_load l = {0};
	sk_view *v = calloc(1, sizeof(*v));
	const char *own;
	sk_err rc = SK_OK;

	*out = NULL;
	if (!v)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	v->st = st;
	if (!p) {
		v->kind = VIEW_ALL;
		*out = v;
		return SK_OK;
	}
	if (p->role == SK_ROLE_METRICS) {
		v->kind = VIEW_NONE;
		*out = v;
		return SK_OK;
	}
	v->kind = p->role == SK_ROLE_PARTNER ? VIEW_PARTNER : VIEW_OWN;
	if ((own = sk_store_own_id(st)))
		snprintf(v->own_id, sizeof(v->own_id), "%s", own);
	if ((rc = load_collections(st, &l, err)))
		goto out;
	if (l.n && !(v->coll = calloc(l.n, sizeof(*v->coll)))) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		view_coll *vc = &v->coll[v->ncoll];
		if (v->kind == VIEW_PARTNER) {
			if ((rc = sk_policy_access(st, p, &l.c[i], &vc->a, err)))
				goto out;
			if (!sk_policy_can_read(&vc->a))
				continue; /* nothing in it is the partner's to see */
		} else {
			vc->a.cid = l.c[i].cid;
			vc->a.default_tlp = l.c[i].default_tlp;
			vc->red_dflt = l.c[i].default_tlp == SK_TLP_RED;
			v->any_red_dflt |= vc->red_dflt;
		}
		v->ncoll++;
	}
	if (v->kind == VIEW_OWN && p->aid > 0 && (rc = load_red(v, p->aid, err)))
		goto out;
	if (v->ncoll &&
	    sqlite3_prepare_v3(sk_store_sqlite(st), probe, sizeof(probe) - 1,
	                       SQLITE_PREPARE_PERSISTENT, &v->in_coll, NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "view");
		goto out;
	}
out:
	free(l.c);
	if (rc) {
		sk_view_free(v);
		return rc;
	}
	*out = v;
	return SK_OK;
}

/* Does collection cid hold version ver? */
static bool holds(sk_view *v, int64_t cid, int64_t ver)
{
	bool yes;
	sqlite3_bind_int64(v->in_coll, 1, cid);
	sqlite3_bind_int64(v->in_coll, 2, ver);
	yes = sqlite3_step(v->in_coll) == SQLITE_ROW;
	sqlite3_reset(v->in_coll);
	return yes;
}

static bool own_visible(sk_view *v, int64_t ver, int tlp, const char *created_by, const char *rx)
{
	/* made or imported here, by this node or by nobody named (sk_origin: local) */
	bool theirs = !rx && (!created_by || (v->own_id[0] && strcmp(created_by, v->own_id) == 0));

	if (theirs)
		return true;
	if (tlp != SK_TLP_NONE && tlp != SK_TLP_RED)
		return true;
	if (tlp == SK_TLP_NONE && !v->any_red_dflt)
		return true;
	/*
	 * TLP:RED from others, or unmarked where some collection defaults to
	 * RED: visible where it is not RED, or where the account is a RED
	 * recipient.  Unmarked and in no collection: nothing makes it RED.
	 */
	if (!v->in_coll)
		return tlp == SK_TLP_NONE;
	bool anywhere = false;
	for (size_t i = 0; i < v->ncoll; i++) {
		const view_coll *c = &v->coll[i];
		bool red_here = tlp == SK_TLP_RED || c->red_dflt;
		if (red_here && !c->red)
			continue;
		if (holds(v, c->a.cid, ver))
			return true;
	}
	if (tlp == SK_TLP_NONE) {
		/* in no collection at all? (rare: only then probe them all) */
		for (size_t i = 0; i < v->ncoll && !anywhere; i++)
			anywhere = holds(v, v->coll[i].a.cid, ver);
		return !anywhere;
	}
	return false;
}

bool sk_view_visible(sk_view *v, int64_t ver, int tlp, const char *created_by, const char *rx)
{
	if (!v)
		return false;
	switch (v->kind) {
	case VIEW_ALL:
		return true;
	case VIEW_NONE:
		return false;
	case VIEW_OWN:
		return own_visible(v, ver, tlp, created_by, rx);
	case VIEW_PARTNER:
		for (size_t i = 0; i < v->ncoll; i++)
			if (sk_policy_visible_rx(&v->coll[i].a, (sk_tlp)tlp, created_by, rx) &&
			    holds(v, v->coll[i].a.cid, ver))
				return true;
		return false;
	}
	return false;
}

bool sk_view_all(const sk_view *v)
{
	return v && v->kind == VIEW_ALL;
}

static void sql_visible(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	view_slot *slot = sqlite3_user_data(ctx);
	sk_view *v = slot->v;
	const char *by, *rx;

	(void)argc;
	if (!v || sqlite3_value_type(argv[0]) != SQLITE_INTEGER) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	by = (const char *)sqlite3_value_text(argv[2]);
	rx = (const char *)sqlite3_value_text(argv[3]);
	sqlite3_result_int(ctx, sk_view_visible(v, sqlite3_value_int64(argv[0]),
	                                        sqlite3_value_int(argv[1]), by, rx));
}

/* The connection is closing (or the function replaced): forget its slot. */
static void slot_destroy(void *p)
{
	view_slot *slot = p, **pp;

	pthread_mutex_lock(&slots_mu);
	for (pp = &slots; *pp; pp = &(*pp)->next)
		if (*pp == slot) {
			*pp = slot->next;
			break;
		}
	pthread_mutex_unlock(&slots_mu);
	free(slot);
}

sk_err sk_view_bind(sk_view *v, sk_error *err)
{
	sqlite3 *db = sk_store_sqlite(v->st);
	view_slot *slot;

	pthread_mutex_lock(&slots_mu);
	for (slot = slots; slot && slot->db != db; slot = slot->next)
		;
	if (slot) {
		slot->v = v;
		pthread_mutex_unlock(&slots_mu);
		return SK_OK;
	}
	if (!(slot = calloc(1, sizeof(*slot)))) {
		pthread_mutex_unlock(&slots_mu);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	slot->db = db;
	slot->v = v;
	slot->next = slots;
	slots = slot;
	pthread_mutex_unlock(&slots_mu);
	/* deterministic within one statement: a view is bound for a whole request */
	if (sqlite3_create_function_v2(db, "sk_visible", 4,
	                               SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, slot,
	                               sql_visible, NULL, NULL, slot_destroy) != SQLITE_OK)
		/* sqlite3 calls slot_destroy on failure */
		return sk_store_dberr(v->st, err, "sk_visible");
	return SK_OK;
}

void sk_view_free(sk_view *v)
{
	if (!v)
		return;
	pthread_mutex_lock(&slots_mu);
	for (view_slot *s = slots; s; s = s->next)
		if (s->v == v)
			s->v = NULL;
	pthread_mutex_unlock(&slots_mu);
	sqlite3_finalize(v->in_coll);
	free(v->coll);
	free(v);
}
