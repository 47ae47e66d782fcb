/*
 * test_logsrc.c - the log sources tally (logread.h, logsrc.c): source kinds
 * from the format and the log's own event name, names from the input kept
 * only when plain, the tally bounded whatever the input, merging, and the
 * STIX object types each kind delivers.
 */
#include "schakel/logread.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static sk_logrec rec_of(const char *event, sk_obs_kind k)
{
	sk_logrec r;
	memset(&r, 0, sizeof(r));
	r.event = event;
	r.event_len = event ? (uint32_t)strlen(event) : 0;
	if (k != SK_OBS_NONE) {
		r.obs[0].kind = (uint8_t)k;
		r.obs[0].v = "x";
		r.obs[0].len = 1;
		r.n = 1;
	}
	return r;
}

static const sk_logsrc *find(const sk_logsrc_tally *t, const char *kind)
{
	for (unsigned i = 0; i < t->n; i++)
		if (!strcmp(t->src[i].kind, kind))
			return &t->src[i];
	return NULL;
}

Test(logsrc, kinds_from_format_and_event)
{
	sk_logsrc_tally t;
	sk_logrec dns = rec_of("dns", SK_OBS_DOMAIN), http = rec_of("HTTP", SK_OBS_URL),
	          ecs = rec_of("process-created", SK_OBS_PROCESS), none = rec_of(NULL, SK_OBS_NONE);
	sk_logsrc_init(&t);
	sk_logsrc_note(&t, SK_LOGFMT_ZEEK, &dns);
	sk_logsrc_note(&t, SK_LOGFMT_ZEEK_JSON, &dns);
	sk_logsrc_note(&t, SK_LOGFMT_EVE, &http);
	sk_logsrc_note(&t, SK_LOGFMT_ECS, &ecs);
	sk_logsrc_note(&t, SK_LOGFMT_CSV, &none);
	cr_assert_eq(t.n, 4);
	cr_expect_eq(find(&t, "zeek:dns")->records, 2, "TSV and JSON Zeek are one family");
	cr_expect_not_null(find(&t, "eve:http"), "event names are lower-cased");
	cr_expect_not_null(find(&t, "ecs"), "ECS actions are the operator's words: not kept");
	cr_expect_not_null(find(&t, "csv"));
}

Test(logsrc, input_names_are_plain_and_bounded)
{
	sk_logsrc_tally t;
	char ev[32];
	sk_logrec odd = rec_of("/var/log/secret path", SK_OBS_NONE),
	          lng = rec_of("a_very_long_event_type_name_indeed", SK_OBS_NONE);
	sk_logsrc_init(&t);
	sk_logsrc_note(&t, SK_LOGFMT_EVE, &odd);
	sk_logsrc_note(&t, SK_LOGFMT_EVE, &lng);
	cr_assert_eq(t.n, 1);
	cr_expect_str_eq(t.src[0].kind, "eve:other");
	cr_expect_eq(t.src[0].records, 2);
	for (int i = 0; i < 200; i++) {
		snprintf(ev, sizeof(ev), "ev%d", i);
		sk_logrec r = rec_of(ev, SK_OBS_NONE);
		sk_logsrc_note(&t, SK_LOGFMT_ZEEK, &r);
	}
	cr_expect_leq(t.n, SK_LOGSRC_MAX, "at most SK_LOGSRC_MAX kinds");
	cr_expect_not_null(find(&t, "zeek:other"), "the rest counted as FAMILY:other");
	uint64_t n = 0;
	for (unsigned i = 0; i < t.n; i++)
		n += t.src[i].records;
	cr_expect_eq(n, 202, "no record is lost");
}

Test(logsrc, merge_adds_by_kind)
{
	sk_logsrc_tally a, b;
	sk_logrec dns = rec_of("dns", SK_OBS_IPV4), conn = rec_of("conn", SK_OBS_IPV6);
	sk_logsrc_init(&a);
	sk_logsrc_init(&b);
	sk_logsrc_note(&a, SK_LOGFMT_ZEEK, &dns);
	sk_logsrc_note(&b, SK_LOGFMT_ZEEK, &dns);
	sk_logsrc_note(&b, SK_LOGFMT_ZEEK, &conn);
	sk_logsrc_merge(&a, &b);
	cr_assert_eq(a.n, 2);
	cr_expect_eq(find(&a, "zeek:dns")->records, 2);
	cr_expect_eq(find(&a, "zeek:conn")->records, 1);
}

Test(logsrc, object_types)
{
	sk_logsrc_tally t;
	char buf[256];
	sk_logrec dns = rec_of("dns", SK_OBS_DOMAIN), txt = rec_of(NULL, SK_OBS_URL);
	sk_logsrc_init(&t);
	sk_logsrc_note(&t, SK_LOGFMT_ZEEK, &dns);
	sk_logsrc_note(&t, SK_LOGFMT_TEXT, &txt);
	sk_logsrc_types(find(&t, "zeek:dns"), buf, sizeof(buf));
	cr_expect_str_eq(buf, "domain-name,ipv4-addr,ipv6-addr,network-traffic",
	                 "the readers' table, without repeats");
	sk_logsrc_types(find(&t, "text"), buf, sizeof(buf));
	cr_expect_str_eq(buf, "url", "free text: what was found in it");
	sk_logsrc_types(find(&t, "zeek:dns"), buf, 20);
	cr_expect_str_eq(buf, "domain-name", "cut at a type boundary");
}
