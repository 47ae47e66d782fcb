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
 * Substring and regex lists are short and kept as plain lists.
 */
#include "schakel/warninglist.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schakel/buf.h"
#include "schakel/json.h"
#include "schakel/timestamp.h"
#include "store_priv.h"

#define MAX_LIST_FILE ((size_t)256 << 20)
#define MAX_VALUE 4096

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

/* Parse "addr" or "addr/plen" (v4 or v6).  fam 4 or 6. */
static bool parse_cidr(const char *s, int *fam, unsigned char addr[16], unsigned *plen)
{
	char tmp[80];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;

	if (n == 0 || n >= sizeof(tmp))
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

/* --- the in-memory set --------------------------------------------------- */

enum { T_STRING, T_SUBSTRING, T_HOSTNAME, T_CIDR, T_REGEX };

typedef struct wl_list {
	char *name;
	int type;
	unsigned kinds; /* bit per sk_wl_kind */
	size_t entries;
	/* substring: values; regex: compiled expressions */
	char **subs;
	size_t nsubs;
	regex_t *res;
	size_t nres;
} wl_list;

typedef struct slot {
	uint64_t hash;
	uint32_t off, len; /* key in the arena */
	uint32_t list;
	uint32_t used;
} slot;

struct sk_wl_set {
	wl_list *lists;
	size_t nlists;
	slot *tab;
	size_t tabsize, nkeys;
	char *arena;
	size_t alen, acap;
	unsigned char plen4[33], plen6[129]; /* prefix lengths in use */
	size_t entries;
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

/* Calls fn for each list holding key; stops when fn returns true. */
static bool find_key(const sk_wl_set *s, const void *key, size_t n,
		     bool (*fn)(void *ud, uint32_t list), void *ud)
{
	uint64_t h;
	size_t j;
	if (!s->tabsize)
		return false;
	h = hash_bytes(key, n);
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
	case T_SUBSTRING: {
		char **ns = realloc(l->subs, (l->nsubs + 1) * sizeof(*ns));
		if (!ns)
			return SK_ENOMEM;
		l->subs = ns;
		if (!(ns[l->nsubs] = strdup(v)))
			return SK_ENOMEM;
		l->nsubs++;
		return SK_OK;
	}
	case T_REGEX: {
		/* MISP writes "/re/flags" (PCRE); try it as POSIX extended */
		char re[MAX_VALUE];
		const char *end = strrchr(v, '/');
		int flags = REG_EXTENDED | REG_NOSUB;
		regex_t *nr;
		if (n >= 2 && v[0] == '/' && end && end > v) {
			if (strchr(end, 'i'))
				flags |= REG_ICASE;
			snprintf(re, sizeof(re), "%.*s", (int)(end - v - 1), v + 1);
		} else {
			snprintf(re, sizeof(re), "%s", v);
		}
		nr = realloc(l->res, (l->nres + 1) * sizeof(*nr));
		if (!nr)
			return SK_ENOMEM;
		l->res = nr;
		if (regcomp(&l->res[l->nres], re, flags) == 0)
			l->nres++;
		return SK_OK;
	}
	}
	return SK_OK;
}

void sk_warninglist_free(sk_wl_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nlists; i++) {
		wl_list *l = &s->lists[i];
		free(l->name);
		for (size_t j = 0; j < l->nsubs; j++)
			free(l->subs[j]);
		free(l->subs);
		for (size_t j = 0; j < l->nres; j++)
			regfree(&l->res[j]);
		free(l->res);
	}
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
		hn = (size_t)snprintf(host, sizeof(host), "%s", v);
	if (hn && hn < sizeof(host) && match_host(m, host, hn))
		return m->hits;
	/* cidr lists: an address, or the address in a URL */
	if (match_ip(m, v) || (hn && hn < sizeof(host) && match_ip(m, host)))
		return m->hits;
	/* substring and regex lists */
	for (size_t li = 0; li < m->s->nlists; li++) {
		const wl_list *l = &m->s->lists[li];
		bool found = false;
		if (!m->any_kind && !(l->kinds & (1u << m->kind)))
			continue;
		for (size_t j = 0; j < l->nsubs && !found; j++)
			found = strstr(v, l->subs[j]) != NULL;
		for (size_t j = 0; j < l->nres && !found; j++)
			found = regexec(&l->res[j], value, 0, NULL, 0) == 0;
		if (found && hit(m, (uint32_t)li))
			return m->hits;
	}
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
