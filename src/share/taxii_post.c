/*
 * taxii_post.c - TAXII 2.1 POST of an envelope to a collection and the status
 * resource that reports it.  Small envelopes are imported while the client
 * waits; large ones are answered "pending" at once and imported by one
 * background writer thread with its own store connection, from a queue
 * bounded in bytes.
 */
#include "taxii_priv.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/import.h"
#include "schakel/policy.h"
#include "schakel/reader.h"
#include "schakel/timestamp.h"
#include "schakel/uuid.h"
#include "store/store_priv.h"

#define STATUS_KEEP_US ((int64_t)48 * 3600 * 1000000) /* statuses live >= 24 h; purge at 48 h */

/* Envelopes above either bound are imported by the background writer. */
#define SYNC_MAX_OBJECTS 2000
#define SYNC_MAX_BYTES   ((size_t)4 << 20)

/* --- POST and status ---------------------------------------------------------------- */

typedef struct detail {
	int outcome; /* sk_import_outcome */
	char *id;
	char spec[4];
	char version[SK_TS_KEY_LEN + 1];
	char *message;
} detail;

typedef struct post_state {
	detail *d;
	size_t n, cap;
	bool oom;
} post_state;

static void on_object(void *ud, const sk_import_event *ev)
{
	post_state *ps = ud;
	detail *d;
	if (ps->oom)
		return;
	if (ps->n == ps->cap) {
		size_t nc = ps->cap ? ps->cap * 2 : 64;
		detail *nd = realloc(ps->d, nc * sizeof(*nd));
		if (!nd) {
			ps->oom = true;
			return;
		}
		ps->d = nd;
		ps->cap = nc;
	}
	d = &ps->d[ps->n++];
	memset(d, 0, sizeof(*d));
	d->outcome = (int)ev->outcome;
	d->id = strdup(ev->id && strlen(ev->id) < 300 ? ev->id : "");
	if (ev->spec)
		snprintf(d->spec, sizeof(d->spec), "%s", ev->spec);
	if (ev->version)
		snprintf(d->version, sizeof(d->version), "%s", ev->version);
	if (ev->message) {
		char m[900];
		snprintf(m, sizeof(m), "object %llu: %s", (unsigned long long)ev->index,
		         ev->message);
		d->message = strdup(m);
	}
	if (!d->id || (ev->message && !d->message))
		ps->oom = true;
}

static void post_state_free(post_state *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->d[i].id);
		free(ps->d[i].message);
	}
	free(ps->d);
}

/*
 * Status rows.  A status is inserted complete (synchronous POST) or pending
 * with every object counted as pending (background POST), and then finished
 * by status_finish() with the per-object details.
 */
static sk_err status_insert(sk_store *st, const char *sid, int64_t root, int64_t cid, int64_t aid,
                            int64_t total, int64_t pending, sk_error *err)
{
	static const char qs[] = "INSERT INTO statuses(sid, root, coll, aid, created, total, "
	                         "success, failure, pending) VALUES(?1,?2,?3,?4,?5,?6,0,0,?7)";
	static const char qp[] = "DELETE FROM statuses WHERE created<?1";
	sqlite3_stmt *s = NULL;
	int64_t now = sk_ts_now_us();
	sk_err rc;

	if ((rc = sk_store_stmt_get(st, qp, sizeof(qp) - 1, &s, err)))
		return rc;
	sqlite3_bind_int64(s, 1, now - STATUS_KEEP_US);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "status");
	sk_store_stmt_put(st, s);
	if (rc || (rc = sk_store_stmt_get(st, qs, sizeof(qs) - 1, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, sid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, root);
	sqlite3_bind_int64(s, 3, cid);
	sqlite3_bind_int64(s, 4, aid);
	sqlite3_bind_int64(s, 5, now);
	sqlite3_bind_int64(s, 6, total);
	sqlite3_bind_int64(s, 7, pending);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "status");
	sk_store_stmt_put(st, s);
	return rc;
}

/*
 * Record the outcome of ps for status sid: counts and details.  extra_failed
 * objects (the envelope's objects the import never reached, after a store
 * error) count as failures.
 */
static sk_err status_finish(sk_store *st, const char *sid, const post_state *ps,
                            int64_t extra_failed, sk_error *err)
{
	static const char qu[] = "UPDATE statuses SET success=?2, failure=?3, pending=0"
	                         " WHERE sid=?1";
	static const char qd[] = "INSERT INTO status_details(sid, seq, outcome, id, spec, "
	                         "version, message) VALUES(?1,?2,?3,?4,?5,?6,?7)";
	sqlite3_stmt *s = NULL;
	int64_t fails = extra_failed;
	sk_err rc;

	for (size_t i = 0; i < ps->n; i++)
		fails += ps->d[i].outcome == SK_IMPORT_REJECTED;
	if ((rc = sk_store_stmt_get(st, qu, sizeof(qu) - 1, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, sid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)ps->n + extra_failed - fails);
	sqlite3_bind_int64(s, 3, fails);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "status");
	sk_store_stmt_put(st, s);
	for (size_t i = 0; !rc && i < ps->n; i++) {
		const detail *d = &ps->d[i];
		if ((rc = sk_store_stmt_get(st, qd, sizeof(qd) - 1, &s, err)))
			break;
		sqlite3_bind_text(s, 1, sid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (int64_t)i);
		sqlite3_bind_int(s, 3, d->outcome);
		sqlite3_bind_text(s, 4, d->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, d->spec[0] ? d->spec : NULL, -1, SQLITE_STATIC);
		/* a rejected object's version is the one it was sent with, when it had one */
		sqlite3_bind_text(s, 6, d->version[0] ? d->version : NULL, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 7, d->message, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sk_store_dberr(st, err, "status");
		sk_store_stmt_put(st, s);
	}
	return rc;
}

/*
 * Import body into collection cid, collecting per-object outcomes in ps,
 * inside the caller's transaction: an envelope is stored whole, with its
 * status, or not at all (a crash leaves no half envelope behind a status
 * that says otherwise).  Versions new to the store are recorded as received
 * from rx (the poster's partner identity), which the write rule and the
 * onward-sharing rule read.
 */
static sk_err import_body(sk_store *st, int64_t cid, const char *body, size_t len, const char *rx,
                          post_state *ps, sk_error *err)
{
	sk_origin origin = {.rx = rx && *rx ? rx : NULL, .unmarked = sk_policy_unmarked(st, rx)};
	sk_reader *rd = NULL;
	sk_import_stats stats;
	sk_import_opts o = {
	    .cid = cid,
	    .in_tx = true,
	    .on_object = on_object,
	    .ud = ps,
	};
	sk_err rc;

	memset(&stats, 0, sizeof(stats));
	if ((rc = sk_reader_open_mem(body, len, "body", &rd, err)))
		return rc;
	sk_store_set_origin(st, origin.rx ? &origin : NULL);
	rc = sk_import_reader(st, rd, &o, &stats, err);
	sk_store_set_origin(st, NULL);
	sk_reader_close(rd);
	if (!rc && ps->oom)
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	return rc;
}

/* --- background writer ------------------------------------------------- */

/*
 * Import a queued envelope and finish its status in one transaction.  If
 * that fails nothing of it is stored, and the status says so: every object
 * failed.  (After a crash, sk_taxii_recover_statuses says the same.)
 */
static void run_job(sk_store *st, post_job *job, size_t nobj)
{
	post_state ps = {0}, none = {0};
	sk_error e;
	sk_err rc;

	if (!st) {
		fprintf(stderr, "schakel: serve: background POST %s: no store connection\n",
		        job->sid);
		return;
	}
	if (!(rc = sk_store_begin(st, &e))) {
		int64_t missing;
		rc = import_body(st, job->cid, job->body, job->len, job->rx, &ps, &e);
		missing = (int64_t)nobj > (int64_t)ps.n ? (int64_t)nobj - (int64_t)ps.n : 0;
		if (!rc)
			rc = status_finish(st, job->sid, &ps, missing, &e);
		if (!rc)
			rc = sk_store_commit(st, &e);
		if (rc)
			sk_store_rollback(st);
	}
	if (rc) {
		fprintf(stderr, "schakel: serve: background POST %s: %s (nothing stored)\n",
		        job->sid, e.msg);
		if (sk_store_begin(st, &e) == SK_OK &&
		    (status_finish(st, job->sid, &none, (int64_t)nobj, &e) ||
		     sk_store_commit(st, &e))) {
			sk_store_rollback(st);
			fprintf(stderr, "schakel: serve: status %s: %s\n", job->sid, e.msg);
		}
	}
	post_state_free(&ps);
}

sk_err sk_taxii_recover_statuses(sk_store *st, sk_error *err)
{
	sqlite3 *db = sk_store_sqlite(st);
	sk_err rc;

	if ((rc = sk_store_begin(st, err)))
		return rc;
	if (sqlite3_exec(db, "UPDATE statuses SET failure=total-success, pending=0 WHERE pending>0",
	                 NULL, NULL, NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "statuses");
		sk_store_rollback(st);
		return rc;
	}
	if (sqlite3_changes(db) > 0)
		fprintf(stderr, "schakel: serve: %d POST statuses were pending when the server "
		                "stopped; nothing of them was stored: marked complete, every object "
		                "failed\n",
		        sqlite3_changes(db));
	return sk_store_commit(st, err);
}

static void *writer_main(void *arg)
{
	sk_taxii *t = arg;
	sk_store *st = NULL;
	sk_error e;

	if (sk_store_open(t->db_path, 0, &st, &e)) {
		fprintf(stderr, "schakel: serve: writer: %s\n", e.msg);
		st = NULL;
	}
	pthread_mutex_lock(&t->qmu);
	for (;;) {
		while (!t->head && !t->stopping)
			pthread_cond_wait(&t->qcv, &t->qmu);
		post_job *job = t->head;
		if (!job)
			break; /* stopping and drained */
		t->head = job->next;
		if (!t->head)
			t->tail = NULL;
		pthread_mutex_unlock(&t->qmu);

		size_t nobj = 0;
		sk_taxii_envelope_check(job->body, job->len, &nobj, NULL);
		run_job(st, job, nobj);

		pthread_mutex_lock(&t->qmu);
		t->queued_bytes -= job->len;
		free(job->body);
		free(job);
	}
	pthread_mutex_unlock(&t->qmu);
	sk_store_close(st);
	return NULL;
}

/* Queue a job; false when the queue is full (or the writer cannot start). */
static bool writer_enqueue(sk_taxii *t, post_job *job)
{
	bool ok = false;

	pthread_mutex_lock(&t->qmu);
	if (t->stopping || t->queued_bytes + job->len > 4 * t->cfg.max_content_length)
		goto out;
	if (!t->writer_running) {
		if (pthread_create(&t->writer, NULL, writer_main, t) != 0)
			goto out;
		t->writer_running = true;
	}
	job->next = NULL;
	if (t->tail)
		t->tail->next = job;
	else
		t->head = job;
	t->tail = job;
	t->queued_bytes += job->len;
	pthread_cond_signal(&t->qcv);
	ok = true;
out:
	pthread_mutex_unlock(&t->qmu);
	return ok;
}

void sk_taxii_writer_stop(sk_taxii *t)
{
	bool join;

	pthread_mutex_lock(&t->qmu);
	t->stopping = true;
	join = t->writer_running;
	pthread_cond_broadcast(&t->qcv);
	pthread_mutex_unlock(&t->qmu);
	if (join)
		pthread_join(t->writer, NULL);
}

/*
 * Render status sid for the current account (others: 404).  Success details
 * say "already present" only when the account may see that stored version;
 * otherwise a duplicate looks exactly like a newly stored object.
 */
void sk_taxii_render_status(ctx *c, const char *sid, int http_status)
{
	static const char qs[] = "SELECT coll, aid, created, total, success, failure, pending"
	                         " FROM statuses WHERE sid=?1 AND root=?2";
	static const char qd[] =
	    "SELECT d.outcome, d.id, d.version, d.message, o.tlp, o.created_by, d.spec, o.rx"
	    " FROM status_details d LEFT JOIN objects o"
	    " ON o.id=d.id AND o.spec=d.spec AND o.version=d.version"
	    " WHERE d.sid=?1 ORDER BY d.seq";
	sk_buf *b = &c->resp->body;
	sqlite3_stmt *s = NULL;
	coll_info ci = {0};
	sk_access a;
	int64_t cid = 0, aid = 0, created = 0, total = 0, succ = 0, failc = 0, pend = 0;
	char ts[40];
	bool found = false;

	if (!sk_uuid_valid(sid, strlen(sid)) ||
	    sk_store_stmt_get(c->st, qs, sizeof(qs) - 1, &s, NULL)) {
		sk_taxii_fail(c, 404, "Status not found", "no such status");
		return;
	}
	sqlite3_bind_text(s, 1, sid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, c->root);
	if (sqlite3_step(s) == SQLITE_ROW) {
		cid = sqlite3_column_int64(s, 0);
		aid = sqlite3_column_int64(s, 1);
		created = sqlite3_column_int64(s, 2);
		total = sqlite3_column_int64(s, 3);
		succ = sqlite3_column_int64(s, 4);
		failc = sqlite3_column_int64(s, 5);
		pend = sqlite3_column_int64(s, 6);
		found = true;
	}
	sk_store_stmt_put(c->st, s);
	if (!found || aid != c->who.aid || sk_taxii_find_coll(c, NULL, cid, &ci, NULL) ||
	    sk_policy_access(c->st, &c->who, &ci.c, &a, NULL)) {
		sk_collection_clear(&ci.c);
		sk_taxii_fail(c, 404, "Status not found", "no such status");
		return;
	}
	sk_ts_format_us(created, ts);
	sk_buf_reset(b);
	sk_buf_printf(b,
	              "{\"id\":\"%s\",\"status\":\"%s\",\"request_timestamp\":\"%s\","
	              "\"total_count\":%lld,\"success_count\":%lld,\"failure_count\":%lld,"
	              "\"pending_count\":%lld",
	              sid, pend ? "pending" : "complete", ts, (long long)total, (long long)succ,
	              (long long)failc, (long long)pend);
	for (int pass = 0; pass < 2; pass++) {
		bool first = true;
		int step;
		sk_buf_puts(b, pass == 0 ? ",\"successes\":[" : ",\"failures\":[");
		if (sk_store_stmt_get(c->st, qd, sizeof(qd) - 1, &s, NULL)) {
			sk_collection_clear(&ci.c);
			sk_taxii_fail_db(c, NULL);
			return;
		}
		sqlite3_bind_text(s, 1, sid, -1, SQLITE_STATIC);
		while ((step = sqlite3_step(s)) == SQLITE_ROW) {
			int outcome = sqlite3_column_int(s, 0);
			const char *id = (const char *)sqlite3_column_text(s, 1);
			const char *vkey = (const char *)sqlite3_column_text(s, 2);
			const char *msg = (const char *)sqlite3_column_text(s, 3);
			char ver[40];
			if ((outcome == SK_IMPORT_REJECTED) != (pass == 1))
				continue;
			sk_buf_puts(b, first ? "{\"id\":" : ",{\"id\":");
			first = false;
			sk_taxii_jstr(b, id ? id : "");
			/* every entry has id and version (4.3.1); one without a
			 * version of its own has the request's time */
			sk_taxii_version_str(vkey, created, ver);
			sk_buf_printf(b, ",\"version\":\"%s\"", ver);
			if (pass == 0) {
				bool visible =
				    sqlite3_column_type(s, 4) != SQLITE_NULL &&
				    sk_policy_visible_rx(&a, (sk_tlp)sqlite3_column_int(s, 4),
				                         (const char *)sqlite3_column_text(s, 5),
				                         (const char *)sqlite3_column_text(s, 7));
				if (outcome == SK_IMPORT_DUPLICATE && visible)
					sk_buf_puts(b, ",\"message\":\"already present\"");
			} else if (msg) {
				sk_buf_puts(b, ",\"message\":");
				sk_taxii_jstr(b, msg);
			}
			sk_buf_putc(b, '}');
		}
		sk_store_stmt_put(c->st, s);
		sk_buf_putc(b, ']');
	}
	sk_buf_puts(b, ",\"pendings\":[]}");
	sk_collection_clear(&ci.c);
	c->resp->status = http_status;
}

bool sk_taxii_post_allowed(ctx *c, const char *ckey, coll_info *ci, sk_access *a)
{
	const sk_taxii_req *rq = c->req;

	if (!c->who.aid) {
		sk_taxii_fail(c, 401, "Authentication required",
		              "adding objects needs credentials");
		return false;
	}
	if (rq->body_too_large) {
		sk_taxii_fail(c, 413, "Request too large", "the body exceeds max_content_length");
		return false;
	}
	if (!sk_taxii_content_type_ok(rq->content_type)) {
		sk_taxii_fail(c, 415, "Unsupported media type",
		              "send Content-Type: " SK_TAXII_MEDIA_TYPE);
		return false;
	}
	return sk_taxii_open_coll(c, ckey, true, ci, a);
}

void sk_taxii_post_objects(ctx *c, const char *ckey)
{
	const sk_taxii_req *rq = c->req;
	post_state ps = {0};
	coll_info ci;
	sk_access a;
	sk_error e;
	size_t nobj = 0;
	char sid[SK_UUID_LEN + 1];

	if (!sk_taxii_post_allowed(c, ckey, &ci, &a))
		return;
	switch (sk_taxii_envelope_check(rq->body, rq->body_len, &nobj, &e)) {
	case SK_OK:
		break;
	case SK_EINVAL: /* JSON, but not an envelope (5.5) */
		sk_taxii_fail(c, 422, "Unprocessable envelope", e.msg);
		goto out;
	case SK_ENOMEM:
		sk_taxii_fail(c, 503, "Server busy", "no memory for this envelope; retry later");
		goto out;
	default:
		sk_taxii_fail(c, 400, "Malformed envelope", e.msg);
		goto out;
	}
	sk_uuid_v4(sid);
	if (c->t->db_path && (nobj > SYNC_MAX_OBJECTS || rq->body_len > SYNC_MAX_BYTES)) {
		/* large: answer "pending" now, import on the background writer */
		post_job *job = calloc(1, sizeof(*job));
		if (job)
			job->body = malloc(rq->body_len ? rq->body_len : 1);
		if (!job || !job->body) {
			free(job);
			sk_taxii_fail(c, 503, "Server busy",
			              "no memory for this envelope; retry later");
			goto out;
		}
		memcpy(job->body, rq->body, rq->body_len);
		job->len = rq->body_len;
		job->cid = ci.c.cid;
		memcpy(job->sid, sid, sizeof(sid));
		snprintf(job->rx, sizeof(job->rx), "%s", c->who.identity);
		if (sk_store_begin(c->st, &e) ||
		    status_insert(c->st, sid, c->root, ci.c.cid, c->who.aid, (int64_t)nobj,
		                  (int64_t)nobj, &e) ||
		    sk_store_commit(c->st, &e)) {
			sk_store_rollback(c->st);
			free(job->body);
			free(job);
			sk_taxii_fail_db(c, &e);
			goto out;
		}
		if (!writer_enqueue(c->t, job)) {
			free(job->body);
			free(job);
			/* not queued: finish its status as failed so it never stays pending */
			post_state none = {0};
			if (sk_store_begin(c->st, &e) == SK_OK &&
			    (status_finish(c->st, sid, &none, (int64_t)nobj, &e) ||
			     sk_store_commit(c->st, &e)))
				sk_store_rollback(c->st);
			sk_taxii_fail(c, 503, "Server busy",
			              "too many envelopes queued; retry later");
			goto out;
		}
		sk_taxii_render_status(c, sid, 202);
		goto out;
	}
	{
		/* small: the envelope and its status in one transaction */
		sk_err rc = sk_store_begin(c->st, &e);
		if (!rc)
			rc = import_body(c->st, ci.c.cid, rq->body, rq->body_len, c->who.identity,
			                 &ps, &e);
		if (!rc)
			rc = status_insert(c->st, sid, c->root, ci.c.cid, c->who.aid,
			                   (int64_t)ps.n, 0, &e);
		if (!rc)
			rc = status_finish(c->st, sid, &ps, 0, &e);
		if (!rc)
			rc = sk_store_commit(c->st, &e);
		if (rc) {
			sk_store_rollback(c->st);
			fprintf(stderr, "schakel: serve: POST: %s\n", e.msg);
			sk_taxii_fail(c, rc == SK_EBUSY ? 503 : 500, "Objects not stored",
			              rc == SK_EBUSY ? "the store is busy; retry later"
			                             : "the store could not take this envelope");
			goto out;
		}
	}
	sk_taxii_render_status(c, sid, 202);
out:
	post_state_free(&ps);
	sk_collection_clear(&ci.c);
}
