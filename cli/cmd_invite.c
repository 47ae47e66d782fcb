/*
 * cmd_invite.c - `schakel invite` (at a hub: a partner's account, grants
 * and a one-time code) and `schakel enrol` (at a new node: redeem the code
 * and make the hub a peer).  docs/enrol.md.
 *
 * The code holds a secret: it is printed once, alone on stdout, and read by
 * enrol from stdin ('-') or a file as readily as from the command line.
 */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schakel/account.h"
#include "schakel/invite.h"
#include "schakel/peer.h"
#include "schakel/sync.h"
#include "schakel/timestamp.h"

static int print_invite(void *ud, const sk_invite_row *r)
{
	char ts[SK_TS_STR_MAX];
	int64_t now = *(const int64_t *)ud;

	sk_ts_format_ms(r->used ? r->used : r->expires, ts);
	printf("%s  %-28s %-24s %s %s%s%s\n", r->iid, r->partner, r->account,
	       r->used             ? "used"
	       : r->expires <= now ? "expired"
	                           : "open until",
	       ts, r->used && r->used_by ? " by " : "", r->used && r->used_by ? r->used_by : "");
	return 0;
}

int cmd_invite(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"collection", required_argument, NULL, 'c'},
	    {"read", no_argument, NULL, 'r'},
	    {"write", no_argument, NULL, 'w'},
	    {"amber", no_argument, NULL, 'a'},
	    {"amber-strict", no_argument, NULL, 'A'},
	    {"account", required_argument, NULL, 'n'},
	    {"expires", required_argument, NULL, 'e'},
	    {"url", required_argument, NULL, 'u'},
	    {"tls-cert", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	sk_invite_params p = {0};
	char pin[SK_TLS_PIN_LEN + 1], fp[SK_FINGERPRINT_MAX], ts[SK_TS_STR_MAX];
	const char *cert = NULL;
	char *code = NULL;
	sk_store *st;
	sk_error err;
	int opt, rc = EXIT_OK;

	if (argc == 2 && !strcmp(argv[1], "list")) {
		int64_t now = sk_ts_now_us();
		if (!(st = cli_open_store(ctx, SK_STORE_READONLY)))
			return EXIT_INPUT;
		if (sk_invite_list(st, print_invite, &now, &err)) {
			cli_err("invite list: %s", err.msg);
			rc = EXIT_INPUT;
		}
		sk_store_close(st);
		return rc;
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			p.collection = optarg;
			break;
		case 'r':
			p.grants |= SK_GRANT_READ;
			break;
		case 'w':
			p.grants |= SK_GRANT_WRITE;
			break;
		case 'a':
			p.grants |= SK_GRANT_AMBER;
			break;
		case 'A':
			p.grants |= SK_GRANT_AMBER | SK_GRANT_AMBER_STRICT;
			break;
		case 'n':
			p.account = optarg;
			break;
		case 'e': {
			int64_t us;
			if (!cli_parse_duration(optarg, &us) || us < 60 * 1000000LL ||
			    us > SK_INVITE_MAX_TTL_S * 1000000LL)
				return cli_usage("invite", "--expires: 1m to 30d (e.g. 72h)");
			p.ttl_s = us / 1000000;
			break;
		}
		case 'u':
			p.url = optarg;
			break;
		case 't':
			cert = optarg;
			break;
		default:
			return cli_usage("invite", "unknown option");
		}
	}
	if (optind + 1 != argc || !p.collection || !p.url)
		return cli_usage("invite", "schakel invite PARTNER --collection C --url URL "
		                           "[--tls-cert FILE] [--read] [--write] [--amber] ...");
	if ((p.grants & (SK_GRANT_AMBER | SK_GRANT_WRITE)) && !(p.grants & SK_GRANT_READ) &&
	    (p.grants & SK_GRANT_AMBER))
		p.grants |= SK_GRANT_READ; /* an AMBER recipient reads */
	p.partner = argv[optind];
	if (cert) {
		if (sk_tls_cert_pin(cert, pin, &err)) {
			cli_err("invite: --tls-cert %s", err.msg);
			return EXIT_USAGE;
		}
		p.tls_pin = pin;
	}
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	if (sk_invite_create(st, &p, &code, &err)) {
		cli_err("invite: %s", err.msg);
		rc = err.code == SK_EINVAL ? EXIT_USAGE : EXIT_INPUT;
	} else {
		int64_t ttl = p.ttl_s ? p.ttl_s : SK_INVITE_DEFAULT_TTL_S;
		unsigned g = p.grants ? p.grants : SK_GRANT_READ;
		sk_key_fingerprint(sk_store_own_key(st)->pk, fp);
		sk_ts_format_ms(sk_ts_now_us() + ttl * 1000000, ts);
		printf("%s\n", code);
		fflush(stdout);
		fprintf(stderr,
		        "invitation for partner '%s' to %s: %s%s%s%s; one use, until %s\n"
		        "this node's key fingerprint, for the partner to check: %s\n"
		        "give the code above to the partner's operator only (it holds a secret);\n"
		        "they run: schakel enrol - <code-file\n",
		        p.partner, p.collection, g & SK_GRANT_READ ? "read" : "",
		        g & SK_GRANT_WRITE ? (g & SK_GRANT_READ ? ", write" : "write") : "",
		        g & SK_GRANT_AMBER ? ", AMBER recipient" : "",
		        g & SK_GRANT_AMBER_STRICT ? " (and AMBER+STRICT)" : "", ts, fp);
		sodium_memzero(code, strlen(code));
		free(code);
	}
	sk_store_close(st);
	return rc;
}

/* The code: the argument, '-' for stdin, or @FILE. */
static char *read_code(const char *arg)
{
	char buf[8192];
	FILE *f = NULL;
	size_t n;

	if (strcmp(arg, "-") && arg[0] != '@')
		return strdup(arg);
	if (!strcmp(arg, "-"))
		f = stdin;
	else if (!(f = fopen(arg + 1, "r"))) {
		cli_err("enrol: %s: %s", arg + 1, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	char *s = strdup(buf);
	sodium_memzero(buf, sizeof(buf));
	return s;
}

int cmd_enrol(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"local-collection", required_argument, NULL, 'l'},
	    {"fingerprint", required_argument, NULL, 'f'},
	    {"ca", required_argument, NULL, 'C'},
	    {"allow-http", no_argument, NULL, 'H'},
	    {"no-sync", no_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	sk_enrol_opts o = {0};
	sk_invite_code code;
	const char *expect = NULL;
	char fp[SK_FINGERPRINT_MAX], *text;
	bool sync = true;
	sk_store *st;
	sk_error err;
	int opt, rc = EXIT_OK;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			o.name = optarg;
			break;
		case 'l':
			o.local_collection = optarg;
			break;
		case 'f':
			expect = optarg;
			break;
		case 'C':
			o.ca = optarg;
			break;
		case 'H':
			o.allow_http = true;
			break;
		case 'S':
			sync = false;
			break;
		default:
			return cli_usage("enrol", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage("enrol", "schakel enrol CODE|-|@FILE [--name PEER] "
		                          "[--fingerprint FP] ...");
	if (!(text = read_code(argv[optind])))
		return EXIT_INPUT;
	rc = sk_invite_decode(text, &code, &err);
	sodium_memzero(text, strlen(text));
	free(text);
	if (rc) {
		cli_err("enrol: %s", err.msg);
		return EXIT_INPUT;
	}
	sk_key_fingerprint(code.key, fp);
	if (expect && strcmp(expect, fp) != 0) {
		cli_err("enrol: the hub's key fingerprint is %s, not %s as you were told: not "
		        "enrolling",
		        fp, expect);
		sk_invite_code_clear(&code);
		return EXIT_INPUT;
	}
	if (!(st = cli_open_store(ctx, 0))) {
		sk_invite_code_clear(&code);
		return EXIT_INPUT;
	}
	if (sk_enrol(st, ctx->db, &code, &o, &err)) {
		cli_err("enrol: %s", err.msg);
		rc = EXIT_INPUT;
	} else {
		fprintf(stderr,
		        "enrolled at %s as peer '%s': its identity %s, key fingerprint %s%s\n",
		        code.url, o.name ? o.name : "hub", code.hub, fp,
		        expect ? " (as expected)" : " (compare it with the hub's operator)");
		if (sync) {
			sk_sync_opts so = {
			    .db_path = ctx->db, .timeout_s = 120, .low_speed_s = 120};
			sk_sync_result r = {0};
			if (sk_sync_peer(st, o.name ? o.name : "hub", &so, &r, &err)) {
				cli_err("enrol: the first sync failed (schakel serve retries): %s",
				        err.msg);
				rc = EXIT_INPUT;
			} else {
				fprintf(stderr,
				        "first sync: %llu objects received, %llu stored, %llu "
				        "sent\n",
				        (unsigned long long)r.received,
				        (unsigned long long)r.stored, (unsigned long long)r.sent);
			}
		}
	}
	sk_invite_code_clear(&code);
	sk_store_close(st);
	return rc;
}
