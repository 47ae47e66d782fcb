/*
 * test_hit.c - the shared detection output and loader: a hit line's
 * members (hit.h), and the indicator loader (indload.h) with its deltas and
 * its warning-list verdict cache.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/hit.h"
#include "schakel/indload.h"
#include "schakel/warninglist.h"
#include "sk_test.h"

static void setup(void)
{
	t_tmpdir_make();
}

static void teardown(void)
{
	t_tmpdir_remove();
}

TestSuite(hit, .init = setup, .fini = teardown);

#define IND1 "indicator--11111111-1111-4111-8111-111111111111"
#define IND2 "indicator--22222222-2222-4222-8222-222222222222"
#define PROD "identity--33333333-3333-4333-8333-333333333333"
#define MAL "malware--44444444-4444-4444-8444-444444444444"
#define GONE "campaign--55555555-5555-4555-8555-555555555555"
#define GREEN "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"

static const char *const objects[] = {
    "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"" PROD "\",\"created\":"
    "\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":"
    "\"Example CERT\",\"identity_class\":\"organization\"}",
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" IND1 "\",\"created\":"
    "\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":"
    "\"evil \\\"host\\\"\",\"pattern\":\"[domain-name:value = 'evil.example']\","
    "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\",\"confidence\":70,"
    "\"created_by_ref\":\"" PROD "\",\"object_marking_refs\":[\"" GREEN "\"]}",
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" IND2 "\",\"created\":"
    "\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"pattern\":"
    "\"[ipv4-addr:value = '192.0.2.77']\",\"pattern_type\":\"stix\",\"valid_from\":"
    "\"2024-01-01T00:00:00Z\"}",
    "{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"" MAL "\",\"created\":"
    "\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":"
    "\"EvilBot\",\"is_family\":true}",
    "{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":\"relationship--66666666-6666-"
    "4666-8666-666666666666\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":"
    "\"2024-01-01T00:00:00.000Z\",\"relationship_type\":\"indicates\",\"source_ref\":\"" IND1
    "\",\"target_ref\":\"" MAL "\"}",
    "{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":\"relationship--77777777-7777-"
    "4777-8777-777777777777\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":"
    "\"2024-01-01T00:00:00.000Z\",\"relationship_type\":\"indicates\",\"source_ref\":\"" IND1
    "\",\"target_ref\":\"" GONE "\"}",
};

static sk_store *store_with_objects(void)
{
	sk_store *st = NULL;
	sk_error err;

	cr_assert_eq(sk_store_open(t_path("n.db"), SK_STORE_CREATE, &st, &err), SK_OK, "%s",
		     err.msg);
	cr_assert_eq(sk_store_begin(st, &err), SK_OK);
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
		cr_assert_eq(t_put(st, 0, objects[i], NULL, NULL, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_store_commit(st, &err), SK_OK);
	return st;
}

typedef struct rows {
	int64_t ver[8];
	char id[8][64];
	bool revoked[8];
	size_t n;
} rows;

static int on_row(void *ud, const sk_ind_row *r)
{
	rows *rs = ud;
	cr_assert_lt(rs->n, 8);
	rs->ver[rs->n] = r->ver;
	rs->revoked[rs->n] = r->revoked;
	snprintf(rs->id[rs->n++], 64, "%s", r->id);
	return 0;
}

static json_t *parse_line(const char *line, size_t len)
{
	json_error_t je;
	json_t *o;

	cr_assert_not_null(line);
	cr_assert_gt(len, 1);
	cr_assert_eq(line[len - 1], '\n', "a line ends in a newline");
	cr_assert_null(memchr(line, '\n', len - 1), "one line");
	o = json_loadb(line, len, 0, &je);
	cr_assert_not_null(o, "%s: %s", je.text, line);
	return o;
}

Test(hit, line_members)
{
	sk_store *st = store_with_objects();
	sk_hit_fmt *f = NULL;
	sk_hit_ind ind = {0};
	rows rs = {0};
	sk_error err;
	size_t len;
	const char *line;
	json_t *o, *i, *ic, *want;

	cr_assert_eq(sk_store_indicator_rows(st, 0, 0, on_row, &rs, &err), SK_OK);
	cr_assert_eq(rs.n, 2);
	cr_assert_str_eq(rs.id[0], IND1);
	ind.ver = rs.ver[0];
	cr_assert_eq(sk_hit_fmt_new(st, &f, &err), SK_OK);

	sk_hit h = {.ts_us = 1704067200123456LL,
		    .file = "dns.log",
		    .line = 9,
		    .offset = 812,
		    .field = "query",
		    .kind = "domain",
		    .value = "evil.example",
		    .value_len = 12};
	line = sk_hit_fmt_line(f, &ind, &h, NULL, &len);
	o = parse_line(line, len);
	cr_expect_str_eq(json_string_value(json_object_get(o, "time")),
			 "2024-01-01T00:00:00.123456Z");
	cr_expect_str_eq(json_string_value(json_object_get(o, "file")), "dns.log");
	cr_expect_eq(json_integer_value(json_object_get(o, "line")), 9);
	cr_expect_eq(json_integer_value(json_object_get(o, "offset")), 812);
	cr_expect_str_eq(json_string_value(json_object_get(o, "field")), "query");
	cr_expect_str_eq(json_string_value(json_object_get(o, "kind")), "domain");
	cr_expect_str_eq(json_string_value(json_object_get(o, "value")), "evil.example");
	i = json_object_get(o, "indicator");
	cr_expect_str_eq(json_string_value(json_object_get(i, "id")), IND1);
	cr_expect_str_eq(json_string_value(json_object_get(i, "name")), "evil \"host\"");
	cr_expect_str_eq(json_string_value(json_object_get(i, "pattern")),
			 "[domain-name:value = 'evil.example']");
	cr_expect_str_eq(json_string_value(json_object_get(i, "producer")), PROD);
	cr_expect_str_eq(json_string_value(json_object_get(i, "producer_name")), "Example CERT");
	cr_expect_str_eq(json_string_value(json_object_get(i, "marking")), "TLP:GREEN");
	cr_expect_eq(json_integer_value(json_object_get(i, "confidence")), 70);
	ic = json_object_get(o, "indicates");
	cr_assert_eq(json_array_size(ic), 2);
	for (size_t k = 0; k < 2; k++) {
		json_t *t = json_array_get(ic, k);
		const char *id = json_string_value(json_object_get(t, "id"));
		if (!strcmp(id, MAL)) {
			cr_expect_str_eq(json_string_value(json_object_get(t, "type")), "malware");
			cr_expect_str_eq(json_string_value(json_object_get(t, "name")), "EvilBot");
		} else {
			cr_expect_str_eq(id, GONE);
			cr_expect_str_eq(json_string_value(json_object_get(t, "type")), "campaign",
					 "a target not stored here: the type from its id");
			cr_expect(json_is_null(json_object_get(t, "name")));
		}
	}
	want = json_pack("[{s:s, s:i}]", "file", "dns.log", "line", 9);
	cr_expect(json_equal(json_object_get(o, "records"), want));
	json_decref(want);
	cr_expect_null(json_object_get(o, "lookback"));
	json_decref(o);

	/* no single value, several records, extra members: the watcher's form */
	sk_match_ref refs[2] = {{0, 3, 0}, {1, 7, 0}};
	const char *files[2] = {"a.log", "b.log"};
	sk_hit h2 = {.file = "b.log", .line = 7, .refs = refs, .nrefs = 2, .files = files};
	line = sk_hit_fmt_line(f, &ind, &h2, "\"lookback\":true", &len);
	o = parse_line(line, len);
	cr_expect(json_is_null(json_object_get(o, "time")));
	cr_expect(json_is_null(json_object_get(o, "field")) &&
		  json_is_null(json_object_get(o, "kind")) &&
		  json_is_null(json_object_get(o, "value")));
	want = json_pack("[{s:s, s:i}, {s:s, s:i}]", "file", "a.log", "line", 3, "file", "b.log",
			 "line", 7);
	cr_expect(json_equal(json_object_get(o, "records"), want));
	json_decref(want);
	cr_expect(json_is_true(json_object_get(o, "lookback")));
	json_decref(o);

	/* an indicator without the optional members prints nulls */
	sk_hit_ind ind2 = {.ver = rs.ver[1]};
	line = sk_hit_fmt_line(f, &ind2, &h, NULL, &len);
	o = parse_line(line, len);
	i = json_object_get(o, "indicator");
	cr_expect_str_eq(json_string_value(json_object_get(i, "id")), IND2);
	cr_expect(json_is_null(json_object_get(i, "name")) &&
		  json_is_null(json_object_get(i, "producer")) &&
		  json_is_null(json_object_get(i, "producer_name")) &&
		  json_is_null(json_object_get(i, "marking")) &&
		  json_is_null(json_object_get(i, "confidence")));
	cr_expect_eq(json_array_size(json_object_get(o, "indicates")), 0);
	json_decref(o);

	/* a version that is gone: what is known, and SK_ENOTFOUND */
	sk_hit_ind gone = {.ver = 999999};
	cr_expect_eq(sk_hit_ind_load(st, &gone, &err), SK_ENOTFOUND);
	line = sk_hit_fmt_line(f, &gone, &h, NULL, &len);
	o = parse_line(line, len);
	cr_expect(json_is_null(json_object_get(json_object_get(o, "indicator"), "id")));
	json_decref(o);

	sk_hit_ind_clear(&ind);
	sk_hit_ind_clear(&ind2);
	sk_hit_ind_clear(&gone);
	sk_hit_ind_clear(NULL);
	sk_hit_fmt_free(f);
	sk_hit_fmt_free(NULL);
	sk_store_close(st);
}

typedef struct seen {
	uint32_t added, suppressed, revoked;
	char msg[256];
} seen;

static int on_added(void *ud, uint32_t idx, const sk_ind_row *r, int64_t until)
{
	(void)idx;
	(void)r;
	(void)until;
	((seen *)ud)->added++;
	return 0;
}

static void on_skipped(void *ud, const sk_ind_row *r, sk_indload_skip why, const char *msg)
{
	seen *s = ud;
	(void)r;
	if (why == SK_INDLOAD_SUPPRESSED) {
		s->suppressed++;
		snprintf(s->msg, sizeof(s->msg), "%s", msg);
	} else if (why == SK_INDLOAD_REVOKED) {
		s->revoked++;
	}
}

/* One load of st's indicators after after_ver into a fresh matcher with wl. */
static seen load(sk_store *st, const sk_wl_set *wl, sk_indload_wlcache *c, int64_t after_ver)
{
	sk_match_opts mo = {.warninglists = wl};
	sk_matcher *m = NULL;
	seen s = {0};
	sk_indload_opts o = {.after_ver = after_ver,
			     .wlcache = c,
			     .on_added = on_added,
			     .on_skipped = on_skipped,
			     .ud = &s};
	sk_indload_stats stats;
	sk_error err;

	cr_assert_eq(sk_matcher_new(&mo, &m, &err), SK_OK);
	cr_assert_eq(sk_indload_run(st, m, &o, &stats, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(stats.added, s.added);
	cr_expect_eq(stats.suppressed, s.suppressed);
	sk_matcher_free(m);
	return s;
}

Test(hit, indload_warninglist_verdicts_and_deltas)
{
	sk_store *st = store_with_objects();
	sk_indload_wlcache *c = NULL;
	sk_wl_set *wl = NULL;
	uint64_t stamp0, stamp1;
	sk_wl_import_stats ws;
	sk_error err;
	seen s;
	int64_t max;

	cr_assert_eq(sk_warninglist_stamp(st, &stamp0, &err), SK_OK);
	cr_assert_eq(sk_indload_warninglists(st, &wl, &err), SK_OK);
	cr_expect_null(wl, "no lists imported: nothing to check");
	t_write_str("list.json",
		    "{\"name\":\"Unit resolvers\",\"version\":1,\"type\":\"cidr\",\"description\":"
		    "\"t\",\"list\":[\"192.0.2.77\"],\"matching_attributes\":[\"ip-dst\"]}");
	cr_assert_eq(sk_warninglist_import_file(st, t_path("list.json"), NULL, &ws, &err), SK_OK,
		     "%s", err.msg);
	cr_assert_eq(sk_warninglist_stamp(st, &stamp1, &err), SK_OK);
	cr_expect_neq(stamp0, stamp1, "an import changes the stamp");
	cr_assert_eq(sk_indload_warninglists(st, &wl, &err), SK_OK);
	cr_assert_not_null(wl);

	cr_assert_eq(sk_indload_wlcache_new(&c, &err), SK_OK);
	s = load(st, wl, c, 0);
	cr_expect(s.added == 1 && s.suppressed == 1);
	cr_expect(strstr(s.msg, "Unit resolvers") != NULL, "%s", s.msg);
	/* the second build takes the verdicts of the first: the same set */
	s = load(st, wl, c, 0);
	cr_expect(s.added == 1 && s.suppressed == 1);
	cr_expect(strstr(s.msg, "earlier build") != NULL, "%s", s.msg);
	/* a verdict holds for the lists it was made with, not for none */
	sk_indload_wlcache_reset(c);
	s = load(st, NULL, c, 0);
	cr_expect(s.added == 2 && s.suppressed == 0);

	/* a delta: only what changed after the last build, revocations included */
	cr_assert_eq(sk_store_indicator_max_ver(st, &max, &err), SK_OK);
	s = load(st, wl, NULL, max);
	cr_expect(s.added == 0 && s.suppressed == 0 && s.revoked == 0, "nothing new");
	cr_assert_eq(sk_store_begin(st, &err), SK_OK);
	cr_assert_eq(
	    t_put(st, 0,
		  "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" IND1 "\",\"created\":"
		  "\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-02-01T00:00:00.000Z\","
		  "\"revoked\":true,\"pattern\":\"[domain-name:value = 'evil.example']\","
		  "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\","
		  "\"created_by_ref\":\"" PROD "\"}",
		  NULL, NULL, &err),
	    SK_OK, "%s", err.msg);
	cr_assert_eq(sk_store_commit(st, &err), SK_OK);
	s = load(st, wl, NULL, max);
	cr_expect(s.added == 0 && s.revoked == 1, "the revocation reaches the delta");
	s = load(st, wl, NULL, 0);
	cr_expect(s.added == 0 && s.revoked == 0 && s.suppressed == 1,
		  "a full load leaves revoked indicators out silently");

	sk_indload_wlcache_free(c);
	sk_indload_wlcache_free(NULL);
	sk_warninglist_free(wl);
	sk_store_close(st);
}
