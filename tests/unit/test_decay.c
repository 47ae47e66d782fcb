/*
 * test_decay.c - indicator scores and decay (decay.h): the decay function,
 * the crossing time, the base score, kinds, durations, and the settings.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "schakel/decay.h"
#include "sk_test.h"
#include "store/store_priv.h"

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

/* one integer column of the indicators row of id */
static int64_t col(sk_store *st, const char *c, const char *id)
{
	char sql[160];
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	snprintf(sql, sizeof(sql), "SELECT %s FROM indicators WHERE id='%s'", c, id);
	cr_assert_eq(sqlite3_prepare_v2(sk_store_sqlite(st), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

#define IND "indicator--6f1a2b3c-4d5e-4f60-8a71-b2c3d4e5f607"

Test(decay, evidence_and_backfill, .init = t_tmpdir_make, .fini = t_tmpdir_remove)
{
	static const char ind[] =
	    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" IND "\","
	    "\"created\":\"2026-01-01T00:00:00Z\",\"modified\":\"2026-01-01T00:00:00Z\","
	    "\"pattern\":\"[domain-name:value = 'a.example']\",\"pattern_type\":\"stix\","
	    "\"valid_from\":\"2026-01-01T00:00:00Z\",\"confidence\":60}";
	static const char sight[] =
	    "{\"type\":\"sighting\",\"spec_version\":\"2.1\","
	    "\"id\":\"sighting--0a1b2c3d-4e5f-4061-8273-8495a6b7c8d9\","
	    "\"created\":\"2026-02-01T00:00:00Z\",\"modified\":\"2026-02-01T00:00:00Z\","
	    "\"last_seen\":\"2026-02-01T00:00:00Z\",\"sighting_of_ref\":\"" IND "\"}";
	static const char fp[] =
	    "{\"type\":\"sighting\",\"spec_version\":\"2.1\","
	    "\"id\":\"sighting--1a1b2c3d-4e5f-4061-8273-8495a6b7c8d9\","
	    "\"created\":\"2026-02-02T00:00:00Z\",\"modified\":\"2026-02-02T00:00:00Z\","
	    "\"sighting_of_ref\":\"" IND "\",\"x_schakel_false_positive\":true}";
	sk_store *st;
	sk_error err;
	int64_t refreshed;

	cr_assert_eq(sk_store_open(t_path("e.db"), SK_STORE_CREATE, &st, &err), SK_OK, "%s",
	             err.msg);
	cr_assert_eq(sk_store_begin(st, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(t_put(st, 0, ind, NULL, NULL, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(col(st, "kind", IND), SK_DECAY_DOMAIN);
	cr_expect_eq(col(st, "base", IND), 45, "confidence 60 x default trust 75");
	cr_assert_eq(t_put(st, 0, sight, NULL, NULL, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(t_put(st, 0, fp, NULL, NULL, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_store_commit(st, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(col(st, "sightings", IND), 1);
	cr_expect_eq(col(st, "fp", IND), 1);
	cr_expect_eq(col(st, "base", IND), 30, "45 + 10 - 25");
	refreshed = col(st, "refreshed", IND);
	cr_expect_gt(refreshed, 0);
	/* the rows of an older store: filled again by the schema 17 backfill */
	cr_assert_eq(sk_store_exec(st,
	                           "UPDATE indicators SET kind=5, confidence=NULL, producer=NULL,"
	                           " sightings=0, fp=0, refreshed=NULL, base=0;"
	                           "INSERT INTO meta(key, value) VALUES('decay_backfill', '1');",
	                           &err),
	             SK_OK, "%s", err.msg);
	sk_store_close(st);
	cr_assert_eq(sk_store_open(t_path("e.db"), 0, &st, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(col(st, "kind", IND), SK_DECAY_DOMAIN);
	cr_expect_eq(col(st, "confidence", IND), 60);
	cr_expect_eq(col(st, "sightings", IND), 1);
	cr_expect_eq(col(st, "fp", IND), 1);
	cr_expect_eq(col(st, "refreshed", IND), refreshed, "the sighting's refresh is found again");
	cr_expect_eq(col(st, "base", IND), 30);
	sk_store_close(st);
}
