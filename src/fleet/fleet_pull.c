/*
 * fleet_pull.c - pulling from a JetStream pull consumer without
 * natsSubscription_Fetch (fleet_int.h).
 *
 * libnats 3.4.1 (Debian 12) returns more messages from a Fetch than its
 * batch once earlier fetches timed out while the server was still
 * delivering, and writes them past the array it allocated for the batch
 * (docs/fleet.md, scripts/nats-fetch-check.c).  Here the requests are our
 * own: "$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>" with a reply inbox
 * that a synchronous subscription reads.  A request asks for up to a batch
 * and lives a few seconds at the server; what it brings after one call has
 * returned waits in the inbox for the next call, and a list never holds
 * more than the batch it was made for.  Acknowledgements are published to
 * each message's reply subject, as the library would.
 */
#include "fleet_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REQUEST_MS 2000 /* how long a pull request waits at the server */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

sk_err sk_fleet_pull_open(sk_fleet_pull *p, natsConnection *nc, const char *stream,
                          const char *consumer, sk_error *err)
{
	size_t n = strlen(stream) + strlen(consumer) + 64;
	natsStatus ns;

	memset(p, 0, sizeof(*p));
	p->nc = nc;
	if (!(p->next = malloc(n)))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	snprintf(p->next, n, "$JS.API.CONSUMER.MSG.NEXT.%s.%s", stream, consumer);
	if ((ns = natsInbox_Create(&p->inbox)) != NATS_OK ||
	    (ns = natsConnection_SubscribeSync(&p->in, nc, p->inbox)) != NATS_OK ||
	    (ns = natsSubscription_SetPendingLimits(p->in, -1, -1)) != NATS_OK) {
		sk_fleet_pull_close(p);
		return sk_fleet_natserr(err, ns, 0, "pull inbox");
	}
	return SK_OK;
}

/* The status code of a status message of the pull (404 no messages, 408 request expired,
 * 409 a refusal), or NULL for a message from the stream. */
static const char *status_of(natsMsg *m)
{
	const char *v = NULL;
	if (natsMsg_GetDataLength(m) != 0 || natsMsgHeader_Get(m, "Status", &v) != NATS_OK)
		return NULL;
	return v ? v : "";
}

static natsStatus request(sk_fleet_pull *p, int batch)
{
	char body[96];
	int n = snprintf(body, sizeof(body), "{\"batch\":%d,\"expires\":%lld}", batch,
	                 (long long)REQUEST_MS * 1000000LL);
	natsStatus ns = natsConnection_PublishRequest(p->nc, p->next, p->inbox, body, n);
	if (ns == NATS_OK) {
		p->left = batch;
		p->until = now_ms() + REQUEST_MS;
	}
	return ns;
}

natsStatus sk_fleet_pull_next(sk_fleet_pull *p, int batch, int64_t wait_ms, natsMsgList *out)
{
	natsMsg **msgs = malloc((size_t)batch * sizeof(*msgs));
	int64_t deadline = now_ms() + wait_ms;
	natsStatus ns = NATS_OK;
	int n = 0;

	memset(out, 0, sizeof(*out));
	if (!msgs)
		return NATS_NO_MEMORY;
	while (n < batch) {
		natsMsg *m = NULL;
		int64_t left = deadline - now_ms();
		if (p->left <= 0 || now_ms() >= p->until) {
			if ((ns = request(p, batch)) != NATS_OK)
				break;
		}
		/* the first message is waited for; the rest are what is there already */
		ns = natsSubscription_NextMsg(&m, p->in, n ? 1 : (left > 0 ? left : 1));
		if (ns != NATS_OK)
			break;
		if (status_of(m)) {
			bool expired = !strncmp(status_of(m), "408", 3);
			p->left = 0; /* the request is over */
			natsMsg_Destroy(m);
			if (expired)
				continue;
			/* refused (a deleted consumer, too many waiting pulls): the caller naps */
			ns = n ? NATS_OK : NATS_ERR;
			break;
		}
		msgs[n++] = m;
		p->left--;
	}
	if (!n) {
		free(msgs);
		return ns == NATS_OK ? NATS_TIMEOUT : ns;
	}
	/* a natsMsgList, so that natsMsgList_Destroy frees it (free and the messages) */
	out->Msgs = msgs;
	*(int *)&out->Count = n;
	return NATS_OK;
}

void sk_fleet_pull_ack(sk_fleet_pull *p, natsMsg *m)
{
	const char *reply = natsMsg_GetReply(m);
	if (reply)
		natsConnection_Publish(p->nc, reply, "+ACK", 4);
}

void sk_fleet_pull_close(sk_fleet_pull *p)
{
	natsMsg *m = NULL;

	if (p->in) {
		/* what arrived and was not taken goes back at once, not after the ack wait */
		while (natsSubscription_NextMsg(&m, p->in, 1) == NATS_OK) {
			const char *reply = natsMsg_GetReply(m);
			if (reply && !status_of(m))
				natsConnection_Publish(p->nc, reply, "-NAK", 4);
			natsMsg_Destroy(m);
		}
		natsConnection_FlushTimeout(p->nc, 1000);
		natsSubscription_Destroy(p->in);
	}
	natsInbox_Destroy(p->inbox);
	free(p->next);
	memset(p, 0, sizeof(*p));
}
