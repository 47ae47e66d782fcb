/*
 * test_warninglist.c - MISP warning lists: import, version replacement, and
 * lookups by list type (string, hostname, cidr, substring, regex).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schakel/store.h"
#include "schakel/warninglist.h"

static char dbpath[256];

static const char *fixture(const char *name)
{
	static char path[1024];
	const char *dir = getenv("SK_FIXTURES");
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures", name);
	return path;
}

static void rm_db(void)
{
	char p[300];
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
}

static sk_store *fresh(void)
{
	sk_store *st = NULL;
	sk_error err;
	snprintf(dbpath, sizeof(dbpath), "/tmp/sk_test_wl_%d.db", (int)getpid());
	rm_db();
	cr_assert_eq(sk_store_open(dbpath, SK_STORE_CREATE, &st, &err), SK_OK, "%s", err.msg);
	return st;
}

static sk_wl_set *load_fixture(sk_store *st, sk_wl_import_stats *s)
{
	sk_wl_set *set = NULL;
	sk_error err;
	memset(s, 0, sizeof(*s));
	cr_assert_eq(sk_warninglist_import_dir(st, fixture("warninglists"), NULL, s, &err), SK_OK,
		     "%s", err.msg);
	cr_assert_eq(sk_warninglist_load(st, &set, &err), SK_OK, "%s", err.msg);
	return set;
}

Test(warninglist, import_and_match)
{
	sk_store *st = fresh();
	sk_wl_import_stats s;
	sk_wl_set *set = load_fixture(st, &s);
	const char *list = NULL;
	size_t entries;

	cr_expect_eq(s.lists, 5);
	cr_expect_eq(s.failed, 0);
	cr_expect_eq(s.skipped, 1); /* the number 42 */
	cr_expect_eq(sk_warninglist_count(set, &entries), 5);

	/* cidr: IPv4 address, host entry, IPv6 */
	cr_expect(sk_warninglist_match(set, SK_WL_IP, "198.51.100.7", &list));
	cr_expect_str_eq(list, "Test public DNS resolvers");
	cr_expect(sk_warninglist_match(set, SK_WL_IP, "192.0.2.53", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_IP, "192.0.2.54", NULL));
	cr_expect(sk_warninglist_match(set, SK_WL_IP, "2001:db8:53:1::9", NULL));
	cr_expect(sk_warninglist_match(set, SK_WL_IP, "198.51.100.128/25", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_IP, "198.51.0.0/16", NULL));
	/* string: normalised (case, trailing dot, IPv6 form) */
	cr_expect(sk_warninglist_match(set, SK_WL_DOMAIN, "popular.example", &list));
	cr_expect_str_eq(list, "Test top sites");
	cr_expect(sk_warninglist_match(set, SK_WL_DOMAIN, "SEARCH.example.", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_DOMAIN, "www.popular.example", NULL));
	cr_expect(sk_warninglist_match(set, SK_WL_IP, "2001:db8::200", NULL));
	/* hostname: parents, leading dot and "*." entries */
	cr_expect(sk_warninglist_match(set, SK_WL_DOMAIN, "a.b.cdn.example", &list));
	cr_expect_str_eq(list, "Test CDN hosts");
	cr_expect(sk_warninglist_match(set, SK_WL_DOMAIN, "cdn.example", NULL));
	cr_expect(sk_warninglist_match(set, SK_WL_DOMAIN, "x.static.test", NULL));
	cr_expect(sk_warninglist_match(set, SK_WL_URL, "https://edge.example:8443/a", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_DOMAIN, "notcdn.example", NULL));
	/* matching_attributes: the cidr list does not apply to hashes */
	cr_expect(!sk_warninglist_match(set, SK_WL_HASH, "192.0.2.53", NULL));
	/* substring and regex */
	cr_expect(sk_warninglist_match(set, SK_WL_URL, "http://www.sandbox.example/r", NULL));
	cr_expect(sk_warninglist_match(set, SK_WL_EMAIL, "ABUSE@isp.example", &list));
	cr_expect_str_eq(list, "Test role addresses");
	cr_expect(!sk_warninglist_match(set, SK_WL_EMAIL, "ceo@isp.example", NULL));
	sk_warninglist_free(set);
	sk_store_close(st);
	rm_db();
}

Test(warninglist, versions_replace_atomically)
{
	sk_store *st = fresh();
	sk_wl_import_stats s;
	sk_wl_import_opts o = {0};
	sk_wl_set *set = load_fixture(st, &s);
	char dir[300], sub[400], file[500];
	sk_error err;
	FILE *f;

	sk_warninglist_free(set);
	/* same versions again: all current */
	memset(&s, 0, sizeof(s));
	cr_assert_eq(sk_warninglist_import_dir(st, fixture("warninglists"), NULL, &s, &err), SK_OK);
	cr_expect_eq(s.lists, 0);
	cr_expect_eq(s.current, 5);

	/* a newer version of one list replaces its entries */
	snprintf(dir, sizeof(dir), "/tmp/sk_test_wl_dir_%d", (int)getpid());
	snprintf(sub, sizeof(sub), "%s/top", dir);
	snprintf(file, sizeof(file), "%s/list.json", sub);
	mkdir(dir, 0700);
	mkdir(sub, 0700);
	f = fopen(file, "w");
	cr_assert(f);
	fputs("{\"name\":\"Test top sites\",\"version\":4,\"type\":\"string\",\"description\":\"d\","
	      "\"matching_attributes\":[],\"list\":[\"new.example\"]}",
	      f);
	fclose(f);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(sk_warninglist_import_dir(st, dir, &o, &s, &err), SK_OK);
	cr_expect_eq(s.lists, 1);
	cr_assert_eq(sk_warninglist_load(st, &set, &err), SK_OK);
	cr_expect(sk_warninglist_match(set, SK_WL_DOMAIN, "new.example", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_DOMAIN, "popular.example", NULL));
	sk_warninglist_free(set);
	unlink(file);
	rmdir(sub);
	rmdir(dir);
	sk_store_close(st);
	rm_db();
}

Test(warninglist, broken_lists_are_reported_not_fatal)
{
	sk_store *st = fresh();
	sk_wl_import_stats s = {0};
	sk_error err;
	cr_assert_eq(sk_warninglist_import_dir(st, fixture("warninglists-bad"), NULL, &s, &err),
		     SK_OK);
	cr_expect_eq(s.failed, 2);
	cr_expect_eq(s.lists, 0);
	cr_expect_neq(sk_warninglist_import_dir(st, "/nonexistent/dir", NULL, &s, &err), SK_OK);
	sk_store_close(st);
	rm_db();
}

Test(warninglist, kind_guess)
{
	cr_expect_eq(sk_wl_kind_of("192.0.2.1"), SK_WL_IP);
	cr_expect_eq(sk_wl_kind_of("2001:db8::/32"), SK_WL_IP);
	cr_expect_eq(sk_wl_kind_of("a.example"), SK_WL_DOMAIN);
	cr_expect_eq(sk_wl_kind_of("http://a.example/"), SK_WL_URL);
	cr_expect_eq(sk_wl_kind_of("a@b.example"), SK_WL_EMAIL);
	cr_expect_eq(sk_wl_kind_of("d41d8cd98f00b204e9800998ecf8427e"), SK_WL_HASH);
}
