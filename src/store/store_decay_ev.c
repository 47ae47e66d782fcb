/*
 * store_decay_ev.c - what moves an indicator's score after it is stored
 * (decay.h): sightings and false-positive reports, the backfill of rows that
 * predate schema 17, reading a score, and the membership of named feeds.
 *
 * Conventions (docs/decay.md): a sighting counts once per sighting id (its
 * first version) and refreshes the indicator to its last_seen (never later
 * than its arrival); a sighting with "x_schakel_false_positive": true, or
 * an opinion of "disagree" or "strongly-disagree" on an indicator, is a
 * false-positive report and refreshes nothing.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/decay.h"
#include "schakel/timestamp.h"

/* the score columns recomputed from the row's other columns (SET list tail) */
#define BASE_OF(S, F)                                                                              \
	"sk_decay_base(confidence, producer,"                                                      \
	" (SELECT trust FROM partners p WHERE p.identity=indicators.producer), " S ", " F ")"

static const char backfill_sql[] =
    "UPDATE indicators SET kind=sk_decay_kind(pattern),"
    " confidence=(SELECT json_extract(o.json,'$.confidence') FROM objects o WHERE "
    "o.ver=indicators.ver),"
    " producer=(SELECT o.created_by FROM objects o WHERE o.ver=indicators.ver),"
    " refreshed=(SELECT sk_decay_time(json_extract(o.json,'$.valid_from'), o.modified)"
    "  FROM objects o WHERE o.ver=indicators.ver),"
    " sightings=(SELECT count(DISTINCT s.id) FROM objects s WHERE s.dst_ref=indicators.id"
    "  AND s.type='sighting' AND json_type(s.json,'$.x_schakel_false_positive') IS NOT 'true'),"
    " fp=(SELECT count(DISTINCT s.id) FROM objects s WHERE s.dst_ref=indicators.id"
    "  AND s.type='sighting' AND json_type(s.json,'$.x_schakel_false_positive') IS 'true');"
    "UPDATE indicators SET refreshed=max(coalesce(refreshed, 0),"
    " (SELECT max(sk_decay_time(json_extract(s.json,'$.last_seen'), s.modified))"
    "  FROM objects s WHERE s.dst_ref=indicators.id AND s.type='sighting'"
    "  AND json_type(s.json,'$.x_schakel_false_positive') IS NOT 'true'))"
    " WHERE sightings>0;"
    "UPDATE indicators SET fp=fp+(SELECT count(DISTINCT o.id) FROM objects o, json_each(o.json,"
    "  '$.object_refs') r WHERE o.type='opinion' AND r.value=indicators.id"
    "  AND json_extract(o.json,'$.opinion') IN ('disagree','strongly-disagree'))"
    " WHERE EXISTS (SELECT 1 FROM objects o WHERE o.type='opinion');"
    "DELETE FROM meta WHERE key='decay_backfill';";

sk_err sk_store_decay_open(sk_store *st, bool readonly, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	bool pending;
	sk_err rc;

	if ((rc = sk_store_decay_register(st, err)) || (rc = sk_store_decay_load(st, err)))
		return rc;
	if (readonly)
		return SK_OK;
	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM meta WHERE key='decay_backfill'", -1, &s,
	                       NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "decay");
	pending = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	if (!pending)
		return SK_OK;
	if ((rc = sk_store_begin(st, err)))
		return rc;
	rc = sk_store_exec(st, backfill_sql, err);
	if (!rc)
		rc = sk_decay_rescore(st, NULL, err);
	if (!rc)
		return sk_store_commit(st, err);
	sk_store_rollback(st);
	sk_error_prefix(err, "scoring the indicators (schema 17)");
	return rc;
}

/* --- evidence ------------------------------------------------------------------- */

/* bump decay.gen: a cached matcher built before may now be wrong */
static sk_err bump_gen(sk_store *st, sk_error *err)
{
	return sk_store_exec(st,
	                     "INSERT INTO meta(key, value) VALUES('decay.gen', '1')"
	                     " ON CONFLICT(key) DO UPDATE SET value=value+1",
	                     err);
}

/*
 * One report on indicator id: sightings += ds, fp += dfp, refreshed moves
 * to `fresh` if later (0 = no refresh); rescored.  An indicator not (yet)
 * stored is left alone.  A cached matcher is made stale when the
 * indicator's alerting may have changed for a time it was built for: its
 * alert_until moved earlier, or it had already decayed by now.
 */
static sk_err report(sk_store *st, const char *id, int ds, int dfp, int64_t fresh, sk_error *err)
{
	static const char upd[] =
	    "UPDATE indicators SET sightings=sightings+?2, fp=fp+?3,"
	    " refreshed=CASE WHEN ?4>coalesce(refreshed, 0) THEN ?4 ELSE refreshed END,"
	    " base=" BASE_OF("sightings+?2",
	                     "fp+?3") ","
	                              " alert_until=sk_decay_until(kind, " BASE_OF(
	                                  "sightings+?2",
	                                  "fp+?3") ","
	                                           "  CASE WHEN ?4>coalesce(refreshed, 0) THEN ?4 "
	                                           "ELSE refreshed END)"
	                                           " WHERE id=?1 RETURNING alert_until";
	sqlite3_stmt *s = NULL;
	int64_t old, now = sk_ts_now_us();
	sk_err rc = SK_OK;
	int step;

	if ((rc = sk_store_stmt_get(st, "SELECT alert_until FROM indicators WHERE id=?1",
	                            strlen("SELECT alert_until FROM indicators WHERE id=?1"), &s,
	                            err)))
		return rc;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	old = step == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sk_store_stmt_put(st, s);
	if (step != SQLITE_ROW)
		return step == SQLITE_DONE ? SK_OK : sk_store_dberr(st, err, id);
	if ((rc = sk_store_stmt_get(st, upd, sizeof(upd) - 1, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, ds);
	sqlite3_bind_int(s, 3, dfp);
	sqlite3_bind_int64(s, 4, fresh);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		int64_t nu = sqlite3_column_int64(s, 0);
		sqlite3_step(s);
		sk_store_stmt_put(st, s);
		if (nu < old || (old <= now && nu != old))
			rc = bump_gen(st, err);
		return rc;
	}
	sk_store_stmt_put(st, s);
	return step == SQLITE_DONE ? SK_OK : sk_store_dberr(st, err, id);
}

/* true if ver is the only stored version of id (a sighting counts once) */
static sk_err first_version(sk_store *st, const char *id, int64_t ver, bool *first, sk_error *err)
{
	static const char q[] = "SELECT EXISTS(SELECT 1 FROM objects WHERE id=?1 AND ver<>?2)";
	sqlite3_stmt *s = NULL;
	sk_err rc;

	if ((rc = sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ver);
	if (sqlite3_step(s) != SQLITE_ROW)
		rc = sk_store_dberr(st, err, id);
	else
		*first = sqlite3_column_int(s, 0) == 0;
	sk_store_stmt_put(st, s);
	return rc;
}

static int64_t ts_of(const sk_jval *v)
{
	int64_t t = 0;
	if (v && v->type == SK_JSTRING && sk_ts_parse(v->u.s, v->n, NULL, &t))
		return t;
	return 0;
}

sk_err sk_store_decay_evidence(sk_store *st, int64_t ver, const sk_stix_info *info, sk_error *err)
{
	const sk_jval *o = info->obj;
	bool first = true, fp;
	sk_err rc;

	if (!o)
		return SK_OK;
	if (!strcmp(info->type, "sighting")) {
		const char *ind = info->dst_ref;
		int64_t fresh, now = sk_ts_now_us();
		if (!ind || strncmp(ind, "indicator--", 11))
			return SK_OK;
		if ((rc = first_version(st, info->id, ver, &first, err)))
			return rc;
		fp = sk_json_is(sk_json_get(o, "x_schakel_false_positive"), SK_JTRUE);
		fresh = ts_of(sk_json_get(o, "last_seen"));
		if (!fresh)
			fresh = ts_of(sk_json_get(o, "modified"));
		if (fresh > now)
			fresh =
			    now; /* a claim about the future refreshes no later than its arrival */
		if (fp)
			return first ? report(st, ind, 0, 1, 0, err) : SK_OK;
		return report(st, ind, first, 0, fresh, err);
	}
	if (!strcmp(info->type, "opinion")) {
		const sk_jval *op = sk_json_get(o, "opinion"),
		              *refs = sk_json_get(o, "object_refs");
		if (!op || op->type != SK_JSTRING ||
		    (strcmp(op->u.s, "disagree") && strcmp(op->u.s, "strongly-disagree")))
			return SK_OK;
		if ((rc = first_version(st, info->id, ver, &first, err)) || !first)
			return rc;
		for (size_t i = 0; i < sk_json_len(refs); i++) {
			const char *r = sk_json_str(sk_json_at(refs, i));
			if (r && !strncmp(r, "indicator--", 11) &&
			    (rc = report(st, r, 0, 1, 0, err)))
				return rc;
		}
	}
	return SK_OK;
}

/* --- reading ---------------------------------------------------------------------- */

sk_err sk_decay_get(sk_store *st, const char *id, int64_t at, sk_decay_info *out, sk_error *err)
{
	static const char q[] =
	    "SELECT kind, confidence, sightings, fp, refreshed, base, alert_until, producer,"
	    " (SELECT trust FROM partners p WHERE p.identity=i.producer) FROM indicators i"
	    " WHERE id=?1";
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	memset(out, 0, sizeof(*out));
	if (!at)
		at = sk_ts_now_us();
	if (sqlite3_prepare_v2(st->db, q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "score");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *prod = (const char *)sqlite3_column_text(s, 7);
		const char *own = sk_store_own_id(st);
		out->kind = sqlite3_column_int(s, 0);
		if (out->kind < 0 || out->kind >= SK_DECAY__N)
			out->kind = SK_DECAY_OTHER;
		out->confidence =
		    sqlite3_column_type(s, 1) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 1);
		out->sightings = sqlite3_column_int64(s, 2);
		out->fp = sqlite3_column_int64(s, 3);
		out->refreshed = sqlite3_column_int64(s, 4);
		out->base = sqlite3_column_int(s, 5);
		out->alert_until = sqlite3_column_int64(s, 6);
		out->trust = sqlite3_column_type(s, 8) != SQLITE_NULL ? sqlite3_column_int(s, 8)
		             : prod && own && !strcmp(prod, own)      ? 100
		                                                      : st->decay.default_trust;
		out->score = sqlite3_column_type(s, 4) == SQLITE_NULL
		                 ? out->base
		                 : sk_decay_score(&st->decay.model[out->kind], out->base,
		                                  out->refreshed, at);
		out->alerting = out->alert_until > at;
	} else {
		rc = sk_error_set(err, SK_ENOTFOUND, "%s: no such indicator", id);
	}
	sqlite3_finalize(s);
	return rc;
}

/* --- named feeds ------------------------------------------------------------------- */

sk_err sk_decay_feed_begin(sk_store *st, sk_error *err)
{
	return sk_store_exec(st,
	                     "CREATE TEMP TABLE IF NOT EXISTS feed_seen(id TEXT PRIMARY KEY)"
	                     " WITHOUT ROWID; DELETE FROM temp.feed_seen;",
	                     err);
}

sk_err sk_decay_feed_note(sk_store *st, const char *id, sk_error *err)
{
	static const char q[] = "INSERT OR IGNORE INTO temp.feed_seen(id) VALUES(?1)";
	sqlite3_stmt *s = NULL;
	sk_err rc;

	if ((rc = sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "feed membership");
	sk_store_stmt_put(st, s);
	return rc;
}

sk_err sk_decay_feed_end(sk_store *st, const char *feed,
                         int (*gone)(void *ud, const char *id, sk_error *err), void *ud,
                         uint64_t *ngone, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	char **ids = NULL;
	size_t n = 0, cap = 0;
	sk_err rc = SK_OK;
	int step;

	if (ngone)
		*ngone = 0;
	if (sqlite3_prepare_v2(st->db,
	                       "SELECT id FROM feed_members WHERE feed=?1"
	                       " AND id NOT IN (SELECT id FROM temp.feed_seen)",
	                       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "feed membership");
	sqlite3_bind_text(s, 1, feed, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			char **g = realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof(*ids));
			if (!g) {
				rc = sk_error_set(err, SK_ENOMEM, "out of memory");
				break;
			}
			ids = g;
		}
		if (!(ids[n] = strdup((const char *)sqlite3_column_text(s, 0)))) {
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	if (!rc && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "feed membership");
	sqlite3_finalize(s);
	for (size_t i = 0; !rc && i < n; i++)
		if (gone(ud, ids[i], err))
			rc = err && err->code ? err->code : SK_EINVAL;
	if (!rc && ngone)
		*ngone = n;
	if (!rc && sqlite3_prepare_v2(st->db,
	                              "DELETE FROM feed_members WHERE feed=?1"
	                              " AND id NOT IN (SELECT id FROM temp.feed_seen)",
	                              -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, feed, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sk_store_dberr(st, err, "feed membership");
		sqlite3_finalize(s);
		if (!rc && sqlite3_prepare_v2(st->db,
		                              "INSERT OR IGNORE INTO feed_members(feed, id)"
		                              " SELECT ?1, id FROM temp.feed_seen",
		                              -1, &s, NULL) == SQLITE_OK) {
			sqlite3_bind_text(s, 1, feed, -1, SQLITE_STATIC);
			if (sqlite3_step(s) != SQLITE_DONE)
				rc = sk_store_dberr(st, err, "feed membership");
			sqlite3_finalize(s);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return rc;
}
