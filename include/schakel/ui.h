/*
 * ui.h - the analyst console inside `schakel serve` (docs/console.md).
 *
 * The console is a hook of the HTTP server (httpd.h: sk_http_hook): the
 * transport hands it every request for `/`, `/ui` and `/ui/...`.  It serves
 * the embedded front end and the JSON API under /ui/api/, with its own
 * sessions (in memory) beside the TAXII credentials.
 */
#ifndef SCHAKEL_UI_H
#define SCHAKEL_UI_H

#include <stdbool.h>
#include <stddef.h>

#include "schakel/error.h"
#include "schakel/httpd.h"
#include "schakel/store.h"

typedef struct sk_ui_config {
	unsigned idle_s;     /* a session ends after this long unused (0 = 1800) */
	unsigned max_age_s;  /* ... and this long after login in any case (0 = 43200) */
	size_t max_sessions; /* sessions kept; past it the oldest goes (0 = 4096) */
	/* the hub's NATS URL (serve --fleet), for its sensors' consumer lag; NULL = none.
	 * The string must outlive the console. */
	const char *fleet_url;
} sk_ui_config;

typedef struct sk_ui sk_ui;

/*
 * The console's server-wide state: sessions, and the embedded assets
 * (compressed once here).  Free with sk_ui_free() after the server stopped.
 */
sk_err sk_ui_new(const sk_ui_config *cfg, sk_ui **out, sk_error *err);
void sk_ui_free(sk_ui *ui);

/* The hook to put into sk_httpd_config.ui (ui must outlive the server). */
sk_http_hook sk_ui_hook(sk_ui *ui);

/* The hook's two calls (sk_http_hook): before a request's body, and the answer. */
bool sk_ui_preauth(void *ui, sk_store *st, const sk_http_req *req, sk_http_resp *resp);
void sk_ui_handle(void *ui, sk_store *st, const sk_http_req *req, sk_http_resp *resp);

/* True if the binary has the front end built in (SK_UI=ON). */
bool sk_ui_has_assets(void);

#endif
