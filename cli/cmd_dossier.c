/*
 * cmd_dossier.c - `schakel dossier build` (dossier.h, docs/dossier.md): an
 * attribution dossier as JSON, HTML or a signed STIX bundle; with --for
 * PARTNER the releasable version, built through that partner's view of the
 * sharing policy and recorded in the audit log before it is written.  And
 * `schakel opinion add`: this node's opinion on a report (joint
 * attribution).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schakel/account.h"
#include "schakel/audit.h"
#include "schakel/dossier.h"
#include "schakel/file.h"
#include "schakel/policy.h"

#define MAX_AUDIENCE 64

typedef struct audience {
	sk_dossier_audience a[MAX_AUDIENCE];
	sk_view *v[MAX_AUDIENCE];
	char name[MAX_AUDIENCE][SK_ACCOUNT_NAME_MAX + 1];
	size_t n;
	sk_store *st;
} audience;

static bool aud_visible(void *ud, int64_t ver, int tlp, const char *by, const char *rx)
{
	return sk_view_visible(ud, ver, tlp, by, rx);
}

static int add_partner(void *ud, const sk_partner_row *r)
{
	audience *au = ud;
	sk_principal p;
	sk_error err;
	if (au->n == MAX_AUDIENCE || sk_partner_principal(au->st, r->name, &p, &err) ||
	    sk_view_open(au->st, &p, &au->v[au->n], &err))
		return 0;
	snprintf(au->name[au->n], sizeof(au->name[0]), "%s", r->name);
	au->a[au->n].name = au->name[au->n];
	au->a[au->n].visible = aud_visible;
	au->a[au->n].ud = au->v[au->n];
	au->n++;
	return 0;
}

/* The audit entry of a dossier that leaves for p, before it is written. */
static int audit_exit(sk_store *st, const sk_principal *p, const json_t *d, const char *fmt)
{
	char subj[SK_ACCOUNT_NAME_MAX + 16], *ds = NULL;
	int64_t *vers = NULL;
	size_t n = 0;
	sk_error err;
	json_t *det;
	sk_audit_entry e = {.action = "dossier.for", .subject = subj, .exit = true};
	int rc = EXIT_OK;

	if (p->aid && !p->partner[0])
		snprintf(subj, sizeof(subj), "account:%s", p->account);
	else
		snprintf(subj, sizeof(subj), "partner:%s", p->partner);
	det = json_pack("{s:O, s:s, s:s}", "subject",
	                json_object_get(json_object_get(d, "subject"), "id"), "format", fmt, "path",
	                "dossier build --for");
	if (!det || !(ds = json_dumps(det, JSON_COMPACT | JSON_SORT_KEYS)) ||
	    sk_dossier_versions(d, &vers, &n, &err)) {
		cli_err("out of memory");
		rc = EXIT_INPUT;
		goto out;
	}
	e.detail = ds;
	e.vers = vers;
	e.nvers = n;
	if (sk_audit_append(st, &e, &err)) {
		cli_err("audit log: %s (no dossier written)", err.msg);
		rc = EXIT_INPUT;
	}
out:
	json_decref(det);
	free(ds);
	free(vers);
	return rc;
}

static int write_out(const char *path, const char *data, size_t len)
{
	FILE *f = path ? sk_fopen_private(path, false) : stdout;
	if (!f) {
		cli_err("%s: cannot create: %s", path, strerror(errno));
		return EXIT_INPUT;
	}
	if (fwrite(data, 1, len, f) != len || (path && fclose(f))) {
		cli_err("%s: write failed", path ? path : "stdout");
		return EXIT_INPUT;
	}
	return EXIT_OK;
}

static int build(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"since", required_argument, NULL, 's'},  {"for", required_argument, NULL, 'f'},
	    {"format", required_argument, NULL, 'F'}, {"output", required_argument, NULL, 'o'},
	    {"max", required_argument, NULL, 'm'},    {NULL, 0, NULL, 0},
	};
	sk_dossier_opts o = {0};
	const char *fmt = NULL, *output = NULL, *who = NULL;
	audience *au = NULL;
	sk_principal p;
	sk_view *view = NULL;
	json_t *d = NULL, *bundle = NULL;
	sk_store *st = NULL;
	sk_error err;
	sk_buf b;
	int c, code = EXIT_OK;

	sk_buf_init(&b, (size_t)64 << 20);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.since = optarg;
			break;
		case 'f':
			who = optarg;
			break;
		case 'F':
			fmt = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'm': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 100000)
				return cli_usage("dossier", "--max: a number from 1 to 100000");
			o.list_max = (size_t)v;
			break;
		}
		default:
			return cli_usage("dossier", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage("dossier",
		                 "expected: dossier build SUBJECT --format json|html|stix");
	if (!fmt)
		fmt = "json";
	if (strcmp(fmt, "json") && strcmp(fmt, "html") && strcmp(fmt, "stix"))
		return cli_usage("dossier", "--format '%s': json, html or stix", fmt);
	o.subject = argv[optind];
	/* --for writes the audit log, stix needs the node's key: the store opens for writing */
	if (!(st = cli_open_store(ctx, who || !strcmp(fmt, "stix") ? 0 : SK_STORE_READONLY)))
		return EXIT_INPUT;
	if (who) {
		if (cli_resolve_for(st, who, &p)) {
			code = EXIT_INPUT;
			goto out;
		}
		o.for_name = who;
	} else if ((au = calloc(1, sizeof(*au)))) {
		au->st = st;
		if (sk_partner_list(st, add_partner, au, &err))
			au->n = 0;
		o.aud = au->a;
		o.naud = au->n;
	}
	if (sk_view_open(st, who ? &p : NULL, &view, &err) || sk_view_bind(view, &err) ||
	    sk_dossier_build(st, &o, &d, &err)) {
		cli_err("dossier: %s", err.msg);
		code = err.code == SK_EINVAL ? EXIT_USAGE : EXIT_INPUT;
		goto out;
	}
	if (!strcmp(fmt, "stix") && sk_dossier_stix(st, d, &bundle, &err)) {
		cli_err("dossier: %s", err.msg);
		code = EXIT_INPUT;
		goto out;
	}
	if (who && (code = audit_exit(st, &p, d, fmt)))
		goto out;
	if (!strcmp(fmt, "html")) {
		if (sk_dossier_html(d, &b, &err)) {
			cli_err("dossier: %s", err.msg);
			code = EXIT_INPUT;
			goto out;
		}
	} else {
		char *s = json_dumps(bundle ? bundle : d, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		if (!s || sk_buf_puts(&b, s) || sk_buf_puts(&b, "\n")) {
			free(s);
			cli_err("dossier: out of memory");
			code = EXIT_INPUT;
			goto out;
		}
		free(s);
	}
	code = write_out(output, b.data, b.len);
	if (!code && output)
		fprintf(stderr, "schakel: dossier of %s written to %s\n",
		        json_string_value(json_object_get(json_object_get(d, "subject"), "name")),
		        output);
out:
	if (au) {
		for (size_t i = 0; i < au->n; i++)
			sk_view_free(au->v[i]);
		free(au);
	}
	sk_buf_free(&b);
	json_decref(d);
	json_decref(bundle);
	sk_view_free(view);
	sk_store_close(st);
	return code;
}

int cmd_dossier(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "build"))
		return cli_usage("dossier", "expected: dossier build SUBJECT [OPTIONS]");
	return build(ctx, argc - 1, argv + 1);
}

int cmd_opinion(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"opinion", required_argument, NULL, 'o'},
	    {"explanation", required_argument, NULL, 'e'},
	    {NULL, 0, NULL, 0},
	};
	const char *op = NULL, *ex = NULL;
	char id[64];
	sk_store *st;
	sk_error err;
	int c, code = EXIT_OK;

	if (argc < 2 || strcmp(argv[1], "add"))
		return cli_usage("opinion", "expected: opinion add REPORT-ID --opinion VALUE "
		                            "--explanation TEXT");
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			op = optarg;
			break;
		case 'e':
			ex = optarg;
			break;
		default:
			return cli_usage("opinion", "unknown option");
		}
	}
	if (optind + 1 != argc || !op)
		return cli_usage("opinion", "expected: opinion add REPORT-ID --opinion VALUE "
		                            "[--explanation TEXT]");
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	if (sk_dossier_opinion_add(st, argv[optind], op, ex, id, &err)) {
		cli_err("opinion: %s", err.msg);
		code = err.code == SK_EINVAL ? EXIT_USAGE : EXIT_INPUT;
	} else {
		printf("%s\n", id);
	}
	sk_store_close(st);
	return code;
}
