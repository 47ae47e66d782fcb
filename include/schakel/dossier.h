/*
 * dossier.h - attribution dossiers (docs/dossier.md): everything the store
 * holds about an intrusion set, threat actor or campaign, assembled for a
 * diplomatic response: the attribution chain to a state with the
 * confidence of each link and of the chain, what the subject did, who was
 * hit, a timeline, the allies' opinions, the gaps, and the EU
 * cyber-sanctions test point by point.  The dossier informs a decision; it
 * never makes one.
 *
 * Visibility: like intel.h, every object is read through the SQL function
 * sk_visible that the caller has bound on st's connection (sk_view_bind):
 * the local operator's view for the author's version, a partner's view
 * for the releasable version (--for).  Every figure is computed from what
 * the bound view sees, so a releasable version carries nothing of what
 * was left out, not even a count.
 */
#ifndef SCHAKEL_DOSSIER_H
#define SCHAKEL_DOSSIER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/buf.h"
#include "schakel/error.h"
#include "schakel/store.h"

#define SK_DOSSIER_LIST_MAX 200 /* items per list; the dossier says when it cut one */

/*
 * One audience of the author's version: a partner the dossier marks items
 * for that it could not receive.  visible() answers for one object version
 * (its row id, stored TLP, producer and source), as sk_view_visible does.
 */
typedef struct sk_dossier_audience {
	const char *name;
	bool (*visible)(void *ud, int64_t ver, int tlp, const char *created_by, const char *rx);
	void *ud;
} sk_dossier_audience;

typedef struct sk_dossier_opts {
	const char *subject;  /* an id, or a name or alias (any case) */
	const char *since;    /* RFC 3339: events and sightings before it are left out; or NULL */
	const char *for_name; /* the partner of a releasable version (shown), or NULL */
	size_t list_max;      /* items per list (0 = SK_DOSSIER_LIST_MAX) */
	const sk_dossier_audience *aud; /* author's version: partners to mark items for */
	size_t naud;
} sk_dossier_opts;

/*
 * Build the dossier (docs/dossier.md) into *out (caller json_decref's).
 * SK_ENOTFOUND for an unknown subject (or one of another type), SK_EINVAL
 * for a name that matches several objects of the same type (the message
 * lists them) or a bad --since.  A subject without attribution or with an
 * attributed-to cycle is a dossier that says so (attribution.result).
 */
sk_err sk_dossier_build(sk_store *st, const sk_dossier_opts *o, json_t **out, sk_error *err);

/*
 * Every object version the dossier rests on (objects.ver), for the audit
 * entry of a dossier that leaves the node: a new array the caller frees.
 */
sk_err sk_dossier_versions(const json_t *dossier, int64_t **vers, size_t *n, sk_error *err);

/* The dossier as one self-contained printable HTML document, appended to out. */
sk_err sk_dossier_html(const json_t *dossier, sk_buf *out, sk_error *err);

/*
 * The dossier as a STIX 2.1 bundle: a report (report_types from the
 * subject's type, label "attribution-dossier", object_refs to every object
 * the dossier rests on) signed with the node's key, and the visible
 * objects it references (latest versions, as stored).  *out is the bundle
 * (caller json_decref's).  SK_ENOTINIT if the node has no identity.
 */
sk_err sk_dossier_stix(sk_store *st, const json_t *dossier, json_t **out, sk_error *err);

/* --- opinions (joint attribution) ---------------------------------------------------- */

/*
 * Make an opinion of this node on report_id ("strongly-disagree" ...
 * "strongly-agree") with an explanation: a STIX 2.1 opinion produced and
 * signed here, with the report's marking, stored in every collection that
 * holds the report (so it travels back to the report's producer like a
 * sighting).  id_out receives its id (at least 64 bytes).  SK_ENOTFOUND for
 * an unknown report, SK_EINVAL for a bad opinion value or explanation.
 */
sk_err sk_dossier_opinion_add(sk_store *st, const char *report_id, const char *opinion,
                              const char *explanation, char *id_out, sk_error *err);

#endif
