/*
 * cmd_import.c - `schakel import`: load STIX files into the store.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "schakel/account.h"
#include "schakel/import.h"
#include "schakel/policy.h"

/* files this large are imported in the store's bulk mode (sk_store_bulk) */
#define BULK_BYTES ((off_t)4 << 20)
#define BULK_CACHE_KIB (128 * 1024)

static void on_reject(void *ud, const char *where, const char *msg)
{
	(void)ud;
	cli_err("%s: rejected: %s", where, msg);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void summary(const char *name, const sk_import_stats *s, double secs, bool failed)
{
	if (failed)
		fprintf(stderr, "%s: stopped by the error above; the objects of the unfinished batch "
				"were rolled back\n",
			name);
	/*
	 * "new" and "added" objects are both in the collection now; "added" ones
	 * were in the store before, "already" ones in the collection too.
	 */
	fprintf(stderr, "%s: %llu objects read: %llu new, %llu already stored and now in the "
			"collection, %llu already in the collection, %llu rejected (%.1f MB in "
			"%.2f s)\n",
		name, (unsigned long long)s->objects, (unsigned long long)s->stored,
		(unsigned long long)s->added, (unsigned long long)s->duplicate,
		(unsigned long long)s->rejected, (double)s->bytes / 1e6, secs);
	if (s->conflicts)
		fprintf(stderr,
			"%s: %llu of the rejected are conflicts: a version stored with other "
			"content (each reported above with both contents' hashes)\n",
			name, (unsigned long long)s->conflicts);
	if (s->stored + s->added + s->duplicate + s->rejected == 0)
		return;
	fprintf(stderr, "  %-32s %9s %9s %9s %9s\n", "type", "new", "added", "already",
		"rejected");
	for (size_t i = 0; i < s->ntypes; i++) {
		const sk_import_count *c = &s->types[i];
		if (!c->stored && !c->added && !c->duplicate && !c->rejected)
			continue;
		fprintf(stderr, "  %-32s %9llu %9llu %9llu %9llu\n", c->type,
			(unsigned long long)c->stored, (unsigned long long)c->added,
			(unsigned long long)c->duplicate, (unsigned long long)c->rejected);
	}
}

int cmd_import(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"collection", required_argument, NULL, 'c'},
	    {"strict", no_argument, NULL, 's'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"batch", required_argument, NULL, 'b'},
	    {"from", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	const char *coll_name = "default", *from = NULL;
	sk_principal src = {0};
	sk_origin origin = {.rx = SK_RX_UNKNOWN, .unless_own = true, .collection_default = true};
	sk_import_opts o = {0};
	sk_collection coll = {0};
	bool quiet = false, bulk = false;
	int c;
	bool problems = false, usable = false;
	sk_store *st;
	sk_error err;
	sk_err rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			coll_name = optarg;
			break;
		case 's':
			o.strict = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'f':
			from = optarg;
			break;
		case 'b': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 1000000)
				return cli_usage("import", "--batch takes 1..1000000");
			o.batch = (size_t)n;
			break;
		}
		default:
			return cli_usage("import", "unknown option");
		}
	}
	if (optind == argc)
		return cli_usage("import", "no input files (use '-' for stdin)");

	st = cli_open_store(ctx, 0);
	if (!st)
		return EXIT_INPUT;
	rc = sk_store_collection_get(st, coll_name, &coll, &err);
	if (rc == SK_ENOTFOUND) {
		rc = sk_store_collection_add(st, coll_name, NULL, NULL, NULL, &coll, &err);
		if (!rc && !quiet)
			fprintf(stderr, "created collection '%s' (%s)\n", coll.name, coll.uuid);
	}
	if (rc) {
		cli_err("%s", err.msg);
		sk_store_close(st);
		return EXIT_INPUT;
	}
	/*
	 * Where the file comes from: a named partner (--from), or nobody named:
	 * then the objects another identity produced are received from an
	 * unknown source and never leave this node at AMBER or above.
	 */
	if (from) {
		if (sk_partner_principal(st, from, &src, &err)) {
			cli_err("--from: %s", err.msg);
			sk_collection_clear(&coll);
			sk_store_close(st);
			return EXIT_USAGE;
		}
		origin.rx = src.identity;
		origin.unless_own = false;
		origin.unmarked = sk_policy_unmarked(st, src.identity);
		origin.collection_default = false;
	}
	sk_store_set_origin(st, &origin);
	o.cid = coll.cid;
	o.on_reject = on_reject;
	if (!quiet)
		o.on_progress = cli_progress;

	for (int i = optind; i < argc; i++) {
		struct stat sb;
		sk_import_stats s;
		double t0 = now_s();
		memset(&s, 0, sizeof(s));
		/* a file is read ahead on a second thread; stdin is not (a strict
		 * failure must not wait for more input) */
		o.pipeline = strcmp(argv[i], "-") != 0;
		/* a large file: bigger page cache, checkpoints off this thread */
		if (!bulk && o.pipeline && !stat(argv[i], &sb) && sb.st_size >= BULK_BYTES) {
			sk_error e2;
			bulk = sk_store_bulk(st, true, BULK_CACHE_KIB, &e2) == SK_OK;
		}
		rc = sk_import_file(st, argv[i], &o, &s, &err);
		cli_progress_done();
		if (rc)
			cli_err("%s", err.msg);
		if (rc || s.rejected)
			problems = true;
		/* a file that failed (strict, or unreadable) stored nothing */
		if (!rc && s.stored + s.added + s.duplicate)
			usable = true;
		if (!quiet && !(rc && o.strict))
			summary(strcmp(argv[i], "-") ? argv[i] : "<stdin>", &s, now_s() - t0, rc != SK_OK);
	}
	sk_store_set_origin(st, NULL);
	sk_collection_clear(&coll);
	sk_store_close(st);
	/* --strict asks for all or a failure: any rejection is one */
	return o.strict && problems ? EXIT_INPUT : cli_import_exit(problems, usable);
}
