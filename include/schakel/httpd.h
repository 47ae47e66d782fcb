/*
 * httpd.h - the HTTP(S) transport of the TAXII server (libmicrohttpd).
 *
 * epoll with a pool of worker threads, each with its own store connection
 * (SQLite WAL: readers never wait for a writer's transaction); TLS via
 * GnuTLS when a certificate and key are given.  One JSON access-log line per
 * request goes to stderr, without credentials or query values.
 *
 * Staying up under hostile clients (docs/sharing-policy.md, "Limits: the
 * server stays up"): connections are limited in total and per client
 * address; a connection must deliver its request head within
 * header_timeout and its body within body_timeout (whatever its pace: a
 * byte now and then does not keep it), and one that is silent for timeout
 * seconds is closed; query strings are bounded in length and parameter
 * count; a request with a body is authenticated and authorised, and its
 * declared length checked, before any byte of the body is read
 * (sk_taxii_preauth), and a chunked body is cut at the limit.
 */
#ifndef SCHAKEL_HTTPD_H
#define SCHAKEL_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "schakel/buf.h"
#include "schakel/error.h"
#include "schakel/store.h"
#include "schakel/taxii.h"

/*
 * A second API beside TAXII on the same server (the analyst console, ui.h):
 * the transport hands it every request for `/`, `/ui` and `/ui/...`.  The
 * request and answer are plain structs so that share/ knows nothing of
 * what is behind the hook.
 */
#define SK_HTTP_MAX_HEADERS 16

typedef struct sk_http_req {
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
	bool body_too_large;  /* a declared Content-Length over the hook's max_body */
	sk_auth_cache *auth;  /* TAXII's login cache and limits (borrowed), for Basic and logins */
} sk_http_req;

typedef struct sk_http_header {
	char name[32];
	char value[256];
} sk_http_header;

typedef struct sk_http_resp {
	int status;
	sk_buf body;
	const char *content_type; /* static string; NULL = application/json */
	const char *cache;        /* Cache-Control, static; NULL = "no-store" */
	bool gzip;                /* body is gzip-compressed (Content-Encoding) */
	bool persistent;          /* body.data is static memory, not to be freed */
	sk_http_header headers[SK_HTTP_MAX_HEADERS];
	size_t nheaders;
	char account[SK_ACCOUNT_NAME_MAX + 1]; /* who asked, for the access log */
} sk_http_resp;

typedef struct sk_http_hook {
	void *ctx;
	size_t max_body; /* largest request body the hook reads */
	/*
	 * A request with a body, before any byte of it is read (req has no
	 * body; body_too_large when its declared length is over max_body):
	 * true to read the body and then call handle; false with resp filled in
	 * (401, 403, 404, 405, 413, 415, ...), sent without reading the body.
	 */
	bool (*preauth)(void *ctx, sk_store *st, const sk_http_req *req, sk_http_resp *resp);
	/* Answer req (resp is initialised here; the transport frees its body). */
	void (*handle)(void *ctx, sk_store *st, const sk_http_req *req, sk_http_resp *resp);
} sk_http_hook;

typedef struct sk_httpd_config {
	const char *db_path;            /* the node's database */
	const char *listen;             /* "ADDR:PORT" or "[V6]:PORT"; port 0 = any */
	const char *tls_cert, *tls_key; /* PEM files; both or neither */
	bool insecure;                  /* allow plain HTTP off loopback */
	unsigned threads;               /* worker threads (0 = 4) */
	unsigned timeout;               /* idle connection timeout, seconds (0 = 30) */
	unsigned max_connections;       /* open connections in all (0 = 1000) */
	unsigned max_per_address;       /* open connections per client address (0 = 64) */
	unsigned header_timeout;        /* seconds to deliver a request head (0 = 10) */
	unsigned body_timeout;          /* seconds to deliver a request body (0 = 120) */
	unsigned max_params;            /* query parameters (0 = SK_TAXII_MAX_PARAMS, the most) */
	size_t max_uri;                 /* bytes of request target (0 = 16384) */
	bool access_log;                /* JSON lines on stderr */
	/*
	 * GET /metrics, when set: appends the Prometheus text exposition to b
	 * (the node passes sk_metrics_render; the transport knows nothing of
	 * what is measured).  Called on a worker thread with its own store.
	 */
	sk_err (*metrics)(sk_store *st, sk_buf *b, sk_error *err);
	/*
	 * Who may GET /metrics: SK_METRICS_PUBLIC_AUTO (the default) lets anyone
	 * when the listener is loopback-only (127.0.0.0/8, ::1) and otherwise
	 * needs an account with role metrics or admin (Basic or token, as for
	 * TAXII); _NO always needs one; _YES never does.
	 */
	enum { SK_METRICS_PUBLIC_AUTO, SK_METRICS_PUBLIC_NO, SK_METRICS_PUBLIC_YES } metrics_public;
	sk_taxii_config taxii;
	/* `/`, `/ui`, `/ui/...` when handle is set (the console); else TAXII's 404 */
	sk_http_hook ui;
} sk_httpd_config;

typedef struct sk_httpd sk_httpd;

/*
 * Bind, listen and start serving.  bound (n bytes) receives the URL of the
 * bound address ("http://127.0.0.1:43211").  Stop with sk_httpd_stop().
 */
sk_err sk_httpd_start(const sk_httpd_config *cfg, sk_httpd **out, char *bound, size_t n,
		      sk_error *err);

/* Stop accepting, finish or close connections, join the workers, free h (may be NULL). */
void sk_httpd_stop(sk_httpd *h);

#endif
