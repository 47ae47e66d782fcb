/*
 * test_view.c - the console's view (policy.h, sk_view): for partner accounts
 * the same decision as TAXII per collection (sk_policy_access +
 * sk_policy_visible_rx over the collections holding a version), for the
 * node's own people everything but TLP:RED from others, for metrics nothing;
 * and the SQL function sk_visible() against the C function.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schakel/account.h"
#include "schakel/policy.h"
#include "schakel/stix.h"
#include "store/store_priv.h"

static const char *marks[] = {
    NULL,
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
};
#define OTHER "identity--22222222-2222-4222-8222-222222222222"

static char path[64];
static sk_store *st;
static char own[SK_IDENTITY_ID_MAX + 1], alpha[SK_IDENTITY_ID_MAX + 1];
static int nobj;

/* One malware version of level l by producer in collection coll, from rx (NULL = here). */
static void put(const char *coll, int l, const char *by, const char *rx, char *id_out)
{
	char text[1024], id[80], mk[128] = "";
	sk_stix_info info;
	sk_jdoc *doc = NULL;
	sk_collection c;
	sk_origin o = {.rx = rx};
	sk_error err;

	snprintf(id, sizeof(id), "malware--%08x-0000-4000-8000-000000000000", ++nobj);
	if (id_out)
		strcpy(id_out, id);
	if (marks[l])
		snprintf(mk, sizeof(mk), ",\"object_marking_refs\":[\"%s\"]", marks[l]);
	snprintf(text, sizeof(text),
	         "{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":"
	         "\"2024-01-01T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\","
	         "\"name\":\"m%d\",\"is_family\":false,\"created_by_ref\":\"%s\"%s}",
	         id, nobj, by, mk);
	cr_assert_eq(sk_store_collection_get(st, coll, &c, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_json_doc_new(0, 0, &doc), SK_OK);
	cr_assert_eq(sk_stix_validate_text(doc, text, strlen(text), &info, &err), SK_OK, "%s",
	             err.msg);
	sk_store_set_origin(st, rx ? &o : NULL);
	cr_assert_eq(sk_store_put(st, c.cid, &info, text, strlen(text), NULL, NULL, &err), SK_OK,
	             "%s", err.msg);
	sk_store_set_origin(st, NULL);
	sk_json_doc_free(doc);
	sk_collection_clear(&c);
}

static void setup(void)
{
	sk_node_params np = {.name = "Here"};
	sk_partner_params pa = {.name = "Alpha"}, pb = {.name = "Beta"};
	sk_error err;
	int fd;

	strcpy(path, "/tmp/sk-view-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	unlink(path);
	cr_assert_eq(sk_store_open(path, SK_STORE_CREATE, &st, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_store_init_node(st, &np, &err), SK_OK, "%s", err.msg);
	snprintf(own, sizeof(own), "%s", sk_store_own_id(st));
	cr_assert_eq(sk_partner_add(st, &pa, alpha, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_partner_add(st, &pb, NULL, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_account_add(st, "Alpha", "ana", "pw-ana-1", NULL, &err), SK_OK);
	cr_assert_eq(sk_account_add(st, "Alpha", "rita", "pw-rita-1", NULL, &err), SK_OK);
	cr_assert_eq(sk_account_add(st, "Beta", "bob", "pw-bob-1", NULL, &err), SK_OK);
	cr_assert_eq(sk_account_add_own(st, "adm", SK_ROLE_ADMIN, "pw-adm-1", NULL, &err), SK_OK);
	cr_assert_eq(sk_account_add_own(st, "redown", SK_ROLE_ANALYST, "pw-red-1", NULL, &err),
	             SK_OK);
	cr_assert_eq(sk_account_add_own(st, "met", SK_ROLE_METRICS, "pw-met-1", NULL, &err), SK_OK);
	cr_assert_eq(sk_store_collection_add(st, "c1", NULL, NULL, NULL, NULL, &err), SK_OK);
	cr_assert_eq(sk_store_collection_add(st, "c2", NULL, NULL, NULL, NULL, &err), SK_OK);
	cr_assert_eq(sk_collection_set_sharing(st, "c2", SK_TLP_RED, false, &err), SK_OK);
	cr_assert_eq(sk_grant_set(st, "Alpha", "c1", SK_GRANT_READ | SK_GRANT_AMBER, &err), SK_OK);
	cr_assert_eq(sk_grant_set(st, "Beta", "c1", SK_GRANT_READ, &err), SK_OK);
	cr_assert_eq(sk_red_recipient_set(st, "rita", "c1", true, &err), SK_OK);
	cr_assert_eq(sk_red_recipient_set(st, "redown", "c1", true, &err), SK_OK);
	cr_assert_eq(sk_store_begin(st, &err), SK_OK);
	for (int l = 0; l <= 5; l++) {
		put("c1", l, own, NULL, NULL);
		put("c1", l, OTHER, NULL, NULL);
		put("c1", l, OTHER, alpha, NULL);
		put("c1", l, alpha, alpha, NULL);
		put("c2", l, own, NULL, NULL);
		put("c2", l, OTHER, NULL, NULL);
		put("c2", l, OTHER, alpha, NULL);
	}
	cr_assert_eq(sk_store_commit(st, &err), SK_OK, "%s", err.msg);
}

static void teardown(void)
{
	sk_store_close(st);
	unlink(path);
	st = NULL;
}

static sk_view *view_of(const char *account)
{
	sk_principal p;
	sk_view *v = NULL;
	sk_error err;
	if (account)
		cr_assert_eq(sk_account_get(st, account, &p, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_view_open(st, account ? &p : NULL, &v, &err), SK_OK, "%s", err.msg);
	return v;
}

/* The definition for a partner: some collection holding ver lets p see it (TAXII's decision). */
static bool partner_expect(const sk_principal *p, int64_t ver, int tlp, const char *by,
                           const char *rx)
{
	sqlite3_stmt *s;
	bool yes = false;
	sqlite3_prepare_v2(sk_store_sqlite(st),
	                   "SELECT c.name FROM collection_objects co JOIN collections c"
	                   " ON c.cid=co.coll WHERE co.ver=?1",
	                   -1, &s, NULL);
	sqlite3_bind_int64(s, 1, ver);
	while (sqlite3_step(s) == SQLITE_ROW) {
		sk_collection c;
		sk_access a;
		sk_error err;
		cr_assert_eq(
		    sk_store_collection_get(st, (const char *)sqlite3_column_text(s, 0), &c, &err),
		    SK_OK);
		cr_assert_eq(sk_policy_access(st, p, &c, &a, &err), SK_OK);
		yes |= sk_policy_visible_rx(&a, (sk_tlp)tlp, by, rx);
		sk_collection_clear(&c);
	}
	sqlite3_finalize(s);
	return yes;
}

typedef bool (*expect_fn)(const char *account, int64_t ver, int tlp, const char *by, const char *rx,
                          const char *coll);

/* Check v against expect for every malware version; returns how many it sees. */
static int check(const char *account, expect_fn expect)
{
	sk_view *v = view_of(account);
	sqlite3_stmt *s;
	int seen = 0, sql = -1;
	sk_error err;

	sqlite3_prepare_v2(sk_store_sqlite(st),
	                   "SELECT o.ver, o.tlp, o.created_by, o.rx, c.name FROM objects o"
	                   " JOIN collection_objects co ON co.ver=o.ver"
	                   " JOIN collections c ON c.cid=co.coll WHERE o.type='malware'",
	                   -1, &s, NULL);
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t ver = sqlite3_column_int64(s, 0);
		int tlp = sqlite3_column_int(s, 1);
		const char *by = (const char *)sqlite3_column_text(s, 2);
		const char *rx = (const char *)sqlite3_column_text(s, 3);
		const char *coll = (const char *)sqlite3_column_text(s, 4);
		bool got = sk_view_visible(v, ver, tlp, by, rx);
		cr_expect_eq(got, expect(account, ver, tlp, by, rx, coll),
		             "%s: ver %lld tlp %d by %s rx %s in %s", account ? account : "-",
		             (long long)ver, tlp, by == own ? "own" : by, rx ? rx : "-", coll);
		seen += got;
	}
	sqlite3_finalize(s);
	/* the SQL function agrees with the C function */
	cr_assert_eq(sk_view_bind(v, &err), SK_OK, "%s", err.msg);
	sqlite3_prepare_v2(sk_store_sqlite(st),
	                   "SELECT count(*) FROM objects o WHERE o.type='malware'"
	                   " AND sk_visible(o.ver, o.tlp, o.created_by, o.rx)",
	                   -1, &s, NULL);
	if (sqlite3_step(s) == SQLITE_ROW)
		sql = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	cr_expect_eq(sql, seen, "%s: SQL sees %d, C %d", account ? account : "-", sql, seen);
	sk_view_free(v);
	return seen;
}

static bool exp_partner(const char *account, int64_t ver, int tlp, const char *by, const char *rx,
                        const char *coll)
{
	sk_principal p;
	sk_error err;
	(void)coll;
	cr_assert_eq(sk_account_get(st, account, &p, &err), SK_OK);
	return partner_expect(&p, ver, tlp, by, rx);
}

static bool exp_own(const char *account, int64_t ver, int tlp, const char *by, const char *rx,
                    const char *coll)
{
	bool theirs = !rx && (!by || !strcmp(by, own));
	int level = tlp ? tlp : (!strcmp(coll, "c2") ? SK_TLP_RED : SK_TLP_AMBER);
	(void)ver;
	if (level != SK_TLP_RED || theirs)
		return true;
	return !strcmp(account, "redown") && !strcmp(coll, "c1");
}

static bool exp_all(const char *a, int64_t ver, int tlp, const char *by, const char *rx,
                    const char *c)
{
	(void)a, (void)ver, (void)tlp, (void)by, (void)rx, (void)c;
	return true;
}

static bool exp_none(const char *a, int64_t ver, int tlp, const char *by, const char *rx,
                     const char *c)
{
	(void)a, (void)ver, (void)tlp, (void)by, (void)rx, (void)c;
	return false;
}

TestSuite(view, .init = setup, .fini = teardown);

Test(view, partners_as_taxii)
{
	int ana = check("ana", exp_partner), rita = check("rita", exp_partner),
	    bob = check("bob", exp_partner);
	/* Beta (no AMBER): the CLEAR and GREEN versions of c1 (4 each); unmarked there is AMBER */
	cr_expect_eq(bob, 2 * 4, "bob sees %d", bob);
	cr_expect_gt(ana, bob);
	cr_expect_gt(rita, ana, "the RED recipient sees more");
}

Test(view, own_people)
{
	int adm = check("adm", exp_own), red = check("redown", exp_own);
	cr_expect_gt(red, adm);
	cr_expect_eq(check("met", exp_none), 0);
	cr_expect_eq(check(NULL, exp_all), 7 * 6);
}

Test(view, rebinding_and_free)
{
	sk_view *a = view_of("adm"), *m = view_of("met");
	sqlite3_stmt *s;
	sk_error err;
	int n[3];

	cr_assert_eq(sk_view_bind(a, &err), SK_OK);
	sqlite3_prepare_v2(sk_store_sqlite(st),
	                   "SELECT count(*) FROM objects o WHERE o.type='malware'"
	                   " AND sk_visible(o.ver, o.tlp, o.created_by, o.rx)",
	                   -1, &s, NULL);
	sqlite3_step(s), n[0] = sqlite3_column_int(s, 0), sqlite3_reset(s);
	cr_assert_eq(sk_view_bind(m, &err), SK_OK);
	sqlite3_step(s), n[1] = sqlite3_column_int(s, 0), sqlite3_reset(s);
	cr_assert_eq(sk_view_bind(a, &err), SK_OK);
	sk_view_free(a);
	/* a freed view: the function fails closed */
	sqlite3_step(s), n[2] = sqlite3_column_int(s, 0), sqlite3_reset(s);
	sqlite3_finalize(s);
	sk_view_free(m);
	cr_expect_gt(n[0], 0);
	cr_expect_eq(n[1], 0);
	cr_expect_eq(n[2], 0);
}
