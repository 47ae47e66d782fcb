/*
 * ui_assets.c - the front end's files, embedded in the binary (sk_ui_assets,
 * generated at build time), served under /ui/.
 *
 * Text files are compressed once at start (zlib, gzip format) and served
 * compressed when the client accepts gzip.  Each representation has a strong
 * ETag (a BLAKE2b of its bytes; the gzip one differs), and If-None-Match
 * answers 304.  Bundled files under assets/ carry a content hash in their
 * name and are cached for a year (immutable); index.html is revalidated on
 * every load (no-cache).  Any /ui/ path whose last segment has no dot is a
 * page of the single-page application: index.html.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "ui/ui_core_int.h"

#define ETAG_MAX 48

typedef struct entry {
	const sk_ui_asset *a;
	unsigned char *gz; /* NULL: served as is */
	size_t gzlen;
	char etag[ETAG_MAX], etag_gz[ETAG_MAX];
} entry;

struct ui_assets {
	size_t n;
	entry *e;
	const entry *index;
};

static bool compressible(const char *type)
{
	return type && (!strncmp(type, "text/", 5) || strstr(type, "javascript") ||
	                strstr(type, "json") || strstr(type, "svg") || strstr(type, "wasm"));
}

static void make_etag(const unsigned char *p, size_t n, const char *suffix, char out[ETAG_MAX])
{
	unsigned char h[12];
	char hex[2 * sizeof(h) + 1];

	crypto_generichash(h, sizeof(h), p, n, NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, ETAG_MAX, "\"%s%s\"", hex, suffix);
}

/* gzip of p (malloc'd), or NULL if it does not pay or fails. */
static unsigned char *gzip(const unsigned char *p, size_t n, size_t *outlen)
{
	z_stream z;
	uLong bound;
	unsigned char *out;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	bound = deflateBound(&z, (uLong)n) + 32;
	if (!(out = malloc(bound))) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out >= n) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

ui_assets *ui_assets_new(void)
{
	ui_assets *a;

	if (sodium_init() < 0 || !(a = calloc(1, sizeof(*a))))
		return NULL;
	if (!sk_ui_nassets)
		return a;
	if (!(a->e = calloc(sk_ui_nassets, sizeof(*a->e)))) {
		free(a);
		return NULL;
	}
	for (size_t i = 0; i < sk_ui_nassets; i++) {
		entry *e = &a->e[a->n];
		const sk_ui_asset *s = &sk_ui_assets[i];
		if (!s->path)
			continue;
		e->a = s;
		make_etag(s->data, s->len, "", e->etag);
		if (compressible(s->type) && s->len > 256 && s->len < ((size_t)1 << 31) &&
		    (e->gz = gzip(s->data, s->len, &e->gzlen)))
			make_etag(e->gz, e->gzlen, "-gz", e->etag_gz);
		if (!strcmp(s->path, "index.html"))
			a->index = e;
		a->n++;
	}
	return a;
}

void ui_assets_free(ui_assets *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->e[i].gz);
	free(a->e);
	free(a);
}

/* Does the Accept-Encoding header accept gzip (and not with q=0)? */
static bool accepts_gzip(const char *h)
{
	while (h && *h) {
		size_t n = strcspn(h, ",");
		const char *t = h;
		while (t < h + n && *t == ' ')
			t++;
		if ((!strncasecmp(t, "gzip", 4) || !strncasecmp(t, "*", 1)) &&
		    (t + (*t == '*' ? 1 : 4) == h + n || t[*t == '*' ? 1 : 4] == ';' ||
		     t[*t == '*' ? 1 : 4] == ' ')) {
			const char *q = memchr(t, ';', (size_t)(h + n - t));
			if (!q)
				return true;
			q = strstr(q, "q=");
			if (!q || q >= h + n || strtod(q + 2, NULL) > 0)
				return true;
		}
		h += n;
		if (*h == ',')
			h++;
	}
	return false;
}

/* Does the If-None-Match header name etag (or "*")? */
static bool etag_matches(const char *h, const char *etag)
{
	size_t n = strlen(etag);

	while (h && *h) {
		while (*h == ' ' || *h == ',')
			h++;
		if (*h == '*')
			return true;
		if (!strncmp(h, "W/", 2))
			h += 2; /* a weak comparison is fine for GET (RFC 9110 13.1.2) */
		if (!strncmp(h, etag, n) && (h[n] == '\0' || h[n] == ',' || h[n] == ' '))
			return true;
		h += strcspn(h, ",");
	}
	return false;
}

static void text(ui_resp *r, int status, const char *msg)
{
	r->status = status;
	r->content_type = "text/plain; charset=utf-8";
	sk_buf_reset(&r->body);
	sk_buf_puts(&r->body, msg);
}

static const entry *find(const ui_assets *a, const char *rel)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->e[i].a->path, rel))
			return &a->e[i];
	return NULL;
}

void ui_assets_serve(const ui_assets *a, const ui_req *req, ui_resp *r)
{
	const char *rel = req->path + strlen("/ui/");
	const char *last = strrchr(req->path, '/');
	const entry *e;
	bool gz;

	if (!a->n) {
		text(r, 404,
		     "console not built into this binary (built with -DSK_UI=OFF)\n"
		     "The JSON API under /ui/api/ and TAXII under /taxii2/ still work.\n");
		return;
	}
	if (!*rel)
		e = a->index;
	else if (!(e = find(a, rel)) && !strchr(last ? last : rel, '.'))
		e = a->index; /* a page of the single-page application */
	if (!e) {
		text(r, 404, "no such file in the console\n");
		return;
	}
	gz = e->gz && accepts_gzip(req->accept_encoding);
	r->cache =
	    !strncmp(e->a->path, "assets/", 7) ? "public, max-age=31536000, immutable" : "no-cache";
	r->content_type = e->a->type ? e->a->type : "application/octet-stream";
	ui_header_add(r, "ETag", gz ? e->etag_gz : e->etag);
	if (e->gz)
		ui_header_add(r, "Vary", "Accept-Encoding");
	if (etag_matches(req->if_none_match, gz ? e->etag_gz : e->etag)) {
		r->status = 304;
		sk_buf_reset(&r->body);
		return;
	}
	sk_buf_free(&r->body);
	r->body.data = (char *)(uintptr_t)(gz ? e->gz : e->a->data);
	r->body.len = r->body.size = gz ? e->gzlen : e->a->len;
	r->persistent = true;
	r->gzip = gz;
	r->status = 200;
}
