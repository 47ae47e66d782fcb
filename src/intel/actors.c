/*
 * actors.c - threat actors and intrusion sets for people (intel.h): their
 * state attribution (the attributed-to chain to a nation-state actor and
 * the countries it is located at or originates from), aliases, campaigns,
 * malware, tools, targeted sectors and the ATT&CK matrix of the techniques
 * they use.  One graph of the visible objects is loaded per call
 * (graph.c); everything else is walking it.
 */
#include "intel_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 3 /* attributed-to steps followed from an actor */

static const char *const list_full[] = {"intrusion-set", "threat-actor", "location", "identity",
                                        NULL};
static const char *const list_ids[] = {"campaign", "malware", "tool", "attack-pattern", NULL};
static const char *const matrix_types[] = {"attack-pattern", "x-mitre-tactic", "x-mitre-matrix",
                                           NULL};
static const char *const rels[] = {"attributed-to", "located-at", "originates-from",
                                   "targets",       "uses",       NULL};

/* What one actor amounts to in the graph. */
typedef struct act {
	json_t *closure;   /* id -> confidence of the chain to it (outward attributed-to) */
	json_t *activity;  /* self and the campaigns / intrusion sets attributed to it */
	json_t *countries; /* code or name -> {code, name, confidence, via} */
	json_t *sectors;   /* key -> true */
	json_t *campaigns, *malware, *tools, *techniques, *targets; /* id -> true */
	json_t *chain; /* edge indices (attribution shown) */
	const char *sponsor;
} act;

static void act_free(act *a)
{
	json_decref(a->closure);
	json_decref(a->activity);
	json_decref(a->countries);
	json_decref(a->sectors);
	json_decref(a->campaigns);
	json_decref(a->malware);
	json_decref(a->tools);
	json_decref(a->techniques);
	json_decref(a->targets);
	json_decref(a->chain);
}

static bool is_type(const char *id, const char *type)
{
	size_t n = strlen(type);
	return id && !strncmp(id, type, n) && id[n] == '-' && id[n + 1] == '-';
}

static bool has_string(json_t *arr, const char *s)
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
	{
		if (json_string_value(e) && !strcmp(json_string_value(e), s))
			return true;
	}
	return false;
}

static bool visible(const in_graph *g, const char *id)
{
	return json_object_get(g->meta, id) || json_object_get(g->ids, id);
}

static int min_conf(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static void analyse(const in_graph *g, const char *self, act *a)
{
	const char *queue[64];
	int depth[64];
	size_t qh = 0, qt = 0;
	const char *k;
	json_t *v;

	memset(a, 0, sizeof(*a));
	a->closure = json_object();
	a->activity = json_object();
	a->countries = json_object();
	a->sectors = json_object();
	a->campaigns = json_object();
	a->malware = json_object();
	a->tools = json_object();
	a->techniques = json_object();
	a->targets = json_object();
	a->chain = json_array();

	/* outward: what it is attributed to, up to MAX_DEPTH steps */
	json_object_set_new(a->closure, self, json_integer(-1));
	queue[qt] = self;
	depth[qt++] = 0;
	while (qh < qt) {
		const char *n = queue[qh];
		int d = depth[qh++];
		int cn = (int)json_integer_value(json_object_get(a->closure, n));
		json_t *o = json_object_get(g->obj, n);
		if (!a->sponsor &&
		    has_string(json_object_get(o, "threat_actor_types"), "nation-state"))
			a->sponsor = n;
		for (int i = in_first_out(g, n); i >= 0; i = g->e[i].next_out) {
			const in_edge *e = &g->e[i];
			if (strcmp(e->rel, "attributed-to") || !visible(g, e->dst) ||
			    json_object_get(a->closure, e->dst) || d >= MAX_DEPTH || qt == 64)
				continue;
			json_object_set_new(a->closure, e->dst,
			                    json_integer(min_conf(cn, e->conf)));
			json_array_append_new(a->chain, json_integer(i));
			queue[qt] = e->dst;
			depth[qt++] = d + 1;
		}
	}
	/* inward: campaigns and intrusion sets attributed to it (and their campaigns) */
	json_object_set_new(a->activity, self, json_true());
	for (int i = in_first_in(g, self); i >= 0; i = g->e[i].next_in) {
		const in_edge *e = &g->e[i];
		if (strcmp(e->rel, "attributed-to") || !visible(g, e->src))
			continue;
		if (is_type(e->src, "campaign")) {
			json_object_set_new(a->activity, e->src, json_true());
		} else if (is_type(e->src, "intrusion-set")) {
			json_object_set_new(a->activity, e->src, json_true());
			json_array_append_new(a->chain, json_integer(i));
			for (int j = in_first_in(g, e->src); j >= 0; j = g->e[j].next_in)
				if (!strcmp(g->e[j].rel, "attributed-to") &&
				    is_type(g->e[j].src, "campaign") && visible(g, g->e[j].src))
					json_object_set_new(a->activity, g->e[j].src, json_true());
		}
	}
	/* countries: located-at / originates-from of every node of the chain */
	json_object_foreach(a->closure, k, v)
	{
		int cn = (int)json_integer_value(v);
		for (int i = in_first_out(g, k); i >= 0; i = g->e[i].next_out) {
			const in_edge *e = &g->e[i];
			json_t *loc, *had;
			const char *cc, *key;
			int c;
			if ((strcmp(e->rel, "located-at") && strcmp(e->rel, "originates-from")) ||
			    !(loc = json_object_get(g->obj, e->dst)) ||
			    !is_type(e->dst, "location"))
				continue;
			cc = json_string_value(json_object_get(loc, "country"));
			key = cc ? cc : e->dst;
			c = min_conf(cn, e->conf);
			had = json_object_get(a->countries, key);
			if (had && (int)json_integer_value(json_object_get(had, "confidence")) >= c)
				continue;
			json_object_set_new(
			    a->countries, key,
			    json_pack(
			        "{s:s?, s:s?, s:o, s:s, s:s?}", "code", cc, "name", in_name(loc),
			        "confidence", c < 0 ? json_null() : json_integer(c), "relationship",
			        e->rel, "via",
			        strcmp(k, self) ? in_name(json_object_get(g->obj, k)) : NULL));
		}
	}
	/* what it and its activity use and target; targets of the chain too */
	json_object_foreach(a->activity, k, v)
	{
		if (is_type(k, "campaign"))
			json_object_set_new(a->campaigns, k, json_true());
	}
	for (int pass = 0; pass < 2; pass++) {
		json_object_foreach(pass ? a->closure : a->activity, k, v)
		{
			for (int i = in_first_out(g, k); i >= 0; i = g->e[i].next_out) {
				const in_edge *e = &g->e[i];
				if (!visible(g, e->dst))
					continue;
				if (!strcmp(e->rel, "uses") && !pass) {
					if (is_type(e->dst, "malware"))
						json_object_set_new(a->malware, e->dst,
						                    json_true());
					else if (is_type(e->dst, "tool"))
						json_object_set_new(a->tools, e->dst, json_true());
					else if (is_type(e->dst, "attack-pattern"))
						json_object_set_new(a->techniques, e->dst,
						                    json_true());
				} else if (!strcmp(e->rel, "targets")) {
					json_t *t = json_object_get(g->obj, e->dst);
					json_object_set_new(a->targets, e->dst, json_true());
					if (is_type(e->dst, "identity"))
						in_sectors_of(t, a->sectors);
				}
			}
		}
	}
}

static json_t *sector_list(json_t *set)
{
	json_t *r = json_array();
	for (size_t k = 0; k < SK_SECTOR_COUNT; k++)
		if (json_object_get(set, sk_sector_table()[k].key))
			json_array_append_new(r, json_string(sk_sector_table()[k].key));
	return r;
}

static json_t *country_list(json_t *set)
{
	json_t *r = json_array(), *v;
	const char *k;
	json_object_foreach(set, k, v)
	{
		json_array_append(r, v);
	}
	return r;
}

/* Does q occur in s, in any case? */
static bool ci_contains(const char *s, const char *q)
{
	size_t n = strlen(q);
	for (; *s; s++)
		if (!strncasecmp(s, q, n))
			return true;
	return n == 0;
}

/* Does text occur (any case) in the name, an alias or an external id of o? */
static bool matches(json_t *o, const char *q)
{
	const char *n = in_name(o);
	size_t i;
	json_t *e;
	if (n && ci_contains(n, q))
		return true;
	json_array_foreach(json_object_get(o, "aliases"), i, e)
	{
		if (json_string_value(e) && ci_contains(json_string_value(e), q))
			return true;
	}
	json_array_foreach(json_object_get(o, "external_references"), i, e)
	{
		const char *x = json_string_value(json_object_get(e, "external_id"));
		if (x && !strcasecmp(x, q))
			return true;
	}
	return false;
}

static int by_name(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "name"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "name"));
	int c = strcasecmp(x ? x : "", y ? y : "");
	return c ? c : strcmp(x ? x : "", y ? y : "");
}

/* Sort an array of objects by their "name" member. */
static void sort_names(json_t *arr)
{
	size_t n = json_array_size(arr);
	json_t **v = n ? malloc(n * sizeof(*v)) : NULL;
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), by_name);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

static json_t *aliases_of(json_t *o)
{
	json_t *a = json_object_get(o, "aliases");
	return json_is_array(a) ? json_copy(a) : json_array();
}

sk_err sk_intel_actors(sk_store *st, const sk_actor_filter *f, json_t **out, sk_error *err)
{
	static const sk_actor_filter none = {0};
	char cc[3] = {0};
	in_graph g;
	json_t *list, *cands, *c;
	const char *id;
	json_t *o;
	json_int_t total = 0;
	size_t i;
	sk_err rc;

	*out = NULL;
	if (!f)
		f = &none;
	if (f->sector && *f->sector && !sk_sector_get(f->sector))
		return sk_error_set(err, SK_EINVAL,
		                    "unknown sector '%.40s' (water, energy, finance, health, "
		                    "government, telecom, transport)",
		                    f->sector);
	if (f->country && *f->country) {
		if (strlen(f->country) != 2 || !isalpha((unsigned char)f->country[0]) ||
		    !isalpha((unsigned char)f->country[1]))
			return sk_error_set(err, SK_EINVAL,
			                    "country '%.40s' is not an ISO 3166-1 alpha-2 code",
			                    f->country);
		cc[0] = (char)toupper((unsigned char)f->country[0]);
		cc[1] = (char)toupper((unsigned char)f->country[1]);
	}
	if ((rc = in_graph_load(&g, st, list_full, list_ids, rels, err))) {
		in_graph_free(&g);
		return rc;
	}
	list = json_array();
	/* the candidates by name first: without a filter only `limit` are analysed */
	cands = json_array();
	json_object_foreach(g.obj, id, o)
	{
		if (!is_type(id, "intrusion-set") && !is_type(id, "threat-actor"))
			continue;
		if (f->q && *f->q && !matches(o, f->q))
			continue;
		json_array_append_new(cands, json_pack("{s:s, s:s}", "id", id, "name", in_name(o)));
	}
	sort_names(cands);
	json_array_foreach(cands, i, c)
	{
		act a;
		json_t *s;
		bool filtered = (f->sector && *f->sector) || cc[0];
		id = json_string_value(json_object_get(c, "id"));
		o = json_object_get(g.obj, id);
		if (!filtered && f->limit && json_array_size(list) >= f->limit) {
			total++;
			continue;
		}
		analyse(&g, id, &a);
		if (f->sector && *f->sector &&
		    !json_object_get(a.sectors, sk_sector_get(f->sector)->key)) {
			act_free(&a);
			continue;
		}
		if (cc[0]) {
			const char *k;
			json_t *v;
			bool hit = false;
			json_object_foreach(a.countries, k, v)
			{
				const char *code = json_string_value(json_object_get(v, "code"));
				hit |= code && !strcasecmp(code, cc);
			}
			if (!hit) {
				act_free(&a);
				continue;
			}
		}
		total++;
		if (f->limit && json_array_size(list) >= f->limit) {
			act_free(&a);
			continue;
		}
		s = in_graph_summary(&g, id);
		json_object_set_new(s, "aliases", aliases_of(o));
		json_object_set_new(s, "countries", country_list(a.countries));
		json_object_set_new(s, "sectors", sector_list(a.sectors));
		json_object_set_new(s, "sponsor",
		                    a.sponsor && strcmp(a.sponsor, id)
		                        ? in_graph_summary(&g, a.sponsor)
		                        : json_null());
		json_object_set_new(s, "campaigns",
		                    json_integer((json_int_t)json_object_size(a.campaigns)));
		json_object_set_new(s, "malware",
		                    json_integer((json_int_t)json_object_size(a.malware)));
		json_object_set_new(s, "tools",
		                    json_integer((json_int_t)json_object_size(a.tools)));
		json_object_set_new(s, "techniques",
		                    json_integer((json_int_t)json_object_size(a.techniques)));
		json_array_append_new(list, s);
		act_free(&a);
	}
	json_decref(cands);
	*out = json_pack("{s:I, s:o}", "total", total, "actors", list);
	in_graph_free(&g);
	return SK_OK;
}

/* --- the ATT&CK matrix ------------------------------------------------------------ */

static const char *attack_id(json_t *o)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(o, "external_references"), i, e)
	{
		const char *sn = json_string_value(json_object_get(e, "source_name"));
		const char *x = json_string_value(json_object_get(e, "external_id"));
		if (sn && x && !strncmp(sn, "mitre-", 6))
			return x;
	}
	return NULL;
}

/* The kill chain name of a matrix's techniques ("mitre-attack" for enterprise). */
static void matrix_chain(json_t *m, char out[64])
{
	const char *x = attack_id(m);
	if (!x || !strcmp(x, "enterprise-attack"))
		snprintf(out, 64, "mitre-attack");
	else
		snprintf(out, 64, "mitre-%s", x);
}

/* The columns for kill chain `chain` and tactic list `tactics` ({shortname, name} objects). */
static json_t *columns(const in_graph *g, const char *chain, json_t *tactics, json_t *used,
                       size_t *nused)
{
	json_t *cols = json_array(), *t, *o;
	json_t *used_parents = json_object();
	const char *id;
	size_t i;

	*nused = 0;
	json_object_foreach(used, id, o)
	{
		const char *x = attack_id(json_object_get(g->obj, id));
		if (x) {
			char p[32];
			snprintf(p, sizeof(p), "%.*s", (int)strcspn(x, "."), x);
			json_object_set_new(used_parents, p, json_true());
		}
	}
	json_array_foreach(tactics, i, t)
	{
		const char *sn = json_string_value(json_object_get(t, "shortname"));
		json_t *techs = json_array();
		json_object_foreach(g->obj, id, o)
		{
			size_t k;
			json_t *ph;
			const char *x;
			bool in = false;
			if (!is_type(id, "attack-pattern") ||
			    json_is_true(json_object_get(o, "x_mitre_is_subtechnique")))
				continue;
			json_array_foreach(json_object_get(o, "kill_chain_phases"), k, ph)
			{
				const char *kc =
				    json_string_value(json_object_get(ph, "kill_chain_name"));
				const char *pn =
				    json_string_value(json_object_get(ph, "phase_name"));
				in |= kc && pn && sn && !strcmp(kc, chain) && !strcmp(pn, sn);
			}
			if (!in)
				continue;
			x = attack_id(o);
			{
				bool u = json_object_get(used, id) ||
				         (x && json_object_get(used_parents, x));
				json_array_append_new(techs,
				                      json_pack("{s:s, s:s?, s:s?, s:b}", "id", id,
				                                "external_id", x, "name",
				                                in_name(o), "used", u));
				*nused += u;
			}
		}
		sort_names(techs);
		json_array_append_new(
		    cols, json_pack("{s:O, s:O, s:o}", "shortname", json_object_get(t, "shortname"),
		                    "name", json_object_get(t, "name"), "techniques", techs));
	}
	json_decref(used_parents);
	return cols;
}

static json_t *matrix(const in_graph *g, json_t *used)
{
	json_t *best = NULL, *o, *tac_by_id = json_object();
	size_t best_used = 0;
	const char *id;

	json_object_foreach(g->obj, id, o)
	{
		if (is_type(id, "x-mitre-tactic"))
			json_object_set_new(tac_by_id, id,
			                    json_pack("{s:O?, s:s?}", "shortname",
			                              json_object_get(o, "x_mitre_shortname"),
			                              "name", in_name(o)));
	}
	json_object_foreach(g->obj, id, o)
	{
		json_t *tactics, *cols, *r;
		char chain[64];
		size_t i, nu;
		if (!is_type(id, "x-mitre-matrix"))
			continue;
		tactics = json_array();
		json_array_foreach(json_object_get(o, "tactic_refs"), i, r)
		{
			json_t *t = json_object_get(tac_by_id, json_string_value(r));
			if (t)
				json_array_append(tactics, t);
		}
		matrix_chain(o, chain);
		cols = columns(g, chain, tactics, used, &nu);
		json_decref(tactics);
		if (!best || nu > best_used) {
			json_decref(best);
			best = json_pack("{s:s, s:s?, s:o}", "matrix", id, "name", in_name(o),
			                 "tactics", cols);
			best_used = nu;
		} else {
			json_decref(cols);
		}
	}
	if (!best) { /* no matrix: the kill chain phases of the attack patterns, as met */
		json_t *tactics = json_array(), *seen = json_object();
		size_t nu;
		json_object_foreach(g->obj, id, o)
		{
			size_t k;
			json_t *ph;
			if (!is_type(id, "attack-pattern"))
				continue;
			json_array_foreach(json_object_get(o, "kill_chain_phases"), k, ph)
			{
				const char *kc =
				    json_string_value(json_object_get(ph, "kill_chain_name"));
				const char *pn =
				    json_string_value(json_object_get(ph, "phase_name"));
				if (!kc || !pn || strcmp(kc, "mitre-attack") ||
				    json_object_get(seen, pn))
					continue;
				json_object_set_new(seen, pn, json_true());
				json_array_append_new(
				    tactics, json_pack("{s:s, s:s}", "shortname", pn, "name", pn));
			}
		}
		best = json_pack("{s:n, s:n, s:o}", "matrix", "name", "tactics",
		                 columns(g, "mitre-attack", tactics, used, &nu));
		json_decref(tactics);
		json_decref(seen);
	}
	json_decref(tac_by_id);
	return best;
}

static json_t *summaries(const in_graph *g, json_t *set)
{
	json_t *r = json_array(), *v;
	const char *k;
	json_object_foreach(set, k, v)
	{
		json_t *s = in_graph_summary(g, k);
		if (s)
			json_array_append_new(r, s);
	}
	sort_names(r);
	return r;
}

/* The description of id's latest visible version (JSON null if none). */
static json_t *description(sk_store *st, const char *id)
{
	static const char sql[] = "SELECT json_extract(o.json,'$.description') FROM objects o"
	                          " WHERE o.id=?1 AND " IN_LATEST("o");
	sqlite3_stmt *s = NULL;
	json_t *r = NULL;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), sql, sizeof(sql) - 1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_TEXT)
			r = json_string((const char *)sqlite3_column_text(s, 0));
	}
	sqlite3_finalize(s);
	return r ? r : json_null();
}

/*
 * Load what one actor's page needs: its relationships both ways, the
 * outward relationships of what it is attributed to (MAX_DEPTH steps), those
 * of the campaigns and intrusion sets attributed to it (and their
 * campaigns), and the objects at their ends; not the whole store.
 */
static sk_err neighbourhood(in_graph *g, const char *self, sk_error *err)
{
	json_t *closure = json_object(), *activity = json_array(), *e;
	const char *queue[64];
	int depth[64];
	size_t qh = 0, qt = 0, i;
	sk_err rc;

	if ((rc = in_graph_edges(g, self, true, rels, err)) ||
	    (rc = in_graph_edges(g, self, false, rels, err)))
		goto out;
	json_object_set_new(closure, self, json_true());
	queue[qt] = self;
	depth[qt++] = 0;
	while (qh < qt) {
		const char *n = queue[qh];
		int d = depth[qh++];
		if (strcmp(n, self) && (rc = in_graph_edges(g, n, true, rels, err)))
			goto out;
		for (int k = in_first_out(g, n); k >= 0; k = g->e[k].next_out) {
			const in_edge *x = &g->e[k];
			if (strcmp(x->rel, "attributed-to") || d >= MAX_DEPTH || qt == 64 ||
			    json_object_get(closure, x->dst))
				continue;
			json_object_set_new(closure, x->dst, json_true());
			queue[qt] = json_object_iter_key(json_object_iter_at(closure, x->dst));
			depth[qt++] = d + 1;
		}
	}
	for (int k = in_first_in(g, self); k >= 0; k = g->e[k].next_in)
		if (!strcmp(g->e[k].rel, "attributed-to") &&
		    (is_type(g->e[k].src, "campaign") || is_type(g->e[k].src, "intrusion-set")))
			json_array_append_new(activity, json_string(g->e[k].src));
	json_array_foreach(activity, i, e)
	{
		const char *a = json_string_value(e);
		if ((rc = in_graph_edges(g, a, true, rels, err)))
			goto out;
		if (is_type(a, "intrusion-set")) {
			json_t *camps = json_array(), *c;
			size_t j;
			if ((rc = in_graph_edges(g, a, false, rels, err)))
				goto out;
			for (int k = in_first_in(g, a); k >= 0; k = g->e[k].next_in)
				if (!strcmp(g->e[k].rel, "attributed-to") &&
				    is_type(g->e[k].src, "campaign"))
					json_array_append_new(camps, json_string(g->e[k].src));
			json_array_foreach(camps, j, c)
			{
				if ((rc = in_graph_edges(g, json_string_value(c), true, rels, err)))
					break;
			}
			json_decref(camps);
			if (rc)
				goto out;
		}
	}
	rc = in_graph_ends(g, self, err);
out:
	json_decref(closure);
	json_decref(activity);
	return rc;
}

sk_err sk_intel_actor(sk_store *st, const char *id, json_t **out, sk_error *err)
{
	in_graph g;
	json_t *o, *r, *attr;
	act a;
	size_t i;
	json_t *e;
	sk_err rc;

	*out = NULL;
	if (!is_type(id, "intrusion-set") && !is_type(id, "threat-actor"))
		return sk_error_set(err, SK_ENOTFOUND, "%.100s: no such actor", id);
	if ((rc = in_graph_init(&g, st, err)) || (rc = in_graph_types(&g, matrix_types, err)) ||
	    (rc = neighbourhood(&g, id, err))) {
		in_graph_free(&g);
		return rc;
	}
	if (!(o = json_object_get(g.obj, id))) {
		in_graph_free(&g);
		return sk_error_set(err, SK_ENOTFOUND, "%.100s: no such actor", id);
	}
	analyse(&g, id, &a);
	r = in_graph_summary(&g, id);
	json_object_set_new(r, "aliases", aliases_of(o));
	json_object_set_new(r, "description", description(st, id));
	attr = json_array();
	json_array_foreach(a.chain, i, e)
	{
		const in_edge *x = &g.e[json_integer_value(e)];
		json_array_append_new(
		    attr, json_pack("{s:s, s:o, s:s, s:o, s:o}", "id", x->id, "from",
		                    in_graph_summary(&g, x->src), "relationship_type", x->rel, "to",
		                    in_graph_summary(&g, x->dst), "confidence",
		                    x->conf < 0 ? json_null() : json_integer(x->conf)));
	}
	json_object_set_new(r, "attribution", attr);
	json_object_set_new(r, "countries", country_list(a.countries));
	json_object_set_new(r, "sponsor",
	                    a.sponsor && strcmp(a.sponsor, id) ? in_graph_summary(&g, a.sponsor)
	                                                       : json_null());
	json_object_set_new(r, "campaigns", summaries(&g, a.campaigns));
	json_object_set_new(r, "malware", summaries(&g, a.malware));
	json_object_set_new(r, "tools", summaries(&g, a.tools));
	json_object_set_new(r, "sectors", sector_list(a.sectors));
	json_object_set_new(r, "targets", summaries(&g, a.targets));
	json_object_set_new(r, "techniques",
	                    json_integer((json_int_t)json_object_size(a.techniques)));
	json_object_set_new(r, "matrix", matrix(&g, a.techniques));
	act_free(&a);
	in_graph_free(&g);
	*out = r;
	return SK_OK;
}
