/*
 * ui_intel.c - the console's actors, sectors and timelines
 * (docs/console.md): thin handlers over the intel queries (intel.h), which
 * read through the request's view (sk_visible, bound here on the
 * request's connection), so a partner sees only what TAXII gives it.
 */
#include <string.h>

#include "schakel/intel.h"
#include "schakel/stix.h"
#include "ui/ui_int.h"

#define MAX_Q 200 /* longest search text */

bool ui_bind_view(ui_ctx *c)
{
	sk_error err;
	if (!c->view) {
		ui_error(c, 401, "not logged in");
		return false;
	}
	if (sk_view_bind(c->view, &err)) {
		ui_error(c, 500, "view: %s", err.msg);
		return false;
	}
	return true;
}

static void answer(ui_ctx *c, sk_err rc, const sk_error *err, json_t *r)
{
	if (!rc)
		ui_send_json(c, 200, r);
	else if (rc == SK_EINVAL)
		ui_error(c, 400, "%s", err->msg);
	else if (rc == SK_ENOTFOUND)
		ui_error(c, 404, "%s", err->msg);
	else
		ui_error(c, 500, "%s", err->msg);
}

void ui_h_actors(ui_ctx *c, char **seg, size_t nseg)
{
	sk_error err;
	json_t *r = NULL;
	sk_err rc;

	if (!ui_bind_view(c))
		return;
	if (nseg == 2) {
		if (!sk_stix_id_valid(seg[1], NULL)) {
			ui_error(c, 404, "actors/%.100s: no such actor", seg[1]);
			return;
		}
		rc = sk_intel_actor(c->st, seg[1], &r, &err);
	} else {
		sk_actor_filter f = {0};
		long long limit;
		f.country = ui_param(c, "country");
		f.sector = ui_param(c, "sector");
		f.q = ui_param(c, "q");
		if (f.q && strlen(f.q) > MAX_Q) {
			ui_error(c, 400, "q: longer than %d bytes", MAX_Q);
			return;
		}
		if (!ui_param_int(c, "limit", 1, UI_MAX_LIMIT, UI_MAX_LIMIT, &limit))
			return;
		f.limit = (size_t)limit;
		rc = sk_intel_actors(c->st, &f, &r, &err);
	}
	answer(c, rc, &err, r);
}

void ui_h_sectors(ui_ctx *c, char **seg, size_t nseg)
{
	sk_error err;
	json_t *r = NULL;
	sk_err rc;

	if (!ui_bind_view(c))
		return;
	if (nseg == 2)
		rc = sk_intel_sector(c->st, seg[1], &r, &err);
	else
		rc = sk_intel_sectors(c->st, &r, &err);
	answer(c, rc, &err, r);
}

void ui_h_timeline(ui_ctx *c, char **seg, size_t nseg)
{
	const char *id = ui_param(c, "id");
	sk_error err;
	json_t *r = NULL;
	sk_err rc;

	(void)seg;
	(void)nseg;
	if (!id || !*id) {
		ui_error(c, 400, "timeline: the parameter id is required");
		return;
	}
	if (!sk_stix_id_valid(id, NULL)) {
		ui_error(c, 404, "timeline: %.100s: no such object", id);
		return;
	}
	if (!ui_bind_view(c))
		return;
	rc = sk_intel_timeline(c->st, id, &r, &err);
	answer(c, rc, &err, r);
}
