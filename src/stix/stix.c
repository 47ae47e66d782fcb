/*
 * stix.c - STIX object validation.
 *
 * The rules are data where they can be: one table of property kinds that are
 * checked wherever the property appears, and one table of required
 * properties per type and spec version.  The few rules that do not fit a
 * table (malware's name when is_family, location's alternatives, ...) are code.
 */
#include "schakel/stix.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schakel/pattern.h"
#include "schakel/tlp.h"
#include "schakel/uuid.h"

#define SKSTR(v)  sk_json_is((v), SK_JSTRING)
#define SKARR(v)  sk_json_is((v), SK_JARRAY)
#define SKOBJ(v)  sk_json_is((v), SK_JOBJECT)
#define SKTRUE(v) sk_json_is((v), SK_JTRUE)
#define SKINT(v)  sk_json_is((v), SK_JINT)

enum kind { K_STR, K_TS, K_REF, K_REFS, K_BOOL, K_INT, K_STRLIST, K_OBJ, K_LIST, K_NUM };

struct prop_rule {
	const char *name;
	enum kind kind;
	const char *ref_type; /* for K_REF/K_REFS: required id type, or NULL */
	long long min, max;   /* for K_INT */
};

/* Checked wherever they appear, on every type.  Sorted by name (bsearch). */
static const struct prop_rule prop_rules[] = {
    {"confidence", K_INT, NULL, 0, 100},
    {"content", K_STR, NULL, 0, 0},
    {"context", K_STR, NULL, 0, 0},
    {"count", K_INT, NULL, 0, 999999999},
    {"created_by_ref", K_REF, "identity", 0, 0},
    {"definition_type", K_STR, NULL, 0, 0},
    {"description", K_STR, NULL, 0, 0},
    {"extensions", K_OBJ, NULL, 0, 0},
    {"external_references", K_LIST, NULL, 0, 0},
    {"first_observed", K_TS, NULL, 0, 0},
    {"first_seen", K_TS, NULL, 0, 0},
    {"granular_markings", K_LIST, NULL, 0, 0},
    {"is_family", K_BOOL, NULL, 0, 0},
    {"labels", K_STRLIST, NULL, 0, 0},
    {"lang", K_STR, NULL, 0, 0},
    {"last_observed", K_TS, NULL, 0, 0},
    {"last_seen", K_TS, NULL, 0, 0},
    {"latitude", K_NUM, NULL, -90, 90},
    {"longitude", K_NUM, NULL, -180, 180},
    {"name", K_STR, NULL, 0, 0},
    {"number_observed", K_INT, NULL, 1, 999999999},
    {"object_marking_refs", K_REFS, "marking-definition", 0, 0},
    {"object_refs", K_REFS, NULL, 0, 0},
    {"observed_data_refs", K_REFS, "observed-data", 0, 0},
    {"opinion", K_STR, NULL, 0, 0},
    {"pattern", K_STR, NULL, 0, 0},
    {"pattern_type", K_STR, NULL, 0, 0},
    {"published", K_TS, NULL, 0, 0},
    {"relationship_type", K_STR, NULL, 0, 0},
    {"revoked", K_BOOL, NULL, 0, 0},
    {"sighting_of_ref", K_REF, NULL, 0, 0},
    {"source_ref", K_REF, NULL, 0, 0},
    {"start_time", K_TS, NULL, 0, 0},
    {"stop_time", K_TS, NULL, 0, 0},
    {"target_ref", K_REF, NULL, 0, 0},
    {"valid_from", K_TS, NULL, 0, 0},
    {"valid_until", K_TS, NULL, 0, 0},
    {"where_sighted_refs", K_REFS, NULL, 0, 0},
};

/* Required properties by type; spec 0 = both, 20 = 2.0 only, 21 = 2.1 only. */
struct req_rule {
	const char *type;
	int spec;
	const char *props[6];
};

static const struct req_rule req_rules[] = {
    {"indicator", 0, {"pattern", "valid_from"}},
    {"indicator", 21, {"pattern_type"}},
    {"indicator", 20, {"labels"}},
    {"sighting", 0, {"sighting_of_ref"}},
    {"relationship", 0, {"relationship_type", "source_ref", "target_ref"}},
    {"marking-definition", 20, {"definition_type", "definition"}},
    {"identity", 0, {"name"}},
    {"identity", 20, {"identity_class"}},
    {"threat-actor", 0, {"name"}},
    {"threat-actor", 20, {"labels"}},
    {"intrusion-set", 0, {"name"}},
    {"campaign", 0, {"name"}},
    {"malware", 21, {"is_family"}},
    {"malware", 20, {"name", "labels"}},
    {"tool", 0, {"name"}},
    {"tool", 20, {"labels"}},
    {"attack-pattern", 0, {"name"}},
    {"report", 0, {"name", "published", "object_refs"}},
    {"report", 20, {"labels"}},
    {"observed-data", 0, {"first_observed", "last_observed", "number_observed"}},
    {"observed-data", 20, {"objects"}},
    {"note", 0, {"content", "object_refs"}},
    {"opinion", 0, {"opinion", "object_refs"}},
    {"grouping", 0, {"context", "object_refs"}},
    {"vulnerability", 0, {"name"}},
    {"infrastructure", 0, {"name"}},
    {"course-of-action", 0, {"name"}},
    {"incident", 0, {"name"}},
    {"malware-analysis", 0, {"product"}},
    {"language-content", 0, {"object_ref", "object_modified", "contents"}},
    {"extension-definition", 0, {"name", "schema", "version", "extension_types"}},
};

static const char *const sco_types[] = {
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
};

/* (start, end) pairs that must be in order wherever they appear */
static const char *const windows[][2] = {
    {"first_seen", "last_seen"},
    {"first_observed", "last_observed"},
    {"start_time", "stop_time"},
};

static int rule_cmp(const void *key, const void *rule)
{
	return strcmp(key, ((const struct prop_rule *)rule)->name);
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

bool sk_stix_is_sco_type(const char *type)
{
	return in_list(type, sco_types, sizeof(sco_types) / sizeof(sco_types[0]));
}

/* STIX type names: 3-250 chars of [a-z0-9-], no leading/trailing/double hyphen. */
static bool type_name_valid(const char *s, size_t n)
{
	if (n < 3 || n > 250 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (c == '-' && i + 1 < n && s[i + 1] == '-')
			return false;
	}
	return true;
}

bool sk_stix_id_valid(const char *s, const char *type)
{
	const char *sep;
	size_t tlen;

	if (!s)
		return false;
	sep = strstr(s, "--");
	if (!sep)
		return false;
	tlen = (size_t)(sep - s);
	if (!type_name_valid(s, tlen))
		return false;
	if (type && (strlen(type) != tlen || memcmp(s, type, tlen) != 0))
		return false;
	return sk_uuid_valid(sep + 2, strlen(sep + 2));
}

static sk_err bad(sk_error *err, const char *id, const char *fmt, const char *a, const char *b)
{
	char m[400];
	snprintf(m, sizeof(m), fmt, a, b);
	if (id)
		return sk_error_set(err, SK_ESTIX, "%s: %s", id, m);
	return sk_error_set(err, SK_ESTIX, "%s", m);
}

static bool ts_ok(const sk_jval *v)
{
	return SKSTR(v) && sk_ts_parse(sk_json_str(v), v->n, NULL, NULL);
}

static sk_err check_prop(const struct prop_rule *r, const sk_jval *v, const char *id, sk_error *err)
{
	size_t i;
	const sk_jval *e;

	switch (r->kind) {
	case K_STR:
		if (!SKSTR(v))
			return bad(err, id, "property '%s' must be a string%s", r->name, "");
		break;
	case K_TS:
		if (!ts_ok(v))
			return bad(err, id,
			           "property '%s' is not an RFC 3339 UTC timestamp "
			           "(YYYY-MM-DDTHH:MM:SS[.s]Z)%s",
			           r->name, "");
		break;
	case K_REF:
		if (!SKSTR(v) || !sk_stix_id_valid(sk_json_str(v), r->ref_type))
			return bad(err, id, "property '%s' is not a valid %s identifier", r->name,
			           r->ref_type ? r->ref_type : "STIX");
		break;
	case K_REFS:
		if (!SKARR(v))
			return bad(err, id, "property '%s' must be a list of identifiers%s",
			           r->name, "");
		for (i = 0; i < sk_json_len(v); i++) {
			e = sk_json_at(v, i);
			if (!SKSTR(e) || !sk_stix_id_valid(sk_json_str(e), r->ref_type))
				return bad(err, id, "property '%s' holds an invalid %s identifier",
				           r->name, r->ref_type ? r->ref_type : "STIX");
		}
		break;
	case K_BOOL:
		if (!sk_json_is_bool(v))
			return bad(err, id, "property '%s' must be true or false%s", r->name, "");
		break;
	case K_INT:
		if (!SKINT(v) || v->u.i < r->min || v->u.i > r->max) {
			char range[64];
			snprintf(range, sizeof(range), "%lld..%lld", r->min, r->max);
			return bad(err, id, "property '%s' must be an integer in %s", r->name,
			           range);
		}
		break;
	case K_NUM:
		if (!sk_json_is_number(v) || sk_json_number(v) < (double)r->min ||
		    sk_json_number(v) > (double)r->max)
			return bad(err, id, "property '%s' is out of range%s", r->name, "");
		break;
	case K_STRLIST:
		if (!SKARR(v))
			return bad(err, id, "property '%s' must be a list of strings%s", r->name,
			           "");
		for (i = 0; i < sk_json_len(v); i++) {
			e = sk_json_at(v, i);
			if (!SKSTR(e))
				return bad(err, id, "property '%s' must be a list of strings%s",
				           r->name, "");
		}
		break;
	case K_OBJ:
		if (!SKOBJ(v))
			return bad(err, id, "property '%s' must be an object%s", r->name, "");
		break;
	case K_LIST:
		if (!SKARR(v))
			return bad(err, id, "property '%s' must be a list%s", r->name, "");
		break;
	}
	return SK_OK;
}

static sk_err check_granular(const sk_jval *gm, const char *id, bool v21, sk_error *err)
{
	size_t i, j;
	const sk_jval *g, *sel, *s;

	for (i = 0; i < sk_json_len(gm); i++) {
		g = sk_json_at(gm, i);
		const sk_jval *ref = sk_json_get(g, "marking_ref");
		const sk_jval *lang = sk_json_get(g, "lang");
		if (!SKOBJ(g))
			return bad(err, id, "granular_markings entries must be objects%s%s", "",
			           "");
		if (!ref && !(v21 && lang))
			return bad(err, id, "a granular marking needs %s%s",
			           v21 ? "marking_ref or lang" : "marking_ref", "");
		if (ref &&
		    (!SKSTR(ref) || !sk_stix_id_valid(sk_json_str(ref), "marking-definition")))
			return bad(err, id,
			           "granular marking_ref is not a marking-definition id%s%s", "",
			           "");
		sel = sk_json_get(g, "selectors");
		if (!SKARR(sel) || sk_json_len(sel) == 0)
			return bad(err, id,
			           "a granular marking needs a non-empty selectors list%s%s", "",
			           "");
		for (j = 0; j < sk_json_len(sel); j++) {
			s = sk_json_at(sel, j);
			if (!SKSTR(s) || s->n == 0)
				return bad(err, id,
				           "granular marking selectors must be strings%s%s", "",
				           "");
		}
	}
	return SK_OK;
}

static const char *str(const sk_jval *o, const char *k)
{
	return sk_json_str(sk_json_get(o, k));
}

/* --- references and cyber-observables (the checks of the OASIS stix-validator) ------- */

/* The type part of an id into buf, "" if it has none. */
static const char *ref_type(const char *id, char *buf, size_t n)
{
	const char *sep = id ? strstr(id, "--") : NULL;
	size_t l = sep ? (size_t)(sep - id) : 0;
	if (l >= n)
		l = 0;
	memcpy(buf, id ? id : "", l);
	buf[l] = '\0';
	return buf;
}

/* May a relationship's source_ref / target_ref name an object of this type? (SDO or SCO) */
static bool relatable(const char *type)
{
	static const char *const no[] = {"bundle",   "marking-definition", "relationship",
	                                 "sighting", "language-content",   "extension-definition"};
	return !in_list(type, no, sizeof(no) / sizeof(no[0]));
}

/* An address of family af (AF_INET, AF_INET6), with an optional /prefix up to maxp. */
static bool ip_ok(const char *v, size_t n, int af, long maxp)
{
	char buf[80];
	unsigned char addr[16];
	const char *slash = memchr(v, '/', n);
	size_t an = slash ? (size_t)(slash - v) : n;
	if (an >= sizeof(buf))
		return false;
	memcpy(buf, v, an);
	buf[an] = '\0';
	if (inet_pton(af, buf, addr) != 1)
		return false;
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || end != v + n || p < 0 || p > maxp)
			return false;
	}
	return true;
}

/* local@domain: both parts present, no white space, one '@' */
static bool email_ok(const char *v, size_t n)
{
	const char *at = memchr(v, '@', n);
	if (!at || at == v || at == v + n - 1 || memchr(at + 1, '@', (size_t)(v + n - at - 1)))
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r')
			return false;
	return true;
}

static bool hive_ok(const char *v, size_t n)
{
	static const char *const hives[] = {"HKEY_CLASSES_ROOT",
	                                    "HKCR",
	                                    "HKEY_CURRENT_USER",
	                                    "HKCU",
	                                    "HKEY_LOCAL_MACHINE",
	                                    "HKLM",
	                                    "HKEY_USERS",
	                                    "HKU",
	                                    "HKEY_CURRENT_CONFIG",
	                                    "HKCC",
	                                    "HKEY_PERFORMANCE_DATA",
	                                    "HKEY_DYN_DATA"};
	for (size_t i = 0; i < sizeof(hives) / sizeof(hives[0]); i++) {
		size_t h = strlen(hives[i]);
		if (n >= h && !strncasecmp(v, hives[i], h) && (n == h || v[h] == '\\'))
			return true;
	}
	return false;
}

/* Timestamp properties of cyber-observables (and their extensions' common ones). */
static const char *const sco_times[] = {"ctime",
                                        "mtime",
                                        "atime",
                                        "start",
                                        "end",
                                        "created_time",
                                        "date",
                                        "modified_time",
                                        "account_created",
                                        "account_expires",
                                        "credential_last_changed",
                                        "account_first_login",
                                        "account_last_login",
                                        "validity_not_before",
                                        "validity_not_after"};

/*
 * The MUSTs of one cyber-observable (top-level in 2.1, or a member of an
 * observed-data's "objects" as in 2.0): well-formed values and timestamps,
 * network traffic with an end and at least one side.
 */
static sk_err check_sco(const sk_jval *o, const char *type, const char *id, sk_error *err)
{
	const sk_jval *v = sk_json_get(o, "value");
	const char *vs = sk_json_str(v);
	size_t vn = vs ? v->n : 0;

	for (size_t i = 0; i < sizeof(sco_times) / sizeof(sco_times[0]); i++) {
		const sk_jval *t = sk_json_get(o, sco_times[i]);
		if (t && !ts_ok(t))
			return bad(err, id,
			           "observable property '%s' is not an RFC 3339 UTC timestamp%s",
			           sco_times[i], "");
	}
	if (!strcmp(type, "ipv4-addr") && vs && !ip_ok(vs, vn, AF_INET, 32))
		return bad(err, id, "ipv4-addr value '%s' is not an IPv4 address or CIDR%s", vs,
		           "");
	if (!strcmp(type, "ipv6-addr") && vs && !ip_ok(vs, vn, AF_INET6, 128))
		return bad(err, id, "ipv6-addr value '%s' is not an IPv6 address or CIDR%s", vs,
		           "");
	if (!strcmp(type, "email-addr") && vs && !email_ok(vs, vn))
		return bad(err, id, "email-addr value '%s' is not an e-mail address%s", vs, "");
	if (!strcmp(type, "windows-registry-key")) {
		const sk_jval *k = sk_json_get(o, "key");
		if (sk_json_str(k) && !hive_ok(sk_json_str(k), k->n))
			return bad(err, id,
			           "windows-registry-key key '%s' does not start with a registry "
			           "hive (HKEY_LOCAL_MACHINE, HKEY_CURRENT_USER, ...)%s",
			           sk_json_str(k), "");
	}
	if (!strcmp(type, "network-traffic")) {
		const char *st = str(o, "start"), *en = str(o, "end");
		char sk[SK_TS_KEY_LEN + 1], ek[SK_TS_KEY_LEN + 1];
		if (!sk_json_get(o, "src_ref") && !sk_json_get(o, "dst_ref"))
			return bad(err, id, "network-traffic needs src_ref or dst_ref%s%s", "", "");
		if (st && en && sk_ts_parse(st, strlen(st), sk, NULL) &&
		    sk_ts_parse(en, strlen(en), ek, NULL) && strcmp(ek, sk) < 0)
			return bad(err, id, "network-traffic 'end' is earlier than 'start'%s%s", "",
			           "");
		if (SKTRUE(sk_json_get(o, "is_active")) && en)
			return bad(err, id, "network-traffic that is_active has no 'end'%s%s", "",
			           "");
	}
	return SK_OK;
}

/* Relationships and sightings name objects of the kinds STIX allows. */
static sk_err check_refs(const sk_jval *obj, const char *type, bool v21, const char *id,
                         sk_error *err)
{
	char t[260];
	if (!strcmp(type, "relationship")) {
		static const char *const ends[] = {"source_ref", "target_ref"};
		for (int i = 0; i < 2; i++) {
			const char *r = str(obj, ends[i]);
			if (r && !relatable(ref_type(r, t, sizeof(t))))
				return bad(err, id,
				           "'%s' may not name a %s (a relationship joins domain "
				           "objects and observables)",
				           ends[i], t);
		}
	} else if (!strcmp(type, "sighting")) {
		const char *r = str(obj, "sighting_of_ref");
		const sk_jval *w = sk_json_get(obj, "where_sighted_refs");
		if (r && (!relatable(ref_type(r, t, sizeof(t))) || sk_stix_is_sco_type(t)))
			return bad(
			    err, id,
			    "'sighting_of_ref' may not name a %s (it names a domain object)%s", t,
			    "");
		for (size_t i = 0; SKARR(w) && i < sk_json_len(w); i++) {
			ref_type(sk_json_str(sk_json_at(w, i)), t, sizeof(t));
			if (strcmp(t, "identity") && (!v21 || strcmp(t, "location")))
				return bad(err, id,
				           "'where_sighted_refs' may name only %s, not a %s",
				           v21 ? "identities and locations" : "identities", t);
		}
	}
	return SK_OK;
}

/* definition_type "tlp" exists only as the four marking definitions STIX defines. */
static sk_err check_tlp_definition(const sk_jval *obj, const char *id, sk_error *err)
{
	const char *dt = str(obj, "definition_type");
	sk_tlp byid, bycontent;
	if (!dt || strcmp(dt, "tlp"))
		return SK_OK;
	byid = sk_tlp_from_marking(id);
	bycontent = sk_tlp_of_definition(obj);
	if (byid == SK_TLP_NONE)
		return bad(err, id,
		           "a TLP marking definition must be one of the four STIX defines (STIX "
		           "2.1 7.2.1.4); other TLP definitions may not be created%s%s",
		           "", "");
	if (byid != bycontent)
		return bad(err, id,
		           "this TLP marking definition's id is %s but its content says %s",
		           sk_tlp_name(byid), sk_tlp_name(bycontent));
	return SK_OK;
}

sk_err sk_stix_validate(const sk_jval *obj, sk_stix_info *info, sk_error *err)
{
	const sk_jval *v;
	const char *type, *id, *sv;
	bool v21;
	int spec;
	size_t i;

	memset(info, 0, sizeof(*info));
	if (!SKOBJ(obj))
		return sk_error_set(err, SK_EINVAL, "element is not a JSON object");
	info->obj = obj;

	v = sk_json_get(obj, "id");
	id = sk_json_str(v);
	if (!v)
		return bad(err, NULL, "object has no 'id'%s%s", "", "");
	if (!id)
		return bad(err, NULL, "'id' must be a string%s%s", "", "");
	v = sk_json_get(obj, "type");
	type = sk_json_str(v);
	if (!type)
		return sk_error_set(err, SK_ESTIX, "%s: object has no 'type' string", id);
	if (strcmp(type, "bundle") == 0)
		return sk_error_set(err, SK_ESTIX, "%s: a bundle's 'objects' must be an array", id);
	if (!type_name_valid(type, strlen(type)))
		return sk_error_set(err, SK_ESTIX, "%s: '%s' is not a valid STIX type name", id,
		                    type);
	if (!sk_stix_id_valid(id, type))
		return sk_error_set(err, SK_ESTIX,
		                    "%s: malformed id (expected '%s--' followed by a UUID)", id,
		                    type);
	info->type = type;
	info->id = id;

	/* spec version: stated, or inferred: 2.1 observables stand alone, 2.0 ones never do */
	v = sk_json_get(obj, "spec_version");
	sv = sk_json_str(v);
	if (v && !sv)
		return sk_error_set(err, SK_ESTIX, "%s: 'spec_version' must be a string", id);
	if (sv && strcmp(sv, "2.1") != 0 && strcmp(sv, "2.0") != 0)
		return sk_error_set(err, SK_ESTIX, "%s: unsupported spec_version '%s'", id, sv);
	if (!sv)
		sv = sk_stix_is_sco_type(type) ? "2.1" : "2.0";
	v21 = sv[2] == '1';
	info->spec = v21 ? "2.1" : "2.0";
	spec = v21 ? 21 : 20;

	if (sk_stix_is_sco_type(type))
		info->cls = SK_STIX_SCO;
	else if (!strcmp(type, "relationship") || !strcmp(type, "sighting"))
		info->cls = SK_STIX_SRO;
	else if (!strcmp(type, "marking-definition") || !strcmp(type, "language-content") ||
	         !strcmp(type, "extension-definition"))
		info->cls = SK_STIX_META;
	else
		info->cls = SK_STIX_SDO;

	/* one pass over the members; each known property is checked by its rule */
	for (i = 0; i < obj->n; i++) {
		const sk_jmember *m = &obj->u.m[i];
		const struct prop_rule *r =
		    bsearch(m->key, prop_rules, sizeof(prop_rules) / sizeof(prop_rules[0]),
		            sizeof(prop_rules[0]), rule_cmp);
		if (r) {
			sk_err rc = check_prop(r, &m->val, id, err);
			if (rc)
				return rc;
		}
	}

	/* created / modified */
	info->created = str(obj, "created");
	info->modified = str(obj, "modified");
	if (sk_json_get(obj, "created") && !ts_ok(sk_json_get(obj, "created")))
		return sk_error_set(err, SK_ESTIX,
		                    "%s: 'created' is not an RFC 3339 UTC timestamp "
		                    "(YYYY-MM-DDTHH:MM:SS[.s]Z)",
		                    id);
	if (sk_json_get(obj, "modified") && !ts_ok(sk_json_get(obj, "modified")))
		return sk_error_set(err, SK_ESTIX,
		                    "%s: 'modified' is not an RFC 3339 UTC timestamp "
		                    "(YYYY-MM-DDTHH:MM:SS[.s]Z)",
		                    id);
	if (info->cls != SK_STIX_SCO) {
		if (!info->created)
			return sk_error_set(err, SK_ESTIX,
			                    "%s: missing required property 'created'", id);
		if (!info->modified && strcmp(type, "marking-definition") != 0)
			return sk_error_set(err, SK_ESTIX,
			                    "%s: missing required property 'modified'", id);
	}
	if (info->created || info->modified) {
		char ck[SK_TS_KEY_LEN + 1], mk[SK_TS_KEY_LEN + 1];
		const char *c = info->created, *m = info->modified;
		if (c)
			sk_ts_parse(c, strlen(c), ck, NULL);
		if (m)
			sk_ts_parse(m, strlen(m), mk, NULL);
		if (c && m && strcmp(mk, ck) < 0)
			return sk_error_set(err, SK_ESTIX,
			                    "%s: 'modified' (%s) is earlier than 'created' (%s)",
			                    id, m, c);
		memcpy(info->version, m ? mk : ck, sizeof(info->version));
	}

	/* required properties of the core types */
	for (i = 0; i < sizeof(req_rules) / sizeof(req_rules[0]); i++) {
		const struct req_rule *r = &req_rules[i];
		if (strcmp(r->type, type) != 0 || (r->spec && r->spec != spec))
			continue;
		for (size_t k = 0; k < 6 && r->props[k]; k++)
			if (!sk_json_get(obj, r->props[k]))
				return sk_error_set(err, SK_ESTIX,
				                    "%s: missing required property '%s'", id,
				                    r->props[k]);
	}

	/* rules that are not a simple presence check */
	if (!strcmp(type, "malware") && v21 && SKTRUE(sk_json_get(obj, "is_family")) &&
	    !sk_json_get(obj, "name"))
		return sk_error_set(err, SK_ESTIX,
		                    "%s: missing required property 'name' (required when is_family "
		                    "is true)",
		                    id);
	if (!strcmp(type, "location") && v21 && !sk_json_get(obj, "region") &&
	    !sk_json_get(obj, "country") &&
	    !(sk_json_get(obj, "latitude") && sk_json_get(obj, "longitude")))
		return sk_error_set(
		    err, SK_ESTIX,
		    "%s: a location needs region, country, or latitude and longitude", id);
	if (!strcmp(type, "observed-data") && v21 && !sk_json_get(obj, "objects") &&
	    !sk_json_get(obj, "object_refs"))
		return sk_error_set(err, SK_ESTIX, "%s: observed-data needs objects or object_refs",
		                    id);
	if (!strcmp(type, "marking-definition") && v21 && sk_json_get(obj, "definition_type") &&
	    !sk_json_get(obj, "definition"))
		return sk_error_set(err, SK_ESTIX,
		                    "%s: 'definition_type' is set but 'definition' is missing", id);
	if (!strcmp(type, "indicator")) {
		char fk[SK_TS_KEY_LEN + 1], uk[SK_TS_KEY_LEN + 1];
		const char *f = str(obj, "valid_from"), *u = str(obj, "valid_until");
		if (f && u && sk_ts_parse(f, strlen(f), fk, NULL) &&
		    sk_ts_parse(u, strlen(u), uk, NULL) && strcmp(uk, fk) <= 0)
			return sk_error_set(
			    err, SK_ESTIX, "%s: 'valid_until' must be later than 'valid_from'", id);
		if (SKSTR(sk_json_get(obj, "pattern")) && sk_json_get(obj, "pattern")->n == 0)
			return sk_error_set(err, SK_ESTIX, "%s: 'pattern' is empty", id);
		/* STIX patterns must parse (2.0 indicators have no pattern_type: always STIX) */
		const char *pt = str(obj, "pattern_type");
		if (!v21 || (pt && !strcmp(pt, "stix"))) {
			const sk_jval *pv = sk_json_get(obj, "pattern");
			sk_pattern *pat = NULL;
			sk_error perr;
			sk_err prc = sk_pattern_parse_spec(sk_json_str(pv), pv ? pv->n : 0,
							   v21 ? "2.1" : "2.0", &pat, &perr);
			sk_pattern_free(pat);
			if (prc)
				return sk_error_set(err, SK_ESTIX, "%s: invalid pattern: %s", id,
				                    perr.msg);
		}
	}
	{
		sk_err rc = check_refs(obj, type, v21, id, err);
		if (!rc && !strcmp(type, "marking-definition"))
			rc = check_tlp_definition(obj, id, err);
		if (!rc && info->cls == SK_STIX_SCO)
			rc = check_sco(obj, type, id, err);
		if (!rc && !strcmp(type, "observed-data") && SKOBJ(sk_json_get(obj, "objects"))) {
			/* the observables embedded in observed-data (STIX 2.0 style) */
			const sk_jval *os = sk_json_get(obj, "objects");
			for (i = 0; !rc && i < os->n; i++) {
				const sk_jval *e = &os->u.m[i].val;
				const char *et = str(e, "type");
				if (et)
					rc = check_sco(e, et, id, err);
			}
		}
		if (rc)
			return rc;
	}
	/* time windows: the end may not come before the start, on any type */
	for (i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		const char *f = str(obj, windows[i][0]), *l = str(obj, windows[i][1]);
		char fk[SK_TS_KEY_LEN + 1], lk[SK_TS_KEY_LEN + 1];
		if (f && l && sk_ts_parse(f, strlen(f), fk, NULL) &&
		    sk_ts_parse(l, strlen(l), lk, NULL) && strcmp(lk, fk) < 0)
			return sk_error_set(err, SK_ESTIX, "%s: '%s' is earlier than '%s'", id,
			                    windows[i][1], windows[i][0]);
	}
	v = sk_json_get(obj, "granular_markings");
	if (v) {
		sk_err rc = check_granular(v, id, v21, err);
		if (rc)
			return rc;
	}

	/* facts for the indexes */
	info->revoked = SKTRUE(sk_json_get(obj, "revoked"));
	info->created_by_ref = str(obj, "created_by_ref");
	v = sk_json_get(obj, "object_marking_refs");
	info->marking_refs = v;
	info->granular = sk_json_get(obj, "granular_markings");
	if (v) {
		const sk_jval *e;
		for (i = 0; i < sk_json_len(v); i++) {
			e = sk_json_at(v, i);
			sk_tlp t = sk_tlp_from_marking(sk_json_str(e));
			if (t > info->tlp)
				info->tlp = t;
		}
	}
	if (!strcmp(type, "relationship")) {
		info->src_ref = str(obj, "source_ref");
		info->dst_ref = str(obj, "target_ref");
		info->rel_type = str(obj, "relationship_type");
	} else if (!strcmp(type, "sighting")) {
		info->dst_ref = str(obj, "sighting_of_ref");
		info->rel_type = "sighting";
	}
	return SK_OK;
}

sk_err sk_stix_validate_text(sk_jdoc *doc, const char *text, size_t len, sk_stix_info *info,
                             sk_error *err)
{
	const sk_jval *root;
	sk_err rc = sk_json_parse(doc, text, len, &root, err);
	if (rc)
		return rc;
	return sk_stix_validate(root, info, err);
}
