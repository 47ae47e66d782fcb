/*
 * test_ui_session.c - the console's session table: ids and CSRF tokens are
 * fresh random base64url, a session is found by its id only, logout and an
 * account's removal end it, a full table drops its oldest session, and the
 * cookie parser takes only a well-formed sk_session value.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "ui/ui_core_int.h"

static sk_principal who(int64_t aid, const char *name)
{
	sk_principal p;
	memset(&p, 0, sizeof(p));
	p.aid = aid;
	p.role = SK_ROLE_ANALYST;
	strcpy(p.account, name);
	return p;
}

Test(ui_session, create_get_drop)
{
	ui_sessions *t = ui_sessions_new(60, 600, 8);
	char id[UI_TOKEN_LEN + 1], csrf[UI_TOKEN_LEN + 1], c2[UI_TOKEN_LEN + 1];
	char id2[UI_TOKEN_LEN + 1];
	sk_principal p = who(7, "ana"), q;
	int64_t gen = 0;

	cr_assert(t);
	cr_assert(ui_session_create(t, &p, 3, id, csrf));
	cr_expect_eq(strlen(id), UI_TOKEN_LEN);
	cr_expect_eq(strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
	             UI_TOKEN_LEN);
	cr_expect_neq(strcmp(id, csrf), 0);
	cr_assert(ui_session_get(t, id, &q, &gen, c2));
	cr_expect_str_eq(q.account, "ana");
	cr_expect_eq(gen, 3);
	cr_expect_str_eq(c2, csrf);
	cr_expect(ui_csrf_ok(csrf, c2));
	cr_expect_not(ui_csrf_ok(NULL, c2));
	cr_expect_not(ui_csrf_ok("short", c2));
	c2[5] ^= 1;
	cr_expect_not(ui_csrf_ok(csrf, c2));
	ui_session_set_gen(t, id, 4);
	cr_assert(ui_session_get(t, id, &q, &gen, NULL));
	cr_expect_eq(gen, 4);
	cr_assert(ui_session_create(t, &p, 4, id2, csrf));
	cr_expect_neq(strcmp(id, id2), 0, "every session has its own id");
	ui_session_drop(t, id);
	cr_expect_not(ui_session_get(t, id, &q, &gen, NULL), "logout ends it");
	cr_expect(ui_session_get(t, id2, &q, &gen, NULL), "and only it");
	ui_session_drop_account(t, 7);
	cr_expect_not(ui_session_get(t, id2, &q, &gen, NULL), "the account's sessions end");
	ui_sessions_free(t);
}

Test(ui_session, full_table_drops_the_oldest)
{
	ui_sessions *t = ui_sessions_new(60, 600, 3);
	char id[4][UI_TOKEN_LEN + 1], csrf[UI_TOKEN_LEN + 1];
	sk_principal p = who(1, "a"), q;
	int64_t gen;

	for (int i = 0; i < 4; i++)
		cr_assert(ui_session_create(t, &p, 0, id[i], csrf));
	cr_expect_not(ui_session_get(t, id[0], &q, &gen, NULL), "the oldest went");
	for (int i = 1; i < 4; i++)
		cr_expect(ui_session_get(t, id[i], &q, &gen, NULL), "session %d stays", i);
	ui_sessions_free(t);
}

Test(ui_session, cookie_parsing)
{
	char id[UI_TOKEN_LEN + 1];
	const char *v = "AAAAAAAAAABBBBBBBBBBCCCCCCCCCCDDDDDDDDDD-_9";
	char h[256];

	snprintf(h, sizeof(h), "theme=dark; sk_session=%s; other=1", v);
	cr_assert(ui_cookie_value(h, id));
	cr_expect_str_eq(id, v);
	snprintf(h, sizeof(h), "sk_session=%s", v);
	cr_expect(ui_cookie_value(h, id));
	cr_expect_not(ui_cookie_value(NULL, id));
	cr_expect_not(ui_cookie_value("sk_session=short", id));
	cr_expect_not(
	    ui_cookie_value("xsk_session=AAAAAAAAAABBBBBBBBBBCCCCCCCCCCDDDDDDDDDD-_9", id));
	cr_expect_not(ui_cookie_value("sk_session=AAAAAAAAAABBBBBBBBBBCCCCCCCCCCDDDDDDDDDD+/9", id),
	              "only base64url");
	cr_expect_not(
	    ui_cookie_value("sk_session_x=AAAAAAAAAABBBBBBBBBBCCCCCCCCCCDDDDDDDDDD-_9", id));
}
