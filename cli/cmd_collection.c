/*
 * cmd_collection.c - `schakel collection list|add|grant|red-recipient|alias`.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "schakel/account.h"
#include "schakel/fleet.h"

#define MAX_ALIASES 16

/* `collection grant PARTNER COLLECTION [--read] [--write] [--amber] [--amber-strict]` */
static int coll_grant(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"read", no_argument, NULL, 'r'},	      {"write", no_argument, NULL, 'w'},
	    {"amber", no_argument, NULL, 'a'},	      {"amber-strict", no_argument, NULL, 's'},
	    {"none", no_argument, NULL, 'n'},	      {NULL, 0, NULL, 0},
	};
	unsigned flags = 0;
	sk_store *st;
	sk_error err;
	int opt, rc = EXIT_OK;

	optind = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'r')
			flags |= SK_GRANT_READ;
		else if (opt == 'w')
			flags |= SK_GRANT_WRITE;
		else if (opt == 'a')
			flags |= SK_GRANT_AMBER;
		else if (opt == 's')
			flags |= SK_GRANT_AMBER_STRICT;
		else if (opt != 'n')
			return cli_usage("collection", "unknown option");
	}
	if (optind + 2 != argc)
		return cli_usage("collection", "grant takes PARTNER COLLECTION");
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	if (sk_grant_set(st, argv[optind], argv[optind + 1], flags, &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	}
	sk_store_close(st);
	return rc;
}

/* `collection set NAME --fleet|--no-fleet` */
static int coll_set(cli_ctx *ctx, int argc, char **argv)
{
	sk_store *st;
	sk_error err;
	int rc = EXIT_OK;

	if (argc != 4 || (strcmp(argv[3], "--fleet") && strcmp(argv[3], "--no-fleet")))
		return cli_usage("collection", "set takes NAME --fleet|--no-fleet");
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	if (sk_fleet_collection_set(st, argv[2], !strcmp(argv[3], "--fleet"), &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	}
	sk_store_close(st);
	return rc;
}

/* `collection red-recipient ACCOUNT COLLECTION [--remove]`, `collection alias COLLECTION ALIAS` */
static int coll_two_args(cli_ctx *ctx, int argc, char **argv)
{
	bool red = !strcmp(argv[1], "red-recipient"), add = true;
	sk_store *st;
	sk_error err;
	sk_err e;
	int rc = EXIT_OK;

	if (red && argc == 5 && !strcmp(argv[4], "--remove")) {
		add = false;
		argc--;
	}
	if (argc != 4)
		return cli_usage("collection", red ? "red-recipient takes ACCOUNT COLLECTION"
						   : "alias takes COLLECTION ALIAS");
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	e = red ? sk_red_recipient_set(st, argv[2], argv[3], add, &err)
		: sk_collection_alias_add(st, argv[2], argv[3], &err);
	if (e) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	}
	sk_store_close(st);
	return rc;
}

static int print_coll(void *ud, const sk_collection *c)
{
	printf("%s  %-24s %8lld versions  default %-16s %s%s  %s\n", c->uuid, c->name,
	       (long long)c->objects, sk_tlp_name(c->default_tlp), c->is_public ? "public " : "private",
	       sk_fleet_collection_is(ud, c->cid) ? " fleet" : "", c->title ? c->title : "");
	return 0;
}

int cmd_collection(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"id", required_argument, NULL, 'i'},
	    {"title", required_argument, NULL, 't'},
	    {"description", required_argument, NULL, 'd'},
	    {"alias", required_argument, NULL, 'A'},
	    {"default-tlp", required_argument, NULL, 'T'},
	    {"public", no_argument, NULL, 'P'},
	    {"api-root", required_argument, NULL, 'R'},
	    {"fleet", no_argument, NULL, 'F'},
	    {NULL, 0, NULL, 0},
	};
	bool fleet = false;
	const char *uuid = NULL, *title = NULL, *desc = NULL, *root = NULL;
	const char *aliases[MAX_ALIASES];
	size_t naliases = 0;
	sk_tlp dtlp = SK_TLP_AMBER;
	bool is_public = false;
	sk_collection c = {0};
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
		if (sk_store_collections(st, print_coll, st, &err)) {
			cli_err("%s", err.msg);
			rc = EXIT_INPUT;
		}
		sk_store_close(st);
		return rc;
	}
	if (!strcmp(argv[1], "grant"))
		return coll_grant(ctx, argc, argv);
	if (!strcmp(argv[1], "set"))
		return coll_set(ctx, argc, argv);
	if (!strcmp(argv[1], "red-recipient") || !strcmp(argv[1], "alias"))
		return coll_two_args(ctx, argc, argv);
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
		else if (opt == 'A' && naliases < MAX_ALIASES)
			aliases[naliases++] = optarg;
		else if (opt == 'T') {
			if (!sk_tlp_parse(optarg, &dtlp))
				return cli_usage("collection", "--default-tlp: '%s' is not a TLP level",
						 optarg);
		} else if (opt == 'P')
			is_public = true;
		else if (opt == 'R')
			root = optarg;
		else if (opt == 'F')
			fleet = true;
		else
			return cli_usage("collection", "unknown option");
	}
	if (optind + 1 != argc)
		return cli_usage("collection", "add takes exactly one NAME");
	st = cli_open_store(ctx, 0);
	if (!st)
		return EXIT_INPUT;
	/* one transaction: a collection is created with all its settings or not at all */
	if (sk_store_begin(st, &err) ||
	    sk_store_collection_add(st, argv[optind], uuid, title, desc, &c, &err) ||
	    sk_collection_set_sharing(st, c.uuid, dtlp, is_public, &err) ||
	    (root && sk_collection_set_root(st, c.uuid, root, &err)) ||
	    (fleet && sk_fleet_collection_set(st, c.uuid, true, &err))) {
		cli_err("%s", err.msg);
		sk_store_rollback(st);
		rc = EXIT_INPUT;
	} else {
		for (size_t i = 0; i < naliases && rc == EXIT_OK; i++)
			if (sk_collection_alias_add(st, c.uuid, aliases[i], &err)) {
				cli_err("%s", err.msg);
				rc = EXIT_INPUT;
			}
		if (rc == EXIT_OK && sk_store_commit(st, &err)) {
			cli_err("%s", err.msg);
			rc = EXIT_INPUT;
		} else if (rc != EXIT_OK) {
			sk_store_rollback(st);
		}
	}
	if (rc == EXIT_OK)
		printf("%s  %s\n", c.uuid, c.name);
	sk_collection_clear(&c);
	sk_store_close(st);
	return rc;
}
