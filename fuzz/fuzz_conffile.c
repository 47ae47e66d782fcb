/*
 * fuzz_conffile.c - libFuzzer target for serve's configuration file
 * (cli/conffile.c, built into this target): the input is the file; it is
 * loaded against a table of options shaped like serve's, then turned into
 * arguments as serve does.  Either the load fails with an exit code of 2
 * (a bad line) or every entry it keeps names an option of the table, with a
 * value when the option takes one; nothing may crash or leak.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli/cli.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the command's error printer: silent here */
void cli_err(const char *fmt, ...)
{
	(void)fmt;
}

static const struct option opts[] = {
    {"listen", required_argument, NULL, 'l'},
    {"tls-cert", required_argument, NULL, 'c'},
    {"threads", required_argument, NULL, 't'},
    {"insecure", no_argument, NULL, 'i'},
    {"no-sync", no_argument, NULL, 'n'},
    {"config", required_argument, NULL, 'C'},
    {NULL, 0, NULL, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz-conf-XXXXXX";
	cli_conf c;
	int rc;

	if (sk_fuzz_tmpfile(path, data, size))
		return 0;
	rc = cli_conf_load(path, opts, &c);
	unlink(path);
	if (rc == EXIT_OK) {
		for (size_t i = 0; i < c.n; i++) {
			const struct option *o = opts;
			while (o->name && strcmp(o->name, c.e[i].key))
				o++;
			if (!o->name || !strcmp(o->name, "config") || !c.e[i].value ||
			    (o->has_arg == required_argument && !*c.e[i].value))
				abort();
		}
	} else if (rc != EXIT_USAGE && rc != EXIT_INPUT) {
		abort();
	}
	cli_conf_free(&c);
	return 0;
}
