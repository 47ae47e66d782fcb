/*
 * feed.c - the plain-feed importer: lines in, STIX indicators out.
 *
 * Hot path (maltrail has ~1.9 M rows): lines are cut out of 256 KiB read
 * blocks with memchr, fields are split in place, the indicator JSON is written
 * with sk_buf (no jansson), validated with the arena parser, and stored with
 * sk_store_put in batches of SK_FEED_DEFAULT_BATCH per transaction.  Memory is
 * flat: one line buffer, one JSON buffer, one parse arena.
 *
 * Re-import: before building an indicator its deterministic id is looked up.
 * A stored id is not rebuilt (its first version stays); it only gets added
 * to the collection if it is not there yet.  See feed.h.
 */
#include "schakel/feed.h"
#include "feeds/feed_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include "schakel/json.h"
#include "schakel/stix.h"
#include "schakel/timestamp.h"
#include "schakel/uuid.h"
#include "store/store_priv.h"
#include "core/utf8.h"

/* Namespace of the UUIDv5 ids schakel derives for feed objects (fixed forever). */
#define FEED_NS "8f3c2a61-5b7e-4d0a-9c1e-6a2f4b8d7e93"

#define READ_BLOCK (256u << 10)
#define NAME_MAX_BYTES 256

void sk_feed_producer_id(const char *producer, char out[64])
{
	char u[SK_UUID_LEN + 1];
	sk_buf b;
	sk_buf_init(&b, 4096);
	if (sk_buf_puts(&b, "identity\n") || sk_buf_puts(&b, producer ? producer : ""))
		b.len = 0;
	sk_uuid_v5(FEED_NS, b.data ? b.data : "", b.len, u);
	snprintf(out, 64, "identity--%s", u);
	sk_buf_free(&b);
}

/* --- csv column map ------------------------------------------------------ */

#define CSV_MAX_COLS 64

typedef struct csv_map {
	bool have_header;
	int value, kind, name;         /* 0-based column, -1 none */
	int label[SK_FEED_MAX_LABELS]; /* 0-based columns */
	size_t nlabel;
	/* columns named by the user, resolved against the header */
	char spec[512];
} csv_map;

/* --- the import context -------------------------------------------------- */

typedef struct ctx {
	sk_store *st; /* NULL in check mode */
	const sk_feed_opts *o;
	sk_feed_stats *stats;
	const char *name; /* input name for messages */
	char producer_id[64];
	const char *marking_id;
	char ts[SK_TS_STR_MAX];
	sk_buf norm, pattern, json, key, re;
	sk_jdoc *doc;
	sqlite3_stmt *q_find, *q_incoll, *q_json;
	size_t in_batch;
	bool in_tx;
	csv_map csv;
	sk_error lerr; /* per-line reasons */
	/* the constant parts of every indicator, formatted once */
	char head[256], mid[192], tail[192];
	size_t head_len, mid_len, tail_len;
} ctx;

static void reject(ctx *c, uint64_t line, const char *msg)
{
	c->stats->rejected++;
	if (c->o->on_reject)
		c->o->on_reject(c->o->ud, c->name, line, msg && *msg ? msg : "invalid line");
}

static sk_err prepare(ctx *c, sk_error *err)
{
	sqlite3 *db = sk_store_sqlite(c->st);
	/*
	 * Feed ids are random-looking UUIDs, so every insert lands on a random
	 * page of the id index; with the default 32 MiB page cache a feed of a
	 * million rows re-reads and rewrites those pages over and over.  A
	 * larger (still bounded) cache for the import keeps them in memory.
	 */
	const char *cs = getenv("SK_FEED_CACHE_MB");
	char pragma[64];
	snprintf(pragma, sizeof(pragma), "PRAGMA cache_size=-%ld", (cs ? atol(cs) : 256) * 1024);
	sqlite3_exec(db, pragma, NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db,
			       "SELECT ver, version FROM objects WHERE id=?1",
			       -1, &c->q_find, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT 1 FROM collection_objects WHERE coll=?1 AND ver=?2",
			       -1, &c->q_incoll, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT json FROM objects WHERE ver=?1", -1, &c->q_json,
			       NULL) != SQLITE_OK)
		return sk_store_dberr(c->st, err, "feed import");
	return SK_OK;
}

static sk_err tx_begin(ctx *c, sk_error *err)
{
	sk_err rc;
	if (!c->st || c->in_tx)
		return SK_OK;
	if ((rc = sk_store_begin(c->st, err)) ||
	    (rc = sk_store_defer_search(c->st, true, err))) /* indexed after the import */
		return rc;
	c->in_tx = true;
	c->in_batch = 0;
	return SK_OK;
}

static sk_err tx_commit(ctx *c, sk_error *err)
{
	if (!c->st || !c->in_tx)
		return SK_OK;
	c->in_tx = false;
	return sk_store_commit(c->st, err);
}

static void count_outcome(ctx *c, sk_put_outcome out)
{
	if (out == SK_PUT_NEW)
		c->stats->stored++;
	else if (out == SK_PUT_ADDED)
		c->stats->added++;
	else
		c->stats->duplicate++;
}

/*
 * Validate and store text as a new object.  In check mode only validate.
 */
static sk_err put_text(ctx *c, const char *text, size_t len, sk_put_outcome *out,
		       sk_error *err)
{
	sk_stix_info info;
	sk_err rc = sk_stix_validate_text(c->doc, text, len, &info, err);
	if (rc)
		return rc;
	if (!c->st) {
		*out = SK_PUT_NEW;
		return SK_OK;
	}
	return sk_store_put(c->st, c->o->cid, &info, text, len, out, NULL, err);
}

/*
 * If id is stored, make sure it is in the collection (*found = true, *out
 * says what happened).  Otherwise *found = false and nothing is done.
 */
static sk_err find_existing(ctx *c, const char *id, bool *found, sk_put_outcome *out,
			    sk_error *err)
{
	int64_t ver = 0;
	char best[SK_TS_KEY_LEN + 1] = "";
	int step;
	sk_err rc = SK_OK;

	*found = false;
	if (!c->st)
		return SK_OK;
	/* the newest version (no ORDER BY: that costs SQLite a sorter per call) */
	sqlite3_reset(c->q_find);
	sqlite3_bind_text(c->q_find, 1, id, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(c->q_find)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(c->q_find, 1);
		if (!*found || (v && strcmp(v, best) > 0)) {
			ver = sqlite3_column_int64(c->q_find, 0);
			snprintf(best, sizeof(best), "%s", v ? v : "");
			*found = true;
		}
	}
	sqlite3_reset(c->q_find);
	if (step != SQLITE_DONE)
		return sk_store_dberr(c->st, err, id);
	if (!*found)
		return SK_OK;
	*found = true;
	*out = SK_PUT_DUPLICATE;
	if (!c->o->cid)
		return SK_OK;
	sqlite3_reset(c->q_incoll);
	sqlite3_bind_int64(c->q_incoll, 1, c->o->cid);
	sqlite3_bind_int64(c->q_incoll, 2, ver);
	step = sqlite3_step(c->q_incoll);
	sqlite3_reset(c->q_incoll);
	if (step == SQLITE_ROW)
		return SK_OK;
	if (step != SQLITE_DONE)
		return sk_store_dberr(c->st, err, id);
	/* stored, but not in this collection: add that version */
	sqlite3_reset(c->q_json);
	sqlite3_bind_int64(c->q_json, 1, ver);
	if (sqlite3_step(c->q_json) != SQLITE_ROW) {
		rc = sk_store_dberr(c->st, err, id);
	} else {
		const char *j = (const char *)sqlite3_column_text(c->q_json, 0);
		int n = sqlite3_column_bytes(c->q_json, 0);
		sk_buf_reset(&c->key);
		rc = sk_buf_append(&c->key, j, (size_t)n);
		if (!rc)
			rc = put_text(c, c->key.data, c->key.len, out, err);
	}
	sqlite3_reset(c->q_json);
	return rc;
}

/* Store a fixed object (identity, marking) unless its id is already stored. */
static sk_err ensure_object(ctx *c, const char *id, const char *text, sk_error *err)
{
	sk_put_outcome out;
	bool found;
	sk_err rc = find_existing(c, id, &found, &out, err);
	if (!rc && !found)
		rc = put_text(c, text, strlen(text), &out, err);
	return rc;
}

static sk_err ensure_producer(ctx *c, sk_error *err)
{
	sk_buf b;
	sk_err rc;

	sk_buf_init(&b, 1 << 16);
	rc = sk_buf_printf(&b,
			   "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"%s\","
			   "\"created\":\"%s\",\"modified\":\"%s\",\"name\":",
			   c->producer_id, c->ts, c->ts);
	if (!rc)
		rc = sk_buf_put_json_string(&b, c->o->producer, strlen(c->o->producer));
	if (!rc)
		rc = sk_buf_puts(&b, ",\"identity_class\":\"organization\"}");
	if (rc)
		rc = sk_error_set(err, rc, "producer identity: %s", sk_strerror(rc));
	else
		rc = ensure_object(c, c->producer_id, b.data, err);
	sk_buf_free(&b);
	return rc;
}

/* Copy at most NAME_MAX_BYTES of s, not cutting a UTF-8 sequence. */
static size_t name_len(const char *s, size_t n)
{
	if (n <= NAME_MAX_BYTES)
		return n;
	n = NAME_MAX_BYTES;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

typedef struct entry {
	sk_feed_kind kind;
	const char *name; /* or NULL: the value */
	size_t name_n;
	const char *labels[SK_FEED_MAX_LABELS];
	size_t label_n[SK_FEED_MAX_LABELS];
	size_t nlabels;
	const char *desc; /* or NULL */
} entry;

static bool has_label(const ctx *c, const entry *e, size_t upto, const char *s, size_t n)
{
	for (size_t i = 0; i < c->o->nlabels; i++)
		if (strlen(c->o->labels[i]) == n && !memcmp(c->o->labels[i], s, n))
			return true;
	for (size_t i = 0; i < upto; i++)
		if (e->label_n[i] == n && !memcmp(e->labels[i], s, n))
			return true;
	return false;
}

/* Build the indicator for the normalised value in c->norm (kind e->kind). */
static sk_err build(ctx *c, const entry *e, const char *uuid)
{
	sk_buf *b = &c->json;
	const char *nm = e->name ? e->name : c->norm.data;
	size_t nn = e->name ? e->name_n : c->norm.len;
	bool any = false;
	sk_err rc;

	sk_buf_reset(b);
	rc = sk_buf_puts(b, "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--");
	if (!rc)
		rc = sk_buf_append(b, uuid, SK_UUID_LEN);
	if (!rc)
		rc = sk_buf_append(b, c->head, c->head_len);
	if (!rc)
		rc = sk_buf_put_json_string(b, nm, name_len(nm, nn));
	if (!rc && e->desc) {
		rc = sk_buf_puts(b, ",\"description\":");
		if (!rc)
			rc = sk_buf_put_json_string(b, e->desc, strlen(e->desc));
	}
	if (!rc)
		rc = sk_buf_puts(b, ",\"indicator_types\":[\"malicious-activity\"],\"pattern\":");
	if (!rc)
		rc = sk_buf_put_json_string(b, c->pattern.data, c->pattern.len);
	if (!rc)
		rc = sk_buf_append(b, c->mid, c->mid_len);
	for (size_t i = 0; !rc && i < c->o->nlabels; i++) {
		rc = sk_buf_puts(b, any ? "," : ",\"labels\":[");
		if (!rc)
			rc = sk_buf_put_json_string(b, c->o->labels[i], strlen(c->o->labels[i]));
		any = true;
	}
	for (size_t i = 0; !rc && i < e->nlabels; i++) {
		if (e->label_n[i] == 0 || has_label(c, e, i, e->labels[i], e->label_n[i]))
			continue;
		rc = sk_buf_puts(b, any ? "," : ",\"labels\":[");
		if (!rc)
			rc = sk_buf_put_json_string(b, e->labels[i], e->label_n[i]);
		any = true;
	}
	if (!rc && any)
		rc = sk_buf_putc(b, ']');
	if (!rc)
		rc = sk_buf_append(b, c->tail, c->tail_len);
	return rc;
}

/*
 * One valid value (already in c->norm): pattern, id, and store unless known.
 * Returns an error only for failures that must stop the import (database);
 * a problem with the entry itself is a rejected line.
 */
static sk_err emit(ctx *c, uint64_t line, const entry *e, sk_error *err)
{
	char uuid[SK_UUID_LEN + 1], id[64];
	sk_put_outcome out = SK_PUT_DUPLICATE;
	bool found = false;
	sk_err rc;

	sk_buf_reset(&c->pattern);
	if (sk_feed_pattern(e->kind, c->norm.data, c->norm.len, &c->pattern)) {
		reject(c, line, "indicator too long");
		return SK_OK;
	}
	/* id = UUIDv5(producer "\n" pattern) */
	sk_buf_reset(&c->key);
	if (sk_buf_puts(&c->key, c->o->producer) || sk_buf_putc(&c->key, '\n') ||
	    sk_buf_append(&c->key, c->pattern.data, c->pattern.len)) {
		reject(c, line, "indicator too long");
		return SK_OK;
	}
	sk_uuid_v5(FEED_NS, c->key.data, c->key.len, uuid);
	snprintf(id, sizeof(id), "indicator--%s", uuid);
	if ((rc = tx_begin(c, err)))
		return rc;
	if ((rc = find_existing(c, id, &found, &out, err)))
		return rc;
	if (c->st && (rc = sk_feed_named_note(c->st, c->o, id, found, c->stats, err)))
		return rc;
	if (!found) {
		sk_error_clear(&c->lerr);
		if (build(c, e, uuid)) {
			reject(c, line, "indicator too long");
			return SK_OK;
		}
		rc = put_text(c, c->json.data, c->json.len, &out, &c->lerr);
		if (rc == SK_EPERM || rc == SK_ECONFLICT) { /* the write rule: another's id */
			reject(c, line, c->lerr.msg);
			return SK_OK;
		}
		if (rc == SK_ESTIX || rc == SK_EJSON || rc == SK_EINVAL || rc == SK_ELIMIT) {
			/* our own JSON failed validation: a bug, but not a reason to stop */
			sk_error_prefix(&c->lerr, "internal: built an invalid indicator");
			reject(c, line, c->lerr.msg);
			return SK_OK;
		}
		if (rc) {
			if (err)
				*err = c->lerr;
			return rc;
		}
	}
	c->stats->entries++;
	c->stats->kinds[e->kind < SK_FK__COUNT ? e->kind : 0]++;
	count_outcome(c, out);
	if (c->st && ++c->in_batch >= (c->o->batch ? c->o->batch : SK_FEED_DEFAULT_BATCH))
		return tx_commit(c, err);
	return SK_OK;
}

/* --- line splitting ------------------------------------------------------ */

static size_t trim(const char **s, size_t n)
{
	while (n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		n--;
	}
	while (n && ((*s)[n - 1] == ' ' || (*s)[n - 1] == '\t' || (*s)[n - 1] == '\r'))
		n--;
	return n;
}

/* Split s[0..n) at sep into at most max fields (the last takes the rest). */
static size_t split(char *s, size_t n, char sep, const char **f, size_t *fl, size_t max)
{
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= n && k < max; i++) {
		if (i == n || (s[i] == sep && k + 1 < max)) {
			f[k] = s + start;
			fl[k] = trim(&f[k], i - start);
			k++;
			start = i + 1;
		}
	}
	return k;
}

/* Check value as kind (or detect), into c->norm; reject the line on failure. */
static bool value_ok(ctx *c, uint64_t line, const char *v, size_t n, sk_feed_kind *k, bool detect)
{
	sk_err rc;
	sk_error_clear(&c->lerr);
	rc = detect ? sk_feed_classify(v, n, k, &c->norm, &c->lerr)
		    : sk_feed_normalise(k, v, n, &c->norm, &c->lerr);
	if (rc) {
		reject(c, line, c->lerr.msg[0] ? c->lerr.msg : sk_strerror(rc));
		return false;
	}
	return true;
}

static sk_err line_maltrail(ctx *c, uint64_t line, char *s, size_t n, sk_error *err)
{
	const char *f[4];
	size_t fl[4], nf;
	entry e = {0};
	bool detect;

	nf = split(s, n, '\t', f, fl, 4);
	if (nf < 2 || fl[0] == 0) {
		reject(c, line, "expected indicator<TAB>kind<TAB>category<TAB>name");
		return SK_OK;
	}
	if (!sk_feed_maltrail_kind(f[1], fl[1], &e.kind, &detect)) {
		char msg[96];
		snprintf(msg, sizeof(msg), "unknown kind '%.*s'", (int)(fl[1] > 40 ? 40 : fl[1]),
			 f[1]);
		reject(c, line, msg);
		return SK_OK;
	}
	if (!value_ok(c, line, f[0], fl[0], &e.kind, detect))
		return SK_OK;
	for (size_t i = 2; i < nf; i++) {
		e.labels[e.nlabels] = f[i];
		e.label_n[e.nlabels++] = fl[i];
	}
	return emit(c, line, &e, err);
}

static sk_err line_ipsum(ctx *c, uint64_t line, char *s, size_t n, sk_error *err)
{
	const char *f[2];
	size_t fl[2], nf;
	entry e = {0};
	char desc[80];
	unsigned count = 0;

	nf = split(s, n, '\t', f, fl, 2);
	if (nf == 2 && fl[1]) {
		for (size_t i = 0; i < fl[1]; i++) {
			if (f[1][i] < '0' || f[1][i] > '9' || count > 100000000) {
				reject(c, line, "expected ip<TAB>count");
				return SK_OK;
			}
			count = count * 10 + (unsigned)(f[1][i] - '0');
		}
		snprintf(desc, sizeof(desc), "Listed on %u blacklists (ipsum).", count);
		e.desc = desc;
	}
	e.kind = SK_FK_IPV4;
	if (!value_ok(c, line, f[0], fl[0], &e.kind, true))
		return SK_OK;
	if (e.kind != SK_FK_IPV4 && e.kind != SK_FK_IPV6) {
		reject(c, line, "expected an IP address");
		return SK_OK;
	}
	return emit(c, line, &e, err);
}

static sk_err line_lines(ctx *c, uint64_t line, char *s, size_t n, sk_error *err)
{
	entry e = {0};
	size_t i = 0;
	/* the first whitespace-separated field; the rest of the line is a comment */
	while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
		i++;
	if (!value_ok(c, line, s, i, &e.kind, true))
		return SK_OK;
	return emit(c, line, &e, err);
}

/* --- csv ----------------------------------------------------------------- */

/*
 * Split one CSV record in place (RFC 4180 quoting, "" inside quotes; the
 * quotes are removed and the field text moved left).  Returns the number of
 * fields, or -1 if a quote is unterminated or stray.
 */
static int csv_split(char *s, size_t n, const char **f, size_t *fl, int max)
{
	int k = 0;
	size_t i = 0;
	for (;;) {
		size_t o = i;
		char *start = s + i;
		if (k == max)
			return -1;
		if (i < n && s[i] == '"') {
			i++;
			for (;;) {
				if (i >= n)
					return -1;
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"') {
						s[o++] = '"';
						i += 2;
						continue;
					}
					i++;
					break;
				}
				s[o++] = s[i++];
			}
			if (i < n && s[i] != ',')
				return -1;
		} else {
			while (i < n && s[i] != ',') {
				if (s[i] == '"')
					return -1;
				i++;
			}
			o = i;
		}
		f[k] = start;
		fl[k] = trim(&f[k], (size_t)(s + o - start));
		k++;
		if (i >= n)
			return k;
		i++; /* the comma */
	}
}

static int col_find(const char **h, const size_t *hl, int nh, const char *name, size_t n)
{
	char *end;
	long v;
	char tmp[16];
	if (n && n < sizeof(tmp)) {
		memcpy(tmp, name, n);
		tmp[n] = '\0';
		v = strtol(tmp, &end, 10);
		if (*end == '\0' && v >= 1 && v <= nh)
			return (int)v - 1;
	}
	for (int i = 0; i < nh; i++)
		if (hl[i] == n && !strncasecmp(h[i], name, n))
			return i;
	return -1;
}

static int col_guess(const char **h, const size_t *hl, int nh, const char *const *names)
{
	for (size_t j = 0; names[j]; j++) {
		int i = col_find(h, hl, nh, names[j], strlen(names[j]));
		if (i >= 0)
			return i;
	}
	return -1;
}

/* Resolve the column map against the header line. */
static sk_err csv_header(ctx *c, char *s, size_t n, sk_error *err)
{
	static const char *const v_names[] = {"indicator", "ioc", "value", "observable", "ip",
					      "domain", "url", "hash", NULL};
	static const char *const k_names[] = {"kind", "type", NULL};
	static const char *const l_names[] = {"category", "label", "labels", "tags", "threat",
					      "malware", NULL};
	const char *h[CSV_MAX_COLS];
	size_t hl[CSV_MAX_COLS];
	int nh = csv_split(s, n, h, hl, CSV_MAX_COLS);
	csv_map *m = &c->csv;

	if (nh < 1)
		return sk_error_set(err, SK_EINVAL, "%s: the csv header line is malformed",
				    c->name);
	m->have_header = true;
	m->value = m->kind = m->name = -1;
	m->nlabel = 0;
	if (!c->o->columns) {
		m->value = col_guess(h, hl, nh, v_names);
		m->kind = col_guess(h, hl, nh, k_names);
		for (size_t j = 0; l_names[j] && m->nlabel < SK_FEED_MAX_LABELS; j++) {
			int i = col_find(h, hl, nh, l_names[j], strlen(l_names[j]));
			if (i >= 0)
				m->label[m->nlabel++] = i;
		}
	} else {
		const char *p = c->o->columns;
		while (*p) {
			const char *comma = strchr(p, ','), *eq;
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			int col;
			eq = memchr(p, '=', len);
			if (!eq)
				return sk_error_set(err, SK_EINVAL,
						    "--column: '%.*s' is not ROLE=COLUMN", (int)len,
						    p);
			col = col_find(h, hl, nh, eq + 1, len - (size_t)(eq + 1 - p));
			if (col < 0)
				return sk_error_set(err, SK_EINVAL,
						    "--column: %s has no column '%.*s'", c->name,
						    (int)(len - (size_t)(eq + 1 - p)), eq + 1);
			if (eq - p == 5 && !strncmp(p, "value", 5))
				m->value = col;
			else if (eq - p == 4 && !strncmp(p, "kind", 4))
				m->kind = col;
			else if (eq - p == 4 && !strncmp(p, "name", 4))
				m->name = col;
			else if (eq - p == 5 && !strncmp(p, "label", 5) &&
				 m->nlabel < SK_FEED_MAX_LABELS)
				m->label[m->nlabel++] = col;
			else
				return sk_error_set(err, SK_EINVAL,
						    "--column: unknown role '%.*s' (value, kind, "
						    "label, name)",
						    (int)(eq - p), p);
			p += len;
			if (*p == ',')
				p++;
		}
	}
	if (m->value < 0)
		return sk_error_set(err, SK_EINVAL,
				    "%s: no indicator column in the csv header (use --column "
				    "value=NAME)",
				    c->name);
	return SK_OK;
}

static sk_err line_csv(ctx *c, uint64_t line, char *s, size_t n, sk_error *err)
{
	unsigned family = 0; /* a generic kind ("ip", "hash"): detect, then check */
	const char *f[CSV_MAX_COLS];
	size_t fl[CSV_MAX_COLS];
	entry e = {0};
	bool detect = true;
	int nf;

	if (!c->csv.have_header)
		return csv_header(c, s, n, err);
	nf = csv_split(s, n, f, fl, CSV_MAX_COLS);
	if (nf < 0) {
		reject(c, line, "malformed csv record (quotes, or more than 64 fields)");
		return SK_OK;
	}
	if (c->csv.value >= nf || fl[c->csv.value] == 0) {
		reject(c, line, "no indicator in this record");
		return SK_OK;
	}
	if (c->csv.kind >= 0 && c->csv.kind < nf && fl[c->csv.kind]) {
		bool known = sk_feed_maltrail_kind(f[c->csv.kind], fl[c->csv.kind], &e.kind, &detect);
		if (!known) {
			for (int k = 0; k < SK_FK__COUNT; k++) {
				const char *kn = sk_feed_kind_name((sk_feed_kind)k);
				if (strlen(kn) == fl[c->csv.kind] &&
				    !strncasecmp(kn, f[c->csv.kind], fl[c->csv.kind])) {
					e.kind = (sk_feed_kind)k;
					known = true;
					detect = false;
				}
			}
		}
		if (!known)
			known = sk_feed_generic_kind(f[c->csv.kind], fl[c->csv.kind], &family);
		if (!known) {
			reject(c, line, "unknown indicator kind");
			return SK_OK;
		}
		if (family)
			detect = true;
	}
	if (!value_ok(c, line, f[c->csv.value], fl[c->csv.value], &e.kind, detect))
		return SK_OK;
	if (family && !(family & sk_feed_kind_family(e.kind))) {
		reject(c, line, "the value is not what its kind column says");
		return SK_OK;
	}
	if (c->csv.name >= 0 && c->csv.name < nf && fl[c->csv.name]) {
		e.name = f[c->csv.name];
		e.name_n = fl[c->csv.name];
	}
	for (size_t i = 0; i < c->csv.nlabel; i++) {
		int col = c->csv.label[i];
		if (col < nf && fl[col]) {
			e.labels[e.nlabels] = f[col];
			e.label_n[e.nlabels++] = fl[col];
		}
	}
	return emit(c, line, &e, err);
}

/* --- the driver ---------------------------------------------------------- */

static sk_err one_line(ctx *c, uint64_t line, char *s, size_t n, sk_error *err)
{
	if (n && s[n - 1] == '\r')
		n--;
	/* a UTF-8 byte order mark on the first line */
	if (line == 1 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		s += 3;
		n -= 3;
	}
	{
		const char *t = s;
		size_t tn = trim(&t, n);
		if (tn == 0 || t[0] == '#')
			return SK_OK;
		if (c->o->format != SK_FEED_CSV) {
			s += t - s;
			n = tn;
		}
	}
	if (!sk_utf8_valid(s, n, NULL)) {
		reject(c, line, "not valid UTF-8");
		return SK_OK;
	}
	if (memchr(s, '\0', n)) {
		reject(c, line, "NUL byte in line");
		return SK_OK;
	}
	switch (c->o->format) {
	case SK_FEED_MALTRAIL:
		return line_maltrail(c, line, s, n, err);
	case SK_FEED_IPSUM:
		return line_ipsum(c, line, s, n, err);
	case SK_FEED_LINES:
		return line_lines(c, line, s, n, err);
	case SK_FEED_CSV:
		return line_csv(c, line, s, n, err);
	}
	return SK_OK;
}

static sk_err run(ctx *c, sk_reader *rd, sk_error *err)
{
	size_t max_line = c->o->max_line ? c->o->max_line : SK_FEED_DEFAULT_MAX_LINE;
	size_t cap = READ_BLOCK + max_line + 1, have = 0;
	char *buf = malloc(cap);
	uint64_t line = 0;
	bool skipping = false, eof = false;
	sk_err rc = SK_OK;

	if (!buf)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	while (!eof && !rc) {
		size_t got = 0, pos = 0;
		if ((rc = sk_reader_read(rd, buf + have, cap - have, &got, err)))
			break;
		c->stats->bytes += got;
		if (got == 0)
			eof = true;
		have += got;
		for (;;) {
			char *nl = memchr(buf + pos, '\n', have - pos);
			size_t len;
			if (!nl) {
				if (!eof)
					break;
				if (pos == have)
					break;
				len = have - pos; /* last line without a newline */
			} else {
				len = (size_t)(nl - (buf + pos));
			}
			if (skipping) {
				/* the tail of an over-long line, already reported */
				skipping = false;
			} else {
				line++;
				c->stats->lines++;
				if (len > max_line) {
					char msg[64];
					snprintf(msg, sizeof(msg), "line longer than %zu bytes",
						 max_line);
					reject(c, line, msg);
				} else if ((rc = one_line(c, line, buf + pos, len, err))) {
					break;
				}
			}
			pos += len + (nl ? 1 : 0);
			if (!nl)
				break;
		}
		if (rc)
			break;
		/* keep the unfinished line; a line past max_line is cut and skipped */
		memmove(buf, buf + pos, have - pos);
		have -= pos;
		if (have > max_line && !eof) {
			/* no newline within max_line bytes: report it and skip to the next one */
			if (!skipping) {
				char msg[64];
				line++;
				c->stats->lines++;
				snprintf(msg, sizeof(msg), "line longer than %zu bytes", max_line);
				reject(c, line, msg);
			}
			have = 0;
			skipping = true;
		}
		if (c->o->on_progress)
			c->o->on_progress(c->o->ud, rd, c->stats->entries);
	}
	free(buf);
	return rc;
}

static sk_err setup(ctx *c, const sk_feed_opts *o, sk_error *err)
{
	if (!o->producer || !*o->producer || strlen(o->producer) > 1024)
		return sk_error_set(err, SK_EINVAL, "a feed needs a producer name (1-1024 bytes)");
	if (!sk_utf8_valid(o->producer, strlen(o->producer), NULL))
		return sk_error_set(err, SK_EINVAL, "the producer name is not UTF-8");
	if (o->confidence > 100 || o->confidence < -1)
		return sk_error_set(err, SK_EINVAL, "confidence must be 0-100");
	if (o->nlabels > SK_FEED_MAX_LABELS)
		return sk_error_set(err, SK_EINVAL, "at most %d labels", SK_FEED_MAX_LABELS);
	for (size_t i = 0; i < o->nlabels; i++)
		if (!o->labels[i][0] ||
		    !sk_utf8_valid(o->labels[i], strlen(o->labels[i]), NULL))
			return sk_error_set(err, SK_EINVAL, "bad label '%s'", o->labels[i]);
	if (o->max_line > ((size_t)1 << 24))
		return sk_error_set(err, SK_EINVAL, "max line length is at most 16 MiB");
	if (o->valid_from) {
		if (!sk_ts_parse(o->valid_from, strlen(o->valid_from), NULL, NULL) ||
		    strlen(o->valid_from) >= SK_TS_STR_MAX)
			return sk_error_set(err, SK_EINVAL,
					    "'%s' is not an RFC 3339 UTC timestamp", o->valid_from);
		snprintf(c->ts, sizeof(c->ts), "%s", o->valid_from);
	} else {
		sk_ts_format_ms(sk_ts_now_us(), c->ts);
	}
	c->o = o;
	sk_feed_producer_id(o->producer, c->producer_id);
	c->marking_id = sk_tlp_marking_id(o->tlp);
	c->head_len = (size_t)snprintf(c->head, sizeof(c->head),
				       "\",\"created\":\"%s\",\"modified\":\"%s\","
				       "\"created_by_ref\":\"%s\",\"name\":",
				       c->ts, c->ts, c->producer_id);
	c->mid_len = (size_t)snprintf(c->mid, sizeof(c->mid),
				      ",\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\","
				      "\"valid_from\":\"%s\"",
				      c->ts);
	if (o->valid_for_us > 0) { /* feed import --valid-for */
		char until[SK_TS_STR_MAX];
		int64_t from = 0;
		sk_ts_parse(c->ts, strlen(c->ts), NULL, &from);
		sk_ts_format_ms(from + o->valid_for_us, until);
		c->mid_len += (size_t)snprintf(c->mid + c->mid_len, sizeof(c->mid) - c->mid_len,
					       ",\"valid_until\":\"%s\"", until);
	}
	if (o->feed && (!*o->feed || strlen(o->feed) > 128 ||
			!sk_utf8_valid(o->feed, strlen(o->feed), NULL)))
		return sk_error_set(err, SK_EINVAL, "a feed name is 1-128 bytes of UTF-8");
	c->tail_len = 0;
	if (o->confidence >= 0)
		c->tail_len = (size_t)snprintf(c->tail, sizeof(c->tail), ",\"confidence\":%d",
					       o->confidence);
	if (c->marking_id)
		c->tail_len += (size_t)snprintf(c->tail + c->tail_len, sizeof(c->tail) - c->tail_len,
						",\"object_marking_refs\":[\"%s\"]", c->marking_id);
	c->tail[c->tail_len++] = '}';
	c->tail[c->tail_len] = '\0';
	sk_buf_init(&c->norm, 1 << 20);
	sk_buf_init(&c->pattern, 1 << 20);
	sk_buf_init(&c->json, 1 << 21);
	sk_buf_init(&c->key, 1 << 22);
	c->csv.value = -1;
	if (sk_json_doc_new(0, 0, &c->doc))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	return SK_OK;
}

static void teardown(ctx *c)
{
	if (c->in_tx)
		sk_store_rollback(c->st);
	sqlite3_finalize(c->q_find);
	sqlite3_finalize(c->q_incoll);
	sqlite3_finalize(c->q_json);
	sk_buf_free(&c->norm);
	sk_buf_free(&c->pattern);
	sk_buf_free(&c->json);
	sk_buf_free(&c->key);
	sk_json_doc_free(c->doc);
}

static sk_err do_import(sk_store *st, sk_reader *rd, const sk_feed_opts *o, sk_feed_stats *stats,
			sk_error *err)
{
	ctx c;
	sk_err rc;

	memset(&c, 0, sizeof(c));
	c.st = st;
	c.stats = stats;
	c.name = sk_reader_name(rd);
	if ((rc = setup(&c, o, err)))
		goto out;
	if (st) {
		const char *mj = sk_tlp_marking_json(o->tlp);
		if ((rc = prepare(&c, err)) || (rc = tx_begin(&c, err)))
			goto out;
		if (mj && (rc = ensure_object(&c, c.marking_id, mj, err)))
			goto out;
		if ((rc = ensure_producer(&c, err)) || (rc = sk_feed_named_begin(st, o, err)))
			goto out;
	}
	if ((rc = run(&c, rd, err)))
		goto out;
	/* a named feed: what dropped out expires, in the last batch's transaction */
	if (st && o->feed &&
	    ((rc = tx_begin(&c, err)) || (rc = sk_feed_named_end(st, o, stats, err))))
		goto out;
	rc = tx_commit(&c, err);
out:
	teardown(&c);
	if (st) {
		/* the rows are committed (or rolled back): now the search index, timed apart */
		struct timespec t0, t1;
		uint64_t n = 0;
		sk_error e2;
		sk_err r2;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r2 = sk_store_search_catch_up(st, &n, &e2);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		stats->indexed += n;
		stats->index_us += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000LL +
					      (t1.tv_nsec - t0.tv_nsec) / 1000);
		if (!rc && r2) {
			rc = r2;
			if (err)
				*err = e2;
		}
	}
	return rc;
}

sk_err sk_feed_import_reader(sk_store *st, sk_reader *rd, const sk_feed_opts *o,
			     sk_feed_stats *stats, sk_error *err)
{
	if (!st)
		return sk_error_set(err, SK_EINVAL, "no store");
	return do_import(st, rd, o, stats, err);
}

sk_err sk_feed_check_reader(sk_reader *rd, const sk_feed_opts *o, sk_feed_stats *stats,
			    sk_error *err)
{
	return do_import(NULL, rd, o, stats, err);
}

sk_err sk_feed_import_file(sk_store *st, const char *path, const sk_feed_opts *o,
			   sk_feed_stats *stats, sk_error *err)
{
	sk_reader *rd = NULL;
	sk_err rc = sk_reader_open(path, &rd, err);
	if (rc)
		return rc;
	rc = sk_feed_import_reader(st, rd, o, stats, err);
	sk_reader_close(rd);
	return rc;
}
