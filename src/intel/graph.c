/*
 * graph.c - the intel folder's shared reading: the latest visible version
 * of objects and relationships loaded into a small in-memory graph per
 * call (intel_int.h), object summaries in the console's shape, and the
 * critical sectors of an identity.
 */
#include "intel_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/buf.h"
#include "schakel/tlp.h"

static const char *const tlp_levels[] = {"none", "clear", "green", "amber", "amber+strict", "red"};

json_t *in_tlp_json(int tlp)
{
	if (tlp < 0 || tlp > 5)
		tlp = 0;
	return json_pack("{s:s, s:s}", "level", tlp_levels[tlp], "label",
	                 tlp ? sk_tlp_name((sk_tlp)tlp) : "unmarked");
}

void in_id_type(const char *id, char out[64])
{
	const char *p = id ? strstr(id, "--") : NULL;
	size_t n = p ? (size_t)(p - id) : 0;
	if (n > 63)
		n = 63;
	memcpy(out, id ? id : "", n);
	out[n] = 0;
}

const char *in_name(json_t *o)
{
	const char *n = json_string_value(json_object_get(o, "name"));
	if (n)
		return n;
	n = json_string_value(json_object_get(o, "pattern"));
	if (n)
		return n;
	n = json_string_value(json_object_get(o, "value"));
	return n ? n : json_string_value(json_object_get(o, "id"));
}

/* "IN (?,?,...)" list of n parameters into b */
static sk_err add_in(sk_buf *b, const char *col, size_t n)
{
	sk_err rc = sk_buf_printf(b, "%s IN (", col);
	for (size_t i = 0; !rc && i < n; i++)
		rc = sk_buf_puts(b, i ? ",?" : "?");
	return rc ? rc : sk_buf_puts(b, ")");
}

static size_t count(const char *const *l)
{
	size_t n = 0;
	while (l && l[n])
		n++;
	return n;
}

/*
 * The properties the intel pages read, extracted in SQL: parsing every
 * object's whole JSON (the galaxy's descriptions and references, ATT&CK's
 * long texts) cost most of an actor list.  One json_extract with every path
 * (and the first external reference: ATT&CK puts its own id, T1566 or
 * G0007, first; a galaxy actor's ATT&CK ids are among its aliases) parses
 * each object once and answers a JSON array.
 */
static const char *const props[] = {"name",
                                    "aliases",
                                    "threat_actor_types",
                                    "country",
                                    "sectors",
                                    "x_mitre_deprecated",
                                    "x_mitre_is_subtechnique",
                                    "x_mitre_shortname",
                                    "kill_chain_phases",
                                    "tactic_refs",
                                    "identity_class",
                                    NULL};
static sk_err load_objects(in_graph *g, const char *col, const char *const *types, size_t n,
                           bool full, sk_error *err)
{
	sqlite3 *db = sk_store_sqlite(g->st);
	size_t np = count(props);
	sqlite3_stmt *s = NULL;
	sk_buf b;
	sk_err rc;

	if (!n)
		return SK_OK;
	sk_buf_init(&b, 1 << 16);
	rc = sk_buf_puts(&b, "SELECT " IN_SUM_COLS("o"));
	/* one json_extract of every path: SQLite parses each object once */
	if (full && !rc)
		rc = sk_buf_puts(&b, ", json_extract(o.json");
	for (size_t i = 0; full && !rc && i < np; i++)
		rc = sk_buf_printf(&b, ",'$.%s'", props[i]);
	if (full && !rc)
		rc = sk_buf_puts(&b, ",'$.external_references[0].source_name',"
		                     "'$.external_references[0].external_id')");
	if (!rc)
		rc = sk_buf_puts(&b, " FROM objects o WHERE ");
	if (!rc)
		rc = add_in(&b, col, n);
	if (!rc)
		rc = sk_buf_puts(&b, " AND " IN_LATEST("o"));
	if (rc) {
		sk_buf_free(&b);
		return sk_error_set(err, rc, "query too long");
	}
	if (sqlite3_prepare_v2(db, b.data, (int)b.len, &s, NULL) != SQLITE_OK) {
		sk_buf_free(&b);
		return sk_store_dberr(g->st, err, "intel: load objects");
	}
	sk_buf_free(&b);
	for (size_t i = 0; i < n; i++)
		sqlite3_bind_text(s, (int)i + 1, types[i], -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		if (sqlite3_column_int(s, 5)) /* revoked */
			continue;
		if (full) {
			json_t *o = json_object(), *v;
			json_t *vals = json_loadb((const char *)sqlite3_column_text(s, 6),
			                          (size_t)sqlite3_column_bytes(s, 6), 0, NULL);
			for (size_t i = 0; i < np; i++)
				if ((v = json_array_get(vals, i)) && !json_is_null(v))
					json_object_set(o, props[i], v);
			if (json_is_string(json_array_get(vals, np + 1)))
				json_object_set_new(o, "external_references",
				                    json_pack("[{s:O, s:O}]", "source_name",
				                              json_array_get(vals, np),
				                              "external_id",
				                              json_array_get(vals, np + 1)));
			json_decref(vals);
			if (json_is_true(json_object_get(o, "x_mitre_deprecated")) ||
			    json_integer_value(json_object_get(o, "x_mitre_deprecated"))) {
				json_decref(o);
				continue;
			}
			/* json_extract gives booleans as 1/0 */
			if (json_integer_value(json_object_get(o, "x_mitre_is_subtechnique")))
				json_object_set_new(o, "x_mitre_is_subtechnique", json_true());
			json_object_set_new(o, "id", json_string(id));
			json_object_set_new(g->obj, id, o);
		} else {
			json_object_set_new(g->ids, id, json_true());
		}
		json_object_set_new(g->meta, id,
		                    json_pack("{s:i, s:s?, s:s?}", "tlp", sqlite3_column_int(s, 2),
		                              "created_by", (const char *)sqlite3_column_text(s, 3),
		                              "modified", (const char *)sqlite3_column_text(s, 4)));
	}
	sqlite3_finalize(s);
	return SK_OK;
}

static sk_err load_edges(in_graph *g, const char *const *rels, const char *end, const char *id,
                         sk_error *err)
{
	sqlite3 *db = sk_store_sqlite(g->st);
	size_t n = count(rels);
	sqlite3_stmt *s = NULL;
	sk_buf b;
	sk_err rc;

	if (!n)
		return SK_OK;
	sk_buf_init(&b, 1 << 16);
	rc = sk_buf_puts(
	    &b, "SELECT o.src_ref, o.rel_type, o.dst_ref, o.id, o.revoked,"
	        " CASE WHEN o.rel_type<>'uses' THEN json_extract(o.json,'$.confidence') END"
	        " FROM objects o"
	        " WHERE o.type='relationship'"
	        /* uses: only what actors and campaigns use (not malware's techniques) */
	        " AND (o.rel_type<>'uses' OR substr(o.src_ref,1,10) IN"
	        " ('intrusion-','threat-act','campaign--')) AND ");
	if (!rc)
		rc = add_in(&b, "o.rel_type", n);
	if (!rc && end)
		rc = sk_buf_printf(&b, " AND o.%s=?%zu", end, n + 1);
	if (!rc)
		rc = sk_buf_puts(&b, " AND " IN_LATEST("o"));
	if (rc) {
		sk_buf_free(&b);
		return sk_error_set(err, rc, "query too long");
	}
	if (sqlite3_prepare_v2(db, b.data, (int)b.len, &s, NULL) != SQLITE_OK) {
		sk_buf_free(&b);
		return sk_store_dberr(g->st, err, "intel: load relationships");
	}
	sk_buf_free(&b);
	for (size_t i = 0; i < n; i++)
		sqlite3_bind_text(s, (int)i + 1, rels[i], -1, SQLITE_STATIC);
	if (end)
		sqlite3_bind_text(s, (int)n + 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *src = (const char *)sqlite3_column_text(s, 0);
		const char *dst = (const char *)sqlite3_column_text(s, 2);
		in_edge *e;
		json_t *h;
		if (!src || !dst || sqlite3_column_int(s, 4) ||
		    json_object_get(g->edge_ids, (const char *)sqlite3_column_text(s, 3)))
			continue;
		json_object_set_new(g->edge_ids, (const char *)sqlite3_column_text(s, 3),
		                    json_true());
		if (g->ne == g->cap) {
			in_edge *ne =
			    realloc(g->e, (g->cap = g->cap ? g->cap * 2 : 1024) * sizeof(*ne));
			if (!ne) {
				sqlite3_finalize(s);
				return sk_error_set(err, SK_ENOMEM, "out of memory");
			}
			g->e = ne;
		}
		e = &g->e[g->ne];
		e->src = strdup(src);
		e->dst = strdup(dst);
		e->id = strdup((const char *)sqlite3_column_text(s, 3));
		snprintf(e->rel, sizeof(e->rel), "%s", (const char *)sqlite3_column_text(s, 1));
		e->conf =
		    sqlite3_column_type(s, 5) == SQLITE_INTEGER ? sqlite3_column_int(s, 5) : -1;
		h = json_object_get(g->out, src);
		e->next_out = h ? (int)json_integer_value(h) : -1;
		h = json_object_get(g->in, dst);
		e->next_in = h ? (int)json_integer_value(h) : -1;
		json_object_set_new(g->out, src, json_integer((json_int_t)g->ne));
		json_object_set_new(g->in, dst, json_integer((json_int_t)g->ne));
		g->ne++;
	}
	sqlite3_finalize(s);
	return SK_OK;
}

sk_err in_graph_init(in_graph *g, sk_store *st, sk_error *err)
{
	memset(g, 0, sizeof(*g));
	g->st = st;
	g->obj = json_object();
	g->meta = json_object();
	g->ids = json_object();
	g->out = json_object();
	g->in = json_object();
	g->edge_ids = json_object();
	if (!g->obj || !g->meta || !g->ids || !g->out || !g->in || !g->edge_ids)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	return SK_OK;
}

sk_err in_graph_load(in_graph *g, sk_store *st, const char *const *full, const char *const *idonly,
                     const char *const *rel_types, sk_error *err)
{
	sk_err rc;
	if ((rc = in_graph_init(g, st, err)) ||
	    (rc = load_objects(g, "o.type", full, count(full), true, err)) ||
	    (rc = load_objects(g, "o.type", idonly, count(idonly), false, err)))
		return rc;
	return load_edges(g, rel_types, NULL, NULL, err);
}

sk_err in_graph_types(in_graph *g, const char *const *types, sk_error *err)
{
	return load_objects(g, "o.type", types, count(types), true, err);
}

sk_err in_graph_edges(in_graph *g, const char *id, bool out, const char *const *rel_types,
                      sk_error *err)
{
	return load_edges(g, rel_types, out ? "src_ref" : "dst_ref", id, err);
}

sk_err in_graph_ends(in_graph *g, const char *extra, sk_error *err)
{
	const char *ids[100];
	size_t n = 0;
	json_t *want = json_object();
	const char *k;
	json_t *v;
	sk_err rc = SK_OK;

	if (extra && !json_object_get(g->meta, extra))
		json_object_set_new(want, extra, json_true());
	for (size_t i = 0; i < g->ne; i++) {
		if (!json_object_get(g->meta, g->e[i].src))
			json_object_set_new(want, g->e[i].src, json_true());
		if (!json_object_get(g->meta, g->e[i].dst))
			json_object_set_new(want, g->e[i].dst, json_true());
	}
	json_object_foreach(want, k, v)
	{
		ids[n++] = k;
		if (n == sizeof(ids) / sizeof(ids[0])) {
			if ((rc = load_objects(g, "o.id", ids, n, true, err)))
				break;
			n = 0;
		}
	}
	if (!rc && n)
		rc = load_objects(g, "o.id", ids, n, true, err);
	json_decref(want);
	return rc;
}

void in_graph_free(in_graph *g)
{
	for (size_t i = 0; i < g->ne; i++) {
		free(g->e[i].src);
		free(g->e[i].dst);
		free(g->e[i].id);
	}
	free(g->e);
	json_decref(g->obj);
	json_decref(g->meta);
	json_decref(g->ids);
	json_decref(g->out);
	json_decref(g->in);
	json_decref(g->edge_ids);
	memset(g, 0, sizeof(*g));
}

int in_first_out(const in_graph *g, const char *id)
{
	json_t *h = json_object_get(g->out, id);
	return h ? (int)json_integer_value(h) : -1;
}

int in_first_in(const in_graph *g, const char *id)
{
	json_t *h = json_object_get(g->in, id);
	return h ? (int)json_integer_value(h) : -1;
}

static json_t *summary_of(const char *id, const char *type, const char *name, int tlp,
                          const char *by, const char *by_name, const char *modified, bool revoked)
{
	json_t *s = json_pack("{s:s, s:s, s:s?, s:o}", "id", id, "type", type, "name", name, "tlp",
	                      in_tlp_json(tlp));
	json_object_set_new(s, "producer",
	                    by ? json_pack("{s:s, s:s?}", "id", by, "name", by_name) : json_null());
	json_object_set_new(s, "modified", modified ? json_string(modified) : json_null());
	json_object_set_new(s, "revoked", json_boolean(revoked));
	return s;
}

json_t *in_graph_summary(const in_graph *g, const char *id)
{
	json_t *o = json_object_get(g->obj, id), *m = json_object_get(g->meta, id);
	const char *by;
	char type[64];
	if (!m)
		return NULL;
	in_id_type(id, type);
	by = json_string_value(json_object_get(m, "created_by"));
	return summary_of(id, type, o ? in_name(o) : id,
	                  (int)json_integer_value(json_object_get(m, "tlp")), by,
	                  by ? in_name(json_object_get(g->obj, by)) : NULL,
	                  json_string_value(json_object_get(m, "modified")), false);
}

json_t *sk_intel_summary(sk_store *st, const char *id)
{
	static const char sql[] = "SELECT " IN_SUM_COLS(
	    "o") ", o.json,"
	         " (SELECT json_extract(p.json,'$.name') FROM objects p WHERE p.id=o.created_by"
	         "  AND " IN_VIS("p") " ORDER BY p.version DESC LIMIT 1)"
	                              " FROM objects o WHERE o.id=?1 AND " IN_LATEST("o");
	sqlite3_stmt *s = NULL;
	json_t *r = NULL;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), sql, sizeof(sql) - 1, &s, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		json_t *o = json_loadb((const char *)sqlite3_column_text(s, 6),
		                       (size_t)sqlite3_column_bytes(s, 6), 0, NULL);
		r = summary_of((const char *)sqlite3_column_text(s, 0),
		               (const char *)sqlite3_column_text(s, 1), o ? in_name(o) : id,
		               sqlite3_column_int(s, 2), (const char *)sqlite3_column_text(s, 3),
		               (const char *)sqlite3_column_text(s, 7),
		               (const char *)sqlite3_column_text(s, 4), sqlite3_column_int(s, 5));
		json_decref(o);
	}
	sqlite3_finalize(s);
	return r;
}

void in_sectors_of(json_t *identity, json_t *keys)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(identity, "sectors"), i, e)
	{
		for (size_t k = 0; k < SK_SECTOR_COUNT; k++)
			if (sk_sector_has_stix(&sk_sector_table()[k], json_string_value(e)))
				json_object_set_new(keys, sk_sector_table()[k].key, json_true());
	}
}
