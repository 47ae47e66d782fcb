/*
 * httpd.c - libmicrohttpd glue for the TAXII API: listening socket, worker
 * threads and their store connections, connection limits and deadlines,
 * body limits, TLS, access log.  `/`, `/ui` and `/ui/...` go to the hook in
 * cfg.ui (the console) instead, under the same rules: a request with a body
 * is decided by the hook's preauth before any byte of the body is read.
 *
 * libmicrohttpd's own timeout is an idle timeout: a client that sends a
 * byte every few seconds keeps its connection forever.  So every connection
 * is also tracked here (MHD_OPTION_NOTIFY_CONNECTION) with a deadline for
 * the phase it is in (its request head, then its body), and a reaper thread
 * shuts down the socket of a connection past its deadline; libmicrohttpd
 * then sees the connection end and closes it in its own thread.
 */
#include "schakel/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "schakel/buf.h"
#include "schakel/timestamp.h"
#include "store/store_priv.h"

#define MAX_STORES 256

#define DEFAULT_MAX_CONNECTIONS 1000
#define DEFAULT_MAX_PER_ADDRESS 64
#define DEFAULT_HEADER_TIMEOUT  10
#define DEFAULT_BODY_TIMEOUT    120
#define DEFAULT_MAX_URI         16384
/*
 * Per connection.  libmicrohttpd parses the query string into records in
 * this pool before the application sees the request, and a pool too small
 * for them stalls the connection; this size holds well over a thousand
 * parameters, so that too many of them get an answer (400) from here.
 */
#define CONNECTION_POOL  ((size_t)256 << 10)
#define REAP_INTERVAL_MS 250

/* A connection and the deadline of the phase it is in (0: none). */
typedef struct conn {
	struct conn *prev, *next;
	int fd;
	int64_t deadline_us;
	int64_t head_us; /* when its current request head began (access log) */
	size_t uri_len;  /* of the current request target, raw */
	bool reaped;
} conn;

struct sk_httpd {
	struct MHD_Daemon *d;
	sk_taxii *taxii;
	sk_httpd_config cfg;
	bool tls;
	int fd;
	char *cert, *key;
	pthread_mutex_t mu;
	sk_store *stores[MAX_STORES]; /* one per worker thread, closed at stop */
	size_t nstores;
	/* the connections and their reaper */
	pthread_mutex_t cmu;
	pthread_cond_t ccv;
	conn *conns;
	bool reaper_running, stopping;
	pthread_t reaper;
};

/* Each worker thread's connection (MHD runs a request wholly in one thread). */
static _Thread_local sk_store *tls_store;
static _Thread_local const sk_httpd *tls_owner;

typedef struct request {
	int64_t start_us;
	sk_buf body;
	bool too_large;
	bool started, first_done;
	bool answered;    /* answered before the body was read */
	bool authed;      /* who was authenticated by sk_taxii_preauth */
	bool hook;        /* for cfg.ui (the console), not TAXII */
	size_t discarded; /* body bytes of an answered request */
	sk_principal who;
	char path[512];
	char method[12];
	int status;
	size_t bytes;
	char account[SK_ACCOUNT_NAME_MAX + 1];
} request;

/* --- connections and their deadlines -------------------------------------------------- */

static conn *conn_of(struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* Give con's current phase seconds from now (0: no deadline). */
static void conn_deadline(sk_httpd *h, struct MHD_Connection *con, unsigned seconds)
{
	conn *c = conn_of(con);
	if (!c)
		return;
	pthread_mutex_lock(&h->cmu);
	c->deadline_us = seconds ? sk_ts_now_us() + (int64_t)seconds * 1000000 : 0;
	pthread_mutex_unlock(&h->cmu);
}

static void on_connection(void *cls, struct MHD_Connection *con, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	sk_httpd *h = cls;
	conn *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci || !(c = calloc(1, sizeof(*c))))
			return; /* untracked: only the idle timeout applies */
		c->fd = ci->connect_fd;
		c->head_us = sk_ts_now_us();
		c->deadline_us = c->head_us + (int64_t)h->cfg.header_timeout * 1000000;
		pthread_mutex_lock(&h->cmu);
		c->next = h->conns;
		if (h->conns)
			h->conns->prev = c;
		h->conns = c;
		pthread_mutex_unlock(&h->cmu);
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	/* libmicrohttpd closes the socket after this: the reaper never sees a reused fd */
	pthread_mutex_lock(&h->cmu);
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&h->cmu);
	free(c);
	*socket_context = NULL;
}

/* Shut down the sockets of connections past their deadline, every REAP_INTERVAL_MS. */
static void *reaper_main(void *arg)
{
	sk_httpd *h = arg;
	pthread_mutex_lock(&h->cmu);
	while (!h->stopping) {
		struct timespec ts;
		int64_t now = sk_ts_now_us();
		for (conn *c = h->conns; c; c = c->next) {
			if (c->deadline_us && now >= c->deadline_us && !c->reaped) {
				shutdown(c->fd, SHUT_RDWR);
				c->reaped = true;
			}
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += REAP_INTERVAL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&h->ccv, &h->cmu, &ts);
	}
	pthread_mutex_unlock(&h->cmu);
	return NULL;
}

static sk_store *thread_store(sk_httpd *h)
{
	sk_error err;
	if (tls_store && tls_owner == h)
		return tls_store;
	tls_store = NULL;
	if (sk_store_open(h->cfg.db_path, 0, &tls_store, &err)) {
		fprintf(stderr, "schakel: serve: %s\n", err.msg);
		return NULL;
	}
	pthread_mutex_lock(&h->mu);
	if (h->nstores < MAX_STORES) {
		h->stores[h->nstores++] = tls_store;
		tls_owner = h;
	}
	pthread_mutex_unlock(&h->mu);
	if (tls_owner != h) { /* more threads than slots: do not leak */
		sk_store_close(tls_store);
		tls_store = NULL;
	}
	return tls_store;
}

typedef struct params {
	sk_taxii_param p[SK_TAXII_MAX_PARAMS + 1];
	size_t n;
} params;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	params *ps = cls;
	(void)kind;
	if (ps->n < SK_TAXII_MAX_PARAMS + 1) { /* one more than allowed: "too many" */
		ps->p[ps->n].key = key;
		ps->p[ps->n].value = value;
		ps->n++;
	}
	return MHD_YES;
}

static enum MHD_Result send_resp(struct MHD_Connection *con, request *rq, sk_taxii_resp *tr)
{
	struct MHD_Response *r;
	enum MHD_Result ok;
	size_t len = tr->body.len;
	char *data = tr->body.data;

	tr->body.data = NULL; /* MHD frees it */
	tr->body.len = tr->body.size = 0;
	r = MHD_create_response_from_buffer(len, data ? data : (char *)"",
					    data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, SK_TAXII_MEDIA_TYPE);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (tr->date_first[0]) {
		MHD_add_response_header(r, "X-TAXII-Date-Added-First", tr->date_first);
		MHD_add_response_header(r, "X-TAXII-Date-Added-Last", tr->date_last);
	}
	if (tr->www_authenticate)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Basic realm=\"schakel\", Bearer realm=\"schakel\"");
	if (tr->allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, tr->allow);
	if (tr->retry_after) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%u", tr->retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	rq->status = tr->status;
	rq->bytes = len;
	snprintf(rq->account, sizeof(rq->account), "%s", tr->account);
	ok = MHD_queue_response(con, (unsigned)tr->status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result send_error(struct MHD_Connection *con, request *rq, int status,
				  const char *title);

/* The client's address as text into a (INET6_ADDRSTRLEN bytes), "" if unknown. */
static const char *client_addr(struct MHD_Connection *con, char *a)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	a[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, a,
			  INET6_ADDRSTRLEN);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, a,
			  INET6_ADDRSTRLEN);
	return a;
}

/*
 * GET /metrics: the caller's renderer (the node's metrics, Prometheus text),
 * for an account with role metrics or admin (authenticated as TAXII
 * requests are), unless metrics are public (cfg.metrics_public, resolved at
 * start: AUTO means public only on a loopback-only listener).
 */
static enum MHD_Result send_metrics(const sk_httpd *h, struct MHD_Connection *con, request *rq,
				    sk_store *st)
{
	struct MHD_Response *r;
	enum MHD_Result ok;
	sk_buf b;
	sk_error e;

	if (h->cfg.metrics_public != SK_METRICS_PUBLIC_YES) {
		char addr[INET6_ADDRSTRLEN];
		sk_taxii_req req = {
		    .method = "GET",
		    .path = "/metrics",
		    .authorization = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
								 MHD_HTTP_HEADER_AUTHORIZATION),
		    .remote = client_addr(con, addr),
		};
		sk_taxii_resp tr;
		if (!sk_taxii_metrics_allowed(h->taxii, st, &req, &tr)) {
			ok = send_resp(con, rq, &tr);
			sk_taxii_resp_free(&tr);
			return ok;
		}
		snprintf(rq->account, sizeof(rq->account), "%s", tr.account);
		sk_taxii_resp_free(&tr);
	}
	sk_buf_init(&b, (size_t)4 << 20);
	if (h->cfg.metrics(st, &b, &e) || !b.data) {
		sk_buf_free(&b);
		return send_error(con, rq, 500, "Metrics unavailable");
	}
	r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		sk_buf_free(&b);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4");
	rq->status = 200;
	rq->bytes = b.len;
	ok = MHD_queue_response(con, 200, r);
	MHD_destroy_response(r);
	return ok;
}

/* A TAXII error decided here, before the API sees the request. */
static enum MHD_Result send_error(struct MHD_Connection *con, request *rq, int status,
				  const char *title)
{
	sk_taxii_resp tr;
	memset(&tr, 0, sizeof(tr));
	sk_buf_init(&tr.body, 4096);
	tr.status = status;
	sk_buf_puts(&tr.body, "{\"title\":");
	sk_buf_put_json_string(&tr.body, title, strlen(title));
	sk_buf_printf(&tr.body, ",\"http_status\":\"%d\"}", status);
	enum MHD_Result ok = send_resp(con, rq, &tr);
	sk_buf_free(&tr.body);
	return ok;
}

/* The request's headers and query as the TAXII layer takes them (no body). */
static sk_taxii_req taxii_req(const sk_httpd *h, struct MHD_Connection *con, const char *url,
                              const char *method, params *ps, char addr[INET6_ADDRSTRLEN])
{
	ps->n = 0;
	MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, collect_arg, ps);
	sk_taxii_req req = {
	    .method = method,
	    .path = url,
	    .params = ps->p,
	    .nparams = ps->n,
	    .host = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
	    .tls = h->tls,
	    .accept = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT),
	    .content_type =
	        MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
	    .authorization =
	        MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
	    .body = "",
	    .remote = client_addr(con, addr),
	};
	return req;
}

/* Is url the console's (`/`, `/ui`, `/ui/...`), with a console configured? */
static bool hook_path(const sk_httpd *h, const char *url)
{
	return h->cfg.ui.handle &&
	       (!strcmp(url, "/") || !strcmp(url, "/ui") || !strncmp(url, "/ui/", 4));
}

static const char *header(struct MHD_Connection *con, const char *name)
{
	return MHD_lookup_connection_value(con, MHD_HEADER_KIND, name);
}

/* The request as the hook takes it (no body). */
static sk_http_req hook_req(const sk_httpd *h, struct MHD_Connection *con, const char *url,
			    const char *method, params *ps, char addr[INET6_ADDRSTRLEN])
{
	ps->n = 0;
	MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, collect_arg, ps);
	sk_http_req req = {
	    .method = method,
	    .path = url,
	    .params = ps->p,
	    .nparams = ps->n,
	    .body = "",
	    .remote = client_addr(con, addr),
	    .tls = h->tls,
	    .authorization = header(con, MHD_HTTP_HEADER_AUTHORIZATION),
	    .cookie = header(con, MHD_HTTP_HEADER_COOKIE),
	    .csrf = header(con, "X-CSRF-Token"),
	    .content_type = header(con, MHD_HTTP_HEADER_CONTENT_TYPE),
	    .accept_encoding = header(con, MHD_HTTP_HEADER_ACCEPT_ENCODING),
	    .if_none_match = header(con, MHD_HTTP_HEADER_IF_NONE_MATCH),
	    .auth = sk_taxii_auth_cache(h->taxii),
	};
	return req;
}

/* Send the hook's answer (its body is taken over or freed here). */
static enum MHD_Result send_hook_resp(struct MHD_Connection *con, request *rq, sk_http_resp *hr)
{
	struct MHD_Response *r;
	enum MHD_Result ok;
	size_t len = hr->body.len;
	char *data = hr->body.data;
	bool keep = hr->persistent && data;

	hr->body.data = NULL;
	hr->body.len = hr->body.size = 0;
	r = MHD_create_response_from_buffer(len, data ? data : (char *)"",
					    data && !keep ? MHD_RESPMEM_MUST_FREE
							  : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (!keep)
			free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				hr->content_type ? hr->content_type : "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, hr->cache ? hr->cache : "no-store");
	if (hr->gzip)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	for (size_t i = 0; i < hr->nheaders && i < SK_HTTP_MAX_HEADERS; i++)
		MHD_add_response_header(r, hr->headers[i].name, hr->headers[i].value);
	rq->status = hr->status ? hr->status : 500;
	rq->bytes = len;
	snprintf(rq->account, sizeof(rq->account), "%s", hr->account);
	ok = MHD_queue_response(con, (unsigned)rq->status, r);
	MHD_destroy_response(r);
	return ok;
}

static void hook_resp_free(sk_http_resp *hr)
{
	if (hr->persistent)
		hr->body.data = NULL;
	sk_buf_free(&hr->body);
}

/* A request must never leave its thread's connection inside a transaction. */
static void check_tx(sk_store *st, const request *rq)
{
	if (!sqlite3_get_autocommit(sk_store_sqlite(st))) {
		fprintf(stderr, "schakel: serve: %s %s left a transaction open; rolled back\n",
		        rq->method, rq->path);
		sk_store_rollback(st);
	}
}

/*
 * The first call for a request: its head is in, no body byte has been read.
 * Bound the query; for a request with a body, authenticate and authorise it
 * now (sk_taxii_preauth) and either answer at once, without reading the
 * body, or let the body come within body_timeout.
 */
static enum MHD_Result on_head(sk_httpd *h, struct MHD_Connection *con, request *rq,
                               const char *url, const char *method)
{
	size_t maxlen = sk_taxii_max_content_length(h->taxii);
	const conn *c = conn_of(con);
	const char *cl =
	    MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te =
	    MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	unsigned long long clen = cl ? strtoull(cl, NULL, 10) : 0;
	bool has_body = clen > 0 || te;
	int nargs = MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, NULL, NULL);
	enum MHD_Result ok;
	sk_taxii_resp tr;
	params ps;

	rq->started = true;
	if (clen > maxlen)
		rq->too_large = true;
	if (c && c->uri_len > h->cfg.max_uri) {
		rq->answered = true;
		conn_deadline(h, con, has_body ? h->cfg.body_timeout : 0);
		return send_error(con, rq, 414, "URI too long");
	}
	if (nargs > (int)h->cfg.max_params) {
		rq->answered = true;
		conn_deadline(h, con, has_body ? h->cfg.body_timeout : 0);
		return send_error(con, rq, 400, "Too many query parameters");
	}
	rq->hook = hook_path(h, url);
	if (!has_body)
		return MHD_YES; /* answered at the next call */
	conn_deadline(h, con, h->cfg.body_timeout);
	sk_store *st = thread_store(h);
	if (!st) {
		rq->answered = true;
		return send_error(con, rq, 503, "Service unavailable");
	}
	char addr[INET6_ADDRSTRLEN];
	if (rq->hook) {
		/* the console: the same rule, under its own body limit */
		sk_http_resp hr;
		sk_http_req hq = hook_req(h, con, url, method, &ps, addr);
		rq->too_large = clen > h->cfg.ui.max_body;
		hq.body_too_large = rq->too_large;
		if (h->cfg.ui.preauth(h->cfg.ui.ctx, st, &hq, &hr)) {
			check_tx(st, rq);
			hook_resp_free(&hr);
			sk_buf_init(&rq->body, h->cfg.ui.max_body);
			return MHD_YES;
		}
		check_tx(st, rq);
		rq->answered = true;
		ok = send_hook_resp(con, rq, &hr);
		hook_resp_free(&hr);
		return ok;
	}
	sk_taxii_req req = taxii_req(h, con, url, method, &ps, addr);
	req.body_too_large = rq->too_large;
	if (sk_taxii_preauth(h->taxii, st, &req, &rq->who, &tr)) {
		check_tx(st, rq);
		rq->authed = true;
		sk_buf_init(&rq->body, maxlen);
		return MHD_YES;
	}
	check_tx(st, rq);
	rq->answered = true;
	ok = send_resp(con, rq, &tr);
	sk_taxii_resp_free(&tr);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	sk_httpd *h = cls;
	request *rq = *con_cls;
	(void)version;

	if (!rq) {
		const conn *c = conn_of(con);
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*con_cls = rq; /* freed by on_completed */
		rq->start_us = c ? c->head_us : sk_ts_now_us();
		snprintf(rq->path, sizeof(rq->path), "%s", url);
		snprintf(rq->method, sizeof(rq->method), "%s", method);
		return on_head(h, con, rq, url, method);
	}
	if (rq->answered) {
		/* what the client still sends is dropped, up to the limit */
		rq->discarded += *upload_size;
		*upload_size = 0;
		return rq->discarded > sk_taxii_max_content_length(h->taxii) ? MHD_NO : MHD_YES;
	}
	if (*upload_size) {
		if (sk_buf_append(&rq->body, upload_data, *upload_size)) {
			/* past the limit (a chunked body; a declared length was refused before) */
			rq->status = 413;
			return MHD_NO;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->first_done)
		return MHD_YES;
	rq->first_done = true;
	conn_deadline(h, con, 0); /* the request is in; the idle timeout still applies */

	sk_store *st = thread_store(h);
	if (!st)
		return send_error(con, rq, 503, "Service unavailable");
	if (h->cfg.metrics && !strcmp(url, "/metrics") && !strcmp(method, "GET"))
		return send_metrics(h, con, rq, st);
	params ps;
	char addr[INET6_ADDRSTRLEN];
	if (rq->hook) {
		sk_http_resp hr;
		sk_http_req hq = hook_req(h, con, url, method, &ps, addr);
		hq.body = rq->body.data ? rq->body.data : "";
		hq.body_len = rq->body.len;
		hq.body_too_large = rq->too_large;
		h->cfg.ui.handle(h->cfg.ui.ctx, st, &hq, &hr);
		check_tx(st, rq);
		enum MHD_Result ok = send_hook_resp(con, rq, &hr);
		hook_resp_free(&hr);
		sk_buf_free(&rq->body);
		return ok;
	}
	sk_taxii_req req = taxii_req(h, con, url, method, &ps, addr);
	req.body = rq->body.data ? rq->body.data : "";
	req.body_len = rq->body.len;
	req.body_too_large = rq->too_large;
	req.who = rq->authed ? &rq->who : NULL;
	sk_taxii_resp tr;
	sk_taxii_handle(h->taxii, st, &req, &tr);
	check_tx(st, rq);
	enum MHD_Result ok = send_resp(con, rq, &tr);
	sk_taxii_resp_free(&tr);
	sk_buf_free(&rq->body);
	return ok;
}

static void json_log_str(sk_buf *b, const char *s)
{
	sk_buf_put_json_string(b, s ? s : "", s ? strlen(s) : 0);
}

/*
 * The path as logged: an API token pasted into a URL (sk_ and 40 or more
 * base64url characters) is cut to its prefix, so the log never holds one.
 */
static void log_path(sk_buf *b, const char *path)
{
	char out[sizeof(((request *)0)->path)];
	size_t o = 0;

	for (const char *p = path; *p && o + 1 < sizeof(out);) {
		size_t n = 0;
		if (!strncmp(p, SK_TOKEN_PREFIX, 3))
			n = strspn(p + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					  "0123456789-_");
		if (n >= 40) {
			o += (size_t)snprintf(out + o, sizeof(out) - o, "sk_[redacted]");
			p += 3 + n;
			continue;
		}
		out[o++] = *p++;
	}
	out[o < sizeof(out) ? o : sizeof(out) - 1] = '\0';
	json_log_str(b, out);
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	sk_httpd *h = cls;
	request *rq = *con_cls;
	conn *c = conn_of(con);

	if (c) { /* a kept-alive connection: the next request head has its deadline */
		pthread_mutex_lock(&h->cmu);
		c->head_us = sk_ts_now_us();
		c->deadline_us = c->head_us + (int64_t)h->cfg.header_timeout * 1000000;
		c->uri_len = 0;
		pthread_mutex_unlock(&h->cmu);
	}
	if (!rq)
		return;
	if (h->cfg.access_log) {
		char ts[SK_TS_STR_MAX], addr[INET6_ADDRSTRLEN] = "";
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		sk_buf b;
		if (ci && ci->client_addr) {
			const struct sockaddr *sa = ci->client_addr;
			if (sa->sa_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
					  addr, sizeof(addr));
			else if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
					  addr, sizeof(addr));
		}
		sk_ts_format_us(rq->start_us, ts);
		sk_buf_init(&b, 8192);
		sk_buf_printf(&b, "{\"ts\":\"%s\",\"remote\":\"%s\",\"method\":", ts, addr);
		json_log_str(&b, rq->method);
		sk_buf_puts(&b, ",\"path\":");
		log_path(&b, rq->path);
		sk_buf_printf(&b, ",\"status\":%d,\"bytes\":%zu,"
				  "\"us\":%lld,\"completed\":%s,\"account\":",
			      rq->status, rq->bytes,
			      (long long)(sk_ts_now_us() - rq->start_us),
			      toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "true" : "false");
		if (rq->account[0])
			json_log_str(&b, rq->account);
		else
			sk_buf_puts(&b, "null");
		sk_buf_puts(&b, "}\n");
		if (b.data)
			fwrite(b.data, 1, b.len, stderr);
		sk_buf_free(&b);
	}
	sk_buf_free(&rq->body);
	free(rq);
	*con_cls = NULL;
}

/*
 * Called with the raw request target as soon as the request line is in,
 * before libmicrohttpd parses the query: note its length for on_head.  A
 * target over the limits gets a short deadline: libmicrohttpd stalls a
 * connection whose query does not fit its pool, instead of answering.
 * Nothing is allocated here (a request that fails in libmicrohttpd after
 * this call never reaches on_completed).
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
	sk_httpd *h = cls;
	conn *c = conn_of(con);
	size_t n = strlen(uri), nparams = 0;
	const char *q = strchr(uri, '?');

	if (!c)
		return NULL;
	for (; q && *q; q++)
		nparams += *q == '&' || *q == '?';
	pthread_mutex_lock(&h->cmu);
	c->uri_len = n;
	if (n > h->cfg.max_uri || nparams > h->cfg.max_params) {
		int64_t soon = sk_ts_now_us() + 2000000;
		if (!c->deadline_us || c->deadline_us > soon)
			c->deadline_us = soon;
	}
	pthread_mutex_unlock(&h->cmu);
	return NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("schakel: httpd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static char *slurp(const char *path, sk_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	if (!f) {
		sk_error_set(err, SK_EIO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (1 << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n) {
		buf[n] = '\0';
	} else {
		free(buf);
		buf = NULL;
		sk_error_set(err, SK_EIO, "%s: cannot read", path);
	}
	fclose(f);
	return buf;
}

/* Parse "ADDR:PORT" / "[ADDR]:PORT" into a socket address. */
static bool parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			 bool *loopback)
{
	char host[128];
	const char *colon;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
			return false;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return false;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	port = strtoul(colon + 1, &end, 10);
	if (*end || port > 65535 || colon[1] == '\0')
		return false;
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
		*loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
		return true;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		return true;
	}
	return false;
}

sk_err sk_httpd_start(const sk_httpd_config *cfg, sk_httpd **out, char *bound, size_t n,
		      sk_error *err)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	bool loopback = false;
	sk_httpd *h;
	sk_store *st = NULL;
	sk_err rc = SK_OK;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	int one = 1;

	*out = NULL;
	if (!parse_listen(cfg->listen ? cfg->listen : "127.0.0.1:6543", &ss, &sl, &loopback))
		return sk_error_set(err, SK_EINVAL, "--listen: '%s' is not ADDR:PORT",
				    cfg->listen);
	if (!!cfg->tls_cert != !!cfg->tls_key)
		return sk_error_set(err, SK_EINVAL, "TLS needs both --tls-cert and --tls-key");
	if (!cfg->tls_cert && !loopback && !cfg->insecure)
		return sk_error_set(err, SK_EINVAL,
				    "refusing plain HTTP on a non-loopback address: give "
				    "--tls-cert/--tls-key, or --insecure");
	h = calloc(1, sizeof(*h));
	if (!h)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	h->cfg = *cfg;
	if (h->cfg.metrics_public == SK_METRICS_PUBLIC_AUTO)
		h->cfg.metrics_public = loopback ? SK_METRICS_PUBLIC_YES : SK_METRICS_PUBLIC_NO;
	h->fd = -1;
	pthread_mutex_init(&h->mu, NULL);
	pthread_mutex_init(&h->cmu, NULL);
	pthread_cond_init(&h->ccv, NULL);
	if (!h->cfg.threads)
		h->cfg.threads = 4;
	if (!h->cfg.timeout)
		h->cfg.timeout = 30;
	if (!h->cfg.max_connections)
		h->cfg.max_connections = DEFAULT_MAX_CONNECTIONS;
	if (!h->cfg.max_per_address)
		h->cfg.max_per_address = DEFAULT_MAX_PER_ADDRESS;
	if (!h->cfg.header_timeout)
		h->cfg.header_timeout = DEFAULT_HEADER_TIMEOUT;
	if (!h->cfg.body_timeout)
		h->cfg.body_timeout = DEFAULT_BODY_TIMEOUT;
	if (!h->cfg.max_params || h->cfg.max_params > SK_TAXII_MAX_PARAMS)
		h->cfg.max_params = SK_TAXII_MAX_PARAMS;
	if (!h->cfg.max_uri)
		h->cfg.max_uri = DEFAULT_MAX_URI;
	if ((rc = sk_store_open(cfg->db_path, 0, &st, err)))
		goto fail;
	{
		sk_taxii_config tc = cfg->taxii;
		tc.db_path = cfg->db_path;
		rc = sk_taxii_new(st, &tc, &h->taxii, err);
	}
	sk_store_close(st);
	if (rc)
		goto fail;
	if (cfg->tls_cert) {
		if (!(h->cert = slurp(cfg->tls_cert, err)) || !(h->key = slurp(cfg->tls_key, err))) {
			rc = SK_EIO;
			goto fail;
		}
		h->tls = true;
		flags |= MHD_USE_TLS;
	}
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(h->fd, (struct sockaddr *)&ss, sl) || listen(h->fd, 1024) ||
	    getsockname(h->fd, (struct sockaddr *)&ss, &sl)) {
		rc = sk_error_set(err, SK_EIO, "cannot listen on %s: %s", cfg->listen,
				  strerror(errno));
		goto fail;
	}
	{
		char a[INET6_ADDRSTRLEN] = "";
		unsigned port;
		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a));
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			snprintf(bound, n, "%s://%s:%u", h->tls ? "https" : "http", a, port);
		} else {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof(a));
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
			snprintf(bound, n, "%s://[%s]:%u", h->tls ? "https" : "http", a, port);
		}
	}
	h->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
	    MHD_OPTION_LISTEN_SOCKET, h->fd, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)h->cfg.threads,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h->cfg.timeout, MHD_OPTION_CONNECTION_LIMIT,
	    h->cfg.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->cfg.max_per_address,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_POOL, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
	    /* without TLS the list ends here */
	    h->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->cert, MHD_OPTION_HTTPS_MEM_KEY,
	    h->key, MHD_OPTION_END);
	if (!h->d) {
		rc = sk_error_set(err, SK_EIO, "the HTTP server did not start%s",
				  h->tls ? " (check the certificate and key)" : "");
		goto fail;
	}
	if (pthread_create(&h->reaper, NULL, reaper_main, h)) {
		rc = sk_error_set(err, SK_ENOMEM, "cannot start the connection reaper");
		goto fail;
	}
	h->reaper_running = true;
	*out = h;
	return SK_OK;
fail:
	sk_httpd_stop(h);
	return rc;
}

void sk_httpd_stop(sk_httpd *h)
{
	if (!h)
		return;
	if (h->reaper_running) {
		pthread_mutex_lock(&h->cmu);
		h->stopping = true;
		pthread_cond_signal(&h->ccv);
		pthread_mutex_unlock(&h->cmu);
		pthread_join(h->reaper, NULL);
	}
	if (h->d)
		MHD_stop_daemon(h->d); /* joins the workers */
	if (h->fd >= 0)
		close(h->fd);
	for (size_t i = 0; i < h->nstores; i++)
		sk_store_close(h->stores[i]);
	sk_taxii_free(h->taxii);
	free(h->cert);
	if (h->key) {
		memset(h->key, 0, strlen(h->key));
		free(h->key);
	}
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->ccv);
	pthread_mutex_destroy(&h->cmu);
	free(h);
}
