/*
 * util.c - helpers shared by the subcommands.
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "schakel/audit.h"
#include "schakel/timestamp.h"

void cli_err(const char *fmt, ...)
{
	va_list ap;
	cli_progress_done();
	fputs("schakel: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "schakel %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'schakel help %s')\n", cmd);
	return EXIT_USAGE;
}

int cli_exit_for(sk_err rc)
{
	return rc == SK_OK ? EXIT_OK : EXIT_INPUT;
}

sk_store *cli_open_store(cli_ctx *ctx, unsigned flags)
{
	sk_store *st = NULL;
	sk_error err;
	sk_err rc = sk_store_open(ctx->db, flags, &st, &err);
	bool made = false;
	const struct passwd *pw;
	char actor[SK_AUDIT_ACTOR_MAX + 1];
	if (rc) {
		cli_err("%s", err.msg);
		return NULL;
	}
	/* a node from before keys gets its key the first time a command writes */
	if (!(flags & SK_STORE_READONLY) && sk_store_own_key_ensure(st, &made, &err) == SK_OK &&
	    made)
		fprintf(stderr,
		        "schakel: made this node's signing key (%s.key); schakel key show "
		        "prints it\n",
		        ctx->db);
	/* the audit log records changes made here under the operator's login */
	pw = getpwuid(geteuid());
	if (pw && pw->pw_name)
		snprintf(actor, sizeof(actor), "cli:%s", pw->pw_name);
	else
		snprintf(actor, sizeof(actor), "cli:uid %lu", (unsigned long)geteuid());
	sk_audit_set_actor(st, actor);
	return st;
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	}
	return false;
}

const cli_cmd *cli_find(const char *name)
{
	for (const cli_cmd *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

void cli_print_usage(const cli_cmd *c)
{
	fputs(c->usage, stdout);
}

bool cli_parse_ts_us(const char *s, int64_t *us)
{
	return sk_ts_parse(s, strlen(s), NULL, us);
}

/* --- progress bar ------------------------------------------------------- */

static int progress_state = -1; /* -1 unknown, 0 off, 1 on */
static bool progress_shown;
static struct timespec progress_last;

bool cli_progress_enabled(void)
{
	if (progress_state < 0)
		progress_state = isatty(STDERR_FILENO) ? 1 : 0;
	return progress_state == 1;
}

void cli_progress(void *ud, const sk_reader *rd, uint64_t objects)
{
	(void)ud;
	cli_progress_line(sk_reader_name(rd), sk_reader_raw_pos(rd), sk_reader_raw_size(rd),
	                  objects, "objects");
}

void cli_progress_line(const char *name, uint64_t pos, uint64_t size, uint64_t count,
                       const char *what)
{
	struct timespec now;
	char bar[41];

	if (!cli_progress_enabled())
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (progress_shown && (now.tv_sec - progress_last.tv_sec) * 1000 +
	                              (now.tv_nsec - progress_last.tv_nsec) / 1000000 <
	                          100)
		return;
	progress_last = now;
	progress_shown = true;
	if (size) {
		if (pos > size)
			pos = size;
		int fill = (int)(pos * 40 / size);
		memset(bar, '=', (size_t)fill);
		memset(bar + fill, ' ', (size_t)(40 - fill));
		bar[40] = '\0';
		fprintf(stderr, "\r%s [%s] %3d%% %7.1f/%.1f MB %llu %s", name, bar,
		        (int)(pos * 100 / size), (double)pos / 1e6, (double)size / 1e6,
		        (unsigned long long)count, what);
	} else {
		fprintf(stderr, "\r%s %.1f MB %llu %s", name, (double)pos / 1e6,
		        (unsigned long long)count, what);
	}
	fflush(stderr);
}

void cli_progress_done(void)
{
	if (progress_shown) {
		fputs("\r\033[K", stderr);
		progress_shown = false;
	}
}

int cli_import_exit(bool problems, bool usable)
{
	if (!problems)
		return EXIT_OK;
	return usable ? EXIT_PARTIAL : EXIT_INPUT;
}

bool cli_parse_duration(const char *s, int64_t *us)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	long long mul = 1;
	if (!*s || v <= 0 || end == s)
		return false;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		mul = 60, end++;
	else if (*end == 'h')
		mul = 3600, end++;
	else if (*end == 'd')
		mul = 86400, end++;
	if (*end || v > 366LL * 86400 / mul)
		return false;
	*us = v * mul * 1000000LL;
	return true;
}
