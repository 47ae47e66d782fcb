/*
 * test_decay.c - indicator scores and decay (decay.h): the decay function,
 * the crossing time, the base score, kinds, durations, and the settings.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "schakel/decay.h"
#include "sk_test.h"

#define DAY ((int64_t)86400 * 1000000)

Test(decay, polynomial)
{
	sk_decay_model lin = {.lifetime_us = 100 * DAY, .speed = 1.0};
	sk_decay_model fast = {.lifetime_us = 100 * DAY, .speed = 2.0};

	cr_expect_float_eq(sk_decay_score(&lin, 80, 0, 0), 80.0, 1e-9, "no age, no decay");
	cr_expect_float_eq(sk_decay_score(&lin, 80, 10 * DAY, 0), 80.0, 1e-9,
	                   "before the refresh: the base");
	cr_expect_float_eq(sk_decay_score(&lin, 80, 0, 50 * DAY), 40.0, 1e-6, "linear: half");
	cr_expect_float_eq(sk_decay_score(&fast, 80, 0, 25 * DAY), 40.0, 1e-6,
	                   "speed 2: sqrt(1/4) = 1/2 gone after a quarter");
	cr_expect_float_eq(sk_decay_score(&lin, 80, 0, 100 * DAY), 0.0, 1e-9, "at the lifetime");
	cr_expect_float_eq(sk_decay_score(&lin, 80, 0, 1000 * DAY), 0.0, 1e-9, "past it");
}

Test(decay, crossing_time_matches_the_score)
{
	sk_decay_model m[] = {{30 * DAY, 1.0}, {30 * DAY, 0.3}, {365 * DAY, 3.0}};
	int bases[] = {31, 50, 75, 100};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		for (size_t j = 0; j < sizeof(bases) / sizeof(bases[0]); j++) {
			int64_t r = 1000 * DAY, u = sk_decay_until(&m[i], bases[j], 30, r);
			cr_assert_gt(u, r);
			cr_expect_geq(sk_decay_score(&m[i], bases[j], r, u - 2), 30.0 - 1e-6,
			              "model %zu base %d: still at or above just before", i,
			              bases[j]);
			cr_expect_lt(sk_decay_score(&m[i], bases[j], r, u), 30.0,
			             "model %zu base %d: below from then on", i, bases[j]);
		}
	cr_expect_eq(sk_decay_until(&m[0], 20, 30, 5), 5, "below already: since the refresh");
	cr_expect_eq(sk_decay_until(&m[0], 20, 0, 5), SK_DECAY_NEVER, "threshold 0: never");
}

Test(decay, base_score)
{
	sk_decay_config c;
	sk_decay_defaults(&c);
	cr_expect_eq(sk_decay_base(&c, 80, 100, 0, 0), 80);
	cr_expect_eq(sk_decay_base(&c, 80, 50, 0, 0), 40, "trust scales");
	cr_expect_eq(sk_decay_base(&c, -1, 100, 0, 0), c.default_confidence, "no confidence");
	cr_expect_eq(sk_decay_base(&c, 80, 50, 2, 0), 60, "sightings raise");
	cr_expect_eq(sk_decay_base(&c, 80, 50, 9, 0), 70, "at most three count");
	cr_expect_eq(sk_decay_base(&c, 80, 50, 0, 1), 15, "a false positive lowers");
	cr_expect_eq(sk_decay_base(&c, 80, 50, 0, 2), 0, "never below 0");
	cr_expect_eq(sk_decay_base(&c, 100, 100, 3, 0), 100, "never above 100");
}

Test(decay, kinds_and_durations)
{
	int64_t us;
	cr_expect_eq(sk_decay_kind_of("[ipv4-addr:value = '192.0.2.1']"), SK_DECAY_IP);
	cr_expect_eq(sk_decay_kind_of("[ipv6-addr:value = '2001:db8::1']"), SK_DECAY_IP);
	cr_expect_eq(sk_decay_kind_of("[network-traffic:dst_ref.value = '192.0.2.1']"),
	             SK_DECAY_IP);
	cr_expect_eq(sk_decay_kind_of("[domain-name:value = 'a.example']"), SK_DECAY_DOMAIN);
	cr_expect_eq(sk_decay_kind_of("[url:value = 'http://a.example/']"), SK_DECAY_URL);
	cr_expect_eq(sk_decay_kind_of("[file:hashes.'SHA-256' = 'ab']"), SK_DECAY_FILE);
	cr_expect_eq(sk_decay_kind_of("([email-addr:value = 'a@b.example'])"), SK_DECAY_EMAIL);
	cr_expect_eq(sk_decay_kind_of("[mutex:name = 'x']"), SK_DECAY_OTHER);
	cr_expect_eq(sk_decay_kind_of(NULL), SK_DECAY_OTHER);
	cr_expect(sk_decay_parse_duration("30d", &us) && us == 30 * DAY);
	cr_expect(sk_decay_parse_duration("6w", &us) && us == 42 * DAY);
	cr_expect(sk_decay_parse_duration("3mo", &us) && us == 90 * DAY);
	cr_expect(sk_decay_parse_duration("2y", &us) && us == 730 * DAY);
	cr_expect(sk_decay_parse_duration("12h", &us) && us == DAY / 2);
	cr_expect_not(sk_decay_parse_duration("0d", &us));
	cr_expect_not(sk_decay_parse_duration("-1d", &us));
	cr_expect_not(sk_decay_parse_duration("5", &us));
	cr_expect_not(sk_decay_parse_duration("5 days", &us));
	cr_expect_not(sk_decay_parse_duration("999999y", &us));
}

Test(decay, settings, .init = t_tmpdir_make, .fini = t_tmpdir_remove)
{
	sk_store *st, *other;
	sk_error err;
	char *v = NULL;

	cr_assert_eq(sk_store_open(t_path("d.db"), SK_STORE_CREATE, &st, &err), SK_OK, "%s",
	             err.msg);
	cr_assert_eq(sk_store_open(t_path("d.db"), 0, &other, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(sk_decay_config_set(st, "decay.threshold", "30", &err), SK_OK, "%s", err.msg);
	cr_expect_eq(sk_decay_config_set(st, "decay.ip.lifetime", "2w", &err), SK_OK, "%s",
	             err.msg);
	cr_expect_eq(sk_decay_config_set(st, "decay.file.speed", "0.5", &err), SK_OK, "%s",
	             err.msg);
	cr_expect_eq(sk_decay_config_set(st, "decay.threshold", "101", &err), SK_EINVAL);
	cr_expect_eq(sk_decay_config_set(st, "decay.ip.speed", "0", &err), SK_EINVAL);
	cr_expect_eq(sk_decay_config_set(st, "decay.nope.lifetime", "2w", &err), SK_EINVAL);
	cr_expect_eq(sk_decay_config_get(st, "decay.ip.lifetime", &v, &err), SK_OK, "%s", err.msg);
	cr_expect_str_eq(v, "14d");
	free(v);
	sk_store_close(st);
	/* another connection (a running server) takes the new model at its next write */
	cr_expect_eq(sk_decay_config_of(other)->threshold, 0);
	cr_assert_eq(sk_store_begin(other, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(sk_decay_config_of(other)->threshold, 30);
	sk_store_rollback(other);
	sk_store_close(other);
	/* kept in the database */
	cr_assert_eq(sk_store_open(t_path("d.db"), SK_STORE_READONLY, &st, &err), SK_OK, "%s",
	             err.msg);
	cr_expect_eq(sk_decay_config_of(st)->threshold, 30);
	cr_expect_eq(sk_decay_config_of(st)->model[SK_DECAY_IP].lifetime_us, 14 * DAY);
	cr_expect_float_eq(sk_decay_config_of(st)->model[SK_DECAY_FILE].speed, 0.5, 1e-9);
	sk_store_close(st);
}
