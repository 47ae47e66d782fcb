/*
 * auth.c - authenticating a request's Authorization header: the cache of
 * verified Basic logins, and the limits that keep argon2 from being used to
 * burn the CPU or to guess passwords (docs/serving.md, Limits).
 *
 * The cache is keyed by a keyed BLAKE2b of the whole header (the key is
 * random per process; the header itself is not kept).  Each entry remembers
 * the account's generation (accounts.gen), and a hit counts only while the
 * account still has it and is enabled: one primary-key lookup per request,
 * so disabling, deleting or re-passwording an account from another process
 * takes effect on the next request.
 *
 * Limits, applied only to a Basic password that is not in the cache (tokens
 * cost one index probe and cannot be guessed; a cached login proved the
 * password already):
 * - at most `concurrency` argon2 verifications run at once (a counting
 *   semaphore); a request that finds no free slot within wait_ms is refused
 *   (SK_EBUSY: 503 with Retry-After), so queued guesses cannot hold worker
 *   threads for long;
 * - wrong passwords are counted per (user, address) and per address (IPv6 by
 *   its /64) within a window; past the threshold the key is refused
 *   (SK_ELIMIT: 429 with Retry-After) without running argon2, for block_s
 *   seconds, doubling with each further block up to block_max_s.  Keying the
 *   user's count by address too means an attacker elsewhere cannot lock a
 *   partner out; an attacker behind the partner's own address can block
 *   that address's password logins, never its tokens or cached logins.
 * The counters live in two fixed direct-mapped tables (keyed hashes, random
 * per process): a flood of distinct names from many addresses recycles
 * entries, and the concurrency cap stays the bound on CPU.
 */
#include "schakel/account.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "account_int.h"

#define CACHE_SLOTS 1024
#define FAIL_SLOTS  4096

struct cache_entry {
	unsigned char key[32];
	int64_t expires; /* monotonic seconds; 0 = empty */
	int64_t gen;     /* the account's generation when verified */
	sk_principal p;
};

/* Wrong passwords of one key: (user, address) or address. */
struct fail_entry {
	unsigned char key[16];
	int64_t window_start, blocked_until, last_block; /* monotonic seconds */
	unsigned fails, level;
};

struct sk_auth_cache {
	pthread_mutex_t mu;
	unsigned ttl;
	unsigned char key[crypto_generichash_KEYBYTES];
	struct cache_entry slot[CACHE_SLOTS];
	/* the guard */
	sk_auth_limits lim;
	pthread_mutex_t gmu;
	pthread_cond_t gcv;
	unsigned running; /* argon2 verifications now */
	struct fail_entry user_fail[FAIL_SLOTS], addr_fail[FAIL_SLOTS];
};

static int64_t mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

void sk_auth_limits_defaults(sk_auth_limits *l)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (!l->concurrency)
		l->concurrency = cpus > 2 ? (unsigned)(cpus - 1) : 1;
	if (!l->wait_ms)
		l->wait_ms = 500;
	if (!l->user_failures)
		l->user_failures = 5;
	if (!l->addr_failures)
		l->addr_failures = 30;
	if (!l->window_s)
		l->window_s = 300;
	if (!l->block_s)
		l->block_s = 30;
	if (!l->block_max_s)
		l->block_max_s = 900;
	if (l->block_max_s < l->block_s)
		l->block_max_s = l->block_s;
}

sk_err sk_auth_cache_new(unsigned ttl_seconds, sk_auth_cache **out)
{
	pthread_condattr_t ca;
	sk_auth_cache *c;

	*out = NULL;
	if (sodium_init() < 0)
		return SK_EUNSUPPORTED;
	c = calloc(1, sizeof(*c));
	if (!c)
		return SK_ENOMEM;
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->gmu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->gcv, &ca);
	pthread_condattr_destroy(&ca);
	c->ttl = ttl_seconds;
	sk_auth_limits_defaults(&c->lim);
	crypto_generichash_keygen(c->key);
	*out = c;
	return SK_OK;
}

void sk_auth_cache_set_limits(sk_auth_cache *c, const sk_auth_limits *l)
{
	if (!c)
		return;
	c->lim = *l;
	sk_auth_limits_defaults(&c->lim);
}

void sk_auth_cache_free(sk_auth_cache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->mu);
	pthread_mutex_destroy(&c->gmu);
	pthread_cond_destroy(&c->gcv);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* --- the login cache ------------------------------------------------------ */

static struct cache_entry *cache_slot(sk_auth_cache *c, const unsigned char k[32])
{
	uint32_t i;
	memcpy(&i, k, sizeof(i));
	return &c->slot[i % CACHE_SLOTS];
}

static bool cache_get(sk_auth_cache *c, const unsigned char k[32], sk_principal *out,
		      int64_t *gen)
{
	struct cache_entry *e = cache_slot(c, k);
	bool hit = false;

	pthread_mutex_lock(&c->mu);
	if (e->expires && e->expires > mono_seconds() && sodium_memcmp(e->key, k, 32) == 0) {
		*out = e->p;
		*gen = e->gen;
		hit = true;
	}
	pthread_mutex_unlock(&c->mu);
	return hit;
}

static void cache_put(sk_auth_cache *c, const unsigned char k[32], const sk_principal *p,
		      int64_t gen)
{
	struct cache_entry *e = cache_slot(c, k);

	pthread_mutex_lock(&c->mu);
	memcpy(e->key, k, 32);
	e->expires = mono_seconds() + c->ttl;
	e->gen = gen;
	e->p = *p;
	pthread_mutex_unlock(&c->mu);
}

static void cache_drop(sk_auth_cache *c, const unsigned char k[32])
{
	struct cache_entry *e = cache_slot(c, k);

	pthread_mutex_lock(&c->mu);
	if (sodium_memcmp(e->key, k, 32) == 0)
		memset(e, 0, sizeof(*e));
	pthread_mutex_unlock(&c->mu);
}

/* --- the guard ----------------------------------------------------------- */

/*
 * The address as counted: IPv4 as is, IPv6 by its /64 (one host commonly
 * has the whole prefix), text that is neither as given.
 */
static void addr_key(const char *addr, char *out, size_t n)
{
	unsigned char a6[16];

	if (addr && strchr(addr, ':') && inet_pton(AF_INET6, addr, a6) == 1 &&
	    !(a6[0] == 0 && a6[10] == 0xff && a6[11] == 0xff)) { /* not v4-mapped */
		memset(a6 + 8, 0, 8);
		if (inet_ntop(AF_INET6, a6, out, (socklen_t)n)) {
			snprintf(out + strlen(out), n - strlen(out), "/64");
			return;
		}
	}
	snprintf(out, n, "%s", addr ? addr : "");
}

static struct fail_entry *fail_find(sk_auth_cache *c, struct fail_entry *tab, const char *kind,
				    const char *user, const char *addr, bool claim)
{
	crypto_generichash_state h;
	unsigned char k[16];
	struct fail_entry *e;
	uint32_t i;

	crypto_generichash_init(&h, c->key, sizeof(c->key), sizeof(k));
	crypto_generichash_update(&h, (const unsigned char *)kind, strlen(kind) + 1);
	if (user)
		crypto_generichash_update(&h, (const unsigned char *)user, strlen(user) + 1);
	crypto_generichash_update(&h, (const unsigned char *)addr, strlen(addr) + 1);
	crypto_generichash_final(&h, k, sizeof(k));
	memcpy(&i, k, sizeof(i));
	e = &tab[i % FAIL_SLOTS];
	if (memcmp(e->key, k, sizeof(k)) == 0)
		return e;
	if (!claim)
		return NULL;
	memset(e, 0, sizeof(*e)); /* recycle the slot (see the file comment) */
	memcpy(e->key, k, sizeof(k));
	return e;
}

/* Seconds e is still refused for, 0 if it is not. */
static unsigned fail_blocked(const struct fail_entry *e, int64_t now)
{
	return e && e->blocked_until > now ? (unsigned)(e->blocked_until - now) : 0;
}

/* Count one wrong password on e; the new block's length, or 0 if none started. */
static unsigned fail_count(const sk_auth_limits *l, struct fail_entry *e, unsigned max,
			   int64_t now)
{
	unsigned block;

	if (now - e->window_start >= (int64_t)l->window_s) {
		e->window_start = now;
		e->fails = 0;
	}
	/* a key quiet for a whole maximal block starts again from the first length */
	if (e->level && now - e->last_block >= (int64_t)l->block_max_s * 2)
		e->level = 0;
	if (++e->fails < max)
		return 0;
	block = l->block_s;
	for (unsigned i = 0; i < e->level && block < l->block_max_s; i++)
		block *= 2;
	if (block > l->block_max_s)
		block = l->block_max_s;
	e->level++;
	e->fails = 0;
	e->window_start = now;
	e->blocked_until = e->last_block = now + block;
	return block;
}

/* The user name as it may appear in a log line: printable ASCII, bounded. */
static void log_name(const char *s, char out[68])
{
	size_t n = 0;
	for (; *s && n < 64; s++)
		out[n++] = *s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\' ? *s : '?';
	if (*s)
		out[n++] = '.', out[n++] = '.';
	out[n] = '\0';
}

/* Refused without verifying?  Returns the seconds to wait, 0 to go on. */
static unsigned guard_check(sk_auth_cache *c, const char *user, const char *addr)
{
	int64_t now = mono_seconds();
	unsigned a, u;

	pthread_mutex_lock(&c->gmu);
	u = fail_blocked(fail_find(c, c->user_fail, "u", user, addr, false), now);
	a = fail_blocked(fail_find(c, c->addr_fail, "a", NULL, addr, false), now);
	pthread_mutex_unlock(&c->gmu);
	return u > a ? u : a;
}

static void guard_result(sk_auth_cache *c, const char *user, const char *addr, bool ok)
{
	int64_t now = mono_seconds();
	unsigned ub = 0, ab = 0, uf = 0;
	struct fail_entry *e;
	char name[68];

	pthread_mutex_lock(&c->gmu);
	if (ok) {
		/* the user's count from this address starts again; the address's does not */
		if ((e = fail_find(c, c->user_fail, "u", user, addr, false)))
			memset(e, 0, sizeof(*e));
		pthread_mutex_unlock(&c->gmu);
		return;
	}
	e = fail_find(c, c->user_fail, "u", user, addr, true);
	ub = fail_count(&c->lim, e, c->lim.user_failures, now);
	uf = e->fails;
	e = fail_find(c, c->addr_fail, "a", NULL, addr, true);
	ab = fail_count(&c->lim, e, c->lim.addr_failures, now);
	pthread_mutex_unlock(&c->gmu);

	log_name(user, name);
	if (ub)
		fprintf(stderr,
			"schakel: serve: auth: %u wrong passwords for user \"%s\" from %s;"
			" refusing them for %u s\n",
			c->lim.user_failures, name, addr[0] ? addr : "?", ub);
	else
		fprintf(stderr,
			"schakel: serve: auth: wrong password for user \"%s\" from %s (%u)\n",
			name, addr[0] ? addr : "?", uf);
	if (ab)
		fprintf(stderr,
			"schakel: serve: auth: %u wrong passwords from %s (last for user \"%s\");"
			" refusing password logins from it for %u s\n",
			c->lim.addr_failures, addr[0] ? addr : "?", name, ab);
}

/* Take a verification slot, waiting at most wait_ms; false if none freed. */
static bool slot_take(sk_auth_cache *c)
{
	struct timespec dl;
	bool got = true;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += c->lim.wait_ms / 1000;
	dl.tv_nsec += (long)(c->lim.wait_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->gmu);
	while (c->running >= c->lim.concurrency) {
		if (pthread_cond_timedwait(&c->gcv, &c->gmu, &dl) == ETIMEDOUT &&
		    c->running >= c->lim.concurrency) {
			got = false;
			break;
		}
	}
	if (got)
		c->running++;
	pthread_mutex_unlock(&c->gmu);
	return got;
}

static void slot_give(sk_auth_cache *c)
{
	pthread_mutex_lock(&c->gmu);
	c->running--;
	pthread_cond_signal(&c->gcv);
	pthread_mutex_unlock(&c->gmu);
}

/*
 * Verify user's password under cache's limits (akey: the address as
 * counted): refused without argon2 while backing off, at most
 * `concurrency` at once, and the result counted.
 */
static sk_err guarded_password(sk_store *st, sk_auth_cache *cache, const char *user,
			       const char *password, const char *akey, sk_principal *out,
			       int64_t *gen, unsigned *retry_after, sk_error *err)
{
	unsigned wait;
	sk_err rc;

	if ((wait = guard_check(cache, user, akey))) {
		if (retry_after)
			*retry_after = wait;
		return sk_error_set(err, SK_ELIMIT, "too many wrong passwords; try again in %u s",
				    wait);
	}
	if (!slot_take(cache)) {
		if (retry_after)
			*retry_after = 1;
		return sk_error_set(err, SK_EBUSY, "too many password checks at once");
	}
	rc = sk_auth_password_gen(st, user, password, out, gen, err);
	slot_give(cache);
	if (!rc || rc == SK_EAUTH)
		guard_result(cache, user, akey, !rc);
	return rc;
}

void sk_auth_count_failure(sk_auth_cache *cache, const char *user, const char *addr)
{
	char akey[INET6_ADDRSTRLEN + 8];

	if (!cache)
		return;
	addr_key(addr, akey, sizeof(akey));
	guard_result(cache, user, akey, false);
}

sk_err sk_auth_login(sk_store *st, sk_auth_cache *cache, const char *user, const char *password,
		     const char *addr, sk_principal *out, int64_t *gen, unsigned *retry_after,
		     sk_error *err)
{
	char akey[INET6_ADDRSTRLEN + 8];
	int64_t g = 0;
	sk_err rc;

	memset(out, 0, sizeof(*out));
	if (retry_after)
		*retry_after = 0;
	if (sodium_init() < 0)
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	if (!cache)
		rc = sk_auth_password_gen(st, user, password, out, &g, err);
	else {
		addr_key(addr, akey, sizeof(akey));
		rc = guarded_password(st, cache, user, password, akey, out, &g, retry_after, err);
	}
	if (gen)
		*gen = rc ? 0 : g;
	return rc;
}

/* --- the header ---------------------------------------------------------- */

sk_err sk_auth_header(sk_store *st, sk_auth_cache *cache, const char *header, sk_principal *out,
		      sk_error *err)
{
	return sk_auth_request(st, cache, header, NULL, out, NULL, err);
}

sk_err sk_auth_request(sk_store *st, sk_auth_cache *cache, const char *header, const char *addr,
		       sk_principal *out, unsigned *retry_after, sk_error *err)
{
	unsigned char k[32], dec[512];
	char akey[INET6_ADDRSTRLEN + 8];
	size_t declen = 0;
	int64_t gen = 0;
	char *colon;
	sk_err rc;

	memset(out, 0, sizeof(*out));
	if (retry_after)
		*retry_after = 0;
	if (sodium_init() < 0)
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	/* an API token: "Bearer", or "Token" as taxii2-client's TokenAuth sends it */
	if (!strncasecmp(header, "Bearer ", 7) || !strncasecmp(header, "Token ", 6)) {
		const char *t = strchr(header, ' ');
		while (*t == ' ')
			t++;
		return sk_auth_token(st, t, out, err);
	}
	if (strncasecmp(header, "Basic ", 6) != 0)
		return sk_error_set(err, SK_EINVAL, "unsupported authorization scheme");
	header += 6;
	while (*header == ' ')
		header++;
	if (cache) {
		crypto_generichash(k, sizeof(k), (const unsigned char *)header, strlen(header),
				   cache->key, sizeof(cache->key));
		if (cache_get(cache, k, out, &gen)) {
			if (sk_account_gen_current(st, out->aid, gen))
				return SK_OK;
			cache_drop(cache, k); /* the account changed: verify again */
			memset(out, 0, sizeof(*out));
		}
	}
	if (sodium_base642bin(dec, sizeof(dec) - 1, header, strlen(header), NULL, &declen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    !(colon = memchr(dec, ':', declen)) || memchr(dec, '\0', declen)) {
		sodium_memzero(dec, sizeof(dec));
		return sk_error_set(err, SK_EAUTH, "malformed Basic credentials");
	}
	dec[declen] = '\0';
	*colon = '\0';
	if (!cache) {
		rc = sk_auth_password_gen(st, (const char *)dec, colon + 1, out, &gen, err);
		sodium_memzero(dec, sizeof(dec));
		return rc;
	}
	addr_key(addr, akey, sizeof(akey));
	rc = guarded_password(st, cache, (const char *)dec, colon + 1, akey, out, &gen, retry_after,
			      err);
	sodium_memzero(dec, sizeof(dec));
	if (!rc)
		cache_put(cache, k, out, gen);
	return rc;
}
