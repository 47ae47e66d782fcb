/*
 * dossier_what.c - what the subject did and who was hit (dossier.h): its
 * campaigns, intrusion sets, incidents, reports, malware, tools,
 * infrastructure and techniques (ATT&CK with the tactic matrix of
 * actors.c, DISARM apart); the sightings of its indicators by partner,
 * sector and country; the timeline of timeline.c; and the allies'
 * opinions on its reports, tallied per report version.
 */
#include "dossier_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/timestamp.h"

#define ACTIVITY_MAX 500 /* campaigns and intrusion sets followed */

/* What the relationship scan found: id -> [relationship ids] per kind. */
typedef struct found {
	json_t *campaigns, *sets, *malware, *tools, *techniques, *sw_tech, *infra, *incidents,
	    *targets, *indicators;
} found;

static void add_ev(json_t *kind, const char *id, const char *rel)
{
	json_t *ev = json_object_get(kind, id);
	if (!ev) {
		ev = json_array();
		json_object_set_new(kind, id, ev);
	}
	if (rel && json_array_size(ev) < 8)
		json_array_append_new(ev, json_string(rel));
}

/* Relationships to and from a (latest visible, not revoked), sorted into f. */
static sk_err scan(dz *z, const char *a, found *f, bool ind_only)
{
	static const char sql[] =
	    "SELECT o.id, o.rel_type, o.src_ref, o.dst_ref FROM objects o"
	    " WHERE (o.src_ref=?1 OR o.dst_ref=?1) AND +o.type='relationship' AND o.revoked=0 AND "
	    "" IN_LATEST("o");
	sqlite3_stmt *s = DZ_PREP(z, sql);
	if (!s)
		return SK_EDB;
	sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *rid = (const char *)sqlite3_column_text(s, 0);
		const char *rel = (const char *)sqlite3_column_text(s, 1);
		const char *src = (const char *)sqlite3_column_text(s, 2);
		const char *dst = (const char *)sqlite3_column_text(s, 3);
		bool out = !strcmp(src, a);
		const char *other = out ? dst : src;
		json_t *kind = NULL;
		if (!other)
			continue;
		if (dz_is_type(other, "incident"))
			kind = f->incidents;
		else if (dz_is_type(other, "infrastructure"))
			kind = f->infra;
		else if (!out && !strcmp(rel, "attributed-to") && dz_is_type(other, "campaign"))
			kind = f->campaigns;
		else if (!out && !strcmp(rel, "attributed-to") &&
		         dz_is_type(other, "intrusion-set"))
			kind = f->sets;
		else if (!out && !strcmp(rel, "indicates") && dz_is_type(other, "indicator")) {
			/* many (feeds): their visibility is checked with their sightings */
			add_ev(f->indicators, other, rid);
			continue;
		} else if (out && !strcmp(rel, "uses") && dz_is_type(other, "malware"))
			kind = f->malware;
		else if (out && !strcmp(rel, "uses") && dz_is_type(other, "tool"))
			kind = f->tools;
		else if (out && !strcmp(rel, "uses") && dz_is_type(other, "attack-pattern"))
			kind = ind_only ? f->sw_tech : f->techniques;
		else if (out && !strcmp(rel, "targets"))
			kind = f->targets;
		if (!kind || (ind_only && kind != f->sw_tech) || !dz_prov(z, other))
			continue; /* not part of the dossier, or the other end is not visible */
		add_ev(kind, other, rid);
		dz_prov(z, rid);
	}
	sqlite3_finalize(s);
	return SK_OK;
}

/* A list of items for the ids of kind, each with its relationships as evidence. */
static json_t *items(dz *z, json_t *kind, const char *name)
{
	json_t *r = json_array(), *ev;
	const char *k;
	size_t total = 0;
	json_object_foreach(kind, k, ev)
	{
		json_t *it;
		total++;
		if (json_array_size(r) >= z->max)
			continue;
		if (!(it = dz_item(z, k)))
			continue;
		json_array_extend(json_object_get(it, "evidence"), ev);
		json_array_append_new(r, it);
	}
	dz_cut(z, name, r, total);
	return r;
}

/* Technique details: ATT&CK id, tactics (kill chain phases); NULL if deprecated or revoked. */
static json_t *technique(dz *z, const char *id, bool *disarm)
{
	static const char sql[] =
	    "SELECT json_extract(o.json,'$.kill_chain_phases'),"
	    " json_extract(o.json,'$.external_references[0].external_id'),"
	    " json_extract(o.json,'$.external_references[0].source_name'),"
	    " coalesce(json_extract(o.json,'$.x_mitre_deprecated'),0), o.revoked"
	    " FROM objects o WHERE o.id=?1 AND " IN_LATEST("o");
	sqlite3_stmt *s = DZ_PREP(z, sql);
	json_t *r = NULL;
	if (!s)
		return NULL;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && !sqlite3_column_int(s, 3) &&
	    !sqlite3_column_int(s, 4)) {
		const char *kc = (const char *)sqlite3_column_text(s, 0);
		const char *src = (const char *)sqlite3_column_text(s, 2);
		json_t *phases = kc ? json_loads(kc, 0, NULL) : NULL, *ph, *tac = json_array();
		size_t i;
		*disarm = src && strstr(src, "DISARM");
		json_array_foreach(phases, i, ph)
		{
			const char *chain =
			    json_string_value(json_object_get(ph, "kill_chain_name"));
			const char *p = json_string_value(json_object_get(ph, "phase_name"));
			if (chain && strstr(chain, "disarm"))
				*disarm = true;
			if (p)
				json_array_append_new(tac, json_string(p));
		}
		json_decref(phases);
		r = json_pack("{s:s?, s:o}", "external_id", (const char *)sqlite3_column_text(s, 1),
		              "tactics", tac);
	}
	sqlite3_finalize(s);
	return r;
}

/*
 * The techniques of set (not in skip) into techs (ATT&CK) and disarm (NULL:
 * none kept apart), their tactics into tactics; totals counted past the bound.
 */
static void tech_list(dz *z, json_t *set, json_t *skip, json_t *tactics, json_t *techs,
                      json_t *disarm, size_t *total, size_t *dtotal)
{
	const char *k;
	json_t *v;
	json_object_foreach(set, k, v)
	{
		bool is_disarm = false;
		json_t *t, *it, *tac;
		size_t i;
		if (skip && json_object_get(skip, k))
			continue;
		if (!(t = technique(z, k, &is_disarm)))
			continue;
		if (!disarm)
			is_disarm = false;
		json_array_foreach(json_object_get(t, "tactics"), i, tac)
		{
			if (!is_disarm)
				json_object_set_new(tactics, json_string_value(tac), json_true());
		}
		if (is_disarm ? (*dtotal)++ >= z->max : (*total)++ >= z->max) {
			json_decref(t);
			continue;
		}
		if ((it = dz_item(z, k))) {
			json_object_update(it, t);
			json_array_extend(json_object_get(it, "evidence"), v);
			json_array_append_new(is_disarm ? disarm : techs, it);
		}
		json_decref(t);
	}
}

/* The matrix of actors.c with only the techniques used. */
static json_t *used_matrix(json_t *actor)
{
	json_t *m = json_object_get(actor, "matrix"), *cols = json_array(), *t;
	size_t i, k;
	json_array_foreach(json_object_get(m, "tactics"), i, t)
	{
		json_t *used = json_array(), *e;
		json_array_foreach(json_object_get(t, "techniques"), k, e)
		{
			if (json_is_true(json_object_get(e, "used")))
				json_array_append_new(
				    used,
				    json_pack("{s:O, s:O, s:O}", "id", json_object_get(e, "id"),
				              "external_id", json_object_get(e, "external_id"),
				              "name", json_object_get(e, "name")));
		}
		json_array_append_new(
		    cols, json_pack("{s:O, s:O, s:o}", "shortname", json_object_get(t, "shortname"),
		                    "name", json_object_get(t, "name"), "techniques", used));
	}
	return json_pack("{s:O, s:o}", "name", json_object_get(m, "name"), "tactics", cols);
}

static sk_err reports_of(dz *z, json_t *reports)
{
	static const char sql[] =
	    "SELECT o.id FROM objects o WHERE o.type='report' AND o.revoked=0 AND " IN_LATEST(
	        "o") " AND EXISTS (SELECT 1 FROM json_each(o.json,'$.object_refs') r WHERE "
	             "r.value=?1)";
	const char *a;
	json_t *v;
	json_object_foreach(z->activity, a, v)
	{
		sqlite3_stmt *s = DZ_PREP(z, sql);
		if (!s)
			return SK_EDB;
		sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
		while (sqlite3_step(s) == SQLITE_ROW)
			add_ev(reports, (const char *)sqlite3_column_text(s, 0), NULL);
		sqlite3_finalize(s);
	}
	return SK_OK;
}

sk_err dz_activity(dz *z)
{
	found f;
	json_t *actor = NULL, *act, *reports = json_object(), *techs, *disarm, *tactics;
	const char *k;
	json_t *v;
	sk_err rc = SK_OK;
	size_t done = 0;

	f.campaigns = json_object();
	f.sets = json_object();
	f.malware = json_object();
	f.tools = json_object();
	f.techniques = json_object();
	f.sw_tech = json_object();
	f.infra = json_object();
	f.incidents = json_object();
	f.targets = json_object();
	f.indicators = json_object();
	/* the subject, then what is attributed to it (and to that), breadth first */
	json_object_set_new(z->activity, z->id, json_true());
	while (done < json_object_size(z->activity) && done < ACTIVITY_MAX) {
		size_t i = 0;
		const char *next = NULL;
		json_object_foreach(z->activity, k, v)
		{
			if (i++ == done) {
				next = k;
				break;
			}
		}
		done++;
		if ((rc = scan(z, next, &f, false)))
			goto out;
		json_object_foreach(f.campaigns, k, v)
		{
			json_object_set_new(z->activity, k, json_true());
		}
		json_object_foreach(f.sets, k, v)
		{
			json_object_set_new(z->activity, k, json_true());
		}
	}
	/* the indicators of the software it uses */
	{
		json_t *soft = json_object();
		json_object_update(soft, f.malware);
		json_object_update(soft, f.tools);
		json_object_foreach(soft, k, v)
		{
			if ((rc = scan(z, k, &f, true)))
				break;
		}
		json_decref(soft);
		if (rc)
			goto out;
	}
	if ((rc = reports_of(z, reports)))
		goto out;
	/* the ATT&CK matrix of actors.c (intrusion sets and threat actors) */
	if (!dz_is_type(z->id, "campaign")) {
		sk_error e2;
		if (sk_intel_actor(z->st, z->id, &actor, &e2))
			actor = NULL;
	}
	techs = json_array();
	disarm = json_array();
	tactics = json_object();
	{
		size_t total = 0, dtotal = 0, stotal = 0;
		json_t *sw = json_array(), *swtac = json_object();
		tech_list(z, f.techniques, NULL, tactics, techs, disarm, &total, &dtotal);
		tech_list(z, f.sw_tech, f.techniques, swtac, sw, NULL, &stotal, NULL);
		dz_cut(z, "techniques_via_software", sw, stotal);
		sw = json_pack("{s:I, s:o, s:o}", "count", (json_int_t)stotal, "list", sw,
		               "tactics", swtac);
		dz_cut(z, "techniques", techs, total);
		dz_cut(z, "disarm", disarm, dtotal);
		act = json_object();
		json_object_set_new(act, "campaigns", items(z, f.campaigns, "campaigns"));
		json_object_set_new(act, "intrusion_sets", items(z, f.sets, "intrusion_sets"));
		json_object_set_new(act, "incidents", items(z, f.incidents, "incidents"));
		json_object_set_new(act, "reports", items(z, reports, "reports"));
		json_object_set_new(act, "malware", items(z, f.malware, "malware"));
		json_object_set_new(act, "tools", items(z, f.tools, "tools"));
		json_object_set_new(act, "infrastructure", items(z, f.infra, "infrastructure"));
		json_object_set_new(act, "targets", items(z, f.targets, "targets"));
		json_object_set_new(act, "techniques",
		                    json_pack("{s:I, s:o, s:o}", "count", (json_int_t)total, "list",
		                              techs, "tactics", json_array()));
		json_object_foreach(tactics, k, v)
		{
			json_array_append_new(
			    json_object_get(json_object_get(act, "techniques"), "tactics"),
			    json_string(k));
		}
		json_object_set_new(json_object_get(act, "techniques"), "matrix",
		                    actor ? used_matrix(actor) : json_null());
		/* what its malware and tools do (not counted as its own techniques) */
		{
			json_t *tl = json_array();
			json_object_foreach(json_object_get(sw, "tactics"), k, v)
			{
				json_array_append_new(tl, json_string(k));
			}
			json_object_set_new(sw, "tactics", tl);
			json_object_set_new(json_object_get(act, "techniques"), "via_software", sw);
		}
		json_object_set_new(
		    act, "disarm",
		    json_pack("{s:I, s:o}", "count", (json_int_t)dtotal, "list", disarm));
		json_object_set_new(
		    act, "counts",
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "campaigns",
		              (json_int_t)json_object_size(f.campaigns), "intrusion_sets",
		              (json_int_t)json_object_size(f.sets), "incidents",
		              (json_int_t)json_object_size(f.incidents), "reports",
		              (json_int_t)json_object_size(reports), "malware",
		              (json_int_t)json_object_size(f.malware), "tools",
		              (json_int_t)json_object_size(f.tools), "infrastructure",
		              (json_int_t)json_object_size(f.infra)));
		json_object_set_new(z->d, "activity", act);
	}
	/* the indicators go on to the sightings (dz_impact) */
	z->indicators = json_incref(f.indicators);
	z->targets = json_incref(f.targets);
	json_decref(tactics);
out:
	json_decref(actor);
	json_decref(reports);
	json_decref(f.campaigns);
	json_decref(f.sets);
	json_decref(f.malware);
	json_decref(f.tools);
	json_decref(f.techniques);
	json_decref(f.sw_tech);
	json_decref(f.infra);
	json_decref(f.incidents);
	json_decref(f.targets);
	json_decref(f.indicators);
	return rc;
}
