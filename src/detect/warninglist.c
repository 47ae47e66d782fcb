/*
 * warninglist.c - importing MISP warning lists into the store and looking
 * values up in them (see warninglist.h for the matching rules).
 *
 * The lookup set is one open-addressing hash table over binary keys:
 *   's' value              entry of a string list
 *   'h' domain             entry of a hostname list (lookups walk up the parents)
 *   '4' plen addr[4]       IPv4 CIDR entry, address masked to plen
 *   '6' plen addr[16]      IPv6 CIDR entry
 * Several lists may hold the same key; each (key, list) is its own slot and a
 * lookup walks the probe sequence to the first empty slot.  A CIDR lookup
 * tries each prefix length that some list uses (at most 33 or 129 probes).
 * The table is tens of MB and nearly every probe misses, so a blocked Bloom
 * filter (three bits in one 64-bit word per key, 8 to 16 bits per key: 512
 * KiB for the 530,000 MISP entries, small enough to stay in cache) answers
 * most of them without touching it.
 *
 * Substring and regex entries go into two Hyperscan databases (match_hs.c),
 * one expression per entry, its id mapped back to its list: a value is
 * scanned once whatever the number of entries (MISP's disposable-email list
 * alone has 8,000 substrings).  Substrings are literals matched against the
 * normalised value, exactly like strstr.  Regex entries keep POSIX extended
 * semantics: those in a subset whose meaning Hyperscan shares (see
 * sk_warninglist_regex_to_hs) are translated, the rest stay with regexec.
 * Hyperscan needs one scratch per concurrent scan; the set keeps a small
 * pool of them, so lookups stay safe from several threads.
 *
 * Compiling the 8,000 MISP substrings takes Hyperscan about 0.25 s, more
 * than `warninglist check` spends on everything else, so that database is
 * built lazily: the first SUB_LAZY lookups go through the entries one by
 * one (about 0.2 ms each: enough for a command line of values, a fifth of
 * the compile at most), the next one builds it.  Both ways give the same
 * answers.
 */
#include "schakel/warninglist.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schakel/buf.h"
#include "schakel/json.h"
#include "schakel/timestamp.h"
#include "match_hs.h"
#include "store/store_priv.h"
#include "warninglist_priv.h"

#define MAX_LIST_FILE ((size_t)256 << 20)
#define MAX_VALUE 4096
#define SUB_LAZY 256 /* substring lookups before the Hyperscan build */

static const char *const wl_kind_names[SK_WL__COUNT] = {"ip",	 "domain", "url",
							"email", "hash",   "other"};

const char *sk_wl_kind_name(sk_wl_kind k)
{
	return (unsigned)k < SK_WL__COUNT ? wl_kind_names[k] : "unknown";
}

/* --- value helpers ------------------------------------------------------- */

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Lowercase s, drop one trailing dot (and for hostnames a leading "*." or "."). */
static size_t norm_value(const char *s, size_t n, bool hostname, char *out, size_t outsz)
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
static bool parse_cidr(const char *s, int *fam, unsigned char addr[16], unsigned *plen)
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

static void mask(unsigned char *a, size_t len, unsigned plen)
{
	for (size_t i = 0; i < len; i++) {
		unsigned keep = plen >= 8 * (i + 1) ? 8 : plen > 8 * i ? plen - 8 * (unsigned)i : 0;
		a[i] &= (unsigned char)(0xff00u >> keep);
	}
}

/* Canonical text of an IPv6 address value, so "2001:DB8::1" equals "2001:db8:0::1". */
static size_t canon_ip(char *v, size_t n, size_t cap)
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

	if (parse_cidr(v, &fam, a, &plen))
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

/* Kinds a list applies to, from its matching_attributes (empty = all). */
static unsigned kinds_of_attrs(const sk_jval *attrs)
{
	unsigned m = 0;
	size_t n = sk_json_len(attrs);
	if (!n)
		return (1u << SK_WL__COUNT) - 1;
	for (size_t i = 0; i < n; i++) {
		const char *a = sk_json_str(sk_json_at(attrs, i));
		if (!a)
			continue;
		if (!strncmp(a, "ip-", 3) || strstr(a, "|ip") || !strcmp(a, "ip"))
			m |= 1u << SK_WL_IP;
		if (!strncmp(a, "domain", 6) || !strncmp(a, "hostname", 8))
			m |= 1u << SK_WL_DOMAIN;
		if (!strcmp(a, "url") || !strcmp(a, "uri") || !strcmp(a, "link"))
			m |= 1u << SK_WL_URL;
		if (strstr(a, "email"))
			m |= 1u << SK_WL_EMAIL;
		if (strstr(a, "md5") || strstr(a, "sha") || strstr(a, "ssdeep") ||
		    strstr(a, "tlsh") || strstr(a, "imphash"))
			m |= 1u << SK_WL_HASH;
		if (!(m & ~(1u << SK_WL_OTHER)))
			m |= 1u << SK_WL_OTHER;
	}
	return m;
}

/* --- import -------------------------------------------------------------- */

static sk_err read_all(const char *path, char **data, size_t *len, sk_error *err)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	char *buf = NULL;
	size_t got;

	*data = NULL;
	if (!f)
		return sk_error_set(err, SK_EIO, "%s: cannot open", path);
	if (fstat(fileno(f), &sb) || sb.st_size < 0 || (size_t)sb.st_size > MAX_LIST_FILE) {
		fclose(f);
		return sk_error_set(err, SK_ELIMIT, "%s: not a regular file of at most 256 MiB",
				    path);
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		fclose(f);
		return sk_error_set(err, SK_ENOMEM, "%s: out of memory", path);
	}
	got = fread(buf, 1, (size_t)sb.st_size, f);
	fclose(f);
	if (got != (size_t)sb.st_size) {
		free(buf);
		return sk_error_set(err, SK_EIO, "%s: read error", path);
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return SK_OK;
}

static bool type_known(const char *t)
{
	static const char *const types[] = {"string", "substring", "hostname", "cidr", "regex"};
	for (size_t i = 0; t && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(t, types[i]))
			return true;
	return false;
}

static sk_err store_list(sk_store *st, const sk_jval *root, const char *path,
			 const sk_wl_import_opts *o, sk_wl_import_stats *stats, sk_error *err)
{
	sqlite3 *db = sk_store_sqlite(st);
	sqlite3_stmt *q = NULL, *ins = NULL;
	const char *name = sk_json_str(sk_json_get(root, "name"));
	const char *type = sk_json_str(sk_json_get(root, "type"));
	const char *desc = sk_json_str(sk_json_get(root, "description"));
	const sk_jval *ver = sk_json_get(root, "version"), *list = sk_json_get(root, "list");
	const sk_jval *attrs = sk_json_get(root, "matching_attributes");
	bool hostname, raw;
	int64_t version;
	uint64_t n = 0;
	sk_buf ma;
	sk_err rc = SK_OK;
	char v[MAX_VALUE];

	sk_buf_init(&ma, 1 << 16);
	if (!name || !*name || !type_known(type) || !sk_json_is(ver, SK_JINT) ||
	    !sk_json_is(list, SK_JARRAY) || (attrs && !sk_json_is(attrs, SK_JARRAY))) {
		stats->failed++;
		if (o && o->on_list)
			o->on_list(o->ud, path, name ? name : "?", 0, 0,
				   "not a MISP warninglist (needs name, version (integer), type "
				   "string|substring|hostname|cidr|regex, list)");
		goto out;
	}
	version = ver->u.i;
	hostname = !strcmp(type, "hostname");
	raw = !strcmp(type, "regex");
	/* matching_attributes as a compact JSON array */
	rc = sk_buf_putc(&ma, '[');
	for (size_t i = 0; !rc && i < sk_json_len(attrs); i++) {
		const char *a = sk_json_str(sk_json_at(attrs, i));
		if (!a)
			continue;
		if (ma.len > 1)
			rc = sk_buf_putc(&ma, ',');
		if (!rc)
			rc = sk_buf_put_json_string(&ma, a, strlen(a));
	}
	if (!rc)
		rc = sk_buf_putc(&ma, ']');
	if (rc) {
		rc = sk_error_set(err, rc, "%s: matching_attributes too large", path);
		goto out;
	}

	if ((rc = sk_store_begin(st, err)))
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT version FROM warninglists WHERE name=?1", -1, &q,
			       NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "warninglists");
		goto fail;
	}
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) >= version &&
	    !(o && o->force)) {
		sk_store_rollback(st);
		stats->current++;
		if (o && o->on_list)
			o->on_list(o->ud, path, name, version, 0, "current");
		goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(db, "DELETE FROM warninglist_entries WHERE list=?1", -1, &q,
			       NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO warninglists(name,version,description,type,"
			       "matching_attributes,loaded) VALUES(?1,?2,?3,?4,?5,?6)",
			       -1, &q, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, version);
	sqlite3_bind_text(q, 3, desc, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, ma.data, (int)ma.len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, sk_ts_now_us());
	if (sqlite3_step(q) != SQLITE_DONE)
		goto dberr;
	if (sqlite3_prepare_v2(db,
			       "INSERT OR IGNORE INTO warninglist_entries(list,value) VALUES(?1,?2)",
			       -1, &ins, NULL) != SQLITE_OK)
		goto dberr;
	for (size_t i = 0; i < list->n; i++) {
		const sk_jval *e = &list->u.m[i].val;
		size_t len;
		if (e->type != SK_JSTRING || e->n == 0 || e->n >= sizeof(v)) {
			stats->skipped++;
			continue;
		}
		if (raw) {
			memcpy(v, e->u.s, e->n + 1);
			len = e->n;
		} else {
			len = norm_value(e->u.s, e->n, hostname, v, sizeof(v));
			len = canon_ip(v, len, sizeof(v));
		}
		if (len == 0) {
			stats->skipped++;
			continue;
		}
		sqlite3_reset(ins);
		sqlite3_bind_text(ins, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, v, (int)len, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto dberr;
		n += (uint64_t)sqlite3_changes(db);
	}
	if ((rc = sk_store_commit(st, err)))
		goto out;
	stats->lists++;
	stats->entries += n;
	if (o && o->on_list)
		o->on_list(o->ud, path, name, version, n, "loaded");
	goto out;
dberr:
	rc = sk_store_dberr(st, err, name);
fail:
	sk_store_rollback(st);
out:
	sqlite3_finalize(q);
	sqlite3_finalize(ins);
	sk_buf_free(&ma);
	return rc;
}

static sk_err import_path(sk_store *st, sk_jdoc *doc, const char *path,
			  const sk_wl_import_opts *o, sk_wl_import_stats *stats, sk_error *err)
{
	char *data = NULL;
	size_t len = 0;
	const sk_jval *root;
	sk_error perr;
	sk_err rc = read_all(path, &data, &len, &perr);

	if (!rc)
		rc = sk_json_parse(doc, data, len, &root, &perr);
	if (rc) {
		/* a broken file is reported and skipped, not fatal */
		stats->failed++;
		if (o && o->on_list)
			o->on_list(o->ud, path, "?", 0, 0, perr.msg);
		free(data);
		return SK_OK;
	}
	rc = store_list(st, root, path, o, stats, err);
	free(data);
	return rc;
}

sk_err sk_warninglist_import_file(sk_store *st, const char *path, const sk_wl_import_opts *o,
				  sk_wl_import_stats *stats, sk_error *err)
{
	sk_jdoc *doc = NULL;
	sk_err rc;
	if (sk_json_doc_new(MAX_LIST_FILE * 2, 0, &doc))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	rc = import_path(st, doc, path, o, stats, err);
	sk_json_doc_free(doc);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

sk_err sk_warninglist_import_dir(sk_store *st, const char *dir, const sk_wl_import_opts *o,
				 sk_wl_import_stats *stats, sk_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	sk_jdoc *doc = NULL;
	sk_err rc = SK_OK;

	if (!d)
		return sk_error_set(err, SK_EIO, "%s: cannot open directory", dir);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap ? cap * 2 : 64) * sizeof(*names));
			if (!nn) {
				rc = sk_error_set(err, SK_ENOMEM, "out of memory");
				goto out;
			}
			names = nn;
			cap = cap ? cap * 2 : 64;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	if (sk_json_doc_new(MAX_LIST_FILE * 2, 0, &doc)) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		char path[4096];
		struct stat sb;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s/list.json", dir, names[i]) >=
		    sizeof(path))
			continue;
		if (stat(path, &sb) || !S_ISREG(sb.st_mode))
			continue;
		rc = import_path(st, doc, path, o, stats, err);
	}
out:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	sk_json_doc_free(doc);
	return rc;
}

sk_err sk_warninglist_each(sk_store *st, int (*fn)(void *ud, const sk_wl_info *l), void *ud,
			   sk_error *err)
{
	sqlite3_stmt *q = NULL;
	sk_err rc = SK_OK;
	int step;

	if (sqlite3_prepare_v2(sk_store_sqlite(st),
			       "SELECT name, version, description, type, matching_attributes,"
			       " (SELECT COUNT(*) FROM warninglist_entries WHERE list=name)"
			       " FROM warninglists ORDER BY name",
			       -1, &q, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "warninglists");
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		sk_wl_info l = {
		    .name = (const char *)sqlite3_column_text(q, 0),
		    .version = sqlite3_column_int64(q, 1),
		    .description = (const char *)sqlite3_column_text(q, 2),
		    .type = (const char *)sqlite3_column_text(q, 3),
		    .matching_attributes = (const char *)sqlite3_column_text(q, 4),
		    .entries = sqlite3_column_int64(q, 5),
		};
		if (fn(ud, &l))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "warninglists");
	sqlite3_finalize(q);
	return rc;
}

/* --- POSIX regex to Hyperscan -------------------------------------------- */

typedef struct rxout {
	char *p;
	size_t len, cap;
	bool ok;
} rxout;

static void emit(rxout *o, const char *s, size_t n)
{
	if (!o->ok || o->len + n >= o->cap) {
		o->ok = false;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void emit_hex(rxout *o, unsigned char c)
{
	static const char hx[] = "0123456789abcdef";
	char b[4] = {'\\', 'x', hx[c >> 4], hx[c & 15]};
	emit(o, b, 4);
}

/* One byte as a literal: ASCII letters and digits as they are, anything else \xHH. */
static void emit_lit(rxout *o, unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		emit(o, (const char *)&c, 1);
	else
		emit_hex(o, c);
}

/*
 * The POSIX character classes of the C locale as explicit byte ranges, so
 * that Hyperscan's own reading of a class (is \v a space?) does not matter.
 * upper and lower are refused under REG_ICASE, where glibc folds them its
 * own way.
 */
static const char *posix_class(const char *name, size_t n, bool icase)
{
	static const struct {
		const char *name, *ranges;
	} cls[] = {
	    {"alpha", "A-Za-z"},
	    {"digit", "0-9"},
	    {"alnum", "0-9A-Za-z"},
	    {"upper", "A-Z"},
	    {"lower", "a-z"},
	    {"xdigit", "0-9A-Fa-f"},
	    {"space", "\\x09-\\x0d\\x20"},
	    {"blank", "\\x09\\x20"},
	    {"punct", "\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e"},
	    {"print", "\\x20-\\x7e"},
	    {"graph", "\\x21-\\x7e"},
	    {"cntrl", "\\x00-\\x1f\\x7f"},
	};
	for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++)
		if (strlen(cls[i].name) == n && !memcmp(cls[i].name, name, n))
			return icase && (i == 3 || i == 4) ? NULL : cls[i].ranges;
	return NULL;
}

/*
 * The bracket expression at *pp ('['), every member spelled out as \xHH or
 * an explicit range; advances *pp past its ']'.  False for what the subset
 * leaves to regexec: collating elements, equivalence classes, ranges under
 * REG_ICASE, a '-' that is neither first, last nor a range's.
 */
static bool bracket(const char **pp, bool icase, rxout *o)
{
	const char *p = *pp + 1, *start;

	emit(o, "[", 1);
	if (*p == '^') {
		emit(o, "^", 1);
		p++;
	}
	start = p;
	for (;;) {
		unsigned char lo = (unsigned char)*p, hi;
		if (!lo)
			return false;
		if (lo == ']' && p != start)
			break;
		if (lo == '[' && p[1] == ':') {
			const char *end = strstr(p + 2, ":]"), *r;
			if (!end || !(r = posix_class(p + 2, (size_t)(end - p - 2), icase)))
				return false;
			emit(o, r, strlen(r));
			p = end + 2;
			if (*p == '-' && p[1] != ']')
				return false; /* a class as a range's end */
			continue;
		}
		if (lo == '[' && (p[1] == '.' || p[1] == '='))
			return false;
		if (lo == '-' && p != start && p[1] != ']')
			return false;
		p++;
		emit_hex(o, lo);
		if (*p == '-' && p[1] && p[1] != ']') {
			hi = (unsigned char)p[1];
			if (icase || hi == '[' || hi < lo)
				return false;
			emit(o, "-", 1);
			emit_hex(o, hi);
			p += 2;
		}
	}
	emit(o, "]", 1);
	*pp = p + 1;
	return o->ok;
}

bool sk_warninglist_regex_to_hs(const char *re, bool icase, char *out, size_t outsz)
{
	/* what came just before: decides whether a quantifier may follow */
	enum { START, ATOM, ANCHOR, QUANT } prev = START;
	rxout o = {out, 0, outsz, outsz > 0};
	unsigned depth = 0;
	const char *p = re;

	if (outsz)
		out[0] = '\0';
	while (*p && o.ok) {
		unsigned char c = (unsigned char)*p;
		switch (c) {
		case '(':
			if (++depth > 64)
				return false;
			emit(&o, "(", 1);
			prev = START;
			p++;
			break;
		case ')':
			if (!depth || prev == START)
				return false; /* unmatched (glibc: a literal), or empty */
			depth--;
			emit(&o, ")", 1);
			prev = ATOM;
			p++;
			break;
		case '|':
			if (prev == START)
				return false; /* empty alternative */
			emit(&o, "|", 1);
			prev = START;
			p++;
			break;
		case '*':
		case '+':
		case '?':
			if (prev != ATOM)
				return false; /* nothing to repeat, or a repeated repeat */
			emit(&o, (const char *)&c, 1);
			prev = QUANT;
			p++;
			break;
		case '{': {
			char *end;
			unsigned long lo, hi;
			char b[48]; /* "{lo,hi}": 2 x 20 digits at most, whatever the compiler proves */
			if (prev != ATOM || p[1] < '0' || p[1] > '9')
				return false;
			lo = strtoul(p + 1, &end, 10);
			hi = lo;
			if (*end == ',') {
				if (end[1] == '}') {
					hi = ULONG_MAX;
					end++;
				} else if (end[1] >= '0' && end[1] <= '9') {
					hi = strtoul(end + 1, &end, 10);
				} else {
					return false;
				}
			}
			if (*end != '}' || lo > 255 || (hi != ULONG_MAX && (hi > 255 || hi < lo)))
				return false;
			if (hi == ULONG_MAX)
				snprintf(b, sizeof(b), "{%lu,}", lo);
			else if (hi == lo)
				snprintf(b, sizeof(b), "{%lu}", lo);
			else
				snprintf(b, sizeof(b), "{%lu,%lu}", lo, hi);
			emit(&o, b, strlen(b));
			prev = QUANT;
			p = end + 1;
			break;
		}
		case '^':
			emit(&o, "^", 1);
			prev = ANCHOR;
			p++;
			break;
		case '$':
			/* POSIX '$' is the very end; Hyperscan's also matches before a final \n */
			emit(&o, "\\z", 2);
			prev = ANCHOR;
			p++;
			break;
		case '.':
			emit(&o, ".", 1); /* with SK_MHS_DOTALL: any byte, as in POSIX */
			prev = ATOM;
			p++;
			break;
		case '[':
			if (!bracket(&p, icase, &o))
				return false;
			prev = ATOM;
			break;
		case '\\':
			c = (unsigned char)p[1];
			/* \w, \b, \<, \`, \1... are GNU extensions: left to regexec */
			if (!c || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') || strchr("<>`'", c))
				return false;
			emit_hex(&o, c);
			prev = ATOM;
			p += 2;
			break;
		default:
			emit_lit(&o, c);
			prev = ATOM;
			p++;
			break;
		}
	}
	return o.ok && !depth && prev != START;
}

/* MISP writes "/re/flags"; anything else is the regex itself.  Flag 'i' = REG_ICASE. */
static void split_misp_re(const char *v, size_t n, char *re, size_t resz, bool *icase)
{
	const char *end = strrchr(v, '/');
	*icase = false;
	if (n >= 2 && v[0] == '/' && end && end > v) {
		*icase = strchr(end, 'i') != NULL;
		snprintf(re, resz, "%.*s", (int)(end - v - 1), v + 1);
	} else {
		snprintf(re, resz, "%s", v);
	}
}

/* True when LC_CTYPE is the C locale: the translation assumes one byte = one character. */
static bool c_ctype(void)
{
	const char *l = setlocale(LC_CTYPE, NULL);
	return l && (!strcmp(l, "C") || !strcmp(l, "POSIX"));
}

/* --- the in-memory set --------------------------------------------------- */

enum { T_STRING, T_SUBSTRING, T_HOSTNAME, T_CIDR, T_REGEX };

typedef struct wl_list {
	char *name;
	int type;
	unsigned kinds; /* bit per sk_wl_kind */
	size_t entries;
	regex_t *res; /* regex entries outside the Hyperscan subset */
	size_t nres;
} wl_list;

typedef struct slot {
	uint64_t hash;
	uint32_t off, len; /* key in the arena */
	uint32_t list;
	uint32_t used;
} slot;

/*
 * Expressions collected while loading, for one Hyperscan database.  A regex
 * expression's text is followed (after its NUL) by its POSIX original.
 */
typedef struct hs_pending {
	char **text;
	size_t *len;
	unsigned *flags;
	uint32_t *list;
	uint32_t n, cap;
} hs_pending;

/* One lookup's scratch: Hyperscan's, and a bitmap of the lists an entry matched. */
typedef struct wl_scratch {
	struct wl_scratch *next;
	mhs_scratch *hs;
	bool sub_fit; /* hs also serves the substring database */
	uint64_t hits[];
} wl_scratch;

/* The substring database's life (see SUB_LAZY). */
enum { SUB_PENDING, SUB_BUILDING, SUB_READY, SUB_FAILED };

/* Scratches not in use; lookups take one and give it back (see scratch_get). */
typedef struct wl_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	wl_scratch *free;
} wl_pool;

struct sk_wl_set {
	wl_list *lists;
	size_t nlists;
	slot *tab;
	size_t tabsize, nkeys;
	char *arena;
	size_t alen, acap;
	unsigned char plen4[33], plen6[129]; /* prefix lengths in use */
	size_t entries;
	uint64_t *bloom; /* over the keys' hashes; NULL = probe the table */
	size_t bloom_mask;
	/* substring and regex entries; psub stays for the lookups before sub_db */
	mhs *sub_db, *re_db;
	uint32_t *re_list; /* expression id -> list */
	size_t nre_fallback;
	atomic_int sub_state; /* SUB_*; sub_db is set before SUB_READY is stored */
	atomic_uint_fast64_t sub_lookups;
	uint64_t sub_lazy; /* SUB_LAZY, or what a test sets */
	uint32_t nre;
	/* kinds some list with substring / Hyperscan regex / regexec entries applies to */
	unsigned sub_kinds, re_kinds, fb_kinds;
	size_t words; /* of a wl_scratch's hits */
	wl_pool *pool;
	hs_pending psub, pre; /* pre: while loading */
	bool c_locale;
};

static uint64_t hash_bytes(const void *p, size_t n)
{
	/* FNV-1a, 64 bit */
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static sk_err grow(sk_wl_set *s)
{
	size_t nsize = s->tabsize ? s->tabsize * 2 : 1024;
	slot *nt = calloc(nsize, sizeof(*nt));
	if (!nt)
		return SK_ENOMEM;
	for (size_t i = 0; i < s->tabsize; i++) {
		if (!s->tab[i].used)
			continue;
		size_t j = s->tab[i].hash & (nsize - 1);
		while (nt[j].used)
			j = (j + 1) & (nsize - 1);
		nt[j] = s->tab[i];
	}
	free(s->tab);
	s->tab = nt;
	s->tabsize = nsize;
	return SK_OK;
}

static sk_err add_key(sk_wl_set *s, const void *key, size_t n, uint32_t list)
{
	uint64_t h = hash_bytes(key, n);
	size_t j;
	if ((s->nkeys + 1) * 2 > s->tabsize && grow(s))
		return SK_ENOMEM;
	j = h & (s->tabsize - 1);
	while (s->tab[j].used) {
		slot *t = &s->tab[j];
		if (t->hash == h && t->len == n && t->list == list &&
		    !memcmp(s->arena + t->off, key, n))
			return SK_OK; /* already there */
		j = (j + 1) & (s->tabsize - 1);
	}
	if (s->alen + n > s->acap) {
		size_t ncap = s->acap ? s->acap * 2 : 1 << 20;
		char *na;
		while (ncap < s->alen + n)
			ncap *= 2;
		if (ncap > UINT32_MAX || !(na = realloc(s->arena, ncap)))
			return SK_ENOMEM;
		s->arena = na;
		s->acap = ncap;
	}
	memcpy(s->arena + s->alen, key, n);
	s->tab[j] = (slot){.hash = h, .off = (uint32_t)s->alen, .len = (uint32_t)n, .list = list,
			   .used = 1};
	s->alen += n;
	s->nkeys++;
	return SK_OK;
}

/* The Bloom filter's three bits for hash h (its word is chosen by other bits). */
static uint64_t bloom_bits(uint64_t h)
{
	return (1ull << (h >> 40 & 63)) | (1ull << (h >> 46 & 63)) | (1ull << (h >> 52 & 63));
}

static sk_err bloom_build(sk_wl_set *s)
{
	size_t words = 1;
	while (words < s->nkeys / 16)
		words *= 2;
	if (!s->nkeys || !(s->bloom = calloc(words, sizeof(*s->bloom))))
		return s->nkeys ? SK_ENOMEM : SK_OK;
	s->bloom_mask = words - 1;
	for (size_t i = 0; i < s->tabsize; i++)
		if (s->tab[i].used)
			s->bloom[(s->tab[i].hash >> 8) & s->bloom_mask] |=
			    bloom_bits(s->tab[i].hash);
	return SK_OK;
}

/* Calls fn for each list holding key; stops when fn returns true. */
static bool find_key(const sk_wl_set *s, const void *key, size_t n,
		     bool (*fn)(void *ud, uint32_t list), void *ud)
{
	uint64_t h, b;
	size_t j;
	if (!s->tabsize)
		return false;
	h = hash_bytes(key, n);
	b = bloom_bits(h);
	if (s->bloom && (s->bloom[(h >> 8) & s->bloom_mask] & b) != b)
		return false;
	j = h & (s->tabsize - 1);
	while (s->tab[j].used) {
		const slot *t = &s->tab[j];
		if (t->hash == h && t->len == n && !memcmp(s->arena + t->off, key, n) &&
		    fn(ud, t->list))
			return true;
		j = (j + 1) & (s->tabsize - 1);
	}
	return false;
}

/* Queue expression text[0..n) (and orig, may be NULL) of list li; both are copied. */
static sk_err pend(hs_pending *p, const char *text, size_t n, const char *orig, unsigned flags,
                   uint32_t li)
{
	size_t on = orig ? strlen(orig) : 0;
	char *t;
	if (p->n == p->cap) {
		uint32_t nc = p->cap ? p->cap * 2 : 64;
		char **nt;
		size_t *nl;
		unsigned *nf;
		uint32_t *nli;
		if (nc < p->cap)
			return SK_ENOMEM;
		if ((nt = realloc(p->text, nc * sizeof(*nt))))
			p->text = nt;
		if ((nl = realloc(p->len, nc * sizeof(*nl))))
			p->len = nl;
		if ((nf = realloc(p->flags, nc * sizeof(*nf))))
			p->flags = nf;
		if ((nli = realloc(p->list, nc * sizeof(*nli))))
			p->list = nli;
		if (!nt || !nl || !nf || !nli)
			return SK_ENOMEM;
		p->cap = nc;
	}
	if (!(t = malloc(n + on + 2)))
		return SK_ENOMEM;
	memcpy(t, text, n);
	t[n] = '\0';
	memcpy(t + n + 1, orig ? orig : "", on + 1);
	p->text[p->n] = t;
	p->len[p->n] = n;
	p->flags[p->n] = flags;
	p->list[p->n] = li;
	p->n++;
	return SK_OK;
}

static void pend_free(hs_pending *p)
{
	for (uint32_t i = 0; i < p->n; i++)
		free(p->text[i]);
	free(p->text);
	free(p->len);
	free(p->flags);
	free(p->list);
	memset(p, 0, sizeof(*p));
}

/* Keep a POSIX regex for regexec (entries outside the Hyperscan subset). */
static sk_err add_fallback(sk_wl_set *s, uint32_t li, const char *re, bool icase)
{
	wl_list *l = &s->lists[li];
	regex_t *nr = realloc(l->res, (l->nres + 1) * sizeof(*nr));
	if (!nr)
		return SK_ENOMEM;
	l->res = nr;
	if (regcomp(&l->res[l->nres], re, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)))
		return SK_OK;
	l->nres++;
	s->nre_fallback++;
	return SK_OK;
}

static sk_err add_regex(sk_wl_set *s, uint32_t li, const char *v, size_t n)
{
	char re[MAX_VALUE], hs[8 * MAX_VALUE];
	bool icase;
	regex_t rx;

	split_misp_re(v, n, re, sizeof(re), &icase);
	/* what POSIX cannot compile is skipped, with or without Hyperscan */
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)))
		return SK_OK;
	regfree(&rx);
	if (s->c_locale && sk_warninglist_regex_to_hs(re, icase, hs, sizeof(hs)))
		return pend(&s->pre, hs, strlen(hs), re,
		            SK_MHS_DOTALL | (icase ? SK_MHS_CASELESS : 0u), li);
	return add_fallback(s, li, re, icase);
}

static sk_err add_entry(sk_wl_set *s, uint32_t li, const char *v, size_t n)
{
	wl_list *l = &s->lists[li];
	unsigned char key[2 + 16 + MAX_VALUE];

	l->entries++;
	s->entries++;
	switch (l->type) {
	case T_STRING:
	case T_HOSTNAME:
		if (n + 1 > sizeof(key))
			return SK_OK;
		key[0] = l->type == T_STRING ? 's' : 'h';
		memcpy(key + 1, v, n);
		return add_key(s, key, n + 1, li);
	case T_CIDR: {
		unsigned char a[16];
		unsigned plen;
		int fam;
		if (!parse_cidr(v, &fam, a, &plen))
			return SK_OK; /* not an address: cannot match anything */
		mask(a, fam == 4 ? 4 : 16, plen);
		key[0] = fam == 4 ? '4' : '6';
		key[1] = (unsigned char)plen;
		memcpy(key + 2, a, fam == 4 ? 4 : 16);
		if (fam == 4)
			s->plen4[plen] = 1;
		else
			s->plen6[plen] = 1;
		return add_key(s, key, fam == 4 ? 6 : 18, li);
	}
	case T_SUBSTRING:
		/* an entry holding a NUL byte cannot occur in a value (strdup used to cut it) */
		return n && !memchr(v, '\0', n) ? pend(&s->psub, v, n, NULL, 0, li) : SK_OK;
	case T_REGEX:
		return add_regex(s, li, v, n);
	}
	return SK_OK;
}

/* Take the pending expressions' list numbers as the id -> list map. */
static uint32_t *take_lists(hs_pending *p)
{
	uint32_t *m = p->list;
	p->list = NULL;
	return m;
}

/*
 * Build the regex database.  An expression Hyperscan refuses goes to
 * regexec and the others are tried again (rarely needed: the subset is
 * what Hyperscan takes).
 */
static sk_err build_regex(sk_wl_set *s, sk_error *err)
{
	hs_pending *p = &s->pre;

	while (p->n) {
		uint32_t bad;
		sk_error e2;
		sk_err rc = sk_mhs_build((const char *const *)p->text, p->flags, p->n, &s->re_db,
		                         &bad, &e2);
		if (!rc)
			break;
		if (rc == SK_ENOMEM)
			return sk_error_set(err, rc, "warning lists: %s", e2.msg);
		for (uint32_t i = p->n; i-- > 0;) {
			if (bad != UINT32_MAX && i != bad)
				continue;
			if ((rc = add_fallback(s, p->list[i], p->text[i] + p->len[i] + 1,
			                       p->flags[i] & SK_MHS_CASELESS)))
				return sk_error_set(err, rc, "out of memory");
			free(p->text[i]);
			p->n--;
			p->text[i] = p->text[p->n];
			p->len[i] = p->len[p->n];
			p->flags[i] = p->flags[p->n];
			p->list[i] = p->list[p->n];
		}
	}
	s->nre = p->n;
	return SK_OK;
}

/* A scratch for both databases, or NULL when out of memory. */
static wl_scratch *scratch_new(const sk_wl_set *s)
{
	wl_scratch *sc = calloc(1, sizeof(*sc) + s->words * sizeof(uint64_t));
	sk_error e;
	if (!sc)
		return NULL;
	if (s->re_db && sk_mhs_scratch_fit(s->re_db, &sc->hs, &e)) {
		sk_mhs_scratch_free(sc->hs);
		free(sc);
		return NULL;
	}
	return sc;
}

/*
 * A scratch nobody else is using: a free one, else a new one, else (out of
 * memory) wait for one to come back.  The set starts with one, so the wait
 * ends.
 */
static wl_scratch *scratch_get(const sk_wl_set *s)
{
	wl_pool *p = s->pool;
	wl_scratch *sc;

	pthread_mutex_lock(&p->mu);
	if ((sc = p->free))
		p->free = sc->next;
	pthread_mutex_unlock(&p->mu);
	if (sc || (sc = scratch_new(s)))
		return sc;
	pthread_mutex_lock(&p->mu);
	while (!p->free)
		pthread_cond_wait(&p->cv, &p->mu);
	sc = p->free;
	p->free = sc->next;
	pthread_mutex_unlock(&p->mu);
	return sc;
}

static void scratch_put(const sk_wl_set *s, wl_scratch *sc)
{
	wl_pool *p = s->pool;
	pthread_mutex_lock(&p->mu);
	sc->next = p->free;
	p->free = sc;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void sk_warninglist_free(sk_wl_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nlists; i++) {
		wl_list *l = &s->lists[i];
		free(l->name);
		for (size_t j = 0; j < l->nres; j++)
			regfree(&l->res[j]);
		free(l->res);
	}
	if (s->pool) {
		for (wl_scratch *sc = s->pool->free, *n; sc; sc = n) {
			n = sc->next;
			sk_mhs_scratch_free(sc->hs);
			free(sc);
		}
		pthread_mutex_destroy(&s->pool->mu);
		pthread_cond_destroy(&s->pool->cv);
		free(s->pool);
	}
	free(s->bloom);
	sk_mhs_free(s->sub_db);
	sk_mhs_free(s->re_db);
	free(s->re_list);
	pend_free(&s->psub);
	pend_free(&s->pre);
	free(s->lists);
	free(s->tab);
	free(s->arena);
	free(s);
}

static int type_code(const char *t)
{
	if (!t)
		return T_STRING;
	if (!strcmp(t, "substring"))
		return T_SUBSTRING;
	if (!strcmp(t, "hostname"))
		return T_HOSTNAME;
	if (!strcmp(t, "cidr"))
		return T_CIDR;
	if (!strcmp(t, "regex"))
		return T_REGEX;
	return T_STRING;
}

/* After the entries: Bloom filter, databases, first scratch, kinds that need a scan. */
static sk_err finish_load(sk_wl_set *s, sk_error *err)
{
	wl_scratch *sc;
	sk_err rc;

	if (bloom_build(s))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < s->psub.n; i++)
		s->sub_kinds |= s->lists[s->psub.list[i]].kinds;
	s->sub_lazy = SUB_LAZY;
	atomic_init(&s->sub_state, SUB_PENDING);
	atomic_init(&s->sub_lookups, 0);
	if ((rc = build_regex(s, err)))
		return rc;
	if (s->nre) {
		s->re_list = take_lists(&s->pre);
		for (size_t i = 0; i < s->nre; i++)
			s->re_kinds |= s->lists[s->re_list[i]].kinds;
	}
	pend_free(&s->pre);
	for (size_t i = 0; i < s->nlists; i++)
		if (s->lists[i].nres)
			s->fb_kinds |= s->lists[i].kinds;
	s->words = (s->nlists + 63) / 64;
	if (!(s->pool = calloc(1, sizeof(*s->pool))))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (pthread_mutex_init(&s->pool->mu, NULL)) {
		free(s->pool);
		s->pool = NULL;
		return sk_error_set(err, SK_ENOMEM, "cannot create a mutex");
	}
	if (pthread_cond_init(&s->pool->cv, NULL)) {
		pthread_mutex_destroy(&s->pool->mu);
		free(s->pool);
		s->pool = NULL;
		return sk_error_set(err, SK_ENOMEM, "cannot create a condition variable");
	}
	if (!(sc = scratch_new(s)))
		return sk_error_set(err, SK_ENOMEM, "out of memory (Hyperscan scratch)");
	s->pool->free = sc;
	return SK_OK;
}

sk_err sk_warninglist_load(sk_store *st, sk_wl_set **out, sk_error *err)
{
	sqlite3 *db = sk_store_sqlite(st);
	sqlite3_stmt *q = NULL;
	sk_wl_set *s = calloc(1, sizeof(*s));
	sk_jdoc *doc = NULL;
	sk_err rc = SK_OK;
	int step;

	*out = NULL;
	if (!s || sk_json_doc_new(1 << 20, 0, &doc)) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	s->c_locale = c_ctype();
	if (sqlite3_prepare_v2(db,
			       "SELECT name, type, matching_attributes FROM warninglists ORDER BY name",
			       -1, &q, NULL) != SQLITE_OK)
		goto dberr;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *ma = (const char *)sqlite3_column_text(q, 2);
		const sk_jval *attrs = NULL;
		wl_list *nl = realloc(s->lists, (s->nlists + 1) * sizeof(*nl));
		if (!nl) {
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
			goto out;
		}
		s->lists = nl;
		memset(&nl[s->nlists], 0, sizeof(*nl));
		nl[s->nlists].name = strdup((const char *)sqlite3_column_text(q, 0));
		nl[s->nlists].type = type_code((const char *)sqlite3_column_text(q, 1));
		if (ma && sk_json_parse(doc, ma, strlen(ma), &attrs, NULL))
			attrs = NULL;
		nl[s->nlists].kinds = kinds_of_attrs(attrs);
		s->nlists++;
		if (!nl[s->nlists - 1].name) {
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (step != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT list, value FROM warninglist_entries ORDER BY list", -1,
			       &q, NULL) != SQLITE_OK)
		goto dberr;
	{
		uint32_t li = 0;
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			const char *ln = (const char *)sqlite3_column_text(q, 0);
			const char *v = (const char *)sqlite3_column_text(q, 1);
			while (li < s->nlists && strcmp(s->lists[li].name, ln) < 0)
				li++;
			if (li >= s->nlists || strcmp(s->lists[li].name, ln))
				continue;
			if (add_entry(s, li, v, (size_t)sqlite3_column_bytes(q, 1))) {
				rc = sk_error_set(err, SK_ENOMEM, "out of memory");
				goto out;
			}
		}
		if (step != SQLITE_DONE)
			goto dberr;
	}
	rc = finish_load(s, err);
	goto out;
dberr:
	rc = sk_store_dberr(st, err, "warninglists");
out:
	sqlite3_finalize(q);
	sk_json_doc_free(doc);
	if (rc) {
		sk_warninglist_free(s);
		return rc;
	}
	*out = s;
	return SK_OK;
}

size_t sk_warninglist_count(const sk_wl_set *s, size_t *entries)
{
	if (entries)
		*entries = s ? s->entries : 0;
	return s ? s->nlists : 0;
}

void sk_warninglist_regex_counts(const sk_wl_set *s, size_t *hs, size_t *fallback)
{
	*hs = s ? s->nre : 0;
	*fallback = s ? s->nre_fallback : 0;
}

void sk_warninglist_sub_lazy(sk_wl_set *s, uint64_t lookups)
{
	s->sub_lazy = lookups;
}

/* --- matching ------------------------------------------------------------ */

typedef struct match_ctx {
	const sk_wl_set *s;
	sk_wl_kind kind;
	bool any_kind;
	bool all;
	size_t hits;
	unsigned char seen[512]; /* bitmap of lists reported (first 4096 lists) */
	const char *first;
	void (*fn)(void *ud, const char *list, const char *type);
	void *ud;
} match_ctx;

static const char *type_name(int t)
{
	static const char *const n[] = {"string", "substring", "hostname", "cidr", "regex"};
	return n[t];
}

/* true = stop looking */
static bool hit(void *ud, uint32_t li)
{
	match_ctx *m = ud;
	const wl_list *l = &m->s->lists[li];
	if (!m->any_kind && !(l->kinds & (1u << m->kind)))
		return false;
	if (li < sizeof(m->seen) * 8) {
		if (m->seen[li / 8] & (1u << (li % 8)))
			return false;
		m->seen[li / 8] |= (unsigned char)(1u << (li % 8));
	}
	m->hits++;
	if (!m->first)
		m->first = l->name;
	if (m->fn)
		m->fn(m->ud, l->name, type_name(l->type));
	return !m->all;
}

/* The host of a URL ("scheme://[user@]host[:port]/..."), lowercased, into out. */
static size_t url_host(const char *v, char *out, size_t outsz)
{
	const char *p = strstr(v, "://"), *e, *at;
	size_t n;
	if (!p)
		return 0;
	p += 3;
	e = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(e - p));
	if (at)
		p = at + 1;
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(e - p));
		if (!close)
			return 0;
		n = (size_t)(close - p - 1);
		p++;
	} else {
		const char *colon = memchr(p, ':', (size_t)(e - p));
		n = (size_t)((colon ? colon : e) - p);
	}
	return norm_value(p, n, false, out, outsz);
}

static bool match_ip(match_ctx *m, const char *v)
{
	unsigned char a[16], key[18];
	unsigned plen;
	int fam;
	if (!parse_cidr(v, &fam, a, &plen))
		return false;
	key[0] = fam == 4 ? '4' : '6';
	for (int L = (int)plen; L >= 0; L--) {
		if (!(fam == 4 ? m->s->plen4[L] : m->s->plen6[L]))
			continue;
		unsigned char b[16];
		memcpy(b, a, 16);
		mask(b, fam == 4 ? 4 : 16, (unsigned)L);
		key[1] = (unsigned char)L;
		memcpy(key + 2, b, fam == 4 ? 4 : 16);
		if (find_key(m->s, key, fam == 4 ? 6 : 18, hit, m))
			return true;
	}
	return false;
}

static bool match_host(match_ctx *m, const char *h, size_t n)
{
	unsigned char key[1 + MAX_VALUE];
	const char *p = h;
	key[0] = 'h';
	for (;;) {
		size_t len = n - (size_t)(p - h);
		memcpy(key + 1, p, len);
		if (find_key(m->s, key, len + 1, hit, m))
			return true;
		p = memchr(p, '.', len);
		if (!p)
			return false;
		p++;
	}
}

typedef struct scan_ctx {
	const uint32_t *list; /* expression id -> list */
	uint64_t *hits;
} scan_ctx;

static void on_entry(uint32_t id, void *ud)
{
	scan_ctx *c = ud;
	uint32_t li = c->list[id];
	c->hits[li / 64] |= 1ull << (li % 64);
}

/*
 * The substring database, once built; the lookup that finds the set past its
 * lazy phase builds it.  NULL: not (yet) there, go entry by entry.
 */
static const mhs *sub_db(sk_wl_set *s)
{
	int st = atomic_load_explicit(&s->sub_state, memory_order_acquire), pending = SUB_PENDING;
	sk_error e;

	if (st == SUB_READY)
		return s->sub_db;
	if (st != SUB_PENDING || atomic_fetch_add(&s->sub_lookups, 1) < s->sub_lazy ||
	    !atomic_compare_exchange_strong(&s->sub_state, &pending, SUB_BUILDING))
		return NULL;
	/* one thread builds; the others go on entry by entry meanwhile */
	if (sk_mhs_build_lit((const char *const *)s->psub.text, s->psub.len, s->psub.n, &s->sub_db,
	                     &e)) {
		atomic_store_explicit(&s->sub_state, SUB_FAILED, memory_order_release);
		return NULL;
	}
	atomic_store_explicit(&s->sub_state, SUB_READY, memory_order_release);
	return s->sub_db;
}

/* Substring entries of the lists in want against v[0..n] (NUL-terminated): the lists
 * found go to sc->hits. */
static void scan_subs(const sk_wl_set *cs, wl_scratch *sc, unsigned want, const char *v, size_t n)
{
	sk_wl_set *s = (sk_wl_set *)cs; /* the lazy build is the set's own business */
	const hs_pending *p = &s->psub;
	const mhs *db = sub_db(s);
	sk_error e;

	if (db && (sc->sub_fit || !sk_mhs_scratch_fit(db, &sc->hs, &e))) {
		scan_ctx c = {p->list, sc->hits};
		sc->sub_fit = true;
		sk_mhs_scan(db, sc->hs, v, n, on_entry, &c);
		return;
	}
	for (uint32_t i = 0; i < p->n; i++) {
		uint32_t li = p->list[i];
		if ((sc->hits[li / 64] & (1ull << (li % 64))) || !(s->lists[li].kinds & want) ||
		    !strstr(v, p->text[i]))
			continue;
		sc->hits[li / 64] |= 1ull << (li % 64);
	}
}

/*
 * Substring entries against the normalised value v[0..n), regex entries
 * against the value as given; the lists found are reported in list order,
 * as the entry-by-entry loop did.
 */
static void scan_lists(match_ctx *m, const char *v, size_t n, const char *value)
{
	const sk_wl_set *s = m->s;
	unsigned want = m->any_kind ? ~0u : 1u << m->kind;
	wl_scratch *sc;
	scan_ctx c;

	if (!((s->sub_kinds | s->re_kinds | s->fb_kinds) & want))
		return;
	sc = scratch_get(s);
	memset(sc->hits, 0, s->words * sizeof(uint64_t));
	c.hits = sc->hits;
	if (s->sub_kinds & want)
		scan_subs(s, sc, want, v, n);
	if (s->re_kinds & want) {
		c.list = s->re_list;
		sk_mhs_scan(s->re_db, sc->hs, value, strlen(value), on_entry, &c);
	}
	for (size_t li = 0; (s->fb_kinds & want) && li < s->nlists; li++) {
		const wl_list *l = &s->lists[li];
		if (!l->nres || (sc->hits[li / 64] & (1ull << (li % 64))) ||
		    (!m->any_kind && !(l->kinds & (1u << m->kind))))
			continue;
		for (size_t j = 0; j < l->nres; j++)
			if (regexec(&l->res[j], value, 0, NULL, 0) == 0) {
				sc->hits[li / 64] |= 1ull << (li % 64);
				break;
			}
	}
	for (size_t w = 0; w < s->words; w++)
		for (uint64_t b = sc->hits[w]; b; b &= b - 1)
			if (hit(m, (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b))))
				goto out;
out:
	scratch_put(s, sc);
}

static size_t run_match(match_ctx *m, const char *value)
{
	char v[MAX_VALUE], host[MAX_VALUE];
	unsigned char key[1 + MAX_VALUE];
	size_t n, hn = 0;

	if (!m->s || !value)
		return 0;
	n = norm_value(value, strlen(value), false, v, sizeof(v));
	if (!n)
		return 0;
	n = canon_ip(v, n, sizeof(v));
	/* string lists */
	key[0] = 's';
	memcpy(key + 1, v, n);
	if (find_key(m->s, key, n + 1, hit, m))
		return m->hits;
	/* hostname lists: the domain itself, a URL's host, an e-mail's domain */
	if (m->kind == SK_WL_URL || strstr(v, "://"))
		hn = url_host(v, host, sizeof(host));
	else if (strchr(v, '@'))
		hn = norm_value(strrchr(v, '@') + 1, strlen(strrchr(v, '@') + 1), false, host,
				sizeof(host));
	else if (!strchr(v, '/') || m->kind == SK_WL_DOMAIN)
		memcpy(host, v, (hn = n) + 1);
	if (hn && hn < sizeof(host) && match_host(m, host, hn))
		return m->hits;
	/* cidr lists: an address, or the address in a URL (when that is another text) */
	if (match_ip(m, v) ||
	    (hn && hn < sizeof(host) && (hn != n || memcmp(host, v, n)) && match_ip(m, host)))
		return m->hits;
	/* substring and regex lists */
	scan_lists(m, v, n, value);
	return m->hits;
}

bool sk_warninglist_match(const sk_wl_set *set, sk_wl_kind kind, const char *value,
			  const char **list)
{
	match_ctx m = {.s = set, .kind = kind};
	bool r = run_match(&m, value) > 0;
	if (list)
		*list = r ? m.first : NULL;
	return r;
}

size_t sk_warninglist_match_all(const sk_wl_set *set, sk_wl_kind kind, const char *value,
				bool any_kind, void (*fn)(void *ud, const char *list,
							  const char *type),
				void *ud)
{
	match_ctx m = {.s = set, .kind = kind, .any_kind = any_kind, .all = true, .fn = fn,
		       .ud = ud};
	return run_match(&m, value);
}

sk_err sk_warninglist_stamp(sk_store *st, uint64_t *out, sk_error *err)
{
	static const char q[] = "SELECT count(*), coalesce(max(loaded), 0), coalesce(total(version), 0)"
				" FROM warninglists";
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	*out = 0;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "warninglists");
	if (sqlite3_step(s) == SQLITE_ROW) {
		/* FNV-1a over the three numbers: equal stamps, (almost surely) the same lists */
		uint64_t v[3] = {(uint64_t)sqlite3_column_int64(s, 0),
				 (uint64_t)sqlite3_column_int64(s, 1),
				 (uint64_t)sqlite3_column_double(s, 2)};
		uint64_t h = 1469598103934665603ULL;
		for (int i = 0; i < 3; i++)
			for (int b = 0; b < 64; b += 8)
				h = (h ^ ((v[i] >> b) & 0xff)) * 1099511628211ULL;
		*out = h;
	} else {
		rc = sk_store_dberr(st, err, "warninglists");
	}
	sqlite3_finalize(s);
	return rc;
}
