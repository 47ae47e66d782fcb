/*
 * cmd_hashkey.c - `schakel hashkey` (collection hash keys: create, rotate,
 * list, export sealed to a partner, import) and `schakel indicator hash`
 * (personal-data indicators as keyed hashes).  docs/private-matching.md.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schakel/account.h"
#include "schakel/audit.h"
#include "schakel/bundle.h"
#include "schakel/file.h"
#include "schakel/hashed.h"
#include "schakel/hashkey.h"
#include "schakel/import.h"
#include "schakel/policy.h"
#include "schakel/sign.h"
#include "schakel/timestamp.h"
#include "schakel/tlp.h"
#include "schakel/uuid.h"

#define GRANT_FILE_MAX ((size_t)1 << 16)
#define INPUT_LINE_MAX 4096

static sk_err keys_load(cli_ctx *ctx, char **path, sk_hashkeys *ks, sk_error *err)
{
	if (!(*path = sk_hashkey_path(ctx->db)))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	return sk_hashkeys_load(*path, ks, err);
}

static void audit(sk_store *st, const char *action, const char *subject, const char *kid,
                  const char *coll)
{
	sk_buf d;
	sk_error err;
	sk_buf_init(&d, 4096);
	if (!sk_buf_printf(&d, "{\"key_id\":\"%s\",\"collection\":", kid) &&
	    !sk_buf_put_json_string(&d, coll, strlen(coll)) && !sk_buf_putc(&d, '}')) {
		sk_audit_entry e = {.action = action, .subject = subject, .detail = d.data};
		if (sk_audit_append(st, &e, &err))
			cli_err("audit: %s", err.msg);
	}
	sk_buf_free(&d);
}

/* create / rotate COLLECTION */
static int key_make(cli_ctx *ctx, const char *coll, bool rotate)
{
	sk_hashkeys ks = {0};
	sk_hashkey k = {0};
	sk_collection c = {0};
	sk_store *st;
	sk_error err;
	char *path = NULL;
	const char *own;
	int rc = EXIT_INPUT;

	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	if (!(own = sk_store_own_id(st))) {
		cli_err("hashkey: this node has no identity (schakel init)");
		goto out;
	}
	if (sk_store_collection_get(st, coll, &c, &err)) {
		cli_err("hashkey: collection %s: %s", coll, err.msg);
		goto out;
	}
	if (keys_load(ctx, &path, &ks, &err)) {
		cli_err("hashkey: %s", err.msg);
		goto out;
	}
	if (!rotate && sk_hashkeys_current(&ks, own, coll)) {
		cli_err("hashkey: collection %s has a key already (%s); use hashkey rotate", coll,
		        sk_hashkeys_current(&ks, own, coll)->id);
		goto out;
	}
	if (rotate && !sk_hashkeys_current(&ks, own, coll)) {
		cli_err("hashkey: collection %s has no key to rotate (hashkey create)", coll);
		goto out;
	}
	if (sk_hashkey_generate(own, coll, sk_ts_now_us(), &k, &err) ||
	    sk_hashkeys_add(&ks, &k, &err) || sk_hashkeys_save(path, &ks, &err)) {
		cli_err("hashkey: %s", err.msg);
		goto out;
	}
	audit(st, rotate ? "hashkey.rotate" : "hashkey.create", coll, k.id, coll);
	printf("%s\n", k.id);
	rc = EXIT_OK;
out:
	sodium_memzero(&k, sizeof(k));
	sk_collection_clear(&c);
	sk_hashkeys_free(&ks);
	free(path);
	sk_store_close(st);
	return rc;
}

static int key_list(cli_ctx *ctx)
{
	sk_hashkeys ks = {0};
	sk_error err;
	char *path = NULL, ts[SK_TS_STR_MAX];
	int rc = EXIT_OK;

	if (keys_load(ctx, &path, &ks, &err)) {
		cli_err("hashkey: %s", err.msg);
		rc = EXIT_INPUT;
	}
	for (size_t i = 0; i < ks.n; i++) {
		sk_ts_format_ms(ks.k[i].created, ts);
		printf("%s  %-8s %s  %s  %s\n", ks.k[i].id, ks.k[i].current ? "current" : "old", ts,
		       ks.k[i].producer, ks.k[i].collection);
	}
	sk_hashkeys_free(&ks);
	free(path);
	return rc;
}

typedef struct key_seen {
	char want[64]; /* the pattern of an indicator hashed under the key */
	bool yes;
} key_seen;

static int key_row(void *ud, const sk_row *r)
{
	key_seen *ks = ud;
	json_t *o = json_loadb(r->json, r->len, 0, NULL);
	const char *pat = json_string_value(json_object_get(o, "pattern"));
	ks->yes = !r->revoked && pat && !strcmp(pat, ks->want);
	json_decref(o);
	return ks->yes; /* one is enough */
}

/*
 * A key follows its indicators: it goes only to a partner that the sharing
 * policy (as TAXII applies it) lets see, in collection coll, a current
 * indicator hashed under it.  0 with *yes set, or -1 (said).
 */
static int key_follows(sk_store *st, const sk_principal *p, const char *coll, const char *key_id,
                       bool *yes)
{
	static const char *const types[] = {"indicator"};
	key_seen ks = {.yes = false};
	sk_collection c;
	sk_access a;
	sk_query q;
	sk_error err;
	int rc = 0;

	*yes = false;
	snprintf(ks.want, sizeof(ks.want), "[x-schakel-hashed:key_id = '%s']", key_id);
	if (sk_store_collection_get(st, coll, &c, &err)) {
		cli_err("hashkey: collection %s: %s", coll, err.msg);
		return -1;
	}
	if (sk_policy_access(st, p, &c, &a, &err)) {
		cli_err("hashkey: %s", err.msg);
		rc = -1;
	} else if (sk_policy_can_read(&a)) {
		sk_query_init(&q);
		q.cid = c.cid;
		q.types = types;
		q.ntypes = 1;
		sk_policy_apply(&a, &q);
		if (sk_store_query(st, &q, key_row, &ks, &err)) {
			cli_err("hashkey: %s", err.msg);
			rc = -1;
		}
		*yes = ks.yes;
	}
	sk_collection_clear(&c);
	return rc;
}

static int write_buf(FILE *f, void *ud)
{
	const sk_buf *b = ud;
	return fwrite(b->data, 1, b->len, f) == b->len ? 0 : -1;
}

/* export COLLECTION --for PARTNER --output FILE: the current key, sealed */
static int key_export(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {{"for", required_argument, NULL, 'f'},
	                                     {"output", required_argument, NULL, 'o'},
	                                     {NULL, 0, NULL, 0}};
	const char *who = NULL, *outpath = NULL, *coll, *own;
	unsigned char rpk[SK_KEY_PK_LEN];
	bool found = false;
	sk_hashkeys ks = {0};
	const sk_hashkey *k;
	sk_principal p;
	sk_bundle_hdr h = {0};
	sk_buf grant, file;
	sk_store *st = NULL;
	sk_error err;
	char *path = NULL;
	int opt, rc = EXIT_INPUT;

	optind = 3;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'f')
			who = optarg;
		else if (opt == 'o')
			outpath = optarg;
		else
			return cli_usage("hashkey", "unknown option");
	}
	if (optind != argc || !who || !outpath || argv[2][0] == '-')
		return cli_usage("hashkey",
		                 "hashkey export COLLECTION --for PARTNER --output FILE");
	coll = argv[2];
	sk_buf_init(&grant, GRANT_FILE_MAX);
	sk_buf_init(&file, GRANT_FILE_MAX);
	if (!(st = cli_open_store(ctx, 0)))
		goto out;
	own = sk_store_own_id(st);
	if (sk_partner_principal(st, who, &p, &err)) {
		cli_err("hashkey: partner %s: %s", who, err.msg);
		goto out;
	}
	if (sk_store_key_get(st, p.identity, rpk, &found, &err) || !found) {
		cli_err("hashkey: no key pinned for %s (partner set %s --key PUBKEY): a hash key "
		        "goes only sealed to a pinned key",
		        who, who);
		goto out;
	}
	if (keys_load(ctx, &path, &ks, &err)) {
		cli_err("hashkey: %s", err.msg);
		goto out;
	}
	if (!own || !(k = sk_hashkeys_current(&ks, own, coll))) {
		cli_err("hashkey: collection %s has no key of this node (hashkey create %s)", coll,
		        coll);
		goto out;
	}
	if (key_follows(st, &p, coll, k->id, &found))
		goto out;
	if (!found) {
		cli_err("hashkey: refused: %s may see no indicator hashed under key %s in %s (a "
		        "read grant on %s and the indicators' TLP level: a key goes only where its "
		        "indicators go; make them first with indicator hash)",
		        who, k->id, coll, coll);
		goto out;
	}
	snprintf(h.sender, sizeof(h.sender), "%s", own);
	snprintf(h.recipient, sizeof(h.recipient), "%s", p.identity);
	sk_ts_format_ms(sk_ts_now_us(), h.created);
	h.seq = 0;
	h.encrypted = true;
	if (sk_hashkey_grant(k, &grant, &err) ||
	    sk_bundle_seal(&h, grant.data, grant.len, sk_store_own_key(st), rpk, &file, &err)) {
		cli_err("hashkey: %s", err.msg);
		goto out;
	}
	/* whole or not at all: a failed write leaves no half key file behind */
	if (sk_file_replace_private(outpath, write_buf, &file, &err)) {
		cli_err("hashkey: %s: %s", outpath, err.msg);
		goto out;
	}
	audit(st, "hashkey.export", p.identity, k->id, coll);
	printf("key %s of %s sealed for %s in %s\n", k->id, coll, who, outpath);
	rc = EXIT_OK;
out:
	if (grant.data)
		sodium_memzero(grant.data, grant.len);
	sk_buf_free(&grant);
	sk_buf_free(&file);
	sk_hashkeys_free(&ks);
	free(path);
	sk_store_close(st);
	return rc;
}

static int key_import(cli_ctx *ctx, const char *file)
{
	unsigned char spk[SK_KEY_PK_LEN];
	bool found = false;
	sk_hashkeys ks = {0};
	sk_hashkey k = {0};
	sk_bundle_hdr h;
	sk_buf text, payload;
	sk_store *st;
	sk_error err;
	char *path = NULL;
	FILE *f;
	int rc = EXIT_INPUT;

	sk_buf_init(&text, GRANT_FILE_MAX);
	sk_buf_init(&payload, GRANT_FILE_MAX);
	if (!(st = cli_open_store(ctx, 0)))
		goto out;
	if (!(f = fopen(file, "r"))) {
		cli_err("%s: %s", file, strerror(errno));
		goto out;
	}
	{
		char b[4096];
		size_t n;
		while ((n = fread(b, 1, sizeof(b), f)) > 0)
			if (sk_buf_append(&text, b, n)) {
				cli_err("%s: refused: larger than %zu bytes", file, GRANT_FILE_MAX);
				fclose(f);
				goto out;
			}
		fclose(f);
	}
	if (sk_bundle_peek(text.data, text.len, &h, &err)) {
		cli_err("%s: refused: %s", file, err.msg);
		goto out;
	}
	if (!sk_store_own_id(st) || strcmp(h.recipient, sk_store_own_id(st))) {
		cli_err("%s: refused: the key is sealed for %s, not this node", file, h.recipient);
		goto out;
	}
	if (!h.encrypted) {
		cli_err("%s: refused: a hash key must come sealed", file);
		goto out;
	}
	if (sk_store_key_get(st, h.sender, spk, &found, &err) || !found) {
		cli_err("%s: refused: no key pinned for the sender %s (partner set NAME --key)",
		        file, h.sender);
		goto out;
	}
	if (sk_bundle_open(text.data, text.len, spk, sk_store_own_key(st), &payload, &err)) {
		cli_err("%s: refused: %s", file, err.msg);
		goto out;
	}
	if (sk_hashkey_grant_parse(payload.data, payload.len, &k, &err)) {
		cli_err("%s: refused: %s", file, err.msg);
		goto out;
	}
	if (strcmp(k.producer, h.sender)) {
		cli_err("%s: refused: the key is of %s but was sealed by %s", file, k.producer,
		        h.sender);
		goto out;
	}
	if (keys_load(ctx, &path, &ks, &err) || sk_hashkeys_add(&ks, &k, &err) ||
	    sk_hashkeys_save(path, &ks, &err)) {
		cli_err("hashkey: %s", err.msg);
		goto out;
	}
	audit(st, "hashkey.import", h.sender, k.id, k.collection);
	printf("key %s of %s (%s) imported\n", k.id, k.collection, k.producer);
	rc = EXIT_OK;
out:
	sodium_memzero(&k, sizeof(k));
	if (payload.data)
		sodium_memzero(payload.data, payload.len);
	sk_buf_free(&payload);
	sk_buf_free(&text);
	sk_hashkeys_free(&ks);
	free(path);
	sk_store_close(st);
	return rc;
}

int cmd_hashkey(cli_ctx *ctx, int argc, char **argv)
{
	const char *use = "hashkey create|rotate COLLECTION | hashkey list | hashkey export "
	                  "COLLECTION --for PARTNER --output FILE | hashkey import FILE";
	if (argc == 3 && (!strcmp(argv[1], "create") || !strcmp(argv[1], "rotate")))
		return key_make(ctx, argv[2], !strcmp(argv[1], "rotate"));
	if (argc == 2 && !strcmp(argv[1], "list"))
		return key_list(ctx);
	if (argc >= 3 && !strcmp(argv[1], "export"))
		return key_export(ctx, argc, argv);
	if (argc == 3 && !strcmp(argv[1], "import"))
		return key_import(ctx, argv[2]);
	return cli_usage("hashkey", "%s", use);
}
