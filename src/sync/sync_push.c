/*
 * sync_push.c - pushing to a peer: what may go to it under the onward-sharing
 * rules (docs/sharing-policy.md, docs/sync.md), the outbox it is queued in,
 * and draining the outbox in batches with backoff; split from sync.c, whose
 * helpers it shares through sync_int.h.
 */
#include "schakel/sync.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schakel/audit.h"
#include "schakel/import.h"
#include "schakel/reader.h"
#include "schakel/taxii_client.h"
#include "schakel/timestamp.h"
#include "schakel/tlp.h"
#include "store/store_priv.h"
#include "sync/sync_int.h"

#define DEFAULT_PUSH_BATCH 500
#define PUSH_MAX_BYTES ((size_t)8 << 20)
#define ENQUEUE_CHUNK 2000
#define STATUS_POLLS 60 /* about 30 s of polling before a batch counts as failed */
/* a node's cooperation summary (coop.h, a layer above: the name is repeated here) */
#define COOP_SUMMARY "x-schakel-coop-summary"

/* --- onward sharing: what may go to a peer ------------------------------------ */

typedef struct share_ctx {
	const sk_peer *p;
	const char *node_id, *anon_id;
	char rx[SK_PEER_NAME_MAX + 160];
	sk_tlp default_tlp;
} share_ctx;

static bool same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/*
 * Object id's first version: the source that first delivered it and its
 * producer (the write rule lets no one else version it, so a later version
 * cannot redirect what travels towards its origin).  Both NULL when this node
 * does not hold id.
 */
static void indicator_origin(sk_store *st, const char *id, char **rx, char **by)
{
	static const char q[] = "SELECT rx, created_by FROM objects WHERE id=?1 ORDER BY ver LIMIT 1";
	sqlite3_stmt *s = NULL;
	*rx = *by = NULL;
	if (!id || sk_store_stmt_get(st, q, sizeof(q) - 1, &s, NULL))
		return;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) != SQLITE_NULL)
			*rx = strdup((const char *)sqlite3_column_text(s, 0));
		if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			*by = strdup((const char *)sqlite3_column_text(s, 1));
	}
	sk_store_stmt_put(st, s);
}

/* Objects that say something about another object and travel towards its origin. */
static bool feedback(const char *type)
{
	return !strcmp(type, "sighting") || !strcmp(type, "opinion") || !strcmp(type, "note");
}

/*
 * What feedback version ver is about (malloc'd, NULL if unknown): a
 * sighting's sighting_of_ref; for an opinion or note, the first of its
 * object_refs that this node holds (one route per object; the others'
 * origins are not followed).
 */
static char *feedback_target(sk_store *st, int64_t ver, const char *type, const char *dst)
{
	static const char q[] =
	    "SELECT j.value FROM objects o, json_each(o.json, '$.object_refs') j"
	    " WHERE o.ver=?1 AND EXISTS (SELECT 1 FROM objects x WHERE x.id=j.value)"
	    " ORDER BY j.key LIMIT 1";
	sqlite3_stmt *s = NULL;
	char *t = NULL;

	if (!strcmp(type, "sighting"))
		return dst ? strdup(dst) : NULL;
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, NULL))
		return NULL;
	sqlite3_bind_int64(s, 1, ver);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_TEXT)
		t = strdup((const char *)sqlite3_column_text(s, 0));
	sk_store_stmt_put(st, s);
	return t;
}

/*
 * Is p the way to the origin of what feedback version ver is about: the
 * peer that object first came from, or its producer?
 */
static bool towards_origin(sk_store *st, const share_ctx *sc, int64_t ver, const char *type,
			   const char *dst)
{
	char *target = feedback_target(st, ver, type, dst), *irx, *iby;
	bool ok;

	if (!target)
		return false;
	indicator_origin(st, target, &irx, &iby);
	ok = same(irx, sc->rx) || (sc->p->identity && same(iby, sc->p->identity));
	free(target);
	free(irx);
	free(iby);
	return ok;
}

/*
 * Is id one of the anonymous identities this node made for one sighting
 * each (sightings.anonymous per-sighting; sync_node.c records them in meta
 * as "anon_identity.<id>")?
 */
static bool anon_per_sighting(sk_store *st, const char *id)
{
	static const char q[] = "SELECT 1 FROM meta WHERE key='anon_identity.' || ?1";
	sqlite3_stmt *s = NULL;
	bool yes;

	if (!id || sk_store_stmt_get(st, q, sizeof(q) - 1, &s, NULL))
		return false;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	yes = sqlite3_step(s) == SQLITE_ROW;
	sk_store_stmt_put(st, s);
	return yes;
}

/*
 * The onward-sharing decision for one version (docs/sharing-policy.md):
 * never back to where it came from; a sighting, opinion or note, made here
 * or received, goes towards the source or producer of what it is about;
 * other sightings made here go nowhere else; other objects made here go
 * (except a per-sighting anonymous identity's objects, which travel only
 * with their sighting: enqueue_companions); a producer may always get its
 * own objects back; other received objects only at GREEN/CLEAR and only if
 * the peer is configured to re-share.
 */
static bool may_push(sk_store *st, const share_ctx *sc, int64_t ver, const char *id,
		     const char *type, const char *by, const char *rx, sk_tlp own_tlp,
		     const char *dst)
{
	const sk_peer *p = sc->p;
	sk_tlp level = own_tlp ? own_tlp : sc->default_tlp;
	/*
	 * made here: stored without a source (the write rule refuses a version
	 * from elsewhere that claims this node), by this node or its anonymous
	 * identities, or those identities
	 */
	bool own = !rx && (same(by, sc->node_id) || same(by, sc->anon_id) ||
			   same(id, sc->node_id) || same(id, sc->anon_id));
	bool one_off = false; /* by or of a per-sighting anonymous identity */

	if (rx && same(rx, sc->rx))
		return false; /* came from this peer */
	if (!strcmp(type, COOP_SUMMARY))
		return false; /* only ever queued for its addressee (sk_sync_push_summary) */
	if (!rx && !own && (anon_per_sighting(st, by) || anon_per_sighting(st, id)))
		own = one_off = true;
	if (feedback(type) && towards_origin(st, sc, ver, type, dst))
		return true;
	if (own && (!strcmp(type, "sighting") || one_off))
		return false;
	if (own)
		return true;
	if (p->identity && same(by, p->identity))
		return true;
	return p->reshare && level >= SK_TLP_CLEAR && level <= SK_TLP_GREEN;
}

/*
 * A sighting queued for p takes its author along: the identity it names as
 * created_by_ref and in where_sighted_refs (an anonymous one, or the
 * node's), with that identity's located-at relationship and location, as
 * far as they are in the peer's local collection and arrived from where the
 * sighting did (or were made here with it).  So an anonymous sighting keeps
 * its anonymous identity at every hop, and a relay never swaps in its own.
 */
static sk_err enqueue_companions(sk_store *st, const share_ctx *sc, int64_t ver, int64_t now,
				 sk_error *err)
{
	/* the author, if it is also where the sighting was made */
	static const char qw[] =
	    "SELECT s.created_by, s.rx FROM objects s WHERE s.ver=?1 AND s.created_by IS NOT NULL"
	    " AND EXISTS (SELECT 1 FROM json_each(s.json, '$.where_sighted_refs') w"
	    "  WHERE w.value=s.created_by)";
	/* its objects: each candidate found by an index, then checked against coll */
	static const char qc[] =
	    "INSERT OR IGNORE INTO outbox(pid, ver, queued, next_try)"
	    " SELECT ?1, c.ver, ?3, 0 FROM objects c"
	    " WHERE (c.id=?5"
	    "  OR c.ver IN (SELECT r.ver FROM objects r WHERE r.src_ref=?5"
	    "   AND +r.type='relationship' AND r.rel_type='located-at' AND r.created_by=?5)"
	    "  OR c.ver IN (SELECT l.ver FROM objects r JOIN objects l ON l.id=r.dst_ref"
	    "   WHERE r.src_ref=?5 AND +r.type='relationship' AND r.rel_type='located-at'"
	    "   AND r.created_by=?5 AND +l.type='location' AND l.created_by=?5))"
	    " AND c.rx IS ?6 AND c.ver<>?2"
	    " AND EXISTS (SELECT 1 FROM collection_objects co WHERE co.coll=?4 AND co.ver=c.ver)";
	sqlite3_stmt *s = NULL;
	char *who = NULL, *rx = NULL;
	sk_err rc = SK_OK;

	if (sk_store_stmt_get(st, qw, sizeof(qw) - 1, &s, err))
		return SK_EDB;
	sqlite3_bind_int64(s, 1, ver);
	if (sqlite3_step(s) == SQLITE_ROW) {
		who = strdup((const char *)sqlite3_column_text(s, 0));
		if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			rx = strdup((const char *)sqlite3_column_text(s, 1));
		if (!who || (sqlite3_column_type(s, 1) != SQLITE_NULL && !rx))
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	sk_store_stmt_put(st, s);
	if (!rc && who)
		rc = sk_sync_exec_bind(st, qc, err, "iiiitt", sc->p->pid, ver, now, sc->p->local_cid, who,
			       rx);
	free(who);
	free(rx);
	return rc;
}

static sk_err load_push_cursor(sk_store *st, int64_t pid, int64_t *cur, sk_error *err)
{
	static const char q[] = "SELECT push_cursor FROM peer_state WHERE pid=?1";
	sqlite3_stmt *s = NULL;
	*cur = 0;
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err))
		return SK_EDB;
	sqlite3_bind_int64(s, 1, pid);
	if (sqlite3_step(s) == SQLITE_ROW)
		*cur = sqlite3_column_int64(s, 0);
	sk_store_stmt_put(st, s);
	return SK_OK;
}

/* Move newly added versions of the local collection into p's outbox. */
static sk_err enqueue(sk_store *st, share_ctx *sc, sk_sync_result *res, sk_error *err)
{
	static const char q[] =
	    "SELECT co.date_added, o.ver, o.type, o.created_by, o.rx, o.tlp, o.dst_ref, o.id"
	    " FROM collection_objects co JOIN objects o ON o.ver=co.ver"
	    " WHERE co.coll=?1 AND co.date_added>?2 ORDER BY co.date_added LIMIT ?3";
	static const char qi[] =
	    "INSERT OR IGNORE INTO outbox(pid, ver, queued, next_try) VALUES(?1,?2,?3,0)";
	static const char qc[] = "UPDATE peer_state SET push_cursor=?2 WHERE pid=?1";
	int64_t cur;
	sk_err rc;

	for (;;) {
		sqlite3_stmt *s = NULL;
		int64_t last;
		int n = 0;
		if ((rc = sk_store_begin(st, err)))
			return rc;
		if ((rc = load_push_cursor(st, sc->p->pid, &cur, err)))
			goto fail;
		last = cur;
		if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK) {
			rc = sk_store_dberr(st, err, "outbox");
			goto fail;
		}
		sqlite3_bind_int64(s, 1, sc->p->local_cid);
		sqlite3_bind_int64(s, 2, cur);
		sqlite3_bind_int(s, 3, ENQUEUE_CHUNK);
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *type = (const char *)sqlite3_column_text(s, 2);
			const char *by = (const char *)sqlite3_column_text(s, 3);
			const char *rx = (const char *)sqlite3_column_text(s, 4);
			const char *dst = (const char *)sqlite3_column_text(s, 6);
			int64_t ver = sqlite3_column_int64(s, 1), now = sk_ts_now_us();
			n++;
			last = sqlite3_column_int64(s, 0);
			if (!type || !may_push(st, sc, ver, (const char *)sqlite3_column_text(s, 7),
					       type, by, rx, (sk_tlp)sqlite3_column_int(s, 5), dst))
				continue;
			if ((rc = sk_sync_exec_bind(st, qi, err, "iii", sc->p->pid, ver, now)))
				break;
			res->queued++;
			if (!strcmp(type, "sighting") &&
			    (rc = enqueue_companions(st, sc, ver, now, err)))
				break;
		}
		sqlite3_finalize(s);
		if (rc)
			goto fail;
		if (last != cur && (rc = sk_sync_exec_bind(st, qc, err, "ii", sc->p->pid, last)))
			goto fail;
		if ((rc = sk_store_commit(st, err)))
			return rc;
		if (n < ENQUEUE_CHUNK)
			return SK_OK;
	}
fail:
	sk_store_rollback(st);
	return rc;
}

/* Fail a batch: back off each of its versions. */
static sk_err batch_failed(sk_store *st, int64_t pid, const int64_t *vers, size_t n,
			   const char *why, sk_error *err)
{
	static const char q[] = "UPDATE outbox SET attempts=attempts+1,"
				" next_try=?3 + ?4 * (1 << min(attempts, 11)), last_error=?5"
				" WHERE pid=?1 AND ver=?2";
	sk_err rc = sk_store_begin(st, err);
	int64_t now = sk_ts_now_us();
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		sqlite3_stmt *s = NULL;
		if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err)) {
			rc = SK_EDB;
			break;
		}
		sqlite3_bind_int64(s, 1, pid);
		sqlite3_bind_int64(s, 2, vers[i]);
		sqlite3_bind_int64(s, 3, now);
		/* 1 s base, 0.75-1.25 jitter, doubled per attempt (capped at 2^11 s) */
		sqlite3_bind_int64(s, 4, (int64_t)(1e6 * (0.75 + 0.5 * sk_sync_rand01())));
		sqlite3_bind_text(s, 5, why, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sk_store_dberr(st, err, "outbox");
		sk_store_stmt_put(st, s);
	}
	if (!rc)
		return sk_store_commit(st, err);
	sk_store_rollback(st);
	return rc;
}

static sk_err batch_done(sk_store *st, int64_t pid, const int64_t *vers, size_t n,
			 uint64_t sent, uint64_t sightings, sk_error *err)
{
	static const char qd[] = "DELETE FROM outbox WHERE pid=?1 AND ver=?2";
	static const char qs[] = "UPDATE peer_state SET objects_out=objects_out+?2,"
				 " sightings_out=sightings_out+?3 WHERE pid=?1";
	sk_err rc = sk_store_begin(st, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++)
		rc = sk_sync_exec_bind(st, qd, err, "ii", pid, vers[i]);
	if (!rc)
		rc = sk_sync_exec_bind(st, qs, err, "iii", pid, (int64_t)sent, (int64_t)sightings);
	if (!rc)
		return sk_store_commit(st, err);
	sk_store_rollback(st);
	return rc;
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* The audit entry of one envelope POSTed to peer p: its versions, by the run's actor. */
static sk_err audit_push(sk_store *st, const sk_peer *p, const int64_t *vers, size_t n,
			 sk_error *err)
{
	char subj[SK_PEER_NAME_MAX + 8], *ds;
	json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s?}", "peer", p->name, "url", p->url,
			      "api_root", p->api_root, "collection", p->collection, "identity",
			      p->identity);
	sk_audit_entry e = {.action = "sync.push", .subject = subj, .vers = vers, .nvers = n,
			    .exit = true};
	sk_err rc;

	snprintf(subj, sizeof(subj), "peer:%s", p->name);
	ds = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	e.detail = ds;
	rc = ds ? sk_audit_append(st, &e, err) : sk_error_set(err, SK_ENOMEM, "out of memory");
	json_decref(d);
	free(ds);
	return rc;
}

/* POST the due part of p's outbox, one envelope at a time. */
static sk_err drain(sk_store *st, const sk_peer *p, const sk_sync_opts *o, sk_sync_result *res,
		    sk_error *err)
{
	static const char q[] = "SELECT o.ver, o.json, o.type FROM outbox b JOIN objects o"
				" ON o.ver=b.ver WHERE b.pid=?1 AND b.next_try<=?2"
				" ORDER BY b.ver LIMIT ?3";
	size_t batch = o->push_batch ? o->push_batch : DEFAULT_PUSH_BATCH;
	int64_t deadline = sk_sync_run_deadline(o);
	int64_t *vers = malloc(batch * sizeof(*vers));
	sk_buf url = {0}, env;
	char *root = NULL;
	sk_tc *c = NULL;
	sk_err rc;

	sk_buf_init(&env, PUSH_MAX_BYTES + ((size_t)33 << 20));
	if (!vers)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if ((rc = sk_sync_objects_url(p, &url, err)) || (rc = sk_sync_root_url(p, &root, err)) ||
	    (rc = sk_sync_client_for(p, o, deadline, &c, err)))
		goto out;
	for (;;) {
		sqlite3_stmt *s = NULL;
		size_t n = 0;
		uint64_t sightings = 0;
		sk_tc_resp r;
		sk_tc_status status;

		if (o->stop && *o->stop) {
			rc = sk_error_set(err, SK_EINTERRUPTED, "%s: stopped", p->name);
			goto out;
		}
		if (sk_ts_now_us() >= deadline) { /* the outbox waits for the next run */
			rc = sk_error_set(err, SK_ELIMIT,
			                  "push to %s: time limit (sync.max_seconds) reached",
			                  p->name);
			goto out;
		}
		sk_buf_reset(&env);
		sk_buf_puts(&env, "{\"objects\":[");
		if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err)) {
			rc = SK_EDB;
			goto out;
		}
		sqlite3_bind_int64(s, 1, p->pid);
		sqlite3_bind_int64(s, 2, sk_ts_now_us());
		sqlite3_bind_int64(s, 3, (int64_t)batch);
		while (n < batch && env.len < PUSH_MAX_BYTES && sqlite3_step(s) == SQLITE_ROW) {
			vers[n] = sqlite3_column_int64(s, 0);
			if ((n && sk_buf_putc(&env, ',')) ||
			    sk_buf_append(&env, sqlite3_column_text(s, 1),
					  (size_t)sqlite3_column_bytes(s, 1))) {
				rc = sk_error_set(err, SK_ENOMEM, "envelope too large");
				break;
			}
			if (!strcmp((const char *)sqlite3_column_text(s, 2), "sighting"))
				sightings++;
			n++;
		}
		sk_store_stmt_put(st, s);
		if (rc)
			goto out;
		if (!n)
			break;
		if (sk_buf_puts(&env, "]}")) {
			rc = sk_error_set(err, SK_ENOMEM, "envelope too large");
			goto out;
		}
		/* the audit log records the transfer before it leaves (docs/audit.md) */
		if ((rc = audit_push(st, p, vers, n, err)))
			goto out;
		rc = sk_tc_post(c, url.data, env.data, env.len, &r, err);
		res->requests++;
		if (!rc && r.status != 200 && r.status != 201 && r.status != 202)
			rc = sk_error_set(err, SK_EIO, "HTTP %ld (%s)", r.status,
					  sk_sync_http_reason(r.status));
		if (!rc)
			rc = sk_tc_status_parse(r.body.data ? r.body.data : "", r.body.len, &status,
						err);
		sk_tc_resp_free(&r);
		/* poll a pending status until it completes (bounded) */
		for (int i = 0; !rc && !status.complete && i < STATUS_POLLS; i++) {
			sk_buf su;
			if (o->stop && *o->stop) {
				rc = sk_error_set(err, SK_EINTERRUPTED, "stopped");
				break;
			}
			nap_ms(i < 10 ? 50 * (i + 1) : 500);
			sk_buf_init(&su, 1 << 16);
			sk_buf_printf(&su, "%sstatus/", root);
			sk_tc_url_escape(&su, status.id);
			sk_buf_putc(&su, '/');
			rc = su.data ? sk_tc_get(c, su.data, &r, err)
				     : sk_error_set(err, SK_ENOMEM, "out of memory");
			sk_buf_free(&su);
			res->requests++;
			if (!rc && r.status != 200)
				rc = sk_error_set(err, SK_EIO, "status: HTTP %ld (%s)", r.status,
						  sk_sync_http_reason(r.status));
			if (!rc)
				rc = sk_tc_status_parse(r.body.data ? r.body.data : "", r.body.len,
							&status, err);
			sk_tc_resp_free(&r);
		}
		if (!rc && !status.complete)
			rc = sk_error_set(err, SK_EBUSY, "status %s still pending", status.id);
		if (rc) {
			sk_error_prefix(err, "push to %s", p->name);
			sk_error e2;
			if (rc != SK_EINTERRUPTED)
				batch_failed(st, p->pid, vers, n, err->msg, &e2);
			goto out;
		}
		/* complete: successes are delivered; failures were refused for good */
		res->sent += (uint64_t)status.success;
		res->refused += (uint64_t)status.failure;
		if ((rc = batch_done(st, p->pid, vers, n, (uint64_t)status.success,
				     status.failure ? 0 : sightings, err)))
			goto out;
	}
out:
	{
		static const char qn[] = "SELECT count(*) FROM outbox WHERE pid=?1";
		sqlite3_stmt *s = NULL;
		if (sk_store_stmt_get(st, qn, sizeof(qn) - 1, &s, NULL) == SK_OK) {
			sqlite3_bind_int64(s, 1, p->pid);
			if (sqlite3_step(s) == SQLITE_ROW)
				res->outbox = (uint64_t)sqlite3_column_int64(s, 0);
			sk_store_stmt_put(st, s);
		}
	}
	free(vers);
	free(root);
	sk_buf_free(&url);
	sk_buf_free(&env);
	sk_tc_free(c);
	return rc;
}

sk_err sk_sync_push(sk_store *st, const sk_peer *p, const sk_sync_opts *o, sk_sync_result *res,
		    sk_error *err)
{
	share_ctx sc = {.p = p};
	char *node_id = NULL, *anon_id = NULL;
	sk_collection coll = {0};
	sk_err rc;

	if ((rc = sk_store_node_id(st, &node_id, err)))
		return rc;
	sk_sync_meta_get(st, "anon_identity", &anon_id, NULL);
	sc.node_id = node_id;
	sc.anon_id = anon_id;
	sk_peer_rx(p, sc.rx, sizeof(sc.rx));
	if ((rc = sk_store_collection_get(st, p->local_coll, &coll, err)))
		goto out;
	sc.default_tlp = coll.default_tlp ? coll.default_tlp : SK_TLP_AMBER;
	if ((rc = enqueue(st, &sc, res, err)))
		goto out;
	rc = drain(st, p, o, res, err);
out:
	sk_collection_clear(&coll);
	free(node_id);
	free(anon_id);
	return rc;
}

sk_err sk_sync_push_summary(sk_store *st, const sk_peer *p, int64_t ver, sk_error *err)
{
	static const char q[] = "SELECT type, rx, created_by, json_extract(json, '$.recipient_ref')"
				" FROM objects WHERE ver=?1";
	static const char qi[] =
	    "INSERT OR IGNORE INTO outbox(pid, ver, queued, next_try) VALUES(?1,?2,?3,0)";
	sqlite3_stmt *s = NULL;
	const char *own = sk_store_own_id(st);
	bool ok = false;

	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err))
		return SK_EDB;
	sqlite3_bind_int64(s, 1, ver);
	if (sqlite3_step(s) == SQLITE_ROW)
		ok = same((const char *)sqlite3_column_text(s, 0), COOP_SUMMARY) &&
		     sqlite3_column_type(s, 1) == SQLITE_NULL &&
		     same((const char *)sqlite3_column_text(s, 2), own) &&
		     same((const char *)sqlite3_column_text(s, 3), p->identity);
	sk_store_stmt_put(st, s);
	if (!ok)
		return sk_error_set(err, SK_EPERM,
				    "version %lld: not a summary made here for %s's identity",
				    (long long)ver, p->name);
	if (!p->push)
		return sk_error_set(err, SK_EPERM, "%s: the peer does not push (peer set --push)",
				    p->name);
	return sk_sync_exec_bind(st, qi, err, "iii", p->pid, ver, sk_ts_now_us());
}
