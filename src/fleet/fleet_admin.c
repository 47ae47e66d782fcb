/*
 * fleet_admin.c - the hub's records of its fleet: which collections are
 * fleet collections, the sensors with their NKey public keys and partners
 * (audiences), the hub's own NKey, the nats-server authorization include
 * that confines each sensor to its audience's stream, and the sensor's
 * credential file.  docs/fleet.md has the subjects and permissions.
 */
#include "schakel/fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schakel/account.h"
#include "schakel/buf.h"
#include "schakel/timestamp.h"
#include "store/store_priv.h"

bool sk_fleet_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > SK_FLEET_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

void sk_fleet_stream_name(const char *audience, char *out, size_t n)
{
	snprintf(out, n, "SKFLEET_%s", audience);
}

void sk_fleet_objects_subject(const char *audience, char *out, size_t n)
{
	snprintf(out, n, "schakel.fleet.%s.objects", audience);
}

void sk_fleet_sightings_subject(const char *sensor, char *out, size_t n)
{
	snprintf(out, n, "schakel.fleet.sightings.%s", sensor);
}

/* Run one statement with text/int parameters ("t", "i"); *changes gets the rows changed. */
static sk_err exec(sk_store *st, const char *q, const char *types, int *changes, sk_error *err, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap;
	sk_err rc = SK_OK;

	if (sk_store_stmt_get(st, q, strlen(q), &s, err))
		return SK_EDB;
	va_start(ap, err);
	for (int i = 0; types[i]; i++) {
		if (types[i] == 't')
			sqlite3_bind_text(s, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
	}
	va_end(ap);
	int step = sqlite3_step(s);
	if ((step & 0xff) == SQLITE_CONSTRAINT)
		rc = SK_EEXIST;
	else if (step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "fleet");
	if (changes)
		*changes = sqlite3_changes(sk_store_sqlite(st));
	sk_store_stmt_put(st, s);
	return rc;
}

sk_err sk_fleet_collection_set(sk_store *st, const char *key, bool on, sk_error *err)
{
	int n = 0;
	sk_err rc = exec(st, "UPDATE collections SET fleet=?2 WHERE name=?1 OR uuid=lower(?1)",
	                 "ti", &n, err, key, (int64_t)on);
	if (!rc && n == 0)
		rc = sk_error_set(err, SK_ENOTFOUND, "no collection named '%s'", key);
	return rc;
}

bool sk_fleet_collection_is(sk_store *st, int64_t cid)
{
	static const char q[] = "SELECT fleet FROM collections WHERE cid=?1";
	sqlite3_stmt *s = NULL;
	bool yes;
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, NULL))
		return false;
	sqlite3_bind_int64(s, 1, cid);
	yes = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0);
	sk_store_stmt_put(st, s);
	return yes;
}

sk_err sk_fleet_sensor_add(sk_store *st, const char *name, const char *partner,
                           char seed[SK_NKEY_SEED_LEN + 1], sk_error *err)
{
	char pub[SK_NKEY_PUB_LEN + 1];
	sk_principal p;
	sk_err rc;

	if (!sk_fleet_name_ok(name))
		return sk_error_set(err, SK_EINVAL,
		                    "sensor name '%s': 1-%d of A-Z a-z 0-9 _ - (it names a NATS "
		                    "consumer and subject)",
		                    name ? name : "", SK_FLEET_NAME_MAX);
	if (!sk_fleet_name_ok(partner))
		return sk_error_set(err, SK_EINVAL,
		                    "partner '%s' cannot name an audience stream: a fleet partner "
		                    "name is 1-%d of A-Z a-z 0-9 _ -",
		                    partner ? partner : "", SK_FLEET_NAME_MAX);
	if ((rc = sk_partner_principal(st, partner, &p, err)))
		return rc;
	sk_nkey_new(seed, pub);
	rc = exec(st, "INSERT INTO fleet_sensors(name, partner, pk, created) VALUES(?1,?2,?3,?4)",
	          "ttti", NULL, err, name, partner, pub, sk_ts_now_us());
	if (rc == SK_EEXIST)
		rc = sk_error_set(err, SK_EEXIST, "a sensor named '%s' exists", name);
	if (rc)
		sodium_memzero(seed, SK_NKEY_SEED_LEN + 1);
	return rc;
}

sk_err sk_fleet_sensor_remove(sk_store *st, const char *name, sk_error *err)
{
	int n = 0;
	sk_err rc = exec(st, "DELETE FROM fleet_sensors WHERE name=?1", "t", &n, err, name);
	if (!rc && n == 0)
		rc = sk_error_set(err, SK_ENOTFOUND, "no sensor named '%s'", name);
	return rc;
}

sk_err sk_fleet_sensors(sk_store *st, int (*fn)(void *ud, const sk_fleet_sensor *s), void *ud,
                        sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;
	int step;

	if (sqlite3_prepare_v2(sk_store_sqlite(st),
	                       "SELECT name, partner, pk, created, last_seen, sightings"
	                       " FROM fleet_sensors ORDER BY name",
	                       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "fleet sensors");
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sk_fleet_sensor r = {
		    .name = (const char *)sqlite3_column_text(s, 0),
		    .partner = (const char *)sqlite3_column_text(s, 1),
		    .pk = (const char *)sqlite3_column_text(s, 2),
		    .created = sqlite3_column_int64(s, 3),
		    .last_seen = sqlite3_column_int64(s, 4),
		    .sightings = sqlite3_column_int64(s, 5),
		};
		if (fn(ud, &r))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "fleet sensors");
	sqlite3_finalize(s);
	return rc;
}

sk_err sk_fleet_hub_seed(sk_store *st, char seed[SK_NKEY_SEED_LEN + 1], sk_error *err)
{
	static const char q[] = "SELECT value FROM meta WHERE key='fleet.hub_seed'";
	sqlite3_stmt *s = NULL;
	char pub[SK_NKEY_PUB_LEN + 1];
	bool found = false;

	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err))
		return SK_EDB;
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(seed, SK_NKEY_SEED_LEN + 1, "%s", (const char *)sqlite3_column_text(s, 0));
		found = true;
	}
	sk_store_stmt_put(st, s);
	if (found)
		return SK_OK;
	sk_nkey_new(seed, pub);
	return exec(st, "INSERT INTO meta(key, value) VALUES('fleet.hub_seed', ?1)", "t", NULL, err,
	            seed);
}

typedef struct authz_ctx {
	sk_buf *b;
	bool oom;
} authz_ctx;

static void add(authz_ctx *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(authz_ctx *a, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) || sk_buf_append(a->b, line, (size_t)n))
		a->oom = true;
}

static int authz_sensor(void *ud, const sk_fleet_sensor *s)
{
	authz_ctx *a = ud;
	char st[160], subj[160];
	sk_fleet_stream_name(s->partner, st, sizeof(st));
	sk_fleet_sightings_subject(s->name, subj, sizeof(subj));
	add(a,
	    "    # sensor %s, audience %s\n"
	    "    { nkey: %s, permissions: {\n"
	    "        publish: { allow: [\"$JS.API.INFO\", \"$JS.API.STREAM.INFO.%s\",\n"
	    "          \"$JS.API.CONSUMER.INFO.%s.%s\", "
	    "\"$JS.API.CONSUMER.DURABLE.CREATE.%s.%s\",\n"
	    "          \"$JS.API.CONSUMER.CREATE.%s.%s.>\", \"$JS.API.CONSUMER.MSG.NEXT.%s.%s\",\n"
	    "          \"$JS.ACK.%s.%s.>\", \"%s\"] }\n"
	    "        subscribe: { allow: [\"_INBOX.>\"] }\n"
	    "    } }\n",
	    s->name, s->partner, s->pk, st, st, s->name, st, s->name, st, s->name, st, s->name, st,
	    s->name, subj);
	return 0;
}

sk_err sk_fleet_authz_write(sk_store *st, const char *path, sk_error *err)
{
	char seed[SK_NKEY_SEED_LEN + 1], pub[SK_NKEY_PUB_LEN + 1], tmp[4096];
	sk_buf b;
	authz_ctx a = {.b = &b};
	sk_err rc;
	int fd;

	sk_buf_init(&b, (size_t)64 << 20);
	if ((rc = sk_fleet_hub_seed(st, seed, err)) || (rc = sk_nkey_pub_of_seed(seed, pub, err)))
		goto out;
	add(&a,
	    "# nats-server authorization for the schakel fleet; written by `schakel fleet`,\n"
	    "# do not edit (it is rewritten).  Include it in the server configuration and\n"
	    "# reload the server: nats-server --signal reload\n"
	    "authorization {\n"
	    "  users = [\n"
	    "    # the hub\n"
	    "    { nkey: %s }\n",
	    pub);
	if ((rc = sk_fleet_sensors(st, authz_sensor, &a, err)))
		goto out;
	add(&a, "  ]\n}\n");
	if (a.oom) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		rc = sk_error_set(err, SK_EINVAL, "%s: path too long", path);
		goto out;
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len || fsync(fd) || close(fd) ||
	    rename(tmp, path)) {
		rc = sk_error_set(err, SK_EIO, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	}
out:
	sodium_memzero(seed, sizeof(seed));
	sk_buf_free(&b);
	return rc;
}

/* --- the sensor's credential file ------------------------------------------------ */

sk_err sk_fleet_creds_make(sk_store *st, const char *name, const char *seed, sk_fleet_creds *c,
                           sk_error *err)
{
	static const char q[] = "SELECT partner FROM fleet_sensors WHERE name=?1";
	const sk_keypair *kp = sk_store_own_key(st);
	const char *own = sk_store_own_id(st);
	sqlite3_stmt *s = NULL;
	bool found = false;

	memset(c, 0, sizeof(*c));
	if (!own || !kp)
		return sk_error_set(err, SK_EINVAL,
		                    "the hub has no identity or signing key (schakel init; schakel "
		                    "key generate)");
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err))
		return SK_EDB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(c->audience, sizeof(c->audience), "%s",
		         (const char *)sqlite3_column_text(s, 0));
		found = true;
	}
	sk_store_stmt_put(st, s);
	if (!found)
		return sk_error_set(err, SK_ENOTFOUND, "no sensor named '%s'", name);
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->seed, sizeof(c->seed), "%s", seed);
	snprintf(c->hub, sizeof(c->hub), "%s", own);
	sk_key_b64(kp->pk, c->hub_key);
	return SK_OK;
}

char *sk_fleet_creds_text(const sk_fleet_creds *c)
{
	size_t n = 512 + sizeof(*c);
	char *t = malloc(n);
	if (t)
		snprintf(t, n,
		         "# schakel fleet sensor credentials: keep secret (0600)\n"
		         "sensor %s\naudience %s\nhub %s\nhub-key %s\nseed %s\n",
		         c->name, c->audience, c->hub, c->hub_key, c->seed);
	return t;
}

static bool take(const char *line, const char *key, char *dst, size_t n)
{
	size_t k = strlen(key);
	if (strncmp(line, key, k) || line[k] != ' ')
		return false;
	line += k + 1;
	size_t len = strcspn(line, "\r\n");
	if (len >= n)
		return false;
	memcpy(dst, line, len);
	dst[len] = '\0';
	return true;
}

sk_err sk_fleet_creds_read(const char *path, sk_fleet_creds *c, sk_error *err)
{
	char line[512];
	unsigned char tmp[32], pk[SK_KEY_PK_LEN];
	int lineno = 0;
	sk_err rc = SK_OK;
	FILE *f = fopen(path, "r");

	memset(c, 0, sizeof(*c));
	if (!f)
		return sk_error_set(err, SK_EIO, "%s: %s", path, strerror(errno));
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (!take(line, "sensor", c->name, sizeof(c->name)) &&
		    !take(line, "audience", c->audience, sizeof(c->audience)) &&
		    !take(line, "hub", c->hub, sizeof(c->hub)) &&
		    !take(line, "hub-key", c->hub_key, sizeof(c->hub_key)) &&
		    !take(line, "seed", c->seed, sizeof(c->seed)))
			rc = sk_error_set(err, SK_EINVAL, "%s:%d: not a credential line", path,
			                  lineno);
	}
	fclose(f);
	sodium_memzero(line, sizeof(line));
	if (rc)
		goto fail;
	if (!sk_fleet_name_ok(c->name) || !sk_fleet_name_ok(c->audience) || !c->hub[0])
		rc = sk_error_set(err, SK_EINVAL, "%s: needs sensor, audience and hub lines", path);
	else if (!sk_key_parse(c->hub_key, pk))
		rc = sk_error_set(err, SK_EINVAL, "%s: hub-key is not a public key", path);
	else if (sk_nkey_decode_seed(c->seed, tmp, err))
		rc = sk_error_set(err, SK_EINVAL, "%s: seed: %s", path, err->msg);
	sodium_memzero(tmp, sizeof(tmp));
	if (!rc)
		return SK_OK;
fail:
	sodium_memzero(c, sizeof(*c));
	return rc;
}
