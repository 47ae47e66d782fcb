/*
 * test_pattern.c - the STIX pattern parser: the specification's example
 * patterns, a corpus of invalid patterns with the exact position and reason,
 * and the shape of the tree (precedence, qualifiers, literals, paths).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/pattern.h"

static sk_pattern *parse_ok(const char *text)
{
	sk_pattern *p = NULL;
	sk_error err = {0};
	sk_err rc = sk_pattern_parse(text, strlen(text), &p, &err);
	cr_assert_eq(rc, SK_OK, "should parse: %s\n  error: %s", text, err.msg);
	cr_assert_not_null(p);
	return p;
}

static sk_err parse_err(const char *text, size_t len, sk_error *err)
{
	sk_pattern *p = (sk_pattern *)1;
	sk_err rc = sk_pattern_parse(text, len, &p, err);
	cr_assert_null(p, "on failure *out must be NULL");
	return rc;
}

/* ---- every example pattern of the specification ------------------------------ */

/*
 * STIX 2.1 (OASIS Standard), section 9: the examples of 9.8 ("Pattern
 * Examples"), the comparison operator, qualifier, literal and object path
 * examples given with their definitions, as written in the specification
 * (pattern text, not JSON-escaped).
 */
static const char *const spec21_examples[] = {
    /* 9.8 */
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    ("[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND "
     "email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']"),
    ("[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' "
     "AND file:mime_type = 'application/x-pdf']"),
    ("[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' "
     "OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] AND [file:hashes.'SHA-256' = "
     "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"),
    ("([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY "
     "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS"),
    ("[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND "
     "user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND "
     "user-account:user_id = '1008' AND user-account:account_login = 'Paul'] AND "
     "[user-account:account_type = 'unix' AND user-account:user_id = '1009' AND "
     "user-account:account_login = 'Mary']"),
    ("[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES "
     "'\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']"),
    "[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\\\Windows\\\\System32']",
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
    ("[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = "
     "'203.0.113.33/32']"),
    ("[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = "
     "'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS"),
    ("[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = "
     "'198.51.100.1/32']"),
    "[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
    ("[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = "
     "'4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']"),
    ("[windows-registry-key:key = 'HKEY_CURRENT_USER\\\\Software\\\\CryptoLocker\\\\Files' OR "
     "windows-registry-key:key = "
     "'HKEY_CURRENT_USER\\\\Software\\\\Microsoft\\\\CurrentVersion\\\\Run\\\\CryptoLocker_0388']"),
    "[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = t'2014-01-13T07:03:17Z']",
    ("[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = "
     "'Conference Info']"),
    "[x-usb-device:usbdrive.serial_number = '575833314133343231313937']",
    ("[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] "
     "FOLLOWEDBY [process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r "
     "localMachineTrustedPublisher$'] WITHIN 300 SECONDS"),
    "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
    ("([file:name = 'foo.dll'] AND [windows-registry-key:key = "
     "'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) "
     "OR [process:name = 'fooproc' OR process:name = 'procfoo']"),
    ("[ipv4-addr:value = '198.51.100.1/32'] START t'2014-06-01T00:00:00Z' STOP "
     "t'2014-07-01T00:00:00Z'"),
    /* the same, as other printings of 2.1 section 9.8 have them */
    ("[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin = "
     "h'd4c3b2a102000400']"),
    "[(file:name = 'pdf.exe' OR file:size = 371712) AND file:created = t'2014-01-13T07:03:17Z']",
    ("([file:name = 'foo.dll'] AND [windows-registry-key:key = "
     "'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) "
     "OR [process:image_ref.name = 'fooproc' OR process:image_ref.name = 'procfoo']"),
    /* comparison operators (9.3) */
    "[file:name = 'foo.dll']",
    "[file:name != 'foo.dll']",
    "[file:size > 1024]",
    "[file:size < 1024]",
    "[file:size >= 1024]",
    "[file:size <= 1024]",
    "[process:name IN ('proccy', 'proximus', 'badproc')]",
    "[directory:path LIKE 'C:\\\\Windows\\\\%\\\\foo']",
    "[directory:path MATCHES '^C:\\\\\\\\Windows\\\\\\\\w+$']",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[ipv4-addr:value ISSUPERSET '198.51.100.0/24']",
    "[EXISTS windows-registry-key:values]",
    "[file:name NOT = 'foo.dll']",
    "[process:name NOT IN ('proccy', 'proximus', 'badproc')]",
    "[directory:path NOT LIKE 'C:\\\\Windows\\\\%\\\\foo']",
    /* observation operators and qualifiers (9.5, 9.6) */
    "[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32']",
    "[ipv4-addr:value = '198.51.100.1/32'] AND [ipv4-addr:value = '203.0.113.33/32']",
    "[ipv4-addr:value = '198.51.100.1/32'] OR [ipv4-addr:value = '203.0.113.33/32']",
    "[ipv4-addr:value = '198.51.100.1/32'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.33/32']",
    ("[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f'] "
     "REPEATS 5 TIMES"),
    ("([ipv4-addr:value = '198.51.100.1/32'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.33/32']) "
     "WITHIN 5 SECONDS"),
    "[file:name = 'foo.dll'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    /* literals (9.2) */
    "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
    "[file:magic_number_hex = h'ffd8']",
    "[file:created = t'2016-01-20T12:31:12.12345Z']",
    "[file:name = 'foo\\'s bar.dll']",
    "[x-example:value = true]",
    "[x-example:value = -4.2]",
    /* object paths (9.4) */
    "[file:size = 25536]",
    "[file:extensions.'ntfs-ext'.alternate_data_streams[0].name = 'second.stream']",
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    "[email-message:from_ref.value = 'mary@example.com']",
    "[email-message:to_refs[*].value = 'john@example.com']",
    ("[network-traffic:extensions.'http-request-ext'.request_header.'Accept-Encoding' = "
     "'gzip,deflate']"),
    "[process:opened_connection_refs[*].dst_port = 443]",
    "[windows-registry-key:values[*].name = 'Foo']",
};

/* STIX 2.0 Part 5 examples in their 2.0 form (2.0 START/STOP took plain strings). */
static const char *const spec20_examples[] = {
    ("[file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] START '2016-06-01T00:00:00Z' STOP "
     "'2016-07-01T00:00:00Z'"),
    "[win-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar'] WITHIN 5 SECONDS",
    ("[user-account:value = 'Peter'] AND [user-account:value != 'Paul'] AND "
     "[user-account:value = 'Mary'] WITHIN 5 SECONDS"),
    "[x_whatever:detected == t'2018-03-22T12:11:14.1Z']",
    "[network-connection:extended_properties[0].source_payload MATCHES 'dGVzdHRlc3R0ZXN0']",
    "( [(network-traffic:dst_port IN(443,6443,8443) AND network-traffic:src_packets != 0) ])",
    ("([win-registry-key:key = 'hkey_local_machine\\\\foo\\\\bar']) WITHIN 5 SECONDS WITHIN 6 "
     "SECONDS"),
    ("([win-registry-key:key = 'hkey_local_machine\\\\foo\\\\bar'] REPEATS 2 TIMES) REPEATS 2 "
     "TIMES"),
    "[foo:bar=1] REPEATS 9 TIMES",
    "[file:file_name IN ('test.txt', 'test2.exe', 'README')]",
    "[file:size IN (1024, 2048, 4096)]",
    "[ipv4addr:value NOT ISSUBSET '192.168.0.1/24']",
};

Test(pattern, spec21_examples_parse)
{
	for (size_t i = 0; i < sizeof(spec21_examples) / sizeof(spec21_examples[0]); i++)
		sk_pattern_free(parse_ok(spec21_examples[i]));
}

Test(pattern, spec20_examples_parse)
{
	for (size_t i = 0; i < sizeof(spec20_examples) / sizeof(spec20_examples[0]); i++)
		sk_pattern_free(parse_ok(spec20_examples[i]));
}

Test(pattern, other_valid_forms)
{
	static const char *const ok[] = {
	    "[a:b = 1 OR c:d = 2 AND c:e = 3]", /* AND binds tighter: a OR (c AND c) */
	    "[ a:b = 1 ]",
	    "\t[a:b=1]\n",
	    "[a:b = 1] /* block comment */ AND // line comment\n [a:b = 2]",
	    "\xc2\xa0[a:b = 1]\xe2\x80\x83\xe3\x80\x80", /* U+00A0, U+2003, U+3000 */
	    "[a:b <> 1]",
	    "[a:b IN ()]",
	    "[a:b IN (1, 'x', true, 2.5, h'00', b'AA==', t'2020-01-01T00:00:00Z')]",
	    "[a:b[-1] = 1]",
	    "[a:b[+1] = 1]",
	    "[a:'quoted first'.x = 1]",
	    "[a:b = +5]",
	    "[a:b = .5]",
	    "[a:b = 0.5]",
	    "[a:b = -0]",
	    "[a:b = h'']",
	    "[a:b = '']",
	    "[a:b = 9223372036854775807 OR a:b = -9223372036854775808]",
	    "[a:b = 1] WITHIN 2.5 SECONDS",
	    "[a:b = 1] WITHIN +3 SECONDS",
	    ("[a:b = 1] REPEATS 2 TIMES WITHIN 10 SECONDS START t'2020-01-01T00:00:00Z' STOP "
	     "t'2020-01-01T00:00:00.000001Z'"),
	    "[a:b = 'x'] START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T00:00:00.000000001Z'",
	    "(([a:b = 1]))",
	    "[(((a:b = 1)))]",
	    "[x_custom-type-1:_private_0 = 1]",
	    "[a:b = 'multi\nline']",
	    "[a:b = 'caf\xc3\xa9']",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		sk_pattern_free(parse_ok(ok[i]));
}

/* ---- invalid patterns: exact offset and reason --------------------------------- */

struct bad {
	const char *text;
	size_t offset;
	const char *fragment;
};

static const struct bad bad_patterns[] = {
    {"", 0, "expected '[' or '(', found end of pattern"},
    {"   ", 3, "expected '[' or '(', found end of pattern"},
    {"file:size = 1280", 0, "expected '[' or '(', found 'file'"},
    {"[file:size = ]", 13, "expected a literal value, found ']'"},
    {"[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]", 19,
     "expected a literal value, found 'cead3f77f6cda6ec00f57d76c9a6879f'"},
    {"[file.size = 1280]", 5, "expected ':' after the object type 'file', found '.'"},
    {"[file:name MATCHES /.*\\.dll/]", 19, "unexpected character '/'"},
    {"[win-registry-key:key = 'a'] WITHIN ]", 36,
     "expected a positive number of seconds after WITHIN, found ']'"},
    {"[a:b = 'a'] WITHIN 5 HOURS", 21, "expected SECONDS, found 'HOURS'"},
    {"[a:b = 'a'] WITHIN -5 SECONDS", 19,
     "expected a positive number of seconds after WITHIN, found '-5'"},
    {"[a:b = 'a'] WITHIN 0 SECONDS", 19,
     "expected a positive number of seconds after WITHIN, found '0'"},
    {"[a:b = 'a'] REPEATS 0 TIMES", 20, "expected a positive integer after REPEATS, found '0'"},
    {"[a:b = 'a'] REPEATS 2.5 TIMES", 20, "expected a positive integer after REPEATS, found '2.5'"},
    {"[a:b = 'a'] REPEATS 5", 21, "expected TIMES, found end of pattern"},
    {"[a:b = 1] REPEATS 99999999999999999999 TIMES", 18, "is out of range"},
    {"[network-traffic:dst_ref.value ISSUBSET ]", 40, "expected a string literal, found ']'"},
    {"[file:hashes.MD5 =? 'x']", 18, "unexpected character '?'"},
    {"[x_whatever:detected == t'2457-73-22T32:81:84.1Z']", 24,
     "invalid timestamp t'2457-73-22T32:81:84.1Z'"},
    {"[artifact:payload_bin = b'====']", 24, "invalid binary literal b'===='"},
    {"[foo:bar=1] within 2 seconds", 12,
     "expected AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern, found 'within'"},
    {"[a:b = 'a'] WITHIN 5 SECONDS WITHIN 6 SECONDS", 29, "duplicate WITHIN qualifier"},
    {"[a:b = 'a'] REPEATS 2 TIMES REPEATS 3 TIMES", 28, "duplicate REPEATS qualifier"},
    {"[a:b = 'a'] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z' START "
     "t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'",
     71, "duplicate START/STOP qualifier"},
    {"[a:b = 'a'] START t'2016-06-01T02:00:00Z' STOP t'2016-06-01T01:00:00Z'", 47,
     "STOP (2016-06-01T01:00:00Z) must be later than START (2016-06-01T02:00:00Z)"},
    {"[a:b = 'a'] START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T00:00:00Z'", 47,
     "must be later than START"},
    {"[a:b = 'a'] START t'2016-06-01T02:00:00Z'", 41, "expected STOP, found end of pattern"},
    {"[a:b = 'a'] START '2016-13-01T00:00:00Z' STOP '2016-12-01T00:00:00Z'", 18,
     "invalid timestamp after START"},
    {"[a:b = 'a'] START 5", 18, "expected a timestamp t'...' after START, found '5'"},
    {"[a:b = 'it''s']", 11, "expected ']' or AND/OR, found 's'"},
    {"[a:b = 'abc]", 7, "unterminated string literal"},
    {"[a:b = 'a\\nb']", 9, "invalid escape '\\n' in string literal"},
    {"[a:b = h'abc']", 7, "odd number of hex digits"},
    {"[a:b = h'zz']", 9, "invalid character in hex literal"},
    {"[a:b = b'']", 7, "invalid binary literal"},
    {"[a:b = b'AAA']", 7, "invalid binary literal"},
    {"[a:b = b'A=AA']", 7, "invalid binary literal"},
    {"[a:b = 007]", 7, "invalid integer '007' (no leading zeros)"},
    {"[a:b = 99999999999999999999]", 7, "integer '99999999999999999999' is out of range"},
    {"[a:b = -9223372036854775809]", 7, "is out of range"},
    {"[a:b > true]", 7, "true and false cannot be ordered"},
    {"[a:b LIKE 5]", 10, "expected a string literal, found '5'"},
    {"[a:b MATCHES h'00']", 13, "expected a string literal, found h'00'"},
    {"[a:b IN 'x']", 8, "expected '(' after IN, found 'x'"},
    {"[a:b IN ('x' 'y')]", 13, "expected ',' or ')' in the IN set, found 'y'"},
    {"[a:b IN ('x',)]", 13, "expected a literal value, found ')'"},
    {"[a:b]", 4, "expected a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, "},
    {"[a:b NOT]", 8, "expected a comparison operator after NOT, found ']'"},
    {"[NOT a:b = 1]", 1, "found 'NOT' (NOT goes between the object path and the operator"},
    {"[EXISTS]", 7, "expected an object type, found ']'"},
    {"[a:b NOT EXISTS]", 9, "expected a comparison operator after NOT, found 'EXISTS'"},
    {"[a:b = 1 AND c:d = 2]", 13,
     "comparisons joined by AND must use the same object type, found 'a' and 'c'"},
    {"[(a:b = 1 OR c:d = 2) AND a:e = 3]", 2,
     "comparisons joined by AND must use the same object type, found 'a' and 'c'"},
    {"[a:b = 1 AND (a:c = 1 OR x:y = 2)]", 14, "found 'a' and 'x'"},
    {"[a:b = 1] AND", 13, "expected '[' or '(', found end of pattern"},
    {"[a:b = 1] FOLLOWEDBY FOLLOWEDBY [a:b = 2]", 21, "expected '[' or '(', found 'FOLLOWEDBY'"},
    {"([a:b = 1]", 10, "expected ')', AND, OR, FOLLOWEDBY or a qualifier, found end of pattern"},
    {"[a:b = 1])", 9, "this ')' has no matching '('"},
    {"[a:b = 1", 8, "expected ']' or AND/OR, found end of pattern"},
    {"[a:b = 1 FOO]", 9, "expected ']' or AND/OR, found 'FOO'"},
    {"[(a:b = 1]", 9, "expected ')' or AND/OR, found ']'"},
    {"[a:windows-pebinary-ext = 1]", 3,
     "property name 'windows-pebinary-ext' contains '-'; write it quoted"},
    {"[file:extensions.windows-pebinary-ext.sections[*].entropy > 7.0]", 17,
     "property name 'windows-pebinary-ext' contains '-'"},
    {"[a:b[x] = 1]", 5, "expected a list index or '*', found 'x'"},
    {"[a:b[1 = 1]", 7, "expected ']' after the list index, found '='"},
    {"[a: = 1]", 4, "expected a property name, found '='"},
    {"[a:b. = 1]", 6, "expected a property name, found '='"},
    {"[a:b.IN = 1]", 5, "expected a property name, found 'IN'"},
    {"[a:b.5 = 1]", 4, "expected a comparison operator"},
    {"[:b = 1]", 1, "expected an object path, '(' or EXISTS, found ':'"},
    {"[a:b = 1] /* unterminated", 10, "unterminated comment"},
    {"[a:b = \"x\"]", 7, "unexpected character '\"' (string literals use single quotes)"},
    {"[a:b ! 1]", 5, "unexpected character '!'"},
    {"[a:b = 1.]", 8, "expected ']' or AND/OR, found '.'"},
    {"[a:b = 1e5]", 8, "expected ']' or AND/OR, found 'e5'"},
    {"[a:b = - 1]", 7, "unexpected character '-'"},
    {"[a:b = t'2016-06-01T00:00:00']", 7, "invalid timestamp"},
    {"[a:b = t'2016-02-30T00:00:00Z']", 7, "invalid timestamp"},
    {"[a:b = t'2016-06-01t00:00:00z']", 7, "invalid timestamp"},
    {"[a:b = 1] WITHIN 5 SECONDS AND", 30, "expected '[' or '(', found end of pattern"},
    {"[a:b = '\xff']", 8, "invalid UTF-8"},
    {"[a:b = 'caf\xc3']", 11, "invalid UTF-8"},
    {"[a:b = 1] ]", 10, "the end of the pattern, found ']'"},
    {"[]", 1, "expected an object path, '(' or EXISTS, found ']'"},
    {"()", 1, "expected '[' or '(', found ')'"},
    {"[a:b = 1] and [a:b = 2]", 10, "found 'and'"},
    {"[a:b = TRUE]", 7, "expected a literal value, found 'TRUE'"},
    {"[a:b = 'x'] LAST 5 SECONDS", 12, "found 'LAST'"},
    {"[a:b = 0x1F]", 8, "expected ']' or AND/OR, found 'x1F'"},
    {"[a:b = 1] FOLLOWEDBY", 20, "expected '[' or '(', found end of pattern"},
    {"[a:b = 1]\n AND [c:d = 1 AND\n e:f = 2]", 29, "found 'c' and 'e'"},
};

Test(pattern, invalid_corpus)
{
	size_t n = sizeof(bad_patterns) / sizeof(bad_patterns[0]);
	cr_assert_geq(n, 40);
	for (size_t i = 0; i < n; i++) {
		const struct bad *b = &bad_patterns[i];
		char prefix[64];
		sk_error err = {0};
		sk_err rc = parse_err(b->text, strlen(b->text), &err);
		snprintf(prefix, sizeof(prefix), "pattern offset %zu: ", b->offset);
		cr_expect_eq(rc, SK_EINVAL, "[%zu] %s: code %d", i, b->text, rc);
		cr_expect(strncmp(err.msg, prefix, strlen(prefix)) == 0,
		          "[%zu] %s\n  want offset %zu, got: %s", i, b->text, b->offset, err.msg);
		cr_expect(strstr(err.msg, b->fragment) != NULL, "[%zu] %s\n  want: %s\n  got:  %s",
		          i, b->text, b->fragment, err.msg);
	}
}

Test(pattern, embedded_nul_is_an_error)
{
	sk_error err = {0};
	cr_assert_eq(parse_err("[a:b = 1]\0", 10, &err), SK_EINVAL);
	cr_assert_str_eq(err.msg, "pattern offset 9: unexpected character (byte 0x00)");
}

/* ---- limits -------------------------------------------------------------------------- */

Test(pattern, limit_length)
{
	size_t n = SK_PATTERN_MAX_LEN + 1;
	char *s = malloc(n);
	sk_error err = {0};
	memset(s, ' ', n);
	memcpy(s, "[a:b = 1]", 9);
	cr_assert_eq(parse_err(s, n, &err), SK_ELIMIT);
	cr_assert(strstr(err.msg, "more than the limit") != NULL, "%s", err.msg);
	/* exactly at the limit is fine */
	sk_pattern *p = NULL;
	cr_assert_eq(sk_pattern_parse(s, n - 1, &p, &err), SK_OK, "%s", err.msg);
	sk_pattern_free(p);
	free(s);
}

Test(pattern, limit_depth)
{
	char s[2048];
	size_t k = 0;
	sk_error err = {0};
	sk_pattern *p = NULL;

	/* 63 parentheses + the brackets = 64 levels: accepted */
	for (int i = 0; i < 63; i++)
		s[k++] = '(';
	memcpy(s + k, "[a:b = 1]", 9);
	k += 9;
	for (int i = 0; i < 63; i++)
		s[k++] = ')';
	cr_assert_eq(sk_pattern_parse(s, k, &p, &err), SK_OK, "%s", err.msg);
	sk_pattern_free(p);

	/* 64 parentheses: the '[' is level 65 */
	k = 0;
	for (int i = 0; i < 64; i++)
		s[k++] = '(';
	memcpy(s + k, "[a:b = 1]", 9);
	k += 9;
	for (int i = 0; i < 64; i++)
		s[k++] = ')';
	cr_assert_eq(parse_err(s, k, &err), SK_ELIMIT);
	cr_assert_str_eq(err.msg, "pattern offset 64: nested more than 64 levels deep");

	/* comparison-level parentheses count too */
	k = 0;
	s[k++] = '[';
	for (int i = 0; i < 70; i++)
		s[k++] = '(';
	cr_assert_eq(parse_err(s, k, &err), SK_ELIMIT);
	cr_assert(strstr(err.msg, "pattern offset 64: nested more than") == err.msg, "%s", err.msg);

	/* and so do qualifiers stacked on a group */
	k = 0;
	k += (size_t)sprintf(s, "([a:b = 1])");
	for (int i = 0; i < 70; i++)
		k += (size_t)sprintf(s + k, " REPEATS 2 TIMES");
	cr_assert_eq(parse_err(s, k, &err), SK_ELIMIT);
}

Test(pattern, limit_nodes)
{
	/* an IN set of 20000 members */
	size_t cap = 20000 * 3 + 64, k = 0;
	char *s = malloc(cap);
	sk_error err = {0};
	k += (size_t)sprintf(s, "[a:b IN (");
	for (int i = 0; i < 20000; i++)
		k += (size_t)sprintf(s + k, i ? ",1" : "1");
	k += (size_t)sprintf(s + k, ")]");
	cr_assert_eq(parse_err(s, k, &err), SK_ELIMIT);
	cr_assert(strstr(err.msg, "more than 16384 nodes") != NULL, "%s", err.msg);
	free(s);
}

Test(pattern, limit_path_steps)
{
	char s[1024];
	size_t k = 0;
	sk_error err = {0};
	k += (size_t)sprintf(s, "[a:b");
	for (int i = 0; i < 70; i++)
		k += (size_t)sprintf(s + k, ".c");
	k += (size_t)sprintf(s + k, " = 1]");
	cr_assert_eq(parse_err(s, k, &err), SK_ELIMIT);
	cr_assert(strstr(err.msg, "more than 64 steps") != NULL, "%s", err.msg);
}

Test(pattern, free_null)
{
	sk_pattern_free(NULL);
}

/* ---- the tree ------------------------------------------------------------------------- */

static const sk_pnode *kid(const sk_pnode *n, uint32_t i)
{
	const sk_pnode *k = sk_pnode_child(n, i);
	cr_assert_not_null(k, "node %s has no child %u", sk_pnode_kind_name(n->kind), i);
	return k;
}

static const char *cmp_type(const sk_pnode *n)
{
	cr_assert_eq(n->kind, SK_PN_COMPARISON);
	return n->cmp.path.type;
}

/* The object type of the single comparison inside an observation. */
static const char *obs_type(const sk_pnode *n)
{
	cr_assert_eq(n->kind, SK_PN_OBSERVATION, "kind %s", sk_pnode_kind_name(n->kind));
	return cmp_type(kid(n, 0));
}

Test(pattern, simple_tree)
{
	sk_pattern *p = parse_ok("[ipv4-addr:value = '198.51.100.1']");
	const sk_pnode *r = sk_pattern_root(p), *c;
	sk_pattern_counts n;

	cr_assert_eq(r->kind, SK_PN_OBSERVATION);
	cr_assert_str_eq(r->object_type, "ipv4-addr");
	cr_assert_eq(r->nkids, 1);
	c = kid(r, 0);
	cr_assert_eq(c->kind, SK_PN_COMPARISON);
	cr_assert_eq(c->offset, 1);
	cr_assert_eq(c->cmp.op, SK_PCMP_EQ);
	cr_assert(!c->cmp.negated);
	cr_assert_str_eq(c->cmp.path.type, "ipv4-addr");
	cr_assert_eq(c->cmp.path.nsteps, 1);
	cr_assert_str_eq(c->cmp.path.steps[0].key, "value");
	cr_assert_eq(c->cmp.value.kind, SK_PLIT_STRING);
	cr_assert_str_eq(c->cmp.value.str, "198.51.100.1");
	cr_assert_eq(c->cmp.value.offset, 19);
	cr_assert_eq(c->cmp.value.length, 14);
	sk_pattern_count(p, &n);
	cr_assert_eq(n.observations, 1);
	cr_assert_eq(n.comparisons, 1);
	cr_assert_eq(n.qualifiers, 0);
	cr_assert_eq(n.nodes, 2);
	size_t len;
	cr_assert_str_eq(sk_pattern_text(p, &len), "[ipv4-addr:value = '198.51.100.1']");
	cr_assert_eq(len, 34);
	sk_pattern_free(p);
}

Test(pattern, observation_precedence)
{
	/* AND binds tighter than OR, which binds tighter than FOLLOWEDBY */
	sk_pattern *p = parse_ok("[a:x = 1] FOLLOWEDBY [b:x = 1] OR [c:x = 1] AND [d:x = 1] AND "
	                         "[e:x = 1] OR [f:x = 1] FOLLOWEDBY [g:x = 1]");
	const sk_pnode *r = sk_pattern_root(p), *o, *a;

	cr_assert_eq(r->kind, SK_PN_FOLLOWEDBY);
	cr_assert_eq(r->nkids, 3);
	cr_assert_str_eq(obs_type(kid(r, 0)), "a");
	o = kid(r, 1);
	cr_assert_eq(o->kind, SK_PN_OBS_OR);
	cr_assert_eq(o->nkids, 3);
	cr_assert_str_eq(obs_type(kid(o, 0)), "b");
	a = kid(o, 1);
	cr_assert_eq(a->kind, SK_PN_OBS_AND);
	cr_assert_eq(a->nkids, 3);
	cr_assert_str_eq(obs_type(kid(a, 0)), "c");
	cr_assert_str_eq(obs_type(kid(a, 1)), "d");
	cr_assert_str_eq(obs_type(kid(a, 2)), "e");
	cr_assert_str_eq(obs_type(kid(o, 2)), "f");
	cr_assert_str_eq(obs_type(kid(r, 2)), "g");
	cr_assert_null(r->object_type);
	sk_pattern_free(p);
}

Test(pattern, parentheses_are_kept)
{
	sk_pattern *p = parse_ok("([a:x = 1] OR [b:x = 1]) AND [c:x = 1]");
	const sk_pnode *r = sk_pattern_root(p);
	cr_assert_eq(r->kind, SK_PN_OBS_AND);
	cr_assert_eq(r->nkids, 2);
	cr_assert_eq(kid(r, 0)->kind, SK_PN_OBS_OR);
	cr_assert_eq(kid(r, 0)->offset, 1);
	cr_assert_str_eq(obs_type(kid(r, 1)), "c");
	sk_pattern_free(p);

	/* a AND (b AND c) stays nested: not flattened across parentheses */
	p = parse_ok("[a:x = 1] AND ([b:x = 1] AND [c:x = 1])");
	r = sk_pattern_root(p);
	cr_assert_eq(r->nkids, 2);
	cr_assert_eq(kid(r, 1)->kind, SK_PN_OBS_AND);
	sk_pattern_free(p);
}

Test(pattern, comparison_precedence)
{
	sk_pattern *p = parse_ok("[a:x = 1 OR a:y = 2 AND a:z = 3 OR a:w = 4]");
	const sk_pnode *c = kid(sk_pattern_root(p), 0), *and;
	cr_assert_eq(c->kind, SK_PN_CMP_OR);
	cr_assert_eq(c->nkids, 3);
	cr_assert_str_eq(kid(c, 0)->cmp.path.steps[0].key, "x");
	and = kid(c, 1);
	cr_assert_eq(and->kind, SK_PN_CMP_AND);
	cr_assert_eq(and->nkids, 2);
	cr_assert_str_eq(kid(and, 0)->cmp.path.steps[0].key, "y");
	cr_assert_str_eq(kid(and, 1)->cmp.path.steps[0].key, "z");
	cr_assert_str_eq(kid(c, 2)->cmp.path.steps[0].key, "w");
	cr_assert_str_eq(c->object_type, "a");
	sk_pattern_free(p);

	p = parse_ok("[(a:x = 1 OR a:y = 2) AND a:z = 3]");
	c = kid(sk_pattern_root(p), 0);
	cr_assert_eq(c->kind, SK_PN_CMP_AND);
	cr_assert_eq(kid(c, 0)->kind, SK_PN_CMP_OR);
	cr_assert_eq(kid(c, 0)->offset, 2);
	sk_pattern_free(p);
}

Test(pattern, object_type_of_mixed_or)
{
	sk_pattern *p = parse_ok("[a:x = 1 OR b:y = 2]");
	const sk_pnode *r = sk_pattern_root(p);
	cr_assert_null(r->object_type);
	cr_assert_null(kid(r, 0)->object_type);
	cr_assert_str_eq(kid(kid(r, 0), 1)->object_type, "b");
	sk_pattern_free(p);
}

Test(pattern, qualifiers_bind_to_the_observation)
{
	/* the qualifier applies to [b] only */
	sk_pattern *p = parse_ok("[a:x = 1] AND [b:x = 1] WITHIN 5 SECONDS");
	const sk_pnode *r = sk_pattern_root(p), *q;
	cr_assert_eq(r->kind, SK_PN_OBS_AND);
	cr_assert_eq(kid(r, 0)->kind, SK_PN_OBSERVATION);
	q = kid(r, 1);
	cr_assert_eq(q->kind, SK_PN_QUALIFIED);
	cr_assert_eq(q->qual.kind, SK_PQ_WITHIN);
	cr_assert_float_eq(q->qual.seconds, 5.0, 1e-9);
	cr_assert_str_eq(obs_type(kid(q, 0)), "b");
	sk_pattern_free(p);

	/* chained qualifiers: the first written is the innermost */
	p = parse_ok("[a:x = 1] REPEATS 5 TIMES WITHIN 1800 SECONDS");
	r = sk_pattern_root(p);
	cr_assert_eq(r->kind, SK_PN_QUALIFIED);
	cr_assert_eq(r->qual.kind, SK_PQ_WITHIN);
	cr_assert_float_eq(r->qual.seconds, 1800.0, 1e-9);
	q = kid(r, 0);
	cr_assert_eq(q->kind, SK_PN_QUALIFIED);
	cr_assert_eq(q->qual.kind, SK_PQ_REPEATS);
	cr_assert_eq(q->qual.times, 5);
	cr_assert_eq(kid(q, 0)->kind, SK_PN_OBSERVATION);
	sk_pattern_counts n;
	sk_pattern_count(p, &n);
	cr_assert_eq(n.qualifiers, 2);
	sk_pattern_free(p);

	/* on a group */
	p = parse_ok("([a:x = 1] FOLLOWEDBY [b:x = 1]) WITHIN 300 SECONDS");
	r = sk_pattern_root(p);
	cr_assert_eq(r->kind, SK_PN_QUALIFIED);
	cr_assert_eq(kid(r, 0)->kind, SK_PN_FOLLOWEDBY);
	sk_pattern_free(p);

	/* WITHIN takes a float */
	p = parse_ok("[a:x = 1] WITHIN 0.5 SECONDS");
	cr_assert_float_eq(sk_pattern_root(p)->qual.seconds, 0.5, 1e-12);
	sk_pattern_free(p);
}

Test(pattern, start_stop)
{
	sk_pattern *p =
	    parse_ok("[a:x = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00.5Z'");
	const sk_pqual *q = &sk_pattern_root(p)->qual;
	cr_assert_eq(q->kind, SK_PQ_STARTSTOP);
	cr_assert_str_eq(q->start, "2016-06-01T00:00:00Z");
	cr_assert_str_eq(q->stop, "2016-07-01T00:00:00.5Z");
	cr_assert_eq(q->start_us, 1464739200LL * 1000000);
	cr_assert_eq(q->stop_us, 1467331200LL * 1000000 + 500000);
	cr_assert_str_eq(q->start_key, "2016-06-01T00:00:00.000000000");
	cr_assert_str_eq(q->stop_key, "2016-07-01T00:00:00.500000000");
	sk_pattern_free(p);

	/* the STIX 2.0 form with plain strings gives the same */
	p = parse_ok("[a:x = 1] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00.5Z'");
	q = &sk_pattern_root(p)->qual;
	cr_assert_eq(q->start_us, 1464739200LL * 1000000);
	cr_assert_str_eq(q->stop, "2016-07-01T00:00:00.5Z");
	sk_pattern_free(p);
}

static const sk_plit *value_of(const sk_pattern *p)
{
	const sk_pnode *c = kid(sk_pattern_root(p), 0);
	cr_assert_eq(c->kind, SK_PN_COMPARISON);
	return &c->cmp.value;
}

Test(pattern, literal_decoding)
{
	sk_pattern *p;
	const sk_plit *v;

	p = parse_ok("[a:x = 'it\\'s C:\\\\dir']");
	v = value_of(p);
	cr_assert_eq(v->kind, SK_PLIT_STRING);
	cr_assert_str_eq(v->str, "it's C:\\dir");
	cr_assert_eq(v->len, 11);
	cr_assert_eq(v->offset, 7);
	cr_assert_eq(v->length, 15);
	sk_pattern_free(p);

	p = parse_ok("[a:x = 'caf\xc3\xa9']");
	cr_assert_eq(value_of(p)->len, 5);
	sk_pattern_free(p);

	p = parse_ok("[a:x = -42]");
	v = value_of(p);
	cr_assert_eq(v->kind, SK_PLIT_INT);
	cr_assert_eq(v->i, -42);
	cr_assert_float_eq(v->f, -42.0, 1e-12);
	sk_pattern_free(p);

	p = parse_ok("[a:x = 9223372036854775807]");
	cr_assert_eq(value_of(p)->i, INT64_MAX);
	sk_pattern_free(p);
	p = parse_ok("[a:x = -9223372036854775808]");
	cr_assert_eq(value_of(p)->i, INT64_MIN);
	sk_pattern_free(p);

	p = parse_ok("[a:x > -7.25]");
	v = value_of(p);
	cr_assert_eq(v->kind, SK_PLIT_FLOAT);
	cr_assert_float_eq(v->f, -7.25, 1e-12);
	sk_pattern_free(p);

	p = parse_ok("[a:x = .5]");
	cr_assert_float_eq(value_of(p)->f, 0.5, 1e-12);
	sk_pattern_free(p);

	p = parse_ok("[a:x != false]");
	v = value_of(p);
	cr_assert_eq(v->kind, SK_PLIT_BOOL);
	cr_assert(!v->b);
	sk_pattern_free(p);

	p = parse_ok("[a:x = b'dGhpcyBpcyBhIHRlc3Q=']");
	v = value_of(p);
	cr_assert_eq(v->kind, SK_PLIT_BINARY);
	cr_assert_eq(v->len, 14);
	cr_assert_str_eq(v->str, "this is a test");
	sk_pattern_free(p);

	p = parse_ok("[a:x = b'AP8=']");
	v = value_of(p);
	cr_assert_eq(v->len, 2);
	cr_assert_eq((unsigned char)v->str[0], 0x00);
	cr_assert_eq((unsigned char)v->str[1], 0xff);
	sk_pattern_free(p);

	p = parse_ok("[a:x = h'FFd800']");
	v = value_of(p);
	cr_assert_eq(v->kind, SK_PLIT_HEX);
	cr_assert_eq(v->len, 3);
	cr_assert_eq(memcmp(v->str, "\xff\xd8\x00", 3), 0);
	sk_pattern_free(p);

	p = parse_ok("[a:x = t'2014-01-13T07:03:17.123456789Z']");
	v = value_of(p);
	cr_assert_eq(v->kind, SK_PLIT_TIMESTAMP);
	cr_assert_str_eq(v->str, "2014-01-13T07:03:17.123456789Z");
	cr_assert_eq(v->i, 1389596597LL * 1000000 + 123456);
	cr_assert_str_eq(v->ts_key, "2014-01-13T07:03:17.123456789");
	sk_pattern_free(p);
}

Test(pattern, sets_exists_not)
{
	sk_pattern *p = parse_ok("[process:name NOT IN ('a', 2, true)]");
	const sk_pcmp *c = &kid(sk_pattern_root(p), 0)->cmp;
	cr_assert_eq(c->op, SK_PCMP_IN);
	cr_assert(c->negated);
	cr_assert_eq(c->nset, 3);
	cr_assert_str_eq(c->set[0].str, "a");
	cr_assert_eq(c->set[1].i, 2);
	cr_assert(c->set[2].b);
	sk_pattern_counts n;
	sk_pattern_count(p, &n);
	cr_assert_eq(n.nodes, 5); /* observation, comparison, three members */
	sk_pattern_free(p);

	p = parse_ok("[a:x IN ()]");
	c = &kid(sk_pattern_root(p), 0)->cmp;
	cr_assert_eq(c->nset, 0);
	cr_assert_null(c->set);
	sk_pattern_free(p);

	p = parse_ok("[EXISTS windows-registry-key:values[*].name]");
	c = &kid(sk_pattern_root(p), 0)->cmp;
	cr_assert_eq(c->op, SK_PCMP_EXISTS);
	cr_assert_str_eq(c->path.type, "windows-registry-key");
	cr_assert_eq(c->path.nsteps, 3);
	sk_pattern_free(p);

	static const struct {
		const char *text;
		sk_pcmp_op op;
		bool negated;
	} ops[] = {
	    {"[a:x = 1]", SK_PCMP_EQ, false},
	    {"[a:x == 1]", SK_PCMP_EQ, false},
	    {"[a:x != 1]", SK_PCMP_NEQ, false},
	    {"[a:x <> 1]", SK_PCMP_NEQ, false},
	    {"[a:x < 1]", SK_PCMP_LT, false},
	    {"[a:x <= 1]", SK_PCMP_LE, false},
	    {"[a:x > 1]", SK_PCMP_GT, false},
	    {"[a:x >= 1]", SK_PCMP_GE, false},
	    {"[a:x NOT > 1]", SK_PCMP_GT, true},
	    {"[a:x LIKE 'a%']", SK_PCMP_LIKE, false},
	    {"[a:x NOT MATCHES '^a']", SK_PCMP_MATCHES, true},
	    {"[a:x ISSUBSET '10.0.0.0/8']", SK_PCMP_ISSUBSET, false},
	    {"[a:x ISSUPERSET '10.0.0.1']", SK_PCMP_ISSUPERSET, false},
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		p = parse_ok(ops[i].text);
		c = &kid(sk_pattern_root(p), 0)->cmp;
		cr_assert_eq(c->op, ops[i].op, "%s", ops[i].text);
		cr_assert_eq(c->negated, ops[i].negated, "%s", ops[i].text);
		sk_pattern_free(p);
	}
}

Test(pattern, paths)
{
	sk_pattern *p =
	    parse_ok("[email-message:body_multipart[*].body_raw_ref.'na\\'me'[-2] = 1]");
	const sk_ppath *path = &kid(sk_pattern_root(p), 0)->cmp.path;
	char buf[128];

	cr_assert_str_eq(path->type, "email-message");
	cr_assert_eq(path->typelen, 13);
	cr_assert_eq(path->offset, 1);
	cr_assert_eq(path->nsteps, 5);
	cr_assert_eq(path->steps[0].kind, SK_PSTEP_KEY);
	cr_assert_str_eq(path->steps[0].key, "body_multipart");
	cr_assert(!path->steps[0].deref);
	cr_assert_eq(path->steps[1].kind, SK_PSTEP_ANY);
	cr_assert_eq(path->steps[2].kind, SK_PSTEP_KEY);
	cr_assert_str_eq(path->steps[2].key, "body_raw_ref");
	cr_assert(!path->steps[2].deref);
	cr_assert(!path->steps[2].quoted);
	cr_assert_eq(path->steps[3].kind, SK_PSTEP_KEY);
	cr_assert_str_eq(path->steps[3].key, "na'me");
	cr_assert_eq(path->steps[3].keylen, 5);
	cr_assert(path->steps[3].deref, "a key after a _ref is a dereference");
	cr_assert(path->steps[3].quoted);
	cr_assert_eq(path->steps[4].kind, SK_PSTEP_INDEX);
	cr_assert_eq(path->steps[4].index, -2);
	cr_assert_eq(sk_ppath_format(path, buf, sizeof(buf)),
	             strlen("email-message:body_multipart[*].body_raw_ref.'na\\'me'[-2]"));
	cr_assert_str_eq(buf, "email-message:body_multipart[*].body_raw_ref.'na\\'me'[-2]");
	/* truncation is reported like snprintf */
	cr_assert_eq(sk_ppath_format(path, buf, 10), 57);
	cr_assert_str_eq(buf, "email-mes");
	sk_pattern_free(p);

	/* a list of references stays a reference through its index */
	p = parse_ok("[domain-name:resolves_to_refs[*].value = '198.51.100.1']");
	path = &kid(sk_pattern_root(p), 0)->cmp.path;
	cr_assert_eq(path->nsteps, 3);
	cr_assert(path->steps[2].deref);
	sk_pattern_free(p);

	/* hashes.'SHA-256': no dereference; a _ref at the end is compared, not followed */
	p = parse_ok("[file:hashes.'SHA-256' = 'x' AND file:parent_directory_ref = 'y']");
	const sk_pnode *and = kid(sk_pattern_root(p), 0);
	path = &kid(and, 0)->cmp.path;
	cr_assert_str_eq(path->steps[1].key, "SHA-256");
	cr_assert(!path->steps[1].deref);
	path = &kid(and, 1)->cmp.path;
	cr_assert_eq(path->nsteps, 1);
	sk_pattern_free(p);

	/* whitespace between path tokens is allowed, as in the grammar */
	p = parse_ok("[file : hashes . MD5 = 'x']");
	cr_assert_eq(kid(sk_pattern_root(p), 0)->cmp.path.nsteps, 2);
	sk_pattern_free(p);
}

static int count_visit(const sk_pnode *n, unsigned depth, void *ud)
{
	int *counts = ud;
	counts[0]++;
	if (depth > (unsigned)counts[1])
		counts[1] = (int)depth;
	if (n->kind == SK_PN_OBS_OR)
		return 1; /* skip what is under the OR */
	if (n->kind == SK_PN_COMPARISON && !strcmp(n->cmp.path.type, "stop"))
		return -7;
	return 0;
}

Test(pattern, walk)
{
	sk_pattern *p = parse_ok("[a:x = 1] AND ([b:x = 1] OR [c:x = 1])");
	int counts[2] = {0, 0};
	/* AND, [a], a:x, OR (children skipped) */
	cr_assert_eq(sk_pattern_walk(p, count_visit, counts), 0);
	cr_assert_eq(counts[0], 4);
	cr_assert_eq(counts[1], 2);
	sk_pattern_free(p);

	p = parse_ok("[stop:x = 1] AND [a:x = 1]");
	counts[0] = counts[1] = 0;
	cr_assert_eq(sk_pattern_walk(p, count_visit, counts), -7);
	cr_assert_eq(counts[0], 3);
	sk_pattern_free(p);
}

Test(pattern, to_json)
{
	sk_pattern *p =
	    parse_ok("[file:hashes.'SHA-256' = 'ab' AND file:magic_number_hex = h'FFD8' "
	             "AND file:x IN (1, b'AA==')] REPEATS 2 TIMES");
	json_t *j = NULL, *obs, *cmp, *ops, *c;

	cr_assert_eq(sk_pattern_to_json(p, &j), SK_OK);
	cr_assert_str_eq(json_string_value(json_object_get(j, "kind")), "qualified");
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(j, "qualifier"), "type")), "REPEATS");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "qualifier"), "times")),
	             2);
	obs = json_object_get(j, "operand");
	cr_assert_str_eq(json_string_value(json_object_get(obs, "kind")), "observation");
	cr_assert_str_eq(json_string_value(json_object_get(obs, "object_type")), "file");
	cmp = json_object_get(obs, "comparison");
	cr_assert_str_eq(json_string_value(json_object_get(cmp, "kind")), "and");
	ops = json_object_get(cmp, "operands");
	cr_assert_eq(json_array_size(ops), 3);
	c = json_array_get(ops, 0);
	cr_assert_str_eq(json_string_value(json_object_get(c, "path")), "file:hashes.'SHA-256'");
	cr_assert_str_eq(json_string_value(json_object_get(c, "op")), "=");
	cr_assert(json_is_false(json_object_get(c, "negated")));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "value"), "value")),
	                 "ab");
	cr_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(c, "steps"), 1), "key")),
	                 "SHA-256");
	c = json_array_get(ops, 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "value"), "type")),
	                 "hex");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "value"), "value")),
	                 "ffd8");
	c = json_array_get(ops, 2);
	cr_assert_eq(json_array_size(json_object_get(c, "values")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(c, "values"), 1), "value")),
	                 "AA==");
	json_decref(j);
	sk_pattern_free(p);
}

Test(pattern, names)
{
	cr_assert_str_eq(sk_pnode_kind_name(SK_PN_FOLLOWEDBY), "followedby");
	cr_assert_str_eq(sk_pnode_kind_name(SK_PN_COMPARISON), "comparison");
	cr_assert_str_eq(sk_pcmp_op_name(SK_PCMP_EXISTS), "EXISTS");
	cr_assert_str_eq(sk_pcmp_op_name(SK_PCMP_LE), "<=");
	cr_assert_str_eq(sk_plit_kind_name(SK_PLIT_TIMESTAMP), "timestamp");
	cr_assert_str_eq(sk_pqual_kind_name(SK_PQ_STARTSTOP), "START/STOP");
	cr_assert_str_eq(sk_pcmp_op_name((sk_pcmp_op)99), "?");
}

Test(pattern, error_without_err_struct)
{
	sk_pattern *p = NULL;
	cr_assert_eq(sk_pattern_parse("[a:b", 4, &p, NULL), SK_EINVAL);
	cr_assert_null(p);
	cr_assert_eq(sk_pattern_parse("[a:b = 1]", 9, &p, NULL), SK_OK);
	sk_pattern_free(p);
}
