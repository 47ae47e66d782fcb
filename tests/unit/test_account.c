/*
 * test_account.c - accounts: the schema 8 migration keeps every partner
 * account, token and RED recipient; own accounts with roles hold no grants;
 * disable, passwd, delete and token revocation invalidate a cached login;
 * the login limits back off and cap.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

#include "schakel/account.h"
#include "schakel/policy.h"
#include "schakel/store.h"
#include "sk_test.h"
#include "store/store_priv.h"

static void setup(void)
{
	t_tmpdir_make();
}

static void teardown(void)
{
	t_tmpdir_remove();
}

TestSuite(account, .init = setup, .fini = teardown);

static sk_store *open_db(unsigned flags)
{
	sk_store *st = NULL;
	sk_error err;
	cr_assert_eq(sk_store_open(t_path("a.db"), flags, &st, &err), SK_OK, "%s", err.msg);
	return st;
}

static sk_store *node(void)
{
	sk_store *st = open_db(SK_STORE_CREATE);
	sk_node_params np = {.name = "Test node"};
	sk_partner_params pp = {.name = "Alpha"};
	sk_error err;

	cr_assert_eq(sk_store_init_node(st, &np, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_partner_add(st, &pp, NULL, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_account_add(st, "Alpha", "ana", "ana-pw", NULL, &err), SK_OK, "%s",
		     err.msg);
	return st;
}

static const char *basic(const char *user_pw)
{
	static char h[256];
	strcpy(h, "Basic ");
	sodium_bin2base64(h + 6, sizeof(h) - 6, (const unsigned char *)user_pw, strlen(user_pw),
			  sodium_base64_VARIANT_ORIGINAL);
	return h;
}

/* An older node (schema 7) with a partner account, a token and a RED entry migrates safely. */
Test(account, migration_keeps_tokens_and_red_recipients)
{
	sk_store *st = node();
	sk_principal p;
	sk_error err;
	char *tok = NULL;
	sqlite3 *db;

	cr_assert_eq(sk_token_create(st, "ana", NULL, &tok, NULL, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_red_recipient_set(st, "ana", "default", true, &err), SK_OK, "%s", err.msg);
	sk_store_close(st);
	/* back to schema 7 by hand */
	cr_assert_eq(sqlite3_open(t_path("a.db"), &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db,
				  "DROP TABLE keys;"
				  "DROP TABLE bundle_out;"
				  "DROP TABLE bundle_in;"
				  "ALTER TABLE objects DROP COLUMN sig;"
				  "ALTER TABLE peers DROP COLUMN tofu;"
				  "ALTER TABLE accounts DROP COLUMN role;"
				  "ALTER TABLE accounts DROP COLUMN disabled;"
				  "ALTER TABLE accounts DROP COLUMN gen;"
				  "DELETE FROM partners WHERE pid=0;"
				  "DROP TABLE audit;" /* schema 10 */
				  "DROP TABLE audit_checkpoints;"
				  "ALTER TABLE accounts DROP COLUMN totp_secret;" /* schema 11 */
				  "ALTER TABLE accounts DROP COLUMN totp_pending;"
				  "ALTER TABLE accounts DROP COLUMN totp_step;"
				  "DROP TABLE search;" /* schema 12 */
				  "DROP TABLE observables;"
				  "DROP INDEX objects_spec20;" /* schema 13 */
				  "DROP TABLE invites;" /* schema 14 */
				  "ALTER TABLE peers DROP COLUMN tls_pin;"
				  "DROP TABLE marking_pending;" /* schema 15 */
				  "ALTER TABLE collections DROP COLUMN fleet;" /* schema 16 */
				  "DROP TABLE fleet_sensors;"
				  "DROP TABLE fleet_cursor;"
				  "ALTER TABLE partners DROP COLUMN trust;" /* schema 17 */
				  "DROP TABLE feed_members;"
				  "DELETE FROM meta WHERE key='decay_backfill';"
				  "DROP INDEX indicators_alert;"
				  "ALTER TABLE indicators DROP COLUMN kind;"
				  "ALTER TABLE indicators DROP COLUMN confidence;"
				  "ALTER TABLE indicators DROP COLUMN producer;"
				  "ALTER TABLE indicators DROP COLUMN sightings;"
				  "ALTER TABLE indicators DROP COLUMN fp;"
				  "ALTER TABLE indicators DROP COLUMN refreshed;"
				  "ALTER TABLE indicators DROP COLUMN base;"
				  "ALTER TABLE indicators DROP COLUMN alert_until;"
				  "DROP TABLE sync_log;" /* schema 18 */
				  "DROP TABLE log_sources;" /* schema 19 */
				  "PRAGMA user_version=7",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);

	st = open_db(0);
	cr_expect_eq(sk_auth_token(st, tok, &p, &err), SK_OK, "the token survives: %s", err.msg);
	cr_expect_str_eq(p.partner, "Alpha");
	cr_expect_eq(p.role, SK_ROLE_PARTNER);
	cr_expect_eq(sk_auth_password(st, "ana", "ana-pw", &p, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sqlite3_exec(sk_store_sqlite(st), "SELECT 1", NULL, NULL, NULL), SQLITE_OK);
	{
		sqlite3_stmt *s;
		cr_assert_eq(sqlite3_prepare_v2(sk_store_sqlite(st),
						"SELECT COUNT(*) FROM red_recipients", -1, &s, NULL),
			     SQLITE_OK);
		cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
		cr_expect_eq(sqlite3_column_int(s, 0), 1, "the RED recipient entry survives");
		sqlite3_finalize(s);
	}
	free(tok);
	sk_store_close(st);
}

static int count_partner(void *ud, const sk_partner_row *r)
{
	(void)r;
	++*(int *)ud;
	return 0;
}

Test(account, own_accounts_hold_no_grants)
{
	sk_store *st = node();
	sk_collection c;
	sk_principal p;
	sk_access a;
	sk_error err;
	int n = 0;

	cr_assert_eq(sk_account_add_own(st, "adm", SK_ROLE_ADMIN, "adm-pw", NULL, &err), SK_OK,
		     "%s", err.msg);
	cr_expect_eq(sk_account_add_own(st, "x", SK_ROLE_PARTNER, "x", NULL, &err), SK_EINVAL);
	cr_expect_eq(sk_partner_list(st, count_partner, &n, &err), SK_OK);
	cr_expect_eq(n, 1, "the reserved row is not listed");
	cr_expect_eq(sk_grant_set(st, "", "default", SK_GRANT_READ, &err), SK_ENOTFOUND,
		     "the reserved row cannot be granted");
	cr_expect_eq(sk_partner_principal(st, "", &p, &err), SK_ENOTFOUND);
	cr_assert_eq(sk_auth_password(st, "adm", "adm-pw", &p, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(p.role, SK_ROLE_ADMIN);
	cr_expect_str_eq(p.identity, "");
	cr_expect_str_eq(p.partner, "");
	cr_assert_eq(sk_collection_resolve(st, "default", &c, &err), SK_OK);
	cr_assert_eq(sk_policy_access(st, &p, &c, &a, &err), SK_OK);
	cr_expect(!a.authenticated && !a.can_read && !a.can_write && !a.red);
	sk_collection_clear(&c);
	sk_store_close(st);
}

Test(account, changes_invalidate_cached_logins)
{
	sk_store *st = node();
	sk_auth_cache *c = NULL;
	sk_principal p;
	sk_error err;
	char *tok = NULL, id[16];

	cr_assert_eq(sk_auth_cache_new(60, &c), SK_OK);
	cr_expect_eq(sk_auth_header(st, c, basic("ana:ana-pw"), &p, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(sk_auth_header(st, c, basic("ana:ana-pw"), &p, &err), SK_OK, "cached");

	cr_assert_eq(sk_account_set_disabled(st, "ana", true, &err), SK_OK);
	cr_expect_eq(sk_auth_header(st, c, basic("ana:ana-pw"), &p, &err), SK_EAUTH, "disabled");
	cr_assert_eq(sk_account_set_disabled(st, "ana", false, &err), SK_OK);
	cr_expect_eq(sk_auth_header(st, c, basic("ana:ana-pw"), &p, &err), SK_OK, "enabled");

	cr_assert_eq(sk_token_create(st, "ana", NULL, &tok, id, &err), SK_OK);
	cr_assert_eq(sk_account_set_disabled(st, "ana", true, &err), SK_OK);
	cr_expect_eq(sk_auth_token(st, tok, &p, &err), SK_EAUTH, "a disabled account's token");
	cr_assert_eq(sk_account_set_disabled(st, "ana", false, &err), SK_OK);
	cr_expect_eq(sk_auth_token(st, tok, &p, &err), SK_OK);

	cr_assert_eq(sk_account_passwd(st, "ana", "new-pw", NULL, &err), SK_OK);
	cr_expect_eq(sk_auth_header(st, c, basic("ana:ana-pw"), &p, &err), SK_EAUTH, "old pw");
	cr_expect_eq(sk_auth_header(st, c, basic("ana:new-pw"), &p, &err), SK_OK, "new pw");

	cr_assert_eq(sk_account_delete(st, "ana", &err), SK_OK);
	cr_expect_eq(sk_auth_header(st, c, basic("ana:new-pw"), &p, &err), SK_EAUTH, "deleted");
	cr_expect_eq(sk_auth_token(st, tok, &p, &err), SK_EAUTH, "a deleted account's token");
	cr_expect_eq(sk_account_delete(st, "ana", &err), SK_ENOTFOUND);
	cr_expect_eq(sk_account_passwd(st, "ana", "x", NULL, &err), SK_ENOTFOUND);
	free(tok);
	sk_auth_cache_free(c);
	sk_store_close(st);
}

Test(account, wrong_passwords_back_off_per_user_and_address)
{
	sk_store *st = node();
	sk_auth_limits l = {.user_failures = 2, .addr_failures = 100, .block_s = 600};
	sk_auth_cache *c = NULL;
	sk_principal p;
	sk_error err;
	unsigned ra = 0;

	cr_assert_eq(sk_account_add(st, "Alpha", "bob", "bob-pw", NULL, &err), SK_OK);
	cr_assert_eq(sk_auth_cache_new(60, &c), SK_OK);
	sk_auth_cache_set_limits(c, &l);
	for (int i = 0; i < 2; i++)
		cr_expect_eq(sk_auth_request(st, c, basic("ana:nope"), "192.0.2.1", &p, &ra, &err),
			     SK_EAUTH);
	cr_expect_eq(sk_auth_request(st, c, basic("ana:ana-pw"), "192.0.2.1", &p, &ra, &err),
		     SK_ELIMIT, "blocked from that address");
	cr_expect(ra > 0 && ra <= 600, "retry after %u", ra);
	cr_expect_eq(sk_auth_request(st, c, basic("ana:ana-pw"), "192.0.2.2", &p, &ra, &err),
		     SK_OK, "not from another address");
	cr_expect_eq(sk_auth_request(st, c, basic("bob:bob-pw"), "192.0.2.1", &p, &ra, &err),
		     SK_OK, "another user from the blocked pair's address");
	/* IPv6 counts by /64 */
	for (int i = 0; i < 2; i++)
		sk_auth_request(st, c, basic("bob:nope"), "2001:db8::1", &p, &ra, &err);
	cr_expect_eq(sk_auth_request(st, c, basic("bob:guess"), "2001:db8::2", &p, &ra, &err),
		     SK_ELIMIT, "the same /64");
	cr_expect_eq(sk_auth_request(st, c, basic("bob:bob-pw"), "2001:db8::2", &p, &ra, &err),
		     SK_OK, "a login verified before (cached) is never blocked");
	cr_expect_eq(sk_auth_request(st, c, basic("bob:guess"), "2001:db8:0:1::2", &p, &ra, &err),
		     SK_EAUTH, "another /64");
	sk_auth_cache_free(c);
	sk_store_close(st);
}
