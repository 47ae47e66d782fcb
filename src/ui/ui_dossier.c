/*
 * ui_dossier.c - the console's attribution dossier (docs/dossier.md,
 * docs/console.md): GET /ui/api/dossier?subject=S[&for=PARTNER][&since=TS]
 * [&max=N][&format=json|html|stix].  The dossier is built through the
 * request's view, so a partner's account sees the releasable version of
 * its own policy; the node's own people may ask for a partner's
 * releasable version (for=), built through that partner's view and
 * recorded in the audit log before it is sent, as `dossier build --for`.
 * html and stix answer a file to save (the page's export buttons).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/audit.h"
#include "schakel/dossier.h"
#include "ui/ui_data_int.h"
#include "ui/ui_int.h"

#define MAX_SUBJECT 200

/* The audit entry of a dossier that leaves for `to` (or the partner asking); false + 500. */
static bool audit_dossier(ui_ctx *c, const sk_principal *to, const json_t *d, const char *fmt)
{
	char subj[SK_ACCOUNT_NAME_MAX + 16], actor[SK_ACCOUNT_NAME_MAX + 16], *ds = NULL;
	int64_t *vers = NULL;
	size_t n = 0;
	json_t *det = json_pack("{s:O, s:s, s:s, s:s}", "subject",
	                        json_object_get(json_object_get(d, "subject"), "id"), "format", fmt,
	                        "account", c->who.account, "path", "console dossier");
	sk_audit_entry e = {.action = "dossier.for", .subject = subj, .actor = actor, .exit = true};
	sk_error err;
	bool ok = false;

	snprintf(actor, sizeof(actor), "account:%s", c->who.account);
	snprintf(subj, sizeof(subj), "partner:%s", to->partner);
	if (det && (ds = json_dumps(det, JSON_COMPACT | JSON_SORT_KEYS)) &&
	    !sk_dossier_versions(d, &vers, &n, &err)) {
		e.detail = ds;
		e.vers = vers;
		e.nvers = n;
		ok = sk_audit_append(c->st, &e, &err) == SK_OK;
	}
	if (!ok) {
		fprintf(stderr, "schakel: serve: console dossier: audit log failed\n");
		ui_error(c, 500,
		         "the dossier could not be recorded in the audit log; nothing sent");
	}
	json_decref(det);
	free(ds);
	free(vers);
	return ok;
}

void ui_h_dossier(ui_ctx *c, char **seg, size_t nseg)
{
	const char *subject = ui_param(c, "subject"), *forp = ui_param(c, "for");
	const char *fmt = ui_param(c, "format");
	sk_dossier_opts o = {0};
	sk_principal to;
	sk_view *pv = NULL;
	json_t *d = NULL, *bundle = NULL;
	long long max;
	sk_error err;
	sk_err rc;

	(void)seg;
	(void)nseg;
	if (!fmt || !*fmt)
		fmt = "json";
	if (!subject || !*subject || strlen(subject) > MAX_SUBJECT) {
		ui_error(c, 400,
		         "dossier: the parameter subject (an id, name or alias of at most %d "
		         "bytes) is required",
		         MAX_SUBJECT);
		return;
	}
	if (strcmp(fmt, "json") && strcmp(fmt, "html") && strcmp(fmt, "stix")) {
		ui_error(c, 400, "dossier: format: json, html or stix");
		return;
	}
	if (!ui_param_int(c, "max", 1, 10000, SK_DOSSIER_LIST_MAX, &max))
		return;
	o.subject = subject;
	o.since = ui_param(c, "since");
	o.list_max = (size_t)max;
	if (!c->view) {
		ui_error(c, 401, "not logged in");
		return;
	}
	if (forp && *forp) {
		if (!ui_is_own(c)) {
			ui_error(c, 403, "only the node's own people build a partner's dossier");
			return;
		}
		if (sk_partner_principal(c->st, forp, &to, &err)) {
			ui_error(c, 404, "query parameter 'for': no partner '%.100s'", forp);
			return;
		}
		if (sk_view_open(c->st, &to, &pv, &err)) {
			ui_error(c, 500, "cannot open the partner's view");
			return;
		}
		o.for_name = forp;
	} else if (!ui_is_own(c)) {
		to = c->who; /* a partner's account: its own releasable version, audited */
		o.for_name = c->who.partner;
	}
	if (sk_view_bind(pv ? pv : c->view, &err)) {
		ui_error(c, 500, "view: %s", err.msg);
		goto out;
	}
	if ((rc = sk_dossier_build(c->st, &o, &d, &err))) {
		ui_error(c, rc == SK_EINVAL ? 400 : rc == SK_ENOTFOUND ? 404 : 500, "%s", err.msg);
		goto out;
	}
	if (!strcmp(fmt, "stix") && sk_dossier_stix(c->st, d, &bundle, &err)) {
		ui_error(c, 500, "%s", err.msg);
		goto out;
	}
	if (o.for_name && !audit_dossier(c, &to, d, fmt))
		goto out;
	if (!strcmp(fmt, "json")) {
		ui_send_json(c, 200, d);
		d = NULL;
	} else if (!strcmp(fmt, "stix")) {
		ui_send_json(c, 200, bundle);
		bundle = NULL;
		c->resp->content_type = "application/stix+json;version=2.1";
		ui_header_add(c->resp, "Content-Disposition",
		              "attachment; filename=\"dossier.stix.json\"");
	} else {
		if (c->resp->persistent) { /* the body pointed at a cached asset */
			c->resp->body.data = NULL;
			c->resp->persistent = false;
		}
		sk_buf_reset(&c->resp->body);
		c->resp->gzip = false;
		if (sk_dossier_html(d, &c->resp->body, &err)) {
			ui_error(c, 500, "%s", err.msg);
			goto out;
		}
		c->resp->status = 200;
		c->resp->content_type = "text/html; charset=utf-8";
		ui_header_add(c->resp, "Content-Disposition",
		              "attachment; filename=\"dossier.html\"");
	}
out:
	json_decref(d);
	json_decref(bundle);
	sk_view_free(pv);
}
