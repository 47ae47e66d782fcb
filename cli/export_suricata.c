/*
 * export_suricata.c - `schakel export --format suricata`: the files a
 * Suricata sensor loads to look up the indicators' values (export_ids.c
 * selects and reduces them).
 *
 *   schakel.rules              the rules, sids from --sid-base up
 *   schakel-domains.lst        dataset (string, base64): dns.query, tls.sni, http.host
 *   schakel-filenames.lst      dataset (string): file.name in HTTP and SMTP
 *   schakel-ja3.lst, -ja3s.lst dataset (string): ja3.hash, ja3s.hash
 *   schakel-certs.lst          dataset (string): tls.cert_fingerprint (aa:bb:...)
 *   schakel-useragents.lst     dataset (string): http.user_agent
 *   schakel-md5.txt, -sha1.txt, -sha256.txt
 *                              hash lists for filemd5 / filesha1 / filesha256
 *   schakel-iprep.list, schakel-iprep-categories.txt
 *                              IP reputation (addresses and networks), category 1
 *   one rule per URL           http.host and http.uri.raw, each matched whole
 *
 * Only the files that have values are written.  Datasets and lists are
 * loaded relative to the rules' directory; the IP reputation files are
 * named in suricata.yaml (the summary says how).
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "export_ids.h"
#include "schakel/file.h"

typedef struct sfile {
	const char *name;
	FILE *f;
	size_t n;
} sfile;

enum {
	F_DOMAINS,
	F_FILENAMES,
	F_JA3,
	F_JA3S,
	F_CERTS,
	F_UAS,
	F_MD5,
	F_SHA1,
	F_SHA256,
	F_IPREP,
	F__N
};

static const char *const fnames[F__N] = {
    "schakel-domains.lst", "schakel-filenames.lst",  "schakel-ja3.lst", "schakel-ja3s.lst",
    "schakel-certs.lst",   "schakel-useragents.lst", "schakel-md5.txt", "schakel-sha1.txt",
    "schakel-sha256.txt",  "schakel-iprep.list",
};

static int file_of(ids_type t)
{
	switch (t) {
	case IT_DOMAIN:
		return F_DOMAINS;
	case IT_FILE_NAME:
		return F_FILENAMES;
	case IT_JA3:
		return F_JA3;
	case IT_JA3S:
		return F_JA3S;
	case IT_CERT_SHA1:
		return F_CERTS;
	case IT_USER_AGENT:
		return F_UAS;
	case IT_MD5:
		return F_MD5;
	case IT_SHA1:
		return F_SHA1;
	case IT_SHA256:
		return F_SHA256;
	case IT_ADDR:
	case IT_SUBNET:
		return F_IPREP;
	default:
		return -1;
	}
}

static FILE *open_in(const char *dir, const char *name)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return NULL;
	return sk_fopen_private(path, false);
}

/* A dataset string line: the value in base64. */
static void b64_line(FILE *f, const char *v)
{
	size_t n = strlen(v), cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *b = malloc(cap);
	if (!b)
		return;
	sodium_bin2base64(b, cap, (const unsigned char *)v, n, sodium_base64_VARIANT_ORIGINAL);
	fprintf(f, "%s\n", b);
	free(b);
}

/* The SHA-1 of a certificate as tls.cert_fingerprint writes it: aa:bb:... */
static void cert_line(FILE *f, const char *hex)
{
	char out[3 * 20 + 1];
	size_t o = 0;
	for (size_t i = 0; hex[i] && hex[i + 1] && o + 3 < sizeof(out); i += 2) {
		if (o)
			out[o++] = ':';
		out[o++] = hex[i];
		out[o++] = hex[i + 1];
	}
	out[o] = '\0';
	b64_line(f, out);
}

/* Content of a rule: printable ASCII as is, ", ;, \\, | and the rest as |hh|. */
static void content(FILE *f, const char *s, size_t n)
{
	fputs("content:\"", f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' || c == '|')
			fprintf(f, "|%02X|", c);
		else
			fputc(c, f);
	}
	fputs("\"; ", f);
}

/* One rule per URL: its host (without a port) and its path and query, each whole. */
static void url_rule(FILE *r, const ids_item *it, const ids_ind *ind, unsigned sid)
{
	const char *v = strstr(it->value, "://"), *host, *path, *port;
	size_t hn;
	if (!v)
		return;
	host = v + 3;
	path = host + strcspn(host, "/?");
	port = memchr(host, ':', (size_t)(path - host));
	hn = (size_t)((port ? port : path) - host);
	fprintf(r,
	        "alert http any any -> any any (msg:\"schakel: listed URL (%s)\"; "
	        "flow:established,to_server; http.host; ",
	        ind->id);
	content(r, host, hn);
	fputs(port ? "startswith; " : "startswith; endswith; ", r);
	fputs("http.uri.raw; ", r);
	content(r, *path ? path : "/", *path ? strlen(path) : 1);
	fprintf(r, "startswith; endswith; classtype:trojan-activity; sid:%u; rev:1;)\n", sid);
}

static void dataset_rule(FILE *r, const char *proto, const char *buffer, const char *set,
                         const char *what, unsigned *sid)
{
	fprintf(r,
	        "alert %s any any -> any any (msg:\"schakel: %s\"; %s; dataset:isset,%.*s,type "
	        "string,load %s; classtype:trojan-activity; sid:%u; rev:1;)\n",
	        proto, what, buffer, (int)(strlen(set) - 4), set, set, (*sid)++);
}

static void hash_rule(FILE *r, const char *kw, const char *file, const char *what, unsigned *sid)
{
	static const char *const protos[] = {"http", "smtp"};
	for (int i = 0; i < 2; i++)
		fprintf(
		    r,
		    "alert %s any any -> any any (msg:\"schakel: file with a listed %s\"; %s:%s; "
		    "classtype:trojan-activity; sid:%u; rev:1;)\n",
		    protos[i], what, kw, file, (*sid)++);
}

int ids_write_suricata(const ids_set *s, const char *dir, unsigned sid_base, size_t *values)
{
	sfile fs[F__N] = {{0}};
	FILE *r = NULL;
	unsigned sid = sid_base;
	int rc = EXIT_OK;

	*values = 0;
	if (!dir) {
		cli_err("--format suricata needs --output DIR (the directory of the files)");
		return EXIT_USAGE;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		cli_err("%s: cannot create: %m", dir);
		return EXIT_INPUT;
	}
	if (sodium_init() < 0 || !(r = open_in(dir, "schakel.rules"))) {
		cli_err("%s/schakel.rules: cannot write", dir);
		return EXIT_INPUT;
	}
	fputs("# schakel indicators for Suricata.  The datasets and lists are loaded from\n"
	      "# this directory (keep it the rules' directory).\n",
	      r);
	for (size_t i = 0; i < s->nitems; i++) {
		const ids_item *it = &s->items[i];
		int k = file_of(it->type);
		if (i && s->items[i - 1].type == it->type &&
		    !strcmp(s->items[i - 1].value, it->value))
			continue;
		if (it->type == IT_URL) {
			url_rule(r, it, &s->inds[it->ind], sid++);
			(*values)++;
			continue;
		}
		if (k < 0)
			continue;
		if (!fs[k].f && !(fs[k].f = open_in(dir, fnames[k]))) {
			cli_err("%s/%s: cannot write", dir, fnames[k]);
			rc = EXIT_INPUT;
			break;
		}
		if (k == F_IPREP)
			fprintf(fs[k].f, "%s,1,100\n", it->value);
		else if (k == F_MD5 || k == F_SHA1 || k == F_SHA256)
			fprintf(fs[k].f, "%s\n", it->value);
		else if (k == F_CERTS)
			cert_line(fs[k].f, it->value);
		else
			b64_line(fs[k].f, it->value);
		fs[k].n++;
		(*values)++;
	}
	if (fs[F_DOMAINS].n) {
		dataset_rule(r, "dns", "dns.query", fnames[F_DOMAINS],
		             "DNS query for a listed domain", &sid);
		dataset_rule(r, "tls", "tls.sni", fnames[F_DOMAINS], "TLS SNI of a listed domain",
		             &sid);
		dataset_rule(r, "http", "http.host", fnames[F_DOMAINS],
		             "HTTP Host of a listed domain", &sid);
	}
	if (fs[F_FILENAMES].n) {
		dataset_rule(r, "http", "file.name", fnames[F_FILENAMES], "listed file name (HTTP)",
		             &sid);
		dataset_rule(r, "smtp", "file.name", fnames[F_FILENAMES], "listed file name (SMTP)",
		             &sid);
	}
	if (fs[F_JA3].n)
		dataset_rule(r, "tls", "ja3.hash", fnames[F_JA3], "listed JA3 client", &sid);
	if (fs[F_JA3S].n)
		dataset_rule(r, "tls", "ja3s.hash", fnames[F_JA3S], "listed JA3S server", &sid);
	if (fs[F_CERTS].n)
		dataset_rule(r, "tls", "tls.cert_fingerprint", fnames[F_CERTS],
		             "listed certificate (SHA-1)", &sid);
	if (fs[F_UAS].n)
		dataset_rule(r, "http", "http.user_agent", fnames[F_UAS], "listed User-Agent",
		             &sid);
	if (fs[F_MD5].n)
		hash_rule(r, "filemd5", fnames[F_MD5], "MD5", &sid);
	if (fs[F_SHA1].n)
		hash_rule(r, "filesha1", fnames[F_SHA1], "SHA-1", &sid);
	if (fs[F_SHA256].n)
		hash_rule(r, "filesha256", fnames[F_SHA256], "SHA-256", &sid);
	if (fs[F_IPREP].n) {
		FILE *c = open_in(dir, "schakel-iprep-categories.txt");
		if (c) {
			fputs("1,schakel,indicators exported by schakel\n", c);
			if (fclose(c))
				rc = EXIT_INPUT;
		} else {
			rc = EXIT_INPUT;
		}
		fprintf(
		    r,
		    "alert ip any any -> any any (msg:\"schakel: traffic with a listed address\"; "
		    "iprep:any,schakel,>,0; classtype:trojan-activity; sid:%u; rev:1;)\n",
		    sid++);
		fprintf(stderr,
		        "schakel: suricata: IP reputation: in suricata.yaml set "
		        "reputation-categories-file "
		        "to %s/schakel-iprep-categories.txt and add %s/schakel-iprep.list to "
		        "reputation-files\n",
		        dir, dir);
	}
	for (int k = 0; k < F__N; k++)
		if (fs[k].f && fclose(fs[k].f)) {
			cli_err("%s/%s: write error", dir, fnames[k]);
			rc = EXIT_INPUT;
		}
	if (fclose(r)) {
		cli_err("%s/schakel.rules: write error", dir);
		rc = EXIT_INPUT;
	}
	return rc;
}
