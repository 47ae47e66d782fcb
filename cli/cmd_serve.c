/*
 * cmd_serve.c - `schakel serve`: run the TAXII 2.1 server until SIGTERM/SIGINT.
 *
 * The signals are blocked before the server's threads start (so they inherit
 * the mask) and taken synchronously here with sigwait: shutdown happens in
 * ordinary code, never inside a signal handler.
 *
 * The process is made non-dumpable first thing (prctl PR_SET_DUMPABLE 0): no
 * core dump, no ptrace by other processes of the same user, /proc/PID files
 * owned by root.  It holds peer secrets, the token-MAC key and RED content.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "schakel/fleet.h"
#include "schakel/httpd.h"
#include "schakel/node.h"
#include "schakel/sync.h"
#include "schakel/ui.h"
#include "schakel/watch.h"

/* A number of 1..max into *out (for the login limits). */
static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || *s == '-' || v == 0 || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || v == 0 || v > ((unsigned long long)1 << 40))
		return false;
	*out = (size_t)v;
	return true;
}

/*
 * Send stderr (the access log and messages) to path, appending, 0600; at
 * start and on SIGHUP, after logrotate moved the old file away.  Non-zero
 * with a message (on the old stderr) if it cannot be opened.
 */
static int reopen_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		cli_err("serve: --log %s: %s", path, strerror(errno));
		return 1;
	}
	fchmod(fd, 0600);
	fflush(stderr);
	if (dup2(fd, STDERR_FILENO) < 0) {
		cli_err("serve: --log %s: %s", path, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

/* serve's options; also the keys of its configuration file (conffile.c) */
static const struct option opts[] = {
    {"listen", required_argument, NULL, 'l'},
    {"tls-cert", required_argument, NULL, 'c'},
    {"tls-key", required_argument, NULL, 'k'},
    {"threads", required_argument, NULL, 't'},
    {"insecure", no_argument, NULL, 'I'},
    {"page-size", required_argument, NULL, 'p'},
    {"max-content-length", required_argument, NULL, 'm'},
    {"timeout", required_argument, NULL, 'T'},
    {"idle-timeout", required_argument, NULL, 'T'},
    {"header-timeout", required_argument, NULL, 'H'},
    {"body-timeout", required_argument, NULL, 'B'},
    {"max-connections", required_argument, NULL, 'n'},
    {"max-connections-per-address", required_argument, NULL, 'A'},
    {"max-params", required_argument, NULL, 'P'},
    {"max-uri-length", required_argument, NULL, 'U'},
    {"no-access-log", no_argument, NULL, 'Q'},
    {"log", required_argument, NULL, 2000},
    {"no-sync", no_argument, NULL, 'N'},
    {"metrics", no_argument, NULL, 'M'},
    {"watch", required_argument, NULL, 'w'},
    {"watch-format", required_argument, NULL, 'f'},
    {"csv-map", required_argument, NULL, 'C'},
    {"alerts", required_argument, NULL, 'a'},
    {"no-alerts-stdout", no_argument, NULL, 'O'},
    {"webhook", required_argument, NULL, 'W'},
    {"lookback", required_argument, NULL, 'L'},
    {"subdomains", no_argument, NULL, 's'},
    {"no-sightings", no_argument, NULL, 'S'},
    {"no-warninglists", no_argument, NULL, 'X'},
    {"metrics-public", required_argument, NULL, 'R'},
    {"auth-concurrency", required_argument, NULL, 1000},
    {"auth-wait-ms", required_argument, NULL, 1001},
    {"auth-user-failures", required_argument, NULL, 1002},
    {"auth-addr-failures", required_argument, NULL, 1003},
    {"auth-window", required_argument, NULL, 1004},
    {"auth-block", required_argument, NULL, 1005},
    {"auth-block-max", required_argument, NULL, 1006},
    {"no-ui", no_argument, NULL, 1100},
    {"ui-idle", required_argument, NULL, 1101},
    {"ui-max-age", required_argument, NULL, 1102},
    {"fleet", required_argument, NULL, 3000},
    {"fleet-sensor", required_argument, NULL, 3001},
    {"fleet-seed", required_argument, NULL, 3002},
    {"fleet-collection", required_argument, NULL, 3003},
    {"fleet-replicas", required_argument, NULL, 3004},
    {NULL, 0, NULL, 0},
};

static int serve(cli_ctx *ctx, int argc, char **argv)
{
	/* the login limits' flags, in the order of their option values 1000.. */
	static const struct {
		const char *name;
		unsigned max;
		size_t off;
	} lim_opts[] = {
	    {"--auth-concurrency", 1024, offsetof(sk_auth_limits, concurrency)},
	    {"--auth-wait-ms", 60000, offsetof(sk_auth_limits, wait_ms)},
	    {"--auth-user-failures", 1000000, offsetof(sk_auth_limits, user_failures)},
	    {"--auth-addr-failures", 1000000, offsetof(sk_auth_limits, addr_failures)},
	    {"--auth-window", 86400, offsetof(sk_auth_limits, window_s)},
	    {"--auth-block", 86400, offsetof(sk_auth_limits, block_s)},
	    {"--auth-block-max", 86400, offsetof(sk_auth_limits, block_max_s)},
	};
	sk_httpd_config cfg = {.db_path = ctx->db, .listen = "127.0.0.1:6543", .access_log = true};
	sk_httpd *h = NULL;
	sk_error err;
	sigset_t set;
	char bound[128];
	size_t v;
	int opt, sig = 0;
	bool sync = true;
	sk_scheduler *sched = NULL;
	sk_watch_config wc = {.db_path = ctx->db, .alerts_stdout = true};
	sk_watch *watch = NULL;
	const char *log_path = NULL;
	sk_ui_config uc = {0};
	sk_ui *ui = NULL;
	bool console = true;
	sk_fleet_config fc = {.db_path = ctx->db};
	const char *fleet_hub = NULL;
	sk_fleet *fleet = NULL;

	/* before anything holds a secret: no core dumps, no ptrace (see the file comment) */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		fprintf(stderr, "schakel: serve: warning: cannot make the process non-dumpable\n");
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt >= 1000 && opt < 1000 + (int)(sizeof(lim_opts) / sizeof(lim_opts[0]))) {
			size_t off = lim_opts[opt - 1000].off;
			unsigned *field = (unsigned *)((char *)&cfg.taxii.auth + off);
			if (!parse_uint(optarg, lim_opts[opt - 1000].max, field))
				return cli_usage("serve", "%s: 1-%u", lim_opts[opt - 1000].name,
				                 lim_opts[opt - 1000].max);
			continue;
		}
		switch (opt) {
		case 3000:
			fleet_hub = optarg;
			break;
		case 3001:
			fc.url = optarg;
			break;
		case 3002:
			fc.seed_path = optarg;
			break;
		case 3003:
			fc.collection = optarg;
			break;
		case 3004:
			if (!parse_uint(optarg, 5, &fc.replicas))
				return cli_usage("serve", "--fleet-replicas: 1-5");
			break;
		case 2000:
			log_path = optarg;
			break;
		case 1100:
			console = false;
			break;
		case 1101:
			if (!parse_uint(optarg, 7 * 86400, &uc.idle_s))
				return cli_usage("serve", "--ui-idle: 1-604800 seconds");
			break;
		case 1102:
			if (!parse_uint(optarg, 30 * 86400, &uc.max_age_s))
				return cli_usage("serve", "--ui-max-age: 1-2592000 seconds");
			break;
		case 'l':
			cfg.listen = optarg;
			break;
		case 'c':
			cfg.tls_cert = optarg;
			break;
		case 'k':
			cfg.tls_key = optarg;
			break;
		case 'I':
			cfg.insecure = true;
			break;
		case 'Q':
			cfg.access_log = false;
			break;
		case 'N':
			sync = false;
			break;
		case 'M':
			cfg.metrics = sk_metrics_render;
			break;
		case 'R':
			if (!strcmp(optarg, "yes"))
				cfg.metrics_public = SK_METRICS_PUBLIC_YES;
			else if (!strcmp(optarg, "no"))
				cfg.metrics_public = SK_METRICS_PUBLIC_NO;
			else
				return cli_usage("serve", "--metrics-public: yes or no");
			break;
		case 'w':
			wc.log_path = optarg;
			break;
		case 'f':
			if (!sk_logfmt_parse(optarg, &wc.format))
				return cli_usage("serve", "unknown format '%s'", optarg);
			break;
		case 'C':
			wc.csv_map = optarg;
			break;
		case 'a':
			wc.alerts_path = optarg;
			break;
		case 'O':
			wc.alerts_stdout = false;
			break;
		case 'W':
			if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
				return cli_usage("serve", "--webhook needs an http(s) URL");
			wc.webhook = optarg;
			break;
		case 'L':
			if (!cli_parse_duration(optarg, &wc.lookback_us))
				return cli_usage("serve",
				                 "--lookback needs a duration (90s, 30m, 24h)");
			break;
		case 's':
			wc.subdomains = true;
			break;
		case 'S':
			wc.no_sightings = true;
			break;
		case 'X':
			wc.no_warninglists = true;
			break;
		case 't':
			if (!parse_size(optarg, &v) || v > 256)
				return cli_usage("serve", "--threads: 1-256");
			cfg.threads = (unsigned)v;
			break;
		case 'p':
			if (!parse_size(optarg, &v) || v > 100000)
				return cli_usage("serve", "--page-size: 1-100000");
			cfg.taxii.page_size = v;
			break;
		case 'm':
			if (!parse_size(optarg, &v) || v > ((size_t)1 << 32))
				return cli_usage("serve", "--max-content-length: 1-4294967296");
			cfg.taxii.max_content_length = v;
			break;
		case 'T':
			if (!parse_size(optarg, &v) || v > 3600)
				return cli_usage("serve", "--timeout: 1-3600 seconds");
			cfg.timeout = (unsigned)v;
			break;
		case 'H':
			if (!parse_size(optarg, &v) || v > 3600)
				return cli_usage("serve", "--header-timeout: 1-3600 seconds");
			cfg.header_timeout = (unsigned)v;
			break;
		case 'B':
			if (!parse_size(optarg, &v) || v > 86400)
				return cli_usage("serve", "--body-timeout: 1-86400 seconds");
			cfg.body_timeout = (unsigned)v;
			break;
		case 'n':
			if (!parse_size(optarg, &v) || v > 100000)
				return cli_usage("serve", "--max-connections: 1-100000");
			cfg.max_connections = (unsigned)v;
			break;
		case 'A':
			if (!parse_size(optarg, &v) || v > 100000)
				return cli_usage("serve",
				                 "--max-connections-per-address: 1-100000");
			cfg.max_per_address = (unsigned)v;
			break;
		case 'P':
			if (!parse_size(optarg, &v) || v > SK_TAXII_MAX_PARAMS)
				return cli_usage("serve", "--max-params: 1-%d",
				                 SK_TAXII_MAX_PARAMS);
			cfg.max_params = (unsigned)v;
			break;
		case 'U':
			if (!parse_size(optarg, &v) || v < 256 || v > 65536)
				return cli_usage("serve", "--max-uri-length: 256-65536 bytes");
			cfg.max_uri = v;
			break;
		default:
			return cli_usage("serve", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("serve", "unexpected argument '%s'", argv[optind]);
	if (!wc.log_path && (wc.alerts_path || wc.webhook || wc.lookback_us || wc.csv_map))
		return cli_usage("serve", "--alerts, --webhook, --lookback need --watch");

	if (fleet_hub && fc.url)
		return cli_usage("serve", "--fleet (hub) and --fleet-sensor exclude each other");
	if (!fc.url != !fc.seed_path)
		return cli_usage("serve", "--fleet-sensor URL needs --fleet-seed FILE");
	if (log_path && reopen_log(log_path))
		return EXIT_INPUT;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (console) {
		uc.fleet_url = fleet_hub; /* the fleet status of the console's peer page */
		if (sk_ui_new(&uc, &ui, &err)) {
			cli_err("serve: console: %s", err.msg);
			return EXIT_INPUT;
		}
		cfg.ui = sk_ui_hook(ui);
	}
	if (sk_httpd_start(&cfg, &h, bound, sizeof(bound), &err)) {
		cli_err("serve: %s", err.msg);
		sk_ui_free(ui);
		return err.code == SK_EINVAL ? EXIT_USAGE : EXIT_INPUT;
	}
	if (sync) {
		sk_sync_opts so = {.db_path = ctx->db};
		const char *tx = getenv("SCHAKEL_SYNC_TX"); /* tuning and tests */
		if (tx)
			so.tx_objects = (size_t)strtoul(tx, NULL, 10);
		if (sk_scheduler_start(ctx->db, &so, &sched, &err)) {
			cli_err("serve: %s", err.msg);
			sk_httpd_stop(h);
			sk_ui_free(ui);
			return EXIT_INPUT;
		}
	}
	printf("listening on %s/taxii2/\n", bound);
	fflush(stdout);
	if (ui) /* stderr: scripts read the one line above from stdout */
		fprintf(stderr, "schakel: serve: console at %s/ui/%s\n", bound,
		        sk_ui_has_assets() ? "" : " (API only: built with -DSK_UI=OFF)");
	/* after the address line: alerts also go to stdout */
	if (wc.log_path && sk_watch_start(&wc, &watch, &err)) {
		cli_err("serve: watch: %s", err.msg);
		sk_scheduler_stop(sched);
		sk_httpd_stop(h);
		sk_ui_free(ui);
		return EXIT_INPUT;
	}
	/* the fleet: a hub publishes and takes sightings; a sensor applies and wakes the matcher */
	if (fleet_hub || fc.url) {
		sk_err frc;
		if (fleet_hub) {
			fc.url = fleet_hub;
			frc = sk_fleet_hub_start(&fc, &fleet, &err);
		} else {
			fc.on_applied = sk_watch_poke;
			fc.ud = watch;
			frc = sk_fleet_sensor_start(&fc, &fleet, &err);
		}
		if (frc) {
			cli_err("serve: fleet: %s", err.msg);
			sk_watch_stop(watch);
			sk_scheduler_stop(sched);
			sk_httpd_stop(h);
			sk_ui_free(ui);
			return EXIT_INPUT;
		}
	}
	/* SIGHUP: reopen the log and alerts files (logrotate); SIGTERM, SIGINT: stop */
	while (!sigwait(&set, &sig) && sig == SIGHUP) {
		sk_error e2;
		if (log_path)
			reopen_log(log_path);
		if (watch && sk_watch_reopen(watch, &e2))
			cli_err("serve: SIGHUP: %s", e2.msg);
		fprintf(stderr, "schakel: serve: SIGHUP, log files reopened\n");
	}
	fprintf(stderr, "schakel: serve: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	sk_fleet_stop(fleet);
	sk_watch_stop(watch);
	sk_scheduler_stop(sched);
	sk_httpd_stop(h);
	sk_ui_free(ui);
	return EXIT_OK;
}

const struct option *cli_serve_options(void)
{
	return opts;
}

/*
 * The configuration file's options first (/etc/schakel/schakel.conf, or
 * --config FILE), then the command line's, which override them.
 */
int cmd_serve(cli_ctx *ctx, int argc, char **argv)
{
	cli_conf conf;
	char **owned = NULL;
	int rc = cli_conf_argv("serve", opts, &argc, &argv, &conf, &owned);
	if (rc)
		return rc;
	rc = serve(ctx, argc, argv);
	cli_conf_argv_free(&conf, owned);
	return rc;
}
