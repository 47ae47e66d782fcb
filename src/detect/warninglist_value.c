/*
 * warninglist_value.c - values as the warning lists compare them: the kind
 * of a value, its normal form (lowercase, no trailing dot, canonical IPv6)
 * and the address and prefix length in an IP or CIDR entry.  Shared by the
 * importer, which stores entries normalised, and by the lookups.
 */
#include "schakel/warninglist.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "warninglist_priv.h"

static const char *const wl_kind_names[SK_WL__COUNT] = {"ip",	 "domain", "url",
							"email", "hash",   "other"};

const char *sk_wl_kind_name(sk_wl_kind k)
{
	return (unsigned)k < SK_WL__COUNT ? wl_kind_names[k] : "unknown";
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Lowercase s, drop one trailing dot (and for hostnames a leading "*." or "."). */
size_t sk_wl_norm_value(const char *s, size_t n, bool hostname, char *out, size_t outsz)
{
	if (hostname) {
		if (n >= 2 && s[0] == '*' && s[1] == '.') {
			s += 2;
			n -= 2;
		} else if (n >= 1 && s[0] == '.') {
			s++;
			n--;
		}
	}
	if (n && s[n - 1] == '.')
		n--;
	if (n >= outsz)
		return 0;
	for (size_t i = 0; i < n; i++)
		out[i] = lower(s[i]);
	out[n] = '\0';
	return n;
}

/* Could s[0..n) be an address for inet_pton (hex digits, ':' and '.' only)? */
static bool ip_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		      c == ':' || c == '.'))
			return false;
	}
	return true;
}

/* Parse "addr" or "addr/plen" (v4 or v6).  fam 4 or 6. */
bool sk_wl_parse_cidr(const char *s, int *fam, unsigned char addr[16], unsigned *plen)
{
	char tmp[80];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;

	/* skip inet_pton for host names */
	if (n == 0 || n >= sizeof(tmp) || !ip_chars(s, n))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, addr) == 1) {
		*fam = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, tmp, addr) == 1) {
		*fam = 6;
		max = 128;
	} else {
		return false;
	}
	*plen = max;
	if (slash) {
		char *end;
		long v = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || v < 0 || v > (long)max)
			return false;
		*plen = (unsigned)v;
	}
	return true;
}

void sk_wl_mask(unsigned char *a, size_t len, unsigned plen)
{
	for (size_t i = 0; i < len; i++) {
		unsigned keep = plen >= 8 * (i + 1) ? 8 : plen > 8 * i ? plen - 8 * (unsigned)i : 0;
		a[i] &= (unsigned char)(0xff00u >> keep);
	}
}

/* Canonical text of an IPv6 address value, so "2001:DB8::1" equals "2001:db8:0::1". */
size_t sk_wl_canon_ip(char *v, size_t n, size_t cap)
{
	unsigned char a[16];
	char tmp[INET6_ADDRSTRLEN];
	if (!memchr(v, ':', n) || inet_pton(AF_INET6, v, a) != 1 ||
	    !inet_ntop(AF_INET6, a, tmp, sizeof(tmp)) || strlen(tmp) >= cap)
		return n;
	strcpy(v, tmp);
	return strlen(tmp);
}

sk_wl_kind sk_wl_kind_of(const char *v)
{
	unsigned char a[16];
	unsigned plen;
	int fam;
	size_t n = strlen(v), hex = 0;

	if (sk_wl_parse_cidr(v, &fam, a, &plen))
		return SK_WL_IP;
	if (strstr(v, "://"))
		return SK_WL_URL;
	if (strchr(v, '@'))
		return SK_WL_EMAIL;
	while (hex < n && strchr("0123456789abcdefABCDEF", v[hex]))
		hex++;
	if (hex == n && (n == 32 || n == 40 || n == 56 || n == 64 || n == 128))
		return SK_WL_HASH;
	if (n && strchr(v, '.') && !strchr(v, ' ') && !strchr(v, '/'))
		return SK_WL_DOMAIN;
	return SK_WL_OTHER;
}
