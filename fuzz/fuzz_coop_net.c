/*
 * fuzz_coop_net.c - libFuzzer target for the hub's network report
 * (src/intel/coop_net.c, coop_netout.c) over summaries a hostile partner
 * could send.  A summary's signature says who made it, not that its figures
 * make sense, so the input is taken as the body of a summary that verified:
 * the fields that route it (type, id, times, author, recipient, extension)
 * are set so that it is used, every other field is the input's, and it is
 * stored signed by the node's own key (as a partner's would be by its key)
 * in a transaction that is rolled back.  Then the report is made as JSON,
 * CSV and HTML.  Nothing may crash, leak or read out of bounds, and no
 * count in the report may be negative (the hub's totals stay sane).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "schakel/buf.h"
#include "schakel/coop.h"
#include "schakel/import.h"
#include "schakel/policy.h"
#include "schakel/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sk_store *st;
static int64_t cid;

static void setup(void)
{
	sk_node_params p = {.name = "fuzz hub"};
	sk_collection c;
	sk_view *view = NULL;
	sk_error err;

	if (sk_store_open(":memory:", SK_STORE_CREATE, &st, &err) ||
	    sk_store_init_node(st, &p, &err) ||
	    sk_store_collection_add(st, "c", NULL, NULL, NULL, &c, &err) ||
	    sk_view_open(st, NULL, &view, &err) || sk_view_bind(view, &err))
		__builtin_trap();
	cid = c.cid;
	sk_collection_clear(&c);
	/* the view stays bound for the process (the local operator's: everything) */
}

/* No number in the report may be negative: walk it. */
static void sane(const json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_integer(v) && json_integer_value(v) < 0)
		abort();
	if (json_is_real(v) && !(json_real_value(v) >= 0))
		abort();
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x)
		{
			sane(x);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		{
			sane(x);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *own;
	json_t *o, *rep = NULL;
	sk_coop_opts co = {0};
	sk_import_opts io = {0};
	sk_import_stats stats = {0};
	sk_reader *rd = NULL;
	sk_buf b;
	char *text;
	sk_error err;

	if (!st)
		setup();
	o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return 0;
	}
	own = sk_store_own_id(st);
	json_object_set_new(o, "type", json_string("x-schakel-coop-summary"));
	json_object_set_new(o, "spec_version", json_string("2.1"));
	json_object_set_new(o, "id",
	                    json_string("x-schakel-coop-summary--"
	                                "3c5e7d2a-8b41-4f3e-a6d9-2e7b1c9f4a58"));
	json_object_set_new(o, "created", json_string("2026-06-01T00:00:00.000Z"));
	json_object_set_new(o, "modified", json_string("2026-06-01T00:00:00.000Z"));
	json_object_set_new(o, "created_by_ref", json_string(own));
	json_object_set_new(o, "recipient_ref", json_string(own));
	if (!json_is_string(json_object_get(o, "period_start")))
		json_object_set_new(o, "period_start", json_string("2026-01-01T00:00:00.000Z"));
	if (!json_is_string(json_object_get(o, "period_end")))
		json_object_set_new(o, "period_end", json_string("2026-02-01T00:00:00.000Z"));
	json_object_set_new(o, "extensions",
	                    json_pack("{s:{s:s}}",
	                              "extension-definition--bcc532a3-9342-427e-959f-56a8687363c4",
	                              "extension_type", "new-sdo"));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return 0;
	io.cid = cid;
	io.in_tx = true;
	io.max_element = 1 << 20;
	if (sk_store_begin(st, &err))
		__builtin_trap();
	if (!sk_reader_open_mem(text, strlen(text), "fuzz", &rd, &err)) {
		(void)sk_import_reader(st, rd, &io, &stats, &err);
		sk_reader_close(rd);
	}
	if (sk_coop_network(st, &co, &rep, &err) == SK_OK) {
		sane(rep);
		sk_buf_init(&b, (size_t)1 << 26);
		(void)sk_coop_network_csv(rep, &b, &err);
		sk_buf_free(&b);
		sk_buf_init(&b, (size_t)1 << 26);
		(void)sk_coop_network_html(rep, &b, &err);
		sk_buf_free(&b);
		json_decref(rep);
	}
	sk_store_rollback(st);
	free(text);
	return 0;
}
