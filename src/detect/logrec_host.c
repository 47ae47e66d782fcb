/*
 * logrec_host.c - the adders for host telemetry (process, file path,
 * directory, registry key, mutex, user), shared by the ECS, osquery and
 * auditd readers, and the one spelling of a registry key that the readers
 * and the matcher's literals share (sk_obs_regkey_canon).
 */
#include "logbuild.h"

#include <string.h>
#include <strings.h>

/* Abbreviated and kernel spellings of the hives, and the names STIX uses. */
static const struct {
	const char *abbr;
	const char *full;
} hives[] = {
    {"HKLM", "HKEY_LOCAL_MACHINE"},     {"HKCU", "HKEY_CURRENT_USER"},
    {"HKCR", "HKEY_CLASSES_ROOT"},      {"HKU", "HKEY_USERS"},
    {"HKCC", "HKEY_CURRENT_CONFIG"},    {"\\REGISTRY\\MACHINE", "HKEY_LOCAL_MACHINE"},
    {"\\REGISTRY\\USER", "HKEY_USERS"}, {"\\REGISTRY\\A", "HKEY_APPLICATION_HIVE"},
};

size_t sk_obs_regkey_canon(const char *s, size_t n, char *out, size_t cap, bool lower)
{
	size_t o = 0, skip = 0;
	const char *full = NULL;

	for (size_t i = 0; i < sizeof(hives) / sizeof(hives[0]); i++) {
		size_t al = strlen(hives[i].abbr);
		if (n >= al && !strncasecmp(s, hives[i].abbr, al) && (n == al || s[al] == '\\')) {
			full = hives[i].full;
			skip = al;
			break;
		}
	}
	while (n > skip && s[n - 1] == '\\')
		n--;
	if (full) {
		size_t fl = strlen(full);
		if (fl > cap)
			return 0;
		memcpy(out, full, fl);
		o = fl;
	}
	if (n - skip > cap - o)
		return 0;
	memcpy(out + o, s + skip, n - skip);
	o += n - skip;
	if (lower)
		for (size_t i = 0; i < o; i++)
			if ((unsigned)((unsigned char)out[i] - 'A') < 26u)
				out[i] = (char)(out[i] | 0x20);
	return o;
}

bool sk_logrec_add_regkey(sk_logbuild *b, const char *field, const char *v, size_t n)
{
	size_t cap = n + 24, l;
	char *o;
	if (!n)
		return false;
	if (!(o = sk_logrec_reserve(b, cap))) {
		b->rec->dropped++;
		return false;
	}
	l = sk_obs_regkey_canon(v, n, o, cap, false);
	b->used -= cap - l; /* give back what the spelled-out form did not use */
	return l && sk_logrec_add(b, SK_OBS_REGKEY, SK_ROLE_NONE, field, o, l);
}

bool sk_logrec_add_text(sk_logbuild *b, sk_obs_kind kind, const char *field, const char *v,
                        size_t n)
{
	if (!n || !v)
		return false;
	return sk_logrec_add(b, kind, SK_ROLE_NONE, field, v, n);
}

bool sk_logrec_add_dir(sk_logbuild *b, const char *field, const char *v, size_t n)
{
	/* "C:\\Windows\\" and "/var/tmp/": no trailing separator, except for a root */
	while (n > 1 && (v[n - 1] == '\\' || v[n - 1] == '/') && !(n == 3 && v[1] == ':'))
		n--;
	return sk_logrec_add_text(b, SK_OBS_DIRECTORY, field, v, n);
}

bool sk_logrec_add_path(sk_logbuild *b, const char *field, const char *v, size_t n, bool image)
{
	size_t cut = n;
	if (!n || !v)
		return false;
	for (size_t i = n; i > 0; i--)
		if (v[i - 1] == '\\' || v[i - 1] == '/') {
			cut = i - 1;
			break;
		}
	if (cut == n) {
		if (image)
			sk_logrec_add(b, SK_OBS_PROCESS, SK_ROLE_NONE, field, v, n);
		return sk_logrec_add(b, SK_OBS_FILENAME, SK_ROLE_NONE, field, v, n);
	}
	if (cut + 1 < n) {
		if (image)
			sk_logrec_add(b, SK_OBS_PROCESS, SK_ROLE_NONE, field, v + cut + 1,
			              n - cut - 1);
		sk_logrec_add(b, SK_OBS_FILENAME, SK_ROLE_NONE, field, v + cut + 1, n - cut - 1);
	}
	/* "C:\x.exe" and "/x": the directory is the root, written with its separator */
	return sk_logrec_add(b, SK_OBS_DIRECTORY, SK_ROLE_NONE, field, v,
	                     cut == 0 || (cut == 2 && v[1] == ':') ? cut + 1 : cut);
}
