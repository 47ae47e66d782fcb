/*
 * import.h - load STIX content from files or streams into the store.
 *
 * Input forms: bundle (2.0/2.1), TAXII 2.1 envelope, JSON array, one object,
 * or NDJSON; plain or gzip.  Objects are validated one by one; invalid ones
 * are reported (with file, line, offset and id) and skipped, the valid ones
 * are stored.  Writes are committed in batches, so memory and transaction
 * size stay bounded whatever the input size.  With strict, the whole file is
 * one transaction and the first problem rejects it all.
 *
 * A structural error (truncated or broken JSON) stops the file: the batch in
 * progress is rolled back; batches committed before it stay (re-importing the
 * repaired file is safe, as known versions are no-ops).
 */
#ifndef SCHAKEL_IMPORT_H
#define SCHAKEL_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/reader.h"
#include "schakel/store.h"

#define SK_IMPORT_MAX_TYPES 64
#define SK_IMPORT_DEFAULT_BATCH 5000
#define SK_IMPORT_DEFAULT_MAX_ELEMENT ((size_t)32 << 20)

/* What happened to one input element (for per-object reports such as TAXII statuses). */
typedef enum sk_import_outcome {
	SK_IMPORT_NEW,       /* stored: a version the store did not have */
	SK_IMPORT_ADDED,     /* known version, newly added to the collection */
	SK_IMPORT_DUPLICATE, /* already present */
	SK_IMPORT_REJECTED,  /* invalid; message says why */
} sk_import_outcome;

typedef struct sk_import_event {
	uint64_t index;      /* 0-based element number in the input */
	const char *id;      /* the object's id, or NULL if it has none usable */
	const char *spec;    /* "2.0"/"2.1", NULL when rejected */
	const char *version; /* sortable version key ("" unversioned); when rejected, the
	                      * version it was sent with (modified, else created) if
	                      * that parses, else NULL */
	sk_import_outcome outcome;
	const char *message; /* reason for a rejection, else NULL */
} sk_import_event;

typedef struct sk_import_opts {
	int64_t cid;        /* collection to add objects to (0 = none) */
	bool strict;        /* reject the whole input on the first error */
	size_t batch;       /* objects per transaction; 0 = SK_IMPORT_DEFAULT_BATCH */
	/*
	 * The caller has a transaction open (sk_store_begin): store into it,
	 * never commit or roll back (after an error the caller rolls back; the
	 * stored/added/duplicate counts are then already undone).  batch and
	 * strict's all-or-nothing are the caller's affair.
	 */
	bool in_tx;
	/*
	 * Frame, parse and validate on a second thread, a bounded distance
	 * (64 elements, 4 MiB) ahead of storing.  Outcomes, callbacks and
	 * transactions are the same as without; on_progress is then called
	 * from that thread (the one reading the input).
	 */
	bool pipeline;
	size_t max_element; /* largest object in bytes; 0 = SK_IMPORT_DEFAULT_MAX_ELEMENT */
	int max_depth;      /* deepest JSON nesting; 0 = 64 */
	/* Called for each rejected object; where is "file:line (offset N)". */
	void (*on_reject)(void *ud, const char *where, const char *msg);
	/* Called now and then with input bytes read so far and objects seen. */
	void (*on_progress)(void *ud, const sk_reader *rd, uint64_t objects);
	void *ud;
	/*
	 * Called for every element once its outcome is known (may be NULL).
	 * Strings are valid only during the call.  Outcomes of a batch that is
	 * rolled back later (structural error, strict) were reported already:
	 * the return code tells the caller to discard them.
	 */
	void (*on_object)(void *ud, const sk_import_event *ev);
} sk_import_opts;

typedef struct sk_import_count {
	char type[64]; /* "(other)" collects types past SK_IMPORT_MAX_TYPES */
	uint64_t stored, added, duplicate, rejected;
} sk_import_count;

typedef struct sk_import_stats {
	uint64_t objects; /* elements seen */
	uint64_t stored, added, duplicate, rejected;
	uint64_t conflicts; /* of the rejected: same id and version as a stored one, other content */
	uint64_t bytes; /* uncompressed input bytes */
	size_t ntypes;
	sk_import_count types[SK_IMPORT_MAX_TYPES];
} sk_import_stats;

/*
 * Import from an open reader (borrowed).  Adds into *stats (zero it first).
 * Returns SK_OK when the input was read to its end, even if objects were
 * rejected (see stats->rejected); an error code if the input could not be
 * read (err says where) or, with strict, on the first rejected object.
 */
sk_err sk_import_reader(sk_store *st, sk_reader *rd, const sk_import_opts *o,
			sk_import_stats *stats, sk_error *err);

/* Open path ("-" = stdin) and import it; see sk_import_reader. */
sk_err sk_import_file(sk_store *st, const char *path, const sk_import_opts *o,
		      sk_import_stats *stats, sk_error *err);

#endif
