/*
 * watch.h - early warning inside the running node: the detection engine
 * over a live log (`schakel serve --watch FILE|-`).
 *
 * Three threads:
 *   reader   follows the log (sk_logread, follow mode, logrotate-safe),
 *            matches every record against the live matcher and emits alerts
 *            (the JSON of a `schakel scan` hit plus "alert_time",
 *            "detection_delay_ms" and "lookback") to a JSON-lines file, to
 *            stdout and to the webhook queue.
 *   rebuild  probes the store for new indicator versions every poll_ms
 *            (MAX(ver) of indicators: whatever path stored them, TAXII POST,
 *            pull, import), compiles the new ones into a small matcher of
 *            their own, and swaps the live set atomically with respect to the
 *            record stream: a record read after the swap is matched against
 *            the new indicators, one read before it is found by the lookback
 *            rescan.  Small sets are rebuilt in full on every change; large
 *            ones are patched (base + up to 7 delta matchers, merged into a
 *            full rebuild when idle).  It also writes sightings (one per
 *            indicator with hits per sighting interval, through
 *            sk_sync_sighting_add, so they are pushed like any other local
 *            object) and retires old matchers once the reader has let go.
 *   webhook  (with a URL) POSTs each alert; a bounded queue, dropped with a
 *            counter when full; detection never waits for it.
 * See docs/matcher.md, "Live watch".
 */
#ifndef SCHAKEL_WATCH_H
#define SCHAKEL_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/buf.h"
#include "schakel/error.h"
#include "schakel/logread.h"

typedef struct sk_watch_config {
	const char *db_path;      /* the node's database */
	const char *log_path;     /* "-" = stdin; a regular file is read from its start */
	sk_logfmt format;         /* SK_LOGFMT_AUTO: detect */
	const char *csv_map;      /* as `scan --csv-map`, may be NULL */
	const char *alerts_path;  /* JSON lines, appended; NULL = none */
	bool alerts_stdout;       /* also write alerts to stdout */
	const char *webhook;      /* http(s) URL to POST each alert to, or NULL */
	int64_t lookback_us;      /* keep this much recent log for rescans; 0 = off */
	size_t lookback_bytes;    /* cap of the retained window (0 = 256 MiB) */
	bool subdomains;          /* as `scan --subdomains` */
	bool no_warninglists;     /* as `scan --no-warninglists` */
	bool no_sightings;        /* do not write sightings */
	unsigned poll_ms;         /* new-indicator probe interval (0 = 100) */
	unsigned sighting_s;      /* sighting write interval (0 = 10) */
	unsigned follow_poll_ms;  /* log growth poll (0 = 50) */
	size_t full_rebuild_max;  /* at most this many indicators: full rebuild on
	                             every change (0 = 50000); above: patch */
} sk_watch_config;

typedef struct sk_watch sk_watch;

/*
 * Make the live matcher (the matcher cache's base plus a delta of the
 * indicators stored since, else a full build: match_base.h), open the log
 * and the outputs, start the threads.  The strings in cfg are copied.  Registers the watcher's metrics
 * with sk_metrics_render (one watcher at a time).  Stop with sk_watch_stop().
 */
sk_err sk_watch_start(const sk_watch_config *cfg, sk_watch **out, sk_error *err);

/*
 * Stop the threads (the reader at its next poll), write the pending
 * sightings, unregister the metrics, free w (may be NULL).
 */
void sk_watch_stop(sk_watch *w);

/*
 * Reopen the alerts file (after logrotate moved it: `serve` calls this on
 * SIGHUP).  SK_EIO if it cannot be opened; alerts then keep going to the
 * file held before.
 */
sk_err sk_watch_reopen(sk_watch *w, sk_error *err);

/*
 * Look for new indicators now rather than at the next probe (something
 * was just committed: the fleet sensor calls it).  w may be NULL; the
 * signature fits a callback taking the watcher as its user data.
 */
void sk_watch_poke(void *w);

/* Append the watcher's Prometheus metrics to b. */
void sk_watch_metrics(sk_watch *w, sk_buf *b);

#endif
