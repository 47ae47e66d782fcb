/*
 * store_decay.c - indicator scores and decay (decay.h, docs/decay.md).
 *
 * The score columns of the indicators side table (schema 17) are kept by
 * SQL functions registered on every connection (sk_decay_base,
 * sk_decay_until, ...), so that the one upsert sk_store_put runs per
 * indicator also scores it, and a rescore is one UPDATE.  The functions read
 * the connection's model (st->decay), loaded from meta at open and replaced
 * by sk_decay_config_set.
 */
#include "store_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/decay.h"
#include "schakel/timestamp.h"

#define DAY_US ((int64_t)86400 * 1000000)

static const char *const kind_names[SK_DECAY__N] = {"ip",   "domain", "url",
                                                    "file", "email",  "other"};

const char *sk_decay_kind_name(int kind)
{
	return kind >= 0 && kind < SK_DECAY__N ? kind_names[kind] : NULL;
}

void sk_decay_defaults(sk_decay_config *c)
{
	static const struct {
		int64_t days;
		double speed;
	} d[SK_DECAY__N] = {
	    [SK_DECAY_IP] = {30, 1.0},     [SK_DECAY_DOMAIN] = {180, 1.0},
	    [SK_DECAY_URL] = {180, 1.0},   [SK_DECAY_FILE] = {3 * 365, 1.0},
	    [SK_DECAY_EMAIL] = {180, 1.0}, [SK_DECAY_OTHER] = {365, 1.0},
	};
	for (int k = 0; k < SK_DECAY__N; k++) {
		c->model[k].lifetime_us = d[k].days * DAY_US;
		c->model[k].speed = d[k].speed;
	}
	c->threshold = 0;
	c->default_trust = 75;
	c->default_confidence = 75;
}

sk_decay_kind sk_decay_kind_of(const char *p)
{
	static const struct {
		const char *type;
		sk_decay_kind kind;
	} t[] = {
	    {"ipv4-addr", SK_DECAY_IP},
	    {"ipv6-addr", SK_DECAY_IP},
	    {"network-traffic", SK_DECAY_IP},
	    {"domain-name", SK_DECAY_DOMAIN},
	    {"url", SK_DECAY_URL},
	    {"file", SK_DECAY_FILE},
	    {"email-addr", SK_DECAY_EMAIL},
	    {"email-message", SK_DECAY_EMAIL},
	};
	const char *b, *e;

	if (!p || !(b = strchr(p, '[')))
		return SK_DECAY_OTHER;
	b++;
	while (*b == ' ' || *b == '(' || *b == '\t')
		b++;
	for (e = b; *e && *e != ':' && *e != ' ' && *e != ']'; e++)
		;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strlen(t[i].type) == (size_t)(e - b) && !memcmp(t[i].type, b, (size_t)(e - b)))
			return t[i].kind;
	return SK_DECAY_OTHER;
}

int sk_decay_base(const sk_decay_config *c, int confidence, int trust, int64_t sightings,
                  int64_t fp)
{
	double conf = confidence < 0 ? c->default_confidence : confidence > 100 ? 100 : confidence;
	double s = conf * (trust < 0 ? 0 : trust > 100 ? 100 : trust) / 100.0;

	s += 10.0 * (double)(sightings < 0 ? 0 : sightings > 3 ? 3 : sightings);
	s -= 25.0 * (double)(fp < 0 ? 0 : fp > 4 ? 4 : fp);
	if (s < 0)
		s = 0;
	if (s > 100)
		s = 100;
	return (int)lround(s);
}

double sk_decay_score(const sk_decay_model *m, int base, int64_t refreshed, int64_t at)
{
	double x;

	if (m->lifetime_us <= 0 || at <= refreshed)
		return base;
	x = (double)(at - refreshed) / (double)m->lifetime_us;
	if (x >= 1)
		return 0;
	return base * (1.0 - pow(x, 1.0 / m->speed));
}

int64_t sk_decay_until(const sk_decay_model *m, int base, int threshold, int64_t refreshed)
{
	int64_t u;
	double f;

	if (threshold <= 0 || m->lifetime_us <= 0)
		return SK_DECAY_NEVER;
	if (base < threshold)
		return refreshed;
	/* base * (1 - x^(1/s)) < thr  <=>  x > (1 - thr/base)^s; the first µs past it */
	f = pow(1.0 - (double)threshold / base, m->speed) * (double)m->lifetime_us;
	u = refreshed + (int64_t)f + 1;
	/* rounding: make sure the score is below at u (a few steps at most) */
	for (int64_t step = 1;
	     step < m->lifetime_us && sk_decay_score(m, base, refreshed, u) >= threshold; step *= 2)
		u += step;
	return u;
}

bool sk_decay_parse_duration(const char *s, int64_t *us)
{
	char *end;
	long long n;
	int64_t unit;

	if (!s || *s < '0' || *s > '9')
		return false;
	n = strtoll(s, &end, 10);
	if (!strcmp(end, "h"))
		unit = DAY_US / 24;
	else if (!strcmp(end, "d"))
		unit = DAY_US;
	else if (!strcmp(end, "w"))
		unit = 7 * DAY_US;
	else if (!strcmp(end, "mo"))
		unit = 30 * DAY_US;
	else if (!strcmp(end, "y"))
		unit = 365 * DAY_US;
	else
		return false;
	if (n < 1 || n > 100LL * 365 * DAY_US / unit)
		return false;
	*us = n * unit;
	return true;
}

/* --- the SQL functions ------------------------------------------------------ */

/* sk_decay_kind(pattern) */
static void fn_kind(sqlite3_context *cx, int n, sqlite3_value **v)
{
	(void)n;
	sqlite3_result_int(cx, (int)sk_decay_kind_of((const char *)sqlite3_value_text(v[0])));
}

static bool ts_us(sqlite3_value *v, int64_t *t)
{
	const char *s = (const char *)sqlite3_value_text(v);
	return s && sk_ts_parse(s, strlen(s), NULL, t);
}

/* sk_decay_time(a, b): the later of two RFC 3339 times in µs, NULL if neither parses */
static void fn_time(sqlite3_context *cx, int n, sqlite3_value **v)
{
	int64_t a = 0, b = 0;
	bool ha = ts_us(v[0], &a), hb = n > 1 && ts_us(v[1], &b);
	if (!ha && !hb)
		sqlite3_result_null(cx);
	else
		sqlite3_result_int64(cx, !ha ? b : !hb ? a : a > b ? a : b);
}

/* the trust of a producer: its partner's setting, 100 for this node, else the default */
static int trust_of(sk_store *st, sqlite3_value *producer, sqlite3_value *partner)
{
	const char *p = (const char *)sqlite3_value_text(producer);
	const char *own;

	if (sqlite3_value_type(partner) != SQLITE_NULL)
		return sqlite3_value_int(partner);
	if (p && (own = sk_store_own_id(st)) && !strcmp(p, own))
		return 100;
	return st->decay.default_trust;
}

/* sk_decay_base(confidence, producer, partner_trust, sightings, fp) */
static void fn_base(sqlite3_context *cx, int n, sqlite3_value **v)
{
	sk_store *st = sqlite3_user_data(cx);
	int conf = sqlite3_value_type(v[0]) == SQLITE_NULL ? -1 : sqlite3_value_int(v[0]);
	(void)n;
	sqlite3_result_int(cx, sk_decay_base(&st->decay, conf, trust_of(st, v[1], v[2]),
	                                     sqlite3_value_int64(v[3]), sqlite3_value_int64(v[4])));
}

/* sk_decay_until(kind, base, refreshed) */
static void fn_until(sqlite3_context *cx, int n, sqlite3_value **v)
{
	sk_store *st = sqlite3_user_data(cx);
	int k = sqlite3_value_int(v[0]);
	(void)n;
	if (k < 0 || k >= SK_DECAY__N)
		k = SK_DECAY_OTHER;
	if (sqlite3_value_type(v[2]) == SQLITE_NULL) {
		sqlite3_result_int64(cx, SK_DECAY_NEVER);
		return;
	}
	sqlite3_result_int64(cx, sk_decay_until(&st->decay.model[k], sqlite3_value_int(v[1]),
	                                        st->decay.threshold, sqlite3_value_int64(v[2])));
}

sk_err sk_store_decay_register(sk_store *st, sk_error *err)
{
	static const struct {
		const char *name;
		int n;
		void (*fn)(sqlite3_context *, int, sqlite3_value **);
	} f[] = {
	    {"sk_decay_kind", 1, fn_kind},
	    {"sk_decay_time", 2, fn_time},
	    {"sk_decay_base", 5, fn_base},
	    {"sk_decay_until", 3, fn_until},
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (sqlite3_create_function_v2(st->db, f[i].name, f[i].n,
		                               SQLITE_UTF8 | SQLITE_DIRECTONLY, st, f[i].fn, NULL,
		                               NULL, NULL) != SQLITE_OK)
			return sk_store_dberr(st, err, "decay functions");
	return SK_OK;
}

/* --- configuration ------------------------------------------------------------ */

static bool parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (end == s || *end || n < lo || n > hi)
		return false;
	*out = (int)n;
	return true;
}

/* Apply one setting to c; false with a reason in err if name or value is bad. */
static bool apply(sk_decay_config *c, const char *name, const char *value, sk_error *err)
{
	const char *k, *dot;
	double d;
	char *end;

	if (!strcmp(name, "decay.threshold") || !strcmp(name, "decay.default_trust") ||
	    !strcmp(name, "decay.default_confidence")) {
		int *dst = !strcmp(name, "decay.threshold")       ? &c->threshold
		           : !strcmp(name, "decay.default_trust") ? &c->default_trust
		                                                  : &c->default_confidence;
		if (!parse_int(value, 0, 100, dst)) {
			sk_error_set(err, SK_EINVAL, "%s: a number from 0 to 100", name);
			return false;
		}
		return true;
	}
	if (strncmp(name, "decay.", 6) || !(dot = strchr(k = name + 6, '.')))
		goto unknown;
	for (int i = 0; i < SK_DECAY__N; i++) {
		if (strlen(kind_names[i]) != (size_t)(dot - k) ||
		    memcmp(kind_names[i], k, (size_t)(dot - k)))
			continue;
		if (!strcmp(dot, ".lifetime")) {
			if (!sk_decay_parse_duration(value, &c->model[i].lifetime_us)) {
				sk_error_set(err, SK_EINVAL,
				             "%s: a duration such as 12h, 30d, 6w, 3mo, 2y", name);
				return false;
			}
			return true;
		}
		if (!strcmp(dot, ".speed")) {
			d = strtod(value, &end);
			if (end == value || *end || !(d >= 0.1 && d <= 10)) {
				sk_error_set(err, SK_EINVAL, "%s: a number from 0.1 to 10", name);
				return false;
			}
			c->model[i].speed = d;
			return true;
		}
	}
unknown:
	sk_error_set(err, SK_EINVAL,
	             "unknown setting '%s' (decay.threshold, decay.default_trust, "
	             "decay.default_confidence, decay.KIND.lifetime, decay.KIND.speed; KIND: ip, "
	             "domain, url, file, email, other)",
	             name);
	return false;
}

static int64_t cfg_gen(sk_store *st)
{
	sqlite3_stmt *s = NULL;
	int64_t g = 0;
	static const char q[] = "SELECT value FROM meta WHERE key='decay.cfg'";

	if (sk_store_stmt_get(st, q, sizeof(q) - 1, &s, NULL))
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		g = sqlite3_column_int64(s, 0);
	sk_store_stmt_put(st, s);
	return g;
}

sk_err sk_store_decay_refresh(sk_store *st, sk_error *err)
{
	int64_t g = cfg_gen(st);
	if (g == st->decay_cfg)
		return SK_OK;
	return sk_store_decay_load(st, err);
}

sk_err sk_store_decay_load(sk_store *st, sk_error *err)
{
	sk_decay_config *c = &st->decay;
	sqlite3_stmt *s = NULL;
	sk_error ignore;
	int step;

	st->decay_cfg = cfg_gen(st);
	sk_decay_defaults(c);
	if (sqlite3_prepare_v2(st->db,
	                       "SELECT substr(key, 8), value FROM meta"
	                       " WHERE key>'config.decay.' AND key<'config.decay/'",
	                       -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "decay settings");
	while ((step = sqlite3_step(s)) == SQLITE_ROW)
		apply(c, (const char *)sqlite3_column_text(s, 0),
		      (const char *)sqlite3_column_text(s, 1), &ignore); /* bad rows: defaults */
	sqlite3_finalize(s);
	if (step != SQLITE_DONE)
		return sk_store_dberr(st, err, "decay settings");
	return SK_OK;
}

const sk_decay_config *sk_decay_config_of(sk_store *st)
{
	return &st->decay;
}

/*
 * The score columns again for the rows ?1 selects (NULL = all); bumps
 * decay.gen.  The base depends on trust and the defaults only: a change of
 * the threshold or a model (bases = false) recomputes alert_until alone.
 */
static sk_err rescore(sk_store *st, const char *producer, bool bases, uint64_t *n, sk_error *err)
{
	static const char all[] =
	    "UPDATE indicators SET"
	    " base=sk_decay_base(confidence, producer,"
	    "  (SELECT trust FROM partners p WHERE p.identity=indicators.producer), sightings, fp),"
	    " alert_until=sk_decay_until(kind, sk_decay_base(confidence, producer,"
	    "  (SELECT trust FROM partners p WHERE p.identity=indicators.producer), sightings, fp),"
	    "  refreshed)"
	    " WHERE ?1 IS NULL OR producer=?1";
	static const char until[] =
	    "UPDATE indicators SET alert_until=sk_decay_until(kind, base, refreshed)"
	    " WHERE ?1 IS NULL OR producer=?1";
	const char *sql = bases ? all : until;
	sqlite3_stmt *s = NULL;
	sk_err rc;

	/*
	 * Every row: updating the index on alert_until row by row costs more
	 * than the scoring; dropped and built again from the new values (one
	 * sort), inside the same transaction.
	 */
	if (!producer && (rc = sk_store_exec(st, "DROP INDEX IF EXISTS indicators_alert", err)))
		return rc;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return sk_store_dberr(st, err, "rescoring indicators");
	if (producer)
		sqlite3_bind_text(s, 1, producer, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_finalize(s);
		return sk_store_dberr(st, err, "rescoring indicators");
	}
	sqlite3_finalize(s);
	if (n)
		*n = (uint64_t)sqlite3_changes(st->db);
	if (!producer && (rc = sk_store_exec(
	                      st, "CREATE INDEX indicators_alert ON indicators(alert_until)", err)))
		return rc;
	return sk_store_exec(st,
	                     "INSERT INTO meta(key, value) VALUES('decay.gen', '1')"
	                     " ON CONFLICT(key) DO UPDATE SET value=value+1",
	                     err);
}

sk_err sk_decay_rescore(sk_store *st, uint64_t *n, sk_error *err)
{
	bool own = !st->in_tx;
	sk_err rc;

	if (own && (rc = sk_store_begin(st, err)))
		return rc;
	rc = rescore(st, NULL, true, n, err);
	if (!own)
		return rc;
	if (!rc)
		return sk_store_commit(st, err);
	sk_store_rollback(st);
	return rc;
}

sk_err sk_decay_config_set(sk_store *st, const char *name, const char *value, sk_error *err)
{
	sk_decay_config c = st->decay, old = st->decay;
	sqlite3_stmt *s = NULL;
	char key[128];
	sk_err rc;

	if (!apply(&c, name, value, err))
		return SK_EINVAL;
	snprintf(key, sizeof(key), "config.%s", name);
	if ((rc = sk_store_begin(st, err)))
		return rc;
	if (sqlite3_prepare_v2(st->db,
	                       "INSERT INTO meta(key, value) VALUES(?1, ?2)"
	                       " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
	                       -1, &s, NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "decay settings");
		goto out;
	}
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sk_store_dberr(st, err, "decay settings");
	sqlite3_finalize(s);
	st->decay = c;
	if (!rc)
		rc = rescore(st, NULL, !strncmp(name, "decay.default_", 14), NULL, err);
	/* other processes (a running server) reload the model at their next write */
	if (!rc)
		rc = sk_store_exec(st,
		                   "INSERT INTO meta(key, value) VALUES('decay.cfg', '1')"
		                   " ON CONFLICT(key) DO UPDATE SET value=value+1",
		                   err);
	if (!rc)
		st->decay_cfg = cfg_gen(st);
out:
	if (!rc && !(rc = sk_store_commit(st, err)))
		return SK_OK;
	sk_store_rollback(st);
	st->decay = old;
	return rc;
}

sk_err sk_decay_config_get(sk_store *st, const char *name, char **value, sk_error *err)
{
	sk_decay_config probe = st->decay;
	const sk_decay_config *c = &st->decay;
	const char *k = name + 6, *dot;
	char buf[64];

	*value = NULL;
	if (!apply(&probe, name,
	           !strncmp(name, "decay.threshold", 15) || !strncmp(name, "decay.default", 13)
	               ? "0"
	           : strstr(name, ".speed") ? "1"
	                                    : "1d",
	           err))
		return SK_EINVAL;
	if (!strcmp(name, "decay.threshold"))
		snprintf(buf, sizeof(buf), "%d", c->threshold);
	else if (!strcmp(name, "decay.default_trust"))
		snprintf(buf, sizeof(buf), "%d", c->default_trust);
	else if (!strcmp(name, "decay.default_confidence"))
		snprintf(buf, sizeof(buf), "%d", c->default_confidence);
	else {
		dot = strchr(k, '.');
		for (int i = 0; i < SK_DECAY__N; i++)
			if (strlen(kind_names[i]) == (size_t)(dot - k) &&
			    !memcmp(kind_names[i], k, (size_t)(dot - k))) {
				if (!strcmp(dot, ".speed"))
					snprintf(buf, sizeof(buf), "%g", c->model[i].speed);
				else if (c->model[i].lifetime_us % DAY_US == 0)
					snprintf(buf, sizeof(buf), "%lldd",
					         (long long)(c->model[i].lifetime_us / DAY_US));
				else
					snprintf(
					    buf, sizeof(buf), "%lldh",
					    (long long)(c->model[i].lifetime_us / (DAY_US / 24)));
			}
	}
	if (!(*value = strdup(buf)))
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	return SK_OK;
}

sk_err sk_decay_set_trust(sk_store *st, const char *partner, int trust, sk_error *err)
{
	sqlite3_stmt *s = NULL;
	char *identity = NULL;
	sk_err rc;

	if (trust > 100)
		return sk_error_set(err, SK_EINVAL, "trust: a number from 0 to 100");
	if ((rc = sk_store_begin(st, err)))
		return rc;
	if (sqlite3_prepare_v2(
	        st->db, "UPDATE partners SET trust=?2 WHERE name=?1 AND pid>0 RETURNING identity",
	        -1, &s, NULL) != SQLITE_OK) {
		rc = sk_store_dberr(st, err, "partner trust");
		goto out;
	}
	sqlite3_bind_text(s, 1, partner, -1, SQLITE_STATIC);
	if (trust >= 0)
		sqlite3_bind_int(s, 2, trust);
	if (sqlite3_step(s) == SQLITE_ROW)
		identity = strdup((const char *)sqlite3_column_text(s, 0));
	else
		rc = sk_error_set(err, SK_ENOTFOUND, "no partner named '%s'", partner);
	sqlite3_finalize(s);
	if (!rc && !identity)
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
	if (!rc)
		rc = rescore(st, identity, true, NULL, err);
out:
	free(identity);
	if (!rc)
		return sk_store_commit(st, err);
	sk_store_rollback(st);
	return rc;
}
