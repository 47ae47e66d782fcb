/*
 * ui_admin.c - the console's administration (docs/console.md,
 * "Administration"): partners, accounts, tokens, the grants matrix with the
 * RED recipients, and peers with their sync state.  Admins only (the route
 * table says UI_ADMIN).
 *
 * Every change goes through the same functions as the CLI (account.c), so
 * it is audited and takes effect at once, in this server and in any other.
 * A generated password or a new token is in the answer once and nowhere
 * else: the access log has no bodies, and nothing here prints one.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/peer.h"
#include "schakel/timestamp.h"
#include "schakel/tlp.h"
#include "ui/ui_core_int.h"
#include "ui/ui_int.h"

#define MAX_PASSWORD 1024
#define MAX_LABEL    256
#define MAX_SECTORS  32

/* Answer a failed change: the error's own words for what the caller got wrong. */
static void fail(ui_ctx *c, sk_err rc, const sk_error *e)
{
	switch (rc) {
	case SK_EEXIST:
		ui_error(c, 409, "%s", e->msg);
		break;
	case SK_ENOTFOUND:
		ui_error(c, 404, "%s", e->msg);
		break;
	case SK_EINVAL:
	case SK_ELIMIT:
		ui_error(c, 400, "%s", e->msg);
		break;
	case SK_EBUSY:
		ui_error(c, 503, "the database is busy; try again");
		break;
	default:
		fprintf(stderr, "schakel: serve: console: admin: %s\n", e->msg);
		ui_error(c, 500, "the change failed");
	}
}

/*
 * Member key of o as a string (NULL if absent and !required); false with a
 * 400 sent if it has the wrong type or length.
 */
static bool get_str(ui_ctx *c, json_t *o, const char *key, size_t max, bool required,
                    const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if ((!v || json_is_null(v)) && !required)
		return true;
	if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		ui_error(c, 400, "'%s': a non-empty string of at most %zu bytes%s", key, max,
		         required ? " is required" : "");
		return false;
	}
	*out = json_string_value(v);
	return true;
}

/* Member key of o as a boolean (def if absent and !required); false with a 400 sent if bad. */
static bool get_bool(ui_ctx *c, json_t *o, const char *key, bool required, bool def, bool *out)
{
	json_t *v = json_object_get(o, key);

	*out = def;
	if (!v && !required)
		return true;
	if (!json_is_boolean(v)) {
		ui_error(c, 400, "'%s': true or false%s", key, required ? " is required" : "");
		return false;
	}
	*out = json_is_true(v);
	return true;
}

/* Refuse members other than the allowed ones, so that a typo is not silently ignored. */
static bool only(ui_ctx *c, json_t *o, const char *const *allowed)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		size_t i = 0;
		while (allowed[i] && strcmp(allowed[i], k))
			i++;
		if (!allowed[i]) {
			ui_error(c, 400, "unknown member '%.64s'", k);
			return false;
		}
	}
	return true;
}

static void wipe_free(char *s)
{
	if (s) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

static json_t *time_json(int64_t us)
{
	char t[SK_TS_STR_MAX];
	if (!us)
		return json_null();
	sk_ts_format_ms(us, t);
	return json_string(t);
}

/* --- partners ----------------------------------------------------------------------------- */

/* The sectors of an identity object (its latest version), as a JSON array. */
static json_t *identity_sectors(ui_ctx *c, const char *identity)
{
	char *json = NULL, *by = NULL, *rx = NULL;
	json_t *o, *s, *out;
	sk_error e;

	if (!identity || sk_store_latest(c->st, identity, &json, &by, &rx, &e) || !json)
		return json_array();
	o = json_loads(json, 0, NULL);
	s = json_object_get(o, "sectors");
	out = json_is_array(s) ? json_deep_copy(s) : json_array();
	json_decref(o);
	free(json);
	free(by);
	free(rx);
	return out ? out : json_array();
}

typedef struct rows {
	ui_ctx *c;
	json_t *a;
} rows;

static int partner_row(void *ud, const sk_partner_row *r)
{
	rows *x = ud;
	json_array_append_new(x->a, json_pack("{s:s, s:s, s:s?, s:o, s:I}", "name", r->name,
	                                      "identity", r->identity, "country", r->country,
	                                      "sectors", identity_sectors(x->c, r->identity),
	                                      "accounts", (json_int_t)r->accounts));
	return 0;
}

static void partners_post(ui_ctx *c, json_t *b)
{
	static const char *const keys[] = {"name", "country", "sectors", NULL};
	const char *sectors[MAX_SECTORS];
	char identity[SK_IDENTITY_ID_MAX + 1];
	sk_partner_params p = {0};
	json_t *ss, *v;
	size_t i;
	sk_error e;
	sk_err rc;

	if (!only(c, b, keys) || !get_str(c, b, "name", SK_ACCOUNT_NAME_MAX, true, &p.name) ||
	    !get_str(c, b, "country", 2, false, &p.country))
		return;
	if (p.country && (strlen(p.country) != 2 || p.country[0] < 'A' || p.country[0] > 'Z' ||
	                  p.country[1] < 'A' || p.country[1] > 'Z')) {
		ui_error(c, 400, "'country': an ISO 3166-1 alpha-2 code in capitals (NL, DE, ...)");
		return;
	}
	ss = json_object_get(b, "sectors");
	if (ss && !json_is_null(ss)) {
		if (!json_is_array(ss) || json_array_size(ss) > MAX_SECTORS) {
			ui_error(c, 400, "'sectors': an array of at most %d strings", MAX_SECTORS);
			return;
		}
		json_array_foreach(ss, i, v)
		{
			if (!json_is_string(v) || !json_string_length(v) ||
			    json_string_length(v) > 64) {
				ui_error(c, 400, "'sectors'[%zu]: a STIX industry sector name", i);
				return;
			}
			sectors[i] = json_string_value(v);
		}
		p.sectors = sectors;
		p.nsectors = json_array_size(ss);
	}
	if ((rc = sk_partner_add(c->st, &p, identity, &e))) {
		fail(c, rc, &e);
		return;
	}
	ui_send_json(c, 201, json_pack("{s:s, s:s}", "name", p.name, "identity", identity));
}

/* --- accounts ----------------------------------------------------------------------------- */

static int account_row(void *ud, const sk_account_row *r)
{
	rows *x = ud;
	sk_principal p;
	sk_error e;
	bool totp =
	    sk_account_get(x->c->st, r->name, &p, &e) == SK_OK && ui_totp_enabled(x->c, p.aid);

	json_array_append_new(
	    x->a,
	    json_pack("{s:s, s:s?, s:s, s:b, s:I, s:b}", "name", r->name, "partner",
	              r->partner[0] ? r->partner : NULL, "role",
	              r->role == SK_ROLE_PARTNER ? "partner" : sk_role_name(r->role), "disabled",
	              r->disabled, "tokens", (json_int_t)r->tokens, "totp", totp));
	return 0;
}

/* {name, password} with the password only when one was generated (shown this once). */
static json_t *named(const char *name, const char *generated)
{
	json_t *j = json_pack("{s:s}", "name", name);
	if (j && generated)
		json_object_set_new(j, "password", json_string(generated));
	return j;
}

static void accounts_post(ui_ctx *c, json_t *b)
{
	static const char *const keys[] = {"name", "partner", "role", "password", NULL};
	const char *name, *partner, *role_s, *password;
	sk_role role = SK_ROLE_PARTNER;
	char *gen = NULL;
	sk_error e;
	sk_err rc;

	if (!only(c, b, keys) || !get_str(c, b, "name", SK_ACCOUNT_NAME_MAX, true, &name) ||
	    !get_str(c, b, "partner", SK_ACCOUNT_NAME_MAX, false, &partner) ||
	    !get_str(c, b, "role", 16, false, &role_s) ||
	    !get_str(c, b, "password", MAX_PASSWORD, false, &password))
		return;
	if (role_s && strcmp(role_s, "partner") && !sk_role_parse(role_s, &role)) {
		ui_error(c, 400, "'role': admin, analyst, viewer, metrics or partner");
		return;
	}
	if (!partner == (role == SK_ROLE_PARTNER)) {
		ui_error(c, 400,
		         "give 'partner' (a partner's account) or 'role' (one of this "
		         "node's own people), not both");
		return;
	}
	rc = partner ? sk_account_add(c->st, partner, name, password, &gen, &e)
	             : sk_account_add_own(c->st, name, role, password, &gen, &e);
	if (rc) {
		fail(c, rc, &e);
		return;
	}
	ui_send_json(c, 201, named(name, gen));
	wipe_free(gen);
}

static void account_change(ui_ctx *c, const char *name, json_t *b)
{
	static const char *const keys[] = {"disabled", "password", NULL};
	json_t *pw = json_object_get(b, "password");
	const char *password = NULL;
	char *gen = NULL;
	bool disabled;
	sk_error e;
	sk_err rc = SK_OK;

	if (!only(c, b, keys) || !get_bool(c, b, "disabled", false, false, &disabled))
		return;
	if (pw && !json_is_null(pw) && !get_str(c, b, "password", MAX_PASSWORD, true, &password))
		return;
	if (!json_object_get(b, "disabled") && !pw) {
		ui_error(c, 400, "nothing to change: give 'disabled' and/or 'password'");
		return;
	}
	if (json_object_get(b, "disabled"))
		rc = sk_account_set_disabled(c->st, name, disabled, &e);
	if (!rc && pw)
		rc = sk_account_passwd(c->st, name, password, &gen, &e);
	if (rc) {
		fail(c, rc, &e);
		return;
	}
	ui_send_json(c, 200, named(name, gen));
	wipe_free(gen);
}

/* --- tokens ------------------------------------------------------------------------------- */

static int token_row(void *ud, const sk_token_row *r)
{
	rows *x = ud;
	json_array_append_new(x->a, json_pack("{s:s, s:s, s:s?, s:o, s:b}", "id", r->id, "account",
	                                      r->account, "label", r->label, "created",
	                                      time_json(r->created_us), "revoked", r->revoked));
	return 0;
}

/*
 * A change to the caller's own tokens bumps its account's generation; the
 * session that made it carries on (another session of the account ends).
 */
static void keep_own_session(ui_ctx *c, const char *account)
{
	char id[UI_TOKEN_LEN + 1];
	int64_t gen;
	sk_error e;

	if (c->session && !strcmp(account, c->who.account) && ui_cookie_value(c->req->cookie, id) &&
	    sk_account_gen_get(c->st, c->who.aid, &gen, &e) == SK_OK)
		ui_session_set_gen(c->ui->sessions, id, gen);
}

static void tokens_post(ui_ctx *c, json_t *b)
{
	static const char *const keys[] = {"account", "label", NULL};
	const char *account, *label;
	char *tok = NULL, id[16];
	sk_error e;
	sk_err rc;

	if (!only(c, b, keys) || !get_str(c, b, "account", SK_ACCOUNT_NAME_MAX, true, &account) ||
	    !get_str(c, b, "label", MAX_LABEL, false, &label))
		return;
	if ((rc = sk_token_create(c->st, account, label, &tok, id, &e))) {
		fail(c, rc, &e);
		return;
	}
	keep_own_session(c, account);
	ui_send_json(c, 201, json_pack("{s:s, s:s}", "id", id, "token", tok));
	wipe_free(tok);
}

typedef struct owner {
	const char *id;
	char account[SK_ACCOUNT_NAME_MAX + 1];
} owner;

static int token_owner(void *ud, const sk_token_row *r)
{
	owner *o = ud;
	if (strcmp(r->id, o->id))
		return 0;
	snprintf(o->account, sizeof(o->account), "%s", r->account);
	return 1;
}

static void token_delete(ui_ctx *c, const char *id)
{
	owner o = {.id = id, .account = ""};
	sk_error e;
	sk_err rc;

	/* by its public id only: a token itself never goes into a URL */
	if (strncmp(id, "tk", 2) || strlen(id) != 14 || strspn(id + 2, "0123456789abcdef") != 12) {
		ui_error(c, 404, "no such token id (tk followed by 12 hex digits)");
		return;
	}
	sk_token_list(c->st, token_owner, &o, &e);
	if ((rc = sk_token_revoke(c->st, id, &e))) {
		fail(c, rc, &e);
		return;
	}
	keep_own_session(c, o.account);
	c->resp->status = 204;
	sk_buf_reset(&c->resp->body);
}

/* --- grants and RED recipients ------------------------------------------------------------ */

static const char *tlp_level(sk_tlp t)
{
	static const char *const l[] = {"none", "clear", "green", "amber", "amber+strict", "red"};
	return (unsigned)t <= SK_TLP_RED ? l[t] : "none";
}

static int collection_row(void *ud, const sk_collection *col)
{
	rows *x = ud;
	json_array_append_new(
	    x->a, json_pack("{s:s, s:s?, s:s, s:b}", "name", col->name, "title", col->title,
	                    "default_tlp", tlp_level(col->default_tlp), "public", col->is_public));
	return 0;
}

static int partner_name(void *ud, const sk_partner_row *r)
{
	json_array_append_new(((rows *)ud)->a, json_string(r->name));
	return 0;
}

static int grant_row(void *ud, const sk_grant_row *r)
{
	rows *x = ud;
	json_array_append_new(x->a, json_pack("{s:s, s:s, s:b, s:b, s:b, s:b}", "collection",
	                                      r->collection, "partner", r->partner, "read",
	                                      (r->flags & SK_GRANT_READ) != 0, "write",
	                                      (r->flags & SK_GRANT_WRITE) != 0, "amber",
	                                      (r->flags & SK_GRANT_AMBER) != 0, "amber_strict",
	                                      (r->flags & SK_GRANT_AMBER_STRICT) != 0));
	return 0;
}

static int red_row(void *ud, const sk_red_row *r)
{
	rows *x = ud;
	json_array_append_new(
	    x->a, json_pack("{s:s, s:s}", "collection", r->collection, "account", r->account));
	return 0;
}

static void grants_get(ui_ctx *c)
{
	rows cols = {c, json_array()}, parts = {c, json_array()}, gr = {c, json_array()},
	     red = {c, json_array()};
	sk_error e;
	sk_err rc;

	if ((rc = sk_store_collections(c->st, collection_row, &cols, &e)) ||
	    (rc = sk_partner_list(c->st, partner_name, &parts, &e)) ||
	    (rc = sk_grant_list(c->st, grant_row, &gr, &e)) ||
	    (rc = sk_red_list(c->st, red_row, &red, &e))) {
		json_decref(cols.a);
		json_decref(parts.a);
		json_decref(gr.a);
		json_decref(red.a);
		fail(c, rc, &e);
		return;
	}
	ui_send_json(c, 200,
	             json_pack("{s:o, s:o, s:o, s:o}", "collections", cols.a, "partners", parts.a,
	                       "grants", gr.a, "red", red.a));
}

static void grants_post(ui_ctx *c, json_t *b)
{
	static const char *const keys[] = {"collection", "partner",      "read", "write",
	                                   "amber",      "amber_strict", NULL};
	const char *coll, *partner;
	bool rd, wr, amber, strict;
	sk_error e;
	sk_err rc;

	if (!only(c, b, keys) || !get_str(c, b, "collection", 256, true, &coll) ||
	    !get_str(c, b, "partner", SK_ACCOUNT_NAME_MAX, true, &partner) ||
	    !get_bool(c, b, "read", true, false, &rd) ||
	    !get_bool(c, b, "write", true, false, &wr) ||
	    !get_bool(c, b, "amber", false, false, &amber) ||
	    !get_bool(c, b, "amber_strict", false, false, &strict))
		return;
	rc = sk_grant_set(c->st, partner, coll,
	                  (rd ? SK_GRANT_READ : 0) | (wr ? SK_GRANT_WRITE : 0) |
	                      (amber ? SK_GRANT_AMBER : 0) | (strict ? SK_GRANT_AMBER_STRICT : 0),
	                  &e);
	if (rc) {
		fail(c, rc, &e);
		return;
	}
	ui_send_json(c, 200,
	             json_pack("{s:s, s:s, s:b, s:b, s:b, s:b}", "collection", coll, "partner",
	                       partner, "read", rd, "write", wr, "amber", amber, "amber_strict",
	                       strict));
}

static void red_post(ui_ctx *c, json_t *b)
{
	static const char *const keys[] = {"collection", "account", "red", NULL};
	const char *coll, *account;
	bool red;
	sk_error e;
	sk_err rc;

	if (!only(c, b, keys) || !get_str(c, b, "collection", 256, true, &coll) ||
	    !get_str(c, b, "account", SK_ACCOUNT_NAME_MAX, true, &account) ||
	    !get_bool(c, b, "red", true, false, &red))
		return;
	if ((rc = sk_red_recipient_set(c->st, account, coll, red, &e))) {
		fail(c, rc, &e);
		return;
	}
	ui_send_json(
	    c, 200,
	    json_pack("{s:s, s:s, s:b}", "collection", coll, "account", account, "red", red));
}

/* --- peers -------------------------------------------------------------------------------- */

static int peer_row(void *ud, const sk_peer_state *r)
{
	rows *x = ud;
	int64_t now = sk_ts_now_us();
	json_t *lag = r->last_ok_us ? json_integer((now - r->last_ok_us) / 1000000) : json_null();

	json_array_append_new(x->a, json_pack("{s:s, s:s, s:s, s:b, s:b, s:o, s:o, s:I, s:s?, s:I}",
	                                      "name", r->name, "url", r->url, "collection",
	                                      r->collection, "pull", r->pull, "push", r->push,
	                                      "last_success", time_json(r->last_ok_us), "lag_s",
	                                      lag, "errors", (json_int_t)r->failures, "last_error",
	                                      r->last_error, "outbox", (json_int_t)r->outbox));
	return 0;
}

/* --- the routes --------------------------------------------------------------------------- */

void ui_h_admin_get(ui_ctx *c, char **seg, size_t nseg)
{
	rows x = {c, json_array()};
	const char *key = seg[1];
	sk_error e;
	sk_err rc;
	(void)nseg;

	if (!strcmp(seg[1], "grants")) {
		json_decref(x.a);
		grants_get(c);
		return;
	}
	if (!strcmp(seg[1], "partners"))
		rc = sk_partner_list(c->st, partner_row, &x, &e);
	else if (!strcmp(seg[1], "accounts"))
		rc = sk_account_list(c->st, account_row, &x, &e);
	else if (!strcmp(seg[1], "tokens"))
		rc = sk_token_list(c->st, token_row, &x, &e);
	else if (!strcmp(seg[1], "peers"))
		rc = sk_peer_states(c->st, peer_row, &x, &e);
	else {
		json_decref(x.a);
		ui_error(c, 404,
		         "no such API route: /ui/api/admin/%.64s (partners, accounts, tokens, "
		         "grants, peers)",
		         seg[1]);
		return;
	}
	if (rc) {
		json_decref(x.a);
		fail(c, rc, &e);
		return;
	}
	ui_send_json(c, 200, json_pack("{s:o}", key, x.a));
}

void ui_h_admin_post(ui_ctx *c, char **seg, size_t nseg)
{
	const char *what = seg[1];
	json_t *b;

	if (nseg == 3 && strcmp(what, "accounts")) {
		ui_error(c, 404, "no such API route: /ui/api/admin/%.64s/...", what);
		return;
	}
	if (strcmp(what, "partners") && strcmp(what, "accounts") && strcmp(what, "tokens") &&
	    strcmp(what, "grants") && strcmp(what, "red")) {
		ui_error(c, 404,
		         "no such API route: POST /ui/api/admin/%.64s (partners, accounts, tokens, "
		         "grants, red)",
		         what);
		return;
	}
	if (!(b = ui_body_object(c)))
		return;
	if (nseg == 3)
		account_change(c, seg[2], b);
	else if (!strcmp(what, "partners"))
		partners_post(c, b);
	else if (!strcmp(what, "accounts"))
		accounts_post(c, b);
	else if (!strcmp(what, "tokens"))
		tokens_post(c, b);
	else if (!strcmp(what, "grants"))
		grants_post(c, b);
	else
		red_post(c, b);
	json_decref(b);
}

void ui_h_admin_delete(ui_ctx *c, char **seg, size_t nseg)
{
	sk_error e;
	sk_err rc;
	(void)nseg;

	if (!strcmp(seg[1], "tokens")) {
		token_delete(c, seg[2]);
	} else if (!strcmp(seg[1], "accounts")) {
		if ((rc = sk_account_delete(c->st, seg[2], &e))) {
			fail(c, rc, &e);
			return;
		}
		c->resp->status = 204;
		sk_buf_reset(&c->resp->body);
	} else {
		ui_error(c, 404,
		         "no such API route: DELETE /ui/api/admin/%.64s/... (accounts, tokens)",
		         seg[1]);
	}
}
