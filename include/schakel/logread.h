/*
 * logread.h - read network logs (Zeek TSV/JSON, Suricata EVE, CSV, free
 * text) and host logs (Elastic Common Schema JSON, osquery results, Linux
 * auditd) as a stream of observation records (schakel/logrec.h).
 *
 * The reader splits the input into lines in one large buffer (4 x the line
 * limit) over an sk_reader (so "-" is stdin and gzip is read transparently),
 * hands each line to the format's parser and returns one sk_logrec per data line.  Nothing is
 * allocated per line.  Every input is bounded: a line longer than max_line
 * (default 1 MiB) is skipped and counted as malformed, like any line the
 * format cannot parse; malformed lines are never fatal.  --follow tails a
 * growing file and survives logrotate (rename + create, or copytruncate).
 */
#ifndef SCHAKEL_LOGREAD_H
#define SCHAKEL_LOGREAD_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/logrec.h"
#include "schakel/psl.h"
#include "schakel/reader.h"

typedef enum sk_logfmt {
	SK_LOGFMT_AUTO = 0,
	SK_LOGFMT_ZEEK,      /* Zeek TSV with #fields headers */
	SK_LOGFMT_ZEEK_JSON, /* Zeek JSON lines */
	SK_LOGFMT_EVE,       /* Suricata EVE JSON lines */
	SK_LOGFMT_CSV,       /* CSV with a header row */
	SK_LOGFMT_TEXT,      /* free text: extract indicators */
	SK_LOGFMT_ECS,       /* Elastic Common Schema JSON lines (Winlogbeat, Sysmon, ...) */
	SK_LOGFMT_OSQUERY,   /* osquery result log (differential or snapshot) */
	SK_LOGFMT_AUDITD,    /* Linux audit log: one record per event serial */
	SK_LOGFMT__COUNT
} sk_logfmt;

/* "auto", "zeek", "zeek-json", "eve", "csv", "text", "ecs", "osquery", "auditd". */
const char *sk_logfmt_name(sk_logfmt f);
/* Parse one of the names above; false if unknown. */
bool sk_logfmt_parse(const char *name, sk_logfmt *out);

typedef struct sk_logread_opts {
	sk_logfmt format;     /* SK_LOGFMT_AUTO: detect from the first lines */
	size_t max_line;      /* 0 = 1 MiB; at most 16 MiB */
	const char *csv_map;  /* "col=kind,..." (see docs/matcher.md); NULL = by header names */
	const char *psl_path; /* text format: NULL = SK_PSL_DEFAULT_PATH; missing = fallback */
	const sk_psl *psl;    /* text format: a loaded list to borrow (then psl_path is unused) */
	bool follow;          /* at end of file wait for more (regular files and stdin) */
	unsigned follow_poll_ms;     /* 0 = 250 */
	const atomic_int *stop; /* follow: return end of input once *stop != 0 (set by another
	                          * thread or a signal handler: lock-free, so both may) */
	/* follow: called (on the reading thread) each time the reader waits at end of file */
	void (*on_idle)(void *ud);
	void *idle_ud;
} sk_logread_opts;

#define SK_LOGREAD_BAD_MAX 16

typedef struct sk_logread_bad {
	uint64_t line;
	char reason[96];
} sk_logread_bad;

typedef struct sk_logread_stats {
	uint64_t lines;     /* lines read */
	uint64_t records;   /* records returned */
	uint64_t skipped;   /* headers, comments, blank lines */
	uint64_t malformed; /* lines that could not be parsed (incl. over-long) */
	uint64_t overlong;  /* of which longer than max_line */
	uint64_t bytes;     /* decompressed bytes consumed */
	uint64_t values;    /* observations returned */
	uint64_t dropped;   /* observations lost to the per-record limits */
	uint64_t rotations; /* follow: times the file was reopened (rotated or truncated) */
	unsigned n_bad;     /* entries in bad[] (the first SK_LOGREAD_BAD_MAX malformed lines) */
	sk_logread_bad bad[SK_LOGREAD_BAD_MAX];
} sk_logread_stats;

typedef struct sk_logread sk_logread;

/*
 * Open path ("-" = stdin; gzip by magic).  opts may be NULL (auto format).
 * The caller frees *out with sk_logread_close().  With follow, path must be
 * "-" or an uncompressed regular file.
 */
sk_err sk_logread_open(const char *path, const sk_logread_opts *opts, sk_logread **out,
                       sk_error *err);

/*
 * Read from an open sk_reader (e.g. sk_reader_open_mem); the logread takes
 * ownership of rd (closed by sk_logread_close, also on failure).  No follow.
 */
sk_err sk_logread_open_reader(sk_reader *rd, const sk_logread_opts *opts, sk_logread **out,
                              sk_error *err);

/*
 * Next record.  *rec is NULL at the end of input (or when *opts->stop was
 * set while following).  The record and every pointer in it stay valid until
 * the next call or sk_logread_close().  Errors are I/O errors only
 * (unreadable file, corrupt gzip); malformed lines are counted in the stats.
 */
sk_err sk_logread_next(sk_logread *lr, const sk_logrec **rec, sk_error *err);

/* The format in use (after detection; AUTO until the first line is seen). */
sk_logfmt sk_logread_format(const sk_logread *lr);

const sk_logread_stats *sk_logread_stats_get(const sk_logread *lr);

/* The input's name for messages ("<stdin>" for "-"). */
const char *sk_logread_name(const sk_logread *lr);

void sk_logread_close(sk_logread *lr);

/* Position in the underlying (possibly compressed) input and its size (0 = unknown). */
void sk_logread_raw_pos(const sk_logread *lr, uint64_t *pos, uint64_t *size);

/*
 * --- parallel reading -----------------------------------------------------
 *
 * One thread cuts the input into chunks of whole lines (sk_logread_chunk on
 * a reader from sk_logread_open, no follow); any number of worker readers
 * (sk_logread_new_worker) parse chunks (sk_logread_bind, then
 * sk_logread_next as usual).  A chunk carries what a line's meaning depends
 * on: the format (detected once by the cutting reader) and the header lines
 * in effect at its start (Zeek TSV: the latest #separator, #set_separator,
 * #empty_field, #unset_field, #path, #fields, #types; CSV: the header row),
 * so a worker parses it exactly as the sequential reader would.  In a bound
 * worker, rec->line and stats.bad[].line count from 1 at the chunk's first
 * line; offsets are stream offsets.  The caller adds the lines of the
 * chunks before (stats.lines of each bound chunk).
 */
typedef struct sk_logchunk {
	char *data;            /* whole lines (the last one may lack its newline at end of input) */
	size_t len, cap;
	uint64_t offset;       /* stream offset of data[0] */
	uint64_t raw_pos;      /* underlying input position after this chunk (progress) */
	bool skipped_first;    /* an over-long line (skipped) came just before data[0]: line 1 */
	bool end;              /* no more chunks after this one */
	sk_logfmt fmt;
	char *hdr;             /* header lines in effect at data[0], '\n'-terminated */
	size_t hdr_len, hdr_cap;
} sk_logchunk;

/*
 * Fill c with the next chunk of about target bytes (at most target + the
 * line limit).  At the end of input c->end is set (c->len may be 0).  The
 * chunk's buffers are (re)allocated as needed; free with sk_logchunk_free.
 */
sk_err sk_logread_chunk(sk_logread *lr, sk_logchunk *c, size_t target, sk_error *err);
void sk_logchunk_free(sk_logchunk *c);

/* A reader that only parses bound chunks.  opts: max_line, csv_map, psl as for open. */
sk_err sk_logread_new_worker(const sk_logread_opts *opts, sk_logread **out, sk_error *err);
/* Parse c (borrowed until the next bind or close) from its first line; stats start at 0. */
sk_err sk_logread_bind(sk_logread *lr, const sk_logchunk *c, sk_error *err);

/*
 * --- log sources seen (logsrc.c; docs/cooperation.md, capacity) -----------
 *
 * A tally of the records read per source kind: the format's family and,
 * where the format names it, the log or event type ("zeek:dns", "eve:http",
 * "ecs", "osquery", "auditd", "csv", "text").  Event names from the input
 * are kept only when short and plain ([a-z0-9_.-], else "FAMILY:other"), and
 * at most SK_LOGSRC_MAX kinds are told apart (the rest: "FAMILY:other"), so
 * a tally is bounded whatever the input.  Never a path.
 */
#define SK_LOGSRC_MAX  32
#define SK_LOGSRC_NAME 40

typedef struct sk_logsrc {
	char kind[SK_LOGSRC_NAME];
	uint64_t records, flushed; /* flushed: records already written (by the caller) */
	uint64_t obs;              /* bit k: an observation of sk_obs_kind k was read */
} sk_logsrc;

typedef struct sk_logsrc_tally {
	sk_logsrc src[SK_LOGSRC_MAX];
	unsigned n;
	int last; /* the entry of the previous record (-1 = none): the usual case is a repeat */
} sk_logsrc_tally;

/* An empty tally. */
void sk_logsrc_init(sk_logsrc_tally *t);
/* Count rec, read in format fmt (sk_logread_format), into t. */
void sk_logsrc_note(sk_logsrc_tally *t, sk_logfmt fmt, const sk_logrec *rec);
/* Add the records and observations of from to into (by kind). */
void sk_logsrc_merge(sk_logsrc_tally *into, const sk_logsrc_tally *from);
/*
 * The STIX object types source s delivers, comma-separated into buf (size n,
 * truncated at a type boundary): the readers' table for its kind, and the
 * object types of the observations it was seen to give.
 */
void sk_logsrc_types(const sk_logsrc *s, char *buf, size_t n);

#endif
