/*
 * conffile.c - the configuration file of `schakel serve`
 * (/etc/schakel/schakel.conf, or `serve --config FILE`): how the process
 * runs, one of serve's options per line, the flags given on the command line
 * overriding it.  Settings about the node's data and policy stay in the
 * database (`schakel config`).
 *
 *     # comment
 *     listen = 0.0.0.0:6543
 *     tls-cert = /etc/schakel/tls.pem
 *     insecure = false          # a flag: true or false
 *
 * A line is KEY = VALUE (the '=' may be left out); the value may be quoted
 * with "..." to keep spaces or a '#'.  An unknown key, a flag with a value
 * other than true/false, or a missing value is an error that names the file
 * and line (exit 2, as a bad flag is); a file that cannot be read is exit 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define CONF_MAX_BYTES (1 << 20)
#define CONF_MAX_LINES 1000

static char *trim(char *s)
{
	char *e;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static const struct option *find_opt(const struct option *opts, const char *name)
{
	for (; opts->name; opts++)
		if (!strcmp(opts->name, name))
			return opts;
	return NULL;
}

void cli_conf_free(cli_conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].key);
		free(c->e[i].value);
	}
	free(c->e);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

int cli_conf_load(const char *path, const struct option *opts, cli_conf *out)
{
	FILE *f;
	char line[8192];
	unsigned lineno = 0;
	struct stat sb;
	int rc = EXIT_OK;

	memset(out, 0, sizeof(*out));
	if (!(f = fopen(path, "r"))) {
		cli_err("%s: %s", path, strerror(errno));
		return EXIT_INPUT;
	}
	if (fstat(fileno(f), &sb) == 0 && sb.st_size > CONF_MAX_BYTES) {
		fclose(f);
		cli_err("%s: larger than %d bytes; not a configuration file", path, CONF_MAX_BYTES);
		return EXIT_INPUT;
	}
	out->path = strdup(path);
	while (rc == EXIT_OK && fgets(line, sizeof(line), f)) {
		char *k, *v, *p;
		const struct option *o;
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			cli_err("%s:%u: line longer than %zu bytes", path, lineno, sizeof(line) - 2);
			rc = EXIT_USAGE;
			break;
		}
		if (lineno > CONF_MAX_LINES) {
			cli_err("%s:%u: more than %d lines", path, lineno, CONF_MAX_LINES);
			rc = EXIT_USAGE;
			break;
		}
		k = trim(line);
		if (!*k || *k == '#')
			continue;
		/* the key runs to white space or '=' */
		for (p = k; *p && *p != '=' && *p != ' ' && *p != '\t'; p++)
			;
		v = p;
		if (*v) {
			*v++ = '\0';
			v = trim(v);
			if (*v == '=')
				v = trim(v + 1);
		}
		if (*v == '"') {
			char *q = strchr(v + 1, '"');
			if (!q || (*trim(q + 1) && *trim(q + 1) != '#')) {
				cli_err("%s:%u: unterminated or trailing text after a quoted value", path,
					lineno);
				rc = EXIT_USAGE;
				break;
			}
			*q = '\0';
			v++;
		} else {
			/* a comment starts at a '#' after white space */
			for (char *h = v; *h; h++)
				if (*h == '#' && h > v && (h[-1] == ' ' || h[-1] == '\t')) {
					*h = '\0';
					break;
				}
			v = trim(v);
		}
		if (!(o = find_opt(opts, k)) || !strcmp(k, "config")) {
			cli_err("%s:%u: unknown setting '%s' (the keys are serve's long options; "
				"see 'schakel help serve')",
				path, lineno, k);
			rc = EXIT_USAGE;
			break;
		}
		if (o->has_arg == no_argument && strcmp(v, "true") && strcmp(v, "false")) {
			cli_err("%s:%u: '%s' is a flag: true or false", path, lineno, k);
			rc = EXIT_USAGE;
			break;
		}
		if (o->has_arg != no_argument && !*v) {
			cli_err("%s:%u: '%s' needs a value", path, lineno, k);
			rc = EXIT_USAGE;
			break;
		}
		cli_conf_entry *ne = realloc(out->e, (out->n + 1) * sizeof(*ne));
		if (!ne) {
			cli_err("out of memory");
			rc = EXIT_INPUT;
			break;
		}
		out->e = ne;
		ne[out->n].key = strdup(k);
		ne[out->n].value = strdup(v);
		if (!ne[out->n].key || !ne[out->n].value) {
			free(ne[out->n].key);
			free(ne[out->n].value);
			cli_err("out of memory");
			rc = EXIT_INPUT;
			break;
		}
		ne[out->n].line = lineno;
		ne[out->n].flag = o->has_arg == no_argument;
		out->n++;
	}
	if (rc == EXIT_OK && ferror(f)) {
		cli_err("%s: %s", path, strerror(errno));
		rc = EXIT_INPUT;
	}
	fclose(f);
	if (rc)
		cli_conf_free(out);
	return rc;
}

const char *cli_conf_take_path(int *argc, char **argv, bool *explicit)
{
	const char *path = NULL;
	*explicit = false;
	for (int i = 1; i < *argc; i++) {
		int take = 0;
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config") && i + 1 < *argc) {
			path = argv[i + 1];
			take = 2;
		} else if (!strncmp(argv[i], "--config=", 9)) {
			path = argv[i] + 9;
			take = 1;
		}
		if (take) {
			memmove(&argv[i], &argv[i + take], (size_t)(*argc - i - take + 1) * sizeof(char *));
			*argc -= take;
			*explicit = true;
			i--;
		}
	}
	if (!path) {
		const char *env = getenv("SCHAKEL_CONFIG");
		path = env && *env ? env : CLI_CONF_DEFAULT;
		if (env && *env)
			*explicit = true;
	}
	return path;
}

int cli_conf_argv(const char *cmd, const struct option *opts, int *argc, char ***argv,
		  cli_conf *conf, char ***owned)
{
	bool explicit;
	const char *path = cli_conf_take_path(argc, *argv, &explicit);
	char **nv;
	int n = 1, rc;

	*owned = NULL;
	memset(conf, 0, sizeof(*conf));
	if (!explicit && access(path, F_OK) != 0)
		return EXIT_OK; /* no default file: nothing to read */
	if ((rc = cli_conf_load(path, opts, conf)))
		return rc;
	/* argv[0], the file's options, then the command line's (the later one wins) */
	if (!(nv = calloc((size_t)*argc + 2 * conf->n + 1, sizeof(char *)))) {
		cli_err("out of memory");
		return EXIT_INPUT;
	}
	nv[0] = (*argv)[0];
	for (size_t i = 0; i < conf->n; i++) {
		const cli_conf_entry *e = &conf->e[i];
		size_t len = strlen(e->key) + strlen(e->value) + 4;
		if (e->flag && !strcmp(e->value, "false"))
			continue;
		if (!(nv[n] = malloc(len))) {
			cli_err("out of memory");
			free(nv);
			return EXIT_INPUT;
		}
		if (e->flag)
			snprintf(nv[n], len, "--%s", e->key);
		else
			snprintf(nv[n], len, "--%s=%s", e->key, e->value);
		n++;
	}
	*owned = nv;
	conf->nowned = (size_t)n;
	for (int i = 1; i < *argc; i++)
		nv[n++] = (*argv)[i];
	nv[n] = NULL;
	(void)cmd;
	*argc = n;
	*argv = nv;
	return EXIT_OK;
}

void cli_conf_argv_free(cli_conf *conf, char **owned)
{
	if (owned) {
		for (size_t i = 1; i < conf->nowned; i++)
			free(owned[i]);
		free(owned);
	}
	cli_conf_free(conf);
}
