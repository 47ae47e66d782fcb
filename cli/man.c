/*
 * man.c - manual pages generated from the help texts (`schakel help --man`),
 * so the pages and `schakel help COMMAND` are one source and cannot drift.
 *
 * schakel(1) lists the commands with their summaries; schakel-COMMAND(1)
 * has the command's usage line as its synopsis and the rest of its help text,
 * kept as laid out (the help texts are aligned tables), as its description.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define MAN_DATE    "2026-12-07"
#define MAN_VERSION "schakel 0.1.0"

/* Write s with roff's special characters escaped; a line never starts with a request. */
static void roff_text(FILE *f, const char *s, size_t n)
{
	bool bol = true;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (bol && (ch == '.' || ch == '\''))
			fputs("\\&", f);
		if (ch == '\\')
			fputs("\\e", f);
		else if (ch == '-')
			fputs("\\-", f);
		else
			fputc(ch, f);
		bol = ch == '\n';
	}
	if (!bol)
		fputc('\n', f);
}

static void man_page_main(FILE *f)
{
	fprintf(f, ".TH SCHAKEL 1 \"%s\" \"%s\" \"schakel manual\"\n", MAN_DATE, MAN_VERSION);
	fputs(".SH NAME\nschakel \\- federated threat\\-intelligence sharing and early\\-warning "
	      "node\n.SH SYNOPSIS\n.B schakel\n[\\fB\\-\\-db\\fR \\fIPATH\\fR] \\fICOMMAND\\fR "
	      "[\\fIARGS\\fR...]\n.SH DESCRIPTION\nschakel keeps a node's STIX threat "
	      "intelligence, shares it with partners over TAXII 2.1 under TLP, and matches it "
	      "against logs.\n.SH COMMANDS\n",
	      f);
	for (const cli_cmd *c = cli_commands; c->name; c++) {
		fprintf(f, ".TP\n.BR schakel\\-%s (1)\n", c->name);
		roff_text(f, c->summary, strlen(c->summary));
	}
	fputs(".SH OPTIONS\n.TP\n\\fB\\-\\-db\\fR \\fIPATH\\fR\nnode database (default "
	      "\\fB$SCHAKEL_DB\\fR or \\fI./schakel.db\\fR)\n.SH EXIT STATUS\n0 success, 1 a "
	      "problem with the input (the message names the file, line, byte offset and object "
	      "id), 2 a usage error; \\fBimport\\fR and \\fBfeed import\\fR exit 3 when some items "
	      "were rejected and the rest stored.\n.SH ENVIRONMENT\n.TP\n.B SCHAKEL_DB\nthe node "
	      "database when \\fB\\-\\-db\\fR is not given\n",
	      f);
}

static void man_page_cmd(FILE *f, const cli_cmd *c)
{
	const char *u = c->usage, *nl = strchr(u, '\n');
	size_t first = nl ? (size_t)(nl - u) : strlen(u);

	fputs(".TH SCHAKEL\\-", f);
	for (const char *p = c->name; *p; p++)
		fputc(*p >= 'a' && *p <= 'z' ? *p - 32 : *p, f);
	fprintf(f, " 1 \"%s\" \"%s\" \"schakel manual\"\n", MAN_DATE, MAN_VERSION);
	fprintf(f, ".SH NAME\nschakel\\-%s \\- ", c->name);
	roff_text(f, c->summary, strlen(c->summary));
	fputs(".SH SYNOPSIS\n.nf\n", f);
	if (!strncmp(u, "usage: ", 7)) {
		u += 7;
		first -= 7;
	}
	/* the usage may continue on indented lines */
	const char *end = u + first;
	while (*end == '\n' && end[1] == ' ') {
		const char *n2 = strchr(end + 1, '\n');
		end = n2 ? n2 : end + strlen(end);
	}
	roff_text(f, u, (size_t)(end - u));
	fputs(".fi\n", f);
	while (*end == '\n')
		end++;
	if (*end) {
		fputs(".SH DESCRIPTION\n.nf\n", f);
		roff_text(f, end, strlen(end));
		fputs(".fi\n", f);
	}
	fputs(".SH SEE ALSO\n.BR schakel (1)\n", f);
}

int cli_man(const char *cmd)
{
	const cli_cmd *c;

	if (!cmd) {
		man_page_main(stdout);
		return EXIT_OK;
	}
	if (!(c = cli_find(cmd))) {
		cli_err("no such command: %s", cmd);
		return EXIT_USAGE;
	}
	man_page_cmd(stdout, c);
	return EXIT_OK;
}

int cli_man_all(const char *dir)
{
	char path[4096];
	FILE *f;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		cli_err("%s: %s", dir, strerror(errno));
		return EXIT_INPUT;
	}
	for (const cli_cmd *c = cli_commands;; c++) {
		snprintf(path, sizeof(path), "%s/schakel%s%s.1", dir, c->name ? "-" : "",
		         c->name ? c->name : "");
		if (!(f = fopen(path, "w"))) {
			cli_err("%s: %s", path, strerror(errno));
			return EXIT_INPUT;
		}
		if (c->name)
			man_page_cmd(f, c);
		else
			man_page_main(f);
		if (fclose(f)) {
			cli_err("%s: %s", path, strerror(errno));
			return EXIT_INPUT;
		}
		if (!c->name)
			break;
	}
	return EXIT_OK;
}
