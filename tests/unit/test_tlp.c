/*
 * test_tlp.c - TLP levels, their marking-definition ids (TLP 1.0 and 2.0),
 * names, parsing and the predefined TLP 2.0 marking objects.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "schakel/tlp.h"
#include "sk_test.h"

#define MD "marking-definition--"

/* TLP 2.0 (FIRST) and TLP 1.0 (STIX 2.x predefined) marking-definition ids. */
static const struct {
	const char *id;
	sk_tlp level;
} known[] = {
    {MD "94868c89-83c2-464b-929b-a1a8aa3c8487", SK_TLP_CLEAR},
    {MD "bab4a63c-aed9-4cf5-a766-dfca5abac2bb", SK_TLP_GREEN},
    {MD "55d920b0-5e8b-4f79-9ee9-91f868d9b421", SK_TLP_AMBER},
    {MD "939a9414-2ddd-4d32-a0cd-375ea402b003", SK_TLP_AMBER_STRICT},
    {MD "e828b379-4e03-4974-9ac4-e53a884c97c1", SK_TLP_RED},
    {MD "613f2e26-407d-48c7-9eca-b8e91df99dc9", SK_TLP_CLEAR}, /* TLP:WHITE */
    {MD "34098fce-860f-48ae-8e50-ebd3cc5e41da", SK_TLP_GREEN},
    {MD "f88d31f6-486f-44da-b317-01333bde0b82", SK_TLP_AMBER},
    {MD "5e57c739-391a-4eb3-b6be-7d15ca92d5ed", SK_TLP_RED},
};

Test(tlp, levels_are_ordered_by_restriction)
{
	cr_expect_lt(SK_TLP_NONE, SK_TLP_CLEAR);
	cr_expect_lt(SK_TLP_CLEAR, SK_TLP_GREEN);
	cr_expect_lt(SK_TLP_GREEN, SK_TLP_AMBER);
	cr_expect_lt(SK_TLP_AMBER, SK_TLP_AMBER_STRICT);
	cr_expect_lt(SK_TLP_AMBER_STRICT, SK_TLP_RED);
}

Test(tlp, marking_ids_map_to_levels)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		cr_expect_eq(sk_tlp_from_marking(known[i].id), known[i].level, "%s -> %d, want %d",
		             known[i].id, sk_tlp_from_marking(known[i].id), known[i].level);
}

Test(tlp, marking_id_uuid_case_is_ignored)
{
	cr_expect_eq(sk_tlp_from_marking(MD "E828B379-4E03-4974-9AC4-E53A884C97C1"), SK_TLP_RED);
	cr_expect_eq(sk_tlp_from_marking(MD "F88D31F6-486F-44DA-B317-01333BDE0B82"), SK_TLP_AMBER);
}

Test(tlp, other_ids_are_not_tlp)
{
	static const char *const other[] = {
	    "",
	    MD "00000000-0000-4000-8000-000000000000",        /* a statement marking */
	    "identity--613f2e26-407d-48c7-9eca-b8e91df99dc9", /* right UUID, wrong type */
	    "Marking-Definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
	    MD "613f2e26-407d-48c7-9eca-b8e91df99dc",   /* truncated */
	    MD "613f2e26-407d-48c7-9eca-b8e91df99dc9x", /* trailing byte */
	    MD,
	    "marking-definition-613f2e26-407d-48c7-9eca-b8e91df99dc9",
	};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		cr_expect_eq(sk_tlp_from_marking(other[i]), SK_TLP_NONE, "'%s' is not TLP",
		             other[i]);
	cr_expect_eq(sk_tlp_from_marking(NULL), SK_TLP_NONE);
}

Test(tlp, marking_id_gives_the_tlp2_id)
{
	cr_expect_null(sk_tlp_marking_id(SK_TLP_NONE));
	cr_expect_null(sk_tlp_marking_id((sk_tlp)6));
	for (size_t i = 0; i < 5; i++) {
		cr_expect_str_eq(sk_tlp_marking_id(known[i].level), known[i].id);
		cr_expect_eq(sk_tlp_from_marking(sk_tlp_marking_id(known[i].level)),
		             known[i].level);
	}
}

Test(tlp, names)
{
	cr_expect_str_eq(sk_tlp_name(SK_TLP_NONE), "none");
	cr_expect_str_eq(sk_tlp_name(SK_TLP_CLEAR), "TLP:CLEAR");
	cr_expect_str_eq(sk_tlp_name(SK_TLP_GREEN), "TLP:GREEN");
	cr_expect_str_eq(sk_tlp_name(SK_TLP_AMBER), "TLP:AMBER");
	cr_expect_str_eq(sk_tlp_name(SK_TLP_AMBER_STRICT), "TLP:AMBER+STRICT");
	cr_expect_str_eq(sk_tlp_name(SK_TLP_RED), "TLP:RED");
	cr_expect_str_eq(sk_tlp_name((sk_tlp)42), "none");
	cr_expect_str_eq(sk_tlp_name((sk_tlp)-1), "none");
}

Test(tlp, parse_names)
{
	static const struct {
		const char *s;
		sk_tlp level;
	} ok[] = {
	    {"clear", SK_TLP_CLEAR},
	    {"CLEAR", SK_TLP_CLEAR},
	    {"white", SK_TLP_CLEAR},
	    {"TLP:WHITE", SK_TLP_CLEAR},
	    {"green", SK_TLP_GREEN},
	    {"tlp:Green", SK_TLP_GREEN},
	    {"amber", SK_TLP_AMBER},
	    {"TLP:AMBER", SK_TLP_AMBER},
	    {"amber+strict", SK_TLP_AMBER_STRICT},
	    {"TLP:AMBER+STRICT", SK_TLP_AMBER_STRICT},
	    {"red", SK_TLP_RED},
	    {"Tlp:rEd", SK_TLP_RED},
	};
	static const char *const bad[] = {
	    "",     "tlp:", "orange",  "amber strict", "amber-strict", "amber+", "tlp:tlp:red",
	    " red", "red ", "TLP red", "none",
	};
	sk_tlp t;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		t = SK_TLP_NONE;
		cr_expect(sk_tlp_parse(ok[i].s, &t), "'%s' should parse", ok[i].s);
		cr_expect_eq(t, ok[i].level, "'%s'", ok[i].s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = SK_TLP_GREEN;
		cr_expect(!sk_tlp_parse(bad[i], &t), "'%s' should not parse", bad[i]);
		cr_expect_eq(t, SK_TLP_GREEN, "a failed parse leaves the output alone");
	}
	cr_expect(!sk_tlp_parse(NULL, &t));
	/* every name the module prints parses back to its level */
	for (int l = SK_TLP_CLEAR; l <= SK_TLP_RED; l++) {
		cr_expect(sk_tlp_parse(sk_tlp_name((sk_tlp)l), &t));
		cr_expect_eq(t, (sk_tlp)l);
	}
}

Test(tlp, marking_json_objects)
{
	static const char *const lvl[] = {NULL, "clear", "green", "amber", "amber+strict", "red"};

	cr_expect_null(sk_tlp_marking_json(SK_TLP_NONE));
	cr_expect_null(sk_tlp_marking_json((sk_tlp)6));
	for (int l = SK_TLP_CLEAR; l <= SK_TLP_RED; l++) {
		const char *text = sk_tlp_marking_json((sk_tlp)l);
		json_error_t je;
		json_t *o, *ext;
		t_obj v;

		cr_assert_not_null(text);
		o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
		cr_assert_not_null(o, "level %d: %s", l, je.text);
		cr_expect_str_eq(json_string_value(json_object_get(o, "type")),
		                 "marking-definition");
		cr_expect_str_eq(json_string_value(json_object_get(o, "spec_version")), "2.1");
		cr_expect_str_eq(json_string_value(json_object_get(o, "id")),
		                 sk_tlp_marking_id((sk_tlp)l));
		cr_expect_str_eq(json_string_value(json_object_get(o, "name")),
		                 sk_tlp_name((sk_tlp)l));
		ext = json_object_get(json_object_get(o, "extensions"),
		                      "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d");
		cr_assert_not_null(ext, "level %d: no TLP 2.0 extension", l);
		cr_expect_str_eq(json_string_value(json_object_get(ext, "extension_type")),
		                 "property-extension");
		cr_expect_str_eq(json_string_value(json_object_get(ext, "tlp_2_0")), lvl[l]);
		json_decref(o);

		/* and it is a valid STIX 2.1 marking definition */
		cr_expect_eq(t_validate(&v, text), SK_OK, "level %d: %s", l, v.err.msg);
		cr_expect_str_eq(v.info.spec, "2.1");
		cr_expect_eq(v.info.cls, SK_STIX_META);
		cr_expect_str_eq(v.info.version, "2022-10-01T00:00:00.000000000");
		t_obj_free(&v);
	}
}
