/*
 * logread.c - line splitting, format detection and --follow for the log
 * readers.
 *
 * One buffer of four times the line limit (4 MiB by default) holds the
 * input; lines are found with memchr
 * (glibc's is vectorised, far faster than any parser after it) and handed to
 * the format parser in place, so a line is never copied unless it straddles
 * a refill, and then only once by the memmove that compacts the buffer.
 * Over-long lines are counted as malformed and skipped up to the next
 * newline without growing anything.
 *
 * Following: a regular file is read through our own descriptor (not
 * sk_reader, whose gzip layer keeps its own EOF state).  At end of file we
 * sleep, then stat the path: a different inode means the file was rotated
 * (we drain the old descriptor, then open the new file); a size below our
 * position means it was truncated in place (copytruncate), so we restart at
 * offset 0.
 */
#include "logfmt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LR_DEFAULT_LINE ((size_t)1 << 20)
#define LR_MAX_LINE     ((size_t)16 << 20)

struct sk_logread {
	sk_reader *rd; /* NULL when following a regular file through fd */
	int fd;
	char *path;
	dev_t dev;
	ino_t ino;
	uint64_t fpos; /* bytes read from fd */
	sk_logread_opts opts;
	char *buf;     /* bufmem, or a bound chunk's data (worker) */
	char *bufmem;  /* owned line buffer (NULL for a worker) */
	size_t cap, pos, end;
	bool eof, discarding;
	uint64_t lineno, base; /* base: stream offset of buf[0] */
	sk_logfmt fmt;
	sk_zeek_state *zeek;
	sk_csv_state *csv;
	sk_host_state *host;   /* ECS, osquery */
	sk_audit_state *audit; /* auditd */
	bool osq_more;         /* osquery: more rows of the last line to return */
	sk_psl *psl;
	sk_logrec rec;
	sk_logbuild b;
	sk_logread_stats st;
	/* chunk producer: header lines in effect (Zeek TSV keys, CSV header row) */
	char *hdrv[8];
	size_t hdrn[8];
	bool csv_hdr_seen;
};

/* memmem is a GNU extension; the project builds with _DEFAULT_SOURCE only. */
static const char *find_str(const char *s, size_t n, const char *pat, size_t pn)
{
	if (pn == 0 || n < pn)
		return NULL;
	for (const char *p = s, *last = s + n - pn; p <= last; p++) {
		p = memchr(p, pat[0], (size_t)(last - p) + 1);
		if (!p)
			return NULL;
		if (memcmp(p, pat, pn) == 0)
			return p;
	}
	return NULL;
}

static const char *const fmt_names[SK_LOGFMT__COUNT] = {
    "auto", "zeek", "zeek-json", "eve", "csv", "text", "ecs", "osquery", "auditd"};

const char *sk_logfmt_name(sk_logfmt f)
{
	return (unsigned)f < SK_LOGFMT__COUNT ? fmt_names[f] : "?";
}

bool sk_logfmt_parse(const char *name, sk_logfmt *out)
{
	for (unsigned i = 0; i < SK_LOGFMT__COUNT; i++) {
		if (strcmp(name, fmt_names[i]) == 0) {
			*out = (sk_logfmt)i;
			return true;
		}
	}
	return false;
}

void sk_logread_close(sk_logread *lr)
{
	if (!lr)
		return;
	sk_reader_close(lr->rd);
	if (lr->fd >= 0)
		close(lr->fd);
	sk_logfmt_zeek_free(lr->zeek);
	sk_logfmt_csv_free(lr->csv);
	sk_logfmt_host_free(lr->host);
	sk_logfmt_audit_free(lr->audit);
	sk_psl_free(lr->psl);
	free(lr->path);
	free(lr->bufmem);
	free(lr->b.scratch);
	for (size_t i = 0; i < sizeof(lr->hdrv) / sizeof(lr->hdrv[0]); i++)
		free(lr->hdrv[i]);
	free(lr);
}

static sk_err set_format(sk_logread *lr, sk_logfmt f, sk_error *err)
{
	sk_err rc;
	lr->fmt = f;
	switch (f) {
	case SK_LOGFMT_ZEEK:
		if (!lr->zeek && sk_logfmt_zeek_new(&lr->zeek))
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		break;
	case SK_LOGFMT_CSV:
		if (!lr->csv) {
			rc = sk_logfmt_csv_new(lr->opts.csv_map, &lr->csv, err);
			if (rc)
				return rc;
		}
		break;
	case SK_LOGFMT_ECS:
	case SK_LOGFMT_OSQUERY:
		if (!lr->host && sk_logfmt_host_new(&lr->host))
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		break;
	case SK_LOGFMT_AUDITD:
		if (!lr->audit && sk_logfmt_audit_new(lr->opts.max_line, &lr->audit))
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		break;
	case SK_LOGFMT_TEXT:
		if (!lr->psl && !lr->opts.psl) {
			/* a missing list is not an error: the TLD syntax check takes over */
			sk_error perr;
			rc = sk_psl_load(lr->opts.psl_path, &lr->psl, &perr);
			if (rc && rc != SK_ENOTFOUND)
				return sk_error_set(err, rc, "%s", perr.msg);
		}
		break;
	default:
		break;
	}
	return SK_OK;
}

static sk_err init_common(sk_logread *lr, const sk_logread_opts *opts, bool worker,
                          sk_error *err)
{
	if (opts)
		lr->opts = *opts;
	if (lr->opts.max_line == 0)
		lr->opts.max_line = LR_DEFAULT_LINE;
	if (lr->opts.max_line > LR_MAX_LINE)
		return sk_error_set(err, SK_EINVAL, "line limit above 16 MiB");
	if (lr->opts.follow_poll_ms == 0)
		lr->opts.follow_poll_ms = 250;
	/* 4 lines' worth (4 MiB for the default limit) keeps refills rare */
	lr->cap = 4 * lr->opts.max_line;
	if (lr->cap < (64u << 10))
		lr->cap = 64u << 10;
	/* +1: room for the newline we add to a last line cut short by rotation */
	if (!worker)
		lr->buf = lr->bufmem = malloc(lr->cap + 1);
	lr->b.cap = 2 * lr->opts.max_line + (64u << 10);
	lr->b.scratch = malloc(lr->b.cap);
	lr->b.rec = &lr->rec;
	if ((!worker && !lr->buf) || !lr->b.scratch)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (lr->opts.format != SK_LOGFMT_AUTO)
		return set_format(lr, lr->opts.format, err);
	return SK_OK;
}

sk_err sk_logread_open_reader(sk_reader *rd, const sk_logread_opts *opts, sk_logread **out,
                              sk_error *err)
{
	sk_logread *lr = calloc(1, sizeof(*lr));
	sk_err rc;

	*out = NULL;
	if (!lr) {
		sk_reader_close(rd);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	lr->fd = -1;
	lr->rd = rd;
	rc = init_common(lr, opts, false, err);
	lr->opts.follow = false;
	if (rc) {
		sk_logread_close(lr);
		return rc;
	}
	*out = lr;
	return SK_OK;
}

static sk_err open_follow_fd(sk_logread *lr, sk_error *err)
{
	struct stat st;
	unsigned char magic[2];
	int fd = open(lr->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return sk_error_set(err, SK_EIO, "%s: cannot open: %s", lr->path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sk_error_set(err, SK_EUNSUPPORTED, "%s: --follow needs a regular file",
		                    lr->path);
	}
	if (pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
		close(fd);
		return sk_error_set(err, SK_EUNSUPPORTED, "%s: cannot follow a compressed file",
		                    lr->path);
	}
	if (lr->fd >= 0)
		close(lr->fd);
	lr->fd = fd;
	lr->dev = st.st_dev;
	lr->ino = st.st_ino;
	lr->fpos = 0;
	return SK_OK;
}

sk_err sk_logread_open(const char *path, const sk_logread_opts *opts, sk_logread **out,
                       sk_error *err)
{
	sk_logread *lr = calloc(1, sizeof(*lr));
	sk_err rc;

	*out = NULL;
	if (!lr)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	lr->fd = -1;
	lr->path = strdup(path);
	if (!lr->path) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	rc = init_common(lr, opts, false, err);
	if (rc)
		goto out;
	if (lr->opts.follow && strcmp(path, "-") != 0)
		rc = open_follow_fd(lr, err);
	else
		rc = sk_reader_open(path, &lr->rd, err);
out:
	if (rc) {
		sk_logread_close(lr);
		return rc;
	}
	*out = lr;
	return SK_OK;
}

sk_logfmt sk_logread_format(const sk_logread *lr)
{
	return lr->fmt;
}

const sk_logread_stats *sk_logread_stats_get(const sk_logread *lr)
{
	return &lr->st;
}

const char *sk_logread_name(const sk_logread *lr)
{
	if (lr->rd)
		return sk_reader_name(lr->rd);
	return lr->path;
}

static void note_bad(sk_logread *lr, uint64_t line, const char *reason)
{
	lr->st.malformed++;
	if (lr->st.n_bad < SK_LOGREAD_BAD_MAX) {
		sk_logread_bad *b = &lr->st.bad[lr->st.n_bad++];
		b->line = line;
		snprintf(b->reason, sizeof(b->reason), "%s", reason);
	}
}

/* Read more input after buf[end]; sets eof when the source has no more for now. */
static sk_err fill(sk_logread *lr, sk_error *err)
{
	size_t got = 0;
	if (lr->pos > 0) {
		size_t keep = lr->end - lr->pos;
		memmove(lr->buf, lr->buf + lr->pos, keep);
		lr->base += lr->pos;
		lr->pos = 0;
		lr->end = keep;
	}
	if (lr->end == lr->cap)
		return SK_OK; /* the caller handles a full buffer as an over-long line */
	if (lr->rd) {
		sk_err rc = sk_reader_read(lr->rd, lr->buf + lr->end, lr->cap - lr->end, &got, err);
		if (rc)
			return rc;
	} else {
		ssize_t k;
		do
			k = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end);
		while (k < 0 && errno == EINTR);
		if (k < 0)
			return sk_error_set(err, SK_EIO, "%s: read error: %s", lr->path,
			                    strerror(errno));
		got = (size_t)k;
		lr->fpos += got;
	}
	lr->end += got;
	if (got == 0)
		lr->eof = true;
	return SK_OK;
}

static bool stopped(const sk_logread *lr)
{
	return lr->opts.stop && atomic_load(lr->opts.stop);
}

/*
 * Following, at end of file: wait, then look for rotation or truncation.
 * Returns with eof cleared when there may be more to read.
 */
static sk_err follow_wait(sk_logread *lr, sk_error *err)
{
	struct timespec ts = {.tv_sec = lr->opts.follow_poll_ms / 1000,
	                      .tv_nsec = (long)(lr->opts.follow_poll_ms % 1000) * 1000000L};
	struct stat st;

	if (lr->opts.on_idle)
		lr->opts.on_idle(lr->opts.idle_ud);
	nanosleep(&ts, NULL);
	lr->eof = false;
	if (stat(lr->path, &st) != 0)
		return SK_OK; /* between rename and create: keep reading the old file */
	if (st.st_dev != lr->dev || st.st_ino != lr->ino) {
		/* rotated: drain what was appended to the old file before switching */
		for (;;) {
			size_t before = lr->end;
			sk_err rc = fill(lr, err);
			if (rc)
				return rc;
			if (lr->end == before)
				break;
			if (lr->end == lr->cap || memchr(lr->buf + before, '\n', lr->end - before))
				return SK_OK; /* let the caller consume lines first */
		}
		if (lr->end > lr->pos && lr->end < lr->cap)
			lr->buf[lr->end++] = '\n'; /* the old file's unterminated last line */
		lr->st.rotations++;
		lr->eof = false;
		return open_follow_fd(lr, err);
	}
	if ((uint64_t)st.st_size < lr->fpos) {
		/* truncated in place */
		if (lseek(lr->fd, 0, SEEK_SET) < 0)
			return sk_error_set(err, SK_EIO, "%s: seek failed: %s", lr->path,
			                    strerror(errno));
		if (lr->end > lr->pos && lr->end < lr->cap)
			lr->buf[lr->end++] = '\n';
		lr->fpos = 0;
		lr->st.rotations++;
	}
	return SK_OK;
}

static bool header_like(const char *s, size_t n)
{
	if (n == 0)
		return false;
	if (*s == '"' && n >= 2 && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((unsigned)((c | 0x20) - 'a') < 26u || (unsigned)(c - '0') < 10u || c == '_' ||
		      c == '.' || c == ' ' || c == '-'))
			return false;
	}
	return true;
}

/* Pick the format from the first non-blank line. */
static sk_logfmt detect(const char *s, size_t n)
{
	if (n >= 10 && (memcmp(s, "#separator", 10) == 0 || memcmp(s, "#fields", 7) == 0))
		return SK_LOGFMT_ZEEK;
	if (n > 5 && sk_logfmt_audit_serial(s, n, &(size_t){0}) && find_str(s, n, "type=", 5))
		return SK_LOGFMT_AUDITD;
	if (n && s[0] == '{') {
		if (find_str(s, n, "\"hostIdentifier\"", 16) ||
		    (find_str(s, n, "\"unixTime\"", 10) &&
		     (find_str(s, n, "\"columns\"", 9) || find_str(s, n, "\"snapshot\"", 10) ||
		      find_str(s, n, "\"diffResults\"", 13))))
			return SK_LOGFMT_OSQUERY;
		if (find_str(s, n, "\"@timestamp\"", 12) &&
		    (find_str(s, n, "\"ecs\"", 5) || find_str(s, n, "\"winlog\"", 8) ||
		     find_str(s, n, "\"event\"", 7) || find_str(s, n, "\"ecs.version\"", 13)))
			return SK_LOGFMT_ECS;
		if (find_str(s, n, "\"event_type\"", 12))
			return SK_LOGFMT_EVE;
		if (find_str(s, n, "\"_path\"", 7) || find_str(s, n, "\"id.orig_h\"", 11) ||
		    find_str(s, n, "\"uid\"", 5))
			return SK_LOGFMT_ZEEK_JSON;
		if (find_str(s, n, "\"src_ip\"", 8) || find_str(s, n, "\"timestamp\"", 11))
			return SK_LOGFMT_EVE;
		return find_str(s, n, "\"ts\"", 4) ? SK_LOGFMT_ZEEK_JSON : SK_LOGFMT_EVE;
	}
	/* CSV: a header row of at least two name-like cells */
	size_t cells = 0;
	const char *p = s, *end = s + n;
	while (p <= end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *e = c ? c : end;
		if (!header_like(p, (size_t)(e - p)))
			return SK_LOGFMT_TEXT;
		cells++;
		if (!c)
			break;
		p = c + 1;
	}
	return cells >= 2 ? SK_LOGFMT_CSV : SK_LOGFMT_TEXT;
}

static int parse_line(sk_logread *lr, const char *s, size_t n, const char **reason)
{
	switch (lr->fmt) {
	case SK_LOGFMT_ZEEK:
		return sk_logfmt_zeek_line(lr->zeek, &lr->b, s, n, reason);
	case SK_LOGFMT_ZEEK_JSON:
		return sk_logfmt_zeekjson_line(&lr->b, s, n, reason);
	case SK_LOGFMT_EVE:
		return sk_logfmt_eve_line(&lr->b, s, n, reason);
	case SK_LOGFMT_CSV:
		return sk_logfmt_csv_line(lr->csv, &lr->b, s, n, reason);
	case SK_LOGFMT_TEXT:
		return sk_logfmt_text_line(lr->opts.psl ? lr->opts.psl : lr->psl, &lr->b, s, n,
		                           reason);
	case SK_LOGFMT_ECS:
		return sk_logfmt_ecs_line(lr->host, &lr->b, s, n, reason);
	case SK_LOGFMT_OSQUERY: {
		int k = sk_logfmt_osq_line(lr->host, &lr->b, s, n, reason);
		lr->osq_more = k == LF_RECORD;
		return k;
	}
	case SK_LOGFMT_AUDITD:
		return sk_logfmt_audit_line(lr->audit, &lr->b, s, n, reason);
	default:
		*reason = "no format";
		return LF_MALFORMED;
	}
}

/* A record the format holds back (osquery rows, an auditd event): count and return it. */
static bool held_record(sk_logread *lr, bool at_end, const sk_logrec **out)
{
	int k = LF_SKIP;
	if (lr->osq_more) {
		/* the line is still in the buffer: nothing refills it before we return */
		sk_logrec_begin(&lr->b, lr->rec.raw, lr->rec.raw_len, lr->rec.line, lr->rec.offset);
		k = sk_logfmt_osq_more(lr->host, &lr->b);
		lr->osq_more = k == LF_RECORD;
	} else if (at_end && lr->fmt == SK_LOGFMT_AUDITD && lr->audit) {
		k = sk_logfmt_audit_flush(lr->audit, &lr->b);
	}
	if (k != LF_RECORD)
		return false;
	lr->st.records++;
	lr->st.values += lr->rec.n;
	lr->st.dropped += lr->rec.dropped;
	*out = &lr->rec;
	return true;
}

sk_err sk_logread_next(sk_logread *lr, const sk_logrec **out, sk_error *err)
{
	sk_err rc;

	*out = NULL;
	if (held_record(lr, false, out))
		return SK_OK;
	for (;;) {
		char *s = lr->buf + lr->pos;
		size_t avail = lr->end - lr->pos;
		char *nl = avail ? memchr(s, '\n', avail) : NULL;
		size_t len;

		if (lr->discarding) {
			if (!nl) {
				lr->pos = lr->end;
				goto more;
			}
			lr->discarding = false;
			lr->pos = (size_t)(nl + 1 - lr->buf);
			continue;
		}
		if (nl) {
			len = (size_t)(nl - s);
			lr->pos += len + 1;
		} else {
			if (avail > lr->opts.max_line) {
				lr->lineno++;
				lr->st.lines++;
				lr->st.overlong++;
				note_bad(lr, lr->lineno, "line longer than the limit");
				lr->discarding = true;
				lr->pos = lr->end;
				continue;
			}
			if (!lr->eof)
				goto more;
			if (avail == 0 || (lr->opts.follow && !lr->rd && !stopped(lr)))
				goto more;
			/* the last line has no newline */
			len = avail;
			lr->pos = lr->end;
		}
		lr->lineno++;
		lr->st.lines++;
		lr->st.bytes = lr->base + lr->pos;
		if (len > lr->opts.max_line) {
			lr->st.overlong++;
			note_bad(lr, lr->lineno, "line longer than the limit");
			continue;
		}
		if (len && s[len - 1] == '\r')
			len--;
		if (lr->fmt == SK_LOGFMT_AUTO) {
			if (len == 0) {
				lr->st.skipped++;
				continue;
			}
			rc = set_format(lr, detect(s, len), err);
			if (rc)
				return rc;
		}
		const char *reason = NULL;
		sk_logrec_begin(&lr->b, s, len, lr->lineno, lr->base + (uint64_t)(s - lr->buf));
		int k = parse_line(lr, s, len, &reason);
		if (k == LF_RECORD) {
			lr->st.records++;
			lr->st.values += lr->rec.n;
			lr->st.dropped += lr->rec.dropped;
			*out = &lr->rec;
			return SK_OK;
		}
		if (k == LF_SKIP)
			lr->st.skipped++;
		else
			note_bad(lr, lr->lineno, reason ? reason : "malformed");
		continue;
	more:
		if (lr->eof) {
			if (!lr->opts.follow || lr->rd || stopped(lr)) {
				if (lr->end > lr->pos && !lr->discarding)
					continue; /* stop with a partial line: take it */
				lr->st.bytes = lr->base + lr->end;
				held_record(lr, true, out);
				return SK_OK;
			}
			/* following: an event the input has gone quiet after is complete */
			if (held_record(lr, true, out))
				return SK_OK;
			rc = follow_wait(lr, err);
			if (rc)
				return rc;
			continue;
		}
		rc = fill(lr, err);
		if (rc)
			return rc;
	}
}

/* --- positions ----------------------------------------------------------- */

void sk_logread_raw_pos(const sk_logread *lr, uint64_t *pos, uint64_t *size)
{
	struct stat st;
	if (lr->rd) {
		*pos = sk_reader_raw_pos(lr->rd);
		*size = sk_reader_raw_size(lr->rd);
		return;
	}
	*pos = lr->fpos;
	*size = lr->fd >= 0 && fstat(lr->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* --- parallel reading: the chunk producer -------------------------------- */

/*
 * Zeek TSV header keys kept by the producer, in replay order.  A #separator
 * line starts a new block (the others are forgotten); a #fields line
 * forgets #types (a new #fields resets the set/vector flags).
 */
static const char *const zk_keys[] = {"#separator",   "#set_separator", "#empty_field",
                                      "#unset_field", "#path",          "#fields",
                                      "#types"};
#define ZK_NKEYS 7
#define CSV_HDR  7 /* hdrv[] slot of the CSV header row */

static void hdr_store(sk_logread *lr, unsigned k, const char *s, size_t n)
{
	char *p = realloc(lr->hdrv[k], n + 1);
	if (!p)
		return; /* out of memory: the header is lost, lines become malformed */
	memcpy(p, s, n);
	p[n] = '\n';
	lr->hdrv[k] = p;
	lr->hdrn[k] = n + 1;
}

static void hdr_forget(sk_logread *lr, unsigned k)
{
	free(lr->hdrv[k]);
	lr->hdrv[k] = NULL;
	lr->hdrn[k] = 0;
}

static void zeek_header_seen(sk_logread *lr, const char *s, size_t n)
{
	for (unsigned k = 0; k < ZK_NKEYS; k++) {
		size_t kl = strlen(zk_keys[k]);
		if (n <= kl || memcmp(s, zk_keys[k], kl) != 0)
			continue;
		unsigned char c = (unsigned char)s[kl];
		if ((c >= 'a' && c <= 'z') || c == '_')
			continue; /* "#set_separator" is not "#separator"... */
		if (k == 0)
			for (unsigned j = 0; j < ZK_NKEYS; j++)
				hdr_forget(lr, j);
		if (k == 5)
			hdr_forget(lr, 6);
		hdr_store(lr, k, s, n);
		return;
	}
}

/* Line [s, e) without its newline and a trailing CR. */
static size_t line_len(const char *s, const char *e)
{
	size_t n = (size_t)(e - s);
	if (n && s[n - 1] == '\r')
		n--;
	return n;
}

/* Detect the format and follow the headers over the whole lines d[0..n). */
static sk_err chunk_scan(sk_logread *lr, const char *d, size_t n, sk_error *err)
{
	const char *p = d, *end = d + n;
	if (lr->fmt == SK_LOGFMT_AUTO || (lr->fmt == SK_LOGFMT_CSV && !lr->csv_hdr_seen)) {
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *e = nl ? nl : end;
			size_t ln = line_len(p, e);
			if (ln) {
				if (lr->fmt == SK_LOGFMT_AUTO) {
					sk_err rc = set_format(lr, detect(p, ln), err);
					if (rc)
						return rc;
				}
				if (lr->fmt == SK_LOGFMT_CSV && !lr->csv_hdr_seen) {
					hdr_store(lr, CSV_HDR, p, ln);
					lr->csv_hdr_seen = true;
				}
				break;
			}
			p = e + 1;
		}
		p = d;
	}
	if (lr->fmt != SK_LOGFMT_ZEEK)
		return SK_OK;
	while (p < end && (p = memchr(p, '#', (size_t)(end - p)))) {
		if (p == d || p[-1] == '\n') {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *e = nl ? nl : end;
			zeek_header_seen(lr, p, line_len(p, e));
			p = e;
		} else {
			p++;
		}
	}
	return SK_OK;
}

/* memrchr is a GNU extension. */
static const char *last_nl(const char *s, size_t n)
{
	while (n)
		if (s[--n] == '\n')
			return s + n;
	return NULL;
}

/*
 * An audit event's lines must not be split between chunks: move the cut
 * back to the start of the event the last whole line belongs to (unless it
 * ended with its EOE line, or the event fills the chunk, or what would be
 * carried is longer than a line may be).
 */
static size_t audit_cut(const char *d, size_t cut, size_t total, size_t max_line)
{
	const char *end = d + cut, *last, *ser;
	size_t sn, start;

	if (!cut)
		return cut;
	last = last_nl(d, cut - 1);
	last = last ? last + 1 : d;
	if (sk_logfmt_audit_is_eoe(last, line_len(last, end - 1)) ||
	    !(ser = sk_logfmt_audit_serial(last, line_len(last, end - 1), &sn)))
		return cut;
	start = (size_t)(last - d);
	while (start > 0) {
		const char *prev = last_nl(d, start - 1);
		const char *ps, *s2;
		size_t n2;
		ps = prev ? prev + 1 : d;
		s2 = sk_logfmt_audit_serial(ps, line_len(ps, d + start - 1), &n2);
		if (!s2 || n2 != sn || memcmp(s2, ser, sn))
			break;
		start = (size_t)(ps - d);
	}
	if (start == 0 || total - start > max_line)
		return cut;
	return start;
}

static sk_err chunk_read(sk_logread *lr, char *dst, size_t n, size_t *got, sk_error *err)
{
	sk_err rc = sk_reader_read(lr->rd, dst, n, got, err);
	if (!rc && *got == 0)
		lr->eof = true;
	return rc;
}

sk_err sk_logread_chunk(sk_logread *lr, sk_logchunk *c, size_t target, sk_error *err)
{
	size_t need, got, cut;
	sk_err rc;
	const char *nl;

	if (!lr->rd)
		return sk_error_set(err, SK_EUNSUPPORTED, "chunked reading needs a plain reader");
	if (target < 4096)
		target = 4096;
	need = target + lr->opts.max_line + 2;
	if (c->cap < need) {
		char *nd = realloc(c->data, need);
		if (!nd)
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		c->data = nd;
		c->cap = need;
	}
	c->len = 0;
	c->end = false;
	c->skipped_first = false;
	/* the headers in effect at the chunk's start */
	c->hdr_len = 0;
	for (unsigned k = 0; k < 8; k++) {
		if (!lr->hdrn[k])
			continue;
		if (c->hdr_len + lr->hdrn[k] > c->hdr_cap) {
			size_t nc = (c->hdr_len + lr->hdrn[k]) * 2;
			char *nh = realloc(c->hdr, nc);
			if (!nh)
				return sk_error_set(err, SK_ENOMEM, "out of memory");
			c->hdr = nh;
			c->hdr_cap = nc;
		}
		memcpy(c->hdr + c->hdr_len, lr->hdrv[k], lr->hdrn[k]);
		c->hdr_len += lr->hdrn[k];
	}
	/* skip the rest of an over-long line: it is this chunk's line 1 */
	while (lr->discarding) {
		lr->base += lr->end;
		lr->end = 0;
		/* what is left after the newline must fit in the chunk */
		if ((rc = chunk_read(lr, lr->buf, lr->cap < need - 1 ? lr->cap : need - 1, &got,
		                     err)))
			return rc;
		if (!got) {
			lr->discarding = false;
			c->skipped_first = true;
			break;
		}
		if ((nl = memchr(lr->buf, '\n', got))) {
			size_t drop = (size_t)(nl + 1 - lr->buf);
			memmove(lr->buf, nl + 1, got - drop);
			lr->base += drop;
			lr->end = got - drop;
			lr->discarding = false;
			c->skipped_first = true;
		} else {
			lr->end = got;
		}
	}
	c->offset = lr->base;
	memcpy(c->data, lr->buf, lr->end);
	c->len = lr->end;
	lr->end = 0;
	/* fill to the target, and further until the last line is complete */
	while (!lr->eof && c->len < need - 1) {
		size_t before = c->len;
		if ((rc = chunk_read(lr, c->data + c->len, need - 1 - c->len, &got, err)))
			return rc;
		c->len += got;
		if (c->len >= target && memchr(c->data + before, '\n', got))
			break;
	}
	nl = last_nl(c->data, c->len);
	cut = nl ? (size_t)(nl + 1 - c->data) : lr->eof ? c->len : 0;
	if (lr->fmt == SK_LOGFMT_AUTO && cut && (rc = chunk_scan(lr, c->data, cut, err)))
		return rc;
	if (lr->fmt == SK_LOGFMT_AUDITD && !(lr->eof && cut == c->len))
		cut = audit_cut(c->data, cut, c->len, lr->opts.max_line);
	/* the rest: a partial line to carry, or the start of an over-long one */
	size_t rest = c->len - cut;
	if (rest > lr->opts.max_line || (!cut && rest)) {
		lr->discarding = true;
		lr->base = c->offset + c->len;
	} else {
		memcpy(lr->buf, c->data + cut, rest);
		lr->end = rest;
		lr->base = c->offset + cut;
	}
	c->len = cut;
	if ((rc = chunk_scan(lr, c->data, c->len, err)))
		return rc;
	c->fmt = lr->fmt;
	c->end = lr->eof && !lr->end && !lr->discarding;
	c->raw_pos = sk_reader_raw_pos(lr->rd);
	lr->st.bytes = c->offset + c->len;
	return SK_OK;
}

void sk_logchunk_free(sk_logchunk *c)
{
	if (!c)
		return;
	free(c->data);
	free(c->hdr);
	memset(c, 0, sizeof(*c));
}

/* --- parallel reading: workers ------------------------------------------ */

sk_err sk_logread_new_worker(const sk_logread_opts *opts, sk_logread **out, sk_error *err)
{
	sk_logread *lr = calloc(1, sizeof(*lr));
	sk_err rc;

	*out = NULL;
	if (!lr)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	lr->fd = -1;
	rc = init_common(lr, opts, true, err);
	lr->opts.follow = false;
	lr->opts.format = SK_LOGFMT_AUTO;
	lr->fmt = SK_LOGFMT_AUTO;
	if (rc) {
		sk_logread_close(lr);
		return rc;
	}
	*out = lr;
	return SK_OK;
}

sk_err sk_logread_bind(sk_logread *lr, const sk_logchunk *c, sk_error *err)
{
	sk_err rc;
	const char *reason;

	/* header state starts afresh from the chunk's header lines */
	sk_logfmt_zeek_free(lr->zeek);
	lr->zeek = NULL;
	sk_logfmt_csv_free(lr->csv);
	lr->csv = NULL;
	sk_logfmt_audit_free(lr->audit);
	lr->audit = NULL;
	lr->osq_more = false;
	lr->fmt = SK_LOGFMT_AUTO;
	if (c->fmt != SK_LOGFMT_AUTO && (rc = set_format(lr, c->fmt, err)))
		return rc;
	/* a chunk without header lines has hdr NULL (no arithmetic on it) */
	for (const char *p = c->hdr, *end = p ? p + c->hdr_len : NULL; p && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		sk_logrec_begin(&lr->b, p, (size_t)(nl - p), 0, 0);
		(void)parse_line(lr, p, (size_t)(nl - p), &reason);
		p = nl + 1;
	}
	lr->buf = c->data;
	lr->cap = c->len;
	lr->pos = 0;
	lr->end = c->len;
	lr->eof = true;
	lr->discarding = false;
	lr->base = c->offset;
	lr->lineno = 0;
	memset(&lr->st, 0, sizeof(lr->st));
	if (c->skipped_first) {
		lr->lineno = 1;
		lr->st.lines = 1;
		lr->st.overlong = 1;
		note_bad(lr, 1, "line longer than the limit");
	}
	return SK_OK;
}
