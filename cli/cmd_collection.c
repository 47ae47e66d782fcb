/*
 * cmd_collection.c - `schakel collection list|add`.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int print_coll(void *ud, const sk_collection *c)
{
	(void)ud;
	printf("%s  %-24s %8lld versions  %s\n", c->uuid, c->name, (long long)c->objects,
	       c->title ? c->title : "");
	return 0;
}

int cmd_collection(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"id", required_argument, NULL, 'i'},
	    {"title", required_argument, NULL, 't'},
	    {"description", required_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	const char *uuid = NULL, *title = NULL, *desc = NULL;
	sk_collection c;
	sk_store *st;
	sk_error err;
	int opt, rc = EXIT_OK;

	if (argc < 2)
		return cli_usage("collection", "expected 'list' or 'add'");
	if (!strcmp(argv[1], "list")) {
		if (argc != 2)
			return cli_usage("collection", "unexpected argument '%s'", argv[2]);
		st = cli_open_store(ctx, SK_STORE_READONLY);
		if (!st)
			return EXIT_INPUT;
		if (sk_store_collections(st, print_coll, NULL, &err)) {
			cli_err("%s", err.msg);
			rc = EXIT_INPUT;
		}
		sk_store_close(st);
		return rc;
	}
	if (strcmp(argv[1], "add") != 0)
		return cli_usage("collection", "unknown subcommand '%s'", argv[1]);
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'i')
			uuid = optarg;
		else if (opt == 't')
			title = optarg;
		else if (opt == 'd')
			desc = optarg;
		else
			return cli_usage("collection", "unknown option");
	}
	if (optind + 1 != argc)
		return cli_usage("collection", "add takes exactly one NAME");
	st = cli_open_store(ctx, 0);
	if (!st)
		return EXIT_INPUT;
	if (sk_store_collection_add(st, argv[optind], uuid, title, desc, &c, &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	} else {
		printf("%s  %s\n", c.uuid, c.name);
		sk_collection_clear(&c);
	}
	sk_store_close(st);
	return rc;
}
