/*
 * cmd_backup.c - `schakel backup FILE` and `schakel restore FILE`: a
 * consistent copy of a (running) node with its key and peer secrets, and
 * its way back (store_backup.c; README, "Backups").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "schakel/file.h"
#include "schakel/store.h"

/* Copy from (if it exists) to to, created 0600.  0, or -1 after a message. */
static int copy_private(const char *from, const char *to)
{
	char buf[65536];
	size_t n;
	FILE *in = fopen(from, "rb"), *out;
	int rc = 0;

	if (!in)
		return errno == ENOENT ? 0 : (cli_err("%s: %s", from, strerror(errno)), -1);
	if (!(out = sk_fopen_private(to, false))) {
		cli_err("%s: %s", to, strerror(errno));
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	if (ferror(in) || fflush(out) || rc) {
		cli_err("%s: cannot copy to %s", from, to);
		rc = -1;
	}
	fclose(in);
	if (fclose(out))
		rc = -1;
	return rc;
}

/* "<base><suffix>" (malloc'd). */
static char *with(const char *base, const char *suffix)
{
	size_t n = strlen(base) + strlen(suffix) + 1;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s", base, suffix);
	return p;
}

/* The files beside a database: its key, its peer secrets and its hash keys. */
static int copy_companions(const char *from_db, const char *to_db)
{
	static const char *const sfx[] = {".key", ".secrets", ".hashkeys"};
	int rc = 0;

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]) && !rc; i++) {
		char *a = with(from_db, sfx[i]), *b = with(to_db, sfx[i]);
		rc = a && b ? copy_private(a, b) : -1;
		free(a);
		free(b);
	}
	return rc;
}

int cmd_backup(cli_ctx *ctx, int argc, char **argv)
{
	struct stat sb;
	sk_store *st;
	sk_error err;
	int rc = EXIT_OK;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage("backup", "backup FILE");
	if (!stat(argv[1], &sb)) {
		cli_err("%s exists; a backup never overwrites", argv[1]);
		return EXIT_INPUT;
	}
	if (!(st = cli_open_store(ctx, SK_STORE_READONLY)))
		return EXIT_INPUT;
	if (sk_store_backup(st, argv[1], &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	} else if (copy_companions(ctx->db, argv[1])) {
		rc = EXIT_INPUT;
	} else {
		fprintf(stderr, "backed up %s to %s (with its key and peer secrets, mode 0600)\n",
			ctx->db, argv[1]);
	}
	sk_store_close(st);
	return rc;
}

int cmd_restore(cli_ctx *ctx, int argc, char **argv)
{
	bool force = argc == 3 && !strcmp(argv[2], "--force");
	struct stat sb;
	sk_store *st;
	sk_error err;

	if ((argc != 2 && !force) || argv[1][0] == '-')
		return cli_usage("restore", "restore FILE [--force]");
	if (!stat(ctx->db, &sb) && !force) {
		cli_err("%s exists; restore --force replaces it (stop its server first)", ctx->db);
		return EXIT_INPUT;
	}
	if (sk_store_restore(argv[1], ctx->db, &err)) {
		cli_err("%s", err.msg);
		return EXIT_INPUT;
	}
	if (copy_companions(argv[1], ctx->db))
		return EXIT_INPUT;
	/* open it as a node: migrates a backup of an older release */
	if (!(st = cli_open_store(ctx, 0)))
		return EXIT_INPUT;
	fprintf(stderr, "restored %s from %s\n", ctx->db, argv[1]);
	sk_store_close(st);
	return EXIT_OK;
}
