/*
 * tlp.c - the TLP 1.0 and TLP 2.0 marking-definition identifiers.
 *
 * The TLP 2.0 ids are the ones FIRST's TLP 2.0 STIX extension publishes (and
 * MISP and OpenCTI use); the TLP 1.0 ids are STIX 2.x's predefined markings.
 */
#include "schakel/tlp.h"

#include <string.h>
#include <strings.h>

#include "schakel/json.h"

struct tlp_id {
	const char *id;
	sk_tlp level;
};

static const struct tlp_id tlp_ids[] = {
    /* TLP 2.0 */
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", SK_TLP_CLEAR},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", SK_TLP_GREEN},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", SK_TLP_AMBER},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", SK_TLP_AMBER_STRICT},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", SK_TLP_RED},
    /* TLP 1.0 (STIX 2.0/2.1 predefined) */
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", SK_TLP_CLEAR},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", SK_TLP_GREEN},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", SK_TLP_AMBER},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", SK_TLP_RED},
};

sk_tlp sk_tlp_from_marking(const char *id)
{
	/* All ids share the 20-byte prefix; compare the UUID part. */
	if (!id || strncmp(id, "marking-definition--", 20) != 0)
		return SK_TLP_NONE;
	for (size_t i = 0; i < sizeof(tlp_ids) / sizeof(tlp_ids[0]); i++)
		if (strcasecmp(id + 20, tlp_ids[i].id + 20) == 0)
			return tlp_ids[i].level;
	return SK_TLP_NONE;
}

const char *sk_tlp_marking_id(sk_tlp level)
{
	if (level < SK_TLP_CLEAR || level > SK_TLP_RED)
		return NULL;
	return tlp_ids[level - 1].id;
}

const char *sk_tlp_name(sk_tlp level)
{
	static const char *const names[] = {"none",	 "TLP:CLEAR",	     "TLP:GREEN",
					    "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"};
	if ((unsigned)level > SK_TLP_RED)
		return "none";
	return names[level];
}

bool sk_tlp_parse(const char *s, sk_tlp *out)
{
	static const struct {
		const char *name;
		sk_tlp level;
	} names[] = {{"clear", SK_TLP_CLEAR}, {"white", SK_TLP_CLEAR},
		     {"green", SK_TLP_GREEN}, {"amber", SK_TLP_AMBER},
		     {"amber+strict", SK_TLP_AMBER_STRICT}, {"red", SK_TLP_RED}};
	if (!s)
		return false;
	if (strncasecmp(s, "tlp:", 4) == 0)
		s += 4;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].level;
			return true;
		}
	}
	return false;
}

const char *sk_tlp_marking_json(sk_tlp level)
{
#define TLP2(uuid, NAME, lvl)                                                                            \
	"{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"marking-definition--" uuid \
	"\",\"created\":\"2022-10-01T00:00:00.000Z\",\"name\":\"TLP:" NAME                          \
	"\",\"extensions\":{\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\":{"      \
	"\"extension_type\":\"property-extension\",\"tlp_2_0\":\"" lvl "\"}}}"
	static const char *const json[] = {
	    NULL,
	    TLP2("94868c89-83c2-464b-929b-a1a8aa3c8487", "CLEAR", "clear"),
	    TLP2("bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "GREEN", "green"),
	    TLP2("55d920b0-5e8b-4f79-9ee9-91f868d9b421", "AMBER", "amber"),
	    TLP2("939a9414-2ddd-4d32-a0cd-375ea402b003", "AMBER+STRICT", "amber+strict"),
	    TLP2("e828b379-4e03-4974-9ac4-e53a884c97c1", "RED", "red"),
	};
#undef TLP2
	if ((unsigned)level > SK_TLP_RED)
		return NULL;
	return json[level];
}

sk_tlp sk_tlp_of_definition(const sk_jval *obj)
{
	const sk_jval *ext = sk_json_get(sk_json_get(obj, "extensions"), SK_TLP_EXTENSION_ID);
	const char *name = NULL, *type = sk_json_str(sk_json_get(obj, "definition_type"));
	bool tlp = false;
	sk_tlp level;

	if (ext) {
		tlp = true;
		name = sk_json_str(sk_json_get(ext, "tlp_2_0"));
	} else if (type && !strcasecmp(type, "tlp")) {
		tlp = true;
		name = sk_json_str(sk_json_get(sk_json_get(obj, "definition"), "tlp"));
	}
	if (!tlp)
		return SK_TLP_NONE;
	return name && sk_tlp_parse(name, &level) ? level : SK_TLP_AMBER;
}
