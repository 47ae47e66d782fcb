/*
 * test_matcher_host.c - host indicators (process, registry key, directory,
 * mutex, file name, user account) on hand-built records: equality and
 * MATCHES, the registry's case-insensitive comparison with abbreviated
 * hives, regexes Hyperscan refuses, and the path adder the readers use.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/logbuild.h"
#include "schakel/matcher.h"

static void mkrec(sk_logrec *r, uint64_t line, ...)
{
	va_list ap;
	memset(r, 0, sizeof(*r));
	r->line = line;
	va_start(ap, line);
	for (;;) {
		int kind = va_arg(ap, int);
		if (kind == SK_OBS_NONE)
			break;
		const char *v = va_arg(ap, const char *);
		r->obs[r->n] = (sk_obs){
		    .v = v, .len = (uint32_t)strlen(v), .kind = (uint8_t)kind, .field = "f"};
		r->n++;
	}
	va_end(ap);
}

typedef struct tm {
	sk_matcher *m;
	sk_match_ctx *c;
} tm;

static void build(tm *t, const char *const *pats, size_t n)
{
	sk_error err;
	sk_match_opts o = {0};
	cr_assert_eq(sk_matcher_new(&o, &t->m, &err), SK_OK);
	for (size_t i = 0; i < n; i++) {
		uint32_t idx;
		sk_err rc = sk_matcher_add(t->m, pats[i], strlen(pats[i]), 0, &idx, &err);
		cr_assert_eq(rc, SK_OK, "%s: %s", pats[i], err.msg);
	}
	cr_assert_eq(sk_matcher_build(t->m, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(sk_match_ctx_new(t->m, &t->c, &err), SK_OK);
}

static void done(tm *t)
{
	sk_match_ctx_free(t->c);
	sk_matcher_free(t->m);
}

static unsigned run(tm *t, const sk_logrec *r)
{
	const sk_match_hit *h;
	size_t n = sk_match_record(t->c, r, &h);
	unsigned mask = 0;
	for (size_t i = 0; i < n; i++)
		mask |= 1u << h[i].ind;
	return mask;
}

Test(matcher_host, equality_and_regex)
{
	static const char *const p[] = {
	    "[process:command_line MATCHES '(?i)powershell.*\\\\s-enc(odedcommand)?\\\\s']",
	    "[process:name = 'rundll32.exe']",
	    "[windows-registry-key:key = "
	    "'HKEY_LOCAL_MACHINE\\\\Software\\\\Microsoft\\\\Windows\\\\"
	    "CurrentVersion\\\\Run\\\\Updater']",
	    "[directory:path = 'C:\\\\Users\\\\Public\\\\Libraries']",
	    "[mutex:name = 'Global\\\\qazwsx-1']",
	    "[file:name = 'invoice.js']",
	    "[user-account:user_id = 'S-1-5-21-1004']",
	    "[windows-registry-key:key MATCHES "
	    "'^HKEY_CURRENT_USER\\\\\\\\Software\\\\\\\\Classes\\\\\\\\"
	    "ms-settings']",
	    "[process:name = 'rundll32.exe' AND process:command_line MATCHES 'javascript:']",
	};
	tm t;
	sk_logrec r;
	build(&t, p, sizeof(p) / sizeof(p[0]));
	mkrec(&r, 1, SK_OBS_CMDLINE, "PowerShell.exe -NoP -enc SQBFAFgA", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r), 1u << 0);
	mkrec(&r, 2, SK_OBS_CMDLINE, "powershell -File x.ps1", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r), 0u);
	mkrec(&r, 3, SK_OBS_PROCESS, "rundll32.exe", SK_OBS_CMDLINE,
	      "rundll32.exe javascript:\"\\..\\mshtml,RunHTMLApplication\"", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r), 1u << 1 | 1u << 8);
	/* registry keys: case-insensitive, as Windows compares them */
	mkrec(&r, 4, SK_OBS_REGKEY,
	      "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\updater",
	      SK_OBS_NONE);
	cr_assert_eq(run(&t, &r), 1u << 2);
	mkrec(&r, 5, SK_OBS_REGKEY, "HKEY_CURRENT_USER\\SOFTWARE\\CLASSES\\MS-SETTINGS\\Shell",
	      SK_OBS_NONE);
	cr_assert_eq(run(&t, &r), 1u << 7);
	mkrec(&r, 6, SK_OBS_DIRECTORY, "C:\\Users\\Public\\Libraries", SK_OBS_MUTEX,
	      "Global\\qazwsx-1", SK_OBS_FILENAME, "invoice.js", SK_OBS_USER, "S-1-5-21-1004",
	      SK_OBS_NONE);
	cr_assert_eq(run(&t, &r), 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6);
	/* paths are compared as logged: a directory's case matters */
	mkrec(&r, 7, SK_OBS_DIRECTORY, "c:\\users\\public\\libraries", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r), 0u);
	/* a host value never stands for another kind */
	mkrec(&r, 8, SK_OBS_FILENAME, "rundll32.exe", SK_OBS_MUTEX, "invoice.js", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r), 0u);
	done(&t);
}

Test(matcher_host, abbreviated_hive_in_pattern)
{
	static const char *const p[] = {
	    "[windows-registry-key:key = "
	    "'HKLM\\\\System\\\\CurrentControlSet\\\\Services\\\\evil']",
	};
	tm t;
	sk_logrec r;
	build(&t, p, 1);
	mkrec(&r, 1, SK_OBS_REGKEY, "HKEY_LOCAL_MACHINE\\system\\currentcontrolset\\services\\EVIL",
	      SK_OBS_NONE);
	cr_assert_eq(run(&t, &r), 1u);
	done(&t);
}

Test(matcher_host, refused_regex_has_a_reason)
{
	sk_error err;
	sk_matcher *m;
	uint32_t idx;
	sk_match_opts o = {0};
	/* a back-reference: PCRE has it, Hyperscan does not */
	const char *pat = "[process:command_line MATCHES '(a+)\\\\1']";
	cr_assert_eq(sk_matcher_new(&o, &m, &err), SK_OK);
	cr_assert_eq(sk_matcher_add(m, pat, strlen(pat), 0, &idx, &err), SK_EUNSUPPORTED);
	cr_assert(strlen(err.msg) > 0);
	cr_log_info("refused: %s", err.msg);
	sk_matcher_free(m);
}

Test(matcher_host, regkey_canon)
{
	char out[128];
	size_t n = sk_obs_regkey_canon("HKLM\\Software\\", 14, out, sizeof(out), false);
	cr_assert_eq(n, strlen("HKEY_LOCAL_MACHINE\\Software"));
	cr_assert(!memcmp(out, "HKEY_LOCAL_MACHINE\\Software", n));
	n = sk_obs_regkey_canon("\\REGISTRY\\USER\\S-1-5-18\\X", 25, out, sizeof(out), true);
	cr_assert_eq(n, strlen("hkey_users\\s-1-5-18\\x"));
	cr_assert(!memcmp(out, "hkey_users\\s-1-5-18\\x", n));
	/* HKLMX is not a hive abbreviation */
	n = sk_obs_regkey_canon("HKLMX\\a", 7, out, sizeof(out), false);
	cr_assert_eq(n, 7);
}

Test(matcher_host, path_adder)
{
	char scratch[256];
	sk_logrec r;
	sk_logbuild b = {.rec = &r, .scratch = scratch, .cap = sizeof(scratch)};
	sk_logrec_begin(&b, "", 0, 1, 0);
	sk_logrec_add_path(&b, "image", "C:\\Windows\\System32\\cmd.exe", 27, true);
	cr_assert_eq(r.n, 3);
	cr_assert_eq(r.obs[0].kind, SK_OBS_PROCESS);
	cr_assert_eq(r.obs[1].kind, SK_OBS_FILENAME);
	cr_assert_eq(r.obs[2].kind, SK_OBS_DIRECTORY);
	cr_assert_eq(r.obs[2].len, strlen("C:\\Windows\\System32"));
	sk_logrec_begin(&b, "", 0, 1, 0);
	sk_logrec_add_path(&b, "path", "/tmp/x", 6, false);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.obs[1].len, 4);
	sk_logrec_begin(&b, "", 0, 1, 0);
	sk_logrec_add_path(&b, "path", "C:\\x.exe", 8, false);
	cr_assert_eq(r.obs[1].len, 3);
}

Test(matcher_host, parent_and_value_names)
{
	static const char *const p[] = {
	    "[process:command_line MATCHES 'powershell.*-enc' AND process:parent_ref.name = "
	    "'winword.exe']",
	    "[process:parent_ref.command_line = 'C:\\\\Windows\\\\Explorer.EXE']",
	    "[windows-registry-key:key = "
	    "'HKCU\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run' "
	    "AND windows-registry-key:values[*].name = 'securityupdate']",
	};
	tm t;
	sk_logrec r;
	build(&t, p, 3);
	mkrec(&r, 1, SK_OBS_CMDLINE, "powershell -enc AAAA", SK_OBS_PROCESS, "winword.exe",
	      SK_OBS_NONE);
	cr_assert_eq(run(&t, &r), 0u); /* winword.exe is a process here, not the parent */
	mkrec(&r, 2, SK_OBS_CMDLINE, "powershell -enc AAAA", SK_OBS_PARENT, "winword.exe",
	      SK_OBS_PARENT_CMDLINE, "C:\\Windows\\Explorer.EXE", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r), 1u << 0 | 1u << 1);
	mkrec(&r, 3, SK_OBS_REGKEY,
	      "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
	      SK_OBS_REGVALUE, "SecurityUpdate", SK_OBS_NONE);
	cr_assert_eq(run(&t, &r), 1u << 2);
	done(&t);
}
