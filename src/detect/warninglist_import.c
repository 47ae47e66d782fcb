/*
 * warninglist_import.c - the warning lists in the store: importing MISP
 * list.json files (a directory of them, or one), listing what is stored,
 * and the stamp that tells a loaded set whether the lists have changed.
 * Entries are stored normalised (warninglist_value.c); regex entries as
 * written.
 */
#include "schakel/warninglist.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schakel/buf.h"
#include "schakel/json.h"
#include "schakel/timestamp.h"
#include "store/store_priv.h"
#include "warninglist_priv.h"

#define MAX_LIST_FILE ((size_t)256 << 20)

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
			len = sk_wl_norm_value(e->u.s, e->n, hostname, v, sizeof(v));
			len = sk_wl_canon_ip(v, len, sizeof(v));
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
