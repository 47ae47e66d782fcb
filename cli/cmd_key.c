/*
 * cmd_key.c - provenance commands: `schakel key show|rotate|list|pin`,
 * `schakel verify ID` and `schakel revoke ID` (docs/provenance.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schakel/json.h"
#include "schakel/sign.h"
#include "schakel/store.h"
#include "schakel/timestamp.h"

static void print_key(const char *label, const unsigned char pk[SK_KEY_PK_LEN])
{
	char b64[SK_KEY_B64_MAX], fp[SK_FINGERPRINT_MAX];

	sk_key_b64(pk, b64);
	sk_key_fingerprint(pk, fp);
	printf("%s%s\nfingerprint %s\n", label, b64, fp);
}

static int print_pin(void *ud, const sk_key_row *r)
{
	char b64[SK_KEY_B64_MAX], fp[SK_FINGERPRINT_MAX], ts[SK_TS_STR_MAX];

	(void)ud;
	sk_key_b64(r->pk, b64);
	sk_key_fingerprint(r->pk, fp);
	sk_ts_format_ms(r->pinned_us, ts);
	printf("%-46s %s  %s  %-10s %s%s\n", r->identity, fp, b64, r->how, ts,
	       r->current ? "" : "  (rotated from)");
	return 0;
}

int cmd_key(cli_ctx *ctx, int argc, char **argv)
{
	const char *sub = argc >= 2 ? argv[1] : "";
	sk_store *st;
	sk_error err;
	bool made = false;
	int rc = EXIT_OK;

	if (!strcmp(sub, "list") && argc == 2) {
		if (!(st = cli_open_store(ctx, SK_STORE_READONLY)))
			return EXIT_INPUT;
		if (sk_store_keys(st, print_pin, NULL, &err)) {
			cli_err("%s", err.msg);
			rc = EXIT_INPUT;
		}
		sk_store_close(st);
		return rc;
	}
	if (!strcmp(sub, "pin") && argc == 4) {
		unsigned char pk[SK_KEY_PK_LEN];
		if (!sk_key_parse(argv[3], pk))
			return cli_usage("key", "key pin IDENTITY PUBKEY (base64 or 64 hex digits)");
		if (!(st = cli_open_store(ctx, 0)))
			return EXIT_INPUT;
		if (sk_store_key_pin(st, argv[2], pk, "configured", &err)) {
			cli_err("%s", err.msg);
			rc = EXIT_INPUT;
		}
		sk_store_close(st);
		return rc;
	}
	if ((strcmp(sub, "show") && strcmp(sub, "rotate")) || argc != 2)
		return cli_usage("key", "key show | key rotate | key list | key pin IDENTITY PUBKEY");
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	if (sk_store_own_key_ensure(st, &made, &err) ||
	    (!strcmp(sub, "rotate") && sk_store_own_key_rotate(st, &err))) {
		cli_err("%s", err.msg);
		sk_store_close(st);
		return EXIT_INPUT;
	}
	if (!sk_store_own_key(st)) {
		cli_err("this node has no identity yet (schakel init)");
		sk_store_close(st);
		return EXIT_INPUT;
	}
	printf("identity    %s\n", sk_store_own_id(st));
	print_key("public key  ", sk_store_own_key(st)->pk);
	if (!strcmp(sub, "rotate"))
		fprintf(stderr, "rotated: the identity publishing the new key is signed with the "
				"old one; peers that pinned the old key accept it at their next pull\n");
	sk_store_close(st);
	return EXIT_OK;
}

int cmd_verify(cli_ctx *ctx, int argc, char **argv)
{
	char *json, *by, *rx;
	const char *producer;
	const sk_jval *v;
	unsigned char pk[SK_KEY_PK_LEN];
	bool found = false;
	sk_sig_verdict verdict;
	sk_jdoc *doc = NULL;
	sk_buf scratch;
	sk_store *st;
	sk_error err;

	if (argc != 2)
		return cli_usage("verify", "verify ID");
	if (!(st = cli_open_store(ctx, SK_STORE_READONLY)))
		return EXIT_INPUT;
	if (sk_store_latest(st, argv[1], &json, &by, &rx, &err)) {
		cli_err("%s: no such object", argv[1]);
		sk_store_close(st);
		return EXIT_INPUT;
	}
	sk_buf_init(&scratch, 0);
	if (sk_json_doc_new(0, 0, &doc) || sk_json_parse(doc, json, strlen(json), &v, &err)) {
		cli_err("%s: stored JSON does not parse", argv[1]);
		verdict = SK_SIG_BAD;
	} else {
		producer = by ? by : !strncmp(argv[1], "identity--", 10) ? argv[1] : NULL;
		if (producer)
			sk_store_key_get(st, producer, pk, &found, &err);
		if (!found || sk_store_key_verify(st, producer, v, &verdict, &err))
			verdict = sk_sig_verify(v, NULL, &scratch);
		printf("%s: %s", argv[1], sk_sig_verdict_name(verdict));
		if (producer) {
			char fp[SK_FINGERPRINT_MAX];
			printf(" (producer %s", producer);
			if (found) {
				sk_key_fingerprint(pk, fp);
				printf(", current key %s", fp);
			}
			printf(")");
		}
		printf("%s%s\n", rx ? ", received from " : "", rx ? rx : "");
	}
	sk_json_doc_free(doc);
	sk_buf_free(&scratch);
	free(json);
	free(by);
	free(rx);
	sk_store_close(st);
	return verdict == SK_SIG_VERIFIED ? EXIT_OK : EXIT_INPUT;
}

int cmd_revoke(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"reason", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	const char *reason = NULL;
	char version[SK_TS_STR_MAX];
	sk_store *st;
	sk_error err;
	int c, rc = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'r')
			return cli_usage("revoke", "unknown option");
		reason = optarg;
	}
	if (optind + 1 != argc)
		return cli_usage("revoke", "revoke ID [--reason TEXT]");
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	if (sk_store_revoke(st, argv[optind], reason, version, &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	} else {
		printf("%s revoked (version %s, signed)\n", argv[optind], version);
	}
	sk_store_close(st);
	return rc;
}
