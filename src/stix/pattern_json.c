/*
 * pattern_json.c - the pattern tree as JSON (for `schakel pattern check
 * --json` and the tests) and object paths as text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern_priv.h"

/* ---- object path as text ---------------------------------------------------- */

struct out {
	char *buf;
	size_t n, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->n) {
		size_t room = o->n - 1 - o->len;
		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void put_quoted(struct out *o, const char *s, size_t n)
{
	put(o, "'", 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\'' || s[i] == '\\')
			put(o, "\\", 1);
		put(o, s + i, 1);
	}
	put(o, "'", 1);
}

size_t sk_ppath_format(const sk_ppath *path, char *buf, size_t n)
{
	struct out o = {buf, n, 0};
	char num[32];

	put(&o, path->type, path->typelen);
	put(&o, ":", 1);
	for (uint32_t i = 0; i < path->nsteps; i++) {
		const sk_pstep *st = &path->steps[i];
		switch (st->kind) {
		case SK_PSTEP_KEY:
			if (i > 0)
				put(&o, ".", 1);
			if (st->quoted)
				put_quoted(&o, st->key, st->keylen);
			else
				put(&o, st->key, st->keylen);
			break;
		case SK_PSTEP_INDEX:
			snprintf(num, sizeof(num), "[%lld]", (long long)st->index);
			put(&o, num, strlen(num));
			break;
		case SK_PSTEP_ANY:
			put(&o, "[*]", 3);
			break;
		}
	}
	if (n > 0)
		buf[o.len < n ? o.len : n - 1] = '\0';
	return o.len;
}

/* ---- JSON ---------------------------------------------------------------------- */

/* Set key to value (stealing it); remembers a failure in *ok. */
static void set(json_t *obj, const char *key, json_t *value, bool *ok)
{
	if (!value || json_object_set_new(obj, key, value) != 0)
		*ok = false;
}

static json_t *lit_json(const sk_pattern *p, const sk_plit *l)
{
	static const char hexd[] = "0123456789abcdef";
	json_t *o = json_object(), *v = NULL;
	bool ok = o != NULL;

	if (!o)
		return NULL;
	set(o, "type", json_string(sk_plit_kind_name(l->kind)), &ok);
	switch (l->kind) {
	case SK_PLIT_STRING:
	case SK_PLIT_TIMESTAMP:
		v = json_stringn(l->str, l->len);
		break;
	case SK_PLIT_INT:
		v = json_integer((json_int_t)l->i);
		break;
	case SK_PLIT_FLOAT:
		v = json_real(l->f);
		break;
	case SK_PLIT_BOOL:
		v = json_boolean(l->b);
		break;
	case SK_PLIT_BINARY: /* the base64 as written */
		v = json_stringn(sk_pattern_text(p, NULL) + l->offset + 2, l->length - 3);
		break;
	case SK_PLIT_HEX: {
		char small[128], *hex = small;
		if (l->len * 2 + 1 > sizeof(small))
			hex = malloc(l->len * 2 + 1);
		if (hex) {
			for (size_t i = 0; i < l->len; i++) {
				hex[2 * i] = hexd[(unsigned char)l->str[i] >> 4];
				hex[2 * i + 1] = hexd[(unsigned char)l->str[i] & 15];
			}
			v = json_stringn(hex, l->len * 2);
			if (hex != small)
				free(hex);
		}
		break;
	}
	}
	set(o, "value", v, &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *path_json(const sk_ppath *path, json_t *o, bool *ok)
{
	char small[256], *text = small;
	size_t need = sk_ppath_format(path, small, sizeof(small));
	json_t *steps = json_array();

	if (need >= sizeof(small)) {
		text = malloc(need + 1);
		if (text)
			sk_ppath_format(path, text, need + 1);
	}
	set(o, "path", text ? json_string(text) : NULL, ok);
	if (text != small)
		free(text);
	set(o, "object_type", json_string(path->type), ok);
	if (!steps) {
		*ok = false;
		return o;
	}
	for (uint32_t i = 0; i < path->nsteps; i++) {
		const sk_pstep *st = &path->steps[i];
		json_t *s = json_object();
		if (!s || json_array_append_new(steps, s) != 0) {
			*ok = false;
			break;
		}
		switch (st->kind) {
		case SK_PSTEP_KEY:
			set(s, "key", json_stringn(st->key, st->keylen), ok);
			if (st->deref)
				set(s, "deref", json_true(), ok);
			break;
		case SK_PSTEP_INDEX:
			set(s, "index", json_integer((json_int_t)st->index), ok);
			break;
		case SK_PSTEP_ANY:
			set(s, "index", json_string("*"), ok);
			break;
		}
	}
	set(o, "steps", steps, ok);
	return o;
}

static json_t *node_json(const sk_pattern *p, const sk_pnode *n)
{
	json_t *o = json_object();
	bool ok = o != NULL;

	if (!o)
		return NULL;
	set(o, "kind", json_string(sk_pnode_kind_name(n->kind)), &ok);
	set(o, "offset", json_integer(n->offset), &ok);
	switch (n->kind) {
	case SK_PN_FOLLOWEDBY:
	case SK_PN_OBS_OR:
	case SK_PN_OBS_AND:
	case SK_PN_CMP_OR:
	case SK_PN_CMP_AND: {
		json_t *a = json_array();
		if (n->kind >= SK_PN_CMP_OR && n->object_type)
			set(o, "object_type", json_string(n->object_type), &ok);
		if (!a) {
			ok = false;
			break;
		}
		for (const sk_pnode *k = n->kids; k; k = k->next)
			if (json_array_append_new(a, node_json(p, k)) != 0)
				ok = false;
		set(o, "operands", a, &ok);
		break;
	}
	case SK_PN_QUALIFIED: {
		const sk_pqual *q = &n->qual;
		json_t *qj = json_object();
		if (!qj) {
			ok = false;
			break;
		}
		set(qj, "type", json_string(sk_pqual_kind_name(q->kind)), &ok);
		if (q->kind == SK_PQ_WITHIN) {
			set(qj, "seconds", json_real(q->seconds), &ok);
		} else if (q->kind == SK_PQ_REPEATS) {
			set(qj, "times", json_integer((json_int_t)q->times), &ok);
		} else {
			set(qj, "start", json_string(q->start), &ok);
			set(qj, "stop", json_string(q->stop), &ok);
		}
		set(o, "qualifier", qj, &ok);
		set(o, "operand", node_json(p, n->kids), &ok);
		break;
	}
	case SK_PN_OBSERVATION:
		if (n->object_type)
			set(o, "object_type", json_string(n->object_type), &ok);
		set(o, "comparison", node_json(p, n->kids), &ok);
		break;
	case SK_PN_COMPARISON: {
		const sk_pcmp *c = &n->cmp;
		path_json(&c->path, o, &ok);
		set(o, "op", json_string(sk_pcmp_op_name(c->op)), &ok);
		set(o, "negated", json_boolean(c->negated), &ok);
		if (c->op == SK_PCMP_IN) {
			json_t *a = json_array();
			if (!a) {
				ok = false;
				break;
			}
			for (uint32_t i = 0; i < c->nset; i++)
				if (json_array_append_new(a, lit_json(p, &c->set[i])) != 0)
					ok = false;
			set(o, "values", a, &ok);
		} else if (c->op != SK_PCMP_EXISTS) {
			set(o, "value", lit_json(p, &c->value), &ok);
		}
		break;
	}
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

sk_err sk_pattern_to_json(const sk_pattern *p, json_t **out)
{
	*out = NULL;
	if (!p || !sk_pattern_root(p))
		return SK_EINVAL;
	*out = node_json(p, sk_pattern_root(p));
	return *out ? SK_OK : SK_ENOMEM;
}
