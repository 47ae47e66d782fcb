/*
 * test_warninglist_hs.c - substring and regex warning lists through
 * Hyperscan: the semantics of the entry-by-entry strstr / regexec loop they
 * replace (case, anchoring, several lists with one entry, an empty list,
 * entries POSIX or Hyperscan refuse), both before and after the lazy build
 * of the substring database, the POSIX-to-Hyperscan translation against
 * regexec on random expressions, and lookups from several threads while
 * that database gets built.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/match_hs.h"
#include "schakel/store.h"
#include "schakel/warninglist.h"
#include "detect/warninglist_priv.h"

static char dbpath[256];

static const char *fixture(const char *name)
{
	static char path[1024];
	const char *dir = getenv("SK_FIXTURES");
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures", name);
	return path;
}

static void rm_db(void)
{
	char p[300];
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
}

static sk_store *fresh(void)
{
	sk_store *st = NULL;
	sk_error err;
	snprintf(dbpath, sizeof(dbpath), "/tmp/sk_test_wlhs_%d.db", (int)getpid());
	rm_db();
	cr_assert_eq(sk_store_open(dbpath, SK_STORE_CREATE, &st, &err), SK_OK, "%s", err.msg);
	return st;
}

/* lazy: substring lookups before the Hyperscan build (0 = from the first one) */
static sk_wl_set *load_dir(sk_store *st, const char *dir, uint64_t lazy)
{
	sk_wl_import_stats s = {0};
	sk_wl_set *set = NULL;
	sk_error err;
	cr_assert_eq(sk_warninglist_import_dir(st, dir, NULL, &s, &err), SK_OK, "%s", err.msg);
	cr_assert_eq(s.failed, 0);
	cr_assert_eq(sk_warninglist_load(st, &set, &err), SK_OK, "%s", err.msg);
	sk_warninglist_sub_lazy(set, lazy);
	return set;
}

/* The lists match_all reports, "name,name," in report order. */
typedef struct names {
	char buf[4096];
} names;

static void add_name(void *ud, const char *list, const char *type)
{
	names *n = ud;
	size_t l = strlen(n->buf);
	(void)type;
	snprintf(n->buf + l, sizeof(n->buf) - l, "%s,", list);
}

static const char *all_lists(const sk_wl_set *set, sk_wl_kind kind, const char *v, names *n)
{
	n->buf[0] = '\0';
	sk_warninglist_match_all(set, kind, v, false, add_name, n);
	return n->buf;
}

/* Both ways of looking substrings up: entry by entry (lazy) and Hyperscan (0). */
static void substring_semantics(uint64_t lazy)
{
	sk_store *st = fresh();
	sk_wl_set *set = load_dir(st, fixture("warninglists-hs"), lazy);
	const char *list = NULL;
	names n;

	/* entries are normalised at import; values are lowercased before the search */
	cr_expect(sk_warninglist_match(set, SK_WL_DOMAIN, "WWW.SANDBOX.EXAMPLE", &list));
	cr_expect_str_eq(list, "Sub A");
	cr_expect(sk_warninglist_match(set, SK_WL_URL, "http://x.Sandbox.example/p?q", NULL));
	/* "tracker.test." was stored as "tracker.test": a substring anywhere */
	cr_expect(sk_warninglist_match(set, SK_WL_DOMAIN, "a.tracker.testing.example", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_DOMAIN, "tracker-test.example", NULL));
	/* one entry on two lists: both reported, in list order */
	cr_expect_str_eq(all_lists(set, SK_WL_DOMAIN, "cdn.shared.example", &n), "Sub A,Sub B,");
	/* matching_attributes still decide: Sub B is for domains only */
	cr_expect_str_eq(all_lists(set, SK_WL_URL, "https://shared.example/", &n), "Sub A,");
	cr_expect_str_eq(all_lists(set, SK_WL_DOMAIN, "fizz.example", &n), "Sub B,");
	cr_expect(!sk_warninglist_match(set, SK_WL_URL, "https://fizz.example/", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_EMAIL, "a@sandbox.example", NULL));
	/* the list without entries never matches, whatever the kind */
	cr_expect_str_eq(all_lists(set, SK_WL_OTHER, "anything", &n), "");
	/* any_kind (warninglist check) sees every list */
	n.buf[0] = '\0';
	cr_expect_eq(
	    sk_warninglist_match_all(set, SK_WL_OTHER, "zz.shared.example", true, add_name, &n), 2);
	cr_expect_str_eq(n.buf, "Sub A,Sub B,");
	sk_warninglist_free(set);
	sk_store_close(st);
	rm_db();
}

Test(warninglist_hs, substring_semantics_hyperscan)
{
	substring_semantics(0);
}

Test(warninglist_hs, substring_semantics_entry_by_entry)
{
	substring_semantics(UINT64_MAX);
}

Test(warninglist_hs, regex_semantics)
{
	sk_store *st = fresh();
	sk_wl_set *set = load_dir(st, fixture("warninglists-hs"), 0);
	size_t hs, fallback;
	names n;

	/* 6 entries through Hyperscan; \b (GNU) and (^x)* (Hyperscan refuses) stay with
	 * regexec; (?:noc) is not POSIX and is skipped as before */
	sk_warninglist_regex_counts(set, &hs, &fallback);
	cr_expect_eq(hs, 6);
	cr_expect_eq(fallback, 2);
	/* without /i: case matters, on the value as given (not lowercased) */
	cr_expect(sk_warninglist_match(set, SK_WL_EMAIL, "Admin@site.example", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_EMAIL, "admin@site.example", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_EMAIL, "x.Admin@site.example", NULL));
	/* with /i: either case; anchored at both ends */
	cr_expect(sk_warninglist_match(set, SK_WL_EMAIL, "PostMaster@mail.EXAMPLE", NULL));
	cr_expect(sk_warninglist_match(set, SK_WL_EMAIL, "hostmaster@a.b.example", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_EMAIL, "postmaster@mail.example.test", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_EMAIL, "xpostmaster@mail.example", NULL));
	/* character class and interval */
	cr_expect(sk_warninglist_match(set, SK_WL_EMAIL, "123-help@site.example", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_EMAIL, "12-help@site.example", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_EMAIL, "noc@site.example", NULL));
	/* the regexec fallbacks still match */
	cr_expect(sk_warninglist_match(set, SK_WL_EMAIL, "team.ops@fallback.example", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_EMAIL, "devops@fallback.example", NULL));
	cr_expect(sk_warninglist_match(set, SK_WL_EMAIL, "xxy@hs-refuses.example", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_EMAIL, "y@hs-refuses.example.test", NULL));
	/* POSIX '$' is the end of the value, not "before a final newline" */
	cr_expect_str_eq(all_lists(set, SK_WL_OTHER, "ab", &n), "Rx other,Rx other 2,");
	cr_expect(!sk_warninglist_match(set, SK_WL_OTHER, "ab\n", NULL));
	cr_expect(!sk_warninglist_match(set, SK_WL_OTHER, "xab", NULL));
	/* regexes see the value as given: the trailing dot is still there */
	cr_expect(sk_warninglist_match(set, SK_WL_OTHER, "the-end.", NULL));
	/* kinds: the mail regexes do not apply to domains */
	cr_expect(!sk_warninglist_match(set, SK_WL_DOMAIN, "Admin@site.example", NULL));
	sk_warninglist_free(set);
	sk_store_close(st);
	rm_db();
}

Test(warninglist_hs, empty_store_and_empty_lists)
{
	sk_store *st = fresh();
	sk_wl_set *set = NULL;
	sk_error err;
	size_t hs, fallback, entries;

	cr_assert_eq(sk_warninglist_load(st, &set, &err), SK_OK, "%s", err.msg);
	cr_expect_eq(sk_warninglist_count(set, &entries), 0);
	cr_expect(!sk_warninglist_match(set, SK_WL_DOMAIN, "a.example", NULL));
	sk_warninglist_regex_counts(set, &hs, &fallback);
	cr_expect_eq(hs + fallback, 0);
	sk_warninglist_free(set);
	sk_warninglist_free(NULL);
	sk_store_close(st);
	rm_db();
}

/* --- random comparisons against regexec --------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* A random POSIX extended regex from pieces that exercise the translation's edges. */
static void random_regex(char *out, size_t cap)
{
	static const char *const piece[] = {
	    "a",
	    "b",
	    "A",
	    ".",
	    "*",
	    "+",
	    "?",
	    "|",
	    "(",
	    ")",
	    "^",
	    "$",
	    "[ab]",
	    "[^a]",
	    "[a-c]",
	    "[]a]",
	    "[-a]",
	    "[a-]",
	    "[^-b]",
	    "{1,2}",
	    "{2}",
	    "{0,1}",
	    "{1,}",
	    "\\.",
	    "\\<",
	    "\\b",
	    "\\w",
	    "\\(",
	    "\\\\",
	    "[[:alpha:]]",
	    "[[:space:]]",
	    "[[:punct:]]",
	    "[^[:upper:]]",
	    "[.]",
	    "[\\]",
	    "}",
	    "]",
	    "-",
	    "<",
	    "(a|b)",
	    "(^a)",
	    "(a$)",
	    "x",
	    "[[:digit:]x]",
	    "{",
	    "\\{",
	    "[a-a]",
	    "[A-z]",
	    "_",
	};
	size_t n = 1 + rnd(7), len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *p = piece[rnd(sizeof(piece) / sizeof(piece[0]))];
		if (len + strlen(p) + 1 > cap)
			break;
		memcpy(out + len, p, strlen(p) + 1);
		len += strlen(p);
	}
}

static void random_value(char *out, size_t cap)
{
	static const char alpha[] = "aAbBx.-<]\n\t ab1{_";
	size_t n = rnd((unsigned)(cap < 10 ? cap : 10));
	for (size_t i = 0; i < n; i++)
		out[i] = alpha[rnd(sizeof(alpha) - 1)];
	out[n] = '\0';
}

typedef struct rxhit {
	bool hit;
} rxhit;

static void on_rx(uint32_t id, void *ud)
{
	(void)id;
	((rxhit *)ud)->hit = true;
}

Test(warninglist_hs, translation_agrees_with_regexec)
{
	size_t tried = 0, translated = 0, compared = 0;

	for (int i = 0; i < 4000; i++) {
		char re[128], hs[1024], vals[40][16];
		bool icase = rnd(3) == 0;
		unsigned fl = SK_MHS_DOTALL | (icase ? SK_MHS_CASELESS : 0u);
		const char *rx = hs;
		regex_t posix;
		mhs *db = NULL;
		mhs_scratch *sc = NULL;
		sk_error err;

		random_regex(re, sizeof(re));
		if (regcomp(&posix, re, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)))
			continue;
		tried++;
		if (!sk_warninglist_regex_to_hs(re, icase, hs, sizeof(hs)) ||
		    sk_mhs_build(&rx, &fl, 1, &db, NULL, &err)) {
			regfree(&posix);
			continue;
		}
		translated++;
		cr_assert_eq(sk_mhs_scratch_new(db, &sc, &err), SK_OK);
		for (int j = 0; j < 40; j++) {
			rxhit h = {false};
			bool want;
			random_value(vals[j], sizeof(vals[j]));
			want = regexec(&posix, vals[j], 0, NULL, 0) == 0;
			if (!vals[j][0])
				continue; /* lookups never scan an empty value */
			sk_mhs_scan(db, sc, vals[j], strlen(vals[j]), on_rx, &h);
			cr_expect_eq(h.hit, want,
			             "/%s/%s -> %s on \"%s\": regexec %d, Hyperscan %d", re,
			             icase ? "i" : "", hs, vals[j], want, h.hit);
			compared++;
		}
		sk_mhs_scratch_free(sc);
		sk_mhs_free(db);
		regfree(&posix);
	}
	cr_log_info("%zu POSIX expressions, %zu translated, %zu comparisons", tried, translated,
	            compared);
	/* the comparison must actually exercise the translation */
	cr_expect_gt(translated, tried / 3, "%zu of %zu translated", translated, tried);
	cr_expect_gt(compared, 10000);
}

/* Write one list.json (entries as JSON strings, already escaped). */
static void write_list(const char *dir, const char *name, const char *type, const char *attrs,
                       char entries[][64], size_t n)
{
	char sub[512], file[600];
	FILE *f;
	snprintf(sub, sizeof(sub), "%.255s/%.15s", dir, name);
	mkdir(sub, 0700);
	snprintf(file, sizeof(file), "%s/list.json", sub);
	f = fopen(file, "w");
	cr_assert(f);
	fprintf(f,
	        "{\"name\":\"%s\",\"version\":1,\"type\":\"%s\",\"description\":\"random\","
	        "\"matching_attributes\":%s,\"list\":[",
	        name, type, attrs);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", entries[i]);
	fputs("]}", f);
	fclose(f);
}

static void json_escape(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	for (; *s && o + 3 < cap; s++) {
		if (*s == '"' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o] = '\0';
}

/* The old lookup, entry by entry, for lists of one type and any kind. */
typedef struct ref_list {
	char name[16];
	bool regex;
	char subs[64][64];
	size_t nsubs;
	regex_t res[64];
	size_t nres;
} ref_list;

static void ref_match(ref_list *l, size_t nl, const char *value, char *out, size_t cap)
{
	char v[64];
	size_t n = strlen(value), o = 0;
	out[0] = '\0';
	if (n && value[n - 1] == '.')
		n--;
	if (!n || n >= sizeof(v))
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = (char)(value[i] >= 'A' && value[i] <= 'Z' ? value[i] + 32 : value[i]);
	v[n] = '\0';
	for (size_t i = 0; i < nl; i++) {
		bool found = false;
		for (size_t j = 0; j < l[i].nsubs && !found; j++)
			found = strstr(v, l[i].subs[j]) != NULL;
		for (size_t j = 0; j < l[i].nres && !found; j++)
			found = regexec(&l[i].res[j], value, 0, NULL, 0) == 0;
		if (found)
			o += (size_t)snprintf(out + o, cap - o, "%s,", l[i].name);
	}
}

Test(warninglist_hs, random_lists_agree_with_the_entry_loop)
{
	static ref_list ref[6];
	char dir[256], esc[64][64];
	sk_store *st = fresh();
	sk_wl_set *set;
	names n;

	snprintf(dir, sizeof(dir), "/tmp/sk_test_wlhs_dir_%d", (int)getpid());
	mkdir(dir, 0700);
	for (size_t li = 0; li < 6; li++) {
		ref_list *l = &ref[li];
		l->regex = li >= 3;
		snprintf(l->name, sizeof(l->name), "r%zu", li);
		for (size_t e = 0; e < (li == 2 ? 0 : 40); e++) {
			char raw[64];
			if (!l->regex) {
				/* entries as import normalises them: lowercase, no trailing dot */
				random_value(raw, 6);
				for (char *p = raw; *p; p++)
					*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
				if (raw[0] && raw[strlen(raw) - 1] == '.')
					raw[strlen(raw) - 1] = '\0';
				if (!raw[0] || strchr(raw, '\n') || strchr(raw, '\t'))
					continue;
				snprintf(l->subs[l->nsubs++], 64, "%s", raw);
			} else {
				char re[60];
				bool icase = rnd(2);
				random_regex(re, sizeof(re));
				if (regcomp(&l->res[l->nres], re,
				            REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)))
					continue;
				snprintf(raw, sizeof(raw), "/%s/%s", re, icase ? "i" : "");
				snprintf(l->subs[l->nres], 64, "%s", raw); /* for the file */
				l->nres++;
			}
		}
	}
	for (size_t li = 0; li < 6; li++) {
		ref_list *l = &ref[li];
		size_t cnt = l->regex ? l->nres : l->nsubs;
		for (size_t e = 0; e < cnt; e++)
			json_escape(l->subs[e], esc[e], sizeof(esc[e]));
		write_list(dir, l->name, l->regex ? "regex" : "substring", "[]", esc, cnt);
		if (l->regex)
			l->nsubs = 0; /* the reference uses the compiled regexes */
	}
	set = load_dir(st, dir, 5000); /* both ways: 5000 entry by entry, then Hyperscan */
	for (int i = 0; i < 20000; i++) {
		char v[16], want[256];
		random_value(v, sizeof(v));
		if (strchr(v, '\n') && rnd(2))
			continue;
		ref_match(ref, 6, v, want, sizeof(want));
		cr_expect_str_eq(all_lists(set, SK_WL_OTHER, v, &n), want, "value \"%s\"", v);
	}
	sk_warninglist_free(set);
	for (size_t li = 0; li < 6; li++) {
		char p[600];
		for (size_t e = 0; e < ref[li].nres; e++)
			regfree(&ref[li].res[e]);
		snprintf(p, sizeof(p), "%.255s/%.15s/list.json", dir, ref[li].name);
		unlink(p);
		snprintf(p, sizeof(p), "%.255s/%.15s", dir, ref[li].name);
		rmdir(p);
	}
	rmdir(dir);
	sk_store_close(st);
	rm_db();
}

/* --- threads ------------------------------------------------------------ */

static const char *const tvals[] = {
    "www.sandbox.example",       "shared.example", "Admin@site.example",     "ab",
    "team.ops@fallback.example", "plain.example",  "xxy@hs-refuses.example", "the-end.",
};
#define NTV (sizeof(tvals) / sizeof(tvals[0]))

typedef struct tjob {
	const sk_wl_set *set;
	const char (*want)[256];
	int bad;
} tjob;

static void *lookup_main(void *ud)
{
	tjob *j = ud;
	names n;
	for (int r = 0; r < 3000; r++) {
		size_t i = (size_t)r % NTV;
		n.buf[0] = '\0';
		sk_warninglist_match_all(j->set, SK_WL_OTHER, tvals[i], true, add_name, &n);
		if (strcmp(n.buf, j->want[i]))
			j->bad++;
	}
	return NULL;
}

Test(warninglist_hs, lookups_from_several_threads)
{
	sk_store *st = fresh();
	sk_wl_set *set = load_dir(st, fixture("warninglists-hs"), 2000);
	char want[NTV][256];
	pthread_t th[6];
	tjob jobs[6];
	names n;

	/* the answers entry by entry; the threads then build the Hyperscan database
	 * midway (after 2000 lookups) and must see no difference */
	for (size_t i = 0; i < NTV; i++) {
		n.buf[0] = '\0';
		sk_warninglist_match_all(set, SK_WL_OTHER, tvals[i], true, add_name, &n);
		size_t l = strnlen(n.buf, sizeof(want[i]) - 1);
		memcpy(want[i], n.buf, l);
		want[i][l] = '\0';
	}
	cr_expect_str_eq(want[0], "Sub A,");
	for (int t = 0; t < 6; t++) {
		jobs[t] = (tjob){set, (const char(*)[256])want, 0};
		cr_assert_eq(pthread_create(&th[t], NULL, lookup_main, &jobs[t]), 0);
	}
	for (int t = 0; t < 6; t++) {
		pthread_join(th[t], NULL);
		cr_expect_eq(jobs[t].bad, 0, "thread %d: %d wrong answers", t, jobs[t].bad);
	}
	sk_warninglist_free(set);
	sk_store_close(st);
	rm_db();
}
