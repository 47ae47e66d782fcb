/*
 * policy.h - the sharing policy: who may see which object version (TLP 2.0).
 *
 * One decision, used at every exit of the node (TAXII objects, object,
 * manifest, versions, status details, date-added headers, pagination and
 * `schakel export --for`).  It exists twice in the same shape: as a C
 * function (sk_policy_visible) and as bit masks that store_query.c turns into
 * an SQL predicate with bound parameters (sk_policy_apply), so LIMIT and
 * keyset pagination count only permitted rows.  The masks are derived from
 * the C function, so the two cannot disagree.  The contract is
 * docs/sharing-policy.md.
 */
#ifndef SCHAKEL_POLICY_H
#define SCHAKEL_POLICY_H

#include <stdbool.h>

#include "schakel/account.h"
#include "schakel/store.h"
#include "schakel/tlp.h"

/* What one principal may do in one collection. */
typedef struct sk_access {
	int64_t cid;
	bool is_public;          /* collection readable anonymously (CLEAR only) */
	sk_tlp default_tlp;      /* marking of unmarked versions (never NONE) */
	bool authenticated;      /* an account, not anonymous */
	bool can_read, can_write;
	bool amber, amber_strict; /* the partner is a named AMBER / AMBER+STRICT recipient */
	bool red;                 /* the account is a named RED recipient */
	char producer[SK_IDENTITY_ID_MAX + 1]; /* the partner's identity, "" if anonymous */
} sk_access;

/*
 * Load p's access to collection c (grants, RED recipients).  p may be NULL or
 * have aid 0 for anonymous.
 */
sk_err sk_policy_access(sk_store *st, const sk_principal *p, const sk_collection *c,
			sk_access *out, sk_error *err);

/* The level that governs a version: its own, else the collection default. */
sk_tlp sk_policy_effective(const sk_access *a, sk_tlp own);

/* The decision: may a see a version marked own (SK_TLP_NONE if unmarked) produced by created_by? */
bool sk_policy_visible(const sk_access *a, sk_tlp own, const char *created_by);

/*
 * The same for a version received from elsewhere: rx is where it first came
 * from (objects.rx: a peer's or partner's identity), NULL if made or
 * imported here.  Received AMBER, AMBER+STRICT and RED versions are visible
 * only to a reader that is their producer or their source (onward sharing).
 */
bool sk_policy_visible_rx(const sk_access *a, sk_tlp own, const char *created_by, const char *rx);

/* May a see the collection at all (list it, GET it)? */
bool sk_policy_can_see_collection(const sk_access *a);

/* May a read objects of the collection (at least its CLEAR ones)? */
bool sk_policy_can_read(const sk_access *a);

/*
 * The level unmarked objects POSTed by the partner with this identity arrive
 * under (partners.unmarked_tlp; TLP:AMBER unless configured, and for an
 * identity that is no partner's).
 */
sk_tlp sk_policy_unmarked(sk_store *st, const char *identity);

/* Configure it: `schakel partner set NAME --unmarked-tlp LEVEL`.  SK_ENOTFOUND if no such partner. */
sk_err sk_policy_set_unmarked(sk_store *st, const char *partner, sk_tlp level, sk_error *err);

/* Restrict q to what a may see (sets q->vis and its masks; a stays borrowed). */
void sk_policy_apply(const sk_access *a, sk_query *q);


/*
 * The console's view (docs/console.md, "How the policy is applied"): what one
 * principal may see of the whole store, across collections.
 *
 * - A partner's account sees a version iff some collection holding it grants
 *   the partner read access and sk_policy_visible_rx() allows it there: exactly
 *   what TAXII would give it, through the same decision.
 * - The node's own people (admin, analyst, viewer) see every version, except
 *   TLP:RED received from others (rx set, or produced by another identity),
 *   which only an account named as a RED recipient of a collection holding it
 *   sees.  RED produced here is theirs.  Role metrics sees nothing.
 * - NULL principal: the local operator (CLI): everything.
 *
 * sk_view_bind() registers the SQL function sk_visible(ver, tlp, created_by,
 * rx) on st's connection, bound to this view (until the next bind or
 * sk_view_free), so that lists, searches, counts and charts filter in SQL
 * with the same decision: `WHERE sk_visible(o.ver, o.tlp, o.created_by, o.rx)`.
 */
typedef struct sk_view sk_view;
sk_err sk_view_open(sk_store *st, const sk_principal *p, sk_view **out, sk_error *err);
/* May the view's principal see the version ver (its stored tlp, producer and source)? */
bool sk_view_visible(sk_view *v, int64_t ver, int tlp, const char *created_by, const char *rx);
/* True if the view sees everything (local operator): callers may skip the filter. */
bool sk_view_all(const sk_view *v);
sk_err sk_view_bind(sk_view *v, sk_error *err);
void sk_view_free(sk_view *v);

#endif
