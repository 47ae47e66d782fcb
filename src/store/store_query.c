/*
 * store_query.c - the read side of the store: filtered, keyset-paged queries
 * over collections or the whole store, single objects, relationships, stats.
 *
 * "Latest version" and "latest spec version" are decided at query time with
 * NOT EXISTS probes on covering indexes, so writers never have to maintain
 * flags and a version that arrives late (older modified) is placed correctly.
 */
#include "store_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/buf.h"

void sk_query_init(sk_query *q)
{
	memset(q, 0, sizeof(*q));
	q->added_after = -1;
}

static sk_err add_in(sk_buf *sql, const char *col, size_t n)
{
	sk_err rc = sk_buf_printf(sql, " AND %s IN (", col);
	for (size_t i = 0; i < n && !rc; i++)
		rc = sk_buf_puts(sql, i ? ",?" : "?");
	if (!rc)
		rc = sk_buf_putc(sql, ')');
	return rc;
}

static void row_from(sqlite3_stmt *s, sk_row *r)
{
	r->ver = sqlite3_column_int64(s, 0);
	r->id = (const char *)sqlite3_column_text(s, 1);
	r->type = (const char *)sqlite3_column_text(s, 2);
	r->spec = (const char *)sqlite3_column_text(s, 3);
	r->version = (const char *)sqlite3_column_text(s, 4);
	r->json = (const char *)sqlite3_column_text(s, 5);
	r->len = (size_t)sqlite3_column_bytes(s, 5);
	r->date_added = sqlite3_column_int64(s, 6);
	r->tlp = (sk_tlp)sqlite3_column_int(s, 7);
	r->created_by = (const char *)sqlite3_column_text(s, 8);
	r->revoked = sqlite3_column_int(s, 9) != 0;
}

#define ROW_COLS "o.ver, o.id, o.type, o.spec, o.version, o.json, %s, o.tlp, o.created_by, o.revoked"

static sk_err run(sk_store *st, sqlite3_stmt *s, sk_row_fn fn, void *ud, sk_error *err)
{
	int step;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sk_row r;
		row_from(s, &r);
		if (fn(ud, &r))
			return SK_OK;
	}
	if (step != SQLITE_DONE)
		return sk_store_dberr(st, err, "query");
	return SK_OK;
}

sk_err sk_store_query(sk_store *st, const sk_query *q, sk_row_fn fn, void *ud, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_buf sql;
	sk_err rc = SK_OK;
	unsigned vm = q->vermode ? q->vermode : (q->nversions ? 0 : SK_VER_LAST);
	bool coll = q->cid != 0;
	/*
	 * Other versions of the same object "in scope": in the same collection
	 * when querying one, anywhere in the store otherwise.
	 */
	const char *scope = coll ? " JOIN collection_objects cx ON cx.coll=co.coll AND cx.ver=x.ver"
				 : "";
	const char *key = coll ? "co.date_added" : "o.ver";
	int bi = 1;

	/*
	 * The visibility predicate for an objects alias, with named parameters
	 * (a join with a parameter CTE would stop SQLite from walking the
	 * date_added index in order, turning a LIMIT 100 page into a sort of
	 * the whole collection).
	 */
	/*
	 * Received versions (rx set) at AMBER or above: only their producer
	 * or the partner they came from (onward-sharing rule, :rr = reader);
	 * from a file of unknown source: no one.
	 */
#define VIS(a)                                                                                     \
	" AND (CASE WHEN " a ".rx IS NOT NULL AND coalesce(nullif(" a ".tlp,0),:dt)>=3"           \
	" THEN (:rr AND " a ".rx<>'" SK_RX_UNKNOWN "' AND (" a ".created_by=:pr OR " a ".rx=:pr))" \
	" ELSE (((:tm >> coalesce(nullif(" a ".tlp,0),:dt)) & 1) OR (" a ".created_by=:pr"      \
	" AND ((:pm >> coalesce(nullif(" a ".tlp,0),:dt)) & 1))) END)"
	const char *visx = q->vis ? VIS("x") : "";

	sk_buf_init(&sql, 1 << 20);
	if (coll && q->nids)
		/* a few ids: drive from the id index, not the collection's date order */
		rc = sk_buf_printf(&sql,
				   "SELECT " ROW_COLS " FROM objects o CROSS JOIN collection_objects co"
				   " ON co.ver=o.ver WHERE co.coll=?",
				   "co.date_added");
	else if (coll)
		rc = sk_buf_printf(&sql,
				   "SELECT " ROW_COLS " FROM collection_objects co"
				   " JOIN objects o ON o.ver=co.ver WHERE co.coll=?",
				   "co.date_added");
	else
		rc = sk_buf_printf(&sql, "SELECT " ROW_COLS " FROM objects o WHERE 1", "o.added");
	if (!rc && q->vis)
		rc = sk_buf_puts(&sql, VIS("o"));
	if (!rc && q->added_after >= 0)
		rc = sk_buf_printf(&sql, " AND %s>?", coll ? "co.date_added" : "o.added");
	if (!rc && q->cursor > 0)
		rc = sk_buf_printf(&sql, " AND %s>?", key);
	if (!rc && q->ntypes)
		rc = add_in(&sql, "o.type", q->ntypes);
	if (!rc && q->nids)
		rc = add_in(&sql, "o.id", q->nids);
	if (!rc && q->nspecs)
		rc = add_in(&sql, "o.spec", q->nspecs);
	else if (!rc)
		rc = sk_buf_printf(&sql,
				   " AND NOT EXISTS (SELECT 1 FROM objects x%s"
				   " WHERE x.id=o.id AND x.spec>o.spec%s)",
				   scope, visx);
	if (!rc && !(vm & SK_VER_ALL)) {
		/*
		 * OR of: last, first, explicit versions.  Versions are chosen per
		 * object (TAXII 2.1 3.4.1): with spec versions named, "last" and
		 * "first" range over all of them (a tie between a 2.0 and a 2.1
		 * version of the same instant goes to the later spec); without, over
		 * the object's latest spec version only.  The spec values are the
		 * parsed filter's ("2.0", "2.1"), written as literals.
		 */
		char later[160], earlier[160], in[32] = "";
		const char *sep = "";
		for (size_t i = 0; i < q->nspecs; i++)
			if (!strcmp(q->specs[i], "2.0") || !strcmp(q->specs[i], "2.1"))
				snprintf(in + strlen(in), sizeof(in) - strlen(in), "%s'%s'",
				         in[0] ? "," : "", q->specs[i]);
		if (in[0]) {
			snprintf(later, sizeof(later),
			         "x.spec IN (%s) AND (x.version>o.version OR"
			         " (x.version=o.version AND x.spec>o.spec))", in);
			snprintf(earlier, sizeof(earlier),
			         "x.spec IN (%s) AND (x.version<o.version OR"
			         " (x.version=o.version AND x.spec>o.spec))", in);
		} else {
			snprintf(later, sizeof(later), "x.spec=o.spec AND x.version>o.version");
			snprintf(earlier, sizeof(earlier), "x.spec=o.spec AND x.version<o.version");
		}
		rc = sk_buf_puts(&sql, " AND (");
		if (!rc && (vm & SK_VER_LAST)) {
			rc = sk_buf_printf(&sql,
					   "NOT EXISTS (SELECT 1 FROM objects x%s WHERE x.id=o.id"
					   " AND %s%s)",
					   scope, later, visx);
			sep = " OR ";
		}
		if (!rc && (vm & SK_VER_FIRST)) {
			rc = sk_buf_printf(&sql,
					   "%sNOT EXISTS (SELECT 1 FROM objects x%s WHERE x.id=o.id"
					   " AND %s%s)",
					   sep, scope, earlier, visx);
			sep = " OR ";
		}
		if (!rc && q->nversions) {
			rc = sk_buf_printf(&sql, "%so.version IN (", sep);
			for (size_t i = 0; i < q->nversions && !rc; i++)
				rc = sk_buf_puts(&sql, i ? ",?" : "?");
			if (!rc)
				rc = sk_buf_putc(&sql, ')');
		}
		if (!rc)
			rc = sk_buf_putc(&sql, ')');
	}
	if (!rc)
		rc = q->by_version ? sk_buf_printf(&sql, " ORDER BY o.spec, o.version, %s", key)
				   : sk_buf_printf(&sql, " ORDER BY %s", key);
	if (!rc && q->limit)
		rc = sk_buf_puts(&sql, " LIMIT ?");
	if (rc) {
		sk_error_set(err, rc, "query too large");
		goto out;
	}
	if ((rc = sk_store_stmt_get(st, sql.data, sql.len, &s, err)))
		goto out;
	/* positional (nameless) parameters in order; the named ones are the policy's */
	{
		int np = sqlite3_bind_parameter_count(s);
		size_t ti = 0, ii = 0, si = 0, vi = 0;
		int stage = 0;
		for (int i = 1; i <= np; i++) {
			const char *name = sqlite3_bind_parameter_name(s, i);
			if (name) {
				if (!strcmp(name, ":tm"))
					sqlite3_bind_int64(s, i, (sqlite3_int64)q->vis_mask);
				else if (!strcmp(name, ":pm"))
					sqlite3_bind_int64(s, i, (sqlite3_int64)q->vis_producer_mask);
				else if (!strcmp(name, ":rr"))
					sqlite3_bind_int(s, i, q->vis_rx_reader ? 1 : 0);
				else if (!strcmp(name, ":dt"))
					sqlite3_bind_int(s, i, q->vis_default_tlp);
				else if (!strcmp(name, ":pr") && q->vis_producer && *q->vis_producer)
					sqlite3_bind_text(s, i, q->vis_producer, -1, SQLITE_STATIC);
				continue; /* :pr without a producer stays NULL */
			}
			/* the nameless ones, in the order the SQL was built */
			for (;;) {
				if (stage == 0 && coll) {
					sqlite3_bind_int64(s, i, q->cid);
					stage = 1;
					break;
				}
				if (stage <= 1 && q->added_after >= 0) {
					sqlite3_bind_int64(s, i, q->added_after);
					stage = 2;
					break;
				}
				if (stage <= 2 && q->cursor > 0) {
					sqlite3_bind_int64(s, i, q->cursor);
					stage = 3;
					break;
				}
				if (stage <= 3 && ti < q->ntypes) {
					sqlite3_bind_text(s, i, q->types[ti++], -1, SQLITE_STATIC);
					stage = 3;
					break;
				}
				if (stage <= 4 && ii < q->nids) {
					sqlite3_bind_text(s, i, q->ids[ii++], -1, SQLITE_STATIC);
					stage = 4;
					break;
				}
				if (stage <= 5 && si < q->nspecs) {
					sqlite3_bind_text(s, i, q->specs[si++], -1, SQLITE_STATIC);
					stage = 5;
					break;
				}
				if (stage <= 6 && !(vm & SK_VER_ALL) && vi < q->nversions) {
					sqlite3_bind_text(s, i, q->versions[vi++], -1, SQLITE_STATIC);
					stage = 6;
					break;
				}
				if (stage <= 7 && q->limit) {
					sqlite3_bind_int64(s, i, (sqlite3_int64)q->limit);
					stage = 8;
					break;
				}
				stage = 9; /* more placeholders than values: cannot happen */
				break;
			}
		}
		(void)bi;
	}
	rc = run(st, s, fn, ud, err);
out:
	sk_store_stmt_put(st, s);
	sk_buf_free(&sql);
	return rc;
}

sk_err sk_store_get(sk_store *st, const char *id, bool all_versions, sk_row_fn fn, void *ud,
		    sk_error *err)
{
	sk_query q;
	const char *ids[1] = {id};

	sk_query_init(&q);
	q.ids = ids;
	q.nids = 1;
	q.by_version = true;
	if (all_versions) {
		static const char *const specs[] = {"2.0", "2.1"};
		q.vermode = SK_VER_ALL;
		q.specs = specs;
		q.nspecs = 2;
	}
	return sk_store_query(st, &q, fn, ud, err);
}

sk_err sk_store_relations(sk_store *st, const char *id, sk_rel_fn fn, void *ud, sk_error *err)
{
	static const char *const sql =
	    "SELECT " ROW_COLS ", o.rel_type, o.src_ref, o.dst_ref FROM objects o"
	    " WHERE (o.src_ref=?1 OR o.dst_ref=?1)"
	    " AND NOT EXISTS (SELECT 1 FROM objects y WHERE y.id=o.id AND y.spec=o.spec"
	    " AND y.version>o.version)"
	    " ORDER BY o.rel_type, o.id";
	sqlite3_stmt *s = NULL;
	char *text = NULL;
	sk_err rc = SK_OK;
	int step;
	size_t n = strlen(sql) + 16;

	/* ROW_COLS has a %s for the date column */
	text = malloc(n);
	if (!text)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	snprintf(text, n, sql, "o.added");
	if (sqlite3_prepare_v2(sk_store_sqlite(st), text, -1, &s, NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "relations");
		goto out;
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sk_row r;
		const char *src = (const char *)sqlite3_column_text(s, 11);
		const char *dst = (const char *)sqlite3_column_text(s, 12);
		bool outgoing = src && strcmp(src, id) == 0;
		row_from(s, &r);
		/* a sighting has no source_ref: the sighting itself is the other end */
		if (fn(ud, &r, (const char *)sqlite3_column_text(s, 10),
		       outgoing ? dst : (src ? src : r.id), outgoing))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "relations");
out:
	sqlite3_finalize(s);
	free(text);
	return rc;
}

sk_err sk_store_containers(sk_store *st, const char *id, size_t limit, sk_row_fn fn, void *ud,
			   sk_error *err)
{
	static const char *const sql =
	    "SELECT " ROW_COLS " FROM objects o"
	    " WHERE o.type IN ('report','grouping','note','opinion','observed-data')"
	    " AND NOT EXISTS (SELECT 1 FROM objects y WHERE y.id=o.id AND y.spec=o.spec"
	    " AND y.version>o.version)"
	    " AND EXISTS (SELECT 1 FROM json_each(o.json,'$.object_refs') j WHERE j.value=?1)"
	    " ORDER BY o.ver DESC LIMIT ?2";
	sqlite3_stmt *s = NULL;
	char text[1024];
	sk_err rc = SK_OK;
	int step;

	snprintf(text, sizeof(text), sql, "o.added");
	if (sqlite3_prepare_v2(sk_store_sqlite(st), text, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "containers");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, limit ? (sqlite3_int64)limit : -1);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sk_row r;
		row_from(s, &r);
		if (fn(ud, &r))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "containers");
	sqlite3_finalize(s);
	return rc;
}

sk_err sk_store_stats(sk_store *st, int (*fn)(void *ud, const sk_stat_row *r), void *ud,
		      sk_error *err)
{
	static const char *const sql =
	    "SELECT NULL, type, COUNT(DISTINCT id), COUNT(*) FROM objects GROUP BY type"
	    " UNION ALL "
	    "SELECT c.name, o.type, COUNT(DISTINCT o.id), COUNT(*) FROM collection_objects co"
	    " JOIN collections c ON c.cid=co.coll JOIN objects o ON o.ver=co.ver"
	    " GROUP BY c.cid, o.type"
	    " ORDER BY 1 NULLS FIRST, 2";
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	int step;

	if (sqlite3_prepare_v2(sk_store_sqlite(st), sql, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "stats");
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sk_stat_row r = {
		    .collection = (const char *)sqlite3_column_text(s, 0),
		    .type = (const char *)sqlite3_column_text(s, 1),
		    .objects = sqlite3_column_int64(s, 2),
		    .versions = sqlite3_column_int64(s, 3),
		};
		if (fn(ud, &r))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "stats");
	sqlite3_finalize(s);
	return rc;
}

sk_err sk_store_indicator_max_ver(sk_store *st, int64_t *out, sk_error *err)
{
	static const char q[] = "SELECT max(ver) FROM indicators";
	sqlite3_stmt *s = NULL;
	*out = 0;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "indicators");
	if (sqlite3_step(s) == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return SK_OK;
}

sk_err sk_store_indicator_stamp(sk_store *st, char *buf, size_t n, sk_error *err)
{
	static const char q[] =
	    "SELECT (SELECT max(ver) FROM indicators),"
	    " (SELECT value FROM meta WHERE key='indicators.replaced'),"
	    " (SELECT value FROM meta WHERE key='decay.gen')";
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "indicators");
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(buf, n, "ind=%lld rep=%lld dec=%lld", (long long)sqlite3_column_int64(s, 0),
			 (long long)sqlite3_column_int64(s, 1), (long long)sqlite3_column_int64(s, 2));
	else
		rc = sk_store_dberr(st, err, "indicators");
	sqlite3_finalize(s);
	return rc;
}

sk_err sk_store_indicator_rows(sk_store *st, int64_t after_ver, unsigned flags,
			       int (*fn)(void *ud, const sk_ind_row *r), void *ud, sk_error *err)
{
	/*
	 * The extra columns are only selected when asked for: the arrival time
	 * costs two primary-key probes per row (the watcher's detection delay),
	 * and a full compile of a large node reads the side table alone.
	 */
	static const char sql[] =
	    "SELECT i.ver, i.id, i.pattern, i.pattern_type, i.valid_from, i.valid_until,"
	    " i.subdomains, i.alert_until%s%s FROM indicators i WHERE i.ver>?1%s ORDER BY i.ver";
	static const char arrival[] =
	    ", coalesce((SELECT p.arrived FROM provenance p WHERE p.ver=i.ver),"
	    " (SELECT o.added FROM objects o WHERE o.ver=i.ver))";
	bool revoked = flags & SK_IND_REVOKED, arrived = flags & SK_IND_ARRIVAL;
	char text[512];
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	int step;

	snprintf(text, sizeof(text), sql, revoked ? ", i.revoked" : "", arrived ? arrival : "",
		 revoked ? "" : " AND i.revoked=0");
	if (sqlite3_prepare_v2(sk_store_sqlite(st), text, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "current indicators");
	sqlite3_bind_int64(s, 1, after_ver);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sk_ind_row r = {
		    .ver = sqlite3_column_int64(s, 0),
		    .id = (const char *)sqlite3_column_text(s, 1),
		    .pattern = (const char *)sqlite3_column_text(s, 2),
		    .pattern_len = (size_t)sqlite3_column_bytes(s, 2),
		    .pattern_type = (const char *)sqlite3_column_text(s, 3),
		    .valid_from = (const char *)sqlite3_column_text(s, 4),
		    .valid_until = (const char *)sqlite3_column_text(s, 5),
		    .subdomains = sqlite3_column_int(s, 6) != 0,
		    .alert_until = sqlite3_column_int64(s, 7),
		    .revoked = revoked && sqlite3_column_int(s, 8) != 0,
		    .arrived = arrived ? sqlite3_column_int64(s, revoked ? 9 : 8) : 0,
		};
		if (fn(ud, &r))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "current indicators");
	sqlite3_finalize(s);
	return rc;
}

sk_err sk_store_get_ver(sk_store *st, int64_t ver, sk_row_fn fn, void *ud, sk_error *err)
{
	static const char *const sql = "SELECT " ROW_COLS " FROM objects o WHERE o.ver=?1";
	sqlite3_stmt *s = NULL;
	char text[256];
	sk_err rc = SK_OK;
	int step;

	snprintf(text, sizeof(text), sql, "o.added");
	if (sqlite3_prepare_v2(sk_store_sqlite(st), text, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "get");
	sqlite3_bind_int64(s, 1, ver);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		sk_row r;
		row_from(s, &r);
		fn(ud, &r);
	} else if (step == SQLITE_DONE) {
		rc = sk_error_set(err, SK_ENOTFOUND, "no object version %lld", (long long)ver);
	} else {
		rc = sk_store_dberr(st, err, "get");
	}
	sqlite3_finalize(s);
	return rc;
}
