/*
 * store.h - the node's durable STIX knowledge store (SQLite, WAL).
 *
 * One store is one SQLite database file.  It holds the node's identity, every
 * version of every STIX object ever accepted (keyed by id, spec version and
 * version), the marking index the sharing layer filters on, and collections,
 * each with a strictly increasing microsecond date_added per object version
 * (the key TAXII pagination relies on).  See docs/storage.md for the schema.
 *
 * Threading: an sk_store is one SQLite connection; use it from one thread at
 * a time.  Several stores (connections, processes) may share a file: readers
 * never block on a writer (WAL), writers are serialised by SQLite.
 */
#ifndef SCHAKEL_STORE_H
#define SCHAKEL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/sign.h"
#include "schakel/stix.h"
#include "schakel/timestamp.h"
#include "schakel/tlp.h"

typedef struct sk_store sk_store;

enum {
	SK_STORE_CREATE = 1 << 0,   /* create the file and schema if missing */
	SK_STORE_READONLY = 1 << 1, /* open for reading only */
};

/* Schema version this build writes (PRAGMA user_version). */
#define SK_STORE_SCHEMA_VERSION 19

/*
 * Open (and migrate to the current schema) the store at path.  Without
 * SK_STORE_CREATE a missing or uninitialised database is SK_ENOTINIT.  A
 * database written by a newer schakel is SK_ESCHEMA.  Free with
 * sk_store_close().
 */
sk_err sk_store_open(const char *path, unsigned flags, sk_store **out, sk_error *err);

/* Close the store; st may be NULL.  Rolls back an open transaction. */
void sk_store_close(sk_store *st);

/* --- the node ----------------------------------------------------------- */

typedef struct sk_node_params {
	const char *name;           /* organisation name (required) */
	const char *const *sectors; /* STIX industry-sector-ov values */
	size_t nsectors;
	const char *country;        /* ISO 3166-1 alpha-2, or NULL */
	const char *contact;        /* contact_information, or NULL */
} sk_node_params;

/*
 * Give an empty store its identity: a STIX identity object (plus a location
 * and a located-at relationship when a country is given) and a collection
 * named "default".  SK_EEXIST if the node is already initialised.
 */
sk_err sk_store_init_node(sk_store *st, const sk_node_params *p, sk_error *err);

/* The node's identity id (malloc'd, caller frees), SK_ENOTINIT if none. */
sk_err sk_store_node_id(sk_store *st, char **id, sk_error *err);

/* --- transactions ------------------------------------------------------- */

/* BEGIN IMMEDIATE: takes the write lock now so later writes cannot deadlock. */
sk_err sk_store_begin(sk_store *st, sk_error *err);
sk_err sk_store_commit(sk_store *st, sk_error *err);
void sk_store_rollback(sk_store *st);

#define SK_STORE_CACHE_KIB 32768 /* a connection's page cache unless raised */

/*
 * Set this connection's page cache limit (KiB; 0 = SK_STORE_CACHE_KIB).
 * Bulk writers raise it while they run: with more objects than the cache
 * holds, inserts into the random-key indexes (ids are UUIDs) evict dirty
 * pages mid-transaction and re-read them, writing each page many times.
 * The cache fills only as pages are used; lowering it frees the rest.
 */
sk_err sk_store_cache_kib(sk_store *st, size_t kib, sk_error *err);

/*
 * Bulk writing on this connection (on = true, with a page cache of
 * cache_kib) until called with on = false: the WAL is checkpointed by a
 * thread with a connection of its own, after each commit that leaves
 * more than 1,000 pages in it, instead of by the committing thread.  If
 * that thread cannot start, the committing thread checkpoints as usual.
 */
sk_err sk_store_bulk(sk_store *st, bool on, size_t cache_kib, sk_error *err);

/* --- collections -------------------------------------------------------- */

typedef struct sk_collection {
	int64_t cid;
	char uuid[37];
	char *name;        /* malloc'd */
	char *title;       /* malloc'd, may be NULL */
	char *description; /* malloc'd, may be NULL */
	sk_tlp default_tlp;
	bool is_public;
	int64_t objects; /* object versions in the collection */
} sk_collection;

/* Free the strings of c (not c itself); c may be NULL. */
void sk_collection_clear(sk_collection *c);

/* Find a collection by name or UUID.  SK_ENOTFOUND if there is none. */
sk_err sk_store_collection_get(sk_store *st, const char *name_or_uuid, sk_collection *out,
			       sk_error *err);

/*
 * Create a collection.  uuid may be NULL (a random one is made).  Fails with
 * SK_EEXIST if the name or uuid is taken.  out may be NULL.
 */
sk_err sk_store_collection_add(sk_store *st, const char *name, const char *uuid,
			       const char *title, const char *description, sk_collection *out,
			       sk_error *err);

/* Call fn for each collection (fn returns non-zero to stop). */
sk_err sk_store_collections(sk_store *st, int (*fn)(void *ud, const sk_collection *c), void *ud,
			    sk_error *err);

/* --- writing objects ---------------------------------------------------- */

typedef enum sk_put_outcome {
	SK_PUT_NEW,       /* a version the store did not have */
	SK_PUT_ADDED,     /* known version, newly added to this collection */
	SK_PUT_DUPLICATE, /* the collection already had this version */
} sk_put_outcome;

/*
 * Where the versions stored next come from (federation provenance).  With
 * o set, every version new to the store gets objects.rx = o->rx and a
 * provenance row (peer, source, arrival time, source date_added) in the same
 * transaction.  o's strings are borrowed until the next call; NULL = made or
 * imported here (the default).
 */
typedef struct sk_origin {
	const char *rx;       /* the source's identity (or "peer:NAME"); NULL = local */
	const char *peer;     /* the peer it was pulled from, or NULL (POSTed) */
	int64_t source_added; /* date_added at the source (µs), 0 = unknown */
	/*
	 * The level an unmarked version from this source arrived under (a
	 * peer's or partner's setting); SK_TLP_NONE = SK_TLP_AMBER.
	 */
	sk_tlp unmarked;
	/* unmarked versions take the collection's default instead (a file the operator imports) */
	bool collection_default;
	/*
	 * A file without a named source: versions produced by this node (or
	 * by nobody named) are local, the rest come from rx (SK_RX_UNKNOWN).
	 */
	bool unless_own;
	/* trust on first use: pin the key the source's own identity object publishes */
	bool tofu;
} sk_origin;

/* objects.rx of versions from a file whose source is not named: they never leave at AMBER+. */
#define SK_RX_UNKNOWN "file:unknown"
void sk_store_set_origin(sk_store *st, const sk_origin *o);

/*
 * Store one validated object version (info from sk_stix_validate, whose
 * document must still be alive) in collection cid (0 = in no collection), with
 * json/len its serialised text (stored as is, byte for byte).  Must run
 * inside sk_store_begin/commit.  *date_added (may be NULL) receives the new
 * date_added for SK_PUT_NEW and SK_PUT_ADDED into a collection; it is left
 * unchanged for SK_PUT_DUPLICATE.
 *
 * Every write obeys the write rule (store_rule.c, docs/sharing-policy.md):
 * only an object's producer, or the source that first delivered it, may
 * store versions of it; a version stored with other content, a version
 * dated in the future, a claim to be this node from elsewhere and a TLP
 * marking-definition id with other content are refused with SK_EPERM and a
 * per-object reason in err (nothing is written).  A known version from a
 * writer that may not version the object is SK_PUT_DUPLICATE and placed in
 * no collection.
 */
sk_err sk_store_put(sk_store *st, int64_t cid, const sk_stix_info *info,
		    const char *json, size_t len, sk_put_outcome *outcome, int64_t *date_added,
		    sk_error *err);

/* --- reading objects ---------------------------------------------------- */

typedef struct sk_row {
	int64_t ver;         /* version row id, stable */
	const char *id;
	const char *type;
	const char *spec;
	const char *version; /* sortable version key, "" if unversioned */
	const char *json;
	size_t len;
	int64_t date_added;  /* in the queried collection (or first storage time) */
	sk_tlp tlp;
	const char *created_by; /* or NULL */
	bool revoked;
} sk_row;

/* Row callback: the row is only valid during the call; return non-zero to stop. */
typedef int (*sk_row_fn)(void *ud, const sk_row *row);

enum {
	SK_VER_LAST = 1 << 0,  /* the newest version of each object (the default) */
	SK_VER_FIRST = 1 << 1, /* the oldest version of each object */
	SK_VER_ALL = 1 << 2,   /* every version */
};

typedef struct sk_query {
	int64_t cid;                 /* collection, or 0 for the whole store */
	const char *const *types;    /* OR-ed; NULL/0 = any */
	size_t ntypes;
	const char *const *ids;      /* OR-ed; NULL/0 = any */
	size_t nids;
	unsigned vermode;            /* SK_VER_* bits, OR-ed with versions; 0 = LAST */
	const char *const *versions; /* explicit version keys (sk_ts_parse keys) */
	size_t nversions;
	const char *const *specs;    /* "2.0"/"2.1"; NULL/0 = each object's latest spec */
	size_t nspecs;
	int64_t added_after;         /* strict lower bound on date_added; < 0 = none */
	int64_t cursor;              /* keyset: rows after this date_added (cid) or ver; 0 = start */
	size_t limit;                /* 0 = no limit */
	/*
	 * Visibility (policy.h's sk_policy_apply fills these).  With vis set,
	 * a version exists for this query only if its effective TLP level L
	 * (its own, or vis_default_tlp when unmarked) has bit L set in
	 * vis_mask, or in vis_producer_mask when its created_by equals
	 * vis_producer.  Hidden versions are also ignored when deciding which
	 * version is the latest / first and which spec version is the latest.
	 */
	bool vis;
	unsigned vis_mask, vis_producer_mask;
	const char *vis_producer; /* may be NULL */
	int vis_default_tlp;
	/*
	 * Received versions (objects.rx set) at AMBER or above are visible only
	 * when vis_rx_reader and vis_producer is their producer or their source.
	 */
	bool vis_rx_reader;
	bool by_version;             /* order by (spec, version) instead of date_added */
} sk_query;

/* Initialise q to "everything, latest versions, latest spec". */
void sk_query_init(sk_query *q);

/*
 * Call fn for each object version matching q, in date_added order within a
 * collection (version row order for the whole store).
 */
sk_err sk_store_query(sk_store *st, const sk_query *q, sk_row_fn fn, void *ud, sk_error *err);

/* Versions of one object (all, or only the latest), oldest first. */
sk_err sk_store_get(sk_store *st, const char *id, bool all_versions, sk_row_fn fn, void *ud,
		    sk_error *err);

/*
 * Latest relationship and sighting versions that touch id, in either
 * direction.  *outgoing tells the direction of each row.
 */
typedef int (*sk_rel_fn)(void *ud, const sk_row *rel, const char *rel_type, const char *other,
			 bool outgoing);
sk_err sk_store_relations(sk_store *st, const char *id, sk_rel_fn fn, void *ud, sk_error *err);

/*
 * Latest versions of the objects that reference id in their object_refs
 * (reports, groupings, notes, opinions, observed data), newest first, at
 * most limit (0 = all).  fn returns non-zero to stop.
 */
sk_err sk_store_containers(sk_store *st, const char *id, size_t limit, sk_row_fn fn, void *ud,
			   sk_error *err);

/*
 * The indicators a matcher compiles, from the indicators side table (schema
 * 5) without touching the objects' JSON: one row per indicator id, its
 * newest version (any spec; on an equal version the first stored stays).
 * Validity windows and pattern types are the caller's to check (indload.h
 * does).  Fetch the full object later with sk_store_get_ver.
 */
typedef struct sk_ind_row {
	int64_t ver;              /* objects.ver of the version */
	const char *id;
	const char *pattern;      /* may be NULL (an invalid object) */
	size_t pattern_len;
	const char *pattern_type; /* NULL = absent (STIX 2.0: stix) */
	const char *valid_from;   /* as written, or NULL */
	const char *valid_until;
	bool subdomains;          /* "x_schakel_subdomains": true */
	bool revoked;             /* only with SK_IND_REVOKED */
	int64_t arrived;          /* with SK_IND_ARRIVAL: when the version arrived here, µs (the
				     provenance arrival of a received version, else its storage
				     time); else 0 */
	int64_t alert_until;      /* when its score falls below decay.threshold, µs (decay.h;
				     INT64_MAX: never) */
} sk_ind_row;

enum {
	SK_IND_REVOKED = 1 << 0, /* also the indicators whose newest version is revoked */
	SK_IND_ARRIVAL = 1 << 1, /* fill row->arrived (two more lookups per row) */
};

/*
 * Call fn for each indicator whose newest version was stored after version
 * row after_ver (0 = every indicator), in storage order; without
 * SK_IND_REVOKED, revoked ones are left out.  Strings are NULL when the
 * property is absent and are only valid during the call; fn returns
 * non-zero to stop.  Used for a full compile (after_ver 0) and to patch a
 * live matcher with what changed since the last build.
 */
sk_err sk_store_indicator_rows(sk_store *st, int64_t after_ver, unsigned flags,
			       int (*fn)(void *ud, const sk_ind_row *r), void *ud, sk_error *err);

/*
 * The largest version row id in the indicators side table (0 if none): a
 * cheap "anything new for sk_store_indicator_rows?" probe.
 */
sk_err sk_store_indicator_max_ver(sk_store *st, int64_t *out, sk_error *err);

/*
 * What the indicators side table holds, in a few words for a cache key
 * ("ind=MAXVER rep=N dec=G"): every new indicator version raises the largest
 * row id (rows are never deleted), the rare in-place replacement of a
 * version (a producer's copy replacing a relay's) bumps a counter, and so
 * does a change of scores that can change what alerts (decay.h: a model,
 * threshold or trust change, a report lowering a score or reviving a
 * decayed indicator).
 */
sk_err sk_store_indicator_stamp(sk_store *st, char *buf, size_t n, sk_error *err);

/*
 * For bulk writers (feed import): while on, sk_store_put leaves the search
 * index (store_search.c) to a catch-up pass.  Call it with on = true inside
 * each write transaction (it records the resume point, meta
 * 'search_backfill', in that transaction, so after a crash the next
 * read-write open indexes what was left); off, then sk_store_search_catch_up
 * indexes everything written meanwhile (*n: versions looked at; may be NULL).
 */
sk_err sk_store_defer_search(sk_store *st, bool on, sk_error *err);
sk_err sk_store_search_catch_up(sk_store *st, uint64_t *n, sk_error *err);

/* The object version with row id ver (fn called once; SK_ENOTFOUND if there is none). */
sk_err sk_store_get_ver(sk_store *st, int64_t ver, sk_row_fn fn, void *ud, sk_error *err);

/* --- statistics --------------------------------------------------------- */

typedef struct sk_stat_row {
	const char *collection; /* NULL: whole store */
	const char *type;
	int64_t objects;  /* distinct ids */
	int64_t versions; /* object versions */
} sk_stat_row;

sk_err sk_store_stats(sk_store *st, int (*fn)(void *ud, const sk_stat_row *r), void *ud,
		      sk_error *err);

/* --- keys (store_keys.c, docs/provenance.md) ----------------------------- */

typedef struct sk_key_row {
	const char *identity;
	unsigned char pk[SK_KEY_PK_LEN];
	const char *how;  /* "own", "configured", "first use", "rotation" */
	int64_t pinned_us;
	bool current;     /* the key in force; the others are keys it rotated from */
} sk_key_row;

/*
 * The verdict on obj's signature for producer identity: checked against
 * the identity's current key, then the keys it rotated from.
 */
sk_err sk_store_key_verify(sk_store *st, const char *identity, const sk_jval *obj,
			   sk_sig_verdict *verdict, sk_error *err);

/* The key in force for identity: *found false if none. */
sk_err sk_store_key_get(sk_store *st, const char *identity, unsigned char pk[SK_KEY_PK_LEN],
			bool *found, sk_error *err);

/* Pin pk for identity (replacing a pin); how says why (sk_key_row.how). */
sk_err sk_store_key_pin(sk_store *st, const char *identity, const unsigned char pk[SK_KEY_PK_LEN],
			const char *how, sk_error *err);

/* Call fn for every pinned key (fn returns non-zero to stop). */
sk_err sk_store_keys(sk_store *st, int (*fn)(void *ud, const sk_key_row *r), void *ud,
		     sk_error *err);

/* The node's identity id (borrowed, cached), or NULL before init. */
const char *sk_store_own_id(sk_store *st);

/* The node's key pair from "<db>.key" (borrowed, cached), or NULL if it has none. */
const sk_keypair *sk_store_own_key(sk_store *st);

/*
 * Give a node without a key one: generate it, save "<db>.key" (0600), pin
 * it for the node's identity and publish it in a new, signed version of the
 * identity object.  *made says whether it did.  No-op before init and for
 * ":memory:" stores.
 */
sk_err sk_store_own_key_ensure(sk_store *st, bool *made, sk_error *err);

/*
 * Replace the node's key: the identity publishing the new key is signed with
 * the old one (receivers that pinned the old key accept the rotation); the
 * old key is kept as "<db>.key.old".
 */
sk_err sk_store_own_key_rotate(sk_store *st, sk_error *err);

/* The verdict on the signature of id's newest stored version (docs/provenance.md). */
sk_err sk_store_signature(sk_store *st, const char *id, sk_sig_verdict *verdict, sk_error *err);

/* The newest stored version of id: its text, producer and source (malloc'd; NULL if none). */
sk_err sk_store_latest(sk_store *st, const char *id, char **json, char **by, char **rx,
		       sk_error *err);

/*
 * Revoke an object produced here: a new version with revoked true (and
 * x_schakel_revocation_reason), signed, in every collection holding the
 * newest one.  version receives its modified.  SK_EPERM for an object
 * produced elsewhere, SK_EEXIST if already revoked.
 */
sk_err sk_store_revoke(sk_store *st, const char *id, const char *reason,
		       char version[SK_TS_STR_MAX], sk_error *err);

/* --- bundle files (cli bundle; bundle.h) ------------------------------------ */

/* The last bundle sent to recipient: its seq and date_added cursor (0, 0 if none). */
void sk_store_bundle_out(sk_store *st, const char *recipient, int64_t *last_seq, int64_t *cursor);

/* Record a bundle sent to recipient (inside a transaction, or alone). */
sk_err sk_store_bundle_sent(sk_store *st, const char *recipient, int64_t seq, int64_t cursor,
			    sk_error *err);

/* The seq of the last bundle imported from sender (0 if none). */
int64_t sk_store_bundle_last_in(sk_store *st, const char *sender);

/* Record the seq of a bundle imported from sender (with its objects, in one transaction). */
sk_err sk_store_bundle_seen(sk_store *st, const char *sender, int64_t seq, sk_error *err);

/* --- log sources read (store_logsrc.c; docs/cooperation.md) ---------------- */

/*
 * Count records read from a log source of kind (a reader's source kind,
 * "zeek:dns"; never a path) at now (seconds): first_seen is kept, last_seen
 * and records advance, types (comma-separated STIX object types) is merged
 * with those held.  Inside the caller's transaction, or alone.
 */
sk_err sk_store_logsrc_add(sk_store *st, const char *kind, int64_t now, int64_t records,
			   const char *types, sk_error *err);

/* --- backups (store_backup.c) ------------------------------------------ */

/*
 * Copy st's database to dest (created 0600; must not be in use) with the
 * online backup API: one consistent snapshot while other connections work;
 * the copy is checked (PRAGMA quick_check).
 */
sk_err sk_store_backup(sk_store *st, const char *dest, sk_error *err);

/* Copy the database file src to dest the same way (restoring a backup). */
sk_err sk_store_restore(const char *src, const char *dest, sk_error *err);

#endif
