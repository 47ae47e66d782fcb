/*
 * test_feed.c - plain-feed importer: kind detection, normalisation, STIX
 * patterns, deterministic ids, and imports of the fixture feeds.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schakel/feed.h"
#include "schakel/store.h"
#include "schakel/uuid.h"

static const char *fixture(const char *name)
{
	static char path[1024];
	const char *dir = getenv("SK_FIXTURES");
	snprintf(path, sizeof(path), "%s/feeds/%s", dir ? dir : "tests/fixtures", name);
	return path;
}

static sk_feed_kind classify(const char *s, char *out, size_t outsz)
{
	sk_buf b;
	sk_feed_kind k = SK_FK__COUNT;
	sk_error err;
	sk_buf_init(&b, 4096);
	if (sk_feed_classify(s, strlen(s), &k, &b, &err) == SK_OK)
		snprintf(out, outsz, "%s", b.data);
	else
		k = SK_FK__COUNT;
	sk_buf_free(&b);
	return k;
}

Test(feed, classify_kinds)
{
	struct {
		const char *in;
		sk_feed_kind k;
		const char *norm;
	} cases[] = {
	    {"192.0.2.1", SK_FK_IPV4, "192.0.2.1"},
	    {"2001:DB8::1", SK_FK_IPV6, "2001:db8::1"},
	    {"198.51.100.77/24", SK_FK_IPV4_CIDR, "198.51.100.0/24"},
	    {"2001:db8:1:2::/48", SK_FK_IPV6_CIDR, "2001:db8:1::/48"},
	    {"Evil.Example.", SK_FK_DOMAIN, "evil.example"},
	    {"_dmarc.mail.example", SK_FK_DOMAIN, "_dmarc.mail.example"},
	    {"HTTPS://evil.example/A b", SK_FK_URL, "https://evil.example/A%20b"},
	    {"evil.example/x.php", SK_FK_URL, "http://evil.example/x.php"},
	    {"user@Mail.Example", SK_FK_EMAIL, "user@mail.example"},
	    {"192.0.2.5:8080", SK_FK_IPV4_PORT, "192.0.2.5:8080"},
	    {"[2001:db8::5]:443", SK_FK_IPV6_PORT, "2001:db8::5:443"},
	    {"c2.example:8080", SK_FK_DOMAIN_PORT, "c2.example:8080"},
	    {"D41D8CD98F00B204E9800998ECF8427E", SK_FK_MD5, "d41d8cd98f00b204e9800998ecf8427e"},
	    {"da39a3ee5e6b4b0d3255bfef95601890afd80709", SK_FK_SHA1,
	     "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
	    {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", SK_FK_SHA256,
	     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[256] = "";
		sk_feed_kind k = classify(cases[i].in, out, sizeof(out));
		cr_expect_eq(k, cases[i].k, "%s: kind %d, want %d", cases[i].in, k, cases[i].k);
		cr_expect_str_eq(out, cases[i].norm, "%s", cases[i].in);
	}
}

Test(feed, classify_rejects)
{
	const char *bad[] = {"",	   "192.0.2.256",  "01.2.3.4",	      "1.2.3",
			     "nodot",	   "-bad.example", "bad-.example",     "a..example",
			     "999.1.1.1",  "x@",	   "http://",	       "192.0.2.1:0",
			     "192.0.2.1:65536", "1.2.3.4/33", "a b.example", "1.2.3.4:5:6",
			     "exa\x01mple.example"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char out[256];
		cr_expect_eq(classify(bad[i], out, sizeof(out)), SK_FK__COUNT, "'%s' accepted",
			     bad[i]);
	}
}

static void pattern_is(sk_feed_kind k, const char *v, const char *want)
{
	sk_buf b;
	sk_buf_init(&b, 4096);
	cr_assert_eq(sk_feed_pattern(k, v, strlen(v), &b), SK_OK);
	cr_expect_str_eq(b.data, want);
	sk_buf_free(&b);
}

Test(feed, patterns)
{
	pattern_is(SK_FK_DOMAIN, "evil.example", "[domain-name:value = 'evil.example']");
	pattern_is(SK_FK_IPV4, "192.0.2.1", "[ipv4-addr:value = '192.0.2.1']");
	pattern_is(SK_FK_IPV4_CIDR, "192.0.2.0/24", "[ipv4-addr:value ISSUBSET '192.0.2.0/24']");
	pattern_is(SK_FK_IPV4_PORT, "192.0.2.1:8443",
		   "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value "
		   "= '192.0.2.1' AND network-traffic:dst_port = 8443]");
	pattern_is(SK_FK_IPV6_PORT, "2001:db8::1:443",
		   "[network-traffic:dst_ref.type = 'ipv6-addr' AND network-traffic:dst_ref.value "
		   "= '2001:db8::1' AND network-traffic:dst_port = 443]");
	pattern_is(SK_FK_URL, "http://x.example/a'b\\c",
		   "[url:value = 'http://x.example/a\\'b\\\\c']");
	pattern_is(SK_FK_URL_PATH, "/a.php",
		   "[url:value MATCHES '^[a-z][a-z0-9+.-]*://[^/]+/a\\\\.php']");
	pattern_is(SK_FK_MD5, "d41d8cd98f00b204e9800998ecf8427e",
		   "[file:hashes.'MD5' = 'd41d8cd98f00b204e9800998ecf8427e']");
	pattern_is(SK_FK_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
		   "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']");
	pattern_is(SK_FK_DOMAIN_REGEX, "^a\\.example$",
		   "[domain-name:value MATCHES '^a\\\\.example$']");
	pattern_is(SK_FK_EMAIL, "a@b.example", "[email-addr:value = 'a@b.example']");
}

Test(feed, uuid_v5_known_vector)
{
	/* RFC 9562 / Python uuid.uuid5(NAMESPACE_DNS, "python.org") */
	char u[SK_UUID_LEN + 1];
	cr_assert(sk_uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org", 10, u));
	cr_expect_str_eq(u, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	cr_expect(!sk_uuid_v5("not-a-uuid", "x", 1, u));
}

typedef struct rejects {
	uint64_t lines[64];
	size_t n;
} rejects;

static void on_reject(void *ud, const char *name, uint64_t line, const char *msg)
{
	rejects *r = ud;
	(void)name;
	(void)msg;
	if (r->n < 64)
		r->lines[r->n++] = line;
}

static sk_store *temp_store(char *path, size_t n)
{
	sk_store *st = NULL;
	sk_error err;
	sk_node_params p = {.name = "test node"};
	snprintf(path, n, "/tmp/sk_test_feed_%d.db", (int)getpid());
	unlink(path);
	cr_assert_eq(sk_store_open(path, SK_STORE_CREATE, &st, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_store_init_node(st, &p, &err), SK_OK, "%s", err.msg);
	return st;
}

static void drop_store(sk_store *st, const char *path)
{
	char p[1100];
	sk_store_close(st);
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

Test(feed, maltrail_import_and_reimport)
{
	char path[256];
	sk_store *st = temp_store(path, sizeof(path));
	sk_collection coll;
	sk_feed_opts o = {.format = SK_FEED_MALTRAIL, .producer = "Test Producer",
			  .tlp = SK_TLP_GREEN, .confidence = 70};
	sk_feed_stats s = {0};
	rejects r = {0};
	sk_error err;

	cr_assert_eq(sk_store_collection_add(st, "feeds", NULL, NULL, NULL, &coll, &err), SK_OK);
	o.cid = coll.cid;
	o.on_reject = on_reject;
	o.ud = &r;
	cr_assert_eq(sk_feed_import_file(st, fixture("maltrail.tsv"), &o, &s, &err), SK_OK, "%s",
		     err.msg);
	cr_expect_eq(s.rejected, 3);
	cr_expect_eq(r.n, 3);
	cr_expect_eq(r.lines[0], 13);
	cr_expect_eq(r.lines[1], 14);
	cr_expect_eq(r.lines[2], 16);
	cr_expect_eq(s.entries, 13);
	cr_expect_eq(s.stored, 12);
	cr_expect_eq(s.duplicate, 1); /* bad.example twice */
	cr_expect_eq(s.kinds[SK_FK_DOMAIN], 3);
	cr_expect_eq(s.kinds[SK_FK_URL], 2);
	cr_expect_eq(s.kinds[SK_FK_URL_PATH], 1);
	cr_expect_eq(s.kinds[SK_FK_IPV6], 1);
	cr_expect_eq(s.kinds[SK_FK_DOMAIN_REGEX], 1);
	cr_expect_eq(s.kinds[SK_FK_DOMAIN_PORT], 1);

	/* the same feed again: nothing new */
	memset(&s, 0, sizeof(s));
	r.n = 0;
	cr_assert_eq(sk_feed_import_file(st, fixture("maltrail.tsv"), &o, &s, &err), SK_OK);
	cr_expect_eq(s.stored, 0);
	cr_expect_eq(s.added, 0);
	cr_expect_eq(s.duplicate, 13);

	/* into another collection: added, not stored again */
	sk_collection other;
	cr_assert_eq(sk_store_collection_add(st, "other", NULL, NULL, NULL, &other, &err), SK_OK);
	o.cid = other.cid;
	memset(&s, 0, sizeof(s));
	cr_assert_eq(sk_feed_import_file(st, fixture("maltrail.tsv"), &o, &s, &err), SK_OK);
	cr_expect_eq(s.stored, 0);
	cr_expect_eq(s.added, 12, "added %llu dup %llu", (unsigned long long)s.added, (unsigned long long)s.duplicate);
	sk_collection_clear(&coll);
	sk_collection_clear(&other);
	drop_store(st, path);
}

static sk_feed_stats check_mem(sk_feed_format f, const char *text, size_t max_line, rejects *r)
{
	sk_reader *rd = NULL;
	sk_feed_opts o = {.format = f, .producer = "P", .tlp = SK_TLP_AMBER, .confidence = -1,
			  .max_line = max_line, .on_reject = on_reject, .ud = r};
	sk_feed_stats s = {0};
	sk_error err;
	cr_assert_eq(sk_reader_open_mem(text, strlen(text), "mem", &rd, &err), SK_OK);
	cr_assert_eq(sk_feed_check_reader(rd, &o, &s, &err), SK_OK, "%s", err.msg);
	sk_reader_close(rd);
	return s;
}

Test(feed, long_lines_are_rejected_not_fatal)
{
	char *text = malloc(300000);
	rejects r = {0};
	size_t n = 0;
	n += (size_t)sprintf(text + n, "a.example\n");
	memset(text + n, 'x', 200000);
	n += 200000;
	n += (size_t)sprintf(text + n, ".example\nb.example\n");
	memset(text + n, 'y', 100);
	n += 100;
	n += (size_t)sprintf(text + n, ".example\n");
	sk_feed_stats s = check_mem(SK_FEED_LINES, text, 100, &r);
	cr_expect_eq(s.entries, 2);
	cr_expect_eq(s.rejected, 2);
	cr_expect_eq(s.lines, 4);
	cr_expect_eq(r.lines[0], 2);
	cr_expect_eq(r.lines[1], 4);
	free(text);
}

Test(feed, broken_input_never_fatal)
{
	rejects r = {0};
	sk_feed_stats s = check_mem(SK_FEED_MALTRAIL,
				    "x\n\t\t\t\n\xff\xfe\tdomain\n"
				    "a.example\tdomain\tm\tn\n"
				    "a\0b.example\tdomain\n"
				    "last.example\tdomain",
				    0, &r);
	cr_expect_eq(s.entries, 1); /* the NUL ends the C string: last line never seen */
	cr_expect_eq(s.rejected, 3); /* "x", the bad UTF-8 line, "a" */
}

Test(feed, csv_quotes_and_columns)
{
	rejects r = {0};
	sk_feed_stats s = check_mem(SK_FEED_CSV,
				    "indicator,type,category\n"
				    "\"http://x.example/a,b\",url,phish\n"
				    "192.0.2.1,,scan\n"
				    "\"broken,url,x\n",
				    0, &r);
	cr_expect_eq(s.entries, 2);
	cr_expect_eq(s.kinds[SK_FK_URL], 1);
	cr_expect_eq(s.kinds[SK_FK_IPV4], 1);
	cr_expect_eq(s.rejected, 1);
	cr_expect_eq(r.lines[0], 4);
}

Test(feed, ipsum_and_hashes)
{
	rejects r = {0};
	sk_feed_stats s = check_mem(SK_FEED_IPSUM, "# c\n192.0.2.1\t5\n192.0.2.2\tx\nfoo\t1\n", 0, &r);
	cr_expect_eq(s.entries, 1);
	cr_expect_eq(s.rejected, 2);
	s = check_mem(SK_FEED_LINES,
		      "d41d8cd98f00b204e9800998ecf8427e\n"
		      "da39a3ee5e6b4b0d3255bfef95601890afd80709\n"
		      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
		      0, &r);
	cr_expect_eq(s.kinds[SK_FK_MD5], 1);
	cr_expect_eq(s.kinds[SK_FK_SHA1], 1);
	cr_expect_eq(s.kinds[SK_FK_SHA256], 1);
}

Test(feed, producer_id_is_stable)
{
	char a[64], b[64], c[64];
	sk_feed_producer_id("Maltrail", a);
	sk_feed_producer_id("Maltrail", b);
	sk_feed_producer_id("Other", c);
	cr_expect_str_eq(a, b);
	cr_expect_str_neq(a, c);
	cr_expect_eq(strncmp(a, "identity--", 10), 0);
}
