/*
 * test_import.c - the import pipeline: per-type statistics, every input
 * shape, rejected objects and how they are reported, strict mode, batch
 * boundaries and structural errors.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/buf.h"
#include "schakel/import.h"
#include "schakel/store.h"
#include "sk_test.h"

#define T0 "2020-01-01T00:00:00.000Z"
#define M1 "2020-02-01T00:00:00.000Z"

static sk_store *st;
static int64_t cid;

static void setup(void)
{
	sk_collection c;
	sk_error err;

	t_tmpdir_make();
	cr_assert_eq(sk_store_open(t_path("import.db"), SK_STORE_CREATE, &st, &err), SK_OK, "%s",
	             err.msg);
	cr_assert_eq(sk_store_collection_add(st, "feeds", NULL, NULL, NULL, &c, &err), SK_OK);
	cid = c.cid;
	sk_collection_clear(&c);
}

static void teardown(void)
{
	sk_store_close(st);
	st = NULL;
	t_tmpdir_remove();
}

TestSuite(import, .init = setup, .fini = teardown);

/* --- helpers ------------------------------------------------------------- */

__attribute__((format(printf, 1, 2))) static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, f);
	n = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	cr_assert_geq(n, 0);
	s = malloc((size_t)n + 1);
	cr_assert_not_null(s);
	va_start(ap, f);
	vsnprintf(s, (size_t)n + 1, f, ap);
	va_end(ap);
	return s;
}

static char *indicator(int n)
{
	return fmt("{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	           "\"id\":\"indicator--00000000-0000-4000-8000-%012d\",\"created\":\"" T0
	           "\",\"modified\":\"" M1 "\",\"pattern\":\"[ipv4-addr:value = '198.51.100.%d']\","
	           "\"pattern_type\":\"stix\",\"valid_from\":\"" T0 "\"}",
	           n, n % 256);
}

static char *malware(int n)
{
	return fmt("{\"type\":\"malware\",\"spec_version\":\"2.1\","
	           "\"id\":\"malware--00000000-0000-4000-8000-%012d\",\"created\":\"" T0
	           "\",\"modified\":\"" M1 "\",\"name\":\"Example %d\",\"is_family\":true}",
	           n, n);
}

static char *relationship(int n)
{
	return fmt("{\"type\":\"relationship\",\"spec_version\":\"2.1\","
	           "\"id\":\"relationship--00000000-0000-4000-8000-%012d\",\"created\":\"" T0
	           "\",\"modified\":\"" M1 "\",\"relationship_type\":\"indicates\","
	           "\"source_ref\":\"indicator--00000000-0000-4000-8000-000000000001\","
	           "\"target_ref\":\"malware--00000000-0000-4000-8000-000000000002\"}",
	           n);
}

static char *ipv4(int n)
{
	return fmt("{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--00000000-0000-4000-8000-%012d\","
	           "\"value\":\"203.0.113.%d\"}",
	           n, n % 256);
}

/* An indicator that fails validation (no pattern). */
static char *bad_indicator(int n)
{
	return fmt("{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	           "\"id\":\"indicator--00000000-0000-4000-8000-%012d\",\"created\":\"" T0
	           "\",\"modified\":\"" M1 "\",\"pattern_type\":\"stix\",\"valid_from\":\"" T0
	           "\"}",
	           n);
}

/* Join texts (freed) into a bundle, one object per line starting on line 2. */
static char *bundle(char **objs, size_t n)
{
	sk_buf b;

	sk_buf_init(&b, 0);
	cr_assert_eq(sk_buf_puts(&b,
	                         "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-"
	                         "000000000000\",\"objects\":[\n"),
	             SK_OK);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(sk_buf_printf(&b, "%s%s\n", i ? "," : "", objs[i]), SK_OK);
		free(objs[i]);
	}
	cr_assert_eq(sk_buf_puts(&b, "]}\n"), SK_OK);
	return b.data;
}

/* n valid indicators in a bundle (objects on lines 2..n+1). */
static char *indicators(int n)
{
	char **objs = calloc((size_t)n, sizeof(*objs));
	char *t;

	cr_assert_not_null(objs);
	for (int i = 0; i < n; i++)
		objs[i] = indicator(i + 1);
	t = bundle(objs, (size_t)n);
	free(objs);
	return t;
}

struct rejects {
	int n;
	char where[16][600];
	char msg[16][800];
};

static void on_reject(void *ud, const char *where, const char *msg)
{
	struct rejects *r = ud;
	if (r->n < 16) {
		snprintf(r->where[r->n], sizeof(r->where[0]), "%s", where);
		snprintf(r->msg[r->n], sizeof(r->msg[0]), "%s", msg);
	}
	r->n++;
}

struct progress {
	int calls;
	uint64_t last;
};

static void on_progress(void *ud, const sk_reader *rd, uint64_t objects)
{
	struct progress *p = ud;
	(void)rd;
	p->calls++;
	p->last = objects;
}

static sk_err import_path(const char *path, const sk_import_opts *o, sk_import_stats *s,
                          sk_error *err)
{
	memset(s, 0, sizeof(*s));
	sk_error_clear(err);
	return sk_import_file(st, path, o, s, err);
}

static sk_err import_text(const char *text, const sk_import_opts *o, sk_import_stats *s,
                          sk_error *err)
{
	return import_path(t_write_str("in.json", text), o, s, err);
}

static const sk_import_count *count_of(const sk_import_stats *s, const char *type)
{
	for (size_t i = 0; i < s->ntypes; i++)
		if (!strcmp(s->types[i].type, type))
			return &s->types[i];
	return NULL;
}

static int count_row(void *ud, const sk_row *row)
{
	(void)row;
	(*(size_t *)ud)++;
	return 0;
}

/* Object versions in the whole store, and in the test collection. */
static size_t stored_versions(int64_t in_cid)
{
	static const char *const specs[] = {"2.0", "2.1"};
	sk_query q;
	sk_error err;
	size_t n = 0;

	sk_query_init(&q);
	q.cid = in_cid;
	q.vermode = SK_VER_ALL;
	q.specs = specs;
	q.nspecs = 2;
	cr_assert_eq(sk_store_query(st, &q, count_row, &n, &err), SK_OK, "%s", err.msg);
	return n;
}

static int first_json(void *ud, const sk_row *row)
{
	char **out = ud;
	free(*out);
	*out = strdup(row->json);
	return 0;
}

#ifndef IMPORT_PIPELINE
#define IMPORT_PIPELINE false /* test_import_pipeline.c: the same tests, pipelined */
#endif

static sk_import_opts opts(void)
{
	sk_import_opts o;
	memset(&o, 0, sizeof(o));
	o.cid = cid;
	o.pipeline = IMPORT_PIPELINE;
	return o;
}

/* --- statistics ------------------------------------------------------------ */

Test(import, stats_per_type)
{
	char *objs[] = {indicator(1), indicator(2),    malware(2), indicator(3),
	                malware(4),   relationship(5), ipv4(6)};
	char *text = bundle(objs, 7);
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;
	const sk_import_count *c;

	cr_assert_eq(import_text(text, &o, &s, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(s.objects, 7);
	cr_expect_eq(s.stored, 7);
	cr_expect_eq(s.added + s.duplicate + s.rejected, 0);
	cr_expect_eq(s.bytes, strlen(text), "bytes read");
	cr_expect_eq(s.ntypes, 4);
	cr_assert_not_null(c = count_of(&s, "indicator"));
	cr_expect_eq(c->stored, 3);
	cr_assert_not_null(c = count_of(&s, "malware"));
	cr_expect_eq(c->stored, 2);
	cr_assert_not_null(c = count_of(&s, "relationship"));
	cr_expect_eq(c->stored, 1);
	cr_assert_not_null(c = count_of(&s, "ipv4-addr"));
	cr_expect_eq(c->stored, 1);
	cr_expect_eq(stored_versions(cid), 7);

	/* the same file again: all duplicates */
	cr_assert_eq(import_text(text, &o, &s, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(s.objects, 7);
	cr_expect_eq(s.stored, 0);
	cr_expect_eq(s.duplicate, 7);
	cr_assert_not_null(c = count_of(&s, "indicator"));
	cr_expect_eq(c->duplicate, 3);

	/* into another collection: all added */
	sk_collection other;
	cr_assert_eq(sk_store_collection_add(st, "other", NULL, NULL, NULL, &other, &err), SK_OK);
	o.cid = other.cid;
	cr_assert_eq(import_text(text, &o, &s, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(s.added, 7);
	cr_expect_eq(s.stored + s.duplicate, 0);
	cr_assert_not_null(c = count_of(&s, "malware"));
	cr_expect_eq(c->added, 2);
	cr_expect_eq(stored_versions(other.cid), 7);
	cr_expect_eq(stored_versions(0), 7, "no new versions");
	sk_collection_clear(&other);
	free(text);
}

Test(import, duplicates_within_one_file)
{
	char *objs[] = {indicator(1), indicator(1), indicator(2)};
	char *text = bundle(objs, 3);
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;

	cr_assert_eq(import_text(text, &o, &s, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(s.stored, 2);
	cr_expect_eq(s.duplicate, 1);
	free(text);
}

Test(import, stats_accumulate_over_calls)
{
	char *t1 = indicators(3);
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;

	memset(&s, 0, sizeof(s));
	cr_assert_eq(sk_import_file(st, t_write_str("a.json", t1), &o, &s, &err), SK_OK);
	cr_assert_eq(sk_import_file(st, t_write_str("a.json", t1), &o, &s, &err), SK_OK);
	cr_expect_eq(s.objects, 6);
	cr_expect_eq(s.stored, 3);
	cr_expect_eq(s.duplicate, 3);
	cr_expect_eq(s.ntypes, 1);
	free(t1);
}

Test(import, many_types_share_the_last_slot)
{
	enum { NT = 70 };
	char *objs[NT];
	char *text;
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;
	uint64_t sum = 0;

	for (int i = 0; i < NT; i++)
		objs[i] = fmt("{\"type\":\"x-type-%03d\",\"spec_version\":\"2.1\","
		              "\"id\":\"x-type-%03d--00000000-0000-4000-8000-000000000001\","
		              "\"created\":\"" T0 "\",\"modified\":\"" T0 "\"}",
		              i, i);
	text = bundle(objs, NT);
	cr_assert_eq(import_text(text, &o, &s, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(s.stored, NT);
	cr_expect_eq(s.ntypes, SK_IMPORT_MAX_TYPES);
	for (size_t i = 0; i < s.ntypes; i++) {
		sum += s.types[i].stored;
		for (size_t k = 0; k < i; k++)
			cr_expect_str_neq(s.types[i].type, s.types[k].type);
	}
	cr_expect_eq(sum, NT, "every object is counted once");
	cr_expect_str_eq(s.types[SK_IMPORT_MAX_TYPES - 1].type, "(other)");
	free(text);
}

/* --- input shapes ----------------------------------------------------------- */

Test(import, every_input_shape)
{
	char *a = indicator(1), *b = malware(2);
	char *shapes[6];
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;
	size_t len;

	shapes[0] =
	    fmt("{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000000\","
	        "\"objects\":[%s,%s]}",
	        a, b);
	shapes[1] = fmt("{\"more\":false,\"objects\":[%s,%s]}", a, b);
	shapes[2] = fmt("[%s,\n%s]", a, b);
	shapes[3] = fmt("%s\n%s\n", a, b);
	shapes[4] =
	    fmt("{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000000\","
	        "\"spec_version\":\"2.0\",\"objects\":[%s,%s]}",
	        a, b);
	shapes[5] = fmt("%s", a);
	for (int i = 0; i < 6; i++) {
		/* a fresh collection per shape so that every import stores or adds */
		sk_collection c;
		char name[16];
		snprintf(name, sizeof(name), "shape%d", i);
		cr_assert_eq(sk_store_collection_add(st, name, NULL, NULL, NULL, &c, &err), SK_OK);
		o.cid = c.cid;
		sk_collection_clear(&c);
		cr_expect_eq(import_text(shapes[i], &o, &s, &err), SK_OK, "shape %d: %s", i,
		             err.msg);
		cr_expect_eq(s.objects, i == 5 ? 1 : 2, "shape %d", i);
		cr_expect_eq(s.stored + s.added, i == 5 ? 1 : 2, "shape %d", i);
		cr_expect_eq(stored_versions(o.cid), i == 5 ? 1 : 2, "shape %d", i);
	}
	/* gzip */
	o = opts();
	cr_expect_eq(
	    import_path(t_write_gz("in.json.gz", shapes[2], strlen(shapes[2])), &o, &s, &err),
	    SK_OK, "%s", err.msg);
	cr_expect_eq(s.added, 2);
	len = strlen(shapes[2]);
	cr_expect_eq(s.bytes, len, "bytes are uncompressed bytes");
	for (int i = 0; i < 6; i++)
		free(shapes[i]);
	free(a);
	free(b);
}

Test(import, objects_are_stored_minified_and_as_written)
{
	const char *text =
	    "{ \"type\" : \"identity\" , \"spec_version\" : \"2.1\",\n"
	    "  \"id\" : \"identity--00000000-0000-4000-8000-000000000001\",\n"
	    "  \"created\" : \"" T0 "\", \"modified\" : \"2020-01-01T00:00:00.1234567891Z\",\n"
	    "  \"name\" : \"Caf\\u00e9  \\\"Example\\\"\", \"x_z\" : [ 1 , 2.50 , -0 ] ,"
	    " \"identity_class\" : \"organization\" }\n";
	const char *want =
	    "{\"type\":\"identity\",\"spec_version\":\"2.1\","
	    "\"id\":\"identity--00000000-0000-4000-8000-000000000001\","
	    "\"created\":\"" T0 "\",\"modified\":\"2020-01-01T00:00:00.1234567891Z\","
	    "\"name\":\"Caf\\u00e9  \\\"Example\\\"\",\"x_z\":[1,2.50,-0],"
	    "\"identity_class\":\"organization\"}";
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;
	char *got = NULL;

	cr_assert_eq(import_text(text, &o, &s, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(s.stored, 1);
	cr_assert_eq(sk_store_get(st, "identity--00000000-0000-4000-8000-000000000001", false,
	                          first_json, &got, &err),
	             SK_OK, "%s", err.msg);
	cr_assert_not_null(got);
	/* whitespace gone; escapes, number spelling, key order and precision kept */
	cr_expect_str_eq(got, want);
	free(got);
}

/* --- rejected objects --------------------------------------------------- */

Test(import, rejected_objects_are_counted_and_reported)
{
	/* NDJSON: lines 2 and 4 are invalid */
	char *l1 = indicator(1), *l2 = bad_indicator(2), *l3 = malware(3), *l5 = indicator(5);
	char *l4 = fmt("{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"malware--1\","
	               "\"created\":\"" T0 "\",\"modified\":\"" T0 "\",\"is_family\":false}");
	char *text = fmt("%s\n%s\n%s\n%s\n%s\n", l1, l2, l3, l4, l5);
	const char *path = t_write_str("in.ndjson", text);
	struct rejects r = {0};
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;
	char want[700];
	const sk_import_count *c;

	o.on_reject = on_reject;
	o.ud = &r;
	cr_assert_eq(import_path(path, &o, &s, &err), SK_OK, "rejects do not fail the import: %s",
	             err.msg);
	cr_expect_eq(s.objects, 5);
	cr_expect_eq(s.stored, 3);
	cr_expect_eq(s.rejected, 2);
	cr_expect_eq(stored_versions(cid), 3);
	cr_assert_eq(r.n, 2);
	snprintf(want, sizeof(want), "%s:2 (offset %zu)", path, strlen(l1) + 1);
	cr_expect_str_eq(r.where[0], want);
	cr_expect(strstr(r.msg[0], "indicator--00000000-0000-4000-8000-000000000002") != NULL,
	          "the message names the id: %s", r.msg[0]);
	cr_expect(strstr(r.msg[0], "pattern") != NULL, "and the problem: %s", r.msg[0]);
	snprintf(want, sizeof(want), "%s:4 (offset %zu)", path,
	         strlen(l1) + strlen(l2) + strlen(l3) + 3);
	cr_expect_str_eq(r.where[1], want);
	cr_expect(strstr(r.msg[1], "malware--1") != NULL, "%s", r.msg[1]);
	cr_assert_not_null(c = count_of(&s, "indicator"));
	cr_expect_eq(c->stored, 2);
	cr_expect_eq(c->rejected, 1);
	cr_assert_not_null(c = count_of(&s, "malware"));
	cr_expect_eq(c->stored, 1);
	cr_expect_eq(c->rejected, 1);
	free(l1);
	free(l2);
	free(l3);
	free(l4);
	free(l5);
	free(text);
}

Test(import, rejects_leave_no_empty_type_rows)
{
	/* an object whose id is unusable is still counted under its type, once */
	const char *text = "[{\"type\":\"indicator\",\"id\":\"indicator--bad\",\"created\":\"" T0
	                   "\",\"modified\":\"" T0 "\"}]";
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;
	const sk_import_count *c;

	cr_assert_eq(import_text(text, &o, &s, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(s.rejected, 1);
	cr_assert_not_null(c = count_of(&s, "indicator"));
	cr_expect_eq(c->rejected, 1);
	for (size_t i = 0; i < s.ntypes; i++) {
		const sk_import_count *t = &s.types[i];
		cr_expect(t->stored + t->added + t->duplicate + t->rejected > 0,
		          "type row '%s' has no counts", t->type);
	}
	cr_expect_eq(s.ntypes, 1, "one type row, got %zu", s.ntypes);
}

Test(import, malformed_elements_are_rejected_not_fatal)
{
	char *a = indicator(1), *b = indicator(2);
	/* the framer passes these; the JSON parser or the validator refuses them */
	char *text = fmt("[%s,\n{\"type\":\"indicator\",\"id\":1,},\n[1,2],\n\"str\",\n42,\n"
	                 "{\"type\":\"indicator\",\"type\":\"malware\"},\n%s]",
	                 a, b);
	struct rejects r = {0};
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;

	o.on_reject = on_reject;
	o.ud = &r;
	cr_assert_eq(import_text(text, &o, &s, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(s.objects, 7);
	cr_expect_eq(s.stored, 2);
	cr_expect_eq(s.rejected, 5);
	cr_expect_eq(r.n, 5);
	for (int i = 0; i < r.n && i < 5; i++) {
		char line[32];
		snprintf(line, sizeof(line), ":%d (offset ", i + 2);
		cr_expect(strstr(r.where[i], line) != NULL, "reject %d at %s", i, r.where[i]);
	}
	cr_expect_eq(stored_versions(cid), 2);
	free(a);
	free(b);
	free(text);
}

Test(import, rejects_without_a_callback)
{
	char *objs[] = {indicator(1), bad_indicator(2), indicator(3)};
	char *text = bundle(objs, 3);
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;

	cr_assert_eq(import_text(text, &o, &s, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(s.stored, 2);
	cr_expect_eq(s.rejected, 1);
	free(text);
}

/* --- strict mode ------------------------------------------------------- */

Test(import, strict_rolls_back_everything)
{
	char *objs[10];
	char *text;
	struct rejects r = {0};
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;

	for (int i = 0; i < 10; i++)
		objs[i] = i == 6 ? bad_indicator(i + 1) : indicator(i + 1);
	text = bundle(objs, 10);
	o.strict = true;
	o.batch = 2; /* strict ignores batches: the whole file is one transaction */
	o.on_reject = on_reject;
	o.ud = &r;
	cr_expect_eq(import_text(text, &o, &s, &err), SK_ESTIX);
	cr_expect(strstr(err.msg, ":8 (offset ") != NULL, "names the line: %s", err.msg);
	cr_expect(strstr(err.msg, "indicator--00000000-0000-4000-8000-000000000007") != NULL, "%s",
	          err.msg);
	cr_expect_eq(r.n, 1);
	cr_expect_eq(stored_versions(0), 0, "nothing from the file is stored");
	cr_expect_eq(stored_versions(cid), 0);

	/* the store is still usable, and a clean file imports in strict mode */
	free(text);
	text = indicators(10);
	cr_expect_eq(import_text(text, &o, &s, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(s.stored, 10);
	cr_expect_eq(stored_versions(cid), 10);
	free(text);
}

Test(import, strict_rolls_back_on_a_structural_error)
{
	char *text = indicators(10);
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;

	text[strlen(text) - 4] = '\0'; /* cut the closing "\n]}\n" */
	o.strict = true;
	cr_expect_eq(import_text(text, &o, &s, &err), SK_EJSON, "%s", err.msg);
	cr_expect_eq(stored_versions(0), 0);
	free(text);
}

/* --- batches and structural errors ----------------------------------------- */

/* 10 valid objects, then the input breaks off. */
static char *ten_then_truncated(void)
{
	char *text = indicators(10);
	char *cut = strstr(text, "]}\n");
	cr_assert_not_null(cut);
	strcpy(cut, ",{\"type\":\"indicator\",\"id\":");
	return text;
}

Test(import, batch_boundaries_on_a_structural_error)
{
	/* committed batches stay, the batch in progress is rolled back */
	static const struct {
		size_t batch, kept;
	} cases[] = {{1, 10}, {2, 10}, {3, 9}, {4, 8}, {5, 10}, {7, 7}, {11, 0}, {0, 0}};
	char *text = ten_then_truncated();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sk_collection c;
		sk_import_opts o = opts();
		sk_import_stats s;
		sk_error err;
		char name[16];

		/* a fresh store per case */
		sk_store_close(st);
		snprintf(name, sizeof(name), "b%zu.db", i);
		cr_assert_eq(sk_store_open(t_path(name), SK_STORE_CREATE, &st, &err), SK_OK);
		cr_assert_eq(sk_store_collection_add(st, "feeds", NULL, NULL, NULL, &c, &err),
		             SK_OK);
		o.cid = cid = c.cid;
		sk_collection_clear(&c);
		o.batch = cases[i].batch;
		cr_expect_eq(import_text(text, &o, &s, &err), SK_EJSON, "batch %zu",
		             cases[i].batch);
		cr_expect_eq(stored_versions(cid), cases[i].kept, "batch %zu: %zu kept, want %zu",
		             cases[i].batch, stored_versions(cid), cases[i].kept);
		cr_expect_eq(s.objects, 10);
	}
	free(text);
}

Test(import, stats_match_the_store_after_a_structural_error)
{
	/* the summary must not claim objects that were rolled back */
	static const size_t batches[] = {3, 4, 0};
	char *text = ten_then_truncated();

	for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
		sk_collection c;
		sk_import_opts o = opts();
		sk_import_stats s;
		sk_error err;
		char name[16];

		sk_store_close(st);
		snprintf(name, sizeof(name), "s%zu.db", i);
		cr_assert_eq(sk_store_open(t_path(name), SK_STORE_CREATE, &st, &err), SK_OK);
		cr_assert_eq(sk_store_collection_add(st, "feeds", NULL, NULL, NULL, &c, &err),
		             SK_OK);
		o.cid = cid = c.cid;
		sk_collection_clear(&c);
		o.batch = batches[i];
		cr_expect_eq(import_text(text, &o, &s, &err), SK_EJSON);
		cr_expect_eq(s.stored, stored_versions(cid),
		             "batch %zu: stats say %llu stored, the store has %zu", batches[i],
		             (unsigned long long)s.stored, stored_versions(cid));
	}
	free(text);
}

Test(import, structural_error_names_file_and_line)
{
	char *text = ten_then_truncated();
	const char *path = t_write_str("broken.json", text);
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;

	cr_expect_eq(import_path(path, &o, &s, &err), SK_EJSON);
	cr_expect_eq(strncmp(err.msg, path, strlen(path)), 0, "starts with the file: %s", err.msg);
	cr_expect(strstr(err.msg, "line 12") != NULL, "names the line: %s", err.msg);
	free(text);
}

Test(import, batch_sizes_store_everything)
{
	static const size_t batches[] = {1, 2, 3, 10, 0};
	char *text = indicators(10);

	for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
		sk_collection c;
		sk_import_opts o = opts();
		sk_import_stats s;
		sk_error err;
		char name[16];

		snprintf(name, sizeof(name), "c%zu", i);
		cr_assert_eq(sk_store_collection_add(st, name, NULL, NULL, NULL, &c, &err), SK_OK);
		o.cid = c.cid;
		sk_collection_clear(&c);
		o.batch = batches[i];
		cr_expect_eq(import_text(text, &o, &s, &err), SK_OK, "%s", err.msg);
		cr_expect_eq(s.objects, 10);
		cr_expect_eq(s.stored + s.added, 10);
		cr_expect_eq(stored_versions(o.cid), 10, "batch %zu", batches[i]);
	}
	cr_expect_eq(stored_versions(0), 10);
	free(text);
}

Test(import, limits_pass_through)
{
	char *text = indicators(2);
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;

	o.max_element = 50;
	cr_expect_eq(import_text(text, &o, &s, &err), SK_ELIMIT, "%s", err.msg);
	o = opts();
	o.max_depth = 1;
	cr_expect_eq(import_text("[{\"a\":{\"b\":1}}]", &o, &s, &err), SK_ELIMIT, "%s", err.msg);
	free(text);
}

/* --- empty, missing and unusual input -------------------------------------- */

Test(import, empty_input)
{
	static const char *const texts[] = {"", "  \n\t\n"};
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;

	for (size_t i = 0; i < 2; i++) {
		cr_expect_eq(import_text(texts[i], &o, &s, &err), SK_EJSON);
		cr_expect(strstr(err.msg, "empty") != NULL, "%s", err.msg);
	}
	cr_expect_eq(import_path(t_write_gz("e.gz", "", 0), &o, &s, &err), SK_EJSON);
	/* an empty bundle is not empty input */
	cr_expect_eq(import_text("{\"type\":\"bundle\",\"objects\":[]}", &o, &s, &err), SK_OK, "%s",
	             err.msg);
	cr_expect_eq(s.objects, 0);
	cr_expect_eq(import_text("[]", &o, &s, &err), SK_OK);
}

Test(import, missing_file)
{
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;

	cr_expect_eq(import_path(t_path("nope.json"), &o, &s, &err), SK_EIO);
	cr_expect(strstr(err.msg, "nope.json") != NULL, "%s", err.msg);
}

Test(import, no_collection)
{
	char *text = indicators(3);
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;

	o.cid = 0;
	cr_expect_eq(import_text(text, &o, &s, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(s.stored, 3);
	cr_expect_eq(stored_versions(0), 3);
	cr_expect_eq(stored_versions(cid), 0);
	free(text);
}

Test(import, stix20_bundle)
{
	const char *text =
	    "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000000\","
	    "\"spec_version\":\"2.0\",\"objects\":[{\"type\":\"x-mitre-tactic\","
	    "\"id\":\"x-mitre-tactic--00000000-0000-4000-8000-000000000001\",\"created\":\"" T0
	    "\",\"modified\":\"" T0 "\",\"name\":\"Discovery\"},{\"type\":\"malware\","
	    "\"id\":\"malware--00000000-0000-4000-8000-000000000002\",\"created\":\"" T0
	    "\",\"modified\":\"" T0 "\",\"name\":\"Example\",\"labels\":[\"trojan\"]}]}";
	const char *s20[] = {"2.0"};
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_query q;
	sk_error err;
	size_t n = 0;

	cr_assert_eq(import_text(text, &o, &s, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(s.stored, 2);
	sk_query_init(&q);
	q.specs = s20;
	q.nspecs = 1;
	cr_assert_eq(sk_store_query(st, &q, count_row, &n, &err), SK_OK);
	cr_expect_eq(n, 2, "stored as STIX 2.0");
}

Test(import, progress_is_reported)
{
	char *text = indicators(600);
	struct progress p = {0};
	sk_import_opts o = opts();
	sk_import_stats s;
	sk_error err;

	o.on_progress = on_progress;
	o.ud = &p;
	cr_assert_eq(import_text(text, &o, &s, &err), SK_OK, "%s", err.msg);
	cr_expect_geq(p.calls, 2);
	cr_expect_eq(p.last, 600, "the last call has the final count");
	free(text);
}
