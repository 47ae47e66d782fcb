/*
 * fuzz_write_rule.c - libFuzzer target for the write rule (store_rule.c):
 * envelopes from one of five writers against a store that holds versions
 * of others.  The first input byte picks the writer (this node, the
 * producer partner, another partner, a peer, a file of unknown source); the
 * rest is imported into the writer's collection.  The corpus
 * (fuzz/corpus/write_rule) holds envelopes built from the seeded ids and
 * versions, so mutations land on existing objects.
 *
 * After every input, whatever it was, the invariants of the write rule must
 * hold (else abort): no seeded version's bytes changed, none is placed in
 * the writer's collection unless that writer may version it, and the
 * matcher's latest version of a seeded indicator moved only by its producer.
 * Each input runs in a transaction that is rolled back, so all start alike.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/import.h"
#include "schakel/store.h"
#include "store/store_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PRODUCER "identity--0f1e2d3c-4b5a-4968-8776-655443322110"
#define OTHER    "identity--a1b2c3d4-e5f6-4a0b-9c1d-2e3f4a5b6c7d"

/* the seeded versions: made here (RED), and the producer partner's (AMBER) */
static const struct seed {
	const char *writer; /* NULL = this node */
	const char *json;
} seeds[] = {
    {NULL, "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	   "\"id\":\"indicator--11111111-1111-4111-8111-111111111111\","
	   "\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
	   "\"pattern\":\"[ipv4-addr:value = '192.0.2.1']\",\"pattern_type\":\"stix\","
	   "\"valid_from\":\"2026-01-01T00:00:00Z\",\"object_marking_refs\":"
	   "[\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\"]}"},
    {PRODUCER, "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	       "\"id\":\"indicator--22222222-2222-4222-8222-222222222222\","
	       "\"created_by_ref\":\"" PRODUCER "\","
	       "\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
	       "\"pattern\":\"[domain-name:value = 'c2.example']\",\"pattern_type\":\"stix\","
	       "\"valid_from\":\"2026-01-01T00:00:00Z\",\"object_marking_refs\":"
	       "[\"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421\"]}"},
};
#define NSEEDS (sizeof(seeds) / sizeof(seeds[0]))

static sk_store *st;
static int64_t cid_victim, cid_writer;

static void put_seed(const struct seed *s)
{
	sk_origin o = {.rx = s->writer};
	sk_reader *rd = NULL;
	sk_import_opts io = {.cid = cid_victim};
	sk_import_stats stats = {0};
	sk_error err;

	sk_store_set_origin(st, s->writer ? &o : NULL);
	if (sk_reader_open_mem(s->json, strlen(s->json), "seed", &rd, &err) ||
	    sk_import_reader(st, rd, &io, &stats, &err) || stats.stored != 1)
		__builtin_trap();
	sk_reader_close(rd);
	sk_store_set_origin(st, NULL);
}

static void setup(void)
{
	sk_node_params p = {.name = "fuzz node"};
	sk_collection c;
	sk_error err;

	if (sk_store_open(":memory:", SK_STORE_CREATE, &st, &err) ||
	    sk_store_init_node(st, &p, &err) ||
	    sk_store_collection_add(st, "victim", NULL, NULL, NULL, &c, &err))
		__builtin_trap();
	cid_victim = c.cid;
	sk_collection_clear(&c);
	if (sk_store_collection_add(st, "writer", NULL, NULL, NULL, &c, &err))
		__builtin_trap();
	cid_writer = c.cid;
	sk_collection_clear(&c);
	for (size_t i = 0; i < NSEEDS; i++)
		put_seed(&seeds[i]);
}

static int64_t count(const char *sql, const char *text, int64_t n)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(sk_store_sqlite(st), sql, -1, &s, NULL) != SQLITE_OK)
		__builtin_trap();
	sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, n);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void check(const char *writer)
{
	for (size_t i = 0; i < NSEEDS; i++) {
		const char *json = seeds[i].json;
		const char *w = seeds[i].writer;
		/* a file of unknown source writes objects that name no producer as this node */
		bool may = writer == w || (writer && w && !strcmp(writer, w)) ||
			   (!w && writer && !strcmp(writer, SK_RX_UNKNOWN));
		/* the seeded version's bytes are what was stored */
		if (count("SELECT count(*) FROM objects WHERE json=?1", json, 0) != 1)
			abort();
		/* placed in the writer's collection only by who may version it */
		if (!may && count("SELECT count(*) FROM collection_objects co JOIN objects o"
				  " ON o.ver=co.ver WHERE o.json=?1 AND co.coll=?2",
				  json, cid_writer) != 0)
			abort();
		/* the matcher's latest version moves only by its producer or first source */
		if (!may && count("SELECT count(*) FROM indicators i JOIN objects o ON o.ver=i.ver"
				  " WHERE o.json=?1",
				  json, 0) != 1)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const writers[] = {NULL, PRODUCER, OTHER, "peer:fuzz", SK_RX_UNKNOWN};
	sk_import_opts o = {0};
	sk_import_stats stats = {0};
	sk_reader *rd = NULL;
	sk_origin origin = {0};
	const char *writer;
	sk_error err;

	if (!st)
		setup();
	if (size < 1)
		return 0;
	writer = writers[data[0] % 5];
	origin.rx = writer;
	origin.unless_own = writer && !strcmp(writer, SK_RX_UNKNOWN);
	origin.collection_default = origin.unless_own;
	o.cid = cid_writer;
	o.in_tx = true;
	o.max_element = 1 << 20;
	if (sk_reader_open_mem(data + 1, size - 1, "fuzz", &rd, &err))
		return 0;
	if (sk_store_begin(st, &err))
		__builtin_trap();
	sk_store_set_origin(st, writer ? &origin : NULL);
	(void)sk_import_reader(st, rd, &o, &stats, &err);
	sk_store_set_origin(st, NULL);
	check(writer);
	sk_store_rollback(st);
	sk_reader_close(rd);
	return 0;
}
