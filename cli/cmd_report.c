/*
 * cmd_report.c - `schakel report`: reports for people, computed from the
 * node's own records.  `report cooperation` writes the measured
 * cooperation of a period (coop.h, docs/cooperation.md) as JSON, CSV or
 * one self-contained HTML page.  The local operator sees everything (the
 * view is opened without a principal); --partner scopes the figures to
 * what that partner was given, gave or produced.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schakel/coop.h"
#include "schakel/file.h"
#include "schakel/policy.h"

static int write_out(const char *path, const sk_buf *b)
{
	FILE *f = path ? sk_fopen_private(path, false) : stdout;
	int code = EXIT_OK;
	if (!f) {
		cli_err("%s: cannot create", path);
		return EXIT_INPUT;
	}
	if (b->len && fwrite(b->data, 1, b->len, f) != b->len)
		code = EXIT_INPUT;
	if (path && fclose(f))
		code = EXIT_INPUT;
	if (code)
		cli_err("%s: write failed", path ? path : "stdout");
	return code;
}

static int cooperation(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"since", required_argument, NULL, 's'},   {"until", required_argument, NULL, 'u'},
	    {"partner", required_argument, NULL, 'p'}, {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},  {NULL, 0, NULL, 0},
	};
	sk_coop_opts o = {0};
	const char *format = "json", *output = NULL;
	sk_view *view = NULL;
	json_t *rep = NULL;
	sk_store *st;
	sk_error err;
	sk_buf b;
	sk_err rc;
	int c, code = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!cli_parse_ts_us(optarg, &o.since))
				return cli_usage("report", "--since: not a timestamp: %s", optarg);
			break;
		case 'u':
			if (!cli_parse_ts_us(optarg, &o.until))
				return cli_usage("report", "--until: not a timestamp: %s", optarg);
			break;
		case 'p':
			o.partner = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		default:
			return cli_usage("report", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("report", "unexpected argument: %s", argv[optind]);
	if (strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "html"))
		return cli_usage("report", "--format: json, csv or html, not %s", format);
	if (o.since && o.until && o.since >= o.until)
		return cli_usage("report", "--since must be before --until");
	st = cli_open_store(ctx, SK_STORE_READONLY);
	if (!st)
		return EXIT_INPUT;
	if (o.partner) {
		/* scoped: resolved through what that partner may see, as the console does */
		sk_principal who;
		rc = sk_partner_principal(st, o.partner, &who, &err);
		if (!rc)
			rc = sk_view_open(st, &who, &view, &err);
	} else {
		rc = sk_view_open(st, NULL, &view, &err);
	}
	if (!rc)
		rc = sk_view_bind(view, &err);
	if (!rc)
		rc = sk_coop_report(st, &o, &rep, &err);
	sk_buf_init(&b, (size_t)1 << 30);
	if (!rc && !strcmp(format, "json")) {
		char *s = json_dumps(rep, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		rc = s && !sk_buf_puts(&b, s) && !sk_buf_putc(&b, '\n')
		         ? SK_OK
		         : sk_error_set(&err, SK_ENOMEM, "out of memory");
		free(s);
	} else if (!rc && !strcmp(format, "csv")) {
		rc = sk_coop_csv(rep, &b, &err);
	} else if (!rc) {
		rc = sk_coop_html(rep, &b, &err);
	}
	if (rc) {
		cli_err("report cooperation: %s", err.msg);
		code = rc == SK_ENOTFOUND || rc == SK_EINVAL ? EXIT_USAGE : cli_exit_for(rc);
	} else {
		code = write_out(output, &b);
	}
	sk_buf_free(&b);
	json_decref(rep);
	sk_view_free(view);
	sk_store_close(st);
	return code;
}

int cmd_report(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("report", "expected: report cooperation [OPTIONS]");
	if (!strcmp(argv[1], "cooperation"))
		return cooperation(ctx, argc - 1, argv + 1);
	return cli_usage("report", "unknown report: %s (known: cooperation)", argv[1]);
}
