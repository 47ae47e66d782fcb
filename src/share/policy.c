/*
 * policy.c - the TLP 2.0 sharing decision (see docs/sharing-policy.md).
 */
#include "schakel/policy.h"

#include <stdio.h>
#include <string.h>

#include "schakel/audit.h"
#include "store/store_priv.h"

sk_err sk_policy_access(sk_store *st, const sk_principal *p, const sk_collection *c,
			sk_access *out, sk_error *err)
{
	sqlite3_stmt *s = NULL;

	memset(out, 0, sizeof(*out));
	out->cid = c->cid;
	out->is_public = c->is_public;
	out->default_tlp = c->default_tlp >= SK_TLP_CLEAR && c->default_tlp <= SK_TLP_RED
			       ? c->default_tlp
			       : SK_TLP_AMBER;
	if (!p || p->pid <= 0)
		return SK_OK;
	out->authenticated = true;
	snprintf(out->producer, sizeof(out->producer), "%s", p->identity);
	/* on every request: use the connection's statement cache */
	static const char q[] = "SELECT g.can_read, g.can_write, g.amber, g.amber_strict,"
				" EXISTS(SELECT 1 FROM red_recipients r WHERE r.coll=?1 AND r.aid=?3)"
				" FROM (SELECT 1) LEFT JOIN grants g ON g.coll=?1 AND g.pid=?2";
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err))
		return sk_store_dberr(st, err, "grants");
	sqlite3_bind_int64(s, 1, c->cid);
	sqlite3_bind_int64(s, 2, p->pid);
	sqlite3_bind_int64(s, 3, p->aid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		out->can_read = sqlite3_column_int(s, 0) != 0;
		out->can_write = sqlite3_column_int(s, 1) != 0;
		out->amber = sqlite3_column_int(s, 2) != 0;
		out->amber_strict = sqlite3_column_int(s, 3) != 0;
		out->red = sqlite3_column_int(s, 4) != 0;
	} else {
		sk_err rc = sk_store_dberr(st, err, "grants");
		sk_store_stmt_put(st, s);
		return rc;
	}
	sk_store_stmt_put(st, s);
	return SK_OK;
}

sk_tlp sk_policy_effective(const sk_access *a, sk_tlp own)
{
	if (own >= SK_TLP_CLEAR && own <= SK_TLP_RED)
		return own;
	return a->default_tlp >= SK_TLP_CLEAR && a->default_tlp <= SK_TLP_RED ? a->default_tlp
									      : SK_TLP_AMBER;
}

bool sk_policy_can_read(const sk_access *a)
{
	return a->is_public || (a->authenticated && a->can_read);
}

bool sk_policy_can_see_collection(const sk_access *a)
{
	return a->is_public || (a->authenticated && (a->can_read || a->can_write));
}

/* The rule, with "is the reader the producer" already decided. */
static bool decide(const sk_access *a, sk_tlp level, bool producer)
{
	bool reader = a->authenticated && a->can_read;

	switch (level) {
	case SK_TLP_CLEAR:
		return reader || a->is_public;
	case SK_TLP_GREEN:
		return reader;
	case SK_TLP_AMBER:
		return reader && (a->amber || producer);
	case SK_TLP_AMBER_STRICT:
		return reader && (a->amber_strict || producer);
	case SK_TLP_RED:
		return reader && a->red;
	default:
		return false;
	}
}

bool sk_policy_visible_rx(const sk_access *a, sk_tlp own, const char *created_by, const char *rx)
{
	sk_tlp level = sk_policy_effective(a, own);
	if (rx && level >= SK_TLP_AMBER) {
		bool reader = a->authenticated && a->can_read && a->producer[0] &&
			      strcmp(rx, SK_RX_UNKNOWN) != 0;
		return reader && ((created_by && strcmp(created_by, a->producer) == 0) ||
				  strcmp(rx, a->producer) == 0);
	}
	return sk_policy_visible(a, own, created_by);
}

bool sk_policy_visible(const sk_access *a, sk_tlp own, const char *created_by)
{
	bool producer = a->authenticated && a->producer[0] && created_by &&
			strcmp(created_by, a->producer) == 0;
	return decide(a, sk_policy_effective(a, own), producer);
}

void sk_policy_apply(const sk_access *a, sk_query *q)
{
	unsigned mask = 0, pmask = 0;

	for (int l = SK_TLP_CLEAR; l <= SK_TLP_RED; l++) {
		if (decide(a, (sk_tlp)l, false))
			mask |= 1u << l;
		else if (a->authenticated && a->producer[0] && decide(a, (sk_tlp)l, true))
			pmask |= 1u << l;
	}
	q->vis = true;
	q->vis_mask = mask;
	q->vis_producer_mask = pmask;
	q->vis_producer = a->producer[0] ? a->producer : NULL;
	q->vis_default_tlp = (int)sk_policy_effective(a, SK_TLP_NONE);
	q->vis_rx_reader = a->authenticated && a->can_read;
}

sk_tlp sk_policy_unmarked(sk_store *st, const char *identity)
{
	static const char q[] = "SELECT unmarked_tlp FROM partners WHERE identity=?1";
	sqlite3_stmt *s = NULL;
	sk_tlp level = SK_TLP_AMBER;

	if (!identity || sk_store_stmt_get(st, q, sizeof(q) - 1, &s, NULL))
		return level;
	sqlite3_bind_text(s, 1, identity, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		int v = sqlite3_column_int(s, 0);
		if (v >= SK_TLP_CLEAR && v <= SK_TLP_RED)
			level = (sk_tlp)v;
	}
	sk_store_stmt_put(st, s);
	return level;
}

sk_err sk_policy_set_unmarked(sk_store *st, const char *partner, sk_tlp level, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	char subj[300], detail[300];
	sk_audit_entry e = {.action = "partner.set", .subject = subj, .detail = detail};
	bool own = false;

	if (level < SK_TLP_CLEAR || level > SK_TLP_RED)
		return sk_error_set(err, SK_EINVAL, "a TLP level: clear, green, amber, amber+strict, red");
	if (sqlite3_prepare_v2(sk_store_sqlite(st), "UPDATE partners SET unmarked_tlp=?2 WHERE name=?1",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "partners");
	if ((rc = sk_audit_tx_begin(st, &own, err))) {
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_bind_text(s, 1, partner, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)level);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "partners");
	else if (sqlite3_changes(sk_store_sqlite(st)) == 0)
		rc = sk_error_set(err, SK_ENOTFOUND, "no partner '%s'", partner);
	sqlite3_finalize(s);
	snprintf(subj, sizeof(subj), "partner:%s", partner);
	snprintf(detail, sizeof(detail), "{\"unmarked_tlp\":%d}", (int)level);
	return sk_audit_tx_end(st, own, rc, &e, err);
}
