/*
 * fleet_status.c - `schakel fleet status`: per sensor, what the hub
 * published to its audience and, read from JetStream as the hub's user,
 * how far its durable consumer has acknowledged (its lag and last activity);
 * the same rows as JSON for `fleet status --format json` and the console.
 */
#include "fleet_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/timestamp.h"
#include "store/store_priv.h"

typedef struct row {
	char *name, *partner, *pk;
	int64_t created, last_seen, sightings, published;
} row;

typedef struct rows {
	row *v;
	size_t n;
	bool oom;
} rows;

static int collect(void *ud, const sk_fleet_sensor *s)
{
	rows *r = ud;
	row *nv = realloc(r->v, (r->n + 1) * sizeof(*nv));
	if (!nv) {
		r->oom = true;
		return 1;
	}
	r->v = nv;
	nv[r->n] = (row){strdup(s->name),
	                 strdup(s->partner),
	                 strdup(s->pk),
	                 s->created,
	                 s->last_seen,
	                 s->sightings,
	                 0};
	r->n++;
	return 0;
}

static int64_t published(sk_store *st, const char *aud)
{
	static const char q[] = "SELECT COALESCE(SUM(published), 0) FROM fleet_cursor"
	                        " WHERE audience=?1";
	sqlite3_stmt *s = NULL;
	int64_t n = 0;
	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, NULL))
		return 0;
	sqlite3_bind_text(s, 1, aud, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sk_store_stmt_put(st, s);
	return n;
}

sk_err sk_fleet_status(sk_store *st, const char *url,
                       int (*fn)(void *ud, const sk_fleet_status_row *r), void *ud, sk_error *err)
{
	rows r = {0};
	sk_fleet *f = NULL;
	char seed[SK_NKEY_SEED_LEN + 1];
	sk_err rc;

	if ((rc = sk_fleet_sensors(st, collect, &r, err)))
		goto out;
	if (r.oom) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	if (url) {
		sk_fleet_config cfg = {.db_path = "", .url = url, .once = true};
		if (!(f = sk_fleet_new(&cfg, err)) || (rc = sk_fleet_hub_seed(st, seed, err)) ||
		    (rc = sk_fleet_connect(f, seed, err)))
			goto out;
	}
	for (size_t i = 0; i < r.n; i++) {
		sk_fleet_sensor s = {r.v[i].name,    r.v[i].partner,   r.v[i].pk,
		                     r.v[i].created, r.v[i].last_seen, r.v[i].sightings};
		sk_fleet_status_row sr = {
		    .s = &s, .published = published(st, s.partner), .acked = -1, .lag = -1};
		if (f) {
			char stream[160];
			jsConsumerInfo *ci = NULL;
			jsErrCode jerr = 0;
			sk_fleet_stream_name(s.partner, stream, sizeof(stream));
			natsStatus ns = js_GetConsumerInfo(&ci, f->js, stream, s.name, NULL, &jerr);
			if (ns == NATS_OK) {
				sr.acked = (int64_t)ci->AckFloor.Stream;
				sr.lag = (int64_t)ci->NumPending + ci->NumAckPending;
				sr.active = ci->Delivered.Last / 1000;
				jsConsumerInfo_Destroy(ci);
			} else if (!jerr) {
				/* no JetStream answer (a timeout, a lost connection), not "no such
				 * consumer": the rest stay unknown rather than wait in turn */
				sk_fleet_stop(f);
				f = NULL;
			}
		}
		if (fn(ud, &sr))
			break;
	}
out:
	sodium_memzero(seed, sizeof(seed));
	if (f)
		sk_fleet_stop(f);
	for (size_t i = 0; i < r.n; i++) {
		free(r.v[i].name);
		free(r.v[i].partner);
		free(r.v[i].pk);
	}
	free(r.v);
	return rc;
}

/* A time in µs as RFC 3339, or null for 0 (never, unknown). */
static json_t *ts_or_null(int64_t us)
{
	char t[SK_TS_STR_MAX];
	if (!us)
		return json_null();
	sk_ts_format_us(us, t);
	return json_string(t);
}

static json_t *int_or_null(int64_t v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

typedef struct jrows {
	json_t *v;
	bool oom;
} jrows;

static int add_row(void *ud, const sk_fleet_status_row *r)
{
	jrows *j = ud;
	json_t *o = json_pack(
	    "{s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:o, s:o, s:o}", "name", r->s->name, "audience",
	    r->s->partner, "public_key", r->s->pk, "created", ts_or_null(r->s->created),
	    "last_seen", ts_or_null(r->s->last_seen), "sightings", (json_int_t)r->s->sightings,
	    "published", (json_int_t)r->published, "applied", int_or_null(r->acked), "lag",
	    int_or_null(r->lag), "consumer_active", ts_or_null(r->active));
	if (!o || json_array_append_new(j->v, o)) {
		j->oom = true;
		return 1;
	}
	return 0;
}

sk_err sk_fleet_status_json(sk_store *st, const char *url, json_t **out, sk_error *err)
{
	jrows j = {json_array(), false};
	sk_err rc;

	*out = NULL;
	if (!j.v)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	rc = sk_fleet_status(st, url, add_row, &j, err);
	if (!rc && j.oom)
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	if (rc) {
		json_decref(j.v);
		return rc;
	}
	*out = json_pack("{s:s?, s:o}", "nats", url, "sensors", j.v);
	return *out ? SK_OK : sk_error_set(err, SK_ENOMEM, "out of memory");
}
