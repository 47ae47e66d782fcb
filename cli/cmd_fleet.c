/*
 * cmd_fleet.c - `schakel fleet sensor add|list|remove`, `fleet authz`,
 * `fleet status`: the hub's side of a sensor fleet on NATS JetStream
 * (docs/fleet.md).
 */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schakel/audit.h"
#include "schakel/file.h"
#include "schakel/fleet.h"
#include "schakel/timestamp.h"

/* --authz FILE, else "<db>.nats-authz.conf" (malloc'd) */
static char *authz_path(cli_ctx *ctx, const char *given)
{
	size_t n = strlen(ctx->db) + 32;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s.nats-authz.conf", ctx->db);
	if (given) {
		free(p);
		p = strdup(given);
	}
	return p;
}

static int write_authz(cli_ctx *ctx, sk_store *st, const char *given)
{
	char *path = authz_path(ctx, given);
	sk_error err;
	int rc = EXIT_OK;
	if (!path)
		return EXIT_INPUT;
	if (sk_fleet_authz_write(st, path, &err)) {
		cli_err("fleet: %s", err.msg);
		rc = EXIT_INPUT;
	} else {
		fprintf(
		    stderr,
		    "schakel: fleet: wrote %s; reload nats-server (nats-server --signal reload)\n",
		    path);
	}
	free(path);
	return rc;
}

static int sensor_add(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"partner", required_argument, NULL, 'p'},
	    {"seed-out", required_argument, NULL, 'o'},
	    {"authz", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	const char *partner = NULL, *out = NULL, *authz = NULL;
	char seed[SK_NKEY_SEED_LEN + 1];
	sk_fleet_creds c;
	char *text = NULL;
	sk_store *st;
	sk_error err;
	bool made;
	int opt, rc = EXIT_OK;

	optind = 3;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'p')
			partner = optarg;
		else if (opt == 'o')
			out = optarg;
		else if (opt == 'a')
			authz = optarg;
		else
			return cli_usage("fleet", "unknown option");
	}
	if (optind + 1 != argc || !partner)
		return cli_usage("fleet", "sensor add takes NAME --partner P");
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	if (sk_store_own_key_ensure(st, &made, &err) || sk_store_begin(st, &err) ||
	    sk_fleet_sensor_add(st, argv[optind], partner, seed, &err) ||
	    sk_fleet_creds_make(st, argv[optind], seed, &c, &err)) {
		cli_err("fleet: %s", err.msg);
		sk_store_rollback(st);
		sk_store_close(st);
		return EXIT_INPUT;
	}
	sodium_memzero(seed, sizeof(seed));
	text = sk_fleet_creds_text(&c);
	sodium_memzero(&c, sizeof(c));
	if (!text) {
		rc = EXIT_INPUT;
	} else if (out) {
		FILE *f = sk_fopen_private(out, false);
		if (!f || fputs(text, f) < 0 || fclose(f)) {
			cli_err("fleet: --seed-out %s: %s", out, strerror(errno));
			rc = EXIT_INPUT;
		}
	}
	if (rc == EXIT_OK) {
		sk_audit_entry e = {.action = "fleet.sensor.add", .subject = argv[optind]};
		if (sk_audit_append(st, &e, &err) || sk_store_commit(st, &err)) {
			cli_err("fleet: %s", err.msg);
			rc = EXIT_INPUT;
		}
	}
	if (rc != EXIT_OK)
		sk_store_rollback(st);
	else {
		if (!out) /* shown once: it is not kept */
			fputs(text, stdout);
		rc = write_authz(ctx, st, authz);
	}
	if (text) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	sk_store_close(st);
	return rc;
}

static int print_sensor(void *ud, const sk_fleet_sensor *s)
{
	char seen[SK_TS_STR_MAX] = "never";
	(void)ud;
	if (s->last_seen)
		sk_ts_format_us(s->last_seen, seen);
	printf("%-20s partner %-20s %s  sightings %lld  last seen %s\n", s->name, s->partner, s->pk,
	       (long long)s->sightings, seen);
	return 0;
}

/* One line per sensor of sk_fleet_status_json's rows (the JSON is the one source). */
static void print_status(const json_t *st)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(st, "sensors"), i, r)
	{
		const char *seen = json_string_value(json_object_get(r, "last_seen"));
		const char *act = json_string_value(json_object_get(r, "consumer_active"));
		json_t *applied = json_object_get(r, "applied"), *lag = json_object_get(r, "lag");
		printf(
		    "%-20s audience %-16s published %lld  applied %lld  lag %lld  sightings %lld  "
		    "last seen %s  consumer active %s\n",
		    json_string_value(json_object_get(r, "name")),
		    json_string_value(json_object_get(r, "audience")),
		    (long long)json_integer_value(json_object_get(r, "published")),
		    json_is_integer(applied) ? (long long)json_integer_value(applied) : -1LL,
		    json_is_integer(lag) ? (long long)json_integer_value(lag) : -1LL,
		    (long long)json_integer_value(json_object_get(r, "sightings")),
		    seen ? seen : "never", act ? act : "-");
	}
}

int cmd_fleet(cli_ctx *ctx, int argc, char **argv)
{
	sk_store *st;
	sk_error err;
	int rc = EXIT_OK;

	if (argc >= 3 && !strcmp(argv[1], "sensor") && !strcmp(argv[2], "add"))
		return sensor_add(ctx, argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "status")) {
		const char *url = NULL, *format = "text";
		json_t *js = NULL;
		for (int i = 2; i < argc; i += 2) {
			if (i + 1 < argc && !strcmp(argv[i], "--nats"))
				url = argv[i + 1];
			else if (i + 1 < argc && !strcmp(argv[i], "--format"))
				format = argv[i + 1];
			else
				return cli_usage("fleet",
				                 "status takes [--nats URL] [--format text|json]");
		}
		if (strcmp(format, "text") && strcmp(format, "json"))
			return cli_usage("fleet", "status --format: text or json, not %s", format);
		if (!(st = cli_open_store(ctx, 0)))
			return EXIT_INPUT;
		if (sk_fleet_status_json(st, url, &js, &err)) {
			cli_err("fleet: %s", err.msg);
			rc = EXIT_INPUT;
		} else if (!strcmp(format, "json")) {
			json_dumpf(js, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
			putchar('\n');
		} else {
			print_status(js);
		}
		json_decref(js);
		sk_store_close(st);
		return rc;
	}
	if (argc == 3 && !strcmp(argv[1], "sensor") && !strcmp(argv[2], "list")) {
		if (!(st = cli_open_store(ctx, SK_STORE_READONLY)))
			return EXIT_INPUT;
		if (sk_fleet_sensors(st, print_sensor, NULL, &err)) {
			cli_err("fleet: %s", err.msg);
			rc = EXIT_INPUT;
		}
		sk_store_close(st);
		return rc;
	}
	if (argc >= 4 && !strcmp(argv[1], "sensor") && !strcmp(argv[2], "remove")) {
		const char *authz = argc == 6 && !strcmp(argv[4], "--authz") ? argv[5] : NULL;
		if (argc != 4 && !authz)
			return cli_usage("fleet", "sensor remove takes NAME [--authz FILE]");
		if (!(st = cli_open_store(ctx, 0)))
			return EXIT_INPUT;
		sk_audit_entry e = {.action = "fleet.sensor.remove", .subject = argv[3]};
		if (sk_store_begin(st, &err) || sk_fleet_sensor_remove(st, argv[3], &err) ||
		    sk_audit_append(st, &e, &err) || sk_store_commit(st, &err)) {
			cli_err("fleet: %s", err.msg);
			sk_store_rollback(st);
			rc = EXIT_INPUT;
		} else {
			rc = write_authz(ctx, st, authz);
		}
		sk_store_close(st);
		return rc;
	}
	if (argc >= 2 && !strcmp(argv[1], "authz")) {
		const char *authz = argc == 4 && !strcmp(argv[2], "--authz") ? argv[3] : NULL;
		if (argc != 2 && !authz)
			return cli_usage("fleet", "authz takes [--authz FILE]");
		if (!(st = cli_open_store(ctx, 0)))
			return EXIT_INPUT;
		rc = write_authz(ctx, st, authz);
		sk_store_close(st);
		return rc;
	}
	return cli_usage("fleet", "expected sensor add|list|remove, authz or status");
}
