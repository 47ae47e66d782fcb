/*
 * test_uuid.c - random UUID generation and the UUID syntax check.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/uuid.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

Test(uuid, v4_has_the_canonical_form)
{
	for (int n = 0; n < 1000; n++) {
		char u[SK_UUID_LEN + 1];
		memset(u, 'Z', sizeof(u));
		sk_uuid_v4(u);
		cr_assert_eq(strlen(u), SK_UUID_LEN, "'%s' has the wrong length", u);
		for (int i = 0; i < SK_UUID_LEN; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23)
				cr_assert_eq(u[i], '-', "'%s': hyphen expected at %d", u, i);
			else
				cr_assert(strchr("0123456789abcdef", u[i]) && u[i],
				          "'%s': lower-case hex expected at %d", u, i);
		}
		cr_assert_eq(u[14], '4', "'%s' is not version 4", u);
		cr_assert(strchr("89ab", u[19]) && u[19], "'%s' is not the RFC 4122 variant", u);
		cr_assert(sk_uuid_valid(u, strlen(u)));
	}
}

Test(uuid, v4_values_differ)
{
	enum { N = 2000 };
	static char all[N][SK_UUID_LEN + 1];

	for (int i = 0; i < N; i++)
		sk_uuid_v4(all[i]);
	qsort(all, N, sizeof(all[0]), cmp_str);
	for (int i = 1; i < N; i++)
		cr_assert_str_neq(all[i - 1], all[i], "duplicate UUID generated");
}

Test(uuid, valid_accepts_either_case)
{
	static const char *const ok[] = {
	    "00000000-0000-0000-0000-000000000000",
	    "6ba7b810-9dad-11d1-80b4-00c04fd430c8", /* version 1 is still a UUID */
	    "F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6",
	    "f81D4fAE-7dec-11d0-A765-00a0c91e6bf6",
	    "ffffffff-ffff-ffff-ffff-ffffffffffff",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_expect(sk_uuid_valid(ok[i], strlen(ok[i])), "'%s' should be valid", ok[i]);
}

Test(uuid, valid_rejects_malformed)
{
	static const char *const bad[] = {
	    "",
	    "6ba7b810-9dad-11d1-80b4-00c04fd430c",   /* 35 */
	    "6ba7b810-9dad-11d1-80b4-00c04fd430c88", /* 37 */
	    "6ba7b8109dad-11d1-80b4-00c04fd430c8a-",
	    "6ba7b810-9dad-11d1-80b400c04fd430c8a",
	    "6ba7b810_9dad_11d1_80b4_00c04fd430c8",
	    "6ba7b810-9dad-11d1-80b4-00c04fd430cg", /* g is not hex */
	    "6ba7b810-9dad-11d1-80b4-00c04fd430c ",
	    "{ba7b810-9dad-11d1-80b4-00c04fd430c8}",
	    "6ba7b810 9dad 11d1 80b4 00c04fd430c8",
	    "------------------------------------",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(!sk_uuid_valid(bad[i], strlen(bad[i])), "'%s' should be invalid", bad[i]);
}

Test(uuid, valid_honours_the_length)
{
	const char *s = "6ba7b810-9dad-11d1-80b4-00c04fd430c8--trailing";

	cr_expect(sk_uuid_valid(s, SK_UUID_LEN));
	cr_expect(!sk_uuid_valid(s, SK_UUID_LEN - 1));
	cr_expect(!sk_uuid_valid(s, SK_UUID_LEN + 1));
	cr_expect(!sk_uuid_valid(s, 0));
}
