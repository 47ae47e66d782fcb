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
 *
 * A line's time, when it has one, becomes the record's (so hits and
 * sightings carry when the line was written, not when it was read): an
 * ISO 8601 / RFC 3339 time at the start of the line (also after a syslog
 * RFC 5424 "<PRI>1 " and with a ',' before the fraction, as log4j writes
 * it; without a zone it is UTC), a squid epoch ("1704067200.123") at the
 * start, a BSD syslog time ("Oct  1 13:55:36", the year the latest not in
 * the future), or the Apache/nginx common log time in brackets
 * ("[10/Oct/2000:13:55:36 -0700]") anywhere in the line.
 */
#include "logfmt.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

/* --- the line's time ---------------------------------------------------------------- */

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int month_of(const char *s)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	for (int m = 0; m < 12; m++)
		if (!strncmp(s, names + 3 * m, 3))
			return m + 1;
	return 0;
}

/* An ISO 8601 time at the start of s into *us, or false. */
static bool iso_at(const char *s, size_t n, int64_t *us)
{
	char buf[40];
	size_t i = 19;
	if (n < 19 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2) || (s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2) ||
	    s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
		return false;
	memcpy(buf, s, 19);
	if (i < n && (s[i] == '.' || s[i] == ',') && i + 1 < n && digits(s + i + 1, 1)) {
		buf[i] = '.';
		for (i++; i < n && i < 29 && s[i] >= '0' && s[i] <= '9'; i++)
			buf[i] = s[i];
	}
	size_t len = i;
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		buf[len++] = 'Z';
	} else if (i + 2 < n && (s[i] == '+' || s[i] == '-') && digits(s + i + 1, 2)) {
		size_t z = 3;
		if (i + 5 < n + 0 && s[i + 3] == ':' && digits(s + i + 4, 2))
			z = 6;
		else if (i + 4 < n + 0 && digits(s + i + 3, 2))
			z = 5;
		memcpy(buf + len, s + i, z);
		len += z;
	}
	return sk_logts_rfc3339(buf, len, us);
}

/* "Oct  1 13:55:36": the latest such time not more than a day ahead of now. */
static bool syslog_at(const char *s, size_t n, int64_t *us)
{
	char buf[32];
	int m, day;
	if (n < 15 || !(m = month_of(s)) || s[3] != ' ' || s[6] != ' ' ||
	    !(s[4] == ' ' || digits(s + 4, 1)) || !digits(s + 5, 1) || !digits(s + 7, 2) ||
	    s[9] != ':' || !digits(s + 10, 2) || s[12] != ':' || !digits(s + 13, 2))
		return false;
	day = (s[4] == ' ' ? 0 : (s[4] - '0') * 10) + (s[5] - '0');
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	for (int year = tm.tm_year + 1900; year >= tm.tm_year + 1899; year--) {
		snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%.8sZ", year, m, day, s + 7);
		if (sk_logts_rfc3339(buf, strlen(buf), us) &&
		    *us <= ((int64_t)now + 86400) * 1000000)
			return true;
	}
	return false;
}

/* "[10/Oct/2000:13:55:36 -0700]" somewhere in the line. */
static bool clf_in(const char *s, size_t n, int64_t *us)
{
	char buf[40];
	for (const char *p = s, *end = s + n; (p = memchr(p, '[', (size_t)(end - p))); p++) {
		int m;
		if (end - p < 28 || !digits(p + 1, 2) || p[3] != '/' || !(m = month_of(p + 4)) ||
		    p[7] != '/' || !digits(p + 8, 4) || p[12] != ':' || !digits(p + 13, 2) ||
		    p[15] != ':' || !digits(p + 16, 2) || p[18] != ':' || !digits(p + 19, 2) ||
		    p[21] != ' ' || (p[22] != '+' && p[22] != '-') || !digits(p + 23, 4) ||
		    p[27] != ']')
			continue;
		snprintf(buf, sizeof(buf), "%.4s-%02d-%.2sT%.8s%.5s", p + 8, m, p + 1, p + 13,
		         p + 22);
		if (sk_logts_rfc3339(buf, strlen(buf), us))
			return true;
	}
	return false;
}

/* The time a line carries, or 0. */
static int64_t line_time(const char *s, size_t n)
{
	int64_t us = 0;
	const char *p = s;
	if (n && *p == '<') { /* RFC 5424: "<PRI>1 TIMESTAMP" */
		const char *gt = memchr(p, '>', n < 6 ? n : 6);
		if (gt && gt + 3 < s + n && gt[1] == '1' && gt[2] == ' ')
			p = gt + 3;
	}
	size_t rest = (size_t)(s + n - p);
	if (iso_at(p, rest, &us) || syslog_at(p, rest, &us))
		return us;
	/* squid: seconds with milliseconds at the start */
	size_t i = 0;
	while (i < rest && p[i] >= '0' && p[i] <= '9')
		i++;
	if (i >= 9 && i <= 10 && i + 4 <= rest && p[i] == '.' && digits(p + i + 1, 3) &&
	    (i + 4 == rest || p[i + 4] == ' ') && sk_logts_epoch(p, i + 4, &us))
		return us;
	return clf_in(s, n, &us) ? us : 0;
}

int sk_logfmt_text_line(const sk_psl *psl, sk_logbuild *b, const char *s, size_t n,
                        const char **reason)
{
	const char *p = s, *end = s + n;
	(void)reason;
	b->rec->ts_us = line_time(s, n);
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
