/*
 * indload.c - the store's current indicators into a matcher (indload.h).
 */
#include "schakel/indload.h"

#include <string.h>

#include "schakel/timestamp.h"

typedef struct lctx {
	sk_matcher *m;
	const sk_indload_opts *o;
	sk_jdoc *doc;
	int64_t at;
	sk_indload_stats *stats;
	bool oom;
} lctx;

static void skipped(lctx *lc, const sk_row *r, const char *why)
{
	if (lc->o->on_skipped)
		lc->o->on_skipped(lc->o->ud, r, why);
}

static int on_row(void *ud, const sk_row *r)
{
	lctx *lc = ud;
	const sk_jval *root, *v;
	const char *pattern, *ptype, *s;
	char key[SK_TS_KEY_LEN + 1];
	int64_t t;
	sk_error e;
	unsigned flags = 0;
	uint32_t idx;

	if (r->revoked) {
		lc->stats->revoked++;
		skipped(lc, r, "revoked");
		return 0;
	}
	if (sk_json_parse(lc->doc, r->json, r->len, &root, &e)) {
		lc->stats->other_type++;
		skipped(lc, r, "unreadable JSON");
		return 0;
	}
	ptype = sk_json_str(sk_json_get(root, "pattern_type"));
	pattern = sk_json_str(sk_json_get(root, "pattern"));
	if ((ptype && strcmp(ptype, "stix")) || !pattern) {
		lc->stats->other_type++;
		skipped(lc, r, "not a STIX pattern");
		return 0;
	}
	if (((s = sk_json_str(sk_json_get(root, "valid_from"))) &&
	     sk_ts_parse(s, strlen(s), key, &t) && t > lc->at) ||
	    ((s = sk_json_str(sk_json_get(root, "valid_until"))) &&
	     sk_ts_parse(s, strlen(s), key, &t) && t <= lc->at)) {
		lc->stats->expired++;
		skipped(lc, r, "outside its validity window");
		return 0;
	}
	v = sk_json_get(root, "x_schakel_subdomains");
	if (v && v->type == SK_JTRUE)
		flags |= SK_MATCH_SUBDOMAINS;
	if (sk_matcher_add(lc->m, pattern, strlen(pattern), flags, &idx, &e)) {
		lc->stats->unsupported++;
		skipped(lc, r, e.msg);
		return 0;
	}
	lc->stats->added++;
	if (lc->o->on_added && lc->o->on_added(lc->o->ud, idx, r, root)) {
		lc->oom = true;
		return 1;
	}
	return 0;
}

sk_err sk_indload_run(sk_store *st, sk_matcher *m, const sk_indload_opts *o,
		      sk_indload_stats *stats, sk_error *err)
{
	sk_indload_stats dummy = {0};
	lctx lc = {.m = m, .o = o, .at = o->at ? o->at : sk_ts_now_us(),
		   .stats = stats ? stats : &dummy};
	sk_err rc;

	memset(lc.stats, 0, sizeof(*lc.stats));
	if (sk_json_doc_new(0, 0, &lc.doc))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	rc = sk_store_indicators_since(st, o->after_ver, on_row, &lc, err);
	if (!rc && lc.oom)
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	sk_json_doc_free(lc.doc);
	return rc;
}
