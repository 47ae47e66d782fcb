/*
 * logfmt_csv.c - CSV with a header row (RFC 4180 quoting), columns mapped to
 * observation kinds by the caller ("src=src_ip,query=domain") or, for
 * columns the mapping does not name, by common header names.
 *
 * A record is one line: quoted fields may hold commas and doubled quotes,
 * but not newlines (such a line is reported as malformed).  The first
 * non-blank line is the header; the mapping is resolved against it once.
 */
#include "logfmt.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSV_MAX_COLS 256
#define CSV_MAX_HDR  (64u << 10)
#define CSV_MAX_MAP  64

enum csv_kind {
	C_IGNORE,
	C_IP,
	C_SRC_IP,
	C_DST_IP,
	C_SRC_PORT,
	C_DST_PORT,
	C_HOST,
	C_DOMAIN,
	C_URL,
	C_EMAIL,
	C_SRC_EMAIL,
	C_DST_EMAIL,
	C_PHONE,
	C_SRC_PHONE,
	C_DST_PHONE,
	C_MD5,
	C_SHA1,
	C_SHA256,
	C_SHA512,
	C_HASH,
	C_JA3,
	C_JA3S,
	C_JA4,
	C_UA,
	C_FILENAME,
	C_SIGNATURE,
	C_TS,
	C_AUTO,
};

struct named {
	const char *name;
	enum csv_kind kind;
};

/* Kind names accepted in a mapping. */
static const struct named kind_names[] = {
    {"ignore", C_IGNORE},
    {"ip", C_IP},
    {"src_ip", C_SRC_IP},
    {"dst_ip", C_DST_IP},
    {"src_port", C_SRC_PORT},
    {"dst_port", C_DST_PORT},
    {"port", C_DST_PORT},
    {"host", C_HOST},
    {"domain", C_DOMAIN},
    {"url", C_URL},
    {"email", C_EMAIL},
    {"src_email", C_SRC_EMAIL},
    {"dst_email", C_DST_EMAIL},
    {"phone", C_PHONE},
    {"src_phone", C_SRC_PHONE},
    {"dst_phone", C_DST_PHONE},
    {"md5", C_MD5},
    {"sha1", C_SHA1},
    {"sha256", C_SHA256},
    {"sha512", C_SHA512},
    {"hash", C_HASH},
    {"ja3", C_JA3},
    {"ja3s", C_JA3S},
    {"ja4", C_JA4},
    {"user_agent", C_UA},
    {"filename", C_FILENAME},
    {"signature", C_SIGNATURE},
    {"ts", C_TS},
    {"auto", C_AUTO},
};

/* Default kinds by header name (case-insensitive). */
static const struct named header_names[] = {
    {"src", C_SRC_IP},
    {"src_ip", C_SRC_IP},
    {"srcip", C_SRC_IP},
    {"source", C_SRC_IP},
    {"source_ip", C_SRC_IP},
    {"client_ip", C_SRC_IP},
    {"c-ip", C_SRC_IP},
    {"id.orig_h", C_SRC_IP},
    {"dst", C_DST_IP},
    {"dst_ip", C_DST_IP},
    {"dstip", C_DST_IP},
    {"dest", C_DST_IP},
    {"dest_ip", C_DST_IP},
    {"destination", C_DST_IP},
    {"destination_ip", C_DST_IP},
    {"server_ip", C_DST_IP},
    {"s-ip", C_DST_IP},
    {"id.resp_h", C_DST_IP},
    {"ip", C_IP},
    {"ip_address", C_IP},
    {"ipaddress", C_IP},
    {"address", C_IP},
    {"src_port", C_SRC_PORT},
    {"sport", C_SRC_PORT},
    {"source_port", C_SRC_PORT},
    {"id.orig_p", C_SRC_PORT},
    {"dst_port", C_DST_PORT},
    {"dport", C_DST_PORT},
    {"dest_port", C_DST_PORT},
    {"destination_port", C_DST_PORT},
    {"id.resp_p", C_DST_PORT},
    {"port", C_DST_PORT},
    {"domain", C_HOST},
    {"domain_name", C_HOST},
    {"query", C_HOST},
    {"qname", C_HOST},
    {"host", C_HOST},
    {"hostname", C_HOST},
    {"fqdn", C_HOST},
    {"sni", C_HOST},
    {"server_name", C_HOST},
    {"url", C_URL},
    {"request_url", C_URL},
    {"email", C_EMAIL},
    {"email_address", C_EMAIL},
    {"from", C_SRC_EMAIL},
    {"sender", C_SRC_EMAIL},
    {"mail_from", C_SRC_EMAIL},
    {"to", C_DST_EMAIL},
    {"recipient", C_DST_EMAIL},
    {"rcpt_to", C_DST_EMAIL},
    {"phone", C_PHONE},
    {"phone_number", C_PHONE},
    {"msisdn", C_PHONE},
    {"caller", C_SRC_PHONE},
    {"calling_number", C_SRC_PHONE},
    {"from_number", C_SRC_PHONE},
    {"caller_id", C_SRC_PHONE},
    {"callee", C_DST_PHONE},
    {"called_number", C_DST_PHONE},
    {"to_number", C_DST_PHONE},
    {"md5", C_MD5},
    {"sha1", C_SHA1},
    {"sha256", C_SHA256},
    {"sha512", C_SHA512},
    {"hash", C_HASH},
    {"file_hash", C_HASH},
    {"ja3", C_JA3},
    {"ja3s", C_JA3S},
    {"ja4", C_JA4},
    {"user_agent", C_UA},
    {"useragent", C_UA},
    {"user-agent", C_UA},
    {"ua", C_UA},
    {"filename", C_FILENAME},
    {"file_name", C_FILENAME},
    {"signature", C_SIGNATURE},
    {"ts", C_TS},
    {"timestamp", C_TS},
    {"time", C_TS},
    {"datetime", C_TS},
    {"indicator", C_AUTO},
    {"ioc", C_AUTO},
    {"value", C_AUTO},
    {"observable", C_AUTO},
};

struct map_entry {
	char col[64];
	enum csv_kind kind;
};

struct sk_csv_state {
	struct map_entry map[CSV_MAX_MAP];
	size_t nmap;
	bool have_header;
	size_t ncols;
	char hdr[CSV_MAX_HDR]; /* column names, NUL-terminated, unquoted */
	const char *names[CSV_MAX_COLS];
	uint8_t kinds[CSV_MAX_COLS];
	uint32_t start[CSV_MAX_COLS], len[CSV_MAX_COLS];
	uint8_t quoted[CSV_MAX_COLS]; /* 2 = holds doubled quotes */
};

static bool find_named(const struct named *t, size_t n, const char *s, size_t sl,
                       enum csv_kind *out)
{
	for (size_t i = 0; i < n; i++) {
		if (strlen(t[i].name) == sl && strncasecmp(t[i].name, s, sl) == 0) {
			*out = t[i].kind;
			return true;
		}
	}
	return false;
}

sk_err sk_logfmt_csv_new(const char *mapping, sk_csv_state **out, sk_error *err)
{
	sk_csv_state *c = calloc(1, sizeof(*c));
	*out = NULL;
	if (!c)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	for (const char *p = mapping; p && *p;) {
		const char *comma = strchr(p, ',');
		const char *e = comma ? comma : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(e - p));
		enum csv_kind k;
		if (!eq || eq == p || (size_t)(eq - p) >= sizeof(c->map[0].col) ||
		    !find_named(kind_names, sizeof(kind_names) / sizeof(kind_names[0]), eq + 1,
		                (size_t)(e - eq - 1), &k)) {
			sk_logfmt_csv_free(c);
			return sk_error_set(err, SK_EINVAL,
			                    "CSV mapping: expected COLUMN=KIND, got \"%.*s\"",
			                    (int)(e - p), p);
		}
		if (c->nmap == CSV_MAX_MAP) {
			sk_logfmt_csv_free(c);
			return sk_error_set(err, SK_ELIMIT, "CSV mapping: more than %d columns",
			                    CSV_MAX_MAP);
		}
		memcpy(c->map[c->nmap].col, p, (size_t)(eq - p));
		c->map[c->nmap].col[eq - p] = '\0';
		c->map[c->nmap++].kind = k;
		p = comma ? comma + 1 : e;
	}
	*out = c;
	return SK_OK;
}

void sk_logfmt_csv_free(sk_csv_state *c)
{
	free(c);
}

/* Split s into fields (start/len/quoted); returns the count or -1 with reason. */
static long split(sk_csv_state *c, const char *s, size_t n, const char **reason)
{
	size_t i = 0, nf = 0;
	for (;;) {
		if (nf == CSV_MAX_COLS) {
			*reason = "more than 256 columns";
			return -1;
		}
		size_t j = i;
		while (j < n && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j < n && s[j] == '"') {
			/* a quoted field (blanks around the quotes are tolerated) */
			size_t a = i = j + 1;
			uint8_t q = 1;
			for (;;) {
				const char *qq = memchr(s + i, '"', n - i);
				if (!qq) {
					*reason = "unterminated quoted field (fields with newlines "
					          "are not supported)";
					return -1;
				}
				i = (size_t)(qq - s) + 1;
				if (i < n && s[i] == '"') {
					q = 2;
					i++;
					continue;
				}
				break;
			}
			c->start[nf] = (uint32_t)a;
			c->len[nf] = (uint32_t)(i - 1 - a);
			c->quoted[nf++] = q;
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
			if (i < n && s[i] != ',') {
				*reason = "text after a closing quote";
				return -1;
			}
		} else {
			const char *comma = memchr(s + i, ',', n - i);
			size_t e = comma ? (size_t)(comma - s) : n;
			c->start[nf] = (uint32_t)i;
			c->len[nf] = (uint32_t)(e - i);
			c->quoted[nf++] = 0;
			i = e;
		}
		if (i >= n)
			break;
		i++; /* the comma */
		if (i == n) {
			if (nf == CSV_MAX_COLS) {
				*reason = "more than 256 columns";
				return -1;
			}
			c->start[nf] = (uint32_t)i;
			c->len[nf] = 0;
			c->quoted[nf++] = 0;
			break;
		}
	}
	return (long)nf;
}

static size_t undouble(const char *s, size_t n, char *o)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		o[k++] = s[i];
		if (s[i] == '"' && i + 1 < n && s[i + 1] == '"')
			i++;
	}
	return k;
}

static int header(sk_csv_state *c, const char *s, size_t n, const char **reason)
{
	long nf = split(c, s, n, reason);
	size_t used = 0;
	if (nf < 0)
		return LF_MALFORMED;
	if (n + (size_t)nf + 1 > sizeof(c->hdr)) {
		*reason = "CSV header too long";
		return LF_MALFORMED;
	}
	for (long i = 0; i < nf; i++) {
		char *name = c->hdr + used;
		size_t k = undouble(s + c->start[i], c->len[i], name);
		while (k && name[k - 1] == ' ')
			k--;
		while (k && name[0] == ' ') {
			memmove(name, name + 1, --k);
		}
		name[k] = '\0';
		used += k + 1;
		c->names[i] = name;
		enum csv_kind kind = C_IGNORE;
		bool mapped = false;
		for (size_t m = 0; m < c->nmap; m++) {
			if (strcasecmp(c->map[m].col, name) == 0) {
				kind = c->map[m].kind;
				mapped = true;
			}
		}
		if (!mapped)
			find_named(header_names, sizeof(header_names) / sizeof(header_names[0]),
			           name, k, &kind);
		c->kinds[i] = (uint8_t)kind;
	}
	c->ncols = (size_t)nf;
	c->have_header = true;
	return LF_SKIP;
}

static bool apply(sk_logbuild *b, enum csv_kind k, const char *f, const char *v, size_t n)
{
	switch (k) {
	case C_IP:
		return sk_logrec_add_ip(b, SK_ROLE_NONE, f, v, n);
	case C_SRC_IP:
		return sk_logrec_add_ip(b, SK_ROLE_SRC, f, v, n);
	case C_DST_IP:
		return sk_logrec_add_ip(b, SK_ROLE_DST, f, v, n);
	case C_SRC_PORT:
		return sk_logrec_add_port(b, SK_ROLE_SRC, f, v, n);
	case C_DST_PORT:
		return sk_logrec_add_port(b, SK_ROLE_DST, f, v, n);
	case C_HOST:
		return sk_logrec_add_host(b, SK_ROLE_NONE, f, v, n);
	case C_DOMAIN:
		return sk_logrec_add_domain(b, SK_ROLE_NONE, f, v, n);
	case C_URL:
		return sk_logrec_add_url(b, f, v, n);
	case C_EMAIL:
		return sk_logrec_add_email(b, SK_ROLE_NONE, f, v, n);
	case C_SRC_EMAIL:
		return sk_logrec_add_email(b, SK_ROLE_SRC, f, v, n);
	case C_DST_EMAIL:
		return sk_logrec_add_email(b, SK_ROLE_DST, f, v, n);
	case C_PHONE:
		return sk_logrec_add_phone(b, SK_ROLE_NONE, f, v, n);
	case C_SRC_PHONE:
		return sk_logrec_add_phone(b, SK_ROLE_SRC, f, v, n);
	case C_DST_PHONE:
		return sk_logrec_add_phone(b, SK_ROLE_DST, f, v, n);
	case C_MD5:
		return sk_logrec_add_hash(b, SK_OBS_MD5, f, v, n);
	case C_SHA1:
		return sk_logrec_add_hash(b, SK_OBS_SHA1, f, v, n);
	case C_SHA256:
		return sk_logrec_add_hash(b, SK_OBS_SHA256, f, v, n);
	case C_SHA512:
		return sk_logrec_add_hash(b, SK_OBS_SHA512, f, v, n);
	case C_HASH:
		return sk_logrec_add_hash(b, SK_OBS_NONE, f, v, n);
	case C_JA3:
		return sk_logrec_add_hash(b, SK_OBS_JA3, f, v, n);
	case C_JA3S:
		return sk_logrec_add_hash(b, SK_OBS_JA3S, f, v, n);
	case C_JA4:
		return n && n <= 128 && sk_logrec_add(b, SK_OBS_JA4, SK_ROLE_NONE, f, v, n);
	case C_UA:
		return n && sk_logrec_add(b, SK_OBS_USER_AGENT, SK_ROLE_NONE, f, v, n);
	case C_FILENAME:
		return n && sk_logrec_add(b, SK_OBS_FILENAME, SK_ROLE_NONE, f, v, n);
	case C_SIGNATURE:
		return n && sk_logrec_add(b, SK_OBS_SIGNATURE, SK_ROLE_NONE, f, v, n);
	case C_AUTO:
		return sk_logrec_add_auto(b, SK_ROLE_NONE, f, v, n);
	default:
		return false;
	}
}

int sk_logfmt_csv_line(sk_csv_state *c, sk_logbuild *b, const char *s, size_t n,
                       const char **reason)
{
	if (n == 0)
		return LF_SKIP;
	if (!c->have_header)
		return header(c, s, n, reason);
	long nf = split(c, s, n, reason);
	if (nf < 0)
		return LF_MALFORMED;
	if ((size_t)nf != c->ncols) {
		*reason = (size_t)nf < c->ncols ? "fewer fields than the header"
		                                : "more fields than the header";
		return LF_MALFORMED;
	}
	for (long i = 0; i < nf; i++) {
		enum csv_kind k = (enum csv_kind)c->kinds[i];
		if (k == C_IGNORE)
			continue;
		const char *v = s + c->start[i];
		size_t vn = c->len[i];
		if (c->quoted[i] == 2) {
			char *o = sk_logrec_reserve(b, vn);
			if (!o) {
				b->rec->dropped++;
				continue;
			}
			size_t kk = undouble(v, vn, o);
			b->used -= vn - kk;
			v = o;
			vn = kk;
		}
		while (vn && (*v == ' ' || *v == '\t')) {
			v++;
			vn--;
		}
		while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
			vn--;
		if (vn == 0)
			continue;
		if (k == C_TS) {
			if (!sk_logts_epoch(v, vn, &b->rec->ts_us) &&
			    !sk_logts_rfc3339(v, vn, &b->rec->ts_us)) {
				*reason = "bad timestamp";
				return LF_MALFORMED;
			}
			continue;
		}
		apply(b, k, c->names[i], v, vn);
	}
	return LF_RECORD;
}
