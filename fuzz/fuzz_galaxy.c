/*
 * fuzz_galaxy.c - libFuzzer target for MISP galaxy cluster files
 * (src/intel/galaxy.c, `schakel galaxy import`): the input is one cluster
 * file, imported into an in-memory node.  It is stored or refused with a
 * message; a refused file leaves the store as it was (the import is one
 * transaction), and nothing may crash, leak or read freed memory (ASan
 * found two use-after-frees here before this target existed).
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_file.h"
#include "schakel/galaxy.h"
#include "schakel/store.h"
#include "store/store_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sk_store *st;

static int64_t objects(void)
{
	sqlite3_stmt *s = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(sk_store_sqlite(st), "SELECT count(*) FROM objects", -1, &s, NULL) !=
	    SQLITE_OK)
		__builtin_trap();
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz-galaxy-XXXXXX";
	const char *paths[1] = {path};
	sk_galaxy_opts o = {0};
	sk_galaxy_stats stats = {0};
	sk_error err;
	int64_t before;

	if (!st) {
		sk_node_params p = {.name = "fuzz node"};
		if (sk_store_open(":memory:", SK_STORE_CREATE, &st, &err) ||
		    sk_store_init_node(st, &p, &err))
			__builtin_trap();
	}
	if (sk_fuzz_tmpfile(path, data, size))
		return 0;
	before = objects();
	if (sk_galaxy_import(st, paths, 1, &o, &stats, &err) != SK_OK) {
		if (!err.msg[0] || objects() != before)
			abort(); /* a refusal says why and stores nothing */
	}
	unlink(path);
	return 0;
}
