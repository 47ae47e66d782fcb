/*
 * test_jstream.c - the streaming JSON framer (and the reader under it):
 * every input shape, minification, element positions, structural errors,
 * limits, empty and gzip input.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/buf.h"
#include "schakel/jstream.h"
#include "schakel/reader.h"
#include "sk_test.h"

/* The framer reads in windows of this size; inputs straddle it on purpose. */
#define WINDOW ((size_t)1 << 20)

typedef struct run {
	size_t n, cap;
	char **json;
	size_t *len;
	uint64_t *line, *offset, *index;
	sk_jcontainer *kind;
	sk_err rc;
	sk_error err;
	uint64_t values, end_offset;
} run_t;

static void setup(void)
{
	t_tmpdir_make();
}

static void teardown(void)
{
	t_tmpdir_remove();
}

TestSuite(jstream, .init = setup, .fini = teardown);

static void run_free(run_t *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->json[i]);
	free(r->json);
	free(r->len);
	free(r->line);
	free(r->offset);
	free(r->index);
	free(r->kind);
	memset(r, 0, sizeof(*r));
}

static void push(run_t *r, const sk_jitem *it)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->json = realloc(r->json, r->cap * sizeof(*r->json));
		r->len = realloc(r->len, r->cap * sizeof(*r->len));
		r->line = realloc(r->line, r->cap * sizeof(*r->line));
		r->offset = realloc(r->offset, r->cap * sizeof(*r->offset));
		r->index = realloc(r->index, r->cap * sizeof(*r->index));
		r->kind = realloc(r->kind, r->cap * sizeof(*r->kind));
		cr_assert(r->json && r->len && r->line && r->offset && r->index && r->kind);
	}
	/* the element text is NUL-terminated and len is its length */
	cr_assert_eq(strlen(it->json), it->len, "element %zu: len does not match the text", r->n);
	r->json[r->n] = strdup(it->json);
	r->len[r->n] = it->len;
	r->line[r->n] = it->line;
	r->offset[r->n] = it->offset;
	r->index[r->n] = it->index;
	r->kind[r->n] = it->kind;
	r->n++;
}

/* Stream the whole file at path; stops at the first error (kept in r->rc/err). */
static void run_path(const char *path, const sk_jstream_opts *o, run_t *r)
{
	sk_reader *rd = NULL;
	sk_jstream *js = NULL;
	sk_error e;

	memset(r, 0, sizeof(*r));
	cr_assert_eq(sk_reader_open(path, &rd, &e), SK_OK, "%s", e.msg);
	cr_assert_eq(sk_jstream_new(rd, o, &js), SK_OK);
	for (;;) {
		sk_jitem it;
		bool have = true;
		r->rc = sk_jstream_next(js, &it, &have, &r->err);
		if (r->rc) {
			cr_assert(!have, "no element on error");
			/* the stream cannot continue after a structural error */
			bool again = true;
			sk_error e2;
			cr_assert_neq(sk_jstream_next(js, &it, &again, &e2), SK_OK,
			              "a failed stream must keep failing");
			cr_assert(!again);
			break;
		}
		if (!have) {
			/* a clean end stays a clean end */
			cr_assert_eq(sk_jstream_next(js, &it, &have, &r->err), SK_OK);
			cr_assert(!have);
			break;
		}
		push(r, &it);
	}
	r->values = sk_jstream_values(js);
	r->end_offset = sk_jstream_offset(js);
	sk_jstream_free(js);
	sk_reader_close(rd);
}

static void run_buf(const char *text, size_t len, const sk_jstream_opts *o, run_t *r)
{
	run_path(t_write("in.json", text, len), o, r);
}

static void run_text(const char *text, const sk_jstream_opts *o, run_t *r)
{
	run_buf(text, strlen(text), o, r);
}

/*
 * Each element starts at its offset in text (a '{' or '['), on the line
 * given, and is JSON-equal to the value written there.
 */
static void check_positions(const char *text, size_t len, const run_t *r)
{
	uint64_t line = 1, at = 0;

	for (size_t i = 0; i < r->n; i++) {
		json_t *raw, *got;
		cr_assert_lt(r->offset[i], len, "element %zu: offset past the input", i);
		cr_assert(text[r->offset[i]] == '{' || text[r->offset[i]] == '[',
		          "element %zu: offset %llu points at '%c'", i,
		          (unsigned long long)r->offset[i], text[r->offset[i]]);
		cr_assert_geq(r->offset[i], at, "offsets must increase");
		for (; at < r->offset[i]; at++)
			line += text[at] == '\n';
		cr_assert_eq(r->line[i], line, "element %zu at offset %llu: line %llu, want %llu",
		             i, (unsigned long long)r->offset[i], (unsigned long long)r->line[i],
		             (unsigned long long)line);
		raw = json_loadb(text + r->offset[i], len - r->offset[i], JSON_DISABLE_EOF_CHECK,
		                 NULL);
		got = json_loadb(r->json[i], r->len[i], 0, NULL);
		cr_assert_not_null(got, "element %zu is not JSON: %.200s", i, r->json[i]);
		cr_assert(raw && json_equal(raw, got), "element %zu differs from the input", i);
		json_decref(raw);
		json_decref(got);
	}
}

/* --- input shapes -------------------------------------------------------- */

Test(jstream, bundle)
{
	const char *t =
	    "{\"type\":\"bundle\",\"id\":\"bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8\","
	    "\"objects\":[{\"type\":\"a\"},{\"type\":\"b\",\"x\":[1,{\"y\":2}]}]}";
	run_t r;

	run_text(t, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 2);
	cr_expect_str_eq(r.json[0], "{\"type\":\"a\"}");
	cr_expect_str_eq(r.json[1], "{\"type\":\"b\",\"x\":[1,{\"y\":2}]}");
	cr_expect_eq(r.kind[0], SK_JC_BUNDLE);
	cr_expect_eq(r.kind[1], SK_JC_BUNDLE);
	cr_expect_eq(r.index[0], 0);
	cr_expect_eq(r.index[1], 1);
	cr_expect_eq(r.values, 1);
	cr_expect_eq(r.end_offset, strlen(t));
	check_positions(t, strlen(t), &r);
	run_free(&r);
}

Test(jstream, objects_member_first_last_or_between)
{
	static const char *const texts[] = {
	    "{\"objects\":[{\"a\":1},{\"b\":2}],\"type\":\"bundle\",\"id\":\"x\"}",
	    "{\"type\":\"bundle\",\"id\":\"x\",\"objects\":[{\"a\":1},{\"b\":2}]}",
	    "{\"type\":\"bundle\",\"objects\":[{\"a\":1},{\"b\":2}],\"id\":\"x\"}",
	    /* a large metadata member before the objects */
	    ("{\"spec_version\":\"2.0\",\"meta\":{\"objects\":[{\"no\":1}],\"k\":[[],{}]},"
	     "\"objects\":[{\"a\":1},{\"b\":2}]}"),
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		run_t r;
		run_text(texts[i], NULL, &r);
		cr_assert_eq(r.rc, SK_OK, "%s: %s", texts[i], r.err.msg);
		cr_assert_eq(r.n, 2, "%s: %zu elements", texts[i], r.n);
		cr_expect_str_eq(r.json[0], "{\"a\":1}");
		cr_expect_str_eq(r.json[1], "{\"b\":2}");
		cr_expect_eq(r.kind[0], SK_JC_BUNDLE);
		check_positions(texts[i], strlen(texts[i]), &r);
		run_free(&r);
	}
}

Test(jstream, taxii_envelope)
{
	const char *t = "{\"more\":true,\"next\":\"10\",\"objects\":[{\"id\":\"a\"},{\"id\":\"b\"},"
	                "{\"id\":\"c\"}]}";
	run_t r;

	run_text(t, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 3);
	cr_expect_str_eq(r.json[2], "{\"id\":\"c\"}");
	cr_expect_eq(r.kind[2], SK_JC_BUNDLE);
	cr_expect_eq(r.index[2], 2);
	run_free(&r);
}

Test(jstream, top_level_array)
{
	const char *t = "[ {\"a\":1} ,\n {\"b\":[2]} ]";
	run_t r;

	run_text(t, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 2);
	cr_expect_str_eq(r.json[0], "{\"a\":1}");
	cr_expect_str_eq(r.json[1], "{\"b\":[2]}");
	cr_expect_eq(r.kind[0], SK_JC_ARRAY);
	cr_expect_eq(r.kind[1], SK_JC_ARRAY);
	cr_expect_eq(r.index[1], 1);
	check_positions(t, strlen(t), &r);
	run_free(&r);
}

Test(jstream, single_object)
{
	const char *t = "{\"type\":\"indicator\",\"labels\":[\"a\",\"b\"],\"x\":{\"y\":null}}";
	run_t r;

	run_text(t, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 1);
	cr_expect_str_eq(r.json[0], t);
	cr_expect_eq(r.kind[0], SK_JC_SINGLE);
	cr_expect_eq(r.index[0], 0);
	cr_expect_eq(r.offset[0], 0);
	cr_expect_eq(r.line[0], 1);
	cr_expect_eq(r.values, 1);
	run_free(&r);
}

Test(jstream, empty_object_and_containers)
{
	run_t r;

	run_text("{}", NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 1);
	cr_expect_str_eq(r.json[0], "{}");
	run_free(&r);

	run_text("[]", NULL, &r);
	cr_assert_eq(r.rc, SK_OK);
	cr_expect_eq(r.n, 0);
	cr_expect_eq(r.values, 1);
	run_free(&r);

	run_text("{\"type\":\"bundle\",\"objects\":[]}", NULL, &r);
	cr_assert_eq(r.rc, SK_OK);
	cr_expect_eq(r.n, 0, "an empty bundle has no elements");
	cr_expect_eq(r.values, 1);
	run_free(&r);
}

Test(jstream, ndjson)
{
	const char *t = "{\"id\":1}\n{\"id\":2}\r\n\n{\"id\":3}\n";
	run_t r;

	run_text(t, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 3);
	cr_expect_eq(r.values, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_expect_eq(r.kind[i], SK_JC_SINGLE);
		cr_expect_eq(r.index[i], 0, "index counts within each top-level value");
	}
	cr_expect_eq(r.line[0], 1);
	cr_expect_eq(r.line[1], 2);
	cr_expect_eq(r.line[2], 4);
	cr_expect_eq(r.offset[1], 9);
	check_positions(t, strlen(t), &r);
	run_free(&r);
}

Test(jstream, sequence_of_mixed_values)
{
	const char *t = "[{\"a\":1},{\"a\":2}]\n{\"objects\":[{\"b\":1}]}\n{\"c\":1}[{\"d\":1}]";
	run_t r;

	run_text(t, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 5);
	cr_expect_eq(r.values, 4);
	cr_expect_eq(r.kind[0], SK_JC_ARRAY);
	cr_expect_eq(r.kind[1], SK_JC_ARRAY);
	cr_expect_eq(r.kind[2], SK_JC_BUNDLE);
	cr_expect_eq(r.kind[3], SK_JC_SINGLE);
	cr_expect_eq(r.kind[4], SK_JC_ARRAY);
	cr_expect_eq(r.index[1], 1);
	cr_expect_eq(r.index[2], 0);
	cr_expect_eq(r.index[4], 0);
	check_positions(t, strlen(t), &r);
	run_free(&r);
}

Test(jstream, nested_objects_members_are_not_containers)
{
	run_t r;
	/* an "objects" array below the top level is part of its element */
	const char *single = "{\"type\":\"x-thing\",\"inner\":{\"objects\":[{\"a\":1}]}}";
	const char *in_bundle =
	    "{\"objects\":[{\"type\":\"grouping\",\"objects\":[{\"z\":1},{\"z\":2}]},{\"k\":1}]}";
	const char *in_array = "[{\"type\":\"bundle\",\"objects\":[{\"a\":1}]}]";

	run_text(single, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 1);
	cr_expect_str_eq(r.json[0], single);
	cr_expect_eq(r.kind[0], SK_JC_SINGLE);
	run_free(&r);

	run_text(in_bundle, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 2);
	cr_expect_str_eq(r.json[0], "{\"type\":\"grouping\",\"objects\":[{\"z\":1},{\"z\":2}]}");
	cr_expect_str_eq(r.json[1], "{\"k\":1}");
	run_free(&r);

	/* elements of a top-level array are never unpacked */
	run_text(in_array, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 1);
	cr_expect_str_eq(r.json[0], "{\"type\":\"bundle\",\"objects\":[{\"a\":1}]}");
	cr_expect_eq(r.kind[0], SK_JC_ARRAY);
	run_free(&r);
}

Test(jstream, objects_member_that_is_not_an_array)
{
	/* not a container: the whole object is the element (the validator rejects it) */
	const char *t = "{\"type\":\"bundle\",\"objects\":{\"a\":1}}";
	run_t r;

	run_text(t, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 1);
	cr_expect_str_eq(r.json[0], t);
	cr_expect_eq(r.kind[0], SK_JC_SINGLE);
	run_free(&r);
}

/* --- strings and minification -------------------------------------------- */

Test(jstream, strings_with_escapes_and_brackets)
{
	const char *t = "{\"note\":\"\\\"objects\\\":[\",\"objects\":["
	                "{\"s\":\"]}\\\"[{\",\"t\":\"\\\\\",\"u\":\"\\u005d\\\\\\\"\"},"
	                "{\"k\\\"ey\":\"}{][\"}]}";
	run_t r;

	run_text(t, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 2);
	cr_expect_str_eq(r.json[0],
	                 "{\"s\":\"]}\\\"[{\",\"t\":\"\\\\\",\"u\":\"\\u005d\\\\\\\"\"}");
	cr_expect_str_eq(r.json[1], "{\"k\\\"ey\":\"}{][\"}");
	check_positions(t, strlen(t), &r);
	run_free(&r);
}

Test(jstream, minifies_outside_strings_only)
{
	const char *bundle = "{ \"objects\" : [ \n\t{ \"a\" : \"x  y\\t\" ,\r\n \"b\" : [ 1 , 2 ] ,"
	                     " \"c\" : { } } \n ] }\n";
	const char *single =
	    "  {\n  \"a\" : \"  spaced  \" ,\n  \"b\" : { \"c\" : [ true , null ] }\n}\n";
	run_t r;

	run_text(bundle, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 1);
	cr_expect_str_eq(r.json[0], "{\"a\":\"x  y\\t\",\"b\":[1,2],\"c\":{}}");
	check_positions(bundle, strlen(bundle), &r);
	run_free(&r);

	run_text(single, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 1);
	cr_expect_str_eq(r.json[0], "{\"a\":\"  spaced  \",\"b\":{\"c\":[true,null]}}");
	cr_expect_eq(r.offset[0], 2);
	cr_expect_eq(r.line[0], 1);
	run_free(&r);
}

Test(jstream, utf8_passes_through)
{
	const char *t = "[{\"name\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\"}]";
	run_t r;

	run_text(t, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 1);
	cr_expect_str_eq(r.json[0], "{\"name\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\"}");
	run_free(&r);
}

Test(jstream, scalars_in_an_array_are_framed_for_the_caller)
{
	/* the framer does not judge elements; the parser/validator will */
	run_t r;

	run_text("[1, \"x\", null, -2.5e3,true]", NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 5);
	cr_expect_str_eq(r.json[0], "1");
	cr_expect_str_eq(r.json[1], "\"x\"");
	cr_expect_str_eq(r.json[2], "null");
	cr_expect_str_eq(r.json[3], "-2.5e3");
	cr_expect_str_eq(r.json[4], "true");
	run_free(&r);
}

/* --- positions ----------------------------------------------------------- */

Test(jstream, line_and_offset_of_each_element)
{
	const char *t = "{\"type\":\"bundle\",\n"
	                " \"objects\": [\n"
	                "  {\"a\":1},\n"
	                "  {\"b\":\n2},\n"
	                "\n"
	                "  {\"c\":3}\n"
	                "]}\n";
	run_t r;

	run_text(t, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 3);
	cr_expect_eq(r.line[0], 3);
	cr_expect_eq(r.offset[0], (uint64_t)(strstr(t, "{\"a\"") - t));
	cr_expect_eq(r.line[1], 4);
	cr_expect_eq(r.offset[1], (uint64_t)(strstr(t, "{\"b\"") - t));
	cr_expect_eq(r.line[2], 7, "newlines inside an element count too");
	cr_expect_eq(r.offset[2], (uint64_t)(strstr(t, "{\"c\"") - t));
	cr_expect_eq(r.end_offset, strlen(t));
	check_positions(t, strlen(t), &r);
	run_free(&r);
}

Test(jstream, crlf_lines)
{
	const char *t = "[\r\n{\"a\":1},\r\n{\"b\":2}\r\n]\r\n";
	run_t r;

	run_text(t, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, 2);
	cr_expect_eq(r.line[0], 2);
	cr_expect_eq(r.line[1], 3);
	check_positions(t, strlen(t), &r);
	run_free(&r);
}

/* Build a bundle larger than three windows, with escapes and newlines at window edges. */
static char *big_bundle(size_t *len_out, size_t *count_out)
{
	const char *head = "{\"type\":\"bundle\",\"objects\":[\n";
	sk_buf b;
	size_t count = 0;

	sk_buf_init(&b, 0);
	cr_assert_eq(sk_buf_puts(&b, head), SK_OK);
	/* element 0: a backslash escape split across the first window edge */
	cr_assert_eq(sk_buf_puts(&b, "{\"pad\":\""), SK_OK);
	while (b.len < WINDOW - 1)
		cr_assert_eq(sk_buf_putc(&b, 'a'), SK_OK);
	cr_assert_eq(sk_buf_puts(&b, "\\\"[{\\\\\"}"), SK_OK); /* '\' is the window's last byte */
	count++;
	/* element 1: ends with a newline exactly on the second window edge */
	cr_assert_eq(sk_buf_puts(&b, ",\n{\"pad\":\""), SK_OK);
	while (b.len < 2 * WINDOW - 3)
		cr_assert_eq(sk_buf_putc(&b, 'b'), SK_OK);
	cr_assert_eq(sk_buf_puts(&b, "\"}\n,"), SK_OK);
	cr_assert_eq(b.data[2 * WINDOW - 1], '\n');
	count++;
	/* many small elements with escapes, brackets and whitespace */
	for (int i = 0; b.len < 3 * WINDOW + 5000; i++) {
		cr_assert_eq(
		    sk_buf_printf(
		        &b,
		        "%s{ \"i\" : %d , \"s\" : \"q\\\"%*s]\\\\\" ,\n \"l\" : [ [ ] , { } ] }",
		        i ? "," : "", i, i % 37, ""),
		    SK_OK);
		if (i % 11 == 0)
			cr_assert_eq(sk_buf_puts(&b, "\n"), SK_OK);
		count++;
	}
	cr_assert_eq(sk_buf_puts(&b, "]}\n"), SK_OK);
	*len_out = b.len;
	*count_out = count;
	return b.data;
}

Test(jstream, elements_across_read_windows)
{
	size_t len, count;
	char *t = big_bundle(&len, &count);
	run_t r;

	run_buf(t, len, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, count);
	cr_expect_eq(r.len[0], WINDOW - 1 - strlen("{\"type\":\"bundle\",\"objects\":[\n") + 8);
	cr_expect_eq(r.end_offset, len);
	check_positions(t, len, &r);
	run_free(&r);
	free(t);
}

Test(jstream, gzip_input)
{
	size_t len, count;
	char *t = big_bundle(&len, &count);
	const char *path = t_write_gz("in.json.gz", t, len);
	sk_reader *rd;
	sk_error e;
	run_t r;

	cr_assert_eq(sk_reader_open(path, &rd, &e), SK_OK, "%s", e.msg);
	cr_expect(sk_reader_is_gzip(rd));
	sk_reader_close(rd);

	run_path(path, NULL, &r);
	cr_assert_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_assert_eq(r.n, count);
	cr_expect_eq(r.end_offset, len, "offsets count uncompressed bytes");
	check_positions(t, len, &r);
	run_free(&r);
	free(t);
}

Test(jstream, truncated_gzip_is_an_error)
{
	const char *t = "{\"objects\":[{\"a\":1},{\"b\":2}]}\n";
	size_t glen;
	char *gz;
	run_t r;

	/* complete JSON, but the gzip trailer (CRC and size) is cut off */
	gz = t_slurp(t_write_gz("full.gz", t, strlen(t)), &glen);
	run_path(t_write("cut.gz", gz, glen - 8), NULL, &r);
	cr_expect_eq(r.rc, SK_EIO, "a truncated .gz must not pass silently (rc %s)",
	             sk_errname(r.rc));
	run_free(&r);

	/* cut in the middle of the deflate data */
	run_path(t_write("cut2.gz", gz, glen / 2), NULL, &r);
	cr_expect_neq(r.rc, SK_OK);
	run_free(&r);
	free(gz);
}

/* --- structural errors --------------------------------------------------- */

static void expect_error(const char *text, sk_err want, const char *msg_part, size_t items)
{
	run_t r;

	run_text(text, NULL, &r);
	cr_expect_eq(r.rc, want, "%s: got %s (%s), want %s", text, sk_errname(r.rc), r.err.msg,
	             sk_errname(want));
	cr_expect_eq(r.n, items, "%s: %zu elements before the error, want %zu", text, r.n, items);
	if (msg_part)
		cr_expect(strstr(r.err.msg, msg_part) != NULL, "%s: message '%s' lacks '%s'", text,
		          r.err.msg, msg_part);
	cr_expect(strstr(r.err.msg, "line ") != NULL, "%s: message '%s' has no line", text,
	          r.err.msg);
	cr_expect(strstr(r.err.msg, "offset ") != NULL, "%s: message '%s' has no offset", text,
	          r.err.msg);
	run_free(&r);
}

Test(jstream, truncated_input)
{
	expect_error("{\"objects\":[{\"a\":1},{\"b\":", SK_EJSON, "end of input", 1);
	expect_error("{\"objects\":[{\"a\":1},{\"b\":2}", SK_EJSON, "end of input", 2);
	expect_error("{\"objects\":[{\"a\":1},{\"b\":2}]", SK_EJSON, "end of input", 2);
	expect_error("{\"objects\":[{\"a\":1},", SK_EJSON, "end of input", 1);
	expect_error("[{\"a\":\"abc", SK_EJSON, "inside a string", 0);
	expect_error("[{\"a\":\"abc\\", SK_EJSON, "inside a string", 0);
	expect_error("[{\"a\":1}", SK_EJSON, "end of input", 1);
	expect_error("[", SK_EJSON, "end of input", 0);
	expect_error("{", SK_EJSON, "end of input", 0);
	expect_error("{\"type\":", SK_EJSON, "end of input", 0);
	expect_error("{\"type\"", SK_EJSON, NULL, 0);
	expect_error("{\"a\":1}\n{\"b\":", SK_EJSON, "end of input", 1);
}

Test(jstream, truncation_error_names_the_line)
{
	run_t r;

	run_text("[\n{\"a\":1},\n{\"b\":\n[1,\n2", NULL, &r);
	cr_expect_eq(r.rc, SK_EJSON);
	cr_expect(strstr(r.err.msg, "line 5") != NULL, "message: %s", r.err.msg);
	run_free(&r);
}

Test(jstream, mismatched_brackets)
{
	expect_error("[{\"a\":[1,2}]", SK_EJSON, "mismatched", 0);
	expect_error("{\"objects\":[{\"a\":{\"b\":1]}]}", SK_EJSON, "mismatched", 0);
	expect_error("[{\"a\":1}}", SK_EJSON, NULL, 1);
	expect_error("[}]", SK_EJSON, NULL, 0);
	expect_error("{\"objects\":[{\"a\":1}]]}", SK_EJSON, NULL, 1);
	expect_error("]", SK_EJSON, NULL, 0);
	expect_error("}", SK_EJSON, NULL, 0);
}

Test(jstream, not_json)
{
	expect_error("hello", SK_EJSON, "not JSON", 0);
	expect_error("42", SK_EJSON, "not JSON", 0);
	expect_error("\"a string\"", SK_EJSON, "not JSON", 0);
	expect_error("null", SK_EJSON, "not JSON", 0);
	expect_error("{\"a\":1}\nnope", SK_EJSON, NULL, 1);
	expect_error("{a:1}", SK_EJSON, "member name", 0);
	expect_error("{\"a\" 1}", SK_EJSON, "':'", 0);
	expect_error("{\"a\":1 \"b\":2}", SK_EJSON, NULL, 0);
	expect_error("[{\"a\":1} {\"b\":2}]", SK_EJSON, NULL, 1);
	expect_error("[{\"a\":1},]", SK_EJSON, NULL, 1);
	expect_error("[,{\"a\":1}]", SK_EJSON, NULL, 0);
	expect_error("[{\"a\":\"x\ty\"}]", SK_EJSON, "control character", 0);
	expect_error("[{\"a\":\"x\ny\"}]", SK_EJSON, "control character", 0);
}

/* --- limits -------------------------------------------------------------- */

/* An object nested depth levels deep: {"a":{"a":...{}...}}. */
static char *nested(int depth)
{
	sk_buf b;

	sk_buf_init(&b, 0);
	for (int i = 1; i < depth; i++)
		cr_assert_eq(sk_buf_puts(&b, "{\"a\":"), SK_OK);
	cr_assert_eq(sk_buf_puts(&b, "{}"), SK_OK);
	for (int i = 1; i < depth; i++)
		cr_assert_eq(sk_buf_putc(&b, '}'), SK_OK);
	return b.data;
}

static sk_err depth_rc(const char *fmt, int depth, int max_depth, size_t *items)
{
	sk_jstream_opts o = {.max_depth = max_depth};
	char *inner = nested(depth);
	sk_buf b;
	run_t r;
	sk_err rc;

	sk_buf_init(&b, 0);
	cr_assert_eq(sk_buf_printf(&b, fmt, inner), SK_OK);
	run_text(b.data, max_depth ? &o : NULL, &r);
	rc = r.rc;
	if (items)
		*items = r.n;
	run_free(&r);
	sk_buf_free(&b);
	free(inner);
	return rc;
}

Test(jstream, depth_limit_in_containers)
{
	size_t n;

	cr_expect_eq(depth_rc("{\"objects\":[%s]}", 3, 3, &n), SK_OK);
	cr_expect_eq(n, 1);
	cr_expect_eq(depth_rc("{\"objects\":[%s]}", 4, 3, &n), SK_ELIMIT);
	cr_expect_eq(depth_rc("[%s]", 3, 3, NULL), SK_OK);
	cr_expect_eq(depth_rc("[%s]", 4, 3, NULL), SK_ELIMIT);
	cr_expect_eq(depth_rc("[{\"x\":1},%s]", 4, 3, &n), SK_ELIMIT);
	cr_expect_eq(n, 1, "elements before the deep one are delivered");
	/* arrays count as levels too */
	cr_expect_eq(depth_rc("[{\"a\":[[%s]]}]", 1, 4, NULL), SK_OK);
	cr_expect_eq(depth_rc("[{\"a\":[[%s]]}]", 2, 4, NULL), SK_ELIMIT);
}

Test(jstream, depth_limit_default_is_64)
{
	cr_expect_eq(depth_rc("{\"objects\":[%s]}", 64, 0, NULL), SK_OK);
	cr_expect_eq(depth_rc("{\"objects\":[%s]}", 65, 0, NULL), SK_ELIMIT);
	cr_expect_eq(depth_rc("{\"objects\":[%s]}", 300, 0, NULL), SK_ELIMIT);
}

Test(jstream, depth_limit_applies_to_a_single_object)
{
	/* a lone object is itself the element: its own '{' is level 1 */
	cr_expect_eq(depth_rc("%s", 3, 3, NULL), SK_OK);
	cr_expect_eq(depth_rc("%s", 4, 3, NULL), SK_ELIMIT,
	             "a single object 4 levels deep passed a depth limit of 3");
	cr_expect_eq(depth_rc("%s", 64, 0, NULL), SK_OK);
	cr_expect_eq(depth_rc("%s", 65, 0, NULL), SK_ELIMIT,
	             "a single object 65 levels deep passed the default limit of 64");
}

static sk_err size_rc(const char *text, size_t max_element, size_t *items)
{
	sk_jstream_opts o = {.max_element = max_element};
	run_t r;
	sk_err rc;

	run_text(text, &o, &r);
	rc = r.rc;
	if (rc == SK_ELIMIT)
		cr_expect(strstr(r.err.msg, "offset ") != NULL, "%s", r.err.msg);
	if (items)
		*items = r.n;
	run_free(&r);
	return rc;
}

Test(jstream, element_size_limit)
{
	/* the element is 20 bytes minified */
	const char *elem = "{\"a\":\"0123456789ab\"}";
	const size_t n = strlen(elem);
	char t[256];
	size_t items;

	cr_assert_eq(n, 20);
	snprintf(t, sizeof(t), "{\"objects\":[{\"s\":1},%s]}", elem);
	cr_expect_eq(size_rc(t, n, &items), SK_OK, "exactly the limit fits");
	cr_expect_eq(items, 2);
	cr_expect_eq(size_rc(t, n - 1, &items), SK_ELIMIT);
	cr_expect_eq(items, 1);

	snprintf(t, sizeof(t), "[%s]", elem);
	cr_expect_eq(size_rc(t, n, NULL), SK_OK);
	cr_expect_eq(size_rc(t, n - 1, NULL), SK_ELIMIT);

	/* whitespace does not count: the limit applies to the minified text */
	cr_expect_eq(size_rc("[ {  \"a\" :   \"0123456789ab\"   } ]", n, NULL), SK_OK);
	cr_expect_eq(size_rc("[\n{\n\"a\"\n:\n\"0123456789ab\"\n}\n]", n, NULL), SK_OK);
}

Test(jstream, element_size_limit_single_object)
{
	const char *elem = "{\"a\":\"0123456789\",\"b\":[1]}";
	const size_t n = strlen(elem);

	cr_expect_eq(size_rc(elem, n, NULL), SK_OK);
	cr_expect_eq(size_rc(elem, n - 1, NULL), SK_ELIMIT);
	cr_expect_eq(size_rc("{ \"a\" : \"0123456789\" , \"b\" : [ 1 ] }", n, NULL), SK_OK);
	cr_expect_eq(size_rc("{\"a\":\"0123456789\",\"b\":[1,2,3,4,5,6,7,8,9]}", n, NULL),
	             SK_ELIMIT);
}

Test(jstream, element_size_limit_large)
{
	/* an element bigger than the read window, against a limit just above and below it */
	const size_t body = WINDOW + 12345;
	sk_jstream_opts o;
	sk_buf b;
	run_t r;

	sk_buf_init(&b, 0);
	cr_assert_eq(sk_buf_puts(&b, "[{\"a\":\""), SK_OK);
	for (size_t i = 0; i < body; i++)
		cr_assert_eq(sk_buf_putc(&b, (char)('a' + i % 26)), SK_OK);
	cr_assert_eq(sk_buf_puts(&b, "\"}]"), SK_OK);
	const size_t elen = b.len - 2;

	o = (sk_jstream_opts){.max_element = elen};
	run_buf(b.data, b.len, &o, &r);
	cr_expect_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_expect_eq(r.n, 1);
	if (r.n)
		cr_expect_eq(r.len[0], elen);
	run_free(&r);

	o = (sk_jstream_opts){.max_element = elen - 1};
	run_buf(b.data, b.len, &o, &r);
	cr_expect_eq(r.rc, SK_ELIMIT);
	run_free(&r);
	sk_buf_free(&b);
}

/* --- empty input and the reader ------------------------------------------ */

Test(jstream, empty_input)
{
	static const char *const texts[] = {"", " ", "\n\n\t \r\n"};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		run_t r;
		run_text(texts[i], NULL, &r);
		cr_expect_eq(r.rc, SK_OK);
		cr_expect_eq(r.n, 0);
		cr_expect_eq(r.values, 0, "no top-level value: the caller reports empty input");
		run_free(&r);
	}
}

Test(jstream, empty_gzip_input)
{
	run_t r;

	run_path(t_write_gz("empty.gz", "", 0), NULL, &r);
	cr_expect_eq(r.rc, SK_OK, "%s", r.err.msg);
	cr_expect_eq(r.n, 0);
	cr_expect_eq(r.values, 0);
	run_free(&r);
}

Test(jstream, reader_errors_name_the_path)
{
	sk_reader *rd = (sk_reader *)1;
	sk_error e;

	cr_expect_eq(sk_reader_open(t_path("missing.json"), &rd, &e), SK_EIO);
	cr_expect_null(rd);
	cr_expect(strstr(e.msg, "missing.json") != NULL, "%s", e.msg);
	cr_expect_eq(sk_reader_open(t_tmpdir(), &rd, &e), SK_EIO, "a directory is not input");
	cr_expect_null(rd);
	sk_reader_close(NULL);
}

Test(jstream, reader_plain_file)
{
	const char *path = t_write_str("plain.json", "{\"a\":1}");
	sk_reader *rd;
	sk_error e;
	char buf[64];
	size_t got;

	cr_assert_eq(sk_reader_open(path, &rd, &e), SK_OK, "%s", e.msg);
	cr_expect(!sk_reader_is_gzip(rd));
	cr_expect_str_eq(sk_reader_name(rd), path);
	cr_expect_eq(sk_reader_raw_size(rd), 7);
	cr_assert_eq(sk_reader_read(rd, buf, sizeof(buf), &got, &e), SK_OK);
	cr_expect_eq(got, 7);
	cr_expect_eq(memcmp(buf, "{\"a\":1}", 7), 0);
	cr_assert_eq(sk_reader_read(rd, buf, sizeof(buf), &got, &e), SK_OK);
	cr_expect_eq(got, 0);
	sk_reader_close(rd);
}
