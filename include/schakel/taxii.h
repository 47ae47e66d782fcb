/*
 * taxii.h - the TAXII 2.1 API, independent of the HTTP transport.
 *
 * The transport (httpd.c) turns an HTTP request into an sk_taxii_req and
 * sends back the sk_taxii_resp; everything TAXII means lives here: routing,
 * content negotiation, authentication, filters (match[...], added_after,
 * limit, next), the signed pagination token, envelopes, manifests, versions,
 * POST with status resources, and error resources.  Every object that leaves
 * goes through the sharing policy (policy.h).
 */
#ifndef SCHAKEL_TAXII_H
#define SCHAKEL_TAXII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/account.h"
#include "schakel/buf.h"
#include "schakel/error.h"
#include "schakel/store.h"

#define SK_TAXII_MEDIA_TYPE "application/taxii+json;version=2.1"
#define SK_TAXII_MAX_PARAMS 32      /* query parameters per request */
#define SK_TAXII_MAX_VALUES 100     /* comma-separated values per filter */
#define SK_TAXII_MAX_QUERY 16384    /* bytes of decoded keys and values */
#define SK_TAXII_KEY_BYTES 32

typedef struct sk_taxii_param {
	const char *key;
	const char *value; /* may be NULL ("?flag") */
} sk_taxii_param;

/* Which filters an endpoint accepts. */
enum {
	SK_TF_ADDED_AFTER = 1 << 0,
	SK_TF_LIMIT = 1 << 1,
	SK_TF_NEXT = 1 << 2,
	SK_TF_ID = 1 << 3,
	SK_TF_TYPE = 1 << 4,
	SK_TF_VERSION = 1 << 5,
	SK_TF_SPEC = 1 << 6,
	SK_TF_ALL = 0x7f,
};

typedef struct sk_taxii_filters {
	int64_t added_after; /* < 0: none */
	size_t limit;        /* 0: not given */
	const char *next;    /* raw token, or NULL */
	const char *types[SK_TAXII_MAX_VALUES];
	size_t ntypes;
	const char *ids[SK_TAXII_MAX_VALUES];
	size_t nids;
	char (*versions)[32]; /* version keys (SK_TS_KEY_LEN + 1), malloc'd */
	size_t nversions;
	unsigned vermode;     /* SK_VER_* */
	const char *specs[4];
	size_t nspecs;
	unsigned char hash[8]; /* of the filters a next token is bound to */
	char *storage;         /* owns the split value strings */
} sk_taxii_filters;

/*
 * Parse query parameters into filters.  Only the filters in allowed are
 * accepted; a known filter that is not allowed here, values that are not
 * UTF-8, repeated parameters, bad values and too many values are SK_EINVAL
 * with the reason in err.  Unknown parameters, unknown match[...] fields
 * included, are ignored (TAXII 2.1 section 3.4 lets a server ignore them, and
 * clients send some, e.g. match[relationship_type]).  Free with
 * sk_taxii_filters_free().
 */
sk_err sk_taxii_filters_parse(const sk_taxii_param *p, size_t n, unsigned allowed,
			      sk_taxii_filters *f, sk_error *err);
void sk_taxii_filters_free(sk_taxii_filters *f);

/*
 * Split and percent-decode a raw query string ("a=1&b=%2C") into params (for
 * tests and the fuzzer; the HTTP server gets them from libmicrohttpd).
 * *params and *storage are malloc'd (caller frees both).
 */
sk_err sk_taxii_query_split(const char *qs, size_t len, sk_taxii_param **params, size_t *n,
			    char **storage, sk_error *err);

/*
 * The pagination token: base64url of (format, collection, filters hash,
 * date_added) with a keyed BLAKE2b MAC, so a forged or altered token, or one
 * used with other filters or another collection, is rejected.
 */
#define SK_TAXII_TOKEN_MAX 80
void sk_taxii_token_encode(const unsigned char key[SK_TAXII_KEY_BYTES], int64_t cid,
			   const unsigned char fhash[8], int64_t date_added,
			   char out[SK_TAXII_TOKEN_MAX]);
sk_err sk_taxii_token_decode(const unsigned char key[SK_TAXII_KEY_BYTES], const char *token,
			     int64_t cid, const unsigned char fhash[8], int64_t *date_added,
			     sk_error *err);

/*
 * Check a POST body is one TAXII envelope ({"objects": [...]}) that is
 * well-formed JSON throughout; *nobjects receives its element count.
 * SK_EINVAL for a body that is well-formed JSON but no envelope (an array, a
 * scalar, an object without an "objects" array: 422 in TAXII 2.1 5.5);
 * SK_EJSON or SK_ELIMIT for one that is not JSON or exceeds a limit (400).
 */
sk_err sk_taxii_envelope_check(const char *body, size_t len, size_t *nobjects, sk_error *err);

/* "2016-05-12T08:17:27.000Z" from a version key; unversioned -> date_added. */
void sk_taxii_version_str(const char *key, int64_t date_added, char out[40]);

/* --- the API ------------------------------------------------------------- */

typedef struct sk_taxii_config {
	size_t page_size;          /* most objects per response (0 = 1000) */
	size_t max_content_length; /* largest POST body (0 = 100 MiB) */
	const char *title;         /* discovery title (NULL = "schakel") */
	/*
	 * Database for the background writer (copied).  Large POSTs are answered
	 * at once with a "pending" status and imported on one writer thread with
	 * its own connection, so they never hold up the thread that serves other
	 * requests.  NULL: every POST is imported synchronously.
	 */
	const char *db_path;
	sk_auth_limits auth; /* password-guessing limits (zeros: the defaults) */
} sk_taxii_config;

typedef struct sk_taxii sk_taxii;

/*
 * Server-wide state: configuration, the node's token key (created in the
 * store's meta table on first use, so st must be writable then) and the
 * authentication cache.  Free with sk_taxii_free().
 */
sk_err sk_taxii_new(sk_store *st, const sk_taxii_config *cfg, sk_taxii **out, sk_error *err);
void sk_taxii_free(sk_taxii *t);
size_t sk_taxii_max_content_length(const sk_taxii *t);
/* The login cache and limits of t (borrowed), shared with the console's logins. */
sk_auth_cache *sk_taxii_auth_cache(const sk_taxii *t);

typedef struct sk_taxii_req {
	const char *method;
	const char *path; /* decoded path, without the query */
	const sk_taxii_param *params;
	size_t nparams;
	const char *host;          /* Host header, for absolute URLs (may be NULL) */
	bool tls;                  /* for the URL scheme */
	const char *accept;        /* headers, NULL if absent */
	const char *content_type;
	const char *authorization;
	const char *body;
	size_t body_len;
	bool body_too_large; /* the transport stopped reading past the limit */
	const char *remote;  /* the client's address (text), for the login limits; may be NULL */
	/*
	 * The account sk_taxii_preauth() already authenticated from this
	 * request's Authorization header, or NULL: the header is then verified
	 * here.  Borrowed.
	 */
	const sk_principal *who;
} sk_taxii_req;

typedef struct sk_taxii_resp {
	int status;
	sk_buf body;               /* JSON, owned */
	char date_first[40];       /* X-TAXII-Date-Added-First, "" = none */
	char date_last[40];
	bool www_authenticate;     /* send a WWW-Authenticate challenge */
	const char *allow;         /* Allow header for 405, or NULL */
	unsigned retry_after;      /* Retry-After seconds for 429 and 503, 0 = none */
	char account[SK_ACCOUNT_NAME_MAX + 1]; /* who asked, for the access log */
} sk_taxii_resp;

/* Serve one request with store st (one per thread).  resp is initialised here. */
void sk_taxii_handle(sk_taxii *t, sk_store *st, const sk_taxii_req *req, sk_taxii_resp *resp);

/*
 * GET /metrics: authenticate req->authorization and req->remote as for any
 * TAXII request, and decide.  True if an account with role metrics or admin
 * asks; else false with resp an error: 401 (with a challenge) without valid
 * credentials, 403 for any other account, 429/503 from the login limits.
 * resp is initialised here either way (free it with sk_taxii_resp_free).
 */
bool sk_taxii_metrics_allowed(sk_taxii *t, sk_store *st, const sk_taxii_req *req,
			      sk_taxii_resp *resp);

/*
 * Decide what can be decided about a request before its body is read, so
 * that nobody can make the server buffer a body it will refuse.  req is the
 * request without its body (body_len 0; body_too_large when a declared
 * Content-Length exceeds the limit).  For a POST of objects: authenticate,
 * check size and media type, and that the account may add to the
 * collection.  Returns true when the body should be read; then *who holds
 * the principal (anonymous: aid 0) to pass back in req->who to
 * sk_taxii_handle(), so that the credentials are verified once, and resp is
 * untouched.  Returns false with resp initialised to the answer (401, 403,
 * 404, 405, 413, 415, ... the same sk_taxii_handle() would give): send it
 * without reading the body.  Any other method is answered in full here,
 * as if its body were empty (no resource here reads one).
 */
bool sk_taxii_preauth(sk_taxii *t, sk_store *st, const sk_taxii_req *req, sk_principal *who,
                      sk_taxii_resp *resp);

/* Free the body of resp (resp itself is the caller's). */
void sk_taxii_resp_free(sk_taxii_resp *resp);

#endif
