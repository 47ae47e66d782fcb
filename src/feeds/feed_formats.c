/*
 * feed_formats.c - recognising, checking and normalising the indicator
 * values found in plain feeds, and writing their STIX patterns.
 *
 * The rules are deliberately simple and strict, so that an independent
 * implementation (the integration test does one in Python) agrees on what a
 * valid row is:
 *   IPv4      four decimal octets 0-255, no leading zeros
 *   IPv6      what inet_pton(AF_INET6) accepts; written back in RFC 5952 form
 *   CIDR      address/prefix (0-32, 0-128), reduced to the network address
 *   port      decimal 1-65535, no leading zeros
 *   domain    lowercased, one trailing dot dropped, 1-253 bytes, two or more
 *             labels of 1-63 bytes of [a-z0-9_-] not starting or ending with
 *             '-', and a top-level label that is not all digits
 *   e-mail    local@domain, local part 1-64 printable ASCII bytes other than
 *             space and ()<>[]:;@\,"; domain as above (lowercased)
 *   URL       scheme://rest, scheme [a-z][a-z0-9+.-]*, rest non-empty, no
 *             spaces or control bytes
 *   hashes    32/40/64/128 hex digits (MD5/SHA-1/SHA-256/SHA-512), lowercased
 */
#include "schakel/feed.h"
#include "feeds/feed_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[SK_FK__COUNT] = {
    [SK_FK_DOMAIN] = "domain",
    [SK_FK_IPV4] = "ipv4",
    [SK_FK_IPV6] = "ipv6",
    [SK_FK_IPV4_CIDR] = "ipv4_cidr",
    [SK_FK_IPV6_CIDR] = "ipv6_cidr",
    [SK_FK_IPV4_PORT] = "ipv4_port",
    [SK_FK_IPV6_PORT] = "ipv6_port",
    [SK_FK_DOMAIN_PORT] = "domain_port",
    [SK_FK_URL] = "url",
    [SK_FK_URL_PATH] = "url_path",
    [SK_FK_EMAIL] = "email",
    [SK_FK_MD5] = "md5",
    [SK_FK_SHA1] = "sha1",
    [SK_FK_SHA256] = "sha256",
    [SK_FK_SHA512] = "sha512",
    [SK_FK_DOMAIN_REGEX] = "domain_regex",
    [SK_FK_URL_REGEX] = "url_regex",
};

const char *sk_feed_kind_name(sk_feed_kind k)
{
	return (unsigned)k < SK_FK__COUNT ? kind_names[k] : "unknown";
}

bool sk_feed_format_parse(const char *s, sk_feed_format *out)
{
	static const struct {
		const char *name;
		sk_feed_format f;
	} names[] = {{"maltrail", SK_FEED_MALTRAIL},
		     {"ipsum", SK_FEED_IPSUM},
		     {"lines", SK_FEED_LINES},
		     {"csv", SK_FEED_CSV}};
	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i].name)) {
			*out = names[i].f;
			return true;
		}
	}
	return false;
}

/* --- the pieces ---------------------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Decimal without leading zeros in [lo, hi]. */
static bool parse_dec(const char *s, size_t n, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned v = 0;
	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_ipv4(const char *s, size_t n, unsigned char out[4])
{
	size_t i = 0;
	for (int oct = 0; oct < 4; oct++) {
		size_t start = i;
		unsigned v;
		while (i < n && is_digit(s[i]))
			i++;
		if (i - start > 3 || !parse_dec(s + start, i - start, 0, 255, &v))
			return false;
		out[oct] = (unsigned char)v;
		if (oct < 3) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
	}
	return i == n;
}

static bool parse_ipv6(const char *s, size_t n, unsigned char out[16])
{
	char tmp[INET6_ADDRSTRLEN + 8];
	if (n < 2 || n >= sizeof(tmp) || memchr(s, '%', n))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, out) == 1;
}

static bool domain_valid(const char *s, size_t n)
{
	size_t labels = 0, start = 0;
	bool tld_digits = true;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			size_t len = i - start;
			if (len == 0 || len > 63 || s[start] == '-' || s[i - 1] == '-')
				return false;
			labels++;
			tld_digits = true;
			for (size_t j = start; j < i; j++)
				if (!is_digit(s[j]))
					tld_digits = false;
			start = i + 1;
			continue;
		}
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_'))
			return false;
	}
	return labels >= 2 && !tld_digits;
}

/* Lowercase and drop one trailing dot into norm, then check. */
static bool put_domain(const char *s, size_t n, sk_buf *norm)
{
	size_t start = norm->len;
	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || sk_buf_reserve(norm, n))
		return false;
	for (size_t i = 0; i < n; i++)
		norm->data[norm->len + i] = lower(s[i]);
	norm->len += n;
	norm->data[norm->len] = '\0';
	return domain_valid(norm->data + start, n);
}

static sk_err put_ipv4(sk_buf *b, const unsigned char a[4])
{
	return sk_buf_printf(b, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

static sk_err put_ipv6(sk_buf *b, const unsigned char a[16])
{
	char tmp[INET6_ADDRSTRLEN];
	if (!inet_ntop(AF_INET6, a, tmp, sizeof(tmp)))
		return SK_EINVAL;
	return sk_buf_puts(b, tmp);
}

/* No control bytes (a space is allowed: URLs get it percent-encoded). */
static bool valid_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* Append s[0..n) with each space written as %20. */
static sk_err put_url_text(sk_buf *b, const char *s, size_t n)
{
	size_t start = 0;
	sk_err rc = SK_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		if (s[i] != ' ')
			continue;
		rc = sk_buf_append(b, s + start, i - start);
		if (!rc)
			rc = sk_buf_puts(b, "%20");
		start = i + 1;
	}
	return rc ? rc : sk_buf_append(b, s + start, n - start);
}

/* --- checks per kind ----------------------------------------------------- */

static sk_err bad(sk_error *err, const char *what, const char *s, size_t n)
{
	int show = n > 80 ? 80 : (int)n;
	/* the value may hold anything; print only its printable ASCII */
	char tmp[81];
	for (int i = 0; i < show; i++)
		tmp[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	tmp[show] = '\0';
	return sk_error_set(err, SK_EINVAL, "'%s%s' is not %s", tmp, n > 80 ? "..." : "", what);
}

static sk_err check_cidr(sk_feed_kind k, const char *s, size_t n, sk_buf *norm, sk_error *err)
{
	const char *slash = memchr(s, '/', n);
	unsigned char a[16];
	unsigned bits, max = k == SK_FK_IPV4_CIDR ? 32 : 128;
	size_t alen = 16;

	if (!slash)
		return bad(err, k == SK_FK_IPV4_CIDR ? "an IPv4 CIDR" : "an IPv6 CIDR", s, n);
	if (k == SK_FK_IPV4_CIDR) {
		alen = 4;
		if (!parse_ipv4(s, (size_t)(slash - s), a))
			return bad(err, "an IPv4 CIDR", s, n);
	} else if (!parse_ipv6(s, (size_t)(slash - s), a)) {
		return bad(err, "an IPv6 CIDR", s, n);
	}
	if (!parse_dec(slash + 1, n - (size_t)(slash + 1 - s), 0, max, &bits))
		return bad(err, "a CIDR prefix length", s, n);
	for (size_t i = 0; i < alen; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * (unsigned)i : 0;
		a[i] &= (unsigned char)(0xff00u >> keep);
	}
	if ((k == SK_FK_IPV4_CIDR ? put_ipv4(norm, a) : put_ipv6(norm, a)) ||
	    sk_buf_printf(norm, "/%u", bits))
		return sk_error_set(err, SK_ELIMIT, "value too long");
	return SK_OK;
}

/* host:port for ipv4_port / domain_port, [v6]:port for ipv6_port */
static sk_err check_port(sk_feed_kind k, const char *s, size_t n, sk_buf *norm, sk_error *err)
{
	const char *colon;
	unsigned char a[16];
	unsigned port;
	size_t hl;

	if (k == SK_FK_IPV6_PORT) {
		const char *close = memchr(s, ']', n);
		if (n < 4 || s[0] != '[' || !close || close + 1 >= s + n || close[1] != ':' ||
		    !parse_ipv6(s + 1, (size_t)(close - s - 1), a))
			return bad(err, "[IPv6]:port", s, n);
		colon = close + 1;
	} else {
		colon = memchr(s, ':', n);
		if (!colon)
			return bad(err, "host:port", s, n);
	}
	if (!parse_dec(colon + 1, n - (size_t)(colon + 1 - s), 1, 65535, &port))
		return bad(err, "host:port with a port of 1-65535", s, n);
	hl = (size_t)(colon - s);
	if (k == SK_FK_IPV4_PORT) {
		if (!parse_ipv4(s, hl, a))
			return bad(err, "IPv4:port", s, n);
		if (put_ipv4(norm, a))
			return SK_ELIMIT;
	} else if (k == SK_FK_IPV6_PORT) {
		if (put_ipv6(norm, a))
			return SK_ELIMIT;
	} else if (!put_domain(s, hl, norm)) {
		return bad(err, "domain:port", s, n);
	}
	if (sk_buf_printf(norm, ":%u", port))
		return sk_error_set(err, SK_ELIMIT, "value too long");
	return SK_OK;
}

static bool scheme_len(const char *s, size_t n, size_t *len)
{
	size_t i = 0;
	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	while (i < n && i < 32 &&
	       ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || is_digit(s[i]) ||
		s[i] == '+' || s[i] == '.' || s[i] == '-'))
		i++;
	if (i + 3 > n || memcmp(s + i, "://", 3) != 0)
		return false;
	*len = i;
	return true;
}

/* host (domain, IPv4, or [IPv6]) with an optional :port, at s[0..n) */
static bool host_valid(const char *s, size_t n)
{
	unsigned char a[16];
	const char *colon;
	unsigned port;
	char tmp[256];

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || !parse_ipv6(s + 1, (size_t)(close - s - 1), a))
			return false;
		if ((size_t)(close + 1 - s) == n)
			return true;
		return close[1] == ':' &&
		       parse_dec(close + 2, n - (size_t)(close + 2 - s), 1, 65535, &port);
	}
	colon = memchr(s, ':', n);
	if (colon) {
		if (!parse_dec(colon + 1, n - (size_t)(colon + 1 - s), 1, 65535, &port))
			return false;
		n = (size_t)(colon - s);
	}
	if (parse_ipv4(s, n, a))
		return true;
	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return false;
	for (size_t i = 0; i < n; i++)
		tmp[i] = lower(s[i]);
	return domain_valid(tmp, n);
}

static sk_err check_url(sk_feed_kind *k, const char *s, size_t n, sk_buf *norm, sk_error *err)
{
	size_t sl, hl = 0;

	if (!valid_text(s, n))
		return bad(err, "a URL (it has control characters)", s, n);
	if (scheme_len(s, n, &sl)) {
		if (sl + 3 == n || s[sl + 3] == '/')
			return bad(err, "a URL (no host)", s, n);
		/* scheme in lowercase, the rest as given */
		for (size_t i = 0; i < sl; i++)
			if (sk_buf_putc(norm, lower(s[i])))
				return SK_ELIMIT;
		if (put_url_text(norm, s + sl, n - sl))
			return sk_error_set(err, SK_ELIMIT, "value too long");
		*k = SK_FK_URL;
		return SK_OK;
	}
	if (n > 1 && s[0] == '/') {
		if (put_url_text(norm, s, n))
			return sk_error_set(err, SK_ELIMIT, "value too long");
		*k = SK_FK_URL_PATH;
		return SK_OK;
	}
	while (hl < n && s[hl] != '/' && s[hl] != '?' && s[hl] != '#')
		hl++;
	if (!host_valid(s, hl))
		return bad(err, "a URL (no scheme, and no host/path)", s, n);
	if (sk_buf_puts(norm, "http://") || put_url_text(norm, s, n))
		return sk_error_set(err, SK_ELIMIT, "value too long");
	*k = SK_FK_URL;
	return SK_OK;
}

static sk_err check_email(const char *s, size_t n, sk_buf *norm, sk_error *err)
{
	const char *at = memchr(s, '@', n);
	size_t ll;

	if (!at)
		return bad(err, "an e-mail address", s, n);
	ll = (size_t)(at - s);
	if (ll == 0 || ll > 64)
		return bad(err, "an e-mail address", s, n);
	for (size_t i = 0; i < ll; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("()<>[]:;@\\,\"", (char)c))
			return bad(err, "an e-mail address", s, n);
	}
	if (sk_buf_append(norm, s, ll + 1))
		return SK_ELIMIT;
	if (!put_domain(at + 1, n - ll - 1, norm))
		return bad(err, "an e-mail address", s, n);
	return SK_OK;
}

static sk_err check_hash(sk_feed_kind k, const char *s, size_t n, sk_buf *norm, sk_error *err)
{
	static const size_t want[] = {[SK_FK_MD5] = 32, [SK_FK_SHA1] = 40, [SK_FK_SHA256] = 64,
				      [SK_FK_SHA512] = 128};
	if (n != want[k])
		return bad(err, sk_feed_kind_name(k), s, n);
	for (size_t i = 0; i < n; i++)
		if (!is_hex(s[i]))
			return bad(err, sk_feed_kind_name(k), s, n);
	if (sk_buf_reserve(norm, n))
		return SK_ELIMIT;
	for (size_t i = 0; i < n; i++)
		norm->data[norm->len + i] = lower(s[i]);
	norm->len += n;
	norm->data[norm->len] = '\0';
	return SK_OK;
}

sk_err sk_feed_normalise(sk_feed_kind *kind, const char *s, size_t n, sk_buf *norm,
			 sk_error *err)
{
	unsigned char a[16];

	sk_buf_reset(norm);
	switch (*kind) {
	case SK_FK_DOMAIN:
		if (!put_domain(s, n, norm))
			return bad(err, "a domain name", s, n);
		return SK_OK;
	case SK_FK_IPV4:
		if (!parse_ipv4(s, n, a))
			return bad(err, "an IPv4 address", s, n);
		return put_ipv4(norm, a);
	case SK_FK_IPV6:
		if (!parse_ipv6(s, n, a))
			return bad(err, "an IPv6 address", s, n);
		return put_ipv6(norm, a);
	case SK_FK_IPV4_CIDR:
	case SK_FK_IPV6_CIDR:
		return check_cidr(*kind, s, n, norm, err);
	case SK_FK_IPV4_PORT:
	case SK_FK_IPV6_PORT:
	case SK_FK_DOMAIN_PORT:
		return check_port(*kind, s, n, norm, err);
	case SK_FK_URL:
	case SK_FK_URL_PATH:
		return check_url(kind, s, n, norm, err);
	case SK_FK_EMAIL:
		return check_email(s, n, norm, err);
	case SK_FK_MD5:
	case SK_FK_SHA1:
	case SK_FK_SHA256:
	case SK_FK_SHA512:
		return check_hash(*kind, s, n, norm, err);
	case SK_FK_DOMAIN_REGEX:
	case SK_FK_URL_REGEX:
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return bad(err, "a regular expression (control character)", s, n);
		if (n == 0)
			return sk_error_set(err, SK_EINVAL, "empty regular expression");
		return sk_buf_append(norm, s, n) ? sk_error_set(err, SK_ELIMIT, "value too long")
						 : SK_OK;
	default:
		return sk_error_set(err, SK_EINVAL, "unknown indicator kind");
	}
}

sk_err sk_feed_classify(const char *s, size_t n, sk_feed_kind *kind, sk_buf *norm,
			sk_error *err)
{
	unsigned char a[16];
	size_t sl, hexn = 0;
	const char *slash, *colon;
	sk_feed_kind k;

	sk_buf_reset(norm);
	if (n == 0)
		return sk_error_set(err, SK_EINVAL, "empty value");
	if (scheme_len(s, n, &sl)) {
		k = SK_FK_URL;
		goto check;
	}
	if (memchr(s, '@', n)) {
		k = SK_FK_EMAIL;
		goto check;
	}
	while (hexn < n && is_hex(s[hexn]))
		hexn++;
	if (hexn == n && (n == 32 || n == 40 || n == 64 || n == 128)) {
		k = n == 32 ? SK_FK_MD5 : n == 40 ? SK_FK_SHA1 : n == 64 ? SK_FK_SHA256 : SK_FK_SHA512;
		goto check;
	}
	slash = memchr(s, '/', n);
	colon = memchr(s, ':', n);
	if (slash) {
		/* a CIDR, or host/path */
		if (parse_ipv4(s, (size_t)(slash - s), a)) {
			bool digits = slash + 1 < s + n;
			for (const char *p = slash + 1; p < s + n; p++)
				digits = digits && is_digit(*p);
			k = digits ? SK_FK_IPV4_CIDR : SK_FK_URL;
		} else if (colon && colon < slash && parse_ipv6(s, (size_t)(slash - s), a)) {
			k = SK_FK_IPV6_CIDR;
		} else {
			k = SK_FK_URL;
		}
		goto check;
	}
	if (parse_ipv4(s, n, a)) {
		*kind = SK_FK_IPV4;
		return put_ipv4(norm, a);
	}
	if (parse_ipv6(s, n, a)) {
		*kind = SK_FK_IPV6;
		return put_ipv6(norm, a);
	}
	if (s[0] == '[') {
		k = SK_FK_IPV6_PORT;
		goto check;
	}
	if (colon) {
		const char *c2 = memchr(colon + 1, ':', n - (size_t)(colon + 1 - s));
		if (c2)
			return bad(err, "a recognised indicator", s, n);
		k = parse_ipv4(s, (size_t)(colon - s), a) ? SK_FK_IPV4_PORT : SK_FK_DOMAIN_PORT;
		goto check;
	}
	k = SK_FK_DOMAIN;
	if (!put_domain(s, n, norm))
		return bad(err, "a recognised indicator (IP, CIDR, domain, URL, e-mail, hash)", s,
			   n);
	*kind = k;
	return SK_OK;
check:
	*kind = k;
	return sk_feed_normalise(kind, s, n, norm, err);
}

/* --- patterns ------------------------------------------------------------ */

/* A STIX pattern string literal: backslash and quote escaped. */
static sk_err put_lit(sk_buf *b, const char *s, size_t n)
{
	sk_err rc = sk_buf_putc(b, '\'');
	size_t start = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (s[i] == '\'' || s[i] == '\\') {
			rc = sk_buf_append(b, s + start, i - start);
			if (!rc)
				rc = sk_buf_putc(b, '\\');
			start = i;
		}
	}
	if (!rc)
		rc = sk_buf_append(b, s + start, n - start);
	if (!rc)
		rc = sk_buf_putc(b, '\'');
	return rc;
}

/* Regex-escape a literal path for a MATCHES pattern. */
static sk_err put_re_literal(sk_buf *b, const char *s, size_t n)
{
	sk_err rc = SK_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		if (strchr(".^$*+?()[]{}|\\", s[i]) && s[i])
			rc = sk_buf_putc(b, '\\');
		if (!rc)
			rc = sk_buf_putc(b, s[i]);
	}
	return rc;
}

static sk_err put_traffic(sk_buf *b, const char *type, const char *s, size_t n)
{
	const char *colon = s + n;
	sk_err rc;
	while (colon > s && colon[-1] != ':')
		colon--;
	if (colon == s)
		return SK_EINVAL;
	rc = sk_buf_printf(b, "[network-traffic:dst_ref.type = '%s' AND network-traffic:dst_ref.value = ",
			   type);
	if (!rc)
		rc = put_lit(b, s, (size_t)(colon - 1 - s));
	if (!rc)
		rc = sk_buf_puts(b, " AND network-traffic:dst_port = ");
	if (!rc)
		rc = sk_buf_append(b, colon, (size_t)(s + n - colon));
	if (!rc)
		rc = sk_buf_putc(b, ']');
	return rc;
}

sk_err sk_feed_pattern(sk_feed_kind k, const char *s, size_t n, sk_buf *b)
{
	static const char *const prefix[SK_FK__COUNT] = {
	    [SK_FK_DOMAIN] = "[domain-name:value = ",
	    [SK_FK_IPV4] = "[ipv4-addr:value = ",
	    [SK_FK_IPV6] = "[ipv6-addr:value = ",
	    [SK_FK_IPV4_CIDR] = "[ipv4-addr:value ISSUBSET ",
	    [SK_FK_IPV6_CIDR] = "[ipv6-addr:value ISSUBSET ",
	    [SK_FK_URL] = "[url:value = ",
	    [SK_FK_URL_PATH] = "[url:value MATCHES ",
	    [SK_FK_EMAIL] = "[email-addr:value = ",
	    [SK_FK_MD5] = "[file:hashes.'MD5' = ",
	    [SK_FK_SHA1] = "[file:hashes.'SHA-1' = ",
	    [SK_FK_SHA256] = "[file:hashes.'SHA-256' = ",
	    [SK_FK_SHA512] = "[file:hashes.'SHA-512' = ",
	    [SK_FK_DOMAIN_REGEX] = "[domain-name:value MATCHES ",
	    [SK_FK_URL_REGEX] = "[url:value MATCHES ",
	};
	sk_err rc;

	switch (k) {
	case SK_FK_IPV4_PORT:
		return put_traffic(b, "ipv4-addr", s, n);
	case SK_FK_IPV6_PORT:
		return put_traffic(b, "ipv6-addr", s, n);
	case SK_FK_DOMAIN_PORT:
		return put_traffic(b, "domain-name", s, n);
	case SK_FK_URL_PATH: {
		/* any scheme and host, then this path (a prefix match) */
		sk_buf re;
		sk_buf_init(&re, b->cap);
		rc = sk_buf_puts(b, prefix[k]);
		if (!rc)
			rc = sk_buf_puts(&re, "^[a-z][a-z0-9+.-]*://[^/]+");
		if (!rc)
			rc = put_re_literal(&re, s, n);
		if (!rc)
			rc = put_lit(b, re.data, re.len);
		sk_buf_free(&re);
		return rc ? rc : sk_buf_putc(b, ']');
	}
	default:
		if ((unsigned)k >= SK_FK__COUNT || !prefix[k])
			return SK_EINVAL;
		rc = sk_buf_puts(b, prefix[k]);
		if (!rc)
			rc = put_lit(b, s, n);
		if (!rc)
			rc = sk_buf_putc(b, ']');
		return rc;
	}
}

/* --- kind names in feeds (feed_int.h) ------------------------------------------- */

/* maltrail kinds to ours; "other" (and unknown) = detect */
bool sk_feed_maltrail_kind(const char *s, size_t n, sk_feed_kind *k, bool *detect)
{
	static const struct {
		const char *name;
		sk_feed_kind k;
	} map[] = {{"domain", SK_FK_DOMAIN},	     {"ipv4", SK_FK_IPV4},
		   {"ipv6", SK_FK_IPV6},	     {"ipv4_cidr", SK_FK_IPV4_CIDR},
		   {"ipv6_cidr", SK_FK_IPV6_CIDR},   {"ipv4_port", SK_FK_IPV4_PORT},
		   {"ipv6_port", SK_FK_IPV6_PORT},   {"domain_port", SK_FK_DOMAIN_PORT},
		   {"url", SK_FK_URL},		     {"url_path", SK_FK_URL_PATH},
		   {"email", SK_FK_EMAIL},	     {"md5", SK_FK_MD5},
		   {"sha1", SK_FK_SHA1},	     {"sha256", SK_FK_SHA256},
		   {"sha512", SK_FK_SHA512},	     {"regex", SK_FK_DOMAIN_REGEX},
		   {"domain_regex", SK_FK_DOMAIN_REGEX}, {"url_regex", SK_FK_URL_REGEX}};
	*detect = false;
	if (n == 0 || (n == 5 && !strncasecmp(s, "other", 5))) {
		*detect = true;
		return true;
	}
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strlen(map[i].name) == n && !strncasecmp(s, map[i].name, n)) {
			*k = map[i].k;
			return true;
		}
	}
	return false;
}


unsigned sk_feed_kind_family(sk_feed_kind k)
{
	switch (k) {
	case SK_FK_IPV4: case SK_FK_IPV6: case SK_FK_IPV4_CIDR: case SK_FK_IPV6_CIDR:
	case SK_FK_IPV4_PORT: case SK_FK_IPV6_PORT:
		return FAM_IP;
	case SK_FK_DOMAIN: case SK_FK_DOMAIN_PORT:
		return FAM_DOMAIN;
	case SK_FK_URL: case SK_FK_URL_PATH:
		return FAM_URL;
	case SK_FK_MD5: case SK_FK_SHA1: case SK_FK_SHA256: case SK_FK_SHA512:
		return FAM_HASH;
	case SK_FK_EMAIL:
		return FAM_EMAIL;
	default:
		return 0;
	}
}

/*
 * A kind name that says only the family ("ip", MISP's "ip-dst", "hostname",
 * "hash"...): the value's kind is detected, then must be of that family.
 */
bool sk_feed_generic_kind(const char *s, size_t n, unsigned *family)
{
	static const struct {
		const char *name;
		unsigned fam;
	} map[] = {{"ip", FAM_IP},	   {"ip-src", FAM_IP},	  {"ip-dst", FAM_IP},
		   {"ip_address", FAM_IP}, {"ipaddress", FAM_IP}, {"ip-address", FAM_IP},
		   {"hostname", FAM_DOMAIN}, {"host", FAM_DOMAIN}, {"fqdn", FAM_DOMAIN},
		   {"uri", FAM_URL},	   {"link", FAM_URL},	  {"hash", FAM_HASH},
		   {"filehash", FAM_HASH}, {"email-src", FAM_EMAIL}, {"email-dst", FAM_EMAIL},
		   {"e-mail", FAM_EMAIL}};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strlen(map[i].name) == n && !strncasecmp(s, map[i].name, n)) {
			*family = map[i].fam;
			return true;
		}
	}
	return false;
}

/* --- csv records (feed.c) ---------------------------------------------- */

size_t sk_feed_trim(const char **s, size_t n)
{
	while (n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		n--;
	}
	while (n && ((*s)[n - 1] == ' ' || (*s)[n - 1] == '\t' || (*s)[n - 1] == '\r'))
		n--;
	return n;
}

/*
 * Split one CSV record in place (RFC 4180 quoting, "" inside quotes; the
 * quotes are removed and the field text moved left).  Returns the number of
 * fields, or -1 if a quote is unterminated or stray.
 */
int sk_feed_csv_split(char *s, size_t n, const char **f, size_t *fl, int max)
{
	int k = 0;
	size_t i = 0;
	for (;;) {
		size_t o = i;
		char *start = s + i;
		if (k == max)
			return -1;
		if (i < n && s[i] == '"') {
			i++;
			for (;;) {
				if (i >= n)
					return -1;
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"') {
						s[o++] = '"';
						i += 2;
						continue;
					}
					i++;
					break;
				}
				s[o++] = s[i++];
			}
			if (i < n && s[i] != ',')
				return -1;
		} else {
			while (i < n && s[i] != ',') {
				if (s[i] == '"')
					return -1;
				i++;
			}
			o = i;
		}
		f[k] = start;
		fl[k] = sk_feed_trim(&f[k], (size_t)(s + o - start));
		k++;
		if (i >= n)
			return k;
		i++; /* the comma */
	}
}

int sk_feed_col_find(const char **h, const size_t *hl, int nh, const char *name, size_t n)
{
	char *end;
	long v;
	char tmp[16];
	if (n && n < sizeof(tmp)) {
		memcpy(tmp, name, n);
		tmp[n] = '\0';
		v = strtol(tmp, &end, 10);
		if (*end == '\0' && v >= 1 && v <= nh)
			return (int)v - 1;
	}
	for (int i = 0; i < nh; i++)
		if (hl[i] == n && !strncasecmp(h[i], name, n))
			return i;
	return -1;
}

int sk_feed_col_guess(const char **h, const size_t *hl, int nh, const char *const *names)
{
	for (size_t j = 0; names[j]; j++) {
		int i = sk_feed_col_find(h, hl, nh, names[j], strlen(names[j]));
		if (i >= 0)
			return i;
	}
	return -1;
}
