/*
 * cmd_galaxy.c - `schakel galaxy import`: MISP galaxy threat-actor clusters
 * into STIX (galaxy.h, docs/galaxy.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schakel/galaxy.h"

static void on_skip(void *ud, const char *path, const char *why)
{
	if (!*(bool *)ud)
		fprintf(stderr, "%s: skipped: %s\n", path, why);
}

static int galaxy_import(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"source", required_argument, NULL, 's'},
	    {"collection", required_argument, NULL, 'c'},
	    {"quiet", no_argument, NULL, 'q'},
	    {NULL, 0, NULL, 0},
	};
	const char *coll_name = "galaxies";
	sk_galaxy_opts o = {0};
	sk_galaxy_stats s = {0};
	sk_collection coll = {0};
	bool quiet = false;
	sk_store *st;
	sk_error err;
	sk_err rc;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!*optarg || strlen(optarg) > 256)
				return cli_usage("galaxy", "--source takes a name of 1-256 bytes");
			o.source = optarg;
			break;
		case 'c':
			coll_name = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return cli_usage("galaxy", "unknown option");
		}
	}
	if (optind == argc)
		return cli_usage("galaxy", "no cluster file or directory given");
	st = cli_open_store(ctx, 0);
	if (!st)
		return EXIT_INPUT;
	rc = sk_store_collection_get(st, coll_name, &coll, &err);
	if (rc == SK_ENOTFOUND) {
		rc = sk_store_collection_add(st, coll_name, NULL, "MISP galaxies", NULL, &coll,
		                             &err);
		if (!rc && !quiet)
			fprintf(stderr, "created collection '%s' (%s)\n", coll.name, coll.uuid);
	}
	if (rc) {
		cli_err("%s", err.msg);
		sk_store_close(st);
		return EXIT_INPUT;
	}
	o.cid = coll.cid;
	o.on_skip = on_skip;
	o.ud = &quiet;
	rc = sk_galaxy_import(st, (const char *const *)argv + optind, (size_t)(argc - optind), &o,
	                      &s, &err);
	sk_collection_clear(&coll);
	sk_store_close(st);
	if (rc) {
		cli_err("%s (nothing stored)", err.msg);
		return cli_exit_for(rc);
	}
	if (!quiet)
		fprintf(
		    stderr,
		    "galaxy: %llu file(s), %llu clusters: %llu objects written, %llu unchanged; "
		    "%llu actors joined to intrusion sets (%llu by ATT&CK id, %llu by name, "
		    "%llu by alias)\n",
		    (unsigned long long)s.files, (unsigned long long)s.clusters,
		    (unsigned long long)s.objects, (unsigned long long)s.unchanged,
		    (unsigned long long)s.joined, (unsigned long long)s.joins_id,
		    (unsigned long long)s.joins_name, (unsigned long long)s.joins_alias);
	return EXIT_OK;
}

int cmd_galaxy(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("galaxy", "expected a subcommand: import");
	if (!strcmp(argv[1], "import"))
		return galaxy_import(ctx, argc - 1, argv + 1);
	return cli_usage("galaxy", "unknown subcommand '%s' (import)", argv[1]);
}
