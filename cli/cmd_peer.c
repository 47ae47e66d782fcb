/*
 * cmd_peer.c - `schakel peer`, `schakel config`, `schakel sighting` and
 * `schakel metrics`: federation with other TAXII 2.1 nodes.
 *
 * Peer secrets are read from stdin (--secret-stdin) or an environment
 * variable (--secret-env VAR), never from the command line (it shows in ps)
 * and never printed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "schakel/peer.h"
#include "schakel/node.h"
#include "schakel/sync.h"
#include "schakel/timestamp.h"
#include "schakel/tlp.h"

static char *read_secret_stdin(void)
{
	char buf[4096];
	size_t n;
	if (!fgets(buf, sizeof(buf), stdin))
		return NULL;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	char *s = strdup(buf);
	memset(buf, 0, sizeof(buf));
	return s;
}

static int print_peer(void *ud, const sk_peer *p)
{
	(void)ud;
	printf("%-16s %s%s%s coll=%s auth=%s%s%s -> %s every %ds%s unmarked=%s\n", p->name, p->url,
	       p->api_root[0] == '/' || strstr(p->api_root, "://") ? " root=" : " root=",
	       p->api_root, p->collection, p->auth, p->pull ? " pull" : "", p->push ? " push" : "",
	       p->local_coll, p->interval, p->reshare ? " reshare" : "", sk_tlp_name(p->unmarked));
	return 0;
}

static int peer_status(sk_store *st)
{
	sk_buf b;
	sk_error err;
	int rc = EXIT_OK;
	sk_buf_init(&b, 0);
	if (sk_sync_status_render(st, &b, &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	} else if (b.data) {
		fwrite(b.data, 1, b.len, stdout);
	}
	sk_buf_free(&b);
	return rc;
}

/* `peer add NAME URL ...` and `peer set NAME [--url URL] ...` (set: only what is given). */
static int peer_edit(cli_ctx *ctx, int argc, char **argv, bool set)
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'L'},
	    {"no-pull", no_argument, NULL, 'p'},
	    {"no-push", no_argument, NULL, 'u' + 256},
	    {"no-reshare", no_argument, NULL, 'r' + 256},
	    {"api-root", required_argument, NULL, 'r'},
	    {"collection", required_argument, NULL, 'c'},
	    {"auth", required_argument, NULL, 'a'},
	    {"user", required_argument, NULL, 'u'},
	    {"secret-stdin", no_argument, NULL, 'S'},
	    {"secret-env", required_argument, NULL, 'E'},
	    {"pull", no_argument, NULL, 'P'},
	    {"push", no_argument, NULL, 'U'},
	    {"ca", required_argument, NULL, 'C'},
	    {"identity", required_argument, NULL, 'i'},
	    {"local-collection", required_argument, NULL, 'l'},
	    {"reshare", no_argument, NULL, 'R'},
	    {"interval", required_argument, NULL, 'n'},
	    {"unmarked-tlp", required_argument, NULL, 'T'},
	    {"key", required_argument, NULL, 'K'},
	    {"trust-on-first-use", no_argument, NULL, 'F'},
	    {NULL, 0, NULL, 0},
	};
	sk_peer_params p = {0};
	char *secret = NULL, *ca = NULL;
	const char *env = NULL, *verb = set ? "peer set" : "peer add";
	bool from_stdin = false, reset = false;
	unsigned f = 0;
	sk_store *st;
	sk_error err;
	int opt, rc = EXIT_OK;

	optind = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'L': p.url = optarg; f |= SK_PEER_SET_URL; break;
		case 'r': p.api_root = optarg; f |= SK_PEER_SET_API_ROOT; break;
		case 'c': p.collection = optarg; f |= SK_PEER_SET_COLLECTION; break;
		case 'a': p.auth = optarg; f |= SK_PEER_SET_AUTH; break;
		case 'u': p.username = optarg; f |= SK_PEER_SET_AUTH; break;
		case 'S': from_stdin = true; break;
		case 'E': env = optarg; break;
		case 'P': p.pull = true; f |= SK_PEER_SET_PULL; break;
		case 'p': p.pull = false; f |= SK_PEER_SET_PULL; break;
		case 'U': p.push = true; f |= SK_PEER_SET_PUSH; break;
		case 'u' + 256: p.push = false; f |= SK_PEER_SET_PUSH; break;
		case 'C': p.ca = optarg; f |= SK_PEER_SET_CA; break;
		case 'i': p.identity = optarg; f |= SK_PEER_SET_IDENTITY; break;
		case 'l': p.local_collection = optarg; f |= SK_PEER_SET_LOCAL; break;
		case 'R': p.reshare = true; f |= SK_PEER_SET_RESHARE; break;
		case 'r' + 256: p.reshare = false; f |= SK_PEER_SET_RESHARE; break;
		case 'K': p.key = optarg; f |= SK_PEER_SET_KEY; break;
		case 'F': p.tofu = true; f |= SK_PEER_SET_TOFU; break;
		case 'T':
			if (!sk_tlp_parse(optarg, &p.unmarked))
				return cli_usage("peer", "--unmarked-tlp: clear, green, amber, "
							 "amber+strict or red");
			f |= SK_PEER_SET_UNMARKED;
			break;
		case 'n': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 86400)
				return cli_usage("peer", "--interval: 1-86400 seconds");
			p.interval = (int)v;
			f |= SK_PEER_SET_INTERVAL;
			break;
		}
		default: return cli_usage("peer", "unknown option");
		}
	}
	if (set) {
		if (argc - optind != 1)
			return cli_usage("peer", "peer set NAME [--url URL] [OPTIONS of peer add]");
		p.name = argv[optind];
		/* --auth basic keeps the user unless --user is given, and the reverse */
	} else {
		if (argc - optind != 2 || (f & SK_PEER_SET_URL))
			return cli_usage("peer",
			                 "peer add NAME URL --api-root R --collection ID ...");
		p.name = argv[optind];
		p.url = argv[optind + 1];
		if (!p.pull && !p.push)
			p.pull = true;
	}
	if (p.ca) {
		/*
		 * Kept as an absolute path (`serve` may run in another directory),
		 * but not resolved: a symlink that is renewed in place stays followed.
		 */
		char cwd[4096];
		size_t n;
		FILE *cf = fopen(p.ca, "r");
		if (!cf) {
			cli_err("%s: --ca %s: %s", verb, p.ca, strerror(errno));
			return EXIT_USAGE;
		}
		fclose(cf);
		if (p.ca[0] != '/') {
			if (!getcwd(cwd, sizeof(cwd))) {
				cli_err("%s: --ca: %s", verb, strerror(errno));
				return EXIT_INPUT;
			}
			n = strlen(cwd) + strlen(p.ca) + 2;
			if (!(ca = malloc(n))) {
				cli_err("%s: out of memory", verb);
				return EXIT_INPUT;
			}
			snprintf(ca, n, "%s/%s", cwd, p.ca);
			p.ca = ca;
		}
	}
	if (from_stdin)
		secret = read_secret_stdin();
	else if (env && getenv(env))
		secret = strdup(getenv(env));
	p.secret = secret;
	if (secret)
		f |= SK_PEER_SET_SECRET;
	if (!(st = cli_open_store(ctx, 0))) {
		free(secret);
		free(ca);
		return EXIT_INPUT;
	}
	if (set ? sk_peer_set(st, ctx->db, p.name, &p, f, &reset, &err)
	        : sk_peer_add(st, ctx->db, &p, &err)) {
		cli_err("%s: %s", verb, err.msg);
		rc = err.code == SK_EINVAL ? EXIT_USAGE : EXIT_INPUT;
	} else if (set) {
		fprintf(stderr, "peer %s changed%s\n", p.name,
		        reset ? "; its remote collection changed, so its pull starts from the "
		                "beginning"
		              : "; its sync state is kept");
	} else {
		fprintf(stderr, "peer %s added\n", p.name);
	}
	if (secret) {
		memset(secret, 0, strlen(secret));
		free(secret);
	}
	free(ca);
	sk_store_close(st);
	return rc;
}

int cmd_peer(cli_ctx *ctx, int argc, char **argv)
{
	sk_store *st;
	sk_error err;
	int rc = EXIT_OK;

	if (argc < 2)
		return cli_usage("peer", "expected add, set, list, remove, status or sync");
	if (!strcmp(argv[1], "add"))
		return peer_edit(ctx, argc, argv, false);
	if (!strcmp(argv[1], "set"))
		return peer_edit(ctx, argc, argv, true);
	if (!strcmp(argv[1], "list") || !strcmp(argv[1], "status")) {
		if (argc != 2)
			return cli_usage("peer", "unexpected argument");
		if (!(st = cli_open_store(ctx, SK_STORE_READONLY)))
			return EXIT_INPUT;
		if (!strcmp(argv[1], "status"))
			rc = peer_status(st);
		else if (sk_peer_list(st, print_peer, NULL, &err)) {
			cli_err("%s", err.msg);
			rc = EXIT_INPUT;
		}
		sk_store_close(st);
		return rc;
	}
	if (!strcmp(argv[1], "remove") || !strcmp(argv[1], "sync")) {
		long timeout = 0;
		if (argc == 5 && !strcmp(argv[1], "sync") && !strcmp(argv[3], "--timeout")) {
			timeout = strtol(argv[4], NULL, 10);
			if (timeout < 1 || timeout > 3600)
				return cli_usage("peer", "--timeout: 1-3600 seconds");
			argc = 3;
		}
		if (argc != 3)
			return cli_usage("peer", "peer %s NAME", argv[1]);
		if (!(st = cli_open_store(ctx, 0)))
			return EXIT_INPUT;
		if (!strcmp(argv[1], "remove")) {
			if (sk_peer_remove(st, ctx->db, argv[2], &err)) {
				cli_err("peer remove: %s", err.msg);
				rc = EXIT_INPUT;
			}
		} else {
			sk_sync_opts o = {.db_path = ctx->db, .timeout_s = timeout,
					  .low_speed_s = timeout};
			sk_sync_result r;
			const char *pl = getenv("SCHAKEL_SYNC_PAGE");
			const char *tx = getenv("SCHAKEL_SYNC_TX");
			if (pl)
				o.page_limit = (size_t)strtoul(pl, NULL, 10);
			if (tx)
				o.tx_objects = (size_t)strtoul(tx, NULL, 10);
			int64_t t0 = sk_ts_now_us();
			sk_err e = sk_sync_peer(st, argv[2], &o, &r, &err);
			double secs = (double)(sk_ts_now_us() - t0) / 1e6;
			printf("requests %llu pages %llu received %llu stored %llu rejected %llu "
			       "queued %llu sent %llu refused %llu outbox %llu seconds %.6f\n",
			       (unsigned long long)r.requests, (unsigned long long)r.pages,
			       (unsigned long long)r.received, (unsigned long long)r.stored,
			       (unsigned long long)r.rejected, (unsigned long long)r.queued,
			       (unsigned long long)r.sent, (unsigned long long)r.refused,
			       (unsigned long long)r.outbox, secs);
			if (e) {
				cli_err("peer sync: %s", err.msg);
				rc = EXIT_INPUT;
			}
		}
		sk_store_close(st);
		return rc;
	}
	return cli_usage("peer", "unknown subcommand '%s'", argv[1]);
}

static int show_setting(void *ud, const char *name, const char *value, const char *origin)
{
	(void)ud;
	printf("%-34s %-40s (%s)\n", name, value && *value ? value : "(unset)", origin);
	return 0;
}

/*
 * `config show [--config FILE]`: the node's settings (database or default),
 * then serve's from its configuration file, each with where it comes from.
 */
static int config_show(cli_ctx *ctx, int argc, char **argv)
{
	sk_store *st;
	sk_error err;
	bool explicit;
	const char *path = cli_conf_take_path(&argc, argv, &explicit);
	cli_conf conf;
	int rc = EXIT_OK;

	if (argc != 2)
		return cli_usage("config", "config show [--config FILE]");
	if (!(st = cli_open_store(ctx, SK_STORE_READONLY)))
		return EXIT_INPUT;
	printf("# node settings (schakel config set NAME VALUE)\n");
	if (sk_sync_config_each(st, show_setting, NULL, &err)) {
		cli_err("config: %s", err.msg);
		rc = EXIT_INPUT;
	}
	sk_store_close(st);
	if (rc)
		return rc;
	if (!explicit && access(path, F_OK) != 0) {
		printf("\n# serve: no configuration file (%s); its options are the flags'\n", path);
		return EXIT_OK;
	}
	if ((rc = cli_conf_load(path, cli_serve_options(), &conf)))
		return rc;
	printf("\n# serve (%s; command-line flags override these)\n", path);
	for (size_t i = 0; i < conf.n; i++) {
		char where[4200];
		snprintf(where, sizeof(where), "%s:%u", path, conf.e[i].line);
		printf("serve.%-28s %-40s (%s)\n", conf.e[i].key, conf.e[i].value, where);
	}
	cli_conf_free(&conf);
	return EXIT_OK;
}

int cmd_config(cli_ctx *ctx, int argc, char **argv)
{
	sk_store *st;
	sk_error err;
	int rc = EXIT_OK;
	char *v = NULL;

	if (argc >= 2 && !strcmp(argv[1], "show"))
		return config_show(ctx, argc, argv);
	if (argc == 4 && !strcmp(argv[1], "set")) {
		if (!(st = cli_open_store(ctx, 0)))
			return EXIT_INPUT;
		if (sk_sync_config_set(st, argv[2], argv[3], &err)) {
			cli_err("config: %s", err.msg);
			rc = err.code == SK_EINVAL ? EXIT_USAGE : EXIT_INPUT;
		}
	} else if (argc == 3 && !strcmp(argv[1], "get")) {
		if (!(st = cli_open_store(ctx, SK_STORE_READONLY)))
			return EXIT_INPUT;
		sk_err e = sk_sync_config_get(st, argv[2], &v, &err);
		if (e == SK_OK)
			printf("%s\n", v);
		else if (e == SK_ENOTFOUND)
			printf("(unset)\n");
		else {
			cli_err("config: %s", err.msg);
			rc = EXIT_USAGE;
		}
		free(v);
	} else {
		return cli_usage("config", "config set NAME VALUE | config get NAME | config show");
	}
	sk_store_close(st);
	return rc;
}

int cmd_sighting(cli_ctx *ctx, int argc, char **argv)
{
	sk_store *st;
	sk_error err;
	char sid[64];
	int64_t count = 0, now;
	sk_sync_sighting sg = {0};
	int rc = EXIT_OK;

	if (argc < 3 || strcmp(argv[1], "add"))
		return cli_usage("sighting",
				 "sighting add INDICATOR-ID [--count N] [--false-positive]");
	for (int i = 3; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--count"))
			count = strtoll(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--false-positive"))
			sg.false_positive = true;
		else
			return cli_usage("sighting",
					 "sighting add INDICATOR-ID [--count N] [--false-positive]");
	}
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	now = sk_ts_now_us();
	sg.indicator = argv[2];
	sg.count = count;
	sg.first_us = sg.last_us = now - now % 1000; /* seen now */
	if (sk_sync_sighting_add(st, &sg, sid, &err)) {
		cli_err("sighting: %s", err.msg);
		rc = EXIT_INPUT;
	} else {
		printf("%s\n", sid);
	}
	sk_store_close(st);
	return rc;
}

int cmd_metrics(cli_ctx *ctx, int argc, char **argv)
{
	sk_store *st;
	sk_error err;
	sk_buf b;
	int rc = EXIT_OK;
	(void)argv;

	if (argc != 1)
		return cli_usage("metrics", "no arguments");
	if (!(st = cli_open_store(ctx, SK_STORE_READONLY)))
		return EXIT_INPUT;
	sk_buf_init(&b, 0);
	if (sk_metrics_render(st, &b, &err)) {
		cli_err("metrics: %s", err.msg);
		rc = EXIT_INPUT;
	} else if (b.data) {
		fwrite(b.data, 1, b.len, stdout);
	}
	sk_buf_free(&b);
	sk_store_close(st);
	return rc;
}
