/*
 * fuzz_import.c - libFuzzer target for the whole import path: framer
 * (jstream), JSON parser, STIX validation and the store, on an in-memory
 * SQLite node.  Any input must end in SK_OK or a clean error, never a crash,
 * leak or sanitizer report.
 */
#include <stddef.h>
#include <stdint.h>

#include "schakel/import.h"
#include "schakel/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sk_store *st;
	static int64_t cid;
	sk_import_opts o = {0};
	sk_import_stats stats = {0};
	sk_reader *rd = NULL;
	sk_error err;

	if (!st) {
		sk_node_params p = {.name = "fuzz node"};
		sk_collection c;
		if (sk_store_open(":memory:", SK_STORE_CREATE, &st, &err) ||
		    sk_store_init_node(st, &p, &err) ||
		    sk_store_collection_get(st, "default", &c, &err))
			__builtin_trap();
		cid = c.cid;
		sk_collection_clear(&c);
	}
	o.cid = cid;
	o.max_element = 1 << 20;
	o.batch = 7; /* exercise batch boundaries */
	if (sk_reader_open_mem(data, size, "fuzz", &rd, &err))
		return 0;
	(void)sk_import_reader(st, rd, &o, &stats, &err);
	sk_reader_close(rd);
	return 0;
}
