/*
 * psl.c - Public Suffix List lookups (rules loaded from the .dat file).
 *
 * Rules go into one open-addressing hash table keyed by (type, text):
 * normal rules "co.uk", wildcards "*.ck" stored as "ck" with type WILD, and
 * exceptions "!www.ck" stored as "www.ck" with type EXCEPT.  A lookup tries
 * each suffix of the name from the longest, so the first hit is the longest
 * matching rule, which is what the PSL algorithm asks for.
 */
#include "schakel/psl.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PSL_MAX_FILE ((size_t)16 << 20)

enum { R_NORMAL = 1, R_WILD = 2, R_EXCEPT = 3 };

struct slot {
	uint32_t off; /* into text */
	uint16_t len;
	uint8_t type; /* 0 = empty */
};

struct sk_psl {
	char *text; /* all rule texts, lowercase, back to back */
	size_t text_len;
	struct slot *slots;
	size_t mask, count;
};

static uint64_t hash(const char *s, size_t n, unsigned type)
{
	uint64_t h = 1469598103934665603ULL ^ type;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

static const struct slot *find(const sk_psl *p, const char *s, size_t n, unsigned type)
{
	size_t i = (size_t)hash(s, n, type) & p->mask;
	for (;;) {
		const struct slot *sl = &p->slots[i];
		if (!sl->type)
			return NULL;
		if (sl->type == type && sl->len == n && memcmp(p->text + sl->off, s, n) == 0)
			return sl;
		i = (i + 1) & p->mask;
	}
}

static void insert(sk_psl *p, uint32_t off, size_t n, unsigned type)
{
	const char *s = p->text + off;
	if (find(p, s, n, type))
		return;
	size_t i = (size_t)hash(s, n, type) & p->mask;
	while (p->slots[i].type)
		i = (i + 1) & p->mask;
	p->slots[i].off = off;
	p->slots[i].len = (uint16_t)n;
	p->slots[i].type = (uint8_t)type;
	p->count++;
}

sk_err sk_psl_load_mem(const char *text, size_t len, sk_psl **out, sk_error *err)
{
	sk_psl *p = calloc(1, sizeof(*p));
	size_t lines = 1, slots = 16;
	sk_err rc = SK_OK;

	*out = NULL;
	if (!p)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (len > PSL_MAX_FILE) {
		rc = sk_error_set(err, SK_ELIMIT, "public suffix list larger than 16 MiB");
		goto out;
	}
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	while (slots < lines * 2)
		slots <<= 1;
	p->slots = calloc(slots, sizeof(*p->slots));
	p->text = malloc(len + 1);
	if (!p->slots || !p->text) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	p->mask = slots - 1;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - text) : len;
		size_t a = i, b;
		i = e + 1;
		/* a rule is the first whitespace-delimited word of a line */
		while (a < e && (text[a] == ' ' || text[a] == '\t'))
			a++;
		b = a;
		while (b < e && text[b] != ' ' && text[b] != '\t' && text[b] != '\r')
			b++;
		if (b == a || (b - a >= 2 && text[a] == '/' && text[a + 1] == '/'))
			continue;
		unsigned type = R_NORMAL;
		if (text[a] == '!') {
			type = R_EXCEPT;
			a++;
		} else if (b - a >= 2 && text[a] == '*' && text[a + 1] == '.') {
			type = R_WILD;
			a += 2;
		}
		if (b == a || b - a > 253)
			continue;
		uint32_t off = (uint32_t)p->text_len;
		for (size_t k = a; k < b; k++) {
			char c = text[k];
			p->text[p->text_len++] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
		}
		insert(p, off, b - a, type);
	}
	if (p->count == 0) {
		rc = sk_error_set(err, SK_EINVAL, "public suffix list holds no rule");
		goto out;
	}
out:
	if (rc) {
		sk_psl_free(p);
		return rc;
	}
	*out = p;
	return SK_OK;
}

sk_err sk_psl_load(const char *path, sk_psl **out, sk_error *err)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	sk_err rc = SK_OK;

	*out = NULL;
	if (!path)
		path = SK_PSL_DEFAULT_PATH;
	f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return sk_error_set(err, SK_ENOTFOUND, "%s: not found", path);
		return sk_error_set(err, SK_EIO, "%s: cannot open: %s", path, strerror(errno));
	}
	for (;;) {
		if (cap - len < 65536) {
			if (cap >= PSL_MAX_FILE) {
				rc = sk_error_set(err, SK_ELIMIT, "%s: larger than 16 MiB", path);
				goto out;
			}
			cap = cap ? cap * 2 : 262144;
			char *nb = realloc(buf, cap);
			if (!nb) {
				rc = sk_error_set(err, SK_ENOMEM, "out of memory");
				goto out;
			}
			buf = nb;
		}
		size_t k = fread(buf + len, 1, cap - len, f);
		len += k;
		if (k == 0) {
			if (ferror(f))
				rc = sk_error_set(err, SK_EIO, "%s: read error", path);
			break;
		}
	}
	if (!rc) {
		rc = sk_psl_load_mem(buf, len, out, err);
		if (rc)
			sk_error_prefix(err, "%s", path);
	}
out:
	fclose(f);
	free(buf);
	return rc;
}

void sk_psl_free(sk_psl *p)
{
	if (!p)
		return;
	free(p->text);
	free(p->slots);
	free(p);
}

size_t sk_psl_count(const sk_psl *p)
{
	return p ? p->count : 0;
}

static bool tld_syntax(const char *s, size_t n)
{
	if (n >= 4 && memcmp(s, "xn--", 4) == 0)
		return n <= 63;
	if (n < 2 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)((s[i] | 0x20) - 'a') >= 26u)
			return false;
	return true;
}

size_t sk_psl_suffix_len(const sk_psl *p, const char *name, size_t n, bool *listed)
{
	char buf[256];
	size_t last;

	if (listed)
		*listed = false;
	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		buf[i] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
	}
	last = n;
	while (last > 0 && buf[last - 1] != '.')
		last--;
	if (last == n || (last > 0 && last == 1))
		return 0; /* empty last label, or ".x" */
	if (!p) {
		bool ok = tld_syntax(buf + last, n - last);
		if (listed)
			*listed = ok;
		return ok ? n - last : 0;
	}
	for (size_t i = 0; i <= last;) {
		const char *s = buf + i;
		size_t sn = n - i;
		if (find(p, s, sn, R_EXCEPT)) {
			const char *dot = memchr(s, '.', sn);
			if (listed)
				*listed = true;
			return dot ? sn - (size_t)(dot + 1 - s) : sn;
		}
		if (find(p, s, sn, R_NORMAL)) {
			if (listed)
				*listed = true;
			return sn;
		}
		const char *dot = memchr(s, '.', sn);
		if (dot && find(p, dot + 1, sn - (size_t)(dot + 1 - s), R_WILD)) {
			if (listed)
				*listed = true;
			return sn;
		}
		if (!dot)
			break;
		i = (size_t)(dot + 1 - buf);
	}
	return n - last; /* the implicit "*" rule */
}

long sk_psl_registrable(const sk_psl *p, const char *name, size_t n)
{
	size_t sl = sk_psl_suffix_len(p, name, n, NULL);
	if (n && name[n - 1] == '.')
		n--;
	if (sl == 0 || sl >= n)
		return -1;
	size_t i = n - sl - 1; /* the dot before the suffix */
	if (i == 0)
		return -1;
	while (i > 0 && name[i - 1] != '.')
		i--;
	if (i == n - sl - 1)
		return -1; /* empty label */
	return (long)i;
}
