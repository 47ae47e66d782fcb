/*
 * feed_csv.c - CSV feeds (feed import --format csv): the header line maps
 * the columns (guessed from their names, or named with --column), each
 * record then becomes one entry for the importer (feed.c).  Runs on the
 * import's reader thread.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "feeds/feed_ctx.h"
#include "feeds/feed_int.h"

/* Resolve the column map against the header line. */
static sk_err csv_header(ctx *c, char *s, size_t n, sk_error *err)
{
	static const char *const v_names[] = {"indicator", "ioc", "value", "observable", "ip",
	                                      "domain",    "url", "hash",  NULL};
	static const char *const k_names[] = {"kind", "type", NULL};
	static const char *const l_names[] = {"category", "label",   "labels", "tags",
	                                      "threat",   "malware", NULL};
	const char *h[CSV_MAX_COLS];
	size_t hl[CSV_MAX_COLS];
	int nh = sk_feed_csv_split(s, n, h, hl, CSV_MAX_COLS);
	csv_map *m = &c->csv;

	if (nh < 1)
		return sk_error_set(err, SK_EINVAL, "%s: the csv header line is malformed",
		                    c->name);
	m->have_header = true;
	m->value = m->kind = m->name = -1;
	m->nlabel = 0;
	if (!c->o->columns) {
		m->value = sk_feed_col_guess(h, hl, nh, v_names);
		m->kind = sk_feed_col_guess(h, hl, nh, k_names);
		for (size_t j = 0; l_names[j] && m->nlabel < SK_FEED_MAX_LABELS; j++) {
			int i = sk_feed_col_find(h, hl, nh, l_names[j], strlen(l_names[j]));
			if (i >= 0)
				m->label[m->nlabel++] = i;
		}
	} else {
		const char *p = c->o->columns;
		while (*p) {
			const char *comma = strchr(p, ','), *eq;
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			int col;
			eq = memchr(p, '=', len);
			if (!eq)
				return sk_error_set(err, SK_EINVAL,
				                    "--column: '%.*s' is not ROLE=COLUMN", (int)len,
				                    p);
			col = sk_feed_col_find(h, hl, nh, eq + 1, len - (size_t)(eq + 1 - p));
			if (col < 0)
				return sk_error_set(err, SK_EINVAL,
				                    "--column: %s has no column '%.*s'", c->name,
				                    (int)(len - (size_t)(eq + 1 - p)), eq + 1);
			if (eq - p == 5 && !strncmp(p, "value", 5))
				m->value = col;
			else if (eq - p == 4 && !strncmp(p, "kind", 4))
				m->kind = col;
			else if (eq - p == 4 && !strncmp(p, "name", 4))
				m->name = col;
			else if (eq - p == 5 && !strncmp(p, "label", 5) &&
			         m->nlabel < SK_FEED_MAX_LABELS)
				m->label[m->nlabel++] = col;
			else
				return sk_error_set(err, SK_EINVAL,
				                    "--column: unknown role '%.*s' (value, kind, "
				                    "label, name)",
				                    (int)(eq - p), p);
			p += len;
			if (*p == ',')
				p++;
		}
	}
	if (m->value < 0)
		return sk_error_set(err, SK_EINVAL,
		                    "%s: no indicator column in the csv header (use --column "
		                    "value=NAME)",
		                    c->name);
	return SK_OK;
}

sk_err sk_feed_line_csv(ctx *c, uint64_t line, char *s, size_t n, sk_error *err)
{
	unsigned family = 0; /* a generic kind ("ip", "hash"): detect, then check */
	const char *f[CSV_MAX_COLS];
	size_t fl[CSV_MAX_COLS];
	entry e = {0};
	bool detect = true;
	int nf;

	if (!c->csv.have_header)
		return csv_header(c, s, n, err);
	nf = sk_feed_csv_split(s, n, f, fl, CSV_MAX_COLS);
	if (nf < 0) {
		sk_feed_reject(c, line, "malformed csv record (quotes, or more than 64 fields)");
		return SK_OK;
	}
	if (c->csv.value >= nf || fl[c->csv.value] == 0) {
		sk_feed_reject(c, line, "no indicator in this record");
		return SK_OK;
	}
	if (c->csv.kind >= 0 && c->csv.kind < nf && fl[c->csv.kind]) {
		bool known =
		    sk_feed_maltrail_kind(f[c->csv.kind], fl[c->csv.kind], &e.kind, &detect);
		if (!known) {
			for (int k = 0; k < SK_FK__COUNT; k++) {
				const char *kn = sk_feed_kind_name((sk_feed_kind)k);
				if (strlen(kn) == fl[c->csv.kind] &&
				    !strncasecmp(kn, f[c->csv.kind], fl[c->csv.kind])) {
					e.kind = (sk_feed_kind)k;
					known = true;
					detect = false;
				}
			}
		}
		if (!known)
			known = sk_feed_generic_kind(f[c->csv.kind], fl[c->csv.kind], &family);
		if (!known) {
			sk_feed_reject(c, line, "unknown indicator kind");
			return SK_OK;
		}
		if (family)
			detect = true;
	}
	if (!sk_feed_value_ok(c, line, f[c->csv.value], fl[c->csv.value], &e.kind, detect))
		return SK_OK;
	if (family && !(family & sk_feed_kind_family(e.kind))) {
		sk_feed_reject(c, line, "the value is not what its kind column says");
		return SK_OK;
	}
	if (c->csv.name >= 0 && c->csv.name < nf && fl[c->csv.name]) {
		e.name = f[c->csv.name];
		e.name_n = fl[c->csv.name];
	}
	for (size_t i = 0; i < c->csv.nlabel; i++) {
		int col = c->csv.label[i];
		if (col < nf && fl[col]) {
			e.labels[e.nlabels] = f[col];
			e.label_n[e.nlabels++] = fl[col];
		}
	}
	return sk_feed_emit(c, line, &e, err);
}
