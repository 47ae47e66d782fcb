/*
 * coop.h - measured cooperation (docs/cooperation.md): per partner and
 * period, what was received and sent, how fast it travelled, what it made
 * detectable and how much earlier, computed from the records this node
 * keeps (objects.rx and added, provenance, the audit log of exits,
 * sightings, peers and their sync state, partners and their identities'
 * sectors).  No table of its own: the figures are recomputed on demand.
 *
 * Visibility: object reads go through the SQL function sk_visible, which
 * the caller binds beforehand (sk_view_bind, policy.h), as for intel.h.  A
 * report scoped to one partner (opts.partner) counts besides only the
 * versions that partner was given (an audited exit to it), gave us, or
 * produced: it never counts what the partner was not given.
 */
#ifndef SCHAKEL_COOP_H
#define SCHAKEL_COOP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/buf.h"
#include "schakel/error.h"
#include "schakel/store.h"

/* The schema name of the report (docs/cooperation.md); bumped on an incompatible change. */
#define SK_COOP_SCHEMA    "schakel.cooperation/1"
#define SK_COOP_REACH_MAX 200 /* reports and groupings listed in reach */

/* A distribution of durations in seconds; n == 0 means no sample (the others 0). */
typedef struct sk_coop_dist {
	size_t n;
	double median, p90, max, min;
} sk_coop_dist;

/*
 * The distribution of v[0..n) (reordered in place): median is the middle
 * value (the mean of the two middle ones for even n), p90 the nearest-rank
 * 90th percentile (the value at rank ceil(0.9 n)), max the largest.
 */
void sk_coop_dist_of(double *v, size_t n, sk_coop_dist *out);

/* {"n", "median", "p90", "max"}: numbers, or null medians with n 0.  New reference. */
json_t *sk_coop_dist_json(const sk_coop_dist *d);

typedef struct sk_coop_opts {
	int64_t since;       /* µs since the epoch, inclusive; 0 = from the start */
	int64_t until;       /* exclusive; 0 = now */
	const char *partner; /* a partner's or peer's name or identity; NULL = all */
	/*
	 * With partner: the report becomes the basis of a summary for it
	 * (sk_coop_summary): sightings of indicators the partner produced or
	 * relayed here count if the bound view shows them, and are listed by
	 * id in "keyed_sightings"; the node's capacity is included.
	 */
	bool keyed;
} sk_coop_opts;

/*
 * The cooperation report of the period (the JSON of docs/cooperation.md,
 * schema SK_COOP_SCHEMA) in *out (caller decrefs).  SK_ENOTFOUND when
 * opts->partner names no partner or peer; SK_EINVAL when since >= until.
 */
sk_err sk_coop_report(sk_store *st, const sk_coop_opts *opts, json_t **out, sk_error *err);

/*
 * The report as CSV (one row per partner, the flat per-partner figures),
 * or as one self-contained HTML page with inline SVG charts, appended to
 * b.  rep is a report of sk_coop_report.
 */
sk_err sk_coop_csv(const json_t *rep, sk_buf *b, sk_error *err);
sk_err sk_coop_html(const json_t *rep, sk_buf *b, sk_error *err);

/* --- the federation view (docs/cooperation.md) ------------------------------------------ */

/* The custom STIX type of a node's summary, and the extension-definition that defines it. */
#define SK_COOP_SUMMARY_TYPE "x-schakel-coop-summary"
#define SK_COOP_EXT_ID       "extension-definition--bcc532a3-9342-427e-959f-56a8687363c4"
/* The network report's schema name. */
#define SK_COOP_NET_SCHEMA "schakel.cooperation-network/1"

/* The extension-definition object of SK_COOP_EXT_ID, as compact JSON (static). */
const char *sk_coop_extension_definition(void);

/*
 * This node's summary for partner opts->partner (its name or identity)
 * over the period, as an unsigned STIX object in *out (caller decrefs):
 * the partner-scoped report with opts.keyed, so computed through the view
 * the caller bound, which must be that partner's (sk_partner_principal).
 * SK_EINVAL when the partner has no identity.
 */
sk_err sk_coop_summary(sk_store *st, const sk_coop_opts *opts, json_t **out, sk_error *err);

/*
 * Store a summary of sk_coop_summary as made here (signed with the node
 * key by the write rule), in no collection; *ver receives its version.
 * Inside the caller's transaction (sk_store_begin), so that storing it,
 * queueing it and auditing it succeed or fail together.
 */
sk_err sk_coop_summary_store(sk_store *st, json_t *obj, int64_t *ver, sk_error *err);

/*
 * The network report at a hub (schema SK_COOP_NET_SCHEMA) in *out: the
 * summaries addressed to this node whose period lies in opts' (per node
 * the newest of overlapping ones; only those whose signature verified)
 * combined with this node's own records; keyed sightings counted once.
 * The caller binds the view first, as for sk_coop_report.
 */
sk_err sk_coop_network(sk_store *st, const sk_coop_opts *opts, json_t **out, sk_error *err);
sk_err sk_coop_network_csv(const json_t *rep, sk_buf *b, sk_error *err);
sk_err sk_coop_network_html(const json_t *rep, sk_buf *b, sk_error *err);

#endif
