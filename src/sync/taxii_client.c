/*
 * taxii_client.c - TAXII 2.1 client transfers (libcurl) and the parsing of
 * what servers send back: headers, envelopes, status resources, URLs.
 */
#include "schakel/taxii_client.h"

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schakel/taxii.h"
#include "schakel/timestamp.h"

struct sk_tc {
	CURL *h;
	struct curl_slist *hdr_get, *hdr_post;
	sk_tc_config cfg;
	char *userpwd;
	char *bearer;
	char *ca;
	char *pin;
	uint64_t requests;
	atomic_int cancel; /* set by sk_tc_get_cancel: abort the transfer in progress */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct xfer {
	sk_tc_resp *r;
	size_t max;
	bool too_large;
} xfer;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	xfer *x = ud;
	size_t len = sz * n;
	if (x->r->body.len + len > x->max || sk_buf_append(&x->r->body, p, len)) {
		x->too_large = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	return len;
}

static void copy_value(char *out, size_t n, const char *v, size_t len)
{
	while (len && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r' ||
		       v[len - 1] == '\n'))
		len--;
	if (len >= n) { /* too long to be meaningful: treat as absent */
		out[0] = '\0';
		return;
	}
	memcpy(out, v, len);
	out[len] = '\0';
}

void sk_tc_header_line(sk_tc_resp *r, const char *line, size_t len)
{
	static const struct {
		const char *name;
		size_t off, size;
	} known[] = {
	    {"x-taxii-date-added-first", offsetof(sk_tc_resp, date_first), 64},
	    {"x-taxii-date-added-last", offsetof(sk_tc_resp, date_last), 64},
	    {"content-type", offsetof(sk_tc_resp, content_type), 128},
	};
	const char *colon = memchr(line, ':', len);
	size_t nl;

	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		/* a new response (e.g. after 100 Continue): forget earlier headers */
		r->date_first[0] = r->date_last[0] = r->content_type[0] = '\0';
		return;
	}
	if (!colon)
		return;
	nl = (size_t)(colon - line);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (nl == strlen(known[i].name) && !strncasecmp(line, known[i].name, nl))
			copy_value((char *)r + known[i].off, known[i].size, colon + 1,
				   len - nl - 1);
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	xfer *x = ud;
	sk_tc_header_line(x->r, p, sz * n);
	return sz * n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const sk_tc *c = ud;
	(void)ut;
	(void)un;
	if ((c->cfg.stop && *c->cfg.stop) || atomic_load(&c->cancel))
		return 1;
	if (c->cfg.deadline_us && sk_ts_now_us() >= c->cfg.deadline_us)
		return 1;
	/* a declared Content-Length above the bound: stop before reading it */
	return dt > 0 && (size_t)dt > c->cfg.max_body && dn == 0 ? 1 : 0;
}

static char *dupstr(const char *s)
{
	return s ? strdup(s) : NULL;
}

sk_err sk_tc_new(const sk_tc_config *cfg, sk_tc **out, sk_error *err)
{
	sk_tc *c = calloc(1, sizeof(*c));
	*out = NULL;
	pthread_once(&curl_once, curl_init_once);
	if (!c)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	c->cfg = *cfg;
	if (!c->cfg.connect_timeout_s)
		c->cfg.connect_timeout_s = 10;
	if (!c->cfg.timeout_s)
		c->cfg.timeout_s = 300;
	if (!c->cfg.low_speed_s)
		c->cfg.low_speed_s = 30;
	if (!c->cfg.max_body)
		c->cfg.max_body = SK_TC_DEFAULT_MAX_BODY;
	c->ca = dupstr(cfg->ca_file);
	c->cfg.ca_file = c->ca;
	c->pin = dupstr(cfg->tls_pin);
	c->cfg.tls_pin = c->pin;
	c->cfg.secret = NULL; /* kept only inside the header strings below */
	c->cfg.username = NULL;
	c->h = curl_easy_init();
	if (!c->h)
		goto oom;
	c->hdr_get = curl_slist_append(NULL, "Accept: " SK_TAXII_MEDIA_TYPE);
	c->hdr_post = curl_slist_append(NULL, "Accept: " SK_TAXII_MEDIA_TYPE);
	if (c->hdr_post)
		c->hdr_post = curl_slist_append(c->hdr_post, "Content-Type: " SK_TAXII_MEDIA_TYPE);
	if (!c->hdr_get || !c->hdr_post)
		goto oom;
	if (cfg->auth && !strcmp(cfg->auth, "basic")) {
		size_t n = strlen(cfg->username ? cfg->username : "") +
			   strlen(cfg->secret ? cfg->secret : "") + 2;
		if (!(c->userpwd = malloc(n)))
			goto oom;
		snprintf(c->userpwd, n, "%s:%s", cfg->username ? cfg->username : "",
			 cfg->secret ? cfg->secret : "");
	} else if (cfg->auth && (!strcmp(cfg->auth, "token") || !strcmp(cfg->auth, "invite"))) {
		/* an invitation's one-time secret (`enrol`) goes the way a token does */
		size_t n = strlen(cfg->secret ? cfg->secret : "") + 32;
		if (!(c->bearer = malloc(n)))
			goto oom;
		snprintf(c->bearer, n, "Authorization: %s %s",
			 strcmp(cfg->auth, "token") ? "Invite" : "Bearer",
			 cfg->secret ? cfg->secret : "");
		struct curl_slist *a = curl_slist_append(c->hdr_get, c->bearer);
		struct curl_slist *b = a ? curl_slist_append(c->hdr_post, c->bearer) : NULL;
		if (!a || !b)
			goto oom;
	} else if (cfg->auth && strcmp(cfg->auth, "none")) {
		sk_tc_free(c);
		return sk_error_set(err, SK_EINVAL, "unknown auth '%s' (basic, token, invite, none)",
				    cfg->auth);
	}
	*out = c;
	return SK_OK;
oom:
	sk_tc_free(c);
	return sk_error_set(err, SK_ENOMEM, "out of memory");
}

static void wipe_free(char *s)
{
	if (s) {
		volatile char *v = s;
		while (*v)
			*v++ = 0;
		free(s);
	}
}

void sk_tc_free(sk_tc *c)
{
	if (!c)
		return;
	if (c->h)
		curl_easy_cleanup(c->h);
	curl_slist_free_all(c->hdr_get);
	curl_slist_free_all(c->hdr_post);
	wipe_free(c->userpwd);
	wipe_free(c->bearer);
	free(c->ca);
	free(c->pin);
	free(c);
}

uint64_t sk_tc_requests(const sk_tc *c)
{
	return c->requests;
}

void sk_tc_resp_free(sk_tc_resp *r)
{
	if (r)
		sk_buf_free(&r->body);
}

static sk_err transfer(sk_tc *c, const char *url, const char *body, size_t len, sk_tc_resp *r,
		       sk_error *err)
{
	xfer x = {.r = r, .max = c->cfg.max_body};
	CURL *h = c->h;
	CURLcode cc;
	char detail[CURL_ERROR_SIZE] = "";

	memset(r, 0, sizeof(*r));
	sk_buf_init(&r->body, c->cfg.max_body + 1);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->cfg.connect_timeout_s);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, c->cfg.timeout_s);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->cfg.low_speed_s);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->cfg.max_body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "schakel/0.1");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
	/*
	 * A peer's own CA replaces the system store rather than adding to it:
	 * `peer add --ca` pins the peer to that CA, as curl's --cacert does where
	 * no CA directory is compiled in (Debian's libcurl also has one).
	 */
	if (c->ca) {
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	/*
	 * A pinned public key is checked before any byte is sent; without a
	 * CA of the peer's own it is the whole check (the hub's certificate is
	 * typically self-signed), as in ssh's known hosts.
	 */
	if (c->pin) {
		curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, c->pin);
		if (!c->ca) {
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}
	if (c->userpwd) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERPWD, c->userpwd);
	}
	if (body) {
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->hdr_post);
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->hdr_get);
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	c->requests++;
	cc = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL); /* detail is about to go out of scope */
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	if (cc == CURLE_OK)
		return SK_OK;
	if (cc == CURLE_ABORTED_BY_CALLBACK && atomic_load(&c->cancel))
		return sk_error_set(err, SK_EINTERRUPTED, "%s: cancelled", url);
	if (cc == CURLE_ABORTED_BY_CALLBACK && !(c->cfg.stop && *c->cfg.stop) &&
	    c->cfg.deadline_us && sk_ts_now_us() >= c->cfg.deadline_us)
		return sk_error_set(err, SK_ELIMIT, "%s: the sync run's time limit was reached",
		                    url);
	if (x.too_large || cc == CURLE_FILESIZE_EXCEEDED ||
	    (cc == CURLE_ABORTED_BY_CALLBACK && !(c->cfg.stop && *c->cfg.stop)))
		return sk_error_set(err, SK_ELIMIT, "%s: response larger than %zu bytes", url,
				    c->cfg.max_body);
	if (cc == CURLE_ABORTED_BY_CALLBACK)
		return sk_error_set(err, SK_EINTERRUPTED, "%s: stopped", url);
	/* the detail says why (untrusted issuer, name mismatch, unreadable CA file) */
	if (detail[0] && strcmp(detail, curl_easy_strerror(cc)))
		return sk_error_set(err, SK_EIO, "%s: %s (%s)", url, curl_easy_strerror(cc),
				    detail);
	return sk_error_set(err, SK_EIO, "%s: %s", url, curl_easy_strerror(cc));
}

sk_err sk_tc_get(sk_tc *c, const char *url, sk_tc_resp *r, sk_error *err)
{
	return transfer(c, url, NULL, 0, r, err);
}

struct sk_tc_async {
	sk_tc *c;
	pthread_t th;
	char *url;
	sk_tc_then_fn then;
	void *ud;
	sk_tc_resp r;
	sk_error err;
	sk_err rc;
};

static void *async_get(void *ud)
{
	sk_tc_async *a = ud;
	a->rc = transfer(a->c, a->url, NULL, 0, &a->r, &a->err);
	if (!a->rc && a->then)
		a->rc = a->then(a->ud, &a->r, &a->err);
	return NULL;
}

sk_err sk_tc_get_start(sk_tc *c, const char *url, sk_tc_then_fn then, void *ud,
		       sk_tc_async **out, sk_error *err)
{
	sk_tc_async *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a || !(a->url = strdup(url))) {
		free(a);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	a->c = c;
	a->then = then;
	a->ud = ud;
	atomic_store(&c->cancel, 0);
	if (pthread_create(&a->th, NULL, async_get, a)) {
		free(a->url);
		free(a);
		return sk_error_set(err, SK_ENOMEM, "cannot start a transfer thread");
	}
	*out = a;
	return SK_OK;
}

sk_err sk_tc_get_finish(sk_tc_async *a, sk_tc_resp *r, sk_error *err)
{
	sk_err rc;

	pthread_join(a->th, NULL);
	*r = a->r;
	rc = a->rc;
	if (rc && err)
		*err = a->err;
	free(a->url);
	free(a);
	return rc;
}

void sk_tc_get_cancel(sk_tc_async *a)
{
	sk_tc_resp r;
	sk_tc *c;

	if (!a)
		return;
	c = a->c;
	atomic_store(&c->cancel, 1);
	sk_tc_get_finish(a, &r, NULL);
	sk_tc_resp_free(&r);
	atomic_store(&c->cancel, 0);
}

sk_err sk_tc_post(sk_tc *c, const char *url, const char *body, size_t len, sk_tc_resp *r,
		  sk_error *err)
{
	return transfer(c, url, body ? body : "", len, r, err);
}

/* --- URLs ------------------------------------------------------------------ */

static bool is_http(const char *s, size_t *scheme_len)
{
	if (!strncasecmp(s, "http://", 7)) {
		*scheme_len = 4;
		return true;
	}
	if (!strncasecmp(s, "https://", 8)) {
		*scheme_len = 5;
		return true;
	}
	return false;
}

static bool has_scheme(const char *s)
{
	const char *p = s;
	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	return *p == ':';
}

sk_err sk_tc_url_join(const char *base, const char *ref, char **out, sk_error *err)
{
	size_t sl, blen, auth_end, path_end;
	sk_buf b;
	sk_err rc;

	*out = NULL;
	if (!base || !is_http(base, &sl))
		return sk_error_set(err, SK_EINVAL, "not an http(s) URL: %s", base ? base : "");
	if (!ref)
		ref = "";
	blen = strcspn(base, "?#");
	auth_end = sl + 3 + strcspn(base + sl + 3, "/?#");
	if (auth_end > blen)
		auth_end = blen;
	path_end = blen;
	sk_buf_init(&b, 1 << 16);
	if (has_scheme(ref)) {
		if (!is_http(ref, &sl)) {
			sk_buf_free(&b);
			return sk_error_set(err, SK_EINVAL, "not an http(s) URL: %s", ref);
		}
		rc = sk_buf_puts(&b, ref);
	} else if (ref[0] == '/' && ref[1] == '/') {
		rc = sk_buf_append(&b, base, sl + 1); /* "http:" */
		if (!rc)
			rc = sk_buf_puts(&b, ref);
	} else if (ref[0] == '/') {
		rc = sk_buf_append(&b, base, auth_end);
		if (!rc)
			rc = sk_buf_puts(&b, ref);
	} else {
		/* relative: replace the last segment of base's path */
		size_t cut = path_end;
		while (cut > auth_end && base[cut - 1] != '/')
			cut--;
		if (cut == auth_end) {
			rc = sk_buf_append(&b, base, auth_end);
			if (!rc)
				rc = sk_buf_putc(&b, '/');
		} else {
			rc = sk_buf_append(&b, base, cut);
		}
		if (!rc)
			rc = sk_buf_puts(&b, ref);
	}
	if (rc) {
		sk_buf_free(&b);
		return sk_error_set(err, rc, "URL too long");
	}
	*out = b.data;
	return SK_OK;
}

sk_err sk_tc_url_escape(sk_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	sk_err rc = SK_OK;
	for (; *s && !rc; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			rc = sk_buf_putc(b, (char)ch);
		} else {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			rc = sk_buf_append(b, e, 3);
		}
	}
	return rc;
}

/* --- envelopes ------------------------------------------------------------- */

typedef struct scan {
	const char *p, *end;
} scan;

static void ws(scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* Skip a string (s->p at its opening quote); false if unterminated. */
static bool skip_string(scan *s)
{
	s->p++;
	while (s->p < s->end) {
		char ch = *s->p++;
		if (ch == '"')
			return true;
		if (ch == '\\') {
			if (s->p >= s->end)
				return false;
			s->p++;
		} else if ((unsigned char)ch < 0x20) {
			return false;
		}
	}
	return false;
}

/* Skip one value of any kind, bounded depth; false if malformed. */
static bool skip_value(scan *s, int depth)
{
	ws(s);
	if (s->p >= s->end || depth > 64)
		return false;
	if (*s->p == '"')
		return skip_string(s);
	if (*s->p == '{' || *s->p == '[') {
		char close = *s->p == '{' ? '}' : ']';
		bool obj = close == '}';
		s->p++;
		ws(s);
		if (s->p < s->end && *s->p == close) {
			s->p++;
			return true;
		}
		for (;;) {
			if (obj) {
				ws(s);
				if (s->p >= s->end || *s->p != '"' || !skip_string(s))
					return false;
				ws(s);
				if (s->p >= s->end || *s->p != ':')
					return false;
				s->p++;
			}
			if (!skip_value(s, depth + 1))
				return false;
			ws(s);
			if (s->p >= s->end)
				return false;
			if (*s->p == ',') {
				s->p++;
				continue;
			}
			if (*s->p == close) {
				s->p++;
				return true;
			}
			return false;
		}
	}
	/* literal or number: a run of the characters they are made of */
	const char *start = s->p;
	while (s->p < s->end && (isalnum((unsigned char)*s->p) || *s->p == '-' || *s->p == '+' ||
				 *s->p == '.'))
		s->p++;
	return s->p > start;
}

/* Count the elements of the array at s->p (advancing past it). */
static bool count_array(scan *s, size_t *n)
{
	*n = 0;
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return true;
	}
	for (;;) {
		if (!skip_value(s, 1))
			return false;
		(*n)++;
		ws(s);
		if (s->p >= s->end)
			return false;
		if (*s->p == ',') {
			s->p++;
			continue;
		}
		if (*s->p == ']') {
			s->p++;
			return true;
		}
		return false;
	}
}

/* Decode the string at s->p (simple escapes; \u kept only for ASCII). */
static sk_err take_string(scan *s, char **out, sk_error *err)
{
	const char *start = s->p;
	sk_buf b;
	if (!skip_string(s))
		return sk_error_set(err, SK_EJSON, "unterminated string");
	if ((size_t)(s->p - start) > SK_TC_NEXT_MAX + 2)
		return sk_error_set(err, SK_ELIMIT, "next token longer than %d bytes",
				    SK_TC_NEXT_MAX);
	sk_buf_init(&b, SK_TC_NEXT_MAX + 1);
	for (const char *q = start + 1; q < s->p - 1; q++) {
		char ch = *q;
		if (ch == '\\') {
			q++;
			switch (*q) {
			case 'n': ch = '\n'; break;
			case 't': ch = '\t'; break;
			case 'r': ch = '\r'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'u': {
				unsigned v = 0;
				if (s->p - 1 - q < 5) {
					sk_buf_free(&b);
					return sk_error_set(err, SK_EJSON, "bad \\u escape");
				}
				for (int i = 1; i <= 4; i++) {
					char h = q[i];
					v = v * 16 + (unsigned)(isdigit((unsigned char)h)
								    ? h - '0'
								    : (tolower((unsigned char)h) - 'a' + 10));
				}
				q += 4;
				ch = v < 0x80 && v > 0 ? (char)v : '?';
				break;
			}
			default: ch = *q; break;
			}
		}
		if (sk_buf_putc(&b, ch)) {
			sk_buf_free(&b);
			return sk_error_set(err, SK_ELIMIT, "next token too long");
		}
	}
	*out = b.data ? b.data : strdup("");
	return *out ? SK_OK : sk_error_set(err, SK_ENOMEM, "out of memory");
}

void sk_tc_envelope_clear(sk_tc_envelope *e)
{
	if (e) {
		free(e->next);
		memset(e, 0, sizeof(*e));
	}
}

sk_err sk_tc_envelope_scan(const char *body, size_t len, sk_tc_envelope *out, sk_error *err)
{
	scan s = {body, body + len};
	sk_err rc;

	memset(out, 0, sizeof(*out));
	ws(&s);
	if (s.p == s.end)
		return SK_OK; /* an empty body: nothing */
	if (*s.p != '{')
		return sk_error_set(err, SK_EJSON, "envelope is not a JSON object");
	s.p++;
	ws(&s);
	if (s.p < s.end && *s.p == '}') {
		s.p++;
		goto tail;
	}
	for (;;) {
		const char *k;
		size_t kl;
		ws(&s);
		if (s.p >= s.end || *s.p != '"')
			goto bad;
		k = s.p + 1;
		if (!skip_string(&s))
			goto bad;
		kl = (size_t)(s.p - 1 - k);
		ws(&s);
		if (s.p >= s.end || *s.p != ':')
			goto bad;
		s.p++;
		ws(&s);
		if (s.p >= s.end)
			goto bad;
		if (kl == 4 && !memcmp(k, "more", 4) && (size_t)(s.end - s.p) >= 4 &&
		    !memcmp(s.p, "true", 4)) {
			out->more = true;
			s.p += 4;
		} else if (kl == 4 && !memcmp(k, "next", 4) && *s.p == '"') {
			free(out->next);
			out->next = NULL;
			if ((rc = take_string(&s, &out->next, err))) {
				sk_tc_envelope_clear(out);
				return rc;
			}
		} else if (kl == 7 && !memcmp(k, "objects", 7) && *s.p == '[') {
			if (!count_array(&s, &out->nobjects))
				goto bad;
		} else if (!skip_value(&s, 1)) {
			goto bad;
		}
		ws(&s);
		if (s.p < s.end && *s.p == ',') {
			s.p++;
			continue;
		}
		if (s.p < s.end && *s.p == '}') {
			s.p++;
			break;
		}
		goto bad;
	}
tail:
	ws(&s);
	if (s.p != s.end)
		goto bad;
	return SK_OK;
bad:
	sk_tc_envelope_clear(out);
	return sk_error_set(err, SK_EJSON, "malformed envelope near byte %zu",
			    (size_t)(s.p - body));
}

/* --- status ---------------------------------------------------------------- */

static int64_t jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

sk_err sk_tc_status_parse(const char *body, size_t len, sk_tc_status *out, sk_error *err)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	const char *id, *status;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(j)) {
		json_decref(j);
		return sk_error_set(err, SK_EJSON, "status is not a JSON object");
	}
	id = json_string_value(json_object_get(j, "id"));
	status = json_string_value(json_object_get(j, "status"));
	if (!id || !status || strlen(id) >= sizeof(out->id)) {
		json_decref(j);
		return sk_error_set(err, SK_EJSON, "status without id or status");
	}
	snprintf(out->id, sizeof(out->id), "%s", id);
	out->complete = !strcmp(status, "complete");
	out->total = jint(j, "total_count");
	out->success = jint(j, "success_count");
	out->failure = jint(j, "failure_count");
	out->pending = jint(j, "pending_count");
	json_decref(j);
	return SK_OK;
}
