/*
 * match_path.c - the object paths a log record provides and how a pattern
 * names them: the path table, the lookup of a parsed path (for the general
 * compiler, match_compile.c), and the direct path, which recognises the
 * feeds' one-comparison patterns in the text itself and indexes their value
 * without the parser.  sk_matcher_add (matcher.c) tries the direct path
 * first.
 */
#include <ctype.h>
#include <string.h>

#include "match_priv.h"

/* --- paths -------------------------------------------------------------- */

#define B(k, r) SK_KR_BIT(SK_OBS_##k, SK_ROLE_##r)
#define A(k) SK_KR_ALL(SK_OBS_##k)
const pathdef sk_match_paths[] = {
    {"ipv4-addr:value", A(IPV4), MV_IP, SK_OBS_IPV4},
    {"ipv6-addr:value", A(IPV6), MV_IP, SK_OBS_IPV6},
    {"network-traffic:src_ref.value", B(IPV4, SRC) | B(IPV6, SRC), MV_IP, SK_OBS_IPV4},
    {"network-traffic:dst_ref.value", B(IPV4, DST) | B(IPV6, DST), MV_IP, SK_OBS_IPV4},
    {"network-traffic:src_ref.type", B(IPV4, SRC) | B(IPV6, SRC), MV_TYPE, SK_OBS_NONE},
    {"network-traffic:dst_ref.type", B(IPV4, DST) | B(IPV6, DST), MV_TYPE, SK_OBS_NONE},
    {"network-traffic:src_port", B(PORT, SRC), MV_PORT, SK_OBS_PORT},
    {"network-traffic:dst_port", B(PORT, DST), MV_PORT, SK_OBS_PORT},
    {"domain-name:value", A(DOMAIN), MV_STR, SK_OBS_DOMAIN},
    {"url:value", A(URL), MV_STR, SK_OBS_URL},
    {"email-addr:value", A(EMAIL), MV_STR, SK_OBS_EMAIL},
    {"email-message:from_ref.value", B(EMAIL, SRC), MV_STR, SK_OBS_EMAIL},
    {"email-message:sender_ref.value", B(EMAIL, SRC), MV_STR, SK_OBS_EMAIL},
    {"email-message:to_refs[*].value", B(EMAIL, DST), MV_STR, SK_OBS_EMAIL},
    {"email-message:cc_refs[*].value", B(EMAIL, DST), MV_STR, SK_OBS_EMAIL},
    {"email-message:bcc_refs[*].value", B(EMAIL, DST), MV_STR, SK_OBS_EMAIL},
    {"file:hashes.MD5", A(MD5), MV_HASH, SK_OBS_MD5},
    {"file:hashes.SHA1", A(SHA1), MV_HASH, SK_OBS_SHA1},
    {"file:hashes.SHA256", A(SHA256), MV_HASH, SK_OBS_SHA256},
    {"file:hashes.SHA512", A(SHA512), MV_HASH, SK_OBS_SHA512},
    {"file:name", A(FILENAME), MV_STR, SK_OBS_FILENAME},
    {"x509-certificate:hashes.SHA1", A(X509_SHA1), MV_HASH, SK_OBS_X509_SHA1},
    {"x509-certificate:hashes.SHA256", A(X509_SHA256), MV_HASH, SK_OBS_X509_SHA256},
    {"x509-certificate:serial_number", A(X509_SERIAL), MV_STR, SK_OBS_X509_SERIAL},
    {"x-ja3:hash", A(JA3), MV_STR, SK_OBS_JA3},
    {"x-ja3s:hash", A(JA3S), MV_STR, SK_OBS_JA3S},
    {"x-ja4:fingerprint", A(JA4), MV_STR, SK_OBS_JA4},
    {"network-traffic:extensions.http-request-ext.request_header.User-Agent", A(USER_AGENT),
     MV_STR, SK_OBS_USER_AGENT},
    /* host telemetry */
    {"process:command_line", A(CMDLINE), MV_STR, SK_OBS_CMDLINE},
    {"process:name", A(PROCESS), MV_STR, SK_OBS_PROCESS},
    {"process:image_ref.name", A(PROCESS), MV_STR, SK_OBS_PROCESS},
    {"process:image_ref.hashes.MD5", A(MD5), MV_HASH, SK_OBS_MD5},
    {"process:image_ref.hashes.SHA1", A(SHA1), MV_HASH, SK_OBS_SHA1},
    {"process:image_ref.hashes.SHA256", A(SHA256), MV_HASH, SK_OBS_SHA256},
    {"windows-registry-key:key", A(REGKEY), MV_STR, SK_OBS_REGKEY},
    {"directory:path", A(DIRECTORY), MV_STR, SK_OBS_DIRECTORY},
    {"file:parent_directory_ref.path", A(DIRECTORY), MV_STR, SK_OBS_DIRECTORY},
    {"mutex:name", A(MUTEX), MV_STR, SK_OBS_MUTEX},
    {"user-account:user_id", A(USER), MV_STR, SK_OBS_USER},
    {"user-account:account_login", A(USER), MV_STR, SK_OBS_USER},
    {"process:parent_ref.name", A(PARENT), MV_STR, SK_OBS_PARENT},
    {"process:parent_ref.image_ref.name", A(PARENT), MV_STR, SK_OBS_PARENT},
    {"process:parent_ref.command_line", A(PARENT_CMDLINE), MV_STR, SK_OBS_PARENT_CMDLINE},
    {"windows-registry-key:values[*].name", A(REGVALUE), MV_STR, SK_OBS_REGVALUE},
    {"windows-registry-key:values.name", A(REGVALUE), MV_STR, SK_OBS_REGVALUE},
};
#undef A
#undef B
const size_t sk_match_npaths = sizeof(sk_match_paths) / sizeof(sk_match_paths[0]);

/* Canonical text of a path: keys unquoted, every index [*], hash names as MD5/SHA1/SHA256. */
static size_t canon_path(const sk_ppath *p, char *out, size_t n)
{
	size_t o = 0;
	bool hashes = false;
#define PUTS(s, l)                                                                                 \
	do {                                                                                       \
		if (o + (l) + 1 > n)                                                               \
			return 0;                                                                  \
		memcpy(out + o, (s), (l));                                                         \
		o += (l);                                                                          \
	} while (0)
	PUTS(p->type, p->typelen);
	PUTS(":", 1);
	for (uint32_t i = 0; i < p->nsteps; i++) {
		const sk_pstep *s = &p->steps[i];
		if (s->kind != SK_PSTEP_KEY) {
			PUTS("[*]", 3);
			continue;
		}
		if (i)
			PUTS(".", 1);
		if (hashes) {
			for (size_t k = 0; k < s->keylen; k++) {
				char c = s->key[k];
				if (c == '-' || c == '_')
					continue;
				c = (char)toupper((unsigned char)c);
				PUTS(&c, 1);
			}
		} else {
			PUTS(s->key, s->keylen);
		}
		hashes = s->keylen == 6 && !memcmp(s->key, "hashes", 6);
	}
#undef PUTS
	out[o] = '\0';
	return o;
}

const pathdef *sk_match_find_path(const sk_ppath *p)
{
	char buf[256];
	if (!canon_path(p, buf, sizeof(buf)))
		return NULL;
	for (size_t i = 0; i < sizeof(sk_match_paths) / sizeof(sk_match_paths[0]); i++)
		if (!strcmp(sk_match_paths[i].path, buf))
			return &sk_match_paths[i];
	return NULL;
}

/* --- the direct path ------------------------------------------------------ */

/*
 * Most indicators are "[type:path = 'value']" (feeds).  Those are compiled
 * without the parser's tree or the matcher's node / leaf / literal records:
 * the value's key goes into the index with the indicator itself as the
 * target, and iref[] remembers the path.  The recogniser below accepts only
 * a strict subset of the grammar (ASCII blanks, plain or quoted keys without
 * escapes, one string literal with at most \\ and \' escapes); anything else,
 * and any literal the direct path cannot take, goes through sk_pattern_parse
 * and the general compiler, so the result is the same either way.
 *
 * The second form is the feeds' URL path: "[url:value MATCHES
 * '^[a-z][a-z0-9+.-]*://[^/]+/LITERAL']" (any scheme and host, then a path
 * starting with the literal).  As a regex it costs Hyperscan minutes for
 * 80,000 of them; as a key (K_UPATH + "/LITERAL") it is one more hash entry,
 * and the scan probes the logged URL's path at the prefix lengths in use.
 */
#define URLPATH_RE "^[a-z][a-z0-9+.-]*://[^/]+/"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

typedef struct fastpat {
	char path[160]; /* canonical */
	char lit[1024]; /* decoded */
	size_t litlen;
	bool matches;
} fastpat;

static bool fast_parse(const char *t, size_t n, fastpat *fp)
{
	size_t i = 0, o = 0;
	bool hashes = false, first = true;

#define BLANKS()                                                                                   \
	while (i < n && is_blank(t[i]))                                                            \
	i++
#define PUT(ch)                                                                                    \
	do {                                                                                       \
		if (o + 2 > sizeof(fp->path))                                                      \
			return false;                                                              \
		fp->path[o++] = (ch);                                                              \
	} while (0)
	BLANKS();
	if (i >= n || t[i++] != '[')
		return false;
	BLANKS();
	if (i >= n || !(t[i] >= 'a' && t[i] <= 'z'))
		return false;
	while (i < n && ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') || t[i] == '-'))
		PUT(t[i++]);
	if (i >= n || t[i++] != ':')
		return false;
	PUT(':');
	for (;;) {
		size_t ks = o;
		if (!first)
			PUT('.');
		first = false;
		ks = o;
		if (i < n && t[i] == '\'') {
			for (i++; i < n && t[i] != '\''; i++) {
				char c = t[i];
				if (c == '\\' || (unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
					return false;
				if (hashes && (c == '-' || c == '_'))
					continue;
				PUT(hashes && c >= 'a' && c <= 'z' ? (char)(c - 32) : c);
			}
			if (i >= n)
				return false;
			i++;
		} else {
			if (i >= n || !((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
					t[i] == '_'))
				return false;
			while (i < n && ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
					 (t[i] >= '0' && t[i] <= '9') || t[i] == '_')) {
				char c = t[i++];
				if (hashes && c == '_')
					continue;
				PUT(hashes && c >= 'a' && c <= 'z' ? (char)(c - 32) : c);
			}
		}
		if (o == ks)
			return false;
		hashes = o - ks == 6 && !memcmp(fp->path + ks, "hashes", 6);
		if (i < n && t[i] == '.') {
			i++;
			continue;
		}
		break;
	}
	fp->path[o] = '\0';
	BLANKS();
	if (i < n && t[i] == '=' && (i + 1 >= n || t[i + 1] != '=')) {
		fp->matches = false;
		i++;
	} else if (i + 8 <= n && !memcmp(t + i, "MATCHES", 7) && is_blank(t[i + 7])) {
		fp->matches = true;
		i += 7;
	} else {
		return false;
	}
	BLANKS();
	if (i >= n || t[i++] != '\'')
		return false;
	o = 0;
	for (; i < n && t[i] != '\''; i++) {
		char c = t[i];
		if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
			return false;
		if (c == '\\') {
			if (i + 1 >= n || (t[i + 1] != '\\' && t[i + 1] != '\''))
				return false;
			c = t[++i];
		}
		if (o + 1 >= sizeof(fp->lit))
			return false;
		fp->lit[o++] = c;
	}
	if (i >= n)
		return false;
	i++;
	BLANKS();
	if (i >= n || t[i++] != ']')
		return false;
	BLANKS();
#undef BLANKS
#undef PUT
	fp->lit[o] = '\0';
	fp->litlen = o;
	return i == n;
}

/*
 * A URL-path regex as the feeds write it: URLPATH_RE then a literal whose
 * regex metacharacters are escaped.  Decodes "/LITERAL" into out; false for
 * any other regex.
 */
static bool urlpath_literal(const char *re, size_t n, char *out, size_t cap, size_t *outlen)
{
	size_t pl = sizeof(URLPATH_RE) - 2, o = 0; /* without the final '/' */
	if (n <= pl || memcmp(re, URLPATH_RE, pl + 1))
		return false;
	for (size_t i = pl; i < n; i++) {
		char c = re[i];
		if (c == '\\') {
			if (i + 1 >= n || !strchr(".^$*+?()[]{}|\\/-", re[i + 1]))
				return false;
			c = re[++i];
		} else if (strchr(".^$*+?()[]{}|", c)) {
			return false;
		}
		if (o + 1 > cap)
			return false;
		out[o++] = c;
	}
	*outlen = o;
	return o > 0;
}

/*
 * 1 = handled (*rc is the result), 0 = not a direct pattern: use the
 * general compiler.
 */
int sk_match_add_direct(sk_matcher *m, const char *text, size_t len, unsigned flags,
			uint32_t *idx, sk_err *rc, sk_error *err)
{
	fastpat fp;
	const pathdef *pd = NULL;
	uint32_t pdi, ind = m->ninds;
	char scratch[MKEY_MAX * 4];
	mleaf l = {.op = SK_PCMP_EQ, .rx = -1};
	mlit v;
	cstate cs = {.m = m};
	sk_plit pl = {.kind = SK_PLIT_STRING};

	if (m->no_fast || len > sizeof(fp.lit) + 200 || !fast_parse(text, len, &fp))
		return 0;
	for (pdi = 0; pdi < sizeof(sk_match_paths) / sizeof(sk_match_paths[0]); pdi++)
		if (!strcmp(sk_match_paths[pdi].path, fp.path)) {
			pd = &sk_match_paths[pdi];
			break;
		}
	if (!pd || pd->vt == MV_PORT || pd->vt == MV_TYPE)
		return 0;
	l.accept = pd->accept;
	l.vt = pd->vt;
	l.kind = pd->kind;
	if (fp.matches) {
		size_t kl;
		uint8_t key[MKEY_MAX];
		if (pd->kind != SK_OBS_URL ||
		    !urlpath_literal(fp.lit, fp.litlen, (char *)key + 1, MKEY_MAX - 1, &kl) ||
		    kl > 255)
			return 0;
		key[0] = K_UPATH;
		if ((*rc = sk_match_grow_iref(m)) ||
		    (*rc = sk_mindex_add(&m->ix, key, kl + 1, MPOST_DIRECT | ind))) {
			sk_error_set(err, *rc, "out of memory building the index");
			return 1;
		}
		m->upath_lens[kl / 64] |= 1ull << (kl % 64);
		goto added;
	}
	l.subdomains = pd->kind == SK_OBS_DOMAIN &&
		       (m->opts.subdomains || (flags & SK_MATCH_SUBDOMAINS));
	pl.str = fp.lit;
	pl.len = fp.litlen;
	if (!sk_match_compile_lit(&cs, &l, &pl, &v, pd->path, scratch, sizeof(scratch)) ||
	    ((pd->vt == MV_STR || pd->vt == MV_HASH) && v.len + 2 > MKEY_MAX))
		return 0; /* the general compiler says why, or evaluates it generically */
	if (m->opts.warninglists && !(flags & SK_MATCH_NO_WARNINGLISTS)) {
		char msg[SK_ERROR_MSG_MAX - 64] = "";
		if (sk_match_wl_listed(m, pd, fp.lit, fp.litlen, msg, sizeof(msg))) {
			m->suppressed++;
			*rc = sk_error_set(err, SK_ESUPPRESSED, "%s", msg);
			return 1;
		}
	}
	if ((*rc = sk_match_grow_iref(m)) ||
	    (*rc = sk_match_index_lit(m, &l, &v, MPOST_DIRECT | ind))) {
		sk_error_set(err, *rc, "out of memory building the index");
		return 1;
	}
added:
	m->iref[ind] = IREF_DIRECT | pdi | (l.subdomains ? IREF_SUB : 0);
	m->ndirect++;
	if (idx)
		*idx = ind;
	m->ninds++;
	*rc = SK_OK;
	return 1;
}

/*
 * The feeds' ip:port form (match_ipport.c) as one direct K_ADDRPORT key.
 * 1 = handled (*rc is the result), 0 = not that form.
 */
int sk_match_add_ipport(sk_matcher *m, const char *text, size_t len, unsigned flags,
			uint32_t *idx, sk_err *rc, sk_error *err)
{
	sk_ipport ip;
	uint8_t key[SK_IPPORT_KEY_MAX];
	const char *vpath;
	uint32_t pdi, ind = m->ninds;
	size_t kl;

	if (m->no_fast || !sk_match_parse_ipport(text, len, &ip))
		return 0;
	vpath = ip.role == SK_ROLE_SRC ? "network-traffic:src_ref.value"
				       : "network-traffic:dst_ref.value";
	for (pdi = 0; strcmp(sk_match_paths[pdi].path, vpath); pdi++)
		;
	if (m->opts.warninglists && !(flags & SK_MATCH_NO_WARNINGLISTS)) {
		char msg[SK_ERROR_MSG_MAX - 64] = "";
		if (sk_match_wl_listed(m, &sk_match_paths[pdi], ip.text, ip.text_len, msg,
				       sizeof(msg))) {
			m->suppressed++;
			*rc = sk_error_set(err, SK_ESUPPRESSED, "%s", msg);
			return 1;
		}
	}
	kl = sk_match_ipport_key(ip.role, ip.addr.addr, ip.addr.fam, ip.port, key);
	if ((*rc = sk_match_grow_iref(m)) ||
	    (ip.addr.fam == 4 && sk_match_mark_ip4(m, &ip.addr, IP4_PORTKEY)) ||
	    (*rc = sk_mindex_add(&m->ix, key, kl, MPOST_DIRECT | ind))) {
		*rc = *rc ? *rc : SK_ENOMEM;
		sk_error_set(err, *rc, "out of memory building the index");
		return 1;
	}
	m->iref[ind] = IREF_DIRECT | pdi;
	m->ndirect++;
	if (idx)
		*idx = ind;
	m->ninds++;
	*rc = SK_OK;
	return 1;
}
