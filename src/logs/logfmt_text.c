/*
 * logfmt_text.c - indicators in free text (a proxy log, an incident e-mail):
 * URLs (http, https, ftp), e-mail addresses, IPv4 (octets checked), IPv6,
 * MD5/SHA-1/SHA-256/SHA-512 hex strings and domain names whose suffix is in
 * the Public Suffix List (or, without the list, looks like a TLD).
 *
 * Each line is cut into tokens at white space, quotes and brackets; a token
 * holding "scheme://" is a URL (its host is reported too); other tokens are
 * cut further at '/', '=', '\\' and, unless they are IPv6 addresses, ':'.
 * Defanged forms (hxxp, [.]) are not recognised.
 */
#include "logfmt.h"

#include <string.h>
#include <strings.h>

/* memmem is a GNU extension; the project builds with _DEFAULT_SOURCE only. */
static const char *find_str(const char *s, size_t n, const char *pat, size_t pn)
{
	if (pn == 0 || n < pn)
		return NULL;
	for (const char *p = s, *last = s + n - pn; p <= last; p++) {
		p = memchr(p, pat[0], (size_t)(last - p) + 1);
		if (!p)
			return NULL;
		if (memcmp(p, pat, pn) == 0)
			return p;
	}
	return NULL;
}

static const char F_TEXT[] = "text";

static bool is_delim(unsigned char c)
{
	switch (c) {
	case ' ':
	case '\t':
	case '\v':
	case '\f':
	case '"':
	case '\'':
	case '<':
	case '>':
	case '(':
	case ')':
	case '[':
	case ']':
	case '{':
	case '}':
	case ',':
	case ';':
	case '|':
	case '`':
		return true;
	default:
		return c < 0x20 || c == 0x7f;
	}
}

static bool trail_punct(unsigned char c)
{
	return c == '.' || c == ',' || c == ':' || c == '!' || c == '?' || c == '-' || c == '*';
}

static bool domain_ok(const sk_psl *psl, const char *s, size_t n)
{
	bool listed = false;
	if (n && s[n - 1] == '.')
		n--;
	if (!memchr(s, '.', n) || !sk_obs_is_domain(s, n) || s[0] == '-' || s[0] == '_')
		return false;
	if (sk_psl_suffix_len(psl, s, n, &listed) == 0 || !listed)
		return false;
	return sk_psl_registrable(psl, s, n) >= 0;
}

static bool add_text_host(const sk_psl *psl, sk_logbuild *b, const char *s, size_t n)
{
	if (sk_logrec_add_ip(b, SK_ROLE_NONE, F_TEXT, s, n))
		return true;
	return domain_ok(psl, s, n) && sk_logrec_add_domain(b, SK_ROLE_NONE, F_TEXT, s, n);
}

static bool is_hexstr(const char *s, size_t n)
{
	return (n == 32 || n == 40 || n == 64 || n == 128) && sk_obs_is_hex(s, n);
}

static void piece(const sk_psl *psl, sk_logbuild *b, const char *s, size_t n, int depth)
{
	while (n && (*s == '.' || *s == ':' || *s == '-' || *s == '*' || *s == '#'))
		s++, n--;
	while (n && trail_punct((unsigned char)s[n - 1]))
		n--;
	if (n < 3)
		return;
	const char *at = memchr(s, '@', n);
	const char *colon = memchr(s, ':', n);
	if (at) {
		const char *d = at + 1;
		size_t dn = n - (size_t)(d - s);
		if (!colon && domain_ok(psl, d, dn) &&
		    sk_logrec_add_email(b, SK_ROLE_NONE, F_TEXT, s, n))
			return;
	}
	if (sk_obs_is_ipv4(s, n)) {
		sk_logrec_add(b, SK_OBS_IPV4, SK_ROLE_NONE, F_TEXT, s, n);
		return;
	}
	if (colon) {
		if (memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)) && sk_obs_is_ipv6(s, n)) {
			sk_logrec_add(b, SK_OBS_IPV6, SK_ROLE_NONE, F_TEXT, s, n);
			return;
		}
		if (depth < 2) {
			/* host:port, sha256:..., mailto:a@b */
			const char *p = s, *end = s + n;
			while (p < end) {
				const char *c = memchr(p, ':', (size_t)(end - p));
				const char *e = c ? c : end;
				piece(psl, b, p, (size_t)(e - p), depth + 1);
				p = e + 1;
			}
		}
		return;
	}
	if (is_hexstr(s, n)) {
		sk_logrec_add_hash(b, SK_OBS_NONE, F_TEXT, s, n);
		return;
	}
	if (!at && domain_ok(psl, s, n))
		sk_logrec_add_domain(b, SK_ROLE_NONE, F_TEXT, s, n);
}

/* A URL starting at s (on the scheme); returns its length. */
static size_t url_at(const sk_psl *psl, sk_logbuild *b, const char *s, size_t n)
{
	while (n && (trail_punct((unsigned char)s[n - 1]) || s[n - 1] == '\''))
		n--;
	const char *h = (const char *)memchr(s, ':', n) + 3;
	const char *end = s + n, *he = h;
	while (he < end && *he != '/' && *he != '?' && *he != '#')
		he++;
	if (he == h)
		return n;
	sk_logrec_add_url(b, F_TEXT, s, n);
	/* host: drop userinfo and port */
	const char *at = memchr(h, '@', (size_t)(he - h));
	if (at)
		h = at + 1;
	if (h < he && *h == '[') {
		const char *cl = memchr(h, ']', (size_t)(he - h));
		if (cl)
			sk_logrec_add_ip(b, SK_ROLE_NONE, F_TEXT, h + 1, (size_t)(cl - h - 1));
		return n;
	}
	const char *c = memchr(h, ':', (size_t)(he - h));
	add_text_host(psl, b, h, (size_t)((c ? c : he) - h));
	return n;
}

static const char *find_scheme(const char *s, size_t n)
{
	for (const char *p = s; p + 3 <= s + n;) {
		const char *c = find_str(p, (size_t)(s + n - p), "://", 3);
		if (!c)
			return NULL;
		size_t before = (size_t)(c - s);
		if (before >= 5 && strncasecmp(c - 5, "https", 5) == 0)
			return c - 5;
		if (before >= 4 && strncasecmp(c - 4, "http", 4) == 0)
			return c - 4;
		if (before >= 3 && strncasecmp(c - 3, "ftp", 3) == 0)
			return c - 3;
		p = c + 3;
	}
	return NULL;
}

static void token(const sk_psl *psl, sk_logbuild *b, const char *s, size_t n)
{
	const char *sch = find_scheme(s, n);
	if (sch) {
		url_at(psl, b, sch, n - (size_t)(sch - s));
		n = (size_t)(sch - s); /* what came before, e.g. "url=" */
	}
	const char *p = s, *end = s + n;
	while (p < end) {
		const char *e = p;
		while (e < end && *e != '/' && *e != '=' && *e != '\\')
			e++;
		if (e > p)
			piece(psl, b, p, (size_t)(e - p), 0);
		p = e + 1;
	}
}

int sk_logfmt_text_line(const sk_psl *psl, sk_logbuild *b, const char *s, size_t n,
                        const char **reason)
{
	const char *p = s, *end = s + n;
	(void)reason;
	while (p < end) {
		while (p < end && is_delim((unsigned char)*p))
			p++;
		const char *e = p;
		while (e < end && !is_delim((unsigned char)*e))
			e++;
		if (e > p)
			token(psl, b, p, (size_t)(e - p));
		p = e;
	}
	return LF_RECORD;
}
