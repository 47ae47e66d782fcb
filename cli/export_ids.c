/*
 * export_ids.c - indicators for Zeek and Suricata: the selection (through the
 * sharing policy for --for), the reduction of each STIX pattern to the
 * values a sensor can look up, and the Zeek Intel framework file.
 *
 * A sensor matches one value at a time against a set, so only patterns made
 * of '=' (and IN) comparisons joined by OR, in one observation or several
 * joined by OR, become items: each comparison is one value, and matching
 * any of them is matching the indicator.  AND, FOLLOWEDBY, qualifiers,
 * MATCHES / LIKE / ordering / NOT, host objects (process, registry, ...)
 * and values the file format cannot hold are left out, counted by reason.
 * An OR with some branches a tool can match exports those branches.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "export_ids.h"
#include "schakel/file.h"
#include "schakel/logrec.h"
#include "schakel/pattern.h"
#include "schakel/timestamp.h"

static const char *const reason_text[IR__COUNT] = {
    [IR_NOT_STIX] = "pattern_type is not stix",
    [IR_INVALID] = "revoked, past valid_until or before valid_from",
    [IR_PARSE] = "the pattern does not parse",
    [IR_MULTI] = "observations joined by AND / FOLLOWEDBY, or a qualifier (WITHIN, REPEATS...): "
                 "a sensor looks up one value at a time",
    [IR_AND] = "comparisons joined by AND: a sensor looks up one value, not a combination",
    [IR_OP] = "an operator other than = and IN (MATCHES, LIKE, !=, <, NOT...)",
    [IR_PATH] = "only object paths no network sensor sees (process, registry key, directory, "
                "mutex, ports alone...)",
    [IR_VALUE] = "values that do not parse, or hold a tab or line break",
    [IR_TOOL] = "only value types this tool has no way to match",
};

const char *ids_reason_text(ids_reason r)
{
	return (unsigned)r < IR__COUNT ? reason_text[r] : "?";
}

/* --- paths and values --------------------------------------------------- */

static const struct {
	const char *path;
	int type; /* ids_type, or -1 for the addresses (ADDR or SUBNET by the value) */
} paths[] = {
    {"ipv4-addr:value", -1},
    {"ipv6-addr:value", -1},
    {"network-traffic:src_ref.value", -1},
    {"network-traffic:dst_ref.value", -1},
    {"domain-name:value", IT_DOMAIN},
    {"url:value", IT_URL},
    {"email-addr:value", IT_EMAIL},
    {"email-message:from_ref.value", IT_EMAIL},
    {"email-message:sender_ref.value", IT_EMAIL},
    {"email-message:to_refs[*].value", IT_EMAIL},
    {"email-message:cc_refs[*].value", IT_EMAIL},
    {"email-message:bcc_refs[*].value", IT_EMAIL},
    {"file:hashes.MD5", IT_MD5},
    {"file:hashes.SHA1", IT_SHA1},
    {"file:hashes.SHA256", IT_SHA256},
    {"file:hashes.SHA512", IT_SHA512},
    {"file:name", IT_FILE_NAME},
    {"user-account:user_id", IT_USER_NAME},
    {"user-account:account_login", IT_USER_NAME},
    {"x509-certificate:hashes.SHA1", IT_CERT_SHA1},
    {"x509-certificate:hashes.SHA256", IT_CERT_SHA256},
    {"x-ja3:hash", IT_JA3},
    {"x-ja3s:hash", IT_JA3S},
    {"network-traffic:extensions.http-request-ext.request_header.User-Agent", IT_USER_AGENT},
};

/* "file:hashes.'SHA-256'" -> "file:hashes.SHA256"; quotes dropped, [n] as [*]. */
static void canon_path(const sk_ppath *p, char *out, size_t n)
{
	char raw[256];
	size_t o = 0;
	bool hashes = false;
	sk_ppath_format(p, raw, sizeof(raw));
	for (const char *c = raw; *c && o + 1 < n; c++) {
		if (*c == '\'')
			continue;
		if (*c == '[') {
			const char *e = strchr(c, ']');
			if (e && o + 4 < n) {
				memcpy(out + o, "[*]", 3);
				o += 3;
				c = e;
				continue;
			}
		}
		if (hashes && (*c == '-' || *c == '_'))
			continue;
		out[o++] = hashes ? (char)toupper((unsigned char)*c) : *c;
		if (*c == '.' && o >= 7 && !memcmp(out + o - 7, "hashes.", 7))
			hashes = true;
	}
	out[o] = '\0';
}

static bool has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* An address or network: "a" (ADDR) or the masked "a/len" (SUBNET). */
static char *norm_addr(const char *s, size_t n, ids_type *t)
{
	char buf[64], txt[INET6_ADDRSTRLEN + 16];
	unsigned char a[16];
	const char *sl;
	int fam, bits, len = -1;
	if (n >= sizeof(buf))
		return NULL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if ((sl = strchr(buf, '/'))) {
		char *end;
		long l = strtol(sl + 1, &end, 10);
		if (*end || end == sl + 1 || l < 0)
			return NULL;
		len = (int)l;
		buf[sl - buf] = '\0';
	}
	fam = strchr(buf, ':') ? AF_INET6 : AF_INET;
	bits = fam == AF_INET ? 32 : 128;
	if (inet_pton(fam, buf, a) != 1 || len > bits)
		return NULL;
	if (len < 0 || len == bits) {
		*t = IT_ADDR;
		inet_ntop(fam, a, txt, sizeof(txt));
		return strdup(txt);
	}
	for (int i = len; i < bits; i++)
		a[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
	inet_ntop(fam, a, txt, INET6_ADDRSTRLEN);
	snprintf(txt + strlen(txt), 16, "/%d", len);
	*t = IT_SUBNET;
	return strdup(txt);
}

static size_t hex_len(ids_type t)
{
	switch (t) {
	case IT_MD5:
	case IT_JA3:
	case IT_JA3S:
		return 32;
	case IT_SHA1:
	case IT_CERT_SHA1:
		return 40;
	case IT_SHA256:
	case IT_CERT_SHA256:
		return 64;
	case IT_SHA512:
		return 128;
	default:
		return 0;
	}
}

/* The value of a comparison in the form the tools compare; NULL when it has none. */
static char *norm_value(ids_type *t, const sk_plit *v)
{
	char *o;
	size_t hl = hex_len(*t);
	if (v->kind != SK_PLIT_STRING || !v->len || has_ctl(v->str, v->len))
		return NULL;
	if ((int)*t == -1)
		return norm_addr(v->str, v->len, t);
	if (hl) {
		if (v->len != hl || !sk_obs_is_hex(v->str, v->len))
			return NULL;
		o = strndup(v->str, v->len);
		for (size_t i = 0; o && o[i]; i++)
			o[i] = (char)tolower((unsigned char)o[i]);
		return o;
	}
	o = strndup(v->str, v->len);
	if (!o)
		return NULL;
	if (*t == IT_DOMAIN) {
		size_t n = strlen(o);
		if (n && o[n - 1] == '.')
			o[--n] = '\0';
		for (size_t i = 0; i < n; i++)
			o[i] = (char)tolower((unsigned char)o[i]);
		if (!sk_obs_is_domain(o, n)) {
			free(o);
			return NULL;
		}
	} else if (*t == IT_EMAIL) {
		char *at = strrchr(o, '@');
		if (!at || at == o || strchr(o, ' ')) {
			free(o);
			return NULL;
		}
		for (char *c = at; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	} else if (*t == IT_URL) {
		char *sep = strstr(o, "://");
		if (!sep || sep == o || !sep[3] || sep[3] == '/') {
			free(o);
			return NULL;
		}
		/* scheme and host compare without regard to case; the path as written */
		for (char *c = o; *c && !(c >= sep + 3 && (*c == '/' || *c == '?')); c++)
			*c = (char)tolower((unsigned char)*c);
	}
	return o;
}

/* --- patterns to items -------------------------------------------------- */

typedef struct conv {
	ids_set *s;
	size_t ind;
	size_t added;
	ids_reason why; /* first reason a branch was dropped */
	bool have_why;
} conv;

static void drop(conv *c, ids_reason r)
{
	if (!c->have_why) {
		c->why = r;
		c->have_why = true;
	}
}

static void add_item(conv *c, ids_type t, char *v)
{
	ids_set *s = c->s;
	if (s->nitems == s->itemcap) {
		size_t nc = s->itemcap ? s->itemcap * 2 : 1024;
		ids_item *ni = realloc(s->items, nc * sizeof(*ni));
		if (!ni) {
			free(v);
			s->oom = true;
			return;
		}
		s->items = ni;
		s->itemcap = nc;
	}
	s->items[s->nitems++] = (ids_item){.type = t, .value = v, .ind = c->ind};
	c->added++;
}

static void comparison(conv *c, const sk_pcmp *cmp)
{
	char path[256];
	int type = -2;
	const sk_plit *vals = cmp->op == SK_PCMP_IN ? cmp->set : &cmp->value;
	uint32_t nv = cmp->op == SK_PCMP_IN ? cmp->nset : 1;

	canon_path(&cmp->path, path, sizeof(path));
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (!strcmp(paths[i].path, path))
			type = paths[i].type;
	if (type == -2) {
		drop(c, IR_PATH);
		return;
	}
	if (cmp->negated || !(cmp->op == SK_PCMP_EQ || cmp->op == SK_PCMP_IN ||
	                      (cmp->op == SK_PCMP_ISSUBSET && type == -1))) {
		drop(c, IR_OP);
		return;
	}
	for (uint32_t i = 0; i < nv; i++) {
		ids_type t = (ids_type)type;
		char *v = norm_value(&t, &vals[i]);
		if (v)
			add_item(c, t, v);
		else
			drop(c, IR_VALUE);
	}
}

/* A comparison-level node: '=' leaves under ORs only. */
static void cmp_node(conv *c, const sk_pnode *n)
{
	if (n->kind == SK_PN_COMPARISON) {
		comparison(c, &n->cmp);
		return;
	}
	if (n->kind == SK_PN_CMP_AND) {
		drop(c, IR_AND);
		return;
	}
	for (const sk_pnode *k = n->kids; k; k = k->next)
		cmp_node(c, k);
}

static void obs_node(conv *c, const sk_pnode *n)
{
	if (n->kind == SK_PN_OBSERVATION) {
		cmp_node(c, n->kids);
		return;
	}
	if (n->kind != SK_PN_OBS_OR) {
		drop(c, IR_MULTI);
		return;
	}
	for (const sk_pnode *k = n->kids; k; k = k->next)
		obs_node(c, k);
}

static char *jdup(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? strdup(s) : NULL;
}

/* Outside [valid_from, valid_until) now, as the matcher compiles indicators. */
static bool out_of_window(const char *vf, const char *vu)
{
	char key[SK_TS_KEY_LEN + 1];
	int64_t us, now = sk_ts_now_us();
	return (vu && sk_ts_parse(vu, strlen(vu), key, &us) && us <= now) ||
	       (vf && sk_ts_parse(vf, strlen(vf), key, &us) && us > now);
}

static void count_left(ids_set *s, ids_reason r)
{
	s->left[r]++;
}

/* One stored version: an indicator's items, or the reason it has none. */
static int ids_row(void *ud, const sk_row *r)
{
	ids_set *s = ud;
	json_t *o;
	const char *pt, *pat, *vu;
	sk_pattern *p = NULL;
	sk_error err;
	conv c = {.s = s};

	if (strcmp(r->type, "indicator"))
		return 0;
	s->seen++;
	if (!(o = json_loadb(r->json, r->len, 0, NULL))) {
		count_left(s, IR_PARSE);
		return 0;
	}
	pt = json_string_value(json_object_get(o, "pattern_type"));
	pat = json_string_value(json_object_get(o, "pattern"));
	vu = json_string_value(json_object_get(o, "valid_until"));
	if (r->revoked || json_is_true(json_object_get(o, "revoked"))) {
		count_left(s, IR_INVALID);
	} else if (out_of_window(json_string_value(json_object_get(o, "valid_from")), vu)) {
		count_left(s, IR_INVALID);
	} else if ((pt && strcmp(pt, "stix")) || !pat) {
		count_left(s, IR_NOT_STIX);
	} else if (sk_pattern_parse(pat, strlen(pat), &p, &err)) {
		count_left(s, IR_PARSE);
	} else {
		if (s->ninds == s->indcap) {
			size_t nc = s->indcap ? s->indcap * 2 : 1024;
			ids_ind *ni = realloc(s->inds, nc * sizeof(*ni));
			if (!ni) {
				s->oom = true;
				goto out;
			}
			s->inds = ni;
			s->indcap = nc;
		}
		c.ind = s->ninds;
		s->inds[s->ninds] =
		    (ids_ind){.id = strdup(r->id),
		              .name = jdup(o, "name"),
		              .source = r->created_by ? strdup(r->created_by) : NULL};
		s->ninds++;
		obs_node(&c, sk_pattern_root(p));
		if (!c.added)
			count_left(s, c.have_why ? c.why : IR_PATH);
	}
out:
	sk_pattern_free(p);
	json_decref(o);
	return s->oom ? 1 : 0;
}

void ids_count_tool(ids_set *s, unsigned ok, size_t *written)
{
	unsigned char *has = calloc(s->ninds ? s->ninds : 1, 2);
	*written = 0;
	if (!has) {
		s->oom = true;
		return;
	}
	for (size_t i = 0; i < s->nitems; i++) {
		has[2 * s->items[i].ind] = 1;
		if (ok & (1u << s->items[i].type))
			has[2 * s->items[i].ind + 1] = 1;
	}
	for (size_t i = 0; i < s->ninds; i++) {
		if (has[2 * i + 1])
			(*written)++;
		else if (has[2 * i])
			s->left[IR_TOOL]++;
	}
	free(has);
}

static void summary(const ids_set *s, const char *tool, size_t written, size_t lines, FILE *f)
{
	size_t left = 0;
	for (int r = 0; r < IR__COUNT; r++)
		left += s->left[r];
	fprintf(f, "schakel: %s: %zu of %zu indicators written (%zu values); %zu left out\n", tool,
	        written, s->seen, lines, left);
	for (int r = 0; r < IR__COUNT; r++)
		if (s->left[r])
			fprintf(f, "schakel:   %8zu  %s\n", s->left[r], reason_text[r]);
}

static void ids_free(ids_set *s)
{
	for (size_t i = 0; i < s->ninds; i++) {
		free(s->inds[i].id);
		free(s->inds[i].name);
		free(s->inds[i].source);
	}
	for (size_t i = 0; i < s->nitems; i++)
		free(s->items[i].value);
	free(s->inds);
	free(s->items);
}

/* --- Zeek --------------------------------------------------------------- */

static const char *const zeek_type[IT__COUNT] = {
    [IT_ADDR] = "Intel::ADDR",           [IT_SUBNET] = "Intel::SUBNET",
    [IT_DOMAIN] = "Intel::DOMAIN",       [IT_URL] = "Intel::URL",
    [IT_EMAIL] = "Intel::EMAIL",         [IT_MD5] = "Intel::FILE_HASH",
    [IT_SHA1] = "Intel::FILE_HASH",      [IT_SHA256] = "Intel::FILE_HASH",
    [IT_SHA512] = "Intel::FILE_HASH",    [IT_FILE_NAME] = "Intel::FILE_NAME",
    [IT_USER_NAME] = "Intel::USER_NAME", [IT_CERT_SHA1] = "Intel::CERT_HASH",
};

static int item_cmp(const void *a, const void *b)
{
	const ids_item *x = a, *y = b;
	int c = strcmp(zeek_type[x->type] ? zeek_type[x->type] : "",
	               zeek_type[y->type] ? zeek_type[y->type] : "");
	if (c)
		return c;
	c = strcmp(x->value, y->value);
	return c ? c : (x->ind < y->ind ? -1 : x->ind > y->ind);
}

/* A meta field: tabs and line breaks become spaces; empty is "-" (unset). */
static void meta(FILE *f, const char *s)
{
	if (!s || !*s) {
		fputc('-', f);
		return;
	}
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
}

/*
 * One line per distinct (value, type): the indicator, its Intel type, the
 * producer (meta.source), the indicator's name and id (meta.desc) and no URL.
 * Zeek's URL intel is the host and path without the scheme.
 */
static size_t write_zeek(const ids_set *s, FILE *f)
{
	size_t lines = 0;
	fputs("#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n", f);
	for (size_t i = 0; i < s->nitems; i++) {
		const ids_item *it = &s->items[i];
		const ids_ind *ind = &s->inds[it->ind];
		const char *v = it->value;
		if (!zeek_type[it->type])
			continue;
		if (i && s->items[i - 1].type == it->type && !strcmp(s->items[i - 1].value, v))
			continue;
		if (zeek_type[it->type] == zeek_type[IT_URL]) {
			const char *sep = strstr(v, "://");
			if (sep)
				v = sep + 3;
		}
		fprintf(f, "%s\t%s\t", v, zeek_type[it->type]);
		meta(f, ind->source ? ind->source : "schakel");
		fputc('\t', f);
		if (ind->name) {
			meta(f, ind->name);
			fprintf(f, " (%s)", ind->id);
		} else {
			meta(f, ind->id);
		}
		fputs("\t-\n", f);
		lines++;
	}
	return lines;
}

/* --- the command -------------------------------------------------------- */

int cli_export_ids(sk_store *st, const char *who, const sk_query *q0, const char *format,
                   const char *output, unsigned sid_base)
{
	static const char *const types[] = {"indicator"};
	ids_set s = {0};
	sk_query q = *q0;
	sk_error err;
	int rc = EXIT_OK;
	bool zeek = !strcmp(format, "zeek-intel");

	q.types = types;
	q.ntypes = 1;
	q.vermode = SK_VER_LAST;
	q.specs = NULL;
	q.nspecs = 0;
	if (who)
		rc = cli_export_for(st, who, &q, ids_row, &s);
	else if (sk_store_query(st, &q, ids_row, &s, &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	}
	if (rc == EXIT_OK && s.oom) {
		cli_err("out of memory");
		rc = EXIT_INPUT;
	}
	if (rc == EXIT_OK && s.nitems > 1)
		qsort(s.items, s.nitems, sizeof(*s.items), item_cmp);
	if (rc == EXIT_OK && zeek) {
		FILE *f = output ? sk_fopen_private(output, false) : stdout;
		size_t written, lines;
		unsigned ok = 0;
		for (int t = 0; t < IT__COUNT; t++)
			if (zeek_type[t])
				ok |= 1u << t;
		if (!f) {
			cli_err("%s: cannot write: %m", output);
			rc = EXIT_INPUT;
		} else {
			lines = write_zeek(&s, f);
			if (fflush(f) || ferror(f)) {
				cli_err("%s: write error", output ? output : "<stdout>");
				rc = EXIT_INPUT;
			}
			if (output)
				fclose(f);
			ids_count_tool(&s, ok, &written);
			summary(&s, "zeek-intel", written, lines, stderr);
		}
	} else if (rc == EXIT_OK) {
		size_t lines = 0, written;
		rc = ids_write_suricata(&s, output, sid_base, &lines);
		if (rc == EXIT_OK) {
			ids_count_tool(&s, IDS_SURICATA_TYPES, &written);
			summary(&s, "suricata", written, lines, stderr);
		}
	}
	ids_free(&s);
	return rc;
}
