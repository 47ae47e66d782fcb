/*
 * test_psl.c - Public Suffix List lookups: rules, wildcards, exceptions,
 * the no-list fallback, and Debian's list when installed.
 */
#include "schakel/psl.h"

#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

static const char rules[] = "// comment\n"
                            "example\n"
                            "co.example\n"
                            "*.wild.example\n"
                            "!www.wild.example\n"
                            "  test   trailing words ignored\n"
                            "\n";

static long reg(const sk_psl *p, const char *name)
{
	return sk_psl_registrable(p, name, strlen(name));
}

Test(psl, rules_from_memory)
{
	sk_psl *p;
	sk_error err;
	bool listed;
	cr_assert_eq(sk_psl_load_mem(rules, sizeof(rules) - 1, &p, &err), SK_OK);
	cr_assert_eq(sk_psl_count(p), 5);
	cr_assert_eq(reg(p, "www.shop.example"), 4); /* shop.example */
	cr_assert_eq(reg(p, "a.b.co.example"), 2);   /* b.co.example */
	cr_assert_eq(reg(p, "co.example"), -1);      /* a public suffix */
	cr_assert_eq(reg(p, "example"), -1);
	cr_assert_eq(reg(p, "x.y.wild.example"),
	             0); /* *.wild.example: y.wild.example is the suffix */
	cr_assert_eq(reg(p, "y.wild.example"), -1);
	cr_assert_eq(reg(p, "www.wild.example"), 0); /* exception: registrable itself */
	cr_assert_eq(reg(p, "a.www.wild.example"), 2);
	cr_assert_eq(reg(p, "WWW.Shop.Example."), 4); /* case, trailing dot */
	cr_assert_eq(sk_psl_suffix_len(p, "a.b.test", 8, &listed), 4);
	cr_assert(listed);
	cr_assert_eq(sk_psl_suffix_len(p, "a.b.unknown", 11, &listed), 7); /* implicit "*" */
	cr_assert_not(listed);
	cr_assert_eq(sk_psl_suffix_len(p, "a.", 2, NULL), 1);
	cr_assert_eq(sk_psl_suffix_len(p, "a..", 3, NULL), 0);
	sk_psl_free(p);
}

Test(psl, fallback_without_list)
{
	bool listed;
	cr_assert_eq(reg(NULL, "www.shop.example"), 4);
	cr_assert_eq(reg(NULL, "example"), -1);
	cr_assert_eq(sk_psl_suffix_len(NULL, "a.xn--p1ai", 10, &listed), 8);
	cr_assert(listed);
	cr_assert_eq(sk_psl_suffix_len(NULL, "file.x1", 7, &listed), 0);
	cr_assert_not(listed);
	cr_assert_eq(sk_psl_count(NULL), 0);
}

Test(psl, errors)
{
	sk_psl *p;
	sk_error err;
	cr_assert_eq(sk_psl_load("/nonexistent/psl.dat", &p, &err), SK_ENOTFOUND);
	cr_assert_null(p);
	cr_assert_eq(sk_psl_load_mem("// only comments\n", 17, &p, &err), SK_EINVAL);
	sk_psl_free(NULL);
}

Test(psl, debian_list)
{
	sk_psl *p;
	sk_error err;
	if (access(SK_PSL_DEFAULT_PATH, R_OK) != 0)
		cr_skip_test("%s absent (package publicsuffix): skipped", SK_PSL_DEFAULT_PATH);
	cr_assert_eq(sk_psl_load(NULL, &p, &err), SK_OK, "%s", err.msg);
	cr_assert_gt(sk_psl_count(p), 5000);
	cr_assert_eq(reg(p, "www.example.co.uk"), 4);
	cr_assert_eq(reg(p, "example.com"), 0);
	cr_assert_eq(reg(p, "a.b.example.com"), 4);
	cr_assert_eq(reg(p, "co.uk"), -1);
	cr_assert_eq(reg(p, "foo.bar.kawasaki.jp"), 0);  /* *.kawasaki.jp */
	cr_assert_eq(reg(p, "www.city.kawasaki.jp"), 4); /* !city.kawasaki.jp */
	sk_psl_free(p);
}
