/*
 * cmd_partner.c - `schakel partner`, `schakel account` and `schakel token`:
 * the organisations the node shares with, the accounts of theirs and of the
 * node's own people, and their credentials.
 *
 * Secrets (generated passwords, API tokens) are printed once, alone on
 * stdout, so scripts can capture them; everything else goes to stderr.
 */
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schakel/account.h"
#include "schakel/decay.h"
#include "schakel/policy.h"

#define MAX_SECTORS 32

static int keep_json(void *ud, const sk_row *r)
{
	json_t **o = ud;
	json_decref(*o);
	*o = json_loadb(r->json, r->len, 0, NULL);
	return 0;
}

/* identity, name, country, accounts, and the sectors its identity object names */
static int print_partner(void *ud, const sk_partner_row *r)
{
	sk_store *st = ud;
	json_t *o = NULL, *e;
	sk_error err;
	size_t i;

	printf("%-46s %-24s %-2s %lld accounts", r->identity, r->name, r->country ? r->country : "",
	       (long long)r->accounts);
	if (r->trust >= 0)
		printf("  trust %d", r->trust);
	else
		printf("  trust default");
	sk_store_get(st, r->identity, false, keep_json, &o, &err);
	json_array_foreach(json_object_get(o, "sectors"), i, e)
	{
		printf("%s%s", i ? "," : "  sectors: ",
		       json_string_value(e) ? json_string_value(e) : "");
	}
	putchar('\n');
	json_decref(o);
	return 0;
}

/* partner set NAME --trust N|default: the trust that scales its indicators' scores */
static int partner_trust(cli_ctx *ctx, const char *name, const char *value)
{
	sk_store *st;
	sk_error err;
	char *end;
	long n = strcmp(value, "default") ? strtol(value, &end, 10) : -1;
	int rc = EXIT_OK;

	if (n != -1 && (end == value || *end || n < 0 || n > 100))
		return cli_usage("partner", "--trust needs a number from 0 to 100, or default");
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	if (sk_decay_set_trust(st, name, (int)n, &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	}
	sk_store_close(st);
	return rc;
}

int cmd_partner(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"identity", required_argument, NULL, 'i'},
	    {"country", required_argument, NULL, 'c'},
	    {"sector", required_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	const char *sectors[MAX_SECTORS];
	char ident[SK_IDENTITY_ID_MAX + 1];
	sk_partner_params p = {.sectors = sectors};
	sk_store *st;
	sk_error err;
	int opt, rc = EXIT_OK;

	if (argc < 2)
		return cli_usage("partner", "expected 'add' or 'list'");
	if (!strcmp(argv[1], "list")) {
		if (!(st = cli_open_store(ctx, SK_STORE_READONLY)))
			return EXIT_INPUT;
		if (sk_partner_list(st, print_partner, st, &err)) {
			cli_err("%s", err.msg);
			rc = EXIT_INPUT;
		}
		sk_store_close(st);
		return rc;
	}
	if (!strcmp(argv[1], "set")) {
		unsigned char pk[SK_KEY_PK_LEN];
		sk_principal who;
		sk_tlp level;
		bool tlp = argc == 5 && !strcmp(argv[3], "--unmarked-tlp");
		bool key = argc == 5 && !strcmp(argv[3], "--key");
		if (argc == 5 && !strcmp(argv[3], "--trust"))
			return partner_trust(ctx, argv[2], argv[4]);
		if ((!tlp && !key) || (tlp && !sk_tlp_parse(argv[4], &level)) ||
		    (key && !sk_key_parse(argv[4], pk)))
			return cli_usage("partner", "partner set NAME --unmarked-tlp "
						    "clear|green|amber|amber+strict|red | --key PUBKEY | "
						    "--trust 0-100|default");
		if (!(st = cli_open_store(ctx, 0)))
			return EXIT_INPUT;
		if (tlp ? sk_policy_set_unmarked(st, argv[2], level, &err)
			: (sk_partner_principal(st, argv[2], &who, &err) ||
			   sk_store_key_pin(st, who.identity, pk, "configured", &err))) {
			cli_err("%s", err.msg);
			rc = EXIT_INPUT;
		}
		sk_store_close(st);
		return rc;
	}
	if (strcmp(argv[1], "add") != 0)
		return cli_usage("partner", "unknown subcommand '%s'", argv[1]);
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'i')
			p.identity = optarg;
		else if (opt == 'c')
			p.country = optarg;
		else if (opt == 's' && p.nsectors < MAX_SECTORS)
			sectors[p.nsectors++] = optarg;
		else
			return cli_usage("partner", "unknown option or too many sectors");
	}
	if (optind + 1 != argc)
		return cli_usage("partner", "add takes exactly one NAME");
	p.name = argv[optind];
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	if (sk_partner_add(st, &p, ident, &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	} else {
		printf("%s  %s\n", ident, p.name);
	}
	sk_store_close(st);
	return rc;
}

static char *read_password_line(void)
{
	char line[1024];
	size_t n;
	if (!fgets(line, sizeof(line), stdin))
		return NULL;
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	char *p = strdup(line);
	sodium_memzero(line, sizeof(line));
	return p;
}

static int print_account(void *ud, const sk_account_row *r)
{
	(void)ud;
	printf("%-24s %-10s %-24s %-8s %lld tokens\n", r->name,
	       r->role ? sk_role_name(r->role) : "partner", r->partner[0] ? r->partner : "-",
	       r->disabled ? "disabled" : "enabled", (long long)r->tokens);
	return 0;
}

/* `account disable|enable|delete NAME` and `account list`. */
static int account_simple(cli_ctx *ctx, int argc, char **argv)
{
	const char *sub = argv[1];
	bool list = !strcmp(sub, "list");
	sk_store *st;
	sk_error err;
	sk_err rc;

	if (argc != (list ? 2 : 3))
		return cli_usage("account", list ? "list takes no arguments" : "%s takes one NAME",
				 sub);
	if (!(st = cli_open_store(ctx, list ? SK_STORE_READONLY : 0)))
		return EXIT_INPUT;
	if (list)
		rc = sk_account_list(st, print_account, NULL, &err);
	else if (!strcmp(sub, "delete"))
		rc = sk_account_delete(st, argv[2], &err);
	else
		rc = sk_account_set_disabled(st, argv[2], !strcmp(sub, "disable"), &err);
	if (rc)
		cli_err("%s", err.msg);
	else if (!list)
		fprintf(stderr, "account '%s' %sd\n", argv[2], sub);
	sk_store_close(st);
	return rc ? EXIT_INPUT : EXIT_OK;
}

/*
 * `account totp NAME enable|disable`: the console's second factor.  enable
 * gives the account a new secret, in force at once, and prints its
 * otpauth:// URI once on stdout (for an authenticator app).
 */
static int account_totp(cli_ctx *ctx, int argc, char **argv)
{
	char uri[SK_TOTP_URI_MAX];
	sk_store *st;
	sk_error err;
	sk_err rc;
	bool on;

	if (argc != 4 || (strcmp(argv[3], "enable") && strcmp(argv[3], "disable")))
		return cli_usage("account", "usage: account totp NAME enable|disable");
	on = !strcmp(argv[3], "enable");
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	rc = on ? sk_totp_enroll(st, argv[2], true, uri, sizeof(uri), &err)
		: sk_totp_disable(st, argv[2], &err);
	if (rc) {
		cli_err("%s", err.msg);
	} else if (on) {
		fprintf(stderr,
			"account '%s' needs a one-time code at the console's login from now on;"
			" its secret (shown only now):\n",
			argv[2]);
		printf("%s\n", uri);
		sodium_memzero(uri, sizeof(uri));
	} else {
		fprintf(stderr, "account '%s': second factor off\n", argv[2]);
	}
	sk_store_close(st);
	return rc ? EXIT_INPUT : EXIT_OK;
}

int cmd_account(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"partner", required_argument, NULL, 'p'},
	    {"role", required_argument, NULL, 'r'},
	    {"password", required_argument, NULL, 'w'},
	    {"password-stdin", no_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	const char *partner = NULL, *password = NULL, *sub;
	char *owned = NULL, *gen = NULL;
	bool from_stdin = false, passwd;
	sk_role role = SK_ROLE_PARTNER;
	sk_store *st;
	sk_error err;
	sk_err e;
	int opt, rc = EXIT_OK;

	if (argc < 2)
		return cli_usage("account",
				 "expected add, passwd, disable, enable, delete, totp or list");
	sub = argv[1];
	if (!strcmp(sub, "disable") || !strcmp(sub, "enable") || !strcmp(sub, "delete") ||
	    !strcmp(sub, "list"))
		return account_simple(ctx, argc, argv);
	if (!strcmp(sub, "totp"))
		return account_totp(ctx, argc, argv);
	passwd = !strcmp(sub, "passwd");
	if (!passwd && strcmp(sub, "add") != 0)
		return cli_usage("account", "unknown subcommand '%s'", sub);
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'p' && !passwd)
			partner = optarg;
		else if (opt == 'r' && !passwd) {
			if (!sk_role_parse(optarg, &role))
				return cli_usage("account",
						 "--role is one of admin, analyst, viewer, metrics");
		} else if (opt == 'w') {
			password = optarg;
			fprintf(stderr, "schakel account: warning: a password on the command line is "
					"visible to other users (ps) and kept in shell history; "
					"prefer --password-stdin\n");
		} else if (opt == 'S')
			from_stdin = true;
		else
			return cli_usage("account", "unknown option");
	}
	if (optind + 1 != argc)
		return cli_usage("account", "%s takes one NAME", sub);
	if (!passwd && !partner == !role)
		return cli_usage("account", "add takes --partner P (a partner's account) or --role R "
					    "(an account of this node's organisation), not both");
	if (from_stdin) {
		owned = read_password_line();
		if (!owned || !*owned) {
			free(owned);
			return cli_usage("account", "--password-stdin: no password on stdin");
		}
		password = owned;
	}
	if (!(st = cli_open_store(ctx, 0))) {
		free(owned);
		return EXIT_INPUT;
	}
	if (passwd)
		e = sk_account_passwd(st, argv[optind], password, &gen, &err);
	else if (partner)
		e = sk_account_add(st, partner, argv[optind], password, &gen, &err);
	else
		e = sk_account_add_own(st, argv[optind], role, password, &gen, &err);
	if (e) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	} else if (gen) {
		fprintf(stderr, "account '%s' %s; its password (shown only now):\n", argv[optind],
			passwd ? "has a new password" : "created");
		printf("%s\n", gen);
	} else {
		fprintf(stderr, "account '%s' %s\n", argv[optind],
			passwd ? "has a new password" : "created");
	}
	if (gen) {
		sodium_memzero(gen, strlen(gen));
		free(gen);
	}
	if (owned) {
		sodium_memzero(owned, strlen(owned));
		free(owned);
	}
	sk_store_close(st);
	return rc;
}

int cmd_token(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"label", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	const char *label = NULL;
	char *tok = NULL, id[16];
	sk_store *st;
	sk_error err;
	int opt, rc = EXIT_OK;
	bool create;

	if (argc < 2 || (strcmp(argv[1], "create") && strcmp(argv[1], "revoke")))
		return cli_usage("token", "expected 'create' or 'revoke'");
	create = !strcmp(argv[1], "create");
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'l' && create)
			label = optarg;
		else
			return cli_usage("token", "unknown option");
	}
	if (optind + 1 != argc)
		return cli_usage("token", create ? "create takes one ACCOUNT"
						 : "revoke takes one TOKEN-ID (or the token)");
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	if (create) {
		if (sk_token_create(st, argv[optind], label, &tok, id, &err)) {
			cli_err("%s", err.msg);
			rc = EXIT_INPUT;
		} else {
			fprintf(stderr, "token %s for '%s' (shown only now):\n", id, argv[optind]);
			printf("%s\n", tok);
			sodium_memzero(tok, strlen(tok));
			free(tok);
		}
	} else if (sk_token_revoke(st, argv[optind], &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	} else {
		fprintf(stderr, "token revoked\n");
	}
	sk_store_close(st);
	return rc;
}
