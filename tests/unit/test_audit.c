/*
 * test_audit.c - the audit log: appends form one chain (also from several
 * threads with their own connections), entries join the caller's
 * transaction, long version lists are summarised, checkpoints are signed
 * every N entries and checked against the node key, and verify names the
 * first entry changed, removed or cut off; archives keep the chain whole.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include "schakel/audit.h"
#include "schakel/sign.h"
#include "schakel/store.h"
#include "sk_test.h"
#include "store/audit_int.h"
#include "store/store_priv.h"

static void setup(void)
{
	t_tmpdir_make();
}

static void teardown(void)
{
	t_tmpdir_remove();
}

TestSuite(audit, .init = setup, .fini = teardown);

static sk_store *open_db(void)
{
	sk_store *st = NULL;
	sk_error err;
	cr_assert_eq(sk_store_open(t_path("a.db"), SK_STORE_CREATE, &st, &err), SK_OK, "%s",
		     err.msg);
	return st;
}

static void exec(sk_store *st, const char *sql)
{
	char *msg = NULL;
	cr_assert_eq(sqlite3_exec(sk_store_sqlite(st), sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s",
		     sql, msg ? msg : "");
}

static int64_t count(sk_store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t n = -1;
	cr_assert_eq(sqlite3_prepare_v2(sk_store_sqlite(st), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void append(sk_store *st, const char *action, int64_t nvers)
{
	int64_t vers[2000];
	sk_audit_entry e = {.action = action, .subject = "partner:Alpha",
			    .detail = "{\"path\":\"/api/\"}", .vers = vers,
			    .nvers = (size_t)nvers, .exit = nvers >= 0};
	sk_error err;
	for (int64_t i = 0; i < nvers; i++)
		vers[i] = i + 1;
	if (nvers < 0)
		e.nvers = 0, e.vers = NULL;
	cr_assert_eq(sk_audit_append(st, &e, &err), SK_OK, "%s", err.msg);
}

static sk_audit_report verify(sk_store *st, const char *const *arch, size_t narch)
{
	sk_audit_report rep;
	sk_error err;
	cr_assert_eq(sk_audit_verify(st, arch, narch, &rep, &err), SK_OK, "%s", err.msg);
	return rep;
}

static void set_every(sk_store *st, int n)
{
	char q[128];
	snprintf(q, sizeof(q),
		 "INSERT OR REPLACE INTO meta(key,value) VALUES('config.audit.checkpoint_every','%d')",
		 n);
	exec(st, q);
}

Test(audit, chain_verifies_and_names_a_changed_row)
{
	sk_store *st = open_db();
	sk_audit_report rep;

	for (int i = 0; i < 10; i++)
		append(st, "taxii.objects", i);
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 0, "%s", rep.problem);
	cr_assert_eq(rep.entries, 10);
	cr_assert_eq(rep.first, 1);
	cr_assert_eq(rep.last, 10);
	cr_assert_eq(count(st, "SELECT versions='[1,2,3]' FROM audit WHERE seq=4"), 1);
	cr_assert_eq(count(st, "SELECT actor='node' FROM audit WHERE seq=4"), 1, "default actor");

	exec(st, "UPDATE audit SET detail='{}' WHERE seq=6");
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 6, "%s", rep.problem);
	sk_store_close(st);
}

Test(audit, rewritten_row_with_its_hash_is_named)
{
	sk_store *st = open_db();
	sk_audit_report rep;
	unsigned char prev[32], h[32];
	audit_fields f = {0};
	sqlite3_stmt *s = NULL;

	for (int i = 0; i < 5; i++)
		append(st, "account.add", -1);
	/* entry 3 rewritten with its own hash recomputed: entry 4 no longer follows it */
	cr_assert_eq(sqlite3_prepare_v2(sk_store_sqlite(st),
					"SELECT prev, ts, actor, action, subject FROM audit WHERE seq=3",
					-1, &s, NULL),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	memcpy(prev, sqlite3_column_blob(s, 0), 32);
	f.seq = 3;
	f.ts = sqlite3_column_int64(s, 1);
	f.actor.s = strdup((const char *)sqlite3_column_text(s, 2));
	f.actor.n = strlen(f.actor.s);
	f.action.s = strdup((const char *)sqlite3_column_text(s, 3));
	f.action.n = strlen(f.action.s);
	f.subject.s = strdup((const char *)sqlite3_column_text(s, 4));
	f.subject.n = strlen(f.subject.s);
	sqlite3_finalize(s);
	f.detail.s = "{\"path\":\"/elsewhere/\"}";
	f.detail.n = strlen(f.detail.s);
	sk_audit_hash(prev, &f, h);
	cr_assert_eq(sqlite3_prepare_v2(sk_store_sqlite(st),
					"UPDATE audit SET detail=?1, hash=?2 WHERE seq=3", -1, &s, NULL),
		     SQLITE_OK);
	sqlite3_bind_text(s, 1, f.detail.s, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, h, 32, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 3, "%s", rep.problem);
	free((char *)f.actor.s);
	free((char *)f.action.s);
	free((char *)f.subject.s);
	sk_store_close(st);
}

Test(audit, removed_and_reordered_rows)
{
	sk_store *st = open_db();
	sk_audit_report rep;

	for (int i = 0; i < 8; i++)
		append(st, "taxii.object", 1);
	exec(st, "DELETE FROM audit WHERE seq=5");
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 5, "%s", rep.problem);
	cr_assert(strstr(rep.problem, "missing"), "%s", rep.problem);
	sk_store_close(st);

	cr_assert_eq(unlink(t_path("a.db")), 0);
	st = open_db();
	for (int i = 0; i < 8; i++)
		append(st, i == 3 ? "taxii.manifest" : "taxii.object", 1);
	exec(st, "UPDATE audit SET seq=100 WHERE seq=3;"
		 "UPDATE audit SET seq=3 WHERE seq=4;"
		 "UPDATE audit SET seq=4 WHERE seq=100;");
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 3, "%s", rep.problem);
	sk_store_close(st);
}

Test(audit, first_rows_removed)
{
	sk_store *st = open_db();
	sk_audit_report rep;

	for (int i = 0; i < 4; i++)
		append(st, "grant.set", -1);
	exec(st, "DELETE FROM audit WHERE seq=1");
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 1, "%s", rep.problem);
	sk_store_close(st);
}

Test(audit, joins_the_callers_transaction)
{
	sk_store *st = open_db();
	sk_error err;

	cr_assert_eq(sk_store_begin(st, &err), SK_OK);
	append(st, "partner.add", -1);
	sk_store_rollback(st);
	cr_assert_eq(count(st, "SELECT count(*) FROM audit"), 0, "rolled back with the change");
	cr_assert_eq(sk_store_begin(st, &err), SK_OK);
	append(st, "partner.add", -1);
	cr_assert_eq(sk_store_commit(st, &err), SK_OK);
	cr_assert_eq(count(st, "SELECT count(*) FROM audit"), 1);
	sk_store_close(st);
}

Test(audit, off_writes_nothing_unless_forced)
{
	sk_store *st = open_db();
	sk_audit_entry e = {.action = "config.set", .force = true};
	sk_error err;

	exec(st, "INSERT INTO meta(key,value) VALUES('config.audit.enabled','false')");
	cr_assert(!sk_audit_enabled(st));
	append(st, "taxii.objects", 2);
	cr_assert_eq(count(st, "SELECT count(*) FROM audit"), 0);
	cr_assert_eq(sk_audit_append(st, &e, &err), SK_OK);
	cr_assert_eq(count(st, "SELECT count(*) FROM audit"), 1);
	sk_store_close(st);
}

Test(audit, long_lists_are_summarised)
{
	sk_store *st = open_db();
	sk_audit_report rep;

	append(st, "export.for", SK_AUDIT_LIST_MAX);
	append(st, "export.for", SK_AUDIT_LIST_MAX + 1);
	cr_assert_eq(count(st, "SELECT json_array_length(versions) FROM audit WHERE seq=1"),
		     SK_AUDIT_LIST_MAX);
	cr_assert_eq(count(st, "SELECT json_extract(versions,'$.count') FROM audit WHERE seq=2"),
		     SK_AUDIT_LIST_MAX + 1);
	cr_assert_eq(count(st, "SELECT length(json_extract(versions,'$.blake2b')) FROM audit"
			       " WHERE seq=2"),
		     64);
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 0, "%s", rep.problem);
	sk_store_close(st);
}

Test(audit, signed_checkpoints_every_n)
{
	sk_store *st = open_db();
	sk_keypair kp, other;
	sk_audit_report rep;
	sk_error err;

	cr_assert_eq(sk_key_generate(&kp, &err), SK_OK);
	cr_assert_eq(sk_key_generate(&other, &err), SK_OK);
	sk_audit_set_key(st, &kp);
	set_every(st, 3);
	for (int i = 0; i < 10; i++)
		append(st, "taxii.objects", 1);
	cr_assert_eq(count(st, "SELECT group_concat(seq) = '3,6,9' FROM audit_checkpoints"), 1);
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 0, "%s", rep.problem);
	cr_assert_eq(rep.checkpoints, 3);
	cr_assert_eq(rep.signed_ok, 3);
	cr_assert(rep.node_key);

	/* the tail cut back to before a checkpoint */
	exec(st, "CREATE TABLE saved AS SELECT * FROM audit");
	exec(st, "DELETE FROM audit WHERE seq>=8");
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 8, "%s", rep.problem);
	exec(st, "INSERT INTO audit SELECT * FROM saved WHERE seq>=8");

	/* a checkpoint removed: the gap between 3 and 9 is longer than 3 */
	exec(st, "CREATE TABLE cps AS SELECT * FROM audit_checkpoints");
	exec(st, "DELETE FROM audit_checkpoints WHERE seq=6");
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 6, "%s", rep.problem);
	exec(st, "INSERT INTO audit_checkpoints SELECT * FROM cps WHERE seq=6");

	/* checked against the node's key, not the key on the row */
	sk_audit_set_key(st, &other);
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 3, "%s", rep.problem);
	cr_assert(strstr(rep.problem, "not the node's"), "%s", rep.problem);
	sk_audit_set_key(st, &kp);
	exec(st, "UPDATE audit_checkpoints SET sig=zeroblob(64) WHERE seq=6");
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 6, "%s", rep.problem);
	sk_key_wipe(&kp);
	sk_key_wipe(&other);
	sk_store_close(st);
}

Test(audit, node_key_file_is_loaded)
{
	sk_store *st = open_db();
	sk_keypair kp;
	sk_audit_report rep;
	sk_error err;
	char *kpath = sk_key_path(t_path("a.db"));

	append(st, "taxii.objects", 1);
	cr_assert_eq(sk_audit_checkpoint(st, NULL, &err), SK_OK);
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 0, "%s", rep.problem);
	cr_assert(!rep.node_key);
	cr_assert_eq(rep.unsigned_cps, 1);

	cr_assert_eq(sk_key_generate(&kp, &err), SK_OK);
	cr_assert_eq(sk_key_save(kpath, &kp, &err), SK_OK, "%s", err.msg);
	append(st, "taxii.objects", 1);
	cr_assert_eq(sk_audit_checkpoint(st, NULL, &err), SK_OK);
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 0, "%s", rep.problem);
	cr_assert(rep.node_key);
	cr_assert_eq(rep.signed_ok, 1);
	cr_assert_eq(rep.unsigned_cps, 1);
	free(kpath);
	sk_key_wipe(&kp);
	sk_store_close(st);
}

struct worker {
	int n;
	sk_err rc;
};

static void *appender(void *ud)
{
	struct worker *w = ud;
	sk_store *st = NULL;
	sk_error err;
	int64_t v[3] = {1, 2, 3};
	sk_audit_entry e = {.action = "taxii.objects", .vers = v, .nvers = 3, .exit = true};

	if ((w->rc = sk_store_open(t_path("a.db"), 0, &st, &err)))
		return NULL;
	for (int i = 0; i < w->n && !w->rc; i++)
		w->rc = sk_audit_append(st, &e, &err);
	sk_store_close(st);
	return NULL;
}

Test(audit, threads_append_one_chain)
{
	sk_store *st = open_db();
	pthread_t th[4];
	struct worker w[4];
	sk_audit_report rep;

	set_every(st, 50);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.n = 150};
		cr_assert_eq(pthread_create(&th[i], NULL, appender, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(w[i].rc, SK_OK);
	}
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 0, "%s", rep.problem);
	cr_assert_eq(rep.entries, 600);
	cr_assert_eq(count(st, "SELECT count(*) FROM audit_checkpoints"), 12);
	sk_store_close(st);
}

Test(audit, archive_keeps_the_chain)
{
	sk_store *st = open_db();
	const char *arch[2] = {t_path("one.jsonl"), t_path("two.jsonl")};
	sk_audit_report rep;
	sk_error err;
	int64_t moved = 0, cut;
	struct stat sb;

	for (int i = 0; i < 6; i++)
		append(st, "taxii.objects", 2);
	cut = count(st, "SELECT max(ts) + 1 FROM audit");
	cr_assert_eq(sk_audit_archive(st, cut, arch[0], &moved, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(moved, 6);
	cr_assert_eq(stat(arch[0], &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	cr_assert_eq(sk_audit_archive(st, cut, arch[0], &moved, &err), SK_EEXIST);
	cr_assert_eq(count(st, "SELECT count(*) FROM audit"), 1, "the archive's own entry");
	for (int i = 0; i < 4; i++)
		append(st, "taxii.object", 1);
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 0, "%s", rep.problem);
	cr_assert_eq(rep.first, 7);

	cut = count(st, "SELECT max(ts) + 1 FROM audit");
	cr_assert_eq(sk_audit_archive(st, cut, arch[1], &moved, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(moved, 5);
	rep = verify(st, NULL, 0);
	cr_assert_eq(rep.bad, 0, "%s", rep.problem);
	cr_assert_eq(rep.first, 12);
	/* both archives, in either order */
	{
		const char *rev[2] = {arch[1], arch[0]};
		rep = verify(st, rev, 2);
		cr_assert_eq(rep.bad, 0, "%s", rep.problem);
		cr_assert_eq(rep.first, 1);
		cr_assert_eq(rep.entries, 12);
	}
	/* only the second: anchored by the checkpoint it carries */
	rep = verify(st, arch + 1, 1);
	cr_assert_eq(rep.bad, 0, "%s", rep.problem);
	cr_assert_eq(rep.first, 7);
	sk_store_close(st);
}
