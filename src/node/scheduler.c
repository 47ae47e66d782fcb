/*
 * scheduler.c - the sync scheduler inside `schakel serve`: one thread per
 * peer, each with its own store connection and HTTP client, so a slow, dead
 * or hostile peer only ever holds up its own thread (and every transfer has
 * timeouts).  A supervisor thread starts threads for new peers every few
 * seconds; a thread ends when its peer is removed.  Stopping sets a flag
 * that aborts transfers in progress (the client's progress callback) and
 * wakes the sleepers.
 */
#include "schakel/node.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schakel/peer.h"
#include "schakel/sync.h"
#include "schakel/timestamp.h"
#include "store/store_priv.h"

#define MAX_PEERS    256
#define SUPERVISE_S  2
#define PUSH_POLL_US 20000 /* push on commit: how often a waiting pusher looks */

typedef struct worker {
	struct sk_scheduler *s;
	int64_t pid;
	char name[SK_PEER_NAME_MAX + 1];
	pthread_t th;
	bool running, done;
} worker;

struct sk_scheduler {
	char *db_path;
	sk_sync_opts opts;
	volatile int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t sup;
	bool sup_running;
	worker *w[MAX_PEERS];
	size_t nw;
};

/* Sleep until deadline_us or stop; false if stopping. */
static bool sleep_until(sk_scheduler *s, int64_t deadline_us)
{
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		int64_t now = sk_ts_now_us();
		if (now >= deadline_us)
			break;
		int64_t wake = now + (deadline_us - now > 1000000 ? 1000000 : deadline_us - now);
		struct timespec ts = {wake / 1000000, (long)(wake % 1000000) * 1000};
		pthread_cond_timedwait(&s->cv, &s->mu, &ts); /* CLOCK_REALTIME, as sk_ts_now_us */
	}
	bool go = !s->stop;
	pthread_mutex_unlock(&s->mu);
	return go;
}

static int64_t next_run(sk_store *st, int64_t pid)
{
	sqlite3_stmt *q = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), "SELECT next_run FROM peer_state WHERE pid=?1",
	                       -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, pid);
		if (sqlite3_step(q) == SQLITE_ROW)
			v = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	return v;
}

/*
 * Push on commit: does push peer pid's local collection hold a version added
 * after its push cursor (and is the peer not failing)?  Then the version is
 * sent now instead of at the next scheduled run.  Polled, so it sees what
 * other processes commit (an import, a feed) as well as this one's TAXII
 * POSTs; one index seek on collection_objects.
 */
static bool push_due(sk_store *st, int64_t pid)
{
	static const char q[] =
	    "SELECT 1 FROM peers p JOIN peer_state ps ON ps.pid=p.pid"
	    " WHERE p.pid=?1 AND p.push=1 AND ps.failures=0 AND EXISTS (SELECT 1"
	    " FROM collection_objects co WHERE co.coll=p.local_coll AND "
	    "co.date_added>ps.push_cursor)";
	sqlite3_stmt *s = NULL;
	bool due;
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, NULL))
		return false;
	sqlite3_bind_int64(s, 1, pid);
	due = sqlite3_step(s) == SQLITE_ROW;
	sk_store_stmt_put(st, s);
	return due;
}

/* Push now what was committed since the last push (the pull waits for its run). */
static void push_now(worker *w, sk_store *st)
{
	sk_scheduler *s = w->s;
	sk_sync_result res;
	sk_peer p;
	sk_error err;

	memset(&res, 0, sizeof(res));
	if (sk_peer_get(st, s->db_path, w->name, &p, &err))
		return;
	/* the limits sk_sync_peer would fill (a push of what was just committed is small) */
	sk_sync_opts lo = s->opts;
	if (!lo.max_pages)
		lo.max_pages = SK_SYNC_DEFAULT_MAX_PAGES;
	if (!lo.max_seconds)
		lo.max_seconds = SK_SYNC_DEFAULT_MAX_SECONDS;
	if (!lo.deadline_us)
		lo.deadline_us = sk_ts_now_us() + (int64_t)lo.max_seconds * 1000000;
	if (sk_sync_push(st, &p, &lo, &res, &err))
		fprintf(stderr, "schakel: sync %s: push: %s\n", w->name, err.msg);
	sk_peer_clear(&p);
}

/* Sleep until due, pushing on commit meanwhile; false if stopping. */
static bool wait_run(worker *w, sk_store *st, int64_t due)
{
	for (;;) {
		int64_t now = sk_ts_now_us();
		if (now >= due)
			return !w->s->stop;
		if (push_due(st, w->pid))
			push_now(w, st);
		if (!sleep_until(w->s, due - now > PUSH_POLL_US ? now + PUSH_POLL_US : due))
			return false;
	}
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	sk_scheduler *s = w->s;
	sk_store *st = NULL;
	sk_error err;

	if (sk_store_open(s->db_path, 0, &st, &err)) {
		fprintf(stderr, "schakel: sync %s: %s\n", w->name, err.msg);
		goto out;
	}
	while (!s->stop) {
		int64_t due = next_run(st, w->pid);
		sk_sync_result res;
		if (due < 0)
			break; /* the peer was removed */
		if (!wait_run(w, st, due))
			break;
		sk_err rc = sk_sync_peer(st, w->name, &s->opts, &res, &err);
		if (rc == SK_ENOTFOUND)
			break;
		if (rc && rc != SK_EINTERRUPTED)
			fprintf(stderr, "schakel: sync %s: %s\n", w->name, err.msg);
		else if (!rc && (res.stored || res.sent))
			fprintf(stderr, "schakel: sync %s: %llu in, %llu out, %llu waiting\n",
			        w->name, (unsigned long long)res.stored,
			        (unsigned long long)res.sent, (unsigned long long)res.outbox);
	}
out:
	sk_store_close(st);
	pthread_mutex_lock(&s->mu);
	w->done = true;
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

typedef struct found {
	int64_t pid[MAX_PEERS];
	char name[MAX_PEERS][SK_PEER_NAME_MAX + 1];
	size_t n;
} found;

static int on_peer(void *ud, const sk_peer *p)
{
	found *f = ud;
	if (f->n < MAX_PEERS && (p->pull || p->push)) {
		f->pid[f->n] = p->pid;
		snprintf(f->name[f->n], sizeof(f->name[0]), "%s", p->name);
		f->n++;
	}
	return 0;
}

static void *supervisor(void *arg)
{
	sk_scheduler *s = arg;
	sk_store *st = NULL;
	sk_error err;
	found *f = malloc(sizeof(*f));

	if (!f || sk_store_open(s->db_path, 0, &st, &err)) {
		fprintf(stderr, "schakel: sync: cannot open the store\n");
		free(f);
		return NULL;
	}
	while (!s->stop) {
		f->n = 0;
		if (sk_peer_list(st, on_peer, f, &err) == SK_OK) {
			pthread_mutex_lock(&s->mu);
			for (size_t i = 0; i < f->n; i++) {
				bool have = false;
				for (size_t j = 0; j < s->nw; j++)
					if (s->w[j]->pid == f->pid[i] && !s->w[j]->done)
						have = true;
				if (have)
					continue;
				/* reap a finished slot or take a new one */
				worker *w = NULL;
				for (size_t j = 0; j < s->nw && !w; j++)
					if (s->w[j]->done) {
						pthread_mutex_unlock(&s->mu);
						pthread_join(s->w[j]->th, NULL);
						pthread_mutex_lock(&s->mu);
						w = s->w[j];
					}
				if (!w && s->nw < MAX_PEERS && (w = calloc(1, sizeof(*w))))
					s->w[s->nw++] = w;
				if (!w)
					continue;
				memset(w, 0, sizeof(*w));
				w->s = s;
				w->pid = f->pid[i];
				snprintf(w->name, sizeof(w->name), "%s", f->name[i]);
				if (pthread_create(&w->th, NULL, worker_main, w) == 0)
					w->running = true;
				else
					w->done = true;
			}
			pthread_mutex_unlock(&s->mu);
		}
		sleep_until(s, sk_ts_now_us() + SUPERVISE_S * 1000000);
	}
	sk_store_close(st);
	free(f);
	return NULL;
}

sk_err sk_scheduler_start(const char *db_path, const sk_sync_opts *o, sk_scheduler **out,
                          sk_error *err)
{
	sk_scheduler *s = calloc(1, sizeof(*s));
	*out = NULL;
	if (!s || !(s->db_path = strdup(db_path))) {
		free(s);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	if (o)
		s->opts = *o;
	s->opts.db_path = s->db_path;
	s->opts.stop = &s->stop;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->sup, NULL, supervisor, s) != 0) {
		sk_scheduler_stop(s);
		return sk_error_set(err, SK_ENOMEM, "cannot start the sync scheduler");
	}
	s->sup_running = true;
	*out = s;
	return SK_OK;
}

void sk_scheduler_stop(sk_scheduler *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->sup_running)
		pthread_join(s->sup, NULL);
	for (size_t i = 0; i < s->nw; i++) {
		if (s->w[i]->running)
			pthread_join(s->w[i]->th, NULL);
		free(s->w[i]);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->db_path);
	free(s);
}
