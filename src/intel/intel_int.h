/*
 * intel_int.h - what the intel folder's modules share: the SQL that picks
 * the latest visible version of an object, object summaries, and the
 * in-memory graph of actors, their relationships and the objects around
 * them that actors.c and sectors.c build per call.
 */
#ifndef SCHAKEL_INTEL_INT_H
#define SCHAKEL_INTEL_INT_H

#include <jansson.h>
#include <sqlite3.h>

#include "schakel/intel.h"
#include "store/store_priv.h"

/* o is visible to the bound view */
#define IN_VIS(o) "sk_visible(" o ".ver," o ".tlp," o ".created_by," o ".rx)"
/*
 * o is the latest version of its object that the bound view sees (newest
 * version key, then the last stored on a tie).
 */
#define IN_LATEST(o)                                                                               \
	IN_VIS(o)                                                                                  \
	" AND NOT EXISTS (SELECT 1 FROM objects y WHERE y.id=" o ".id AND (y.version>" o           \
	".version OR (y.version=" o ".version AND y.ver>" o ".ver)) AND " IN_VIS("y") ")"

/* The columns a summary needs, in this order, for row alias o (see in_summary_row). */
#define IN_SUM_COLS(o) o ".id," o ".type," o ".tlp," o ".created_by," o ".modified," o ".revoked"

/* {"level", "label"} of a stored TLP level. */
json_t *in_tlp_json(int tlp);

/* One relationship between two objects, as the graph keeps it. */
typedef struct in_edge {
	char *src, *dst, *id;
	char rel[24];
	int conf; /* -1 = none stated */
	int next_out, next_in;
} in_edge;

/* The graph: visible objects (latest versions, not revoked) and relationships. */
typedef struct in_graph {
	sk_store *st;
	json_t *obj;  /* id -> parsed object (types loaded with their JSON) */
	json_t *meta; /* id -> {"tlp", "created_by", "modified", "revoked"} */
	json_t *ids;  /* id -> true (types loaded as ids only) */
	in_edge *e;
	size_t ne, cap;
	json_t *out, *in; /* id -> first edge index (json integer) */
	json_t *edge_ids; /* relationship id -> true (each loaded once) */
} in_graph;

/*
 * Load into g (zeroed first) the latest visible, unrevoked objects of
 * types full[] with their JSON, of types idonly[] as ids, and the latest
 * visible relationships of rel_types[] (NULL-ended lists).
 */
sk_err in_graph_load(in_graph *g, sk_store *st, const char *const *full, const char *const *idonly,
                     const char *const *rel_types, sk_error *err);
void in_graph_free(in_graph *g);

/* Piecewise loading (a neighbourhood): an empty graph, */
sk_err in_graph_init(in_graph *g, sk_store *st, sk_error *err);
/* the objects of types[] with their properties, */
sk_err in_graph_types(in_graph *g, const char *const *types, sk_error *err);
/* the relationships of rel_types[] out of (out) or into id (each edge once), */
sk_err in_graph_edges(in_graph *g, const char *id, bool out, const char *const *rel_types,
                      sk_error *err);
/* and the objects at the ends of the loaded edges (and extra) not loaded yet. */
sk_err in_graph_ends(in_graph *g, const char *extra, sk_error *err);

/* Edge iteration: first edge index out of / into id (-1 = none); next via e[i].next_out/in. */
int in_first_out(const in_graph *g, const char *id);
int in_first_in(const in_graph *g, const char *id);

/* The type part of an id ("attack-pattern" of "attack-pattern--..."), into out[64]. */
void in_id_type(const char *id, char out[64]);

/* A summary for id from the graph (NULL if the graph has no such object). */
json_t *in_graph_summary(const in_graph *g, const char *id);

/* The display name of an object (its name, else a stand-in). */
const char *in_name(json_t *o);

/* Critical sector keys of an identity's sectors, added to keys (a JSON object used as a set). */
void in_sectors_of(json_t *identity, json_t *keys);

#endif
