/*
 * audit_append.c - what one audit entry costs: appends per second of a
 * TAXII-page-sized entry (100 versions) on one connection, and with
 * THREADS threads each on its own connection (the server's shape), then
 * the time `sk_audit_verify` takes over all of them.
 * Build: cmake --build build --target audit_append_bench
 * Usage: build/audit_append_bench [N per thread (default 5000)] [THREADS (default 4)]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "schakel/audit.h"
#include "schakel/store.h"

static char path[256];
static int per;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *ud)
{
	int64_t vers[100];
	sk_audit_entry e = {.action = "taxii.objects", .actor = "account:bench",
			    .subject = "partner:Bench",
			    .detail = "{\"path\":\"/api/collections/x/objects/\",\"method\":\"GET\"}",
			    .vers = vers, .nvers = 100, .exit = true};
	sk_store *st = NULL;
	sk_error err;
	(void)ud;
	for (int i = 0; i < 100; i++)
		vers[i] = 1000 + i;
	if (sk_store_open(path, 0, &st, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		exit(1);
	}
	for (int i = 0; i < per; i++)
		if (sk_audit_append(st, &e, &err)) {
			fprintf(stderr, "append: %s\n", err.msg);
			exit(1);
		}
	sk_store_close(st);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 2 ? atoi(argv[2]) : 4;
	pthread_t th[64];
	sk_store *st = NULL;
	sk_audit_report rep;
	sk_error err;
	double t;

	per = argc > 1 ? atoi(argv[1]) : 5000;
	if (threads < 1 || threads > 64 || per < 1)
		return 2;
	snprintf(path, sizeof(path), "/tmp/audit-bench-%d.db", (int)getpid());
	if (sk_store_open(path, SK_STORE_CREATE, &st, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	t = now();
	run(NULL);
	t = now() - t;
	printf("1 connection: %d appends in %.2f s: %.0f appends/s (%.1f us each)\n", per, t,
	       per / t, 1e6 * t / per);
	t = now();
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, run, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	t = now() - t;
	printf("%d threads: %d appends in %.2f s: %.0f appends/s\n", threads, threads * per, t,
	       threads * per / t);
	t = now();
	if (sk_audit_verify(st, NULL, 0, &rep, &err) || rep.bad) {
		fprintf(stderr, "verify: %s\n", rep.bad ? rep.problem : err.msg);
		return 1;
	}
	t = now() - t;
	printf("verify: %lld entries in %.2f s: %.0f entries/s\n", (long long)rep.entries, t,
	       rep.entries / t);
	sk_store_close(st);
	{
		static const char *const suffix[] = {"", "-wal", "-shm"};
		for (size_t i = 0; i < 3; i++) {
			char f[300];
			snprintf(f, sizeof(f), "%s%s", path, suffix[i]);
			unlink(f);
		}
	}
	return 0;
}
