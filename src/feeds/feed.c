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
#include "feeds/feed_ctx.h"

#include <pthread.h>
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
/* slots between the reader thread and the store thread (feed_pipe.c) */
#define PIPE_SLOTS 256

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

static void reject_now(ctx *c, uint64_t line, const char *msg)
{
	c->stats->rejected++;
	if (!c->o->on_reject)
		return;
	/* the callbacks never run at once (on_progress runs on the reader thread) */
	if (c->pipe)
		pthread_mutex_lock(&c->cb_mu);
	c->o->on_reject(c->o->ud, c->name, line, msg && *msg ? msg : "invalid line");
	if (c->pipe)
		pthread_mutex_unlock(&c->cb_mu);
}

/* A rejected line; with two threads, reported by the store thread in line order. */
void sk_feed_reject(ctx *c, uint64_t line, const char *msg)
{
	feed_item *it;
	if (!c->pipe) {
		reject_now(c, line, msg);
		return;
	}
	if (!(it = sk_feed_pipe_slot(c->pipe)))
		return; /* the store thread stopped */
	it->what = FEED_ITEM_REJECT;
	it->line = line;
	snprintf(it->err.msg, sizeof(it->err.msg), "%s", msg && *msg ? msg : "invalid line");
	sk_feed_pipe_push(c->pipe);
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
	/*
	 * Bulk mode also moves the WAL checkpoints to a thread of their own
	 * (sk_store_bulk), so that copying the committed pages back into the
	 * database runs on the second core instead of between two batches.
	 */
	const char *cs = getenv("SK_FEED_CACHE_MB");
	long mb = cs ? atol(cs) : 256;
	sk_err rc = sk_store_bulk(c->st, true, (size_t)(mb > 0 ? mb : 256) * 1024, err);
	if (rc)
		return rc;
	c->bulk = true;
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
		sk_buf_reset(&c->fkey);
		rc = sk_buf_append(&c->fkey, j, (size_t)n);
		if (!rc)
			rc = put_text(c, c->fkey.data, c->fkey.len, out, err);
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

/* Build the indicator for the normalised value in c->norm (kind e->kind) into b. */
static sk_err build(ctx *c, const entry *e, const char *uuid, sk_buf *b)
{
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
 * After storing (or validating) a line's indicator: a refusal by the write
 * rule or an indicator that failed validation is a rejected line (*skip);
 * any other error stops the import (copied from lerr to err).
 */
static sk_err put_result(ctx *c, uint64_t line, sk_err rc, sk_error *lerr, bool *skip,
			 sk_error *err)
{
	*skip = rc == SK_EPERM || rc == SK_ECONFLICT || rc == SK_ESTIX || rc == SK_EJSON ||
		rc == SK_EINVAL || rc == SK_ELIMIT;
	if (rc == SK_EPERM || rc == SK_ECONFLICT) { /* the write rule: another's id */
		reject_now(c, line, lerr->msg);
		return SK_OK;
	}
	if (*skip) {
		/* our own JSON failed validation: a bug, but not a reason to stop */
		sk_error_prefix(lerr, "internal: built an invalid indicator");
		reject_now(c, line, lerr->msg);
		return SK_OK;
	}
	if (rc && err)
		*err = *lerr;
	return rc;
}

/* A valid entry counted; the batch committed when full. */
static sk_err counted(ctx *c, sk_feed_kind kind, sk_put_outcome out, sk_error *err)
{
	c->stats->entries++;
	c->stats->kinds[kind < SK_FK__COUNT ? kind : 0]++;
	count_outcome(c, out);
	if (c->st && ++c->in_batch >= (c->o->batch ? c->o->batch : SK_FEED_DEFAULT_BATCH))
		return tx_commit(c, err);
	return SK_OK;
}

/*
 * Reader thread: the entry's indicator built and validated into a slot of
 * the ring (its arena keeps the validated info for the store thread).
 */
static sk_err emit_slot(ctx *c, uint64_t line, const entry *e, const char *uuid, const char *id)
{
	feed_item *it = sk_feed_pipe_slot(c->pipe);
	if (!it)
		return SK_EINTERRUPTED; /* the store thread stopped */
	it->what = FEED_ITEM_ENTRY;
	it->line = line;
	it->kind = e->kind;
	snprintf(it->id, sizeof(it->id), "%s", id);
	sk_error_clear(&it->err);
	it->vrc = SK_OK;
	it->built = build(c, e, uuid, &it->json) == SK_OK;
	if (it->built)
		it->vrc = sk_stix_validate_text(it->doc, it->json.data, it->json.len, &it->info,
						&it->err);
	sk_feed_pipe_push(c->pipe);
	c->wcount++;
	return SK_OK;
}

/*
 * Store thread: one item of the ring, in line order.  As emit does on one
 * thread: a stored id is not stored again (only added to the collection).
 */
static sk_err store_item(ctx *c, feed_item *it, sk_error *err)
{
	sk_put_outcome out = SK_PUT_DUPLICATE;
	bool found = false, skip;
	sk_err rc = SK_OK;

	if (it->what == FEED_ITEM_REJECT) {
		reject_now(c, it->line, it->err.msg);
		return SK_OK;
	}
	if ((rc = tx_begin(c, err)) || (rc = find_existing(c, it->id, &found, &out, err)) ||
	    (rc = sk_feed_named_note(c->st, c->o, it->id, found, c->stats, err)))
		return rc;
	if (!found) {
		if (!it->built) {
			reject_now(c, it->line, "indicator too long");
			return SK_OK;
		}
		sk_error_clear(&c->merr);
		if (it->vrc)
			c->merr = it->err;
		else
			rc = sk_store_put(c->st, c->o->cid, &it->info, it->json.data, it->json.len,
					  &out, NULL, &c->merr);
		if ((rc = put_result(c, it->line, it->vrc ? it->vrc : rc, &c->merr, &skip, err)) ||
		    skip)
			return rc;
	}
	return counted(c, it->kind, out, err);
}

/*
 * One valid value (already in c->norm): pattern, id, and store unless known.
 * Returns an error only for failures that must stop the import (database);
 * a problem with the entry itself is a rejected line.
 */
sk_err sk_feed_emit(ctx *c, uint64_t line, const entry *e, sk_error *err)
{
	char uuid[SK_UUID_LEN + 1], id[64];
	sk_put_outcome out = SK_PUT_DUPLICATE;
	bool found = false, skip;
	sk_err rc;

	sk_buf_reset(&c->pattern);
	if (sk_feed_pattern(e->kind, c->norm.data, c->norm.len, &c->pattern)) {
		sk_feed_reject(c, line, "indicator too long");
		return SK_OK;
	}
	/* id = UUIDv5(producer "\n" pattern) */
	sk_buf_reset(&c->key);
	if (sk_buf_puts(&c->key, c->o->producer) || sk_buf_putc(&c->key, '\n') ||
	    sk_buf_append(&c->key, c->pattern.data, c->pattern.len)) {
		sk_feed_reject(c, line, "indicator too long");
		return SK_OK;
	}
	sk_uuid_v5(FEED_NS, c->key.data, c->key.len, uuid);
	snprintf(id, sizeof(id), "indicator--%s", uuid);
	if (c->pipe)
		return emit_slot(c, line, e, uuid, id);
	if ((rc = tx_begin(c, err)))
		return rc;
	if ((rc = find_existing(c, id, &found, &out, err)))
		return rc;
	if (c->st && (rc = sk_feed_named_note(c->st, c->o, id, found, c->stats, err)))
		return rc;
	if (!found) {
		sk_error_clear(&c->lerr);
		if (build(c, e, uuid, &c->json)) {
			sk_feed_reject(c, line, "indicator too long");
			return SK_OK;
		}
		rc = put_text(c, c->json.data, c->json.len, &out, &c->lerr);
		if ((rc = put_result(c, line, rc, &c->lerr, &skip, err)) || skip)
			return rc;
	}
	return counted(c, e->kind, out, err);
}

/* --- line splitting ------------------------------------------------------ */

/* Split s[0..n) at sep into at most max fields (the last takes the rest). */
static size_t split(char *s, size_t n, char sep, const char **f, size_t *fl, size_t max)
{
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= n && k < max; i++) {
		if (i == n || (s[i] == sep && k + 1 < max)) {
			f[k] = s + start;
			fl[k] = sk_feed_trim(&f[k], i - start);
			k++;
			start = i + 1;
		}
	}
	return k;
}

/* Check value as kind (or detect), into c->norm; reject the line on failure. */
bool sk_feed_value_ok(ctx *c, uint64_t line, const char *v, size_t n, sk_feed_kind *k, bool detect)
{
	sk_err rc;
	sk_error_clear(&c->lerr);
	rc = detect ? sk_feed_classify(v, n, k, &c->norm, &c->lerr)
		    : sk_feed_normalise(k, v, n, &c->norm, &c->lerr);
	if (rc) {
		sk_feed_reject(c, line, c->lerr.msg[0] ? c->lerr.msg : sk_strerror(rc));
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
		sk_feed_reject(c, line, "expected indicator<TAB>kind<TAB>category<TAB>name");
		return SK_OK;
	}
	if (!sk_feed_maltrail_kind(f[1], fl[1], &e.kind, &detect)) {
		char msg[96];
		snprintf(msg, sizeof(msg), "unknown kind '%.*s'", (int)(fl[1] > 40 ? 40 : fl[1]),
			 f[1]);
		sk_feed_reject(c, line, msg);
		return SK_OK;
	}
	if (!sk_feed_value_ok(c, line, f[0], fl[0], &e.kind, detect))
		return SK_OK;
	for (size_t i = 2; i < nf; i++) {
		e.labels[e.nlabels] = f[i];
		e.label_n[e.nlabels++] = fl[i];
	}
	return sk_feed_emit(c, line, &e, err);
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
				sk_feed_reject(c, line, "expected ip<TAB>count");
				return SK_OK;
			}
			count = count * 10 + (unsigned)(f[1][i] - '0');
		}
		snprintf(desc, sizeof(desc), "Listed on %u blacklists (ipsum).", count);
		e.desc = desc;
	}
	e.kind = SK_FK_IPV4;
	if (!sk_feed_value_ok(c, line, f[0], fl[0], &e.kind, true))
		return SK_OK;
	if (e.kind != SK_FK_IPV4 && e.kind != SK_FK_IPV6) {
		sk_feed_reject(c, line, "expected an IP address");
		return SK_OK;
	}
	return sk_feed_emit(c, line, &e, err);
}

static sk_err line_lines(ctx *c, uint64_t line, char *s, size_t n, sk_error *err)
{
	entry e = {0};
	size_t i = 0;
	/* the first whitespace-separated field; the rest of the line is a comment */
	while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
		i++;
	if (!sk_feed_value_ok(c, line, s, i, &e.kind, true))
		return SK_OK;
	return sk_feed_emit(c, line, &e, err);
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
		size_t tn = sk_feed_trim(&t, n);
		if (tn == 0 || t[0] == '#')
			return SK_OK;
		if (c->o->format != SK_FEED_CSV) {
			s += t - s;
			n = tn;
		}
	}
	if (!sk_utf8_valid(s, n, NULL)) {
		sk_feed_reject(c, line, "not valid UTF-8");
		return SK_OK;
	}
	if (memchr(s, '\0', n)) {
		sk_feed_reject(c, line, "NUL byte in line");
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
		return sk_feed_line_csv(c, line, s, n, err);
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
					sk_feed_reject(c, line, msg);
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
				sk_feed_reject(c, line, msg);
			}
			have = 0;
			skipping = true;
		}
		if (c->o->on_progress && c->pipe) {
			pthread_mutex_lock(&c->cb_mu);
			c->o->on_progress(c->o->ud, rd, c->wcount);
			pthread_mutex_unlock(&c->cb_mu);
		} else if (c->o->on_progress) {
			c->o->on_progress(c->o->ud, rd, c->stats->entries);
		}
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
	sk_buf_init(&c->fkey, 1 << 22);
	c->csv.value = -1;
	if (sk_json_doc_new(0, 0, &c->doc))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	return SK_OK;
}

static void teardown(ctx *c)
{
	if (c->in_tx)
		sk_store_rollback(c->st);
	if (c->bulk)
		sk_store_bulk(c->st, false, 0, NULL);
	sqlite3_finalize(c->q_find);
	sqlite3_finalize(c->q_incoll);
	sqlite3_finalize(c->q_json);
	sk_buf_free(&c->norm);
	sk_buf_free(&c->pattern);
	sk_buf_free(&c->json);
	sk_buf_free(&c->key);
	sk_buf_free(&c->fkey);
	sk_json_doc_free(c->doc);
	sk_feed_pipe_free(c->pipe);
}

/* CPU time of the calling thread, µs */
static uint64_t thread_cpu_us(void)
{
	struct timespec t;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t))
		return 0;
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static void *reader_main(void *ud)
{
	ctx *c = ud;
	uint64_t t0 = thread_cpu_us();
	c->wrc = run(c, c->rd, &c->werr);
	c->stats->reader_cpu_us += thread_cpu_us() - t0;
	sk_feed_pipe_close(c->pipe);
	return NULL;
}

/*
 * Into a store: the reader thread parses, builds and validates (run), this
 * thread stores (store_item); one thread only if the second cannot start.
 */
static sk_err run_store(ctx *c, sk_reader *rd, sk_error *err)
{
	pthread_t th;
	feed_item *it;
	sk_err rc = SK_OK;

	if (sk_feed_pipe_new(PIPE_SLOTS, &c->pipe))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	c->rd = rd;
	pthread_mutex_init(&c->cb_mu, NULL);
	if (pthread_create(&th, NULL, reader_main, c)) {
		sk_feed_pipe_free(c->pipe);
		c->pipe = NULL;
		pthread_mutex_destroy(&c->cb_mu);
		return run(c, rd, err);
	}
	while ((it = sk_feed_pipe_take(c->pipe))) {
		if ((rc = store_item(c, it, err)))
			break;
	}
	if (rc)
		sk_feed_pipe_stop(c->pipe);
	pthread_join(th, NULL);
	/* one thread again: rejects and progress are direct */
	sk_feed_pipe_free(c->pipe);
	c->pipe = NULL;
	pthread_mutex_destroy(&c->cb_mu);
	if (!rc && c->wrc) {
		rc = c->wrc;
		if (err)
			*err = c->werr;
	}
	return rc;
}

static sk_err do_import(sk_store *st, sk_reader *rd, const sk_feed_opts *o, sk_feed_stats *stats,
			sk_error *err)
{
	uint64_t cpu0 = thread_cpu_us(); /* the store thread's, until the rows are committed */
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
	if ((rc = st ? run_store(&c, rd, err) : run(&c, rd, err)))
		goto out;
	/* a named feed: what dropped out expires, in the last batch's transaction */
	if (st && o->feed &&
	    ((rc = tx_begin(&c, err)) || (rc = sk_feed_named_end(st, o, stats, err))))
		goto out;
	rc = tx_commit(&c, err);
	if (st)
		stats->store_cpu_us += thread_cpu_us() - cpu0;
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
