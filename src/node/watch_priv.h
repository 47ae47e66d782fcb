/*
 * watch_priv.h - what the files of the live watcher share (src/node/ only):
 * the watcher's state, the live set's parts and generations, and the
 * functions one thread's file calls in another's.  The locks and the
 * part / generation scheme are described at the top of watch.c.
 */
#ifndef SCHAKEL_WATCH_PRIV_H
#define SCHAKEL_WATCH_PRIV_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "schakel/hit.h"
#include "schakel/indload.h"
#include "schakel/logread.h"
#include "schakel/match_base.h"
#include "schakel/matcher.h"
#include "schakel/psl.h"
#include "schakel/store.h"
#include "schakel/watch.h"

#define MAX_PARTS     8
#define WEBHOOK_QUEUE 1024
#define TTD_SAMPLES   1024
#define FIRST_SET     (1u << 16)              /* indicators whose first hit was timed */
#define SOURCES_US    ((int64_t)60 * 1000000) /* log sources are written at most this often */

/* --- compiled parts --------------------------------------------------------- */

typedef struct ind_meta {
	sk_hit_ind h; /* id and ver set at compile time; the rest on the first hit (emit_mu) */
	int64_t arrived_us; /* when the compiled version arrived here */
	int64_t until;      /* when it stops alerting (expiry or decay, µs; 0 = never) */
} ind_meta;

typedef struct part {
	sk_matcher *m;
	/* hashed indicators (docs/private-matching.md), numbered after m's; NULL = none.
	 * hc is used under ring_mu only, as is every match of the part. */
	struct sk_hmatch *hm;
	struct sk_hmatch_ctx *hc;
	ind_meta *inds;
	uint32_t ninds, cap;
	uint32_t nm; /* m's indicators: inds[0..nm); the hashed ones follow */
	char **ids;  /* sorted: every indicator this part covers */
	size_t nids, idcap;
	int refs;
	/*
	 * A base loaded from the matcher cache (watch_cache.c): vers[i] is
	 * indicator i's version row (in the mapping of m), inds[i] is filled on
	 * its first hit (sk_watch_part_fill) and filled[] lists those; ids is
	 * empty (a base shadows nothing).  NULL for a compiled part.
	 */
	const int64_t *vers;
	const int64_t *untils; /* the base's (sk_mbase.untils; NULL: none), for inds[0..nm) */
	uint32_t *filled;
	uint32_t nfilled, filledcap;
	/* a full build: its load counts and skip messages, for writing it as the cache's base */
	sk_indload_stats ls;
	sk_mbase_msgs msgs;
} part;

typedef struct gen {
	part *p[MAX_PARTS];
	size_t np;
	uint64_t seq;
	int refs;
} gen;

/* --- retained records for lookback ---------------------------------------- */

typedef struct kept {
	struct kept *next;
	int64_t read_us, ts_us;
	uint64_t line, offset;
	size_t bytes;
	uint32_t n, event_len;
	const char *event;
	sk_obs obs[]; /* n entries, then the strings */
} kept;

typedef struct ttd_stats {
	double samples[TTD_SAMPLES];
	size_t n, next;
	double sum;
	uint64_t count;
} ttd_stats;

typedef struct pending {
	char *id;
	uint64_t count;
	int64_t first_us, last_us; /* times of the first and last hit */
} pending;

struct sk_watch {
	sk_watch_config cfg;
	char *db_path, *log_path, *csv_map, *alerts_path, *webhook;
	sk_psl *psl;
	/* warning lists the matchers are built with, their stamp and the verdicts of earlier
	 * builds (rebuild thread) */
	sk_wl_set *wl;
	uint64_t wl_stamp;
	bool wl_loaded;
	sk_indload_wlcache *wlcache;
	sk_match_opts mo;
	atomic_int stop; /* the reader thread reads it (logread opts.stop) */
	atomic_int stop_all;
	atomic_int sight_now; /* an indicator had its first hit: write sightings now */

	pthread_mutex_t ring_mu;
	gen *cur;
	uint64_t seq;
	kept *head, *tail;
	size_t kept_bytes;
	uint64_t kept_n;
	sk_logsrc_tally src; /* records read per log source (reader; written once a minute) */

	pthread_mutex_t emit_mu;
	FILE *alerts;
	sk_store *emit_st;
	sk_hit_fmt *fmt;
	pending *pend;
	size_t npend;
	uint64_t *first; /* hashes of indicator ids whose first hit was timed */
	size_t nfirst;
	ttd_stats ttd;

	/* the rebuild thread */
	pthread_mutex_t cv_mu;
	pthread_cond_t cv;
	pthread_t rebuild_th, reader_th, hook_th;
	bool rebuild_run, reader_run, hook_run;
	sk_store *st;
	int64_t max_ver;
	/* a full build at start, written as the cache's base by the rebuild thread (off the
	 * start path) under the key read before it */
	sk_mbase_key start_key;
	bool start_unsaved;

	/* webhook */
	pthread_mutex_t q_mu;
	pthread_cond_t q_cv;
	char *q[WEBHOOK_QUEUE];
	size_t qh, qn;

	sk_logread *lr;

	/* metrics */
	atomic_uint_fast64_t records, alerts_live, alerts_lookback, rebuilds, hook_sent,
	    hook_failed, hook_dropped, sightings;
	atomic_uint_fast64_t live_inds, live_bytes, rebuild_us, kept_bytes_m;
};

typedef struct alert {
	const sk_logrec *rec;
	const sk_match_hit *h;
	const sk_match_ref *refs;
	size_t nrefs;
	bool lookback;
} alert;

/* --- the live set (watch_rebuild.c) --- */

/* Free a part that no generation holds any more (NULL: nothing). */
void sk_watch_part_free(part *p);
/* Does part p cover indicator id (so that it shadows older parts' hits on it)? */
bool sk_watch_part_covers(const part *p, const char *id);
/*
 * Every hashed indicator into p (a base loaded from the matcher cache, which
 * holds none: the keys can change without the indicators changing),
 * numbered from p->nm.  Those stored since the base are in the delta too,
 * which masks them here by id.
 */
sk_err sk_watch_part_hashed(sk_watch *w, part *p, sk_error *err);
/* (Re)load the warning lists when their stamp changed; rebuild thread or before it starts. */
sk_err sk_watch_load_warninglists(sk_watch *w, sk_error *err);
/* Compile the indicators changed after after_ver (0 = all) into a new part *out (refs 0). */
sk_err sk_watch_build_part(sk_watch *w, int64_t after_ver, part **out, sk_error *err);
/* Under ring_mu: drop a reference; returns g when it must be freed (sk_watch_gen_free). */
gen *sk_watch_gen_unref(gen *g);
/* Free g and the parts only it held (ring_mu held; NULL: nothing). */
void sk_watch_gen_free(gen *g);
/* Drop a reference to g, freeing it when it was the last (takes ring_mu). */
void sk_watch_gen_release(sk_watch *w, gen *g);
/* Publish the live set's size and the time since t0 as metrics. */
void sk_watch_publish_stats(sk_watch *w, const gen *g, int64_t t0);
/* The rebuild thread (arg: the sk_watch). */
void *sk_watch_rebuild_main(void *arg);

/* --- the matcher cache (watch_cache.c) --- */

/*
 * The live set to start with: the cache's base brought up to date with a
 * delta when it is there and current enough, else a full build (written as
 * the new base).  *out has refs 1 and its parts refs 1; w->max_ver is set.
 */
sk_err sk_watch_initial_gen(sk_watch *w, gen **out, sk_error *err);
/* Write the start's full build as the cache's base, if it is one and not written yet. */
void sk_watch_cache_save_start(sk_watch *w);
/*
 * Write full-build part p as the cache's base when the key k read before
 * the build still describes it (the warning lists it was built with).
 * Failures are only said on stderr.  Rebuild thread, or before it starts.
 */
void sk_watch_cache_save(sk_watch *w, const sk_mbase_key *k, part *p);
/* Fill inds[idx] of a cached base on its first hit (ring_mu held; takes emit_mu).  false: gone. */
bool sk_watch_part_fill(sk_watch *w, part *p, uint32_t idx);

/* --- the reader (watch_reader.c) --- */

/* Rescan the retained window with part p only (ring_mu held). */
void sk_watch_lookback(sk_watch *w, part *p);
/* The reader thread (arg: the sk_watch). */
void *sk_watch_reader_main(void *arg);

/* --- alerts (watch_alert.c) --- */

/* Write the alert a for indicator mi, time it and tally it (ring_mu held, takes emit_mu). */
void sk_watch_emit(sk_watch *w, ind_meta *mi, const alert *a);
/* Write the tallied sightings to the store (rebuild thread). */
void sk_watch_flush_sightings(sk_watch *w);
/* Write the records read per log source since the last call (rebuild thread). */
void sk_watch_flush_sources(sk_watch *w);
/* The webhook sender thread (arg: the sk_watch). */
void *sk_watch_hook_main(void *arg);

#endif
