/*
 * logrec.c - observation records: kind names, the STIX path of each kind,
 * value syntax checks and the normalising adders the log parsers share.
 *
 * Values are checked and normalised here, once, so that every format gives
 * the matcher the same shapes (see schakel/logrec.h).  Nothing allocates:
 * rewritten values go to the reader's scratch area, which is sized to hold
 * every rewrite of one maximal line.
 */
#include "logbuild.h"

#include "schakel/hashed.h"

#include <string.h>
#include <strings.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static const char *const kind_names[SK_OBS__COUNT] = {
    [SK_OBS_NONE] = "none",
    [SK_OBS_IPV4] = "ipv4",
    [SK_OBS_IPV6] = "ipv6",
    [SK_OBS_DOMAIN] = "domain",
    [SK_OBS_URL] = "url",
    [SK_OBS_EMAIL] = "email",
    [SK_OBS_MD5] = "md5",
    [SK_OBS_SHA1] = "sha1",
    [SK_OBS_SHA256] = "sha256",
    [SK_OBS_SHA512] = "sha512",
    [SK_OBS_JA3] = "ja3",
    [SK_OBS_JA3S] = "ja3s",
    [SK_OBS_JA4] = "ja4",
    [SK_OBS_X509_SHA1] = "x509-sha1",
    [SK_OBS_X509_SHA256] = "x509-sha256",
    [SK_OBS_X509_SERIAL] = "x509-serial",
    [SK_OBS_PORT] = "port",
    [SK_OBS_USER_AGENT] = "user-agent",
    [SK_OBS_FILENAME] = "filename",
    [SK_OBS_SIGNATURE] = "signature",
    [SK_OBS_CMDLINE] = "cmdline",
    [SK_OBS_PROCESS] = "process",
    [SK_OBS_REGKEY] = "regkey",
    [SK_OBS_DIRECTORY] = "directory",
    [SK_OBS_MUTEX] = "mutex",
    [SK_OBS_USER] = "user",
    [SK_OBS_PARENT] = "parent",
    [SK_OBS_PARENT_CMDLINE] = "parent-cmdline",
    [SK_OBS_REGVALUE] = "regvalue",
    [SK_OBS_PHONE] = "phone",
};

const char *sk_obs_kind_name(sk_obs_kind kind)
{
	return (unsigned)kind < SK_OBS__COUNT ? kind_names[kind] : "?";
}

const char *sk_obs_role_name(sk_obs_role role)
{
	switch (role) {
	case SK_ROLE_SRC:
		return "src";
	case SK_ROLE_DST:
		return "dst";
	default:
		return "none";
	}
}

const char *sk_obs_stix_path(sk_obs_kind kind, sk_obs_role role)
{
	switch (kind) {
	case SK_OBS_IPV4:
	case SK_OBS_IPV6:
		if (role == SK_ROLE_SRC)
			return "network-traffic:src_ref.value";
		if (role == SK_ROLE_DST)
			return "network-traffic:dst_ref.value";
		return kind == SK_OBS_IPV4 ? "ipv4-addr:value" : "ipv6-addr:value";
	case SK_OBS_PORT:
		return role == SK_ROLE_SRC ? "network-traffic:src_port"
		                           : "network-traffic:dst_port";
	case SK_OBS_DOMAIN:
		return "domain-name:value";
	case SK_OBS_URL:
		return "url:value";
	case SK_OBS_EMAIL:
		if (role == SK_ROLE_SRC)
			return "email-message:from_ref.value";
		if (role == SK_ROLE_DST)
			return "email-message:to_refs[*].value";
		return "email-addr:value";
	case SK_OBS_MD5:
		return "file:hashes.'MD5'";
	case SK_OBS_SHA1:
		return "file:hashes.'SHA-1'";
	case SK_OBS_SHA256:
		return "file:hashes.'SHA-256'";
	case SK_OBS_SHA512:
		return "file:hashes.'SHA-512'";
	case SK_OBS_JA3:
		return "x-ja3:hash";
	case SK_OBS_JA3S:
		return "x-ja3s:hash";
	case SK_OBS_JA4:
		return "x-ja4:fingerprint";
	case SK_OBS_X509_SHA1:
		return "x509-certificate:hashes.'SHA-1'";
	case SK_OBS_X509_SHA256:
		return "x509-certificate:hashes.'SHA-256'";
	case SK_OBS_X509_SERIAL:
		return "x509-certificate:serial_number";
	case SK_OBS_USER_AGENT:
		return "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'";
	case SK_OBS_FILENAME:
		return "file:name";
	case SK_OBS_CMDLINE:
		return "process:command_line";
	case SK_OBS_PROCESS:
		return "process:name";
	case SK_OBS_REGKEY:
		return "windows-registry-key:key";
	case SK_OBS_DIRECTORY:
		return "directory:path";
	case SK_OBS_MUTEX:
		return "mutex:name";
	case SK_OBS_USER:
		return "user-account:user_id";
	case SK_OBS_PARENT:
		return "process:parent_ref.name";
	case SK_OBS_PARENT_CMDLINE:
		return "process:parent_ref.command_line";
	case SK_OBS_REGVALUE:
		return "windows-registry-key:values[*].name";
	case SK_OBS_PHONE:
		return "x-schakel-phone:value";
	default:
		return NULL;
	}
}

/*
 * Byte classes: domain-name label byte, uppercase letter, hex digit, decimal
 * digit, dot, and "may appear in a domain name" (label bytes and the dot).
 * ASCII only: every byte >= 0x80 is in no class.
 */
enum { CL_DOM = 1, CL_UP = 2, CL_HEX = 4, CL_DIG = 8, CL_DOT = 16, CL_DN = 32 };
static const uint8_t cls[256] = {
    ['0'] = CL_DOM | CL_HEX | CL_DIG | CL_DN,
    ['1'] = CL_DOM | CL_HEX | CL_DIG | CL_DN,
    ['2'] = CL_DOM | CL_HEX | CL_DIG | CL_DN,
    ['3'] = CL_DOM | CL_HEX | CL_DIG | CL_DN,
    ['4'] = CL_DOM | CL_HEX | CL_DIG | CL_DN,
    ['5'] = CL_DOM | CL_HEX | CL_DIG | CL_DN,
    ['6'] = CL_DOM | CL_HEX | CL_DIG | CL_DN,
    ['7'] = CL_DOM | CL_HEX | CL_DIG | CL_DN,
    ['8'] = CL_DOM | CL_HEX | CL_DIG | CL_DN,
    ['9'] = CL_DOM | CL_HEX | CL_DIG | CL_DN,
    ['A'] = CL_DOM | CL_UP | CL_HEX | CL_DN,
    ['B'] = CL_DOM | CL_UP | CL_HEX | CL_DN,
    ['C'] = CL_DOM | CL_UP | CL_HEX | CL_DN,
    ['D'] = CL_DOM | CL_UP | CL_HEX | CL_DN,
    ['E'] = CL_DOM | CL_UP | CL_HEX | CL_DN,
    ['F'] = CL_DOM | CL_UP | CL_HEX | CL_DN,
    ['G'] = CL_DOM | CL_UP | CL_DN,
    ['H'] = CL_DOM | CL_UP | CL_DN,
    ['I'] = CL_DOM | CL_UP | CL_DN,
    ['J'] = CL_DOM | CL_UP | CL_DN,
    ['K'] = CL_DOM | CL_UP | CL_DN,
    ['L'] = CL_DOM | CL_UP | CL_DN,
    ['M'] = CL_DOM | CL_UP | CL_DN,
    ['N'] = CL_DOM | CL_UP | CL_DN,
    ['O'] = CL_DOM | CL_UP | CL_DN,
    ['P'] = CL_DOM | CL_UP | CL_DN,
    ['Q'] = CL_DOM | CL_UP | CL_DN,
    ['R'] = CL_DOM | CL_UP | CL_DN,
    ['S'] = CL_DOM | CL_UP | CL_DN,
    ['T'] = CL_DOM | CL_UP | CL_DN,
    ['U'] = CL_DOM | CL_UP | CL_DN,
    ['V'] = CL_DOM | CL_UP | CL_DN,
    ['W'] = CL_DOM | CL_UP | CL_DN,
    ['X'] = CL_DOM | CL_UP | CL_DN,
    ['Y'] = CL_DOM | CL_UP | CL_DN,
    ['Z'] = CL_DOM | CL_UP | CL_DN,
    ['a'] = CL_DOM | CL_HEX | CL_DN,
    ['b'] = CL_DOM | CL_HEX | CL_DN,
    ['c'] = CL_DOM | CL_HEX | CL_DN,
    ['d'] = CL_DOM | CL_HEX | CL_DN,
    ['e'] = CL_DOM | CL_HEX | CL_DN,
    ['f'] = CL_DOM | CL_HEX | CL_DN,
    ['g'] = CL_DOM | CL_DN,
    ['h'] = CL_DOM | CL_DN,
    ['i'] = CL_DOM | CL_DN,
    ['j'] = CL_DOM | CL_DN,
    ['k'] = CL_DOM | CL_DN,
    ['l'] = CL_DOM | CL_DN,
    ['m'] = CL_DOM | CL_DN,
    ['n'] = CL_DOM | CL_DN,
    ['o'] = CL_DOM | CL_DN,
    ['p'] = CL_DOM | CL_DN,
    ['q'] = CL_DOM | CL_DN,
    ['r'] = CL_DOM | CL_DN,
    ['s'] = CL_DOM | CL_DN,
    ['t'] = CL_DOM | CL_DN,
    ['u'] = CL_DOM | CL_DN,
    ['v'] = CL_DOM | CL_DN,
    ['w'] = CL_DOM | CL_DN,
    ['x'] = CL_DOM | CL_DN,
    ['y'] = CL_DOM | CL_DN,
    ['z'] = CL_DOM | CL_DN,
    ['-'] = CL_DOM | CL_DN,
    ['_'] = CL_DOM | CL_DN,
    ['.'] = CL_DOT | CL_DN,
};

static inline bool is_hexc(unsigned char c)
{
	return (unsigned)(c - '0') < 10u || (unsigned)((c | 0x20) - 'a') < 6u;
}

static inline bool is_alpha(unsigned char c)
{
	return (unsigned)((c | 0x20) - 'a') < 26u;
}

/*
 * Dotted quad (octets 0..255, no leading zeros) and its value in *a (host
 * order).  Called for every address column of every record, so each octet
 * is read with at most three unrolled digit steps instead of a general loop.
 */
static bool ipv4_val(const char *s, size_t n, uint32_t *a)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t acc = 0;
	size_t i = 0;

	if (n < 7 || n > 15)
		return false;
	for (int part = 0; part < 4; part++) {
		unsigned v, d;
		if (part && (i >= n || p[i++] != '.'))
			return false;
		if (i >= n || (v = (unsigned)p[i] - '0') > 9)
			return false;
		i++;
		if (i < n && (d = (unsigned)p[i] - '0') <= 9) {
			if (v == 0)
				return false; /* leading zero */
			v = v * 10 + d;
			i++;
			if (i < n && (d = (unsigned)p[i] - '0') <= 9) {
				v = v * 10 + d;
				i++;
				if (v > 255)
					return false;
			}
		}
		acc = acc << 8 | v;
	}
	*a = acc;
	return i == n;
}

bool sk_obs_is_ipv4(const char *s, size_t n)
{
	uint32_t a;
	return ipv4_val(s, n, &a);
}

/* Add an IPv4 value with its parsed form. */
static bool add_ip4(sk_logbuild *b, sk_obs_role role, const char *field, const char *v, size_t n,
                    uint32_t a)
{
	if (!sk_logrec_add(b, SK_OBS_IPV4, role, field, v, n))
		return false;
	sk_obs *o = &b->rec->obs[b->rec->n - 1];
	o->flags = SK_OBS_F_IP4;
	o->num = a;
	return true;
}

bool sk_obs_is_ipv6(const char *s, size_t n)
{
	const char *pct = memchr(s, '%', n);
	const unsigned char *p = (const unsigned char *)s, *end;
	int groups = 0;
	bool gap = false;

	if (pct) {
		if ((size_t)(pct - s) + 1 >= n)
			return false;
		n = (size_t)(pct - s);
	}
	if (n < 2 || n > 45)
		return false;
	end = p + n;
	if (p[0] == ':') {
		if (p[1] != ':')
			return false;
		gap = true;
		p += 2;
		if (p == end)
			return true; /* "::" */
	}
	for (;;) {
		const unsigned char *g = p;
		while (p < end && is_hexc(*p) && p - g < 5)
			p++;
		if (p < end && *p == '.') {
			/* embedded IPv4 in the last 32 bits */
			if (groups > 6 || !sk_obs_is_ipv4((const char *)g, (size_t)(end - g)))
				return false;
			groups += 2;
			break;
		}
		if (p == g || p - g > 4)
			return false;
		groups++;
		if (p == end)
			break;
		if (*p != ':')
			return false;
		p++;
		if (p < end && *p == ':') {
			if (gap)
				return false;
			gap = true;
			p++;
			if (p == end)
				break;
		} else if (p == end) {
			return false;
		}
	}
	return gap ? groups < 8 : groups == 8;
}

#if defined(__SSE2__)
/*
 * Names of up to 64 bytes (nearly all of them), 16 bytes at a time: one
 * 64-bit mask each of bad bytes, dots and uppercase letters, then the dot
 * rules as bit tests.  A name of at most 63 bytes cannot hold a label over
 * 63 bytes; one of 64 only if it has no dot.  Signed byte compares put
 * every byte >= 0x80 outside each range.
 */
static bool domain_scan64(const char *s, size_t n, unsigned *upper)
{
	uint64_t bad = 0, dots = 0, up = 0, valid = n == 64 ? ~0ull : (1ull << n) - 1;

	for (size_t i = 0; i < n; i += 16) {
		__m128i v, lo, alpha, digit, dot, ok;
		if (i + 16 <= n) {
			v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		} else {
			char tail[16] = {0};
			memcpy(tail, s + i, n - i);
			v = _mm_loadu_si128((const __m128i *)(const void *)tail);
		}
		lo = _mm_or_si128(v, _mm_set1_epi8(0x20));
		alpha = _mm_and_si128(_mm_cmpgt_epi8(lo, _mm_set1_epi8('a' - 1)),
		                      _mm_cmplt_epi8(lo, _mm_set1_epi8('z' + 1)));
		digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
		                      _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
		dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
		ok = _mm_or_si128(
		    _mm_or_si128(alpha, digit),
		    _mm_or_si128(_mm_or_si128(dot, _mm_cmpeq_epi8(v, _mm_set1_epi8('-'))),
		                 _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))));
		bad |= (uint64_t)(~(unsigned)_mm_movemask_epi8(ok) & 0xFFFFu) << i;
		dots |= (uint64_t)(unsigned)_mm_movemask_epi8(dot) << i;
		up |= (uint64_t)(unsigned)_mm_movemask_epi8(
		          _mm_andnot_si128(_mm_cmpeq_epi8(v, lo), alpha))
		      << i;
	}
	if ((bad & valid) || (dots & 1) || ((dots >> (n - 1)) & 1) || (dots & (dots >> 1)) ||
	    (n == 64 && !dots))
		return false;
	*upper = (up & valid) ? CL_UP : 0;
	return true;
}
#endif

/*
 * Domain syntax; *upper gets CL_UP if any letter is uppercase.  Long names
 * take a byte loop without branches: it ANDs the "may be in a name" bits,
 * ORs the uppercase bits and notes a dot right after a dot (or at the
 * start); then label lengths.
 */
static bool domain_scan(const char *s, size_t n, unsigned *upper)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned all = CL_DN, any = 0, twodots = 0, dot = CL_DOT;
	size_t label = 0;

	if (n == 0 || n > 253)
		return false;
#if defined(__SSE2__)
	if (n <= 64)
		return domain_scan64(s, n, upper);
#endif
	for (size_t i = 0; i < n; i++) {
		unsigned c = cls[p[i]];
		all &= c;
		any |= c;
		twodots |= dot & c;
		dot = c & CL_DOT;
	}
	if (!(all & CL_DN) || twodots || dot)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '.')
			label = 0;
		else if (++label > 63)
			return false;
	*upper = any & CL_UP;
	return true;
}

bool sk_obs_is_domain(const char *s, size_t n)
{
	unsigned up;
	return domain_scan(s, n, &up);
}

bool sk_obs_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(cls[(unsigned char)s[i]] & CL_HEX))
			return false;
	return n > 0;
}

static bool has_scheme(const char *s, size_t n)
{
	static const char *const schemes[] = {"http://", "https://", "ftp://"};
	for (size_t i = 0; i < 3; i++) {
		size_t k = strlen(schemes[i]);
		if (n > k && strncasecmp(s, schemes[i], k) == 0)
			return true;
	}
	return false;
}

static bool looks_email(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	if (!at || at == s)
		return false;
	for (const char *p = s; p < at; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c >= 0x7f || strchr("<>()[],;:\\\"@", c))
			return false;
	}
	size_t dl = n - (size_t)(at + 1 - s);
	return sk_obs_is_domain(at + 1, dl) && memchr(at + 1, '.', dl);
}

sk_obs_kind sk_obs_classify(const char *s, size_t n)
{
	if (n == 0)
		return SK_OBS_NONE;
	if (sk_obs_is_ipv4(s, n))
		return SK_OBS_IPV4;
	if (memchr(s, ':', n) && sk_obs_is_ipv6(s, n))
		return SK_OBS_IPV6;
	if (has_scheme(s, n))
		return SK_OBS_URL;
	if (looks_email(s, n))
		return SK_OBS_EMAIL;
	if (sk_obs_is_hex(s, n)) {
		switch (n) {
		case 32:
			return SK_OBS_MD5;
		case 40:
			return SK_OBS_SHA1;
		case 64:
			return SK_OBS_SHA256;
		case 128:
			return SK_OBS_SHA512;
		default:
			break;
		}
	}
	size_t m = n;
	if (s[m - 1] == '.')
		m--;
	const char *dot = NULL;
	for (size_t i = m; i > 0; i--) {
		if (s[i - 1] == '.') {
			dot = s + i - 1;
			break;
		}
	}
	if (dot && sk_obs_is_domain(s, m)) {
		/* the last label must hold a letter, so 1.2.3.4.5 is no domain */
		for (const char *p = dot + 1; p < s + m; p++)
			if (is_alpha((unsigned char)*p))
				return SK_OBS_DOMAIN;
	}
	return SK_OBS_NONE;
}

/* ---- builder ---- */

void sk_logrec_begin(sk_logbuild *b, const char *line, size_t len, uint64_t lineno, uint64_t offset)
{
	sk_logrec *r = b->rec;
	r->ts_us = 0;
	r->line = lineno;
	r->offset = offset;
	r->raw = line;
	r->raw_len = len;
	r->event = NULL;
	r->event_len = 0;
	r->n = 0;
	r->dropped = 0;
	b->used = 0;
}

char *sk_logrec_reserve(sk_logbuild *b, size_t n)
{
	if (b->cap - b->used < n)
		return NULL;
	char *p = b->scratch + b->used;
	b->used += n;
	return p;
}

char *sk_logrec_scratch(sk_logbuild *b, const char *s, size_t n)
{
	char *p = sk_logrec_reserve(b, n);
	if (!p) {
		b->rec->dropped++;
		return NULL;
	}
	memcpy(p, s, n);
	return p;
}

bool sk_logrec_add(sk_logbuild *b, sk_obs_kind kind, sk_obs_role role, const char *field,
                   const char *v, size_t n)
{
	sk_logrec *r = b->rec;
	if (r->n >= SK_LOGREC_MAX_OBS || n > UINT32_MAX) {
		r->dropped++;
		return false;
	}
	sk_obs *o = &r->obs[r->n++];
	o->v = v;
	o->len = (uint32_t)n;
	o->kind = (uint8_t)kind;
	o->role = (uint8_t)role;
	o->flags = 0;
	o->field = field;
	return true;
}

bool sk_logrec_add_ip(sk_logbuild *b, sk_obs_role role, const char *field, const char *v, size_t n)
{
	uint32_t a;
	if (ipv4_val(v, n, &a))
		return add_ip4(b, role, field, v, n, a);
	/* an IPv6 address has a colon within its first five bytes (an inline test:
	   this runs for every host name in DNS answers) */
	if (n >= 2 &&
	    (v[0] == ':' || v[1] == ':' || (n > 2 && v[2] == ':') || (n > 3 && v[3] == ':') ||
	     (n > 4 && v[4] == ':')) &&
	    sk_obs_is_ipv6(v, n))
		return sk_logrec_add(b, SK_OBS_IPV6, role, field, v, n);
	return false;
}

/* Lowercase copy into scratch when s has an uppercase letter; else s itself. */
static const char *lower(sk_logbuild *b, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (unsigned)((unsigned char)s[i] - 'A') >= 26u)
		i++;
	if (i == n)
		return s;
	char *o = sk_logrec_scratch(b, s, n);
	if (!o)
		return NULL;
	for (; i < n; i++)
		if ((unsigned)((unsigned char)o[i] - 'A') < 26u)
			o[i] = (char)(o[i] | 0x20);
	return o;
}

bool sk_logrec_add_domain(sk_logbuild *b, sk_obs_role role, const char *field, const char *v,
                          size_t n)
{
	unsigned up;
	if (n && v[n - 1] == '.')
		n--;
	if (!domain_scan(v, n, &up))
		return false;
	if (up) {
		char *o = sk_logrec_scratch(b, v, n);
		if (!o)
			return false;
		for (size_t i = 0; i < n; i++)
			o[i] = (char)(o[i] | ((cls[(unsigned char)o[i]] & CL_UP) << 4));
		v = o;
	}
	return sk_logrec_add(b, SK_OBS_DOMAIN, role, field, v, n);
}

bool sk_logrec_add_host(sk_logbuild *b, sk_obs_role role, const char *field, const char *v,
                        size_t n)
{
	if (n && v[0] == '[') {
		/* "[2001:db8::1]:8080" */
		const char *close = memchr(v, ']', n);
		return close && sk_logrec_add_ip(b, role, field, v + 1, (size_t)(close - v - 1));
	}
	if (sk_logrec_add_ip(b, role, field, v, n))
		return true;
	const char *colon = memchr(v, ':', n);
	if (colon) {
		/* name:port or a.b.c.d:port */
		size_t k = (size_t)(colon - v);
		uint32_t a;
		if (ipv4_val(v, k, &a))
			return add_ip4(b, role, field, v, k, a);
		n = k;
	}
	return sk_logrec_add_domain(b, role, field, v, n);
}

bool sk_logrec_add_hash(sk_logbuild *b, sk_obs_kind kind, const char *field, const char *v,
                        size_t n)
{
	const char *h = v;
	if (n && memchr(v, ':', n)) {
		/* colon-separated fingerprint: copy without the colons */
		char *o = sk_logrec_reserve(b, n);
		size_t k = 0;
		if (!o) {
			b->rec->dropped++;
			return false;
		}
		for (size_t i = 0; i < n; i++)
			if (v[i] != ':')
				o[k++] = v[i];
		b->used -= n - k;
		h = o;
		n = k;
	}
	if (!sk_obs_is_hex(h, n))
		return false;
	switch (kind) {
	case SK_OBS_NONE:
		kind = n == 32    ? SK_OBS_MD5
		       : n == 40  ? SK_OBS_SHA1
		       : n == 64  ? SK_OBS_SHA256
		       : n == 128 ? SK_OBS_SHA512
		                  : SK_OBS_NONE;
		break;
	case SK_OBS_X509_SHA1:
	case SK_OBS_X509_SHA256:
		kind = n == 40 ? SK_OBS_X509_SHA1 : n == 64 ? SK_OBS_X509_SHA256 : SK_OBS_NONE;
		break;
	case SK_OBS_MD5:
	case SK_OBS_JA3:
	case SK_OBS_JA3S:
		if (n != 32)
			return false;
		break;
	case SK_OBS_SHA1:
		if (n != 40)
			return false;
		break;
	case SK_OBS_SHA256:
		if (n != 64)
			return false;
		break;
	case SK_OBS_SHA512:
		if (n != 128)
			return false;
		break;
	default:
		break;
	}
	if (kind == SK_OBS_NONE)
		return false;
	if (h == v) {
		h = lower(b, v, n);
		if (!h)
			return false;
	} else {
		for (size_t i = 0; i < n; i++)
			((char *)h)[i] = (char)(h[i] | (is_alpha((unsigned char)h[i]) ? 0x20 : 0));
	}
	return sk_logrec_add(b, kind, SK_ROLE_NONE, field, h, n);
}

/* The length of a tel:, sip: or sips: scheme at v (any case), else 0. */
static size_t phone_scheme(const char *v, size_t n)
{
	if (n > 4 && (!strncasecmp(v, "tel:", 4) || !strncasecmp(v, "sip:", 4)))
		return 4;
	return n > 5 && !strncasecmp(v, "sips:", 5) ? 5 : 0;
}

/* v[0..*n) without a display name and angle brackets ("Name" <x>) and blanks. */
static const char *addr_part(const char *v, size_t *n)
{
	const char *lt = memchr(v, '<', *n);
	if (lt) {
		const char *gt = memchr(lt, '>', *n - (size_t)(lt - v));
		if (!gt)
			return NULL;
		*n = (size_t)(gt - lt - 1);
		v = lt + 1;
	}
	while (*n && (*v == ' ' || *v == '\t')) {
		v++;
		(*n)--;
	}
	while (*n && (v[*n - 1] == ' ' || v[*n - 1] == '\t'))
		(*n)--;
	return v;
}

bool sk_logrec_add_phone(sk_logbuild *b, sk_obs_role role, const char *field, const char *v,
                         size_t n)
{
	char e[SK_HASHED_VALUE_MAX + 1];
	size_t skip, len;
	char *o;

	if (!(v = addr_part(v, &n)))
		return false;
	if ((skip = phone_scheme(v, n))) { /* the user part: up to '@', ';' or '?' */
		v += skip;
		n -= skip;
		for (size_t i = 0; i < n; i++)
			if (v[i] == '@' || v[i] == ';' || v[i] == '?') {
				n = i;
				break;
			}
	}
	if (!(len = sk_hashed_norm(SK_HP_PHONE, v, n, e, sizeof(e))) ||
	    !(o = sk_logrec_scratch(b, e, len)))
		return false;
	return sk_logrec_add(b, SK_OBS_PHONE, role, field, o, len);
}

bool sk_logrec_add_email(sk_logbuild *b, sk_obs_role role, const char *field, const char *v,
                         size_t n)
{
	size_t skip;

	if (!(v = addr_part(v, &n)))
		return false;
	/* a SIP or tel URI (Zeek sip.log From/To): a number is a phone, sip:user@host an address */
	if ((skip = phone_scheme(v, n))) {
		if (sk_logrec_add_phone(b, role, field, v, n))
			return true;
		v += skip;
		n -= skip;
		for (size_t i = 0; i < n; i++)
			if (v[i] == ';' || v[i] == '?') {
				n = i;
				break;
			}
	}
	if (!looks_email(v, n))
		return false;
	const char *at = memchr(v, '@', n);
	size_t local = (size_t)(at + 1 - v);
	bool upper = false;
	for (size_t i = local; i < n; i++)
		upper |= (unsigned)((unsigned char)v[i] - 'A') < 26u;
	if (upper) {
		char *o = sk_logrec_scratch(b, v, n);
		if (!o)
			return false;
		for (size_t i = local; i < n; i++)
			if ((unsigned)((unsigned char)o[i] - 'A') < 26u)
				o[i] = (char)(o[i] | 0x20);
		v = o;
	}
	return sk_logrec_add(b, SK_OBS_EMAIL, role, field, v, n);
}

bool sk_logrec_add_url(sk_logbuild *b, const char *field, const char *v, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
			return false;
	return sk_logrec_add(b, SK_OBS_URL, SK_ROLE_NONE, field, v, n);
}

bool sk_logrec_add_url_parts(sk_logbuild *b, const char *field, const char *host, size_t hn,
                             const char *path, size_t pn)
{
	if (phone_scheme(path, pn)) /* a SIP request URI (Zeek sip.log): the number called */
		return sk_logrec_add_phone(b, SK_ROLE_DST, field, path, pn);
	if (has_scheme(path, pn))
		return sk_logrec_add_url(b, field, path, pn);
	if (hn == 0)
		return false;
	bool slash = pn && path[0] == '/';
	size_t total = 7 + hn + (slash ? 0 : 1) + pn;
	char *o = sk_logrec_reserve(b, total);
	if (!o) {
		b->rec->dropped++;
		return false;
	}
	memcpy(o, "http://", 7);
	memcpy(o + 7, host, hn);
	size_t k = 7 + hn;
	if (!slash)
		o[k++] = '/';
	memcpy(o + k, path, pn);
	if (!sk_logrec_add_url(b, field, o, total)) {
		b->used -= total;
		return false;
	}
	return true;
}

bool sk_logrec_add_port(sk_logbuild *b, sk_obs_role role, const char *field, const char *v,
                        size_t n)
{
	unsigned x = 0;
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!sk_logrec_digit((unsigned char)v[i]))
			return false;
		x = x * 10 + (unsigned)(v[i] - '0');
	}
	if (x > 65535)
		return false;
	return sk_logrec_add(b, SK_OBS_PORT, role, field, v, n);
}

bool sk_logrec_add_auto(sk_logbuild *b, sk_obs_role role, const char *field, const char *v,
                        size_t n)
{
	switch (sk_obs_classify(v, n)) {
	case SK_OBS_IPV4:
		return sk_logrec_add(b, SK_OBS_IPV4, role, field, v, n);
	case SK_OBS_IPV6:
		return sk_logrec_add(b, SK_OBS_IPV6, role, field, v, n);
	case SK_OBS_URL:
		return sk_logrec_add_url(b, field, v, n);
	case SK_OBS_EMAIL:
		return sk_logrec_add_email(b, role, field, v, n);
	case SK_OBS_MD5:
	case SK_OBS_SHA1:
	case SK_OBS_SHA256:
	case SK_OBS_SHA512:
		return sk_logrec_add_hash(b, SK_OBS_NONE, field, v, n);
	case SK_OBS_DOMAIN:
		return sk_logrec_add_domain(b, role, field, v, n);
	default:
		return false;
	}
}
