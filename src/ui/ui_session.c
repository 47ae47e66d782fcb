/*
 * ui_session.c - the console's sessions: in memory, bounded, thread-safe.
 *
 * A session id is 32 random bytes (libsodium), sent once as the cookie's
 * value in base64url; the table keeps only a keyed BLAKE2b of it (the key is
 * random per process), so a memory dump or a timing probe of the lookup
 * gives nothing that opens a session.  Each session has its own CSRF token
 * (32 random bytes, base64url), compared in constant time.  A session ends
 * after idle_s seconds unused, max_age_s seconds after login, at logout, and
 * when its account's generation changes (ui.c checks it on every request,
 * as the login cache does).  When the table is full the oldest session
 * goes.  Sessions do not survive a restart.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ui/ui_core_int.h"

typedef struct session {
	unsigned char key[32]; /* keyed hash of the id */
	int64_t created, used; /* monotonic microseconds; created 0 = free slot */
	int64_t gen;
	sk_principal who;
	char csrf[UI_TOKEN_LEN + 1];
} session;

struct ui_sessions {
	pthread_mutex_t mu;
	unsigned char hkey[crypto_generichash_KEYBYTES];
	int64_t idle_us, max_us;
	unsigned max_age_s;
	size_t n;
	session *s;
};

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

ui_sessions *ui_sessions_new(unsigned idle_s, unsigned max_age_s, size_t max)
{
	ui_sessions *t;

	if (sodium_init() < 0 || !max || !(t = calloc(1, sizeof(*t))))
		return NULL;
	if (!(t->s = calloc(max, sizeof(*t->s)))) {
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->mu, NULL);
	crypto_generichash_keygen(t->hkey);
	t->idle_us = (int64_t)idle_s * 1000000;
	t->max_us = (int64_t)max_age_s * 1000000;
	t->max_age_s = max_age_s;
	t->n = max;
	return t;
}

void ui_sessions_free(ui_sessions *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->mu);
	sodium_memzero(t->s, t->n * sizeof(*t->s));
	free(t->s);
	sodium_memzero(t, sizeof(*t));
	free(t);
}

unsigned ui_sessions_max_age(const ui_sessions *t)
{
	return t->max_age_s;
}

static void random_token(char out[UI_TOKEN_LEN + 1])
{
	unsigned char r[32];
	randombytes_buf(r, sizeof(r));
	sodium_bin2base64(out, UI_TOKEN_LEN + 1, r, sizeof(r),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(r, sizeof(r));
}

static void hash_id(const ui_sessions *t, const char *id, unsigned char k[32])
{
	crypto_generichash(k, 32, (const unsigned char *)id, strlen(id), t->hkey, sizeof(t->hkey));
}

static bool expired(const ui_sessions *t, const session *s, int64_t now)
{
	return now - s->used >= t->idle_us || now - s->created >= t->max_us;
}

bool ui_session_create(ui_sessions *t, const sk_principal *p, int64_t gen,
                       char id[UI_TOKEN_LEN + 1], char csrf[UI_TOKEN_LEN + 1])
{
	int64_t now = mono_us();
	session *slot = &t->s[0]; /* t->n >= 1 (ui_sessions_new) */

	random_token(id);
	random_token(csrf);
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < t->n; i++) {
		session *s = &t->s[i];
		if (s->created && expired(t, s, now))
			memset(s, 0, sizeof(*s));
		if (!s->created) {
			slot = s;
			break;
		}
		if (s->created < slot->created)
			slot = s; /* the oldest, unless a free slot turns up */
	}
	memset(slot, 0, sizeof(*slot));
	hash_id(t, id, slot->key);
	slot->created = slot->used = now;
	slot->gen = gen;
	slot->who = *p;
	memcpy(slot->csrf, csrf, UI_TOKEN_LEN + 1);
	pthread_mutex_unlock(&t->mu);
	return true;
}

/* The live session with key k (t->mu held), NULL if none. */
static session *find(ui_sessions *t, const unsigned char k[32])
{
	for (size_t i = 0; i < t->n; i++)
		if (t->s[i].created && !memcmp(t->s[i].key, k, 32))
			return &t->s[i];
	return NULL;
}

bool ui_session_get(ui_sessions *t, const char *id, sk_principal *p, int64_t *gen,
                    char csrf[UI_TOKEN_LEN + 1])
{
	unsigned char k[32];
	int64_t now = mono_us();
	bool ok = false;
	session *s;

	hash_id(t, id, k);
	pthread_mutex_lock(&t->mu);
	if ((s = find(t, k))) {
		if (expired(t, s, now)) {
			sodium_memzero(s, sizeof(*s));
		} else {
			s->used = now;
			*p = s->who;
			*gen = s->gen;
			if (csrf)
				memcpy(csrf, s->csrf, UI_TOKEN_LEN + 1);
			ok = true;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return ok;
}

void ui_session_set_gen(ui_sessions *t, const char *id, int64_t gen)
{
	unsigned char k[32];
	session *s;

	hash_id(t, id, k);
	pthread_mutex_lock(&t->mu);
	if ((s = find(t, k)))
		s->gen = gen;
	pthread_mutex_unlock(&t->mu);
}

void ui_session_drop(ui_sessions *t, const char *id)
{
	unsigned char k[32];
	session *s;

	hash_id(t, id, k);
	pthread_mutex_lock(&t->mu);
	if ((s = find(t, k)))
		sodium_memzero(s, sizeof(*s));
	pthread_mutex_unlock(&t->mu);
}

void ui_session_drop_account(ui_sessions *t, int64_t aid)
{
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < t->n; i++)
		if (t->s[i].created && t->s[i].who.aid == aid)
			sodium_memzero(&t->s[i], sizeof(t->s[i]));
	pthread_mutex_unlock(&t->mu);
}

bool ui_cookie_value(const char *h, char id[UI_TOKEN_LEN + 1])
{
	size_t klen = strlen(UI_COOKIE);

	while (h && *h) {
		while (*h == ' ' || *h == ';' || *h == '\t')
			h++;
		if (!strncmp(h, UI_COOKIE, klen) && h[klen] == '=') {
			const char *v = h + klen + 1;
			size_t n = strcspn(v, "; \t");
			if (n != UI_TOKEN_LEN)
				return false;
			for (size_t i = 0; i < n; i++) {
				char ch = v[i];
				if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
				      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
					return false;
			}
			memcpy(id, v, n);
			id[n] = '\0';
			return true;
		}
		h += strcspn(h, ";");
	}
	return false;
}

bool ui_csrf_ok(const char *presented, const char *expected)
{
	return presented && strlen(presented) == UI_TOKEN_LEN && strlen(expected) == UI_TOKEN_LEN &&
	       sodium_memcmp(presented, expected, UI_TOKEN_LEN) == 0;
}
