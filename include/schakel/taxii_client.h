/*
 * taxii_client.h - a TAXII 2.1 client on libcurl, for pulling from and
 * pushing to peers (sync.c).
 *
 * Written against the specification, not against schakel: any conformant
 * server works.  Every transfer has a connect timeout, a total timeout and a
 * low-speed limit; response bodies are bounded in the write callback (a
 * server claiming or streaming a huge body is cut off at the bound, never
 * buffered); only http and https are allowed and redirects are not
 * followed.  The pieces that look at response bytes (URL joining, envelope
 * scanning, status parsing) are separate functions so the fuzzer and unit
 * tests can reach them without a network.
 */
#ifndef SCHAKEL_TAXII_CLIENT_H
#define SCHAKEL_TAXII_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/buf.h"
#include "schakel/error.h"

#define SK_TC_DEFAULT_MAX_BODY ((size_t)256 << 20)
#define SK_TC_NEXT_MAX 4096 /* longest `next` token accepted */

typedef struct sk_tc_config {
	const char *auth;       /* "basic", "token", "invite" or NULL/"none" */
	const char *username;   /* basic */
	const char *secret;     /* password or token (borrowed) */
	const char *ca_file;    /* PEM CA bundle for https, or NULL (system) */
	/*
	 * "sha256//BASE64" of the server's public key, or NULL.  Without
	 * ca_file the pin replaces the chain check (a self-signed hub).
	 */
	const char *tls_pin;
	long connect_timeout_s; /* 0 = 10 */
	long timeout_s;         /* whole transfer; 0 = 300 */
	long low_speed_s;       /* abort below 1 byte/s for this long; 0 = 30 */
	size_t max_body;        /* largest response body; 0 = SK_TC_DEFAULT_MAX_BODY */
	/* polled during transfers; a non-zero value aborts (shutdown) */
	const volatile int *stop;
	/* wall-clock time (sk_ts_now_us) at which a transfer is aborted (SK_ELIMIT); 0 = none */
	int64_t deadline_us;
} sk_tc_config;

typedef struct sk_tc sk_tc;

/* A client (one curl easy handle, reused: keep-alive).  Free with sk_tc_free(). */
sk_err sk_tc_new(const sk_tc_config *cfg, sk_tc **out, sk_error *err);
void sk_tc_free(sk_tc *c);

typedef struct sk_tc_resp {
	long status;            /* HTTP status, 0 if none */
	sk_buf body;            /* owned; free with sk_tc_resp_free */
	char date_first[64];    /* X-TAXII-Date-Added-First, "" if absent */
	char date_last[64];     /* X-TAXII-Date-Added-Last, "" if absent */
	char content_type[128]; /* "" if absent */
} sk_tc_resp;

void sk_tc_resp_free(sk_tc_resp *r);

/*
 * GET url (Accept: TAXII 2.1).  SK_OK means an HTTP response was received,
 * whatever its status; transport failures, timeouts and a body above the
 * bound (SK_ELIMIT) are errors.  r is initialised here.
 */
sk_err sk_tc_get(sk_tc *c, const char *url, sk_tc_resp *r, sk_error *err);

/*
 * The same GET on a thread of its own, so that the caller can work (import
 * the previous page) meanwhile.  c must not be used until the GET is
 * finished: sk_tc_get_finish waits for it and hands over the response (as
 * sk_tc_get would have); sk_tc_get_cancel aborts it (the transfer stops at
 * its next progress callback), waits and discards it.  Either frees *a.
 * then (may be NULL) runs on that thread after a successful transfer, with
 * ud and the response; an error from it becomes the GET's.  What it leaves
 * in ud is the caller's to free, also after a cancel.
 */
typedef struct sk_tc_async sk_tc_async;
typedef sk_err (*sk_tc_then_fn)(void *ud, const sk_tc_resp *r, sk_error *err);
sk_err sk_tc_get_start(sk_tc *c, const char *url, sk_tc_then_fn then, void *ud,
		       sk_tc_async **a, sk_error *err);
sk_err sk_tc_get_finish(sk_tc_async *a, sk_tc_resp *r, sk_error *err);
void sk_tc_get_cancel(sk_tc_async *a);

/* POST body (a TAXII envelope) to url; as sk_tc_get. */
sk_err sk_tc_post(sk_tc *c, const char *url, const char *body, size_t len, sk_tc_resp *r,
		  sk_error *err);

/* Requests made by c so far (for metrics and the "one request" check). */
uint64_t sk_tc_requests(const sk_tc *c);

/* Feed a header line to r as the header callback does (for tests and fuzzing). */
void sk_tc_header_line(sk_tc_resp *r, const char *line, size_t len);

/*
 * Resolve ref against base (RFC 3986 subset: absolute "http(s)://...",
 * network-path "//host/...", absolute path "/...", or relative path).  The
 * result (malloc'd, caller frees) has its query and fragment removed from
 * base.  SK_EINVAL if base is not an http(s) URL or ref is another scheme.
 */
sk_err sk_tc_url_join(const char *base, const char *ref, char **out, sk_error *err);

/* Append s percent-encoded (unreserved characters kept) to b. */
sk_err sk_tc_url_escape(sk_buf *b, const char *s);

/* What a TAXII envelope says, from one scan of its top level. */
typedef struct sk_tc_envelope {
	bool more;       /* "more": true */
	char *next;      /* "next" (malloc'd, or NULL) */
	size_t nobjects; /* elements of "objects" (0 if absent) */
} sk_tc_envelope;

/*
 * Scan a TAXII envelope's top-level members without building a tree (the
 * objects themselves are left to the importer).  An empty body is an empty
 * envelope.  SK_EJSON if the top level is not one well-nested JSON object,
 * SK_ELIMIT for a `next` longer than SK_TC_NEXT_MAX or nesting beyond 64.
 * Free with sk_tc_envelope_clear().
 */
sk_err sk_tc_envelope_scan(const char *body, size_t len, sk_tc_envelope *out, sk_error *err);
void sk_tc_envelope_clear(sk_tc_envelope *e);

/* A TAXII status resource. */
typedef struct sk_tc_status {
	char id[80];
	bool complete;
	int64_t total, success, failure, pending;
} sk_tc_status;

sk_err sk_tc_status_parse(const char *body, size_t len, sk_tc_status *out, sk_error *err);

#endif
