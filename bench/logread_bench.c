/*
 * logread_bench.c - throughput of the log readers over logs replayed in memory.
 *
 *   logread_bench [-f FORMAT] [-m MB] [-d] FILE
 *
 * FILE (plain or .gz) is read once, decompressed, and repeated in memory to
 * at least MB megabytes (default 256); then one pass of sk_logread over that
 * buffer is timed (line splitting + parsing + normalisation, no I/O, no
 * gzip), in CPU seconds.  -d instead prints every record of FILE (a debugging aid).
 */
#include "schakel/logread.h"
#include "schakel/reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * CPU time of this process, not wall time: on a shared 2-core machine the
 * wall clock counts the time other jobs held the core, which made figures
 * swing by 2x between runs.  The bench is single-threaded.
 */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
	sk_reader *r;
	sk_error err;
	size_t cap = 1 << 20, n = 0, got;
	char *buf = malloc(cap);
	if (!buf || sk_reader_open(path, &r, &err)) {
		fprintf(stderr, "%s: cannot open\n", path);
		exit(1);
	}
	for (;;) {
		if (cap - n < (1 << 16)) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				exit(1);
		}
		if (sk_reader_read(r, buf + n, cap - n, &got, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			exit(1);
		}
		if (!got)
			break;
		n += got;
	}
	sk_reader_close(r);
	*len = n;
	return buf;
}

static void dump(const sk_logrec *rec)
{
	printf("line %llu ts %lld event %.*s\n", (unsigned long long)rec->line,
	       (long long)rec->ts_us, (int)rec->event_len, rec->event ? rec->event : "-");
	for (uint32_t i = 0; i < rec->n; i++) {
		const sk_obs *o = &rec->obs[i];
		printf("  %-11s %-4s %-22s %.*s\n", sk_obs_kind_name((sk_obs_kind)o->kind),
		       sk_obs_role_name((sk_obs_role)o->role), o->field, (int)o->len, o->v);
	}
}

int main(int argc, char **argv)
{
	sk_logread_opts opts = {0};
	size_t target_mb = 256, len, total;
	bool do_dump = false;
	int c;

	while ((c = getopt(argc, argv, "f:m:d")) != -1) {
		switch (c) {
		case 'f':
			if (!sk_logfmt_parse(optarg, &opts.format)) {
				fprintf(stderr, "unknown format %s\n", optarg);
				return 2;
			}
			break;
		case 'm':
			target_mb = (size_t)atol(optarg);
			break;
		case 'd':
			do_dump = true;
			break;
		default:
			fprintf(stderr, "usage: logread_bench [-f FORMAT] [-m MB] [-d] FILE\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: logread_bench [-f FORMAT] [-m MB] [-d] FILE\n");
		return 2;
	}
	char *one = slurp(argv[optind], &len);
	if (len && one[len - 1] != '\n')
		one[len++] = '\n';
	total = do_dump ? len : 0;
	size_t reps = do_dump ? 1 : (target_mb << 20) / (len ? len : 1) + 1;
	char *big = do_dump ? one : malloc(reps * len);
	if (!big)
		return 1;
	if (!do_dump)
		for (size_t i = 0; i < reps; i++)
			memcpy(big + i * len, one, len), total += len;

	sk_reader *r;
	sk_logread *lr;
	sk_error err;
	if (sk_reader_open_mem(big, total, argv[optind], &r, &err) ||
	    sk_logread_open_reader(r, &opts, &lr, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	double t0 = now();
	const sk_logrec *rec;
	uint64_t values = 0;
	for (;;) {
		if (sk_logread_next(lr, &rec, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		if (!rec)
			break;
		values += rec->n;
		if (do_dump)
			dump(rec);
	}
	double dt = now() - t0;
	const sk_logread_stats *st = sk_logread_stats_get(lr);
	fprintf(do_dump ? stderr : stdout,
	        "%-10s %8.1f MB  %8.3f s  %8.0f MB/s  %8.2f Mrec/s  records %llu  malformed %llu  "
	        "values %llu  dropped %llu\n",
	        sk_logfmt_name(sk_logread_format(lr)), (double)total / 1e6, dt,
	        (double)total / 1e6 / dt, (double)st->records / 1e6 / dt,
	        (unsigned long long)st->records, (unsigned long long)st->malformed,
	        (unsigned long long)values, (unsigned long long)st->dropped);
	for (unsigned i = 0; i < st->n_bad; i++)
		fprintf(stderr, "  line %llu: %s\n", (unsigned long long)st->bad[i].line,
		        st->bad[i].reason);
	sk_logread_close(lr);
	if (big != one)
		free(big);
	free(one);
	return 0;
}
