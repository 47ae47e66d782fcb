/*
 * logfmt_osquery.c - osquery result logs: differential lines (one row in
 * "columns", with "action" added or removed), snapshot lines (every row in
 * "snapshot") and the older batched form ("diffResults": {"added": [...],
 * "removed": [...]}).  Each row is one record, timed by the line's
 * unixTime (or calendarTime), its event the query's name.
 *
 * Rows are mapped by column name, whatever the table: osquery names its
 * columns consistently (cmdline, path, md5, remote_address, ...).  A
 * "name" is a process's name only in a row that also has a pid; a "path"
 * that begins with HKEY_ is a registry path (the registry table).
 */
#include "logfmt_host.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *str_of(sk_logbuild *b, const sk_jval *v, size_t *n)
{
	if (!v)
		return NULL;
	if (v->type == SK_JSTRING) {
		*n = v->n;
		return v->u.s;
	}
	if (v->type == SK_JINT)
		return sk_logfmt_host_int(b, v, n);
	return NULL;
}

/* "Tue Sep 30 17:37:30 2014 UTC" -> microseconds. */
static bool calendar_time(const char *s, int64_t *us)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4], zone[8];
	int d, h, mi, sec, y;
	struct tm tm = {0};
	if (sscanf(s, "%*3s %3s %d %d:%d:%d %d %7s", mon, &d, &h, &mi, &sec, &y, zone) != 7 ||
	    strcmp(zone, "UTC"))
		return false;
	const char *m = strstr(months, mon);
	if (!m || (m - months) % 3 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = (int)((m - months) / 3);
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*us = (int64_t)t * 1000000;
	return true;
}

static void add_row(sk_host_state *h, sk_logbuild *b, const sk_jval *row)
{
	bool proc = sk_json_get(row, "pid") || sk_json_get(row, "cmdline");
	bool reg = sk_json_get(row, "key") != NULL;
	b->rec->ts_us = h->ts_us;
	if (h->name) {
		b->rec->event = h->name;
		b->rec->event_len = (uint32_t)h->name_len;
	}
	for (uint32_t i = 0; i < row->n; i++) {
		const sk_jmember *m = &row->u.m[i];
		const char *k = m->key, *v;
		size_t n = 0;
		if (!(v = str_of(b, &m->val, &n)) || !n)
			continue;
#define IS(name) (!strcmp(k, name))
		if (IS("cmdline"))
			sk_logrec_add_text(b, SK_OBS_CMDLINE, "cmdline", v, n);
		else if (IS("path") && n > 5 && !strncasecmp(v, "HKEY_", 5))
			sk_logrec_add_regkey(b, "path", v, n);
		else if (IS("path") || IS("target_path"))
			sk_logrec_add_path(b, IS("path") ? "path" : "target_path", v, n, proc);
		else if (IS("key") && reg)
			sk_logrec_add_regkey(b, "key", v, n);
		else if (IS("name") && proc)
			sk_logrec_add_text(b, SK_OBS_PROCESS, "name", v, n);
		else if (IS("name") && reg)
			sk_logrec_add_text(b, SK_OBS_REGVALUE, "name", v, n);
		else if (IS("directory") || IS("cwd"))
			sk_logrec_add_dir(b, IS("cwd") ? "cwd" : "directory", v, n);
		else if (IS("filename"))
			sk_logrec_add_text(b, SK_OBS_FILENAME, "filename", v, n);
		else if (IS("md5"))
			sk_logrec_add_hash(b, SK_OBS_MD5, "md5", v, n);
		else if (IS("sha1"))
			sk_logrec_add_hash(b, SK_OBS_SHA1, "sha1", v, n);
		else if (IS("sha256"))
			sk_logrec_add_hash(b, SK_OBS_SHA256, "sha256", v, n);
		else if (IS("username") || IS("user") || IS("uid") || IS("uuid") || IS("sid"))
			sk_logrec_add_text(b, SK_OBS_USER,
			                   IS("username") ? "username"
			                   : IS("user")   ? "user"
			                   : IS("uid")    ? "uid"
			                   : IS("uuid")   ? "uuid"
			                                  : "sid",
			                   v, n);
		else if (IS("remote_address"))
			sk_logrec_add_ip(b, SK_ROLE_DST, "remote_address", v, n);
		else if (IS("local_address"))
			sk_logrec_add_ip(b, SK_ROLE_SRC, "local_address", v, n);
		else if (IS("remote_port"))
			sk_logrec_add_port(b, SK_ROLE_DST, "remote_port", v, n);
		else if (IS("local_port"))
			sk_logrec_add_port(b, SK_ROLE_SRC, "local_port", v, n);
		else if (IS("url"))
			sk_logrec_add_url(b, "url", v, n);
		else if (IS("domain") || IS("hostname") || IS("host"))
			sk_logrec_add_host(b, SK_ROLE_NONE, "hostname", v, n);
		else if (IS("mutex") || IS("mutant"))
			sk_logrec_add_text(b, SK_OBS_MUTEX, "mutex", v, n);
#undef IS
	}
}

/* The next row of the current line into b; LF_SKIP when none is left. */
int sk_logfmt_osq_more(sk_host_state *h, sk_logbuild *b)
{
	if (h->row) {
		const sk_jval *r = h->row;
		h->row = NULL;
		add_row(h, b, r);
		return LF_RECORD;
	}
	while (h->set < 2) {
		const sk_jval *rows = h->rows[h->set];
		if (rows && h->next < rows->n) {
			const sk_jval *r = &rows->u.m[h->next++].val;
			if (r->type != SK_JOBJECT)
				continue;
			add_row(h, b, r);
			return LF_RECORD;
		}
		h->set++;
		h->next = 0;
	}
	return LF_SKIP;
}

int sk_logfmt_osq_line(sk_host_state *h, sk_logbuild *b, const char *line, size_t len,
                       const char **reason)
{
	const sk_jval *root, *v, *d;
	size_t n;
	const char *s;
	int k;

	h->row = h->rows[0] = h->rows[1] = NULL;
	h->set = h->next = 0;
	h->name = NULL;
	h->ts_us = 0;
	if ((k = sk_logfmt_host_parse(h, line, len, &root, reason)) != LF_RECORD)
		return k;
	if ((s = sk_json_str(sk_json_get(root, "name")))) {
		h->name = s;
		h->name_len = strlen(s);
	}
	v = sk_json_get(root, "unixTime");
	if (v && (s = str_of(b, v, &n))) {
		if (!sk_logts_epoch(s, n, &h->ts_us)) {
			*reason = "bad unixTime";
			return LF_MALFORMED;
		}
	} else if ((s = sk_json_str(sk_json_get(root, "calendarTime")))) {
		if (!calendar_time(s, &h->ts_us)) {
			*reason = "bad calendarTime";
			return LF_MALFORMED;
		}
	}
	if ((v = sk_json_get(root, "columns"))) {
		if (v->type != SK_JOBJECT) {
			*reason = "\"columns\" is not an object";
			return LF_MALFORMED;
		}
		h->row = v;
	} else if ((v = sk_json_get(root, "snapshot"))) {
		if (v->type != SK_JARRAY) {
			*reason = "\"snapshot\" is not an array";
			return LF_MALFORMED;
		}
		h->rows[0] = v;
	} else if ((d = sk_json_get(root, "diffResults"))) {
		h->rows[0] = sk_json_get(d, "added");
		h->rows[1] = sk_json_get(d, "removed");
		for (k = 0; k < 2; k++)
			if (h->rows[k] && h->rows[k]->type != SK_JARRAY) {
				*reason = "\"diffResults\" rows are not an array";
				return LF_MALFORMED;
			}
	} else {
		*reason = "no \"columns\", \"snapshot\" or \"diffResults\" (not an osquery result)";
		return LF_MALFORMED;
	}
	return sk_logfmt_osq_more(h, b);
}
