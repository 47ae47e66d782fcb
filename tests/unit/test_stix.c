/*
 * test_stix.c - STIX 2.0 / 2.1 validation: required properties per type and
 * spec version, identifiers, timestamps and their ordering rules, ranges,
 * markings, custom and observable types, spec_version inference, and the
 * facts validation extracts (TLP level, version key, relationship ends).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/stix.h"
#include "schakel/tlp.h"
#include "sk_test.h"

#define U1 "6ba7b810-9dad-41d1-80b4-00c04fd430c8"
#define U2 "f81d4fae-7dec-41d0-a765-00a0c91e6bf6"
#define U3 "0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061"
#define T0 "2020-01-01T00:00:00.000Z"
#define T1 "2020-01-02T00:00:00.000Z"

/* Common properties: 2.1 (with spec_version) and 2.0 (without). */
#define H21(t)                                                                                     \
	"\"type\":\"" t "\",\"spec_version\":\"2.1\",\"id\":\"" t "--" U1 "\",\"created\":\"" T0   \
	"\",\"modified\":\"" T1 "\""
#define H20(t)                                                                                     \
	"\"type\":\"" t "\",\"id\":\"" t "--" U1 "\",\"created\":\"" T0 "\",\"modified\":\"" T1 "\""

#define TLP_RED          "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define TLP_AMBER        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define TLP_AMBER_STRICT "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define TLP_GREEN        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define TLP1_WHITE       "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
#define TLP1_AMBER       "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
#define TLP1_RED         "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
#define STATEMENT        "marking-definition--" U3

struct type_case {
	const char *json;
	const char *spec;
	sk_stix_class cls;
	const char *required[8]; /* each must be present; removing it must fail */
};

static const struct type_case cases21[] = {
    {"{" H21("indicator") ",\"pattern\":\"[ipv4-addr:value = '198.51.100.7']\","
                          "\"pattern_type\":\"stix\",\"valid_from\":\"" T0 "\"}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "pattern", "pattern_type", "valid_from"}},
    {"{" H21("sighting") ",\"sighting_of_ref\":\"indicator--" U2 "\"}",
     "2.1",
     SK_STIX_SRO,
     {"type", "id", "created", "modified", "sighting_of_ref"}},
    {"{" H21("relationship") ",\"relationship_type\":\"uses\",\"source_ref\":\"threat-actor--" U2
                             "\",\"target_ref\":\"malware--" U3 "\"}",
     "2.1",
     SK_STIX_SRO,
     {"type", "id", "created", "modified", "relationship_type", "source_ref", "target_ref"}},
    {"{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"marking-definition--" U1
     "\",\"created\":\"" T0 "\",\"definition_type\":\"statement\","
     "\"definition\":{\"statement\":\"Copyright 2020 Example Corp\"}}",
     "2.1",
     SK_STIX_META,
     {"type", "id", "created", "definition"}},
    {"{" H21("identity") ",\"name\":\"Example Corp\"}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name"}},
    {"{" H21("threat-actor") ",\"name\":\"Example Actor\"}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name"}},
    {"{" H21("intrusion-set") ",\"name\":\"Example Set\"}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name"}},
    {"{" H21("campaign") ",\"name\":\"Example Campaign\"}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name"}},
    {"{" H21("malware") ",\"is_family\":false}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "is_family"}},
    {"{" H21("malware") ",\"is_family\":true,\"name\":\"Example Family\"}",
     "2.1",
     SK_STIX_SDO,
     {"is_family", "name"}},
    {"{" H21("tool") ",\"name\":\"Example Tool\"}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name"}},
    {"{" H21("attack-pattern") ",\"name\":\"Spearphishing\"}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name"}},
    {"{" H21("report") ",\"name\":\"Report\",\"published\":\"" T1
                       "\",\"object_refs\":[\"indicator--" U2 "\"]}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name", "published", "object_refs"}},
    {"{" H21("observed-data") ",\"first_observed\":\"" T0 "\",\"last_observed\":\"" T1
                              "\",\"number_observed\":1,\"object_refs\":[\"ipv4-addr--" U2 "\"]}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "first_observed", "last_observed", "number_observed",
      "object_refs"}},
    {"{" H21("location") ",\"country\":\"NL\"}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "country"}},
    {"{" H21(
         "note") ",\"content\":\"Seen at the border gateway.\",\"object_refs\":[\"indicator--" U2
                 "\"]}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "content", "object_refs"}},
    {"{" H21("vulnerability") ",\"name\":\"CVE-2020-0001\"}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name"}},
    {"{" H21("infrastructure") ",\"name\":\"C2 servers\"}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name"}},
    {"{" H21("course-of-action") ",\"name\":\"Block it\"}",
     "2.1",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name"}},
};

static const struct type_case cases20[] = {
    {"{" H20("indicator") ",\"pattern\":\"[ipv4-addr:value = '198.51.100.7']\","
                          "\"valid_from\":\"" T0 "\",\"labels\":[\"malicious-activity\"]}",
     "2.0",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "pattern", "valid_from", "labels"}},
    {"{" H20("sighting") ",\"sighting_of_ref\":\"indicator--" U2 "\"}",
     "2.0",
     SK_STIX_SRO,
     {"type", "id", "created", "modified", "sighting_of_ref"}},
    {"{" H20("relationship") ",\"relationship_type\":\"uses\",\"source_ref\":\"intrusion-set--" U2
                             "\",\"target_ref\":\"tool--" U3 "\"}",
     "2.0",
     SK_STIX_SRO,
     {"type", "id", "created", "modified", "relationship_type", "source_ref", "target_ref"}},
    /* the TLP:GREEN definition STIX defines (the only kind of "tlp" definition allowed) */
    {"{\"type\":\"marking-definition\",\"id\":\"marking-definition--34098fce-860f-48ae-8e50-"
     "ebd3cc5e41da\",\"created\":\"" T0
     "\",\"definition_type\":\"tlp\",\"definition\":{\"tlp\":\"green\"}}",
     "2.0",
     SK_STIX_META,
     {"type", "id", "created", "definition_type", "definition"}},
    {"{" H20("identity") ",\"name\":\"Example Corp\",\"identity_class\":\"organization\"}",
     "2.0",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name", "identity_class"}},
    {"{" H20("threat-actor") ",\"name\":\"Example Actor\",\"labels\":[\"crime-syndicate\"]}",
     "2.0",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name", "labels"}},
    {"{" H20("intrusion-set") ",\"name\":\"Example Set\"}",
     "2.0",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name"}},
    {"{" H20("campaign") ",\"name\":\"Example Campaign\"}",
     "2.0",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name"}},
    {"{" H20("malware") ",\"name\":\"Example\",\"labels\":[\"trojan\"]}",
     "2.0",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name", "labels"}},
    {"{" H20("tool") ",\"name\":\"Example Tool\",\"labels\":[\"remote-access\"]}",
     "2.0",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name", "labels"}},
    {"{" H20("attack-pattern") ",\"name\":\"Spearphishing\"}",
     "2.0",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name"}},
    {"{" H20("report") ",\"name\":\"Report\",\"published\":\"" T1
                       "\",\"object_refs\":[\"indicator--" U2 "\"],\"labels\":[\"threat-report\"]}",
     "2.0",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name", "published", "object_refs", "labels"}},
    {"{" H20("observed-data") ",\"first_observed\":\"" T0 "\",\"last_observed\":\"" T1
                              "\",\"number_observed\":3,\"objects\":{\"0\":{\"type\":\"ipv4-addr\","
                              "\"value\":\"203.0.113.9\"}}}",
     "2.0",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "first_observed", "last_observed", "number_observed",
      "objects"}},
    {"{" H20("vulnerability") ",\"name\":\"CVE-2020-0001\"}",
     "2.0",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name"}},
    {"{" H20("course-of-action") ",\"name\":\"Block it\"}",
     "2.0",
     SK_STIX_SDO,
     {"type", "id", "created", "modified", "name"}},
};

static void check_cases(const struct type_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct type_case *c = &cases[i];
		t_obj o;

		cr_expect_eq(t_validate(&o, c->json), SK_OK, "valid %s object rejected: %s",
		             c->spec, o.err.msg);
		if (o.rc == SK_OK) {
			json_t *j = json_loads(c->json, 0, NULL);
			cr_expect_str_eq(o.info.type, json_string_value(json_object_get(j, "type")));
			cr_expect_str_eq(o.info.id, json_string_value(json_object_get(j, "id")));
			json_decref(j);
			cr_expect_str_eq(o.info.spec, c->spec, "%s", c->json);
			cr_expect_eq(o.info.cls, c->cls, "%s: class %d", o.info.type, o.info.cls);
		}
		t_obj_free(&o);

		for (size_t k = 0; k < 8 && c->required[k]; k++) {
			char *text = t_without(c->json, c->required[k]);
			cr_expect_eq(t_validate(&o, text), SK_ESTIX,
			             "%s object without '%s' was accepted: %s", c->spec,
			             c->required[k], c->json);
			cr_expect(strstr(o.err.msg, c->required[k]) != NULL,
			          "message '%s' does not name '%s'", o.err.msg, c->required[k]);
			t_obj_free(&o);
			free(text);
		}
	}
}

Test(stix, required_properties_21)
{
	check_cases(cases21, sizeof(cases21) / sizeof(cases21[0]));
}

Test(stix, required_properties_20)
{
	check_cases(cases20, sizeof(cases20) / sizeof(cases20[0]));
}

/* Validate text and return the code; frees everything. */
static sk_err rc_of(const char *text)
{
	t_obj o;
	sk_err rc = t_validate(&o, text);
	t_obj_free(&o);
	return rc;
}

/* Validate base with prop set to value; returns the code. */
static sk_err rc_with(const char *base, const char *prop, const char *value)
{
	char *text = t_with(base, prop, value);
	sk_err rc = rc_of(text);
	free(text);
	return rc;
}

/* the valid 2.1 indicator of the table above */
#define INDICATOR21 (cases21[0].json)
static const char *const identity21 = "{" H21("identity") ",\"name\":\"Example Corp\"}";

/* --- type-specific rules -------------------------------------------------- */

Test(stix, malware_name_required_when_family)
{
	const char *fam = "{" H21("malware") ",\"is_family\":true}";
	t_obj o;

	cr_expect_eq(t_validate(&o, fam), SK_ESTIX);
	cr_expect(strstr(o.err.msg, "'name'") != NULL, "%s", o.err.msg);
	t_obj_free(&o);
	cr_expect_eq(rc_of("{" H21("malware") ",\"is_family\":false}"), SK_OK);
	cr_expect_eq(rc_of("{" H21("malware") ",\"is_family\":\"true\",\"name\":\"x\"}"), SK_ESTIX);
	/* 2.0 malware has no is_family but always needs name and labels */
	cr_expect_eq(rc_of("{" H20("malware") ",\"labels\":[\"worm\"]}"), SK_ESTIX);
}

Test(stix, location_alternatives)
{
	const char *base = "{" H21("location") "}";

	cr_expect_eq(rc_of(base), SK_ESTIX, "a location needs region, country or coordinates");
	cr_expect_eq(rc_with(base, "region", "\"europe\""), SK_OK);
	cr_expect_eq(rc_with(base, "country", "\"NL\""), SK_OK);
	cr_expect_eq(rc_with(base, "latitude", "52.1"), SK_ESTIX, "latitude alone is not enough");
	cr_expect_eq(rc_of("{" H21("location") ",\"latitude\":52.1,\"longitude\":4.3}"), SK_OK);
	cr_expect_eq(rc_of("{" H21("location") ",\"latitude\":91,\"longitude\":4.3}"), SK_ESTIX);
	cr_expect_eq(rc_of("{" H21("location") ",\"latitude\":-90,\"longitude\":180}"), SK_OK);
	cr_expect_eq(rc_of("{" H21("location") ",\"latitude\":0,\"longitude\":-180.5}"), SK_ESTIX);
	cr_expect_eq(rc_of("{" H21("location") ",\"latitude\":\"52\",\"longitude\":4}"), SK_ESTIX);
}

Test(stix, observed_data_objects_or_refs)
{
	const char *with_objects =
	    "{" H21("observed-data") ",\"first_observed\":\"" T0 "\",\"last_observed\":\"" T1
	                             "\",\"number_observed\":1,"
	                             "\"objects\":{\"0\":{\"type\":\"ipv4-addr\",\"value\":\"192.0."
	                             "2.1\"}}}";
	cr_expect_eq(rc_of(with_objects), SK_OK, "the deprecated objects member still counts");
	cr_expect_eq(rc_with(cases21[13].json, "number_observed", "0"), SK_ESTIX);
	cr_expect_eq(rc_with(cases21[13].json, "number_observed", "999999999"), SK_OK);
	cr_expect_eq(rc_with(cases21[13].json, "number_observed", "1000000000"), SK_ESTIX);
	cr_expect_eq(rc_with(cases21[13].json, "number_observed", "1.5"), SK_ESTIX);
}

Test(stix, marking_definition_21)
{
	const char *tlp2 = sk_tlp_marking_json(SK_TLP_AMBER);
	const char *bare =
	    "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\","
	    "\"id\":\"marking-definition--" U1 "\",\"created\":\"" T0 "\",\"name\":\"internal\"}";
	t_obj o;

	cr_expect_eq(rc_of(tlp2), SK_OK, "TLP 2.0 markings use an extension, no definition");
	cr_expect_eq(rc_of(bare), SK_OK);
	cr_expect_eq(rc_with(bare, "definition_type", "\"statement\""), SK_ESTIX,
	             "definition_type without definition");
	/* no modified: the version is created */
	cr_assert_eq(t_validate(&o, bare), SK_OK, "%s", o.err.msg);
	cr_expect_str_eq(o.info.version, "2020-01-01T00:00:00.000000000");
	cr_expect_null(o.info.modified);
	t_obj_free(&o);
}

Test(stix, sighting_count_and_refs)
{
	const char *s = cases21[1].json;

	cr_expect_eq(rc_with(s, "count", "0"), SK_OK);
	cr_expect_eq(rc_with(s, "count", "999999999"), SK_OK);
	cr_expect_eq(rc_with(s, "count", "-1"), SK_ESTIX);
	cr_expect_eq(rc_with(s, "count", "1000000000"), SK_ESTIX);
	cr_expect_eq(rc_with(s, "sighting_of_ref", "\"not-an-id\""), SK_ESTIX);
	cr_expect_eq(rc_with(s, "where_sighted_refs", "[\"identity--" U2 "\"]"), SK_OK);
	cr_expect_eq(rc_with(s, "where_sighted_refs", "\"identity--" U2 "\""), SK_ESTIX);
	cr_expect_eq(rc_with(s, "observed_data_refs", "[\"observed-data--" U2 "\"]"), SK_OK);
	cr_expect_eq(rc_with(s, "observed_data_refs", "[\"indicator--" U2 "\"]"), SK_ESTIX);
}

Test(stix, relationship_refs_must_be_ids)
{
	const char *r = cases21[2].json;

	cr_expect_eq(rc_with(r, "source_ref", "\"threat-actor\""), SK_ESTIX);
	cr_expect_eq(rc_with(r, "target_ref", "\"malware--1234\""), SK_ESTIX);
	cr_expect_eq(rc_with(r, "target_ref", "42"), SK_ESTIX);
	cr_expect_eq(rc_with(r, "relationship_type", "7"), SK_ESTIX);
}

Test(stix, report_object_refs_must_be_ids)
{
	const char *r = cases21[12].json;

	cr_expect_eq(rc_with(r, "object_refs", "[\"indicator--" U2 "\",\"bad\"]"), SK_ESTIX);
	cr_expect_eq(rc_with(r, "object_refs", "\"indicator--" U2 "\""), SK_ESTIX);
	cr_expect_eq(rc_with(r, "published", "\"2020-01-01\""), SK_ESTIX);
}

/* --- identifiers and types ---------------------------------------------- */

Test(stix, id_syntax)
{
	cr_expect(sk_stix_id_valid("indicator--" U1, NULL));
	cr_expect(sk_stix_id_valid("indicator--" U1, "indicator"));
	cr_expect(sk_stix_id_valid("x-acme-widget--" U1, NULL));
	cr_expect(sk_stix_id_valid("indicator--6BA7B810-9DAD-41D1-80B4-00C04FD430C8", NULL));
	cr_expect(!sk_stix_id_valid("indicator--" U1, "malware"));
	cr_expect(!sk_stix_id_valid("indicator--" U1, "indicato"));
	cr_expect(!sk_stix_id_valid("indicator--" U1, "indicators"));
	cr_expect(!sk_stix_id_valid(NULL, NULL));
	cr_expect(!sk_stix_id_valid("", NULL));
	cr_expect(!sk_stix_id_valid("indicator", NULL));
	cr_expect(!sk_stix_id_valid("indicator--", NULL));
	cr_expect(!sk_stix_id_valid("indicator-" U1, NULL));
	cr_expect(!sk_stix_id_valid("indicator---" U1, NULL));
	cr_expect(!sk_stix_id_valid("indicator--" U1 "0", NULL));
	cr_expect(!sk_stix_id_valid("indicator--" U1 " ", NULL));
	cr_expect(!sk_stix_id_valid("indicator--{" U1 "}", NULL));
	cr_expect(!sk_stix_id_valid("Indicator--" U1, NULL));
	cr_expect(!sk_stix_id_valid("in--" U1, NULL), "type names have at least 3 characters");
	cr_expect(!sk_stix_id_valid("--" U1, NULL));
	cr_expect(!sk_stix_id_valid("x_acme--" U1, NULL));
	cr_expect(!sk_stix_id_valid("-acme--" U1, NULL));
	cr_expect(!sk_stix_id_valid("acme---" U1, NULL));
}

Test(stix, id_property_checks)
{
	t_obj o;

	cr_expect_eq(rc_with(identity21, "id", "\"identity--not-a-uuid\""), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "id", "\"identity-" U1 "\""), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "id", "42"), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "id", "null"), SK_ESTIX);
	cr_expect_eq(
	    rc_with(identity21, "id", "\"identity--6BA7B810-9DAD-41D1-80B4-00C04FD430C8\""), SK_OK,
	    "RFC 4122 UUIDs may be upper case on input");

	/* the id's type prefix must be the object's type */
	char *text = t_with(identity21, "id", "\"malware--" U1 "\"");
	cr_expect_eq(t_validate(&o, text), SK_ESTIX);
	cr_expect(strstr(o.err.msg, "identity--") != NULL,
	          "message should say what was expected: %s", o.err.msg);
	t_obj_free(&o);
	free(text);
}

Test(stix, type_names)
{
	char name[260], id[320], text[1024];

	cr_expect_eq(rc_with(identity21, "type", "\"Identity\""), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "type", "42"), SK_ESTIX);
	cr_expect_eq(rc_of("{\"type\":\"ab\",\"id\":\"ab--" U1 "\",\"created\":\"" T0
	                   "\",\"modified\":\"" T0 "\"}"),
	             SK_ESTIX, "2-character type");
	cr_expect_eq(rc_of("{\"type\":\"x_ab\",\"id\":\"x_ab--" U1 "\",\"created\":\"" T0
	                   "\",\"modified\":\"" T0 "\"}"),
	             SK_ESTIX);
	cr_expect_eq(rc_of("{\"type\":\"abc-\",\"id\":\"abc---" U1 "\",\"created\":\"" T0
	                   "\",\"modified\":\"" T0 "\"}"),
	             SK_ESTIX);
	/* 250 characters is the longest type name */
	memset(name, 'a', 250);
	name[250] = '\0';
	snprintf(id, sizeof(id), "%s--" U1, name);
	snprintf(text, sizeof(text),
	         "{\"type\":\"%s\",\"id\":\"%s\",\"created\":\"" T0 "\",\"modified\":\"" T0 "\"}",
	         name, id);
	cr_expect_eq(rc_of(text), SK_OK);
	name[250] = 'a';
	name[251] = '\0';
	snprintf(id, sizeof(id), "%s--" U1, name);
	snprintf(text, sizeof(text),
	         "{\"type\":\"%s\",\"id\":\"%s\",\"created\":\"" T0 "\",\"modified\":\"" T0 "\"}",
	         name, id);
	cr_expect_eq(rc_of(text), SK_ESTIX);
}

Test(stix, message_starts_with_the_id)
{
	char *text = t_without(INDICATOR21, "pattern");
	t_obj o;

	cr_expect_eq(t_validate(&o, text), SK_ESTIX);
	cr_expect_eq(strncmp(o.err.msg, "indicator--" U1, strlen("indicator--" U1)), 0, "%s",
	             o.err.msg);
	cr_expect_eq(o.err.code, SK_ESTIX);
	t_obj_free(&o);
	free(text);
}

Test(stix, not_an_object)
{
	t_obj o;

	cr_expect_eq(t_validate(&o, "[1,2]"), SK_EINVAL);
	t_obj_free(&o);
	cr_expect_eq(t_validate(&o, "\"indicator\""), SK_EINVAL);
	t_obj_free(&o);
	cr_expect_eq(t_validate(&o, "{}"), SK_ESTIX);
	t_obj_free(&o);
}

Test(stix, bundle_is_not_an_element)
{
	cr_expect_eq(rc_of("{\"type\":\"bundle\",\"id\":\"bundle--" U1 "\",\"objects\":{}}"),
	             SK_ESTIX);
}

/* --- timestamps ----------------------------------------------------------- */

Test(stix, common_timestamps)
{
	t_obj o;
	char *text;

	cr_expect_eq(rc_with(identity21, "created", "\"2020-01-01\""), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "created", "\"2020-01-01T00:00:00+01:00\""), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "created", "1577836800"), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "modified", "\"2020-02-30T00:00:00Z\""), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "modified", "null"), SK_ESTIX);

	text = t_with(identity21, "modified", "\"2019-12-31T23:59:59.999Z\"");
	cr_expect_eq(t_validate(&o, text), SK_ESTIX, "modified before created");
	cr_expect(strstr(o.err.msg, "modified") != NULL, "%s", o.err.msg);
	t_obj_free(&o);
	free(text);

	cr_expect_eq(rc_with(identity21, "modified", "\"" T0 "\""), SK_OK, "modified == created");
	cr_expect_eq(rc_with(identity21, "modified", "\"2020-01-01T00:00:00Z\""), SK_OK,
	             "the same instant at another precision");
	cr_expect_eq(rc_with(identity21, "modified", "\"2020-01-01T00:00:00.000000001Z\""), SK_OK);
	/* 1 ns before created */
	text = t_with(identity21, "created", "\"2020-01-01T00:00:00.000000001Z\"");
	cr_expect_eq(rc_with(text, "modified", "\"2020-01-01T00:00:00Z\""), SK_ESTIX);
	free(text);
}

Test(stix, indicator_validity_window)
{
	cr_expect_eq(rc_with(INDICATOR21, "valid_until", "\"2020-01-01T00:00:00.001Z\""), SK_OK);
	cr_expect_eq(rc_with(INDICATOR21, "valid_until", "\"" T0 "\""), SK_ESTIX,
	             "valid_until must be later than valid_from");
	cr_expect_eq(rc_with(INDICATOR21, "valid_until", "\"2019-01-01T00:00:00Z\""), SK_ESTIX);
	cr_expect_eq(rc_with(INDICATOR21, "valid_until", "\"soon\""), SK_ESTIX);
	cr_expect_eq(rc_with(INDICATOR21, "valid_from", "\"2020-01-01T00:00:00\""), SK_ESTIX);
	cr_expect_eq(rc_with(INDICATOR21, "pattern", "\"\""), SK_ESTIX, "empty pattern");
	cr_expect_eq(rc_with(INDICATOR21, "pattern", "[]"), SK_ESTIX);
}

Test(stix, sighting_seen_window)
{
	const char *s = cases21[1].json;
	char *text = t_with(s, "first_seen", "\"2020-03-01T00:00:00Z\"");

	cr_expect_eq(rc_with(text, "last_seen", "\"2020-03-01T00:00:00Z\""), SK_OK);
	cr_expect_eq(rc_with(text, "last_seen", "\"2020-03-02T00:00:00Z\""), SK_OK);
	cr_expect_eq(rc_with(text, "last_seen", "\"2020-02-29T23:59:59Z\""), SK_ESTIX);
	cr_expect_eq(rc_with(text, "last_seen", "\"yesterday\""), SK_ESTIX);
	free(text);
}

Test(stix, observed_data_window)
{
	/* STIX 2.1 4.14 / 2.0 4.9: last_observed MUST be >= first_observed */
	const char *od21 = cases21[13].json, *od20 = cases20[12].json;
	char *text;

	cr_expect_eq(rc_with(od21, "last_observed", "\"" T0 "\""), SK_OK, "equal is allowed");
	text = t_with(od21, "first_observed", "\"" T1 "\"");
	cr_expect_eq(rc_with(text, "last_observed", "\"" T0 "\""), SK_ESTIX,
	             "2.1 observed-data with last_observed before first_observed was accepted");
	free(text);
	text = t_with(od20, "first_observed", "\"" T1 "\"");
	cr_expect_eq(rc_with(text, "last_observed", "\"" T0 "\""), SK_ESTIX,
	             "2.0 observed-data with last_observed before first_observed was accepted");
	free(text);
	cr_expect_eq(rc_with(od21, "first_observed", "\"2020-01-01\""), SK_ESTIX);
}

Test(stix, first_seen_last_seen_order_on_sdos)
{
	/* STIX 2.1: last_seen MUST be >= first_seen on these types */
	static const char *const objs[] = {
	    "{" H21("campaign") ",\"name\":\"c\"}",
	    "{" H21("intrusion-set") ",\"name\":\"i\"}",
	    "{" H21("threat-actor") ",\"name\":\"t\"}",
	    "{" H21("malware") ",\"is_family\":true,\"name\":\"m\"}",
	    "{" H21("infrastructure") ",\"name\":\"n\"}",
	};
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		char *text = t_with(objs[i], "first_seen", "\"" T1 "\"");
		cr_expect_eq(rc_with(text, "last_seen", "\"" T1 "\""), SK_OK, "%s", objs[i]);
		cr_expect_eq(rc_with(text, "last_seen", "\"" T0 "\""), SK_ESTIX,
		             "last_seen before first_seen accepted: %s", objs[i]);
		cr_expect_eq(rc_with(text, "last_seen", "\"later\""), SK_ESTIX);
		free(text);
	}
}

/* --- common property kinds ------------------------------------------------ */

Test(stix, confidence_range)
{
	cr_expect_eq(rc_with(identity21, "confidence", "0"), SK_OK);
	cr_expect_eq(rc_with(identity21, "confidence", "100"), SK_OK);
	cr_expect_eq(rc_with(identity21, "confidence", "55"), SK_OK);
	cr_expect_eq(rc_with(identity21, "confidence", "-1"), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "confidence", "101"), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "confidence", "50.5"), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "confidence", "\"50\""), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "confidence", "true"), SK_ESTIX);
}

Test(stix, simple_property_kinds)
{
	cr_expect_eq(rc_with(identity21, "name", "42"), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "description", "[\"x\"]"), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "labels", "[\"a\",\"b\"]"), SK_OK);
	cr_expect_eq(rc_with(identity21, "labels", "[\"a\",1]"), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "labels", "\"a\""), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "revoked", "true"), SK_OK);
	cr_expect_eq(rc_with(identity21, "revoked", "\"true\""), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "revoked", "1"), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "external_references",
	                     "[{\"source_name\":\"cve\",\"external_id\":\"CVE-2020-0001\"}]"),
	             SK_OK);
	cr_expect_eq(rc_with(identity21, "external_references", "{\"source_name\":\"x\"}"),
	             SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "extensions", "{}"), SK_OK);
	cr_expect_eq(rc_with(identity21, "extensions", "[]"), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "lang", "\"en\""), SK_OK);
	cr_expect_eq(rc_with(identity21, "lang", "1"), SK_ESTIX);
}

Test(stix, created_by_ref)
{
	t_obj o;
	char *text = t_with(identity21, "created_by_ref", "\"identity--" U2 "\"");

	cr_expect_eq(t_validate(&o, text), SK_OK, "%s", o.err.msg);
	cr_expect_str_eq(o.info.created_by_ref, "identity--" U2);
	t_obj_free(&o);
	free(text);
	cr_expect_eq(rc_with(identity21, "created_by_ref", "\"malware--" U2 "\""), SK_ESTIX,
	             "created_by_ref must be an identity");
	cr_expect_eq(rc_with(identity21, "created_by_ref", "\"identity--x\""), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "created_by_ref", "[\"identity--" U2 "\"]"), SK_ESTIX);
}

Test(stix, object_marking_refs_syntax)
{
	cr_expect_eq(rc_with(identity21, "object_marking_refs", "[\"" TLP_RED "\"]"), SK_OK);
	cr_expect_eq(rc_with(identity21, "object_marking_refs", "[\"" STATEMENT "\"]"), SK_OK);
	cr_expect_eq(rc_with(identity21, "object_marking_refs", "[]"), SK_OK);
	cr_expect_eq(rc_with(identity21, "object_marking_refs", "\"" TLP_RED "\""), SK_ESTIX,
	             "a string, not a list");
	cr_expect_eq(rc_with(identity21, "object_marking_refs", "[\"identity--" U2 "\"]"), SK_ESTIX,
	             "refs must be marking definitions");
	cr_expect_eq(rc_with(identity21, "object_marking_refs", "[\"marking-definition--x\"]"),
	             SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "object_marking_refs", "[1]"), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "object_marking_refs", "[\"" TLP_RED "\",null]"),
	             SK_ESTIX);
}

Test(stix, granular_markings)
{
	const char *d20 = cases20[4].json;

	cr_expect_eq(rc_with(identity21, "granular_markings",
	                     "[{\"marking_ref\":\"" TLP_RED "\",\"selectors\":[\"description\"]}]"),
	             SK_OK);
	cr_expect_eq(rc_with(identity21, "granular_markings",
	                     "[{\"lang\":\"nl\",\"selectors\":[\"name\",\"description\"]}]"),
	             SK_OK, "2.1 allows a lang granular marking");
	cr_expect_eq(
	    rc_with(d20, "granular_markings", "[{\"lang\":\"nl\",\"selectors\":[\"name\"]}]"),
	    SK_ESTIX, "2.0 granular markings need marking_ref");
	cr_expect_eq(rc_with(d20, "granular_markings",
	                     "[{\"marking_ref\":\"" TLP1_RED "\",\"selectors\":[\"name\"]}]"),
	             SK_OK);
	cr_expect_eq(
	    rc_with(identity21, "granular_markings", "[{\"marking_ref\":\"" TLP_RED "\"}]"),
	    SK_ESTIX, "selectors are required");
	cr_expect_eq(rc_with(identity21, "granular_markings",
	                     "[{\"marking_ref\":\"" TLP_RED "\",\"selectors\":[]}]"),
	             SK_ESTIX, "selectors must not be empty");
	cr_expect_eq(rc_with(identity21, "granular_markings",
	                     "[{\"marking_ref\":\"" TLP_RED "\",\"selectors\":[\"\"]}]"),
	             SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "granular_markings",
	                     "[{\"marking_ref\":\"" TLP_RED "\",\"selectors\":[1]}]"),
	             SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "granular_markings",
	                     "[{\"marking_ref\":\"identity--" U2 "\",\"selectors\":[\"name\"]}]"),
	             SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "granular_markings", "[{\"selectors\":[\"name\"]}]"),
	             SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "granular_markings", "[\"" TLP_RED "\"]"), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "granular_markings", "{}"), SK_ESTIX);
}

/* --- custom, observable and meta types ------------------------------------ */

Test(stix, custom_types_and_properties)
{
	t_obj o;

	cr_expect_eq(t_validate(&o, "{" H21("x-acme-widget") ",\"x_acme_colour\":\"blue\"}"), SK_OK,
	             "%s", o.err.msg);
	cr_expect_eq(o.info.cls, SK_STIX_SDO);
	cr_expect_str_eq(o.info.type, "x-acme-widget");
	t_obj_free(&o);
	/* ATT&CK 2.0 custom types, without spec_version */
	cr_expect_eq(t_validate(&o,
	                        "{" H20("x-mitre-tactic") ",\"name\":\"Discovery\","
	                                                  "\"x_mitre_shortname\":\"discovery\"}"),
	             SK_OK, "%s", o.err.msg);
	cr_expect_str_eq(o.info.spec, "2.0");
	t_obj_free(&o);
	/* 2.1 no longer requires the x- prefix */
	cr_expect_eq(rc_of("{" H21("acme-widget") "}"), SK_OK);
	/* custom properties on core types */
	cr_expect_eq(rc_with(INDICATOR21, "x_acme_score", "{\"v\":[1,2,3]}"), SK_OK);
	/* a custom object is an SDO: it needs created and modified */
	cr_expect_eq(rc_of("{\"type\":\"x-acme-widget\",\"spec_version\":\"2.1\","
	                   "\"id\":\"x-acme-widget--" U1 "\"}"),
	             SK_ESTIX);
}

Test(stix, cyber_observables)
{
	t_obj o;

	cr_expect_eq(t_validate(&o, "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--" U1
	                            "\",\"value\":\"198.51.100.7\"}"),
	             SK_OK, "%s", o.err.msg);
	cr_expect_str_eq(o.info.spec, "2.1", "observables without spec_version are 2.1");
	cr_expect_eq(o.info.cls, SK_STIX_SCO);
	cr_expect_str_eq(o.info.version, "", "observables are unversioned");
	cr_expect_null(o.info.created);
	cr_expect_null(o.info.modified);
	t_obj_free(&o);

	cr_expect_eq(
	    rc_of("{\"type\":\"domain-name\",\"spec_version\":\"2.1\",\"id\":\"domain-name--" U1
	          "\",\"value\":\"malicious.example\"}"),
	    SK_OK);
	cr_expect_eq(
	    rc_of("{\"type\":\"file\",\"id\":\"file--" U1
	          "\",\"hashes\":{\"SHA-256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
	          "4ca495991b7852b855\"}}"),
	    SK_OK);
	cr_expect_eq(rc_of("{\"type\":\"url\",\"id\":\"url--" U1
	                   "\",\"value\":\"https://bad.example/x\","
	                   "\"object_marking_refs\":[\"" TLP_GREEN "\"]}"),
	             SK_OK);
	cr_expect_eq(
	    rc_of("{\"type\":\"ipv4-addr\",\"id\":\"ipv6-addr--" U1 "\",\"value\":\"192.0.2.1\"}"),
	    SK_ESTIX, "id prefix must match the observable type");

	cr_expect(sk_stix_is_sco_type("ipv4-addr"));
	cr_expect(sk_stix_is_sco_type("ipv6-addr"));
	cr_expect(sk_stix_is_sco_type("domain-name"));
	cr_expect(sk_stix_is_sco_type("file"));
	cr_expect(sk_stix_is_sco_type("url"));
	cr_expect(sk_stix_is_sco_type("x509-certificate"));
	cr_expect(sk_stix_is_sco_type("network-traffic"));
	cr_expect(!sk_stix_is_sco_type("indicator"));
	cr_expect(!sk_stix_is_sco_type("observed-data"));
	cr_expect(!sk_stix_is_sco_type("x-acme-widget"));
	cr_expect(!sk_stix_is_sco_type(""));
}

Test(stix, meta_and_relationship_classes)
{
	t_obj o;

	cr_expect_eq(t_validate(&o, "{\"type\":\"language-content\",\"spec_version\":\"2.1\","
	                            "\"id\":\"language-content--" U1 "\",\"created\":\"" T0
	                            "\",\"modified\":\"" T0 "\",\"object_ref\":\"campaign--" U2
	                            "\",\"object_modified\":\"" T0
	                            "\",\"contents\":{\"nl\":{\"name\":\"Campagne\"}}}"),
	             SK_OK, "%s", o.err.msg);
	cr_expect_eq(o.info.cls, SK_STIX_META);
	t_obj_free(&o);
	cr_expect_eq(t_validate(&o, cases21[2].json), SK_OK);
	cr_expect_eq(o.info.cls, SK_STIX_SRO);
	t_obj_free(&o);
}

/* --- spec_version ---------------------------------------------------------- */

Test(stix, spec_version_inference)
{
	t_obj o;
	char *text;

	/* stated */
	cr_expect_eq(t_validate(&o, identity21), SK_OK);
	cr_expect_str_eq(o.info.spec, "2.1");
	t_obj_free(&o);
	/* absent on an SDO: 2.0, with the 2.0 rules (identity_class) */
	text = t_without(identity21, "spec_version");
	cr_expect_eq(t_validate(&o, text), SK_ESTIX, "2.0 identity needs identity_class");
	cr_expect(strstr(o.err.msg, "identity_class") != NULL, "%s", o.err.msg);
	t_obj_free(&o);
	free(text);
	/* a 2.0 indicator needs no pattern_type, a 2.1 one does */
	text = t_without(cases20[0].json, "labels");
	cr_expect_eq(rc_with(text, "spec_version", "\"2.1\""), SK_ESTIX);
	free(text);
	text = t_without(INDICATOR21, "pattern_type");
	cr_expect_eq(rc_with(text, "labels", "[\"x\"]"), SK_ESTIX);
	free(text);
	/* explicit 2.0 */
	cr_expect_eq(t_validate(&o, cases20[0].json), SK_OK);
	cr_expect_str_eq(o.info.spec, "2.0");
	t_obj_free(&o);
	text = t_with(cases20[0].json, "spec_version", "\"2.0\"");
	cr_expect_eq(t_validate(&o, text), SK_OK, "%s", o.err.msg);
	cr_expect_str_eq(o.info.spec, "2.0");
	t_obj_free(&o);
	free(text);
	/* unsupported or mistyped */
	cr_expect_eq(rc_with(identity21, "spec_version", "\"2.2\""), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "spec_version", "\"2\""), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "spec_version", "\"2.1 \""), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "spec_version", "2.1"), SK_ESTIX);
	cr_expect_eq(rc_with(identity21, "spec_version", "null"), SK_ESTIX);
}

/* --- extracted facts ----------------------------------------------------- */

static sk_tlp tlp_of(const char *refs_json)
{
	t_obj o;
	char *text = t_with(identity21, "object_marking_refs", refs_json);
	sk_tlp t;

	cr_assert_eq(t_validate(&o, text), SK_OK, "%s", o.err.msg);
	t = o.info.tlp;
	t_obj_free(&o);
	free(text);
	return t;
}

Test(stix, tlp_most_restrictive_wins)
{
	t_obj o;

	cr_expect_eq(t_validate(&o, identity21), SK_OK);
	cr_expect_eq(o.info.tlp, SK_TLP_NONE, "no markings, no level");
	t_obj_free(&o);
	cr_expect_eq(tlp_of("[]"), SK_TLP_NONE);
	cr_expect_eq(tlp_of("[\"" TLP_GREEN "\"]"), SK_TLP_GREEN);
	cr_expect_eq(tlp_of("[\"" TLP_GREEN "\",\"" TLP_RED "\"]"), SK_TLP_RED);
	cr_expect_eq(tlp_of("[\"" TLP_RED "\",\"" TLP_GREEN "\"]"), SK_TLP_RED);
	cr_expect_eq(tlp_of("[\"" TLP1_AMBER "\",\"" TLP_AMBER_STRICT "\"]"), SK_TLP_AMBER_STRICT);
	cr_expect_eq(tlp_of("[\"" TLP_AMBER_STRICT "\",\"" TLP1_AMBER "\"]"), SK_TLP_AMBER_STRICT);
	cr_expect_eq(tlp_of("[\"" TLP1_WHITE "\"]"), SK_TLP_CLEAR);
	cr_expect_eq(tlp_of("[\"" TLP1_WHITE "\",\"" TLP_AMBER "\",\"" STATEMENT "\"]"),
	             SK_TLP_AMBER);
	cr_expect_eq(tlp_of("[\"" STATEMENT "\"]"), SK_TLP_NONE, "a statement is not TLP");

	/* granular markings do not set the object's level */
	char *text = t_with(identity21, "granular_markings",
	                    "[{\"marking_ref\":\"" TLP_RED "\",\"selectors\":[\"description\"]}]");
	cr_expect_eq(t_validate(&o, text), SK_OK);
	cr_expect_eq(o.info.tlp, SK_TLP_NONE);
	t_obj_free(&o);
	free(text);
}

Test(stix, version_key_selection)
{
	t_obj o;
	char *text;

	/* modified when present */
	cr_expect_eq(t_validate(&o, identity21), SK_OK);
	cr_expect_str_eq(o.info.version, "2020-01-02T00:00:00.000000000");
	cr_expect_str_eq(o.info.created, T0);
	cr_expect_str_eq(o.info.modified, T1);
	t_obj_free(&o);
	/* full precision in the key */
	text = t_with(identity21, "modified", "\"2020-01-02T03:04:05.123456789Z\"");
	cr_expect_eq(t_validate(&o, text), SK_OK);
	cr_expect_str_eq(o.info.version, "2020-01-02T03:04:05.123456789");
	cr_expect_str_eq(o.info.modified, "2020-01-02T03:04:05.123456789Z", "text kept as written");
	t_obj_free(&o);
	free(text);
	/* created for objects without modified (marking definitions) */
	cr_expect_eq(t_validate(&o, cases20[3].json), SK_OK);
	cr_expect_str_eq(o.info.version, "2020-01-01T00:00:00.000000000");
	t_obj_free(&o);
	/* none for observables */
	cr_expect_eq(t_validate(&o, "{\"type\":\"mutex\",\"id\":\"mutex--" U1
	                            "\",\"name\":\"__example_mutex\"}"),
	             SK_OK, "%s", o.err.msg);
	cr_expect_str_eq(o.info.version, "");
	t_obj_free(&o);
	/* two versions of one object order by their keys */
	char k1[SK_TS_KEY_LEN + 1], k2[SK_TS_KEY_LEN + 1];
	text = t_with(identity21, "modified", "\"2020-01-02T00:00:00.5Z\"");
	cr_expect_eq(t_validate(&o, text), SK_OK);
	memcpy(k2, o.info.version, sizeof(k2));
	t_obj_free(&o);
	free(text);
	text = t_with(identity21, "modified", "\"2020-01-02T00:00:00.49999Z\"");
	cr_expect_eq(t_validate(&o, text), SK_OK);
	memcpy(k1, o.info.version, sizeof(k1));
	t_obj_free(&o);
	free(text);
	cr_expect(strcmp(k1, k2) < 0, "%s should sort before %s", k1, k2);
}

Test(stix, relationship_facts)
{
	t_obj o;

	cr_expect_eq(t_validate(&o, cases21[2].json), SK_OK);
	cr_expect_str_eq(o.info.src_ref, "threat-actor--" U2);
	cr_expect_str_eq(o.info.dst_ref, "malware--" U3);
	cr_expect_str_eq(o.info.rel_type, "uses");
	t_obj_free(&o);

	cr_expect_eq(t_validate(&o, cases21[1].json), SK_OK);
	cr_expect_null(o.info.src_ref, "a sighting has no source_ref");
	cr_expect_str_eq(o.info.dst_ref, "indicator--" U2);
	cr_expect_str_eq(o.info.rel_type, "sighting");
	t_obj_free(&o);

	cr_expect_eq(t_validate(&o, identity21), SK_OK);
	cr_expect_null(o.info.src_ref);
	cr_expect_null(o.info.dst_ref);
	cr_expect_null(o.info.rel_type);
	cr_expect_null(o.info.created_by_ref);
	cr_expect(!o.info.revoked);
	t_obj_free(&o);
}

Test(stix, revoked_flag)
{
	t_obj o;
	char *text = t_with(identity21, "revoked", "true");

	cr_expect_eq(t_validate(&o, text), SK_OK);
	cr_expect(o.info.revoked);
	t_obj_free(&o);
	free(text);
	text = t_with(identity21, "revoked", "false");
	cr_expect_eq(t_validate(&o, text), SK_OK);
	cr_expect(!o.info.revoked);
	t_obj_free(&o);
	free(text);
}

/* The reference and cyber-observable MUSTs the OASIS stix-validator checks. */
#define HDR21(t) "{\"type\":\"" t "\",\"spec_version\":\"2.1\",\"id\":\"" t "--" U1 "\","
#define TIMES "\"created\":\"" T0 "\",\"modified\":\"" T0 "\","

Test(stix, references_and_observables)
{
	const char *rel = HDR21("relationship") TIMES "\"relationship_type\":\"uses\","
	                                              "\"source_ref\":\"malware--" U2 "\","
	                                              "\"target_ref\":\"attack-pattern--" U3 "\"}";
	const char *sig = HDR21("sighting") TIMES "\"sighting_of_ref\":\"indicator--" U2 "\","
	                                          "\"where_sighted_refs\":[\"identity--" U3 "\"]}";

	cr_expect_eq(rc_of(rel), SK_OK);
	cr_expect_eq(rc_with(rel, "target_ref", "\"ipv4-addr--" U3 "\""), SK_OK,
	             "an observable may be related");
	cr_expect_eq(rc_with(rel, "target_ref", "\"marking-definition--" U3 "\""), SK_ESTIX);
	cr_expect_eq(rc_with(rel, "source_ref", "\"relationship--" U3 "\""), SK_ESTIX);
	cr_expect_eq(rc_with(rel, "target_ref", "\"sighting--" U3 "\""), SK_ESTIX);
	cr_expect_eq(rc_with(rel, "target_ref", "\"bundle--" U3 "\""), SK_ESTIX);

	cr_expect_eq(rc_of(sig), SK_OK);
	cr_expect_eq(rc_with(sig, "where_sighted_refs", "[\"location--" U3 "\"]"), SK_OK);
	cr_expect_eq(rc_with(sig, "where_sighted_refs", "[\"malware--" U3 "\"]"), SK_ESTIX);
	cr_expect_eq(rc_with(sig, "sighting_of_ref", "\"sighting--" U3 "\""), SK_ESTIX);
	cr_expect_eq(rc_with(sig, "sighting_of_ref", "\"ipv4-addr--" U3 "\""), SK_ESTIX,
	             "a sighting is of a domain object, not an observable");
	cr_expect_eq(rc_with(sig, "sighting_of_ref", "\"x-custom-thing--" U3 "\""), SK_OK);

	const char *ip = "{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv4-addr--" U1
	                 "\",\"value\":\"198.51.100.3\"}";
	cr_expect_eq(rc_of(ip), SK_OK);
	cr_expect_eq(rc_with(ip, "value", "\"198.51.100.0/24\""), SK_OK);
	cr_expect_eq(rc_with(ip, "value", "\"198.51.100.300\""), SK_ESTIX);
	cr_expect_eq(rc_with(ip, "value", "\"198.51.100.0/33\""), SK_ESTIX);
	cr_expect_eq(rc_with(ip, "value", "\"2001:db8::1\""), SK_ESTIX);
	const char *ip6 = "{\"type\":\"ipv6-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv6-addr--" U1
	                  "\",\"value\":\"2001:db8::1\"}";
	cr_expect_eq(rc_of(ip6), SK_OK);
	cr_expect_eq(rc_with(ip6, "value", "\"2001:db8::/129\""), SK_ESTIX);
	const char *em = "{\"type\":\"email-addr\",\"spec_version\":\"2.1\",\"id\":\"email-addr--" U1
	                 "\",\"value\":\"soc@ncc.example\"}";
	cr_expect_eq(rc_of(em), SK_OK);
	cr_expect_eq(rc_with(em, "value", "\"no-at-sign.example\""), SK_ESTIX);
	cr_expect_eq(rc_with(em, "value", "\"a b@x.example\""), SK_ESTIX);
	const char *rk = "{\"type\":\"windows-registry-key\",\"spec_version\":\"2.1\","
	                 "\"id\":\"windows-registry-key--" U1 "\","
	                 "\"key\":\"HKEY_LOCAL_MACHINE\\\\Software\\\\Example\"}";
	cr_expect_eq(rc_of(rk), SK_OK);
	cr_expect_eq(rc_with(rk, "key", "\"HKLM\\\\Software\""), SK_OK);
	cr_expect_eq(rc_with(rk, "key", "\"HKEY_NOWHERE\\\\Software\""), SK_ESTIX);
	const char *file = "{\"type\":\"file\",\"spec_version\":\"2.1\",\"id\":\"file--" U1
	                   "\",\"name\":\"x.bin\",\"mtime\":\"2020-01-01T00:00:00Z\"}";
	cr_expect_eq(rc_of(file), SK_OK);
	cr_expect_eq(rc_with(file, "mtime", "\"2020-02-30T00:00:00Z\""), SK_ESTIX,
	             "observable timestamps are real dates");
	const char *nt = "{\"type\":\"network-traffic\",\"spec_version\":\"2.1\","
	                 "\"id\":\"network-traffic--" U1 "\",\"dst_ref\":\"ipv4-addr--" U2 "\","
	                 "\"protocols\":[\"tcp\"],\"start\":\"2020-01-01T00:00:00Z\","
	                 "\"end\":\"2020-01-01T00:01:00Z\"}";
	cr_expect_eq(rc_of(nt), SK_OK);
	cr_expect_eq(rc_with(nt, "end", "\"2019-12-31T00:00:00Z\""), SK_ESTIX);
	cr_expect_eq(rc_of("{\"type\":\"network-traffic\",\"spec_version\":\"2.1\","
	                   "\"id\":\"network-traffic--" U1 "\",\"protocols\":[\"tcp\"]}"),
	             SK_ESTIX, "network traffic needs a side");
	/* the observables inside STIX 2.0 observed-data */
	const char *od = "{\"type\":\"observed-data\",\"id\":\"observed-data--" U1 "\"," TIMES
	                 "\"first_observed\":\"" T0 "\",\"last_observed\":\"" T0 "\","
	                 "\"number_observed\":1,\"objects\":{\"0\":{\"type\":\"ipv4-addr\","
	                 "\"value\":\"192.0.2.1\"}}}";
	cr_expect_eq(rc_of(od), SK_OK);
	cr_expect_eq(rc_with(od, "objects", "{\"0\":{\"type\":\"ipv4-addr\",\"value\":\"x\"}}"),
	             SK_ESTIX);

	/* TLP definitions: only the four STIX defines, with their own content */
	const char *tlp = "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\","
	                  "\"id\":\"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed\","
	                  "\"created\":\"2017-01-20T00:00:00.000Z\",\"definition_type\":\"tlp\","
	                  "\"name\":\"TLP:RED\",\"definition\":{\"tlp\":\"red\"}}";
	cr_expect_eq(rc_of(tlp), SK_OK);
	cr_expect_eq(rc_with(tlp, "definition", "{\"tlp\":\"white\"}"), SK_ESTIX,
	             "the RED id saying white");
	cr_expect_eq(rc_with(tlp, "id", "\"marking-definition--" U1 "\""), SK_ESTIX,
	             "a TLP definition of one's own");
}
