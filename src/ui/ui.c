/*
 * ui.c - the console's front door: every request for `/`, `/ui` and
 * `/ui/...` (the transport's hook, httpd.h), routed to the front end's
 * files or to a handler of /ui/api/ (ui_routes.c).
 *
 * For the API this file decides who is asking and whether they may: the
 * session cookie, else (reads only) the TAXII credentials through the same
 * authentication, login cache and limits as TAXII (auth.c).  A state change
 * needs the session cookie with its CSRF token, or a Bearer token: never
 * Basic credentials, which a browser replays cross-site.  Its body must be
 * JSON and bounded; all of this is decided before the body is read
 * (sk_ui_preauth).  Then the request's view of the store (sk_view) is opened
 * for the principal and the handler called.
 */
#include "schakel/ui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schakel/policy.h"
#include "ui/ui_core_int.h"
#include "ui/ui_int.h"

#define MAX_SEGS 8
#define MAX_PATH 2048

sk_err sk_ui_new(const sk_ui_config *cfg, sk_ui **out, sk_error *err)
{
	sk_ui *ui = calloc(1, sizeof(*ui));

	*out = NULL;
	if (!ui)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (cfg)
		ui->cfg = *cfg;
	if (!ui->cfg.idle_s)
		ui->cfg.idle_s = 1800;
	if (!ui->cfg.max_age_s)
		ui->cfg.max_age_s = 43200;
	if (!ui->cfg.max_sessions)
		ui->cfg.max_sessions = 4096;
	ui->sessions = ui_sessions_new(ui->cfg.idle_s, ui->cfg.max_age_s, ui->cfg.max_sessions);
	ui->assets = ui_assets_new();
	if (!ui->sessions || !ui->assets) {
		sk_ui_free(ui);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	*out = ui;
	return SK_OK;
}

void sk_ui_free(sk_ui *ui)
{
	if (!ui)
		return;
	ui_sessions_free(ui->sessions);
	ui_assets_free(ui->assets);
	free(ui);
}

sk_http_hook sk_ui_hook(sk_ui *ui)
{
	sk_http_hook hk = {
	    .ctx = ui,
	    .max_body = UI_MAX_BODY,
	    .preauth = sk_ui_preauth,
	    .handle = sk_ui_handle,
	};
	return hk;
}

bool sk_ui_has_assets(void)
{
	return sk_ui_nassets > 0;
}

void ui_security_headers(ui_resp *r)
{
	ui_header_add(r, "Content-Security-Policy",
	              "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
	              "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
	ui_header_add(r, "X-Frame-Options", "DENY");
	ui_header_add(r, "Referrer-Policy", "no-referrer");
	ui_header_add(r, "X-Content-Type-Options", "nosniff");
}

static void resp_init(ui_resp *r)
{
	memset(r, 0, sizeof(*r));
	sk_buf_init(&r->body, (size_t)256 << 20);
	ui_security_headers(r);
}

static bool is_get(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "HEAD");
}

/* --- routing --------------------------------------------------------------------------- */

/*
 * Split the path after "/ui/api/" into seg (in buf); false (and a 404 sent)
 * if it is not an API path of at most MAX_SEGS segments.
 */
static bool split(ui_ctx *c, char *buf, char **seg, size_t *nseg)
{
	const char *p = c->req->path + strlen("/ui/api");
	char *q, *save = NULL;

	*nseg = 0;
	if (strlen(p) >= MAX_PATH) {
		ui_error(c, 404, "no such API route");
		return false;
	}
	snprintf(buf, MAX_PATH, "%s", p);
	for (q = strtok_r(buf, "/", &save); q; q = strtok_r(NULL, "/", &save)) {
		if (*nseg == MAX_SEGS) {
			ui_error(c, 404, "no such API route (too many path segments)");
			return false;
		}
		seg[(*nseg)++] = q;
	}
	if (!*nseg) {
		ui_error(c, 404, "no such API route: /ui/api/ needs a resource name");
		return false;
	}
	return true;
}

/* The route for the request, or NULL with a 404 or 405 (with Allow) sent. */
static const ui_route *find_route(ui_ctx *c, char **seg, size_t nseg)
{
	const char *m = !strcmp(c->req->method, "HEAD") ? "GET" : c->req->method;
	char allow[64] = "";

	for (size_t i = 0; i < ui_nroutes; i++) {
		const ui_route *r = &ui_routes[i];
		if (strcmp(r->first, seg[0]) || nseg < r->min_seg || nseg > r->max_seg)
			continue;
		if (!strcmp(r->method, m))
			return r;
		if (!strstr(allow, r->method)) {
			size_t n = strlen(allow);
			snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "", r->method);
		}
	}
	if (allow[0]) {
		ui_header_add(c->resp, "Allow", allow);
		ui_error(c, 405, "%s is not allowed on /ui/api/%s (allowed: %s)", c->req->method,
		         seg[0], allow);
	} else {
		ui_error(c, 404, "no such API route: /ui/api/%s", seg[0]);
	}
	return NULL;
}

/* --- who is asking --------------------------------------------------------------------- */

static bool is_bearer(const char *h)
{
	return h && (!strncasecmp(h, "Bearer ", 7) || !strncasecmp(h, "Token ", 6));
}

bool ui_login_refused(ui_ctx *c, sk_err rc, unsigned retry)
{
	char ra[16];

	if (rc != SK_ELIMIT && rc != SK_EBUSY)
		return false;
	snprintf(ra, sizeof(ra), "%u", retry ? retry : 1);
	ui_header_add(c->resp, "Retry-After", ra);
	ui_error(c, rc == SK_ELIMIT ? 429 : 503, "%s",
	         rc == SK_ELIMIT ? "too many wrong passwords; try again later"
	                         : "too many logins at once; try again later");
	return true;
}

/* The TAXII credentials in Authorization; false with the error sent. */
static bool auth_header(ui_ctx *c)
{
	unsigned retry = 0;
	sk_error e;
	sk_err rc = sk_auth_request(c->st, c->req->auth, c->req->authorization, c->req->remote,
	                            &c->who, &retry, &e);

	if (rc == SK_OK)
		return true;
	memset(&c->who, 0, sizeof(c->who));
	if (ui_login_refused(c, rc, retry))
		return false;
	if (rc == SK_EAUTH || rc == SK_EINVAL) {
		ui_error(c, 401, "bad credentials in the Authorization header");
	} else {
		ui_error(c, 500, "cannot check the credentials");
	}
	return false;
}

/*
 * Find the principal of c's request for route r and check it may call r:
 * the session cookie, else the Authorization header.  State changes need
 * the cookie with its CSRF token, or a Bearer token.  False with the error
 * sent.
 */
static bool authenticate(ui_ctx *c, const ui_route *r)
{
	const ui_req *req = c->req;
	bool change = !is_get(req->method);
	char sid[UI_TOKEN_LEN + 1], csrf[UI_TOKEN_LEN + 1];
	bool have_cookie = ui_cookie_value(req->cookie, sid);
	int64_t gen = 0;

	memset(&c->who, 0, sizeof(c->who));
	c->session = false;
	if (have_cookie && ui_session_get(c->ui->sessions, sid, &c->who, &gen, csrf)) {
		if (!sk_account_gen_current(c->st, c->who.aid, gen)) {
			/* disabled, deleted or re-passworded since the login */
			ui_session_drop(c->ui->sessions, sid);
			memset(&c->who, 0, sizeof(c->who));
			if (r->who != UI_ANY) {
				ui_error(c, 401, "the session ended: the account changed");
				return false;
			}
		} else {
			c->session = true;
			if (change && r->who != UI_ANY && !ui_csrf_ok(req->csrf, csrf)) {
				ui_error(c, 403, "%s",
				         req->csrf ? "wrong X-CSRF-Token for this session"
				                   : "a change needs the X-CSRF-Token header");
				return false;
			}
		}
	} else if (req->authorization && r->who != UI_ANY) {
		if (change && !is_bearer(req->authorization)) {
			ui_error(c, 403,
			         "Basic credentials cannot change anything: log in, or use "
			         "a Bearer token");
			return false;
		}
		if (!auth_header(c))
			return false;
	}
	if (c->who.aid)
		snprintf(c->resp->account, sizeof(c->resp->account), "%s", c->who.account);
	if (r->who == UI_ANY)
		return true;
	if (!c->who.aid) {
		ui_error(c, 401, "%s",
		         have_cookie ? "the session expired or is unknown: log in again"
		                     : "log in first (POST /ui/api/login), or give credentials");
		return false;
	}
	if (c->who.role == SK_ROLE_METRICS) {
		ui_error(c, 403, "this account may read /metrics only");
		return false;
	}
	bool own = c->who.role == SK_ROLE_ADMIN || c->who.role == SK_ROLE_ANALYST ||
	           c->who.role == SK_ROLE_VIEWER;
	if ((r->who == UI_OWN && !own) ||
	    (r->who == UI_WRITE && c->who.role != SK_ROLE_ADMIN &&
	     c->who.role != SK_ROLE_ANALYST) ||
	    (r->who == UI_ADMIN && c->who.role != SK_ROLE_ADMIN)) {
		ui_error(c, 403, "not allowed for this account (role %s)",
		         c->who.role == SK_ROLE_PARTNER ? "partner" : sk_role_name(c->who.role));
		return false;
	}
	return true;
}

/* Is the Content-Type application/json (parameters such as charset allowed)? */
static bool json_ctype(const char *ct)
{
	size_t n = strlen("application/json");
	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	return !strncasecmp(ct, "application/json", n) &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/*
 * Everything decided before the body: the route, its size and type, who
 * asks and whether they may.  *r receives the route.  False with the
 * answer sent.
 */
static bool gate(ui_ctx *c, char *buf, char **seg, size_t *nseg, const ui_route **r, bool has_body)
{
	if (!split(c, buf, seg, nseg) || !(*r = find_route(c, seg, *nseg)))
		return false;
	if (has_body && c->req->body_too_large) {
		ui_error(c, 413, "the request body is over %zu bytes", (size_t)UI_MAX_BODY);
		return false;
	}
	if (has_body && !json_ctype(c->req->content_type)) {
		ui_error(c, 415, "the request body must be JSON (Content-Type: application/json)");
		return false;
	}
	return authenticate(c, *r);
}

static bool api_path(const char *p)
{
	return !strcmp(p, "/ui/api") || !strncmp(p, "/ui/api/", 8);
}

bool sk_ui_preauth(void *ctx, sk_store *st, const sk_http_req *req, sk_http_resp *resp)
{
	ui_ctx c = {.ui = ctx, .st = st, .req = req, .resp = resp};
	char buf[MAX_PATH], *seg[MAX_SEGS];
	const ui_route *r;
	size_t nseg;

	resp_init(resp);
	if (!req->path || !api_path(req->path)) {
		if (req->method && is_get(req->method)) {
			sk_ui_handle(ctx, st, req, resp); /* a page: its body is never read */
			return false;
		}
		ui_header_add(resp, "Allow", "GET, HEAD");
		ui_error(&c, 405, "only GET reads the console's pages; the API is under /ui/api/");
		return false;
	}
	if (!gate(&c, buf, seg, &nseg, &r, true))
		return false;
	return true; /* resp (no answer yet) is the transport's to free */
}

/* Run route r's handler with the principal's view of the store. */
static void call(ui_ctx *c, const ui_route *r, char **seg, size_t nseg)
{
	const char *own = sk_store_own_id(c->st);
	sk_error e;

	snprintf(c->own_identity, sizeof(c->own_identity), "%s", own ? own : "");
	if (c->who.aid) {
		if (sk_view_open(c->st, &c->who, &c->view, &e) || sk_view_bind(c->view, &e)) {
			fprintf(stderr, "schakel: serve: console: %s\n", e.msg);
			ui_error(c, 500, "cannot open the account's view of the store");
			goto out;
		}
	}
	r->fn(c, seg, nseg);
	if (!c->resp->status)
		ui_error(c, 500, "the handler gave no answer");
out:
	sk_view_free(c->view);
	c->view = NULL;
}

static void api(ui_ctx *c)
{
	char buf[MAX_PATH], *seg[MAX_SEGS];
	const ui_route *r;
	size_t nseg;

	if (!gate(c, buf, seg, &nseg, &r, c->req->body_len > 0))
		return;
	if (!is_get(c->req->method) && c->req->body_len == 0 && c->req->content_type &&
	    !json_ctype(c->req->content_type)) {
		ui_error(c, 415, "the request body must be JSON (Content-Type: application/json)");
		return;
	}
	call(c, r, seg, nseg);
}

void sk_ui_handle(void *ctx, sk_store *st, const sk_http_req *req, sk_http_resp *resp)
{
	ui_ctx c = {.ui = ctx, .st = st, .req = req, .resp = resp};
	const char *p = req->path ? req->path : "";
	const char *m = req->method ? req->method : "";

	resp_init(resp);
	if (!strcmp(p, "/") || !strcmp(p, "/ui")) {
		resp->status = 302;
		resp->content_type = "text/plain; charset=utf-8";
		ui_header_add(resp, "Location", "/ui/");
		sk_buf_puts(&resp->body, "/ui/\n");
		return;
	}
	if (api_path(p)) {
		api(&c);
		return;
	}
	if (!is_get(m)) {
		ui_header_add(resp, "Allow", "GET, HEAD");
		ui_error(&c, 405, "only GET reads the console's pages; the API is under /ui/api/");
		return;
	}
	ui_assets_serve(c.ui->assets, req, resp);
}
