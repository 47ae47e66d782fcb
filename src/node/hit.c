/*
 * hit.c - a matcher hit as one JSON line (hit.h), shared by `schakel scan`
 * and the live watcher so that both print the same fields the same way.
 */
#include "schakel/hit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/buf.h"
#include "schakel/json.h"
#include "schakel/timestamp.h"

#define PRODUCERS_MAX 1024 /* producer names cached; past it they are looked up each time */

struct sk_hit_fmt {
	sk_store *st;
	sk_buf line;
	char *prod_id[PRODUCERS_MAX], *prod_name[PRODUCERS_MAX];
	size_t nprod;
};

/* --- JSON output with one sticky error ------------------------------------ */

typedef struct jw {
	sk_buf *b;
	sk_err rc;
} jw;

static void jw_raw(jw *w, const char *s)
{
	if (!w->rc)
		w->rc = sk_buf_puts(w->b, s);
}

/* A JSON string of n bytes, or null when s is NULL. */
static void jw_strn(jw *w, const char *s, size_t n)
{
	if (!s)
		jw_raw(w, "null");
	else if (!w->rc)
		w->rc = sk_buf_put_json_string(w->b, s, n);
}

static void jw_str(jw *w, const char *s)
{
	jw_strn(w, s, s ? strlen(s) : 0);
}

static void jw_u64(jw *w, uint64_t v)
{
	if (!w->rc)
		w->rc = sk_buf_printf(w->b, "%llu", (unsigned long long)v);
}

/* "file" and "line" of one record. */
static void jw_record(jw *w, const char *file, uint64_t line)
{
	jw_raw(w, "{\"file\":");
	jw_str(w, file);
	jw_raw(w, ",\"line\":");
	jw_u64(w, line);
	jw_raw(w, "}");
}

/* --- metadata ------------------------------------------------------------- */

typedef struct objinfo {
	char *type, *name;
	char *description; /* only when want_desc */
	bool want_desc;
} objinfo;

/* sk_store_get callback: an object's type and name. */
static int get_info(void *ud, const sk_row *r)
{
	objinfo *oi = ud;
	sk_jdoc *doc = NULL;
	const sk_jval *root;
	sk_error e;

	free(oi->type);
	free(oi->name);
	oi->type = strdup(r->type);
	oi->name = NULL;
	if (!sk_json_doc_new(0, 0, &doc) && !sk_json_parse(doc, r->json, r->len, &root, &e)) {
		const char *n = sk_json_str(sk_json_get(root, "name"));
		const char *d = sk_json_str(sk_json_get(root, "description"));
		if (n)
			oi->name = strdup(n);
		if (oi->want_desc && d) {
			free(oi->description);
			oi->description = strdup(d);
		}
	}
	sk_json_doc_free(doc);
	return 0;
}

/* *dst = a copy of s (NULL for NULL); false when out of memory. */
static bool dup_to(char **dst, const char *s)
{
	*dst = s ? strdup(s) : NULL;
	return !s || *dst;
}

typedef struct load_ctx {
	sk_hit_ind *ind;
	bool found, oom;
} load_ctx;

static int load_row(void *ud, const sk_row *r)
{
	load_ctx *lc = ud;
	sk_hit_ind *ind = lc->ind;
	sk_jdoc *doc = NULL;
	const sk_jval *root, *v;
	sk_error e;

	lc->found = true;
	if (!ind->id && !dup_to(&ind->id, r->id))
		lc->oom = true;
	if (!dup_to(&ind->producer, r->created_by))
		lc->oom = true;
	ind->tlp = r->tlp;
	ind->confidence = -1;
	if (!sk_json_doc_new(0, 0, &doc) && !sk_json_parse(doc, r->json, r->len, &root, &e)) {
		if (!dup_to(&ind->name, sk_json_str(sk_json_get(root, "name"))) ||
		    !dup_to(&ind->pattern, sk_json_str(sk_json_get(root, "pattern"))))
			lc->oom = true;
		v = sk_json_get(root, "confidence");
		if (sk_json_is(v, SK_JINT))
			ind->confidence = (int)v->u.i;
	}
	sk_json_doc_free(doc);
	return 0;
}

sk_err sk_hit_ind_load(sk_store *st, sk_hit_ind *ind, sk_error *err)
{
	load_ctx lc = {ind, false, false};
	sk_err rc;

	if (ind->loaded)
		return ind->gone ? sk_error_set(err, SK_ENOTFOUND, "indicator version gone")
				 : SK_OK;
	ind->loaded = true;
	ind->confidence = -1;
	rc = sk_store_get_ver(st, ind->ver, load_row, &lc, err);
	if (lc.oom)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	if (rc || !lc.found || !ind->id) {
		ind->gone = true;
		return rc ? rc : sk_error_set(err, SK_ENOTFOUND, "indicator version gone");
	}
	return SK_OK;
}

void sk_hit_ind_clear(sk_hit_ind *ind)
{
	if (!ind)
		return;
	free(ind->id);
	free(ind->name);
	free(ind->pattern);
	free(ind->producer);
	free(ind->frag);
	memset(ind, 0, sizeof(*ind));
}

/* --- the formatter -------------------------------------------------------- */

sk_err sk_hit_fmt_new(sk_store *st, sk_hit_fmt **out, sk_error *err)
{
	sk_hit_fmt *f = calloc(1, sizeof(*f));
	*out = NULL;
	if (!f)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	f->st = st;
	sk_buf_init(&f->line, 0);
	*out = f;
	return SK_OK;
}

void sk_hit_fmt_free(sk_hit_fmt *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nprod; i++) {
		free(f->prod_id[i]);
		free(f->prod_name[i]);
	}
	sk_buf_free(&f->line);
	free(f);
}

/* Write the name of producer id (cached; null when unknown or unnamed). */
static void put_producer_name(sk_hit_fmt *f, jw *w, const char *id)
{
	objinfo oi = {0};
	sk_error e;

	for (size_t i = 0; i < f->nprod; i++)
		if (!strcmp(f->prod_id[i], id)) {
			jw_str(w, f->prod_name[i]);
			return;
		}
	sk_store_get(f->st, id, false, get_info, &oi, &e);
	free(oi.type);
	jw_str(w, oi.name);
	if (f->nprod < PRODUCERS_MAX && (f->prod_id[f->nprod] = strdup(id))) {
		f->prod_name[f->nprod++] = oi.name; /* the cache owns it now */
		return;
	}
	free(oi.name);
}

#define COA_TARGETS 16 /* what an indicator indicates, looked at for mitigations */
#define COA_MAX     16 /* courses of action on one alert */
#define COA_DESC    400 /* bytes of a course of action's description on an alert */

typedef struct relctx {
	sk_hit_fmt *f;
	jw *w;
	int n;
	char *targets[COA_TARGETS]; /* the ids it indicates */
	int ntargets;
	char *coas[COA_MAX]; /* courses of action written so far */
	int ncoas;
	const char *mitigated; /* the object whose mitigations are being collected */
} relctx;

/* One "indicates" target: id, type (from the stored object, else its id) and name. */
static int on_rel(void *ud, const sk_row *rel, const char *rel_type, const char *other,
		  bool outgoing)
{
	relctx *rc = ud;
	objinfo oi = {0};
	sk_error e;
	(void)rel;

	if (!outgoing || !rel_type || strcmp(rel_type, "indicates") || !other)
		return 0;
	sk_store_get(rc->f->st, other, false, get_info, &oi, &e);
	jw_raw(rc->w, rc->n++ ? ",{\"id\":" : "{\"id\":");
	jw_str(rc->w, other);
	jw_raw(rc->w, ",\"type\":");
	if (oi.type) {
		jw_str(rc->w, oi.type);
	} else {
		/* not stored here: the type is the id's prefix */
		const char *dd = strstr(other, "--");
		jw_strn(rc->w, dd ? other : NULL, dd ? (size_t)(dd - other) : 0);
	}
	jw_raw(rc->w, ",\"name\":");
	jw_str(rc->w, oi.name);
	jw_raw(rc->w, "}");
	if (rc->ntargets < COA_TARGETS)
		rc->targets[rc->ntargets++] = strdup(other);
	free(oi.type);
	free(oi.name);
	return 0;
}

/*
 * A course of action that mitigates rc->mitigated (an incoming `mitigates`
 * from a course-of-action), once per alert: what an operator without a
 * threat-intelligence team can do about the hit.
 */
static int on_mitigation(void *ud, const sk_row *rel, const char *rel_type, const char *other,
			 bool outgoing)
{
	relctx *rc = ud;
	objinfo oi = {.want_desc = true};
	sk_error e;
	(void)rel;

	if (outgoing || !rel_type || strcmp(rel_type, "mitigates") || !other ||
	    strncmp(other, "course-of-action--", 18) || rc->ncoas >= COA_MAX)
		return 0;
	for (int i = 0; i < rc->ncoas; i++)
		if (!strcmp(rc->coas[i], other))
			return 0;
	if (!(rc->coas[rc->ncoas] = strdup(other)))
		return 0;
	sk_store_get(rc->f->st, other, false, get_info, &oi, &e);
	jw_raw(rc->w, rc->ncoas++ ? ",{\"id\":" : "{\"id\":");
	jw_str(rc->w, other);
	jw_raw(rc->w, ",\"name\":");
	jw_str(rc->w, oi.name);
	jw_raw(rc->w, ",\"description\":");
	if (oi.description && strlen(oi.description) > COA_DESC) {
		size_t n = COA_DESC;
		while (n && ((unsigned char)oi.description[n] & 0xC0) == 0x80)
			n--; /* not inside a UTF-8 sequence */
		oi.description[n] = '\0';
	}
	jw_str(rc->w, oi.description);
	jw_raw(rc->w, ",\"mitigates\":");
	jw_str(rc->w, rc->mitigated);
	jw_raw(rc->w, "}");
	free(oi.type);
	free(oi.name);
	free(oi.description);
	return 0;
}

/* The indicator's part of the line, built on its first hit. */
static const char *fragment(sk_hit_fmt *f, sk_hit_ind *ind)
{
	sk_buf b;
	jw w = {&b, SK_OK};
	relctx rc = {.f = f, .w = &w};
	sk_error e;

	if (ind->frag)
		return ind->frag;
	sk_hit_ind_load(f->st, ind, &e); /* a gone version still prints what is known */
	sk_buf_init(&b, 0);
	jw_raw(&w, "\"indicator\":{\"id\":");
	jw_str(&w, ind->id);
	jw_raw(&w, ",\"name\":");
	jw_str(&w, ind->name);
	jw_raw(&w, ",\"pattern\":");
	jw_str(&w, ind->pattern);
	jw_raw(&w, ",\"producer\":");
	jw_str(&w, ind->producer);
	jw_raw(&w, ",\"producer_name\":");
	if (ind->producer)
		put_producer_name(f, &w, ind->producer);
	else
		jw_raw(&w, "null");
	jw_raw(&w, ",\"marking\":");
	jw_str(&w, ind->tlp == SK_TLP_NONE ? NULL : sk_tlp_name(ind->tlp));
	jw_raw(&w, ",\"confidence\":");
	if (ind->confidence >= 0)
		jw_u64(&w, (uint64_t)ind->confidence);
	else
		jw_raw(&w, "null");
	jw_raw(&w, "},\"indicates\":[");
	if (ind->id)
		sk_store_relations(f->st, ind->id, on_rel, &rc, &e);
	/* the courses of action that mitigate the indicator or what it indicates */
	jw_raw(&w, "],\"courses_of_action\":[");
	if (ind->id) {
		rc.mitigated = ind->id;
		sk_store_relations(f->st, ind->id, on_mitigation, &rc, &e);
	}
	for (int i = 0; i < rc.ntargets; i++) {
		if (!rc.targets[i])
			continue;
		rc.mitigated = rc.targets[i];
		sk_store_relations(f->st, rc.targets[i], on_mitigation, &rc, &e);
	}
	jw_raw(&w, "]");
	for (int i = 0; i < rc.ntargets; i++)
		free(rc.targets[i]);
	for (int i = 0; i < rc.ncoas; i++)
		free(rc.coas[i]);
	if (w.rc) {
		sk_buf_free(&b);
		return "\"indicator\":null,\"indicates\":[],\"courses_of_action\":[]";
	}
	ind->frag = b.data; /* the buffer's storage becomes the cached string */
	return ind->frag;
}

const char *sk_hit_fmt_line(sk_hit_fmt *f, sk_hit_ind *ind, const sk_hit *h, const char *extra,
			    size_t *len)
{
	jw w = {&f->line, SK_OK};
	char ts[SK_TS_STR_MAX];

	sk_buf_reset(&f->line);
	jw_raw(&w, "{\"time\":");
	if (h->ts_us) {
		sk_ts_format_us(h->ts_us, ts);
		jw_str(&w, ts);
	} else {
		jw_raw(&w, "null");
	}
	jw_raw(&w, ",\"file\":");
	jw_str(&w, h->file);
	jw_raw(&w, ",\"line\":");
	jw_u64(&w, h->line);
	jw_raw(&w, ",\"offset\":");
	jw_u64(&w, h->offset);
	jw_raw(&w, ",\"field\":");
	jw_str(&w, h->value ? h->field : NULL);
	jw_raw(&w, ",\"kind\":");
	jw_str(&w, h->value ? h->kind : NULL);
	jw_raw(&w, ",\"value\":");
	jw_strn(&w, h->value, h->value_len);
	jw_raw(&w, ",");
	jw_raw(&w, fragment(f, ind));
	jw_raw(&w, ",\"records\":[");
	if (h->nrefs) {
		for (size_t i = 0; i < h->nrefs; i++) {
			if (i)
				jw_raw(&w, ",");
			jw_record(&w, h->files[h->refs[i].file], h->refs[i].line);
		}
	} else {
		jw_record(&w, h->file, h->line);
	}
	jw_raw(&w, "]");
	if (extra) {
		jw_raw(&w, ",");
		jw_raw(&w, extra);
	}
	jw_raw(&w, "}\n");
	if (w.rc || !f->line.data)
		return NULL;
	*len = f->line.len;
	return f->line.data;
}
