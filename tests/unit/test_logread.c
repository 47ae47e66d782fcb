/*
 * test_logread.c - the log readers: every format's field map on small
 * fixtures, malformed-line reporting, limits, gzip, auto-detection,
 * --follow across rotation, and (when ../shared is present) every line of
 * the shared Zeek and EVE logs.
 */
#include "schakel/logread.h"
#include "schakel/reader.h"
#include "logs/logfmt.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char *fixtures(void)
{
	const char *f = getenv("SK_FIXTURES");
	return f ? f : "tests/fixtures";
}

static char *fixture(const char *name)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/logs/%s", fixtures(), name);
	return path;
}

/* All records of a file, flattened to "line kind role field value" rows. */
typedef struct collected {
	char text[65536];
	size_t len;
	unsigned records;
	int64_t ts[64];
	char events[64][16];
	sk_logread_stats st;
	sk_logfmt fmt;
} collected;

static void collect_from(sk_logread *lr, collected *c)
{
	const sk_logrec *rec;
	sk_error err;
	memset(c, 0, sizeof(*c));
	for (;;) {
		cr_assert_eq(sk_logread_next(lr, &rec, &err), SK_OK, "%s", err.msg);
		if (!rec)
			break;
		if (c->records < 64) {
			c->ts[c->records] = rec->ts_us;
			snprintf(c->events[c->records], 16, "%.*s", (int)rec->event_len,
			         rec->event ? rec->event : "");
		}
		c->records++;
		for (uint32_t i = 0; i < rec->n; i++) {
			const sk_obs *o = &rec->obs[i];
			int k = snprintf(
			    c->text + c->len, sizeof(c->text) - c->len, "%llu %s %s %s %.*s\n",
			    (unsigned long long)rec->line, sk_obs_kind_name((sk_obs_kind)o->kind),
			    sk_obs_role_name((sk_obs_role)o->role), o->field, (int)o->len, o->v);
			c->len += (size_t)k;
		}
	}
	c->st = *sk_logread_stats_get(lr);
	c->fmt = sk_logread_format(lr);
}

static void collect(const char *path, const sk_logread_opts *opts, collected *c)
{
	sk_logread *lr;
	sk_error err;
	cr_assert_eq(sk_logread_open(path, opts, &lr, &err), SK_OK, "%s", err.msg);
	collect_from(lr, c);
	sk_logread_close(lr);
}

static void collect_mem(const char *text, size_t len, const sk_logread_opts *opts, collected *c)
{
	sk_reader *r;
	sk_logread *lr;
	sk_error err;
	cr_assert_eq(sk_reader_open_mem(text, len, "mem", &r, &err), SK_OK);
	cr_assert_eq(sk_logread_open_reader(r, opts, &lr, &err), SK_OK, "%s", err.msg);
	collect_from(lr, c);
	sk_logread_close(lr);
}

#define HAS(c, row)                                                                                \
	cr_expect(strstr((c)->text, row "\n") != NULL, "missing row: %s\nin:\n%s", row, (c)->text)
#define HASNT(c, needle)                                                                           \
	cr_expect(strstr((c)->text, needle) == NULL, "unexpected: %s\nin:\n%s", needle, (c)->text)

static collected C;

Test(logread, zeek_dns)
{
	collect(fixture("zeek_dns.log"), NULL, &C);
	cr_assert_eq(C.fmt, SK_LOGFMT_ZEEK);
	cr_assert_eq(C.records, 4);
	cr_assert_eq(C.st.malformed, 0);
	cr_expect_eq(C.ts[0], 1704067200123456LL);
	cr_expect_eq(C.ts[2], 1704067202500000LL);
	cr_expect_str_eq(C.events[0], "dns");
	HAS(&C, "9 ipv4 src id.orig_h 192.0.2.10");
	HAS(&C, "9 port src id.orig_p 53211");
	HAS(&C, "9 ipv4 dst id.resp_h 198.51.100.53");
	HAS(&C, "9 port dst id.resp_p 53");
	HAS(&C, "9 domain none query www.evil.example");
	HAS(&C, "9 domain none answers cdn.evil.example");
	HAS(&C, "9 ipv4 none answers 203.0.113.7");
	HAS(&C, "9 ipv6 none answers 2001:db8::7");
	HAS(&C, "11 ipv6 src id.orig_h 2001:db8::10");
	HASNT(&C, "(empty)");
	HASNT(&C, "name.example"); /* tab after unescaping: not a domain */
}

Test(logread, zeek_http_url_join)
{
	collect(fixture("zeek_http.log"), NULL, &C);
	cr_assert_eq(C.records, 3);
	HAS(&C, "9 url none uri http://download.evil.example/payload.bin?id=1");
	HAS(&C, "9 domain none host download.evil.example");
	HAS(&C, "9 url none referrer http://landing.example/");
	HAS(&C, "9 user-agent none user_agent Mozilla/5.0 (X11; Linux x86_64)");
	HAS(&C, "10 ipv4 none host 203.0.113.91");
	HAS(&C, "10 url none uri http://203.0.113.91:8080/index.html");
	HAS(&C, "11 url none uri http://proxy.example/abs");
}

Test(logread, zeek_ssl_x509_files_smtp_conn)
{
	collect(fixture("zeek_ssl.log"), NULL, &C);
	HAS(&C, "9 domain none server_name secure.shop.example");
	HAS(&C, "9 ja3 none ja3 e7d705a3286e19ea42f587b344ee6865");
	HAS(&C, "9 ja3s none ja3s 0d2a2b3c4d5e6f708192a3b4c5d6e7f8");
	HAS(&C, "9 x509-sha256 none cert_chain_fps "
	        "b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe");
	HAS(&C, "9 x509-sha1 none cert_chain_fps 0123456789abcdef0123456789abcdef01234567");

	collect(fixture("zeek_x509.log"), NULL, &C);
	HAS(&C, "9 x509-sha256 none fingerprint "
	        "b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe");
	HAS(&C, "9 x509-serial none certificate.serial 0A1B2C3D");
	HAS(&C, "9 domain none san.dns secure.shop.example");
	HAS(&C, "9 email none san.email admin@shop.example");
	HAS(&C, "9 ipv4 none san.ip 203.0.113.44");

	collect(fixture("zeek_files.log"), NULL, &C);
	HAS(&C, "9 md5 none md5 44d88612fea8a8f36de82e1278abb02f");
	HAS(&C, "9 sha1 none sha1 3395856ce81f2b7382dee72602f798b642f14140");
	HAS(&C, "9 sha256 none sha256 "
	        "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f");
	HAS(&C, "9 filename none filename payload.bin");
	HAS(&C, "9 ipv4 none tx_hosts 203.0.113.90");

	collect(fixture("zeek_smtp.log"), NULL, &C);
	HAS(&C, "9 email src mailfrom Phisher@bad.example");
	HAS(&C, "9 email dst rcptto victim1@corp.example");
	HAS(&C, "9 email dst rcptto victim2@corp.example");
	HAS(&C, "9 email src from phisher@bad.example");
	HAS(&C, "9 ipv4 none path 198.51.100.25");

	collect(fixture("zeek_conn.log"), NULL, &C);
	cr_assert_eq(C.records, 2);
	HAS(&C, "10 port dst id.resp_p 80");
}

Test(logread, zeek_malformed_and_header_blocks)
{
	collect(fixture("zeek_mixed.log"), NULL, &C);
	cr_assert_eq(C.records, 2);
	cr_assert_eq(C.st.malformed, 2);
	cr_assert_eq(C.st.n_bad, 2);
	cr_expect_eq(C.st.bad[0].line, 10);
	cr_expect_str_eq(C.st.bad[0].reason, "fewer columns than #fields");
	cr_expect_eq(C.st.bad[1].line, 11);
	cr_expect_str_eq(C.st.bad[1].reason, "bad ts");
	HAS(&C, "9 domain none query ok.example");
	/* the second header block (conn, three columns) */
	HAS(&C, "21 ipv4 dst id.resp_h 203.0.113.63");
	cr_expect_str_eq(C.events[1], "conn");
}

Test(logread, zeek_data_without_header)
{
	static const char t[] = "1704067200.0\t192.0.2.1\n";
	sk_logread_opts o = {.format = SK_LOGFMT_ZEEK};
	collect_mem(t, sizeof(t) - 1, &o, &C);
	cr_assert_eq(C.records, 0);
	cr_assert_eq(C.st.malformed, 1);
	cr_expect_str_eq(C.st.bad[0].reason, "data before a #fields header");
}

Test(logread, zeek_json)
{
	collect(fixture("zeek.json"), NULL, &C);
	cr_assert_eq(C.fmt, SK_LOGFMT_ZEEK_JSON);
	cr_assert_eq(C.records, 3);
	cr_assert_eq(C.st.malformed, 1);
	cr_expect_eq(C.st.bad[0].line, 4);
	cr_expect_eq(C.ts[0], 1704067200123456LL);
	cr_expect_eq(C.ts[1], 1704067400500000LL);
	cr_expect_str_eq(C.events[1], "ssl");
	HAS(&C, "1 domain none query www.evil.example");
	HAS(&C, "1 domain none answers cdn.evil.example");
	HAS(&C, "1 ipv4 none answers 203.0.113.7");
	HAS(&C, "1 port dst id.resp_p 53");
	HAS(&C, "2 ja3 none ja3 e7d705a3286e19ea42f587b344ee6865");
	HAS(&C, "3 url none uri http://download.evil.example/abc"); /* \u0062 decoded */
}

Test(logread, eve)
{
	collect(fixture("eve.json"), NULL, &C);
	cr_assert_eq(C.fmt, SK_LOGFMT_EVE);
	cr_assert_eq(C.records, 9);
	cr_assert_eq(C.st.malformed, 3);
	cr_expect_eq(C.st.bad[0].line, 10);
	cr_expect_eq(C.st.bad[1].line, 11);
	cr_expect_eq(C.st.bad[2].line, 12);
	cr_expect_str_eq(C.st.bad[2].reason, "bad timestamp");
	cr_expect_eq(C.ts[0], 1704067200000000LL); /* 01:00+0100 */
	cr_expect_str_eq(C.events[3], "http");
	/* dns v2 with answers (grouped not repeated), v1, v3 */
	HAS(&C, "1 domain none dns.rrname www.evil.example");
	HAS(&C, "1 domain none dns.answers.rdata cdn.evil.example");
	HAS(&C, "1 ipv4 none dns.answers.rdata 203.0.113.7");
	HASNT(&C, "dns.grouped");
	HAS(&C, "2 ipv4 none dns.answers.rdata 203.0.113.8");
	HAS(&C, "3 domain none dns.rrname v3.example");
	/* http */
	HAS(&C, "4 ipv6 src src_ip 2001:db8::40");
	HAS(&C, "4 url none http.url http://download.evil.example/payload.bin");
	HAS(&C, "4 user-agent none http.http_user_agent Mozilla/5.0");
	HAS(&C, "4 url none http.http_refer http://landing.example/");
	/* tls */
	HAS(&C, "5 domain none tls.sni secure.shop.example");
	HAS(&C, "5 ja3 none tls.ja3.hash e7d705a3286e19ea42f587b344ee6865");
	HAS(&C, "5 ja3s none tls.ja3s.hash 0d2a2b3c4d5e6f708192a3b4c5d6e7f8");
	HAS(&C, "5 ja4 none tls.ja4 t13d1516h2_8daaf6152771_b186095e22b6");
	HAS(&C, "5 x509-sha1 none tls.fingerprint 9330fe1ef2adaf216f4b11b9f255f3c1051617be");
	/* fileinfo */
	HAS(&C, "6 md5 none fileinfo.md5 44d88612fea8a8f36de82e1278abb02f");
	HAS(&C, "6 sha256 none fileinfo.sha256 "
	        "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f");
	HAS(&C, "6 filename none fileinfo.filename /payload.bin");
	/* flow */
	HAS(&C, "7 port dst dest_port 443");
	/* smtp + email */
	HAS(&C, "8 email src smtp.mail_from phisher@bad.example");
	HAS(&C, "8 email dst smtp.rcpt_to victim2@corp.example");
	HAS(&C, "8 email src email.from phisher@bad.example");
	/* alert, with \u0000 in another field */
	HAS(&C, "9 signature none alert.signature ET MALWARE Test \"Beacon\"");
}

Test(logread, csv)
{
	collect(fixture("indicators.csv"), NULL, &C);
	cr_assert_eq(C.fmt, SK_LOGFMT_CSV);
	cr_assert_eq(C.records, 2);
	cr_assert_eq(C.st.malformed, 2);
	cr_expect_eq(C.st.bad[0].line, 4);
	cr_expect_eq(C.st.bad[1].line, 5);
	cr_expect_eq(C.ts[0], 1704067200000000LL);
	cr_expect_eq(C.ts[1], 1704067201500000LL);
	HAS(&C, "2 ipv4 src src_ip 192.0.2.10");
	HAS(&C, "2 ipv4 dst dst_ip 203.0.113.7");
	HAS(&C, "2 port dst dst_port 443");
	HAS(&C, "2 domain none domain evil.example");
	HAS(&C, "2 url none url https://evil.example/login");
	HAS(&C, "2 sha256 none sha256 "
	        "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f");
	HAS(&C, "3 url none url http://quoted.example/a,b");
	HASNT(&C, " note ");

	sk_logread_opts o = {.csv_map = "note=signature,domain=ignore"};
	collect(fixture("indicators.csv"), &o, &C);
	HAS(&C, "2 signature none note plain");
	HAS(&C, "3 signature none note he said \"hi\"");
	HASNT(&C, "domain none domain");

	sk_logread *lr;
	sk_error err;
	o.csv_map = "note";
	o.format = SK_LOGFMT_CSV;
	cr_expect_eq(sk_logread_open(fixture("indicators.csv"), &o, &lr, &err), SK_EINVAL);
	o.csv_map = "note=bogus";
	cr_expect_eq(sk_logread_open(fixture("indicators.csv"), &o, &lr, &err), SK_EINVAL);
}

Test(logread, text_with_psl)
{
	char psl[4096];
	snprintf(psl, sizeof(psl), "%s", fixture("psl_test.dat"));
	sk_logread_opts o = {.psl_path = psl};
	collect(fixture("incident.eml"), &o, &C);
	cr_assert_eq(C.fmt, SK_LOGFMT_TEXT);
	cr_assert_eq(C.st.malformed, 0);
	HAS(&C, "1 email none text soc@corp.example");
	HAS(&C, "6 email none text phisher@bad.example");
	HAS(&C, "6 ipv4 none text 198.51.100.25");
	HAS(&C, "7 url none text https://login.evil.example/reset?user=victim");
	HAS(&C, "7 domain none text login.evil.example");
	HAS(&C, "9 sha256 none text "
	        "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f");
	HAS(&C, "10 md5 none text 44d88612fea8a8f36de82e1278abb02f");
	HAS(&C, "10 ipv6 none text 2001:db8::dead:beef");
	HAS(&C, "10 domain none text c2.evil.example");
	HASNT(&C, "hxxp");
	HASNT(&C, "1.2.3.4");
	HASNT(&C, "999.1.1.1");
	HASNT(&C, "report.pdf");
	HASNT(&C, "deadbeef\n");

	collect(fixture("proxy.log"), &o, &C);
	HAS(&C, "1 ipv4 none text 192.0.2.10");
	HAS(&C, "1 url none text http://download.evil.example/payload.bin");
	HAS(&C, "1 domain none text download.evil.example");
	HAS(&C, "1 ipv4 none text 203.0.113.90");
	HAS(&C, "2 domain none text secure.shop.example");
}

Test(logread, text_without_psl)
{
	static const char t[] = "visit Evil.Example.com or 203.0.113.5 now; not file.x1\n";
	sk_logread_opts o = {.format = SK_LOGFMT_TEXT, .psl_path = "/nonexistent/psl.dat"};
	collect_mem(t, sizeof(t) - 1, &o, &C);
	cr_assert_eq(C.records, 1);
	HAS(&C, "1 domain none text evil.example.com");
	HAS(&C, "1 ipv4 none text 203.0.113.5");
	HASNT(&C, "file.x1");
}

Test(logread, limits_crlf_and_last_line)
{
	/* a 3000-byte line against a 1 KiB limit, CRLF endings, no final newline */
	size_t big = 3000;
	char *t = malloc(big + 200);
	size_t n = 0;
	n += (size_t)sprintf(t + n, "a 192.0.2.1\r\n");
	memset(t + n, 'x', big);
	n += big;
	n += (size_t)sprintf(t + n, "\n198.51.100.2 tail\r\n\r\nlast 203.0.113.3");
	sk_logread_opts o = {
	    .format = SK_LOGFMT_TEXT, .max_line = 1024, .psl_path = "/nonexistent"};
	collect_mem(t, n, &o, &C);
	cr_assert_eq(C.st.malformed, 1);
	cr_assert_eq(C.st.overlong, 1);
	cr_expect_eq(C.st.bad[0].line, 2);
	cr_expect_str_eq(C.st.bad[0].reason, "line longer than the limit");
	HAS(&C, "1 ipv4 none text 192.0.2.1");
	HAS(&C, "3 ipv4 none text 198.51.100.2");
	HAS(&C, "5 ipv4 none text 203.0.113.3");
	cr_expect_eq(C.st.bytes, n);
	free(t);
}

Test(logread, many_values_are_bounded)
{
	char t[8192];
	size_t n = 0;
	for (int i = 0; i < 100; i++)
		n += (size_t)sprintf(t + n, "192.0.2.%d ", i);
	t[n++] = '\n';
	sk_logread_opts o = {.format = SK_LOGFMT_TEXT, .psl_path = "/nonexistent"};
	collect_mem(t, n, &o, &C);
	cr_assert_eq(C.records, 1);
	cr_expect_eq(C.st.values, SK_LOGREC_MAX_OBS);
	cr_expect_eq(C.st.dropped, 100 - SK_LOGREC_MAX_OBS);
}

Test(logread, gzip_and_detection)
{
	char path[] = "/tmp/sk_logread_gzXXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	FILE *in = fopen(fixture("zeek_dns.log"), "rb");
	gzFile gz = gzopen(path, "wb");
	char buf[4096];
	size_t k;
	while ((k = fread(buf, 1, sizeof(buf), in)) > 0)
		gzwrite(gz, buf, (unsigned)k);
	fclose(in);
	gzclose(gz);
	collect(path, NULL, &C);
	unlink(path);
	cr_assert_eq(C.fmt, SK_LOGFMT_ZEEK);
	cr_assert_eq(C.records, 4);
	HAS(&C, "9 domain none query www.evil.example");
}

Test(logread, names)
{
	sk_logfmt f;
	cr_assert(sk_logfmt_parse("zeek-json", &f));
	cr_assert_eq(f, SK_LOGFMT_ZEEK_JSON);
	cr_assert_not(sk_logfmt_parse("xml", &f));
	cr_assert_str_eq(sk_logfmt_name(SK_LOGFMT_EVE), "eve");
	cr_assert_str_eq(sk_obs_stix_path(SK_OBS_IPV4, SK_ROLE_DST),
	                 "network-traffic:dst_ref.value");
	cr_assert_str_eq(sk_obs_stix_path(SK_OBS_SHA256, SK_ROLE_NONE), "file:hashes.'SHA-256'");
	cr_assert_null(sk_obs_stix_path(SK_OBS_SIGNATURE, SK_ROLE_NONE));
	cr_assert_str_eq(sk_obs_kind_name(SK_OBS_X509_SHA1), "x509-sha1");
}

Test(logread, classify)
{
	cr_assert(sk_obs_is_ipv4("192.0.2.1", 9));
	cr_assert_not(sk_obs_is_ipv4("192.0.2.256", 11));
	cr_assert_not(sk_obs_is_ipv4("192.0.2", 7));
	cr_assert_not(sk_obs_is_ipv4("01.0.2.1", 8));
	cr_assert(sk_obs_is_ipv6("2001:db8::1", 11));
	cr_assert(sk_obs_is_ipv6("::", 2));
	cr_assert(sk_obs_is_ipv6("::ffff:192.0.2.1", 16));
	cr_assert(sk_obs_is_ipv6("fe80::1%eth0", 12));
	cr_assert(sk_obs_is_ipv6("2001:db8:0:0:0:0:0:1", 20));
	cr_assert_not(sk_obs_is_ipv6("2001:db8::1::2", 14));
	cr_assert_not(sk_obs_is_ipv6("2001:db8:0:0:0:0:0:0:1", 22));
	cr_assert_not(sk_obs_is_ipv6("12345::", 7));
	cr_assert_eq(sk_obs_classify("evil.example", 12), SK_OBS_DOMAIN);
	cr_assert_eq(sk_obs_classify("1.2.3.4.5", 9), SK_OBS_NONE);
	cr_assert_eq(sk_obs_classify("a@b.example", 11), SK_OBS_EMAIL);
	cr_assert_eq(sk_obs_classify("HTTPS://x.example/", 18), SK_OBS_URL);
	cr_assert_eq(sk_obs_classify("44d88612fea8a8f36de82e1278abb02f", 32), SK_OBS_MD5);
}

/* A plain reference for the domain syntax check, written for this test. */
static bool ref_is_domain(const unsigned char *s, size_t n)
{
	size_t label = 0;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

/* The vectorised check agrees with the reference on random names of every length. */
Test(logread, domain_check_matches_reference)
{
	static const char alphabet[] = "abcXYZ09-_....\xb2\x80 @[`{/:";
	unsigned char buf[300];
	uint32_t x = 12345;

	for (int round = 0; round < 200000; round++) {
		size_t n = (size_t)(round % 260);
		/* mostly valid names (dots rarer), sometimes a stray byte */
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			unsigned r = (x >> 16) % 100,
			         dots = round % 2 ? 12 : 1; /* long labels too */
			buf[i] = r < 85          ? (unsigned char)"abcdefXYZ0123-_"[r % 15]
			         : r < 85 + dots ? '.'
			         : r >= 97 ? (unsigned char)alphabet[r % (sizeof(alphabet) - 1)]
			                   : (unsigned char)'q';
		}
		cr_assert_eq(sk_obs_is_domain((const char *)buf, n), ref_is_domain(buf, n),
		             "length %zu: %.*s", n, (int)n, (const char *)buf);
	}
}

/* The syntax checks every reader relies on, at their edges. */
Test(logread, value_syntax_edges)
{
	char label63[80], label64[80];
	int64_t us;

	cr_assert(sk_obs_is_ipv4("0.0.0.0", 7));
	cr_assert(sk_obs_is_ipv4("255.255.255.255", 15));
	cr_assert(sk_obs_is_ipv4("203.0.113.10", 12));
	cr_assert_not(sk_obs_is_ipv4("203.0.113.", 10));
	cr_assert_not(sk_obs_is_ipv4(".203.0.113", 10));
	cr_assert_not(sk_obs_is_ipv4("203.0.113.1000", 14));
	cr_assert_not(sk_obs_is_ipv4("203.00.113.1", 12));
	cr_assert_not(sk_obs_is_ipv4("203..0.113", 10));
	cr_assert_not(sk_obs_is_ipv4("256.0.0.1", 9));
	cr_assert_not(sk_obs_is_ipv4("1.2.3.4x", 8));
	cr_assert(sk_obs_is_domain("a.example", 9));
	cr_assert(sk_obs_is_domain("xn--bcher-kva.example", 21));
	cr_assert(sk_obs_is_domain("_dmarc.EXAMPLE.test", 19));
	cr_assert_not(sk_obs_is_domain(".example", 8));
	cr_assert_not(sk_obs_is_domain("a..example", 10));
	cr_assert_not(
	    sk_obs_is_domain("a.example.", 10)); /* readers strip one trailing dot first */
	cr_assert_not(sk_obs_is_domain("a example", 9));
	/* bytes >= 0x80 are in no class (superscript digits once slipped through) */
	cr_assert_not(sk_obs_is_domain("ex\xb2mple.test", 12));
	cr_assert_not(sk_obs_is_domain("ex\xb9mple.test", 12));
	cr_assert_not(sk_obs_is_hex("ab\xb3"
	                            "d",
	                            4));
	memset(label63, 'a', 63);
	memcpy(label63 + 63, ".test", 6);
	memset(label64, 'a', 64);
	memcpy(label64 + 64, ".test", 6);
	cr_assert(sk_obs_is_domain(label63, 68));
	cr_assert_not(sk_obs_is_domain(label64, 69));
	cr_assert(sk_logts_epoch("1521911720.865716", 17, &us));
	cr_assert_eq(us, 1521911720865716LL);
	cr_assert(sk_logts_epoch("1521911720.8", 12, &us));
	cr_assert_eq(us, 1521911720800000LL);
	cr_assert(sk_logts_epoch("1521911720.12345678", 19, &us));
	cr_assert_eq(us, 1521911720123456LL);
	cr_assert(sk_logts_epoch("1521911720", 10, &us));
	cr_assert_eq(us, 1521911720000000LL);
	cr_assert_not(sk_logts_epoch("1521911720.8x", 13, &us));
	cr_assert_not(sk_logts_epoch("", 0, &us));
	cr_assert_not(sk_logts_epoch(".5", 2, &us));
}

/* Zeek's 17-byte epoch form (read 8 digits at a time) against a byte-wise reference. */
Test(logread, epoch_fast_form)
{
	static const char bytes[] = "0123456789.9/:-x \0";
	uint64_t rng = 88172645463325252ULL;
	char s[17];
	for (int iter = 0; iter < 200000; iter++) {
		for (int i = 0; i < 17; i++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			s[i] = (char)('0' + rng % 10);
		}
		s[10] = '.';
		if (iter % 2) { /* one or two hostile bytes anywhere */
			for (int k = 0; k < 1 + iter % 3; k++) {
				rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
				s[rng % 17] =
				    (iter % 4 == 1) ? (char)(rng >> 8) : bytes[(rng >> 8) % 19];
			}
		}
		bool ok = s[10] == '.';
		int64_t sec = 0, frac = 0;
		for (int i = 0; i < 17; i++) {
			if (i == 10)
				continue;
			if (s[i] < '0' || s[i] > '9')
				ok = false;
			else if (i < 10)
				sec = sec * 10 + (s[i] - '0');
			else
				frac = frac * 10 + (s[i] - '0');
		}
		int64_t us = -1;
		bool got = sk_logts_epoch(s, 17, &us);
		if (s[10] != '.' && !ok)
			continue; /* other forms: the general parser's business */
		cr_assert_eq(got, ok, "%.17s", s);
		if (ok)
			cr_assert_eq(us, sec * 1000000 + frac, "%.17s", s);
	}
}

/* ---- follow ---- */

struct follow_ctx {
	char path[64];
	atomic_uint seen;
	atomic_int stop;
};

static void append(const char *path, const char *mode, const char *text)
{
	FILE *f = fopen(path, mode);
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void wait_seen(struct follow_ctx *fc, unsigned n)
{
	while (atomic_load(&fc->seen) < n)
		usleep(2000);
}

static void *writer(void *arg)
{
	struct follow_ctx *fc = arg;
	char old[80];
	wait_seen(fc, 1);
	append(fc->path, "a", "192.0.2.2 appended\n");
	wait_seen(fc, 2);
	/* logrotate: rename, then a new file; the old one gets a last line first */
	snprintf(old, sizeof(old), "%s.1", fc->path);
	rename(fc->path, old);
	append(old, "a", "192.0.2.3 late in old file\n");
	append(fc->path, "w", "192.0.2.4 in new file\n");
	wait_seen(fc, 4);
	/* copytruncate */
	truncate(fc->path, 0);
	append(fc->path, "a", "192.0.2.5\n");
	wait_seen(fc, 5);
	atomic_store(&fc->stop, 1);
	unlink(old);
	return NULL;
}

Test(logread, follow_rotation, .timeout = 60)
{
	static struct follow_ctx fc;
	snprintf(fc.path, sizeof(fc.path), "/tmp/sk_follow_%d.log", (int)getpid());
	append(fc.path, "w", "192.0.2.1 first\n");
	sk_logread_opts o = {.format = SK_LOGFMT_TEXT,
	                     .follow = true,
	                     .follow_poll_ms = 10,
	                     .stop = &fc.stop,
	                     .psl_path = "/nonexistent"};
	sk_logread *lr;
	sk_error err;
	cr_assert_eq(sk_logread_open(fc.path, &o, &lr, &err), SK_OK, "%s", err.msg);
	pthread_t th;
	pthread_create(&th, NULL, writer, &fc);
	const char *want[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"};
	for (;;) {
		const sk_logrec *rec;
		cr_assert_eq(sk_logread_next(lr, &rec, &err), SK_OK, "%s", err.msg);
		if (!rec)
			break;
		unsigned i = atomic_load(&fc.seen);
		cr_assert(i < 5);
		cr_assert_geq(rec->n, 1);
		cr_expect_eq(rec->obs[0].len, strlen(want[i]));
		cr_expect(memcmp(rec->obs[0].v, want[i], rec->obs[0].len) == 0, "record %u: %.*s",
		          i, (int)rec->obs[0].len, rec->obs[0].v);
		atomic_fetch_add(&fc.seen, 1);
	}
	pthread_join(th, NULL);
	cr_expect_eq(atomic_load(&fc.seen), 5);
	cr_expect_eq(sk_logread_stats_get(lr)->rotations, 2);
	sk_logread_close(lr);
	unlink(fc.path);
}

Test(logread, follow_refuses_gzip)
{
	sk_logread_opts o = {.follow = true};
	sk_logread *lr;
	sk_error err;
	char path[] = "/tmp/sk_follow_gzXXXXXX";
	int fd = mkstemp(path);
	cr_assert(write(fd, "\x1f\x8b\x08\x00", 4) == 4);
	close(fd);
	cr_expect_eq(sk_logread_open(path, &o, &lr, &err), SK_EUNSUPPORTED);
	unlink(path);
}

/* ---- shared logs (../shared/data/logs), when present ---- */

static const char *shared_logs(void)
{
	static char path[4096];
	const char *s = getenv("SK_SHARED");
	if (s)
		snprintf(path, sizeof(path), "%s/data/logs", s);
	else
		snprintf(path, sizeof(path), "%s/../../../shared/data/logs", fixtures());
	struct stat st;
	return stat(path, &st) == 0 ? path : NULL;
}

/* Independent count: non-empty lines not starting with '#', by zcat and grep. */
static unsigned long count_lines(const char *path)
{
	char cmd[20000];
	unsigned long n = 0;
	snprintf(cmd, sizeof(cmd), "zcat -f '%s' | grep -v '^#' | grep -vc '^$'", path);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_eq(fscanf(p, "%lu", &n), 1);
	pclose(p);
	return n;
}

static void check_shared(const char *sub, const char *const *names, sk_logfmt want)
{
	const char *base = shared_logs();
	if (!base)
		cr_skip_test("../shared/data/logs is absent: shared log checks skipped");
	for (const char *const *nm = names; *nm; nm++) {
		char path[16384];
		snprintf(path, sizeof(path), "%.4000s/%.200s/%.200s", base, sub, *nm);
		sk_logread *lr;
		sk_error err;
		const sk_logrec *rec;
		unsigned long records = 0, values = 0;
		cr_assert_eq(sk_logread_open(path, NULL, &lr, &err), SK_OK, "%s", err.msg);
		do {
			cr_assert_eq(sk_logread_next(lr, &rec, &err), SK_OK, "%s", err.msg);
			if (rec) {
				records++;
				values += rec->n;
			}
		} while (rec);
		const sk_logread_stats *st = sk_logread_stats_get(lr);
		cr_expect_eq(sk_logread_format(lr), want, "%s: format %s", *nm,
		             sk_logfmt_name(sk_logread_format(lr)));
		cr_expect_eq(st->malformed, 0, "%s: %llu malformed, first at line %llu: %s", *nm,
		             (unsigned long long)st->malformed,
		             (unsigned long long)(st->n_bad ? st->bad[0].line : 0),
		             st->n_bad ? st->bad[0].reason : "");
		cr_expect_eq(records, count_lines(path), "%s: record count", *nm);
		cr_log_info("%s: %lu records, %lu values", *nm, records, values);
		sk_logread_close(lr);
	}
}

static const char *const zeek_names_tsv[] = {
    "dns.log.gz",      "notice.log.gz", "ntlm.log.gz", "ocsp.log.gz", "smtp.log.gz",
    "software.log.gz", "ssh.log.gz",    "ssl.log.gz",  "x509.log.gz", NULL};
static const char *const zeek_names_json[] = {
    "dns.json.gz",      "notice.json.gz", "ntlm.json.gz", "ocsp.json.gz", "smtp.json.gz",
    "software.json.gz", "ssh.json.gz",    "ssl.json.gz",  "x509.json.gz", NULL};
static const char *const eve_names[] = {"eve_suricata-verify_mix.json.gz", NULL};

Test(shared, zeek_tsv, .timeout = 300)
{
	check_shared("zeek-wrccdc2018/tsv", zeek_names_tsv, SK_LOGFMT_ZEEK);
}

Test(shared, zeek_json, .timeout = 300)
{
	check_shared("zeek-wrccdc2018/json", zeek_names_json, SK_LOGFMT_ZEEK_JSON);
}

Test(shared, eve, .timeout = 300)
{
	check_shared("suricata-eve", eve_names, SK_LOGFMT_EVE);
}
