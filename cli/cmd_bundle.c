/*
 * cmd_bundle.c - `schakel bundle export|import`: signed (and optionally
 * encrypted) bundle files for partners without a network link
 * (docs/provenance.md, "Bundle files"; the format is bundle.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "schakel/account.h"
#include "schakel/bundle.h"
#include "schakel/file.h"
#include "schakel/import.h"
#include "schakel/policy.h"
#include "schakel/reader.h"
#include "schakel/timestamp.h"
#include "schakel/uuid.h"

#define BUNDLE_FILE_MAX ((size_t)1 << 30)

struct collect {
	sk_buf *b;
	size_t n;
	int64_t max_added;
	bool failed;
};

static int collect_row(void *ud, const sk_row *r)
{
	struct collect *c = ud;
	if (sk_buf_puts(c->b, c->n++ ? ",\n" : "\n") || sk_buf_append(c->b, r->json, r->len)) {
		c->failed = true;
		return 1;
	}
	if (r->date_added > c->max_added)
		c->max_added = r->date_added;
	return 0;
}

static int bundle_export(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"for", required_argument, NULL, 'F'},    {"output", required_argument, NULL, 'o'},
	    {"since-last", no_argument, NULL, 's'},   {"encrypt", no_argument, NULL, 'e'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const specs[] = {"2.0", "2.1"};
	const char *who = NULL, *outpath = NULL;
	bool since_last = false, encrypt = false, found = false;
	unsigned char rpk[SK_KEY_PK_LEN];
	char uuid[SK_UUID_LEN + 1];
	int64_t last_seq = 0, cursor = 0;
	struct collect c = {0};
	sk_bundle_hdr h = {0};
	sk_principal p;
	sk_buf payload, file;
	sk_query q;
	sk_store *st;
	sk_error err;
	FILE *f = NULL;
	int opt, rc = EXIT_INPUT;

	optind = 2;
	while ((opt = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (opt) {
		case 'F': who = optarg; break;
		case 'o': outpath = optarg; break;
		case 's': since_last = true; break;
		case 'e': encrypt = true; break;
		default: return cli_usage("bundle", "unknown option");
		}
	}
	if (!who || !outpath || optind != argc)
		return cli_usage("bundle", "bundle export --for PARTNER --output FILE "
					   "[--since-last] [--encrypt]");
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	sk_buf_init(&payload, BUNDLE_FILE_MAX);
	sk_buf_init(&file, BUNDLE_FILE_MAX);
	if (sk_partner_principal(st, who, &p, &err)) {
		cli_err("--for: %s", err.msg);
		goto out;
	}
	if (!sk_store_own_key(st)) {
		cli_err("this node has no signing key (schakel key show makes one)");
		goto out;
	}
	if (encrypt && (sk_store_key_get(st, p.identity, rpk, &found, &err) || !found)) {
		cli_err("--encrypt: no key pinned for %s (partner set %s --key PUBKEY)", who, who);
		goto out;
	}
	sk_store_bundle_out(st, p.identity, &last_seq, &cursor);
	/* exactly what the partner may see: the TAXII policy, through export --for */
	sk_query_init(&q);
	q.vermode = SK_VER_ALL;
	q.specs = specs;
	q.nspecs = 2;
	if (since_last && cursor > 0)
		q.added_after = cursor;
	sk_uuid_v4(uuid);
	c.b = &payload;
	c.max_added = cursor;
	sk_buf_printf(&payload, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", uuid);
	if (cli_export_for(st, p.identity, &q, collect_row, &c) != EXIT_OK)
		goto out;
	if (c.failed || sk_buf_puts(&payload, "\n]}\n")) {
		cli_err("the bundle is larger than %zu bytes", BUNDLE_FILE_MAX);
		goto out;
	}
	snprintf(h.sender, sizeof(h.sender), "%s", sk_store_own_id(st));
	snprintf(h.recipient, sizeof(h.recipient), "%s", p.identity);
	h.seq = last_seq + 1;
	sk_ts_format_ms(sk_ts_now_us(), h.created);
	h.encrypted = encrypt;
	if (sk_bundle_seal(&h, payload.data, payload.len, sk_store_own_key(st),
			   encrypt ? rpk : NULL, &file, &err)) {
		cli_err("%s", err.msg);
		goto out;
	}
	if (!(f = sk_fopen_private(outpath, false)) || fwrite(file.data, 1, file.len, f) != file.len ||
	    fflush(f)) {
		cli_err("%s: cannot write: %s", outpath, strerror(errno));
		goto out;
	}
	if (fclose(f)) {
		f = NULL;
		cli_err("%s: cannot write: %s", outpath, strerror(errno));
		goto out;
	}
	f = NULL;
	if (sk_store_bundle_sent(st, p.identity, h.seq, c.max_added, &err)) {
		cli_err("%s", err.msg);
		goto out;
	}
	fprintf(stderr, "bundle %lld for %s: %zu object versions%s, signed%s -> %s\n",
		(long long)h.seq, who, c.n, since_last ? " (since the last bundle)" : "",
		encrypt ? " and encrypted" : "", outpath);
	rc = EXIT_OK;
out:
	if (f)
		fclose(f);
	sk_buf_free(&payload);
	sk_buf_free(&file);
	sk_store_close(st);
	return rc;
}

static void on_reject(void *ud, const char *where, const char *msg)
{
	(void)ud;
	cli_err("%s: rejected: %s", where, msg);
}

/* Read a whole file of at most BUNDLE_FILE_MAX bytes into b. */
static bool read_file(const char *path, sk_buf *b)
{
	char chunk[65536];
	size_t n;
	FILE *f = fopen(path, "rb");
	bool ok = f != NULL;

	while (ok && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ok = sk_buf_append(b, chunk, n) == SK_OK;
	if (f) {
		ok = ok && !ferror(f);
		fclose(f);
	}
	return ok;
}

static int bundle_import(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"collection", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	const char *coll_name = "default", *path;
	unsigned char spk[SK_KEY_PK_LEN];
	bool found = false;
	sk_import_stats stats = {0};
	sk_collection coll = {0};
	sk_bundle_hdr h;
	sk_buf text, payload;
	sk_reader *rd = NULL;
	sk_origin origin = {0};
	sk_import_opts o = {0};
	sk_store *st;
	sk_error err;
	int opt, rc = EXIT_INPUT;

	optind = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'c')
			return cli_usage("bundle", "unknown option");
		coll_name = optarg;
	}
	if (optind + 1 != argc)
		return cli_usage("bundle", "bundle import FILE [--collection NAME]");
	path = argv[optind];
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	sk_buf_init(&text, BUNDLE_FILE_MAX);
	sk_buf_init(&payload, BUNDLE_FILE_MAX);
	if (!read_file(path, &text)) {
		cli_err("%s: cannot read: %s", path, errno ? strerror(errno) : "larger than 1 GiB");
		goto out;
	}
	/* file-level checks: any failure stores nothing */
	if (sk_bundle_peek(text.data, text.len, &h, &err)) {
		cli_err("%s: refused: %s", path, err.msg);
		goto out;
	}
	if (!sk_store_own_id(st) || strcmp(h.recipient, sk_store_own_id(st))) {
		cli_err("%s: refused: the bundle is for %s, not this node", path, h.recipient);
		goto out;
	}
	if (sk_store_key_get(st, h.sender, spk, &found, &err) || !found) {
		cli_err("%s: refused: no key pinned for the sender %s (partner set NAME --key)", path,
			h.sender);
		goto out;
	}
	if (sk_bundle_open(text.data, text.len, spk, sk_store_own_key(st), &payload, &err)) {
		cli_err("%s: refused: %s", path, err.msg);
		goto out;
	}
	if (h.seq <= sk_store_bundle_last_in(st, h.sender)) {
		cli_err("%s: refused: replayed (bundle %lld from %s; %lld was imported already)",
			path, (long long)h.seq, h.sender,
			(long long)sk_store_bundle_last_in(st, h.sender));
		goto out;
	}
	{
		sk_err crc = sk_store_collection_get(st, coll_name, &coll, &err);
		if (crc == SK_ENOTFOUND)
			crc = sk_store_collection_add(st, coll_name, NULL, NULL, NULL, &coll, &err);
		if (crc) {
			cli_err("%s", err.msg);
			goto out;
		}
	}
	/* the objects, under every rule, received from the sender; all in one transaction */
	origin.rx = h.sender;
	origin.unmarked = sk_policy_unmarked(st, h.sender);
	o.cid = coll.cid;
	o.in_tx = true;
	o.on_reject = on_reject;
	if (sk_reader_open_mem(payload.data, payload.len, path, &rd, &err) ||
	    sk_store_begin(st, &err)) {
		cli_err("%s", err.msg);
		goto out;
	}
	sk_store_set_origin(st, &origin);
	if (sk_import_reader(st, rd, &o, &stats, &err) ||
	    sk_store_bundle_seen(st, h.sender, h.seq, &err) || sk_store_commit(st, &err)) {
		sk_store_set_origin(st, NULL);
		sk_store_rollback(st);
		cli_err("%s: refused: %s (nothing stored)", path, err.msg);
		goto out;
	}
	sk_store_set_origin(st, NULL);
	fprintf(stderr,
		"bundle %lld from %s: %llu objects: %llu stored, %llu added, %llu duplicate, "
		"%llu rejected\n",
		(long long)h.seq, h.sender, (unsigned long long)stats.objects,
		(unsigned long long)stats.stored, (unsigned long long)stats.added,
		(unsigned long long)stats.duplicate, (unsigned long long)stats.rejected);
	rc = stats.rejected ? EXIT_INPUT : EXIT_OK;
out:
	sk_reader_close(rd);
	sk_collection_clear(&coll);
	sk_buf_free(&text);
	sk_buf_free(&payload);
	sk_store_close(st);
	return rc;
}

int cmd_bundle(cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "export"))
		return bundle_export(ctx, argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "import"))
		return bundle_import(ctx, argc, argv);
	return cli_usage("bundle", "bundle export ... | bundle import FILE");
}
