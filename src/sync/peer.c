/*
 * peer.c - peer configuration (peers table) and the secrets file.
 *
 * Secrets file format: one line per peer, "NAME<TAB>SECRET", where SECRET is
 * the password or token with no control characters.  It is rewritten whole
 * into "<path>.tmp" (created O_CREAT|O_EXCL, fchmod 0600, fsync) and renamed
 * over the old one, so a crash leaves either the old or the new file.
 */
#include "schakel/peer.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schakel/account.h"
#include "schakel/audit.h"
#include "schakel/buf.h"
#include "schakel/timestamp.h"
#include "store/store_priv.h"

char *sk_peer_secrets_path(const char *db_path)
{
	size_t n = strlen(db_path) + sizeof(".secrets");
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s.secrets", db_path);
	return p;
}

static void wipe(char *s, size_t n)
{
	volatile char *v = s;
	while (n--)
		*v++ = 0;
}

/* Read the whole secrets file (NULL content if it does not exist). */
static sk_err read_secrets(const char *path, sk_buf *b, sk_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat sb;
	char chunk[4096];
	ssize_t n;

	sk_buf_init(b, (size_t)16 << 20);
	if (fd < 0) {
		if (errno == ENOENT)
			return SK_OK;
		return sk_error_set(err, SK_EIO, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &sb) || (sb.st_mode & 077)) {
		close(fd);
		return sk_error_set(err, SK_EPERM,
		                    "%s: readable by others (chmod 600 it); refusing to use it",
		                    path);
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (sk_buf_append(b, chunk, (size_t)n)) {
			close(fd);
			wipe(chunk, sizeof(chunk));
			return sk_error_set(err, SK_ELIMIT, "%s: too large", path);
		}
	wipe(chunk, sizeof(chunk));
	close(fd);
	return n < 0 ? sk_error_set(err, SK_EIO, "%s: %s", path, strerror(errno)) : SK_OK;
}

/* Rewrite the file without name's line, adding "name\tsecret" if secret. */
static sk_err write_secrets(const char *path, const char *name, const char *secret, sk_error *err)
{
	sk_buf old, nb;
	size_t tl = strlen(path) + 5;
	char *tmp = malloc(tl);
	size_t nl = strlen(name);
	int fd = -1;
	sk_err rc;

	if (!tmp)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	snprintf(tmp, tl, "%s.tmp", path);
	sk_buf_init(&nb, (size_t)16 << 20);
	if ((rc = read_secrets(path, &old, err)))
		goto out;
	for (size_t i = 0; old.data && i < old.len;) {
		size_t e = i;
		while (e < old.len && old.data[e] != '\n')
			e++;
		bool mine =
		    e - i > nl && !memcmp(old.data + i, name, nl) && old.data[i + nl] == '\t';
		if (!mine && e > i &&
		    (rc = sk_buf_append(&nb, old.data + i, e - i + (e < old.len))))
			goto out;
		i = e + 1;
	}
	if (secret && (rc = sk_buf_printf(&nb, "%s\t%s\n", name, secret)))
		goto out;
	unlink(tmp); /* a stale one from a crash */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fchmod(fd, 0600) ||
	    (nb.len && write(fd, nb.data, nb.len) != (ssize_t)nb.len) || fsync(fd) ||
	    rename(tmp, path)) {
		rc = sk_error_set(err, SK_EIO, "%s: %s", path, strerror(errno));
		unlink(tmp);
	}
out:
	if (fd >= 0)
		close(fd);
	if (old.data)
		wipe(old.data, old.len);
	if (nb.data)
		wipe(nb.data, nb.len);
	sk_buf_free(&old);
	sk_buf_free(&nb);
	free(tmp);
	return rc;
}

static sk_err load_secret(const char *path, const char *name, char **out, sk_error *err)
{
	sk_buf b;
	size_t nl = strlen(name);
	sk_err rc = read_secrets(path, &b, err);

	*out = NULL;
	for (size_t i = 0; !rc && b.data && i < b.len;) {
		size_t e = i;
		while (e < b.len && b.data[e] != '\n')
			e++;
		if (e - i > nl && !memcmp(b.data + i, name, nl) && b.data[i + nl] == '\t') {
			*out = strndup(b.data + i + nl + 1, e - i - nl - 1);
			if (!*out)
				rc = sk_error_set(err, SK_ENOMEM, "out of memory");
			break;
		}
		i = e + 1;
	}
	if (b.data)
		wipe(b.data, b.len);
	sk_buf_free(&b);
	if (!rc && !*out)
		rc = sk_error_set(err, SK_ENOTFOUND, "no secret for peer '%s' in %s", name, path);
	return rc;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > SK_PEER_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!(*s == '-' || *s == '_' || *s == '.' || (*s >= '0' && *s <= '9') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

static bool secret_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* The checks a peer's settings pass, on add and on set. */
static sk_err validate(const sk_peer_params *p, sk_error *err)
{
	const char *auth = p->auth ? p->auth : "none";
	bool needs_secret = strcmp(auth, "none") != 0;
	unsigned char pk[SK_KEY_PK_LEN];

	if (!p->name || !name_ok(p->name))
		return sk_error_set(err, SK_EINVAL,
		                    "peer name: 1-%d letters, digits, '-', '_' or '.'",
		                    SK_PEER_NAME_MAX);
	if (!p->url || (strncmp(p->url, "http://", 7) && strncmp(p->url, "https://", 8)))
		return sk_error_set(err, SK_EINVAL, "peer URL must be http:// or https://");
	{
		/* credentials in the URL would be stored, listed and logged in clear */
		const char *auth_part = strstr(p->url, "://") + 3;
		size_t alen = strcspn(auth_part, "/?#");
		if (memchr(auth_part, '@', alen))
			return sk_error_set(err, SK_EINVAL,
			                    "peer URL must not carry credentials (user:password@); "
			                    "use --auth with --secret-stdin");
	}
	if (!p->api_root || !*p->api_root || !p->collection || !*p->collection)
		return sk_error_set(err, SK_EINVAL, "a peer needs --api-root and --collection");
	if (strcmp(auth, "none") && strcmp(auth, "basic") && strcmp(auth, "token"))
		return sk_error_set(err, SK_EINVAL, "--auth: basic, token or none");
	if (!strcmp(auth, "basic") && (!p->username || !*p->username))
		return sk_error_set(err, SK_EINVAL, "--auth basic needs --user");
	if (needs_secret && (!p->secret || !*p->secret || !secret_ok(p->secret)))
		return sk_error_set(err, SK_EINVAL,
		                    "--auth %s needs a secret (no control "
		                    "characters)",
		                    auth);
	if (p->tls_pin && (strncmp(p->tls_pin, "sha256//", 8) || strlen(p->tls_pin) != 52))
		return sk_error_set(err, SK_EINVAL, "TLS pin: sha256// and 44 base64 characters");
	if (p->tls_pin && strncmp(p->url, "https://", 8))
		return sk_error_set(err, SK_EINVAL, "a TLS pin needs an https:// URL");
	if ((p->key || p->tofu) && !p->identity)
		return sk_error_set(err, SK_EINVAL,
		                    "--key and --trust-on-first-use need --identity");
	if (p->key && !sk_key_parse(p->key, pk))
		return sk_error_set(err, SK_EINVAL,
		                    "--key: an Ed25519 public key in base64 (or "
		                    "64 hex digits)");
	return SK_OK;
}

/*
 * The local collection a peer's objects land in, created when missing (as
 * `import --collection` does).  Inside the caller's transaction.
 */
static sk_err local_coll(sk_store *st, const char *name, sk_collection *c, sk_error *err)
{
	sk_err rc = sk_collection_resolve(st, name ? name : "default", c, err);
	if (rc == SK_ENOTFOUND)
		rc = sk_store_collection_add(st, name ? name : "default", NULL, NULL, NULL, c, err);
	return rc;
}

/*
 * The audit log's entry for a peer added or changed: where data may now go
 * (never the secret); cursor_reset < 0 leaves that field out.
 */
static sk_err audit_peer(sk_store *st, const char *action, const sk_peer_params *p,
                         const char *local, int cursor_reset, sk_error *err)
{
	char subj[SK_PEER_NAME_MAX + 8];
	json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:s?}", "peer", p->name,
	                      "url", p->url, "api_root", p->api_root, "collection", p->collection,
	                      "local_collection", local, "pull", p->pull, "push", p->push,
	                      "reshare", p->reshare, "identity", p->identity);
	char *ds;
	sk_err rc;

	if (d && cursor_reset >= 0)
		json_object_set_new(d, "cursor_reset", json_boolean(cursor_reset));
	ds = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	sk_audit_entry e = {.action = action, .subject = subj, .detail = ds};
	snprintf(subj, sizeof(subj), "peer:%s", p->name);
	rc = ds ? sk_audit_append(st, &e, err) : sk_error_set(err, SK_ENOMEM, "out of memory");
	json_decref(d);
	free(ds);
	return rc;
}

sk_err sk_peer_add(sk_store *st, const char *db_path, const sk_peer_params *p, sk_error *err)
{
	unsigned char pk[SK_KEY_PK_LEN];
	static const char q[] =
	    "INSERT INTO peers(name,url,api_root,collection,auth,username,secret_ref,pull,push,"
	    "ca,identity,local_coll,reshare,interval,created,unmarked_tlp,tofu,tls_pin)"
	    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)";
	const char *auth = p->auth ? p->auth : "none";
	bool needs_secret = strcmp(auth, "none") != 0;
	sk_collection c = {0};
	sqlite3_stmt *s = NULL;
	char *spath = NULL;
	sk_err rc;

	if ((rc = validate(p, err)))
		return rc;
	if (p->key)
		sk_key_parse(p->key, pk); /* validate() checked it */
	if ((rc = sk_store_begin(st, err)))
		goto out;
	if ((rc = local_coll(st, p->local_collection, &c, err)))
		goto rollback;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "peers");
		goto rollback;
	}
	sqlite3_bind_text(s, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, p->url, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, p->api_root, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, p->collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, auth, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, p->username, -1, SQLITE_STATIC);
	if (needs_secret)
		sqlite3_bind_text(s, 7, "secrets-file", -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 8, p->pull);
	sqlite3_bind_int(s, 9, p->push);
	sqlite3_bind_text(s, 10, p->ca, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, p->identity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 12, c.cid);
	sqlite3_bind_int(s, 13, p->reshare);
	sqlite3_bind_int(s, 14, p->interval > 0 ? p->interval : 30);
	sqlite3_bind_int64(s, 15, sk_ts_now_us());
	sqlite3_bind_int(s, 16, p->unmarked != SK_TLP_NONE ? (int)p->unmarked : (int)SK_TLP_AMBER);
	sqlite3_bind_int(s, 17, p->tofu);
	sqlite3_bind_text(s, 18, p->tls_pin, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = sqlite3_extended_errcode(sk_store_sqlite(st)) == SQLITE_CONSTRAINT_UNIQUE
		         ? sk_error_set(err, SK_EEXIST, "peer '%s' already exists", p->name)
		         : sk_store_dberr(st, err, "peers");
		goto rollback;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (sk_store_exec(st, "INSERT INTO peer_state(pid) VALUES(last_insert_rowid())", err)) {
		rc = SK_EDB;
		goto rollback;
	}
	if (p->key && (rc = sk_store_key_pin(st, p->identity, pk, "configured", err)))
		goto rollback;
	/* the secret first: a peer row never points at a missing secret */
	if (needs_secret) {
		if (!(spath = sk_peer_secrets_path(db_path))) {
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
			goto rollback;
		}
		if ((rc = write_secrets(spath, p->name, p->secret, err)))
			goto rollback;
	}
	if ((rc = audit_peer(st, "peer.add", p, c.name, -1, err)))
		goto rollback;
	if ((rc = sk_store_commit(st, err)))
		goto out;
	goto out;
rollback:
	sqlite3_finalize(s);
	s = NULL;
	sk_store_rollback(st);
out:
	sqlite3_finalize(s);
	free(spath);
	sk_collection_clear(&c);
	return rc;
}

sk_err sk_peer_set(sk_store *st, const char *db_path, const char *name, const sk_peer_params *p,
                   unsigned f, bool *cursor_reset, sk_error *err)
{
	static const char q[] =
	    "UPDATE peers SET url=?2, api_root=?3, collection=?4, auth=?5, username=?6,"
	    " secret_ref=?7, pull=?8, push=?9, ca=?10, identity=?11, local_coll=?12, reshare=?13,"
	    " interval=?14, unmarked_tlp=?15, tofu=?16, tls_pin=?17 WHERE pid=?1";
	unsigned char pk[SK_KEY_PK_LEN];
	sk_peer cur;
	sk_peer_params n;
	sk_collection c = {0};
	sqlite3_stmt *s = NULL;
	char *spath = NULL;
	bool moved, needs_secret;
	sk_err rc;

	if (cursor_reset)
		*cursor_reset = false;
	if ((rc = sk_peer_get(st, db_path, name, &cur, err)))
		return rc;
	n = (sk_peer_params){.name = cur.name,
	                     .url = cur.url,
	                     .api_root = cur.api_root,
	                     .collection = cur.collection,
	                     .auth = cur.auth,
	                     .username = cur.username,
	                     .secret = cur.secret,
	                     .ca = cur.ca,
	                     .identity = cur.identity,
	                     .local_collection = cur.local_coll,
	                     .pull = cur.pull,
	                     .push = cur.push,
	                     .reshare = cur.reshare,
	                     .interval = cur.interval,
	                     .unmarked = cur.unmarked,
	                     .tofu = cur.tofu,
	                     .tls_pin = cur.tls_pin};
	if (f & SK_PEER_SET_URL)
		n.url = p->url;
	if (f & SK_PEER_SET_API_ROOT)
		n.api_root = p->api_root;
	if (f & SK_PEER_SET_COLLECTION)
		n.collection = p->collection;
	if (f & SK_PEER_SET_AUTH) {
		n.auth = p->auth;
		n.username = p->username;
	}
	if (f & SK_PEER_SET_SECRET)
		n.secret = p->secret;
	if (f & SK_PEER_SET_PULL)
		n.pull = p->pull;
	if (f & SK_PEER_SET_PUSH)
		n.push = p->push;
	if (f & SK_PEER_SET_CA)
		n.ca = p->ca;
	if (f & SK_PEER_SET_IDENTITY)
		n.identity = p->identity;
	if (f & SK_PEER_SET_LOCAL)
		n.local_collection = p->local_collection;
	if (f & SK_PEER_SET_RESHARE)
		n.reshare = p->reshare;
	if (f & SK_PEER_SET_INTERVAL)
		n.interval = p->interval;
	if (f & SK_PEER_SET_UNMARKED)
		n.unmarked = p->unmarked;
	if (f & SK_PEER_SET_KEY)
		n.key = p->key;
	if (f & SK_PEER_SET_TOFU)
		n.tofu = p->tofu;
	if (f & SK_PEER_SET_TLS_PIN)
		n.tls_pin = p->tls_pin;
	if (!n.pull && !n.push) {
		rc = sk_error_set(err, SK_EINVAL, "a peer is pulled from, pushed to, or both");
		goto out;
	}
	if ((rc = validate(&n, err)))
		goto out;
	needs_secret = strcmp(n.auth ? n.auth : "none", "none") != 0;
	moved = strcmp(n.url, cur.url) || strcmp(n.api_root, cur.api_root) ||
	        strcmp(n.collection, cur.collection);
	if (n.key && !sk_key_parse(n.key, pk)) {
		rc = sk_error_set(err, SK_EINVAL, "--key: an Ed25519 public key");
		goto out;
	}
	if ((rc = sk_store_begin(st, err)))
		goto out;
	if ((rc = local_coll(st, n.local_collection, &c, err)))
		goto rollback;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "peers");
		goto rollback;
	}
	sqlite3_bind_int64(s, 1, cur.pid);
	sqlite3_bind_text(s, 2, n.url, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, n.api_root, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, n.collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, n.auth ? n.auth : "none", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, needs_secret ? n.username : NULL, -1, SQLITE_STATIC);
	if (needs_secret)
		sqlite3_bind_text(s, 7, "secrets-file", -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 8, n.pull);
	sqlite3_bind_int(s, 9, n.push);
	sqlite3_bind_text(s, 10, n.ca, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, n.identity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 12, c.cid);
	sqlite3_bind_int(s, 13, n.reshare);
	sqlite3_bind_int(s, 14, n.interval > 0 ? n.interval : 30);
	sqlite3_bind_int(s, 15, n.unmarked != SK_TLP_NONE ? (int)n.unmarked : (int)SK_TLP_AMBER);
	sqlite3_bind_int(s, 16, n.tofu);
	sqlite3_bind_text(s, 17, n.tls_pin, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = sk_store_dberr(st, err, "peers");
		goto rollback;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (moved) {
		/* a cursor into another collection would skip what this one has */
		static const char qr[] =
		    "UPDATE peer_state SET pull_cursor=NULL, next_run=0 WHERE pid=?1";
		if (sqlite3_prepare_v2(sk_store_sqlite(st), qr, -1, &s, NULL) != SQLITE_OK) {
			rc = sk_store_dberr(st, err, "peer state");
			goto rollback;
		}
		sqlite3_bind_int64(s, 1, cur.pid);
		if (sqlite3_step(s) != SQLITE_DONE) {
			rc = sk_store_dberr(st, err, "peer state");
			goto rollback;
		}
		sqlite3_finalize(s);
		s = NULL;
		if (cursor_reset)
			*cursor_reset = true;
	}
	if (n.key && (rc = sk_store_key_pin(st, n.identity, pk, "configured", err)))
		goto rollback;
	if ((needs_secret && (f & (SK_PEER_SET_SECRET | SK_PEER_SET_AUTH))) ||
	    (!needs_secret && cur.secret)) {
		/* a new secret replaces the old; a peer without one keeps none */
		if (!(spath = sk_peer_secrets_path(db_path))) {
			rc = sk_error_set(err, SK_ENOMEM, "out of memory");
			goto rollback;
		}
		if ((rc = write_secrets(spath, cur.name, needs_secret ? n.secret : NULL, err)))
			goto rollback;
	}
	n.name = cur.name;
	if ((rc = audit_peer(st, "peer.set", &n, c.name, moved, err)))
		goto rollback;
	rc = sk_store_commit(st, err);
	goto out;
rollback:
	sqlite3_finalize(s);
	s = NULL;
	sk_store_rollback(st);
out:
	sqlite3_finalize(s);
	free(spath);
	sk_collection_clear(&c);
	sk_peer_clear(&cur);
	return rc;
}

sk_err sk_peer_remove(sk_store *st, const char *db_path, const char *name, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	char *spath = NULL;
	int64_t pid = 0;
	sk_err rc;

	if ((rc = sk_store_begin(st, err)))
		return rc;
	if (sqlite3_prepare_v2(sk_store_sqlite(st), "SELECT pid FROM peers WHERE name=?1", -1, &s,
	                       NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "peers");
		goto fail;
	}
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		pid = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if (!pid) {
		rc = sk_error_set(err, SK_ENOTFOUND, "no peer '%s'", name);
		goto fail;
	}
	for (int i = 0; i < 3; i++) {
		static const char *const del[] = {"DELETE FROM outbox WHERE pid=?1",
		                                  "DELETE FROM peer_state WHERE pid=?1",
		                                  "DELETE FROM peers WHERE pid=?1"};
		if (sqlite3_prepare_v2(sk_store_sqlite(st), del[i], -1, &s, NULL) != SQLITE_OK) {
			rc = sk_store_dberr(st, err, "peers");
			goto fail;
		}
		sqlite3_bind_int64(s, 1, pid);
		if (sqlite3_step(s) != SQLITE_DONE) {
			rc = sk_store_dberr(st, err, "peers");
			goto fail;
		}
		sqlite3_finalize(s);
		s = NULL;
	}
	{
		char subj[SK_PEER_NAME_MAX + 8];
		sk_audit_entry e = {.action = "peer.remove", .subject = subj};
		snprintf(subj, sizeof(subj), "peer:%s", name);
		if ((rc = sk_audit_append(st, &e, err)))
			goto fail;
	}
	if ((rc = sk_store_commit(st, err)))
		return rc;
	spath = sk_peer_secrets_path(db_path);
	if (spath && access(spath, F_OK) == 0)
		rc = write_secrets(spath, name, NULL, err);
	free(spath);
	return rc;
fail:
	sqlite3_finalize(s);
	sk_store_rollback(st);
	return rc;
}

#define PEER_COLS                                                                                  \
	"SELECT p.pid, p.name, p.url, p.api_root, p.collection, p.auth, p.username, p.ca,"         \
	" p.identity, p.pull, p.push, p.reshare, p.local_coll, c.name, p.interval,"                \
	" p.unmarked_tlp, p.tofu, p.tls_pin"                                                       \
	" FROM peers p JOIN collections c ON c.cid=p.local_coll"

static char *col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? strdup((const char *)t) : NULL;
}

static void fill(sqlite3_stmt *s, sk_peer *p)
{
	memset(p, 0, sizeof(*p));
	p->pid = sqlite3_column_int64(s, 0);
	p->name = col(s, 1);
	p->url = col(s, 2);
	p->api_root = col(s, 3);
	p->collection = col(s, 4);
	p->auth = col(s, 5);
	p->username = col(s, 6);
	p->ca = col(s, 7);
	p->identity = col(s, 8);
	p->pull = sqlite3_column_int(s, 9) != 0;
	p->push = sqlite3_column_int(s, 10) != 0;
	p->reshare = sqlite3_column_int(s, 11) != 0;
	p->local_cid = sqlite3_column_int64(s, 12);
	p->local_coll = col(s, 13);
	p->interval = sqlite3_column_int(s, 14);
	p->unmarked = (sk_tlp)sqlite3_column_int(s, 15);
	p->tofu = sqlite3_column_int(s, 16) != 0;
	p->tls_pin = col(s, 17);
}

void sk_peer_clear(sk_peer *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->url);
	free(p->api_root);
	free(p->collection);
	free(p->auth);
	free(p->username);
	free(p->ca);
	free(p->identity);
	free(p->local_coll);
	free(p->tls_pin);
	if (p->secret) {
		wipe(p->secret, strlen(p->secret));
		free(p->secret);
	}
	memset(p, 0, sizeof(*p));
}

sk_err sk_peer_get(sk_store *st, const char *db_path, const char *name, sk_peer *out, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(sk_store_sqlite(st), PEER_COLS " WHERE p.name=?1", -1, &s, NULL) !=
	    SQLITE_OK)
		return sk_store_dberr(st, err, "peers");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		fill(s, out);
	else
		rc = sk_error_set(err, SK_ENOTFOUND, "no peer '%s'", name);
	sqlite3_finalize(s);
	if (!rc && !out->name)
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	if (!rc && db_path && out->auth && strcmp(out->auth, "none")) {
		char *spath = sk_peer_secrets_path(db_path);
		rc = spath ? load_secret(spath, out->name, &out->secret, err)
		           : sk_error_set(err, SK_ENOMEM, "out of memory");
		free(spath);
	}
	if (rc)
		sk_peer_clear(out);
	return rc;
}

sk_err sk_peer_list(sk_store *st, int (*fn)(void *ud, const sk_peer *p), void *ud, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	int step;

	if (sqlite3_prepare_v2(sk_store_sqlite(st), PEER_COLS " ORDER BY p.name", -1, &s, NULL) !=
	    SQLITE_OK)
		return sk_store_dberr(st, err, "peers");
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sk_peer p;
		int stop;
		fill(s, &p);
		stop = fn(ud, &p);
		sk_peer_clear(&p);
		if (stop)
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "peers");
	sqlite3_finalize(s);
	return rc;
}

void sk_peer_rx(const sk_peer *p, char *out, size_t n)
{
	if (p->identity && *p->identity)
		snprintf(out, n, "%s", p->identity);
	else
		snprintf(out, n, "peer:%s", p->name);
}

sk_err sk_peer_states(sk_store *st, int (*fn)(void *ud, const sk_peer_state *r), void *ud,
                      sk_error *err)
{
	static const char q[] =
	    "SELECT p.name, p.url, p.collection, p.pull, p.push, s.last_ok, s.last_try,"
	    " s.failures, s.last_error, (SELECT count(*) FROM outbox o WHERE o.pid=p.pid)"
	    " FROM peers p LEFT JOIN peer_state s ON s.pid=p.pid ORDER BY p.name";
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	int step;

	if (sqlite3_prepare_v2(sk_store_sqlite(st), q, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "peer state");
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sk_peer_state r = {
		    .name = (const char *)sqlite3_column_text(s, 0),
		    .url = (const char *)sqlite3_column_text(s, 1),
		    .collection = (const char *)sqlite3_column_text(s, 2),
		    .pull = sqlite3_column_int(s, 3) != 0,
		    .push = sqlite3_column_int(s, 4) != 0,
		    .last_ok_us = sqlite3_column_int64(s, 5),
		    .last_try_us = sqlite3_column_int64(s, 6),
		    .failures = sqlite3_column_int64(s, 7),
		    .last_error = (const char *)sqlite3_column_text(s, 8),
		    .outbox = sqlite3_column_int64(s, 9),
		};
		if (fn(ud, &r))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "peer state");
	sqlite3_finalize(s);
	return rc;
}
