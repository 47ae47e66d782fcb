/*
 * test_match_base.c - the matcher cache's base part (match_base.h): a base
 * written and loaded back with its version rows, watermark, counts and skip
 * messages; a base past the store's state is stale; an indicator table that
 * does not fit is refused; the skip message lines `scan` prints.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schakel/match_base.h"
#include "sk_test.h"

static void setup(void)
{
	t_tmpdir_make();
}

static void teardown(void)
{
	t_tmpdir_remove();
}

TestSuite(match_base, .init = setup, .fini = teardown);

static const char *const pats[] = {
    "[domain-name:value = 'evil.example']",
    "[ipv4-addr:value = '192.0.2.7']",
    "[url:value = 'http://evil.example/gate.php']",
};

static sk_matcher *small(void)
{
	sk_match_opts mo = {0};
	sk_matcher *m = NULL;
	sk_error err;
	cr_assert_eq(sk_matcher_new(&mo, &m, &err), SK_OK);
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		cr_assert_eq(sk_matcher_add(m, pats[i], strlen(pats[i]), 0, NULL, &err), SK_OK,
		             "%s", err.msg);
	cr_assert_eq(sk_matcher_build(m, &err), SK_OK);
	return m;
}

static void key(sk_mbase_key *k, int64_t watermark)
{
	memset(k, 0, sizeof(*k));
	size_t e = sk_mcache_env(k->key, sizeof(k->key));
	snprintf(k->key + e, sizeof(k->key) - e, " rep=0 wl=0");
	k->path = strdup(t_path("store.db.matcher"));
	k->watermark = watermark;
}

Test(match_base, round_trip)
{
	sk_matcher *m = small();
	sk_mbase_key k;
	sk_mbase_msgs ms = {0};
	sk_indload_stats ls = {
	    .added = 3, .unsupported = 1, .valid_lo = INT64_MIN, .valid_hi = INT64_MAX};
	int64_t vers[3] = {4, 9, 12};
	char line[512];
	sk_mbase b;
	sk_error err;
	struct stat st;

	key(&k, 20);
	cr_assert_eq(sk_mbase_note(&ms, SK_INDLOAD_UNSUPPORTED, "indicator--x", "no path", line,
	                           sizeof(line)),
	             'U');
	cr_assert_str_eq(line, "schakel: indicator--x: cannot match: no path");
	cr_assert_eq(sk_mbase_note(&ms, SK_INDLOAD_REVOKED, "indicator--y", "", line, sizeof(line)),
	             0);
	cr_assert_eq(sk_mbase_save(&k, m, vers, NULL, 3, &ls, 15, &ms, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(stat(k.path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);

	cr_assert_eq(sk_mbase_load(&k, 0, NULL, &b, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(b.ninds, 3);
	cr_assert_eq(b.vers[0], 4);
	cr_assert_eq(b.vers[2], 12);
	cr_assert_eq(b.watermark, 15);
	cr_assert_eq(b.ls.unsupported, 1);
	cr_assert_eq(b.msgs_len, ms.len);
	cr_assert_eq(memcmp(b.msgs, "Uschakel: indicator--x: cannot match: no path\n", ms.len), 0);
	sk_matcher_free(b.m);

	/* the store's state is behind the base's watermark: stale, not loaded */
	k.watermark = 14;
	cr_assert_eq(sk_mbase_load(&k, 0, NULL, &b, &err), SK_ECONFLICT);
	cr_assert_null(b.m);

	/* the watermark is raised to the largest version row compiled */
	k.watermark = 20;
	vers[2] = 18;
	cr_assert_eq(sk_mbase_save(&k, m, vers, NULL, 3, &ls, 15, NULL, &err), SK_OK);
	cr_assert_eq(sk_mbase_load(&k, 0, NULL, &b, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(b.watermark, 18);
	sk_matcher_free(b.m);

	/* version rows out of order: refused as damaged */
	vers[1] = 2;
	cr_assert_eq(sk_mbase_save(&k, m, vers, NULL, 3, &ls, 15, NULL, &err), SK_OK);
	cr_assert_eq(sk_mbase_load(&k, 0, NULL, &b, &err), SK_EINVAL);
	cr_assert(strstr(err.msg, "damaged"));
	/* as many rows as indicators, or refused */
	cr_assert_eq(sk_mbase_save(&k, m, vers, NULL, 2, &ls, 15, NULL, &err), SK_OK);
	cr_assert_eq(sk_mbase_load(&k, 0, NULL, &b, &err), SK_EINVAL);

	sk_mbase_msgs_clear(&ms);
	sk_mbase_key_clear(&k);
	sk_matcher_free(m);
}

/*
 * An indicator that expires or decays by time alone: the base keeps when
 * each stops passing and stays valid past it, up to the first begin after
 * the build; without untils it is valid only until the first of them.
 */
Test(match_base, untils)
{
	sk_matcher *m = small();
	sk_mbase_key k;
	sk_indload_stats ls = {.added = 3, .valid_lo = 100, .valid_hi = 500, .begin_hi = 900};
	int64_t vers[3] = {4, 9, 12}, untils[3] = {0, 500, 700}, none[3] = {0, 0, 0};
	sk_mbase b;
	sk_error err;

	key(&k, 20);
	cr_assert_eq(sk_mbase_save(&k, m, vers, untils, 3, &ls, 15, NULL, &err), SK_OK, "%s",
	             err.msg);
	cr_assert_eq(sk_mbase_load(&k, 600, NULL, &b, &err), SK_OK, "%s", err.msg);
	cr_assert_not_null(b.untils);
	cr_assert_eq(b.untils[1], 500);
	cr_assert_eq(b.untils[2], 700);
	cr_assert_eq(b.vers[2], 12);
	cr_assert_eq(sk_mbase_expired(b.untils, b.ninds, 600), 1);
	cr_assert_eq(sk_mbase_expired(b.untils, b.ninds, 700), 2);
	cr_assert_eq(sk_mbase_expired(b.untils, b.ninds, 499), 0);
	sk_matcher_free(b.m);
	/* a valid_from after the build ends the window: the base lacks that indicator */
	cr_assert_eq(sk_mbase_load(&k, 900, NULL, &b, &err), SK_ECONFLICT);
	/* and a time before the build's last past bound */
	cr_assert_eq(sk_mbase_load(&k, 99, NULL, &b, &err), SK_ECONFLICT);

	/* none with an until: no section, and the plain window */
	cr_assert_eq(sk_mbase_save(&k, m, vers, none, 3, &ls, 15, NULL, &err), SK_OK);
	cr_assert_eq(sk_mbase_load(&k, 300, NULL, &b, &err), SK_OK, "%s", err.msg);
	cr_assert_null(b.untils);
	cr_assert_eq(sk_mbase_expired(b.untils, b.ninds, 300), 0);
	sk_matcher_free(b.m);
	/* untils not known: valid only until the first of them */
	cr_assert_eq(sk_mbase_save(&k, m, vers, NULL, 3, &ls, 15, NULL, &err), SK_OK);
	cr_assert_eq(sk_mbase_load(&k, 600, NULL, &b, &err), SK_ECONFLICT);

	sk_mbase_key_clear(&k);
	sk_matcher_free(m);
}

Test(match_base, threshold)
{
	cr_assert(!sk_mbase_delta_too_big(1600000, 1000));
	cr_assert(!sk_mbase_delta_too_big(40, 900));
	cr_assert(sk_mbase_delta_too_big(40, 1100));
	cr_assert(sk_mbase_delta_too_big(1600000, 200001));
	cr_assert(sk_mbase_delta_too_big(16000000, SK_MBASE_DELTA_MAX + 1));
}
