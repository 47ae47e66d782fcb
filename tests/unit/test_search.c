/*
 * test_search.c - the search index (store_search.c, schema 11): the FTS5
 * row of an object's newest version (names, descriptions, aliases, external
 * ids, labels, pattern values), the observables of each version, and the
 * backfill of a migrated store.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schakel/stix.h"
#include "store/store_priv.h"

static char path[64];

static void put(sk_store *st, const char *text)
{
	sk_stix_info info;
	sk_jdoc *doc = NULL;
	sk_error err;

	cr_assert_eq(sk_json_doc_new(0, 0, &doc), SK_OK);
	cr_assert_eq(sk_stix_validate_text(doc, text, strlen(text), &info, &err), SK_OK, "%s",
	             err.msg);
	cr_assert_eq(sk_store_put(st, 0, &info, text, strlen(text), NULL, NULL, &err), SK_OK, "%s",
	             err.msg);
	sk_json_doc_free(doc);
}

/* The ids matching an FTS5 query, comma-separated in rowid order. */
static char *match(sk_store *st, const char *q)
{
	static char out[1024];
	sqlite3_stmt *s;
	out[0] = 0;
	cr_assert_eq(
	    sqlite3_prepare_v2(sk_store_sqlite(st),
	                       "SELECT o.id FROM search JOIN objects o ON o.ver=search.rowid"
	                       " WHERE search MATCH ?1 ORDER BY search.rowid",
	                       -1, &s, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(sk_store_sqlite(st)));
	sqlite3_bind_text(s, 1, q, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (out[0])
			strcat(out, ",");
		strncat(out, (const char *)sqlite3_column_text(s, 0) + 0, 60);
	}
	sqlite3_finalize(s);
	return out;
}

static int count(sk_store *st, const char *sql)
{
	sqlite3_stmt *s;
	int n = -1;
	cr_assert_eq(sqlite3_prepare_v2(sk_store_sqlite(st), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

#define IND "indicator--11111111-1111-4111-8111-111111111111"
#define AP  "attack-pattern--22222222-2222-4222-8222-222222222222"
#define IS  "intrusion-set--33333333-3333-4333-8333-333333333333"
#define IP4 "ipv4-addr--44444444-4444-4444-8444-444444444444"

static void fill(sk_store *st)
{
	sk_error err;
	cr_assert_eq(sk_store_begin(st, &err), SK_OK);
	put(st, "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" IND "\","
	        "\"created\":\"2024-01-01T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\","
	        "\"name\":\"bad host\",\"pattern_type\":\"stix\",\"valid_from\":"
	        "\"2024-01-01T00:00:00Z\",\"pattern\":\"[ipv4-addr:value = '192.0.2.1'] OR "
	        "[domain-name:value = 'Evil.Example'] OR [file:hashes.'SHA-256' = "
	        "'AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899']\"}");
	put(st, "{\"type\":\"attack-pattern\",\"spec_version\":\"2.1\",\"id\":\"" AP "\","
	        "\"created\":\"2024-01-01T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\","
	        "\"name\":\"Phishing\",\"description\":\"Adversaries send messages.\","
	        "\"external_references\":[{\"source_name\":\"mitre-attack\",\"external_id\":"
	        "\"T1566\"}]}");
	put(st, "{\"type\":\"attack-pattern\",\"spec_version\":\"2.1\",\"id\":\"" AP "\","
	        "\"created\":\"2024-01-01T00:00:00Z\",\"modified\":\"2024-02-01T00:00:00Z\","
	        "\"name\":\"Spearphishing\",\"external_references\":[{\"source_name\":"
	        "\"mitre-attack\",\"external_id\":\"T1566.001\"}]}");
	/* an older version arriving later stays out of the index */
	put(st, "{\"type\":\"attack-pattern\",\"spec_version\":\"2.1\",\"id\":\"" AP "\","
	        "\"created\":\"2024-01-01T00:00:00Z\",\"modified\":\"2024-01-15T00:00:00Z\","
	        "\"name\":\"Oldphishing\"}");
	put(st,
	    "{\"type\":\"intrusion-set\",\"spec_version\":\"2.1\",\"id\":\"" IS "\","
	    "\"created\":\"2024-01-01T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\","
	    "\"name\":\"APT Example\",\"aliases\":[\"Fancy Example\"],\"labels\":[\"espionage\"],"
	    "\"external_references\":[{\"source_name\":\"cve\",\"external_id\":"
	    "\"CVE-2021-44228\"}]}");
	put(st, "{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"" IP4 "\","
	        "\"value\":\"192.0.2.1\"}");
	cr_assert_eq(sk_store_commit(st, &err), SK_OK, "%s", err.msg);
}

static void check(sk_store *st)
{
	cr_expect_str_eq(match(st, "\"192.0.2.1\""), IND "," IP4);
	cr_expect_str_eq(match(st, "\"evil.example\""), IND);
	cr_expect_str_eq(match(st, "spearphishing"), AP);
	cr_expect_str_eq(match(st, "phishing"), "", "the older versions left the index");
	cr_expect_str_eq(match(st, "oldphishing"), "");
	cr_expect_str_eq(match(st, "\"T1566.001\""), AP);
	cr_expect_str_eq(match(st, "\"CVE-2021-44228\""), IS);
	cr_expect_str_eq(match(st, "fancy"), IS);
	cr_expect_str_eq(match(st, "espionage"), IS);
	cr_expect_eq(count(st, "SELECT count(*) FROM observables WHERE value='192.0.2.1'"), 2);
	cr_expect_eq(count(st, "SELECT count(*) FROM observables WHERE value='evil.example'"
	                       " AND kind='domain-name'"),
	             1);
	cr_expect_eq(count(st,
	                   "SELECT count(*) FROM observables WHERE kind='hash' AND value="
	                   "'aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899'"),
	             1);
}

static sk_store *fresh(void)
{
	sk_store *st = NULL;
	sk_error err;
	int fd;
	strcpy(path, "/tmp/sk-search-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	unlink(path);
	cr_assert_eq(sk_store_open(path, SK_STORE_CREATE, &st, &err), SK_OK, "%s", err.msg);
	return st;
}

Test(search, write_path)
{
	sk_store *st = fresh();
	fill(st);
	check(st);
	sk_store_close(st);
	unlink(path);
}

Test(search, backfill_after_migration)
{
	sk_store *st = fresh();
	sk_error err;
	fill(st);
	/*
	 * as if migrated just now: the cursor at the start, the index empty but
	 * for the newest versions, written since by the write path
	 */
	cr_assert_eq(sqlite3_exec(sk_store_sqlite(st),
	                          "DELETE FROM search WHERE rowid < 3; DELETE FROM observables;"
	                          "INSERT INTO meta(key,value) VALUES('search_backfill','0')",
	                          NULL, NULL, NULL),
	             SQLITE_OK);
	sk_store_close(st);
	cr_assert_eq(sk_store_open(path, 0, &st, &err), SK_OK, "%s", err.msg);
	check(st);
	cr_expect_eq(count(st, "SELECT count(*) FROM meta WHERE key='search_backfill'"), 0);
	sk_store_close(st);
	unlink(path);
}
