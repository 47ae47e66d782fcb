/*
 * galaxy.c - MISP galaxy threat-actor clusters into STIX 2.1 (galaxy.h,
 * docs/galaxy.md): threat actors, their country and suspected state
 * sponsor, their target sectors, and joins to the intrusion sets already
 * stored, all produced by one named source and written in one transaction
 * through the store's writer.
 */
#include "schakel/galaxy.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "schakel/intel.h"
#include "schakel/timestamp.h"
#include "schakel/tlp.h"
#include "schakel/uuid.h"
#include "store/store_priv.h"

/* Namespace of the UUIDv5 ids derived for galaxy objects (fixed forever). */
#define GALAXY_NS "4a7c1e52-9d3b-4f86-b0e1-2c5d8a9f6e13"

/* Confidences stated on the relationships made here (docs/galaxy.md). */
#define CONF_SPONSOR_DEFAULT 50 /* cfr-suspected-state-sponsor without attribution-confidence */
#define CONF_COUNTRY         50 /* located-at from meta.country */
#define CONF_JOIN_ID         95 /* joined to an intrusion set by ATT&CK group id */
#define CONF_JOIN_NAME       85 /* ... by the same name */
#define CONF_JOIN_ALIAS      60 /* ... by an alias */

#define MAX_LIST 256 /* aliases, categories, refs kept per cluster */
#define MAX_REFS 64

typedef struct iset {
	char *id, *name;
	json_t *aliases; /* array of strings */
	json_t *gids;    /* ATT&CK external ids */
} iset;

typedef struct gctx {
	sk_store *st;
	const sk_galaxy_opts *o;
	sk_galaxy_stats *stats;
	char source_id[80];
	char ts[SK_TS_STR_MAX];
	int64_t now_us;
	const char *marking;
	iset *isets;
	size_t nisets;
	json_t *done; /* ids written or checked in this import */
	sqlite3_stmt *q_latest;
	char where[512]; /* "FILE: cluster #N 'value' (uuid)" */
} gctx;

/* --- countries -------------------------------------------------------------- */

static const struct {
	const char *code, *name;
} countries[] = {
    {"AE", "United Arab Emirates"},
    {"AF", "Afghanistan"},
    {"AT", "Austria"},
    {"BE", "Belgium"},
    {"BR", "Brazil"},
    {"BY", "Belarus"},
    {"CN", "China"},
    {"DE", "Germany"},
    {"DZ", "Algeria"},
    {"EG", "Egypt"},
    {"ES", "Spain"},
    {"ET", "Ethiopia"},
    {"FR", "France"},
    {"GB", "United Kingdom"},
    {"ID", "Indonesia"},
    {"IL", "Israel"},
    {"IN", "India"},
    {"IQ", "Iraq"},
    {"IR", "Iran"},
    {"IT", "Italy"},
    {"JP", "Japan"},
    {"KE", "Kenya"},
    {"KP", "North Korea"},
    {"KR", "South Korea"},
    {"KZ", "Kazakhstan"},
    {"LB", "Lebanon"},
    {"LY", "Libya"},
    {"MA", "Morocco"},
    {"MY", "Malaysia"},
    {"NG", "Nigeria"},
    {"NL", "Netherlands"},
    {"PK", "Pakistan"},
    {"PS", "Palestine"},
    {"QA", "Qatar"},
    {"RO", "Romania"},
    {"RU", "Russia"},
    {"SA", "Saudi Arabia"},
    {"SG", "Singapore"},
    {"SY", "Syria"},
    {"TN", "Tunisia"},
    {"TR", "Turkey"},
    {"TW", "Taiwan"},
    {"UA", "Ukraine"},
    {"US", "United States"},
    {"UZ", "Uzbekistan"},
    {"VN", "Vietnam"},
};

/* Sponsor names as the galaxy writes them (CFR's), beside the names above. */
static const struct {
	const char *name, *code;
} sponsor_names[] = {
    {"people's republic of china", "CN"},
    {"iran (islamic republic of)", "IR"},
    {"russian federation", "RU"},
    {"korea (democratic people's republic of)", "KP"},
    {"korea (republic of)", "KR"},
    {"united states of america", "US"},
    {"usa", "US"},
    {"viet nam", "VN"},
    {"syrian arab republic", "SY"},
    {"state of palestine", "PS"},
    {"great britain", "GB"},
    {"uk", "GB"},
};

static const char *country_name(const char *cc)
{
	for (size_t i = 0; i < sizeof(countries) / sizeof(countries[0]); i++)
		if (!strcmp(countries[i].code, cc))
			return countries[i].name;
	return NULL;
}

/* The ISO code of a sponsor's name (or code), or NULL if unknown. */
static const char *sponsor_code(const char *s)
{
	static char cc[3];
	if (strlen(s) == 2 && isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1])) {
		cc[0] = (char)toupper((unsigned char)s[0]);
		cc[1] = (char)toupper((unsigned char)s[1]);
		cc[2] = 0;
		return cc;
	}
	for (size_t i = 0; i < sizeof(countries) / sizeof(countries[0]); i++)
		if (!strcasecmp(countries[i].name, s))
			return countries[i].code;
	for (size_t i = 0; i < sizeof(sponsor_names) / sizeof(sponsor_names[0]); i++)
		if (!strcasecmp(sponsor_names[i].name, s))
			return sponsor_names[i].code;
	return NULL;
}

/* --- ids and writing ----------------------------------------------------------- */

static void mkid(const char *type, const char *key, char out[80])
{
	char u[SK_UUID_LEN + 1];
	size_t tn = strlen(type), kn = strlen(key);
	char *b = malloc(tn + kn + 2);
	if (!b) {
		snprintf(out, 80, "%s--00000000-0000-5000-8000-000000000000", type);
		return;
	}
	memcpy(b, type, tn);
	b[tn] = '\n';
	memcpy(b + tn + 1, key, kn + 1);
	sk_uuid_v5(GALAXY_NS, b, tn + 1 + kn, u);
	free(b);
	snprintf(out, 80, "%s--%s", type, u);
}

/* A new object of type with id, produced by the source and marked TLP:CLEAR. */
static json_t *obj_new(gctx *g, const char *type, const char *id)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "spec_version", json_string("2.1"));
	json_object_set_new(o, "id", json_string(id));
	if (strcmp(id, g->source_id))
		json_object_set_new(o, "created_by_ref", json_string(g->source_id));
	json_object_set_new(o, "object_marking_refs", json_pack("[s]", g->marking));
	return o;
}

/*
 * Store o (built without created/modified; stolen) unless its latest stored
 * version has the same content: a new object is created now, a changed one
 * gets a new version with its first created and a later modified.
 */
static sk_err put(gctx *g, json_t *o, sk_error *err)
{
	const char *id = json_string_value(json_object_get(o, "id"));
	sk_err rc = SK_OK;

	if (json_object_get(g->done, id)) {
		json_decref(o);
		return SK_OK;
	}
	json_object_set_new(g->done, id, json_true());
	sqlite3_reset(g->q_latest);
	sqlite3_bind_text(g->q_latest, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(g->q_latest) == SQLITE_ROW) {
		json_t *old = json_loadb((const char *)sqlite3_column_text(g->q_latest, 0),
		                         (size_t)sqlite3_column_bytes(g->q_latest, 0), 0, NULL);
		json_t *created = old ? json_incref(json_object_get(old, "created")) : NULL;
		const char *om = old ? json_string_value(json_object_get(old, "modified")) : NULL;
		int64_t old_us = 0;
		bool same;

		/* before the member (and its string) is deleted below */
		if (om)
			sk_ts_parse(om, strlen(om), NULL, &old_us);
		if (old) {
			json_object_del(old, "created");
			json_object_del(old, "modified");
		}
		same = old && json_equal(old, o);
		json_decref(old);
		sqlite3_reset(g->q_latest);
		if (same) {
			json_decref(created);
			json_decref(o);
			g->stats->unchanged++;
			return SK_OK;
		}
		json_object_set_new(o, "created", created ? created : json_string(g->ts));
		if (old_us >= g->now_us) { /* a later modified than the stored one */
			char t[SK_TS_STR_MAX];
			sk_ts_format_ms(old_us + 1000, t);
			json_object_set_new(o, "modified", json_string(t));
		} else {
			json_object_set_new(o, "modified", json_string(g->ts));
		}
	} else {
		sqlite3_reset(g->q_latest);
		json_object_set_new(o, "created", json_string(g->ts));
		json_object_set_new(o, "modified", json_string(g->ts));
	}
	rc = sk_store_put_json(g->st, g->o->cid, o, err);
	if (rc)
		sk_error_prefix(err, "%s", g->where);
	else
		g->stats->objects++;
	json_decref(o);
	return rc;
}

static sk_err relate(gctx *g, const char *src, const char *type, const char *dst, int conf,
                     const char *desc, sk_error *err)
{
	char key[400], id[80];
	json_t *r;
	snprintf(key, sizeof(key), "%s\n%s\n%s", src, type, dst);
	mkid("relationship", key, id);
	r = obj_new(g, "relationship", id);
	json_object_set_new(r, "relationship_type", json_string(type));
	json_object_set_new(r, "source_ref", json_string(src));
	json_object_set_new(r, "target_ref", json_string(dst));
	if (conf >= 0)
		json_object_set_new(r, "confidence", json_integer(conf));
	if (desc)
		json_object_set_new(r, "description", json_string(desc));
	return put(g, r, err);
}

/* The location of country cc; its id into id. */
static sk_err put_location(gctx *g, const char *cc, char id[80], sk_error *err)
{
	const char *name = country_name(cc);
	json_t *l;
	mkid("location", cc, id);
	l = obj_new(g, "location", id);
	json_object_set_new(l, "name", json_string(name ? name : cc));
	json_object_set_new(l, "country", json_string(cc));
	return put(g, l, err);
}

/* The nation-state threat actor of country cc, located there; its id into id. */
static sk_err put_state(gctx *g, const char *cc, char id[80], sk_error *err)
{
	char loc[80], name[128];
	const char *cn = country_name(cc);
	json_t *t;
	sk_err rc;

	if ((rc = put_location(g, cc, loc, err)))
		return rc;
	mkid("threat-actor", cc, id);
	snprintf(name, sizeof(name), "%s (state)", cn ? cn : cc);
	t = obj_new(g, "threat-actor", id);
	json_object_set_new(t, "name", json_string(name));
	json_object_set_new(t, "threat_actor_types", json_pack("[s]", "nation-state"));
	json_object_set_new(t, "roles", json_pack("[s]", "sponsor"));
	json_object_set_new(t, "resource_level", json_string("government"));
	if ((rc = put(g, t, err)))
		return rc;
	return relate(g, id, "located-at", loc, 100, NULL, err);
}

/* The sector identity (identity_class class) for a MISP target category. */
static sk_err put_sector(gctx *g, const char *cat, char id[80], sk_error *err)
{
	const char *stix = sk_sector_misp_to_stix(cat);
	char key[160], name[192];
	json_t *s;

	if (stix) {
		const char *label = stix;
		for (size_t i = 0; i < SK_SECTOR_COUNT; i++)
			if (!strcmp(sk_sector_table()[i].stix, stix))
				label = sk_sector_table()[i].name;
		snprintf(key, sizeof(key), "stix:%s", stix);
		snprintf(name, sizeof(name), "%s (sector)", label);
		if (!strcmp(stix, "utilities"))
			snprintf(name, sizeof(name), "Utilities (sector)");
	} else {
		size_t n = 0;
		n += (size_t)snprintf(key, sizeof(key), "misp:");
		for (const char *p = cat; *p && n < sizeof(key) - 1; p++)
			key[n++] = (char)tolower((unsigned char)*p);
		key[n] = 0;
		snprintf(name, sizeof(name), "%.160s (sector)", cat);
	}
	mkid("identity", key, id);
	s = obj_new(g, "identity", id);
	json_object_set_new(s, "name", json_string(name));
	json_object_set_new(s, "identity_class", json_string("class"));
	if (stix)
		json_object_set_new(s, "sectors", json_pack("[s]", stix));
	return put(g, s, err);
}

/* --- intrusion sets already stored ------------------------------------------------ */

static void isets_free(gctx *g)
{
	for (size_t i = 0; i < g->nisets; i++) {
		free(g->isets[i].id);
		free(g->isets[i].name);
		json_decref(g->isets[i].aliases);
		json_decref(g->isets[i].gids);
	}
	free(g->isets);
	g->isets = NULL;
	g->nisets = 0;
}

static sk_err isets_load(gctx *g, sk_error *err)
{
	static const char sql[] =
	    "SELECT o.id, o.json FROM objects o WHERE o.type='intrusion-set' AND o.revoked=0"
	    " AND NOT EXISTS (SELECT 1 FROM objects y WHERE y.id=o.id AND y.version>o.version)";
	sqlite3_stmt *s;
	size_t cap = 0;
	sk_err rc = sk_store_stmt_get(g->st, sql, sizeof(sql) - 1, &s, err);
	if (rc)
		return rc;
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *o = json_loadb((const char *)sqlite3_column_text(s, 1),
		                       (size_t)sqlite3_column_bytes(s, 1), 0, NULL);
		json_t *refs, *e;
		size_t i;
		iset *x;
		if (!o || json_is_true(json_object_get(o, "x_mitre_deprecated"))) {
			json_decref(o);
			continue;
		}
		if (g->nisets == cap) {
			iset *n = realloc(g->isets, (cap = cap ? cap * 2 : 256) * sizeof(*n));
			if (!n) {
				json_decref(o);
				sk_store_stmt_put(g->st, s);
				return sk_error_set(err, SK_ENOMEM, "out of memory");
			}
			g->isets = n;
		}
		x = &g->isets[g->nisets++];
		x->id = strdup((const char *)sqlite3_column_text(s, 0));
		x->name = strdup(json_string_value(json_object_get(o, "name"))
		                     ? json_string_value(json_object_get(o, "name"))
		                     : "");
		x->aliases = json_incref(json_object_get(o, "aliases"));
		if (!json_is_array(x->aliases)) {
			json_decref(x->aliases);
			x->aliases = json_array();
		}
		x->gids = json_array();
		refs = json_object_get(o, "external_references");
		json_array_foreach(refs, i, e)
		{
			const char *sn = json_string_value(json_object_get(e, "source_name"));
			const char *xid = json_string_value(json_object_get(e, "external_id"));
			if (sn && xid && !strcmp(sn, "mitre-attack"))
				json_array_append_new(x->gids, json_string(xid));
		}
		json_decref(o);
	}
	sk_store_stmt_put(g->st, s);
	return SK_OK;
}

static bool in_list(json_t *a, const char *s)
{
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e)
	{
		const char *t = json_string_value(e);
		if (t && !strcasecmp(t, s))
			return true;
	}
	return false;
}

/* Is s an ATT&CK group id (G followed by four digits)? */
static bool is_gid(const char *s)
{
	if (strlen(s) != 5 || s[0] != 'G')
		return false;
	for (int i = 1; i < 5; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Join the galaxy actor (name, synonyms, gids) to stored intrusion sets. */
static sk_err join(gctx *g, const char *actor, const char *name, json_t *syn, json_t *gids,
                   sk_error *err)
{
	char desc[512];
	int how;
	bool any = false;
	sk_err rc;

	for (how = 0; how < 3 && !any; how++) {
		for (size_t i = 0; i < g->nisets; i++) {
			iset *x = &g->isets[i];
			size_t k;
			json_t *e;
			bool hit = false;
			if (how == 0) {
				json_array_foreach(gids, k, e)
				{
					hit |= in_list(x->gids, json_string_value(e));
				}
			} else if (how == 1) {
				hit = !strcasecmp(x->name, name);
			} else {
				hit = in_list(x->aliases, name) || in_list(syn, x->name);
				json_array_foreach(syn, k, e)
				{
					if (!hit && !is_gid(json_string_value(e)))
						hit = in_list(x->aliases, json_string_value(e));
				}
			}
			if (!hit)
				continue;
			any = true;
			snprintf(desc, sizeof(desc),
			         "MISP galaxy cluster %.200s joined to %.200s by %s", name, x->name,
			         how == 0   ? "ATT&CK group id"
			         : how == 1 ? "name"
			                    : "alias");
			rc = relate(g, x->id, "attributed-to", actor,
			            how == 0   ? CONF_JOIN_ID
			            : how == 1 ? CONF_JOIN_NAME
			                       : CONF_JOIN_ALIAS,
			            desc, err);
			if (rc)
				return rc;
			if (how == 0)
				g->stats->joins_id++;
			else if (how == 1)
				g->stats->joins_name++;
			else
				g->stats->joins_alias++;
		}
		if (any)
			g->stats->joined++;
	}
	return SK_OK;
}

/* --- clusters ------------------------------------------------------------------------- */

/* Append the strings of v (a string or an array of strings) to list, deduplicated. */
static void add_strings(json_t *list, json_t *v)
{
	size_t i;
	json_t *e;
	if (json_is_string(v)) {
		if (*json_string_value(v) && !in_list(list, json_string_value(v)) &&
		    json_array_size(list) < MAX_LIST)
			json_array_append(list, v);
		return;
	}
	json_array_foreach(v, i, e)
	{
		add_strings(list, json_is_string(e) ? e : NULL);
	}
}

static sk_err cluster(gctx *g, const char *path, size_t idx, json_t *c, sk_error *err)
{
	json_t *meta, *syn, *gids, *cats, *t, *refs, *e, *v;
	const char *value, *uuid, *cc = NULL, *sponsor = NULL, *desc;
	char id[80], loc[80], state[80], sec[80], key[80];
	int conf = CONF_SPONSOR_DEFAULT;
	size_t i;
	sk_err rc = SK_OK;

	if (!json_is_object(c))
		return sk_error_set(err, SK_EINVAL, "%s: cluster #%zu: not a JSON object", path,
		                    idx);
	value = json_string_value(json_object_get(c, "value"));
	uuid = json_string_value(json_object_get(c, "uuid"));
	if (!value || !*value)
		return sk_error_set(err, SK_EINVAL, "%s: cluster #%zu (uuid %.40s): no value", path,
		                    idx, uuid ? uuid : "none");
	if (strlen(value) > 1024)
		return sk_error_set(err, SK_ELIMIT,
		                    "%s: cluster #%zu: value longer than 1024 bytes", path, idx);
	snprintf(g->where, sizeof(g->where), "%.200s: cluster #%zu '%.120s'", path, idx, value);
	if (!uuid || !sk_uuid_valid(uuid, strlen(uuid)))
		return sk_error_set(err, SK_EINVAL, "%s: no valid uuid", g->where);
	meta = json_object_get(c, "meta");
	if (meta && !json_is_object(meta))
		return sk_error_set(err, SK_EINVAL, "%s: meta is not an object", g->where);
	v = json_object_get(meta, "country");
	if (v && !json_is_string(v))
		return sk_error_set(err, SK_EINVAL, "%s: country is not a string", g->where);
	cc = json_string_value(v);
	if (cc && *cc) {
		if (strlen(cc) != 2 || !isupper((unsigned char)cc[0]) ||
		    !isupper((unsigned char)cc[1]))
			return sk_error_set(err, SK_EINVAL,
			                    "%s: bad country code '%.20s' (ISO 3166-1 alpha-2, "
			                    "two capital letters)",
			                    g->where, cc);
	} else {
		cc = NULL;
	}
	sponsor = json_string_value(json_object_get(meta, "cfr-suspected-state-sponsor"));
	v = json_object_get(meta, "attribution-confidence");
	if (v) {
		const char *s = json_string_value(v);
		char *end = NULL;
		long n = s                    ? strtol(s, &end, 10)
		         : json_is_integer(v) ? (long)json_integer_value(v)
		                              : -1;
		if ((s && (end == s || *end)) || n < 0 || n > 100)
			return sk_error_set(err, SK_EINVAL,
			                    "%s: attribution-confidence is not a number 0-100",
			                    g->where);
		conf = (int)n;
	}

	syn = json_array();
	gids = json_array();
	cats = json_array();
	refs = json_array();
	add_strings(syn, json_object_get(meta, "synonyms"));
	json_array_foreach(json_object_get(meta, "name-attribution"), i, e)
	{ /* "NAME:source-uuid" */
		const char *s = json_string_value(e), *colon = s ? strrchr(s, ':') : NULL;
		if (colon && colon > s && (size_t)(colon - s) < 200) {
			json_t *n = json_stringn(s, (size_t)(colon - s));
			if (n)
				add_strings(syn, n);
			json_decref(n);
		}
	}
	json_array_foreach(syn, i, e)
	{
		if (is_gid(json_string_value(e)))
			json_array_append(gids, e);
	}
	add_strings(cats, json_object_get(meta, "cfr-target-category"));
	add_strings(cats, json_object_get(meta, "targeted-sector"));
	add_strings(refs, json_object_get(meta, "refs"));

	/* the threat actor */
	snprintf(key, sizeof(key), "%s", uuid);
	for (char *p = key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	mkid("threat-actor", key, id);
	t = obj_new(g, "threat-actor", id);
	json_object_set_new(t, "name", json_string(value));
	desc = json_string_value(json_object_get(c, "description"));
	if (desc && *desc)
		json_object_set_new(t, "description", json_string(desc));
	{
		json_t *al = json_array();
		json_array_foreach(syn, i, e)
		{
			if (strcasecmp(json_string_value(e), value))
				json_array_append(al, e);
		}
		if (json_array_size(al))
			json_object_set_new(t, "aliases", al);
		else
			json_decref(al);
	}
	{
		json_t *xr = json_array();
		json_array_append_new(
		    xr, json_pack("{s:s, s:s}", "source_name", "misp-galaxy", "external_id", key));
		json_array_foreach(gids, i, e)
		{
			char url[80];
			snprintf(url, sizeof(url), "https://attack.mitre.org/groups/%s/",
			         json_string_value(e));
			json_array_append_new(xr, json_pack("{s:s, s:O, s:s}", "source_name",
			                                    "mitre-attack", "external_id", e, "url",
			                                    url));
		}
		json_array_foreach(refs, i, e)
		{
			if (i >= MAX_REFS)
				break;
			json_array_append_new(xr, json_pack("{s:s, s:O}", "source_name",
			                                    "misp-galaxy-ref", "url", e));
		}
		json_object_set_new(t, "external_references", xr);
	}
	if (json_array_size(cats))
		json_object_set(t, "x_misp_target_categories", cats);
	if (sponsor && *sponsor)
		json_object_set_new(t, "x_misp_suspected_state_sponsor", json_string(sponsor));
	if ((rc = put(g, t, err)))
		goto out;
	g->stats->actors++;

	/* country and sponsor */
	if (cc) {
		if ((rc = put_location(g, cc, loc, err)) ||
		    (rc = relate(g, id, "located-at", loc, CONF_COUNTRY, NULL, err)))
			goto out;
	}
	if (sponsor && *sponsor && strcasecmp(sponsor, "unknown")) {
		const char *scc = sponsor_code(sponsor);
		char scode[3];
		if (!scc)
			scc = cc; /* a name we do not know: the cluster's country */
		if (scc) {
			char d[300];
			snprintf(scode, sizeof(scode), "%s", scc);
			snprintf(d, sizeof(d), "suspected state sponsor (MISP galaxy): %.200s",
			         sponsor);
			if ((rc = put_state(g, scode, state, err)) ||
			    (rc = relate(g, id, "attributed-to", state, conf, d, err)))
				goto out;
			if (!cc && ((rc = put_location(g, scode, loc, err)) ||
			            (rc = relate(g, id, "located-at", loc, conf, NULL, err))))
				goto out;
		}
	}
	/* sectors */
	json_array_foreach(cats, i, e)
	{
		if ((rc = put_sector(g, json_string_value(e), sec, err)) ||
		    (rc = relate(g, id, "targets", sec, -1, NULL, err)))
			goto out;
	}
	rc = join(g, id, value, syn, gids, err);
out:
	json_decref(syn);
	json_decref(gids);
	json_decref(cats);
	json_decref(refs);
	return rc;
}

/* Read a whole file (bounded). */
static sk_err slurp(const char *path, char **out, size_t *len, sk_error *err)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	char *b;
	if (!f)
		return sk_error_set(err, SK_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode)) {
		fclose(f);
		return sk_error_set(err, SK_EIO, "%s: not a regular file", path);
	}
	if ((size_t)sb.st_size > SK_GALAXY_MAX_FILE) {
		fclose(f);
		return sk_error_set(err, SK_ELIMIT, "%s: larger than %zu MiB", path,
		                    SK_GALAXY_MAX_FILE >> 20);
	}
	b = malloc((size_t)sb.st_size + 1);
	if (!b) {
		fclose(f);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	*len = fread(b, 1, (size_t)sb.st_size, f);
	fclose(f);
	b[*len] = 0;
	*out = b;
	return SK_OK;
}

/* One cluster file; in_dir: files that are no threat-actor clusters are skipped. */
static sk_err file(gctx *g, const char *path, bool in_dir, sk_error *err)
{
	char *text = NULL;
	size_t len = 0, i;
	json_error_t je;
	json_t *root, *values, *c;
	const char *type;
	sk_err rc;

	if ((rc = slurp(path, &text, &len, err)))
		return rc;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!root)
		return sk_error_set(err, SK_EJSON,
		                    "%s: malformed JSON at line %d, column %d (offset %d): %s",
		                    path, je.line, je.column, je.position, je.text);
	values = json_object_get(root, "values");
	type = json_string_value(json_object_get(root, "type"));
	if (!json_is_array(values) || !type || strcmp(type, "threat-actor")) {
		const char *why = !json_is_array(values)
		                      ? "no cluster values (a galaxy definition?)"
		                      : "not a threat-actor cluster file";
		if (in_dir) {
			if (g->o->on_skip)
				g->o->on_skip(g->o->ud, path, why);
			json_decref(root);
			return SK_OK;
		}
		/* type points into root: the message first, then root goes */
		rc = sk_error_set(err, SK_EINVAL, "%s: %s (type %s)", path, why,
		                  type ? type : "missing");
		json_decref(root);
		return rc;
	}
	g->stats->files++;
	json_array_foreach(values, i, c)
	{
		if ((rc = cluster(g, path, i, c, err)))
			break;
		g->stats->clusters++;
	}
	json_decref(root);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static sk_err dir(gctx *g, const char *path, sk_error *err)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, plen = strlen(path);
	sk_err rc = SK_OK;

	if (!d)
		return sk_error_set(err, SK_EIO, "%s: %s", path, strerror(errno));
	while (plen > 1 && path[plen - 1] == '/') /* "dir/" names its files "dir/x.json" */
		plen--;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".json") || de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*nn));
			if (!nn) {
				rc = sk_error_set(err, SK_ENOMEM, "out of memory");
				break;
			}
			names = nn;
		}
		if (!(names[n] = malloc(strlen(path) + l + 2))) {
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
			break;
		}
		sprintf(names[n++], "%.*s/%s", (int)plen, path, de->d_name);
	}
	closedir(d);
	if (!rc)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (!rc)
			rc = file(g, names[i], true, err);
		free(names[i]);
	}
	free(names);
	return rc;
}

sk_err sk_galaxy_import(sk_store *st, const char *const *paths, size_t n, const sk_galaxy_opts *o,
                        sk_galaxy_stats *stats, sk_error *err)
{
	static const sk_galaxy_opts none = {0};
	static const char latest[] = "SELECT json FROM objects WHERE id=?1 ORDER BY version DESC, "
	                             "ver DESC LIMIT 1";
	const char *source;
	gctx g;
	json_t *src;
	sk_err rc;

	memset(&g, 0, sizeof(g));
	g.st = st;
	g.o = o ? o : &none;
	g.stats = stats;
	source = g.o->source && *g.o->source ? g.o->source : SK_GALAXY_DEFAULT_SOURCE;
	if (strlen(source) > 256)
		return sk_error_set(err, SK_EINVAL, "source name longer than 256 bytes");
	g.now_us = sk_ts_now_us();
	sk_ts_format_ms(g.now_us, g.ts);
	g.marking = sk_tlp_marking_id(SK_TLP_CLEAR);
	mkid("identity", source, g.source_id);
	g.done = json_object();
	snprintf(g.where, sizeof(g.where), "galaxy import");
	if (sqlite3_prepare_v2(sk_store_sqlite(st), latest, -1, &g.q_latest, NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "galaxy import");
		goto out;
	}
	if ((rc = sk_store_begin(st, err)))
		goto out;
	/* the TLP:CLEAR marking definition and the source's identity */
	sqlite3_bind_text(g.q_latest, 1, g.marking, -1, SQLITE_STATIC);
	if (sqlite3_step(g.q_latest) != SQLITE_ROW) {
		json_t *m = json_loads(sk_tlp_marking_json(SK_TLP_CLEAR), 0, NULL);
		sqlite3_reset(g.q_latest);
		rc = m ? sk_store_put_json(st, 0, m, err)
		       : sk_error_set(err, SK_ENOMEM, "out of memory");
		json_decref(m);
		if (rc)
			goto rollback;
	}
	sqlite3_reset(g.q_latest);
	src = obj_new(&g, "identity", g.source_id);
	json_object_set_new(src, "name", json_string(source));
	json_object_set_new(src, "identity_class", json_string("organization"));
	json_object_set_new(src, "description",
	                    json_string("MISP galaxy clusters imported by schakel galaxy import"));
	if ((rc = put(&g, src, err)) || (rc = isets_load(&g, err)))
		goto rollback;
	for (size_t i = 0; i < n && !rc; i++) {
		struct stat sb;
		if (stat(paths[i], &sb)) {
			rc = sk_error_set(err, SK_EIO, "%s: %s", paths[i], strerror(errno));
			break;
		}
		rc = S_ISDIR(sb.st_mode) ? dir(&g, paths[i], err) : file(&g, paths[i], false, err);
	}
	if (rc)
		goto rollback;
	rc = sk_store_commit(st, err);
	goto out;
rollback:
	sk_store_rollback(st);
out:
	sqlite3_finalize(g.q_latest);
	isets_free(&g);
	json_decref(g.done);
	return rc;
}
