/*
 * cmd_warninglist.c - `schakel warninglist import|list|check`: MISP warning lists.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "schakel/buf.h"
#include "schakel/warninglist.h"

static void on_list(void *ud, const char *path, const char *name, int64_t version,
		    uint64_t entries, const char *what)
{
	bool *quiet = ud;
	if (!strcmp(what, "loaded")) {
		if (!*quiet)
			fprintf(stderr, "%s: version %lld, %llu entries\n", name, (long long)version,
				(unsigned long long)entries);
	} else if (!strcmp(what, "current")) {
		if (!*quiet)
			fprintf(stderr, "%s: version %lld already loaded\n", name,
				(long long)version);
	} else {
		cli_err("%s: %s", path, what);
	}
}

static int wl_import(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"quiet", no_argument, NULL, 'q'},
	    {NULL, 0, NULL, 0},
	};
	sk_wl_import_opts o = {0};
	sk_wl_import_stats s = {0};
	bool quiet = false;
	int c, code = EXIT_OK;
	sk_store *st;
	sk_error err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		if (c == 'f')
			o.force = true;
		else if (c == 'q')
			quiet = true;
		else
			return cli_usage("warninglist", "unknown option");
	}
	if (optind == argc)
		return cli_usage("warninglist", "import needs a directory");
	o.on_list = on_list;
	o.ud = &quiet;
	st = cli_open_store(ctx, 0);
	if (!st)
		return EXIT_INPUT;
	for (int i = optind; i < argc; i++) {
		if (sk_warninglist_import_dir(st, argv[i], &o, &s, &err)) {
			cli_err("%s", err.msg);
			code = EXIT_INPUT;
		}
	}
	fprintf(stderr, "%llu lists loaded, %llu already current, %llu failed; %llu entries\n",
		(unsigned long long)s.lists, (unsigned long long)s.current,
		(unsigned long long)s.failed, (unsigned long long)s.entries);
	if (s.failed)
		code = EXIT_INPUT;
	sk_store_close(st);
	return code;
}

static int print_list(void *ud, const sk_wl_info *l)
{
	bool json = *(bool *)ud;
	if (json) {
		/* names and types come from the lists' files: escape them */
		sk_buf b;
		sk_buf_init(&b, 1 << 20);
		if (!sk_buf_puts(&b, "{\"name\":") &&
		    !sk_buf_put_json_string(&b, l->name, strlen(l->name)) &&
		    !sk_buf_printf(&b, ",\"version\":%lld,\"type\":", (long long)l->version) &&
		    !sk_buf_put_json_string(&b, l->type, strlen(l->type)) &&
		    !sk_buf_printf(&b, ",\"entries\":%lld,\"matching_attributes\":%s}",
				   (long long)l->entries, l->matching_attributes))
			puts(b.data);
		sk_buf_free(&b);
	} else
		printf("%-44s %10lld %-9s %9lld\n", l->name, (long long)l->version, l->type,
		       (long long)l->entries);
	return 0;
}

static int wl_list(cli_ctx *ctx, int argc, char **argv)
{
	bool json = argc > 1 && !strcmp(argv[1], "--json");
	sk_store *st;
	sk_error err;
	int code = EXIT_OK;

	if (argc > (json ? 2 : 1))
		return cli_usage("warninglist", "list takes only --json");
	st = cli_open_store(ctx, SK_STORE_READONLY);
	if (!st)
		return EXIT_INPUT;
	if (!json)
		printf("%-44s %10s %-9s %9s\n", "name", "version", "type", "entries");
	if (sk_warninglist_each(st, print_list, &json, &err)) {
		cli_err("%s", err.msg);
		code = EXIT_INPUT;
	}
	sk_store_close(st);
	return code;
}

static void print_hit(void *ud, const char *list, const char *type)
{
	const char *value = ud;
	printf("%s\t%s\t%s\n", value, list, type);
}

static int wl_check(cli_ctx *ctx, int argc, char **argv)
{
	sk_wl_set *set = NULL;
	size_t found = 0;
	sk_store *st;
	sk_error err;

	if (argc < 2)
		return cli_usage("warninglist", "check needs a value");
	st = cli_open_store(ctx, SK_STORE_READONLY);
	if (!st)
		return EXIT_INPUT;
	if (sk_warninglist_load(st, &set, &err)) {
		cli_err("%s", err.msg);
		sk_store_close(st);
		return EXIT_INPUT;
	}
	for (int i = 1; i < argc; i++) {
		size_t n = sk_warninglist_match_all(set, sk_wl_kind_of(argv[i]), argv[i], true,
						    print_hit, argv[i]);
		if (!n)
			fprintf(stderr, "%s: on no warning list\n", argv[i]);
		found += n;
	}
	sk_warninglist_free(set);
	sk_store_close(st);
	return found ? EXIT_OK : EXIT_INPUT;
}

int cmd_warninglist(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("warninglist", "expected import, list or check");
	if (!strcmp(argv[1], "import"))
		return wl_import(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return wl_list(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return wl_check(ctx, argc - 1, argv + 1);
	return cli_usage("warninglist", "unknown subcommand '%s' (import, list, check)", argv[1]);
}
