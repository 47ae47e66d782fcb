/*
 * cmd_pattern.c - `schakel pattern check`: parse a STIX pattern, say whether
 * it is valid (and where it is not), or print its tree as JSON.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schakel/pattern.h"

/* Read all of stdin, at most SK_PATTERN_MAX_LEN + 1 bytes (so the parser can say it is too long).
 */
static char *read_stdin(size_t *len)
{
	size_t cap = SK_PATTERN_MAX_LEN + 2, n = 0, got;
	char *buf = malloc(cap);

	if (!buf)
		return NULL;
	while (n < cap - 1 && (got = fread(buf + n, 1, cap - 1 - n, stdin)) > 0)
		n += got;
	if (ferror(stdin)) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Show the line of the pattern around off with a caret under it, when it is short enough. */
static void show_position(const char *text, size_t len, size_t off)
{
	size_t start = off, end = off;

	if (off > len)
		return;
	while (start > 0 && text[start - 1] != '\n' && text[start - 1] != '\r')
		start--;
	while (end < len && text[end] != '\n' && text[end] != '\r')
		end++;
	if (end - start > 160)
		return;
	fprintf(stderr, "  %.*s\n  ", (int)(end - start), text + start);
	for (size_t i = start; i < off; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c & 0xC0) == 0x80)
			continue; /* one column per character, not per byte */
		fputc(c == '\t' ? '\t' : ' ', stderr);
	}
	fputs("^\n", stderr);
}

static int check(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"spec-version", required_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	bool json = false;
	const char *spec = "2.1";
	char *owned = NULL;
	const char *text;
	size_t len;
	sk_pattern *pat = NULL;
	sk_error err;
	sk_err rc;
	int c, exit_code = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 's') {
			if (strcmp(optarg, "2.0") && strcmp(optarg, "2.1"))
				return cli_usage("pattern", "--spec-version: 2.0 or 2.1");
			spec = optarg;
		} else {
			return cli_usage("pattern", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage("pattern",
		                 "expected one PATTERN argument (quote it, or give '-' for stdin)");
	if (!strcmp(argv[optind], "-")) {
		owned = read_stdin(&len);
		if (!owned) {
			cli_err("<stdin>: cannot read the pattern");
			return EXIT_INPUT;
		}
		text = owned;
	} else {
		text = argv[optind];
		len = strlen(text);
	}

	rc = sk_pattern_parse_spec(text, len, spec, &pat, &err);
	if (rc) {
		const char *p = strstr(err.msg, "pattern offset ");
		cli_err("invalid pattern: %s", err.msg);
		if (p == err.msg)
			show_position(text, len, strtoul(p + 15, NULL, 10));
		exit_code = EXIT_INPUT;
		goto out;
	}
	if (json) {
		json_t *tree = NULL;
		if (sk_pattern_to_json(pat, &tree) != SK_OK) {
			cli_err("out of memory");
			exit_code = EXIT_INPUT;
			goto out;
		}
		json_dumpf(tree, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(tree);
	} else {
		sk_pattern_counts n;
		sk_pattern_count(pat, &n);
		printf("valid pattern: %u observation expression%s, %u comparison%s\n",
		       n.observations, n.observations == 1 ? "" : "s", n.comparisons,
		       n.comparisons == 1 ? "" : "s");
	}
out:
	sk_pattern_free(pat);
	free(owned);
	return exit_code;
}

int cmd_pattern(cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	if (argc < 2)
		return cli_usage("pattern", "missing subcommand (check)");
	if (!strcmp(argv[1], "check"))
		return check(argc - 1, argv + 1);
	return cli_usage("pattern", "unknown subcommand '%s'", argv[1]);
}
