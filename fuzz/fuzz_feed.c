/*
 * fuzz_feed.c - libFuzzer target for the plain-feed importers (maltrail,
 * ipsum, lines, csv), the value classifier and the warning-list matcher.
 *
 * The first byte picks the format (and, for csv, whether a column map is
 * given); the rest is the feed.  Every valid entry is turned into indicator
 * JSON and validated as STIX (sk_feed_check_reader), so a pattern or JSON
 * escaping bug shows up as a trap: a built indicator must always validate.
 * The store path runs on an in-memory node every 16th input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/feed.h"
#include "schakel/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t bad_builds;

static void on_reject(void *ud, const char *name, uint64_t line, const char *msg)
{
	(void)ud;
	(void)name;
	(void)line;
	/* the importer says so when an indicator it built does not validate */
	if (!strncmp(msg, "internal:", 9))
		bad_builds++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const sk_feed_format formats[] = {SK_FEED_MALTRAIL, SK_FEED_IPSUM, SK_FEED_LINES,
						 SK_FEED_CSV};
	static sk_store *st;
	static int64_t cid;
	sk_feed_opts o = {0};
	sk_feed_stats stats = {0};
	sk_reader *rd = NULL;
	sk_error err;
	unsigned sel;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	o.format = formats[sel & 3];
	o.producer = "fuzz";
	o.tlp = (sk_tlp)(1 + (sel >> 2) % 5);
	o.confidence = (sel & 0x20) ? 50 : -1;
	o.max_line = 256;
	o.batch = 3;
	o.on_reject = on_reject;
	if (o.format == SK_FEED_CSV && (sel & 0x40))
		o.columns = "value=1,kind=2,label=3,name=4";

	if (sk_reader_open_mem(data, size, "fuzz", &rd, &err))
		return 0;
	bad_builds = 0;
	if ((sel & 0x80) && (sel & 0x0f) == 0x0f) {
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
		(void)sk_feed_import_reader(st, rd, &o, &stats, &err);
	} else {
		(void)sk_feed_check_reader(rd, &o, &stats, &err);
	}
	sk_reader_close(rd);
	if (bad_builds)
		__builtin_trap();

	/* the classifier on the raw bytes, and its output must classify the same */
	{
		sk_buf a, b;
		sk_feed_kind k1, k2;
		size_t n = size > 4096 ? 4096 : size;
		sk_buf_init(&a, 1 << 16);
		sk_buf_init(&b, 1 << 16);
		if (sk_feed_classify((const char *)data, n, &k1, &a, NULL) == SK_OK &&
		    (k1 != SK_FK_URL_PATH && k1 != SK_FK_DOMAIN_PORT && k1 != SK_FK_IPV6_PORT)) {
			if (sk_feed_classify(a.data, a.len, &k2, &b, NULL) != SK_OK || k1 != k2 ||
			    a.len != b.len || memcmp(a.data, b.data, a.len))
				__builtin_trap();
		}
		sk_buf_free(&a);
		sk_buf_free(&b);
	}
	return 0;
}
