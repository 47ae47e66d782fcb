/*
 * stix.h - the STIX 2.0 / 2.1 object model: validation and the facts the
 * store indexes (id, version, markings, relationship ends).
 *
 * Validation follows the specifications' MUST rules for the common properties
 * and the required properties of every core type; custom types and custom
 * properties are accepted and kept as they are.  Version rules: an object's
 * version is its `modified` (or `created` for objects that have no modified,
 * such as marking definitions); cyber observables have a single version.
 */
#ifndef SCHAKEL_STIX_H
#define SCHAKEL_STIX_H

#include <stdbool.h>

#include "schakel/error.h"
#include "schakel/json.h"
#include "schakel/timestamp.h"
#include "schakel/tlp.h"

typedef enum sk_stix_class {
	SK_STIX_SDO,     /* domain object, including custom x- types */
	SK_STIX_SRO,     /* relationship or sighting */
	SK_STIX_SCO,     /* cyber-observable object */
	SK_STIX_META,    /* marking-definition, language-content, extension-definition */
} sk_stix_class;

/* What validation learns about an object.  Strings are borrowed from the parsed document. */
typedef struct sk_stix_info {
	const char *type;
	const char *id;
	const char *spec;                  /* "2.0" or "2.1" (static string) */
	char version[SK_TS_KEY_LEN + 1];   /* sortable version key, "" if unversioned */
	const char *created, *modified;    /* as written, or NULL */
	bool revoked;
	const char *created_by_ref;        /* or NULL */
	sk_tlp tlp;                        /* most restrictive TLP in object_marking_refs */
	const char *src_ref, *dst_ref;     /* relationship ends, sighting_of_ref as dst */
	const char *rel_type;              /* relationship_type, "sighting" for sightings */
	sk_stix_class cls;
	const sk_jval *marking_refs; /* object_marking_refs array, or NULL */
	const sk_jval *granular;     /* granular_markings array, or NULL */
	const sk_jval *obj;          /* the validated object itself */
	/*
	 * 1 + the signature verdict (sign.h) when the import pipeline already
	 * checked it beside the storing thread, 0 when not (store_rule.c)
	 */
	int presig;
} sk_stix_info;

/*
 * Validate obj as a STIX object and fill *info.  On failure returns SK_ESTIX
 * (or SK_EINVAL when obj is not a JSON object) with the reason in err, which
 * starts with the object's id when it has a usable one.  info borrows from obj.
 */
sk_err sk_stix_validate(const sk_jval *obj, sk_stix_info *info, sk_error *err);

/*
 * Convenience for objects built in memory: parse text[0..len) into doc and
 * validate it.  info borrows from doc.
 */
sk_err sk_stix_validate_text(sk_jdoc *doc, const char *text, size_t len, sk_stix_info *info,
			     sk_error *err);

/* True if s is "type--UUID" with a valid type name; if type is non-NULL the
 * prefix must equal it. */
bool sk_stix_id_valid(const char *s, const char *type);

/* True for the STIX 2.1 cyber-observable types. */
bool sk_stix_is_sco_type(const char *type);

#endif
