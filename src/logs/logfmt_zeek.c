/*
 * logfmt_zeek.c - Zeek logs: the column-name -> observation map shared by
 * the TSV and JSON writers' output, and the TSV parser.
 *
 * TSV: the header block (#separator, #set_separator, #empty_field,
 * #unset_field, #path, #fields, #types) sets up a per-column action table; a
 * file may hold several blocks (concatenated logs) and each replaces the
 * previous.  A data line is split once: the separator positions are found 64
 * bytes at a time (logsimd.c: AVX-512BW, AVX2 or SSE2, chosen at run time),
 * then only the mapped columns are looked at.  Values with a backslash are unescaped (\xNN, \\)
 * into scratch; set/vector columns (#types set[...] / vector[...]) are split on the set separator
 * and each element is classified on its own.
 */
#include "logfmt.h"
#include "logsimd.h"

#include <stdlib.h>
#include <string.h>

#include "core/hex.h"

#define ZK_MAX_COLS 512
#define ZK_MAX_HDR  (64u << 10)

struct zk_map {
	const char *name;
	uint8_t len;
	zk_act act;
};

#define Z(name, act)                                                                               \
	{                                                                                          \
		name, sizeof(name) - 1, act                                                        \
	}

/*
 * Column names of Zeek's standard logs (conn, dns, http, ssl, x509, files,
 * smtp, notice, ...), sorted by first byte; zk_first[c] is the range of
 * entries starting with c, so a lookup compares a handful of names at most.
 */
static const struct zk_map zk_names[] = {
    Z("_path", ZK_PATH),
    Z("answers", ZK_HOST),
    Z("cc", ZK_EMAIL_DST),
    Z("cert_chain_fps", ZK_X509_FP),
    Z("certificate.serial", ZK_X509_SERIAL),
    Z("client_addr", ZK_IP),
    Z("client_cert_chain_fps", ZK_X509_FP),
    Z("dst", ZK_IP_DST),
    Z("filename", ZK_FILENAME),
    Z("fingerprint", ZK_X509_FP),
    Z("from", ZK_EMAIL_SRC),
    Z("host", ZK_HTTP_HOST),
    Z("host_name", ZK_DOMAIN),
    Z("id.orig_h", ZK_IP_SRC),
    Z("id.orig_p", ZK_PORT_SRC),
    Z("id.resp_h", ZK_IP_DST),
    Z("id.resp_p", ZK_PORT_DST),
    Z("ja3", ZK_JA3),
    Z("ja3s", ZK_JA3S),
    Z("ja4", ZK_JA4),
    Z("mailfrom", ZK_EMAIL_SRC),
    Z("md5", ZK_MD5),
    Z("note", ZK_SIGNATURE),
    Z("orig_filenames", ZK_FILENAME),
    Z("path", ZK_IP),
    Z("query", ZK_DOMAIN),
    Z("rcptto", ZK_EMAIL_DST),
    Z("referrer", ZK_URL),
    Z("reply_to", ZK_EMAIL),
    Z("resp_filenames", ZK_FILENAME),
    Z("rx_hosts", ZK_IP),
    Z("san.dns", ZK_DOMAIN),
    Z("san.email", ZK_EMAIL),
    Z("san.ip", ZK_IP),
    Z("server_addr", ZK_IP),
    Z("server_name", ZK_DOMAIN),
    Z("sha1", ZK_SHA1),
    Z("sha256", ZK_SHA256),
    Z("src", ZK_IP_SRC),
    Z("to", ZK_EMAIL_DST),
    Z("ts", ZK_TS),
    Z("tx_hosts", ZK_IP),
    Z("uri", ZK_HTTP_URI),
    Z("user_agent", ZK_UA),
    Z("x_originating_ip", ZK_IP),
};

static const uint8_t zk_first[128][2] = {
    ['_'] = {0, 1},   ['a'] = {1, 2},   ['c'] = {2, 7},   ['d'] = {7, 8},   ['f'] = {8, 11},
    ['h'] = {11, 13}, ['i'] = {13, 17}, ['j'] = {17, 20}, ['m'] = {20, 22}, ['n'] = {22, 23},
    ['o'] = {23, 24}, ['p'] = {24, 25}, ['q'] = {25, 26}, ['r'] = {26, 31}, ['s'] = {31, 39},
    ['t'] = {39, 42}, ['u'] = {42, 44}, ['x'] = {44, 45}};

int sk_logfmt_zeek_lookup(const char *name, size_t n)
{
	unsigned char c = (unsigned char)name[0];
	if (n == 0 || c >= 128)
		return -1;
	for (unsigned i = zk_first[c][0]; i < zk_first[c][1]; i++)
		if (zk_names[i].len == n && memcmp(zk_names[i].name, name, n) == 0)
			return (int)i;
	return -1;
}

const char *sk_logfmt_zeek_entry(int i, zk_act *act)
{
	*act = zk_names[i].act;
	return zk_names[i].name;
}

zk_act sk_logfmt_zeek_action(const char *name, size_t n)
{
	int i = n ? sk_logfmt_zeek_lookup(name, n) : -1;
	return i < 0 ? ZK_IGNORE : zk_names[i].act;
}

void sk_logfmt_zeek_apply(sk_logbuild *b, zk_act act, const char *field, const char *v, size_t n)
{
	switch (act) {
	case ZK_IP_SRC:
		sk_logrec_add_ip(b, SK_ROLE_SRC, field, v, n);
		break;
	case ZK_IP_DST:
		sk_logrec_add_ip(b, SK_ROLE_DST, field, v, n);
		break;
	case ZK_IP:
		sk_logrec_add_ip(b, SK_ROLE_NONE, field, v, n);
		break;
	case ZK_PORT_SRC:
		sk_logrec_add_port(b, SK_ROLE_SRC, field, v, n);
		break;
	case ZK_PORT_DST:
		sk_logrec_add_port(b, SK_ROLE_DST, field, v, n);
		break;
	case ZK_DOMAIN:
		sk_logrec_add_domain(b, SK_ROLE_NONE, field, v, n);
		break;
	case ZK_HOST:
	case ZK_HTTP_HOST:
		sk_logrec_add_host(b, SK_ROLE_NONE, field, v, n);
		break;
	case ZK_URL:
		sk_logrec_add_url(b, field, v, n);
		break;
	case ZK_JA3:
		sk_logrec_add_hash(b, SK_OBS_JA3, field, v, n);
		break;
	case ZK_JA3S:
		sk_logrec_add_hash(b, SK_OBS_JA3S, field, v, n);
		break;
	case ZK_JA4:
		if (n && n <= 128)
			sk_logrec_add(b, SK_OBS_JA4, SK_ROLE_NONE, field, v, n);
		break;
	case ZK_MD5:
		sk_logrec_add_hash(b, SK_OBS_MD5, field, v, n);
		break;
	case ZK_SHA1:
		sk_logrec_add_hash(b, SK_OBS_SHA1, field, v, n);
		break;
	case ZK_SHA256:
		sk_logrec_add_hash(b, SK_OBS_SHA256, field, v, n);
		break;
	case ZK_HASH:
		sk_logrec_add_hash(b, SK_OBS_NONE, field, v, n);
		break;
	case ZK_X509_FP:
		sk_logrec_add_hash(b, SK_OBS_X509_SHA256, field, v, n);
		break;
	case ZK_X509_SERIAL:
		if (n && n <= 128)
			sk_logrec_add(b, SK_OBS_X509_SERIAL, SK_ROLE_NONE, field, v, n);
		break;
	case ZK_EMAIL_SRC:
		sk_logrec_add_email(b, SK_ROLE_SRC, field, v, n);
		break;
	case ZK_EMAIL_DST:
		sk_logrec_add_email(b, SK_ROLE_DST, field, v, n);
		break;
	case ZK_EMAIL:
		sk_logrec_add_email(b, SK_ROLE_NONE, field, v, n);
		break;
	case ZK_UA:
		if (n)
			sk_logrec_add(b, SK_OBS_USER_AGENT, SK_ROLE_NONE, field, v, n);
		break;
	case ZK_FILENAME:
		if (n)
			sk_logrec_add(b, SK_OBS_FILENAME, SK_ROLE_NONE, field, v, n);
		break;
	case ZK_SIGNATURE:
		if (n)
			sk_logrec_add(b, SK_OBS_SIGNATURE, SK_ROLE_NONE, field, v, n);
		break;
	default:
		break;
	}
}

/* ---- TSV ---- */

struct zcol {
	const char *name; /* into hdr */
	uint8_t act;
	bool is_set;
};

struct sk_zeek_state {
	char sep, set_sep;
	char empty[32], unset[32];
	size_t empty_len, unset_len;
	char path[64];
	size_t path_len;
	char hdr[ZK_MAX_HDR]; /* column names, NUL-separated */
	size_t ncols;
	int last_col; /* highest column with an action; -1 = none */
	bool have_fields;
	struct zcol cols[ZK_MAX_COLS];
	uint32_t
	    bounds[ZK_MAX_COLS + 1 + SK_SPLIT_SLACK]; /* per line: start offset of each column */
	sk_split_fn split; /* the structural pass this CPU runs best (logsimd.h) */
	bool line_bs; /* per line: it has a backslash somewhere (else no value needs unescaping) */
};

sk_err sk_logfmt_zeek_new(sk_zeek_state **out)
{
	sk_zeek_state *z = calloc(1, sizeof(*z));
	*out = NULL;
	if (!z)
		return SK_ENOMEM;
	z->sep = '\t';
	z->set_sep = ',';
	memcpy(z->empty, "(empty)", 8);
	z->empty_len = 7;
	z->unset[0] = '-';
	z->unset_len = 1;
	z->last_col = -1;
	z->split = sk_split_best();
	*out = z;
	return SK_OK;
}

void sk_logfmt_zeek_free(sk_zeek_state *z)
{
	free(z);
}

/* Unescape \xNN and \\ of s into out (at least n bytes); returns the new length. */
static size_t unescape(const char *s, size_t n, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x') {
			int h = sk_hexval((unsigned char)s[i + 2]),
			    l = sk_hexval((unsigned char)s[i + 3]);
			if (h >= 0 && l >= 0) {
				out[k++] = (char)(h << 4 | l);
				i += 3;
				continue;
			}
		}
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\\') {
			out[k++] = '\\';
			i++;
			continue;
		}
		out[k++] = s[i];
	}
	return k;
}

/* Header value: the text after "#name<sep>", with \xNN escapes (for #separator). */
static size_t hdr_value(const char *s, size_t n, char *out, size_t cap)
{
	char tmp[64];
	if (n > sizeof(tmp))
		n = sizeof(tmp);
	size_t k = unescape(s, n, tmp);
	if (k > cap)
		k = cap;
	memcpy(out, tmp, k);
	return k;
}

static int header_line(sk_zeek_state *z, const char *s, size_t n, const char **reason)
{
	const char *sp;
	size_t kl;

	if (n >= 11 && memcmp(s, "#separator ", 11) == 0) {
		char c[4];
		if (hdr_value(s + 11, n - 11, c, 1) != 1) {
			*reason = "bad #separator";
			return LF_MALFORMED;
		}
		z->sep = c[0];
		return LF_SKIP;
	}
	sp = memchr(s, z->sep, n);
	if (!sp)
		return LF_SKIP; /* a comment */
	kl = (size_t)(sp - s);
	s += kl + 1;
	n -= kl + 1;
	const char *key = sp - kl;
	if (kl == 14 && memcmp(key, "#set_separator", 14) == 0) {
		char c[4];
		if (hdr_value(s, n, c, 1) == 1)
			z->set_sep = c[0];
	} else if (kl == 12 && memcmp(key, "#empty_field", 12) == 0) {
		z->empty_len = hdr_value(s, n, z->empty, sizeof(z->empty));
	} else if (kl == 12 && memcmp(key, "#unset_field", 12) == 0) {
		z->unset_len = hdr_value(s, n, z->unset, sizeof(z->unset));
	} else if (kl == 5 && memcmp(key, "#path", 5) == 0) {
		z->path_len = n < sizeof(z->path) ? n : sizeof(z->path);
		memcpy(z->path, s, z->path_len);
	} else if (kl == 7 && memcmp(key, "#fields", 7) == 0) {
		if (n + 1 > sizeof(z->hdr)) {
			*reason = "#fields header too long";
			z->have_fields = false;
			return LF_MALFORMED;
		}
		memcpy(z->hdr, s, n);
		z->hdr[n] = '\0';
		z->ncols = 0;
		z->last_col = -1;
		char *p = z->hdr, *end = z->hdr + n;
		for (;;) {
			char *e = memchr(p, z->sep, (size_t)(end - p));
			if (!e)
				e = end;
			if (z->ncols == ZK_MAX_COLS) {
				*reason = "more than 512 columns";
				z->have_fields = false;
				return LF_MALFORMED;
			}
			*e = '\0';
			struct zcol *c = &z->cols[z->ncols];
			c->name = p;
			c->act = (uint8_t)sk_logfmt_zeek_action(p, (size_t)(e - p));
			c->is_set = false;
			if (c->act != ZK_IGNORE && c->act != ZK_PATH)
				z->last_col = (int)z->ncols;
			z->ncols++;
			if (e == end)
				break;
			p = e + 1;
		}
		z->have_fields = true;
	} else if (kl == 6 && memcmp(key, "#types", 6) == 0) {
		size_t i = 0;
		const char *p = s, *end = s + n;
		while (p < end && i < z->ncols) {
			const char *e = memchr(p, z->sep, (size_t)(end - p));
			if (!e)
				e = end;
			size_t tl = (size_t)(e - p);
			z->cols[i++].is_set = (tl > 4 && memcmp(p, "set[", 4) == 0) ||
			                      (tl > 7 && memcmp(p, "vector[", 7) == 0);
			p = e + 1;
		}
	}
	return LF_SKIP;
}

static inline bool has_backslash(const char *v, size_t n)
{
	/* values are short: an inline loop beats a call to memchr */
	for (size_t i = 0; i < n; i++)
		if (v[i] == '\\')
			return true;
	return false;
}

static void apply_value(sk_zeek_state *z, sk_logbuild *b, const struct zcol *c, const char *v,
                        size_t n)
{
	if (z->line_bs && has_backslash(v, n)) {
		char *o = sk_logrec_reserve(b, n);
		if (!o) {
			b->rec->dropped++;
			return;
		}
		size_t k = unescape(v, n, o);
		b->used -= n - k;
		v = o;
		n = k;
	}
	sk_logfmt_zeek_apply(b, (zk_act)c->act, c->name, v, n);
}

int sk_logfmt_zeek_line(sk_zeek_state *z, sk_logbuild *b, const char *s, size_t n,
                        const char **reason)
{
	const char *host = NULL, *uri = NULL;
	size_t hn = 0, un = 0;
	const char *uri_field = NULL;

	if (n == 0)
		return LF_SKIP;
	if (s[0] == '#')
		return header_line(z, s, n, reason);
	if (!z->have_fields) {
		*reason = "data before a #fields header";
		return LF_MALFORMED;
	}
	if (n > UINT32_MAX - 1) {
		*reason = "line too long";
		return LF_MALFORMED;
	}
	size_t nc = z->split(s, n, z->sep, z->bounds, ZK_MAX_COLS, &z->line_bs);
	if (nc != z->ncols) {
		*reason =
		    nc < z->ncols ? "fewer columns than #fields" : "more columns than #fields";
		return LF_MALFORMED;
	}
	z->bounds[nc] = (uint32_t)n + 1;
	if (z->path_len) {
		b->rec->event = z->path;
		b->rec->event_len = (uint32_t)z->path_len;
	}
	for (int i = 0; i <= z->last_col; i++) {
		const struct zcol *c = &z->cols[i];
		if (c->act == ZK_IGNORE)
			continue;
		const char *v = s + z->bounds[i];
		size_t vn = z->bounds[i + 1] - z->bounds[i] - 1;
		if (vn == z->unset_len && v[0] == z->unset[0] && memcmp(v, z->unset, vn) == 0)
			continue;
		if (vn == z->empty_len && v[0] == z->empty[0] && memcmp(v, z->empty, vn) == 0)
			continue;
		switch (c->act) {
		case ZK_TS:
			if (!sk_logts_epoch(v, vn, &b->rec->ts_us)) {
				*reason = "bad ts";
				return LF_MALFORMED;
			}
			continue;
		case ZK_HTTP_URI:
			uri = v;
			un = vn;
			uri_field = c->name;
			continue;
		case ZK_HTTP_HOST:
			host = v;
			hn = vn;
			break;
		default:
			break;
		}
		if (c->is_set) {
			const char *p = v, *end = v + vn;
			for (;;) {
				const char *e = memchr(p, z->set_sep, (size_t)(end - p));
				if (!e)
					e = end;
				if (e > p)
					apply_value(z, b, c, p, (size_t)(e - p));
				if (e == end)
					break;
				p = e + 1;
			}
		} else {
			apply_value(z, b, c, v, vn);
		}
	}
	if (uri) {
		if (memchr(uri, '\\', un) || (host && memchr(host, '\\', hn))) {
			char *o = sk_logrec_reserve(b, un + hn);
			if (o) {
				size_t k1 = unescape(uri, un, o);
				size_t k2 = host ? unescape(host, hn, o + k1) : 0;
				b->used -= un + hn - k1 - k2;
				uri = o;
				un = k1;
				host = host ? o + k1 : NULL;
				hn = k2;
			}
		}
		sk_logrec_add_url_parts(b, uri_field, host, host ? hn : 0, uri, un);
	}
	return LF_RECORD;
}
