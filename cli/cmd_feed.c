/*
 * cmd_feed.c - `schakel feed import`: plain indicator feeds to STIX indicators.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "schakel/decay.h"
#include "schakel/feed.h"

typedef struct feed_cli {
	uint64_t shown;
	bool quiet;
} feed_cli;

#define MAX_SHOWN 1000

static void on_reject(void *ud, const char *name, uint64_t line, const char *msg)
{
	feed_cli *fc = ud;
	if (fc->shown++ < MAX_SHOWN)
		cli_err("%s:%llu: rejected: %s", name, (unsigned long long)line, msg);
	else if (fc->shown == MAX_SHOWN + 1)
		cli_err("%s: more rejected lines not shown", name);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void summary(const char *name, const sk_feed_stats *s, double secs)
{
	fprintf(stderr,
		"%s: %llu lines, %llu indicators: %llu new, %llu already stored and now in the "
		"collection, %llu already in the collection, %llu rejected (%.1f MB in %.2f s)\n",
		name, (unsigned long long)s->lines, (unsigned long long)s->entries,
		(unsigned long long)s->stored, (unsigned long long)s->added,
		(unsigned long long)s->duplicate, (unsigned long long)s->rejected,
		(double)s->bytes / 1e6, secs);
	if (s->expired || s->revived)
		fprintf(stderr, "%s: %llu expired (dropped out of the feed), %llu valid again\n",
			name, (unsigned long long)s->expired, (unsigned long long)s->revived);
	if (s->indexed)
		fprintf(stderr,
			"%s: stored and committed in %.2f s; search index caught up after that: "
			"%llu versions in %.2f s\n",
			name, secs - (double)s->index_us / 1e6, (unsigned long long)s->indexed,
			(double)s->index_us / 1e6);
	if (s->store_cpu_us || s->reader_cpu_us)
		fprintf(stderr,
			"%s: CPU until committed: store thread %.2f s, reader thread %.2f s "
			"(parse, build, validate)\n",
			name, (double)s->store_cpu_us / 1e6, (double)s->reader_cpu_us / 1e6);
	for (int k = 0; k < SK_FK__COUNT; k++)
		if (s->kinds[k])
			fprintf(stderr, "  %-14s %10llu\n", sk_feed_kind_name((sk_feed_kind)k),
				(unsigned long long)s->kinds[k]);
}

static int feed_import(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"producer", required_argument, NULL, 'p'},
	    {"tlp", required_argument, NULL, 't'},
	    {"collection", required_argument, NULL, 'c'},
	    {"confidence", required_argument, NULL, 'C'},
	    {"column", required_argument, NULL, 'm'},
	    {"label", required_argument, NULL, 'l'},
	    {"valid-from", required_argument, NULL, 'v'},
	    {"max-line", required_argument, NULL, 'L'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"batch", required_argument, NULL, 'b'},
	    {"check", no_argument, NULL, 'k'},
	    {"feed", required_argument, NULL, 'F'},
	    {"valid-for", required_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *coll_name = "feeds", *labels[SK_FEED_MAX_LABELS];
	bool have_format = false, have_tlp = false, check_only = false;
	sk_feed_opts o = {0};
	feed_cli fc = {0};
	sk_collection coll = {0};
	int exit_code = EXIT_OK, c;
	bool problems = false, usable = false;
	sk_store *st;
	sk_error err;
	sk_err rc;

	o.confidence = -1;
	o.labels = labels;
	optind = 1;
	while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		char *end;
		long n;
		switch (c) {
		case 'f':
			if (!sk_feed_format_parse(optarg, &o.format))
				return cli_usage("feed", "--format is maltrail, ipsum, lines or csv");
			have_format = true;
			break;
		case 'p':
			o.producer = optarg;
			break;
		case 't':
			if (!sk_tlp_parse(optarg, &o.tlp))
				return cli_usage("feed",
						 "--tlp is clear, green, amber, amber+strict or red");
			have_tlp = true;
			break;
		case 'c':
			coll_name = optarg;
			break;
		case 'C':
			n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 0 || n > 100)
				return cli_usage("feed", "--confidence takes 0..100");
			o.confidence = (int)n;
			break;
		case 'm':
			o.columns = optarg;
			break;
		case 'l':
			if (o.nlabels == SK_FEED_MAX_LABELS)
				return cli_usage("feed", "at most %d --label", SK_FEED_MAX_LABELS);
			labels[o.nlabels++] = optarg;
			break;
		case 'v':
			o.valid_from = optarg;
			break;
		case 'L':
			n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 64 || n > (1L << 24))
				return cli_usage("feed", "--max-line takes 64..16777216");
			o.max_line = (size_t)n;
			break;
		case 'q':
			fc.quiet = true;
			break;
		case 'k':
			check_only = true;
			break;
		case 'F':
			o.feed = optarg;
			break;
		case 'V':
			if (!sk_decay_parse_duration(optarg, &o.valid_for_us))
				return cli_usage("feed", "--valid-for takes a duration such as 12h, "
							 "30d, 6w, 3mo, 2y");
			break;
		case 'b':
			n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 1 || n > 10000000)
				return cli_usage("feed", "--batch takes 1..10000000");
			o.batch = (size_t)n;
			break;
		default:
			return cli_usage("feed", "unknown option");
		}
	}
	if (!have_format)
		return cli_usage("feed", "--format is required (maltrail, ipsum, lines, csv)");
	if (!o.producer || !*o.producer)
		return cli_usage("feed", "--producer NAME is required");
	if (!have_tlp)
		return cli_usage("feed", "--tlp is required (clear, green, amber, amber+strict, red)");
	if (o.columns && o.format != SK_FEED_CSV)
		return cli_usage("feed", "--column only applies to --format csv");
	if (optind == argc)
		return cli_usage("feed", "no input files (use '-' for stdin)");

	if (check_only) {
		/* parse, build and validate every indicator; store nothing */
		o.on_reject = on_reject;
		o.ud = &fc;
		for (int i = optind; i < argc; i++) {
			sk_feed_stats s;
			sk_reader *rd = NULL;
			double t0 = now_s();
			memset(&s, 0, sizeof(s));
			rc = sk_reader_open(argv[i], &rd, &err);
			if (!rc)
				rc = sk_feed_check_reader(rd, &o, &s, &err);
			sk_reader_close(rd);
			if (rc) {
				cli_err("%s", err.msg);
				exit_code = EXIT_INPUT;
			}
			if (s.rejected)
				exit_code = EXIT_INPUT;
			if (!fc.quiet)
				summary(strcmp(argv[i], "-") ? argv[i] : "<stdin>", &s, now_s() - t0);
		}
		return exit_code;
	}
	st = cli_open_store(ctx, 0);
	if (!st)
		return EXIT_INPUT;
	rc = sk_store_collection_get(st, coll_name, &coll, &err);
	if (rc == SK_ENOTFOUND) {
		rc = sk_store_collection_add(st, coll_name, NULL, "Imported feeds", NULL, &coll,
					     &err);
		if (!rc && !fc.quiet)
			fprintf(stderr, "created collection '%s' (%s)\n", coll.name, coll.uuid);
	}
	if (rc) {
		cli_err("%s", err.msg);
		sk_store_close(st);
		return EXIT_INPUT;
	}
	o.cid = coll.cid;
	o.on_reject = on_reject;
	o.ud = &fc;
	if (!fc.quiet)
		o.on_progress = cli_progress;

	for (int i = optind; i < argc; i++) {
		sk_feed_stats s;
		double t0 = now_s();
		memset(&s, 0, sizeof(s));
		rc = sk_feed_import_file(st, argv[i], &o, &s, &err);
		cli_progress_done();
		if (rc)
			cli_err("%s", err.msg);
		if (rc || s.rejected)
			problems = true;
		if (!rc && s.stored + s.added + s.duplicate)
			usable = true;
		if (!fc.quiet)
			summary(strcmp(argv[i], "-") ? argv[i] : "<stdin>", &s, now_s() - t0);
	}
	sk_collection_clear(&coll);
	sk_store_close(st);
	return cli_import_exit(problems, usable);
}

int cmd_feed(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("feed", "expected a subcommand: import");
	if (!strcmp(argv[1], "import"))
		return feed_import(ctx, argc - 1, argv + 1);
	return cli_usage("feed", "unknown subcommand '%s' (import)", argv[1]);
}
