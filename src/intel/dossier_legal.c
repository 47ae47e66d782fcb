/*
 * dossier_legal.c - what the dossier concludes, always from what it shows
 * (dossier.h): the gaps in the evidence, the EU cyber-sanctions test of
 * Council Regulation (EU) 2019/796 point by point (external threat, kind
 * of action, what was affected, the factors of significant effect), the
 * separate part naming persons, entities and infrastructure, and the
 * executive summary.  Everything here reads the dossier already built, so
 * a releasable version's conclusions rest on the releasable evidence only.
 */
#include "dossier_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const eu[] = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR",
                                 "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL",
                                 "PL", "PT", "RO", "SK", "SI", "ES", "SE", NULL};

static bool in_eu(const char *cc)
{
	for (size_t i = 0; cc && eu[i]; i++)
		if (!strcasecmp(cc, eu[i]))
			return true;
	return false;
}

static json_t *get(json_t *o, const char *a, const char *b)
{
	return json_object_get(json_object_get(o, a), b);
}

/* --- gaps ----------------------------------------------------------------------- */

static json_int_t producers_of_link(dz *z, json_t *l)
{
	static const char sql[] =
	    "SELECT count(DISTINCT coalesce(o.created_by,'')) FROM objects o WHERE o.src_ref=?1"
	    " AND o.dst_ref=?2 AND o.rel_type=?3 AND o.type='relationship' AND o.revoked=0 AND "
	    "" IN_LATEST("o");
	sqlite3_stmt *s = DZ_PREP(z, sql);
	json_int_t n = 0;
	if (!s)
		return 0;
	sqlite3_bind_text(s, 1, json_string_value(get(l, "from", "id")), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, json_string_value(get(l, "to", "id")), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, json_string_value(json_object_get(l, "relationship_type")), -1,
	                  SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

void dz_gaps(dz *z)
{
	json_t *g = json_object(), *noconf = json_array(), *single = json_array();
	json_t *unsigned_ = json_array(), *producers = json_object(), *l, *p;
	json_t *links = get(z->d, "attribution", "links");
	const char *k;
	size_t i, nuns = 0;

	json_array_foreach(links, i, l)
	{
		json_t *ref =
		    json_pack("{s:O, s:O, s:O, s:O}", "id", json_object_get(l, "id"), "from",
		              get(l, "from", "name"), "relationship_type",
		              json_object_get(l, "relationship_type"), "to", get(l, "to", "name"));
		if (json_is_null(json_object_get(l, "confidence")))
			json_array_append(noconf, ref);
		if (producers_of_link(z, l) <= 1)
			json_array_append(single, ref);
		json_decref(ref);
	}
	json_object_foreach(z->prov, k, p)
	{
		const char *sig = json_string_value(json_object_get(p, "signature"));
		json_t *by = json_object_get(p, "producer");
		if (json_is_null(p))
			continue;
		json_object_set_new(producers,
		                    json_is_object(by)
		                        ? json_string_value(json_object_get(by, "id"))
		                        : "(no producer)",
		                    json_true());
		if (sig && strcmp(sig, "verified")) {
			nuns++;
			dz_push(z, unsigned_,
			        json_pack("{s:s, s:s, s:O}", "id", k, "signature", sig, "producer",
			                  by));
		}
	}
	dz_cut(z, "gaps.unsigned_or_unverified", unsigned_, nuns);
	json_object_set_new(g, "links_without_confidence", noconf);
	json_object_set_new(g, "single_source_links", single);
	json_object_set_new(g, "single_source", json_boolean(json_object_size(producers) <= 1));
	json_object_set_new(g, "producers", json_integer((json_int_t)json_object_size(producers)));
	json_object_set_new(g, "unsigned_or_unverified",
	                    json_pack("{s:I, s:o}", "count", (json_int_t)nuns, "list", unsigned_));
	json_object_set_new(
	    g, "indicators_never_sighted",
	    json_incref(get(json_object_get(z->d, "impact"), "never_sighted", "count")));
	json_object_set_new(g, "attributed_to_cycles",
	                    json_incref(get(z->d, "attribution", "cycles")));
	json_object_set_new(
	    g, "no_state",
	    json_boolean(strcmp(json_string_value(get(z->d, "attribution", "result")), "state") !=
	                 0));
	json_decref(producers);
	json_object_set_new(z->d, "gaps", g);
}

/* --- the legal test (Reg. (EU) 2019/796, Art. 1 and 2) --------------------------------- */

static json_t *criterion(const char *key, const char *text, const char *status, json_t *supports,
                         const char *missing)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:s?}", "key", key, "criterion", text, "status",
	                 status, "supports", supports, "missing", missing);
}

/* Does the technique list hold a tactic or an ATT&CK id (prefix)? */
static bool has_tactic(json_t *tactics, const char *t)
{
	size_t i;
	json_t *e;
	json_array_foreach(tactics, i, e)
	{
		if (json_string_value(e) && !strcmp(json_string_value(e), t))
			return true;
	}
	return false;
}

static void tech_hits(json_t *list, const char *const *ids, json_t *into)
{
	size_t i;
	json_t *t;
	json_array_foreach(list, i, t)
	{
		const char *x = json_string_value(json_object_get(t, "external_id"));
		for (size_t k = 0; x && ids[k]; k++)
			if (!strncmp(x, ids[k], strlen(ids[k])))
				json_array_append_new(
				    into,
				    json_pack("{s:O, s:O, s:O}", "id", json_object_get(t, "id"),
				              "external_id", json_object_get(t, "external_id"),
				              "name", json_object_get(t, "name")));
	}
}

static json_t *external_threat(dz *z)
{
	json_t *sup = json_array(), *c, *a = json_object_get(z->d, "attribution");
	size_t i;
	bool outside = false, inside = false;
	json_array_foreach(json_object_get(a, "countries"), i, c)
	{
		const char *cc = json_string_value(json_object_get(c, "country"));
		json_array_append_new(sup, json_pack("{s:s, s:O, s:O, s:b}", "what", "location",
		                                     "name", json_object_get(c, "name"), "id",
		                                     json_object_get(c, "id"), "outside_union",
		                                     !in_eu(cc)));
		outside |= cc && !in_eu(cc);
		inside |= in_eu(cc);
	}
	json_array_foreach(json_object_get(a, "states"), i, c)
	{
		json_array_append_new(sup, json_pack("{s:s, s:O, s:O}", "what", "state actor",
		                                     "name", json_object_get(c, "name"), "id",
		                                     json_object_get(c, "id")));
	}
	return criterion(
	    "external_threat",
	    "carried out from outside the Union, using infrastructure outside it, or by or with "
	    "the "
	    "support, direction or control of someone outside it (Art. 1(2))",
	    outside                ? "supported"
	    : json_array_size(sup) ? "partly"
	                           : "not shown",
	    sup,
	    outside  ? (json_is_null(json_object_get(a, "confidence"))
	                    ? "the confidence of the chain is not stated"
	                    : NULL)
	    : inside ? "the locations linked are inside the Union"
	             : "no located-at / originates-from link to a country outside the Union");
}

static json_t *kind_of_action(dz *z)
{
	static const char *const access[] = {"initial-access",   "credential-access",
	                                     "persistence",      "privilege-escalation",
	                                     "lateral-movement", NULL};
	static const char *const sys[] = {"T1489", "T1490", "T1495", "T1498", "T1499", "T1529",
	                                  "T1561", "T0813", "T0816", "T0826", NULL};
	static const char *const data[] = {"T1485", "T1486", "T1491", "T1565", "T1561", NULL};
	static const char *const intercept[] = {"T1040", "T1557", "T1114", "T1111", "T1056", NULL};
	json_t *t = get(z->d, "activity", "techniques");
	json_t *sw = json_object_get(t, "via_software");
	/* its own techniques and those of its malware and tools */
	json_t *tac = json_copy(json_object_get(t, "tactics")),
	       *list = json_copy(json_object_get(t, "list"));
	json_t *r = json_array(), *hits, *res;
	bool any = false;

	json_array_extend(tac, json_object_get(sw, "tactics"));
	json_array_extend(list, json_object_get(sw, "list"));

	hits = json_array();
	for (size_t i = 0; access[i]; i++)
		if (has_tactic(tac, access[i]))
			json_array_append_new(hits, json_string(access[i]));
	any |= json_array_size(hits) > 0;
	json_array_append_new(r, json_pack("{s:s, s:s, s:o}", "action",
	                                   "access to information systems (Art. 1(3)(a))", "status",
	                                   json_array_size(hits) ? "supported" : "not shown",
	                                   "tactics", hits));
	hits = json_array();
	tech_hits(list, sys, hits);
	any |= json_array_size(hits) > 0;
	json_array_append_new(r,
	                      json_pack("{s:s, s:s, s:o}", "action",
	                                "information system interference (Art. 1(3)(b))", "status",
	                                json_array_size(hits)       ? "supported"
	                                : has_tactic(tac, "impact") ? "partly"
	                                                            : "not shown",
	                                "techniques", hits));
	hits = json_array();
	tech_hits(list, data, hits);
	any |= json_array_size(hits) > 0;
	json_array_append_new(
	    r, json_pack("{s:s, s:s, s:o}", "action", "data interference (Art. 1(3)(c))", "status",
	                 json_array_size(hits) ? "supported" : "not shown", "techniques", hits));
	hits = json_array();
	tech_hits(list, intercept, hits);
	if (has_tactic(tac, "collection"))
		json_array_append_new(hits, json_pack("{s:s}", "tactic", "collection"));
	any |= json_array_size(hits) > 0;
	json_array_append_new(
	    r, json_pack("{s:s, s:s, s:o}", "action", "data interception (Art. 1(3)(d))", "status",
	                 json_array_size(hits) ? "supported" : "not shown", "techniques", hits));
	res = json_pack("{s:s, s:s, s:s, s:o, s:s?}", "key", "kind_of_action", "criterion",
	                "the kind of action, from the ATT&CK tactics and techniques seen (its own "
	                "and its malware's and tools')",
	                "status", any ? "supported" : "not shown", "actions", r, "missing",
	                any ? NULL : "no ATT&CK technique of the subject maps onto an action");
	json_decref(tac);
	json_decref(list);
	return res;
}

static json_t *affected(dz *z)
{
	static const struct {
		const char *key, *what;
	} map[] = {{"energy", "critical infrastructure: energy"},
	           {"transport", "critical infrastructure: transport"},
	           {"finance", "banking and financial market infrastructure"},
	           {"health", "health"},
	           {"water", "drinking water supply and distribution"},
	           {"government", "critical State functions"},
	           {"telecom", "critical infrastructure: digital infrastructure"}};
	json_t *cs = get(z->d, "impact", "critical_sectors"), *sup = json_array(), *c;
	size_t i;
	json_array_foreach(cs, i, c)
	{
		for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++)
			if (!strcmp(json_string_value(json_object_get(c, "key")), map[k].key))
				json_array_append_new(
				    sup, json_pack("{s:s, s:O, s:O, s:O}", "what", map[k].what,
				                   "sector", json_object_get(c, "key"), "sighted",
				                   json_object_get(c, "sighted"), "targeted",
				                   json_object_get(c, "targeted")));
	}
	return criterion("affected",
	                 "what was affected: critical infrastructure, essential services, critical "
	                 "State functions, classified information, government emergency response "
	                 "teams (Art. 1(4))",
	                 json_array_size(sup) ? "supported" : "not shown", sup,
	                 json_array_size(sup)
	                     ? "classified information and government emergency response teams: "
	                       "the node cannot know"
	                     : "no sighting or targets relationship in a critical sector");
}

static json_t *factor(const char *f, const char *status, json_t *value, const char *basis)
{
	return json_pack("{s:s, s:s, s:o, s:s}", "factor", f, "status", status, "value",
	                 value ? value : json_null(), "basis", basis);
}

static json_t *significant(dz *z)
{
	json_t *imp = json_object_get(z->d, "impact"), *f = json_array(), *c;
	json_t *tac = get(z->d, "activity", "techniques");
	json_int_t parties = (json_int_t)json_array_size(json_object_get(imp, "by_partner"));
	json_int_t ms = 0;
	size_t i;
	json_array_foreach(json_object_get(imp, "by_country"), i, c)
	{
		ms += in_eu(json_string_value(json_object_get(c, "country")));
	}
	json_array_append_new(
	    f,
	    factor("scope, scale, impact or severity of the disruption",
	           json_integer_value(json_object_get(imp, "sightings")) ? "indicated" : "unknown",
	           json_pack("{s:O, s:O, s:b}", "sightings", json_object_get(imp, "sightings"),
	                     "count", json_object_get(imp, "count"), "impact_tactic",
	                     has_tactic(json_object_get(tac, "tactics"), "impact")),
	           "sightings and the impact tactic; the severity itself is not in the evidence"));
	json_array_append_new(f,
	                      factor("number of natural or legal persons, entities or Member "
	                             "States affected: entities",
	                             parties ? "lower bound" : "unknown", json_integer(parties),
	                             "distinct identities that sighted the subject's indicators"));
	json_array_append_new(f, factor("number of Member States concerned",
	                                ms ? "lower bound" : "unknown", json_integer(ms),
	                                "countries in the Union of those that sighted"));
	json_array_append_new(
	    f, factor("economic loss caused", "unknown", NULL, "the node holds no loss figures"));
	json_array_append_new(f, factor("economic benefit gained by the perpetrator", "unknown",
	                                NULL, "the node holds no such figures"));
	json_array_append_new(
	    f, factor("amount or nature of data stolen",
	              has_tactic(json_object_get(tac, "tactics"), "exfiltration") ? "possible"
	                                                                          : "unknown",
	              NULL, "the exfiltration tactic among the techniques; amounts are unknown"));
	json_array_append_new(
	    f, factor("nature of commercially sensitive data accessed",
	              has_tactic(json_object_get(tac, "tactics"), "collection") ? "possible"
	                                                                        : "unknown",
	              NULL, "the collection tactic among the techniques; the data is unknown"));
	{
		bool known = false;
		json_array_foreach(f, i, c)
		{
			known |=
			    strcmp(json_string_value(json_object_get(c, "status")), "unknown") != 0;
		}
		return json_pack(
		    "{s:s, s:s, s:s, s:o, s:s}", "key", "significant_effect", "criterion",
		    "significant or potentially significant effect (Art. 2 factors)", "status",
		    known ? "partly" : "unknown", "factors", f, "missing",
		    "economic loss and gain, and the amounts of data taken, are not in "
		    "the evidence a node holds");
	}
}

void dz_legal(dz *z)
{
	json_object_set_new(
	    z->d, "legal_test",
	    json_pack("{s:s, s:[o, o, o, o], s:s}", "framework",
	              "Council Regulation (EU) 2019/796 and Council Decision (CFSP) 2019/797",
	              "criteria", external_threat(z), kind_of_action(z), affected(z),
	              significant(z), "note",
	              "Each criterion is set against the evidence in this dossier; 'unknown' is "
	              "what this node cannot know. Meeting criteria decides nothing."));
}

/* --- who could be listed ---------------------------------------------------------- */

static json_t *aliases(dz *z, const char *id)
{
	static const char sql[] = "SELECT json_extract(o.json,'$.aliases') FROM objects o"
	                          " WHERE o.id=?1 AND " IN_LATEST("o");
	sqlite3_stmt *s = DZ_PREP(z, sql);
	json_t *r = NULL;
	if (s) {
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_TEXT)
			r = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
		sqlite3_finalize(s);
	}
	return json_is_array(r) ? r : (json_decref(r), json_array());
}

void dz_listing(dz *z)
{
	json_t *people = json_array(), *actors = json_array(), *infra, *v;
	const char *k;
	json_t *all = json_object();
	json_object_set_new(all, z->id, json_true());
	json_object_update(all, z->chain);
	json_object_foreach(all, k, v)
	{
		json_t *it;
		if (!dz_is_type(k, "identity") && !dz_is_type(k, "threat-actor") &&
		    !dz_is_type(k, "intrusion-set"))
			continue;
		if (!(it = dz_item(z, k)))
			continue;
		json_object_set_new(it, "aliases", aliases(z, k));
		dz_push(z, dz_is_type(k, "identity") ? people : actors, it);
	}
	json_decref(all);
	infra = json_deep_copy(get(z->d, "activity", "infrastructure"));
	json_object_set_new(
	    z->d, "listing",
	    json_pack("{s:s, s:o, s:o, s:o}", "note",
	              "Persons, entities and bodies named in the evidence, kept apart from the "
	              "attribution to a State: naming them here proposes no listing.",
	              "persons_and_entities", people, "threat_actors", actors, "infrastructure",
	              infra));
}

/* --- the executive summary ---------------------------------------------------------- */

void dz_summary(dz *z)
{
	json_t *s = json_object_get(z->d, "subject"), *a = json_object_get(z->d, "attribution");
	json_t *imp = json_object_get(z->d, "impact"),
	       *tally = get(z->d, "opinions", "latest_tally");
	json_t *conf = json_object_get(a, "confidence"), *c;
	char who[600], whom[600], since[200], sure[600], agree[300];
	size_t i, n = 0;
	const char *state = NULL;

	snprintf(who, sizeof(who), "%s (%s)", json_string_value(json_object_get(s, "name")),
	         json_string_value(json_object_get(s, "type")));
	json_array_foreach(json_object_get(a, "countries"), i, c)
	{
		if (!state)
			state = json_string_value(json_object_get(c, "name"));
	}
	json_array_foreach(json_object_get(a, "states"), i, c)
	{
		if (!state)
			state = json_string_value(json_object_get(c, "name"));
	}
	n = (size_t)snprintf(whom, sizeof(whom), "%lld sighting(s) by %zu organisation(s)",
	                     (long long)json_integer_value(json_object_get(imp, "sightings")),
	                     json_array_size(json_object_get(imp, "by_partner")));
	json_array_foreach(json_object_get(imp, "critical_sectors"), i, c)
	{
		if (n < sizeof(whom) - 60)
			n += (size_t)snprintf(whom + n, sizeof(whom) - n, "%s%s",
			                      i ? ", " : "; sectors: ",
			                      json_string_value(json_object_get(c, "name")));
	}
	snprintf(since, sizeof(since), "%s",
	         json_string_value(get(z->d, "timeline", "first_seen"))
	             ? json_string_value(get(z->d, "timeline", "first_seen"))
	             : "unknown");
	if (!strcmp(json_string_value(json_object_get(a, "result")), "state"))
		snprintf(sure, sizeof(sure),
		         "attributed to %s; the confidence of the chain is not stated",
		         state ? state : "a state");
	else
		snprintf(sure, sizeof(sure), "%s",
		         json_string_value(json_object_get(a, "explanation")));
	if (json_is_integer(conf)) {
		char num[16];
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(conf));
		snprintf(sure, sizeof(sure),
		         "attributed to %s with confidence %s/100 (weakest link)",
		         state ? state : "a state", num);
	}
	snprintf(agree, sizeof(agree),
	         "%lld agree (%lld strongly), %lld neutral, %lld disagree (%lld strongly)",
	         (long long)(json_integer_value(json_object_get(tally, "agree")) +
	                     json_integer_value(json_object_get(tally, "strongly-agree"))),
	         (long long)json_integer_value(json_object_get(tally, "strongly-agree")),
	         (long long)json_integer_value(json_object_get(tally, "neutral")),
	         (long long)(json_integer_value(json_object_get(tally, "disagree")) +
	                     json_integer_value(json_object_get(tally, "strongly-disagree"))),
	         (long long)json_integer_value(json_object_get(tally, "strongly-disagree")));
	dz_utf8_trim(who);
	dz_utf8_trim(whom);
	dz_utf8_trim(since);
	dz_utf8_trim(sure);
	dz_utf8_trim(agree);
	json_object_set_new(z->d, "executive_summary",
	                    json_pack("{s:s, s:s, s:s, s:s, s:s}", "who", who, "against_whom", whom,
	                              "since_when", since, "how_sure", sure, "who_agrees", agree));
}
