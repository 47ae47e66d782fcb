/*
 * feed_named.c - named feeds (feed import --feed NAME, docs/decay.md): the
 * indicator ids of a feed's latest import are its membership (schema 17,
 * feed_members); an entry that dropped out of it expires as a new version
 * (valid_until = now, "x_schakel_feed_expired": the feed's name) unless
 * another feed of the same producer still holds it, and an expired entry
 * that comes back is valid again (a new version without valid_until).
 * Feed indicators are made here, so this node versions them through
 * sk_store_put and the write rule like any object it produced.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_int.h"
#include "store/store_priv.h"
#include "schakel/decay.h"
#include "schakel/timestamp.h"

typedef struct gone_ctx {
	sk_store *st;
	const sk_feed_opts *o;
	sk_feed_stats *stats;
} gone_ctx;

/*
 * A new version of id's newest one: modified = now (after the old one),
 * valid_until = until (or removed when until is 0), the expiry mark set to
 * feed or removed; stored in collection cid.  Revoked ones are left alone.
 */
static sk_err new_version(sk_store *st, int64_t cid, const char *id, int64_t until,
                          const char *feed, sk_error *err)
{
	char *json = NULL, *by = NULL, *rx = NULL, ts[SK_TS_STR_MAX];
	int64_t from = 0;
	json_t *o = NULL;
	const char *vf;
	sk_err rc;

	if ((rc = sk_store_latest(st, id, &json, &by, &rx, err)))
		return rc;
	if (!(o = json_loads(json, 0, NULL))) {
		rc = sk_error_set(err, SK_EJSON, "%s: stored JSON does not parse", id);
		goto out;
	}
	if (json_is_true(json_object_get(o, "revoked")))
		goto out;
	sk_store_next_version(o, ts);
	if (until) {
		vf = json_string_value(json_object_get(o, "valid_from"));
		if (vf && sk_ts_parse(vf, strlen(vf), NULL, &from) && until <= from)
			until = from + 1000; /* STIX: valid_until later than valid_from */
		sk_ts_format_ms(until, ts);
		json_object_set_new(o, "valid_until", json_string(ts));
	} else {
		json_object_del(o, "valid_until");
	}
	if (feed)
		json_object_set_new(o, "x_schakel_feed_expired", json_string(feed));
	else
		json_object_del(o, "x_schakel_feed_expired");
	rc = sk_store_put_json(st, cid, o, err);
out:
	json_decref(o);
	free(json);
	free(by);
	free(rx);
	return rc;
}

sk_err sk_feed_named_begin(sk_store *st, const sk_feed_opts *o, sk_error *err)
{
	if (!o->feed)
		return SK_OK;
	return sk_decay_feed_begin(st, err);
}

sk_err sk_feed_named_note(sk_store *st, const sk_feed_opts *o, const char *id, bool existed,
                          sk_feed_stats *stats, sk_error *err)
{
	static const char q[] =
	    "SELECT 1 FROM indicators WHERE id=?1 AND valid_until IS NOT NULL AND revoked=0"
	    " AND EXISTS (SELECT 1 FROM objects WHERE ver=indicators.ver"
	    "  AND json_extract(json, '$.x_schakel_feed_expired') IS NOT NULL)";
	sqlite3_stmt *s = NULL;
	bool expired = false;
	sk_err rc;

	if (!o->feed)
		return SK_OK;
	if ((rc = sk_decay_feed_note(st, id, err)) || !existed)
		return rc;
	if ((rc = sk_store_stmt_get(st, q, sizeof(q) - 1, &s, err)))
		return rc;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	expired = sqlite3_step(s) == SQLITE_ROW;
	sk_store_stmt_put(st, s);
	if (!expired)
		return SK_OK;
	/* back in a feed: valid again (for --valid-for from now) */
	rc = new_version(st, o->cid, id, o->valid_for_us ? sk_ts_now_us() + o->valid_for_us : 0,
	                 NULL, err);
	if (!rc)
		stats->revived++;
	return rc;
}

/* dropped out of the feed: expire it, unless another feed of the producer holds it */
static int gone(void *ud, const char *id, sk_error *err)
{
	static const char q[] = "SELECT 1 FROM feed_members WHERE id=?1 AND feed<>?2";
	gone_ctx *g = ud;
	sqlite3_stmt *s = NULL;
	bool elsewhere;

	if (sk_store_stmt_get(g->st, q, sizeof(q) - 1, &s, err))
		return 1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, g->o->feed, -1, SQLITE_STATIC);
	elsewhere = sqlite3_step(s) == SQLITE_ROW;
	sk_store_stmt_put(g->st, s);
	if (elsewhere)
		return 0;
	if (new_version(g->st, g->o->cid, id, sk_ts_now_us(), g->o->feed, err))
		return 1;
	g->stats->expired++;
	return 0;
}

sk_err sk_feed_named_end(sk_store *st, const sk_feed_opts *o, sk_feed_stats *stats, sk_error *err)
{
	gone_ctx g = {.st = st, .o = o, .stats = stats};
	char key[1200];

	if (!o->feed)
		return SK_OK;
	/* membership is per producer and feed name: two producers may both have "daily" */
	snprintf(key, sizeof(key), "%s\n%s", o->producer, o->feed);
	{
		sk_feed_opts k = *o;
		k.feed = key;
		g.o = &k;
		return sk_decay_feed_end(st, key, gone, &g, NULL, err);
	}
}
