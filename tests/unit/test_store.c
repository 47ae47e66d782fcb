/*
 * test_store.c - the SQLite knowledge store: opening and schema versions,
 * node identity, collections, put outcomes, date_added ordering, queries
 * (filters, paging, version and spec selection), relations and statistics.
 * Every test works on its own database in a scratch directory.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schakel/buf.h"
#include "schakel/store.h"
#include "schakel/timestamp.h"
#include "sk_test.h"
#include "store/store_priv.h"

static void setup(void)
{
	t_tmpdir_make();
}

static void teardown(void)
{
	t_tmpdir_remove();
}

TestSuite(store, .init = setup, .fini = teardown);

#define T0 "2020-01-01T00:00:00.000Z"
#define M1 "2020-02-01T00:00:00.000Z"
#define M2 "2020-03-01T00:00:00.000Z"
#define M3 "2020-04-01T00:00:00.000Z"

/* --- helpers ------------------------------------------------------------- */

static const char *db_path(void)
{
	return t_path("store.db");
}

static sk_store *open_new(void)
{
	sk_store *st = NULL;
	sk_error err;

	cr_assert_eq(sk_store_open(db_path(), SK_STORE_CREATE, &st, &err), SK_OK, "%s", err.msg);
	cr_assert_not_null(st);
	return st;
}

static sk_store *reopen(void)
{
	sk_store *st = NULL;
	sk_error err;

	cr_assert_eq(sk_store_open(db_path(), 0, &st, &err), SK_OK, "%s", err.msg);
	return st;
}

static int64_t add_collection(sk_store *st, const char *name)
{
	sk_collection c;
	sk_error err;
	int64_t cid;

	cr_assert_eq(sk_store_collection_add(st, name, NULL, NULL, NULL, &c, &err), SK_OK, "%s",
	             err.msg);
	cid = c.cid;
	cr_assert_gt(cid, 0);
	sk_collection_clear(&c);
	return cid;
}

/* printf into a new malloc'd string. */
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

/* Object texts; ids are built from a number so that tests can make many. */
static const char *uuid_n(int n)
{
	static char bufs[8][40];
	static int next;
	char *p = bufs[next++ & 7];

	snprintf(p, 40, "00000000-0000-4000-8000-%012d", n);
	return p;
}

static char *indicator(int n, const char *modified)
{
	return fmt("{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","
	           "\"created\":\"" T0 "\",\"modified\":\"%s\",\"pattern\":\"[ipv4-addr:value"
	           " = '198.51.100.%d']\",\"pattern_type\":\"stix\",\"valid_from\":\"" T0 "\"}",
	           uuid_n(n), modified, n % 256);
}

static char *malware(int n, const char *modified)
{
	return fmt("{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"malware--%s\","
	           "\"created\":\"" T0 "\",\"modified\":\"%s\",\"is_family\":false,"
	           "\"object_marking_refs\":[\"marking-definition--e828b379-4e03-4974-9ac4-"
	           "e53a884c97c1\"],\"created_by_ref\":\"identity--%s\",\"revoked\":true}",
	           uuid_n(n), modified, uuid_n(9999));
}

static char *relationship(int n, const char *modified, const char *src, const char *dst)
{
	return fmt("{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":"
	           "\"relationship--%s\",\"created\":\"" T0 "\",\"modified\":\"%s\","
	           "\"relationship_type\":\"uses\",\"source_ref\":\"%s\",\"target_ref\":\"%s\"}",
	           uuid_n(n), modified, src, dst);
}

/* Put text into cid in its own transaction. */
static sk_err put1(sk_store *st, int64_t cid, const char *text, sk_put_outcome *out, int64_t *da)
{
	sk_error err;
	sk_err rc;

	cr_assert_eq(sk_store_begin(st, &err), SK_OK, "%s", err.msg);
	rc = t_put(st, cid, text, out, da, &err);
	cr_assert_eq(rc, SK_OK, "put: %s", err.msg);
	cr_assert_eq(sk_store_commit(st, &err), SK_OK, "%s", err.msg);
	return rc;
}

/* Put a malloc'd text and free it. */
static void put_free(sk_store *st, int64_t cid, char *text)
{
	put1(st, cid, text, NULL, NULL);
	free(text);
}

/* Rows collected from a query. */
typedef struct rows {
	size_t n, cap;
	struct row {
		int64_t ver, date_added;
		char id[128], type[64], spec[8], version[SK_TS_KEY_LEN + 1];
		char *json;
		sk_tlp tlp;
		char created_by[128];
		bool revoked;
	} * r;
	size_t stop_after; /* 0 = never stop */
} rows_t;

static int collect(void *ud, const sk_row *row)
{
	rows_t *rs = ud;
	struct row *r;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 16;
		rs->r = realloc(rs->r, rs->cap * sizeof(*rs->r));
		cr_assert_not_null(rs->r);
	}
	r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	r->ver = row->ver;
	r->date_added = row->date_added;
	snprintf(r->id, sizeof(r->id), "%s", row->id);
	snprintf(r->type, sizeof(r->type), "%s", row->type);
	snprintf(r->spec, sizeof(r->spec), "%s", row->spec);
	snprintf(r->version, sizeof(r->version), "%s", row->version);
	cr_assert_eq(strlen(row->json), row->len);
	r->json = strdup(row->json);
	r->tlp = row->tlp;
	snprintf(r->created_by, sizeof(r->created_by), "%s",
	         row->created_by ? row->created_by : "");
	r->revoked = row->revoked;
	return rs->stop_after && rs->n >= rs->stop_after;
}

static void rows_free(rows_t *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->r[i].json);
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

static void query(sk_store *st, const sk_query *q, rows_t *rs)
{
	sk_error err;

	memset(rs, 0, sizeof(*rs));
	cr_assert_eq(sk_store_query(st, q, collect, rs, &err), SK_OK, "%s", err.msg);
}

static const char *vkey(const char *ts)
{
	static char keys[4][SK_TS_KEY_LEN + 1];
	static int next;
	char *k = keys[next++ & 3];

	cr_assert(sk_ts_parse(ts, strlen(ts), k, NULL));
	return k;
}

static int user_version(void)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int v = -1;

	cr_assert_eq(sqlite3_open_v2(db_path(), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* The schema as text, to compare before and after a re-open. */
static char *schema_text(void)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	sk_buf b;

	sk_buf_init(&b, 0);
	cr_assert_eq(sk_buf_puts(&b, ""), SK_OK);
	cr_assert_eq(sqlite3_open_v2(db_path(), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(
	    sqlite3_prepare_v2(db, "SELECT type, name, sql FROM sqlite_master ORDER BY type, name",
	                       -1, &s, NULL),
	    SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW)
		cr_assert_eq(
		    sk_buf_printf(
		        &b, "%s %s %s\n", sqlite3_column_text(s, 0), sqlite3_column_text(s, 1),
		        sqlite3_column_text(s, 2) ? (const char *)sqlite3_column_text(s, 2) : "-"),
		    SK_OK);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return b.data;
}

static void set_user_version(int v)
{
	sqlite3 *db;
	char sql[64];

	cr_assert_eq(sqlite3_open_v2(db_path(), &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static size_t count_all(sk_store *st)
{
	static const char *const specs[] = {"2.0", "2.1"};
	sk_query q;
	rows_t rs;
	size_t n;

	sk_query_init(&q);
	q.vermode = SK_VER_ALL;
	q.specs = specs;
	q.nspecs = 2;
	query(st, &q, &rs);
	n = rs.n;
	rows_free(&rs);
	return n;
}

/* --- opening and schema -------------------------------------------------- */

/* The live rows of the indicators side table (at most 8 kept). */
typedef struct ind_list {
	size_t n;
	int64_t ver[8];
	char pattern[8][128], valid_until[8][40];
	bool subdomains[8];
} ind_list;

static int ind_add(void *ud, const sk_ind_row *r)
{
	ind_list *l = ud;
	if (l->n < 8) {
		l->ver[l->n] = r->ver;
		snprintf(l->pattern[l->n], sizeof(l->pattern[0]), "%.*s", (int)r->pattern_len,
		         r->pattern);
		snprintf(l->valid_until[l->n], sizeof(l->valid_until[0]), "%s",
		         r->valid_until ? r->valid_until : "");
		l->subdomains[l->n] = r->subdomains;
	}
	l->n++;
	return 0;
}

static ind_list ind_rows(sk_store *st)
{
	ind_list l;
	sk_error err;

	memset(&l, 0, sizeof(l));
	cr_assert_eq(sk_store_indicator_rows(st, 0, 0, ind_add, &l, &err), SK_OK, "%s", err.msg);
	return l;
}

static int64_t last_ver(sk_store *st)
{
	sqlite3_stmt *s;
	int64_t v = 0;
	cr_assert_eq(
	    sqlite3_prepare_v2(sk_store_sqlite(st), "SELECT max(ver) FROM objects", -1, &s, NULL),
	    SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

Test(store, open_missing_without_create_is_notinit)
{
	sk_store *st = (sk_store *)1;
	sk_error err;

	cr_expect_eq(sk_store_open(db_path(), 0, &st, &err), SK_ENOTINIT, "got %s: %s",
	             sk_errname(err.code), err.msg);
	cr_expect_null(st);
	cr_expect_neq(access(db_path(), F_OK), 0,
	              "opening without CREATE must not create the file");
	cr_expect_eq(sk_store_open(db_path(), SK_STORE_READONLY, &st, &err), SK_ENOTINIT);
	cr_expect_neq(access(db_path(), F_OK), 0);
}

Test(store, open_error_names_the_path_once)
{
	sk_store *st;
	sk_error err;
	const char *path = db_path();
	const char *p;
	int count = 0;

	cr_assert_eq(sk_store_open(path, 0, &st, &err), SK_ENOTINIT);
	for (p = err.msg; (p = strstr(p, path)) != NULL; p += strlen(path))
		count++;
	cr_expect_eq(count, 1, "the path should appear once in: %s", err.msg);
}

Test(store, open_empty_file_without_create_is_notinit)
{
	sk_store *st;
	sk_error err;

	t_write("store.db", "", 0);
	cr_expect_eq(sk_store_open(db_path(), 0, &st, &err), SK_ENOTINIT, "%s", err.msg);
	cr_expect_null(st);
}

Test(store, create_writes_the_schema_version)
{
	sk_store *st = open_new();
	sk_error err;
	char *id = (char *)"x";

	cr_expect_eq(user_version(), SK_STORE_SCHEMA_VERSION);
	cr_expect_eq(sk_store_node_id(st, &id, &err), SK_ENOTINIT, "no node before init");
	cr_expect_null(id);
	sk_store_close(st);
	sk_store_close(NULL);
}

Test(store, reopen_is_a_no_op_migration)
{
	sk_store *st = open_new();
	sk_node_params p = {.name = "Example CERT"};
	char *id1, *id2, *schema1, *schema2;
	sk_error err;
	int64_t cid;

	cr_assert_eq(sk_store_init_node(st, &p, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_store_node_id(st, &id1, &err), SK_OK);
	cid = add_collection(st, "feeds");
	put_free(st, cid, indicator(1, M1));
	sk_store_close(st);
	schema1 = schema_text();

	for (int round = 0; round < 2; round++) {
		sk_collection c;
		st = round == 0 ? reopen() : open_new();
		cr_expect_eq(user_version(), SK_STORE_SCHEMA_VERSION);
		cr_assert_eq(sk_store_node_id(st, &id2, &err), SK_OK, "%s", err.msg);
		cr_expect_str_eq(id1, id2);
		free(id2);
		cr_assert_eq(sk_store_collection_get(st, "feeds", &c, &err), SK_OK, "%s", err.msg);
		cr_expect_eq(c.objects, 1);
		sk_collection_clear(&c);
		cr_expect_eq(count_all(st), 2, "identity + indicator");
		sk_store_close(st);
		schema2 = schema_text();
		cr_expect_str_eq(schema1, schema2, "re-opening must not change the schema");
		free(schema2);
	}
	free(schema1);
	free(id1);
}

Test(store, readonly_open_reads)
{
	sk_store *st = open_new();
	int64_t cid = add_collection(st, "c");

	put_free(st, cid, indicator(1, M1));
	sk_store_close(st);
	cr_assert_eq(sk_store_open(db_path(), SK_STORE_READONLY, &st, NULL), SK_OK);
	cr_expect_eq(count_all(st), 1);
	sk_store_close(st);
}

/* An older node's database opened read-only (e.g. `schakel stats` right after an upgrade)
 * is migrated on the way in rather than refused. */
Test(store, readonly_open_migrates_an_older_schema)
{
	sk_store *st = open_new();
	sqlite3 *db;
	sk_error err;

	put_free(st, 0, indicator(1, M1));
	sk_store_close(st);
	/*
	 * roll migrations 4 -> 5 -> 6 (indicators table, marking index) -> 7
	 * (unmarked levels) -> 8 (own accounts) -> 9 (keys) -> 10 (audit log) -> 11 (TOTP)
	 * -> 12 (search) back
	 * by hand
	 */
	cr_assert_eq(sqlite3_open_v2(db_path(), &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db,
	                          "DROP TABLE keys;"
	                          "DROP TABLE bundle_out;"
	                          "DROP TABLE bundle_in;"
	                          "ALTER TABLE objects DROP COLUMN sig;"
	                          "ALTER TABLE peers DROP COLUMN tofu;"
	                          "ALTER TABLE peers DROP COLUMN unmarked_tlp;"
	                          "ALTER TABLE partners DROP COLUMN unmarked_tlp;"
	                          "DROP TABLE indicators;"
	                          "CREATE INDEX object_markings_marking ON object_markings(marking);"
	                          "ALTER TABLE accounts DROP COLUMN role;"
	                          "ALTER TABLE accounts DROP COLUMN disabled;"
	                          "ALTER TABLE accounts DROP COLUMN gen;"
	                          "DELETE FROM partners WHERE pid=0;"
	                          "DROP TABLE audit;"
	                          "DROP TABLE audit_checkpoints;"
	                          "ALTER TABLE accounts DROP COLUMN totp_secret;" /* schema 11 */
	                          "ALTER TABLE accounts DROP COLUMN totp_pending;"
	                          "ALTER TABLE accounts DROP COLUMN totp_step;"
	                          "DROP TABLE search;" /* schema 12 */
	                          "DROP TABLE observables;"
	                          "DROP INDEX objects_spec20;" /* schema 13 */
	                          "DROP TABLE invites;" /* schema 14 */
	                          "ALTER TABLE peers DROP COLUMN tls_pin;"
	                          "DROP TABLE marking_pending;" /* schema 15 */
	                          "ALTER TABLE collections DROP COLUMN fleet;" /* schema 16 */
	                          "DROP TABLE fleet_sensors;"
	                          "DROP TABLE fleet_cursor;"
	                          "ALTER TABLE partners DROP COLUMN trust;" /* schema 17 */
	                          "DROP TABLE feed_members;"
	                          "DELETE FROM meta WHERE key='decay_backfill';"
	                          "DROP TABLE sync_log;" /* schema 18 */
	                          "DROP TABLE log_sources;" /* schema 19 */
	                          "PRAGMA user_version=4",
	                          NULL, NULL, NULL),
	             SQLITE_OK);
	sqlite3_close(db);
	cr_assert_eq(sk_store_open(db_path(), SK_STORE_READONLY, &st, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(ind_rows(st).n, 1, "the indicators table is filled from the objects");
	sk_store_close(st);
	cr_expect_eq(user_version(), SK_STORE_SCHEMA_VERSION);
}

Test(store, newer_schema_is_refused)
{
	sk_store *st = open_new();
	sk_error err;

	sk_store_close(st);
	set_user_version(SK_STORE_SCHEMA_VERSION + 1);
	st = (sk_store *)1;
	cr_expect_eq(sk_store_open(db_path(), 0, &st, &err), SK_ESCHEMA, "%s", err.msg);
	cr_expect_null(st);
	cr_expect(strstr(err.msg, db_path()) != NULL, "message names the file: %s", err.msg);
	cr_expect_eq(sk_store_open(db_path(), SK_STORE_CREATE, &st, &err), SK_ESCHEMA);
	cr_expect_eq(sk_store_open(db_path(), SK_STORE_READONLY, &st, &err), SK_ESCHEMA);
	cr_expect_eq(user_version(), SK_STORE_SCHEMA_VERSION + 1, "the file is left alone");
}

/* --- node identity -------------------------------------------------------- */

static int first_row_json(void *ud, const sk_row *row)
{
	char **out = ud;
	free(*out);
	*out = strdup(row->json);
	return 0;
}

Test(store, init_node_creates_identity_and_default_collection)
{
	static const char *const sectors[] = {"government", "technology"};
	sk_node_params p = {.name = "Example CERT",
	                    .sectors = sectors,
	                    .nsectors = 2,
	                    .contact = "cert@example.test"};
	sk_store *st = open_new();
	sk_collection c;
	sk_error err;
	char *id, *json = NULL;
	json_t *o;

	cr_assert_eq(sk_store_init_node(st, &p, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_store_node_id(st, &id, &err), SK_OK, "%s", err.msg);
	cr_expect(sk_stix_id_valid(id, "identity"), "node id %s", id);
	cr_assert_eq(sk_store_get(st, id, false, first_row_json, &json, &err), SK_OK, "%s",
	             err.msg);
	cr_assert_not_null(json, "the identity object is stored");
	o = json_loads(json, 0, NULL);
	cr_assert_not_null(o);
	cr_expect_str_eq(json_string_value(json_object_get(o, "name")), "Example CERT");
	cr_expect_str_eq(json_string_value(json_object_get(o, "identity_class")), "organization");
	cr_expect_str_eq(json_string_value(json_object_get(o, "contact_information")),
	                 "cert@example.test");
	cr_expect_eq(json_array_size(json_object_get(o, "sectors")), 2);
	json_decref(o);
	free(json);

	cr_assert_eq(sk_store_collection_get(st, "default", &c, &err), SK_OK, "%s", err.msg);
	cr_expect_str_eq(c.name, "default");
	sk_collection_clear(&c);
	free(id);
	sk_store_close(st);
}

struct rel_seen {
	int n;
	char rel_type[64], other[128];
	bool outgoing;
};

static int rel_collect(void *ud, const sk_row *rel, const char *rel_type, const char *other,
                       bool outgoing)
{
	struct rel_seen *s = ud;
	(void)rel;
	s->n++;
	snprintf(s->rel_type, sizeof(s->rel_type), "%s", rel_type);
	snprintf(s->other, sizeof(s->other), "%s", other);
	s->outgoing = outgoing;
	return 0;
}

Test(store, init_node_with_country_adds_a_location)
{
	sk_node_params p = {.name = "Example CERT", .country = "nl"};
	sk_store *st = open_new();
	struct rel_seen s = {0};
	sk_error err;
	char *id, *json = NULL;
	json_t *o;

	cr_assert_eq(sk_store_init_node(st, &p, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_store_node_id(st, &id, &err), SK_OK);
	cr_assert_eq(sk_store_relations(st, id, rel_collect, &s, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(s.n, 1);
	cr_expect_str_eq(s.rel_type, "located-at");
	cr_expect(s.outgoing);
	cr_expect(sk_stix_id_valid(s.other, "location"), "%s", s.other);
	cr_assert_eq(sk_store_get(st, s.other, false, first_row_json, &json, &err), SK_OK);
	cr_assert_not_null(json);
	o = json_loads(json, 0, NULL);
	cr_expect_str_eq(json_string_value(json_object_get(o, "country")), "NL");
	json_decref(o);
	free(json);
	free(id);
	sk_store_close(st);
}

Test(store, init_node_twice_is_eexist)
{
	sk_node_params p = {.name = "Example CERT"}, p2 = {.name = "Other"};
	sk_store *st = open_new();
	sk_error err;
	char *id1, *id2;

	cr_assert_eq(sk_store_init_node(st, &p, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_store_node_id(st, &id1, &err), SK_OK);
	cr_expect_eq(sk_store_init_node(st, &p2, &err), SK_EEXIST);
	sk_store_close(st);
	st = reopen();
	cr_expect_eq(sk_store_init_node(st, &p2, &err), SK_EEXIST, "also after re-opening");
	cr_assert_eq(sk_store_node_id(st, &id2, &err), SK_OK);
	cr_expect_str_eq(id1, id2);
	cr_expect_eq(count_all(st), 1, "the failed inits stored nothing");
	/* the store is still writable: the failed init did not leave a transaction open */
	put_free(st, 0, indicator(1, M1));
	free(id1);
	free(id2);
	sk_store_close(st);
}

Test(store, init_node_checks_parameters)
{
	sk_node_params noname = {.name = NULL}, empty = {.name = ""};
	sk_node_params badcc = {.name = "X", .country = "NLD"};
	sk_store *st = open_new();
	sk_error err;
	char *id;

	cr_expect_eq(sk_store_init_node(st, NULL, &err), SK_EINVAL);
	cr_expect_eq(sk_store_init_node(st, &noname, &err), SK_EINVAL);
	cr_expect_eq(sk_store_init_node(st, &empty, &err), SK_EINVAL);
	cr_expect_eq(sk_store_init_node(st, &badcc, &err), SK_EINVAL);
	cr_expect_eq(sk_store_node_id(st, &id, &err), SK_ENOTINIT);
	cr_expect_eq(count_all(st), 0);
	sk_store_close(st);
}

/* --- collections ---------------------------------------------------------- */

static int count_collections(void *ud, const sk_collection *c)
{
	int *n = ud;
	(void)c;
	(*n)++;
	return 0;
}

Test(store, collections)
{
	sk_store *st = open_new();
	sk_collection c, d;
	sk_error err;
	int n = 0;

	cr_assert_eq(sk_store_collection_add(st, "feeds", "6BA7B810-9DAD-41D1-80B4-00C04FD430C8",
	                                     "Feeds", "Imported feeds", &c, &err),
	             SK_OK, "%s", err.msg);
	cr_expect_str_eq(c.uuid, "6ba7b810-9dad-41d1-80b4-00c04fd430c8",
	                 "UUIDs are stored lower case");
	cr_expect_str_eq(c.name, "feeds");
	cr_expect_str_eq(c.title, "Feeds");
	cr_expect_str_eq(c.description, "Imported feeds");
	cr_expect_eq(c.objects, 0);

	cr_assert_eq(sk_store_collection_get(st, "6BA7B810-9DAD-41D1-80B4-00C04FD430C8", &d, &err),
	             SK_OK, "lookup by UUID in any case: %s", err.msg);
	cr_expect_eq(d.cid, c.cid);
	sk_collection_clear(&d);
	cr_assert_eq(sk_store_collection_get(st, "feeds", &d, &err), SK_OK);
	cr_expect_eq(d.cid, c.cid);
	sk_collection_clear(&d);

	cr_expect_eq(sk_store_collection_add(st, "feeds", NULL, NULL, NULL, NULL, &err), SK_EEXIST);
	cr_expect_eq(sk_store_collection_add(st, "other", c.uuid, NULL, NULL, NULL, &err),
	             SK_EEXIST);
	cr_expect_eq(sk_store_collection_add(st, "other", "not-a-uuid", NULL, NULL, NULL, &err),
	             SK_EINVAL);
	cr_expect_eq(sk_store_collection_add(st, "", NULL, NULL, NULL, NULL, &err), SK_EINVAL);
	cr_expect_eq(sk_store_collection_get(st, "nope", &d, &err), SK_ENOTFOUND);
	cr_assert_eq(sk_store_collection_add(st, "other", NULL, NULL, NULL, &d, &err), SK_OK);
	cr_expect_null(d.title);
	cr_expect_neq(d.cid, c.cid);
	sk_collection_clear(&d);
	sk_collection_clear(&c);
	sk_collection_clear(NULL);

	cr_assert_eq(sk_store_collections(st, count_collections, &n, &err), SK_OK);
	cr_expect_eq(n, 2);
	sk_store_close(st);
}

/* --- writing -------------------------------------------------------------- */

Test(store, put_needs_a_transaction)
{
	sk_store *st = open_new();
	char *text = indicator(1, M1);
	sk_error err;

	cr_expect_eq(t_put(st, 0, text, NULL, NULL, &err), SK_EINVAL);
	free(text);
	sk_store_close(st);
}

Test(store, put_outcomes)
{
	sk_store *st = open_new();
	int64_t a = add_collection(st, "a"), b = add_collection(st, "b");
	char *v1 = indicator(1, M1), *v2 = indicator(1, M2), *other = indicator(2, M1);
	sk_put_outcome out;
	int64_t da = -1, da2 = -1;

	put1(st, a, v1, &out, &da);
	cr_expect_eq(out, SK_PUT_NEW);
	cr_expect_gt(da, 0);
	put1(st, a, v1, &out, NULL);
	cr_expect_eq(out, SK_PUT_DUPLICATE, "same version, same collection");
	put1(st, b, v1, &out, NULL);
	cr_expect_eq(out, SK_PUT_ADDED, "known version, new to the collection");
	put1(st, b, v1, &out, NULL);
	cr_expect_eq(out, SK_PUT_DUPLICATE);
	put1(st, 0, v1, &out, NULL);
	cr_expect_eq(out, SK_PUT_DUPLICATE, "known version, no collection");
	put1(st, a, v2, &out, NULL);
	cr_expect_eq(out, SK_PUT_NEW, "a new version of a known object");
	put1(st, 0, other, &out, NULL);
	cr_expect_eq(out, SK_PUT_NEW, "stored in no collection");
	put1(st, a, other, &out, NULL);
	cr_expect_eq(out, SK_PUT_ADDED);
	cr_expect_eq(count_all(st), 3);
	free(v1);
	free(v2);
	free(other);
	(void)da2;
	sk_store_close(st);
}

Test(store, duplicate_put_leaves_date_added_unchanged)
{
	sk_store *st = open_new();
	int64_t a = add_collection(st, "a");
	char *v1 = indicator(1, M1);
	sk_put_outcome out;
	int64_t da = -1, again = -1;

	put1(st, a, v1, &out, &da);
	cr_expect_gt(da, 0);
	put1(st, a, v1, &out, &again);
	cr_expect_eq(out, SK_PUT_DUPLICATE);
	cr_expect_eq(again, -1, "store.h: *date_added is left unchanged for a duplicate");
	free(v1);
	sk_store_close(st);
}

Test(store, rollback_discards_puts)
{
	sk_store *st = open_new();
	int64_t a = add_collection(st, "a");
	char *v1 = indicator(1, M1);
	sk_error err;
	sk_collection c;

	cr_assert_eq(sk_store_begin(st, &err), SK_OK);
	cr_assert_eq(t_put(st, a, v1, NULL, NULL, &err), SK_OK, "%s", err.msg);
	sk_store_rollback(st);
	cr_expect_eq(count_all(st), 0);
	cr_assert_eq(sk_store_collection_get(st, "a", &c, &err), SK_OK);
	cr_expect_eq(c.objects, 0);
	sk_collection_clear(&c);
	/* closing with an open transaction rolls it back too */
	cr_assert_eq(sk_store_begin(st, &err), SK_OK);
	cr_assert_eq(t_put(st, a, v1, NULL, NULL, &err), SK_OK, "%s", err.msg);
	sk_store_close(st);
	st = reopen();
	cr_expect_eq(count_all(st), 0);
	free(v1);
	sk_store_close(st);
}

/* --- date_added ----------------------------------------------------------- */

Test(store, date_added_strictly_increases_in_one_transaction)
{
	enum { N = 5000 };
	sk_store *st = open_new();
	int64_t a = add_collection(st, "a");
	int64_t *da = calloc(N, sizeof(*da));
	sk_error err;
	sk_query q;
	rows_t rs;

	cr_assert_not_null(da);
	cr_assert_eq(sk_store_begin(st, &err), SK_OK);
	for (int i = 0; i < N; i++) {
		char *t = indicator(i, M1);
		sk_put_outcome out;
		cr_assert_eq(t_put(st, a, t, &out, &da[i], &err), SK_OK, "%s", err.msg);
		cr_assert_eq(out, SK_PUT_NEW);
		if (i)
			cr_assert_gt(da[i], da[i - 1], "put %d: %lld after %lld", i,
			             (long long)da[i], (long long)da[i - 1]);
		free(t);
	}
	cr_assert_eq(sk_store_commit(st, &err), SK_OK);

	/* the query returns them in that order, with those values */
	sk_query_init(&q);
	q.cid = a;
	query(st, &q, &rs);
	cr_assert_eq(rs.n, N);
	for (size_t i = 0; i < rs.n; i++)
		cr_assert_eq(rs.r[i].date_added, da[i]);
	rows_free(&rs);
	free(da);
	sk_store_close(st);
}

Test(store, date_added_stays_increasing_when_the_clock_is_behind)
{
	/*
	 * Move the collection's last date_added ten years ahead: from then on the
	 * clock is "behind" for every put, as when many puts share one
	 * microsecond or the clock steps back.  Each put must then take the
	 * next free value.
	 */
	enum { N = 3000 };
	const int64_t ahead = INT64_C(315360000000000);
	sk_store *st = open_new();
	int64_t a = add_collection(st, "a");
	int64_t first = 0, prev, da;
	sqlite3 *db;
	char sql[160];
	sk_error err;

	char *t0 = indicator(0, M1);
	put1(st, a, t0, NULL, &first);
	free(t0);
	sk_store_close(st);
	cr_assert_eq(sqlite3_open_v2(db_path(), &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "UPDATE collection_objects SET date_added=date_added+%lld",
	         (long long)ahead);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	st = reopen();
	prev = first + ahead;
	cr_assert_eq(sk_store_begin(st, &err), SK_OK, "%s", err.msg);
	for (int i = 1; i <= N; i++) {
		char *t = indicator(i, M1);
		cr_assert_eq(t_put(st, a, t, NULL, &da, &err), SK_OK, "%s", err.msg);
		cr_assert_eq(da, prev + 1, "put %d: %lld after %lld", i, (long long)da,
		             (long long)prev);
		prev = da;
		free(t);
	}
	cr_assert_eq(sk_store_commit(st, &err), SK_OK);
	/* and across a transaction boundary */
	t0 = indicator(N + 1, M1);
	put1(st, a, t0, NULL, &da);
	free(t0);
	cr_expect_eq(da, prev + 1);
	sk_store_close(st);
}

Test(store, date_added_across_transactions_and_collections)
{
	sk_store *st = open_new();
	int64_t a = add_collection(st, "a"), b = add_collection(st, "b");
	int64_t last_a = 0, last_b = 0, da;
	sk_error err;
	int n = 0;

	for (int round = 0; round < 20; round++) {
		/* alternate collections inside one transaction */
		cr_assert_eq(sk_store_begin(st, &err), SK_OK, "round %d: %s", round, err.msg);
		for (int k = 0; k < 50; k++) {
			char *t = indicator(n++, M1);
			int64_t cid = k % 3 ? a : b;
			cr_assert_eq(t_put(st, cid, t, NULL, &da, &err), SK_OK, "%s", err.msg);
			if (cid == a) {
				cr_assert_gt(da, last_a);
				last_a = da;
			} else {
				cr_assert_gt(da, last_b);
				last_b = da;
			}
			free(t);
		}
		cr_assert_eq(sk_store_commit(st, &err), SK_OK);
	}
	sk_store_close(st);
}

Test(store, date_added_across_connections)
{
	sk_store *st = open_new(), *st2;
	int64_t a = add_collection(st, "a");
	int64_t last = 0, da;
	sk_error err;
	int n = 0;

	cr_assert_eq(sk_store_open(db_path(), 0, &st2, &err), SK_OK, "%s", err.msg);
	for (int round = 0; round < 10; round++) {
		sk_store *w = round % 2 ? st2 : st;
		cr_assert_eq(sk_store_begin(w, &err), SK_OK, "round %d: %s", round, err.msg);
		for (int k = 0; k < 10; k++) {
			char *t = indicator(n++, M1);
			cr_assert_eq(t_put(w, a, t, NULL, &da, &err), SK_OK, "%s", err.msg);
			cr_assert_gt(da, last, "round %d: %lld after %lld", round, (long long)da,
			             (long long)last);
			last = da;
			free(t);
		}
		cr_assert_eq(sk_store_commit(w, &err), SK_OK, "%s", err.msg);
	}
	sk_store_close(st2);
	sk_store_close(st);
}

Test(store, commits_of_another_connection_are_visible)
{
	/* e.g. a long-running server and `schakel import` on the same file */
	sk_store *st = open_new(), *st2;
	int64_t a = add_collection(st, "a");
	sk_error err;

	put_free(st, a, indicator(1, M1));
	cr_assert_eq(sk_store_open(db_path(), 0, &st2, &err), SK_OK, "%s", err.msg);
	put_free(st2, a, indicator(2, M1));
	cr_expect_eq(count_all(st2), 2);
	cr_expect_eq(count_all(st), 2,
	             "the first connection still reads an old snapshot after its own put");
	/* and it can still write */
	cr_expect_eq(sk_store_begin(st, &err), SK_OK, "begin after another connection wrote: %s",
	             err.msg);
	sk_store_rollback(st);
	sk_store_close(st2);
	sk_store_close(st);
}

/* --- queries -------------------------------------------------------------- */

Test(store, query_types_and_ids)
{
	sk_store *st = open_new();
	int64_t a = add_collection(st, "a");
	const char *types[] = {"indicator", "malware"};
	char ids[2][80];
	const char *idp[2] = {ids[0], ids[1]};
	sk_query q;
	rows_t rs;

	for (int i = 0; i < 3; i++)
		put_free(st, a, indicator(i, M1));
	put_free(st, a, malware(10, M1));
	put_free(st, a,
	         relationship(20, M1, "malware--00000000-0000-4000-8000-000000000010",
	                      "indicator--00000000-0000-4000-8000-000000000001"));

	for (int whole = 0; whole < 2; whole++) {
		sk_query_init(&q);
		q.cid = whole ? 0 : a;
		q.types = types;
		q.ntypes = 1;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 3);
		for (size_t i = 0; i < rs.n; i++)
			cr_expect_str_eq(rs.r[i].type, "indicator");
		rows_free(&rs);

		q.ntypes = 2;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 4);
		rows_free(&rs);

		sk_query_init(&q);
		q.cid = whole ? 0 : a;
		snprintf(ids[0], sizeof(ids[0]), "indicator--%s", uuid_n(2));
		snprintf(ids[1], sizeof(ids[1]), "relationship--%s", uuid_n(20));
		q.ids = idp;
		q.nids = 2;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 2);
		for (size_t i = 0; i < rs.n; i++)
			cr_expect(!strcmp(rs.r[i].id, ids[0]) || !strcmp(rs.r[i].id, ids[1]), "%s",
			          rs.r[i].id);
		rows_free(&rs);

		/* types and ids combine with AND */
		q.types = types;
		q.ntypes = 1;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 1);
		rows_free(&rs);
	}
	sk_store_close(st);
}

Test(store, query_added_after_cursor_and_limit)
{
	enum { N = 9 };
	sk_store *st = open_new();
	int64_t a = add_collection(st, "a");
	int64_t da[N];
	sk_query q;
	rows_t rs;
	size_t seen = 0;

	for (int i = 0; i < N; i++) {
		char *t = indicator(i, M1);
		put1(st, a, t, NULL, &da[i]);
		free(t);
	}

	/* added_after is a strict lower bound */
	sk_query_init(&q);
	q.cid = a;
	q.added_after = da[3];
	query(st, &q, &rs);
	cr_expect_eq(rs.n, N - 4);
	cr_expect_eq(rs.r[0].date_added, da[4]);
	rows_free(&rs);
	q.added_after = 0;
	query(st, &q, &rs);
	cr_expect_eq(rs.n, N);
	rows_free(&rs);

	/* keyset paging with limit 2: every row once, in order */
	sk_query_init(&q);
	q.cid = a;
	q.limit = 2;
	for (;;) {
		query(st, &q, &rs);
		cr_assert_leq(rs.n, 2);
		if (rs.n == 0) {
			rows_free(&rs);
			break;
		}
		for (size_t i = 0; i < rs.n; i++)
			cr_expect_eq(rs.r[i].date_added, da[seen + i]);
		seen += rs.n;
		q.cursor = rs.r[rs.n - 1].date_added;
		rows_free(&rs);
	}
	cr_expect_eq(seen, N);

	/* the whole store pages by version row */
	sk_query_init(&q);
	q.limit = 4;
	seen = 0;
	int64_t last = 0;
	for (;;) {
		query(st, &q, &rs);
		if (rs.n == 0) {
			rows_free(&rs);
			break;
		}
		for (size_t i = 0; i < rs.n; i++) {
			cr_expect_gt(rs.r[i].ver, last);
			last = rs.r[i].ver;
		}
		seen += rs.n;
		q.cursor = last;
		rows_free(&rs);
	}
	cr_expect_eq(seen, N);

	/* the callback can stop early */
	sk_query_init(&q);
	q.cid = a;
	memset(&rs, 0, sizeof(rs));
	rs.stop_after = 3;
	cr_expect_eq(sk_store_query(st, &q, collect, &rs, NULL), SK_OK);
	cr_expect_eq(rs.n, 3);
	rows_free(&rs);
	sk_store_close(st);
}

/* Three versions of indicator 1 stored out of order (M2, M3, M1), plus indicator 2. */
static sk_store *versioned_store(int64_t *cid)
{
	sk_store *st = open_new();
	*cid = add_collection(st, "a");
	put_free(st, *cid, indicator(1, M2));
	put_free(st, *cid, indicator(1, M3));
	put_free(st, *cid, indicator(2, M1));
	put_free(st, *cid, indicator(1, M1));
	return st;
}

static const char *version_of(const rows_t *rs, const char *id)
{
	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->r[i].id, id))
			return rs->r[i].version;
	return NULL;
}

Test(store, latest_version_by_modified_not_insertion)
{
	int64_t cid;
	sk_store *st = versioned_store(&cid);
	const char *id1 = "indicator--00000000-0000-4000-8000-000000000001";
	char want[SK_TS_KEY_LEN + 1];
	sk_query q;
	rows_t rs;

	snprintf(want, sizeof(want), "%s", vkey(M3));
	for (int whole = 0; whole < 2; whole++) {
		sk_query_init(&q);
		q.cid = whole ? 0 : cid;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 2, "one row per object");
		cr_expect_str_eq(version_of(&rs, id1), want);
		for (size_t i = 0; i < rs.n; i++)
			if (!strcmp(rs.r[i].id, id1))
				cr_expect(strstr(rs.r[i].json, M3) != NULL, "the M3 text: %s",
				          rs.r[i].json);
		rows_free(&rs);
	}
	sk_store_close(st);
}

Test(store, vermode_first_all_and_explicit)
{
	int64_t cid;
	sk_store *st = versioned_store(&cid);
	const char *id1 = "indicator--00000000-0000-4000-8000-000000000001";
	const char *ids[] = {id1};
	char k1[SK_TS_KEY_LEN + 1], k2[SK_TS_KEY_LEN + 1], k3[SK_TS_KEY_LEN + 1];
	const char *versions[1];
	sk_query q;
	rows_t rs;

	snprintf(k1, sizeof(k1), "%s", vkey(M1));
	snprintf(k2, sizeof(k2), "%s", vkey(M2));
	snprintf(k3, sizeof(k3), "%s", vkey(M3));
	versions[0] = k2;
	for (int whole = 0; whole < 2; whole++) {
		sk_query_init(&q);
		q.cid = whole ? 0 : cid;
		q.ids = ids;
		q.nids = 1;

		q.vermode = SK_VER_FIRST;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 1);
		cr_expect_str_eq(rs.r[0].version, k1, "FIRST is the oldest modified");
		rows_free(&rs);

		q.vermode = SK_VER_LAST;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 1);
		cr_expect_str_eq(rs.r[0].version, k3);
		rows_free(&rs);

		q.vermode = SK_VER_FIRST | SK_VER_LAST;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 2);
		rows_free(&rs);

		q.vermode = SK_VER_ALL;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 3);
		rows_free(&rs);

		/* explicit versions alone */
		q.vermode = 0;
		q.versions = versions;
		q.nversions = 1;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 1);
		cr_expect_str_eq(rs.r[0].version, k2);
		rows_free(&rs);

		/* explicit versions OR last */
		q.vermode = SK_VER_LAST;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 2);
		rows_free(&rs);

		/* a version nobody has */
		versions[0] = "1999-01-01T00:00:00.000000000";
		q.vermode = 0;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 0);
		rows_free(&rs);
		versions[0] = k2;
	}
	sk_store_close(st);
}

Test(store, specs_default_to_each_objects_latest_spec)
{
	const char *id = "identity--00000000-0000-4000-8000-000000000077";
	/* the 2.1 version is OLDER by modified: the spec still wins */
	const char *v20 =
	    "{\"type\":\"identity\",\"id\":\"identity--00000000-0000-4000-8000-000000000077\","
	    "\"created\":\"" T0 "\",\"modified\":\"" M3
	    "\",\"name\":\"X\",\"identity_class\":\"organization\"}";
	const char *v21 = "{\"type\":\"identity\",\"spec_version\":\"2.1\","
	                  "\"id\":\"identity--00000000-0000-4000-8000-000000000077\","
	                  "\"created\":\"" T0 "\",\"modified\":\"" M1 "\",\"name\":\"X\"}";
	const char *s20[] = {"2.0"}, *both[] = {"2.0", "2.1"};
	sk_store *st = open_new();
	int64_t cid = add_collection(st, "a");
	sk_query q;
	rows_t rs;

	put1(st, cid, v20, NULL, NULL);
	put1(st, cid, v21, NULL, NULL);
	put_free(st, cid, indicator(1, M1));
	for (int whole = 0; whole < 2; whole++) {
		sk_query_init(&q);
		q.cid = whole ? 0 : cid;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 2);
		for (size_t i = 0; i < rs.n; i++)
			if (!strcmp(rs.r[i].id, id))
				cr_expect_str_eq(rs.r[i].spec, "2.1");
		rows_free(&rs);

		q.specs = s20;
		q.nspecs = 1;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 1, "only the 2.0 identity");
		if (rs.n)
			cr_expect_str_eq(rs.r[0].spec, "2.0");
		rows_free(&rs);

		/* both spec versions: one version per object, the last across them
		 * (TAXII 2.1 3.4.1): the identity's 2.0 version is the later one */
		q.specs = both;
		q.nspecs = 2;
		query(st, &q, &rs);
		cr_expect_eq(rs.n, 2);
		for (size_t i = 0; i < rs.n; i++)
			if (!strcmp(rs.r[i].id, id))
				cr_expect_str_eq(rs.r[i].spec, "2.0");
		rows_free(&rs);
	}
	sk_store_close(st);
}

Test(store, get_returns_versions_oldest_first)
{
	int64_t cid;
	sk_store *st = versioned_store(&cid);
	sk_error err;
	rows_t rs;

	memset(&rs, 0, sizeof(rs));
	cr_assert_eq(sk_store_get(st, "indicator--00000000-0000-4000-8000-000000000001", true,
	                          collect, &rs, &err),
	             SK_OK, "%s", err.msg);
	cr_assert_eq(rs.n, 3);
	cr_expect_str_eq(rs.r[0].version, vkey(M1), "oldest first (stored M2, M3, M1)");
	cr_expect_str_eq(rs.r[1].version, vkey(M2));
	cr_expect_str_eq(rs.r[2].version, vkey(M3));
	rows_free(&rs);

	cr_assert_eq(sk_store_get(st, "indicator--00000000-0000-4000-8000-000000000001", false,
	                          collect, &rs, &err),
	             SK_OK);
	cr_assert_eq(rs.n, 1);
	cr_expect_str_eq(rs.r[0].version, vkey(M3));
	rows_free(&rs);

	cr_assert_eq(sk_store_get(st, "indicator--00000000-0000-4000-8000-000000000404", true,
	                          collect, &rs, &err),
	             SK_OK, "an unknown id is no rows, not an error");
	cr_expect_eq(rs.n, 0);
	rows_free(&rs);
	sk_store_close(st);
}

Test(store, rows_carry_the_indexed_facts)
{
	sk_store *st = open_new();
	int64_t cid = add_collection(st, "a");
	char *m = malware(5, M2);
	sk_query q;
	rows_t rs;

	put1(st, cid, m, NULL, NULL);
	sk_query_init(&q);
	q.cid = cid;
	query(st, &q, &rs);
	cr_assert_eq(rs.n, 1);
	cr_expect_str_eq(rs.r[0].json, m, "stored as given");
	cr_expect_str_eq(rs.r[0].id, "malware--00000000-0000-4000-8000-000000000005");
	cr_expect_str_eq(rs.r[0].type, "malware");
	cr_expect_str_eq(rs.r[0].spec, "2.1");
	cr_expect_str_eq(rs.r[0].version, vkey(M2));
	cr_expect_eq(rs.r[0].tlp, SK_TLP_RED);
	cr_expect_str_eq(rs.r[0].created_by, "identity--00000000-0000-4000-8000-000000009999");
	cr_expect(rs.r[0].revoked);
	cr_expect_gt(rs.r[0].ver, 0);
	rows_free(&rs);
	free(m);
	sk_store_close(st);
}

/* --- relations ------------------------------------------------------------ */

struct rel_list {
	int n;
	struct {
		char rel_type[32], other[128], id[128], version[SK_TS_KEY_LEN + 1];
		bool outgoing;
	} r[8];
};

static int rel_list_add(void *ud, const sk_row *rel, const char *rel_type, const char *other,
                        bool outgoing)
{
	struct rel_list *l = ud;
	cr_assert_lt(l->n, 8);
	snprintf(l->r[l->n].rel_type, 32, "%s", rel_type);
	snprintf(l->r[l->n].other, 128, "%s", other);
	snprintf(l->r[l->n].id, 128, "%s", rel->id);
	snprintf(l->r[l->n].version, SK_TS_KEY_LEN + 1, "%s", rel->version);
	l->r[l->n].outgoing = outgoing;
	l->n++;
	return 0;
}

Test(store, relations_in_both_directions)
{
	const char *actor = "threat-actor--00000000-0000-4000-8000-000000000001";
	const char *mw = "malware--00000000-0000-4000-8000-000000000002";
	const char *sighting =
	    "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--"
	    "00000000-0000-4000-8000-000000000030\",\"created\":\"" T0 "\",\"modified\":\"" T0
	    "\",\"sighting_of_ref\":\"malware--00000000-0000-"
	    "4000-8000-000000000002\"}";
	sk_store *st = open_new();
	struct rel_list l;
	sk_error err;

	/* two versions of one relationship: only the latest is reported */
	put_free(st, 0, relationship(20, M2, actor, mw));
	put_free(st, 0, relationship(20, M1, actor, mw));
	put1(st, 0, sighting, NULL, NULL);
	put_free(st, 0,
	         relationship(21, M1, "campaign--00000000-0000-4000-8000-000000000009",
	                      "intrusion-set--00000000-0000-4000-8000-000000000008"));

	memset(&l, 0, sizeof(l));
	cr_assert_eq(sk_store_relations(st, actor, rel_list_add, &l, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(l.n, 1);
	cr_expect_str_eq(l.r[0].rel_type, "uses");
	cr_expect_str_eq(l.r[0].other, mw);
	cr_expect(l.r[0].outgoing);
	cr_expect_str_eq(l.r[0].version, vkey(M2), "latest version of the relationship");

	memset(&l, 0, sizeof(l));
	cr_assert_eq(sk_store_relations(st, mw, rel_list_add, &l, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(l.n, 2);
	for (int i = 0; i < l.n; i++) {
		cr_expect(!l.r[i].outgoing);
		if (!strcmp(l.r[i].rel_type, "uses"))
			cr_expect_str_eq(l.r[i].other, actor);
		else {
			cr_expect_str_eq(l.r[i].rel_type, "sighting");
			cr_expect_str_eq(l.r[i].other,
			                 "sighting--00000000-0000-4000-8000-000000000030");
		}
	}

	memset(&l, 0, sizeof(l));
	cr_assert_eq(sk_store_relations(st, "indicator--00000000-0000-4000-8000-000000000001",
	                                rel_list_add, &l, &err),
	             SK_OK);
	cr_expect_eq(l.n, 0);
	sk_store_close(st);
}

/* --- statistics ----------------------------------------------------------- */

struct stat_list {
	int n;
	struct {
		char coll[32], type[32];
		int64_t objects, versions;
	} r[16];
};

static int stat_add(void *ud, const sk_stat_row *s)
{
	struct stat_list *l = ud;
	cr_assert_lt(l->n, 16);
	snprintf(l->r[l->n].coll, 32, "%s", s->collection ? s->collection : "*");
	snprintf(l->r[l->n].type, 32, "%s", s->type);
	l->r[l->n].objects = s->objects;
	l->r[l->n].versions = s->versions;
	l->n++;
	return 0;
}

static void expect_stat(const struct stat_list *l, const char *coll, const char *type,
                        int64_t objects, int64_t versions)
{
	for (int i = 0; i < l->n; i++) {
		if (!strcmp(l->r[i].coll, coll) && !strcmp(l->r[i].type, type)) {
			cr_expect_eq(l->r[i].objects, objects, "%s/%s objects %lld, want %lld",
			             coll, type, (long long)l->r[i].objects, (long long)objects);
			cr_expect_eq(l->r[i].versions, versions, "%s/%s versions %lld, want %lld",
			             coll, type, (long long)l->r[i].versions, (long long)versions);
			return;
		}
	}
	cr_expect_fail("no stats row for %s/%s", coll, type);
}

Test(store, stats_counts)
{
	sk_store *st = open_new();
	int64_t a = add_collection(st, "a"), b = add_collection(st, "b");
	struct stat_list l;
	sk_error err;

	put_free(st, a, indicator(1, M1));
	put_free(st, a, indicator(1, M2));
	put_free(st, a, indicator(2, M1));
	put_free(st, b, indicator(1, M2));
	put_free(st, b, malware(3, M1));
	put_free(st, 0, malware(4, M1));

	memset(&l, 0, sizeof(l));
	cr_assert_eq(sk_store_stats(st, stat_add, &l, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(l.n, 5);
	expect_stat(&l, "*", "indicator", 2, 3);
	expect_stat(&l, "*", "malware", 2, 2);
	expect_stat(&l, "a", "indicator", 2, 3);
	expect_stat(&l, "b", "indicator", 1, 1);
	expect_stat(&l, "b", "malware", 1, 1);
	/* whole-store rows come first */
	cr_expect_str_eq(l.r[0].coll, "*");
	cr_expect_str_eq(l.r[1].coll, "*");
	sk_store_close(st);
}

/* --- the indicators side table (what the matcher compiles) ---------------- */

/* One row per indicator id: its newest version; older ones arriving later change nothing. */
Test(store, indicators_table_follows_the_newest_version)
{
	sk_store *st = open_new();
	int64_t cid = add_collection(st, "c"), v2, v3;
	ind_list l;

	put_free(st, cid, indicator(1, M2));
	v2 = last_ver(st);
	put_free(st, cid, indicator(2, M1));
	put_free(st, 0, indicator(1, M1)); /* older, later: stays behind M2 */
	l = ind_rows(st);
	cr_assert_eq(l.n, 2);
	cr_expect_eq(l.ver[0], v2);
	cr_expect_str_eq(l.pattern[0], "[ipv4-addr:value = '198.51.100.1']");
	cr_expect_str_eq(l.valid_until[0], "");
	cr_expect_not(l.subdomains[0]);

	put_free(st, cid,
	         fmt("{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","
	             "\"created\":\"" T0 "\",\"modified\":\"" M3 "\",\"pattern\":\"[domain-name:"
	             "value = 'a\\u00e9.example']\",\"pattern_type\":\"stix\",\"valid_from\":\"" T0
	             "\",\"valid_until\":\"2030-01-01T00:00:00Z\",\"x_schakel_subdomains\":true}",
	             uuid_n(1)));
	v3 = last_ver(st);
	l = ind_rows(st);
	cr_assert_eq(l.n, 2);
	/* rows come in ver order: indicator 2 first now */
	cr_expect_eq(l.ver[1], v3);
	cr_expect_str_eq(l.pattern[1], "[domain-name:value = 'a\xc3\xa9.example']");
	cr_expect_str_eq(l.valid_until[1], "2030-01-01T00:00:00Z");
	cr_expect(l.subdomains[1]);

	/* the same version again (another collection): nothing moves */
	put_free(st, add_collection(st, "d"), indicator(1, M2));
	l = ind_rows(st);
	cr_expect_eq(l.n, 2);
	cr_expect_eq(l.ver[1], v3);

	/* a newer revoked version hides the id from the live rows */
	put_free(st, cid,
	         fmt("{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","
	             "\"created\":\"" T0 "\",\"modified\":\"2020-05-01T00:00:00.000Z\","
	             "\"revoked\":true,\"pattern\":\"[ipv4-addr:value = '198.51.100.1']\","
	             "\"pattern_type\":\"stix\",\"valid_from\":\"" T0 "\"}",
	             uuid_n(1)));
	l = ind_rows(st);
	cr_expect_eq(l.n, 1);
	sk_store_close(st);
}

/* A rolled-back put leaves no row behind. */
Test(store, indicators_table_rolls_back_with_the_object)
{
	sk_store *st = open_new();
	char *text = indicator(7, M1);
	sk_error err;

	cr_assert_eq(sk_store_begin(st, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(t_put(st, 0, text, NULL, NULL, &err), SK_OK, "%s", err.msg);
	sk_store_rollback(st);
	free(text);
	cr_expect_eq(ind_rows(st).n, 0);
	sk_store_close(st);
}

/* --- provenance ------------------------------------------------------------ */

static int64_t count_sql(sk_store *st, const char *q)
{
	sqlite3_stmt *s;
	int64_t v = -1;
	cr_assert_eq(sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL), SQLITE_OK, "%s", q);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void put_in_tx(sk_store *st, int64_t cid, char *text)
{
	sk_error err;
	cr_assert_eq(t_put(st, cid, text, NULL, NULL, &err), SK_OK, "%s", err.msg);
	free(text);
}

/* One provenance row per version new to the store, naming the origin it was put with. */
Test(store, provenance_rows_follow_the_origin)
{
	sk_store *st = open_new();
	int64_t cid = add_collection(st, "c");
	sk_origin a = {.rx = "identity--a", .peer = "A", .source_added = 42};
	sk_origin b = {.rx = "peer:B", .peer = "B"};
	sk_error err;

	put_free(st, cid, indicator(1, M1)); /* local, before any origin */
	cr_assert_eq(sk_store_begin(st, &err), SK_OK);
	sk_store_set_origin(st, &a);
	put_in_tx(st, cid, indicator(2, M1));
	put_in_tx(st, cid, indicator(3, M1));
	put_in_tx(st, cid, indicator(1, M1)); /* known: no row */
	put_in_tx(st, 0, indicator(4, M1));
	sk_store_set_origin(st, NULL);
	put_in_tx(st, cid, indicator(5, M1)); /* local again */
	sk_store_set_origin(st, &b);
	put_in_tx(st, cid, indicator(6, M1));
	sk_store_set_origin(st, &a);
	put_in_tx(st, cid, indicator(7, M1));
	cr_assert_eq(sk_store_commit(st, &err), SK_OK, "%s", err.msg); /* flushes 7 */
	sk_store_set_origin(st, NULL);

	cr_expect_eq(count_sql(st, "SELECT count(*) FROM provenance"), 5);
	cr_expect_eq(count_sql(st, "SELECT count(*) FROM provenance p JOIN objects o"
	                           " ON o.ver=p.ver WHERE p.peer='A' AND p.source='identity--a'"
	                           " AND p.source_added=42 AND o.rx='identity--a'"
	                           " AND o.id IN ('indicator--00000000-0000-4000-8000-000000000002',"
	                           "'indicator--00000000-0000-4000-8000-000000000003',"
	                           "'indicator--00000000-0000-4000-8000-000000000004',"
	                           "'indicator--00000000-0000-4000-8000-000000000007')"),
	             4);
	cr_expect_eq(count_sql(st, "SELECT count(*) FROM provenance p JOIN objects o"
	                           " ON o.ver=p.ver WHERE p.peer='B' AND p.source_added IS NULL"
	                           " AND o.id='indicator--00000000-0000-4000-8000-000000000006'"),
	             1);
	cr_expect_eq(count_sql(st, "SELECT count(*) FROM objects o WHERE o.rx IS NULL"
	                           " AND NOT EXISTS (SELECT 1 FROM provenance p WHERE p.ver=o.ver)"),
	             2, "local versions have none");

	/* rolled back: neither versions nor rows */
	cr_assert_eq(sk_store_begin(st, &err), SK_OK);
	sk_store_set_origin(st, &a);
	put_in_tx(st, cid, indicator(8, M1));
	sk_store_rollback(st);
	sk_store_set_origin(st, NULL);
	cr_expect_eq(count_sql(st, "SELECT count(*) FROM provenance"), 5);
	cr_expect_eq(count_sql(st, "SELECT count(*) FROM objects"), 7);
	sk_store_close(st);
}
