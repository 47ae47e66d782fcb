/*
 * cli.h - shared plumbing of the schakel command: the subcommand table,
 * exit codes, store opening and terminal output helpers.
 */
#ifndef SCHAKEL_CLI_H
#define SCHAKEL_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "schakel/account.h"
#include "schakel/error.h"
#include "schakel/reader.h"
#include "schakel/store.h"

/*
 * Exit codes.  EXIT_PARTIAL: an import stored what was usable and rejected
 * the rest (each rejection reported), so a daily job can tell "some bad
 * rows" from "nothing stored".
 */
enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2, EXIT_PARTIAL = 3 };

/*
 * The exit code of an import: EXIT_OK without problems, EXIT_PARTIAL when
 * something went wrong but usable objects are in the store, EXIT_INPUT when
 * nothing usable was stored.
 */
int cli_import_exit(bool problems, bool usable);

typedef struct cli_ctx {
	const char *db; /* --db, SCHAKEL_DB, or ./schakel.db */
} cli_ctx;

typedef struct cli_cmd {
	const char *name;
	int (*run)(cli_ctx *ctx, int argc, char **argv);
	const char *summary;
	const char *usage; /* full help text */
} cli_cmd;

/* The table, terminated by a zeroed entry (defined in main.c). */
extern const cli_cmd cli_commands[];

/* Print "schakel: <msg>" to stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Report a usage error for cmd and return EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "90s", "30m", "24h", "2d" or plain seconds (at most a year) -> microseconds. */
bool cli_parse_duration(const char *s, int64_t *us);

/* Exit code for a library error: usage-like errors stay 1 (input). */
int cli_exit_for(sk_err rc);

/* Open the store named by ctx; prints the error.  flags as sk_store_open. */
sk_store *cli_open_store(cli_ctx *ctx, unsigned flags);

/* True if the help flag is among argv (before "--"). */
bool cli_wants_help(int argc, char **argv);

/* Print a command's usage to stdout. */
void cli_print_usage(const cli_cmd *c);
/* The manual page (roff) of cmd, or of schakel itself for NULL, on stdout (man.c). */
int cli_man(const char *cmd);
/* Every manual page (schakel.1, schakel-COMMAND.1) into dir (man.c). */
int cli_man_all(const char *dir);
const cli_cmd *cli_find(const char *name);

/* Progress bar on stderr when it is a terminal (rate-limited). */
void cli_progress(void *ud, const sk_reader *rd, uint64_t objects);
void cli_progress_done(void);
bool cli_progress_enabled(void);
/* The same bar for any input: name, position of size (0 = unknown), a count of what. */
void cli_progress_line(const char *name, uint64_t pos, uint64_t size, uint64_t count,
		       const char *what);

/* Parse a TAXII/STIX timestamp argument into microseconds; false if bad. */
bool cli_parse_ts_us(const char *s, int64_t *us);

/*
 * The principal `--for WHO` names: "account:NAME", "partner:NAME", or a bare
 * name that is exactly one of the two (an ambiguous name is refused, never
 * guessed).  Returns 0, or -1 after printing the error.
 */
int cli_resolve_for(sk_store *st, const char *who, sk_principal *out);

/*
 * Export what partner or account `who` may see (sharing policy applied per
 * collection; q->cid 0 = every collection), each version once.
 */
int cli_export_for(sk_store *st, const char *who, sk_query *q, sk_row_fn fn, void *ud);

/* Subcommands */
int cmd_init(cli_ctx *ctx, int argc, char **argv);
int cmd_import(cli_ctx *ctx, int argc, char **argv);
int cmd_get(cli_ctx *ctx, int argc, char **argv);
int cmd_list(cli_ctx *ctx, int argc, char **argv);
int cmd_show(cli_ctx *ctx, int argc, char **argv);
int cmd_stats(cli_ctx *ctx, int argc, char **argv);
int cmd_export(cli_ctx *ctx, int argc, char **argv);
int cmd_collection(cli_ctx *ctx, int argc, char **argv);
int cmd_partner(cli_ctx *ctx, int argc, char **argv);
int cmd_account(cli_ctx *ctx, int argc, char **argv);
int cmd_token(cli_ctx *ctx, int argc, char **argv);
int cmd_serve(cli_ctx *ctx, int argc, char **argv);
int cmd_pattern(cli_ctx *ctx, int argc, char **argv);
int cmd_peer(cli_ctx *ctx, int argc, char **argv);
int cmd_config(cli_ctx *ctx, int argc, char **argv);
int cmd_sighting(cli_ctx *ctx, int argc, char **argv);
int cmd_metrics(cli_ctx *ctx, int argc, char **argv);
int cmd_feed(cli_ctx *ctx, int argc, char **argv);
int cmd_galaxy(cli_ctx *ctx, int argc, char **argv);
int cmd_actors(cli_ctx *ctx, int argc, char **argv);
int cmd_warninglist(cli_ctx *ctx, int argc, char **argv);
int cmd_scan(cli_ctx *ctx, int argc, char **argv);
int cmd_key(cli_ctx *ctx, int argc, char **argv);
int cmd_hashkey(cli_ctx *ctx, int argc, char **argv);
int cmd_indicator(cli_ctx *ctx, int argc, char **argv);
int cmd_verify(cli_ctx *ctx, int argc, char **argv);
int cmd_revoke(cli_ctx *ctx, int argc, char **argv);
int cmd_bundle(cli_ctx *ctx, int argc, char **argv);
int cmd_backup(cli_ctx *ctx, int argc, char **argv);
int cmd_restore(cli_ctx *ctx, int argc, char **argv);
int cmd_audit(cli_ctx *ctx, int argc, char **argv);
int cmd_invite(cli_ctx *ctx, int argc, char **argv);
int cmd_enrol(cli_ctx *ctx, int argc, char **argv);
int cmd_fleet(cli_ctx *ctx, int argc, char **argv);
int cmd_report(cli_ctx *ctx, int argc, char **argv);
int cmd_dossier(cli_ctx *ctx, int argc, char **argv);
int cmd_opinion(cli_ctx *ctx, int argc, char **argv);


/* --- the configuration file of serve (conffile.c) --- */

#include <getopt.h>

#define CLI_CONF_DEFAULT "/etc/schakel/schakel.conf"

typedef struct cli_conf_entry {
	char *key, *value;
	unsigned line;
	bool flag; /* an option without a value: value is "true" or "false" */
} cli_conf_entry;

typedef struct cli_conf {
	char *path;
	cli_conf_entry *e;
	size_t n;
	size_t nowned; /* argv entries cli_conf_argv made */
} cli_conf;

/* Read path: KEY = VALUE lines, each key one of opts' long names. */
int cli_conf_load(const char *path, const struct option *opts, cli_conf *out);
void cli_conf_free(cli_conf *c);

/*
 * Take `--config FILE` out of argv; the file named, else $SCHAKEL_CONFIG,
 * else CLI_CONF_DEFAULT.  *explicit: named by the flag or the environment
 * (then it must exist).
 */
const char *cli_conf_take_path(int *argc, char **argv, bool *explicit);

/*
 * Prepend the configuration file's options to *argv (so that the command
 * line's override them), replacing argc and argv; owned and conf are freed
 * with cli_conf_argv_free() after the command ran.  Without a file (the
 * default path absent) nothing changes.  Returns an exit code.
 */
int cli_conf_argv(const char *cmd, const struct option *opts, int *argc, char ***argv,
		  cli_conf *conf, char ***owned);
void cli_conf_argv_free(cli_conf *conf, char **owned);

/* serve's options (cmd_serve.c): the keys its configuration file takes. */
const struct option *cli_serve_options(void);

#endif
