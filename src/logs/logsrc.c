/*
 * logsrc.c - which log sources a node reads (logread.h, "log sources
 * seen"): a bounded tally of records per source kind, and the readers'
 * table of the STIX object types each kind delivers, so that the
 * cooperation report can say which indicators a node cannot match for lack
 * of a source (docs/cooperation.md).
 */
#include <stdio.h>
#include <string.h>

#include "schakel/logread.h"
#include "schakel/logrec.h"

#define NET "ipv4-addr,ipv6-addr,network-traffic"

_Static_assert(SK_OBS__COUNT <= 64, "sk_logsrc.obs holds one bit per observation kind");

/*
 * What each source kind delivers, from what its reader takes out of it
 * (logfmt_zeek.c, logfmt_eve.c, logfmt_ecs.c, ...).  Kinds not listed
 * (CSV, free text, other Zeek logs and EVE events) deliver what they were
 * seen to give (the observation kinds of the records read).
 */
static const struct {
	const char *kind, *types;
} table[] = {
    {"zeek:conn", NET},
    {"zeek:dns", "domain-name," NET},
    {"zeek:http", "url,domain-name," NET},
    {"zeek:ssl", "domain-name,x509-certificate," NET},
    {"zeek:x509", "x509-certificate,domain-name"},
    {"zeek:files", "file"},
    {"zeek:smtp", "email-addr,email-message," NET},
    {"zeek:notice", NET},
    {"eve:flow", NET},
    {"eve:netflow", NET},
    {"eve:alert", NET},
    {"eve:dns", "domain-name," NET},
    {"eve:http", "url,domain-name," NET},
    {"eve:tls", "domain-name,x509-certificate," NET},
    {"eve:fileinfo", "file," NET},
    {"eve:smtp", "email-addr,email-message," NET},
    {"ecs", "process,file"},
    {"osquery", ""},
    {"auditd", "process,user-account"},
};

void sk_logsrc_init(sk_logsrc_tally *t)
{
	memset(t, 0, sizeof(*t));
	t->last = -1;
}

static const char *family(sk_logfmt fmt)
{
	switch (fmt) {
	case SK_LOGFMT_ZEEK:
	case SK_LOGFMT_ZEEK_JSON:
		return "zeek";
	case SK_LOGFMT_EVE:
		return "eve";
	default:
		return sk_logfmt_name(fmt);
	}
}

/* The kind of a record into out (SK_LOGSRC_NAME). */
static void kind_of(sk_logfmt fmt, const sk_logrec *rec, char *out)
{
	const char *fam = family(fmt);
	size_t n = strlen(fam);
	memcpy(out, fam, n + 1);
	if (fmt != SK_LOGFMT_ZEEK && fmt != SK_LOGFMT_ZEEK_JSON && fmt != SK_LOGFMT_EVE)
		return; /* ECS actions and osquery query names are the operator's words */
	if (!rec->event || !rec->event_len)
		return;
	out[n++] = ':';
	bool plain = rec->event_len <= 24;
	for (uint32_t i = 0; plain && i < rec->event_len; i++) {
		char c = rec->event[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		        c == '.';
		out[n + i] = c;
	}
	if (!plain) {
		memcpy(out + n, "other", 6);
		return;
	}
	out[n + rec->event_len] = 0;
}

/* The entry for kind (added if there is room, else FAMILY:other, which always fits). */
static int entry(sk_logsrc_tally *t, const char *kind)
{
	char other[SK_LOGSRC_NAME];
	for (unsigned i = 0; i < t->n; i++)
		if (!strcmp(t->src[i].kind, kind))
			return (int)i;
	if (t->n + 1 >= SK_LOGSRC_MAX) { /* the last slot is kept for "other" */
		size_t f = strcspn(kind, ":");
		snprintf(other, sizeof(other), "%.*s:other", (int)f, kind);
		for (unsigned i = 0; i < t->n; i++)
			if (!strcmp(t->src[i].kind, other))
				return (int)i;
		if (t->n == SK_LOGSRC_MAX)
			return (int)t->n - 1;
		kind = other;
	}
	sk_logsrc *s = &t->src[t->n];
	memset(s, 0, sizeof(*s));
	snprintf(s->kind, sizeof(s->kind), "%s", kind);
	return (int)t->n++;
}

void sk_logsrc_note(sk_logsrc_tally *t, sk_logfmt fmt, const sk_logrec *rec)
{
	char kind[SK_LOGSRC_NAME];
	uint64_t obs = 0;
	kind_of(fmt, rec, kind);
	if (t->last < 0 || strcmp(t->src[t->last].kind, kind))
		t->last = entry(t, kind);
	for (uint32_t i = 0; i < rec->n; i++)
		if (rec->obs[i].kind < SK_OBS__COUNT)
			obs |= (uint64_t)1 << rec->obs[i].kind;
	t->src[t->last].records++;
	t->src[t->last].obs |= obs;
}

void sk_logsrc_merge(sk_logsrc_tally *into, const sk_logsrc_tally *from)
{
	for (unsigned i = 0; i < from->n; i++) {
		int k = entry(into, from->src[i].kind);
		into->src[k].records += from->src[i].records;
		into->src[k].obs |= from->src[i].obs;
	}
	into->last = -1;
}

/* Append type t (length tn) to buf if absent and if it fits. */
static void add_type(char *buf, size_t n, const char *t, size_t tn)
{
	size_t len = strlen(buf);
	for (const char *p = buf; *p;) {
		size_t k = strcspn(p, ",");
		if (k == tn && !memcmp(p, t, tn))
			return;
		p += k + (p[k] == ',');
	}
	if (!tn || len + tn + 2 > n)
		return;
	if (len)
		buf[len++] = ',';
	memcpy(buf + len, t, tn);
	buf[len + tn] = 0;
}

void sk_logsrc_types(const sk_logsrc *s, char *buf, size_t n)
{
	if (!n)
		return;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(table[i].kind, s->kind))
			continue;
		for (const char *p = table[i].types; *p;) {
			size_t k = strcspn(p, ",");
			add_type(buf, n, p, k);
			p += k + (p[k] == ',');
		}
	}
	for (unsigned k = 1; k < SK_OBS__COUNT; k++) {
		const char *path;
		if (!(s->obs >> k & 1))
			continue;
		/* the plain forms: an IP with a role is still an ipv4-addr:value to match */
		if ((path = sk_obs_stix_path((sk_obs_kind)k, SK_ROLE_NONE)))
			add_type(buf, n, path, strcspn(path, ":"));
		if ((path = sk_obs_stix_path((sk_obs_kind)k, SK_ROLE_SRC)))
			add_type(buf, n, path, strcspn(path, ":"));
	}
}
