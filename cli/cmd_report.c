/*
 * cmd_report.c - `schakel report`: reports for people, computed from the
 * node's own records.  `report cooperation` writes the measured
 * cooperation of a period (coop.h, docs/cooperation.md) as JSON, CSV or
 * one self-contained HTML page.  The local operator sees everything (the
 * view is opened without a principal); --partner scopes the figures to
 * what that partner was given, gave or produced.  `--network` is the
 * hub's view over the summaries it received; `report cooperation publish
 * --to PEER` makes this node's summary for that peer, with consent.
 */
#include <getopt.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schakel/account.h"
#include "schakel/audit.h"
#include "schakel/coop.h"
#include "schakel/file.h"
#include "schakel/node.h"
#include "schakel/peer.h"
#include "schakel/policy.h"
#include "schakel/sync.h"

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

#define HUGETLB "glibc.malloc.hugetlb=1"

/*
 * The report builds a few hundred MB of per-version tables, vectors that
 * grow, and SQLite's page buffers, and reads the whole store once.  Backing
 * malloc with transparent huge pages takes the year report's page faults
 * from about 47,000 to 8,000 and its time under 2 s (bench/README-coop.md),
 * but glibc reads that choice (the glibc.malloc.hugetlb tunable) only when
 * a process starts.  So the command runs itself again once with the tunable
 * added to GLIBC_TUNABLES: finding it there stops a second run, and an exec
 * that fails leaves this process going on without it, the environment as
 * it was.  SCHAKEL_NO_HUGEPAGES=1 keeps the report in this process.
 * argv[0..argc) are the report's words from "cooperation" on.
 */
static void rerun_with_huge_pages(const cli_ctx *ctx, int argc, char **argv)
{
	const char *old = getenv("GLIBC_TUNABLES");
	char *val = NULL, **nv;
	size_t k = 0, n;

	if (getenv("SCHAKEL_NO_HUGEPAGES") || (old && strstr(old, "glibc.malloc.hugetlb")))
		return;
	n = (old && *old ? strlen(old) + 1 : 0) + sizeof(HUGETLB);
	if (!(val = malloc(n)) || !(nv = calloc((size_t)argc + 5, sizeof(*nv)))) {
		free(val);
		return;
	}
	snprintf(val, n, "%s%s%s", old && *old ? old : "", old && *old ? ":" : "", HUGETLB);
	nv[k++] = "schakel";
	nv[k++] = "--db";
	nv[k++] = (char *)ctx->db;
	nv[k++] = "report";
	for (int i = 0; i < argc; i++)
		nv[k++] = argv[i];
	if (!setenv("GLIBC_TUNABLES", val, 1)) {
		fflush(NULL);
		execv("/proc/self/exe", nv);
		if (old) /* not replaced: on as before */
			setenv("GLIBC_TUNABLES", old, 1);
		else
			unsetenv("GLIBC_TUNABLES");
	}
	free(nv);
	free(val);
}

static int cooperation(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'},
	    {"partner", required_argument, NULL, 'p'},
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"network", no_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	sk_coop_opts o = {0};
	bool network = false;
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
		case 'n':
			network = true;
			break;
		default:
			return cli_usage("report", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("report", "unexpected argument: %s", argv[optind]);
	if (network && o.partner)
		return cli_usage("report", "--network and --partner exclude each other");
	if (strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "html"))
		return cli_usage("report", "--format: json, csv or html, not %s", format);
	if (o.since && o.until && o.since >= o.until)
		return cli_usage("report", "--since must be before --until");
	rerun_with_huge_pages(ctx, argc, argv);
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
		rc = network ? sk_coop_network(st, &o, &rep, &err)
		             : sk_coop_report(st, &o, &rep, &err);
	sk_buf_init(&b, (size_t)1 << 30);
	if (!rc && !strcmp(format, "json")) {
		char *s = json_dumps(rep, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		rc = s && !sk_buf_puts(&b, s) && !sk_buf_putc(&b, '\n')
		         ? SK_OK
		         : sk_error_set(&err, SK_ENOMEM, "out of memory");
		free(s);
	} else if (!rc && !strcmp(format, "csv")) {
		rc = network ? sk_coop_network_csv(rep, &b, &err) : sk_coop_csv(rep, &b, &err);
	} else if (!rc) {
		rc = network ? sk_coop_network_html(rep, &b, &err) : sk_coop_html(rep, &b, &err);
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

/* The audit entry of a publication (the push that delivers it is audited as an exit). */
static sk_err audit_publish(sk_store *st, const sk_peer *peer, const json_t *obj, sk_error *err)
{
	char subj[300], *detail;
	json_t *d = json_pack("{s:O, s:O, s:O, s:O}", "summary", json_object_get(obj, "id"),
	                      "period_start", json_object_get(obj, "period_start"), "period_end",
	                      json_object_get(obj, "period_end"), "recipient_ref",
	                      json_object_get(obj, "recipient_ref"));
	sk_audit_entry e = {.action = "cooperation.publish", .subject = subj};
	sk_err rc;
	snprintf(subj, sizeof(subj), "peer:%s", peer->name);
	detail = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	e.detail = detail;
	rc = detail ? sk_audit_append(st, &e, err) : sk_error_set(err, SK_ENOMEM, "out of memory");
	json_decref(d);
	free(detail);
	return rc;
}

/*
 * `report cooperation publish --to PEER`: with consent (cooperation.share
 * true), this node's summary for PEER, computed through the view of the
 * partner with PEER's identity, stored signed and queued for PEER alone.
 */
static int publish(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'},
	    {"to", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	sk_coop_opts o = {0};
	const char *to = NULL;
	char *consent = NULL;
	sk_view *view = NULL;
	json_t *obj = NULL;
	sk_peer peer = {0};
	sk_principal who;
	int64_t ver = 0;
	sk_store *st;
	sk_error err;
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
		case 't':
			to = optarg;
			break;
		default:
			return cli_usage("report", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("report", "unexpected argument: %s", argv[optind]);
	if (!to)
		return cli_usage("report", "publish: --to PEER is required");
	if (o.since && o.until && o.since >= o.until)
		return cli_usage("report", "--since must be before --until");
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	/* consent first: without it nothing is computed, stored or queued */
	rc = sk_sync_config_get(st, "cooperation.share", &consent, &err);
	if (!rc && (!consent || strcmp(consent, "true"))) {
		rc = sk_error_set(&err, SK_EPERM,
		                  "this node has not consented to publish its cooperation figures "
		                  "(schakel config set cooperation.share true)");
	}
	if (!rc)
		rc = sk_peer_get(st, ctx->db, to, &peer, &err);
	if (!rc && !peer.identity)
		rc = sk_error_set(&err, SK_EINVAL,
		                  "%s: the peer has no identity (peer set --identity): a summary "
		                  "names its recipient",
		                  to);
	if (!rc && !peer.push)
		rc = sk_error_set(&err, SK_EINVAL,
		                  "%s: the peer is not pushed to (peer set --push): the summary "
		                  "would never leave",
		                  to);
	if (!rc && (rc = sk_partner_principal(st, peer.identity, &who, &err)) == SK_ENOTFOUND)
		sk_error_set(&err, SK_ENOTFOUND,
		             "%s: no partner has its identity %s; a summary is computed through "
		             "that partner's view (partner add NAME --identity ID, and grants)",
		             to, peer.identity);
	if (!rc)
		rc = sk_view_open(st, &who, &view, &err);
	if (!rc)
		rc = sk_view_bind(view, &err);
	o.partner = peer.identity;
	if (!rc)
		rc = sk_coop_summary(st, &o, &obj, &err);
	/* stored, queued and audited together, or not at all */
	if (!rc && !(rc = sk_store_begin(st, &err))) {
		rc = sk_coop_summary_store(st, obj, &ver, &err);
		if (!rc)
			rc = sk_sync_push_summary(st, &peer, ver, &err);
		if (!rc)
			rc = audit_publish(st, &peer, obj, &err);
		if (!rc)
			rc = sk_store_commit(st, &err);
		else
			sk_store_rollback(st);
	}
	if (rc) {
		cli_err("report cooperation publish: %s", err.msg);
		code = rc == SK_ENOTFOUND || rc == SK_EINVAL ? EXIT_USAGE : cli_exit_for(rc);
	} else {
		printf("%s\n", json_string_value(json_object_get(obj, "id")));
	}
	free(consent);
	json_decref(obj);
	sk_view_free(view);
	sk_peer_clear(&peer);
	sk_store_close(st);
	return code;
}

int cmd_report(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("report", "expected: report cooperation [OPTIONS]");
	if (!strcmp(argv[1], "cooperation") && argc > 2 && !strcmp(argv[2], "publish"))
		return publish(ctx, argc - 2, argv + 2);
	if (!strcmp(argv[1], "cooperation"))
		return cooperation(ctx, argc - 1, argv + 1);
	return cli_usage("report", "unknown report: %s (known: cooperation)", argv[1]);
}
