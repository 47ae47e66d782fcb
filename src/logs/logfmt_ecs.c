/*
 * logfmt_ecs.c - Elastic Common Schema JSON lines, as Winlogbeat, Filebeat
 * and Elastic Agent write them, including Sysmon's events both as ECS
 * fields (process.*, file.*, registry.*, dns.*, destination.*) and as the
 * raw winlog.event_data.* members Winlogbeat keeps.
 *
 * A line is parsed with the strict DOM parser (core/json.c) and walked
 * once; every member is named by its dotted path, so nested objects
 * ({"process":{"name":...}}) and flattened keys ("process.name") read the
 * same.  The paths are looked up in one table (below); everything else is
 * ignored.  Values that depend on each other (a registry hive and key, the
 * value name to strip from a SetValue's TargetObject) are gathered during
 * the walk and added at the end.  The record's time is @timestamp.
 */
#include "logfmt_host.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	A_NONE,
	A_TS,
	A_EVENT,
	A_CMDLINE,
	A_IMAGE,
	A_PNAME,
	A_PARENT_IMAGE,
	A_PARENT_CMDLINE,
	A_PARENT_NAME,
	A_FILEPATH,
	A_FILENAME,
	A_DIR,
	A_MD5,
	A_SHA1,
	A_SHA256,
	A_SHA512,
	A_HASH,
	A_HASHES,
	A_REG_PATH,
	A_REG_HIVE,
	A_REG_KEY,
	A_REG_VALUE,
	A_REG_TARGET,
	A_REG_EVTYPE,
	A_REG_NEWNAME,
	A_DOMAIN,
	A_HOST,
	A_QRESULTS,
	A_IP,
	A_IP_SRC,
	A_IP_DST,
	A_PORT_SRC,
	A_PORT_DST,
	A_URL,
	A_USER,
	A_MUTEX,
	A_JA3,
	A_JA3S,
	A_UA,
};

static const struct {
	const char *path;
	int act;
} ecs_map[] = {
    {"@timestamp", A_TS},
    {"event.action", A_EVENT},
    /* processes */
    {"process.command_line", A_CMDLINE},
    {"process.parent.command_line", A_PARENT_CMDLINE},
    {"winlog.event_data.CommandLine", A_CMDLINE},
    {"winlog.event_data.ParentCommandLine", A_PARENT_CMDLINE},
    {"process.executable", A_IMAGE},
    {"process.parent.executable", A_PARENT_IMAGE},
    {"winlog.event_data.Image", A_IMAGE},
    {"winlog.event_data.ParentImage", A_PARENT_IMAGE},
    {"winlog.event_data.SourceImage", A_IMAGE},
    {"winlog.event_data.TargetImage", A_IMAGE},
    {"process.name", A_PNAME},
    {"process.parent.name", A_PARENT_NAME},
    {"process.working_directory", A_DIR},
    {"winlog.event_data.CurrentDirectory", A_DIR},
    {"process.hash.md5", A_MD5},
    {"process.hash.sha1", A_SHA1},
    {"process.hash.sha256", A_SHA256},
    {"process.hash.sha512", A_SHA512},
    {"process.parent.hash.md5", A_MD5},
    {"process.parent.hash.sha1", A_SHA1},
    {"process.parent.hash.sha256", A_SHA256},
    {"winlog.event_data.Hashes", A_HASHES},
    {"winlog.event_data.Hash", A_HASHES},
    {"related.hash", A_HASH},
    /* files and libraries */
    {"file.path", A_FILEPATH},
    {"file.target_path", A_FILEPATH},
    {"dll.path", A_FILEPATH},
    {"winlog.event_data.TargetFilename", A_FILEPATH},
    {"winlog.event_data.ImageLoaded", A_FILEPATH},
    {"file.name", A_FILENAME},
    {"dll.name", A_FILENAME},
    {"file.directory", A_DIR},
    {"file.hash.md5", A_MD5},
    {"file.hash.sha1", A_SHA1},
    {"file.hash.sha256", A_SHA256},
    {"file.hash.sha512", A_SHA512},
    {"dll.hash.md5", A_MD5},
    {"dll.hash.sha1", A_SHA1},
    {"dll.hash.sha256", A_SHA256},
    /* registry */
    {"registry.path", A_REG_PATH},
    {"registry.hive", A_REG_HIVE},
    {"registry.key", A_REG_KEY},
    {"registry.value", A_REG_VALUE},
    {"winlog.event_data.TargetObject", A_REG_TARGET},
    {"winlog.event_data.EventType", A_REG_EVTYPE},
    {"winlog.event_data.NewName", A_REG_NEWNAME},
    /* DNS */
    {"dns.question.name", A_DOMAIN},
    {"dns.resolved_ip", A_IP},
    {"dns.answers.data", A_HOST},
    {"winlog.event_data.QueryName", A_DOMAIN},
    {"winlog.event_data.QueryResults", A_QRESULTS},
    /* network */
    {"source.ip", A_IP_SRC},
    {"source.port", A_PORT_SRC},
    {"source.domain", A_DOMAIN},
    {"destination.ip", A_IP_DST},
    {"destination.port", A_PORT_DST},
    {"destination.domain", A_DOMAIN},
    {"client.ip", A_IP_SRC},
    {"client.port", A_PORT_SRC},
    {"server.ip", A_IP_DST},
    {"server.port", A_PORT_DST},
    {"winlog.event_data.SourceIp", A_IP_SRC},
    {"winlog.event_data.SourcePort", A_PORT_SRC},
    {"winlog.event_data.DestinationIp", A_IP_DST},
    {"winlog.event_data.DestinationPort", A_PORT_DST},
    {"winlog.event_data.DestinationHostname", A_DOMAIN},
    {"related.ip", A_IP},
    {"url.full", A_URL},
    {"url.original", A_URL},
    {"url.domain", A_DOMAIN},
    {"tls.client.ja3", A_JA3},
    {"tls.server.ja3s", A_JA3S},
    {"user_agent.original", A_UA},
    /* accounts */
    {"user.name", A_USER},
    {"user.id", A_USER},
    {"user.target.name", A_USER},
    {"user.target.id", A_USER},
    {"process.user.name", A_USER},
    {"process.user.id", A_USER},
    {"related.user", A_USER},
    {"winlog.user.identifier", A_USER},
    {"winlog.user.name", A_USER},
    {"winlog.event_data.User", A_USER},
    {"winlog.event_data.TargetUserName", A_USER},
    {"winlog.event_data.TargetUserSid", A_USER},
    {"winlog.event_data.SubjectUserName", A_USER},
    {"winlog.event_data.SubjectUserSid", A_USER},
    /* not ECS: what EDR pipelines that log mutexes use */
    {"mutex.name", A_MUTEX},
    {"winlog.event_data.Mutex", A_MUTEX},
};

/* One line's gathered values: the registry event's parts. */
typedef struct ecs_line {
	sk_logbuild *b;
	const char *reason;
	const char *reg_path, *reg_hive, *reg_key, *reg_value, *reg_target, *reg_evtype,
	    *reg_newname;
	size_t reg_path_n, reg_hive_n, reg_key_n, reg_value_n, reg_target_n, reg_evtype_n,
	    reg_newname_n;
} ecs_line;

#define ECS_PATH_MAX 160
#define ECS_DEPTH    32

/*
 * The table as a sorted index of every mapped path and every prefix of one
 * that ends before a '.', built once: one binary search per member instead
 * of two scans of the table (which cost most of the time on Winlogbeat's
 * large events).
 */
typedef struct ecs_key {
	const char *path; /* static: the mapped path, of which the first len bytes */
	uint16_t len;
	uint8_t act;
	bool prefix; /* some mapped path continues with '.' after it */
} ecs_key;

#define ECS_NMAP (sizeof(ecs_map) / sizeof(ecs_map[0]))
static ecs_key ecs_keys[ECS_NMAP * 8];
static size_t ecs_nkeys;
static pthread_once_t ecs_once = PTHREAD_ONCE_INIT;

static int key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	return c ? c : (an > bn) - (an < bn);
}

static int ecs_key_cmp(const void *x, const void *y)
{
	const ecs_key *a = x, *b = y;
	return key_cmp(a->path, a->len, b->path, b->len);
}

static void ecs_index(void)
{
	size_t n = 0, o = 0;
	for (size_t i = 0; i < ECS_NMAP; i++) {
		const char *p = ecs_map[i].path;
		size_t l = strlen(p);
		for (size_t k = 1; k < l && n < sizeof(ecs_keys) / sizeof(ecs_keys[0]) - 1; k++)
			if (p[k] == '.')
				ecs_keys[n++] =
				    (ecs_key){.path = p, .len = (uint16_t)k, .prefix = true};
		ecs_keys[n++] =
		    (ecs_key){.path = p, .len = (uint16_t)l, .act = (uint8_t)ecs_map[i].act};
	}
	qsort(ecs_keys, n, sizeof(ecs_keys[0]), ecs_key_cmp);
	for (size_t i = 0; i < n; i++) {
		if (o && !ecs_key_cmp(&ecs_keys[o - 1], &ecs_keys[i])) {
			ecs_key *k = &ecs_keys[o - 1];
			k->prefix |= ecs_keys[i].prefix;
			if (ecs_keys[i].act) {
				k->act = ecs_keys[i].act;
				k->path = ecs_keys[i].path;
			}
			continue;
		}
		ecs_keys[o++] = ecs_keys[i];
	}
	ecs_nkeys = o;
}

/* The entry of path[0..n), or NULL when no mapped path is or starts with it. */
static const ecs_key *lookup(const char *path, size_t n)
{
	size_t lo = 0, hi = ecs_nkeys;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = key_cmp(path, n, ecs_keys[mid].path, ecs_keys[mid].len);
		if (!c)
			return &ecs_keys[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *sk_logfmt_host_int(sk_logbuild *b, const sk_jval *v, size_t *n)
{
	char tmp[24];
	int k = snprintf(tmp, sizeof(tmp), "%lld", (long long)v->u.i);
	if (k <= 0)
		return NULL;
	*n = (size_t)k;
	return sk_logrec_scratch(b, tmp, (size_t)k);
}

/* Sysmon's "SHA1=...,MD5=...,SHA256=...,IMPHASH=..." (or one bare digest). */
static void add_hashes(sk_logbuild *b, const char *field, const char *v, size_t n)
{
	const char *p = v, *end = v + n;
	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *e = c ? c : end, *eq = memchr(p, '=', (size_t)(e - p));
		if (eq && !(eq - p == 7 && !strncmp(p, "IMPHASH", 7)))
			sk_logrec_add_hash(b, SK_OBS_NONE, field, eq + 1, (size_t)(e - eq - 1));
		else if (!eq)
			sk_logrec_add_hash(b, SK_OBS_NONE, field, p, (size_t)(e - p));
		p = c ? c + 1 : end;
	}
}

/* Sysmon's DNS QueryResults: "type:  5 cdn.example;::ffff:192.0.2.1;" */
static void add_qresults(sk_logbuild *b, const char *field, const char *v, size_t n)
{
	const char *p = v, *end = v + n;
	while (p < end) {
		const char *c = memchr(p, ';', (size_t)(end - p));
		const char *e = c ? c : end;
		if (e - p > 5 && !strncmp(p, "type:", 5)) {
			p += 5;
			while (p < e && *p == ' ')
				p++;
			while (p < e && *p >= '0' && *p <= '9')
				p++;
			while (p < e && *p == ' ')
				p++;
		}
		if (e - p > 7 && !strncmp(p, "::ffff:", 7) &&
		    sk_obs_is_ipv4(p + 7, (size_t)(e - p - 7)))
			p += 7;
		if (e > p)
			sk_logrec_add_host(b, SK_ROLE_NONE, field, p, (size_t)(e - p));
		p = c ? c + 1 : end;
	}
}

/* "DOMAIN\\user": the whole and the account name after the backslash. */
static void add_user(sk_logbuild *b, const char *field, const char *v, size_t n)
{
	const char *bs = n ? memchr(v, '\\', n) : NULL;
	if (!n || (n == 1 && v[0] == '-'))
		return;
	sk_logrec_add_text(b, SK_OBS_USER, field, v, n);
	if (bs && bs + 1 < v + n)
		sk_logrec_add_text(b, SK_OBS_USER, field, bs + 1, (size_t)(v + n - bs - 1));
}

static void scalar(ecs_line *L, int act, const char *field, const char *v, size_t n)
{
	sk_logbuild *b = L->b;
	switch (act) {
	case A_TS:
		if (!sk_logts_rfc3339(v, n, &b->rec->ts_us))
			L->reason = "bad @timestamp";
		break;
	case A_EVENT:
		b->rec->event = v;
		b->rec->event_len = (uint32_t)(n > UINT32_MAX ? 0 : n);
		break;
	case A_CMDLINE:
		sk_logrec_add_text(b, SK_OBS_CMDLINE, field, v, n);
		break;
	case A_IMAGE:
		sk_logrec_add_path(b, field, v, n, true);
		break;
	case A_PNAME:
		sk_logrec_add_text(b, SK_OBS_PROCESS, field, v, n);
		break;
	/* the parent is a process of the event too, and the child's parent_ref */
	case A_PARENT_IMAGE: {
		size_t i = n;
		sk_logrec_add_path(b, field, v, n, true);
		while (i > 0 && v[i - 1] != '\\' && v[i - 1] != '/')
			i--;
		if (i < n) /* the image's base name, as the path adder takes it */
			sk_logrec_add_text(b, SK_OBS_PARENT, field, v + i, n - i);
		break;
	}
	case A_PARENT_CMDLINE:
		sk_logrec_add_text(b, SK_OBS_CMDLINE, field, v, n);
		sk_logrec_add_text(b, SK_OBS_PARENT_CMDLINE, field, v, n);
		break;
	case A_PARENT_NAME:
		sk_logrec_add_text(b, SK_OBS_PROCESS, field, v, n);
		sk_logrec_add_text(b, SK_OBS_PARENT, field, v, n);
		break;
	case A_FILEPATH:
		sk_logrec_add_path(b, field, v, n, false);
		break;
	case A_FILENAME:
		sk_logrec_add_text(b, SK_OBS_FILENAME, field, v, n);
		break;
	case A_DIR:
		sk_logrec_add_dir(b, field, v, n); /* Sysmon's CurrentDirectory ends in '\\' */
		break;
	case A_MD5:
		sk_logrec_add_hash(b, SK_OBS_MD5, field, v, n);
		break;
	case A_SHA1:
		sk_logrec_add_hash(b, SK_OBS_SHA1, field, v, n);
		break;
	case A_SHA256:
		sk_logrec_add_hash(b, SK_OBS_SHA256, field, v, n);
		break;
	case A_SHA512:
		sk_logrec_add_hash(b, SK_OBS_SHA512, field, v, n);
		break;
	case A_HASH:
		sk_logrec_add_hash(b, SK_OBS_NONE, field, v, n);
		break;
	case A_HASHES:
		add_hashes(b, field, v, n);
		break;
#define KEEP(x)                                                                                    \
	do {                                                                                       \
		L->x = v;                                                                          \
		L->x##_n = n;                                                                      \
	} while (0)
	case A_REG_PATH:
		KEEP(reg_path);
		break;
	case A_REG_HIVE:
		KEEP(reg_hive);
		break;
	case A_REG_KEY:
		KEEP(reg_key);
		break;
	case A_REG_VALUE:
		KEEP(reg_value);
		break;
	case A_REG_TARGET:
		KEEP(reg_target);
		break;
	case A_REG_EVTYPE:
		KEEP(reg_evtype);
		break;
	case A_REG_NEWNAME:
		KEEP(reg_newname);
		break;
#undef KEEP
	case A_DOMAIN:
		sk_logrec_add_domain(b, SK_ROLE_NONE, field, v, n);
		break;
	case A_HOST:
		sk_logrec_add_host(b, SK_ROLE_NONE, field, v, n);
		break;
	case A_QRESULTS:
		add_qresults(b, field, v, n);
		break;
	case A_IP:
		sk_logrec_add_ip(b, SK_ROLE_NONE, field, v, n);
		break;
	case A_IP_SRC:
		sk_logrec_add_ip(b, SK_ROLE_SRC, field, v, n);
		break;
	case A_IP_DST:
		sk_logrec_add_ip(b, SK_ROLE_DST, field, v, n);
		break;
	case A_PORT_SRC:
		sk_logrec_add_port(b, SK_ROLE_SRC, field, v, n);
		break;
	case A_PORT_DST:
		sk_logrec_add_port(b, SK_ROLE_DST, field, v, n);
		break;
	case A_URL:
		sk_logrec_add_url(b, field, v, n);
		break;
	case A_USER:
		add_user(b, field, v, n);
		break;
	case A_MUTEX:
		sk_logrec_add_text(b, SK_OBS_MUTEX, field, v, n);
		break;
	case A_JA3:
		sk_logrec_add_hash(b, SK_OBS_JA3, field, v, n);
		break;
	case A_JA3S:
		sk_logrec_add_hash(b, SK_OBS_JA3S, field, v, n);
		break;
	case A_UA:
		sk_logrec_add_text(b, SK_OBS_USER_AGENT, field, v, n);
		break;
	default:
		break;
	}
}

/* field: the mapped path (static) when act is set. */
static void walk(ecs_line *L, const sk_jval *v, char *path, size_t plen, int act, const char *field,
                 int depth)
{
	if (depth > ECS_DEPTH)
		return;
	switch (v->type) {
	case SK_JOBJECT:
		for (uint32_t i = 0; i < v->n; i++) {
			const sk_jmember *m = &v->u.m[i];
			size_t nl = plen + (plen ? 1 : 0) + m->klen;
			if (nl >= ECS_PATH_MAX)
				continue;
			if (plen)
				path[plen] = '.';
			memcpy(path + plen + (plen ? 1 : 0), m->key, m->klen);
			const ecs_key *k = lookup(path, nl);
			if (k)
				walk(L, &m->val, path, nl, k->act, k->path, depth + 1);
		}
		break;
	case SK_JARRAY:
		for (uint32_t i = 0; i < v->n; i++)
			walk(L, &v->u.m[i].val, path, plen, act, field, depth + 1);
		break;
	case SK_JSTRING:
		if (act)
			scalar(L, act, field, v->u.s, v->n);
		break;
	case SK_JINT:
		if (act == A_PORT_SRC || act == A_PORT_DST || act == A_USER) {
			size_t n;
			const char *s = sk_logfmt_host_int(L->b, v, &n);
			if (s)
				scalar(L, act, field, s, n);
		}
		break;
	default:
		break;
	}
}

/* hive + '\\' + key into scratch. */
static const char *join_key(sk_logbuild *b, const char *h, size_t hn, const char *k, size_t kn,
                            size_t *n)
{
	char *o = sk_logrec_reserve(b, hn + 1 + kn);
	if (!o)
		return NULL;
	memcpy(o, h, hn);
	o[hn] = '\\';
	memcpy(o + hn + 1, k, kn);
	*n = hn + 1 + kn;
	return o;
}

/* Strip the last component (a value name) of a registry path. */
static size_t parent_len(const char *p, size_t n)
{
	while (n && p[n - 1] != '\\')
		n--;
	return n ? n - 1 : 0;
}

/*
 * The registry: the key of the event (windows-registry-key:key) and, for a
 * value event, also the key with the value name appended, which is how many
 * indicators name a Run entry.
 */
static void add_registry(ecs_line *L)
{
	sk_logbuild *b = L->b;
	const char *k;
	size_t kn;

	if (L->reg_value && L->reg_value_n)
		sk_logrec_add_text(b, SK_OBS_REGVALUE, "registry.value", L->reg_value,
		                   L->reg_value_n);
	if (L->reg_hive && L->reg_key && L->reg_hive_n && L->reg_key_n) {
		if ((k = join_key(b, L->reg_hive, L->reg_hive_n, L->reg_key, L->reg_key_n, &kn)))
			sk_logrec_add_regkey(b, "registry.key", k, kn);
		if (L->reg_path && L->reg_value && L->reg_value_n)
			sk_logrec_add_regkey(b, "registry.path", L->reg_path, L->reg_path_n);
	} else if (L->reg_path && L->reg_path_n) {
		if (L->reg_value && L->reg_value_n &&
		    (kn = parent_len(L->reg_path, L->reg_path_n)) > 0)
			sk_logrec_add_regkey(b, "registry.path", L->reg_path, kn);
		sk_logrec_add_regkey(b, "registry.path", L->reg_path, L->reg_path_n);
	}
	if (L->reg_target && L->reg_target_n) {
		const char *f = "winlog.event_data.TargetObject";
		bool value = L->reg_evtype &&
		             ((L->reg_evtype_n == 8 && !memcmp(L->reg_evtype, "SetValue", 8)) ||
		              (L->reg_evtype_n == 11 && !memcmp(L->reg_evtype, "DeleteValue", 11)));
		if (value && (kn = parent_len(L->reg_target, L->reg_target_n)) > 0) {
			sk_logrec_add_regkey(b, f, L->reg_target, kn);
			sk_logrec_add_text(b, SK_OBS_REGVALUE, f, L->reg_target + kn + 1,
			                   L->reg_target_n - kn - 1);
		}
		sk_logrec_add_regkey(b, f, L->reg_target, L->reg_target_n);
	}
	if (L->reg_newname && L->reg_newname_n)
		sk_logrec_add_regkey(b, "winlog.event_data.NewName", L->reg_newname,
		                     L->reg_newname_n);
}

sk_err sk_logfmt_host_new(sk_host_state **out)
{
	sk_host_state *h = calloc(1, sizeof(*h));
	*out = NULL;
	pthread_once(&ecs_once, ecs_index);
	if (!h || sk_json_doc_new(64u << 20, 64, &h->doc)) {
		free(h);
		return SK_ENOMEM;
	}
	*out = h;
	return SK_OK;
}

void sk_logfmt_host_free(sk_host_state *h)
{
	if (!h)
		return;
	sk_json_doc_free(h->doc);
	free(h);
}

int sk_logfmt_host_parse(sk_host_state *h, const char *line, size_t len, const sk_jval **root,
                         const char **reason)
{
	sk_error err;
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len)
		return LF_SKIP;
	if (sk_json_parse(h->doc, line, len, root, &err)) {
		/* the parser says what and at which byte */
		snprintf(h->why, sizeof(h->why), "%s", err.msg);
		*reason = h->why;
		return LF_MALFORMED;
	}
	if ((*root)->type != SK_JOBJECT) {
		*reason = "not a JSON object";
		return LF_MALFORMED;
	}
	return LF_RECORD;
}

int sk_logfmt_ecs_line(sk_host_state *h, sk_logbuild *b, const char *line, size_t len,
                       const char **reason)
{
	const sk_jval *root;
	char path[ECS_PATH_MAX];
	ecs_line L = {.b = b};
	int k = sk_logfmt_host_parse(h, line, len, &root, reason);

	if (k != LF_RECORD)
		return k;
	walk(&L, root, path, 0, A_NONE, NULL, 0);
	if (L.reason) {
		*reason = L.reason;
		return LF_MALFORMED;
	}
	add_registry(&L);
	return LF_RECORD;
}
