/*
 * feed.h - turn plain (non-STIX) indicator feeds into STIX 2.1 indicators.
 *
 * Most operators receive lists, not STIX: maltrail's trail table, ipsum's
 * scored IP list, one-hash-a-line files, or a CSV export.  This module reads
 * such a feed line by line (gzip transparently, bounded line length), turns
 * every entry into one STIX 2.1 indicator with a proper pattern, and stores
 * it.  A broken line is reported with its line number and skipped; it never
 * stops the import.
 *
 * Identity of what is imported: an indicator's id is a UUIDv5 over the
 * producer name and the pattern, so importing the same feed again yields the
 * same ids and stores nothing new (every entry is a duplicate), and an updated
 * feed only adds the entries that are new.  An indicator that is already
 * stored keeps its first version (created, labels, ...): the import does not
 * write a new version for it.
 *
 * Every indicator carries created_by_ref = the producer's identity (one per
 * producer, id derived from its name) and object_marking_refs = the TLP 2.0
 * marking given; the identity and the marking definition are stored once.
 */
#ifndef SCHAKEL_FEED_H
#define SCHAKEL_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/buf.h"
#include "schakel/error.h"
#include "schakel/reader.h"
#include "schakel/store.h"
#include "schakel/tlp.h"

typedef enum sk_feed_format {
	SK_FEED_MALTRAIL, /* indicator<TAB>kind<TAB>category<TAB>name ('#' comments) */
	SK_FEED_IPSUM,    /* ip<TAB>count ('#' comments) */
	SK_FEED_LINES,    /* one indicator a line, kind detected ('#' comments) */
	SK_FEED_CSV,      /* RFC 4180 CSV with a header line; see sk_feed_columns */
} sk_feed_format;

/* What an entry is; decides the STIX pattern. */
typedef enum sk_feed_kind {
	SK_FK_DOMAIN,       /* [domain-name:value = 'x'] */
	SK_FK_IPV4,         /* [ipv4-addr:value = 'x'] */
	SK_FK_IPV6,         /* [ipv6-addr:value = 'x'] */
	SK_FK_IPV4_CIDR,    /* [ipv4-addr:value ISSUBSET 'a.b.c.d/n'] */
	SK_FK_IPV6_CIDR,    /* [ipv6-addr:value ISSUBSET 'x/n'] */
	SK_FK_IPV4_PORT,    /* network-traffic to an ipv4-addr and dst_port */
	SK_FK_IPV6_PORT,    /* network-traffic to an ipv6-addr and dst_port */
	SK_FK_DOMAIN_PORT,  /* network-traffic to a domain-name and dst_port */
	SK_FK_URL,          /* [url:value = 'x'] */
	SK_FK_URL_PATH,     /* a path on any host: [url:value MATCHES '^[a-z]+://[^/]+/path'] */
	SK_FK_EMAIL,        /* [email-addr:value = 'x'] */
	SK_FK_MD5,          /* [file:hashes.'MD5' = 'x'] */
	SK_FK_SHA1,         /* [file:hashes.'SHA-1' = 'x'] */
	SK_FK_SHA256,       /* [file:hashes.'SHA-256' = 'x'] */
	SK_FK_SHA512,       /* [file:hashes.'SHA-512' = 'x'] */
	SK_FK_DOMAIN_REGEX, /* [domain-name:value MATCHES 'x'] */
	SK_FK_URL_REGEX,    /* [url:value MATCHES 'x'] */
	SK_FK__COUNT
} sk_feed_kind;

/* "domain", "ipv4", ... (static; never NULL). */
const char *sk_feed_kind_name(sk_feed_kind k);

/* Parse a format name: maltrail, ipsum, lines, csv.  false if unknown. */
bool sk_feed_format_parse(const char *s, sk_feed_format *out);

#define SK_FEED_MAX_LABELS 8
#define SK_FEED_DEFAULT_MAX_LINE 8192
#define SK_FEED_DEFAULT_BATCH 50000

/*
 * Classify and normalise one indicator value (text[0..n), not NUL-terminated)
 * as the lines format does: URL (scheme://...), e-mail address, IPv4/IPv6
 * address or CIDR, address:port ([v6]:port), MD5/SHA-1/SHA-256/SHA-512 hex,
 * domain name.  Normalised: domains and hashes lowercased, a domain's trailing
 * dot dropped, CIDRs reduced to their network address.  On success *kind is
 * set and norm holds the value (reset first).  SK_EINVAL with a reason in err
 * if the value is none of these.
 */
sk_err sk_feed_classify(const char *text, size_t n, sk_feed_kind *kind, sk_buf *norm,
			sk_error *err);

/*
 * Check and normalise value[0..n) as the given kind (as a feed that names
 * the kind, like maltrail, needs).  For SK_FK_URL a value without a scheme
 * ("host/path") gets "http://"; a bare path ("/x") becomes SK_FK_URL_PATH, so
 * *kind may change.  SK_EINVAL with a reason if the value is not of that kind.
 */
sk_err sk_feed_normalise(sk_feed_kind *kind, const char *value, size_t n, sk_buf *norm,
			 sk_error *err);

/*
 * Append the STIX pattern for a normalised value of kind k to out (the
 * string literal is escaped: backslash and quote).  SK_ELIMIT if out's cap
 * is reached.
 */
sk_err sk_feed_pattern(sk_feed_kind k, const char *value, size_t n, sk_buf *out);

typedef struct sk_feed_opts {
	sk_feed_format format;
	const char *producer;   /* required: name of the producing organisation */
	sk_tlp tlp;             /* marking for every object; SK_TLP_NONE = unmarked */
	int64_t cid;            /* collection (0 = none) */
	int confidence;         /* 0..100, or -1 for none */
	const char *valid_from; /* RFC 3339 time used as created/modified/valid_from for
				   new indicators; NULL = the import time */
	const char *columns;    /* csv only: column map, see below; NULL = guess from header */
	const char *const *labels; /* extra labels for every indicator */
	size_t nlabels;
	size_t batch;    /* entries per transaction; 0 = SK_FEED_DEFAULT_BATCH */
	size_t max_line; /* longest accepted line in bytes; 0 = SK_FEED_DEFAULT_MAX_LINE */
	/*
	 * Named feed (docs/decay.md): entries of this producer's feed NAME that
	 * are not in this import expire (a new version with valid_until = now)
	 * unless another feed of the producer holds them; NULL = not named.
	 */
	const char *feed;
	int64_t valid_for_us; /* new indicators get valid_until = valid_from + this; 0 = none */
	/*
	 * Each rejected line: name of the input, its 1-based line number, why
	 * (in line order).  Importing into a store, on_reject runs on the
	 * calling thread and on_progress on the import's reader thread, never
	 * both at once.
	 */
	void (*on_reject)(void *ud, const char *name, uint64_t line, const char *msg);
	void (*on_progress)(void *ud, const sk_reader *rd, uint64_t entries);
	void *ud;
} sk_feed_opts;

/*
 * The csv column map (opts.columns) is a comma-separated list of ROLE=COLUMN
 * where COLUMN is a header name (case-insensitive) or a 1-based number:
 *   value=COL  the indicator (required unless guessed)
 *   kind=COL   its kind: a maltrail kind (domain, ipv4, ipv4_port, url, ...) or a
 *              name from sk_feed_kind_name; empty = detect as the lines format
 *   label=COL  a label (repeatable)
 *   name=COL   the indicator's name (default: the value)
 * Without a map the header is searched for value = indicator|ioc|value|
 * observable|ip|domain|url|hash, kind = kind|type, label = category|label|
 * labels|tags|threat|malware.  Quoted fields may not span lines.
 */

typedef struct sk_feed_stats {
	uint64_t lines;     /* lines read */
	uint64_t entries;   /* valid entries */
	uint64_t stored;    /* indicators new to the store */
	uint64_t added;     /* already stored, newly added to the collection */
	uint64_t duplicate; /* already in the collection (or repeated in the feed) */
	uint64_t rejected;  /* broken lines */
	uint64_t bytes;     /* uncompressed bytes read */
	uint64_t kinds[SK_FK__COUNT]; /* valid entries per kind */
	/*
	 * The search index is caught up after the rows are stored and committed
	 * (sk_store_defer_search): how many versions, in how long (µs).
	 */
	uint64_t indexed, index_us;
	uint64_t expired, revived; /* named feeds: entries dropped out, entries come back */
	/*
	 * CPU time (µs) of the import's two threads until the rows were
	 * committed: the store thread (lookups, the write rule, the inserts) and
	 * the reader thread (reading, parsing, building and validating).
	 */
	uint64_t store_cpu_us, reader_cpu_us;
} sk_feed_stats;

/*
 * Import a feed from rd (borrowed) into st.  Adds into *stats (zero it
 * first).  Returns SK_OK when the input was read to its end, even when lines
 * were rejected (see stats->rejected); an error if the options are bad, the
 * input cannot be read, or the store fails (the batch in progress is rolled
 * back; batches committed before stay, and re-importing is safe).
 */
sk_err sk_feed_import_reader(sk_store *st, sk_reader *rd, const sk_feed_opts *o,
			     sk_feed_stats *stats, sk_error *err);

/* Open path ("-" = stdin, gzip ok) and import it; see sk_feed_import_reader. */
sk_err sk_feed_import_file(sk_store *st, const char *path, const sk_feed_opts *o,
			   sk_feed_stats *stats, sk_error *err);

/*
 * Parse without storing: every valid entry is turned into its indicator JSON
 * and validated as STIX, exactly as the import does, but nothing is written.
 * For tests and fuzzing; st is not needed.  Same stats (stored counts every
 * valid entry).
 */
sk_err sk_feed_check_reader(sk_reader *rd, const sk_feed_opts *o, sk_feed_stats *stats,
			    sk_error *err);

/* The deterministic id of producer's identity, "identity--<uuidv5>", into out[64]. */
void sk_feed_producer_id(const char *producer, char out[64]);

#endif
