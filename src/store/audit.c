/*
 * audit.c - the tamper-evident audit log: appending entries to the hash
 * chain, checkpoints signed with the node key, the settings and listing.
 * Verification and archiving are in audit_verify.c; docs/audit.md has the
 * format.
 *
 * One append is one indexed read of the last entry and one INSERT in a
 * write transaction: the caller's, so that a change and its entry commit
 * together, or its own BEGIN IMMEDIATE, which is what keeps the chain one
 * line when several threads or processes append at once.
 */
#include "audit_int.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/buf.h"
#include "schakel/timestamp.h"

struct sk_audit_state {
	char actor[SK_AUDIT_ACTOR_MAX + 1];
	bool have_key;
	sk_keypair kp;
};

static pthread_mutex_t append_mu = PTHREAD_MUTEX_INITIALIZER;

void sk_audit_lock(void)
{
	pthread_mutex_lock(&append_mu);
}

void sk_audit_unlock(void)
{
	pthread_mutex_unlock(&append_mu);
}

static struct sk_audit_state *state(sk_store *st)
{
	/* sodium_malloc: guarded pages, wiped when freed (the secret key lives here) */
	if (!st->audit && sodium_init() >= 0 && (st->audit = sodium_malloc(sizeof(*st->audit)))) {
		memset(st->audit, 0, sizeof(*st->audit));
		snprintf(st->audit->actor, sizeof(st->audit->actor), "node");
	}
	return st->audit;
}

void sk_store_audit_free(sk_store *st)
{
	if (st && st->audit) {
		sodium_free(st->audit); /* wipes the key */
		st->audit = NULL;
	}
}

void sk_audit_set_actor(sk_store *st, const char *actor)
{
	struct sk_audit_state *a = state(st);
	if (a)
		snprintf(a->actor, sizeof(a->actor), "%s", actor && *actor ? actor : "node");
}

const char *sk_audit_actor(sk_store *st)
{
	struct sk_audit_state *a = state(st);
	return a ? a->actor : "node";
}

void sk_audit_set_key(sk_store *st, const sk_keypair *kp)
{
	struct sk_audit_state *a = state(st);
	if (!a)
		return;
	if (kp)
		a->kp = *kp;
	else
		sk_key_wipe(&a->kp);
	a->have_key = kp != NULL;
}

const sk_keypair *sk_audit_key(sk_store *st)
{
	struct sk_audit_state *a = state(st);
	const char *db;
	char *path;

	if (!a)
		return NULL;
	if (a->have_key)
		return &a->kp;
	/* not cached when missing: a key made later (schakel init) is found then */
	db = sqlite3_db_filename(st->db, "main");
	if (!db || !*db || !(path = sk_key_path(db)))
		return NULL;
	a->have_key = sk_key_load(path, &a->kp, NULL) == SK_OK;
	free(path);
	return a->have_key ? &a->kp : NULL;
}

/* --- settings ------------------------------------------------------------ */

/* Node setting config.NAME as text into out ("" if unset). */
static void setting(sk_store *st, const char *name, char *out, size_t n)
{
	static const char q[] = "SELECT value FROM meta WHERE key=?1";
	sqlite3_stmt *s = NULL;
	out[0] = '\0';
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, NULL))
		return;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
	sk_store_stmt_put(st, s);
}

static int64_t setting_num(sk_store *st, const char *name, int64_t def, int64_t max)
{
	char v[32], *end;
	long long n;
	setting(st, name, v, sizeof(v));
	if (!v[0])
		return def;
	n = strtoll(v, &end, 10);
	return *end || n < 1 || n > max ? def : (int64_t)n;
}

bool sk_audit_enabled(sk_store *st)
{
	char v[16];
	setting(st, "config.audit.enabled", v, sizeof(v));
	return strcmp(v, "false") != 0;
}

int64_t sk_audit_checkpoint_every(sk_store *st)
{
	return setting_num(st, "config.audit.checkpoint_every", SK_AUDIT_DEFAULT_EVERY, 1000000);
}

int64_t sk_audit_retention_days(sk_store *st)
{
	return setting_num(st, "config.audit.retention_days", SK_AUDIT_DEFAULT_RETENTION_DAYS,
			   36500);
}

/* --- the hash and the checkpoint message ---------------------------------- */

static void put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static void hash_field(crypto_generichash_state *h, audit_str f)
{
	unsigned char len[4];
	uint32_t n = f.s ? (uint32_t)f.n : 0xffffffffu; /* NULL differs from "" */
	len[0] = (unsigned char)(n >> 24);
	len[1] = (unsigned char)(n >> 16);
	len[2] = (unsigned char)(n >> 8);
	len[3] = (unsigned char)n;
	crypto_generichash_update(h, len, sizeof(len));
	if (f.s)
		crypto_generichash_update(h, (const unsigned char *)f.s, f.n);
}

void sk_audit_hash(const unsigned char prev[SK_AUDIT_HASH_LEN], const audit_fields *f,
		   unsigned char out[SK_AUDIT_HASH_LEN])
{
	static const char domain[] = "schakel-audit-1"; /* with its NUL */
	crypto_generichash_state h;
	unsigned char num[16];

	crypto_generichash_init(&h, NULL, 0, SK_AUDIT_HASH_LEN);
	crypto_generichash_update(&h, (const unsigned char *)domain, sizeof(domain));
	crypto_generichash_update(&h, prev, SK_AUDIT_HASH_LEN);
	put_be64(num, (uint64_t)f->seq);
	put_be64(num + 8, (uint64_t)f->ts);
	crypto_generichash_update(&h, num, sizeof(num));
	hash_field(&h, f->actor);
	hash_field(&h, f->action);
	hash_field(&h, f->subject);
	hash_field(&h, f->detail);
	hash_field(&h, f->versions);
	crypto_generichash_final(&h, out, SK_AUDIT_HASH_LEN);
}

void sk_audit_cp_msg(int64_t seq, const unsigned char hash[SK_AUDIT_HASH_LEN], int64_t ts,
		     int64_t every, unsigned char out[AUDIT_CP_MSG_LEN])
{
	static const char domain[27] = "schakel-audit-checkpoint-1"; /* 26 + NUL */
	memcpy(out, domain, sizeof(domain));
	put_be64(out + 27, (uint64_t)seq);
	memcpy(out + 35, hash, SK_AUDIT_HASH_LEN);
	put_be64(out + 35 + SK_AUDIT_HASH_LEN, (uint64_t)ts);
	put_be64(out + 43 + SK_AUDIT_HASH_LEN, (uint64_t)every);
}

/* --- appending ------------------------------------------------------------ */

sk_err sk_audit_last(sk_store *st, int64_t *seq, unsigned char hash[SK_AUDIT_HASH_LEN],
		     sk_error *err)
{
	static const char qe[] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1";
	static const char qc[] = "SELECT seq, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1";
	const char *q[2] = {qe, qc};
	size_t qn[2] = {sizeof(qe) - 1, sizeof(qc) - 1};

	*seq = 0;
	memset(hash, 0, SK_AUDIT_HASH_LEN);
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *s = NULL;
		int step;
		if (sk_store_stmt_get(st, q[i], qn[i], &s, err))
			return SK_EDB;
		step = sqlite3_step(s);
		if (step == SQLITE_ROW && sqlite3_column_bytes(s, 1) == SK_AUDIT_HASH_LEN) {
			*seq = sqlite3_column_int64(s, 0);
			memcpy(hash, sqlite3_column_blob(s, 1), SK_AUDIT_HASH_LEN);
		}
		sk_store_stmt_put(st, s);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			return sk_store_dberr(st, err, "audit");
		if (step == SQLITE_ROW)
			return SK_OK; /* entries first; with none, the archive's anchor */
	}
	return SK_OK;
}

sk_err sk_audit_put_checkpoint(sk_store *st, int64_t seq, const unsigned char *hash,
			       sk_error *err)
{
	static const char q[] = "INSERT OR IGNORE INTO audit_checkpoints(seq, ts, every, hash, pk, sig)"
				" VALUES(?1,?2,?3,?4,?5,?6)";
	const sk_keypair *kp = sk_audit_key(st);
	unsigned char msg[AUDIT_CP_MSG_LEN], sig[SK_SIG_LEN];
	int64_t ts = sk_ts_now_us(), every = sk_audit_checkpoint_every(st);
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	if (kp) {
		sk_audit_cp_msg(seq, hash, ts, every, msg);
		crypto_sign_detached(sig, NULL, msg, sizeof(msg), kp->sk);
	}
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err))
		return SK_EDB;
	sqlite3_bind_int64(s, 1, seq);
	sqlite3_bind_int64(s, 2, ts);
	sqlite3_bind_int64(s, 3, every);
	sqlite3_bind_blob(s, 4, hash, SK_AUDIT_HASH_LEN, SQLITE_STATIC);
	if (kp) {
		sqlite3_bind_blob(s, 5, kp->pk, SK_KEY_PK_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(s, 6, sig, SK_SIG_LEN, SQLITE_STATIC);
	}
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "audit checkpoint");
	sk_store_stmt_put(st, s);
	return rc;
}

/* The versions column: a JSON array, or a summary with the hash of that array's text. */
static sk_err versions_text(const sk_audit_entry *e, sk_buf *out)
{
	crypto_generichash_state h;
	unsigned char d[32];
	char hex[65], num[24];
	sk_err rc = SK_OK;

	if (e->nvers <= SK_AUDIT_LIST_MAX) {
		rc = sk_buf_putc(out, '[');
		for (size_t i = 0; i < e->nvers && !rc; i++)
			rc = sk_buf_printf(out, i ? ",%lld" : "%lld", (long long)e->vers[i]);
		return rc ? rc : sk_buf_putc(out, ']');
	}
	crypto_generichash_init(&h, NULL, 0, sizeof(d));
	crypto_generichash_update(&h, (const unsigned char *)"[", 1);
	for (size_t i = 0; i < e->nvers; i++) {
		int n = snprintf(num, sizeof(num), i ? ",%lld" : "%lld", (long long)e->vers[i]);
		crypto_generichash_update(&h, (const unsigned char *)num, (size_t)n);
	}
	crypto_generichash_update(&h, (const unsigned char *)"]", 1);
	crypto_generichash_final(&h, d, sizeof(d));
	sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
	return sk_buf_printf(out, "{\"count\":%zu,\"first\":%lld,\"last\":%lld,\"blake2b\":\"%s\"}",
			     e->nvers, (long long)e->vers[0], (long long)e->vers[e->nvers - 1], hex);
}

static audit_str str_of(const char *s)
{
	audit_str a = {s, s ? strlen(s) : 0};
	return a;
}

sk_err sk_audit_append(sk_store *st, const sk_audit_entry *e, sk_error *err)
{
	static const char q[] = "INSERT INTO audit(seq, ts, actor, action, subject, detail, versions,"
				" prev, hash) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)";
	unsigned char prev[SK_AUDIT_HASH_LEN], hash[SK_AUDIT_HASH_LEN];
	audit_fields f;
	sqlite3_stmt *s = NULL;
	sk_buf vers;
	bool own = !st->in_tx;
	int64_t last;
	sk_err rc;

	if (!e->force && !sk_audit_enabled(st))
		return SK_OK;
	if (!e->action || !*e->action)
		return sk_error_set(err, SK_EINVAL, "an audit entry needs an action");
	sk_buf_init(&vers, (size_t)1 << 20);
	if (e->exit && (rc = versions_text(e, &vers))) {
		sk_buf_free(&vers);
		return sk_error_set(err, rc, "audit: versions list");
	}
	memset(&f, 0, sizeof(f));
	f.actor = str_of(e->actor ? e->actor : sk_audit_actor(st));
	f.action = str_of(e->action);
	f.subject = str_of(e->subject);
	f.detail = str_of(e->detail ? e->detail : "{}");
	f.versions.s = e->exit ? vers.data ? vers.data : "[]" : NULL;
	f.versions.n = e->exit ? (vers.data ? vers.len : 2) : 0;
	if (f.actor.n > SK_AUDIT_FIELD_MAX || f.action.n > SK_AUDIT_FIELD_MAX ||
	    f.subject.n > SK_AUDIT_FIELD_MAX) {
		sk_buf_free(&vers);
		return sk_error_set(err, SK_ELIMIT, "audit: a field is longer than %d bytes",
				    SK_AUDIT_FIELD_MAX);
	}
	if (own) {
		sk_audit_lock();
		if ((rc = sk_store_begin(st, err))) {
			sk_audit_unlock();
			sk_buf_free(&vers);
			return rc;
		}
	}
	if ((rc = sk_audit_last(st, &last, prev, err)))
		goto out;
	f.seq = last + 1;
	f.ts = sk_ts_now_us();
	sk_audit_hash(prev, &f, hash);
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err)) {
		rc = SK_EDB;
		goto out;
	}
	sqlite3_bind_int64(s, 1, f.seq);
	sqlite3_bind_int64(s, 2, f.ts);
	sqlite3_bind_text(s, 3, f.actor.s, (int)f.actor.n, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, f.action.s, (int)f.action.n, SQLITE_STATIC);
	if (f.subject.s)
		sqlite3_bind_text(s, 5, f.subject.s, (int)f.subject.n, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, f.detail.s, (int)f.detail.n, SQLITE_STATIC);
	if (f.versions.s)
		sqlite3_bind_text(s, 7, f.versions.s, (int)f.versions.n, SQLITE_STATIC);
	sqlite3_bind_blob(s, 8, prev, sizeof(prev), SQLITE_STATIC);
	sqlite3_bind_blob(s, 9, hash, sizeof(hash), SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "audit");
	sk_store_stmt_put(st, s);
	if (!rc && f.seq % sk_audit_checkpoint_every(st) == 0)
		rc = sk_audit_put_checkpoint(st, f.seq, hash, err);
out:
	if (own) {
		if (!rc)
			rc = sk_store_commit(st, err);
		else
			sk_store_rollback(st);
		sk_audit_unlock();
	}
	sk_buf_free(&vers);
	return rc;
}

sk_err sk_audit_tx_begin(sk_store *st, bool *own, sk_error *err)
{
	*own = !st->in_tx;
	return *own ? sk_store_begin(st, err) : SK_OK;
}

sk_err sk_audit_tx_end(sk_store *st, bool own, sk_err rc, const sk_audit_entry *e,
		       sk_error *err)
{
	if (!rc && e)
		rc = sk_audit_append(st, e, err);
	if (own) {
		if (!rc)
			rc = sk_store_commit(st, err);
		else
			sk_store_rollback(st);
	}
	return rc;
}

sk_err sk_audit_checkpoint(sk_store *st, int64_t *seq, sk_error *err)
{
	unsigned char hash[SK_AUDIT_HASH_LEN];
	int64_t last = 0;
	sk_err rc;

	if (seq)
		*seq = 0;
	sk_audit_lock();
	if ((rc = sk_store_begin(st, err))) {
		sk_audit_unlock();
		return rc;
	}
	rc = sk_audit_last(st, &last, hash, err);
	if (!rc && last)
		rc = sk_audit_put_checkpoint(st, last, hash, err);
	if (!rc)
		rc = sk_store_commit(st, err);
	else
		sk_store_rollback(st);
	sk_audit_unlock();
	if (!rc && seq)
		*seq = last;
	return rc;
}

/* --- listing -------------------------------------------------------------- */

sk_err sk_audit_list(sk_store *st, const sk_audit_filter *f,
		     int (*fn)(void *ud, const sk_audit_row *r), void *ud, sk_error *err)
{
	static const char q[] =
	    "SELECT seq, ts, actor, action, subject, detail, versions,"
	    " CASE WHEN versions IS NULL THEN -1"
	    "  WHEN json_type(versions)='array' THEN json_array_length(versions)"
	    "  ELSE json_extract(versions,'$.count') END"
	    " FROM audit a"
	    " WHERE (?1 IS NULL OR subject='partner:'||?1 OR json_extract(detail,'$.partner')=?1)"
	    "  AND (?2 IS NULL OR (json_type(versions)='array' AND EXISTS(SELECT 1"
	    "   FROM json_each(a.versions) j JOIN objects o ON o.ver=j.value WHERE o.id=?2)))"
	    "  AND ts>=?3"
	    "  AND (?4 IS NULL OR action=?4 OR substr(action,1,length(?4)+1)=?4||'.')"
	    " ORDER BY seq";
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	int step;

	if (sqlite3_prepare_v2(st->db, q, sizeof(q) - 1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "audit");
	if (f && f->partner)
		sqlite3_bind_text(s, 1, f->partner, -1, SQLITE_STATIC);
	if (f && f->object)
		sqlite3_bind_text(s, 2, f->object, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, f ? f->since : 0);
	if (f && f->action)
		sqlite3_bind_text(s, 4, f->action, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sk_audit_row r = {
		    .seq = sqlite3_column_int64(s, 0),
		    .ts = sqlite3_column_int64(s, 1),
		    .actor = (const char *)sqlite3_column_text(s, 2),
		    .action = (const char *)sqlite3_column_text(s, 3),
		    .subject = (const char *)sqlite3_column_text(s, 4),
		    .detail = (const char *)sqlite3_column_text(s, 5),
		    .versions = (const char *)sqlite3_column_text(s, 6),
		    .nvers = sqlite3_column_int64(s, 7),
		};
		if (!r.actor)
			r.actor = "";
		if (!r.action)
			r.action = "";
		if (!r.detail)
			r.detail = "{}";
		if (fn(ud, &r))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "audit");
	sqlite3_finalize(s);
	return rc;
}
