/*
 * test_logread_host.c - the host readers through the reader API: auditd
 * events ended by EOE, by the next serial and by the end of the input (also
 * mid-chunk and across chunk boundaries), hex-encoded values, osquery lines
 * with several rows, none, or a broken one, and ECS time and dotted keys.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "schakel/logread.h"

typedef struct got {
	unsigned n;
	uint64_t line[32];
	int64_t ts[32];
	char first[32][96]; /* "kind=value" of the first value of a kind asked for */
} got;

static void find_kind(const sk_logrec *r, sk_obs_kind k, char *out, size_t n)
{
	out[0] = '\0';
	for (uint32_t i = 0; i < r->n; i++)
		if (r->obs[i].kind == k) {
			snprintf(out, n, "%.*s", (int)r->obs[i].len, r->obs[i].v);
			return;
		}
}

static const sk_logread_stats *read_all(const char *text, sk_logfmt f, sk_obs_kind k, got *g)
{
	static sk_logread_stats st;
	sk_reader *r;
	sk_logread *lr;
	sk_error err;
	const sk_logrec *rec;
	sk_logread_opts o = {.format = f};

	memset(g, 0, sizeof(*g));
	cr_assert_eq(sk_reader_open_mem(text, strlen(text), "mem", &r, &err), SK_OK);
	cr_assert_eq(sk_logread_open_reader(r, &o, &lr, &err), SK_OK, "%s", err.msg);
	while (sk_logread_next(lr, &rec, &err) == SK_OK && rec && g->n < 32) {
		g->line[g->n] = rec->line;
		g->ts[g->n] = rec->ts_us;
		find_kind(rec, k, g->first[g->n], sizeof(g->first[0]));
		g->n++;
	}
	st = *sk_logread_stats_get(lr);
	sk_logread_close(lr);
	return &st;
}

Test(logread_host, auditd_event_boundaries)
{
	const char *t = "type=SYSCALL msg=audit(10.5:1): comm=\"a\" exe=\"/bin/a\"\n"
	                "type=EXECVE msg=audit(10.5:1): argc=2 a0=\"a\" a1=2F746D702F782079\n"
	                "type=SYSCALL msg=audit(11.0:2): comm=\"b\"\n" /* ended by serial 3 */
	                "type=EOE msg=audit(12.0:3): \n"               /* an EOE alone */
	                "not audit\n"
	                "type=USER_CMD msg=audit(13.0:4): cmd=6C73202D6C\n"
	                "type=EOE msg=audit(13.0:4): \n"
	                "type=SYSCALL msg=audit(14.0:5): comm=\"c\" exe=\"/bin/c\"\n"
	                "type=PROCTITLE msg=audit(14.0:5): proctitle=63002D78\n"; /* no EOE */
	got g;
	const sk_logread_stats *st = read_all(t, SK_LOGFMT_AUDITD, SK_OBS_CMDLINE, &g);
	cr_assert_eq(g.n, 4);
	cr_assert_eq(g.line[0], 1);
	cr_assert_eq(g.ts[0], 10500000);
	cr_assert_str_eq(g.first[0], "a /tmp/x y");
	cr_assert_eq(g.line[1], 3);
	cr_assert_str_eq(g.first[1], "");
	cr_assert_eq(g.line[2], 6);
	cr_assert_str_eq(g.first[2], "ls -l");
	cr_assert_eq(g.line[3], 8);
	cr_assert_str_eq(g.first[3], "c -x");
	cr_assert_eq(st->malformed, 1);
	cr_assert_eq(st->bad[0].line, 5);
}

Test(logread_host, auditd_chunks_keep_events_whole)
{
	char text[64 * 1024];
	size_t o = 0;
	unsigned events = 0, recs = 0;
	/* 300 events of three lines without EOE: chunks of 4 KiB must cut between them */
	for (unsigned i = 0; i < 300; i++, events++)
		o += (size_t)snprintf(
		    text + o, sizeof(text) - o,
		    "type=SYSCALL msg=audit(1.%03u:%u): comm=\"p%u\"\n"
		    "type=CWD msg=audit(1.%03u:%u): cwd=\"/d%u\"\n"
		    "type=PATH msg=audit(1.%03u:%u): name=\"/f/%u\" nametype=NORMAL\n",
		    i, i, i, i, i, i, i, i, i);
	sk_reader *r;
	sk_logread *lr, *w;
	sk_logchunk c = {0};
	sk_error err;
	const sk_logrec *rec;
	sk_logread_opts opt = {.format = SK_LOGFMT_AUDITD, .max_line = 1024};
	cr_assert_eq(sk_reader_open_mem(text, o, "mem", &r, &err), SK_OK);
	cr_assert_eq(sk_logread_open_reader(r, &opt, &lr, &err), SK_OK);
	cr_assert_eq(sk_logread_new_worker(&opt, &w, &err), SK_OK);
	for (;;) {
		cr_assert_eq(sk_logread_chunk(lr, &c, 4096, &err), SK_OK, "%s", err.msg);
		cr_assert_eq(sk_logread_bind(w, &c, &err), SK_OK);
		while (sk_logread_next(w, &rec, &err) == SK_OK && rec) {
			unsigned kinds = 0;
			for (uint32_t i = 0; i < rec->n; i++)
				kinds |= 1u << rec->obs[i].kind;
			/* each record has its process, directory and file */
			cr_assert(kinds & (1u << SK_OBS_PROCESS));
			cr_assert(kinds & (1u << SK_OBS_FILENAME));
			recs++;
		}
		if (c.end)
			break;
	}
	cr_assert_eq(recs, events);
	sk_logchunk_free(&c);
	sk_logread_close(w);
	sk_logread_close(lr);
}

Test(logread_host, osquery_rows)
{
	const char *t =
	    "{\"name\":\"q\",\"unixTime\":100,\"snapshot\":[{\"pid\":\"1\",\"cmdline\":\"x -a\"},"
	    "{\"pid\":\"2\",\"cmdline\":\"y -b\"},{\"pid\":\"3\",\"cmdline\":\"z -c\"}]}\n"
	    "{\"name\":\"q\",\"unixTime\":101,\"snapshot\":[]}\n"
	    "{\"name\":\"q\",\"unixTime\":\"oops\",\"columns\":{\"cmdline\":\"w\"}}\n"
	    "{\"name\":\"q\",\"calendarTime\":\"Fri Mar  1 10:01:00 2024 UTC\","
	    "\"columns\":{\"cmdline\":\"v\",\"pid\":\"9\"}}\n";
	got g;
	const sk_logread_stats *st = read_all(t, SK_LOGFMT_OSQUERY, SK_OBS_CMDLINE, &g);
	cr_assert_eq(g.n, 4);
	cr_assert_str_eq(g.first[0], "x -a");
	cr_assert_str_eq(g.first[2], "z -c");
	cr_assert_eq(g.line[2], 1);
	cr_assert_eq(g.ts[2], 100000000);
	cr_assert_eq(g.line[3], 4);
	cr_assert_eq(g.ts[3], 1709287260LL * 1000000);
	cr_assert_eq(st->records, 4);
	cr_assert_eq(st->malformed, 1);
	cr_assert_eq(st->bad[0].line, 3);
}

Test(logread_host, ecs_dotted_and_nested)
{
	const char *t =
	    "{\"@timestamp\":\"2024-03-01T10:00:00Z\",\"ecs.version\":\"8\","
	    "\"registry.hive\":\"HKLM\",\"registry\":{\"key\":\"Software\\\\Run\"}}\n"
	    "{\"@timestamp\":\"2024-03-01T10:00:00+01:00\",\"event\":{},"
	    "\"winlog\":{\"event_data\":{\"TargetObject\":\"\\\\REGISTRY\\\\MACHINE\\\\S\"}}}\n";
	got g;
	read_all(t, SK_LOGFMT_ECS, SK_OBS_REGKEY, &g);
	cr_assert_eq(g.n, 2);
	cr_assert_str_eq(g.first[0], "HKEY_LOCAL_MACHINE\\Software\\Run");
	cr_assert_str_eq(g.first[1], "HKEY_LOCAL_MACHINE\\S");
	cr_assert_eq(g.ts[1], 1709283600LL * 1000000);
}

Test(logread_host, format_names)
{
	sk_logfmt f;
	cr_assert(sk_logfmt_parse("auditd", &f) && f == SK_LOGFMT_AUDITD);
	cr_assert(sk_logfmt_parse("osquery", &f) && f == SK_LOGFMT_OSQUERY);
	cr_assert(sk_logfmt_parse("ecs", &f) && f == SK_LOGFMT_ECS);
	cr_assert_str_eq(sk_logfmt_name(SK_LOGFMT_ECS), "ecs");
	cr_assert(!sk_logfmt_parse("sysmon", &f));
}
