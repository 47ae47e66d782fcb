/*
 * store.c - opening the SQLite knowledge store and migrating its schema; the
 * connection's statement cache, transactions and bulk mode; the node's
 * identity.
 *
 * Writing objects lives in store_write.c, collections in store_collection.c,
 * reading in store_query.c.  Every statement is prepared with bound
 * parameters.
 */
#include "store_int.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/file.h"
#include "schakel/timestamp.h"
#include "schakel/uuid.h"

/*
 * Migrations: entry i takes the schema from user_version i to i + 1.  Never
 * edit an entry that has shipped; append a new one.
 */
static const char *const migrations[] = {
    /* 0 -> 1: the knowledge store */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE objects("
    "  ver INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL, type TEXT NOT NULL, spec TEXT NOT NULL, version TEXT NOT NULL,"
    "  created TEXT, modified TEXT, revoked INTEGER NOT NULL DEFAULT 0,"
    "  created_by TEXT, tlp INTEGER NOT NULL DEFAULT 0,"
    "  src_ref TEXT, dst_ref TEXT, rel_type TEXT,"
    "  added INTEGER NOT NULL, json TEXT NOT NULL,"
    "  UNIQUE(id, spec, version));"
    "CREATE INDEX objects_type ON objects(type);"
    "CREATE INDEX objects_src ON objects(src_ref) WHERE src_ref IS NOT NULL;"
    "CREATE INDEX objects_dst ON objects(dst_ref) WHERE dst_ref IS NOT NULL;"
    "CREATE TABLE object_markings("
    "  ver INTEGER NOT NULL REFERENCES objects(ver) ON DELETE CASCADE,"
    "  marking TEXT NOT NULL, granular INTEGER NOT NULL,"
    "  PRIMARY KEY(ver, marking, granular)) WITHOUT ROWID;"
    "CREATE INDEX object_markings_marking ON object_markings(marking);"
    "CREATE TABLE collections("
    "  cid INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE,"
    "  title TEXT, description TEXT, default_tlp INTEGER NOT NULL DEFAULT 3,"
    "  public INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);"
    /* one row per (collection, object version); date_added is the TAXII key */
    "CREATE TABLE collection_objects("
    "  coll INTEGER NOT NULL REFERENCES collections(cid) ON DELETE CASCADE,"
    "  date_added INTEGER NOT NULL,"
    "  ver INTEGER NOT NULL REFERENCES objects(ver),"
    "  PRIMARY KEY(coll, date_added)) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX collection_objects_ver ON collection_objects(coll, ver);",
    /* 1 -> 2: sharing (TAXII 2.1): partners, accounts, grants, API roots, statuses */
    "CREATE TABLE partners("
    "  pid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, identity TEXT NOT NULL UNIQUE,"
    "  country TEXT, created INTEGER NOT NULL);"
    "CREATE TABLE accounts("
    "  aid INTEGER PRIMARY KEY,"
    "  pid INTEGER NOT NULL REFERENCES partners(pid) ON DELETE CASCADE,"
    "  name TEXT NOT NULL UNIQUE, pwhash TEXT, created INTEGER NOT NULL);"
    "CREATE TABLE tokens("
    "  tid INTEGER PRIMARY KEY,"
    "  aid INTEGER NOT NULL REFERENCES accounts(aid) ON DELETE CASCADE,"
    "  hash BLOB NOT NULL UNIQUE, prefix TEXT NOT NULL, label TEXT,"
    "  created INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE grants("
    "  coll INTEGER NOT NULL REFERENCES collections(cid) ON DELETE CASCADE,"
    "  pid INTEGER NOT NULL REFERENCES partners(pid) ON DELETE CASCADE,"
    "  can_read INTEGER NOT NULL DEFAULT 0, can_write INTEGER NOT NULL DEFAULT 0,"
    "  amber INTEGER NOT NULL DEFAULT 0, amber_strict INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(coll, pid)) WITHOUT ROWID;"
    "CREATE TABLE red_recipients("
    "  coll INTEGER NOT NULL REFERENCES collections(cid) ON DELETE CASCADE,"
    "  aid INTEGER NOT NULL REFERENCES accounts(aid) ON DELETE CASCADE,"
    "  PRIMARY KEY(coll, aid)) WITHOUT ROWID;"
    "CREATE TABLE collection_aliases("
    "  alias TEXT PRIMARY KEY,"
    "  coll INTEGER NOT NULL REFERENCES collections(cid) ON DELETE CASCADE) WITHOUT ROWID;"
    "CREATE TABLE api_roots("
    "  rid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, title TEXT, description TEXT);"
    "INSERT INTO api_roots(rid, name, title) VALUES(1, 'api', 'schakel API root');"
    "ALTER TABLE collections ADD COLUMN root INTEGER NOT NULL DEFAULT 1;"
    "CREATE TABLE statuses("
    "  sid TEXT PRIMARY KEY, root INTEGER NOT NULL, coll INTEGER NOT NULL,"
    "  aid INTEGER NOT NULL, created INTEGER NOT NULL, total INTEGER NOT NULL,"
    "  success INTEGER NOT NULL, failure INTEGER NOT NULL, pending INTEGER NOT NULL);"
    "CREATE INDEX statuses_created ON statuses(created);"
    "CREATE TABLE status_details("
    "  sid TEXT NOT NULL REFERENCES statuses(sid) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL, outcome INTEGER NOT NULL, id TEXT, spec TEXT, version TEXT,"
    "  message TEXT, PRIMARY KEY(sid, seq)) WITHOUT ROWID;",
    /* 2 -> 3: MISP warning lists (warninglist.c) */
    "CREATE TABLE warninglists("
    "  name TEXT PRIMARY KEY, version INTEGER NOT NULL, description TEXT,"
    "  type TEXT NOT NULL, matching_attributes TEXT NOT NULL, loaded INTEGER NOT NULL)"
    "  WITHOUT ROWID;"
    "CREATE TABLE warninglist_entries("
    "  list TEXT NOT NULL REFERENCES warninglists(name) ON DELETE CASCADE,"
    "  value TEXT NOT NULL, PRIMARY KEY(list, value)) WITHOUT ROWID;",
    /*
     * 3 -> 4: federation sync (sync.c, peer.c).  objects.rx names where a
     * version first arrived from (a peer's or partner's identity, or
     * "peer:NAME"); NULL = made or imported here.  The onward-sharing rule
     * (docs/sharing-policy.md) reads it.  Peer secrets are not in the
     * database (peer.h: the <db>.secrets file).
     */
    "ALTER TABLE objects ADD COLUMN rx TEXT;"
    "CREATE TABLE peers("
    "  pid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, url TEXT NOT NULL,"
    "  api_root TEXT NOT NULL, collection TEXT NOT NULL, auth TEXT NOT NULL,"
    "  username TEXT, secret_ref TEXT, pull INTEGER NOT NULL, push INTEGER NOT NULL,"
    "  ca TEXT, identity TEXT, local_coll INTEGER NOT NULL REFERENCES collections(cid),"
    "  reshare INTEGER NOT NULL DEFAULT 0, interval INTEGER NOT NULL DEFAULT 30,"
    "  created INTEGER NOT NULL);"
    /* durable sync state, one row per peer */
    "CREATE TABLE peer_state("
    "  pid INTEGER PRIMARY KEY REFERENCES peers(pid) ON DELETE CASCADE,"
    "  pull_cursor TEXT, push_cursor INTEGER NOT NULL DEFAULT 0,"
    "  last_try INTEGER, last_ok INTEGER, last_error TEXT,"
    "  failures INTEGER NOT NULL DEFAULT 0, next_run INTEGER NOT NULL DEFAULT 0,"
    "  objects_in INTEGER NOT NULL DEFAULT 0, objects_out INTEGER NOT NULL DEFAULT 0,"
    "  sightings_in INTEGER NOT NULL DEFAULT 0, sightings_out INTEGER NOT NULL DEFAULT 0,"
    "  share_us_sum INTEGER NOT NULL DEFAULT 0, share_n INTEGER NOT NULL DEFAULT 0,"
    "  last_source_added INTEGER, requests INTEGER NOT NULL DEFAULT 0);"
    /* where each version first came from (one row per version) */
    "CREATE TABLE provenance("
    "  ver INTEGER PRIMARY KEY REFERENCES objects(ver),"
    "  peer TEXT, source TEXT, arrived INTEGER NOT NULL, source_added INTEGER);"
    /* versions waiting to be POSTed to a peer */
    "CREATE TABLE outbox("
    "  pid INTEGER NOT NULL REFERENCES peers(pid) ON DELETE CASCADE,"
    "  ver INTEGER NOT NULL REFERENCES objects(ver),"
    "  queued INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_try INTEGER NOT NULL DEFAULT 0, last_error TEXT,"
    "  PRIMARY KEY(pid, ver)) WITHOUT ROWID;"
    "CREATE INDEX outbox_due ON outbox(pid, next_try);",
    /*
     * 4 -> 5: what the matcher compiles, without reading every object's JSON:
     * one row per indicator id holding its newest version (any spec; on a tie
     * the first stored stays), kept by a trigger on objects so that every
     * writer (import, TAXII, feeds, sk_store_put) maintains it.  Rows are
     * keyed by that version's objects.ver, so the table scans in storage order.
     */
    "CREATE TABLE indicators("
    "  ver INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, version TEXT NOT NULL,"
    "  revoked INTEGER NOT NULL, pattern TEXT, pattern_type TEXT,"
    "  valid_from TEXT, valid_until TEXT, subdomains INTEGER NOT NULL);"
    "CREATE TRIGGER indicators_put AFTER INSERT ON objects WHEN new.type='indicator' BEGIN"
    "  INSERT INTO indicators(ver,id,version,revoked,pattern,pattern_type,valid_from,"
    "    valid_until,subdomains)"
    "  SELECT new.ver, new.id, new.version, new.revoked, json_extract(new.json,'$.pattern'),"
    "    json_extract(new.json,'$.pattern_type'), json_extract(new.json,'$.valid_from'),"
    "    json_extract(new.json,'$.valid_until'),"
    "    json_type(new.json,'$.x_schakel_subdomains') IS 'true'"
    "  WHERE NOT EXISTS (SELECT 1 FROM indicators i WHERE i.id=new.id"
    "    AND i.version>=new.version)"
    "  ON CONFLICT(id) DO UPDATE SET ver=excluded.ver, version=excluded.version,"
    "    revoked=excluded.revoked, pattern=excluded.pattern,"
    "    pattern_type=excluded.pattern_type, valid_from=excluded.valid_from,"
    "    valid_until=excluded.valid_until, subdomains=excluded.subdomains;"
    " END;"
    "INSERT INTO indicators(ver,id,version,revoked,pattern,pattern_type,valid_from,"
    "  valid_until,subdomains)"
    " SELECT o.ver, o.id, o.version, o.revoked, json_extract(o.json,'$.pattern'),"
    "  json_extract(o.json,'$.pattern_type'), json_extract(o.json,'$.valid_from'),"
    "  json_extract(o.json,'$.valid_until'),"
    "  json_type(o.json,'$.x_schakel_subdomains') IS 'true'"
    " FROM objects o WHERE o.type='indicator'"
    "  AND NOT EXISTS (SELECT 1 FROM objects y WHERE y.id=o.id AND y.version>o.version)"
    " ORDER BY o.ver ON CONFLICT(id) DO NOTHING;",
    /*
     * 5 -> 6: sk_store_put keeps the indicators table itself (every writer
     * stores through it; S_UPS_IND).  With a trigger on objects, SQLite runs
     * each insert of an object under a statement journal, copying every page
     * the insert touches: two thirds of an import's instructions.  No query
     * reads object_markings by marking: its index only cost every insert
     * (5% of an import); the primary key (ver, marking, granular) stays.
     */
    ("DROP TRIGGER IF EXISTS indicators_put;"
     "DROP INDEX IF EXISTS object_markings_marking;"),
    /*
     * 6 -> 7: the write rule (store_rule.c).  A received version keeps the
     * level it arrived under in objects.tlp: an unmarked one from a peer or
     * partner is TLP:AMBER unless that source is configured otherwise
     * (unmarked_tlp), never the local collection's default.  Versions
     * received before this migration were unmarked: fail closed.
     */
    ("ALTER TABLE peers ADD COLUMN unmarked_tlp INTEGER NOT NULL DEFAULT 3;"
     "ALTER TABLE partners ADD COLUMN unmarked_tlp INTEGER NOT NULL DEFAULT 3;"
     "UPDATE objects SET tlp=3 WHERE rx IS NOT NULL AND tlp=0;"),
    /*
     * 7 -> 8: accounts of the node's own people, disabling, and immediate
     * account changes (account.c).  accounts.pid is NOT NULL REFERENCES
     * partners, and SQLite cannot drop NOT NULL with ALTER.  Rebuilding
     * accounts is not safe here: tokens and red_recipients reference it ON
     * DELETE CASCADE, foreign_keys is ON, and this runner wraps each step in
     * a transaction, where PRAGMA foreign_keys is a no-op, so DROP TABLE
     * accounts would delete every token and RED recipient.  Instead own
     * accounts belong to one reserved partner row: pid 0 (the policy gives a
     * principal with pid <= 0 no grants, whatever the grants table says; 0,
     * not -1, so that SQLite still numbers the first real partner 1), the
     * empty name (sk_partner_add refuses it) and an identity that is not a
     * STIX id (no object can claim it); partner listings and lookups skip
     * pid <= 0.  role: NULL for a partner's account, else admin | analyst |
     * viewer | metrics.  disabled: its password and tokens are refused.  gen:
     * bumped by every change of the account or its tokens; a running server's
     * login cache compares it on every hit.
     */
    ("ALTER TABLE accounts ADD COLUMN role TEXT;"
     "ALTER TABLE accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE accounts ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;"
     "INSERT INTO partners(pid, name, identity, country, created)"
     " VALUES(0, '', 'x-schakel:own-organisation', NULL, 0);"),
    /*
     * 8 -> 9: provenance (store_keys.c, store_rule.c).  keys: the Ed25519
     * public keys pinned per identity, one table for partners and peers
     * (how: own, configured, first use, rotation); current marks the one in
     * force, the others are the keys it rotated from, which still verify
     * what they signed before the rotation.  objects.sig: the
     * signature verdict of a version when it arrived (sk_sig_verdict:
     * 0 unsigned, 1 verified, 2 unknown key; bad signatures are refused).
     */
    ("CREATE TABLE keys(identity TEXT NOT NULL, pk BLOB NOT NULL, how TEXT NOT NULL,"
     "  pinned INTEGER NOT NULL, current INTEGER NOT NULL,"
     "  PRIMARY KEY(identity, pk)) WITHOUT ROWID;"
     "ALTER TABLE objects ADD COLUMN sig INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE peers ADD COLUMN tofu INTEGER NOT NULL DEFAULT 0;"
     /* bundle files: the last sent per recipient (seq, date_added cursor), last seen per sender */
     "CREATE TABLE bundle_out(recipient TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
     "  cursor INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE TABLE bundle_in(sender TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;"),
    /*
     * 9 -> 10: the tamper-evident audit log (audit.c, docs/audit.md).  seq is
     * assigned by the appender as last + 1 (no AUTOINCREMENT gaps: a gap is
     * a removed entry); hash = BLAKE2b(prev || the entry's fields).  A
     * checkpoint signs (seq, hash) of an entry with the node key; the one at
     * the last archived entry stays as the anchor of the entries after it.
     */
    ("CREATE TABLE audit("
     "  seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, actor TEXT NOT NULL,"
     "  action TEXT NOT NULL, subject TEXT, detail TEXT NOT NULL, versions TEXT,"
     "  prev BLOB NOT NULL, hash BLOB NOT NULL);"
     "CREATE TABLE audit_checkpoints("
     "  seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, every INTEGER NOT NULL,"
     "  hash BLOB NOT NULL, pk BLOB, sig BLOB);"),
    /*
     * 10 -> 11: the console's second factor (share/totp.c, RFC 6238).
     * totp_secret: the account's TOTP key once enrolled and confirmed (NULL:
     * no second factor); totp_pending: a key enrolled but not yet confirmed
     * with a code; totp_step: the last time step accepted, so that a code
     * is never accepted twice.  The database file is 0600.
     */
    ("ALTER TABLE accounts ADD COLUMN totp_secret BLOB;"
     "ALTER TABLE accounts ADD COLUMN totp_pending BLOB;"
     "ALTER TABLE accounts ADD COLUMN totp_step INTEGER NOT NULL DEFAULT 0;"),
    /*
     * 11 -> 12: the console's search (store_search.c): full text over the
     * newest version of each object, and the observable values of every
     * version.  SQL cannot parse patterns: sk_store_open fills both after
     * this step (sk_store_search_backfill, resumable from the cursor kept
     * in meta 'search_backfill').
     */
    ("CREATE VIRTUAL TABLE search USING fts5(name, description, keys, vals,"
     "  tokenize='unicode61 remove_diacritics 2');"
     "CREATE TABLE observables(value TEXT NOT NULL, ver INTEGER NOT NULL, kind TEXT NOT NULL,"
     "  PRIMARY KEY(value, ver)) WITHOUT ROWID;"
     "INSERT INTO meta(key, value) VALUES('search_backfill', '0');"),
    /*
     * 12 -> 13: the STIX 2.0 versions, few in any store, indexed, so a
     * collection can tell at once whether it holds any (its TAXII
     * media_types name version=2.0 then: TAXII 2.1 5.2.1, 5.3.1).
     */
    "CREATE INDEX objects_spec20 ON objects(ver) WHERE spec='2.0';",
    /*
     * 13 -> 14: invitations (share/invite.c, docs/enrol.md): a one-time
     * secret kept only as its BLAKE2b hash, for one partner's account and
     * grants; and the TLS public-key pin a peer made by `enrol` is reached
     * under.
     */
    ("CREATE TABLE invites(iid TEXT PRIMARY KEY, hash BLOB NOT NULL, partner TEXT NOT NULL,"
     "  account TEXT NOT NULL, coll TEXT NOT NULL, flags INTEGER NOT NULL,"
     "  created INTEGER NOT NULL, expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0,"
     "  used_by TEXT) WITHOUT ROWID;"
     "ALTER TABLE peers ADD COLUMN tls_pin TEXT;"),
    /*
     * 14 -> 15: versions recorded TLP:AMBER because a marking they
     * reference was not held yet (a bundle may define its markings after
     * the objects that use them), with how their source's unmarked
     * versions are treated; storing the marking-definition settles them
     * (store_rule.c, sk_store_unres_settle).
     */
    ("CREATE TABLE marking_pending(marking TEXT NOT NULL,"
     "  ver INTEGER NOT NULL REFERENCES objects(ver) ON DELETE CASCADE,"
     "  unmarked INTEGER NOT NULL, coll_default INTEGER NOT NULL,"
     "  PRIMARY KEY(marking, ver)) WITHOUT ROWID;"),
    /*
     * 15 -> 16: sensor fleets on NATS JetStream (src/fleet, docs/fleet.md).
     * collections.fleet: every version entering the collection is published
     * to the bus.  fleet_sensors: each sensor's NKey public key and the
     * partner whose audience stream it reads.  fleet_cursor: per audience
     * and fleet collection, the date_added up to which every version has
     * been acknowledged by JetStream (the hub resumes after it).
     */
    ("ALTER TABLE collections ADD COLUMN fleet INTEGER NOT NULL DEFAULT 0;"
     "CREATE TABLE fleet_sensors(name TEXT PRIMARY KEY, partner TEXT NOT NULL,"
     "  pk TEXT NOT NULL UNIQUE, created INTEGER NOT NULL, last_seen INTEGER,"
     "  sightings INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
     "CREATE TABLE fleet_cursor(audience TEXT NOT NULL, coll INTEGER NOT NULL,"
     "  cursor INTEGER NOT NULL, published INTEGER NOT NULL DEFAULT 0,"
     "  PRIMARY KEY(audience, coll)) WITHOUT ROWID;"),
    /*
     * 16 -> 17: indicator scores and decay (store_decay.c, docs/decay.md).
     * partners.trust: 0-100, NULL = decay.default_trust.  Per current
     * indicator version: its decay model (kind), confidence, producer,
     * sightings and false-positive reports, when it was last refreshed (µs),
     * its score then (base) and the time its score falls below the
     * threshold (alert_until, µs; the largest integer = never), indexed so
     * that "still alerting" is one comparison.  sk_store_open fills the
     * columns of the rows already there (meta 'decay_backfill').
     * feed_members: the indicator ids of each named feed's latest import.
     */
    ("ALTER TABLE partners ADD COLUMN trust INTEGER;"
     "ALTER TABLE indicators ADD COLUMN kind INTEGER NOT NULL DEFAULT 5;"
     "ALTER TABLE indicators ADD COLUMN confidence INTEGER;"
     "ALTER TABLE indicators ADD COLUMN producer TEXT;"
     "ALTER TABLE indicators ADD COLUMN sightings INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE indicators ADD COLUMN fp INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE indicators ADD COLUMN refreshed INTEGER;"
     "ALTER TABLE indicators ADD COLUMN base INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE indicators ADD COLUMN alert_until INTEGER NOT NULL"
     "  DEFAULT 9223372036854775807;"
     "CREATE INDEX indicators_alert ON indicators(alert_until);"
     "CREATE TABLE feed_members(feed TEXT NOT NULL, id TEXT NOT NULL,"
     "  PRIMARY KEY(feed, id)) WITHOUT ROWID;"
     "INSERT INTO meta(key, value) VALUES('decay_backfill', '1');"),
    /*
     * 17 -> 18:
     * sync_log, one row per sync run of a peer (its outcome and error), so
     * that `report cooperation` and /metrics give each peer's availability
     * over a period (docs/cooperation.md).  Rows older than 400 days are
     * pruned as new ones are written (sync.c).
     */
    ("CREATE TABLE sync_log(pid INTEGER NOT NULL REFERENCES peers(pid) ON DELETE CASCADE,"
     "  ts INTEGER NOT NULL, ok INTEGER NOT NULL, error TEXT,"
     "  PRIMARY KEY(pid, ts)) WITHOUT ROWID;"),
    /*
     * 18 -> 19: the log sources the node reads (`scan`, `serve --watch`,
     * fleet sensors; docs/cooperation.md, capacity): per source kind
     * ("zeek:dns", "eve:http", "ecs", ...) when it was first and last read
     * (seconds), the records read, and the STIX object types it delivers
     * (comma-separated, from the readers' table).  Never a file path.
     */
    ("CREATE TABLE log_sources(kind TEXT PRIMARY KEY, first_seen INTEGER NOT NULL,"
     "  last_seen INTEGER NOT NULL, records INTEGER NOT NULL, types TEXT NOT NULL)"
     "  WITHOUT ROWID;"),
};

sqlite3 *sk_store_sqlite(sk_store *st)
{
	return st->db;
}

sk_err sk_store_dberr(sk_store *st, sk_error *err, const char *what)
{
	int code = sqlite3_extended_errcode(st->db);
	sk_err rc = (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED ? SK_EBUSY
										   : SK_EDB;
	return sk_error_set(err, rc, "%s: %s", what, sqlite3_errmsg(st->db));
}

sk_err sk_store_exec(sk_store *st, const char *sql, sk_error *err)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		sk_err rc = sk_error_set(err, SK_EDB, "database: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return rc;
	}
	return SK_OK;
}

sk_err sk_store_stmt_get(sk_store *st, const char *sql, size_t len, sqlite3_stmt **out,
			 sk_error *err)
{
	unsigned i;

	for (i = 0; i < QCACHE_SLOTS; i++) {
		const char *t = st->qcache[i] ? sqlite3_sql(st->qcache[i]) : NULL;
		if (t && strlen(t) == len && memcmp(t, sql, len) == 0 &&
		    !sqlite3_stmt_busy(st->qcache[i])) {
			*out = st->qcache[i];
			st->qcache[i] = NULL; /* checked out: nested use prepares another */
			sqlite3_clear_bindings(*out);
			return SK_OK;
		}
	}
	if (sqlite3_prepare_v3(st->db, sql, (int)len, SQLITE_PREPARE_PERSISTENT, out, NULL) !=
	    SQLITE_OK) {
		*out = NULL;
		return sk_store_dberr(st, err, "prepare");
	}
	return SK_OK;
}

void sk_store_stmt_put(sk_store *st, sqlite3_stmt *s)
{
	unsigned i;

	if (!s)
		return;
	sqlite3_reset(s);
	for (i = 0; i < QCACHE_SLOTS; i++)
		if (!st->qcache[i]) {
			st->qcache[i] = s;
			return;
		}
	i = st->qnext++ % QCACHE_SLOTS;
	sqlite3_finalize(st->qcache[i]);
	st->qcache[i] = s;
}

static int user_version(sk_store *st)
{
	sqlite3_stmt *s;
	int v = -1;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	return v;
}

static sk_err migrate(sk_store *st, bool readonly, bool create, sk_error *err)
{
	int have = user_version(st);
	const int want = (int)(sizeof(migrations) / sizeof(migrations[0]));
	sk_err rc = SK_OK;

	if (have < 0)
		return sk_store_dberr(st, err, "reading schema version");
	if (have > want)
		return sk_error_set(err, SK_ESCHEMA,
				    "database schema version %d is newer than this schakel (%d)",
				    have, want);
	if (have == want)
		return SK_OK;
	if (have == 0 && !create)
		return sk_error_set(err, SK_ENOTINIT,
				    "no schakel node here (run 'schakel init' first)");
	if (readonly)
		return sk_error_set(err, SK_ESCHEMA,
				    "database needs migration from schema %d to %d",
				    have, want);
	/* Each step is its own transaction, together with the version bump. */
	for (int v = have; v < want && !rc; v++) {
		char bump[64];
		if ((rc = sk_store_exec(st, "BEGIN IMMEDIATE", err)))
			break;
		snprintf(bump, sizeof(bump), "PRAGMA user_version=%d", v + 1);
		rc = sk_store_exec(st, migrations[v], err);
		if (!rc)
			rc = sk_store_exec(st, bump, err);
		if (!rc)
			rc = sk_store_exec(st, "COMMIT", err);
		if (rc) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			sk_error_prefix(err, "schema migration %d -> %d", v, v + 1);
		}
	}
	return rc;
}

/*
 * Before SQLite's first use in this process: no global memory statistics
 * (schakel reads none).  With them every allocation takes a process-wide
 * mutex, and the Debian build has no lookaside, so each statement step does
 * several.  Fails harmlessly if SQLite was already initialised.
 */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;
static void sqlite_config_once(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/*
 * The database holds RED content, password and token hashes and the
 * token-MAC key: before SQLite opens it, create it 0600 (SQLite
 * gives the -wal and -shm files it creates the main file's mode, so they are
 * 0600 too) and tighten an existing database, -wal, -shm or -journal that
 * group or others may read, from an older schakel or a copy, saying so on
 * stderr.  Not for ":memory:", "" (temporary) or "file:" URIs.
 */
static void make_private(const char *path, bool create)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	char p[4096];
	bool changed;

	if (!*path || !strcmp(path, ":memory:") || !strncmp(path, "file:", 5))
		return;
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		if ((size_t)snprintf(p, sizeof(p), "%s%s", path, suffix[i]) >= sizeof(p))
			return;
		if (sk_file_private(p, create && i == 0, &changed) == 0 && changed)
			fprintf(stderr, "schakel: %s was readable by others; made it owner-only\n",
				p);
	}
}

sk_err sk_store_open(const char *path, unsigned flags, sk_store **out, sk_error *err)
{
	sk_store *st = calloc(1, sizeof(*st));
	bool ro = flags & SK_STORE_READONLY, create = flags & SK_STORE_CREATE;
	int oflags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	sk_err rc = SK_OK;

	*out = NULL;
	pthread_once(&sqlite_once, sqlite_config_once);
	if (!st || !(st->path = strdup(path))) {
		free(st);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	sk_buf_init(&st->signed_text, 0);
	sk_buf_init(&st->scratch, 0);
	if (create && !ro)
		oflags |= SQLITE_OPEN_CREATE;
	oflags |= SQLITE_OPEN_NOMUTEX;
	make_private(path, create && !ro); /* read-only too: SQLite may create -wal and -shm */
	if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
		if (!st->db) {
			rc = sk_error_set(err, SK_ENOMEM, "%s: out of memory", path);
		} else if (!create && sqlite3_errcode(st->db) == SQLITE_CANTOPEN) {
			rc = sk_error_set(err, SK_ENOTINIT,
					  "%s: no schakel node here (run 'schakel init' first)",
					  path);
		} else {
			rc = sk_error_set(err, SK_EDB, "%s: %s", path, sqlite3_errmsg(st->db));
		}
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 10000);
	/*
	 * WAL: readers never block the writer and a crash at any point leaves the
	 * last committed state.  synchronous=NORMAL is durable against process
	 * crashes (kill -9); only an OS crash can lose the last commits.
	 */
	/*
	 * 16 KiB pages: STIX objects are 0.5-4 KB records, and larger pages cut
	 * b-tree splits and overflow chains (measured: ~5% fewer instructions per
	 * import than 4 KiB).  Only takes effect on a new, empty database.
	 */
	if (create && !ro && (rc = sk_store_exec(st, "PRAGMA page_size=16384;", err)))
		goto out;
	if (!ro && (rc = sk_store_exec(st,
				       "PRAGMA journal_mode=WAL;"
				       "PRAGMA synchronous=NORMAL;",
				       err)))
		goto out;
	if ((rc = sk_store_exec(st,
				"PRAGMA foreign_keys=ON;"
				"PRAGMA temp_store=MEMORY;",
				err)) ||
	    (rc = sk_store_cache_kib(st, 0, err)))
		goto out;
	/*
	 * An older database opened for reading (after an upgrade, `schakel
	 * stats` may be the first command run) is migrated through a short
	 * read-write open first, as a user of any server would expect; each
	 * migration step is its own transaction, so this is crash-safe.
	 */
	if (ro && user_version(st) >= 1 && user_version(st) < SK_STORE_SCHEMA_VERSION) {
		sk_store *rw = NULL;
		if ((rc = sk_store_open(path, flags & ~(unsigned)SK_STORE_READONLY, &rw, err)))
			goto out;
		sk_store_close(rw);
	}
	if ((rc = migrate(st, ro, create, err)))
		goto out;
	if (!ro && (rc = sk_store_search_backfill(st, err)))
		goto out;
	if ((rc = sk_store_decay_open(st, ro, err)))
		goto out;
out:
	if (rc) {
		/* every message names the database file, once */
		if (!err || strncmp(err->msg, path, strlen(path)) != 0)
			sk_error_prefix(err, "%s", path);
		sk_store_close(st);
		return rc;
	}
	*out = st;
	return SK_OK;
}

static void ckpt_stop(sk_store *st);

void sk_store_close(sk_store *st)
{
	if (!st)
		return;
	ckpt_stop(st);
	sk_store_audit_free(st);
	if (st->in_tx)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	for (int i = 0; i < QCACHE_SLOTS; i++)
		sqlite3_finalize(st->qcache[i]);
	sqlite3_close_v2(st->db);
	if (st->kp)
		sk_key_wipe(st->kp);
	free(st->kp);
	free(st->node_id);
	free(st->anon_id);
	free(st->path);
	sk_buf_free(&st->signed_text);
	sk_buf_free(&st->scratch);
	free(st);
}

sk_err sk_store_begin(sk_store *st, sk_error *err)
{
	sk_err rc = sk_store_exec(st, "BEGIN IMMEDIATE", err);
	if (!rc) {
		st->in_tx = true;
		st->anon_read = false; /* the rule's cache of the anonymous identity */
		st->da_cid = 0; /* another writer may have added since */
		st->prov_first = st->prov_last = 0;
		st->prov_rc = SK_OK;
		rc = sk_store_decay_refresh(st, err); /* another process changed decay.* */
	}
	return rc;
}

sk_err sk_store_commit(sk_store *st, sk_error *err)
{
	sk_err rc = st->prov_rc;
	if (rc)
		sk_error_set(err, rc, "%s", st->prov_err.msg);
	else
		rc = sk_store_flush_provenance(st, err);
	if (!rc)
		rc = sk_store_exec(st, "COMMIT", err);
	if (rc) {
		sk_store_rollback(st);
		return rc;
	}
	st->in_tx = false;
	return SK_OK;
}

sk_err sk_store_cache_kib(sk_store *st, size_t kib, sk_error *err)
{
	char q[64];
	snprintf(q, sizeof(q), "PRAGMA cache_size=-%zu", kib ? kib : (size_t)SK_STORE_CACHE_KIB);
	return sk_store_exec(st, q, err);
}

/* --- bulk writing: checkpoints on a thread of their own ----------------- */

#define CKPT_FRAMES 1000 /* SQLite's default autocheckpoint threshold */

typedef struct ckpt {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool due, stop;
	sqlite3 *db; /* the thread's own connection */
} ckpt;

static void *ckpt_main(void *ud)
{
	ckpt *c = ud;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->due && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (!c->due)
			break;
		c->due = false;
		pthread_mutex_unlock(&c->mu);
		/* PASSIVE: copies what is committed, never waits for the writer */
		sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* After each commit (on the committing thread): wake the checkpointer. */
static int ckpt_hook(void *ud, sqlite3 *db, const char *name, int frames)
{
	ckpt *c = ud;
	(void)db;
	(void)name;
	if (frames >= CKPT_FRAMES) {
		pthread_mutex_lock(&c->mu);
		c->due = true;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

static void ckpt_stop(sk_store *st)
{
	ckpt *c = st->ckpt;
	if (!c)
		return;
	sqlite3_wal_autocheckpoint(st->db, CKPT_FRAMES); /* the default hook again */
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->th, NULL);
	sqlite3_close_v2(c->db);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
	st->ckpt = NULL;
}

static void ckpt_start(sk_store *st)
{
	const char *path = sqlite3_db_filename(st->db, "main");
	ckpt *c = calloc(1, sizeof(*c));

	if (!c || !path || !*path)
		goto fail;
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		SQLITE_OK ||
	    sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->th, NULL, ckpt_main, c)) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		goto fail;
	}
	st->ckpt = c;
	sqlite3_wal_hook(st->db, ckpt_hook, c);
	return;
fail:
	if (c)
		sqlite3_close_v2(c->db);
	free(c);
}

sk_err sk_store_bulk(sk_store *st, bool on, size_t cache_kib, sk_error *err)
{
	if (!on) {
		ckpt_stop(st);
		return sk_store_cache_kib(st, 0, err);
	}
	if (!st->ckpt)
		ckpt_start(st);
	return sk_store_cache_kib(st, cache_kib, err);
}

void sk_store_rollback(sk_store *st)
{
	if (st->in_tx)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = false;
	st->prov_first = st->prov_last = 0;
	st->prov_rc = SK_OK;
	st->da_cid = 0;
}

/* --- node identity ------------------------------------------------------ */

static sk_err meta_get(sk_store *st, const char *key, char **val, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_ENOTFOUND;

	*val = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key=?1", -1, &s, NULL) !=
	    SQLITE_OK)
		return sk_store_dberr(st, err, "meta");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*val = strdup((const char *)sqlite3_column_text(s, 0));
		rc = *val ? SK_OK : SK_ENOMEM;
	}
	sqlite3_finalize(s);
	return rc;
}

static sk_err meta_set(sk_store *st, const char *key, const char *val, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO meta(key,value) VALUES(?1,?2)", -1,
			       &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "meta");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, val, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "meta");
	sqlite3_finalize(s);
	return rc;
}

sk_err sk_store_node_id(sk_store *st, char **id, sk_error *err)
{
	sk_err rc = meta_get(st, "node_identity", id, err);
	if (rc == SK_ENOTFOUND)
		return sk_error_set(err, SK_ENOTINIT,
				    "this node has no identity yet (run 'schakel init')");
	return rc;
}

/*
 * A new node's key (not for ":memory:" stores): "<db>.key" written, pinned
 * for the identity and published in ident's signature extension.
 */
static sk_err init_key(sk_store *st, const char *id, json_t *ident, sk_error *err)
{
	char b64[SK_KEY_B64_MAX], *path;
	sk_keypair kp;
	sk_err rc;

	if (!strcmp(st->path, ":memory:"))
		return SK_OK;
	if (!(path = sk_key_path(st->path)))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	rc = sk_key_generate(&kp, err);
	if (!rc)
		rc = sk_key_save(path, &kp, err);
	free(path);
	if (!rc)
		rc = sk_store_key_pin(st, id, kp.pk, "own", err);
	if (!rc) {
		sk_key_b64(kp.pk, b64);
		json_object_set_new(ident, "extensions",
				    json_pack("{s:{s:s, s:s}}", SK_SIG_EXT_ID, "extension_type",
					      "property-extension", "key", b64));
		st->key_state = 0; /* sk_store_own_key loads it */
	}
	sk_key_wipe(&kp);
	return rc;
}

sk_err sk_store_init_node(sk_store *st, const sk_node_params *p, sk_error *err)
{
	char uuid[SK_UUID_LEN + 1], ts[SK_TS_STR_MAX], id[80];
	json_t *ident = NULL, *sectors = NULL;
	char *existing = NULL;
	sk_collection coll = {0};
	sk_err rc;

	if (!p || !p->name || !*p->name)
		return sk_error_set(err, SK_EINVAL, "a node needs a name");
	if (p->country && (strlen(p->country) != 2))
		return sk_error_set(err, SK_EINVAL,
				    "country must be an ISO 3166-1 alpha-2 code such as NL, got '%s'",
				    p->country);
	if ((rc = sk_store_begin(st, err)))
		return rc;
	if (meta_get(st, "node_identity", &existing, NULL) == SK_OK) {
		rc = sk_error_set(err, SK_EEXIST, "this store already is node %s", existing);
		goto out;
	}
	sk_ts_format_ms(sk_ts_now_us(), ts);
	sk_uuid_v4(uuid);
	snprintf(id, sizeof(id), "identity--%s", uuid);
	sectors = json_array();
	for (size_t i = 0; i < p->nsectors; i++)
		json_array_append_new(sectors, json_string(p->sectors[i]));
	ident = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "identity",
			  "spec_version", "2.1", "id", id, "created", ts, "modified", ts, "name",
			  p->name, "identity_class", "organization");
	if (!ident || !sectors) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (p->nsectors)
		json_object_set(ident, "sectors", sectors);
	if (p->contact)
		json_object_set_new(ident, "contact_information", json_string(p->contact));
	/* the node's identity first, so that what it produces below is signed as its own */
	if ((rc = meta_set(st, "node_identity", id, err)))
		goto out;
	free(st->node_id);
	st->node_id = NULL;
	if ((rc = init_key(st, id, ident, err)))
		goto out;
	if ((rc = sk_store_put_json(st, 0, ident, err)))
		goto out;
	if (p->country && (rc = sk_store_put_located_at(st, id, p->country, ts, err)))
		goto out;
	rc = sk_store_collection_add(st, "default", NULL, "Default collection",
				     "Objects imported without --collection", &coll, err);
	if (rc)
		goto out;
	rc = sk_store_commit(st, err);
out:
	if (rc)
		sk_store_rollback(st);
	sk_collection_clear(&coll);
	free(existing);
	json_decref(ident);
	json_decref(sectors);
	return rc;
}
