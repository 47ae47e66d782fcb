/*
 * logfmt_eve.c - JSON log lines (Suricata EVE and Zeek JSON) read by a lazy,
 * validating walker.
 *
 * The project's DOM parser (json.c) decodes every string into an arena; for
 * log lines, of which a matcher needs a handful of values, that was the
 * whole cost (about 300 MB/s on EVE) and it rejects the \u0000 that real
 * EVE payload fields carry.  This walker checks the full RFC 8259 grammar
 * (structure, escapes, numbers, UTF-8) but materialises only the values
 * whose key path is mapped: member names are compared in place, unmapped
 * subtrees are scanned with the SWAR string scanner and never copied, and a
 * mapped string without escapes is passed as a pointer into the line.
 * Not checked: duplicate member names (the last one is not "the" value
 * here, each mapped one is reported).
 */
#include "logfmt.h"
#include "core/scan.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#include "core/utf8.h"
#endif

#define JW_MAX_DEPTH 64

/*
 * First byte in [p, end) that ends a run of plain string content: '"', '\\',
 * a control byte or a non-ASCII byte.  16 bytes a step with SSE2 (every
 * x86-64), else the shared 8-byte SWAR scanner.
 */
static inline const unsigned char *scan_str(const unsigned char *p, const unsigned char *end)
{
#if defined(__SSE2__)
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), lim = _mm_set1_epi8(0x1f);
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
		                         _mm_cmpeq_epi8(_mm_max_epu8(v, lim), lim));
		unsigned mask = (unsigned)(_mm_movemask_epi8(m) | _mm_movemask_epi8(v));
		if (mask)
			return p + __builtin_ctz(mask);
		p += 16;
	}
#endif
	return sk_scan_string(p, end, 1);
}

typedef struct jw jw;

struct jkey {
	const char *name;
	size_t len;
	int child;
};

#define K(name, child)                                                                             \
	{                                                                                          \
		name, sizeof(name) - 1, child                                                      \
	}

struct jw {
	const unsigned char *p, *end;
	sk_logbuild *b;
	const char *reason;
	int (*child)(jw *w, int node, const char *k, size_t kn);
	void (*scalar)(jw *w, int node, const char *v, size_t n, bool is_str);
	/* per line */
	const char *host, *url, *url_field;
	size_t hn, un;
	bool have_answers, bad_ts;
};

static bool jfail(jw *w, const char *why)
{
	if (!w->reason)
		w->reason = why;
	return false;
}

static inline void jws(jw *w)
{
	/* log lines are minified: the next byte is nearly always a token */
	if (w->p<w->end && * w->p> ' ')
		return;
	while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r'))
		w->p++;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out)
{
	unsigned v = 0;
	if (end - p < 4)
		return 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i], d;
		if ((unsigned)(c - '0') < 10u)
			d = c - '0';
		else if ((unsigned)((c | 0x20) - 'a') < 6u)
			d = (c | 0x20) - 'a' + 10;
		else
			return 0;
		v = v << 4 | d;
	}
	*out = v;
	return 1;
}

/*
 * String at w->p (on the quote).  When out is non-NULL the decoded value is
 * returned: in place if it has no escapes, else decoded into dst (of at
 * least the encoded length) or scratch when dst is NULL.
 */
static bool jstring(jw *w, const char **out, size_t *outn, char *dst, size_t dstcap)
{
	const unsigned char *s = ++w->p;
	const unsigned char *q = scan_str(s, w->end);
	if (q < w->end && *q == '"') {
		w->p = q + 1;
		if (out) {
			*out = (const char *)s;
			*outn = (size_t)(q - s);
		}
		return true;
	}
	/* slow path: escapes or non-ASCII; validate, and decode if wanted */
	char *o = NULL, *o0 = NULL;
	size_t reserved = 0;
	if (out) {
		const unsigned char *r = q;
		while (r < w->end && *r != '"')
			r += (*r == '\\' && r + 1 < w->end) ? 2 : 1;
		size_t maxlen = (size_t)(r - s);
		if (dst) {
			if (maxlen > dstcap) {
				/* too long to be a key we know: validate only, report no key */
				*out = NULL;
				*outn = 0;
				dst = NULL;
				out = NULL;
			}
			o0 = dst;
		} else {
			o0 = sk_logrec_reserve(w->b, maxlen);
			reserved = maxlen;
			if (!o0) {
				w->b->rec->dropped++;
				out = NULL;
			}
		}
		if (out && o0) {
			memcpy(o0, s, (size_t)(q - s));
			o = o0 + (q - s);
		}
	}
	w->p = q;
	for (;;) {
		if (w->p >= w->end)
			return jfail(w, "unterminated string");
		unsigned c = *w->p;
		if (c == '"') {
			w->p++;
			break;
		}
		if (c < 0x20)
			return jfail(w, "control character in string");
		if (c == '\\') {
			if (w->end - w->p < 2)
				return jfail(w, "unterminated string");
			c = w->p[1];
			w->p += 2;
			char e;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				e = (char)c;
				break;
			case 'b':
				e = '\b';
				break;
			case 'f':
				e = '\f';
				break;
			case 'n':
				e = '\n';
				break;
			case 'r':
				e = '\r';
				break;
			case 't':
				e = '\t';
				break;
			case 'u': {
				unsigned cp, lo;
				if (!hex4(w->p, w->end, &cp))
					return jfail(w, "bad \\u escape");
				w->p += 4;
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (w->end - w->p < 6 || w->p[0] != '\\' ||
					    w->p[1] != 'u' || !hex4(w->p + 2, w->end, &lo) ||
					    lo < 0xdc00 || lo > 0xdfff)
						return jfail(w, "unpaired surrogate");
					w->p += 6;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				} else if (cp >= 0xdc00 && cp <= 0xdfff) {
					return jfail(w, "unpaired surrogate");
				}
				if (o)
					o = sk_utf8_put(o, cp);
				continue;
			}
			default:
				return jfail(w, "invalid escape in string");
			}
			if (o)
				*o++ = e;
			continue;
		}
		if (c < 0x80) {
			const unsigned char *r = scan_str(w->p, w->end);
			if (o) {
				memcpy(o, w->p, (size_t)(r - w->p));
				o += r - w->p;
			}
			w->p = r;
			continue;
		}
		size_t n = sk_utf8_seq(w->p, w->end);
		if (!n)
			return jfail(w, "invalid UTF-8 in string");
		if (o) {
			memcpy(o, w->p, n);
			o += n;
		}
		w->p += n;
	}
	if (out) {
		*out = o0;
		*outn = (size_t)(o - o0);
		if (!dst) /* give back the scratch the escapes saved */
			w->b->used -= reserved - *outn;
	}
	return true;
}

static bool jnumber(jw *w, const char **out, size_t *outn)
{
	const unsigned char *s = w->p, *p = w->p, *end = w->end;
	if (p < end && *p == '-')
		p++;
	if (p >= end || (unsigned)(*p - '0') >= 10u)
		return jfail(w, "invalid number");
	if (*p == '0')
		p++;
	else
		while (p < end && (unsigned)(*p - '0') < 10u)
			p++;
	if (p < end && *p == '.') {
		p++;
		if (p >= end || (unsigned)(*p - '0') >= 10u)
			return jfail(w, "invalid number");
		while (p < end && (unsigned)(*p - '0') < 10u)
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || (unsigned)(*p - '0') >= 10u)
			return jfail(w, "invalid number");
		while (p < end && (unsigned)(*p - '0') < 10u)
			p++;
	}
	w->p = p;
	*out = (const char *)s;
	*outn = (size_t)(p - s);
	return true;
}

static bool jvalue(jw *w, int node, int depth);

static bool jcontainer(jw *w, int node, int depth, bool is_obj)
{
	unsigned char close = is_obj ? '}' : ']';
	if (depth >= JW_MAX_DEPTH)
		return jfail(w, "JSON nested too deeply");
	w->p++;
	jws(w);
	if (w->p < w->end && *w->p == close) {
		w->p++;
		return true;
	}
	for (;;) {
		int child = node;
		jws(w);
		if (is_obj) {
			char kbuf[64];
			const char *k = NULL;
			size_t kn = 0;
			if (w->p >= w->end || *w->p != '"')
				return jfail(w, "expected a member name");
			if (node) {
				if (!jstring(w, &k, &kn, kbuf, sizeof(kbuf)))
					return false;
				child = k ? w->child(w, node, k, kn) : 0;
			} else if (!jstring(w, NULL, NULL, NULL, 0)) {
				return false;
			}
			jws(w);
			if (w->p >= w->end || *w->p != ':')
				return jfail(w, "expected ':'");
			w->p++;
		}
		if (!jvalue(w, child, depth + 1))
			return false;
		jws(w);
		if (w->p < w->end && *w->p == ',') {
			w->p++;
			continue;
		}
		if (w->p < w->end && *w->p == close) {
			w->p++;
			return true;
		}
		return jfail(w, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool literal(jw *w, const char *word, size_t n)
{
	if ((size_t)(w->end - w->p) < n || memcmp(w->p, word, n) != 0)
		return jfail(w, "invalid literal");
	w->p += n;
	return true;
}

static bool jvalue(jw *w, int node, int depth)
{
	const char *v;
	size_t n;
	jws(w);
	if (w->p >= w->end)
		return jfail(w, "unexpected end of JSON");
	switch (*w->p) {
	case '{':
		return jcontainer(w, node, depth, true);
	case '[':
		return jcontainer(w, node, depth, false);
	case '"':
		if (!node)
			return jstring(w, NULL, NULL, NULL, 0);
		v = NULL;
		if (!jstring(w, &v, &n, NULL, 0))
			return false;
		if (v)
			w->scalar(w, node, v, n, true);
		return true;
	case 't':
		return literal(w, "true", 4);
	case 'f':
		return literal(w, "false", 5);
	case 'n':
		return literal(w, "null", 4);
	default:
		if (!jnumber(w, &v, &n))
			return false;
		if (node)
			w->scalar(w, node, v, n, false);
		return true;
	}
}

static int walk(jw *w, sk_logbuild *b, const char *line, size_t len, const char **reason)
{
	w->p = (const unsigned char *)line;
	w->end = w->p + len;
	w->b = b;
	jws(w);
	if (w->p >= w->end)
		return LF_SKIP;
	if (*w->p != '{') {
		*reason = "not a JSON object";
		return LF_MALFORMED;
	}
	if (!jvalue(w, 1, 0)) {
		*reason = w->reason ? w->reason : "malformed JSON";
		return LF_MALFORMED;
	}
	jws(w);
	if (w->p != w->end) {
		*reason = "data after the JSON object";
		return LF_MALFORMED;
	}
	if (w->bad_ts) {
		*reason = "bad timestamp";
		return LF_MALFORMED;
	}
	if (w->url)
		sk_logrec_add_url_parts(b, w->url_field, w->host, w->host ? w->hn : 0, w->url,
		                        w->un);
	return LF_RECORD;
}

static int lookup(const struct jkey *t, const char *k, size_t kn)
{
	for (; t->name; t++)
		if (t->len == kn && t->name[0] == k[0] && memcmp(t->name, k, kn) == 0)
			return t->child;
	return 0;
}

/* ---- Suricata EVE ---- */

enum {
	E_IGN,
	E_ROOT,
	E_TS,
	E_EVENT,
	E_SRC_IP,
	E_DST_IP,
	E_SRC_PORT,
	E_DST_PORT,
	E_DNS,
	E_DNS_Q,
	E_DNS_ANS,
	E_DNS_GROUPED,
	E_DNS_NAME,
	E_DNS_RDATA,
	E_DNS_GRDATA,
	E_HTTP,
	E_HTTP_HOST,
	E_HTTP_URL,
	E_URL,
	E_UA,
	E_TLS,
	E_SNI,
	E_JA3,
	E_JA3S,
	E_JA3_HASH,
	E_JA3S_HASH,
	E_JA4,
	E_X509_FP,
	E_SERIAL,
	E_FILE,
	E_MD5,
	E_SHA1,
	E_SHA256,
	E_FILENAME,
	E_SMTP,
	E_EMAIL,
	E_MAIL_FROM,
	E_MAIL_TO,
	E_EMAIL_FROM,
	E_EMAIL_TO,
	E_EMAIL_CC,
	E_ALERT,
	E_SIG,
	E_SIP,
	E_SIP_URI,
	E_SIP_FROM,
	E_SIP_TO,
	E__COUNT
};

static const struct jkey eve_root[] = {
    K("timestamp", E_TS),   K("event_type", E_EVENT),  K("src_ip", E_SRC_IP),
    K("dest_ip", E_DST_IP), K("src_port", E_SRC_PORT), K("dest_port", E_DST_PORT),
    K("dns", E_DNS),        K("http", E_HTTP),         K("tls", E_TLS),
    K("quic", E_TLS),       K("fileinfo", E_FILE),     K("smtp", E_SMTP),
    K("email", E_EMAIL),    K("alert", E_ALERT),       K("sip", E_SIP),
    {NULL, 0, 0},
};
static const struct jkey eve_dns[] = {
    K("rrname", E_DNS_NAME), K("queries", E_DNS_Q),       K("answers", E_DNS_ANS),
    K("rdata", E_DNS_RDATA), K("grouped", E_DNS_GROUPED), {NULL, 0, 0},
};
static const struct jkey eve_dns_q[] = {K("rrname", E_DNS_NAME), {NULL, 0, 0}};
static const struct jkey eve_dns_ans[] = {K("rdata", E_DNS_RDATA), {NULL, 0, 0}};
static const struct jkey eve_http[] = {
    K("hostname", E_HTTP_HOST), K("url", E_HTTP_URL), K("http_user_agent", E_UA),
    K("http_refer", E_URL),     {NULL, 0, 0},
};
static const struct jkey eve_tls[] = {
    K("sni", E_SNI),
    K("ja3", E_JA3),
    K("ja3s", E_JA3S),
    K("ja4", E_JA4),
    K("fingerprint", E_X509_FP),
    K("serial", E_SERIAL),
    K("ua", E_UA),
    {NULL, 0, 0},
};
static const struct jkey eve_ja3[] = {K("hash", E_JA3_HASH), {NULL, 0, 0}};
static const struct jkey eve_ja3s[] = {K("hash", E_JA3S_HASH), {NULL, 0, 0}};
static const struct jkey eve_file[] = {
    K("md5", E_MD5),           K("sha1", E_SHA1), K("sha256", E_SHA256),
    K("filename", E_FILENAME), {NULL, 0, 0},
};
static const struct jkey eve_smtp[] = {
    K("mail_from", E_MAIL_FROM), K("rcpt_to", E_MAIL_TO), {NULL, 0, 0}};
static const struct jkey eve_email[] = {
    K("from", E_EMAIL_FROM), K("to", E_EMAIL_TO), K("cc", E_EMAIL_CC), {NULL, 0, 0}};
static const struct jkey eve_alert[] = {K("signature", E_SIG), {NULL, 0, 0}};
static const struct jkey eve_sip[] = {
    K("uri", E_SIP_URI), K("from", E_SIP_FROM), K("to", E_SIP_TO), {NULL, 0, 0}};

static int eve_child(jw *w, int node, const char *k, size_t kn)
{
	(void)w;
	switch (node) {
	case E_ROOT:
		return lookup(eve_root, k, kn);
	case E_DNS:
		return lookup(eve_dns, k, kn);
	case E_DNS_Q:
		return lookup(eve_dns_q, k, kn);
	case E_DNS_ANS:
		return lookup(eve_dns_ans, k, kn);
	case E_DNS_GROUPED:
		return E_DNS_GRDATA; /* "A", "AAAA", "CNAME", ... */
	case E_HTTP:
		return lookup(eve_http, k, kn);
	case E_TLS:
		return lookup(eve_tls, k, kn);
	case E_JA3:
		return lookup(eve_ja3, k, kn);
	case E_JA3S:
		return lookup(eve_ja3s, k, kn);
	case E_FILE:
		return lookup(eve_file, k, kn);
	case E_SMTP:
		return lookup(eve_smtp, k, kn);
	case E_EMAIL:
		return lookup(eve_email, k, kn);
	case E_ALERT:
		return lookup(eve_alert, k, kn);
	case E_SIP:
		return lookup(eve_sip, k, kn);
	default:
		return E_IGN;
	}
}

static void eve_scalar(jw *w, int node, const char *v, size_t n, bool is_str)
{
	sk_logbuild *b = w->b;
	if (!is_str) {
		if (node == E_SRC_PORT)
			sk_logrec_add_port(b, SK_ROLE_SRC, "src_port", v, n);
		else if (node == E_DST_PORT)
			sk_logrec_add_port(b, SK_ROLE_DST, "dest_port", v, n);
		return;
	}
	switch (node) {
	case E_TS:
		if (!sk_logts_rfc3339(v, n, &b->rec->ts_us))
			w->bad_ts = true;
		break;
	case E_EVENT:
		b->rec->event = v;
		b->rec->event_len = (uint32_t)(n > UINT32_MAX ? 0 : n);
		break;
	case E_SRC_IP:
		sk_logrec_add_ip(b, SK_ROLE_SRC, "src_ip", v, n);
		break;
	case E_DST_IP:
		sk_logrec_add_ip(b, SK_ROLE_DST, "dest_ip", v, n);
		break;
	case E_DNS_NAME:
		sk_logrec_add_domain(b, SK_ROLE_NONE, "dns.rrname", v, n);
		break;
	case E_DNS_RDATA:
		w->have_answers = true;
		sk_logrec_add_host(b, SK_ROLE_NONE, "dns.answers.rdata", v, n);
		break;
	case E_DNS_GRDATA:
		if (!w->have_answers)
			sk_logrec_add_host(b, SK_ROLE_NONE, "dns.grouped", v, n);
		break;
	case E_HTTP_HOST:
		w->host = v;
		w->hn = n;
		sk_logrec_add_host(b, SK_ROLE_NONE, "http.hostname", v, n);
		break;
	case E_HTTP_URL:
		w->url = v;
		w->un = n;
		w->url_field = "http.url";
		break;
	case E_URL:
		sk_logrec_add_url(b, "http.http_refer", v, n);
		break;
	case E_UA:
		if (n)
			sk_logrec_add(b, SK_OBS_USER_AGENT, SK_ROLE_NONE, "http.http_user_agent", v,
			              n);
		break;
	case E_SNI:
		sk_logrec_add_domain(b, SK_ROLE_NONE, "tls.sni", v, n);
		break;
	case E_JA3_HASH:
		sk_logrec_add_hash(b, SK_OBS_JA3, "tls.ja3.hash", v, n);
		break;
	case E_JA3S_HASH:
		sk_logrec_add_hash(b, SK_OBS_JA3S, "tls.ja3s.hash", v, n);
		break;
	case E_JA4:
		if (n && n <= 128)
			sk_logrec_add(b, SK_OBS_JA4, SK_ROLE_NONE, "tls.ja4", v, n);
		break;
	case E_X509_FP:
		sk_logrec_add_hash(b, SK_OBS_X509_SHA1, "tls.fingerprint", v, n);
		break;
	case E_SERIAL:
		if (n && n <= 128)
			sk_logrec_add(b, SK_OBS_X509_SERIAL, SK_ROLE_NONE, "tls.serial", v, n);
		break;
	case E_MD5:
		sk_logrec_add_hash(b, SK_OBS_MD5, "fileinfo.md5", v, n);
		break;
	case E_SHA1:
		sk_logrec_add_hash(b, SK_OBS_SHA1, "fileinfo.sha1", v, n);
		break;
	case E_SHA256:
		sk_logrec_add_hash(b, SK_OBS_SHA256, "fileinfo.sha256", v, n);
		break;
	case E_FILENAME:
		if (n)
			sk_logrec_add(b, SK_OBS_FILENAME, SK_ROLE_NONE, "fileinfo.filename", v, n);
		break;
	case E_MAIL_FROM:
		sk_logrec_add_email(b, SK_ROLE_SRC, "smtp.mail_from", v, n);
		break;
	case E_MAIL_TO:
		sk_logrec_add_email(b, SK_ROLE_DST, "smtp.rcpt_to", v, n);
		break;
	case E_EMAIL_FROM:
		sk_logrec_add_email(b, SK_ROLE_SRC, "email.from", v, n);
		break;
	case E_EMAIL_TO:
		sk_logrec_add_email(b, SK_ROLE_DST, "email.to", v, n);
		break;
	case E_EMAIL_CC:
		sk_logrec_add_email(b, SK_ROLE_DST, "email.cc", v, n);
		break;
	case E_SIG:
		if (n)
			sk_logrec_add(b, SK_OBS_SIGNATURE, SK_ROLE_NONE, "alert.signature", v, n);
		break;
	case E_SIP_URI: /* the request URI: the number called */
		sk_logrec_add_phone(b, SK_ROLE_DST, "sip.uri", v, n);
		break;
	case E_SIP_FROM: /* From / To headers (newer Suricata): a number, or an address */
		sk_logrec_add_email(b, SK_ROLE_SRC, "sip.from", v, n);
		break;
	case E_SIP_TO:
		sk_logrec_add_email(b, SK_ROLE_DST, "sip.to", v, n);
		break;
	default:
		break;
	}
}

int sk_logfmt_eve_line(sk_logbuild *b, const char *line, size_t len, const char **reason)
{
	jw w = {.child = eve_child, .scalar = eve_scalar};
	return walk(&w, b, line, len, reason);
}

/* ---- Zeek JSON: flat member names as in the TSV #fields ---- */

#define ZJ_BASE 100

static int zeek_child(jw *w, int node, const char *k, size_t kn)
{
	(void)w;
	if (node != E_ROOT)
		return node; /* nested values (rare) keep their column's action */
	int i = sk_logfmt_zeek_lookup(k, kn);
	return i < 0 ? 0 : ZJ_BASE + i;
}

static void zeek_scalar(jw *w, int node, const char *v, size_t n, bool is_str)
{
	sk_logbuild *b = w->b;
	if (node < ZJ_BASE)
		return;
	zk_act a;
	const char *field = sk_logfmt_zeek_entry(node - ZJ_BASE, &a);
	switch (a) {
	case ZK_TS:
		if (!(is_str ? sk_logts_rfc3339(v, n, &b->rec->ts_us)
		             : sk_logts_epoch(v, n, &b->rec->ts_us)))
			w->bad_ts = true;
		return;
	case ZK_PATH:
		if (is_str) {
			b->rec->event = v;
			b->rec->event_len = (uint32_t)(n > UINT32_MAX ? 0 : n);
		}
		return;
	case ZK_HTTP_URI:
		w->url = v;
		w->un = n;
		w->url_field = field;
		return;
	case ZK_HTTP_HOST:
		w->host = v;
		w->hn = n;
		break;
	default:
		break;
	}
	sk_logfmt_zeek_apply(b, a, field, v, n);
}

int sk_logfmt_zeekjson_line(sk_logbuild *b, const char *line, size_t len, const char **reason)
{
	jw w = {.child = zeek_child, .scalar = zeek_scalar};
	return walk(&w, b, line, len, reason);
}
