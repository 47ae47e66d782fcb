/*
 * match_obs.c - observation-level operators over the record stream:
 * AND, OR, FOLLOWEDBY, WITHIN, REPEATS, START/STOP, with bounded memory.
 *
 * A "partial match" (inst) is a set of contributing records with its first
 * and last time.  When an observation of a multi-observation indicator
 * matches a record, a one-record inst is delivered to its parent node:
 *
 *   OR          passes it up.
 *   AND         keeps the latest inst of each child; when every child has
 *               one, their union goes up.
 *   FOLLOWEDBY  slot k keeps the latest match of children 1..k in order;
 *               an inst of child k+1 extends slot k when it comes from a
 *               later record (and not an earlier time); the last child's
 *               extension goes up.
 *   WITHIN s    passes an inst whose last - first time is <= s.
 *   REPEATS n   keeps the last n insts of its child (a sliding window, n <=
 *               16) and passes their union once it has n; for n > 16 it
 *               accumulates n insts and starts again (consume semantics).
 *   START/STOP  passes an inst whose records all lie in [start, stop).
 *
 * Keeping the latest inst per slot is what makes WITHIN most likely to hold.
 * When the root is satisfied the indicator's state is dropped: the next hit
 * needs new records.  Memory: a state per indicator with partial matches,
 * allocated on its first match; past cap_bytes the least recently updated
 * state is evicted first (its partial matches are lost).
 */
#include <stdlib.h>
#include <string.h>

#include "match_priv.h"

typedef struct inst {
	int64_t first_ts, last_ts;
	uint64_t first_seq, last_seq;
	uint32_t nrefs;
	bool used;
	uint64_t seqs[SK_MATCH_REFS_MAX];
	sk_match_ref refs[SK_MATCH_REFS_MAX];
} inst;

typedef struct istate {
	struct istate *prev, *next; /* LRU: head = most recent */
	uint32_t ind;
	size_t bytes;
	uint32_t *meta; /* per node of the indicator: REPEATS count */
	inst slots[];
} istate;

struct sk_match_state {
	const sk_matcher *m;
	istate **by_ind;
	istate *head, *tail;
	size_t cap, bytes;
	uint64_t seq, evicted, partials;
	uint32_t last_file;
	uint64_t last_line;
	bool done;
	inst out;
};

sk_err sk_match_state_new(const sk_matcher *m, size_t cap_bytes, sk_match_state **out,
			  sk_error *err)
{
	sk_match_state *s = calloc(1, sizeof(*s));
	if (!s || !(s->by_ind = calloc(m->nminds ? m->nminds : 1, sizeof(*s->by_ind)))) {
		free(s);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	s->m = m;
	s->cap = cap_bytes ? cap_bytes : (size_t)64 << 20;
	s->last_file = UINT32_MAX;
	*out = s;
	return SK_OK;
}

static void unlink_state(sk_match_state *s, istate *is)
{
	if (is->prev)
		is->prev->next = is->next;
	else
		s->head = is->next;
	if (is->next)
		is->next->prev = is->prev;
	else
		s->tail = is->prev;
	is->prev = is->next = NULL;
}

static void drop_state(sk_match_state *s, istate *is)
{
	unlink_state(s, is);
	s->by_ind[s->m->iref[is->ind]] = NULL;
	s->bytes -= is->bytes;
	free(is);
}

void sk_match_state_free(sk_match_state *s)
{
	if (!s)
		return;
	while (s->head)
		drop_state(s, s->head);
	free(s->by_ind);
	free(s);
}

static istate *get_state(sk_match_state *s, uint32_t ind)
{
	const mind *mi = sk_mind(s->m, ind);
	istate *is = s->by_ind[s->m->iref[ind]];
	if (!is) {
		size_t need = sizeof(istate) + mi->nslots * sizeof(inst) + mi->nonodes * 4;
		if (need > s->cap)
			return NULL; /* could never be kept under the cap */
		while (s->tail && s->bytes + need > s->cap) {
			drop_state(s, s->tail);
			s->evicted++;
		}
		if (!(is = calloc(1, need)))
			return NULL;
		is->ind = ind;
		is->bytes = need;
		is->meta = (uint32_t *)((char *)is + sizeof(istate) + mi->nslots * sizeof(inst));
		s->by_ind[s->m->iref[ind]] = is;
		s->bytes += need;
	} else {
		unlink_state(s, is);
	}
	is->next = s->head;
	if (s->head)
		s->head->prev = is;
	s->head = is;
	if (!s->tail)
		s->tail = is;
	return is;
}

/* out = a + b: records merged by stream order, duplicates once, the first REFS_MAX kept. */
static void combine(inst *out, const inst *a, const inst *b)
{
	inst r = {.used = true};
	uint32_t i = 0, j = 0;
	r.first_ts = a->first_ts < b->first_ts ? a->first_ts : b->first_ts;
	r.last_ts = a->last_ts > b->last_ts ? a->last_ts : b->last_ts;
	r.first_seq = a->first_seq < b->first_seq ? a->first_seq : b->first_seq;
	r.last_seq = a->last_seq > b->last_seq ? a->last_seq : b->last_seq;
	while ((i < a->nrefs || j < b->nrefs) && r.nrefs < SK_MATCH_REFS_MAX) {
		bool take_a = j >= b->nrefs || (i < a->nrefs && a->seqs[i] <= b->seqs[j]);
		const inst *src = take_a ? a : b;
		uint32_t k = take_a ? i++ : j++;
		if (r.nrefs && r.seqs[r.nrefs - 1] == src->seqs[k])
			continue;
		r.seqs[r.nrefs] = src->seqs[k];
		r.refs[r.nrefs++] = src->refs[k];
	}
	*out = r;
}

static void deliver(sk_match_state *s, istate *is, uint32_t oi, const inst *x)
{
	const sk_matcher *m = s->m;
	const monode *on = &m->onodes[oi];
	const mind *mi = sk_mind(m, is->ind);
	const monode *p;
	inst *slot, tmp;

	if (s->done)
		return;
	if (on->parent == UINT32_MAX) {
		s->out = *x;
		s->done = true;
		return;
	}
	p = &m->onodes[on->parent];
	slot = &is->slots[p->slot];
	switch (p->kind) {
	case ON_OR:
		deliver(s, is, on->parent, x);
		return;
	case ON_AND:
		slot[on->pos] = *x;
		tmp = *x;
		for (uint32_t i = 0; i < p->nkids; i++) {
			if (!slot[i].used)
				return;
			if (i != on->pos)
				combine(&tmp, &tmp, &slot[i]);
		}
		deliver(s, is, on->parent, &tmp);
		return;
	case ON_FB:
		if (on->pos == 0) {
			tmp = *x;
		} else {
			const inst *prev = &slot[on->pos - 1];
			if (!prev->used || prev->last_seq >= x->first_seq ||
			    prev->last_ts > x->first_ts)
				return;
			combine(&tmp, prev, x);
		}
		if (on->pos + 1 == p->nkids)
			deliver(s, is, on->parent, &tmp);
		else
			slot[on->pos] = tmp;
		s->partials++;
		return;
	case ON_WITHIN:
		if (x->last_ts - x->first_ts <= p->within_us)
			deliver(s, is, on->parent, x);
		return;
	case ON_STARTSTOP:
		if (x->first_ts >= p->start_us && x->last_ts < p->stop_us)
			deliver(s, is, on->parent, x);
		return;
	case ON_REPEATS: {
		uint32_t *count = &is->meta[on->parent - mi->oroot];
		(*count)++;
		s->partials++;
		if (p->nslots == 1 && p->times > 1) {
			/* accumulate (n > 16, or the window of one) */
			if (slot[0].used)
				combine(&slot[0], &slot[0], x);
			else
				slot[0] = *x;
			if (*count >= (uint64_t)p->times) {
				tmp = slot[0];
				slot[0].used = false;
				*count = 0;
				deliver(s, is, on->parent, &tmp);
			}
			return;
		}
		if (p->times <= 1) {
			deliver(s, is, on->parent, x);
			return;
		}
		slot[(*count - 1) % p->nslots] = *x;
		if (*count < p->nslots)
			return;
		tmp = slot[*count % p->nslots]; /* the oldest of the window */
		for (uint32_t i = 1; i < p->nslots; i++)
			combine(&tmp, &tmp, &slot[(*count + i) % p->nslots]);
		deliver(s, is, on->parent, &tmp);
		return;
	}
	default:
		return;
	}
}

bool sk_match_state_feed(sk_match_state *s, const sk_match_hit *h, const sk_match_ref *ref,
			 const sk_match_ref **refs, size_t *nrefs)
{
	const sk_matcher *m = s->m;
	const mind *mi;
	istate *is;
	inst x;
	uint32_t leaf = UINT32_MAX;

	if (h->ind >= m->ninds || h->obs == 0 || sk_ind_direct(m, h->ind))
		return false;
	mi = sk_mind(m, h->ind);
	if (mi->oroot == UINT32_MAX)
		return false;
	if (ref->file != s->last_file || ref->line != s->last_line) {
		s->seq++;
		s->last_file = ref->file;
		s->last_line = ref->line;
	}
	for (uint32_t i = mi->oroot; i < mi->oroot + mi->nonodes; i++)
		if (m->onodes[i].kind == ON_OBS && m->onodes[i].obsnum == h->obs) {
			leaf = i;
			break;
		}
	if (leaf == UINT32_MAX || !(is = get_state(s, h->ind)))
		return false;
	memset(&x, 0, sizeof(x));
	x.used = true;
	x.first_ts = x.last_ts = ref->ts_us;
	x.first_seq = x.last_seq = s->seq;
	x.nrefs = 1;
	x.seqs[0] = s->seq;
	x.refs[0] = *ref;
	s->done = false;
	deliver(s, is, leaf, &x);
	if (!s->done)
		return false;
	drop_state(s, is);
	*refs = s->out.refs;
	*nrefs = s->out.nrefs;
	return true;
}

void sk_match_state_stats_get(const sk_match_state *s, sk_match_state_stats *out)
{
	out->bytes = s->bytes;
	out->evicted = s->evicted;
	out->partials = s->partials;
}
