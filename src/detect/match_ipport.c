/*
 * match_ipport.c - recognise the address-and-port pattern feeds write for
 * "ip:port" entries, so the matcher can index it as one key instead of
 * compiling a comparison tree for each of them (maltrail alone has about
 * 280,000):
 *
 *   [network-traffic:dst_ref.type = 'ipv4-addr' AND
 *    network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]
 *
 * The comparisons may come in any order and the type one may be left out;
 * all must be '=' on the same side (src or dst), with exactly one address
 * (a single address, not a range) and one port.  Anything else is left to
 * the general compiler, which gives the same answers more slowly.
 */
#include <string.h>

#include "match_priv.h"

static void blanks(const char *t, size_t n, size_t *i)
{
	while (*i < n && (t[*i] == ' ' || t[*i] == '\t' || t[*i] == '\n' || t[*i] == '\r'))
		(*i)++;
}

static bool word(const char *t, size_t n, size_t *i, const char *w)
{
	size_t l = strlen(w);
	if (*i + l > n || memcmp(t + *i, w, l))
		return false;
	*i += l;
	return true;
}

/* blanks '=' (not '==') blanks */
static bool equals(const char *t, size_t n, size_t *i)
{
	blanks(t, n, i);
	if (*i >= n || t[*i] != '=' || (*i + 1 < n && t[*i + 1] == '='))
		return false;
	(*i)++;
	blanks(t, n, i);
	return true;
}

/* A quoted string without escapes: its bytes in [*s, *s + *sl). */
static bool quoted(const char *t, size_t n, size_t *i, const char **s, size_t *sl)
{
	size_t j;
	if (*i >= n || t[*i] != '\'')
		return false;
	for (j = *i + 1; j < n && t[j] != '\''; j++)
		if (t[j] == '\\')
			return false;
	if (j >= n)
		return false;
	*s = t + *i + 1;
	*sl = j - *i - 1;
	*i = j + 1;
	return true;
}

bool sk_match_parse_ipport(const char *t, size_t n, sk_ipport *out)
{
	size_t i = 0;
	int type_fam = 0;
	bool have_addr = false, have_port = false;

	memset(out, 0, sizeof(*out));
	blanks(t, n, &i);
	if (!word(t, n, &i, "["))
		return false;
	for (;;) {
		int role;
		const char *s;
		size_t sl;

		blanks(t, n, &i);
		if (!word(t, n, &i, "network-traffic:"))
			return false;
		if (word(t, n, &i, "src_"))
			role = SK_ROLE_SRC;
		else if (word(t, n, &i, "dst_"))
			role = SK_ROLE_DST;
		else
			return false;
		if (out->role && out->role != role)
			return false;
		out->role = role;
		if (word(t, n, &i, "ref.type")) {
			if (!equals(t, n, &i) || !quoted(t, n, &i, &s, &sl) || type_fam)
				return false;
			if (sl == 9 && !memcmp(s, "ipv4-addr", 9))
				type_fam = 4;
			else if (sl == 9 && !memcmp(s, "ipv6-addr", 9))
				type_fam = 6;
			else
				return false;
		} else if (word(t, n, &i, "ref.value")) {
			if (!equals(t, n, &i) || !quoted(t, n, &i, &s, &sl) || have_addr ||
			    memchr(s, '/', sl) || !sk_match_parse_ip(s, sl, false, &out->addr))
				return false;
			have_addr = true;
			out->text = s;
			out->text_len = sl;
		} else if (word(t, n, &i, "port")) {
			unsigned p = 0, digits = 0;
			if (!equals(t, n, &i) || have_port)
				return false;
			while (i < n && t[i] >= '0' && t[i] <= '9' && digits < 6) {
				p = p * 10 + (unsigned)(t[i++] - '0');
				digits++;
			}
			/* the grammar's integers have no leading zeros (0886 is not one) */
			if (!digits || p > 65535 || (digits > 1 && t[i - digits] == '0'))
				return false;
			out->port = (uint16_t)p;
			have_port = true;
		} else {
			return false;
		}
		blanks(t, n, &i);
		if (i < n && t[i] == ']') {
			i++;
			break;
		}
		if (!word(t, n, &i, "AND") || i >= n || (t[i] != ' ' && t[i] != '\t'))
			return false;
	}
	blanks(t, n, &i);
	return i == n && have_addr && have_port && (!type_fam || type_fam == out->addr.fam);
}

size_t sk_match_ipport_key(int role, const uint8_t *addr, int fam, unsigned port,
			   uint8_t key[SK_IPPORT_KEY_MAX])
{
	size_t al = fam == 4 ? 4 : 16;
	key[0] = K_ADDRPORT;
	key[1] = (uint8_t)role;
	memcpy(key + 2, addr, al);
	key[2 + al] = (uint8_t)(port >> 8);
	key[3 + al] = (uint8_t)port;
	return 4 + al;
}
