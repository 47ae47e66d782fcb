/*
 * import.c - the streaming import pipeline: framer -> JSON parser (json.c) -> validator
 * -> store, committed in bounded batches.
 */
#include "schakel/import.h"
#include "schakel/timestamp.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schakel/jstream.h"
#include "schakel/stix.h"

static sk_import_count *count_for(sk_import_stats *s, const char *type)
{
	size_t i;
	if (!type)
		type = "(not an object)";
	for (i = 0; i < s->ntypes; i++)
		if (strcmp(s->types[i].type, type) == 0)
			return &s->types[i];
	if (s->ntypes < SK_IMPORT_MAX_TYPES - 1 ||
	    (s->ntypes == SK_IMPORT_MAX_TYPES - 1 && strlen(type) < sizeof(s->types[0].type))) {
		sk_import_count *c = &s->types[s->ntypes++];
		memset(c, 0, sizeof(*c));
		snprintf(c->type, sizeof(c->type), "%s", type);
		return c;
	}
	/* the table is full: the last slot collects the rest */
	snprintf(s->types[SK_IMPORT_MAX_TYPES - 1].type, sizeof(s->types[0].type), "(other)");
	return &s->types[SK_IMPORT_MAX_TYPES - 1];
}

/*
 * Undo the stored/added/duplicate counts of a rolled-back batch: those
 * objects are not in the store.  Rejections stay counted; they happened.
 */
static void unwind(sk_import_stats *s, const sk_import_stats *snap)
{
	s->stored = snap->stored;
	s->added = snap->added;
	s->duplicate = snap->duplicate;
	for (size_t i = 0; i < s->ntypes; i++) {
		const sk_import_count *old = NULL;
		for (size_t j = 0; j < snap->ntypes && !old; j++)
			if (strcmp(snap->types[j].type, s->types[i].type) == 0)
				old = &snap->types[j];
		s->types[i].stored = old ? old->stored : 0;
		s->types[i].added = old ? old->added : 0;
		s->types[i].duplicate = old ? old->duplicate : 0;
	}
}

/*
 * One input element, framed, parsed and validated, waiting to be stored.
 * With o->pipeline a second thread prepares elements into a ring of these
 * while the caller's thread stores the earlier ones.
 */
typedef struct elem {
	sk_err frc;     /* the framer's error: the input ends here */
	bool have;      /* false: the input ended cleanly */
	sk_error ferr;  /* with frc */
	uint64_t index; /* position in the container */
	char loc[512];  /* "file:line (offset N)" */
	char *text;     /* the minified element (own copy when pipelined) */
	size_t len, cap;
	sk_jdoc *doc;
	const sk_jval *obj; /* parsed element, or NULL (not JSON) */
	sk_err vrc;         /* SK_OK: obj is a valid STIX object described by info */
	sk_stix_info info;
	sk_error verr;         /* why not */
	int vstate;            /* V_DONE, or a signature a verifier still has to check */
	const struct pin *pin; /* with V_NEEDS: the first of the producer's pinned keys */
} elem;

enum { V_DONE, V_NEEDS, V_RUNNING };

#define MAX_VERIFIERS 8

#define PIPE_SLOTS 64
#define PIPE_BYTES ((size_t)4 << 20) /* element text prepared ahead (at least one element) */
#define SLOT_KEEP  ((size_t)1 << 20) /* larger element copies are freed once stored */

typedef struct feed {
	sk_reader *rd;
	sk_jstream *js;
	const sk_import_opts *o;
	int max_depth;
	size_t max_element;
	elem ring[PIPE_SLOTS];
	size_t nslots; /* 1 when not pipelined */
	elem *held;    /* handed out, not yet released */
	bool threaded; /* the producer thread runs */
	bool copies;   /* elements are copied out of the stream (pipelined) */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv_space, cv_ready;
	size_t head, tail; /* elements released / prepared so far */
	size_t bytes;      /* text of prepared, unreleased elements */
	bool quit;         /* the consumer has stopped */
	/*
	 * Who sleeps, and is woken only once the ring is half drained (or a
	 * batch is ready): waking the other thread per element costs a context
	 * switch per element when the cores are busy.
	 */
	bool prod_waits, cons_waits;
	uint64_t framed; /* for on_progress on the producer's side */
	/*
	 * The keys pinned when the import started, sorted by identity: the
	 * producer thread checks signatures with them, so that verification
	 * runs beside the storing thread (docs/provenance.md).
	 */
	struct pin *pins;
	size_t npins;
	sk_buf scratch;
	/*
	 * With pins, signatures are checked by a pool of verifier threads
	 * (Ed25519 verification costs more than storing an object): the
	 * producer marks an element V_NEEDS, a verifier takes it in order
	 * (vnext), and the consumer takes an element only once it is V_DONE.
	 */
	pthread_t verifiers[MAX_VERIFIERS];
	size_t nverifiers;
	size_t vnext; /* the next element a verifier looks at */
	pthread_cond_t cv_work;
} feed;

struct pin {
	char *identity;
	unsigned char pk[SK_KEY_PK_LEN];
};

static int pin_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pin *)a)->identity, ((const struct pin *)b)->identity);
}

static int add_pin(void *ud, const sk_key_row *r)
{
	feed *f = ud;
	struct pin *p = realloc(f->pins, (f->npins + 1) * sizeof(*p));
	if (!p)
		return 1;
	f->pins = p;
	if (!(p[f->npins].identity = strdup(r->identity)))
		return 1;
	memcpy(p[f->npins].pk, r->pk, SK_KEY_PK_LEN);
	f->npins++;
	return 0;
}

/*
 * The verdict on a signed object other than an identity (identities decide
 * pins and are checked by the store itself): any key pinned for its
 * producer that verifies it.  Only "verified" is trusted later; anything
 * else is checked again by the store with the keys of that moment.
 */
static void verify(feed *f, elem *e, sk_buf *scratch)
{
	const char *by = e->info.created_by_ref;
	const struct pin *p;

	for (p = e->pin; p < f->pins + f->npins && !strcmp(p->identity, by); p++)
		if (sk_sig_verify(e->obj, p->pk, scratch) == SK_SIG_VERIFIED) {
			e->info.presig = 1 + SK_SIG_VERIFIED;
			return;
		}
}

static void presign(feed *f, elem *e)
{
	const char *by = e->info.created_by_ref;
	struct pin key = {.identity = (char *)by}, *p;

	if (!f->npins || !by || !strcmp(e->info.type, "identity") || !sk_sig_present(e->obj))
		return;
	p = bsearch(&key, f->pins, f->npins, sizeof(*p), pin_cmp);
	if (!p)
		return;
	while (p > f->pins && !strcmp(p[-1].identity, by))
		p--; /* the first of this identity's keys */
	e->pin = p;
	if (f->nverifiers)
		e->vstate = V_NEEDS; /* published with the element (tail) */
	else
		verify(f, e, &f->scratch);
}

/* A verifier thread: check the signatures of prepared elements, in order. */
static void *verifier(void *ud)
{
	feed *f = ud;
	sk_buf scratch;

	sk_buf_init(&scratch, 0);
	pthread_mutex_lock(&f->mu);
	for (;;) {
		elem *e;
		if (f->vnext < f->head)
			f->vnext = f->head; /* released elements need nothing */
		while (!f->quit && f->vnext >= f->tail)
			pthread_cond_wait(&f->cv_work, &f->mu);
		if (f->quit)
			break;
		if (f->vnext < f->head)
			continue;
		e = &f->ring[f->vnext++ % f->nslots];
		if (e->vstate != V_NEEDS)
			continue;
		e->vstate = V_RUNNING;
		pthread_mutex_unlock(&f->mu);
		verify(f, e, &scratch);
		pthread_mutex_lock(&f->mu);
		e->vstate = V_DONE;
		if (f->cons_waits && e == &f->ring[f->head % f->nslots]) {
			f->cons_waits = false;
			pthread_cond_signal(&f->cv_ready);
		}
	}
	pthread_mutex_unlock(&f->mu);
	sk_buf_free(&scratch);
	return NULL;
}

static void prepare(feed *f, elem *e)
{
	sk_jitem it;

	e->obj = NULL;
	e->vrc = SK_OK;
	e->len = 0;
	e->vstate = V_DONE;
	e->frc = sk_jstream_next(f->js, &it, &e->have, &e->ferr);
	if (e->frc || !e->have)
		return;
	e->index = it.index;
	snprintf(e->loc, sizeof(e->loc), "%s:%llu (offset %llu)", sk_reader_name(f->rd),
	         (unsigned long long)it.line, (unsigned long long)it.offset);
	if (!f->copies) {
		e->text = (char *)it.json; /* valid until the next element */
	} else {
		if (it.len + 1 > e->cap) {
			char *t = realloc(e->text, it.len + 1);
			if (!t) {
				e->frc = sk_error_set(&e->ferr, SK_ENOMEM, "out of memory");
				return;
			}
			e->text = t;
			e->cap = it.len + 1;
		}
		memcpy(e->text, it.json, it.len + 1);
	}
	e->len = it.len;
	if (!e->doc && sk_json_doc_new(f->max_element * 4, f->max_depth, &e->doc)) {
		e->frc = sk_error_set(&e->ferr, SK_ENOMEM, "out of memory");
		return;
	}
	if ((e->vrc = sk_json_parse(e->doc, e->text, e->len, &e->obj, &e->verr))) {
		sk_error_prefix(&e->verr, "malformed JSON in element %llu",
		                (unsigned long long)it.index);
		e->obj = NULL;
		memset(&e->info, 0, sizeof(e->info));
		return;
	}
	e->vrc = sk_stix_validate(e->obj, &e->info, &e->verr);
	if (!e->vrc)
		presign(f, e);
}

static void *producer(void *ud)
{
	feed *f = ud;
	for (;;) {
		elem *e;
		bool last;
		pthread_mutex_lock(&f->mu);
		while (!f->quit && (f->tail - f->head == f->nslots ||
		                    (f->tail > f->head && f->bytes >= PIPE_BYTES))) {
			f->prod_waits = true;
			pthread_cond_wait(&f->cv_space, &f->mu);
		}
		if (f->quit) {
			pthread_mutex_unlock(&f->mu);
			return NULL;
		}
		e = &f->ring[f->tail % f->nslots];
		pthread_mutex_unlock(&f->mu);
		prepare(f, e);
		last = e->frc || !e->have;
		pthread_mutex_lock(&f->mu);
		f->tail++;
		f->bytes += e->len;
		if (e->vstate == V_NEEDS)
			pthread_cond_signal(&f->cv_work);
		if (f->cons_waits &&
		    (last || f->tail - f->head >= f->nslots / 4 || f->bytes >= PIPE_BYTES / 4)) {
			f->cons_waits = false;
			pthread_cond_signal(&f->cv_ready);
		}
		pthread_mutex_unlock(&f->mu);
		if (last)
			return NULL;
		/* the reader is this thread's: report progress from here */
		if (f->o->on_progress && (++f->framed & 255) == 0)
			f->o->on_progress(f->o->ud, f->rd, f->framed);
	}
}

static void release(feed *f)
{
	elem *e = f->held;
	if (!e)
		return;
	f->held = NULL;
	if (!f->threaded)
		return;
	if (e->cap > SLOT_KEEP) {
		free(e->text);
		e->text = NULL;
		e->cap = 0;
	}
	pthread_mutex_lock(&f->mu);
	f->head++;
	f->bytes -= e->len;
	if (f->prod_waits && f->tail - f->head <= f->nslots / 2 && f->bytes <= PIPE_BYTES / 2) {
		f->prod_waits = false;
		pthread_cond_signal(&f->cv_space);
	}
	pthread_mutex_unlock(&f->mu);
}

/* The next element, in input order (the previous one is released). */
static elem *next_elem(feed *f)
{
	elem *e;
	release(f);
	if (!f->threaded) {
		prepare(f, &f->ring[0]);
		return f->held = &f->ring[0];
	}
	pthread_mutex_lock(&f->mu);
	while (f->head == f->tail || f->ring[f->head % f->nslots].vstate != V_DONE) {
		f->cons_waits = true;
		pthread_cond_wait(&f->cv_ready, &f->mu);
	}
	e = &f->ring[f->head % f->nslots];
	pthread_mutex_unlock(&f->mu);
	return f->held = e;
}

static sk_err feed_start(feed *f, sk_store *st, sk_reader *rd, const sk_import_opts *o)
{
	sk_jstream_opts jo = {
	    .max_element = o->max_element ? o->max_element : SK_IMPORT_DEFAULT_MAX_ELEMENT,
	    .max_depth = o->max_depth,
	};
	memset(f, 0, sizeof(*f));
	f->rd = rd;
	f->o = o;
	f->max_element = jo.max_element;
	f->max_depth = o->max_depth;
	f->nslots = o->pipeline ? PIPE_SLOTS : 1;
	if (sk_jstream_new(rd, &jo, &f->js))
		return SK_ENOMEM;
	if (!o->pipeline)
		return SK_OK;
	sk_buf_init(&f->scratch, 0);
	if (sk_store_keys(st, add_pin, f, NULL) == SK_OK && f->npins)
		qsort(f->pins, f->npins, sizeof(*f->pins), pin_cmp);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv_space, NULL);
	pthread_cond_init(&f->cv_ready, NULL);
	pthread_cond_init(&f->cv_work, NULL);
	f->threaded = f->copies = true;
	if (f->npins) {
		/* one verifier per core: they share the cores with the storing thread */
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		size_t want = n < 1 ? 1 : n > MAX_VERIFIERS ? MAX_VERIFIERS : (size_t)n;
		while (f->nverifiers < want &&
		       !pthread_create(&f->verifiers[f->nverifiers], NULL, verifier, f))
			f->nverifiers++;
	}
	if (pthread_create(&f->th, NULL, producer, f)) {
		/* no thread: carry on without one (nor verifiers) */
		pthread_mutex_lock(&f->mu);
		f->quit = true;
		pthread_cond_broadcast(&f->cv_work);
		pthread_mutex_unlock(&f->mu);
		for (size_t i = 0; i < f->nverifiers; i++)
			pthread_join(f->verifiers[i], NULL);
		f->nverifiers = 0;
		f->quit = false;
		f->threaded = f->copies = false;
		f->nslots = 1;
		pthread_mutex_destroy(&f->mu);
		pthread_cond_destroy(&f->cv_space);
		pthread_cond_destroy(&f->cv_ready);
		pthread_cond_destroy(&f->cv_work);
	}
	return SK_OK;
}

/* Stop the producer (if any) and wait for it; the stream is the caller's again. */
static void feed_stop(feed *f)
{
	if (!f->threaded)
		return;
	pthread_mutex_lock(&f->mu);
	f->quit = true;
	pthread_cond_signal(&f->cv_space);
	pthread_cond_broadcast(&f->cv_work);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->th, NULL);
	for (size_t i = 0; i < f->nverifiers; i++)
		pthread_join(f->verifiers[i], NULL);
	f->nverifiers = 0;
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv_space);
	pthread_cond_destroy(&f->cv_ready);
	pthread_cond_destroy(&f->cv_work);
	f->threaded = false;
}

static void feed_free(feed *f)
{
	feed_stop(f);
	sk_jstream_free(f->js);
	for (size_t i = 0; i < PIPE_SLOTS; i++) {
		if (f->copies)
			free(f->ring[i].text);
		sk_json_doc_free(f->ring[i].doc);
	}
	for (size_t i = 0; i < f->npins; i++)
		free(f->pins[i].identity);
	free(f->pins);
	sk_buf_free(&f->scratch);
}

sk_err sk_import_reader(sk_store *st, sk_reader *rd, const sk_import_opts *o,
                        sk_import_stats *stats, sk_error *err)
{
	size_t batch =
	    o->strict || o->in_tx ? SIZE_MAX : (o->batch ? o->batch : SK_IMPORT_DEFAULT_BATCH);
	feed *f = malloc(sizeof(*f));
	sk_import_stats *snap = NULL; /* counts at the start of the open batch */
	size_t in_batch = 0;
	bool in_tx = false;
	sk_err rc;

	if (!f || feed_start(f, st, rd, o) || !(snap = malloc(sizeof(*snap)))) {
		if (f)
			feed_free(f);
		free(f);
		return sk_error_set(err, SK_ENOMEM, "%s: out of memory", sk_reader_name(rd));
	}

	for (;;) {
		elem *e = next_elem(f);
		const sk_jval *obj = e->obj;
		const sk_stix_info *info = &e->info;
		const sk_error *oerr = &e->verr;
		const char *loc = e->loc;
		sk_put_outcome outcome;

		if ((rc = e->frc)) {
			if (err)
				*err = e->ferr;
			/* reader errors already name the input; framer errors do not */
			if (!err ||
			    strncmp(err->msg, sk_reader_name(rd), strlen(sk_reader_name(rd))))
				sk_error_prefix(err, "%s", sk_reader_name(rd));
			goto out;
		}
		if (!e->have)
			break;
		stats->objects++;
		if (e->vrc)
			goto reject;

		if (!in_tx) {
			if (!o->in_tx && (rc = sk_store_begin(st, err)))
				goto out;
			in_tx = true;
			memcpy(snap, stats, sizeof(*snap));
		}
		rc = sk_store_put(st, o->cid, info, e->text, e->len, &outcome, NULL, &e->verr);
		if (rc == SK_EPERM || rc == SK_ECONFLICT) { /* the write rule: this object only */
			if (rc == SK_ECONFLICT)
				stats->conflicts++;
			rc = SK_OK;
			goto reject;
		}
		if (rc) {
			if (err)
				*err = e->verr;
			sk_error_prefix(err, "%s", loc);
			goto out;
		}
		{
			sk_import_count *c = count_for(stats, info->type);
			switch (outcome) {
			case SK_PUT_NEW:
				c->stored++;
				stats->stored++;
				break;
			case SK_PUT_ADDED:
				c->added++;
				stats->added++;
				break;
			case SK_PUT_DUPLICATE:
				c->duplicate++;
				stats->duplicate++;
				break;
			}
		}
		if (o->on_object) {
			sk_import_event ev = {
			    .index = e->index,
			    .id = info->id,
			    .spec = info->spec,
			    .version = info->version,
			    .outcome = outcome == SK_PUT_NEW     ? SK_IMPORT_NEW
			               : outcome == SK_PUT_ADDED ? SK_IMPORT_ADDED
			                                         : SK_IMPORT_DUPLICATE,
			};
			o->on_object(o->ud, &ev);
		}
		if (++in_batch >= batch) {
			if ((rc = sk_store_commit(st, err)))
				goto out;
			in_tx = false;
			in_batch = 0;
		}
		if (o->on_progress && !f->threaded && (stats->objects & 255) == 0)
			o->on_progress(o->ud, rd, stats->objects);
		continue;

	reject : {
		/* the type as validation saw it, or as written, or "(not an object)" */
		const char *type = obj ? info->type : NULL;
		if (obj && !type)
			type = sk_json_str(sk_json_get(obj, "type"));
		sk_import_count *c = count_for(stats, type);
		c->rejected++;
		stats->rejected++;
		if (o->on_reject)
			o->on_reject(o->ud, loc, oerr->msg);
		if (o->on_object) {
			const char *rid = obj ? sk_json_str(sk_json_get(obj, "id")) : NULL;
			const char *mod = obj ? sk_json_str(sk_json_get(obj, "modified")) : NULL;
			char vkey[SK_TS_KEY_LEN + 1];
			if (!mod && obj)
				mod = sk_json_str(sk_json_get(obj, "created"));
			sk_import_event ev = {
			    .index = e->index,
			    .id = rid,
			    .version =
			        mod && sk_ts_parse(mod, strlen(mod), vkey, NULL) ? vkey : NULL,
			    .outcome = SK_IMPORT_REJECTED,
			    .message = oerr->msg};
			o->on_object(o->ud, &ev);
		}
		if (o->strict) {
			rc = sk_error_set(err, SK_ESTIX,
			                  "%s: %s (--strict: nothing from this "
			                  "input was stored)",
			                  loc, oerr->msg);
			goto out;
		}
		continue;
	}
	}
	feed_stop(f); /* the stream is this thread's again */
	if (sk_jstream_values(f->js) == 0) {
		rc = sk_error_set(err, SK_EJSON, "%s: empty input (no JSON value)",
		                  sk_reader_name(rd));
		goto out;
	}
	if (in_tx) {
		rc = o->in_tx ? SK_OK : sk_store_commit(st, err);
		in_tx = false;
	}
out:
	feed_stop(f);
	if (in_tx) {
		if (!o->in_tx)
			sk_store_rollback(st);
		unwind(stats, snap);
	}
	stats->bytes += sk_jstream_offset(f->js);
	if (o->on_progress)
		o->on_progress(o->ud, rd, stats->objects);
	feed_free(f);
	free(f);
	free(snap);
	return rc;
}

sk_err sk_import_file(sk_store *st, const char *path, const sk_import_opts *o,
                      sk_import_stats *stats, sk_error *err)
{
	sk_reader *rd = NULL;
	sk_err rc = sk_reader_open(path, &rd, err);
	if (rc)
		return rc;
	rc = sk_import_reader(st, rd, o, stats, err);
	sk_reader_close(rd);
	return rc;
}
