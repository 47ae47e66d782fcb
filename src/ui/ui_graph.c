/*
 * ui_graph.c - GET /ui/api/graph?id=ID (docs/console.md): one object and
 * its neighbours, for the graph view: relationships both ways, sightings of
 * it, reports containing it, and what a report or a sighting references.
 * Every node is a summary of a visible version (through the request's
 * view); an edge to a hidden object is left out with the object.  A
 * partner's graph is an exit like an object page: the versions of its nodes
 * and relationship edges go to the audit log before it is sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/ui_data_int.h"

#define GRAPH_MAX_NODES 300

typedef struct graph {
	ui_ctx *c;
	json_t *nodes, *edges, *seen;      /* seen: id -> true */
	int64_t vers[GRAPH_MAX_NODES * 4]; /* versions shown: nodes and relationship edges */
	size_t nv;
} graph;

static void shown(graph *g, int64_t ver)
{
	if (g->nv < sizeof(g->vers) / sizeof(g->vers[0]))
		g->vers[g->nv++] = ver;
}

/* Add id as a node (its summary); false if it is hidden, unknown or the graph is full. */
static bool node(graph *g, const char *id)
{
	json_t *sum;
	int64_t ver = 0;
	if (!id)
		return false;
	if (json_object_get(g->seen, id))
		return true;
	if (json_array_size(g->nodes) >= GRAPH_MAX_NODES || !(sum = ui_summary_ver(g->c, id, &ver)))
		return false;
	shown(g, ver);
	json_object_set_new(g->seen, id, json_true());
	json_array_append_new(g->nodes, sum);
	return true;
}

static void edge(graph *g, const char *id, const char *src, const char *dst, const char *label)
{
	char eid[300];
	if (!id) {
		snprintf(eid, sizeof(eid), "%s>%s", src, dst);
		id = eid;
	}
	json_array_append_new(g->edges, json_pack("{s:s, s:s, s:s, s:s}", "id", id, "source", src,
	                                          "target", dst, "label", label));
}

/* Relationships (and sightings, by dst_ref) touching id. */
static void relations(graph *g, const char *id)
{
	static const char q[] =
	    "SELECT o.id, o.type, o.rel_type, o.src_ref, o.dst_ref, o.ver FROM objects o"
	    " WHERE (o.src_ref=?1 OR o.dst_ref=?1) AND o.type IN ('relationship','sighting') "
	    "AND " UI_VISIBLE " AND " UI_LATEST " ORDER BY o.ver DESC LIMIT ?2";
	sqlite3_stmt *s = ui_stmt(g->c, q);
	if (!s)
		return;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, GRAPH_MAX_NODES * 2);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *rid = ui_col(s, 0), *type = ui_col(s, 1), *src = ui_col(s, 3),
		           *dst = ui_col(s, 4);
		if (type && !strcmp(type, "sighting")) {
			/* the sighting is the node; its edge points at what it sighted */
			if (node(g, rid))
				edge(g, NULL, rid, id, "sighting of");
			continue;
		}
		if (!src || !dst)
			continue;
		if (node(g, !strcmp(src, id) ? dst : src)) {
			edge(g, rid, src, dst, ui_col(s, 2) ? ui_col(s, 2) : "related-to");
			shown(g, sqlite3_column_int64(s, 5));
		}
	}
	ui_stmt_done(g->c, s);
}

static void containing_reports(graph *g, const char *id)
{
	static const char q[] = "SELECT o.id FROM objects o WHERE o.type='report' AND " UI_VISIBLE
	                        " AND " UI_LATEST " AND EXISTS(SELECT 1 FROM"
	                        " json_each(o.json,'$.object_refs') j WHERE j.value=?1)"
	                        " ORDER BY o.ver DESC LIMIT ?2";
	sqlite3_stmt *s = ui_stmt(g->c, q);
	if (!s)
		return;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, GRAPH_MAX_NODES);
	while (sqlite3_step(s) == SQLITE_ROW)
		if (node(g, ui_col(s, 0)))
			edge(g, NULL, ui_col(s, 0), id, "contains");
	ui_stmt_done(g->c, s);
}

/* What the centre references, when it is a report, a sighting, a note, an opinion... */
static void references(graph *g, const char *id)
{
	static const char q[] =
	    "SELECT j.key, j.value FROM objects o, json_each(o.json) p, json_each(p.value) j"
	    " WHERE o.id=?1 AND " UI_VISIBLE " AND p.key IN ('object_refs','where_sighted_refs',"
	    "'observed_data_refs') ORDER BY o.version DESC LIMIT ?2";
	static const char q1[] =
	    "SELECT json_extract(o.json,'$.sighting_of_ref') FROM objects o"
	    " WHERE o.id=?1 AND " UI_VISIBLE " ORDER BY o.version DESC LIMIT 1";
	sqlite3_stmt *s;
	const char *type = strstr(id, "--") ? id : "";

	if (!strncmp(type, "sighting--", 10) && (s = ui_stmt(g->c, q1))) {
		sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) == SQLITE_ROW && ui_col(s, 0)) {
			char *ref = strdup(ui_col(s, 0));
			ui_stmt_done(g->c, s);
			if (ref && node(g, ref))
				edge(g, NULL, id, ref, "sighting of");
			free(ref);
		} else {
			ui_stmt_done(g->c, s);
		}
	}
	if (!(s = ui_stmt(g->c, q)))
		return;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, GRAPH_MAX_NODES);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *ref = ui_col(s, 1);
		if (ref && strcmp(ref, id) && node(g, ref))
			edge(g, NULL, id, ref,
			     !strncmp(id, "sighting--", 10) ? "sighted at" : "refers to");
	}
	ui_stmt_done(g->c, s);
}

void ui_h_graph(ui_ctx *c, char **seg, size_t nseg)
{
	const char *id = ui_param(c, "id");
	graph g = {.c = c};

	(void)seg;
	(void)nseg;
	if (!id || !*id) {
		ui_error(c, 400, "query parameter 'id': the object to draw");
		return;
	}
	g.nodes = json_array();
	g.edges = json_array();
	g.seen = json_object();
	if (!sk_stix_id_valid(id, NULL) || !node(&g, id)) {
		ui_error(c, 404, "no object '%.200s'", id);
		goto out;
	}
	relations(&g, id);
	containing_reports(&g, id);
	references(&g, id);
	if (!ui_audit_exit(c, "console.graph", g.vers, g.nv))
		goto out;
	ui_send_json(c, 200, json_pack("{s:O, s:O}", "nodes", g.nodes, "edges", g.edges));
out:
	json_decref(g.nodes);
	json_decref(g.edges);
	json_decref(g.seen);
}
