/*
 * feed_pipe.c - the bounded queue between a feed import's two threads: the
 * reader thread cuts lines, normalises values and builds and validates each
 * indicator into a slot (its own JSON buffer and parse arena, so the
 * validated sk_stix_info stays usable); the calling thread takes the slots in
 * line order and does everything that touches the store.  The slots are a
 * fixed ring, so memory stays flat (each slot keeps one JSON buffer and one
 * 64 KiB arena chunk); slots are published and released in small runs to
 * keep the lock out of the per-line cost.
 */
#include "feed_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PUBLISH_RUN 32

struct feed_pipe {
	pthread_mutex_t mu;
	pthread_cond_t can_fill, can_take;
	feed_item *slot;
	size_t n;
	/* under mu: slots [taken, published) are ready, [released, taken) in use */
	uint64_t published, released;
	bool closed, stopped;
	/* the producer's own cursor (filled, not yet published) */
	uint64_t filled;
	/* the consumer's own cursors */
	uint64_t taken, avail, freed;
};

sk_err sk_feed_pipe_new(size_t n, sk_feed_pipe **out)
{
	sk_feed_pipe *p = calloc(1, sizeof(*p));
	*out = NULL;
	if (!p || n <= 2 * PUBLISH_RUN || !(p->slot = calloc(n, sizeof(*p->slot)))) {
		free(p);
		return p ? SK_EINVAL : SK_ENOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->can_fill, NULL);
	pthread_cond_init(&p->can_take, NULL);
	for (size_t i = 0; i < n; i++) {
		sk_buf_init(&p->slot[i].json, 1 << 21);
		p->n = i + 1;
		if (sk_json_doc_new(0, 0, &p->slot[i].doc)) {
			sk_feed_pipe_free(p);
			return SK_ENOMEM;
		}
	}
	*out = p;
	return SK_OK;
}

void sk_feed_pipe_free(sk_feed_pipe *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		sk_buf_free(&p->slot[i].json);
		sk_json_doc_free(p->slot[i].doc);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->can_fill);
	pthread_cond_destroy(&p->can_take);
	free(p->slot);
	free(p);
}

static void publish(sk_feed_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->published = p->filled;
	pthread_cond_signal(&p->can_take);
	pthread_mutex_unlock(&p->mu);
}

feed_item *sk_feed_pipe_slot(sk_feed_pipe *p)
{
	feed_item *it;
	pthread_mutex_lock(&p->mu);
	if (p->filled - p->released == p->n) {
		/* full: hand over what is filled, then wait for room */
		p->published = p->filled;
		pthread_cond_signal(&p->can_take);
		while (!p->stopped && p->filled - p->released == p->n)
			pthread_cond_wait(&p->can_fill, &p->mu);
	}
	if (p->stopped) {
		pthread_mutex_unlock(&p->mu);
		return NULL;
	}
	pthread_mutex_unlock(&p->mu);
	it = &p->slot[p->filled % p->n];
	it->what = FEED_ITEM_NONE;
	return it;
}

void sk_feed_pipe_push(sk_feed_pipe *p)
{
	p->filled++;
	if (p->filled - p->published >= PUBLISH_RUN)
		publish(p);
}

void sk_feed_pipe_close(sk_feed_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->published = p->filled;
	p->closed = true;
	pthread_cond_signal(&p->can_take);
	pthread_mutex_unlock(&p->mu);
}

/* Give back the slots taken so far (the producer may reuse them). */
static void release(sk_feed_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->released = p->freed;
	pthread_cond_signal(&p->can_fill);
	pthread_mutex_unlock(&p->mu);
}

feed_item *sk_feed_pipe_take(sk_feed_pipe *p)
{
	if (p->taken > p->freed) /* the item taken before is done with */
		p->freed = p->taken;
	if (p->taken == p->avail) {
		pthread_mutex_lock(&p->mu);
		p->released = p->freed;
		pthread_cond_signal(&p->can_fill);
		while (p->published == p->taken && !p->closed && !p->stopped)
			pthread_cond_wait(&p->can_take, &p->mu);
		p->avail = p->published;
		pthread_mutex_unlock(&p->mu);
		if (p->taken == p->avail)
			return NULL; /* closed (or stopped) and drained */
	} else if (p->freed - p->released >= PUBLISH_RUN) {
		release(p);
	}
	return &p->slot[p->taken++ % p->n];
}

void sk_feed_pipe_stop(sk_feed_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->stopped = true;
	pthread_cond_broadcast(&p->can_fill);
	pthread_cond_broadcast(&p->can_take);
	pthread_mutex_unlock(&p->mu);
}
