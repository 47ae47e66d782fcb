/*
 * scan_out.c - what `schakel scan` writes: one JSON line per hit (with the
 * indicator's metadata and what it indicates, looked up once per indicator
 * on its first hit) and, at the end, one STIX sighting per indicator with
 * hits, versioned across scans.
 *
 * Sighting ids are deterministic per (node, indicator): the UUID is the
 * first 16 bytes of BLAKE2b("schakel-sighting|" node "|" indicator) shaped
 * as a version-4/variant-1 UUID, so a later scan finds and versions the same
 * object.  A new version keeps `created`, sets `modified` to now (at least
 * 1 ms after the previous version), adds this scan's hits to `count`
 * (capped at 999999999) and widens first_seen / last_seen.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scan.h"
#include "schakel/json.h"
#include "schakel/stix.h"
#include "schakel/timestamp.h"

/* --- metadata lookups (main thread only: the store is one connection) ---- */

typedef struct objinfo {
	char *type, *name;
} objinfo;

static int get_info(void *ud, const sk_row *r)
{
	objinfo *oi = ud;
	sk_jdoc *doc = NULL;
	const sk_jval *root;
	sk_error err;
	free(oi->type);
	free(oi->name);
	oi->type = strdup(r->type);
	oi->name = NULL;
	if (!sk_json_doc_new(0, 0, &doc) && !sk_json_parse(doc, r->json, r->len, &root, &err)) {
		const char *n = sk_json_str(sk_json_get(root, "name"));
		if (n)
			oi->name = strdup(n);
	}
	sk_json_doc_free(doc);
	return 0;
}

static const char *producer_name(scan_state *ss, const char *id)
{
	objinfo oi = {0};
	sk_error err;
	char **ni, **nn;

	for (size_t i = 0; i < ss->nprod; i++)
		if (!strcmp(ss->prod_id[i], id))
			return ss->prod_name[i];
	sk_store_get(ss->st, id, false, get_info, &oi, &err);
	free(oi.type);
	ni = realloc(ss->prod_id, (ss->nprod + 1) * sizeof(*ni));
	if (ni)
		ss->prod_id = ni;
	nn = realloc(ss->prod_name, (ss->nprod + 1) * sizeof(*nn));
	if (nn)
		ss->prod_name = nn;
	if (!ni || !nn) {
		free(oi.name);
		return NULL;
	}
	ss->prod_id[ss->nprod] = strdup(id);
	ss->prod_name[ss->nprod] = oi.name;
	return ss->prod_name[ss->nprod++];
}

static void put_str_or_null(sk_buf *b, const char *s)
{
	if (s)
		sk_buf_put_json_string(b, s, strlen(s));
	else
		sk_buf_puts(b, "null");
}

typedef struct relctx {
	scan_state *ss;
	sk_buf *b;
	int n;
} relctx;

static int on_rel(void *ud, const sk_row *rel, const char *rel_type, const char *other,
		  bool outgoing)
{
	relctx *rc = ud;
	objinfo oi = {0};
	sk_error err;
	(void)rel;
	if (!outgoing || !rel_type || strcmp(rel_type, "indicates") || !other)
		return 0;
	sk_store_get(rc->ss->st, other, false, get_info, &oi, &err);
	sk_buf_puts(rc->b, rc->n++ ? ",{\"id\":" : "{\"id\":");
	put_str_or_null(rc->b, other);
	sk_buf_puts(rc->b, ",\"type\":");
	if (oi.type) {
		put_str_or_null(rc->b, oi.type);
	} else {
		const char *dd = strstr(other, "--");
		if (dd)
			sk_buf_put_json_string(rc->b, other, (size_t)(dd - other));
		else
			sk_buf_puts(rc->b, "null");
	}
	sk_buf_puts(rc->b, ",\"name\":");
	put_str_or_null(rc->b, oi.name);
	sk_buf_putc(rc->b, '}');
	free(oi.type);
	free(oi.name);
	return 0;
}

static int load_row(void *ud, const sk_row *r)
{
	scan_ind *si = ud;
	sk_jdoc *doc = NULL;
	const sk_jval *root, *v;
	sk_error err;

	si->id = strdup(r->id);
	si->producer = r->created_by ? strdup(r->created_by) : NULL;
	si->tlp = r->tlp;
	si->confidence = -1;
	if (!sk_json_doc_new(0, 0, &doc) && !sk_json_parse(doc, r->json, r->len, &root, &err)) {
		const char *n = sk_json_str(sk_json_get(root, "name"));
		const char *pat = sk_json_str(sk_json_get(root, "pattern"));
		si->name = n ? strdup(n) : NULL;
		si->pattern = pat ? strdup(pat) : NULL;
		v = sk_json_get(root, "confidence");
		if (sk_json_is(v, SK_JINT))
			si->confidence = (int)v->u.i;
	}
	sk_json_doc_free(doc);
	return 0;
}

int scan_ind_load(scan_state *ss, scan_ind *si)
{
	sk_error err;
	if (si->loaded)
		return si->id ? 0 : -1;
	si->loaded = true;
	if (sk_store_get_ver(ss->st, si->ver, load_row, si, &err))
		return -1;
	return si->id ? 0 : -1;
}

static const char *fragment(scan_state *ss, scan_ind *si)
{
	sk_buf b;
	relctx rc = {ss, &b, 0};
	sk_error err;
	const char *pn;

	if (si->frag)
		return si->frag;
	scan_ind_load(ss, si);
	sk_buf_init(&b, 0);
	sk_buf_puts(&b, "\"indicator\":{\"id\":");
	put_str_or_null(&b, si->id);
	sk_buf_puts(&b, ",\"name\":");
	put_str_or_null(&b, si->name);
	sk_buf_puts(&b, ",\"pattern\":");
	put_str_or_null(&b, si->pattern);
	sk_buf_puts(&b, ",\"producer\":");
	put_str_or_null(&b, si->producer);
	pn = si->producer ? producer_name(ss, si->producer) : NULL;
	sk_buf_puts(&b, ",\"producer_name\":");
	put_str_or_null(&b, pn);
	sk_buf_puts(&b, ",\"marking\":");
	put_str_or_null(&b, si->tlp == SK_TLP_NONE ? NULL : sk_tlp_name(si->tlp));
	if (si->confidence >= 0)
		sk_buf_printf(&b, ",\"confidence\":%d}", si->confidence);
	else
		sk_buf_puts(&b, ",\"confidence\":null}");
	sk_buf_puts(&b, ",\"indicates\":[");
	sk_store_relations(ss->st, si->id, on_rel, &rc, &err);
	sk_buf_putc(&b, ']');
	si->frag = b.data; /* the buffer's storage becomes the cached string */
	return si->frag ? si->frag : "\"indicator\":null,\"indicates\":[]";
}

int scan_emit(scan_state *ss, const scan_hit *h)
{
	scan_ind *si = &ss->inds[h->ind];
	sk_buf *b = &ss->line;
	char ts[SK_TS_STR_MAX];

	sk_buf_reset(b);
	sk_buf_puts(b, "{\"time\":");
	if (h->ts_us) {
		sk_ts_format_us(h->ts_us, ts);
		put_str_or_null(b, ts);
	} else {
		sk_buf_puts(b, "null");
	}
	sk_buf_puts(b, ",\"file\":");
	put_str_or_null(b, h->file);
	sk_buf_printf(b, ",\"line\":%llu,\"offset\":%llu,\"field\":", (unsigned long long)h->line,
		      (unsigned long long)h->offset);
	put_str_or_null(b, h->value ? h->field : NULL);
	sk_buf_puts(b, ",\"kind\":");
	put_str_or_null(b, h->value ? h->kind : NULL);
	sk_buf_puts(b, ",\"value\":");
	if (h->value)
		sk_buf_put_json_string(b, h->value, h->value_len);
	else
		sk_buf_puts(b, "null");
	sk_buf_putc(b, ',');
	sk_buf_puts(b, fragment(ss, si));
	sk_buf_puts(b, ",\"records\":[");
	if (h->nrefs) {
		for (size_t i = 0; i < h->nrefs; i++) {
			sk_buf_puts(b, i ? ",{\"file\":" : "{\"file\":");
			put_str_or_null(b, h->files[h->refs[i].file]);
			sk_buf_printf(b, ",\"line\":%llu}", (unsigned long long)h->refs[i].line);
		}
	} else {
		sk_buf_puts(b, "{\"file\":");
		put_str_or_null(b, h->file);
		sk_buf_printf(b, ",\"line\":%llu}", (unsigned long long)h->line);
	}
	sk_buf_puts(b, "]}\n");
	if (fwrite(b->data, 1, b->len, ss->out) != b->len)
		return -1;
	si->hits++;
	ss->hits++;
	if (h->ts_us) {
		if (!si->first_us || h->ts_us < si->first_us)
			si->first_us = h->ts_us;
		if (h->ts_us > si->last_us)
			si->last_us = h->ts_us;
	}
	return 0;
}

/* --- sightings ---------------------------------------------------------- */

static void sighting_id(const char *node, const char *ind, char out[64])
{
	unsigned char h[16];
	crypto_generichash_state st;
	static const char hx[] = "0123456789abcdef";
	char *o;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)"schakel-sighting|", 17);
	crypto_generichash_update(&st, (const unsigned char *)node, strlen(node));
	crypto_generichash_update(&st, (const unsigned char *)"|", 1);
	crypto_generichash_update(&st, (const unsigned char *)ind, strlen(ind));
	crypto_generichash_final(&st, h, sizeof(h));
	h[6] = (unsigned char)((h[6] & 0x0F) | 0x40);
	h[8] = (unsigned char)((h[8] & 0x3F) | 0x80);
	strcpy(out, "sighting--");
	o = out + 10;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hx[h[i] >> 4];
		*o++ = hx[h[i] & 15];
	}
	*o = '\0';
}

typedef struct prev_sighting {
	bool found;
	int64_t count, first_us, last_us, modified_us;
	char created[SK_TS_STR_MAX];
} prev_sighting;

static int get_prev(void *ud, const sk_row *r)
{
	prev_sighting *p = ud;
	sk_jdoc *doc = NULL;
	const sk_jval *root, *v;
	sk_error err;
	char key[SK_TS_KEY_LEN + 1];
	const char *s;

	if (sk_json_doc_new(0, 0, &doc) || sk_json_parse(doc, r->json, r->len, &root, &err))
		goto out;
	p->found = true;
	v = sk_json_get(root, "count");
	p->count = sk_json_is(v, SK_JINT) ? v->u.i : 0;
	if ((s = sk_json_str(sk_json_get(root, "first_seen"))))
		sk_ts_parse(s, strlen(s), key, &p->first_us);
	if ((s = sk_json_str(sk_json_get(root, "last_seen"))))
		sk_ts_parse(s, strlen(s), key, &p->last_us);
	if ((s = sk_json_str(sk_json_get(root, "modified"))))
		sk_ts_parse(s, strlen(s), key, &p->modified_us);
	if ((s = sk_json_str(sk_json_get(root, "created"))))
		snprintf(p->created, sizeof(p->created), "%s", s);
out:
	sk_json_doc_free(doc);
	return 0;
}

static sk_err put_sighting(scan_state *ss, int64_t cid, const scan_ind *si, sk_jdoc *doc,
			   sk_buf *b, sk_error *err)
{
	char sid[64], ts[SK_TS_STR_MAX], created[SK_TS_STR_MAX];
	prev_sighting p = {0};
	int64_t now = sk_ts_now_us(), count, first = si->first_us, last = si->last_us;
	sk_stix_info info;
	sk_err rc;

	sighting_id(ss->node_id, si->id, sid);
	if ((rc = sk_store_get(ss->st, sid, false, get_prev, &p, err)))
		return rc;
	/* STIX timestamps here are written with millisecond precision */
	now -= now % 1000;
	if (p.found && now <= p.modified_us)
		now = p.modified_us + 1000;
	count = (int64_t)(si->hits - si->flushed) + (p.found ? p.count : 0);
	if (count > 999999999)
		count = 999999999;
	if (p.found && p.first_us && (!first || p.first_us < first))
		first = p.first_us;
	if (p.found && p.last_us > last)
		last = p.last_us;
	if (p.found && p.created[0])
		snprintf(created, sizeof(created), "%s", p.created);
	else
		sk_ts_format_ms(now, created);
	sk_ts_format_ms(now, ts);
	sk_buf_reset(b);
	sk_buf_puts(b, "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":");
	sk_buf_put_json_string(b, sid, strlen(sid));
	sk_buf_puts(b, ",\"created\":");
	sk_buf_put_json_string(b, created, strlen(created));
	sk_buf_puts(b, ",\"modified\":");
	sk_buf_put_json_string(b, ts, strlen(ts));
	sk_buf_puts(b, ",\"created_by_ref\":");
	sk_buf_put_json_string(b, ss->node_id, strlen(ss->node_id));
	sk_buf_puts(b, ",\"sighting_of_ref\":");
	sk_buf_put_json_string(b, si->id, strlen(si->id));
	sk_buf_puts(b, ",\"where_sighted_refs\":[");
	sk_buf_put_json_string(b, ss->node_id, strlen(ss->node_id));
	sk_buf_printf(b, "],\"count\":%lld", (long long)count);
	if (first) {
		sk_ts_format_us(first, ts);
		sk_buf_puts(b, ",\"first_seen\":");
		sk_buf_put_json_string(b, ts, strlen(ts));
		sk_ts_format_us(last, ts);
		sk_buf_puts(b, ",\"last_seen\":");
		sk_buf_put_json_string(b, ts, strlen(ts));
	}
	sk_buf_putc(b, '}');
	if ((rc = sk_stix_validate_text(doc, b->data, b->len, &info, err)))
		return rc;
	return sk_store_put(ss->st, cid, &info, b->data, b->len, NULL, NULL, err);
}

int scan_write_sightings(scan_state *ss, const char *collection)
{
	sk_collection coll = {0};
	sk_jdoc *doc = NULL;
	sk_buf b;
	sk_error err;
	sk_err rc;
	int64_t cid = 0;
	uint32_t n = 0;

	sk_buf_init(&b, 0);
	if ((rc = sk_store_collection_get(ss->st, collection ? collection : "default", &coll,
					  &err))) {
		if (collection) {
			cli_err("collection %s: %s", collection, err.msg);
			return EXIT_INPUT;
		}
	} else {
		cid = coll.cid;
	}
	sk_collection_clear(&coll);
	if ((rc = sk_json_doc_new(0, 0, &doc)) || (rc = sk_store_begin(ss->st, &err)))
		goto out;
	for (uint32_t i = 0; i < ss->ninds && !rc; i++)
		if (ss->inds[i].hits > ss->inds[i].flushed &&
		    !scan_ind_load(ss, &ss->inds[i])) {
			rc = put_sighting(ss, cid, &ss->inds[i], doc, &b, &err);
			n++;
		}
	if (rc) {
		sk_store_rollback(ss->st);
	} else if (!(rc = sk_store_commit(ss->st, &err))) {
		for (uint32_t i = 0; i < ss->ninds; i++)
			ss->inds[i].flushed = ss->inds[i].hits;
	}
out:
	sk_json_doc_free(doc);
	sk_buf_free(&b);
	if (rc) {
		cli_err("writing sightings: %s", rc == SK_ENOMEM ? "out of memory" : err.msg);
		return EXIT_INPUT;
	}
	return EXIT_OK;
}

void scan_state_clear(scan_state *ss)
{
	for (uint32_t i = 0; i < ss->ninds; i++) {
		scan_ind *si = &ss->inds[i];
		free(si->id);
		free(si->name);
		free(si->pattern);
		free(si->producer);
		free(si->frag);
	}
	free(ss->inds);
	for (size_t i = 0; i < ss->nprod; i++) {
		free(ss->prod_id[i]);
		free(ss->prod_name[i]);
	}
	free(ss->prod_id);
	free(ss->prod_name);
	free(ss->node_id);
	sk_buf_free(&ss->line);
}
