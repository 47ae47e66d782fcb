/*
 * test_fleet.c - the fleet's NKey encoding, names, sensors, the nats-server
 * authorization include and the sensor's credential file.  (The bus itself
 * is tested against a real nats-server: tests/integration/test_fleet.py.)
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#include "schakel/account.h"
#include "schakel/fleet.h"
#include "schakel/store.h"
#include "sk_test.h"

static void setup(void)
{
	t_tmpdir_make();
}

static void teardown(void)
{
	t_tmpdir_remove();
}

TestSuite(fleet, .init = setup, .fini = teardown);

Test(fleet, nkey_round_trip)
{
	char seed[SK_NKEY_SEED_LEN + 1], pub[SK_NKEY_PUB_LEN + 1], pub2[SK_NKEY_PUB_LEN + 1];
	unsigned char s[32], pk[32];
	sk_error err;

	cr_assert_eq(sodium_init() >= 0, true);
	sk_nkey_new(seed, pub);
	cr_expect_eq(strlen(seed), SK_NKEY_SEED_LEN);
	cr_expect_eq(strlen(pub), SK_NKEY_PUB_LEN);
	cr_expect(!strncmp(seed, "SU", 2), "a user seed starts with SU: %s", seed);
	cr_expect_eq(pub[0], 'U');
	cr_assert_eq(sk_nkey_decode_seed(seed, s, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_nkey_pub_of_seed(seed, pub2, &err), SK_OK, "%s", err.msg);
	cr_expect_str_eq(pub, pub2);
	cr_assert_eq(sk_nkey_decode_pub(pub, pk, &err), SK_OK, "%s", err.msg);
}

Test(fleet, nkey_known_vector)
{
	/* all-zero key: prefix byte 160 (U), 32 zero bytes, CRC-16/XMODEM little-endian (as
	 * computed by an independent encoder; nats-server accepts real keys: test_fleet.py) */
	unsigned char zero[32] = {0};
	char pub[SK_NKEY_PUB_LEN + 1], seed[SK_NKEY_SEED_LEN + 1];
	sk_nkey_encode_pub(zero, pub);
	cr_expect_str_eq(pub, "UAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABET7");
	sk_nkey_encode_seed(zero, seed);
	cr_expect(!strncmp(seed, "SUAAAAAAAA", 10), "%s", seed);
}

Test(fleet, nkey_refusals)
{
	char seed[SK_NKEY_SEED_LEN + 1], pub[SK_NKEY_PUB_LEN + 1];
	unsigned char b[32];
	sk_error err;

	sk_nkey_new(seed, pub);
	seed[10] = seed[10] == 'A' ? 'B' : 'A';
	cr_expect_eq(sk_nkey_decode_seed(seed, b, &err), SK_EINVAL);
	cr_expect(strstr(err.msg, "checksum"), "%s", err.msg);
	cr_expect_eq(sk_nkey_decode_seed(pub, b, &err), SK_EINVAL, "a public key is no seed");
	cr_expect_eq(sk_nkey_decode_pub("U1", b, &err), SK_EINVAL);
	pub[0] = 'N';
	cr_expect_eq(sk_nkey_decode_pub(pub, b, &err), SK_EINVAL);
}

Test(fleet, names)
{
	cr_expect(sk_fleet_name_ok("water-board_1"));
	cr_expect(!sk_fleet_name_ok("a.b"));
	cr_expect(!sk_fleet_name_ok("a*"));
	cr_expect(!sk_fleet_name_ok(">"));
	cr_expect(!sk_fleet_name_ok(""));
	cr_expect(!sk_fleet_name_ok("with space"));
}

Test(fleet, sensors_authz_and_credentials)
{
	sk_store *st = NULL;
	sk_node_params np = {.name = "Hub"};
	sk_partner_params pp = {.name = "water"};
	char seed[SK_NKEY_SEED_LEN + 1], other[SK_NKEY_SEED_LEN + 1], pub[SK_NKEY_PUB_LEN + 1];
	sk_collection c;
	sk_fleet_creds cr, back;
	sk_error err;
	bool made;
	char *text, *authz;
	struct stat sb;

	cr_assert_eq(sk_store_open(t_path("h.db"), SK_STORE_CREATE, &st, &err), SK_OK, "%s",
	             err.msg);
	cr_assert_eq(sk_store_init_node(st, &np, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_store_own_key_ensure(st, &made, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_partner_add(st, &pp, NULL, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_store_collection_add(st, "ind", NULL, NULL, NULL, &c, &err), SK_OK);
	cr_expect(!sk_fleet_collection_is(st, c.cid));
	cr_expect_eq(sk_fleet_collection_set(st, "ind", true, &err), SK_OK, "%s", err.msg);
	cr_expect(sk_fleet_collection_is(st, c.cid));
	cr_expect_eq(sk_fleet_collection_set(st, "nope", true, &err), SK_ENOTFOUND);

	cr_expect_eq(sk_fleet_sensor_add(st, "s1", "nobody", other, &err), SK_ENOTFOUND);
	cr_expect_eq(sk_fleet_sensor_add(st, "s.1", "water", other, &err), SK_EINVAL);
	cr_assert_eq(sk_fleet_sensor_add(st, "s1", "water", seed, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(sk_fleet_sensor_add(st, "s1", "water", other, &err), SK_EEXIST);
	cr_assert_eq(sk_nkey_pub_of_seed(seed, pub, &err), SK_OK);

	cr_assert_eq(sk_fleet_authz_write(st, t_path("authz.conf"), &err), SK_OK, "%s", err.msg);
	cr_assert_eq(stat(t_path("authz.conf"), &sb), 0);
	cr_expect_eq(sb.st_mode & 0777, 0600);
	authz = t_slurp(t_path("authz.conf"), NULL);
	cr_expect(strstr(authz, pub), "the sensor's public key is in the include");
	cr_expect(!strstr(authz, seed), "its seed is not");
	cr_expect(strstr(authz, "\"$JS.API.CONSUMER.MSG.NEXT.SKFLEET_water.s1\""));
	cr_expect(strstr(authz, "\"schakel.fleet.sightings.s1\""));
	cr_expect(!strstr(authz, "schakel.fleet.water.objects"), "no direct subscription");
	free(authz);

	cr_assert_eq(sk_fleet_creds_make(st, "s1", seed, &cr, &err), SK_OK, "%s", err.msg);
	text = sk_fleet_creds_text(&cr);
	t_write_str("s1.cred", text);
	free(text);
	cr_assert_eq(sk_fleet_creds_read(t_path("s1.cred"), &back, &err), SK_OK, "%s", err.msg);
	cr_expect_str_eq(back.name, "s1");
	cr_expect_str_eq(back.audience, "water");
	cr_expect_str_eq(back.seed, seed);
	cr_expect_str_eq(back.hub, sk_store_own_id(st));
	t_write_str("bad.cred", "sensor s1\nwhat is this\n");
	cr_expect_eq(sk_fleet_creds_read(t_path("bad.cred"), &back, &err), SK_EINVAL);
	cr_expect(strstr(err.msg, "bad.cred:2"), "%s", err.msg);

	cr_expect_eq(sk_fleet_sensor_remove(st, "s1", &err), SK_OK);
	cr_expect_eq(sk_fleet_sensor_remove(st, "s1", &err), SK_ENOTFOUND);
	sk_collection_clear(&c);
	sk_store_close(st);
}
