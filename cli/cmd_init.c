/*
 * cmd_init.c - `schakel init`: create a node.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MAX_SECTORS 32

int cmd_init(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},    {"sector", required_argument, NULL, 's'},
	    {"country", required_argument, NULL, 'c'}, {"contact", required_argument, NULL, 'C'},
	    {NULL, 0, NULL, 0},
	};
	const char *sectors[MAX_SECTORS];
	sk_node_params p = {0};
	char host[128], defname[200];
	sk_store *st;
	sk_error err;
	char *id = NULL;
	sk_err rc;
	int c;

	p.sectors = sectors;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			p.name = optarg;
			break;
		case 's':
			if (p.nsectors == MAX_SECTORS)
				return cli_usage("init", "at most %d sectors", MAX_SECTORS);
			sectors[p.nsectors++] = optarg;
			break;
		case 'c':
			p.country = optarg;
			break;
		case 'C':
			p.contact = optarg;
			break;
		default:
			return cli_usage("init", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("init", "unexpected argument '%s'", argv[optind]);
	if (!p.name) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(defname, sizeof(defname), "schakel node %s", host);
		p.name = defname;
	}
	st = cli_open_store(ctx, SK_STORE_CREATE);
	if (!st)
		return EXIT_INPUT;
	rc = sk_store_init_node(st, &p, &err);
	if (rc) {
		cli_err("%s: %s", ctx->db, err.msg);
		sk_store_close(st);
		return rc == SK_EINVAL ? EXIT_USAGE : EXIT_INPUT;
	}
	sk_store_node_id(st, &id, NULL);
	printf("initialised node '%s' (%s) in %s\n", p.name, id ? id : "?", ctx->db);
	free(id);
	sk_store_close(st);
	return EXIT_OK;
}
