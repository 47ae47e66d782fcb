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

#endif
