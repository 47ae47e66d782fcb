/*
 * audit_verify.c - checking the audit log's hash chain and checkpoints,
 * across archive files and the store, and moving old entries to an
 * archive file (docs/audit.md).
 *
 * An archive file is JSON lines: a header {"schakel_audit_archive": 1,
 * "first": F, "last": L, "created": µs}, then the checkpoints up to L
 * ({"checkpoint": {...}}, hashes and keys in hex), then the entries F..L
 * with every column (detail and versions as the stored text, so the hash
 * can be recomputed byte for byte).
 */
#include "audit_int.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schakel/file.h"
#include "schakel/timestamp.h"

#define H SK_AUDIT_HASH_LEN

typedef struct cp {
	int64_t seq, ts, every;
	unsigned char hash[H];
	bool has_pk, has_sig;
	unsigned char pk[SK_KEY_PK_LEN], sig[SK_SIG_LEN];
} cp;

typedef struct cp_list {
	cp *v;
	size_t n, cap;
} cp_list;

static sk_err cp_push(cp_list *l, const cp *c, sk_error *err)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		cp *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = *c;
	return SK_OK;
}

static int cp_cmp(const void *a, const void *b)
{
	const cp *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* --- the walk along the chain ---------------------------------------------- */

typedef struct walk {
	sk_audit_report *rep;
	const cp *cp;
	size_t ncp, next;
	const unsigned char *node_pk; /* NULL: no node key */
	bool started;
	int64_t expect;
	unsigned char prev[H];
	int64_t gap_from, gap_every; /* the last checkpoint passed */
	int64_t every_now;
} walk;

static bool bad(walk *w, int64_t seq, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool bad(walk *w, int64_t seq, const char *fmt, ...)
{
	va_list ap;
	if (w->rep->bad)
		return false;
	w->rep->bad = seq > 0 ? seq : 1;
	va_start(ap, fmt);
	vsnprintf(w->rep->problem, sizeof(w->rep->problem), fmt, ap);
	va_end(ap);
	return false;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* A checkpoint reached on the walk (its hash already compared). */
static bool check_cp(walk *w, const cp *c)
{
	unsigned char msg[AUDIT_CP_MSG_LEN];
	int64_t allowed = max64(w->gap_every, c->every);

	w->rep->checkpoints++;
	if (c->seq - w->gap_from > allowed)
		return bad(w, w->gap_from + allowed,
			   "no checkpoint between entries %lld and %lld (one is written every "
			   "%lld): checkpoints were removed",
			   (long long)w->gap_from, (long long)c->seq, (long long)allowed);
	w->gap_from = c->seq;
	w->gap_every = c->every;
	if (!c->has_sig) {
		w->rep->unsigned_cps++;
		return true;
	}
	sk_audit_cp_msg(c->seq, c->hash, c->ts, c->every, msg);
	if (!c->has_pk || crypto_sign_verify_detached(c->sig, msg, sizeof(msg), c->pk) != 0)
		return bad(w, c->seq, "entry %lld: its checkpoint's signature does not hold",
			   (long long)c->seq);
	if (!w->node_pk) {
		w->rep->unchecked++;
		return true;
	}
	if (memcmp(c->pk, w->node_pk, SK_KEY_PK_LEN) != 0)
		return bad(w, c->seq, "entry %lld: its checkpoint is signed by a key that is not "
				      "the node's",
			   (long long)c->seq);
	w->rep->signed_ok++;
	return true;
}

static const cp *find_cp(const walk *w, int64_t seq)
{
	for (size_t i = 0; i < w->ncp; i++)
		if (w->cp[i].seq == seq)
			return &w->cp[i];
	return NULL;
}

static bool walk_start(walk *w, int64_t seq)
{
	const cp *anchor;

	w->started = true;
	w->rep->first = seq;
	w->expect = seq;
	if (seq == 1) {
		memset(w->prev, 0, H);
		return true;
	}
	anchor = find_cp(w, seq - 1);
	if (!anchor)
		return bad(w, 1,
			   "entries 1 to %lld are missing and no checkpoint anchors entry %lld "
			   "(archived? give the archive files with --archive)",
			   (long long)(seq - 1), (long long)seq);
	while (w->next < w->ncp && w->cp[w->next].seq < anchor->seq)
		w->next++; /* covered entries are in an archive not given: not checkable */
	w->next++;
	w->gap_from = anchor->seq;
	w->gap_every = anchor->every;
	w->rep->checkpoints++;
	if (anchor->has_sig) { /* the anchor's signature, without the gap rule */
		unsigned char msg[AUDIT_CP_MSG_LEN];
		sk_audit_cp_msg(anchor->seq, anchor->hash, anchor->ts, anchor->every, msg);
		if (!anchor->has_pk ||
		    crypto_sign_verify_detached(anchor->sig, msg, sizeof(msg), anchor->pk) != 0 ||
		    (w->node_pk && memcmp(anchor->pk, w->node_pk, SK_KEY_PK_LEN) != 0))
			return bad(w, seq, "the checkpoint anchoring entry %lld does not hold",
				   (long long)seq);
		if (w->node_pk)
			w->rep->signed_ok++;
		else
			w->rep->unchecked++;
	} else {
		w->rep->unsigned_cps++;
	}
	memcpy(w->prev, anchor->hash, H);
	return true;
}

static bool walk_entry(walk *w, const audit_fields *f, const void *prev, size_t prevlen,
		       const void *hash, size_t hashlen)
{
	unsigned char h[H];
	bool self_ok;

	if (w->rep->bad)
		return false;
	if (!w->started && !walk_start(w, f->seq))
		return false;
	if (f->seq != w->expect) {
		if (f->seq < w->expect)
			return bad(w, f->seq, "entry %lld is out of order", (long long)f->seq);
		if (f->seq == w->expect + 1)
			return bad(w, w->expect, "entry %lld is missing", (long long)w->expect);
		return bad(w, w->expect, "entries %lld to %lld are missing", (long long)w->expect,
			   (long long)(f->seq - 1));
	}
	if (prevlen != H || hashlen != H)
		return bad(w, f->seq, "entry %lld is damaged (its hashes are not %d bytes)",
			   (long long)f->seq, H);
	sk_audit_hash(prev, f, h);
	self_ok = memcmp(h, hash, H) == 0;
	if (memcmp(prev, w->prev, H) != 0) {
		if (self_ok && f->seq > w->rep->first)
			return bad(w, f->seq - 1,
				   "entry %lld was changed or replaced (entry %lld does not follow "
				   "it)",
				   (long long)(f->seq - 1), (long long)f->seq);
		return bad(w, f->seq, "entry %lld does not follow entry %lld", (long long)f->seq,
			   (long long)(f->seq - 1));
	}
	if (!self_ok)
		return bad(w, f->seq, "entry %lld was changed (its hash does not match its content)",
			   (long long)f->seq);
	while (w->next < w->ncp && w->cp[w->next].seq <= f->seq) {
		const cp *c = &w->cp[w->next++];
		if (c->seq < f->seq)
			continue;
		if (memcmp(c->hash, hash, H) != 0)
			return bad(w, f->seq, "entry %lld differs from its checkpoint",
				   (long long)f->seq);
		if (!check_cp(w, c))
			return false;
	}
	memcpy(w->prev, hash, H);
	w->expect = f->seq + 1;
	w->rep->entries++;
	w->rep->last = f->seq;
	return true;
}

static void walk_end(walk *w)
{
	int64_t allowed;

	if (w->rep->bad)
		return;
	if (!w->started) {
		/* no entries: everything archived (only the anchor left) or a new log */
		if (w->ncp > 1)
			bad(w, 1, "there are checkpoints but no entries: the entries were removed");
		return;
	}
	if (w->next < w->ncp)
		bad(w, w->rep->last + 1,
		    "entries from %lld on were removed (a checkpoint covers entry %lld)",
		    (long long)(w->rep->last + 1), (long long)w->cp[w->ncp - 1].seq);
	allowed = max64(w->gap_every, w->every_now);
	if (!w->rep->bad && w->rep->last - w->gap_from > allowed)
		bad(w, w->gap_from + allowed,
		    "no checkpoint after entry %lld (one is written every %lld): checkpoints were "
		    "removed",
		    (long long)w->gap_from, (long long)allowed);
}

/* --- archive files ----------------------------------------------------------- */

typedef struct archive {
	const char *path;
	int64_t first, last;
} archive;

static bool hex_field(json_t *o, const char *k, unsigned char *out, size_t n)
{
	const char *s = json_string_value(json_object_get(o, k));
	size_t got = 0;
	return s && strlen(s) == 2 * n &&
	       sodium_hex2bin(out, n, s, 2 * n, NULL, &got, NULL) == 0 && got == n;
}

static json_t *read_line(FILE *f, char **line, size_t *cap, bool *eof)
{
	ssize_t n = getline(line, cap, f);
	*eof = n < 0;
	if (n <= 0)
		return NULL;
	return json_loadb(*line, (size_t)n, 0, NULL);
}

/* Open an archive and read its header. */
static sk_err archive_open(archive *a, FILE **out, sk_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	bool eof;
	json_t *h;
	FILE *f = fopen(a->path, "r");

	if (!f)
		return sk_error_set(err, SK_EIO, "%s: %s", a->path, strerror(errno));
	h = read_line(f, &line, &cap, &eof);
	free(line);
	if (!h || json_integer_value(json_object_get(h, "schakel_audit_archive")) != 1) {
		json_decref(h);
		fclose(f);
		return sk_error_set(err, SK_EINVAL, "%s: not a schakel audit archive", a->path);
	}
	a->first = json_integer_value(json_object_get(h, "first"));
	a->last = json_integer_value(json_object_get(h, "last"));
	json_decref(h);
	*out = f;
	return SK_OK;
}

static bool cp_from_json(json_t *o, cp *c)
{
	memset(c, 0, sizeof(*c));
	c->seq = json_integer_value(json_object_get(o, "seq"));
	c->ts = json_integer_value(json_object_get(o, "ts"));
	c->every = json_integer_value(json_object_get(o, "every"));
	c->has_pk = hex_field(o, "pk", c->pk, sizeof(c->pk));
	c->has_sig = hex_field(o, "sig", c->sig, sizeof(c->sig));
	return c->seq > 0 && hex_field(o, "hash", c->hash, H);
}

static sk_err archive_checkpoints(archive *a, cp_list *l, sk_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	bool eof = false;
	FILE *f;
	sk_err rc = archive_open(a, &f, err);

	while (!rc && !eof) {
		json_t *o = read_line(f, &line, &cap, &eof), *c;
		cp x;
		if (o && (c = json_object_get(o, "checkpoint"))) {
			if (!cp_from_json(c, &x))
				rc = sk_error_set(err, SK_EINVAL, "%s: a damaged checkpoint", a->path);
			else
				rc = cp_push(l, &x, err);
		}
		json_decref(o);
	}
	free(line);
	if (f)
		fclose(f);
	return rc;
}

static audit_str jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	audit_str a = {json_string_value(v), json_string_length(v)};
	return a;
}

static sk_err archive_walk(archive *a, walk *w, sk_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	bool eof = false;
	FILE *f;
	sk_err rc = archive_open(a, &f, err);
	int64_t lineno = 1;

	while (!rc && !eof && !w->rep->bad) {
		json_t *o = read_line(f, &line, &cap, &eof);
		unsigned char prev[H], hash[H];
		audit_fields fl;
		lineno++;
		if (!o) {
			if (!eof)
				bad(w, w->expect, "%s line %lld is not JSON", a->path,
				    (long long)lineno);
			continue;
		}
		if (!json_object_get(o, "checkpoint")) {
			memset(&fl, 0, sizeof(fl));
			fl.seq = json_integer_value(json_object_get(o, "seq"));
			fl.ts = json_integer_value(json_object_get(o, "ts"));
			fl.actor = jstr(o, "actor");
			fl.action = jstr(o, "action");
			fl.subject = jstr(o, "subject");
			fl.detail = jstr(o, "detail");
			fl.versions = jstr(o, "versions");
			if (!fl.actor.s || !fl.action.s || !fl.detail.s ||
			    !hex_field(o, "prev", prev, H) || !hex_field(o, "hash", hash, H))
				bad(w, fl.seq ? fl.seq : w->expect, "%s line %lld: a damaged entry",
				    a->path, (long long)lineno);
			else
				walk_entry(w, &fl, prev, H, hash, H);
		}
		json_decref(o);
	}
	free(line);
	fclose(f);
	return rc;
}

/* --- the store ------------------------------------------------------------------ */

static sk_err db_checkpoints(sk_store *st, cp_list *l, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	int step;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT seq, ts, every, hash, pk, sig FROM audit_checkpoints ORDER BY seq",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "audit");
	while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
		cp c;
		memset(&c, 0, sizeof(c));
		c.seq = sqlite3_column_int64(s, 0);
		c.ts = sqlite3_column_int64(s, 1);
		c.every = sqlite3_column_int64(s, 2);
		if (sqlite3_column_bytes(s, 3) == H)
			memcpy(c.hash, sqlite3_column_blob(s, 3), H);
		if ((c.has_pk = sqlite3_column_bytes(s, 4) == SK_KEY_PK_LEN))
			memcpy(c.pk, sqlite3_column_blob(s, 4), SK_KEY_PK_LEN);
		if ((c.has_sig = sqlite3_column_bytes(s, 5) == SK_SIG_LEN))
			memcpy(c.sig, sqlite3_column_blob(s, 5), SK_SIG_LEN);
		rc = cp_push(l, &c, err);
	}
	if (!rc && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "audit");
	sqlite3_finalize(s);
	return rc;
}

static audit_str col_str(sqlite3_stmt *s, int i)
{
	audit_str a = {(const char *)sqlite3_column_text(s, i), 0};
	a.n = a.s ? (size_t)sqlite3_column_bytes(s, i) : 0;
	return a;
}

static sk_err db_walk(sk_store *st, walk *w, bool skip_overlap, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	int step;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT seq, ts, actor, action, subject, detail, versions, prev, hash"
			       " FROM audit ORDER BY seq",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "audit");
	while ((step = sqlite3_step(s)) == SQLITE_ROW && !w->rep->bad) {
		audit_fields f;
		memset(&f, 0, sizeof(f));
		f.seq = sqlite3_column_int64(s, 0);
		if (skip_overlap && w->started && f.seq < w->expect)
			continue; /* also in an archive (an archive whose clean-up was cut short) */
		f.ts = sqlite3_column_int64(s, 1);
		f.actor = col_str(s, 2);
		f.action = col_str(s, 3);
		f.subject = col_str(s, 4);
		f.detail = col_str(s, 5);
		f.versions = col_str(s, 6);
		if (!f.actor.s || !f.action.s || !f.detail.s) {
			bad(w, f.seq, "entry %lld is damaged (a required field is NULL)",
			    (long long)f.seq);
			break;
		}
		walk_entry(w, &f, sqlite3_column_blob(s, 7), (size_t)sqlite3_column_bytes(s, 7),
			   sqlite3_column_blob(s, 8), (size_t)sqlite3_column_bytes(s, 8));
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "audit");
	sqlite3_finalize(s);
	return rc;
}

static int archive_cmp(const void *a, const void *b)
{
	const archive *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

sk_err sk_audit_verify(sk_store *st, const char *const *archives, size_t narchives,
		       sk_audit_report *rep, sk_error *err)
{
	archive *av = narchives ? calloc(narchives, sizeof(*av)) : NULL;
	const sk_keypair *kp = sk_audit_key(st);
	cp_list cps = {0};
	walk w;
	bool own_tx = !st->in_tx;
	sk_err rc = SK_OK;
	size_t i, k;

	memset(rep, 0, sizeof(*rep));
	memset(&w, 0, sizeof(w));
	w.rep = rep;
	w.node_pk = kp ? kp->pk : NULL;
	rep->node_key = kp != NULL;
	if (narchives && !av)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	for (i = 0; i < narchives && !rc; i++) {
		av[i].path = archives[i];
		rc = archive_checkpoints(&av[i], &cps, err);
	}
	if (!rc && narchives > 1)
		qsort(av, narchives, sizeof(*av), archive_cmp);
	/* one snapshot of the store: checkpoints first, so every entry they cover is seen */
	if (!rc && own_tx && (rc = sk_store_exec(st, "BEGIN", err)))
		goto out;
	if (!rc)
		rc = db_checkpoints(st, &cps, err);
	w.every_now = sk_audit_checkpoint_every(st);
	if (!rc && cps.n) {
		qsort(cps.v, cps.n, sizeof(*cps.v), cp_cmp);
		for (i = 1, k = 1; i < cps.n; i++) { /* archives and the store share some */
			if (cps.v[i].seq != cps.v[k - 1].seq)
				cps.v[k++] = cps.v[i];
			else if (memcmp(cps.v[i].hash, cps.v[k - 1].hash, H) != 0)
				bad(&w, cps.v[i].seq, "entry %lld has two different checkpoints",
				    (long long)cps.v[i].seq);
		}
		cps.n = k;
	}
	w.cp = cps.v;
	w.ncp = cps.n;
	for (i = 0; i < narchives && !rc && !rep->bad; i++)
		rc = archive_walk(&av[i], &w, err);
	if (!rc && !rep->bad)
		rc = db_walk(st, &w, narchives > 0, err);
	if (!rc)
		walk_end(&w);
	if (own_tx)
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
out:
	free(cps.v);
	free(av);
	return rc;
}

/* --- archiving ---------------------------------------------------------------- */

static char *hex_of(const void *p, size_t n, char *out)
{
	sodium_bin2hex(out, n * 2 + 1, p, n);
	return out;
}

static int put_line(FILE *f, json_t *o)
{
	int rc = o ? json_dumpf(o, f, JSON_COMPACT) : -1;
	json_decref(o);
	return rc == 0 && fputc('\n', f) != EOF ? 0 : -1;
}

static json_t *col_json(sqlite3_stmt *s, int i)
{
	audit_str a = col_str(s, i);
	return a.s ? json_stringn(a.s, a.n) : json_null();
}

/* Write checkpoints up to last and entries first..last to f. */
static sk_err write_archive(sk_store *st, FILE *f, int64_t first, int64_t last, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	char hx[2 * SK_SIG_LEN + 1];
	int step, bad_io = 0;

	bad_io |= put_line(f, json_pack("{s:i, s:I, s:I, s:I}", "schakel_audit_archive", 1,
					"first", (json_int_t)first, "last", (json_int_t)last,
					"created", (json_int_t)sk_ts_now_us()));
	if (sqlite3_prepare_v2(st->db,
			       "SELECT seq, ts, every, hash, pk, sig FROM audit_checkpoints"
			       " WHERE seq<=?1 ORDER BY seq",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "audit");
	sqlite3_bind_int64(s, 1, last);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *c = json_pack("{s:I, s:I, s:I}", "seq", (json_int_t)sqlite3_column_int64(s, 0),
				      "ts", (json_int_t)sqlite3_column_int64(s, 1), "every",
				      (json_int_t)sqlite3_column_int64(s, 2));
		if (c && sqlite3_column_bytes(s, 3) == H)
			json_object_set_new(c, "hash",
					    json_string(hex_of(sqlite3_column_blob(s, 3), H, hx)));
		if (c && sqlite3_column_bytes(s, 4) == SK_KEY_PK_LEN)
			json_object_set_new(
			    c, "pk",
			    json_string(hex_of(sqlite3_column_blob(s, 4), SK_KEY_PK_LEN, hx)));
		if (c && sqlite3_column_bytes(s, 5) == SK_SIG_LEN)
			json_object_set_new(
			    c, "sig", json_string(hex_of(sqlite3_column_blob(s, 5), SK_SIG_LEN, hx)));
		bad_io |= put_line(f, c ? json_pack("{s:o}", "checkpoint", c) : NULL);
	}
	sqlite3_finalize(s);
	if (step != SQLITE_DONE)
		return sk_store_dberr(st, err, "audit");
	if (sqlite3_prepare_v2(st->db,
			       "SELECT seq, ts, actor, action, subject, detail, versions, prev, hash"
			       " FROM audit WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "audit");
	sqlite3_bind_int64(s, 1, first);
	sqlite3_bind_int64(s, 2, last);
	while ((step = sqlite3_step(s)) == SQLITE_ROW && !bad_io) {
		char hp[2 * H + 1];
		json_t *o = json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "seq",
				      (json_int_t)sqlite3_column_int64(s, 0), "ts",
				      (json_int_t)sqlite3_column_int64(s, 1), "actor", col_json(s, 2),
				      "action", col_json(s, 3), "subject", col_json(s, 4), "detail",
				      col_json(s, 5), "versions", col_json(s, 6));
		if (o && sqlite3_column_bytes(s, 7) == H && sqlite3_column_bytes(s, 8) == H) {
			json_object_set_new(o, "prev",
					    json_string(hex_of(sqlite3_column_blob(s, 7), H, hp)));
			json_object_set_new(o, "hash",
					    json_string(hex_of(sqlite3_column_blob(s, 8), H, hp)));
		}
		bad_io |= put_line(f, o);
	}
	sqlite3_finalize(s);
	if (step != SQLITE_DONE && !bad_io)
		return sk_store_dberr(st, err, "audit");
	if (bad_io || fflush(f) != 0 || fsync(fileno(f)) != 0)
		return sk_error_set(err, SK_EIO, "writing the archive: %s", strerror(errno));
	return SK_OK;
}

/* The range to archive: entries first..last, last the newest older than before. */
static sk_err archive_range(sk_store *st, int64_t before, int64_t *first, int64_t *last,
			    sk_error *err)
{
	sqlite3_stmt *s = NULL;
	*first = *last = 0;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT (SELECT min(seq) FROM audit),"
			       " (SELECT max(seq) FROM audit WHERE ts<?1)",
			       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "audit");
	sqlite3_bind_int64(s, 1, before);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*first = sqlite3_column_int64(s, 0);
		*last = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return SK_OK;
}

sk_err sk_audit_archive(sk_store *st, int64_t before_us, const char *path, int64_t *moved,
			sk_error *err)
{
	unsigned char hash[H];
	int64_t first = 0, last = 0, first2 = 0, last2 = 0;
	sqlite3_stmt *s = NULL;
	struct stat sb;
	char detail[256];
	FILE *f = NULL;
	sk_err rc;

	if (moved)
		*moved = 0;
	if (stat(path, &sb) == 0)
		return sk_error_set(err, SK_EEXIST, "%s exists (an archive is never overwritten)",
				    path);
	/* 1. sign the last entry to move: the anchor of those that stay */
	sk_audit_lock();
	if ((rc = sk_store_begin(st, err))) {
		sk_audit_unlock();
		return rc;
	}
	rc = archive_range(st, before_us, &first, &last, err);
	if (!rc && last && sqlite3_prepare_v2(st->db, "SELECT hash FROM audit WHERE seq=?1", -1,
					      &s, NULL) != SQLITE_OK)
		rc = sk_store_dberr(st, err, "audit");
	if (!rc && last) {
		sqlite3_bind_int64(s, 1, last);
		if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_bytes(s, 0) != H)
			rc = sk_error_set(err, SK_EDB, "audit: entry %lld has no hash",
					  (long long)last);
		else
			memcpy(hash, sqlite3_column_blob(s, 0), H);
		sqlite3_finalize(s);
		if (!rc)
			rc = sk_audit_put_checkpoint(st, last, hash, err);
	}
	if (!rc)
		rc = sk_store_commit(st, err);
	else
		sk_store_rollback(st);
	sk_audit_unlock();
	if (rc || !last)
		return rc;
	/* 2. the file, from a snapshot (entries up to last never change) */
	if (!(f = sk_fopen_private(path, false)))
		return sk_error_set(err, SK_EIO, "%s: %s", path, strerror(errno));
	if (!(rc = sk_store_exec(st, "BEGIN", err))) {
		rc = write_archive(st, f, first, last, err);
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	}
	if (fclose(f) != 0 && !rc)
		rc = sk_error_set(err, SK_EIO, "%s: %s", path, strerror(errno));
	if (rc) {
		unlink(path);
		return rc;
	}
	/* 3. remove what the file holds, and record the archive in the log */
	sk_audit_lock();
	if ((rc = sk_store_begin(st, err))) {
		sk_audit_unlock();
		return rc;
	}
	rc = archive_range(st, before_us, &first2, &last2, err);
	if (!rc && first2 != first)
		rc = sk_error_set(err, SK_EBUSY, "another archive ran at the same time");
	if (!rc && sqlite3_prepare_v2(st->db, "DELETE FROM audit WHERE seq<=?1", -1, &s, NULL) ==
		       SQLITE_OK) {
		sqlite3_bind_int64(s, 1, last);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sk_store_dberr(st, err, "audit");
		sqlite3_finalize(s);
	}
	if (!rc && sqlite3_prepare_v2(st->db, "DELETE FROM audit_checkpoints WHERE seq<?1", -1, &s,
				      NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, last);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sk_store_dberr(st, err, "audit");
		sqlite3_finalize(s);
	}
	if (!rc) {
		sk_audit_entry e = {.action = "audit.archive", .detail = detail, .force = true};
		snprintf(detail, sizeof(detail), "{\"first\":%lld,\"last\":%lld,\"entries\":%lld}",
			 (long long)first, (long long)last, (long long)(last - first + 1));
		rc = sk_audit_append(st, &e, err);
	}
	if (!rc)
		rc = sk_store_commit(st, err);
	else
		sk_store_rollback(st);
	sk_audit_unlock();
	if (!rc && moved)
		*moved = last - first + 1;
	return rc;
}
