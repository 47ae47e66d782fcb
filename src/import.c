/*
 * import.c - the streaming import pipeline: framer -> JSON parser (json.c) -> validator
 * -> store, committed in bounded batches.
 */
#include "schakel/import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (s->ntypes < SK_IMPORT_MAX_TYPES - 1 || (s->ntypes == SK_IMPORT_MAX_TYPES - 1 &&
						    strlen(type) < sizeof(s->types[0].type))) {
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

static void where(char *out, size_t n, const sk_reader *rd, const sk_jitem *it)
{
	snprintf(out, n, "%s:%llu (offset %llu)", sk_reader_name(rd), (unsigned long long)it->line,
		 (unsigned long long)it->offset);
}

sk_err sk_import_reader(sk_store *st, sk_reader *rd, const sk_import_opts *o,
			sk_import_stats *stats, sk_error *err)
{
	sk_jstream_opts jo = {
	    .max_element = o->max_element ? o->max_element : SK_IMPORT_DEFAULT_MAX_ELEMENT,
	    .max_depth = o->max_depth,
	};
	size_t batch = o->strict || o->in_tx ? SIZE_MAX
					     : (o->batch ? o->batch : SK_IMPORT_DEFAULT_BATCH);
	sk_jstream *js = NULL;
	sk_jdoc *doc = NULL;
	sk_import_stats *snap = NULL; /* counts at the start of the open batch */
	size_t in_batch = 0;
	bool in_tx = false;
	sk_err rc;

	if ((rc = sk_jstream_new(rd, &jo, &js)) ||
	    (rc = sk_json_doc_new(jo.max_element * 4, jo.max_depth, &doc)) ||
	    !(snap = malloc(sizeof(*snap)))) {
		sk_jstream_free(js);
		sk_json_doc_free(doc);
		return sk_error_set(err, SK_ENOMEM, "%s: out of memory", sk_reader_name(rd));
	}

	for (;;) {
		sk_jitem it;
		bool have;
		const sk_jval *obj = NULL;
		sk_stix_info info;
		sk_error oerr;
		sk_put_outcome outcome;
		char loc[512];

		rc = sk_jstream_next(js, &it, &have, err);
		if (rc) {
			/* reader errors already name the input; framer errors do not */
			if (!err || strncmp(err->msg, sk_reader_name(rd), strlen(sk_reader_name(rd))))
				sk_error_prefix(err, "%s", sk_reader_name(rd));
			goto out;
		}
		if (!have)
			break;
		stats->objects++;
		where(loc, sizeof(loc), rd, &it);

		if (sk_json_parse(doc, it.json, it.len, &obj, &oerr)) {
			sk_error_prefix(&oerr, "malformed JSON in element %llu",
					(unsigned long long)it.index);
			info.type = NULL;
			goto reject;
		}
		if ((rc = sk_stix_validate(obj, &info, &oerr)))
			goto reject;

		if (!in_tx) {
			if (!o->in_tx && (rc = sk_store_begin(st, err)))
				goto out;
			in_tx = true;
			memcpy(snap, stats, sizeof(*snap));
		}
		rc = sk_store_put(st, o->cid, &info, it.json, it.len, &outcome, NULL, err);
		if (rc) {
			sk_error_prefix(err, "%s", loc);
			goto out;
		}
		{
			sk_import_count *c = count_for(stats, info.type);
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
			    .index = it.index,
			    .id = info.id,
			    .spec = info.spec,
			    .version = info.version,
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
		if (o->on_progress && (stats->objects & 255) == 0)
			o->on_progress(o->ud, rd, stats->objects);
		continue;

	reject : {
		/* the type as validation saw it, or as written, or "(not an object)" */
		const char *type = obj ? info.type : NULL;
		if (obj && !type)
			type = sk_json_str(sk_json_get(obj, "type"));
		sk_import_count *c = count_for(stats, type);
		c->rejected++;
		stats->rejected++;
		if (o->on_reject)
			o->on_reject(o->ud, loc, oerr.msg);
		if (o->on_object) {
			const char *rid = obj ? sk_json_str(sk_json_get(obj, "id")) : NULL;
			sk_import_event ev = {.index = it.index,
					      .id = rid,
					      .outcome = SK_IMPORT_REJECTED,
					      .message = oerr.msg};
			o->on_object(o->ud, &ev);
		}
		if (o->strict) {
			rc = sk_error_set(err, SK_ESTIX, "%s: %s (--strict: nothing from this "
							 "input was stored)",
					  loc, oerr.msg);
			goto out;
		}
		continue;
	}
	}
	if (sk_jstream_values(js) == 0) {
		rc = sk_error_set(err, SK_EJSON, "%s: empty input (no JSON value)",
				  sk_reader_name(rd));
		goto out;
	}
	if (in_tx) {
		rc = o->in_tx ? SK_OK : sk_store_commit(st, err);
		in_tx = false;
	}
out:
	if (in_tx) {
		if (!o->in_tx)
			sk_store_rollback(st);
		unwind(stats, snap);
	}
	stats->bytes += sk_jstream_offset(js);
	if (o->on_progress)
		o->on_progress(o->ud, rd, stats->objects);
	sk_jstream_free(js);
	sk_json_doc_free(doc);
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
