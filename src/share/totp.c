/*
 * totp.c - the console's second factor: time-based one-time passwords
 * (RFC 6238 over RFC 4226: HMAC-SHA-1, 30-second steps, 6 digits), and the
 * per-account secret in the store (accounts.totp_*, schema 11).
 *
 * A code is accepted for the current step and one step either side (clock
 * drift), and only for a step later than the last one accepted, so that a
 * code seen over a shoulder or in a log cannot be used again.  The check and
 * the record of the step are one UPDATE, so two requests racing with the
 * same code cannot both pass.  Secrets are 20 random bytes (RFC 4226's
 * recommended length), shown once as base32 in an otpauth:// URI.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha1.h"
#include "schakel/account.h"
#include "schakel/audit.h"
#include "schakel/timestamp.h"
#include "store/store_priv.h"

#define STEP_S 30

void sk_hmac_sha1(const unsigned char *key, size_t klen, const unsigned char *msg, size_t mlen,
                  unsigned char out[20])
{
	unsigned char k[64] = {0}, pad[64], inner[20];
	sk_sha1 c;

	if (klen > sizeof(k)) {
		sk_sha1_init(&c);
		sk_sha1_update(&c, key, klen);
		sk_sha1_final(&c, k);
	} else {
		memcpy(k, key, klen);
	}
	for (size_t i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	sk_sha1_init(&c);
	sk_sha1_update(&c, pad, 64);
	sk_sha1_update(&c, msg, mlen);
	sk_sha1_final(&c, inner);
	for (size_t i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	sk_sha1_init(&c);
	sk_sha1_update(&c, pad, 64);
	sk_sha1_update(&c, inner, sizeof(inner));
	sk_sha1_final(&c, out);
	sodium_memzero(k, sizeof(k));
	sodium_memzero(pad, sizeof(pad));
}

uint32_t sk_totp_code(const unsigned char *secret, size_t len, uint64_t step, unsigned digits)
{
	unsigned char msg[8], h[20];
	uint32_t bin, mod = 1;
	unsigned off;

	for (int i = 7; i >= 0; i--, step >>= 8)
		msg[i] = (unsigned char)(step & 0xff);
	sk_hmac_sha1(secret, len, msg, sizeof(msg), h);
	off = h[19] & 0x0f; /* dynamic truncation, RFC 4226 5.3 */
	bin = ((uint32_t)(h[off] & 0x7f) << 24) | ((uint32_t)h[off + 1] << 16) |
	      ((uint32_t)h[off + 2] << 8) | h[off + 3];
	for (unsigned i = 0; i < digits; i++)
		mod *= 10;
	return bin % mod;
}

bool sk_totp_match(const unsigned char *secret, size_t len, const char *code, int64_t now_s,
                   int64_t last_step, int64_t *step_out)
{
	char want[8];
	bool found = false;
	int64_t t = now_s / STEP_S;

	if (!code || strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return false;
	/* every candidate is computed and compared, whichever matches */
	for (int64_t s = t - 1; s <= t + 1; s++) {
		snprintf(want, sizeof(want), "%06u",
		         (unsigned)sk_totp_code(secret, len, (uint64_t)s, 6));
		if (sodium_memcmp(want, code, 6) == 0 && s > last_step && !found) {
			*step_out = s;
			found = true;
		}
	}
	return found;
}

void sk_base32(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	size_t o = 0;
	unsigned buf = 0, bits = 0;

	for (size_t i = 0; i < n; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5 && o + 1 < outlen) {
			out[o++] = abc[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits && o + 1 < outlen)
		out[o++] = abc[(buf << (5 - bits)) & 31];
	if (outlen)
		out[o] = '\0';
}

/* The otpauth:// URI of secret for account name (percent-encoded). */
static void make_uri(const char *name, const unsigned char *secret, size_t n, char *uri,
                     size_t urilen)
{
	char b32[64], enc[3 * SK_ACCOUNT_NAME_MAX + 1];
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p && o + 4 < sizeof(enc); p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_')
			enc[o++] = (char)*p;
		else
			o += (size_t)snprintf(enc + o, sizeof(enc) - o, "%%%02X", *p);
	}
	enc[o] = '\0';
	sk_base32(secret, n, b32, sizeof(b32));
	snprintf(uri, urilen,
	         "otpauth://totp/schakel:%s?secret=%s&issuer=schakel&algorithm=SHA1&digits=6"
	         "&period=30",
	         enc, b32);
	sodium_memzero(b32, sizeof(b32));
}

/* --- the store ------------------------------------------------------------------------- */

static sk_err run(sk_store *st, const char *sql, const char *name, const unsigned char *blob,
                  size_t n, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	sk_err rc = SK_OK;

	if (sqlite3_prepare_v2(sk_store_sqlite(st), sql, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "prepare");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (blob)
		sqlite3_bind_blob(s, 2, blob, (int)n, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "account");
	else if (sqlite3_changes(sk_store_sqlite(st)) == 0)
		rc = sk_error_set(err, SK_ENOTFOUND, "no account named '%s'", name);
	sqlite3_finalize(s);
	return rc;
}

/* One audited change of name's second factor. */
static sk_err change(sk_store *st, const char *sql, const char *name, const unsigned char *blob,
                     size_t n, const char *action, sk_error *err)
{
	char subj[SK_ACCOUNT_NAME_MAX + 16];
	sk_audit_entry e = {.action = action, .subject = subj};
	char *d = NULL;
	json_t *detail;
	bool own = false;
	sk_err rc;

	if ((rc = sk_audit_tx_begin(st, &own, err)))
		return rc;
	rc = run(st, sql, name, blob, n, err);
	snprintf(subj, sizeof(subj), "account:%s", name);
	detail = json_pack("{s:s}", "account", name);
	if (!rc && !(d = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS)))
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	e.detail = d;
	rc = sk_audit_tx_end(st, own, rc, &e, err);
	json_decref(detail);
	free(d);
	return rc;
}

sk_err sk_totp_enroll(sk_store *st, const char *name, bool confirmed, char *uri, size_t urilen,
                      sk_error *err)
{
	unsigned char secret[SK_TOTP_SECRET_LEN];
	sk_err rc;

	if (sodium_init() < 0)
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	randombytes_buf(secret, sizeof(secret));
	rc = change(st,
	            confirmed ? "UPDATE accounts SET totp_secret=?2, totp_pending=NULL, totp_step=0"
	                        " WHERE name=?1"
	                      : "UPDATE accounts SET totp_pending=?2 WHERE name=?1",
	            name, secret, sizeof(secret),
	            confirmed ? "account.totp.enable" : "account.totp.enroll", err);
	if (!rc)
		make_uri(name, secret, sizeof(secret), uri, urilen);
	sodium_memzero(secret, sizeof(secret));
	return rc;
}

sk_err sk_totp_disable(sk_store *st, const char *name, sk_error *err)
{
	return change(st,
	              "UPDATE accounts SET totp_secret=NULL, totp_pending=NULL, totp_step=0"
	              " WHERE name=?1",
	              name, NULL, 0, "account.totp.disable", err);
}

/* The secret in column col of account aid (pending or enrolled); false if none. */
static bool load(sk_store *st, int64_t aid, const char *col, unsigned char s[SK_TOTP_SECRET_LEN],
                 int64_t *step)
{
	char sql[128];
	sqlite3_stmt *q = NULL;
	bool ok = false;

	snprintf(sql, sizeof(sql), "SELECT %s, totp_step FROM accounts WHERE aid=?1", col);
	if (sqlite3_prepare_v2(sk_store_sqlite(st), sql, -1, &q, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int64(q, 1, aid);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 0) == SK_TOTP_SECRET_LEN) {
		memcpy(s, sqlite3_column_blob(q, 0), SK_TOTP_SECRET_LEN);
		*step = sqlite3_column_int64(q, 1);
		ok = true;
	}
	sqlite3_finalize(q);
	return ok;
}

bool sk_totp_enabled(sk_store *st, int64_t aid)
{
	unsigned char s[SK_TOTP_SECRET_LEN];
	int64_t step;
	bool on = load(st, aid, "totp_secret", s, &step);
	sodium_memzero(s, sizeof(s));
	return on;
}

/* Record step as the last accepted one, unless a later one was (the race guard). */
static bool take_step(sk_store *st, int64_t aid, int64_t step)
{
	sqlite3_stmt *q = NULL;
	bool ok;

	if (sqlite3_prepare_v2(sk_store_sqlite(st),
	                       "UPDATE accounts SET totp_step=?2 WHERE aid=?1 AND totp_step < ?2",
	                       -1, &q, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int64(q, 1, aid);
	sqlite3_bind_int64(q, 2, step);
	ok = sqlite3_step(q) == SQLITE_DONE && sqlite3_changes(sk_store_sqlite(st)) == 1;
	sqlite3_finalize(q);
	return ok;
}

sk_err sk_totp_check(sk_store *st, int64_t aid, const char *code, bool pending, sk_error *err)
{
	unsigned char s[SK_TOTP_SECRET_LEN];
	int64_t last = 0, step = 0;
	bool ok;

	if (!load(st, aid, pending ? "totp_pending" : "totp_secret", s, &last))
		return sk_error_set(err, SK_ENOTFOUND, "%s",
		                    pending ? "no second factor is being enrolled"
		                            : "no second factor is enrolled");
	ok = sk_totp_match(s, sizeof(s), code, sk_ts_now_us() / 1000000, last, &step) &&
	     take_step(st, aid, step);
	sodium_memzero(s, sizeof(s));
	if (!ok)
		return sk_error_set(err, SK_EAUTH, "wrong or reused one-time code");
	return SK_OK;
}

sk_err sk_totp_confirm(sk_store *st, const sk_principal *p, const char *code, sk_error *err)
{
	sk_err rc = sk_totp_check(st, p->aid, code, true, err);
	if (rc)
		return rc;
	return change(st,
	              "UPDATE accounts SET totp_secret=totp_pending, totp_pending=NULL"
	              " WHERE name=?1 AND totp_pending IS NOT NULL",
	              p->account, NULL, 0, "account.totp.enable", err);
}
