/*
 * ui_auth.c - logging in and out of the console, and who am I
 * (docs/console.md, "Sessions").
 *
 * The password is checked by auth.c under the same login cache counters and
 * limits as TAXII Basic (sk_auth_login): wrong passwords over the console
 * and over TAXII add up, and a refused one is 429 with Retry-After.  An
 * account with a second factor (TOTP, totp.c) also needs its current code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include "schakel/store.h"
#include "ui/ui_core_int.h"
#include "ui/ui_int.h"

#define MAX_PASSWORD 1024

static const char *role_str(const sk_principal *p)
{
	return p->role == SK_ROLE_PARTNER ? "partner" : sk_role_name(p->role);
}

/* A string member of o, or NULL with a 400 sent (absent ok when !required). */
static bool str_member(ui_ctx *c, json_t *o, const char *key, size_t max, bool required,
                       const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v && !required)
		return true;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		ui_error(c, 400, "'%s': a non-empty string of at most %zu bytes is required", key,
		         max);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

static void set_cookie(ui_ctx *c, const char *value, unsigned max_age)
{
	char h[256];
	snprintf(h, sizeof(h), "%s=%s; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=%u%s",
	         UI_COOKIE, value, max_age, c->req->tls ? "; Secure" : "");
	ui_header_add(c->resp, "Set-Cookie", h);
}

void ui_h_login(ui_ctx *c, char **seg, size_t nseg)
{
	const char *user, *password, *code;
	char id[UI_TOKEN_LEN + 1], csrf[UI_TOKEN_LEN + 1];
	unsigned retry = 0;
	sk_principal who;
	int64_t gen = 0;
	sk_error e;
	sk_err rc;
	json_t *b;
	(void)seg, (void)nseg;

	if (!(b = ui_body_object(c)))
		return;
	if (!str_member(c, b, "user", SK_ACCOUNT_NAME_MAX, true, &user) ||
	    !str_member(c, b, "password", MAX_PASSWORD, true, &password) ||
	    !str_member(c, b, "totp", 16, false, &code))
		goto out;
	rc = sk_auth_login(c->st, c->req->auth, user, password, c->req->remote, &who, &gen, &retry,
	                   &e);
	if (ui_login_refused(c, rc, retry))
		goto out;
	if (rc == SK_EAUTH) {
		ui_error(c, 401, "bad user name or password");
		goto out;
	}
	if (rc) {
		ui_error(c, 500, "cannot check the password");
		goto out;
	}
	if (who.role == SK_ROLE_METRICS) {
		ui_error(c, 403, "this account may read /metrics only: no console access");
		goto out;
	}
	if (!ui_totp_login_ok(c, &who, code))
		goto out;
	if (!ui_session_create(c->ui->sessions, &who, gen, id, csrf)) {
		ui_error(c, 503, "no room for a session");
		goto out;
	}
	set_cookie(c, id, ui_sessions_max_age(c->ui->sessions));
	snprintf(c->resp->account, sizeof(c->resp->account), "%s", who.account);
	ui_send_json(c, 200,
	             json_pack("{s:s, s:s, s:s?, s:s}", "account", who.account, "role",
	                       role_str(&who), "partner", who.partner[0] ? who.partner : NULL,
	                       "csrf", csrf));
	sodium_memzero(id, sizeof(id));
out:
	json_decref(b);
}

void ui_h_logout(ui_ctx *c, char **seg, size_t nseg)
{
	char id[UI_TOKEN_LEN + 1];
	(void)seg, (void)nseg;

	if (c->session && ui_cookie_value(c->req->cookie, id))
		ui_session_drop(c->ui->sessions, id);
	set_cookie(c, "", 0);
	c->resp->status = 204;
	sk_buf_reset(&c->resp->body);
}

void ui_h_me(ui_ctx *c, char **seg, size_t nseg)
{
	char id[UI_TOKEN_LEN + 1], csrf[UI_TOKEN_LEN + 1] = "";
	char *json = NULL, *by = NULL, *rx = NULL;
	json_t *node_obj = NULL, *j;
	const char *node_name = NULL;
	sk_principal p;
	int64_t gen;
	sk_error e;
	(void)seg, (void)nseg;

	if (c->session && ui_cookie_value(c->req->cookie, id))
		ui_session_get(c->ui->sessions, id, &p, &gen, csrf);
	if (c->own_identity[0] &&
	    sk_store_latest(c->st, c->own_identity, &json, &by, &rx, &e) == SK_OK && json) {
		node_obj = json_loads(json, 0, NULL);
		if (json_is_string(json_object_get(node_obj, "name")))
			node_name = json_string_value(json_object_get(node_obj, "name"));
	}
	j = json_pack(
	    "{s:s, s:s, s:s?, s:s?, s:b, s:{s:s?, s:s?}}", "account", c->who.account, "role",
	    role_str(&c->who), "partner", c->who.partner[0] ? c->who.partner : NULL, "identity",
	    c->who.identity[0] ? c->who.identity : NULL, "totp", ui_totp_enabled(c, c->who.aid),
	    "node", "name", node_name, "identity", c->own_identity[0] ? c->own_identity : NULL);
	if (j && csrf[0])
		json_object_set_new(j, "csrf", json_string(csrf));
	ui_send_json(c, 200, j);
	json_decref(node_obj);
	free(json);
	free(by);
	free(rx);
}

/* --- the second factor ------------------------------------------------------------------ */

bool ui_totp_enabled(ui_ctx *c, int64_t aid)
{
	return aid > 0 && sk_totp_enabled(c->st, aid);
}

static void totp_required(ui_ctx *c, const char *msg)
{
	ui_send_json(c, 401,
	             json_pack("{s:s, s:i, s:b}", "error", msg, "status", 401, "totp_required", 1));
}

bool ui_totp_login_ok(ui_ctx *c, const sk_principal *who, const char *code)
{
	sk_error e;
	sk_err rc;

	if (!ui_totp_enabled(c, who->aid))
		return true;
	if (!code) {
		totp_required(c, "this account needs its one-time code (totp)");
		return false;
	}
	rc = sk_totp_check(c->st, who->aid, code, false, &e);
	if (rc == SK_OK)
		return true;
	if (rc == SK_EAUTH) {
		sk_auth_count_failure(c->req->auth, who->account, c->req->remote);
		totp_required(c, "wrong or reused one-time code (totp)");
	} else {
		ui_error(c, 500, "cannot check the one-time code");
	}
	return false;
}

/* The code member of the request body; NULL with a 400 sent. */
static json_t *code_body(ui_ctx *c, const char **code)
{
	json_t *b = ui_body_object(c);
	if (b && !str_member(c, b, "code", 16, true, code)) {
		json_decref(b);
		return NULL;
	}
	return b;
}

static void no_content(ui_ctx *c)
{
	c->resp->status = 204;
	sk_buf_reset(&c->resp->body);
}

void ui_h_totp(ui_ctx *c, char **seg, size_t nseg)
{
	char uri[SK_TOTP_URI_MAX];
	const char *code, *sec;
	json_t *b = NULL;
	sk_error e;
	sk_err rc;
	(void)nseg;

	if (!strcmp(seg[1], "enroll")) {
		if (ui_totp_enabled(c, c->who.aid)) {
			ui_error(c, 409, "a second factor is already on: disable it first");
			return;
		}
		if (sk_totp_enroll(c->st, c->who.account, false, uri, sizeof(uri), &e)) {
			ui_error(c, 500, "cannot enrol a second factor");
			return;
		}
		sec = strstr(uri, "secret=");
		ui_send_json(c, 200,
		             json_pack("{s:s%, s:s}", "secret", sec ? sec + 7 : "",
		                       sec ? strcspn(sec + 7, "&") : 0, "uri", uri));
		sodium_memzero(uri, sizeof(uri));
	} else if (!strcmp(seg[1], "confirm")) {
		if (!(b = code_body(c, &code)))
			return;
		rc = sk_totp_confirm(c->st, &c->who, code, &e);
		if (rc == SK_ENOTFOUND)
			ui_error(c, 409,
			         "no second factor is being enrolled: POST totp/enroll first");
		else if (rc == SK_EAUTH)
			ui_error(c, 400, "'code': wrong or reused one-time code");
		else if (rc)
			ui_error(c, 500, "cannot confirm the second factor");
		else
			no_content(c);
	} else if (!strcmp(seg[1], "disable")) {
		if (!(b = code_body(c, &code)))
			return;
		rc = sk_totp_check(c->st, c->who.aid, code, false, &e);
		if (rc == SK_ENOTFOUND)
			ui_error(c, 409, "no second factor is on");
		else if (rc == SK_EAUTH)
			ui_error(c, 400, "'code': wrong or reused one-time code");
		else if (rc || sk_totp_disable(c->st, c->who.account, &e))
			ui_error(c, 500, "cannot turn the second factor off");
		else
			no_content(c);
	} else {
		ui_error(c, 404, "no such API route: /ui/api/totp/%s (enroll, confirm, disable)",
		         seg[1]);
	}
	json_decref(b);
}
