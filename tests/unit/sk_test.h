/*
 * sk_test.h - helpers shared by the Criterion unit tests.
 *
 * Scratch directories and files (each test gets its own directory, removed
 * afterwards), and the only places where a test turns JSON text into a
 * validated STIX object or stores one.  Keeping those two steps here means a
 * change of the library's JSON document type touches this file only.
 *
 * Everything is static inline: each test file includes this header once and
 * unused helpers must not trigger -Wunused-function.
 */
#ifndef SK_TEST_H
#define SK_TEST_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "schakel/error.h"
#include "schakel/stix.h"
#include "schakel/store.h"

/* --- scratch files ------------------------------------------------------ */

/* The current test's scratch directory ("" until t_tmpdir_make). */
static inline char *t_tmpdir(void)
{
	static char dir[512];
	return dir;
}

static inline void t_tmpdir_make(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = t_tmpdir();

	snprintf(dir, 512, "%s/sk-utest-XXXXXX", base && *base ? base : "/tmp");
	cr_assert_not_null(mkdtemp(dir), "cannot create a scratch directory under %s",
	                   base && *base ? base : "/tmp");
}

/* Remove the scratch directory and the (flat) files in it. */
static inline void t_tmpdir_remove(void)
{
	char *dir = t_tmpdir();
	char path[1024];
	struct dirent *e;
	DIR *d;

	if (!dir[0])
		return;
	d = opendir(dir);
	if (d) {
		while ((e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
	dir[0] = '\0';
}

/* Path of name inside the scratch directory (one of 8 rotating buffers). */
static inline const char *t_path(const char *name)
{
	static char bufs[8][1024];
	static int next;
	char *p = bufs[next++ & 7];

	snprintf(p, 1024, "%s/%s", t_tmpdir(), name);
	return p;
}

/* Write len bytes of data to name in the scratch directory; returns its path. */
static inline const char *t_write(const char *name, const void *data, size_t len)
{
	const char *path = t_path(name);
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "cannot write %s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len, "short write to %s", path);
	cr_assert_eq(fclose(f), 0);
	return path;
}

static inline const char *t_write_str(const char *name, const char *text)
{
	return t_write(name, text, strlen(text));
}

/* Write data gzip-compressed; returns the path. */
static inline const char *t_write_gz(const char *name, const void *data, size_t len)
{
	const char *path = t_path(name);
	gzFile gz = gzopen(path, "wb");

	cr_assert_not_null(gz, "cannot write %s", path);
	cr_assert_eq(gzwrite(gz, data, (unsigned)len), (int)len);
	cr_assert_eq(gzclose(gz), Z_OK);
	return path;
}

/* Read a whole file (malloc'd, NUL-terminated); *len gets its size. */
static inline char *t_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	cr_assert_not_null(f, "cannot read %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n + 1);
	cr_assert_not_null(p);
	cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return p;
}

/* --- JSON text editing (test input construction only) --------------------- */

/* text with member prop removed (malloc'd). */
static inline char *t_without(const char *text, const char *prop)
{
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	char *out;

	cr_assert_not_null(o, "bad test JSON (%s): %s", je.text, text);
	json_object_del(o, prop);
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	cr_assert_not_null(out);
	return out;
}

/* text with member prop set to the JSON value value_json (malloc'd). */
static inline char *t_with(const char *text, const char *prop, const char *value_json)
{
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	json_t *v = json_loads(value_json, JSON_DECODE_ANY, &je);
	char *out;

	cr_assert_not_null(o, "bad test JSON: %s", text);
	cr_assert_not_null(v, "bad test value (%s): %s", je.text, value_json);
	json_object_set_new(o, prop, v);
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	cr_assert_not_null(out);
	return out;
}

/* True if a and b are equal JSON texts. */
static inline int t_json_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	json_t *x = json_loadb(a, alen, JSON_DECODE_ANY, NULL);
	json_t *y = json_loadb(b, blen, JSON_DECODE_ANY, NULL);
	int eq = x && y && json_equal(x, y);

	json_decref(x);
	json_decref(y);
	return eq;
}

/* --- validation and storage --------------------------------------------- */

/* A parsed and validated object; info borrows from doc. */
typedef struct t_obj {
	sk_jdoc *doc;
	sk_stix_info info;
	sk_error err;
	sk_err rc;
} t_obj;

/* Parse text (which must be JSON) and validate it; returns o->rc. */
static inline sk_err t_validate(t_obj *o, const char *text)
{
	memset(o, 0, sizeof(*o));
	cr_assert_eq(sk_json_doc_new(0, 0, &o->doc), SK_OK);
	o->rc = sk_stix_validate_text(o->doc, text, strlen(text), &o->info, &o->err);
	cr_assert_neq(o->rc, SK_EJSON, "bad test JSON (%s): %s", o->err.msg, text);
	return o->rc;
}

static inline void t_obj_free(t_obj *o)
{
	sk_json_doc_free(o->doc);
	o->doc = NULL;
}

/*
 * Validate text (which must be valid STIX) and store it in collection cid
 * inside the caller's transaction.  Returns sk_store_put's result.
 */
static inline sk_err t_put(sk_store *st, int64_t cid, const char *text, sk_put_outcome *outcome,
                           int64_t *date_added, sk_error *err)
{
	t_obj o;
	sk_err rc;

	cr_assert_eq(t_validate(&o, text), SK_OK, "test object does not validate: %s", o.err.msg);
	rc = sk_store_put(st, cid, &o.info, text, strlen(text), outcome, date_added, err);
	t_obj_free(&o);
	return rc;
}

#endif
