/*
 * httpd.c - libmicrohttpd glue for the TAXII API: listening socket, worker
 * threads and their store connections, body limits, TLS, access log.
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
#include <unistd.h>

#include "schakel/buf.h"
#include "schakel/timestamp.h"
#include "store/store_priv.h"

#define MAX_STORES 256

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
};

/* Each worker thread's connection (MHD runs a request wholly in one thread). */
static _Thread_local sk_store *tls_store;
static _Thread_local const sk_httpd *tls_owner;

typedef struct request {
	int64_t start_us;
	sk_buf body;
	bool too_large;
	bool started, first_done;
	char path[512];
	char method[12];
	int status;
	size_t bytes;
	char account[SK_ACCOUNT_NAME_MAX + 1];
} request;

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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	sk_httpd *h = cls;
	request *rq = *con_cls;
	size_t maxlen = sk_taxii_max_content_length(h->taxii);
	(void)version;

	if (!rq)
		return MHD_NO;
	if (!rq->started) {
		const char *cl;
		rq->started = true;
		snprintf(rq->method, sizeof(rq->method), "%s", method);
		sk_buf_init(&rq->body, maxlen + 1);
		cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > maxlen)
			rq->too_large = true;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!rq->too_large && sk_buf_append(&rq->body, upload_data, *upload_size)) {
			rq->too_large = true;
			sk_buf_free(&rq->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->first_done)
		return MHD_YES;
	rq->first_done = true;

	sk_store *st = thread_store(h);
	if (!st)
		return send_error(con, rq, 503, "Service unavailable");
	if (h->cfg.metrics && !strcmp(url, "/metrics") && !strcmp(method, "GET"))
		return send_metrics(h, con, rq, st);
	params ps = {.n = 0};
	char addr[INET6_ADDRSTRLEN];
	MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, collect_arg, &ps);
	sk_taxii_req req = {
	    .method = method,
	    .path = url,
	    .params = ps.p,
	    .nparams = ps.n,
	    .host = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
	    .tls = h->tls,
	    .accept = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT),
	    .content_type =
		MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
	    .authorization =
		MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
	    .body = rq->body.data ? rq->body.data : "",
	    .body_len = rq->body.len,
	    .body_too_large = rq->too_large,
	    .remote = client_addr(con, addr),
	};
	sk_taxii_resp tr;
	sk_taxii_handle(h->taxii, st, &req, &tr);
	/* defensive: a request must never leave its connection inside a transaction */
	if (!sqlite3_get_autocommit(sk_store_sqlite(st))) {
		fprintf(stderr, "schakel: serve: %s %s left a transaction open; rolled back\n",
			method, rq->path);
		sk_store_rollback(st);
	}
	enum MHD_Result ok = send_resp(con, rq, &tr);
	sk_taxii_resp_free(&tr);
	sk_buf_free(&rq->body);
	return ok;
}

static void json_log_str(sk_buf *b, const char *s)
{
	sk_buf_put_json_string(b, s ? s : "", s ? strlen(s) : 0);
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	sk_httpd *h = cls;
	request *rq = *con_cls;
	(void)toe;
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
		json_log_str(&b, rq->path);
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
 * Called first for each request: allocate its state and keep the path for the
 * access log (never the query: no secrets, no filter values).
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
	request *rq = calloc(1, sizeof(*rq));
	size_t n = strcspn(uri, "?");
	(void)cls;
	(void)con;
	if (!rq)
		return NULL;
	rq->start_us = sk_ts_now_us();
	snprintf(rq->path, sizeof(rq->path), "%.*s", (int)(n < 511 ? n : 511), uri);
	return rq;
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
	if (!h->cfg.threads)
		h->cfg.threads = 4;
	if (!h->cfg.timeout)
		h->cfg.timeout = 30;
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
	    MHD_OPTION_LISTEN_SOCKET, h->fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)h->cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)h->cfg.timeout, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 << 10), MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, h, MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
	    /* without TLS the list ends here */
	    h->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->cert, MHD_OPTION_HTTPS_MEM_KEY,
	    h->key, MHD_OPTION_END);
	if (!h->d) {
		rc = sk_error_set(err, SK_EIO, "the HTTP server did not start%s",
				  h->tls ? " (check the certificate and key)" : "");
		goto fail;
	}
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
	free(h);
}
