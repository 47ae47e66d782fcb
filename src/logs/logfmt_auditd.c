/*
 * logfmt_auditd.c - the Linux audit log (auditd's audit.log, or the same
 * lines from audisp / journald): "type=T msg=audit(SECS.MS:SERIAL): k=v ...".
 *
 * One kernel event is written as several lines of different types sharing
 * a serial (SYSCALL, EXECVE, CWD, PATH, SOCKADDR, PROCTITLE, ended by EOE);
 * they are gathered into one record, so a pattern that names the command
 * line and the file opened sees both.  An event is complete at its EOE line,
 * at the first line of another serial, or at the end of the input (or when a
 * followed file goes quiet).  Values auditd hex-encodes (an untrusted string
 * with a space, quote or control byte: comm, exe, cwd, name, proctitle,
 * the EXECVE arguments, acct, cmd) are decoded; long arguments split into
 * aN[k] pieces are joined.
 *
 * Two event slots alternate: the record returned points into one while the
 * next event is gathered in the other.
 */
#include "core/hex.h"
#include "logfmt.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct agroup {
	sk_logrec rec;
	sk_logbuild b; /* scratch: the slot's arena, never reset while the event is open */
	bool active;
	char serial[64];
	size_t sn;
	char *cmd; /* EXECVE arguments joined by spaces */
	size_t cmdn, cmdcap;
	bool execve;
	const char *title; /* PROCTITLE, NULs made spaces */
	size_t titlen;
	const char *sa_ip, *sa_port; /* SOCKADDR */
	size_t sa_ipn, sa_portn;
	bool sa_dst; /* the syscall sends to the address (connect, sendto, sendmsg) */
} agroup;

struct sk_audit_state {
	agroup g[2];
	int cur;
};

sk_err sk_logfmt_audit_new(size_t max_line, sk_audit_state **out)
{
	sk_audit_state *a = calloc(1, sizeof(*a));
	*out = NULL;
	if (!a)
		return SK_ENOMEM;
	for (int i = 0; i < 2; i++) {
		agroup *g = &a->g[i];
		g->b.cap = 2 * max_line + (64u << 10);
		g->b.scratch = malloc(g->b.cap);
		g->b.rec = &g->rec;
		g->cmdcap = max_line;
		g->cmd = malloc(g->cmdcap);
		if (!g->b.scratch || !g->cmd) {
			sk_logfmt_audit_free(a);
			return SK_ENOMEM;
		}
	}
	*out = a;
	return SK_OK;
}

void sk_logfmt_audit_free(sk_audit_state *a)
{
	if (!a)
		return;
	for (int i = 0; i < 2; i++) {
		free(a->g[i].b.scratch);
		free(a->g[i].cmd);
	}
	free(a);
}

static const char *find(const char *s, size_t n, const char *pat)
{
	size_t pn = strlen(pat);
	for (size_t i = 0; i + pn <= n; i++)
		if (s[i] == pat[0] && !memcmp(s + i, pat, pn))
			return s + i;
	return NULL;
}

const char *sk_logfmt_audit_serial(const char *line, size_t len, size_t *n)
{
	const char *p = find(line, len, "msg=audit("), *end = line + len, *q;
	if (!p)
		return NULL;
	p += 10;
	for (q = p; q < end && *q != ')'; q++)
		if (!((*q >= '0' && *q <= '9') || *q == '.' || *q == ':'))
			return NULL;
	if (q >= end || q == p || !memchr(p, ':', (size_t)(q - p)))
		return NULL;
	*n = (size_t)(q - p);
	return p;
}

bool sk_logfmt_audit_is_eoe(const char *line, size_t len)
{
	const char *t = find(line, len, "type=EOE");
	return t && (t == line || t[-1] == ' ') && (size_t)(t - line) + 8 < len && t[8] == ' ';
}

static bool all_hex(const char *v, size_t n)
{
	if (!n || n % 2)
		return false;
	for (size_t i = 0; i < n; i++)
		if (sk_hexval(v[i]) < 0)
			return false;
	return true;
}

/* Decode hex v into the group's arena; NULL when it does not fit. */
static char *unhex(agroup *g, const char *v, size_t n, size_t *on)
{
	char *o = sk_logrec_reserve(&g->b, n / 2);
	if (!o) {
		g->rec.dropped++;
		return NULL;
	}
	for (size_t i = 0; i < n / 2; i++)
		o[i] = (char)(sk_hexval(v[2 * i]) << 4 | sk_hexval(v[2 * i + 1]));
	*on = n / 2;
	return o;
}

/* Fields auditd writes as untrusted strings: quoted, or hex when they hold odd bytes. */
static bool untrusted(const char *k, size_t kn)
{
	static const char *const names[] = {"comm", "exe", "cwd", "name", "proctitle",
	                                    "acct", "cmd", "key", "data", "path"};
	if (kn >= 2 && k[0] == 'a' && k[1] >= '0' && k[1] <= '9')
		return true; /* EXECVE aN and aN[k] */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == kn && !memcmp(names[i], k, kn))
			return true;
	return false;
}

static bool key_is(const char *k, size_t kn, const char *name)
{
	return strlen(name) == kn && !memcmp(k, name, kn);
}

static void cmd_append(agroup *g, const char *v, size_t n, bool sep)
{
	if (sep && g->cmdn && g->cmdn < g->cmdcap)
		g->cmd[g->cmdn++] = ' ';
	if (n > g->cmdcap - g->cmdn) {
		n = g->cmdcap - g->cmdn;
		g->rec.dropped++;
	}
	memcpy(g->cmd + g->cmdn, v, n);
	g->cmdn += n;
}

/* A SOCKADDR's saddr (struct sockaddr as hex): IPv4 and IPv6 address and port. */
static void sockaddr(agroup *g, const char *v, size_t n)
{
	unsigned char sa[28];
	char txt[INET6_ADDRSTRLEN], port[8];
	size_t len = n / 2 < sizeof(sa) ? n / 2 : sizeof(sa);
	unsigned fam;
	if (n % 2 || len < 8)
		return;
	for (size_t i = 0; i < len; i++) {
		int hi = sk_hexval(v[2 * i]), lo = sk_hexval(v[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return;
		sa[i] = (unsigned char)(hi << 4 | lo);
	}
	fam = sa[0] | (unsigned)sa[1]
	                  << 8; /* host order, little-endian on the machines auditd runs */
	if (fam == 2 && !inet_ntop(AF_INET, sa + 4, txt, sizeof(txt)))
		return;
	if (fam == 10 && (len < 24 || !inet_ntop(AF_INET6, sa + 8, txt, sizeof(txt))))
		return;
	if (fam != 2 && fam != 10)
		return;
	int pl = snprintf(port, sizeof(port), "%u", (unsigned)sa[2] << 8 | sa[3]);
	g->sa_ip = sk_logrec_scratch(&g->b, txt, strlen(txt));
	g->sa_ipn = strlen(txt);
	g->sa_port = sk_logrec_scratch(&g->b, port, (size_t)pl);
	g->sa_portn = (size_t)pl;
}

/* Syscalls that send to their address: x86_64, aarch64 and by name (enriched logs). */
static bool sending_syscall(const char *arch, size_t an, const char *v, size_t n)
{
	if (key_is(v, n, "connect") || key_is(v, n, "sendto") || key_is(v, n, "sendmsg"))
		return true;
	if (key_is(arch, an, "c000003e"))
		return key_is(v, n, "42") || key_is(v, n, "44") || key_is(v, n, "46");
	if (key_is(arch, an, "c00000b7"))
		return key_is(v, n, "203") || key_is(v, n, "206") || key_is(v, n, "211");
	return false;
}

static bool user_value(const char *v, size_t n)
{
	return n && !key_is(v, n, "4294967295") && !key_is(v, n, "unset") && !key_is(v, n, "?") &&
	       !key_is(v, n, "(null)");
}

/* One line's fields (after "msg=audit(...):") into group g. */
static void fields(agroup *g, const char *type, size_t tn, const char *p, const char *end)
{
	sk_logbuild *b = &g->b;
	const char *arch = "", *pname = NULL;
	size_t archn = 0, pnamen = 0;
	bool parent = false;

	while (p < end) {
		const char *k, *v;
		size_t kn, n;
		bool quoted = false;
		while (p < end && (*p == ' ' || *p == '\'' || *p == 0x1d))
			p++;
		k = p;
		while (p < end && *p != '=' && *p != ' ' && *p != 0x1d)
			p++;
		if (p >= end || *p != '=') {
			continue;
		}
		kn = (size_t)(p - k);
		p++;
		if (p < end && *p == '"') {
			v = ++p;
			while (p < end && *p != '"')
				p++;
			n = (size_t)(p - v);
			if (p < end)
				p++;
			quoted = true;
		} else {
			v = p;
			while (p < end && *p != ' ' && *p != '\'' && *p != 0x1d)
				p++;
			n = (size_t)(p - v);
		}
		if (!n)
			continue;
		if (key_is(k, kn, "saddr")) {
			sockaddr(g, v, n);
			continue;
		}
		if (!quoted && key_is(v, n, "(null)"))
			continue;
		/* the value into the arena: the line does not outlive this call */
		if (!quoted && untrusted(k, kn) && all_hex(v, n))
			v = unhex(g, v, n, &n);
		else
			v = sk_logrec_scratch(b, v, n);
		if (!v)
			continue;
		if (key_is(type, tn, "EXECVE") && k[0] == 'a' && kn >= 2 && k[1] >= '0' &&
		    k[1] <= '9') {
			const char *br = memchr(k, '[', kn);
			if (br || !memchr(k, '_', kn)) {
				cmd_append(g, v, n,
				           !br || (kn > 2 && br[1] == '0' && br[2] == ']'));
				g->execve = true;
			}
		} else if (key_is(k, kn, "proctitle")) {
			char *t = (char *)v;
			while (n && !t[n - 1])
				n--;
			for (size_t i = 0; i < n; i++)
				if (!t[i])
					t[i] = ' ';
			g->title = t;
			g->titlen = n;
		} else if (key_is(k, kn, "arch")) {
			arch = v;
			archn = n;
		} else if (key_is(k, kn, "syscall") || key_is(k, kn, "SYSCALL")) {
			if (sending_syscall(arch, archn, v, n))
				g->sa_dst = true;
		} else if (key_is(k, kn, "exe")) {
			sk_logrec_add_path(b, "exe", v, n, true);
		} else if (key_is(k, kn, "comm")) {
			sk_logrec_add_text(b, SK_OBS_PROCESS, "comm", v, n);
		} else if (key_is(k, kn, "cwd")) {
			sk_logrec_add_dir(b, "cwd", v, n);
		} else if (key_is(k, kn, "name") && key_is(type, tn, "PATH")) {
			pname = v;
			pnamen = n;
		} else if (key_is(k, kn, "nametype")) {
			parent = key_is(v, n, "PARENT");
		} else if (key_is(k, kn, "cmd")) {
			sk_logrec_add_text(b, SK_OBS_CMDLINE, "cmd", v, n);
		} else if (key_is(k, kn, "acct") || key_is(k, kn, "uid") || key_is(k, kn, "auid") ||
		           key_is(k, kn, "euid") || key_is(k, kn, "UID") || key_is(k, kn, "AUID") ||
		           key_is(k, kn, "EUID") || key_is(k, kn, "ACCT")) {
			static const char *const f[] = {"acct", "uid", "auid", "euid"};
			const char *fn = f[0];
			for (int i = 0; i < 4; i++)
				if (strlen(f[i]) == kn && !strncasecmp(f[i], k, kn))
					fn = f[i];
			if (user_value(v, n))
				sk_logrec_add_text(b, SK_OBS_USER, fn, v, n);
		} else if (key_is(k, kn, "addr") || key_is(k, kn, "laddr")) {
			sk_logrec_add_ip(b, SK_ROLE_SRC, "addr", v, n);
		} else if (key_is(k, kn, "hostname")) {
			if (!key_is(v, n, "?"))
				sk_logrec_add_host(b, SK_ROLE_NONE, "hostname", v, n);
		}
	}
	if (pname) {
		if (parent)
			sk_logrec_add_dir(b, "name", pname, pnamen);
		else
			sk_logrec_add_path(b, "name", pname, pnamen, false);
	}
}

/* Complete group a->cur into b's record; the next event goes to the other slot. */
static int emit(sk_audit_state *a, sk_logbuild *b)
{
	agroup *g = &a->g[a->cur];
	if (g->execve && g->cmdn) {
		const char *c = sk_logrec_scratch(&g->b, g->cmd, g->cmdn);
		if (c)
			sk_logrec_add_text(&g->b, SK_OBS_CMDLINE, "execve", c, g->cmdn);
	} else if (g->title && g->titlen) {
		sk_logrec_add_text(&g->b, SK_OBS_CMDLINE, "proctitle", g->title, g->titlen);
	}
	if (g->sa_ip) {
		sk_obs_role r = g->sa_dst ? SK_ROLE_DST : SK_ROLE_NONE;
		sk_logrec_add_ip(&g->b, r, "saddr", g->sa_ip, g->sa_ipn);
		if (r != SK_ROLE_NONE)
			sk_logrec_add_port(&g->b, r, "saddr", g->sa_port, g->sa_portn);
	}
	memcpy(b->rec, &g->rec, sizeof(g->rec));
	g->active = false;
	a->cur ^= 1;
	return LF_RECORD;
}

static void begin(agroup *g, const sk_logrec *at, const char *type, size_t tn, const char *ser,
                  size_t sn)
{
	const char *ts_end = memchr(ser, ':', sn);
	sk_logrec_begin(&g->b, NULL, 0, at->line, at->offset);
	g->active = true;
	memcpy(g->serial, ser, sn);
	g->sn = sn;
	g->cmdn = 0;
	g->execve = false;
	g->title = g->sa_ip = g->sa_port = NULL;
	g->sa_dst = false;
	g->rec.raw = sk_logrec_scratch(&g->b, at->raw, at->raw_len);
	g->rec.raw_len = g->rec.raw ? at->raw_len : 0;
	if (!sk_logts_epoch(ser, (size_t)(ts_end - ser), &g->rec.ts_us))
		g->rec.ts_us = 0;
	g->rec.event = sk_logrec_scratch(&g->b, type, tn);
	g->rec.event_len = g->rec.event ? (uint32_t)tn : 0;
}

int sk_logfmt_audit_line(sk_audit_state *a, sk_logbuild *b, const char *line, size_t len,
                         const char **reason)
{
	const char *end = line + len, *t, *ser, *p;
	size_t tn, sn;
	int k = LF_SKIP;
	agroup *g;
	sk_logrec at; /* this line's place: emitting an event overwrites b->rec */

	if (!len)
		return LF_SKIP;
	t = find(line, len, "type=");
	ser = sk_logfmt_audit_serial(line, len, &sn);
	if (!t || !ser || ser < t || sn >= sizeof(a->g[0].serial) || !memchr(ser, '.', sn)) {
		*reason = "not an audit record (\"type=... msg=audit(SECONDS:SERIAL):\")";
		return LF_MALFORMED;
	}
	t += 5;
	for (tn = 0; t + tn < end && t[tn] != ' '; tn++)
		;
	at.line = b->rec->line;
	at.offset = b->rec->offset;
	at.raw = line;
	at.raw_len = len;
	p = ser + sn + 1;
	if (p < end && *p == ':')
		p++;
	g = &a->g[a->cur];
	if (g->active && (g->sn != sn || memcmp(g->serial, ser, sn))) {
		k = emit(a, b);
		g = &a->g[a->cur];
	}
	if (tn == 3 && !memcmp(t, "EOE", 3))
		return g->active ? emit(a, b) : k;
	if (!g->active)
		begin(g, &at, t, tn, ser, sn);
	fields(g, t, tn, p, end);
	return k;
}

int sk_logfmt_audit_flush(sk_audit_state *a, sk_logbuild *b)
{
	if (!a->g[a->cur].active)
		return LF_SKIP;
	return emit(a, b);
}
