/*
 * cmd_scan.c - `schakel scan`: compile the node's current indicators into a
 * matcher and run it over log files; hits as JSON lines, a summary on
 * stderr, sightings in the store.  The contract is docs/matcher.md (and
 * scan-contract.md it was written from).
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "scan.h"
#include "schakel/file.h"
#include "schakel/hashed.h"
#include "schakel/indload.h"
#include "schakel/logread.h"
#include "schakel/psl.h"
#include "schakel/timestamp.h"
#include "schakel/warninglist.h"

static atomic_int stop_flag; /* lock-free: a signal handler may store it */

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, 1);
}

typedef struct load_ctx {
	scan_state *ss;
	scan_cache *cache;
	uint32_t vercap;
	bool quiet;
} load_ctx;

/*
 * One compiled indicator: keep only its row id (the metadata is read on its
 * first hit).
 */
static int on_added(void *ud, uint32_t idx, const sk_ind_row *r, int64_t until)
{
	load_ctx *lc = ud;
	scan_state *ss = lc->ss;
	if (idx >= lc->vercap) {
		uint32_t nc = lc->vercap ? lc->vercap * 2 : 1024;
		while (nc <= idx)
			nc *= 2;
		int64_t *nv = realloc(ss->vers_own, nc * sizeof(*nv));
		if (!nv)
			return 1;
		ss->vers = ss->vers_own = nv;
		if (!(nv = realloc(ss->untils_own, nc * sizeof(*nv))))
			return 1;
		ss->untils_own = nv;
		lc->vercap = nc;
	}
	ss->vers_own[idx] = r->ver;
	ss->untils_own[idx] = until;
	ss->ninds = idx + 1;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void on_skipped(void *ud, const sk_ind_row *r, sk_indload_skip why, const char *msg)
{
	load_ctx *lc = ud;
	if (why == SK_INDLOAD_UNSUPPORTED && sk_hashed_pattern(r->pattern, r->pattern_len))
		return; /* scan_hashed.c reports it */
	scan_cache_skipped(lc->cache, why, r->id, msg, lc->quiet);
}

typedef struct scan_opts {
	sk_logread_opts lo;
	bool quiet, no_sightings, subdomains, no_warninglists, no_cache, no_decay;
	unsigned threads;
	unsigned sightings_every; /* --follow: seconds between sighting writes */
	const char *output, *collection;
	int64_t at;
} scan_opts;

typedef struct totals {
	uint64_t records, bytes, malformed;
} totals;

/* One per-record result ready to emit, whichever thread matched it. */
typedef struct scan_rhit {
	uint32_t ind, obs;
	uint8_t kind;      /* sk_obs_kind of the value */
	bool has_value;    /* false: no single value stands for the match */
	const char *field; /* borrowed */
	const char *value;
	size_t value_len;
} scan_rhit;

/* What the emitting (main) thread needs besides the hits. */
typedef struct emit_ctx {
	scan_state *ss;
	sk_match_state *mst;
	scan_cache *cache; /* base + delta: which matcher a hit is from, masked base hits */
	const scan_opts *so;
	const char *fname;
	uint32_t fileno;
	const char *const *files;
	bool werr;
	double next_sighting; /* --follow: monotonic time of the next sighting write */
	int sight_rc;
} emit_ctx;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * Emit the hits of one record (sorted by indicator, then observation):
 * single-observation results print at once, multi-observation ones go
 * through the stream state in record order.  Both the sequential and the
 * threaded paths come here, which is what makes their output identical.
 */
static void emit_hits(emit_ctx *ec, uint64_t line, uint64_t offset, int64_t ts_us,
                      const scan_rhit *hits, size_t nh)
{
	uint32_t last_ind = UINT32_MAX;
	for (size_t i = 0; i < nh; i++) {
		const scan_rhit *h = &hits[i];
		sk_hit sh = {.ts_us = ts_us,
		             .file = ec->fname,
		             .line = line,
		             .offset = offset,
		             .files = ec->files};
		sk_match_state *mst = ec->mst;
		uint32_t local;
		if (h->ind == last_ind)
			continue; /* at most one hit per indicator per record */
		if (scan_cache_route(ec->cache, ec->ss, h->ind, &local, &mst))
			continue; /* the delta holds a newer version (or its revocation) */
		if (h->obs) {
			sk_match_hit mh = {.ind = local, .obs = h->obs, .value = 0};
			sk_match_ref ref = {ec->fileno, line, ts_us};
			const sk_match_ref *refs;
			size_t nrefs;
			if (!sk_match_state_feed(mst, &mh, &ref, &refs, &nrefs))
				continue;
			sh.refs = refs;
			sh.nrefs = nrefs;
		}
		if (h->has_value) {
			sh.field = h->field;
			sh.kind = sk_obs_kind_name((sk_obs_kind)h->kind);
			sh.value = h->value;
			sh.value_len = h->value_len;
		}
		last_ind = h->ind;
		if (scan_emit(ec->ss, h->ind, &sh))
			ec->werr = true;
	}
}

static void emit_record(emit_ctx *ec, const sk_logrec *rec, const sk_match_hit *hits, size_t nh)
{
	scan_rhit rh[64], *v = nh <= 64 ? rh : malloc(nh * sizeof(*v));
	if (!v)
		return;
	for (size_t i = 0; i < nh; i++) {
		const sk_match_hit *h = &hits[i];
		v[i] = (scan_rhit){.ind = h->ind, .obs = h->obs};
		if (h->value != UINT32_MAX && h->value < rec->n) {
			const sk_obs *o = &rec->obs[h->value];
			v[i].has_value = true;
			v[i].kind = o->kind;
			v[i].field = o->field;
			v[i].value = o->v;
			v[i].value_len = o->len;
		}
	}
	emit_hits(ec, rec->line, rec->offset, rec->ts_us, v, nh);
	if (v != rh)
		free(v);
}

/* --follow: store the sightings every so often (also while the file is idle). */
static void maybe_sightings(emit_ctx *ec, bool force)
{
	double t;
	if (ec->so->no_sightings || !ec->so->lo.follow)
		return;
	t = now_s();
	if (!force && t < ec->next_sighting)
		return;
	ec->next_sighting = t + ec->so->sightings_every;
	fflush(ec->ss->out);
	if (scan_write_sightings(ec->ss, ec->so->collection))
		ec->sight_rc = EXIT_INPUT;
}

static void on_idle(void *ud)
{
	emit_ctx *ec = ud;
	fflush(ec->ss->out);
	maybe_sightings(ec, false);
}

static void show_progress(const scan_opts *so, const char *name, uint64_t pos, uint64_t size,
                          uint64_t records)
{
	if (!so->quiet)
		cli_progress_line(name, pos, size, records, "records");
}

/* Add a chunk's (or a file's) reader stats to the file's, bad lines shifted by base. */
static void stats_add(sk_logread_stats *f, const sk_logread_stats *c, uint64_t base)
{
	f->lines += c->lines;
	f->records += c->records;
	f->malformed += c->malformed;
	for (unsigned i = 0; i < c->n_bad && f->n_bad < SK_LOGREAD_BAD_MAX; i++) {
		f->bad[f->n_bad] = c->bad[i];
		f->bad[f->n_bad++].line += base;
	}
}

/* --- sequential scanning (one thread; always used with --follow) -------- */

static sk_err scan_seq(emit_ctx *ec, scan_mctx *mc, sk_logread_stats *fst, sk_error *err)
{
	const scan_opts *so = ec->so;
	sk_logread_opts lo = so->lo;
	sk_logread *lr = NULL;
	const sk_logrec *rec;
	sk_err rc;
	uint64_t n = 0, pos, size;

	lo.on_idle = on_idle;
	lo.idle_ud = ec;
	if ((rc = sk_logread_open(ec->fname, &lo, &lr, err)))
		return rc;
	while ((rc = sk_logread_next(lr, &rec, err)) == SK_OK && rec) {
		const sk_match_hit *hits;
		sk_logsrc_note(&ec->ss->src, sk_logread_format(lr), rec);
		size_t nh = scan_mctx_record(mc, rec, &hits);
		nh = sk_hmatch_merge(ec->ss->hm, ec->ss->hc, rec, &hits, nh);
		if (nh)
			emit_record(ec, rec, hits, nh);
		if ((++n & 4095) == 0) {
			sk_logread_raw_pos(lr, &pos, &size);
			show_progress(so, ec->fname, pos, size, n);
			maybe_sightings(ec, false);
		}
		if (so->lo.follow && nh)
			fflush(ec->ss->out);
	}
	const sk_logread_stats *st = sk_logread_stats_get(lr);
	stats_add(fst, st, 0);
	fst->bytes = st->bytes;
	sk_logread_close(lr);
	return rc;
}

/* --- threaded scanning --------------------------------------------------- */

/*
 * One reader thread cuts the input into chunks of whole lines (and inflates
 * .gz / reads stdin); N workers parse and match chunks, each with its own
 * reader state and match context; the main thread takes the results in
 * chunk order, runs the observation state machine and prints.  A ring of
 * 2N + 2 slots bounds memory; one mutex and condition variable guard the
 * slot states (they change once per chunk, so they are not contended).
 */
enum { SL_FREE, SL_READY, SL_WORKING, SL_DONE };

typedef struct wrec {
	uint64_t line, offset; /* line: 1-based within the chunk */
	int64_t ts_us;
	uint32_t first, n; /* hits[first .. first + n) */
} wrec;

typedef struct whit {
	uint32_t ind, obs;
	uint32_t field, value; /* offsets in txt; value UINT32_MAX = none */
	uint32_t value_len;
	uint8_t kind;
} whit;

typedef struct pslot {
	sk_logchunk ch;
	int state;
	wrec *recs;
	uint32_t nrec, reccap;
	whit *hits;
	uint32_t nhit, hitcap;
	char *txt;
	size_t ntxt, txtcap;
	sk_logread_stats st;
	sk_logsrc_tally src; /* the chunk's records per log source */
	bool oom;
} pslot;

typedef struct spipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pslot *slots;
	unsigned nslots;
	uint64_t produced, next_work;
	bool prod_done, abort;
	sk_err prod_rc;
	sk_error prod_err;
	sk_logread *lr;
	size_t target;
} spipe;

typedef struct sworker {
	spipe *p;
	sk_logread *lr;
	scan_mctx *mc;
	const sk_hmatch *hm; /* hashed indicators (may be NULL) */
	sk_hmatch_ctx *hc;
	pthread_t th;
} sworker;

static void *producer_main(void *arg)
{
	spipe *p = arg;
	for (uint64_t seq = 0;; seq++) {
		pslot *sl = &p->slots[seq % p->nslots];
		sk_error err;
		pthread_mutex_lock(&p->mu);
		while (sl->state != SL_FREE && !p->abort)
			pthread_cond_wait(&p->cv, &p->mu);
		bool ab = p->abort;
		pthread_mutex_unlock(&p->mu);
		if (ab)
			break;
		sk_err rc = sk_logread_chunk(p->lr, &sl->ch, p->target, &err);
		pthread_mutex_lock(&p->mu);
		if (rc) {
			p->prod_rc = rc;
			p->prod_err = err;
			p->prod_done = true;
		} else {
			sl->state = SL_READY;
			p->produced = seq + 1;
			p->prod_done = sl->ch.end;
		}
		pthread_cond_broadcast(&p->cv);
		bool done = p->prod_done;
		pthread_mutex_unlock(&p->mu);
		if (done)
			break;
	}
	return NULL;
}

/* Copy n bytes (plus a NUL) into the slot's text arena; UINT32_MAX when out of memory. */
static uint32_t txt_put(pslot *sl, const char *s, size_t n)
{
	if (sl->ntxt + n + 1 > sl->txtcap) {
		size_t nc = sl->txtcap ? sl->txtcap : 4096;
		while (sl->ntxt + n + 1 > nc)
			nc *= 2;
		char *t = nc <= UINT32_MAX ? realloc(sl->txt, nc) : NULL;
		if (!t) {
			sl->oom = true;
			return UINT32_MAX;
		}
		sl->txt = t;
		sl->txtcap = nc;
	}
	uint32_t off = (uint32_t)sl->ntxt;
	memcpy(sl->txt + off, s, n);
	sl->txt[off + n] = '\0';
	sl->ntxt += n + 1;
	return off;
}

#define GROW(arr, n, cap, sl)                                                                      \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			uint32_t nc_ = (cap) ? (cap)*2 : 256;                                      \
			void *na_ = realloc((arr), nc_ * sizeof(*(arr)));                          \
			if (!na_) {                                                                \
				(sl)->oom = true;                                                  \
				goto full;                                                         \
			}                                                                          \
			(arr) = na_;                                                               \
			(cap) = nc_;                                                               \
		}                                                                                  \
	} while (0)

static void work_chunk(sworker *w, pslot *sl)
{
	const sk_logrec *rec;
	sk_error err;

	sl->nrec = sl->nhit = 0;
	sl->ntxt = 0;
	sl->oom = false;
	sk_logsrc_init(&sl->src);
	if (sk_logread_bind(w->lr, &sl->ch, &err)) {
		sl->oom = true;
		memset(&sl->st, 0, sizeof(sl->st));
		return;
	}
	while (sk_logread_next(w->lr, &rec, &err) == SK_OK && rec) {
		const sk_match_hit *hits;
		sk_logsrc_note(&sl->src, sk_logread_format(w->lr), rec);
		size_t nh = scan_mctx_record(w->mc, rec, &hits);
		nh = sk_hmatch_merge(w->hm, w->hc, rec, &hits, nh);
		if (!nh)
			continue;
		GROW(sl->recs, sl->nrec, sl->reccap, sl);
		wrec *r = &sl->recs[sl->nrec++];
		*r = (wrec){rec->line, rec->offset, rec->ts_us, sl->nhit, 0};
		for (size_t i = 0; i < nh; i++) {
			GROW(sl->hits, sl->nhit, sl->hitcap, sl);
			whit *h = &sl->hits[sl->nhit++];
			*h = (whit){.ind = hits[i].ind, .obs = hits[i].obs, .value = UINT32_MAX};
			if (hits[i].value != UINT32_MAX && hits[i].value < rec->n) {
				const sk_obs *o = &rec->obs[hits[i].value];
				const char *f = o->field ? o->field : "";
				h->kind = o->kind;
				h->field = txt_put(sl, f, strlen(f));
				h->value = txt_put(sl, o->v, o->len);
				h->value_len = o->len;
				if (h->field == UINT32_MAX || h->value == UINT32_MAX)
					h->value = UINT32_MAX;
			}
			r->n++;
		}
	}
full:
	sl->st = *sk_logread_stats_get(w->lr);
}

static void *worker_main(void *arg)
{
	sworker *w = arg;
	spipe *p = w->p;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->abort && p->next_work >= p->produced && !p->prod_done)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->abort || p->next_work >= p->produced) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		pslot *sl = &p->slots[p->next_work++ % p->nslots];
		sl->state = SL_WORKING;
		pthread_mutex_unlock(&p->mu);
		work_chunk(w, sl);
		pthread_mutex_lock(&p->mu);
		sl->state = SL_DONE;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

/* The emitting side of one chunk, in chunk order. */
static void emit_chunk(emit_ctx *ec, const pslot *sl, uint64_t line_base)
{
	scan_rhit rh[64];
	for (uint32_t r = 0; r < sl->nrec; r++) {
		const wrec *wr = &sl->recs[r];
		uint32_t n = wr->n < 64 ? wr->n : 64;
		for (uint32_t i = 0; i < n; i++) {
			const whit *h = &sl->hits[wr->first + i];
			rh[i] = (scan_rhit){.ind = h->ind, .obs = h->obs};
			if (h->value != UINT32_MAX) {
				rh[i].has_value = true;
				rh[i].kind = h->kind;
				rh[i].field = sl->txt + h->field;
				rh[i].value = sl->txt + h->value;
				rh[i].value_len = h->value_len;
			}
		}
		emit_hits(ec, line_base + wr->line, wr->offset, wr->ts_us, rh, n);
	}
}

static sk_err scan_par(emit_ctx *ec, sworker *ws, unsigned nw, sk_logread_stats *fst, sk_error *err)
{
	spipe p;
	pthread_t prod;
	sk_err rc;
	uint64_t line_base = 0, records = 0, size = 0, dummy;
	sk_logread_opts lo = ec->so->lo;

	memset(&p, 0, sizeof(p));
	lo.follow = false;
	if ((rc = sk_logread_open(ec->fname, &lo, &p.lr, err)))
		return rc;
	sk_logread_raw_pos(p.lr, &dummy, &size);
	p.nslots = 2 * nw + 2;
	p.target = (size_t)1 << 20;
	{
		/* tests use small chunks to exercise chunk boundaries on small files */
		const char *e = getenv("SCHAKEL_SCAN_CHUNK");
		if (e && atol(e) > 0)
			p.target = (size_t)atol(e);
	}
	p.slots = calloc(p.nslots, sizeof(*p.slots));
	if (!p.slots) {
		sk_logread_close(p.lr);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	pthread_create(&prod, NULL, producer_main, &p);
	for (unsigned i = 0; i < nw; i++) {
		ws[i].p = &p;
		pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
	}
	for (uint64_t seq = 0;; seq++) {
		pslot *sl = &p.slots[seq % p.nslots];
		pthread_mutex_lock(&p.mu);
		while (!(seq < p.produced && sl->state == SL_DONE) &&
		       !(p.prod_done && seq >= p.produced))
			pthread_cond_wait(&p.cv, &p.mu);
		bool end = seq >= p.produced;
		pthread_mutex_unlock(&p.mu);
		if (end)
			break;
		if (sl->oom && !ec->werr) {
			cli_err("%s: out of memory while matching; hits may be missing", ec->fname);
		}
		emit_chunk(ec, sl, line_base);
		sk_logsrc_merge(&ec->ss->src, &sl->src);
		stats_add(fst, &sl->st, line_base);
		line_base += sl->st.lines;
		records += sl->st.records;
		fst->bytes = sl->ch.offset + sl->ch.len;
		show_progress(ec->so, ec->fname, sl->ch.raw_pos, size, records);
		pthread_mutex_lock(&p.mu);
		sl->state = SL_FREE;
		pthread_cond_broadcast(&p.cv);
		pthread_mutex_unlock(&p.mu);
	}
	pthread_join(prod, NULL);
	for (unsigned i = 0; i < nw; i++)
		pthread_join(ws[i].th, NULL);
	rc = p.prod_rc;
	if (rc)
		*err = p.prod_err;
	for (unsigned i = 0; i < p.nslots; i++) {
		sk_logchunk_free(&p.slots[i].ch);
		free(p.slots[i].recs);
		free(p.slots[i].hits);
		free(p.slots[i].txt);
	}
	free(p.slots);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	sk_logread_close(p.lr);
	return rc;
}

static int scan_file(scan_state *ss, const scan_opts *so, scan_mctx *mc, sworker *ws, unsigned nw,
                     sk_match_state *mst, scan_cache *cache, const char *path, uint32_t fileno,
                     const char *const *files, totals *tot, double *next_sighting)
{
	emit_ctx ec = {.ss = ss,
	               .mst = mst,
	               .cache = cache,
	               .so = so,
	               .fname = path,
	               .fileno = fileno,
	               .files = files,
	               .next_sighting = *next_sighting};
	sk_logread_stats st;
	sk_error err;
	sk_err rc;

	memset(&st, 0, sizeof(st));
	if (nw > 1 && !so->lo.follow)
		rc = scan_par(&ec, ws, nw, &st, &err);
	else
		rc = scan_seq(&ec, mc, &st, &err);
	maybe_sightings(&ec, true);
	*next_sighting = ec.next_sighting;
	cli_progress_done();
	tot->records += st.records;
	tot->bytes += st.bytes;
	tot->malformed += st.malformed;
	if (st.malformed && !so->quiet) {
		fprintf(stderr, "schakel: %s: %llu unparsable line(s):", path,
		        (unsigned long long)st.malformed);
		for (unsigned i = 0; i < st.n_bad; i++)
			fprintf(stderr, " %llu", (unsigned long long)st.bad[i].line);
		if (st.malformed > st.n_bad)
			fputs(" ...", stderr);
		fputc('\n', stderr);
		for (unsigned i = 0; i < st.n_bad && i < 3; i++)
			fprintf(stderr, "schakel: %s:%llu: %s\n", path,
			        (unsigned long long)st.bad[i].line, st.bad[i].reason);
	}
	if (rc) {
		cli_err("%s: %s", path, err.msg);
		return EXIT_INPUT;
	}
	if (ec.werr) {
		cli_err("writing the output failed");
		return EXIT_INPUT;
	}
	return ec.sight_rc;
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
	    {"sightings-every", required_argument, NULL, 'S'},
	    {"no-cache", no_argument, NULL, 'C'},
	    {"no-decay", no_argument, NULL, 'D'},
	    {NULL, 0, NULL, 0},
	};
	scan_opts so = {.threads = 0, .sightings_every = 10};
	scan_state ss = {0};
	sk_logsrc_init(&ss.src);
	load_ctx lc = {0};
	scan_cache cache = {0};
	sk_indload_stats ls = {0};
	sk_matcher *m = NULL;
	scan_mctx *mc = NULL;
	sk_match_state *mst = NULL;
	sworker *ws = NULL;
	unsigned nw = 0;
	uint32_t nhashed = 0;
	double next_sighting = 0;
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
		case 'C':
			so.no_cache = true;
			break;
		case 'D': /* decayed indicators too; the cache key does not say so: no cache */
			so.no_decay = so.no_cache = true;
			break;
		case 'c':
			so.collection = optarg;
			break;
		case 'S': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 86400)
				return cli_usage("scan",
				                 "--sightings-every needs seconds from 1 to 86400");
			so.sightings_every = (unsigned)n;
			break;
		}
		default:
			return cli_usage("scan", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage("scan", "expected at least one FILE ('-' for stdin)");
	if (!so.threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		so.threads = n < 1 ? 1 : n > 256 ? 256 : (unsigned)n;
	}
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
	if (sk_hit_fmt_new(ss.st, &ss.fmt, &err)) {
		cli_err("%s", err.msg);
		exit_code = EXIT_INPUT;
		goto out;
	}
	if (sk_psl_load(NULL, &psl, &err))
		psl = NULL; /* fallback: the last label is the public suffix */
	so.lo.psl = psl;
	so.lo.stop = so.lo.follow ? &stop_flag : NULL;

	/* compile */
	t0 = now_s();
	sk_match_opts mo = {.subdomains = so.subdomains, .psl = psl};
	lc.ss = &ss;
	lc.cache = &cache;
	lc.quiet = so.quiet;
	if (!so.no_cache &&
	    scan_cache_init(&cache, ss.st, ctx->db, so.subdomains, so.no_warninglists)) {
		cli_err("out of memory");
		exit_code = EXIT_INPUT;
		goto out;
	}
	if ((m = scan_cache_load(&cache, &ss, so.at, &mo, so.quiet, &ls)))
		goto built;
	if (!so.no_warninglists && sk_indload_warninglists(ss.st, &wl, &err)) {
		cli_err("%s", err.msg);
		exit_code = EXIT_INPUT;
		goto out;
	}
	mo.warninglists = wl;
	if (sk_matcher_new(&mo, &m, &err)) {
		cli_err("out of memory");
		exit_code = EXIT_INPUT;
		goto out;
	}
	sk_indload_opts lo = {.at = so.at,
	                      .no_decay = so.no_decay,
	                      .on_added = on_added,
	                      .on_skipped = on_skipped,
	                      .ud = &lc};
	if (sk_indload_run(ss.st, m, &lo, &ls, &err) || sk_matcher_build(m, &err)) {
		cli_err("%s", err.msg);
		exit_code = EXIT_INPUT;
		goto out;
	}
	sk_warninglist_free(wl);
	wl = NULL;
	scan_cache_save(&cache, &ss, m, &ls, so.quiet);
built:
	if ((exit_code = scan_hashed_load(&ss, ctx->db, so.at, so.quiet, &nhashed)))
		goto out;
	ls.unsupported -= nhashed < ls.unsupported ? nhashed : ls.unsupported;
	if (scan_alloc_inds(&ss)) {
		cli_err("out of memory");
		exit_code = EXIT_INPUT;
		goto out;
	}
	if (scan_mctx_new(&cache, m, &mc, &err) || sk_match_state_new(m, 0, &mst, &err)) {
		cli_err("%s", err.msg);
		exit_code = EXIT_INPUT;
		goto out;
	}
	if (so.threads > 1 && !so.lo.follow) {
		if (!(ws = calloc(so.threads, sizeof(*ws)))) {
			cli_err("out of memory");
			exit_code = EXIT_INPUT;
			goto out;
		}
		for (nw = 0; nw < so.threads; nw++) {
			ws[nw].hm = ss.hm;
			if (sk_logread_new_worker(&so.lo, &ws[nw].lr, &err) ||
			    scan_mctx_new(&cache, m, &ws[nw].mc, &err) ||
			    (ss.hm && sk_hmatch_ctx_new(&ws[nw].hc, &err))) {
				sk_logread_close(ws[nw].lr);
				scan_mctx_free(ws[nw].mc);
				cli_err("%s", err.msg);
				exit_code = EXIT_INPUT;
				goto out;
			}
		}
	}
	if (!so.quiet) {
		sk_matcher_stats ms;
		sk_matcher_stats_get(m, &ms);
		fprintf(stderr,
		        "schakel: %u indicators compiled in %.2f s (%u exact keys, %u prefixes, %u "
		        "regexes, %u generic, %u multi-observation); %u cannot be matched, %u "
		        "outside their validity window, %u not STIX patterns, %u on warning "
		        "lists, %u decayed below the score threshold%s%s%s%s\n",
		        ms.indicators + cache.ndelta - cache.nexpired, now_s() - t0, ms.exact_keys,
		        ms.prefixes, ms.regexes, ms.generic, ms.multi, ls.unsupported, ls.expired,
		        ls.other_type, ls.suppressed, ls.decayed,
		        so.no_warninglists ? " (not checked: --no-warninglists)" : "",
		        cache.loaded ? (cache.dm ? "; loaded from the matcher cache and a delta of "
		                                   "the indicators stored since"
		                                 : "; loaded from the matcher cache")
		                     : "",
		        cache.stale[0] ? "; matcher cache rebuilt: " : "", cache.stale);
		fprintf(
		    stderr,
		    "schakel: matcher %.1f MiB, %.0f bytes per indicator (%u compiled directly, "
		    "index %.1f MiB)\n",
		    (double)ms.bytes / 1048576.0,
		    ms.indicators ? (double)ms.bytes / ms.indicators : 0.0, ms.direct,
		    (double)ms.bytes_exact / 1048576.0);
	}

	if (so.output) {
		ss.out = sk_fopen_private(so.output, false);
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
	next_sighting = t1 + so.sightings_every;
	for (int i = optind; i < argc; i++) {
		int rc =
		    scan_file(&ss, &so, mc, ws, nw, mst, &cache, argv[i], (uint32_t)(i - optind),
		              (const char *const *)argv + optind, &tot, &next_sighting);
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
		if (ss.nhitv) /* qsort(NULL, 0, ...) is undefined */
			qsort(ss.hitv, ss.nhitv, sizeof(*ss.hitv), cmp_u32); /* indicator order */
		for (uint32_t k = 0; k < ss.nhitv; k++) {
			const scan_ind *si = &ss.inds[ss.hitv[k]];
			fprintf(stderr, "schakel:   %8llu  %s%s%s\n", (unsigned long long)si->hits,
			        si->meta.id ? si->meta.id : "(gone)", si->meta.name ? "  " : "",
			        si->meta.name ? si->meta.name : "");
		}
	}
	if (!so.no_sightings && (ss.hits || ss.src.n)) {
		int rc = scan_write_sightings(&ss, so.collection);
		if (rc)
			exit_code = rc;
	}
out:
	for (unsigned i = 0; ws && i < nw; i++) {
		sk_logread_close(ws[i].lr);
		scan_mctx_free(ws[i].mc);
		sk_hmatch_ctx_free(ws[i].hc);
	}
	free(ws);
	if (ss.out && ss.out != stdout)
		fclose(ss.out);
	sk_warninglist_free(wl);
	sk_match_state_free(mst);
	scan_mctx_free(mc);
	sk_matcher_free(m);
	sk_psl_free(psl);
	scan_cache_clear(&cache);
	scan_state_clear(&ss);
	sk_store_close(ss.st);
	return exit_code;
}
