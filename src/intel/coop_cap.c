/*
 * coop_cap.c - this node's matching capacity in the cooperation report
 * (coop.h, docs/cooperation.md, "capacity"): which of its current indicators
 * it can evaluate at all (pattern languages), which log sources it reads
 * (log_sources, written by `scan` and the live watch with the readers'
 * table of the STIX object types each source delivers), and so which
 * indicators it receives but cannot match for lack of a source (URL
 * indicators and no HTTP log).
 */
#include <stdlib.h>
#include <string.h>

#include "coop_int.h"

#define CAP_TYPES 64 /* object types told apart; more are counted as "other" */

typedef struct cap_types {
	char *name[CAP_TYPES];
	json_int_t n[CAP_TYPES];
	int count, last; /* last: the type found last, -1 */
} cap_types;

/* The index of object type t (length n), interned; the last slot is "other". */
static int intern(cap_types *ct, const char *t, size_t n)
{
	if (n > 64)
		return -1; /* no object type is that long */
	if (ct->last >= 0 && strlen(ct->name[ct->last]) == n && !memcmp(ct->name[ct->last], t, n))
		return ct->last; /* most indicators compare the type the one before did */
	for (int i = 0; i < ct->count; i++)
		if (strlen(ct->name[i]) == n && !memcmp(ct->name[i], t, n))
			return ct->last = i;
	if (ct->count >= CAP_TYPES - 1) {
		for (int i = 0; i < ct->count; i++)
			if (!strcmp(ct->name[i], "other"))
				return i;
		if (ct->count == CAP_TYPES)
			return -1;
		t = "other";
		n = 5;
	}
	if (!(ct->name[ct->count] = strndup(t, n)))
		return -1;
	return ct->last = ct->count++;
}

static bool type_byte(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_';
}

/*
 * The object types a STIX pattern compares (bits of interned types).  In
 * the pattern grammar the only ':' outside a quoted literal (strings,
 * t'...', h'...', b'...') ends an object type ("url:value"), so a pass over
 * the text finds them without parsing.
 */
static uint64_t pattern_types(cap_types *ct, const char *p)
{
	uint64_t m = 0;
	const char *tok = NULL;
	for (; *p; p++) {
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				break;
			tok = NULL;
		} else if (type_byte(*p)) {
			if (!tok)
				tok = p;
		} else {
			if (*p == ':' && tok) {
				int i = intern(ct, tok, (size_t)(p - tok));
				if (i >= 0)
					m |= (uint64_t)1 << i;
			}
			tok = NULL;
		}
	}
	return m;
}

/* The object types of a source's comma-separated list: bits, and a JSON array if asked. */
static uint64_t list_types(cap_types *ct, const char *l, json_t *arr)
{
	uint64_t m = 0;
	while (l && *l) {
		size_t n = strcspn(l, ",");
		int i = n ? intern(ct, l, n) : -1;
		if (i >= 0) {
			m |= (uint64_t)1 << i;
			if (arr)
				json_array_append_new(arr, json_stringn(l, n));
		}
		l += n + (l[n] == ',');
	}
	return m;
}

static json_t *ts_s(int64_t s)
{
	char b[SK_TS_STR_MAX];
	sk_ts_format_ms(s * 1000000, b);
	return json_string(b);
}

/*
 * The log sources recorded.  Unscoped, every source with when it was first
 * and last read, the records read and whether it was read in the period; in
 * a summary (keyed) only the kinds read in the period and their object
 * types.  *covered: the object types the period's sources deliver.
 */
static json_t *sources(co_ctx *c, cap_types *ct, uint64_t *covered)
{
	sqlite3_stmt *s = co_prep(c, "SELECT kind, first_seen, last_seen, records, types"
	                             " FROM log_sources ORDER BY kind");
	json_t *out = json_array();
	*covered = 0;
	if (!s) {
		json_decref(out);
		return NULL;
	}
	while (out && sqlite3_step(s) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(s, 0);
		int64_t first = sqlite3_column_int64(s, 1), last = sqlite3_column_int64(s, 2);
		bool in = first * 1000000 < c->until && last * 1000000 >= c->since;
		json_t *types = json_array();
		uint64_t m = list_types(ct, (const char *)sqlite3_column_text(s, 4), types);
		if (in)
			*covered |= m;
		if (c->keyed_mode) {
			if (in)
				json_array_append_new(out, json_pack("{s:s, s:o}", "kind", kind,
				                                     "object_types", types));
			else
				json_decref(types);
			continue;
		}
		json_array_append_new(out,
		                      json_pack("{s:s, s:o, s:o, s:I, s:b, s:o}", "kind", kind,
		                                "first_seen", ts_s(first), "last_seen", ts_s(last),
		                                "records", (json_int_t)sqlite3_column_int64(s, 3),
		                                "in_period", in, "object_types", types));
	}
	sqlite3_finalize(s);
	return out;
}

static int cmp_gap(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t nx = json_integer_value(json_object_get(x, "indicators"));
	json_int_t ny = json_integer_value(json_object_get(y, "indicators"));
	if (nx != ny)
		return nx > ny ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x, "object_type")),
	              json_string_value(json_object_get(y, "object_type")));
}

/* This node's matching capacity: its current indicators that the bound view sees. */
sk_err co_capacity(co_ctx *c)
{
	sqlite3_stmt *s =
	    co_prep(c, "SELECT ver, revoked, coalesce(pattern_type,''), pattern FROM indicators");
	json_int_t match = 0, cannot = 0, revoked = 0, nosrc = 0;
	json_t *types = json_object(), *srcs = NULL, *bytype = json_object(), *gaps = json_array();
	json_t *cov = json_array();
	cap_types ct = {.last = -1};
	uint64_t covered = 0;
	sk_err rc = SK_OK;

	if (!s || !types || !bytype || !gaps || !cov)
		goto fail;
	if (!(srcs = sources(c, &ct, &covered)))
		goto fail;
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t ver = sqlite3_column_int64(s, 0);
		const char *pt = (const char *)sqlite3_column_text(s, 2);
		const char *pat = (const char *)sqlite3_column_text(s, 3);
		if (ver < 1 || ver > c->maxver || !c->v[ver].type)
			continue; /* not visible */
		co_count(types, pt[0] ? pt : "none", 1);
		if (sqlite3_column_int(s, 1)) {
			revoked++;
		} else if (!strcmp(pt, "stix")) {
			uint64_t m = pat ? pattern_types(&ct, pat) : 0;
			match++;
			for (int i = 0; i < ct.count; i++)
				if (m >> i & 1)
					ct.n[i]++;
			if (m && !(m & covered))
				nosrc++; /* none of its object types comes from a source read */
		} else {
			cannot++;
		}
	}
	sqlite3_finalize(s);
	s = NULL;
	for (int i = 0; i < ct.count; i++) {
		bool has = covered >> i & 1;
		if (has)
			json_array_append_new(cov, json_string(ct.name[i]));
		if (!ct.n[i])
			continue;
		json_object_set_new(bytype, ct.name[i],
		                    json_pack("{s:I, s:b}", "indicators", ct.n[i], "source", has));
		if (!has)
			json_array_append_new(gaps, json_pack("{s:s, s:I}", "object_type",
			                                      ct.name[i], "indicators", ct.n[i]));
	}
	if (json_array_size(gaps) > 1) {
		size_t n = json_array_size(gaps);
		json_t **g = malloc(n * sizeof(*g));
		if (!g)
			goto fail;
		for (size_t i = 0; i < n; i++)
			g[i] = json_incref(json_array_get(gaps, i));
		qsort(g, n, sizeof(*g), cmp_gap);
		json_array_clear(gaps);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(gaps, g[i]);
		free(g);
	}
	c->capacity = json_pack(
	    "{s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:o}", "indicators_matchable", match,
	    "indicators_cannot_match", cannot, "indicators_revoked", revoked, "by_pattern_type",
	    types, "log_sources", srcs, "object_types_with_source", cov, "by_object_type", bytype,
	    "indicators_without_source", nosrc, "gaps", gaps);
	types = srcs = bytype = gaps = cov = NULL;
	if (!c->capacity)
		rc = sk_error_set(c->err, SK_ENOMEM, "out of memory");
	goto out;
fail:
	rc = c->err->code ? c->err->code : sk_error_set(c->err, SK_ENOMEM, "out of memory");
out:
	sqlite3_finalize(s);
	json_decref(types);
	json_decref(srcs);
	json_decref(bytype);
	json_decref(gaps);
	json_decref(cov);
	for (int i = 0; i < ct.count; i++)
		free(ct.name[i]);
	return rc;
}
