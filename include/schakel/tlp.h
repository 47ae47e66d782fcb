/*
 * tlp.h - Traffic Light Protocol levels and their STIX marking definitions.
 *
 * Levels are ordered by restriction so that "most restrictive wins" is a max.
 * TLP 1.0 markings (the STIX 2.x predefined WHITE/GREEN/AMBER/RED) map onto
 * the TLP 2.0 levels CLEAR/GREEN/AMBER/RED.  SK_TLP_NONE means the object
 * carries no TLP marking of its own (the sharing layer then applies the
 * collection's default).
 */
#ifndef SCHAKEL_TLP_H
#define SCHAKEL_TLP_H

#include <stdbool.h>
#include <stddef.h>

typedef enum sk_tlp {
	SK_TLP_NONE = 0,
	SK_TLP_CLEAR = 1,
	SK_TLP_GREEN = 2,
	SK_TLP_AMBER = 3,
	SK_TLP_AMBER_STRICT = 4,
	SK_TLP_RED = 5,
} sk_tlp;

/* The TLP level a marking-definition id stands for, or SK_TLP_NONE. */
sk_tlp sk_tlp_from_marking(const char *id);

/* The TLP 2.0 marking-definition id for a level (NULL for SK_TLP_NONE). */
const char *sk_tlp_marking_id(sk_tlp level);

/* "TLP:AMBER+STRICT" etc.; "none" for SK_TLP_NONE. */
const char *sk_tlp_name(sk_tlp level);

/* Parse "clear", "white", "green", "amber", "amber+strict", "red" (any case,
 * optional "TLP:" prefix).  Returns false if unknown. */
bool sk_tlp_parse(const char *s, sk_tlp *out);

/* The id of FIRST's TLP 2.0 STIX extension (its property "tlp_2_0"). */
#define SK_TLP_EXTENSION_ID "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

struct sk_jval;

/*
 * The TLP level a marking-definition object states by its content: STIX 2.0/2.1
 * "definition_type": "tlp" with definition.tlp, or the TLP 2.0 extension's
 * tlp_2_0.  SK_TLP_NONE if it is not a TLP marking; SK_TLP_AMBER if it is
 * one whose level is not a known name (fail closed).
 */
sk_tlp sk_tlp_of_definition(const struct sk_jval *obj);

/*
 * The full TLP 2.0 marking-definition object for a level, as compact JSON
 * (static storage, never freed).  NULL for SK_TLP_NONE.
 */
const char *sk_tlp_marking_json(sk_tlp level);

#endif
