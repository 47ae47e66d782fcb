/*
 * ui_int.h - the analyst console's server side: one request, its principal,
 * its view of the store, and the handlers of /ui/api/ (docs/console.md).
 *
 * The transport (share/httpd.c) hands every request under /ui and / to
 * sk_ui_handle() (ui.h) through the hook in sk_httpd_config.  ui.c finds the
 * principal (session cookie, or the TAXII Basic/Bearer credentials for
 * reads), checks CSRF and JSON bodies on state changes, opens the request's
 * view (policy.h: sk_view, which also registers the SQL function
 * sk_visible(ver, tlp, created_by, rx) on the thread's connection) and calls
 * the route's handler.  Handlers only read the request and fill the answer.
 */
#ifndef SCHAKEL_UI_INT_H
#define SCHAKEL_UI_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "schakel/account.h"
#include "schakel/buf.h"
#include "schakel/policy.h"
#include "schakel/store.h"
#include "schakel/taxii.h"

#define UI_MAX_HEADERS 8
#define UI_MAX_BODY    ((size_t)1 << 20) /* largest /ui/api/ request body */
#define UI_MAX_DEPTH   32                /* deepest JSON nesting accepted in a body */
#define UI_MAX_LIMIT   500               /* most rows one list call returns */

typedef struct sk_ui sk_ui; /* server-wide: sessions, assets, config (ui.c) */

typedef struct ui_req {
	const char *method;
	const char *path; /* decoded, without the query */
	const sk_taxii_param *params;
	size_t nparams;
	const char *body;
	size_t body_len;
	const char *remote; /* client address, text */
	bool tls;
	/* headers, NULL when absent */
	const char *authorization, *cookie, *csrf /* X-CSRF-Token */, *content_type,
	    *accept_encoding, *if_none_match;
} ui_req;

typedef struct ui_header {
	char name[32];
	char value[256];
} ui_header;

typedef struct ui_resp {
	int status;
	sk_buf body;
	const char *content_type; /* static string; NULL = application/json */
	const char *cache;        /* Cache-Control, static; NULL = "no-store" */
	bool gzip;                /* body is gzip-compressed (Content-Encoding) */
	bool persistent;          /* body.data is static memory, not to be freed */
	ui_header headers[UI_MAX_HEADERS];
	size_t nheaders;
	char account[SK_ACCOUNT_NAME_MAX + 1]; /* who asked, for the access log */
} ui_resp;

/* One request being served. */
typedef struct ui_ctx {
	sk_ui *ui;
	sk_store *st;
	const ui_req *req;
	ui_resp *resp;
	sk_principal who;   /* aid 0 = nobody logged in */
	bool session;       /* authenticated by the session cookie */
	sk_view *view;      /* what who may see; NULL before authentication */
	char own_identity[SK_IDENTITY_ID_MAX + 1]; /* this node's identity id */
} ui_ctx;

/*
 * A handler: seg[0..nseg) are the path segments after "/ui/api/"
 * (percent-decoded; seg[0] is the route's first word).
 */
typedef void (*ui_handler)(ui_ctx *c, char **seg, size_t nseg);

/* Who may call a route. */
enum {
	UI_ANY = 0,        /* no login needed (login itself) */
	UI_READ = 1,       /* any logged-in principal: partner, admin, analyst, viewer */
	UI_OWN = 2,        /* the node's own people (admin, analyst, viewer) */
	UI_WRITE = 3,      /* admin or analyst: creates or versions objects */
	UI_ADMIN = 4,      /* admin */
};

typedef struct ui_route {
	const char *method; /* "GET", "POST", "PUT", "DELETE" */
	const char *first;  /* first segment after /ui/api/ */
	size_t min_seg, max_seg;
	int who;            /* UI_* */
	ui_handler fn;
} ui_route;

extern const ui_route ui_routes[];
extern const size_t ui_nroutes;

/* --- helpers (ui_util.c) --------------------------------------------------------- */

/* The value of query parameter name, NULL if absent (first occurrence). */
const char *ui_param(const ui_ctx *c, const char *name);
/* An integer parameter within [lo, hi]; *out = def if absent.  False (and a 400 sent) if bad. */
bool ui_param_int(ui_ctx *c, const char *name, long long lo, long long hi, long long def,
                  long long *out);
/* A timestamp parameter (RFC 3339 or YYYY-MM-DD) as unix microseconds; def if absent. False + 400 if bad. */
bool ui_param_time(ui_ctx *c, const char *name, int64_t def, int64_t *out);
/* Answer status with {"error": message, "status": status}. */
void ui_error(ui_ctx *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Answer status with j as the body (steals j; j NULL = 500). */
void ui_send_json(ui_ctx *c, int status, json_t *j);
/* The request body as a JSON object (bounded, depth-checked); NULL with a 400 sent if not. */
json_t *ui_body_object(ui_ctx *c);
/* Add a response header (copied; silently dropped past UI_MAX_HEADERS). */
void ui_header_add(ui_resp *r, const char *name, const char *value);
/* {"level": "amber", "label": "TLP:AMBER"} style value for a stored TLP level. */
json_t *ui_tlp_json(int tlp);

/* --- handlers: auth and sessions (ui_auth.c) ------------------------------------- */
void ui_h_login(ui_ctx *c, char **seg, size_t nseg);
void ui_h_logout(ui_ctx *c, char **seg, size_t nseg);
void ui_h_me(ui_ctx *c, char **seg, size_t nseg);
void ui_h_totp(ui_ctx *c, char **seg, size_t nseg);

/* --- handlers: administration (ui_admin.c) --------------------------------------- */
void ui_h_admin_get(ui_ctx *c, char **seg, size_t nseg);
void ui_h_admin_post(ui_ctx *c, char **seg, size_t nseg);
void ui_h_admin_delete(ui_ctx *c, char **seg, size_t nseg);

/* --- handlers: objects, search, graph, export, overview, writes (ui_objects.c ...) */
void ui_h_object(ui_ctx *c, char **seg, size_t nseg);
void ui_h_object_create(ui_ctx *c, char **seg, size_t nseg);
void ui_h_object_update(ui_ctx *c, char **seg, size_t nseg);
void ui_h_search(ui_ctx *c, char **seg, size_t nseg);
void ui_h_export(ui_ctx *c, char **seg, size_t nseg);
void ui_h_graph(ui_ctx *c, char **seg, size_t nseg);
void ui_h_facets(ui_ctx *c, char **seg, size_t nseg);
void ui_h_overview(ui_ctx *c, char **seg, size_t nseg);
void ui_h_alerts(ui_ctx *c, char **seg, size_t nseg);

/* --- handlers: actors, sectors, timelines (ui_intel.c) ---------------------------- */
void ui_h_actors(ui_ctx *c, char **seg, size_t nseg);
void ui_h_sectors(ui_ctx *c, char **seg, size_t nseg);
void ui_h_timeline(ui_ctx *c, char **seg, size_t nseg);

#endif
