/*
 * fleet_run.c - the running fleet member: its NATS connection (NKey
 * authentication, signed with libsodium; endless reconnects, so that a
 * restarted or failed-over server is picked up again), its threads, and
 * stopping.  The hub's work is in fleet_hub.c, the sensor's in
 * fleet_sensor.c.
 */
#include "fleet_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schakel/import.h"
#include "schakel/reader.h"
#include "store/store_priv.h"

sk_err sk_fleet_natserr(sk_error *err, natsStatus s, jsErrCode jerr, const char *what)
{
	const char *last = nats_GetLastError(NULL);
	if (last && !*last)
		last = NULL;
	if (jerr)
		return sk_error_set(err, SK_EIO, "%s: NATS: %s (JetStream error %d)", what,
		                    last ? last : natsStatus_GetText(s), (int)jerr);
	return sk_error_set(err, SK_EIO, "%s: NATS: %s", what, last ? last : natsStatus_GetText(s));
}

/* Sign the server's nonce with the NKey (the library frees *sig). */
static natsStatus sign_nonce(char **custom, unsigned char **sig, int *len, const char *nonce,
                             void *closure)
{
	sk_fleet *f = closure;
	unsigned char *s = malloc(crypto_sign_BYTES);
	(void)custom;
	if (!s)
		return NATS_NO_MEMORY;
	crypto_sign_detached(s, NULL, (const unsigned char *)nonce, strlen(nonce), f->sk);
	*sig = s;
	*len = crypto_sign_BYTES;
	return NATS_OK;
}

static void on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
	sk_fleet *f = closure;
	(void)js;
	if (atomic_fetch_add(&f->pub_errors, 1) == 0)
		fprintf(stderr, "schakel: fleet: publish refused: %s\n",
		        pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
}

/* Asynchronous errors: a permission violation, a slow consumer. */
static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus st, void *closure)
{
	const char *txt = NULL;
	(void)sub;
	(void)closure;
	natsConnection_GetLastError(nc, &txt);
	fprintf(stderr, "schakel: fleet: NATS: %s\n", txt && *txt ? txt : natsStatus_GetText(st));
}

static void on_disconnect(natsConnection *nc, void *closure)
{
	sk_fleet *f = closure;
	(void)nc;
	if (!atomic_load(&f->stop)) /* not when closing */
		fprintf(stderr, "schakel: fleet: disconnected from NATS, reconnecting\n");
}

static void on_reconnect(natsConnection *nc, void *closure)
{
	char url[256] = "";
	(void)closure;
	natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	fprintf(stderr, "schakel: fleet: reconnected to %s\n", url);
}

/* The URL, or a comma-separated list of a cluster's URLs (at most 16). */
static natsStatus set_servers(natsOptions *o, const char *urls)
{
	char *copy = strdup(urls), *save = NULL, *tok;
	const char *list[16];
	int n = 0;
	natsStatus ns;

	if (!copy)
		return NATS_NO_MEMORY;
	for (tok = strtok_r(copy, ",", &save); tok && n < 16; tok = strtok_r(NULL, ",", &save))
		list[n++] = tok;
	ns = n ? natsOptions_SetServers(o, list, n) : NATS_INVALID_ARG;
	free(copy);
	return ns;
}

sk_err sk_fleet_connect(sk_fleet *f, const char *seed, sk_error *err)
{
	unsigned char s[32], pk[32];
	natsOptions *o = NULL;
	natsStatus ns;
	jsOptions jo;
	sk_err rc;

	if ((rc = sk_nkey_decode_seed(seed, s, err)))
		return rc;
	crypto_sign_seed_keypair(pk, f->sk, s);
	sodium_memzero(s, sizeof(s));
	sk_nkey_encode_pub(pk, f->pub);
	if ((ns = natsOptions_Create(&o)) != NATS_OK || (ns = set_servers(o, f->url)) != NATS_OK ||
	    (ns = natsOptions_SetNKey(o, f->pub, sign_nonce, f)) != NATS_OK ||
	    (ns = natsOptions_SetMaxReconnect(o, f->cfg.once ? 0 : -1)) != NATS_OK ||
	    (ns = natsOptions_SetReconnectWait(o, 200)) != NATS_OK ||
	    (ns = natsOptions_SetRetryOnFailedConnect(o, !f->cfg.once, NULL, NULL)) != NATS_OK ||
	    (f->cfg.once && (ns = natsOptions_SetTimeout(o, SK_FLEET_ONCE_MS)) != NATS_OK) ||
	    (ns = natsOptions_SetDisconnectedCB(o, on_disconnect, f)) != NATS_OK ||
	    (ns = natsOptions_SetReconnectedCB(o, on_reconnect, f)) != NATS_OK ||
	    (ns = natsOptions_SetErrorHandler(o, on_error, f)) != NATS_OK ||
	    (ns = natsOptions_SetName(o, "schakel")) != NATS_OK) {
		natsOptions_Destroy(o);
		return sk_fleet_natserr(err, ns, 0, "NATS options");
	}
	if (!strncmp(f->url, "tls://", 6))
		natsOptions_SetSecure(o, true);
	ns = natsConnection_Connect(&f->nc, o);
	natsOptions_Destroy(o);
	if (ns != NATS_OK && ns != NATS_NOT_YET_CONNECTED)
		return sk_fleet_natserr(err, ns, 0, f->url);
	jsOptions_Init(&jo);
	jo.Wait = f->cfg.once ? SK_FLEET_ONCE_MS : 10000;
	jo.PublishAsync.MaxPending = 8192; /* a batch in flight without stalling */
	jo.PublishAsync.ErrHandler = on_pub_error;
	jo.PublishAsync.ErrHandlerClosure = f;
	if ((ns = natsConnection_JetStream(&f->js, f->nc, &jo)) != NATS_OK)
		return sk_fleet_natserr(err, ns, 0, "JetStream");
	return SK_OK;
}

static void on_reject(void *ud, const char *where, const char *msg)
{
	(void)ud;
	fprintf(stderr, "schakel: fleet: refused %s: %s\n", where, msg);
}

sk_err sk_fleet_import(sk_store *st, const sk_origin *origin, int64_t cid, const void *in,
                       size_t len, const char *where, uint64_t *stored)
{
	sk_import_opts o = {.cid = cid, .in_tx = true, .on_reject = on_reject};
	sk_import_stats stats;
	sk_reader *rd = NULL;
	sk_error err;
	sk_err rc;

	memset(&stats, 0, sizeof(stats));
	if ((rc = sk_store_exec(st, "SAVEPOINT fleet", &err)))
		goto out;
	if ((rc = sk_reader_open_mem(in, len, where, &rd, &err))) {
		sk_store_exec(st, "RELEASE fleet", NULL);
		goto out;
	}
	sk_store_set_origin(st, origin);
	rc = sk_import_reader(st, rd, &o, &stats, &err);
	sk_store_set_origin(st, NULL);
	sk_reader_close(rd);
	if (rc)
		sk_store_exec(st, "ROLLBACK TO fleet", NULL);
	else
		*stored += stats.stored;
	sk_store_exec(st, "RELEASE fleet", NULL);
out:
	if (rc)
		on_reject(NULL, where, err.msg);
	return rc;
}

void sk_fleet_pub_forget(sk_fleet *f)
{
	natsMsgList pending = {0};
	if (js_PublishAsyncGetPendingList(&pending, f->js) == NATS_OK) {
		if (pending.Count)
			fprintf(stderr, "schakel: fleet: %d publishes unacknowledged, resending\n",
			        pending.Count);
		natsMsgList_Destroy(&pending);
	}
}

void sk_fleet_nap(sk_fleet *f, unsigned ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&f->mu);
	if (!f->woken && !atomic_load(&f->stop))
		pthread_cond_timedwait(&f->cv, &f->mu, &ts);
	f->woken = false;
	pthread_mutex_unlock(&f->mu);
}

void sk_fleet_wake(sk_fleet *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->woken = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

sk_fleet *sk_fleet_new(const sk_fleet_config *cfg, sk_error *err)
{
	sk_fleet *f = calloc(1, sizeof(*f));
	if (!f || nats_Open(-1) != NATS_OK) {
		free(f);
		sk_error_set(err, SK_ENOMEM, "out of memory");
		return NULL;
	}
	f->cfg = *cfg;
	f->db_path = strdup(cfg->db_path);
	f->url = strdup(cfg->url);
	f->collection = strdup(cfg->collection ? cfg->collection : "fleet");
	if (!f->cfg.batch)
		f->cfg.batch = 1024;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (!f->db_path || !f->url || !f->collection) {
		sk_fleet_free(f);
		sk_error_set(err, SK_ENOMEM, "out of memory");
		return NULL;
	}
	return f;
}

void sk_fleet_free(sk_fleet *f)
{
	if (!f)
		return;
	if (f->js)
		jsCtx_Destroy(f->js);
	if (f->nc) {
		natsConnection_Close(f->nc);
		natsConnection_Destroy(f->nc);
	}
	sodium_memzero(f->sk, sizeof(f->sk));
	sodium_memzero(&f->creds, sizeof(f->creds));
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f->db_path);
	free(f->url);
	free(f->collection);
	free(f);
}

void sk_fleet_stop(sk_fleet *f)
{
	if (!f)
		return;
	atomic_store(&f->stop, true);
	sk_fleet_wake(f);
	for (int i = 0; i < f->nth; i++)
		pthread_join(f->th[i], NULL);
	sk_fleet_free(f);
}
