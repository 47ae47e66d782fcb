/*
 * dossier.c - the attribution dossier (dossier.h, docs/dossier.md): finding
 * the subject, the provenance of every item (producer, signature verdict,
 * where it came from, which partners could not receive it), the
 * attribution chain to a state with the weakest-link confidence and its
 * cycles, and the assembly of the parts the other dossier_*.c modules
 * write.
 */
#include "dossier_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "schakel/sign.h"
#include "schakel/timestamp.h"

#define CHAIN_DEPTH 6      /* attributed-to steps followed from the subject */
#define CHAIN_NODES 64     /* nodes of the chain walked */
#define CHAIN_PATHS 50     /* paths to a state enumerated */
#define CHAIN_STEPS 100000 /* nodes visited by the path walk, at most */

static const char *const statement =
    "This dossier informs a decision; it does not make one. It sets out the evidence this "
    "node holds, its provenance and its gaps; attributing an attack to a State and listing "
    "persons or entities under Council Regulation (EU) 2019/796 are decisions for the "
    "competent authorities.";

bool dz_is_type(const char *id, const char *type)
{
	size_t n = strlen(type);
	return id && !strncmp(id, type, n) && id[n] == '-' && id[n + 1] == '-';
}

void dz_utf8_trim(char *s)
{
	size_t bad;
	if (!sk_utf8_valid(s, strlen(s), &bad))
		s[bad] = 0;
}

sqlite3_stmt *dz_prep(dz *z, const char *sql, size_t len)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(sk_store_sqlite(z->st), sql, (int)len, &s, NULL) != SQLITE_OK) {
		sk_store_dberr(z->st, z->err, "dossier");
		return NULL;
	}
	return s;
}

bool dz_before_since(const dz *z, const char *t)
{
	int64_t us;
	if (!z->since_us || !t)
		return false;
	return sk_ts_parse(t, strlen(t), NULL, &us) && us < z->since_us;
}

void dz_push(dz *z, json_t *list, json_t *v)
{
	if (json_array_size(list) < z->max)
		json_array_append_new(list, v);
	else
		json_decref(v);
}

void dz_cut(dz *z, const char *name, json_t *list, size_t total)
{
	if (total > json_array_size(list))
		json_array_append_new(z->cut, json_pack("{s:s, s:I, s:I}", "list", name, "shown",
		                                        (json_int_t)json_array_size(list), "total",
		                                        (json_int_t)total));
}

json_t *dz_prov(dz *z, const char *id)
{
	static const char sql[] =
	    "SELECT o.ver, o.tlp, o.created_by, o.rx, o.sig,"
	    " (SELECT json_extract(p.json,'$.name') FROM objects p WHERE p.id=o.created_by"
	    "  AND " IN_VIS(
	        "p") " ORDER BY p.version DESC LIMIT 1),"
	             " coalesce((SELECT 'peer '||name FROM peers WHERE 'peer:'||name=o.rx OR"
	             "  identity=o.rx LIMIT 1), (SELECT 'partner '||name FROM partners"
	             "  WHERE identity=o.rx AND pid>0 LIMIT 1))"
	             " FROM objects o WHERE o.id=?1 AND " IN_LATEST("o");
	json_t *p = json_object_get(z->prov, id), *nr;
	sqlite3_stmt *s;
	char vk[32];
	if (p)
		return json_is_null(p) ? NULL : p;
	if (!(s = DZ_PREP(z, sql)))
		return NULL;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		json_object_set_new(z->prov, id, json_null());
		return NULL;
	}
	{
		int64_t ver = sqlite3_column_int64(s, 0);
		int tlp = sqlite3_column_int(s, 1);
		const char *by = (const char *)sqlite3_column_text(s, 2);
		const char *rx = (const char *)sqlite3_column_text(s, 3);
		const char *peer = (const char *)sqlite3_column_text(s, 6);
		const char *own = sk_store_own_id(z->st);
		p = json_pack("{s:I, s:o, s:s}", "ver", (json_int_t)ver, "tlp", in_tlp_json(tlp),
		              "signature",
		              sk_sig_verdict_name((sk_sig_verdict)sqlite3_column_int(s, 4)));
		json_object_set_new(p, "producer",
		                    by ? json_pack("{s:s, s:s?}", "id", by, "name",
		                                   (const char *)sqlite3_column_text(s, 5))
		                       : json_null());
		/* where it came from: made or imported here, or the peer/partner that sent it */
		if (!rx)
			json_object_set_new(p, "from",
			                    json_string(by && own && !strcmp(by, own)
			                                    ? "made here"
			                                    : "imported here"));
		else if (z->o->for_name) /* a releasable version does not name our sources */
			json_object_set_new(p, "from", json_string("received by this node"));
		else
			json_object_set_new(p, "from", json_string(peer ? peer : rx));
		if (z->o->naud) {
			nr = json_array();
			for (size_t i = 0; i < z->o->naud; i++) {
				const sk_dossier_audience *a = &z->o->aud[i];
				if (!a->visible(a->ud, ver, tlp, by, rx))
					json_array_append_new(nr, json_string(a->name));
			}
			json_object_set_new(p, "not_releasable_to", nr);
		}
		if (tlp > z->tlp)
			z->tlp = tlp;
		snprintf(vk, sizeof(vk), "%lld", (long long)ver);
		json_object_set_new(z->vers, vk, json_true());
	}
	sqlite3_finalize(s);
	json_object_set_new(z->refs, id, json_true());
	json_object_set_new(z->prov, id, p);
	return p;
}

json_t *dz_item(dz *z, const char *id)
{
	json_t *p = dz_prov(z, id), *s;
	if (!p || !(s = sk_intel_summary(z->st, id)))
		return NULL;
	json_object_del(s, "producer");
	json_object_del(s, "revoked");
	json_object_set_new(s, "evidence", json_pack("[s]", id));
	json_object_set(s, "provenance", p);
	return s;
}

/* --- the subject ------------------------------------------------------------------ */

static bool subject_type(const char *id)
{
	return dz_is_type(id, "intrusion-set") || dz_is_type(id, "threat-actor") ||
	       dz_is_type(id, "campaign");
}

static int type_rank(const char *id)
{
	return dz_is_type(id, "intrusion-set") ? 0 : dz_is_type(id, "threat-actor") ? 1 : 2;
}

/* The subject's id into *id (malloc'd); also_matched: other objects of the name. */
static sk_err resolve(dz *z, const char *q, char **id, json_t *also)
{
	static const char sql[] =
	    "SELECT o.id FROM objects o WHERE o.type IN ('intrusion-set','threat-actor','campaign')"
	    " AND o.revoked=0 AND (lower(json_extract(o.json,'$.name'))=lower(?1) OR EXISTS"
	    " (SELECT 1 FROM json_each(o.json,'$.aliases') a WHERE lower(a.value)=lower(?1)))"
	    " AND " IN_LATEST("o") " ORDER BY o.id";
	sqlite3_stmt *s;
	json_t *found;
	char *best = NULL;
	int best_rank = 9, ties = 0;
	size_t i;
	json_t *e;

	*id = NULL;
	if (strstr(q, "--")) {
		json_t *sum = subject_type(q) ? sk_intel_summary(z->st, q) : NULL;
		bool ok = sum && !json_is_true(json_object_get(sum, "revoked"));
		json_decref(sum);
		if (!ok)
			return sk_error_set(
			    z->err, SK_ENOTFOUND,
			    "%.120s: no visible intrusion set, threat actor or campaign "
			    "with this id",
			    q);
		*id = strdup(q);
		return *id ? SK_OK : sk_error_set(z->err, SK_ENOMEM, "out of memory");
	}
	if (!(s = DZ_PREP(z, sql)))
		return SK_EDB;
	found = json_array();
	sqlite3_bind_text(s, 1, q, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(found, json_string((const char *)sqlite3_column_text(s, 0)));
	sqlite3_finalize(s);
	json_array_foreach(found, i, e)
	{
		int r = type_rank(json_string_value(e));
		if (r < best_rank) {
			best_rank = r;
			best = (char *)json_string_value(e);
			ties = 1;
		} else if (r == best_rank) {
			ties++;
		}
	}
	if (!best) {
		json_decref(found);
		return sk_error_set(z->err, SK_ENOTFOUND,
		                    "'%.120s': no visible intrusion set, threat actor or campaign "
		                    "has this name or alias",
		                    q);
	}
	if (ties > 1) {
		char list[600] = "";
		size_t n = 0;
		json_array_foreach(found, i, e)
		{
			if (type_rank(json_string_value(e)) == best_rank && n < sizeof(list) - 100)
				n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
				                      n ? ", " : "", json_string_value(e));
		}
		sk_error_set(z->err, SK_EINVAL, "'%.120s' names %d objects; give the id: %s", q,
		             ties, list);
		json_decref(found);
		return SK_EINVAL;
	}
	json_array_foreach(found, i, e)
	{
		if (strcmp(json_string_value(e), best))
			json_array_append(also, e);
	}
	*id = strdup(best);
	json_decref(found);
	return *id ? SK_OK : sk_error_set(z->err, SK_ENOMEM, "out of memory");
}

/* --- the attribution chain ---------------------------------------------------------- */

typedef struct link {
	char *id, *src, *dst, rel[24];
	int conf;
} link;

typedef struct chain {
	link l[CHAIN_NODES * 4];
	size_t nl;
	json_t *nodes; /* id -> {kind, country?} */
	json_t *paths, *cycles;
	unsigned long steps; /* the walk's budget (many parallel links) */
	bool cut;            /* the budget ran out: not every path was seen */
	const char *stack[CHAIN_DEPTH + 2];
	int stack_links[CHAIN_DEPTH + 2];
} chain;

/* What a chain node is: "state-actor", "country", "location", "identity" or "actor". */
static json_t *node_kind(dz *z, const char *id)
{
	static const char sql[] =
	    "SELECT json_extract(o.json,'$.threat_actor_types'), json_extract(o.json,'$.country'),"
	    " json_extract(o.json,'$.identity_class') FROM objects o WHERE o.id=?1 AND " IN_LATEST(
	        "o");
	sqlite3_stmt *s = DZ_PREP(z, sql);
	json_t *r = NULL;
	if (!s)
		return NULL;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *types = (const char *)sqlite3_column_text(s, 0);
		const char *cc = (const char *)sqlite3_column_text(s, 1);
		const char *kind = "actor";
		if (dz_is_type(id, "location"))
			kind = cc ? "country" : "location";
		else if (dz_is_type(id, "identity"))
			kind = "identity";
		else if (types && strstr(types, "\"nation-state\""))
			kind = "state-actor";
		r = json_pack("{s:s, s:s?}", "kind", kind, "country", cc);
	}
	sqlite3_finalize(s);
	return r;
}

static sk_err chain_load(dz *z, chain *c)
{
	static const char sql[] =
	    "SELECT o.id, o.rel_type, o.dst_ref, json_extract(o.json,'$.confidence') FROM objects o"
	    " WHERE o.src_ref=?1 AND +o.type='relationship' AND o.rel_type IN"
	    " ('attributed-to','located-at','originates-from') AND o.revoked=0 AND " IN_LATEST(
	        "o") " ORDER BY o.id";
	const char *queue[CHAIN_NODES];
	size_t qh = 0, qt = 0;
	json_t *k;

	if (!(k = node_kind(z, z->id)))
		return SK_ENOTFOUND;
	json_object_set_new(c->nodes, z->id, k);
	queue[qt++] = json_object_iter_key(json_object_iter_at(c->nodes, z->id));
	while (qh < qt) {
		const char *n = queue[qh++];
		sqlite3_stmt *s = DZ_PREP(z, sql);
		if (!s)
			return SK_EDB;
		sqlite3_bind_text(s, 1, n, -1, SQLITE_STATIC);
		while (sqlite3_step(s) == SQLITE_ROW && c->nl < sizeof(c->l) / sizeof(c->l[0])) {
			const char *dst = (const char *)sqlite3_column_text(s, 2);
			const char *rel = (const char *)sqlite3_column_text(s, 1);
			link *l;
			if (!json_object_get(c->nodes, dst)) {
				json_t *kind = node_kind(z, dst);
				if (!kind)
					continue; /* the other end is not visible */
				json_object_set_new(c->nodes, dst, kind);
				if (!strcmp(rel, "attributed-to") && qt < CHAIN_NODES)
					queue[qt++] = json_object_iter_key(
					    json_object_iter_at(c->nodes, dst));
			}
			l = &c->l[c->nl++];
			l->id = strdup((const char *)sqlite3_column_text(s, 0));
			l->src = strdup(n);
			l->dst = strdup(dst);
			snprintf(l->rel, sizeof(l->rel), "%s", rel);
			l->conf = sqlite3_column_type(s, 3) == SQLITE_INTEGER
			              ? sqlite3_column_int(s, 3)
			              : -1;
		}
		sqlite3_finalize(s);
	}
	return SK_OK;
}

static bool is_state(chain *c, const char *id)
{
	const char *k = json_string_value(json_object_get(json_object_get(c->nodes, id), "kind"));
	return k && (!strcmp(k, "state-actor") || !strcmp(k, "country"));
}

/* Depth-first over attributed-to (and, last step, located-at / originates-from). */
static void walk(chain *c, const char *n, int depth)
{
	if (++c->steps > CHAIN_STEPS) {
		c->cut = true;
		return;
	}
	c->stack[depth] = n;
	if (depth && is_state(c, n) && json_array_size(c->paths) < CHAIN_PATHS) {
		json_t *links = json_array();
		int conf = 101;
		bool unstated = false;
		for (int i = 1; i <= depth; i++) {
			const link *l = &c->l[c->stack_links[i]];
			json_array_append_new(links, json_string(l->id));
			if (l->conf < 0)
				unstated = true;
			else if (l->conf < conf)
				conf = l->conf;
		}
		json_array_append_new(
		    c->paths, json_pack("{s:s, s:o, s:o}", "to", n, "links", links, "confidence",
		                        unstated || conf > 100 ? json_null() : json_integer(conf)));
	}
	if (depth > CHAIN_DEPTH || dz_is_type(n, "location"))
		return;
	for (size_t i = 0; i < c->nl; i++) {
		const link *l = &c->l[i];
		bool on_stack = false;
		if (strcmp(l->src, n))
			continue;
		for (int k = 0; k <= depth; k++)
			on_stack |= !strcmp(c->stack[k], l->dst);
		if (on_stack) {
			if (!strcmp(l->rel, "attributed-to") && json_array_size(c->cycles) < 10) {
				json_t *cy = json_array();
				bool in = false;
				for (int k = 0; k <= depth; k++) {
					in |= !strcmp(c->stack[k], l->dst);
					if (in && k)
						json_array_append_new(
						    cy, json_string(c->l[c->stack_links[k]].id));
				}
				json_array_append_new(cy, json_string(l->id));
				json_array_append_new(c->cycles, cy);
			}
			continue;
		}
		c->stack_links[depth + 1] = (int)i;
		walk(c, l->dst, depth + 1);
	}
}

/*
 * The best path: one that names a country before one that ends at a state
 * actor only; then the highest stated bound before an unstated one.
 */
static json_t *best_path(chain *c)
{
	json_t *best = NULL, *p;
	size_t i;
	int best_country = 0;
	json_array_foreach(c->paths, i, p)
	{
		const char *to = json_string_value(json_object_get(p, "to"));
		int country = dz_is_type(to, "location");
		json_t *cf = json_object_get(p, "confidence");
		json_t *bc = best ? json_object_get(best, "confidence") : NULL;
		if (!best || country > best_country ||
		    (country == best_country && json_is_integer(cf) &&
		     (!json_is_integer(bc) || json_integer_value(cf) > json_integer_value(bc)))) {
			best = p;
			best_country = country;
		}
	}
	return best;
}

static sk_err attribution(dz *z)
{
	chain *c = calloc(1, sizeof(*c));
	json_t *a, *links, *best, *countries, *states;
	const char *result;
	sk_err rc;
	size_t i;

	if (!c)
		return sk_error_set(z->err, SK_ENOMEM, "out of memory");
	c->nodes = json_object();
	c->paths = json_array();
	c->cycles = json_array();
	if ((rc = chain_load(z, c)))
		goto out;
	walk(c, z->id, 0);
	links = json_array();
	for (i = 0; i < c->nl; i++) {
		json_t *it = dz_item(z, c->l[i].id);
		if (!it)
			continue;
		json_object_set_new(it, "from", sk_intel_summary(z->st, c->l[i].src));
		json_object_set_new(it, "relationship_type", json_string(c->l[i].rel));
		json_object_set_new(it, "to", sk_intel_summary(z->st, c->l[i].dst));
		json_object_set_new(it, "confidence",
		                    c->l[i].conf < 0 ? json_null() : json_integer(c->l[i].conf));
		json_object_set_new(z->chain, c->l[i].dst, json_true());
		dz_prov(z, c->l[i].dst);
		json_array_append_new(links, it);
	}
	countries = json_array();
	states = json_array();
	{
		const char *k;
		json_t *v;
		json_object_foreach(c->nodes, k, v)
		{
			const char *kind = json_string_value(json_object_get(v, "kind"));
			json_t *it;
			if (!strcmp(k, z->id) ||
			    (strcmp(kind, "country") && strcmp(kind, "state-actor")))
				continue;
			if (!(it = dz_item(z, k)))
				continue;
			json_object_set(it, "country", json_object_get(v, "country"));
			json_array_append_new(!strcmp(kind, "country") ? countries : states, it);
		}
	}
	best = best_path(c);
	if (best)
		result = "state";
	else if (c->nl)
		result = "partial";
	else
		result = "none";
	a = json_pack("{s:s, s:o, s:O, s:o, s:o, s:O, s:O, s:O}", "result", result, "links", links,
	              "confidence", best ? json_object_get(best, "confidence") : json_null(),
	              "states", states, "countries", countries, "best_path",
	              best ? best : json_null(), "paths", c->paths, "cycles", c->cycles);
	if (c->cut)
		json_array_append_new(z->cut,
		                      json_pack("{s:s, s:I, s:I}", "list", "attribution.paths",
		                                "shown", (json_int_t)json_array_size(c->paths),
		                                "total", (json_int_t)-1));
	json_object_set_new(
	    a, "rule",
	    json_string("A path runs from the subject over attributed-to links to a nation-state "
	                "threat actor or over located-at / originates-from to a country. Its "
	                "confidence is its weakest link (the lowest STIX confidence); a link "
	                "without a stated confidence leaves the path's confidence unstated. The "
	                "best path is one that reaches a country (else a state actor), with the "
	                "highest stated confidence; it gives the dossier's confidence. Cycles of "
	                "attributed-to are reported and not followed."));
	json_object_set_new(
	    a, "explanation",
	    json_string(!strcmp(result, "state") ? "the evidence links the subject to a state"
	                : !strcmp(result, "partial")
	                    ? "the subject is attributed, but no link reaches a state or country"
	                    : "no attribution: the store holds no attributed-to, located-at or "
	                      "originates-from link from the subject"));
	json_object_set_new(z->d, "attribution", a);
out:
	for (i = 0; i < c->nl; i++) {
		free(c->l[i].id);
		free(c->l[i].src);
		free(c->l[i].dst);
	}
	json_decref(c->nodes);
	json_decref(c->paths);
	json_decref(c->cycles);
	free(c);
	return rc;
}

/* --- assembly --------------------------------------------------------------------- */

static sk_err subject(dz *z, json_t *also)
{
	static const char sql[] = "SELECT json_extract(o.json,'$.aliases'),"
	                          " json_extract(o.json,'$.description'),"
	                          " json_extract(o.json,'$.first_seen'),"
	                          " json_extract(o.json,'$.last_seen') FROM objects o"
	                          " WHERE o.id=?1 AND " IN_LATEST("o");
	json_t *s = dz_item(z, z->id);
	sqlite3_stmt *q;
	if (!s)
		return sk_error_set(z->err, SK_ENOTFOUND, "%.120s: not visible", z->id);
	if (!(q = DZ_PREP(z, sql))) {
		json_decref(s);
		return SK_EDB;
	}
	sqlite3_bind_text(q, 1, z->id, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW) {
		const char *al = (const char *)sqlite3_column_text(q, 0);
		json_t *aliases = al ? json_loads(al, 0, NULL) : NULL;
		json_object_set_new(s, "aliases", json_is_array(aliases) ? aliases : json_array());
		if (!json_is_array(aliases))
			json_decref(aliases);
		for (int i = 1; i < 4; i++) {
			static const char *const keys[] = {NULL, "description", "first_seen",
			                                   "last_seen"};
			const char *v = (const char *)sqlite3_column_text(q, i);
			json_object_set_new(s, keys[i], v ? json_string(v) : json_null());
		}
	}
	sqlite3_finalize(q);
	json_object_set_new(s, "also_matched", json_incref(also));
	json_object_set_new(z->d, "subject", s);
	return SK_OK;
}

sk_err sk_dossier_build(sk_store *st, const sk_dossier_opts *o, json_t **out, sk_error *err)
{
	dz z = {0};
	json_t *also = json_array();
	char *id = NULL, now[SK_TS_STR_MAX];
	const char *own = sk_store_own_id(st);
	sk_err rc;

	*out = NULL;
	z.st = st;
	z.o = o;
	z.err = err;
	z.max = o->list_max ? o->list_max : SK_DOSSIER_LIST_MAX;
	if (o->since && !sk_ts_parse(o->since, strlen(o->since), NULL, &z.since_us)) {
		json_decref(also);
		return sk_error_set(err, SK_EINVAL, "--since '%.60s' is not an RFC 3339 time",
		                    o->since);
	}
	if (!o->subject || !*o->subject) {
		json_decref(also);
		return sk_error_set(err, SK_EINVAL, "no subject given");
	}
	if ((rc = resolve(&z, o->subject, &id, also))) {
		json_decref(also);
		return rc;
	}
	z.id = id;
	z.d = json_object();
	z.prov = json_object();
	z.refs = json_object();
	z.vers = json_object();
	z.cut = json_array();
	z.activity = json_object();
	z.chain = json_object();
	z.hit = json_object();
	sk_ts_format_ms(sk_ts_now_us(), now);
	json_object_set_new(z.d, "dossier_version", json_integer(1));
	json_object_set_new(z.d, "generated", json_string(now));
	json_object_set_new(z.d, "node", own ? sk_intel_summary(st, own) : json_null());
	json_object_set_new(z.d, "for", o->for_name ? json_string(o->for_name) : json_null());
	json_object_set_new(z.d, "since", o->since ? json_string(o->since) : json_null());
	json_object_set_new(z.d, "statement", json_string(statement));
	if ((rc = subject(&z, also)) || (rc = attribution(&z)) || (rc = dz_activity(&z)) ||
	    (rc = dz_impact(&z)) || (rc = dz_timeline(&z)) || (rc = dz_opinions(&z)))
		goto out;
	dz_gaps(&z);
	dz_legal(&z);
	dz_listing(&z);
	dz_summary(&z);
	json_object_set_new(z.d, "tlp", in_tlp_json(z.tlp));
	json_object_set_new(z.d, "limits",
	                    json_pack("{s:I, s:O}", "list_max", (json_int_t)z.max, "cut", z.cut));
	{
		json_t *refs = json_array(), *v, *vers = json_array();
		const char *k;
		json_object_foreach(z.refs, k, v)
		{
			json_array_append_new(refs, json_string(k));
		}
		json_object_foreach(z.vers, k, v)
		{
			json_array_append_new(vers, json_integer(strtoll(k, NULL, 10)));
		}
		json_object_set_new(z.d, "evidence",
		                    json_pack("{s:o, s:o}", "ids", refs, "versions", vers));
	}
	*out = z.d;
	z.d = NULL;
out:
	if (rc == SK_ENOTFOUND && !err->msg[0])
		sk_error_set(err, rc, "%.120s: not visible", id);
	json_decref(z.d);
	json_decref(also);
	json_decref(z.prov);
	json_decref(z.refs);
	json_decref(z.vers);
	json_decref(z.cut);
	json_decref(z.activity);
	json_decref(z.chain);
	json_decref(z.indicators);
	json_decref(z.targets);
	json_decref(z.hit);
	free(id);
	return rc;
}

sk_err sk_dossier_versions(const json_t *d, int64_t **vers, size_t *n, sk_error *err)
{
	json_t *a = json_object_get(json_object_get(d, "evidence"), "versions"), *e;
	size_t i;
	*n = 0;
	*vers = malloc((json_array_size(a) + 1) * sizeof(**vers));
	if (!*vers)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	json_array_foreach(a, i, e)
	{
		(*vers)[(*n)++] = json_integer_value(e);
	}
	return SK_OK;
}
