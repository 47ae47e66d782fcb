/*
 * nats-fetch-check.c - does this libnats keep natsSubscription_Fetch within
 * its batch?  The sensors of docs/fleet.md crashed with heap corruption
 * under load; AddressSanitizer caught a sensor reading list.Msgs[1024] of a
 * 1024-message fetch, and this program, which uses nothing but libnats,
 * shows why: with Debian 12's libnats 3.4.1, a pull consumer whose fetches
 * time out before the server has delivered everything gets lists with more
 * messages than the batch asked for, written past the array the library
 * allocated for the batch (glibc then aborts: "double free or corruption").
 *
 * Build and run (nats-server with JetStream on 127.0.0.1:PORT):
 *   cc -o nats-fetch-check scripts/nats-fetch-check.c -lnats
 *   nats-server -js -a 127.0.0.1 -p 14222 -sd /tmp/nfc & ./nats-fetch-check 14222
 * Exit 0: every list stayed within its batch; 1, or glibc aborting the
 * program ("double free or corruption"): a list was longer, the library's
 * bug is present (3.4.1 here aborts); 2: no server.
 */
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BATCH 16
#define MSGS  20000

int main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	natsSubscription *sub = NULL;
	jsCtx *js = NULL;
	jsStreamConfig sc;
	jsSubOptions so;
	jsErrCode je = 0;
	char url[64], stream[32], subj[40];
	const char *subjs[1] = {subj};
	int longest = 0;
	long got = 0;

	snprintf(url, sizeof(url), "nats://127.0.0.1:%s", argc > 1 ? argv[1] : "4222");
	snprintf(stream, sizeof(stream), "CHECK%d", (int)getpid());
	snprintf(subj, sizeof(subj), "check%d.x", (int)getpid());
	if (natsConnection_ConnectTo(&nc, url) != NATS_OK ||
	    natsConnection_JetStream(&js, nc, NULL) != NATS_OK) {
		fprintf(stderr, "nats-fetch-check: no NATS server with JetStream at %s\n", url);
		return 2;
	}
	jsStreamConfig_Init(&sc);
	sc.Name = stream;
	sc.Subjects = subjs;
	sc.SubjectsLen = 1;
	if (js_AddStream(NULL, js, &sc, NULL, &je) != NATS_OK)
		return 2;
	for (int i = 0; i < MSGS; i++)
		js_PublishAsync(js, subj, "x", 1, NULL);
	js_PublishAsyncComplete(js, NULL);
	jsSubOptions_Init(&so);
	if (js_PullSubscribe(&sub, js, subj, "check", NULL, &so, &je) != NATS_OK)
		return 2;
	/* a 1 ms timeout: the fetches give up while the server is still delivering */
	for (int r = 0; r < 100000 && got < MSGS; r++) {
		natsMsgList l = {0};
		if (natsSubscription_Fetch(&l, sub, BATCH, 1, &je) != NATS_OK)
			continue;
		if (l.Count > longest)
			longest = l.Count;
		got += l.Count;
		for (int i = 0; i < l.Count && i < BATCH; i++) /* never past the batch */
			natsMsg_Ack(l.Msgs[i], NULL);
		natsMsgList_Destroy(&l);
	}
	js_DeleteStream(js, stream, NULL, NULL);
	printf("libnats %s: the longest list of a %d-message fetch held %d messages (%s)\n",
	       nats_GetVersion(), BATCH, longest, longest > BATCH ? "past the batch: BUG" : "ok");
	return longest > BATCH;
}
