/*
 * cmd_scan.c - `schakel scan`: compile the node's current indicators into a
 * matcher and run it over log files; hits as JSON lines, a summary on
 * stderr, sightings in the store.  The contract is docs/matcher.md (and
 * scan-contract.md it was written from).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "scan.h"
#include "schakel/json.h"
#include "schakel/logread.h"
#include "schakel/psl.h"
#include "schakel/timestamp.h"
#include "schakel/warninglist.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

typedef struct load_ctx {
	scan_state *ss;
	sk_matcher *m;
	int64_t at;
	bool quiet;
	uint32_t unsupported, expired, other_type, suppressed;
} load_ctx;

/*
 * One current indicator from the store's side table: checks its pattern
 * type and validity window, compiles it, and keeps only its row id (the
 * metadata is read on its first hit).
 */
static int on_indicator(void *ud, const sk_ind_row *r)
{
	load_ctx *lc = ud;
	scan_state *ss = lc->ss;
	char key[SK_TS_KEY_LEN + 1];
	int64_t t;
	sk_error err;
	sk_err rc;
	uint32_t idx;

	if ((r->pattern_type && strcmp(r->pattern_type, "stix")) || !r->pattern) {
		lc->other_type++;
		return 0;
	}
	if ((r->valid_from && sk_ts_parse(r->valid_from, strlen(r->valid_from), key, &t) &&
	     t > lc->at) ||
	    (r->valid_until && sk_ts_parse(r->valid_until, strlen(r->valid_until), key, &t) &&
	     t <= lc->at)) {
		lc->expired++;
		return 0;
	}
	rc = sk_matcher_add(lc->m, r->pattern, r->pattern_len, r->subdomains ? SK_MATCH_SUBDOMAINS : 0,
			    &idx, &err);
	if (rc == SK_ESUPPRESSED) {
		lc->suppressed++;
		if (!lc->quiet)
			fprintf(stderr,
				"schakel: %s: %s; suppressed (use --no-warninglists to keep it)\n",
				r->id, err.msg);
		return 0;
	}
	if (rc) {
		fprintf(stderr, "schakel: %s: cannot match: %s\n", r->id, err.msg);
		lc->unsupported++;
		return 0;
	}
	if (idx >= ss->indcap) {
		uint32_t nc = ss->indcap ? ss->indcap * 2 : 1024;
		scan_ind *ni = realloc(ss->inds, nc * sizeof(*ni));
		if (!ni)
			return 1;
		ss->inds = ni;
		ss->indcap = nc;
	}
	scan_ind *si = &ss->inds[idx];
	memset(si, 0, sizeof(*si));
	si->ver = r->ver;
	ss->ninds = idx + 1;
	return 0;
}

typedef struct scan_opts {
	sk_logread_opts lo;
	bool quiet, no_sightings, subdomains, no_warninglists;
	unsigned threads;
	const char *output, *collection;
	int64_t at;
} scan_opts;

typedef struct totals {
	uint64_t records, bytes, malformed;
} totals;

static void emit_record_hits(scan_state *ss, sk_match_state *mst, const sk_logrec *rec,
			     const sk_match_hit *hits, size_t nh, const char *fname,
			     uint32_t fileno, const char *const *files, bool *werr)
{
	uint32_t last_ind = UINT32_MAX;
	for (size_t i = 0; i < nh; i++) {
		const sk_match_hit *h = &hits[i];
		scan_hit sh = {.ind = h->ind,
			       .ts_us = rec->ts_us,
			       .file = fname,
			       .line = rec->line,
			       .offset = rec->offset,
			       .files = files};
		if (h->ind == last_ind)
			continue; /* at most one hit per indicator per record */
		if (h->obs) {
			sk_match_ref ref = {fileno, rec->line, rec->ts_us};
			const sk_match_ref *refs;
			size_t nrefs;
			if (!sk_match_state_feed(mst, h, &ref, &refs, &nrefs))
				continue;
			sh.refs = refs;
			sh.nrefs = nrefs;
		}
		if (h->value != UINT32_MAX && h->value < rec->n) {
			const sk_obs *o = &rec->obs[h->value];
			sh.field = o->field;
			sh.kind = sk_obs_kind_name((sk_obs_kind)o->kind);
			sh.value = o->v;
			sh.value_len = o->len;
		}
		last_ind = h->ind;
		if (scan_emit(ss, &sh))
			*werr = true;
	}
}

static int scan_file(scan_state *ss, const scan_opts *so, sk_match_ctx *mc, sk_match_state *mst,
		     const char *path, uint32_t fileno, const char *const *files, totals *tot)
{
	sk_logread *lr = NULL;
	const sk_logrec *rec;
	sk_error err;
	sk_err rc;
	bool werr = false;

	if ((rc = sk_logread_open(path, &so->lo, &lr, &err))) {
		cli_err("%s: %s", path, err.msg);
		return EXIT_INPUT;
	}
	while ((rc = sk_logread_next(lr, &rec, &err)) == SK_OK && rec) {
		const sk_match_hit *hits;
		size_t nh = sk_match_record(mc, rec, &hits);
		if (nh)
			emit_record_hits(ss, mst, rec, hits, nh, path, fileno, files, &werr);
		if (so->lo.follow && !nh)
			continue;
		if (so->lo.follow)
			fflush(ss->out);
	}
	const sk_logread_stats *st = sk_logread_stats_get(lr);
	tot->records += st->records;
	tot->bytes += st->bytes;
	tot->malformed += st->malformed;
	if (st->malformed && !so->quiet) {
		fprintf(stderr, "schakel: %s: %llu unparsable line(s):", path,
			(unsigned long long)st->malformed);
		for (unsigned i = 0; i < st->n_bad; i++)
			fprintf(stderr, " %llu", (unsigned long long)st->bad[i].line);
		if (st->malformed > st->n_bad)
			fputs(" ...", stderr);
		fputc('\n', stderr);
		for (unsigned i = 0; i < st->n_bad && i < 3; i++)
			fprintf(stderr, "schakel: %s:%llu: %s\n", path,
				(unsigned long long)st->bad[i].line, st->bad[i].reason);
	}
	sk_logread_close(lr);
	if (rc) {
		cli_err("%s: %s", path, err.msg);
		return EXIT_INPUT;
	}
	if (werr) {
		cli_err("writing the output failed");
		return EXIT_INPUT;
	}
	return EXIT_OK;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int cmd_scan(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"csv-map", required_argument, NULL, 'm'},
	    {"follow", no_argument, NULL, 'F'},
	    {"threads", required_argument, NULL, 'j'},
	    {"at", required_argument, NULL, 'a'},
	    {"subdomains", no_argument, NULL, 's'},
	    {"no-warninglists", no_argument, NULL, 'W'},
	    {"output", required_argument, NULL, 'o'},
	    {"no-sightings", no_argument, NULL, 'N'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"collection", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	scan_opts so = {.threads = 0};
	scan_state ss = {0};
	load_ctx lc = {0};
	sk_matcher *m = NULL;
	sk_match_ctx *mc = NULL;
	sk_match_state *mst = NULL;
	sk_psl *psl = NULL;
	sk_wl_set *wl = NULL;
	sk_error err;
	totals tot = {0};
	int c, exit_code = EXIT_OK;
	double t0, t1;

	so.at = sk_ts_now_us();
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", lopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!sk_logfmt_parse(optarg, &so.lo.format))
				return cli_usage("scan", "unknown format '%s'", optarg);
			break;
		case 'm':
			so.lo.csv_map = optarg;
			break;
		case 'F':
			so.lo.follow = true;
			break;
		case 'j': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 256)
				return cli_usage("scan", "--threads needs a number from 1 to 256");
			so.threads = (unsigned)n;
			break;
		}
		case 'a':
			if (!cli_parse_ts_us(optarg, &so.at))
				return cli_usage("scan", "--at needs an RFC 3339 timestamp");
			break;
		case 's':
			so.subdomains = true;
			break;
		case 'W':
			so.no_warninglists = true;
			break;
		case 'o':
			so.output = optarg;
			break;
		case 'N':
			so.no_sightings = true;
			break;
		case 'q':
			so.quiet = true;
			break;
		case 'c':
			so.collection = optarg;
			break;
		default:
			return cli_usage("scan", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage("scan", "expected at least one FILE ('-' for stdin)");
	if (so.lo.follow && argc - optind != 1)
		return cli_usage("scan", "--follow takes exactly one FILE");

	ss.st = cli_open_store(ctx, so.no_sightings ? SK_STORE_READONLY : 0);
	if (!ss.st)
		return EXIT_INPUT;
	if (sk_store_node_id(ss.st, &ss.node_id, &err)) {
		cli_err("%s", err.msg);
		exit_code = EXIT_INPUT;
		goto out;
	}
	sk_buf_init(&ss.line, 0);
	if (sk_psl_load(NULL, &psl, &err))
		psl = NULL; /* fallback: the last label is the public suffix */
	so.lo.psl = psl;
	so.lo.stop = so.lo.follow ? &stop_flag : NULL;

	/* compile */
	t0 = now_s();
	sk_match_opts mo = {.subdomains = so.subdomains, .psl = psl};
	lc.ss = &ss;
	lc.at = so.at;
	lc.quiet = so.quiet;
	if (!so.no_warninglists) {
		if (sk_warninglist_load(ss.st, &wl, &err)) {
			cli_err("%s", err.msg);
			exit_code = EXIT_INPUT;
			goto out;
		}
		if (sk_warninglist_count(wl, NULL))
			mo.warninglists = wl; /* none imported: nothing to check */
	}
	if (sk_matcher_new(&mo, &m, &err)) {
		cli_err("out of memory");
		exit_code = EXIT_INPUT;
		goto out;
	}
	lc.m = m;
	if (sk_store_indicator_rows(ss.st, on_indicator, &lc, &err) ||
	    sk_matcher_build(m, &err) || sk_match_ctx_new(m, &mc, &err) ||
	    sk_match_state_new(m, 0, &mst, &err)) {
		cli_err("%s", err.msg);
		exit_code = EXIT_INPUT;
		goto out;
	}
	sk_warninglist_free(wl);
	wl = NULL;
	if (!so.quiet) {
		sk_matcher_stats ms;
		sk_matcher_stats_get(m, &ms);
		fprintf(stderr,
			"schakel: %u indicators compiled in %.2f s (%u exact keys, %u prefixes, %u "
			"regexes, %u generic, %u multi-observation); %u cannot be matched, %u "
			"outside their validity window, %u not STIX patterns, %u on warning "
			"lists%s\n",
			ms.indicators, now_s() - t0, ms.exact_keys, ms.prefixes, ms.regexes,
			ms.generic, ms.multi, lc.unsupported, lc.expired, lc.other_type,
			lc.suppressed, so.no_warninglists ? " (not checked: --no-warninglists)" : "");
		fprintf(stderr,
			"schakel: matcher %.1f MiB, %.0f bytes per indicator (%u compiled directly, "
			"index %.1f MiB)\n",
			(double)ms.bytes / 1048576.0,
			ms.indicators ? (double)ms.bytes / ms.indicators : 0.0, ms.direct,
			(double)ms.bytes_exact / 1048576.0);
	}

	if (so.output) {
		ss.out = fopen(so.output, "w");
		if (!ss.out) {
			cli_err("%s: cannot open for writing", so.output);
			exit_code = EXIT_INPUT;
			goto out;
		}
	} else {
		ss.out = stdout;
	}
	if (so.lo.follow) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
	}

	t1 = now_s();
	for (int i = optind; i < argc; i++) {
		int rc = scan_file(&ss, &so, mc, mst, argv[i], (uint32_t)(i - optind),
				   (const char *const *)argv + optind, &tot);
		if (rc)
			exit_code = rc;
	}
	if (ss.out != stdout && fclose(ss.out)) {
		cli_err("%s: write failed", so.output);
		exit_code = EXIT_INPUT;
	} else if (ss.out == stdout) {
		fflush(stdout);
	}
	ss.out = NULL;

	if (!so.quiet) {
		double dt = now_s() - t1;
		fprintf(stderr,
			"schakel: %llu records, %llu bytes in %.2f s (%.3f GB/s), %llu hits, %llu "
			"unparsable lines\n",
			(unsigned long long)tot.records, (unsigned long long)tot.bytes, dt,
			dt > 0 ? (double)tot.bytes / dt / 1e9 : 0.0, (unsigned long long)ss.hits,
			(unsigned long long)tot.malformed);
		for (uint32_t i = 0; i < ss.ninds; i++)
			if (ss.inds[i].hits)
				fprintf(stderr, "schakel:   %8llu  %s%s%s\n",
					(unsigned long long)ss.inds[i].hits, ss.inds[i].id,
					ss.inds[i].name ? "  " : "",
					ss.inds[i].name ? ss.inds[i].name : "");
	}
	if (!so.no_sightings && ss.hits) {
		int rc = scan_write_sightings(&ss, so.collection);
		if (rc)
			exit_code = rc;
	}
out:
	if (ss.out && ss.out != stdout)
		fclose(ss.out);
	sk_warninglist_free(wl);
	sk_match_state_free(mst);
	sk_match_ctx_free(mc);
	sk_matcher_free(m);
	sk_psl_free(psl);
	scan_state_clear(&ss);
	sk_store_close(ss.st);
	return exit_code;
}
