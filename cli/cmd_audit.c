/*
 * cmd_audit.c - `schakel audit`: list, verify, checkpoint and archive the
 * tamper-evident audit log (audit.h, docs/audit.md).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schakel/audit.h"
#include "schakel/timestamp.h"

#define MAX_ARCHIVES 64

static int print_row(void *ud, const sk_audit_row *r)
{
	bool json = *(bool *)ud;
	char ts[SK_TS_STR_MAX];

	sk_ts_format_us(r->ts, ts);
	if (json) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s?}", "seq", (json_int_t)r->seq, "ts", ts,
				      "actor", r->actor, "action", r->action, "subject", r->subject);
		char *s;
		if (!o)
			return 1;
		json_object_set_new(o, "detail", json_loads(r->detail, 0, NULL));
		if (r->versions)
			json_object_set_new(o, "versions", json_loads(r->versions, 0, NULL));
		s = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		if (!s)
			return 1;
		puts(s);
		free(s);
		return 0;
	}
	printf("%-6lld %s  %-20s %-16s %-24s", (long long)r->seq, ts, r->actor, r->action,
	       r->subject ? r->subject : "-");
	if (r->nvers >= 0)
		printf(" %lld versions", (long long)r->nvers);
	printf("  %s\n", r->detail);
	return 0;
}

static int audit_list(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"partner", required_argument, NULL, 'p'}, {"object", required_argument, NULL, 'o'},
	    {"since", required_argument, NULL, 's'},   {"action", required_argument, NULL, 'a'},
	    {"json", no_argument, NULL, 'j'},          {NULL, 0, NULL, 0},
	};
	sk_audit_filter f = {0};
	bool json = false;
	sk_store *st;
	sk_error err;
	int c, rc = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			f.partner = optarg;
			break;
		case 'o':
			f.object = optarg;
			break;
		case 's':
			if (!cli_parse_ts_us(optarg, &f.since))
				return cli_usage("audit", "--since: not a timestamp: %s", optarg);
			break;
		case 'a':
			f.action = optarg;
			break;
		case 'j':
			json = true;
			break;
		default:
			return cli_usage("audit", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("audit", "unexpected argument '%s'", argv[optind]);
	if (!(st = cli_open_store(ctx, SK_STORE_READONLY)))
		return EXIT_INPUT;
	if (sk_audit_list(st, &f, print_row, &json, &err)) {
		cli_err("audit list: %s", err.msg);
		rc = EXIT_INPUT;
	}
	sk_store_close(st);
	return rc;
}

static int audit_verify(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"archive", required_argument, NULL, 'a'},
	    {"no-checkpoint", no_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	const char *archives[MAX_ARCHIVES];
	size_t narch = 0;
	bool checkpoint = true;
	sk_audit_report rep;
	int64_t cseq = 0;
	sk_store *st;
	sk_error err;
	int c, rc = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'a' && narch < MAX_ARCHIVES)
			archives[narch++] = optarg;
		else if (c == 'n')
			checkpoint = false;
		else
			return cli_usage("audit", "verify [--archive FILE]... [--no-checkpoint]");
	}
	if (optind != argc)
		return cli_usage("audit", "unexpected argument '%s'", argv[optind]);
	if (!(st = cli_open_store(ctx, checkpoint ? 0 : SK_STORE_READONLY)))
		return EXIT_INPUT;
	if (sk_audit_verify(st, archives, narch, &rep, &err)) {
		cli_err("audit verify: %s", err.msg);
		sk_store_close(st);
		return EXIT_INPUT;
	}
	if (rep.bad) {
		printf("audit log: BROKEN at entry %lld: %s\n", (long long)rep.bad, rep.problem);
		rc = EXIT_INPUT;
	} else {
		if (rep.entries)
			printf("audit log: %lld entries (%lld to %lld) form one chain\n",
			       (long long)rep.entries, (long long)rep.first, (long long)rep.last);
		else
			printf("audit log: no entries\n");
		printf("checkpoints: %lld (%lld signed by the node key", (long long)rep.checkpoints,
		       (long long)rep.signed_ok);
		if (rep.unsigned_cps)
			printf(", %lld unsigned", (long long)rep.unsigned_cps);
		if (rep.unchecked)
			printf(", %lld signed but not checked", (long long)rep.unchecked);
		printf(")\n");
		if (!rep.node_key)
			printf("no node key (%s.key): checkpoints are unsigned and signatures "
			       "cannot be checked\n",
			       ctx->db);
		/* truncating the tail is now detectable up to here */
		sk_error_clear(&err);
		if (checkpoint && sk_audit_checkpoint(st, &cseq, &err))
			cli_err("audit verify: checkpoint: %s", err.msg);
		else if (cseq)
			printf("checkpoint written at entry %lld\n", (long long)cseq);
	}
	sk_store_close(st);
	return rc;
}

static int audit_archive(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"before", required_argument, NULL, 'b'},
	    {"output", required_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	int64_t before = 0, moved = 0;
	char ts[SK_TS_STR_MAX];
	sk_store *st;
	sk_error err;
	int c, rc = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'b') {
			if (!cli_parse_ts_us(optarg, &before))
				return cli_usage("audit", "--before: not a timestamp: %s", optarg);
		} else if (c == 'o') {
			out = optarg;
		} else {
			return cli_usage("audit", "archive [--before TS] --output FILE");
		}
	}
	if (!out || optind != argc)
		return cli_usage("audit", "archive [--before TS] --output FILE");
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	if (!before) /* the retention setting */
		before = sk_ts_now_us() - sk_audit_retention_days(st) * 86400 * INT64_C(1000000);
	sk_error_clear(&err);
	if (sk_audit_archive(st, before, out, &moved, &err)) {
		cli_err("audit archive: %s", err.msg);
		rc = EXIT_INPUT;
	} else if (moved) {
		printf("%lld entries moved to %s\n", (long long)moved, out);
	} else {
		sk_ts_format_us(before, ts);
		printf("no entries before %s: nothing archived\n", ts);
	}
	sk_store_close(st);
	return rc;
}

int cmd_audit(cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return audit_list(ctx, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return audit_verify(ctx, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "archive"))
		return audit_archive(ctx, argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "checkpoint")) {
		sk_store *st = cli_open_store(ctx, 0);
		sk_error err;
		int64_t seq = 0;
		int rc = EXIT_OK;
		if (!st)
			return EXIT_INPUT;
		if (sk_audit_checkpoint(st, &seq, &err)) {
			cli_err("audit checkpoint: %s", err.msg);
			rc = EXIT_INPUT;
		} else if (seq) {
			printf("checkpoint at entry %lld\n", (long long)seq);
		} else {
			printf("no entries: nothing to sign\n");
		}
		sk_store_close(st);
		return rc;
	}
	return cli_usage("audit", "list | verify | archive | checkpoint");
}
