/*
 * ui_core_int.h - what the console's own files share beyond ui_int.h: the
 * server-wide state (struct sk_ui), the session table (ui_session.c) and
 * the asset server (ui_assets.c).
 */
#ifndef SCHAKEL_UI_CORE_INT_H
#define SCHAKEL_UI_CORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "schakel/ui.h"
#include "ui/ui_int.h"

#define UI_COOKIE    "sk_session"
#define UI_TOKEN_LEN 43 /* 32 random bytes, base64url without padding */

typedef struct ui_sessions ui_sessions;
typedef struct ui_assets ui_assets;

struct sk_ui {
	sk_ui_config cfg;
	ui_sessions *sessions;
	ui_assets *assets;
};

/* --- sessions (ui_session.c) ------------------------------------------------------- */

/* A table of at most max sessions, idle and absolute lifetimes in seconds; NULL if no memory. */
ui_sessions *ui_sessions_new(unsigned idle_s, unsigned max_age_s, size_t max);
void ui_sessions_free(ui_sessions *t);

/*
 * A new session for p (at account generation gen): id and csrf receive the
 * cookie value and the CSRF token (UI_TOKEN_LEN + 1 bytes each).  Only a
 * keyed hash of id is kept.  The oldest session goes when the table is full.
 */
bool ui_session_create(ui_sessions *t, const sk_principal *p, int64_t gen,
                       char id[UI_TOKEN_LEN + 1], char csrf[UI_TOKEN_LEN + 1]);

/*
 * The session with cookie value id, if alive: its principal, generation and
 * CSRF token (csrf may be NULL); its idle clock starts again.  False if
 * unknown or expired (an expired one is removed).
 */
bool ui_session_get(ui_sessions *t, const char *id, sk_principal *p, int64_t *gen,
                    char csrf[UI_TOKEN_LEN + 1]);

/* Give session id a new generation (after a change the session itself made). */
void ui_session_set_gen(ui_sessions *t, const char *id, int64_t gen);

/* End session id (logout; unknown ids are ignored). */
void ui_session_drop(ui_sessions *t, const char *id);

/* End every session of account aid. */
void ui_session_drop_account(ui_sessions *t, int64_t aid);

/* The cookie's value in a Cookie header into id; false if absent or malformed. */
bool ui_cookie_value(const char *cookie_header, char id[UI_TOKEN_LEN + 1]);

/* Constant-time comparison of a presented CSRF token with the session's. */
bool ui_csrf_ok(const char *presented, const char *expected);

/* The session's lifetimes, for Max-Age. */
unsigned ui_sessions_max_age(const ui_sessions *t);

/* --- the second factor at login (ui_auth.c) ------------------------------------------ */

/* Does account aid have a second factor in force? */
bool ui_totp_enabled(ui_ctx *c, int64_t aid);
/*
 * For an account with a second factor, check code (NULL if none given):
 * false with 401 {error, totp_required: true} sent if missing or wrong (a
 * wrong one counts as a wrong password).  True for an account without.
 */
bool ui_totp_login_ok(ui_ctx *c, const sk_principal *who, const char *code);

/* --- assets (ui_assets.c) ------------------------------------------------------------ */

/* Index sk_ui_assets: compress the text ones once, compute their ETags.  NULL if no memory. */
ui_assets *ui_assets_new(void);
void ui_assets_free(ui_assets *a);

/* Answer a GET or HEAD of a console page or asset (path starts with "/ui/"). */
void ui_assets_serve(const ui_assets *a, const ui_req *req, ui_resp *resp);

/* --- the frame (ui.c) ---------------------------------------------------------------- */

/*
 * Answer a login refused by the login limits (rc SK_ELIMIT: 429, SK_EBUSY:
 * 503, with Retry-After) and return true; false for any other rc.
 */
bool ui_login_refused(ui_ctx *c, sk_err rc, unsigned retry);

/* The security headers every console answer carries. */
void ui_security_headers(ui_resp *r);

#endif
