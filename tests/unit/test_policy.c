/*
 * test_policy.c - the TLP decision: the C function against the written
 * contract, and the SQL predicate (through sk_store_query) against the C
 * function for every grant combination x marking x producer.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "schakel/policy.h"
#include "schakel/stix.h"

static sk_access acc(bool authed, bool read, bool amber, bool strict, bool red, bool pub)
{
	sk_access a;
	memset(&a, 0, sizeof(a));
	a.cid = 1;
	a.authenticated = authed;
	a.can_read = read;
	a.amber = amber;
	a.amber_strict = strict;
	a.red = red;
	a.is_public = pub;
	a.default_tlp = SK_TLP_AMBER;
	if (authed)
		snprintf(a.producer, sizeof(a.producer), "identity--11111111-1111-4111-8111-111111111111");
	return a;
}

Test(policy, contract)
{
	const char *me = "identity--11111111-1111-4111-8111-111111111111";
	const char *other = "identity--22222222-2222-4222-8222-222222222222";
	sk_access anon = acc(false, false, false, false, false, true);
	sk_access rd = acc(true, true, false, false, false, false);
	sk_access am = acc(true, true, true, false, false, false);
	sk_access st = acc(true, true, false, true, false, false);
	sk_access red = acc(true, true, false, false, true, false);
	sk_access none = acc(true, false, true, true, true, false);

	cr_assert(sk_policy_visible(&anon, SK_TLP_CLEAR, NULL));
	cr_assert(!sk_policy_visible(&anon, SK_TLP_GREEN, NULL));
	cr_assert(!sk_policy_visible(&anon, SK_TLP_NONE, NULL)); /* default AMBER */
	cr_assert(sk_policy_visible(&rd, SK_TLP_GREEN, NULL));
	cr_assert(!sk_policy_visible(&rd, SK_TLP_AMBER, other));
	cr_assert(sk_policy_visible(&rd, SK_TLP_AMBER, me)); /* producer */
	cr_assert(sk_policy_visible(&rd, SK_TLP_AMBER_STRICT, me));
	cr_assert(!sk_policy_visible(&rd, SK_TLP_RED, me)); /* RED: recipients only */
	cr_assert(!sk_policy_visible(&rd, SK_TLP_NONE, other));
	cr_assert(sk_policy_visible(&am, SK_TLP_NONE, other));
	cr_assert(!sk_policy_visible(&am, SK_TLP_AMBER_STRICT, other));
	cr_assert(sk_policy_visible(&st, SK_TLP_AMBER_STRICT, other));
	cr_assert(!sk_policy_visible(&st, SK_TLP_AMBER, other));
	cr_assert(sk_policy_visible(&red, SK_TLP_RED, other));
	for (int l = SK_TLP_NONE; l <= SK_TLP_RED; l++)
		cr_assert(!sk_policy_visible(&none, (sk_tlp)l, me), "no can_read: nothing (level %d)", l);
	anon.default_tlp = SK_TLP_CLEAR;
	cr_assert(sk_policy_visible(&anon, SK_TLP_NONE, NULL));
}

/* One stored object per (level, producer) pair; count what each access sees. */
static int count_row(void *ud, const sk_row *r)
{
	unsigned *seen = ud;
	seen[r->tlp * 2 + (r->created_by && strstr(r->created_by, "1111") ? 1 : 0)]++;
	return 0;
}

Test(policy, sql_matches_c)
{
	static const char *marks[] = {
	    NULL,
	    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
	};
	const char *who[2] = {"identity--22222222-2222-4222-8222-222222222222",
			      "identity--11111111-1111-4111-8111-111111111111"};
	char path[] = "/tmp/sk-policy-XXXXXX";
	int fd = mkstemp(path);
	sk_store *st = NULL;
	sk_error err;
	sk_collection c;
	sk_jdoc *doc = NULL;

	cr_assert(fd >= 0);
	close(fd);
	unlink(path);
	cr_assert_eq(sk_store_open(path, SK_STORE_CREATE, &st, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_store_collection_add(st, "c", NULL, NULL, NULL, &c, &err), SK_OK);
	cr_assert_eq(sk_json_doc_new(0, 0, &doc), SK_OK);
	cr_assert_eq(sk_store_begin(st, &err), SK_OK);
	for (int l = 0; l <= 5; l++)
		for (int p = 0; p < 2; p++) {
			char text[1024];
			sk_stix_info info;
			char mk[128] = "";
			if (marks[l])
				snprintf(mk, sizeof(mk), ",\"object_marking_refs\":[\"%s\"]", marks[l]);
			snprintf(text, sizeof(text),
				 "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":"
				 "\"identity--0000000%d-0000-4000-8000-00000000000%d\",\"created\":"
				 "\"2024-01-01T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\","
				 "\"name\":\"x\",\"created_by_ref\":\"%s\"%s}",
				 l, p, who[p], mk);
			cr_assert_eq(sk_stix_validate_text(doc, text, strlen(text), &info, &err), SK_OK,
				     "%s", err.msg);
			cr_assert_eq(sk_store_put(st, c.cid, &info, text, strlen(text), NULL, NULL, &err),
				     SK_OK);
		}
	cr_assert_eq(sk_store_commit(st, &err), SK_OK);
	/* every combination of grant flags, anonymous, public */
	for (unsigned bits = 0; bits < 64; bits++) {
		sk_access a = acc(bits & 1, bits & 2, bits & 4, bits & 8, bits & 16, bits & 32);
		unsigned seen[12] = {0};
		sk_query q;
		sk_query_init(&q);
		q.cid = c.cid;
		sk_policy_apply(&a, &q);
		cr_assert_eq(sk_store_query(st, &q, count_row, seen, &err), SK_OK, "%s", err.msg);
		for (int l = 0; l <= 5; l++)
			for (int p = 0; p < 2; p++)
				cr_assert_eq(seen[l * 2 + p], sk_policy_visible(&a, (sk_tlp)l, who[p]) ? 1u : 0u,
					     "bits %u level %d producer %d", bits, l, p);
	}
	sk_collection_clear(&c);
	sk_json_doc_free(doc);
	sk_store_close(st);
	unlink(path);
}
