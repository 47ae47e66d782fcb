/*
 * ui_util.c - what every console handler uses: query parameters, JSON
 * answers and errors, the bounded JSON request body, response headers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/timestamp.h"
#include "schakel/tlp.h"
#include "ui/ui_int.h"

const char *ui_param(const ui_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->req->nparams; i++)
		if (c->req->params[i].key && !strcmp(c->req->params[i].key, name))
			return c->req->params[i].value ? c->req->params[i].value : "";
	return NULL;
}

bool ui_param_int(ui_ctx *c, const char *name, long long lo, long long hi, long long def,
                  long long *out)
{
	const char *v = ui_param(c, name);
	char *end;
	long long n;

	*out = def;
	if (!v)
		return true;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (!*v || *end || errno || n < lo || n > hi) {
		ui_error(c, 400, "query parameter '%s': an integer from %lld to %lld", name, lo,
		         hi);
		return false;
	}
	*out = n;
	return true;
}

bool ui_param_time(ui_ctx *c, const char *name, int64_t def, int64_t *out)
{
	const char *v = ui_param(c, name);
	char buf[64];
	size_t n;

	*out = def;
	if (!v)
		return true;
	n = strlen(v);
	if (n == 10 && v[4] == '-' && v[7] == '-') { /* YYYY-MM-DD: that day's start, UTC */
		snprintf(buf, sizeof(buf), "%sT00:00:00Z", v);
		v = buf;
		n = strlen(buf);
	}
	if (!sk_ts_parse(v, n, NULL, out)) {
		*out = def;
		ui_error(c, 400, "query parameter '%s': an RFC 3339 time or YYYY-MM-DD", name);
		return false;
	}
	return true;
}

void ui_error(ui_ctx *c, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j = json_pack("{s:s, s:i}", "error", msg, "status", status);
	ui_send_json(c, status, j);
}

void ui_send_json(ui_ctx *c, int status, json_t *j)
{
	ui_resp *r = c->resp;
	char *s;

	if (r->persistent) {
		r->body.data = NULL;
		r->persistent = false;
	}
	sk_buf_reset(&r->body);
	r->content_type = NULL;
	r->gzip = false;
	if (!j || !(s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII))) {
		json_decref(j);
		r->status = 500;
		sk_buf_puts(&r->body, "{\"error\":\"cannot encode the answer\",\"status\":500}");
		return;
	}
	json_decref(j);
	r->status = status;
	if (sk_buf_puts(&r->body, s)) {
		sk_buf_reset(&r->body);
		r->status = 500;
		sk_buf_puts(&r->body, "{\"error\":\"the answer is too large\",\"status\":500}");
	}
	free(s);
}

/* Nesting depth of the JSON text (brackets outside strings); stops past max. */
static size_t json_depth(const char *s, size_t n, size_t max)
{
	size_t depth = 0, deepest = 0;
	bool str = false;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				str = false;
		} else if (ch == '"') {
			str = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > deepest && (deepest = depth) > max)
				return deepest;
		} else if ((ch == '}' || ch == ']') && depth) {
			depth--;
		}
	}
	return deepest;
}

json_t *ui_body_object(ui_ctx *c)
{
	const ui_req *q = c->req;
	json_error_t je;
	json_t *j;

	if (!q->body || !q->body_len) {
		ui_error(c, 400, "a JSON object is required as the request body");
		return NULL;
	}
	if (q->body_len > UI_MAX_BODY) {
		ui_error(c, 413, "the request body is over %zu bytes", (size_t)UI_MAX_BODY);
		return NULL;
	}
	if (json_depth(q->body, q->body_len, UI_MAX_DEPTH) > UI_MAX_DEPTH) {
		ui_error(c, 400, "the request body nests deeper than %d levels", UI_MAX_DEPTH);
		return NULL;
	}
	j = json_loadb(q->body, q->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		ui_error(c, 400, "malformed JSON in the request body at line %d, column %d: %s",
		         je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		ui_error(c, 400, "the request body must be a JSON object");
		return NULL;
	}
	return j;
}

void ui_header_add(ui_resp *r, const char *name, const char *value)
{
	if (r->nheaders >= UI_MAX_HEADERS)
		return;
	snprintf(r->headers[r->nheaders].name, sizeof(r->headers[0].name), "%s", name);
	snprintf(r->headers[r->nheaders].value, sizeof(r->headers[0].value), "%s", value);
	r->nheaders++;
}

json_t *ui_tlp_json(int tlp)
{
	static const char *const levels[] = {"none",  "clear",        "green",
	                                     "amber", "amber+strict", "red"};
	if (tlp < 0 || tlp > SK_TLP_RED)
		tlp = SK_TLP_NONE;
	return json_pack("{s:s, s:s}", "level", levels[tlp], "label",
	                 tlp == SK_TLP_NONE ? "unmarked" : sk_tlp_name((sk_tlp)tlp));
}
